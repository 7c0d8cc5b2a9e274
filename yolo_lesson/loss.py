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

Every entry of ``pred`` is thus in at most one term, with a goal and a weight, and the loss is
one weighted squared error ``Σ weight · (pred - goal)²``. Its gradient, ``2 · weight · (pred -
goal)``, is written out in a custom autograd Function (``backward="closed_form"``, the
default: lesson 04's derivation, in fewer operations than autograd's retracing of the
forward); with ``backward="autograd"`` PyTorch differentiates the step-by-step terms. Both
give the same numbers: ``tests/test_loss.py`` compares them under every option and checks the
Function with ``gradcheck``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import (
    require_choice,
    require_float,
    require_nonnegative_number,
    require_positive_int,
    require_same_device,
)
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
# How the gradient is computed: "closed_form" (the derivative written out, _WeightedSquaredError)
# or "autograd" (PyTorch differentiates the step-by-step forward). Same numbers.
BACKWARDS = ("closed_form", "autograd")

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
# scores, and the box blocks are copied once, field-major, into named fields in predictor-
# major order: each of x, y, w, h, conf is a contiguous [B, N, S, S] tensor, and each target
# field a contiguous [N, S, S] one. Three reasons, all measured. A target field broadcasts
# over the leading B, so PyTorch's elementwise kernels loop over all N·S·S cells at once;
# with B last (and only 2 long), or x and y stacked along a last dimension of their own, most
# of the time would go to loop overhead (along a leading one, as in _Parts, they cost
# nothing). Contiguous fields take the vectorized kernels: on a
# strided view (every 5th value of pred) a unary operation such as sqrt measured 10 to 50
# times slower, and the copy costs less than that. And the copy hands the gradients of all
# fields back in one operation, where each slice of pred would allocate a zero tensor of
# pred's shape for its gradient.
# Responsibility (the public result) is returned in the documented [N, S, S, B] order.


class _Parts(NamedTuple):
    """Named fields of pred and target, predictor-major; shapes in the comments. x and y
    (and w and h) travel together along a leading dimension of 2: the same arithmetic on
    both, one operation instead of two."""

    xy: Tensor  # [2, B, N, S, S]: centre offset inside the cell, cell units
    wh: Tensor  # [2, B, N, S, S]: the w, h outputs
    conf: Tensor  # [B, N, S, S]
    class_scores: Tensor  # [N, S, S, C]
    target_xy: Tensor  # [2, N, S, S]
    target_wh: Tensor  # [2, N, S, S]: size relative to the image
    obj: Tensor  # [N, S, S] bool: cells that hold an object
    one_hot: Tensor  # [N, S, S, C]


def _box_fields(blocks: Tensor, B: int) -> Tensor:
    """The box blocks ``[N, S, S, B*5]`` of pred as one ``[5, B, N, S, S]`` view: x, y, w, h,
    conf, each ``[B, N, S, S]``. ``.contiguous()`` copies it field-major."""
    return blocks.unflatten(-1, (B, 5)).permute(4, 3, 0, 1, 2)


def _blocks_of(fields: Tensor) -> Tensor:
    """The inverse of :func:`_box_fields`: ``[5, B, N, S, S]`` back to pred's blocks layout
    ``[N, S, S, B*5]``, as a view that one copy turns into it. The leading two dimensions
    are swapped (a copy of whole ``[N, S, S]`` fields), then the ``[B*5, N·S·S]`` result is
    transposed; measured about twice as fast as copying the 5-D permutation directly."""
    _, B, N, S, _ = fields.shape
    return fields.transpose(0, 1).reshape(B * 5, N * S * S).T.view(N, S, S, B * 5)


def _split(pred: Tensor, target: Tensor, B: int, fields: Tensor | None = None) -> _Parts:
    """pred and target taken apart into named fields; ``fields``, if given, is
    ``_box_fields`` of pred's box blocks, already computed."""
    blocks, class_scores = pred.split([B * 5, pred.shape[-1] - B * 5], dim=-1)
    fields = _box_fields(blocks, B).contiguous() if fields is None else fields
    xy, wh, conf = fields.split([2, 2, 1])  # [2, B, N, S, S], [2, B, N, S, S], [1, B, N, S, S]
    target_xy, target_wh, obj = target[..., :5].permute(3, 0, 1, 2).contiguous().split([2, 2, 1])
    return _Parts(
        xy, wh, conf[0], class_scores, target_xy, target_wh,
        obj=obj[0] > 0,  # [N, S, S]
        one_hot=target[..., 5:],
    )


def _image_corners(xy: Tensor, wh: Tensor, cell: Tensor, S: int) -> tuple[Tensor, Tensor]:
    """Cell-relative boxes, ``xy`` and ``wh`` each ``[2, ...]``, in the cells ``cell`` (their
    column and row, ``[2, ...]``, broadcast), to their image-space corners ``(x1, y1)`` and
    ``(x2, y2)``, each ``[2, ...]``: the arithmetic of :func:`~yolo_lesson.grid.cells_to_image`
    then :func:`~yolo_lesson.boxes.cxcywh_to_xyxy`, on fields instead of a ``[..., 4]``
    tensor."""
    centre = (xy + cell) / S
    half = wh / 2
    return centre - half, centre + half


def _field_iou(a: tuple[Tensor, Tensor], b: tuple[Tensor, Tensor]) -> Tensor:
    """IoU of boxes given as corner fields ``((x1, y1), (x2, y2))``, each ``[2, ...]``, ``b``
    broadcast to ``a``: the arithmetic of :func:`~yolo_lesson.boxes.iou`, on fields instead
    of a ``[..., 4]`` tensor."""
    (a1, a2), (b1, b2) = a, b
    overlap = (torch.minimum(a2, b2) - torch.maximum(a1, b1)).clamp(min=0)  # width, height
    inter = overlap[0] * overlap[1]
    size_a, size_b = (a2 - a1).clamp(min=0), (b2 - b1).clamp(min=0)
    return _divide(inter, size_a[0] * size_a[1] + size_b[0] * size_b[1] - inter)


def _responsibility(parts: _Parts, wh: str, tie_break: str) -> tuple[Tensor, Tensor]:
    """IoUs ``[B, N, S, S]`` of each predictor with its cell's object, in image coordinates
    (0 in empty cells), and the responsible mask ``[B, N, S, S]``: the highest IoU of each
    object cell, the first predictor on a tie; where every IoU of a cell is 0, the smallest
    RMSE (``tie_break="rmse"``) or the first predictor (``"first"``). No graph: the IoU is a
    target, not a path."""
    with torch.no_grad():
        B, N, S, _ = parts.conf.shape
        # Only object cells have a responsible predictor, so only they are computed: the K
        # object cells are gathered by their index in the flattened grid (n·S·S + row·S +
        # col), and their results scattered back. Each operation below then runs on K
        # values per predictor instead of N·S·S (a few percent of them in a typical batch).
        cells = parts.obj.flatten().nonzero().squeeze(1)  # [K]
        cell = torch.stack([cells % S, cells // S % S]).to(parts.xy.dtype)[:, None]  # [2, 1, K]: column, row
        xy = parts.xy.flatten(2).index_select(2, cells)  # [2, B, K]
        out_wh = parts.wh.flatten(2).index_select(2, cells)  # [2, B, K]
        target_xy = parts.target_xy.flatten(1).index_select(1, cells)[:, None]  # [2, 1, K]
        target_wh = parts.target_wh.flatten(1).index_select(1, cells)[:, None]  # [2, 1, K]
        # The box the outputs stand for: under "predicted_sqrt" the outputs are √w, √h.
        box_wh = out_wh.square() if wh == "predicted_sqrt" else out_wh
        ious = _field_iou(
            _image_corners(xy, box_wh, cell, S),  # 2 x [2, B, K]
            _image_corners(target_xy, target_wh, cell, S),  # 2 x [2, 1, K], broadcast over B
        )  # [B, K]
        # The first predictor with the highest IoU, by a running comparison over the B
        # predictors (B = 2 in the paper): a strict ">" keeps the first on a tie. A reduction
        # over the leading dimension (argmax or max) gives the same answer but measured up to
        # a hundred times slower on CPU for these small, flat tensors.
        best = torch.zeros(ious.shape[1:], dtype=torch.long, device=ious.device)  # [K]
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
            centre = (xy / S - target_xy / S).square()  # [2, B, K]
            size = (box_wh - target_wh).square()  # [2, B, K]
            distance = centre[0] + centre[1] + size[0] + size[1]  # [B, K]
            closest = torch.zeros_like(best)
            best_distance = distance[0]
            for b in range(1, len(distance)):
                closer = distance[b] < best_distance
                closest = torch.where(closer, b, closest)
                best_distance = torch.where(closer, distance[b], best_distance)
            best = torch.where(best_iou > 0, best, closest)
        predictor = torch.arange(B, device=ious.device)[:, None]  # [B, 1]
        # Back to the grid: 0 and False in every cell without an object.
        grid_ious = ious.new_zeros(B, N * S * S).index_copy_(1, cells, ious)
        responsible = torch.zeros(B, N * S * S, dtype=torch.bool, device=ious.device)
        responsible.index_copy_(1, cells, predictor == best)
        return grid_ious.view(B, N, S, S), responsible.view(B, N, S, S)


def _squared_error(value: Tensor, goal: Tensor) -> Tensor:
    """``(value - goal)²`` elementwise, ``goal`` broadcast to ``value``'s shape. Written with
    ``mse_loss(reduction="none")``: the same numbers in one operation forward and one backward."""
    return F.mse_loss(value, goal.expand_as(value), reduction="none")


def _autograd_terms(
    pred: Tensor, target: Tensor, *, B: int, scale: float, lambda_coord: float, lambda_noobj: float,
    conf_target: str, wh: str, noobj_scope: str, tie_break: str,
) -> LossTerms:
    """The four terms written step by step, each squared error on its own, differentiated by
    autograd (``backward="autograd"``, and every ``wh``). Arguments as in :func:`yolo_v1_loss`;
    ``scale`` is 1/N or 1."""
    parts = _split(pred, target, B)
    ious, resp = _responsibility(parts, wh, tie_break)  # [B, N, S, S] each
    (x, y), (w, h) = parts.xy, parts.wh  # [B, N, S, S] each
    (tx, ty), (tw, th) = parts.target_xy, parts.target_wh  # [N, S, S] each

    # The target sizes are checked to lie in [0, 1], so their plain root is safe.
    target_size = torch.sqrt if wh == "predicted_sqrt" else (lambda v: _wh_transform(v, wh))
    box_error = (  # [B, N, S, S]
        _squared_error(x, tx)
        + _squared_error(y, ty)
        + _squared_error(_wh_transform(w, wh), target_size(tw))
        + _squared_error(_wh_transform(h, wh), target_size(th))
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
    box = torch.where(resp, box_error, 0).sum() * (lambda_coord * scale)
    obj_term = torch.where(resp, conf_error, 0).sum() * scale
    noobj = torch.where(noobj_mask, conf_error, 0).sum() * (lambda_noobj * scale)
    cls = torch.where(parts.obj[..., None], class_error, 0).sum() * scale
    return LossTerms(box + obj_term + noobj + cls, box, obj_term, noobj, cls)


# The closed form. Every entry of pred is in at most one term, with a goal and a weight: a
# responsible predictor's x, y, w, h regress to the object's (√w, √h under "predicted_sqrt")
# with weight λ_coord, its confidence to the IoU (or 1) with weight 1; any other confidence
# in the no-object term regresses to 0 with weight λ_noobj; the class scores of an object
# cell regress to the one-hot class with weight 1; every other entry has weight 0. So the
# loss is one weighted squared error, each weight divided by N under "batchmean":
#
#     loss = Σ weight · (pred - goal)²,    d loss / d pred = 2 · weight · (pred - goal)
#
# (lesson 04 derives each term's gradient; they are all this one line). Goal and weight are
# constants: the IoU is a target, and responsibility is a choice, not a path. The box fields
# are taken in the field-major layout of _split ([5, B, N, S, S]: x, y, w, h, conf), where
# goal and weight are stacks of whole fields, and the class scores as they are in pred.


class _WeightedSquaredError(torch.autograd.Function):
    """The four terms of ``Σ weight · (pred - goal)²`` and their sum, with the gradient
    ``2 · weight · (pred - goal)`` written out: one multiplication per part of pred in the
    backward pass, where autograd would retrace every slice, square and mask of the
    step-by-step version."""

    @staticmethod
    def forward(ctx, pred, fields, goal, weight, one_hot, class_weight, responsible):
        # pred: [N, S, S, B*5 + C]; fields: pred's box blocks copied field-major (a constant,
        # the copy the geometry used); fields, goal, weight: [5, B, N, S, S] (x, y, w, h, conf
        # of each predictor); one_hot: [N, S, S, C]; class_weight: [N, S, S, 1];
        # responsible: [B, N, S, S].
        B = responsible.shape[0]
        difference = fields - goal
        scaled = weight * difference  # weight · (pred - goal): half the gradient
        class_difference = pred[..., B * 5 :] - one_hot
        class_scaled = class_weight * class_difference
        # Each term sums weight · (pred - goal)², never 0 · inf: see below. A dot product
        # multiplies and sums in one operation.
        box = torch.dot(difference[:4].flatten(), scaled[:4].flatten())
        conf_error = difference[4] * scaled[4]  # [B, N, S, S]
        obj = torch.where(responsible, conf_error, 0).sum()
        noobj = torch.where(responsible, 0, conf_error).sum()
        cls = torch.dot(class_difference.flatten(), class_scaled.flatten())
        ctx.save_for_backward(pred, goal, weight, one_hot, class_weight, responsible, scaled, class_scaled)
        ctx.set_materialize_grads(False)  # an output nobody differentiates gets None, not zeros
        return box + obj + noobj + cls, box, obj, noobj, cls

    @staticmethod
    def backward(ctx, d_total, d_box, d_obj, d_noobj, d_cls):
        pred, goal, weight, one_hot, class_weight, responsible, scaled, class_scaled = ctx.saved_tensors
        B = responsible.shape[0]
        if torch.is_grad_enabled():
            # backward(create_graph=True): recomputed from pred, so that autograd records it
            # and a second derivative (2 · weight) is possible.
            scaled = weight * (_box_fields(pred[..., : B * 5], B) - goal)
            class_scaled = class_weight * (pred[..., B * 5 :] - one_hot)
        if d_box is None and d_obj is None and d_noobj is None and d_cls is None:  # total.backward()
            if d_total is None:  # no output is differentiated: no gradient
                return (None,) * 7
            d_field = d_class = d_total
        else:
            # Some term on its own (or several with different weights): each entry's
            # gradient is scaled by the d of its term, plus that of total.
            base = scaled.new_zeros(()) if d_total is None else d_total
            d_box, d_obj, d_noobj, d_class = (base if d is None else base + d for d in (d_box, d_obj, d_noobj, d_cls))
            d_field = torch.stack([d_box.expand_as(responsible)] * 4 + [torch.where(responsible, d_obj, d_noobj)])
        # The gradient in pred's layout: the box fields back to their places in the blocks,
        # the class scores as they are.
        box_grad = _blocks_of(2 * d_field * scaled)  # [N, S, S, B*5]
        if torch.is_grad_enabled():  # the same, recorded
            return torch.cat([box_grad, 2 * d_class * class_scaled], dim=-1), *(None,) * 6
        grad = pred.new_empty(pred.shape)
        grad[..., : B * 5] = box_grad
        torch.mul(class_scaled, 2 * d_class, out=grad[..., B * 5 :])
        return grad, *(None,) * 6  # fields, goal, weight, one_hot, class_weight, responsible: constants


def _closed_form_terms(
    pred: Tensor, target: Tensor, *, B: int, scale: float, lambda_coord: float, lambda_noobj: float,
    conf_target: str, wh: str, noobj_scope: str, tie_break: str,
) -> LossTerms:
    """The four terms as one weighted squared error, differentiated in closed form
    (``backward="closed_form"``, for ``wh`` ``"predicted_sqrt"`` and ``"linear"``, where the
    outputs are compared as they are). Arguments as in :func:`yolo_v1_loss`."""
    dtype = pred.dtype
    fields = _box_fields(pred.detach()[..., : B * 5], B).contiguous()  # [5, B, N, S, S]: a constant
    parts = _split(pred.detach(), target, B, fields=fields)  # geometry only: no graph
    ious, resp = _responsibility(parts, wh, tie_break)  # [B, N, S, S] each
    obj = parts.obj  # [N, S, S]

    # The outputs are roots under "predicted_sqrt": so are the goals of w, h.
    target_wh = parts.target_wh.sqrt() if wh == "predicted_sqrt" else parts.target_wh  # [2, N, S, S]
    conf_goal = torch.where(resp, ious, 0) if conf_target == "iou" else resp.to(dtype)  # [B, N, S, S]
    goal = torch.cat([  # [5, B, N, S, S]: x, y, w, h, conf
        torch.cat([parts.target_xy, target_wh])[:, None].expand(4, *resp.shape),
        conf_goal[None],
    ])

    # The weights of x, y, w, h, conf of a predictor when it is responsible, and when it is
    # not: then only its confidence counts, in the no-object term.
    if_responsible, otherwise = torch.tensor(
        [[lambda_coord * scale] * 4 + [scale], [0.0] * 4 + [lambda_noobj * scale]], dtype=dtype, device=pred.device
    ).view(2, 5, 1, 1, 1, 1)  # one value per field, broadcast over [B, N, S, S]
    if noobj_scope == "empty_cells":  # ...and only in a cell without an object
        otherwise = otherwise * ~obj  # [5, 1, N, S, S]
    weight = torch.where(resp, if_responsible, otherwise)  # [5, B, N, S, S]
    class_weight = obj.to(dtype)[..., None] * scale  # [N, S, S, 1]
    # A weight of 0 multiplies (pred - goal) before it is squared: a huge value in a cell
    # outside every term gives 0 · 1e20 = 0, never 0 · inf = NaN. The confidence goals are
    # built with torch.where: the IoU of a predictor that is not responsible (NaN for a huge
    # box) never reaches them.
    return LossTerms(
        *_WeightedSquaredError.apply(pred, fields, goal, weight, parts.one_hot, class_weight, resp)
    )


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
    require_same_device(("pred", pred), ("target", target))
    target = check_target(target, S, C, N=pred.shape[0])
    require_choice("wh", wh, WH_TRANSFORMS)
    require_choice("tie_break", tie_break, TIE_BREAKS)
    # The same dtype as yolo_v1_loss, so that both pick the same predictors: a half-precision
    # pred is compared in float32, not in float16 (whose rounding can flip a near tie).
    dtype = _compute_dtype(pred, target)
    parts = _split(pred.to(dtype), target.to(dtype), B)
    ious, responsible = _responsibility(parts, wh, tie_break)  # 0 and False in empty cells
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
    backward: str = "closed_form",
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
        backward: how the gradient is computed, the same numbers either way:
            ``"closed_form"`` (``2 · weight · (pred - goal)`` written out, lesson 04's
            derivation; several times faster) or ``"autograd"`` (PyTorch differentiates the
            step-by-step forward). Under ``wh="signed_sqrt"`` or ``"clamped_sqrt"`` autograd
            is used either way (the closed form covers outputs compared as they are).

    Returns:
        :class:`LossTerms`, the λ-weighted terms and their sum. Half-precision inputs are
        computed, and returned, in float32.
    """
    pred = check_pred(pred, S, B, C)
    N = pred.shape[0]
    if N == 0:
        raise ValueError("pred must hold at least one image (the loss is a sum divided by N), got N = 0")
    require_same_device(("pred", pred), ("target", target))
    target = check_target(target, S, C, N=N)
    lambda_coord = require_nonnegative_number("lambda_coord", lambda_coord)
    lambda_noobj = require_nonnegative_number("lambda_noobj", lambda_noobj)
    require_choice("conf_target", conf_target, CONF_TARGETS)
    require_choice("wh", wh, WH_TRANSFORMS)
    require_choice("noobj_scope", noobj_scope, NOOBJ_SCOPES)
    require_choice("tie_break", tie_break, TIE_BREAKS)
    require_choice("reduction", reduction, REDUCTIONS)

    require_choice("backward", backward, BACKWARDS)

    dtype = _compute_dtype(pred, target)
    options = dict(
        B=B,
        scale=1.0 / N if reduction == "batchmean" else 1.0,  # λ / N (or λ) weighs each sum once
        lambda_coord=lambda_coord,
        lambda_noobj=lambda_noobj,
        conf_target=conf_target,
        wh=wh,
        noobj_scope=noobj_scope,
        tie_break=tie_break,
    )
    # The closed form covers outputs compared as they are; under the two rooted tutorial
    # variants autograd differentiates the root.
    if backward == "closed_form" and wh in ("predicted_sqrt", "linear"):
        return _closed_form_terms(pred.to(dtype), target.to(dtype), **options)
    return _autograd_terms(pred.to(dtype), target.to(dtype), **options)


class YoloV1Loss(nn.Module):
    """Module form of :func:`yolo_v1_loss`, holding the grid layout and the λ weights.

    Example::

        criterion = YoloV1Loss()          # S=7, B=2, C=20, λ_coord=5, λ_noobj=0.5
        terms = criterion(pred, target)   # LossTerms(total, box, obj, noobj, cls)
        terms.total.backward()

    ``backward`` chooses how the gradient is computed (see :func:`yolo_v1_loss`): the closed
    form by default, ``"autograd"`` to let PyTorch differentiate the step-by-step terms.

    ``compile=True`` runs :func:`yolo_v1_loss` through ``torch.compile``: the same numbers,
    measured only about 1.1× faster per forward + backward than the eager closed form at
    N = 64 and 256 on one CPU thread (see ``make bench``), after a first call that compiles
    for 10–20 s and needs a C++ compiler. The lessons keep the plain version, which a reader
    can step through line by line.
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
        backward: str = "closed_form",
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
        self.backward = require_choice("backward", backward, BACKWARDS)

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
            backward=self.backward,
        )

    def extra_repr(self) -> str:
        return (
            f"S={self.S}, B={self.B}, C={self.C}, lambda_coord={self.lambda_coord}, "
            f"lambda_noobj={self.lambda_noobj}, conf_target={self.conf_target!r}, "
            f"wh={self.wh!r}, noobj_scope={self.noobj_scope!r}, tie_break={self.tie_break!r}, "
            f"reduction={self.reduction!r}, backward={self.backward!r}"
            + (", compile=True" if self.compiled else "")
        )
