"""Tests of yolo_lesson.modern: anchors, BCE on logits, the ignore threshold, IoU-family box
losses, focal loss, distribution focal loss and the task-aligned metric.

Expected values are worked out by hand in the comments; vectorized functions are compared with
plain-Python loops over floats; every loss is gradchecked in float64."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from yolo_lesson.boxes import ciou
from yolo_lesson.modern import (
    YOLOV3_ANCHORS_PX,
    assign_anchors,
    bce_with_logits,
    box_loss,
    cell_grid,
    decode_anchor_boxes,
    distribution_focal_loss,
    distribution_to_distance,
    encode_anchor_boxes,
    focal_loss,
    ignore_mask,
    iou_objectness_target,
    objectness_loss,
    shape_iou,
    task_alignment_metric,
)

KINDS = ["iou", "giou", "diou", "ciou"]
F64 = torch.float64


def T(*values, dtype=F64):
    return torch.tensor(values, dtype=dtype)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def random_xyxy(n, generator):
    """``[n, 4]`` float64 xyxy boxes, centres in [0.2, 0.8], sizes in [0.05, 0.5]."""
    centre = 0.2 + 0.6 * torch.rand(n, 2, generator=generator, dtype=F64)
    size = 0.05 + 0.45 * torch.rand(n, 2, generator=generator, dtype=F64)
    return torch.cat((centre - size / 2, centre + size / 2), dim=-1)


# ---------------------------------------------------------------- anchors


def test_cell_grid_holds_column_then_row():
    grid = cell_grid(3)
    assert grid.shape == (3, 3, 2)
    # Entry [row=1, col=2] is (c_x, c_y) = (2, 1): c_x counts columns, as x does.
    assert grid[1, 2].tolist() == [2.0, 1.0]


def test_decode_of_zero_is_the_cell_centre_and_the_anchor_size():
    # σ(0) = 0.5: the centre sits in the middle of cell (c_x, c_y) = (2, 1) of a 4×4 grid,
    # cx = (0.5 + 2) / 4 = 0.625, cy = (0.5 + 1) / 4 = 0.375; exp(0) = 1: the anchor's size.
    box = decode_anchor_boxes(T(0, 0, 0, 0), T(2, 1), T(0.3, 0.2), S=4)
    torch.testing.assert_close(box, T(0.625, 0.375, 0.3, 0.2))


def test_decode_hand_values():
    # σ(ln 3) = 3 / 4, σ(-ln 3) = 1 / 4; exp(ln 2) = 2, exp(-ln 2) = 1/2.
    # Cell (0, 0) of a 2×2 grid: cx = 0.75 / 2 = 0.375, cy = 0.25 / 2 = 0.125;
    # anchor (0.2, 0.4): w = 0.4, h = 0.2.
    t = T(math.log(3), -math.log(3), math.log(2), -math.log(2))
    box = decode_anchor_boxes(t, T(0, 0), T(0.2, 0.4), S=2)
    torch.testing.assert_close(box, T(0.375, 0.125, 0.4, 0.2))


def test_decode_matches_a_loop_over_the_grid():
    g = torch.Generator().manual_seed(0)
    N, S, A = 2, 3, 2
    t = torch.randn(N, S, S, A, 4, generator=g, dtype=F64)
    anchors = T([0.1, 0.2], [0.5, 0.3])
    boxes = decode_anchor_boxes(t, cell_grid(S, F64)[:, :, None, :], anchors, S)
    for n in range(N):
        for row in range(S):
            for col in range(S):
                for a in range(A):
                    tx, ty, tw, th = t[n, row, col, a].tolist()
                    pw, ph = anchors[a].tolist()
                    expected = [(sigmoid(tx) + col) / S, (sigmoid(ty) + row) / S, pw * math.exp(tw), ph * math.exp(th)]
                    assert boxes[n, row, col, a].tolist() == pytest.approx(expected, abs=1e-12)


def test_encode_then_decode_and_decode_then_encode_round_trip():
    g = torch.Generator().manual_seed(1)
    S = 5
    grid = cell_grid(S, F64)[:, :, None, :]  # [S, S, 1, 2]
    anchors = T([0.1, 0.3], [0.4, 0.2], [0.7, 0.8])  # [3, 2]
    t = 3 * torch.randn(4, S, S, 3, 4, generator=g, dtype=F64)
    boxes = decode_anchor_boxes(t, grid, anchors, S)
    # The logit form is the exact inverse of the decoding.
    torch.testing.assert_close(encode_anchor_boxes(boxes, grid, anchors, S, xy_target="logit"), t)
    logit = encode_anchor_boxes(boxes, grid, anchors, S, xy_target="logit")
    torch.testing.assert_close(decode_anchor_boxes(logit, grid, anchors, S), boxes)
    # The offset form (the default) is σ(tx), σ(ty) and the same tw, th.
    offset = encode_anchor_boxes(boxes, grid, anchors, S)
    torch.testing.assert_close(offset, torch.cat([torch.sigmoid(t[..., :2]), t[..., 2:]], dim=-1))


def test_offset_target_is_the_offset_in_the_cell_and_compares_with_the_sigmoid():
    """darknet's delta_yolo_box: target tx = cx · S - c_x, compared with σ(tx). Centre
    (0.3, 0.7) on a 4×4 grid: cell (1, 2), offsets 0.2 and 0.8; size 0.2 × 0.1 on a
    0.1 × 0.1 anchor: log 2 and log 1 = 0."""
    target = encode_anchor_boxes(T(0.3, 0.7, 0.2, 0.1), T(1, 2), T(0.1, 0.1), S=4)
    torch.testing.assert_close(target, T(0.2, 0.8, math.log(2), 0.0))
    # On a border the offset target is exactly 0 or 1, no ε: σ(tx) approaches it smoothly.
    border = encode_anchor_boxes(T(0.25, 0.5, 0.1, 0.1), T(1, 2), T(0.1, 0.1), S=4)
    assert border[:2].tolist() == [0.0, 0.0]
    assert encode_anchor_boxes(T(1.0, 1.0, 0.1, 0.1), T(3, 3), T(0.1, 0.1), S=4)[:2].tolist() == [1.0, 1.0]


def test_logit_targets_pull_hard_near_a_cell_border_offset_targets_do_not():
    """A prediction at the cell's middle (tx = 0, σ = 0.5) and an object at offset 0.001.
    Squared error in t against logit(0.001) = -6.907: gradient 2 · 6.907 = 13.8. Squared
    error in σ(t) against 0.001: gradient 2 · (0.5 - 0.001) · σ'(0) = 2 · 0.499 · 0.25 =
    0.2495. At the centre of the cell (offset 0.5) both targets are met, no pull."""
    box = T(0.25 + 0.001 / 4, 0.625, 0.1, 0.1)  # offsets (0.001, 0.5) in cell (1, 2), S = 4
    logit = encode_anchor_boxes(box, T(1, 2), T(0.1, 0.1), S=4, xy_target="logit")
    offset = encode_anchor_boxes(box, T(1, 2), T(0.1, 0.1), S=4)
    tx = torch.zeros(2, dtype=F64, requires_grad=True)
    (g_logit,) = torch.autograd.grad(((tx - logit[:2]) ** 2).sum(), tx)
    (g_offset,) = torch.autograd.grad(((torch.sigmoid(tx) - offset[:2]) ** 2).sum(), tx)
    assert g_logit.tolist() == pytest.approx([-2 * math.log(0.001 / 0.999), 0.0], abs=1e-6)
    assert g_logit[0] / g_offset[0] > 50
    assert g_offset.tolist() == pytest.approx([2 * 0.499 * 0.25, 0.0], abs=1e-9)


def test_encode_of_a_box_on_a_cell_border_or_of_zero_size_is_finite():
    # Centre (0.25, 0.5) on a 4×4 grid, cell (1, 2): offsets 0 and 0, whose logit is -∞; the
    # target is moved 1e-6 inside the cell. A zero width has log -∞; it is floored at 1e-9.
    t = encode_anchor_boxes(T(0.25, 0.5, 0.0, 0.2), T(1, 2), T(0.1, 0.1), S=4, xy_target="logit")
    assert torch.isfinite(t).all()
    assert t[0].item() == pytest.approx(math.log(1e-6 / (1 - 1e-6)))
    assert t[2].item() == pytest.approx(math.log(1e-9 / 0.1))
    # The right border of the image: offset 1 in the last cell.
    assert torch.isfinite(encode_anchor_boxes(T(1.0, 1.0, 0.1, 0.1), T(3, 3), T(0.1, 0.1), S=4, xy_target="logit")).all()


def test_decode_gradients_float64():
    g = torch.Generator().manual_seed(2)
    t = torch.randn(2, 3, 2, 4, generator=g, dtype=F64, requires_grad=True)
    anchors = T([0.2, 0.3], [0.5, 0.1]).requires_grad_()
    assert torch.autograd.gradcheck(lambda t, a: decode_anchor_boxes(t, T(1, 2), a, 3), (t, anchors))


def test_empty_anchor_inputs():
    assert decode_anchor_boxes(torch.zeros(0, 4), torch.zeros(0, 2), T(0.1, 0.1), 3).shape == (0, 4)
    assert encode_anchor_boxes(torch.zeros(0, 4), torch.zeros(0, 2), T(0.1, 0.1), 3).shape == (0, 4)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: decode_anchor_boxes(torch.zeros(3), T(0, 0), T(0.1, 0.1), 3), r"t must be \[\.\.\., 4\]"),
        (lambda: decode_anchor_boxes(torch.zeros(4, dtype=torch.long), T(0, 0), T(0.1, 0.1), 3), "t must be a floating"),
        (lambda: decode_anchor_boxes(torch.zeros(4), T(0, 0), T(0.0, 0.1), 3), "anchors must be > 0"),
        (lambda: decode_anchor_boxes(torch.zeros(4), T(3, 0), T(0.1, 0.1), 3), r"cell_xy must lie in \[0, 2\]"),
        (lambda: decode_anchor_boxes(torch.zeros(4), T(0, 0), T(0.1, 0.1), 0), "S must be a positive int, got 0"),
        (lambda: decode_anchor_boxes(torch.zeros(2, 4), torch.zeros(3, 2), T(0.1, 0.1), 3), r"t \[2, 4\], cell_xy \[3, 2\]"),
        (lambda: encode_anchor_boxes(T(0.9, 0.5, 0.1, 0.1), T(0, 1), T(0.1, 0.1), 3), "centres must lie in their cells"),
        (lambda: encode_anchor_boxes(T(0.1, 0.1, -0.1, 0.1), T(0, 0), T(0.1, 0.1), 3), "widths and heights must lie in"),
        (lambda: encode_anchor_boxes(T(math.nan, 0.1, 0.1, 0.1), T(0, 0), T(0.1, 0.1), 3), "boxes must be finite"),
        (lambda: encode_anchor_boxes(T(0.1, 0.1, 0.1, 0.1), T(0, 0), T(0.1, 0.1), 3, xy_target="sigmoid"),
         "xy_target must be one of 'offset', 'logit', got 'sigmoid'"),
    ],
)
def test_bad_anchor_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- shape IoU and anchor assignment


def test_shape_iou_hand_values():
    # (2, 1) against (1, 2), centres aligned: overlap 1 × 1 = 1, union 2 + 2 - 1 = 3.
    assert shape_iou(T(2, 1), T(1, 2)).item() == pytest.approx(1 / 3)
    # Same shape: 1, wherever the boxes were. Half the width: 1/2.
    assert shape_iou(T(0.3, 0.4), T(0.3, 0.4)).item() == pytest.approx(1.0)
    assert shape_iou(T(0.3, 0.4), T(0.15, 0.4)).item() == pytest.approx(0.5)
    # Two zero-size shapes: no union, 0 and not 0/0.
    assert shape_iou(T(0, 0), T(0, 0)).item() == 0.0


def test_assign_anchors_matches_a_loop_on_the_yolov3_anchors():
    anchors = torch.tensor(YOLOV3_ANCHORS_PX, dtype=F64)  # [9, 2] pixels
    g = torch.Generator().manual_seed(3)
    wh = 5 + 400 * torch.rand(50, 2, generator=g, dtype=F64)
    found = assign_anchors(wh, anchors)
    for k, (w, h) in enumerate(wh.tolist()):
        ious = []
        for pw, ph in YOLOV3_ANCHORS_PX:
            inter = min(w, pw) * min(h, ph)
            ious.append(inter / (w * h + pw * ph - inter))
        assert found.ious[k].tolist() == pytest.approx(ious)
        assert int(found.anchor[k]) == max(range(9), key=lambda a: (ious[a], -a))


def test_assign_anchors_hand_cases():
    anchors = torch.tensor(YOLOV3_ANCHORS_PX, dtype=F64)
    # An object exactly the shape of anchor 6 (116 × 90 px) gets it, with shape IoU 1.
    # A tall 20 × 60 object: anchor 1 (16 × 30) overlaps 16·30 = 480 of 1200 + 480 - 480 →
    # 0.4; anchor 3 (30 × 61) overlaps 20·60 = 1200 of 1200 + 1830 - 1200 = 1830 → 0.656: 3.
    found = assign_anchors(T([116, 90], [20, 60]), anchors)
    assert found.anchor.tolist() == [6, 3]
    assert found.ious[0, 6].item() == pytest.approx(1.0)
    assert found.ious[1, 3].item() == pytest.approx(1200 / 1830)
    # A tie (two identical anchors) goes to the first; scale invariance: pixels or [0, 1].
    assert assign_anchors(T([1, 1]), T([2, 2], [2, 2])).anchor.tolist() == [0]
    torch.testing.assert_close(assign_anchors(T([20, 60]), anchors).ious, assign_anchors(T([20, 60]) / 416, anchors / 416).ious)


def test_assign_anchors_with_no_objects_and_with_a_zero_size_object():
    found = assign_anchors(torch.zeros(0, 2), T([0.1, 0.1], [0.2, 0.3]))
    assert found.anchor.shape == (0,) and found.anchor.dtype == torch.long and found.ious.shape == (0, 2)
    zero = assign_anchors(T([0, 0]), T([0.1, 0.1], [0.2, 0.3]))
    assert zero.ious.tolist() == [[0.0, 0.0]] and zero.anchor.tolist() == [0]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: assign_anchors(T(0.1, 0.1), T([0.1, 0.1])), r"wh must be \[K, 2\] \(w, h\), got \[2\]"),
        (lambda: assign_anchors(T([0.1, 0.1]), torch.zeros(0, 2, dtype=F64)), "at least one prior"),
        (lambda: assign_anchors(T([0.1, 0.1]), T([0.1, -0.1])), "anchors must be > 0"),
        (lambda: shape_iou(T(-0.1, 0.1), T(0.1, 0.1)), r"wh_a must lie in \[0, inf\]"),
        (lambda: shape_iou(T(0.1, 0.1, 0.1), T(0.1, 0.1)), r"wh_a must be \[\.\.\., 2\]"),
    ],
)
def test_bad_assignment_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- BCE on logits


def test_bce_with_logits_hand_values():
    # x = 0: σ = 1/2 and the loss is ln 2 whatever y is. x = ln 3, y = 1: σ = 3/4, -ln(3/4).
    # x = ln 3, y = 0.5: -0.5 ln(3/4) - 0.5 ln(1/4).
    loss = bce_with_logits(T(0, math.log(3), math.log(3)), T(1, 1, 0.5), reduction="none")
    expected = [math.log(2), -math.log(0.75), -0.5 * math.log(0.75) - 0.5 * math.log(0.25)]
    assert loss.tolist() == pytest.approx(expected)


def test_bce_with_logits_matches_a_loop():
    g = torch.Generator().manual_seed(4)
    x = 4 * torch.randn(40, generator=g, dtype=F64)
    y = torch.rand(40, generator=g, dtype=F64)
    total = 0.0
    for xi, yi in zip(x.tolist(), y.tolist()):
        total += -yi * math.log(sigmoid(xi)) - (1 - yi) * math.log(1 - sigmoid(xi))
    assert bce_with_logits(x, y).item() == pytest.approx(total)
    assert bce_with_logits(x, y, reduction="mean").item() == pytest.approx(total / 40)


def test_bce_from_logits_survives_where_sigmoid_then_log_does_not():
    # float32: σ(20) rounds to exactly 1, so sigmoid-then-BCE takes log(1 - 1) = log 0, which
    # torch clamps at -100: the loss reads 100 and the gradient is 0. The true loss is
    # -log(1 - σ(20)) = 20 + log(1 + e^-20) ≈ 20, with gradient σ(20) - 0 ≈ 1.
    x = torch.tensor([20.0], requires_grad=True)
    y = torch.tensor([0.0])
    naive = F.binary_cross_entropy(torch.sigmoid(x), y)
    assert naive.item() == pytest.approx(100.0)
    naive.backward()
    assert x.grad.item() == 0.0
    x.grad = None
    stable = bce_with_logits(x, y)
    assert stable.item() == pytest.approx(20.0, rel=1e-6)
    stable.backward()
    assert x.grad.item() == pytest.approx(1.0, rel=1e-6)


def test_mse_on_probabilities_has_a_vanishing_gradient_where_bce_does_not():
    # Target 1, logit -10 (confidently wrong). MSE on σ: d/dx (σ - 1)² = 2(σ - 1)σ(1 - σ),
    # |.| ≈ 2 · 4.5e-5 ≈ 9e-5; BCE: σ - 1 ≈ -1.
    x = torch.tensor([-10.0], dtype=F64, requires_grad=True)
    ((torch.sigmoid(x) - 1) ** 2).sum().backward()
    mse_grad = x.grad.item()
    x.grad = None
    bce_with_logits(x, T(1.0)).backward()
    s = sigmoid(-10)
    assert mse_grad == pytest.approx(2 * (s - 1) * s * (1 - s))
    assert x.grad.item() == pytest.approx(s - 1)
    assert abs(mse_grad) < 1e-3 < abs(x.grad.item())


def test_bce_gradcheck_and_empty_input():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(6, generator=g, dtype=F64, requires_grad=True)
    y = torch.rand(6, generator=g, dtype=F64)
    assert torch.autograd.gradcheck(lambda x: bce_with_logits(x, y), (x,))
    empty = torch.zeros(0, requires_grad=True)
    for reduction in ("sum", "mean"):
        loss = bce_with_logits(empty, torch.zeros(0), reduction=reduction)
        assert loss.item() == 0.0  # the mean of nothing is 0 here, not 0/0
        loss.backward()


def test_half_precision_is_computed_in_float32():
    loss = bce_with_logits(torch.tensor([0.0], dtype=torch.float16), torch.tensor([1.0], dtype=torch.float16))
    assert loss.dtype == torch.float32 and loss.item() == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: bce_with_logits(T(0.0, 1.0), T(1.0)), r"targets must have the shape of logits, \[2\], got \[1\]"),
        (lambda: bce_with_logits(T(0.0), T(1.5)), r"targets must lie in \[0, 1\], got values from 1.5"),
        (lambda: bce_with_logits(T(0.0), T(1.0), reduction="avg"), "reduction must be one of 'sum', 'mean', 'none', got 'avg'"),
        (lambda: bce_with_logits([0.0], T(1.0)), "logits must be a torch.Tensor, got list"),
    ],
)
def test_bad_bce_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- ignore threshold and objectness


def test_ignore_mask_hand_case():
    truth = T([0.0, 0.0, 1.0, 1.0])  # [1, 4]
    preds = T(
        [0.0, 0.0, 1.0, 0.9],  # IoU 0.9: a good box that is not the assigned one → ignored
        [0.0, 0.0, 1.0, 0.5],  # IoU exactly 0.5: not above the threshold → still a negative
        [2.0, 2.0, 3.0, 3.0],  # disjoint → a negative
        [0.5, 0.5, 0.5, 0.5],  # zero size → IoU 0, a negative
    )
    assert ignore_mask(preds, truth).tolist() == [True, False, False, False]
    assert ignore_mask(preds, truth, threshold=0.4).tolist() == [True, True, False, False]


def test_ignore_mask_matches_a_loop_and_broadcasts_over_a_batch():
    g = torch.Generator().manual_seed(6)
    preds, truths = random_xyxy(2 * 30, g).reshape(2, 30, 4), random_xyxy(2 * 4, g).reshape(2, 4, 4)
    mask = ignore_mask(preds, truths, threshold=0.3)
    assert mask.shape == (2, 30)

    def iou_loop(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
        return w * h / union

    for n in range(2):
        for p in range(30):
            best = max(iou_loop(preds[n, p].tolist(), truths[n, k].tolist()) for k in range(4))
            assert bool(mask[n, p]) == (best > 0.3)
    assert mask.any() and not mask.all()  # the case is not trivial


def test_ignore_mask_without_objects_ignores_nothing():
    assert ignore_mask(T([0, 0, 1, 1], [0, 0, 0.5, 0.5]), torch.zeros(0, 4, dtype=F64)).tolist() == [False, False]
    assert ignore_mask(torch.zeros(0, 4), torch.zeros(0, 4)).shape == (0,)


def test_objectness_loss_hand_case():
    # All logits 0: each BCE term is ln 2. One positive (target 1), one ignored negative, two
    # plain negatives: obj = ln 2, noobj = 2 ln 2.
    terms = objectness_loss(
        torch.zeros(4, dtype=F64),
        positive=torch.tensor([True, False, False, False]),
        ignore=torch.tensor([False, True, False, False]),
    )
    assert terms.obj.item() == pytest.approx(math.log(2))
    assert terms.noobj.item() == pytest.approx(2 * math.log(2))
    # A positive is never ignored, even when the ignore mask covers it.
    same = objectness_loss(torch.zeros(4, dtype=F64), torch.tensor([True, False, False, False]), ignore=torch.tensor([True, True, False, False]))
    assert same.obj.item() == pytest.approx(math.log(2))


def test_objectness_loss_with_iou_targets_matches_a_loop():
    g = torch.Generator().manual_seed(7)
    logits = 3 * torch.randn(5, 6, generator=g, dtype=F64)
    positive = torch.rand(5, 6, generator=g) < 0.3
    ignore = torch.rand(5, 6, generator=g) < 0.3
    target = torch.rand(5, 6, generator=g, dtype=F64)
    terms = objectness_loss(logits, positive, target=target, ignore=ignore)
    obj = noobj = 0.0
    for x, pos, ign, y in zip(logits.flatten().tolist(), positive.flatten().tolist(), ignore.flatten().tolist(), target.flatten().tolist()):
        if pos:
            obj += -y * math.log(sigmoid(x)) - (1 - y) * math.log(1 - sigmoid(x))
        elif not ign:
            noobj += -math.log(1 - sigmoid(x))
    assert terms.obj.item() == pytest.approx(obj)
    assert terms.noobj.item() == pytest.approx(noobj)


def test_objectness_loss_gradcheck_and_empty():
    g = torch.Generator().manual_seed(8)
    logits = torch.randn(8, generator=g, dtype=F64, requires_grad=True)
    positive = torch.tensor([True, False] * 4)
    target = torch.rand(8, generator=g, dtype=F64)
    assert torch.autograd.gradcheck(lambda x: sum(objectness_loss(x, positive, target)), (logits,))
    empty = objectness_loss(torch.zeros(0), torch.zeros(0, dtype=torch.bool))
    assert empty.obj.item() == 0.0 and empty.noobj.item() == 0.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: objectness_loss(torch.zeros(2), torch.tensor([1, 0])), "positive must be a bool tensor, got dtype torch.int64"),
        (lambda: objectness_loss(torch.zeros(2), torch.tensor([True])), r"positive must have the shape of logits, \[2\], got \[1\]"),
        (lambda: objectness_loss(torch.zeros(1), torch.tensor([True]), target=torch.tensor([2.0])), r"target must lie in \[0, 1\]"),
        (lambda: objectness_loss(torch.zeros(1), torch.tensor([True]), ignore=torch.tensor([0.0])), "ignore must be a bool tensor"),
        (lambda: ignore_mask(torch.zeros(4), torch.zeros(1, 4)), r"pred_boxes must be \[\.\.\., P, 4\] \(xyxy\), got \[4\]"),
        (lambda: ignore_mask(torch.zeros(2, 3, 4), torch.zeros(3, 1, 4)), "must have broadcastable leading dimensions"),
        (lambda: ignore_mask(torch.zeros(1, 4), torch.zeros(1, 4), threshold=1.5), r"threshold must be a number in \[0, 1\], got 1.5"),
    ],
)
def test_bad_objectness_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- IoU-family box loss


def ciou_loop(a, b):
    """CIoU of two xyxy boxes with positive sizes, from the paper's formulas (plain floats)."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    wa, ha, wb, hb = a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1]
    value = w * h / (wa * ha + wb * hb - w * h)
    rho2 = ((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2 + ((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2) ** 2
    c2 = (max(a[2], b[2]) - min(a[0], b[0])) ** 2 + (max(a[3], b[3]) - min(a[1], b[1])) ** 2
    v = 4 / math.pi**2 * (math.atan(wa / ha) - math.atan(wb / hb)) ** 2
    alpha = v / (1 - value + v) if v > 0 else 0.0
    return value - rho2 / c2 - alpha * v


def test_box_loss_hand_values():
    a, b = T(0.0, 0.0, 1.0, 1.0), T(0.5, 0.0, 1.5, 1.0)
    # IoU of unit squares shifted by half a side: 0.5 / 1.5 = 1/3. The hull equals the union,
    # so GIoU = IoU too: both losses are 2/3.
    assert box_loss(a, b, kind="iou").item() == pytest.approx(2 / 3)
    assert box_loss(a, b, kind="giou").item() == pytest.approx(2 / 3)
    # DIoU: centres 0.5 apart, ρ² = 0.25; hull 1.5 × 1, c² = 3.25: loss 2/3 + 0.25/3.25.
    # Same aspect ratio: CIoU = DIoU.
    assert box_loss(a, b, kind="diou").item() == pytest.approx(2 / 3 + 0.25 / 3.25)
    assert box_loss(a, b, kind="ciou").item() == pytest.approx(2 / 3 + 0.25 / 3.25)
    for kind in KINDS:
        assert box_loss(a, a, kind=kind).item() == pytest.approx(0.0, abs=1e-12)


def test_ciou_box_loss_matches_a_loop():
    g = torch.Generator().manual_seed(9)
    pred, true = random_xyxy(40, g), random_xyxy(40, g)
    expected = [1 - ciou_loop(p, t) for p, t in zip(pred.tolist(), true.tolist())]
    assert box_loss(pred, true, reduction="none").tolist() == pytest.approx(expected)
    assert box_loss(pred, true).item() == pytest.approx(sum(expected))
    assert box_loss(pred, true, reduction="mean").item() == pytest.approx(sum(expected) / 40)


def test_ciou_alpha_constant_against_a_hand_derived_gradient():
    """Target (0, 0, 2, 1), prediction (0, 0, x2, 1) inside it, at x2 = 1; the gradient of
    1 - CIoU in x2, term by term:
      IoU = x2 · 1 / 2                        -> ∂IoU = 1/2, IoU = 1/2;
      ρ²/c² = (x2/2 - 1)² / (2² + 1²)         -> ∂ = (x2/2 - 1) / 5 = -0.1;
      v = 4/π² (atan(x2) - atan 2)²           -> ∂v = 8/π² (atan 1 - atan 2) / (1 + 1²);
      α = v / (1 - IoU + v).
    Constant α (Ultralytics): ∂(1 - CIoU) = -∂IoU + ∂ρ²/c² + α ∂v.
    Differentiable α adds v ∂α, ∂α = [(1 - IoU) ∂v + v ∂IoU] / (1 - IoU + v)²."""
    target = T(0.0, 0.0, 2.0, 1.0)
    iou_, d_iou = 0.5, 0.5
    d_centre = (1 / 2 - 1) / 5
    v = 4 / math.pi**2 * (math.atan(1.0) - math.atan(2.0)) ** 2
    d_v = 8 / math.pi**2 * (math.atan(1.0) - math.atan(2.0)) / 2
    alpha = v / (1 - iou_ + v)
    d_alpha = ((1 - iou_) * d_v + v * d_iou) / (1 - iou_ + v) ** 2
    expected = {
        "constant": -d_iou + d_centre + alpha * d_v,
        "differentiable": -d_iou + d_centre + alpha * d_v + v * d_alpha,
    }
    for mode, value in expected.items():
        pred = T(0.0, 0.0, 1.0, 1.0).requires_grad_()
        loss = box_loss(pred, target, kind="ciou", ciou_alpha=mode)
        (grad,) = torch.autograd.grad(loss, pred)
        assert grad[2].item() == pytest.approx(value, abs=1e-12), mode
        # The value itself does not depend on the option: 1 - (1/2 - 0.25/5 - α v).
        assert loss.item() == pytest.approx(1 - (0.5 - 0.25 / 5 - alpha * v), abs=1e-12)
        (g_boxes,) = torch.autograd.grad(1 - ciou(pred, target, alpha=mode), pred)
        torch.testing.assert_close(g_boxes, grad)
    assert expected["constant"] != pytest.approx(expected["differentiable"])
    # The package's default for the loss is Ultralytics' constant α; for the function, exact.
    pred = T(0.0, 0.0, 1.0, 1.0).requires_grad_()
    (g_default,) = torch.autograd.grad(box_loss(pred, target), pred)
    assert g_default[2].item() == pytest.approx(expected["constant"], abs=1e-12)
    (g_function,) = torch.autograd.grad(1 - ciou(pred, target), pred)
    assert g_function[2].item() == pytest.approx(expected["differentiable"], abs=1e-12)


def test_ciou_alpha_gradcheck_and_bad_option():
    g = torch.Generator().manual_seed(4)
    pred, true = random_xyxy(6, g), random_xyxy(6, g)
    # Differentiable α: the gradient is the derivative of the value, as gradcheck checks.
    assert torch.autograd.gradcheck(lambda p: ciou(p, true, alpha="differentiable"), (pred.clone().requires_grad_(),))
    with pytest.raises(ValueError, match=r"alpha must be one of 'differentiable', 'constant', got 'fixed'"):
        ciou(pred, true, alpha="fixed")
    with pytest.raises(ValueError, match=r"ciou_alpha must be one of 'differentiable', 'constant', got None"):
        box_loss(pred, true, ciou_alpha=None)


def test_box_loss_is_scale_invariant_where_the_v1_term_is_not():
    # The same relative miss (shifted by 10 % of the width) on a small box and on one 4× larger.
    small_p, small_t = T(0.11, 0.1, 0.21, 0.2), T(0.1, 0.1, 0.2, 0.2)
    large_p, large_t = small_p * 4, small_t * 4
    for kind in KINDS:
        torch.testing.assert_close(box_loss(small_p, small_t, kind=kind), box_loss(large_p, large_t, kind=kind))
    # YOLOv1's squared centre error grows with the square of the scale: 0.01² vs 0.04².
    assert ((small_p[0] - small_t[0]) ** 2).item() == pytest.approx(1e-4)
    assert ((large_p[0] - large_t[0]) ** 2).item() == pytest.approx(16e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_box_loss_gradcheck(kind):
    g = torch.Generator().manual_seed(10)
    pred = random_xyxy(5, g).requires_grad_()
    true = random_xyxy(5, g)
    # With CIoU's α held constant (the loss's default, as in Ultralytics) the gradient is on
    # purpose not the derivative of the value: gradcheck the exact one; the constant one is
    # checked against a hand derivation in test_ciou_alpha_constant_against_a_hand_derived_gradient.
    assert torch.autograd.gradcheck(lambda p: box_loss(p, true, kind=kind, ciou_alpha="differentiable"), (pred,))


@pytest.mark.parametrize("kind", KINDS)
def test_box_loss_on_degenerate_and_empty_boxes_is_finite(kind):
    pred = T([0.3, 0.3, 0.3, 0.3], [0.5, 0.5, 0.4, 0.6], [0.2, 0.2, 0.2, 0.4]).requires_grad_()  # point, inverted, zero width
    true = T([0.3, 0.3, 0.3, 0.3], [0.1, 0.1, 0.3, 0.3], [0.2, 0.2, 0.4, 0.4])
    loss = box_loss(pred, true, kind=kind)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()
    empty = torch.zeros(0, 4, requires_grad=True)
    assert box_loss(empty, torch.zeros(0, 4), kind=kind, reduction="mean").item() == 0.0


def test_iou_objectness_target_is_detached_and_clamped():
    a = T(0.0, 0.0, 1.0, 1.0).requires_grad_()
    # Shifted by half a side: CIoU = 1/3 - 0.25/3.25 ≈ 0.2564, the target as it is.
    target = iou_objectness_target(a, T(0.5, 0.0, 1.5, 1.0))
    assert target.item() == pytest.approx(1 / 3 - 0.25 / 3.25)
    assert not target.requires_grad
    # Disjoint boxes: CIoU < 0, the target is 0 (BCE targets live in [0, 1]).
    assert iou_objectness_target(a, T(2.0, 2.0, 3.0, 3.0)).item() == 0.0
    assert iou_objectness_target(a, T(0.5, 0.0, 1.5, 1.0), kind="iou").item() == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: box_loss(torch.zeros(3), torch.zeros(4)), r"pred_boxes must be \[\.\.\., 4\] \(xyxy\), got \[3\]"),
        (lambda: box_loss(torch.zeros(2, 4), torch.zeros(3, 4)), r"pred_boxes \[2, 4\], true_boxes \[3, 4\]"),
        (lambda: box_loss(torch.zeros(4), torch.zeros(4), kind="eiou"), "kind must be one of 'iou', 'giou', 'diou', 'ciou', got 'eiou'"),
        (lambda: iou_objectness_target(torch.zeros(4), torch.zeros(4, dtype=torch.int32)), "true_boxes must be a floating"),
    ],
)
def test_bad_box_loss_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- focal loss


def test_focal_loss_with_gamma_0_and_no_alpha_is_bce():
    # (1 - p_t)^0 = 1 and no α weight: what is left is the BCE.
    g = torch.Generator().manual_seed(11)
    x = 5 * torch.randn(30, generator=g, dtype=F64)
    y = (torch.rand(30, generator=g) < 0.5).to(F64)
    torch.testing.assert_close(focal_loss(x, y, alpha=None, gamma=0.0), bce_with_logits(x, y))


def test_focal_loss_hand_values():
    # x = 0: p = 1/2, p_t = 1/2, BCE = ln 2, (1 - p_t)² = 1/4.
    # Positive: α_t = 0.25 → 0.25 · 0.25 · ln 2; negative: α_t = 0.75 → 0.75 · 0.25 · ln 2.
    loss = focal_loss(T(0.0, 0.0), T(1.0, 0.0), reduction="none")
    assert loss.tolist() == pytest.approx([0.0625 * math.log(2), 0.1875 * math.log(2)])
    # An easy negative, x = -3: p = σ(-3) ≈ 0.0474 = 1 - p_t, BCE = -ln(1 - p) ≈ 0.0486;
    # γ = 2 scales it by 0.0474² ≈ 0.00225, 444 times less.
    p = sigmoid(-3)
    easy = focal_loss(T(-3.0), T(0.0), alpha=None, reduction="none").item()
    assert easy == pytest.approx(p**2 * -math.log(1 - p))


def test_focal_loss_matches_a_loop():
    g = torch.Generator().manual_seed(12)
    x = 3 * torch.randn(40, generator=g, dtype=F64)
    y = torch.rand(40, generator=g, dtype=F64)  # soft targets too
    total = 0.0
    for xi, yi in zip(x.tolist(), y.tolist()):
        p = sigmoid(xi)
        p_t = p * yi + (1 - p) * (1 - yi)
        ce = -yi * math.log(p) - (1 - yi) * math.log(1 - p)
        total += (0.25 * yi + 0.75 * (1 - yi)) * (1 - p_t) ** 1.5 * ce
    assert focal_loss(x, y, gamma=1.5).item() == pytest.approx(total)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_loss_gradcheck(gamma):
    g = torch.Generator().manual_seed(13)
    x = 2 * torch.randn(8, generator=g, dtype=F64)
    x = x.requires_grad_()
    y = torch.tensor([0.0, 1.0] * 4, dtype=F64)
    assert torch.autograd.gradcheck(lambda x: focal_loss(x, y, gamma=gamma), (x,))


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_loss_stays_finite_on_saturated_logits(gamma):
    # float32: σ(-200) underflows to 0, so 1 - p_t is 0 for a right answer; 0^γ with γ < 1
    # has an infinite slope. The result must still be finite, and so must the gradient.
    x = torch.tensor([200.0, -200.0, 200.0], requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.0])
    loss = focal_loss(x, y, gamma=gamma)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
    assert loss.item() == pytest.approx(0.75 * 200.0)  # only the wrong one counts: α_t BCE ≈ 200


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: focal_loss(T(0.0), T(1.0), alpha=1.5), r"alpha must be a number in \[0, 1\] or None, got 1.5"),
        (lambda: focal_loss(T(0.0), T(1.0), gamma=-1), "gamma must be a number >= 0, got -1"),
        (lambda: focal_loss(T(0.0), T(-0.5)), r"targets must lie in \[0, 1\]"),
    ],
)
def test_bad_focal_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- distribution focal loss (v8)


def test_dfl_of_a_target_on_a_bin_is_minus_log_p_of_that_bin():
    # logits (0, ln 2, 0, 0): softmax (1, 2, 1, 1) / 5. Target 1 sits on bin 1: -ln(2/5).
    logits = T(0.0, math.log(2), 0.0, 0.0)
    assert distribution_focal_loss(logits, T(1.0).squeeze()).item() == pytest.approx(-math.log(0.4))
    # The last bin (y = R - 1 = 3) has no right neighbour: -ln(1/5).
    assert distribution_focal_loss(logits, T(3.0).squeeze()).item() == pytest.approx(-math.log(0.2))


def test_dfl_between_bins_weighs_the_two_neighbours():
    # y = 1.25: bins 1 and 2 with weights 0.75 and 0.25: -(0.75 ln 0.4 + 0.25 ln 0.2).
    logits = T(0.0, math.log(2), 0.0, 0.0)
    loss = distribution_focal_loss(logits, T(1.25).squeeze())
    assert loss.item() == pytest.approx(-(0.75 * math.log(0.4) + 0.25 * math.log(0.2)))


def test_dfl_matches_a_loop():
    g = torch.Generator().manual_seed(14)
    logits = torch.randn(3, 4, 16, generator=g, dtype=F64)
    target = 15 * torch.rand(3, 4, generator=g, dtype=F64)
    target[0, 0] = 15.0  # the last bin
    target[0, 1] = 7.0  # on a bin
    loss = distribution_focal_loss(logits, target, reduction="none")
    for i in range(3):
        for j in range(4):
            row = logits[i, j].tolist()
            norm = math.log(sum(math.exp(v) for v in row))
            y = target[i, j].item()
            left = min(int(math.floor(y)), 14)
            expected = -((left + 1 - y) * (row[left] - norm) + (y - left) * (row[left + 1] - norm))
            assert loss[i, j].item() == pytest.approx(expected)


def test_dfl_is_smallest_at_the_two_bin_distribution_whose_mean_is_the_target():
    # For y = 2.3 the best distribution is 0.7 on bin 2 and 0.3 on bin 3 (mean 2.3); DFL is
    # then the entropy -(0.7 ln 0.7 + 0.3 ln 0.3). Moving mass away raises it.
    best = torch.full((6,), -30.0, dtype=F64)
    best[2], best[3] = math.log(0.7), math.log(0.3)
    y = torch.tensor(2.3, dtype=F64)
    low = distribution_focal_loss(best, y).item()
    assert low == pytest.approx(-(0.7 * math.log(0.7) + 0.3 * math.log(0.3)), abs=1e-9)
    assert distribution_to_distance(best).item() == pytest.approx(2.3, abs=1e-9)
    for shifted in (math.log(0.6), math.log(0.8)):
        other = best.clone()
        other[2] = shifted
        other[3] = math.log(1 - math.exp(shifted))
        assert distribution_focal_loss(other, y).item() > low


def test_distribution_to_distance_hand_values():
    # Uniform over bins 0..3: mean 1.5. A distribution concentrated on bin 5: 5.
    assert distribution_to_distance(torch.zeros(4)).item() == pytest.approx(1.5)
    peaked = torch.full((8,), -50.0)
    peaked[5] = 50.0
    assert distribution_to_distance(peaked).item() == pytest.approx(5.0)


def test_dfl_gradcheck_and_empty():
    g = torch.Generator().manual_seed(15)
    logits = torch.randn(5, 8, generator=g, dtype=F64, requires_grad=True)
    target = torch.tensor([0.0, 0.4, 3.0, 6.5, 7.0], dtype=F64)
    assert torch.autograd.gradcheck(lambda x: distribution_focal_loss(x, target), (logits,))
    assert torch.autograd.gradcheck(distribution_to_distance, (logits,))
    empty = torch.zeros(0, 16, requires_grad=True)
    loss = distribution_focal_loss(empty, torch.zeros(0), reduction="mean")
    loss.backward()
    assert loss.item() == 0.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: distribution_focal_loss(torch.zeros(4, 1), torch.zeros(4)), r"logits must be \[\.\.\., R\] with R >= 2 bins, got \[4, 1\]"),
        (lambda: distribution_focal_loss(torch.zeros(4, 8), torch.zeros(3)), r"target must be logits' shape without the bins, \[4\], got \[3\]"),
        (lambda: distribution_focal_loss(torch.zeros(8), torch.tensor(7.5)), r"target must lie in \[0, 7\], got values from 7.5"),
        (lambda: distribution_to_distance(torch.zeros(3, dtype=torch.long)), "logits must be a floating"),
    ],
)
def test_bad_dfl_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- task-aligned metric (v8)


def test_task_alignment_metric_hand_values():
    # s = 0.81, u = 0.5. YOLOv8 (α = 0.5, β = 6): 0.9 · 1/64 = 0.0140625.
    # TOOD's own assigner (α = 1, β = 6): 0.81 / 64 = 0.01265625.
    s, u = T(0.81), T(0.5)
    assert task_alignment_metric(s, u).item() == pytest.approx(0.0140625)
    assert task_alignment_metric(s, u, alpha=1.0).item() == pytest.approx(0.01265625)
    # β = 6 makes localization dominate: a sure but loose candidate (s = 0.9, u = 0.5) ranks
    # below an unsure but tight one (s = 0.3, u = 0.8): 0.0148 < 0.1436.
    t = task_alignment_metric(T(0.9, 0.3), T(0.5, 0.8))
    assert t[0] < t[1]
    assert t.tolist() == pytest.approx([0.9**0.5 * 0.5**6, 0.3**0.5 * 0.8**6])


def test_task_alignment_metric_broadcasts_has_no_gradient_and_no_nan_at_zero():
    scores = torch.tensor([[0.0], [0.5]], requires_grad=True)  # [2, 1]
    ious = torch.tensor([0.0, 1.0, 0.5])  # [3]
    t = task_alignment_metric(scores, ious)
    assert t.shape == (2, 3) and not t.requires_grad
    assert torch.isfinite(t).all() and t[0].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: task_alignment_metric(T(1.2), T(0.5)), r"scores must lie in \[0, 1\]"),
        (lambda: task_alignment_metric(T(0.5), T(-0.1)), r"ious must lie in \[0, 1\]"),
        (lambda: task_alignment_metric(T(0.5, 0.5), T(0.5, 0.5, 0.5)), r"scores and ious must broadcast, got \[2\] and \[3\]"),
        (lambda: task_alignment_metric(T(0.5), T(0.5), beta=-6), "beta must be a number >= 0"),
    ],
)
def test_bad_metric_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
