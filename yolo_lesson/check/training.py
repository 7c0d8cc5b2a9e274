"""Checkers of lesson 06 (training a tiny YOLO): a resumed run, the empty batch, and
precision and recall at a score threshold."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch

from .core import Case, CheckResult, _show, compare_tensors, run_cases


def resumed_history(resumed: Any, in_one_go: Any, *, steps: int = 20, **run: Any) -> CheckResult:
    """Checks an answer: two :class:`yolo_lesson.train.History` of ``steps`` steps, one from a
    run interrupted by a checkpoint and resumed, one from a run in one go, that are equal."""

    def reference(steps):
        return steps

    def compare(expected, received):
        first, second = received
        for name, history in (("resumed", first), ("in_one_go", second)):
            if not hasattr(history, "as_dict"):
                return f"{name} must be the History that train returns, got a {type(history).__name__}"
            if len(history) != expected:
                return f"{name} has {len(history)} steps, not {expected}: give train steps={expected}"
        if first.as_dict() != second.as_dict():
            return ("the two histories differ: resume with the same model settings, loader, loss, lr "
                    "and seed, and pass the checkpoint file with resume=True")
        return None

    case = Case(f"a run of {steps} steps resumed from a checkpoint, against one in one go",
                "the checkpoint holds the model, the optimizer and the step count: resuming "
                "continues exactly where the first run stopped.", (steps,))
    return run_cases("resumed_history", (resumed, in_one_go), lambda: [case], reference, compare=compare,
                     arg_names=("steps",), call=lambda answer, *a: answer, expects_function=False,
                     show_received=lambda r: f"{len(r[0]) if hasattr(r[0], '__len__') else '?'} and "
                                             f"{len(r[1]) if hasattr(r[1], '__len__') else '?'} steps", **run)


def empty_batch(term: Any, history: Any, **run: Any) -> CheckResult:
    """Checks an answer about a batch without objects: ``term``, the name of the first term of
    the article's version 2 (:func:`yolo_lesson.article_losses.article_loss_smoothl1_bce`) that
    is not finite (the one ``train`` names in its error), and ``history``, one step of the
    paper's loss on that batch (box, obj and cls 0, noobj above 0)."""
    from ..article_losses import article_loss_smoothl1_bce

    def reference(S, C):
        gen = torch.Generator().manual_seed(0)
        pred = torch.rand(2, S, S, 5 + C, generator=gen)
        terms = article_loss_smoothl1_bce(pred, torch.zeros(2, S, S, 5 + C))
        return next(name for name in ("box", "obj", "noobj", "cls")
                    if not math.isfinite(float(getattr(terms, name))))

    def compare(expected, received):
        got_term, got_history = received
        if got_term != expected:
            return (f"term {got_term!r}, expected {expected!r}: which mean runs over the object "
                    "cells, and what is a mean over zero cells?")
        if not hasattr(got_history, "as_dict") or len(got_history) < 1:
            return "history must be the History of one training step with the paper's loss"
        h = got_history.as_dict()
        if not (h["box"][0] == h["obj"][0] == h["cls"][0] == 0.0 and h["noobj"][0] > 0):
            return ("with no objects the paper's box, obj and cls terms are 0 and only noobj is "
                    f"left; this history has box {h['box'][0]}, obj {h['obj'][0]}, noobj "
                    f"{h['noobj'][0]}, cls {h['cls'][0]}")
        return None

    case = Case("a batch without objects", "read the error of train: it names the term that "
                "became nan.", (7, 3))
    return run_cases("empty_batch", (term, history), lambda: [case], reference, compare=compare,
                     arg_names=("S", "C"), call=lambda answer, *a: answer, expects_function=False,
                     show_received=lambda r: repr(r[0]), **run)


def _pr_reference(detections, targets, threshold, num_classes):
    from ..metrics import match_detections

    correct = kept = 0
    total = sum(len(t["labels"]) for t in targets)
    for found, truth in zip(detections, targets):
        for c in range(num_classes):
            mine = (found["labels"] == c) & (found["scores"] > threshold)
            hits = match_detections(found["boxes"][mine], found["scores"][mine],
                                    truth["boxes"][truth["labels"] == c], iou_threshold=0.5)
            correct, kept = correct + int(hits.sum()), kept + int(mine.sum())
    return torch.tensor([correct / max(kept, 1), correct / max(total, 1)], dtype=torch.float64)


def _pr_cases() -> list[Case]:
    def det(boxes, scores, labels):
        return {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                "scores": torch.tensor(scores, dtype=torch.float32),
                "labels": torch.tensor(labels, dtype=torch.long)}

    def gt(boxes, labels):
        return {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                "labels": torch.tensor(labels, dtype=torch.long)}

    a, b = [0.1, 0.1, 0.4, 0.4], [0.5, 0.5, 0.9, 0.9]
    near_a = [0.12, 0.1, 0.42, 0.4]
    image = det([a, near_a, b, [0.6, 0.1, 0.8, 0.3]], [0.9, 0.6, 0.3, 0.7], [0, 0, 1, 1])
    truth = gt([a, b], [0, 1])
    return [
        Case("one image, threshold 0.5: a duplicate and a miss",
             "keep the detections whose score passes the threshold; a second detection of an "
             "object already found is a false positive (match_detections handles it).",
             ([image], [truth], 0.5, 2)),
        Case("the same image, threshold 0.1: every detection kept",
             "precision = correct / kept, recall = correct / number of objects.",
             ([image], [truth], 0.1, 2)),
        Case("a detection of the wrong class does not count",
             "match each class separately: detections of class c against the objects of class c.",
             ([det([a], [0.9], [1])], [gt([a], [0])], 0.5, 2)),
        Case("nothing passes the threshold: precision 0 (not 0 / 0), recall 0",
             "with nothing kept, return precision 0 by dividing by max(kept, 1).",
             ([image], [truth], 0.95, 2)),
        Case("two images", "add up correct, kept and objects over all images before dividing.",
             ([image, det([b], [0.8], [0])], [truth, gt([b, a], [0, 0])], 0.5, 2)),
    ]


def precision_recall_at(learner_fn: Callable[[Sequence, Sequence, float, int], tuple], **run: Any) -> CheckResult:
    """Checks ``learner_fn(detections, targets, threshold, num_classes) -> (precision, recall)``
    where ``detections`` and ``targets`` are lists of per-image dicts (``boxes`` ``xyxy``,
    ``scores``, ``labels``) and a kept detection (score > threshold) is correct when
    :func:`yolo_lesson.metrics.match_detections` (IoU 0.5) matches it within its class."""

    def compare(expected, received):
        try:
            got = torch.tensor([float(v) for v in received], dtype=torch.float64)
        except (TypeError, ValueError):
            return "return two numbers: (precision, recall)"
        return compare_tensors(expected, got, rtol=1e-9, atol=1e-12, tensor_only=False)

    return run_cases("precision_recall_at", learner_fn, _pr_cases, _pr_reference, compare=compare,
                     arg_names=("detections", "targets", "threshold", "num_classes"),
                     show_received=lambda r: _show(list(r)) if isinstance(r, (tuple, list)) else _show(r), **run)
