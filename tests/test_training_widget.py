"""Tests of the training replay widget (yolo_lesson.widgets.TrainingReplay): a thin view
over a TrainingRecorder's numbers, small enough to save in a notebook."""

from __future__ import annotations

import base64
import io
import json

import numpy
import pytest
import torch

pytest.importorskip("anywidget")
from PIL import Image  # noqa: E402

from yolo_lesson.data import SHAPE_CLASSES, ShapesDataset  # noqa: E402
from yolo_lesson.loss import LossTerms  # noqa: E402
from yolo_lesson.model import TinyYolo  # noqa: E402
from yolo_lesson.replay import TrainingRecorder  # noqa: E402
from yolo_lesson.widgets import TrainingReplay  # noqa: E402
from yolo_lesson.widgets._training import png_data  # noqa: E402

S, B, C, SIZE = 2, 2, 3, 16


def _recorder(steps=4, every=2):
    items = [ShapesDataset(2, SIZE, seed=1)[n] for n in range(2)]
    recorder = TrainingRecorder(torch.stack([image for image, _, _ in items]), S=S, B=B, C=C, every=every)
    torch.manual_seed(0)
    model = TinyYolo(S, B, C, image_size=SIZE, width=4)
    recorder.snapshot(0, model)
    for step in range(1, steps + 1):
        value = torch.tensor(1.0 / step)
        recorder(step, model, LossTerms(total=4 * value, box=value, obj=value, noobj=value, cls=value))
    truths = [(torch.tensor([[0.1, 0.1, 0.5, 0.5]]), torch.tensor([1])), (torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))]
    return recorder, truths


def test_png_data_round_trips_the_pixels_to_8_bits():
    image = torch.rand(3, 5, 7)
    url = png_data(image)
    assert url.startswith("data:image/png;base64,")
    pixels = torch.from_numpy(numpy.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))).copy())  # [H, W, 3]
    expected = (image * 255).round().permute(1, 2, 0)
    assert torch.equal(pixels, expected.to(pixels.dtype))


def test_the_widget_carries_the_recording_and_is_marked_recorded():
    recorder, truths = _recorder()
    widget = TrainingReplay(recorder, truths)
    data = widget.recording
    assert "yolo-recorded" in widget._dom_classes  # answers on the website without a kernel
    assert data["frames"] == recorder.frames and data["terms"] == recorder.terms
    assert data["truths"] == [[[0.1, 0.1, 0.5, 0.5, 1]], []]
    assert data["classes"] == list(SHAPE_CLASSES) and len(data["images"]) == 2
    assert widget.frame == 2  # the last snapshot (steps 0, 2, 4)
    json.dumps(data)  # plain data: saved as widget state


def test_shown_looks_up_the_frame_and_the_logged_terms_of_its_step():
    recorder, truths = _recorder()
    widget = TrainingReplay(recorder, truths, frame=1)
    shown = widget.shown()
    # frame 1 is the snapshot of step 2, whose terms are those given at step 2: box = 1/2
    assert shown["step"] == 2
    assert shown["terms"] == {"total": 2.0, "box": 0.5, "obj": 0.5, "noobj": 0.5, "cls": 0.5}
    assert shown["detections"] == [len(d) for d in recorder.frames[1]["detections"]]
    widget.frame = 0
    assert widget.shown()["step"] == 0 and widget.shown()["terms"] is None  # before the first step


def test_the_lesson_sized_recording_stays_small():
    # Lesson 06: 4 images of 64 pixels, a snapshot every 5 of 300 steps. The state must stay
    # well under the ~300 KB a widget may add to a notebook; the bulk is the 4 PNGs (~13 KB
    # each in base64) and the 300 × 5 × 2 term values.
    items = [ShapesDataset(4, 64, seed=1)[n] for n in range(4)]
    recorder = TrainingRecorder(torch.stack([image for image, _, _ in items]), S=4, B=2, C=3, every=5)
    torch.manual_seed(0)
    model = TinyYolo(4, 2, 3, image_size=64, width=8)
    torch.manual_seed(1)
    for step in range(0, 301):
        value = torch.rand(()) + 0.01
        if step:
            recorder(step, model, LossTerms(total=4 * value, box=value, obj=value, noobj=value, cls=value))
        else:
            recorder.snapshot(0, model)
    widget = TrainingReplay(recorder, [(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))] * 4)
    assert len(json.dumps(widget.recording)) < 300_000


def test_bad_arguments_name_themselves():
    recorder, truths = _recorder()
    with pytest.raises(ValueError, match="recorder must be a TrainingRecorder, got dict"):
        TrainingReplay(recorder.as_dict(), truths)
    with pytest.raises(ValueError, match="truths must give boxes and labels for each of the 2 images, got 1"):
        TrainingReplay(recorder, truths[:1])
    empty = TrainingRecorder(recorder.images, S=S, B=B, C=C)
    with pytest.raises(ValueError, match="recorder must hold at least one snapshot, got none"):
        TrainingReplay(empty, truths)
