"""Executes the lessons and writes their paired, executed .ipynb twins.

The Jupytext ``.py`` file is the reviewed source; this script runs it top to bottom in a fresh
kernel (working directory ``notebooks/``) and writes the ``.ipynb`` with its outputs, so that
the committed outputs are exactly what a fresh run produces. Usage::

    python tools/execute_notebooks.py                       # every lesson
    python tools/execute_notebooks.py notebooks/03_*.py     # some of them
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import load_jupytext_config
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def execute(source: Path, timeout: int) -> float:
    notebook = jupytext.read(source)
    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(source.parent)}},
        record_timing=False,  # no timestamps in the committed files
        coalesce_streams=True,  # one print, one output block, however the kernel splits it
    ).execute()
    elapsed = time.perf_counter() - start
    # JupyterLab's Jupytext saves the pairing filters of notebooks/jupytext.toml into the
    # .ipynb; writing them here too means that saving a lesson in Lab changes nothing.
    config = load_jupytext_config(str(source.parent))
    if config is not None:
        settings = notebook.metadata.setdefault("jupytext", {})
        settings["notebook_metadata_filter"] = config.notebook_metadata_filter
        settings["cell_metadata_filter"] = config.cell_metadata_filter
    target = source.with_suffix(".ipynb")
    jupytext.write(notebook, target, fmt="ipynb")
    nbformat.validate(nbformat.read(target, as_version=4))
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", type=Path, help="lesson .py files (default: all)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args()
    sources = args.sources or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    for source in sources:
        elapsed = execute(source.resolve(), args.timeout)
        print(f"executed {source.name} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
