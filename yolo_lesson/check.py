"""Exercise checkers: run a learner's function on hidden cases and say what went wrong.

Each checker takes the learner's function, runs it on a handful of hidden :class:`Case` s, and
compares every answer with the package's own function within a tolerance. It prints one line
when every case passes, or the *first* failing case: what the case is for, its inputs, the
expected and the received value, and a hint aimed at the mistake that case was built to catch.
A checker never raises: an exception in the learner's function is reported (an unfinished
stub that raises ``NotImplementedError`` is "not attempted yet"), and so is a function that
changes its inputs in place. The printed text is deterministic (no addresses, no timings), so
lessons can show it under nbval.

Example, in a lesson::

    from yolo_lesson import check

    def my_iou(a, b):
        ...

    check.iou(my_iou)   # prints "check.iou: all 9 cases pass." or the first failing case

Every checker returns a :class:`CheckResult`, true when every case passed. In a notebook it
displays nothing more (its report is already printed); ``result.case`` holds the failing case,
so ``result.case.args`` gives its inputs to experiment with.

Checkers and the learner function each expects:

* ``iou(fn)``: ``fn(a, b) -> Tensor[...]``, elementwise IoU of ``xyxy`` boxes ``[..., 4]``;
* ``giou(fn)``: ``fn(a, b) -> Tensor[...]``, elementwise generalized IoU, ``xyxy``;
* ``box_convert(fn)``: ``fn(boxes) -> Tensor[..., 4]``, ``cxcywh`` to ``xyxy``;
* ``encode_targets(fn)``: ``fn(boxes, labels, S, C) -> Tensor[S, S, 5 + C]``;
* ``yolo_v1_loss(fn, S=7, B=2, C=20)``: ``fn(pred, target) -> total`` (a scalar tensor, a
  float, or anything with a ``total`` attribute or key);
* ``nms(fn)``: ``fn(boxes, scores, iou_threshold) -> LongTensor`` of kept indices;
* ``average_precision(fn)`` and ``focal_loss(fn)``: see their docstrings.
"""

from __future__ import annotations

import math
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

import torch
from torch import Tensor

from ._checks import require_positive_int

__all__ = [
    "Case",
    "CheckResult",
    "run_cases",
    "compare_tensors",
    "iou",
    "giou",
    "box_convert",
    "encode_targets",
    "yolo_v1_loss",
    "nms",
    "average_precision",
    "focal_loss",
]

# Tensors with more elements than this are shown by their shape only.
_SHOW_AT_MOST = 16
_WIDTH = 92


@dataclass(frozen=True)
class Case:
    """One hidden test case.

    Attributes:
        why: what the case is there for, in a few words (printed when it fails).
        hint: advice for the typical mistake this case catches.
        args: the positional inputs of the learner's function.
        kwargs: its keyword inputs, if any.
        note: how to read inputs too large to print (e.g. "one object in cell (3, 3)").
    """

    why: str
    hint: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class CheckResult:
    """What a checker found. True when every case passed.

    Attributes:
        checker: the checker's name, e.g. ``"iou"``.
        status: ``"passed"``, ``"failed"`` (a wrong answer), ``"raised"`` (the function raised
            an exception), ``"not attempted"`` (it raised ``NotImplementedError``) or
            ``"unavailable"`` (the checker could not run: a package module is missing, or an
            option of the checker itself, such as ``S=0``, is invalid).
        cases: the number of hidden cases.
        failed_case: the 1-based number of the first failing case, or None.
        case: that :class:`Case` (its ``args`` are the inputs), or None.
        report: the text that was printed.
    """

    checker: str
    status: str
    cases: int
    failed_case: int | None = None
    case: Case | None = field(default=None, repr=False, compare=False)
    report: str = field(default="", repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """The report was printed by the checker; showing the result again would repeat it."""


# ---------------------------------------------------------------------------------------------
# Formatting: deterministic, short.


def _number(value: float | int | bool) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "nan"
    if value == 0:
        return "0"  # also for -0.0
    return f"{value:.4g}"


def _nested(values: Any) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return _number(values)


def _shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _show(value: Any) -> str:
    """A value as the learner should see it: small tensors in full, large ones by shape."""
    if isinstance(value, Tensor):
        value = value.detach()
        if value.numel() <= _SHOW_AT_MOST:
            text = _nested(value.tolist())
            if value.dim() > 1 or value.numel() == 0:
                text += f" (shape {_shape(value.shape)})"
            return text
        return f"Tensor{_shape(value.shape)} ({str(value.dtype).replace('torch.', '')})"
    if isinstance(value, (bool, int, float)):
        return _number(value)
    if isinstance(value, (list, tuple)) and len(value) <= _SHOW_AT_MOST:
        try:
            return _nested([v if isinstance(v, (int, float)) else float(v) for v in value])
        except (TypeError, ValueError):
            pass
    return type(value).__name__


def _wrap(label: str, text: str) -> str:
    return textwrap.fill(
        text, width=_WIDTH, initial_indent=f"  {label}", subsequent_indent=" " * (2 + len(label))
    )


# ---------------------------------------------------------------------------------------------
# Comparing answers.


def _as_tensor(value: Any) -> Tensor | None:
    if isinstance(value, Tensor):
        return value.detach()
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError):
        return None


def compare_tensors(expected: Tensor, received: Any, rtol: float = 1e-4, atol: float = 1e-6) -> str | None:
    """None when ``received`` matches ``expected`` (shape and values within tolerance), else
    a short description of the difference."""
    got = _as_tensor(received)
    if got is None:
        return f"a {type(received).__name__}, where a tensor was expected"
    if got.is_complex():
        return f"a tensor of dtype {got.dtype}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"shape {_shape(got.shape)} instead of {_shape(expected.shape)}"
    want, got = expected.detach().double(), got.double()
    close = torch.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return None
    if got.numel() <= _SHOW_AT_MOST:
        return ""  # the full values are shown; nothing to add
    index = tuple(int(i) for i in torch.nonzero(~close)[0])
    return (
        f"first difference at index {list(index)}: expected {_number(want[index].item())}, "
        f"received {_number(got[index].item())}"
    )


# ---------------------------------------------------------------------------------------------
# The runner.


def _clone(value: Any) -> Any:
    return value.clone() if isinstance(value, Tensor) else value


def _changed(before: Any, after: Any) -> bool:
    if not isinstance(before, Tensor):
        return False
    return before.shape != after.shape or not torch.equal(before, after)


class _BadOption(ValueError):
    """An invalid option of a checker itself (``S=0``, an unknown ``interpolation``): the
    caller's mistake, reported as such by :func:`run_cases` instead of as a checker bug."""


@contextmanager
def _options() -> Iterator[None]:
    """Turns the ValueError of an option check (``_checks.require_*``) into a
    :class:`_BadOption`."""
    try:
        yield
    except ValueError as error:
        raise _BadOption(str(error)) from None


def run_cases(
    name: str,
    learner_fn: Any,
    cases: Callable[[], Sequence[Case]],
    reference: Callable[..., Any],
    *,
    compare: Callable[[Any, Any], str | None] = compare_tensors,
    arg_names: Sequence[str] = (),
    show_expected: Callable[[Any], str] = _show,
    show_received: Callable[[Any], str] = _show,
    quiet: bool = False,
) -> CheckResult:
    """Runs ``learner_fn`` on every case, compares with ``reference`` and prints the outcome.

    Args:
        name: the checker's name, as printed (``check.<name>``).
        learner_fn: the learner's function.
        cases: a function returning the list of cases (built on demand: building may need a
            module that is imported lazily).
        reference: the package's function, called with the same inputs.
        compare: ``compare(expected, received) -> None`` when they match, else a description
            of the difference (``""`` when showing both values says it all).
        arg_names: names of the positional inputs, for the report.
        show_expected, show_received: how to print the two values.
        quiet: return the result without printing it.

    Returns:
        A :class:`CheckResult`. Never raises (except ``KeyboardInterrupt`` and the like).
    """
    title = f"check.{name}"

    def finish(status: str, lines: list[str], count: int, number=None, case=None) -> CheckResult:
        report = "\n".join(lines)
        if not quiet:
            print(report)
        return CheckResult(name, status, count, number, case, report)

    if not callable(learner_fn):
        return finish(
            "raised",
            [f"{title}: expected a function, got an object of type {type(learner_fn).__name__}.",
             f"  Pass the function itself, without calling it: {title}(my_function)."],
            0,
        )
    try:
        all_cases = list(cases())
    except ImportError as error:
        return finish("unavailable", [f"{title}: cannot run yet: {error}"], 0)
    except _BadOption as error:  # the caller's mistake in the checker's own options
        return finish("unavailable", [f"{title}: {error}.",
                                      f"  Fix the option in this call: it belongs to {title}, "
                                      "not to your function (which did not run)."], 0)
    except Exception as error:  # a bug of the checker itself, not the learner's
        return finish("unavailable", [f"{title}: the checker failed to build its cases "
                                      f"({type(error).__name__}: {error}); please report it."], 0)
    total = len(all_cases)

    for number, case in enumerate(all_cases, start=1):
        head = f"{title}: case {number} of {total} fails: {case.why}"
        names = list(arg_names) + [f"arg{i}" for i in range(len(arg_names), len(case.args))]
        width = max([len(n) for n in names[: len(case.args)]] + [len(k) for k in case.kwargs] + [8])
        inputs = [f"  {n:<{width}} = {_show(v)}" for n, v in zip(names, case.args)]
        inputs += [f"  {k:<{width}} = {_show(v)}" for k, v in case.kwargs.items()]
        if case.note:
            inputs.append(_wrap(" " * (width + 3), f"({case.note})"))
        hint = [_wrap("hint: ", case.hint)]
        try:
            expected = reference(*[_clone(a) for a in case.args], **case.kwargs)
        except Exception as error:
            return finish("unavailable", [f"{title}: the reference failed on case {number} "
                                          f"({type(error).__name__}: {error}); please report it."],
                          total, number, case)

        args = [_clone(a) for a in case.args]
        kwargs = {k: _clone(v) for k, v in case.kwargs.items()}
        try:
            received = learner_fn(*args, **kwargs)
        except NotImplementedError:
            return finish(
                "not attempted",
                [f"{title}: not attempted yet (your function raises NotImplementedError).",
                 "  Replace the `raise` line with your code, run its cell, then this one."],
                total, number, case,
            )
        except Exception as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raised = f"{type(error).__name__}: {message}" if message else type(error).__name__
            shapes = ", ".join(f"{n} {_shape(v.shape)}" for n, v in zip(names, case.args)
                               if isinstance(v, Tensor))
            return finish(
                "raised",
                [f"{title}: case {number} of {total}: your function raised {raised}",
                 f"  case: {case.why}", *inputs,
                 *([f"  (input shapes: {shapes})"] if shapes else []), *hint],
                total, number, case,
            )

        for arg_name, before, after in zip(names, case.args, args):
            if _changed(before, after):
                return finish(
                    "failed",
                    [head, *inputs,
                     _wrap("hint: ", f"your function changed its input `{arg_name}` in place. "
                                     "Build a new tensor (torch.stack, torch.zeros, ...) or work on "
                                     f"`{arg_name}.clone()`: the caller's data must stay as it was.")],
                    total, number, case,
                )

        try:
            difference = compare(expected, received)
            if difference is None:
                continue
            shown = [f"  {'expected':<{width}} : {show_expected(expected)}",
                     f"  {'received':<{width}} : {show_received(received)}"]
        except Exception as error:  # an answer so odd that comparing it failed
            difference = f"an answer that could not be compared ({type(error).__name__})"
            shown = [f"  {'expected':<{width}} : {_show(expected)}",
                     f"  {'received':<{width}} : {type(received).__name__}"]
        if difference:
            shown.append(_wrap(" " * (width + 5), difference))
        return finish("failed", [head, *inputs, *shown, *hint], total, number, case)

    return finish("passed", [f"{title}: all {total} cases pass."], total)


# ---------------------------------------------------------------------------------------------
# Boxes.


def _t(values, dtype=torch.float32) -> Tensor:
    return torch.tensor(values, dtype=dtype)


_CLAMP_HINT = (
    "the overlap width min(x2) - max(x1) is negative when boxes do not overlap; clamp it (and "
    "the height) at 0 before multiplying, or two negative overlaps make a positive 'intersection'."
)


def _iou_cases() -> list[Case]:
    unit = [0.0, 0.0, 1.0, 1.0]
    return [
        Case("two unit squares shifted by half a side (IoU 1/3)",
             "intersection 0.5 over union 1 + 1 - 0.5 = 1.5. Corners are xyxy: (x1, y1, x2, y2); "
             "the intersection runs from the larger top-left to the smaller bottom-right corner.",
             (_t(unit), _t([0.5, 0.0, 1.5, 1.0]))),
        Case("identical boxes (IoU 1)",
             "a box against itself: the union is its area, not twice its area (subtract the "
             "intersection once).",
             (_t([0.2, 0.3, 0.6, 0.9]), _t([0.2, 0.3, 0.6, 0.9]))),
        Case("disjoint boxes side by side (IoU 0)", _CLAMP_HINT,
             (_t(unit), _t([2.0, 0.0, 3.0, 1.0]))),
        Case("disjoint boxes, apart on both axes (IoU 0)", _CLAMP_HINT,
             (_t(unit), _t([2.0, 2.0, 3.0, 3.0]))),
        Case("boxes touching along an edge (IoU 0)",
             "the overlap has width 0 here: min(1, 2) - max(0, 1) = 0, so the intersection is 0.",
             (_t(unit), _t([1.0, 0.0, 2.0, 1.0]))),
        Case("a box nested inside another (IoU = small area / large area)",
             "for nested boxes the intersection is the small box and the union the large one: "
             "take max of the top-left corners and min of the bottom-right corners.",
             (_t([0.0, 0.0, 4.0, 4.0]), _t([1.0, 1.0, 3.0, 2.0]))),
        Case("a zero-width box (a vertical line) inside a box (IoU 0)",
             "a box of zero area has no intersection with anything; the union is the other box's area.",
             (_t([0.5, 0.0, 0.5, 1.0]), _t(unit))),
        Case("two identical points: zero-area boxes, so the union is 0 (IoU 0, not nan)",
             "0 / 0 is nan. Guard the division: where the union is 0 the intersection is 0 too, "
             "so return 0 there, e.g. inter / torch.where(union > 0, union, torch.ones_like(union)).",
             (_t([0.5, 0.5, 0.5, 0.5]), _t([0.5, 0.5, 0.5, 0.5]))),
        Case("a batch: box i of a against box i of b, elementwise (shape [3])",
             "elementwise means a[i] with b[i], giving [N] values, not the [N, N] of pairwise IoU. "
             "Index the last dimension with [..., 0] so that any leading shape works.",
             (_t([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 3.0, 2.0]]),
              _t([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 4.0]]))),
    ]


def iou(learner_fn: Callable[[Tensor, Tensor], Tensor], *, quiet: bool = False) -> CheckResult:
    """Checks ``learner_fn(a, b) -> Tensor[...]``, the elementwise IoU of ``xyxy`` boxes
    ``[..., 4]``, against :func:`yolo_lesson.boxes.iou`.

    Cases: partial overlap, identical, disjoint on one and on both axes (missing clamp),
    touching, nested, zero-area boxes (division by a zero union), a batch (elementwise, not
    pairwise).
    """
    from . import boxes

    return run_cases("iou", learner_fn, _iou_cases, boxes.iou, arg_names=("a", "b"), quiet=quiet)


def _giou_cases() -> list[Case]:
    unit = [0.0, 0.0, 1.0, 1.0]
    enclosing = (
        "the enclosing box C runs from the min of the two top-left corners to the max of the two "
        "bottom-right corners, and GIoU = IoU - (|C| - |A ∪ B|) / |C|."
    )
    return [
        Case("identical boxes (GIoU 1)", "identical boxes: IoU 1 and C is the box itself, so "
             "the penalty is 0.", (_t([0.2, 0.3, 0.6, 0.9]), _t([0.2, 0.3, 0.6, 0.9]))),
        Case("side by side, half overlapping: C equals the union, GIoU = IoU = 1/3", enclosing,
             (_t(unit), _t([0.5, 0.0, 1.5, 1.0]))),
        Case("shifted diagonally: C has two empty corners (GIoU 1/7 - 2/9)", enclosing,
             (_t([0.0, 0.0, 2.0, 2.0]), _t([1.0, 1.0, 3.0, 3.0]))),
        Case("disjoint, side by side (GIoU -1/2)",
             "the empty part of C is divided by |C| (here (4 - 2) / 4), not by the union.",
             (_t(unit), _t([3.0, 0.0, 4.0, 1.0]))),
        Case("disjoint on both axes (GIoU 0 - 7/9)", _CLAMP_HINT,
             (_t(unit), _t([2.0, 2.0, 3.0, 3.0]))),
        Case("touching along an edge (GIoU 0)",
             "IoU 0 and C equals the union (no empty space), so GIoU is 0.",
             (_t(unit), _t([1.0, 0.0, 2.0, 1.0]))),
        Case("a box nested inside another (C is the large box: GIoU = IoU)", enclosing,
             (_t([0.0, 0.0, 4.0, 4.0]), _t([1.0, 1.0, 3.0, 2.0]))),
        Case("a batch against one box (broadcasting: [3, 4] with [4] gives [3])",
             "GIoU is elementwise and broadcasts like IoU: index with [..., 0] and [..., :2], "
             "not [:, 0].",
             (_t([[0.0, 0.0, 2.0, 2.0], [3.0, 0.0, 4.0, 1.0], [0.5, 0.5, 1.5, 1.5]]),
              _t([0.0, 0.0, 1.0, 1.0]))),
    ]


def giou(learner_fn: Callable[[Tensor, Tensor], Tensor], *, quiet: bool = False) -> CheckResult:
    """Checks ``learner_fn(a, b) -> Tensor[...]``, the elementwise generalized IoU of ``xyxy``
    boxes ``[..., 4]``, against :func:`yolo_lesson.boxes.giou`.

    Cases: identical, half overlap (C = union), diagonal shift, disjoint side by side and on
    both axes (missing clamp), touching, nested, broadcasting a batch against one box.
    """
    from . import boxes

    return run_cases("giou", learner_fn, _giou_cases, boxes.giou, arg_names=("a", "b"), quiet=quiet)


def _box_convert_cases() -> list[Case]:
    half = "x1 = cx - w/2 and x2 = cx + w/2: the centre is half a width from each side."
    return [
        Case("one box centred at (0.5, 0.5), 0.2 wide and 0.4 high",
             "xyxy is (cx - w/2, cy - h/2, cx + w/2, cy + h/2), in that order: the centre is half "
             "a width from each side.", (_t([0.5, 0.5, 0.2, 0.4]),)),
        Case("the order of the output: (x1, y1, x2, y2)",
             "return (x1, y1, x2, y2): both coordinates of the top-left corner first, not "
             "(x1, x2, y1, y2).", (_t([0.3, 0.6, 0.2, 0.4]),)),
        Case("a box of zero size (a point)", half, (_t([0.25, 0.75, 0.0, 0.0]),)),
        Case("a batch of boxes [3, 4]",
             "split the last dimension with boxes.unbind(-1) (or [..., 0]) and put it back with "
             "torch.stack(..., dim=-1), so that any leading shape works.",
             (_t([[0.5, 0.5, 0.2, 0.4], [0.1, 0.9, 0.2, 0.2], [0.7, 0.3, 0.6, 0.2]]),)),
        Case("a grid of boxes [2, 3, 4] (any leading shape)",
             "use [..., k] or unbind(-1): [:, k] assumes exactly two dimensions.",
             (torch.linspace(0.1, 0.9, 24).reshape(2, 3, 4),)),
    ]


def box_convert(learner_fn: Callable[[Tensor], Tensor], *, quiet: bool = False) -> CheckResult:
    """Checks ``learner_fn(boxes) -> Tensor[..., 4]``, the conversion ``cxcywh -> xyxy``,
    against :func:`yolo_lesson.boxes.cxcywh_to_xyxy`. Editing the input in place fails."""
    from . import boxes

    return run_cases("box_convert", learner_fn, _box_convert_cases, boxes.cxcywh_to_xyxy,
                     arg_names=("boxes",), quiet=quiet)


# ---------------------------------------------------------------------------------------------
# Grid targets.


def _cell_text(vector: Tensor) -> str:
    values = [_number(v) for v in vector[:5].tolist()]
    classes = vector[5:]
    nonzero = [(i, classes[i].item()) for i in torch.nonzero(classes).flatten().tolist()]
    if not nonzero:
        class_text = "all class entries 0"
    else:
        class_text = "class entries " + ", ".join(f"[{i}] = {_number(v)}" for i, v in nonzero[:4])
        class_text += " ..." if len(nonzero) > 4 else ""
    return f"(x, y, w, h, obj) = ({', '.join(values)}), {class_text}"


def _compare_grids(expected: Tensor, received: Any) -> str | None:
    difference = compare_tensors(expected, received, rtol=1e-4, atol=1e-5)
    if not difference or not difference.startswith("first difference"):
        return difference
    got = _as_tensor(received).detach().double()
    want = expected.double()
    close = torch.isclose(got, want, rtol=1e-4, atol=1e-5)
    row, col = torch.nonzero(~close.all(-1))[0].tolist()
    return (
        f"first wrong cell [row {row}, col {col}]: expected {_cell_text(want[row, col])}; "
        f"received {_cell_text(got[row, col])}"
    )


def _grid_summary(value: Any) -> str:
    grid = _as_tensor(value)
    if grid is None:
        return type(value).__name__
    if grid.dim() != 3 or grid.shape[-1] < 5:
        return _show(grid)
    cells = torch.nonzero(grid[..., 4]).tolist()
    listed = ", ".join(f"({r}, {c})" for r, c in cells[:6]) + (" ..." if len(cells) > 6 else "")
    return f"Tensor{_shape(grid.shape)}, obj = 1 in cells {listed or 'none'}"


def _encode_cases() -> list[Case]:
    def case(why, hint, boxes, labels, S, C, note=""):
        box_tensor = _t(boxes).reshape(-1, 4)
        return Case(why, hint, (box_tensor, torch.tensor(labels, dtype=torch.long), S, C), note=note)

    formulas = (
        "row = floor(cy·S), col = floor(cx·S); the cell stores x = cx·S - col, y = cy·S - row, "
        "then w, h, obj = 1, and a one-hot class at index 5 + label."
    )
    return [
        case("one object at the image centre (S = 7, C = 20)", formulas,
             [[0.5, 0.5, 0.2, 0.4]], [3], 7, 20),
        case("rows come from cy, columns from cx",
             "index the grid as target[row, col] with row from cy and col from cx; swapping them "
             "puts the object in the mirrored cell.", [[0.9, 0.15, 0.2, 0.3]], [6], 7, 20),
        case("the centre's offset inside its cell, in cell units",
             "x = cx·S - col is measured in cells (0 at the cell's left edge, 1 at its right), "
             "not in image units like cx - col / S.", [[0.62, 0.31, 0.1, 0.2]], [0], 7, 20),
        case("another grid size and class count (S = 3, C = 2)",
             "use the S and C arguments, not 7 and 20: the result is [S, S, 5 + C].",
             [[0.7, 0.2, 0.3, 0.3]], [1], 3, 2),
        case("a centre exactly on a cell border (0.25 with S = 4)",
             "a centre on a border starts the next cell: floor(0.25·4) = 1, offset 0. Use floor "
             "(or int() of a non-negative number), not ceil - 1 or round.",
             [[0.25, 0.5, 0.2, 0.2]], [2], 4, 3),
        case("a centre at 1.0, on the image's right and bottom edge",
             "floor(1.0·S) = S is outside the grid: clamp row and col to S - 1; the offset is "
             "then 1.0.", [[1.0, 1.0, 0.2, 0.2]], [0], 4, 3),
        case("no objects (K = 0)",
             "with boxes of shape [0, 4] the result is an all-zero grid [S, S, 5 + C].",
             [], [], 7, 20),
        case("two centres in one cell: the first listed keeps it",
             "a YOLOv1 cell holds one object, and the course's rule is that the first object "
             "listed keeps the cell. A loop that simply assigns in order lets the last one "
             "overwrite it: skip cells whose obj is already 1.",
             [[0.5, 0.5, 0.2, 0.2], [0.52, 0.48, 0.4, 0.4]], [1, 2], 7, 20),
        case("five objects, two collisions (S = 7, C = 5)", formulas + " The first object "
             "listed in a cell keeps it.",
             [[0.10, 0.10, 0.10, 0.10], [0.40, 0.60, 0.30, 0.40], [0.13, 0.05, 0.20, 0.30],
              [0.35, 0.68, 0.10, 0.10], [0.90, 0.90, 0.20, 0.20]], [0, 1, 2, 3, 4], 7, 5),
    ]


def encode_targets(
    learner_fn: Callable[[Tensor, Tensor, int, int], Tensor], *, quiet: bool = False
) -> CheckResult:
    """Checks ``learner_fn(boxes, labels, S, C) -> Tensor[S, S, 5 + C]`` against
    :func:`yolo_lesson.grid.encode_targets`. ``boxes`` is ``[K, 4]`` ``cxcywh`` in ``[0, 1]``,
    ``labels`` ``[K]`` long.

    Cases: the centre cell, row/column order, offsets in cell units, other S and C, a centre
    on a cell border and at 1.0, no objects, collisions (the first object listed keeps the cell).
    """
    from . import grid

    return run_cases("encode_targets", learner_fn, _encode_cases, grid.encode_targets,
                     compare=_compare_grids, arg_names=("boxes", "labels", "S", "C"),
                     show_expected=_grid_summary, show_received=_grid_summary, quiet=quiet)


# ---------------------------------------------------------------------------------------------
# The YOLOv1 loss.


def _loss_total(value: Any) -> Any:
    """The learner may return the total, a LossTerms-like object or a dict with "total"."""
    if isinstance(value, Mapping) and "total" in value:
        return value["total"]
    if hasattr(value, "total") and not isinstance(value, Tensor):
        return value.total
    return value


def _compare_loss(expected: Any, received: Any) -> str | None:
    total = _as_tensor(_loss_total(received))
    if total is None:
        return f"a {type(received).__name__}, where a scalar loss was expected"
    if total.numel() != 1:
        return (f"a tensor of shape {_shape(total.shape)}: the loss must be one number; "
                "sum every term over the grid and the predictors")
    return compare_tensors(expected.total, total.reshape(()), rtol=1e-4, atol=1e-6)


def _show_loss_expected(expected: Any) -> str:
    parts = ", ".join(f"{k} {_number(v.item())}" for k, v in expected._asdict().items() if k != "total")
    return f"{_number(expected.total.item())}  ({parts})"


def _show_loss_received(received: Any) -> str:
    total = _as_tensor(_loss_total(received))
    if total is None or total.numel() != 1:
        return _show(_loss_total(received))
    return _number(float(total.reshape(())))


def _loss_cases(S: int, B: int, C: int) -> list[Case]:
    """Hand-built batches in the layout ``[N, S, S, B*5 + C]``; each one changes the total
    for one typical mistake. Cases needing a second predictor are left out when ``B = 1``."""
    from . import boxes as box_ops

    row, col = S // 2, S // 2  # the object cell
    gen = torch.Generator().manual_seed(0)

    def empty(N=1):
        pred = torch.zeros(N, S, S, B * 5 + C)
        target = torch.zeros(N, S, S, 5 + C)
        return pred, target

    def put_object(target, n, r, c, xywh, label):
        target[n, r, c, :4] = _t(xywh)
        target[n, r, c, 4] = 1.0
        target[n, r, c, 5 + label] = 1.0

    def put_pred(pred, n, r, c, b, xywhc):
        pred[n, r, c, 5 * b : 5 * b + 5] = _t(xywhc)

    def image_iou(p, t):
        """IoU of two cell-relative (x, y, w, h) boxes of the same cell, in image coordinates."""
        def to_xyxy(v):
            cx, cy = (col + v[0]) / S, (row + v[1]) / S
            return [cx - v[2] / 2, cy - v[3] / 2, cx + v[2] / 2, cy + v[3] / 2]
        return box_ops.iou(_t(to_xyxy(p)), _t(to_xyxy(t))).item()

    label = min(1, C - 1)
    obj_box = [0.5, 0.5, 0.2, 0.2]
    cases = []
    layout = f"S = {S}, B = {B}, C = {C}"

    pred, target = empty()
    pred[..., 4 : B * 5 : 5] = 0.5
    cases.append(Case(
        "no objects, every confidence 0.5: only the no-object term is left",
        "with no objects the loss is λ_noobj · Σ conf² over all S·S·B predictors: a sum, "
        "not a mean, multiplied by λ_noobj = 0.5.",
        (pred, target), note=f"{layout}; one image, empty target, all confidences 0.5"))

    pred, target = empty()
    pred[..., B * 5 :] = 0.3
    cases.append(Case(
        "no objects, class scores 0.3 everywhere: the loss is 0",
        "the class term counts only cells that hold an object: (p_c - one-hot_c)² summed over "
        "the object cells, not over the whole grid.",
        (pred, target), note=f"{layout}; one image, empty target, confidences 0, class scores 0.3"))

    pred, target = empty()
    put_object(target, 0, row, col, obj_box, label)
    put_pred(pred, 0, row, col, 0, obj_box + [1.0])
    pred[0, row, col, B * 5 + label] = 1.0
    cases.append(Case(
        "a perfect prediction: the loss is 0",
        "when the responsible box equals the target box, its confidence is 1 = IoU and the "
        "class scores equal the one-hot, every term is 0. Check which slice holds what: "
        "per cell B blocks (x, y, w, h, conf), then C class scores; the target is "
        "(x, y, w, h, obj, one-hot).",
        (pred, target), note=f"{layout}; one object in cell ({row}, {col}), predictor 0 exact"))

    # The cases below are ordered so that each typical mistake first shows in the case meant
    # for it: until the mixed-coordinates case, every predicted box shares its centre with the
    # object (concentric boxes have the same IoU in cell and in image coordinates), and the
    # losing predictor of an object cell has confidence 0 until the no-object case.
    pred, target = empty()
    wide, narrow = [0.5, 0.5, 0.36, 0.2], [0.5, 0.5, 0.16, 0.2]
    put_object(target, 0, row, col, wide, label)
    put_pred(pred, 0, row, col, 0, narrow + [0.9])
    pred[0, row, col, B * 5 + label] = 1.0
    cases.append(Case(
        f"the confidence target is the IoU ({image_iou(narrow, wide):.4f} here), not 1",
        "the responsible predictor's confidence regresses to the IoU of its box with the object "
        "(computed in image coordinates and held constant), not to 1. The box term here is "
        "λ_coord · (√0.16 - √0.36)² = 5 · 0.04 = 0.2.",
        (pred, target),
        note=f"{layout}; one object in cell ({row}, {col}) (x, y, w, h) = {_nested(wide)}, "
             f"predictor 0 = {_nested(narrow)} with confidence 0.9"))

    pred, target = empty()
    small = [0.5, 0.5, 0.04, 0.36]
    put_object(target, 0, row, col, small, label)
    put_pred(pred, 0, row, col, 0, [0.5, 0.5, 0.09, 0.25, image_iou([0.5, 0.5, 0.09, 0.25], small)])
    pred[0, row, col, B * 5 + label] = 1.0
    cases.append(Case(
        "w and h are compared through square roots",
        "the box term compares √w with √ŵ and √h with √ĥ, not w and h themselves: the "
        "roots make an error cost more on a small box. (λ_coord = 5 multiplies the box term.)",
        (pred, target),
        note=f"{layout}; object (w, h) = (0.04, 0.36), predictor 0 (w, h) = (0.09, 0.25) with "
             "confidence = its IoU, same centre"))

    if B >= 2:
        pred, target = empty()
        put_object(target, 0, row, col, obj_box, label)
        close = [0.5, 0.5, 0.2, 0.25]
        put_pred(pred, 0, row, col, 0, [0.1, 0.1, 0.05, 0.05, 0.0])
        put_pred(pred, 0, row, col, 1, close + [0.6])
        pred[0, row, col, B * 5 + label] = 1.0
        cases.append(Case(
            "the responsible predictor is the one with the higher IoU (here predictor 1)",
            "the responsible predictor is, among the B of the object's cell, the one whose box "
            "has the highest IoU with the object; it is not always predictor 0.",
            (pred, target),
            note=f"{layout}; predictor 0 far off (IoU 0), predictor 1 = {_nested(close)} "
                 f"(IoU {image_iou(close, obj_box):.3f})"))

        pred, target = empty()
        put_object(target, 0, row, col, obj_box, label)
        put_pred(pred, 0, row, col, 0, obj_box + [1.0])
        put_pred(pred, 0, row, col, 1, [0.9, 0.9, 0.05, 0.05, 0.8])
        pred[0, row, col, B * 5 + label] = 1.0
        cases.append(Case(
            "the losing predictor of an object cell pays the no-object term",
            "every predictor that is not responsible pays λ_noobj · conf², including the other "
            "predictor of a cell that holds an object, not only the predictors of empty cells.",
            (pred, target),
            note=f"{layout}; predictor 0 exact, predictor 1 elsewhere in the cell with confidence 0.8"))

        pred, target = empty()
        put_object(target, 0, row, col, obj_box, label)
        shifted, flat = [0.8, 0.5, 0.2, 0.2], [0.5, 0.5, 0.2, 0.12]
        put_pred(pred, 0, row, col, 0, flat + [0.0])
        put_pred(pred, 0, row, col, 1, shifted + [image_iou(shifted, obj_box)])
        pred[0, row, col, B * 5 + label] = 1.0
        cases.append(Case(
            "IoUs for responsibility in image coordinates",
            "x, y are offsets in cells but w, h are fractions of the image: turn both boxes into "
            "image coordinates (cx = (col + x) / S, cy = (row + y) / S) before the IoU, or the "
            "wrong predictor may be made responsible.",
            (pred, target),
            note=f"{layout}; predictor 0 = {_nested(flat)} (IoU {image_iou(flat, obj_box):.3f}), "
                 f"predictor 1 = {_nested(shifted)} (IoU {image_iou(shifted, obj_box):.3f})"))

    pred, target = empty()
    put_object(target, 0, row, col, obj_box, label)
    put_pred(pred, 0, row, col, 0, [0.3, 0.5, 0.2, 0.2, image_iou([0.3, 0.5, 0.2, 0.2], obj_box)])
    pred[0, row, col, B * 5 + label] = 1.0
    cases.append(Case(
        "an x error only: λ_coord = 5 times (x - x̂)²",
        "the box term is λ_coord · [(x - x̂)² + (y - ŷ)² + (√w - √ŵ)² + (√h - √ĥ)²], with "
        "λ_coord = 5 and x, y the offsets inside the cell.",
        (pred, target), note=f"{layout}; predictor 0 has x = 0.3 for an object at x = 0.5"))

    N = 3
    pred, target = empty(N)
    for n in range(N):
        r, c = (n * 2) % S, (n * 3 + 1) % S
        put_object(target, n, r, c, [0.25 + 0.2 * n, 0.5, 0.3, 0.2], (n + 1) % C)
    pred[..., : B * 5] = torch.rand(N, S, S, B * 5, generator=gen) * 0.9 + 0.05
    pred[..., B * 5 :] = torch.rand(N, S, S, C, generator=gen)
    cases.append(Case(
        "a batch of 3 images: sum over the grid, divide by N",
        "add up every term over the cells and predictors of all images, then divide by the "
        "batch size N = 3, the number of images (not by the number of cells or elements).",
        (pred, target), note=f"{layout}; N = 3, one object per image, random predictions"))

    pred, target = empty(2)
    for n, k in ((0, 4), (1, 2)):
        centres = torch.rand(k, 2, generator=gen) * 0.9 + 0.05
        sizes = torch.rand(k, 2, generator=gen) * 0.5 + 0.05
        for (cx, cy), (w, h), j in zip(centres.tolist(), sizes.tolist(), range(k)):
            r, c = min(int(cy * S), S - 1), min(int(cx * S), S - 1)
            if target[n, r, c, 4] == 0:
                put_object(target, n, r, c, [cx * S - c, cy * S - r, w, h], (j * 7) % C)
    pred[..., : B * 5] = torch.rand(2, S, S, B * 5, generator=gen) * 0.9 + 0.05
    pred[..., B * 5 :] = torch.rand(2, S, S, C, generator=gen)
    cases.append(Case(
        "random predictions, several objects",
        "compare your terms one by one with the formulas of 03_yolov1_loss.ipynb on this case "
        "(result.case.args holds pred and target).",
        (pred, target), note=f"{layout}; N = 2, random predictions and objects"))
    return cases


def yolo_v1_loss(
    learner_fn: Callable[[Tensor, Tensor], Any],
    *,
    S: int = 7,
    B: int = 2,
    C: int = 20,
    quiet: bool = False,
) -> CheckResult:
    """Checks ``learner_fn(pred, target) -> total``, the YOLOv1 loss of the paper (λ_coord = 5,
    λ_noobj = 0.5, confidence target the IoU, square roots on w and h, no-object term on every
    predictor that is not responsible, sum divided by N), against
    :func:`yolo_lesson.loss.yolo_v1_loss`.

    ``pred`` is ``[N, S, S, B*5 + C]`` and ``target`` ``[N, S, S, 5 + C]``; choose the layout
    with ``S``, ``B``, ``C`` (the paper's 7, 2, 20 by default). The function may return the
    total as a scalar tensor or a float, or anything with a ``total`` attribute or key.

    Cases catch: a mean instead of sum / N, a missing λ, the class term on empty cells,
    a confidence target of 1 instead of the IoU, no square roots on w and h, the no-object term
    on empty cells only, predictor 0 always responsible, IoUs in mixed coordinates.
    """
    from . import loss

    def reference(pred, target):
        return loss.yolo_v1_loss(pred, target, S=S, B=B, C=C)

    def cases():
        with _options():
            for name, value in (("S", S), ("B", B), ("C", C)):
                require_positive_int(name, value)
        return _loss_cases(S, B, C)

    return run_cases(
        "yolo_v1_loss", learner_fn, cases, reference,
        compare=_compare_loss, arg_names=("pred", "target"),
        show_expected=_show_loss_expected, show_received=_show_loss_received, quiet=quiet,
    )


# ---------------------------------------------------------------------------------------------
# Detections: NMS and average precision (yolo_lesson.metrics), focal loss (yolo_lesson.modern).


def _compare_indices(expected: Tensor, received: Any) -> str | None:
    got = _as_tensor(received)
    if got is None:
        return f"a {type(received).__name__}, where a LongTensor of indices was expected"
    if got.is_floating_point() or got.dtype == torch.bool:
        return f"a tensor of dtype {got.dtype}: return indices as integers (a LongTensor)"
    if got.dim() != 1:
        return f"shape {_shape(got.shape)}: return a 1-D tensor of kept indices"
    if got.tolist() == expected.tolist():
        return None
    if sorted(got.tolist()) == sorted(expected.tolist()):
        return "the right boxes in the wrong order: highest score first"
    return ""


def _nms_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(0)
    unit = [0.0, 0.0, 1.0, 1.0]
    shifted = [0.25, 0.0, 1.25, 1.0]  # IoU with the unit square: 0.75 / 1.25 = 0.6
    centres = torch.rand(5, 2, generator=gen) * 0.6 + 0.2  # [5, 2]: five objects
    jitter = torch.randn(30, 4, generator=gen) * 0.03  # [30, 4]: six boxes per object
    sizes = torch.tensor([0.2, 0.15])
    centre_rows = centres.repeat_interleave(6, dim=0)  # [30, 2]
    many = torch.cat((centre_rows - sizes / 2, centre_rows + sizes / 2), dim=-1) + jitter
    order = "return indices into the input boxes, sorted by decreasing score, not positions in a sorted copy."
    return [
        Case("no boxes at all", "with no boxes return an empty LongTensor, "
             "torch.empty(0, dtype=torch.long).", (torch.zeros(0, 4), torch.zeros(0), 0.5)),
        Case("a single box is kept", "a box with nothing above it is always kept: start the "
             "result with the highest-scoring box.", (_t([unit]), _t([0.4]), 0.5)),
        Case("two disjoint boxes: both kept, highest score first", order,
             (_t([unit, [2.0, 2.0, 3.0, 3.0]]), _t([0.3, 0.9]), 0.5)),
        Case("IoU 0.6 above the threshold 0.5: the lower score goes",
             "a box is removed when its IoU with a kept, higher-scoring box is greater than "
             "iou_threshold.", (_t([unit, shifted]), _t([0.9, 0.8]), 0.5)),
        Case("the same pair with threshold 0.7: both stay",
             "use the iou_threshold argument (no fixed 0.5), and remove a box only when the "
             "IoU is above it: 0.6 < 0.7 keeps both.", (_t([unit, shifted]), _t([0.9, 0.8]), 0.7)),
        Case("the higher score listed second", order,
             (_t([unit, shifted]), _t([0.8, 0.9]), 0.5)),
        Case("a chain: A suppresses B, B overlaps C, A does not overlap C enough",
             "only boxes that are kept suppress others: once B is removed by A it removes "
             "nothing, so C (IoU 1/3 with A) survives. Walk down the ranking and compare each "
             "box with the kept ones only.",
             (_t([[0.5, 0.0, 1.5, 1.0], unit, shifted]), _t([0.7, 0.9, 0.8]), 0.5),
             note="boxes are C, A, B; IoU(A, B) = IoU(B, C) = 0.6, IoU(A, C) = 1/3"),
        Case("30 boxes around 5 objects", order + " Suppress with IoU > iou_threshold.",
             (many, torch.rand(30, generator=gen), 0.4),
             note="six jittered boxes around each of five centres, random scores"),
    ]


def nms(learner_fn: Callable[[Tensor, Tensor, float], Any], *, quiet: bool = False) -> CheckResult:
    """Checks ``learner_fn(boxes, scores, iou_threshold) -> LongTensor[k]``, greedy
    non-maximum suppression: indices of the kept boxes, highest score first, a box dropped
    when its IoU with a kept box is ``> iou_threshold``. Reference:
    :func:`yolo_lesson.metrics.nms`; ``boxes`` is ``[K, 4]`` ``xyxy``, ``scores`` ``[K]``.

    Cases: no boxes, one box, the output order, above and below the threshold (and a
    threshold other than 0.5), a chain where only kept boxes may suppress, a crowded scene.
    """

    def reference(boxes, scores, iou_threshold):
        from . import metrics

        return metrics.nms(boxes, scores, iou_threshold)

    def cases():
        from . import metrics  # noqa: F401  (fails early, with a clear message, if missing)

        return _nms_cases()

    return run_cases("nms", learner_fn, cases, reference, compare=_compare_indices,
                     arg_names=("boxes", "scores", "iou_threshold"), quiet=quiet)


def _curve(flags: Sequence[int], num_ground_truth: int) -> tuple[Tensor, Tensor]:
    """Recall and precision after each detection of a ranked list of TP (1) / FP (0) flags."""
    tp = torch.tensor(flags, dtype=torch.float64).cumsum(0)
    k = torch.arange(1, len(flags) + 1, dtype=torch.float64)
    return tp / num_ground_truth, tp / k


def _ap_cases(interpolation: str) -> list[Case]:
    envelope = (
        "interpolate first: at each recall use the best precision reached at that recall or "
        "beyond (a running max from the end of the curve), then "
    )
    area = (
        "sum (R_k - R_(k-1)) · envelope_k over the points, starting from R_0 = 0."
        if interpolation == "voc_all"
        else "average the envelope at the 101 recall levels 0, 0.01, ..., 1 (0 where the recall "
        "is never reached): divide by 101, not 100."
    )
    gen = torch.Generator().manual_seed(0)
    flags = (torch.rand(20, generator=gen) < 0.6).long().tolist()

    def case(why, hint, flag_list, G, note=""):
        recall, precision = _curve(flag_list, G) if flag_list else (
            torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.float64))
        return Case(why, hint, (recall, precision), note=note)

    return [
        case("one detection, correct, one object: AP 1", area, [1], 1),
        case("a true then a false positive for 2 objects", area, [1, 0], 2),
        case("no detections: AP 0", "an empty curve has no area: return 0.0 (watch out for an "
             "empty max or mean).", [], 1),
        case("only false positives: AP 0", area, [0, 0, 0], 2),
        case("precision rises again further down the ranking", envelope + area,
             [1, 0, 0, 1, 1], 3, note="ranking TP, FP, FP, TP, TP for 3 objects"),
        case("the recall stops at 0.5 (half the objects are never found)",
             "recall levels beyond the last point get precision 0; do not stretch the curve to "
             "recall 1. " + area, [1, 1], 4),
        case("a ranking that starts with false positives", envelope + area,
             [0, 0, 1, 1], 2, note="ranking FP, FP, TP, TP for 2 objects"),
        case("20 ranked detections", envelope + area, flags, 15,
             note="random TP/FP flags, 15 objects"),
    ]


def average_precision(
    learner_fn: Callable[[Tensor, Tensor], Any],
    *,
    interpolation: str = "coco101",
    quiet: bool = False,
) -> CheckResult:
    """Checks ``learner_fn(recall, precision) -> float``, the area under an interpolated
    precision-recall curve, against :func:`yolo_lesson.metrics.average_precision` with the
    given ``interpolation`` (``"coco101"``: mean of the envelope at 101 recall levels;
    ``"voc_all"``: exact area under the envelope). ``recall`` and ``precision`` are
    ``Tensor[D]`` (float64) in ranking order; the answer may be a float or a 0-d tensor.

    Cases: a perfect detector, a TP then an FP, an empty curve, only false positives,
    precision that rises again (the envelope), a recall that never reaches 1, false positives
    first, a random ranking.
    """

    def reference(recall, precision):
        from . import metrics

        return torch.tensor(metrics.average_precision(recall, precision, interpolation),
                            dtype=torch.float64)

    def compare(expected, received):
        got = _as_tensor(received)
        if got is not None and got.numel() == 1:
            got = got.reshape(())
        return compare_tensors(expected, got if got is not None else received, rtol=1e-6, atol=1e-6)

    def cases():
        from . import metrics

        if not isinstance(interpolation, str) or interpolation not in metrics.INTERPOLATIONS:
            raise _BadOption(f"interpolation must be one of {metrics.INTERPOLATIONS}, got {interpolation!r}")
        return _ap_cases(interpolation)

    return run_cases("average_precision", learner_fn, cases, reference, compare=compare,
                     arg_names=("recall", "precision"), quiet=quiet)


def _focal_cases() -> list[Case]:
    formula = (
        "FL = α_t · (1 - p_t)^γ · BCE with p = σ(x), p_t = p for y = 1 and 1 - p for y = 0, "
        "α_t = α for y = 1 and 1 - α for y = 0."
    )
    gen = torch.Generator().manual_seed(0)
    return [
        Case("one positive at logit 0 (p = 0.5)", formula, (_t([0.0]), _t([1.0]))),
        Case("one negative at logit 0: weighted by 1 - α, not α",
             "α weighs the positives and 1 - α the negatives: α_t = α·y + (1 - α)·(1 - y).",
             (_t([0.0]), _t([0.0]))),
        Case("an easy and a hard negative (x = -4 and x = 2, y = 0)",
             "the factor is (1 - p_t)^γ: near 0 for an easy example (p_t near 1), near 1 for a "
             "hard one. For a negative, p_t = 1 - σ(x).",
             (_t([-4.0, 2.0]), _t([0.0, 0.0]))),
        Case("a confidently wrong logit (x = 20 for y = 0)",
             "compute the BCE from the logits (F.binary_cross_entropy_with_logits, or "
             "F.logsigmoid): in float32 σ(20) rounds to 1 and log(1 - σ(20)) is log 0 = -inf.",
             (_t([20.0, -20.0]), _t([0.0, 1.0]))),
        Case("a [2, 3] batch: summed, not averaged",
             "add up the loss of every element (reduction 'sum'), keeping no shape.",
             (torch.randn(2, 3, generator=gen) * 2, (torch.rand(2, 3, generator=gen) < 0.4).float())),
    ]


def focal_loss(
    learner_fn: Callable[[Tensor, Tensor], Any],
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    quiet: bool = False,
) -> CheckResult:
    """Checks ``learner_fn(logits, targets) -> scalar``, the focal loss summed over every
    element, against :func:`yolo_lesson.modern.focal_loss` with ``alpha`` and ``gamma`` (the
    paper's 0.25 and 2 by default). ``targets`` are 0 or 1, same shape as ``logits``.

    Cases: a positive and a negative at logit 0 (α against 1 - α), easy against hard examples
    ((1 - p_t)^γ, not p_t^γ), large logits (BCE from logits), the sum over a batch.
    """

    def reference(logits, targets):
        from . import modern

        return modern.focal_loss(logits, targets, alpha=alpha, gamma=gamma, reduction="sum")

    def compare(expected, received):
        got = _as_tensor(received)
        if got is not None and got.numel() != 1:
            return f"a tensor of shape {_shape(got.shape)}: sum the loss into one number"
        return compare_tensors(expected, got.reshape(()) if got is not None else received)

    def cases():
        from . import modern

        with _options():  # the reference's own checks name the option
            modern.focal_loss(torch.zeros(1), torch.zeros(1), alpha=alpha, gamma=gamma)
        return _focal_cases()

    return run_cases("focal_loss", learner_fn, cases, reference, compare=compare,
                     arg_names=("logits", "targets"), quiet=quiet)
