"""Training the tiny YOLO of lesson 06: throughput, and the time to a useful detector.

Everything is set up as ``notebooks/06_training_a_tiny_yolo.py`` does it: ``ShapesDataset``
(1500 training images of 64 pixels, seed 0; 200 held-out images, seed 1), ``YoloCollate`` on a
4 × 4 grid with 3 classes, ``TinyYolo(width=8, B=2)``, ``YoloV1Loss``, Adam at 0.003, batches
of 32 shuffled with ``drop_last``.

Rows:

* **throughput**: one training step (forward, loss, backward, Adam step) on batches collated
  beforehand, so data loading is left out; median over a fixed number of steps after a warm-up,
  with one thread and with all threads. The ratio column gives images per second (32 / median).
  Convolutions this small gain little from a second thread; when another process keeps a core
  busy, OpenMP's threads spin while they wait for each other and a step can take many times
  longer with all threads than with one (``OMP_WAIT_POLICY=passive`` tames this).
* **time to mAP@0.5 ≥ 0.7** on the 200 held-out images: the lesson's very run (one thread,
  ``yolo_lesson.train.train`` with ``seed=0``), stopped every 25 steps to evaluate. The run is
  split into chunks with ``train(..., checkpoint=, resume=True)``, which the package guarantees
  takes the same steps as an uninterrupted run; the seconds count training only (checkpoint
  save and load of this small model included), evaluation is reported apart. With ``--quick``
  the run is capped at 50 steps, too few to get there.

Run alone with ``.venv/bin/python benchmarks/bench_training.py [--quick]`` or as part of
``benchmarks/run.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from table import Options, Row, threads

from yolo_lesson.boxes import cxcywh_to_xyxy
from yolo_lesson.data import SHAPE_CLASSES, ShapesDataset, YoloCollate
from yolo_lesson.loss import YoloV1Loss
from yolo_lesson.metrics import detections_from_predictions, mean_average_precision
from yolo_lesson.model import TinyYolo
from yolo_lesson.train import train

SECTION = "training"

# Lesson 06's settings.
IMAGE_SIZE, S, B, C = 64, 4, 2, len(SHAPE_CLASSES)
N_TRAIN, N_TEST, BATCH, LR, WIDTH = 1500, 200, 32, 3e-3, 8
TARGET_MAP, EVAL_EVERY = 0.7, 25
LESSON_STEPS = 300  # the lesson's budget, within which it asserts mAP@0.5 >= 0.7
MAX_STEPS, QUICK_MAX_STEPS = 2 * LESSON_STEPS, 50


def fresh_model() -> TinyYolo:
    torch.manual_seed(0)  # the lesson's initial weights
    return TinyYolo(S=S, B=B, C=C, image_size=IMAGE_SIZE, width=WIDTH)


def _throughput_rows(options: Options, loader: DataLoader) -> list[Row]:
    warmup, timed = (2, 5) if options.quick else (5, 30)
    torch.manual_seed(0)
    batches = [batch for _, batch in zip(range(warmup + timed), loader)]  # collated beforehand
    loss_fn = YoloV1Loss(S=S, B=B, C=C)
    rows, per_thread = [], {}
    for n_threads in options.thread_counts:
        model = fresh_model().train()
        optimizer = torch.optim.Adam(model.parameters(), lr=LR)
        times = []
        with threads(n_threads):
            for k, (images, target, *_) in enumerate(batches):
                start = time.perf_counter()
                terms = loss_fn(model(images), target)
                optimizer.zero_grad(set_to_none=True)
                terms.total.backward()
                optimizer.step()
                if k >= warmup:
                    times.append(time.perf_counter() - start)
        ms = 1000 * statistics.median(times)
        per_thread[n_threads] = ms
        rows.append(Row(SECTION, f"training step, batch of {BATCH} (forward+loss+backward+Adam)", n_threads,
                        ms, f"{BATCH * 1000 / ms:.0f} images/s"))
    rows[0].note = (f"median of {timed} steps after {warmup} warm-up steps, per thread count; batches "
                    "collated beforehand (data loading excluded)")
    if len(per_thread) > 1:
        one, most = per_thread[min(per_thread)], per_thread[max(per_thread)]
        rows[-1].note = (f"{max(per_thread)} threads give {one / most:.2f}x the images/s of 1 thread; on a busy "
                         "machine OpenMP's spin-waiting threads fight the other load for the cores "
                         "(try OMP_WAIT_POLICY=passive)")
    return rows


def _time_to_map_row(options: Options, loader: DataLoader) -> Row:
    max_steps = QUICK_MAX_STEPS if options.quick else MAX_STEPS
    case = f"time to mAP@0.5 >= {TARGET_MAP} on {N_TEST} held-out images (lesson 06 run)"
    test_batch = YoloCollate(S, C)(list(ShapesDataset(N_TEST, image_size=IMAGE_SIZE, seed=1)))
    test_targets = [{"boxes": cxcywh_to_xyxy(b), "labels": k} for b, k in zip(test_batch.boxes, test_batch.labels)]

    def evaluate(model: TinyYolo) -> float:
        with torch.no_grad():
            pred = model.eval()(test_batch.images)  # [200, S, S, B*5 + C]
        detections = detections_from_predictions(pred, S=S, B=B, C=C, score_threshold=0.01)
        return mean_average_precision(detections, test_targets, iou_threshold=0.5).map

    model, loss_fn = fresh_model(), YoloV1Loss(S=S, B=B, C=C)
    train_s = eval_s = 0.0
    steps, score, reached = 0, 0.0, False
    with threads(1), tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny.pt"
        while steps < max_steps and not reached:
            steps += EVAL_EVERY
            start = time.perf_counter()
            train(model, loader, loss_fn, steps=steps, lr=LR, seed=0, progress=False,
                  checkpoint=path, checkpoint_every=EVAL_EVERY, resume=True)
            train_s += time.perf_counter() - start
            start = time.perf_counter()
            score = evaluate(model)
            eval_s += time.perf_counter() - start
            reached = score >= TARGET_MAP
    evals = steps // EVAL_EVERY
    ms_per_step = 1000 * train_s / steps
    detail = (f"{steps} steps = {steps * BATCH} images ({steps * BATCH / N_TRAIN:.1f} epochs), "
              f"{train_s:.1f} s of training ({ms_per_step:.0f} ms/step, checkpoint save/load every "
              f"{EVAL_EVERY} steps included); {evals} evaluations took {eval_s:.1f} s more; "
              f"mAP@0.5 {score:.3f} at the last evaluation")
    if reached:
        return Row(SECTION, case, 1, 1000 * train_s, f"{steps} steps", f"<= {LESSON_STEPS} steps (lesson budget)",
                   "ok" if steps <= LESSON_STEPS else "MISSED", note=detail)
    why = f"--quick caps the run at {max_steps} steps, too few to get there" if options.quick else \
        f"not reached within {max_steps} steps"
    return Row(SECTION, case, 1, None, f"> {steps} steps", f"<= {LESSON_STEPS} steps (lesson budget)",
               "capped" if options.quick else "MISSED", note=f"{why}; {detail}")


def section(options: Options) -> list[Row]:
    start = time.perf_counter()
    with threads(1):
        train_items = list(ShapesDataset(N_TRAIN, image_size=IMAGE_SIZE, seed=0))
    draw_ms = 1000 * (time.perf_counter() - start)
    loader = DataLoader(train_items, batch_size=BATCH, shuffle=True, drop_last=True, collate_fn=YoloCollate(S, C))
    rows = [Row(SECTION, f"drawing the {N_TRAIN} training images (ShapesDataset, once)", 1, draw_ms,
                f"{N_TRAIN * 1000 / draw_ms:.0f} images/s")]
    rows += _throughput_rows(options, loader)
    rows.append(_time_to_map_row(options, loader))
    return rows


if __name__ == "__main__":
    from run import main

    sys.exit(main(["--only", SECTION, *sys.argv[1:]]))
