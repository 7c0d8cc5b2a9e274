"""Checkers of lesson 01 (boxes and IoU): elementwise and pairwise IoU, GIoU, the box format
conversion, CIoU's terms by hand, and a pair of predictions with equal IoU and unequal GIoU."""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import Tensor

from .core import Case, CheckResult, _nested, _t, compare_tensors, run_cases

_CLAMP_HINT = (
    "the overlap width min(x2) - max(x1) is negative when boxes do not overlap; clamp it (and "
    "the height) at 0 before multiplying, or two negative overlaps make a positive 'intersection'."
)


def _iou_cases() -> list[Case]:
    unit = [0.0, 0.0, 1.0, 1.0]
    return [
        Case("two unit squares shifted by half a side (IoU 1/3)",
             "intersection 0.5 over union 1 + 1 - 0.5 = 1.5. Corners are xyxy: (x1, y1, x2, y2); "
             "the intersection runs from the larger top-left to the smaller bottom-right corner.",
             (_t(unit), _t([0.5, 0.0, 1.5, 1.0]))),
        Case("identical boxes (IoU 1)",
             "a box against itself: the union is its area, not twice its area (subtract the "
             "intersection once).",
             (_t([0.2, 0.3, 0.6, 0.9]), _t([0.2, 0.3, 0.6, 0.9]))),
        Case("disjoint boxes side by side (IoU 0)", _CLAMP_HINT,
             (_t(unit), _t([2.0, 0.0, 3.0, 1.0]))),
        Case("disjoint boxes, apart on both axes (IoU 0)", _CLAMP_HINT,
             (_t(unit), _t([2.0, 2.0, 3.0, 3.0]))),
        Case("boxes touching along an edge (IoU 0)",
             "the overlap has width 0 here: min(1, 2) - max(0, 1) = 0, so the intersection is 0.",
             (_t(unit), _t([1.0, 0.0, 2.0, 1.0]))),
        Case("a box nested inside another (IoU = small area / large area)",
             "for nested boxes the intersection is the small box and the union the large one: "
             "take max of the top-left corners and min of the bottom-right corners.",
             (_t([0.0, 0.0, 4.0, 4.0]), _t([1.0, 1.0, 3.0, 2.0]))),
        Case("a zero-width box (a vertical line) inside a box (IoU 0)",
             "a box of zero area has no intersection with anything; the union is the other box's area.",
             (_t([0.5, 0.0, 0.5, 1.0]), _t(unit))),
        Case("two identical points: zero-area boxes, so the union is 0 (IoU 0, not nan)",
             "0 / 0 is nan. Guard the division: where the union is 0 the intersection is 0 too, "
             "so return 0 there, e.g. inter / torch.where(union > 0, union, torch.ones_like(union)).",
             (_t([0.5, 0.5, 0.5, 0.5]), _t([0.5, 0.5, 0.5, 0.5]))),
        Case("a batch: box i of a against box i of b, elementwise (shape [3])",
             "elementwise means a[i] with b[i], giving [N] values, not the [N, N] of pairwise IoU. "
             "Index the last dimension with [..., 0] so that any leading shape works.",
             (_t([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 3.0, 2.0]]),
              _t([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 4.0]]))),
    ]


def iou(learner_fn: Callable[[Tensor, Tensor], Tensor], **run: Any) -> CheckResult:
    """Checks ``learner_fn(a, b) -> Tensor[...]``, the elementwise IoU of ``xyxy`` boxes
    ``[..., 4]``, against :func:`yolo_lesson.boxes.iou`.

    Cases: partial overlap, identical, disjoint on one and on both axes (missing clamp),
    touching, nested, zero-area boxes (division by a zero union), a batch (elementwise, not
    pairwise).
    """
    from .. import boxes

    return run_cases("iou", learner_fn, _iou_cases, boxes.iou, arg_names=("a", "b"), **run)


def _giou_cases() -> list[Case]:
    unit = [0.0, 0.0, 1.0, 1.0]
    enclosing = (
        "the enclosing box C runs from the min of the two top-left corners to the max of the two "
        "bottom-right corners, and GIoU = IoU - (|C| - |A ∪ B|) / |C|."
    )
    return [
        Case("identical boxes (GIoU 1)", "identical boxes: IoU 1 and C is the box itself, so "
             "the penalty is 0.", (_t([0.2, 0.3, 0.6, 0.9]), _t([0.2, 0.3, 0.6, 0.9]))),
        Case("side by side, half overlapping: C equals the union, GIoU = IoU = 1/3", enclosing,
             (_t(unit), _t([0.5, 0.0, 1.5, 1.0]))),
        Case("shifted diagonally: C has two empty corners (GIoU 1/7 - 2/9)", enclosing,
             (_t([0.0, 0.0, 2.0, 2.0]), _t([1.0, 1.0, 3.0, 3.0]))),
        Case("disjoint, side by side (GIoU -1/2)",
             "the empty part of C is divided by |C| (here (4 - 2) / 4), not by the union.",
             (_t(unit), _t([3.0, 0.0, 4.0, 1.0]))),
        Case("disjoint on both axes (GIoU 0 - 7/9)", _CLAMP_HINT,
             (_t(unit), _t([2.0, 2.0, 3.0, 3.0]))),
        Case("touching along an edge (GIoU 0)",
             "IoU 0 and C equals the union (no empty space), so GIoU is 0.",
             (_t(unit), _t([1.0, 0.0, 2.0, 1.0]))),
        Case("a box nested inside another (C is the large box: GIoU = IoU)", enclosing,
             (_t([0.0, 0.0, 4.0, 4.0]), _t([1.0, 1.0, 3.0, 2.0]))),
        Case("a batch against one box (broadcasting: [3, 4] with [4] gives [3])",
             "GIoU is elementwise and broadcasts like IoU: index with [..., 0] and [..., :2], "
             "not [:, 0].",
             (_t([[0.0, 0.0, 2.0, 2.0], [3.0, 0.0, 4.0, 1.0], [0.5, 0.5, 1.5, 1.5]]),
              _t([0.0, 0.0, 1.0, 1.0]))),
    ]


def giou(learner_fn: Callable[[Tensor, Tensor], Tensor], **run: Any) -> CheckResult:
    """Checks ``learner_fn(a, b) -> Tensor[...]``, the elementwise generalized IoU of ``xyxy``
    boxes ``[..., 4]``, against :func:`yolo_lesson.boxes.giou`.

    Cases: identical, half overlap (C = union), diagonal shift, disjoint side by side and on
    both axes (missing clamp), touching, nested, broadcasting a batch against one box.
    """
    from .. import boxes

    return run_cases("giou", learner_fn, _giou_cases, boxes.giou, arg_names=("a", "b"), **run)


def _box_convert_cases() -> list[Case]:
    half = "x1 = cx - w/2 and x2 = cx + w/2: the centre is half a width from each side."
    return [
        Case("one box centred at (0.5, 0.5), 0.2 wide and 0.4 high",
             "xyxy is (cx - w/2, cy - h/2, cx + w/2, cy + h/2), in that order: the centre is half "
             "a width from each side.", (_t([0.5, 0.5, 0.2, 0.4]),)),
        Case("the order of the output: (x1, y1, x2, y2)",
             "return (x1, y1, x2, y2): both coordinates of the top-left corner first, not "
             "(x1, x2, y1, y2).", (_t([0.3, 0.6, 0.2, 0.4]),)),
        Case("a box of zero size (a point)", half, (_t([0.25, 0.75, 0.0, 0.0]),)),
        Case("a batch of boxes [3, 4]",
             "split the last dimension with boxes.unbind(-1) (or [..., 0]) and put it back with "
             "torch.stack(..., dim=-1), so that any leading shape works.",
             (_t([[0.5, 0.5, 0.2, 0.4], [0.1, 0.9, 0.2, 0.2], [0.7, 0.3, 0.6, 0.2]]),)),
        Case("a grid of boxes [2, 3, 4] (any leading shape)",
             "use [..., k] or unbind(-1): [:, k] assumes exactly two dimensions.",
             (torch.linspace(0.1, 0.9, 24).reshape(2, 3, 4),)),
    ]


def box_convert(learner_fn: Callable[[Tensor], Tensor], **run: Any) -> CheckResult:
    """Checks ``learner_fn(boxes) -> Tensor[..., 4]``, the conversion ``cxcywh -> xyxy``,
    against :func:`yolo_lesson.boxes.cxcywh_to_xyxy`. Editing the input in place fails."""
    from .. import boxes

    return run_cases("box_convert", learner_fn, _box_convert_cases, boxes.cxcywh_to_xyxy,
                     arg_names=("boxes",), **run)




def _pairwise_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(0)
    corner = torch.rand(6, 2, generator=gen)
    random_boxes = torch.cat((corner, corner + torch.rand(6, 2, generator=gen) * 0.5 + 0.05), dim=-1)
    return [
        Case("two boxes against three: the result is [N, M] = [2, 3]",
             "insert the dimensions so that boxes1 becomes [N, 1, 4] and boxes2 [1, M, 4]; "
             "everything after that broadcasts to [N, M].",
             (_t([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0]]),
              _t([[0.5, 0.0, 1.5, 1.0], [0.0, 0.0, 1.0, 1.0], [3.0, 3.0, 4.0, 4.0]]))),
        Case("N = 3 against M = 1: rows are boxes1, columns boxes2",
             "row i, column j is IoU(boxes1[i], boxes2[j]); a transposed [M, N] answer has the "
             "wrong shape here.",
             (random_boxes[:3], random_boxes[3:4])),
        Case("disjoint pairs give 0", "clamp the overlap width and height at 0 before multiplying.",
             (_t([[0.0, 0.0, 1.0, 1.0]]), _t([[2.0, 2.0, 3.0, 3.0], [-3.0, -3.0, -2.0, -2.0]]))),
        Case("no boxes on one side: an empty [0, 2] result",
             "with N = 0 the result is a [0, M] tensor; broadcasting gives it without a special case.",
             (torch.zeros(0, 4), random_boxes[:2])),
        Case("six random boxes against themselves: 1 on the diagonal", "the union is "
             "area1[:, None] + area2[None, :] - inter: subtract the intersection once.",
             (random_boxes, random_boxes)),
    ]


def pairwise_iou(learner_fn: Callable[[Tensor, Tensor], Tensor], **run: Any) -> CheckResult:
    """Checks ``learner_fn(boxes1, boxes2) -> Tensor[N, M]``, the IoU of every pair of ``xyxy``
    boxes ``[N, 4]`` and ``[M, 4]``, against :func:`yolo_lesson.boxes.box_iou`."""
    from .. import boxes

    return run_cases("pairwise_iou", learner_fn, _pairwise_cases, boxes.box_iou,
                     arg_names=("boxes1", "boxes2"), **run)


def _ciou_terms(w, h, overlap, rho2_over_c2=0.0, s=0.4):
    """(v, α, CIoU) of a box w × h against a square of side s (Zheng et al. 2020, eqs. 9-11)."""
    v = 4 / math.pi**2 * (math.atan(w / h) - math.atan(s / s)) ** 2
    alpha = v / ((1 - overlap) + v) if v > 0 else 0.0
    return torch.tensor([v, alpha, overlap - rho2_over_c2 - alpha * v], dtype=torch.float64)


def _ciou_cases() -> list[Case]:
    aspect = ("v = 4/π² · (atan(w/h) - atan(w_gt/h_gt))², a squared difference of angles; the "
              "ground truth here is a square of side s.")
    alpha = "α = v / ((1 - IoU) + v): the IoU enters through 1 - IoU, not IoU."
    return [
        Case("a wide box, IoU 0.4, same centre", alpha, (0.6, 0.3, 0.4)),
        Case("a box with the square's aspect ratio: v = 0 and α = 0",
             "equal aspect ratios give v = 0, and then α = 0 (guard 0 / 0 when the IoU is 1 too).",
             (0.2, 0.2, 0.25)),
        Case("a tall box (h > w): the angle difference is squared", aspect, (0.2, 0.5, 0.3)),
        Case("a centre distance term ρ²/c² = 0.1", "CIoU = IoU - ρ²/c² - α·v: subtract the "
             "centre term as given.", (0.5, 0.3, 0.4, 0.1)),
        Case("another square (s = 1)", "use the argument s for the ground truth's side.",
             (2.0, 1.0, 0.5, 0.0, 1.0)),
    ]


def _compare_triple(expected: Tensor, received: Any) -> str | None:
    if not isinstance(received, (tuple, list)) or len(received) != 3:
        return "return three numbers: (v, alpha, ciou)"
    try:
        got = torch.tensor([float(v) for v in received], dtype=torch.float64)
    except (TypeError, ValueError):
        return "return three numbers: (v, alpha, ciou)"
    return compare_tensors(expected, got, rtol=1e-6, atol=1e-9, tensor_only=False)


def ciou_by_hand(learner_fn: Callable[..., tuple], **run: Any) -> CheckResult:
    """Checks ``learner_fn(w, h, overlap, rho2_over_c2=0, s=0.4) -> (v, alpha, ciou)``, CIoU's
    aspect term, its weight and the CIoU of a ``w × h`` box against a square of side ``s``
    (the formulas of Zheng et al. 2020, as in :func:`yolo_lesson.boxes.ciou`)."""
    return run_cases("ciou_by_hand", learner_fn, _ciou_cases, _ciou_terms, compare=_compare_triple,
                     arg_names=("w", "h", "overlap", "rho2_over_c2", "s"),
                     show_received=lambda r: _nested([float(v) for v in r]) if isinstance(r, (tuple, list)) else type(r).__name__,
                     **run)


def same_iou_different_giou(truth: Any, first: Any, second: Any, preferred: Any, **run: Any) -> CheckResult:
    """Checks an answer, not a function: two predictions ``first`` and ``second`` (``xyxy``)
    with the same IoU with ``truth`` (within 1e-6) and GIoUs at least 0.01 apart, and
    ``preferred``, the one a GIoU loss prefers (``"first"`` or ``"second"``)."""
    from .. import boxes

    def reference(truth, first, second):
        g1, g2 = boxes.giou(first, truth).item(), boxes.giou(second, truth).item()
        return "first" if g1 > g2 else "second"

    def call(answer, truth, first, second):
        return answer

    def compare(expected, received):
        a, b = boxes.iou(first, truth).item(), boxes.iou(second, truth).item()
        if abs(a - b) > 1e-6:
            return f"the IoUs differ: {a:.6g} and {b:.6g}; they must be equal"
        g1, g2 = boxes.giou(first, truth).item(), boxes.giou(second, truth).item()
        if abs(g1 - g2) < 0.01:
            return f"the GIoUs are too close: {g1:.4g} and {g2:.4g} (make them differ by 0.01 or more)"
        if received not in ("first", "second"):
            return f"preferred must be \"first\" or \"second\", got {received!r}"
        if received != expected:
            return f"GIoU {g1:.4g} for first and {g2:.4g} for second: a loss 1 - GIoU is lower for the other one"
        return None

    def cases():
        for name, value in (("truth", truth), ("first", first), ("second", second)):
            if not isinstance(value, Tensor) or value.shape != (4,):
                raise _BadBox(f"{name} must be one xyxy box, a Tensor of shape [4], got "
                              f"{type(value).__name__}{list(value.shape) if isinstance(value, Tensor) else ''}")
        return [Case("your two predictions: equal IoU, different GIoU, and the one GIoU prefers",
                     "keep the IoU equal (same overlap and union) while changing the enclosing box C: "
                     "GIoU = IoU - |C minus the union| / |C| prefers the prediction whose hull wastes less.",
                     (truth, first, second))]

    from .core import _BadOption as _BadBox
    return run_cases("same_iou_different_giou", preferred, cases, reference, compare=compare,
                     arg_names=("truth", "first", "second"), call=call, expects_function=False, **run)
