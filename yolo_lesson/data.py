"""Data for training a tiny YOLO: a synthetic shapes dataset made on the fly from a seed, a
collate function that encodes grid targets, and readers for datasets on disk: folders in the YOLO
label format, the data YAMLs of Ultralytics and Roboflow, and COCO detection JSON.

Every item is ``(image, boxes, labels)``:

* ``image``: ``Tensor[3, H, W]`` float in ``[0, 1]``;
* ``boxes``: ``Tensor[K, 4]`` in ``cxcywh``, normalized to the image; ``K`` may be 0;
* ``labels``: ``Tensor[K]`` long, class indices.

The shapes dataset draws item ``i`` from a random generator seeded with ``(seed, i)`` alone, so
the same seed gives the same images in any order, on any machine, without storing a file.
"""

from __future__ import annotations

import codecs
import math
import random
import warnings
from pathlib import Path
from typing import NamedTuple, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ._checks import as_int, describe, require_choice, require_positive_int, require_tensor
from .grid import encode_batch

__all__ = [
    "SHAPE_CLASSES",
    "ShapesDataset",
    "Batch",
    "YoloCollate",
    "DatasetWarning",
    "YoloFolder",
    "read_yolo_folder",
    "read_yolo_dataset",
    "read_coco_detection",
    "label_path",
]

SHAPE_CLASSES = ("circle", "square", "triangle")
IMAGE_SUFFIXES = (".bmp", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")
CLIP_TOLERANCE = 0.01  # label values this far outside [0, 1] are clipped, farther are refused
POLYGONS = ("box", "refuse")


def _shape_mask(kind: int, box: Tensor, xs: Tensor, ys: Tensor) -> Tensor:
    """``Tensor[H, W]`` bool: the pixels (centres ``xs``, ``ys`` in [0, 1]) inside the shape."""
    cx, cy, w, h = box.tolist()
    dx, dy = xs - cx, ys - cy  # [1, W] and [H, 1], broadcast to [H, W]
    if kind == 0:  # circle: the disc inscribed in the box
        return (dx / (w / 2)) ** 2 + (dy / (h / 2)) ** 2 <= 1
    if kind == 1:  # square: the box itself
        return (dx.abs() <= w / 2) & (dy.abs() <= h / 2)
    # triangle, apex up: at height t in [0, 1] below the apex it is t · w wide
    t = (dy + h / 2) / h
    return (t >= 0) & (t <= 1) & (dx.abs() <= t * w / 2)


def _is_number(value: object, kinds: type | tuple[type, ...] = (int, float)) -> bool:
    """A number of the given kinds (numpy and 0-dim torch integers count as ints, and as
    floats too); a bool is not one."""
    if as_int(value) is not None:
        return True  # every kind asked for here accepts ints
    return isinstance(value, kinds) and not isinstance(value, bool)


def _is_pair(value: object, kinds: type | tuple[type, ...]) -> bool:
    """A ``(min, max)`` pair (tuple or list) of numbers of the given kinds."""
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(_is_number(v, kinds) for v in value)
    )


class ShapesDataset(Dataset):
    """Images of circles, squares and triangles on noisy backgrounds, made from a seed.

    Args:
        n: number of images.
        image_size: side of the square images, in pixels.
        seed: the dataset's seed; item ``i`` depends on ``(seed, i)`` only.
        objects: ``(min, max)`` objects per image, inclusive: two ints.
        sizes: ``(min, max)`` side of a shape, as a fraction of the image side.
        noise: standard deviation of the Gaussian pixel noise, a finite number ``>= 0``.

    Shapes are axis-aligned, never overlap each other (a new shape that would is placed again,
    and left out after 50 tries), and lie fully inside the image. Colours are random, so only
    the outline tells the classes apart. Items are
    ``(image Tensor[3, H, W] in [0, 1], boxes Tensor[K, 4] cxcywh, labels Tensor[K] long)``.

    Example::

        data = ShapesDataset(1000, image_size=64, seed=0)
        image, boxes, labels = data[0]
    """

    classes = SHAPE_CLASSES

    def __init__(
        self,
        n: int,
        image_size: int = 64,
        seed: int = 0,
        objects: tuple[int, int] = (1, 4),
        sizes: tuple[float, float] = (0.15, 0.4),
        noise: float = 0.05,
    ) -> None:
        self.n = require_positive_int("n", n)
        self.image_size = require_positive_int("image_size", image_size)
        seed_int = as_int(seed)
        if seed_int is None or seed_int < 0:
            raise ValueError(f"seed must be an int >= 0, got {describe(seed)}")
        self.seed = seed_int
        if not (_is_pair(objects, int) and 0 <= objects[0] <= objects[1]):
            raise ValueError(
                f"objects must be (min, max) with 0 <= min <= max, two ints, got {objects!r}"
            )
        self.objects = (as_int(objects[0]), as_int(objects[1]))
        if not (_is_pair(sizes, (int, float)) and 0 < sizes[0] <= sizes[1] <= 1):
            raise ValueError(f"sizes must be (min, max) with 0 < min <= max <= 1, got {sizes!r}")
        self.sizes = (float(sizes[0]), float(sizes[1]))
        if not (_is_number(noise) and 0 <= noise < math.inf):
            raise ValueError(f"noise must be >= 0, a finite number, got {noise!r}")
        self.noise = float(noise)

    def __len__(self) -> int:
        return self.n

    def _layout(self, rng: random.Random) -> tuple[Tensor, Tensor]:
        """Random non-overlapping boxes (cxcywh) and their classes."""
        count = rng.randint(*self.objects)
        boxes: list[list[float]] = []
        labels: list[int] = []
        for _ in range(count):
            kind = rng.randrange(len(SHAPE_CLASSES))
            for _attempt in range(50):
                side = rng.uniform(*self.sizes)
                cx, cy = rng.uniform(side / 2, 1 - side / 2), rng.uniform(side / 2, 1 - side / 2)
                # Separated when, along x or along y, the gap between the boxes is positive.
                if all(
                    abs(cx - bx) >= (side + bw) / 2 or abs(cy - by) >= (side + bh) / 2
                    for bx, by, bw, bh in boxes
                ):
                    boxes.append([cx, cy, side, side])
                    labels.append(kind)
                    break
        return (
            torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            torch.tensor(labels, dtype=torch.long),
        )

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, Tensor]:
        position = as_int(index)  # numpy and torch integers index too (e.g. from a sampler)
        if position is None:
            raise ValueError(f"index must be an int, got {describe(index)}")
        index = position
        if not -self.n <= index < self.n:
            raise IndexError(f"index {index} out of range for a dataset of {self.n} images")
        index %= self.n
        # Python's Mersenne Twister for the few numbers of the layout (fast, and the same on
        # every platform), a torch generator with the same seed for the pixel noise.
        item_seed = self.seed * 1_000_003 + index
        rng = random.Random(item_seed)
        boxes, labels = self._layout(rng)
        size = self.image_size
        centres = (torch.arange(size, dtype=torch.float32) + 0.5) / size  # pixel centres
        xs, ys = centres[None, :], centres[:, None]  # [1, W], [H, 1]
        background = torch.tensor([rng.uniform(0.0, 0.35) for _ in range(3)])  # dark
        image = background[:, None, None].expand(3, size, size).clone()  # [3, H, W]
        for box, kind in zip(boxes, labels.tolist()):
            colour = torch.tensor([rng.uniform(0.45, 1.0) for _ in range(3)])  # bright
            mask = _shape_mask(kind, box, xs, ys)  # [H, W]
            image = torch.where(mask, colour[:, None, None], image)
        # torch seeds are 64-bit: a larger seed is folded in (the same seed for every usual one)
        gen = torch.Generator().manual_seed(item_seed % 2**63)
        image += self.noise * torch.randn(image.shape, generator=gen)
        return image.clamp_(0, 1), boxes, labels


class Batch(NamedTuple):
    """A collated batch.

    Attributes:
        images: ``Tensor[N, 3, H, W]``.
        target: ``Tensor[N, S, S, 5 + C]``, the YOLOv1 grid target (see :mod:`yolo_lesson.grid`).
        boxes: N tensors ``[K_i, 4]`` in ``cxcywh``: every object, including those the grid
            had to drop because another object took their cell (needed for mAP).
        labels: N tensors ``[K_i]`` long.
    """

    images: Tensor
    target: Tensor
    boxes: list[Tensor]
    labels: list[Tensor]


class YoloCollate:
    """``collate_fn`` for a ``DataLoader`` of ``(image, boxes, labels)`` items: stacks the
    images and encodes the grid target with :func:`yolo_lesson.grid.encode_batch`.

    Example::

        loader = DataLoader(data, batch_size=32, shuffle=True, collate_fn=YoloCollate(S=4, C=3))
        images, target, boxes, labels = next(iter(loader))
    """

    def __init__(self, S: int = 7, C: int = 20) -> None:
        self.S = require_positive_int("S", S)
        self.C = require_positive_int("C", C)

    def __call__(self, items: Sequence[tuple[Tensor, Tensor, Tensor]]) -> Batch:
        if len(items) == 0:
            raise ValueError("items must hold at least one (image, boxes, labels), got none")
        for i, item in enumerate(items):
            if not isinstance(item, (tuple, list)) or len(item) != 3:
                got = (
                    f"a {type(item).__name__} of length {len(item)}"
                    if isinstance(item, (tuple, list))
                    else type(item).__name__
                )
                raise ValueError(f"items[{i}] must be an (image, boxes, labels) triple, got {got}")
            image = require_tensor(f"images[{i}]", item[0])
            if not image.is_floating_point():
                raise ValueError(
                    f"images[{i}] must be a floating-point tensor with values in [0, 1] (divide "
                    f"uint8 pixels by 255), got dtype {image.dtype}"
                )
        images, boxes, labels = zip(*items)
        shapes = {tuple(image.shape) for image in images}
        if len(shapes) != 1:
            raise ValueError(
                f"images must all have one shape to be batched, got {sorted(shapes)}; "
                "pass image_size= to read_yolo_folder"
            )
        target = encode_batch(list(boxes), list(labels), S=self.S, C=self.C)
        return Batch(torch.stack(images), target, list(boxes), list(labels))

    def __repr__(self) -> str:
        return f"YoloCollate(S={self.S}, C={self.C})"


# ---------------------------------------------------------------- reading datasets from files
#
# Three layouts hold the same thing (images, and per image its boxes in cxcywh normalized to the
# image, with class indices): a YOLO label folder, an Ultralytics or Roboflow data YAML that
# points at such folders, and a COCO detection JSON. All three become a YoloFolder.


class DatasetWarning(UserWarning):
    """What a reader did that the learner should know of (unmatched files, clipped values):
    one warning per dataset, with counts."""


class YoloFolder(Dataset):
    """Images with their boxes and labels, all read into memory (see :func:`read_yolo_folder`,
    :func:`read_yolo_dataset`, :func:`read_coco_detection`).

    Attributes:
        files: the image paths, in reading order.
        classes: the number of classes the labels were checked against (or None).
        names: the class names (from the data YAML, the COCO categories or a ``classes.txt``
            beside the labels), or None when the dataset does not name them.
        notes: what the reader reported in its warning (unmatched files, clipped values),
            one line each; empty when everything matched.
    """

    def __init__(
        self,
        files: list[Path],
        items: list[tuple[Tensor, Tensor, Tensor]],
        classes: int | None,
        names: list[str] | None = None,
        notes: Sequence[str] = (),
    ):
        self.files = files
        self._items = items
        self.classes = classes
        self.names = names
        self.notes = list(notes)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, Tensor]:
        if isinstance(index, slice):
            return self._items[index]  # type: ignore[return-value]
        position = as_int(index)
        if position is None:
            raise ValueError(f"index must be an int, got {describe(index)}")
        return self._items[position]

    def __repr__(self) -> str:
        return f"YoloFolder({len(self)} images, classes={self.classes}, names={self.names})"


class _Notes:
    """Counts what a reader had to work around; becomes one DatasetWarning."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.first: dict[str, str] = {}

    def add(self, kind: str, example: str, n: int = 1) -> None:
        if n:
            self.counts[kind] = self.counts.get(kind, 0) + n
            self.first.setdefault(kind, example)

    def lines(self, total_images: int) -> list[str]:
        wording = {
            "no label": "of {total} images have no label file (read as images without objects); first: {first}",
            "no image": "label files have no image (ignored); first: {first}",
            "case": "label files matched their image only ignoring upper/lower case; first: {first}",
            "clipped": "coordinates slightly outside [0, 1] (by at most "
            f"{CLIP_TOLERANCE}) were clipped to it; first: {{first}}",
            "polygon": "polygon labels were replaced by their bounding box; first: {first}",
            "crowd": "crowd annotations (iscrowd = 1) were left out; first: {first}",
            "empty box": "boxes of zero width or height were left out; first: {first}",
            "hidden": "hidden image files (macOS's ._ files, __MACOSX) were skipped; first: {first}",
            "duplicate": "duplicate label lines were dropped (one object, listed twice); first: {first}",
        }
        return [
            f"{n} " + wording[kind].format(total=total_images, first=self.first[kind])
            for kind, n in self.counts.items()
        ]

    def warn(self, where: object, total_images: int) -> list[str]:
        lines = self.lines(total_images)
        if lines:
            warnings.warn(f"{where}: " + "; ".join(lines), DatasetWarning, stacklevel=3)
        return lines


def _read_label_text(path: Path) -> str:
    """The text of a label file: UTF-8, with or without the BOM Windows Notepad writes."""
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
        raise ValueError(
            f"{path}: label files must be UTF-8 text, got UTF-16 or UTF-32 (zero bytes between "
            "the characters); save the file as UTF-8"
        )
    try:
        return raw.decode("utf-8-sig")  # strips a leading BOM if there is one
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}: label files must be UTF-8 text (with or without a BOM), got byte "
            f"0x{raw[error.start]:02x} at position {error.start}, which is not UTF-8 (a Latin-1 "
            "or Windows-1252 file?); save the file as UTF-8"
        ) from None


def _in_unit_range(values: list[float], where: str, notes: _Notes, what: str) -> list[float]:
    """Values in [0, 1]; those within CLIP_TOLERANCE outside are clipped (and noted)."""
    if not all(math.isfinite(v) and -CLIP_TOLERANCE <= v <= 1 + CLIP_TOLERANCE for v in values):
        raise ValueError(f"{where}: {what} must be normalized to [0, 1], got {values}")
    clipped = [min(max(v, 0.0), 1.0) for v in values]
    notes.add("clipped", where, sum(a != b for a, b in zip(values, clipped)))
    return clipped


def _parse_label_file(
    path: Path, num_classes: int | None, polygons: str, notes: _Notes
) -> tuple[Tensor, Tensor]:
    boxes, labels = [], []
    for number, line in enumerate(_read_label_text(path).splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue  # blank lines are allowed
        where = f"{path}, line {number}"
        is_polygon = len(fields) >= 7 and len(fields) % 2 == 1  # class then 3 or more (x, y)
        if len(fields) != 5 and not is_polygon:
            raise ValueError(
                f"{where}: expected 'class cx cy w h' (5 numbers) or a polygon "
                f"'class x1 y1 x2 y2 x3 y3 ...', got {line.strip()!r}"
            )
        try:
            label = int(fields[0])
            values = [float(f) for f in fields[1:]]
        except ValueError:
            raise ValueError(
                f"{where}: expected an integer class then 4 numbers, got {line.strip()!r}"
            ) from None
        if label < 0 or (num_classes is not None and label >= num_classes):
            limit = "" if num_classes is None else f" and < {num_classes}"
            raise ValueError(f"{where}: class must be >= 0{limit}, got {label}")
        if is_polygon:
            if polygons == "refuse":
                raise ValueError(
                    f"{where}: a polygon of {len(values) // 2} points (a segmentation label), "
                    "expected 'class cx cy w h'; pass polygons='box' to use its bounding box"
                )
            xs, ys = (_in_unit_range(values[k::2], where, notes, "polygon points") for k in (0, 1))
            x1, x2, y1, y2 = min(xs), max(xs), min(ys), max(ys)
            values = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
            notes.add("polygon", where)
        else:
            values = _in_unit_range(values, where, notes, "cx, cy, w, h")
        if values[2] <= 0 or values[3] <= 0:
            raise ValueError(f"{where}: w and h must be > 0, got {values[2]} and {values[3]}")
        if any(k == label and b == values for k, b in zip(labels, boxes)):
            notes.add("duplicate", where)  # a second copy would be an object found only once
            continue
        boxes.append(values)
        labels.append(label)
    return torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), torch.tensor(labels, dtype=torch.long)


def _unit_pixels(picture, path: Path) -> Tensor:
    """``Tensor[3, H, W]`` float in [0, 1] from a Pillow image of any mode: 8-bit modes are
    divided by 255, 16-bit greys by 65535 (converting those to RGB would clip them to 8 bits:
    a black and white picture), a float image is taken as it is if it lies in [0, 1]."""
    import numpy as np

    mode = picture.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(picture).astype(np.float64)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ValueError(
                f"{path}: 32-bit integer pixels must lie in [0, 65535] (a 16-bit image), got "
                f"values from {values.min():g} to {values.max():g}"
            )
        grey = torch.from_numpy(values / 65535).float()
    elif mode == "F":
        values = np.asarray(picture, dtype=np.float32)
        if values.size and not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1):
            raise ValueError(
                f"{path}: floating-point pixels must lie in [0, 1], got values from "
                f"{np.nanmin(values):g} to {np.nanmax(values):g}"
            )
        grey = torch.from_numpy(values.copy())
    else:
        try:
            rgb = picture.convert("RGB")  # palette, grey, CMYK, YCbCr, ...; alpha is dropped
        except (ValueError, OSError) as error:
            raise ValueError(f"{path}: images must convert to RGB, got mode {mode!r} ({error})") from None
        data = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8)
        return data.reshape(rgb.size[1], rgb.size[0], 3).permute(2, 0, 1).float() / 255
    return grey[None].expand(3, -1, -1).contiguous()  # [3, H, W]: grey in every channel


def _read_image(path: Path, image_size: int | None) -> Tensor:
    """``Tensor[3, H, W]`` in [0, 1], upright: a photo's EXIF orientation is applied, as the
    annotation tools that drew its boxes did."""
    from PIL import Image, ImageOps, UnidentifiedImageError  # Pillow comes with matplotlib

    try:
        with Image.open(path) as opened:
            picture = ImageOps.exif_transpose(opened)
            image = _unit_pixels(picture, path)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"{path}: expected a readable image, got {type(error).__name__}: {error}") from None
    return image if image_size is None else _resize(image, image_size)


def _resize(image: Tensor, image_size: int) -> Tensor:
    """``Tensor[3, image_size, image_size]``: bilinear, antialiased when shrinking."""
    return torch.nn.functional.interpolate(
        image[None], size=(image_size, image_size), mode="bilinear", align_corners=False,
        antialias=True,
    )[0].clamp_(0, 1)


def _is_hidden(path: Path, folder: Path) -> bool:
    """A hidden file, or one in a ``__MACOSX`` folder: macOS's zip files carry a ``._photo.jpg``
    of metadata beside each ``photo.jpg``, which no image reader can open."""
    parts = path.relative_to(folder).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _images_in(folder: Path, recursive: bool, notes: _Notes | None = None) -> list[Path]:
    found = folder.rglob("*") if recursive else folder.iterdir()
    images = sorted(p for p in found if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    hidden = [p for p in images if _is_hidden(p, folder)]
    if notes is not None:
        notes.add("hidden", str(hidden[0]) if hidden else "", len(hidden))
    return [p for p in images if not _is_hidden(p, folder)]


def _label_folder(image: Path) -> Path:
    """Ultralytics's rule (``img2label_paths``): the last ``images`` folder of the image's path
    becomes ``labels``; an image with no ``images`` folder above it has its labels beside it."""
    parts = image.parent.parts
    if "images" in parts:
        i = len(parts) - 1 - parts[::-1].index("images")
        return Path(*parts[:i], "labels", *parts[i + 1 :])
    return image.parent


def label_path(image: str | Path) -> Path:
    """Where the YOLO label file of ``image`` is looked for by :func:`read_yolo_dataset` (and by
    :func:`read_yolo_folder` when the dataset has no ``labels`` folder of its own): the last
    ``images`` folder of the path becomes ``labels``, the suffix becomes ``.txt``.

    Example: ``label_path("ds/images/train/a.jpg")`` is ``ds/labels/train/a.txt``;
    ``label_path("ds/train/images/a.jpg")`` is ``ds/train/labels/a.txt``.
    """
    image = Path(image)
    return _label_folder(image) / f"{image.stem}.txt"


class _LabelIndex:
    """The ``.txt`` files of label folders, looked up by image stem: exactly, else ignoring case."""

    def __init__(self) -> None:
        self.folders: dict[Path, dict[str, Path]] = {}
        self.used: set[Path] = set()

    def _folder(self, folder: Path) -> dict[str, Path]:
        if folder not in self.folders:
            files = sorted(f for f in folder.glob("*.txt") if f.is_file()) if folder.is_dir() else []
            self.folders[folder] = {f.stem: f for f in files if f.name != "classes.txt"}
        return self.folders[folder]

    def find(self, image: Path, folder: Path, notes: _Notes) -> Path | None:
        labels = self._folder(folder)
        found = labels.get(image.stem)
        if found is None:
            same = [f for stem, f in labels.items() if stem.lower() == image.stem.lower()]
            if len(same) == 1:
                found = same[0]
                notes.add("case", f"{found.name} for {image.name}")
        if found is not None:
            self.used.add(found)
        return found

    def unused(self) -> list[Path]:
        return [f for labels in self.folders.values() for f in labels.values() if f not in self.used]


def _class_names_file(folders: Sequence[Path]) -> list[str] | None:
    """The class names of a ``classes.txt`` (one per line, LabelImg's export) if there is one."""
    for folder in folders:
        file = folder / "classes.txt"
        if file.is_file():
            return [line.strip() for line in _read_label_text(file).splitlines() if line.strip()]
    return None


def _read_items(
    images: list[Path],
    label_folder,
    index: _LabelIndex,
    image_size: int | None,
    num_classes: int | None,
    polygons: str,
    notes: _Notes,
    report_unused: bool = True,
) -> list[tuple[Tensor, Tensor, Tensor]]:
    items = []
    for image in images:
        folder = label_folder(image)
        label_file = index.find(image, folder, notes)
        if label_file is None:
            notes.add("no label", str(folder / f"{image.stem}.txt"))
            boxes, labels = torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)
        else:
            boxes, labels = _parse_label_file(label_file, num_classes, polygons, notes)
        items.append((_read_image(image, image_size), boxes, labels))
    if report_unused:
        unused = index.unused()
        notes.add("no image", str(unused[0]) if unused else "", len(unused))
    return items


def _check_reader_options(image_size: object, num_classes: object, polygons: object) -> tuple:
    if image_size is not None:
        image_size = require_positive_int("image_size", image_size)
    if num_classes is not None:
        num_classes = require_positive_int("num_classes", num_classes)
    return image_size, num_classes, require_choice("polygons", polygons, POLYGONS)


def read_yolo_folder(
    path: str | Path,
    image_size: int | None = None,
    num_classes: int | None = None,
    polygons: str = "box",
) -> YoloFolder:
    """Reads a small dataset in the YOLO label format.

    ``path`` is a dataset folder or an images folder. Images (``.bmp``, ``.jpg``, ``.jpeg``,
    ``.png``, ``.tif``, ``.tiff``, ``.webp``, any case) are taken from ``path/images/`` if it
    exists, else from ``path`` itself. Each image's label file ``<image stem>.txt`` is looked for
    in ``path/labels/`` if that exists, else by Ultralytics's rule: the last ``images`` folder of
    the image's path becomes ``labels`` (``ds/images/train/a.jpg`` → ``ds/labels/train/a.txt``,
    ``ds/train/images/a.jpg`` → ``ds/train/labels/a.txt``), and with no ``images`` folder above
    it, beside the image. Hidden files (macOS's ``._photo.jpg``, ``__MACOSX`` folders) are
    skipped. One line per object::

        class cx cy w h

    ``class`` an integer, the four numbers normalized to ``[0, 1]``; values outside by at most
    ``CLIP_TOLERANCE`` (0.01, rounding in export tools) are clipped. A polygon line
    ``class x1 y1 x2 y2 x3 y3 ...`` (a segmentation label) becomes its bounding box
    (``polygons="box"``) or is refused (``polygons="refuse"``). Label files are UTF-8, with or
    without a BOM. A line repeated exactly in one file is one object (the copy is dropped). A
    ``classes.txt`` beside the labels gives the class names.

    An image without a label file has no objects; a label file matching its image only when
    case is ignored (``IMG_1.txt`` for ``img_1.jpg``) is used. Whatever was unmatched, clipped
    or converted is reported in one :class:`DatasetWarning` with counts (and kept in
    ``.notes``). Photos are turned upright by their EXIF orientation, as annotation tools show
    them; 16-bit images are scaled by 65535.

    Args:
        path: the dataset folder, or a folder of images.
        image_size: if given, every image is resized to ``image_size × image_size`` (boxes are
            normalized, so they do not change); needed to batch images of different sizes.
        num_classes: if given, a positive int; class indices must be below it.
        polygons: ``"box"`` or ``"refuse"``.

    Returns:
        A :class:`YoloFolder` dataset of ``(image, boxes, labels)`` items, like
        :class:`ShapesDataset`.

    Raises:
        ValueError: a missing folder, no images, a bad label line (naming file and line), a
            label file that is not UTF-8, an unreadable image (naming the file).
    """
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"path must be a folder, got {str(path)!r}")
    image_size, num_classes, polygons = _check_reader_options(image_size, num_classes, polygons)
    image_dir = root / "images" if (root / "images").is_dir() else root
    notes = _Notes()
    files = _images_in(image_dir, recursive=False, notes=notes)
    if not files:
        splits = sorted(
            p.name for p in image_dir.iterdir()
            if p.is_dir() and (_images_in(p, recursive=False) or (p / "images").is_dir())
        )
        hint = (
            f"; it holds the splits {', '.join(splits)}: pass one of them, or the data YAML to "
            "read_yolo_dataset" if splits else ""
        )
        raise ValueError(
            f"path must hold images ({', '.join(IMAGE_SUFFIXES)}), found none in {image_dir}{hint}"
        )
    flat = root / "labels"
    label_folder = (lambda image: flat) if flat.is_dir() else _label_folder
    index = _LabelIndex()
    items = _read_items(files, label_folder, index, image_size, num_classes, polygons, notes)
    names = _class_names_file(list(index.folders))
    lines = notes.warn(root, len(files))
    return YoloFolder(files, items, num_classes, names, lines)


def _load_yaml(path: Path) -> dict:
    import yaml

    try:
        data = yaml.safe_load(_read_label_text(path))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: expected a data YAML, got a YAML syntax error: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a data YAML (a mapping with names and train/val), got {type(data).__name__}")
    return data


def _class_names(path: Path, data: dict) -> list[str]:
    """``names:`` as a list or as ``{index: name}`` with indices 0 … n-1, or ``nc:`` alone."""
    names, nc = data.get("names"), data.get("nc")
    if names is None:
        if as_int(nc) is None or nc < 1:
            raise ValueError(f"{path}: needs 'names' (a list of class names) or 'nc', got neither")
        return [f"class_{i}" for i in range(nc)]
    if isinstance(names, dict):
        if sorted(names) != list(range(len(names))):
            raise ValueError(
                f"{path}: names as a mapping must have the keys 0 to {len(names) - 1}, got {sorted(names, key=str)}"
            )
        names = [names[i] for i in range(len(names))]
    if not isinstance(names, list) or not names:
        raise ValueError(f"{path}: names must be a non-empty list or mapping of class names, got {names!r}")
    if nc is not None and nc != len(names):
        raise ValueError(f"{path}: nc ({nc}) must equal the number of names, got {len(names)}")
    return [str(name) for name in names]


def _dataset_root(path: Path, data: dict) -> Path:
    """Ultralytics's ``path:`` key: absolute, or relative to the working directory; we also try
    the YAML's folder (Ultralytics would look in its settings' datasets folder instead).
    Without it, the YAML's folder."""
    if not data.get("path"):
        return path.parent.resolve()
    root = Path(str(data["path"]))
    if root.is_absolute():
        return root
    for base in (Path.cwd(), path.parent):
        if (base / root).is_dir():
            return (base / root).resolve()
    raise ValueError(
        f"{path}: path: {data['path']!r} must be a folder, relative to the working directory "
        f"or to the YAML's folder, got neither {Path.cwd() / root} nor {path.parent / root}"
    )


def _split_sources(path: Path, root: Path, entry: object, split: str, notes: _Notes) -> tuple[list[Path], bool]:
    """The image files of one split: folders (read recursively) or ``.txt`` lists of images;
    and whether every image of the folders was taken (not so with a list)."""
    entries = entry if isinstance(entry, list) else [entry]
    images: list[Path] = []
    whole_folders = True
    for value in entries:
        value = str(value)
        where = (root / value).resolve()
        if not where.exists() and value.startswith("../"):  # Roboflow's exports
            where = (root / value[3:]).resolve()
        if where.is_dir():
            images += _images_in(where, recursive=True, notes=notes)
        elif where.is_file() and where.suffix == ".txt":
            whole_folders = False
            for line in _read_label_text(where).splitlines():
                if line.strip():
                    listed = Path(line.strip())
                    images.append(listed if listed.is_absolute() else (where.parent / listed).resolve())
        else:
            raise ValueError(
                f"{path}: {split}: {value!r} must be a folder of images or a .txt list of them, "
                f"got no such path (looked for {where})"
            )
    missing = [p for p in images if not p.is_file()]
    if missing:
        raise ValueError(f"{path}: {split} lists {len(missing)} missing images, got e.g. {missing[0]}")
    if not images:
        raise ValueError(f"{path}: {split} must hold images ({', '.join(IMAGE_SUFFIXES)}), found none")
    return images, whole_folders


def read_yolo_dataset(
    yaml_path: str | Path,
    split: str = "train",
    image_size: int | None = None,
    polygons: str = "box",
) -> YoloFolder:
    """Reads one split of a dataset described by a data YAML, as Ultralytics and Roboflow write
    them::

        path: ../datasets/shapes   # optional: the dataset root
        train: images/train        # folders of images (or .txt lists of images)
        val: images/val
        names: {0: circle, 1: square}   # or a list, or nc: 2 alone

    Paths are resolved as Ultralytics does (``check_det_dataset``): relative to ``path:``
    (itself absolute, or relative to the working directory; the YAML's folder is tried next),
    or, with no ``path:``, to the YAML's folder; a split path starting with ``../`` that does not
    exist is also tried without it, which is what makes Roboflow's ``train: ../train/images``
    work beside its ``data.yaml``. Labels are found by the images → labels rule of
    :func:`read_yolo_folder`, class indices are checked against the names.

    Args:
        yaml_path: the data YAML (UTF-8).
        split: a key of the YAML, usually ``"train"``, ``"val"`` or ``"test"``.
        image_size: resize every image to ``image_size × image_size`` (see
            :func:`read_yolo_folder`).
        polygons: ``"box"`` or ``"refuse"`` (see :func:`read_yolo_folder`).

    Returns:
        A :class:`YoloFolder` whose ``.names`` lists the class names.
    """
    path = Path(yaml_path)
    if not path.is_file():
        raise ValueError(f"yaml_path must be a data YAML file, got {str(yaml_path)!r} (not a file)")
    image_size, _, polygons = _check_reader_options(image_size, None, polygons)
    data = _load_yaml(path)
    names = _class_names(path, data)
    splits = [key for key in ("train", "val", "test") if data.get(key)]
    if not isinstance(split, str) or not data.get(split):
        raise ValueError(f"split must be one of the YAML's splits {splits}, got {split!r}")
    root = _dataset_root(path, data)
    notes = _Notes()
    files, whole_folders = _split_sources(path, root, data[split], split, notes)
    items = _read_items(
        files, _label_folder, _LabelIndex(), image_size, len(names), polygons, notes, whole_folders
    )
    lines = notes.warn(f"{path} ({split})", len(files))
    return YoloFolder(files, items, len(names), names, lines)


def read_coco_detection(
    json_path: str | Path, image_dir: str | Path | None = None, image_size: int | None = None
) -> YoloFolder:
    """Reads a COCO detection JSON (``images``, ``annotations``, ``categories``) into the same
    form as :func:`read_yolo_folder`.

    COCO boxes are ``[x, y, width, height]`` in pixels from the top-left corner; each becomes
    ``cxcywh`` normalized by the image's ``width`` and ``height``. Categories are sorted by id
    and numbered 0, 1, …: ``.names[i]`` is the name of class ``i``. Boxes reaching past the
    image edge are clipped to it; crowd regions (``iscrowd = 1``) and boxes of zero width or
    height are left out, as Ultralytics's converter does; each is counted in the warning.

    Args:
        json_path: the annotation file, e.g. ``annotations/instances_val2017.json``.
        image_dir: the folder ``file_name`` is relative to (default: the JSON's folder).
        image_size: resize every image to ``image_size × image_size``.

    Returns:
        A :class:`YoloFolder` with ``.names``, images in the JSON's order.
    """
    import json

    path = Path(json_path)
    if not path.is_file():
        raise ValueError(f"json_path must be a COCO JSON file, got {str(json_path)!r} (not a file)")
    folder = Path(image_dir) if image_dir is not None else path.parent
    if not folder.is_dir():
        raise ValueError(f"image_dir must be a folder, got {str(image_dir)!r}")
    image_size, _, _ = _check_reader_options(image_size, None, "box")
    try:
        coco = json.loads(_read_label_text(path))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: expected COCO JSON, got a syntax error: {error}") from None
    if not isinstance(coco, dict) or not all(isinstance(coco.get(k), list) for k in ("images", "annotations", "categories")):
        raise ValueError(f"{path}: expected a COCO detection JSON with lists images, annotations and categories")
    categories = sorted(coco["categories"], key=lambda c: c["id"])
    class_of = {c["id"]: i for i, c in enumerate(categories)}
    per_image: dict[object, list[dict]] = {image["id"]: [] for image in coco["images"]}
    notes = _Notes()
    for annotation in coco["annotations"]:
        if annotation.get("image_id") not in per_image:
            notes.add("no image", f"annotation {annotation.get('id')}")
        elif annotation.get("iscrowd", 0):
            notes.add("crowd", f"annotation {annotation.get('id')}")
        else:
            per_image[annotation["image_id"]].append(annotation)
    files, items = [], []
    for entry in coco["images"]:
        file = folder / entry["file_name"]
        image = _read_image(file, None)
        height, width = image.shape[1:]
        if (entry.get("width", width), entry.get("height", height)) != (width, height):
            raise ValueError(
                f"{path}: image {entry['file_name']} must be {entry.get('width')} × "
                f"{entry.get('height')} pixels as the JSON says, got {width} × {height}"
            )
        boxes, labels = [], []
        for annotation in per_image[entry["id"]]:
            where = f"{path}, annotation {annotation.get('id')}"
            if annotation.get("category_id") not in class_of:
                raise ValueError(f"{where}: category_id must be one of the categories' ids, got {annotation.get('category_id')!r}")
            x, y, w, h = (float(v) for v in annotation["bbox"])
            x1, y1 = min(max(x, 0.0), width), min(max(y, 0.0), height)
            x2, y2 = min(max(x + w, 0.0), width), min(max(y + h, 0.0), height)
            if x2 <= x1 or y2 <= y1:
                notes.add("empty box", where)
                continue
            boxes.append([(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height])
            labels.append(class_of[annotation["category_id"]])
        if image_size is not None:
            image = _resize(image, image_size)
        files.append(file)
        items.append(
            (image, torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), torch.tensor(labels, dtype=torch.long))
        )
    names = [str(c["name"]) for c in categories]
    lines = notes.warn(path, len(files))
    return YoloFolder(files, items, len(names), names, lines)
