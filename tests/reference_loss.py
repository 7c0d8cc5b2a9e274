"""A brute-force reference of the YOLOv1 loss (Redmon et al. 2016, equation 3), written
independently of :mod:`yolo_lesson.loss` so that the vectorized version can be checked
against it.

Everything is a plain Python loop over images, rows, columns and predictors. Box geometry
(IoU, responsibility) is done on Python floats with this file's own IoU; the loss itself is
built from scalar tensor operations, one predictor at a time, so that autograd flows through
it and a benchmark can call ``backward()`` on it. It is slow on purpose: it is meant to be
read and trusted, not used for training.

Usage from the tests (pytest puts ``tests/`` on ``sys.path``) or from a benchmark::

    sys.path.insert(0, "tests")
    from reference_loss import reference_yolo_v1_loss
    terms = reference_yolo_v1_loss(pred, target, S=7, B=2, C=20)
    terms.total.backward()
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

# The same ε as the package's square roots of w and h (yolo_lesson.loss.SQRT_EPS), restated
# here on purpose: the reference must not import what it checks.
SQRT_EPS = 1e-6


class ReferenceTerms(NamedTuple):
    """The same fields as ``yolo_lesson.loss.LossTerms``; ``._asdict()`` gives a dict."""

    total: Tensor
    box: Tensor
    obj: Tensor
    noobj: Tensor
    cls: Tensor


def iou_cxcywh(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """IoU of two boxes given as ``(cx, cy, w, h)`` floats in image coordinates.

    A negative width or height is an empty box (area 0), as for an inverted corner box;
    two boxes of zero area have IoU 0.
    """
    ax1, ax2 = a[0] - a[2] / 2, a[0] + a[2] / 2
    ay1, ay2 = a[1] - a[3] / 2, a[1] + a[3] / 2
    bx1, bx2 = b[0] - b[2] / 2, b[0] + b[2] / 2
    by1, by2 = b[1] - b[3] / 2, b[1] + b[3] / 2
    inter_w = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    inter_h = max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = inter_w * inter_h
    area_a = max(0.0, ax2 - ax1) * max(0.0, ay2 - ay1)
    area_b = max(0.0, bx2 - bx1) * max(0.0, by2 - by1)
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def cell_box_to_image(x: float, y: float, w: float, h: float, row: int, col: int, S: int):
    """A cell-relative ``(x, y, w, h)`` to image ``(cx, cy, w, h)``: the centre moves by the
    cell's corner and shrinks by S; the size is already relative to the image."""
    return ((col + x) / S, (row + y) / S, w, h)


def responsible_predictor(pred: Tensor, target: Tensor, n: int, row: int, col: int, B: int):
    """For the object in cell ``(row, col)`` of image ``n``: the index of the responsible
    predictor and the list of the B IoUs. The highest IoU wins; the first one on a tie
    (a strict ``>`` never replaces an equal earlier value)."""
    S = pred.shape[1]
    t = target[n, row, col].tolist()
    target_box = cell_box_to_image(t[0], t[1], t[2], t[3], row, col, S)
    ious = []
    for b in range(B):
        p = pred[n, row, col, 5 * b : 5 * b + 4].tolist()
        ious.append(iou_cxcywh(cell_box_to_image(p[0], p[1], p[2], p[3], row, col, S), target_box))
    best = 0
    for b in range(1, B):
        if ious[b] > ious[best]:
            best = b
    return best, ious


def transform_size(v, wh: str):
    """The map applied to a width or height before the squared error; ``v`` is a scalar
    tensor (prediction) or a float (target)."""
    if wh == "linear":
        return v
    if isinstance(v, Tensor):
        if wh == "signed_sqrt":
            return v / torch.sqrt(torch.abs(v) + SQRT_EPS)
        if wh == "clamped_sqrt":
            return torch.sqrt(torch.clamp(v, min=SQRT_EPS))
    else:
        if wh == "signed_sqrt":
            return v / math.sqrt(abs(v) + SQRT_EPS)
        if wh == "clamped_sqrt":
            return math.sqrt(max(v, SQRT_EPS))
    raise ValueError(f"wh must be 'signed_sqrt', 'clamped_sqrt' or 'linear', got {wh!r}")


def reference_yolo_v1_loss(
    pred: Tensor,
    target: Tensor,
    S: int = 7,
    B: int = 2,
    C: int = 20,
    lambda_coord: float = 5.0,
    lambda_noobj: float = 0.5,
    conf_target: str = "iou",
    wh: str = "signed_sqrt",
    noobj_scope: str = "not_responsible",
) -> ReferenceTerms:
    """The YOLOv1 loss by loops, with the same options as ``yolo_lesson.loss.yolo_v1_loss``.

    Args:
        pred: ``Tensor[N, S, S, B*5 + C]``; half precision is computed in float32.
        target: ``Tensor[N, S, S, 5 + C]``, ``(x, y, w, h, obj, one-hot class)`` per cell.
        conf_target: ``"iou"`` (constant IoU of the responsible box) or ``"one"``.
        wh: ``"signed_sqrt"``, ``"clamped_sqrt"`` or ``"linear"``.
        noobj_scope: ``"not_responsible"`` or ``"empty_cells"``.

    Returns:
        :class:`ReferenceTerms` of scalar tensors; ``total = box + obj + noobj + cls``.
    """
    if conf_target not in ("iou", "one"):
        raise ValueError(f"conf_target must be 'iou' or 'one', got {conf_target!r}")
    if noobj_scope not in ("not_responsible", "empty_cells"):
        raise ValueError(f"noobj_scope must be 'not_responsible' or 'empty_cells', got {noobj_scope!r}")
    assert tuple(pred.shape[1:]) == (S, S, B * 5 + C), pred.shape
    assert tuple(target.shape) == (pred.shape[0], S, S, 5 + C), target.shape
    pred = pred.to(torch.promote_types(pred.dtype, torch.float32))
    target = target.to(pred.dtype)
    N = pred.shape[0]
    zero = pred.new_zeros(())
    box, obj, noobj, cls = zero, zero, zero, zero

    for n in range(N):
        for row in range(S):
            for col in range(S):
                t = target[n, row, col].tolist()  # (x, y, w, h, obj, one-hot...)
                has_object = t[4] == 1.0
                if has_object:
                    best, ious = responsible_predictor(pred, target, n, row, col, B)
                for b in range(B):
                    x, y, w, h, conf = (pred[n, row, col, 5 * b + k] for k in range(5))
                    if has_object and b == best:
                        error = (x - t[0]) ** 2 + (y - t[1]) ** 2
                        error = error + (transform_size(w, wh) - transform_size(t[2], wh)) ** 2
                        error = error + (transform_size(h, wh) - transform_size(t[3], wh)) ** 2
                        box = box + lambda_coord * error
                        goal = ious[b] if conf_target == "iou" else 1.0  # a float: no gradient
                        obj = obj + (conf - goal) ** 2
                    elif noobj_scope == "not_responsible" or not has_object:
                        noobj = noobj + lambda_noobj * conf**2
                if has_object:
                    for c in range(C):
                        cls = cls + (pred[n, row, col, 5 * B + c] - t[5 + c]) ** 2

    box, obj, noobj, cls = box / N, obj / N, noobj / N, cls / N
    return ReferenceTerms(box + obj + noobj + cls, box, obj, noobj, cls)
