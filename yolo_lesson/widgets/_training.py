"""The training replay (lesson 06): a recorded training run, scrubbed step by step.

Everything the view shows was recorded by :class:`yolo_lesson.replay.TrainingRecorder` during
the lesson's own training run and travels in the widget's state; the browser only looks up
the frame of the chosen step and draws its numbers. So the replay works the same in
JupyterLab and on the static website, where no Python kernel stands behind the page.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from ..data import SHAPE_CLASSES
from ..replay import TERMS, TrainingRecorder
from ..viz import PALETTE
from ._common import TERM_COLORS, anywidget, traitlets

__all__ = ["TrainingReplay", "png_data"]

# One colour per class for the predicted boxes (bright on the images' dark backgrounds), with a
# text colour readable on it; the true boxes are dashed white; the objectness heat map is sky
# blue, a colour no class uses. All from the course's colour-blind-safe palette.
CLASS_COLORS = (PALETTE[1], PALETTE[3], PALETTE[6])
CLASS_TEXT_COLORS = ("#ffffff", "#000000", "#000000")
OBJECTNESS_COLOR = PALETTE[5]
CURVE_COLORS = {"total": "#1a1a1a", **TERM_COLORS}

_CSS = """
.yolo-training-replay { font-size: 13px; max-width: 100%; }
.yolo-training-replay .yolo-replay-controls { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin: 4px 0 8px; }
.yolo-training-replay input[type=range] { flex: 1 1 220px; min-width: 180px; max-width: 520px; }
.yolo-training-replay .yolo-replay-panels { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.yolo-training-replay svg { max-width: 100%; height: auto; display: block; }
.yolo-training-replay .yolo-replay-right { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: flex-start; }
.yolo-training-replay .yolo-replay-found { max-width: 240px; margin-top: 4px; }
.yolo-training-replay .yolo-replay-readout, .yolo-training-replay .yolo-replay-readout * ,
.yolo-training-replay .yolo-replay-controls { color: var(--jp-content-font-color1, inherit); }
.yolo-training-replay table { border-collapse: collapse; }
.yolo-training-replay td { padding: 1px 6px; font-variant-numeric: tabular-nums; }
.yolo-training-replay td.num { text-align: right; font-family: monospace; }
"""


def png_data(image) -> str:
    """An image ``Tensor[3, H, W]`` in ``[0, 1]`` as a PNG ``data:`` URL (8 bits per channel)."""
    pixels = (image.detach().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()  # [H, W, 3]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="png", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class TrainingReplay(anywidget.AnyWidget):
    """A recorded training run: a step scrubber (slider and play button), the fixed images with
    that step's detections (a colour per class, score in the label) and the true boxes dashed,
    each cell's objectness (the largest confidence of its predictors) as a heat map over the
    image, and the loss terms over all steps with a cursor at the chosen one.

    Args:
        recorder: the :class:`yolo_lesson.replay.TrainingRecorder` of the run (or its
            ``as_dict()``); the images are the recorder's.
        truths: per image, ``(boxes Tensor[K, 4] xyxy, labels Tensor[K])``, drawn dashed.
        classes: the class names.

    Traits (synced): ``recording`` (the recorded numbers, images as PNG data), ``frame``
    (the index of the shown snapshot; the browser sets it while scrubbing).
    """

    _esm = Path(__file__).parent / "js" / "training_replay.js"
    _css = _CSS
    recording = traitlets.Dict().tag(sync=True)
    frame = traitlets.Int(0).tag(sync=True)

    def __init__(self, recorder: TrainingRecorder, truths, classes=SHAPE_CLASSES, frame: int | None = None):
        if not isinstance(recorder, TrainingRecorder):
            raise ValueError(f"recorder must be a TrainingRecorder, got {type(recorder).__name__}")
        data = recorder.as_dict()
        if len(truths) != recorder.images.shape[0]:
            raise ValueError(f"truths must give boxes and labels for each of the {recorder.images.shape[0]} images, got {len(truths)}")
        if not data["frames"]:
            raise ValueError("recorder must hold at least one snapshot, got none (call recorder.snapshot(0, model) before training)")
        data["images"] = [png_data(image) for image in recorder.images]
        data["truths"] = [
            [[round(float(v), 3) for v in box] + [int(label)] for box, label in zip(boxes.tolist(), labels.tolist())]
            for boxes, labels in truths
        ]
        data["classes"] = list(classes)
        data["class_colors"] = [CLASS_COLORS[k % len(CLASS_COLORS)] for k in range(len(classes))]
        data["term_colors"] = dict(CURVE_COLORS)
        data["class_text_colors"] = [CLASS_TEXT_COLORS[k % len(CLASS_COLORS)] for k in range(len(classes))]
        data["objectness_color"] = OBJECTNESS_COLOR
        data["term_names"] = list(TERMS)
        last = len(data["frames"]) - 1
        super().__init__(recording=data, frame=last if frame is None else max(0, min(int(frame), last)))
        # The replay answers from recorded numbers: on the website it works as in the lab.
        self.add_class("yolo-recorded")
        self.add_class("yolo-training-replay")

    def __repr__(self) -> str:
        frames = self.recording.get("frames", [])
        return f"TrainingReplay({len(frames)} snapshots, frame {self.frame})"

    def shown(self) -> dict:
        """What the view shows at the current ``frame``: the step, each term's loss at that
        step (None at step 0, before any step), and the number of detections per image."""
        data = self.recording
        frame = data["frames"][self.frame]
        step = frame["step"]
        terms = None
        if step in data["steps"]:
            at = data["steps"].index(step)
            terms = {name: data["terms"][name][at] for name in data["term_names"]}
        return {"step": step, "terms": terms, "detections": [len(d) for d in frame["detections"]]}
