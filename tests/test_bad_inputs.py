"""The bad-input catalogue: for every public function, the malformed inputs it must reject and
what it says. Each case is ``(call, fragments)``: calling it must raise a ``ValueError`` whose
message contains every fragment; together the fragments name the argument, what was expected
and what was received (``got ...``), as yolo_lesson/_checks.py promises.

Sections follow the package's modules; a new module adds its own section, a dict of the same
form, and lists it in ``CATALOGUE``. A call that takes one parameter is given pytest's
``tmp_path`` (for cases that write files: label folders, checkpoints).

``KNOWN_GAPS`` holds inputs that a function does not reject yet (it returns silently, or raises
something other than a ValueError naming the argument); they run as strict xfails, so fixing
one makes its case XPASS and it then moves into its section. ``yolo_lesson.check`` is not in
the table: its checkers report a bad argument instead of raising (tested at the end).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch

from yolo_lesson import article_losses, boxes, check, data, grid, loss, metrics, model, modern, train

NAN, INF = float("nan"), float("inf")

# Valid inputs that each case breaks in one way (S=7, B=2, C=20: pred [2, 7, 7, 30]).
BOX = torch.tensor([[0.1, 0.2, 0.5, 0.6]])  # [1, 4] xyxy
CXCYWH = torch.tensor([[0.3, 0.6, 0.2, 0.4], [0.7, 0.2, 0.1, 0.1]])  # [2, 4], two objects
LABELS = torch.tensor([1, 3])
PRED = torch.zeros(2, 7, 7, 30)
TARGET = grid.encode_batch([CXCYWH, CXCYWH[:1]], [LABELS, LABELS[:1]])  # [2, 7, 7, 25]
ARTICLE = torch.zeros(2, 7, 7, 25)  # the article's layout, B = 1: [N, S, S, 5 + C]


def changed(t: torch.Tensor, index, value) -> torch.Tensor:
    t = t.clone()
    t[index] = value
    return t


# The first object (0.3, 0.6) sits in row floor(0.6·7) = 4, col floor(0.3·7) = 2.
OBJECT_CELL = (0, 4, 2)

BOXES = {
    "iou: a wrong last dim": (lambda: boxes.iou(torch.zeros(3, 5), BOX), ["a must be [..., 4] (xyxy)", "got [3, 5]"]),
    "iou: b a scalar": (lambda: boxes.iou(BOX, torch.tensor(1.0)), ["b must be [..., 4]", "got []"]),
    "iou: integer boxes": (lambda: boxes.iou(BOX.long(), BOX), ["a must be a floating-point tensor", "got dtype torch.int64"]),
    "iou: a list": (lambda: boxes.iou([[0.0, 0.0, 1.0, 1.0]], BOX), ["a must be a torch.Tensor", "got list"]),
    "iou: batch sizes": (lambda: boxes.iou(torch.zeros(3, 4), torch.zeros(2, 4)), ["a and b must have broadcastable", "a [3, 4] and b [2, 4]"]),
    "giou: batch sizes": (lambda: boxes.giou(torch.zeros(3, 4), torch.zeros(2, 4)), ["a and b must have broadcastable", "got a [3, 4]"]),
    "diou: bool boxes": (lambda: boxes.diou(BOX, BOX.bool()), ["b must be a floating-point tensor", "got dtype torch.bool"]),
    "ciou: wrong last dim": (lambda: boxes.ciou(BOX, torch.zeros(1, 2)), ["b must be [..., 4] (xyxy)", "got [1, 2]"]),
    "box_iou: rank 3": (lambda: boxes.box_iou(torch.zeros(2, 3, 4), BOX), ["boxes1 must be [N, 4] (xyxy)", "got [2, 3, 4]"]),
    "box_iou: rank 1": (lambda: boxes.box_iou(BOX, torch.zeros(4)), ["boxes2 must be [N, 4] (xyxy)", "got [4]"]),
    "box_area: wrong last dim": (lambda: boxes.box_area(torch.zeros(2, 3)), ["boxes must be [..., 4] (xyxy)", "got [2, 3]"]),
    "cxcywh_to_xyxy: integer": (lambda: boxes.cxcywh_to_xyxy(torch.ones(2, 4, dtype=torch.int32)), ["boxes must be a floating-point tensor", "got dtype torch.int32"]),
    "xyxy_to_cxcywh: wrong last dim": (lambda: boxes.xyxy_to_cxcywh(torch.zeros(5)), ["boxes must be [..., 4] (xyxy)", "got [5]"]),
}

GRID = {
    "encode_targets: boxes rank 1": (lambda: grid.encode_targets(torch.rand(4), LABELS[:1]), ["boxes must be [K, 4] (cxcywh in [0, 1])", "got [4]"]),
    "encode_targets: boxes last dim": (lambda: grid.encode_targets(torch.rand(2, 5), LABELS), ["boxes must be [K, 4]", "got [2, 5]"]),
    "encode_targets: NaN box": (lambda: grid.encode_targets(changed(CXCYWH, (0, 1), NAN), LABELS), ["boxes must be finite", "got 1 NaN or Inf"]),
    "encode_targets: Inf size": (lambda: grid.encode_targets(changed(CXCYWH, (1, 2), INF), LABELS), ["boxes must be finite", "got 1 NaN or Inf"]),
    "encode_targets: centre outside": (lambda: grid.encode_targets(changed(CXCYWH, (0, 0), 1.2), LABELS), ["boxes centres (cx, cy) must lie in [0, 1]", "got values from"]),
    "encode_targets: inverted (negative) size": (lambda: grid.encode_targets(changed(CXCYWH, (0, 3), -0.2), LABELS), ["boxes sizes (w, h) must lie in [0, 1] (no negative size)", "-0.2"]),
    "encode_targets: size over 1": (lambda: grid.encode_targets(changed(CXCYWH, (0, 2), 1.5), LABELS), ["boxes sizes (w, h) must lie in [0, 1]", "to 1.5"]),
    "encode_targets: integer boxes": (lambda: grid.encode_targets(CXCYWH.long(), LABELS), ["boxes must be a floating-point tensor", "got dtype torch.int64"]),
    "encode_targets: label too large": (lambda: grid.encode_targets(CXCYWH, torch.tensor([1, 20])), ["labels must lie in [0, C) = [0, 20)", "from 1 to 20"]),
    "encode_targets: negative label": (lambda: grid.encode_targets(CXCYWH, torch.tensor([-1, 0])), ["labels must lie in [0, C)", "from -1 to 0"]),
    "encode_targets: float labels": (lambda: grid.encode_targets(CXCYWH, LABELS.float()), ["labels must be an integer tensor", "got dtype torch.float32"]),
    "encode_targets: labels count": (lambda: grid.encode_targets(CXCYWH, torch.tensor([1, 2, 3])), ["labels must be [K] with K = 2", "got [3]"]),
    "encode_targets: S zero": (lambda: grid.encode_targets(CXCYWH, LABELS, S=0), ["S must be a positive int", "got 0"]),
    "encode_targets: C a float": (lambda: grid.encode_targets(CXCYWH, LABELS, C=20.0), ["C must be a positive int", "got 20.0"]),
    "assign_cells: NaN centre": (lambda: grid.assign_cells(changed(CXCYWH, (1, 0), NAN), 7), ["boxes must be finite", "got 1 NaN"]),
    "encode_batch: image counts": (lambda: grid.encode_batch([CXCYWH, CXCYWH], [LABELS]), ["boxes and labels must list the same number of images", "got 2 and 1"]),
    "encode_batch: a single tensor": (lambda: grid.encode_batch(CXCYWH, [LABELS]), ["boxes and labels must be sequences of per-image tensors", "got a single tensor"]),
    "encode_batch: no image": (lambda: grid.encode_batch([], []), ["boxes must list at least one image", "got an empty sequence"]),
    "cells_to_image: rank 4": (lambda: grid.cells_to_image(torch.zeros(1, 7, 7, 4)), ["boxes must be [N, S, S, B, 4]", "got [1, 7, 7, 4]"]),
    "decode_predictions: B inconsistent": (lambda: grid.decode_predictions(PRED, B=3), ["pred must be [N, S, S, B*5+C] = [N, 7, 7, 35] (S=7, B=3, C=20)", "got [2, 7, 7, 30]"]),
    "decode_predictions: rank 3": (lambda: grid.decode_predictions(PRED[0]), ["pred must be [N, S, S, B*5+C]", "got [7, 7, 30]"]),
    "decode_predictions: unknown wh": (lambda: grid.decode_predictions(PRED, wh=None), ["wh must be one of 'predicted_sqrt'", "got None"]),
    "decode_predictions: unknown scoring": (lambda: grid.decode_predictions(PRED, scoring="all"), ["scoring must be one of 'best_class', 'every_class'", "got 'all'"]),
    "size_from_output: unknown wh": (lambda: grid.size_from_output(torch.ones(2), "root"), ["wh must be one of 'predicted_sqrt'", "got 'root'"]),
    "check_target: S zero": (lambda: grid.check_target(TARGET, S=0, C=20), ["S must be a positive int", "got 0"]),
}

LOSS = {
    "yolo_v1_loss: pred last dim": (lambda: loss.yolo_v1_loss(torch.zeros(2, 7, 7, 29), TARGET), ["pred must be [N, S, S, B*5+C] = [N, 7, 7, 30]", "got [2, 7, 7, 29]"]),
    "yolo_v1_loss: pred rank 3": (lambda: loss.yolo_v1_loss(PRED[0], TARGET), ["pred must be [N, S, S, B*5+C]", "got [7, 7, 30]"]),
    "yolo_v1_loss: integer pred": (lambda: loss.yolo_v1_loss(PRED.long(), TARGET), ["pred must be a floating-point tensor", "got dtype torch.int64"]),
    "yolo_v1_loss: empty batch": (lambda: loss.yolo_v1_loss(PRED[:0], TARGET[:0]), ["pred must hold at least one image", "got N = 0"]),
    "yolo_v1_loss: batch sizes": (lambda: loss.yolo_v1_loss(PRED, TARGET[:1]), ["target must be [N, S, S, 5+C] = [2, 7, 7, 25]", "N from pred", "got [1, 7, 7, 25]"]),
    "yolo_v1_loss: C inconsistent": (lambda: loss.yolo_v1_loss(PRED, TARGET, C=10), ["pred must be", "[N, 7, 7, 20] (S=7, B=2, C=10)", "got [2, 7, 7, 30]"]),
    "yolo_v1_loss: B inconsistent": (lambda: loss.yolo_v1_loss(PRED, TARGET, B=1), ["pred must be", "[N, 7, 7, 25] (S=7, B=1, C=20)", "got [2, 7, 7, 30]"]),
    "yolo_v1_loss: S inconsistent": (lambda: loss.yolo_v1_loss(PRED, TARGET, S=13), ["pred must be", "[N, 13, 13, 30]", "got [2, 7, 7, 30]"]),
    "yolo_v1_loss: NaN in target": (lambda: loss.yolo_v1_loss(PRED, changed(TARGET, OBJECT_CELL + (0,), NAN)), ["target must be finite", "got 1 NaN or Inf"]),
    "yolo_v1_loss: Inf in target classes": (lambda: loss.yolo_v1_loss(PRED, changed(TARGET, OBJECT_CELL + (7,), INF)), ["target must be finite", "got 1 NaN or Inf"]),
    "yolo_v1_loss: obj not 0 or 1": (lambda: loss.yolo_v1_loss(PRED, changed(TARGET, OBJECT_CELL + (4,), 0.5)), ["target[..., 4] (obj) must be 0 or 1", "got other values"]),
    "yolo_v1_loss: target box outside": (lambda: loss.yolo_v1_loss(PRED, changed(TARGET, OBJECT_CELL + (2,), -0.25)), ["target[..., :4] (x, y, w, h) must lie in [0, 1]", "got values from -0.25"]),
    "yolo_v1_loss: integer target": (lambda: loss.yolo_v1_loss(PRED, TARGET.long()), ["target must be a floating-point tensor", "got dtype torch.int64"]),
    "yolo_v1_loss: negative lambda": (lambda: loss.yolo_v1_loss(PRED, TARGET, lambda_coord=-1.0), ["lambda_coord must be a number >= 0", "got -1.0"]),
    "yolo_v1_loss: infinite lambda": (lambda: loss.yolo_v1_loss(PRED, TARGET, lambda_noobj=INF), ["lambda_noobj must be a finite number >= 0", "got inf"]),
    "yolo_v1_loss: unknown option": (lambda: loss.yolo_v1_loss(PRED, TARGET, conf_target="IoU"), ["conf_target must be one of 'iou', 'one'", "got 'IoU'"]),
    "responsibility: batch sizes": (lambda: loss.responsibility(PRED[:1], TARGET), ["target must be [N, S, S, 5+C] = [1, 7, 7, 25]", "got [2, 7, 7, 25]"]),
    "YoloV1Loss: B zero": (lambda: loss.YoloV1Loss(B=0), ["B must be a positive int", "got 0"]),
    "YoloV1Loss: forward checks too": (lambda: loss.YoloV1Loss(C=3)(PRED, TARGET), ["pred must be", "(S=7, B=2, C=3)", "got [2, 7, 7, 30]"]),
    "yolo_v1_loss: unknown wh": (lambda: loss.yolo_v1_loss(PRED, TARGET, wh="sqrt"), ["wh must be one of 'predicted_sqrt', 'signed_sqrt', 'clamped_sqrt', 'linear'", "got 'sqrt'"]),
    "yolo_v1_loss: unknown tie_break": (lambda: loss.yolo_v1_loss(PRED, TARGET, tie_break="random"), ["tie_break must be one of 'rmse', 'first'", "got 'random'"]),
    "yolo_v1_loss: unknown reduction": (lambda: loss.yolo_v1_loss(PRED, TARGET, reduction="mean"), ["reduction must be one of 'batchmean', 'sum'", "got 'mean'"]),
    "responsibility: unknown tie_break": (lambda: loss.responsibility(PRED, TARGET, tie_break=0), ["tie_break must be one of 'rmse', 'first'", "got 0"]),
    "responsibility: unknown wh": (lambda: loss.responsibility(PRED, TARGET, wh="root"), ["wh must be one of 'predicted_sqrt'", "got 'root'"]),
    "YoloV1Loss: unknown reduction": (lambda: loss.YoloV1Loss(reduction="sum_over_batch"), ["reduction must be one of 'batchmean', 'sum'", "got 'sum_over_batch'"]),
    "YoloV1Loss: unknown tie_break": (lambda: loss.YoloV1Loss(tie_break="last"), ["tie_break must be one of 'rmse', 'first'", "got 'last'"]),
    "wh_transform: unknown mode": (lambda: loss.wh_transform(torch.ones(3), "sqrt"), ["mode must be one of 'predicted_sqrt', 'signed_sqrt', 'clamped_sqrt', 'linear'", "got 'sqrt'"]),
    "wh_transform: unknown role": (lambda: loss.wh_transform(torch.ones(3), role="truth"), ["role must be one of 'prediction', 'target'", "got 'truth'"]),
    "wh_transform: negative target size": (lambda: loss.wh_transform(torch.tensor([0.2, -0.1]), role="target"), ["wh must be >= 0 for role='target'", "got a minimum of -0.1"]),
    "wh_transform: integer widths": (lambda: loss.wh_transform(torch.ones(3, dtype=torch.long)), ["wh must be a floating-point tensor", "got dtype torch.int64"]),
}

ARTICLE_LOSSES = {
    "article_iou: wrong last dim": (lambda: article_losses.article_iou(torch.zeros(2, 5), torch.zeros(2, 5)), ["boxes1 must be [..., 4] (x, y, w, h)", "got [2, 5]"]),
    "article_iou: shapes differ": (lambda: article_losses.article_iou(torch.zeros(2, 4), torch.zeros(3, 4)), ["boxes2 must have the same shape as boxes1, [2, 4]", "got [3, 4]"]),
    "article_loss_mse: rank 3": (lambda: article_losses.article_loss_mse(ARTICLE[0], ARTICLE[0]), ["pred must be [N, S, S, 5 + C] with C >= 1", "got [7, 7, 25]"]),
    "article_loss_smoothl1_bce: batch sizes": (lambda: article_losses.article_loss_smoothl1_bce(ARTICLE, ARTICLE[:1]), ["target must have the same shape as pred, [2, 7, 7, 25]", "got [1, 7, 7, 25]"]),
    "article_loss_iou_gate: integer pred": (lambda: article_losses.article_loss_iou_gate(ARTICLE.long(), ARTICLE), ["pred must be a floating-point tensor", "got dtype torch.int64"]),
}

# ---------------------------------------------------------------- metrics
# Two detections of different classes and one image whose ground truth is those very boxes.
XYXY = torch.tensor([[0.1, 0.1, 0.5, 0.5], [0.2, 0.2, 0.6, 0.6]])  # [2, 4]
SCORES = torch.tensor([0.9, 0.8])
HITS = torch.tensor([True, False])  # the first detection is a true positive
RECALL, PRECISION = torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.5])  # that ranking, G = 2
PREDS = [{"boxes": XYXY, "scores": SCORES, "labels": LABELS}]
TARGETS = [{"boxes": XYXY, "labels": LABELS}]
INVERTED = torch.tensor([[0.6, 0.6, 0.2, 0.2]])  # x2 < x1 and y2 < y1


def image(item: dict, **changes) -> dict:
    return {**item, **changes}


METRICS = {
    "nms: boxes rank 3": (lambda: metrics.nms(XYXY[None], SCORES, 0.5), ["boxes must be [K, 4] (xyxy)", "got [1, 2, 4]"]),
    "nms: integer boxes": (lambda: metrics.nms(XYXY.long(), SCORES, 0.5), ["boxes must be a floating-point tensor", "got dtype torch.int64"]),
    "nms: scores count": (lambda: metrics.nms(XYXY, SCORES[:1], 0.5), ["scores must be [K] with K = 2 (one per box of boxes)", "got [1]"]),
    "nms: scores rank 2": (lambda: metrics.nms(XYXY, SCORES[None], 0.5), ["scores must be [K] with K = 2", "got [1, 2]"]),
    "nms: NaN score": (lambda: metrics.nms(XYXY, changed(SCORES, 0, NAN), 0.5), ["scores must be finite", "got 1 NaN or Inf"]),
    "nms: negative threshold": (lambda: metrics.nms(XYXY, SCORES, -0.1), ["iou_threshold must be a number >= 0", "got -0.1"]),
    "nms: NaN threshold": (lambda: metrics.nms(XYXY, SCORES, NAN), ["iou_threshold must be a number >= 0", "got nan"]),
    "nms: threshold a string": (lambda: metrics.nms(XYXY, SCORES, "0.5"), ["iou_threshold must be a number >= 0", "got '0.5'"]),
    "batched_nms: negative label": (lambda: metrics.batched_nms(XYXY, SCORES, torch.tensor([-1, 0]), 0.5), ["labels must be class indices >= 0", "got a minimum of -1"]),
    "batched_nms: float labels": (lambda: metrics.batched_nms(XYXY, SCORES, LABELS.float(), 0.5), ["labels must be an integer tensor of class indices", "got dtype torch.float32"]),
    "batched_nms: labels count": (lambda: metrics.batched_nms(XYXY, SCORES, LABELS[:1], 0.5), ["labels must be [K] with K = 2 (one per box of boxes)", "got [1]"]),
    "match_detections: gt_boxes rank 1": (lambda: metrics.match_detections(XYXY, SCORES, XYXY[0]), ["gt_boxes must be [G, 4] (xyxy)", "got [4]"]),
    "match_detections: NaN ground truth": (lambda: metrics.match_detections(XYXY, SCORES, changed(XYXY, (0, 0), NAN)), ["gt_boxes must be finite", "got 1 NaN or Inf"]),
    "match_detections: Inf detection": (lambda: metrics.match_detections(changed(XYXY, (1, 3), INF), SCORES, XYXY), ["boxes must be finite", "got 1 NaN or Inf"]),
    "match_detections: boxes last dim": (lambda: metrics.match_detections(XYXY[:, :3], SCORES, XYXY), ["boxes must be [D, 4] (xyxy)", "got [2, 3]"]),
    "match_detections: negative threshold": (lambda: metrics.match_detections(XYXY, SCORES, XYXY, -1), ["iou_threshold must be a number >= 0", "got -1"]),
    "precision_recall_curve: integer flags": (lambda: metrics.precision_recall_curve(SCORES, HITS.long(), 2), ["is_true_positive must be a bool tensor [D] with D = 2 (one per score)", "got dtype torch.int64"]),
    "precision_recall_curve: flags count": (lambda: metrics.precision_recall_curve(SCORES, HITS[:1], 2), ["is_true_positive must be a bool tensor [D] with D = 2", "got dtype torch.bool and shape [1]"]),
    "precision_recall_curve: scores rank 2": (lambda: metrics.precision_recall_curve(SCORES[None], HITS[None], 2), ["scores must be [D]", "got [1, 2]"]),
    "precision_recall_curve: Inf score": (lambda: metrics.precision_recall_curve(changed(SCORES, 0, INF), HITS, 2), ["scores must be finite", "got 1 NaN or Inf"]),
    "precision_recall_curve: no ground truth": (lambda: metrics.precision_recall_curve(SCORES, HITS, 0), ["num_ground_truth must be a positive int", "got 0"]),
    "precision_recall_curve: G a float": (lambda: metrics.precision_recall_curve(SCORES, HITS, 2.0), ["num_ground_truth must be a positive int", "got 2.0"]),
    "precision_recall_curve: fewer objects than hits": (lambda: metrics.precision_recall_curve(SCORES, torch.tensor([True, True]), 1), ["num_ground_truth must be at least the number of true positives (2)", "got 1"]),
    "average_precision: unknown interpolation": (lambda: metrics.average_precision(RECALL, PRECISION, "voc"), ["interpolation must be one of 'coco101', 'voc_all'", "got 'voc'"]),
    "average_precision: lengths": (lambda: metrics.average_precision(RECALL, PRECISION[:1]), ["recall and precision must be 1-D of the same length [D]", "got recall [2] and precision [1]"]),
    "average_precision: rank 2": (lambda: metrics.average_precision(RECALL[None], PRECISION[None]), ["recall and precision must be 1-D", "got recall [1, 2]"]),
    "average_precision: precision above 1": (lambda: metrics.average_precision(RECALL, PRECISION * 2), ["precision must lie in [0, 1]", "got values from 1 to 2"]),
    "average_precision: recall decreasing": (lambda: metrics.average_precision(torch.tensor([1.0, 0.5]), PRECISION), ["recall must be non-decreasing", "got a decrease"]),
    "average_precision: NaN recall": (lambda: metrics.average_precision(changed(RECALL, 1, NAN), PRECISION), ["recall must be finite", "got 1 NaN or Inf"]),
    "average_precision: integer precision": (lambda: metrics.average_precision(RECALL, PRECISION.long()), ["precision must be a floating-point tensor", "got dtype torch.int64"]),
    "average_precision_from_scores: unknown interpolation": (lambda: metrics.average_precision_from_scores(SCORES, HITS, 2, "VOC"), ["interpolation must be one of 'coco101', 'voc_all'", "got 'VOC'"]),
    "average_precision_from_scores: no ground truth": (lambda: metrics.average_precision_from_scores(SCORES, HITS, 0), ["num_ground_truth must be a positive int", "got 0"]),
    "mean_average_precision: image counts": (lambda: metrics.mean_average_precision(PREDS * 2, TARGETS), ["preds and targets must list the same number of images", "got 2 and 1"]),
    "mean_average_precision: a dict, not a list": (lambda: metrics.mean_average_precision(PREDS[0], TARGETS), ["preds must be a list of per-image dicts with keys ('boxes', 'scores', 'labels')", "got dict"]),
    "mean_average_precision: a tensor, not a dict": (lambda: metrics.mean_average_precision([XYXY], TARGETS), ["preds[0] must be a dict with keys", "got Tensor"]),
    "mean_average_precision: missing scores": (lambda: metrics.mean_average_precision(TARGETS, TARGETS), ["preds[0] must have keys ('boxes', 'scores', 'labels')", "(missing ('scores',))"]),
    "mean_average_precision: negative target label": (lambda: metrics.mean_average_precision(PREDS, [image(TARGETS[0], labels=torch.tensor([-1, 0]))]), ["targets[0]['labels'] must be class indices >= 0", "got a minimum of -1"]),
    "mean_average_precision: float target labels": (lambda: metrics.mean_average_precision(PREDS, [image(TARGETS[0], labels=LABELS.float())]), ["targets[0]['labels'] must be an integer tensor", "got dtype torch.float32"]),
    "mean_average_precision: NaN target box": (lambda: metrics.mean_average_precision(PREDS, [image(TARGETS[0], boxes=changed(XYXY, (1, 2), NAN))]), ["targets[0]['boxes'] must be finite", "got 1 NaN or Inf"]),
    "mean_average_precision: scores count": (lambda: metrics.mean_average_precision([image(PREDS[0], scores=SCORES[:1])], TARGETS), ["preds[0]['scores'] must be [K] with K = 2 (one per box of preds[0]['boxes'])", "got [1]"]),
    "mean_average_precision: unknown interpolation": (lambda: metrics.mean_average_precision(PREDS, TARGETS, interpolation="x"), ["interpolation must be one of 'coco101', 'voc_all'", "got 'x'"]),
    "mean_average_precision: negative threshold": (lambda: metrics.mean_average_precision(PREDS, TARGETS, iou_threshold=-0.5), ["iou_threshold must be a number >= 0", "got -0.5"]),
    "detections_from_predictions: integer pred": (lambda: metrics.detections_from_predictions(PRED.long()), ["pred must be a floating-point tensor", "got dtype torch.int64"]),
    "detections_from_predictions: NaN pred": (lambda: metrics.detections_from_predictions(changed(PRED, (1, 3, 3, 4), NAN)), ["pred must be finite", "got 1 NaN or Inf"]),
    "detections_from_predictions: C inconsistent": (lambda: metrics.detections_from_predictions(PRED, C=10), ["pred must be [N, S, S, B*5+C] = [N, 7, 7, 20] (S=7, B=2, C=10)", "got [2, 7, 7, 30]"]),
    "detections_from_predictions: rank 3": (lambda: metrics.detections_from_predictions(PRED[0]), ["pred must be [N, S, S, B*5+C]", "got [7, 7, 30]"]),
    "detections_from_predictions: negative score threshold": (lambda: metrics.detections_from_predictions(PRED, score_threshold=-0.1), ["score_threshold must be a number >= 0", "got -0.1"]),
    "detections_from_predictions: negative NMS threshold": (lambda: metrics.detections_from_predictions(PRED, iou_threshold=-0.1), ["iou_threshold must be a number >= 0", "got -0.1"]),
    "detections_from_predictions: max_detections 0": (lambda: metrics.detections_from_predictions(PRED, max_detections=0), ["max_detections must be a positive int", "got 0"]),
    "detections_from_predictions: unknown wh": (lambda: metrics.detections_from_predictions(PRED, wh="squared"), ["wh must be one of 'predicted_sqrt', 'signed_sqrt', 'clamped_sqrt', 'linear'", "got 'squared'"]),
    "detections_from_predictions: unknown scoring": (lambda: metrics.detections_from_predictions(PRED, scoring="paper"), ["scoring must be one of 'best_class', 'every_class'", "got 'paper'"]),
    "match_detections: inverted ground truth": (lambda: metrics.match_detections(XYXY, SCORES, INVERTED), ["gt_boxes must be xyxy with x2 >= x1 and y2 >= y1", "got 1 inverted box(es), the first at row 0: [0.6, 0.6, 0.2, 0.2]"]),
    "mean_average_precision: inverted target box": (lambda: metrics.mean_average_precision(PREDS, [image(TARGETS[0], boxes=torch.cat((XYXY[:1], INVERTED)))]), ["targets[0]['boxes'] must be xyxy with x2 >= x1 and y2 >= y1", "got 1 inverted box(es), the first at row 1"]),
}

# ---------------------------------------------------------------- modern
ANCHOR_T = torch.zeros(4, 4, 3, 4)  # raw (tx, ty, tw, th): S = 4, A = 3 anchors
CELLS = modern.cell_grid(4)[:, :, None, :]  # [4, 4, 1, 2], indices 0..3
ANCHORS = torch.tensor([[0.1, 0.2], [0.3, 0.3], [0.5, 0.6]])  # [A, 2]
CENTRED = torch.tensor([[0.3, 0.3, 0.1, 0.2]])  # centre · S = (1.2, 1.2): cell (c_x, c_y) = (1, 1)
CELL = torch.tensor([[1.0, 1.0]])
LOGITS = torch.zeros(2, 3)
TARGETS01 = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
POSITIVE = TARGETS01.bool()
BINS = torch.zeros(2, 4, 16)  # R = 16 bins: targets must lie in [0, 15]
DISTANCES = torch.full((2, 4), 3.5)
ALIGN_SCORES, ALIGN_IOUS = torch.full((5,), 0.5), torch.full((5,), 0.7)

MODERN = {
    "cell_grid: S zero": (lambda: modern.cell_grid(0), ["S must be a positive int", "got 0"]),
    "cell_grid: S a float": (lambda: modern.cell_grid(4.0), ["S must be a positive int", "got 4.0"]),
    "decode_anchor_boxes: t last dim": (lambda: modern.decode_anchor_boxes(ANCHOR_T[..., :3], CELLS, ANCHORS, 4), ["t must be [..., 4] (tx, ty, tw, th)", "got [4, 4, 3, 3]"]),
    "decode_anchor_boxes: integer t": (lambda: modern.decode_anchor_boxes(ANCHOR_T.long(), CELLS, ANCHORS, 4), ["t must be a floating-point tensor", "got dtype torch.int64"]),
    "decode_anchor_boxes: bool cells": (lambda: modern.decode_anchor_boxes(ANCHOR_T, CELLS.bool(), ANCHORS, 4), ["cell_xy must be a real tensor of cell indices", "got dtype torch.bool"]),
    "decode_anchor_boxes: cells last dim": (lambda: modern.decode_anchor_boxes(ANCHOR_T, CELLS[..., :1], ANCHORS, 4), ["cell_xy must be [..., 2] (c_x, c_y)", "got [4, 4, 1, 1]"]),
    "decode_anchor_boxes: cell beyond the grid": (lambda: modern.decode_anchor_boxes(ANCHOR_T, CELLS, ANCHORS, 3), ["cell_xy must lie in [0, 2]", "got values from 0 to 3"]),
    "decode_anchor_boxes: negative cell": (lambda: modern.decode_anchor_boxes(ANCHOR_T, CELLS - 1, ANCHORS, 4), ["cell_xy must lie in [0, 3]", "got values from -1 to 2"]),
    "decode_anchor_boxes: negative anchors": (lambda: modern.decode_anchor_boxes(ANCHOR_T, CELLS, -ANCHORS, 4), ["anchors must be > 0 (widths and heights of priors)", "got min -0.6"]),
    "decode_anchor_boxes: NaN anchor": (lambda: modern.decode_anchor_boxes(ANCHOR_T, CELLS, changed(ANCHORS, (0, 0), NAN), 4), ["anchors must be > 0", "got min nan"]),
    "decode_anchor_boxes: integer anchors": (lambda: modern.decode_anchor_boxes(ANCHOR_T, CELLS, torch.ones(3, 2, dtype=torch.long), 4), ["anchors must be a floating-point tensor", "got dtype torch.int64"]),
    "decode_anchor_boxes: anchors last dim": (lambda: modern.decode_anchor_boxes(ANCHOR_T, CELLS, ANCHORS[:, :1], 4), ["anchors must be [..., 2] (pw, ph)", "got [3, 1]"]),
    "decode_anchor_boxes: anchor count": (lambda: modern.decode_anchor_boxes(ANCHOR_T, CELLS, ANCHORS[:2], 4), ["leading dimensions must broadcast", "got t [4, 4, 3, 4], cell_xy [4, 4, 1, 2], anchors [2, 2]"]),
    "decode_anchor_boxes: S zero": (lambda: modern.decode_anchor_boxes(ANCHOR_T, CELLS, ANCHORS, 0), ["S must be a positive int", "got 0"]),
    "encode_anchor_boxes: NaN box": (lambda: modern.encode_anchor_boxes(changed(CENTRED, (0, 2), NAN), CELL, ANCHORS[:1], 4), ["boxes must be finite", "got 1 NaN or Inf"]),
    "encode_anchor_boxes: Inf height": (lambda: modern.encode_anchor_boxes(changed(CENTRED, (0, 3), INF), CELL, ANCHORS[:1], 4), ["boxes must be finite", "got 1 NaN or Inf"]),
    "encode_anchor_boxes: negative width": (lambda: modern.encode_anchor_boxes(changed(CENTRED, (0, 2), -0.1), CELL, ANCHORS[:1], 4), ["boxes widths and heights must lie in [0, inf]", "got values from -0.1"]),
    "encode_anchor_boxes: centre in another cell": (lambda: modern.encode_anchor_boxes(CENTRED, torch.tensor([[2.0, 1.0]]), ANCHORS[:1], 4), ["boxes centres must lie in their cells", "got values from -0.8 to 0.2"]),
    "encode_anchor_boxes: centre outside the image": (lambda: modern.encode_anchor_boxes(changed(CENTRED, (0, 0), 1.2), torch.tensor([[3.0, 1.0]]), ANCHORS[:1], 4), ["boxes centres must lie in their cells", "to 1.8"]),
    "encode_anchor_boxes: boxes last dim": (lambda: modern.encode_anchor_boxes(CENTRED[:, :3], CELL, ANCHORS[:1], 4), ["boxes must be [..., 4] (cxcywh)", "got [1, 3]"]),
    "shape_iou: negative width": (lambda: modern.shape_iou(torch.tensor([-0.1, 0.2]), ANCHORS[0]), ["wh_a must lie in [0, inf]", "got values from -0.1 to 0.2"]),
    "shape_iou: NaN": (lambda: modern.shape_iou(ANCHORS[0], torch.tensor([NAN, 0.2])), ["wh_b must lie in [0, inf]", "got values from nan"]),
    "shape_iou: last dim": (lambda: modern.shape_iou(torch.tensor([0.1, 0.2, 0.3]), ANCHORS[0]), ["wh_a must be [..., 2] (w, h)", "got [3]"]),
    "shape_iou: integer": (lambda: modern.shape_iou(torch.tensor([1, 2]), ANCHORS[0]), ["wh_a must be a floating-point tensor", "got dtype torch.int64"]),
    "shape_iou: leading dims": (lambda: modern.shape_iou(ANCHORS, ANCHORS[:2]), ["leading dimensions must broadcast", "got wh_a [3, 2], wh_b [2, 2]"]),
    "shape_iou: a list": (lambda: modern.shape_iou([0.1, 0.2], ANCHORS[0]), ["wh_a must be a torch.Tensor", "got list"]),
    "assign_anchors: wh rank 1": (lambda: modern.assign_anchors(ANCHORS[0], ANCHORS), ["wh must be [K, 2] (w, h)", "got [2]"]),
    "assign_anchors: wh last dim": (lambda: modern.assign_anchors(CENTRED, ANCHORS), ["wh must be [K, 2] (w, h)", "got [1, 4]"]),
    "assign_anchors: no anchors": (lambda: modern.assign_anchors(ANCHORS, ANCHORS[:0]), ["anchors must hold at least one prior", "got [0, 2]"]),
    "assign_anchors: zero anchor": (lambda: modern.assign_anchors(ANCHORS, changed(ANCHORS, (1, 1), 0.0)), ["anchors must be > 0", "got min 0"]),
    "assign_anchors: negative object size": (lambda: modern.assign_anchors(-ANCHORS, ANCHORS), ["must lie in [0, inf]", "got values from -0.6"]),
    "assign_anchors: integer wh": (lambda: modern.assign_anchors(torch.ones(2, 2, dtype=torch.long), ANCHORS), ["wh must be a floating-point tensor", "got dtype torch.int64"]),
    "bce_with_logits: targets shape": (lambda: modern.bce_with_logits(LOGITS, TARGETS01[:1]), ["targets must have the shape of logits, [2, 3]", "got [1, 3]"]),
    "bce_with_logits: no silent broadcast": (lambda: modern.bce_with_logits(LOGITS, TARGETS01[0]), ["targets must have the shape of logits, [2, 3]", "got [3]"]),
    "bce_with_logits: targets above 1": (lambda: modern.bce_with_logits(LOGITS, TARGETS01 * 2), ["targets must lie in [0, 1]", "got values from 0 to 2"]),
    "bce_with_logits: NaN target": (lambda: modern.bce_with_logits(LOGITS, changed(TARGETS01, (0, 1), NAN)), ["targets must lie in [0, 1]", "got values from nan"]),
    "bce_with_logits: bool targets": (lambda: modern.bce_with_logits(LOGITS, POSITIVE), ["targets must be a floating-point tensor", "got dtype torch.bool"]),
    "bce_with_logits: integer logits": (lambda: modern.bce_with_logits(LOGITS.long(), TARGETS01), ["logits must be a floating-point tensor", "got dtype torch.int64"]),
    "bce_with_logits: unknown reduction": (lambda: modern.bce_with_logits(LOGITS, TARGETS01, "avg"), ["reduction must be one of 'sum', 'mean', 'none'", "got 'avg'"]),
    "ignore_mask: threshold above 1": (lambda: modern.ignore_mask(BOX, XYXY, 1.5), ["threshold must be a number in [0, 1]", "got 1.5"]),
    "ignore_mask: negative threshold": (lambda: modern.ignore_mask(BOX, XYXY, -0.1), ["threshold must be a number in [0, 1]", "got -0.1"]),
    "ignore_mask: NaN threshold": (lambda: modern.ignore_mask(BOX, XYXY, NAN), ["threshold must be a number in [0, 1]", "got nan"]),
    "ignore_mask: pred_boxes rank 1": (lambda: modern.ignore_mask(BOX[0], XYXY), ["pred_boxes must be [..., P, 4] (xyxy)", "got [4]"]),
    "ignore_mask: gt_boxes last dim": (lambda: modern.ignore_mask(BOX, XYXY[:, :3]), ["gt_boxes must be [..., K, 4] (xyxy)", "got [2, 3]"]),
    "ignore_mask: integer gt_boxes": (lambda: modern.ignore_mask(BOX, XYXY.long()), ["gt_boxes must be a floating-point tensor", "got dtype torch.int64"]),
    "ignore_mask: batch sizes": (lambda: modern.ignore_mask(torch.zeros(2, 3, 4), torch.zeros(3, 2, 4)), ["pred_boxes and gt_boxes must have broadcastable leading dimensions", "got [2, 3, 4] and [3, 2, 4]"]),
    "objectness_loss: integer mask": (lambda: modern.objectness_loss(LOGITS, POSITIVE.long()), ["positive must be a bool tensor", "got dtype torch.int64"]),
    "objectness_loss: mask shape": (lambda: modern.objectness_loss(LOGITS, POSITIVE[:1]), ["positive must have the shape of logits, [2, 3]", "got [1, 3]"]),
    "objectness_loss: target above 1": (lambda: modern.objectness_loss(LOGITS, POSITIVE, TARGETS01 * 1.5), ["target must lie in [0, 1]", "to 1.5"]),
    "objectness_loss: NaN target": (lambda: modern.objectness_loss(LOGITS, POSITIVE, changed(TARGETS01, (1, 2), NAN)), ["target must lie in [0, 1]", "got values from nan"]),
    "objectness_loss: integer target": (lambda: modern.objectness_loss(LOGITS, POSITIVE, TARGETS01.long()), ["target must be a floating-point tensor", "got dtype torch.int64"]),
    "objectness_loss: ignore shape": (lambda: modern.objectness_loss(LOGITS, POSITIVE, None, POSITIVE[0]), ["ignore must have the shape of logits, [2, 3]", "got [3]"]),
    "objectness_loss: integer ignore": (lambda: modern.objectness_loss(LOGITS, POSITIVE, None, POSITIVE.int()), ["ignore must be a bool tensor", "got dtype torch.int32"]),
    "box_loss: unknown kind": (lambda: modern.box_loss(BOX, XYXY, "eiou"), ["kind must be one of 'iou', 'giou', 'diou', 'ciou'", "got 'eiou'"]),
    "box_loss: unknown reduction": (lambda: modern.box_loss(BOX, XYXY, reduction="avg"), ["reduction must be one of 'sum', 'mean', 'none'", "got 'avg'"]),
    "box_loss: last dim": (lambda: modern.box_loss(BOX[:, :3], XYXY), ["pred_boxes must be [..., 4] (xyxy)", "got [1, 3]"]),
    "box_loss: batch sizes": (lambda: modern.box_loss(torch.zeros(3, 4), XYXY), ["leading dimensions must broadcast", "got pred_boxes [3, 4], true_boxes [2, 4]"]),
    "box_loss: integer true boxes": (lambda: modern.box_loss(BOX, XYXY.long()), ["true_boxes must be a floating-point tensor", "got dtype torch.int64"]),
    "box_loss: a list": (lambda: modern.box_loss(BOX.tolist(), XYXY), ["pred_boxes must be a torch.Tensor", "got list"]),
    "iou_objectness_target: unknown kind": (lambda: modern.iou_objectness_target(BOX, XYXY, "IoU"), ["kind must be one of 'iou', 'giou', 'diou', 'ciou'", "got 'IoU'"]),
    "iou_objectness_target: batch sizes": (lambda: modern.iou_objectness_target(torch.zeros(3, 4), XYXY), ["leading dimensions must broadcast", "got pred_boxes [3, 4], true_boxes [2, 4]"]),
    "focal_loss: alpha above 1": (lambda: modern.focal_loss(LOGITS, TARGETS01, alpha=1.5), ["alpha must be a number in [0, 1] or None", "got 1.5"]),
    "focal_loss: NaN alpha": (lambda: modern.focal_loss(LOGITS, TARGETS01, alpha=NAN), ["alpha must be a number in [0, 1] or None", "got nan"]),
    "focal_loss: negative gamma": (lambda: modern.focal_loss(LOGITS, TARGETS01, gamma=-1), ["gamma must be a number >= 0", "got -1"]),
    "focal_loss: infinite gamma": (lambda: modern.focal_loss(LOGITS, TARGETS01, gamma=INF), ["gamma must be a finite number >= 0", "got inf"]),
    "focal_loss: negative target": (lambda: modern.focal_loss(LOGITS, -TARGETS01), ["targets must lie in [0, 1]", "got values from -1"]),
    "focal_loss: transposed targets": (lambda: modern.focal_loss(LOGITS, TARGETS01.T), ["targets must have the shape of logits, [2, 3]", "got [3, 2]"]),
    "focal_loss: integer logits": (lambda: modern.focal_loss(LOGITS.long(), TARGETS01), ["logits must be a floating-point tensor", "got dtype torch.int64"]),
    "focal_loss: unknown reduction": (lambda: modern.focal_loss(LOGITS, TARGETS01, reduction="mean "), ["reduction must be one of 'sum', 'mean', 'none'", "got 'mean '"]),
    "distribution_focal_loss: one bin": (lambda: modern.distribution_focal_loss(BINS[..., :1], DISTANCES), ["logits must be [..., R] with R >= 2 bins", "got [2, 4, 1]"]),
    "distribution_focal_loss: target shape": (lambda: modern.distribution_focal_loss(BINS, DISTANCES[0]), ["target must be logits' shape without the bins, [2, 4]", "got [4]"]),
    "distribution_focal_loss: target beyond the last bin": (lambda: modern.distribution_focal_loss(BINS, DISTANCES + 12), ["target must lie in [0, 15]", "got values from 15.5"]),
    "distribution_focal_loss: negative target": (lambda: modern.distribution_focal_loss(BINS, -DISTANCES), ["target must lie in [0, 15]", "got values from -3.5"]),
    "distribution_focal_loss: NaN target": (lambda: modern.distribution_focal_loss(BINS, changed(DISTANCES, (0, 0), NAN)), ["target must lie in [0, 15]", "got values from nan"]),
    "distribution_focal_loss: integer target": (lambda: modern.distribution_focal_loss(BINS, DISTANCES.long()), ["target must be a floating-point tensor", "got dtype torch.int64"]),
    "distribution_focal_loss: unknown reduction": (lambda: modern.distribution_focal_loss(BINS, DISTANCES, "max"), ["reduction must be one of 'sum', 'mean', 'none'", "got 'max'"]),
    "distribution_to_distance: scalar": (lambda: modern.distribution_to_distance(torch.tensor(0.0)), ["logits must be [..., R] with R >= 2 bins", "got []"]),
    "distribution_to_distance: integer logits": (lambda: modern.distribution_to_distance(BINS.long()), ["logits must be a floating-point tensor", "got dtype torch.int64"]),
    "task_alignment_metric: scores above 1": (lambda: modern.task_alignment_metric(ALIGN_SCORES + 1, ALIGN_IOUS), ["scores must lie in [0, 1]", "got values from 1.5 to 1.5"]),
    "task_alignment_metric: NaN iou": (lambda: modern.task_alignment_metric(ALIGN_SCORES, changed(ALIGN_IOUS, 2, NAN)), ["ious must lie in [0, 1]", "got values from nan"]),
    "task_alignment_metric: lengths": (lambda: modern.task_alignment_metric(ALIGN_SCORES, ALIGN_IOUS[:3]), ["scores and ious must broadcast", "got [5] and [3]"]),
    "task_alignment_metric: integer ious": (lambda: modern.task_alignment_metric(ALIGN_SCORES, ALIGN_IOUS.long()), ["ious must be a floating-point tensor", "got dtype torch.int64"]),
    "task_alignment_metric: negative alpha": (lambda: modern.task_alignment_metric(ALIGN_SCORES, ALIGN_IOUS, alpha=-1), ["alpha must be a number >= 0", "got -1"]),
    "task_alignment_metric: beta a string": (lambda: modern.task_alignment_metric(ALIGN_SCORES, ALIGN_IOUS, beta="6"), ["beta must be a number >= 0", "got '6'"]),
    "box_loss: NaN in true_boxes": (lambda: modern.box_loss(BOX, changed(XYXY, (0, 0), NAN)), ["true_boxes must be finite", "got 1 NaN or Inf"]),
    "iou_objectness_target: NaN in true_boxes": (lambda: modern.iou_objectness_target(BOX, changed(XYXY, (0, 0), NAN)), ["true_boxes must be finite", "got 1 NaN or Inf"]),
    "ignore_mask: NaN in gt_boxes": (lambda: modern.ignore_mask(BOX, changed(XYXY, (0, 0), NAN)), ["gt_boxes must be finite", "got 1 NaN or Inf"]),
    "cell_grid: dtype a string": (lambda: modern.cell_grid(4, "float32"), ["dtype must be a real torch.dtype (e.g. torch.float32 or torch.long)", "got 'float32'"]),
    "cell_grid: dtype bool": (lambda: modern.cell_grid(4, torch.bool), ["dtype must be a real torch.dtype", "got torch.bool"]),
    "box_loss: Inf in true_boxes": (lambda: modern.box_loss(BOX, changed(XYXY, (1, 2), INF), kind="giou"), ["true_boxes must be finite", "got 1 NaN or Inf"]),
}

# ---------------------------------------------------------------- data
IMAGE = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(0))
ITEM = (IMAGE, CXCYWH, torch.tensor([1, 2]))  # two objects, classes < C = 3
COLLATE = data.YoloCollate(S=4, C=3)
GOOD_LINE = "0 0.5 0.5 0.2 0.2\n"


def yolo_folder(root: Path, labels: str | None = GOOD_LINE, images: int = 1) -> Path:
    """``root/images/im{i}.png`` (8×8 black) and, unless None, ``root/labels/im0.txt``."""
    from PIL import Image  # Pillow comes with matplotlib

    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for i in range(images):
        Image.new("RGB", (8, 8)).save(root / "images" / f"im{i}.png")
    if labels is not None:
        (root / "labels" / "im0.txt").write_text(labels)
    return root


def read_labels(labels: str, **kwargs):
    """A case reading a one-image folder whose label file holds ``labels``."""
    return lambda tmp: data.read_yolo_folder(yolo_folder(tmp, labels), **kwargs)


def _folder_with_no_labels(tmp: Path, **kwargs):
    return data.read_yolo_folder(yolo_folder(tmp, None), **kwargs)


DATA = {
    "ShapesDataset: n zero": (lambda: data.ShapesDataset(0), ["n must be a positive int", "got 0"]),
    "ShapesDataset: n a float": (lambda: data.ShapesDataset(10.0), ["n must be a positive int", "got 10.0"]),
    "ShapesDataset: image_size zero": (lambda: data.ShapesDataset(1, image_size=0), ["image_size must be a positive int", "got 0"]),
    "ShapesDataset: negative seed": (lambda: data.ShapesDataset(1, seed=-1), ["seed must be an int >= 0", "got -1"]),
    "ShapesDataset: seed a float": (lambda: data.ShapesDataset(1, seed=0.5), ["seed must be an int >= 0", "got 0.5"]),
    "ShapesDataset: objects inverted": (lambda: data.ShapesDataset(1, objects=(3, 1)), ["objects must be (min, max) with 0 <= min <= max", "got (3, 1)"]),
    "ShapesDataset: negative objects": (lambda: data.ShapesDataset(1, objects=(-1, 1)), ["objects must be (min, max) with 0 <= min <= max", "got (-1, 1)"]),
    "ShapesDataset: zero size": (lambda: data.ShapesDataset(1, sizes=(0, 0.4)), ["sizes must be (min, max) with 0 < min <= max <= 1", "got (0, 0.4)"]),
    "ShapesDataset: size over 1": (lambda: data.ShapesDataset(1, sizes=(0.5, 1.5)), ["sizes must be (min, max) with 0 < min <= max <= 1", "got (0.5, 1.5)"]),
    "ShapesDataset: sizes inverted": (lambda: data.ShapesDataset(1, sizes=(0.4, 0.2)), ["sizes must be (min, max)", "got (0.4, 0.2)"]),
    "ShapesDataset: NaN size": (lambda: data.ShapesDataset(1, sizes=(NAN, 0.2)), ["sizes must be (min, max)", "got (nan, 0.2)"]),
    "ShapesDataset: negative noise": (lambda: data.ShapesDataset(1, noise=-0.1), ["noise must be >= 0", "got -0.1"]),
    "ShapesDataset: NaN noise": (lambda: data.ShapesDataset(1, noise=NAN), ["noise must be >= 0", "got nan"]),
    "YoloCollate: S zero": (lambda: data.YoloCollate(S=0), ["S must be a positive int", "got 0"]),
    "YoloCollate: C a float": (lambda: data.YoloCollate(C=3.0), ["C must be a positive int", "got 3.0"]),
    "YoloCollate: no items": (lambda: COLLATE([]), ["items must hold at least one (image, boxes, labels)", "got none"]),
    "YoloCollate: image sizes differ": (lambda: COLLATE([ITEM, (torch.rand(3, 16, 16),) + ITEM[1:]]), ["images must all have one shape to be batched", "got [(3, 8, 8), (3, 16, 16)]"]),
    "YoloCollate: label = C": (lambda: COLLATE([(IMAGE, CXCYWH, torch.tensor([1, 3]))]), ["labels must lie in [0, C) = [0, 3)", "from 1 to 3"]),
    "YoloCollate: float labels": (lambda: COLLATE([(IMAGE, CXCYWH, torch.tensor([1.0, 2.0]))]), ["labels[0] must be an integer tensor", "got dtype torch.float32"]),
    "YoloCollate: NaN box": (lambda: COLLATE([(IMAGE, changed(CXCYWH, (1, 1), NAN), ITEM[2])]), ["boxes must be finite", "got 1 NaN or Inf"]),
    "YoloCollate: centre outside": (lambda: COLLATE([(IMAGE, changed(CXCYWH, (0, 1), 1.5), ITEM[2])]), ["boxes centres (cx, cy) must lie in [0, 1]", "to 1.5"]),
    "read_yolo_folder: missing folder": (lambda tmp: data.read_yolo_folder(tmp / "nowhere"), ["path must be a folder", "got '", "nowhere'"]),
    "read_yolo_folder: a file": (lambda tmp: data.read_yolo_folder(yolo_folder(tmp) / "labels" / "im0.txt"), ["path must be a folder", "im0.txt'"]),
    "read_yolo_folder: no images": (lambda tmp: data.read_yolo_folder(yolo_folder(tmp, None, images=0)), ["path must hold images (.bmp, .jpg, .jpeg, .png, .tif, .tiff, .webp)", "found none in"]),
    "read_yolo_folder: 4 numbers": (read_labels("0 0.5 0.5 0.2\n"), ["im0.txt, line 1: expected 'class cx cy w h' (5 numbers)", "got '0 0.5 0.5 0.2'"]),
    "read_yolo_folder: 6 numbers": (read_labels(GOOD_LINE + "1 0.5 0.5 0.2 0.2 0.9\n"), ["im0.txt, line 2: expected 'class cx cy w h'", "got '1 0.5 0.5 0.2 0.2 0.9'"]),
    "read_yolo_folder: float class": (read_labels("1.0 0.5 0.5 0.2 0.2"), ["im0.txt, line 1: expected an integer class then 4 numbers", "got '1.0 0.5 0.5 0.2 0.2'"]),
    "read_yolo_folder: class a word": (read_labels("cat 0.5 0.5 0.2 0.2"), ["line 1: expected an integer class then 4 numbers", "got 'cat"]),
    "read_yolo_folder: negative class": (read_labels("-1 0.5 0.5 0.2 0.2"), ["im0.txt, line 1: class must be >= 0", "got -1"]),
    "read_yolo_folder: class = num_classes": (read_labels(GOOD_LINE + "3 0.5 0.5 0.2 0.2\n", num_classes=3), ["im0.txt, line 2: class must be >= 0 and < 3", "got 3"]),
    "read_yolo_folder: centre over 1": (read_labels("0 1.5 0.5 0.2 0.2"), ["line 1: cx, cy, w, h must be normalized to [0, 1]", "got [1.5, 0.5, 0.2, 0.2]"]),
    "read_yolo_folder: pixel coordinates": (read_labels("0 32 32 10 10"), ["cx, cy, w, h must be normalized to [0, 1]", "got [32.0, 32.0, 10.0, 10.0]"]),
    "read_yolo_folder: negative width": (read_labels("0 0.5 0.5 -0.2 0.2"), ["cx, cy, w, h must be normalized to [0, 1]", "got [0.5, 0.5, -0.2, 0.2]"]),
    "read_yolo_folder: NaN": (read_labels("0 nan 0.5 0.2 0.2"), ["cx, cy, w, h must be normalized to [0, 1]", "got [nan, 0.5, 0.2, 0.2]"]),
    "read_yolo_folder: Inf": (read_labels("0 0.5 0.5 inf 0.2"), ["cx, cy, w, h must be normalized to [0, 1]", "got [0.5, 0.5, inf, 0.2]"]),
    "read_yolo_folder: zero width": (read_labels("0 0.5 0.5 0 0.2"), ["line 1: w and h must be > 0", "got 0.0 and 0.2"]),
    "read_yolo_folder: image_size zero": (read_labels(GOOD_LINE, image_size=0), ["image_size must be a positive int", "got 0"]),
    "read_yolo_folder: image_size a float": (read_labels(GOOD_LINE, image_size=32.0), ["image_size must be a positive int", "got 32.0"]),
    "ShapesDataset: fractional object counts": (lambda: data.ShapesDataset(1, objects=(0.5, 1.5)), ["objects must be (min, max) with 0 <= min <= max, two ints", "got (0.5, 1.5)"]),
    "ShapesDataset: sizes one number": (lambda: data.ShapesDataset(1, sizes=(0.2,)), ["sizes must be (min, max) with 0 < min <= max <= 1", "got (0.2,)"]),
    "ShapesDataset: objects one number": (lambda: data.ShapesDataset(1, objects=2), ["objects must be (min, max) with 0 <= min <= max, two ints", "got 2"]),
    "ShapesDataset: noise a string": (lambda: data.ShapesDataset(1, noise="0.1"), ["noise must be >= 0, a finite number", "got '0.1'"]),
    "ShapesDataset: infinite noise": (lambda: data.ShapesDataset(1, noise=INF), ["noise must be >= 0, a finite number", "got inf"]),
    "ShapesDataset: sizes strings": (lambda: data.ShapesDataset(1, sizes=("0.1", "0.2")), ["sizes must be (min, max)", "got ('0.1', '0.2')"]),
    "YoloCollate: integer images": (lambda: COLLATE([ITEM, ((IMAGE * 255).to(torch.uint8),) + ITEM[1:]]), ["images[1] must be a floating-point tensor with values in [0, 1]", "got dtype torch.uint8"]),
    "YoloCollate: items without labels": (lambda: COLLATE([ITEM[:2]]), ["items[0] must be an (image, boxes, labels) triple", "got a tuple of length 2"]),
    "YoloCollate: one item, not a list": (lambda: COLLATE(ITEM), ["items[0] must be an (image, boxes, labels) triple", "got Tensor"]),
    "read_yolo_folder: num_classes zero": (lambda tmp: _folder_with_no_labels(tmp, num_classes=0), ["num_classes must be a positive int", "got 0"]),
    "read_yolo_folder: num_classes a string": (read_labels(GOOD_LINE, num_classes="3"), ["num_classes must be a positive int", "got '3'"]),
}

# ---------------------------------------------------------------- model


def tiny() -> model.TinyYolo:
    """The smallest TinyYolo: S = 2, B = 1, C = 1 on 4 × 4 images (one halving)."""
    return model.TinyYolo(S=2, B=1, C=1, image_size=4, width=2)


IMAGES = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))

MODEL = {
    "TinyYolo: S zero": (lambda: model.TinyYolo(S=0), ["S must be a positive int", "got 0"]),
    "TinyYolo: B zero": (lambda: model.TinyYolo(B=0), ["B must be a positive int", "got 0"]),
    "TinyYolo: C a float": (lambda: model.TinyYolo(C=3.0), ["C must be a positive int", "got 3.0"]),
    "TinyYolo: width zero": (lambda: model.TinyYolo(width=0), ["width must be a positive int", "got 0"]),
    "TinyYolo: image_size not S·2^k": (lambda: model.TinyYolo(S=4, image_size=50), ["image_size must be S · 2^k with k >= 1 (S=4: 8, 16, 32, ...)", "got 50"]),
    "TinyYolo: image_size 3·S·2^k": (lambda: model.TinyYolo(S=4, image_size=48), ["image_size must be S · 2^k with k >= 1", "got 48"]),
    "TinyYolo: image_size = S (k = 0)": (lambda: model.TinyYolo(S=4, image_size=4), ["image_size must be S · 2^k with k >= 1", "got 4"]),
    "TinyYolo: images rank 3": (lambda: tiny()(IMAGES[0]), ["images must be [N, 3, 4, 4]", "got [3, 4, 4]"]),
    "TinyYolo: grey images": (lambda: tiny()(IMAGES[:, :1]), ["images must be [N, 3, 4, 4]", "got [2, 1, 4, 4]"]),
    "TinyYolo: channels last": (lambda: tiny()(IMAGES.permute(0, 2, 3, 1)), ["images must be [N, 3, 4, 4]", "got [2, 4, 4, 3]"]),
    "TinyYolo: wrong image size": (lambda: tiny()(torch.rand(1, 3, 8, 8)), ["images must be [N, 3, 4, 4]", "got [1, 3, 8, 8]"]),
    "TinyYolo: uint8 images": (lambda: tiny()((IMAGES * 255).to(torch.uint8)), ["images must be a floating-point tensor with values in [0, 1]", "got dtype torch.uint8"]),
    "TinyYolo: images a list": (lambda: tiny()(IMAGES.tolist()), ["images must be a torch.Tensor", "got list"]),
}

# ---------------------------------------------------------------- train
LOADER = [(IMAGES, torch.zeros(2, 2, 2, 6))]  # one batch; an empty target (no object) is valid
TINY_LOSS = loss.YoloV1Loss(S=2, B=1, C=1)


def fit(**kwargs):
    """One quiet training run of a fresh tiny model (``steps=1`` unless epochs are given)."""
    if "epochs" not in kwargs:
        kwargs.setdefault("steps", 1)
    return train.train(tiny(), kwargs.pop("loader", LOADER), TINY_LOSS, progress=False, **kwargs)


def seed_mismatch(tmp: Path):
    fit(checkpoint=tmp / "run.pt")  # one step, saved with seed 0
    return fit(steps=2, checkpoint=tmp / "run.pt", resume=True, seed=1)


TRAIN = {
    "train: epochs and steps": (lambda: train.train(tiny(), LOADER, TINY_LOSS, epochs=1, steps=1, progress=False), ["give exactly one of epochs and steps", "got epochs=1, steps=1"]),
    "train: neither epochs nor steps": (lambda: train.train(tiny(), LOADER, TINY_LOSS, progress=False), ["give exactly one of epochs and steps", "got epochs=None, steps=None"]),
    "train: epochs zero": (lambda: fit(epochs=0), ["epochs must be a positive int", "got 0"]),
    "train: epochs a bool": (lambda: fit(epochs=True), ["epochs must be a positive int", "got True"]),
    "train: negative steps": (lambda: fit(steps=-1), ["steps must be a positive int", "got -1"]),
    "train: steps a float": (lambda: fit(steps=1.5), ["steps must be a positive int", "got 1.5"]),
    "train: checkpoint_every zero": (lambda: fit(checkpoint_every=0), ["checkpoint_every must be a positive int", "got 0"]),
    "train: resume without a checkpoint": (lambda: fit(resume=True), ["resume=True needs a checkpoint path", "got checkpoint=None"]),
    "train: empty loader": (lambda: fit(loader=[]), ["loader must yield at least one batch", "got an empty loader"]),
    "train: resume with another seed": (seed_mismatch, ["seed must match the checkpoint's (0) to resume", "got 1"]),
    "train: negative lr": (lambda: fit(lr=-1e-3), ["lr must be a finite number > 0", "got -0.001"]),
    "train: lr zero": (lambda: fit(lr=0), ["lr must be a finite number > 0", "got 0"]),
    "train: infinite lr": (lambda: fit(lr=INF), ["lr must be a finite number > 0", "got inf"]),
    "train: lr a string": (lambda: fit(lr="1e-3"), ["lr must be a finite number > 0", "got '1e-3'"]),
    "train: seed a float": (lambda: fit(seed=0.5), ["seed must be an int", "got 0.5"]),
    "train: a generator as loader": (lambda: fit(loader=(batch for batch in LOADER)), ["loader must be a re-iterable of batches with a len(), such as a DataLoader or a list", "got generator"]),
    "train: an iterator as loader": (lambda: fit(loader=iter(LOADER)), ["loader must be a re-iterable of batches with a len()", "got list_iterator"]),
}

# ================================================================ real datasets and safe runs
# Cases added with the dataset readers (data YAML, COCO JSON, encodings, polygons), the
# training loop's checkpoint and resume checks, integer-like numpy and torch scalars, device
# mismatches, and the small dtype and logit limits of modern.cell_grid and
# modern.distribution_focal_loss. Kept in one block so that the section above stays as it was.
META = torch.device("meta")  # a second device on a CPU-only machine: tensors without data


def _label_file(tmp: Path, raw: bytes) -> Path:
    root = yolo_folder(tmp, None)
    (root / "labels" / "im0.txt").write_bytes(raw)
    return root


def _data_yaml(tmp: Path, text: str) -> Path:
    yolo_folder(tmp)
    (tmp / "data.yaml").write_text(text)
    return tmp / "data.yaml"


def _coco(tmp: Path, text: str) -> Path:
    (tmp / "c.json").write_text(text)
    return tmp / "c.json"


def _checkpoint(tmp: Path, raw: bytes | None = None) -> Path:
    path = tmp / "run.pt"
    if raw is None:
        fit(checkpoint=path)
    else:
        path.write_bytes(raw)
    return path


def _resume(tmp: Path, raw: bytes | None = None, **kwargs):
    path = _checkpoint(tmp, raw)
    kwargs.setdefault("steps", 2)
    return fit(checkpoint=path, resume=True, **kwargs)


READERS_AND_RUNS = {
    "read_yolo_folder: a UTF-16 label file": (lambda tmp: data.read_yolo_folder(_label_file(tmp, GOOD_LINE.encode("utf-16"))), ["im0.txt: label files must be UTF-8 text", "got UTF-16 or UTF-32"]),
    "read_yolo_folder: a Latin-1 label file": (lambda tmp: data.read_yolo_folder(_label_file(tmp, "0 0.5 0.5 0.2 0.2 # \xe9t\xe9\n".encode("latin-1"))), ["im0.txt: label files must be UTF-8 text (with or without a BOM)", "got byte 0xe9"]),
    "read_yolo_folder: a polygon refused": (read_labels("0 0.1 0.1 0.5 0.1 0.3 0.6\n", polygons="refuse"), ["line 1: a polygon of 3 points", "pass polygons='box'"]),
    "read_yolo_folder: polygons a bool": (read_labels(GOOD_LINE, polygons=True), ["polygons must be one of 'box', 'refuse'", "got True"]),
    "read_yolo_folder: a polygon with an odd count": (read_labels("0 0.1 0.1 0.5 0.1 0.3 0.6 0.2\n"), ["expected 'class cx cy w h' (5 numbers) or a polygon", "got '0 0.1"]),
    "read_yolo_folder: a polygon point far outside": (read_labels("0 0.1 0.1 1.5 0.1 0.3 0.6\n"), ["polygon points must be normalized to [0, 1]", "got [0.1, 1.5, 0.3]"]),
    "read_yolo_folder: coordinates beyond the clip tolerance": (read_labels("0 1.02 0.5 0.2 0.2\n"), ["cx, cy, w, h must be normalized to [0, 1]", "got [1.02, 0.5, 0.2, 0.2]"]),
    "read_yolo_folder: an image that is not one": (lambda tmp: (yolo_folder(tmp), (tmp / "images" / "im0.png").write_bytes(b"GIF89a?"), data.read_yolo_folder(tmp)), ["im0.png: expected a readable image", "got UnidentifiedImageError"]),
    "read_yolo_folder: a dataset root with splits": (lambda tmp: (yolo_folder(tmp / "train"), yolo_folder(tmp / "valid"), data.read_yolo_folder(tmp)), ["path must hold images", "it holds the splits train, valid: pass one of them"]),
    "read_yolo_dataset: a folder, not the YAML": (lambda tmp: data.read_yolo_dataset(yolo_folder(tmp)), ["yaml_path must be a data YAML file", "(not a file)"]),
    "read_yolo_dataset: a split it lacks": (lambda tmp: data.read_yolo_dataset(_data_yaml(tmp, "train: images\nnames: [a]\n"), "val"), ["split must be one of the YAML's splits ['train']", "got 'val'"]),
    "read_yolo_dataset: split an int": (lambda tmp: data.read_yolo_dataset(_data_yaml(tmp, "train: images\nnames: [a]\n"), 0), ["split must be one of the YAML's splits", "got 0"]),
    "read_yolo_dataset: no names": (lambda tmp: data.read_yolo_dataset(_data_yaml(tmp, "train: images\n")), ["data.yaml: needs 'names'", "got neither"]),
    "read_yolo_dataset: nc and names disagree": (lambda tmp: data.read_yolo_dataset(_data_yaml(tmp, "train: images\nnames: [a, b]\nnc: 3\n")), ["nc (3) must equal the number of names", "got 2"]),
    "read_yolo_dataset: a missing split folder": (lambda tmp: data.read_yolo_dataset(_data_yaml(tmp, "train: ../train/images\nnames: [a]\n")), ["train: '../train/images' must be a folder of images or a .txt list", "got no such path"]),
    "read_yolo_dataset: a label beyond the names": (lambda tmp: (yolo_folder(tmp, "1 0.5 0.5 0.2 0.2\n"), (tmp / "data.yaml").write_text("train: images\nnames: [a]\n"), data.read_yolo_dataset(tmp / "data.yaml")), ["im0.txt, line 1: class must be >= 0 and < 1", "got 1"]),
    "read_yolo_dataset: a YAML syntax error": (lambda tmp: data.read_yolo_dataset(_data_yaml(tmp, "names: [a\n")), ["data.yaml: expected a data YAML", "got a YAML syntax error"]),
    "read_yolo_dataset: image_size a float tensor": (lambda tmp: data.read_yolo_dataset(_data_yaml(tmp, "train: images\nnames: [a]\n"), image_size=torch.tensor(8.0)), ["image_size must be a positive int", "got 8.0 (a 0-dim torch.float32 tensor)"]),
    "read_coco_detection: no file": (lambda tmp: data.read_coco_detection(tmp / "none.json"), ["json_path must be a COCO JSON file", "none.json' (not a file)"]),
    "read_coco_detection: not JSON": (lambda tmp: data.read_coco_detection(_coco(tmp, "{images: []}")), ["c.json: expected COCO JSON", "got a syntax error"]),
    "read_coco_detection: no categories": (lambda tmp: data.read_coco_detection(_coco(tmp, '{"images": [], "annotations": []}')), ["c.json: expected a COCO detection JSON with lists images, annotations and categories"]),
    "read_coco_detection: image_dir missing": (lambda tmp: data.read_coco_detection(_coco(tmp, "{}"), image_dir=tmp / "nowhere"), ["image_dir must be a folder", "nowhere'"]),
    "ShapesDataset: a float index": (lambda: data.ShapesDataset(2)[1.0], ["index must be an int", "got 1.0"]),
    "ShapesDataset: a numpy float seed": (lambda: data.ShapesDataset(2, seed=__import__("numpy").float64(1)), ["seed must be an int >= 0", "got 1.0 (numpy float64)"]),
    "ShapesDataset: n a float tensor": (lambda: data.ShapesDataset(torch.tensor(3.0)), ["n must be a positive int", "got 3.0 (a 0-dim torch.float32 tensor)"]),
    "ShapesDataset: n a bool tensor": (lambda: data.ShapesDataset(torch.tensor(True)), ["n must be a positive int", "got True (a 0-dim torch.bool tensor)"]),
    "ShapesDataset: n a 1-element tensor": (lambda: data.ShapesDataset(torch.tensor([3])), ["n must be a positive int", "got a torch.int64 tensor of shape [1]"]),
    "YoloCollate: S a numpy bool": (lambda: data.YoloCollate(S=__import__("numpy").bool_(True)), ["S must be a positive int", "got True (numpy bool"]),
    "yolo_v1_loss: target on another device than pred": (lambda: loss.yolo_v1_loss(PRED, TARGET.to(META)), ["pred and target must be on one device", "got pred on cpu, target on meta"]),
    "responsibility: pred on another device than target": (lambda: loss.responsibility(PRED.to(META), TARGET), ["pred and target must be on one device", "got pred on meta, target on cpu"]),
    "nms: boxes and scores on two devices": (lambda: metrics.nms(XYXY.to(META), SCORES, 0.5), ["boxes and scores must be on one device", "got boxes on meta, scores on cpu"]),
    "batched_nms: labels on another device": (lambda: metrics.batched_nms(XYXY, SCORES, LABELS.to(META), 0.5), ["must be on one device", "labels on meta"]),
    "match_detections: ground truth on another device": (lambda: metrics.match_detections(XYXY, SCORES, XYXY.to(META)), ["boxes and scores and gt_boxes must be on one device", "gt_boxes on meta"]),
    "mean_average_precision: preds and targets on two devices": (lambda: metrics.mean_average_precision([{"boxes": XYXY.to(META), "scores": SCORES.to(META), "labels": LABELS.to(META)}], TARGETS), ["must be on one device", "preds[0]['boxes'] on meta, targets[0]['boxes'] on cpu"]),
    "mean_average_precision: scores on another device": (lambda: metrics.mean_average_precision([{"boxes": XYXY, "scores": SCORES.to(META), "labels": LABELS}], TARGETS), ["must be on one device", "preds[0]['scores'] on meta"]),
    "cell_grid: S beyond uint8": (lambda: modern.cell_grid(257, torch.uint8), ["S must be at most 256 for dtype torch.uint8", "got 257"]),
    "cell_grid: S beyond float16": (lambda: modern.cell_grid(2050, torch.float16), ["S must be at most 2049 for dtype torch.float16", "got 2050"]),
    "cell_grid: S beyond int8": (lambda: modern.cell_grid(129, torch.int8), ["S must be at most 128 for dtype torch.int8", "got 129"]),
    "distribution_focal_loss: a NaN logit": (lambda: modern.distribution_focal_loss(changed(BINS, (0, 0, 3), NAN), DISTANCES), ["logits must be finite or -inf", "got 1 NaN or +inf"]),
    "distribution_focal_loss: a +inf logit": (lambda: modern.distribution_focal_loss(changed(BINS, (0, 0, 3), INF), DISTANCES), ["logits must be finite or -inf", "got 1 NaN or +inf"]),
    "distribution_focal_loss: a distribution all -inf": (lambda: modern.distribution_focal_loss(changed(BINS, (1, 2), -INF), DISTANCES), ["logits must have a finite bin in every distribution", "all -inf"]),
    "train: images on another device than the model": (lambda: fit(loader=[(IMAGES.to(META), LOADER[0][1])]), ["images and model must be on one device", "got images on meta and the model's parameters on cpu"]),
    "train: a loss returning a list": (lambda: train.train(tiny(), LOADER, lambda p, t: [TINY_LOSS(p, t).total], steps=1, progress=False), ["loss_fn must return LossTerms or a one-number floating-point tensor", "got list"]),
    "train: a loss returning a vector": (lambda: train.train(tiny(), LOADER, lambda p, t: p.sum((1, 2, 3)), steps=1, progress=False), ["loss_fn must return LossTerms or a one-number", "got a tensor of shape [2]"]),
    "train: seed a float tensor": (lambda: fit(seed=torch.tensor(0.0)), ["seed must be an int", "got 0.0 (a 0-dim torch.float32 tensor)"]),
    "train: resume from an empty file": (lambda tmp: _resume(tmp, b""), ["run.pt must be a checkpoint written by train()", "got a file torch cannot read"]),
    "train: resume from a text file": (lambda tmp: _resume(tmp, b"step: 3"), ["run.pt must be a checkpoint written by train()", "got a file torch cannot read"]),
    "train: resume to an end already passed": (lambda tmp: (fit(steps=3, checkpoint=tmp / "r.pt"), fit(steps=2, checkpoint=tmp / "r.pt", resume=True)), ["steps must be at least the checkpoint's step (3) to resume", "got 2"]),
    "train: resume with more batches per epoch": (lambda tmp: _resume(tmp, loader=LOADER * 2), ["loader must have the checkpoint's 1 batches per epoch to resume", "got 2"]),
    "train: resume with another batch size": (lambda tmp: _resume(tmp, loader=[(IMAGES[:1], LOADER[0][1][:1])]), ["batch size must be the checkpoint's (2) to resume", "got 1"]),
}

# ---------------------------------------------------------------- known gaps (strict xfails)
# Each is (call, fragments, what happens today). The fragments name only the argument and "got":
# whoever adds the check words the message. None at present: every case found so far is fixed
# and listed in its section above.
KNOWN_GAPS: dict = {}

CATALOGUE = {
    "boxes": BOXES, "grid": GRID, "loss": LOSS, "article_losses": ARTICLE_LOSSES,
    "metrics": METRICS, "modern": MODERN, "data": DATA, "model": MODEL, "train": TRAIN,
    "readers and runs": READERS_AND_RUNS,
}
CASES = {f"{module}: {name}": case for module, section in CATALOGUE.items() for name, case in section.items()}
PARAMS = [pytest.param(call, fragments, id=name) for name, (call, fragments) in CASES.items()] + [
    pytest.param(call, fragments, id=name, marks=pytest.mark.xfail(strict=True, reason=reason))
    for name, (call, fragments, reason) in KNOWN_GAPS.items()
]


def run(call, tmp_path: Path):
    """Calls a case; one that takes a parameter gets ``tmp_path``. The global RNG is restored
    afterwards (training runs reseed it)."""
    with torch.random.fork_rng(devices=[]):
        return call(tmp_path) if inspect.signature(call).parameters else call()


def test_the_valid_inputs_are_valid(tmp_path):
    """Each case breaks a valid input in one way; the unbroken ones must pass."""
    assert TARGET[OBJECT_CELL + (4,)] == 1
    boxes.iou(BOX, BOX)
    grid.encode_targets(CXCYWH, LABELS)
    loss.yolo_v1_loss(PRED, TARGET)
    article_losses.article_loss_mse(ARTICLE, ARTICLE)
    assert metrics.nms(XYXY, SCORES, 0.5).tolist() == [0, 1]  # IoU 0.09 / 0.23 = 0.39 <= 0.5: both kept
    metrics.batched_nms(XYXY, SCORES, LABELS, 0.5)
    assert metrics.match_detections(XYXY, SCORES, XYXY).all()
    # An inverted detection is a bad prediction, scored as a miss; a zero-size target is allowed.
    assert not metrics.match_detections(INVERTED, SCORES[:1], XYXY).any()
    metrics.match_detections(XYXY, SCORES, torch.tensor([[0.2, 0.2, 0.2, 0.2]]))
    metrics.precision_recall_curve(SCORES, HITS, 2)
    # RECALL, PRECISION is the curve of HITS for G = 2: the docstring's example, AP 0.5 (voc_all)
    assert metrics.average_precision(RECALL, PRECISION, "voc_all") == 0.5
    assert metrics.mean_average_precision(PREDS, TARGETS).map == 1.0  # every object found first
    metrics.detections_from_predictions(PRED, max_detections=1)
    assert modern.cell_grid(2, torch.long).tolist() == [[[0, 0], [1, 0]], [[0, 1], [1, 1]]]
    modern.decode_anchor_boxes(ANCHOR_T, CELLS, ANCHORS, 4)
    modern.encode_anchor_boxes(CENTRED, CELL, ANCHORS[:1], 4)
    modern.assign_anchors(ANCHORS, ANCHORS)
    modern.bce_with_logits(LOGITS, TARGETS01)
    modern.ignore_mask(BOX, XYXY, 0.5)
    modern.objectness_loss(LOGITS, POSITIVE, TARGETS01, ~POSITIVE)
    modern.box_loss(BOX, XYXY)
    modern.iou_objectness_target(BOX, XYXY)
    modern.focal_loss(LOGITS, TARGETS01)
    modern.distribution_focal_loss(BINS, DISTANCES)
    modern.distribution_to_distance(BINS)
    modern.task_alignment_metric(ALIGN_SCORES, ALIGN_IOUS)
    data.ShapesDataset(1)
    data.ShapesDataset(1, objects=[0, 0], sizes=(1, 1), noise=0)  # lists and ints are fine
    assert COLLATE([ITEM]).target.shape == (1, 4, 4, 8)
    assert len(read_labels(GOOD_LINE, num_classes=3, image_size=8)(tmp_path / "good")) == 1
    assert tiny()(IMAGES).shape == (2, 2, 2, 6)
    assert len(run(lambda: fit(), tmp_path)) == 1


def test_the_catalogue_covers_every_module():
    assert len(CASES) >= 250
    for module, section in CATALOGUE.items():
        assert len(section) >= 5, module


@pytest.mark.parametrize("call, fragments", PARAMS)
def test_bad_input_is_a_value_error_naming_argument_expectation_and_value(call, fragments, tmp_path):
    with pytest.raises(ValueError) as raised:
        run(call, tmp_path)
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


# ---------------------------------------------------------------- check: reports, never raises
# A checker's argument errors are for a learner in a notebook: it prints what went wrong and
# returns a false CheckResult instead of raising, so the table above does not apply.
CHECKERS = [check.iou, check.giou, check.box_convert, check.encode_targets, check.yolo_v1_loss,
            check.nms, check.average_precision, check.focal_loss]
# The usual mistakes: calling the function (passing its answer), passing nothing, or its name.
NOT_FUNCTIONS = {"its answer": torch.tensor([0.5]), "None": None, "its name": "my_function"}


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("not_a_function", NOT_FUNCTIONS.values(), ids=NOT_FUNCTIONS.keys())
def test_a_checker_given_something_not_callable_reports_it(capsys, checker, not_a_function):
    result = checker(not_a_function)  # must not raise
    printed = capsys.readouterr().out
    name = checker.__name__
    assert not result and result.status == "raised"
    assert result.cases == 0 and result.failed_case is None and result.case is None
    assert printed == result.report + "\n"
    assert printed.startswith(
        f"check.{name}: expected a function, got an object of type {type(not_a_function).__name__}.\n"
    )
    assert f"Pass the function itself, without calling it: check.{name}(my_function)." in printed


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_a_quiet_checker_given_something_not_callable_prints_nothing(capsys, checker):
    result = checker(42, quiet=True)
    assert capsys.readouterr().out == ""
    assert result.status == "raised" and "expected a function, got an object of type int" in result.report


# A bad option of the checker itself is the caller's mistake: reported as such (naming the
# option, the expectation and the value), never as a checker bug ("please report it").
BAD_OPTIONS = {
    "average_precision: unknown interpolation": (lambda fn: check.average_precision(fn, interpolation="voc", quiet=True), "interpolation must be one of ('coco101', 'voc_all', 'voc11'), got 'voc'"),
    "yolo_v1_loss: S zero": (lambda fn: check.yolo_v1_loss(fn, S=0, quiet=True), "S must be a positive int, got 0"),
    "yolo_v1_loss: B negative": (lambda fn: check.yolo_v1_loss(fn, B=-1, quiet=True), "B must be a positive int, got -1"),
    "yolo_v1_loss: C a float": (lambda fn: check.yolo_v1_loss(fn, C=20.0, quiet=True), "C must be a positive int, got 20.0"),
    "focal_loss: alpha above 1": (lambda fn: check.focal_loss(fn, alpha=2, quiet=True), "alpha must be a number in [0, 1] or None, got 2"),
    "focal_loss: negative gamma": (lambda fn: check.focal_loss(fn, gamma=-1.0, quiet=True), "gamma must be a number >= 0, got -1.0"),
}


@pytest.mark.parametrize("call, message", BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_a_checker_with_a_bad_option_reports_it(call, message):
    calls = []
    result = call(lambda *args: calls.append(args))  # must not raise
    assert result.status == "unavailable" and not result and result.cases == 0
    assert message in result.report
    assert "Fix the option in this call" in result.report and "please report" not in result.report
    assert calls == []  # the learner's function is not run with a broken setup
