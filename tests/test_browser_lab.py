"""A real-browser test of the widgets: JupyterLab on 127.0.0.1, Debian's Chromium driven by
Playwright, lesson 04 run in the page, a predicted box dragged with the mouse and a λ slider
moved with the keyboard; the numbers the page then shows must be what the package computes
for the new box and the new λ.

Outside CI the test is skipped when no Chromium is installed; in CI (CI=true) it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser_support import is_local, jupyter_lab, launch, require_chromium, run_notebook_in_lab
from yolo_lesson import playground

ROOT = Path(__file__).resolve().parents[1]
LESSON = Path(os.environ.get("YOLO_LAB_LESSON", ROOT / "notebooks" / "04_gradients_and_lambda.ipynb"))


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the module's lessons (Playwright's sync API runs one at a time)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            yield browser
        finally:
            browser.close()


def _lesson_page(chromium, folder, lesson: Path, ready: str):
    """The lesson run in JupyterLab; fails if a request left the machine."""
    outside = []
    with jupyter_lab(folder, lesson) as url:
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        page.on("request", lambda r: None if is_local(r.url) else outside.append(r.url))
        try:
            run_notebook_in_lab(page, url, ready)
            yield page
        finally:
            page.close()
    assert outside == [], f"the page requested addresses outside this machine: {outside}"


@pytest.fixture(scope="module")
def page(chromium, tmp_path_factory):
    """Lesson 04 run in JupyterLab in Chromium."""
    yield from _lesson_page(chromium, tmp_path_factory.mktemp("lab"), LESSON, ".yolo-box-playground [data-term=total]")


def _numbers(scope, attribute: str) -> dict[str, float]:
    """Every ``[attribute=...]`` cell inside ``scope`` as {value of the attribute: number}."""
    cells = scope.locator(f"[{attribute}]")
    return {cells.nth(i).get_attribute(attribute): float(cells.nth(i).text_content()) for i in range(cells.count())}


def _box(numbers: dict[str, float], key: str) -> tuple[float, float, float, float]:
    x, y, w, h = (numbers[f"{key}-{k}"] for k in "xywh")
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _expected(shown_boxes: dict[str, float], lambda_coord: float, lambda_noobj: float):
    # The first playground of lesson 04 is built with its defaults: two predictors with
    # confidences 0.6 and 0.4, class scores (0.7, 0.2, 0.1), label 0, S = 7.
    return playground.box_playground(
        truth=_box(shown_boxes, "truth"),
        preds=[_box(shown_boxes, "0"), _box(shown_boxes, "1")],
        confs=[0.6, 0.4], class_scores=[0.7, 0.2, 0.1], label=0, S=7,
        lambda_coord=lambda_coord, lambda_noobj=lambda_noobj,
    )


def _assert_page_matches_package(widget, lambda_coord: float, lambda_noobj: float) -> None:
    expected = _expected(_numbers(widget, "data-box"), lambda_coord, lambda_noobj)
    terms = _numbers(widget, "data-term")
    grads = _numbers(widget, "data-grad")
    # The page shows 4 decimals and the boxes it shows are rounded to 4 decimals too, so
    # the recomputed values agree to a few 1e-4 (more on steep terms: allow 1e-2 relative).
    for name, value in expected.terms.items():
        assert terms[name] == pytest.approx(value, rel=1e-2, abs=2e-3), name
    for b, g in enumerate(expected.grads):
        for k, value in g.items():
            assert grads[f"{b}-{k}"] == pytest.approx(value, rel=2e-2, abs=5e-3), f"predictor {b} {k}"


def test_dragging_a_predicted_box_updates_terms_and_gradients(page):
    widget = page.locator(".yolo-box-playground").first
    before = _numbers(widget, "data-box")
    old_total = widget.locator("[data-term=total]").text_content()
    _assert_page_matches_package(widget, 5.0, 0.5)

    body = widget.locator('.box[data-name="pred0"] .box-body')
    # hover() scrolls the box into view and waits until the mouse would hit this very element.
    body.hover()
    rect = body.bounding_box()
    start = (rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2)
    page.mouse.move(*start)
    page.mouse.down()
    for step in range(1, 11):  # 36 px right and 18 px down: a tenth and a twentieth of the image
        page.mouse.move(start[0] + 3.6 * step, start[1] + 1.8 * step)
    page.mouse.up()
    page.wait_for_function(
        "([el, old]) => el.textContent !== old",
        arg=[widget.locator("[data-term=total]").element_handle(), old_total],
        timeout=30_000,
    )
    page.wait_for_timeout(300)  # let the last message of the drag arrive
    after = _numbers(widget, "data-box")
    # The canvas is 360 px wide: 36 px is 0.1 of the image, 18 px is 0.05.
    assert after["0-x"] - before["0-x"] == pytest.approx(0.1, abs=0.01)
    assert after["0-y"] - before["0-y"] == pytest.approx(0.05, abs=0.01)
    assert after["0-w"] == pytest.approx(before["0-w"], abs=1e-3)
    assert after["1-x"] == before["1-x"]
    _assert_page_matches_package(widget, 5.0, 0.5)


def test_moving_the_lambda_coord_slider_changes_the_total(page):
    widget = page.locator(".yolo-box-playground").first
    slider = widget.locator(".widget-slider").first  # λ_coord, step 0.5
    readout = slider.locator(".widget-readout")
    handle = slider.locator(".noUi-handle")
    before = _numbers(widget, "data-term")
    handle.scroll_into_view_if_needed()
    handle.click()  # focus the handle as a learner would, without moving it
    for _ in range(4):  # λ_coord 5 -> 7
        handle.press("ArrowRight")
    page.wait_for_function("el => el.textContent.trim() === '7.00'", arg=readout.element_handle(), timeout=30_000)
    page.wait_for_function(
        "([el, old]) => el.textContent !== old",
        arg=[widget.locator("[data-term=total]").element_handle(), f"{before['total']:+.4f}"],
        timeout=30_000,
    )
    page.wait_for_timeout(300)
    after = _numbers(widget, "data-term")
    # Only the box term carries λ_coord: it scales by 7/5 and the total moves by the same amount.
    assert after["box"] == pytest.approx(before["box"] * 7 / 5, rel=1e-3, abs=2e-4)
    assert after["total"] == pytest.approx(before["total"] + after["box"] - before["box"], abs=3e-4)
    _assert_page_matches_package(widget, 7.0, 0.5)


# The contrast ratio of WCAG 2 (relative luminance of sRGB colours), computed in the page
# for an element's text colour against the first opaque background behind it.
CONTRAST_JS = """
(el) => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return m.length > 3 ? m : [...m, 1]; };
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  let bg = null;
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c[3] > 0.99) { bg = c; break; }
  }
  bg = bg || [255, 255, 255, 1];
  const style = getComputedStyle(el);
  let fg = parse(el instanceof SVGElement ? style.fill : style.color);
  // blend a translucent text colour over its background, as the screen does
  fg = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}
"""


def _focused_box(page) -> str | None:
    return page.evaluate("() => document.activeElement && document.activeElement.getAttribute('data-name')")


def _tab_to_first_box(page) -> None:
    """Presses Tab from the selected cell until a box has the focus: JupyterLab's cell toolbar
    (shown on the active cell) comes first, then the widget's boxes."""
    for _ in range(12):
        page.keyboard.press("Tab")
        if _focused_box(page):
            return
    raise AssertionError("12 presses of Tab from the cell did not reach a box")


def _select_cell_of(page, selector: str) -> None:
    """Selects the notebook cell holding ``selector`` in command mode, where a keyboard user
    lands with the arrow keys (the cell itself has the focus)."""
    page.evaluate(
        """(sel) => { const nb = window.jupyterapp.shell.currentWidget.content;
            nb.activeCellIndex = nb.widgets.findIndex(c => c.node.querySelector(sel));
            nb.mode = 'command'; nb.activeCell.node.focus(); }""",
        selector,
    )


def test_keyboard_alone_moves_resizes_and_cycles_the_boxes(page):
    widget = page.locator(".yolo-box-playground").first
    canvas = widget.locator(".yolo-box-canvas-wrap")
    assert canvas.get_attribute("role") == "group" and "Box playground" in canvas.get_attribute("aria-label")
    boxes = widget.locator("g.box[tabindex='0']")
    assert boxes.count() == 3  # the object and both predictors, each a tab stop
    assert "Arrow keys move it" in boxes.nth(1).get_attribute("aria-label")
    _select_cell_of(page, ".yolo-box-playground")
    _tab_to_first_box(page)
    assert _focused_box(page) == "truth"
    page.keyboard.press("Tab")
    assert _focused_box(page) == "pred0"
    page.keyboard.press("Tab")
    assert _focused_box(page) == "pred1"
    page.keyboard.press("Shift+Tab")
    assert _focused_box(page) == "pred0"

    before = _numbers(widget, "data-box")
    old_total = widget.locator("[data-term=total]").text_content()
    for _ in range(3):  # 3 % of the image to the right
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")  # 1 % up
    for _ in range(2):  # the bottom-right corner 2 % down: 2 % taller
        page.keyboard.press("Shift+ArrowDown")
    assert _focused_box(page) == "pred0", "the box keeps the focus while it moves"
    page.wait_for_function(
        "([el, old]) => el.textContent !== old",
        arg=[widget.locator("[data-term=total]").element_handle(), old_total], timeout=30_000,
    )
    page.wait_for_timeout(500)
    after = _numbers(widget, "data-box")
    assert after["0-x"] - before["0-x"] == pytest.approx(0.03, abs=1e-3)
    assert after["0-w"] == pytest.approx(before["0-w"], abs=1e-3)
    assert after["0-h"] - before["0-h"] == pytest.approx(0.02, abs=1e-3)
    # y: up 1 %, then the bottom edge down 2 % moves the centre down 1 %: net 0.
    assert after["0-y"] == pytest.approx(before["0-y"], abs=1e-3)
    assert after["1-x"] == before["1-x"] and after["truth-x"] == before["truth-x"]
    _assert_page_matches_package(widget, 7.0, 0.5)  # λ_coord is 7 since the slider test
    # The live region reads out the new total, as the readout shows it.
    live = widget.locator(".yolo-live")
    assert live.get_attribute("aria-live") == "polite"
    total = _numbers(widget, "data-term")["total"]
    page.wait_for_function("([el, t]) => el.textContent.includes(t)", arg=[live.element_handle(), f"{total:.4f}"],
                           timeout=30_000)
    # Enter goes to the next box, and from the last back to the first.
    page.keyboard.press("Enter")
    assert _focused_box(page) == "pred1"
    page.keyboard.press("Enter")
    assert _focused_box(page) == "truth"
    # The notebook did not take the keys: still in command mode on the same cell, no cell
    # was added or entered (Enter would open the editor; arrows would select other cells).
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.mode") == "command"


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_readout_and_labels_have_aa_contrast_in_light_and_dark_themes(page, theme):
    page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    page.wait_for_function(
        "(t) => document.body.dataset.jpThemeName === t", arg=theme, timeout=30_000,
    )
    page.wait_for_timeout(500)
    widget = page.locator(".yolo-box-playground").first
    texts = widget.locator(".yolo-readout td, .yolo-readout th, .yolo-readout b, .yolo-readout div, svg text")
    ratios = {}
    for i in range(texts.count()):
        item = texts.nth(i)
        if not (item.text_content() or "").strip():
            continue
        ratios[f"{i}: {item.text_content().strip()[:30]}"] = item.evaluate(CONTRAST_JS)
    assert len(ratios) > 20
    low = {k: round(v, 2) for k, v in ratios.items() if v < 4.5}
    assert low == {}, f"{theme}: text below 4.5:1 contrast: {low}"
    if os.environ.get("YOLO_SCREENSHOTS"):
        folder = Path(os.environ["YOLO_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        for width in (1400, 800):
            page.set_viewport_size({"width": width, "height": 1000})
            page.wait_for_timeout(500)
            widget.scroll_into_view_if_needed()
            widget.screenshot(path=str(folder / f"box-playground-{theme.split()[-1].lower()}-{width}.png"))
        page.set_viewport_size({"width": 1400, "height": 1000})
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")


@pytest.fixture(scope="module")
def iou_page(chromium, tmp_path_factory):
    """Lesson 01 (the IoU playground) run in JupyterLab in Chromium."""
    lesson = ROOT / "notebooks" / "01_boxes_and_iou.ipynb"
    yield from _lesson_page(chromium, tmp_path_factory.mktemp("lab01"), lesson, ".yolo-iou-playground [data-value=iou]")


def test_iou_playground_by_keyboard_alone(iou_page):
    page = iou_page
    widget = page.locator(".yolo-iou-playground").first
    boxes = widget.locator("g.box[tabindex='0']")
    assert boxes.count() == 2
    _select_cell_of(page, ".yolo-iou-playground")
    _tab_to_first_box(page)
    assert _focused_box(page) == "target"
    page.keyboard.press("Tab")
    assert _focused_box(page) == "pred"
    old = widget.locator("[data-value=iou]").text_content()
    for _ in range(5):  # the prediction 5 % to the left
        page.keyboard.press("ArrowLeft")
    for _ in range(3):  # and 3 % narrower (its right edge moves left)
        page.keyboard.press("Shift+ArrowLeft")
    page.wait_for_function("([el, old]) => el.textContent !== old",
                           arg=[widget.locator("[data-value=iou]").element_handle(), old], timeout=30_000)
    page.wait_for_timeout(500)
    # Lesson 01 builds IoUPlayground() with its defaults: target (0.20, 0.25, 0.55, 0.60),
    # prediction (0.45, 0.40, 0.85, 0.80); now the prediction is (0.40, 0.40, 0.77, 0.80).
    expected = playground.iou_playground((0.20, 0.25, 0.55, 0.60), (0.40, 0.40, 0.77, 0.80))
    shown = _numbers(widget, "data-value")
    losses = _numbers(widget, "data-loss")
    for name, value in expected.values.items():
        assert shown[name] == pytest.approx(value, abs=2e-4), name
        assert losses[name] == pytest.approx(expected.losses[name], abs=2e-4), name
    live = widget.locator(".yolo-live")
    page.wait_for_function("([el, t]) => el.textContent.includes(t)",
                           arg=[live.element_handle(), f"GIOU {expected.losses['giou']:.4f}"], timeout=30_000)
    page.keyboard.press("Enter")
    assert _focused_box(page) == "target"
    for theme in ("JupyterLab Light", "JupyterLab Dark"):
        page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
        page.wait_for_function("(t) => document.body.dataset.jpThemeName === t", arg=theme, timeout=30_000)
        page.wait_for_timeout(500)
        texts = widget.locator(".yolo-readout td, .yolo-readout th, svg text")
        low = {}
        for i in range(texts.count()):
            if (texts.nth(i).text_content() or "").strip():
                ratio = texts.nth(i).evaluate(CONTRAST_JS)
                if ratio < 4.5:
                    low[texts.nth(i).text_content().strip()] = round(ratio, 2)
        assert low == {}, f"{theme}: text below 4.5:1 contrast: {low}"
        if os.environ.get("YOLO_SCREENSHOTS"):
            folder = Path(os.environ["YOLO_SCREENSHOTS"])
            for width in (1400, 800):
                page.set_viewport_size({"width": width, "height": 1000})
                page.wait_for_timeout(500)
                widget.scroll_into_view_if_needed()
                widget.screenshot(path=str(folder / f"iou-playground-{theme.split()[-1].lower()}-{width}.png"))
            page.set_viewport_size({"width": 1400, "height": 1000})
