"""Rewrites constraints.txt from the packages installed in .venv (run by `make constraints`
after a deliberate upgrade; then re-execute the lessons with `make notebooks`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEADER = """\
# Pins for a reproducible course environment (used by the Makefile with pip -c).
# torch==2.13.0 is the CPU build; pyproject.toml keeps ranges, this file fixes the versions
# the committed notebook outputs were produced with. Regenerate with: make constraints
"""


def main() -> int:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    pins = sorted(
        (line for line in frozen if "==" in line and not line.lower().startswith("torch==")),
        key=str.lower,
    )
    path = Path(__file__).resolve().parents[1] / "constraints.txt"
    path.write_text(HEADER + "\n".join(pins + ["torch==2.13.0"]) + "\n")
    print(f"wrote {len(pins) + 1} pins to {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
