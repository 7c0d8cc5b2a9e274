"""Checkers of lesson 05 (what goes wrong): a masked mean that survives an empty mask, the
article's effective weights, and the article's second loss with its flaws repaired."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from .core import Case, CheckResult, _number, _show, compare_tensors, run_cases


def _with_grad(fn: Callable, values: Tensor, *rest: Any):
    values.requires_grad_(True)
    out = fn(values, *rest)
    if not isinstance(out, Tensor) or out.numel() != 1 or not out.requires_grad:
        return out, None
    (grad,) = torch.autograd.grad(out.reshape(()), values, allow_unused=True)
    return out.detach(), torch.zeros_like(values) if grad is None else grad


def _masked_mean_reference(values, mask):
    selected = values[mask]
    return selected.sum() / max(selected.numel(), 1)


def _compare_value_and_grad(expected, received) -> str | None:
    (want, want_grad), (got, got_grad) = expected, received
    difference = compare_tensors(want.detach(), got)
    if difference is not None:
        return difference
    if got_grad is None:
        return "the result carries no gradient: return a tensor computed from values"
    if not bool(torch.isfinite(got_grad).all()):
        return "the gradient is not finite (nan or inf): no 0 / 0 anywhere, even where it is not used"
    return compare_tensors(want_grad, got_grad)


def safe_masked_mean(learner_fn: Callable[[Tensor, Tensor], Tensor], **run: Any) -> CheckResult:
    """Checks ``learner_fn(values, mask) -> Tensor[]``, the mean of ``values[mask]`` and 0
    when the mask selects nothing, value and gradient (finite in both cases)."""
    gen = torch.Generator().manual_seed(0)
    values = torch.randn(3, 4, generator=gen)
    cases = [
        Case("two of three selected", "sum the selected values and divide by how many there are.",
             (torch.tensor([1.0, 2.0, 6.0]), torch.tensor([True, False, True]))),
        Case("nothing selected: exactly 0 with a finite gradient", "an empty selection has sum 0 "
             "and count 0: divide by max(count, 1), so 0 / 1 = 0, not 0 / 0 = nan.",
             (torch.tensor([1.0, 2.0, 6.0]), torch.zeros(3, dtype=torch.bool))),
        Case("a [3, 4] tensor with a [3, 4] mask", "boolean indexing flattens the selection; count "
             "its elements, not the rows.", (values, values > 0.3)),
        Case("every element selected: the plain mean", "with a full mask this is values.mean().",
             (torch.tensor([2.0, 4.0]), torch.tensor([True, True]))),
    ]
    return run_cases("safe_masked_mean", learner_fn, lambda: cases,
                     lambda v, m: _with_grad(_masked_mean_reference, v, m),
                     compare=_compare_value_and_grad, call=_with_grad, arg_names=("values", "mask"),
                     show_expected=lambda e: _show(e[0]), show_received=lambda r: _show(r[0]), **run)


def _article_weights(K: int, S: int = 7, C: int = 20) -> tuple[float, float]:
    """Weights of one object cell's and one empty cell's confidence in the article's version 2,
    measured by autograd on one image with K objects (confidences 0.5, boxes and classes exact)."""
    from ..article_losses import article_loss_smoothl1_bce

    target = torch.zeros(1, S, S, 5 + C)
    cells = torch.arange(K)
    target[0, cells // S, cells % S, :4] = 0.5
    target[0, cells // S, cells % S, 4] = 1.0
    target[0, cells // S, cells % S, 5] = 1.0
    pred = target.clone()
    pred[..., 4] = 0.5
    pred.requires_grad_(True)
    article_loss_smoothl1_bce(pred, target).total.backward()
    obj = pred.grad[0, 0, 0, 4].item() / (2 * (0.5 - 1))
    empty = pred.grad[0, S - 1, S - 1, 4].item() / (2 * 0.5)
    return obj, empty


def effective_weight_ratio(ratio: Any, times: Any, *, K: int = 5, S: int = 7, **run: Any) -> CheckResult:
    """Checks an answer: in the article's version 2 on an ``S × S`` image with ``K`` objects,
    ``ratio`` = (an empty cell's confidence weight) / (an object cell's), and ``times`` = how
    many times the paper's 0.5 is larger than that ratio."""

    def reference(K):
        obj, empty = _article_weights(K, S)
        return torch.tensor([empty / obj, 0.5 / (empty / obj)], dtype=torch.float64)

    def compare(expected, received):
        try:
            got = torch.tensor([float(v) for v in received], dtype=torch.float64)
        except (TypeError, ValueError):
            return "two numbers were expected: ratio and times"
        return compare_tensors(expected, got, rtol=1e-4, atol=1e-9, tensor_only=False)

    case = Case(f"K = {K} objects on the {S} × {S} grid", "each term is a mean: one object cell "
                "weighs λ_obj / K, one empty cell λ_noobj / (S·S - K). Divide the second by the first.",
                (K,))
    return run_cases("effective_weight_ratio", (ratio, times), lambda: [case], reference, compare=compare,
                     arg_names=("K",), call=lambda answer, *a: answer, expects_function=False,
                     show_received=lambda r: _show(list(r)) if isinstance(r, tuple) else _show(r), **run)


_TERMS = ("box", "obj", "noobj", "cls")


def _repaired_reference(pred, target, lambda_coord=5.0, lambda_obj=1.0, lambda_noobj=0.5, lambda_class=1.0):
    n, obj = pred.shape[0], target[..., 4] > 0
    box = F.smooth_l1_loss(pred[..., :4], target[..., :4], reduction="none").sum(-1)
    conf = (pred[..., 4] - target[..., 4]) ** 2
    cls = F.binary_cross_entropy_with_logits(pred[..., 5:], target[..., 5:], reduction="none").sum(-1)
    terms = {"box": lambda_coord * torch.where(obj, box, 0.0).sum() / n,
             "obj": lambda_obj * torch.where(obj, conf, 0.0).sum() / n,
             "noobj": lambda_noobj * torch.where(obj, 0.0, conf).sum() / n,
             "cls": lambda_class * torch.where(obj, cls, 0.0).sum() / n}
    return {"total": sum(terms.values()), **terms}


def _call_repaired(fn, pred, target):
    pred.requires_grad_(True)
    out = fn(pred, target)
    if not isinstance(out, Mapping) or not isinstance(out.get("total"), Tensor) or not out["total"].requires_grad:
        return out, None
    (grad,) = torch.autograd.grad(out["total"], pred, allow_unused=True)
    return {k: v.detach() if isinstance(v, Tensor) else v for k, v in out.items()}, grad


def _compare_repaired(expected, received) -> str | None:
    (want, want_grad), (got, got_grad) = expected, received
    if not isinstance(got, Mapping):
        return f"a {type(got).__name__}, where a dict of the four terms and the total was expected"
    for key in (*_TERMS, "total"):
        if key not in got:
            return f"no {key!r} in the dict: return 'total', 'box', 'obj', 'noobj' and 'cls'"
        difference = compare_tensors(want[key].detach(), got[key], rtol=1e-4, atol=1e-6, tensor_only=False)
        if difference is not None:
            return f"the {key} term: expected {_number(want[key].item())}, received {_show(got[key])}. {difference}".strip()
    if got_grad is None:
        return "the total carries no gradient"
    if not bool(torch.isfinite(got_grad).all()):
        return "the gradient is not finite"
    return compare_tensors(want_grad, got_grad, rtol=1e-4, atol=1e-6)


def repaired_article_loss(learner_fn: Callable[[Tensor, Tensor], Mapping], **run: Any) -> CheckResult:
    """Checks ``learner_fn(pred, target) -> {"total", "box", "obj", "noobj", "cls"}``: the
    article's version 2 with its flaws repaired (box term on object cells only, BCE from
    logits, every term summed and divided by N), value of each term and ∂total/∂pred."""
    from ..grid import encode_batch

    def batch(seed, N, objects, scale):
        gen = torch.Generator().manual_seed(seed)
        boxes = [torch.rand(k, 4, generator=gen) * 0.5 + 0.25 for k in objects]
        labels = [torch.randint(0, 3, (k,), generator=gen) for k in objects]
        target = encode_batch(boxes, labels, S=4, C=3)
        return torch.randn(N, 4, 4, 8, generator=gen) * scale, target

    cases = [
        Case("two images with objects, outputs near 0", "each term is a sum over its cells divided "
             "by N = 2 (the number of images), with the λ weights.", batch(0, 2, [2, 1], 0.5)),
        Case("empty cells' boxes carry no loss", "apply the object mask to the box term too: an "
             "empty cell has no box to regress.", batch(1, 1, [1], 1.0)),
        Case("an image without objects: every term finite", "sums over an empty selection are 0; "
             "no mean over zero elements.", batch(2, 2, [0, 0], 1.0)),
        Case("raw class scores up to ±20", "use F.binary_cross_entropy_with_logits on the raw "
             "scores, not BCE on probabilities.", batch(3, 2, [3, 2], 10.0)),
    ]
    return run_cases(
        "repaired_article_loss", learner_fn, lambda: cases,
        lambda p, t: _call_repaired(_repaired_reference, p, t),
        compare=_compare_repaired, call=_call_repaired, arg_names=("pred", "target"),
        show_expected=lambda e: _number(e[0]["total"].item()),
        show_received=lambda r: _show(r[0].get("total")) if isinstance(r[0], Mapping) else _show(r[0]), **run)
