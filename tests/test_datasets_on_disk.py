"""Reading datasets as learners bring them: Ultralytics and Roboflow exports, phone photos,
label files saved by Notepad, 16-bit PNGs, COCO JSON. Every tree is written here, in tmp_path,
the way the tool in question writes it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from yolo_lesson.data import (
    DatasetWarning,
    ShapesDataset,
    read_coco_detection,
    read_yolo_dataset,
    read_yolo_folder,
)

Image = pytest.importorskip("PIL.Image")

LINE = "1 0.5 0.25 0.2 0.1\n"  # class 1, centre (0.5, 0.25), 0.2 × 0.1 of the image
BOX = [0.5, 0.25, 0.2, 0.1]


def picture(path: Path, size=(16, 8), colour=(255, 0, 51), mode="RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path)
    return path


def label(path: Path, text: str = LINE, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def quietly(call, *args, **kwargs):
    """Calls a reader that must not warn (everything matched)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetWarning)
        return call(*args, **kwargs)


# ---------------------------------------------------------------- layouts


def ultralytics_tree(root: Path) -> Path:
    """datasets/shapes/{images,labels}/{train,val}: Ultralytics's layout (coco8 and friends)."""
    for split, stems in (("train", ["a", "b"]), ("val", ["c"])):
        for stem in stems:
            picture(root / "images" / split / f"{stem}.jpg")
            label(root / "labels" / split / f"{stem}.txt")
    return root


def test_an_ultralytics_yaml_with_a_path_relative_to_the_working_directory(tmp_path, monkeypatch):
    ultralytics_tree(tmp_path / "datasets" / "shapes")
    (tmp_path / "configs").mkdir()
    yaml_file = tmp_path / "configs" / "shapes.yaml"
    yaml_file.write_text(
        "path: datasets/shapes\ntrain: images/train\nval: images/val\nnames:\n  0: circle\n  1: square\n"
    )
    monkeypatch.chdir(tmp_path)  # Ultralytics reads a relative path: from the working directory
    train = quietly(read_yolo_dataset, yaml_file)
    val = quietly(read_yolo_dataset, yaml_file, split="val")
    assert train.names == ["circle", "square"] and train.classes == 2
    assert [f.name for f in train.files] == ["a.jpg", "b.jpg"] and [f.name for f in val.files] == ["c.jpg"]
    torch.testing.assert_close(train[0][1], torch.tensor([BOX]))
    assert train[0][2].tolist() == [1]


def test_an_ultralytics_yaml_without_path_reads_from_its_own_folder(tmp_path):
    root = ultralytics_tree(tmp_path / "shapes")
    (root / "data.yaml").write_text("train: images/train\nval: images/val\nnames: [circle, square]\n")
    data = quietly(read_yolo_dataset, root / "data.yaml", "val", image_size=8)
    assert data.names == ["circle", "square"] and data[0][0].shape == (3, 8, 8)


def test_a_roboflow_export_as_unzipped(tmp_path):
    # Roboflow: data.yaml beside train/, valid/, test/, each with images/ and labels/, and split
    # paths that start with ../ (resolved without it when ../train does not exist).
    root = tmp_path / "export"
    for split in ("train", "valid", "test"):
        picture(root / split / "images" / f"{split}_1.jpg")
        label(root / split / "labels" / f"{split}_1.txt")
    (root / "data.yaml").write_text(
        "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\nnc: 2\nnames: ['cat', 'dog']\n"
    )
    for split in ("train", "val", "test"):
        data = quietly(read_yolo_dataset, root / "data.yaml", split)
        assert data.names == ["cat", "dog"] and len(data) == 1 and data[0][2].tolist() == [1]
    # The export's root is not one dataset: the reader names the splits instead of guessing.
    with pytest.raises(ValueError, match="holds the splits test, train, valid: pass one of them"):
        read_yolo_folder(root)
    assert quietly(read_yolo_folder, root / "valid")[0][2].tolist() == [1]


def test_an_images_folder_finds_its_labels_by_the_images_to_labels_rule(tmp_path):
    root = ultralytics_tree(tmp_path / "shapes")
    data = quietly(read_yolo_folder, root / "images" / "train")  # -> labels/train
    assert [labels.tolist() for _, _, labels in data] == [[1], [1]]
    picture(tmp_path / "flat" / "x.png")  # no images folder above: labels beside the image
    label(tmp_path / "flat" / "x.txt")
    assert quietly(read_yolo_folder, tmp_path / "flat")[0][2].tolist() == [1]


def test_label_stems_that_differ_in_case_are_matched_and_reported(tmp_path):
    picture(tmp_path / "images" / "IMG_0001.JPG")
    label(tmp_path / "labels" / "img_0001.txt")
    with pytest.warns(DatasetWarning, match="1 label files matched their image only ignoring upper/lower case"):
        data = read_yolo_folder(tmp_path)
    assert data[0][2].tolist() == [1]


def test_unmatched_images_and_labels_are_counted_in_one_warning(tmp_path):
    for stem in ("a", "b", "c"):
        picture(tmp_path / "images" / f"{stem}.png")
    label(tmp_path / "labels" / "a.txt")
    label(tmp_path / "labels" / "zz.txt")  # a label whose image was deleted
    label(tmp_path / "labels" / "classes.txt", "circle\nsquare\n")  # LabelImg's class names
    with pytest.warns(DatasetWarning) as caught:
        data = read_yolo_folder(tmp_path)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "2 of 3 images have no label file" in message and "1 label files have no image" in message
    assert "zz.txt" in message
    assert data.names == ["circle", "square"] and len(data.notes) == 2


# ---------------------------------------------------------------- label files


def test_a_label_saved_by_notepad_with_a_bom_reads(tmp_path):
    picture(tmp_path / "images" / "a.png")
    label(tmp_path / "labels" / "a.txt", "\ufeff" + LINE.replace("\n", "\r\n"))  # BOM, CRLF
    torch.testing.assert_close(quietly(read_yolo_folder, tmp_path)[0][1], torch.tensor([BOX]))


@pytest.mark.parametrize(
    "encoding, message",
    [("utf-16", "got UTF-16 or UTF-32"), ("utf-16-le", "got UTF-16 or UTF-32"), ("latin-1", "got byte 0xe9")],
)
def test_other_encodings_are_refused_naming_the_file(tmp_path, encoding, message):
    picture(tmp_path / "images" / "a.png")
    label(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n" if encoding != "latin-1" else "0 0.5 0.5 0.2 0.2 é\n", encoding)
    with pytest.raises(ValueError, match=rf"a\.txt: label files must be UTF-8 text.*{message}"):
        read_yolo_folder(tmp_path)


def test_tiny_overshoots_are_clipped_with_a_note_larger_ones_refused(tmp_path):
    picture(tmp_path / "images" / "a.png")
    label(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n0 -0.004 0.5 1.0000001 0.2\n")
    with pytest.warns(DatasetWarning, match=r"2 coordinates slightly outside \[0, 1\].*clipped.*a\.txt, line 2"):
        boxes = read_yolo_folder(tmp_path)[0][1]
    assert boxes[1, 0] == 0 and boxes[1, 2] == 1
    label(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.2 -0.004\n")
    with pytest.raises(ValueError, match="line 1: w and h must be > 0, got 0.2 and 0.0"):
        read_yolo_folder(tmp_path)  # h clipped to 0: then refused as an empty box
    label(tmp_path / "labels" / "a.txt", "0 1.005 0.5 0.2 0.2\n")
    with pytest.warns(DatasetWarning, match="1 coordinates slightly outside"):
        assert read_yolo_folder(tmp_path)[0][1][0, 0] == 1.0
    label(tmp_path / "labels" / "a.txt", "0 1.02 0.5 0.2 0.2\n")
    with pytest.raises(ValueError, match="must be normalized to"):
        read_yolo_folder(tmp_path)


def test_a_polygon_becomes_its_box_or_is_refused_with_a_hint(tmp_path):
    picture(tmp_path / "images" / "a.png")
    # a triangle with corners (0.2, 0.3), (0.6, 0.3), (0.4, 0.9): box x 0.2-0.6, y 0.3-0.9
    label(tmp_path / "labels" / "a.txt", "2 0.2 0.3 0.6 0.3 0.4 0.9\n")
    with pytest.warns(DatasetWarning, match="1 polygon labels were replaced by their bounding box"):
        _, boxes, labels = read_yolo_folder(tmp_path)[0]
    torch.testing.assert_close(boxes, torch.tensor([[0.4, 0.6, 0.4, 0.6]]))
    assert labels.tolist() == [2]
    with pytest.raises(ValueError, match="a polygon of 3 points.*pass polygons='box'"):
        read_yolo_folder(tmp_path, polygons="refuse")


# ---------------------------------------------------------------- images


def test_a_phone_photo_is_turned_upright_by_its_exif_orientation(tmp_path):
    # Stored 16 × 8 (landscape), left half red; orientation 6: "rotate 90° clockwise to view".
    # Viewed, it is 8 wide and 16 tall with the red half on top, where the labels were drawn.
    stored = Image.new("RGB", (16, 8), (0, 0, 0))
    stored.paste((255, 0, 0), (0, 0, 8, 8))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    (tmp_path / "images").mkdir()
    stored.save(tmp_path / "images" / "phone.jpg", exif=exif, quality=100)
    label(tmp_path / "labels" / "phone.txt", "0 0.5 0.25 1 0.5\n")  # the red half, as viewed
    image = quietly(read_yolo_folder, tmp_path)[0][0]
    assert image.shape == (3, 16, 8)  # [3, H, W]
    assert float(image[0, :7].mean()) > 0.9 and float(image[0, 9:].mean()) < 0.1


@pytest.mark.parametrize(
    "mode, value, expected",
    [
        ("1", 1, 1.0),
        ("L", 51, 0.2),
        ("LA", (51, 0), 0.2),  # alpha is dropped, the grey stays
        ("P", 0, 0.0),
        ("RGB", (51, 51, 51), 0.2),
        ("RGBA", (51, 51, 51, 128), 0.2),
        ("CMYK", (0, 0, 0, 204), 0.2),  # 80 % black ink: 255 - 204 = 51
        ("I;16", 32768, 32768 / 65535),
        ("I;16", 65535, 1.0),
        ("I", 13107, 0.2),  # 16-bit PNGs read as 32-bit integers by some Pillow versions
        ("F", 0.2, 0.2),
    ],
)
def test_every_image_mode_is_scaled_to_0_1(tmp_path, mode, value, expected):
    suffix = ".tiff" if mode in ("CMYK", "F", "I") else ".png"
    picture(tmp_path / "images" / f"a{suffix}", (4, 3), value, mode)
    label(tmp_path / "labels" / "a.txt")
    image = quietly(read_yolo_folder, tmp_path)[0][0]
    assert image.shape == (3, 3, 4)
    torch.testing.assert_close(image, torch.full((3, 3, 4), float(expected)), atol=1e-6, rtol=0)


def test_a_16_bit_png_keeps_its_grey_levels(tmp_path):
    # The defect: converting to RGB clipped every value above 255 to white.
    ramp = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000).astype(np.uint16)
    (tmp_path / "images").mkdir()
    Image.fromarray(ramp).save(tmp_path / "images" / "depth.png")
    assert Image.open(tmp_path / "images" / "depth.png").mode.startswith("I")
    label(tmp_path / "labels" / "depth.txt")
    image = quietly(read_yolo_folder, tmp_path)[0][0]
    torch.testing.assert_close(image[0].double(), torch.from_numpy(ramp / 65535), atol=1e-7, rtol=0)


def test_a_file_that_is_not_an_image_is_named(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match=r"broken\.jpg: expected a readable image"):
        read_yolo_folder(tmp_path)


# ---------------------------------------------------------------- data YAML refusals


@pytest.mark.parametrize(
    "text, message",
    [
        ("train: images\n", "needs 'names'"),
        ("train: images\nnames: [a]\nnc: 2\n", r"nc \(2\) must equal the number of names, got 1"),
        ("train: images\nnames: {1: a, 2: b}\n", "names as a mapping must have the keys 0 to 1"),
        ("train: nowhere\nnames: [a]\n", "train: 'nowhere' must be a folder of images"),
        ("path: missing\ntrain: images\nnames: [a]\n", "path: 'missing' must be a folder"),
        ("train: [images\n", "YAML syntax error"),
        ("- a list\n", "expected a data YAML"),
    ],
)
def test_a_bad_data_yaml_is_refused_naming_the_file(tmp_path, text, message):
    picture(tmp_path / "images" / "a.png")
    (tmp_path / "data.yaml").write_text(text)
    with pytest.raises(ValueError, match=message):
        read_yolo_dataset(tmp_path / "data.yaml")


def test_a_split_the_yaml_does_not_have(tmp_path):
    picture(tmp_path / "images" / "a.png")
    (tmp_path / "data.yaml").write_text("train: images\nnames: [a, b]\n")
    with pytest.raises(ValueError, match=r"split must be one of the YAML's splits \['train'\], got 'val'"):
        read_yolo_dataset(tmp_path / "data.yaml", "val")


def test_a_split_given_as_a_list_of_images(tmp_path):
    root = ultralytics_tree(tmp_path)
    (root / "train.txt").write_text("./images/train/b.jpg\nimages/val/c.jpg\n")
    (root / "data.yaml").write_text("train: train.txt\nnames: [a, b]\n")
    assert [f.name for f in quietly(read_yolo_dataset, root / "data.yaml").files] == ["b.jpg", "c.jpg"]


# ---------------------------------------------------------------- COCO


def test_coco_detection_json_into_the_same_form(tmp_path):
    picture(tmp_path / "images" / "one.jpg", (20, 10))
    picture(tmp_path / "images" / "two.jpg", (20, 10))
    coco = {
        "images": [
            {"id": 7, "file_name": "images/one.jpg", "width": 20, "height": 10},
            {"id": 9, "file_name": "images/two.jpg", "width": 20, "height": 10},
        ],
        "categories": [{"id": 18, "name": "dog"}, {"id": 3, "name": "car"}],
        "annotations": [
            # x 5-9, y 0-5 of 20 × 10: centre (7, 2.5) / (20, 10), size (4, 5) / (20, 10)
            {"id": 1, "image_id": 7, "category_id": 18, "bbox": [5, 0, 4, 5], "iscrowd": 0},
            # reaches past the right edge: clipped to x 16-20
            {"id": 2, "image_id": 7, "category_id": 3, "bbox": [16, 2, 8, 2]},
            {"id": 3, "image_id": 9, "category_id": 3, "bbox": [0, 0, 20, 10], "iscrowd": 1},
            {"id": 4, "image_id": 9, "category_id": 3, "bbox": [3, 3, 0, 2]},  # zero width
        ],
    }
    (tmp_path / "instances.json").write_text(json.dumps(coco))
    with pytest.warns(DatasetWarning, match="1 crowd annotations.*1 boxes of zero width or height"):
        data = read_coco_detection(tmp_path / "instances.json")
    assert data.names == ["car", "dog"]  # categories sorted by id: 3 -> 0, 18 -> 1
    _, boxes, labels = data[0]
    torch.testing.assert_close(boxes, torch.tensor([[0.35, 0.25, 0.2, 0.5], [0.9, 0.3, 0.2, 0.2]]))
    assert labels.tolist() == [1, 0]
    assert data[1][1].shape == (0, 4)


def test_coco_sizes_that_disagree_with_the_image_are_refused(tmp_path):
    picture(tmp_path / "a.jpg", (20, 10))
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 20}], "annotations": [], "categories": []}
    (tmp_path / "c.json").write_text(json.dumps(coco))
    with pytest.raises(ValueError, match="a.jpg must be 10 × 20 pixels as the JSON says, got 20 × 10"):
        read_coco_detection(tmp_path / "c.json")


# ---------------------------------------------------------------- integer-like indices


def test_numpy_and_torch_integers_index_the_datasets(tmp_path):
    data = ShapesDataset(4, image_size=16, seed=np.int64(3))
    for index in (np.int64(1), torch.tensor(1), np.uint8(1)):
        for got, expected in zip(data[index], data[1]):
            assert torch.equal(got, expected)
    picture(tmp_path / "images" / "a.png")
    label(tmp_path / "labels" / "a.txt")
    assert quietly(read_yolo_folder, tmp_path)[np.int32(0)][2].tolist() == [1]


def test_a_huge_seed_is_accepted_and_deterministic():
    big = 2**70 + 5
    a, b = ShapesDataset(2, 16, seed=big)[1], ShapesDataset(2, 16, seed=big)[1]
    assert all(torch.equal(x, y) for x, y in zip(a, b))


# ---------------------------------------------------------------- zip files and copy-paste


def test_macos_metadata_files_are_skipped_and_counted(tmp_path):
    # A zip made on macOS unpacks with a ._name beside each file and a __MACOSX folder.
    picture(tmp_path / "ds" / "images" / "train" / "a.jpg")
    label(tmp_path / "ds" / "labels" / "train" / "a.txt")
    (tmp_path / "ds" / "images" / "train" / "._a.jpg").write_bytes(b"\x00\x05\x16\x07 metadata")
    (tmp_path / "ds" / "images" / "train" / "__MACOSX").mkdir()
    (tmp_path / "ds" / "images" / "train" / "__MACOSX" / "._b.jpg").write_bytes(b"\x00\x05\x16\x07")
    (tmp_path / "ds" / "data.yaml").write_text("train: images/train\nnames: [a, b]\n")
    with pytest.warns(DatasetWarning, match="2 hidden image files"):
        data = read_yolo_dataset(tmp_path / "ds" / "data.yaml")
    assert [f.name for f in data.files] == ["a.jpg"]
    with pytest.warns(DatasetWarning, match="1 hidden image files"):
        assert len(read_yolo_folder(tmp_path / "ds" / "images" / "train")) == 1


def test_a_label_line_pasted_twice_is_one_object(tmp_path):
    picture(tmp_path / "images" / "a.png")
    label(tmp_path / "labels" / "a.txt", LINE + "0 0.3 0.3 0.1 0.1\n" + LINE)
    with pytest.warns(DatasetWarning, match=r"1 duplicate label lines were dropped.*a\.txt, line 3"):
        _, boxes, labels = read_yolo_folder(tmp_path)[0]
    assert labels.tolist() == [1, 0] and boxes.shape == (2, 4)


def test_a_folder_named_like_a_label_file_is_not_read(tmp_path):
    picture(tmp_path / "images" / "a.png")
    label(tmp_path / "labels" / "a.txt")
    (tmp_path / "labels" / "backup.txt").mkdir()
    assert quietly(read_yolo_folder, tmp_path)[0][2].tolist() == [1]
