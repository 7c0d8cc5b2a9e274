"""The first code cell of every lesson: on Google Colab (and only there) it installs the
course package with its light `widgets` extra from the repository, whose URL is read from
the one place that defines it, book/_config.yml (`repository.url`).

    python tools/colab_cell.py          # checks every lesson's cell, lists the stale ones
    python tools/colab_cell.py --write  # rewrites (or inserts) the cell in every lesson .py

After --write, re-execute the lessons (tools/execute_notebooks.py). Outside Colab the cell
does nothing and prints nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MARKER = "# On Google Colab only:"

TEMPLATE = '''\
# On Google Colab only: install the course package and its widgets from the repository.
try:
    import google.colab  # noqa: F401 (only Colab has this module)
except ImportError:
    pass
else:
    import subprocess
    import sys

    COURSE = "yolo-lesson[widgets] @ git+{url}"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", COURSE], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip could not install {{COURSE}}:\\n{{done.stderr[-2000:]}}")'''


def repository_url() -> str:
    return yaml.safe_load((ROOT / "book" / "_config.yml").read_text())["repository"]["url"]


def cell_source(url: str | None = None) -> str:
    return TEMPLATE.format(url=url or repository_url())


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def first_code_cell(path: Path):
    notebook = jupytext.read(path)
    return next((c for c in notebook.cells if c.cell_type == "code"), None)


def write(path: Path, source: str) -> bool:
    """Puts the cell before the lesson's first code cell (or replaces an older one); edits
    only those lines of the .py, so the rest of the lesson stays as it is."""
    text = path.read_text()
    cell = f"# %%\n{source}\n\n"
    if MARKER in text:
        start = text.rindex("# %%\n", 0, text.index(MARKER))
        end = text.index("# %%", text.index(MARKER))
        new = text[:start] + cell + text[end:]
    else:
        lines = text.splitlines(keepends=True)
        # The first code cell header of py:percent: "# %%" without a [markdown] marker.
        index = next(i for i, line in enumerate(lines) if line.startswith("# %%") and "[markdown]" not in line)
        new = "".join(lines[:index]) + cell + "".join(lines[index:])
    if new != text:
        path.write_text(new)
    return new != text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    source = cell_source()
    stale = [p.name for p in lessons() if (c := first_code_cell(p)) is None or c.source != source]
    if args.write:
        for path in lessons():
            if write(path, source):
                print(f"updated {path.name}")
        return 0
    for name in stale:
        print(f"stale Colab cell: {name}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
