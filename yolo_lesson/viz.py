"""Drawing helpers shared by the lessons (matplotlib).

Images are drawn in normalized coordinates: the unit square, x to the right, y *downwards*
(as image rows go), so a box ``(x1, y1, x2, y2)`` appears where it sits in the picture.
Lesson-specific figures stay in their lesson; what several lessons draw lives here.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from torch import Tensor

from ._checks import require_float, require_last_dim, require_positive_int

__all__ = ["image_axes", "draw_grid", "draw_boxes", "draw_arrows", "draw_box_playground", "highlight_cell", "plot_ablations", "PALETTE"]

# Colour-blind-safe (Okabe-Ito): ground truth, predictions, then further classes.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def image_axes(ax: Axes | None = None, size: float = 4.0, title: str | None = None) -> Axes:
    """Axes showing the unit-square image, y pointing down, equal aspect, light frame."""
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size))
    ax.set_xlim(0, 1)
    ax.set_ylim(1, 0)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    return ax


def draw_grid(ax: Axes, S: int, labels: bool = False, color: str = "0.75") -> Axes:
    """The S×S cell lines; with ``labels``, each cell's ``(row, col)`` in its corner."""
    S = require_positive_int("S", S)
    for k in range(1, S):
        ax.axhline(k / S, color=color, lw=0.8, zorder=0)
        ax.axvline(k / S, color=color, lw=0.8, zorder=0)
    if labels:
        for row in range(S):
            for col in range(S):
                ax.text(
                    (col + 0.06) / S, (row + 0.22) / S, f"{row},{col}",
                    fontsize=max(5, 10 - S // 2), color="0.55", zorder=0,
                )
    return ax


def highlight_cell(ax: Axes, row: int, col: int, S: int, color: str = PALETTE[4], alpha: float = 0.25) -> Axes:
    """Shades one grid cell."""
    ax.add_patch(Rectangle((col / S, row / S), 1 / S, 1 / S, color=color, alpha=alpha, lw=0, zorder=0))
    return ax


def draw_boxes(
    ax: Axes,
    boxes: Tensor,
    color: str | Sequence[str] = PALETTE[0],
    labels: Iterable[str] | None = None,
    linestyle: str = "-",
    centres: bool = True,
    lw: float = 2.0,
) -> Axes:
    """Draws ``xyxy`` boxes, optionally with a text label and a dot at each centre.

    Args:
        ax: the axes, usually from :func:`image_axes`.
        boxes: ``Tensor[K, 4]`` or ``Tensor[4]`` in ``xyxy``, normalized to the image.
        color: one colour, or one per box.
        labels: one string per box, written above its top-left corner.
    """
    boxes = require_float("boxes", boxes)
    require_last_dim("boxes", boxes, 4, "xyxy")
    boxes = boxes.detach().float().reshape(-1, 4).cpu()
    colors = [color] * len(boxes) if isinstance(color, str) else list(color)
    texts = list(labels) if labels is not None else [None] * len(boxes)
    for (x1, y1, x2, y2), c, text in zip(boxes.tolist(), colors, texts):
        ax.add_patch(
            Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=c, lw=lw, linestyle=linestyle)
        )
        if centres:
            ax.plot([(x1 + x2) / 2], [(y1 + y2) / 2], "o", color=c, ms=4)
        if text:
            ax.text(x1, y1 - 0.01, text, color=c, fontsize=9, va="bottom")
    return ax



def draw_arrows(ax: Axes, arrows: Iterable[Sequence[float]], color: str | Sequence[str] = PALETTE[1]) -> Axes:
    """Draws arrows ``(x0, y0, x1, y1)`` in image coordinates (zero-length ones are skipped)."""
    arrows = list(arrows)
    colors = [color] * len(arrows) if isinstance(color, str) else list(color)
    for (x0, y0, x1, y1), c in zip(arrows, colors):
        if (x1 - x0) ** 2 + (y1 - y0) ** 2 > 1e-8:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="-|>", color=c, lw=2))
    return ax


def draw_box_playground(view, ax: Axes | None = None, title: str | None = None) -> Axes:
    """A still picture of a :class:`yolo_lesson.playground.BoxPlaygroundView`: the grid, the
    object's cell, the ground truth (dashed), the predictors (the responsible one thick) and
    the arrows gradient descent would follow — what the live box playground shows."""
    from torch import tensor

    ax = image_axes(ax, title=title)
    draw_grid(ax, view.S)
    highlight_cell(ax, *view.cell, view.S)
    draw_boxes(ax, tensor(view.truth), color=PALETTE[2], labels=["object"], linestyle="--")
    colors = [PALETTE[0], PALETTE[1], PALETTE[3], PALETTE[7]][: len(view.preds)]
    for b, box in enumerate(view.preds):
        responsible = b == view.responsible
        draw_boxes(ax, tensor(box), color=colors[b], lw=3.5 if responsible else 1.5,
                   labels=[f"predictor {b + 1}" + (" (responsible)" if responsible else "")])
    draw_arrows(ax, view.centre_arrows, colors)
    draw_arrows(ax, view.size_arrows, colors)
    return ax


def plot_ablations(rows: Sequence[dict], reference: str = "paper", title: str | None = None):
    """The trained ablations (``tools/ablations.py``): one line per variant, a dot per seed, a bar
    at the mean; a vertical line marks the ``reference`` variant's mean.

    Args:
        rows: per-seed dicts with ``variant``, ``group`` and ``map50`` (a float; NaN when the
            run stopped on a non-finite loss), in the order the variants should be listed.
        reference: the variant whose mean is marked.

    Returns:
        The matplotlib ``Figure``.
    """
    names = list(dict.fromkeys(row["variant"] for row in rows))
    groups = list(dict.fromkeys(row["group"] for row in rows))
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(names) + 1.2))
    for y, name in enumerate(names):
        mine = [row for row in rows if row["variant"] == name]
        values = [float(row["map50"]) for row in mine]
        finite = [v for v in values if v == v]
        color = PALETTE[groups.index(mine[0]["group"]) % len(PALETTE)]
        ax.scatter(finite, [y] * len(finite), s=18, color=color, alpha=0.7, zorder=3)
        if finite:
            ax.plot([sum(finite) / len(finite)] * 2, [y - 0.3, y + 0.3], color=color, lw=2.5, zorder=4)
    reference_values = [float(r["map50"]) for r in rows if r["variant"] == reference and r["map50"] == r["map50"]]
    if reference_values:
        ax.axvline(sum(reference_values) / len(reference_values), color="0.6", ls="--", lw=1, zorder=1)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("mAP@0.5 on the held-out images (dots: seeds, bar: mean)")
    ax.grid(axis="x", color="0.9")
    for k, group in enumerate(groups):
        ax.scatter([], [], color=PALETTE[k % len(PALETTE)], label=group)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(title or "The same budget, one choice changed at a time")
    fig.tight_layout()
    return fig
