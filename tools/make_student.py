"""Writes student copies of the lessons: the exercise solutions removed, the rest intact.

Exercise cells are tagged ``solution`` and hold their solution between nbgrader's markers::

    def my_function(x):
        ### BEGIN SOLUTION
        return 2 * x
        ### END SOLUTION

In the student copy each marked region becomes, at the marker's indentation:

* inside a function body: ``raise NotImplementedError("Exercise: replace this line with your code")``,
  so the cell still runs and a checker called on the stub says "not attempted yet";
* anywhere else: ``# YOUR CODE HERE`` (with ``pass`` when a statement is needed, e.g. in a loop).

Every exercise is followed by a checker cell tagged ``check`` (``check.iou(my_iou)``), outside
the solution region, so that the copy keeps every check. The outputs of the exercise part (the
solution cells and every code cell after the first of them) are cleared, so that nothing in the
copy gives an answer or claims a pass; the outputs of the lesson above the exercises, figures
included, are kept so that the copy reads like the lesson. Solution cells lose their folding
(``jupyter.source_hidden``) in the copy: a learner writes there.

Every cell receives nbgrader's cell metadata (schema 3, a unique ``grade_id``), so that the
instructor versions (``--keep-solutions``) go straight into ``nbgrader generate_assignment``:

* ``solution`` cells: ``solution: true`` (the learner's answer cell);
* ``check`` cells: a grade cell, ``grade: true, locked: true, points: 1``; its checker raises
  an ``AssertionError`` on a failing case while nbgrader executes the notebook, so the point
  is given only when every hidden case passes;
* every other cell: ``locked: true`` (the lesson is read-only to nbgrader).

A ``solution`` cell without markers, or with unbalanced markers, is an error that names the
notebook and the cell; so is a ``check`` cell that is not code. Usage::

    python tools/make_student.py                      # notebooks/NN_*.ipynb -> student/
    python tools/make_student.py --out DIR notebooks/01_boxes_and_iou.ipynb
    python tools/make_student.py --keep-solutions --out instructor/
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'
PLACEHOLDER = "# YOUR CODE HERE"
SOLUTION_TAG = "solution"
CHECK_TAG = "check"
POINTS_PER_CHECK = 1


class MarkerError(ValueError):
    """A solution cell whose markers are missing or unbalanced."""


def _function_lines(source: str) -> list[tuple[int, int]]:
    """The (def line, last line), 1-based, of every function defined in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            spans.append((node.lineno, node.end_lineno or node.body[-1].lineno))
    return spans


def _needs_statement(lines: list[str], start: int, indent: str) -> bool:
    """True when the region replaced at ``start`` is the only content of an indented block."""
    if not indent:
        return False
    for line in reversed(lines[:start]):
        if not line.strip() or line.strip().startswith("#"):
            continue
        return line.rstrip().endswith(":")  # the region opens the block
    return False


def strip_solutions(source: str, where: str) -> str:
    """The cell source with every marked solution region replaced (see the module docstring).

    Args:
        source: a code cell's source.
        where: "notebook, cell N", for error messages.

    Raises:
        MarkerError: no region, a BEGIN without END, an END without BEGIN, or nested regions.
    """
    lines = source.split("\n")
    functions = _function_lines(source)
    out: list[str] = []
    start = None
    regions = 0
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == BEGIN:
            if start is not None:
                raise MarkerError(f"{where}: nested '{BEGIN}' (line {number}) before '{END}'")
            start = number
            indent = line[: len(line) - len(line.lstrip())]
            continue
        if marker == END:
            if start is None:
                raise MarkerError(f"{where}: '{END}' on line {number} without a '{BEGIN}'")
            in_function = any(first <= start <= last for first, last in functions)
            if in_function:
                out.append(indent + STUB)
            elif _needs_statement(out, len(out), indent):
                out.append(indent + "pass  " + PLACEHOLDER)
            else:
                out.append(indent + PLACEHOLDER)
            start = None
            regions += 1
            continue
        if start is None:
            out.append(line)
    if start is not None:
        raise MarkerError(f"{where}: '{BEGIN}' on line {start} has no '{END}'")
    if regions == 0:
        raise MarkerError(
            f"{where} is tagged '{SOLUTION_TAG}' but has no '{BEGIN}' ... '{END}' region"
        )
    return "\n".join(out)


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:60]
    return "(empty)"


def make_student(notebook: nbformat.NotebookNode, name: str, keep_solutions: bool = False):
    """A student copy of ``notebook`` (the input is not modified).

    Args:
        notebook: the lesson, as read by nbformat (version 4).
        name: the notebook's name, for ``grade_id`` values and error messages.
        keep_solutions: only add the nbgrader metadata (an instructor version for nbgrader).

    Returns:
        The new notebook.
    """
    student = copy.deepcopy(notebook)
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", Path(name).stem)
    exercise_part = False
    counts = {"solution": 0, "check": 0, "given": 0}

    def grade_id(kind: str) -> str:
        counts[kind] += 1
        return f"{stem}-{kind}-{counts[kind]}"

    for index, cell in enumerate(student.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        is_solution, is_check = SOLUTION_TAG in tags, CHECK_TAG in tags
        if (is_solution or is_check) and cell.cell_type != "code":
            tag = SOLUTION_TAG if is_solution else CHECK_TAG
            raise MarkerError(f"{name}, cell {index} is tagged '{tag}' but is {cell.cell_type}")
        if is_solution and is_check:
            raise MarkerError(f"{name}, cell {index} is tagged both '{SOLUTION_TAG}' and '{CHECK_TAG}': "
                              "keep the checker call in a cell of its own")
        if is_solution:
            exercise_part = True
            where = f"{name}, cell {index} ({_first_line(cell.source)!r})"
            stripped = strip_solutions(cell.source, where)  # validates the markers either way
            if not keep_solutions:
                cell.source = stripped
                cell.metadata.pop("jupyter", None)  # unfolded: the learner writes here
            cell.metadata["nbgrader"] = {
                "grade": False, "grade_id": grade_id("solution"), "locked": False,
                "schema_version": 3, "solution": True,
            }
        elif is_check:
            cell.metadata["nbgrader"] = {
                "grade": True, "grade_id": grade_id("check"), "locked": True,
                "points": POINTS_PER_CHECK, "schema_version": 3, "solution": False,
            }
        else:
            cell.metadata["nbgrader"] = {
                "grade": False, "grade_id": grade_id("given"), "locked": True,
                "schema_version": 3, "solution": False,
            }
        if cell.cell_type == "code" and exercise_part and not keep_solutions:
            cell.outputs = []
            cell.execution_count = None
    # A student copy is a plain notebook: no Jupytext pairing with a .py next to it.
    jupytext = student.metadata.get("jupytext", {})
    jupytext.pop("formats", None)
    if not jupytext:
        student.metadata.pop("jupytext", None)
    return student


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="lesson notebooks (default: notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="output folder")
    parser.add_argument("--keep-solutions", action="store_true",
                        help="keep the solutions, only add nbgrader metadata (instructor copies)")
    args = parser.parse_args(argv)
    sources = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        copies = [
            (source, make_student(nbformat.read(source, as_version=4), source.name, args.keep_solutions))
            for source in sources
        ]
    except MarkerError as error:  # nothing is written when one lesson is wrong
        print(f"make_student: {error}", file=sys.stderr)
        return 1
    for source, notebook in copies:
        nbformat.validate(notebook)
        nbformat.write(notebook, args.out / source.name)
        checks = sum(c.metadata["nbgrader"]["grade"] for c in notebook.cells)
        print(f"wrote {args.out.name}/{source.name} ({checks} graded checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
