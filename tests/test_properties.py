"""Property-based tests: for any valid input, degenerate ones included, values and gradients
are finite and the identities of the IoU family and of the loss hold.

How many cases: each property below sets its own ``max_examples`` (cheap box properties get
more, the loss fewer); the sum over the file is at least 10,000, and the last test,
``test_at_least_ten_thousand_cases_were_generated``, counts the cases that actually ran
and asserts it. Every example is derived from the test's name (``derandomize=True``, no
example database), so a CI run is reproducible and a failure is replayed by re-running.
"""

from __future__ import annotations

import collections
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yolo_lesson.boxes import box_area, box_iou, ciou, cxcywh_to_xyxy, diou, giou, iou, xyxy_to_cxcywh
from yolo_lesson.grid import assign_cells, decode_predictions, encode_targets
from yolo_lesson.loss import responsibility, yolo_v1_loss

# Cases run per property (filled in as the properties run) and what each one asks for.
CASES: collections.Counter = collections.Counter()
BUDGET: dict[str, int] = {}


def cases(n: int):
    """``settings`` for a property of ``n`` cases, reproducible and without a deadline (the
    machine may be busy); the property is registered in ``BUDGET`` for the final count."""
    def decorate(test):
        BUDGET[test.__name__] = n
        return settings(
            max_examples=n,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )(test)

    return decorate


def count(name: str) -> None:
    CASES[name] += 1


LATTICE = (0.0, 0.25, 0.5, 0.75, 1.0)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


class Coordinates:
    """Numbers in [0, 1] from a seeded generator, half of them on ``LATTICE``. Strategies draw
    the *structure* of a case (how many boxes, which kind of pair) from hypothesis and the
    numbers from this generator: a few draws per case instead of dozens, which keeps 10,000
    cases within a minute, while the lattice keeps exact ties, shared edges and zero sizes
    frequent."""

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def take(self, n: int) -> list[float]:
        uniform = torch.rand(n, generator=self.generator, dtype=torch.float64)
        on_lattice = torch.rand(n, generator=self.generator) < 0.5
        snapped = torch.tensor(LATTICE, dtype=torch.float64)[torch.randint(0, 5, (n,), generator=self.generator)]
        return torch.where(on_lattice, snapped, uniform).tolist()

    def box(self) -> list[float]:
        """A valid ``xyxy`` box in the unit square, zero width or height allowed."""
        x1, x2, y1, y2 = self.take(4)
        return [min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)]


PAIR_KINDS = ("independent", "identical", "edge", "corner", "inside", "border")


@st.composite
def box_pairs(draw):
    """Pairs of boxes, each pair one of: independent, identical, touching at an edge or a
    corner, one inside the other, or pressed against the image border."""
    kinds = draw(st.lists(st.sampled_from(PAIR_KINDS), min_size=1, max_size=6))
    numbers = Coordinates(draw(seeds))
    a, b = [], []
    for kind in kinds:
        first = numbers.box()
        x1, y1, x2, y2 = first
        u, v = numbers.take(2)
        if kind == "identical":
            second = list(first)
        elif kind == "edge":  # the second box starts where the first ends, same rows
            second = [x2, y1, min(1.0, x2 + u), y2]
        elif kind == "corner":  # they share the corner (x2, y2) only
            second = [x2, y2, max(x2, u), max(y2, v)]
        elif kind == "inside":  # the second box is the first shrunk towards its centre
            dx, dy = u / 2 * (x2 - x1), u / 2 * (y2 - y1)
            second = [x1 + dx, y1 + dy, x2 - dx, y2 - dy]
        elif kind == "border":  # flush with the image's left and top borders
            second = [0.0, 0.0, u, v]
        else:
            second = numbers.box()
        a.append(first)
        b.append(second)
    return torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)


@cases(1200)
@given(box_pairs())
def test_iou_family_is_finite_with_finite_gradients(pair):
    count("test_iou_family_is_finite_with_finite_gradients")
    a, b = (t.clone().requires_grad_(True) for t in pair)
    values = [fn(a, b) for fn in (iou, giou, diou, ciou)]
    for value in values:
        assert torch.isfinite(value).all(), value
    # One backward pass for the four: a NaN or Inf in any one gradient survives the sum.
    sum(value.sum() for value in values).backward()
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()


@cases(1800)
@given(box_pairs())
def test_iou_family_identities(pair):
    count("test_iou_family_identities")
    a, b = pair
    i, g, d, c = iou(a, b), giou(a, b), diou(a, b), ciou(a, b)
    tol = 1e-9
    assert ((i >= 0) & (i <= 1 + tol)).all()
    assert torch.allclose(i, iou(b, a), atol=tol)  # symmetric
    assert (g <= i + tol).all() and (g >= -1 - tol).all()  # GIoU ≤ IoU, GIoU > -1
    assert (d <= i + tol).all() and (c <= d + tol).all()  # CIoU ≤ DIoU ≤ IoU


@cases(400)
@given(
    box_pairs(),
    st.floats(min_value=-3, max_value=3, allow_nan=False),
    st.floats(min_value=-3, max_value=3, allow_nan=False),
    st.floats(min_value=0.1, max_value=10, allow_nan=False),
)
def test_iou_family_is_invariant_to_translation_and_joint_scaling(pair, dx, dy, scale):
    count("test_iou_family_is_invariant_to_translation_and_joint_scaling")
    a, b = pair
    # Float rounding is not scale invariant near 0: keep pairs whose enclosing box and non-zero
    # areas stay well away from rounding level at every scale tried (scale ≥ 0.1).
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


@cases(800)
@given(box_pairs())
def test_identical_boxes_of_positive_area_score_one(pair):
    count("test_identical_boxes_of_positive_area_score_one")
    a, _ = pair
    area = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    a = a[area > 1e-6]
    for fn in (iou, giou, diou, ciou):
        torch.testing.assert_close(fn(a, a), torch.ones(len(a), dtype=a.dtype))


@st.composite
def scenes(draw, S=4, C=3):
    """Up to 2·S² objects in cxcywh within [0, 1], collisions and zero sizes included."""
    k = draw(st.integers(min_value=0, max_value=2 * S * S))
    numbers = Coordinates(draw(seeds))
    boxes = torch.tensor(numbers.take(4 * k), dtype=torch.float32).reshape(k, 4)
    labels = torch.randint(0, C, (k,), generator=numbers.generator)
    return boxes, labels


@cases(1500)
@given(scenes())
def test_encoding_keeps_one_object_per_cell_and_valid_values(scene):
    count("test_encoding_keeps_one_object_per_cell_and_valid_values")
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
    magnitude = draw(st.sampled_from([1e-12, 1e-6, 1.0, 10.0, 1e3, 1e6]))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    generator = torch.Generator().manual_seed(seed)
    return magnitude * (2 * torch.rand(N, S, S, B * 5 + C, generator=generator, dtype=torch.float64) - 1)


@cases(700)
@given(predictions(), st.lists(scenes(), min_size=2, max_size=2), st.sampled_from(["signed_sqrt", "clamped_sqrt", "linear"]))
def test_loss_and_gradients_are_finite_for_any_prediction(pred, scene_list, wh):
    count("test_loss_and_gradients_are_finite_for_any_prediction")
    target = torch.stack(
        [encode_targets(b, l, S=4, C=3) for b, l in scene_list]
    ).to(torch.float64)
    pred = pred.requires_grad_(True)
    terms = yolo_v1_loss(pred, target, S=4, B=2, C=3, wh=wh)
    for name, value in terms._asdict().items():
        assert math.isfinite(value.item()), name
    terms.total.backward()
    assert torch.isfinite(pred.grad).all()


@cases(1800)
@given(box_pairs())
def test_conversions_areas_and_pairwise_iou_agree(pair):
    count("test_conversions_areas_and_pairwise_iou_agree")
    a, b = pair
    # xyxy -> cxcywh -> xyxy gives the box back (to rounding), and an area is never negative.
    torch.testing.assert_close(cxcywh_to_xyxy(xyxy_to_cxcywh(a)), a, atol=1e-12, rtol=0)
    assert (box_area(a) >= 0).all() and (box_area(b) >= 0).all()
    # The pairwise matrix holds the elementwise values on its diagonal.
    torch.testing.assert_close(torch.diagonal(box_iou(a, b)), iou(a, b), atol=0, rtol=0)


@st.composite
def full_grids(draw, S=4, C=3):
    """One object in every cell (centres anywhere inside their cell, borders included)."""
    numbers = Coordinates(draw(seeds))
    offsets = draw(st.sampled_from([0.0, 0.5, 0.999]))  # where the centres sit in their cells
    boxes = []
    for row in range(S):
        for col in range(S):
            w, h = numbers.take(2)
            boxes.append([(col + offsets) / S, (row + offsets) / S, w, h])
    labels = torch.randint(0, C, (S * S,), generator=numbers.generator)
    return torch.tensor(boxes, dtype=torch.float64), labels


@cases(300)
@given(full_grids(), predictions(N=1), st.sampled_from(["not_responsible", "empty_cells"]))
def test_every_cell_occupied(scene, pred, noobj_scope):
    count("test_every_cell_occupied")
    boxes, labels = scene
    target = encode_targets(boxes, labels, S=4, C=3)[None]  # [1, 4, 4, 8]
    assert bool((target[..., 4] == 1).all())
    leaf = pred.requires_grad_(True)
    terms = yolo_v1_loss(leaf, target, S=4, B=2, C=3, noobj_scope=noobj_scope)
    assert all(math.isfinite(v.item()) for v in terms)
    terms.total.backward()
    assert torch.isfinite(leaf.grad).all()
    if noobj_scope == "empty_cells":  # no empty cell: the no-object term has nothing to sum
        assert terms.noobj.item() == 0.0


def perfect_prediction(target, B, C, generator):
    """Predictor 0 of every object cell equals the target box with confidence 1 and the
    one-hot class; every other confidence is 0; other boxes are random (they may not matter)."""
    N, S = target.shape[:2]
    pred = torch.rand(N, S, S, B * 5 + C, generator=generator, dtype=target.dtype)
    pred[..., 4 : B * 5 : 5] = 0.0  # every confidence 0 ...
    obj = target[..., 4] == 1
    pred[..., 0:4] = torch.where(obj[..., None], target[..., :4], pred[..., 0:4])
    pred[..., 4] = target[..., 4]  # ... but the first predictor's in object cells
    pred[..., B * 5 :] = torch.where(obj[..., None], target[..., 5:], pred[..., B * 5 :])
    return pred


@cases(600)
@given(
    st.lists(scenes(), min_size=1, max_size=3),
    st.sampled_from(["signed_sqrt", "clamped_sqrt", "linear"]),
    st.sampled_from(["not_responsible", "empty_cells"]),
    st.integers(min_value=0, max_value=2**31 - 1),
)
def test_perfect_prediction_has_zero_loss_with_confidence_target_one(scene_list, wh, noobj_scope, seed):
    count("test_perfect_prediction_has_zero_loss_with_confidence_target_one")
    target = torch.stack([encode_targets(b, l, S=4, C=3) for b, l in scene_list]).double()
    pred = perfect_prediction(target, B=2, C=3, generator=torch.Generator().manual_seed(seed))
    # Predictor 0 has IoU 1 with a box of positive area, the most any predictor can have, and
    # a tie (a zero-size box: every IoU is 0) goes to predictor 0 as well: it is responsible.
    terms = yolo_v1_loss(pred, target, S=4, B=2, C=3, conf_target="one", wh=wh, noobj_scope=noobj_scope)
    for name, value in terms._asdict().items():
        assert value.item() == 0.0, name


@cases(500)
@given(predictions(), st.lists(scenes(), min_size=2, max_size=2))
def test_one_responsible_predictor_per_object_cell(pred, scene_list):
    count("test_one_responsible_predictor_per_object_cell")
    target = torch.stack([encode_targets(b, l, S=4, C=3) for b, l in scene_list]).double()
    ious, responsible = responsibility(pred, target, S=4, B=2, C=3)
    obj = target[..., 4] == 1
    assert torch.equal(responsible.sum(-1), obj.long())  # one in object cells, none elsewhere
    assert ((ious >= 0) & (ious <= 1)).all() and (ious[~obj] == 0).all()
    # The responsible one has the highest IoU of its cell.
    assert (ious[responsible] == ious.amax(-1)[obj]).all()


@cases(1400)
@given(predictions())
def test_decoded_boxes_are_finite_and_not_inverted(pred):
    count("test_decoded_boxes_are_finite_and_not_inverted")
    detections = decode_predictions(pred, S=4, B=2, C=3)
    boxes = detections.boxes
    assert torch.isfinite(boxes).all() and torch.isfinite(detections.scores).all()
    # Negative predicted sizes are clamped to 0, so x1 <= x2 and y1 <= y2 for every box.
    assert (boxes[..., 2] >= boxes[..., 0]).all() and (boxes[..., 3] >= boxes[..., 1]).all()


def test_at_least_ten_thousand_cases_were_generated():
    """Runs last (pytest keeps file order). Counts only when every property above ran in this
    session, so that running one test with -k does not fail here."""
    if set(CASES) != set(BUDGET):
        pytest.skip(f"only {len(CASES)} of {len(BUDGET)} properties ran in this session")
    total = sum(CASES.values())
    print(f"\n{total} generated cases across {len(CASES)} properties: {dict(CASES)}")
    assert sum(BUDGET.values()) >= 10_000
    assert total >= 10_000, dict(CASES)
