"""`make lab` as a learner meets it: JupyterLab started with the Makefile's own flags prints
lesson 00's address (not the Launcher's) and lists each lesson once, as a notebook.

The server runs on 127.0.0.1 with a free port and is stopped by its PID."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from browser_support import free_port, stop

ROOT = Path(__file__).resolve().parents[1]


def _lab_flags() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    first = re.search(r"^FIRST_LESSON := (\S+)", makefile, re.M).group(1)
    hide = re.search(r"^LAB_HIDE := (.+)$", makefile, re.M).group(1)
    recipe = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    recipe = (recipe.replace("$(dir $(FIRST_LESSON))", str(ROOT / Path(first).parent))
              .replace("$(notdir $(FIRST_LESSON))", Path(first).name)
              .replace("'$(LAB_HIDE)'", hide))
    flags = re.findall(r"(--[\w.]+=(?:\[[^\]]*\]|\S+))", recipe)
    assert any(f.startswith("--LabApp.default_url=") for f in flags), recipe
    assert "--ServerApp.ip=127.0.0.1" in flags  # loopback only
    return flags


def test_lab_prints_lesson_00_and_lists_the_lessons_once(tmp_path):
    port = free_port()
    log_path = tmp_path / "lab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", *_lab_flags()]
    if __import__("os").geteuid() == 0:
        command.append("--allow-root")
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 90
            while not re.search(r"http://127\.0\.0\.1:\d+/\S*token=\w+", log_path.read_text()):
                assert server.poll() is None, log_path.read_text()[-2000:]
                assert time.monotonic() < deadline, "JupyterLab printed no address within 90 s"
                time.sleep(0.3)
            url = re.search(r"http://127\.0\.0\.1:\d+/\S*token=\w+", log_path.read_text()).group(0)
            # The address a learner copies opens lesson 00 itself.
            assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/lab/tree/00_start_here\.ipynb\?token=\w+", url), url
            token = url.rsplit("token=", 1)[1]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/?token={token}") as answer:
                names = sorted(item["name"] for item in json.load(answer)["content"])
        finally:
            stop(server)
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    # Each lesson once, as its notebook; the .py twins and the Jupytext settings stay hidden.
    assert [n for n in names if n.endswith(".ipynb")] == lessons
    assert not [n for n in names if n.endswith(".py") or n == "jupytext.toml"], names
