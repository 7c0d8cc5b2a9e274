"""After YOLOv1: the pieces that later YOLOs changed, each a small pure function.

* **Anchors** (YOLOv2, YOLOv3): a cell predicts ``t = (tx, ty, tw, th)`` relative to an anchor
  prior ``(pw, ph)``: the centre as a sigmoid offset inside the cell, the size as a log-space
  scale of the prior. :func:`decode_anchor_boxes`, :func:`encode_anchor_boxes`; an object goes
  to the anchor whose *shape* fits it best, :func:`shape_iou`, :func:`assign_anchors`.
* **Binary cross-entropy on logits** (YOLOv3) for objectness and classes, computed from the raw
  score in one stable formula: :func:`bce_with_logits`; the no-object term skips predictions
  that already overlap an object well (the ignore threshold): :func:`ignore_mask`,
  :func:`objectness_loss`.
* **IoU-family box loss** (YOLOv4, YOLOv5): ``1 - CIoU`` (its weight α held constant in the
  backward pass, as Ultralytics does) instead of squared coordinate errors,
  and the objectness target becomes the (detached) IoU of the box: :func:`box_loss`,
  :func:`iou_objectness_target`.
* **Focal loss** (RetinaNet): :func:`focal_loss`.
* **YOLOv8**: distances regressed as distributions over bins with the distribution focal loss
  (:func:`distribution_focal_loss`, :func:`distribution_to_distance`) and positives chosen by
  the task-aligned metric ``s^α · u^β`` (:func:`task_alignment_metric`).

Boxes are ``xyxy`` or ``cxcywh`` as each docstring says, normalized to the image. Losses take
a ``reduction``: ``"sum"`` (the default, as in the YOLOv1 loss of :mod:`yolo_lesson.loss`),
``"mean"`` (the mean of an empty input is 0, not NaN) or ``"none"``. Half-precision inputs are
computed, and returned, in float32.

References:

* Redmon & Farhadi, "YOLO9000: Better, Faster, Stronger", CVPR 2017 (anchors, sigmoid offsets,
  log-space sizes).
* Redmon & Farhadi, "YOLOv3: An Incremental Improvement", tech report 2018 (logistic
  objectness, independent logistic classifiers, one anchor per object, ignore threshold 0.5,
  nine anchors on three scales).
* Zheng et al., "Distance-IoU Loss", AAAI 2020 (CIoU); Bochkovskiy et al., "YOLOv4", 2020
  (CIoU box loss); YOLOv5 (Ultralytics, 2020) uses the detached, clamped CIoU as objectness
  target.
* Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017 (α = 0.25, γ = 2).
* Li et al., "Generalized Focal Loss", NeurIPS 2020 (distribution focal loss).
* Feng et al., "TOOD: Task-aligned One-stage Object Detection", ICCV 2021 (alignment metric).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ._checks import (
    require_choice,
    require_finite,
    require_float,
    require_last_dim,
    require_nonnegative_number,
    require_positive_int,
    require_tensor,
    shape_str,
    upcast,
)
from .boxes import CIOU_ALPHAS, ciou, diou, giou, iou

__all__ = [
    "YOLOV3_ANCHORS_PX",
    "REDUCTIONS",
    "IOU_KINDS",
    "cell_grid",
    "decode_anchor_boxes",
    "encode_anchor_boxes",
    "shape_iou",
    "AnchorAssignment",
    "assign_anchors",
    "bce_with_logits",
    "ignore_mask",
    "ObjectnessTerms",
    "objectness_loss",
    "box_loss",
    "iou_objectness_target",
    "focal_loss",
    "distribution_focal_loss",
    "distribution_to_distance",
    "task_alignment_metric",
]

# YOLOv3's nine COCO anchors (k-means on the training boxes), (width, height) in pixels of a
# 416 × 416 input, smallest first; three per scale (the 52×52, 26×26 and 13×13 grids).
# Divide by 416 to get them relative to the image.
YOLOV3_ANCHORS_PX = (
    (10, 13), (16, 30), (33, 23),
    (30, 61), (62, 45), (59, 119),
    (116, 90), (156, 198), (373, 326),
)

REDUCTIONS = ("sum", "mean", "none")
IOU_KINDS = ("iou", "giou", "diou", "ciou")
XY_TARGETS = ("offset", "logit")
_METRICS = {"iou": iou, "giou": giou, "diou": diou, "ciou": ciou}

# A centre exactly on a cell border has offset 0 (or 1), whose logit is infinite; targets are
# kept this far inside the cell. σ(±13.8) is 1e-6 away from 0 or 1.
OFFSET_EPS = 1e-6
# A zero-size target has log-size -∞; sizes are floored at a billionth of the image.
SIZE_EPS = 1e-9


# ---------------------------------------------------------------- checks and helpers


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / max(loss.numel(), 1)  # an empty input has mean 0, not 0/0
    return loss


def _broadcast_shape(**tensors: Tensor) -> torch.Size:
    """The broadcast leading shape (all but the last dimension) of named tensors, or a
    ValueError naming every shape."""
    try:
        return torch.broadcast_shapes(*(t.shape[:-1] for t in tensors.values()))
    except RuntimeError:
        shapes = ", ".join(f"{name} {shape_str(t.shape)}" for name, t in tensors.items())
        raise ValueError(f"leading dimensions must broadcast, got {shapes}") from None


def _require_same_shape(name: str, t: Tensor, ref_name: str, ref: Tensor) -> None:
    if t.shape != ref.shape:
        raise ValueError(
            f"{name} must have the shape of {ref_name}, {shape_str(ref.shape)}, got {shape_str(t.shape)}"
        )


def _require_in_range(name: str, t: Tensor, low: float, high: float) -> None:
    if t.numel() and not bool(((t >= low) & (t <= high)).all()):
        raise ValueError(
            f"{name} must lie in [{low:g}, {high:g}], got values from {float(t.min()):g} to {float(t.max()):g}"
        )


def _require_probability(name: str, value: object, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        expected = "a number in [0, 1] or None" if allow_none else "a number in [0, 1]"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return float(value)


def _require_bool(name: str, t: object, ref_name: str, ref: Tensor) -> Tensor:
    t = require_tensor(name, t)
    if t.dtype != torch.bool:
        raise ValueError(f"{name} must be a bool tensor, got dtype {t.dtype}")
    _require_same_shape(name, t, ref_name, ref)
    return t


def _logits_and_targets(logits: object, targets: object) -> tuple[Tensor, Tensor]:
    logits = upcast(require_float("logits", logits))
    targets = require_float("targets", targets)
    _require_same_shape("targets", targets, "logits", logits)
    _require_in_range("targets", targets, 0.0, 1.0)
    return logits, targets.to(logits.dtype)


# ---------------------------------------------------------------- anchors (YOLOv2, YOLOv3)


def cell_grid(S: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """The cell indices of an S×S grid as ``(c_x, c_y) = (column, row)``, the YOLOv2 paper's
    notation.

    Returns:
        ``Tensor[S, S, 2]``: entry ``[row, col]`` is ``(col, row)``. Add an anchor dimension
        (``cell_grid(S)[:, :, None, :]``) to broadcast it against ``Tensor[..., S, S, A, 4]``.
    """
    S = require_positive_int("S", S)
    if not isinstance(dtype, torch.dtype) or dtype == torch.bool or dtype.is_complex:
        raise ValueError(
            f"dtype must be a real torch.dtype (e.g. torch.float32 or torch.long), got {dtype!r}"
        )
    # The largest index, S - 1, must be exact in dtype (an integer dtype must hold it; a float
    # holds every integer up to 2 / eps: 2048 in float16, 256 in bfloat16, 2^24 in float32).
    largest = 2 / torch.finfo(dtype).eps if dtype.is_floating_point else torch.iinfo(dtype).max
    if S - 1 > largest:
        raise ValueError(
            f"S must be at most {int(largest) + 1} for dtype {dtype} (cell indices up to S - 1 "
            f"must be exact in it), got {S}"
        )
    index = torch.arange(S, dtype=dtype)
    rows, cols = torch.meshgrid(index, index, indexing="ij")  # each [S, S]
    return torch.stack((cols, rows), dim=-1)


def _check_anchor_inputs(
    name: str, boxes: object, fmt: str, cell_xy: object, anchors: object, S: int
) -> tuple[Tensor, Tensor, Tensor, int]:
    boxes = upcast(require_float(name, boxes))
    require_last_dim(name, boxes, 4, fmt)
    cell_xy = require_tensor("cell_xy", cell_xy)
    if cell_xy.is_complex() or cell_xy.dtype == torch.bool:
        raise ValueError(f"cell_xy must be a real tensor of cell indices, got dtype {cell_xy.dtype}")
    require_last_dim("cell_xy", cell_xy, 2, "c_x, c_y")
    anchors = require_float("anchors", anchors)
    require_last_dim("anchors", anchors, 2, "pw, ph")
    S = require_positive_int("S", S)
    if anchors.numel() and not bool((anchors > 0).all()):
        raise ValueError(f"anchors must be > 0 (widths and heights of priors), got min {float(anchors.min()):g}")
    _require_in_range("cell_xy", cell_xy, 0, S - 1)
    _broadcast_shape(**{name: boxes, "cell_xy": cell_xy, "anchors": anchors})
    return boxes, cell_xy.to(boxes.dtype), anchors.to(boxes.dtype), S


def decode_anchor_boxes(t: Tensor, cell_xy: Tensor, anchors: Tensor, S: int) -> Tensor:
    """Raw anchor outputs to image boxes (YOLOv2/v3):

    ``cx = (σ(tx) + c_x) / S``, ``cy = (σ(ty) + c_y) / S``, ``w = pw · exp(tw)``, ``h = ph · exp(th)``.

    The sigmoid keeps the centre inside its cell whatever the network says (YOLO9000 found
    unconstrained offsets, which let a box drift anywhere, unstable early in training); the exponential keeps the size positive and makes
    ``tw`` a log-scale factor of the prior, so t = 0 means "exactly the anchor".

    Args:
        t: ``Tensor[..., 4]``, raw ``(tx, ty, tw, th)``, e.g. ``[N, S, S, A, 4]``.
        cell_xy: ``Tensor[..., 2]``, the cell ``(c_x, c_y) = (column, row)``, broadcastable
            with ``t`` (e.g. ``cell_grid(S)[:, :, None, :]``, ``[S, S, 1, 2]``).
        anchors: ``Tensor[..., 2]``, priors ``(pw, ph) > 0`` relative to the image,
            broadcastable (e.g. ``[A, 2]``).
        S: grid size.

    Returns:
        ``Tensor[..., 4]`` in ``cxcywh``, normalized to the image (the broadcast shape). A huge
        ``tw`` overflows to an infinite width (float32: ``tw > 88``), as ``exp`` does.

    Reference: Redmon & Farhadi, "YOLO9000", CVPR 2017, section "Direct location prediction".
    """
    t, cell_xy, anchors, S = _check_anchor_inputs("t", t, "tx, ty, tw, th", cell_xy, anchors, S)
    centre = (torch.sigmoid(t[..., :2]) + cell_xy) / S  # [..., 2]
    size = anchors * torch.exp(t[..., 2:])  # [..., 2]
    return torch.cat(torch.broadcast_tensors(centre, size), dim=-1)


def encode_anchor_boxes(
    boxes: Tensor, cell_xy: Tensor, anchors: Tensor, S: int, *, xy_target: str = "offset"
) -> Tensor:
    """Image boxes to regression targets for the raw outputs of :func:`decode_anchor_boxes`.

    The size targets are the raw outputs that decode to the box: ``tw = log(w / pw)``,
    ``th = log(h / ph)``. The centre target has two forms (``xy_target``):

    * ``"offset"`` (the default; what the authors' code does): the offset inside the cell,
      ``cx · S - c_x`` and ``cy · S - c_y`` in ``[0, 1]``, to compare with the prediction's
      ``σ(tx), σ(ty)``. darknet's YOLOv2 and YOLOv3 layers (``delta_region_box`` in
      ``src/region_layer.c``, ``delta_yolo_box`` in ``src/yolo_layer.c``) take the squared
      error between the offset and the sigmoid-activated output; Ultralytics' YOLOv5 decodes
      the centre from a sigmoid too and compares boxes (CIoU), never a logit.
    * ``"logit"`` (the YOLO9000 text read literally): the raw output that decodes to the box,
      ``tx = logit(cx · S - c_x)``, to compare with ``tx`` itself, the exact inverse of the
      decoding. Near a cell border the logit runs off to ±∞: an offset of 0.001 asks for
      ``tx = -6.9``, and a squared error on ``tx`` then pulls far harder than the same miss on
      ``σ(tx)`` does. A centre on a border (offset 0 or 1) is moved ``1e-6`` inside the cell,
      so that the target stays finite.

    A zero size is floored at ``1e-9`` (its log would be ``-∞``).

    Args:
        boxes: ``Tensor[..., 4]`` in ``cxcywh``, normalized to the image, sizes ``>= 0``.
        cell_xy: ``Tensor[..., 2]``, the cell ``(c_x, c_y)`` that holds each centre.
        anchors: ``Tensor[..., 2]``, priors ``(pw, ph) > 0``.
        S: grid size.
        xy_target: ``"offset"`` or ``"logit"``.

    Returns:
        ``Tensor[..., 4]`` (the broadcast shape): ``(offset_x, offset_y, tw, th)`` for
        ``"offset"``, ``(tx, ty, tw, th)`` for ``"logit"``.

    Raises:
        ValueError: a centre outside its cell, a negative size, a non-finite box.
    """
    xy_target = require_choice("xy_target", xy_target, XY_TARGETS)
    boxes, cell_xy, anchors, S = _check_anchor_inputs("boxes", boxes, "cxcywh", cell_xy, anchors, S)
    require_finite("boxes", boxes)
    _require_in_range("boxes widths and heights", boxes[..., 2:], 0.0, math.inf)
    offset = boxes[..., :2] * S - cell_xy  # [..., 2], in [0, 1] inside the cell
    tolerance = 1e-6 * S  # rounding of cx · S
    if offset.numel() and not bool(((offset >= -tolerance) & (offset <= 1 + tolerance)).all()):
        raise ValueError(
            "boxes centres must lie in their cells: cx · S - c_x and cy · S - c_y in [0, 1], "
            f"got values from {float(offset.min()):g} to {float(offset.max()):g}"
        )
    if xy_target == "offset":
        txy = offset.clamp(0, 1)  # within the rounding tolerance: onto the border
    else:
        txy = torch.logit(offset.clamp(OFFSET_EPS, 1 - OFFSET_EPS))
    twh = torch.log(boxes[..., 2:].clamp(min=SIZE_EPS) / anchors)
    return torch.cat(torch.broadcast_tensors(txy, twh), dim=-1)


def _centred(wh: Tensor) -> Tensor:
    """``(w, h)`` to an ``xyxy`` box centred on the origin."""
    return torch.cat((-wh / 2, wh / 2), dim=-1)


def shape_iou(wh_a: Tensor, wh_b: Tensor) -> Tensor:
    """Elementwise IoU of two box *shapes*, as if their centres coincided:
    ``min(w_a, w_b) · min(h_a, h_b) / (w_a h_a + w_b h_b - min(w_a, w_b) · min(h_a, h_b))``.

    Args:
        wh_a: ``Tensor[..., 2]``, ``(w, h) >= 0``.
        wh_b: ``Tensor[..., 2]``, broadcastable with ``wh_a``.

    Returns:
        ``Tensor[...]`` in ``[0, 1]``; 0 when both shapes have zero area.
    """
    for name, wh in (("wh_a", wh_a), ("wh_b", wh_b)):
        require_float(name, wh)
        require_last_dim(name, wh, 2, "w, h")
        _require_in_range(name, wh, 0.0, math.inf)
    _broadcast_shape(wh_a=wh_a, wh_b=wh_b)
    return iou(_centred(wh_a), _centred(wh_b))


class AnchorAssignment(NamedTuple):
    """Which anchor answers for each of K objects.

    Attributes:
        anchor: ``Tensor[K]`` long, the index of the anchor with the highest shape IoU (the
            first one on a tie).
        ious: ``Tensor[K, A]``, the shape IoU of every object with every anchor.
    """

    anchor: Tensor
    ious: Tensor


def assign_anchors(wh: Tensor, anchors: Tensor) -> AnchorAssignment:
    """Gives each object the anchor whose shape fits it best (YOLOv2/v3: one anchor per object,
    compared by IoU with the centres aligned, so only the shapes count).

    Args:
        wh: ``Tensor[K, 2]``, the objects' ``(w, h) >= 0``.
        anchors: ``Tensor[A, 2]``, the priors ``(pw, ph) > 0``, same units as ``wh``.

    Returns:
        :class:`AnchorAssignment`; with K = 0, an empty ``anchor`` and ``ious`` ``[0, A]``.

    Reference: Redmon & Farhadi, "YOLOv3", 2018, section 2.1.
    """
    for name, t, letter in (("wh", wh, "K"), ("anchors", anchors, "A")):
        require_float(name, t)
        if t.dim() != 2 or t.shape[-1] != 2:
            raise ValueError(f"{name} must be [{letter}, 2] (w, h), got {shape_str(t.shape)}")
    if anchors.shape[0] == 0:
        raise ValueError("anchors must hold at least one prior, got [0, 2]")
    if not bool((anchors > 0).all()):
        raise ValueError(f"anchors must be > 0 (widths and heights of priors), got min {float(anchors.min()):g}")
    ious = shape_iou(wh[:, None, :], anchors[None, :, :])  # [K, A]
    return AnchorAssignment(ious.argmax(dim=-1), ious)  # argmax: first index on a tie


# ---------------------------------------------------------------- BCE on logits (YOLOv3)


def bce_with_logits(logits: Tensor, targets: Tensor, reduction: str = "sum") -> Tensor:
    """Binary cross-entropy of ``σ(logits)`` against ``targets``, computed from the logits:

    ``max(x, 0) - x·y + log(1 + exp(-|x|))``  (= ``-y log σ(x) - (1 - y) log(1 - σ(x))``),

    which never takes the log of a rounded-off 0 and whose gradient is exactly ``σ(x) - y``.
    Computing ``σ`` first and the log after loses the loss once ``σ(x)`` rounds to 0 or 1
    (float32: ``|x| > 17``). This is ``torch.nn.functional.binary_cross_entropy_with_logits``
    with the argument checks of the package.

    Args:
        logits: ``Tensor[...]``, raw scores (objectness, or per-class scores).
        targets: ``Tensor[...]``, same shape, in ``[0, 1]`` (0/1 labels, or soft targets).
        reduction: ``"sum"``, ``"mean"`` or ``"none"``.

    Returns:
        A scalar, or ``Tensor[...]`` for ``"none"``.

    Reference: Redmon & Farhadi, "YOLOv3", 2018, sections 2.1-2.2 (logistic objectness,
    independent logistic classifiers instead of a softmax).
    """
    logits, targets = _logits_and_targets(logits, targets)
    reduction = require_choice("reduction", reduction, REDUCTIONS)
    return _reduce(F.binary_cross_entropy_with_logits(logits, targets, reduction="none"), reduction)


def ignore_mask(pred_boxes: Tensor, gt_boxes: Tensor, threshold: float = 0.5) -> Tensor:
    """YOLOv3's ignore rule: a prediction whose best IoU with any ground-truth box exceeds
    ``threshold`` is not pushed towards "no object", even if it is not the one assigned to
    that object. It is already a good box; punishing it would fight the box regression.

    Args:
        pred_boxes: ``Tensor[..., P, 4]`` in ``xyxy``, the decoded predictions of one image
            (or a batch, ``[N, P, 4]``).
        gt_boxes: ``Tensor[..., K, 4]`` in ``xyxy``, finite, the image's objects; leading dimensions
            broadcast with ``pred_boxes`` (zero-size padding boxes have IoU 0 and never count).
        threshold: the IoU above which a prediction is ignored (the paper: 0.5; Darknet's
            released ``yolov3.cfg`` uses ``ignore_thresh = .7``).

    Returns:
        ``Tensor[..., P]`` bool, no gradient; all False when K = 0.

    Reference: Redmon & Farhadi, "YOLOv3", 2018, section 2.1.
    """
    for name, boxes, letter in (("pred_boxes", pred_boxes, "P"), ("gt_boxes", gt_boxes, "K")):
        require_float(name, boxes)
        if boxes.dim() < 2 or boxes.shape[-1] != 4:
            raise ValueError(f"{name} must be [..., {letter}, 4] (xyxy), got {shape_str(boxes.shape)}")
    require_finite("gt_boxes", gt_boxes)  # a NaN IoU compares False: nothing would be ignored
    threshold = _require_probability("threshold", threshold)
    with torch.no_grad():
        try:
            ious = iou(pred_boxes[..., :, None, :], gt_boxes[..., None, :, :])  # [..., P, K]
        except ValueError:
            raise ValueError(
                f"pred_boxes and gt_boxes must have broadcastable leading dimensions, got "
                f"{shape_str(pred_boxes.shape)} and {shape_str(gt_boxes.shape)}"
            ) from None
        if ious.shape[-1] == 0:
            return torch.zeros(ious.shape[:-1], dtype=torch.bool, device=ious.device)
        return ious.amax(dim=-1) > threshold


class ObjectnessTerms(NamedTuple):
    """The two parts of a logistic objectness loss, each a scalar (summed).

    Attributes:
        obj: BCE of the positive predictions towards their target (1, or their IoU).
        noobj: BCE of the other, not ignored, predictions towards 0.
    """

    obj: Tensor
    noobj: Tensor


def objectness_loss(
    logits: Tensor,
    positive: Tensor,
    target: Tensor | None = None,
    ignore: Tensor | None = None,
) -> ObjectnessTerms:
    """Objectness as logistic regression (YOLOv3): positives towards their target, every other
    prediction towards 0, except those in ``ignore``.

    Args:
        logits: ``Tensor[...]``, raw objectness scores (e.g. ``[N, S, S, A]``).
        positive: ``Tensor[...]`` bool, the predictions assigned to an object.
        target: ``Tensor[...]`` in ``[0, 1]``, the positives' targets; ``None`` for 1 (YOLOv3),
            or :func:`iou_objectness_target` (YOLOv5). Read only where ``positive``.
        ignore: ``Tensor[...]`` bool, left out of the no-object part (:func:`ignore_mask`);
            a positive is never ignored.

    Returns:
        :class:`ObjectnessTerms` ``(obj, noobj)``, sums over the predictions (divide by the
        batch size yourself, as the YOLOv1 loss does).
    """
    logits = upcast(require_float("logits", logits))
    positive = _require_bool("positive", positive, "logits", logits)
    if target is None:
        target = torch.ones_like(logits)
    else:
        target = require_float("target", target)
        _require_same_shape("target", target, "logits", logits)
        _require_in_range("target", target, 0.0, 1.0)
        target = target.to(logits.dtype)
    negative = ~positive
    if ignore is not None:
        negative = negative & ~_require_bool("ignore", ignore, "logits", logits)
    # torch.where, not a product with the mask: an entry outside the mask must not add 0 · inf.
    obj = torch.where(positive, F.binary_cross_entropy_with_logits(logits, target, reduction="none"), 0)
    noobj = torch.where(negative, F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits), reduction="none"), 0)
    return ObjectnessTerms(obj.sum(), noobj.sum())


# ---------------------------------------------------------------- IoU-family box loss (YOLOv4/v5)


def _check_box_pair(pred_boxes: object, true_boxes: object) -> None:
    for name, boxes in (("pred_boxes", pred_boxes), ("true_boxes", true_boxes)):
        require_float(name, boxes)
        require_last_dim(name, boxes, 4, "xyxy")
    _broadcast_shape(pred_boxes=pred_boxes, true_boxes=true_boxes)
    require_finite("true_boxes", true_boxes)  # targets; predictions stay unchecked, as in loss.py


def box_loss(
    pred_boxes: Tensor,
    true_boxes: Tensor,
    kind: str = "ciou",
    reduction: str = "sum",
    *,
    ciou_alpha: str = "constant",
) -> Tensor:
    """IoU-family box loss, ``1 - metric(pred, true)``, with ``metric`` one of
    :func:`~yolo_lesson.boxes.iou`, ``giou``, ``diou``, ``ciou``.

    Unlike YOLOv1's squared errors on ``(x, y, √w, √h)``, it measures the boxes as boxes: it is
    scale invariant (the same relative miss costs the same on a small and a large object) and is
    exactly what the evaluation (IoU) rewards. ``"iou"`` has no gradient for disjoint boxes;
    GIoU, DIoU and CIoU add penalties that do.

    Args:
        pred_boxes: ``Tensor[..., 4]`` in ``xyxy``.
        true_boxes: ``Tensor[..., 4]`` in ``xyxy``, finite, broadcastable.
        kind: ``"iou"``, ``"giou"``, ``"diou"`` or ``"ciou"`` (YOLOv4 and YOLOv5: CIoU).
        reduction: ``"sum"``, ``"mean"`` or ``"none"``.
        ciou_alpha: for ``kind="ciou"``, how CIoU's weight ``α = v / (1 - IoU + v)`` enters
            the gradient (see :func:`~yolo_lesson.boxes.ciou`): ``"constant"`` (the default,
            as in Ultralytics' ``bbox_iou`` and the CIoU authors' own code: α computed without
            gradient) or ``"differentiable"`` (the exact derivative of ``1 - CIoU``). The
            loss's value is the same; only its gradient differs.

    Returns:
        A scalar, or ``Tensor[...]`` for ``"none"``; each term in ``[0, 2)`` (``[0, 1]`` for IoU).

    Reference: Zheng et al., AAAI 2020; Bochkovskiy et al., "YOLOv4", 2020.
    """
    _check_box_pair(pred_boxes, true_boxes)
    kind = require_choice("kind", kind, IOU_KINDS)
    reduction = require_choice("reduction", reduction, REDUCTIONS)
    ciou_alpha = require_choice("ciou_alpha", ciou_alpha, CIOU_ALPHAS)
    if kind == "ciou":
        return _reduce(1 - ciou(pred_boxes, true_boxes, alpha=ciou_alpha), reduction)
    return _reduce(1 - _METRICS[kind](pred_boxes, true_boxes), reduction)


def iou_objectness_target(pred_boxes: Tensor, true_boxes: Tensor, kind: str = "ciou") -> Tensor:
    """The objectness target of a positive prediction as in YOLOv5: its box's IoU-family value
    with the object, detached (a target, so the box is not made worse to lower the loss) and
    clamped at 0 (GIoU, DIoU and CIoU can be negative; BCE targets live in ``[0, 1]``).

    The same idea as YOLOv1's IoU confidence target, now learned by BCE: the objectness score
    estimates how good the box is, not only whether an object is there.

    Args:
        pred_boxes: ``Tensor[..., 4]`` in ``xyxy``.
        true_boxes: ``Tensor[..., 4]`` in ``xyxy``, finite, broadcastable.
        kind: ``"iou"``, ``"giou"``, ``"diou"`` or ``"ciou"`` (YOLOv5: CIoU).

    Returns:
        ``Tensor[...]`` in ``[0, 1]``, without gradient.
    """
    _check_box_pair(pred_boxes, true_boxes)
    kind = require_choice("kind", kind, IOU_KINDS)
    return _METRICS[kind](pred_boxes, true_boxes).detach().clamp(min=0)


# ---------------------------------------------------------------- focal loss (RetinaNet)


def focal_loss(
    logits: Tensor,
    targets: Tensor,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    reduction: str = "sum",
) -> Tensor:
    """Focal loss: BCE scaled down where the prediction is already right,

    ``FL = α_t · (1 - p_t)^γ · BCE(x, y)``, with ``p = σ(x)``, ``p_t = p·y + (1 - p)(1 - y)``
    and ``α_t = α·y + (1 - α)(1 - y)``.

    Tens of thousands of easy background predictions (``p_t`` near 1) each add a small BCE
    that together drown the few objects; the factor ``(1 - p_t)^γ`` all but removes them.
    ``γ = 0`` and ``alpha=None`` give plain BCE. ``1 - p_t`` is computed as
    ``y·σ(-x) + (1 - y)·σ(x)``, which does not round to 0 before ``σ`` itself underflows.

    Args:
        logits: ``Tensor[...]``, raw scores.
        targets: ``Tensor[...]``, same shape, in ``[0, 1]``.
        alpha: weight of the positives (negatives get ``1 - α``), or ``None`` for no weighting
            (the paper: 0.25).
        gamma: focusing exponent ``>= 0`` (the paper: 2).
        reduction: ``"sum"``, ``"mean"`` or ``"none"``.

    Returns:
        A scalar, or ``Tensor[...]`` for ``"none"``.

    Reference: Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017, equation 5 and
    section 5.1 (α = 0.25, γ = 2 work best).
    """
    logits, targets = _logits_and_targets(logits, targets)
    alpha = _require_probability("alpha", alpha, allow_none=True)
    gamma = require_nonnegative_number("gamma", gamma)
    reduction = require_choice("reduction", reduction, REDUCTIONS)
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    one_minus_pt = targets * torch.sigmoid(-logits) + (1 - targets) * torch.sigmoid(logits)
    # The floor keeps the gradient of (1 - p_t)^γ finite for γ < 1 where σ underflows to 0.
    loss = one_minus_pt.clamp(min=torch.finfo(logits.dtype).tiny) ** gamma * bce
    if alpha is not None:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- YOLOv8: DFL and task alignment


def _check_distribution(logits: object) -> Tensor:
    logits = upcast(require_float("logits", logits))
    if logits.dim() == 0 or logits.shape[-1] < 2:
        raise ValueError(f"logits must be [..., R] with R >= 2 bins, got {shape_str(logits.shape)}")
    return logits


def distribution_focal_loss(logits: Tensor, target: Tensor, reduction: str = "sum") -> Tensor:
    """Distribution focal loss: a distance is predicted as a distribution over the bins
    ``0, 1, …, R - 1``, and trained to put its mass on the two bins around the target:

    ``DFL = -((i + 1 - y) · log p_i + (y - i) · log p_{i+1})``, ``i = floor(y)``, ``p = softmax(logits)``.

    Its minimum (over distributions) is at ``p_i = i + 1 - y``, ``p_{i+1} = y - i``, whose mean
    is exactly ``y``; a target on a bin gives ``-log p`` of that bin. YOLOv8 uses R = 16 bins
    per side of the box (distances from the anchor point to the four sides, in stride units).

    Args:
        logits: ``Tensor[..., R]``, R >= 2 raw bin scores.
        target: ``Tensor[...]``, the distances in bin units, in ``[0, R - 1]``.
        reduction: ``"sum"``, ``"mean"`` or ``"none"``.

    Returns:
        A scalar, or ``Tensor[...]`` for ``"none"``.

    Reference: Li et al., "Generalized Focal Loss", NeurIPS 2020 (section 3, DFL).
    """
    logits = _check_distribution(logits)
    target = require_float("target", target)
    if target.shape != logits.shape[:-1]:
        raise ValueError(
            f"target must be logits' shape without the bins, {shape_str(logits.shape[:-1])}, "
            f"got {shape_str(target.shape)}"
        )
    R = logits.shape[-1]
    # -inf is a bin of probability 0 (a masked bin); NaN and +inf have no probability at all.
    if bool((torch.isnan(logits) | torch.isposinf(logits)).any()):
        bad = int((torch.isnan(logits) | torch.isposinf(logits)).sum())
        raise ValueError(f"logits must be finite or -inf (a bin of probability 0), got {bad} NaN or +inf value(s)")
    if logits.numel() and bool(torch.isneginf(logits).all(-1).any()):
        raise ValueError("logits must have a finite bin in every distribution, got one that is all -inf")
    _require_in_range("target", target, 0.0, R - 1)
    reduction = require_choice("reduction", reduction, REDUCTIONS)
    target = target.to(logits.dtype)
    left = target.floor().clamp(max=R - 2).long()  # [...]; y = R - 1 uses bins R - 2, R - 1
    weight_left = (left + 1) - target  # [...], in [0, 1]
    log_p = torch.log_softmax(logits, dim=-1)  # [..., R]
    log_p_left = log_p.gather(-1, left[..., None]).squeeze(-1)  # [...]
    log_p_right = log_p.gather(-1, left[..., None] + 1).squeeze(-1)  # [...]
    # A bin of weight 0 adds nothing, even when its log-probability is -inf (0 · -inf is NaN).
    left_part = torch.where(weight_left == 0, 0.0, weight_left * log_p_left)
    right_part = torch.where(weight_left == 1, 0.0, (1 - weight_left) * log_p_right)
    loss = -(left_part + right_part)
    return _reduce(loss, reduction)


def distribution_to_distance(logits: Tensor) -> Tensor:
    """The distance a bin distribution stands for: its mean ``Σ_i i · softmax(logits)_i``.

    Args:
        logits: ``Tensor[..., R]``, R >= 2 raw bin scores.

    Returns:
        ``Tensor[...]`` in ``[0, R - 1]``, bin units.

    Reference: Li et al., "Generalized Focal Loss", NeurIPS 2020 (the integral over the
    discretized distribution).
    """
    logits = _check_distribution(logits)
    bins = torch.arange(logits.shape[-1], dtype=logits.dtype, device=logits.device)
    return (torch.softmax(logits, dim=-1) * bins).sum(-1)


def task_alignment_metric(scores: Tensor, ious: Tensor, alpha: float = 0.5, beta: float = 6.0) -> Tensor:
    """The task-aligned assignment metric ``t = s^α · u^β``: a candidate is a good positive
    when it both scores the right class (``s``) and localizes the object (``u``, the IoU).

    It ranks candidates for assignment (the top-k per object become positives) and scales their
    targets; it is not a loss and carries no gradient.

    Args:
        scores: ``Tensor[...]`` in ``[0, 1]``, predicted probability of the object's class.
        ious: ``Tensor[...]`` in ``[0, 1]``, broadcastable, IoU of the predicted box with the object.
        alpha: exponent of the score. The default 0.5 is what Ultralytics' YOLOv8 detection loss
            passes to its assigner; TOOD's own assigner uses 1.
        beta: exponent of the IoU; 6 in TOOD and in YOLOv8.

    Returns:
        ``Tensor[...]`` in ``[0, 1]``, the broadcast shape, without gradient.

    Reference: Feng et al., "TOOD", ICCV 2021, section 3.3 (the metric); Ultralytics YOLOv8
    (``TaskAlignedAssigner(topk=10, alpha=0.5, beta=6.0)`` in its detection loss).
    """
    scores = upcast(require_float("scores", scores))
    ious = upcast(require_float("ious", ious))
    _require_in_range("scores", scores, 0.0, 1.0)
    _require_in_range("ious", ious, 0.0, 1.0)
    alpha = require_nonnegative_number("alpha", alpha)
    beta = require_nonnegative_number("beta", beta)
    try:
        torch.broadcast_shapes(scores.shape, ious.shape)
    except RuntimeError:
        raise ValueError(
            f"scores and ious must broadcast, got {shape_str(scores.shape)} and {shape_str(ious.shape)}"
        ) from None
    with torch.no_grad():
        return scores.pow(alpha) * ious.pow(beta)
