# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · Your own data
#
# ## Learning goals
#
# After this lesson you can:
#
# - write a detection dataset in the YOLO label format, with the data YAML that Ultralytics and
#   Roboflow use, and read it back with `yolo_lesson.data.read_yolo_dataset`;
# - say where a reader looks for the labels of an image, and how the paths of a data YAML are
#   resolved (Roboflow's `../train/images` included);
# - recognise what real tools put in a dataset (a phone photo's EXIF orientation, a label saved
#   by Notepad, files that do not match) and what the reader does about each;
# - train the tiny YOLO of [lesson 06](06_training_a_tiny_yolo.ipynb) on files from disk, stop it,
#   and resume it with a new learning rate without losing a step.
#
# **Why this matters.** Every lesson so far drew its images from a seed. Your own images come from
# a labelling tool, as files: one picture and one small text file per image, and a YAML that says
# where they are. A reader can fail on such files before the first step or, worse, train on
# images whose boxes are silently missing or rotated.
# Here we build such a dataset ourselves, read it back, and look at each way it can go wrong.

# %%
# On Google Colab only: install the course package and its widgets from the repository.
try:
    import google.colab  # noqa: F401 (only Colab has this module)
except ImportError:
    pass
else:
    import subprocess
    import sys

    COURSE = "yolo-lesson[widgets] @ git+https://github.com/yolo-loss-from-scratch/course"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", COURSE], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip could not install {COURSE}:\n{done.stderr[-2000:]}")

# %%
import json
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

from yolo_lesson.boxes import cxcywh_to_xyxy
from yolo_lesson.data import (
    SHAPE_CLASSES,
    DatasetWarning,
    ShapesDataset,
    YoloCollate,
    label_path,
    read_coco_detection,
    read_yolo_dataset,
    read_yolo_folder,
)
from yolo_lesson.loss import YoloV1Loss
from yolo_lesson.metrics import detections_from_predictions, mean_average_precision
from yolo_lesson.model import TinyYolo
from yolo_lesson.train import train
from yolo_lesson.viz import PALETTE, draw_boxes, image_axes

torch.set_num_threads(1)  # bit-identical training whatever the machine's thread count
_ = torch.manual_seed(0)
WORK = Path(tempfile.mkdtemp(prefix="lesson09_"))  # every file of this lesson goes here


def shown(path):
    """A path as the lesson prints it: relative to its working folder."""
    return str(Path(path).relative_to(WORK)) if Path(path).is_absolute() else str(path)


# %% [markdown]
# ## 1 · One image, one text file
#
# The YOLO label format, as Ultralytics's documentation and its data loader define it, stores the
# objects of `photo.jpg` in `photo.txt`, one line per object:
#
# ```
# class cx cy w h
# ```
#
# `class` is an integer index into the dataset's class names; the four numbers are the box in the
# `cxcywh` format of [lesson 01](01_boxes_and_iou.ipynb), **divided by the image's width and
# height**, so they lie in $[0, 1]$ whatever the image's size. A box of $x_1, y_1, x_2, y_2$ pixels
# on a $W \times H$ image is the line
#
# $$ c \quad \frac{x_1 + x_2}{2W} \quad \frac{y_1 + y_2}{2H} \quad \frac{x_2 - x_1}{W} \quad \frac{y_2 - y_1}{H}. $$
#
# An image without objects has an empty label file, or none. That is all the format is.

# %%
def my_label_line(label, x1, y1, x2, y2, width, height):
    cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
    return f"{label} {cx:.6f} {cy:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"


# a 40 × 20 pixel box with its top-left corner at (100, 50), on a 640 × 480 photo
print(my_label_line(2, 100, 50, 140, 70, 640, 480))

# %% [markdown]
# ## 2 · A dataset on disk, written by the course
#
# We write 560 shapes images (lesson 06's synthetic dataset) the way Ultralytics lays a dataset
# out: `images/train` beside `labels/train`, the same for `val`, and a `data.yaml` that names the
# splits and the classes. The images become PNG files (8 bits per colour, as a camera or a
# labelling tool would write them); the boxes become label lines with 6 decimals.

# %%
def write_split(root, split, data, first=0, count=None):
    """Images ``first .. first + count`` of ``data`` as PNG files and YOLO label files."""
    count = len(data) - first if count is None else count
    for i in range(first, first + count):
        image, boxes, labels = data[i]
        pixels = (image * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()  # [H, W, 3]
        picture = root / "images" / split / f"shape_{i:04d}.png"
        picture.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(picture)
        lines = [f"{k} " + " ".join(f"{v:.6f}" for v in box) for box, k in zip(boxes.tolist(), labels.tolist())]
        target = label_path(picture)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n")


shapes = ShapesDataset(560, image_size=64, seed=9)
ROOT = WORK / "shapes"
write_split(ROOT, "train", shapes, 0, 480)
write_split(ROOT, "val", shapes, 480, 80)
(ROOT / "data.yaml").write_text(
    "# the shapes of lesson 06, as a YOLO dataset\n"
    "train: images/train\n"
    "val: images/val\n"
    "names:\n" + "".join(f"  {i}: {name}\n" for i, name in enumerate(SHAPE_CLASSES))
)
for folder in sorted(p for p in ROOT.rglob("*") if p.is_dir()):
    print(f"{shown(folder):24} {len(list(folder.iterdir())):4} entries")
print((ROOT / "data.yaml").read_text())
print(shown(label_path(ROOT / "images" / "train" / "shape_0000.png")), ":")
print((ROOT / "labels" / "train" / "shape_0000.txt").read_text())

# %% [markdown]
# ### Where the labels of an image are
#
# A reader is given images; how does it find `shape_0000.txt`? Ultralytics's rule
# (`img2label_paths` in `ultralytics/data/utils.py`): in the image's path, the **last** folder
# named `images` becomes `labels`, and the suffix becomes `.txt`. So `images/train/a.png` has its
# labels in `labels/train/a.txt`, and Roboflow's `train/images/a.jpg` in `train/labels/a.txt`.
# Let us write the rule and check it against the package's `label_path`.

# %%
def my_label_path(image):
    parts = list(Path(image).parent.parts)
    if "images" in parts:
        last = len(parts) - 1 - parts[::-1].index("images")
        parts[last] = "labels"
    return Path(*parts) / (Path(image).stem + ".txt")


for image in ["shapes/images/train/a.png", "export/train/images/b.jpg",
              "images/2024/images/val/c.JPG", "flat/d.png"]:
    assert my_label_path(image) == label_path(image)
    print(f"{image:32} -> {my_label_path(image)}")

# %% [markdown]
# The last two lines show the corner cases: only the *last* `images` is replaced, and an image
# with no `images` folder above it has its label file right beside it.
#
# ## 3 · Reading it back
#
# `read_yolo_dataset(yaml_path, split)` reads the YAML, finds the split's images, their label
# files by that rule, and checks every line (an integer class below the number of names, four
# numbers in $[0, 1]$, a width and height above 0). Items are `(image, boxes, labels)`, exactly
# like `ShapesDataset`'s, and `.names` holds the class names. The round trip must give back what
# we wrote: boxes to the 6 decimals of the files, pixels to the 1/255 of 8-bit PNGs.

# %%
train_set = read_yolo_dataset(ROOT / "data.yaml", "train")
val_set = read_yolo_dataset(ROOT / "data.yaml", "val")
print(train_set, "|", len(val_set), "val images")

for i in (0, 1, 479):
    image, boxes, labels = train_set[i]
    original = shapes[i]
    torch.testing.assert_close(boxes, original[1], atol=1e-6, rtol=0)
    assert torch.equal(labels, original[2])
    assert float((image - original[0]).abs().max()) <= 0.5 / 255 + 1e-6
print("boxes, labels and pixels read back as written")

# %% mystnb={"image": {"alt": "Four training images read back from the YOLO-format folder, each titled with its file name, showing coloured shapes on a noisy single-colour background with their boxes and class names drawn in orange."}}
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
for ax, i in zip(axes, range(4)):
    image, boxes, labels = train_set[i]
    image_axes(ax, title=train_set.files[i].name)
    ax.imshow(image.permute(1, 2, 0), extent=(0, 1, 1, 0))  # [3, H, W] -> [H, W, 3]
    draw_boxes(ax, cxcywh_to_xyxy(boxes), color=PALETTE[1], labels=[train_set.names[k] for k in labels.tolist()])
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()

# %% [markdown]
# ### How the YAML's paths are resolved
#
# `train: images/train` is relative. Ultralytics's `check_det_dataset` (same file) takes it
# relative to the YAML's `path:` key when there is one (absolute, or relative to the working
# folder), else to the folder of the YAML itself; and when a split path starts with `../` and
# does not exist, it tries it again without the `../`. That last rule exists for Roboflow's
# exports, which put `data.yaml` *beside* `train/`, `valid/` and `test/` but write
# `train: ../train/images`. The package follows the same rules; here is a Roboflow-style export
# of the same images.

# %%
EXPORT = WORK / "roboflow_export"
for split, first, count in (("train", 0, 8), ("valid", 480, 4)):
    for i in range(first, first + count):
        image, boxes, labels = shapes[i]
        picture = EXPORT / split / "images" / f"shape_{i:04d}.png"
        picture.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((image * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()).save(picture)
        label_path(picture).parent.mkdir(parents=True, exist_ok=True)
        label_path(picture).write_text(
            "".join(f"{k} " + " ".join(f"{v:.6f}" for v in b) + "\n" for b, k in zip(boxes.tolist(), labels.tolist()))
        )
(EXPORT / "data.yaml").write_text(
    "train: ../train/images\nval: ../valid/images\n\nnc: 3\nnames: ['circle', 'square', 'triangle']\n"
)
exported = read_yolo_dataset(EXPORT / "data.yaml", "val")
print(len(exported), "val images from", shown(exported.files[0].parent), "| names:", exported.names)

# %% [markdown]
# ## 4 · What real tools put in a dataset
#
# The files above are clean because we wrote them. Files from a phone, a labelling tool or a
# colleague's Windows machine are not. Four cases, each as the tool makes it.
#
# **A phone photo.** A camera may store the pixels as the sensor read them and record in the
# photo's EXIF data how to turn them for viewing (the *Orientation* tag; 6 means "turn 90°
# clockwise", which Pillow's `ImageOps.exif_transpose` does). A viewer or labelling tool that
# honours the tag shows the photo turned, so the boxes are drawn on the turned picture; a reader
# that ignores it pairs sideways pixels with upright boxes. The package applies the tag before
# anything else.

# %% mystnb={"image": {"alt": "Left: a phone photo's pixels as stored, lying on their side, so the labelled boxes fall on empty background. Right: the same photo as the reader returns it, turned upright by its EXIF orientation, with each box around its shape."}}
PHONE = WORK / "phone"
# The picture as the photographer saw it: portrait, two shapes images one above the other
# (128 pixels high, 64 wide), and its boxes (each image's boxes squeezed into its half).
(top, top_boxes, top_labels), (bottom, bottom_boxes, bottom_labels) = shapes[3], shapes[4]
viewed = torch.cat((top, bottom), dim=1)  # [3, 128, 64]
half = torch.tensor([1.0, 0.5, 1.0, 0.5])
boxes = torch.cat((top_boxes * half, bottom_boxes * half + torch.tensor([0.0, 0.5, 0.0, 0.0])))
labels = torch.cat((top_labels, bottom_labels))
sensor = Image.fromarray((viewed * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()).transpose(
    Image.Transpose.ROTATE_90  # stored turned a quarter to the left, as a phone held upright does
)
exif = Image.Exif()
exif[0x0112] = 6  # Orientation: turn 90° clockwise to view
(PHONE / "images").mkdir(parents=True)
sensor.save(PHONE / "images" / "IMG_0042.jpg", exif=exif, quality=95)
(PHONE / "labels").mkdir()
(PHONE / "labels" / "IMG_0042.txt").write_text(
    "".join(f"{k} " + " ".join(f"{v:.6f}" for v in b) + "\n" for b, k in zip(boxes.tolist(), labels.tolist()))
)

photo = read_yolo_folder(PHONE)
upright = photo[0][0]
print("stored pixels (H, W):", Image.open(PHONE / "images" / "IMG_0042.jpg").size[::-1],
      "| read (H, W):", tuple(upright.shape[1:]))
print(f"mean difference to the picture as seen: {float((upright - viewed).abs().mean()):.3f} (JPEG's loss)")

fig, axes = plt.subplots(1, 2, figsize=(7, 2.6), width_ratios=(4, 1))  # equal heights
stored = torch.from_numpy(np.array(Image.open(PHONE / "images" / "IMG_0042.jpg"))).permute(2, 0, 1) / 255
for ax, picture_, title in ((axes[0], stored, "pixels as stored, labels wrong"), (axes[1], upright, "as read")):
    height, width = picture_.shape[1:]
    ax.imshow(picture_.permute(1, 2, 0))  # in pixels: the true shape of each picture
    draw_boxes(ax, cxcywh_to_xyxy(boxes) * torch.tensor([width, height, width, height]), color=PALETTE[1])
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()

# %% [markdown]
# **A label file saved by Notepad.** Windows Notepad can save "UTF-8 with BOM": the text
# preceded by a *byte order mark*, three invisible bytes `EF BB BF`. A reader that does not expect them sees the
# first line's class as `"\ufeff0"`, which is no integer. The package reads label files as UTF-8
# with or without that mark, and refuses any other encoding by name, since guessing one could
# turn a number into another.

# %%
notepad = WORK / "notepad"
write_split(notepad, "train", shapes, 0, 2)
label_file = notepad / "labels" / "train" / "shape_0000.txt"
label_file.write_bytes(b"\xef\xbb\xbf" + label_file.read_bytes().replace(b"\n", b"\r\n"))  # BOM, CRLF
print(label_file.read_bytes()[:20])
print("read with the BOM:", read_yolo_folder(notepad / "images" / "train")[0][2].tolist())

label_file.write_bytes(label_file.read_text(encoding="utf-8-sig").encode("utf-16"))  # "Unicode" in old Notepad
try:
    read_yolo_folder(notepad / "images" / "train")
except ValueError as error:
    print("UTF-16:", str(error).replace(str(WORK) + "/", ""))

# %% [markdown]
# **Files that do not match.** A label whose image was deleted, an image nobody labelled yet, a
# label named `SHAPE_7.txt` for `shape_7.png` (the usual file systems of Windows and macOS do not
# tell upper from lower case by default; Linux's do). A reader that stays silent here trains on
# images whose boxes are missing. The package matches names ignoring case when nothing else
# matches, treats an unlabelled image as one without objects, and says all of it in one warning
# with counts, also kept in `.notes`.

# %%
messy = WORK / "messy"
write_split(messy, "train", shapes, 0, 6)
(messy / "labels" / "train" / "shape_0001.txt").unlink()  # an image nobody labelled
(messy / "labels" / "train" / "shape_0002.txt").rename(messy / "labels" / "train" / "SHAPE_0002.txt")
(messy / "labels" / "train" / "shape_0099.txt").write_text("0 0.5 0.5 0.2 0.2\n")  # its image is gone
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    data = read_yolo_folder(messy / "images" / "train")
print(len(caught), "warning,", caught[0].category.__name__)
for note in data.notes:
    print("-", note.replace(str(WORK) + "/", ""))

# %% [markdown]
# **COCO JSON.** Many tools export the COCO format instead: one JSON file for the whole dataset,
# boxes as `[x, y, width, height]` in pixels from the top-left corner, categories numbered by
# the tool. The conversion to a label line is the equation of section 1 with
# $x_1 = x, x_2 = x + \text{width}$. We write it ourselves and check it against
# `read_coco_detection`, which reads such a file into the same dataset form (classes renumbered
# 0, 1, … in the order of the categories' ids).

# %%
def my_coco_to_yolo(bbox, width, height):
    x, y, w, h = bbox
    return [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]


coco = {"images": [], "annotations": [], "categories": [{"id": 11 + k, "name": n} for k, n in enumerate(SHAPE_CLASSES)]}
for i in range(3):
    image, boxes, labels = shapes[i]
    name = f"shape_{i:04d}.png"
    Image.fromarray((image * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()).save(WORK / name)
    coco["images"].append({"id": i, "file_name": name, "width": 64, "height": 64})
    for (x1, y1, x2, y2), k in zip((cxcywh_to_xyxy(boxes) * 64).tolist(), labels.tolist()):
        coco["annotations"].append({"id": len(coco["annotations"]), "image_id": i, "category_id": 11 + k,
                                    "bbox": [x1, y1, x2 - x1, y2 - y1], "iscrowd": 0})
(WORK / "instances.json").write_text(json.dumps(coco))

from_coco = read_coco_detection(WORK / "instances.json")
for i in range(3):
    mine = [my_coco_to_yolo(a["bbox"], 64, 64) for a in coco["annotations"] if a["image_id"] == i]
    torch.testing.assert_close(from_coco[i][1], torch.tensor(mine))
    torch.testing.assert_close(from_coco[i][1], shapes[i][1])
print(from_coco, "| my_coco_to_yolo agrees with read_coco_detection and with the original boxes")

# %% [markdown]
# ## 5 · Training on files, stopping, resuming
#
# The dataset from disk goes through the very pipeline of lesson 06: `YoloCollate` encodes the
# grid targets, `TinyYolo` predicts, `YoloV1Loss` scores, `train` steps. We give `train` a
# checkpoint file. Then we stop the run part-way, as the stop button of a notebook would (a
# `KeyboardInterrupt` raised at step 45), and look at what the checkpoint holds: `train` saves
# the last finished step when a run stops early, and writes every checkpoint to a temporary file
# first, renamed over the old one only once complete.

# %%
S, B, C = 4, 2, len(train_set.names)
loader = DataLoader(train_set, batch_size=32, shuffle=True, drop_last=True, collate_fn=YoloCollate(S, C))
paper_loss = YoloV1Loss(S=S, B=B, C=C)
CHECKPOINT = WORK / "tiny_yolo.pt"
calls = []


def stopped_at_step_45(pred, target):
    calls.append(1)
    if len(calls) == 46:
        raise KeyboardInterrupt  # the stop button, pressed during step 45
    return paper_loss(pred, target)


torch.manual_seed(0)
model = TinyYolo(S=S, B=B, C=C, image_size=64, width=8)
try:
    train(model, loader, stopped_at_step_45, steps=150, lr=3e-3, progress=False,
          checkpoint=CHECKPOINT, checkpoint_every=20)
except KeyboardInterrupt:
    saved = torch.load(CHECKPOINT, weights_only=True)
    print(f"stopped; the checkpoint holds step {saved['step']} (the periodic save was at step 40),"
          f" model in training mode: {model.training}")

# %% [markdown]
# `model in training mode: False`: `train` puts the model in evaluation mode when it ends, in a
# `finally` clause, so even a run stopped by the stop button leaves it ready to evaluate.
#
# We resume with a lower learning rate (a common second thought after looking at the curve).
# `resume=True` loads the weights, Adam's state and the history, and *applies* the new rate from
# step 45 on; a changed batch size or seed is refused instead, since the data order of the steps
# still to come depends on them (the docstring of `train` lists each case).

# %% mystnb={"image": {"alt": "The YOLOv1 loss on a log scale over 150 training steps, falling from about 7 to about 0.6, with a dashed line at step 45 where the run was stopped and resumed with a new learning rate; the curve continues smoothly across it."}}
history = train(model, loader, paper_loss, steps=150, lr=1e-3, progress=False,
                checkpoint=CHECKPOINT, checkpoint_every=20, resume=True)
saved = torch.load(CHECKPOINT, weights_only=True)
print(f"{len(history)} steps in the history; checkpoint at step {saved['step']}, "
      f"Adam's rate {saved['optimizer']['param_groups'][0]['lr']}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(history.total, color=PALETTE[0])
ax.axvline(45, color="0.6", linestyle="--")
ax.text(47, max(history.total) * 0.9, "stopped, resumed at lr 1e-3", fontsize=8)
ax.set_xlabel("step")
ax.set_ylabel("YOLOv1 loss")
ax.set_yscale("log")
fig.tight_layout()

# %% [markdown]
# Last, the held-out split: mAP@0.5 (lesson 07) on the 80 `val` images read from disk.

# %%
with torch.no_grad():
    images = torch.stack([val_set[i][0] for i in range(len(val_set))])
    found = detections_from_predictions(model(images), S=S, B=B, C=C, score_threshold=0.05)
truth = [{"boxes": cxcywh_to_xyxy(boxes), "labels": labels} for _, boxes, labels in val_set]
result = mean_average_precision(found, truth, iou_threshold=0.5)
print(f"mAP@0.5 on the val split after {len(history)} steps: {result.map:.2f}")
print({val_set.names[c]: round(ap, 2) for c, ap in result.per_class.items()})

# %% [markdown]
# 0.69 is below the 0.92 of [lesson 06](06_training_a_tiny_yolo.ipynb), but the two runs are not a
# like-for-like comparison: this one takes half the steps (150 against 300) on a third of the training
# images (480 against 1500), and is scored on 80 images instead of 200.

# %% [markdown]
# ## Summary
#
# - A YOLO dataset is one image and one text file per picture, `class cx cy w h` per object,
#   normalized by the image's size; a data YAML names the splits and the classes.
# - Labels are found by replacing the last `images` folder of an image's path by `labels`;
#   YAML paths are relative to `path:` or to the YAML's folder, and a `../` that leads nowhere is
#   dropped (Roboflow).
# - Real files carry surprises: EXIF orientation (applied), a BOM (accepted), another encoding
#   (refused by name), unmatched or case-mismatched names (matched or counted in one warning),
#   COCO JSON (converted).
# - `train` never lets a NaN reach the weights, saves the last finished step when stopped, and a
#   resume applies a new learning rate.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for your answer, followed by a checker cell that runs it on hidden cases
# and, when one fails, shows that case, the expected and the received value, and a hint. In the
# lesson the answer cells hold a solution and start folded: click the cell's left edge to open one.

# %%
from yolo_lesson import check

# %% [markdown]
# **Exercise 1 — the bytes of a label file.** Write `parse_label_bytes(data)`, which turns the
# bytes of one label file into `(boxes, labels)` the way the package's reader does: UTF-8 with or
# without Notepad's BOM, `\n` or `\r\n` line ends, any whitespace between the fields, blank lines
# skipped; `boxes` a float32 tensor `[N, 4]` and `labels` an int64 tensor `[N]`, also for a file
# without objects. A file in any other encoding raises a `ValueError` that says label files must
# be UTF-8. Then try it on a colleague's file saved as Latin-1 with a comment in French at its end
# (`# étiquettes vérifiées`), and on the same file saved again as UTF-8 without the comment.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def parse_label_bytes(data):
    ### BEGIN SOLUTION
    try:
        text = data.decode("utf-8-sig")  # drops a leading BOM if there is one
    except UnicodeDecodeError as error:
        raise ValueError(f"label files must be UTF-8, got byte 0x{data[error.start]:02x} "
                         f"at position {error.start}") from None
    boxes, labels = [], []
    for line in text.splitlines():  # "\n" and "\r\n" alike
        fields = line.split()  # any whitespace
        if not fields:
            continue
        labels.append(int(fields[0]))
        boxes.append([float(value) for value in fields[1:5]])
    return torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), torch.tensor(labels, dtype=torch.long)
    ### END SOLUTION


### BEGIN SOLUTION
latin = WORK / "latin"
write_split(latin, "train", shapes, 0, 2)
colleague = latin / "labels" / "train" / "shape_0000.txt"
colleague.write_bytes((colleague.read_text() + "# étiquettes vérifiées\n").encode("latin-1"))
try:
    parse_label_bytes(colleague.read_bytes())
except ValueError as error:
    print("mine:      ", error)
try:
    read_yolo_folder(latin / "images" / "train")
except ValueError as error:
    print("the reader:", str(error).split(";")[0].replace(str(WORK) + "/", ""))
lines = [line for line in colleague.read_bytes().decode("latin-1").splitlines() if not line.startswith("#")]
colleague.write_text("\n".join(lines) + "\n", encoding="utf-8")
boxes, labels = parse_label_bytes(colleague.read_bytes())
torch.testing.assert_close(boxes, read_yolo_folder(latin / "images" / "train")[0][1])
assert torch.equal(labels, shapes[0][2])
print("saved again as UTF-8:", labels.tolist())
### END SOLUTION

# %% tags=["check"]
check.parse_label_bytes(parse_label_bytes)

# %% [markdown]
# **Exercise 2 — why a resume keeps the batch size.** `train` orders the data of epoch `e` from
# the seed and `e` alone, and step `t` reads batch `t mod b` of epoch `t // b`, where `b` is the
# number of batches per epoch (`len(loader)`). Write `batch_of_step(step, num_images, batch_size,
# drop_last=True)` returning `(epoch, start, stop)`: the epoch of that step and the positions
# `start .. stop - 1` of the epoch's shuffled order that it reads (with `drop_last=False` the last
# batch of an epoch is shorter), or raising a `ValueError` when the loader has no batch at all.
# Use it to say which positions step 45 of section 5 reads with batches of 32 and with batches of
# 16; then try to resume that run to 160 steps with batches of 16, and resume it to 160 steps with
# the original loader.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def batch_of_step(step, num_images, batch_size, drop_last=True):
    ### BEGIN SOLUTION
    per_epoch = num_images // batch_size if drop_last else -(-num_images // batch_size)
    if per_epoch == 0:
        raise ValueError(f"{num_images} images make no batch of {batch_size} with drop_last=True")
    epoch, batch = divmod(step, per_epoch)
    start = batch * batch_size
    return epoch, start, min(start + batch_size, num_images)
    ### END SOLUTION


### BEGIN SOLUTION
for size in (32, 16):
    epoch, start, stop = batch_of_step(45, len(train_set), size)
    print(f"batches of {size}: step 45 reads positions {start}..{stop - 1} of epoch {epoch}'s order")
small_batches = DataLoader(train_set, batch_size=16, shuffle=True, drop_last=True, collate_fn=YoloCollate(S, C))
try:
    train(model, small_batches, paper_loss, steps=160, lr=1e-3, progress=False, checkpoint=CHECKPOINT, resume=True)
except ValueError as error:
    print(error)
longer = train(model, loader, paper_loss, steps=160, lr=1e-3, progress=False, checkpoint=CHECKPOINT, resume=True)
assert len(longer) == 160 and longer.total[:150] == history.total
### END SOLUTION

# %% tags=["check"]
check.batch_of_step(batch_of_step)

# %% [markdown]
# The lesson's files live in a temporary folder; this removes them.

# %%
import shutil

shutil.rmtree(WORK)
