"""Checks of the course as a whole: the lessons' paired files, their committed outputs, the
two environment descriptions and the README's promises."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from jupytext.config import load_jupytext_config

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
LESSON_IDS = [path.stem for path in LESSONS]


def test_the_first_three_lessons_exist():
    names = set(LESSON_IDS)
    assert {"01_boxes_and_iou", "02_grid_and_targets", "03_yolov1_loss"} <= names


def test_every_notebook_has_a_source():
    orphans = [p.name for p in NOTEBOOKS.glob("*.ipynb") if not p.with_suffix(".py").exists()]
    assert orphans == [], f"notebooks without a Jupytext .py source: {orphans}"


@pytest.mark.parametrize("source", LESSONS, ids=LESSON_IDS)
def test_pair_is_in_sync(source):
    """The .ipynb, written back as py:percent with the project's Jupytext settings, must
    reproduce the .py exactly; otherwise one of the two was edited alone (run `make notebooks`)."""
    notebook_path = source.with_suffix(".ipynb")
    assert notebook_path.exists(), f"{source.name} has no executed twin; run `make notebooks`"
    config = load_jupytext_config(str(NOTEBOOKS))
    as_text = jupytext.writes(jupytext.read(notebook_path), fmt="py:percent", config=config)
    assert as_text == source.read_text(), (
        f"{notebook_path.name} and {source.name} differ; run `make notebooks`"
    )


@pytest.mark.parametrize("source", LESSONS, ids=LESSON_IDS)
def test_notebook_was_executed_top_to_bottom_without_noise(source):
    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    # One fresh run, in order: 1, 2, 3, ...
    assert counts == list(range(1, len(code) + 1)), f"execution counts {counts}"
    for index, cell in enumerate(code):
        for output in cell.outputs:
            assert output.output_type != "error", f"cell {index} raised: {output.get('ename')}"
            if output.output_type == "stream":
                assert output.name == "stdout", f"cell {index} wrote to stderr: {output.text[:200]}"
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            assert not re.search(r"at 0x[0-9a-f]{6,}", text), f"cell {index} prints a memory address"


@pytest.mark.parametrize("source", LESSONS, ids=LESSON_IDS)
def test_lesson_has_goals_summary_and_exercises(source):
    notebook = jupytext.read(source)
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    for heading in ("Learning goals", "Summary", "Exercises"):
        assert re.search(rf"^#+ .*{heading}", markdown, re.M | re.I), f"no '{heading}' heading"
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "import *" not in code, "no star imports in lessons"
    assert not re.search(r"^\s*[!%]pip", code, re.M), "no pip installs in lessons"


def _requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in ("course", "test", "book"):
        wanted += project["optional-dependencies"][extra]

    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    # conda-forge names PyTorch's CPU build pytorch-cpu; same version range.
    listed = [d.replace("pytorch-cpu", "torch", 1) for d in conda if d.startswith("pytorch-cpu")]
    listed += [d for d in pip if not d.startswith("-e")]
    assert "-e ." in pip, "environment.yml must install the course package itself"

    normalize = lambda reqs: sorted(r.replace(" ", "").lower() for r in reqs)  # noqa: E731
    assert normalize(listed) == normalize(wanted)


def test_constraints_pin_the_local_torch_build_and_cover_every_dependency():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_requirement_name(name)] = version
    assert pins["torch"] == "2.13.0"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    missing = [r for r in declared if _requirement_name(r) not in pins]
    assert missing == [], f"dependencies without a pin in constraints.txt: {missing}"


def test_readme_quick_start_has_exactly_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)\s*$", quick_start, re.M)
    assert commands == ["make lab", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab", "test"):
        assert re.search(rf"^{target}:", makefile, re.M)


def test_make_lab_opens_an_existing_lesson_on_localhost_only():
    makefile = (ROOT / "Makefile").read_text()
    first = re.search(r"^FIRST_LESSON := (\S+)", makefile, re.M).group(1)
    assert (ROOT / first).exists(), f"make lab would open {first}, which does not exist"
    lab_recipe = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "--ServerApp.ip=127.0.0.1" in lab_recipe
