"""The training replay of lesson 06 in JupyterLab, in Chromium: the lesson's cells up to the
replay run in the page as a learner runs them, the step slider is dragged and the play button
pressed, and the numbers shown must be those the committed lesson recorded (the run is seeded,
so a fresh run records the same numbers); at 1400 and 800 px the scrubber has width and
nothing is clipped.

Outside CI the test is skipped when no Chromium is installed; in CI (CI=true) it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat
import pytest

from browser_support import is_local, jupyter_lab, launch, require_chromium, run_notebook_in_lab

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "06_training_a_tiny_yolo"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
SHOTS = Path(os.environ["YOLO_SHOTS"]) if os.environ.get("YOLO_SHOTS") else None


def _recorded() -> dict:
    notebook = nbformat.read(LESSON.with_suffix(".ipynb"), as_version=4)
    states = notebook.metadata["widgets"][WIDGET_STATE]["state"].values()
    (recording,) = [s["state"]["recording"] for s in states if "frames" in s["state"].get("recording", {})]
    return recording


def _lesson_up_to_the_replay(folder: Path) -> Path:
    """Lesson 06's cells up to the one that shows the replay (the rest trains other models)."""
    notebook = jupytext.read(LESSON.with_suffix(".py"))
    end = next(i for i, c in enumerate(notebook.cells) if "TrainingReplay(recorder" in c.source)
    notebook.cells = notebook.cells[: end + 1]
    path = folder / "replay" / "06_replay.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    require_chromium()
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("lab")
    notebook = _lesson_up_to_the_replay(tmp_path_factory.mktemp("source"))
    outside = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            with jupyter_lab(folder, notebook) as url:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.on("request", lambda r: None if is_local(r.url) else outside.append(r.url))
                run_notebook_in_lab(page, url, ".yolo-training-replay .yolo-replay-step")
                yield page
                page.close()
        finally:
            browser.close()
    assert outside == [], f"the page requested addresses outside this machine: {outside}"


def test_scrubbing_in_the_lab_shows_the_recorded_numbers(page):
    recording = _recorded()
    frames, steps = recording["frames"], recording["steps"]
    replay = page.locator(".yolo-training-replay")
    assert "yolo-recorded" in replay.get_attribute("class")
    slider = replay.locator("input.yolo-replay-slider")
    for index in (0, 1, 20, len(frames) - 1):
        slider.fill(str(index))
        step = frames[index]["step"]
        replay.locator(f'.yolo-replay-step[data-step="{step}"]').wait_for(timeout=10_000)
        counts = ",".join(str(len(d)) for d in frames[index]["detections"])
        assert replay.locator(".yolo-replay-found").get_attribute("data-detections") == counts
        values = replay.locator("text.objectness-value").all_text_contents()
        assert values == [f"{v:.2f}" for grid in frames[index]["objectness"] for v in grid]
        if step in steps:
            at = steps.index(step)
            for name in recording["term_names"]:
                shown = float(replay.locator(f'td[data-term="{name}"]').text_content())
                assert shown == pytest.approx(recording["terms"][name][at], rel=1e-3), (step, name)
    slider.fill("0")
    replay.locator("button.yolo-replay-play").click()
    page.wait_for_function(
        "() => Number(document.querySelector('.yolo-training-replay .yolo-replay-step').dataset.step) >= 50",
        timeout=20_000,
    )
    replay.locator("button.yolo-replay-play").click()
    # By keyboard: the arrow keys move the slider one snapshot (not JupyterLab's cell cursor).
    slider.fill("2")
    slider.focus()
    page.keyboard.press("ArrowRight")
    replay.locator(f'.yolo-replay-step[data-step="{frames[3]["step"]}"]').wait_for(timeout=10_000)


@pytest.mark.parametrize("width", [1400, 800])
def test_the_replay_fits_the_lab_at_1400_and_800(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    replay = page.locator(".yolo-training-replay")
    # Wait until the notebook has laid itself out at the new width.
    page.wait_for_function("w => window.innerWidth === w", arg=width, timeout=10_000)
    if width < 1000:
        # At 800 px the open file browser leaves the notebook almost no room; a learner closes it.
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    # Wait until JupyterLab has laid the notebook out at the new width: the replay's cell is
    # wider than its picture panels and the replay ends inside it (the checks below say what
    # fails if it never does).
    page.wait_for_function(
        """() => { const r = document.querySelector('.yolo-training-replay');
            const c = r && r.closest('.jp-Cell');
            if (!c) return false;
            const a = r.getBoundingClientRect(), b = c.getBoundingClientRect();
            return b.width > 400 && a.right <= b.right + 1 && b.right <= window.innerWidth; }""",
        timeout=15_000,
    )
    replay.evaluate("e => e.scrollIntoView({block: 'start'})")
    if SHOTS is not None:
        page.screenshot(path=str(SHOTS / f"lab-training-replay-{width}.png"))
    slider = replay.locator("input.yolo-replay-slider")
    assert slider.bounding_box()["width"] >= 150
    cell = page.locator(".jp-Cell", has=replay)
    cell_box, box = cell.bounding_box(), replay.bounding_box()
    assert box["x"] + box["width"] <= cell_box["x"] + cell_box["width"] + 1
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('.yolo-training-replay, .yolo-training-replay *')]"
        ".filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible').length"
    )
    assert clipped == 0
    if width == 1400:  # the pictures and the numbers in one view
        for part in (".yolo-replay-images", ".yolo-replay-readout", ".yolo-replay-controls"):
            area = replay.locator(part).bounding_box()
            assert area["y"] >= 0 and area["y"] + area["height"] <= 900, (part, area)
