"""Forward + backward of ``YoloV1Loss`` (S=7, B=2, C=20) against

* the per-cell loop reference of the tests (``tests/reference_loss.py``): how much the
  vectorization buys (target: at least 50x faster at N = 64);
* a floor, one ``mse_loss`` forward + backward over a tensor of the prediction's shape: the
  cheapest loss PyTorch can compute on that tensor (target: at most 10x it at N = 64 and 256);
  the floor, the loss (its closed-form backward, the default) and the loss with
  ``backward="autograd"`` are timed in turn, in blocks of 10 calls, so that all three see
  the same load on a shared machine; the ratio is that of the medians, the 10th
  percentiles' in brackets;
* optionally ``torch.compile`` of the same module: its speed-up and its one-off compile cost.

Run alone with ``.venv/bin/python benchmarks/bench_loss.py`` or as part of ``benchmarks/run.py``.
"""

from __future__ import annotations

import logging
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from reference_loss import reference_yolo_v1_loss  # noqa: E402
from table import Options, Row, budget_repeats, faster, median_ms, threads, times_floor  # noqa: E402

from yolo_lesson.grid import encode_batch  # noqa: E402
from yolo_lesson.loss import YoloV1Loss  # noqa: E402

S, B, C = 7, 2, 20
SECTION = "loss"
# Where the issue sets its targets.
LOOP_TARGET = {64: 50.0}  # N -> at least this many times faster than the loop
FLOOR_TARGET = {64: 10.0, 256: 10.0}  # N -> at most this many times the floor


def make_batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """N images with 1 to 5 objects each, and a uniform random prediction."""
    generator = torch.Generator().manual_seed(seed)
    boxes, labels = [], []
    for _ in range(n):
        k = int(torch.randint(1, 6, (), generator=generator))
        centres = torch.rand(k, 2, generator=generator)
        sizes = 0.05 + 0.5 * torch.rand(k, 2, generator=generator)
        boxes.append(torch.cat([centres, sizes], dim=1))
        labels.append(torch.randint(0, C, (k,), generator=generator))
    target = encode_batch(boxes, labels, S=S, C=C)
    pred = torch.rand(n, S, S, B * 5 + C, generator=generator)
    return pred, target


def forward_backward(loss_fn: Callable, pred: torch.Tensor, target: torch.Tensor) -> Callable[[], None]:
    """One training step's worth of loss work: forward, then backward into ``pred``."""
    leaf = pred.clone().requires_grad_(True)

    def step() -> None:
        leaf.grad = None
        loss_fn(leaf, target).backward()

    return step


def loss_fn(criterion: Callable) -> Callable:
    return lambda p, t: criterion(p, t).total


def floor_fn() -> Callable:
    zeros: dict[tuple, torch.Tensor] = {}

    def floor(p: torch.Tensor, _t: torch.Tensor) -> torch.Tensor:
        z = zeros.setdefault(tuple(p.shape), torch.zeros_like(p))
        return torch.nn.functional.mse_loss(p, z)

    return floor


def interleaved_ms(steps: dict[str, Callable[[], None]], repeats: int, block: int = 10) -> dict[str, tuple[float, float]]:
    """The steps take turns, ``block`` timed calls each after one untimed call (so that each
    is timed with its own data in the caches, as in a training loop, but all of them under
    the same load), until each has ``repeats`` timed calls: per step the median and the 10th
    percentile of its wall-clock times, in milliseconds."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    while len(times[next(iter(steps))]) < max(1, repeats):
        for name, step in steps.items():
            step()  # untimed: the first call after another step's
            for _ in range(block):
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
    return {
        name: (1000 * statistics.median(t), 1000 * statistics.quantiles(t, n=10, method="inclusive")[0])
        for name, t in times.items()
    }


def loop_fn(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return reference_yolo_v1_loss(p, t, S=S, B=B, C=C).total


def sizes(options: Options) -> list[int]:
    return [1, 64] if options.quick else [1, 16, 64, 256]


def eager_rows(options: Options) -> list[Row]:
    rows = []
    criterion = YoloV1Loss(S=S, B=B, C=C)
    by_autograd = YoloV1Loss(S=S, B=B, C=C, backward="autograd")
    # The loop reference computes on Python floats and scalar tensors, which never use a
    # second thread: it is timed once per N, with one thread, and every row compares with it.
    loops = {}
    with threads(1):
        for n in sizes(options):
            pred, target = make_batch(n)
            loops[n] = budget_repeats(forward_backward(loop_fn, pred, target), 1.0 if options.quick else 4.0, 3)
    for n_threads in options.thread_counts:
        with threads(n_threads):
            for n in sizes(options):
                pred, target = make_batch(n)
                timed = interleaved_ms({
                    "floor": forward_backward(floor_fn(), pred, target),
                    "loss": forward_backward(loss_fn(criterion), pred, target),
                    "autograd": forward_backward(loss_fn(by_autograd), pred, target),
                }, options.repeats)
                (floor_ms, floor_p10), (loss_ms, loss_p10) = timed["floor"], timed["loss"]
                loop_ms, loop_calls = loops[n]
                rows.append(Row(SECTION, f"floor: mse_loss fwd+bwd, N={n}", n_threads, floor_ms))
                for name, label, target_ratio in [("loss", "", FLOOR_TARGET.get(n)), ("autograd", "(backward='autograd') ", None)]:
                    ms, p10 = timed[name]
                    ratio, goal, status = times_floor(ms, floor_ms, "floor", target_ratio)
                    rows.append(Row(SECTION, f"YoloV1Loss {label}fwd+bwd, N={n}", n_threads, ms,
                                    f"{ratio} (p10 {p10 / floor_p10:.1f}x)", goal, status))
                rows.append(
                    Row(SECTION, f"loop reference fwd+bwd, N={n}", 1, loop_ms,
                        *faster(loop_ms, loss_ms, f"YoloV1Loss ({n_threads} thr.)", LOOP_TARGET.get(n)),
                        note=f"median of {loop_calls} call(s), one thread, timed once per N"
                        if n_threads == options.thread_counts[0] and n == max(sizes(options)) else "")
                )
    return rows


def compile_rows(options: Options) -> list[Row]:
    """``torch.compile`` of the module, at the largest sizes, with one thread (the figures the
    issue sets its targets at, and the steadiest on a shared machine). Compiling needs a C++
    compiler; if there is none, or compiling fails, the table says so."""
    n_threads = min(options.thread_counts)
    if shutil.which("g++") is None and shutil.which("c++") is None:
        return [Row(SECTION, "torch.compile(YoloV1Loss)", n_threads, None, status="FAILED",
                    note="no C++ compiler on PATH (torch.compile's CPU backend needs g++)")]
    rows = []
    # Graph breaks at the input checks (they read values to decide whether to raise) are
    # expected; dynamo's warnings about them would drown the table.
    torch._logging.set_logs(dynamo=logging.ERROR)
    with threads(n_threads):
        for n in [64] if options.quick else [64, 256]:
            pred, target = make_batch(n)
            eager = loss_fn(YoloV1Loss(S=S, B=B, C=C))
            try:
                compiled = loss_fn(torch.compile(YoloV1Loss(S=S, B=B, C=C), dynamic=False))
                start = time.perf_counter()
                forward_backward(compiled, pred, target)()  # first call: traces and compiles
                compile_s = time.perf_counter() - start
                compiled_ms = median_ms(forward_backward(compiled, pred, target), options.repeats)
            except Exception as error:  # noqa: BLE001 - any failure is a figure to report
                first_line = (str(error).strip().splitlines() or [""])[0][:120]
                rows.append(Row(SECTION, f"torch.compile(YoloV1Loss) fwd+bwd, N={n}", n_threads, None,
                                status="FAILED", note=f"{type(error).__name__}: {first_line}"))
                break
            eager_ms = median_ms(forward_backward(eager, pred, target), options.repeats)
            floor_ms = median_ms(forward_backward(floor_fn(), pred, target), options.repeats)
            rows.append(Row(SECTION, f"YoloV1Loss eager fwd+bwd, N={n}", n_threads, eager_ms,
                            *times_floor(eager_ms, floor_ms, "floor", FLOOR_TARGET.get(n))))
            rows.append(
                Row(SECTION, f"torch.compile(YoloV1Loss) fwd+bwd, N={n}", n_threads, compiled_ms,
                    faster(eager_ms, compiled_ms, "compiled")[0] + f" than eager; {compiled_ms / floor_ms:.1f}x floor",
                    note=f"first call (trace + compile) took {compile_s:.1f} s")
            )
    return rows


def section(options: Options) -> list[Row]:
    rows = eager_rows(options)
    if options.compile:
        rows += compile_rows(options)
    return rows


if __name__ == "__main__":
    from run import main

    sys.exit(main(["--only", SECTION, *sys.argv[1:]]))
