"""The bug toggles (lesson 05): pick one of the tutorials' bugs and see its recorded training
curves and held-out mAP beside the paper's loss.

Every number is recorded ahead of time (``make ablations``) and read by
:func:`yolo_lesson.ablation_view.ablation_summary`; all the variants travel in the widget's
synced state, so the view answers the same in JupyterLab and on the static website, where no
kernel runs. The browser only switches which recorded set it draws and maps numbers to pixels.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt

from ..ablation_view import CURVE_TERMS, TOGGLES, AblationSummary, ablation_summary, load_ablation_runs
from ..viz import PALETTE
from ._common import TERM_COLORS, anywidget, traitlets

__all__ = ["AblationToggles", "ablation_figure", "ablation_state"]

PAPER_COLOR = "#595959"  # grey: the reference
VARIANT_COLOR = PALETTE[3]
SHOWN_EVERY = 4  # training steps between two points of the widget's curves

_CSS = """
.yolo-ablations, .yolo-ablations * { box-sizing: border-box; }
.yolo-ablations { color: var(--jp-content-font-color1, #1a1a1a); font-size: 13px; max-width: 100%; }
.yolo-ablations .yolo-ab-buttons { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0 8px; }
.yolo-ablations button { font: inherit; padding: 5px 10px; min-width: 8em; cursor: pointer; border-radius: 3px;
  border: 1px solid var(--jp-border-color1, #8a8a8a); background: var(--jp-layout-color1, #f4f4f4);
  color: var(--jp-content-font-color1, #1a1a1a); }
.yolo-ablations button[aria-pressed="true"] { background: var(--jp-brand-color1, #1565c0); color: #ffffff;
  border-color: var(--jp-brand-color1, #1565c0); }
.yolo-ablations button:focus-visible { outline: 2px solid var(--jp-brand-color1, #1565c0); outline-offset: 2px; }
.yolo-ablations .yolo-ab-maps { border-collapse: collapse; margin: 2px 0 4px; }
.yolo-ablations .yolo-ab-maps td, .yolo-ablations .yolo-ab-maps th { padding: 2px 5px; text-align: right;
  white-space: nowrap; }
.yolo-ablations .yolo-ab-maps th:first-child, .yolo-ablations .yolo-ab-maps td:first-child { text-align: left;
  white-space: normal; min-width: 7em; max-width: 13em; }
.yolo-ablations .yolo-ab-maps .num { font-family: monospace; font-size: 12px; }
.yolo-ablations .yolo-ab-maps th { white-space: normal; vertical-align: bottom; max-width: 11em; }
.yolo-ablations .yolo-ab-reading { margin: 2px 0 8px; max-width: 60em; }
.yolo-ablations .yolo-ab-legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 2px 0; }
.yolo-ablations .yolo-ab-legend svg { vertical-align: middle; margin-right: 4px; }
.yolo-ablations .yolo-ab-panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 300px));
  gap: 6px 10px; max-width: 960px; }
.yolo-ablations .yolo-ab-panels svg { width: 100%; height: auto; display: block; }
"""


# What a reader of the curves must know besides the mAP.
CURVE_NOTES = {
    "reduction=sum": "Its loss is summed over the 32 images of a batch instead of divided by N = 32, "
                     "so its curves sit about 32 times higher for the same errors.",
}


def _rounded(values) -> list[float]:
    return [float(f"{v:.4g}") for v in values]


def _difference(value: float, reference: float) -> str:
    """value − reference of the two numbers as shown (4 decimals), signed; an exact 0 unsigned."""
    difference = round(round(value, 4) - round(reference, 4), 4)
    return "0.0000" if difference == 0 else f"{difference:+.4f}"


def _variant_state(summary: AblationSummary) -> dict:
    """What the browser draws for one variant: curves per term and the mAP numbers, formatted."""
    state = {
        "name": summary.variant,
        "label": TOGGLES.get(summary.variant, "The paper's loss"),
        "change": summary.change,
        "curves": {t: {"mean": _rounded(summary.mean[t]), "low": _rounded(summary.low[t]),
                       "high": _rounded(summary.high[t])} for t in CURVE_TERMS},
        "maps": [f"{m:.4f}" for m in summary.maps],
        "map_mean": f"{summary.map_mean:.4f}",
        "map_sd": f"{summary.map_sd:.4f}",
        "reading": summary.reading,
        "differs": summary.differs,
        "note": CURVE_NOTES.get(summary.variant, ""),
    }
    if summary.paper is not None:  # the differences of the numbers shown, seed by seed
        state["diffs"] = [_difference(m, p) for m, p in zip(summary.maps, summary.paper.maps)]
        state["diff_mean"] = _difference(summary.map_mean, summary.paper.map_mean)
    return state


def _log_ticks(low: float, high: float) -> list[float]:
    """1, 2 and 5 times the powers of ten between `low` and `high` (only 1 and 5, or only 1,
    when that makes more than six); three round numbers inside the range when it holds fewer
    than two of them."""
    powers = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    for factors in ((1, 2, 5), (1, 5), (1,)):
        ticks = [float(f"{f * 10.0**p:.3g}") for p in powers for f in factors if low <= f * 10.0**p <= high]
        if len(ticks) < 2:
            break
        if len(ticks) <= 6:
            return ticks
    return sorted({t for t in (float(f"{v:.2g}") for v in (low * 1.05, math.sqrt(low * high), high / 1.05)) if low <= t <= high})


def _axes(shown: list[AblationSummary]) -> dict:
    """One log y range per term, padded a little, with its ticks: what the panels of these
    summaries share."""
    axes = {}
    for term in CURVE_TERMS:
        low = min(min(s.low[term]) for s in shown)
        high = max(max(s.high[term]) for s in shown)
        low = max(low, high * 1e-4, 1e-12)  # a log axis; a term that reaches 0 is drawn at the floor
        ymin, ymax = 10 ** (math.log10(low) - 0.03), 10 ** (math.log10(high) + 0.03)
        axes[term] = {"min": ymin, "max": ymax, "ticks": _log_ticks(ymin, ymax)}
    return axes


def ablation_state(every: int = SHOWN_EVERY) -> dict:
    """The widget's whole recorded state: the paper and every toggle, curves every ``every``
    steps; each toggle carries the y axes (log) it shares with the paper's curves."""
    summaries = {name: ablation_summary(name, every=every) for name in TOGGLES}
    paper = next(iter(summaries.values())).paper
    variants = []
    for summary in summaries.values():
        state = _variant_state(summary)
        state["axes"] = _axes([paper, summary])
        variants.append(state)
    budget = load_ablation_runs().steps  # the x axis runs to the training budget
    return {"steps": list(paper.steps), "budget": budget, "terms": list(CURVE_TERMS), "seeds": len(paper.seeds),
            "paper": _variant_state(paper), "variants": variants}


class AblationToggles(anywidget.AnyWidget):
    """Toggle buttons, one per bug of the tutorials; for the chosen one, each loss term's
    recorded training curve (mean over the seeds, band from the lowest to the highest seed)
    over the paper's, and the held-out mAP@0.5 of both with a one-line reading.

    Args:
        variant: the variant shown first, one of :data:`yolo_lesson.ablation_view.TOGGLES`.
    """

    _esm = Path(__file__).parent / "js" / "ablation_toggles.js"
    _css = _CSS
    data = traitlets.Dict().tag(sync=True)
    variant = traitlets.Unicode("noobj_scope=empty_cells").tag(sync=True)
    colors = traitlets.Dict().tag(sync=True)

    def __init__(self, variant: str = "noobj_scope=empty_cells"):
        ablation_summary(variant)  # a ValueError listing the choices for an unknown name
        if variant not in TOGGLES:
            raise ValueError(f"variant must be one of {', '.join(repr(v) for v in TOGGLES)}, got {variant!r}")
        colors = {"paper": PAPER_COLOR, "variant": VARIANT_COLOR, **TERM_COLORS, "total": "#1a1a1a"}
        super().__init__(data=ablation_state(), variant=variant, colors=colors)
        # Every answer is in the synced state: the website shows it without a kernel.
        self.add_class("yolo-ablation-toggles")
        self.add_class("yolo-recorded")

    def __repr__(self) -> str:
        return f"AblationToggles(variant={self.variant!r})"

    def shown(self) -> dict:
        """The recorded set the view shows now (an entry of ``data["variants"]``)."""
        return next(v for v in self.data["variants"] if v["name"] == self.variant)


def ablation_figure(variants=tuple(TOGGLES), every: int = SHOWN_EVERY):
    """The still of the same recorded data: one row per variant, its total loss over training
    beside the paper's (mean over seeds, min–max band, log y), and its mAP@0.5 per seed."""
    fig, axes = plt.subplots(len(variants), 2, figsize=(9, 1.6 * len(variants)),
                             gridspec_kw={"width_ratios": [2.2, 1]}, squeeze=False)
    for row, name in enumerate(variants):
        s = ablation_summary(name, every=every)
        curve, dots = axes[row]
        for summary, color, label, dash in ((s.paper, PAPER_COLOR, "paper", "--"), (s, VARIANT_COLOR, name, "-")):
            curve.fill_between(summary.steps, summary.low["total"], summary.high["total"], color=color, alpha=0.2, lw=0)
            curve.plot(summary.steps, summary.mean["total"], dash, color=color, lw=1.4, label=label)
        curve.set_yscale("log")
        curve.set_ylabel("total loss")
        curve.legend(loc="upper right", fontsize=8, frameon=False)
        if row == len(variants) - 1:
            curve.set_xlabel("training step")
        for y, summary, color in ((1, s.paper, PAPER_COLOR), (0, s, VARIANT_COLOR)):
            dots.plot(summary.maps, [y] * len(summary.maps), "o", color=color, ms=5, alpha=0.8)
            dots.plot([summary.map_mean] * 2, [y - 0.25, y + 0.25], color=color, lw=2)
        for p, v in zip(s.paper.maps, s.maps):
            dots.plot([p, v], [1, 0], color="#bbbbbb", lw=0.7, zorder=0)
        dots.set_yticks([0, 1], [name, "paper"], fontsize=8)
        dots.set_ylim(-0.6, 1.6)
        dots.set_xlim(0.7, 1.0)
        dots.tick_params(axis="y", length=0)
        dots.set_title(f"mAP@0.5 {s.map_mean:.3f} ± {s.map_sd:.3f} (paper {s.paper.map_mean:.3f} ± {s.paper.map_sd:.3f})",
                       fontsize=8)
        if row == len(variants) - 1:
            dots.set_xlabel("held-out mAP@0.5 (one dot per seed)")
    fig.tight_layout()
    return fig
