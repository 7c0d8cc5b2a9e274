"""The course's interactive views: drag boxes, move λ sliders, watch the loss answer.

Each widget is a thin view over one pure function of :mod:`yolo_lesson.playground`: the
browser draws boxes and sends back their corners (:class:`BoxCanvas`, an anywidget with an
SVG surface), Python calls the package's real loss and autograd, and the widget shows the
numbers. No maths lives in JavaScript.

* :class:`BoxPlayground` — lessons 03 and 04: one object, the B predictors of its cell.
* :class:`IoUPlayground` — lesson 01: IoU, GIoU, DIoU, CIoU of two boxes.
* :class:`LambdaExplorer` — lesson 04: each term's share of the loss and of the gradient.
* :class:`AblationToggles` — lesson 05: a tutorial bug's recorded training curves and mAP beside
  the paper's (recorded ahead of time, so it answers on the website too).

They need a live Python kernel (JupyterLab, Binder, Colab); on a static page they show the
state they were saved with.
"""

from ._ablations import AblationToggles, ablation_figure
from ._common import LOSS_COLORS, PRED_COLORS, TERM_COLORS, TRUTH_COLOR
from ._lambda import LambdaExplorer, lambda_figure
from ._playgrounds import BoxCanvas, BoxPlayground, IoUPlayground

__all__ = ["AblationToggles", "ablation_figure", "BoxCanvas", "BoxPlayground", "IoUPlayground", "LambdaExplorer", "lambda_figure", "LOSS_COLORS", "TERM_COLORS"]
