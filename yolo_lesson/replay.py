"""Recording a training run for the training replay of lesson 06: every step's loss terms,
and every ``every`` steps a snapshot of what the model sees on a few fixed held-out images.

A snapshot holds plain numbers only (lists, floats, ints), rounded, so that it can be saved in a
notebook and drawn by a browser with no Python behind it:

* ``detections``: per image, the boxes :func:`yolo_lesson.metrics.detections_from_predictions`
  keeps (decode, score threshold, NMS), each ``[x1, y1, x2, y2, score, label]`` (``xyxy``,
  normalized to the image);
* ``objectness``: per image, each cell's largest confidence over its ``B`` predictors
  (:func:`objectness_map`), the ``S × S`` grid row by row in one list (cell ``(row, col)`` at
  ``row * S + col``), to 2 decimals (flat and short: it is saved with the notebook).

The recorder is the ``callback`` of :func:`yolo_lesson.train.train`; it evaluates the model in
``eval()`` mode under ``torch.no_grad()`` and puts it back in the mode it found it in, so the run
takes exactly the steps it takes without it.

Example::

    recorder = TrainingRecorder(images, S=4, B=2, C=3, every=10)
    recorder.snapshot(0, model)  # the untrained model
    history = train(model, loader, loss, steps=300, callback=recorder)
    recording = recorder.as_dict()
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._checks import describe, require_finite, require_float, require_nonnegative_number, require_positive_int, shape_str
from .loss import LossTerms
from .metrics import detections_from_predictions

__all__ = ["TERMS", "TrainingRecorder", "objectness_map", "snapshot_of", "trailing_mean"]

TERMS = ("total", "box", "obj", "noobj", "cls")


def objectness_map(pred: Tensor, B: int) -> Tensor:
    """Each cell's largest confidence over its B predictors.

    Args:
        pred: ``Tensor[N, S, S, B*5 + C]``; the confidences are entries ``4, 9, ..., 5B - 1``.
        B: predictors per cell.

    Returns:
        ``Tensor[N, S, S]``, detached.
    """
    B = require_positive_int("B", B)
    pred = require_float("pred", pred)
    if pred.dim() != 4 or pred.shape[1] != pred.shape[2] or pred.shape[-1] < 5 * B:
        raise ValueError(f"pred must be [N, S, S, B*5 + C] with B = {B}, got {shape_str(pred.shape)}")
    confidences = pred.detach()[..., 4 : 5 * B : 5]  # [N, S, S, B]
    return confidences.amax(dim=-1)


def _rounded(values: list, digits: int) -> list:
    return [round(float(v), digits) for v in values]


def snapshot_of(
    pred: Tensor,
    S: int,
    B: int,
    C: int,
    *,
    score_threshold: float = 0.3,
    iou_threshold: float = 0.5,
    max_detections: int | None = 10,
    wh: str = "predicted_sqrt",
    digits: int = 3,
) -> dict:
    """The detections and the objectness map of a prediction, as plain rounded numbers.

    Args:
        pred: ``Tensor[N, S, S, B*5 + C]``.
        S, B, C: the grid, predictors per cell and classes.
        score_threshold, iou_threshold, max_detections, wh: as in
            :func:`yolo_lesson.metrics.detections_from_predictions`.
        digits: decimals kept for boxes and scores (the objectness keeps 2).

    Returns:
        ``{"detections": N lists of [x1, y1, x2, y2, score, label], "objectness": N lists of
        S·S values, row by row}``.
    """
    S, B, C = (require_positive_int(n, v) for n, v in (("S", S), ("B", B), ("C", C)))
    pred = require_float("pred", pred)
    if pred.dim() != 4 or tuple(pred.shape[1:]) != (S, S, B * 5 + C):
        raise ValueError(
            f"pred must be [N, S, S, B*5 + C] = [N, {S}, {S}, {B * 5 + C}], got {shape_str(pred.shape)}"
        )
    require_finite("pred", pred)
    found = detections_from_predictions(
        pred, S=S, B=B, C=C, score_threshold=score_threshold, iou_threshold=iou_threshold,
        max_detections=max_detections, wh=wh,
    )
    detections = [
        [_rounded(box, digits) + [round(float(score), digits), int(label)]
         for box, score, label in zip(d["boxes"].tolist(), d["scores"].tolist(), d["labels"].tolist())]
        for d in found
    ]
    objectness = [_rounded(grid, 2) for grid in objectness_map(pred, B).flatten(1).tolist()]  # [N, S*S]
    return {"detections": detections, "objectness": objectness}


def trailing_mean(values: list[float], k: int) -> list[float]:
    """The mean of each value and the up to ``k - 1`` values before it (one output per input)."""
    k = require_positive_int("k", k)
    out, window = [], 0.0
    for i, value in enumerate(values):
        window += value
        if i >= k:
            window -= values[i - k]
        out.append(window / min(i + 1, k))
    return out


class TrainingRecorder:
    """The ``callback`` of :func:`yolo_lesson.train.train` that records a training replay.

    Args:
        images: ``Tensor[M, 3, H, W]``, the fixed images the model is shown at each snapshot
            (held out from training, so that the replay shows what it generalizes to).
        S, B, C: the model's grid, predictors per cell and classes.
        every: a snapshot after every ``every``-th step (and at any step :meth:`snapshot` is
            called for, e.g. 0 before training).
        score_threshold, iou_threshold, max_detections, wh: which detections are kept, as in
            :func:`yolo_lesson.metrics.detections_from_predictions` (0.3: the lesson's pictures).
        digits: decimals kept for boxes and scores; the objectness keeps 2, the loss terms 4
            significant digits.

    Attributes:
        steps: the steps whose terms were recorded, increasing (1 is the first step).
        terms: ``{name: [value at each of steps]}`` for ``total, box, obj, noobj, cls``.
        frames: the snapshots, ``{"step", "detections", "objectness"}`` (see :func:`snapshot_of`),
            in the order taken.
    """

    def __init__(
        self,
        images: Tensor,
        *,
        S: int,
        B: int,
        C: int,
        every: int = 10,
        score_threshold: float = 0.3,
        iou_threshold: float = 0.5,
        max_detections: int | None = 10,
        wh: str = "predicted_sqrt",
        digits: int = 3,
    ) -> None:
        images = require_float("images", images)
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be [M, 3, H, W], got {shape_str(images.shape)}")
        require_finite("images", images)
        self.images = images
        self.S, self.B, self.C = (require_positive_int(n, v) for n, v in (("S", S), ("B", B), ("C", C)))
        self.every = require_positive_int("every", every)
        self.options = dict(
            score_threshold=require_nonnegative_number("score_threshold", score_threshold),
            iou_threshold=require_nonnegative_number("iou_threshold", iou_threshold),
            max_detections=None if max_detections is None else require_positive_int("max_detections", max_detections),
            wh=wh,
            digits=require_positive_int("digits", digits),
        )
        self.steps: list[int] = []
        self.terms: dict[str, list[float]] = {name: [] for name in TERMS}
        self.frames: list[dict] = []

    def __repr__(self) -> str:
        return (f"TrainingRecorder({self.images.shape[0]} images, every={self.every}, "
                f"{len(self.steps)} steps, {len(self.frames)} snapshots)")

    def __call__(self, step: int, model: nn.Module, terms: LossTerms) -> None:
        """Records ``terms`` of ``step``, and a snapshot when ``step`` is a multiple of ``every``."""
        step = self._check_step(step, self.steps, "a step whose terms")
        if not isinstance(terms, LossTerms):
            raise ValueError(f"terms must be the LossTerms of the step, got {describe(terms)} (a loss returning one number has no terms to replay)")
        values = {name: float(getattr(terms, name).detach()) for name in TERMS}
        self.steps.append(step)
        for name, value in values.items():
            self.terms[name].append(float(f"{value:.4g}"))
        if step % self.every == 0:
            self.snapshot(step, model)

    def snapshot(self, step: int, model: nn.Module) -> dict:
        """Shows ``model`` the images (``eval()``, no gradient) and records what it sees at
        ``step``; returns that frame."""
        step = self._check_step(step, [f["step"] for f in self.frames], "a snapshot")
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {describe(model)}")
        was_training = model.training
        try:
            with torch.no_grad():
                pred = model.eval()(self.images)
        finally:
            model.train(was_training)
        options = dict(self.options)
        frame = {"step": step, **snapshot_of(pred, self.S, self.B, self.C, **options)}
        self.frames.append(frame)
        return frame

    @staticmethod
    def _check_step(step: object, before: list[int], what: str) -> int:
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be an int >= 0, got {describe(step)}")
        if before and step <= before[-1]:
            raise ValueError(f"step must increase: {what} of step {before[-1]} is recorded already, got step {step}")
        return step

    def as_dict(self, smooth: int = 10) -> dict:
        """Everything recorded, as plain numbers: the settings, ``steps``, ``terms``, ``frames``
        and ``smoothed``: each term's :func:`trailing_mean` over ``smooth`` steps at the steps
        of the frames (``None`` for a frame before the first step), 4 significant digits."""
        smooth = require_positive_int("smooth", smooth)
        at = {step: i for i, step in enumerate(self.steps)}
        means = {name: trailing_mean(values, smooth) for name, values in self.terms.items()}
        return {
            "S": self.S, "B": self.B, "C": self.C, "every": self.every,
            "score_threshold": self.options["score_threshold"],
            "steps": list(self.steps),
            "terms": {name: list(values) for name, values in self.terms.items()},
            "smoothed": {
                name: [float(f"{values[at[f['step']]]:.4g}") if f["step"] in at else None for f in self.frames]
                for name, values in means.items()
            },
            "frames": [dict(frame) for frame in self.frames],
        }
