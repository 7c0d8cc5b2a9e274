"""The course's own running time: each lesson executed top to bottom, and ``make test``.

Each lesson source ``notebooks/NN_*.py`` is read with Jupytext and executed in a fresh
``python3`` kernel by nbclient, working directory ``notebooks/``, as
``tools/execute_notebooks.py`` does; but nothing is written: the executed notebook stays in
memory and the committed ``.ipynb`` files are left alone. A lesson's time runs from kernel start
to kernel shutdown, so the first row times an empty notebook: the part of every lesson's time
that is the kernel's, not the lesson's. The lessons' standard is an execution under about 30 s.
With ``--quick`` only lessons 00 and 01 run.

``make test`` (the unit tests, then nbval re-running every lesson, one thread) takes about six
minutes, so it is timed only when the environment variable ``BENCH_MAKE_TEST=1`` is set::

    BENCH_MAKE_TEST=1 .venv/bin/python benchmarks/run.py --only course

Run alone with ``.venv/bin/python benchmarks/bench_course.py [--quick]`` or as part of
``benchmarks/run.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from table import Options, Row

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SECTION = "course"
QUICK_LESSONS = ("00", "01")
LESSON_BUDGET_S = 30  # the lessons' standard: total execution under about 30 s
CELL_TIMEOUT_S = 600  # as tools/execute_notebooks.py


def execute_seconds(notebook: nbformat.NotebookNode) -> float:
    """Wall-clock seconds to execute ``notebook`` in a fresh kernel, in memory only."""
    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        record_timing=False,
    ).execute(stderr=subprocess.DEVNULL)  # the kernel's start-up warnings would cut into the table
    return time.perf_counter() - start


def _lesson_rows(options: Options) -> list[Row]:
    sources = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    if options.quick:
        sources = [s for s in sources if s.name[:2] in QUICK_LESSONS]
    empty_s = execute_seconds(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")]))
    rows = [Row(SECTION, "empty notebook (kernel start and shutdown)", "", 1000 * empty_s,
                note="part of every lesson row below")]
    seconds = {}
    for source in sources:
        try:
            seconds[source.name] = execute_seconds(jupytext.read(source))
        except Exception as error:  # a failing lesson is reported, not raised: the table goes on
            rows.append(Row(SECTION, source.name, note=f"failed: {type(error).__name__}: {str(error)[:200]}"))
    total = sum(seconds.values())
    for name, s in seconds.items():
        rows.append(Row(SECTION, name, "", 1000 * s, f"{100 * s / total:.0f}% of total",
                        f"<= {LESSON_BUDGET_S} s", "ok" if s <= LESSON_BUDGET_S else "MISSED"))
    which = f"lessons {' and '.join(QUICK_LESSONS)} only (--quick)" if options.quick else f"all {len(seconds)} lessons"
    rows.append(Row(SECTION, f"total, {which}", "", 1000 * total if seconds else None,
                    note="each lesson in a fresh kernel, one after another; threads as each lesson sets "
                         "them (torch's default is all)"))
    return rows


def _make_test_row() -> Row:
    case = "make test (unit tests + nbval of every lesson, OMP_NUM_THREADS=1)"
    if os.environ.get("BENCH_MAKE_TEST") != "1":
        return Row(SECTION, case, note="set BENCH_MAKE_TEST=1 to time make test (about 6 minutes)")
    start = time.perf_counter()
    done = subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    last = (done.stdout.strip().splitlines() or [""])[-1]
    return Row(SECTION, case, 1, 1000 * elapsed, status="ok" if done.returncode == 0 else "FAILED",
               note=f"exit code {done.returncode}; pytest said: {last[:200]}")


def section(options: Options) -> list[Row]:
    return _lesson_rows(options) + [_make_test_row()]


if __name__ == "__main__":
    from run import main

    sys.exit(main(["--only", SECTION, *sys.argv[1:]]))
