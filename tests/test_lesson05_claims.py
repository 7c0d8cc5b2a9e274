"""The claims lesson 05 makes about the article's loss versions, each checked independently of
the lesson's own code: effective weights of the terms, NaN and finite gradients on empty batches,
BCE saturation, box gradients on empty cells and the IoU gate's positives."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from yolo_lesson.article_losses import (
    article_iou,
    article_loss_iou_gate,
    article_loss_mse,
    article_loss_smoothl1_bce,
)
from yolo_lesson.grid import encode_batch
from yolo_lesson.loss import responsibility, yolo_v1_loss

S, C = 7, 3


def centred_objects(k, n_images=1, size=0.3):
    """A target [n_images, S, S, 5 + C] with k objects per image, centred in cells 0..k-1
    (row-major), all of class 0."""
    cells = torch.arange(k)
    centres = torch.stack([(cells % S + 0.5) / S, (cells // S + 0.5) / S], dim=1)
    boxes = torch.cat([centres, torch.full((k, 2), size)], dim=1)
    return encode_batch([boxes] * n_images, [torch.zeros(k, dtype=torch.long)] * n_images, S=S, C=C)


def probe(target, x_offset=0.1, conf=0.5):
    """A prediction equal to the target, with confidence `conf` everywhere and every object's x
    shifted by `x_offset` (class values equal to the one-hot targets)."""
    pred = target.clone()
    pred[..., 4] = conf
    pred[..., 0] = torch.where(target[..., 4] > 0, target[..., 0] + x_offset, 0.0)
    return pred


def measured_weights(loss_fn, target, x_offset=0.1, conf=0.5):
    """(w_obj, w_noobj, w_x): the factor w of w·(p - t)² for an object's confidence, an empty
    cell's confidence and an object's x, read from d loss / d p = 2 w (p - t)."""
    pred = probe(target, x_offset, conf).requires_grad_()
    loss_fn(pred, target).total.backward()
    obj = target[..., 4] > 0
    obj_index = obj.nonzero()[0].tolist()
    empty_index = (~obj).nonzero()[0].tolist()
    g_obj = pred.grad[(*obj_index, 4)].item()
    g_empty = pred.grad[(*empty_index, 4)].item()
    g_x = pred.grad[(*obj_index, 0)].item()
    return g_obj / (2 * (conf - 1)), g_empty / (2 * conf), g_x / (2 * x_offset)


@pytest.mark.parametrize("k, n_images", [(1, 1), (3, 1), (8, 2), (48, 1)])
def test_article_v2_effective_weights_depend_on_the_object_count(k, n_images):
    target = centred_objects(k, n_images)
    cells = n_images * S * S
    objects = n_images * k
    # Hand formulas, per-term means: λ_obj over the object cells, λ_noobj over the empty cells,
    # λ_coord over all cells × 4 box numbers, with SmoothL1's 0.5·d² for |d| < 1 (hence the 2).
    expected = (1.0 / objects, 0.5 / (cells - objects), 5.0 / (2 * 4 * cells))
    assert measured_weights(article_loss_smoothl1_bce, target) == pytest.approx(expected, rel=1e-5)


def test_article_v2_with_one_object_weighs_boxes_392_times_less_than_the_paper():
    w_obj, _, w_x = measured_weights(article_loss_smoothl1_bce, centred_objects(1))
    # Paper: w_x / w_obj = λ_coord = 5. Article v2 with one object: (5 / 392) / 1.
    assert 5 / (w_x / w_obj) == pytest.approx(392, rel=1e-5)


@pytest.mark.parametrize("k, n_images", [(1, 1), (8, 2), (48, 1)])
def test_paper_effective_weights_are_the_lambdas_whatever_the_count(k, n_images):
    def paper(pred, target):
        return yolo_v1_loss(pred, target, S=S, B=1, C=C, conf_target="one")

    # Sum over the grid / N: a responsible confidence weighs 1/N, an empty one λ_noobj/N,
    # an x error λ_coord/N; the ratios are the λs.
    w_obj, w_noobj, w_x = measured_weights(paper, centred_objects(k, n_images))
    assert (w_obj, w_noobj, w_x) == pytest.approx((1 / n_images, 0.5 / n_images, 5 / n_images), rel=1e-5)


def test_article_v1_weighs_empty_and_object_cells_alike():
    # One mean over all N·S² confidences: every cell weighs 1/49, x errors 1/(4·49).
    for k in (1, 20):
        assert measured_weights(article_loss_mse, centred_objects(k)) == pytest.approx(
            (1 / 49, 1 / 49, 1 / 196), rel=1e-5
        )


def test_article_v2_on_an_empty_batch_is_nan_but_its_gradient_is_finite():
    target = torch.zeros(3, S, S, 5 + C)
    pred = torch.full_like(target, 0.4).requires_grad_()
    terms = article_loss_smoothl1_bce(pred, target)
    assert math.isnan(terms.total.item())
    terms.total.backward()
    # The NaN terms are means over zero elements: autograd has no element to send NaN to.
    assert torch.isfinite(pred.grad).all()
    # The empty cells' confidences still get the noobj push: 0.5 · 2 · 0.4 / 147 cells.
    assert pred.grad[0, 0, 0, 4].item() == pytest.approx(0.5 * 2 * 0.4 / 147, rel=1e-5)


def test_the_same_mean_written_with_a_multiplied_mask_sends_nan_into_the_gradient():
    target = torch.zeros(2, S, S, 5 + C)
    pred = torch.full_like(target, 0.4).requires_grad_()
    mask = target[..., 4]
    obj = (mask * (pred[..., 4] - 1) ** 2).sum() / mask.sum()  # 0 / 0
    obj.backward()
    # d obj / d conf = mask · 2(conf - 1) / sum(mask) = 0 · (finite / 0) = NaN, in every cell.
    assert pred.grad[..., 4].isnan().all()
    assert not pred.grad[..., :4].isnan().any()


def test_sigmoid_then_bce_saturates_where_the_logits_form_does_not():
    z = torch.tensor([20.0], requires_grad=True)
    loss = F.binary_cross_entropy(torch.sigmoid(z), torch.zeros(1))
    loss.backward()
    # float32 sigmoid(20) rounds to 1.0; log(1 - 1) = -inf is capped at -100 by PyTorch.
    assert loss.item() == 100.0 and z.grad.item() == 0.0
    z.grad = None
    loss = F.binary_cross_entropy_with_logits(z, torch.zeros(1))
    loss.backward()
    # softplus(20) = 20 + log(1 + e^-20) ≈ 20 + 2.1e-9; its slope sigmoid(20) ≈ 1.
    assert loss.item() == pytest.approx(20.0, abs=1e-6) and z.grad.item() == pytest.approx(1.0, abs=1e-6)


def test_float32_sigmoid_reaches_exactly_one_near_16_6():
    # sigmoid(z) = 1 / (1 + e^-z), and 1 + e^-z rounds to exactly 1 in float32 once e^-z is below
    # half a step at 1, 2^-24 ≈ 6e-8: z > 24 · ln 2 ≈ 16.64.
    assert torch.sigmoid(torch.tensor(16.0)).item() < 1.0
    assert torch.sigmoid(torch.tensor(17.0)).item() == 1.0
    threshold = next(z / 10 for z in range(150, 180) if torch.sigmoid(torch.tensor(z / 10)).item() == 1.0)
    assert threshold == pytest.approx(16.6, abs=0.15)


def _stable_bce_with_logits(z, y):
    return z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))


def test_the_stable_bce_formula_matches_a_float64_loop_and_pytorch():
    zs = [-40.0, -7.5, -1.0, -0.2, 0.3, 2.0, 16.0, 30.0]
    for y in (0.0, 1.0, 0.25):
        # Reference in plain Python floats: -[y log σ(z) + (1 - y) log(1 - σ(z))], with
        # log σ(z) = -log1p(e^-z) and log(1 - σ(z)) = -z - log1p(e^-z), written per sign of z.
        reference = []
        for z in zs:
            log_sig = -math.log1p(math.exp(-z)) if z >= 0 else z - math.log1p(math.exp(z))
            log_one_minus = log_sig - z
            reference.append(-(y * log_sig + (1 - y) * log_one_minus))
        z_t = torch.tensor(zs, dtype=torch.float64)
        y_t = torch.full_like(z_t, y)
        torch.testing.assert_close(_stable_bce_with_logits(z_t, y_t), torch.tensor(reference, dtype=torch.float64))
        torch.testing.assert_close(
            _stable_bce_with_logits(z_t, y_t), F.binary_cross_entropy_with_logits(z_t, y_t, reduction="none")
        )


def test_the_stable_bce_formula_has_the_right_gradient():
    z = torch.tensor([-3.0, -0.7, 0.4, 2.5, 12.0], dtype=torch.float64, requires_grad=True)  # away from 0
    y = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda v: _stable_bce_with_logits(v, y), (z,))


def test_box_losses_of_v1_and_v2_push_empty_cells_and_the_paper_does_not():
    target = centred_objects(2, n_images=2)
    pred = probe(target)
    pred[..., 2:4] = torch.where(target[..., 4:5] > 0, pred[..., 2:4], 0.2)  # empty cells: w = h = 0.2
    empty = target[..., 4] == 0
    for loss_fn, expected in [
        # MSE over N·S²·4 = 392 box numbers: d/dw = 2 · 0.2 / 392.
        (article_loss_mse, 2 * 0.2 / 392),
        # λ_coord · SmoothL1 mean: d/dw = 5 · 0.2 / 392 (quadratic region, 0.5·d²).
        (article_loss_smoothl1_bce, 5 * 0.2 / 392),
        (lambda p, t: yolo_v1_loss(p, t, S=S, B=1, C=C), 0.0),
    ]:
        leaf = pred.clone().requires_grad_()
        loss_fn(leaf, target).box.backward()
        w_grad = leaf.grad[..., 2][empty]
        assert torch.allclose(w_grad, torch.full_like(w_grad, expected), rtol=1e-5, atol=0)


def test_the_gate_never_opens_in_an_empty_cell_and_is_nan_without_positives():
    g = torch.Generator().manual_seed(0)
    target = centred_objects(3, n_images=4)
    for _ in range(5):
        pred = torch.rand(target.shape, generator=g)
        gate = article_iou(pred[..., :4], target[..., :4]) > 0.5
        # An empty cell's target box is (0, 0, 0, 0): intersection 0, so IoU 0.
        assert not gate[target[..., 4] == 0].any()
    far = target.clone()
    far[..., 0] = torch.where(target[..., 4] > 0, 0.95, 0.0)  # every box 0.45 cell off in x
    far[..., 2:4] = torch.where(target[..., 4:5] > 0, 0.05, 0.0)  # and much too small
    assert not (article_iou(far[..., :4], target[..., :4]) > 0.5).any()
    assert math.isnan(article_loss_iou_gate(far, target).total.item())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_paper_has_one_responsible_predictor_per_object_cell_from_the_start(seed):
    g = torch.Generator().manual_seed(seed)
    target = centred_objects(5, n_images=3)
    pred = torch.randn(3, S, S, 2 * 5 + C, generator=g)  # B = 2, untrained-looking raw numbers
    resp = responsibility(pred, target, S=S, B=2, C=C).responsible
    per_cell = resp.sum(-1)  # [N, S, S]
    assert torch.equal(per_cell, (target[..., 4] > 0).long())


@pytest.mark.parametrize("k, n_images", [(1, 1), (8, 1), (48, 1), (3, 2)])
def test_article_v2_box_weight_and_exchange_rate_are_two_different_ratios(k, n_images):
    # Lesson 05 splits "392-fold" in two. (1) The weight of one x error: λ_coord / (2·4·S²·N) in
    # version 2 (SmoothL1's ½, a mean over 4 numbers × S² cells × N images) against λ_coord / N in
    # the paper: 392 times smaller whatever K. (2) The exchange rate x : confidence of the same
    # object: (5 / (392 N)) / (1 / (K N)) = 5K / 392 against 5: 392 / K times smaller.
    target = centred_objects(k, n_images)
    w_obj, _, w_x = measured_weights(article_loss_smoothl1_bce, target)
    paper_w_obj, _, paper_w_x = measured_weights(
        lambda p, t: yolo_v1_loss(p, t, S=S, B=1, C=C, conf_target="one"), target
    )
    assert paper_w_x / w_x == pytest.approx(392, rel=1e-5)
    assert (paper_w_x / paper_w_obj) / (w_x / w_obj) == pytest.approx(392 / k, rel=1e-5)


def test_article_v3_trains_the_confidence_of_an_object_below_the_gate_towards_zero():
    # One object whose predicted box misses it (IoU 0 < 0.5): the cell is not a positive, so
    # the no-object term covers it and pushes its confidence 0.6 down: d/dconf = 0.5 · 2 · 0.6 / 49.
    target = centred_objects(1)
    pred = target.clone()
    pred[..., 0] = torch.where(target[..., 4] > 0, 0.95, 0.0)
    pred[..., 2:4] = torch.where(target[..., 4:5] > 0, 0.05, 0.0)
    pred[..., 4] = 0.6
    pred.requires_grad_()
    obj = target[..., 4] > 0
    assert not (article_iou(pred[..., :4], target[..., :4]) > 0.5).any()
    article_loss_iou_gate(pred, target).noobj.backward()
    assert pred.grad[..., 4][obj].item() == pytest.approx(0.5 * 2 * 0.6 / 49, rel=1e-5)
    # The paper's loss, on the same cell, pulls that confidence towards its IoU, here 0: the
    # object cell gets the obj term, not the noobj term. Check that the noobj term ignores it.
    leaf = pred.detach().clone().requires_grad_()
    yolo_v1_loss(leaf, target, S=S, B=1, C=C).noobj.backward()
    assert leaf.grad[..., 4][obj].item() == 0.0
