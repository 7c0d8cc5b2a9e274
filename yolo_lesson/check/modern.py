"""Checkers of lesson 08 (beyond v1): an anchor box decoded by hand, YOLOv5's bounded
sizes, the focal loss, and the top-k candidates by the task-aligned metric."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor

from .core import Case, CheckResult, _as_tensor, _options, _shape, _t, compare_exact, compare_tensors, run_cases


def anchor_decode(box: Any, *, t, cell_xy, anchor, S: int, **run: Any) -> CheckResult:
    """Checks an answer: ``box`` (cx, cy, w, h), the decoding of raw outputs ``t`` in cell
    ``cell_xy`` = (c_x, c_y) with prior ``anchor`` = (p_w, p_h) on an S × S grid, against
    :func:`yolo_lesson.modern.decode_anchor_boxes`."""
    from .. import modern

    def reference(t, cell_xy, anchor):
        return modern.decode_anchor_boxes(_t(list(t)), torch.tensor(list(cell_xy)), _t(list(anchor)), S=S)

    case = Case("one anchor box decoded by hand", "b_x = (σ(t_x) + c_x) / S, b_y = (σ(t_y) + c_y) / S, "
                "b_w = p_w·e^(t_w), b_h = p_h·e^(t_h); c_x is the column, c_y the row.",
                (list(t), list(cell_xy), list(anchor)))
    return run_cases("anchor_decode", box, lambda: [case], reference,
                     compare=lambda e, r: compare_tensors(e, r, rtol=1e-5, atol=1e-6),
                     arg_names=("t", "cell_xy", "anchor"), call=lambda answer, *a: answer,
                     expects_function=False, **run)


def _v5_reference(t_wh, anchors):
    return anchors * (2 * torch.sigmoid(t_wh)) ** 2


def decode_wh_v5(learner_fn: Callable[[Tensor, Tensor], Tensor], **run: Any) -> CheckResult:
    """Checks ``learner_fn(t_wh, anchors) -> Tensor``, YOLOv5's bounded sizes
    ``p · (2σ(t))²``, values and gradient (finite even at t = ±100)."""

    def call(fn, t_wh, anchors):
        t_wh.requires_grad_(True)
        out = fn(t_wh, anchors)
        if not isinstance(out, Tensor) or not out.requires_grad:
            return out, None
        (grad,) = torch.autograd.grad(out.sum(), t_wh, allow_unused=True)
        return out.detach(), grad

    def compare(expected, received):
        (want, want_grad), (got, got_grad) = expected, received
        difference = compare_tensors(want, got, rtol=1e-5, atol=1e-7)
        if difference is not None:
            return difference
        if got_grad is None:
            return "the result carries no gradient: build it from t_wh with torch operations"
        return compare_tensors(want_grad, got_grad, rtol=1e-4, atol=1e-7)

    bound = "b = p·(2σ(t))²: between 0 and 4p, and exactly p at t = 0."
    cases = [
        Case("t = 0 gives exactly the anchor", bound, (torch.zeros(2), _t([0.2, 0.3]))),
        Case("large |t|: bounded by 4p, finite gradient", "use torch.sigmoid (never exp(t), which "
             "overflows at t = 89 in float32): " + bound, (_t([100.0, -100.0]), _t([0.2, 0.3]))),
        Case("a [3, 2] batch against [3, 2] anchors", "the formula is elementwise: "
             "anchors * (2 * torch.sigmoid(t_wh)) ** 2.",
             (_t([[0.5, -0.5], [1.0, 2.0], [-3.0, 0.1]]), _t([[0.1, 0.2], [0.3, 0.3], [0.5, 0.1]]))),
    ]
    return run_cases("decode_wh_v5", learner_fn, lambda: cases,
                     lambda t, a: call(_v5_reference, t, a), compare=compare, call=call,
                     arg_names=("t_wh", "anchors"),
                     show_expected=lambda e: str(_as_tensor(e[0]).tolist()),
                     show_received=lambda r: str(_as_tensor(r[0]).tolist()) if _as_tensor(r[0]) is not None else type(r[0]).__name__,
                     **run)


def _topk_reference(scores, ious, k):
    from .. import modern

    return modern.task_alignment_metric(scores, ious).topk(k).indices.tolist()


def top_k_positives(learner_fn: Callable[[Tensor, Tensor, int], Tensor], **run: Any) -> CheckResult:
    """Checks ``learner_fn(scores, ious, k) -> LongTensor[k]``, the indices of the k
    candidates with the largest task-aligned metric s^0.5 · u^6 (best first), against
    :func:`yolo_lesson.modern.task_alignment_metric`."""
    metric = ("rank by t = s^α · u^β with α = 0.5 and β = 6 (task_alignment_metric), "
              "not by the score or the IoU alone; return indices, best first.")
    cases = [
        Case("five candidates, top 2", metric,
             (_t([0.90, 0.30, 0.60, 0.80, 0.05]), _t([0.50, 0.80, 0.75, 0.60, 0.90]), 2)),
        Case("the same candidates, top 4", "use the argument k.",
             (_t([0.90, 0.30, 0.60, 0.80, 0.05]), _t([0.50, 0.80, 0.75, 0.60, 0.90]), 4)),
        Case("a high score with a poor box loses to a fair score with a good box",
             "β = 6 makes the IoU dominate: 0.5^6 is about 0.016.", (_t([0.99, 0.4]), _t([0.5, 0.9]), 1)),
    ]
    return run_cases("top_k_positives", learner_fn, lambda: cases, _topk_reference,
                     compare=compare_exact, arg_names=("scores", "ious", "k"), **run)


def _focal_cases() -> list[Case]:
    formula = (
        "FL = α_t · (1 - p_t)^γ · BCE with p = σ(x), p_t = p for y = 1 and 1 - p for y = 0, "
        "α_t = α for y = 1 and 1 - α for y = 0."
    )
    gen = torch.Generator().manual_seed(0)
    return [
        Case("one positive at logit 0 (p = 0.5)", formula, (_t([0.0]), _t([1.0]))),
        Case("one negative at logit 0: weighted by 1 - α, not α",
             "α weighs the positives and 1 - α the negatives: α_t = α·y + (1 - α)·(1 - y).",
             (_t([0.0]), _t([0.0]))),
        Case("an easy and a hard negative (x = -4 and x = 2, y = 0)",
             "the factor is (1 - p_t)^γ: near 0 for an easy example (p_t near 1), near 1 for a "
             "hard one. For a negative, p_t = 1 - σ(x).",
             (_t([-4.0, 2.0]), _t([0.0, 0.0]))),
        Case("a confidently wrong logit (x = 20 for y = 0)",
             "compute the BCE from the logits (F.binary_cross_entropy_with_logits, or "
             "F.logsigmoid): in float32 σ(20) rounds to 1 and log(1 - σ(20)) is log 0 = -inf.",
             (_t([20.0, -20.0]), _t([0.0, 1.0]))),
        Case("a [2, 3] batch: summed, not averaged",
             "add up the loss of every element (reduction 'sum'), keeping no shape.",
             (torch.randn(2, 3, generator=gen) * 2, (torch.rand(2, 3, generator=gen) < 0.4).float())),
    ]


def focal_loss(
    learner_fn: Callable[[Tensor, Tensor], Any],
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    **run: Any,
) -> CheckResult:
    """Checks ``learner_fn(logits, targets) -> scalar``, the focal loss summed over every
    element, against :func:`yolo_lesson.modern.focal_loss` with ``alpha`` and ``gamma`` (the
    paper's 0.25 and 2 by default). ``targets`` are 0 or 1, same shape as ``logits``.

    Cases: a positive and a negative at logit 0 (α against 1 - α), easy against hard examples
    ((1 - p_t)^γ, not p_t^γ), large logits (BCE from logits), the sum over a batch.
    """

    def reference(logits, targets):
        from .. import modern

        return modern.focal_loss(logits, targets, alpha=alpha, gamma=gamma, reduction="sum")

    def compare(expected, received):
        got = _as_tensor(received)
        if got is not None and got.numel() != 1:
            return f"a tensor of shape {_shape(got.shape)}: sum the loss into one number"
        return compare_tensors(expected, got.reshape(()) if got is not None else received)

    def cases():
        from .. import modern

        with _options():  # the reference's own checks name the option
            modern.focal_loss(torch.zeros(1), torch.zeros(1), alpha=alpha, gamma=gamma)
        return _focal_cases()

    return run_cases("focal_loss", learner_fn, cases, reference, compare=compare,
                     arg_names=("logits", "targets"), **run)
