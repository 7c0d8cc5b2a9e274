"""Loss landscapes and descent replays: what each box loss looks like around one object, and
where plain gradient descent takes a box under each of them. Pure functions, float64.

* :func:`loss_landscape` — the YOLOv1 terms (the package's :func:`~yolo_lesson.loss.yolo_v1_loss`
  with its defaults) over predictor 1's centre or over its size, for one object and the two
  predictors of its cell: values, gradients, and which predictor is responsible where.
* :func:`iou_family_landscape` — ``1 - IoU``, ``1 - GIoU``, ``1 - DIoU``, ``1 - CIoU``
  (:mod:`yolo_lesson.boxes`) over the predicted box's centre, with their gradients.
* :func:`descent_paths` — one box trained by plain gradient descent from the same start under
  each box loss: the box, its loss and its IoU with the object at every step.

Boxes are ``(x1, y1, x2, y2)`` tuples in image coordinates (``[0, 1]``); gradients are taken with
respect to the plotted coordinates (the centre ``cx, cy`` or the size ``w, h``, image units),
so that an arrow ``-∇`` on a picture points where a small step of descent in those coordinates
goes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
from torch import Tensor

from ._checks import as_number, describe, require_positive_int
from .boxes import ciou, cxcywh_to_xyxy, diou, giou, iou
from .loss import responsibility, yolo_v1_loss

__all__ = [
    "V1_TERMS",
    "IOU_LOSSES",
    "DESCENT_LOSSES",
    "DESCENT_LR",
    "LossLandscape",
    "IoUFamilyLandscape",
    "DescentPath",
    "loss_landscape",
    "iou_family_landscape",
    "descent_paths",
    "replay_state",
]

V1_TERMS = ("box", "obj", "noobj", "total")
IOU_LOSSES = ("iou", "giou", "diou", "ciou")
DESCENT_LOSSES = ("v1",) + IOU_LOSSES
# CIoU's α held constant in the gradient, as box_loss, Ultralytics and the CIoU authors' code do.
_IOU_FUNCTIONS = {
    "iou": iou,
    "giou": giou,
    "diou": diou,
    "ciou": lambda a, b: ciou(a, b, alpha="constant"),
}
_DTYPE = torch.float64
# Plain gradient descent's default step sizes (see descent_paths).
DESCENT_LR = {"v1": 0.001, "iou": 0.003, "giou": 0.003, "diou": 0.003, "ciou": 0.003}
Box = tuple[float, float, float, float]


def _box(name: str, value: object) -> Box:
    """A finite ``(x1, y1, x2, y2)`` with ``x2 > x1`` and ``y2 > y1``, as floats."""
    try:
        numbers = [as_number(v) for v in value]  # type: ignore[union-attr]
    except TypeError:
        numbers = []
    if len(numbers) != 4 or any(n is None or not math.isfinite(n) for n in numbers):
        raise ValueError(f"{name} must be 4 finite numbers (x1, y1, x2, y2), got {describe(value)}")
    x1, y1, x2, y2 = numbers
    if not (x2 > x1 and y2 > y1):
        raise ValueError(f"{name} must have x2 > x1 and y2 > y1 (a box of positive size), got {tuple(numbers)}")
    return (x1, y1, x2, y2)


def _positive(name: str, value: object) -> float:
    number = as_number(value)
    if number is None or not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {describe(value)}")
    return number


def _range(name: str, value: object) -> tuple[float, float]:
    try:
        lo, hi = (as_number(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        lo = hi = None
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ValueError(f"{name} must be (low, high) with finite low < high, got {describe(value)}")
    return lo, hi


def _centre_size(box: Box) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)


def _object_cell(truth: Box, S: int) -> tuple[int, int]:
    """``(row, col)`` of the truth's centre, clamped to the grid (the package's convention)."""
    cx, cy, _, _ = _centre_size(truth)
    clamp = lambda v: min(max(int(math.floor(v * S)), 0), S - 1)  # noqa: E731
    return clamp(cy), clamp(cx)


def _target(truth: Box, S: int) -> Tensor:
    """``Tensor[1, S, S, 6]``: one object of class 0 (C = 1) in its cell."""
    cx, cy, w, h = _centre_size(truth)
    row, col = _object_cell(truth, S)
    target = torch.zeros(1, S, S, 6, dtype=_DTYPE)
    target[0, row, col] = torch.tensor([cx * S - col, cy * S - row, w, h, 1.0, 1.0], dtype=_DTYPE)
    return target


def _pred(truth: Box, S: int, blocks: Sequence[tuple[Tensor, ...]]) -> Tensor:
    """``Tensor[1, S, S, B*5 + 1]``: in the object's cell, one block ``(cx, cy, w, h, conf)``
    per predictor (image units, made differentiable entries of the tensor: offsets in cell
    units and the roots √w, √h of the paper's parametrization), then a class score of 1 (the
    right class: the class term is 0). Zeros elsewhere: every other cell is silent."""
    row, col = _object_cell(truth, S)
    cell = []
    for cx, cy, w, h, conf in blocks:
        cell += [cx * S - col, cy * S - row, w.sqrt(), h.sqrt(), conf]
    cell.append(torch.ones((), dtype=_DTYPE))
    pred = torch.zeros(1, S, S, 5 * len(blocks) + 1, dtype=_DTYPE)
    return pred.index_put((torch.tensor([0]), torch.tensor([row]), torch.tensor([col])), torch.stack(cell)[None])


# ---------------------------------------------------------------------- the v1 landscape


@dataclass(frozen=True)
class LossLandscape:
    """The YOLOv1 terms over a grid of predictor 1's centre or size.

    Attributes:
        over: ``"centre"`` (the axes are predictor 1's ``cx, cy``) or ``"size"`` (its ``w, h``),
            image units.
        xs: ``Tensor[G]``, the horizontal axis (``cx`` or ``w``); ys: ``Tensor[G]`` (``cy`` or ``h``).
        terms: ``{"box", "obj", "noobj", "total"}`` -> ``Tensor[G, G]`` (row i is ``ys[i]``,
            column j is ``xs[j]``), the λ-weighted terms of ``yolo_v1_loss`` (N = 1).
        responsible: ``Tensor[G, G]`` long, 0 where predictor 1 answers, 1 where predictor 2 does.
        arrow_xs, arrow_ys: ``Tensor[A]``, a coarser grid for the arrows.
        grads: the same keys as ``terms`` -> ``Tensor[A, A, 2]``, the gradient of each term
            with respect to the two plotted coordinates at the coarse grid's points.
        truth, preds, confs, S: the inputs.
    """

    over: str
    xs: Tensor
    ys: Tensor
    terms: dict[str, Tensor]
    responsible: Tensor
    arrow_xs: Tensor
    arrow_ys: Tensor
    grads: dict[str, Tensor]
    truth: Box
    preds: tuple[Box, Box]
    confs: tuple[float, float]
    S: int


def _v1_batch(truth: Box, S: int, over: str, points: Tensor, first: Tensor, second: Tensor, confs: Tensor) -> Tensor:
    """``Tensor[P, S, S, 11]``: one image per point ``points[p]`` (``[P, 2]``), predictor 1
    moved (its centre) or resized to it, predictor 2 as given."""
    moved = torch.cat([points, first[2:].expand_as(points)], -1) if over == "centre" else torch.cat(
        [first[:2].expand_as(points), points], -1
    )  # [P, 4] cxcywh
    return torch.cat([
        _pred(truth, S, [(*box.unbind(), confs[0]), (*second.unbind(), confs[1])]) for box in moved
    ])


def loss_landscape(
    truth: Sequence[float],
    preds: Sequence[Sequence[float]],
    *,
    over: str = "centre",
    confs: Sequence[float] = (0.6, 0.4),
    S: int = 7,
    grid: int = 31,
    arrows: int = 11,
    x_range: Sequence[float] | None = None,
    y_range: Sequence[float] | None = None,
) -> LossLandscape:
    """The YOLOv1 loss terms as predictor 1 moves (``over="centre"``) or is resized
    (``over="size"``), predictor 2 and the object staying where they are.

    Each grid point's values are one call of :func:`~yolo_lesson.loss.yolo_v1_loss` with its
    default options (λ_coord = 5, λ_noobj = 0.5, confidence target the IoU, outputs √w, √h,
    darknet's RMSE fallback) on a one-object image with ``B = 2`` and ``C = 1`` (the class
    score is right, so the class term is 0). The arrows' gradients come from autograd through
    one call of the same loss on a batch of one image per arrow, ``reduction="sum"``: the
    images share nothing, so each image's gradient is its own loss's gradient. They are taken
    with respect to the plotted coordinates. Responsibility is the package's
    :func:`~yolo_lesson.loss.responsibility`.

    Args:
        truth: the object ``(x1, y1, x2, y2)``.
        preds: the two predicted boxes of the object's cell, ``(x1, y1, x2, y2)`` each.
        over: ``"centre"`` or ``"size"``.
        confs: the two predictors' confidences.
        S: grid size; grid: points per axis of the values (at least 2); arrows: points per
            axis of the arrows (at least 2).
        x_range, y_range: ``(low, high)`` of the axes, image units. Defaults: over the centre,
            the object's cell with one cell around it; over the size, ``(0.02, 0.6)``.

    Returns:
        :class:`LossLandscape`.
    """
    truth = _box("truth", truth)
    if over not in ("centre", "size"):
        raise ValueError(f"over must be 'centre' or 'size', got {over!r}")
    try:
        pair = tuple(preds)
    except TypeError:
        pair = ()
    if len(pair) != 2:
        raise ValueError(f"preds must be two boxes (B = 2), got {describe(preds)}")
    pair = (_box("preds[0]", pair[0]), _box("preds[1]", pair[1]))
    try:
        conf_pair = tuple(float(_finite("confs", c)) for c in confs)
    except TypeError:
        conf_pair = ()
    if len(conf_pair) != 2:
        raise ValueError(f"confs must be two numbers, got {describe(confs)}")
    S = require_positive_int("S", S)
    G, A = _points("grid", grid), _points("arrows", arrows)
    row, col = _object_cell(truth, S)
    if over == "centre":
        default_x, default_y = ((col - 1) / S, (col + 2) / S), ((row - 1) / S, (row + 2) / S)
    else:
        default_x = default_y = (0.02, 0.6)
    lo_x, hi_x = _range("x_range", default_x if x_range is None else x_range)
    lo_y, hi_y = _range("y_range", default_y if y_range is None else y_range)
    if over == "size" and min(lo_x, lo_y) <= 0:
        raise ValueError(f"x_range and y_range must be > 0 over the size (a width), got {(lo_x, hi_x)}, {(lo_y, hi_y)}")
    xs, ys = (torch.linspace(lo, hi, G, dtype=_DTYPE) for lo, hi in ((lo_x, hi_x), (lo_y, hi_y)))
    arrow_xs, arrow_ys = (torch.linspace(lo, hi, A, dtype=_DTYPE) for lo, hi in ((lo_x, hi_x), (lo_y, hi_y)))

    target = _target(truth, S)
    first, second = (torch.tensor(_centre_size(b), dtype=_DTYPE) for b in pair)
    confs_t = torch.tensor(conf_pair, dtype=_DTYPE)
    with torch.no_grad():
        pred = _v1_batch(truth, S, over, _mesh(xs, ys).reshape(-1, 2), first, second, confs_t)  # [G·G, S, S, 11]
        values = [yolo_v1_loss(image[None], target, S=S, B=2, C=1) for image in pred]
        terms = {name: torch.stack([getattr(v, name) for v in values]).view(G, G) for name in V1_TERMS}
        responsible = responsibility(pred, target.expand(len(pred), -1, -1, -1), S=S, B=2, C=1).responsible
        responsible = responsible[:, row, col, 1].long().view(G, G)

    points = _mesh(arrow_xs, arrow_ys).reshape(-1, 2).requires_grad_()  # [A·A, 2]
    batch = _v1_batch(truth, S, over, points, first, second, confs_t)
    summed = yolo_v1_loss(batch, target.expand(len(batch), -1, -1, -1), S=S, B=2, C=1, reduction="sum")
    grads = {}
    for name in V1_TERMS:
        (gradient,) = torch.autograd.grad(getattr(summed, name), points, retain_graph=True, allow_unused=True)
        grads[name] = (torch.zeros_like(points) if gradient is None else gradient).view(A, A, 2)
    return LossLandscape(over, xs, ys, terms, responsible, arrow_xs, arrow_ys, grads, truth, pair, conf_pair, S)


def _mesh(xs: Tensor, ys: Tensor) -> Tensor:
    """``Tensor[len(ys), len(xs), 2]``: the points ``(xs[j], ys[i])``."""
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([x, y], dim=-1)


def _points(name: str, value: object) -> int:
    count = require_positive_int(name, value)
    if count < 2:
        raise ValueError(f"{name} must be at least 2 points per axis, got {count}")
    return count


def _finite(name: str, value: object) -> float:
    number = as_number(value)
    if number is None or not math.isfinite(number):
        raise ValueError(f"{name} must hold finite numbers, got {describe(value)}")
    return number


# ---------------------------------------------------------------- the IoU-family landscape


@dataclass(frozen=True)
class IoUFamilyLandscape:
    """``1 - IoU``, ``1 - GIoU``, ``1 - DIoU``, ``1 - CIoU`` over the predicted box's centre.

    Attributes:
        xs, ys: ``Tensor[G]``, the centre's ``cx`` and ``cy`` (image units).
        losses: ``{"iou", "giou", "diou", "ciou"}`` -> ``Tensor[G, G]`` (row i is ``ys[i]``).
        grads: the same keys -> ``Tensor[G, G, 2]``, ``∂loss/∂(cx, cy)``.
        overlap: ``Tensor[G, G]`` bool, True where the predicted box overlaps the object
            (positive intersection).
        zero_gradient: per loss, the fraction of grid points where its gradient is exactly 0.
        truth: the object; size: the predicted box's ``(w, h)``.
    """

    xs: Tensor
    ys: Tensor
    losses: dict[str, Tensor]
    grads: dict[str, Tensor]
    overlap: Tensor
    zero_gradient: dict[str, float]
    truth: Box
    size: tuple[float, float]


def iou_family_landscape(
    truth: Sequence[float],
    size: Sequence[float],
    *,
    grid: int = 41,
    x_range: Sequence[float] = (0.0, 1.0),
    y_range: Sequence[float] = (0.0, 1.0),
) -> IoUFamilyLandscape:
    """The IoU-family losses (``1 - value``) of a box of size ``size`` whose centre moves over
    the grid, against the object ``truth``; CIoU with α held constant in the gradient (as
    :func:`yolo_lesson.modern.box_loss` and Ultralytics do).

    Args:
        truth: the object ``(x1, y1, x2, y2)``.
        size: the predicted box's ``(w, h)``, both > 0.
        grid: points per axis (at least 2); x_range, y_range: ``(low, high)`` of the centre.

    Returns:
        :class:`IoUFamilyLandscape`.
    """
    truth = _box("truth", truth)
    try:
        wh = tuple(_positive("size", v) for v in size)
    except TypeError:
        wh = ()
    if len(wh) != 2:
        raise ValueError(f"size must be (w, h), two numbers > 0, got {describe(size)}")
    G = _points("grid", grid)
    xs = torch.linspace(*_range("x_range", x_range), G, dtype=_DTYPE)
    ys = torch.linspace(*_range("y_range", y_range), G, dtype=_DTYPE)
    centres = _mesh(xs, ys).requires_grad_()  # [G, G, 2]
    boxes = cxcywh_to_xyxy(torch.cat([centres, torch.tensor(wh, dtype=_DTYPE).expand(G, G, 2)], dim=-1))
    object_box = torch.tensor(truth, dtype=_DTYPE)
    losses, grads = {}, {}
    for name, fn in _IOU_FUNCTIONS.items():
        loss = 1 - fn(boxes, object_box)  # [G, G]: each point's loss depends on its own centre only
        (grads[name],) = torch.autograd.grad(loss.sum(), centres, retain_graph=True)
        losses[name] = loss.detach()
    with torch.no_grad():
        overlap_w = torch.minimum(boxes[..., 2], object_box[2]) - torch.maximum(boxes[..., 0], object_box[0])
        overlap_h = torch.minimum(boxes[..., 3], object_box[3]) - torch.maximum(boxes[..., 1], object_box[1])
        overlap = (overlap_w > 0) & (overlap_h > 0)
    zero = {name: float((g == 0).all(-1).double().mean()) for name, g in grads.items()}
    return IoUFamilyLandscape(xs, ys, losses, grads, overlap, zero, truth, wh)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- descent replay


@dataclass(frozen=True)
class DescentPath:
    """One box trained by gradient descent under one loss.

    Attributes:
        loss: its name (``"v1"``, ``"iou"``, ``"giou"``, ``"diou"``, ``"ciou"``).
        boxes: ``steps + 1`` boxes ``(x1, y1, x2, y2)``, the start first.
        values: the loss at each of those boxes.
        ious: each box's IoU with the object.
        grads: ``∂loss/∂(cx, cy, w, h)`` at each box.
    """

    loss: str
    boxes: tuple[Box, ...]
    values: tuple[float, ...]
    ious: tuple[float, ...]
    grads: tuple[tuple[float, float, float, float], ...]


def _descent_loss(name: str, truth: Box, S: int):
    """The loss of a box ``θ = (cx, cy, w, h)`` (image units) under ``name``, as a function."""
    object_box = torch.tensor(truth, dtype=_DTYPE)
    if name == "v1":
        target = _target(truth, S)
        one = torch.ones((), dtype=_DTYPE)

        def v1(theta: Tensor) -> Tensor:
            # The package's loss with one predictor (B = 1): it is responsible, and its box
            # term is λ_coord · [(x - x̂)² + (y - ŷ)² + (√w - √ŵ)² + (√h - √ĥ)²].
            return yolo_v1_loss(_pred(truth, S, [(*theta.unbind(), one)]), target, S=S, B=1, C=1).box

        return v1
    fn = _IOU_FUNCTIONS[name]
    return lambda theta: 1 - fn(cxcywh_to_xyxy(theta), object_box)


def descent_paths(
    truth: Sequence[float],
    start: Sequence[float],
    *,
    lr: float | Mapping[str, float] | None = None,
    steps: int = 100,
    losses: Sequence[str] = DESCENT_LOSSES,
    S: int = 7,
) -> dict[str, DescentPath]:
    """Trains one box by plain gradient descent, ``θ ← θ - lr · ∇loss(θ)`` with
    ``θ = (cx, cy, w, h)`` in image units, from ``start``, under each loss in ``losses``.

    ``"v1"`` is the package's YOLOv1 box term for one responsible predictor in the object's
    cell (λ_coord = 5, offsets in cell units, outputs √w, √h); the others are ``1 - IoU``,
    ``1 - GIoU``, ``1 - DIoU``, ``1 - CIoU`` (α constant in the gradient).

    Args:
        truth: the object ``(x1, y1, x2, y2)``.
        start: the starting box ``(x1, y1, x2, y2)``.
        lr: the step size (> 0), one for every loss or a ``{loss: step size}`` mapping;
            default ``DESCENT_LR``: 0.001 for ``"v1"``, whose gradient in image units is
            about ``2 · λ_coord · S² = 490`` times the centre error (a step multiplies that error
            by ``1 - 490 · lr``: above 1/490 it overshoots, above 2/490 it diverges), 0.003 for
            the IoU family. steps: how many steps (>= 1).
        losses: which losses, a subset of ``DESCENT_LOSSES``.
        S: grid size for ``"v1"``.

    Returns:
        ``{loss: DescentPath}`` in the order of ``losses``.

    Raises:
        ValueError: on bad input, or naming ``lr`` when a step makes a box's width or height
        non-positive (the v1 term's √w is then undefined).
    """
    truth = _box("truth", truth)
    start = _box("start", start)
    rates = dict(DESCENT_LR) if lr is None else (dict(lr) if isinstance(lr, Mapping) else {n: lr for n in DESCENT_LOSSES})
    steps = require_positive_int("steps", steps)
    S = require_positive_int("S", S)
    if isinstance(losses, str) or not all(isinstance(n, str) for n in losses) or not losses:
        raise ValueError(f"losses must be a non-empty list of names from {DESCENT_LOSSES}, got {losses!r}")
    unknown = [n for n in losses if n not in DESCENT_LOSSES]
    if unknown:
        raise ValueError(f"losses must be names from {DESCENT_LOSSES}, got unknown {unknown}")
    object_box = torch.tensor(truth, dtype=_DTYPE)
    paths = {}
    for name in losses:
        if name not in rates:
            raise ValueError(f"lr must give a step size for every loss, got none for {name!r} in {lr!r}")
        rate = _positive(f"lr[{name!r}]" if isinstance(lr, Mapping) else "lr", rates[name])
        loss_of = _descent_loss(name, truth, S)
        theta = torch.tensor(_centre_size(start), dtype=_DTYPE)
        boxes, values, ious, grads = [], [], [], []
        for step in range(steps + 1):
            leaf = theta.clone().requires_grad_()
            value = loss_of(leaf)
            (gradient,) = torch.autograd.grad(value, leaf)
            xyxy = cxcywh_to_xyxy(theta)
            boxes.append(tuple(xyxy.tolist()))
            values.append(float(value.detach()))
            ious.append(float(iou(xyxy, object_box)))
            grads.append(tuple(gradient.tolist()))
            theta = theta - rate * gradient
            if step < steps and not (bool(torch.isfinite(theta).all()) and theta[2] > 0 and theta[3] > 0):
                raise ValueError(
                    f"lr = {rate} is too large for {name!r}: step {step + 1} gives a box of width or height "
                    f"<= 0 or a non-finite coordinate, {tuple(theta.tolist())}"
                )
        paths[name] = DescentPath(name, tuple(boxes), tuple(values), tuple(ious), tuple(grads))
    return paths


def replay_state(paths: dict[str, DescentPath], truth: Sequence[float], *, colors: dict[str, str], labels: dict[str, str],
                 digits: int = 6) -> dict:
    """What the descent replay widget saves and draws: plain numbers, rounded to ``digits``
    decimals (the widget shows at most 4), so that the page only looks frames up.

    Args:
        paths: :func:`descent_paths`' result, all of one length.
        truth: the object ``(x1, y1, x2, y2)``.
        colors, labels: per loss, its colour and its name as shown.

    Returns:
        ``{"truth", "steps", "paths": [{"name", "label", "color", "boxes", "centres",
        "values", "ious"}, ...]}``; ``boxes[k]`` is ``(x1, y1, x2, y2)`` at step k and
        ``centres[k]`` its centre.
    """
    truth = _box("truth", truth)
    if not paths:
        raise ValueError("paths must hold at least one DescentPath, got none")
    lengths = {len(p.boxes) for p in paths.values()}
    if len(lengths) != 1:
        raise ValueError(f"paths must all have the same number of steps, got lengths {sorted(lengths)}")
    r = lambda v: round(float(v), digits)  # noqa: E731
    state = {"truth": [r(v) for v in truth], "steps": lengths.pop() - 1, "paths": []}
    for name, path in paths.items():
        state["paths"].append({
            "name": name,
            "label": labels.get(name, name),
            "color": colors.get(name, "#000000"),
            "boxes": [[r(v) for v in box] for box in path.boxes],
            "centres": [[r((b[0] + b[2]) / 2), r((b[1] + b[3]) / 2)] for b in path.boxes],
            "values": [r(v) for v in path.values],
            "ious": [r(v) for v in path.ious],
        })
    return state
