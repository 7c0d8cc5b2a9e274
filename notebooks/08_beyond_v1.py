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
# # 08 · Beyond v1: what later YOLOs changed in the loss
#
# ## Learning goals
#
# After this lesson you can:
#
# - decode and encode anchor-relative predictions (sigmoid offsets, log-space sizes, YOLOv2/v3) and
#   give each object the anchor whose shape fits it best;
# - explain why objectness and class scores moved from squared errors to binary cross-entropy on
#   logits, and compute that cross-entropy without losing it to rounding;
# - apply YOLOv3's ignore threshold and YOLOv5's IoU-valued objectness target;
# - compare a CIoU box loss with YOLOv1's coordinate term, and say what focal loss's γ and α do;
# - read the two YOLOv8 ideas in the loss: the distribution focal loss and the task-aligned metric.
#
# **Why this matters.** The YOLOv1 loss of [lesson 03](03_yolov1_loss.ipynb) is one sum of squared errors.
# Every later YOLO kept its skeleton (a box term, an objectness term, a class term) and replaced
# the pieces one by one, each time because the squared error measured the wrong thing or gave the
# wrong gradient. Knowing *why* each piece changed is what lets you read a modern detector's loss
# (and debug it) instead of copying it. Each piece below is derived in a few lines, checked equal to
# `yolo_lesson.modern`, and from then on taken from the package.

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
import torch.nn.functional as F

from yolo_lesson import check
from yolo_lesson.boxes import box_iou, ciou, cxcywh_to_xyxy
from yolo_lesson.modern import (
    YOLOV3_ANCHORS_PX,
    assign_anchors,
    bce_with_logits,
    box_loss,
    cell_grid,
    decode_anchor_boxes,
    distribution_focal_loss,
    distribution_to_distance,
    encode_anchor_boxes,
    focal_loss,
    ignore_mask,
    iou_objectness_target,
    objectness_loss,
    task_alignment_metric,
)
from yolo_lesson.viz import PALETTE, draw_boxes, draw_grid, highlight_cell, image_axes

_ = torch.manual_seed(0)

# %% [markdown]
# ## 1 · Anchors: predict a correction to a prior (YOLOv2, YOLOv3)
#
# In YOLOv1 a predictor outputs its box directly: a centre offset that nothing keeps inside the cell
# and the square roots $\sqrt{w}, \sqrt{h}$ of a width and height in image units (paper §2.2), which
# must cover everything from a bottle to a bus. Redmon &
# Farhadi (YOLO9000, 2017) give each predictor a **prior**, an anchor box of typical shape found by
# k-means on the training boxes, and let the network predict only a correction
# $t = (t_x, t_y, t_w, t_h)$:
#
# $$
# b_x = \frac{\sigma(t_x) + c_x}{S}, \qquad b_y = \frac{\sigma(t_y) + c_y}{S}, \qquad
# b_w = p_w\, e^{t_w}, \qquad b_h = p_h\, e^{t_h}.
# $$
#
# $(c_x, c_y)$ is the cell (column, row), $(p_w, p_h)$ the anchor's size relative to the image, and
# $\sigma$ the logistic sigmoid. The sigmoid keeps the centre inside its cell whatever the network
# outputs; the exponential keeps the size positive and makes $t_w$ a *log-scale factor*: $t = 0$
# means "exactly the anchor, centred in the cell", and a 10 % error in size costs the same on a small
# anchor and a large one.

# %%
def my_decode(t, cell_xy, anchors, S):
    """t [..., 4] raw, cell_xy [..., 2] = (c_x, c_y), anchors [..., 2] = (p_w, p_h) -> cxcywh [..., 4]."""
    centre = (torch.sigmoid(t[..., :2]) + cell_xy) / S
    size = anchors * torch.exp(t[..., 2:])
    return torch.cat(torch.broadcast_tensors(centre, size), dim=-1)


S, A = 13, 3
anchors = torch.tensor(YOLOV3_ANCHORS_PX[6:], dtype=torch.float32) / 416  # [3, 2]: the 13×13 scale
grid = cell_grid(S)[:, :, None, :]                                        # [13, 13, 1, 2]
t = torch.randn(2, S, S, A, 4)                                             # [N, S, S, A, 4]
torch.testing.assert_close(my_decode(t, grid, anchors, S), decode_anchor_boxes(t, grid, anchors, S))
print("t = 0 in cell (c_x=6, c_y=4), anchor 0 ->",
      [round(v, 4) for v in decode_anchor_boxes(torch.zeros(4), torch.tensor([6, 4]), anchors[0], S).tolist()])

# %% [markdown]
# YOLOv3 (Redmon & Farhadi, 2018) uses nine anchors, found by k-means on COCO, three per output grid:
# the three largest on the coarse 13 × 13 grid of a 416 × 416 input, the smallest on the fine 52 × 52
# grid. Below, the three 13 × 13 priors drawn at one cell (dashed), and the box that the raw output
# $t = (0.8, -0.4, 0.3, -0.2)$ decodes to from anchor 0 (solid): the centre has moved right and up inside
# the cell, the box is $e^{0.3} ≈ 1.35$ times wider and $e^{-0.2} ≈ 0.82$ times as tall as its prior.

# %% mystnb={"image": {"alt": "A 13 by 13 grid with one highlighted cell, the three anchor priors centred there as dashed boxes of different shapes, and one box decoded from the first anchor."}}
cell = torch.tensor([6.0, 4.0])                                      # (c_x, c_y)
priors = decode_anchor_boxes(torch.zeros(A, 4), cell, anchors, S)    # [3, 4]: t = 0 for each anchor
decoded = decode_anchor_boxes(torch.tensor([0.8, -0.4, 0.3, -0.2]), cell, anchors[0], S)
ax = image_axes(size=5.5, title="YOLOv3 priors on the 13×13 grid, and one decoded box")
draw_grid(ax, S)
highlight_cell(ax, row=4, col=6, S=S)
draw_boxes(ax, cxcywh_to_xyxy(priors), color=list(PALETTE[2:5]), linestyle="--", centres=False)
draw_boxes(ax, cxcywh_to_xyxy(decoded), color=PALETTE[1])
for (w, h), color in zip(YOLOV3_ANCHORS_PX[6:], PALETTE[2:5]):
    ax.plot([], [], color=color, ls="--", label=f"anchor prior {w}×{h} px")  # legend entries only
ax.plot([], [], color=PALETTE[1], label="decoded from anchor 0")
ax.legend(loc="lower right", fontsize=9)
plt.show()

# %% [markdown]
# To train, we need **targets**: given an object's box, its cell and its anchor, what should the
# network's numbers be? The YOLO9000 text writes the decoding above and leaves it there; one reading is
# to invert it and regress the raw $t$ by squared error:
#
# $$
# t_x = \operatorname{logit}(b_x S - c_x), \qquad t_y = \operatorname{logit}(b_y S - c_y), \qquad
# t_w = \log\frac{b_w}{p_w}, \qquad t_h = \log\frac{b_h}{p_h}.
# $$
#
# The authors' code does something else for the centre. Darknet's YOLOv3 layer (`src/yolo_layer.c`)
# applies the sigmoid to the $x, y$ outputs in `forward_yolo_layer`, and `delta_yolo_box` then compares
# that $\sigma(t_x)$ with the **offset itself**, `truth.x*lw - i` (YOLOv2's `delta_region_box` in
# `src/region_layer.c` does the same). Ultralytics' YOLOv5 also decodes the centre from a sigmoid and
# then compares whole boxes (section 4), never a logit. Only the sizes are compared in log space, $t_w$
# against $\log(b_w / p_w)$. So the centre's target is a number in $[0, 1]$, and the loss is
# $(\sigma(t_x) - o_x)^2$ with $o_x = b_x S - c_x$.
#
# Why it matters: the logit is unbounded at the cell's borders. A centre 0.001 of a cell from the left
# border asks for $t_x = \operatorname{logit}(0.001) \approx -6.9$, one at $10^{-6}$ for $-13.8$, and one
# exactly on the border for $-\infty$. Take a network that says $t_x = 0$ (centre mid-cell) and compare
# the two losses and their gradients with respect to $t_x$ as the true offset nears the border:

# %%
t_x = torch.zeros(5, requires_grad=True)
offsets = torch.tensor([0.5, 0.1, 0.01, 1e-3, 1e-6])
logit_loss = (t_x - torch.logit(offsets)) ** 2                   # regress the raw t to logit(offset)
sigmoid_loss = (torch.sigmoid(t_x) - offsets) ** 2               # darknet / Ultralytics: σ(t) vs offset
(logit_grad,) = torch.autograd.grad(logit_loss.sum(), t_x)
(sigmoid_grad,) = torch.autograd.grad(sigmoid_loss.sum(), t_x)
for o, a, ga, b, gb in zip(offsets.tolist(), logit_loss.tolist(), logit_grad.tolist(),
                           sigmoid_loss.tolist(), sigmoid_grad.tolist()):
    print(f"offset {o:<7g}: logit target loss {a:7.2f} (grad {ga:+7.2f})   σ(t) vs offset loss {b:.3f} (grad {gb:+.3f})")

# %% [markdown]
# Both losses agree that the box should move left. The logit target says so with a loss and a
# gradient that grow without bound as the centre nears a border, although in the image the
# difference between an offset of 0.01 and 0.000001 is invisible: a few objects that happen to sit on
# cell lines then dominate the batch, and labels rounded onto a border ask for an infinite output (the
# package's logit encoder has to move such targets $10^{-6}$ inside the cell to stay finite). The
# sigmoid-versus-offset loss is bounded: its error lies in $[-1, 1]$. Its gradient does fade where
# $\sigma$ saturates; darknet's YOLOv4 option `scale_x_y` and YOLOv5's $2\sigma(t) - 0.5$ stretch the
# sigmoid slightly beyond $[0, 1]$, which makes a centre on a border reachable with a finite output.
#
# The package's `encode_anchor_boxes` gives both targets: the offset by default, as the code does,
# and the logit with `xy_target="logit"`. Inline, the default:

# %%
def my_encode(boxes, cell_xy, anchors, S):
    """cxcywh [..., 4] -> targets [..., 4]: the centre offsets (compared with σ(t)) and log size ratios."""
    offsets = boxes[..., :2] * S - cell_xy
    twh = torch.log(boxes[..., 2:] / anchors)
    return torch.cat(torch.broadcast_tensors(offsets, twh), dim=-1)


boxes = decode_anchor_boxes(t, grid, anchors, S)
torch.testing.assert_close(my_encode(boxes, grid, anchors, S), encode_anchor_boxes(boxes, grid, anchors, S))
targets_from_t = torch.cat([torch.sigmoid(t[..., :2]), t[..., 2:]], dim=-1)  # what the network's σ(t), t should be
torch.testing.assert_close(my_encode(boxes, grid, anchors, S), targets_from_t, rtol=1e-4, atol=1e-4)
torch.testing.assert_close(encode_anchor_boxes(boxes, grid, anchors, S, xy_target="logit"), t, rtol=1e-4, atol=1e-4)
print("decode then encode gives σ(t_x), σ(t_y), t_w, t_h back (offset targets), and t (logit targets)")


# %% [markdown]
# **Which anchor gets the object?** YOLOv3 gives each object exactly one anchor: the one whose *shape*
# overlaps it best, compared with the centres put on top of each other (where the box sits is the cell's
# business, not the anchor's). With the centres aligned the intersection is $\min(w, p_w)\min(h, p_h)$:
#
# $$
# \operatorname{IoU}_\text{shape}\big((w, h), (p_w, p_h)\big) =
# \frac{\min(w, p_w)\,\min(h, p_h)}{w h + p_w p_h - \min(w, p_w)\,\min(h, p_h)}.
# $$

# %%
def my_shape_iou(wh, priors):
    """wh [K, 2], priors [A, 2] -> [K, A]."""
    inter = torch.minimum(wh[:, None, 0], priors[None, :, 0]) * torch.minimum(wh[:, None, 1], priors[None, :, 1])
    union = wh[:, None, 0] * wh[:, None, 1] + priors[None, :, 0] * priors[None, :, 1] - inter
    return inter / union


all_anchors = torch.tensor(YOLOV3_ANCHORS_PX, dtype=torch.float32)  # [9, 2], pixels of a 416 input
objects = torch.tensor([[12.0, 14.0], [20.0, 60.0], [100.0, 80.0], [300.0, 200.0]])  # [4, 2] (w, h) px
found = assign_anchors(objects, all_anchors)
torch.testing.assert_close(my_shape_iou(objects, all_anchors), found.ious)
for (w, h), a, row in zip(objects.tolist(), found.anchor.tolist(), found.ious):
    grid_size = (52, 26, 13)[a // 3]
    print(f"object {w:.0f}×{h:.0f} px -> anchor {a} {YOLOV3_ANCHORS_PX[a]} (shape IoU {row[a]:.2f}), "
          f"on the {grid_size}×{grid_size} grid")

# %% [markdown]
# The choice of anchor also chooses the *grid*: a 12 × 14 object is learned on the fine 52 × 52 grid, a
# tall 20 × 60 one on the middle 26 × 26 grid, the two large ones on the coarse 13 × 13 grid. The shape IoU is scale invariant, so pixels or
# image-relative sizes give the same answer.
#
# ## 2 · Objectness and classes: binary cross-entropy on logits (YOLOv3)
#
# YOLOv1 regresses its confidences and class scores with squared errors on unbounded numbers. YOLOv3
# reads each of them as a probability, $p = \sigma(x)$ of a raw score (a **logit**) $x$, and trains it by
# logistic regression, the binary cross-entropy:
#
# $$
# \operatorname{BCE}(x, y) = -\,y \log \sigma(x) - (1 - y) \log\big(1 - \sigma(x)\big).
# $$
#
# Classes get one independent sigmoid each instead of a softmax, so that labels may overlap ("woman" and
# "person"). Why not keep the squared error on the probability? Compare the gradients with respect to
# the logit, for a positive ($y = 1$):
#
# $$
# \frac{\partial\, \operatorname{BCE}}{\partial x} = \sigma(x) - y, \qquad
# \frac{\partial\, (\sigma(x) - y)^2}{\partial x} = 2\,\big(\sigma(x) - y\big)\,\sigma(x)\big(1 - \sigma(x)\big).
# $$
#
# The squared error carries the extra factor $\sigma(x)(1 - \sigma(x))$, which goes to 0 when the
# sigmoid saturates: a prediction that is *confidently wrong* (large negative logit for a real object)
# gets almost no push. The cross-entropy's gradient is just the error.

# %% mystnb={"image": {"alt": "The gradient with respect to the logit, for a target of 1, of BCE on the logit and of MSE on the sigmoid: in the shaded confidently-wrong region BCE still pushes with nearly full strength while MSE's push vanishes."}}
logit = torch.linspace(-10, 10, 401, dtype=torch.float64, requires_grad=True)
y = torch.ones_like(logit)
grad_bce, = torch.autograd.grad(bce_with_logits(logit, y), logit)
grad_mse, = torch.autograd.grad(((torch.sigmoid(logit) - y) ** 2).sum(), logit)
fig, ax = plt.subplots(figsize=(7.5, 4))
ax.plot(logit.detach(), grad_bce, color=PALETTE[0], lw=2, label=r"BCE on the logit: $\sigma(x) - 1$")
ax.plot(logit.detach(), grad_mse, color=PALETTE[1], lw=2, label=r"MSE on $\sigma(x)$: $2(\sigma(x) - 1)\,\sigma(x)(1 - \sigma(x))$")
ax.axvspan(-10, -4, color="0.9", zorder=0)
ax.text(-9.7, -0.93, "confidently wrong:\nMSE's push vanishes", fontsize=9, va="bottom")
ax.set(xlabel="logit x (target y = 1)", ylabel="∂ loss / ∂ x", title="Gradient of each loss with respect to the logit")
ax.axhline(0, color="0.6", lw=0.8)
ax.legend(loc="lower right", fontsize=9)
plt.show()

# %% [markdown]
# **Computing it.** Written as "sigmoid, then log", the loss is fragile: in float32 $\sigma(20)$ *is* 1,
# so $\log(1 - \sigma(20)) = \log 0$. Work on the logit instead. Since $\log \sigma(x) = -\log(1 + e^{-x})$
# and $\log(1 - \sigma(x)) = -x - \log(1 + e^{-x})$, the loss becomes $\log(1 + e^{-x}) + (1 - y)\,x$, and
# splitting on the sign of $x$ so that the exponential never overflows:
#
# $$
# \operatorname{BCE}(x, y) = \max(x, 0) - x\,y + \log\big(1 + e^{-|x|}\big).
# $$
#
# This is what `torch.nn.functional.binary_cross_entropy_with_logits` computes, and what
# `yolo_lesson.modern.bce_with_logits` calls (with the package's argument checks):

# %%
def my_bce(x, y):
    return (x.clamp(min=0) - x * y + torch.log1p(torch.exp(-x.abs()))).sum()


x = 6 * torch.randn(1000)
y = torch.rand(1000)
torch.testing.assert_close(my_bce(x, y), bce_with_logits(x, y))
for value in (5.0, 17.0, 20.0, 30.0):
    x = torch.tensor([value])
    naive = F.binary_cross_entropy(torch.sigmoid(x), torch.zeros(1)).item()
    print(f"x = {value:4.0f}, y = 0:  sigmoid-then-BCE {naive:8.4f}   from the logit {bce_with_logits(x, torch.zeros(1)).item():8.4f}")

# %% [markdown]
# Past $x ≈ 17$ the sigmoid-first loss is wrong (PyTorch clamps $\log 0$ to $-100$, so it reads 100, and
# its gradient there is 0), while the loss from the logit is exactly $x$. Feeding raw scores to a BCE
# that expects probabilities is worse still: it simply raises an error for values outside $[0, 1]$.
#
# ## 3 · The ignore threshold (YOLOv3)
#
# In YOLOv3 each object has **one** positive prediction: its cell, its best anchor. Every other prediction
# is pushed towards "no object". But a neighbouring anchor or cell may already predict a box that
# overlaps the object very well; punishing *that* box teaches the network that good boxes are
# background, and the duplicate would be removed by non-maximum suppression
# ([lesson 07](07_predictions_to_detections.ipynb)) anyway. So YOLOv3 leaves out of the no-object term every
# prediction whose best IoU with any ground-truth box exceeds a threshold, 0.5 in the paper (Darknet's
# released `yolov3.cfg` sets `ignore_thresh = .7`):
#
# $$
# \text{ignored}_j = \Big[\max_k \operatorname{IoU}(\hat b_j, b_k) > 0.5\Big], \qquad
# \mathcal{L}_\text{noobj} = \sum_{j\ \text{not positive, not ignored}} \operatorname{BCE}(x_j, 0).
# $$

# %%
def my_ignore(pred_xyxy, true_xyxy, threshold=0.5):
    """pred [P, 4], true [K, 4] (xyxy) -> bool [P]."""
    if len(true_xyxy) == 0:
        return torch.zeros(len(pred_xyxy), dtype=torch.bool)
    return box_iou(pred_xyxy, true_xyxy).amax(dim=1) > threshold


truth = cxcywh_to_xyxy(torch.tensor([[0.50, 0.50, 0.40, 0.30]]))    # [1, 4]
preds = cxcywh_to_xyxy(torch.tensor([
    [0.50, 0.51, 0.38, 0.30],   # 0: the positive (its cell, its best anchor)
    [0.53, 0.47, 0.42, 0.26],   # 1: a near-duplicate from a neighbouring anchor
    [0.40, 0.55, 0.20, 0.20],   # 2: overlaps a little
    [0.15, 0.20, 0.15, 0.15],   # 3: background
]))
ignore = ignore_mask(preds, truth)
assert torch.equal(my_ignore(preds, truth), ignore)
print("IoU with the object:", [round(v, 2) for v in box_iou(preds, truth)[:, 0].tolist()], "-> ignored:", ignore.tolist())

# %% [markdown]
# The positive is never ignored (its own term trains it towards 1). With the package's
# `objectness_loss`, the near-duplicate's confident score 2.0 costs nothing once it is ignored:

# %%
obj_logits = torch.tensor([2.0, 2.0, -1.0, -4.0])
positive = torch.tensor([True, False, False, False])
without = objectness_loss(obj_logits, positive)
with_ignore = objectness_loss(obj_logits, positive, ignore=ignore)
print(f"no ignore:   obj {without.obj.item():.3f}, noobj {without.noobj.item():.3f}")
print(f"with ignore: obj {with_ignore.obj.item():.3f}, noobj {with_ignore.noobj.item():.3f}")

# %% mystnb={"image": {"alt": "A ground-truth object and several numbered dashed predictions coloured by role: the positive one, predictions ignored because they overlap the object well, and the negatives trained towards no object."}}
role_colors = {"object": PALETTE[0], "positive": PALETTE[2], "ignored": PALETTE[4], "negative": PALETTE[1]}
roles = ["positive"] + ["ignored" if flag else "negative" for flag in ignore[1:].tolist()]
ax = image_axes(size=5, title="Who is trained towards 'no object'?")
draw_boxes(ax, truth, color=role_colors["object"], lw=3)
draw_boxes(ax, preds, color=[role_colors[r] for r in roles], linestyle="--")
for j, (x2, y2) in enumerate(preds[:, 2:].tolist()):
    ax.text(x2 + 0.01, y2, str(j), color=role_colors[roles[j]], fontsize=11, fontweight="bold")
for role, color in role_colors.items():
    ax.plot([], [], color=color, lw=2, ls="-" if role == "object" else "--", label=role)
ax.legend(loc="lower right", fontsize=9)
plt.show()

# %% [markdown]
# ## 4 · The box term: 1 − CIoU instead of squared coordinates (YOLOv4, YOLOv5)
#
# YOLOv1's box term is $\lambda_\text{coord}\big[(x - \hat x)^2 + (y - \hat y)^2 + (\sqrt w - \sqrt{\hat w})^2
# + (\sqrt h - \sqrt{\hat h})^2\big]$: four independent numbers. But a detection is judged by its IoU, and
# equal coordinate errors can mean very different IoUs: the same 0.02 shift is a near miss on a large
# box and a disaster on a small one. YOLOv4 (Bochkovskiy et al., 2020) and YOLOv5 train the box with the
# IoU family directly, the CIoU of Zheng et al. (2020) from [lesson 01](01_boxes_and_iou.ipynb):
#
# $$
# \mathcal{L}_\text{box} = 1 - \operatorname{CIoU} = 1 - \operatorname{IoU} + \frac{\rho^2(\text{centres})}{c^2} + \alpha v .
# $$
#
# The centre penalty $\rho^2 / c^2$ keeps a gradient when the boxes do not overlap (where $1 - \text{IoU}$
# is flat at 1), and $\alpha v$ aligns the aspect ratios, with
# $v = \frac{4}{\pi^2}\big(\arctan\frac{\hat w}{\hat h} - \arctan\frac{w}{h}\big)^2$ and
# $\alpha = v / \big((1 - \operatorname{IoU}) + v\big)$.
#
# $\alpha$ depends on the prediction too, so an implementation must choose whether the gradient flows
# through it. Ultralytics (`bbox_iou` in `ultralytics/utils/metrics.py`, and YOLOv5 before it) computes
# $\alpha$ inside `torch.no_grad()`: a weight on the aspect term, not something to optimize. The
# package's `ciou` offers both (`alpha="differentiable"`, its default, and `alpha="constant"`), and
# `box_loss`, which this lesson uses, holds $\alpha$ constant as Ultralytics does. The value is the
# same either way; only the gradient differs. Inline, with $\alpha$ detached:

# %%
def my_box_loss(pred_xyxy, true_xyxy):
    """1 - CIoU of two xyxy boxes [4], with α computed without gradient (as Ultralytics does)."""
    (px1, py1, px2, py2), (tx1, ty1, tx2, ty2) = pred_xyxy, true_xyxy
    iou_value = box_iou(pred_xyxy[None], true_xyxy[None])[0, 0]
    rho2 = ((px1 + px2 - tx1 - tx2) ** 2 + (py1 + py2 - ty1 - ty2) ** 2) / 4       # centre distance²
    c2 = (torch.maximum(px2, tx2) - torch.minimum(px1, tx1)) ** 2 \
        + (torch.maximum(py2, ty2) - torch.minimum(py1, ty1)) ** 2                # enclosing diagonal²
    v = 4 / math.pi**2 * (torch.atan((tx2 - tx1) / (ty2 - ty1)) - torch.atan((px2 - px1) / (py2 - py1))) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou_value + v)                                          # a weight, not trained
    return 1 - (iou_value - rho2 / c2 - alpha * v)


pred_pair = cxcywh_to_xyxy(torch.tensor([0.45, 0.50, 0.30, 0.15], dtype=torch.float64))
true_pair = cxcywh_to_xyxy(torch.tensor([0.50, 0.50, 0.20, 0.20], dtype=torch.float64))
gradients = {}
for name, fn in (("inline, α constant", my_box_loss), ("box_loss", box_loss),
                 ("1 - ciou(alpha='differentiable')", lambda p, q: (1 - ciou(p, q, alpha="differentiable")).sum())):
    leaf = pred_pair.clone().requires_grad_()
    value = fn(leaf, true_pair)
    (gradients[name],) = torch.autograd.grad(value, leaf)
    print(f"{name:>33}: loss {value.item():.5f}, gradient {[round(g, 4) for g in gradients[name].tolist()]}")
torch.testing.assert_close(gradients["inline, α constant"], gradients["box_loss"])


def v1_coord_term(pred_cxcywh, true_cxcywh, lambda_coord=5.0):
    """YOLOv1's box term with x, y in image units (the paper uses cell units, a factor S)."""
    d_xy = pred_cxcywh[:2] - true_cxcywh[:2]
    d_wh = pred_cxcywh[2:].sqrt() - true_cxcywh[2:].sqrt()
    return lambda_coord * ((d_xy**2).sum() + (d_wh**2).sum())


# %% [markdown]
# The same loss value three times; the gradients differ slightly (by up to 0.03 here), which is all
# the choice of α changes. Now the same pair of boxes, then the same pair shrunk to a quarter of its
# size (every coordinate × 0.25), against YOLOv1's coordinate term:

# %%
pair = (torch.tensor([0.45, 0.50, 0.30, 0.15]), torch.tensor([0.50, 0.50, 0.20, 0.20]))
for scale in (1.0, 0.25):
    p, q = pair[0] * scale, pair[1] * scale
    print(f"scale {scale:4}: v1 coordinate term {v1_coord_term(p, q).item():.4f}   "
          f"1 - CIoU {box_loss(cxcywh_to_xyxy(p), cxcywh_to_xyxy(q)).item():.4f}")

# %% [markdown]
# The v1 term shrinks 4.5-fold with the boxes (its squared centre error sixteenfold, its square-root
# terms fourfold), although the small pair overlaps exactly as badly as the large one; 1 − CIoU does not
# move. Now slide a box of the right size horizontally past its target, for a small target (width 0.1)
# and a large one (width 0.4):

# %% mystnb={"image": {"alt": "Losses as a box slides horizontally away from its target, for widths 0.1 and 0.4. Left: YOLOv1's coordinate term, one curve for both widths. Right: 1 minus IoU, GIoU and CIoU, which depend on the box's size."}}
shifts = torch.linspace(0, 0.5, 201)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for width, style, v1_color in ((0.1, "-", PALETTE[3]), (0.4, "--", PALETTE[4])):
    target_box = torch.tensor([0.5, 0.5, width, width])
    moved = target_box.repeat(len(shifts), 1)
    moved[:, 0] += shifts                                           # [201, 4] cxcywh
    ax1.plot(shifts, [v1_coord_term(m, target_box).item() for m in moved], style, color=v1_color, lw=2, label=f"width {width}")
    for kind, name, color in (("iou", "IoU", PALETTE[0]), ("giou", "GIoU", PALETTE[2]), ("ciou", "CIoU", PALETTE[1])):
        loss = box_loss(cxcywh_to_xyxy(moved), cxcywh_to_xyxy(target_box), kind=kind, reduction="none")
        ax2.plot(shifts, loss, style, color=color, lw=2, label=f"1 − {name}, width {width}")
ax1.set(title="YOLOv1 coordinate term (λ_coord = 5): one curve", xlabel="horizontal shift (image widths)", ylabel="loss")
ax2.set(title="IoU-family losses", xlabel="horizontal shift (image widths)", ylabel="loss")
ax1.legend(fontsize=9)
ax2.legend(fontsize=8, ncol=2, loc="lower right")
plt.tight_layout()
plt.show()

# %% [markdown]
# Left: the v1 term is one parabola for both sizes; it cannot tell a near miss on a large box from no
# overlap at all on a small one. Right: the IoU-family losses depend on the shift *relative to the size*;
# $1 - \text{IoU}$ goes flat at 1 as soon as the boxes separate (no gradient left), while GIoU and CIoU keep
# climbing.
#
# **The objectness target becomes the IoU.** YOLOv5 sets the objectness target of a positive
# prediction to its box's CIoU with the object, detached (it is a target: the loss must not be able to
# lower itself by making the box worse) and clamped at 0 (CIoU can be negative; a BCE target cannot).
# The objectness score then estimates *how good the box is*, the same idea as YOLOv1's IoU confidence
# target ([lesson 03](03_yolov1_loss.ipynb)), now learned by BCE:

# %%
def my_iou_target(pred_xyxy, true_xyxy):
    return ciou(pred_xyxy, true_xyxy).detach().clamp(min=0)


pred_boxes = cxcywh_to_xyxy(torch.tensor([[0.45, 0.50, 0.30, 0.15], [0.50, 0.50, 0.21, 0.19], [0.90, 0.10, 0.05, 0.05]]))
target = iou_objectness_target(pred_boxes, true_pair)
torch.testing.assert_close(my_iou_target(pred_boxes, true_pair), target)
print("objectness targets of three positives:", [round(v, 3) for v in target.tolist()])
terms = objectness_loss(torch.tensor([1.0, 3.0, 1.0]), torch.ones(3, dtype=torch.bool), target=target)
print(f"their obj term: {terms.obj.item():.3f}")

# %% [markdown]
# **The whole landscape, and where descent goes.** The curves above slide a box along one line. Over
# every centre of the image at once, for a predicted box of fixed size, $1 - \text{IoU}$ is a plateau
# at exactly 1 wherever the boxes do not overlap; GIoU, DIoU and CIoU tilt that plateau towards the
# object. The white arrows are $-\nabla$ of each loss with respect to the centre, by autograd
# (`yolo_lesson.landscape.iou_family_landscape`); the title gives the measured share of centres where
# the gradient is exactly zero. First one value inline against the package:

# %%
from yolo_lesson.boxes import giou as giou_value
from yolo_lesson.landscape import descent_paths, iou_family_landscape
from yolo_lesson.landscape_figures import LOSS_LABELS, plot_descent_paths, plot_iou_family_landscape
from yolo_lesson.widgets import DescentReplay

object_box = (0.35, 0.35, 0.65, 0.60)
family = iou_family_landscape(object_box, (0.2, 0.15), grid=40)
centre = torch.tensor([family.xs[7].item(), family.ys[30].item()], dtype=torch.float64, requires_grad=True)
inline = 1 - giou_value(torch.cat([centre - torch.tensor([0.1, 0.075]), centre + torch.tensor([0.1, 0.075])]),
                        torch.tensor(object_box, dtype=torch.float64))
(inline_grad,) = torch.autograd.grad(inline, centre)
torch.testing.assert_close(inline.detach(), family.losses["giou"][30, 7])
torch.testing.assert_close(inline_grad, family.grads["giou"][30, 7])
cy_grid, cx_grid = torch.meshgrid(family.ys, family.xs, indexing="ij")
inside = (cx_grid - 0.1 >= 0.35) & (cx_grid + 0.1 <= 0.65) & (cy_grid - 0.075 >= 0.35) & (cy_grid + 0.075 <= 0.60)
print(f"centres where the boxes do not overlap: {(~family.overlap).double().mean().item():.1%}, "
      f"where the box lies wholly inside the object: {inside.double().mean().item():.1%}")
for name, share in family.zero_gradient.items():
    print(f"{LOSS_LABELS[name]}: gradient exactly 0 at {share:.1%} of the centres")

# %% mystnb={"image": {"alt": "Four heatmaps over the predicted box's centre: 1 minus IoU is a flat plateau with no arrows away from the object, while 1 minus GIoU, DIoU and CIoU slope towards the dashed object box with minus-gradient arrows everywhere."}}
plot_iou_family_landscape(family)
plt.show()

# %% [markdown]
# $1 - \text{IoU}$ has no gradient on the whole plateau, and a second, small flat region: a box lying
# wholly inside the object can slide anywhere there without changing its IoU. GIoU is flat there too
# (its enclosing box is then the object itself, so GIoU equals IoU); DIoU's and CIoU's centre penalty
# is not. So a box that starts away from its object gets no instruction at all from $1 - \text{IoU}$. Train one
# box by plain gradient descent, $\theta \leftarrow \theta - \eta\,\nabla_\theta \mathcal{L}(\theta)$ with
# $\theta = (c_x, c_y, w, h)$, from the same start under each loss: YOLOv1's box term (the package's
# `yolo_v1_loss` for one responsible predictor), and $1 - $ IoU, GIoU, DIoU, CIoU (`descent_paths`).
# The step sizes are fixed: $\eta = 0.001$ for the v1 term, whose gradient in image units is
# $2\lambda_\text{coord}S^2 = 490$ times the centre error (each step multiplies that error by
# $1 - 490\eta$: above $\eta = 1/490 \approx 0.002$ the centre overshoots, above $2/490 \approx 0.004$ it
# diverges), and $\eta = 0.003$ for the IoU family; 100 steps. One step inline first:

# %%
start_apart = (0.05, 0.62, 0.20, 0.80)       # no overlap with the object
theta = torch.tensor([0.125, 0.71, 0.15, 0.18], dtype=torch.float64, requires_grad=True)  # its (cx, cy, w, h)
loss = 1 - giou_value(torch.cat([theta[:2] - theta[2:] / 2, theta[:2] + theta[2:] / 2]), torch.tensor(object_box, dtype=torch.float64))
(step_grad,) = torch.autograd.grad(loss, theta)
one_step = (theta - 0.003 * step_grad).detach()
recorded = descent_paths(object_box, start_apart, steps=1, losses=["giou"])["giou"].boxes[1]
torch.testing.assert_close(torch.cat([one_step[:2] - one_step[2:] / 2, one_step[:2] + one_step[2:] / 2]), torch.tensor(recorded, dtype=torch.float64))

paths = descent_paths(object_box, start_apart)
for name, path in paths.items():
    moved = max(abs(a - b) for a, b in zip(path.boxes[0], path.boxes[-1]))
    rises = sum(later > earlier for earlier, later in zip(path.values, path.values[1:]))
    print(f"{name:>5}: IoU {path.ious[0]:.3f} -> {path.ious[-1]:.3f} after 100 steps, box moved {moved:.3f}, "
          f"loss rose at {rises} steps")

# %% [markdown]
# Under $1 - \text{IoU}$ the box does not move at all: its IoU stays 0 and its gradient is exactly 0 at
# every step. The other four move onto the object (the IoUs printed above). GIoU gets closest but its
# loss rises at some steps: near a match the IoU family has a kink (its slope does not shrink to zero
# as a squared error's does), so a fixed step overshoots and zig-zags; the v1 term, a squared error,
# settles smoothly. Scrub through the steps, or press play. Every frame was computed in Python and saved
# with the widget, so the replay also works on the website, without a kernel.

# %%
DescentReplay(object_box, start_apart, note="Start: no overlap. 1 − IoU never moves; v1 (η = 0.001) and the IoU family (η = 0.003) do.")

# %% [markdown]
# From a start that already overlaps the object, every loss improves the IoU; compare how fast, and
# where each one ends after 100 steps:

# %% mystnb={"image": {"alt": "Left: centre paths and final boxes of one box trained from an overlapping start under the v1 box term and the four IoU-family losses, with the dashed object. Right: each path's IoU with the object against the step."}}
start_overlap = (0.30, 0.28, 0.55, 0.45)
overlap_paths = descent_paths(object_box, start_overlap)
for name, path in overlap_paths.items():
    print(f"{name:>5}: IoU {path.ious[0]:.3f} -> {path.ious[-1]:.3f}")
plot_descent_paths(overlap_paths, object_box, title="start overlapping the object (black dotted)")
plt.show()

# %% [markdown]
# The same start, replayed step by step:

# %%
DescentReplay(object_box, start_overlap, note="Start: overlapping. Every loss improves the IoU; near the match the IoU family zig-zags, the v1 term does not.")

# %% [markdown]
# ## 5 · Focal loss (Lin et al., 2017)
#
# A 416 × 416 YOLOv3 makes $3 \cdot (13^2 + 26^2 + 52^2) = 10\,647$ predictions per image, of which a
# handful are positives. Each easy background prediction contributes a small BCE, but ten thousand small
# losses add up and drown the few that matter. Lin et al. ("Focal Loss for Dense Object Detection",
# ICCV 2017) multiply the cross-entropy by a factor that vanishes for well-classified examples. With
# $p_t$ the probability given to the *correct* answer ($p_t = p$ for a positive, $1 - p$ for a negative):
#
# $$
# \operatorname{FL}(p_t) = -\,\alpha_t\,(1 - p_t)^\gamma \log p_t, \qquad
# \alpha_t = \alpha \text{ for positives}, \ 1 - \alpha \text{ for negatives}.
# $$
#
# The paper's best values are $\gamma = 2$, $\alpha = 0.25$; $\gamma = 0$ without $\alpha$ is plain BCE.

# %%
def my_focal(x, y, alpha=0.25, gamma=2.0):
    p = torch.sigmoid(x)
    p_t = p * y + (1 - p) * (1 - y)
    alpha_t = alpha * y + (1 - alpha) * (1 - y)
    return (alpha_t * (1 - p_t) ** gamma * F.binary_cross_entropy_with_logits(x, y, reduction="none")).sum()


x = 3 * torch.randn(500)
y = (torch.rand(500) < 0.2).float()
torch.testing.assert_close(my_focal(x, y), focal_loss(x, y))
torch.testing.assert_close(focal_loss(x, y, alpha=None, gamma=0.0), bce_with_logits(x, y))
print("my_focal == focal_loss; with γ = 0 and no α, focal_loss == BCE")

# %% mystnb={"image": {"alt": "Focal loss against the probability of the correct answer for \u03b3 from 0 (plain BCE) to 5: larger \u03b3 lowers the loss of well-classified examples, shaded on the right."}}
p_t = torch.linspace(0.005, 1, 400)
fig, ax = plt.subplots(figsize=(7.5, 4.2))
for gamma, color in zip((0, 0.5, 1, 2, 5), PALETTE):
    ax.plot(p_t, -(1 - p_t) ** gamma * torch.log(p_t), color=color, lw=2, label=f"γ = {gamma}" + (" (BCE)" if gamma == 0 else ""))
ax.axvspan(0.6, 1, color="0.92", zorder=0)
ax.text(0.62, 3.2, "well-classified\nexamples", fontsize=9)
ax.set(xlabel="probability of the correct answer $p_t$", ylabel="loss", ylim=(0, 4),
       title="Focal loss for several γ (α off)")
ax.legend()
plt.show()

# %% [markdown]
# What the factor does to a realistic mix: 10 000 easy negatives ($p = 0.01$) and 10 hard positives
# ($p = 0.3$). With BCE the easy negatives make up most of the loss; with the focal loss almost none:

# %%
logits = torch.cat([torch.full((10_000,), math.log(0.01 / 0.99)), torch.full((10,), math.log(0.3 / 0.7))])
labels = torch.cat([torch.zeros(10_000), torch.ones(10)])
for name, per_example in (("BCE", bce_with_logits(logits, labels, reduction="none")),
                          ("focal", focal_loss(logits, labels, reduction="none"))):
    share = per_example[:10_000].sum() / per_example.sum()
    print(f"{name:>5}: easy negatives carry {100 * share:.1f} % of the loss")

# %% [markdown]
# An honest footnote: the YOLOv3 report lists focal loss among the things that did *not* help it.
# YOLOv3's objectness already separates "is there an object" from "which class", and the ignore
# threshold keeps good boxes that are not an object's assigned anchor from being trained as "no object"
# (they would be the hardest negatives); the class imbalance that focal loss fixes in RetinaNet
# is partly handled there by design.
#
# ## 6 · A look at YOLOv8: distributions and task alignment
#
# YOLOv8 (Ultralytics, 2023) drops both anchors and the objectness score. Each point of each grid
# predicts class scores and the distances from itself to the four sides of the box (left, top, right,
# bottom, in units of the grid stride). Two ideas from other papers shape its loss.
#
# **Distribution focal loss** (Li et al., "Generalized Focal Loss", NeurIPS 2020). Instead of one
# number per distance, the head outputs logits over $R$ bins $0, 1, \dots, R - 1$ (YOLOv8: $R = 16$) and
# the distance is the mean of the softmax, $\hat d = \sum_i i\, p_i$. The loss pulls the mass onto the two
# bins around the target $y$, with $i = \lfloor y \rfloor$:
#
# $$
# \operatorname{DFL}(p, y) = -\big((i + 1 - y)\log p_i + (y - i)\log p_{i+1}\big).
# $$
#
# A target exactly on a bin gives $-\log p$ of that bin; the best distribution splits the mass
# $(i + 1 - y,\ y - i)$ over the two neighbours, whose mean is exactly $y$. A distribution can also say "I
# am unsure between 5 and 9" (a blurred or occluded edge), which one number cannot.

# %%
def my_dfl(logits, y):
    """logits [..., R], y [...] in [0, R - 1] -> summed DFL."""
    R = logits.shape[-1]
    left = y.floor().clamp(max=R - 2).long()
    w_left = (left + 1) - y
    log_p = torch.log_softmax(logits, dim=-1)
    lp_left = log_p.gather(-1, left[..., None]).squeeze(-1)
    lp_right = log_p.gather(-1, left[..., None] + 1).squeeze(-1)
    return -(w_left * lp_left + (1 - w_left) * lp_right).sum()


bins = torch.randn(8, 4, 16)             # [points, sides, R]
distances = 15 * torch.rand(8, 4)        # [points, sides], in [0, 15]
torch.testing.assert_close(my_dfl(bins, distances), distribution_focal_loss(bins, distances))
print("my_dfl == distribution_focal_loss")

# %% [markdown]
# Train one 16-bin distribution with DFL towards $y = 6.3$ for a few hundred steps: the mass gathers on
# bins 6 and 7 in the ratio 0.7 : 0.3, and the mean lands on 6.3.

# %%
side = torch.zeros(16, requires_grad=True)
goal = torch.tensor(6.3)
optimizer = torch.optim.SGD([side], lr=2.0)
for _ in range(300):
    optimizer.zero_grad()
    distribution_focal_loss(side, goal).backward()
    optimizer.step()
probs = torch.softmax(side.detach(), dim=-1)
print(f"after training: p_6 = {probs[6]:.2f}, p_7 = {probs[7]:.2f}, mean {distribution_to_distance(side.detach()).item():.2f}")

# %% mystnb={"image": {"alt": "Bars of a 16-bin probability distribution for one side of a box after training, with the target distance and the distribution's mean drawn as vertical lines."}}
fig, ax = plt.subplots(figsize=(7.5, 3.6))
ax.bar(range(16), probs, color=PALETTE[0], label="softmax after training")
ax.axvline(goal, color=PALETTE[1], lw=2, label=f"target y = {goal.item():.1f}")
ax.axvline(distribution_to_distance(side.detach()), color=PALETTE[2], ls="--", lw=2,
           label=f"mean of the distribution = {distribution_to_distance(side.detach()).item():.2f}")
ax.set(xlabel="bin (distance in stride units)", ylabel="probability", xticks=range(16), title="One side of a box as a distribution (R = 16)")
ax.legend(fontsize=9)
plt.show()

# %% [markdown]
# **The task-aligned metric** (Feng et al., "TOOD", ICCV 2021). Which points are positives for an
# object? YOLOv1 and v3 decide by geometry alone (the centre's cell, the best anchor). YOLOv8 asks the
# predictions themselves: a good positive both scores the object's class highly ($s$) and already
# localizes it well ($u$, the IoU of its box). Among the points inside the object it ranks candidates by
#
# $$
# t = s^\alpha \cdot u^\beta
# $$
#
# and keeps the top $k$. TOOD's own assigner uses $\alpha = 1$, $\beta = 6$; Ultralytics' YOLOv8 detection
# loss builds its assigner with $k = 10$, $\alpha = 0.5$, $\beta = 6$ (the package's defaults). The metric
# also becomes the (normalized) soft target of the class BCE, so the class score learns to predict the box
# quality too: the role objectness played before.

# %%
def my_alignment(scores, ious, alpha=0.5, beta=6.0):
    return scores**alpha * ious**beta


scores = torch.tensor([0.90, 0.30, 0.60, 0.80, 0.05])
ious = torch.tensor([0.50, 0.80, 0.75, 0.60, 0.90])
metric = task_alignment_metric(scores, ious)
torch.testing.assert_close(my_alignment(scores, ious), metric)
for j in metric.argsort(descending=True).tolist():
    print(f"candidate {j}: s = {scores[j]:.2f}, u = {ious[j]:.2f} -> t = {metric[j]:.4f}")

# %% [markdown]
# With $\beta = 6$ localization dominates: candidate 0, the most confident, ranks last because its box is
# loose, and candidate 4, the tightest box, only third because it hardly believes in the class. The top
# two, 1 and 2, are neither the top two by score (0 and 3) nor the top two by IoU (4 and 1).

# %% [markdown]
# ## Summary
#
# - **Anchors** (YOLOv2/v3): predict $t$ relative to a prior, $b_x = (\sigma(t_x) + c_x)/S$,
#   $b_w = p_w e^{t_w}$. Targets as the authors' code builds them: the centre offset, compared with
#   $\sigma(t_x)$ (bounded), and $\log(b_w/p_w)$ for the size; a logit target for the centre runs off to
#   $\pm\infty$ at cell borders (`xy_target="logit"`). Each object gets the one anchor of best
#   *shape* IoU, which also picks its grid. `decode_anchor_boxes`, `encode_anchor_boxes`, `assign_anchors`.
# - **BCE on logits** (YOLOv3) for objectness and classes: its gradient is the error $\sigma(x) - y$, while
#   MSE on $\sigma(x)$ loses its gradient exactly where the prediction is confidently wrong. Compute it from
#   the logit, $\max(x, 0) - xy + \log(1 + e^{-|x|})$, never as sigmoid-then-log. `bce_with_logits`.
# - **Ignore threshold** (YOLOv3, 0.5 in the paper): a non-positive prediction whose box already overlaps an
#   object by IoU > 0.5 is not pushed towards "no object". `ignore_mask`, `objectness_loss`.
# - **1 − CIoU** (YOLOv4/v5) replaces the squared coordinate errors: scale invariant, a gradient for disjoint
#   boxes, and it measures what the evaluation measures.
#   Over the whole image $1 - \text{IoU}$ is a plateau with no gradient wherever the boxes are apart (81 % of
#   the centres measured here), and a box trained from there never moves; GIoU, DIoU and CIoU bring it in. The objectness target becomes the detached CIoU,
#   clamped at 0. CIoU's α is held constant, as in Ultralytics (`ciou(..., alpha="constant")`).
#   `box_loss`, `iou_objectness_target`.
# - **Focal loss** (Lin et al. 2017, α = 0.25, γ = 2) scales BCE by $(1 - p_t)^\gamma$ so easy negatives stop
#   dominating. `focal_loss`.
# - **YOLOv8**: sides as 16-bin distributions trained with DFL (GFL, Li et al. 2020), positives ranked by
#   $t = s^{0.5} u^{6}$ (TOOD's metric; TOOD itself uses α = 1). `distribution_focal_loss`,
#   `distribution_to_distance`, `task_alignment_metric`.
#
# Next: [lesson 09](09_your_own_data.ipynb) trains the tiny YOLO of lesson 06 on your own labelled
# images, read from disk.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for your answer, followed by a checker cell that runs it on hidden cases
# and, when one fails, shows that case, the expected and the received value, and a hint. In the
# lesson the answer cells hold a solution and start folded: click the cell's left edge to open one.

# %% [markdown]
# **Exercise 1 — decode by hand.** On a 4 × 4 grid, cell $(c_x, c_y) = (3, 1)$, anchor $(p_w, p_h) = (0.25, 0.5)$,
# the network outputs $t = (0, \ln 3, \ln 2, 0)$. Work out the box $(b_x, b_y, b_w, b_h)$ on paper and
# put it in `decoded_by_hand` (a tensor); the checker compares it with `decode_anchor_boxes`.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
decoded_by_hand = None
### BEGIN SOLUTION
# σ(0) = 1/2 → b_x = (0.5 + 3) / 4 = 0.875;  σ(ln 3) = 3/4 → b_y = (0.75 + 1) / 4 = 0.4375;
# b_w = 0.25 · e^{ln 2} = 0.5;  b_h = 0.5 · e^0 = 0.5.
decoded_by_hand = torch.tensor([0.875, 0.4375, 0.5, 0.5])
### END SOLUTION

# %% tags=["check"]
check.anchor_decode(decoded_by_hand, t=(0.0, math.log(3), math.log(2), 0.0), cell_xy=(3, 1), anchor=(0.25, 0.5), S=4)

# %% [markdown]
# **Exercise 2 — YOLOv5's bounded sizes.** $e^{t_w}$ is unbounded: a large $t_w$ early in training gives a
# huge box, and in float32 $e^{89}$ is already infinite. YOLOv5 decodes sizes as $b_w = p_w\,(2\sigma(t_w))^2$
# instead. Write `decode_wh_v5(t_wh, anchors)`, check that $t = 0$ still gives exactly the anchor, that
# no width exceeds $4 p_w$, and that the gradient at $t_w = 100$ is finite where $p_w e^{t_w}$ overflows.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def decode_wh_v5(t_wh, anchors):
    ### BEGIN SOLUTION
    return anchors * (2 * torch.sigmoid(t_wh)) ** 2
    ### END SOLUTION


### BEGIN SOLUTION
anchor = torch.tensor([0.2, 0.3])
torch.testing.assert_close(decode_wh_v5(torch.zeros(2), anchor), anchor)    # (2 · 1/2)² = 1
big = torch.tensor([100.0, -100.0], requires_grad=True)
sizes = decode_wh_v5(big, anchor)
sizes.sum().backward()
assert (sizes <= 4 * anchor).all() and torch.isfinite(big.grad).all()
assert torch.isinf(anchor[0] * torch.exp(torch.tensor(100.0)))
print("v5 sizes at t = ±100:", [round(v, 4) for v in sizes.tolist()])
### END SOLUTION

# %% tags=["check"]
check.decode_wh_v5(decode_wh_v5)

# %% [markdown]
# **Exercise 3 — focal loss from `logsigmoid` alone.** Write `my_focal_loss(logits, targets)` (α = 0.25,
# γ = 2, summed over every element, 0/1 targets) without `binary_cross_entropy_with_logits`: use
# $\log p_t = \log\sigma(x)$ for $y = 1$ and $\log\sigma(-x)$ for $y = 0$ (`F.logsigmoid`), and
# $1 - p_t = e^{\log\sigma(-x)}$ or $e^{\log\sigma(x)}$ likewise. Then answer with it: at which probability
# $p$ of a positive is the focal loss (without α) exactly 1 % of its BCE?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def my_focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    ### BEGIN SOLUTION
    log_p_t = torch.where(targets > 0.5, F.logsigmoid(logits), F.logsigmoid(-logits))
    log_1_minus_p_t = torch.where(targets > 0.5, F.logsigmoid(-logits), F.logsigmoid(logits))
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (-alpha_t * torch.exp(gamma * log_1_minus_p_t) * log_p_t).sum()
    ### END SOLUTION


### BEGIN SOLUTION
# FL / BCE = (1 - p)^2 = 0.01 → 1 - p = 0.1 → p = 0.9 → logit ln(0.9 / 0.1) = ln 9.
x = torch.tensor([math.log(9)])
ratio = my_focal_loss(x, torch.ones(1), alpha=1.0) / bce_with_logits(x, torch.ones(1))  # α_t = 1 for a positive: no α
assert abs(ratio.item() - 0.01) < 1e-6
print(f"p = {torch.sigmoid(x).item():.2f}, focal / BCE = {ratio.item():.4f}")
### END SOLUTION

# %% tags=["check"]
check.focal_loss(my_focal_loss)

# %% [markdown]
# **Exercise 4 — top-k by alignment.** Write `top_k_positives(scores, ious, k)` that returns the indices of
# the $k$ candidates with the largest task-aligned metric (α = 0.5, β = 6), best first. On the five
# candidates of section 6, compare its top 2 with the top 2 by IoU alone and by score alone.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def top_k_positives(scores, ious, k):
    ### BEGIN SOLUTION
    return task_alignment_metric(scores, ious).topk(k).indices
    ### END SOLUTION


### BEGIN SOLUTION
chosen = top_k_positives(scores, ious, 2).tolist()
print("by alignment:", chosen, " by IoU alone:", ious.topk(2).indices.tolist(), " by score alone:", scores.topk(2).indices.tolist())
### END SOLUTION

# %% tags=["check"]
check.top_k_positives(top_k_positives)
