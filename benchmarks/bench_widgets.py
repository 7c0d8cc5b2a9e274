"""The widgets' speed: what one drag event costs in Python, and the browser round trip.

Python side: each drag event makes the browser send new box corners; the widget then calls
``playground.box_playground`` (the loss, four autograd calls), renders its readout and sets
its traits. We time the state function alone and the whole update, over a scripted drag.
Browser side (skipped with ``--quick`` or without Chromium): JupyterLab on 127.0.0.1 with
lesson 04, the predicted box dragged by pointer events dispatched in the page, timed from the
event to the moment the readout shows the new total. Website side (skipped with ``--quick``,
without Chromium or without a built site in book/_build/html): lesson 04's page served on
127.0.0.1, the same drags, timed from the event to the recorded numbers shown. Targets: ≤ 5 ms
median in Python, ≤ 100 ms median round trip, ≤ 16 ms (one frame) median look-up on the site.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from table import Options, Row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

SECTION = "widgets"
LESSON = ROOT / "notebooks" / "04_gradients_and_lambda.ipynb"


def _drag_path(steps: int) -> list[tuple[float, float, float, float]]:
    """Predicted-box corners along a drag: a small circle around the starting box."""
    import math

    x1, y1, x2, y2 = 0.34, 0.34, 0.60, 0.66
    path = []
    for k in range(steps):
        dx, dy = 0.05 * math.cos(k / 5), 0.05 * math.sin(k / 5)
        path.append((x1 + dx, y1 + dy, x2 + dx, y2 + dy))
    return path


def _stats(times_s: list[float]) -> tuple[float, float]:
    ordered = sorted(times_s)
    return 1000 * statistics.median(ordered), 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _python_rows(options: Options) -> list[Row]:
    from yolo_lesson import playground
    from yolo_lesson.widgets import BoxPlayground, IoUPlayground

    steps = 60 if options.quick else 300
    path = _drag_path(steps)
    truth, other = (0.30, 0.28, 0.62, 0.72), (0.10, 0.14, 0.40, 0.44)
    rows = []

    def timed(step) -> list[float]:
        step(path[0])  # warm-up
        times = []
        for box in path:
            start = time.perf_counter()
            step(box)
            times.append(time.perf_counter() - start)
        return times

    box_canvas, iou_canvas = BoxPlayground().canvas, IoUPlayground().canvas
    state = timed(lambda box: playground.box_playground(truth, [box, other], [0.6, 0.4], [0.7, 0.2, 0.1]))
    # move_box does what a message from the browser does: set the canvas's boxes trait.
    whole = timed(lambda box: box_canvas.move_box(1, box))
    iou_times = timed(lambda box: iou_canvas.move_box(1, box))
    for case, times in (
        ("box playground: state function per drag event", state),
        ("box playground: whole widget update per drag event", whole),
        ("IoU playground: whole widget update per drag event", iou_times),
    ):
        median, p95 = _stats(times)
        rows.append(Row(SECTION, case, "all", median, f"p95 {p95:.2f} ms", "<= 5 ms median",
                        "ok" if median <= 5 else "MISSED", note="" if "whole" not in case else
                        "state function + readout HTML + trait updates, no browser attached"))
    return rows


ROUND_TRIP_JS = """
async ([count]) => {
  const root = document.querySelector('.yolo-box-playground');
  const body = root.querySelector('.box[data-name="pred0"] .box-body');
  const svg = root.querySelector('svg.yolo-box-canvas');
  const times = [];
  for (let k = 0; k < count; k++) {
    const r = body.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    // 9 px right, then back: 0.025 of the image (one recorded grid step on the website).
    const dx = (k % 2 ? -1 : 1) * 9 * svg.getBoundingClientRect().width / 362;
    const before = root.querySelector('[data-term="total"]').textContent;
    const changed = new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        const now = root.querySelector('[data-term="total"]');
        if (now && now.textContent !== before) { observer.disconnect(); resolve(true); }
      });
      observer.observe(root, { subtree: true, childList: true, characterData: true });
      setTimeout(() => { observer.disconnect(); resolve(false); }, 5000);
    });
    const t0 = performance.now();
    const opts = { bubbles: true, pointerId: 1, isPrimary: true };
    body.dispatchEvent(new PointerEvent('pointerdown', { ...opts, clientX: x, clientY: y }));
    svg.dispatchEvent(new PointerEvent('pointermove', { ...opts, clientX: x + dx, clientY: y }));
    svg.dispatchEvent(new PointerEvent('pointerup', { ...opts, clientX: x + dx, clientY: y }));
    if (await changed) times.push(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  return times;
}
"""


def _browser_rows(options: Options) -> list[Row]:
    from browser_support import jupyter_lab, launch, missing_chromium, run_notebook_in_lab

    if options.quick:
        return [Row(SECTION, "browser round trip, drag -> new numbers", note="skipped with --quick")]
    reason = missing_chromium()
    if reason:
        return [Row(SECTION, "browser round trip, drag -> new numbers", note=f"skipped: {reason}")]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, jupyter_lab(Path(folder), LESSON) as url, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            run_notebook_in_lab(page, url, ".yolo-box-playground [data-term=total]")
            page.locator(".yolo-box-playground .yolo-box-canvas").first.scroll_into_view_if_needed()
            times = page.evaluate(ROUND_TRIP_JS, [10 if options.quick else 60])
        finally:
            browser.close()
    if not times:
        return [Row(SECTION, "browser round trip, drag -> new numbers", note="no drag changed the numbers within 5 s")]
    median, p95 = _stats([t / 1000 for t in times])
    return [Row(SECTION, "browser round trip, drag -> new numbers (JupyterLab, Chromium)", "all", median,
                f"p95 {p95:.0f} ms", "<= 100 ms median", "ok" if median <= 100 else "MISSED",
                note=f"{len(times)} drags; pointer event in the page to the readout showing the new total")]


def _site_rows(options: Options) -> list[Row]:
    import functools
    import http.server
    import threading

    from browser_support import launch, missing_chromium

    case = "website look-up, drag -> recorded numbers shown (no kernel)"
    site = ROOT / "book" / "_build" / "html"
    page_path = site / "notebooks" / "04_gradients_and_lambda.html"
    if options.quick:
        return [Row(SECTION, case, note="skipped with --quick")]
    reason = missing_chromium() or (None if page_path.exists() else "no built site: run tools/build_book.py")
    if reason:
        return [Row(SECTION, case, note=f"skipped: {reason}")]
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as p:
            browser = launch(p)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/notebooks/04_gradients_and_lambda.html")
                page.wait_for_selector(".yolo-box-playground.yolo-recorded [data-term=total]", timeout=60_000)
                page.locator(".yolo-box-playground .yolo-box-canvas").first.scroll_into_view_if_needed()
                times = page.evaluate(ROUND_TRIP_JS, [60])
            finally:
                browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    if not times:
        return [Row(SECTION, case, note="no drag changed the numbers within 5 s")]
    median, p95 = _stats([t / 1000 for t in times])
    return [Row(SECTION, case + " (Chromium)", "all", median, f"p95 {p95:.1f} ms", "<= 16 ms median",
                "ok" if median <= 16 else "MISSED",
                note=f"{len(times)} drags; pointer event to the readout showing the recorded total")]


def section(options: Options) -> list[Row]:
    return _python_rows(options) + _browser_rows(options) + _site_rows(options)


if __name__ == "__main__":
    from run import main

    sys.exit(main(["--only", SECTION, *sys.argv[1:]]))
