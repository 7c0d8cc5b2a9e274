"""A training loop for the tiny YOLO: Adam, a progress bar, the history of every loss term,
a clear stop on NaN/Inf, and checkpoints that resume to exactly the same result.

Reproducibility: the data order of epoch ``e`` and the random state of step ``t`` are derived
from ``seed`` and ``e`` (or ``t``) alone, never from what ran before; so a run resumed from a
checkpoint at step ``t`` takes the very same steps as an uninterrupted run.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ._checks import require_positive_int
from .loss import LossTerms

__all__ = ["TERMS", "History", "train"]

TERMS = ("total", "box", "obj", "noobj", "cls")


@dataclass
class History:
    """The loss terms of every training step (floats, one entry per step, in order)."""

    total: list[float] = field(default_factory=list)
    box: list[float] = field(default_factory=list)
    obj: list[float] = field(default_factory=list)
    noobj: list[float] = field(default_factory=list)
    cls: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.total)

    def append(self, terms: LossTerms) -> None:
        for name in TERMS:
            getattr(self, name).append(float(getattr(terms, name).detach()))

    def as_dict(self) -> dict[str, list[float]]:
        return {name: list(getattr(self, name)) for name in TERMS}


def _step_seed(seed: int, kind: int, index: int) -> int:
    # Distinct seeds for "epoch e" and "step t" of a run, all from the run's seed.
    return (seed * 1_000_003 + index) * 2 + kind


def _save(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, step: int, seed: int, history: History) -> None:
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "seed": seed,
        "history": history.as_dict(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)  # a run killed while saving leaves the previous checkpoint intact


def _check_finite(terms: LossTerms, step: int) -> None:
    for name in TERMS[1:] + TERMS[:1]:  # name the offending term before the total
        value = float(getattr(terms, name).detach())
        if not math.isfinite(value):
            raise FloatingPointError(
                f"loss became {value} at step {step} (term: {name}); the model was not updated "
                "at this step. Lower the learning rate, or check the loss on this batch "
                "(a mean over an empty selection is NaN)"
            )


def train(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable[[Tensor, Tensor], LossTerms],
    *,
    epochs: int | None = None,
    steps: int | None = None,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 100,
    resume: bool = False,
) -> History:
    """Trains ``model`` with Adam on ``loss_fn`` and returns the per-step history of its terms.

    Args:
        model: maps ``images Tensor[N, 3, H, W]`` to a prediction ``loss_fn`` accepts.
        loader: a re-iterable of batches with a ``len()``, whose first two items are
            ``images`` and ``target`` (e.g. a ``DataLoader`` with
            :class:`yolo_lesson.data.YoloCollate`, or a list); not a generator or iterator.
        loss_fn: ``(pred, target) -> LossTerms``, e.g. :class:`yolo_lesson.loss.YoloV1Loss`.
        epochs: passes over ``loader``; give ``epochs`` or ``steps``, not both.
        steps: optimizer steps (the last epoch may stop part-way).
        lr: Adam's learning rate, a finite number ``> 0``.
        seed: an int; seeds the data order of each epoch (``torch.manual_seed`` before the loader's
            iterator is made) and the random state of each step.
        progress: show a ``tqdm`` progress bar with the running loss.
        checkpoint: a file to save ``model``, optimizer, step and history to, every
            ``checkpoint_every`` steps and at the end.
        checkpoint_every: steps between two saves.
        resume: continue from ``checkpoint`` if that file exists (``model`` is overwritten by
            the saved weights); the result equals that of an uninterrupted run.

    Returns:
        :class:`History`, one entry per step since step 0 (a resumed run includes the steps
        of the checkpoint).

    Raises:
        FloatingPointError: a loss term is NaN or Inf; the message names the step and term.
    """
    if (epochs is None) == (steps is None):
        raise ValueError(f"give exactly one of epochs and steps, got epochs={epochs!r}, steps={steps!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < math.inf:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    if not hasattr(loader, "__len__") or isinstance(loader, Iterator):
        raise ValueError(
            "loader must be a re-iterable of batches with a len(), such as a DataLoader or a "
            f"list (every epoch iterates it again), got {type(loader).__name__}"
        )
    batches_per_epoch = len(loader)  # type: ignore[arg-type]
    if batches_per_epoch == 0:
        raise ValueError("loader must yield at least one batch, got an empty loader")
    total_steps = (
        require_positive_int("epochs", epochs) * batches_per_epoch
        if epochs is not None
        else require_positive_int("steps", steps)
    )
    checkpoint_every = require_positive_int("checkpoint_every", checkpoint_every)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path, got checkpoint=None")
    path = Path(checkpoint) if checkpoint is not None else None

    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history, step = History(), 0
    if resume and path is not None and path.exists():
        state = torch.load(path, weights_only=True)
        if state["seed"] != seed:
            raise ValueError(f"seed must match the checkpoint's ({state['seed']}) to resume, got {seed}")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, history = state["step"], History(**state["history"])

    model.train()
    bar = tqdm(total=total_steps, initial=step, disable=not progress, unit="step")
    try:
        while step < total_steps:
            epoch, skip = divmod(step, batches_per_epoch)
            torch.manual_seed(_step_seed(seed, 0, epoch))  # fixes this epoch's shuffle order
            for batch in islice(iter(loader), skip, None):  # a resumed epoch skips what it did
                if step >= total_steps:
                    break
                torch.manual_seed(_step_seed(seed, 1, step))
                images, target = batch[0], batch[1]
                terms = loss_fn(model(images), target)
                _check_finite(terms, step)
                optimizer.zero_grad(set_to_none=True)
                terms.total.backward()
                optimizer.step()
                history.append(terms)
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{history.total[-1]:.3f}", refresh=False)
                if path is not None and (step % checkpoint_every == 0 or step == total_steps):
                    _save(path, model, optimizer, step, seed, history)
    finally:
        bar.close()
    model.eval()
    return history
