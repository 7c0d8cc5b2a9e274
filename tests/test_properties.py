"""Property-based tests: for any valid input, degenerate ones included, values and gradients
are finite and the identities of the IoU family hold."""

from __future__ import annotations

import math

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yolo_lesson.boxes import ciou, diou, giou, iou
from yolo_lesson.grid import assign_cells, encode_targets
from yolo_lesson.loss import yolo_v1_loss

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Coordinates on a coarse lattice make exact ties, shared edges, zero sizes and identical
# boxes common instead of vanishingly rare.
coordinate = st.one_of(
    st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False, width=32),
)


@st.composite
def xyxy_boxes(draw):
    """A valid ``xyxy`` box in the unit square, zero width or height allowed."""
    x1, x2 = sorted((draw(coordinate), draw(coordinate)))
    y1, y2 = sorted((draw(coordinate), draw(coordinate)))
    return [x1, y1, x2, y2]


@st.composite
def box_pairs(draw):
    n = draw(st.integers(min_value=1, max_value=6))
    a = [draw(xyxy_boxes()) for _ in range(n)]
    # Half of the time the second box repeats the first: identical boxes.
    b = [box if draw(st.booleans()) else draw(xyxy_boxes()) for box in a]
    return torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)


def _assert_finite_with_gradients(fn, a, b):
    a = a.clone().requires_grad_(True)
    b = b.clone().requires_grad_(True)
    value = fn(a, b)
    assert torch.isfinite(value).all(), value
    value.sum().backward()
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    return value.detach()


@SETTINGS
@given(box_pairs())
def test_iou_family_is_finite_with_finite_gradients(pair):
    a, b = pair
    for fn in (iou, giou, diou, ciou):
        _assert_finite_with_gradients(fn, a, b)


@SETTINGS
@given(box_pairs())
def test_iou_family_identities(pair):
    a, b = pair
    i, g, d, c = iou(a, b), giou(a, b), diou(a, b), ciou(a, b)
    tol = 1e-9
    assert ((i >= 0) & (i <= 1 + tol)).all()
    assert torch.allclose(i, iou(b, a), atol=tol)  # symmetric
    assert (g <= i + tol).all() and (g >= -1 - tol).all()  # GIoU ≤ IoU, GIoU > -1
    assert (d <= i + tol).all() and (c <= d + tol).all()  # CIoU ≤ DIoU ≤ IoU


@SETTINGS
@given(
    box_pairs(),
    st.floats(min_value=-3, max_value=3, allow_nan=False),
    st.floats(min_value=-3, max_value=3, allow_nan=False),
    st.floats(min_value=0.1, max_value=10, allow_nan=False),
)
def test_iou_family_is_invariant_to_translation_and_joint_scaling(pair, dx, dy, scale):
    a, b = pair
    # The guards of the divisions (areas and squared diagonals clamped at 1e-7) are the only
    # thing not scale invariant: keep pairs whose union and enclosing box stay well above them
    # at every scale tried (scale ≥ 0.1: sides ≥ 0.005, areas ≥ 1e-5).
    area = lambda t: (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])  # noqa: E731
    hull = torch.maximum(a[:, 2:], b[:, 2:]) - torch.minimum(a[:, :2], b[:, :2])
    usable = (hull.min(-1).values >= 0.05) & ((area(a) == 0) | (area(a) >= 1e-3))
    usable &= (area(b) == 0) | (area(b) >= 1e-3)
    a, b = a[usable], b[usable]
    shift = torch.tensor([dx, dy, dx, dy], dtype=torch.float64)
    for fn in (iou, giou, diou, ciou):
        before = fn(a, b)
        torch.testing.assert_close(fn(a + shift, b + shift), before, atol=1e-7, rtol=1e-6)
        torch.testing.assert_close(fn(a * scale, b * scale), before, atol=1e-7, rtol=1e-6)


@SETTINGS
@given(box_pairs())
def test_identical_boxes_of_positive_area_score_one(pair):
    a, _ = pair
    area = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    a = a[area > 1e-6]
    for fn in (iou, giou, diou, ciou):
        torch.testing.assert_close(fn(a, a), torch.ones(len(a), dtype=a.dtype))


@st.composite
def scenes(draw, S=4, C=3):
    """Up to 2·S² objects in cxcywh within [0, 1], collisions and zero sizes included."""
    k = draw(st.integers(min_value=0, max_value=2 * S * S))
    boxes = [
        [draw(coordinate), draw(coordinate), draw(coordinate), draw(coordinate)] for _ in range(k)
    ]
    labels = [draw(st.integers(min_value=0, max_value=C - 1)) for _ in range(k)]
    return (
        torch.tensor(boxes, dtype=torch.float32).reshape(k, 4),
        torch.tensor(labels, dtype=torch.long),
    )


@SETTINGS
@given(scenes())
def test_encoding_keeps_one_object_per_cell_and_valid_values(scene):
    boxes, labels = scene
    S, C = 4, 3
    target = encode_targets(boxes, labels, S=S, C=C)
    kept = assign_cells(boxes, S).kept
    obj = target[..., 4]
    assert int(obj.sum()) == int(kept.sum())  # every kept object fills exactly one cell
    assert ((target[..., :4] >= 0) & (target[..., :4] <= 1)).all()
    # Object cells hold a one-hot class; empty cells hold zeros only.
    torch.testing.assert_close(target[..., 5:].sum(-1), obj)
    assert (target[obj == 0] == 0).all()


@st.composite
def predictions(draw, N=2, S=4, B=2, C=3):
    """Predictions from tiny to huge, negative sizes included."""
    magnitude = draw(st.sampled_from([1e-6, 1.0, 10.0, 1e3]))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    generator = torch.Generator().manual_seed(seed)
    return magnitude * (2 * torch.rand(N, S, S, B * 5 + C, generator=generator, dtype=torch.float64) - 1)


@SETTINGS
@given(predictions(), st.lists(scenes(), min_size=2, max_size=2), st.sampled_from(["signed_sqrt", "clamped_sqrt", "linear"]))
def test_loss_and_gradients_are_finite_for_any_prediction(pred, scene_list, wh):
    target = torch.stack(
        [encode_targets(b, l, S=4, C=3) for b, l in scene_list]
    ).to(torch.float64)
    pred = pred.requires_grad_(True)
    terms = yolo_v1_loss(pred, target, S=4, B=2, C=3, wh=wh)
    for name, value in terms._asdict().items():
        assert math.isfinite(value.item()), name
    terms.total.backward()
    assert torch.isfinite(pred.grad).all()
