"""Sphinx extension of the course website (loaded by book/_config.yml).

Derived from the one repository URL in _config.yml:

* under every saved course widget on a lesson page (the views of ``yolo_lesson.widgets``,
  recognised by their ``yolo-`` CSS class), a note that says plainly what a static page can
  and cannot do with it, with links that open the same lesson on Binder or Colab: a widget
  with the ``yolo-recorded`` class answers from answers recorded when the lesson ran (see
  ``window.YOLO_COURSE_SITE`` in _static/course-widgets.js), any other one stays as it was
  saved; a progress bar needs no such note;
* MyST substitutions for Markdown pages: ``{{ repository_url }}``, ``{{ binder_url }}``.

And one repair: each script tag appears once per page (see ``_unique_scripts``).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import nbformat

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MODEL_ID = re.compile(r'"model_id"\s*:\s*"([0-9a-f]+)"')


def _course_widget_ids(notebook: Path) -> dict[str, bool]:
    """Model ids of the saved views that are, or contain, a course widget (a model whose
    ``_dom_classes`` has a ``yolo-`` class), each with whether the whole view answers from
    recorded answers on a static page (every course widget in it has the ``yolo-recorded``
    class)."""
    state = nbformat.read(notebook, as_version=4).metadata.get("widgets", {}).get(WIDGET_STATE, {})
    models = state.get("state", {})

    def classes(model_id: str) -> list[str]:
        return models.get(model_id, {}).get("state", {}).get("_dom_classes", [])

    def children(model_id: str) -> list[str]:
        found = models.get(model_id, {}).get("state", {}).get("children", [])
        return [c.removeprefix("IPY_MODEL_") for c in found if isinstance(c, str)]

    def course_parts(model_id: str, seen: frozenset = frozenset()) -> list[list[str]]:
        """The class lists of the course widgets at or under ``model_id``."""
        mine = classes(model_id)
        if any(c.startswith("yolo-") for c in mine):
            return [mine]
        return [part for c in children(model_id) if c not in seen for part in course_parts(c, seen | {model_id})]

    found = {}
    for model_id in models:
        parts = course_parts(model_id)
        if parts:
            found[model_id] = all("yolo-recorded" in part for part in parts)
    return found


def _repository(config: Config) -> tuple[str, str]:
    """The repository URL and branch, as Jupyter Book passed them to the theme."""
    theme = config.html_theme_options or {}
    url = str(theme.get("repository_url", "")).rstrip("/")
    branch = str(theme.get("repository_branch", "") or "main")
    return url, branch


def _launch_links(config: Config, path_in_repo: str) -> dict[str, str]:
    """Binder and Colab links for one notebook, built as the theme's launch buttons build them."""
    url, branch = _repository(config)
    if not url.startswith("https://github.com/"):
        return {}
    org_repo = url.removeprefix("https://github.com/")
    launch = (config.html_theme_options or {}).get("launch_buttons", {})
    links = {}
    binder = str(launch.get("binderhub_url", "")).rstrip("/")
    if binder:
        ui = "lab/tree" if launch.get("notebook_interface") == "jupyterlab" else "tree"
        links["Binder"] = f"{binder}/v2/gh/{org_repo}/{branch}?urlpath={ui}/{quote(path_in_repo)}"
    colab = str(launch.get("colab_url", "")).rstrip("/")
    if colab:
        links["Colab"] = f"{colab}/github/{org_repo}/blob/{branch}/{quote(path_in_repo)}"
    return links


def _substitutions(app: Sphinx, config: Config) -> None:
    url, branch = _repository(config)
    config.myst_substitutions = {
        **(config.myst_substitutions or {}),
        "repository_url": url,
        "binder_url": _launch_links(config, "notebooks/00_start_here.ipynb").get("Binder", url),
    }


def _live_kernel_note(links: dict[str, str], recorded: bool) -> nodes.admonition:
    """The note under a course widget: what this page does with it, and where to run it."""
    note = nodes.admonition(classes=["note", "live-kernel", "recorded" if recorded else "still"])
    if recorded:
        note += nodes.title(text="Answers recorded ahead of time")
        text = nodes.paragraph(
            text=(
                "No Python runs behind this page. The package computed this widget's answers "
                "when the lesson ran, and the page looks them up: a dragged box snaps to the "
                "nearest recorded position, and a slider or step control moves through the "
                "recorded values. Controls that were not recorded are switched off. For every "
                "position and value, "
            )
        )
    else:
        note += nodes.title(text="This widget needs a live Python kernel")
        text = nodes.paragraph(
            text=(
                "Above is the view saved when the lesson ran. On this static page, whatever Python "
                "must recompute stays as it was: the figure next to the widget shows what it draws. "
                "To use it, "
            )
        )
    if links:
        text += nodes.Text("open the lesson on ")
        for index, (name, href) in enumerate(links.items()):
            if index:
                text += nodes.Text(" or ")
            text += nodes.reference(text=name, refuri=href)
        text += nodes.Text(", or ")
    text += nodes.Text("run the course on your machine with ")
    text += nodes.literal(text="make lab")
    text += nodes.Text(".")
    note += text
    return note


def _mark_widgets(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    widget_outputs: dict = {}  # output block -> whether all its course widgets are recorded
    source_path = Path(app.env.doc2path(docname))
    course_ids = _course_widget_ids(source_path) if source_path.suffix == ".ipynb" else {}
    for raw in doctree.findall(nodes.raw):
        text = raw.astext()
        shown = [model_id for model_id in MODEL_ID.findall(text) if model_id in course_ids]
        if WIDGET_VIEW not in text or not shown:
            continue
        # Put the note after the whole output block of the cell, not inside it.
        container = raw
        while container.parent is not None and "cell_output" not in container.get("classes", []):
            container = container.parent
        target = container if container.parent is not None else raw
        recorded = all(course_ids[model_id] for model_id in shown)
        widget_outputs[target] = widget_outputs.get(target, True) and recorded
    if not widget_outputs:
        return
    source = source_path.relative_to(Path(app.srcdir))
    links = _launch_links(app.config, source.as_posix())
    for target, recorded in widget_outputs.items():
        target.parent.insert(target.parent.index(target) + 1, _live_kernel_note(links, recorded))


def _unique_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Drop repeated script tags from a page.

    sphinx-thebe registers its inline configuration script in a way that Sphinx 7 adds twice
    to every page; the second copy re-declares a ``const`` and raises in the browser.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""
        attributes = getattr(script, "attributes", None) or {}
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _substitutions)
    app.connect("doctree-resolved", _mark_widgets)
    # after myst-nb has added the page's widget scripts (default priority 500)
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
