"""Tests of yolo_lesson.replay: the recording behind lesson 06's training replay."""

from __future__ import annotations

import json

import pytest
import torch
from torch.utils.data import DataLoader

from yolo_lesson.data import ShapesDataset, YoloCollate
from yolo_lesson.loss import LossTerms, YoloV1Loss
from yolo_lesson.metrics import detections_from_predictions
from yolo_lesson.model import TinyYolo
from yolo_lesson.replay import TERMS, TrainingRecorder, objectness_map, snapshot_of, trailing_mean
from yolo_lesson.train import train

S, B, C, SIZE = 2, 2, 3, 16


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _model(seed=0):
    torch.manual_seed(seed)
    return TinyYolo(S, B, C, image_size=SIZE, width=4)


def _loader():
    data = list(ShapesDataset(8, SIZE, seed=0, objects=(1, 2), sizes=(0.3, 0.5)))
    return DataLoader(data, batch_size=4, shuffle=True, collate_fn=YoloCollate(S, C))


def _images(n=3):
    return torch.stack([ShapesDataset(n, SIZE, seed=1)[i][0] for i in range(n)])


LOSS = YoloV1Loss(S=S, B=B, C=C)


# ---------------------------------------------------------------- objectness map


def test_objectness_map_is_the_largest_confidence_of_each_cell_by_a_loop():
    torch.manual_seed(3)
    pred = torch.rand(2, 3, 3, 3 * 5 + 4)  # B = 3 predictors, C = 4 classes
    got = objectness_map(pred, B=3)
    assert got.shape == (2, 3, 3)
    for n in range(2):
        for row in range(3):
            for col in range(3):
                best = max(float(pred[n, row, col, 5 * b + 4]) for b in range(3))  # conf of predictor b
                assert float(got[n, row, col]) == best


def test_objectness_map_by_hand():
    # One cell, B = 2: confidences 0.2 (entry 4) and 0.7 (entry 9); the class scores (entries
    # 10, 11) are larger but are not confidences.
    pred = torch.tensor([0.1, 0.1, 0.3, 0.3, 0.2, 0.5, 0.5, 0.4, 0.4, 0.7, 0.9, 0.95]).reshape(1, 1, 1, 12)
    assert objectness_map(pred, B=2).tolist() == [[[pytest.approx(0.7)]]]


def test_objectness_map_of_no_images_is_empty():
    assert objectness_map(torch.zeros(0, 4, 4, 13), B=2).shape == (0, 4, 4)


@pytest.mark.parametrize(
    "pred, B, message",
    [
        (torch.zeros(1, 2, 2, 13), 0, "B must be a positive int"),
        (torch.zeros(1, 2, 2, 8), 2, r"pred must be \[N, S, S, B\*5 \+ C\] with B = 2, got \[1, 2, 2, 8\]"),
        (torch.zeros(2, 2, 13), 2, "pred must be"),
    ],
)
def test_objectness_map_bad_arguments(pred, B, message):
    with pytest.raises(ValueError, match=message):
        objectness_map(pred, B)


# ---------------------------------------------------------------- a snapshot


def test_snapshot_rounds_the_package_detections_and_keeps_plain_numbers():
    torch.manual_seed(0)
    pred = torch.rand(2, S, S, B * 5 + C)
    snap = snapshot_of(pred, S, B, C, score_threshold=0.1)
    reference = detections_from_predictions(pred, S=S, B=B, C=C, score_threshold=0.1, max_detections=10)
    for got, want in zip(snap["detections"], reference):
        assert len(got) == len(want["scores"])
        for row, box, score, label in zip(got, want["boxes"].tolist(), want["scores"].tolist(), want["labels"].tolist()):
            assert row[:4] == [round(v, 3) for v in box]
            assert row[4] == round(score, 3) and row[5] == label and isinstance(row[5], int)
    # row by row: cell (row, col) at row * S + col, to 2 decimals
    grids = objectness_map(pred, B)
    for n in range(2):
        for row in range(S):
            for col in range(S):
                assert snap["objectness"][n][row * S + col] == round(float(grids[n, row, col]), 2)
    json.dumps(snap)  # plain numbers: it goes into a notebook's widget state


def test_snapshot_rejects_a_prediction_of_another_layout():
    with pytest.raises(ValueError, match=r"pred must be \[N, S, S, B\*5 \+ C\] = \[N, 2, 2, 13\], got \[1, 2, 2, 12\]"):
        snapshot_of(torch.zeros(1, 2, 2, 12), S, B, C)
    with pytest.raises(ValueError, match="pred must be finite"):
        snapshot_of(torch.full((1, 2, 2, 13), float("nan")), S, B, C)


# ---------------------------------------------------------------- the recorder


def test_an_empty_recording():
    recorder = TrainingRecorder(_images(), S=S, B=B, C=C)
    data = recorder.as_dict()
    assert data["steps"] == [] and data["frames"] == []
    assert data["terms"] == {name: [] for name in TERMS} == data["smoothed"]


def test_a_snapshot_of_the_untrained_model_equals_the_package_on_its_output():
    model, images = _model(), _images()
    frame = TrainingRecorder(images, S=S, B=B, C=C).snapshot(0, model.train())
    assert model.training  # put back in the mode it was found in
    with torch.no_grad():
        pred = model.eval()(images)
    assert frame == {"step": 0, **snapshot_of(pred, S, B, C)}
    assert len(frame["detections"]) == len(frame["objectness"]) == 3
    assert all(len(grid) == S * S for grid in frame["objectness"])


def test_recorded_terms_equal_the_history_the_training_loop_logged():
    recorder = TrainingRecorder(_images(), S=S, B=B, C=C, every=2)
    model = _model()
    recorder.snapshot(0, model)
    history = train(model, _loader(), LOSS, steps=5, progress=False, callback=recorder)
    assert recorder.steps == [1, 2, 3, 4, 5]
    for name in TERMS:
        # step k's value is the k-th entry of the history, to 4 significant digits
        for k, value in zip(recorder.steps, recorder.terms[name]):
            assert value == pytest.approx(getattr(history, name)[k - 1], rel=5e-4)
    # snapshots at 0 (asked for) and at every second step
    assert [f["step"] for f in recorder.frames] == [0, 2, 4]


def test_recording_does_not_change_the_run_and_the_last_frame_is_the_trained_model():
    images = _images()
    plain_model, recorded_model = _model(), _model()
    plain = train(plain_model, _loader(), LOSS, steps=6, progress=False)
    recorder = TrainingRecorder(images, S=S, B=B, C=C, every=3)
    recorded = train(recorded_model, _loader(), LOSS, steps=6, progress=False, callback=recorder)
    assert plain.as_dict() == recorded.as_dict()
    with torch.no_grad():
        pred = plain_model.eval()(images)
    assert recorder.frames[-1] == {"step": 6, **snapshot_of(pred, S, B, C)}


def test_trailing_mean_by_hand():
    # windows of up to 2: [1], [1, 3], [3, 5], [5, 7]
    assert trailing_mean([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    assert trailing_mean([], 5) == []
    assert trailing_mean([2.0, 4.0], 10) == [2.0, 3.0]


def test_as_dict_is_plain_json_with_smoothed_terms():
    recorder = TrainingRecorder(_images(1), S=S, B=B, C=C, every=1)
    model = _model()
    recorder.snapshot(0, model)
    for step in (1, 2, 3):
        value = torch.tensor(float(step))
        recorder(step, model, LossTerms(total=4 * value, box=value, obj=value, noobj=value, cls=value))
    data = json.loads(json.dumps(recorder.as_dict(smooth=2)))
    assert data["terms"]["total"] == [4.0, 8.0, 12.0]
    # the trailing mean over 2 steps, at the frames' steps (none before the first step)
    assert data["smoothed"]["total"] == [None, 4.0, 6.0, 10.0]
    assert [f["step"] for f in data["frames"]] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"images": torch.zeros(2, 1, 16, 16)}, r"images must be \[M, 3, H, W\], got \[2, 1, 16, 16\]"),
        ({"images": torch.zeros(2, 3, 16, 16, dtype=torch.long)}, "images must be"),
        ({"every": 0}, "every must be a positive int"),
        ({"S": 0}, "S must be a positive int"),
        ({"score_threshold": -0.1}, "score_threshold must be"),
        ({"max_detections": 0}, "max_detections must be a positive int"),
    ],
)
def test_recorder_bad_arguments_name_themselves(kwargs, message):
    arguments = {"images": _images(1), "S": S, "B": B, "C": C, **kwargs}
    with pytest.raises(ValueError, match=message):
        TrainingRecorder(**arguments)


def test_recorder_bad_calls_name_the_argument():
    recorder = TrainingRecorder(_images(1), S=S, B=B, C=C, every=5)
    model = _model()
    recorder.snapshot(0, model)
    with pytest.raises(ValueError, match="step must increase: a snapshot of step 0 is recorded already, got step 0"):
        recorder.snapshot(0, model)
    with pytest.raises(ValueError, match="step must be an int >= 0, got -1"):
        recorder.snapshot(-1, model)
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        recorder.snapshot(1, "model")
    with pytest.raises(ValueError, match="terms must be the LossTerms of the step"):
        recorder(1, model, torch.tensor(1.0))
    with pytest.raises(ValueError, match="step must be an int >= 0, got 1.0"):
        recorder(1.0, model, None)
