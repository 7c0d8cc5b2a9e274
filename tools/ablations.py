"""Trained ablations of the YOLOv1 loss: each choice of the paper, of darknet and of the popular
tutorials, switched one at a time, trained at lesson 06's budget over several seeds.

Every variant trains `TinyYolo` (S = 4, C = 3, width 8) on the same 1500 shapes images for 300
steps of 32 with Adam (learning rate 0.003), exactly as lesson 06 does, and is scored by
mAP@0.5 on the same 200 held-out images. A seed fixes the initial weights and the data order;
seed 0 is lesson 06's own run. The result is a small CSV (one row per variant and seed, plus the
mean and spread per variant), a figure, and the recorded training curves (every loss term at
every CURVE_EVERY-th step of every run, with the run's mAP) as the package's data file
yolo_lesson/data_files/ablation_curves.json, read by yolo_lesson.ablation_view; all committed::

    python tools/ablations.py                   # every variant, 3 seeds (make ablations)
    python tools/ablations.py --only paper --seeds 1 --steps 60 --csv /tmp/x.csv --no-figure

The run is single-threaded (torch.set_num_threads(1)), so the numbers are the same on any
machine with the pinned torch build; it prints its CPU time at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import DataLoader

from yolo_lesson.article_losses import article_loss_iou_gate, article_loss_mse, article_loss_smoothl1_bce
from yolo_lesson.boxes import cxcywh_to_xyxy
from yolo_lesson.data import ShapesDataset, YoloCollate
from yolo_lesson.loss import LossTerms, YoloV1Loss
from yolo_lesson.metrics import detections_from_predictions, mean_average_precision
from yolo_lesson.model import TinyYolo
from yolo_lesson.train import TERMS, History, train

ROOT = Path(__file__).resolve().parents[1]
CSV_PATH = ROOT / "benchmarks" / "ablations.csv"
FIGURE_PATH = ROOT / "benchmarks" / "ablations.png"
# Package data, so that an installed package (pip install from the repository) can show the curves.
CURVES_PATH = ROOT / "yolo_lesson" / "data_files" / "ablation_curves.json"
CURVE_EVERY = 2  # record steps 0, 2, 4, ... and the last step

# Lesson 06's setting.
IMAGE_SIZE, S, C, WIDTH = 64, 4, 3, 8
TRAIN_IMAGES, TEST_IMAGES, BATCH = 1500, 200, 32
STEPS, LR = 300, 3e-3


def article_v3_dropping_empty_means(pred, target) -> LossTerms:
    """The article's version 3 with each term that is a mean over nothing (NaN) left out of the
    total, so that it trains at all: what remains is what that loss teaches."""
    terms = article_loss_iou_gate(pred, target)
    finite = [term for term in terms[1:] if torch.isfinite(term)]
    total = torch.stack(finite).sum() if finite else pred.sum() * 0.0
    zero = pred.sum() * 0.0
    return LossTerms(total, *(term if torch.isfinite(term) else zero for term in terms[1:]))


@dataclass(frozen=True)
class Variant:
    """One row of the table: a name, the group it belongs to, what it changes and how."""

    name: str
    group: str
    change: str
    B: int = 2
    loss: dict = field(default_factory=dict)  # options of YoloV1Loss, on top of the defaults
    article: Callable | None = None  # an article loss instead of YoloV1Loss
    decode_wh: str = "predicted_sqrt"  # what the model's w, h outputs mean when decoding


def variants() -> list[Variant]:
    return [
        Variant("paper", "paper / darknet", "predicted √w, √h; RMSE fallback; conf → IoU; sum / N"),
        Variant("wh=signed_sqrt", "tutorials", "root of a predicted w, with the sign trick",
                loss={"wh": "signed_sqrt"}, decode_wh="linear"),
        Variant("wh=clamped_sqrt", "tutorials", "root of a predicted w, clamped at ε",
                loss={"wh": "clamped_sqrt"}, decode_wh="linear"),
        Variant("wh=linear", "tutorials", "w itself, no root", loss={"wh": "linear"}, decode_wh="linear"),
        Variant("conf_target=one", "tutorials", "confidence target 1, not the IoU", loss={"conf_target": "one"}),
        Variant("noobj_scope=empty_cells", "tutorials", "no-object term on empty cells only",
                loss={"noobj_scope": "empty_cells"}),
        Variant("tie_break=first", "tutorials", "no overlap: predictor 0, not the smallest RMSE",
                loss={"tie_break": "first"}),
        Variant("reduction=sum", "tutorials", "summed, not divided by N", loss={"reduction": "sum"}),
        Variant("lambda_noobj=0", "λ", "λ_noobj = 0", loss={"lambda_noobj": 0.0}),
        Variant("lambda_noobj=1", "λ", "λ_noobj = 1", loss={"lambda_noobj": 1.0}),
        Variant("lambda_coord=1", "λ", "λ_coord = 1", loss={"lambda_coord": 1.0}),
        Variant("lambda_coord=10", "λ", "λ_coord = 10", loss={"lambda_coord": 10.0}),
        Variant("B=1", "B", "one predictor per cell", B=1),
        Variant("B=3", "B", "three predictors per cell (darknet's released yolov1.cfg)", B=3),
        Variant("article v1", "article", "MSE means over every cell (B = 1)", B=1,
                article=article_loss_mse, decode_wh="linear"),
        Variant("article v2", "article", "SmoothL1 + BCE means (B = 1)", B=1,
                article=article_loss_smoothl1_bce, decode_wh="linear"),
        Variant("article v3", "article", "IoU > 0.5 gate, empty means dropped (B = 1)", B=1,
                article=article_v3_dropping_empty_means, decode_wh="linear"),
    ]


def make_data():
    """The training loader's items and the held-out batch, as lesson 06 makes them."""
    train_items = list(ShapesDataset(TRAIN_IMAGES, image_size=IMAGE_SIZE, seed=0))
    test_batch = YoloCollate(S, C)(list(ShapesDataset(TEST_IMAGES, image_size=IMAGE_SIZE, seed=1)))
    return train_items, test_batch


def evaluate(model, B: int, wh: str, test_batch) -> float:
    """mAP@0.5 of `model` on the held-out batch (score threshold 0.01, as in lesson 06)."""
    with torch.no_grad():
        pred = model.eval()(test_batch.images)  # [200, S, S, B*5 + C]
    detections = detections_from_predictions(pred, S=S, B=B, C=C, score_threshold=0.01, wh=wh)
    truth = [{"boxes": cxcywh_to_xyxy(b), "labels": k} for b, k in zip(test_batch.boxes, test_batch.labels)]
    return mean_average_precision(detections, truth, iou_threshold=0.5).map


def run(variant: Variant, seed: int, steps: int, data) -> float:
    """Trains one variant with one seed; returns its held-out mAP@0.5 (NaN if the loss did)."""
    return run_with_history(variant, seed, steps, data)[0]


def run_with_history(variant: Variant, seed: int, steps: int, data) -> tuple[float, History | None]:
    """Trains one variant with one seed; returns its held-out mAP@0.5 and the per-step history
    of its loss terms (NaN and None if the loss became NaN)."""
    train_items, test_batch = data
    loader = DataLoader(train_items, batch_size=BATCH, shuffle=True, drop_last=True, collate_fn=YoloCollate(S, C))
    torch.manual_seed(seed)  # the initial weights
    model = TinyYolo(S=S, B=variant.B, C=C, image_size=IMAGE_SIZE, width=WIDTH)
    loss_fn = variant.article or YoloV1Loss(S=S, B=variant.B, C=C, **variant.loss)
    try:
        history = train(model, loader, loss_fn, steps=steps, lr=LR, seed=seed, progress=False)
    except FloatingPointError:
        return math.nan, None
    return evaluate(model, variant.B, variant.decode_wh, test_batch), history


def significant(value: float, digits: int = 4) -> float:
    """`value` rounded to `digits` significant digits (what the curve file stores)."""
    return float(f"{value:.{digits - 1}e}") if math.isfinite(value) else value


def recorded_steps(steps: int, every: int = CURVE_EVERY) -> list[int]:
    """The steps a curve keeps: 0, every, 2·every, ... and the last step, steps − 1."""
    kept = list(range(0, steps, every))
    return kept if kept[-1] == steps - 1 else kept + [steps - 1]


def curve_record(row: dict, history: History | None, steps: int, every: int = CURVE_EVERY) -> dict:
    """One run's entry of the curve file: variant, seed, mAP (unrounded, so that the mean and sd
    over seeds are those the CSV states; None if the loss became NaN) and, per loss term, its
    value at each recorded step (4 significant digits; empty if the loss became NaN)."""
    kept = recorded_steps(steps, every) if history is not None else []
    terms = {name: [significant(getattr(history, name)[t]) for t in kept] for name in TERMS}
    return {"variant": row["variant"], "seed": row["seed"], "map50": row["map50"] if math.isfinite(row["map50"]) else None,
            "steps": kept, **terms}


def write_curves(path: Path, records: list[dict], steps: int, every: int = CURVE_EVERY) -> None:
    """The curve file: the budget, the step spacing, the variants' descriptions and one record
    per run (see :func:`curve_record`), as compact JSON."""
    described = {v.name: {"group": v.group, "change": v.change} for v in variants()}
    names = list(dict.fromkeys(r["variant"] for r in records))
    data = {
        "steps": steps, "every": every, "terms": list(TERMS),
        "variants": [{"name": name, **described[name]} for name in names],
        "runs": records,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def summarize(rows: list[dict]) -> list[dict]:
    """Mean, sample standard deviation, min and max of the mAP per variant, in table order."""
    out = []
    for name in dict.fromkeys(row["variant"] for row in rows):
        maps = [row["map50"] for row in rows if row["variant"] == name]
        first = next(row for row in rows if row["variant"] == name)
        out.append({
            "variant": name, "group": first["group"], "change": first["change"], "seeds": len(maps),
            "mean": statistics.fmean(maps), "std": statistics.stdev(maps) if len(maps) > 1 else 0.0,
            "min": min(maps), "max": max(maps),
        })
    return out


def write_csv(path: Path, rows: list[dict], steps: int) -> None:
    """One file: per-seed rows (seed = 0, 1, ...) then one summary row per variant (seed = "all")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["variant", "group", "change", "steps", "seed", "map50", "mean", "std", "min", "max"])
        for row in rows:
            writer.writerow([row["variant"], row["group"], row["change"], steps, row["seed"],
                             f"{row['map50']:.4f}", "", "", "", ""])
        for s in summarize(rows):
            writer.writerow([s["variant"], s["group"], s["change"], steps, "all", "",
                             f"{s['mean']:.4f}", f"{s['std']:.4f}", f"{s['min']:.4f}", f"{s['max']:.4f}"])


def read_csv(path: Path = CSV_PATH) -> tuple[list[dict], list[dict]]:
    """(per-seed rows, summary rows) of a CSV written by :func:`write_csv`, numbers as floats."""
    with Path(path).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    per_seed = [{**r, "seed": int(r["seed"]), "map50": float(r["map50"]), "steps": int(r["steps"])}
                for r in rows if r["seed"] != "all"]
    summary = [{**r, "steps": int(r["steps"]), **{k: float(r[k]) for k in ("mean", "std", "min", "max")}}
               for r in rows if r["seed"] == "all"]
    return per_seed, summary


def save_figure(csv_path: Path, figure_path: Path) -> None:
    """Draws the per-seed rows of `csv_path` (see :func:`yolo_lesson.viz.plot_ablations`)."""
    import matplotlib

    matplotlib.use("Agg")
    from yolo_lesson.viz import plot_ablations

    per_seed, _ = read_csv(csv_path)
    plot_ablations(per_seed).savefig(figure_path, dpi=110, bbox_inches="tight")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per variant (0, 1, ...)")
    parser.add_argument("--steps", type=int, default=STEPS, help="optimizer steps per run")
    parser.add_argument("--only", nargs="*", help="variant names to run (default: all)")
    parser.add_argument("--csv", type=Path, default=CSV_PATH)
    parser.add_argument("--curves", type=Path, default=CURVES_PATH, help="the recorded curves (JSON)")
    parser.add_argument("--figure", type=Path, default=FIGURE_PATH)
    parser.add_argument("--no-figure", action="store_true")
    parser.add_argument("--replot", action="store_true", help="only redraw the figure from the CSV")
    args = parser.parse_args()
    if args.replot:
        save_figure(args.csv, args.figure)
        return 0

    torch.set_num_threads(1)
    chosen = [v for v in variants() if not args.only or v.name in args.only]
    unknown = set(args.only or ()) - {v.name for v in variants()}
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; known: {[v.name for v in variants()]}")
    start = time.process_time()
    data = make_data()
    rows, records = [], []
    for variant in chosen:
        for seed in range(args.seeds):
            value, history = run_with_history(variant, seed, args.steps, data)
            rows.append({"variant": variant.name, "group": variant.group, "change": variant.change,
                         "seed": seed, "map50": value})
            records.append(curve_record(rows[-1], history, args.steps))
            print(f"{variant.name:>24}  seed {seed}: mAP@0.5 {value:.3f}", flush=True)
    write_csv(args.csv, rows, args.steps)
    write_curves(args.curves, records, args.steps)
    for s in summarize(rows):
        print(f"{s['variant']:>24}: {s['mean']:.3f} ± {s['std']:.3f}  [{s['min']:.3f}, {s['max']:.3f}]")
    if not args.no_figure:
        save_figure(args.csv, args.figure)
    print(f"CPU time: {time.process_time() - start:.0f} s for {len(rows)} trainings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
