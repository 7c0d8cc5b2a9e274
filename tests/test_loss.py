"""Tests of the YOLOv1 loss (yolo_lesson.loss): the vectorized function against the loop
reference in reference_loss.py, a hand-computed case, the properties the paper's equation
implies, gradients, edge cases and input checks."""

from __future__ import annotations

import itertools

import pytest
import torch

from reference_loss import iou_cxcywh, reference_yolo_v1_loss, responsible_predictor
from yolo_lesson.grid import encode_batch
from yolo_lesson.loss import LossTerms, YoloV1Loss, _WeightedSquaredError, responsibility, wh_transform, yolo_v1_loss

TERMS = ("total", "box", "obj", "noobj", "cls")
WH_MODES = ("predicted_sqrt", "signed_sqrt", "clamped_sqrt", "linear")
OPTION_VALUES = {
    "conf_target": ("iou", "one"),
    "wh": WH_MODES,
    "noobj_scope": ("not_responsible", "empty_cells"),
    "tie_break": ("rmse", "first"),
    "reduction": ("batchmean", "sum"),
}
# Every combination of the options: 2 · 4 · 2 · 2 · 2 = 64.
OPTIONS = [dict(zip(OPTION_VALUES, combo)) for combo in itertools.product(*OPTION_VALUES.values())]
OPTION_IDS = ["-".join(o.values()) for o in OPTIONS]


def random_case(seed, N=3, S=4, B=2, C=3, dtype=torch.float64, max_objects=6, wh="predicted_sqrt", far=0.5):
    """A random target from encode_batch and a random prediction. In object cells every
    predictor is the target box plus noise (the roots of the target sizes plus noise under
    ``wh="predicted_sqrt"``), so that IoUs are mostly non-zero and differ between predictors;
    some predicted w, h come out negative. In a fraction ``far`` of the object cells every
    predictor is moved 2 to 3 cells away from the object, in a random direction and by a
    random amount each, with a small size: no predictor overlaps the object, and the RMSE
    decides who is responsible."""
    g = torch.Generator().manual_seed(seed)
    boxes, labels = [], []
    for _ in range(N):
        K = int(torch.randint(0, max_objects + 1, (1,), generator=g))
        centres = torch.rand(K, 2, generator=g, dtype=torch.float64)
        sizes = 0.05 + 0.6 * torch.rand(K, 2, generator=g, dtype=torch.float64)
        boxes.append(torch.cat([centres, sizes], dim=1).to(dtype))
        labels.append(torch.randint(0, C, (K,), generator=g))
    target = encode_batch(boxes, labels, S=S, C=C)  # [N, S, S, 5 + C]
    pred = torch.randn(N, S, S, B * 5 + C, generator=g, dtype=torch.float64) * 0.5
    blocks = pred[..., : B * 5].reshape(N, S, S, B, 5)  # [N, S, S, B, 5]: a view into pred
    noise = 0.15 * torch.randn(N, S, S, B, 4, generator=g, dtype=torch.float64)
    obj = target[..., 4].bool()
    truth = target[..., None, :4].double()  # [N, S, S, 1, 4]
    if wh == "predicted_sqrt":
        truth = torch.cat([truth[..., :2], truth[..., 2:].sqrt()], dim=-1)
    blocks[..., :4] = torch.where(obj[..., None, None], truth + noise, blocks[..., :4])
    away = obj & (torch.rand(N, S, S, generator=g, dtype=torch.float64) < far)  # [N, S, S]
    sign = torch.randint(0, 2, (N, S, S, B, 2), generator=g).double() * 2 - 1
    shift = sign * (2 + torch.rand(N, S, S, B, 2, generator=g, dtype=torch.float64))  # 2 to 3 cells
    small = 0.05 + 0.1 * torch.rand(N, S, S, B, 2, generator=g, dtype=torch.float64)
    moved = torch.cat([truth[..., :2] + shift, small], dim=-1)  # [N, S, S, B, 4]
    blocks[..., :4] = torch.where(away[..., None, None], moved, blocks[..., :4])
    return pred.to(dtype), target


def one_object_target(cx, cy, w, h, label=0, S=2, C=2, dtype=torch.float64):
    return encode_batch([torch.tensor([[cx, cy, w, h]], dtype=dtype)], [torch.tensor([label])], S=S, C=C)


# ---------------------------------------------------------------- against the loop reference


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("option", OPTIONS, ids=OPTION_IDS)
def test_every_term_and_gradient_match_the_loop_reference(seed, option):
    S, B, C = 4, 2 + seed % 2, 3  # B = 2 and B = 3
    pred, target = random_case(seed, S=S, B=B, C=C, wh=option["wh"])
    options = dict(S=S, B=B, C=C, lambda_coord=5.0, lambda_noobj=0.5, **option)
    pred_a = pred.clone().requires_grad_()
    pred_b = pred.clone().requires_grad_()
    fast = yolo_v1_loss(pred_a, target, **options)
    slow = reference_yolo_v1_loss(pred_b, target, **options)
    for name in TERMS:
        torch.testing.assert_close(getattr(fast, name), getattr(slow, name), rtol=1e-12, atol=1e-12, msg=name)
    fast.total.backward()
    slow.total.backward()
    torch.testing.assert_close(pred_a.grad, pred_b.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("wh", WH_MODES)
def test_random_cases_really_exercise_both_predictors_and_the_rmse(wh):
    """Guards the test above against a generator that never lets predictor 1 win, by IoU
    and by RMSE (cells where every IoU is 0)."""
    by_iou, by_rmse = [], []
    for seed in range(2):
        pred, target = random_case(seed, B=2 + seed % 2, wh=wh)
        for n, row, col in target[..., 4].nonzero().tolist():
            best, ious = responsible_predictor(pred, target, n, row, col, B=2 + seed % 2, wh=wh)
            (by_iou if max(ious) > 0 else by_rmse).append(best)
    assert 0 in by_iou and 1 in by_iou
    # Where every IoU is 0, the RMSE does not always pick predictor 0 ("first" would).
    assert len(by_rmse) >= 3 and any(best != 0 for best in by_rmse)


@pytest.mark.parametrize("B", [2, 3])
def test_empty_images_in_a_batch_match_the_reference(B):
    """An image without objects between two with objects: only its no-object term counts,
    in values and gradients, as in the loop."""
    pred, target = random_case(21, N=3, S=4, B=B, C=3, max_objects=5)
    target[1] = 0  # image 1 becomes empty
    assert target[0, ..., 4].sum() > 0 and target[1, ..., 4].sum() == 0
    pred_a, pred_b = pred.clone().requires_grad_(), pred.clone().requires_grad_()
    fast = yolo_v1_loss(pred_a, target, S=4, B=B, C=3)
    slow = reference_yolo_v1_loss(pred_b, target, S=4, B=B, C=3)
    for name in TERMS:
        torch.testing.assert_close(getattr(fast, name), getattr(slow, name), rtol=1e-12, atol=1e-12, msg=name)
    fast.total.backward()
    slow.total.backward()
    torch.testing.assert_close(pred_a.grad, pred_b.grad, rtol=1e-10, atol=1e-12)
    confidences = [5 * b + 4 for b in range(B)]
    others = [c for c in range(5 * B + 3) if c not in confidences]
    assert torch.count_nonzero(pred_a.grad[1][..., others]) == 0


def test_float32_matches_the_reference():
    pred, target = random_case(7, N=2, S=7, B=2, C=20, dtype=torch.float32)
    fast = yolo_v1_loss(pred, target)
    slow = reference_yolo_v1_loss(pred, target, S=7, B=2, C=20)
    for name in TERMS:
        # Different summation orders in float32: a few ulps of the sum.
        torch.testing.assert_close(getattr(fast, name), getattr(slow, name), rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.parametrize("seed", [3, 4])
def test_responsibility_matches_the_reference(seed):
    pred, target = random_case(seed, B=3)
    result = responsibility(pred, target, S=4, B=3, C=3)
    expected = torch.zeros_like(result.responsible)
    for n, row, col in target[..., 4].nonzero().tolist():
        best, ious = responsible_predictor(pred, target, n, row, col, B=3)
        expected[n, row, col, best] = True
        torch.testing.assert_close(result.ious[n, row, col], torch.tensor(ious, dtype=pred.dtype))
    assert torch.equal(result.responsible, expected)
    assert result.responsible.sum() == target[..., 4].sum()  # exactly one per object cell


# ---------------------------------------------------------------- a case computed by hand


def hand_case(rooted=False):
    """S = 2, B = 2, C = 2, one object of class 1. The predicted sizes below are the boxes';
    with ``rooted=True`` the tensor holds their square roots instead (0.5, 0.4 and 0.3, 0.2),
    what the default ``wh="predicted_sqrt"`` reads as the same boxes.

    Object (cx, cy, w, h) = (0.3, 0.7, 0.36, 0.16): row floor(0.7·2) = 1, col floor(0.3·2) = 0,
    offsets x = 0.6, y = 0.4; image corners x 0.12..0.48, y 0.62..0.78, area 0.0576.

    Cell (1, 0):
      predictor 0: (0.5, 0.4, 0.25, 0.16), conf 0.8 -> image centre ((0+0.5)/2, (1+0.4)/2)
                   = (0.25, 0.7), corners x 0.125..0.375, y 0.62..0.78: inside the object,
                   IoU = 0.25·0.16 / 0.0576 = 0.04 / 0.0576 = 25/36 ≈ 0.694;
      predictor 1: (0.5, 0.5, 0.09, 0.04), conf 0.3 -> centre (0.25, 0.75), corners
                   x 0.205..0.295, y 0.73..0.77: inside too, IoU = 0.0036 / 0.0576 = 1/16;
      class scores (0.2, 0.7).
    Predictor 0 has the higher IoU: it is responsible.
    Confidences elsewhere: cell (0,0) (0.1, 0), cell (0,1) (0.2, 0), cell (1,1) (0, 0.1).
    Boxes and class scores of empty cells are junk that must not count.
    """
    target = one_object_target(0.3, 0.7, 0.36, 0.16, label=1)  # [1, 2, 2, 7]
    pred = torch.full((1, 2, 2, 12), 0.5, dtype=torch.float64)  # junk everywhere first
    pred[0, 1, 0] = torch.tensor([0.5, 0.4, 0.25, 0.16, 0.8, 0.5, 0.5, 0.09, 0.04, 0.3, 0.2, 0.7], dtype=torch.float64)
    if rooted:
        pred[0, 1, 0, [2, 3, 7, 8]] = torch.tensor([0.5, 0.4, 0.3, 0.2], dtype=torch.float64)
    pred[0, 0, 0, [4, 9]] = torch.tensor([0.1, 0.0], dtype=torch.float64)
    pred[0, 0, 1, [4, 9]] = torch.tensor([0.2, 0.0], dtype=torch.float64)
    pred[0, 1, 1, [4, 9]] = torch.tensor([0.0, 0.1], dtype=torch.float64)
    return pred, target


def test_hand_computed_tiny_case():
    pred, target = hand_case()
    torch.testing.assert_close(target[0, 1, 0], torch.tensor([0.6, 0.4, 0.36, 0.16, 1, 0, 1], dtype=torch.float64))
    # clamped_sqrt is the exact √ for sizes above ε, so the arithmetic below is exact.
    terms = yolo_v1_loss(pred, target, S=2, B=2, C=2, wh="clamped_sqrt")
    # box = 5 · [(0.5-0.6)² + (0.4-0.4)² + (√0.25-√0.36)² + (√0.16-√0.16)²]
    #     = 5 · [0.01 + 0 + (0.5-0.6)² + 0] = 5 · 0.02 = 0.1
    assert terms.box.item() == pytest.approx(0.1, abs=1e-12)
    # obj = (0.8 - 25/36)² = (28.8/36 - 25/36)² = (3.8/36)² = 361/32400 ≈ 0.011142
    assert terms.obj.item() == pytest.approx(361 / 32400, abs=1e-12)
    # noobj = 0.5 · (0.3² of predictor 1 + 0.1² + 0.2² + 0.1² of the empty cells)
    #       = 0.5 · (0.09 + 0.06) = 0.075
    assert terms.noobj.item() == pytest.approx(0.075, abs=1e-12)
    # cls = (0.2 - 0)² + (0.7 - 1)² = 0.04 + 0.09 = 0.13
    assert terms.cls.item() == pytest.approx(0.13, abs=1e-12)
    assert terms.total.item() == pytest.approx(0.1 + 361 / 32400 + 0.075 + 0.13, abs=1e-12)

    # With signed_sqrt, √0.36 becomes 0.36/√0.360001: the ε shifts the box term by ~1e-6.
    signed = yolo_v1_loss(pred, target, S=2, B=2, C=2, wh="signed_sqrt")
    assert signed.box.item() == pytest.approx(0.1, abs=1e-5)
    # Target 1 instead of the IoU: obj = (0.8 - 1)² = 0.04.
    one = yolo_v1_loss(pred, target, S=2, B=2, C=2, wh="clamped_sqrt", conf_target="one")
    assert one.obj.item() == pytest.approx(0.04)
    # Only empty cells in the no-object term: predictor 1's 0.3² drops out, 0.5 · 0.06 = 0.03.
    empty = yolo_v1_loss(pred, target, S=2, B=2, C=2, wh="clamped_sqrt", noobj_scope="empty_cells")
    assert empty.noobj.item() == pytest.approx(0.03)
    # No division by N (one image here): the same terms.
    summed = yolo_v1_loss(pred, target, S=2, B=2, C=2, wh="clamped_sqrt", reduction="sum")
    assert summed.total.item() == pytest.approx(terms.total.item(), abs=1e-15)
    # Without roots: 5 · [0.01 + (0.25 - 0.36)²] = 5 · 0.0221 = 0.1105.
    assert yolo_v1_loss(pred, target, S=2, B=2, C=2, wh="linear").box.item() == pytest.approx(0.1105)


def test_hand_case_under_the_default_predicted_roots():
    """The same boxes, the tensor holding their roots (the paper's parametrization): the IoUs
    use the outputs squared (0.5² = 0.25, 0.4² = 0.16: the same boxes, the same IoUs 25/36
    and 1/16), and the box term compares the outputs with the roots of the target:
    5 · [(0.5-0.6)² + 0² + (0.5 - √0.36)² + (0.4 - √0.16)²] = 5 · 0.02 = 0.1, as above,
    with no ε anywhere."""
    pred, target = hand_case(rooted=True)
    terms = yolo_v1_loss(pred, target, S=2, B=2, C=2)
    result = responsibility(pred, target, S=2, B=2, C=2)
    torch.testing.assert_close(result.ious[0, 1, 0], torch.tensor([25 / 36, 1 / 16], dtype=torch.float64))
    assert result.responsible[0, 1, 0].tolist() == [True, False]
    assert terms.box.item() == pytest.approx(0.1, abs=1e-12)
    assert terms.obj.item() == pytest.approx(361 / 32400, abs=1e-12)
    assert terms.noobj.item() == pytest.approx(0.075, abs=1e-12)
    assert terms.cls.item() == pytest.approx(0.13, abs=1e-12)
    # The gradient of the box term in predictor 0's w output: 5 · 2 · (0.5 - 0.6) = -1,
    # whatever the box size (under signed_sqrt it is divided by 2√w: see lesson 04).
    pred.requires_grad_()
    yolo_v1_loss(pred, target, S=2, B=2, C=2).box.backward()
    assert pred.grad[0, 1, 0, 2].item() == pytest.approx(-1.0, abs=1e-12)


def test_sum_reduction_is_the_mean_times_n():
    pred, target = random_case(15, N=3)
    mean = yolo_v1_loss(pred, target, S=4, B=2, C=3)
    summed = yolo_v1_loss(pred, target, S=4, B=2, C=3, reduction="sum")
    for name in TERMS:
        torch.testing.assert_close(getattr(summed, name), 3 * getattr(mean, name), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- properties of the equation


def perfect_prediction(target, B, wh="predicted_sqrt"):
    """Predictor 0 copies the target box with confidence 1, the others sit on the same box
    with confidence 0 (a tie: predictor 0 stays responsible), class scores are the one-hot.
    Under ``"predicted_sqrt"`` the copied sizes are the roots of the target's."""
    N, S = target.shape[:2]
    xywh = target[..., :4]
    if wh == "predicted_sqrt":
        xywh = torch.cat([xywh[..., :2], xywh[..., 2:].sqrt()], dim=-1)
    box = torch.cat([xywh, target[..., 4:5]], dim=-1)  # [N, S, S, 5]
    others = torch.cat([xywh, torch.zeros_like(target[..., 4:5])], dim=-1)
    return torch.cat([box] + [others] * (B - 1) + [target[..., 5:]], dim=-1)


@pytest.mark.parametrize("wh", WH_MODES)
def test_perfect_prediction_costs_nothing(wh):
    _, target = random_case(11, N=2, S=7, C=20)
    pred = perfect_prediction(target, B=2, wh=wh)
    assert target[..., 4].sum() > 3
    # A box equal to the target has IoU exactly 1; under predicted_sqrt, (√w)² can be w
    # off by one rounding step, an IoU of 1 - 1e-16 and an obj term of about 1e-32.
    tolerance = 1e-28 if wh == "predicted_sqrt" else 0.0
    for conf_target in ("one", "iou"):
        terms = yolo_v1_loss(pred, target, conf_target=conf_target, wh=wh)
        for name in TERMS:
            assert abs(getattr(terms, name).item()) <= tolerance, (conf_target, name)


@pytest.mark.parametrize("option", OPTIONS, ids=OPTION_IDS)
def test_total_is_exactly_the_sum_of_the_terms(option):
    pred, target = random_case(5, dtype=torch.float32, wh=option["wh"])
    terms = yolo_v1_loss(pred, target, S=4, B=2, C=3, **option)
    assert torch.equal(terms.total, terms.box + terms.obj + terms.noobj + terms.cls)
    assert min(terms.box.item(), terms.obj.item(), terms.noobj.item(), terms.cls.item()) > 0


def test_lambda_coord_scales_the_box_term_only():
    pred, target = random_case(6)
    base = yolo_v1_loss(pred, target, S=4, B=2, C=3, lambda_coord=5.0)
    doubled = yolo_v1_loss(pred, target, S=4, B=2, C=3, lambda_coord=10.0)
    torch.testing.assert_close(doubled.box, 2 * base.box)
    for name in ("obj", "noobj", "cls"):
        assert torch.equal(getattr(doubled, name), getattr(base, name))


def test_lambda_noobj_scales_and_switches_off_the_noobj_term():
    pred, target = random_case(6)
    base = yolo_v1_loss(pred, target, S=4, B=2, C=3, lambda_noobj=0.5)
    one = yolo_v1_loss(pred, target, S=4, B=2, C=3, lambda_noobj=1.0)
    off = yolo_v1_loss(pred, target, S=4, B=2, C=3, lambda_noobj=0.0)
    torch.testing.assert_close(one.noobj, 2 * base.noobj)
    assert off.noobj.item() == 0.0
    torch.testing.assert_close(off.total, base.box + base.obj + base.cls)


def test_sum_over_the_grid_divided_by_the_batch_size():
    pred, target = random_case(8, N=2)
    terms = yolo_v1_loss(pred, target, S=4, B=2, C=3)
    # The same batch twice: twice the sum, twice the N, the same terms.
    twice = yolo_v1_loss(torch.cat([pred, pred]), torch.cat([target, target]), S=4, B=2, C=3)
    # Each image alone: the batch value is the mean of the per-image values.
    single = [yolo_v1_loss(pred[i : i + 1], target[i : i + 1], S=4, B=2, C=3) for i in range(2)]
    for name in TERMS:
        torch.testing.assert_close(getattr(twice, name), getattr(terms, name))
        torch.testing.assert_close(getattr(terms, name), (getattr(single[0], name) + getattr(single[1], name)) / 2)


# ---------------------------------------------------------------- responsibility


def two_predictor_pred(first, second, S=2, C=2, row=1, col=0):
    """One-image prediction whose cell (row, col) holds two given (x, y, w, h, conf) blocks."""
    pred = torch.zeros(1, S, S, 10 + C, dtype=torch.float64)
    pred[0, row, col, :10] = torch.tensor(list(first) + list(second), dtype=torch.float64)
    return pred


def test_responsibility_picks_the_higher_iou_predictor():
    target = one_object_target(0.3, 0.7, 0.36, 0.16)  # offsets (0.6, 0.4) in cell (1, 0)
    # Predictor 0 is tiny (IoU 1/16 as in the hand case), predictor 1 is the right size but
    # shifted by 0.1 cell = 0.05 image: IoU = (0.36-0.05)·0.16 / ((0.36+0.05)·0.16) = 31/41.
    # The tensor holds the roots of the sizes (the default wh="predicted_sqrt").
    pred = two_predictor_pred((0.5, 0.5, 0.3, 0.2, 0.0), (0.7, 0.4, 0.6, 0.4, 0.0))
    result = responsibility(pred, target, S=2, B=2, C=2)
    torch.testing.assert_close(result.ious[0, 1, 0], torch.tensor([1 / 16, 31 / 41], dtype=torch.float64))
    assert result.responsible[0, 1, 0].tolist() == [False, True]
    assert result.responsible.sum() == 1
    # The box term is then predictor 1's: 5 · (0.7 - 0.6)² = 0.05 (same size, no root error).
    assert yolo_v1_loss(pred, target, S=2, B=2, C=2).box.item() == pytest.approx(0.05, abs=1e-9)
    # And only predictor 0's confidence joins the no-object term.
    pred[0, 1, 0, 4], pred[0, 1, 0, 9] = 0.4, 0.6
    terms = yolo_v1_loss(pred, target, S=2, B=2, C=2)
    assert terms.noobj.item() == pytest.approx(0.5 * 0.4**2)  # 0.08
    assert terms.obj.item() == pytest.approx((0.6 - 31 / 41) ** 2)


def test_responsibility_tie_goes_to_the_first_predictor():
    target = one_object_target(0.3, 0.7, 0.36, 0.16)
    same = (0.5, 0.4, 0.25, 0.16, 0.0)
    result = responsibility(two_predictor_pred(same, same), target, S=2, B=2, C=2)
    assert result.responsible[0, 1, 0].tolist() == [True, False]
    # Two boxes that miss the object entirely: both IoUs are 0, still a tie.
    missing = (0.0, 0.0, 0.01, 0.01, 0.0)
    result = responsibility(two_predictor_pred(missing, missing), target, S=2, B=2, C=2)
    assert result.ious[0, 1, 0].tolist() == [0.0, 0.0]
    assert result.responsible[0, 1, 0].tolist() == [True, False]


def test_no_overlap_the_smallest_rmse_answers():
    """darknet's fallback. Object (0.3, 0.7, 0.36, 0.16) in cell (1, 0): offsets (0.6, 0.4).
    Neither predictor overlaps it (both 2 cells = 1 image width away or more):
      predictor 0: offsets (3.0, 0.4), roots (0.6, 0.4) -> box 0.36 × 0.16, centre 1.2 image
                   units right of the object's: RMSE² = (2.4/2)² = 1.44;
      predictor 1: offsets (-1.4, 0.4), roots (0.1, 0.1) -> box 0.01 × 0.01, centre 1.0 left:
                   RMSE² = (2.0/2)² + 0.35² + 0.15² = 1 + 0.1225 + 0.0225 = 1.145.
    Predictor 1 is closer, although predictor 0 has the right size: it answers under
    tie_break="rmse"; under "first", predictor 0 does."""
    target = one_object_target(0.3, 0.7, 0.36, 0.16)
    pred = two_predictor_pred((3.0, 0.4, 0.6, 0.4, 0.0), (-1.4, 0.4, 0.1, 0.1, 0.0))
    result = responsibility(pred, target, S=2, B=2, C=2)
    assert result.ious[0, 1, 0].tolist() == [0.0, 0.0]
    assert result.responsible[0, 1, 0].tolist() == [False, True]
    first = responsibility(pred, target, S=2, B=2, C=2, tie_break="first")
    assert first.responsible[0, 1, 0].tolist() == [True, False]
    # The box term follows: predictor 1's 5 · [(-1.4 - 0.6)² + 0 + (0.1 - 0.6)² + (0.1 - 0.4)²]
    # = 5 · [4 + 0.25 + 0.09] = 21.7; predictor 0's 5 · (3.0 - 0.6)² = 28.8.
    assert yolo_v1_loss(pred, target, S=2, B=2, C=2).box.item() == pytest.approx(21.7)
    assert yolo_v1_loss(pred, target, S=2, B=2, C=2, tie_break="first").box.item() == pytest.approx(28.8)
    # Under predicted_sqrt the RMSE compares the boxes (outputs squared), not the outputs:
    # outputs (-0.6, -0.4) draw the same box as (0.6, 0.4), so predictor 0's RMSE is unchanged.
    pred[0, 1, 0, 2:4] = torch.tensor([-0.6, -0.4], dtype=torch.float64)
    assert responsibility(pred, target, S=2, B=2, C=2).responsible[0, 1, 0].tolist() == [False, True]


def test_rmse_fallback_only_when_every_iou_is_zero():
    """One predictor that overlaps, however little, beats any closer-by-RMSE predictor that
    does not; equal non-zero IoUs still go to the first."""
    target = one_object_target(0.3, 0.7, 0.36, 0.16)
    # Predictor 0: the right box, moved 0.34 image to the right: its left edge at 0.465 is
    # inside the object's 0.12..0.48, a sliver of overlap. Predictor 1: the object's centre
    # and size 0 (a point: IoU 0), the smaller RMSE (0.6 and 0.4 apart in roots' squares).
    pred = two_predictor_pred((1.28, 0.4, 0.6, 0.4, 0.0), (0.6, 0.4, 0.0, 0.0, 0.0))
    result = responsibility(pred, target, S=2, B=2, C=2)
    assert result.ious[0, 1, 0, 0] > 0 and result.ious[0, 1, 0, 1] == 0
    assert result.responsible[0, 1, 0].tolist() == [True, False]
    # The same order reversed: predictor 1 overlaps, predictor 0 does not.
    pred = two_predictor_pred((0.6, 0.4, 0.0, 0.0, 0.0), (1.28, 0.4, 0.6, 0.4, 0.0))
    assert responsibility(pred, target, S=2, B=2, C=2).responsible[0, 1, 0].tolist() == [False, True]
    # Equal non-zero IoUs, predictor 1 nearer in RMSE terms is irrelevant: the first answers.
    same = (0.5, 0.4, 0.5, 0.4, 0.0)
    pred = two_predictor_pred(same, same)
    assert responsibility(pred, target, S=2, B=2, C=2).responsible[0, 1, 0].tolist() == [True, False]


@pytest.mark.parametrize("B", [2, 3])
def test_rmse_ties_go_to_the_first(B):
    """Two predictors at the same distance (mirror images about the object's centre in y, the
    same size): the first of them answers, as darknet's strict "<" keeps it."""
    target = one_object_target(0.3, 0.7, 0.36, 0.16)
    pred = torch.zeros(1, 2, 2, 5 * B + 2, dtype=torch.float64)
    blocks = [(0.6, 0.4, 0.1, 0.1, 0.0)] * B
    blocks[0] = (9.0, 0.4, 0.1, 0.1, 0.0)  # far away: never the closest
    blocks[1] = (0.6, 3.4, 0.1, 0.1, 0.0)  # 3 cells below
    if B == 3:
        blocks[2] = (0.6, -2.6, 0.1, 0.1, 0.0)  # 3 cells above: the same distance
    pred[0, 1, 0, : 5 * B] = torch.tensor([v for block in blocks for v in block], dtype=torch.float64)
    result = responsibility(pred, target, S=2, B=B, C=2)
    assert result.ious.sum() == 0
    assert result.responsible[0, 1, 0].tolist() == [False, True] + [False] * (B - 2)
    fast = yolo_v1_loss(pred, target, S=2, B=B, C=2)
    slow = reference_yolo_v1_loss(pred, target, S=2, B=B, C=2)
    for name in TERMS:
        torch.testing.assert_close(getattr(fast, name), getattr(slow, name), rtol=1e-12, atol=1e-12)


def test_responsibility_compares_boxes_in_image_coordinates():
    """x, y are in cell units and w, h in image units; mixing them picks the wrong predictor.

    S = 7, object centred in cell (3, 3), size 0.5 × 0.5.
    Predictor 0: right size, centre 0.3 cell to the right = 0.3/7 ≈ 0.043 of the image.
      Image IoU: overlap (0.5 - 0.043)·0.5 over union (0.5 + 0.043)·0.5 = 0.457/0.543 ≈ 0.842.
      Read in mixed units (shift 0.3 against a width 0.5): (0.5-0.3)/(0.5+0.3) = 0.25.
    Predictor 1: right centre, size 0.35 × 0.5: IoU 0.35/0.5 = 0.7 in both readings.
    In image coordinates predictor 0 is the better box; the mixed frame would pick predictor 1.
    """
    target = one_object_target(3.5 / 7, 3.5 / 7, 0.5, 0.5, S=7, C=2)
    pred = two_predictor_pred((0.8, 0.5, 0.5, 0.5, 0.0), (0.5, 0.5, 0.35, 0.5, 0.0), S=7, row=3, col=3)
    result = responsibility(pred, target, S=7, B=2, C=2, wh="linear")
    shift = 0.3 / 7
    expected = torch.tensor([(0.5 - shift) / (0.5 + shift), 0.7], dtype=torch.float64)
    torch.testing.assert_close(result.ious[0, 3, 3], expected)
    assert result.responsible[0, 3, 3].tolist() == [True, False]
    # The reference's own IoU agrees on the mixed-frame trap too.
    assert iou_cxcywh((0.8, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)) == pytest.approx(0.25)


# ---------------------------------------------------------------- gradients


def test_iou_confidence_target_is_detached():
    pred, target = hand_case(rooted=True)
    pred.requires_grad_()
    yolo_v1_loss(pred, target, S=2, B=2, C=2).obj.backward()
    # The IoU depends on the box, but as a target it is a constant: no gradient reaches
    # any box coordinate through the obj term...
    box_channels = [0, 1, 2, 3, 5, 6, 7, 8]
    assert torch.count_nonzero(pred.grad[..., box_channels]) == 0
    # ...only the responsible confidence: d/dconf (conf - 25/36)² = 2 · (0.8 - 25/36) = 19/90.
    assert pred.grad[0, 1, 0, 4].item() == pytest.approx(2 * 19 / 180)
    assert torch.count_nonzero(pred.grad) == 1


def gradcheck_case(wh="predicted_sqrt"):
    """Two images, S = 2, B = 2, C = 2, float64, away from ties and kinks: in every object
    cell the IoUs of the two predictors differ by a wide margin or are both 0 with RMSEs far
    apart, and every responsible width stays away from 0 (where |w| has its kink). Under
    ``"predicted_sqrt"`` the tensor holds the roots of the same sizes."""
    boxes = [torch.tensor([[0.3, 0.3, 0.3, 0.4], [0.7, 0.8, 0.2, 0.3]]), torch.tensor([[0.6, 0.4, 0.4, 0.2]])]
    target = encode_batch([b.double() for b in boxes], [torch.tensor([0, 1]), torch.tensor([1])], S=2, C=2)
    g = torch.Generator().manual_seed(0)
    pred = 0.3 * torch.randn(2, 2, 2, 12, generator=g, dtype=torch.float64)
    # Image 0, cell (0,0): target offsets (0.6, 0.6), size (0.3, 0.4).
    pred[0, 0, 0, :10] = torch.tensor([0.55, 0.62, 0.28, 0.43, 0.7, 0.3, 0.2, 0.1, 0.1, 0.2])
    # Image 0, cell (1,1): target offsets (0.4, 0.6), size (0.2, 0.3); predictor 1 wins.
    pred[0, 1, 1, :10] = torch.tensor([0.9, 0.9, 0.05, 0.05, 0.1, 0.42, 0.57, 0.22, 0.27, 0.6])
    # Image 1, cell (0,1): target offsets (0.2, 0.8). Predictor 0 has a negative width (empty
    # box, IoU 0), predictor 1 is far away (IoU 0): a stable tie, predictor 0 responsible,
    # and the signed root's smooth branch for w < 0 is checked.
    pred[1, 0, 1, :10] = torch.tensor([0.25, 0.75, -0.1, 0.2, 0.5, 0.9, 0.1, 0.01, 0.01, 0.2])
    if wh == "predicted_sqrt":
        pred[0, 0, 0, [2, 3, 7, 8]] = pred[0, 0, 0, [2, 3, 7, 8]].sqrt()
        pred[0, 1, 1, [2, 3, 7, 8]] = pred[0, 1, 1, [2, 3, 7, 8]].sqrt()
        # Both far from the object (image x 2.0 and -0.25 against its 0.4..0.8): IoU 0 and 0;
        # predictor 0's negative output draws a 0.09-wide box; predictor 1 is nearer (RMSE²
        # about 0.74 against 1.97) and answers under tie_break="rmse".
        pred[1, 0, 1, :10] = torch.tensor([3.0, 0.75, -0.3, 0.2, 0.5, -1.5, 0.8, 0.3, 0.3, 0.2])
    return pred, target


@pytest.mark.parametrize("wh", ["predicted_sqrt", "signed_sqrt"])
def test_gradcheck_case_is_away_from_ties(wh):
    pred, target = gradcheck_case(wh)
    result = responsibility(pred, target, S=2, B=2, C=2, wh=wh)
    ious = result.ious[target[..., 4].bool()]  # [3, 2]
    assert ious[0, 0] - ious[0, 1] > 0.3 and ious[1, 1] - ious[1, 0] > 0.3
    assert ious[2].tolist() == [0.0, 0.0]
    # The 0-0 cell: under predicted_sqrt the RMSE picks predictor 1, under signed_sqrt 0.
    expected = [False, True] if wh == "predicted_sqrt" else [True, False]
    assert result.responsible[target[..., 4].bool()][2].tolist() == expected


@pytest.mark.parametrize("term", ["box", "noobj", "cls"])
@pytest.mark.parametrize("noobj_scope", ["not_responsible", "empty_cells"])
@pytest.mark.parametrize("wh", ["predicted_sqrt", "signed_sqrt"])
@pytest.mark.parametrize("tie_break", ["rmse", "first"])
def test_gradcheck_each_term(term, noobj_scope, wh, tie_break):
    pred, target = gradcheck_case(wh)

    def f(p):
        options = dict(noobj_scope=noobj_scope, wh=wh, tie_break=tie_break)
        return getattr(yolo_v1_loss(p, target, S=2, B=2, C=2, **options), term)

    assert torch.autograd.gradcheck(f, (pred.requires_grad_(),))


@pytest.mark.parametrize("wh", ["predicted_sqrt", "signed_sqrt"])
def test_gradcheck_obj_term_through_the_confidences(wh):
    """The IoU target is constant by design, so a finite difference in a box coordinate (which
    moves the IoU) disagrees with the analytic zero; check the obj term w.r.t. the
    confidences, with the boxes held fixed."""
    pred, target = gradcheck_case(wh)
    conf_channels = [4, 9]

    def f(conf):
        p = pred.clone()
        p[..., conf_channels] = conf
        return yolo_v1_loss(p, target, S=2, B=2, C=2, wh=wh).obj

    assert torch.autograd.gradcheck(f, (pred[..., conf_channels].clone().requires_grad_(),))


@pytest.mark.parametrize("reduction", ["batchmean", "sum"])
def test_gradcheck_total_with_target_one(reduction):
    pred, target = gradcheck_case()

    def f(p):
        return yolo_v1_loss(p, target, S=2, B=2, C=2, conf_target="one", reduction=reduction).total

    assert torch.autograd.gradcheck(f, (pred.requires_grad_(),))


# ---------------------------------------------------------------- closed-form backward
# backward="closed_form" (the default) writes the gradient out, 2 · weight · (pred - goal);
# backward="autograd" lets PyTorch differentiate the step-by-step terms. Both must give the
# same terms and the same gradients, for every option, also when a term is differentiated
# on its own; the closed-form Function itself is checked against finite differences.

# Weights of the terms in a loss that differentiates each term differently: exercises the
# closed form's general path (a gradient per term), not only total.backward().
TERM_WEIGHTS = {"total": 1.0, "box": 2.0, "obj": 3.0, "noobj": -1.0, "cls": 0.5}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("option", OPTIONS, ids=OPTION_IDS)
def test_closed_form_equals_autograd(seed, option):
    S, B, C = 4, 2 + seed % 2, 3  # B = 2 and B = 3
    pred, target = random_case(seed + 30, S=S, B=B, C=C, wh=option["wh"])
    options = dict(S=S, B=B, C=C, lambda_coord=4.0, lambda_noobj=0.3, **option)
    for combine in ("total", "weighted"):
        grads, values = [], []
        for backward in ("closed_form", "autograd"):
            leaf = pred.clone().requires_grad_()
            terms = yolo_v1_loss(leaf, target, backward=backward, **options)
            values.append(terms)
            if combine == "total":
                terms.total.backward()
            else:
                sum(w * getattr(terms, name) for name, w in TERM_WEIGHTS.items()).backward()
            grads.append(leaf.grad)
        for name in TERMS:
            torch.testing.assert_close(getattr(values[0], name), getattr(values[1], name), rtol=1e-12, atol=1e-14, msg=name)
        torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("term", TERMS)
def test_closed_form_each_term_alone_equals_autograd(term):
    """terms.<name>.backward() for one term: the other outputs get no gradient (None)."""
    pred, target = random_case(7, S=4, B=2, C=3)
    grads = []
    for backward in ("closed_form", "autograd"):
        leaf = pred.clone().requires_grad_()
        getattr(yolo_v1_loss(leaf, target, S=4, B=2, C=3, backward=backward), term).backward()
        grads.append(leaf.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-14)


def weighted_squared_error_inputs(seed=0, N=2, S=3, B=2, C=3):
    """Random inputs of the closed-form Function: pred, its box fields, goals, weights of 0
    and of a few λ values, a responsible mask."""
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(N, S, S, B * 5 + C, generator=g, dtype=torch.float64)
    fields = pred[..., : B * 5].unflatten(-1, (B, 5)).permute(4, 3, 0, 1, 2).contiguous()
    goal = torch.rand(5, B, N, S, S, generator=g, dtype=torch.float64)
    weight = torch.tensor([0.0, 0.5, 1.0, 5.0], dtype=torch.float64)[torch.randint(0, 4, (5, B, N, S, S), generator=g)]
    one_hot = torch.rand(N, S, S, C, generator=g, dtype=torch.float64)
    class_weight = torch.randint(0, 2, (N, S, S, 1), generator=g).double() * 0.5
    responsible = torch.rand(B, N, S, S, generator=g) < 0.4
    return pred, fields, goal, weight, one_hot, class_weight, responsible


def test_gradcheck_of_the_closed_form_function():
    """Every output (total and the four terms) of the Function against finite differences,
    and its second derivative: gradgradcheck differentiates the backward pass itself."""
    pred, *constants = weighted_squared_error_inputs()
    fields = constants[0]

    def f(p):
        # fields is a copy of pred's box blocks: recomputed from p, as the loss computes it
        moved = p[..., :10].unflatten(-1, (2, 5)).permute(4, 3, 0, 1, 2).contiguous()
        return _WeightedSquaredError.apply(p, moved, *constants[1:])

    assert torch.equal(fields, pred[..., :10].unflatten(-1, (2, 5)).permute(4, 3, 0, 1, 2))
    pred.requires_grad_()
    assert torch.autograd.gradcheck(f, (pred,))
    assert torch.autograd.gradgradcheck(f, (pred,))


def test_closed_form_terms_equal_a_direct_weighted_sum():
    """forward: box = Σ over the x, y, w, h fields, obj and noobj split the confidence field
    by the responsible mask, cls over the class scores; total is their sum."""
    pred, fields, goal, weight, one_hot, class_weight, responsible = weighted_squared_error_inputs(1)
    total, box, obj, noobj, cls = _WeightedSquaredError.apply(pred, fields, goal, weight, one_hot, class_weight, responsible)
    error = weight * (fields - goal) ** 2
    torch.testing.assert_close(box, error[:4].sum())
    torch.testing.assert_close(obj, error[4][responsible].sum())
    torch.testing.assert_close(noobj, error[4][~responsible].sum())
    torch.testing.assert_close(cls, (class_weight * (pred[..., 10:] - one_hot) ** 2).sum())
    assert total.item() == box.item() + obj.item() + noobj.item() + cls.item()


@pytest.mark.parametrize("wh", ["predicted_sqrt", "linear"])
def test_second_derivatives_equal_autograd(wh):
    """backward(create_graph=True) through the closed form: a Hessian-vector product equals
    autograd's (the loss is quadratic in pred once responsibility is fixed: 2 · weight · v)."""
    pred, target = random_case(3, S=4, B=2, C=3, wh=wh)
    v = torch.randn(pred.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    products = []
    for backward in ("closed_form", "autograd"):
        leaf = pred.clone().requires_grad_()
        (grad,) = torch.autograd.grad(yolo_v1_loss(leaf, target, S=4, B=2, C=3, wh=wh, backward=backward).total, leaf, create_graph=True)
        (hv,) = torch.autograd.grad((grad * v).sum(), leaf)
        products.append(hv)
    torch.testing.assert_close(products[0], products[1], rtol=1e-12, atol=1e-14)
    assert torch.count_nonzero(products[0]) > 0


def test_closed_form_half_precision_matches_autograd():
    """A float16 pred is computed in float32 on both paths; its gradient comes back as float16."""
    pred, target = random_case(5, S=4, B=2, C=3)
    grads = []
    for backward in ("closed_form", "autograd"):
        leaf = pred.half().requires_grad_()
        terms = yolo_v1_loss(leaf, target.float(), S=4, B=2, C=3, backward=backward)
        assert terms.total.dtype == torch.float32
        terms.total.backward()
        assert leaf.grad.dtype == torch.float16
        grads.append(leaf.grad.float())
    torch.testing.assert_close(grads[0], grads[1], rtol=2e-3, atol=1e-4)


# ---------------------------------------------------------------- edge cases


def test_no_object_in_the_batch():
    target = encode_batch([torch.zeros(0, 4)] * 2, [torch.zeros(0, dtype=torch.long)] * 2, S=3, C=2)
    pred = torch.randn(2, 3, 3, 12, generator=torch.Generator().manual_seed(0), requires_grad=True)
    terms = yolo_v1_loss(pred, target, S=3, B=2, C=2)
    assert terms.box.item() == terms.obj.item() == terms.cls.item() == 0.0
    # Every confidence is a no-object confidence: 0.5 · Σ conf² / 2 images.
    expected = 0.5 * (pred[..., [4, 9]] ** 2).sum() / 2
    torch.testing.assert_close(terms.noobj, expected)
    terms.total.backward()
    assert torch.isfinite(pred.grad).all()
    assert torch.count_nonzero(pred.grad[..., [0, 1, 2, 3, 5, 6, 7, 8, 10, 11]]) == 0


@pytest.mark.parametrize("option", OPTIONS[::5], ids=OPTION_IDS[::5])
def test_every_cell_occupied(option):
    centres = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]  # one per cell, S = 2
    boxes = torch.tensor([[cx, cy, 0.3, 0.4] for cx, cy in centres], dtype=torch.float64)
    target = encode_batch([boxes], [torch.tensor([0, 1, 0, 1])], S=2, C=2)
    assert target[..., 4].sum() == 4
    pred, _ = random_case(9, N=1, S=2, C=2)
    noise = torch.randn(1, 2, 2, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    pred[..., :4] = target[..., :4] + 0.1 * noise  # predictor 0 near its object in every cell
    options = dict(S=2, B=2, C=2, **option)
    terms = yolo_v1_loss(pred, target, **options)
    slow = reference_yolo_v1_loss(pred, target, **options)
    for name in TERMS:
        torch.testing.assert_close(getattr(terms, name), getattr(slow, name), rtol=1e-12, atol=1e-12)
    if option["noobj_scope"] == "empty_cells":
        assert terms.noobj.item() == 0.0  # no empty cell anywhere
    else:
        assert terms.noobj.item() > 0.0  # the four non-responsible predictors


@pytest.mark.parametrize("wh", ["signed_sqrt", "clamped_sqrt", "linear"])
def test_zero_size_target_boxes(wh):
    target = one_object_target(0.3, 0.7, 0.0, 0.0)  # a point object: IoU 0 with any box
    pred = two_predictor_pred((0.6, 0.4, 0.2, 0.1, 0.5), (0.6, 0.4, 0.0, 0.0, 0.5)).requires_grad_()
    terms = yolo_v1_loss(pred, target, S=2, B=2, C=2, wh=wh)
    assert all(torch.isfinite(getattr(terms, name)) for name in TERMS)
    # Both IoUs are 0 (a zero-area union counts as no overlap): predictor 0 is responsible,
    # and with the IoU target its confidence regresses to 0: obj = 0.5².
    assert terms.obj.item() == pytest.approx(0.25)
    terms.total.backward()
    assert torch.isfinite(pred.grad).all()


def test_negative_predicted_width_and_height():
    """A network can output w < 0. A plain √ of it would give NaN; the package's transforms do
    not, and under predicted_sqrt no root of a prediction is ever taken. tie_break="first"
    keeps predictor 0 responsible where its box (empty under the tutorial variants) misses."""
    target = one_object_target(0.3, 0.7, 0.36, 0.16)
    grads = {}
    for wh in WH_MODES:
        pred = two_predictor_pred((0.6, 0.4, -0.2, -0.1, 0.5), (0.0, 0.0, 0.01, 0.01, 0.0)).requires_grad_()
        terms = yolo_v1_loss(pred, target, S=2, B=2, C=2, wh=wh, tie_break="first")
        assert all(torch.isfinite(getattr(terms, name)) for name in TERMS), wh
        terms.total.backward()
        assert torch.isfinite(pred.grad).all(), wh
        grads[wh] = pred.grad[0, 1, 0, 2:4].tolist()  # d total / d (w, h) of predictor 0
    # signed_sqrt: w / √(|w| + ε) is below the target's √0.36, so the gradient is negative
    # and a descent step raises w (and h) back towards the target.
    assert grads["signed_sqrt"][0] < 0 and grads["signed_sqrt"][1] < 0
    # clamped_sqrt: √max(w, ε) is flat for w < ε: no gradient at all, the box is stuck.
    assert grads["clamped_sqrt"] == [0.0, 0.0]
    # linear: 5 · 2 · (w - 0.36) = 10 · (-0.56) = -5.6 for w.
    assert grads["linear"][0] == pytest.approx(-5.6)
    # predicted_sqrt: the output -0.2 is a root; 5 · 2 · (-0.2 - √0.36) = -8 for w and
    # 5 · 2 · (-0.1 - √0.16) = -5 for h: the smooth pull of a plain square.
    assert grads["predicted_sqrt"] == pytest.approx([-8.0, -5.0])


def test_signed_sqrt_gradient_is_finite_at_zero_width():
    # d/dw w/√(|w|+ε) at w = 0 is 1/√ε = 1000 (not infinite as for √w); the chain rule through
    # 5 · (f(w) - f(0.36))² gives 5 · 2 · (0 - 0.36/√0.360001) · 1000 ≈ -6000.
    target = one_object_target(0.3, 0.7, 0.36, 0.16)
    pred = two_predictor_pred((0.6, 0.4, 0.0, 0.16, 0.5), (0.0, 0.0, 0.01, 0.01, 0.0)).requires_grad_()
    yolo_v1_loss(pred, target, S=2, B=2, C=2, wh="signed_sqrt").box.backward()
    assert pred.grad[0, 1, 0, 2].item() == pytest.approx(5 * 2 * (0 - 0.36 / 0.360001**0.5) * 1000, rel=1e-6)


def test_objects_on_a_cell_border_and_at_one():
    S = 4
    # cx = 0.5 is exactly the border between columns 1 and 2: floor(2.0) = 2, offset x = 0.
    # (1.0, 1.0) is the image corner: clamped into cell (3, 3) with offsets x = y = 1.
    boxes = torch.tensor([[0.5, 0.25, 0.2, 0.2], [1.0, 1.0, 0.3, 0.3]], dtype=torch.float64)
    target = encode_batch([boxes], [torch.tensor([0, 2])], S=S, C=3)
    torch.testing.assert_close(target[0, 1, 2, :5], torch.tensor([0.0, 0.0, 0.2, 0.2, 1.0], dtype=torch.float64))
    torch.testing.assert_close(target[0, 3, 3, :5], torch.tensor([1.0, 1.0, 0.3, 0.3, 1.0], dtype=torch.float64))
    pred, _ = random_case(12, N=1, S=S, C=3)
    pred[0, 1, 2, :4] = torch.tensor([0.05, -0.05, 0.25, 0.2])
    pred[0, 3, 3, 5:9] = torch.tensor([0.95, 1.02, 0.3, 0.28])
    pred.requires_grad_()
    for option in OPTIONS:
        options = dict(S=S, B=2, C=3, **option)
        fast, slow = yolo_v1_loss(pred, target, **options), reference_yolo_v1_loss(pred, target, **options)
        for name in TERMS:
            torch.testing.assert_close(getattr(fast, name), getattr(slow, name), rtol=1e-12, atol=1e-12)
    yolo_v1_loss(pred, target, S=S, B=2, C=3).total.backward()
    assert torch.isfinite(pred.grad).all()


def test_huge_values_in_empty_cells_give_no_nan():
    """A masked-out cell must not leak 0 · inf = NaN: 1e20² overflows float32 to inf."""
    target = one_object_target(0.3, 0.7, 0.36, 0.16, dtype=torch.float32)
    pred, _ = hand_case()
    pred = pred.float()
    empty = ~target[..., 4].bool()  # [1, 2, 2]
    huge = pred.clone()
    for channel in (0, 1, 2, 3, 5, 6, 7, 8, 10, 11):  # every box coordinate and class score
        huge[..., channel] = torch.where(empty, torch.tensor(1e20), pred[..., channel])
    assert torch.isinf(huge[empty][:, 0] ** 2).all()  # the premise: squares overflow
    huge.requires_grad_()
    for noobj_scope in ("not_responsible", "empty_cells"):
        terms = yolo_v1_loss(huge, target, S=2, B=2, C=2, noobj_scope=noobj_scope)
        normal = yolo_v1_loss(pred, target, S=2, B=2, C=2, noobj_scope=noobj_scope)
        for name in TERMS:
            assert getattr(terms, name).item() == pytest.approx(getattr(normal, name).item()), name
    huge.grad = None
    yolo_v1_loss(huge, target, S=2, B=2, C=2).total.backward()
    assert torch.isfinite(huge.grad).all()
    assert torch.count_nonzero(huge.grad[empty][:, [0, 1, 2, 3, 5, 6, 7, 8, 10, 11]]) == 0


def test_huge_values_of_a_masked_out_predictor_give_no_nan():
    """In the object cell, predictor 1 is not responsible: its box is outside the box term,
    and with noobj_scope="empty_cells" its confidence is outside every confidence term."""
    pred, target = hand_case()
    pred, target = pred.float(), target.float()
    normal = yolo_v1_loss(pred, target, S=2, B=2, C=2, noobj_scope="empty_cells")
    huge = pred.clone()
    huge[0, 1, 0, 5:10] = torch.tensor([0.5, 0.5, 0.09, 0.04, 1e20])  # same box, conf 1e20
    huge.requires_grad_()
    terms = yolo_v1_loss(huge, target, S=2, B=2, C=2, noobj_scope="empty_cells")
    for name in TERMS:
        assert getattr(terms, name).item() == pytest.approx(getattr(normal, name).item()), name
    terms.total.backward()
    assert torch.isfinite(huge.grad).all() and huge.grad[0, 1, 0, 9] == 0


# float16 keeps 11 significant bits (relative step 2⁻¹¹ ≈ 5e-4), bfloat16 8 bits (2⁻⁸ ≈ 4e-3).
# The loss is computed in float32 after the cast, so the only error is rounding the inputs;
# a sum of squared errors then moves by at most about twice the relative step.
HALF_TOLERANCES = {torch.float16: 2e-3, torch.bfloat16: 1.5e-2}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_half_precision_predictions(dtype):
    pred, target = random_case(13, N=2, S=7, C=20, dtype=torch.float32)
    low = pred.to(dtype).requires_grad_()
    terms = yolo_v1_loss(low, target)
    full = yolo_v1_loss(pred, target)
    rtol = HALF_TOLERANCES[dtype]
    for name in TERMS:
        value = getattr(terms, name)
        assert value.dtype == torch.float32 and torch.isfinite(value)
        torch.testing.assert_close(value, getattr(full, name), rtol=rtol, atol=0.0, msg=name)
    terms.total.backward()
    assert low.grad.dtype == dtype and torch.isfinite(low.grad).all()


# ---------------------------------------------------------------- the module


@pytest.mark.parametrize("option", OPTIONS[::3], ids=OPTION_IDS[::3])
@pytest.mark.parametrize("backward", ["closed_form", "autograd"])
def test_module_equals_the_function(option, backward):
    pred, target = random_case(14, S=3, B=3, C=4)
    options = dict(lambda_coord=3.0, lambda_noobj=0.25, backward=backward, **option)
    module = YoloV1Loss(S=3, B=3, C=4, **options)
    by_module = module(pred, target)
    by_function = yolo_v1_loss(pred, target, S=3, B=3, C=4, **options)
    for name in TERMS:
        assert torch.equal(getattr(by_module, name), getattr(by_function, name))
    assert "lambda_coord=3.0" in repr(module) and "0x" not in repr(module)
    assert f"tie_break={option['tie_break']!r}" in repr(module) and f"reduction={option['reduction']!r}" in repr(module)
    assert f"backward={backward!r}" in repr(module)


# ---------------------------------------------------------------- bad inputs


def _target(N=4, S=7, C=20):
    return torch.zeros(N, S, S, 5 + C)


def _with(t, index, value):
    t = t.clone()
    t[index] = value
    return t


GOOD_PRED = torch.zeros(4, 7, 7, 30)  # S=7, B=2, C=20
CELL = (0, 1, 1)  # one cell of the target to spoil

# (pred, keyword arguments, expected message), each against a valid target [4, 7, 7, 25]
BAD_PREDS = {
    "rank": (torch.zeros(7, 7, 30), {}, r"pred must be \[N, S, S, B\*5\+C\].*got \[7, 7, 30\]"),
    "last dim": (
        torch.zeros(4, 7, 7, 25),
        {},
        r"pred must be \[N, S, S, B\*5\+C\] = \[N, 7, 7, 30\] \(S=7, B=2, C=20\), got \[4, 7, 7, 25\]",
    ),
    "B inconsistent": (GOOD_PRED, {"B": 3}, r"pred must be .*\[N, 7, 7, 35\].*B=3"),
    "grid size": (torch.zeros(4, 5, 5, 30), {}, r"pred must be .*got \[4, 5, 5, 30\]"),
    "not a tensor": ([[0.0]], {}, r"pred must be a torch\.Tensor"),
    "integer": (GOOD_PRED.long(), {}, r"pred must be a floating-point tensor"),
}

# (target, expected message), each against GOOD_PRED
BAD_TARGETS = {
    "batch": (_target(N=3), r"target must be \[N, S, S, 5\+C\] = \[4, 7, 7, 25\].*got \[3, 7, 7, 25\]"),
    "C inconsistent": (_target(C=10), r"target must be .*= \[4, 7, 7, 25\].*got \[4, 7, 7, 15\]"),
    "last dim": (torch.zeros(4, 7, 7, 30), r"target must be .*got \[4, 7, 7, 30\]"),
    "integer": (_target().long(), r"target must be a floating-point tensor"),
    "NaN": (_with(_target(), CELL + (0,), float("nan")), r"target must be finite, got 1 NaN"),
    "obj not 0/1": (_with(_target(), CELL + (4,), 0.5), r"target\[\.\.\., 4\] \(obj\) must be 0 or 1"),
    "box > 1": (_with(_target(), CELL + (2,), 1.5), r"target\[\.\.\., :4\] \(x, y, w, h\) must lie in \[0, 1\]"),
    "box < 0": (_with(_target(), CELL + (0,), -0.1), r"target\[\.\.\., :4\].*got values from -0\.1"),
}

# (keyword arguments, expected message), with a valid pred and target
BAD_OPTIONS = {
    "C inconsistent": ({"C": 10}, r"pred must be .*\[N, 7, 7, 20\].*C=10"),
    "negative lambda_coord": ({"lambda_coord": -5.0}, r"lambda_coord must be a number >= 0, got -5\.0"),
    "negative lambda_noobj": ({"lambda_noobj": -0.5}, r"lambda_noobj must be a number >= 0"),
    "NaN lambda_noobj": ({"lambda_noobj": float("nan")}, r"lambda_noobj must be a number >= 0"),
    "conf_target": ({"conf_target": "IoU"}, r"conf_target must be one of 'iou', 'one', got 'IoU'"),
    "wh": ({"wh": "sqrt"}, r"wh must be one of 'predicted_sqrt', 'signed_sqrt', 'clamped_sqrt', 'linear', got 'sqrt'"),
    "noobj_scope": ({"noobj_scope": "empty"}, r"noobj_scope must be one of .*got 'empty'"),
    "tie_break": ({"tie_break": "last"}, r"tie_break must be one of 'rmse', 'first', got 'last'"),
    "reduction": ({"reduction": "mean"}, r"reduction must be one of 'batchmean', 'sum', got 'mean'"),
    "backward": ({"backward": "numeric"}, r"backward must be one of 'closed_form', 'autograd', got 'numeric'"),
    "S": ({"S": 0}, r"S must be a positive int, got 0"),
}


@pytest.mark.parametrize("pred, kwargs, message", BAD_PREDS.values(), ids=BAD_PREDS.keys())
def test_bad_pred_raises_a_value_error_naming_pred(pred, kwargs, message):
    with pytest.raises(ValueError, match=message):
        yolo_v1_loss(pred, _target(), **kwargs)


@pytest.mark.parametrize("target, message", BAD_TARGETS.values(), ids=BAD_TARGETS.keys())
def test_bad_target_raises_a_value_error_naming_target(target, message):
    with pytest.raises(ValueError, match=message):
        yolo_v1_loss(GOOD_PRED, target)


@pytest.mark.parametrize("kwargs, message", BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_bad_option_raises_a_value_error_naming_it(kwargs, message):
    with pytest.raises(ValueError, match=message):
        yolo_v1_loss(GOOD_PRED, _target(), **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lambda_noobj": -1}, r"lambda_noobj must be a number >= 0"),
        ({"wh": "plain"}, r"wh must be one of"),
        ({"tie_break": None}, r"tie_break must be one of 'rmse', 'first', got None"),
        ({"reduction": "none"}, r"reduction must be one of 'batchmean', 'sum', got 'none'"),
        ({"backward": "manual"}, r"backward must be one of 'closed_form', 'autograd', got 'manual'"),
        ({"B": 0}, r"B must be a positive int"),
    ],
)
def test_module_checks_its_options_when_built(kwargs, message):
    with pytest.raises(ValueError, match=message):
        YoloV1Loss(**kwargs)


def test_the_compiled_option_gives_the_same_terms_and_gradients():
    """YoloV1Loss(compile=True) is the same function through torch.compile (a speed option)."""
    torch.manual_seed(0)
    target = encode_batch(
        [torch.tensor([[0.5, 0.4, 0.3, 0.5], [0.2, 0.7, 0.1, 0.2]]), torch.tensor([[0.8, 0.2, 0.25, 0.3]])],
        [torch.tensor([3, 11]), torch.tensor([0])],
    )
    pred = torch.rand(2, 7, 7, 30)
    eager_pred, compiled_pred = pred.clone().requires_grad_(True), pred.clone().requires_grad_(True)
    eager = YoloV1Loss()(eager_pred, target)
    compiled = YoloV1Loss(compile=True)(compiled_pred, target)
    for name in LossTerms._fields:
        torch.testing.assert_close(getattr(compiled, name), getattr(eager, name), rtol=1e-5, atol=1e-6)
    eager.total.backward()
    compiled.total.backward()
    torch.testing.assert_close(compiled_pred.grad, eager_pred.grad, rtol=1e-5, atol=1e-6)
    assert "compile=True" in repr(YoloV1Loss(compile=True))
    with pytest.raises(ValueError, match=r"compile must be True or False, got 'yes'"):
        YoloV1Loss(compile="yes")


# ---------------------------------------------------------------- wh_transform


def test_wh_transform_under_predicted_roots():
    """A prediction is already a root: kept as it is (no ε, a negative one stays negative);
    a target size is rooted. The tutorial variants apply one map to both."""
    out = torch.tensor([-0.3, 0.0, 0.5], dtype=torch.float64)
    assert torch.equal(wh_transform(out), out)
    torch.testing.assert_close(wh_transform(torch.tensor([0.25, 0.0, 0.36]), role="target"), torch.tensor([0.5, 0.0, 0.6]))
    for mode in ("signed_sqrt", "clamped_sqrt", "linear"):
        v = torch.tensor([0.25, 0.09])
        assert torch.equal(wh_transform(v, mode), wh_transform(v, mode, role="target"))
    # signed_sqrt keeps the sign: -0.25 maps to about -0.5.
    assert wh_transform(torch.tensor([-0.25]), "signed_sqrt").item() == pytest.approx(-0.5, abs=1e-5)
