"""yolo_lesson: the helper package of the course "YOLO loss, from scratch".

One concept per module:

* :mod:`yolo_lesson.boxes`: box formats, area, pairwise ``box_iou``, elementwise ``iou``,
  ``giou``, ``diou``, ``ciou``;
* :mod:`yolo_lesson.grid`: YOLOv1 target encoding on the S×S grid and decoding of predictions;
* :mod:`yolo_lesson.loss`: ``YoloV1Loss`` and ``yolo_v1_loss``, returning ``LossTerms``;
* :mod:`yolo_lesson.article_losses`: the source article's three loss versions, flaws included;
* :mod:`yolo_lesson.modern`: later-YOLO pieces: anchors, BCE on logits, the ignore threshold,
  IoU-family box losses, focal loss, distribution focal loss, the task-aligned metric;
* :mod:`yolo_lesson.metrics`: NMS, precision-recall, AP and mAP;
* :mod:`yolo_lesson.data`: the synthetic shapes dataset and a reader for YOLO label folders;
* :mod:`yolo_lesson.model`, :mod:`yolo_lesson.train`: a tiny YOLO and its training loop;
* :mod:`yolo_lesson.playground`: what the widgets show, as pure functions;
* :mod:`yolo_lesson.widgets`: the interactive views (ipywidgets, anywidget);
* :mod:`yolo_lesson.check`: exercise checkers with targeted hints;
* :mod:`yolo_lesson.viz`: the drawings of the lessons.
"""

from .boxes import box_area, box_iou, ciou, cxcywh_to_xyxy, diou, giou, iou, xyxy_to_cxcywh
from .grid import assign_cells, decode_predictions, encode_batch, encode_targets
from .loss import LossTerms, YoloV1Loss, responsibility, yolo_v1_loss

__version__ = "0.1.0"

__all__ = [
    "box_area",
    "box_iou",
    "ciou",
    "cxcywh_to_xyxy",
    "diou",
    "giou",
    "iou",
    "xyxy_to_cxcywh",
    "assign_cells",
    "decode_predictions",
    "encode_batch",
    "encode_targets",
    "LossTerms",
    "YoloV1Loss",
    "responsibility",
    "yolo_v1_loss",
]
