"""The S×S grid: the layouts of YOLOv1 predictions and targets, encoding ground truth as
targets and decoding predictions back.

The image is cut into ``S × S`` cells. An object belongs to the cell that holds its centre:
``row = floor(cy · S)``, ``col = floor(cx · S)``, clamped to ``S - 1`` so that a centre at
exactly 1.0 still lands in the last cell. Inside its cell the centre is stored as an offset
``x = cx · S - col``, ``y = cy · S - row`` in ``[0, 1)`` (equal to 1 only for a centre exactly
on the image's right or bottom border), and the size ``w, h`` relative to the whole image.

Per cell the target holds ``(x, y, w, h, obj, one-hot class)``: ``Tensor[S, S, 5 + C]``.
A YOLOv1 cell can hold one object. When two centres fall in one cell, the object listed first
keeps the cell and the later ones are dropped; :func:`assign_cells` says which.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch
from torch import Tensor

from ._checks import (
    require_choice,
    require_finite,
    require_float,
    require_int,
    require_positive_int,
    shape_str,
    upcast,
)
from .boxes import cxcywh_to_xyxy

__all__ = [
    "CellAssignment",
    "assign_cells",
    "encode_targets",
    "encode_batch",
    "cells_to_image",
    "check_pred",
    "check_target",
    "Detections",
    "decode_predictions",
    "WH_MODES",
    "SCORINGS",
    "size_from_output",
]

# What a network's w, h outputs mean, shared by the loss, the decoding and the widgets:
# "predicted_sqrt" (the paper, section 2.2, and darknet's `sqrt=1`): the outputs are √w, √h;
# the three others (tutorial variants): the outputs are w, h themselves, rooted in the loss.
WH_MODES = ("predicted_sqrt", "signed_sqrt", "clamped_sqrt", "linear")


class CellAssignment(NamedTuple):
    """Where each of K objects goes on the grid.

    Attributes:
        rows: ``Tensor[K]`` long, ``floor(cy · S)`` clamped to ``S - 1``.
        cols: ``Tensor[K]`` long, ``floor(cx · S)`` clamped to ``S - 1``.
        kept: ``Tensor[K]`` bool, False for an object whose cell an earlier object took.
    """

    rows: Tensor
    cols: Tensor
    kept: Tensor

    @property
    def dropped(self) -> Tensor:
        """``Tensor[D]`` long: indices of the objects that lost their cell to an earlier one."""
        return torch.nonzero(~self.kept).flatten()


def _check_box_layout(boxes: object, name: str = "boxes") -> Tensor:
    boxes = require_float(name, boxes)
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must be [K, 4] (cxcywh in [0, 1]), got {shape_str(boxes.shape)}")
    return boxes


def _check_boxes(boxes: object) -> Tensor:
    boxes = _check_box_layout(boxes)
    require_finite("boxes", boxes)
    centres, sizes = boxes[:, :2], boxes[:, 2:]
    if bool(((centres < 0) | (centres > 1)).any()):
        raise ValueError(
            f"boxes centres (cx, cy) must lie in [0, 1], got values from "
            f"{float(centres.min()):.4g} to {float(centres.max()):.4g}"
        )
    if bool(((sizes < 0) | (sizes > 1)).any()):
        raise ValueError(
            f"boxes sizes (w, h) must lie in [0, 1] (no negative size), got values from "
            f"{float(sizes.min()):.4g} to {float(sizes.max()):.4g}"
        )
    return boxes


def _check_labels_layout(labels: object, K: int, name: str = "labels") -> Tensor:
    labels = require_int(name, labels)
    if labels.dim() != 1 or labels.shape[0] != K:
        raise ValueError(
            f"{name} must be [K] with K = {K} (one per box), "
            f"got {shape_str(labels.shape)}"
        )
    return labels


def _check_labels(labels: object, K: int, C: int) -> Tensor:
    labels = _check_labels_layout(labels, K)
    if labels.numel() and bool(((labels < 0) | (labels >= C)).any()):
        raise ValueError(
            f"labels must lie in [0, C) = [0, {C}), got values from "
            f"{int(labels.min())} to {int(labels.max())}"
        )
    return labels


def assign_cells(boxes: Tensor, S: int) -> CellAssignment:
    """Finds each object's cell and which objects survive a collision.

    Args:
        boxes: ``Tensor[K, 4]`` in ``cxcywh``, normalized to ``[0, 1]``.
        S: grid size.

    Returns:
        A :class:`CellAssignment`. The first object (lowest index) in a cell keeps it.

    Example: with ``S = 7`` a centre at ``(0.5, 0.5)`` is in row 3, column 3
    (``floor(3.5) = 3``); a second centre at ``(0.52, 0.48)`` is in the same cell and is dropped.
    """
    S = require_positive_int("S", S)
    boxes = upcast(_check_boxes(boxes))
    # Half precision is upcast first: float16 · S can round a centre just left of a cell
    # border onto the border (2/7 in float16 is 0.28564..., times 7 rounds to 2.0) and
    # move the object into the next cell; in float32 that product is exact.
    cols = (boxes[:, 0] * S).floor().long().clamp(0, S - 1)
    rows = (boxes[:, 1] * S).floor().long().clamp(0, S - 1)
    cell = rows * S + cols  # [K]: flat cell index
    order = torch.arange(len(cell), device=boxes.device)
    # For each cell, the smallest object index that landed there; an object keeps its cell
    # exactly when it is that first one.
    first = torch.full((S * S,), len(cell), dtype=torch.long, device=boxes.device)
    first = first.scatter_reduce(0, cell, order, reduce="amin")
    return CellAssignment(rows, cols, first[cell] == order)


def encode_targets(boxes: Tensor, labels: Tensor, S: int = 7, C: int = 20) -> Tensor:
    """Encodes one image's objects as a YOLOv1 target grid.

    Args:
        boxes: ``Tensor[K, 4]`` in ``cxcywh``, normalized to ``[0, 1]``; ``K`` may be 0.
        labels: ``Tensor[K]`` integer class indices in ``[0, C)``.
        S: grid size.
        C: number of classes.

    Returns:
        ``Tensor[S, S, 5 + C]``, per cell ``(x, y, w, h, obj, one-hot class)`` with ``x, y`` the
        centre's offset inside the cell and ``w, h`` relative to the image; zeros in empty cells.
        Objects that collide with an earlier one in the same cell are left out: call
        :func:`assign_cells` to learn which.
    """
    S = require_positive_int("S", S)
    C = require_positive_int("C", C)
    boxes = _check_boxes(boxes)
    labels = _check_labels(labels, boxes.shape[0], C)
    return _encode(boxes, labels, torch.zeros(len(boxes), dtype=torch.long), 1, S, C)[0]


def _encode(boxes: Tensor, labels: Tensor, image: Tensor, N: int, S: int, C: int) -> Tensor:
    """Encodes checked objects of N images at once; ``image[k]`` is object k's image.

    Collisions are settled as in :func:`assign_cells`, per image: the first listed object of
    an image keeps its cell."""
    dtype = boxes.dtype
    boxes = upcast(boxes)  # offsets computed in float32 at least, stored in the input's dtype
    cols = (boxes[:, 0] * S).floor().long().clamp(0, S - 1)  # [K] (float32 at least: see assign_cells)
    rows = (boxes[:, 1] * S).floor().long().clamp(0, S - 1)
    cell = (image * S + rows) * S + cols  # [K]: flat index of (image, row, col)
    order = torch.arange(len(cell), device=boxes.device)
    first = torch.full((N * S * S,), len(cell), dtype=torch.long, device=boxes.device)
    first = first.scatter_reduce(0, cell, order, reduce="amin")
    kept = first[cell] == order  # [K]: the first object of each cell keeps it
    cell, rows, cols, boxes, labels = cell[kept], rows[kept], cols[kept], boxes[kept], labels[kept]

    target = boxes.new_zeros(N * S * S, 5 + C)
    x = boxes[:, 0] * S - cols  # [K]: centre offset inside the cell, in cell units
    y = boxes[:, 1] * S - rows
    target[cell] = torch.cat(
        [
            torch.stack((x, y, boxes[:, 2], boxes[:, 3], torch.ones_like(x)), dim=-1),  # [K, 5]
            torch.nn.functional.one_hot(labels.long(), C).to(boxes.dtype),  # [K, C]
        ],
        dim=-1,
    )  # [K, 5 + C]
    return target.reshape(N, S, S, 5 + C).to(dtype)


def encode_batch(
    boxes: Sequence[Tensor], labels: Sequence[Tensor], S: int = 7, C: int = 20
) -> Tensor:
    """Encodes a batch of images, each with its own number of objects.

    Args:
        boxes: N tensors ``[K_i, 4]`` in ``cxcywh`` (one per image).
        labels: N tensors ``[K_i]`` of class indices.
        S: grid size.
        C: number of classes.

    Returns:
        ``Tensor[N, S, S, 5 + C]``.
    """
    if isinstance(boxes, Tensor) or isinstance(labels, Tensor):
        raise ValueError(
            "boxes and labels must be sequences of per-image tensors (lists of [K_i, 4] and "
            "[K_i]), got a single tensor; wrap one image as [boxes] and [labels]"
        )
    if len(boxes) != len(labels):
        raise ValueError(
            f"boxes and labels must list the same number of images, got {len(boxes)} and "
            f"{len(labels)}"
        )
    if len(boxes) == 0:
        raise ValueError("boxes must list at least one image, got an empty sequence")
    S = require_positive_int("S", S)
    C = require_positive_int("C", C)
    # Layouts image by image (no tensor work), then the values of all images in one go.
    boxes = [_check_box_layout(b, f"boxes[{i}]") for i, b in enumerate(boxes)]
    labels = [_check_labels_layout(l, len(b), f"labels[{i}]") for i, (b, l) in enumerate(zip(boxes, labels))]
    counts = torch.tensor([len(b) for b in boxes])
    all_boxes = _check_boxes(torch.cat(boxes))  # [ΣK, 4]
    all_labels = _check_labels(torch.cat(labels), len(all_boxes), C)  # [ΣK]
    image = torch.repeat_interleave(torch.arange(len(boxes)), counts)  # [ΣK]: each object's image
    return _encode(all_boxes, all_labels, image, len(boxes), S, C)


def cells_to_image(boxes: Tensor) -> Tensor:
    """Cell-relative boxes to image ``cxcywh``.

    Args:
        boxes: ``Tensor[N, S, S, B, 4]``, per cell and predictor ``(x, y, w, h)`` with ``x, y``
            the offset inside the cell and ``w, h`` relative to the image.

    Returns:
        ``Tensor[N, S, S, B, 4]`` in ``cxcywh`` normalized to the image:
        ``cx = (col + x) / S``, ``cy = (row + y) / S``, ``w`` and ``h`` unchanged.
    """
    boxes = require_float("boxes", boxes)
    if boxes.dim() != 5 or boxes.shape[-1] != 4 or boxes.shape[1] != boxes.shape[2]:
        raise ValueError(f"boxes must be [N, S, S, B, 4], got {shape_str(boxes.shape)}")
    S = boxes.shape[1]
    index = torch.arange(S, dtype=boxes.dtype, device=boxes.device)
    cx = (boxes[..., 0] + index[None, None, :, None]) / S  # col varies along dim 2
    cy = (boxes[..., 1] + index[None, :, None, None]) / S  # row varies along dim 1
    return torch.stack((cx, cy, boxes[..., 2], boxes[..., 3]), dim=-1)


def size_from_output(out: Tensor, wh: str = "predicted_sqrt") -> Tensor:
    """The box width or height that a network's w or h output stands for.

    * ``wh="predicted_sqrt"`` (the default, the paper's parametrization): the output is
      ``√w``, the size is its square. A negative output ``-r`` draws the same box as ``+r``,
      as darknet's decoding does (``pow(output, 2)`` in ``get_detection_boxes`` of
      ``src/detection_layer.c``), and as the loss's IoU sees it.
    * ``"signed_sqrt"``, ``"clamped_sqrt"``, ``"linear"`` (tutorial variants, rooted inside
      the loss): the output is the size itself, a negative one is clamped to 0 (an empty box).

    Args:
        out: a float tensor of w or h outputs, any shape.
        wh: one of :data:`WH_MODES`.

    Returns:
        A tensor of ``out``'s shape, ``>= 0``.
    """
    out = require_float("out", out)
    require_choice("wh", wh, WH_MODES)
    return out.square() if wh == "predicted_sqrt" else out.clamp(min=0)


def check_pred(pred: object, S: int, B: int, C: int) -> Tensor:
    """Checks a prediction tensor against the layout ``[N, S, S, B*5 + C]``; returns it."""
    S = require_positive_int("S", S)
    B = require_positive_int("B", B)
    C = require_positive_int("C", C)
    pred = require_float("pred", pred)
    expected = f"[N, S, S, B*5+C] = [N, {S}, {S}, {B * 5 + C}] (S={S}, B={B}, C={C})"
    if pred.dim() != 4 or tuple(pred.shape[1:]) != (S, S, B * 5 + C):
        raise ValueError(f"pred must be {expected}, got {shape_str(pred.shape)}")
    return pred


def check_target(target: object, S: int, C: int, N: int | None = None) -> Tensor:
    """Checks a target tensor against the layout ``[N, S, S, 5 + C]`` and its value ranges."""
    S = require_positive_int("S", S)
    C = require_positive_int("C", C)
    target = require_float("target", target)
    n = "N" if N is None else str(N)
    if target.dim() != 4 or tuple(target.shape[1:]) != (S, S, 5 + C) or (
        N is not None and target.shape[0] != N
    ):
        raise ValueError(
            f"target must be [N, S, S, 5+C] = [{n}, {S}, {S}, {5 + C}] (S={S}, C={C}"
            + ("" if N is None else ", N from pred")
            + f"), got {shape_str(target.shape)}"
        )
    if _plainly_valid(target):
        return target
    # Something is wrong: the checks below find what, and say it.
    require_finite("target", target)
    obj = target[..., 4]
    if bool(((obj != 0) & (obj != 1)).any()):
        raise ValueError("target[..., 4] (obj) must be 0 or 1 in every cell, got other values")
    boxes = target[..., :4]
    if bool(((boxes < 0) | (boxes > 1)).any()):
        raise ValueError(
            f"target[..., :4] (x, y, w, h) must lie in [0, 1], got values from "
            f"{float(boxes.min()):.4g} to {float(boxes.max()):.4g}"
        )
    return target


def _plainly_valid(target: Tensor) -> bool:
    """True when ``target`` passes every value check of :func:`check_target`, tested with
    three reductions whose results are read at once (one synchronization, a handful of
    operations): the sum is finite only if every value is (NaN and ±Inf propagate); the
    smallest and largest of ``x, y, w, h, obj`` lie in ``[0, 1]``; an ``obj`` in ``[0, 1]``
    is 0 or 1 exactly when none has a fractional part. False can be a false alarm (a sum of
    huge finite class scores overflows): the caller then runs the detailed checks."""
    if target.numel() == 0:
        return True
    low, high = torch.aminmax(target[..., :5])
    fractional = target[..., 4].frac().abs().amax()
    total, low, high, fractional = torch.stack((target.sum(), low, high, fractional)).tolist()
    return math.isfinite(total) and 0 <= low and high <= 1 and fractional == 0


SCORINGS = ("best_class", "every_class")


class Detections(NamedTuple):
    """Every predictor of every cell as an image-space detection (no threshold, no NMS).

    With ``scoring="best_class"`` one entry per predictor (``K = S·S·B``); with
    ``"every_class"`` one per predictor and class (``K = S·S·B·C``).

    Attributes:
        boxes: ``Tensor[N, K, 4]`` in ``xyxy``, normalized to the image.
        scores: ``Tensor[N, K]``: YOLOv1's class-specific confidence, confidence ×
            ``Pr(class | object)``, of the entry's class.
        labels: ``Tensor[N, K]`` long: the entry's class (the best class of the predictor's
            cell under ``"best_class"``).
    """

    boxes: Tensor
    scores: Tensor
    labels: Tensor


def decode_predictions(
    pred: Tensor,
    S: int = 7,
    B: int = 2,
    C: int = 20,
    *,
    wh: str = "predicted_sqrt",
    scoring: str = "best_class",
) -> Detections:
    """Turns a YOLOv1 output tensor into image-space boxes, scores and labels.

    Args:
        pred: ``Tensor[N, S, S, B*5 + C]``, per cell B blocks ``(x, y, w, h, conf)`` then
            C class scores.
        S: grid size.
        B: predictors per cell.
        C: number of classes.
        wh: what the w, h outputs mean, as in the loss (see :func:`size_from_output`):
            ``"predicted_sqrt"`` (the default) squares them, so a negative output ``-r``
            draws the box of ``+r``; the tutorial variants read them as sizes and clamp a
            negative one to 0.
        scoring: ``"best_class"`` (one entry per predictor, scored with its cell's best class
            only) or ``"every_class"`` (the paper's test time, section 2.4: the
            class-specific confidence ``Pr(class | object) · confidence`` of every class, one
            entry per predictor and class, for a per-class NMS; darknet's
            ``get_detection_boxes`` does the same).

    Returns:
        :class:`Detections`, ordered by row, column, predictor (then class under
        ``"every_class"``).
    """
    pred = check_pred(pred, S, B, C)
    require_choice("wh", wh, WH_MODES)
    require_choice("scoring", scoring, SCORINGS)
    N = pred.shape[0]
    blocks = pred[..., : B * 5].reshape(N, S, S, B, 5)  # [N, S, S, B, 5]
    xywh = cells_to_image(blocks[..., :4])
    xywh = torch.cat((xywh[..., :2], size_from_output(xywh[..., 2:], wh)), dim=-1)
    boxes = cxcywh_to_xyxy(xywh)  # [N, S, S, B, 4]
    class_scores = pred[..., B * 5 :]  # [N, S, S, C]
    if scoring == "every_class":
        scores = blocks[..., 4, None] * class_scores[..., None, :]  # [N, S, S, B, C]
        labels = torch.arange(C, device=pred.device).expand(N, S, S, B, C)
        return Detections(
            boxes=boxes[..., None, :].expand(N, S, S, B, C, 4).reshape(N, S * S * B * C, 4),
            scores=scores.reshape(N, S * S * B * C),
            labels=labels.reshape(N, S * S * B * C),
        )
    best_scores, best_labels = class_scores.max(dim=-1)  # [N, S, S] each
    scores = blocks[..., 4] * best_scores[..., None]  # [N, S, S, B]
    labels = best_labels[..., None].expand(N, S, S, B)
    return Detections(
        boxes=boxes.reshape(N, S * S * B, 4),
        scores=scores.reshape(N, S * S * B),
        labels=labels.reshape(N, S * S * B),
    )
