"""Where the time of one ``YoloV1Loss`` forward + backward goes: PyTorch's profiler, operators
sorted by their own CPU time, and the number of operator calls per step.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/profile_loss.py [--n 64] [--steps 50] [--rows 20] [--backward autograd]
"""

from __future__ import annotations

import argparse
import sys

import torch
from torch.profiler import ProfilerActivity, profile

from bench_loss import B, C, S, forward_backward, loss_fn, make_batch

from yolo_lesson.loss import YoloV1Loss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="batch size N")
    parser.add_argument("--steps", type=int, default=50, help="forward + backward steps profiled")
    parser.add_argument("--rows", type=int, default=20, help="operators listed")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backward", choices=["closed_form", "autograd"], default="closed_form",
                        help="how YoloV1Loss computes its gradient")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    pred, target = make_batch(args.n)
    step = forward_backward(loss_fn(YoloV1Loss(S=S, B=B, C=C, backward=args.backward)), pred, target)
    for _ in range(5):
        step()  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.steps):
            step()
    events = prof.key_averages()
    aten_calls = sum(e.count for e in events if e.key.startswith("aten::"))
    print(events.table(sort_by="self_cpu_time_total", row_limit=args.rows))
    print(f"N={args.n}: {aten_calls / args.steps:.0f} aten operator calls per forward + backward "
          f"(nested calls included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
