"""The lessons under nbgrader, as a teacher would run them: in a fresh course directory, the
instructor versions written by ``tools/make_student.py --keep-solutions`` go through
``nbgrader generate_assignment``; then ``nbgrader autograde`` grades two submissions of every
lesson: the instructor version itself (its reference solutions must earn every point) and the
released copy with every stub left unfilled (it must earn none). Nothing leaves the machine: the
kernels talk to nbgrader over loopback, and the gradebook is a SQLite file in the temporary
course directory.

This is the slowest test of the project (every lesson is executed twice): run it on its own with
``python -m pytest tests/test_nbgrader.py``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="nbgrader is a test dependency: pip install -e '.[test]'")
from nbgrader.api import Gradebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLVED, STUBS = "instructor", "stubs"

_spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)


def _assignment(lesson: Path) -> str:
    return "lesson" + lesson.name[:2]


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Runs the nbgrader command line of this environment in the course directory."""
    # nbgrader calls the `alembic` command of its environment to set up the gradebook.
    path = os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", "")))
    env = {**os.environ, "PATH": path, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
        capture_output=True, text=True, timeout=3600,
    )
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course directory in which every lesson is generated and both submissions autograded."""
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.root = '.'\n"
        f"c.CourseDirectory.db_assignments = {[{'name': _assignment(p)} for p in LESSONS]!r}\n"
        f"c.CourseDirectory.db_students = {[{'id': SOLVED}, {'id': STUBS}]!r}\n"
        # A lesson trains a model in one cell: allow minutes per cell, not nbgrader's 30 s.
        "c.Execute.timeout = 900\n"
    )
    for lesson in LESSONS:
        folder = course / "source" / _assignment(lesson)
        folder.mkdir(parents=True)
        instructor = make_student.make_student(nbformat.read(lesson, as_version=4), lesson.name,
                                               keep_solutions=True)
        nbformat.write(instructor, folder / lesson.name)
    for lesson in LESSONS:
        _nbgrader(course, "generate_assignment", _assignment(lesson), "--force")
    for lesson in LESSONS:
        name = _assignment(lesson)
        for student, origin in ((SOLVED, course / "source"), (STUBS, course / "release")):
            target = course / "submitted" / student / name
            target.mkdir(parents=True)
            shutil.copy(origin / name / lesson.name, target / lesson.name)
    for lesson in LESSONS:
        _nbgrader(course, "autograde", _assignment(lesson), "--force")
    return course


def _scores(course: Path, lesson: Path) -> dict[str, tuple[float, float]]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {
            student: (submission.score, submission.max_score)
            for student in (SOLVED, STUBS)
            for submission in [gradebook.find_submission(_assignment(lesson), student)]
        }


def _graded_checks(lesson: Path) -> int:
    notebook = nbformat.read(lesson, as_version=4)
    return sum("check" in cell.metadata.get("tags", []) for cell in notebook.cells)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_the_release_holds_no_solution_and_every_grade_cell(course, lesson):
    released = nbformat.read(course / "release" / _assignment(lesson) / lesson.name, as_version=4)
    text = "\n".join(cell.source for cell in released.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    grade_cells = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(grade_cells) == _graded_checks(lesson) >= 2
    assert all(c.metadata["nbgrader"]["locked"] and "check." in c.source for c in grade_cells)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_reference_solutions_earn_every_point_and_stubs_none(course, lesson):
    scores = _scores(course, lesson)
    points = float(_graded_checks(lesson))
    # One point per checker cell: the instructor version passes every hidden case...
    assert scores[SOLVED] == (points, points), scores
    # ...and the unfilled stubs pass none (every checker reports "not attempted" and raises).
    assert scores[STUBS] == (0.0, points), scores


def test_a_stub_fails_its_grade_cell_with_the_checkers_report(course):
    lesson = next(p for p in LESSONS if p.name.startswith("01"))
    graded = course / "autograded" / STUBS / _assignment(lesson) / lesson.name
    notebook = json.loads(graded.read_text())
    errors = [o for c in notebook["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")
              for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors and all(o["ename"] == "AssertionError" for o in errors)
    printed = "".join("".join(o.get("text", "")) for c in notebook["cells"] for o in c.get("outputs", [])
                      if o["output_type"] == "stream")
    assert "check.iou: not attempted yet" in printed
