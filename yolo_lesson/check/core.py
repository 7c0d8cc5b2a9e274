"""The checkers' machinery: hidden cases, the runner, comparisons and deterministic reports.

A checker runs the learner's function on its hidden :class:`Case` s (data, in the topic
modules), compares every answer with the package's own function and prints one line when every
case passes, or the *first* failing case: what it is for, its inputs, the expected and the
received value, and a hint aimed at the mistake that case was built to catch.

By default a checker never raises: an exception in the learner's function is reported (an
unfinished stub that raises ``NotImplementedError`` is "not attempted yet"), and so is a
function that changes its inputs in place or runs longer than the time limit. With
``strict=True``, or whenever nbgrader executes the notebook (it sets ``NBGRADER_EXECUTION``
while validating and autograding), a checker prints the same report and then raises an
``AssertionError``, so that a grade cell scores its points only when every case passes.
The printed text is deterministic (no addresses, no timings), so lessons show it under nbval.
"""

from __future__ import annotations

import math
import os
import signal
import textwrap
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

import torch
from torch import Tensor

__all__ = ["Case", "CheckResult", "run_cases", "compare_tensors", "TIME_LIMIT"]

# Tensors with more elements than this are shown by their shape only.
_SHOW_AT_MOST = 16
_WIDTH = 92
# Seconds a learner's function may run on one case before it is stopped.
TIME_LIMIT = 10.0


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
            an exception), ``"timeout"`` (it ran longer than the time limit),
            ``"not attempted"`` (it raised ``NotImplementedError``) or ``"unavailable"`` (the
            checker could not run: a package module is missing, or an option of the checker
            itself, such as ``S=0``, is invalid).
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


def grading() -> bool:
    """True while nbgrader validates or autogrades the notebook (it sets NBGRADER_EXECUTION)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


# ---------------------------------------------------------------------------------------------
# Formatting: deterministic, short.


def _number(value: float | int | bool, digits: int = 4) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "nan"
    if value == 0:
        return "0"  # also for -0.0
    return f"{value:.{digits}g}"


def _nested(values: Any, digits: int = 4) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v, digits) for v in values) + "]"
    return _number(values, digits)


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
            if value.dtype in (torch.float16, torch.bfloat16):
                text += f" ({str(value.dtype).replace('torch.', '')})"
            return text
        return f"Tensor{_shape(value.shape)} ({str(value.dtype).replace('torch.', '')})"
    if isinstance(value, (bool, int, float)):
        return _number(value)
    if isinstance(value, str):
        return repr(value)
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


def _digits_to_tell_apart(want: Any, got: Any) -> int:
    """The fewest significant digits (4 to 17) at which the two values print differently."""
    for digits in range(4, 18):
        if _nested(want, digits) != _nested(got, digits):
            return digits
    return 17


# ---------------------------------------------------------------------------------------------
# Comparing answers.


def _as_tensor(value: Any) -> Tensor | None:
    if isinstance(value, Tensor):
        return value.detach()
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError):
        return None


def compare_tensors(
    expected: Tensor, received: Any, rtol: float = 1e-4, atol: float = 1e-6, *, tensor_only: bool = True
) -> str | None:
    """None when ``received`` matches ``expected`` (type, shape and values within tolerance),
    else a short description of the difference. With ``tensor_only`` a list, tuple or number
    where a tensor was expected is a difference even when its values are right."""
    if tensor_only and not isinstance(received, Tensor):
        kind = type(received).__name__
        if isinstance(received, (list, tuple)):
            return (f"a {kind}, where a tensor was expected: build the result with tensor "
                    "operations (torch.stack, torch.tensor, ...) so that it keeps its dtype, "
                    "device and gradient")
        return f"a {kind}, where a tensor was expected"
    got = _as_tensor(received)
    if got is None:
        return f"a {type(received).__name__}, where a tensor was expected"
    if got.is_complex():
        return f"a tensor of dtype {got.dtype}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"shape {_shape(got.shape)} instead of {_shape(expected.shape)}"
    low_precision = got.dtype in (torch.float16, torch.bfloat16) and expected.dtype not in (
        torch.float16, torch.bfloat16)
    want, got = expected.detach().double(), got.double()
    close = torch.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return None
    precision = (f" Your result is {str(received.dtype).replace('torch.', '')}: compute in the "
                 "inputs' dtype (float32), half precision keeps about 3 digits." if low_precision else "")
    if got.numel() <= _SHOW_AT_MOST:
        w, g = want.tolist(), got.tolist()
        if _nested(w) == _nested(g):  # a near miss: show the digits where they differ
            digits = _digits_to_tell_apart(w, g)
            return (f"they differ beyond 4 digits: expected {_nested(w, digits)}, "
                    f"received {_nested(g, digits)}." + precision)
        return precision.strip()  # the full values are shown; nothing more to add
    index = tuple(int(i) for i in torch.nonzero(~close)[0])
    w, g = want[index].item(), got[index].item()
    digits = _digits_to_tell_apart(w, g)
    return (f"first difference at index {list(index)}: expected {_number(w, digits)}, "
            f"received {_number(g, digits)}" + ("." + precision if precision else ""))


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
    """Turns the ValueError or TypeError of an option check into a :class:`_BadOption`."""
    try:
        yield
    except (ValueError, TypeError) as error:
        raise _BadOption(str(error)) from None


class _TooLong(BaseException):
    """Raised inside the learner's function when it runs past the time limit (a
    BaseException, so that a learner's ``except Exception`` does not swallow it)."""


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Stops the code inside after ``seconds`` with :class:`_TooLong`. Uses SIGALRM, so it
    works in the main thread on Unix (where Jupyter kernels run code); elsewhere no limit."""
    usable = (
        seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def stop(signum, frame):
        raise _TooLong()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
    call: Callable[..., Any] | None = None,
    quiet: bool = False,
    strict: bool | None = None,
    time_limit: float | None = None,
    expects_function: bool = True,
) -> CheckResult:
    """Runs ``learner_fn`` on every case, compares with ``reference`` and prints the outcome.

    Args:
        name: the checker's name, as printed (``check.<name>``).
        learner_fn: the learner's function (or, with ``expects_function=False``, the
            learner's answer, passed to ``call`` as its first argument).
        cases: a function returning the list of cases (built on demand: building may need a
            module that is imported lazily, and may reject an option with ``_BadOption``).
        reference: the package's function, called with the same inputs.
        compare: ``compare(expected, received) -> None`` when they match, else a description
            of the difference (``""`` when showing both values says it all).
        arg_names: names of the positional inputs, for the report.
        show_expected, show_received: how to print the two values.
        call: ``call(learner_fn, *args, **kwargs)`` runs the learner's function and returns
            what is compared (default: a plain call); e.g. the loss checker also
            backpropagates through the answer.
        quiet: return the result without printing it.
        strict: raise an ``AssertionError`` after the report when a case does not pass.
            None (the default): strict while nbgrader executes the notebook.
        time_limit: seconds per case before the learner's function is stopped (default
            :data:`TIME_LIMIT`).
        expects_function: False for checkers of an answer rather than of a function.

    Returns:
        A :class:`CheckResult`. Without ``strict`` it never raises (except
        ``KeyboardInterrupt`` and the like).
    """
    title = f"check.{name}"
    strict = grading() if strict is None else bool(strict)
    limit = TIME_LIMIT if time_limit is None else time_limit
    run = call or (lambda fn, *a, **k: fn(*a, **k))

    def finish(status: str, lines: list[str], count: int, number=None, case=None) -> CheckResult:
        report = "\n".join(lines)
        if not quiet:
            print(report, flush=True)
        result = CheckResult(name, status, count, number, case, report)
        if strict and status != "passed":
            raise AssertionError(f"{title}: {status}" + (f" (case {number} of {count})" if number else ""))
        return result

    if expects_function and not callable(learner_fn):
        return finish(
            "raised",
            [f"{title}: expected a function, got an object of type {type(learner_fn).__name__}.",
             f"  Pass the function itself, without calling it: {title}(my_function)."],
            0,
        )
    if not expects_function and (
        learner_fn is None or (isinstance(learner_fn, tuple) and any(v is None for v in learner_fn))
    ):
        return finish(
            "not attempted",
            [f"{title}: not attempted yet (your answer is still None).",
             "  Replace None with your answer in the exercise's cell, run it, then this one."],
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
            with _time_limit(limit):
                received = run(learner_fn, *args, **kwargs)
        except _TooLong:
            return finish(
                "timeout",
                [f"{title}: case {number} of {total}: your function took longer than {limit:g} s: "
                 "an endless loop?", f"  case: {case.why}", *inputs,
                 _wrap("hint: ", "look for a `while` loop whose condition never changes, or a loop "
                                 "over a list that grows inside it. " + case.hint)],
                total, number, case,
            )
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

    return finish("passed", [f"{title}: all {total} cases pass." if total > 1 else f"{title}: right."], total)


def _t(values, dtype=torch.float32) -> Tensor:
    return torch.tensor(values, dtype=dtype)


def compare_numbers(rtol: float = 1e-6, atol: float = 1e-9) -> Callable[[Any, Any], str | None]:
    """A comparison for answers that are numbers (a float, an int or a one-element tensor)."""

    def compare(expected: Any, received: Any) -> str | None:
        if isinstance(received, (list, tuple, dict)) or received is None:
            return f"a {type(received).__name__}, where a number was expected"
        got = _as_tensor(received)
        if got is None or got.numel() != 1:
            return "one number was expected" + (f", got shape {_shape(got.shape)}" if got is not None else "")
        return compare_tensors(torch.as_tensor(expected, dtype=torch.float64),
                               got.reshape(()).double(), rtol, atol, tensor_only=False)

    return compare


def compare_exact(expected: Any, received: Any) -> str | None:
    """A comparison for integers, tuples and lists of them: equal, as plain Python values."""
    def plain(value):
        if isinstance(value, Tensor):
            return value.tolist()
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value
    if plain(received) == plain(expected):
        return None
    return ""
