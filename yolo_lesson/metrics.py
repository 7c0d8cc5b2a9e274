"""Metrics: from scored boxes to detections (NMS), and from detections to one number (AP, mAP).

A detector proposes many overlapping boxes per object. Two steps turn them into a score:

1. **Non-maximum suppression** (:func:`nms`, :func:`batched_nms`) keeps the best-scoring box
   and removes every box that overlaps it by more than an IoU threshold, then repeats with the
   next best survivor. :func:`detections_from_predictions` chains it after
   :func:`yolo_lesson.grid.decode_predictions` to go from a raw YOLOv1 output to detections.
2. **Average precision.** For one class, the detections of all images are ranked by score; each
   is a true positive (TP) when it matches a not-yet-matched ground-truth box of its image with
   IoU ``>= iou_threshold`` (:func:`match_detections`), a false positive (FP) otherwise. Walking
   down the ranking gives a precision-recall curve (:func:`precision_recall_curve`); its
   interpolated area is the AP (:func:`average_precision`); the mean over classes is the mAP
   (:func:`mean_average_precision`).

Boxes are ``xyxy`` throughout, in any consistent unit (normalized or pixels). Ties in score are
broken by position: the lower index (or, across images, the earlier image) ranks first.

References: Everingham et al., "The PASCAL Visual Object Classes Challenge: A Retrospective",
IJCV 2015, section 3.4 (all-point AP); Lin et al., "Microsoft COCO: Common Objects in Context",
ECCV 2014, and the COCO detection evaluation (101-point AP).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping, NamedTuple, Sequence

import torch
from torch import Tensor

from ._checks import (
    require_choice,
    require_finite,
    require_float,
    require_int,
    require_nonnegative_number,
    require_positive_int,
    require_same_device,
    require_tensor,
    shape_str,
    upcast,
)
from .boxes import box_iou
from .grid import decode_predictions

__all__ = [
    "INTERPOLATIONS",
    "nms",
    "batched_nms",
    "match_detections",
    "PRCurve",
    "precision_recall_curve",
    "average_precision",
    "average_precision_from_scores",
    "MeanAP",
    "mean_average_precision",
    "detections_from_predictions",
]

INTERPOLATIONS = ("coco101", "voc_all")


# ---------------------------------------------------------------- input checks


def _check_boxes(name: str, boxes: object, letter: str = "K") -> Tensor:
    boxes = require_float(name, boxes)
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must be [{letter}, 4] (xyxy), got {shape_str(boxes.shape)}")
    require_finite(name, boxes)
    return boxes


def _check_not_inverted(name: str, boxes: Tensor) -> None:
    """Ground truth must be proper ``xyxy`` boxes: an inverted one (``x2 < x1`` or ``y2 < y1``,
    e.g. ``cxcywh`` or ``xywh`` passed as ``xyxy``) has IoU 0 with everything, so it would
    silently become an object nobody can find. Detections are not checked: an inverted
    detection is a bad prediction, which the metric scores as a false positive."""
    inverted = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    if bool(inverted.any()):
        first = int(inverted.nonzero()[0, 0])
        corners = ", ".join(f"{float(v):.4g}" for v in boxes[first].tolist())
        raise ValueError(
            f"{name} must be xyxy with x2 >= x1 and y2 >= y1, got {int(inverted.sum())} "
            f"inverted box(es), the first at row {first}: [{corners}]"
        )


def _check_scores(name: str, scores: object, K: int, boxes_name: str = "boxes") -> Tensor:
    scores = require_float(name, scores)
    if scores.dim() != 1 or scores.shape[0] != K:
        raise ValueError(
            f"{name} must be [K] with K = {K} (one per box of {boxes_name}), "
            f"got {shape_str(scores.shape)}"
        )
    require_finite(name, scores)
    return scores


def _check_labels(name: str, labels: object, K: int, boxes_name: str = "boxes") -> Tensor:
    labels = require_int(name, labels)
    if labels.dim() != 1 or labels.shape[0] != K:
        raise ValueError(
            f"{name} must be [K] with K = {K} (one per box of {boxes_name}), "
            f"got {shape_str(labels.shape)}"
        )
    if labels.numel() and int(labels.min()) < 0:
        raise ValueError(f"{name} must be class indices >= 0, got a minimum of {int(labels.min())}")
    return labels


def _descending(scores: Tensor) -> Tensor:
    """Indices sorting ``scores`` from highest to lowest; equal scores keep their order."""
    return torch.sort(scores, descending=True, stable=True).indices


# ---------------------------------------------------------------- NMS


NMS_BLOCK = 256  # boxes resolved together: memory grows as NMS_BLOCK × K, never K × K


def _overlaps(a: Tensor, b: Tensor, iou_threshold: float) -> Tensor:
    """``BoolTensor[N, M]``: IoU of ``a[i]`` and ``b[j]`` above the threshold. The very
    arithmetic of :func:`yolo_lesson.boxes.box_iou` (so the same decisions, to the last bit),
    without its checks, with each box's area computed once instead of once per pair, and
    in place where an ``[N, M]`` result is reused."""
    a, b = upcast(a), upcast(b)
    ax1, ay1, ax2, ay2 = (v[:, None] for v in a.unbind(-1))  # each [N, 1]
    bx1, by1, bx2, by2 = (v[None, :] for v in b.unbind(-1))  # each [1, M]
    inter = torch.minimum(ax2, bx2).sub_(torch.maximum(ax1, bx1)).clamp_(min=0)  # width, [N, M]
    inter.mul_(torch.minimum(ay2, by2).sub_(torch.maximum(ay1, by1)).clamp_(min=0))  # × height
    area_a = (ax2 - ax1).clamp(min=0) * (ay2 - ay1).clamp(min=0)  # [N, 1]
    area_b = (bx2 - bx1).clamp(min=0) * (by2 - by1).clamp(min=0)  # [1, M]
    union = (area_a + area_b).sub_(inter)  # [N, M]
    union.masked_fill_(union <= torch.finfo(union.dtype).tiny, 1)  # box_iou's guard: 0 / 1
    return inter.div_(union) > iou_threshold


def _greedy_suppression(boxes: Tensor, labels: Tensor | None, iou_threshold: float) -> Tensor:
    """The NMS loop on boxes already sorted by decreasing score: walking down the ranking, a box
    is kept unless a kept (so higher-ranked) box of the same label overlaps it by more than
    ``iou_threshold``. Returns ``BoolTensor[K]``, True for a kept position.

    Done in blocks of ``NMS_BLOCK`` ranked boxes, which gives the same answer as the one-box-at-
    a-time loop of lesson 07 with tensor operations. The boxes of a block still alive are settled
    among themselves by repeating "a box survives when no surviving box ranked above it in the
    block suppresses it" until nothing changes: each repetition fixes at least one more box in
    ranking order, and the answer it stops at is the loop's, since that rule decides box ``i``
    from boxes ``< i`` alone. The block's survivors are kept, and at once remove every box
    they suppress further down the ranking, so later blocks only see boxes still alive (as the
    loop, which never looks at a suppressed box again).
    """
    K = boxes.shape[0]
    keep = torch.zeros(K, dtype=torch.bool, device=boxes.device)
    alive = torch.ones(K, dtype=torch.bool, device=boxes.device)
    size = min(NMS_BLOCK, K)
    above = torch.ones(size, size, dtype=torch.bool, device=boxes.device).triu_(1)  # j ranked above i
    for start in range(0, K, NMS_BLOCK):
        end = start + NMS_BLOCK
        candidates = start + alive[start:end].nonzero()[:, 0]  # [c]: positions still alive
        c = candidates.numel()
        if c == 0:
            continue
        contenders = boxes[candidates]  # [c, 4]
        # suppresses[j, i]: contender j, ranked above contender i, would suppress it
        suppresses = _overlaps(contenders, contenders, iou_threshold) & above[:c, :c]  # [c, c]
        if labels is not None:
            contender_labels = labels[candidates]
            suppresses &= contender_labels[:, None] == contender_labels[None, :]
        survivors = torch.ones(c, dtype=torch.bool, device=boxes.device)
        if bool(suppresses.any()):
            while True:
                settled = ~(suppresses & survivors[:, None]).any(0)
                if torch.equal(settled, survivors):
                    break
                survivors = settled
        kept = candidates[survivors]  # [k]
        keep[kept] = True
        later = end + alive[end:].nonzero()[:, 0]  # [r]: boxes further down, still alive
        if later.numel():
            hits = _overlaps(boxes[kept], boxes[later], iou_threshold)  # [k, r]
            if labels is not None:
                hits &= labels[kept][:, None] == labels[later][None, :]
            alive[later[hits.any(0)]] = False
    return keep


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression, class-agnostic.

    Boxes are visited from the highest score down; a box is kept unless its IoU with an
    already kept (so higher-ranked) box is ``> iou_threshold``. Lesson 07 writes this loop one
    box at a time; the package runs it on blocks of boxes (same kept indices, and memory that
    grows linearly with ``K``: 8,400 boxes, one YOLOv8 head at 640 pixels, need a few MB).

    Args:
        boxes: ``Tensor[K, 4]`` in ``xyxy``.
        scores: ``Tensor[K]``, higher is better.
        iou_threshold: a number ``>= 0``; ``>= 1`` suppresses nothing, 0 suppresses every
            box that overlaps a kept one at all.

    Returns:
        ``LongTensor[k]``: indices into ``boxes`` of the kept boxes, highest score first
        (equal scores: lower index first). Empty input gives an empty tensor.

    Example: two boxes with IoU 0.6 and scores 0.9, 0.8 keep only index 0 at a threshold of
    0.5, and both (``[0, 1]``) at a threshold of 0.7.
    """
    require_same_device(("boxes", boxes), ("scores", scores))
    boxes = _check_boxes("boxes", boxes)
    scores = _check_scores("scores", scores, boxes.shape[0])
    iou_threshold = require_nonnegative_number("iou_threshold", iou_threshold)
    order = _descending(scores)
    return order[_greedy_suppression(boxes[order], None, iou_threshold)]


def batched_nms(boxes: Tensor, scores: Tensor, labels: Tensor, iou_threshold: float) -> Tensor:
    """Class-aware non-maximum suppression: boxes with different labels never suppress each
    other; within one label it is :func:`nms`.

    Args:
        boxes: ``Tensor[K, 4]`` in ``xyxy``.
        scores: ``Tensor[K]``.
        labels: ``LongTensor[K]`` class indices ``>= 0``.
        iou_threshold: a number ``>= 0``.

    Returns:
        ``LongTensor[k]``: kept indices into ``boxes``, highest score first over all classes
        (equal scores: lower index first).
    """
    require_same_device(("boxes", boxes), ("scores", scores), ("labels", labels))
    boxes = _check_boxes("boxes", boxes)
    K = boxes.shape[0]
    scores = _check_scores("scores", scores, K)
    labels = _check_labels("labels", labels, K)
    iou_threshold = require_nonnegative_number("iou_threshold", iou_threshold)
    order = _descending(scores)
    return order[_greedy_suppression(boxes[order], labels[order], iou_threshold)]


# ---------------------------------------------------------------- matching and AP


def match_detections(
    boxes: Tensor, scores: Tensor, gt_boxes: Tensor, iou_threshold: float = 0.5
) -> Tensor:
    """Marks the true positives among one image's detections of one class.

    Detections are visited from the highest score down (equal scores: lower index first). Each
    takes the still-unmatched ground-truth box it overlaps most; it is a true positive when that
    IoU is ``>= iou_threshold`` and ``> 0`` (the ground truth is then used up), a false positive
    otherwise: at ``iou_threshold=0`` a detection must still touch its object.
    So a second detection of an already found object is a false positive (a duplicate).

    This is COCO's rule. PASCAL VOC's differs in one detail: there a detection looks only at
    the ground truth it overlaps most, matched or not, and is a false positive if that one is
    taken (and needs IoU ``> 0.5`` strictly).

    Args:
        boxes: ``Tensor[D, 4]`` detections in ``xyxy`` (an inverted one matches nothing).
        scores: ``Tensor[D]``.
        gt_boxes: ``Tensor[G, 4]`` ground truth in ``xyxy`` (``x2 >= x1``, ``y2 >= y1``).
        iou_threshold: a number ``>= 0``.

    Returns:
        ``BoolTensor[D]``, in the order of ``boxes``: True for a true positive.
    """
    require_same_device(("boxes", boxes), ("scores", scores), ("gt_boxes", gt_boxes))
    boxes = _check_boxes("boxes", boxes, "D")
    scores = _check_scores("scores", scores, boxes.shape[0])
    gt_boxes = _check_boxes("gt_boxes", gt_boxes, "G")
    _check_not_inverted("gt_boxes", gt_boxes)
    iou_threshold = require_nonnegative_number("iou_threshold", iou_threshold)
    return _match(boxes, scores, gt_boxes, iou_threshold)


def _match(boxes: Tensor, scores: Tensor, gt_boxes: Tensor, iou_threshold: float) -> Tensor:
    is_tp = torch.zeros(boxes.shape[0], dtype=torch.bool)
    if boxes.shape[0] == 0 or gt_boxes.shape[0] == 0:
        return is_tp
    order = _descending(scores)
    overlap = box_iou(boxes[order], gt_boxes).cpu()  # [D, G], rows in ranking order
    taken = torch.zeros(gt_boxes.shape[0], dtype=torch.bool)
    for rank, index in enumerate(order.tolist()):
        available = overlap[rank].masked_fill(taken, -1.0)  # a used ground truth can't match
        best = int(available.argmax())  # the first of equal IoUs
        # IoU 0 is never a match, even at iou_threshold=0: that box does not touch the object
        if available[best] >= iou_threshold and available[best] > 0:
            is_tp[index] = True
            taken[best] = True
    return is_tp


class PRCurve(NamedTuple):
    """A precision-recall curve, one point per detection in ranking order.

    Attributes:
        precision: ``Tensor[D]`` float64: ``TP_k / k`` after the top ``k`` detections.
        recall: ``Tensor[D]`` float64: ``TP_k / num_ground_truth``, non-decreasing.
        scores: ``Tensor[D]``: the detection scores, sorted from high to low.
    """

    precision: Tensor
    recall: Tensor
    scores: Tensor


def _check_scored_detections(
    scores: object, is_true_positive: object, num_ground_truth: object
) -> tuple[Tensor, Tensor, int]:
    scores = require_float("scores", scores)
    if scores.dim() != 1:
        raise ValueError(f"scores must be [D], got {shape_str(scores.shape)}")
    require_finite("scores", scores)
    is_true_positive = require_tensor("is_true_positive", is_true_positive)
    if is_true_positive.dtype != torch.bool or tuple(is_true_positive.shape) != tuple(scores.shape):
        raise ValueError(
            f"is_true_positive must be a bool tensor [D] with D = {scores.shape[0]} (one per "
            f"score), got dtype {is_true_positive.dtype} and shape "
            f"{shape_str(is_true_positive.shape)}"
        )
    num_ground_truth = require_positive_int("num_ground_truth", num_ground_truth)
    found = int(is_true_positive.sum())
    if found > num_ground_truth:
        raise ValueError(
            f"num_ground_truth must be at least the number of true positives ({found}), "
            f"got {num_ground_truth}"
        )
    return scores, is_true_positive, num_ground_truth


def precision_recall_curve(
    scores: Tensor, is_true_positive: Tensor, num_ground_truth: int
) -> PRCurve:
    """Precision and recall after each detection, ranking them by decreasing score.

    $$ P_k = \\frac{TP_k}{k}, \\qquad R_k = \\frac{TP_k}{G} $$

    with ``TP_k`` the true positives among the top ``k`` detections and ``G`` the number of
    ground-truth objects (the ones no detection found count in ``G``: they cap the recall).

    Args:
        scores: ``Tensor[D]`` detection scores (of one class, over all images).
        is_true_positive: ``BoolTensor[D]``, e.g. from :func:`match_detections`.
        num_ground_truth: ``G >= 1``, at least the number of true positives.

    Returns:
        :class:`PRCurve` with ``D`` points (equal scores: lower index first).
    """
    scores, is_true_positive, num_ground_truth = _check_scored_detections(
        scores, is_true_positive, num_ground_truth
    )
    order = _descending(scores)
    tp = is_true_positive[order].to(torch.float64).cumsum(0)  # [D]: TP_k
    k = torch.arange(1, len(order) + 1, dtype=torch.float64)
    return PRCurve(precision=tp / k, recall=tp / num_ground_truth, scores=scores[order])


def _check_curve(recall: object, precision: object) -> tuple[Tensor, Tensor]:
    recall = require_float("recall", recall)
    precision = require_float("precision", precision)
    if recall.dim() != 1 or precision.shape != recall.shape:
        raise ValueError(
            f"recall and precision must be 1-D of the same length [D], got recall "
            f"{shape_str(recall.shape)} and precision {shape_str(precision.shape)}"
        )
    for name, values in (("recall", recall), ("precision", precision)):
        require_finite(name, values)
        if values.numel() and bool(((values < 0) | (values > 1)).any()):
            raise ValueError(
                f"{name} must lie in [0, 1], got values from {float(values.min()):.4g} "
                f"to {float(values.max()):.4g}"
            )
    if recall.numel() > 1 and bool((recall[1:] < recall[:-1]).any()):
        raise ValueError("recall must be non-decreasing (points in ranking order), got a decrease")
    return recall.double().cpu(), precision.double().cpu()


def average_precision(recall: Tensor, precision: Tensor, interpolation: str = "coco101") -> float:
    """The area under a precision-recall curve, after interpolation.

    Both interpolations first replace precision by its *envelope*, the best precision reachable
    at this recall or beyond, which makes the curve non-increasing:

    $$ P_\\text{interp}(r) = \\max_{k:\\, R_k \\ge r} P_k \\qquad (0 \\text{ if no } R_k \\ge r). $$

    * ``"voc_all"`` (PASCAL VOC 2010 and later, all points): the exact area under the
      envelope, a sum of rectangles at each recall step, with ``R_0 = 0``:

      $$ AP = \\sum_{k=1}^{D} (R_k - R_{k-1}) \\, P_\\text{interp}(R_k). $$

    * ``"coco101"`` (COCO): the mean of the envelope at 101 recall levels
      ``r = 0, 0.01, ..., 1``:

      $$ AP = \\frac{1}{101} \\sum_{j=0}^{100} P_\\text{interp}(j / 100). $$

      The levels are computed as ``j / 100``; pycocotools builds them with ``np.linspace``,
      whose values can sit one rounding step above ``j / 100``, so in the rare case of a
      recall exactly on a level the two can differ slightly.

    Args:
        recall: ``Tensor[D]`` in ``[0, 1]``, non-decreasing (the curve in ranking order).
        precision: ``Tensor[D]`` in ``[0, 1]``.
        interpolation: ``"coco101"`` or ``"voc_all"``.

    Returns:
        AP in ``[0, 1]`` as a Python float; an empty curve (no detections) gives 0.0.

    Example: one true positive then one false positive for ``G = 2`` objects is the curve
    ``R = (0.5, 0.5)``, ``P = (1, 0.5)``: ``voc_all`` gives ``0.5 · 1 = 0.5``, ``coco101``
    gives ``51 / 101`` (levels 0 to 0.5 reach precision 1, the other 50 reach nothing).
    """
    recall, precision = _check_curve(recall, precision)
    interpolation = require_choice("interpolation", interpolation, INTERPOLATIONS)
    if recall.numel() == 0:
        return 0.0
    # envelope[k] = max(precision[k:]): the best precision at recall >= recall[k]
    envelope = precision.flip(0).cummax(0).values.flip(0)
    if interpolation == "voc_all":
        steps = recall - torch.cat((recall.new_zeros(1), recall[:-1]))  # R_k - R_{k-1}
        return float((steps * envelope).sum())
    levels = torch.arange(101, dtype=torch.float64) / 100
    first = torch.searchsorted(recall, levels, side="left")  # first point with R_k >= level
    padded = torch.cat((envelope, envelope.new_zeros(1)))  # past the end: recall not reached
    return float(padded[first].mean())


def average_precision_from_scores(
    scores: Tensor, is_true_positive: Tensor, num_ground_truth: int, interpolation: str = "coco101"
) -> float:
    """AP of scored detections: :func:`precision_recall_curve` then :func:`average_precision`.

    Args:
        scores: ``Tensor[D]``.
        is_true_positive: ``BoolTensor[D]``.
        num_ground_truth: ``G >= 1``.
        interpolation: ``"coco101"`` or ``"voc_all"``.

    Returns:
        AP as a Python float.
    """
    interpolation = require_choice("interpolation", interpolation, INTERPOLATIONS)
    curve = precision_recall_curve(scores, is_true_positive, num_ground_truth)
    return average_precision(curve.recall, curve.precision, interpolation)


# ---------------------------------------------------------------- mAP


class MeanAP(NamedTuple):
    """Mean average precision.

    Attributes:
        map: the mean of ``per_class`` values; 0.0 when no class has ground truth.
        per_class: ``{class index: AP}`` for every class with at least one ground-truth box.
    """

    map: float
    per_class: dict[int, float]


def _check_image_dicts(name: str, items: object, keys: tuple[str, ...]) -> list[dict[str, Tensor]]:
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes, Mapping)):
        raise ValueError(
            f"{name} must be a list of per-image dicts with keys {keys}, got {type(items).__name__}"
        )
    checked = []
    for i, item in enumerate(items):
        where = f"{name}[{i}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where} must be a dict with keys {keys}, got {type(item).__name__}")
        missing = [key for key in keys if key not in item]
        if missing:
            raise ValueError(
                f"{where} must have keys {keys}, got {tuple(item)} (missing {tuple(missing)})"
            )
        require_same_device(*((f"{where}[{key!r}]", item[key]) for key in keys))
        boxes = _check_boxes(f"{where}['boxes']", item["boxes"], "D" if "scores" in keys else "G")
        if "scores" not in keys:  # ground truth (a detection may be inverted: it just misses)
            _check_not_inverted(f"{where}['boxes']", boxes)
        K, boxes_name = boxes.shape[0], f"{where}['boxes']"
        entry = {"boxes": boxes}
        entry["labels"] = _check_labels(f"{where}['labels']", item["labels"], K, boxes_name)
        if "scores" in keys:
            entry["scores"] = _check_scores(f"{where}['scores']", item["scores"], K, boxes_name)
        checked.append(entry)
    return checked


def mean_average_precision(
    preds: Sequence[Mapping[str, Tensor]],
    targets: Sequence[Mapping[str, Tensor]],
    iou_threshold: float = 0.5,
    interpolation: str = "coco101",
) -> MeanAP:
    """Mean over classes of the average precision at one IoU threshold.

    For each class: in every image, the class's detections are matched greedily to the class's
    ground truth (:func:`match_detections`: decreasing score, each ground truth used at most
    once, a duplicate is a false positive); then the detections of all images are ranked
    together by score and :func:`average_precision_from_scores` gives the class's AP. The mAP is
    the plain mean of the class APs:

    $$ mAP = \\frac{1}{|\\mathcal{C}|} \\sum_{c \\in \\mathcal{C}} AP_c $$

    with ``𝒞`` the classes that have ground truth in at least one image. A class with ground
    truth but no detection has AP 0 and counts. A class with detections but no ground truth
    anywhere is left out (its AP is undefined: there is nothing to recall), so its false
    positives do not lower the mAP. With no ground truth at all, the result is
    ``MeanAP(0.0, {})``.

    This is the AP at one IoU threshold (``iou_threshold=0.5`` gives VOC's mAP and COCO's
    "AP50"); COCO's headline "AP" is the mean over thresholds 0.50, 0.55, ..., 0.95, which you
    get by averaging calls. Unlike the COCO evaluator there is no cap on detections per image,
    no crowd regions and no object-size ranges.

    Args:
        preds: one dict per image: ``boxes`` ``Tensor[D, 4]`` in ``xyxy``, ``scores``
            ``Tensor[D]``, ``labels`` ``LongTensor[D]``.
        targets: one dict per image, in the same order: ``boxes`` ``Tensor[G, 4]`` in
            ``xyxy``, ``labels`` ``LongTensor[G]``. An inverted target box (``x2 < x1`` or
            ``y2 < y1``) is refused; an inverted detection is scored (it matches nothing).
        iou_threshold: a number ``>= 0``; a detection needs IoU ``>=`` it (and ``> 0``) to match.
        interpolation: ``"coco101"`` or ``"voc_all"`` (see :func:`average_precision`).

    Returns:
        :class:`MeanAP` ``(map, per_class)``.
    """
    iou_threshold = require_nonnegative_number("iou_threshold", iou_threshold)
    interpolation = require_choice("interpolation", interpolation, INTERPOLATIONS)
    if isinstance(preds, Sequence) and isinstance(targets, Sequence):
        for i, (pred, target) in enumerate(zip(preds, targets)):
            if isinstance(pred, Mapping) and isinstance(target, Mapping):
                require_same_device((f"preds[{i}]['boxes']", pred.get("boxes")), (f"targets[{i}]['boxes']", target.get("boxes")))
    preds = _check_image_dicts("preds", preds, ("boxes", "scores", "labels"))
    targets = _check_image_dicts("targets", targets, ("boxes", "labels"))
    if len(preds) != len(targets):
        raise ValueError(
            f"preds and targets must list the same number of images, got {len(preds)} and "
            f"{len(targets)}"
        )
    scores: dict[int, list[Tensor]] = defaultdict(list)
    hits: dict[int, list[Tensor]] = defaultdict(list)
    num_ground_truth: dict[int, int] = defaultdict(int)
    for pred, target in zip(preds, targets):
        for c in target["labels"].tolist():
            num_ground_truth[c] += 1
        for c in sorted(set(pred["labels"].tolist())):
            mine = pred["labels"] == c
            gt = target["boxes"][target["labels"] == c]
            scores[c].append(pred["scores"][mine].detach().cpu())
            hits[c].append(_match(pred["boxes"][mine], pred["scores"][mine], gt, iou_threshold))
    per_class = {}
    for c in sorted(num_ground_truth):
        if c in scores:
            class_scores, class_hits = torch.cat(scores[c]), torch.cat(hits[c])
        else:  # ground truth that nobody detected
            class_scores, class_hits = torch.zeros(0), torch.zeros(0, dtype=torch.bool)
        per_class[c] = average_precision_from_scores(
            class_scores, class_hits, num_ground_truth[c], interpolation
        )
    mean = sum(per_class.values()) / len(per_class) if per_class else 0.0
    return MeanAP(map=mean, per_class=per_class)


# ---------------------------------------------------------------- raw output to detections


def detections_from_predictions(
    pred: Tensor,
    S: int = 7,
    B: int = 2,
    C: int = 20,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    max_detections: int | None = None,
    *,
    wh: str = "predicted_sqrt",
    scoring: str = "best_class",
) -> list[dict[str, Tensor]]:
    """From a raw YOLOv1 output to per-image detections, in the format of
    :func:`mean_average_precision`.

    1. :func:`yolo_lesson.grid.decode_predictions` turns every predictor into an image-space
       ``xyxy`` box (its w, h outputs squared under the default ``wh="predicted_sqrt"``) with
       YOLOv1's class-specific confidence ``conf × p(c)``: for the cell's best class only
       (``scoring="best_class"``, one candidate per predictor) or for every class
       (``scoring="every_class"``, the paper's test time, section 2.4: one candidate per
       predictor and class, so a box can also be kept for its second class). The outputs are
       used as they are: no sigmoid or softmax is applied (the YOLOv1 loss regresses them
       directly); a model that outputs logits should apply its activations first.
    2. Boxes with score ``> score_threshold`` are kept.
    3. :func:`batched_nms` removes, within each class, boxes overlapping a better one by more
       than ``iou_threshold``.
    4. Optionally only the ``max_detections`` best are kept.

    The result is detached from the autograd graph. Boxes are not clipped to the image.
    A low ``score_threshold`` (0.001-0.05) suits mAP evaluation, which rewards ranking many
    candidates; a higher one (about 0.2) suits drawing.

    Args:
        pred: ``Tensor[N, S, S, B*5 + C]``, finite.
        S: grid size.
        B: predictors per cell.
        C: number of classes.
        score_threshold: a number ``>= 0``.
        iou_threshold: a number ``>= 0``, for NMS.
        max_detections: a positive int or None (no cap).
        wh: what the w, h outputs mean: ``"predicted_sqrt"`` (the default loss's roots) or a
            tutorial variant (sizes), see :func:`yolo_lesson.grid.size_from_output`.
        scoring: ``"best_class"`` or ``"every_class"``.

    Returns:
        N dicts with ``boxes`` ``Tensor[k, 4]`` (``xyxy``, normalized), ``scores`` ``Tensor[k]``
        and ``labels`` ``LongTensor[k]``, sorted by decreasing score.
    """
    score_threshold = require_nonnegative_number("score_threshold", score_threshold)
    iou_threshold = require_nonnegative_number("iou_threshold", iou_threshold)
    if max_detections is not None:
        max_detections = require_positive_int("max_detections", max_detections)
    pred = require_float("pred", pred)
    require_finite("pred", pred)
    decoded = decode_predictions(pred.detach(), S, B, C, wh=wh, scoring=scoring)  # each [N, K, ...]
    detections = []
    for boxes, scores, labels in zip(decoded.boxes, decoded.scores, decoded.labels):
        confident = scores > score_threshold
        boxes, scores, labels = boxes[confident], scores[confident], labels[confident]
        kept = batched_nms(boxes, scores, labels, iou_threshold)[:max_detections]
        detections.append({"boxes": boxes[kept], "scores": scores[kept], "labels": labels[kept]})
    return detections
