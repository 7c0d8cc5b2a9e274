"""Checkers of lesson 07 (predictions to detections): NMS, average precision (COCO's 101
points, VOC's all points and VOC 2007's 11 points), overlapping classes under NMS, and mAP as
the score threshold rises."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import Tensor

from .core import Case, CheckResult, _as_tensor, _BadOption, _shape, _show, _t, compare_tensors, run_cases


def _voc11(recall: Tensor, precision: Tensor) -> float:
    """PASCAL VOC 2007's AP: the mean of the envelope at the recall levels 0, 0.1, ..., 1."""
    total = 0.0
    for j in range(11):
        reached = precision[recall >= j / 10 - 1e-12]
        total += float(reached.max()) if reached.numel() else 0.0
    return total / 11


def _compare_indices(expected: Tensor, received: Any) -> str | None:
    got = _as_tensor(received)
    if got is None:
        return f"a {type(received).__name__}, where a LongTensor of indices was expected"
    if got.is_floating_point() or got.dtype == torch.bool:
        return f"a tensor of dtype {got.dtype}: return indices as integers (a LongTensor)"
    if got.dim() != 1:
        return f"shape {_shape(got.shape)}: return a 1-D tensor of kept indices"
    if got.tolist() == expected.tolist():
        return None
    if sorted(got.tolist()) == sorted(expected.tolist()):
        return "the right boxes in the wrong order: highest score first"
    return ""


def _nms_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(0)
    unit = [0.0, 0.0, 1.0, 1.0]
    shifted = [0.25, 0.0, 1.25, 1.0]  # IoU with the unit square: 0.75 / 1.25 = 0.6
    centres = torch.rand(5, 2, generator=gen) * 0.6 + 0.2  # [5, 2]: five objects
    jitter = torch.randn(30, 4, generator=gen) * 0.03  # [30, 4]: six boxes per object
    sizes = torch.tensor([0.2, 0.15])
    centre_rows = centres.repeat_interleave(6, dim=0)  # [30, 2]
    many = torch.cat((centre_rows - sizes / 2, centre_rows + sizes / 2), dim=-1) + jitter
    order = "return indices into the input boxes, sorted by decreasing score, not positions in a sorted copy."
    return [
        Case("no boxes at all", "with no boxes return an empty LongTensor, "
             "torch.empty(0, dtype=torch.long).", (torch.zeros(0, 4), torch.zeros(0), 0.5)),
        Case("a single box is kept", "a box with nothing above it is always kept: start the "
             "result with the highest-scoring box.", (_t([unit]), _t([0.4]), 0.5)),
        Case("two disjoint boxes: both kept, highest score first", order,
             (_t([unit, [2.0, 2.0, 3.0, 3.0]]), _t([0.3, 0.9]), 0.5)),
        Case("IoU 0.6 above the threshold 0.5: the lower score goes",
             "a box is removed when its IoU with a kept, higher-scoring box is greater than "
             "iou_threshold.", (_t([unit, shifted]), _t([0.9, 0.8]), 0.5)),
        Case("the same pair with threshold 0.7: both stay",
             "use the iou_threshold argument (no fixed 0.5), and remove a box only when the "
             "IoU is above it: 0.6 < 0.7 keeps both.", (_t([unit, shifted]), _t([0.9, 0.8]), 0.7)),
        Case("the higher score listed second", order,
             (_t([unit, shifted]), _t([0.8, 0.9]), 0.5)),
        Case("a chain: A suppresses B, B overlaps C, A does not overlap C enough",
             "only boxes that are kept suppress others: once B is removed by A it removes "
             "nothing, so C (IoU 1/3 with A) survives. Walk down the ranking and compare each "
             "box with the kept ones only.",
             (_t([[0.5, 0.0, 1.5, 1.0], unit, shifted]), _t([0.7, 0.9, 0.8]), 0.5),
             note="boxes are C, A, B; IoU(A, B) = IoU(B, C) = 0.6, IoU(A, C) = 1/3"),
        Case("IoU exactly 0.5 with threshold 0.5: both stay",
             "suppress only when the IoU is strictly greater than iou_threshold: IoU == "
             "threshold keeps the box (use >, not >=).",
             (_t([[0.0, 0.0, 3.0, 1.0], [1.0, 0.0, 4.0, 1.0]]), _t([0.9, 0.8]), 0.5),
             note="intersection 2, union 4: IoU 0.5 exactly"),
        Case("equal scores: the box listed first wins",
             "on equal scores keep the lower index: sort with a stable sort "
             "(torch.sort(scores, descending=True, stable=True)), so the box listed first comes first.",
             (_t([[0.25, 0.0, 1.25, 1.0], unit]), _t([0.7, 0.7]), 0.5),
             note="IoU 0.6, equal scores 0.7"),
        Case("30 boxes around 5 objects", order + " Suppress with IoU > iou_threshold.",
             (many, torch.rand(30, generator=gen), 0.4),
             note="six jittered boxes around each of five centres, random scores"),
    ]


def nms(learner_fn: Callable[[Tensor, Tensor, float], Any], **run: Any) -> CheckResult:
    """Checks ``learner_fn(boxes, scores, iou_threshold) -> LongTensor[k]``, greedy
    non-maximum suppression: indices of the kept boxes, highest score first, a box dropped
    when its IoU with a kept box is ``> iou_threshold``. Reference:
    :func:`yolo_lesson.metrics.nms`; ``boxes`` is ``[K, 4]`` ``xyxy``, ``scores`` ``[K]``.

    Cases: no boxes, one box, the output order, above and below the threshold (and a
    threshold other than 0.5), a chain where only kept boxes may suppress, a crowded scene.
    """

    def reference(boxes, scores, iou_threshold):
        from .. import metrics

        return metrics.nms(boxes, scores, iou_threshold)

    def cases():
        from .. import metrics  # noqa: F401  (fails early, with a clear message, if missing)

        return _nms_cases()

    return run_cases("nms", learner_fn, cases, reference, compare=_compare_indices,
                     arg_names=("boxes", "scores", "iou_threshold"), **run)


def _curve(flags: Sequence[int], num_ground_truth: int) -> tuple[Tensor, Tensor]:
    """Recall and precision after each detection of a ranked list of TP (1) / FP (0) flags."""
    tp = torch.tensor(flags, dtype=torch.float64).cumsum(0)
    k = torch.arange(1, len(flags) + 1, dtype=torch.float64)
    return tp / num_ground_truth, tp / k


def _ap_cases(interpolation: str) -> list[Case]:
    envelope = (
        "interpolate first: at each recall use the best precision reached at that recall or "
        "beyond (a running max from the end of the curve), then "
    )
    area = (
        "sum (R_k - R_(k-1)) · envelope_k over the points, starting from R_0 = 0."
        if interpolation == "voc_all"
        else "average the envelope at the 11 recall levels 0, 0.1, ..., 1 (0 where the recall "
        "is never reached): divide by 11." if interpolation == "voc11"
        else "average the envelope at the 101 recall levels 0, 0.01, ..., 1 (0 where the recall "
        "is never reached): divide by 101, not 100."
    )
    gen = torch.Generator().manual_seed(0)
    flags = (torch.rand(20, generator=gen) < 0.6).long().tolist()

    def case(why, hint, flag_list, G, note=""):
        recall, precision = _curve(flag_list, G) if flag_list else (
            torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.float64))
        return Case(why, hint, (recall, precision), note=note)

    return [
        case("one detection, correct, one object: AP 1", area, [1], 1),
        case("a true then a false positive for 2 objects", area, [1, 0], 2),
        case("no detections: AP 0", "an empty curve has no area: return 0.0 (watch out for an "
             "empty max or mean).", [], 1),
        case("only false positives: AP 0", area, [0, 0, 0], 2),
        case("precision rises again further down the ranking", envelope + area,
             [1, 0, 0, 1, 1], 3, note="ranking TP, FP, FP, TP, TP for 3 objects"),
        case("the recall stops at 0.5 (half the objects are never found)",
             "recall levels beyond the last point get precision 0; do not stretch the curve to "
             "recall 1. " + area, [1, 1], 4),
        case("a ranking that starts with false positives", envelope + area,
             [0, 0, 1, 1], 2, note="ranking FP, FP, TP, TP for 2 objects"),
        case("20 ranked detections", envelope + area, flags, 15,
             note="random TP/FP flags, 15 objects"),
    ]


def average_precision(
    learner_fn: Callable[[Tensor, Tensor], Any],
    *,
    interpolation: str = "coco101",
    **run: Any,
) -> CheckResult:
    """Checks ``learner_fn(recall, precision) -> float``, the area under an interpolated
    precision-recall curve, against :func:`yolo_lesson.metrics.average_precision` with the
    given ``interpolation`` (``"coco101"``: mean of the envelope at 101 recall levels;
    ``"voc_all"``: exact area under the envelope). ``recall`` and ``precision`` are
    ``Tensor[D]`` (float64) in ranking order; the answer may be a float or a 0-d tensor.

    Cases: a perfect detector, a TP then an FP, an empty curve, only false positives,
    precision that rises again (the envelope), a recall that never reaches 1, false positives
    first, a random ranking.
    """

    def reference(recall, precision):
        from .. import metrics

        if interpolation == "voc11":
            return torch.tensor(_voc11(recall, precision), dtype=torch.float64)
        return torch.tensor(metrics.average_precision(recall, precision, interpolation),
                            dtype=torch.float64)

    def compare(expected, received):
        got = _as_tensor(received)
        if got is not None and got.numel() == 1:
            got = got.reshape(())
        return compare_tensors(expected, got if got is not None else received, rtol=1e-6, atol=1e-6)

    def cases():
        from .. import metrics

        known = (*metrics.INTERPOLATIONS, "voc11")
        if not isinstance(interpolation, str) or interpolation not in known:
            raise _BadOption(f"interpolation must be one of {known}, got {interpolation!r}")
        return _ap_cases(interpolation)

    return run_cases("average_precision", learner_fn, cases, reference, compare=compare,
                     arg_names=("recall", "precision"), **run)




def overlapping_classes(boxes: Any, scores: Any, labels: Any, **run: Any) -> CheckResult:
    """Checks an answer: two boxes ``[2, 4]`` of different ``labels`` whose IoU is above 0.5,
    so that class-agnostic :func:`yolo_lesson.metrics.nms` keeps one and
    :func:`yolo_lesson.metrics.batched_nms` keeps both (threshold 0.5)."""
    from .. import metrics
    from ..boxes import box_iou

    def reference():
        return [0, 1]

    def compare(expected, received):
        boxes, scores, labels = received
        if not isinstance(boxes, Tensor) or boxes.shape != (2, 4):
            return f"boxes must be a Tensor[2, 4], got {_show(boxes)}"
        overlap = box_iou(boxes[:1], boxes[1:]).item()
        if overlap <= 0.5:
            return f"their IoU is {overlap:.3f}: make it above 0.5 so that NMS compares them"
        if int(labels[0]) == int(labels[1]):
            return "give the two boxes different labels (a rider and a horse)"
        if metrics.nms(boxes, scores, 0.5).numel() != 1:
            return "class-agnostic nms should keep only one of them"
        if sorted(metrics.batched_nms(boxes, scores, labels, 0.5).tolist()) != expected:
            return "batched_nms should keep both"
        return None

    case = Case("a rider on a horse", "a rider's tall box inside a horse's wide box overlaps it a "
                "lot: the larger the shared area, the higher the IoU.")
    return run_cases("overlapping_classes", (boxes, scores, labels), lambda: [case], reference,
                     compare=compare, call=lambda answer: answer, expects_function=False,
                     show_expected=lambda e: "nms keeps 1 box, batched_nms keeps both",
                     show_received=lambda r: _show(r[0]), **run)


def map_by_score_threshold(maps: Any, pred: Tensor, targets: Sequence, *, S: int, B: int, C: int,
                           thresholds: Sequence[float], **run: Any) -> CheckResult:
    """Checks an answer: ``maps``, the VOC all-point mAP@0.5 of
    :func:`yolo_lesson.metrics.detections_from_predictions` at each score threshold."""
    from .. import metrics

    def reference(thresholds):
        return torch.tensor([
            metrics.mean_average_precision(
                metrics.detections_from_predictions(pred, S, B, C, score_threshold=t), targets, 0.5,
                "voc_all").map for t in thresholds], dtype=torch.float64)

    def compare(expected, received):
        try:
            got = torch.tensor([float(v) for v in received], dtype=torch.float64)
        except (TypeError, ValueError):
            return "a list of numbers was expected, one mAP per threshold"
        return compare_tensors(expected, got, rtol=1e-6, atol=1e-9, tensor_only=False)

    case = Case("mAP@0.5 (VOC all points) at each score threshold", "call "
                "detections_from_predictions with score_threshold=t, then mean_average_precision "
                "with iou_threshold 0.5 and interpolation 'voc_all'.", (list(thresholds),))
    return run_cases("map_by_score_threshold", maps, lambda: [case], reference, compare=compare,
                     arg_names=("thresholds",), call=lambda answer, *a: answer,
                     expects_function=False, **run)
