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


COURSE_WIDGETS = ("IoUPlayground(", "BoxPlayground(", "LambdaExplorer(", "AblationToggles(")


def _course_widget_cells(name: str) -> int:
    """How many cells of a lesson show one of the course's interactive widgets (a progress
    bar is a widget too, but needs no kernel note)."""
    notebook = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)
    return sum(
        any(w in cell.source for w in COURSE_WIDGETS)
        and any(WIDGET_VIEW in output.get("data", {}) for output in cell.get("outputs", []))
        for cell in notebook.cells
        if cell.cell_type == "code"
    )


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
