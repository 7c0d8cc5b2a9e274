"""Exercise checkers: run a learner's function (or check a learner's answer) on hidden cases
and say what went wrong.

Each checker compares the learner's answers with the package's own functions on cases built to
catch one typical mistake each, and prints one line when every case passes, or the first
failing case with its inputs, the expected and received values, and a hint. One module per
lesson topic holds its checkers and their cases (:mod:`.core` is the runner)::

    from yolo_lesson import check

    check.iou(my_iou)   # prints "check.iou: all 9 cases pass." or the first failing case

Every checker returns a :class:`CheckResult`, true when every case passed, and accepts
``quiet=True`` (print nothing), ``strict=True`` (raise ``AssertionError`` after the report
when a case fails: grade cells under nbgrader do so automatically) and ``time_limit=`` (seconds
per case; a function running longer is reported as a probable endless loop).
"""

from .boxes import box_convert, ciou_by_hand, giou, iou, pairwise_iou, same_iou_different_giou
from .core import TIME_LIMIT, Case, CheckResult, compare_tensors, grading, run_cases
from .data import batch_of_step, parse_label_bytes
from .detections import average_precision, map_by_score_threshold, nms, overlapping_classes
from .gradients import balancing_lambda, responsible_switch, width_gradient
from .grid import collisions, encode_targets, encoded_cell, owning_cell
from .layout import confidence_channels, detection_index, numbers_per_image
from .loss import confidences_without_gradient, loss_term, yolo_v1_loss
from .modern import anchor_decode, decode_wh_v5, focal_loss, top_k_positives
from .robust import effective_weight_ratio, repaired_article_loss, safe_masked_mean
from .training import empty_batch, precision_recall_at, resumed_history

__all__ = [
    "Case", "CheckResult", "TIME_LIMIT", "compare_tensors", "grading", "run_cases",
    # 00
    "numbers_per_image", "confidence_channels", "detection_index",
    # 01
    "iou", "pairwise_iou", "giou", "box_convert", "ciou_by_hand", "same_iou_different_giou",
    # 02
    "owning_cell", "encoded_cell", "collisions", "encode_targets",
    # 03, 04
    "yolo_v1_loss", "loss_term", "confidences_without_gradient",
    "width_gradient", "responsible_switch", "balancing_lambda",
    # 05
    "safe_masked_mean", "effective_weight_ratio", "repaired_article_loss",
    # 06
    "resumed_history", "empty_batch", "precision_recall_at",
    # 07
    "nms", "average_precision", "overlapping_classes", "map_by_score_threshold",
    # 08
    "anchor_decode", "decode_wh_v5", "focal_loss", "top_k_positives",
    # 09
    "parse_label_bytes", "batch_of_step",
]
