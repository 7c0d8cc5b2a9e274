"""A training loop for the tiny YOLO: Adam, a progress bar, the history of every loss term,
a clear stop on NaN/Inf, and checkpoints that resume to exactly the same result.

Reproducibility: the data order of epoch ``e`` and the random state of step ``t`` are derived
from ``seed`` and ``e`` (or ``t``) alone, never from what ran before; so a run resumed from a
checkpoint at step ``t`` takes the very same steps as an uninterrupted run.

Nothing is lost: a step is taken only when every loss term and every gradient is finite (so no
NaN ever reaches the weights or a checkpoint); checkpoints are written to a temporary file then
renamed over the old one; a run stopped by an error or by the stop button saves its last
finished step before it ends, and leaves the model in eval mode.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ._checks import as_int, as_number, describe, require_positive_int, shape_str
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

    def append(self, terms: LossTerms | Tensor) -> None:
        """Adds one step: every term of a ``LossTerms``, or only ``total`` for a scalar loss."""
        if isinstance(terms, Tensor):
            self.total.append(float(terms.detach()))
            return
        for name in TERMS:
            getattr(self, name).append(float(getattr(terms, name).detach()))

    def as_dict(self) -> dict[str, list[float]]:
        return {name: list(getattr(self, name)) for name in TERMS}


def _step_seed(seed: int, kind: int, index: int) -> int:
    # Distinct seeds for "epoch e" and "step t" of a run, all from the run's seed; torch seeds
    # are 64-bit, so a huge seed is folded in (every usual seed gives the same number as before).
    return ((seed * 1_000_003 + index) * 2 + kind) % 2**63


def _save(path: Path, state: dict) -> None:
    """Writes ``state`` atomically: to a temporary file beside ``path``, flushed to disk, then
    renamed over ``path``. A run killed while saving leaves the previous checkpoint intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=path.name + ".", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


CHECKPOINT_KEYS = ("model", "optimizer", "step", "seed", "history")


def _load(path: Path) -> dict:
    """A checkpoint written by :func:`train`, or a ValueError naming the file."""
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # empty, truncated, corrupt, or not a torch file at all
        raise ValueError(
            f"checkpoint {path} must be a checkpoint written by train(), got a file torch cannot "
            f"read ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); "
            "delete it or pass another checkpoint path"
        ) from None
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        got = f"a dict without {missing}" if isinstance(state, dict) else type(state).__name__
        raise ValueError(
            f"checkpoint {path} must be a checkpoint written by train() (keys {list(CHECKPOINT_KEYS)}), "
            f"got {got}; a bare state_dict loads with model.load_state_dict(torch.load(path))"
        )
    bad = [name for name, value in state["model"].items() if value.is_floating_point() and not bool(torch.isfinite(value).all())]
    if bad:
        raise ValueError(f"checkpoint {path} must hold finite weights, got NaN or Inf in {bad[0]}")
    return state


def _restore(path: Path, state: dict, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Loads the checkpoint's weights and optimizer state, all or nothing."""
    before = {name: value.clone() for name, value in model.state_dict().items()}
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as error:
        model.load_state_dict(before)
        raise ValueError(
            f"checkpoint {path} must hold the weights of this model, got weights that do not fit: "
            f"{str(error).splitlines()[0]}"
        ) from None


def _check_finite(terms: LossTerms | Tensor, step: int) -> None:
    named = [("total", terms)] if isinstance(terms, Tensor) else [(n, getattr(terms, n)) for n in TERMS[1:] + TERMS[:1]]
    for name, term in named:  # name the offending term before the total
        value = float(term.detach())
        if not math.isfinite(value):
            raise FloatingPointError(
                f"loss became {value} at step {step} (term: {name}); the model was not updated "
                "at this step. Lower the learning rate, or check the loss on this batch "
                "(a mean over an empty selection is NaN)"
            )


def _check_gradients(model: nn.Module, step: int) -> None:
    """Every gradient finite, before the optimizer may use it."""
    for name, parameter in model.named_parameters():
        if parameter.grad is not None and not bool(torch.isfinite(parameter.grad).all()):
            bad = int((~torch.isfinite(parameter.grad)).sum())
            raise FloatingPointError(
                f"gradient of {name} has {bad} NaN or Inf value(s) at step {step}, although every "
                "loss term is finite; the model was not updated at this step. The loss has an "
                "infinite derivative somewhere: a square root or a division at 0 (d√w/dw = "
                "1 / (2√w) is infinite at w = 0; add a small epsilon or clamp inside the root)"
            )


def _as_loss(result: object, step: int) -> LossTerms | Tensor:
    """``LossTerms``, or a one-number tensor that depends on the model."""
    if isinstance(result, LossTerms):
        return result
    if isinstance(result, Tensor) and result.numel() == 1 and result.is_floating_point():
        if not result.requires_grad:
            raise ValueError(
                f"loss_fn must return a loss computed from the prediction (requires_grad), got a "
                f"tensor that does not depend on the model at step {step}"
            )
        return result.reshape(())
    got = f"a tensor of shape {shape_str(result.shape)} and dtype {result.dtype}" if isinstance(result, Tensor) else type(result).__name__
    raise ValueError(f"loss_fn must return LossTerms or a one-number floating-point tensor, got {got}")


def _loader_batch_size(loader: object) -> int | None:
    """The batch size: a DataLoader's ``batch_size``, or the size of a list's first batch."""
    size = getattr(loader, "batch_size", None)
    if as_int(size) is not None:
        return as_int(size)
    if isinstance(loader, (list, tuple)) and loader and isinstance(loader[0], (list, tuple)):
        images = loader[0][0]
        if isinstance(images, Tensor) and images.dim() > 0:
            return images.shape[0]
    return None


def _check_device(model: nn.Module, images: object) -> None:
    parameter = next(model.parameters(), None)
    if parameter is not None and isinstance(images, Tensor) and images.device != parameter.device:
        raise ValueError(
            f"images and model must be on one device, got images on {images.device} and the "
            f"model's parameters on {parameter.device} (move one with .to(device))"
        )


def train(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable[[Tensor, Tensor], LossTerms | Tensor],
    *,
    epochs: int | None = None,
    steps: int | None = None,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 100,
    resume: bool = False,
    callback: Callable[[int, nn.Module, LossTerms | Tensor], object] | None = None,
) -> History:
    """Trains ``model`` with Adam on ``loss_fn`` and returns the per-step history of its terms.

    Args:
        model: maps ``images Tensor[N, 3, H, W]`` to a prediction ``loss_fn`` accepts.
        loader: a re-iterable of batches with a ``len()``, whose first two items are
            ``images`` and ``target`` (e.g. a ``DataLoader`` with
            :class:`yolo_lesson.data.YoloCollate`, or a list); not a generator or iterator.
        loss_fn: ``(pred, target) -> LossTerms``, e.g. :class:`yolo_lesson.loss.YoloV1Loss`;
            a loss returning one scalar tensor is accepted too (its history has ``total`` only).
        epochs: passes over ``loader``; give ``epochs`` or ``steps``, not both.
        steps: optimizer steps (the last epoch may stop part-way).
        lr: Adam's learning rate, a finite number ``> 0``.
        seed: an int; seeds the data order of each epoch (``torch.manual_seed`` before the loader's
            iterator is made) and the random state of each step.
        progress: show a ``tqdm`` progress bar with the running loss.
        checkpoint: a file to save ``model``, optimizer, step and history to, every
            ``checkpoint_every`` steps, at the end, and when the run stops early (an error,
            a NaN, the stop button) after at least one step since the last save.
        checkpoint_every: steps between two saves.
        resume: continue from ``checkpoint`` if that file exists (``model`` is overwritten by
            the saved weights). With the same arguments the result equals that of an
            uninterrupted run. Changed arguments:

            * ``lr``: the new rate is applied from the checkpoint's step on (the usual cure
              after a divergence);
            * ``steps`` or ``epochs``: the run continues to the new end; an end before the
              checkpoint's step is refused, an end equal to it returns the saved history;
            * ``seed``, the number of batches per epoch or the batch size: refused, since the
              data order of the remaining steps depends on them (use a new checkpoint file).

        callback: called after every finished step as ``callback(step, model, terms)``, with
            ``step`` the number of steps taken so far (1 after the first), the model (in
            training mode; a callback that evaluates it switches it to ``eval()`` and back)
            and that step's loss terms. It may look, not touch: every step reseeds torch and
            each epoch's data order comes from the seed, so a callback that only evaluates
            the model leaves the run bit-identical. E.g.
            :class:`yolo_lesson.replay.TrainingRecorder`.

    Returns:
        :class:`History`, one entry per step since step 0 (a resumed run includes the steps
        of the checkpoint).

    Raises:
        FloatingPointError: a loss term or a gradient is NaN or Inf; the message names the
            step and the term or parameter, and the model keeps its last good weights.
        ValueError: a bad argument, or a checkpoint that cannot be read or does not fit the
            model (naming the file).
    """
    if (epochs is None) == (steps is None):
        raise ValueError(f"give exactly one of epochs and steps, got epochs={epochs!r}, steps={steps!r}")
    rate = as_number(lr)
    if rate is None or not 0 < rate < math.inf:
        raise ValueError(f"lr must be a finite number > 0, got {describe(lr)}")
    lr = rate
    seed_int = as_int(seed)
    if seed_int is None:
        raise ValueError(f"seed must be an int, got {describe(seed)}")
    seed = seed_int
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
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable as callback(step, model, terms) or None, got {describe(callback)}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path, got checkpoint=None")
    path = Path(checkpoint) if checkpoint is not None else None

    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history, step = History(), 0
    batch_size = _loader_batch_size(loader)
    if resume and path is not None and path.exists():
        state = _load(path)
        if state["seed"] != seed:
            raise ValueError(f"seed must match the checkpoint's ({state['seed']}) to resume, got {seed}")
        saved_batches = state.get("batches_per_epoch", batches_per_epoch)
        if saved_batches != batches_per_epoch:
            raise ValueError(
                f"loader must have the checkpoint's {saved_batches} batches per epoch to resume, "
                f"got {batches_per_epoch} (another batch size or dataset changes the data order; "
                "start a new run with another checkpoint file)"
            )
        if state["step"] > total_steps:
            raise ValueError(
                f"steps must be at least the checkpoint's step ({state['step']}) to resume, got "
                f"{total_steps} (pass a larger steps or epochs, or a new checkpoint file)"
            )
        _restore(path, state, model, optimizer)
        for group in optimizer.param_groups:
            group["lr"] = lr  # the new rate applies from here (load_state_dict restored the old)
        saved_size = state.get("batch_size")
        if None not in (saved_size, batch_size) and saved_size != batch_size:
            raise ValueError(
                f"batch size must be the checkpoint's ({saved_size}) to resume, got {batch_size} "
                "(the data order depends on it; start a new run with another checkpoint file)"
            )
        step, history = state["step"], History(**state["history"])

    def snapshot() -> dict:
        return {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "step": step,
            "seed": seed,
            "history": history.as_dict(),
            "lr": lr,
            "batches_per_epoch": batches_per_epoch,
            "batch_size": batch_size,
        }

    saved_step, updating, buffers = step, False, None
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
                _check_device(model, images)
                # The forward pass updates batch-norm statistics: kept aside so that a step
                # that does not finish leaves the model as the last finished step left it.
                buffers = {name: value.clone() for name, value in model.named_buffers()}
                terms = _as_loss(loss_fn(model(images), target), step)
                _check_finite(terms, step)
                optimizer.zero_grad(set_to_none=True)
                (terms if isinstance(terms, Tensor) else terms.total).backward()
                _check_gradients(model, step)
                updating = True  # an interruption from here to step += 1 leaves a half-made step
                optimizer.step()
                history.append(terms)
                step += 1
                updating, buffers = False, None
                bar.update(1)
                bar.set_postfix(loss=f"{history.total[-1]:.3f}", refresh=False)
                if path is not None and (step % checkpoint_every == 0 or step == total_steps):
                    _save(path, snapshot())
                    saved_step = step
                if callback is not None:
                    callback(step, model, terms)
    finally:
        bar.close()
        model.eval()
        if buffers is not None and not updating:  # stopped inside a step, before its update
            with torch.no_grad():
                for name, value in model.named_buffers():
                    value.copy_(buffers[name])
        if path is not None and step > saved_step and not updating:  # stopped early: keep the finished steps
            try:
                _save(path, snapshot())
            except Exception as error:  # never hide the reason the run stopped
                warnings.warn(f"could not save the checkpoint {path} of step {step}: {error}", stacklevel=2)
    return history
