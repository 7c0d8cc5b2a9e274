"""The YOLOv1 loss, as the paper defines it (Redmon et al., "You Only Look Once", CVPR 2016,
equation 3), vectorized over the batch, the grid and the predictors.

Layouts:

* ``pred``: ``Tensor[N, S, S, B*5 + C]``, per cell B blocks ``(x, y, w, h, conf)`` then C class
  scores; ``x, y`` the box centre's offset inside the cell, ``w, h`` relative to the image.
* ``target``: ``Tensor[N, S, S, 5 + C]``, per cell ``(x, y, w, h, obj, one-hot class)``, as
  :func:`yolo_lesson.grid.encode_targets` makes it.

The loss is a sum over the grid divided by the batch size N, split into four λ-weighted terms:

* ``box``   = λ_coord · Σ_resp [(x - x̂)² + (y - ŷ)² + (√w - √ŵ)² + (√h - √ĥ)²]
* ``obj``   = Σ_resp (conf - IoU)²
* ``noobj`` = λ_noobj · Σ_not resp conf²
* ``cls``   = Σ_object cells Σ_c (p_c - one-hot_c)²

"resp" are the responsible predictors: in a cell that holds an object, the one of the B
predictors whose box has the highest IoU with the object (ties go to the first). That IoU is
computed in image coordinates and enters the ``obj`` term as a constant target.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from ._checks import require_choice, require_nonnegative_number, require_positive_int
from .boxes import cxcywh_to_xyxy, iou
from .grid import cells_to_image, check_pred, check_target

__all__ = [
    "LossTerms",
    "Responsibility",
    "responsibility",
    "wh_transform",
    "yolo_v1_loss",
    "YoloV1Loss",
]

CONF_TARGETS = ("iou", "one")
WH_TRANSFORMS = ("signed_sqrt", "clamped_sqrt", "linear")
NOOBJ_SCOPES = ("not_responsible", "empty_cells")

# ε of the square roots on w and h: far below any real box size (a box 1% of the image wide
# has w = 0.01), so the roots of real sizes are unchanged to about 1e-4 relative.
SQRT_EPS = 1e-6


class LossTerms(NamedTuple):
    """The four λ-weighted terms of a YOLO loss and their sum, each a scalar tensor.

    ``total == box + obj + noobj + cls`` exactly.
    """

    total: Tensor
    box: Tensor
    obj: Tensor
    noobj: Tensor
    cls: Tensor


class Responsibility(NamedTuple):
    """Which predictor answers for each object.

    Attributes:
        ious: ``Tensor[N, S, S, B]``: IoU of each predicted box with its cell's object, in
            image coordinates (0 in empty cells), detached from the graph.
        responsible: ``Tensor[N, S, S, B]`` bool: True for the predictor with the highest IoU
            in each object cell (the first one on a tie), False everywhere else.
    """

    ious: Tensor
    responsible: Tensor


def wh_transform(wh: Tensor, mode: str = "signed_sqrt") -> Tensor:
    """The map applied to widths and heights before they are compared.

    * ``"signed_sqrt"``: ``w / √(|w| + ε)``. Equal to ``√w`` for ``w ≫ ε``, odd (a negative
      width maps to a negative root instead of NaN), and its slope at 0 is ``1/√ε`` instead of
      infinite, so the gradient stays finite and keeps pushing a negative width back up.
    * ``"clamped_sqrt"``: ``√max(w, ε)``. Finite too, but a negative width gets no gradient
      at all: the prediction is stuck (shown in lesson 03 for contrast).
    * ``"linear"``: ``w``: no root, so an error costs the same on a small box and a large one.
    """
    mode = require_choice("wh_transform", mode, WH_TRANSFORMS)
    if mode == "signed_sqrt":
        return wh / torch.sqrt(wh.abs() + SQRT_EPS)
    if mode == "clamped_sqrt":
        return torch.sqrt(wh.clamp(min=SQRT_EPS))
    return wh


def _split(pred: Tensor, target: Tensor, B: int):
    """Splits the last dimension into named parts; shapes in the comments."""
    N, S = pred.shape[0], pred.shape[1]
    blocks = pred[..., : B * 5].reshape(N, S, S, B, 5)  # [N, S, S, B, 5]
    return (
        blocks[..., :4],  # pred boxes       [N, S, S, B, 4]
        blocks[..., 4],  # pred confidence   [N, S, S, B]
        pred[..., B * 5 :],  # class scores  [N, S, S, C]
        target[..., None, :4],  # target box [N, S, S, 1, 4]
        target[..., 4] > 0,  # object cells  [N, S, S] bool
        target[..., 5:],  # one-hot classes  [N, S, S, C]
    )


def _responsibility(pred_boxes: Tensor, target_boxes: Tensor, obj: Tensor) -> Responsibility:
    with torch.no_grad():
        ious = iou(
            cxcywh_to_xyxy(cells_to_image(pred_boxes)),  # [N, S, S, B, 4] image xyxy
            cxcywh_to_xyxy(cells_to_image(target_boxes)),  # [N, S, S, 1, 4] image xyxy
        )  # [N, S, S, B]
        ious = torch.where(obj[..., None], ious, 0)
        best = ious.argmax(dim=-1)  # [N, S, S]: first index on a tie
        B = pred_boxes.shape[-2]
        one_hot = torch.nn.functional.one_hot(best, B).bool()  # [N, S, S, B]
        return Responsibility(ious, one_hot & obj[..., None])


def responsibility(pred: Tensor, target: Tensor, S: int = 7, B: int = 2, C: int = 20) -> Responsibility:
    """Which of the B predictors of each object cell is responsible for the object.

    Args:
        pred: ``Tensor[N, S, S, B*5 + C]``.
        target: ``Tensor[N, S, S, 5 + C]``.
        S, B, C: grid size, predictors per cell, classes.

    Returns:
        :class:`Responsibility` with the IoUs and the boolean mask, both ``[N, S, S, B]``.
    """
    pred = check_pred(pred, S, B, C)
    target = check_target(target, S, C, N=pred.shape[0])
    pred_boxes, _, _, target_boxes, obj, _ = _split(pred, target, B)
    return _responsibility(pred_boxes, target_boxes.to(pred_boxes.dtype), obj)


def yolo_v1_loss(
    pred: Tensor,
    target: Tensor,
    *,
    S: int = 7,
    B: int = 2,
    C: int = 20,
    lambda_coord: float = 5.0,
    lambda_noobj: float = 0.5,
    conf_target: str = "iou",
    wh: str = "signed_sqrt",
    noobj_scope: str = "not_responsible",
) -> LossTerms:
    """The YOLOv1 loss (Redmon et al. 2016, eq. 3), summed over the grid and divided by N.

    Args:
        pred: ``Tensor[N, S, S, B*5 + C]``, per cell B blocks ``(x, y, w, h, conf)`` then C
            class scores.
        target: ``Tensor[N, S, S, 5 + C]``, per cell ``(x, y, w, h, obj, one-hot class)``.
        S, B, C: grid size, predictors per cell, classes (the paper: 7, 2, 20).
        lambda_coord: weight of the box term (the paper: 5).
        lambda_noobj: weight of the no-object confidence term (the paper: 0.5).
        conf_target: ``"iou"`` (the paper: a responsible predictor's confidence regresses to
            its IoU with the object, held constant) or ``"one"`` (a common simplification).
        wh: how widths and heights are compared, see :func:`wh_transform`; the paper's
            ``√w`` is ``"signed_sqrt"``, which stays finite for negative predictions.
        noobj_scope: ``"not_responsible"`` (the paper: every predictor that is not
            responsible, the other predictor of an object cell included) or ``"empty_cells"``
            (a common variant: only the predictors of cells without an object).

    Returns:
        :class:`LossTerms`, the λ-weighted terms and their sum. Half-precision inputs are
        computed, and returned, in float32.
    """
    pred = check_pred(pred, S, B, C)
    N = pred.shape[0]
    target = check_target(target, S, C, N=N)
    lambda_coord = require_nonnegative_number("lambda_coord", lambda_coord)
    lambda_noobj = require_nonnegative_number("lambda_noobj", lambda_noobj)
    require_choice("conf_target", conf_target, CONF_TARGETS)
    require_choice("wh", wh, WH_TRANSFORMS)
    require_choice("noobj_scope", noobj_scope, NOOBJ_SCOPES)

    dtype = torch.promote_types(torch.promote_types(pred.dtype, target.dtype), torch.float32)
    pred, target = pred.to(dtype), target.to(dtype)
    pred_boxes, conf, class_scores, target_boxes, obj, one_hot = _split(pred, target, B)
    ious, resp = _responsibility(pred_boxes, target_boxes, obj)

    xy_error = ((pred_boxes[..., :2] - target_boxes[..., :2]) ** 2).sum(-1)  # [N, S, S, B]
    wh_error = ((wh_transform(pred_boxes[..., 2:], wh) - wh_transform(target_boxes[..., 2:], wh)) ** 2).sum(-1)
    conf_goal = ious if conf_target == "iou" else torch.ones_like(ious)  # no gradient: a target
    noobj_mask = ~resp if noobj_scope == "not_responsible" else ~obj[..., None].expand_as(resp)
    class_error = ((class_scores - one_hot) ** 2).sum(-1)  # [N, S, S]

    # torch.where, not a multiplication by the mask: a huge value in a masked-out cell must
    # not turn into 0 · inf = NaN.
    box = lambda_coord * torch.where(resp, xy_error + wh_error, 0).sum() / N
    obj_term = torch.where(resp, (conf - conf_goal) ** 2, 0).sum() / N
    noobj = lambda_noobj * torch.where(noobj_mask, conf**2, 0).sum() / N
    cls = torch.where(obj, class_error, 0).sum() / N
    return LossTerms(box + obj_term + noobj + cls, box, obj_term, noobj, cls)


class YoloV1Loss(nn.Module):
    """Module form of :func:`yolo_v1_loss`, holding the grid layout and the λ weights.

    Example::

        criterion = YoloV1Loss()          # S=7, B=2, C=20, λ_coord=5, λ_noobj=0.5
        terms = criterion(pred, target)   # LossTerms(total, box, obj, noobj, cls)
        terms.total.backward()
    """

    def __init__(
        self,
        S: int = 7,
        B: int = 2,
        C: int = 20,
        lambda_coord: float = 5.0,
        lambda_noobj: float = 0.5,
        conf_target: str = "iou",
        wh: str = "signed_sqrt",
        noobj_scope: str = "not_responsible",
    ) -> None:
        super().__init__()
        self.S = require_positive_int("S", S)
        self.B = require_positive_int("B", B)
        self.C = require_positive_int("C", C)
        self.lambda_coord = require_nonnegative_number("lambda_coord", lambda_coord)
        self.lambda_noobj = require_nonnegative_number("lambda_noobj", lambda_noobj)
        self.conf_target = require_choice("conf_target", conf_target, CONF_TARGETS)
        self.wh = require_choice("wh", wh, WH_TRANSFORMS)
        self.noobj_scope = require_choice("noobj_scope", noobj_scope, NOOBJ_SCOPES)

    def forward(self, pred: Tensor, target: Tensor) -> LossTerms:
        return yolo_v1_loss(
            pred,
            target,
            S=self.S,
            B=self.B,
            C=self.C,
            lambda_coord=self.lambda_coord,
            lambda_noobj=self.lambda_noobj,
            conf_target=self.conf_target,
            wh=self.wh,
            noobj_scope=self.noobj_scope,
        )

    def extra_repr(self) -> str:
        return (
            f"S={self.S}, B={self.B}, C={self.C}, lambda_coord={self.lambda_coord}, "
            f"lambda_noobj={self.lambda_noobj}, conf_target={self.conf_target!r}, "
            f"wh={self.wh!r}, noobj_scope={self.noobj_scope!r}"
        )
