"""Tests of yolo_lesson.metrics: NMS, matching, precision-recall, AP, mAP, and decoding to
detections.

Expected values are worked out by hand in the comments; NMS, AP and mAP are compared with
independent plain-Python references (lists and floats, no torch) on random inputs."""

from __future__ import annotations

import random

import pytest
import torch

from yolo_lesson import metrics
from yolo_lesson.boxes import box_iou, iou
from yolo_lesson.metrics import (
    MeanAP,
    average_precision,
    average_precision_from_scores,
    batched_nms,
    detections_from_predictions,
    match_detections,
    mean_average_precision,
    nms,
    precision_recall_curve,
)


def T(*rows, dtype=torch.float64):
    return torch.tensor(rows, dtype=dtype)


def L(*values):
    return torch.tensor(values, dtype=torch.long)


def random_boxes(n, rng):
    """``n`` xyxy boxes (lists of floats) crowded into the unit square so that many overlap."""
    boxes = []
    for _ in range(n):
        cx, cy = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
        w, h = rng.uniform(0.05, 0.5), rng.uniform(0.05, 0.5)
        boxes.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    return boxes


# ---------------------------------------------------------------- plain-Python references


def py_iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def py_nms(boxes, scores, threshold, labels=None):
    labels = labels or [0] * len(boxes)
    ranking = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    kept = []
    for i in ranking:
        if all(labels[i] != labels[j] or py_iou(boxes[i], boxes[j]) <= threshold for j in kept):
            kept.append(i)
    return kept


def py_ap(scores, hits, num_gt, interpolation):
    ranking = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    precision, recall, tp = [], [], 0
    for k, i in enumerate(ranking, start=1):
        tp += hits[i]
        precision.append(tp / k)
        recall.append(tp / num_gt)

    def envelope(r):
        reachable = [p for p, q in zip(precision, recall) if q >= r]
        return max(reachable) if reachable else 0.0

    if interpolation == "voc_all":
        previous, area = 0.0, 0.0
        for r in recall:
            area += (r - previous) * envelope(r)
            previous = r
        return area
    return sum(envelope(j / 100) for j in range(101)) / 101


def py_map(preds, targets, threshold, interpolation):
    """Matching written out as the COCO loop: best still-unmatched ground truth, IoU >= t."""
    per_class = {}
    classes = sorted({c for t in targets for c in t["labels"]})
    for c in classes:
        scores, hits, num_gt = [], [], 0
        for p, t in zip(preds, targets):
            gts = [b for b, l in zip(t["boxes"], t["labels"]) if l == c]
            num_gt += len(gts)
            dets = [(s, b) for s, b, l in zip(p["scores"], p["boxes"], p["labels"]) if l == c]
            used = [False] * len(gts)
            order = sorted(range(len(dets)), key=lambda i: (-dets[i][0], i))
            image_hits = [False] * len(dets)
            for i in order:
                best, best_iou = None, threshold
                for g, gt in enumerate(gts):
                    value = py_iou(dets[i][1], gt)
                    if not used[g] and value >= best_iou and (best is None or value > best_iou):
                        best, best_iou = g, value
                if best is not None:
                    used[best] = True
                    image_hits[i] = True
            scores += [s for s, _ in dets]
            hits += image_hits
        per_class[c] = py_ap(scores, hits, num_gt, interpolation)
    return (sum(per_class.values()) / len(per_class) if per_class else 0.0), per_class


def as_tensors(items):
    out = []
    for item in items:
        entry = {"boxes": torch.tensor(item["boxes"], dtype=torch.float64).reshape(-1, 4),
                 "labels": torch.tensor(item["labels"], dtype=torch.long)}
        if "scores" in item:
            entry["scores"] = torch.tensor(item["scores"], dtype=torch.float64)
        out.append(entry)
    return out


# ---------------------------------------------------------------- NMS: hand cases


def test_nms_two_overlapping_boxes():
    # Unit squares shifted by 0.25: overlap 0.75, union 1.25, IoU 0.6.
    boxes = T([0.0, 0.0, 1.0, 1.0], [0.25, 0.0, 1.25, 1.0], [3.0, 3.0, 4.0, 4.0])
    scores = T(0.8, 0.9, 0.1)
    # Rank: 1 (0.9), 0 (0.8), 2 (0.1). Box 1 is kept; box 0 overlaps it by 0.6 > 0.5 and goes;
    # box 2 is far away and stays.
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    # At 0.7, IoU 0.6 is not enough to suppress: all kept, highest score first.
    assert nms(boxes, scores, 0.7).tolist() == [1, 0, 2]
    # IoU exactly at the threshold does not suppress (the rule is IoU > threshold).
    assert nms(boxes[:2], scores[:2], 0.6).tolist() == [1, 0]


def test_nms_ties_rank_lower_index_first():
    # Three identical boxes with the same score: the first one wins, the others are duplicates.
    boxes = T([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0])
    assert nms(boxes, T(0.5, 0.5, 0.5), 0.5).tolist() == [0]
    # With no suppression (threshold 1, IoU is never > 1) the order is the index order.
    assert nms(boxes, T(0.5, 0.5, 0.5), 1.0).tolist() == [0, 1, 2]


def test_nms_suppressed_box_does_not_suppress():
    # A chain: A overlaps B (IoU 0.6), B overlaps C (IoU 0.6), A and C overlap less
    # (shift 0.5: overlap 0.5, union 1.5, IoU 1/3). Scores A > B > C. B is suppressed by A and,
    # being suppressed, cannot remove C: the answer is [A, C], not [A].
    boxes = T([0.0, 0.0, 1.0, 1.0], [0.25, 0.0, 1.25, 1.0], [0.5, 0.0, 1.5, 1.0])
    assert nms(boxes, T(0.9, 0.8, 0.7), 0.5).tolist() == [0, 2]


def test_nms_empty_and_single():
    kept = nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert kept.dtype == torch.long and kept.shape == (0,)
    assert nms(T([0.0, 0.0, 1.0, 1.0]), T(0.3), 0.5).tolist() == [0]
    kept = batched_nms(torch.zeros(0, 4), torch.zeros(0), L(), 0.5)
    assert kept.dtype == torch.long and kept.shape == (0,)


def test_batched_nms_classes_do_not_suppress_each_other():
    # The same box twice: as class 0 and class 1 both survive; with one class only the better.
    boxes = T([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [0.1, 0.0, 1.1, 1.0])
    scores = T(0.6, 0.9, 0.7)
    # Box 2 (class 0, 0.7) overlaps box 0 (class 0, 0.6) by 0.9/1.1 = 0.82: box 0 goes.
    # Box 1 (class 1) is alone in its class.
    assert batched_nms(boxes, scores, L(0, 1, 0), 0.5).tolist() == [1, 2]
    assert nms(boxes, scores, 0.5).tolist() == [1]


# ---------------------------------------------------------------- NMS: random vs reference


@pytest.mark.parametrize("seed", range(20))
def test_nms_matches_reference(seed):
    rng = random.Random(seed)
    n = rng.randint(0, 40)
    boxes = random_boxes(n, rng)
    # Scores on a coarse grid half the time, so that ties occur and the tie rule is exercised.
    coarse = seed % 2 == 0
    scores = [round(rng.random(), 1) if coarse else rng.random() for _ in range(n)]
    threshold = rng.choice([0.0, 0.3, 0.5, 0.7])
    kept = nms(torch.tensor(boxes, dtype=torch.float64).reshape(-1, 4),
               torch.tensor(scores, dtype=torch.float64), threshold)
    assert kept.tolist() == py_nms(boxes, scores, threshold)


@pytest.mark.parametrize("seed", range(20))
def test_batched_nms_matches_reference(seed):
    rng = random.Random(100 + seed)
    n = rng.randint(0, 40)
    boxes = random_boxes(n, rng)
    scores = [round(rng.random(), 1) if seed % 2 else rng.random() for _ in range(n)]
    labels = [rng.randrange(3) for _ in range(n)]
    kept = batched_nms(torch.tensor(boxes).reshape(-1, 4), torch.tensor(scores),
                       torch.tensor(labels, dtype=torch.long), 0.4)
    assert kept.tolist() == py_nms(boxes, scores, 0.4, labels)


# ---------------------------------------------------------------- NMS at scale
# The package resolves NMS in blocks of ranked boxes (metrics.NMS_BLOCK): the tests shrink the
# block so that small inputs cross many block borders, and compare with the one-at-a-time loop.


def test_the_overlap_test_is_box_iou_to_the_last_bit():
    gen = torch.Generator().manual_seed(3)
    for dtype in (torch.float16, torch.float32, torch.float64):
        xy = torch.rand(300, 2, generator=gen) * 100
        boxes = torch.cat((xy, xy + torch.rand(300, 2, generator=gen) * 30), 1).to(dtype)
        boxes[:5, 2:] = boxes[:5, :2]  # points: an empty union
        iou = box_iou(boxes, boxes)
        for threshold in (0.0, 0.3, 0.5, 0.7):
            assert torch.equal(metrics._overlaps(boxes, boxes, threshold), iou > threshold)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("block", [1, 3, 7])
def test_nms_in_small_blocks_matches_reference(seed, block, monkeypatch):
    monkeypatch.setattr(metrics, "NMS_BLOCK", block)
    rng = random.Random(500 + seed)
    n = rng.randint(0, 60)
    boxes = random_boxes(n, rng)
    scores = [round(rng.random(), 1) if seed % 2 else rng.random() for _ in range(n)]
    labels = [rng.randrange(3) for _ in range(n)]
    threshold = rng.choice([0.0, 0.3, 0.5, 0.7])
    b, s = torch.tensor(boxes, dtype=torch.float64).reshape(-1, 4), torch.tensor(scores, dtype=torch.float64)
    assert nms(b, s, threshold).tolist() == py_nms(boxes, scores, threshold)
    assert batched_nms(b, s, torch.tensor(labels, dtype=torch.long), threshold).tolist() == py_nms(
        boxes, scores, threshold, labels
    )


def test_nms_on_a_chain_where_each_box_suppresses_the_next(monkeypatch):
    # Boxes sliding by 0.1 of their width: IoU 0.9 / 1.1 = 0.82 between neighbours, so the
    # greedy answer alternates (keep, drop, keep, ...), the deepest case for the block's settling.
    monkeypatch.setattr(metrics, "NMS_BLOCK", 16)
    boxes = [[0.1 * i, 0.0, 0.1 * i + 1, 1.0] for i in range(40)]
    scores = [1 - i / 100 for i in range(40)]
    kept = nms(torch.tensor(boxes), torch.tensor(scores), 0.7).tolist()
    assert kept == py_nms(boxes, scores, 0.7)
    assert kept[:3] == [0, 2, 4]  # 0 and 2 overlap by 0.8 / 1.2 = 0.67 <= 0.7: both kept


def _full_matrix_nms(boxes, scores, threshold):
    """The package's NMS before it went to blocks: the K × K IoU matrix walked in Python."""
    order = torch.sort(scores, descending=True, stable=True).indices
    overlap = box_iou(boxes[order], boxes[order])
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    kept = []
    for i in range(len(order)):
        if not suppressed[i]:
            kept.append(i)
            suppressed |= overlap[i] > threshold
    return order[kept]


def test_nms_at_scale_keeps_what_the_full_matrix_keeps_in_memory_linear_in_k(monkeypatch):
    # 3,000 boxes around 40 objects (jittered copies, as a detector's raw output), pixels.
    gen = torch.Generator().manual_seed(0)
    centres = torch.rand(40, 2, generator=gen) * 600
    pick = torch.randint(0, 40, (3000,), generator=gen)
    xy = centres[pick] + torch.randn(3000, 2, generator=gen) * 8
    wh = torch.rand(3000, 2, generator=gen) * 60 + 20
    boxes, scores = torch.cat((xy - wh / 2, xy + wh / 2), 1), torch.rand(3000, generator=gen)
    labels = torch.randint(0, 3, (3000,), generator=gen)
    largest = []

    overlaps = metrics._overlaps

    def recording_overlaps(a, b, threshold):  # every pairwise matrix NMS builds goes through it
        largest.append(a.shape[0] * b.shape[0])
        return overlaps(a, b, threshold)

    monkeypatch.setattr(metrics, "_overlaps", recording_overlaps)
    for threshold in (0.3, 0.5, 0.7):
        assert torch.equal(nms(boxes, scores, threshold), _full_matrix_nms(boxes, scores, threshold))
    # class-aware: each class alone through the reference, merged by rank
    kept = batched_nms(boxes, scores, labels, 0.5)
    per_class = torch.cat([torch.nonzero(labels == c)[:, 0][_full_matrix_nms(boxes[labels == c], scores[labels == c], 0.5)] for c in range(3)])
    assert sorted(kept.tolist()) == sorted(per_class.tolist())
    assert torch.equal(scores[kept], scores[kept].sort(descending=True, stable=True).values)
    # never a K × K matrix: at most NMS_BLOCK rows against all K boxes
    assert max(largest) <= metrics.NMS_BLOCK * 3000 < 3000 * 3000


def test_nms_does_not_modify_inputs_and_handles_float16():
    boxes = T([0.0, 0.0, 1.0, 1.0], [0.25, 0.0, 1.25, 1.0], dtype=torch.float16)
    scores = T(0.8, 0.9, dtype=torch.float16)
    before = boxes.clone(), scores.clone()
    assert nms(boxes, scores, 0.5).tolist() == [1]
    assert torch.equal(boxes, before[0]) and torch.equal(scores, before[1])


# ---------------------------------------------------------------- matching


def test_match_duplicate_is_false_positive():
    gt = T([0.0, 0.0, 1.0, 1.0])
    # Two detections on the one object (IoU 1 and 0.82); the better-scored one takes it.
    boxes = T([0.1, 0.0, 1.1, 1.0], [0.0, 0.0, 1.0, 1.0])
    assert match_detections(boxes, T(0.9, 0.8), gt).tolist() == [True, False]
    # Swap the scores: now the second detection comes first and wins, whatever its IoU.
    assert match_detections(boxes, T(0.7, 0.8), gt).tolist() == [False, True]


def test_match_takes_best_unmatched_ground_truth():
    # Objects A = [0, 1] and B = [0.4, 1.4] in x (IoU 0.6/1.4 = 0.43 between them).
    gt = T([0.0, 0.0, 1.0, 1.0], [0.4, 0.0, 1.4, 1.0])
    # d0 sits on A exactly. d1 = [0.1, 1.1] in x leans to A: IoU(A) = 0.9/1.1 = 0.82,
    # IoU(B) = 0.7/1.3 = 0.54.
    boxes = T([0.0, 0.0, 1.0, 1.0], [0.1, 0.0, 1.1, 1.0])
    # d0 takes A; d1's best unmatched object is B with 0.54 >= 0.5: a true positive. (PASCAL
    # VOC's rule would look only at A, already taken, and call d1 a false positive.)
    assert match_detections(boxes, T(0.9, 0.8), gt).tolist() == [True, True]
    # At 0.6, 0.54 is not enough: d1 is a false positive.
    assert match_detections(boxes, T(0.9, 0.8), gt, 0.6).tolist() == [True, False]


def test_match_threshold_is_inclusive_and_empty_inputs():
    gt = T([0.0, 0.0, 1.0, 1.0])
    det = T([0.25, 0.0, 1.25, 1.0])  # IoU 0.6 exactly (0.75 / 1.25)
    assert match_detections(det, T(0.5), gt, 0.6).tolist() == [True]
    assert match_detections(torch.zeros(0, 4), torch.zeros(0), gt).shape == (0,)
    assert match_detections(det, T(0.5), torch.zeros(0, 4)).tolist() == [False]


# ---------------------------------------------------------------- precision-recall and AP


def test_pr_curve_and_ap_by_hand_five_detections():
    # Five detections, G = 4 objects; ranked by score the outcomes are TP, FP, TP, FP, TP
    # (the scores are given out of order to exercise the sorting).
    scores = T(0.6, 0.9, 0.5, 0.8, 0.7)  # ranking: 1, 3, 4, 0, 2
    hits = torch.tensor([False, True, True, False, True])  # -> TP FP TP FP TP
    curve = precision_recall_curve(scores, hits, 4)
    # k:         1     2     3     4     5
    # TP_k:      1     1     2     2     3
    # P = TP/k:  1    1/2   2/3   1/2   3/5
    # R = TP/4: .25   .25   .50   .50   .75
    torch.testing.assert_close(curve.precision, T(1, 1 / 2, 2 / 3, 1 / 2, 3 / 5))
    torch.testing.assert_close(curve.recall, T(0.25, 0.25, 0.5, 0.5, 0.75))
    torch.testing.assert_close(curve.scores, T(0.9, 0.8, 0.7, 0.6, 0.5))
    # Envelope (best precision at this recall or beyond): R=.25 -> 1; R=.5 -> max(2/3, 1/2, 3/5)
    # = 2/3; R=.75 -> 3/5.
    # VOC all-point: rectangles at each recall step of 0.25: 0.25 · (1 + 2/3 + 3/5) = 17/30.
    assert average_precision(curve.recall, curve.precision, "voc_all") == pytest.approx(17 / 30)
    # COCO 101-point: levels 0..0.25 (26 levels) -> 1; 0.26..0.50 (25) -> 2/3;
    # 0.51..0.75 (25) -> 3/5; 0.76..1 (25) -> 0 (never reached). (26 + 50/3 + 15) / 101 = 173/303.
    assert average_precision(curve.recall, curve.precision, "coco101") == pytest.approx(173 / 303)
    assert average_precision_from_scores(scores, hits, 4, "voc_all") == pytest.approx(17 / 30)


@pytest.mark.parametrize("interpolation", ["coco101", "voc_all"])
def test_ap_hand_cases(interpolation):
    ap = lambda hits, g: average_precision_from_scores(  # noqa: E731
        T(*[1.0 - 0.1 * k for k in range(len(hits))]), torch.tensor(hits, dtype=torch.bool),
        g, interpolation)
    # Perfect: every detection right, every object found -> P = 1 at every recall: AP = 1.
    assert ap([True, True, True], 3) == pytest.approx(1.0)
    # False positive ranked LAST: full recall is reached at P = 1 before it: AP = 1.
    assert ap([True, False], 1) == pytest.approx(1.0)
    # False positive ranked FIRST: the only TP comes at k = 2 with P = 1/2; the envelope is 1/2
    # for every recall up to 1: AP = 0.5 in both schemes.
    assert ap([False, True], 1) == pytest.approx(0.5)
    # No detection at all: AP = 0. Only false positives: AP = 0.
    assert ap([], 2) == 0.0
    assert ap([False, False], 2) == 0.0


def test_ap_missed_object_differs_between_interpolations():
    # G = 2, one detection, correct: R = 0.5 at P = 1, the second object is never found.
    args = (T(0.9), torch.tensor([True]), 2)
    # VOC: one rectangle 0.5 · 1 = 0.5.
    assert average_precision_from_scores(*args, "voc_all") == pytest.approx(0.5)
    # COCO: levels 0, 0.01, ..., 0.50 (51 of them) reach P = 1, the other 50 get 0: 51/101.
    assert average_precision_from_scores(*args, "coco101") == pytest.approx(51 / 101)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("interpolation", ["coco101", "voc_all"])
def test_ap_matches_reference(seed, interpolation):
    rng = random.Random(seed)
    n = rng.randint(0, 30)
    scores = [round(rng.random(), 1) if seed % 3 == 0 else rng.random() for _ in range(n)]
    hits = [rng.random() < 0.5 for _ in range(n)]
    num_gt = sum(hits) + rng.randint(0 if sum(hits) else 1, 5)
    value = average_precision_from_scores(
        torch.tensor(scores, dtype=torch.float64).reshape(-1),
        torch.tensor(hits, dtype=torch.bool).reshape(-1), num_gt, interpolation)
    assert value == pytest.approx(py_ap(scores, hits, num_gt, interpolation), abs=1e-12)


def test_average_precision_uses_envelope_not_raw_precision():
    # A curve whose precision rises: (R, P) = (0.5, 0.5) then (1.0, 1.0). The envelope at
    # R = 0.5 is the later 1.0, so both schemes give AP = 1 (raw rectangles would give 0.75).
    recall, precision = T(0.5, 1.0), T(0.5, 1.0)
    assert average_precision(recall, precision, "voc_all") == pytest.approx(1.0)
    assert average_precision(recall, precision, "coco101") == pytest.approx(1.0)


# ---------------------------------------------------------------- mAP


def test_map_two_classes_by_hand():
    # Image 0: a cat (class 0) and a dog (class 1). Image 1: one dog.
    targets = as_tensors([
        {"boxes": [[0.0, 0.0, 0.4, 0.4], [0.5, 0.5, 1.0, 1.0]], "labels": [0, 1]},
        {"boxes": [[0.1, 0.1, 0.5, 0.5]], "labels": [1]},
    ])
    preds = as_tensors([
        # the cat found exactly; a dog box far from the dog (FP) with a high score;
        {"boxes": [[0.0, 0.0, 0.4, 0.4], [0.0, 0.6, 0.2, 0.8]], "scores": [0.9, 0.8],
         "labels": [0, 1]},
        # the dog of image 1 found, with a lower score than the false dog.
        {"boxes": [[0.1, 0.1, 0.5, 0.5]], "scores": [0.7], "labels": [1]},
    ])
    # Cat: one TP, one object -> AP 1.
    # Dog, ranked over both images: FP (0.8), TP (0.7); G = 2 (the dog of image 0 is missed).
    # P = (0, 1/2), R = (0, 1/2). Envelope: 1/2 up to R = 1/2.
    # VOC: 0.5 · 0.5 = 0.25 -> mAP (1 + 0.25)/2 = 0.625.
    result = mean_average_precision(preds, targets, interpolation="voc_all")
    assert isinstance(result, MeanAP)
    assert result.per_class == pytest.approx({0: 1.0, 1: 0.25})
    assert result.map == pytest.approx(0.625)
    # COCO: 51 levels (0..0.5) at 1/2 -> 25.5/101; mAP = (1 + 25.5/101)/2.
    result = mean_average_precision(preds, targets)
    assert result.per_class[1] == pytest.approx(25.5 / 101)
    assert result.map == pytest.approx((1 + 25.5 / 101) / 2)


def test_map_duplicates_and_iou_threshold():
    targets = as_tensors([{"boxes": [[0.0, 0.0, 1.0, 1.0]], "labels": [0]}])
    preds = as_tensors([{"boxes": [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]],
                         "scores": [0.9, 0.95], "labels": [0, 0]}])
    # Two copies of a perfect box: the first-ranked one (0.95) matches, the copy is a duplicate
    # ranked after full recall: AP 1 still (as for a false positive ranked last).
    assert mean_average_precision(preds, targets).map == pytest.approx(1.0)
    # A box with IoU 0.6 (shift 0.25) is a match at 0.5, a miss at 0.75: AP 1 then 0.
    shifted = as_tensors([{"boxes": [[0.25, 0.0, 1.25, 1.0]], "scores": [0.9], "labels": [0]}])
    assert mean_average_precision(shifted, targets, iou_threshold=0.5).map == pytest.approx(1.0)
    assert mean_average_precision(shifted, targets, iou_threshold=0.75).map == 0.0


def test_map_class_without_ground_truth_is_left_out():
    targets = as_tensors([{"boxes": [[0.0, 0.0, 1.0, 1.0]], "labels": [0]}])
    # A perfect class-0 detection plus a class-2 detection; class 2 has no ground truth anywhere,
    # so it has no AP and does not enter the mean: mAP = AP_0 = 1.
    preds = as_tensors([{"boxes": [[0.0, 0.0, 1.0, 1.0], [0.5, 0.5, 0.9, 0.9]],
                         "scores": [0.9, 0.99], "labels": [0, 2]}])
    assert mean_average_precision(preds, targets) == MeanAP(1.0, {0: 1.0})


def test_map_empty_predictions_and_empty_targets():
    targets = as_tensors([{"boxes": [[0.0, 0.0, 1.0, 1.0]], "labels": [3]}])
    nothing = [{"boxes": torch.zeros(0, 4), "scores": torch.zeros(0),
                "labels": torch.zeros(0, dtype=torch.long)}]
    # An object no one detected: its class has AP 0 and counts.
    assert mean_average_precision(nothing, targets) == MeanAP(0.0, {3: 0.0})
    # No ground truth at all: nothing to measure, documented as MeanAP(0.0, {}).
    empty_targets = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}]
    preds = as_tensors([{"boxes": [[0.0, 0.0, 1.0, 1.0]], "scores": [0.9], "labels": [0]}])
    assert mean_average_precision(preds, empty_targets) == MeanAP(0.0, {})
    assert mean_average_precision([], []) == MeanAP(0.0, {})


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("interpolation", ["coco101", "voc_all"])
def test_map_matches_reference(seed, interpolation):
    rng = random.Random(seed)
    preds, targets = [], []
    for _ in range(rng.randint(1, 4)):
        gts = random_boxes(rng.randint(0, 5), rng)
        gt_labels = [rng.randrange(3) for _ in gts]
        dets, det_labels = [], []
        for box, label in zip(gts, gt_labels):  # noisy copies, some with a wrong class
            for _ in range(rng.randint(0, 2)):
                dets.append([v + rng.gauss(0, 0.04) for v in box])
                det_labels.append(label if rng.random() < 0.8 else rng.randrange(3))
        extra = random_boxes(rng.randint(0, 3), rng)  # pure false positives
        dets += extra
        det_labels += [rng.randrange(3) for _ in extra]
        scores = [rng.random() for _ in dets]
        preds.append({"boxes": dets, "scores": scores, "labels": det_labels})
        targets.append({"boxes": gts, "labels": gt_labels})
    threshold = rng.choice([0.3, 0.5, 0.7])
    expected_map, expected_per_class = py_map(preds, targets, threshold, interpolation)
    result = mean_average_precision(as_tensors(preds), as_tensors(targets), threshold,
                                    interpolation)
    assert result.per_class.keys() == expected_per_class.keys()
    for c, value in expected_per_class.items():
        assert result.per_class[c] == pytest.approx(value, abs=1e-12)
    assert result.map == pytest.approx(expected_map, abs=1e-12)


# ---------------------------------------------------------------- raw output to detections


def test_detections_from_predictions_by_hand():
    # S = 2, B = 2, C = 2: each cell is (x, y, w, h, conf) × 2 then 2 class scores = 12 numbers.
    pred = torch.zeros(1, 2, 2, 12)
    # Cell (row 0, col 0): both predictors see the same box, centre in the middle of the cell
    # -> cx = (0 + 0.5)/2 = 0.25, cy = 0.25; the outputs 0.4 are roots (the default
    # wh="predicted_sqrt"): w = h = 0.16 -> xyxy (0.17, 0.17, 0.33, 0.33).
    pred[0, 0, 0, :10] = torch.tensor([0.5, 0.5, 0.4, 0.4, 0.9, 0.5, 0.5, 0.4, 0.4, 0.5])
    pred[0, 0, 0, 10:] = torch.tensor([0.2, 0.8])  # class 1 wins with 0.8
    # Cell (row 1, col 1): one box, conf 0.9, class 0 at 0.1 -> score 0.09 (below 0.1).
    pred[0, 1, 1, :5] = torch.tensor([0.5, 0.5, 0.3, 0.3, 0.9])
    pred[0, 1, 1, 10:] = torch.tensor([0.1, 0.0])
    pred.requires_grad_(True)
    (out,) = detections_from_predictions(pred, S=2, B=2, C=2, score_threshold=0.1)
    # Scores conf × class: 0.9·0.8 = 0.72 and 0.5·0.8 = 0.40 for the two identical boxes;
    # NMS keeps the first only; the (1, 1) cell's 0.09 is under the threshold.
    torch.testing.assert_close(out["boxes"], torch.tensor([[0.17, 0.17, 0.33, 0.33]]))
    torch.testing.assert_close(out["scores"], torch.tensor([0.72]))
    assert out["labels"].tolist() == [1]
    assert not out["scores"].requires_grad
    # Without NMS (threshold 1) both boxes stay, best first; with a lower score threshold the
    # third appears last; max_detections keeps the best ones.
    (out,) = detections_from_predictions(pred, S=2, B=2, C=2, score_threshold=0.05,
                                         iou_threshold=1.0)
    torch.testing.assert_close(out["scores"], torch.tensor([0.72, 0.40, 0.09]))
    assert out["labels"].tolist() == [1, 1, 0]
    (out,) = detections_from_predictions(pred, S=2, B=2, C=2, score_threshold=0.05,
                                         iou_threshold=1.0, max_detections=2)
    assert len(out["scores"]) == 2
    # Read as sizes (a tutorial variant), the same outputs draw a 0.4 × 0.4 box.
    (out,) = detections_from_predictions(pred, S=2, B=2, C=2, score_threshold=0.1, wh="linear")
    torch.testing.assert_close(out["boxes"], torch.tensor([[0.05, 0.05, 0.45, 0.45]]))


def ambiguous_class_case():
    """S = 4, B = 1, C = 3, one image with four objects, each in its own cell, each predicted
    with its exact box (roots of the sizes) and confidence 1. Objects 0 and 1 have confident,
    right class scores (0.9 on the true class); objects 2 and 3 are ambiguous: the true class
    scores 0.4, another class 0.6."""
    objects = [  # (cx, cy, w, h, true class, class scores)
        (0.125, 0.125, 0.2, 0.2, 0, (0.9, 0.05, 0.05)),
        (0.625, 0.125, 0.2, 0.16, 1, (0.05, 0.9, 0.05)),
        (0.125, 0.625, 0.16, 0.2, 2, (0.6, 0.0, 0.4)),
        (0.625, 0.625, 0.24, 0.2, 0, (0.4, 0.6, 0.0)),
    ]
    pred = torch.zeros(1, 4, 4, 5 + 3, dtype=torch.float64)
    for cx, cy, w, h, _, scores in objects:
        row, col = int(cy * 4), int(cx * 4)
        pred[0, row, col] = torch.tensor([cx * 4 - col, cy * 4 - row, w**0.5, h**0.5, 1.0, *scores], dtype=torch.float64)
    gt_boxes = torch.tensor([[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] for cx, cy, w, h, _, _ in objects], dtype=torch.float64)
    gt_labels = torch.tensor([o[4] for o in objects])
    return pred, {"boxes": gt_boxes, "labels": gt_labels}


def recall(detections, target, iou_threshold=0.5):
    """The fraction of ground-truth objects found by a detection of their class (one image)."""
    found = 0
    for box, label in zip(target["boxes"], target["labels"]):
        same = detections["labels"] == label
        if same.any():
            overlap = iou(detections["boxes"][same], box[None]).max()
            found += int(overlap >= iou_threshold)
    return found / len(target["labels"])


def test_every_class_scoring_finds_objects_whose_class_is_second_best():
    """Best-class scoring labels objects 2 and 3 with their wrong, top class and never emits
    the true one: recall 2/4. The paper's scoring (every class, per-class NMS) emits each box
    once per class, the true class too (score 1 · 0.4): recall 4/4, and mAP@0.5 rises."""
    pred, target = ambiguous_class_case()
    best = detections_from_predictions(pred, S=4, B=1, C=3, score_threshold=0.05)
    every = detections_from_predictions(pred, S=4, B=1, C=3, score_threshold=0.05, scoring="every_class")
    assert recall(best[0], target) == 0.5
    assert recall(every[0], target) == 1.0
    # Best class: one detection per object (4); every class: the class scores above 0.05
    # (0.05 itself is not above it): 1 + 1 + 2 + 2 = 6.
    assert len(best[0]["scores"]) == 4 and len(every[0]["scores"]) == 6
    best_map = mean_average_precision(best, [target])
    every_map = mean_average_precision(every, [target])
    # Best class (COCO 101-point AP): class 0 has the detections object 0 (0.9, true) and
    # object 2's box (0.6, false): recall 1/2 at precision 1, AP_0 =
    # 51/101; class 1: object 1 (0.9, true) then object 3's box (0.6, false): AP_1 = 1; class 2
    # has no detection: AP_2 = 0. mAP = (51/101 + 1 + 0) / 3 = 0.5017.
    assert best_map.per_class == pytest.approx({0: 51 / 101, 1: 1.0, 2: 0.0})
    # Every class: class 0 ranks object 0 (0.9, true), object 2's box (0.6, false), object 3
    # (0.4, true): precision 1 up to recall 0.5, 2/3 up to 1: AP_0 = (51 + 50 · 2/3) / 101;
    # class 2's only detection (0.4) finds its object: AP_2 = 1. mAP = 0.9450.
    assert every_map.per_class == pytest.approx({0: (51 + 50 * 2 / 3) / 101, 1: 1.0, 2: 1.0})


def test_detections_from_predictions_batch_and_empty():
    pred = torch.zeros(3, 7, 7, 30)  # all confidences 0: nothing above any threshold
    out = detections_from_predictions(pred)
    assert len(out) == 3
    assert all(d["boxes"].shape == (0, 4) and d["labels"].dtype == torch.long for d in out)
    # The output feeds mean_average_precision directly.
    targets = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}] * 3
    assert mean_average_precision(out, targets) == MeanAP(0.0, {})


# ---------------------------------------------------------------- bad inputs


def test_bad_inputs_raise_value_errors_naming_the_argument():
    boxes, scores = T([0.0, 0.0, 1.0, 1.0]), T(0.5)
    with pytest.raises(ValueError, match=r"boxes must be \[K, 4\].*got \[1, 5\]"):
        nms(torch.zeros(1, 5), scores, 0.5)
    with pytest.raises(ValueError, match=r"scores must be \[K\] with K = 1.*got \[2\]"):
        nms(boxes, T(0.5, 0.4), 0.5)
    with pytest.raises(ValueError, match="iou_threshold must be a number >= 0, got -0.1"):
        nms(boxes, scores, -0.1)
    with pytest.raises(ValueError, match="scores must be finite"):
        nms(boxes, T(float("nan")), 0.5)
    with pytest.raises(ValueError, match="labels must be an integer tensor"):
        batched_nms(boxes, scores, torch.tensor([0.0]), 0.5)
    with pytest.raises(ValueError, match=r"labels must be \[K\] with K = 1"):
        batched_nms(boxes, scores, L(0, 1), 0.5)
    with pytest.raises(ValueError, match="labels must be class indices >= 0, got a minimum of -1"):
        batched_nms(boxes, scores, L(-1), 0.5)
    with pytest.raises(ValueError, match=r"gt_boxes must be \[G, 4\]"):
        match_detections(boxes, scores, torch.zeros(4))


def test_bad_ap_inputs():
    with pytest.raises(ValueError, match="interpolation must be one of 'coco101', 'voc_all', got 'voc11'"):
        average_precision(T(0.5), T(1.0), "voc11")
    with pytest.raises(ValueError, match=r"recall and precision must be 1-D of the same length"):
        average_precision(T(0.5, 1.0), T(1.0), "voc_all")
    with pytest.raises(ValueError, match="recall must be non-decreasing"):
        average_precision(T(0.5, 0.25), T(1.0, 1.0))
    with pytest.raises(ValueError, match=r"precision must lie in \[0, 1\]"):
        average_precision(T(0.5), T(1.5))
    with pytest.raises(ValueError, match="is_true_positive must be a bool tensor"):
        precision_recall_curve(T(0.9), torch.tensor([1]), 1)
    with pytest.raises(ValueError, match="num_ground_truth must be a positive int, got 0"):
        precision_recall_curve(T(0.9), torch.tensor([False]), 0)
    with pytest.raises(ValueError, match=r"num_ground_truth must be at least the number of true"):
        precision_recall_curve(T(0.9, 0.8), torch.tensor([True, True]), 1)


def test_bad_map_inputs():
    good_pred = {"boxes": T([0.0, 0.0, 1.0, 1.0]), "scores": T(0.9), "labels": L(0)}
    good_target = {"boxes": T([0.0, 0.0, 1.0, 1.0]), "labels": L(0)}
    with pytest.raises(ValueError, match="preds and targets must list the same number of images, got 1 and 2"):
        mean_average_precision([good_pred], [good_target, good_target])
    with pytest.raises(ValueError, match=r"preds\[0\] must have keys .*missing \('scores',\)"):
        mean_average_precision([{"boxes": good_pred["boxes"], "labels": L(0)}], [good_target])
    with pytest.raises(ValueError, match=r"targets\[0\]\['boxes'\] must be \[G, 4\] \(xyxy\), got \[4\]"):
        mean_average_precision([good_pred], [{"boxes": torch.zeros(4), "labels": L(0)}])
    with pytest.raises(ValueError, match=r"preds\[0\]\['scores'\] must be \[K\] with K = 1"):
        mean_average_precision([dict(good_pred, scores=T(0.9, 0.8))], [good_target])
    with pytest.raises(ValueError, match="preds must be a list of per-image dicts"):
        mean_average_precision(good_pred, [good_target])
    with pytest.raises(ValueError, match="iou_threshold must be a number >= 0"):
        mean_average_precision([good_pred], [good_target], iou_threshold=-0.5)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        mean_average_precision([good_pred], [good_target], interpolation="11point")


def test_bad_detection_inputs():
    with pytest.raises(ValueError, match=r"pred must be \[N, S, S, B\*5\+C\]"):
        detections_from_predictions(torch.zeros(1, 7, 7, 29))
    with pytest.raises(ValueError, match="pred must be finite"):
        detections_from_predictions(torch.full((1, 7, 7, 30), float("nan")))
    with pytest.raises(ValueError, match="score_threshold must be a number >= 0"):
        detections_from_predictions(torch.zeros(1, 7, 7, 30), score_threshold=-1)
    with pytest.raises(ValueError, match="max_detections must be a positive int, got 0"):
        detections_from_predictions(torch.zeros(1, 7, 7, 30), max_detections=0)
