"""A lesson run as on Google Colab: a fresh virtual environment that holds what Colab
provides (Python, torch, ipykernel, ipywidgets 7.7.1 with the classic notebook) and a
stand-in ``google.colab`` module; the lesson's first code cell must then install the course
from the repository with its light ``widgets`` extra, and every cell, widgets included,
must run.

The stand-in makes ``import google.colab`` succeed and records whether the widgets asked
for Colab's custom widget manager (anywidget does, so that third-party widgets display).
Git fetches the repository URL from this checkout (``url.<checkout>.insteadOf``), so the
install cell runs exactly as written, on the committed code, without leaving the machine.

Slow (a new environment: a minute or two); skipped outside CI when the package index is
not reachable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "04_gradients_and_lambda.py"
REPOSITORY = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())["repository"]["url"]
# Colab's ipywidgets is 7.7.1 (seen there when the Colab cell was designed); its
# widgetsnbextension 3.6 needs the classic notebook, kept below 7, which would bring JupyterLab.
COLAB_PACKAGES = ["ipywidgets==7.7.1", "notebook<7", "ipykernel", "nbclient"]

STAND_IN = '''\
"""A stand-in for Colab's module: present, so the lessons' install cell runs."""
'''
STAND_IN_OUTPUT = '''\
"""Colab's output helpers, as far as the widgets use them."""
import os
from pathlib import Path


class _widgets:
    _installed_url = "https://colab.example/custom-widget-manager.js"


def enable_custom_widget_manager():
    Path(os.environ["COLAB_STAND_IN_LOG"]).write_text("custom widget manager enabled")
'''

DRIVER = '''\
import sys
import nbformat
from nbclient import NotebookClient

notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=900, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(notebook, sys.argv[2])
'''


def _pip_reachable() -> bool:
    import socket

    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def test_a_lesson_with_widgets_runs_on_a_colab_like_kernel(tmp_path):
    if not _pip_reachable():
        if os.environ.get("CI"):
            pytest.fail("the package index is not reachable")
        pytest.skip("the package index is not reachable")
    env_dir = tmp_path / "colab-venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # torch from the same pin as the course; the rest as Colab has them. No yolo-lesson yet.
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "torch==2.13.0", *COLAB_PACKAGES],
        check=True, capture_output=True, text=True,
    )

    stand_in = tmp_path / "stand-in"
    (stand_in / "google" / "colab").mkdir(parents=True)
    (stand_in / "google" / "__init__.py").write_text("")
    (stand_in / "google" / "colab" / "__init__.py").write_text(STAND_IN + "from . import output  # noqa\n")
    (stand_in / "google" / "colab" / "output.py").write_text(STAND_IN_OUTPUT)
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f'[url "{ROOT.as_uri()}"]\n\tinsteadOf = {REPOSITORY}\n[safe]\n\tdirectory = *\n')
    log = tmp_path / "colab.log"

    work = tmp_path / "content"  # Colab's working folder: no repository beside the lesson
    work.mkdir()
    notebook_in = tmp_path / "lesson.ipynb"
    notebook_out = tmp_path / "executed.ipynb"
    nbformat.write(jupytext.read(LESSON), notebook_in)
    (tmp_path / "driver.py").write_text(DRIVER)
    env = {
        key: value for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_PATH", "JUPYTER_DATA_DIR")
    }
    env.update(
        PYTHONPATH=str(stand_in), GIT_CONFIG_GLOBAL=str(gitconfig), COLAB_STAND_IN_LOG=str(log),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"), MPLBACKEND="module://matplotlib_inline.backend_inline",
        PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}", OMP_NUM_THREADS="1",
    )
    done = subprocess.run(
        [str(python), str(tmp_path / "driver.py"), str(notebook_in), str(notebook_out), str(work)],
        env=env, capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-4000:]

    executed = nbformat.read(notebook_out, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    # The install cell ran: the kernel's environment now holds the course and its light extra,
    # and no JupyterLab, and ipywidgets is still Colab's 7.7.1.
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=json"], check=True,
                            capture_output=True, text=True).stdout
    installed = {p["name"].lower(): p["version"] for p in json.loads(listed)}
    assert "yolo-lesson" in installed and "anywidget" in installed
    assert installed["ipywidgets"] == "7.7.1"
    assert "jupyterlab" not in installed and "jupytext" not in installed
    # Every widget cell displayed a widget view (ipywidgets 7's message spec 2.0), and the
    # course's canvas asked for Colab's custom widget manager, which third-party widgets need.
    views = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) >= 2
    assert all(v["data"]["application/vnd.jupyter.widget-view+json"]["version_major"] == 2 for v in views)
    assert log.read_text() == "custom widget manager enabled"
