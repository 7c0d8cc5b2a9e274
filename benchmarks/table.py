"""The one table every benchmark section writes into, and the timing helpers they share.

A section is a function ``section(options) -> list[Row]`` listed in ``benchmarks/run.py``.
Figures in one table are measured side by side in the same run, so their *ratios* mean
something even on a busy machine, where single wall-clock times do not. Nothing here asserts
a time: a target that is missed is printed as ``MISSED``, not raised.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch


@dataclass
class Options:
    """Command-line choices every section may read."""

    quick: bool = False  # fewer sizes and repeats: a smoke run
    repeats: int = 30  # timed calls per fast figure (median taken)
    compile: bool = False  # also try torch.compile where a section offers it (minutes)
    thread_counts: list[int] = field(default_factory=list)  # filled in by run.py


@dataclass
class Row:
    """One line of the table.

    ``ms`` is a median in milliseconds (None when the figure could not be measured, with the
    reason in ``note``); ``ratio`` compares it with another figure of the same run, e.g.
    ``"3.1x floor"``; ``target`` states the goal and ``status`` whether it is met.
    """

    section: str
    case: str
    threads: int | str = ""
    ms: float | None = None
    ratio: str = ""
    target: str = ""
    status: str = ""
    note: str = ""


def median_ms(step: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall-clock time of ``step()`` in milliseconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def budget_repeats(step: Callable[[], object], budget_s: float, most: int) -> tuple[float, int]:
    """For slow steps (the loop references): times one call, then repeats it while the total
    stays within ``budget_s`` seconds (at most ``most`` calls, at least one). Returns the median
    in milliseconds and the number of timed calls."""
    times = []
    while len(times) < most and (not times or sum(times) + times[0] <= budget_s):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), len(times)


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Runs the block with ``torch.set_num_threads(n)``, restoring the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def faster(slow_ms: float, fast_ms: float, label: str, at_least: float | None = None) -> tuple[str, str, str]:
    """``(ratio, target, status)`` for a row timing the slow version: "``label`` (the fast
    one) is ``slow/fast`` times faster", or slower when the ratio is below 1."""
    ratio = slow_ms / fast_ms
    if ratio >= 10:
        text = f"{label} {ratio:.0f}x faster"
    elif ratio >= 1:
        text = f"{label} {ratio:.1f}x faster"
    else:
        text = f"{label} {1 / ratio:.1f}x slower"
    if at_least is None:
        return text, "", ""
    return text, f">= {at_least:g}x", "ok" if ratio >= at_least else "MISSED"


def times_floor(ms: float, floor_ms: float, label: str, at_most: float | None = None) -> tuple[str, str, str]:
    """``(ratio, target, status)`` for "``ms`` is ``ms/floor`` times ``label``"."""
    ratio = ms / floor_ms
    text = f"{ratio:.1f}x {label}"
    if at_most is None:
        return text, "", ""
    return text, f"<= {at_most:g}x", "ok" if ratio <= at_most else "MISSED"


def format_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms:.3f} ms"


COLUMNS = ("section", "case", "threads", "median", "ratio", "target", "status")


def render(rows: list[Row]) -> str:
    """The rows as a plain-text table, notes listed underneath."""
    cells = [
        (r.section, r.case, str(r.threads), format_ms(r.ms), r.ratio, r.target, r.status) for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(COLUMNS)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    out = [line(COLUMNS), line("-" * w for w in widths)]
    out += [line(c) for c in cells]
    notes = [f"[{r.section}] {r.case}: {r.note}" for r in rows if r.note]
    if notes:
        out += ["", "notes:"] + [f"  {n}" for n in notes]
    return "\n".join(out)
