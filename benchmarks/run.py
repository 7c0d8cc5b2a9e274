"""All benchmarks, printed as one table.

    .venv/bin/python benchmarks/run.py            # everything (a few minutes)
    .venv/bin/python benchmarks/run.py --quick    # fewer sizes and repeats
    .venv/bin/python benchmarks/run.py --only loss --compile   # with torch.compile

Each section is a module of this folder with a function ``section(options) -> list[Row]``
(see ``table.py``); add a new one to ``SECTIONS`` below. The machine may be shared and busy:
read medians and ratios of figures measured in the same run, not absolute times.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from typing import Callable

import torch

import bench_course
import bench_encode
import bench_lambda
import bench_loss
import bench_nms
import bench_training
import bench_widgets
from table import Options, Row, render

# name -> section function; the table lists the sections in this order.
SECTIONS: dict[str, Callable[[Options], list[Row]]] = {
    bench_loss.SECTION: bench_loss.section,
    bench_encode.SECTION: bench_encode.section,
    bench_nms.SECTION: bench_nms.section,
    bench_widgets.SECTION: bench_widgets.section,
    bench_lambda.SECTION: bench_lambda.section,
    bench_training.SECTION: bench_training.section,
    bench_course.SECTION: bench_course.section,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks of the yolo_lesson package, one table.")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), help="run only these sections")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    parser.add_argument("--repeats", type=int, help="timed calls per figure (default 30, quick 10)")
    parser.add_argument(
        "--compile", action="store_true", help="add torch.compile rows (compiling takes minutes)"
    )
    args = parser.parse_args(argv)

    all_threads = torch.get_num_threads()
    options = Options(
        quick=args.quick,
        repeats=args.repeats or (10 if args.quick else 30),
        compile=args.compile,
        thread_counts=sorted({1, all_threads}),
    )
    print(
        f"torch {torch.__version__}, Python {platform.python_version()}, "
        f"threads 1 and {all_threads} (all), repeats {options.repeats}; medians of wall-clock time"
    )
    rows: list[Row] = []
    start = time.perf_counter()
    for name in args.only or SECTIONS:
        rows += SECTIONS[name](options)
    print(render(rows))
    print(f"\n(whole run {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
