"""Input checks shared by the package: every bad input becomes a ValueError that names
the argument, what was expected and what was received."""

from __future__ import annotations

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


def require_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def require_nonnegative_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
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
