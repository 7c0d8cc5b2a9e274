"""Tests of tools/make_student.py: the marker rules on small cells, and on the real lessons that
the student copies hold no solution code, keep every other cell, carry nbgrader's metadata and
still run top to bottom."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Executed in the test: the first three lessons (about 10-20 s together); later lessons are
# checked for stripping and metadata only, to keep this file fast.
EXECUTED = [p for p in LESSONS if p.name[:2] in {"01", "02", "03"}]

_spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)

STUB = make_student.STUB


def _notebook(*cells):
    notebook = nbformat.v4.new_notebook()
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)} if tags else {})
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="answer 42\n")]
        cell.execution_count = 1
        notebook.cells.append(cell)
    return notebook


def _solution_regions(source):
    return re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)


# ---------------------------------------------------------------- the rules, on small cells


def test_a_region_inside_a_function_becomes_a_stub_at_its_indentation():
    source = (
        "def double(x):\n"
        '    """Twice x."""\n'
        "    ### BEGIN SOLUTION\n"
        "    return 2 * x\n"
        "    ### END SOLUTION\n"
        "\n"
        "\n"
        "### BEGIN SOLUTION\n"
        "assert double(2) == 4\n"
        "### END SOLUTION\n"
        "print('done')"
    )
    assert make_student.strip_solutions(source, "nb, cell 0") == (
        "def double(x):\n"
        '    """Twice x."""\n'
        f"    {STUB}\n"
        "\n"
        "\n"
        "# YOUR CODE HERE\n"
        "print('done')"
    )


def test_a_region_in_a_method_and_in_a_loop():
    source = (
        "class A:\n"
        "    def f(self):\n"
        "        ### BEGIN SOLUTION\n"
        "        return 1\n"
        "        ### END SOLUTION\n"
        "for i in range(3):\n"
        "    ### BEGIN SOLUTION\n"
        "    print(i)\n"
        "    ### END SOLUTION\n"
    )
    stripped = make_student.strip_solutions(source, "nb, cell 0")
    assert f"        {STUB}\n" in stripped
    # A loop body needs a statement: `pass` keeps the cell valid Python.
    assert "for i in range(3):\n    pass  # YOUR CODE HERE\n" in stripped
    compile(stripped, "<student>", "exec")


@pytest.mark.parametrize(
    "source, message",
    [
        ("x = 1\n", "is tagged 'solution' but has no '### BEGIN SOLUTION'"),
        ("### BEGIN SOLUTION\nx = 1\n", "'### BEGIN SOLUTION' on line 1 has no '### END SOLUTION'"),
        ("x = 1\n### END SOLUTION\n", "'### END SOLUTION' on line 2 without a '### BEGIN SOLUTION'"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "nested"),
    ],
)
def test_bad_markers_name_the_notebook_and_the_cell(source, message):
    notebook = _notebook(("print(1)", ()), (source, ("solution",)))
    with pytest.raises(make_student.MarkerError, match=re.escape(message)) as error:
        make_student.make_student(notebook, "07_lesson.ipynb")
    assert "07_lesson.ipynb, cell 1" in str(error.value)


def test_outputs_metadata_and_pairing():
    notebook = _notebook(
        ("print('lesson')", ()),
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", ("solution",)),
        ("check(f)", ("check",)),
        ("### BEGIN SOLUTION\nprint(2)\n### END SOLUTION", ("solution",)),
    )
    notebook.cells[1].metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
    notebook.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    student = make_student.make_student(notebook, "05_x.ipynb")
    lesson, first, checker, second = student.cells
    # The lesson above the exercises keeps its output; the exercise part is cleared.
    assert lesson.outputs and lesson.execution_count == 1
    for cell in (first, checker, second):
        assert cell.outputs == [] and cell.execution_count is None
    assert first.metadata["nbgrader"] == {
        "grade": False, "grade_id": "05_x-solution-1", "locked": False, "schema_version": 3,
        "solution": True,
    }
    assert "jupyter" not in first.metadata  # unfolded in the copy: the learner writes there
    assert second.metadata["nbgrader"]["grade_id"] == "05_x-solution-2"
    # The checker is a locked grade cell worth one point; the rest of the lesson is locked.
    assert checker.metadata["nbgrader"] == {
        "grade": True, "grade_id": "05_x-check-1", "locked": True, "points": 1,
        "schema_version": 3, "solution": False,
    }
    assert lesson.metadata["nbgrader"] == {
        "grade": False, "grade_id": "05_x-given-1", "locked": True, "schema_version": 3,
        "solution": False,
    }
    assert "jupytext" not in student.metadata  # a plain notebook, not paired with a .py
    assert notebook.cells[1].source.count("BEGIN") == 1  # the input is left as it was
    kept = make_student.make_student(notebook, "05_x.ipynb", keep_solutions=True)
    assert kept.cells[1].source == notebook.cells[1].source and kept.cells[1].outputs
    assert kept.cells[1].metadata["jupyter"]["source_hidden"]  # still folded for the instructor


@pytest.mark.parametrize("tags, cell_type, message", [
    (("check",), "markdown", "is tagged 'check' but is markdown"),
    (("check", "solution"), "code", "keep the checker call in a cell of its own"),
])
def test_misplaced_check_tags_are_errors(tags, cell_type, message):
    notebook = _notebook(("print(1)", ()))
    cell = (nbformat.v4.new_markdown_cell if cell_type == "markdown" else nbformat.v4.new_code_cell)(
        "### BEGIN SOLUTION\ncheck.iou(f)\n### END SOLUTION", metadata={"tags": list(tags)})
    notebook.cells.append(cell)
    with pytest.raises(make_student.MarkerError, match=re.escape(message)):
        make_student.make_student(notebook, "01_lesson.ipynb")


# ---------------------------------------------------------------- the real lessons


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    assert make_student.main(["--out", str(out), *map(str, LESSONS)]) == 0
    return out


def _exercises(notebook) -> int:
    """The exercises of a lesson: its "**Exercise N" headings after "## Exercises"."""
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    return len(re.findall(r"^\*\*Exercise \d+ ", text.split("## Exercises", 1)[1], re.M))


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_student_copy_has_no_solution_and_keeps_every_other_cell(student_dir, lesson):
    original = nbformat.read(lesson, as_version=4)
    student = nbformat.read(student_dir / lesson.name, as_version=4)
    nbformat.validate(student)
    assert len(student.cells) == len(original.cells)
    solutions = 0
    for before, after in zip(original.cells, student.cells):
        if "solution" not in before.metadata.get("tags", []):
            assert after.source == before.source
            assert after.cell_type == before.cell_type
            continue
        solutions += 1
        assert before.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
        regions = _solution_regions(before.source)
        assert regions, f"a solution cell without markers: {before.source[:60]!r}"
        assert "SOLUTION" not in after.source
        for region in regions:
            for line in region.splitlines():
                if line.strip():
                    assert line not in after.source.splitlines(), f"solution line kept: {line!r}"
        assert after.outputs == [] and after.metadata["nbgrader"]["solution"] is True
        assert "jupyter" not in after.metadata
    assert solutions >= 2, "every lesson ends with at least two exercises"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in student.cells]
    assert len(ids) == len(set(ids)) == len(student.cells)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_exercise_keeps_its_check_in_the_student_copy(student_dir, lesson):
    student = nbformat.read(student_dir / lesson.name, as_version=4)
    checks = [c for c in student.cells if c.metadata["nbgrader"]["grade"]]
    # One graded checker cell per exercise, each a checker call of its own, outside any solution.
    assert len(checks) == _exercises(student) >= 2
    for cell in checks:
        assert cell.cell_type == "code" and cell.source.startswith("check.")
        assert cell.metadata["nbgrader"]["locked"] and cell.metadata["nbgrader"]["points"] == 1
        assert "SOLUTION" not in cell.source
    # The checker calls stay in the copy: they are all outside the solution regions.
    assert sum(c.source.count("check.") for c in checks) == len(checks)


@pytest.mark.parametrize("lesson", EXECUTED, ids=lambda p: p.stem)
def test_student_copy_runs_top_to_bottom(student_dir, lesson):
    student = nbformat.read(student_dir / lesson.name, as_version=4)
    NotebookClient(student, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    printed = "".join(
        output.get("text", "") for cell in student.cells if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert all(o.output_type != "error" for c in student.cells if c.cell_type == "code" for o in c.outputs)
    checker_cells = [c for c in student.cells if c.metadata["nbgrader"]["grade"]]
    # Every checker meets an unanswered exercise: it says so and does not fail the notebook.
    assert printed.count("not attempted yet") == len(checker_cells) == _exercises(student)
    assert "cases pass" not in printed and ": right." not in printed
