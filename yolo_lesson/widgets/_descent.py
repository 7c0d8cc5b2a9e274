"""The descent replay (lesson 08): one box trained by gradient descent under each box loss,
recorded in Python and replayed in the browser with a step scrubber."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from .. import landscape
from ..landscape_figures import LOSS_COLORS, LOSS_LABELS
from ._common import TRUTH_COLOR, _CSS, anywidget, traitlets

__all__ = ["DescentReplay"]


class DescentReplay(anywidget.AnyWidget):
    """Paths of a box trained by plain gradient descent from ``start`` under each loss of
    ``losses`` (:func:`yolo_lesson.landscape.descent_paths`), with a step scrubber and a play
    button.

    Every frame is computed when the widget is made and saved in the ``replay`` trait, so the
    replay needs no kernel to scrub: it works the same in JupyterLab and on the static website
    (CSS class ``yolo-recorded``).

    Args:
        truth: the object ``(x1, y1, x2, y2)``; start: the starting box.
        lr, steps, losses, S: as in :func:`~yolo_lesson.landscape.descent_paths`.
        note: a line shown under the table (what the learner should look for).

    Traits (synced): ``replay`` (:func:`~yolo_lesson.landscape.replay_state`'s dict), ``step``
    (the step shown; the scrubber writes it), ``size`` (the picture's side in pixels).
    """

    _esm = Path(__file__).parent / "js" / "descent_replay.js"
    _css = _CSS
    replay = traitlets.Dict().tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    size = traitlets.Int(360).tag(sync=True)

    def __init__(
        self,
        truth: Sequence[float],
        start: Sequence[float],
        *,
        lr: float | Mapping[str, float] | None = None,
        steps: int = 100,
        losses: Sequence[str] = landscape.DESCENT_LOSSES,
        S: int = 7,
        note: str = "",
        size: int = 360,
    ):
        self.paths = landscape.descent_paths(truth, start, lr=lr, steps=steps, losses=losses, S=S)
        state = landscape.replay_state(self.paths, truth, colors=LOSS_COLORS, labels=LOSS_LABELS)
        state |= {"truth_color": TRUTH_COLOR, "note": note, "label": "Descent replay: the object (dashed) and one box per loss"}
        super().__init__(replay=state, step=0, size=size)
        self.add_class("yolo-recorded")
        self.add_class("yolo-descent-replay")

    def __repr__(self) -> str:
        return f"DescentReplay({len(self.paths)} losses, {self.replay['steps']} steps)"

    def frame(self, step: int) -> dict[str, dict[str, float]]:
        """The numbers the replay shows at ``step``: per loss, its value, IoU and centre."""
        return {
            p["name"]: {"value": p["values"][step], "iou": p["ious"][step], "cx": p["centres"][step][0], "cy": p["centres"][step][1]}
            for p in self.replay["paths"]
        }
