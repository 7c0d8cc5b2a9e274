"""What the bug toggles show: the recorded training curves and held-out mAP of one ablation
variant beside the paper's loss.

The numbers come from ``make ablations`` (``tools/ablations.py``): every variant of the loss
trained at lesson 06's budget (300 steps) over five seeds, each loss term recorded every second
step (4 significant digits) together with the run's mAP@0.5. They ship with the package as
``yolo_lesson/data_files/ablation_curves.json``, so an installed package shows them without the
repository; ``tests/test_ablations.py`` checks that the file's mAPs are those of
``benchmarks/ablations.csv``.

Nothing here trains: :func:`ablation_summary` only reads the recorded runs and takes, per step,
the mean, the minimum and the maximum over the seeds, and compares the mAPs with the paper's seed
by seed, by the criterion of lesson 06 §7: a variant *differs* from the paper's loss when it is
lower on every seed and its mean is lower by more than the paper's standard deviation over seeds.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ._checks import describe, require_positive_int

__all__ = ["CURVE_TERMS", "TOGGLES", "AblationRuns", "AblationSummary", "ablation_summary", "load_ablation_runs"]

# The terms of every recorded run, in the order the package's LossTerms names them.
CURVE_TERMS = ("total", "box", "obj", "noobj", "cls")

# The tutorials' bugs a learner can switch on, each with a label in words.
TOGGLES = {
    "conf_target=one": "Confidence target 1, not the IoU",
    "noobj_scope=empty_cells": "No-object term on empty cells only",
    "wh=signed_sqrt": "Root of a predicted w (sign trick)",
    "wh=clamped_sqrt": "Root of a predicted w (clamped at ε)",
    "reduction=sum": "Summed, not divided by N",
    "tie_break=first": "No overlap: predictor 0 takes the object",
}

PAPER = "paper"


@dataclass(frozen=True)
class AblationRuns:
    """The recorded runs of a curve file: ``steps`` of training per run, the step spacing
    ``every`` of the records, each variant's description and one dict per run (``variant``,
    ``seed``, ``map50``, ``steps`` and one list per term)."""

    steps: int
    every: int
    variants: dict[str, dict]
    runs: tuple[dict, ...]


@dataclass(frozen=True)
class AblationSummary:
    """One variant's recorded training, summarized over its seeds, beside the paper's.

    Attributes:
        variant, change: the variant's name (e.g. ``"reduction=sum"``) and what it changes.
        seeds: the seeds, in order (the same for the variant and the paper).
        steps: the recorded training steps shown (0-based).
        mean, low, high: per term (``CURVE_TERMS``), the mean, minimum and maximum over the
            seeds of the term at each shown step.
        maps: held-out mAP@0.5 per seed; ``map_mean`` and ``map_sd`` (sample standard deviation).
        paper: the same summary of the paper's loss (``None`` when ``variant`` is the paper's).
        lower_seeds, higher_seeds: on how many seeds the variant's mAP is below, above the
            paper's with the same seed.
        differs: lower on every seed and a mean lower by more than the paper's ``map_sd``
            (lesson 06 §7's criterion).
        reading: the comparison in one sentence.
    """

    variant: str
    change: str
    seeds: tuple[int, ...]
    steps: tuple[int, ...]
    mean: dict[str, tuple[float, ...]]
    low: dict[str, tuple[float, ...]]
    high: dict[str, tuple[float, ...]]
    maps: tuple[float, ...]
    map_mean: float
    map_sd: float
    paper: AblationSummary | None
    lower_seeds: int
    higher_seeds: int
    differs: bool
    reading: str


def _default_path():
    return resources.files("yolo_lesson") / "data_files" / "ablation_curves.json"


@lru_cache(maxsize=4)
def _load(path: str | None) -> AblationRuns:
    source = _default_path() if path is None else Path(path)
    data = json.loads(source.read_text(encoding="utf-8"))
    variants = {v["name"]: {"group": v["group"], "change": v["change"]} for v in data["variants"]}
    return AblationRuns(int(data["steps"]), int(data["every"]), variants, tuple(data["runs"]))


def load_ablation_runs(path: str | Path | None = None) -> AblationRuns:
    """The recorded runs: the package's curve file, or the JSON file at ``path`` written by
    ``tools/ablations.py --curves``."""
    return _load(None if path is None else str(Path(path).resolve()))


def _stats(runs: list[dict], every: int, spacing: int):
    # The records every `spacing` steps (a multiple of the file's spacing), and the last one.
    stride = spacing // every
    count = len(runs[0]["steps"])
    kept = list(range(0, count, stride))
    if kept[-1] != count - 1:
        kept.append(count - 1)
    steps = tuple(runs[0]["steps"][i] for i in kept)
    mean, low, high = {}, {}, {}
    for term in CURVE_TERMS:
        columns = [[run[term][i] for run in runs] for i in kept]
        mean[term] = tuple(statistics.fmean(values) for values in columns)
        low[term] = tuple(min(values) for values in columns)
        high[term] = tuple(max(values) for values in columns)
    return steps, mean, low, high


def _reading(maps, paper_maps, paper_sd, lower, higher) -> tuple[bool, str]:
    n = len(maps)
    gap = statistics.fmean(maps) - statistics.fmean(paper_maps)
    same = n - lower - higher
    seeds = f"lower on {lower} seed{'s' if lower != 1 else ''} of {n}, higher on {higher}" + (f", equal on {same}" if same else "")
    differs = lower == n and -gap > paper_sd
    if differs:
        return True, (f"Differs: lower on all {n} seeds, and its mean by {-gap:.3f}, more than the paper's "
                      f"spread between seeds (sd {paper_sd:.3f}).")
    if higher == n and gap > paper_sd:
        return False, (f"Higher on all {n} seeds, and its mean by {gap:.3f}, more than the paper's "
                       f"sd {paper_sd:.3f}.")
    if abs(gap) > paper_sd:
        word = "lower" if gap < 0 else "higher"
        return False, (f"Its mean is {word} by {abs(gap):.3f}, more than the paper's sd {paper_sd:.3f}, but "
                       f"not on every seed ({seeds}): not a difference by this criterion.")
    return False, (f"No difference these runs can see: the means differ by {abs(gap):.3f}, within the "
                   f"paper's sd {paper_sd:.3f} ({seeds}).")


def ablation_summary(variant: str, *, every: int | None = None, path: str | Path | None = None) -> AblationSummary:
    """The recorded curves and mAPs of ``variant``, over its seeds, beside the paper's.

    Args:
        variant: a variant of the curve file, e.g. one of ``TOGGLES`` or ``"paper"``.
        every: show the records every ``every`` training steps (a multiple of the file's
            spacing, 2); default: every record. The last step is always kept.
        path: another curve file (default: the package's).

    Raises:
        ValueError: an unknown ``variant`` (the message lists the choices), or an ``every`` that
            is not a positive multiple of the file's spacing.
    """
    runs = load_ablation_runs(path)
    if not isinstance(variant, str) or variant not in runs.variants:
        raise ValueError(f"variant must be one of {', '.join(repr(v) for v in runs.variants)}, got {describe(variant)}")
    spacing = runs.every if every is None else require_positive_int("every", every)
    if spacing % runs.every:
        raise ValueError(f"every must be a multiple of the recorded spacing {runs.every} steps, got {spacing}")

    def summarize(name: str, paper: AblationSummary | None) -> AblationSummary:
        mine = sorted((r for r in runs.runs if r["variant"] == name), key=lambda r: r["seed"])
        seeds = tuple(r["seed"] for r in mine)
        if not mine or any(not r["steps"] for r in mine):
            raise ValueError(f"variant {name!r} has no recorded curve for every seed in the curve file (a run that became NaN)")
        steps, mean, low, high = _stats(mine, runs.every, spacing)
        maps = tuple(float(r["map50"]) for r in mine)
        sd = statistics.stdev(maps) if len(maps) > 1 else 0.0
        if paper is None:
            lower = higher = 0
            differs, reading = False, "The paper's loss: the reference the other variants are compared with."
        else:
            if paper.seeds != seeds:
                raise ValueError(f"variant {name!r} must have the paper's seeds {paper.seeds} to be compared, got {seeds}")
            lower = sum(m < p for m, p in zip(maps, paper.maps))
            higher = sum(m > p for m, p in zip(maps, paper.maps))
            differs, reading = _reading(maps, paper.maps, paper.map_sd, lower, higher)
        return AblationSummary(name, runs.variants[name]["change"], seeds, steps, mean, low, high, maps,
                               statistics.fmean(maps), sd, paper, lower, higher, differs, reading)

    paper = summarize(PAPER, None)
    return paper if variant == PAPER else summarize(variant, paper)
