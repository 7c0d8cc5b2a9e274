"""Checkers of lesson 04 (gradients and λ): the size term's gradient, the switch of
responsibility in the box playground, and the λ_noobj that balances two gradient norms."""

from __future__ import annotations

from typing import Any, Callable

import torch

from .core import Case, CheckResult, _options, compare_numbers, run_cases


def width_gradient(learner_fn: Callable[[float, float], float], *, wh: str = "signed_sqrt", **run: Any) -> CheckResult:
    """Checks ``learner_fn(w, w_true) -> float``, ∂/∂w of the width term
    ``(s(w) - s(w_true))²`` where ``s`` is :func:`yolo_lesson.loss.wh_transform` with ``wh``
    (name the treatment explicitly: the package's default may change)."""
    from .. import loss

    def reference(w, w_true):
        v = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        goal = loss.wh_transform(torch.tensor(w_true, dtype=torch.float64), wh)
        (grad,) = torch.autograd.grad((loss.wh_transform(v, wh) - goal) ** 2, v)
        return float(grad)

    chain = ("chain rule: 2·(s(w) - s(w_true))·s'(w); for s(w) = w / √(|w| + ε), "
             "s'(w) = (|w|/2 + ε) / (|w| + ε)^(3/2).")

    def cases():
        with _options():
            loss.wh_transform(torch.zeros(1), wh)
        return [
            Case("a positive width below its target (w = 0.1, w_true = 0.2)", chain, (0.1, 0.2)),
            Case("a negative width (w = -0.01, w_true = 0.2)", "for w < 0, |w| = -w: the "
                 "derivative of |w| is sign(w), which flips the sign of that part.", (-0.01, 0.2)),
            Case("a width above its target (w = 0.5, w_true = 0.2): the gradient is positive",
                 chain, (0.5, 0.2)),
            Case("on target (w = w_true = 0.3): gradient 0", "the factor s(w) - s(w_true) is 0.", (0.3, 0.3)),
            Case("a width of exactly 0", "at w = 0, s'(0) = ε / ε^(3/2) = 1/√ε: large but finite.",
                 (0.0, 0.04)),
        ]

    return run_cases("width_gradient", learner_fn, cases, reference,
                     compare=compare_numbers(rtol=1e-5, atol=1e-9), arg_names=("w", "w_true"), **run)


_KEYS = ("x", "y", "w", "h", "conf")


def responsible_switch(placed: Any, predicted_zero: Any, *, truth, first, confs, scores, **run: Any) -> CheckResult:
    """Checks an answer about the box playground: ``placed``, a box ``(x1, y1, x2, y2)`` for
    predictor 2 that makes it responsible, and ``predicted_zero``, the set of gradients that
    are then exactly 0, named ``"p1.x"``, ..., ``"p2.conf"``, against
    :func:`yolo_lesson.playground.box_playground` ``(truth, [first, placed], confs, scores)``."""
    from .. import playground

    def reference(placed):
        view = playground.box_playground(truth, [first, placed], confs, scores)
        zero = {f"p{b + 1}.{k}" for b, grads in enumerate(view.grads) for k in _KEYS if grads[k] == 0}
        return view.responsible, zero

    def compare(expected, received):
        responsible, zero = expected
        if responsible != 1:
            return ("predictor 2 is not responsible with this box: its IoU with the truth must be "
                    "higher than predictor 1's")
        try:
            got = {str(name) for name in received}
        except TypeError:
            return "predicted_zero must be a set of names such as {'p1.x', 'p2.conf'}"
        missing, extra = sorted(zero - got), sorted(got - zero)
        if not missing and not extra:
            return None
        return (f"not predicted as zero: {missing or 'none'}; predicted but not zero: {extra or 'none'}. "
                "A predictor that is not responsible has no box term, and its confidence is pulled to 0 "
                "by the no-object term.")

    def cases():
        with _options():
            if len(placed) != 4:
                raise ValueError(f"placed must be a box (x1, y1, x2, y2), got {placed!r}")
        return [Case("predictor 2 placed on the object", "compare the two IoUs with the truth: the "
                     "higher one is responsible and only it keeps a box term.", (tuple(placed),))]

    return run_cases("responsible_switch", predicted_zero, cases, reference, compare=compare,
                     arg_names=("placed",), call=lambda answer, *a: answer,
                     show_expected=lambda e: f"predictor {e[0] + 1} responsible, zero: {sorted(e[1])}",
                     show_received=lambda r: str(sorted(map(str, r))) if isinstance(r, (set, list, tuple)) else type(r).__name__,
                     expects_function=False, **run)


def balancing_lambda(value: Any, batch: Any, *, lambda_coord: float = 5.0, **run: Any) -> CheckResult:
    """Checks an answer: ``value``, the λ_noobj at which the no-object term's gradient norm
    equals the box term's on ``batch`` (:func:`yolo_lesson.playground.lambda_explorer`)."""
    from .. import playground

    def reference(batch):
        at_one = playground.lambda_explorer(batch, lambda_coord, 1.0).grad_norms
        return at_one["box"] / at_one["noobj"]

    case = Case("λ_noobj with equal gradient norms", "the no-object gradient is proportional to "
                "λ_noobj: measure both norms once (say at λ_noobj = 1) and divide.", (batch,))
    return run_cases("balancing_lambda", value, lambda: [case], reference,
                     compare=compare_numbers(rtol=1e-4, atol=1e-9), arg_names=("batch",),
                     call=lambda answer, *a: answer, expects_function=False, **run)
