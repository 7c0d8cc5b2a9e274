"""Pictures of :mod:`yolo_lesson.landscape` (matplotlib): heatmaps with ``-∇`` arrows, the
responsibility boundary, and descent paths. Colours from :data:`yolo_lesson.viz.PALETTE`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import LogNorm
from matplotlib.patches import Rectangle

from .landscape import IOU_LOSSES, V1_TERMS, IoUFamilyLandscape, LossLandscape
from .viz import PALETTE

__all__ = ["LOSS_COLORS", "LOSS_LABELS", "plot_loss_landscape", "plot_iou_family_landscape", "plot_descent_paths"]

# The box losses' colours, as the widgets use them (yolo_lesson.widgets.LOSS_COLORS), and v1's.
LOSS_COLORS = {"v1": PALETTE[4], "iou": "#7f7f7f", "giou": PALETTE[0], "diou": PALETTE[1], "ciou": PALETTE[3]}
LOSS_LABELS = {"v1": "YOLOv1 box term", "iou": "1 − IoU", "giou": "1 − GIoU", "diou": "1 − DIoU", "ciou": "1 − CIoU"}
TRUTH_COLOR = PALETTE[2]


def _heatmap(ax, xs, ys, values, title):
    extent = (float(xs[0]), float(xs[-1]), float(ys[-1]), float(ys[0]))
    image = ax.imshow(values.numpy(), extent=extent, origin="upper", cmap="viridis", aspect="equal", interpolation="nearest")
    ax.set_xlim(float(xs[0]), float(xs[-1]))
    ax.set_ylim(float(ys[-1]), float(ys[0]))  # y downwards, as image rows go
    ax.set_title(title, fontsize=10)
    return image


def _quiver(ax, xs, ys, grads):
    """``-∇`` arrows; lengths grow like the square root of the gradient's size (the largest one
    0.9 of the arrow spacing), so that small gradients stay visible beside large ones."""
    gx, gy = -grads[..., 0], -grads[..., 1]
    size = (gx**2 + gy**2).sqrt()
    largest = float(size.max())
    if largest == 0:
        return
    step = float(xs[1] - xs[0])
    scale = 0.9 * step * (size / largest).sqrt() / size.clamp(min=1e-300)
    X, Y = (t.numpy() for t in torch.meshgrid(xs, ys, indexing="xy"))  # [len(ys), len(xs)] each
    ax.quiver(X, Y, (gx * scale).numpy(), (gy * scale).numpy(), angles="xy", scale_units="xy", scale=1,
              color="white", width=0.006, headwidth=4, edgecolor="black", linewidth=0.3)


def _box(ax, box, color, dashed=False, lw=1.8):
    x1, y1, x2, y2 = box
    ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color, lw=lw, ls=dashed if isinstance(dashed, str) else ("--" if dashed else "-")))


def plot_loss_landscape(land: LossLandscape, terms=V1_TERMS):
    """One panel per term: the heatmap over predictor 1's centre (or size; box and total on
    a log colour scale when they span more than a factor 10), ``-∇`` arrows
    (white, scaled per panel, length growing like the root of the gradient's size; none
    where the gradient is 0), and the boundary where
    responsibility switches between the predictors (a dashed contour). Over the centre, the
    object (dashed, green), predictor 2 (orange) and the grid lines are drawn too."""
    rows = (len(terms) + 1) // 2  # two panels a row: readable on a narrow page too
    fig, axes = plt.subplots(rows, 2, figsize=(8.2, 3.7 * rows), layout="constrained", squeeze=False)
    for ax in axes.flat[len(terms):]:
        ax.remove()
    for ax, name in zip(axes.flat, terms):
        image = _heatmap(ax, land.xs, land.ys, land.terms[name], f"{name}")
        low, high = float(land.terms[name].min()), float(land.terms[name].max())
        if name in ("box", "total") and low > 0 and high > 10 * low:  # the bowl beside the far higher plateau
            image.set_norm(LogNorm(low, high))
        fig.colorbar(image, ax=ax, shrink=0.75)
        _quiver(ax, land.arrow_xs, land.arrow_ys, land.grads[name])
        if bool(land.responsible.any()) and not bool(land.responsible.all()):
            ax.contour(land.xs.numpy(), land.ys.numpy(), land.responsible.double().numpy(), levels=[0.5],
                       colors=PALETTE[7], linestyles="--", linewidths=1.5)
        if land.over == "centre":
            for k in range(1, land.S):
                ax.axhline(k / land.S, color="0.85", lw=0.6)
                ax.axvline(k / land.S, color="0.85", lw=0.6)
            _box(ax, land.truth, TRUTH_COLOR, dashed=True)
            _box(ax, land.preds[1], PALETTE[1])
            ax.set_xlabel("predictor 1's centre x")
            ax.set_ylabel("centre y")
        else:
            tw, th = land.truth[2] - land.truth[0], land.truth[3] - land.truth[1]
            ax.plot([tw], [th], marker="*", color=TRUTH_COLOR, ms=12, mec="white")
            ax.set_xlabel("predictor 1's width w")
            ax.set_ylabel("height h")
            ax.set_ylim(float(land.ys[0]), float(land.ys[-1]))  # sizes: h upwards
            ax.images[0].set_extent((float(land.xs[0]), float(land.xs[-1]), float(land.ys[0]), float(land.ys[-1])))
            ax.images[0].origin = "lower"
    return fig


def plot_iou_family_landscape(land: IoUFamilyLandscape):
    """``1 - IoU``, ``1 - GIoU``, ``1 - DIoU``, ``1 - CIoU`` over the predicted centre, one
    panel each, on one colour scale, with ``-∇`` arrows every few points and the object."""
    fig, axes = plt.subplots(2, 2, figsize=(8.6, 7.6), layout="constrained")
    stride = max(1, (len(land.xs) - 1) // 10)
    for ax, name in zip(axes.flat, IOU_LOSSES):
        image = _heatmap(ax, land.xs, land.ys, land.losses[name], f"{LOSS_LABELS[name]}  (zero gradient: {land.zero_gradient[name]:.0%})")
        image.set_clim(0, 2)
        _quiver(ax, land.xs[::stride], land.ys[::stride], land.grads[name][::stride, ::stride])
        _box(ax, land.truth, "white", dashed=True)
        ax.set_xlabel("predicted centre x")
        ax.set_ylabel("predicted centre y")
    fig.colorbar(image, ax=axes, shrink=0.8, label="loss")
    return fig


def plot_descent_paths(paths, truth, title: str | None = None):
    """Left: each loss's path of the centre on the image, its final box, the object (dashed).
    Right: each path's IoU with the object against the step."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    left.set_xlim(0, 1)
    left.set_ylim(1, 0)
    left.set_aspect("equal")
    _box(left, truth, TRUTH_COLOR, dashed=True, lw=2)
    start = next(iter(paths.values())).boxes[0]
    _box(left, start, PALETTE[7], dashed=":", lw=1.2)
    for name, path in paths.items():
        cx = [(b[0] + b[2]) / 2 for b in path.boxes]
        cy = [(b[1] + b[3]) / 2 for b in path.boxes]
        left.plot(cx, cy, "-", color=LOSS_COLORS[name], lw=1.5, label=LOSS_LABELS[name])
        left.plot(cx[-1:], cy[-1:], "o", color=LOSS_COLORS[name], ms=4)
        _box(left, path.boxes[-1], LOSS_COLORS[name], lw=1.2)
        right.plot(range(len(path.ious)), path.ious, color=LOSS_COLORS[name], lw=2, label=LOSS_LABELS[name])
    left.set_title(title or "centre paths and final boxes (black dotted: start)", fontsize=10)
    left.legend(fontsize=8, loc="lower left")
    right.set(xlabel="step", ylabel="IoU with the object", ylim=(-0.02, 1.02), title="IoU along the way")
    right.grid(color="0.9")
    return fig
