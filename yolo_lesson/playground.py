"""What the course's widgets show, computed by pure functions: ``inputs -> view``.

Each widget in :mod:`yolo_lesson.widgets` is a thin view over one function here; the
functions take plain numbers (boxes as ``(x1, y1, x2, y2)`` tuples in image coordinates,
``[0, 1]``), run the package's real loss and autograd, and return plain numbers that a
widget can draw. Nothing here raises on what a mouse can produce: a box dragged outside
the image, shrunk to nothing, with its corners crossed or with a NaN coordinate is repaired,
and the view lists what was repaired in ``notes``.

* :func:`box_playground` — one object, the B predictors of its cell: responsibility, IoUs,
  the λ-weighted loss terms, and the gradient of every term with respect to each predictor.
* :func:`iou_playground` — two boxes: IoU, GIoU, DIoU, CIoU, their losses and the direction
  each loss pushes the predicted box.
* :func:`record_box_playground`, :func:`record_iou_playground` — those answers over a grid of
  positions of one box, recorded for pages without a kernel.
* :func:`lambda_explorer` — a synthetic batch: each term's contribution and the size of the
  gradient it sends back, as the λ weights change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import torch
from torch import Tensor

from .boxes import ciou, diou, giou, iou
from .grid import encode_batch, encode_targets
from .loss import CONF_TARGETS, TIE_BREAKS, WH_TRANSFORMS, responsibility, yolo_v1_loss

__all__ = [
    "TERMS",
    "MIN_SIZE",
    "BoxPlaygroundView",
    "IoUPlaygroundView",
    "LambdaBatch",
    "LambdaExplorerView",
    "repair_box",
    "box_playground",
    "iou_playground",
    "make_lambda_batch",
    "Recording",
    "centre_grid",
    "box_at",
    "record_box_playground",
    "record_iou_playground",
    "lambda_explorer",
]

TERMS = ("box", "obj", "noobj", "cls")
# The smallest side a dragged box keeps (2% of the image): smaller, and the mouse can no
# longer grab it. The loss itself is fine with zero-size boxes.
MIN_SIZE = 0.02
# Arrow lengths saturate: length = ARROW_MAX · tanh(|g| / ARROW_SCALE) in image units, so a
# small gradient is still visible and a huge one stays on the picture.
ARROW_MAX = 0.18
ARROW_SCALE = 0.5

Box = tuple[float, float, float, float]


def repair_box(box: Sequence[float], name: str = "box", default: Box = (0.3, 0.3, 0.7, 0.7)) -> tuple[Box, list[str]]:
    """Makes any 4 numbers a valid ``(x1, y1, x2, y2)`` box inside the image.

    Returns the repaired box and the notes saying what was repaired (empty when nothing was).
    """
    notes: list[str] = []
    try:
        values = [float(v) for v in box]
    except (TypeError, ValueError):
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        return default, [f"{name} had a missing or non-number coordinate: reset"]
    x1, y1, x2, y2 = values
    if x1 > x2 or y1 > y2:
        notes.append(f"{name} had crossed corners: swapped")
        x1, x2 = min(x1, x2), max(x1, x2)
        y1, y2 = min(y1, y2), max(y1, y2)
    clipped = [min(max(v, 0.0), 1.0) for v in (x1, y1, x2, y2)]
    if clipped != [x1, y1, x2, y2]:
        notes.append(f"{name} went outside the image: clipped to its border")
    x1, y1, x2, y2 = clipped
    if x2 - x1 < MIN_SIZE or y2 - y1 < MIN_SIZE:
        notes.append(f"{name} shrank below {MIN_SIZE:.0%} of the image: kept at that size")
        x1, x2 = _widen(x1, x2)
        y1, y2 = _widen(y1, y2)
    return (x1, y1, x2, y2), notes


def _widen(lo: float, hi: float) -> tuple[float, float]:
    """Grows ``[lo, hi]`` to at least MIN_SIZE around its middle, staying inside [0, 1]."""
    if hi - lo >= MIN_SIZE:
        return lo, hi
    mid = min(max((lo + hi) / 2, MIN_SIZE / 2), 1 - MIN_SIZE / 2)
    return mid - MIN_SIZE / 2, mid + MIN_SIZE / 2


def _arrow(x: float, y: float, dx: float, dy: float) -> tuple[float, float, float, float]:
    """An arrow from (x, y) along (dx, dy), its length saturating with the vector's size."""
    norm = math.hypot(dx, dy)
    if norm == 0.0:
        return (x, y, x, y)
    length = ARROW_MAX * math.tanh(norm / ARROW_SCALE)
    return (x, y, x + dx / norm * length, y + dy / norm * length)


# --------------------------------------------------------------------------- box playground


@dataclass(frozen=True)
class BoxPlaygroundView:
    """What the box playground shows.

    Attributes:
        S: grid size.
        truth: the repaired ground-truth box ``(x1, y1, x2, y2)``.
        preds: the repaired predicted boxes, one per predictor.
        cell: ``(row, col)`` of the object's cell.
        wh: what the tensor's w, h entries mean (the loss's option, after repair).
        outputs: per predictor, the tensor's entries ``x, y, w, h, conf`` for the drawn box:
            x, y the centre's offset in the cell (cell units); w, h the roots of the drawn
            size under ``wh="predicted_sqrt"`` (the default), the drawn size otherwise.
        ious: IoU of each predictor's box with the object (image coordinates).
        responsible: index of the responsible predictor, as the loss chooses it (the highest
            IoU; where every IoU is 0, the smallest RMSE under ``tie_break="rmse"``).
        terms: the λ-weighted terms and ``total`` (``total == box + obj + noobj + cls``).
        grads: per predictor, ``∂total/∂`` its tensor entries ``x, y, w, h, conf`` (the
            entries of ``outputs``: under ``"predicted_sqrt"`` the gradient in √w).
        grads_by_term: per term, the same gradients of that term alone.
        class_grads: ``∂total/∂`` each class score.
        centre_arrows, size_arrows: per predictor ``(x0, y0, x1, y1)`` in image coordinates:
            the direction gradient descent moves its centre, and its bottom-right corner.
        notes: what was repaired in the inputs.
    """

    S: int
    truth: Box
    preds: tuple[Box, ...]
    cell: tuple[int, int]
    wh: str
    outputs: tuple[dict[str, float], ...]
    ious: tuple[float, ...]
    responsible: int
    terms: dict[str, float]
    grads: tuple[dict[str, float], ...]
    grads_by_term: dict[str, tuple[dict[str, float], ...]]
    class_grads: tuple[float, ...]
    centre_arrows: tuple[tuple[float, float, float, float], ...]
    size_arrows: tuple[tuple[float, float, float, float], ...]
    notes: tuple[str, ...] = field(default=())


def _clip_number(value: object, lo: float, hi: float, name: str, default: float, notes: list[str]) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v):
        notes.append(f"{name} was not a number: set to {default:g}")
        return default
    if not lo <= v <= hi:
        notes.append(f"{name} was outside [{lo:g}, {hi:g}]: clipped")
        return min(max(v, lo), hi)
    return v


def _term_values(terms) -> dict[str, float]:
    """``LossTerms`` as plain floats, ``total`` first."""
    return {name: float(getattr(terms, name).detach()) for name in ("total", *TERMS)}


def _choice(value: str, options: Sequence[str], name: str, notes: list[str]) -> str:
    if value in options:
        return value
    notes.append(f"{name} {value!r} is not one of {', '.join(options)}: using {options[0]!r}")
    return options[0]


def box_playground(
    truth: Sequence[float],
    preds: Sequence[Sequence[float]],
    confs: Sequence[float],
    class_scores: Sequence[float],
    label: int = 0,
    S: int = 7,
    lambda_coord: float = 5.0,
    lambda_noobj: float = 0.5,
    conf_target: str = "iou",
    wh: str = "predicted_sqrt",
    tie_break: str = "rmse",
) -> BoxPlaygroundView:
    """The YOLOv1 loss of one object and the B predictors of its cell, with its gradients.

    Args:
        truth: the ground-truth box ``(x1, y1, x2, y2)`` in image coordinates.
        preds: B predicted boxes ``(x1, y1, x2, y2)`` as drawn; B is ``len(preds)``. The
            tensor gets the entries that draw them: under ``wh="predicted_sqrt"`` its w, h
            are the square roots of the drawn width and height.
        confs: B predicted confidences.
        class_scores: C class scores of the cell; C is ``len(class_scores)``.
        label: the object's class, in ``[0, C)``.
        S: grid size; every other cell is empty and predicts zeros, so it adds nothing.
        lambda_coord, lambda_noobj, conf_target, wh, tie_break: as in
            :func:`yolo_lesson.loss.yolo_v1_loss`.

    Returns:
        A :class:`BoxPlaygroundView`.
    """
    notes: list[str] = []
    S = int(_clip_number(S, 1, 64, "S", 7, notes))
    truth_box, n = repair_box(truth, "the ground truth")
    notes += n
    B = max(len(preds), 1)
    pred_boxes = []
    for b in range(B):
        box, n = repair_box(preds[b] if b < len(preds) else (), f"predictor {b + 1}")
        pred_boxes.append(box)
        notes += n
    conf_values = [
        _clip_number(confs[b] if b < len(confs) else 0.5, -2, 2, f"confidence {b + 1}", 0.5, notes)
        for b in range(B)
    ]
    C = max(len(class_scores), 1)
    cls_values = [
        _clip_number(class_scores[c] if c < len(class_scores) else 0.0, -2, 2, f"class score {c + 1}", 0.0, notes)
        for c in range(C)
    ]
    label = int(_clip_number(label, 0, C - 1, "label", 0, notes))
    lambda_coord = _clip_number(lambda_coord, 0, 1e3, "λ_coord", 5.0, notes)
    lambda_noobj = _clip_number(lambda_noobj, 0, 1e3, "λ_noobj", 0.5, notes)
    conf_target = _choice(conf_target, CONF_TARGETS, "conf_target", notes)
    wh = _choice(wh, WH_TRANSFORMS, "wh", notes)
    tie_break = _choice(tie_break, TIE_BREAKS, "tie_break", notes)

    x1, y1, x2, y2 = truth_box
    truth_cxcywh = torch.tensor([[(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]], dtype=torch.float64)
    target = encode_targets(truth_cxcywh, torch.tensor([label]), S=S, C=C)[None]  # [1, S, S, 5+C]
    row, col = (int(i) for i in torch.nonzero(target[0, :, :, 4])[0])

    # The cell's entries as leaves: B rows of (x, y, w, h, conf), then C class scores. The
    # entries draw the boxes: under "predicted_sqrt" w, h are the roots of the drawn size
    # (at least MIN_SIZE after repair, so the root is well defined).
    size = math.sqrt if wh == "predicted_sqrt" else float
    blocks = torch.tensor(
        [
            [(bx1 + bx2) / 2 * S - col, (by1 + by2) / 2 * S - row, size(bx2 - bx1), size(by2 - by1), conf]
            for (bx1, by1, bx2, by2), conf in zip(pred_boxes, conf_values)
        ],
        dtype=torch.float64,
        requires_grad=True,
    )  # [B, 5]
    scores = torch.tensor(cls_values, dtype=torch.float64, requires_grad=True)  # [C]
    cell = torch.cat([blocks.reshape(-1), scores])  # [B*5 + C]
    pred = torch.zeros(1, S, S, B * 5 + C, dtype=torch.float64)
    pred = pred.index_put((torch.tensor([0]), torch.tensor([row]), torch.tensor([col])), cell[None])

    terms = yolo_v1_loss(
        pred, target, S=S, B=B, C=C, lambda_coord=lambda_coord, lambda_noobj=lambda_noobj,
        conf_target=conf_target, wh=wh, tie_break=tie_break,
    )
    by_term = {}
    for name in TERMS:
        g_blocks, g_scores = torch.autograd.grad(getattr(terms, name), (blocks, scores), retain_graph=True)
        by_term[name] = (g_blocks, g_scores)
    # The total is the sum of the terms, so its gradient is the sum of theirs.
    g_total = sum(g for g, _ in by_term.values())  # [B, 5]
    g_class = sum(g for _, g in by_term.values())  # [C]

    # The loss's own choice (highest IoU, the RMSE where no box overlaps), read back.
    chosen = responsibility(pred.detach(), target, S=S, B=B, C=C, wh=wh, tie_break=tie_break)
    ious = chosen.ious[0, row, col]  # [B]
    responsible = int(chosen.responsible[0, row, col].long().argmax())

    def named(g: Tensor) -> tuple[dict[str, float], ...]:
        return tuple(dict(zip(("x", "y", "w", "h", "conf"), (float(v) for v in row_))) for row_ in g)

    centre_arrows, size_arrows = [], []
    for (bx1, by1, bx2, by2), g, out in zip(pred_boxes, g_total.tolist(), blocks.tolist()):
        # ∂L/∂(image cx) = S · ∂L/∂x because x = cx · S - col; descent goes against the gradient.
        centre_arrows.append(_arrow((bx1 + bx2) / 2, (by1 + by2) / 2, -S * g[0], -S * g[1]))
        # A descent step -g on the entry moves the drawn size by d(size)/d(entry) · (-g):
        # 2·entry under "predicted_sqrt" (size = entry²), 1 otherwise.
        slope_w, slope_h = (2 * out[2], 2 * out[3]) if wh == "predicted_sqrt" else (1.0, 1.0)
        size_arrows.append(_arrow(bx2, by2, -slope_w * g[2], -slope_h * g[3]))

    return BoxPlaygroundView(
        S=S,
        truth=truth_box,
        preds=tuple(pred_boxes),
        cell=(row, col),
        wh=wh,
        outputs=named(blocks.detach()),
        ious=tuple(float(v) for v in ious),
        responsible=responsible,
        terms=_term_values(terms),
        grads=named(g_total),
        grads_by_term={name: named(g) for name, (g, _) in by_term.items()},
        class_grads=tuple(float(v) for v in g_class),
        centre_arrows=tuple(centre_arrows),
        size_arrows=tuple(size_arrows),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- IoU playground

IOU_FAMILY = {"iou": iou, "giou": giou, "diou": diou, "ciou": ciou}


@dataclass(frozen=True)
class IoUPlaygroundView:
    """What the IoU playground shows.

    Attributes:
        target, pred: the repaired boxes ``(x1, y1, x2, y2)``.
        values: ``iou``, ``giou``, ``diou``, ``ciou`` of the pair.
        losses: ``1 - value`` for each.
        grads: per loss, ``∂loss/∂`` the predicted box's ``x1, y1, x2, y2``.
        arrows: per loss, ``(x0, y0, x1, y1)``: the direction gradient descent moves the
            predicted box's centre (``-∂loss/∂cx, -∂loss/∂cy``).
        notes: what was repaired in the inputs.
    """

    target: Box
    pred: Box
    values: dict[str, float]
    losses: dict[str, float]
    grads: dict[str, tuple[float, float, float, float]]
    arrows: dict[str, tuple[float, float, float, float]]
    notes: tuple[str, ...] = field(default=())


def iou_playground(target: Sequence[float], pred: Sequence[float]) -> IoUPlaygroundView:
    """IoU, GIoU, DIoU and CIoU of two boxes and the pull of each loss on the predicted box.

    Args:
        target: the fixed box ``(x1, y1, x2, y2)`` in image coordinates.
        pred: the predicted box ``(x1, y1, x2, y2)``; the gradients are taken with respect to it.
    """
    target_box, notes = repair_box(target, "the target")
    pred_box, n = repair_box(pred, "the prediction")
    notes += n
    t = torch.tensor(target_box, dtype=torch.float64)
    values, losses, grads, arrows = {}, {}, {}, {}
    cx, cy = (pred_box[0] + pred_box[2]) / 2, (pred_box[1] + pred_box[3]) / 2
    for name, fn in IOU_FAMILY.items():
        p = torch.tensor(pred_box, dtype=torch.float64, requires_grad=True)
        value = fn(p, t)
        (g,) = torch.autograd.grad(1 - value, p)
        values[name] = float(value.detach())
        losses[name] = 1 - values[name]
        grads[name] = tuple(float(v) for v in g)
        # Moving the centre by d moves both x1 and x2 by d: ∂/∂cx = ∂/∂x1 + ∂/∂x2.
        arrows[name] = _arrow(cx, cy, -float(g[0] + g[2]), -float(g[1] + g[3]))
    return IoUPlaygroundView(target_box, pred_box, values, losses, grads, arrows, tuple(notes))


# --------------------------------------------------------------------------- recorded answers
# A page without a kernel (the website) cannot call the functions above. The playgrounds
# record their answers ahead of time instead: one box's centre on a grid, everything else
# fixed, one view per grid point. The browser snaps a drag to the nearest grid point and
# shows that view: it looks numbers up and computes none.


@dataclass(frozen=True)
class Recording:
    """A playground's answers over a grid of centres of one box (the others fixed).

    Attributes:
        xs, ys: the grid's centre coordinates (image units), increasing; the box's own
            starting centre is a grid point, so the first view shown is a recorded one.
        views: row-major, ``views[j * len(xs) + i]`` is the view with the box's centre at
            ``(xs[i], ys[j])`` and its size unchanged.
    """

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    views: tuple


def centre_grid(box: Sequence[float], step: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The centres, ``step`` apart and through the box's own centre, at which a box of this
    size lies wholly inside the image: ``(xs, ys)``."""
    if not (isinstance(step, (int, float)) and 0.001 <= step <= 0.5):
        raise ValueError(f"step must be a number in [0.001, 0.5] (image units), got {step!r}")
    (x1, y1, x2, y2), _ = repair_box(box)

    def axis(lo: float, hi: float) -> tuple[float, ...]:
        centre, half = (lo + hi) / 2, (hi - lo) / 2
        first = math.ceil((half - centre) / step - 1e-9)  # the lowest k with centre + k·step >= half
        last = math.floor((1 - half - centre) / step + 1e-9)
        return tuple(round(centre + k * step, 9) for k in range(first, last + 1))

    return axis(x1, x2), axis(y1, y2)


def box_at(box: Sequence[float], cx: float, cy: float) -> Box:
    """``box`` moved so that its centre is ``(cx, cy)``, its size kept, and shifted back
    inside the image by at most a rounding error."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    left = min(max(cx - w / 2, 0.0), 1.0 - w)
    top = min(max(cy - h / 2, 0.0), 1.0 - h)
    return (left, top, left + w, top + h)


def record_box_playground(
    truth: Sequence[float],
    preds: Sequence[Sequence[float]],
    confs: Sequence[float],
    class_scores: Sequence[float],
    moving: int = 0,
    step: float = 0.025,
    **options,
) -> Recording:
    """:func:`box_playground` at every grid position of predictor ``moving``'s centre (see
    :func:`centre_grid`); the other boxes and every option (``label``, ``S``, the λs, ...,
    passed on in ``options``) fixed."""
    if not 0 <= moving < len(preds):
        raise ValueError(f"moving must index one of the {len(preds)} predictors, got {moving!r}")
    start, _ = repair_box(preds[moving])
    xs, ys = centre_grid(start, step)
    views = []
    for cy in ys:
        for cx in xs:
            boxes = [box_at(start, cx, cy) if b == moving else p for b, p in enumerate(preds)]
            views.append(box_playground(truth, boxes, confs, class_scores, **options))
    return Recording(xs, ys, tuple(views))


def record_iou_playground(target: Sequence[float], pred: Sequence[float], step: float = 0.02) -> Recording:
    """:func:`iou_playground` at every grid position of the prediction's centre (see
    :func:`centre_grid`), the target and the prediction's size fixed."""
    start, _ = repair_box(pred)
    xs, ys = centre_grid(start, step)
    views = tuple(iou_playground(target, box_at(start, cx, cy)) for cy in ys for cx in xs)
    return Recording(xs, ys, views)


# --------------------------------------------------------------------------- λ explorer


@dataclass(frozen=True)
class LambdaBatch:
    """A synthetic batch: ``pred [N, S, S, B*5 + C]`` drawn at random as at initialization,
    ``target [N, S, S, 5 + C]`` encoded from random objects."""

    pred: Tensor
    target: Tensor
    S: int
    B: int
    C: int


def make_lambda_batch(N: int = 16, S: int = 7, B: int = 2, C: int = 20, max_objects: int = 4, seed: int = 0) -> LambdaBatch:
    """Makes a seeded batch of N images with 1 to ``max_objects`` objects each and predictions
    drawn uniformly from [0, 1] (an untrained network's outputs are about that size)."""
    g = torch.Generator().manual_seed(seed)
    boxes, labels = [], []
    for _ in range(N):
        K = int(torch.randint(1, max_objects + 1, (1,), generator=g))
        wh = 0.1 + 0.4 * torch.rand(K, 2, generator=g, dtype=torch.float64)
        centre = wh / 2 + (1 - wh) * torch.rand(K, 2, generator=g, dtype=torch.float64)
        boxes.append(torch.cat([centre, wh], dim=1))
        labels.append(torch.randint(0, C, (K,), generator=g))
    target = encode_batch(boxes, labels, S=S, C=C)
    pred = torch.rand(N, S, S, B * 5 + C, generator=g, dtype=torch.float64)
    return LambdaBatch(pred, target, S, B, C)


@dataclass(frozen=True)
class LambdaExplorerView:
    """What the λ explorer shows.

    Attributes:
        terms: each λ-weighted term and ``total``, summed over the batch and divided by N.
        grad_norms: per term, the norm of its gradient with respect to the whole prediction
            tensor (how hard that term pulls on the network's outputs), and ``total``.
        object_cells, empty_predictors: how many cells hold an object; how many predictors
            the no-object term covers.
        notes: what was repaired in the inputs.
    """

    terms: dict[str, float]
    grad_norms: dict[str, float]
    object_cells: int
    empty_predictors: int
    notes: tuple[str, ...] = field(default=())


def lambda_explorer(batch: LambdaBatch, lambda_coord: float = 5.0, lambda_noobj: float = 0.5, conf_target: str = "iou") -> LambdaExplorerView:
    """Each term's contribution and gradient norm on ``batch`` for the given λ weights."""
    notes: list[str] = []
    lambda_coord = _clip_number(lambda_coord, 0, 1e3, "λ_coord", 5.0, notes)
    lambda_noobj = _clip_number(lambda_noobj, 0, 1e3, "λ_noobj", 0.5, notes)
    conf_target = _choice(conf_target, CONF_TARGETS, "conf_target", notes)
    pred = batch.pred.detach().requires_grad_(True)
    terms = yolo_v1_loss(
        pred, batch.target, S=batch.S, B=batch.B, C=batch.C,
        lambda_coord=lambda_coord, lambda_noobj=lambda_noobj, conf_target=conf_target,
    )
    norms, total_grad = {}, torch.zeros_like(pred)
    for name in TERMS:
        (g,) = torch.autograd.grad(getattr(terms, name), pred, retain_graph=True)
        norms[name] = float(g.norm())
        total_grad += g
    norms["total"] = float(total_grad.norm())
    object_cells = int((batch.target[..., 4] > 0).sum())
    return LambdaExplorerView(
        terms=_term_values(terms),
        grad_norms=norms,
        object_cells=object_cells,
        empty_predictors=batch.pred.shape[0] * batch.S * batch.S * batch.B - object_cells,
        notes=tuple(notes),
    )


# --- the λ explorer, recorded for a page without a kernel ---------------------------------

# The sliders' grids: λ_coord from 0 to 20 by 0.5, λ_noobj from 0 to 2 by 0.05 (41 × 41
# states). Each value is the double nearest its decimal, as a browser's slider reads it.
LAMBDA_COORD_GRID = tuple(round(0.5 * k, 10) for k in range(41))
LAMBDA_NOOBJ_GRID = tuple(round(0.05 * k, 10) for k in range(41))
# The explorer shows every number with 4 decimals; a recording keeps no more than that.
LAMBDA_DECIMALS = 4


@dataclass(frozen=True)
class LambdaRecording:
    """The λ explorer's answer for every state of its slider grid.

    Attributes:
        lambda_coord: the K λ_coord values of the grid, increasing.
        lambda_noobj: the M λ_noobj values of the grid, increasing.
        terms, grad_norms: per name (``total`` and each term), K·M numbers rounded to
            ``decimals``, row-major: the state (λ_coord[i], λ_noobj[j]) is at ``i * M + j``.
        object_cells, empty_predictors: as in :class:`LambdaExplorerView` (λ does not move them).
        decimals: how many decimals the numbers keep.
    """

    lambda_coord: tuple[float, ...]
    lambda_noobj: tuple[float, ...]
    terms: dict[str, tuple[float, ...]]
    grad_norms: dict[str, tuple[float, ...]]
    object_cells: int
    empty_predictors: int
    decimals: int

    def at(self, i: int, j: int) -> LambdaExplorerView:
        """The recorded state at grid indices ``(i, j)``: (λ_coord[i], λ_noobj[j])."""
        k = i * len(self.lambda_noobj) + j
        return LambdaExplorerView(
            terms={name: values[k] for name, values in self.terms.items()},
            grad_norms={name: values[k] for name, values in self.grad_norms.items()},
            object_cells=self.object_cells,
            empty_predictors=self.empty_predictors,
        )

    def to_json(self) -> dict:
        """Plain lists and numbers, for a widget's synced state."""
        return {
            "lambda_coord": list(self.lambda_coord),
            "lambda_noobj": list(self.lambda_noobj),
            "terms": {name: list(values) for name, values in self.terms.items()},
            "grad_norms": {name: list(values) for name, values in self.grad_norms.items()},
            "object_cells": self.object_cells,
            "empty_predictors": self.empty_predictors,
            "decimals": self.decimals,
        }


def rounded_view(view: LambdaExplorerView, decimals: int = LAMBDA_DECIMALS) -> LambdaExplorerView:
    """``view`` with its terms and gradient norms rounded to ``decimals``, as the explorer shows them."""
    return LambdaExplorerView(
        terms={name: round(value, decimals) for name, value in view.terms.items()},
        grad_norms={name: round(value, decimals) for name, value in view.grad_norms.items()},
        object_cells=view.object_cells,
        empty_predictors=view.empty_predictors,
        notes=view.notes,
    )


def _lambda_grid(values: object, name: str) -> tuple[float, ...]:
    from ._checks import as_number, describe

    try:
        numbers = [as_number(v) for v in values]  # type: ignore[union-attr]
    except TypeError:
        raise ValueError(f"{name} must be a sequence of numbers, got {describe(values)}") from None
    if not numbers or any(v is None or not math.isfinite(v) or v < 0 for v in numbers):
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers >= 0, got {values!r}")
    if any(b <= a for a, b in zip(numbers, numbers[1:])):
        raise ValueError(f"{name} must be increasing, got {values!r}")
    return tuple(float(v) for v in numbers)  # type: ignore[arg-type]


def record_lambda_explorer(
    batch: LambdaBatch,
    lambda_coord: Sequence[float] = LAMBDA_COORD_GRID,
    lambda_noobj: Sequence[float] = LAMBDA_NOOBJ_GRID,
    decimals: int = LAMBDA_DECIMALS,
    conf_target: str = "iou",
) -> LambdaRecording:
    """:func:`lambda_explorer` at every (λ_coord, λ_noobj) of the grid, rounded to ``decimals``.

    The loss is linear in each λ: the box term and its gradient scale with λ_coord, the
    no-object term and its gradient with λ_noobj, the others do not move. So one backward pass
    per term at λ = 1 gives every state; the total gradient's norm comes from the inner
    products of the four term gradients: ‖Σ_t λ_t g_t‖² = Σ_t Σ_u λ_t λ_u ⟨g_t, g_u⟩.

    Raises:
        ValueError: ``batch`` is not a :class:`LambdaBatch`, a grid is empty, not increasing or
            holds a negative or non-finite number, ``decimals`` is not an int in [0, 12], or
            ``conf_target`` is not one of the loss's options.
    """
    from ._checks import as_int, describe, require_choice

    if not isinstance(batch, LambdaBatch):
        raise ValueError(f"batch must be a LambdaBatch (make_lambda_batch()), got {describe(batch)}")
    coords = _lambda_grid(lambda_coord, "lambda_coord")
    noobjs = _lambda_grid(lambda_noobj, "lambda_noobj")
    places = as_int(decimals)
    if places is None or not 0 <= places <= 12:
        raise ValueError(f"decimals must be an int in [0, 12], got {describe(decimals)}")
    conf_target = require_choice("conf_target", conf_target, CONF_TARGETS)

    pred = batch.pred.detach().requires_grad_(True)
    at_one = yolo_v1_loss(
        pred, batch.target, S=batch.S, B=batch.B, C=batch.C, lambda_coord=1.0, lambda_noobj=1.0, conf_target=conf_target
    )
    grads = torch.stack(
        [torch.autograd.grad(getattr(at_one, name), pred, retain_graph=True)[0].flatten() for name in TERMS]
    )  # [4, N·S·S·(B*5+C)]: one row per term
    gram = grads @ grads.T  # [4, 4]
    values = torch.stack([getattr(at_one, name).detach() for name in TERMS])  # [4]

    lc = torch.tensor(coords, dtype=torch.float64)[:, None].expand(-1, len(noobjs))  # [K, M]
    ln = torch.tensor(noobjs, dtype=torch.float64)[None, :].expand(len(coords), -1)  # [K, M]
    one = torch.ones_like(lc)
    weights = torch.stack([lc, one, ln, one], dim=-1).reshape(-1, len(TERMS))  # [K·M, 4], in TERMS order
    term_values = weights * values  # [K·M, 4]
    term_norms = weights * gram.diagonal().sqrt()  # [K·M, 4]
    total_norm = torch.einsum("gt,tu,gu->g", weights, gram, weights).clamp(min=0).sqrt()  # [K·M]

    def rounded(column: Tensor) -> tuple[float, ...]:
        return tuple(round(float(v), places) for v in column)

    terms = {"total": rounded(term_values.sum(dim=1))}
    norms = {"total": rounded(total_norm)}
    for t, name in enumerate(TERMS):
        terms[name] = rounded(term_values[:, t])
        norms[name] = rounded(term_norms[:, t])
    object_cells = int((batch.target[..., 4] > 0).sum())
    return LambdaRecording(
        lambda_coord=coords,
        lambda_noobj=noobjs,
        terms=terms,
        grad_norms=norms,
        object_cells=object_cells,
        empty_predictors=batch.pred.shape[0] * batch.S * batch.S * batch.B - object_cells,
        decimals=places,
    )


__all__ += ["LAMBDA_COORD_GRID", "LAMBDA_NOOBJ_GRID", "LambdaRecording", "rounded_view", "record_lambda_explorer"]
