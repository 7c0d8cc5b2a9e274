"""The λ explorer (lesson 04): each term's share of the loss and of the gradient as the λ
weights move.

The browser draws (``js/lambda_explorer.js``: two sliders, SVG bars and a table of numbers);
Python computes. While a slider moves, the browser sends its values at most every 50 ms,
one request at a time, and draws the newest answer. The widget also carries the answers for
every state of the slider grid (:func:`yolo_lesson.playground.record_lambda_explorer`), so on
the website, where no kernel runs, the sliders look them up.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt

from .. import playground
from ._common import TERM_COLORS, anywidget, traitlets

__all__ = ["LambdaExplorer", "lambda_figure"]

PAPER = (5.0, 0.5)  # the paper's λ_coord and λ_noobj (§2.2)


def _as_json(view: playground.LambdaExplorerView, lambda_coord: float, lambda_noobj: float, seq: int) -> dict:
    shown = playground.rounded_view(view)
    return {
        "seq": seq,
        "lambda_coord": lambda_coord,
        "lambda_noobj": lambda_noobj,
        "terms": shown.terms,
        "grad_norms": shown.grad_norms,
        "object_cells": shown.object_cells,
        "empty_predictors": shown.empty_predictors,
        "notes": list(shown.notes),
    }


class LambdaExplorer(anywidget.AnyWidget):
    """A synthetic batch and two λ sliders: stacked bars of each term's share of the loss and
    the gradient norm each term sends back, pale for the paper's λs, solid for yours, and the
    numbers in a table.

    Args:
        batch: a :class:`yolo_lesson.playground.LambdaBatch` (default: ``make_lambda_batch()``).
        lambda_coord, lambda_noobj: where the sliders start.

    Traits (synced with the browser):
        lambda_coord, lambda_noobj: the sliders; set them from Python to move them.
        seq: the number of the browser's latest request; ``shown["seq"]`` answers it.
        shown: the state drawn (:func:`yolo_lesson.playground.lambda_explorer`, rounded to
            the 4 decimals shown). paper: the same at the paper's λs.
        recording: every state of the slider grid, for a page without a kernel: the JSON text
            of :meth:`yolo_lesson.playground.LambdaRecording.to_json` (one string, so the saved
            notebook keeps it on one line, about 140 KB).
    """

    _esm = Path(__file__).parent / "js" / "lambda_explorer.js"
    lambda_coord = traitlets.Float(PAPER[0]).tag(sync=True)
    lambda_noobj = traitlets.Float(PAPER[1]).tag(sync=True)
    seq = traitlets.Int(0).tag(sync=True)
    shown = traitlets.Dict().tag(sync=True)
    paper = traitlets.Dict().tag(sync=True)
    recording = traitlets.Unicode("").tag(sync=True)
    colors = traitlets.Dict().tag(sync=True)
    names = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(self, batch: playground.LambdaBatch | None = None, lambda_coord: float = PAPER[0], lambda_noobj: float = PAPER[1]):
        self.batch = batch if batch is not None else playground.make_lambda_batch()
        recording = playground.record_lambda_explorer(self.batch)
        self.view: playground.LambdaExplorerView | None = None
        self._answered: tuple | None = None
        super().__init__(
            lambda_coord=lambda_coord,
            lambda_noobj=lambda_noobj,
            paper=_as_json(playground.lambda_explorer(self.batch, *PAPER), *PAPER, 0),
            recording=json.dumps(recording.to_json(), separators=(",", ":")),
            colors=dict(TERM_COLORS),
            names=list(playground.TERMS),
        )
        self.add_class("yolo-lambda-explorer")
        self.add_class("yolo-recorded")  # on the website the sliders look up `recording`
        self._update()

    def __repr__(self) -> str:  # the default repr lists every trait, the recording included
        return f"LambdaExplorer(N={self.batch.pred.shape[0]}, S={self.batch.S})"

    def compute(self) -> playground.LambdaExplorerView:
        return playground.lambda_explorer(self.batch, self.lambda_coord, self.lambda_noobj)

    @traitlets.observe("lambda_coord", "lambda_noobj", "seq")
    def _update(self, change=None) -> None:
        # A browser request sets λ_coord, λ_noobj and seq in one message: the three
        # notifications then come together, and only the first computes.
        key = (self.lambda_coord, self.lambda_noobj, self.seq)
        if key == self._answered:
            return
        self._answered = key
        self.view = self.compute()
        self.shown = _as_json(self.view, self.lambda_coord, self.lambda_noobj, self.seq)


def lambda_figure(paper: playground.LambdaExplorerView, yours: playground.LambdaExplorerView):
    """Left: each term's share of the loss, stacked, paper λs beside yours. Right: the gradient
    norm each term sends back to the predictions, side by side (norms do not add up). The
    legend sits under the panels, clear of every bar."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    for x, view in enumerate((paper, yours)):
        bottom = 0.0
        for name in playground.TERMS:
            value = view.terms[name]
            left.bar(x, value, bottom=bottom, color=TERM_COLORS[name], label=name if x == 0 else None, width=0.6)
            bottom += value
    left.set_xticks([0, 1], ["paper λ (5, 0.5)", "your λ"])
    left.set_title("loss, split by term")
    for k, name in enumerate(playground.TERMS):
        for x, view in enumerate((paper, yours)):
            right.bar(k + (x - 0.5) * 0.38, view.grad_norms[name], width=0.36, color=TERM_COLORS[name],
                      alpha=0.45 if x == 0 else 1.0, edgecolor="black" if x else "none")
    right.set_xticks(range(len(playground.TERMS)), playground.TERMS)
    right.set_title("gradient norm per term (pale: paper λ)")
    fig.legend(*left.get_legend_handles_labels(), loc="lower center", ncols=len(playground.TERMS), frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
