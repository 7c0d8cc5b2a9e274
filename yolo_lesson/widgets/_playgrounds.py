"""The box playground (lessons 03, 04) and the IoU playground (lesson 01), drawn on one
drag surface, :class:`BoxCanvas`, which also draws their readouts.

Python computes every number (:mod:`yolo_lesson.playground`) and sends it in plain dicts:
the boxes, the arrows and a ``readout`` of numbers the browser only formats. For pages
without a kernel the widgets can record their answers over a grid of positions of one box
(``record=True``); the browser then snaps a drag to the nearest recorded position and shows
the numbers recorded there.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import playground
from ._common import PALETTE, PRED_COLORS, TERM_COLORS, TRUTH_COLOR, _CSS, anywidget, traitlets, w

# The IoU playground's arrows: colour AND dash AND width tell them apart. Widest first, so
# arrows that coincide (DIoU's and CIoU's for boxes of one aspect ratio) show as stripes.
LOSS_STYLES = {
    "iou": {"color": "#7f7f7f", "dash": "none", "width": 8, "label": "IoU"},
    "giou": {"color": PALETTE[4], "dash": "12 5", "width": 5.5, "label": "GIoU"},
    "diou": {"color": PALETTE[1], "dash": "6 4", "width": 3.5, "label": "DIoU"},
    "ciou": {"color": PALETTE[3], "dash": "2 3", "width": 2, "label": "CIoU"},
}
DIGITS = 4  # what the readouts show; recorded numbers are rounded to it

_CANVAS_CSS = _CSS + """
.yolo-canvas-row { display: flex; flex-flow: row wrap; align-items: flex-start; gap: 8px 14px; }
.yolo-canvas-row .yolo-box-canvas-wrap { flex: 0 1 362px; min-width: 240px; }
/* The readout keeps the width its table needs (400 px) beside the picture, or moves under it. */
.yolo-readout { font-size: 12.5px; flex: 1 1 300px; max-width: 470px; min-width: min(400px, 100%); container-type: inline-size; }
.yolo-readout table { border-collapse: collapse; }
.yolo-readout td, .yolo-readout th { padding: 1px 5px; }
.yolo-readout td.num { text-align: right; font-family: monospace; font-size: 12px; }
.yolo-readout th { font-weight: normal; font-size: 11.5px; text-align: right; }
.yolo-readout tr.sub td { font-size: 11px; }
.yolo-readout tr.sub td:first-child { padding-left: 14px; }
.yolo-readout .foot { font-size: 11px; white-space: normal; margin-top: 4px; }
.yolo-readout .hint { min-height: 3.2em; font-style: italic; font-size: 12px; white-space: normal; }
.yolo-readout .bar { height: 9px; }
@container (max-width: 440px) {
  .yolo-readout td, .yolo-readout th { padding: 0 2px; }
  .yolo-readout td.num { font-size: 10.5px; }
  .yolo-readout tr.sub td:first-child { padding-left: 6px; }
}
.yolo-site-note { font-size: 12px; font-style: italic; margin: 2px 0 4px; }
.yolo-site-locked .widget-slider, .yolo-site-locked .widget-toggle-buttons { pointer-events: none; opacity: 0.55; }
.yolo-controls .widget-slider { width: auto; max-width: 100%; }
"""


def _round(value: float) -> float:
    return round(float(value), DIGITS) + 0.0  # + 0.0 turns -0.0 into 0.0


def _centre_size(box) -> list[float]:
    x1, y1, x2, y2 = box
    return [_round((x1 + x2) / 2), _round((y1 + y2) / 2), _round(x2 - x1), _round(y2 - y1)]


def _leaves(value, path=()):
    """Every number in a nest of dicts and lists, with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


def _rounded(value):
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    if isinstance(value, float):
        return round(value, 6) + 0.0
    return value


def pack_frames(xs, ys, frames: list[dict], moving: int) -> dict:
    """Recorded frames in the form the browser reads: the first frame as a template, the
    paths of the numbers that differ between frames, and per frame those numbers (as one
    JSON string: the notebook saves it on one line). Numbers are kept to 6 decimals (the
    readouts show 4; the boxes move by whole pixels)."""
    frames = [_rounded(frame) for frame in frames]
    template = frames[0]
    paths = [path for path, _ in _leaves(template)]
    columns = [[value for _, value in _leaves(frame)] for frame in frames]
    if any(len(c) != len(paths) for c in columns):
        raise ValueError("every recorded frame must have the template's shape")
    varying = [k for k in range(len(paths)) if any(c[k] != columns[0][k] for c in columns)]
    return {
        "moving": moving,
        "xs": list(xs),
        "ys": list(ys),
        "template": template,
        "paths": [list(paths[k]) for k in varying],
        "values": json.dumps([[c[k] for k in varying] for c in columns], separators=(",", ":")),
    }


class BoxCanvas(anywidget.AnyWidget):
    """An image with an S×S grid, boxes the mouse moves and resizes, arrows, and a readout.

    Traits (synced with the browser):
        boxes: list of ``{"name", "xyxy": [x1, y1, x2, y2] in [0, 1], "color", "label",
            "editable", "dashed", "thick"}``; the browser writes ``xyxy`` back while dragging.
        arrows: list of ``{"name", "xyxy": [x0, y0, x1, y1], "color"}`` and optionally
            ``"dash"`` (an SVG dash array) and ``"width"``.
        readout: the numbers shown beside the picture, ``{"kind": "box" | "iou", ...}``
            (see ``BoxPlayground.frame`` and ``IoUPlayground.frame``); ``{}`` for none.
        recorded: answers recorded for pages without a kernel (see :func:`pack_frames`), or ``{}``.
        site_note: said above the picture on such a page.
        S: grid lines to draw (0 for none); cell: ``[row, col]`` to highlight, or ``[]``.
        size: side of the picture in pixels.
    """

    _esm = Path(__file__).parent / "js" / "box_canvas.js"
    _css = _CANVAS_CSS
    boxes = traitlets.List(traitlets.Dict()).tag(sync=True)
    arrows = traitlets.List(traitlets.Dict()).tag(sync=True)
    readout = traitlets.Dict().tag(sync=True)
    recorded = traitlets.Dict().tag(sync=True)
    site_note = traitlets.Unicode("").tag(sync=True)
    S = traitlets.Int(7).tag(sync=True)
    cell = traitlets.List(traitlets.Int()).tag(sync=True)
    size = traitlets.Int(360).tag(sync=True)
    #: What the canvas is, for screen readers (the aria-label of its group).
    label = traitlets.Unicode("Boxes on the image").tag(sync=True)
    #: Read out by a polite live region after each change (the loss, set by the playgrounds).
    announce = traitlets.Unicode("").tag(sync=True)

    def __repr__(self) -> str:  # the default repr lists every trait, ESM source included
        return f"BoxCanvas({len(self.boxes)} boxes, S={self.S})"

    def move_box(self, index: int, xyxy) -> None:
        """Sets box ``index`` to ``xyxy`` as a drag in the browser would (scripts and tests)."""
        boxes = [dict(b) for b in self.boxes]
        boxes[index]["xyxy"] = list(xyxy)
        self.boxes = boxes

    def show(self, frame: dict) -> None:
        """Draws one frame: ``{"xyxy": per box, "arrows": per arrow, "readout"}``."""
        boxes = [dict(b, xyxy=list(xyxy)) for b, xyxy in zip(self.boxes, frame["xyxy"])]
        for b, thick in zip(boxes, frame.get("thick", [])):
            b["thick"] = bool(thick)
        with self.hold_sync():
            if boxes != self.boxes:
                self.boxes = boxes
            self.arrows = [dict(a, xyxy=list(xyxy)) for a, xyxy in zip(self.arrows, frame["arrows"])]
            self.readout = frame["readout"]


def _slider(description: str, value: float, lo: float, hi: float, step: float) -> w.FloatSlider:
    return w.FloatSlider(
        value=value, min=lo, max=hi, step=step, description=description, continuous_update=True,
        style={"description_width": "88px"}, layout=w.Layout(width="auto", min_width="230px"),
    )


class BoxPlayground(w.VBox):
    """One ground-truth box and the B predicted boxes of its cell, all draggable.

    Shows which predictor is responsible, each predictor's IoU with the object, the
    λ-weighted terms (numbers and bars) and ``∂total/∂`` each predictor's ``x, y, w, h``
    and confidence (numbers, and arrows on the boxes: where gradient descent moves the
    centre and the bottom-right corner). Every number comes from
    :func:`yolo_lesson.playground.box_playground`.

    Args:
        truth: the ground-truth box ``(x1, y1, x2, y2)`` in image coordinates.
        preds: the B predicted boxes.
        confs: the B confidences; class_scores: the C class scores; label: the object's class.
        S, lambda_coord, lambda_noobj, conf_target, wh: as in the loss; the ``w, h`` switch
            offers its four modes. Under the default ``"predicted_sqrt"`` the tensor holds
            √w, √h: a dragged box sets them to the roots of its drawn size, and the table
            shows both, the tensor's entries and the box they draw.
        record: record the answers for a page without a kernel: predictor 1's centre on a
            grid ``step`` apart (:func:`yolo_lesson.playground.record_box_playground`), the
            other boxes and the controls as given. Takes a few seconds.
    """

    def __init__(
        self,
        truth=(0.30, 0.28, 0.62, 0.72),
        preds=((0.34, 0.34, 0.60, 0.66), (0.10, 0.14, 0.40, 0.44)),
        confs=(0.6, 0.4),
        class_scores=(0.7, 0.2, 0.1),
        label: int = 0,
        S: int = 7,
        lambda_coord: float = 5.0,
        lambda_noobj: float = 0.5,
        conf_target: str = "iou",
        wh: str = "predicted_sqrt",
        record: bool = False,
        step: float = 0.025,
    ):
        boxes = [dict(name="truth", xyxy=list(truth), color=TRUTH_COLOR, label="object", editable=True, dashed=True)]
        for b, box in enumerate(preds):
            color = PRED_COLORS[b % len(PRED_COLORS)]
            boxes.append(dict(name=f"pred{b}", xyxy=list(box), color=color, label=f"predictor {b + 1}", editable=True))
        arrows = []
        for b in range(len(preds)):
            color = PRED_COLORS[b % len(PRED_COLORS)]
            arrows += [dict(name=f"centre{b}", xyxy=[0, 0, 0, 0], color=color),
                       dict(name=f"size{b}", xyxy=[0, 0, 0, 0], color=color, dash="5 3")]
        self.canvas = BoxCanvas(
            boxes=boxes, arrows=arrows, S=S,
            label=f"Box playground: the object and {len(preds)} predicted boxes on a {S}×{S} grid",
        )
        self.label = label
        self.lambda_coord = _slider("λ_coord", lambda_coord, 0, 20, 0.5)
        self.lambda_noobj = _slider("λ_noobj", lambda_noobj, 0, 2, 0.05)
        self.confs = [_slider(f"conf {b + 1}", c, 0, 1, 0.01) for b, c in enumerate(confs)]
        self.class_scores = [_slider(f"class {c} score", s, 0, 1, 0.01) for c, s in enumerate(class_scores)]
        toggle = dict(style={"description_width": "88px", "button_width": "auto"})
        self.conf_target = w.ToggleButtons(options=[("IoU", "iou"), ("1", "one")], value=conf_target,
                                           description="conf target", **toggle)
        self.wh = w.ToggleButtons(
            options=[
                ("predicts √ (paper)", "predicted_sqrt"), ("signed √", "signed_sqrt"),
                ("clamped √", "clamped_sqrt"), ("linear", "linear"),
            ],
            value=wh, description="w, h", **toggle,
        )
        sliders = [self.lambda_coord, self.lambda_noobj, *self.confs, *self.class_scores]
        grid = w.GridBox(sliders, layout=w.Layout(
            grid_template_columns="repeat(auto-fill, minmax(240px, 1fr))", grid_gap="0 12px", width="100%"))
        toggles = w.VBox([self.conf_target, self.wh])
        controls = w.VBox([grid, toggles], layout=w.Layout(width="100%", max_width="820px"))
        controls.add_class("yolo-controls")
        for control in [self.canvas, *sliders, self.conf_target, self.wh]:
            control.observe(self._update, names="boxes" if control is self.canvas else "value")
        super().__init__([self.canvas, controls], layout=w.Layout(max_width="860px"))
        self.add_class("yolo-box-playground")
        self.view = None
        self._update()
        if record:
            self.record(step)

    def __repr__(self) -> str:
        return f"BoxPlayground({len(self.confs)} predictors, S={self.canvas.S})"

    def _inputs(self) -> dict:
        boxes = {b["name"]: b["xyxy"] for b in self.canvas.boxes}
        return dict(
            truth=boxes["truth"],
            preds=[boxes[f"pred{b}"] for b in range(len(self.confs))],
            confs=[c.value for c in self.confs],
            class_scores=[s.value for s in self.class_scores],
            label=self.label,
            S=self.canvas.S,
            lambda_coord=self.lambda_coord.value,
            lambda_noobj=self.lambda_noobj.value,
            conf_target=self.conf_target.value,
            wh=self.wh.value,
        )

    def compute(self) -> playground.BoxPlaygroundView:
        """The view for the widget's current boxes and controls."""
        return playground.box_playground(**self._inputs())

    def record(self, step: float = 0.025) -> None:
        """Records predictor 1's answers on a grid (for a page without a kernel); see the class."""
        recording = playground.record_box_playground(**self._inputs(), moving=0, step=step)
        self.canvas.recorded = pack_frames(recording.xs, recording.ys, [self.frame(v) for v in recording.views], 1)
        self.canvas.site_note = ("On this page: drag predictor 1 (its answers were recorded ahead of time, on a "
                                 f"grid {step:g} apart). The other boxes and the sliders need a live kernel.")
        self.add_class("yolo-recorded")

    @staticmethod
    def frame(view: playground.BoxPlaygroundView) -> dict:
        """What the browser draws for ``view``: boxes, arrows and the readout's numbers."""
        largest = max(view.terms[t] for t in playground.TERMS)
        arrows = []
        for centre, corner in zip(view.centre_arrows, view.size_arrows):
            arrows += [[_round(v) for v in centre], [_round(v) for v in corner]]
        readout = {
            "kind": "box",
            "cell": list(view.cell),
            "responsible": view.responsible,
            "rooted": view.wh == "predicted_sqrt",
            "terms": {name: _round(view.terms[name]) for name in ("total", *playground.TERMS)},
            # each term's bar as a fraction of the largest one's
            "bars": {name: _round(max(view.terms[name], 0) / largest) if largest > 0 else 0.0
                     for name in playground.TERMS},
            "colors": {name: TERM_COLORS[name] for name in playground.TERMS},
            "object": _centre_size(view.truth),
            "preds": [
                {"iou": _round(view.ious[b]), "box": _centre_size(box),
                 "tensor": [_round(view.outputs[b][k]) for k in ("x", "y", "w", "h", "conf")],
                 "grad": [_round(view.grads[b][k]) for k in ("x", "y", "w", "h", "conf")],
                 "color": PRED_COLORS[b % len(PRED_COLORS)]}
                for b, box in enumerate(view.preds)
            ],
            "notes": list(view.notes),
        }
        return {
            "xyxy": [list(view.truth), *(list(box) for box in view.preds)],
            "thick": [0, *(int(b == view.responsible) for b in range(len(view.preds)))],
            "arrows": arrows,
            "readout": readout,
        }

    def _update(self, change=None) -> None:
        view = self.view = self.compute()
        with self.canvas.hold_sync():
            self.canvas.show(self.frame(view))
            self.canvas.cell = list(view.cell)
            self.canvas.announce = (
                f"Total loss {view.terms['total']:.4f}; responsible: predictor {view.responsible + 1}, "
                f"IoU {view.ious[view.responsible]:.2f}."
            )


class IoUPlayground(w.VBox):
    """Two draggable boxes with IoU, GIoU, DIoU and CIoU, their losses (``1 - value``) and
    an arrow per loss: the way gradient descent on that loss moves the predicted box's
    centre. Drag the boxes apart and IoU's arrow vanishes while GIoU's and DIoU's stay.

    Args:
        target, pred: boxes ``(x1, y1, x2, y2)`` in image coordinates.
        record: record the answers for a page without a kernel: the prediction's centre on
            a grid ``step`` apart (:func:`yolo_lesson.playground.record_iou_playground`).
    """

    def __init__(self, target=(0.20, 0.25, 0.55, 0.60), pred=(0.45, 0.40, 0.85, 0.80),
                 record: bool = False, step: float = 0.02):
        self.canvas = BoxCanvas(
            boxes=[
                dict(name="target", xyxy=list(target), color=TRUTH_COLOR, label="target", editable=True, dashed=True),
                dict(name="pred", xyxy=list(pred), color=PRED_COLORS[0], label="prediction", editable=True),
            ],
            arrows=[dict(name=k, xyxy=[0, 0, 0, 0], color=s["color"], dash=s["dash"], width=s["width"])
                    for k, s in LOSS_STYLES.items()],
            S=0,
            label="IoU playground: a target box and a predicted box",
        )
        self.canvas.observe(self._update, names="boxes")
        super().__init__([self.canvas], layout=w.Layout(max_width="860px"))
        self.add_class("yolo-iou-playground")
        self.view = None
        self._update()
        if record:
            self.record(step)

    def __repr__(self) -> str:
        return "IoUPlayground(target, prediction)"

    def _boxes(self):
        boxes = {b["name"]: b["xyxy"] for b in self.canvas.boxes}
        return boxes["target"], boxes["pred"]

    def compute(self) -> playground.IoUPlaygroundView:
        return playground.iou_playground(*self._boxes())

    def record(self, step: float = 0.02) -> None:
        """Records the prediction's answers on a grid (for a page without a kernel)."""
        recording = playground.record_iou_playground(*self._boxes(), step=step)
        self.canvas.recorded = pack_frames(recording.xs, recording.ys, [self.frame(v) for v in recording.views], 1)
        self.canvas.site_note = ("On this page: drag the prediction (its answers were recorded ahead of time, "
                                 f"on a grid {step:g} apart). Moving the target needs a live kernel.")
        self.add_class("yolo-recorded")

    @staticmethod
    def frame(view: playground.IoUPlaygroundView) -> dict:
        """What the browser draws for ``view``: boxes, arrows and the readout's numbers."""
        rows = []
        for name, value in view.values.items():
            gx, gy = view.grads[name][0] + view.grads[name][2], view.grads[name][1] + view.grads[name][3]
            style = LOSS_STYLES[name]
            rows.append({"name": name, "label": style["label"], "color": style["color"], "dash": style["dash"],
                         "width": style["width"], "value": _round(value), "loss": _round(view.losses[name]),
                         "pull": _round((gx * gx + gy * gy) ** 0.5)})
        return {
            "xyxy": [list(view.target), list(view.pred)],
            "arrows": [[_round(v) for v in view.arrows[name]] for name in LOSS_STYLES],
            "readout": {"kind": "iou", "rows": rows, "disjoint": int(view.values["iou"] == 0),
                        "notes": list(view.notes)},
        }

    def _update(self, change=None) -> None:
        view = self.view = self.compute()
        with self.canvas.hold_sync():
            self.canvas.show(self.frame(view))
            self.canvas.announce = "Losses: " + ", ".join(
                f"{LOSS_STYLES[name]['label']} {view.losses[name]:.4f}" for name in view.values
            ) + "."
