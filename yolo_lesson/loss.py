"""The YOLOv1 loss, as the paper defines it (Redmon et al., "You Only Look Once", CVPR 2016,
equation 3), vectorized over the batch, the grid and the predictors.

Layouts:

* ``pred``: ``Tensor[N, S, S, B*5 + C]``, per cell B blocks ``(x, y, w, h, conf)`` then C class
  scores; ``x, y`` the box centre's offset inside the cell; ``w, h`` the square roots of the
  box's size relative to the image (``wh="predicted_sqrt"``, the default: the paper, section
  2.2, "we predict the square root of the bounding box width and height", and darknet's
  ``sqrt=1``), or the size itself under the tutorial variants of ``wh``.
* ``target``: ``Tensor[N, S, S, 5 + C]``, per cell ``(x, y, w, h, obj, one-hot class)``, as
  :func:`yolo_lesson.grid.encode_targets` makes it.

The loss is a sum over the grid divided by the batch size N (``reduction="batchmean"``), split
into four λ-weighted terms, written for the default ``wh="predicted_sqrt"`` where the outputs
``w, h`` already are roots:

* ``box``   = λ_coord · Σ_resp [(x - x̂)² + (y - ŷ)² + (w - √ŵ)² + (h - √ĥ)²]
* ``obj``   = Σ_resp (conf - IoU)²
* ``noobj`` = λ_noobj · Σ_not resp conf²
* ``cls``   = Σ_object cells Σ_c (p_c - one-hot_c)²

"resp" are the responsible predictors: in a cell that holds an object, the one of the B
predictors whose box has the highest IoU with the object (the first one on a tie). When no
predictor overlaps the object (every IoU is 0, common early in training), the one whose box is
closest to the object's by RMSE over ``(x, y, w, h)`` in image coordinates answers
(``tie_break="rmse"``, darknet's ``src/detection_layer.c``). That IoU is computed in image
coordinates, with the box the outputs stand for (``w²``, ``h²`` under ``"predicted_sqrt"``),
and enters the ``obj`` term as a constant target. Every predictor that is not responsible
gets the ``noobj`` term: the paper does not define 𝟙^noobj, this is what darknet's code does.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import require_choice, require_float, require_nonnegative_number, require_positive_int
from .boxes import _divide
from .grid import WH_MODES, check_pred, check_target

__all__ = [
    "LossTerms",
    "Responsibility",
    "responsibility",
    "wh_transform",
    "yolo_v1_loss",
    "YoloV1Loss",
]

CONF_TARGETS = ("iou", "one")
WH_TRANSFORMS = WH_MODES  # ("predicted_sqrt", "signed_sqrt", "clamped_sqrt", "linear")
NOOBJ_SCOPES = ("not_responsible", "empty_cells")
TIE_BREAKS = ("rmse", "first")
# "batchmean": PyTorch's name (nn.KLDivLoss) for a sum divided by the batch size.
REDUCTIONS = ("batchmean", "sum")
WH_ROLES = ("prediction", "target")

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
            in each object cell (the first one on a tie); in a cell where every IoU is 0, the
            predictor closest to the object by RMSE (``tie_break="rmse"``) or the first one
            (``tie_break="first"``). False everywhere else.
    """

    ious: Tensor
    responsible: Tensor


def wh_transform(wh: Tensor, mode: str = "predicted_sqrt", *, role: str = "prediction") -> Tensor:
    """The map applied to widths and heights before the box term compares them.

    The loss compares ``wh_transform(pred_w, mode)`` with
    ``wh_transform(target_w, mode, role="target")``.

    * ``"predicted_sqrt"`` (the default; the paper, section 2.2, and darknet's ``sqrt=1``): the
      network's output already is ``√w``, so a prediction is compared as it is and a target
      ``w`` becomes ``√w``. No root of a prediction, hence no NaN and no ε: the gradient is
      ``2(out - √ŵ)``, finite for every output.

    The three others are tutorial variants: the output is ``w`` itself and the loss applies
    the same map to prediction and target.

    * ``"signed_sqrt"``: ``w / √(|w| + ε)``, the root of a predicted ``w`` with a sign trick
      that popular tutorials use (e.g. Aladdin Persson's YOLOv1 from scratch). Equal to ``√w``
      for ``w ≫ ε``, odd (a negative width maps to a negative root instead of NaN), and its
      slope at 0 is ``1/√ε`` instead of infinite.
    * ``"clamped_sqrt"``: ``√max(w, ε)``. Finite too, but a negative width gets no gradient
      at all: the prediction is stuck.
    * ``"linear"``: ``w``: no root, so an error costs the same on a small box and a large one.

    Args:
        wh: float tensor of widths or heights, any shape.
        mode: one of ``"predicted_sqrt"``, ``"signed_sqrt"``, ``"clamped_sqrt"``, ``"linear"``.
        role: ``"prediction"`` (a network output) or ``"target"`` (a true size, ``>= 0``);
            it matters only under ``"predicted_sqrt"``.
    """
    wh = require_float("wh", wh)
    mode = require_choice("mode", mode, WH_TRANSFORMS)
    role = require_choice("role", role, WH_ROLES)
    if mode == "predicted_sqrt" and role == "target":
        if bool((wh < 0).any()):
            raise ValueError(f"wh must be >= 0 for role='target' (a true size), got a minimum of {float(wh.min()):.4g}")
        return torch.sqrt(wh)
    return _wh_transform(wh, mode)


def _wh_transform(wh: Tensor, mode: str) -> Tensor:
    """:func:`wh_transform` of a prediction, without the checks."""
    if mode == "signed_sqrt":
        return wh / torch.sqrt(wh.abs() + SQRT_EPS)
    if mode == "clamped_sqrt":
        return torch.sqrt(wh.clamp(min=SQRT_EPS))
    return wh  # "predicted_sqrt" and "linear": the output as it is


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


def _responsibility(parts: _Parts, wh: str, tie_break: str) -> tuple[Tensor, Tensor]:
    """IoUs ``[B, N, S, S]`` of each predictor with its cell's object, in image coordinates
    (not set to 0 in empty cells: the caller masks them if it needs to), and the responsible
    mask ``[B, N, S, S]``: the highest IoU of each object cell, the first predictor on a tie;
    where every IoU of a cell is 0, the smallest RMSE (``tie_break="rmse"``) or the first
    predictor (``"first"``). No graph: the IoU is a target, not a path."""
    with torch.no_grad():
        # The box the outputs stand for: under "predicted_sqrt" the outputs are √w, √h.
        w, h = (parts.w.square(), parts.h.square()) if wh == "predicted_sqrt" else (parts.w, parts.h)
        tx, ty, tw, th = parts.target_xywh  # [N, S, S] each
        ious = _field_iou(
            _image_corners(parts.x, parts.y, w, h),  # 4 x [B, N, S, S]
            _image_corners(tx, ty, tw, th),  # 4 x [N, S, S], broadcast over B
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
        if tie_break == "rmse":
            # darknet's fallback: while no predictor overlaps the object, the one with the
            # smallest RMSE over (x, y, w, h), centres in image units (x / S), answers. The
            # squared distance orders the predictors as its root does; darknet's starting
            # bound (an RMSE of 20) is left out: its -1 index would be out of the cell.
            S = parts.x.shape[-1]
            distance = (  # [B, N, S, S]
                (parts.x / S - tx / S).square()
                + (parts.y / S - ty / S).square()
                + (w - tw).square()
                + (h - th).square()
            )
            closest = torch.zeros_like(best)
            best_distance = distance[0]
            for b in range(1, len(distance)):
                closer = distance[b] < best_distance
                closest = torch.where(closer, b, closest)
                best_distance = torch.where(closer, distance[b], best_distance)
            best = torch.where(best_iou > 0, best, closest)
        predictor = torch.arange(len(ious), device=ious.device)[:, None, None, None]  # [B, 1, 1, 1]
        return ious, (predictor == best) & parts.obj


def _squared_error(value: Tensor, goal: Tensor) -> Tensor:
    """``(value - goal)²`` elementwise, ``goal`` broadcast to ``value``'s shape. Written with
    ``mse_loss(reduction="none")``: the same numbers in one operation forward and one backward."""
    return F.mse_loss(value, goal.expand_as(value), reduction="none")


def _compute_dtype(pred: Tensor, target: Tensor) -> torch.dtype:
    """float32 at least (half precision is upcast), float64 if either input is float64."""
    return torch.promote_types(torch.promote_types(pred.dtype, target.dtype), torch.float32)


def responsibility(
    pred: Tensor,
    target: Tensor,
    S: int = 7,
    B: int = 2,
    C: int = 20,
    *,
    wh: str = "predicted_sqrt",
    tie_break: str = "rmse",
) -> Responsibility:
    """Which of the B predictors of each object cell is responsible for the object.

    Args:
        pred: ``Tensor[N, S, S, B*5 + C]``.
        target: ``Tensor[N, S, S, 5 + C]``.
        S, B, C: grid size, predictors per cell, classes.
        wh: what the w, h outputs mean (see :func:`yolo_v1_loss`): under the default
            ``"predicted_sqrt"`` the IoUs use the outputs squared.
        tie_break: who answers where every IoU of a cell is 0: ``"rmse"`` (darknet) or
            ``"first"`` (predictor 0). Equal non-zero IoUs go to the first either way.

    Returns:
        :class:`Responsibility` with the IoUs and the boolean mask, both ``[N, S, S, B]``.
    """
    pred = check_pred(pred, S, B, C)
    target = check_target(target, S, C, N=pred.shape[0])
    require_choice("wh", wh, WH_TRANSFORMS)
    require_choice("tie_break", tie_break, TIE_BREAKS)
    # The same dtype as yolo_v1_loss, so that both pick the same predictors: a half-precision
    # pred is compared in float32, not in float16 (whose rounding can flip a near tie).
    dtype = _compute_dtype(pred, target)
    parts = _split(pred.to(dtype), target.to(dtype), B)
    ious, responsible = _responsibility(parts, wh, tie_break)
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
    wh: str = "predicted_sqrt",
    noobj_scope: str = "not_responsible",
    tie_break: str = "rmse",
    reduction: str = "batchmean",
) -> LossTerms:
    """The YOLOv1 loss (Redmon et al. 2016, eq. 3), summed over the grid and divided by N.

    The defaults are the paper's choices where it states them and darknet's
    (``src/detection_layer.c``, ``cfg/yolov1.cfg``) where it does not; every other value of
    an option is a variant found in tutorials, kept to compare.

    Args:
        pred: ``Tensor[N, S, S, B*5 + C]``, per cell B blocks ``(x, y, w, h, conf)`` then C
            class scores.
        target: ``Tensor[N, S, S, 5 + C]``, per cell ``(x, y, w, h, obj, one-hot class)``.
        S, B, C: grid size, predictors per cell, classes (the paper: 7, 2, 20).
        lambda_coord: weight of the box term (the paper: 5).
        lambda_noobj: weight of the no-object confidence term (the paper: 0.5).
        conf_target: ``"iou"`` (the paper: a responsible predictor's confidence regresses to
            its IoU with the object, held constant) or ``"one"`` (a common simplification).
        wh: what the w, h outputs mean and how they are compared, see :func:`wh_transform`.
            ``"predicted_sqrt"`` (the paper and darknet): the outputs are √w, √h, compared
            with √ŵ, √ĥ; the IoUs (responsibility, confidence target) use the outputs
            squared. ``"signed_sqrt"``, ``"clamped_sqrt"``, ``"linear"`` (tutorial
            variants): the outputs are w, h, rooted inside the loss (or not, for
            ``"linear"``); the IoUs use them as they are.
        noobj_scope: ``"not_responsible"`` (darknet: every predictor that is not
            responsible, the other predictor of an object cell included) or ``"empty_cells"``
            (a common variant: only the predictors of cells without an object).
        tie_break: who is responsible in an object cell where no predicted box overlaps the
            object (every IoU 0): ``"rmse"`` (darknet: the box closest to the object by RMSE
            over x, y, w, h in image coordinates) or ``"first"`` (predictor 0). Equal
            non-zero IoUs go to the first predictor under both.
        reduction: ``"batchmean"`` (the paper's sum over the grid, divided by the batch size
            N; PyTorch's name for it in ``nn.KLDivLoss``) or ``"sum"`` (no division by N, a
            tutorial variant; darknet sums too, and divides the learning rate by the batch
            instead).

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
    require_choice("tie_break", tie_break, TIE_BREAKS)
    require_choice("reduction", reduction, REDUCTIONS)

    dtype = _compute_dtype(pred, target)
    parts = _split(pred.to(dtype), target.to(dtype), B)
    ious, resp = _responsibility(parts, wh, tie_break)  # [B, N, S, S] each
    tx, ty, tw, th = parts.target_xywh  # [N, S, S] each

    # The target sizes are checked to lie in [0, 1], so their plain root is safe.
    target_size = torch.sqrt if wh == "predicted_sqrt" else (lambda v: _wh_transform(v, wh))
    box_error = (  # [B, N, S, S]
        _squared_error(parts.x, tx)
        + _squared_error(parts.y, ty)
        + _squared_error(_wh_transform(parts.w, wh), target_size(tw))
        + _squared_error(_wh_transform(parts.h, wh), target_size(th))
    )
    # One squared error serves both confidence terms: a responsible predictor's goal is its
    # IoU (or 1), every other predictor's goal is 0, so its error is conf². No gradient: a target.
    goal = ious if conf_target == "iou" else torch.ones_like(ious)
    conf_goal = torch.where(resp, goal, 0)  # [B, N, S, S]
    conf_error = _squared_error(parts.conf, conf_goal)  # [B, N, S, S]
    noobj_mask = ~resp if noobj_scope == "not_responsible" else ~parts.obj  # [B, N, S, S] or [N, S, S]
    class_error = _squared_error(parts.class_scores, parts.one_hot)  # [N, S, S, C]

    # torch.where, not a multiplication by the mask: a huge value in a masked-out cell must
    # not turn into 0 · inf = NaN. A weighted sum is scaled once, by λ / N (or λ).
    scale = 1.0 / N if reduction == "batchmean" else 1.0
    box = torch.where(resp, box_error, 0).sum() * (lambda_coord * scale)
    obj_term = torch.where(resp, conf_error, 0).sum() * scale
    noobj = torch.where(noobj_mask, conf_error, 0).sum() * (lambda_noobj * scale)
    cls = torch.where(parts.obj[..., None], class_error, 0).sum() * scale
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
        wh: str = "predicted_sqrt",
        noobj_scope: str = "not_responsible",
        tie_break: str = "rmse",
        reduction: str = "batchmean",
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
        self.tie_break = require_choice("tie_break", tie_break, TIE_BREAKS)
        self.reduction = require_choice("reduction", reduction, REDUCTIONS)

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
            tie_break=self.tie_break,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return (
            f"S={self.S}, B={self.B}, C={self.C}, lambda_coord={self.lambda_coord}, "
            f"lambda_noobj={self.lambda_noobj}, conf_target={self.conf_target!r}, "
            f"wh={self.wh!r}, noobj_scope={self.noobj_scope!r}, tie_break={self.tie_break!r}, "
            f"reduction={self.reduction!r}"
            + (", compile=True" if self.compiled else "")
        )
