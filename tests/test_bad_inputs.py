"""The bad-input catalogue: for every public function, the malformed inputs it must reject and
what it says. Each case is ``(call, fragments)``: calling it must raise a ``ValueError`` whose
message contains every fragment; together the fragments name the argument, what was expected
and what was received (``got ...``), as yolo_lesson/_checks.py promises.

Sections follow the package's modules. Modules still being written (metrics, data, modern,
train, widgets) add their own section below, as a dict of the same form, and list it in
``CATALOGUE``.
"""

from __future__ import annotations

import pytest
import torch

from yolo_lesson import article_losses, boxes, grid, loss

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
    "wh_transform: unknown mode": (lambda: loss.wh_transform(torch.ones(3), "sqrt"), ["mode must be one of 'signed_sqrt', 'clamped_sqrt', 'linear'", "got 'sqrt'"]),
    "wh_transform: integer widths": (lambda: loss.wh_transform(torch.ones(3, dtype=torch.long)), ["wh must be a floating-point tensor", "got dtype torch.int64"]),
}

ARTICLE_LOSSES = {
    "article_iou: wrong last dim": (lambda: article_losses.article_iou(torch.zeros(2, 5), torch.zeros(2, 5)), ["boxes1 must be [..., 4] (x, y, w, h)", "got [2, 5]"]),
    "article_iou: shapes differ": (lambda: article_losses.article_iou(torch.zeros(2, 4), torch.zeros(3, 4)), ["boxes2 must have the same shape as boxes1, [2, 4]", "got [3, 4]"]),
    "article_loss_mse: rank 3": (lambda: article_losses.article_loss_mse(ARTICLE[0], ARTICLE[0]), ["pred must be [N, S, S, 5 + C] with C >= 1", "got [7, 7, 25]"]),
    "article_loss_smoothl1_bce: batch sizes": (lambda: article_losses.article_loss_smoothl1_bce(ARTICLE, ARTICLE[:1]), ["target must have the same shape as pred, [2, 7, 7, 25]", "got [1, 7, 7, 25]"]),
    "article_loss_iou_gate: integer pred": (lambda: article_losses.article_loss_iou_gate(ARTICLE.long(), ARTICLE), ["pred must be a floating-point tensor", "got dtype torch.int64"]),
}

# Sections still to come (metrics, data, modern, train, widgets): add a dict above and list it here.
CATALOGUE = {"boxes": BOXES, "grid": GRID, "loss": LOSS, "article_losses": ARTICLE_LOSSES}
CASES = {f"{module}: {name}": case for module, section in CATALOGUE.items() for name, case in section.items()}


def test_the_valid_inputs_are_valid():
    """Each case breaks a valid input in one way; the unbroken ones must pass."""
    assert TARGET[OBJECT_CELL + (4,)] == 1
    boxes.iou(BOX, BOX)
    grid.encode_targets(CXCYWH, LABELS)
    loss.yolo_v1_loss(PRED, TARGET)
    article_losses.article_loss_mse(ARTICLE, ARTICLE)


def test_the_catalogue_has_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("call, fragments", CASES.values(), ids=CASES.keys())
def test_bad_input_is_a_value_error_naming_argument_expectation_and_value(call, fragments):
    with pytest.raises(ValueError) as raised:
        call()
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
