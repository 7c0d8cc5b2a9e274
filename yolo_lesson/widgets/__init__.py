"""The course's interactive views: drag boxes, move λ sliders, scrub recorded runs.

Each widget is a thin view over one pure function of the package (mostly
:mod:`yolo_lesson.playground`): the browser draws what Python computed and sends back only
what the learner moved (box corners, a slider's value); Python calls the package's real loss
and autograd. No maths lives in JavaScript.

* :class:`BoxPlayground` — lessons 03 and 04: one object, the B predictors of its cell.
* :class:`IoUPlayground` — lesson 01: IoU, GIoU, DIoU, CIoU of two boxes.
* :class:`LambdaExplorer` — lesson 04: each term's share of the loss and of the gradient.
* :class:`AblationToggles` — lesson 05: a tutorial bug's recorded training curves and mAP
  beside the paper's.
* :class:`TrainingReplay` — lesson 06: a recorded training run, scrubbed step by step.
* :class:`DescentReplay` — lesson 08: a box trained under each box loss, recorded, with a
  step scrubber.

In JupyterLab, Binder or Colab they answer from the kernel. On a page without a kernel (the
website) a widget with the ``yolo-recorded`` class looks up answers the package recorded when
the lesson ran: the replays and toggles carry every frame, the λ explorer every slider
position on its grid, the playgrounds (built with ``record=True``) a grid of positions that a
dragged box snaps to.
"""

from ._ablations import AblationToggles, ablation_figure
from ._common import LOSS_COLORS, PRED_COLORS, TERM_COLORS, TRUTH_COLOR
from ._descent import DescentReplay
from ._lambda import LambdaExplorer, lambda_figure
from ._playgrounds import LOSS_STYLES, BoxCanvas, BoxPlayground, IoUPlayground, pack_frames
from ._training import TrainingReplay

__all__ = [
    "AblationToggles", "ablation_figure", "BoxCanvas", "BoxPlayground", "IoUPlayground", "LOSS_STYLES",
    "pack_frames", "LambdaExplorer", "lambda_figure", "DescentReplay", "TrainingReplay", "LOSS_COLORS",
    "TERM_COLORS",
]
