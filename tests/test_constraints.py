"""constraints.txt resolves for every Python version the package claims, and not for the
one below: pip resolves the pinned requirements (every extra) for each version with
``--python-version X --only-binary :all: --dry-run``, as an installer on that Python would.

A dry run reads the wheels' metadata from the package index (PyPI) and installs nothing.
Without access to the index the test is skipped outside CI (CI set: it fails).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
# --python-version 3.11 means 3.11.0: the oldest 3.11, e.g. Debian 12 ships 3.11.2. (Soup
# Sieve 3 needs 3.11.5 and says so in its metadata, hence soupsieve 2.x in constraints.txt.)
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CLAIMED = [
    c.rsplit(" :: ", 1)[1]
    for c in PROJECT["classifiers"]
    if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
]


def _requirements() -> list[str]:
    """Every requirement of the package and its extras, the self-reference left out."""
    requirements = list(PROJECT["dependencies"])
    for extra in PROJECT["optional-dependencies"].values():
        requirements += [r for r in extra if not r.startswith(PROJECT["name"])]
    return requirements


def _require_index() -> None:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError as error:
        if os.environ.get("CI"):
            pytest.fail(f"the package index is not reachable: {error}")
        pytest.skip(f"the package index is not reachable: {error}")


def _resolve(version: str, tmp_path: Path) -> tuple[int, str, dict[str, str]]:
    report = tmp_path / f"report-{version}.json"
    command = [
        sys.executable, "-m", "pip", "install", "--dry-run", "--quiet",
        "--python-version", version, "--only-binary", ":all:",
        "--target", str(tmp_path / f"target-{version}"),  # pip wants one with --python-version
        "--report", str(report), "-c", str(ROOT / "constraints.txt"), *_requirements(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    chosen = {}
    if done.returncode == 0:
        for item in json.loads(report.read_text())["install"]:
            # torch may come from a local-version build (2.13.0+cpu): the pin is 2.13.0.
            chosen[item["metadata"]["name"].lower()] = item["metadata"]["version"].split("+")[0]
    errors = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("WARNING"))
    return done.returncode, errors, chosen


def test_requires_python_matches_the_claimed_versions():
    # The classifiers are the claim; requires-python must admit each and nothing older.
    spec = SpecifierSet(PROJECT["requires-python"])
    assert CLAIMED == sorted(CLAIMED, key=lambda v: tuple(map(int, v.split(".")))), CLAIMED
    assert all(spec.contains(f"{v}.0") for v in CLAIMED)
    lowest = tuple(map(int, CLAIMED[0].split(".")))
    below = f"{lowest[0]}.{lowest[1] - 1}.0"
    assert not spec.contains(below), f"requires-python admits {below}, which is not claimed"


def test_constraints_resolve_for_every_claimed_python_and_not_below(tmp_path):
    _require_index()
    lowest = tuple(map(int, CLAIMED[0].split(".")))
    below = f"{lowest[0]}.{lowest[1] - 1}"
    versions = [below, *CLAIMED]
    with ThreadPoolExecutor(max_workers=len(versions)) as pool:
        results = dict(zip(versions, pool.map(lambda v: _resolve(v, tmp_path), versions)))
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    for version in CLAIMED:
        code, errors, chosen = results[version]
        assert code == 0, f"constraints.txt does not resolve for Python {version}:\n{errors[-3000:]}"
        # The dry run took exactly the pinned versions, torch 2.13.0 included.
        assert chosen["torch"] == "2.13.0"
        wrong = {n: v for n, v in chosen.items() if re.sub(r"[-_.]+", "-", n) in pins
                 and pins[re.sub(r"[-_.]+", "-", n)] != v}
        assert wrong == {}, f"Python {version}: resolved off the pins: {wrong}"
    # One version below the claim cannot resolve: that is why requires-python stops there.
    code, errors, _ = results[below]
    assert code != 0, f"constraints.txt resolves for Python {below}: widen requires-python"
    assert "ResolutionImpossible" in errors or "conflicting dependencies" in errors or "No matching distribution" in errors
