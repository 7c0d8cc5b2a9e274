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
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import require_choice, require_float, require_nonnegative_number, require_positive_int
from .boxes import _divide
from .grid import check_pred, check_target

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
    wh = require_float("wh", wh)
    mode = require_choice("mode", mode, WH_TRANSFORMS)
    if mode == "signed_sqrt":
        return wh / torch.sqrt(wh.abs() + SQRT_EPS)
    if mode == "clamped_sqrt":
        return torch.sqrt(wh.clamp(min=SQRT_EPS))
    return wh


# Layout. pred is first split (one operation, no copy) into its box blocks and its class
# scores, and the box blocks are taken apart into named fields in predictor-major order: each
# of x, y, w, h, conf is a [B, N, S, S] view of pred, and each target field is [N, S, S]. Two
# reasons, both measured. A target field broadcasts over the leading B, so PyTorch's
# elementwise kernels loop over all N·S·S cells at once; with B last (and only 2 long), or x
# and y stacked along a dimension of their own, most of the time would go to loop overhead.
# And `split` and `unbind` hand the gradients of their parts back in one operation, where
# each slice of pred would allocate a zero tensor of pred's shape for its gradient.
# Responsibility (the public result) is returned in the documented [N, S, S, B] order.


class _Parts(NamedTuple):
    """Named views of pred and target, predictor-major; shapes in the comments."""

    x: Tensor  # [B, N, S, S]: centre offset inside the cell, cell units
    y: Tensor  # [B, N, S, S]
    w: Tensor  # [B, N, S, S]: size relative to the image
    h: Tensor  # [B, N, S, S]
    conf: Tensor  # [B, N, S, S]
    class_scores: Tensor  # [N, S, S, C]
    target_xywh: tuple[Tensor, Tensor, Tensor, Tensor]  # 4 x [N, S, S]
    obj: Tensor  # [N, S, S] bool: cells that hold an object
    one_hot: Tensor  # [N, S, S, C]


def _split(pred: Tensor, target: Tensor, B: int) -> _Parts:
    blocks, class_scores = pred.split([B * 5, pred.shape[-1] - B * 5], dim=-1)
    x, y, w, h, conf = blocks.unflatten(-1, (B, 5)).movedim(-2, 0).unbind(-1)  # 5 x [B, N, S, S]
    return _Parts(
        x, y, w, h, conf, class_scores,
        target_xywh=target[..., :4].unbind(-1),
        obj=target[..., 4] > 0,
        one_hot=target[..., 5:],
    )


def _image_corners(x: Tensor, y: Tensor, w: Tensor, h: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Cell-relative boxes, each field ``[..., N, S, S]``, to their image-space corners
    ``(x1, y1, x2, y2)``, each ``[..., N, S, S]``: the arithmetic of
    :func:`~yolo_lesson.grid.cells_to_image` then :func:`~yolo_lesson.boxes.cxcywh_to_xyxy`,
    on fields instead of a ``[..., 4]`` tensor."""
    S = x.shape[-1]
    index = torch.arange(S, dtype=x.dtype, device=x.device)
    cx = (x + index) / S  # the column varies along the last dimension
    cy = (y + index[:, None]) / S  # the row along the one before
    half_w, half_h = w / 2, h / 2
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def _field_iou(a: tuple[Tensor, ...], b: tuple[Tensor, ...]) -> Tensor:
    """IoU of boxes given as corner fields ``(x1, y1, x2, y2)``, ``b`` broadcast to ``a``:
    the arithmetic of :func:`~yolo_lesson.boxes.iou`, on fields instead of a ``[..., 4]``
    tensor (no stacking into one, no taking apart again)."""
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    overlap_w = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp(min=0)
    overlap_h = (torch.minimum(ay2, by2) - torch.maximum(ay1, by1)).clamp(min=0)
    inter = overlap_w * overlap_h
    area_a = (ax2 - ax1).clamp(min=0) * (ay2 - ay1).clamp(min=0)
    area_b = (bx2 - bx1).clamp(min=0) * (by2 - by1).clamp(min=0)
    return _divide(inter, area_a + area_b - inter)


def _responsibility(parts: _Parts) -> tuple[Tensor, Tensor]:
    """IoUs ``[B, N, S, S]`` of each predictor with its cell's object, in image coordinates
    (not set to 0 in empty cells: the caller masks them if it needs to), and the responsible
    mask ``[B, N, S, S]``: the highest IoU of each object cell, the first predictor on a tie.
    No graph: the IoU is a target, not a path."""
    with torch.no_grad():
        ious = _field_iou(
            _image_corners(parts.x, parts.y, parts.w, parts.h),  # 4 x [B, N, S, S]
            _image_corners(*parts.target_xywh),  # 4 x [N, S, S], broadcast over B
        )  # [B, N, S, S]
        # The first predictor with the highest IoU, by a running comparison over the B
        # predictors (B = 2 in the paper): a strict ">" keeps the first on a tie. A reduction
        # over the leading dimension (argmax or max) gives the same answer but measured up to
        # a hundred times slower on CPU for these small, flat tensors.
        best = torch.zeros(ious.shape[1:], dtype=torch.long, device=ious.device)  # [N, S, S]
        best_iou = ious[0]
        for b in range(1, len(ious)):
            better = ious[b] > best_iou
            best = torch.where(better, b, best)
            best_iou = torch.where(better, ious[b], best_iou)
        predictor = torch.arange(len(ious), device=ious.device)[:, None, None, None]  # [B, 1, 1, 1]
        return ious, (predictor == best) & parts.obj


def _squared_error(value: Tensor, goal: Tensor) -> Tensor:
    """``(value - goal)²`` elementwise, ``goal`` broadcast to ``value``'s shape. Written with
    ``mse_loss(reduction="none")``: the same numbers in one operation forward and one backward."""
    return F.mse_loss(value, goal.expand_as(value), reduction="none")


def _compute_dtype(pred: Tensor, target: Tensor) -> torch.dtype:
    """float32 at least (half precision is upcast), float64 if either input is float64."""
    return torch.promote_types(torch.promote_types(pred.dtype, target.dtype), torch.float32)


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
    # The same dtype as yolo_v1_loss, so that both pick the same predictors: a half-precision
    # pred is compared in float32, not in float16 (whose rounding can flip a near tie).
    dtype = _compute_dtype(pred, target)
    parts = _split(pred.to(dtype), target.to(dtype), B)
    ious, responsible = _responsibility(parts)
    ious = torch.where(parts.obj, ious, 0)  # 0 in empty cells, as documented
    return Responsibility(ious.movedim(0, -1), responsible.movedim(0, -1))  # [N, S, S, B] each


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
    if N == 0:
        raise ValueError("pred must hold at least one image (the loss is a sum divided by N), got N = 0")
    target = check_target(target, S, C, N=N)
    lambda_coord = require_nonnegative_number("lambda_coord", lambda_coord)
    lambda_noobj = require_nonnegative_number("lambda_noobj", lambda_noobj)
    require_choice("conf_target", conf_target, CONF_TARGETS)
    require_choice("wh", wh, WH_TRANSFORMS)
    require_choice("noobj_scope", noobj_scope, NOOBJ_SCOPES)

    dtype = _compute_dtype(pred, target)
    parts = _split(pred.to(dtype), target.to(dtype), B)
    ious, resp = _responsibility(parts)  # [B, N, S, S] each
    tx, ty, tw, th = parts.target_xywh  # [N, S, S] each

    def size(v: Tensor) -> Tensor:
        return wh_transform(v, wh)

    box_error = (  # [B, N, S, S]
        _squared_error(parts.x, tx)
        + _squared_error(parts.y, ty)
        + _squared_error(size(parts.w), size(tw))
        + _squared_error(size(parts.h), size(th))
    )
    # One squared error serves both confidence terms: a responsible predictor's goal is its
    # IoU (or 1), every other predictor's goal is 0, so its error is conf². No gradient: a target.
    goal = ious if conf_target == "iou" else torch.ones_like(ious)
    conf_goal = torch.where(resp, goal, 0)  # [B, N, S, S]
    conf_error = _squared_error(parts.conf, conf_goal)  # [B, N, S, S]
    noobj_mask = ~resp if noobj_scope == "not_responsible" else ~parts.obj  # [B, N, S, S] or [N, S, S]
    class_error = _squared_error(parts.class_scores, parts.one_hot)  # [N, S, S, C]

    # torch.where, not a multiplication by the mask: a huge value in a masked-out cell must
    # not turn into 0 · inf = NaN. A weighted sum is scaled once, by λ / N.
    box = torch.where(resp, box_error, 0).sum() * (lambda_coord / N)
    obj_term = torch.where(resp, conf_error, 0).sum() / N
    noobj = torch.where(noobj_mask, conf_error, 0).sum() * (lambda_noobj / N)
    cls = torch.where(parts.obj[..., None], class_error, 0).sum() / N
    return LossTerms(box + obj_term + noobj + cls, box, obj_term, noobj, cls)


class YoloV1Loss(nn.Module):
    """Module form of :func:`yolo_v1_loss`, holding the grid layout and the λ weights.

    Example::

        criterion = YoloV1Loss()          # S=7, B=2, C=20, λ_coord=5, λ_noobj=0.5
        terms = criterion(pred, target)   # LossTerms(total, box, obj, noobj, cls)
        terms.total.backward()

    ``compile=True`` runs :func:`yolo_v1_loss` through ``torch.compile``: the same numbers,
    about 2.5× faster per call at N = 64 on a CPU (see ``make bench``), after a first call
    that compiles for 15–20 s and needs a C++ compiler. The lessons keep the plain version,
    which a reader can step through line by line.
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
        compile: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(compile, bool):
            raise ValueError(f"compile must be True or False, got {compile!r}")
        # dynamic=False: one graph per input shape, the fastest for a fixed batch size.
        self._loss = torch.compile(yolo_v1_loss, dynamic=False) if compile else yolo_v1_loss
        self.compiled = compile
        self.S = require_positive_int("S", S)
        self.B = require_positive_int("B", B)
        self.C = require_positive_int("C", C)
        self.lambda_coord = require_nonnegative_number("lambda_coord", lambda_coord)
        self.lambda_noobj = require_nonnegative_number("lambda_noobj", lambda_noobj)
        self.conf_target = require_choice("conf_target", conf_target, CONF_TARGETS)
        self.wh = require_choice("wh", wh, WH_TRANSFORMS)
        self.noobj_scope = require_choice("noobj_scope", noobj_scope, NOOBJ_SCOPES)

    def forward(self, pred: Tensor, target: Tensor) -> LossTerms:
        return self._loss(
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
            + (", compile=True" if self.compiled else "")
        )
