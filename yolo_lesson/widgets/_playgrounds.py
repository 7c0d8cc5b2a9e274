"""The box playground (lessons 03, 04) and the IoU playground (lesson 01), drawn on one
drag surface, :class:`BoxCanvas`."""

from __future__ import annotations

from pathlib import Path

from .. import playground
from ._common import (
    LOSS_COLORS, PRED_COLORS, TERM_COLORS, TRUTH_COLOR, _CSS, _attr, _bar, _cell, _notes,
    _side_by_side, _swatch, anywidget, traitlets, w,
)

class BoxCanvas(anywidget.AnyWidget):
    """An image with an S×S grid, boxes the mouse moves and resizes, and arrows.

    Traits (synced with the browser):
        boxes: list of ``{"name", "xyxy": [x1, y1, x2, y2] in [0, 1], "color", "label",
            "editable", "dashed", "thick"}``; the browser writes ``xyxy`` back while dragging.
        arrows: list of ``{"name", "xyxy": [x0, y0, x1, y1], "color"}``.
        S: grid lines to draw (0 for none); cell: ``[row, col]`` to highlight, or ``[]``.
        size: side of the picture in pixels.
    """

    _esm = Path(__file__).parent / "js" / "box_canvas.js"
    _css = _CSS
    boxes = traitlets.List(traitlets.Dict()).tag(sync=True)
    arrows = traitlets.List(traitlets.Dict()).tag(sync=True)
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
    ):
        boxes = [dict(name="truth", xyxy=list(truth), color=TRUTH_COLOR, label="object", editable=True, dashed=True)]
        for b, box in enumerate(preds):
            color = PRED_COLORS[b % len(PRED_COLORS)]
            boxes.append(dict(name=f"pred{b}", xyxy=list(box), color=color, label=f"predictor {b + 1}", editable=True))
        self.canvas = BoxCanvas(
            boxes=boxes, S=S,
            label=f"Box playground: the object and {len(preds)} predicted boxes on a {S}×{S} grid",
        )
        self.label = label
        slider = dict(continuous_update=True, style={"description_width": "110px"}, layout=w.Layout(width="330px"))
        self.lambda_coord = w.FloatSlider(value=lambda_coord, min=0, max=20, step=0.5, description="λ_coord", **slider)
        self.lambda_noobj = w.FloatSlider(value=lambda_noobj, min=0, max=2, step=0.05, description="λ_noobj", **slider)
        self.confs = [
            w.FloatSlider(value=c, min=0, max=1, step=0.01, description=f"conf {b + 1}", **slider)
            for b, c in enumerate(confs)
        ]
        self.class_scores = [
            w.FloatSlider(value=s, min=0, max=1, step=0.01, description=f"class {c} score", **slider)
            for c, s in enumerate(class_scores)
        ]
        self.conf_target = w.ToggleButtons(options=[("IoU", "iou"), ("1", "one")], value=conf_target, description="conf target")
        self.wh = w.ToggleButtons(
            options=[
                ("predicts √ (paper)", "predicted_sqrt"), ("signed √", "signed_sqrt"),
                ("clamped √", "clamped_sqrt"), ("linear", "linear"),
            ],
            value=wh, description="w, h",
        )
        self.readout = w.HTML()
        controls = [self.lambda_coord, self.lambda_noobj, *self.confs, *self.class_scores, self.conf_target, self.wh]
        for control in [self.canvas, *controls]:
            control.observe(self._update, names="boxes" if control is self.canvas else "value")
        super().__init__([_side_by_side(self.canvas, self.readout), w.VBox(controls)])
        self.add_class("yolo-box-playground")
        self.view = None
        self._update()

    def __repr__(self) -> str:
        return f"BoxPlayground({len(self.confs)} predictors, S={self.canvas.S})"

    def compute(self) -> playground.BoxPlaygroundView:
        """The view for the widget's current boxes and controls."""
        boxes = {b["name"]: b["xyxy"] for b in self.canvas.boxes}
        return playground.box_playground(
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

    def _update(self, change=None) -> None:
        view = self.view = self.compute()
        repaired = [view.truth, *view.preds]
        boxes = [dict(b, xyxy=list(box), thick=(b["name"] == f"pred{view.responsible}"))
                 for b, box in zip(self.canvas.boxes, repaired)]
        if boxes != self.canvas.boxes:
            self.canvas.boxes = boxes
        arrows = []
        for b, (centre, corner) in enumerate(zip(view.centre_arrows, view.size_arrows)):
            color = PRED_COLORS[b % len(PRED_COLORS)]
            arrows += [dict(name=f"centre{b}", xyxy=list(centre), color=color),
                       dict(name=f"size{b}", xyxy=list(corner), color=color)]
        self.canvas.arrows = arrows
        self.canvas.cell = list(view.cell)
        self.canvas.announce = (
            f"Total loss {view.terms['total']:.4f}; responsible: predictor {view.responsible + 1}, "
            f"IoU {view.ious[view.responsible]:.2f}."
        )
        self.readout.value = self._table(view)

    @staticmethod
    def _table(view: playground.BoxPlaygroundView) -> str:
        largest = max(view.terms[t] for t in playground.TERMS)
        rows = "".join(
            f"<tr><td>{name}</td>{_cell(view.terms[name], _attr('data-term', name))}"
            f"{_bar(view.terms[name], largest, TERM_COLORS[name])}</tr>"
            for name in playground.TERMS
        )
        rows += f'<tr style="font-weight:bold"><td>total</td>{_cell(view.terms["total"], _attr("data-term", "total"))}<td></td></tr>'
        head = "".join(f"<th>{h}</th>" for h in ("", "IoU", "x", "y", "w", "h", "conf"))
        tx1, ty1, tx2, ty2 = view.truth
        preds = (
            "<tr><td><b>object</b></td><td></td>"
            + "".join(_cell(v, f'data-box="truth-{k}"') for k, v in zip("xywh", ((tx1 + tx2) / 2, (ty1 + ty2) / 2, tx2 - tx1, ty2 - ty1)))
            + "<td></td></tr>"
        )
        rooted = view.wh == "predicted_sqrt"
        for b, (box, outputs, grads) in enumerate(zip(view.preds, view.outputs, view.grads)):
            x1, y1, x2, y2 = box
            mark = " ★" if b == view.responsible else ""
            color = PRED_COLORS[b % len(PRED_COLORS)]
            preds += (
                f'<tr style="color:{color}"><td><b>predictor {b + 1}</b>{mark} box</td>'
                f"{_cell(view.ious[b], _attr('data-iou', b))}"
                + "".join(_cell(v, f'data-box="{b}-{k}"') for k, v in zip("xywh", ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)))
                + "<td></td></tr>"
                f'<tr style="color:{color}"><td>&nbsp;&nbsp;tensor</td><td></td>'
                + "".join(_cell(outputs[k], f'data-tensor="{b}-{k}"') for k in ("x", "y", "w", "h", "conf"))
                + "</tr>"
                f'<tr style="color:{color}"><td>&nbsp;&nbsp;∂total/∂tensor</td><td></td>'
                + "".join(_cell(grads[k], f'data-grad="{b}-{k}"') for k in ("x", "y", "w", "h", "conf"))
                + "</tr>"
            )
        sizes = ("w, h: √w, √h of the box (the paper's parametrization: the box is their square)"
                 if rooted else "w, h: the box's size")
        return (
            '<div class="yolo-readout" style="font-size:13px;margin-left:12px">'
            f"<b>Loss terms</b> (λ-weighted, cell {view.cell[0]}, {view.cell[1]})"
            f"<table>{rows}</table><br><b>Predictors</b><table><tr>{head}</tr>{preds}</table>"
            '<div style="font-size:11px;color:#555">★ the responsible predictor; box: centre and size in image units; '
            f"tensor: the network's entries (x, y: offset in the cell, in cells; {sizes}); "
            "gradients: with respect to the tensor's entries</div>"
            f"{_notes(view.notes)}</div>"
        )


class IoUPlayground(w.VBox):
    """Two draggable boxes with IoU, GIoU, DIoU and CIoU, their losses (``1 - value``) and
    an arrow per loss: the way gradient descent on that loss moves the predicted box's
    centre. Drag the boxes apart and IoU's arrow vanishes while GIoU's and DIoU's stay.

    Args:
        target, pred: boxes ``(x1, y1, x2, y2)`` in image coordinates.
    """

    def __init__(self, target=(0.20, 0.25, 0.55, 0.60), pred=(0.45, 0.40, 0.85, 0.80)):
        self.canvas = BoxCanvas(
            boxes=[
                dict(name="target", xyxy=list(target), color=TRUTH_COLOR, label="target", editable=True, dashed=True),
                dict(name="pred", xyxy=list(pred), color=PRED_COLORS[0], label="prediction", editable=True),
            ],
            S=0,
            label="IoU playground: a target box and a predicted box",
        )
        self.readout = w.HTML()
        self.canvas.observe(self._update, names="boxes")
        super().__init__([_side_by_side(self.canvas, self.readout)])
        self.add_class("yolo-iou-playground")
        self.view = None
        self._update()

    def __repr__(self) -> str:
        return "IoUPlayground(target, prediction)"

    def compute(self) -> playground.IoUPlaygroundView:
        boxes = {b["name"]: b["xyxy"] for b in self.canvas.boxes}
        return playground.iou_playground(boxes["target"], boxes["pred"])

    def _update(self, change=None) -> None:
        view = self.view = self.compute()
        boxes = [dict(b, xyxy=list(box)) for b, box in zip(self.canvas.boxes, (view.target, view.pred))]
        if boxes != self.canvas.boxes:
            self.canvas.boxes = boxes
        self.canvas.arrows = [dict(name=k, xyxy=list(a), color=LOSS_COLORS[k]) for k, a in view.arrows.items()]
        rows = ""
        for name, value in view.values.items():
            gx, gy = view.grads[name][0] + view.grads[name][2], view.grads[name][1] + view.grads[name][3]
            pull = (gx * gx + gy * gy) ** 0.5
            rows += (
                f"<tr><td>{_swatch(LOSS_COLORS[name])}<b>{name.upper()}</b></td>"
                f"{_cell(value, _attr('data-value', name))}{_cell(view.losses[name], _attr('data-loss', name))}"
                f"{_cell(pull, _attr('data-pull', name))}</tr>"
            )
        hint = ""
        if view.values["iou"] == 0:
            hint = "<p><i>The boxes do not overlap: IoU is 0 wherever the prediction goes, so its loss has no gradient.</i></p>"
        self.canvas.announce = "Losses: " + ", ".join(
            f"{name.upper()} {view.losses[name]:.4f}" for name in view.values
        ) + "."
        self.readout.value = (
            '<div class="yolo-readout" style="font-size:13px;margin-left:12px">'
            "<table><tr><th></th><th>value</th><th>loss</th><th>pull on centre</th></tr>"
            f"{rows}</table>{hint}{_notes(view.notes)}</div>"
        )
