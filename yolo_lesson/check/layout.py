"""Checkers of lesson 00 (start here): the layout of the network's output tensor."""

from __future__ import annotations

from typing import Any, Callable

from .core import Case, CheckResult, compare_exact, run_cases

_SIZES = [(7, 2, 20), (13, 3, 80), (1, 1, 1), (4, 1, 3), (19, 5, 0)]


def _numbers_reference(S, B, C):
    return S * S * (B * 5 + C)


_NUMBERS_CASES = [
    Case("the paper's layout S = 7, B = 2, C = 20 (1470 numbers)",
         "each of the S·S cells holds B boxes of 5 numbers (x, y, w, h, conf) and C class "
         "scores shared by its boxes: S·S·(5·B + C).", (7, 2, 20)),
    Case("13 × 13, B = 3, C = 80: the class scores are counted once per cell",
         "YOLOv1 has one set of C class scores per cell, not one per box: (5·B + C), not 5·B + B·C.",
         (13, 3, 80)),
    Case("S = 1, B = 1, C = 1", "one cell, one box (5 numbers) and one class score: 6.", (1, 1, 1)),
    Case("a grid of 4 with one box and 3 classes", "use S, B and C, not 7, 2, 20: S·S·(5·B + C).",
         (4, 1, 3)),
]


def numbers_per_image(learner_fn: Callable[[int, int, int], int], **run: Any) -> CheckResult:
    """Checks ``learner_fn(S, B, C) -> int``, the count of numbers the network outputs for one
    image: ``pred[0].numel()`` for a ``[N, S, S, B*5 + C]`` output."""
    return run_cases("numbers_per_image", learner_fn, lambda: _NUMBERS_CASES, _numbers_reference,
                     compare=compare_exact, arg_names=("S", "B", "C"), **run)


def _channels_reference(B):
    return [5 * b + 4 for b in range(B)]


_CHANNEL_CASES = [
    Case("B = 2: channels 4 and 9", "box b occupies channels 5·b to 5·b + 4, in the order "
         "(x, y, w, h, conf): its confidence is the last of the five, 5·b + 4.", (2,)),
    Case("B = 1: one confidence, channel 4", "return a list even for one box: [4].", (1,)),
    Case("B = 3", "one confidence per box, every 5 channels: [4, 9, 14]; the class scores "
         "come after all the boxes.", (3,)),
    Case("B = 5, as in YOLOv2's five anchors", "use the argument B, not a fixed 2.", (5,)),
]


def confidence_channels(learner_fn: Callable[[int], list], **run: Any) -> CheckResult:
    """Checks ``learner_fn(B) -> list[int]``, the channel indices of the B confidences in the
    last dimension of ``pred``."""
    return run_cases("confidence_channels", learner_fn, lambda: _CHANNEL_CASES, _channels_reference,
                     compare=compare_exact, arg_names=("B",), **run)


def _index_reference(row, col, b, S, B):
    from .. import grid
    import torch

    pred = torch.zeros(1, S, S, B * 5 + 1)
    pred[0, row, col, 5 * b + 4] = 1.0  # the one predictor with a confidence, decoded
    pred[..., B * 5] = 1.0
    return int(grid.decode_predictions(pred, S, B, 1).scores[0].argmax())


_INDEX_CASES = [
    Case("the first predictor of the first cell", "row 0, column 0, predictor 0 comes first: 0.",
         (0, 0, 0, 7, 2)),
    Case("predictor 1 of cell (0, 0)", "the predictors of a cell are next to each other: "
         "the index moves by 1 from one predictor to the next.", (0, 0, 1, 7, 2)),
    Case("cell (0, 1): columns before rows", "decode_predictions runs over rows, then "
         "columns, then predictors: (row·S + col)·B + b.", (0, 1, 0, 7, 2)),
    Case("cell (1, 0): one row is S cells of B predictors", "moving one row down skips "
         "S·B entries: (row·S + col)·B + b.", (1, 0, 0, 7, 2)),
    Case("the last predictor of a 13 × 13 grid with B = 3", "use S and B, not 7 and 2.",
         (12, 12, 2, 13, 3)),
]


def detection_index(learner_fn: Callable[[int, int, int, int, int], int], **run: Any) -> CheckResult:
    """Checks ``learner_fn(row, col, b, S, B) -> int``, the position of predictor ``b`` of cell
    ``(row, col)`` in the list of :func:`yolo_lesson.grid.decode_predictions`."""
    return run_cases("detection_index", learner_fn, lambda: _INDEX_CASES, _index_reference,
                     compare=compare_exact, arg_names=("row", "col", "b", "S", "B"), **run)
