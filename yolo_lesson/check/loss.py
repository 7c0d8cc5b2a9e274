"""Checker of lessons 03 and 04 (the YOLOv1 loss): the learner's loss against
:func:`yolo_lesson.loss.yolo_v1_loss` called with the same options, value *and* gradient
∂total/∂pred; plus two answers about which confidences a loss leaves without a gradient."""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Mapping, NamedTuple

import torch
from torch import Tensor

from .._checks import require_positive_int
from .core import (Case, CheckResult, _as_tensor, _nested, _number, _options, _shape, _show, _t,
                   _digits_to_tell_apart, compare_tensors, run_cases)

_RUN_OPTIONS = ("quiet", "strict", "time_limit")
_FIELDS = ("x", "y", "w", "h", "conf")


class _Answer(NamedTuple):
    """What the learner's loss gave: the raw answer, its total, ∂total/∂pred or why there is none."""

    raw: Any
    total: Any
    grad: Tensor | None
    no_grad: str


def _loss_total(value: Any) -> Any:
    """The learner may return the total, a LossTerms-like object or a dict with "total"."""
    if isinstance(value, Mapping) and "total" in value:
        return value["total"]
    if hasattr(value, "total") and not isinstance(value, Tensor):
        return value.total
    return value


def _call_loss(learner_fn: Callable, pred: Tensor, target: Tensor) -> _Answer:
    """Runs the learner's loss on a leaf ``pred`` and backpropagates through its total."""
    pred.requires_grad_(True)
    raw = learner_fn(pred, target)
    total = _loss_total(raw)
    if isinstance(total, (int, float)) and not isinstance(total, bool):
        return _Answer(raw, total, None, f"your loss is a Python {type(total).__name__}: it carries no "
                       "gradient. Return the scalar tensor itself (no .item(), no float(...)) so that "
                       "training can backpropagate through it")
    if not isinstance(total, Tensor) or total.numel() != 1:
        return _Answer(raw, total, None, "")
    if not total.requires_grad:
        return _Answer(raw, total, None, "your loss carries no gradient (a float, or a tensor "
                       "detached by .item(), .detach() or torch.tensor(...)): return the tensor "
                       "so that training can backpropagate through it")
    (grad,) = torch.autograd.grad(total.reshape(()), pred, allow_unused=True)
    return _Answer(raw, total.detach(), torch.zeros_like(pred) if grad is None else grad, "")


def _channel(index: list[int], B: int) -> str:
    n, row, col, k = index
    what = f"predictor {k // 5} {_FIELDS[k % 5]}" if k < 5 * B else f"class score {k - 5 * B}"
    return f"image {n}, cell ({row}, {col}), {what}"


def _compare_loss(expected: Any, received: _Answer, B: int) -> str | None:
    terms, want_grad = expected
    total = _as_tensor(received.total)
    if total is None:
        return f"a {type(received.raw).__name__}, where a scalar loss was expected"
    if total.numel() != 1:
        return (f"a tensor of shape {_shape(total.shape)}: the loss must be one number; "
                "sum every term over the grid and the predictors")
    difference = compare_tensors(terms.total, total.reshape(()), rtol=1e-4, atol=1e-6, tensor_only=False)
    if difference is not None:
        return difference
    if received.grad is None:
        return received.no_grad or "a loss without a gradient"
    close = torch.isclose(received.grad.double(), want_grad.double(), rtol=1e-4, atol=1e-5)
    if bool(close.all()):
        return None
    index = [int(i) for i in torch.nonzero(~close)[0]]
    w, g = want_grad[tuple(index)].item(), received.grad[tuple(index)].item()
    digits = _digits_to_tell_apart(w, g)
    if not math.isfinite(g):
        return (f"the total is right but its gradient ∂total/∂pred at {_channel(index, B)} is "
                f"{_number(g)}: a square root at 0 or below has an infinite slope, and a 0 · inf "
                "in a masked-out cell is nan. Mask with torch.where before the root, or clamp "
                "its argument to a small positive number.")
    field = index[3] % 5 if index[3] < 5 * B else None
    if field in (2, 3):
        why = ("the slope on a width or height depends on how sizes are compared: the box term "
               "compares √w with √ŵ (same value here with or without the roots, not the same "
               "slope). If your roots are right, detach the IoU target (see below).")
    elif field == 4:
        why = "the confidence's slope is 2·(conf - goal) times its λ: check each confidence's goal and weight."
    else:
        why = ""
    return (f"the total is right but its gradient is not: ∂total/∂pred at {_channel(index, B)} "
            f"is {_number(g, digits)}, expected {_number(w, digits)}. {why} A target carries no "
            "gradient: compute the IoU used as the confidence target (and to choose the "
            "responsible predictor) from detached boxes, under torch.no_grad() or with .detach().")


def _show_loss_expected(expected: Any) -> str:
    terms = expected[0]
    parts = ", ".join(f"{k} {_number(v.item())}" for k, v in terms._asdict().items() if k != "total")
    return f"{_number(terms.total.item())}  ({parts})"


def _show_loss_received(received: _Answer) -> str:
    total = _as_tensor(received.total)
    if total is None or total.numel() != 1:
        return _show(received.total)
    return _number(float(total.reshape(())))


def _loss_cases(S: int, B: int, C: int, wh: str, tie_break: str | None) -> list[Case]:
    """Hand-built batches in the layout ``[N, S, S, B*5 + C]``; each one changes the total
    for one typical mistake. Cases needing a second predictor are left out when ``B = 1``.
    Boxes are described by their true (w, h); with ``wh="predicted_sqrt"`` the prediction
    holds (√w, √h), as the network would output them."""
    from .. import boxes as box_ops

    roots_out = wh == "predicted_sqrt"

    row, col = S // 2, S // 2  # the object cell
    gen = torch.Generator().manual_seed(0)

    tiny = math.sqrt(1e-4) if roots_out else 1e-4

    def empty(N=1):
        """An empty batch; every predicted box is tiny (w = h = 1e-4), not 0: √w has an
        infinite slope at 0, and a learner's torch.sqrt would turn it into a NaN gradient."""
        pred = torch.zeros(N, S, S, B * 5 + C)
        pred[..., 2 : B * 5 : 5] = tiny
        pred[..., 3 : B * 5 : 5] = tiny
        target = torch.zeros(N, S, S, 5 + C)
        return pred, target

    def put_object(target, n, r, c, xywh, label):
        target[n, r, c, :4] = _t(xywh)
        target[n, r, c, 4] = 1.0
        target[n, r, c, 5 + label] = 1.0

    def put_pred(pred, n, r, c, b, xywhc):
        x, y, w, h, conf = xywhc
        if roots_out:
            w, h = math.sqrt(w), math.sqrt(h)
        pred[n, r, c, 5 * b : 5 * b + 5] = _t([x, y, w, h, conf])

    def image_iou(p, t):
        """IoU of two cell-relative (x, y, w, h) boxes of the same cell, in image coordinates."""
        def to_xyxy(v):
            cx, cy = (col + v[0]) / S, (row + v[1]) / S
            return [cx - v[2] / 2, cy - v[3] / 2, cx + v[2] / 2, cy + v[3] / 2]
        return box_ops.iou(_t(to_xyxy(p)), _t(to_xyxy(t))).item()

    label = min(1, C - 1)
    obj_box = [0.5, 0.5, 0.2, 0.2]
    cases = []
    layout = f"S = {S}, B = {B}, C = {C}"

    pred, target = empty()
    pred[..., 4 : B * 5 : 5] = 0.5
    cases.append(Case(
        "no objects, every confidence 0.5: only the no-object term is left",
        "with no objects the loss is λ_noobj · Σ conf² over all S·S·B predictors: a sum, "
        "not a mean, multiplied by λ_noobj = 0.5.",
        (pred, target), note=f"{layout}; one image, empty target, all confidences 0.5"))

    pred, target = empty()
    pred[..., B * 5 :] = 0.3
    cases.append(Case(
        "no objects, class scores 0.3 everywhere: the loss is 0",
        "the class term counts only cells that hold an object: (p_c - one-hot_c)² summed over "
        "the object cells, not over the whole grid.",
        (pred, target), note=f"{layout}; one image, empty target, confidences 0, class scores 0.3"))

    pred, target = empty()
    put_object(target, 0, row, col, obj_box, label)
    put_pred(pred, 0, row, col, 0, obj_box + [1.0])
    pred[0, row, col, B * 5 + label] = 1.0
    cases.append(Case(
        "a perfect prediction: the loss is 0",
        "when the responsible box equals the target box, its confidence is 1 = IoU and the "
        "class scores equal the one-hot, every term is 0. Check which slice holds what: "
        "per cell B blocks (x, y, w, h, conf), then C class scores; the target is "
        "(x, y, w, h, obj, one-hot).",
        (pred, target), note=f"{layout}; one object in cell ({row}, {col}), predictor 0 exact"))

    # The cases below are ordered so that each typical mistake first shows in the case meant
    # for it: until the mixed-coordinates case, every predicted box shares its centre with the
    # object (concentric boxes have the same IoU in cell and in image coordinates), and the
    # losing predictor of an object cell has confidence 0 until the no-object case.
    pred, target = empty()
    wide, narrow = [0.5, 0.5, 0.36, 0.2], [0.5, 0.5, 0.16, 0.2]
    put_object(target, 0, row, col, wide, label)
    put_pred(pred, 0, row, col, 0, narrow + [0.9])
    pred[0, row, col, B * 5 + label] = 1.0
    cases.append(Case(
        f"the confidence target is the IoU ({image_iou(narrow, wide):.4f} here), not 1",
        "the responsible predictor's confidence regresses to the IoU of its box with the object "
        "(computed in image coordinates and held constant), not to 1. The box term here is "
        "λ_coord · (√0.16 - √0.36)² = 5 · 0.04 = 0.2.",
        (pred, target),
        note=f"{layout}; one object in cell ({row}, {col}) (x, y, w, h) = {_nested(wide)}, "
             f"predictor 0 = {_nested(narrow)} with confidence 0.9"))

    pred, target = empty()
    small = [0.5, 0.5, 0.04, 0.36]
    put_object(target, 0, row, col, small, label)
    put_pred(pred, 0, row, col, 0, [0.5, 0.5, 0.09, 0.25, image_iou([0.5, 0.5, 0.09, 0.25], small)])
    pred[0, row, col, B * 5 + label] = 1.0
    cases.append(Case(
        "w and h are compared through square roots",
        ("the network outputs √w and √h: compare them with √ŵ and √ĥ, and square them to get "
         "the box for the IoU. (λ_coord = 5 multiplies the box term.)" if roots_out else
         "the box term compares √w with √ŵ and √h with √ĥ, not w and h themselves: the "
         "roots make an error cost more on a small box. (λ_coord = 5 multiplies the box term.)"),
        (pred, target),
        note=f"{layout}; object (w, h) = (0.04, 0.36), predictor 0 (w, h) = (0.09, 0.25) with "
             "confidence = its IoU, same centre"))

    if B >= 2:
        pred, target = empty()
        put_object(target, 0, row, col, obj_box, label)
        close = [0.5, 0.5, 0.2, 0.25]
        put_pred(pred, 0, row, col, 0, [0.1, 0.1, 0.05, 0.05, 0.0])
        put_pred(pred, 0, row, col, 1, close + [0.6])
        pred[0, row, col, B * 5 + label] = 1.0
        cases.append(Case(
            "the responsible predictor is the one with the higher IoU (here predictor 1)",
            "the responsible predictor is, among the B of the object's cell, the one whose box "
            "has the highest IoU with the object; it is not always predictor 0.",
            (pred, target),
            note=f"{layout}; predictor 0 far off (IoU 0), predictor 1 = {_nested(close)} "
                 f"(IoU {image_iou(close, obj_box):.3f})"))

        pred, target = empty()
        put_object(target, 0, row, col, obj_box, label)
        put_pred(pred, 0, row, col, 0, obj_box + [1.0])
        put_pred(pred, 0, row, col, 1, [0.9, 0.9, 0.05, 0.05, 0.8])
        pred[0, row, col, B * 5 + label] = 1.0
        cases.append(Case(
            "the losing predictor of an object cell pays the no-object term",
            "every predictor that is not responsible pays λ_noobj · conf², including the other "
            "predictor of a cell that holds an object, not only the predictors of empty cells.",
            (pred, target),
            note=f"{layout}; predictor 0 exact, predictor 1 elsewhere in the cell with confidence 0.8"))

        pred, target = empty()
        put_object(target, 0, row, col, obj_box, label)
        wide, tall = [0.5, 0.5, 0.2, 0.1], [0.5, 0.5, 0.1, 0.2]  # IoU 0.5 each, bit for bit
        put_pred(pred, 0, row, col, 0, wide + [0.3])
        put_pred(pred, 0, row, col, 1, tall + [0.7])
        pred[0, row, col, B * 5 + label] = 1.0
        cases.append(Case(
            "two predictors with equal IoUs (0.5 each) and different boxes",
            "on a tie the first predictor with the highest IoU is responsible (torch.argmax "
            "returns the first maximum); a comparison like iou_1 >= iou_0 hands ties to the last.",
            (pred, target),
            note=f"{layout}; object (w, h) = (0.2, 0.2); predictor 0 (0.2, 0.1) with confidence "
                 "0.3, predictor 1 (0.1, 0.2) with confidence 0.7, same centre"))

        pred, target = empty()
        put_object(target, 0, row, col, obj_box, label)
        put_pred(pred, 0, row, col, 0, [-2.5, 0.5, 0.02, 0.02, 0.4])  # 3 cells to the left
        put_pred(pred, 0, row, col, 1, [3.0, 0.5, 0.02, 0.02, 0.6])  # 2.5 cells to the right
        pred[0, row, col, B * 5 + label] = 1.0
        tie_hint = ("when every IoU is 0, the predictor whose box is closest is responsible: the "
                    "smallest RMSE of its (x, y, w, h) to the object's, in image coordinates "
                    "(darknet's box_rmse)." if tie_break == "rmse" else
                    "when every IoU is 0 the IoUs tie, and the first predictor is responsible.")
        cases.append(Case(
            "both predictors miss the object (IoU 0 for both)", tie_hint, (pred, target),
            note=f"{layout}; object (w, h) = (0.2, 0.2); two small boxes (0.02, 0.02), predictor 0 "
                 "at x = -2.5 (3 cells left of the object's centre), predictor 1 at x = 3.0 (2.5 "
                 "cells right of it)"))

        pred, target = empty()
        put_object(target, 0, row, col, obj_box, label)
        shifted, flat = [0.8, 0.5, 0.2, 0.2], [0.5, 0.5, 0.2, 0.12]
        put_pred(pred, 0, row, col, 0, flat + [0.0])
        put_pred(pred, 0, row, col, 1, shifted + [image_iou(shifted, obj_box)])
        pred[0, row, col, B * 5 + label] = 1.0
        cases.append(Case(
            "IoUs for responsibility in image coordinates",
            "x, y are offsets in cells but w, h are fractions of the image: turn both boxes into "
            "image coordinates (cx = (col + x) / S, cy = (row + y) / S) before the IoU, or the "
            "wrong predictor may be made responsible.",
            (pred, target),
            note=f"{layout}; predictor 0 = {_nested(flat)} (IoU {image_iou(flat, obj_box):.3f}), "
                 f"predictor 1 = {_nested(shifted)} (IoU {image_iou(shifted, obj_box):.3f})"))

    pred, target = empty()
    put_object(target, 0, row, col, obj_box, label)
    put_pred(pred, 0, row, col, 0, [0.3, 0.5, 0.2, 0.2, image_iou([0.3, 0.5, 0.2, 0.2], obj_box)])
    pred[0, row, col, B * 5 + label] = 1.0
    cases.append(Case(
        "an x error only: λ_coord = 5 times (x - x̂)²",
        "the box term is λ_coord · [(x - x̂)² + (y - ŷ)² + (√w - √ŵ)² + (√h - √ĥ)²], with "
        "λ_coord = 5 and x, y the offsets inside the cell.",
        (pred, target), note=f"{layout}; predictor 0 has x = 0.3 for an object at x = 0.5"))

    N = 3
    pred, target = empty(N)
    for n in range(N):
        r, c = (n * 2) % S, (n * 3 + 1) % S
        put_object(target, n, r, c, [0.25 + 0.2 * n, 0.5, 0.3, 0.2], (n + 1) % C)
    pred[..., : B * 5] = torch.rand(N, S, S, B * 5, generator=gen) * 0.9 + 0.05
    pred[..., B * 5 :] = torch.rand(N, S, S, C, generator=gen)
    cases.append(Case(
        "a batch of 3 images: sum over the grid, divide by N",
        "add up every term over the cells and predictors of all images, then divide by the "
        "batch size N = 3, the number of images (not by the number of cells or elements).",
        (pred, target), note=f"{layout}; N = 3, one object per image, random predictions"))

    pred, target = empty(2)
    for n, k in ((0, 4), (1, 2)):
        centres = torch.rand(k, 2, generator=gen) * 0.9 + 0.05
        sizes = torch.rand(k, 2, generator=gen) * 0.5 + 0.05
        for (cx, cy), (w, h), j in zip(centres.tolist(), sizes.tolist(), range(k)):
            r, c = min(int(cy * S), S - 1), min(int(cx * S), S - 1)
            if target[n, r, c, 4] == 0:
                put_object(target, n, r, c, [cx * S - c, cy * S - r, w, h], (j * 7) % C)
    pred[..., : B * 5] = torch.rand(2, S, S, B * 5, generator=gen) * 0.9 + 0.05
    pred[..., B * 5 :] = torch.rand(2, S, S, C, generator=gen)
    cases.append(Case(
        "random predictions, several objects",
        "compare your terms one by one with the formulas of 03_yolov1_loss.ipynb on this case "
        "(result.case.args holds pred and target).",
        (pred, target), note=f"{layout}; N = 2, random predictions and objects"))
    return cases


def yolo_v1_loss(
    learner_fn: Callable[[Tensor, Tensor], Any],
    *,
    S: int = 7,
    B: int = 2,
    C: int = 20,
    **options: Any,
) -> CheckResult:
    """Checks ``learner_fn(pred, target) -> total``, the YOLOv1 loss of the paper, against
    :func:`yolo_lesson.loss.yolo_v1_loss` called with the same ``S``, ``B``, ``C`` and
    ``options`` (``wh=``, ``lambda_noobj=``, ``noobj_scope=``, ... as the exercise names them;
    unnamed options take the package's defaults). Both the total and its gradient
    ∂total/∂pred must match, so the answer must be a tensor that keeps its graph (a scalar
    tensor, or anything with a ``total`` attribute or key).

    ``pred`` is ``[N, S, S, B*5 + C]`` and ``target`` ``[N, S, S, 5 + C]``. ``quiet``,
    ``strict`` and ``time_limit`` are the runner's (see :func:`run_cases`).

    Cases catch: a mean instead of sum / N, a missing λ, the class term on empty cells,
    a confidence target of 1 instead of the IoU, an IoU target that keeps its graph (same
    value, wrong gradient), no square roots on w and h, the no-object term on empty cells
    only, predictor 0 always responsible, ties handed to the last predictor, IoUs in mixed
    coordinates.
    """
    from .. import loss

    run = {k: options.pop(k) for k in _RUN_OPTIONS if k in options}
    defaults = {name: p.default for name, p in inspect.signature(loss.yolo_v1_loss).parameters.items()
                if p.default is not inspect.Parameter.empty}

    def reference(pred, target):
        leaf = pred.clone().requires_grad_(True)
        terms = loss.yolo_v1_loss(leaf, target, S=S, B=B, C=C, **options)
        (grad,) = torch.autograd.grad(terms.total, leaf)
        return terms._make(v.detach() for v in terms), grad

    def cases():
        with _options():
            for name, value in (("S", S), ("B", B), ("C", C)):
                require_positive_int(name, value)
            unknown = sorted(set(options) - set(defaults))
            if unknown:
                raise ValueError(f"yolo_lesson.loss.yolo_v1_loss has no option {unknown[0]!r}")
            probe = torch.zeros(1, S, S, B * 5 + C)
            loss.yolo_v1_loss(probe, torch.zeros(1, S, S, 5 + C), S=S, B=B, C=C, **options)
        wh = options.get("wh", defaults.get("wh"))
        return _loss_cases(S, B, C, wh, options.get("tie_break", defaults.get("tie_break")))

    return run_cases(
        "yolo_v1_loss", learner_fn, cases, reference,
        compare=lambda e, r: _compare_loss(e, r, B), arg_names=("pred", "target"), call=_call_loss,
        show_expected=_show_loss_expected, show_received=_show_loss_received, **run,
    )


def _split_run(options: dict) -> dict:
    return {k: options.pop(k) for k in _RUN_OPTIONS if k in options}


def loss_term(value: Any, term: str, pred: Tensor, target: Tensor, *, S: int = 7, B: int = 2, C: int = 20,
              **options: Any) -> CheckResult:
    """Checks an answer: ``value``, one term (``"box"``, ``"obj"``, ``"noobj"``, ``"cls"`` or
    ``"total"``) of :func:`yolo_lesson.loss.yolo_v1_loss` on ``pred``, ``target`` with the
    given layout and options, worked out by hand (to 1e-4 relative)."""
    from .. import loss
    from .core import compare_numbers

    run = _split_run(options)

    def reference(pred, target):
        return getattr(loss.yolo_v1_loss(pred, target, S=S, B=B, C=C, **options), term).item()

    def cases():
        with _options():
            if term not in ("box", "obj", "noobj", "cls", "total"):
                raise ValueError(f"term must be one of 'box', 'obj', 'noobj', 'cls', 'total', got {term!r}")
            reference(pred, target)
        wh = options.get("wh", "the package's default")
        return [Case(f"the {term} term by hand ({', '.join(f'{k}={v!r}' for k, v in options.items()) or 'default options'})",
                     f"write the {term} term's formula for this batch, with λ_coord = 5 and "
                     f"λ_noobj = 0.5 unless the options say otherwise, and the size treatment wh = {wh!r}; "
                     "remember the division by N.", (pred, target))]

    return run_cases("loss_term", value, cases, reference, compare=compare_numbers(rtol=1e-4, atol=1e-7),
                     arg_names=("pred", "target"), call=lambda answer, *a: answer,
                     expects_function=False, **run)


def confidences_without_gradient(mask: Any, pred: Tensor, target: Tensor, *, S: int = 7, B: int = 2,
                                 C: int = 20, **options: Any) -> CheckResult:
    """Checks an answer: ``mask``, a boolean ``[N, S, S, B]`` tensor that is True for every
    confidence that receives no gradient from any term of :func:`yolo_lesson.loss.yolo_v1_loss`
    with the given options. The reference sets every confidence to 0.5 first, so that no
    gradient vanishes by accident (a squared error is flat where a confidence equals its goal)."""
    from .. import loss

    run = _split_run(options)

    def reference(pred, target):
        leaf = pred.detach().clone()
        leaf[..., 4 : B * 5 : 5] = 0.5
        leaf.requires_grad_(True)
        loss.yolo_v1_loss(leaf, target, S=S, B=B, C=C, **options).total.backward()
        return leaf.grad[..., 4 : B * 5 : 5] == 0

    def compare(expected, received):
        got = _as_tensor(received)
        if got is None or got.dtype != torch.bool:
            return "a boolean mask was expected (e.g. grad == 0)"
        if got.shape != expected.shape:
            return f"shape {_shape(got.shape)} instead of {_shape(expected.shape)} (one entry per confidence: [N, S, S, B])"
        wrong = torch.nonzero(got != expected)
        if len(wrong) == 0:
            return None
        n, r, c, b = wrong[0].tolist()
        say = "receives a gradient" if not bool(expected[n, r, c, b]) else "receives none"
        return (f"{int((got != expected).sum())} entries differ; e.g. image {n}, cell ({r}, {c}), "
                f"predictor {b}: its confidence {say}")

    def show(value):
        got = _as_tensor(value)
        return f"{int(got.sum())} confidences without a gradient" if got is not None and got.dtype == torch.bool else _show(value)

    def cases():
        with _options():
            reference(pred, target)
        return [Case(f"the confidences no term reaches ({', '.join(f'{k}={v!r}' for k, v in options.items()) or 'default options'})",
                     "a responsible predictor's confidence has the obj term; which predictors does "
                     "the no-object term cover with these options? Set the confidences to 0.5 before "
                     "the backward pass, so that no gradient is 0 by accident.", (pred, target))]

    return run_cases("confidences_without_gradient", mask, cases, reference, compare=compare,
                     arg_names=("pred", "target"), call=lambda answer, *a: answer,
                     show_expected=show, show_received=show, expects_function=False, **run)
