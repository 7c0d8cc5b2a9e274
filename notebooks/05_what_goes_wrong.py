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
# # 05 · What goes wrong: the article's three losses, diagnosed
#
# ## Learning goals
#
# After this lesson you can:
#
# - run a loss on the batches that break it (no objects, raw scores, an untrained network) and
#   read the symptom: a NaN, an exception, a gradient where there should be none, or none where
#   there should be one;
# - explain why a **mean over a mask** is NaN when the mask is empty, and why a sum divided by the
#   batch size is not;
# - tell which inputs `F.binary_cross_entropy` accepts, what it does near 0 and 1, and why
#   `F.binary_cross_entropy_with_logits` is the stable form;
# - measure the *effective* weight of each loss term with autograd and show how per-term means
#   change what λ_coord and λ_noobj mean;
# - name, for each flaw, the fix the paper's loss already contains.
#
# **Why this matters.** The course starts from an article that explains the YOLO loss in three
# increasingly "realistic" PyTorch versions. Each runs, returns a number and would train
# *something*, which is exactly what makes its mistakes dangerous: a loss is never checked by a
# compiler, only by what the network ends up learning. The package keeps the article's three
# versions as exhibits in `yolo_lesson.article_losses`, flaws included. In this lesson we run them
# side by side with the paper's loss ([lesson 03](03_yolov1_loss.ipynb)) on the same seeded batches and
# turn every flaw into a number or a picture. The article also gets several things right, and we
# say where.

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
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from yolo_lesson.article_losses import (
    article_iou,
    article_loss_iou_gate,
    article_loss_mse,
    article_loss_smoothl1_bce,
)
from yolo_lesson.grid import encode_batch
from yolo_lesson.loss import LossTerms, responsibility, yolo_v1_loss
from yolo_lesson.viz import PALETTE, draw_grid, highlight_cell, image_axes

_ = torch.manual_seed(0)

# %% [markdown]
# ## 1 · The exhibits and a common test bench
#
# The article gives the prediction and the target the same shape, `[N, S, S, 5 + C]`: **one** box
# per cell, `(x, y, w, h, conf)` and then C class values. The paper predicts B = 2 boxes per cell;
# to compare like with like we run the paper's loss with **B = 1**, where the responsible predictor
# of an object cell is simply its only predictor. Everything else (S = 7, C = 20, λ_coord = 5,
# λ_noobj = 0.5, IoU as confidence target, √w, sum over the grid divided by N) stays the paper's.
#
# The batches come from two seeded helpers: `make_target` places one to four random objects in
# each image (or none, with `max_objects=0`), and `outputs` plays an **untrained network**: a
# freshly initialized linear layer applied to random features. Its raw outputs are real numbers
# of either sign, as a network's last layer gives before any squashing.

# %%
S, C, FEATURES = 7, 20, 64


def make_target(seed, n_images=8, min_objects=1, max_objects=4):
    """A seeded batch of targets [n_images, S, S, 5 + C] with random boxes and classes."""
    g = torch.Generator().manual_seed(seed)
    boxes, labels = [], []
    for _ in range(n_images):
        k = int(torch.randint(min_objects, max_objects + 1, (1,), generator=g))
        centres = 0.05 + 0.9 * torch.rand(k, 2, generator=g)   # cx, cy
        sizes = 0.1 + 0.4 * torch.rand(k, 2, generator=g)      # w, h
        boxes.append(torch.cat([centres, sizes], dim=1))
        labels.append(torch.randint(0, C, (k,), generator=g))
    return encode_batch(boxes, labels, S=S, C=C)

# %%
torch.manual_seed(0)
head = nn.Linear(FEATURES, S * S * (5 + C))  # PyTorch's default initialization


def outputs(head, seed, n_images=8):
    """Raw outputs [n_images, S, S, 5 + C] of the head on seeded random features."""
    g = torch.Generator().manual_seed(seed)
    return head(torch.randn(n_images, FEATURES, generator=g)).reshape(n_images, S, S, 5 + C)


raw = outputs(head, seed=1).detach()
print(f"raw outputs: mean {raw.mean():.3f}, std {raw.std():.3f}, "
      f"from {raw.min():.2f} to {raw.max():.2f}")

# %% [markdown]
# Now the four losses on three batches: the untrained network's **raw** outputs, the same outputs
# passed through a **sigmoid** (so every number lies in (0, 1), a common design), and a batch of
# **empty images** (no object at all). For each we print the total and whether the gradient with
# respect to the prediction is finite.

# %%
LOSSES = {
    "article v1 (MSE)": article_loss_mse,
    "article v2 (SmoothL1 + BCE)": article_loss_smoothl1_bce,
    "article v3 (IoU > 0.5 gate)": article_loss_iou_gate,
    "paper (sum / N), B = 1": lambda p, t: yolo_v1_loss(p, t, S=S, B=1, C=C),
}


def outcome(loss_fn, pred, target):
    """'<total> <finite|NaN> grad' or the exception's type, for one loss on one batch."""
    pred = pred.detach().clone().requires_grad_()
    try:
        terms = loss_fn(pred, target)
    except RuntimeError as error:
        return type(error).__name__
    terms.total.backward()
    finite = bool(torch.isfinite(pred.grad).all())
    return f"{terms.total.item():7.3f} {'finite' if finite else 'NaN':>6} grad"

# %%
target = make_target(seed=1)
empty_target = make_target(seed=2, min_objects=0, max_objects=0)
benches = {"raw outputs": (raw, target), "sigmoid outputs": (torch.sigmoid(raw), target),
           "sigmoid, empty images": (torch.sigmoid(raw), empty_target)}
print(f"{'':28s}" + "".join(f"{name:>24s}" for name in benches))
for name, loss_fn in LOSSES.items():
    print(f"{name:28s}" + "".join(f"{outcome(loss_fn, p, t):>24s}" for p, t in benches.values()))

# %% [markdown]
# Five of the nine article cells fail: version 2 refuses raw scores and is NaN on empty images,
# and version 3 is NaN on all three batches. (That the gradients stay finite beside a NaN loss is
# a quirk we take apart in section 2.) Version 1 never fails, and that is its own problem: it
# quietly trains the wrong thing (section 4). The paper's loss is finite everywhere; its totals are
# larger because it *sums* over the grid where the article averages (section 6). The next sections
# take the failures one at a time.

# %% [markdown]
# ## 2 · A mean over an empty mask is NaN
#
# Version 2 splits the confidence loss with the object mask and averages each part with
# `nn.MSELoss()`, whose default reduction is the mean:
#
# $$\text{obj} = \frac{\lambda_\text{obj}}{|M|} \sum_{i \in M} (C_i - 1)^2, \qquad M = \{\text{cells holding an object}\}.$$
#
# When the batch holds no object, $|M| = 0$ and the sum is empty too: $0 / 0$. PyTorch follows IEEE
# arithmetic and returns NaN; the class term, a mean over the same empty selection, does the same.

# %%
print("mean of an empty tensor:", torch.tensor([]).mean().item())
pred = torch.sigmoid(raw).requires_grad_()
terms = article_loss_smoothl1_bce(pred, empty_target)
print({name: round(value.item(), 4) for name, value in terms._asdict().items()})
terms.total.backward()
print(f"NaN entries in the gradient: {int(pred.grad.isnan().sum())} of {pred.grad.numel()}")

# %% [markdown]
# The loss is NaN, yet the gradient is finite, which the table of section 1 showed too. The two
# NaN terms are means over **zero** elements, so autograd has no element to send their NaN to, and
# the derivative of the total with respect to each of its terms is 1 whatever the total's value:
# the box and no-object gradients pass untouched. The weights survive, this time. What does not
# survive is everything that reads the loss *value*: the epoch's average loss is NaN, so that epoch
# can never count as the best one (every comparison with NaN is False), and a training loop that
# stops on a non-finite loss, as many do, stops.
#
# Luck, not design. Write the same masked mean the other common way, as
# $\sum_i m_i e_i / \sum_i m_i$ with the mask $m$ as a 0/1 tensor, and the result is identical
# whenever the batch holds an object:

# %%
def article_v2_multiplied(pred, target):
    """Article v2 with each masked mean written as sum(mask · error) / sum(mask)."""
    mask = target[..., 4]                                                    # [N, S, S], 0 or 1
    box = 5 * F.smooth_l1_loss(pred[..., :4], target[..., :4])
    obj = (mask * (pred[..., 4] - 1) ** 2).sum() / mask.sum()
    noobj = 0.5 * ((1 - mask) * pred[..., 4] ** 2).sum() / (1 - mask).sum()
    bce = F.binary_cross_entropy(pred[..., 5:], target[..., 5:], reduction="none")  # [N, S, S, C]
    cls = (mask[..., None] * bce).sum() / (mask.sum() * C)
    return LossTerms(box + obj + noobj + cls, box, obj, noobj, cls)


torch.testing.assert_close(article_v2_multiplied(torch.sigmoid(raw), target),
                           article_loss_smoothl1_bce(torch.sigmoid(raw), target))

# %% [markdown]
# On the empty batch, though, the division by $\sum_i m_i = 0$ now sits between the NaN and every
# confidence and class score: each receives $0 \cdot \infty = $ NaN.

# %%
pred = torch.sigmoid(raw).requires_grad_()
article_v2_multiplied(pred, empty_target).total.backward()
print(f"NaN entries in the gradient: {int(pred.grad.isnan().sum())} of {pred.grad.numel()}")

# %% [markdown]
# One optimizer step with that gradient writes NaN into every weight behind a confidence or a
# class score, and from then on those outputs are NaN. Below, three copies of the same network train on the same stream of batches
# with plain SGD; batch 10 is made of four empty images (`empty_at=10` below). The dashed line is the running
# average of the loss, the number a progress bar shows.

# %%
def train_curve(loss_fn, steps=24, empty_at=10, lr=0.5):
    """Losses (NaN after a crash), the model and the crash message of a short seeded training."""
    torch.manual_seed(0)
    model = nn.Linear(FEATURES, S * S * (5 + C))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    history, crash = torch.full((steps,), float("nan")), ""
    for step in range(steps):
        objects = (0, 0) if step == empty_at else (1, 4)        # (min, max) objects per image
        try:
            loss = loss_fn(torch.sigmoid(outputs(model, 100 + step, 4)), make_target(100 + step, 4, *objects))
        except RuntimeError as error:                           # a real run would stop here
            crash = f"crashed at step {step}: {error}"
            break
        optimizer.zero_grad()
        loss.total.backward()
        optimizer.step()
        history[step] = loss.total.item()
    return history, model, crash

# %%
runs = {name: train_curve(fn) for name, fn in [("article v2, as written", article_loss_smoothl1_bce),
                                               ("article v2, sum(m·e) / sum(m)", article_v2_multiplied),
                                               ("paper (sum / N)", LOSSES["paper (sum / N), B = 1"])]}
for name, (curve, model, crash) in runs.items():
    nan_weights = sum(int(p.isnan().sum()) for p in model.parameters())
    print(f"{name:30s} NaN losses: {int(curve.isnan().sum()):2d} of {len(curve)}, "
          f"NaN weights: {nan_weights} of {sum(p.numel() for p in model.parameters())} {crash}")

# %% mystnb={"image": {"alt": "Three panels, one per loss version, of the loss at each training step and its running average; the batch of step 10 has no objects, and the curves show how each version reports that."}}
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for ax, (name, (curve, _, _)), color in zip(axes, runs.items(), (PALETTE[1], PALETTE[3], PALETTE[0])):
    steps = torch.arange(len(curve))
    ax.plot(steps, curve, "o-", color=color, ms=3, label="loss of the step")
    ax.plot(steps, curve.cumsum(0) / (steps + 1), "--", color=color, label="running average")
    ax.axvline(10, color="0.6", ls=":", lw=1)
    ax.text(10.4, 0.03, "no objects", transform=ax.get_xaxis_transform(), fontsize=9)
    ax.set_xlim(-1, 24)
    ax.set(title=name, xlabel="training step", ylabel="loss")
    ax.legend(fontsize=8, loc="upper right")
plt.tight_layout()
plt.show()

# %% [markdown]
# Left: one missing point, and a running average that is NaN for the rest of the epoch. Middle:
# the curve stops for good: the weights are NaN, the network's outputs are NaN, and at the next step
# `F.binary_cross_entropy` refuses them (NaN is not in $[0, 1]$), so the run crashes. Right: the paper's loss dips at the empty
# batch (only the no-object term has anything to say there) and carries on.
#
# Is a batch without objects rare? Suppose 30 % of the images of a dataset are empty (frames of a
# video, say) and the batch size is 4. Then a given batch is all empty with probability
# $0.3^4 \approx 0.8\%$, and an epoch of 1000 batches almost surely contains one:

# %%
p_empty, batch_size, batches = 0.3, 4, 1000
p_batch = p_empty**batch_size
print(f"P(one batch is empty) = {p_batch:.4f}; "
      f"P(at least one in {batches} batches) = {1 - (1 - p_batch) ** batches:.4f}")

# %% [markdown]
# **What the article gets right.** Restricting the class loss, and the "there is an object"
# confidence loss, to the cells that hold an object is exactly the paper's $\mathbb{1}^\text{obj}$.
# The intent is correct; the reduction is what breaks.
#
# **The fix.** Sum over the selected elements and divide by the batch size N, as the paper does.
# An empty sum is 0, not NaN, and N is never 0. If a per-element average is really wanted, divide
# by the count clamped to at least 1:

# %%
def masked_mean(values, mask):
    """Mean of values[mask], and 0 (not NaN) when the mask selects nothing."""
    return torch.where(mask, values, 0.0).sum() / mask.sum().clamp(min=1)


conf, has_object = torch.sigmoid(raw)[..., 4], empty_target[..., 4] > 0
print("masked_mean on the empty batch:", masked_mean((conf - 1) ** 2, has_object).item())
pred = torch.sigmoid(raw).requires_grad_()
terms = yolo_v1_loss(pred, empty_target, S=S, B=1, C=C)
terms.total.backward()
print("paper on the empty batch:", {n: round(v.item(), 4) for n, v in terms._asdict().items()},
      "| gradient finite:", bool(torch.isfinite(pred.grad).all()))

# %% [markdown]
# On an empty batch the paper's loss still has a job: the no-object term teaches every cell to say
# "nothing here". The box, obj and class terms are exactly 0 because they have nothing to learn.

# %% [markdown]
# ## 3 · Binary cross-entropy fed raw scores
#
# Version 2 compares the class values with `F.binary_cross_entropy`, which is the negative
# log-likelihood of a **probability** $p \in [0, 1]$:
#
# $$\operatorname{BCE}(p, y) = -\big[\, y \log p + (1 - y) \log(1 - p) \,\big].$$
#
# For $p$ outside $[0, 1]$ a logarithm of a negative number appears. PyTorch checks the range and
# raises, which is what made version 2 fail on the raw outputs in section 1:

# %%
scores, labels = torch.tensor([2.5, -1.0, 1.7, 0.3]), torch.tensor([1.0, 0.0, 0.0, 0.0])
try:
    F.binary_cross_entropy(scores, labels)
except RuntimeError as error:
    print("RuntimeError:", error)

# %% [markdown]
# The error is the *good* outcome: it is loud. The tempting patches are worse because they are
# quiet. Clamping the scores into $[0, 1]$ runs, but a clamped score has zero gradient, and at
# exactly 0 or 1 the logarithm is $-\infty$, which PyTorch caps at $-100$, so the loss reads 100
# for one wrong score:

# %%
clamped_input = scores.clone().requires_grad_()
loss = F.binary_cross_entropy(clamped_input.clamp(0, 1), labels, reduction="none")
loss.sum().backward()
print("clamped scores:", clamped_input.clamp(0, 1).tolist())
print("loss per score:", [round(v, 3) + 0.0 for v in loss.tolist()])  # + 0.0 turns -0.0 into 0.0
print("gradient:      ", [round(v, 3) for v in clamped_input.grad.tolist()])

# %% [markdown]
# The scores 2.5 (a true class) and −1.0 (a wrong one) are clamped onto the right answer: loss 0,
# gradient 0, fair enough. But 1.7 on a **wrong** class is clamped to 1.0: it costs the capped 100,
# and its gradient is 0, so nothing will ever lower it. Only the score that was already inside
# $[0, 1]$ learns. A **sigmoid** in front is the right idea, and it fixes the range, but
# composing `sigmoid` and `binary_cross_entropy` separately still breaks for confident scores: in
# float32, $\sigma(z)$ rounds to exactly 1.0 once $z \gtrsim 16.6$, and from there the loss is stuck
# at the cap of 100 and the gradient is exactly 0. A network that is confidently wrong is never told.
#
# The stable form works on the raw score $z$ (the *logit*) directly. With $p = \sigma(z)$,
# $\log p = -\log(1 + e^{-z})$ and $\log(1 - p) = -z - \log(1 + e^{-z})$, which rearranges into a
# form whose exponential never overflows:
#
# $$\operatorname{BCE}(\sigma(z), y) = \max(z, 0) - z\,y + \log\!\big(1 + e^{-|z|}\big).$$

# %%
def bce_with_logits(z, y):
    return z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))


z = torch.linspace(-5, 25, 301)
for y_value in (0.0, 1.0):
    y = torch.full_like(z, y_value)
    torch.testing.assert_close(bce_with_logits(z, y),
                               F.binary_cross_entropy_with_logits(z, y, reduction="none"))
middle = z.abs() < 10  # where the two-step form is still accurate
torch.testing.assert_close(bce_with_logits(z[middle], torch.zeros_like(z[middle])),
                           F.binary_cross_entropy(torch.sigmoid(z[middle]), torch.zeros_like(z[middle]),
                                                  reduction="none"), rtol=1e-4, atol=1e-5)

# %% [markdown]
# Our formula equals PyTorch's `F.binary_cross_entropy_with_logits`, and equals sigmoid + BCE where
# that is still accurate. The difference shows for a wrong class ($y = 0$) scored ever more
# confidently:

# %%
curves = {}
for name, fn in [("sigmoid, then binary_cross_entropy",
                  lambda v: F.binary_cross_entropy(torch.sigmoid(v), torch.zeros_like(v), reduction="none")),
                 ("binary_cross_entropy_with_logits",
                  lambda v: F.binary_cross_entropy_with_logits(v, torch.zeros_like(v), reduction="none"))]:
    z_leaf = z.clone().requires_grad_()
    loss = fn(z_leaf)
    loss.sum().backward()
    curves[name] = (loss.detach(), z_leaf.grad)
at_20 = int((z - 20).abs().argmin())
for name, (loss, grad) in curves.items():
    print(f"{name:36s} at z = 20: loss {loss[at_20]:.1f}, gradient {grad[at_20]:.3f}")

# %% mystnb={"image": {"alt": "Left: two losses for a wrong class against the raw score z. Right: their gradients with respect to z; a vertical line marks z = 16.6."}}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for (name, (loss, grad)), color, style in zip(curves.items(), (PALETTE[1], PALETTE[0]), ("-", "--")):
    axes[0].plot(z, loss, color=color, ls=style, label=name)
    axes[1].plot(z, grad, color=color, ls=style, label=name)
axes[0].set_title("loss for a wrong class (y = 0)")
axes[1].set_title("gradient d loss / d z")
for ax in axes:
    ax.axvline(16.6, color="0.7", lw=0.8)
    ax.set_xlabel("raw score z")
    ax.legend(fontsize=8, loc="upper left")
plt.tight_layout()
plt.show()

# %% [markdown]
# Left of the grey line the two agree. Right of it, the two-step form's loss jumps to the cap of 100
# and its gradient drops to exactly 0, while the logits form keeps growing linearly with slope 1.
#
# **What the article gets right.** Scoring each class with its own binary cross-entropy is a sound
# choice; YOLOv3 and its successors do it ([lesson 08](08_beyond_v1.ipynb)). YOLOv1 itself uses squared
# error on the class scores ([lesson 03](03_yolov1_loss.ipynb)), so for the paper's loss this flaw does
# not arise. **The fix**: feed raw scores to `F.binary_cross_entropy_with_logits`, or stay with the
# paper's squared error.

# %% [markdown]
# ## 4 · A box loss on empty cells
#
# Versions 1 and 2 compute the box loss over **every** cell, `nn.MSELoss()(pred_bbox, target_bbox)`.
# An empty cell stores the box $(0, 0, 0, 0)$, so the loss pulls every empty cell's box towards a
# zero-size box in its corner. The paper's box term only counts the responsible predictor:
#
# $$\text{box} = \frac{\lambda_\text{coord}}{N} \sum_{i} \mathbb{1}_i^\text{obj}
# \Big[(x_i - \hat x_i)^2 + (y_i - \hat y_i)^2 + (\sqrt{w_i} - \sqrt{\hat w_i})^2 + (\sqrt{h_i} - \sqrt{\hat h_i})^2\Big].$$
#
# We let autograd tell us where each box term pushes: the gradient of the box term alone with respect
# to the four box numbers of every cell, on the sigmoid outputs.

# %%
def box_gradient(loss_fn, pred, target):
    """Per-cell size of d(box term)/d(x, y, w, h): [N, S, S]."""
    pred = pred.detach().clone().requires_grad_()
    loss_fn(pred, target).box.backward()
    return pred.grad[..., :4].norm(dim=-1)


sig = torch.sigmoid(raw)
has_object = target[..., 4] > 0
for name in ["article v1 (MSE)", "article v2 (SmoothL1 + BCE)", "paper (sum / N), B = 1"]:
    size = box_gradient(LOSSES[name], sig, target)
    share = size[~has_object].sum() / size.sum()
    print(f"{name:28s} empty cells with a box gradient: {int((size[~has_object] > 0).sum()):3d} "
          f"of {int((~has_object).sum())}, their share of the total push: {share:.0%}")

# %% mystnb={"image": {"alt": "Two heat maps over the 7 by 7 grid of image 0, one per loss: the size of the box gradient in each cell, with the cells that hold an object framed in blue."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained")
for ax, name in zip(axes, ["article v1 (MSE)", "paper (sum / N), B = 1"]):
    size = box_gradient(LOSSES[name], sig, target)[0]  # image 0
    shown = ax.imshow(size / size.max(), extent=(0, 1, 1, 0), cmap="Oranges", vmin=0, vmax=1)
    image_axes(ax, title=name)
    draw_grid(ax, S)
    for row, col in has_object[0].nonzero().tolist():
        ax.add_patch(plt.Rectangle((col / S, row / S), 1 / S, 1 / S, fill=False, ec=PALETTE[0], lw=2.5))
fig.colorbar(shown, ax=axes, shrink=0.8, label="size of the box gradient (÷ its maximum)")
fig.suptitle("Image 0: where the box term pushes (blue frames: cells holding an object)")
plt.show()

# %% [markdown]
# In version 1 every cell of the image is orange: each empty cell is taught a box it should not
# have, and because there are many more of them than object cells, they take most of the total
# push (97 % in this batch). In the paper's loss only the object cells light up.
#
# Why does it matter? At test time an empty cell's box is ignored anyway (its confidence should be
# low), so the damage is indirect: the shared layers of the network spend capacity learning "shrink
# to the corner" everywhere, and the box outputs of *object* cells are pulled towards zero by the
# same weights. (How much that costs, and whether it costs some object sizes more than others, this
# lesson does not measure; [lesson 06](06_training_a_tiny_yolo.ipynb) trains with version 1 and
# measures its mAP.)
#
# **What the article gets right.** Its prose says the box loss "is typically weighted by the
# object confidence score to focus on objects that actually exist in the cell". That is the
# paper's idea. The code just does not do it: version 2 builds `obj_mask` one line *after* the box
# loss and never applies it there. **The fix** is that one mask, $\mathbb{1}_i^\text{obj}$ (or
# the responsibility mask when B > 1). The paper's loss gives the empty cells exactly zero
# box gradient, as printed above.

# %% [markdown]
# ## 5 · The IoU > 0.5 gate has no positives at initialization
#
# Version 3 decides which cells are "objects" from the **prediction**: a cell is positive when
# the IoU of its predicted box with the target box exceeds 0.5, and only positives receive the
# box, object-confidence and class losses. The ground-truth object indicator is never read.
#
# How many positives does an untrained network produce? We count over 100 seeded batches of 8
# images, with the raw outputs and with sigmoid outputs. The article never shows its IoU: it
# calls `calculate_iou(pred_bbox, target_bbox)`, "omitted for brevity but readily available in
# literature". `article_iou` is our reading of that call, an IoU on the raw `(x, y, w, h)` numbers
# as they stand in the tensor; alongside, the IoU the paper uses, in image coordinates.

# %%
gate_iou, paper_iou = [], []
positives = {"raw": 0, "sigmoid": 0}
nan_batches, object_cells = 0, 0
for seed in range(100):
    batch_target, batch_raw = make_target(seed), outputs(head, seed).detach()
    obj = batch_target[..., 4] > 0
    object_cells += int(obj.sum())
    for kind, pred in (("raw", batch_raw), ("sigmoid", torch.sigmoid(batch_raw))):
        positives[kind] += int((article_iou(pred[..., :4], batch_target[..., :4]) > 0.5).sum())
    pred = torch.sigmoid(batch_raw)
    nan_batches += int(article_loss_iou_gate(pred, batch_target).total.isnan())
    gate_iou.append(article_iou(pred[..., :4], batch_target[..., :4])[obj])
    # the article's layout: the outputs are w, h themselves, hence wh="linear"
    paper_iou.append(responsibility(pred, batch_target, S=S, B=1, C=C, wh="linear").ious[..., 0][obj])

# %%
print(f"object cells in 100 batches: {object_cells}")
print(f"gate positives, raw outputs: {positives['raw']}; sigmoid outputs: {positives['sigmoid']} "
      f"({positives['sigmoid'] / object_cells:.1%} of the object cells)")
print(f"batches on which version 3 is NaN (sigmoid outputs): {nan_batches} of 100")
responsible = responsibility(torch.sigmoid(raw), target, S=S, B=1, C=C).responsible
print(f"paper: responsible predictors in the first batch {int(responsible.sum())}, "
      f"object cells {int((target[..., 4] > 0).sum())}")

# %% mystnb={"image": {"alt": "Two overlaid histograms, on a log scale, of the IoU of untrained predictions with their objects: the article's mixed-frame IoU and the IoU in image coordinates, with a dashed line at the 0.5 gate."}}
gate_iou, paper_iou = torch.cat(gate_iou), torch.cat(paper_iou)
print(f"IoU > 0.5 with the mixed frames: {int((gate_iou > 0.5).sum())} object cells; "
      f"in image coordinates: {int((paper_iou > 0.5).sum())} of {len(paper_iou)}")
fig, ax = plt.subplots(figsize=(7.5, 3.8))
bins = torch.linspace(0, 1, 41)
ax.hist(gate_iou, bins=bins, color=PALETTE[1], alpha=0.7, label="article_iou (mixed frames)")
ax.hist(paper_iou, bins=bins, color=PALETTE[0], alpha=0.6, label="IoU in image coordinates")
ax.axvline(0.5, color="k", ls="--", lw=1)
ax.text(0.51, 0.04, "gate: IoU > 0.5", transform=ax.get_xaxis_transform())
ax.set_yscale("log")
ax.set_xlabel("IoU of the untrained prediction with its object")
ax.set_ylabel("object cells (log scale)")
ax.set_title(f"{len(gate_iou)} object cells, untrained network with sigmoid outputs")
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# With raw outputs the gate opens **nowhere**; with sigmoid outputs it opens for under one object
# cell in a hundred, and most batches have no positive at all, so version 3 is NaN on them
# (section 2's 0/0, now on *ordinary* batches). If the article's IoU works on the tensor's numbers
# as its call suggests, the gate also mixes frames ([lesson 03](03_yolov1_loss.ipynb)): `x, y` are
# in cell units and `w, h` in image units, so the two histograms disagree, and the mixed one sits
# lower: the same predictions pass 0.5 in image coordinates for about one object cell in five, and
# with the mixed frames for one in two hundred. So most of the missing positives come from the
# frames, and that part rests on our reading of a function the article does not show. Even the
# image-frame gate would leave four objects in five without a positive at the start.
#
# **The worst effect is on the confidences.** The no-object term of version 3 covers every cell
# that is not a positive, `obj_mask == 0`, and its target is 0. A real object whose prediction
# is below the gate is therefore not just left untrained: its confidence is *trained towards 0*,
# told that there is nothing there. We count, over 25 seeded batches, the object cells
# whose confidence the no-object term pushes down:

# %%
pushed_down, object_total = 0, 0
for seed in range(25):
    batch_target = make_target(seed)
    leaf = torch.sigmoid(outputs(head, seed)).detach().requires_grad_()
    article_loss_iou_gate(leaf, batch_target).noobj.backward()
    obj = batch_target[..., 4] > 0
    object_total += int(obj.sum())
    pushed_down += int((leaf.grad[..., 4][obj] > 0).sum())  # a positive gradient: descent lowers it
print(f"object cells whose confidence version 3 trains towards 0: {pushed_down} of {object_total}")


# %% [markdown]
# Suppose we patch the NaN away with `masked_mean` from section 2. The loss is then finite, but
# which boxes does it train? We count, over 25 batches, the object cells whose box receives any
# gradient from the box term:

# %%
def gate_box_term(pred, target):
    """Article v3's box term, NaN-patched with masked_mean: still gated on the prediction's IoU."""
    gate = article_iou(pred[..., :4], target[..., :4]) > 0.5                     # [N, S, S]
    error = F.smooth_l1_loss(pred[..., :4], target[..., :4], reduction="none").mean(-1)
    return 5 * masked_mean(error, gate)


trained, total_cells = {"patched gate": 0, "paper": 0}, 0
for seed in range(25):
    batch_target, pred = make_target(seed), torch.sigmoid(outputs(head, seed)).detach()
    obj = batch_target[..., 4] > 0
    total_cells += int(obj.sum())
    for name, fn in [("patched gate", gate_box_term),
                     ("paper", lambda p, t: yolo_v1_loss(p, t, S=S, B=1, C=C).box)]:
        leaf = pred.clone().requires_grad_()
        fn(leaf, batch_target).backward()
        trained[name] += int((leaf.grad[..., :4].abs().sum(-1)[obj] > 0).sum())
print(f"object cells whose box gets a gradient: {trained} of {total_cells}")

# %% [markdown]
# The patched gate trains only the handful of boxes that are already good; a box at IoU 0.3 is
# never told to move towards its object, because the box loss does not see it, and so it never
# reaches 0.5. A gate on the prediction's own quality cannot be what teaches that quality.
#
# **What the article gets right.** The IoU *does* belong in a YOLO loss: YOLOv1 uses it to pick the
# responsible one of a cell's B predictors and as the target of its confidence ([lesson 03](03_yolov1_loss.ipynb)), and
# YOLOv3 uses "predicted IoU > 0.5" to *ignore* the no-object loss of good but non-best boxes.
# What must not depend on the prediction is **which objects exist**. **The fix**: positives come
# from the target's object indicator, and IoU (in image coordinates) only chooses among the B
# predictors of an object cell. In the paper's loss every object cell has its responsible predictor
# from step 0, as the count above shows.

# %% [markdown]
# ## 6 · Per-term means change what λ means
#
# All three versions reduce each term with a mean over whatever it selects. For version 2 that is
#
# $$\text{loss} = \frac{\lambda_\text{coord}}{4 N S^2} \sum_\text{all cells} \operatorname{SmoothL1}
# + \frac{\lambda_\text{obj}}{K} \sum_{K \text{ object cells}} (C_i - 1)^2
# + \frac{\lambda_\text{noobj}}{N S^2 - K} \sum_{\text{empty cells}} C_i^2 + \dots$$
#
# so each λ is divided by a count that changes with the batch. The **effective weight** of one
# squared error is what multiplies it in the loss; autograd measures it: for a squared error
# $w (p - t)^2$ the gradient is $2 w (p - t)$, so $w = \text{grad} / (2 (p - t))$. We build single
# images with $K = 1, \dots, 48$ objects (so $49 - K$ empty cells), predict confidence 0.5 everywhere
# and every object's $x$ off by 0.1, and measure three weights: an object cell's confidence, an
# empty cell's confidence, an object cell's $x$. The paper's loss uses `conf_target="one"` here,
# the article's target, so that only the reductions differ.

# %%
def one_image(k):
    """Target [1, S, S, 5 + C] with k objects in the first k cells of a fixed shuffle, and a prediction."""
    cells = torch.randperm(S * S, generator=torch.Generator().manual_seed(0))[:k]
    centres = torch.stack([(cells % S + 0.5) / S, (cells // S + 0.5) / S], dim=1)
    target = encode_batch([torch.cat([centres, torch.full((k, 2), 0.3)], dim=1)],
                          [torch.zeros(k, dtype=torch.long)], S=S, C=C)
    pred = target.clone()
    pred[..., 4] = 0.5                                         # confidence 0.5 everywhere
    pred[..., 0] = torch.where(target[..., 4] > 0, target[..., 0] + 0.1, 0.0)  # x off by 0.1
    return pred, target, cells

# %%
def effective_weights(loss_fn, k):
    """Weights of one object's confidence, one empty cell's confidence and one object's x."""
    pred, target, cells = one_image(k)
    pred.requires_grad_()
    loss_fn(pred, target).total.backward()
    grad = pred.grad[0].reshape(S * S, 5 + C)                  # [cells, 5 + C]
    empty = int((target[0, ..., 4].flatten() == 0).nonzero()[0])  # the first empty cell
    return (grad[cells[0], 4] / (2 * (0.5 - 1))).item(), (grad[empty, 4] / (2 * 0.5)).item(), \
        (grad[cells[0], 0] / (2 * 0.1)).item()


paper_one = lambda p, t: yolo_v1_loss(p, t, S=S, B=1, C=C, conf_target="one")  # noqa: E731
ks = list(range(1, 49))
weights = {name: torch.tensor([effective_weights(fn, k) for k in ks]) for name, fn in
           [("article v2", article_loss_smoothl1_bce), ("article v1", article_loss_mse), ("paper", paper_one)]}

# %% [markdown]
# The measured weights follow the formulas exactly. For version 2 (SmoothL1 is $\tfrac12 d^2$ for
# $|d| < 1$, hence the extra ½ on the box weight):
#
# $$w_\text{obj} = \frac{\lambda_\text{obj}}{K}, \qquad w_\text{noobj} = \frac{\lambda_\text{noobj}}{49 - K},
# \qquad w_x = \frac{\lambda_\text{coord}}{2 \cdot 4 \cdot 49};
# \qquad \text{paper: } w_\text{obj} = 1,\; w_\text{noobj} = \lambda_\text{noobj},\; w_x = \lambda_\text{coord}.$$

# %%
k = torch.tensor(ks, dtype=torch.float32)
formula_v2 = torch.stack([1 / k, 0.5 / (49 - k), torch.full_like(k, 5 / (2 * 4 * 49))], dim=1)
torch.testing.assert_close(weights["article v2"], formula_v2)
torch.testing.assert_close(weights["paper"], torch.tensor([[1.0, 0.5, 5.0]]).expand(48, 3))
for name in weights:
    for kk in (1, 8, 48):
        obj_w, noobj_w, x_w = weights[name][kk - 1].tolist()
        print(f"{name:10s} K = {kk:2d}: noobj/obj = {noobj_w / obj_w:8.4f}   x/obj = {x_w / obj_w:8.4f}")

# %% mystnb={"image": {"alt": "Two panels of effective weight ratios against the number of empty cells, on a log scale, for article v1, article v2 and the paper: an empty cell's confidence against an object's, and an object's x against its confidence."}}
empty_cells = 49 - k
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
panels = [(1, "an empty cell's confidence : an object's confidence\n(the paper's λ_noobj = 0.5)"),
          (2, "an object's x : the same object's confidence\n(the paper's λ_coord = 5)")]
for ax, (column, title) in zip(axes, panels):
    for name, color, style in [("article v2", PALETTE[1], "-"), ("article v1", "0.5", ":"), ("paper", PALETTE[0], "--")]:
        ratio = weights[name][:, column] / weights[name][:, 0]
        ax.plot(empty_cells, ratio, color=color, ls=style, lw=2, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("empty cells in the image (of 49)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
axes[0].set_ylabel("effective weight ratio")
plt.tight_layout()
plt.show()

# %% [markdown]
# In the paper's loss the ratios are flat: an empty cell's confidence error always weighs
# λ_noobj = 0.5 of an object's, and a coordinate error λ_coord = 5 times. In version 2 they swing
# with the image. With one object among 48 empty cells, the object's confidence weighs about
# **96 times** an empty cell's (ratio 0.0104, not 0.5), and its $x$ error weighs **0.0128** of its confidence
# error instead of 5: the "emphasis on accurate boxes" that λ_coord = 5 was chosen for has
# become a de-emphasis. Two different ratios hide in that number, and they only coincide here:
#
# - the **weight of an $x$ error** itself is $\lambda_\text{coord}/(2 \cdot 4 \cdot 49) = 5/392$ per image in
#   version 2 against $\lambda_\text{coord} = 5$ in the paper: 392 times smaller, whatever the number of
#   objects (the mean over 4 box numbers × 49 cells, and SmoothL1's ½);
# - the **exchange rate** between an $x$ error and the same object's confidence error is
#   $(5/392) / (1/K) = 5K/392$ against 5 in the paper: 392 times smaller with K = 1 object, 49 times
#   with 8, about 8 times with 48.
#
# With 48 objects, the noobj ratio is 24 instead of 0.5. Version 1 has
# no λ at all and weighs empty and object cells alike, whatever the count.
#
# A mean also ties each object's weight to its neighbours: with K objects, each gets $1/K$ of the
# object term, so an object in a crowded image learns K times more slowly ([lesson 03](03_yolov1_loss.ipynb), section 8).
# One subtlety keeps this honest: a **single** mean over the whole tensor, the same divisor for
# every term, would only rescale the loss, like a smaller learning rate. It is the per-term divisors
# that change the balance.
#
# **What the article gets right.** "λ_coord is often set higher than the others" and "λ_noobj is
# usually kept low" are the paper's choices (5 and 0.5) and the right direction: many empty cells
# would otherwise drown the few responsible ones ([lesson 04](04_gradients_and_lambda.ipynb)). **The
# fix**: sum every term over the grid and divide by N, so that a λ is a fixed exchange rate between
# errors.

# %% [markdown]
# ## 7 · The fixes, all together
#
# | article version | flaw | symptom (this lesson) | the fix (the paper's loss) |
# |---|---|---|---|
# | v2, v3 | mean over an empty mask | NaN loss on a batch without objects; written as sum(m·e)/sum(m), NaN weights for good | sum over the mask, divide by N |
# | v2, v3 | BCE on raw scores | `RuntimeError`; clamp or sigmoid + BCE: loss capped at 100, zero gradient | `binary_cross_entropy_with_logits`, or squared error as in YOLOv1 |
# | v1, v2 | box loss on every cell | empty cells take most of the box gradient | mask by $\mathbb{1}^\text{obj}$ / responsibility |
# | v3 | positives from IoU(pred, target) > 0.5 | no positives at initialization: NaN, no learning signal | positives from the target; IoU picks among B predictors, in image coordinates |
# | v3 | no-object term on every non-positive cell | real objects below the gate trained towards confidence 0 | no-object term only on predictors that are not responsible for an object |
# | v1, v2, v3 | one mean per term | λ's meaning drifts with the number of objects | sum over the grid / N |
#
# Smaller slips, each treated in [lesson 03](03_yolov1_loss.ipynb): the confidence target is 1 instead of
# the IoU; $w, h$ are compared without the square roots; and, if its unshown IoU works on the
# tensor's numbers as its call suggests, version 3 mixes cell and image coordinates.

# %% [markdown]
# ## 8 · Toggle the bugs
#
# The flaws above break a loss on one batch: a NaN, an exception, a gradient in the wrong place.
# The smaller slips of [lesson 03](03_yolov1_loss.ipynb)'s fidelity table break nothing you can
# see on a batch: a confidence target of 1 instead of the IoU, a no-object term on empty cells
# only, the root of a predicted $w$ instead of a predicted $\sqrt{w}$, a sum that is not divided
# by N, an object given to the first predictor when no box overlaps it. Each still gives a loss
# that decreases. The only way to learn what one costs is to train with it, on enough seeds to
# tell a cost from luck.
#
# `make ablations` (`tools/ablations.py`, the table of
# [lesson 06](06_training_a_tiny_yolo.ipynb) §7) did that ahead of time: lesson 06's tiny network,
# 300 steps of Adam, each variant with five seeds, the paper's loss with the same five (a seed
# fixes the initial weights and the data order). It recorded every loss term every second step
# and the held-out mAP@0.5 of every run. Pick a bug below: each term's curve (the mean of the
# five seeds; the band runs from the lowest to the highest seed) is drawn over the paper's, and
# the two mAPs stand side by side with lesson 06's criterion: a variant **differs** when it is
# lower on every seed and its mean is lower by more than the paper's spread between seeds.
# Every number is recorded in the widget, so it answers on the course website too.

# %%
from yolo_lesson.ablation_view import TOGGLES, ablation_summary
from yolo_lesson.widgets import AblationToggles, ablation_figure

AblationToggles()

# %% [markdown]
# The same comparison as numbers, one line per bug (the last step's recorded total loss is the
# mean over the five seeds):

# %%
paper = ablation_summary("paper")
print(f"{'':>24}  mAP@0.5 mean ± sd   lower on   total loss at step {paper.steps[-1]}")
print(f"{'paper':>24}  {paper.map_mean:.3f} ± {paper.map_sd:.3f}   {'':>8}   {paper.mean['total'][-1]:.3f}")
for name in TOGGLES:
    s = ablation_summary(name)
    print(f"{name:>24}  {s.map_mean:.3f} ± {s.map_sd:.3f}   {s.lower_seeds} of {len(s.seeds)}     "
          f"{s.mean['total'][-1]:.3f}   {'differs' if s.differs else ''}")

# %% mystnb={"image": {"alt": "Six rows, one per tutorial bug: on the left its total training loss over 300 steps on a log scale drawn over the paper's, on the right the held-out mAP at IoU 0.5 of its five seeds beside the paper's; only the no-object term on empty cells falls far below, near 0.83 against 0.94, although its loss ends the lowest, and the summed loss sits 32 times higher with the same mAP."}}
fig = ablation_figure()
plt.show()

# %% [markdown]
# What the recorded runs say, on this task and at this budget (five seeds each):
#
# - **The no-object term on empty cells only** is the bug that costs: mAP@0.5 0.831 ± 0.054
#   against the paper's 0.943 ± 0.013, lower on all five seeds. Yet its total loss ends the
#   *lowest* of all, 0.18 against the paper's 0.57 at the last step: the variant no longer counts
#   the confidence of the predictor that is not responsible in an object cell, so it measures
#   less. A smaller loss is not a better detector; losses that are different functions can only
#   be compared by what the networks detect.
# - **The root of a predicted $w$** starts higher (a total of 8.95 against 8.16 at step 0, mostly
#   in the box term, 3.23 against 2.49) and ends near the paper's loss. With the sign trick it
#   is lower on all five seeds, by 0.024 on average; clamped at ε, on four seeds of five.
# - **Confidence target 1** keeps a higher object term (0.33 against 0.21 at the last step): a
#   predicted box that overlaps its object imperfectly is still asked for confidence 1. Its mAP,
#   0.933 ± 0.013, is lower on four seeds of five, within the paper's spread.
# - **No division by N**: every term is a sum over the 32 images of a batch, so the curves sit 32
#   times higher from the first step (261 against 8.16); Adam divides each gradient by its running size, so a constant
#   factor on the loss hardly changes its steps ([lesson 04](04_gradients_and_lambda.ipynb)), and the mAP is the paper's
#   within its spread (0.945, higher on three seeds of five).
# - **Ties to the first predictor** changes almost nothing: the curves lie on the paper's, and four
#   seeds of five end with the very same mAP (lesson 06 §7 says why the fallback is rarely used).

# %% [markdown]
# **Next.** [Lesson 06](06_training_a_tiny_yolo.ipynb) trains a small network with the paper's loss on
# synthetic shapes and follows each term over training; [lesson 08](08_beyond_v1.ipynb) shows how later
# YOLOs replaced squared errors with BCE on logits and IoU-family box losses.

# %% [markdown]
# ## Summary
#
# - A **mean over a mask** is $0/0 = $ NaN when the mask is empty (a batch without objects). As the
#   article writes it, only the loss *value* is NaN (logs, averages, stopping rules break); written
#   as $\sum m e / \sum m$, the NaN reaches the gradients and, after one step, the weights. Sum
#   over the mask and divide by the batch size instead, or clamp the count to at least 1.
# - `F.binary_cross_entropy` takes probabilities: raw scores raise an error, clamping kills the
#   gradient, and sigmoid + BCE saturates (loss 100, gradient 0) for $z \gtrsim 16.6$.
#   Use `F.binary_cross_entropy_with_logits`.
# - A box loss over every cell teaches empty cells a zero box, and they take most of the box
#   gradient. Mask it with the object (responsibility) indicator.
# - Deciding positives by IoU(pred, target) > 0.5 leaves an untrained network with (almost) no
#   positives: NaN or no signal, and every real object below the gate has its confidence trained
#   towards 0. Positives come from the target; the IoU only picks among predictors.
# - Per-term means make λ's effective value depend on the number of objects: in the article's
#   version 2 an $x$ error weighs 392 times less than in the paper, and its exchange rate with the
#   object's confidence error is 392/K times smaller (K objects in the image). The paper's sum over
#   the grid / N keeps λ a fixed exchange rate.
# - The article is right about the ingredients (masks by object, a higher λ_coord, a lower
#   λ_noobj, IoU and per-class BCE in their proper places); its code gets the details wrong.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for your answer, followed by a checker cell that runs it on hidden cases
# and, when one fails, shows that case, the expected and the received value, and a hint. In the
# lesson the answer cells hold a solution and start folded: click the cell's left edge to open one.

# %%
from yolo_lesson import check

# %% [markdown]
# **Exercise 1 — a safe masked mean.** Write `safe_masked_mean(values, mask)` that returns the mean
# of `values[mask]` and exactly 0 when `mask` selects nothing, with a finite gradient in both cases.
# Do it without `torch.where` this time (boolean indexing is fine).

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def safe_masked_mean(values, mask):
    ### BEGIN SOLUTION
    selected = values[mask]
    return selected.sum() / max(selected.numel(), 1)
    ### END SOLUTION

# %% tags=["check"]
check.safe_masked_mean(safe_masked_mean)

# %% [markdown]
# **Exercise 2 — effective weights by hand.** An image on the 7 × 7 grid holds K = 5 objects. Using
# the formulas of section 6, compute by hand `ratio`, (empty cell's confidence weight) / (object
# cell's confidence weight) in the article's version 2, and `times`, how many times the paper's 0.5
# is larger than that ratio. Check your numbers with `effective_weights`.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
ratio = times = None
### BEGIN SOLUTION
# w_obj = 1/5 = 0.2, w_noobj = 0.5/44 = 0.011364; ratio 0.011364 / 0.2 = 0.056818 = 2.5/44,
# about 8.8 times smaller than the paper's 0.5.
ratio, times = 2.5 / 44, 0.5 / (2.5 / 44)
obj_w, noobj_w, _ = effective_weights(article_loss_smoothl1_bce, 5)
print(f"ratio {ratio:.6f} (measured {noobj_w / obj_w:.6f}), the paper's 0.5 is {times:.1f} times larger")
### END SOLUTION

# %% tags=["check"]
check.effective_weight_ratio(ratio, times, K=5, S=7)

# %% [markdown]
# **Exercise 3 — repair version 2.** Write `article_v2_repaired(pred, target)` that keeps the
# article's *choices* (SmoothL1 on the box, squared error on the confidence, per-class BCE, the four
# λs with the article's defaults) but fixes its *flaws*: box loss only on object cells, BCE on raw
# scores through the logits form, every term summed and divided by N. Return a dict of the four
# terms and the total. Check that it is finite with a finite gradient on all three batches of
# section 1 (raw outputs included), and that empty cells' boxes get zero gradient.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def article_v2_repaired(pred, target, lambda_coord=5.0, lambda_obj=1.0, lambda_noobj=0.5, lambda_class=1.0):
    ### BEGIN SOLUTION
    n, obj = pred.shape[0], target[..., 4] > 0                                   # obj: [N, S, S]
    box = F.smooth_l1_loss(pred[..., :4], target[..., :4], reduction="none").sum(-1)
    conf_error = (pred[..., 4] - target[..., 4]) ** 2
    cls = F.binary_cross_entropy_with_logits(pred[..., 5:], target[..., 5:], reduction="none").sum(-1)
    terms = {"box": lambda_coord * torch.where(obj, box, 0.0).sum() / n,
             "obj": lambda_obj * torch.where(obj, conf_error, 0.0).sum() / n,
             "noobj": lambda_noobj * torch.where(obj, 0.0, conf_error).sum() / n,
             "cls": lambda_class * torch.where(obj, cls, 0.0).sum() / n}
    return {"total": sum(terms.values()), **terms}
    ### END SOLUTION


### BEGIN SOLUTION
for name, (p, t) in benches.items():
    leaf = p.detach().clone().requires_grad_()
    result = article_v2_repaired(leaf, t)
    result["total"].backward()
    assert torch.isfinite(result["total"]) and torch.isfinite(leaf.grad).all(), name
    assert leaf.grad[..., :4][t[..., 4] == 0].abs().sum() == 0, name
    print(f"{name:22s} total {result['total'].item():8.3f}, gradient finite, empty-cell boxes untouched")
### END SOLUTION

# %% tags=["check"]
check.repaired_article_loss(article_v2_repaired)
