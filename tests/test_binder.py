"""Binder's environment (binder/) against constraints.txt: the same versions, everything a
learner's lesson needs and nothing for tests or the website; a postBuild that adds only the
course package; launch buttons pointing at the lessons."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import write_constraints  # noqa: E402

ENVIRONMENT = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())


def _binder_pins() -> dict[str, str]:
    pip = next(d["pip"] for d in ENVIRONMENT["dependencies"] if isinstance(d, dict))
    pins = {}
    for line in pip:
        if line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        assert version, f"binder/environment.yml: {line!r} is not pinned with =="
        pins[write_constraints.canonical(name)] = version
    return pins


def test_binder_pins_are_the_constraints():
    constraints = {n: v for n, (_, v) in write_constraints.read_pins(ROOT / "constraints.txt").items()}
    binder = _binder_pins()
    different = {n: (v, constraints.get(n)) for n, v in binder.items() if constraints.get(n) != v}
    assert different == {}, f"binder version vs constraints.txt: {different}"
    assert binder["torch"] == "2.13.0"


def test_binder_holds_what_a_learner_needs_and_no_more():
    # The closure of yolo-lesson[course] walked through the installed metadata: exactly the
    # pinned list (tools/write_constraints.py writes it from the same walk).
    assert set(_binder_pins()) == write_constraints.closure()
    for tool in ("pytest", "nbval", "playwright", "jupyter-book", "hypothesis", "sphinx"):
        assert tool not in _binder_pins(), f"{tool} is a developer tool, not for Binder"
    for needed in ("jupyterlab", "ipywidgets", "anywidget", "jupytext", "matplotlib", "numpy", "tqdm"):
        assert needed in _binder_pins()


def test_binder_python_is_a_claimed_version_and_torch_is_the_cpu_build():
    conda = [d for d in ENVIRONMENT["dependencies"] if isinstance(d, str)]
    assert conda == ["python=3.11", "pip"]  # no conda package under the pinned pip stack
    pip = next(d["pip"] for d in ENVIRONMENT["dependencies"] if isinstance(d, dict))
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip
    project = (ROOT / "pyproject.toml").read_text()
    assert "Programming Language :: Python :: 3.11" in project


def test_postbuild_installs_the_package_without_touching_the_pinned_stack():
    script = (ROOT / "binder" / "postBuild").read_text()
    assert script.startswith("#!/bin/bash")
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"
    installs = re.findall(r"^.*pip install.*$", script, re.M)
    assert installs and all("--no-deps" in line for line in installs)


def test_launch_buttons_open_the_lessons_in_jupyterlab():
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["notebook_interface"] == "jupyterlab"
    assert config["repository"]["url"].startswith("https://github.com/")
