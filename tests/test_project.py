"""Checks of the course as a whole: the lessons' paired files, their committed outputs, the
two environment descriptions and the README's promises."""

from __future__ import annotations

import json
import ast
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


def test_environment_yml_installs_the_learner_extra_at_the_pinned_versions():
    # The conda file for a learner's machine: Python 3.11 (a claimed version), the package
    # with its `course` extra, every version from constraints.txt, torch's CPU build.
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert conda == ["python=3.11", "pip"]
    assert "-c constraints.txt" in pip and "-e .[course]" in pip
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(c.endswith(":: 3.11") for c in project["classifiers"])


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
    missing = [r for r in declared if _requirement_name(r) not in pins and _requirement_name(r) != project["name"]]
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


def test_make_lab_prints_lesson_00_and_shows_each_lesson_once():
    makefile = (ROOT / "Makefile").read_text()
    lab_recipe = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    # The URL JupyterLab prints is its default_url: lesson 00, not the Launcher.
    assert "--LabApp.default_url=/lab/tree/$(notdir $(FIRST_LESSON))" in lab_recipe
    assert "--ServerApp.root_dir=$(dir $(FIRST_LESSON))" in lab_recipe
    hidden = json.loads(re.search(r"^LAB_HIDE := (.+)$", makefile, re.M).group(1))
    assert "*.py" in hidden  # the Jupytext twins; the .ipynb lessons stay visible
    # A learner's install: the course extra only, no test or website tools.
    assert re.search(r"^lab: \$\(LEARNER_STAMP\)", makefile, re.M)
    learner = makefile.split("$(LEARNER_STAMP): ", 1)[1].split("\n\n", 1)[0]
    assert "-e '.[course]'" in learner


def test_jupytext_pairs_only_the_lessons_and_keeps_alt_text():
    assert not (ROOT / "jupytext.toml").exists(), "pairing is scoped to notebooks/"
    config = load_jupytext_config(str(NOTEBOOKS))
    assert config.formats in ("ipynb,py:percent", ["ipynb,py:percent"])
    assert {"tags", "mystnb"} <= set(config.cell_metadata_filter.split(","))
    assert load_jupytext_config(str(ROOT)) is None  # e.g. student/ or a scratch notebook


@pytest.mark.parametrize("source", LESSONS, ids=LESSON_IDS)
def test_executed_lesson_carries_the_metadata_lab_saves(source):
    # JupyterLab's Jupytext writes the pairing filters into the .ipynb on save; the executed
    # twin already has them, so opening and saving a lesson changes nothing.
    config = load_jupytext_config(str(NOTEBOOKS))
    metadata = nbformat.read(source.with_suffix(".ipynb"), as_version=4).metadata["jupytext"]
    assert metadata == {
        "formats": "ipynb,py:percent",
        "notebook_metadata_filter": config.notebook_metadata_filter,
        "cell_metadata_filter": config.cell_metadata_filter,
    }


@pytest.mark.parametrize("source", LESSONS, ids=LESSON_IDS)
def test_first_code_cell_installs_the_course_on_colab_only(source):
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import colab_cell

    notebook = jupytext.read(source)
    first = next(c for c in notebook.cells if c.cell_type == "code")
    assert first.source == colab_cell.cell_source(), "run python tools/colab_cell.py --write"
    assert sum(colab_cell.MARKER in c.source for c in notebook.cells) == 1


def test_one_repository_url():
    # book/_config.yml defines it; the package metadata and the Colab cells use the same.
    url = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())["repository"]["url"]
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Repository"] == url and urls["Homepage"] == url
    assert urls["Issues"] == url + "/issues"


def test_licences_are_present_and_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "Attribution 4.0 International Public License" in (ROOT / "LICENSE-CC-BY-4.0").read_text()
    assert "version" in project["dynamic"] and "version" not in project
    footer = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())["html"]["extra_footer"]
    assert "CC BY 4.0" in footer and "MIT" in footer
    readme = (ROOT / "README.md").read_text()
    assert "LICENSE-CC-BY-4.0" in readme and "(LICENSE)" in readme


def test_declared_dependencies_cover_the_package_imports():
    # Every third-party module the package imports is declared: by the package itself
    # or, for yolo_lesson.widgets, by the `widgets` extra.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_requirement_name(r) for r in project["dependencies"]}
    widgets = core | {_requirement_name(r) for r in project["optional-dependencies"]["widgets"]}
    standard = set(__import__("sys").stdlib_module_names)
    for module in sorted((ROOT / "yolo_lesson").rglob("*.py")):
        # The import statements themselves (parsed, so that a docstring's "from boxes ..." is not
        # read as one); relative imports are the package's own.
        imported = set()
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
        third_party = {name.lower() for name in imported - standard - {"yolo_lesson", "__future__"}}
        # Distribution names of the modules whose import name differs: Pillow is PIL, PyYAML is yaml.
        names = {{"pil": "pillow", "yaml": "pyyaml"}.get(n, n) for n in third_party}
        allowed = widgets if module.parent.name == "widgets" else core
        assert names <= allowed, f"{module.name} imports {sorted(names - allowed)}, not declared"


@pytest.mark.parametrize("source", LESSONS, ids=LESSON_IDS)
def test_every_figure_has_alt_text_that_survives_jupytext(source):
    # Jupyter Book (myst-nb) writes `mystnb: {image: {alt: ...}}` into the <img> tag; the
    # .py source keeps it (notebooks/jupytext.toml), so the .ipynb and the .py agree.
    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    paired = jupytext.read(source)
    pairs = zip([c for c in notebook.cells if c.cell_type == "code"], [c for c in paired.cells if c.cell_type == "code"])
    for index, (cell, twin) in enumerate(pairs):
        if not any("image/png" in o.get("data", {}) for o in cell.outputs):
            continue
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        assert len(alt.split()) >= 8, f"code cell {index} draws a figure without alt text"
        assert twin.metadata.get("mystnb") == cell.metadata["mystnb"], f"code cell {index}: alt text lost in the .py"
