"""Forward + backward time of the YOLOv1 loss against the per-cell loop reference of the tests
and against a floor (one ``mse_loss`` over a tensor of the same shape), measured side by side
in one run and printed as medians and ratios. This machine is noisy: read the ratios.

    .venv/bin/python benchmarks/bench_loss.py [--sizes 1 16 64] [--repeats 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from reference_loss import reference_yolo_v1_loss  # noqa: E402

from yolo_lesson.grid import encode_batch  # noqa: E402
from yolo_lesson.loss import yolo_v1_loss  # noqa: E402

S, B, C = 7, 2, 20


def make_batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
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


def median_ms(step: Callable[[], None], repeats: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def forward_backward(loss_fn, pred, target) -> Callable[[], None]:
    def step() -> None:
        p = pred.clone().requires_grad_(True)
        loss_fn(p, target).backward()

    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--loop-repeats", type=int, default=3, help="repeats of the slow loop")
    args = parser.parse_args()

    vectorized = lambda p, t: yolo_v1_loss(p, t, S=S, B=B, C=C).total  # noqa: E731
    loop = lambda p, t: reference_yolo_v1_loss(p, t, S=S, B=B, C=C).total  # noqa: E731
    floor = lambda p, t: torch.nn.functional.mse_loss(p, torch.zeros_like(p))  # noqa: E731

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, S={S} B={B} C={C}")
    print(f"{'N':>5} {'loss ms':>9} {'loop ms':>9} {'floor ms':>9} {'loop/loss':>10} {'loss/floor':>11}")
    for n in args.sizes:
        pred, target = make_batch(n)
        t_loss = median_ms(forward_backward(vectorized, pred, target), args.repeats)
        t_loop = median_ms(forward_backward(loop, pred, target), args.loop_repeats)
        t_floor = median_ms(forward_backward(floor, pred, target), args.repeats)
        print(
            f"{n:>5} {t_loss:>9.3f} {t_loop:>9.1f} {t_floor:>9.3f} "
            f"{t_loop / t_loss:>9.0f}x {t_loss / t_floor:>10.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
