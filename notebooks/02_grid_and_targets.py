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
# # 02 · The grid and the targets
#
# ## Learning goals
#
# After this lesson you can:
#
# - read YOLOv1's output tensor `[N, S, S, B*5 + C]` and its target `[N, S, S, 5 + C]`, number by number;
# - say which grid cell owns an object, including the edge case of a centre on the image border;
# - encode ground-truth boxes as cell offsets and image-relative sizes, and decode them back;
# - explain what happens when two object centres fall in the same cell, and how often that loses an object;
# - tell which of a cell's B predictors is *responsible* for its object, and turn a prediction tensor into boxes and scores.
#
# **Why this matters.** A loss compares two tensors, so before we can write the YOLO loss
# ([lesson 03](03_yolov1_loss.ipynb)) we must know exactly what the network predicts and what we
# compare it with. The article this course starts from gives the prediction and the target the
# *same* shape, `(batch, grid, grid, classes + 5)`: one box per cell. The YOLOv1 paper predicts
# **B = 2** boxes per cell against **one** target box, and that mismatch is where the idea of a
# "responsible" predictor comes from. Getting the target encoding right is half of the loss.

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
import math

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle

from yolo_lesson.boxes import cxcywh_to_xyxy, iou
from yolo_lesson.grid import (
    assign_cells,
    cells_to_image,
    decode_predictions,
    encode_batch,
    encode_targets,
)
from yolo_lesson.loss import responsibility
from yolo_lesson.viz import PALETTE, draw_boxes, draw_grid, highlight_cell, image_axes

_ = torch.manual_seed(0)  # the random scenes below use their own seeded generators too

# %% [markdown]
# ## 1 · The S × S grid
#
# YOLOv1 resizes every image to 448 × 448 pixels and cuts it into an **S × S grid** with
# **S = 7**: 49 cells of 64 × 64 pixels each. Every cell predicts:
#
# - **B = 2** boxes, each as five numbers `(x, y, w, h, conf)`;
# - **C = 20** class scores (the 20 classes of PASCAL VOC), shared by the cell's B boxes.
#
# Throughout the course coordinates are **normalized**: the image is the unit square, x goes
# right and y goes *down* (as image rows do). Cells are indexed `[row, col]`: row counts down
# from the top, col counts right from the left.

# %% mystnb={"image": {"alt": "A 448-pixel image divided into a 7 by 7 grid with numbered rows and columns; the cell in row 2, column 5 is highlighted."}}
S, B, C = 7, 2, 20
ax = image_axes(size=5, title=f"S = {S}: {S * S} cells of {448 // S} × {448 // S} pixels (448-pixel image)")
draw_grid(ax, S, labels=True)
highlight_cell(ax, row=2, col=5, S=S)
ax.text(5.5 / S, 2.62 / S, "row 2\ncol 5", ha="center", va="center", fontsize=8)
plt.show()

# %% [markdown]
# ## 2 · The output tensor and the target tensor
#
# For a batch of N images the network outputs one vector of length $B \cdot 5 + C$ per cell:
#
# $$\text{pred} \in \mathbb{R}^{N \times S \times S \times (B \cdot 5 + C)}, \qquad 7 \cdot 7 \cdot (2 \cdot 5 + 20) = 7 \cdot 7 \cdot 30 = 1470 \text{ numbers per image.}$$
#
# The ground truth is simpler: a cell holds at most **one** object, so it needs one box, an
# object flag and a one-hot class:
#
# $$\text{target} \in \mathbb{R}^{N \times S \times S \times (5 + C)}, \qquad \text{per cell } (x, y, w, h, \text{obj}, \text{one-hot class}).$$
#
# The picture below lays out the two vectors of one cell side by side.

# %%
def draw_layout(ax, names, colors, title):
    """One row of coloured slots, one per number in a cell's vector."""
    for k, (name, color) in enumerate(zip(names, colors)):
        ax.add_patch(Rectangle((k, 0), 1, 1, facecolor=color, edgecolor="white", alpha=0.8))
        ax.text(k + 0.5, 0.5, name, ha="center", va="center", fontsize=7, rotation=90)
    ax.set_xlim(0, 30)  # both rows on the same scale: the target is 5 numbers shorter
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xticks(range(0, 31, 5))
    ax.set_title(title, fontsize=10, loc="left")


# %% mystnb={"image": {"alt": "Two strips of coloured slots. Top: the 30 numbers predicted per cell, box 0 (x, y, w, h, conf), box 1, then 20 class scores. Bottom: the 25 numbers of the target per cell, one box, its object flag and a one-hot class."}}
box_names = ["x", "y", "w", "h", "conf"]
pred_names = [f"{n}{b}" for b in range(B) for n in box_names] + [f"p{c}" for c in range(C)]
pred_colors = [PALETTE[1]] * 5 + [PALETTE[2]] * 5 + [PALETTE[5]] * C
target_names = ["x", "y", "w", "h", "obj"] + [f"1[c={c}]" for c in range(C)]
target_colors = [PALETTE[0]] * 5 + [PALETTE[5]] * C
fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 3))
draw_layout(top, pred_names, pred_colors, "pred[n, row, col, :]  (30 numbers): box 0 | box 1 | 20 class scores")
draw_layout(bottom, target_names, target_colors, "target[n, row, col, :]  (25 numbers): box | obj | one-hot class")
bottom.set_xlabel("index along the last dimension")
fig.tight_layout()
plt.show()

# %% [markdown]
# In code, the same layout is a handful of slices. Predictor `b`'s block starts at `5 * b`:

# %%
pred = torch.zeros(4, S, S, B * 5 + C)   # a batch of 4 images
blocks = pred[..., : B * 5].reshape(4, S, S, B, 5)   # [N, S, S, B, 5]: (x, y, w, h, conf) per predictor
class_scores = pred[..., B * 5 :]                     # [N, S, S, C]
print("pred        ", tuple(pred.shape))
print("box blocks  ", tuple(blocks.shape))
print("class scores", tuple(class_scores.shape))
print("target      ", (4, S, S, 5 + C))

# %% [markdown]
# ## 3 · Which cell owns an object
#
# An object belongs to the cell that contains its **centre** $(c_x, c_y)$. Multiplying by S
# turns image coordinates into "cell units", and the integer part is the cell index:
#
# $$\text{row} = \min\left(\lfloor c_y \cdot S \rfloor,\ S - 1\right), \qquad \text{col} = \min\left(\lfloor c_x \cdot S \rfloor,\ S - 1\right).$$
#
# The $\min$ (the *clamp*) matters for exactly one kind of centre: one that sits on the right or
# bottom border of the image. Without it, $c_x = 1.0$ would give $\lfloor 7 \rfloor = 7$: a column
# that does not exist.

# %%
def owning_cell(cx, cy, S):
    row = min(math.floor(cy * S), S - 1)
    col = min(math.floor(cx * S), S - 1)
    return row, col


for cx, cy in [(0.5, 0.5), (0.30, 0.80), (0.99, 0.01), (1.0, 1.0)]:
    unclamped = (math.floor(cy * S), math.floor(cx * S))
    print(f"centre ({cx:.2f}, {cy:.2f}) -> cx·S = {cx * S:.2f}, cy·S = {cy * S:.2f} -> "
          f"(row, col) = {owning_cell(cx, cy, S)}   without the clamp: {unclamped}")

# %% [markdown]
# A centre exactly on a line between two cells goes to the cell on the right (or below), because
# $\lfloor 2.0 \rfloor = 2$. With S = 7 the line $x = 2/7$ is not exactly representable in binary,
# so "exactly on the line" is up to rounding; with S = 8 the line $x = 0.25$ is exact:

# %%
print("S = 8, centre (0.25, 0.5) -> (row, col) =", owning_cell(0.25, 0.5, 8))
on_lines = assign_cells(torch.tensor([[0.25, 0.5, 0.1, 0.1], [1.0, 1.0, 0.1, 0.1]]), 8)
print("package, same centre and the corner (1, 1): rows", on_lines.rows.tolist(), "cols", on_lines.cols.tolist())

# %% [markdown]
# ## 4 · Encoding one object
#
# Inside its cell, the centre is stored as an **offset** in cell units, and the size relative
# to the **whole image**:
#
# $$x = c_x \cdot S - \text{col}, \qquad y = c_y \cdot S - \text{row}, \qquad w = w_{\text{img}}, \qquad h = h_{\text{img}}.$$
#
# So $x, y \in [0, 1)$ say *where in the cell* the centre is (0 = left/top edge of the cell); only
# the clamped border case gives exactly 1. Why offsets? A network's cell already knows where it
# is on the image; asking it for a small number in $[0, 1]$ is easier than asking 49 cells for
# absolute positions. Why image-relative sizes? An object can be much larger than its cell.
#
# Worked example, S = 7: a dog with centre $(0.5, 0.4)$ and size $0.3 \times 0.5$.
# $0.5 \cdot 7 = 3.5 \Rightarrow \text{col} = 3,\ x = 0.5$; $\;0.4 \cdot 7 = 2.8 \Rightarrow \text{row} = 2,\ y = 0.8$.

# %% [markdown]
# Here is the whole encoder as a loop over the objects. It follows the formulas line by line,
# and it gives each cell to the **first** object that claims it (more on that in section 6).

# %%
def encode_targets_by_hand(boxes, labels, S, C):
    """boxes: [K, 4] cxcywh in [0, 1]; labels: [K] class indices -> target [S, S, 5 + C]."""
    target = torch.zeros(S, S, 5 + C, dtype=boxes.dtype)
    for (cx, cy, w, h), label in zip(boxes.tolist(), labels.tolist()):
        row, col = owning_cell(cx, cy, S)
        if target[row, col, 4] == 1:  # an earlier object already owns this cell
            continue
        target[row, col, :5] = torch.tensor([cx * S - col, cy * S - row, w, h, 1.0])
        target[row, col, 5 + label] = 1.0  # one-hot class
    return target


# %% [markdown]
# A scene to try it on, with PASCAL VOC class indices (dog = 11, bicycle = 1, car = 6, person = 14):

# %%
VOC = {1: "bicycle", 6: "car", 11: "dog", 14: "person"}
boxes = torch.tensor([
    [0.50, 0.40, 0.30, 0.50],   # dog, the worked example
    [0.18, 0.75, 0.30, 0.35],   # bicycle
    [0.82, 0.62, 0.32, 0.22],   # car
    [0.66, 0.25, 0.12, 0.36],   # person
])
labels = torch.tensor([11, 1, 6, 14])
mine = encode_targets_by_hand(boxes, labels, S, C)
print("dog cell [2, 3]: (x, y, w, h, obj) =", [round(v, 4) for v in mine[2, 3, :5].tolist()],
      "class", int(mine[2, 3, 5:].argmax()))

# %% [markdown]
# The package's `encode_targets` does the same without a Python loop (it scatters all objects
# at once). The two must agree, number for number:

# %%
torch.testing.assert_close(encode_targets(boxes, labels, S=S, C=C), mine)
print("encode_targets matches the loop; object cells:", int(mine[..., 4].sum()))

# %% [markdown]
# From here on we use the package. For a batch, each image has its own number of objects, so
# `encode_batch` takes **lists** of per-image tensors and stacks the grids:

# %%
batch_boxes = [boxes, torch.zeros(0, 4), boxes[:1]]          # 4 objects, none, 1 object
batch_labels = [labels, torch.zeros(0, dtype=torch.long), labels[:1]]
target = encode_batch(batch_boxes, batch_labels, S=S, C=C)
print("target", tuple(target.shape), "objects per image:", target[..., 4].sum(dim=(1, 2)).tolist())

# %% [markdown]
# The picture: the boxes, the grid, each object's owning cell shaded, and the five numbers the
# target stores there.

# %%
def show_encoding(ax, boxes, labels, target, S, names):
    draw_grid(ax, S)
    rows, cols, _ = assign_cells(boxes, S)
    for k, (row, col) in enumerate(zip(rows.tolist(), cols.tolist())):
        highlight_cell(ax, row, col, S, color=PALETTE[4], alpha=0.45)
        x, y, w, h = target[row, col, :4].tolist()
        text = f"cell [{row},{col}]\nx={x:.2f} y={y:.2f}\nw={w:.2f} h={h:.2f}"
        x1, y1, x2, y2 = cxcywh_to_xyxy(boxes[k]).tolist()
        ax.text(x1 + 0.01, y2 - 0.01, text, fontsize=7.5, va="bottom", color=PALETTE[0],
                bbox=dict(facecolor="white", alpha=0.85, lw=0, pad=1.5))
    draw_boxes(ax, cxcywh_to_xyxy(boxes), labels=[names[int(l)] for l in labels])


# %% mystnb={"image": {"alt": "An image with a 7 by 7 grid and several labelled object boxes; the cell that holds each object's centre is shaded."}}
ax = image_axes(size=6.5, title="Encoded targets (S = 7): owning cells shaded")
show_encoding(ax, boxes, labels, target[0], S, VOC)
plt.show()

# %% [markdown]
# Read the dog: its centre is in the middle of cell `[2, 3]` horizontally (`x = 0.50`) and low
# in it vertically (`y = 0.80`), and its box is 0.30 of the image wide, far wider than the cell
# (1/7 ≈ 0.14). The other 45 cells hold only zeros: `obj = 0` tells the loss there is nothing
# to find there.

# %% [markdown]
# ## 5 · The way back: cell offsets to image coordinates
#
# Decoding inverts the encoding. For a cell at `[row, col]` holding $(x, y, w, h)$:
#
# $$c_x = \frac{\text{col} + x}{S}, \qquad c_y = \frac{\text{row} + y}{S}, \qquad w, h \text{ unchanged.}$$
#
# `cells_to_image` applies this to every cell and predictor at once; it expects
# `[N, S, S, B, 4]`, so the target gets a predictor axis of size 1.

# %%
cells = target[..., None, :4]                     # [N, S, S, 1, 4]
in_image = cells_to_image(cells)[..., 0, :]       # [N, S, S, 4] cxcywh in the image
rows, cols, kept = assign_cells(boxes, S)
recovered = in_image[0, rows, cols]               # [K, 4]
torch.testing.assert_close(recovered, boxes)
print(recovered)

# %% [markdown]
# Every object comes back exactly (up to float rounding). That is the point of an encoding: it
# must lose nothing. Except that it *can* lose something, as the next section shows.

# %% [markdown]
# ## 6 · Collisions: two centres in one cell
#
# A YOLOv1 target cell has room for one object. When two centres land in the same cell, one
# of them is simply not in the target: the network is never asked to find it. The package's
# policy is that **the object listed first keeps the cell**; `assign_cells` reports the others in
# `.dropped`.
#
# Two people standing side by side, S = 7: centres $(0.45, 0.55)$ and $(0.53, 0.52)$ are
# $(3.15, 3.85)$ and $(3.71, 3.64)$ in cell units, so both land in cell `[3, 3]`:

# %%
crowd = torch.tensor([
    [0.45, 0.55, 0.12, 0.45],   # person A
    [0.53, 0.52, 0.12, 0.30],   # person B, same cell as A
    [0.20, 0.30, 0.20, 0.20],   # a dog, alone
])
crowd_labels = torch.tensor([14, 14, 11])
assignment = assign_cells(crowd, S)
print("rows   ", assignment.rows.tolist())
print("cols   ", assignment.cols.tolist())
print("dropped", assignment.dropped.tolist())

# %% mystnb={"image": {"alt": "Two panels of the same crowded scene where two objects have their centres in one cell. Left: with A listed first, B is dropped (dashed). Right: with B first, A is dropped."}}
fig, axes = plt.subplots(1, 2, figsize=(11, 5.5))
for ax, order, title in [(axes[0], [0, 1, 2], "A listed first: B is dropped"),
                         (axes[1], [1, 0, 2], "B listed first: A is dropped")]:
    scene, scene_labels = crowd[order], crowd_labels[order]
    kept = assign_cells(scene, S).kept
    t = encode_targets(scene, scene_labels, S=S, C=C)
    show_encoding(image_axes(ax, title=title), scene[kept], scene_labels[kept], t, S, VOC)
    draw_boxes(ax, cxcywh_to_xyxy(scene[~kept]), color=PALETTE[1], linestyle="--", labels=["dropped"])
fig.tight_layout()
plt.show()

# %% [markdown]
# Which object survives depends only on the order of the annotation list, which carries no
# meaning. Other implementations choose differently (the larger box, or the last one written,
# which is what a plain `target[row, col] = ...` loop without the check does). None of them
# fixes the real problem: one cell, one object. Later YOLO versions add anchors (several target
# slots per cell, [lesson 08](08_beyond_v1.ipynb)), which is largely a cure for this.
#
# **How often does it happen?** Drop K object centres uniformly at random on the image and
# count how many are lost. With $M = S^2$ cells, the expected number of occupied cells is
# $M\left(1 - (1 - 1/M)^K\right)$, so the expected fraction lost is
#
# $$\text{lost}(K) = 1 - \frac{M}{K}\left(1 - \left(1 - \tfrac{1}{M}\right)^K\right).$$
#
# We simulate it with `assign_cells` and draw the formula beside it.

# %%
def fraction_lost(S, K, scenes, generator):
    lost = 0
    for _ in range(scenes):
        centres = torch.rand(K, 2, generator=generator)
        scene = torch.cat([centres, torch.full((K, 2), 0.1)], dim=1)
        lost += assign_cells(scene, S).dropped.numel()
    return lost / (K * scenes)


def expected_lost(S, K):
    M = S * S
    return 1 - M / K * (1 - (1 - 1 / M) ** K)


# %%
generator = torch.Generator().manual_seed(0)
counts = list(range(2, 41, 3))
simulated = {s: [fraction_lost(s, k, 300, generator) for k in counts] for s in (7, 13, 19)}
for s in (7, 13, 19):
    print(f"S = {s:2d}: K = 10 -> {100 * fraction_lost(s, 10, 1000, generator):4.1f} % lost "
          f"(formula {100 * expected_lost(s, 10):4.1f} %)")

# %% mystnb={"image": {"alt": "A chart of the percentage of objects lost to a collision against the number of objects per image, for grids of 7, 13 and 19 cells: simulated points lie on the formula's curves, and finer grids lose fewer objects."}}
fig, ax = plt.subplots(figsize=(7, 4.5))
for s, color in zip((7, 13, 19), PALETTE[:3]):
    ax.plot(counts, [100 * v for v in simulated[s]], "o", color=color, label=f"S = {s}, simulated")
    ax.plot(counts, [100 * expected_lost(s, k) for k in counts], "-", color=color, lw=1, label=f"S = {s}, formula")
ax.set_xlabel("objects per image K (centres uniform at random)")
ax.set_ylabel("objects lost to a collision (%)")
ax.set_title("A finer grid loses fewer objects (300 random scenes per point)")
ax.legend(fontsize=8, ncol=3)
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# With the paper's S = 7, ten objects already lose about 9 % of them, and real scenes are worse
# than uniform: people in a crowd, cars in a row and birds in a flock cluster, so their centres
# share cells far more often. This is one reason the paper reports that YOLOv1 struggles with
# small objects in groups.

# %% [markdown]
# ## 7 · Preview: which predictor is *responsible*?
#
# The target has one box per cell; the prediction has B = 2. Which of the two should learn the
# object? YOLOv1's answer: the one whose predicted box currently **overlaps the object best**,
# measured by IoU in image coordinates ([lesson 01](01_boxes_and_iou.ipynb)):
#
# $$\text{responsible}(b) = \big[\, b = \arg\max_{b'} \operatorname{IoU}(\hat{\text{box}}_{b'}, \text{box}) \,\big].$$
#
# (When no predicted box overlaps the object, every IoU is 0; [lesson 03](03_yolov1_loss.ipynb)
# follows darknet and picks the predictor with the smallest RMSE instead.) Only the responsible
# predictor gets the coordinate loss and a confidence target for "there is an object here", by
# default the IoU of its box with the object ([lesson 03](03_yolov1_loss.ipynb), section 5). Let's build one object and two guesses in its cell. One detail of the
# prediction tensor: the paper's network does not output a box's width and height but their
# square roots, "we predict the square root of the bounding box width and height" (section 2.2;
# [lesson 03](03_yolov1_loss.ipynb) says why). A predictor that draws a box 0.55 wide outputs
# $\sqrt{0.55}$.

# %%
dog = torch.tensor([[0.50, 0.40, 0.30, 0.50]])                     # cell [2, 3], offset (0.5, 0.8)
one_target = encode_batch([dog], [torch.tensor([11])], S=S, C=C)     # [1, 7, 7, 25]
guess = torch.zeros(1, S, S, B * 5 + C)
guess[0, 2, 3, 0:5] = torch.tensor([0.2, 0.3, 0.55, 0.20, 0.6])     # predictor 0: wide and flat
guess[0, 2, 3, 5:10] = torch.tensor([0.7, 0.6, 0.25, 0.45, 0.4])    # predictor 1: tall, near the dog
guess[..., [2, 3, 7, 8]] = guess[..., [2, 3, 7, 8]].sqrt()           # what the network outputs: √w, √h
resp = responsibility(guess, one_target, S=S, B=B, C=C)
print("IoU of each predictor with the dog:", [round(v, 3) for v in resp.ious[0, 2, 3].tolist()])
print("responsible:                        ", resp.responsible[0, 2, 3].tolist())

# %% [markdown]
# Check it by hand: square the size outputs, convert both guesses to image boxes with
# `cells_to_image` and measure the IoU with the dog directly.

# %%
guess_blocks = guess[..., : B * 5].reshape(1, S, S, B, 5)                    # [1, S, S, B, 5]
guess_xywh = torch.cat([guess_blocks[..., :2], guess_blocks[..., 2:4] ** 2], dim=-1)  # outputs -> box
guess_boxes = cxcywh_to_xyxy(cells_to_image(guess_xywh))[0, 2, 3]            # [B, 4] image xyxy
by_hand = iou(guess_boxes, cxcywh_to_xyxy(dog))
torch.testing.assert_close(by_hand, resp.ious[0, 2, 3])
print("IoUs by hand:", [round(v, 3) for v in by_hand.tolist()])

# %% mystnb={"image": {"alt": "A 7 by 7 grid with the dog's target box in its cell and the cell's two predicted boxes dashed; the legend gives each predictor's IoU with the dog, and predictor 1's is the larger."}}
ax = image_axes(size=5.5, title="Predictor 1 overlaps the dog best: it is responsible")
draw_grid(ax, S)
highlight_cell(ax, 2, 3, S)
draw_boxes(ax, cxcywh_to_xyxy(dog), color=PALETTE[0])
ax.plot([], [], color=PALETTE[0], label="dog (target)")
for b, color in [(0, PALETTE[1]), (1, PALETTE[2])]:
    draw_boxes(ax, guess_boxes[b], color=color, linestyle="--")
    ax.plot([], [], color=color, ls="--", label=f"predictor {b}: IoU {resp.ious[0, 2, 3, b]:.2f}")
ax.legend(loc="lower right")
plt.show()

# %% [markdown]
# Both guesses sit in the dog's cell (their centres are in cell `[2, 3]`), but predictor 1's box
# overlaps the dog much better, so it is trained towards the dog while predictor 0 is trained
# towards "no object". Over training this makes the B predictors specialize (one for tall
# shapes, one for wide ones, say). [Lesson 03](03_yolov1_loss.ipynb) builds every loss term on this
# mask.

# %% [markdown]
# ## 8 · Decoding predictions back to boxes
#
# At inference time we go the other way: from `pred` to a list of boxes with scores. Every
# predictor of every cell gives a box: its width and height are the **squares** of the two size
# outputs, $w = s_w^2$, $h = s_h^2$, and `cells_to_image` places its centre. YOLOv1 scores it with
# its **class-specific confidence** $\text{conf} \cdot p_c$; the package keeps, by default, the
# best class of the cell:
#
# $$\text{score} = \text{conf} \cdot \max_c p_c, \qquad \text{label} = \arg\max_c p_c.$$
#
# (The paper keeps a score for every class; [lesson 07](07_predictions_to_detections.ipynb) shows
# that option and what it changes.)
#
# `decode_predictions` returns all $S \cdot S \cdot B = 98$ of them per image, in `xyxy`, ordered
# by row, column, predictor. To have something to decode, we fake a good network: it copies the
# target into predictor 0 with a little noise, and is unsure everywhere else.

# %%
generator = torch.Generator().manual_seed(1)
fake = torch.rand(1, S, S, B * 5 + C, generator=generator) * 0.2       # low confidence, weak classes
obj = target[:1, ..., 4:5]                                               # [1, S, S, 1]
noise = 0.03 * torch.randn(1, S, S, 4, generator=generator)
outputs = torch.cat([target[:1, ..., :2], target[:1, ..., 2:4].sqrt()], dim=-1)  # x, y, √w, √h
fake[..., 0:4] = torch.where(obj > 0, outputs + noise, fake[..., 0:4])
fake[..., 4:5] = torch.where(obj > 0, 0.9, fake[..., 4:5])               # conf of predictor 0
fake[..., 10:] = fake[..., 10:] + 0.8 * target[:1, ..., 5:]              # class scores
detections = decode_predictions(fake, S=S, B=B, C=C)
print({name: tuple(t.shape) for name, t in detections._asdict().items()})

# %%
conf = fake[..., :10].reshape(1, S, S, B, 5)[..., 4]                     # [1, S, S, B]
best_class = fake[..., 10:].max(dim=-1).values                           # [1, S, S]
torch.testing.assert_close(detections.scores, (conf * best_class[..., None]).reshape(1, -1))
top = detections.scores[0].argsort(descending=True)[:6]
for k in top.tolist():
    row, col, b = k // (S * B), (k // B) % S, k % B
    print(f"entry {k:2d} = cell [{row},{col}] predictor {b}: score {detections.scores[0, k]:.2f}, "
          f"label {VOC.get(int(detections.labels[0, k]), int(detections.labels[0, k]))}")

# %% [markdown]
# The four object cells score about 0.9 × 0.8–1.0 ≈ 0.8; the next best entry is far below. A
# threshold keeps them:

# %% mystnb={"image": {"alt": "A 7 by 7 grid with the true boxes in thick lines and the decoded predictions whose score exceeds 0.3 dashed and labelled with class and score."}}
keep = detections.scores[0] > 0.3
ax = image_axes(size=5.5, title=f"Decoded: {int(keep.sum())} of {S * S * B} boxes have score > 0.3")
draw_grid(ax, S)
draw_boxes(ax, cxcywh_to_xyxy(boxes), color=PALETTE[0], centres=False, lw=4)
texts = [f"{VOC[int(l)]} {s:.2f}" for l, s in zip(detections.labels[0, keep], detections.scores[0, keep])]
draw_boxes(ax, detections.boxes[0, keep], color=PALETTE[1], linestyle="--", labels=texts)
plt.show()

# %% [markdown]
# The dashed predictions sit on the thick targets, shifted by the noise we added. A real
# network's output is messier: several cells fire on one object, so duplicate boxes must be
# removed by non-maximum suppression ([lesson 07](07_predictions_to_detections.ipynb)).

# %% [markdown]
# ## Summary
#
# - YOLOv1 cuts the image into an S × S grid (paper: S = 7, B = 2, C = 20). The output is
#   `[N, S, S, B*5 + C]` = `[N, 7, 7, 30]`; the target is `[N, S, S, 5 + C]` = `[N, 7, 7, 25]`.
# - The cell that holds an object's centre owns it: `row = floor(cy·S)`, `col = floor(cx·S)`, clamped
#   to `S − 1` so that a centre at 1.0 lands in the last cell (with offset 1.0). A centre on a cell
#   line belongs to the cell right of / below it.
# - Encoding stores `x, y` as the centre's offset inside its cell and `w, h` relative to the image,
#   then `obj = 1` and the one-hot class. `cells_to_image` undoes it: `cx = (col + x)/S`.
# - One cell holds one object: in a collision the first listed object keeps the cell and the rest
#   are dropped (`assign_cells(...).dropped`). With S = 7 and ten random objects about 9 % are lost;
#   a finer grid loses fewer.
# - Of a cell's B predictors, the one whose box has the highest IoU with the object is responsible
#   for it (`yolo_lesson.loss.responsibility`); when none overlaps it, the one with the smallest RMSE
#   (lesson 03); the loss in [lesson 03](03_yolov1_loss.ipynb) is built on that mask.
# - The network outputs √w and √h (paper, section 2.2); decoding squares them.
# - `decode_predictions` turns every predictor into an image box with score = conf × best class score.
#
# Next: [lesson 03](03_yolov1_loss.ipynb) builds the YOLOv1 loss on these two tensors and on the
# responsibility mask.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for your answer, followed by a checker cell that runs it on hidden cases
# and, when one fails, shows that case, the expected and the received value, and a hint. In the
# lesson the answer cells hold a solution and start folded: click the cell's left edge to open one.

# %%
from yolo_lesson import check

# %% [markdown]
# **Exercise 1 — which cell?** With S = 7, which cell owns an object centred at
# $(c_x, c_y) = (0.62, 0.31)$? And with S = 13? Work it out on paper first, then write
# `owning_cell(cx, cy, S)` returning `(row, col)`, and compare with `assign_cells`. Mind the edges:
# a centre exactly on a cell border, and a centre at 1.0.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def owning_cell(cx, cy, S):
    ### BEGIN SOLUTION
    return min(int(cy * S), S - 1), min(int(cx * S), S - 1)
    ### END SOLUTION


### BEGIN SOLUTION
# S = 7:  cx·S = 4.34 -> col 4;  cy·S = 2.17 -> row 2.
# S = 13: cx·S = 8.06 -> col 8;  cy·S = 4.03 -> row 4.
for s in (7, 13):
    rows, cols, _ = assign_cells(torch.tensor([[0.62, 0.31, 0.1, 0.1]]), s)
    assert owning_cell(0.62, 0.31, s) == (rows.item(), cols.item())
    print(f"S = {s}: (row, col) = {owning_cell(0.62, 0.31, s)}")
### END SOLUTION

# %% tags=["check"]
check.owning_cell(owning_cell)

# %% [markdown]
# **Exercise 2 — encode a box by hand.** A car (class 6 of C = 20) has centre $(0.9, 0.15)$ and
# size $0.2 \times 0.3$. With S = 7, write down its cell `car_cell = (row, col)` and its full
# 25-number target vector `car_vector`, by hand (no `encode_targets`); the checker compares them
# with `encode_targets`.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
car_cell = car_vector = None
### BEGIN SOLUTION
# cx·S = 6.3 -> col 6, x = 0.3;  cy·S = 1.05 -> row 1, y = 0.05;  w = 0.2, h = 0.3, obj = 1.
car_cell = (1, 6)
car_vector = torch.zeros(25)
car_vector[:5] = torch.tensor([0.3, 0.05, 0.2, 0.3, 1.0])
car_vector[5 + 6] = 1.0
### END SOLUTION

# %% tags=["check"]
check.encoded_cell(car_cell, car_vector, box=(0.9, 0.15, 0.2, 0.3), label=6, S=7, C=20)

# %% [markdown]
# **Exercise 3 — find the dropped objects.** In the scene below (S = 7), which objects lose their
# cell? Find them by computing every object's cell (`dropped`, a list of indices), then check with
# `assign_cells`. Then reorder the scene (`reordered`, the same boxes in a new order) so that in
# every collision the *largest* box keeps the cell.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
scene = torch.tensor([
    [0.10, 0.10, 0.10, 0.10],
    [0.40, 0.60, 0.30, 0.40],
    [0.13, 0.05, 0.20, 0.30],
    [0.35, 0.68, 0.10, 0.10],
    [0.90, 0.90, 0.20, 0.20],
])
dropped = reordered = None
### BEGIN SOLUTION
# Cells: (0, 0), (4, 2), (0, 0), (4, 2), (6, 6): objects 2 and 3 collide with 0 and 1.
dropped = [2, 3]
assert assign_cells(scene, 7).dropped.tolist() == dropped
reordered = scene[(scene[:, 2] * scene[:, 3]).argsort(descending=True)]   # largest first
print("dropped in the given order:", dropped)
### END SOLUTION

# %% tags=["check"]
check.collisions(scene, dropped, reordered, S=7)

# %% [markdown]
# **Exercise 4 — your own encoder.** Without looking back at section 4, write
# `my_encode_targets(boxes, labels, S, C)` returning the `[S, S, 5 + C]` target (a loop over the
# objects is fine). Think about the edges before you run the checker: a centre exactly on a cell
# border, a centre at 1.0, an image with no objects, two centres in one cell.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def my_encode_targets(boxes, labels, S, C):
    ### BEGIN SOLUTION
    target = torch.zeros(S, S, 5 + C, dtype=boxes.dtype)
    for (cx, cy, w, h), label in zip(boxes.tolist(), labels.tolist()):
        row, col = min(int(cy * S), S - 1), min(int(cx * S), S - 1)  # 1.0 stays in the grid
        if target[row, col, 4] == 1:  # the first object listed keeps its cell
            continue
        target[row, col, :5] = torch.tensor([cx * S - col, cy * S - row, w, h, 1.0])
        target[row, col, 5 + label] = 1.0
    return target
    ### END SOLUTION

# %% tags=["check"]
check.encode_targets(my_encode_targets)
