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
# # 01 · Boxes and IoU
#
# ## Learning goals
#
# After this lesson you can:
#
# - write a box as corners (`xyxy`) or as centre and size (`cxcywh`), convert between the two,
#   and say why YOLO predicts centre and size;
# - compute the intersection over union (IoU) of two boxes by hand, then for whole batches
#   with broadcasting, elementwise (`iou`) and pairwise (`box_iou`);
# - explain what GIoU, DIoU and CIoU add to IoU and which failure of IoU each one repairs;
# - recognize degenerate boxes (zero area, inverted corners) and explain why the IoU family must
#   guard its divisions.
#
# **Why this comes first.** A detector's output is a list of boxes, and almost every part of a
# YOLO loss asks one question about them: *how well does this predicted box cover that object?*
# YOLOv1 uses the answer to pick which of a cell's predictors is responsible for an object, and
# as the target of that predictor's confidence ([lesson 03](03_yolov1_loss.ipynb)). Later YOLOs put
# it straight into the box loss as `1 - IoU` or one of its cousins ([lesson 08](08_beyond_v1.ipynb)).
# So before the loss, we need boxes and IoU, and we need to know where IoU breaks.

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

from yolo_lesson.boxes import box_area, box_iou, ciou, cxcywh_to_xyxy, diou, giou, iou, xyxy_to_cxcywh
from yolo_lesson.viz import PALETTE, draw_boxes, image_axes

torch.manual_seed(0)
GT, PRED = PALETTE[0], PALETTE[1]  # blue for ground truth, orange for predictions

# %% [markdown]
# ## 1 · Two ways to write a box
#
# An axis-aligned box needs four numbers. Two choices are common, and the course states which
# one a tensor uses in every docstring:
#
# - **`xyxy`**: $(x_1, y_1, x_2, y_2)$, the top-left and bottom-right corners, with
#   $x_1 \le x_2$ and $y_1 \le y_2$;
# - **`cxcywh`**: $(c_x, c_y, w, h)$, the centre and the size.
#
# Coordinates are normalized to the image: $x$ runs from 0 (left) to 1 (right) and $y$ from
# 0 (top) to 1 (bottom), the way image rows are numbered. The two formats are linked by
#
# $$
# x_1 = c_x - \tfrac{w}{2},\quad y_1 = c_y - \tfrac{h}{2},\quad
# x_2 = c_x + \tfrac{w}{2},\quad y_2 = c_y + \tfrac{h}{2}
# \qquad\Longleftrightarrow\qquad
# c_x = \tfrac{x_1 + x_2}{2},\quad c_y = \tfrac{y_1 + y_2}{2},\quad w = x_2 - x_1,\quad h = y_2 - y_1 .
# $$

# %%
def to_xyxy(boxes):
    """cxcywh -> xyxy, for boxes of shape [..., 4]."""
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def to_cxcywh(boxes):
    """xyxy -> cxcywh, for boxes of shape [..., 4]."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


# %% [markdown]
# `unbind(-1)` splits the last dimension into four tensors of shape `[...]`, and `stack(..., dim=-1)`
# puts them back together, so the same two lines work for one box `[4]`, a list of boxes
# `[K, 4]`, or a whole batch of grids `[N, S, S, B, 4]`. A dog a little left of the image centre:

# %%
dog = torch.tensor([0.45, 0.55, 0.4, 0.5])  # cxcywh
dog_xyxy = to_xyxy(dog)
print("cxcywh:", [round(v, 3) for v in dog.tolist()])
print("xyxy:  ", [round(v, 3) for v in dog_xyxy.tolist()])
print("back:  ", [round(v, 3) for v in to_cxcywh(dog_xyxy).tolist()])

# %% mystnb={"image": {"alt": "One box drawn on an image, labelled both ways: its corners (x1, y1) and (x2, y2), and its centre (cx, cy) with width w and height h marked by arrows."}}
ax = image_axes(size=4.5, title="One box, two descriptions")
draw_boxes(ax, dog_xyxy, color=GT)
x1, y1, x2, y2 = dog_xyxy.tolist()
ax.annotate("$(x_1, y_1)$", (x1, y1), xytext=(x1 - 0.02, y1 - 0.04), ha="right")
ax.annotate("$(x_2, y_2)$", (x2, y2), xytext=(x2 + 0.01, y2 + 0.06))
ax.annotate("$(c_x, c_y)$", (0.45, 0.55), xytext=(0.47, 0.53))
ax.annotate("", (x2, y2 + 0.03), (x1, y2 + 0.03), arrowprops=dict(arrowstyle="<->", color="0.3"))
ax.text(0.45, y2 + 0.07, "$w$", ha="center")
ax.annotate("", (x2 + 0.04, y2), (x2 + 0.04, y1), arrowprops=dict(arrowstyle="<->", color="0.3"))
ax.text(x2 + 0.06, 0.55, "$h$", va="center")
plt.show()

# %% [markdown]
# The package has the same two conversions. We check that they agree with ours on a batch of
# random boxes, and from now on use the package:

# %%
random_cxcywh = torch.rand(6, 4) * torch.tensor([1.0, 1.0, 0.5, 0.5])  # [6, 4]
torch.testing.assert_close(to_xyxy(random_cxcywh), cxcywh_to_xyxy(random_cxcywh))
random_xyxy = cxcywh_to_xyxy(random_cxcywh)
torch.testing.assert_close(to_cxcywh(random_xyxy), xyxy_to_cxcywh(random_xyxy))
print("our conversions match yolo_lesson.boxes")

# %% [markdown]
# ### Why YOLO predicts centre and size
#
# If the same box can be written either way, why does YOLO's output use `cxcywh`?
#
# - **The centre decides who is responsible.** YOLOv1 cuts the image into an $S \times S$ grid
#   and hands each object to the cell that holds its centre. With `cxcywh` the centre is right
#   there; the cell even predicts it as a small offset inside itself
#   ([lesson 02](02_grid_and_targets.ipynb)).
# - **No ordering constraint.** A network that outputs corners can output $x_2 < x_1$, an
#   inverted box. With a centre and a size, any output whose size is kept non-negative (later
#   YOLOs pass it through an exponential or a sigmoid) is a real box.
# - **Position and size are separate questions.** "Where is it?" and "how big is it?" are
#   learned by separate numbers, so each can get its own treatment: YOLOv1 regresses
#   $\sqrt{w}$ and $\sqrt{h}$ so that an error on a small box costs more than the same error
#   on a big one.
#
# Corners, on the other hand, are the convenient form for *comparing* boxes: overlaps are
# maxima and minima of corners. So the loss converts predictions to `xyxy` just before computing IoU.

# %% [markdown]
# ## 2 · Area
#
# The area of an `xyxy` box is $(x_2 - x_1)(y_2 - y_1)$. A network can predict an inverted box,
# and a product of two negative sides would then be a *positive* area. So each side is first
# clamped at zero:
#
# $$ |A| = \max(0,\, x_2 - x_1) \cdot \max(0,\, y_2 - y_1). $$

# %%
def area(boxes):
    """Area of xyxy boxes [..., 4] -> [...]; an inverted box has area 0."""
    width = (boxes[..., 2] - boxes[..., 0]).clamp(min=0)
    height = (boxes[..., 3] - boxes[..., 1]).clamp(min=0)
    return width * height


inverted = torch.tensor([0.6, 0.7, 0.2, 0.3])  # x2 < x1 and y2 < y1
print("area of the dog box:", round(area(dog_xyxy).item(), 4))
print("area of an inverted box:", area(inverted).item(), "(unclamped: (-0.4) · (-0.4) = 0.16)")
torch.testing.assert_close(area(to_xyxy(random_cxcywh)), box_area(cxcywh_to_xyxy(random_cxcywh)))

# %% [markdown]
# ## 3 · IoU by hand
#
# The **intersection over union** of two boxes $A$ and $B$ is the area they share divided by
# the area they cover together:
#
# $$ \mathrm{IoU}(A, B) = \frac{|A \cap B|}{|A \cup B|} = \frac{|A \cap B|}{|A| + |B| - |A \cap B|}. $$
#
# It is 1 when the boxes coincide, 0 when they do not touch, and it does not care about units:
# scale both boxes by the same factor and the ratio stays the same. Let us do one by hand on
# an 8 × 7 pixel canvas, where every corner sits on whole pixels.

# %% mystnb={"image": {"alt": "Two boxes on a pixel grid, A from (1, 1) to (5, 4) and B from (3, 2) to (7, 6); their overlap, the 2 by 2 square from (3, 2) to (5, 4), is shaded as A \u2229 B."}}
A = torch.tensor([1.0, 1.0, 5.0, 4.0])  # xyxy, pixels
B = torch.tensor([3.0, 2.0, 7.0, 6.0])

fig, ax = plt.subplots(figsize=(5.5, 4.8))
ax.set_xlim(0, 8), ax.set_ylim(7, 0), ax.set_aspect("equal")
ax.set_xticks(range(9)), ax.set_yticks(range(8)), ax.grid(color="0.85"), ax.set_axisbelow(True)
ax.fill_between([3, 5], 2, 4, color=PALETTE[2], alpha=0.35, label="$A \\cap B$")
draw_boxes(ax, torch.stack([A, B]), color=[GT, PRED], labels=["A", "B"], centres=False)
ax.set_xlabel("x (pixels)"), ax.set_ylabel("y (pixels)"), ax.legend(loc="lower left")
ax.set_title("A = (1, 1, 5, 4) and B = (3, 2, 7, 6)")
plt.show()

# %% [markdown]
# Step by step:
#
# 1. The intersection is itself a box: its left edge is the *larger* of the two left edges,
#    its right edge the *smaller* of the two right edges, and likewise for top and bottom:
#    $x$ from $\max(1, 3) = 3$ to $\min(5, 7) = 5$, $y$ from $\max(1, 2) = 2$ to $\min(4, 6) = 4$.
# 2. Its area is $(5 - 3)(4 - 2) = 4$ pixels (the green square).
# 3. $|A| = 4 \cdot 3 = 12$ and $|B| = 4 \cdot 4 = 16$.
# 4. The union counts the shared part once: $12 + 16 - 4 = 24$.
# 5. $\mathrm{IoU} = 4 / 24 = 1/6 \approx 0.167$.
#
# The same steps in code:

# %%
left, top = torch.maximum(A[0], B[0]), torch.maximum(A[1], B[1])
right, bottom = torch.minimum(A[2], B[2]), torch.minimum(A[3], B[3])
inter = (right - left).clamp(min=0) * (bottom - top).clamp(min=0)
union = area(A) + area(B) - inter
print(f"intersection: x from {left:.0f} to {right:.0f}, y from {top:.0f} to {bottom:.0f}")
print(f"|A ∩ B| = {inter:.0f}, |A| = {area(A):.0f}, |B| = {area(B):.0f}, |A ∪ B| = {union:.0f}")
print(f"IoU = {inter:.0f}/{union:.0f} = {inter / union:.4f}")

# %% [markdown]
# The `clamp(min=0)` matters when the boxes do not overlap: then "right" is left of "left",
# the difference is negative, and the intersection must be 0, not a negative width times a
# negative height.

# %% [markdown]
# ## 4 · IoU for many boxes at once
#
# Written with `[..., :2]` (top-left corners) and `[..., 2:]` (bottom-right corners), the hand
# calculation works for tensors of boxes unchanged. `torch.maximum` and `torch.minimum`
# broadcast, so `a` and `b` only need *broadcastable* leading shapes.

# %%
def inter_union(a, b):
    """Intersection and union areas of xyxy boxes a [..., 4] and b [..., 4] (broadcastable)."""
    top_left = torch.maximum(a[..., :2], b[..., :2])  # [..., 2]
    bottom_right = torch.minimum(a[..., 2:], b[..., 2:])  # [..., 2]
    overlap = (bottom_right - top_left).clamp(min=0)  # [..., 2]: overlap width and height
    inter = overlap[..., 0] * overlap[..., 1]
    return inter, area(a) + area(b) - inter


def iou_inline(a, b):
    inter, union = inter_union(a, b)
    return inter / union


# %% [markdown]
# Two broadcasting patterns cover everything a detector needs:
#
# - **elementwise**: `a` and `b` have the same shape `[K, 4]` (prediction $k$ against target $k$),
#   or one of them is a single box `[4]`: the result is `[K]`;
# - **pairwise**: insert a dimension of size one on each side, `a[:, None]` is `[N, 1, 4]` and
#   `b[None, :]` is `[1, M, 4]`, so they broadcast to `[N, M, 4]`: every box of `a` against
#   every box of `b`, result `[N, M]`.

# %%
def random_boxes(n):
    """n random xyxy boxes [n, 4] inside the unit square."""
    centre = 0.25 + 0.5 * torch.rand(n, 2)
    size = 0.1 + 0.35 * torch.rand(n, 2)
    return torch.cat([centre - size / 2, centre + size / 2], dim=-1)


preds, targets = random_boxes(5), random_boxes(3)
print("elementwise: [5, 4] vs [4]       ->", tuple(iou_inline(preds, targets[0]).shape))
pairwise = iou_inline(preds[:, None], targets[None, :])
print("pairwise:    [5, 1, 4] vs [1, 3, 4] ->", tuple(pairwise.shape))

# %% [markdown]
# The package offers both, with the shape in the name: `iou(a, b)` is elementwise and
# broadcasts; `box_iou(boxes1, boxes2)` takes `[N, 4]` and `[M, 4]` and returns `[N, M]`.
# Both agree with our version:

# %%
torch.testing.assert_close(iou_inline(preds, targets[0]), iou(preds, targets[0]))
torch.testing.assert_close(iou_inline(preds[:, None], targets[None, :]), box_iou(preds, targets))
torch.testing.assert_close(iou_inline(A, B), torch.tensor(1 / 6))
print("iou and box_iou match the inline version")

# %% [markdown]
# A pairwise IoU matrix is best read as a heatmap. Here are four objects and seven predictions
# near them; each row of the matrix is one prediction, each column one object. The brightest
# cell of a column is the prediction that covers that object best. YOLOv1 makes this very
# choice among the predictors of an object's cell to decide which one is *responsible* for it.

# %%
objects = torch.tensor([
    [0.08, 0.12, 0.36, 0.42], [0.52, 0.1, 0.9, 0.36], [0.12, 0.56, 0.42, 0.88], [0.58, 0.52, 0.88, 0.86],
])  # [4, 4] xyxy
jitter = 0.06 * torch.randn(7, 4)  # [7, 4]
guesses = objects[torch.tensor([0, 0, 1, 2, 2, 3, 3])] + jitter  # two guesses near most objects
guesses = guesses.clamp(0, 1)  # keep them in the image
matrix = box_iou(guesses, objects)  # [7, 4]: row i, column j is IoU(guess i, object j)
print("best prediction for each object:", matrix.argmax(dim=0).tolist())

# %%
def draw_scene(ax):
    image_axes(ax, title="objects (blue) and predictions (orange)")
    draw_boxes(ax, objects, color=GT, centres=False)
    draw_boxes(ax, guesses, color=PRED, lw=1.2, centres=False, linestyle="--")
    for j, (cx, cy) in enumerate(xyxy_to_cxcywh(objects)[:, :2].tolist()):
        ax.text(cx, cy, f"obj {j}", color=GT, ha="center", va="center", fontsize=11, weight="bold")
    for i, (x1, y1, x2, y2) in enumerate(guesses.tolist()):  # labels alternate between two corners
        x, y, ha, va = (x2 + 0.01, y2, "left", "bottom") if i % 2 else (x1 - 0.01, y1, "right", "top")
        ax.text(x, y, f"p{i}", color=PRED, ha=ha, va=va, fontsize=9)


def draw_heatmap(ax, matrix):
    image = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=1)
    for i, row in enumerate(matrix.tolist()):
        for j, value in enumerate(row):
            colour = "white" if value < 0.5 else "black"
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", color=colour)
    ax.set_xticks(range(4), [f"obj {j}" for j in range(4)])
    ax.set_yticks(range(7), [f"p{i}" for i in range(7)])
    ax.set_title("box_iou(predictions, objects): [7, 4]")
    return image


# %% mystnb={"image": {"alt": "Left: four objects (solid) and seven predictions (dashed). Right: a heat map of the 7 by 4 IoU matrix, one row per prediction and one column per object, each value written in its square, colour bar from 0 to 1."}}
fig, (left_ax, right_ax) = plt.subplots(1, 2, figsize=(10, 4.3))
draw_scene(left_ax)
fig.colorbar(draw_heatmap(right_ax, matrix), ax=right_ax, label="IoU")
plt.tight_layout()
plt.show()

# %% [markdown]
# Most entries are exactly 0: a prediction and an object far apart simply do not overlap.
# That zero is harmless when IoU is only used to *choose*. It becomes a problem the moment
# IoU is used as a *loss*, as the next section shows.

# %% [markdown]
# ## 5 · Where IoU fails as a loss, and GIoU, DIoU, CIoU
#
# The obvious box loss is $\mathcal{L}_\mathrm{IoU} = 1 - \mathrm{IoU}$: 0 for a perfect box,
# 1 for a miss. Its weakness shows when we slide a predicted box horizontally past a fixed
# ground-truth box and watch the value.

# %% [markdown]
# ### (a) Disjoint boxes: GIoU
#
# Once the boxes stop overlapping, IoU is 0 whether the prediction is just next to the target or
# on the other side of the image. A flat function has zero gradient: gradient descent gets no hint
# which way to move the box. Rezatofighi et al. (2019) proposed the **generalized IoU**: let $C$ be
# the smallest box enclosing both $A$ and $B$ (their "hull") and subtract the fraction of $C$ that
# neither box covers:
#
# $$ \mathrm{GIoU}(A, B) = \mathrm{IoU}(A, B) - \frac{|C| - |A \cup B|}{|C|}. $$
#
# As the boxes drift apart, $C$ grows while $A \cup B$ does not, so GIoU keeps falling towards
# $-1$. It equals IoU when one box contains the other, because then $C = A \cup B$.

# %%
def enclosing(a, b):
    """Smallest box enclosing a and b, xyxy [..., 4]."""
    top_left = torch.minimum(a[..., :2], b[..., :2])
    bottom_right = torch.maximum(a[..., 2:], b[..., 2:])
    return torch.cat([top_left, bottom_right], dim=-1)


def giou_inline(a, b):
    inter, union = inter_union(a, b)
    hull = area(enclosing(a, b))
    return inter / union - (hull - union) / hull


# %% [markdown]
# ### (b) Centre distance: DIoU
#
# GIoU has its own blind spot, pointed out by Zheng et al. (2020): when one box lies inside the
# other, $C = A \cup B$ and GIoU is just IoU again, whatever the position inside. GIoU also reaches
# its target slowly: it first *grows* the prediction to cover the target, then shrinks it. The
# **distance IoU** penalizes the distance between the centres directly. With $\rho$ the distance
# between the two centres and $c$ the diagonal of the enclosing box $C$:
#
# $$ \mathrm{DIoU}(A, B) = \mathrm{IoU}(A, B) - \frac{\rho^2}{c^2}. $$
#
# Dividing by $c^2$ keeps the penalty in $[0, 1)$ and makes it scale invariant, like IoU itself.

# %%
def centre_penalty(a, b):
    """rho² / c²: squared centre distance over the squared diagonal of the enclosing box."""
    rho2 = ((to_cxcywh(a)[..., :2] - to_cxcywh(b)[..., :2]) ** 2).sum(-1)
    c2 = (to_cxcywh(enclosing(a, b))[..., 2:] ** 2).sum(-1)  # width² + height² of C
    return rho2 / c2


def diou_inline(a, b):
    return iou_inline(a, b) - centre_penalty(a, b)


# %% [markdown]
# Both inline versions agree with the package on random boxes, overlapping and not:

# %%
a, b = random_boxes(200), random_boxes(200)
torch.testing.assert_close(giou_inline(a, b), giou(a, b))
torch.testing.assert_close(diou_inline(a, b), diou(a, b))
print(f"{(iou(a, b) == 0).sum()} of 200 random pairs are disjoint; giou and diou match the package")

# %% [markdown]
# Now the experiment: a ground-truth box of width 0.3 and a prediction of the same size, slid
# horizontally from far left to far right. Left panel: the values. Right panel: the gradient of
# each loss $1 - \text{value}$ with respect to the prediction's horizontal offset, from autograd.
# All offsets are computed in one batch: `offsets` is `[201]`, the boxes `[201, 4]`. (CIoU, from
# section (c), coincides with DIoU here: the two boxes have the same shape.)

# %%
truth = torch.tensor([0.35, 0.4, 0.65, 0.6])  # xyxy, width 0.3
offsets = torch.linspace(-0.6, 0.6, 201, requires_grad=True)  # [201]
shift = torch.stack([offsets, torch.zeros_like(offsets)] * 2, dim=-1)  # [201, 4]: (dx, 0, dx, 0)
slid = truth + shift  # [201, 4]
family = {"IoU": iou, "GIoU": giou, "DIoU": diou}
values, grads = {}, {}
for name, fn in family.items():
    value = fn(slid, truth)
    (grads[name],) = torch.autograd.grad((1 - value).sum(), offsets)
    values[name] = value.detach()

# %% mystnb={"image": {"alt": "Two line charts over the horizontal offset of a predicted box. Left: IoU, GIoU, DIoU and CIoU; in the grey bands, where the boxes do not overlap, IoU is flat at 0 while the others keep falling. Right: the gradient of each loss; IoU's is zero in the grey bands, the others' are not."}}
fig, (ax_v, ax_g) = plt.subplots(1, 2, figsize=(11, 4))
x = offsets.detach()
for (name, value), color in zip(values.items(), PALETTE[1:]):
    ax_v.plot(x, value, color=color, lw=2, label=name)
    ax_g.plot(x, grads[name], color=color, lw=2, label=f"d(1 - {name})/dx")
for ax in (ax_v, ax_g):
    ax.axvspan(-0.6, -0.3, color="0.92"), ax.axvspan(0.3, 0.6, color="0.92")
    ax.axhline(0, color="0.5", lw=0.8), ax.set_xlabel("horizontal offset of the prediction")
ax_v.legend(loc="lower center"), ax_g.legend(loc="upper left", fontsize=9)
ax_v.set_title("value (grey: the boxes do not overlap)"), ax_g.set_title("gradient of the loss")
plt.tight_layout()
plt.show()

# %% [markdown]
# In the grey regions the IoU curve is flat at 0 and its gradient is *exactly* zero, while
# GIoU and DIoU keep a slope. Its sign points back towards the target: to the right of the
# target the loss grows with the offset (positive gradient), so gradient descent, which steps
# against the gradient, moves the box left; to the left, the other way round. The numbers at
# two offsets to the right:

# %%
def shifted(dx):
    """The ground truth moved right by dx (a 0-dim tensor): xyxy [4]."""
    zero = torch.zeros(())
    return truth + torch.stack([dx, zero, dx, zero])


for offset in (0.15, 0.45):
    report = f"offset {offset}: IoU {iou(shifted(torch.tensor(offset)), truth):.3f};  d(1 - value)/dx:"
    for name, fn in family.items():
        dx = torch.tensor(offset, requires_grad=True)
        (1 - fn(shifted(dx), truth)).backward()
        report += f"  {name} {dx.grad:+.3f}"
    print(report)

# %% [markdown]
# At offset 0.45 the prediction is entirely beside the target: $1 - \mathrm{IoU}$ gives a
# gradient of exactly 0, so a network trained on it would never learn to move this box.
# GIoU and DIoU both say "move left".
#
# Now DIoU's own point: the three predictions below sit entirely inside the ground truth, at
# different places. Their IoU is the same, and because the hull is the ground-truth box itself,
# their GIoU is the same too. Only DIoU (dashed line: $\rho$, dotted: $c$) tells them apart.

# %% mystnb={"image": {"alt": "Three panels, each a small box inside the same large box at a different place. The titles show IoU and GIoU equal in all three, while DIoU differs with the distance between the centres, drawn as a dashed line."}}
big = torch.tensor([0.15, 0.2, 0.85, 0.8])
insiders = torch.tensor([[0.4, 0.4, 0.6, 0.6], [0.55, 0.25, 0.75, 0.45], [0.2, 0.55, 0.4, 0.75]])
fig, axes = plt.subplots(1, 3, figsize=(11, 3.9))
for ax, inner in zip(axes, insiders):
    scores = [f(inner, big).item() for f in (iou, giou, diou)]
    image_axes(ax, title="IoU {:.3f}  GIoU {:.3f}\nDIoU {:.3f}".format(*scores))
    draw_boxes(ax, big, color=GT), draw_boxes(ax, inner, color=PRED)
    centres = torch.stack([xyxy_to_cxcywh(inner)[:2], xyxy_to_cxcywh(big)[:2]])  # [2, 2]
    ax.plot(centres[:, 0], centres[:, 1], "--", color="0.2")  # rho: centre to centre
    x1, y1, x2, y2 = enclosing(inner, big).tolist()
    ax.plot([x1, x2], [y1, y2], ":", color="0.4")  # c: the enclosing box's diagonal
plt.tight_layout()
plt.show()

# %% [markdown]
# ### (c) Aspect ratio: CIoU
#
# Overlap and centre are two of the three things that make a box right; the third is its
# shape. Zheng et al. (2020) add a term that compares aspect ratios through their angle
# $\arctan(w/h)$, which lies in $(0, \pi/2)$ for any box, however elongated:
#
# $$
# v = \frac{4}{\pi^2}\left(\arctan\frac{w_A}{h_A} - \arctan\frac{w_B}{h_B}\right)^2,
# \qquad
# \alpha = \frac{v}{(1 - \mathrm{IoU}) + v},
# \qquad
# \mathrm{CIoU} = \mathrm{IoU} - \frac{\rho^2}{c^2} - \alpha v .
# $$
#
# The factor $4/\pi^2$ scales $v$ into $[0, 1)$: the angles differ by less than $\pi/2$.
# The weight $\alpha$ is small while the boxes overlap poorly ($1 - \mathrm{IoU}$ large), so
# early in training overlap and position come first, and the shape matters once the box is close.

# %%
def aspect_angle(boxes):
    """arctan(w / h) of xyxy boxes [..., 4]."""
    _, _, w, h = to_cxcywh(boxes).unbind(-1)
    return torch.atan(w / h)


def ciou_inline(a, b):
    overlap = iou_inline(a, b)
    v = 4 / math.pi**2 * (aspect_angle(a) - aspect_angle(b)) ** 2
    alpha = v / ((1 - overlap) + v)
    return overlap - centre_penalty(a, b) - alpha * v


torch.testing.assert_close(ciou_inline(a, b), ciou(a, b))
print("ciou matches the package")

# %% [markdown]
# A figure makes the point. The ground truth is a square of side 0.4. Each prediction below has
# the **same centre** and the **same IoU of 1/2** with it: a smaller square inside, a larger square
# around it, a wide box and a tall box. IoU and DIoU cannot tell them apart; CIoU prefers the
# two squares, whose shape is right. (CIoU here equals DIoU minus the shape penalty, because
# the centres coincide and $\rho = 0$.)
#
# For the wide box, a width $w > s$ and height $h < s$ around a square of side $s$ overlap in
# $s h$, so $\mathrm{IoU} = \frac{s h}{s^2 + w h - s h} = \frac12$ gives $h = \frac{s^2}{3s - w}$.

# %%
s, w_wide = 0.4, 0.6
h_wide = s**2 / (3 * s - w_wide)
square = cxcywh_to_xyxy(torch.tensor([0.5, 0.5, s, s]))
same_iou = cxcywh_to_xyxy(torch.tensor([
    [0.5, 0.5, s / math.sqrt(2), s / math.sqrt(2)],  # smaller square: IoU = 1/2 by area
    [0.5, 0.5, s * math.sqrt(2), s * math.sqrt(2)],  # larger square around it
    [0.5, 0.5, w_wide, h_wide],  # wide
    [0.5, 0.5, h_wide, w_wide],  # tall
]))  # [4, 4] xyxy
torch.testing.assert_close(iou(same_iou, square), torch.full((4,), 0.5))

# %% mystnb={"image": {"alt": "Four panels, each a predicted box against the same square ground truth with the same IoU but a different shape or place; the titles list IoU, GIoU, DIoU and CIoU for each."}}
fig, axes = plt.subplots(1, 4, figsize=(13, 3.9))
for ax, prediction in zip(axes, same_iou):
    scores = [f(prediction, square).item() for f in (iou, giou, diou, ciou)]
    title = "IoU {:.3f}  GIoU {:.3f}\nDIoU {:.3f}  CIoU {:.3f}".format(*scores)
    image_axes(ax, title=title)
    draw_boxes(ax, square, color=GT), draw_boxes(ax, prediction, color=PRED)
plt.tight_layout()
plt.show()

# %% [markdown]
# IoU and DIoU cannot tell the four apart. GIoU does, but for an unrelated reason: the
# enclosing box of the wide and tall predictions has empty corners, so it rates them lower. It
# would do the same for two squares offset diagonally; it does not look at shapes. CIoU's gap
# is small here because $\alpha \approx 0.1$ at IoU $1/2$; as the IoU approaches 1, $\alpha$
# approaches 1 and the shape counts fully. The penalty $v$ depends only on the two angles;
# here it is as a function of the prediction's width-to-height ratio, against a square ground truth:

# %% mystnb={"image": {"alt": "A curve of CIoU's aspect-ratio penalty v against the prediction's width-to-height ratio on a log axis: zero at ratio 1 (the square ground truth) and rising on both sides."}}
ratios = torch.logspace(-1, 1, 200)  # w/h from 1/10 to 10
v_curve = 4 / math.pi**2 * (torch.atan(ratios) - math.pi / 4) ** 2
fig, ax = plt.subplots(figsize=(6, 3.3))
ax.semilogx(ratios, v_curve, color=PALETTE[3], lw=2)
ax.set_xlabel("prediction's w / h (ground truth: a square, w / h = 1)"), ax.set_ylabel("$v$")
ax.set_title("CIoU's aspect-ratio penalty"), ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ### (d) Try it: the IoU playground
#
# Drag either box by its body or resize it by a corner. The table gives the four values, their
# losses ($1 - \text{value}$) and how hard each loss pulls on the prediction's centre; each arrow
# is the direction one step of gradient descent on that loss moves the centre. The table's first
# column is the legend: each loss has its own colour *and* dash pattern. Drag the boxes apart:
# IoU's arrow disappears (its loss is flat at 1) while GIoU's and DIoU's keep pointing at the
# target.
#
# Some arrows coincide, and the widget draws wider arrows under narrower ones so that you still
# see each as a stripe. DIoU's and CIoU's nearly always do: CIoU adds to DIoU a penalty on the
# difference of the aspect ratios, which depends on the widths and heights only and reaches the
# centre only through its weight $\alpha$. For two boxes of one aspect ratio (the squares at
# the start) that penalty is 0 with a zero gradient, and the arrows are one; for a 0.3 × 0.5
# target and a 0.5 × 0.25 prediction their tips differ by 0.0001 of the image (computed with
# `iou_playground((0.2, 0.2, 0.5, 0.7), (0.3, 0.35, 0.8, 0.6))`).
#
# Every number comes from `yolo_lesson.boxes` and autograd, through
# `yolo_lesson.playground.iou_playground`. In JupyterLab the widget computes as you drag. On
# the website, which has no Python, it shows answers recorded ahead of time
# (`record=True`): the prediction's centre on a grid 0.02 apart, the drag snapping to it; the
# target stays where it is. The still picture below shows the disjoint case.

# %%
from yolo_lesson.playground import iou_playground
from yolo_lesson.viz import draw_arrows
from yolo_lesson.widgets import LOSS_STYLES, IoUPlayground

IoUPlayground(record=True)

# %% mystnb={"image": {"alt": "A target box and a prediction box that do not overlap, with an arrow per loss from the prediction's centre: GIoU's and DIoU's arrows point towards the target, IoU's has no length."}}
NAMES = {"iou": "IoU", "giou": "GIoU", "diou": "DIoU", "ciou": "CIoU"}
target_box, pred_box = (0.10, 0.15, 0.40, 0.45), (0.55, 0.50, 0.85, 0.80)
pull = iou_playground(target_box, pred_box)
ax = image_axes(size=4.5, title="disjoint boxes: where each loss moves the prediction")
draw_boxes(ax, torch.tensor([target_box, pred_box]), color=[PALETTE[2], PALETTE[0]], labels=["target", "prediction"])
for name, arrow in pull.arrows.items():
    draw_arrows(ax, [arrow], LOSS_STYLES[name]["color"])
    ax.plot([], [], color=LOSS_STYLES[name]["color"], label=f"{NAMES[name]} loss {pull.losses[name]:.2f}")
ax.legend(loc="lower left", fontsize=8)
plt.show()
for name in ("iou", "giou"):  # ∂loss/∂(x1, y1, x2, y2) of the prediction; + 0.0 turns -0.0 into 0.0
    print(f"{NAMES[name]:>4} loss gradient:", [round(g, 3) + 0.0 for g in pull.grads[name]])

# %% [markdown]
# ## 6 · Degenerate boxes, and why the package guards its divisions
#
# A network in training predicts anything: boxes of zero width, boxes shrunk to a point,
# inverted boxes. Our inline IoU divides by the union, and two boxes of zero area have a union of
# 0, so $0/0$ gives `nan`. A `nan` that reaches the gradient poisons every weight at the next step
# (a NaN loss value alone does not always: [lesson 05](05_what_goes_wrong.ipynb), section 2, shows a
# NaN loss whose gradient stays finite). (An inverted
# box against a real one is harmless: its clamped area is 0 and the union is the other box.)

# %%
point = torch.tensor([0.5, 0.5, 0.5, 0.5])  # a box shrunk to a point
flipped = torch.tensor([0.6, 0.6, 0.4, 0.4])  # inverted: x2 < x1, y2 < y1, area 0
print("inline IoU, point vs point:        ", iou_inline(point, point).item())
print("inline GIoU, point vs point:       ", giou_inline(point, point).item())
print("inline IoU, inverted vs real box:  ", iou_inline(flipped, truth).item())
segment = torch.tensor([0.2, 0.5, 0.6, 0.5])  # zero height: a horizontal line
print("inline CIoU, segment vs itself:    ", ciou_inline(segment, segment).item())

# %% [markdown]
# The package guards every division: where a denominator (union, enclosing area, $c^2$) is 0, the
# numerator is 0 too, and it returns 0 with a finite gradient instead of $0/0$. It does *not*
# add a small epsilon to every denominator (`union + 1e-7`, a common habit): that would quietly
# change the IoU of small boxes and break the scale invariance we relied on above. The inverted
# box counts as empty, thanks to the clamped area; and the aspect angle of a zero-height box is
# computed as $\arctan(w/h) \to \pi/2$ without dividing by zero.

# %%
for name, fn in {"iou": iou, "giou": giou, "diou": diou, "ciou": ciou}.items():
    p = point.clone().requires_grad_(True)
    q = flipped.clone().requires_grad_(True)
    value = fn(p, point) + fn(q, truth)
    value.backward()
    finite = bool(torch.isfinite(p.grad).all() and torch.isfinite(q.grad).all())
    print(f"{name:5s} point vs point: {fn(point, point):+.3f}   inverted vs box: {fn(flipped, truth):+.3f}"
          f"   segment vs itself: {fn(segment, segment):+.3f}   finite gradients: {finite}")

# %% [markdown]
# From here on the course uses the package versions, `iou`, `giou`, `diou`, `ciou` and
# `box_iou` from `yolo_lesson.boxes`. One last picture of the family on random pairs: each
# variant only subtracts a non-negative penalty from IoU, so $\mathrm{GIoU} \le \mathrm{IoU}$ and
# $\mathrm{CIoU} \le \mathrm{DIoU} \le \mathrm{IoU}$, and all of them are 1 only for identical boxes.

# %% mystnb={"image": {"alt": "A scatter of 300 random box pairs: GIoU, DIoU and CIoU against IoU. Every point lies on or below the diagonal line where the variant equals IoU."}}
a, b = random_boxes(300), random_boxes(300)
fig, ax = plt.subplots(figsize=(5.5, 4.5))
for (name, fn), color in zip({"GIoU": giou, "DIoU": diou, "CIoU": ciou}.items(), PALETTE[1:]):
    ax.scatter(iou(a, b), fn(a, b), s=8, color=color, alpha=0.6, label=name)
ax.plot([0, 1], [0, 1], color="0.4", lw=1, label="variant = IoU")
ax.set_xlabel("IoU"), ax.set_ylabel("variant"), ax.legend()
ax.set_title("300 random pairs: every variant lies at or below IoU")
plt.show()
assert (giou(a, b) <= iou(a, b)).all() and (diou(a, b) <= iou(a, b)).all()
assert (ciou(a, b) <= diou(a, b)).all()

# %% [markdown]
# ## Summary
#
# - A box is `xyxy` (corners) or `cxcywh` (centre and size); converting is two lines each way.
#   YOLO predicts centre and size: the centre picks the responsible cell, the size cannot invert,
#   and position and size are learned separately. Overlaps are computed on corners.
# - Area clamps each side at zero, so an inverted box is empty rather than positive.
# - $\mathrm{IoU} = |A \cap B| / (|A| + |B| - |A \cap B|)$; the intersection's corners are the
#   max of the top-left corners and the min of the bottom-right ones.
# - With broadcasting the same code gives elementwise IoU (`iou`, `[...]`) and pairwise IoU
#   (`a[:, None]` against `b[None, :]`, i.e. `box_iou`, `[N, M]`).
# - $1 - \mathrm{IoU}$ has zero gradient for disjoint boxes. GIoU (Rezatofighi et al., 2019)
#   subtracts the empty part of the enclosing box; DIoU (Zheng et al., 2020) subtracts $\rho^2/c^2$,
#   the normalized centre distance; CIoU (same paper) also subtracts $\alpha v$, an aspect-ratio
#   mismatch.
# - Degenerate boxes make $0/0$; the package guards exactly those divisions and nothing else.
#
# **References.** H. Rezatofighi, N. Tsoi, J. Gwak, A. Sadeghian, I. Reid, S. Savarese,
# "Generalized Intersection over Union: A Metric and A Loss for Bounding Box Regression", CVPR 2019.
# Z. Zheng, P. Wang, W. Liu, J. Li, R. Ye, D. Ren, "Distance-IoU Loss: Faster and Better
# Learning for Bounding Box Regression", AAAI 2020.
#
# Next: [lesson 02](02_grid_and_targets.ipynb) puts these boxes on the YOLO grid.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for your answer, followed by a checker cell that runs it on hidden cases
# and, when one fails, shows that case, the expected and the received value, and a hint. In the
# lesson the answer cells hold a solution and start folded: click the cell's left edge to open one.

# %%
from yolo_lesson import check

# %% [markdown]
# **Exercise 1 — IoU by hand, then from memory.** Take $A = (0, 0, 4, 2)$ and $B = (2, 1, 5, 4)$ in pixels.
# Work out the intersection box, its area, the two areas, the union and the IoU as a fraction, on
# paper first. Then, without scrolling up, write `my_iou(a, b)` for elementwise `xyxy` boxes
# `[..., 4]` (with the guard of section 6), check your fraction with it, and run the checker.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def my_iou(a, b):
    ### BEGIN SOLUTION
    top_left = torch.maximum(a[..., :2], b[..., :2])
    bottom_right = torch.minimum(a[..., 2:], b[..., 2:])
    overlap = (bottom_right - top_left).clamp(min=0)  # [..., 2]
    inter = overlap[..., 0] * overlap[..., 1]
    union = area(a) + area(b) - inter
    return inter / torch.where(union > 0, union, torch.ones_like(union))
    ### END SOLUTION


### BEGIN SOLUTION
# Intersection: x from max(0, 2) = 2 to min(4, 5) = 4, y from max(0, 1) = 1 to min(2, 4) = 2: 2 × 1 = 2.
# |A| = 4 × 2 = 8, |B| = 3 × 3 = 9, union = 8 + 9 - 2 = 15, IoU = 2/15.
value = my_iou(torch.tensor([0.0, 0.0, 4.0, 2.0]), torch.tensor([2.0, 1.0, 5.0, 4.0])).item()
print(f"IoU = 2/15 = {2 / 15:.4f}; my_iou gives {value:.4f}")
### END SOLUTION

# %% tags=["check"]
check.iou(my_iou)

# %% [markdown]
# **Exercise 2 — pairwise IoU via broadcasting.** Write `pairwise_iou(boxes1, boxes2)` for `[N, 4]` and
# `[M, 4]` boxes returning `[N, M]`, *without* calling `iou` or `box_iou`: insert the right
# `None` dimensions, then follow the steps of section 3.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def pairwise_iou(boxes1, boxes2):
    ### BEGIN SOLUTION
    a, b = boxes1[:, None, :], boxes2[None, :, :]  # [N, 1, 4] and [1, M, 4]
    bottom_right = torch.minimum(a[..., 2:], b[..., 2:])  # [N, M, 2]
    wh = (bottom_right - torch.maximum(a[..., :2], b[..., :2])).clamp(min=0)  # [N, M, 2]
    inter = wh[..., 0] * wh[..., 1]  # [N, M]
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])  # [N]
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])  # [M]
    return inter / (area1[:, None] + area2[None, :] - inter)
    ### END SOLUTION

# %% tags=["check"]
check.pairwise_iou(pairwise_iou)

# %% [markdown]
# **Exercise 3 — same IoU, different GIoU.** Find a ground-truth box `truth_box` and two predictions
# `first` and `second` with *equal* IoU (and, to make it interesting, an IoU above 0) but *different*
# GIoU, and set `preferred` to the one a GIoU loss prefers (`"first"` or `"second"`). Say why in a
# comment. (Hint: section 5a.)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
truth_box = first = second = preferred = None
### BEGIN SOLUTION
# A half-shifted square (hull = union, GIoU = IoU = 1/3) and a diagonal shift with the same IoU:
# shifted by d on both axes, the overlap is (1 - d)² = 1/2, the union 3/2, the IoU 1/3. The
# diagonal one leaves two empty corners in its hull, so its GIoU is lower: the loss prefers `first`.
truth_box = torch.tensor([0.0, 0.0, 1.0, 1.0])
first = torch.tensor([0.5, 0.0, 1.5, 1.0])
second = truth_box + (1 - math.sqrt(0.5))
preferred = "first"
print(f"IoU {iou(first, truth_box):.4f} and {iou(second, truth_box):.4f}; "
      f"GIoU {giou(first, truth_box):.4f} and {giou(second, truth_box):.4f}")
### END SOLUTION

# %% tags=["check"]
check.same_iou_different_giou(truth_box, first, second, preferred)

# %% [markdown]
# **Exercise 4 — CIoU's α.** For the wide prediction of section 5c, compute $v$, $\alpha$ and the CIoU by
# hand from the formulas (use `math.atan`) in `ciou_by_hand(w, h, overlap, rho2_over_c2=0, s=0.4)`,
# for a `w × h` box against a square of side `s`, and check against `ciou`. Then move the wide box
# down by 0.1 so that its IoU falls: does $\alpha$ go up or down, and why is that a sensible choice?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def ciou_by_hand(w, h, overlap, rho2_over_c2=0.0, s=0.4):
    ### BEGIN SOLUTION
    v = 4 / math.pi**2 * (math.atan(w / h) - math.atan(s / s)) ** 2
    alpha = v / ((1 - overlap) + v) if v > 0 else 0.0
    return v, alpha, overlap - rho2_over_c2 - alpha * v
    ### END SOLUTION


### BEGIN SOLUTION
v, alpha, value = ciou_by_hand(w_wide, h_wide, overlap=0.5)
assert abs(value - ciou(same_iou[2], square).item()) < 1e-6
moved = same_iou[2] + torch.tensor([0.0, 0.1, 0.0, 0.1])  # now sticks out below the square
_, alpha_moved, _ = ciou_by_hand(w_wide, h_wide, overlap=iou(moved, square).item())
# Lower IoU -> larger 1 - IoU -> smaller α: overlap first, shape later.
print(f"v = {v:.4f}, α = {alpha:.4f} -> {alpha_moved:.4f} after the move, CIoU = {value:.4f}")
### END SOLUTION

# %% tags=["check"]
check.ciou_by_hand(ciou_by_hand)

# %% [markdown]
# **Exercise 5 — GIoU from its definition.** Write `my_giou(a, b)` for elementwise `xyxy` boxes
# `[..., 4]` (broadcasting like `iou`), from the definition of section 5a: the IoU minus the share
# of the enclosing box $C$ that the union leaves empty. You may call your `my_iou`.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def my_giou(a, b):
    ### BEGIN SOLUTION
    hull_wh = torch.maximum(a[..., 2:], b[..., 2:]) - torch.minimum(a[..., :2], b[..., :2])  # [..., 2]
    hull = hull_wh[..., 0] * hull_wh[..., 1]
    overlap = (torch.minimum(a[..., 2:], b[..., 2:]) - torch.maximum(a[..., :2], b[..., :2])).clamp(min=0)
    inter = overlap[..., 0] * overlap[..., 1]
    union = area(a) + area(b) - inter
    return my_iou(a, b) - (hull - union) / hull
    ### END SOLUTION

# %% tags=["check"]
check.giou(my_giou)

# %% [markdown]
# **Exercise 6 — centre format to corners.** Write `my_cxcywh_to_xyxy(boxes)` for boxes `[..., 4]`
# in `(cx, cy, w, h)`, returning `(x1, y1, x2, y2)` for any leading shape, without changing its input.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def my_cxcywh_to_xyxy(boxes):
    ### BEGIN SOLUTION
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)
    ### END SOLUTION

# %% tags=["check"]
check.box_convert(my_cxcywh_to_xyxy)
