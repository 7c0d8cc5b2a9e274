"""The course website: it builds with warnings as errors, its links resolve, it loads nothing
from another host, and in a real browser its pages show no console errors and its saved
widgets render.

The site is built once for this module (tools/build_book.py, the same steps as `make book`).
Set BOOK_ALLOW_MISSING=1 to build while some lessons in book/_toc.yml are not written yet.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import sys
import threading
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402
from browser_support import is_local, launch, require_chromium  # noqa: E402

HTML = build_book.HTML
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def site() -> Path:
    """Build the site once (vendor scripts, Jupyter Book with -W) and return its folder."""
    allow_missing = os.environ.get("BOOK_ALLOW_MISSING") == "1"
    build_book.vendor()
    seconds = build_book.build(allow_missing=allow_missing)
    print(f"book built in {seconds:.0f} s")
    return HTML


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((build_book.BOOK / "_toc.yml").read_text())
    names = build_book._toc_files(toc)
    if os.environ.get("BOOK_ALLOW_MISSING") == "1":
        names = [name for name in names if name not in build_book.missing_sources()]
    return names


def _widget_lessons() -> list[str]:
    """Lessons whose committed notebook carries saved widget state (nbclient stores it)."""
    names = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        if notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state"):
            names.append(f"notebooks/{path.stem}")
    return names


def _course_widget_names() -> tuple[str, ...]:
    """The widgets a lesson displays: every exported widget class of yolo_lesson.widgets but
    the drag surface the playgrounds are made of."""
    import ipywidgets
    import yolo_lesson.widgets as widgets

    return tuple(
        name for name in widgets.__all__
        if isinstance(getattr(widgets, name), type)
        and issubclass(getattr(widgets, name), ipywidgets.DOMWidget)
        and name != "BoxCanvas"
    )


def _course_widget_cells(name: str, recorded: bool | None = None) -> int:
    """How many cells of a lesson show one of the course's interactive widgets (a progress
    bar is a widget too, but needs no kernel note). With ``recorded``, only the cells whose
    displayed widget does (True) or does not (False) carry the ``yolo-recorded`` class in the
    saved widget state."""
    notebook = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)
    models = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    calls = tuple(f"{widget}(" for widget in _course_widget_names())
    count = 0
    for cell in notebook.cells:
        if cell.cell_type != "code" or not any(call in cell.source for call in calls):
            continue
        views = [o["data"][WIDGET_VIEW]["model_id"] for o in cell.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]
        if not views:
            continue
        is_recorded = all(
            "yolo-recorded" in models.get(view, {}).get("state", {}).get("_dom_classes", []) for view in views
        )
        count += recorded is None or recorded == is_recorded
    return count


def test_every_toc_entry_becomes_a_page(site):
    for name in _toc_pages():
        assert (site / f"{name}.html").is_file(), f"{name} is in _toc.yml but was not built"
    # The root redirects to the course's index page.
    assert "book/index.html" in (site / "index.html").read_text()


def test_lessons_are_built_from_the_ipynb_not_the_py_twin(site):
    sources = [p.relative_to(site / "_sources").as_posix() for p in (site / "_sources").rglob("*.*")]
    lessons = [s for s in sources if s.startswith("notebooks/")]
    assert lessons, "no lesson sources in the built site"
    assert all(s.endswith(".ipynb") for s in lessons), f"a .py twin was built: {lessons}"
    # The committed outputs are used: lesson 03's figures are in the page.
    page = (site / "notebooks/03_yolov1_loss.html").read_text()
    assert page.count("<img") >= 3, "lesson 03 lost its figures"


def test_internal_links_resolve_and_nothing_loads_from_another_host(site):
    missing = build_book.missing_sources() if os.environ.get("BOOK_ALLOW_MISSING") == "1" else ()
    assert build_book.check_site(site, missing=missing) == []


def test_link_checker_catches_broken_links_and_remote_scripts(tmp_path):
    # A tiny site with one good link, one broken link, one missing anchor and a CDN script.
    (tmp_path / "a.html").write_text('<p id="here">x</p><a href="b.html#nowhere">b</a>')
    (tmp_path / "b.html").write_text(
        '<a href="a.html#here">ok</a><a href="gone.html">gone</a>'
        '<script src="https://cdn.example.org/x.js"></script>'
    )
    problems = build_book.check_site(tmp_path)
    assert sorted(problems) == sorted([
        "a.html: no anchor #nowhere in b.html",
        "b.html: broken link gone.html",
        "b.html: loads https://cdn.example.org/x.js from another host",
    ])


def test_repository_and_launch_buttons_come_from_the_one_configured_url(site):
    config = yaml.safe_load((build_book.BOOK / "_config.yml").read_text())
    url = config["repository"]["url"].rstrip("/")
    org_repo = url.removeprefix("https://github.com/")
    branch = config["repository"]["branch"]
    page = (site / "notebooks/01_boxes_and_iou.html").read_text().replace("&amp;", "&")
    assert f'href="{url}"' in page, "repository button"
    lesson = "notebooks/01_boxes_and_iou.ipynb"
    binder = f"https://mybinder.org/v2/gh/{org_repo}/{branch}?urlpath=lab/tree/{lesson}"
    colab = f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/{lesson}"
    assert binder in page, "Binder launch button"
    assert colab in page, "Colab launch button"
    # Binder builds from binder/ (repo2docker looks there before the repository root).
    assert (ROOT / "binder" / "environment.yml").is_file()
    assert (ROOT / "binder" / "postBuild").is_file()


def test_math_and_widget_scripts_are_served_by_the_site(site):
    page = (site / "notebooks/03_yolov1_loss.html").read_text()
    assert '_static/vendor/mathjax/tex-mml-chtml.js' in page
    for name in _widget_lessons():
        page = (site / f"{name}.html").read_text()
        scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
        vendor = [s.split("?")[0] for s in scripts if "/vendor/" in s or "course-widgets" in s]
        assert [Path(v).name for v in vendor][-3:] == ["require.js", "course-widgets.js", "embed-amd.js"]
        for script in vendor:
            assert (site / f"{name}.html").parent.joinpath(script).resolve().is_file(), script
        assert WIDGET_STATE in page, f"{name}: the saved widget state is not embedded"


def test_every_course_widget_says_it_needs_a_live_kernel(site):
    for name in _widget_lessons():
        page = (site / f"{name}.html").read_text()
        views = page.count(f'<script type="{WIDGET_VIEW}">')
        assert views > 0, f"{name}: the widget views were not embedded"
        # One note under each cell that shows a course widget.
        assert page.count("live-kernel") == _course_widget_cells(name), f"{name}: a widget without its live-kernel note"
        # Widgets that carry recorded answers say so; the others say they need a kernel.
        assert page.count("live-kernel recorded") == _course_widget_cells(name, recorded=True), name
        assert page.count("live-kernel still") == _course_widget_cells(name, recorded=False), name


# --- in a browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        # Chromium asks the server root for /favicon.ico on its own, whatever the page links
        # (the site's icon is _static/favicon.svg); that request is the browser's, not the site's.
        if self.path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # the browser closing a connection early is not a test failure


@pytest.fixture(scope="module")
def server(site):
    """The built site over HTTP on 127.0.0.1, on a free port, stopped after the module."""
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def _open(browser, url: str):
    """Open a page; return it with its console errors and every request it made."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, errors, requests


def test_index_page_in_a_browser(browser, server):
    page, errors, requests = _open(browser, server)  # the root redirects to book/index.html
    page.wait_for_url("**/book/index.html")
    assert page.locator("h1").first.inner_text().startswith("YOLO loss, from scratch")
    assert page.locator("table.course-map tbody tr").count() == 9
    assert errors == []
    assert [u for u in requests if not is_local(u)] == []
    page.close()


def test_lesson_03_typesets_its_maths_in_a_browser(browser, server):
    page, errors, requests = _open(browser, server + "notebooks/03_yolov1_loss.html")
    page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
    assert page.locator("mjx-container").count() > 10
    assert errors == []
    assert [u for u in requests if not is_local(u)] == []
    page.close()


@pytest.mark.parametrize("name", _widget_lessons() or [None])
def test_widget_page_renders_its_saved_widgets_in_a_browser(browser, server, name):
    if name is None:
        pytest.skip("no lesson carries saved widget state yet (lessons 01 and 04 will)")
    page, errors, requests = _open(browser, server + f"{name}.html")
    views = page.locator(f'script[type="{WIDGET_VIEW}"]').count()
    # The embedder puts each view in a .widget-subarea next to its script tag.
    page.wait_for_function(
        "n => document.querySelectorAll('.widget-subarea').length >= n", arg=views, timeout=30_000
    )
    rendered = page.eval_on_selector_all(
        ".widget-subarea", "areas => areas.map(a => a.getBoundingClientRect().height)"
    )
    assert len(rendered) == views and all(height > 0 for height in rendered), rendered
    assert page.locator(".live-kernel").count() == _course_widget_cells(name)
    assert errors == []
    assert [u for u in requests if not is_local(u)] == []
    page.close()


# --- the playgrounds on the website ---------------------------------------------------------
# No kernel stands behind the site: the playgrounds show answers recorded ahead of time on a
# grid of centres of one box (yolo_lesson.playground.record_*). A drag snaps to the nearest
# recorded centre; the numbers shown must be the package's for the box at that centre.


def _site_numbers(scope, attribute: str) -> dict[str, float]:
    cells = scope.locator(f"[{attribute}]")
    return {cells.nth(i).get_attribute(attribute): float(cells.nth(i).text_content()) for i in range(cells.count())}


def _site_drag(page, scope, name: str, point: tuple[float, float], offset_px: tuple[float, float]) -> float:
    """Drags box ``name`` from the image point ``point`` by ``offset_px``; returns the
    picture's side in pixels (the drawing scales with the page)."""
    svg = scope.locator("svg.yolo-box-canvas")
    svg.scroll_into_view_if_needed()
    r = svg.bounding_box()
    side = r["width"] - 2  # inside the 1 px border
    start = (r["x"] + 1 + point[0] * side, r["y"] + 1 + point[1] * side)
    page.mouse.move(*start)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(start[0] + offset_px[0] * step / 8, start[1] + offset_px[1] * step / 8)
    page.mouse.up()
    return side


def side_of(scope) -> float:
    """The picture's side on the page, in pixels (it scales with the page; 360 at most)."""
    svg = scope.locator("svg.yolo-box-canvas")
    svg.scroll_into_view_if_needed()
    return svg.bounding_box()["width"] - 2


def _nearest(grid, value: float) -> float:
    return min(grid, key=lambda g: abs(g - value))


@pytest.mark.parametrize("width", [1400, 800])
def test_box_playground_answers_from_recorded_states_on_the_site(browser, server, width):
    from yolo_lesson import playground

    page, errors, requests = _open(browser, server + "notebooks/04_gradients_and_lambda.html")
    page.set_viewport_size({"width": width, "height": 900})
    widget = page.locator(".yolo-box-playground.yolo-recorded").first
    widget.locator("[data-term=total]").wait_for(timeout=30_000)
    assert "drag predictor 1" in widget.locator(".yolo-site-note").inner_text()
    # Only predictor 1 moves here; the sliders are locked (they need a kernel).
    assert widget.locator("g.box[tabindex='0']").count() == 1
    assert widget.evaluate("el => el.classList.contains('yolo-site-locked')")
    # Lesson 04's playground: truth (0.30, 0.28, 0.62, 0.72), predictors (0.34, 0.34, 0.60,
    # 0.66) and (0.10, 0.14, 0.40, 0.44), confidences 0.6, 0.4, class scores 0.7, 0.2, 0.1.
    truth, preds = (0.30, 0.28, 0.62, 0.72), [(0.34, 0.34, 0.60, 0.66), (0.10, 0.14, 0.40, 0.44)]
    xs, ys = playground.centre_grid(preds[0], 0.025)
    old_total = widget.locator("[data-term=total]").text_content()
    # Grab predictor 1 near its bottom-right (inside the object, away from its edges) and drag
    # it 0.125 right and 0.2 up: onto the grid point (0.595, 0.30), half a step from others.
    side = _site_drag(page, widget, "pred0", (0.55, 0.60), (0.125 * side_of(widget), -0.2 * side_of(widget)))
    cx, cy = _nearest(xs, 0.47 + 0.125), _nearest(ys, 0.50 - 0.2)
    assert (round(cx, 4), round(cy, 4)) == (0.595, 0.3)
    page.wait_for_function(
        "([root, v]) => { const el = root.querySelector('[data-box=\"0-x\"]');"
        " return el && Math.abs(parseFloat(el.textContent) - v) < 1e-6; }",
        arg=[widget.element_handle(), round(cx, 4)], timeout=30_000,
    )
    expected = playground.box_playground(truth, [playground.box_at(preds[0], cx, cy), preds[1]],
                                         [0.6, 0.4], [0.7, 0.2, 0.1])
    shown_box = _site_numbers(widget, "data-box")
    assert (shown_box["0-x"], shown_box["0-y"]) == (round(cx, 4), round(cy, 4))
    assert shown_box["0-w"] == 0.26 and shown_box["1-x"] == 0.25  # sizes and the other box kept
    terms = _site_numbers(widget, "data-term")
    assert terms != {} and widget.locator("[data-term=total]").text_content() != old_total
    for name, value in expected.terms.items():
        assert terms[name] == pytest.approx(value, abs=6e-5), name
    grads = _site_numbers(widget, "data-grad")
    for b, g in enumerate(expected.grads):
        for k, value in g.items():
            assert grads[f"{b}-{k}"] == pytest.approx(value, abs=6e-5), (b, k)
    assert _site_numbers(widget, "data-iou")["0"] == pytest.approx(expected.ious[0], abs=6e-5)
    # The arrows moved with the box: predictor 1's centre arrow starts at the new centre.
    arrow = widget.locator('line.arrow[data-name="centre0"]')
    if arrow.count():
        assert float(arrow.get_attribute("x1")) == pytest.approx(cx * 360, abs=0.5)
    folder = os.environ.get("YOLO_SCREENSHOTS")
    if folder:
        widget.scroll_into_view_if_needed()
        page.screenshot(path=str(Path(folder) / f"site-box-playground-{width}.png"))
    assert errors == []
    assert [u for u in requests if not is_local(u)] == []
    page.close()


@pytest.mark.parametrize("width", [1400, 800])
def test_iou_playground_answers_from_recorded_states_on_the_site(browser, server, width):
    from yolo_lesson import playground

    page, errors, requests = _open(browser, server + "notebooks/01_boxes_and_iou.html")
    page.set_viewport_size({"width": width, "height": 900})
    widget = page.locator(".yolo-iou-playground.yolo-recorded").first
    widget.locator("[data-value=iou]").wait_for(timeout=30_000)
    assert "drag the prediction" in widget.locator(".yolo-site-note").inner_text()
    target, pred = (0.20, 0.25, 0.55, 0.60), (0.45, 0.40, 0.85, 0.80)
    xs, ys = playground.centre_grid(pred, 0.02)
    # Grab the prediction outside the target and drag it 0.3 left and 0.1 down: onto the
    # grid point (0.35, 0.70).
    _site_drag(page, widget, "pred", (0.75, 0.70), (-0.3 * side_of(widget), 0.1 * side_of(widget)))
    cx, cy = _nearest(xs, 0.65 - 0.3), _nearest(ys, 0.60 + 0.1)
    expected = playground.iou_playground(target, playground.box_at(pred, cx, cy))
    page.wait_for_function(
        "([root, v]) => { const el = root.querySelector('[data-loss=\"giou\"]');"
        " return el && Math.abs(parseFloat(el.textContent) - v) < 6e-5; }",
        arg=[widget.element_handle(), expected.losses["giou"]], timeout=30_000,
    )
    for attribute, numbers in (("data-value", expected.values), ("data-loss", expected.losses)):
        shown = _site_numbers(widget, attribute)
        for name, value in numbers.items():
            assert shown[name] == pytest.approx(value, abs=6e-5), (attribute, name)
    body = widget.locator('.box[data-name="pred"] .box-body')
    assert float(body.get_attribute("x")) == pytest.approx((cx - 0.2) * 360, abs=0.01)
    assert widget.locator("line.arrow").count() >= 2
    folder = os.environ.get("YOLO_SCREENSHOTS")
    if folder:
        widget.scroll_into_view_if_needed()
        page.screenshot(path=str(Path(folder) / f"site-iou-playground-{width}.png"))


# --- the λ explorer on the website ---------------------------------------------------------
# No kernel behind the page: the explorer carries every state of its slider grid and looks
# them up. Moving the sliders must show the package's numbers for the λ shown.

LAMBDA_PAGE = "notebooks/04_gradients_and_lambda.html"


def _lambda_expected(lambda_coord: float, lambda_noobj: float):
    from yolo_lesson import playground

    # Lesson 04 builds the explorer on make_lambda_batch(N=16, seed=0).
    batch = playground.make_lambda_batch(N=16, seed=0)
    return playground.rounded_view(playground.lambda_explorer(batch, lambda_coord, lambda_noobj))


def _lambda_shown(page) -> tuple[tuple[float, float], dict[str, float], dict[str, float]]:
    root = page.locator(".yolo-lambda-explorer .yolo-lambda")
    lambdas = (float(root.get_attribute("data-lambda-coord")), float(root.get_attribute("data-lambda-noobj")))
    read = lambda attr: {  # noqa: E731
        c.get_attribute(attr): float(c.text_content()) for c in root.locator(f"[{attr}]").all()
    }
    return lambdas, read("data-term"), read("data-grad-norm")


def _lambda_drawn(page, lambda_coord: float, lambda_noobj: float) -> None:
    page.wait_for_function(
        "([lc, ln]) => { const el = document.querySelector('.yolo-lambda-explorer .yolo-lambda');"
        " return Number(el.dataset.lambdaCoord) === lc && Number(el.dataset.lambdaNoobj) === ln; }",
        arg=[lambda_coord, lambda_noobj], timeout=10_000,
    )


def _lambda_matches_package(page) -> tuple[float, float]:
    (lc, ln), terms, norms = _lambda_shown(page)
    view = _lambda_expected(lc, ln)
    assert terms == view.terms, (lc, ln)
    assert norms == view.grad_norms, (lc, ln)
    return lc, ln


@pytest.mark.parametrize("width", [1400, 800])
def test_lambda_explorer_answers_on_the_website(browser, server, width):
    from test_browser_lambda import ROUND_TRIP_JS, round_trip_figures

    page, errors, requests = _open(browser, server + LAMBDA_PAGE)
    page.set_viewport_size({"width": width, "height": 900})
    widget = page.locator(".yolo-lambda-explorer")
    page.wait_for_function(
        "() => { const el = document.querySelector('.yolo-lambda-explorer .yolo-lambda');"
        " return el && el.dataset.lambdaCoord !== undefined; }", timeout=30_000,
    )
    assert "yolo-recorded" in widget.get_attribute("class")
    widget.scroll_into_view_if_needed()
    # The saved view is the paper's λ; its numbers are the package's.
    assert _lambda_matches_package(page) == (5.0, 0.5)

    # Nothing collapses or spills out of the page's article.
    geometry = widget.evaluate(
        """el => {
          const article = el.closest('article, main') || document.body;
          const edge = Math.min(article.getBoundingClientRect().right, window.innerWidth);
          return {
            sliders: [...el.querySelectorAll('input[type=range]')].map(i => i.getBoundingClientRect().width),
            overflowing: [el, ...el.querySelectorAll('*')]
              .filter(e => e instanceof HTMLElement && e.scrollWidth > e.clientWidth + 1).map(e => e.className),
            outside: [...el.querySelectorAll('input, svg, table, .legend')]
              .filter(e => e.getBoundingClientRect().right > edge + 0.5).map(e => e.tagName),
          };
        }"""
    )
    assert len(geometry["sliders"]) == 2 and min(geometry["sliders"]) >= 150, geometry
    assert geometry["overflowing"] == [] and geometry["outside"] == [], geometry
    if os.environ.get("YOLO_SCREENSHOTS"):
        folder = Path(os.environ["YOLO_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        widget.screenshot(path=str(folder / f"site-lambda-explorer-{width}.png"))
        page.screenshot(path=str(folder / f"site-lambda-page-{width}.png"))

    # The keyboard: λ_noobj three steps up, 0.5 -> 0.65, looked up at once.
    noobj = widget.locator('input[data-slider="lambda_noobj"]')
    noobj.focus()
    for _ in range(3):
        noobj.press("ArrowRight")
    _lambda_drawn(page, 5.0, 0.65)
    assert _lambda_matches_package(page) == (5.0, 0.65)

    # A mouse drag on λ_coord: while the button is down the numbers follow the slider.
    coord = widget.locator('input[data-slider="lambda_coord"]')
    box = coord.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(box["x"] + box["width"] * (0.25 + 0.05 * step), y)
    middle = float(coord.input_value())
    _lambda_drawn(page, middle, 0.65)
    assert _lambda_matches_package(page) == (middle, 0.65)
    page.mouse.up()
    assert 0 < middle < 20 and middle != 5.0

    # The look-up time, slider input to redraw (printed with -s, never asserted).
    values = [round(0.05 * k, 2) for k in range(41)]
    times = page.evaluate(ROUND_TRIP_JS, [".yolo-lambda-explorer", values[:13] + values[14:]])
    print(f"\nλ explorer on the website, slider → redraw (look-up): {round_trip_figures(times)}")
    assert _lambda_matches_package(page) == (middle, 2.0)
    if os.environ.get("YOLO_SCREENSHOTS"):
        widget.screenshot(path=str(Path(os.environ["YOLO_SCREENSHOTS"]) / f"site-lambda-explorer-moved-{width}.png"))
    assert errors == []
    assert [u for u in requests if not is_local(u)] == []
    page.close()


# --- the descent replay on the website ---


@pytest.mark.parametrize("width", [1400, 800])
def test_descent_replay_scrubs_on_the_website_without_a_kernel(browser, server, width):
    from test_browser_descent import check_replay

    page, errors, requests = _open(browser, server + "notebooks/08_beyond_v1.html")
    page.wait_for_selector(".yolo-recorded .yolo-descent, .yolo-recorded.yolo-descent-replay .yolo-descent", timeout=30_000)
    shots = os.environ.get("YOLO_SCREENSHOTS")
    check_replay(page, width, shots and str(Path(shots) / "site"))
    assert errors == []
    assert [u for u in requests if not is_local(u)] == []
    page.close()
    if shots:  # the landscape figures of lessons 04 and 08, as the site shows them
        for lesson, alt, name in (("08_beyond_v1", "flat plateau", "iou-family"),
                                  ("04_gradients_and_lambda", "responsibility switches to predictor 2", "v1-centre"),
                                  ("04_gradients_and_lambda", "arrows pointing towards it", "v1-size")):
            page, _, _ = _open(browser, server + f"notebooks/{lesson}.html")
            page.set_viewport_size({"width": width, "height": 900})
            figure = page.locator(f'img[alt*="{alt}"]').first
            figure.scroll_into_view_if_needed()
            figure.screenshot(path=str(Path(shots) / "site" / f"figure-{name}-{width}.png"))
            page.close()


# --- the training replay on the website ---


REPLAY_LESSON = "notebooks/06_training_a_tiny_yolo"
SHOTS = Path(os.environ.get("YOLO_SHOTS", "")) if os.environ.get("YOLO_SHOTS") else None


def _recorded_replay() -> dict:
    """The recording saved with lesson 06's TrainingReplay (its synced ``recording`` trait)."""
    notebook = nbformat.read(ROOT / f"{REPLAY_LESSON}.ipynb", as_version=4)
    states = notebook.metadata["widgets"][WIDGET_STATE]["state"].values()
    recordings = [s["state"]["recording"] for s in states if "frames" in s["state"].get("recording", {})]
    assert len(recordings) == 1, "lesson 06 must save exactly one training replay"
    return recordings[0]


def _replay_page(browser, server, width: int):
    page, errors, requests = _open(browser, server + f"{REPLAY_LESSON}.html")
    page.set_viewport_size({"width": width, "height": 900})
    replay = page.locator(".yolo-training-replay")
    replay.locator(".yolo-replay-step").wait_for(timeout=30_000)
    return page, replay, errors, requests


@pytest.mark.parametrize("width", [1400, 800])
def test_the_training_replay_scrubs_to_the_recorded_numbers_on_the_site(browser, server, width):
    recording = _recorded_replay()
    frames, steps = recording["frames"], recording["steps"]
    page, replay, errors, requests = _replay_page(browser, server, width)
    assert "yolo-recorded" in replay.get_attribute("class")  # it answers without a kernel
    slider = replay.locator("input.yolo-replay-slider")
    for index in (0, 1, len(frames) // 2, len(frames) - 1):
        slider.fill(str(index))  # as a learner drags it: an input event per position
        step = frames[index]["step"]
        expect_step = replay.locator(f'.yolo-replay-step[data-step="{step}"]')
        expect_step.wait_for(timeout=10_000)
        counts = ",".join(str(len(d)) for d in frames[index]["detections"])
        assert replay.locator(".yolo-replay-found").get_attribute("data-detections") == counts
        assert replay.locator("g.detection").count() == sum(len(d) for d in frames[index]["detections"])
        shown = {name: replay.locator(f'td[data-term="{name}"]').text_content() for name in recording["term_names"]}
        if step in steps:  # the loss the training loop logged at this step, to 4 digits
            at = steps.index(step)
            for name, text in shown.items():
                assert float(text) == pytest.approx(recording["terms"][name][at], rel=1e-3), (step, name)
        else:  # the untrained network: no step taken yet
            assert set(shown.values()) == {"–"}
        # the objectness map: one number per cell and image, as recorded
        values = replay.locator("text.objectness-value").all_text_contents()
        assert values == [f"{v:.2f}" for grid in frames[index]["objectness"] for v in grid]
    # Play runs through the recorded steps, then pause stops it.
    slider.fill("0")
    replay.locator("button.yolo-replay-play").click()
    page.wait_for_function(
        "() => Number(document.querySelector('.yolo-training-replay .yolo-replay-step').dataset.step) >= 50",
        timeout=20_000,
    )
    replay.locator("button.yolo-replay-play").click()
    # Layout: the scrubber has width, nothing is clipped, the widget fits the page.
    assert slider.bounding_box()["width"] >= 150
    box = replay.bounding_box()
    assert box["x"] + box["width"] <= width
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('.yolo-training-replay, .yolo-training-replay *')]"
        ".filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible').length"
    )
    assert clipped == 0
    replay.evaluate("e => e.scrollIntoView({block: 'start'})")
    if width == 1400:  # the pictures and the numbers in one view
        for part in (".yolo-replay-images", ".yolo-replay-readout", ".yolo-replay-controls"):
            area = replay.locator(part).bounding_box()
            assert area["y"] >= 0 and area["y"] + area["height"] <= 900, (part, area)
    if SHOTS is not None:
        page.screenshot(path=str(SHOTS / f"site-training-replay-{width}.png"))


# --- the bug toggles on the website ---


def _ablation_table() -> dict:
    """benchmarks/ablations.csv as {variant: {"mean", "std", "seeds": [map50 per seed]}}, strings."""
    import csv

    with (ROOT / "benchmarks" / "ablations.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = {}
    for row in rows:
        entry = table.setdefault(row["variant"], {"seeds": []})
        if row["seed"] == "all":
            entry.update(mean=row["mean"], std=row["std"])
        else:
            entry["seeds"].append(row["map50"])
    return table


@pytest.mark.parametrize("width", [1400, 800])
def test_bug_toggles_show_the_recorded_mAPs_on_the_static_site(browser, server, width):
    from playwright.sync_api import expect

    from yolo_lesson.ablation_view import TOGGLES

    table = _ablation_table()
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server + "notebooks/05_what_goes_wrong.html", wait_until="load")
    root = page.locator(".yolo-ablations")
    expect(root).to_have_count(1, timeout=30_000)
    expect(root.locator("svg[data-term]")).to_have_count(5)
    root.scroll_into_view_if_needed()
    for name, label in TOGGLES.items():
        button = root.locator(f'button[data-variant="{name}"]')
        expect(button).to_have_text(label)
        button.click()
        expect(root).to_have_attribute("data-variant", name)
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(root.locator('button[aria-pressed="true"]')).to_have_count(1)
        for role, variant in (("variant", name), ("paper", "paper")):
            expect(root.locator(f'[data-map="{role}-mean"]')).to_have_text(table[variant]["mean"])
            expect(root.locator(f'[data-map="{role}-sd"]')).to_have_text(table[variant]["std"])
            for seed, value in enumerate(table[variant]["seeds"]):
                expect(root.locator(f'[data-map="{role}-seed-{seed}"]')).to_have_text(value)
    # Keyboard: Tab reaches the buttons and Enter (Space) presses one.
    first = root.locator("button").first
    first.focus()
    page.keyboard.press("Enter")
    expect(root).to_have_attribute("data-variant", next(iter(TOGGLES)))
    # Nothing collapses or clips: every button has width, the view fits its cell and the window.
    widths = root.locator("button").evaluate_all("bs => bs.map(b => b.getBoundingClientRect().width)")
    assert all(w > 40 for w in widths), widths
    fits = root.evaluate(
        "r => { const b = r.getBoundingClientRect(); const cell = r.closest('.cell_output') || r.parentElement;"
        " return [r.scrollWidth <= r.clientWidth, b.right <= window.innerWidth,"
        " b.right <= cell.getBoundingClientRect().right + 1,"
        " [...r.querySelectorAll('table, svg')].every(e => e.getBoundingClientRect().right <= b.right + 1)]; }"
    )
    assert fits == [True, True, True, True], fits
    if width == 1400:
        # The numbers and the first row of curves in one view.
        root.locator("table").evaluate("t => t.scrollIntoView({block: 'start'})")
        inside = page.evaluate(
            "() => [document.querySelector('.yolo-ablations table'), document.querySelector('.yolo-ablations svg[data-term]')]"
            ".map(e => { const b = e.getBoundingClientRect(); return b.top >= 0 && b.bottom <= window.innerHeight; })"
        )
        assert inside == [True, True], inside
    assert errors == []
    assert [u for u in requests if not is_local(u)] == []
    page.close()
