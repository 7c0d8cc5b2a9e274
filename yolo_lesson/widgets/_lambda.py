"""The λ explorer (lesson 04): each term's share of the loss and of the gradient as the λ
weights move."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt

from .. import playground
from ._common import TERM_COLORS, w

__all__ = ["LambdaExplorer", "lambda_figure"]


class LambdaExplorer(w.VBox):
    """A synthetic batch and two λ sliders: stacked bars of each term's share of the loss and
    the gradient norm each term sends back, beside the same bars with the paper's λs.

    Args:
        batch: a :class:`yolo_lesson.playground.LambdaBatch` (default: ``make_lambda_batch()``).
    """

    def __init__(self, batch: playground.LambdaBatch | None = None, lambda_coord: float = 5.0, lambda_noobj: float = 0.5):
        self.batch = batch if batch is not None else playground.make_lambda_batch()
        self.paper = playground.lambda_explorer(self.batch)
        slider = dict(continuous_update=False, style={"description_width": "80px"}, layout=w.Layout(width="360px"))
        self.lambda_coord = w.FloatSlider(value=lambda_coord, min=0, max=20, step=0.5, description="λ_coord", **slider)
        self.lambda_noobj = w.FloatSlider(value=lambda_noobj, min=0, max=2, step=0.05, description="λ_noobj", **slider)
        self.summary = w.HTML()
        # The chart travels as a PNG in an Image widget: it works the same in JupyterLab,
        # in a notebook executed without a browser, and on the static website.
        self.plot = w.Image(format="png", layout=w.Layout(max_width="900px"))
        for control in (self.lambda_coord, self.lambda_noobj):
            control.observe(self._update, names="value")
        super().__init__([w.HBox([self.lambda_coord, self.lambda_noobj]), self.summary, self.plot])
        self.add_class("yolo-lambda-explorer")
        self.view = None
        self._update()

    def __repr__(self) -> str:
        return f"LambdaExplorer(N={self.batch.pred.shape[0]}, S={self.batch.S})"

    def compute(self) -> playground.LambdaExplorerView:
        return playground.lambda_explorer(self.batch, self.lambda_coord.value, self.lambda_noobj.value)

    def _update(self, change=None) -> None:
        view = self.view = self.compute()
        self.summary.value = (
            f'<div class="yolo-readout">{view.object_cells} object cells, {view.empty_predictors} predictors '
            f'in the no-object term; total loss <span data-term="total">{view.terms["total"]:.4f}</span>, '
            f'gradient norm <span data-grad-norm="total">{view.grad_norms["total"]:.4f}</span></div>'
        )
        figure = lambda_figure(self.paper, view)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        plt.close(figure)
        self.plot.value = buffer.getvalue()


def lambda_figure(paper: playground.LambdaExplorerView, yours: playground.LambdaExplorerView):
    """Left: each term's share of the loss, stacked, paper λs beside yours. Right: the gradient
    norm each term sends back to the predictions, side by side (norms do not add up)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    for x, view in enumerate((paper, yours)):
        bottom = 0.0
        for name in playground.TERMS:
            value = view.terms[name]
            left.bar(x, value, bottom=bottom, color=TERM_COLORS[name], label=name if x == 0 else None, width=0.6)
            bottom += value
    left.set_xticks([0, 1], ["paper λ (5, 0.5)", "your λ"])
    left.set_title("loss, split by term")
    left.legend(loc="upper left", fontsize=8)
    for k, name in enumerate(playground.TERMS):
        for x, view in enumerate((paper, yours)):
            right.bar(k + (x - 0.5) * 0.38, view.grad_norms[name], width=0.36, color=TERM_COLORS[name],
                      alpha=0.45 if x == 0 else 1.0, edgecolor="black" if x else "none")
    right.set_xticks(range(len(playground.TERMS)), playground.TERMS)
    right.set_title("gradient norm per term (pale: paper λ)")
    fig.tight_layout()
    return fig
