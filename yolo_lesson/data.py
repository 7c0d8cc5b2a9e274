"""Data for training a tiny YOLO: a synthetic shapes dataset made on the fly from a seed, a
collate function that encodes grid targets, and a reader for folders in the YOLO label format.

Every item is ``(image, boxes, labels)``:

* ``image``: ``Tensor[3, H, W]`` float in ``[0, 1]``;
* ``boxes``: ``Tensor[K, 4]`` in ``cxcywh``, normalized to the image; ``K`` may be 0;
* ``labels``: ``Tensor[K]`` long, class indices.

The shapes dataset draws item ``i`` from a random generator seeded with ``(seed, i)`` alone, so
the same seed gives the same images in any order, on any machine, without storing a file.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import NamedTuple, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ._checks import require_positive_int, require_tensor
from .grid import encode_batch

__all__ = [
    "SHAPE_CLASSES",
    "ShapesDataset",
    "Batch",
    "YoloCollate",
    "YoloFolder",
    "read_yolo_folder",
]

SHAPE_CLASSES = ("circle", "square", "triangle")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


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
    """A Python number of the given kinds; a bool is not one."""
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
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be an int >= 0, got {seed!r}")
        self.seed = seed
        if not (_is_pair(objects, int) and 0 <= objects[0] <= objects[1]):
            raise ValueError(
                f"objects must be (min, max) with 0 <= min <= max, two ints, got {objects!r}"
            )
        self.objects = (int(objects[0]), int(objects[1]))
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
        gen = torch.Generator().manual_seed(item_seed)
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


class YoloFolder(Dataset):
    """Images with their YOLO-format labels, all read into memory (see :func:`read_yolo_folder`).

    Attributes:
        files: the image paths, sorted by name.
        classes: the number of classes the labels were checked against (or None).
    """

    def __init__(self, files: list[Path], items: list[tuple[Tensor, Tensor, Tensor]], classes: int | None):
        self.files = files
        self._items = items
        self.classes = classes

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, Tensor]:
        return self._items[index]


def _parse_label_file(path: Path, num_classes: int | None) -> tuple[Tensor, Tensor]:
    boxes, labels = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue  # blank lines are allowed
        where = f"{path}, line {number}"
        if len(fields) != 5:
            raise ValueError(f"{where}: expected 'class cx cy w h' (5 numbers), got {line.strip()!r}")
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
        if not all(math.isfinite(v) and 0 <= v <= 1 for v in values):
            raise ValueError(f"{where}: cx, cy, w, h must be normalized to [0, 1], got {values}")
        if values[2] <= 0 or values[3] <= 0:
            raise ValueError(f"{where}: w and h must be > 0, got {values[2]} and {values[3]}")
        boxes.append(values)
        labels.append(label)
    return torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), torch.tensor(labels, dtype=torch.long)


def _read_image(path: Path, image_size: int | None) -> Tensor:
    from PIL import Image  # Pillow comes with matplotlib

    with Image.open(path) as opened:
        picture = opened.convert("RGB")
        if image_size is not None:
            picture = picture.resize((image_size, image_size), Image.BILINEAR)
        data = torch.frombuffer(bytearray(picture.tobytes()), dtype=torch.uint8)
        width, height = picture.size
    return data.reshape(height, width, 3).permute(2, 0, 1).float() / 255  # [3, H, W]


def read_yolo_folder(
    path: str | Path, image_size: int | None = None, num_classes: int | None = None
) -> YoloFolder:
    """Reads a small dataset in the common YOLO label format.

    Layout: images (``.png``, ``.jpg``, ``.jpeg``, ``.bmp``) in ``path/images/`` or directly in
    ``path/``, and for each image ``path/labels/<image stem>.txt`` with one line per object::

        class cx cy w h

    ``class`` an integer, the four numbers normalized to ``[0, 1]``. An image without a label
    file has no objects.

    Args:
        path: the dataset folder.
        image_size: if given, every image is resized to ``image_size × image_size`` (boxes are
            normalized, so they do not change); needed to batch images of different sizes.
        num_classes: if given, a positive int; class indices must be below it.

    Returns:
        A :class:`YoloFolder` dataset of ``(image, boxes, labels)`` items, like
        :class:`ShapesDataset`.

    Raises:
        ValueError: a missing folder, no images, or a bad label line (naming file and line).
    """
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"path must be a folder, got {str(path)!r}")
    image_dir = root / "images" if (root / "images").is_dir() else root
    files = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"path must hold images ({', '.join(IMAGE_SUFFIXES)}), found none in {image_dir}")
    if image_size is not None:
        image_size = require_positive_int("image_size", image_size)
    if num_classes is not None:
        num_classes = require_positive_int("num_classes", num_classes)
    items = []
    for file in files:
        label_file = root / "labels" / f"{file.stem}.txt"
        if label_file.exists():
            boxes, labels = _parse_label_file(label_file, num_classes)
        else:
            boxes, labels = torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)
        items.append((_read_image(file, image_size), boxes, labels))
    return YoloFolder(files, items, num_classes)
