"""The source article's three YOLO loss versions, kept as that article writes them, flaws
included: they are the exhibits of lesson 05. Do not train with them; use
:func:`yolo_lesson.loss.yolo_v1_loss`.

The article's layout has one box per cell (B = 1): ``pred`` and ``target`` are both
``Tensor[N, S, S, 5 + C]``, per cell ``(x, y, w, h, conf)`` then C class values; in ``target``
the fifth channel is the object indicator, as :func:`yolo_lesson.grid.encode_targets` makes it.
Each function returns :class:`yolo_lesson.loss.LossTerms` so that the terms can be compared
with the paper's loss; ``total`` is what the article returns.

Flaws common to all three: every term is a *mean* over whatever elements it selects, not a
sum divided by the batch size, so a λ multiplies a per-element average whose size depends on
how many cells are selected, and one object in an image of 49 cells weighs as much as an
image full of them; the ``w, h`` are regressed directly, without the paper's square roots, so
an error costs the same on a small box and a large one; confidence targets are 1 instead of
the IoU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import require_float, require_last_dim, shape_str
from .loss import LossTerms

__all__ = [
    "article_iou",
    "article_loss_mse",
    "article_loss_smoothl1_bce",
    "article_loss_iou_gate",
]


def _split(pred: object, target: object):
    pred = require_float("pred", pred)
    target = require_float("target", target)
    if pred.dim() != 4 or pred.shape[-1] < 6:
        raise ValueError(f"pred must be [N, S, S, 5 + C] with C >= 1, got {shape_str(pred.shape)}")
    if target.shape != pred.shape:
        raise ValueError(
            f"target must have the same shape as pred, {shape_str(pred.shape)}, "
            f"got {shape_str(target.shape)}"
        )
    return (
        pred[..., :4],  # [N, S, S, 4]
        pred[..., 4],  # [N, S, S]
        pred[..., 5:],  # [N, S, S, C]
        target[..., :4],
        target[..., 4],
        target[..., 5:],
    )


def article_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """The IoU helper the article leaves out ("readily available in literature"), supplied
    as the article's call implies: elementwise over ``(x, y, w, h)`` read as centre and size.

    Args:
        boxes1: ``Tensor[..., 4]`` ``(x, y, w, h)``.
        boxes2: ``Tensor[..., 4]`` ``(x, y, w, h)``, the same shape.

    Returns:
        ``Tensor[...]``.

    What goes wrong: in the YOLO layout ``x, y`` are offsets inside a cell (cell units) while
    ``w, h`` are fractions of the image, so the boxes this compares mix two coordinate frames:
    a box one cell wide is 1/S in ``w`` but a shift of one cell is 1 in ``x``. The paper's
    loss converts both boxes to image coordinates first.
    """
    boxes1 = require_float("boxes1", boxes1)
    boxes2 = require_float("boxes2", boxes2)
    require_last_dim("boxes1", boxes1, 4, "x, y, w, h")
    if boxes2.shape != boxes1.shape:
        raise ValueError(
            f"boxes2 must have the same shape as boxes1, {shape_str(boxes1.shape)}, "
            f"got {shape_str(boxes2.shape)}"
        )
    half1, half2 = boxes1[..., 2:] / 2, boxes2[..., 2:] / 2
    top_left = torch.maximum(boxes1[..., :2] - half1, boxes2[..., :2] - half2)
    bottom_right = torch.minimum(boxes1[..., :2] + half1, boxes2[..., :2] + half2)
    overlap = (bottom_right - top_left).clamp(min=0)  # [..., 2]
    inter = overlap[..., 0] * overlap[..., 1]
    union = boxes1[..., 2] * boxes1[..., 3] + boxes2[..., 2] * boxes2[..., 3] - inter
    return inter / (union + 1e-6)  # the usual guard of such helpers against 0 / 0


def article_loss_mse(pred: Tensor, target: Tensor) -> LossTerms:
    """The article's Example 1: plain mean squared error over every channel, unweighted.

    Args:
        pred: ``Tensor[N, S, S, 5 + C]``.
        target: ``Tensor[N, S, S, 5 + C]``.

    Returns:
        :class:`LossTerms` with ``box``, ``obj`` (confidence, every cell) and ``cls``;
        ``noobj`` is 0 because the article has no separate no-object term here.

    What goes wrong:

    * the box term covers every cell, so most of it pulls the boxes of *empty* cells towards
      the zeros stored there: the network is taught boxes where there are none;
    * confidence is one mean over all cells, so with a few objects among 49 cells the empty
      cells dominate and predicting 0 everywhere is almost optimal;
    * the class term likewise trains empty cells towards "no class at all";
    * no λ, no square roots, and every term is a mean (see the module notes).
    """
    pred_box, pred_conf, pred_cls, target_box, target_conf, target_cls = _split(pred, target)
    box = nn.MSELoss()(pred_box, target_box)
    conf = nn.MSELoss()(pred_conf, target_conf)
    cls = nn.MSELoss()(pred_cls, target_cls)
    return LossTerms(box + conf + cls, box, conf, torch.zeros_like(conf), cls)


def article_loss_smoothl1_bce(
    pred: Tensor,
    target: Tensor,
    lambda_coord: float = 5,
    lambda_obj: float = 1,
    lambda_noobj: float = 0.5,
    lambda_class: float = 1,
) -> LossTerms:
    """The article's Example 2: SmoothL1 boxes, confidence MSE split by the object mask,
    binary cross-entropy on the classes, with λ weights.

    Args:
        pred: ``Tensor[N, S, S, 5 + C]``.
        target: ``Tensor[N, S, S, 5 + C]``.
        lambda_coord, lambda_obj, lambda_noobj, lambda_class: the article's weights.

    Returns:
        :class:`LossTerms`.

    What goes wrong:

    * the box term is still over every cell, empty ones included: the object mask it
      builds two lines later is not applied to it;
    * with no object in the batch, ``pred_conf[obj_mask]`` is empty and its mean is NaN
      (0 / 0): one empty batch turns the whole loss into NaN, and the class term is NaN the
      same way (the gradient stays finite only because the empty selections have no
      elements; the same mean written as ``sum(mask * err) / sum(mask)`` makes the gradient
      NaN too, as lesson 05 shows);
    * ``F.binary_cross_entropy`` expects probabilities in [0, 1], but a network's raw class
      scores are any real numbers: PyTorch raises an error for them, and a sigmoid bolted
      on later would still leave BCE's log(0) saturation (the stable form is
      ``F.binary_cross_entropy_with_logits``);
    * every term is a mean, so ``lambda_coord`` multiplies a per-element average over all
      cells while ``lambda_obj`` multiplies an average over object cells only: the λs do not
      mean what the article says they mean.
    """
    pred_box, pred_conf, pred_cls, target_box, target_conf, target_cls = _split(pred, target)
    bbox_loss = nn.SmoothL1Loss()(pred_box, target_box) * lambda_coord
    obj_mask = target_conf.bool()
    noobj_mask = ~obj_mask
    conf_loss_obj = nn.MSELoss()(pred_conf[obj_mask], target_conf[obj_mask]) * lambda_obj
    conf_loss_noobj = nn.MSELoss()(pred_conf[noobj_mask], target_conf[noobj_mask]) * lambda_noobj
    class_loss = F.binary_cross_entropy(pred_cls[obj_mask], target_cls[obj_mask]) * lambda_class
    total = bbox_loss + conf_loss_obj + conf_loss_noobj + class_loss
    return LossTerms(total, bbox_loss, conf_loss_obj, conf_loss_noobj, class_loss)


def article_loss_iou_gate(
    pred: Tensor,
    target: Tensor,
    lambda_coord: float = 5,
    lambda_obj: float = 1,
    lambda_noobj: float = 0.5,
    lambda_class: float = 1,
) -> LossTerms:
    """The article's Example 3: positives are the cells where IoU(pred, target) > 0.5.

    Args:
        pred: ``Tensor[N, S, S, 5 + C]``.
        target: ``Tensor[N, S, S, 5 + C]``.
        lambda_coord, lambda_obj, lambda_noobj, lambda_class: the article's weights.

    Returns:
        :class:`LossTerms`.

    What goes wrong:

    * which cells count as objects is decided by the *prediction*, not by the target: the
      ground-truth object indicator is never read. At initialization no predicted box
      overlaps its target by more than 0.5, so there are no positives, the box, object and
      class terms are means over nothing (NaN), and once that is patched, nothing ever
      teaches a box to reach the 0.5 that would make it a positive;
    * a cell without an object has an all-zero target box, so its IoU is 0 and it can never
      be a positive, yet a lucky predicted box that matches an object's target well is
      rewarded regardless of its confidence and class;
    * the IoU mixes cell and image coordinates (see :func:`article_iou`);
    * everything said of :func:`article_loss_smoothl1_bce` (means, BCE on raw scores) holds.
    """
    pred_box, pred_conf, pred_cls, target_box, target_conf, target_cls = _split(pred, target)
    iou = article_iou(pred_box, target_box)
    obj_mask = (iou > 0.5).float()
    bbox_loss = nn.SmoothL1Loss()(pred_box[obj_mask > 0], target_box[obj_mask > 0]) * lambda_coord
    conf_loss_obj = nn.MSELoss()(pred_conf[obj_mask > 0], obj_mask[obj_mask > 0]) * lambda_obj
    conf_loss_noobj = nn.MSELoss()(pred_conf[obj_mask == 0], obj_mask[obj_mask == 0]) * lambda_noobj
    class_loss = F.binary_cross_entropy(pred_cls[obj_mask > 0], target_cls[obj_mask > 0]) * lambda_class
    total = bbox_loss + conf_loss_obj + conf_loss_noobj + class_loss
    return LossTerms(total, bbox_loss, conf_loss_obj, conf_loss_noobj, class_loss)
