"""What every widget of the course shares: the optional imports, colours, page CSS and the
small HTML pieces of the readouts."""

from __future__ import annotations

import html

try:
    import anywidget
    import ipywidgets as w
    import traitlets
except ImportError as error:  # the package alone has no widgets
    raise ImportError(
        f"yolo_lesson.widgets needs {error.name}, from the package's `widgets` extra: "
        'pip install "yolo-lesson[widgets]" (JupyterLab users: "yolo-lesson[course]")'
    ) from error

from ..viz import PALETTE


# The same colours as the lessons' still figures (yolo_lesson.viz).
TRUTH_COLOR = PALETTE[2]
PRED_COLORS = (PALETTE[0], PALETTE[1], PALETTE[3], PALETTE[7])
TERM_COLORS = {"box": PALETTE[0], "obj": PALETTE[4], "noobj": PALETTE[5], "cls": PALETTE[3]}
LOSS_COLORS = {"iou": "#7f7f7f", "giou": PALETTE[0], "diou": PALETTE[1], "ciou": PALETTE[3]}


# Injected by anywidget into the page with the canvas. Readouts are in the theme's text
# colour (JupyterLab's light and dark themes both give it AA contrast on their background;
# elsewhere the page's own colour), whatever colours the HTML asks for: colours identify
# rows through swatches and bars, never through the colour of text.
_CSS = """
.yolo-box-canvas g.box .focus-ring { display: none; }
.yolo-box-canvas g.box:focus { outline: none; }
.yolo-box-canvas g.box:focus .focus-ring { display: inline; }
.yolo-readout, .yolo-readout * { color: var(--jp-content-font-color1, inherit) !important; }
.yolo-readout td:first-child { white-space: nowrap; }
.yolo-swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.35em;
  border: 1px solid var(--jp-border-color1, #8a8a8a); vertical-align: baseline; }
"""


def _swatch(color: str) -> str:
    return f'<span class="yolo-swatch" style="background:{color}"></span>'


def _side_by_side(*children) -> w.HBox:
    """Picture and readout side by side; the readout moves under the picture when the page
    is too narrow for both."""
    return w.HBox(list(children), layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))


def _fmt(value: float) -> str:
    return f"{value:+.4f}" if value else " 0.0000"


def _attr(name: str, value: object) -> str:
    return f'{name}="{value}"'


def _cell(value: float, attrs: str = "") -> str:
    return f'<td {attrs} style="text-align:right;font-family:monospace;padding:1px 6px">{_fmt(value)}</td>'


def _bar(value: float, largest: float, color: str) -> str:
    width = 0 if largest <= 0 else int(round(160 * max(value, 0) / largest))
    return (
        f'<td style="padding:1px 6px"><div style="width:{width}px;height:10px;'
        f'background:{color}"></div></td>'
    )


def _notes(notes: tuple[str, ...]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f'<div class="yolo-notes" style="color:#a0522d"><b>Repaired:</b><ul>{items}</ul></div>'
