"""Boxes: formats, area, and the IoU family.

Two formats appear in the course, always stated in the docstring:

* ``xyxy``: ``(x1, y1, x2, y2)``, the top-left and bottom-right corners, ``x1 <= x2``, ``y1 <= y2``;
* ``cxcywh``: ``(cx, cy, w, h)``, the centre and the size.

Coordinates are normalized to the image (``[0, 1]``) unless a function says otherwise; none of
the functions here depends on that, so pixel coordinates work too.

The IoU family (``iou``, ``giou``, ``diou``, ``ciou``) returns *values*, elementwise and
broadcasting over leading dimensions; a loss is ``1 - value``. An inverted box (``x2 < x1``,
as a network can predict) has zero area, and zero-area boxes give finite values and finite
gradients. Half-precision inputs are computed in float32 and returned in float32.

References: Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019 (GIoU);
Zheng et al., "Distance-IoU Loss", AAAI 2020 (DIoU, CIoU).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._checks import require_choice, require_float, require_last_dim, shape_str, upcast

__all__ = [
    "cxcywh_to_xyxy",
    "xyxy_to_cxcywh",
    "box_area",
    "box_iou",
    "iou",
    "giou",
    "diou",
    "ciou",
]


def _divide(num: Tensor, den: Tensor) -> Tensor:
    """``num / den``, guarded for an empty union, a point-sized enclosing box or a perfect match.

    Every denominator here is ``>= 0`` and is 0 only where its numerator is 0 as well, so the
    guard divides by 1 there and returns 0 with a finite gradient. Any positive denominator is
    used as it is: an absolute epsilon (``den + 1e-7``, ``den.clamp(min=1e-7)``) would change the
    values of small boxes and break the scale invariance of the whole family. The threshold is
    the dtype's smallest normal number, below which ``1 / den`` (and so the gradient) overflows.
    """
    usable = den > torch.finfo(den.dtype).tiny
    return num / torch.where(usable, den, 1)


def _check_boxes(name: str, boxes: object, fmt: str) -> Tensor:
    boxes = require_float(name, boxes)
    require_last_dim(name, boxes, 4, fmt)
    return boxes


def cxcywh_to_xyxy(boxes: Tensor) -> Tensor:
    """Centre format to corner format.

    Args:
        boxes: ``Tensor[..., 4]`` in ``cxcywh``.

    Returns:
        ``Tensor[..., 4]`` in ``xyxy``.

    Example: ``cxcywh_to_xyxy(torch.tensor([0.5, 0.5, 0.2, 0.4]))`` is ``[0.4, 0.3, 0.6, 0.7]``.
    """
    boxes = _check_boxes("boxes", boxes, "cxcywh")
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)


def xyxy_to_cxcywh(boxes: Tensor) -> Tensor:
    """Corner format to centre format.

    Args:
        boxes: ``Tensor[..., 4]`` in ``xyxy``.

    Returns:
        ``Tensor[..., 4]`` in ``cxcywh``.

    Example: ``xyxy_to_cxcywh(torch.tensor([0.4, 0.3, 0.6, 0.7]))`` is ``[0.5, 0.5, 0.2, 0.4]``.
    """
    boxes = _check_boxes("boxes", boxes, "xyxy")
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def box_area(boxes: Tensor) -> Tensor:
    """Area of ``xyxy`` boxes; an inverted box (``x2 < x1`` or ``y2 < y1``) has area 0.

    Args:
        boxes: ``Tensor[..., 4]`` in ``xyxy``.

    Returns:
        ``Tensor[...]``.
    """
    boxes = _check_boxes("boxes", boxes, "xyxy")
    return _area(boxes)


def _area(boxes: Tensor) -> Tensor:
    x1, y1, x2, y2 = boxes.unbind(-1)
    return (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)


def _broadcast_pair(a: object, b: object) -> tuple[Tensor, Tensor]:
    """Checks two box tensors and broadcasts them explicitly, so that a shape mismatch is a
    ValueError naming both shapes rather than a silent broadcast or a RuntimeError."""
    a = upcast(_check_boxes("a", a, "xyxy"))
    b = upcast(_check_boxes("b", b, "xyxy"))
    try:
        shape = torch.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    except RuntimeError:
        raise ValueError(
            f"a and b must have broadcastable leading dimensions, got a {shape_str(a.shape)} "
            f"and b {shape_str(b.shape)}"
        ) from None
    dtype = torch.promote_types(a.dtype, b.dtype)
    return a.to(dtype).expand(*shape, 4), b.to(dtype).expand(*shape, 4)


def _inter_union(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Intersection and union areas of already broadcast ``xyxy`` boxes: the one helper that
    every IoU variant builds on. Coordinates are taken one by one (``unbind``), so that each
    elementwise operation runs over all boxes at once rather than over pairs of numbers."""
    ax1, ay1, ax2, ay2 = a.unbind(-1)
    bx1, by1, bx2, by2 = b.unbind(-1)
    overlap_w = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp(min=0)
    overlap_h = (torch.minimum(ay2, by2) - torch.maximum(ay1, by1)).clamp(min=0)
    inter = overlap_w * overlap_h
    union = _area(a) + _area(b) - inter
    return inter, union


def _iou(a: Tensor, b: Tensor) -> Tensor:
    inter, union = _inter_union(a, b)
    return _divide(inter, union)


def _enclosing(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Top-left and bottom-right corners of the smallest box enclosing both, each ``[..., 2]``."""
    return torch.minimum(a[..., :2], b[..., :2]), torch.maximum(a[..., 2:], b[..., 2:])


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise IoU: every box of ``boxes1`` against every box of ``boxes2``.

    Args:
        boxes1: ``Tensor[N, 4]`` in ``xyxy``.
        boxes2: ``Tensor[M, 4]`` in ``xyxy``.

    Returns:
        ``Tensor[N, M]``: entry ``[i, j]`` is the IoU of ``boxes1[i]`` and ``boxes2[j]``.
    """
    for name, boxes in (("boxes1", boxes1), ("boxes2", boxes2)):
        boxes = _check_boxes(name, boxes, "xyxy")
        if boxes.dim() != 2:
            raise ValueError(f"{name} must be [N, 4] (xyxy), got {shape_str(boxes.shape)}")
    a, b = _broadcast_pair(boxes1[:, None, :], boxes2[None, :, :])  # [N, M, 4] each
    return _iou(a, b)


def iou(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise intersection over union, ``|A ∩ B| / |A ∪ B|``, in ``[0, 1]``.

    Args:
        a: ``Tensor[..., 4]`` in ``xyxy``.
        b: ``Tensor[..., 4]`` in ``xyxy``, broadcastable with ``a``.

    Returns:
        ``Tensor[...]`` (the broadcast leading shape).

    Example: two unit squares shifted by half a side overlap in 0.5, their union is 1.5,
    so ``iou`` is 1/3.
    """
    a, b = _broadcast_pair(a, b)
    return _iou(a, b)


def giou(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise generalized IoU, ``IoU - |C \\ (A ∪ B)| / |C|`` with ``C`` the smallest
    box enclosing both; in ``(-1, 1]``. Unlike IoU it keeps falling as disjoint boxes move
    apart, so it still has a gradient when they do not overlap.

    Args:
        a: ``Tensor[..., 4]`` in ``xyxy``.
        b: ``Tensor[..., 4]`` in ``xyxy``, broadcastable with ``a``.

    Returns:
        ``Tensor[...]``.

    Reference: Rezatofighi et al., CVPR 2019, Algorithm 1.
    """
    a, b = _broadcast_pair(a, b)
    inter, union = _inter_union(a, b)
    top_left, bottom_right = _enclosing(a, b)
    size = (bottom_right - top_left).clamp(min=0)  # [..., 2]: enclosing width and height
    hull = size[..., 0] * size[..., 1]
    return _divide(inter, union) - _divide(hull - union, hull)


def _centre_penalty(a: Tensor, b: Tensor) -> Tensor:
    """``ρ²(centre_a, centre_b) / c²``: squared centre distance over the squared diagonal of
    the enclosing box; in ``[0, 1)``."""
    centre_a = (a[..., :2] + a[..., 2:]) / 2
    centre_b = (b[..., :2] + b[..., 2:]) / 2
    rho2 = ((centre_a - centre_b) ** 2).sum(-1)
    top_left, bottom_right = _enclosing(a, b)
    c2 = ((bottom_right - top_left) ** 2).sum(-1)
    return _divide(rho2, c2)


def diou(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise distance IoU, ``IoU - ρ²(centres) / c²`` with ``c`` the diagonal of the
    smallest enclosing box; in ``(-1, 1]``. The penalty pulls the centres together directly.

    Args:
        a: ``Tensor[..., 4]`` in ``xyxy``.
        b: ``Tensor[..., 4]`` in ``xyxy``, broadcastable with ``a``.

    Returns:
        ``Tensor[...]``.

    Reference: Zheng et al., AAAI 2020, equation 6.
    """
    a, b = _broadcast_pair(a, b)
    return _iou(a, b) - _centre_penalty(a, b)


def _aspect_angle(boxes: Tensor) -> Tensor:
    """``arctan(w / h)`` in ``[0, π/2]``, written as ``atan2(w, h)`` so that it stays exactly
    scale invariant and a zero height gives π/2; only the 0/0 of a point box, whose gradient
    would be NaN, is replaced by ``atan2(0, 1) = 0``."""
    width = (boxes[..., 2] - boxes[..., 0]).clamp(min=0)
    height = (boxes[..., 3] - boxes[..., 1]).clamp(min=0)
    point = (width == 0) & (height == 0)
    return torch.atan2(width, torch.where(point, torch.ones_like(height), height))


CIOU_ALPHAS = ("differentiable", "constant")


def ciou(a: Tensor, b: Tensor, *, alpha: str = "differentiable") -> Tensor:
    """Elementwise complete IoU, ``DIoU - α·v``, adding an aspect-ratio term
    ``v = 4/π² · (arctan(w_a/h_a) - arctan(w_b/h_b))²`` with ``α = v / (1 - IoU + v)``.

    Symmetric in ``a`` and ``b``. The value does not depend on ``alpha``; the gradient does:

    * ``alpha="differentiable"`` (the default): ``α`` is an ordinary function of the boxes,
      so the gradient is the exact derivative of the value, ``α·∂v + v·∂α`` in the last term.
    * ``alpha="constant"``: ``α`` is computed without gradient, so the last term contributes
      ``α·∂v`` only. This is what a CIoU *loss* does in the authors' code (Zheng et al.,
      ``DIoU-SSD-pytorch``, ``bbox_overlaps_ciou``) and in Ultralytics (``bbox_iou`` in
      ``ultralytics/utils/metrics.py``, used by YOLOv5 and YOLOv8's box loss): there the
      weight α only scales the aspect-ratio pull, it is not itself a path to follow.

    Args:
        a: ``Tensor[..., 4]`` in ``xyxy``.
        b: ``Tensor[..., 4]`` in ``xyxy``, broadcastable with ``a``.
        alpha: ``"differentiable"`` or ``"constant"``.

    Returns:
        ``Tensor[...]``.

    Reference: Zheng et al., AAAI 2020, equations 8-11.
    """
    alpha = require_choice("alpha", alpha, CIOU_ALPHAS)
    a, b = _broadcast_pair(a, b)
    value = _iou(a, b)
    v = (4 / math.pi**2) * (_aspect_angle(a) - _aspect_angle(b)) ** 2
    weight = _divide(v, 1 - value + v)
    if alpha == "constant":
        weight = weight.detach()
    return value - _centre_penalty(a, b) - weight * v
