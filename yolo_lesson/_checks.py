"""Input checks shared by the package: every bad input becomes a ValueError that names
the argument, what was expected and what was received."""

from __future__ import annotations

import numbers
import operator
from typing import Sequence

import torch
from torch import Tensor


def shape_str(shape: Sequence[int]) -> str:
    """``torch.Size([4, 7, 7, 30])`` -> ``[4, 7, 7, 30]``."""
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def require_tensor(name: str, value: object) -> Tensor:
    if not isinstance(value, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    return value


def require_float(name: str, t: object) -> Tensor:
    t = require_tensor(name, t)
    if not t.is_floating_point():
        raise ValueError(
            f"{name} must be a floating-point tensor (float16, bfloat16, float32 or float64), "
            f"got dtype {t.dtype}"
        )
    return t


def require_int(name: str, t: object) -> Tensor:
    t = require_tensor(name, t)
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"{name} must be an integer tensor of class indices, got dtype {t.dtype}")
    return t


def require_last_dim(name: str, t: Tensor, size: int, layout: str) -> None:
    if t.dim() == 0 or t.shape[-1] != size:
        raise ValueError(f"{name} must be [..., {size}] ({layout}), got {shape_str(t.shape)}")


def require_finite(name: str, t: Tensor) -> None:
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} must be finite, got {bad} NaN or Inf value(s)")


def as_int(value: object) -> int | None:
    """``value`` as a Python int when it is integer-like (an int, a numpy integer, a 0-dim
    integer tensor), else None. A bool (Python, numpy or torch) is not an int here: ``True``
    passed for a size is a mistake, not a 1."""
    if isinstance(value, Tensor):
        if value.dim() != 0 or value.dtype == torch.bool or value.is_floating_point() or value.is_complex():
            return None
    elif isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy's bool
        return None
    try:
        return operator.index(value)  # int, numpy integers, 0-dim integer tensors
    except TypeError:
        return None


def as_number(value: object) -> float | None:
    """``value`` as a Python float when it is a real number (int, float, numpy scalar, 0-dim
    real tensor), else None; a bool is not a number here."""
    number = as_int(value)
    if number is not None:
        return float(number)
    if isinstance(value, Tensor):
        return float(value) if value.dim() == 0 and value.is_floating_point() else None
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and type(value).__name__ != "bool_":
        return float(value)
    return None


def describe(value: object) -> str:
    """``repr`` for the "got ..." part of a message; a tensor or numpy scalar also shows its type,
    so that "must be an int, got 3" never appears for a value that only prints like one."""
    if isinstance(value, Tensor):
        if value.dim() == 0:
            return f"{value.item()!r} (a 0-dim {value.dtype} tensor)"
        return f"a {value.dtype} tensor of shape {shape_str(value.shape)}"
    module = type(value).__module__
    if module == "numpy" and hasattr(value, "item"):
        shown = value.item() if getattr(value, "ndim", 0) == 0 else value
        return f"{shown!r} (numpy {type(value).__name__})"
    return repr(value)


def require_positive_int(name: str, value: object) -> int:
    """A positive int; numpy and 0-dim torch integers are accepted and returned as an int."""
    number = as_int(value)
    if number is None or number < 1:
        raise ValueError(f"{name} must be a positive int, got {describe(value)}")
    return number


def require_same_device(*named: tuple[str, Tensor]) -> None:
    """All the tensors live on one device; otherwise a ValueError naming each one's device
    (torch's own error names neither argument)."""
    named = tuple((name, t) for name, t in named if isinstance(t, Tensor))  # others are checked elsewhere
    devices = {t.device for _, t in named}
    if len(devices) > 1:
        where = ", ".join(f"{name} on {t.device}" for name, t in named)
        raise ValueError(f"{' and '.join(n for n, _ in named)} must be on one device, got {where}")


def require_nonnegative_number(name: str, value: object) -> float:
    number = as_number(value)
    if number is None or not number >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {describe(value)}")
    value = number
    if value == float("inf"):  # an infinite weight turns every zero error into 0 · inf = NaN
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def require_choice(name: str, value: object, choices: Sequence[str]) -> str:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value  # type: ignore[return-value]


def upcast(t: Tensor) -> Tensor:
    """Half-precision tensors are computed in float32 (their range and step are too coarse
    for areas and squared errors); float32 and float64 stay as they are."""
    if t.dtype in (torch.float16, torch.bfloat16):
        return t.float()
    return t
