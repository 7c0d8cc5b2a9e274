"""A brute-force reference of the YOLOv1 loss (Redmon et al. 2016, equation 3), written
independently of :mod:`yolo_lesson.loss` so that the vectorized version can be checked
against it.

Everything is a plain Python loop over images, rows, columns and predictors. Box geometry
(IoU, responsibility) is done on Python floats with this file's own IoU; the loss itself is
built from scalar tensor operations, one predictor at a time, so that autograd flows through
it and a benchmark can call ``backward()`` on it. It is slow on purpose: it is meant to be
read and trusted, not used for training.

With its defaults it follows darknet's ``forward_detection_layer`` (``src/detection_layer.c``,
``sqrt=1``, ``rescore=1``) cell by cell: the w, h outputs are √w, √h; the IoU of each
predictor is taken with its outputs squared; the highest IoU answers (a strict ``>``: the
first on a tie) and, while every IoU is 0, the smallest ``box_rmse`` (``src/box.c``: the root
of the summed squared differences of x, y, w, h, centres divided by S) answers instead; every
other predictor gets the no-object term. Darknet writes ``delta = scale · (t - o)`` and sums;
this file writes ``scale · (t - o)²`` (the same relative weights, a uniform factor -2 on the
gradient) and divides by N, as the paper's mean over images does.

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


def rmse_in_image(p: list[float], t: list[float], S: int) -> float:
    """darknet's ``box_rmse``: the root of the summed squared differences of ``(x, y, w, h)``,
    with both centres' in-cell offsets divided by S (the cell's corner cancels out)."""
    return math.sqrt(
        (p[0] / S - t[0] / S) ** 2 + (p[1] / S - t[1] / S) ** 2 + (p[2] - t[2]) ** 2 + (p[3] - t[3]) ** 2
    )


def responsible_predictor(
    pred: Tensor, target: Tensor, n: int, row: int, col: int, B: int,
    wh: str = "predicted_sqrt", tie_break: str = "rmse",
):
    """For the object in cell ``(row, col)`` of image ``n``: the index of the responsible
    predictor and the list of the B IoUs.

    darknet's loop over the predictors, one state ``(best_index, best_iou, best_rmse)``: while
    the best IoU so far and this predictor's IoU are both 0, the smaller RMSE wins (strict
    ``<``); otherwise the higher IoU (strict ``>``), so the first predictor that overlaps the
    object takes over from any RMSE winner and equal IoUs stay with the first. darknet starts
    ``best_rmse`` at 20 (a box farther than that would leave the index at -1); here it starts
    at infinity. ``tie_break="first"`` skips the RMSE: predictor 0 unless some IoU is higher.
    Under ``wh="predicted_sqrt"`` the outputs w, h are squared before IoU and RMSE."""
    S = pred.shape[1]
    t = target[n, row, col].tolist()
    target_box = cell_box_to_image(t[0], t[1], t[2], t[3], row, col, S)
    ious = []
    best, best_iou, best_rmse = 0, 0.0, math.inf
    for b in range(B):
        p = pred[n, row, col, 5 * b : 5 * b + 4].tolist()
        if wh == "predicted_sqrt":
            p[2], p[3] = p[2] * p[2], p[3] * p[3]
        iou = iou_cxcywh(cell_box_to_image(p[0], p[1], p[2], p[3], row, col, S), target_box)
        ious.append(iou)
        if best_iou > 0 or iou > 0:
            if iou > best_iou:
                best, best_iou = b, iou
        elif tie_break == "rmse":
            rmse = rmse_in_image(p, t, S)
            if rmse < best_rmse:
                best, best_rmse = b, rmse
    return best, ious


def transform_size(v, wh: str):
    """The map applied to a width or height before the squared error; ``v`` is a scalar
    tensor (prediction) or a float (target). Under ``"predicted_sqrt"`` the prediction is
    already a root (kept as it is) and the target is rooted: darknet's
    ``sqrt(truth w) - output``."""
    if wh == "predicted_sqrt":
        return v if isinstance(v, Tensor) else math.sqrt(v)
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
    raise ValueError(f"wh must be 'predicted_sqrt', 'signed_sqrt', 'clamped_sqrt' or 'linear', got {wh!r}")


def reference_yolo_v1_loss(
    pred: Tensor,
    target: Tensor,
    S: int = 7,
    B: int = 2,
    C: int = 20,
    lambda_coord: float = 5.0,
    lambda_noobj: float = 0.5,
    conf_target: str = "iou",
    wh: str = "predicted_sqrt",
    noobj_scope: str = "not_responsible",
    tie_break: str = "rmse",
    reduction: str = "batchmean",
) -> ReferenceTerms:
    """The YOLOv1 loss by loops, with the same options as ``yolo_lesson.loss.yolo_v1_loss``.

    Args:
        pred: ``Tensor[N, S, S, B*5 + C]``; half precision is computed in float32.
        target: ``Tensor[N, S, S, 5 + C]``, ``(x, y, w, h, obj, one-hot class)`` per cell.
        conf_target: ``"iou"`` (constant IoU of the responsible box) or ``"one"``.
        wh: ``"predicted_sqrt"``, ``"signed_sqrt"``, ``"clamped_sqrt"`` or ``"linear"``.
        noobj_scope: ``"not_responsible"`` or ``"empty_cells"``.
        tie_break: ``"rmse"`` or ``"first"``.
        reduction: ``"batchmean"`` (divided by N) or ``"sum"``.

    Returns:
        :class:`ReferenceTerms` of scalar tensors; ``total = box + obj + noobj + cls``.
    """
    if conf_target not in ("iou", "one"):
        raise ValueError(f"conf_target must be 'iou' or 'one', got {conf_target!r}")
    if noobj_scope not in ("not_responsible", "empty_cells"):
        raise ValueError(f"noobj_scope must be 'not_responsible' or 'empty_cells', got {noobj_scope!r}")
    if tie_break not in ("rmse", "first"):
        raise ValueError(f"tie_break must be 'rmse' or 'first', got {tie_break!r}")
    if reduction not in ("batchmean", "sum"):
        raise ValueError(f"reduction must be 'batchmean' or 'sum', got {reduction!r}")
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
                    best, ious = responsible_predictor(pred, target, n, row, col, B, wh, tie_break)
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

    if reduction == "batchmean":
        box, obj, noobj, cls = box / N, obj / N, noobj / N, cls / N
    return ReferenceTerms(box + obj + noobj + cls, box, obj, noobj, cls)
