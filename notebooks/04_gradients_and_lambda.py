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
# # 04 · Gradients and λ: who pushes what
#
# ## Learning goals
#
# After this lesson you can:
#
# - write the gradient of each YOLOv1 loss term with respect to the numbers a network predicts,
#   and check it against autograd;
# - say which term pushes which number: box offsets and sizes, confidences, class scores;
# - explain what the square roots on w and h do to small and large boxes, for the paper's predicted
#   roots and for the tutorials' root of a predicted w;
# - explain λ_noobj = 0.5 and λ_coord = 5 by counting predictors and measuring gradient norms,
#   and change them in a live widget.
#
# **Why this matters.** A network never sees the loss, only its gradient: the loss is a number,
# the gradient is the instruction "move this output up, that one down, by this much". Two losses
# with the same value can give very different instructions. In [lesson 03](03_yolov1_loss.ipynb) we built the loss term
# by term; here we look at what each term *says* to the network, and at the two λ weights that
# decide who gets heard.
#
# This lesson has two live widgets. With a running Python kernel (`make lab`, Binder or Colab)
# every drag and slider move is recomputed by the package. On the website no Python runs: the
# widgets look up answers the package recorded when the lesson ran (a dragged predictor snaps
# to a grid of recorded positions; the λ sliders step through their recorded grid), and a still
# picture of the same state stands beside each one.

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

from yolo_lesson import playground
from yolo_lesson.loss import responsibility, wh_transform, yolo_v1_loss
from yolo_lesson.viz import PALETTE, draw_box_playground
from yolo_lesson.widgets import BoxPlayground, LambdaExplorer, lambda_figure

_ = torch.manual_seed(0)

# %% [markdown]
# ## 1 · The gradient of each term, by hand
#
# Take one object cell with B predictors, the responsible one $r$, the box it draws
# $(x, y, w, h)$, its confidence $C_r$ and the cell's class scores $p_c$; as in
# [lesson 03](03_yolov1_loss.ipynb), hats mark the targets. The network outputs $x, y$ and the
# roots $s^w = \sqrt{w}$, $s^h = \sqrt{h}$ (the paper's parametrization). With the batch size
# $N$ (here 1) and $\mathrm{IoU}_r$ treated as a constant (it is detached), the four terms of
# [lesson 03](03_yolov1_loss.ipynb) differentiate, with respect to those outputs, to
#
# $$
# \frac{\partial L}{\partial x} = \frac{2\lambda_\text{coord}}{N}(x - \hat x), \qquad
# \frac{\partial L}{\partial s^w} = \frac{2\lambda_\text{coord}}{N}\left(s^w - \sqrt{\hat w}\right), \qquad
# \frac{\partial L}{\partial C_r} = \frac{2}{N}\left(C_r - \mathrm{IoU}_r\right),
# $$
#
# $$
# \frac{\partial L}{\partial C_j} = \frac{2\lambda_\text{noobj}}{N} C_j \;\; (j \ne r), \qquad
# \frac{\partial L}{\partial p_c} = \frac{2}{N}\left(p_c - \mathbb{1}[c = \text{label}]\right),
# $$
#
# and the same for $y$ and $s^h$. Every other output of the cell gets exactly zero: the box of a
# predictor that is not responsible is not pulled anywhere.
#
# The package's `playground.box_playground` builds a one-object prediction tensor, runs the real
# loss and asks autograd for these gradients — it is what the widget below shows. First, the
# formulas inline.

# %%
def hand_gradients(pred_box, truth_box, conf, iou_r, scores, label, S, lambda_coord=5.0, lambda_noobj=0.5):
    """Gradients of the YOLOv1 loss for the responsible predictor's (x, y, w, h, conf), N = 1.

    Boxes are (x1, y1, x2, y2) in image units; x, y are returned in the tensor's cell units."""
    (px1, py1, px2, py2), (tx1, ty1, tx2, ty2) = pred_box, truth_box
    x, y, w, h = (px1 + px2) / 2 * S, (py1 + py2) / 2 * S, px2 - px1, py2 - py1
    tx, ty, tw, th = (tx1 + tx2) / 2 * S, (ty1 + ty2) / 2 * S, tx2 - tx1, ty2 - ty1
    sqrt = lambda v: v ** 0.5  # noqa: E731
    return {
        "x": 2 * lambda_coord * (x - tx),  # the cell index cancels in the difference
        "y": 2 * lambda_coord * (y - ty),
        "w": 2 * lambda_coord * (sqrt(w) - sqrt(tw)),  # with respect to the output s = √w
        "h": 2 * lambda_coord * (sqrt(h) - sqrt(th)),
        "conf": 2 * (conf - iou_r),
    }, [2 * (p - (c == label)) for c, p in enumerate(scores)]


# %% [markdown]
# One object, two predictors; predictor 1 overlaps the object much better. (This lesson numbers
# the predictors 1 and 2, as the widgets do; in the tensor they are blocks $b = 0$ and $b = 1$.)

# %%
truth = (0.30, 0.28, 0.62, 0.72)
preds = [(0.34, 0.34, 0.60, 0.66), (0.10, 0.14, 0.40, 0.44)]
confs, scores = [0.6, 0.4], [0.7, 0.2, 0.1]
view = playground.box_playground(truth, preds, confs, scores, label=0, S=7)
r = view.responsible
print(f"responsible predictor: {r + 1}, IoUs: {[round(v, 4) for v in view.ious]}")
print("terms:", {k: round(v, 4) for k, v in view.terms.items()})

# %%
by_hand, class_by_hand = hand_gradients(preds[r], truth, confs[r], view.ious[r], scores, 0, S=7)
from_autograd = view.grads[r]
torch.testing.assert_close(
    torch.tensor([by_hand[k] for k in "xywh"] + [by_hand["conf"]], dtype=torch.float64),
    torch.tensor([from_autograd[k] for k in ("x", "y", "w", "h", "conf")], dtype=torch.float64),
    rtol=1e-4, atol=1e-6,
)
torch.testing.assert_close(
    torch.tensor(class_by_hand, dtype=torch.float64), torch.tensor(view.class_grads, dtype=torch.float64)
)
# The other predictor: only its confidence is pulled, by 2 · λ_noobj · C = 2 · 0.5 · 0.4.
other = view.grads[1 - r]
print("non-responsible predictor:", {k: round(v, 4) for k, v in other.items()})

# %% [markdown]
# The hand formulas and autograd agree. The sign gives the direction: a positive $\partial L /
# \partial x$ means gradient descent *decreases* $x$. Predictor 1 sits at the object's height
# ($\partial L/\partial y = 0$) but its centre is slightly right of the object's and its box is
# too small, so descent moves it left and makes it wider and taller ($\partial L/\partial w,
# \partial L/\partial h < 0$). The playground draws exactly these directions as arrows.
#
# ## 2 · The box playground
#
# Drag any box by its body, resize it by a corner. The thick box is the responsible predictor;
# the arrows are where one step of gradient descent moves each predictor's centre and its
# bottom-right corner (their lengths saturate, so only compare them roughly). The table gives
# every term and every gradient, all computed by the package's `yolo_v1_loss` and autograd.
# Things to try:
#
# - drag predictor 2 over the object until it becomes responsible: its arrows appear, predictor 1's
#   box arrows vanish and its confidence is now pulled towards 0 by the no-object term;
# - set the confidence target to 1: the responsible confidence is pulled to 1 whatever the overlap;
# - switch w, h to "linear" and shrink the object: compare the size gradients with the √ version.
#
# Where boxes overlap, a corner handle wins, then an edge near the pointer, then the smallest
# box under it: grab a box inside another by its body, the larger one by its edge. A box
# dragged against the image's border stops there and keeps its size. In the table each
# predictor has three rows: its box as drawn, the tensor's entries that draw it, and the
# gradient of the total with respect to those entries (signed: descent moves an entry against
# its sign).
#
# On the website, which has no Python, the playground shows answers recorded ahead of time
# (`record=True`): predictor 1's centre on a grid 0.025 apart, the drag snapping to it, with
# the other boxes and the controls as set here. The sliders and the other boxes need a live
# kernel.

# %%
BoxPlayground(truth=truth, preds=preds, confs=confs, class_scores=scores, record=True)

# %% [markdown]
# Without a kernel, here is the same state as a still picture:

# %% mystnb={"image": {"alt": "A still of the box playground: the dashed object box, two predicted boxes with gradient arrows at their centres and corners, and the object's cell highlighted on the 7 by 7 grid."}}
fig, ax = plt.subplots(figsize=(4.5, 4.5))
draw_box_playground(view, ax, title="the box playground's starting state")
plt.show()

# %% [markdown]
# ## 3 · Which term pushes which number
#
# Each term touches its own outputs and nothing else. Autograd on one term at a time shows it:
# below, one row per term, the gradient it sends to predictor 1 (responsible), predictor 2 and
# the class scores.

# %%
for name, grads in view.grads_by_term.items():
    cells = "  ".join(f"{k}={v:+.3f}" for k, v in grads[r].items())
    others = f"conf={grads[1 - r]['conf']:+.3f}"
    print(f"{name:>5} | responsible: {cells} | other: {others}")
print("  cls | class scores:", [round(v, 3) for v in view.class_grads])

# %% [markdown]
# - `box` moves only the responsible box's x, y, w, h;
# - `obj` moves only the responsible confidence (towards the IoU);
# - `noobj` moves every other confidence (towards 0);
# - `cls` moves only the class scores.
#
# The four terms touch disjoint *outputs*. It is tempting to conclude that the λs act like separate
# learning rates: λ_coord the step on box numbers, λ_noobj the step on empty confidences. That holds
# for plain gradient descent on the outputs, and fails under Adam, the optimizer of
# [lesson 06](06_training_a_tiny_yolo.ipynb). Adam divides each parameter's gradient by a running
# estimate of that gradient's own size, so a constant factor on it cancels. Watch 20 steps of each
# optimizer on a prediction tensor whose numbers are the parameters, with λ_coord = 5 and λ_coord = 50:

# %%
demo = playground.make_lambda_batch(N=4, seed=1)  # 4 images, untrained-looking predictions


def box_distance_after(optimizer_class, lambda_coord, lr, steps=20):
    """How far the box numbers travel in `steps` steps on the box term alone."""
    pred = demo.pred.clone().requires_grad_()                    # [4, 7, 7, 30]: the parameters
    optimizer = optimizer_class([pred], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        yolo_v1_loss(pred, demo.target, S=demo.S, B=demo.B, C=demo.C, lambda_coord=lambda_coord).box.backward()
        optimizer.step()
    return float((pred.detach() - demo.pred).norm())


for name, optimizer_class, lr in (("SGD", torch.optim.SGD, 0.002), ("Adam", torch.optim.Adam, 0.002)):
    near, far = (box_distance_after(optimizer_class, lam, lr) for lam in (5.0, 50.0))
    print(f"{name:>4}: λ_coord = 5 moves the box {near:.4f}, λ_coord = 50 moves it {far:.4f} ({far / near:.2f}×)")


# %% [markdown]
# With SGD, ten times the λ moves the box several times farther (not the full ten: the larger steps
# bring it near its target, where the pull weakens); with Adam, exactly as far. So under Adam
# λ_coord does not set how fast the box outputs learn. In a network the outputs are not the parameters:
# every output is computed by the same shared layers, whose gradient is the **sum** of all four
# terms' gradients. There the λs set the mix before Adam normalizes it, and that is the only place
# they act. (Only the last layer's weights that feed a single kind of output see one term alone, and
# for them, too, the λ cancels.) [Lesson 06](06_training_a_tiny_yolo.ipynb) measures what trained
# networks make of λ_coord ∈ {1, 5, 10} and λ_noobj ∈ {0, 0.5, 1}.
#
# ## 4 · The square roots: small boxes and large boxes
#
# The paper (section 2.2) wants its error metric to "reflect that small deviations in large boxes
# matter less than in small boxes", and for that the network predicts $s = \sqrt{w}$. There are two
# ways to put a root into a loss, and they do not send the same gradient
# ([lesson 03](03_yolov1_loss.ipynb), section 4):
#
# - **the paper's** (`wh="predicted_sqrt"`): the output is $s$ and the term is $(s - \sqrt{\hat w})^2$,
#   so $\partial/\partial s = 2(s - \sqrt{\hat w})$;
# - **the tutorials'** root of a predicted $w$ (`wh="signed_sqrt"`): the output is $w$ and the term
#   is $(\sqrt{w} - \sqrt{\hat w})^2$, so $\partial/\partial w = (\sqrt{w} - \sqrt{\hat w})/\sqrt{w}$;
# - and no root at all (`"linear"`): $\partial/\partial w = 2(w - \hat w)$.
#
# Each gradient is with respect to that network's own output, so we compare each one across box
# sizes, not the three with each other. We measure them for a small box (5 % of the image wide) and
# a large one (60 %), first with the same absolute error (0.03 too wide), then with the same relative
# error (20 % too wide):

# %%
def size_gradient(true_width, predicted_width, mode):
    """d(width term)/d(the network's width output) for a box predicted `predicted_width` wide."""
    true_width = torch.as_tensor(true_width, dtype=torch.float64)
    predicted_width = torch.as_tensor(predicted_width, dtype=torch.float64)
    output = predicted_width.sqrt() if mode == "predicted_sqrt" else predicted_width  # what the network says
    output.requires_grad_(True)
    goal = wh_transform(true_width, mode, role="target")
    (grad,) = torch.autograd.grad(((wh_transform(output, mode) - goal) ** 2).sum(), output)
    return grad


small_large = torch.tensor([0.05, 0.6], dtype=torch.float64)
for mode in ("predicted_sqrt", "signed_sqrt", "linear"):
    absolute = size_gradient(small_large, small_large + 0.03, mode)
    relative = size_gradient(small_large, small_large * 1.2, mode)
    print(f"{mode:>14}: 0.03 too wide: small {absolute[0]:.3f}, large {absolute[1]:.3f} "
          f"({absolute[0] / absolute[1]:.1f}×) | 20 % too wide: small {relative[0]:.3f}, large {relative[1]:.3f} "
          f"({relative[0] / relative[1]:.2f}×)")

# %% mystnb={"image": {"alt": "The gradient of the width term for a prediction 20% too wide, against the true width: with w, no root, it grows in proportion to the box; with the paper's predicted square root it grows like the square root of the width; only the root of a predicted w stays the same for every width."}}
widths = torch.linspace(0.02, 1.0, 200, dtype=torch.float64)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
styles = {"predicted_sqrt": (PALETTE[0], "output √w (paper)"), "signed_sqrt": (PALETTE[1], "root of a predicted w"),
          "linear": (PALETTE[2], "w, no root")}
for mode, (color, label) in styles.items():
    absolute = size_gradient(widths, widths + 0.03, mode)
    relative = size_gradient(widths, widths * 1.2, mode)
    axes[0].plot(widths, absolute / absolute[-1], color=color, label=label)
    axes[1].plot(widths, relative / relative[-1], color=color, label=label)
axes[0].set_title("0.03 too wide")
axes[1].set_title("20 % too wide")
for ax in axes:
    ax.set_yscale("log")
    ax.set_xlabel("true width ŵ (fraction of the image)")
    ax.set_ylabel("gradient ÷ its value at ŵ = 1")
    ax.legend(fontsize=8)
fig.suptitle("Gradient of the width term with respect to the network's own output")
plt.tight_layout()
plt.show()

# %% [markdown]
# What each does, as measured:
#
# - **The paper's predicted root**: the same absolute error pushes a small box's output harder (about
#   3 times for 0.05 against 0.6), because 0.03 of width is a larger step in $\sqrt{w}$ near 0. The
#   same *relative* error pushes it *less*: the gradient grows like $\sqrt{\hat w}$ (0.29 of the large
#   box's here). The loss is an ordinary squared error in $\sqrt{w}$.
# - **The tutorials' root of a predicted w**: the same absolute error pushes the small box about 9
#   times harder; a 20 % error gets the same gradient on every box size. That flat curve is a
#   property of this variant only.
# - **No root**: the same absolute error gets the same gradient everywhere, and a relative error
#   a gradient proportional to the box, so large boxes dominate.
#
# Both roots favour small boxes over the linear loss for a given absolute error, which is what the
# paper's sentence asks for; they differ in how strongly, and in what a network must output.
#
# ## 5 · Why λ_noobj = 0.5: counting predictors
#
# With S = 7 and B = 2 an image has 98 predictors. A typical image has a handful of objects, so
# a handful of predictors are responsible and ninety-odd are told "your confidence should be 0".
# At initialization the confidences are random, so every one of those ninety-odd sends a gradient.
# The paper puts it this way: the many cells without objects push their confidence towards zero
# and overpower the gradient from the few cells with objects, which made training unstable; they
# raise the coordinate weight (λ_coord = 5) and lower the no-object weight (λ_noobj = 0.5).
#
# We measure it on a synthetic batch of 16 images with 1–4 objects each and predictions drawn
# uniformly in [0, 1], like an untrained network's: `playground.lambda_explorer` returns each
# term's value and the norm of the gradient each term sends to the prediction tensor.

# %%
batch = playground.make_lambda_batch(N=16, seed=0)
for lambdas in ((1.0, 1.0), (5.0, 0.5)):
    v = playground.lambda_explorer(batch, *lambdas)
    print(f"λ_coord={lambdas[0]}, λ_noobj={lambdas[1]}: {v.object_cells} object cells, "
          f"{v.empty_predictors} no-object predictors")
    print("   loss:     ", {k: round(x, 2) for k, x in v.terms.items()})
    print("   grad norm:", {k: round(x, 2) for k, x in v.grad_norms.items()})

# %% [markdown]
# Without weights (both λ = 1) the no-object term is the largest part of the loss, and its
# gradient is larger than the box term's, although all it says is where the objects are *not*. With the paper's weights the box term's gradient leads and the no-object term
# falls back. Let us check one of these numbers by hand: the no-object gradient is
# $2\lambda_\text{noobj} C_j / N$ on each no-object confidence, so its norm is
# $\frac{2\lambda_\text{noobj}}{N}\sqrt{\sum_j C_j^2}$.

# %%
def noobj_grad_norm(batch, lambda_noobj):
    """The no-object term's gradient norm by hand: 2 λ_noobj / N · ||confidences it covers||."""
    N, B = batch.pred.shape[0], batch.B
    confs = batch.pred[..., 4 : B * 5 : 5]  # [N, S, S, B]: every predictor's confidence
    responsible = responsibility(batch.pred, batch.target, batch.S, batch.B, batch.C).responsible
    return 2 * lambda_noobj / N * float(confs[~responsible].norm())


torch.testing.assert_close(
    noobj_grad_norm(batch, 0.5), playground.lambda_explorer(batch, 5.0, 0.5).grad_norms["noobj"]
)

# %% [markdown]
# ## 6 · The λ explorer
#
# Move the sliders: the left chart stacks each term's share of the loss, the right one shows the
# gradient norm each term sends back, pale bars for the paper's λ, solid bars for yours; the table
# gives the numbers. While a slider moves, the widget asks `playground.lambda_explorer` for the new
# λ (at most every 50 ms) and draws its answer. The widget also carries the answers for every slider
# position (41 × 41 states, `playground.record_lambda_explorer`, each equal to `lambda_explorer` at
# that λ to the 4 decimals shown), so on the course website, where no Python runs, the sliders
# look them up. Try
# λ_noobj = 1, then 0: the no-object bar grows, then disappears — and with it the only signal
# that teaches empty cells to stay quiet. [Lesson 06](06_training_a_tiny_yolo.ipynb) trains it: with
# λ_noobj = 0 the tiny YOLO scores mAP@0.5 = 0.78 against the paper's 0.94, lower on every seed.

# %%
LambdaExplorer(batch)

# %% [markdown]
# The still picture for λ_noobj = 1 (no down-weighting) against the paper's choice:

# %% mystnb={"image": {"alt": "Left: stacked bars of each loss term's share with the paper's \u03bbs and with \u03bb_noobj = 1. Right: the gradient norm each term sends back, paper \u03bbs pale beside \u03bb_noobj = 1."}}
fig = lambda_figure(playground.lambda_explorer(batch), playground.lambda_explorer(batch, 5.0, 1.0))
fig.axes[0].set_xticks([0, 1], ["paper λ (5, 0.5)", "λ_noobj = 1"])
plt.show()

# %% [markdown]
# ## 7 · The landscape of one cell: every term over a predictor's centre and size
#
# The playground shows one position at a time. Here predictor 1 of the playground's cell visits a
# whole grid of positions (its size fixed), then a whole grid of sizes (its centre fixed), while the
# object and predictor 2 stay put; at every point the package's `yolo_v1_loss` (its default,
# paper options) gives each λ-weighted term, and autograd its gradient with respect to the
# plotted coordinates. The dashed line is where responsibility switches: on one side predictor 1
# has the higher IoU, $\mathrm{IoU}(\text{pred}_1, \text{obj}) > \mathrm{IoU}(\text{pred}_2, \text{obj})$, and
# the box term pulls *it*, with
#
# $$
# \frac{\partial L_\text{box}}{\partial c_x} = 2\lambda_\text{coord}\,(x - \hat x)\,S, \qquad x = c_x S - \text{col},
# $$
#
# on the other side predictor 2 answers and predictor 1's box gets no gradient at all. First the
# formula inline against the package's `yolo_lesson.landscape.loss_landscape`, at one point:

# %%
from yolo_lesson.landscape import loss_landscape
from yolo_lesson.landscape_figures import plot_loss_landscape

centre_land = loss_landscape(truth, preds, over="centre", grid=31, arrows=11)
i, j = 5, 5  # one arrow point, where predictor 1 is responsible
cx, cy = centre_land.arrow_xs[j].item(), centre_land.arrow_ys[i].item()
(tx1, ty1, tx2, ty2), S = truth, 7
by_hand = torch.tensor([2 * 5.0 * (cx - (tx1 + tx2) / 2) * S * S, 2 * 5.0 * (cy - (ty1 + ty2) / 2) * S * S], dtype=torch.float64)
torch.testing.assert_close(centre_land.grads["box"][i, j], by_hand)
share = centre_land.responsible.double().mean().item()
print(f"predictor 2 is responsible on {share:.0%} of the {31 * 31} centres")
for name in ("obj", "noobj"):
    print(f"largest |gradient| of {name} with respect to predictor 1's centre: {centre_land.grads[name].abs().max().item()}")

# %% [markdown]
# Both confidence terms send *no* gradient to the box: the obj term's target, the IoU, is detached
# (a target, not a path), and no-object only sees a confidence. Their heatmaps still change with the
# centre (the IoU target moves, and responsibility flips), but nothing in them pushes the box. The box
# term is a bowl centred on the object, cut off where predictor 2 takes over: beyond the dashed
# line its value is predictor 2's, constant, and predictor 1 is left alone. (The box and total
# panels' colours are on a log scale.)

# %% mystnb={"image": {"alt": "Four heatmaps over predictor 1's centre near the object's cell: the box, obj, no-object and total terms, with white minus-gradient arrows only on the box and total terms and a dashed line where responsibility switches to predictor 2."}}
plot_loss_landscape(centre_land)
plt.show()

# %% [markdown]
# Over the size, with the centre fixed: the paper's √w, √h make the bowl steep for small boxes and
# flat for large ones (the arrows' lengths grow like the root of the gradient's size); the star is
# the object's size. Where predictor 1 gets too thin, its IoU falls below predictor 2's and the
# dashed line appears again.

# %% mystnb={"image": {"alt": "Four heatmaps over predictor 1's width and height: box, obj, no-object and total terms, a star at the object's size, minus-gradient arrows pointing towards it, steeper for small sizes, and a dashed responsibility boundary near thin boxes."}}
size_land = loss_landscape(truth, preds, over="size", grid=31, arrows=11)
print(f"predictor 2 is responsible for {size_land.responsible.double().mean().item():.0%} of the sizes")
plot_loss_landscape(size_land)
plt.show()

# %% [markdown]
# ## Summary
#
# - The network learns from the gradient, not the loss value: each YOLOv1 term pushes its own
#   outputs and nothing else — `box` the responsible box, `obj` its confidence (towards the IoU),
#   `noobj` every other confidence (towards 0), `cls` the class scores.
# - Under Adam the λs are not learning rates: a constant factor on a term cancels in Adam's step;
#   they act where the terms share parameters, in the layers that compute every output.
# - The square roots make the same absolute size error cost more on a small box. The paper's network
#   outputs √w (the gradient of a relative error then grows like √ŵ); the tutorials' root of a
#   predicted w gives a 20 % error the same gradient on every size; without a root, large boxes dominate.
# - An image has ~98 predictors and a handful of objects: unweighted, the no-object term dominates
#   the gradient. λ_noobj = 0.5 quiets it and λ_coord = 5 amplifies the box signal.
# - The widgets compute everything with the package's loss and autograd: what you see is what
#   training would do.
#
# Next: [lesson 05](05_what_goes_wrong.ipynb) turns these tools on the article's three loss versions.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for your answer, followed by a checker cell that runs it on hidden cases
# and, when one fails, shows that case, the expected and the received value, and a hint. In the
# lesson the answer cells hold a solution and start folded: click the cell's left edge to open one.

# %%
from yolo_lesson import check

# %% [markdown]
# **Exercise 1 — the signed root's gradient.** Write the gradient of the width term
# $(s(w) - s(w_{true}))^2$ with respect to $w$ when the package's *signed* square root
# $s(w) = w / \sqrt{|w| + \varepsilon}$ is used (`wh="signed_sqrt"`, named explicitly in the
# checker call), and check it with autograd at $w = -0.01$ (a negative width a network can output):
# is it finite, and which way does it push?

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def signed_sqrt_width_grad(w, w_true, eps=1e-6):
    """∂/∂w of (s(w) - s(w_true))² for the signed square root s(w) = w / sqrt(|w| + eps)."""
    ### BEGIN SOLUTION
    s = lambda v: v / (abs(v) + eps) ** 0.5  # noqa: E731
    # s'(w) = (|w| + eps)^(-1/2) - w · sign(w) / 2 · (|w| + eps)^(-3/2) = (|w|/2 + eps) / (|w| + eps)^(3/2)
    ds = (abs(w) / 2 + eps) / (abs(w) + eps) ** 1.5
    return 2 * (s(w) - s(w_true)) * ds
    ### END SOLUTION


### BEGIN SOLUTION
w = torch.tensor(-0.01, dtype=torch.float64, requires_grad=True)
goal = wh_transform(torch.tensor(0.2, dtype=torch.float64), "signed_sqrt")
(auto,) = torch.autograd.grad((wh_transform(w, "signed_sqrt") - goal) ** 2, w)
assert abs(signed_sqrt_width_grad(-0.01, 0.2) - float(auto)) < 1e-9
# Negative: gradient descent increases w, back towards positive widths.
print(f"∂/∂w at w = -0.01: {float(auto):.3f}")
### END SOLUTION

# %% tags=["check"]
check.width_gradient(signed_sqrt_width_grad, wh="signed_sqrt")

# %% [markdown]
# **Exercise 2 — a new responsible predictor.** In the box playground, drag predictor 2 until it
# becomes responsible. Before you do, predict which gradients become exactly zero: write them in
# `predicted_zero` as a set of names `"p1.x"`, `"p1.y"`, `"p1.w"`, `"p1.h"`, `"p1.conf"`, `"p2.x"`, ...
# Then put the box you dragged to in `placed` and check with `playground.box_playground`.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
placed = predicted_zero = None
### BEGIN SOLUTION
# Predictor 1 is no longer responsible: no box term for it, so its four box gradients are 0;
# its confidence is now pulled to 0 by the no-object term (not zero). Predictor 2 is placed with
# its centre on the object's centre, (0.46, 0.5): its x and y errors, hence their gradients, are 0
# too; its width and height differ from the object's, so w and h keep a gradient.
placed = (0.31, 0.29, 0.61, 0.71)
predicted_zero = {"p1.x", "p1.y", "p1.w", "p1.h", "p2.x", "p2.y"}
moved = playground.box_playground(truth, [preds[0], placed], confs, scores)
print("responsible:", moved.responsible + 1, "| predictor 1's gradients:", moved.grads[0])
### END SOLUTION

# %% tags=["check"]
check.responsible_switch(placed, predicted_zero, truth=truth, first=preds[0], confs=confs, scores=scores)

# %% [markdown]
# **Exercise 3 — balancing the gradients.** Find the λ_noobj at which the no-object term's
# gradient norm equals the box term's on the batch above (λ_coord = 5), and put it in `balance`.
# The gradient norm is linear in λ_noobj, so one measurement is enough.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
balance = None
### BEGIN SOLUTION
at_one = playground.lambda_explorer(batch, 5.0, 1.0).grad_norms
balance = at_one["box"] / at_one["noobj"]
balanced = playground.lambda_explorer(batch, 5.0, balance).grad_norms
assert abs(balanced["noobj"] - balanced["box"]) < 1e-9
print(f"λ_noobj ≈ {balance:.2f}")
### END SOLUTION

# %% tags=["check"]
check.balancing_lambda(balance, batch, lambda_coord=5.0)
