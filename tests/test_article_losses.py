"""The article's three loss versions are exhibits: these tests pin down that they compute what
the article writes, flaws included, so that lesson 05 can show each flaw reliably."""

from __future__ import annotations

import math

import pytest
import torch

from yolo_lesson.article_losses import (
    article_iou,
    article_loss_iou_gate,
    article_loss_mse,
    article_loss_smoothl1_bce,
)
from yolo_lesson.grid import encode_batch

S, C = 4, 3


def one_object_target(cx=0.3, cy=0.6, w=0.2, h=0.4, label=1):
    return encode_batch([torch.tensor([[cx, cy, w, h]])], [torch.tensor([label])], S=S, C=C)


def test_mse_version_is_three_plain_means_over_every_cell():
    target = one_object_target()  # [1, 4, 4, 8]
    pred = torch.zeros_like(target)
    terms = article_loss_mse(pred, target)
    # The object sits in row floor(0.6·4) = 2, col floor(0.3·4) = 1, offsets (0.2, 0.4).
    # Box: squares 0.2² + 0.4² + 0.2² + 0.4² = 0.4 spread over 16 cells × 4 numbers = 64.
    assert terms.box.item() == pytest.approx(0.4 / 64)
    # Confidence: one 1 among 16 cells.
    assert terms.obj.item() == pytest.approx(1 / 16)
    # Classes: one 1 among 16 cells × 3 classes.
    assert terms.cls.item() == pytest.approx(1 / 48)
    assert terms.noobj.item() == 0
    assert terms.total.item() == pytest.approx(0.4 / 64 + 1 / 16 + 1 / 48)


def test_mse_version_pulls_boxes_of_empty_cells():
    target = one_object_target()
    pred = torch.zeros_like(target, requires_grad=True)
    with torch.no_grad():
        pred[0, 0, 0, :4] = 0.5  # a box predicted in an empty cell
    article_loss_mse(pred, target).total.backward()
    # An empty cell's box gets a gradient: the loss teaches "no box here" through coordinates.
    assert pred.grad[0, 0, 0, :4].abs().sum() > 0


def test_smoothl1_bce_version_with_hand_values():
    target = one_object_target()
    pred = torch.zeros_like(target)
    pred[..., 5:] = 0.5  # class "probabilities" of one half
    terms = article_loss_smoothl1_bce(pred, target)
    # SmoothL1 with beta 1 is 0.5·d² for |d| < 1: 0.5·0.4 / 64 cells·numbers, times λ_coord = 5.
    assert terms.box.item() == pytest.approx(5 * 0.5 * 0.4 / 64)
    # The single object cell predicts conf 0 against 1: mean of one squared error = 1.
    assert terms.obj.item() == pytest.approx(1.0)
    # Empty cells predict 0 against 0.
    assert terms.noobj.item() == 0
    # BCE of p = 0.5 is log 2 whatever the label.
    assert terms.cls.item() == pytest.approx(math.log(2), rel=1e-6)


def test_smoothl1_bce_version_is_nan_on_a_batch_without_objects():
    target = torch.zeros(2, S, S, 5 + C)
    pred = torch.full_like(target, 0.5)
    terms = article_loss_smoothl1_bce(pred, target)  # a mean over an empty selection: 0 / 0
    assert math.isnan(terms.obj.item()) and math.isnan(terms.cls.item())
    assert math.isnan(terms.total.item())


def test_smoothl1_bce_version_rejects_raw_class_scores():
    target = one_object_target()
    pred = torch.zeros_like(target)
    pred[..., 5:] = 2.5  # a raw score, as a network's last linear layer gives
    with pytest.raises(RuntimeError):
        article_loss_smoothl1_bce(pred, target)


def test_smoothl1_bce_version_still_regresses_boxes_of_empty_cells():
    target = one_object_target()
    pred = torch.zeros_like(target)
    pred[..., 5:] = 0.5
    base = article_loss_smoothl1_bce(pred, target).box
    pred[0, 0, 0, :4] = 0.3  # cell (0, 0) holds no object
    assert article_loss_smoothl1_bce(pred, target).box > base


def test_iou_gate_has_no_positives_at_initialization():
    target = one_object_target()
    torch.manual_seed(0)
    pred = torch.rand_like(target) * 0.01  # a fresh network: tiny boxes near the cell corner
    terms = article_loss_iou_gate(pred, target)
    assert math.isnan(terms.box.item()) and math.isnan(terms.total.item())


def test_iou_gate_ignores_the_ground_truth_object_indicator():
    target = one_object_target()
    pred = torch.zeros_like(target)
    pred[..., 5:] = 0.5
    row, col = 2, 1
    pred[0, row, col, :4] = target[0, row, col, :4]  # a perfect box in the object cell
    with_indicator = article_loss_iou_gate(pred, target)
    target_without = target.clone()
    target_without[0, row, col, 4] = 0  # erase the object indicator
    without_indicator = article_loss_iou_gate(pred, target_without)
    torch.testing.assert_close(with_indicator.total, without_indicator.total)


def test_article_iou_by_hand_and_its_mixed_frames():
    # Centre (0.5, 0.5), size 1×1 against centre (1.0, 0.5), size 1×1: overlap 0.5 × 1,
    # union 1.5, IoU 1/3 (up to the 1e-6 guard).
    a = torch.tensor([0.5, 0.5, 1.0, 1.0])
    b = torch.tensor([1.0, 0.5, 1.0, 1.0])
    assert article_iou(a, b).item() == pytest.approx(1 / 3, rel=1e-5)
    # In the YOLO layout (S = 7) a box one cell wide has w = 1/7 of the image, but x is in cell
    # units: a centre off by a tenth of a cell is 0.1 in x. In image units that shift is
    # 0.1/7 ≈ 0.0143, so the true overlap is 1/7 - 0.0143 ≈ 0.1286 wide and the true IoU is
    # 0.1286 / (2/7 - 0.1286) ≈ 0.818. The helper reads the shift as 0.1 image units:
    # overlap 1/7 - 0.1 ≈ 0.0429, IoU 0.0429 / (2/7 - 0.0429) ≈ 0.176.
    target = torch.tensor([0.5, 0.5, 1 / 7, 1 / 7])
    pred = torch.tensor([0.6, 0.5, 1 / 7, 1 / 7])
    assert article_iou(pred, target).item() == pytest.approx(0.0429 / (2 / 7 - 0.0429), rel=1e-2)
    assert article_iou(pred, target).item() < 0.818 / 4


@pytest.mark.parametrize(
    "loss", [article_loss_mse, article_loss_smoothl1_bce, article_loss_iou_gate]
)
def test_bad_shapes_are_named(loss):
    with pytest.raises(ValueError, match=r"target must have the same shape as pred"):
        loss(torch.zeros(1, S, S, 8), torch.zeros(1, S, S, 9))
    with pytest.raises(ValueError, match=r"pred must be \[N, S, S, 5 \+ C\]"):
        loss(torch.zeros(S, S, 8), torch.zeros(S, S, 8))
    with pytest.raises(ValueError, match=r"pred must be a floating-point tensor"):
        loss(torch.zeros(1, S, S, 8, dtype=torch.long), torch.zeros(1, S, S, 8))
