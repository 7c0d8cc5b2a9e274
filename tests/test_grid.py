"""Tests of yolo_lesson.grid: which cell owns an object, the target encoding, collisions,
the way back from cell offsets to image coordinates, and decoding of predictions.

Expected values are worked out by hand in the comments; the vectorized encoder is also
compared with a plain-Python, one-object-at-a-time reference.
"""

from __future__ import annotations

import math

import pytest
import torch

from yolo_lesson.grid import (
    assign_cells,
    cells_to_image,
    decode_predictions,
    encode_batch,
    encode_targets,
    size_from_output,
)


def one_box(cx, cy, w, h, dtype=torch.float32):
    return torch.tensor([[cx, cy, w, h]], dtype=dtype)


def reference_encode(boxes, labels, S, C):
    """Brute force, in Python floats: visit the objects in order, give each its cell unless an
    earlier object already took it."""
    grid = [[[0.0] * (5 + C) for _ in range(S)] for _ in range(S)]
    taken = set()
    for (cx, cy, w, h), label in zip(boxes.tolist(), labels.tolist()):
        row = min(int(math.floor(cy * S)), S - 1)
        col = min(int(math.floor(cx * S)), S - 1)
        if (row, col) in taken:
            continue
        taken.add((row, col))
        cell = [cx * S - col, cy * S - row, w, h, 1.0] + [0.0] * C
        cell[5 + label] = 1.0
        grid[row][col] = cell
    return torch.tensor(grid, dtype=torch.float64)


def random_scene(generator, K, C, dtype=torch.float64):
    centres = torch.rand(K, 2, generator=generator, dtype=dtype)
    sizes = torch.rand(K, 2, generator=generator, dtype=dtype) * 0.5 + 0.01
    labels = torch.randint(0, C, (K,), generator=generator)
    return torch.cat((centres, sizes), dim=1), labels


# --- which cell, which offset -------------------------------------------------------------


def test_image_centre_with_paper_grid():
    # S = 7: 0.5 · 7 = 3.5, so row = col = floor(3.5) = 3 and the offset is 3.5 - 3 = 0.5:
    # the centre of the image is the centre of the middle cell.
    target = encode_targets(one_box(0.5, 0.5, 0.2, 0.4), torch.tensor([11]), S=7, C=20)
    assert target.shape == (7, 7, 25)
    torch.testing.assert_close(target[3, 3, :5], torch.tensor([0.5, 0.5, 0.2, 0.4, 1.0]))
    assert target[3, 3, 5:].argmax() == 11
    # Nothing anywhere else.
    target[3, 3] = 0
    assert target.abs().sum() == 0


def test_off_centre_box_row_and_column_are_not_swapped():
    # S = 4, cx = 0.875 -> 3.5 -> col 3, x = 0.5; cy = 0.375 -> 1.5 -> row 1, y = 0.5.
    # (Dyadic numbers: every product here is exact in float32.) Row comes from cy, col from cx.
    target = encode_targets(one_box(0.875, 0.375, 0.25, 0.5), torch.tensor([0]), S=4, C=3)
    assert target[1, 3, 4] == 1 and target[3, 1, 4] == 0
    torch.testing.assert_close(target[1, 3, :4], torch.tensor([0.5, 0.5, 0.25, 0.5]))


def test_centre_exactly_on_a_cell_border_belongs_to_the_cell_right_and_below():
    # S = 8, centre (0.25, 0.625): 0.25 · 8 = 2 and 0.625 · 8 = 5 exactly (powers of two), so
    # floor gives col 2 and row 5, the cell to the right of / below the border line, and the
    # offsets are exactly 0.
    target = encode_targets(one_box(0.25, 0.625, 0.1, 0.1), torch.tensor([1]), S=8, C=2)
    assert target[5, 2, 4] == 1
    assert target[5, 2, 0] == 0 and target[5, 2, 1] == 0
    assert target[4, 1, 4] == 0 and target[5, 1, 4] == 0 and target[4, 2, 4] == 0


def test_border_two_sevenths_in_float64():
    # With S = 7 the border 2/7 is not a binary fraction, so it depends on rounding: in float64
    # the rounded 2/7 times 7 rounds back to exactly 2.0 (checked here on Python floats, which
    # are float64 and independent of the package). Then col = 2 and x = 0.
    assert (2 / 7) * 7 == 2.0
    boxes = one_box(2 / 7, 0.5, 0.1, 0.1, dtype=torch.float64)
    assignment = assign_cells(boxes, 7)
    assert assignment.cols.tolist() == [2] and assignment.rows.tolist() == [3]
    target = encode_targets(boxes, torch.tensor([0]), S=7, C=1)
    assert target[3, 2, 0].item() == 0.0
    assert target[3, 2, 1].item() == pytest.approx(0.5)


def test_centre_at_one_is_clamped_to_the_last_cell_with_offset_one():
    # cx = cy = 1.0: floor(7) = 7 is outside the grid (rows 0..6), so it is clamped to 6 and
    # the offset is 7 - 6 = 1.0, the right/bottom edge of the last cell.
    target = encode_targets(one_box(1.0, 1.0, 0.2, 0.2), torch.tensor([2]), S=7, C=3)
    torch.testing.assert_close(target[6, 6, :5], torch.tensor([1.0, 1.0, 0.2, 0.2, 1.0]))
    # Only x clamps here: cx = 1.0, cy = 0.0 -> row 0 (offset 0), col 6 (offset 1).
    target = encode_targets(one_box(1.0, 0.0, 0.2, 0.2), torch.tensor([2]), S=7, C=3)
    torch.testing.assert_close(target[0, 6, :2], torch.tensor([1.0, 0.0]))


def test_one_hot_class():
    # Label 2 of C = 4 -> (0, 0, 1, 0) in the four class slots after (x, y, w, h, obj).
    target = encode_targets(one_box(0.1, 0.1, 0.1, 0.1), torch.tensor([2]), S=2, C=4)
    assert target[0, 0, 5:].tolist() == [0.0, 0.0, 1.0, 0.0]
    # The first and last class indices also work (a classic off-by-one place).
    for label in (0, 3):
        target = encode_targets(one_box(0.1, 0.1, 0.1, 0.1), torch.tensor([label]), S=2, C=4)
        expected = [0.0] * 4
        expected[label] = 1.0
        assert target[0, 0, 5:].tolist() == expected


def test_encode_does_not_modify_its_inputs():
    boxes, labels = one_box(0.3, 0.6, 0.2, 0.2), torch.tensor([1])
    before = boxes.clone(), labels.clone()
    encode_targets(boxes, labels, S=7, C=3)
    assert torch.equal(boxes, before[0]) and torch.equal(labels, before[1])


@pytest.mark.parametrize("S,K,C", [(7, 3, 20), (7, 30, 20), (13, 10, 5), (1, 4, 2), (3, 9, 1)])
def test_encode_matches_brute_force_on_random_scenes(S, K, C):
    generator = torch.Generator().manual_seed(1000 * S + K)
    for _ in range(5):
        boxes, labels = random_scene(generator, K, C)
        expected = reference_encode(boxes, labels, S, C)
        torch.testing.assert_close(encode_targets(boxes, labels, S=S, C=C), expected)


def test_encode_batch_stacks_per_image_encodings():
    # Images with 0, 1 and 5 objects: a batch is the per-image grids stacked along dim 0.
    generator = torch.Generator().manual_seed(3)
    scenes = [random_scene(generator, K, 6, torch.float32) for K in (0, 1, 5)]
    boxes, labels = [b for b, _ in scenes], [l for _, l in scenes]
    batch = encode_batch(boxes, labels, S=5, C=6)
    assert batch.shape == (3, 5, 5, 11)
    for n, (b, l) in enumerate(scenes):
        torch.testing.assert_close(batch[n], reference_encode(b, l, 5, 6).float())
    # A tuple works as well as a list.
    torch.testing.assert_close(encode_batch(tuple(boxes), tuple(labels), S=5, C=6), batch)


def test_no_objects_gives_an_all_zero_grid():
    target = encode_targets(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), S=7, C=20)
    assert target.shape == (7, 7, 25) and target.dtype == torch.float32
    assert target.abs().sum() == 0
    assignment = assign_cells(torch.zeros(0, 4), 7)
    assert assignment.dropped.numel() == 0 and assignment.rows.numel() == 0


def test_every_cell_occupied():
    # S = 4: one centre in the middle of each of the 16 cells, ((col + 0.5)/4, (row + 0.5)/4),
    # listed in reverse order so that object k does not simply land in flat cell k.
    S = 4
    cells = [(r, c) for r in range(S) for c in range(S)][::-1]
    boxes = torch.tensor([[(c + 0.5) / S, (r + 0.5) / S, 0.1, 0.2] for r, c in cells])
    labels = torch.arange(S * S) % 3
    target = encode_targets(boxes, labels, S=S, C=3)
    assert (target[..., 4] == 1).all()
    assert torch.equal(target[..., :2], torch.full((S, S, 2), 0.5))
    for k, (r, c) in enumerate(cells):
        assert target[r, c, 5 + int(labels[k])] == 1
    assert assign_cells(boxes, S).dropped.numel() == 0


# --- collisions -----------------------------------------------------------------------------


def test_two_centres_in_one_cell_first_listed_keeps_it():
    # S = 7: (0.50, 0.50) -> 3.5, 3.5 and (0.52, 0.48) -> 3.64, 3.36: both in cell (3, 3).
    a = [0.50, 0.50, 0.2, 0.2]
    b = [0.52, 0.48, 0.4, 0.1]
    for boxes, labels, kept_label, kept_w in (
        ([a, b], [0, 1], 0, 0.2),
        ([b, a], [1, 0], 1, 0.4),
    ):
        boxes = torch.tensor(boxes)
        assignment = assign_cells(boxes, 7)
        assert assignment.dropped.tolist() == [1]
        assert assignment.kept.tolist() == [True, False]
        target = encode_targets(boxes, torch.tensor(labels), S=7, C=2)
        assert target[3, 3, 5 + kept_label] == 1 and target[3, 3, 2] == pytest.approx(kept_w)
        assert target[..., 4].sum() == 1


@pytest.mark.parametrize(
    "order, dropped",
    [
        # Objects 0 and 1 share cell (1, 1) with S = 4 (centres 0.30 and 0.45: 1.2 and 1.8);
        # object 2 is alone in cell (3, 0). Whoever of {0, 1} comes first keeps the cell.
        ([0, 1, 2], [1]),
        ([1, 0, 2], [1]),
        ([2, 0, 1], [2]),
        ([2, 1, 0], [2]),
        ([0, 2, 1], [2]),
    ],
)
def test_dropped_lists_the_later_object_for_any_order(order, dropped):
    scene = torch.tensor([[0.30, 0.30, 0.1, 0.1], [0.45, 0.45, 0.1, 0.1], [0.1, 0.9, 0.1, 0.1]])
    assert assign_cells(scene[order], 4).dropped.tolist() == dropped


def test_three_in_one_cell_keep_only_the_first():
    boxes = torch.tensor([[0.1, 0.1, 0.1, 0.1], [0.2, 0.05, 0.1, 0.1], [0.05, 0.2, 0.3, 0.3]])
    assignment = assign_cells(boxes, 2)  # all three in cell (0, 0) of a 2×2 grid
    assert assignment.dropped.tolist() == [1, 2]
    assert assignment.rows.tolist() == [0, 0, 0] and assignment.cols.tolist() == [0, 0, 0]


# --- from cells back to the image -----------------------------------------------------------


def test_cells_to_image_by_hand():
    # S = 2, cell (row 1, col 0) holding offset (0.5, 0.25): cx = (0 + 0.5)/2 = 0.25,
    # cy = (1 + 0.25)/2 = 0.625; w, h untouched.
    cells = torch.zeros(1, 2, 2, 1, 4)
    cells[0, 1, 0, 0] = torch.tensor([0.5, 0.25, 0.3, 0.4])
    image = cells_to_image(cells)
    torch.testing.assert_close(image[0, 1, 0, 0], torch.tensor([0.25, 0.625, 0.3, 0.4]))
    # A zero offset in cell (0, 1) is that cell's top-left corner: (1/2, 0).
    torch.testing.assert_close(image[0, 0, 1, 0, :2], torch.tensor([0.5, 0.0]))


def test_round_trip_encoding_and_cells_to_image():
    generator = torch.Generator().manual_seed(7)
    boxes, labels = random_scene(generator, 12, 4)
    S = 7
    target = encode_targets(boxes, labels, S=S, C=4)
    image = cells_to_image(target[None, ..., None, :4])[0, ..., 0, :]  # [S, S, 4]
    assignment = assign_cells(boxes, S)
    kept = assignment.kept
    recovered = image[assignment.rows[kept], assignment.cols[kept]]
    torch.testing.assert_close(recovered, boxes[kept])
    # The image centre in particular: cell (3, 3), offset (0.5, 0.5) -> (3.5/7, 3.5/7).
    target = encode_targets(one_box(0.5, 0.5, 0.3, 0.3), torch.tensor([0]), S=S, C=1)
    back = cells_to_image(target[None, ..., None, :4])
    torch.testing.assert_close(back[0, 3, 3, 0], torch.tensor([0.5, 0.5, 0.3, 0.3]))


# --- decoding predictions -------------------------------------------------------------------


def test_decode_shapes_and_order():
    pred = torch.rand(3, 5, 5, 2 * 5 + 4, generator=torch.Generator().manual_seed(0))
    out = decode_predictions(pred, S=5, B=2, C=4)
    assert out.boxes.shape == (3, 50, 4) and out.scores.shape == (3, 50)
    assert out.labels.shape == (3, 50) and out.labels.dtype == torch.long
    # Entry index = (row · S + col) · B + b: entry 2·5·2 + 3·2 + 1 = 27 is row 2, col 3, b = 1.
    # Under the default wh="predicted_sqrt" the outputs w, h are roots: the box is w² × h².
    x, y, w, h, conf = pred[1, 2, 3, 5:10].tolist()
    w, h = w * w, h * h
    cx, cy = (3 + x) / 5, (2 + y) / 5
    expected = torch.tensor([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    torch.testing.assert_close(out.boxes[1, 27], expected)


def test_decode_hand_built_prediction():
    # S = 2, B = 2, C = 3. Cell (row 0, col 1):
    #   predictor 0: (x, y, w, h, conf) = (0.5, 0.5, 0.4, 0.2, 0.9)
    #     centre ((1 + 0.5)/2, (0 + 0.5)/2) = (0.75, 0.25) -> xyxy (0.55, 0.15, 0.95, 0.35)
    #   predictor 1: (0.0, 1.0, -0.3, 0.5, 0.5): negative width clamped to 0
    #     centre ((1 + 0)/2, (0 + 1)/2) = (0.5, 0.5) -> xyxy (0.5, 0.25, 0.5, 0.75)
    #   class scores (0.2, 0.7, 0.1): label 1, scores 0.9 · 0.7 = 0.63 and 0.5 · 0.7 = 0.35.
    pred = torch.zeros(1, 2, 2, 13)
    pred[0, 0, 1] = torch.tensor(
        [0.5, 0.5, 0.4, 0.2, 0.9, 0.0, 1.0, -0.3, 0.5, 0.5, 0.2, 0.7, 0.1]
    )
    out = decode_predictions(pred, S=2, B=2, C=3, wh="linear")  # the outputs are the sizes
    # Cell (0, 1) is flat cell 1, so its predictors are entries 2 and 3.
    torch.testing.assert_close(out.boxes[0, 2], torch.tensor([0.55, 0.15, 0.95, 0.35]))
    torch.testing.assert_close(out.boxes[0, 3], torch.tensor([0.5, 0.25, 0.5, 0.75]))
    torch.testing.assert_close(out.scores[0, 2:4], torch.tensor([0.63, 0.35]))
    assert out.labels[0, 2:4].tolist() == [1, 1]
    # The other cells are all zeros: conf 0 -> score 0; boxes collapse on their cell corners.
    assert out.scores[0, [0, 1, 4, 5, 6, 7]].abs().sum() == 0
    torch.testing.assert_close(out.boxes[0, 6], torch.tensor([0.5, 0.5, 0.5, 0.5]))


def test_decode_scores_and_labels_against_a_loop():
    S, B, C = 3, 2, 5
    pred = torch.randn(2, S, S, B * 5 + C, generator=torch.Generator().manual_seed(5))
    out = decode_predictions(pred, S=S, B=B, C=C, wh="signed_sqrt")
    for n in range(2):
        for row in range(S):
            for col in range(S):
                classes = pred[n, row, col, B * 5 :].tolist()
                best = max(range(C), key=lambda c: classes[c])
                for b in range(B):
                    k = (row * S + col) * B + b
                    conf = pred[n, row, col, b * 5 + 4].item()
                    assert out.labels[n, k].item() == best
                    assert out.scores[n, k].item() == pytest.approx(conf * classes[best], rel=1e-5)
                    w = max(pred[n, row, col, b * 5 + 2].item(), 0.0)
                    x1, _, x2, _ = out.boxes[n, k].tolist()
                    assert x2 - x1 == pytest.approx(w, abs=1e-6)


# --- dtypes ---------------------------------------------------------------------------------


def test_float64_boxes_give_a_float64_target():
    boxes = one_box(0.3, 0.7, 0.25, 0.5, dtype=torch.float64)
    target = encode_targets(boxes, torch.tensor([0]), S=7, C=2)
    assert target.dtype == torch.float64
    # 0.3 · 7 = 2.1 -> col 2, x ≈ 0.1; 0.7 · 7 = 4.9 -> row 4, y ≈ 0.9.
    assert target[4, 2, 0].item() == pytest.approx(0.1, abs=1e-12)
    assert target[4, 2, 1].item() == pytest.approx(0.9, abs=1e-12)


def test_float16_boxes_land_in_the_cell_of_their_exact_value():
    # float16(2/7) = 0.28564453125 (a little below 2/7). Its exact product with 7 is
    # 1.99951171875, so the centre is in col 1 with offset 0.99951171875; in float16
    # arithmetic the product would round to 2.0 and move the object to col 2.
    boxes = one_box(2 / 7, 0.5, 0.25, 0.5, dtype=torch.float16)
    assert boxes[0, 0].item() == 0.28564453125
    assert assign_cells(boxes, 7).cols.tolist() == [1]
    target = encode_targets(boxes, torch.tensor([0]), S=7, C=2)
    assert target.dtype == torch.float16
    assert target[3, 1, 0].item() == 0.99951171875 and target[3, 1, 4] == 1


def test_float16_matches_float64_on_random_scenes():
    generator = torch.Generator().manual_seed(11)
    boxes, labels = random_scene(generator, 20, 3)
    half = boxes.half()
    # Same (rounded) boxes, encoded in float64 and in float16: same cells, values to float16 step.
    expected = encode_targets(half.double(), labels, S=7, C=3)
    actual = encode_targets(half, labels, S=7, C=3)
    torch.testing.assert_close(actual.double(), expected, atol=1e-3, rtol=0)
    assert torch.equal(actual[..., 4] == 1, expected[..., 4] == 1)


# --- bad inputs -----------------------------------------------------------------------------

GOOD_BOXES = torch.tensor([[0.5, 0.5, 0.2, 0.2], [0.1, 0.2, 0.1, 0.1]])
GOOD_LABELS = torch.tensor([0, 1])


@pytest.mark.parametrize(
    "boxes, match",
    [
        (torch.rand(4), r"boxes must be \[K, 4\].*got \[4\]"),
        (torch.rand(1, 2, 4), r"boxes must be \[K, 4\].*got \[1, 2, 4\]"),
        (torch.rand(2, 5), r"boxes must be \[K, 4\].*got \[2, 5\]"),
        (torch.ones(2, 4, dtype=torch.long), r"boxes must be a floating-point tensor"),
        (torch.tensor([[0.5, float("nan"), 0.2, 0.2]] * 2), r"boxes must be finite"),
        (torch.tensor([[1.2, 0.5, 0.2, 0.2]] * 2), r"boxes centres .* must lie in \[0, 1\]"),
        (torch.tensor([[0.5, -0.1, 0.2, 0.2]] * 2), r"boxes centres .* must lie in \[0, 1\]"),
        (torch.tensor([[0.5, 0.5, -0.2, 0.2]] * 2), r"boxes sizes .*no negative size"),
        ([[0.5, 0.5, 0.2, 0.2]] * 2, r"boxes must be a torch.Tensor"),
    ],
)
def test_bad_boxes(boxes, match):
    with pytest.raises(ValueError, match=match):
        encode_targets(boxes, GOOD_LABELS, S=7, C=3)
    if isinstance(boxes, torch.Tensor) and boxes.dim() == 2 and boxes.shape[1] == 4:
        # assign_cells checks its boxes the same way (a NaN centre must not land in cell 0).
        with pytest.raises(ValueError, match=match):
            assign_cells(boxes, 7)


@pytest.mark.parametrize(
    "labels, match",
    [
        (torch.tensor([0, 1, 2]), r"labels must be \[K\] with K = 2.*got \[3\]"),
        (torch.tensor([[0, 1]]), r"labels must be \[K\] with K = 2.*got \[1, 2\]"),
        (torch.tensor([0.0, 1.0]), r"labels must be an integer tensor"),
        (torch.tensor([True, False]), r"labels must be an integer tensor"),
        (torch.tensor([0, 3]), r"labels must lie in \[0, C\) = \[0, 3\)"),
        (torch.tensor([-1, 0]), r"labels must lie in \[0, C\)"),
    ],
)
def test_bad_labels(labels, match):
    with pytest.raises(ValueError, match=match):
        encode_targets(GOOD_BOXES, labels, S=7, C=3)


@pytest.mark.parametrize("S", [0, -1, 2.0, True])
def test_bad_grid_size(S):
    with pytest.raises(ValueError, match=r"S must be a positive int"):
        encode_targets(GOOD_BOXES, GOOD_LABELS, S=S, C=3)
    with pytest.raises(ValueError, match=r"S must be a positive int"):
        assign_cells(GOOD_BOXES, S)


def test_bad_class_count():
    with pytest.raises(ValueError, match=r"C must be a positive int"):
        encode_targets(GOOD_BOXES, GOOD_LABELS, S=7, C=0)


def test_encode_batch_bad_inputs():
    with pytest.raises(ValueError, match=r"same number of images, got 2 and 1"):
        encode_batch([GOOD_BOXES, GOOD_BOXES], [GOOD_LABELS], S=7, C=3)
    with pytest.raises(ValueError, match=r"got a single tensor"):
        encode_batch(GOOD_BOXES, [GOOD_LABELS], S=7, C=3)
    with pytest.raises(ValueError, match=r"got a single tensor"):
        encode_batch([GOOD_BOXES], GOOD_LABELS, S=7, C=3)
    with pytest.raises(ValueError, match=r"boxes must list at least one image"):
        encode_batch([], [], S=7, C=3)
    # A bad image inside the batch is reported like a single image.
    with pytest.raises(ValueError, match=r"labels must lie in \[0, C\)"):
        encode_batch([GOOD_BOXES], [torch.tensor([0, 5])], S=7, C=3)


def test_decode_with_inconsistent_layout():
    pred = torch.zeros(1, 7, 7, 30)  # S=7, B=2, C=20
    expected = r"pred must be .*\[N, 7, 7, 35\] \(S=7, B=3, C=20\).*got \[1, 7, 7, 30\]"
    with pytest.raises(ValueError, match=expected):
        decode_predictions(pred, S=7, B=3, C=20)
    with pytest.raises(ValueError, match=r"pred must be .*\(S=7, B=2, C=10\)"):
        decode_predictions(pred, S=7, B=2, C=10)
    with pytest.raises(ValueError, match=r"pred must be .*\(S=13, B=2, C=20\)"):
        decode_predictions(pred, S=13, B=2, C=20)
    with pytest.raises(ValueError, match=r"pred must be .*got \[7, 7, 30\]"):
        decode_predictions(pred[0])
    with pytest.raises(ValueError, match=r"pred must be a floating-point tensor"):
        decode_predictions(pred.long())
    with pytest.raises(ValueError, match=r"B must be a positive int"):
        decode_predictions(pred, B=0)


def test_decode_squares_predicted_roots_and_a_negative_root_draws_the_same_box():
    """Under the default wh="predicted_sqrt" the outputs are √w, √h: (0.5, 0.4) draws a
    0.25 × 0.16 box, and (-0.5, -0.4) the very same box (darknet decodes with pow(x, 2); the
    loss's IoU sees that box too). The tutorial variants read (-0.5, 0.4) as a width clamped
    to 0 and a height 0.4."""
    pred = torch.zeros(1, 2, 2, 12, dtype=torch.float64)  # S = 2, B = 2, C = 2
    pred[0, 0, 0, :10] = torch.tensor([0.5, 0.5, 0.5, 0.4, 1.0, 0.5, 0.5, -0.5, -0.4, 1.0], dtype=torch.float64)
    out = decode_predictions(pred, S=2, B=2, C=2)
    # Centre (0.25, 0.25): xyxy (0.25 - 0.125, 0.25 - 0.08, 0.25 + 0.125, 0.25 + 0.08).
    expected = torch.tensor([0.125, 0.17, 0.375, 0.33], dtype=torch.float64)
    torch.testing.assert_close(out.boxes[0, 0], expected)
    torch.testing.assert_close(out.boxes[0, 1], expected)
    for wh in ("signed_sqrt", "clamped_sqrt", "linear"):
        sizes = decode_predictions(pred, S=2, B=2, C=2, wh=wh).boxes[0, 1]
        torch.testing.assert_close(sizes[2:] - sizes[:2], torch.tensor([0.0, 0.0], dtype=torch.float64))
        torch.testing.assert_close(decode_predictions(pred, S=2, B=2, C=2, wh=wh).boxes[0, 0],
                                   torch.tensor([0.0, 0.05, 0.5, 0.45], dtype=torch.float64))
    torch.testing.assert_close(size_from_output(torch.tensor([-0.5, 0.0, 0.3])), torch.tensor([0.25, 0.0, 0.09]))
    torch.testing.assert_close(size_from_output(torch.tensor([-0.5, 0.3]), "linear"), torch.tensor([0.0, 0.3]))


def test_decode_every_class_scores_each_class():
    """scoring="every_class" (the paper, section 2.4): one entry per predictor and class,
    score conf · Pr(class), ordered by row, column, predictor, class; the best class's
    entries equal "best_class"'s."""
    S, B, C = 3, 2, 4
    pred = torch.rand(2, S, S, B * 5 + C, generator=torch.Generator().manual_seed(3))
    every = decode_predictions(pred, S=S, B=B, C=C, scoring="every_class")
    best = decode_predictions(pred, S=S, B=B, C=C)
    assert every.boxes.shape == (2, S * S * B * C, 4) and every.labels.shape == (2, S * S * B * C)
    for n in range(2):
        for row in range(S):
            for col in range(S):
                classes = pred[n, row, col, B * 5 :]
                for b in range(B):
                    k = (row * S + col) * B + b
                    for c in range(C):
                        j = k * C + c
                        assert every.labels[n, j].item() == c
                        assert every.scores[n, j].item() == pytest.approx(pred[n, row, col, b * 5 + 4].item() * classes[c].item())
                        assert torch.equal(every.boxes[n, j], best.boxes[n, k])
                    j = k * C + int(classes.argmax())
                    assert every.scores[n, j] == best.scores[n, k] and every.labels[n, j] == best.labels[n, k]


def test_decode_bad_options():
    pred = torch.zeros(1, 7, 7, 30)
    with pytest.raises(ValueError, match=r"wh must be one of 'predicted_sqrt', 'signed_sqrt', 'clamped_sqrt', 'linear', got 'sqrt'"):
        decode_predictions(pred, wh="sqrt")
    with pytest.raises(ValueError, match=r"scoring must be one of 'best_class', 'every_class', got 'all'"):
        decode_predictions(pred, scoring="all")
    with pytest.raises(ValueError, match=r"wh must be one of"):
        size_from_output(torch.ones(2), "root")
    with pytest.raises(ValueError, match=r"out must be a floating-point tensor"):
        size_from_output(torch.ones(2, dtype=torch.long))


def test_cells_to_image_bad_shape():
    with pytest.raises(ValueError, match=r"boxes must be \[N, S, S, B, 4\], got \[1, 7, 7, 4\]"):
        cells_to_image(torch.zeros(1, 7, 7, 4))
    with pytest.raises(ValueError, match=r"boxes must be \[N, S, S, B, 4\], got \[1, 7, 6, 2, 4\]"):
        cells_to_image(torch.zeros(1, 7, 6, 2, 4))
