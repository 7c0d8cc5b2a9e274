"""The course's interactive views: drag boxes, move λ sliders, watch the loss answer.

Each widget is a thin view over one pure function of :mod:`yolo_lesson.playground`: the
browser draws boxes and sends back their corners (:class:`BoxCanvas`, an anywidget with an
SVG surface), Python calls the package's real loss and autograd, and the widget shows the
numbers. No maths lives in JavaScript.

* :class:`BoxPlayground` — lessons 03 and 04: one object, the B predictors of its cell.
* :class:`IoUPlayground` — lesson 01: IoU, GIoU, DIoU, CIoU of two boxes.
* :class:`LambdaExplorer` — lesson 04: each term's share of the loss and of the gradient.
from ._playgrounds import LOSS_STYLES, BoxCanvas, BoxPlayground, IoUPlayground, pack_frames
from ._training import TrainingReplay

__all__ = [
    "BoxCanvas", "BoxPlayground", "IoUPlayground", "LOSS_STYLES", "pack_frames", "LambdaExplorer", "lambda_figure",
    "DescentReplay", "TrainingReplay", "LOSS_COLORS", "TERM_COLORS",
]
