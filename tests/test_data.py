"""Tests of yolo_lesson.data: the synthetic shapes, the collate function and the YOLO-folder reader."""

from __future__ import annotations

import math

import pytest
import torch

from yolo_lesson.data import SHAPE_CLASSES, ShapesDataset, YoloCollate, read_yolo_folder

# ---------------------------------------------------------------- the shapes dataset


def test_same_seed_same_items_in_any_order():
    a, b = ShapesDataset(6, image_size=32, seed=3), ShapesDataset(6, image_size=32, seed=3)
    backwards = [b[i] for i in reversed(range(6))][::-1]  # b read in the other order
    for i in range(6):
        for x, y in zip(a[i], backwards[i]):
            assert torch.equal(x, y)


def test_another_seed_gives_other_images():
    assert not torch.equal(ShapesDataset(1, 32, seed=0)[0][0], ShapesDataset(1, 32, seed=1)[0][0])


def test_items_have_the_documented_shapes_and_ranges():
    data = ShapesDataset(20, image_size=48, seed=0)
    counts = set()
    for image, boxes, labels in data:
        assert image.shape == (3, 48, 48) and image.dtype == torch.float32
        assert 0 <= float(image.min()) and float(image.max()) <= 1
        K = boxes.shape[0]
        counts.add(K)
        assert boxes.shape == (K, 4) and labels.shape == (K,) and labels.dtype == torch.long
        assert 1 <= K <= 4
        assert bool(((labels >= 0) & (labels < len(SHAPE_CLASSES))).all())
    assert len(counts) > 1  # 20 images do not all have the same number of objects


def test_boxes_lie_inside_the_image_and_do_not_overlap():
    for _, boxes, _ in ShapesDataset(30, 64, seed=5, sizes=(0.2, 0.45)):
        as_list = boxes.tolist()
        for cx, cy, w, h in as_list:
            # the whole box, not only its centre, is inside the unit square
            assert 0 <= cx - w / 2 and cx + w / 2 <= 1 and 0 <= cy - h / 2 and cy + h / 2 <= 1
            assert 0.2 <= w <= 0.45 and w == h
        for i in range(len(as_list)):  # brute force over every pair
            for j in range(i):
                (x1, y1, w1, h1), (x2, y2, w2, h2) = as_list[i], as_list[j]
                overlap_x = min(x1 + w1 / 2, x2 + w2 / 2) - max(x1 - w1 / 2, x2 - w2 / 2)
                overlap_y = min(y1 + h1 / 2, y2 + h2 / 2) - max(y1 - h1 / 2, y2 - h2 / 2)
                assert overlap_x <= 1e-9 or overlap_y <= 1e-9


@pytest.mark.parametrize(
    "kind, area_fraction",
    # fraction of its bounding box a shape covers: square 1, disc π/4, triangle 1/2
    [(0, math.pi / 4), (1, 1.0), (2, 0.5)],
)
def test_each_class_is_drawn_with_its_area_inside_its_box(kind, area_fraction):
    data = ShapesDataset(40, image_size=64, seed=0, objects=(1, 1), sizes=(0.5, 0.5), noise=0.0)
    image, boxes, labels = next(item for item in data if int(item[2][0]) == kind)
    cx, cy, w, h = boxes[0].tolist()
    # Without noise, the shape's pixels are the only ones that differ from the background. A
    # box of side 0.5 has its centre in [0.25, 0.75], so it ends at least 0.25 short of the
    # image corner farthest from its centre: that pixel is background.
    corner = (0 if cy > 0.5 else 63, 0 if cx > 0.5 else 63)
    background = image[:, corner[0], corner[1]]
    drawn = (image != background[:, None, None]).any(dim=0)  # [H, W]
    box_pixels = (w * 64) * (h * 64)
    assert abs(int(drawn.sum()) / box_pixels - area_fraction) < 0.06
    rows, cols = drawn.nonzero(as_tuple=True)
    # the drawn pixels span the box, to within a pixel on each side
    assert abs(float(cols.min() + 0.5) / 64 - (cx - w / 2)) <= 1.5 / 64
    assert abs(float(cols.max() + 0.5) / 64 - (cx + w / 2)) <= 1.5 / 64
    assert abs(float(rows.max() + 0.5) / 64 - (cy + h / 2)) <= 1.5 / 64


def test_shapes_are_bright_on_a_dark_background():
    image, boxes, _ = ShapesDataset(1, 64, seed=2, objects=(1, 1), noise=0.0)[0]
    cx, cy = boxes[0, :2].tolist()  # the centre of every shape is inside it
    assert bool((image[:, int(cy * 64), int(cx * 64)] >= 0.45).all())
    corner = (0 if cy > 0.5 else 63, 0 if cx > 0.5 else 63)
    assert bool((image[:, corner[0], corner[1]] <= 0.35).all())


def test_images_without_objects():
    image, boxes, labels = ShapesDataset(2, 32, objects=(0, 0))[1]
    assert boxes.shape == (0, 4) and labels.shape == (0,)
    assert image.shape == (3, 32, 32)


def test_index_out_of_range():
    with pytest.raises(IndexError, match="index 3"):
        ShapesDataset(3, 16)[3]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "n must be a positive int"),
        ({"n": 2, "image_size": 0}, "image_size must be a positive int"),
        ({"n": 2, "seed": -1}, "seed must be an int >= 0"),
        ({"n": 2, "objects": (3, 1)}, "objects must be"),
        ({"n": 2, "sizes": (0.0, 0.5)}, "sizes must be"),
        ({"n": 2, "noise": -0.1}, "noise must be >= 0"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ShapesDataset(**kwargs)


# ---------------------------------------------------------------- collate


def _brute_force_target(boxes, labels, S, C):
    """The grid target written with plain Python: the first object in a cell keeps it."""
    target = [[[0.0] * (5 + C) for _ in range(S)] for _ in range(S)]
    taken = set()
    for (cx, cy, w, h), label in zip(boxes.tolist(), labels.tolist()):
        row, col = min(int(cy * S), S - 1), min(int(cx * S), S - 1)
        if (row, col) in taken:
            continue
        taken.add((row, col))
        cell = [cx * S - col, cy * S - row, w, h, 1.0] + [0.0] * C
        cell[5 + label] = 1.0
        target[row][col] = cell
    return torch.tensor(target)


def test_collate_stacks_images_and_encodes_the_grid():
    data = ShapesDataset(5, 32, seed=1, sizes=(0.1, 0.2))
    items = [data[i] for i in range(5)]
    batch = YoloCollate(S=4, C=3)(items)
    assert batch.images.shape == (5, 3, 32, 32)
    assert batch.target.shape == (5, 4, 4, 8)
    for n, (image, boxes, labels) in enumerate(items):
        assert torch.equal(batch.images[n], image)
        assert torch.equal(batch.boxes[n], boxes) and torch.equal(batch.labels[n], labels)
        torch.testing.assert_close(batch.target[n], _brute_force_target(boxes, labels, 4, 3))


def test_collate_keeps_objects_that_lost_their_cell_in_the_raw_lists():
    image = torch.zeros(3, 8, 8)
    boxes = torch.tensor([[0.1, 0.1, 0.1, 0.1], [0.2, 0.2, 0.1, 0.1]])  # same cell at S = 2
    batch = YoloCollate(S=2, C=1)([(image, boxes, torch.tensor([0, 0]))])
    assert int(batch.target[..., 4].sum()) == 1  # the grid holds one object per cell
    assert batch.boxes[0].shape == (2, 4)  # mAP still sees both


def test_collate_with_empty_images_gives_an_all_zero_target():
    batch = YoloCollate(S=3, C=2)(list(ShapesDataset(2, 16, objects=(0, 0))))
    assert batch.target.shape == (2, 3, 3, 7) and not bool(batch.target.any())


def test_collate_rejects_images_of_different_sizes():
    empty = (torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="images must all have one shape"):
        YoloCollate(S=2, C=1)([(torch.zeros(3, 8, 8), *empty), (torch.zeros(3, 9, 8), *empty)])


# ---------------------------------------------------------------- YOLO-format folders

Image = pytest.importorskip("PIL.Image")


def _write_image(path, width, height, colour):
    Image.new("RGB", (width, height), colour).save(path)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    _write_image(tmp_path / "images" / "a.png", 20, 10, (255, 0, 51))
    _write_image(tmp_path / "images" / "b.png", 20, 10, (0, 0, 0))
    _write_image(tmp_path / "images" / "c.png", 20, 10, (0, 0, 0))  # no label file: no objects
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.4\n\n2 0.25 0.75 0.1 0.1\n")
    (tmp_path / "labels" / "b.txt").write_text("1 0.1 0.2 0.3 0.4\n")
    return tmp_path


def test_read_yolo_folder_reads_images_boxes_and_labels(folder):
    data = read_yolo_folder(folder)
    assert [f.name for f in data.files] == ["a.png", "b.png", "c.png"]
    image, boxes, labels = data[0]
    assert image.shape == (3, 10, 20)  # [3, H, W]
    # 255, 0, 51 out of 255
    torch.testing.assert_close(image[:, 3, 7], torch.tensor([1.0, 0.0, 0.2]))
    torch.testing.assert_close(boxes, torch.tensor([[0.5, 0.5, 0.2, 0.4], [0.25, 0.75, 0.1, 0.1]]))
    assert labels.tolist() == [0, 2]
    assert data[1][2].tolist() == [1]
    assert data[2][1].shape == (0, 4) and data[2][2].shape == (0,)


def test_read_yolo_folder_resizes_and_batches(folder):
    data = read_yolo_folder(folder, image_size=16, num_classes=3)
    batch = YoloCollate(S=2, C=3)([data[i] for i in range(len(data))])
    assert batch.images.shape == (3, 3, 16, 16)
    # object 0 of image a, centre (0.5, 0.5) -> row 1, col 1 at S = 2, offset 0
    torch.testing.assert_close(batch.target[0, 1, 1, :5], torch.tensor([0.0, 0.0, 0.2, 0.4, 1.0]))


def test_read_yolo_folder_accepts_images_beside_the_labels_folder(tmp_path):
    (tmp_path / "labels").mkdir()
    _write_image(tmp_path / "x.jpg", 8, 8, (10, 20, 30))
    (tmp_path / "labels" / "x.txt").write_text("0 0.5 0.5 1 1\n")
    assert read_yolo_folder(tmp_path)[0][2].tolist() == [0]


@pytest.mark.parametrize(
    "line, message",
    [
        ("0 0.5 0.5 0.2", r"b\.txt, line 1: expected 'class cx cy w h'"),
        ("x 0.5 0.5 0.2 0.2", r"b\.txt, line 1: expected an integer class"),
        ("0.5 0.5 0.5 0.2 0.2", r"b\.txt, line 1: expected an integer class"),
        ("-1 0.5 0.5 0.2 0.2", r"b\.txt, line 1: class must be >= 0"),
        ("3 0.5 0.5 0.2 0.2", r"b\.txt, line 1: class must be >= 0 and < 3"),
        ("0 1.5 0.5 0.2 0.2", r"b\.txt, line 1: cx, cy, w, h must be normalized"),
        ("0 0.5 0.5 nan 0.2", r"b\.txt, line 1: cx, cy, w, h must be normalized"),
        ("0 0.5 0.5 0 0.2", r"b\.txt, line 1: w and h must be > 0"),
    ],
)
def test_bad_label_lines_name_the_file_and_line(folder, line, message):
    (folder / "labels" / "b.txt").write_text(line + "\n")
    with pytest.raises(ValueError, match=message):
        read_yolo_folder(folder, num_classes=3)


def test_a_bad_line_further_down_is_located(folder):
    (folder / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n\n1 0.5 0.5 0.2\n")
    with pytest.raises(ValueError, match=r"a\.txt, line 3"):
        read_yolo_folder(folder)


def test_read_yolo_folder_needs_a_folder_with_images(tmp_path):
    with pytest.raises(ValueError, match="path must be a folder"):
        read_yolo_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="path must hold images"):
        read_yolo_folder(tmp_path)
