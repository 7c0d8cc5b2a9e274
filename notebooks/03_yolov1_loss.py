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
# # 03 · The YOLOv1 loss, term by term
#
# ## Learning goals
#
# After this lesson you can:
#
# - read the YOLOv1 loss (equation 3 of the paper) symbol by symbol, including its indicator functions;
# - implement each of its four terms in a few lines of PyTorch and check them against `yolo_lesson.loss`;
# - explain the design choices inside it: the responsible predictor, the predicted square roots of
#   w and h, the IoU as confidence target, λ_coord = 5 and λ_noobj = 0.5, the division by the batch size;
# - say, choice by choice, what the paper writes, what its authors' code (darknet) does, what popular
#   tutorials do instead, and which option of the package (`wh`, `tie_break`, `conf_target`,
#   `noobj_scope`, `reduction`) reproduces each.
#
# **Why this matters.** The loss is the only thing that tells a detector what "good" means. The
# article this course starts from writes it as "a weighted sum of MSE terms", and every one of its
# three versions gets a detail wrong: a mask, a reduction, a target. Those details are the loss. In
# this lesson we build the paper's loss from its equation, on a batch small enough to check by
# hand, and we stop at every place where a popular implementation deviates from the paper.

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
import itertools

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from yolo_lesson.article_losses import article_iou
from yolo_lesson.boxes import cxcywh_to_xyxy, iou
from yolo_lesson.grid import cells_to_image, encode_batch
from yolo_lesson.loss import YoloV1Loss, responsibility, wh_transform, yolo_v1_loss
from yolo_lesson.viz import PALETTE, draw_boxes, draw_grid, highlight_cell, image_axes

_ = torch.manual_seed(0)

# %% [markdown]
# ## 1 · The equation
#
# Redmon et al. (2016) train YOLOv1 with one sum of squared errors over the whole output. For one
# image, with cells $i = 0, \dots, S^2 - 1$ and predictors $j = 0, \dots, B - 1$:
#
# $$
# \begin{aligned}
# \mathcal{L} ={} & \lambda_\text{coord} \sum_{i=0}^{S^2-1} \sum_{j=0}^{B-1} \mathbb{1}_{ij}^\text{obj}
#     \Big[ (x_{ij} - \hat{x}_i)^2 + (y_{ij} - \hat{y}_i)^2 \Big] \\
# & + \lambda_\text{coord} \sum_{i=0}^{S^2-1} \sum_{j=0}^{B-1} \mathbb{1}_{ij}^\text{obj}
#     \Big[ \big(\sqrt{w_{ij}} - \sqrt{\hat{w}_i}\big)^2 + \big(\sqrt{h_{ij}} - \sqrt{\hat{h}_i}\big)^2 \Big] \\
# & + \sum_{i=0}^{S^2-1} \sum_{j=0}^{B-1} \mathbb{1}_{ij}^\text{obj} \big( C_{ij} - \hat{C}_{ij} \big)^2
#   + \lambda_\text{noobj} \sum_{i=0}^{S^2-1} \sum_{j=0}^{B-1} \mathbb{1}_{ij}^\text{noobj} \big( C_{ij} - 0 \big)^2 \\
# & + \sum_{i=0}^{S^2-1} \mathbb{1}_{i}^\text{obj} \sum_{c=1}^{C} \big( p_i(c) - \hat{p}_i(c) \big)^2
# \end{aligned}
# $$
#
# Letters without a hat are the network's outputs, letters with a hat are the targets:
#
# - $x_{ij}, y_{ij}, w_{ij}, h_{ij}, C_{ij}$: box and confidence of predictor $j$ in cell $i$
#   ($x, y$ the centre's offset inside the cell, $w, h$ relative to the image, as in
#   [lesson 02](02_grid_and_targets.ipynb)); $p_i(c)$: the cell's score for class $c$ (shared by its B boxes);
# - the network does not output $w_{ij}$ but its root: "we predict the square root of the bounding
#   box width and height instead of the width and height directly" (paper, section 2.2). So
#   $\sqrt{w_{ij}}$ and $\sqrt{h_{ij}}$ in the equation *are* two of the network's numbers, and the
#   box they stand for is their square;
# - $\hat{x}_i, \hat{y}_i, \hat{w}_i, \hat{h}_i$: the object of cell $i$; $\hat{p}_i$ its one-hot class;
#   $\hat{C}_{ij}$: the IoU of predictor $j$'s box with that object.
#
# The **indicator functions** are 0/1 masks that decide who is trained on what:
#
# - $\mathbb{1}_{i}^\text{obj} = 1$ when an object's centre falls in cell $i$;
# - $\mathbb{1}_{ij}^\text{obj} = 1$ when, in addition, predictor $j$ is **responsible** for that
#   object: its box has the highest IoU with it among the cell's B predictors;
# - $\mathbb{1}_{ij}^\text{noobj}$: the paper uses it but never defines it. The authors' code does:
#   darknet's `forward_detection_layer` (`src/detection_layer.c`, lines 75–80) first gives
#   *every* predictor of *every* cell the no-object error, then (lines 155–163) replaces it by the
#   object error for the responsible predictor only. So $\mathbb{1}_{ij}^\text{noobj} = 1 -
#   \mathbb{1}_{ij}^\text{obj}$: every predictor that is not responsible, *including the losing
#   predictor of an object cell*.
#
# The paper writes the loss of one image. Its weights are $\lambda_\text{coord} = 5$ and
# $\lambda_\text{noobj} = 0.5$, with S = 7, B = 2, C = 20. Over a batch of N images, darknet adds
# the images' errors and divides the *learning rate* by the batch size in the update
# (`update_connected_layer`: `learning_rate/batch`); the package divides the *loss* by N, which
# gives the same step under plain SGD (section 8). We group the
# five sums into four named terms, the fields of `yolo_lesson.loss.LossTerms`: **box** (lines 1–2),
# **obj** and **noobj** (line 3), **cls** (line 4).

# %% [markdown]
# ## 2 · A batch we can follow by hand
#
# A 3 × 3 grid, B = 2 predictors, C = 3 classes (circle, square, triangle), two images with three
# objects in all. The prediction is written by hand in the three object cells; everywhere else
# predictor 0 says confidence 0.1 and predictor 1 says 0.2, with all-zero boxes and class scores.
# We write each predicted box as the box it draws, $(x, y, w, h)$, and then store what the network
# would output: $\sqrt{w}$ and $\sqrt{h}$ in place of $w$ and $h$.

# %%
S, B, C = 3, 2, 3
CLASSES = ["circle", "square", "triangle"]
boxes = [
    torch.tensor([[0.25, 0.30, 0.30, 0.40], [0.70, 0.60, 0.50, 0.30]]),  # image 0: (cx, cy, w, h)
    torch.tensor([[0.50, 0.50, 0.20, 0.20]]),                            # image 1
]
labels = [torch.tensor([0, 2]), torch.tensor([1])]
target = encode_batch(boxes, labels, S=S, C=C)  # [2, 3, 3, 8]
for n, row, col in target[..., 4].nonzero().tolist():
    x, y, w, h = target[n, row, col, :4].tolist()
    print(f"image {n}, cell ({row},{col}): x={x:.2f} y={y:.2f} w={w:.2f} h={h:.2f} "
          f"class {CLASSES[int(target[n, row, col, 5:].argmax())]}")

# %%
pred = torch.zeros(2, S, S, B * 5 + C)  # [2, 3, 3, 13]: (x, y, w, h, conf) × 2, then 3 class scores
pred[..., 4], pred[..., 9] = 0.1, 0.2   # confidences of the empty cells
#                          predictor 0 ------------------  predictor 1 ------------------  classes
pred[0, 0, 0] = torch.tensor([0.70, 0.80, 0.25, 0.36, 0.6,  0.50, 0.50, 0.10, 0.10, 0.3,  0.8, 0.1, 0.0])
pred[0, 1, 2] = torch.tensor([0.50, 0.50, 0.20, 0.20, 0.2,  0.20, 0.70, 0.49, 0.25, 0.7,  0.1, 0.2, 0.6])
pred[1, 1, 1] = torch.tensor([0.50, 0.50, 0.16, 0.25, 0.9,  0.40, 0.60, 0.20, 0.20, 0.4,  0.3, 0.5, 0.1])
WH = [2, 3, 7, 8]                       # the w, h channels of the two predictors
pred[..., WH] = pred[..., WH].sqrt()    # the network outputs √w, √h (paper, section 2.2)
print("predictor 0 of image 1, cell (1,1): outputs", [round(v, 2) for v in pred[1, 1, 1, :4].tolist()],
      "draw a box of size", [round(v**2, 2) for v in pred[1, 1, 1, 2:4].tolist()])

# %% [markdown]
# Every term starts by cutting `pred` into its named parts, a reshape we will reuse:

# %%
def split_pred(pred, B):
    """pred [N, S, S, B*5+C] -> boxes [N, S, S, B, 4], conf [N, S, S, B], scores [N, S, S, C]."""
    N, S = pred.shape[:2]
    blocks = pred[..., : B * 5].reshape(N, S, S, B, 5)  # [N, S, S, B, 5]
    return blocks[..., :4], blocks[..., 4], pred[..., B * 5 :]


pred_boxes, conf, scores = split_pred(pred, B)
print(tuple(pred_boxes.shape), tuple(conf.shape), tuple(scores.shape))

# %% [markdown]
# ## 3 · Responsibility: $\mathbb{1}_{ij}^\text{obj}$
#
# A cell holds one object but predicts B boxes. The paper lets them compete: the predictor whose box
# currently overlaps the object best is responsible and is the only one trained towards it. Over
# training this makes the predictors specialize (one drifts towards tall shapes, another towards
# wide ones). The IoU compares boxes, so both must be in **one** coordinate frame: we convert the
# cell offsets to image coordinates with `cells_to_image` ([lesson 02](02_grid_and_targets.ipynb)) and use `iou` ([lesson 01](01_boxes_and_iou.ipynb)).
# The predicted box is the one the outputs stand for, so its width and height are the *squares* of
# the outputs (darknet squares them before its IoU, `src/detection_layer.c` lines 108–111):
#
# $$\mathbb{1}_{ij}^\text{obj} = \mathbb{1}_{i}^\text{obj} \cdot \big[\, j = \arg\max_{j'} \operatorname{IoU}(\text{box}_{ij'}, \widehat{\text{box}}_i) \,\big]
# \qquad \text{(the first } j \text{ on a tie of non-zero IoUs; the smallest RMSE when none overlaps).}$$
#
# **When no predictor overlaps the object.** Early in training it is common that every box of an
# object cell misses the object: every IoU is 0, and "the highest IoU" is a tie of zeros. The paper
# does not say what happens then. Darknet does (lines 116–126): as long as no IoU is positive, it
# picks the predictor whose box is closest to the object by RMSE over $(x, y, w, h)$ in image
# coordinates. A rule "ties go to the first" would instead make predictor 0 responsible for every
# such object, and the other predictors would never be trained at the start. The package follows
# darknet (`tie_break="rmse"`, the default; `tie_break="first"` is the simpler rule). Equal
# *non-zero* IoUs go to the first predictor under both, as in darknet's strict `iou > best_iou`.

# %%
def my_responsibility(pred, target, B):
    """IoUs [N, S, S, B] (held constant) and the responsible mask [N, S, S, B] (bool)."""
    outputs, _, _ = split_pred(pred, B)
    boxes = torch.cat([outputs[..., :2], outputs[..., 2:] ** 2], dim=-1)  # outputs √w, √h -> w, h
    has_object = target[..., 4].bool()                                   # [N, S, S]
    pred_image = cells_to_image(boxes)                                   # [N, S, S, B, 4] image cxcywh
    true_image = cells_to_image(target[..., None, :4])                   # [N, S, S, 1, 4]
    ious = iou(cxcywh_to_xyxy(pred_image), cxcywh_to_xyxy(true_image)).detach()  # [N, S, S, B]
    ious = torch.where(has_object[..., None], ious, 0.0)
    distance = ((pred_image - true_image) ** 2).sum(-1).detach()         # RMSE², same order as RMSE
    overlaps = ious.amax(dim=-1) > 0                                     # [N, S, S]
    best = torch.where(overlaps, ious.argmax(dim=-1), distance.argmin(dim=-1))  # first index on a tie
    responsible = F.one_hot(best, B).bool() & has_object[..., None]
    return ious, responsible


ious, resp = my_responsibility(pred, target, B)
package = responsibility(pred, target, S=S, B=B, C=C)
torch.testing.assert_close(ious, package.ious)
assert torch.equal(resp, package.responsible)
for n, row, col in target[..., 4].nonzero().tolist():
    print(f"image {n}, cell ({row},{col}): IoU {[round(v, 3) for v in ious[n, row, col].tolist()]}"
          f" -> predictor {int(resp[n, row, col].int().argmax())} is responsible")

# %% mystnb={"image": {"alt": "Two images with their grids. In each object's cell the target box is thick, and the cell's two predicted boxes are drawn solid when responsible and dashed when not."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 5.6))
image_boxes = cxcywh_to_xyxy(cells_to_image(pred_boxes))  # [N, S, S, B, 4] image xyxy
for n, ax in enumerate(axes):
    image_axes(ax, title=f"image {n}")
    draw_grid(ax, S, labels=True)
    for row, col in target[n, ..., 4].nonzero().tolist():
        highlight_cell(ax, row, col, S)
        for b in range(B):
            style = "-" if resp[n, row, col, b] else "--"
            draw_boxes(ax, image_boxes[n, row, col, b], color=PALETTE[1 + b], linestyle=style)
    draw_boxes(ax, cxcywh_to_xyxy(boxes[n]), color=PALETTE[0], lw=3)
legend = [(PALETTE[0], "-", "target"), (PALETTE[1], "-", "predictor 0"), (PALETTE[2], "-", "predictor 1"),
          ("0.4", "-", "solid: responsible"), ("0.4", "--", "dashed: not responsible")]
for color, style, text in legend:
    axes[1].plot([], [], color=color, ls=style, label=text)  # legend entries only
fig.legend(loc="lower center", ncol=5, fontsize=9)
plt.tight_layout(rect=(0, 0.06, 1, 1))
plt.show()

# %% [markdown]
# In image 1 the responsible predictor 0 has the right centre but the wrong shape (0.16 × 0.25
# instead of 0.2 × 0.2), and it still wins: it also has the higher IoU.
#
# Every object cell here has an overlapping predictor. Here is one where neither box touches the
# object: predictor 0 sits far away, predictor 1 close by. The fallback picks predictor 1; "ties go
# to the first" would pick predictor 0 and train the far box:

# %%
miss = pred.clone()
miss[1, 1, 1, :4] = torch.tensor([0.05, 0.05, 0.2, 0.2])  # outputs: a 0.04 × 0.04 box, up and left
miss[1, 1, 1, 5:9] = torch.tensor([0.95, 0.5, 0.2, 0.2])  # another 0.04 × 0.04 box, right of the object
ious_miss, resp_miss = my_responsibility(miss, target, B)
print("IoUs", ious_miss[1, 1, 1].tolist(), "-> responsible (rmse):", int(resp_miss[1, 1, 1].int().argmax()))
for tie_break in ("rmse", "first"):
    package = responsibility(miss, target, S=S, B=B, C=C, tie_break=tie_break).responsible[1, 1, 1]
    print(f"package, tie_break={tie_break!r}: predictor {int(package.int().argmax())}")
assert torch.equal(resp_miss, responsibility(miss, target, S=S, B=B, C=C).responsible)

# %% [markdown]
# **Why image coordinates?** In the target layout, $x, y$ are in *cell* units (0 to 1 across one
# cell) while $w, h$ are in *image* units (0 to 1 across the whole image). An IoU computed directly
# on the raw $(x, y, w, h)$ numbers mixes the two frames: a shift of 0.3 cell (0.3/7 ≈ 0.04 of the
# image with S = 7) is read as a shift of 0.3 image widths. Take an object of size 0.5 × 0.5 and two
# guesses: predictor 0 has the right size but its centre is 0.3 cell to the right; predictor 1 has
# the right centre but is too narrow (0.35 wide). `article_iou` is the mixed-frame IoU that the
# article's third version implies ([lesson 05](05_what_goes_wrong.ipynb)):

# %%
def cell_33_to_image(b, S=7):
    """(x, y, w, h) of cell (3, 3) of a 7 × 7 grid -> image (cx, cy, w, h)."""
    return torch.cat([(3 + b[..., :2]) / S, b[..., 2:]], dim=-1)


truth_cell = torch.tensor([0.5, 0.5, 0.5, 0.5])            # (x, y) in cell units, (w, h) in image units
guesses = torch.tensor([[0.8, 0.5, 0.5, 0.5], [0.5, 0.5, 0.35, 0.5]])
mixed = article_iou(guesses, truth_cell.expand(2, 4))
image = iou(cxcywh_to_xyxy(cell_33_to_image(guesses)), cxcywh_to_xyxy(cell_33_to_image(truth_cell)))
print("mixed frames:      IoU", [round(v, 3) for v in mixed.tolist()], "-> picks predictor", int(mixed.argmax()))
print("image coordinates: IoU", [round(v, 3) for v in image.tolist()], "-> picks predictor", int(image.argmax()))

# %% [markdown]
# In the image, predictor 0 is clearly the better box (IoU 0.84 against 0.70), but the mixed frame
# sees a shift of 0.3 "widths" and gives the object to predictor 1. The finer the grid, the worse
# the confusion: the same shift in the image is a larger number in cell units when cells are smaller.
# The example also answers a common belief, "the responsible predictor is the one whose centre is
# closest": predictor 1's centre is exact and it still loses, because its shape is wrong.

# %% mystnb={"image": {"alt": "A target box drawn solid with two predicted boxes: predictor 1, dashed, has the exact centre but is too narrow, IoU 0.70; predictor 0, solid, is shifted right but has the right shape, IoU 0.84, so the off-centre box is the responsible one."}}
fig, ax = plt.subplots(figsize=(4.2, 4.2))
image_axes(ax, title="exact centre, wrong shape (1) vs off-centre (0)")
draw_grid(ax, 7)
draw_boxes(ax, cxcywh_to_xyxy(cell_33_to_image(truth_cell)), color=PALETTE[0], lw=3)
ax.plot([], [], color=PALETTE[0], lw=3, label="target")
for k, guess in enumerate(guesses):
    style = "-" if k == 0 else "--"
    draw_boxes(ax, cxcywh_to_xyxy(cell_33_to_image(guess)), color=PALETTE[1 + k], linestyle=style)
    ax.plot([], [], color=PALETTE[1 + k], ls=style, label=f"predictor {k}: IoU {image[k]:.2f}")
ax.set_xlim(0.15, 0.85)
ax.set_ylim(0.95, 0.15)
ax.legend(loc="lower center", fontsize=8, ncol=1)
plt.show()

# %% [markdown]
# ## 4 · The box term and the square roots
#
# Only a responsible predictor learns a box: an empty cell has no box to learn, and the other
# predictor of an object cell is left free to specialize. λ_coord = 5 makes a coordinate error
# count five times a confidence error (section 10 shows why that is needed). With $s^w_{ij}, s^h_{ij}$
# the network's two size outputs (the roots):
#
# $$\text{box} = \frac{\lambda_\text{coord}}{N} \sum_{n,i,j} \mathbb{1}_{ij}^\text{obj}
# \Big[ (x_{ij} - \hat{x}_i)^2 + (y_{ij} - \hat{y}_i)^2 + \big(s^w_{ij} - \sqrt{\hat{w}_i}\big)^2 + \big(s^h_{ij} - \sqrt{\hat{h}_i}\big)^2 \Big]$$
#
# **Why $\sqrt{w}$, not $w$?** The paper (section 2.2): "small deviations in large boxes matter
# less than in small boxes". A width error of 0.05 on a box 0.1 wide misses half its width; on a
# box 0.8 wide it is a detail. A squared error on $w$ charges both the same $0.05^2 = 0.0025$; on
# $\sqrt{w}$ the small box pays more, because the square root is steeper near 0:

# %%
true_w = torch.linspace(0.02, 1.0, 200)
cost_linear = torch.full_like(true_w, 0.05**2)
cost_sqrt = (torch.sqrt(true_w + 0.05) - torch.sqrt(true_w)) ** 2
for w in (0.1, 0.8):
    print(f"w = {w}, predicted {w + 0.05:.2f}: (w - w')² = {0.05**2:.5f}, "
          f"(√w - √w')² = {(torch.sqrt(torch.tensor(w + 0.05)) - w**0.5) ** 2:.5f}")

# %% mystnb={"image": {"alt": "Two curves of the cost of predicting a width 0.05 too large, against the true width: on w the cost is flat; on the square root of w it is highest for small boxes and falls as boxes grow."}}
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.plot(true_w, cost_linear, color=PALETTE[0], label="on w: (w − ŵ)²")
ax.plot(true_w, cost_sqrt, color=PALETTE[1], label="on √w: (√w − √ŵ)²")
ax.set_xlabel("true width ŵ (fraction of the image)")
ax.set_ylabel("cost of predicting ŵ + 0.05")
ax.set_title("The same 0.05 error costs more on a small box with √w")
ax.legend()
plt.show()

# %% [markdown]
# With the root, the 0.05 error costs about 0.0051 on the 0.1-wide box and 0.00076 on the 0.8-wide
# one: almost seven times more where it matters more. (The root only softens the imbalance; later
# YOLOs replaced it by IoU-based box losses, [lesson 08](08_beyond_v1.ipynb).)
#
# **Where the root is taken.** In the paper and in darknet (`sqrt=1` in `cfg/yolov1.cfg`) the
# network *outputs* $\sqrt{w}$: the loss compares that output with $\sqrt{\hat w}$ (darknet,
# lines 169–172: `sqrt(truth) - output`) and takes no root of anything the network produced.
# The term is an ordinary squared error in the output $s$, with gradient
# $2\lambda_\text{coord}(s - \sqrt{\hat w})/N$: finite for every output, negative ones included
# (a negative $s$ still draws the box $s^2$). This is the package's default, `wh="predicted_sqrt"`.
#
# Many tutorials instead keep $w$ as the network's output and take its root **inside the loss**.
# Then nothing stops a network from outputting $w = -0.2$, especially early in training: a plain
# `torch.sqrt` returns NaN, one NaN turns the whole loss into NaN, and at $w = 0$ the slope
# $1/(2\sqrt{w})$ is infinite. This NaN belongs to that choice, not to the paper:

# %%
w = torch.tensor([-0.2, 0.0], requires_grad=True)
print("sqrt:", torch.sqrt(w).tolist())
torch.sqrt(w).sum().backward()
print("gradient of sqrt:", w.grad.tolist())

# %% [markdown]
# The tutorials patch it in one of two ways, and the package keeps both, plus the root-less one,
# as named variants of the option `wh` (for all three, the network's outputs are $w, h$ themselves):
#
# - `"signed_sqrt"`: $f(w) = w / \sqrt{|w| + \varepsilon}$, $\varepsilon = 10^{-6}$, a sign-preserving
#   root in the spirit of the tutorials' "sign trick" (Aladdin Persson's YOLOv1 from scratch writes
#   `torch.sign(w) * torch.sqrt(torch.abs(w + 1e-6))`). It is not the same function: the package's
#   form is continuous and odd, with slope $1/\sqrt{\varepsilon} = 1000$ at 0, while the tutorial's
#   jumps from about $-0.001$ to $+0.001$ at $w = 0$ and has gradient 0 there (the gradient of
#   `torch.sign`). For a box at least 1 % of the image wide both are within 0.01 % of $\sqrt{w}$;
# - `"clamped_sqrt"`: $\sqrt{\max(w, \varepsilon)}$. Finite too, but flat for $w < \varepsilon$;
# - `"linear"`: $w$ itself, no root.
#
# The signed root, inline, checked against the package:

# %%
def signed_sqrt(v, eps=1e-6):
    return v / torch.sqrt(v.abs() + eps)


v = torch.tensor([-0.2, 0.0, 1e-4, 0.09, 0.36, 1.0])
torch.testing.assert_close(signed_sqrt(v), wh_transform(v, "signed_sqrt"))
print("signed_sqrt:", [round(x, 4) for x in signed_sqrt(v).tolist()])
print("sqrt:       ", [round(x, 4) for x in torch.sqrt(v).tolist()])

# %% [markdown]
# What matters for training is the **gradient** that a wrong width receives. Take a target width
# of 0.36 and the box term of that one number, $5 \cdot (f(w) - f(0.36))^2$, for predicted widths
# from −0.3 to 0.8, under the three tutorial variants:

# %%
w = torch.linspace(-0.3, 0.8, 221, requires_grad=True)
gradients = {}
for mode in ("signed_sqrt", "clamped_sqrt", "linear"):
    w.grad = None
    (5 * (wh_transform(w, mode) - wh_transform(torch.tensor(0.36), mode)) ** 2).sum().backward()
    gradients[mode] = w.grad.clone()
at = int(torch.argmin((w.detach() + 0.2).abs()))  # the sample at w = -0.2
print({mode: round(g[at].item(), 3) for mode, g in gradients.items()}, "at w = -0.2")

# %% mystnb={"image": {"alt": "Left: the maps applied to a width (signed square root, clamped square root, linear, and torch.sqrt, which is NaN below 0). Right: the gradient of the width term for each map, around and below zero."}}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for mode, color in zip(gradients, PALETTE[1:]):
    axes[0].plot(w.detach(), wh_transform(w.detach(), mode), color=color, label=mode)
    axes[1].plot(w.detach(), gradients[mode], color=color, label=mode)
axes[0].plot(w.detach(), torch.sqrt(w.detach()), color="k", ls=":", label="torch.sqrt (NaN for w < 0)")
axes[0].set_title("f(w): the map applied to a predicted width")
axes[1].set_title("d/dw of 5·(f(w) − f(0.36))²")
axes[1].set_ylim(-40, 15)
for ax in axes:
    ax.axvline(0, color="0.8", lw=0.8)
    ax.axhline(0, color="0.8", lw=0.8)
    ax.set_xlabel("predicted w (the network's output, in the tutorial variants)")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Right panel: for $w < 0$ the signed root still has a **negative** gradient, so gradient descent
# raises $w$ back towards the target (a steep push near 0, where its slope is large). The clamped root
# has gradient **exactly 0** there: a predictor that once outputs a negative width is never told to
# change it, a dead gradient. The linear map pushes evenly everywhere but loses the small-box
# emphasis. None of this arises with the paper's parametrization, where the gradient in the output
# is a straight line; [lesson 04](04_gradients_and_lambda.ipynb) measures what each choice does to
# a small and a large box, and [lesson 06](06_training_a_tiny_yolo.ipynb) trains with each.
#
# Now the term itself. In image 0, cell (0,0), predictor 0 is responsible with box
# (0.70, 0.80, 0.25, 0.36), that is outputs (0.70, 0.80, 0.5, 0.6), against (0.75, 0.90, 0.30, 0.40):
# $0.05^2 + 0.1^2 + (0.5 - \sqrt{0.3})^2 + (0.6 - \sqrt{0.4})^2 = 0.0025 + 0.01 + 0.00228 + 0.00106 = 0.01583$,
# times λ_coord = 5 gives 0.0792 for that cell. The two other object cells give 0.1116 and 0.0251;
# the sum 0.2159 divided by N = 2 is the box term.

# %%
def my_box_term(pred, target, B, lambda_coord=5.0):
    outputs, _, _ = split_pred(pred, B)                                        # x, y, √w, √h
    truth = target[..., None, :4]                                              # [N, S, S, 1, 4]
    _, responsible = my_responsibility(pred, target, B)
    xy_error = ((outputs[..., :2] - truth[..., :2]) ** 2).sum(-1)             # [N, S, S, B]
    wh_error = ((outputs[..., 2:] - truth[..., 2:].sqrt()) ** 2).sum(-1)      # no root of an output
    return lambda_coord * torch.where(responsible, xy_error + wh_error, 0.0).sum() / pred.shape[0]


box = my_box_term(pred, target, B)
torch.testing.assert_close(box, yolo_v1_loss(pred, target, S=S, B=B, C=C).box)
print(f"box term: {box:.4f}")

# %% [markdown]
# `torch.where` rather than multiplying by the mask: a masked-out cell could hold a huge value whose
# square overflows to `inf`, and `0 · inf` is NaN, while `torch.where` simply never reads it.

# %% [markdown]
# ## 5 · The object confidence term
#
# YOLOv1 defines a predictor's confidence as $\Pr(\text{object}) \cdot \operatorname{IoU}^\text{truth}_\text{pred}$:
# it should say not only "there is an object" but also "and my box overlaps it this well". So the
# responsible predictor's confidence regresses to the IoU of its own box:
#
# $$\text{obj} = \frac{1}{N} \sum_{n,i,j} \mathbb{1}_{ij}^\text{obj} \big( C_{ij} - \operatorname{IoU}(\text{box}_{ij}, \widehat{\text{box}}_i) \big)^2,
# \qquad \text{the IoU held constant.}$$
#
# **Held constant (detached)** matters. The IoU is a function of the predicted box; if the gradient
# flowed through it, the loss could shrink $(C - \operatorname{IoU})^2$ by making the box *worse* so that the
# IoU comes down to meet a low confidence. Watch it happen in image 0, cell (0,0), where the
# confidence 0.6 is below the IoU 0.70: one gradient step on the box, IoU not detached.

# %%
def obj_term_through_iou(box_numbers):
    """The obj term of image 0, cell (0,0), predictor 0, with the IoU NOT detached."""
    cxcywh = torch.cat([box_numbers[:2] / S, box_numbers[2:] ** 2])  # cell (0, 0): cx = (0 + x) / S; w = s²
    iou_value = iou(cxcywh_to_xyxy(cxcywh), cxcywh_to_xyxy(boxes[0][0]))
    return (pred[0, 0, 0, 4] - iou_value) ** 2, iou_value


box_numbers = pred[0, 0, 0, :4].clone().requires_grad_()
loss_before, iou_before = obj_term_through_iou(box_numbers)
loss_before.backward()
loss_after, iou_after = obj_term_through_iou(box_numbers.detach() - 0.05 * box_numbers.grad)
print(f"obj term {loss_before:.4f} -> {loss_after:.4f}, IoU {iou_before:.3f} -> {iou_after:.3f}")

# %% [markdown]
# The loss fell from 0.0105 to 0.0002, and all of it came from shrinking the box away from the
# object (IoU 0.70 → 0.61). The package computes the IoU without gradient, so the obj term only moves
# the confidence:

# %%
leaf = pred.clone().requires_grad_()
yolo_v1_loss(leaf, target, S=S, B=B, C=C).obj.backward()
box_channels = [0, 1, 2, 3, 5, 6, 7, 8]
print("gradient on every box number:", torch.count_nonzero(leaf.grad[..., box_channels]).item(), "non-zero")
print("gradient on the confidences of the responsible predictors:",
      [round(v, 4) for v in leaf.grad[..., [4, 9]][resp].tolist()])

# %% [markdown]
# The paper defines the target (section 2): "we want the confidence score to equal the
# intersection over union (IOU) between the predicted box and the ground truth". Darknet does it
# with `rescore=1` in `cfg/yolov1.cfg` (lines 159–163 of `detection_layer.c`: the error `1 - output`
# is replaced by `iou - output`). Many implementations use **target 1** instead (option
# `conf_target="one"`): the confidence then estimates "there is an object" only, not how well the
# box fits it. Whether that costs accuracy is a question for a measurement, not for an argument.
# Trained on [lesson 06](06_training_a_tiny_yolo.ipynb)'s shapes over five seeds, target 1 reached
# mAP@0.5 0.933 ± 0.013 against 0.943 ± 0.013 with the IoU: a difference inside the spread between
# seeds (lesson 06, section 7).

# %%
def my_obj_term(pred, target, B, conf_target="iou"):
    _, conf, _ = split_pred(pred, B)
    ious, responsible = my_responsibility(pred, target, B)                    # ious: no gradient
    goal = ious if conf_target == "iou" else torch.ones_like(ious)
    return torch.where(responsible, (conf - goal) ** 2, 0.0).sum() / pred.shape[0]


for conf_target in ("iou", "one"):
    obj = my_obj_term(pred, target, B, conf_target)
    torch.testing.assert_close(obj, yolo_v1_loss(pred, target, S=S, B=B, C=C, conf_target=conf_target).obj)
    print(f"conf_target={conf_target!r}: obj term {obj:.4f}")

# %% [markdown]
# By hand, with the IoUs of section 3: $(0.6 - 0.703)^2 + (0.7 - 0.693)^2 + (0.9 - 0.667)^2 = 0.0106 + 0.0000 + 0.0544$,
# divided by N = 2: 0.0325. With target 1: $(0.4^2 + 0.3^2 + 0.1^2)/2 = 0.13$.

# %% [markdown]
# ## 6 · The no-object term
#
# Most predictors see no object: with S = 7 and B = 2 an image has 98 predictors and typically a
# handful of objects. Their confidences must go to 0, otherwise every cell reports a detection. The
# term is weighted by λ_noobj = 0.5 (section 10):
#
# $$\text{noobj} = \frac{\lambda_\text{noobj}}{N} \sum_{n,i,j} \mathbb{1}_{ij}^\text{noobj} \, C_{ij}^2 .$$
#
# **Which predictors?** The paper's $\mathbb{1}_{ij}^\text{noobj}$ is "not responsible": it includes the
# *other* predictor of an object cell, whose box lost the IoU contest and is told that it does not
# hold this object. A widespread variant (`noobj_scope="empty_cells"`) only penalizes the predictors
# of empty cells, which leaves the losing predictor of an object cell with no confidence target at
# all: it may keep a high confidence and produce a duplicate detection.

# %%
def my_noobj_term(pred, target, B, lambda_noobj=0.5, noobj_scope="not_responsible"):
    _, conf, _ = split_pred(pred, B)
    _, responsible = my_responsibility(pred, target, B)
    if noobj_scope == "not_responsible":
        mask = ~responsible                                                    # [N, S, S, B]
    else:
        mask = ~target[..., 4].bool()[..., None].expand_as(responsible)        # empty cells only
    return lambda_noobj * torch.where(mask, conf**2, 0.0).sum() / pred.shape[0]


for scope in ("not_responsible", "empty_cells"):
    noobj = my_noobj_term(pred, target, B, noobj_scope=scope)
    torch.testing.assert_close(noobj, yolo_v1_loss(pred, target, S=S, B=B, C=C, noobj_scope=scope).noobj)
    print(f"noobj_scope={scope!r}: noobj term {noobj:.4f}")

# %% [markdown]
# By hand: the 15 empty cells contribute $15 \cdot (0.1^2 + 0.2^2) = 0.75$; the three losing
# predictors add $0.3^2 + 0.2^2 + 0.4^2 = 0.29$. With the paper's scope,
# $0.5 \cdot (0.75 + 0.29) / 2 = 0.26$; with empty cells only, $0.5 \cdot 0.75 / 2 = 0.1875$.

# %% [markdown]
# ## 7 · The class term
#
# YOLOv1 predicts one class distribution per **cell**, not per box, so the class term has no $j$: it
# is a squared error between the C scores and the one-hot class, in cells that hold an object.
# (Squared error on class scores is a YOLOv1 choice; later versions use cross-entropy,
# [lesson 08](08_beyond_v1.ipynb).)
#
# $$\text{cls} = \frac{1}{N} \sum_{n,i} \mathbb{1}_{i}^\text{obj} \sum_{c=1}^{C} \big( p_i(c) - \hat{p}_i(c) \big)^2$$

# %%
def my_class_term(pred, target, B):
    _, _, scores = split_pred(pred, B)
    has_object = target[..., 4].bool()                                         # [N, S, S]
    error = ((scores - target[..., 5:]) ** 2).sum(-1)                          # [N, S, S]
    return torch.where(has_object, error, 0.0).sum() / pred.shape[0]


cls = my_class_term(pred, target, B)
torch.testing.assert_close(cls, yolo_v1_loss(pred, target, S=S, B=B, C=C).cls)
print(f"class term: {cls:.4f}")

# %% [markdown]
# By hand: the circle cell scores (0.8, 0.1, 0.0) against (1, 0, 0): $0.04 + 0.01 + 0 = 0.05$; the
# triangle cell (0.1, 0.2, 0.6) against (0, 0, 1): $0.01 + 0.04 + 0.16 = 0.21$; the square cell
# (0.3, 0.5, 0.1) against (0, 1, 0): $0.09 + 0.25 + 0.01 = 0.35$. Sum 0.61, divided by N = 2: 0.305.

# %% [markdown]
# ## 8 · The reduction: sum over the grid, divide by N
#
# Every term above is a **sum** over cells and predictors, divided by the batch size N. Dividing by
# N makes the loss a per-image average, so the learning rate does not depend on the batch size:
# the same batch twice gives the same numbers. Darknet's detection layer does not divide: it adds
# the errors of the batch, and its update divides the learning rate by the batch size instead
# (`learning_rate/batch` in `update_connected_layer`), the same step under SGD. Tutorials often
# return the plain sum (`nn.MSELoss(reduction="sum")`), which is `reduction="sum"` here. Under
# Adam, which [lesson 06](06_training_a_tiny_yolo.ipynb) uses, a constant factor on the whole loss
# barely matters: Adam divides each gradient by a running estimate of its own size, so the factor
# cancels except against Adam's tiny ε.

# %%
doubled = yolo_v1_loss(torch.cat([pred, pred]), torch.cat([target, target]), S=S, B=B, C=C)
single = yolo_v1_loss(pred, target, S=S, B=B, C=C)
for name in single._fields:
    torch.testing.assert_close(getattr(doubled, name), getattr(single, name))
print("batch of 4 (the batch twice) == batch of 2:", [round(v.item(), 4) for v in doubled])

# %% [markdown]
# Why not a **mean** per term, as `nn.MSELoss()` on a masked selection does (the article's
# versions)? A mean divides each term by *its own* number of elements, and that number changes from
# batch to batch. Take one image with one object and one with four, every object predicted 0.1 cell
# off in x. Under the sum, each object receives the same push whatever its neighbours; under a mean
# over the responsible predictors, each object's push is divided by how many objects share the image:

# %%
def x_gradient_per_object(centres, reduction):
    target_k = encode_batch([torch.tensor([[cx, cy, 0.2, 0.2] for cx, cy in centres])],
                            [torch.zeros(len(centres), dtype=torch.long)], S=S, C=C)
    guess = torch.cat([target_k[..., :5], torch.zeros_like(target_k[..., :5]), target_k[..., 5:]], dim=-1)
    guess[..., 0] += 0.1                                     # predictor 0: 0.1 cell off in x
    guess.requires_grad_()
    _, responsible = my_responsibility(guess, target_k, B)   # predictor 1 (an empty box) loses
    error = (split_pred(guess, B)[0][..., 0] - target_k[..., None, 0]) ** 2    # [1, S, S, B]
    term = 5.0 * (error[responsible].sum() if reduction == "sum / N" else error[responsible].mean())
    term.backward()
    x_grad = split_pred(guess.grad, B)[0][..., 0]            # [1, S, S, B]
    return x_grad[responsible][0].item()                     # d term / d x of the first object


few, many = [(0.5, 0.5)], [(0.2, 0.2), (0.5, 0.5), (0.8, 0.8), (0.2, 0.8)]
for reduction in ("sum / N", "mean"):
    print(f"{reduction:8s}: push on one object's x with 1 object {x_gradient_per_object(few, reduction):.2f}, "
          f"with 4 objects {x_gradient_per_object(many, reduction):.2f}")

# %% [markdown]
# Under the mean, an object in a crowded image is learned four times more slowly, and the no-object
# term (a mean over the other predictors: 17 of the 18 in the first image, 14 in the second) barely
# changes: the balance between terms, which is
# exactly what λ_coord and λ_noobj are meant to set, now drifts with the number of objects. With a
# sum, λ_coord = 5 always means "one unit of squared coordinate error weighs five units of squared
# confidence error", per predictor. (One mean over the *whole* grid, the same divisor for every
# term, would only rescale the loss: harmless to the λs, equivalent to a smaller learning rate.)

# %% [markdown]
# ## 9 · The whole loss, inline
#
# The four terms and their sum, with the package's `conf_target` and `noobj_scope` options (the
# other two, `wh` and `tie_break`, stay at their defaults; see below):

# %%
def my_yolo_v1_loss(pred, target, B, lambda_coord=5.0, lambda_noobj=0.5,
                    conf_target="iou", noobj_scope="not_responsible"):
    box = my_box_term(pred, target, B, lambda_coord)
    obj = my_obj_term(pred, target, B, conf_target)
    noobj = my_noobj_term(pred, target, B, lambda_noobj, noobj_scope)
    cls = my_class_term(pred, target, B)
    return {"total": box + obj + noobj + cls, "box": box, "obj": obj, "noobj": noobj, "cls": cls}


for conf_target, noobj_scope in itertools.product(("iou", "one"), ("not_responsible", "empty_cells")):
    mine = my_yolo_v1_loss(pred, target, B, conf_target=conf_target, noobj_scope=noobj_scope)
    theirs = yolo_v1_loss(pred, target, S=S, B=B, C=C, conf_target=conf_target, noobj_scope=noobj_scope)
    torch.testing.assert_close(mine, theirs._asdict())
print({name: round(value.item(), 4) for name, value in my_yolo_v1_loss(pred, target, B).items()})

# %% [markdown]
# By hand, from sections 4 to 7: box 0.1079, obj 0.0325, noobj 0.26, cls 0.305, total 0.7055.
# (The inline version has no `wh` or `tie_break` option: it uses the defaults, the paper's predicted
# roots and darknet's RMSE fallback.) The package also checks its inputs and names the culprit when
# something is off:

# %%
try:
    yolo_v1_loss(pred, target, S=S, B=3, C=C)
except ValueError as error:
    print(error)

# %% [markdown]
# From here on we use the package. `YoloV1Loss` is the module form: it holds S, B, C, the λs and the
# options, and returns the named terms.

# %%
criterion = YoloV1Loss(S=S, B=B, C=C)
print(criterion)
leaf = pred.clone().requires_grad_()
terms = criterion(leaf, target)
terms.total.backward()
print({name: round(value.item(), 4) for name, value in terms._asdict().items()})
print("gradient shape:", tuple(leaf.grad.shape), "all finite:", bool(torch.isfinite(leaf.grad).all()))

# %% [markdown]
# `backward='closed_form'` in the printout: the package computes the loss's gradient in closed form,
# $2 \cdot \text{weight} \cdot (\text{pred} - \text{goal})$ for each squared error, and its tests check that it
# equals autograd's; `YoloV1Loss(..., backward="autograd")` keeps autograd's step-by-step graph instead
# (under the tutorials' roots, `wh="signed_sqrt"` or `"clamped_sqrt"`, autograd is used either way).

# %% [markdown]
# ## 10 · What λ_coord = 5 and λ_noobj = 0.5 do
#
# Back to the paper's size: S = 7, B = 2, C = 20, a batch of 8 images with one to four objects each,
# and a prediction like an early network's: boxes near the targets, confidences spread between 0
# and 0.6 everywhere. First, count who is trained on what:

# %%
S, B, C = 7, 2, 20
generator = torch.Generator().manual_seed(0)
counts = torch.randint(1, 5, (8,), generator=generator).tolist()
scene = [torch.cat([0.1 + 0.8 * torch.rand(k, 2, generator=generator),
                    0.1 + 0.4 * torch.rand(k, 2, generator=generator)], dim=1) for k in counts]
scene_labels = [torch.randint(0, C, (k,), generator=generator) for k in counts]
big_target = encode_batch(scene, scene_labels, S=S, C=C)                       # [8, 7, 7, 25]
big_pred = torch.rand(8, S, S, B * 5 + C, generator=generator) * 0.6
perfect = torch.cat([big_target[..., :2], big_target[..., 2:4].sqrt()], dim=-1)  # outputs x, y, √w, √h
noisy_box = perfect + 0.08 * torch.randn(8, S, S, 4, generator=generator)
is_object = big_target[..., 4:5] > 0                                           # [8, 7, 7, 1]
for b in range(B):
    block = slice(5 * b, 5 * b + 4)
    big_pred[..., block] = torch.where(is_object, noisy_box, big_pred[..., block])
responsible_count = int(responsibility(big_pred, big_target).responsible.sum())
total_count = 8 * S * S * B
print(f"{total_count} predictors: {responsible_count} responsible, {total_count - responsible_count} no-object "
      f"({(total_count - responsible_count) / responsible_count:.0f} to 1)")

# %% mystnb={"image": {"alt": "Paired bars of the four loss terms (box, obj, noobj, cls) with all weights 1 and with the paper's weights: \u03bb_coord = 5 raises the box term and \u03bb_noobj = 0.5 halves the no-object term."}}
weighted = yolo_v1_loss(big_pred, big_target)
unweighted = yolo_v1_loss(big_pred, big_target, lambda_coord=1.0, lambda_noobj=1.0)
names = ["box", "obj", "noobj", "cls"]
positions = torch.arange(len(names)).float()
fig, ax = plt.subplots(figsize=(7, 3.8))
for shift, terms_, color, text in [(-0.2, unweighted, PALETTE[5], "λ_coord = λ_noobj = 1"),
                                   (0.2, weighted, PALETTE[1], "paper: λ_coord = 5, λ_noobj = 0.5")]:
    bars = ax.bar(positions + shift, [getattr(terms_, n).item() for n in names], 0.4, color=color, label=text)
    ax.bar_label(bars, fmt="%.2f", fontsize=8)
ax.set_xticks(positions, names)
ax.set_ylabel("term value (per image)")
ax.set_title(f"Loss terms on {total_count} predictors, {responsible_count} of them responsible")
ax.legend(loc="upper left")
ax.margins(y=0.3)  # room for the legend above the bars
plt.show()

# %% [markdown]
# Without λs, the no-object term dwarfs the terms of the responsible predictors (box and obj):
# each of the ~95 no-object predictors of an image contributes a small $C^2$, and together they
# outweigh the three or so responsible ones, so early training mostly learns "say 0 everywhere" and
# the object confidences are pulled down with it; the paper names this imbalance as a source of
# unstable, diverging training. λ_noobj = 0.5 halves that pull; λ_coord = 5 raises the box term,
# carried by only a few predictors, so that localization is learned at all.
#
# Even weighted, the no-object term is still far above box and obj here: this is a snapshot of an untrained
# network, and the term shrinks fast once the empty cells learn to say 0
# ([lesson 06](06_training_a_tiny_yolo.ipynb) plots every term over training). The class term is large only
# because this fake network spreads random scores over 20 classes; the paper does not weight it.
#
# **Next.** [Lesson 04](04_gradients_and_lambda.ipynb) follows the gradient of each term: which number
# each one pushes, how hard, and what changes when you move the λs.
# [Lesson 05](05_what_goes_wrong.ipynb) takes the article's three loss versions apart against the loss built
# here: the NaNs, the dead gradients and the wrong masks.

# %% [markdown]
# ## 11 · The paper, its code and the tutorials, side by side
#
# Every choice above, in one table. "Paper" quotes Redmon et al. (2016) with its section; "darknet"
# is the authors' code: `src/detection_layer.c` (line numbers at commit `08c7cf9` of
# `pjreddie/darknet`), its update in `src/connected_layer.c`, its test-time decoding
# `get_detection_boxes`, and the released `cfg/yolov1.cfg`; "tutorials" are what popular
# from-scratch implementations do (Aladdin Persson's YOLOv1 `loss.py` roots a predicted w with the sign
# trick, takes the highest IoU with `torch.max` and trains only empty cells towards "no object"; its
# version at commit `658a37d` multiplies the confidence target by the IoU).
# The last column is the package option that reproduces each; the defaults follow the paper where it
# speaks and darknet where it is silent. [Lesson 06](06_training_a_tiny_yolo.ipynb) trains with
# each variant and measures what it changes.
#
# | choice | paper | darknet | tutorials | package |
# |---|---|---|---|---|
# | what the w, h outputs are | §2.2: "we predict the square root of the bounding box width and height instead of the width and height directly" | `sqrt=1`: the outputs are √w, √h; the box error is `sqrt(truth) - output` (169–172); the IoUs square the outputs first (108–111, 148–151) | the output is w; the loss roots it, with a sign trick (`torch.sign(w) * torch.sqrt(torch.abs(w + 1e-6))`) or a clamp | `wh="predicted_sqrt"` (default); `"signed_sqrt"` (a sign-preserving root, $w/\sqrt{\lvert w\rvert + \varepsilon}$, not the tutorial's exact function), `"clamped_sqrt"`, `"linear"` |
# | the responsible predictor | §2.2: "based on which prediction has the highest current IOU with the ground truth" | highest IoU, the first on a tie (strict `iou > best_iou`, 116–120) | highest IoU (`torch.max`) | `responsibility`, IoU in image coordinates |
# | no predictor overlaps the object | not said | the smallest RMSE over (x, y, w, h) in image coordinates (121–126) | the first predictor (the maximum of equal zeros) | `tie_break="rmse"` (default); `"first"` |
# | $\mathbb{1}_{ij}^\text{noobj}$ | used in equation 3, never defined | every predictor gets the no-object error (75–80), the responsible one's is then replaced (155–163): every predictor that is not responsible | empty cells only (`1 - exists_box`) | `noobj_scope="not_responsible"` (default); `"empty_cells"` |
# | the confidence target | §2: "we want the confidence score to equal the intersection over union (IOU) between the predicted box and the ground truth" | `rescore=1`: `iou - output` instead of `1 - output` (159–163) | 1 | `conf_target="iou"` (default); `"one"` |
# | the weights | §2.2: "We set λcoord = 5 and λnoobj = .5" | `coord_scale=5`, `noobject_scale=.5`, `object_scale=1`, `class_scale=1` | 5 and 0.5 | `lambda_coord=5`, `lambda_noobj=0.5` |
# | the batch | the loss of one image; batches of 64 (§2.2) | errors added over the batch in the layer; the update divides the learning rate by the batch (`learning_rate/batch`) | the plain sum, `nn.MSELoss(reduction="sum")` | `reduction="batchmean"` (default: sum / N); `"sum"` |
# | predictors per cell | §2: "we use S = 7, B = 2" | the released `yolov1.cfg` has `num=3` (its last layer has 1715 = 7·7·(20 + 3·5) outputs) | 2 | `B` (any; the lessons use 2) |
# | the last layer | §2.2: "We use a linear activation function for the final layer" | `[connected] activation=linear`, `softmax=0` | linear | the loss takes any output; `TinyYolo` uses a sigmoid and a softmax ([lesson 06](06_training_a_tiny_yolo.ipynb)) |
# | the output layout | "an S × S × (B ∗ 5 + C) tensor" (§2), no order given | all cells' class scores, then all confidences, then all boxes (the index arithmetic of lines 76, 90, 103) | per cell, classes then boxes | per cell, B blocks (x, y, w, h, conf) then the classes: a layout, it changes no number |
# | the test-time score | §2: "Pr(Class_i\|Object) ∗ Pr(Object) ∗ IOU = Pr(Class_i) ∗ IOU", "class-specific confidence scores for each box" | a score for every class of every box (`get_detection_boxes`) | the best class only | [lesson 07](07_predictions_to_detections.ipynb) shows both |
#
# Two rows deserve a word. The paper's $\mathbb{1}^\text{noobj}$ could be read as "cells without an
# object", which is what the tutorials implement; the authors' code settles it the other way. And
# the released configuration does not use the paper's B = 2; the package takes any B, and lesson
# 06's ablation trains B = 1, 2 and 3.

# %% [markdown]
# ## Summary
#
# - The YOLOv1 loss is one sum of squared errors with four parts: **box** (responsible predictors,
#   ×λ_coord = 5, on $x, y$ and the predicted $\sqrt{w}, \sqrt{h}$), **obj** (responsible confidences → IoU), **noobj**
#   (all other confidences → 0, ×λ_noobj = 0.5) and **cls** (object cells' class scores → one-hot);
#   `total = box + obj + noobj + cls`.
# - A predictor is **responsible** when its cell holds the object and its box has the highest IoU with
#   it, computed in **image** coordinates (cell offsets and image sizes must not be mixed) on the box
#   the outputs stand for; when no box overlaps, darknet's smallest RMSE decides (`tie_break="rmse"`).
# - $\sqrt{w}$ makes an error cost more on small boxes. The paper's network *outputs* $\sqrt{w}$
#   (`wh="predicted_sqrt"`): no root of a prediction, no NaN. The NaN belongs to the tutorials' root
#   of a predicted $w$: `"signed_sqrt"` keeps it finite and still pushes $w$ up, `"clamped_sqrt"` has
#   a dead (zero) gradient for $w < 0$.
# - The obj target is the IoU, **detached**: otherwise the loss could lower itself by worsening the box.
#   `conf_target="one"` is the common simplification.
# - The paper does not define $\mathbb{1}^\text{noobj}$; darknet's no-object term covers every
#   non-responsible predictor. `noobj_scope="empty_cells"` leaves the losing predictor of an object
#   cell untrained.
# - The fidelity table of section 11 maps each choice to the paper, darknet, the tutorials and a
#   package option.
# - Terms are **summed** over the grid and divided by N; per-term means would make the λs' meaning
#   depend on how many objects a batch holds.
# - From now on: `yolo_lesson.loss.yolo_v1_loss` / `YoloV1Loss`, returning `LossTerms(total, box, obj, noobj, cls)`.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for your answer, followed by a checker cell that runs it on hidden cases
# and, when one fails, shows that case, the expected and the received value, and a hint. In the
# lesson the answer cells hold a solution and start folded: click the cell's left edge to open one.

# %%
from yolo_lesson import check

# %% [markdown]
# **Exercise 1 — a box term by hand.** In the hand-made batch (section 2), image 1, cell (1,1):
# the responsible predictor 0 draws the box (0.5, 0.5, 0.16, 0.25) for an object at (0.5, 0.5, 0.2, 0.2),
# so its outputs are (0.5, 0.5, 0.4, 0.5): the network outputs √w and √h, which the box term
# compares with √ŵ and √ĥ. Compute the box term by hand (λ_coord = 5, N = 1 for a batch made of
# image 1 alone) and put it in `box_by_hand`.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
box_by_hand = None
### BEGIN SOLUTION
# x and y are exact: 0. The outputs are the roots 0.4 and 0.5; the target's root √0.2 ≈ 0.44721.
# (0.4 - 0.44721)² + (0.5 - 0.44721)² = 0.002229 + 0.002786 = 0.005015;  × 5 = 0.02508.
box_by_hand = 5 * ((0.4 - 0.2**0.5) ** 2 + (0.5 - 0.2**0.5) ** 2)
print(f"by hand {box_by_hand:.5f}")
### END SOLUTION

# %% tags=["check"]
check.loss_term(box_by_hand, "box", pred[1:], target[1:], S=3, B=2, C=3)

# %% [markdown]
# **Exercise 2 — the class term another way, then the whole loss.** (a) Re-implement the class term
# with boolean indexing: select the object cells' scores and one-hot rows with `has_object` (shape
# `[number of object cells, C]`), sum their squared differences and divide by N. Check it on the
# hand-made batch and on the big one. (b) Assemble `my_loss(pred, target)`, the paper's total for
# B = 2, from `my_box_term`, `my_obj_term`, `my_noobj_term` and your class term, and run the
# checker: it compares the total *and* its gradient ∂total/∂pred with the package's on hidden
# cases, each built to catch one classic mistake. Then break `my_loss` on purpose (a mean instead
# of the sum, a confidence target of 1, an IoU target that keeps its graph, ...) and read what the
# checker says.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def class_term_by_indexing(pred, target, B):
    ### BEGIN SOLUTION
    has_object = target[..., 4].bool()
    selected_scores = pred[..., B * 5 :][has_object]   # [objects, C]
    selected_onehot = target[..., 5:][has_object]      # [objects, C]
    return ((selected_scores - selected_onehot) ** 2).sum() / pred.shape[0]
    ### END SOLUTION


def my_loss(pred, target):
    ### BEGIN SOLUTION
    return (my_box_term(pred, target, 2) + my_obj_term(pred, target, 2)
            + my_noobj_term(pred, target, 2) + class_term_by_indexing(pred, target, 2))
    ### END SOLUTION


### BEGIN SOLUTION
torch.testing.assert_close(class_term_by_indexing(pred, target, 2), yolo_v1_loss(pred, target, S=3, B=2, C=3).cls)
torch.testing.assert_close(class_term_by_indexing(big_pred, big_target, 2), yolo_v1_loss(big_pred, big_target).cls)
print("both ways agree:", round(class_term_by_indexing(pred, target, 2).item(), 4))
### END SOLUTION

# %% tags=["check"]
check.yolo_v1_loss(my_loss)  # the paper's layout, S = 7, B = 2, C = 20

# %% [markdown]
# **Exercise 3 — λ_noobj = 0.** Predict, before running anything: with `lambda_noobj=0`, what are the
# noobj term and the total on the big batch? Which confidences then receive no gradient at all?
# Check your prediction with autograd, and put the answer in `silent`: a boolean `[8, 7, 7, 2]`
# tensor, True for each confidence of `big_pred` without a gradient.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
silent = None
### BEGIN SOLUTION
# noobj = 0 and total = box + obj + cls. Only the responsible confidences keep a target; every
# other confidence gets gradient 0, so nothing would stop them from drifting upwards.
leaf = big_pred.clone().requires_grad_()
off = yolo_v1_loss(leaf, big_target, lambda_noobj=0.0)
assert off.noobj.item() == 0.0
off.total.backward()
silent = leaf.grad[..., [4, 9]] == 0                                   # [8, 7, 7, 2]
print(f"noobj {off.noobj.item()}, confidences without a gradient: {int(silent.sum())} of {silent.numel()}")
### END SOLUTION

# %% tags=["check"]
check.confidences_without_gradient(silent, big_pred, big_target, lambda_noobj=0.0)

# %% [markdown]
# **Exercise 4 — the forgotten predictor.** With `noobj_scope="empty_cells"`, which confidences of
# the hand-made batch receive no gradient from any term? Find them with autograd, on a copy of
# `pred` whose confidences are all 0.5 (so that no gradient is 0 by accident), and put them in
# `forgotten`, a boolean `[2, 3, 3, 2]` tensor.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
forgotten = None
### BEGIN SOLUTION
# In each object cell the predictor that lost the IoU contest is not responsible, so the obj term
# ignores it, and its cell is not empty, so the empty-cells noobj term ignores it too.
leaf = pred.clone()
leaf[..., [4, 9]] = 0.5
leaf.requires_grad_()
yolo_v1_loss(leaf, target, S=3, B=2, C=3, noobj_scope="empty_cells").total.backward()
forgotten = leaf.grad[..., [4, 9]] == 0
print("forgotten (image, row, col, predictor):", torch.nonzero(forgotten).tolist())
### END SOLUTION

# %% tags=["check"]
check.confidences_without_gradient(forgotten, pred, target, S=3, B=2, C=3, noobj_scope="empty_cells")
