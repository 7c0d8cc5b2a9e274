"""Tests of yolo_lesson.boxes: formats, area, pairwise and elementwise IoU, GIoU, DIoU, CIoU.

Expected values are worked out by hand in the comments; the vectorized functions are compared
with a plain-Python reference; gradients are checked numerically in float64."""

from __future__ import annotations

import math

import pytest
import torch

from yolo_lesson.boxes import (
    box_area,
    box_iou,
    ciou,
    cxcywh_to_xyxy,
    diou,
    giou,
    iou,
    xyxy_to_cxcywh,
)

METRICS = {"iou": iou, "giou": giou, "diou": diou, "ciou": ciou}
METRIC_IDS = list(METRICS)


def T(*rows, dtype=torch.float64):
    return torch.tensor(rows, dtype=dtype)


def random_boxes(n, generator, dtype=torch.float64):
    """``[n, 4]`` xyxy boxes with centres in [0.1, 0.9] and sizes in [0.05, 0.6]: many overlap,
    many do not."""
    centre = 0.1 + 0.8 * torch.rand(n, 2, generator=generator, dtype=dtype)
    size = 0.05 + 0.55 * torch.rand(n, 2, generator=generator, dtype=dtype)
    return torch.cat((centre - size / 2, centre + size / 2), dim=-1)


# ---------------------------------------------------------------- hand-computed values


def test_unit_squares_shifted_by_half():
    a = T(0.0, 0.0, 1.0, 1.0)
    b = T(0.5, 0.0, 1.5, 1.0)
    # Overlap 0.5 × 1 = 0.5; union 1 + 1 - 0.5 = 1.5; IoU = 0.5 / 1.5 = 1/3.
    assert iou(a, b).item() == pytest.approx(1 / 3)
    # The enclosing box (0, 0, 1.5, 1) has area 1.5 = the union: nothing to subtract, GIoU = IoU.
    assert giou(a, b).item() == pytest.approx(1 / 3)


def test_box_inside_another_has_iou_equal_to_area_ratio():
    outer = T(0.0, 0.0, 4.0, 4.0)  # area 16
    inner = T(1.0, 1.0, 3.0, 2.0)  # area 2 × 1 = 2, fully inside
    # Intersection = inner = 2; union = outer = 16; IoU = 2/16 = 1/8.
    assert iou(outer, inner).item() == pytest.approx(1 / 8)
    # The enclosing box is the outer box = the union, so GIoU = IoU as well.
    assert giou(outer, inner).item() == pytest.approx(1 / 8)


def test_disjoint_boxes_iou_zero_giou_negative():
    a = T(0.0, 0.0, 1.0, 1.0)
    side = T(2.0, 0.0, 3.0, 1.0)
    diagonal = T(1.0, 1.0, 2.0, 2.0)  # touches a in one corner only
    # Side by side with a gap of 1: enclosing box 3 × 1 = 3, union 2, GIoU = 0 - (3 - 2)/3 = -1/3.
    assert iou(a, side).item() == 0
    assert giou(a, side).item() == pytest.approx(-1 / 3)
    # Corner to corner: enclosing box 2 × 2 = 4, union 2, GIoU = 0 - (4 - 2)/4 = -1/2.
    assert iou(a, diagonal).item() == 0
    assert giou(a, diagonal).item() == pytest.approx(-1 / 2)
    # Further apart, GIoU keeps falling (gap 2: enclosing 4, union 2, -1/2) while IoU stays 0.
    assert giou(a, T(3.0, 0.0, 4.0, 1.0)).item() == pytest.approx(-1 / 2)


@pytest.mark.parametrize("name", METRIC_IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_identical_boxes_give_exactly_one(name, dtype):
    # Intersection = union = area, no gap to the hull, centres coincide, same aspect ratio.
    box = T(0.1, 0.2, 0.7, 0.5, dtype=dtype)
    assert METRICS[name](box, box.clone()).item() == 1.0


def test_diou_by_hand():
    a = T(0.0, 0.0, 2.0, 2.0)
    b = T(1.0, 1.0, 3.0, 3.0)
    # Overlap 1 × 1 = 1; union 4 + 4 - 1 = 7; IoU = 1/7.
    # Centres (1, 1) and (2, 2): ρ² = 1 + 1 = 2. Enclosing box (0, 0, 3, 3): c² = 9 + 9 = 18.
    # DIoU = 1/7 - 2/18 = 1/7 - 1/9 = 2/63.
    assert iou(a, b).item() == pytest.approx(1 / 7)
    assert diou(a, b).item() == pytest.approx(2 / 63)
    # Same pair for GIoU: hull 9, GIoU = 1/7 - (9 - 7)/9 = 1/7 - 2/9 = -5/63.
    assert giou(a, b).item() == pytest.approx(-5 / 63)


def test_ciou_by_hand_for_a_cross():
    # A wide box (√3 × 1) and a tall box (1 × √3), both centred at (2, 2): a cross.
    r = math.sqrt(3)
    wide = T(2 - r / 2, 1.5, 2 + r / 2, 2.5)
    tall = T(1.5, 2 - r / 2, 2.5, 2 + r / 2)
    # Overlap is the central 1 × 1 square; union √3 + √3 - 1; IoU = 1 / (2√3 - 1).
    expected_iou = 1 / (2 * r - 1)
    # Same centre: ρ = 0, so DIoU = IoU.
    # arctan(√3) = π/3 and arctan(1/√3) = π/6: v = 4/π² · (π/6)² = 1/9.
    v = 1 / 9
    alpha = v / (1 - expected_iou + v)
    assert iou(wide, tall).item() == pytest.approx(expected_iou)
    assert diou(wide, tall).item() == pytest.approx(expected_iou)
    assert ciou(wide, tall).item() == pytest.approx(expected_iou - alpha * v)  # ≈ 0.3598


def test_ciou_by_hand_with_offset_centres():
    # A 2 × 2 square at the origin and a 2 × 1 box shifted right by 1.
    a = T(0.0, 0.0, 2.0, 2.0)
    b = T(1.0, 0.0, 3.0, 1.0)
    # Overlap 1 × 1 = 1; union 4 + 2 - 1 = 5; IoU = 1/5.
    # Centres (1, 1) and (2, 0.5): ρ² = 1 + 0.25 = 1.25; hull (0, 0, 3, 2): c² = 9 + 4 = 13.
    # v = 4/π² · (arctan(1) - arctan(2))²; α = v / (1 - 1/5 + v).
    v = 4 / math.pi**2 * (math.atan(1.0) - math.atan(2.0)) ** 2
    alpha = v / (0.8 + v)
    assert diou(a, b).item() == pytest.approx(0.2 - 1.25 / 13)
    assert ciou(a, b).item() == pytest.approx(0.2 - 1.25 / 13 - alpha * v)


# ---------------------------------------------------------------- formats and area


def test_conversion_examples_from_the_docstrings():
    centre = torch.tensor([0.5, 0.5, 0.2, 0.4])
    corners = torch.tensor([0.4, 0.3, 0.6, 0.7])
    torch.testing.assert_close(cxcywh_to_xyxy(centre), corners)
    torch.testing.assert_close(xyxy_to_cxcywh(corners), centre)


def test_format_round_trips():
    g = torch.Generator().manual_seed(1)
    boxes = random_boxes(50, g).reshape(5, 10, 4)  # leading dimensions are kept
    torch.testing.assert_close(cxcywh_to_xyxy(xyxy_to_cxcywh(boxes)), boxes)
    centre = xyxy_to_cxcywh(boxes)
    torch.testing.assert_close(xyxy_to_cxcywh(cxcywh_to_xyxy(centre)), centre)
    assert centre.shape == (5, 10, 4)


def test_box_area_by_hand_and_inverted_boxes():
    boxes = T([0.0, 0.0, 2.0, 3.0], [1.0, 1.0, 1.0, 5.0], [3.0, 0.0, 1.0, 2.0], [0.0, 2.0, 1.0, 1.0])
    # 2 × 3 = 6; zero width; x2 < x1 (inverted); y2 < y1 (inverted): the last three are empty.
    torch.testing.assert_close(box_area(boxes), T(6.0, 0.0, 0.0, 0.0))


# ---------------------------------------------------------------- pairwise and elementwise


def brute_force_iou(a, b):
    """IoU of two xyxy boxes given as lists of floats, written without tensors."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def test_box_iou_matches_a_double_loop():
    g = torch.Generator().manual_seed(2)
    boxes1, boxes2 = random_boxes(7, g), random_boxes(5, g)
    expected = [[brute_force_iou(p, q) for q in boxes2.tolist()] for p in boxes1.tolist()]
    result = box_iou(boxes1, boxes2)
    assert result.shape == (7, 5)
    torch.testing.assert_close(result, torch.tensor(expected, dtype=torch.float64))
    assert (result == 0).any() and (result > 0).any()  # the draw holds both cases


def test_box_iou_equals_broadcast_elementwise_iou():
    g = torch.Generator().manual_seed(3)
    boxes1, boxes2 = random_boxes(4, g), random_boxes(6, g)
    torch.testing.assert_close(box_iou(boxes1, boxes2), iou(boxes1[:, None], boxes2[None, :]))


@pytest.mark.parametrize(
    "shape_a, shape_b, expected",
    [
        ((4,), (4,), ()),
        ((5, 4), (4,), (5,)),
        ((2, 1, 4), (3, 4), (2, 3)),
        ((2, 3, 1, 4), (1, 5, 4), (2, 3, 5)),
    ],
)
@pytest.mark.parametrize("name", METRIC_IDS)
def test_elementwise_broadcasting(name, shape_a, shape_b, expected):
    g = torch.Generator().manual_seed(4)
    a = random_boxes(math.prod(shape_a[:-1]), g).reshape(shape_a)
    b = random_boxes(math.prod(shape_b[:-1]), g).reshape(shape_b)
    result = METRICS[name](a, b)
    assert result.shape == expected
    # Same values as looping over the broadcast pairs one at a time.
    big_a, big_b = torch.broadcast_tensors(a, b)
    flat = [METRICS[name](p, q) for p, q in zip(big_a.reshape(-1, 4), big_b.reshape(-1, 4))]
    torch.testing.assert_close(result.reshape(-1), torch.stack(flat))


def test_elementwise_iou_matches_the_brute_force():
    g = torch.Generator().manual_seed(5)
    a, b = random_boxes(30, g), random_boxes(30, g)
    expected = [brute_force_iou(p, q) for p, q in zip(a.tolist(), b.tolist())]
    torch.testing.assert_close(iou(a, b), torch.tensor(expected, dtype=torch.float64))


# ---------------------------------------------------------------- properties on random boxes


@pytest.mark.parametrize("name", METRIC_IDS)
def test_symmetry(name):
    g = torch.Generator().manual_seed(6)
    a, b = random_boxes(40, g), random_boxes(40, g)
    torch.testing.assert_close(METRICS[name](a, b), METRICS[name](b, a))


@pytest.mark.parametrize("name", METRIC_IDS)
def test_invariance_under_translation_and_joint_scaling(name):
    g = torch.Generator().manual_seed(7)
    a, b = random_boxes(40, g), random_boxes(40, g)
    f = METRICS[name]
    reference = f(a, b)
    shift = T(3.0, -2.0, 3.0, -2.0)  # the same (dx, dy) on both corners
    torch.testing.assert_close(f(a + shift, b + shift), reference)
    # Every term is a ratio of areas, of squared lengths or of widths to heights.
    for scale in (0.25, 7.0):
        torch.testing.assert_close(f(a * scale, b * scale), reference)


@pytest.mark.parametrize("name", METRIC_IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_small_boxes_are_not_distorted_by_the_division_guard(name, dtype):
    # The half-shifted unit squares (IoU = GIoU = 1/3, DIoU = CIoU = 1/3 - 1/13, see above)
    # shrunk 10⁴ times: union 1.5e-8, c² = 3.25e-8. A guard such as union.clamp(min=1e-7)
    # would turn the IoU into 0.5e-8 / 1e-7 = 0.05; the exact ratio must survive.
    a = T(0.0, 0.0, 1.0, 1.0, dtype=dtype) * 1e-4
    b = T(0.5, 0.0, 1.5, 1.0, dtype=dtype) * 1e-4
    expected = 1 / 3 if name in ("iou", "giou") else 1 / 3 - 1 / 13
    assert METRICS[name](a, b).item() == pytest.approx(expected, rel=1e-5)


def test_ordering_of_the_family_on_random_boxes():
    g = torch.Generator().manual_seed(8)
    a, b = random_boxes(500, g), random_boxes(500, g)
    v_iou, v_giou, v_diou, v_ciou = (f(a, b) for f in METRICS.values())
    # GIoU subtracts (|C| - |A ∪ B|) / |C| >= 0; DIoU subtracts ρ²/c² >= 0; CIoU subtracts α·v >= 0.
    assert (v_giou <= v_iou).all()
    assert (v_diou <= v_iou).all()
    assert (v_ciou <= v_diou).all()
    assert ((v_iou >= 0) & (v_iou <= 1)).all()
    for value in (v_giou, v_diou, v_ciou):
        assert ((value > -1) & (value <= 1)).all()
    assert (v_giou < v_iou).any() and (v_ciou < v_diou).any()  # strictly, somewhere


# ---------------------------------------------------------------- gradients


def away_from_kinks(n, generator, margin=0.02):
    """Pairs of float64 boxes where every max/min/clamp in the formulas has a clear winner:
    corners of the two boxes differ by more than ``margin`` on each axis, and each overlap
    width/height is clearly positive or clearly negative. Half of them overlap."""
    a_list, b_list, overlapping = [], [], 0
    while len(a_list) < n:
        a, b = random_boxes(1, generator)[0], random_boxes(1, generator)[0]
        if (a - b).abs().min() < margin:
            continue
        overlap = torch.minimum(a[2:], b[2:]) - torch.maximum(a[:2], b[:2])  # [2]
        if overlap.abs().min() < margin:
            continue
        overlaps = bool((overlap > 0).all())
        if overlaps == (overlapping < n // 2):  # first the overlapping half, then the rest
            a_list.append(a)
            b_list.append(b)
            overlapping += overlaps
    return torch.stack(a_list), torch.stack(b_list)


@pytest.mark.parametrize("name", METRIC_IDS)
def test_gradcheck(name):
    g = torch.Generator().manual_seed(9)
    a, b = away_from_kinks(8, g)
    a.requires_grad_(True)
    b.requires_grad_(True)
    assert torch.autograd.gradcheck(METRICS[name], (a, b))


def test_gradcheck_box_iou():
    g = torch.Generator().manual_seed(10)
    a, b = away_from_kinks(4, g)
    assert torch.autograd.gradcheck(box_iou, (a.requires_grad_(True), b.requires_grad_(True)))


def test_iou_has_no_gradient_for_disjoint_boxes_but_giou_and_diou_do():
    # The lesson's point: a prediction beside its target learns nothing from 1 - IoU.
    target = T(0.0, 0.0, 1.0, 1.0)
    for name, has_gradient in (("iou", False), ("giou", True), ("diou", True), ("ciou", True)):
        pred = T(2.0, 0.0, 3.0, 1.0).requires_grad_(True)
        (1 - METRICS[name](pred, target)).backward()
        assert bool(pred.grad.abs().sum() > 0) == has_gradient, name


# ---------------------------------------------------------------- degenerate and empty inputs

DEGENERATE = [
    # (a, b, why)
    ([0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5], "the same point: union and hull are 0"),
    ([0.5, 0.5, 0.5, 0.5], [0.2, 0.2, 0.6, 0.7], "a point inside a box"),
    ([0.2, 0.3, 0.2, 0.8], [0.2, 0.3, 0.2, 0.8], "the same vertical segment: height > 0, width 0"),
    ([0.6, 0.6, 0.4, 0.4], [0.3, 0.3, 0.7, 0.7], "an inverted box (x2 < x1, y2 < y1)"),
    ([0.6, 0.6, 0.4, 0.4], [0.6, 0.6, 0.4, 0.4], "two identical inverted boxes"),
    ([0.3, 0.3, 0.7, 0.3], [0.1, 0.1, 0.2, 0.2], "a horizontal segment and a disjoint box"),
]


@pytest.mark.parametrize("name", METRIC_IDS)
@pytest.mark.parametrize("a, b, why", DEGENERATE, ids=[d[2] for d in DEGENERATE])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_degenerate_boxes_give_finite_values_and_gradients(name, a, b, why, dtype):
    a = torch.tensor(a, dtype=dtype, requires_grad=True)
    b = torch.tensor(b, dtype=dtype, requires_grad=True)
    value = METRICS[name](a, b)
    assert torch.isfinite(value), why
    assert -1 <= value.item() <= 1, why
    value.backward()
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all(), why


@pytest.mark.parametrize("a, b, why", DEGENERATE, ids=[d[2] for d in DEGENERATE])
def test_degenerate_boxes_have_zero_iou(a, b, why):
    # Every pair above has at least one box of zero area: nothing can overlap it with positive area.
    assert iou(torch.tensor(a), torch.tensor(b)).item() == 0, why


def test_inverted_box_is_an_empty_box():
    # (0.6, 0.6, 0.4, 0.4) has area 0: its IoU with anything is 0, like that of a point.
    inverted = torch.tensor([0.6, 0.6, 0.4, 0.4])
    box = torch.tensor([0.3, 0.3, 0.7, 0.7])
    assert box_area(inverted).item() == 0
    assert iou(inverted, box).item() == 0
    assert box_iou(inverted[None], box[None]).item() == 0


def test_empty_pairwise_inputs_with_backward():
    empty = torch.zeros(0, 4, requires_grad=True)
    three = torch.rand(3, 4).sort(dim=-1).values  # sorted -> x1 <= y1 <= x2 <= y2: valid boxes
    three.requires_grad_(True)
    out = box_iou(empty, three)
    assert out.shape == (0, 3)
    out.sum().backward()
    assert empty.grad.shape == (0, 4)
    assert box_iou(three, empty).shape == (3, 0)
    assert box_iou(empty, empty).shape == (0, 0)


@pytest.mark.parametrize("name", METRIC_IDS)
def test_empty_elementwise_inputs_with_backward(name):
    a = torch.zeros(0, 4, requires_grad=True)
    b = torch.zeros(0, 4, requires_grad=True)
    out = METRICS[name](a, b)
    assert out.shape == (0,)
    out.sum().backward()
    assert a.grad.shape == (0, 4) and b.grad.shape == (0, 4)
    one = torch.tensor([0.1, 0.1, 0.5, 0.5])
    assert METRICS[name](a, one).shape == (0,)  # [0, 4] against [4] broadcasts to [0]


def test_empty_conversions_and_area():
    empty = torch.zeros(0, 4)
    assert cxcywh_to_xyxy(empty).shape == (0, 4)
    assert xyxy_to_cxcywh(empty).shape == (0, 4)
    assert box_area(empty).shape == (0,)


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize("name", METRIC_IDS)
@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_float32(name, half):
    g = torch.Generator().manual_seed(11)
    a, b = random_boxes(20, g), random_boxes(20, g)
    a_half, b_half = a.to(half), b.to(half)
    result = METRICS[name](a_half, b_half)
    assert result.dtype == torch.float32
    # Same value as float64 on the *rounded* boxes: the arithmetic itself loses nothing visible.
    expected = METRICS[name](a_half.double(), b_half.double())
    torch.testing.assert_close(result, expected.float(), atol=1e-5, rtol=1e-5)
    # And the rounding of the inputs moves the value only a little.
    torch.testing.assert_close(result, METRICS[name](a, b).float(), atol=2e-2, rtol=0)


def test_half_precision_pairwise_and_gradients():
    a = torch.tensor([[0.0, 0.0, 1.0, 1.0]], dtype=torch.float16, requires_grad=True)
    b = torch.tensor([[0.5, 0.0, 1.5, 1.0]], dtype=torch.bfloat16)
    out = box_iou(a, b)
    assert out.dtype == torch.float32
    assert out.item() == pytest.approx(1 / 3)
    out.sum().backward()
    assert a.grad.dtype == torch.float16 and torch.isfinite(a.grad).all()


def test_mixed_float32_and_float64_promote_to_float64():
    a = torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float32)
    b = torch.tensor([0.5, 0.0, 1.5, 1.0], dtype=torch.float64)
    assert iou(a, b).dtype == torch.float64


# ---------------------------------------------------------------- bad inputs

GOOD = torch.tensor([[0.0, 0.0, 1.0, 1.0]])


@pytest.mark.parametrize("name", METRIC_IDS)
def test_bad_inputs_raise_value_error_naming_the_argument(name):
    f = METRICS[name]
    with pytest.raises(ValueError, match=r"a must be \[\.\.\., 4\] \(xyxy\), got \[1, 5\]"):
        f(torch.zeros(1, 5), GOOD)
    with pytest.raises(ValueError, match=r"b must be \[\.\.\., 4\] \(xyxy\), got \[\]"):
        f(GOOD, torch.tensor(1.0))
    with pytest.raises(ValueError, match=r"b must be a floating-point tensor.*got dtype torch.int64"):
        f(GOOD, torch.tensor([[0, 0, 1, 1]]))
    with pytest.raises(ValueError, match=r"a must be a torch.Tensor, got list"):
        f([0.0, 0.0, 1.0, 1.0], GOOD)
    with pytest.raises(ValueError, match=r"a and b must have broadcastable .* a \[3, 4\] and b \[2, 4\]"):
        f(torch.zeros(3, 4), torch.zeros(2, 4))


def test_box_iou_bad_inputs():
    with pytest.raises(ValueError, match=r"boxes1 must be \[N, 4\] \(xyxy\), got \[2, 3, 4\]"):
        box_iou(torch.zeros(2, 3, 4), GOOD)
    with pytest.raises(ValueError, match=r"boxes2 must be \[N, 4\] \(xyxy\), got \[4\]"):
        box_iou(GOOD, torch.zeros(4))
    with pytest.raises(ValueError, match=r"boxes2 must be \[\.\.\., 4\] \(xyxy\), got \[2, 3\]"):
        box_iou(GOOD, torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"boxes1 must be a floating-point tensor"):
        box_iou(torch.zeros(2, 4, dtype=torch.int32), GOOD)
    with pytest.raises(ValueError, match=r"boxes1 must be a torch.Tensor, got tuple"):
        box_iou((0.0, 0.0, 1.0, 1.0), GOOD)


@pytest.mark.parametrize("f, fmt", [(cxcywh_to_xyxy, "cxcywh"), (xyxy_to_cxcywh, "xyxy"), (box_area, "xyxy")])
def test_conversion_and_area_bad_inputs(f, fmt):
    with pytest.raises(ValueError, match=rf"boxes must be \[\.\.\., 4\] \({fmt}\), got \[3\]"):
        f(torch.zeros(3))
    with pytest.raises(ValueError, match=r"boxes must be a floating-point tensor"):
        f(torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"boxes must be a torch.Tensor"):
        f(None)
