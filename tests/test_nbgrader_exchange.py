"""A class of three on nbgrader's exchange, without a hub: the instructor releases lesson 03 into
an exchange folder, three students fetch it, answer (everything, one exercise, nothing), submit,
and the instructor collects and autogrades. The exchange is nbgrader's default, a shared folder;
on a JupyterHub it is the same folder mounted for every user. Everything stays in a temporary
directory, the kernels on loopback.

Slow (lesson 03 is executed once per student): run it on its own with
``python -m pytest tests/test_nbgrader_exchange.py``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="nbgrader is a test dependency: pip install -e '.[test]'")
from nbgrader.api import Gradebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "03_yolov1_loss.ipynb"
ASSIGNMENT, COURSE = "lesson03", "yolo"
STUDENTS = ("alice", "bob", "carol")

_spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)


def _nbgrader(folder: Path, *args: str) -> None:
    path = os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", "")))
    env = {**os.environ, "PATH": path, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def _config(folder: Path, exchange: Path, extra: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        f"c.Exchange.cache = {str(folder / 'cache')!r}\n" + extra
    )


def _answer(fetched: Path, solved: nbformat.NotebookNode, grade_ids: set[str]) -> None:
    """Copies the reference solution into the fetched notebook's answer cells ``grade_ids``."""
    notebook = nbformat.read(fetched, as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solved.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in grade_ids:
            cell.source = solutions[grade_id]
    nbformat.write(notebook, fetched)


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    instructor = base / "instructor"
    _config(instructor, exchange,
            "c.CourseDirectory.root = '.'\n"
            f"c.CourseDirectory.db_assignments = [{{'name': {ASSIGNMENT!r}}}]\n"
            f"c.CourseDirectory.db_students = {[{'id': s} for s in STUDENTS]!r}\n"
            "c.Execute.timeout = 900\n")
    source = instructor / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    solved = make_student.make_student(nbformat.read(LESSON, as_version=4), LESSON.name, keep_solutions=True)
    nbformat.write(solved, source / LESSON.name)
    _nbgrader(instructor, "generate_assignment", ASSIGNMENT)
    _nbgrader(instructor, "release_assignment", ASSIGNMENT)

    answer_ids = [c.metadata["nbgrader"]["grade_id"] for c in solved.cells if c.metadata["nbgrader"]["solution"]]
    answers = {"alice": set(answer_ids), "bob": {answer_ids[0]}, "carol": set()}
    for student in STUDENTS:
        home = base / student
        _config(home, exchange)
        _nbgrader(home, "fetch_assignment", ASSIGNMENT)
        _answer(home / ASSIGNMENT / LESSON.name, solved, answers[student])
        _nbgrader(home, "submit", ASSIGNMENT, f"--student={student}")

    _nbgrader(instructor, "collect", ASSIGNMENT)
    _nbgrader(instructor, "autograde", ASSIGNMENT)
    with Gradebook(f"sqlite:///{instructor / 'gradebook.db'}") as gradebook:
        return {s: (gradebook.find_submission(ASSIGNMENT, s).score,
                    gradebook.find_submission(ASSIGNMENT, s).max_score) for s in STUDENTS}


def test_three_students_fetch_submit_and_are_graded(scores):
    checks = sum("check" in c.metadata.get("tags", []) for c in nbformat.read(LESSON, as_version=4).cells)
    # Lesson 03 has four exercises, one point each. Alice answers them all; Bob answers the
    # first (the box term by hand), whose check needs nothing from the others; Carol hands in
    # the copy as she fetched it.
    assert scores == {"alice": (checks, checks), "bob": (1.0, checks), "carol": (0.0, checks)}
