"""Rewrites constraints.txt from the packages installed in .venv (run by `make constraints`
after a deliberate upgrade; then re-execute the lessons with `make notebooks`), and
binder/environment.yml: the same versions, restricted to what a learner needs (the package
with its `course` extra, and everything that pulls in)."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

HEADER = """\
# Pins for a reproducible course environment (used by the Makefile with pip -c).
# torch==2.13.0 is the CPU build; pyproject.toml keeps ranges, this file fixes the versions
# the committed notebook outputs were produced with. Regenerate with: make constraints
# soupsieve stays at 2.x: 3.x needs Python 3.11.5, and these pins must resolve from 3.11.0
# (tests/test_constraints.py resolves them for every Python version pyproject.toml claims).
"""

BINDER_HEADER = """\
# Binder's environment (mybinder.org builds it with repo2docker; binder/ takes precedence
# over the files at the repository root). Written by tools/write_constraints.py from
# constraints.txt: the exact versions the committed outputs were produced with, for what a
# learner needs (yolo-lesson[course] and its dependencies); no test or website tools.
# binder/postBuild then installs the course package itself without dependencies.
name: yolo-lesson-binder
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
      # PyTorch's CPU build (the default Linux wheel carries CUDA, several GB).
      - --extra-index-url https://download.pytorch.org/whl/cpu
"""

LEARNER_ROOT = "yolo-lesson"
LEARNER_EXTRAS = ("course",)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, tuple[str, str]]:
    """{canonical name: (name as written, version)} of a constraints file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "==" in line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = (name.strip(), version.strip())
    return pins


def closure(root: str = LEARNER_ROOT, extras: tuple[str, ...] = LEARNER_EXTRAS) -> set[str]:
    """Canonical names of the installed distributions that ``root[extras]`` needs on this
    platform, root excluded: its Requires-Dist walked through the installed metadata."""
    seen: set[str] = set()
    todo = [(root, frozenset(extras))]
    done: set[tuple[str, frozenset]] = set()
    while todo:
        name, wanted = todo.pop()
        if (canonical(name), wanted) in done:
            continue
        done.add((canonical(name), wanted))
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(
                marker.evaluate({"extra": extra}) for extra in (wanted or {""})
            ):
                continue
            seen.add(canonical(requirement.name))
            todo.append((requirement.name, frozenset(requirement.extras)))
    # pip freeze leaves out the installers themselves; the environment provides them.
    return seen - {canonical(root), "pip", "setuptools", "wheel"}


def binder_environment(pins: dict[str, tuple[str, str]]) -> str:
    names = sorted(closure())
    missing = [n for n in names if n not in pins]
    if missing:
        raise SystemExit(f"no pin in constraints.txt for {missing}")
    lines = [f"      - {pins[n][0]}=={pins[n][1]}" for n in names]
    return BINDER_HEADER + "\n".join(lines) + "\n"


def main() -> int:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    pins = sorted(
        (line for line in frozen if "==" in line and not line.lower().startswith("torch==")),
        key=str.lower,
    )
    path = ROOT / "constraints.txt"
    path.write_text(HEADER + "\n".join(pins + ["torch==2.13.0"]) + "\n")
    print(f"wrote {len(pins) + 1} pins to {path.name}")
    binder = ROOT / "binder" / "environment.yml"
    binder.write_text(binder_environment(read_pins(path)))
    print(f"wrote {binder.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
