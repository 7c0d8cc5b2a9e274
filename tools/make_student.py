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

The outputs of the exercise part (the solution cells and every code cell after the first of
them, such as the checker cells) are cleared, so that nothing in the copy gives an answer or
claims a pass; the outputs of the lesson above the exercises, figures included, are kept so
that the copy reads like the lesson. Solution cells receive nbgrader's cell metadata
(``solution: true, grade: false, locked: false``, a unique ``grade_id``), so a teacher can also
run the copies (or, with ``--keep-solutions``, the instructor versions) through nbgrader.

A ``solution`` cell without markers, or with unbalanced markers, is an error that names the
notebook and the cell. Usage::

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
    stem = Path(name).stem
    exercise_part = False
    count = 0
    for index, cell in enumerate(student.cells):
        is_solution = SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])
        if is_solution and cell.cell_type != "code":
            raise MarkerError(f"{name}, cell {index} is tagged '{SOLUTION_TAG}' but is {cell.cell_type}")
        if is_solution:
            count += 1
            exercise_part = True
            where = f"{name}, cell {index} ({_first_line(cell.source)!r})"
            stripped = strip_solutions(cell.source, where)  # validates the markers either way
            if not keep_solutions:
                cell.source = stripped
            cell.metadata["nbgrader"] = {
                "grade": False,
                "grade_id": f"{re.sub(r'[^A-Za-z0-9_-]', '_', stem)}-solution-{count}",
                "locked": False,
                "schema_version": 3,
                "solution": True,
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
        exercises = sum("nbgrader" in c.metadata for c in notebook.cells)
        print(f"wrote {args.out.name}/{source.name} ({exercises} exercise cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
