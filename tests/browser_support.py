"""What the browser tests (and the widget benchmark) share: Debian's Chromium launched by
Playwright with the flags this project allows, the loopback check for requests, and a
JupyterLab server started on 127.0.0.1 and stopped by its PID.

No browser is ever downloaded: Playwright drives the system Chromium through
``executable_path``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
LAB_TOKEN = "yolo-lesson-browser-test"


def missing_chromium() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: install Debian's chromium package (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


def require_chromium() -> None:
    """Skips the calling test when Chromium is missing; in CI (CI set) fails instead."""
    import pytest

    reason = missing_chromium()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def launch(playwright):
    """Debian's Chromium, headless, with the project's flags."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def is_local(url: str) -> bool:
    """True for loopback addresses and for URLs a page makes itself (data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True  # anywidget imports its module from a blob: URL
    try:
        return ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return parts.hostname == "localhost"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Ends a server this test started (by its own handle): politely, then firmly after 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def jupyter_lab(folder: Path, notebook: Path, timeout: float = 90) -> Iterator[str]:
    """Copies ``notebook`` into ``folder`` (the lab autosaves: never into the repository),
    starts JupyterLab there on 127.0.0.1 and yields the notebook's URL, token included."""
    shutil.copy(notebook, folder / notebook.name)
    # Lab settings for a test: render every cell (JupyterLab 4 otherwise detaches off-screen
    # cells and re-measures them while scrolling, which moves a widget under the mouse) and
    # no news prompt.
    settings = folder / "lab-settings"
    for plugin, values in {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false"},
    }.items():
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
        "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", f"--IdentityProvider.token={LAB_TOKEN}",
        f"--ServerApp.root_dir={folder}", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={settings}",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses root without it
    log_path = folder / "lab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"JupyterLab exited: {log_path.read_text()[-2000:]}")
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start within {timeout:.0f} s")
                time.sleep(0.3)
            yield f"http://127.0.0.1:{port}/lab/tree/{notebook.name}?token={LAB_TOKEN}"
        finally:
            stop(server)


def run_notebook_in_lab(page, url: str, ready_selector: str, timeout_ms: int = 180_000) -> None:
    """Opens the notebook, waits for its kernel, runs every cell as a learner would and waits
    until ``ready_selector`` is in the page."""
    page.goto(url)
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=timeout_ms)
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return k && k.status === 'idle'; }",
        timeout=timeout_ms,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector(ready_selector, timeout=timeout_ms)
    # Wait for the last cell too: while cells run, JupyterLab scrolls to follow them, and a
    # mouse aimed at a widget would land somewhere else.
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " const cells = w.content.widgets.filter(c => c.model.type === 'code');"
        " const k = w.sessionContext.session.kernel;"
        " return k.status === 'idle' && cells.every(c => c.model.executionCount !== null); }",
        timeout=timeout_ms,
    )
    wait_until_still(page)


# True once the notebook's scroll position and the ready widget's place held for three
# animation frames in a row (polled every frame): JupyterLab has stopped following the cells.
_STILL_JS = """
() => {
  const nb = window.jupyterapp.shell.currentWidget.content.node;
  const now = nb.scrollTop + ',' + nb.scrollHeight;
  const s = window.__yoloStill || (window.__yoloStill = { last: null, count: 0 });
  s.count = now === s.last ? s.count + 1 : 0;
  s.last = now;
  return s.count >= 3;
}
"""


def wait_until_still(page, timeout_ms: int = 30_000) -> None:
    """Waits until the notebook stops scrolling and growing (a condition, not a timer)."""
    page.evaluate("() => { window.__yoloStill = null; }")
    page.wait_for_function(_STILL_JS, polling="raf", timeout=timeout_ms)


def after_layout(page) -> None:
    """Returns once the browser has laid out and painted twice (after a viewport change)."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
