"""The λ explorer's speed: one slider answer in Python, the recording of the whole grid, the
slider → redraw round trip in JupyterLab and the look-up on the website.

Python side: ``playground.lambda_explorer`` (the loss and four autograd calls on lesson 04's
batch of 16 images) against the whole widget update that a browser request triggers, and
``playground.record_lambda_explorer`` (1,681 states) against 1,681 calls of the state function.
Browser side (skipped with ``--quick`` or without Chromium): lesson 04 in JupyterLab, the
λ_noobj slider moved through its 40 steps by input events dispatched in the page, timed from
the event to the redraw; then the same on the built website (``tools/build_book.py``; skipped
when book/_build/html is missing), where the slider looks up the recorded state.

    .venv/bin/python benchmarks/bench_lambda.py [--quick]
"""

from __future__ import annotations

import functools
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from table import Options, Row, render

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

SECTION = "λ explorer"
LESSON = ROOT / "notebooks" / "04_gradients_and_lambda.ipynb"
SITE = ROOT / "book" / "_build" / "html"
SLIDER_VALUES = [round(0.05 * k, 2) for k in range(1, 41)]  # λ_noobj 0.05 .. 2.00


def _stats(times_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(times_ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _python_rows(options: Options) -> list[Row]:
    from yolo_lesson import playground
    from yolo_lesson.widgets import LambdaExplorer

    batch = playground.make_lambda_batch(N=16, seed=0)
    widget = LambdaExplorer(batch)
    steps = 20 if options.quick else 80
    state, whole = [], []
    for k in range(steps):
        noobj = SLIDER_VALUES[k % len(SLIDER_VALUES)]
        start = time.perf_counter()
        playground.lambda_explorer(batch, 5.0, noobj)
        state.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        widget.set_state({"lambda_noobj": noobj, "seq": k + 1})  # what a browser request does
        whole.append(1000 * (time.perf_counter() - start))
    start = time.perf_counter()
    playground.record_lambda_explorer(batch)
    record = 1000 * (time.perf_counter() - start)
    grid = len(playground.LAMBDA_COORD_GRID) * len(playground.LAMBDA_NOOBJ_GRID)
    state_median, state_p95 = _stats(state)
    whole_median, whole_p95 = _stats(whole)
    return [
        Row(SECTION, "state function per slider answer", "all", state_median, f"p95 {state_p95:.2f} ms"),
        Row(SECTION, "whole widget update per browser request", "all", whole_median, f"p95 {whole_p95:.2f} ms",
            "<= 20 ms median", "ok" if whole_median <= 20 else "MISSED", note="no browser attached"),
        Row(SECTION, f"recording the {grid}-state grid", "all", record,
            f"{grid * state_median / record:.0f}x faster than {grid} state-function calls"),
    ]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


ROUND_TRIP_NOTE = "input event in the page to the redraw of the new state"


def _measure(page, where: str) -> Row:
    from test_browser_lambda import ROUND_TRIP_JS

    times = page.evaluate(ROUND_TRIP_JS, [".yolo-lambda-explorer", SLIDER_VALUES])
    median, p95 = _stats(times)
    return Row(SECTION, f"slider -> redraw, {where}", "all", median, f"p95 {p95:.1f} ms",
               note=f"{len(times)} moves; {ROUND_TRIP_NOTE}")


def _browser_rows(options: Options) -> list[Row]:
    from browser_support import jupyter_lab, launch, missing_chromium, run_notebook_in_lab

    if options.quick:
        return [Row(SECTION, "slider -> redraw in a browser", note="skipped with --quick")]
    reason = missing_chromium()
    if reason:
        return [Row(SECTION, "slider -> redraw in a browser", note=f"skipped: {reason}")]
    from playwright.sync_api import sync_playwright

    rows = []
    ready = "() => { const el = document.querySelector('.yolo-lambda-explorer .yolo-lambda');" \
            " return el && el.dataset.lambdaCoord !== undefined; }"
    with sync_playwright() as p:
        browser = launch(p)
        try:
            with tempfile.TemporaryDirectory() as folder, jupyter_lab(Path(folder), LESSON) as url:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                run_notebook_in_lab(page, url, ".yolo-lambda-explorer [data-term=total]")
                page.wait_for_function(ready, timeout=60_000)
                rows.append(_measure(page, "JupyterLab (kernel answers)"))
                page.close()
            if not (SITE / "notebooks" / "04_gradients_and_lambda.html").is_file():
                rows.append(Row(SECTION, "slider -> redraw, website", note="skipped: build the site first"))
                return rows
            handler = functools.partial(_Quiet, directory=str(SITE))
            httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            thread = threading.Thread(target=httpd.serve_forever, daemon=True)
            thread.start()
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/notebooks/04_gradients_and_lambda.html")
                page.wait_for_function(ready, timeout=60_000)
                rows.append(_measure(page, "website (recorded look-up)"))
                page.close()
            finally:
                httpd.shutdown()
                httpd.server_close()
        finally:
            browser.close()
    return rows


def section(options: Options) -> list[Row]:
    return _python_rows(options) + _browser_rows(options)


if __name__ == "__main__":
    print(render(section(Options(quick="--quick" in sys.argv))))
