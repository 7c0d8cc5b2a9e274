"""Non-maximum suppression at the scale of a real detector: 8,400 candidate boxes, what
YOLOv8 outputs for one 640-pixel image (80² + 40² + 20² anchor points).

Three implementations on the same boxes, one thread:

* ``metrics.nms``, the package's: ranked boxes settled in blocks of ``NMS_BLOCK`` (memory
  NMS_BLOCK × K);
* the package's previous NMS (kept here as ``full_matrix_nms``): the whole K × K IoU matrix,
  then a Python loop over its rows;
* a compiled reference: ``nms_reference.c``, torchvision's CPU algorithm in C (IoU on the fly,
  O(K) memory), built with the system C compiler and called through ctypes (torchvision is not
  a dependency of the course). Sorting is done by torch for all three.

Two scenes: *clustered* (the boxes are jittered copies around 60 objects, as a detector's
raw output: most are suppressed) and *scattered* (uniform boxes: many are kept). The rows give
the median time (``metrics.nms`` and the reference timed in turn, call after call, so that the
shared machine's busy spells slow both alike), the ratio to the compiled reference (target:
within 10x), and, in the notes,
the peak memory each needs (the growth of the process's maximum resident set while it runs one
call, measured in a fresh process) and whether the kept indices agree.

Run alone with ``.venv/bin/python benchmarks/bench_nms.py [--quick]`` or as part of
``benchmarks/run.py``.
"""

from __future__ import annotations

import ctypes
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from table import Options, Row, budget_repeats, median_ms, threads, times_floor

from yolo_lesson.boxes import box_iou
from yolo_lesson.metrics import nms

SECTION = "nms"
K = 8400
HERE = Path(__file__).resolve().parent


def scene(kind: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``K`` xyxy boxes in pixels of a 640 × 640 image and their scores."""
    gen = torch.Generator().manual_seed(seed)
    if kind == "clustered":
        centres = torch.rand(60, 2, generator=gen) * 560 + 40
        sizes = torch.rand(60, 2, generator=gen) * 120 + 20
        pick = torch.randint(0, 60, (K,), generator=gen)
        xy = centres[pick] + torch.randn(K, 2, generator=gen) * 6
        wh = sizes[pick] * (1 + 0.1 * torch.randn(K, 2, generator=gen)).clamp(min=0.5)
    else:
        xy = torch.rand(K, 2, generator=gen) * 640
        wh = torch.rand(K, 2, generator=gen) * 60 + 4
    boxes = torch.cat((xy - wh / 2, xy + wh / 2), dim=1)
    return boxes, torch.rand(K, generator=gen)


def full_matrix_nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """The package's NMS before this benchmark existed: K × K IoUs, then a loop over rows."""
    order = torch.sort(scores, descending=True, stable=True).indices
    overlap = box_iou(boxes[order], boxes[order])
    suppressed = torch.zeros(overlap.shape[0], dtype=torch.bool)
    kept = []
    for i in range(overlap.shape[0]):
        if suppressed[i]:
            continue
        kept.append(i)
        suppressed |= overlap[i] > iou_threshold
    return order[kept]


def compiled_nms():
    """The C reference as a Python function, or None (and why) without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        return None, "no C compiler found"
    build = Path(tempfile.mkdtemp(prefix="nms_reference_"))
    library = build / "libnms.so"
    result = subprocess.run(
        [compiler, "-O2", "-shared", "-fPIC", str(HERE / "nms_reference.c"), "-o", str(library)],
        capture_output=True, text=True,
    )
    if result.returncode:
        return None, f"the C reference did not build: {result.stderr.strip()[:200]}"
    lib = ctypes.CDLL(str(library))
    lib.nms_sorted.restype = ctypes.c_int64

    def run(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
        order = torch.sort(scores, descending=True, stable=True).indices
        ranked = boxes[order].float().contiguous()
        suppressed = torch.zeros(len(order), dtype=torch.uint8)
        keep = torch.empty(len(order), dtype=torch.int64)
        count = lib.nms_sorted(
            ctypes.c_void_p(ranked.data_ptr()), ctypes.c_int64(len(order)), ctypes.c_float(iou_threshold),
            ctypes.c_void_p(suppressed.data_ptr()), ctypes.c_void_p(keep.data_ptr()),
        )
        return order[keep[:count]]

    return run, ""


# The peak is read from /proc/self/status (VmHWM, reset by exec), not from getrusage's
# ru_maxrss, which a child inherits from its parent: after the parent ran the full matrix
# itself, every child would report no growth at all.
PEAK_SCRIPT = """
import re, sys, torch
def peak_kb():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
sys.path.insert(0, {here!r})
torch.set_num_threads(1)
from bench_nms import scene, full_matrix_nms
from yolo_lesson.metrics import nms
boxes, scores = scene({kind!r})
nms(boxes[:300], scores[:300], 0.5); full_matrix_nms(boxes[:300], scores[:300], 0.5)  # warm
before = peak_kb()
{call}(boxes, scores, 0.5)
print(peak_kb() - before)
"""


def peak_mb(kind: str, call: str) -> float | None:
    """Growth of the peak resident set (MB) during one call, in a fresh process (Linux)."""
    script = PEAK_SCRIPT.format(here=str(HERE), kind=kind, call=call)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    if result.returncode:
        return None
    return int(result.stdout.split()[-1]) / 1024  # kB -> MB


def interleaved_ms(first, second, repeats: int) -> tuple[float, float]:
    """Medians (ms) of two calls timed in turn, so that a busy spell of the shared machine
    slows both alike rather than one of them."""
    first(), second()  # warm-up
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for call, out in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            call()
            out.append(time.perf_counter() - start)
    return 1000 * statistics.median(times[0]), 1000 * statistics.median(times[1])


def show_mb(mb: float | None) -> str:
    if mb is None:
        return "not measured"
    return "< 1 MB" if mb < 1 else f"{mb:.0f} MB"


def section(options: Options) -> list[Row]:
    reference, why_not = compiled_nms()
    repeats = max(3, options.repeats // 3)
    scenes = {kind: scene(kind) for kind in ("clustered", "scattered")}
    measured = {}
    with threads(1):
        for kind, (boxes, scores) in scenes.items():  # the fast ones first, side by side
            new = nms(boxes, scores, 0.5)
            if reference is not None:
                new_ms, c_ms = interleaved_ms(
                    lambda: nms(boxes, scores, 0.5), lambda: reference(boxes, scores, 0.5), repeats
                )
                measured[kind] = [new, new_ms, reference(boxes, scores, 0.5), c_ms]
            else:
                measured[kind] = [new, median_ms(lambda: nms(boxes, scores, 0.5), repeats), None, None]
        # The full matrix last: its 2 GB leave the allocator in a state that slows small calls.
        for kind, (boxes, scores) in scenes.items():
            old_ms, _ = budget_repeats(lambda: full_matrix_nms(boxes, scores, 0.5), 20.0, 1 if options.quick else 3)
            measured[kind] += [full_matrix_nms(boxes, scores, 0.5), old_ms]
    rows = []
    for kind, (new, new_ms, c_kept, c_ms, old, old_ms) in measured.items():
        case = f"{K:,} boxes, {kind}"
        memory = f"peak memory growth: metrics.nms {show_mb(peak_mb(kind, 'nms'))}, full matrix {show_mb(peak_mb(kind, 'full_matrix_nms'))}"
        agree = "same kept indices as the full matrix" if torch.equal(new, old) else "DIFFERENT kept indices from the full matrix"
        if c_kept is not None:
            agree += ", and as the C reference" if torch.equal(new, c_kept) else f", the C reference keeps {len(c_kept)} (float rounding)"
        note = f"{len(new)} kept; {agree}; {memory}"
        if c_ms is not None:
            rows.append(Row(SECTION, f"C reference (torchvision's algorithm), {case}", 1, c_ms))
            rows.append(Row(SECTION, f"metrics.nms, {case}", 1, new_ms, *times_floor(new_ms, c_ms, "C", 10), note=note))
            rows.append(Row(SECTION, f"previous full-matrix nms, {case}", 1, old_ms, *times_floor(old_ms, c_ms, "C")))
        else:
            rows.append(Row(SECTION, f"metrics.nms, {case}", 1, new_ms, note=f"{note}; {why_not}"))
            rows.append(Row(SECTION, f"previous full-matrix nms, {case}", 1, old_ms, *times_floor(old_ms, new_ms, "metrics.nms")))
    return rows


if __name__ == "__main__":
    from run import main

    sys.exit(main(["--only", SECTION, *sys.argv[1:]]))
