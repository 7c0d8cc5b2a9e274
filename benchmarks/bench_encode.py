"""Target encoding: :func:`yolo_lesson.grid.encode_batch` against the tests' brute-force
encoder (``reference_encode`` in ``tests/test_grid.py``: one object at a time, in Python
floats), on N = 64 images with 10 objects each.

Run alone with ``.venv/bin/python benchmarks/bench_encode.py`` or as part of ``benchmarks/run.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from table import Options, Row, budget_repeats, faster, median_ms, threads  # noqa: E402
from test_grid import reference_encode  # noqa: E402

from yolo_lesson.grid import encode_batch  # noqa: E402

S, C = 7, 20
SECTION = "encode"
N_IMAGES, K_OBJECTS = 64, 10


def make_scenes(n: int, k: int, seed: int = 0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """n images of k objects each: cxcywh boxes in [0, 1], collisions left in on purpose."""
    generator = torch.Generator().manual_seed(seed)
    boxes = [torch.rand(k, 4, generator=generator) * torch.tensor([1.0, 1.0, 0.5, 0.5]) for _ in range(n)]
    labels = [torch.randint(0, C, (k,), generator=generator) for _ in range(n)]
    return boxes, labels


def section(options: Options) -> list[Row]:
    boxes, labels = make_scenes(N_IMAGES, K_OBJECTS)
    case = f"{N_IMAGES} images x {K_OBJECTS} objects"
    rows = []
    for n_threads in options.thread_counts:
        with threads(n_threads):
            batched_ms = median_ms(lambda: encode_batch(boxes, labels, S=S, C=C), options.repeats)
            loop_ms, _ = budget_repeats(
                lambda: [reference_encode(b, l, S, C) for b, l in zip(boxes, labels)], 2.0, 10
            )
        rows.append(Row(SECTION, f"encode_batch, {case}", n_threads, batched_ms))
        rows.append(Row(SECTION, f"per-object loop, {case}", n_threads, loop_ms,
                        *faster(loop_ms, batched_ms, "encode_batch")))
    return rows


if __name__ == "__main__":
    from run import main

    sys.exit(main(["--only", SECTION, *sys.argv[1:]]))
