"""Tests of yolo_lesson.model (the output contract) and yolo_lesson.train (the training loop)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import DataLoader

from yolo_lesson.article_losses import article_loss_smoothl1_bce
from yolo_lesson.data import ShapesDataset, YoloCollate
from yolo_lesson.loss import LossTerms, YoloV1Loss
from yolo_lesson.model import TinyYolo
from yolo_lesson.train import TERMS, History, train

S, B, C, SIZE = 2, 2, 3, 16  # a grid of 2 × 2 on 16-pixel images: fast and enough to test with


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions run faster on one thread, and far faster on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---------------------------------------------------------------- model


@pytest.mark.parametrize("S, B, C, size", [(2, 2, 3, 16), (4, 1, 3, 64), (3, 2, 5, 24), (7, 2, 20, 56)])
def test_model_output_follows_the_tensor_contract(S, B, C, size):
    torch.manual_seed(0)
    pred = TinyYolo(S, B, C, image_size=size, width=4)(torch.rand(2, 3, size, size))
    assert pred.shape == (2, S, S, B * 5 + C)
    boxes = pred[..., : B * 5]  # (x, y, w, h, conf) × B: sigmoids, strictly inside (0, 1)
    assert bool(((boxes > 0) & (boxes < 1)).all())
    classes = pred[..., B * 5 :]  # a softmax: non-negative, summing to 1 in every cell
    assert bool((classes >= 0).all())
    torch.testing.assert_close(classes.sum(-1), torch.ones(2, S, S))


def test_each_cell_sees_its_own_part_of_the_image():
    # Changing the top-left quarter of the image must change the top-left cell's prediction
    # (row 0, col 0: the [n, row, col] indexing of the contract) more than the bottom-right one's.
    torch.manual_seed(0)
    model = TinyYolo(S=4, B=1, C=3, image_size=64, width=4).eval()
    image = torch.rand(1, 3, 64, 64)
    changed = image.clone()
    changed[..., :16, :16] = 1 - changed[..., :16, :16]  # exactly the pixels of cell (0, 0)
    with torch.no_grad():
        delta = (model(changed) - model(image)).abs().sum(-1)[0]  # [S, S]
    assert float(delta[0, 0]) > float(delta[3, 3])


@pytest.mark.parametrize("size", [4, 12, 18])  # with S = 4: ratios 1 (no halving), 3 and 4.5
def test_model_rejects_an_image_size_that_does_not_halve_to_S(size):
    with pytest.raises(ValueError, match="image_size must be S · 2\\^k"):
        TinyYolo(S=4, image_size=size)


def test_model_rejects_images_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"images must be \[N, 3, 16, 16\], got \[1, 3, 32, 32\]"):
        TinyYolo(S=2, image_size=16)(torch.rand(1, 3, 32, 32))


# ---------------------------------------------------------------- training


def _loader(n=8, batch_size=4, objects=(1, 2), shuffle=True):
    data = list(ShapesDataset(n, SIZE, seed=0, objects=objects, sizes=(0.3, 0.5)))
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, collate_fn=YoloCollate(S, C))


def _model(seed=0):
    torch.manual_seed(seed)
    return TinyYolo(S, B, C, image_size=SIZE, width=4)


LOSS = YoloV1Loss(S=S, B=B, C=C)


def test_a_few_steps_on_one_batch_reduce_the_loss():
    history = train(_model(), _loader(n=4, batch_size=4), LOSS, steps=40, lr=1e-2, progress=False)
    assert len(history) == 40
    # over-fitting 4 images: the last steps are far below the first
    assert sum(history.total[-5:]) / 5 < 0.5 * history.total[0]


def test_history_holds_every_term_and_they_add_up():
    history = train(_model(), _loader(), LOSS, epochs=2, progress=False)
    assert len(history) == 4  # 2 epochs × 2 batches
    assert set(history.as_dict()) == set(TERMS)
    for step in range(4):
        parts = history.box[step] + history.obj[step] + history.noobj[step] + history.cls[step]
        assert math.isclose(history.total[step], parts, rel_tol=1e-5)


def test_a_batch_without_objects_trains_only_the_noobj_term():
    history = train(_model(), _loader(objects=(0, 0)), LOSS, steps=3, progress=False)
    # no object: no responsible predictor, so box, obj and cls are sums over nothing
    assert history.box == history.obj == history.cls == [0.0, 0.0, 0.0]
    assert all(v > 0 and math.isfinite(v) for v in history.noobj)


def test_the_article_loss_on_an_empty_batch_stops_with_the_step_and_term():
    # Its object-confidence term is a mean over the (empty) object cells: 0 / 0 = NaN.
    model = TinyYolo(S, 1, C, image_size=SIZE, width=4)
    with pytest.raises(FloatingPointError, match=r"loss became nan at step 0 \(term: obj\)"):
        train(model, _loader(objects=(0, 0)), article_loss_smoothl1_bce, steps=2, progress=False)


def test_a_loss_that_blows_up_later_names_that_step_and_leaves_the_model_unchanged():
    calls = []

    def exploding(pred, target):
        terms = LOSS(pred, target)
        calls.append(1)
        if len(calls) == 3:  # the third call is step 2
            return terms._replace(box=terms.box + math.inf, total=terms.total + math.inf)
        return terms

    model = _model()
    with pytest.raises(FloatingPointError, match=r"loss became inf at step 2 \(term: box\)"):
        train(model, _loader(), exploding, steps=5, progress=False)
    # The model is exactly what two good steps make: weights and batch-norm statistics alike
    # (the forward pass of the bad step updated the statistics; they are put back).
    reference = _model()
    train(reference, _loader(), LOSS, steps=2, progress=False)
    for (name, value), expected in zip(model.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(value, expected), name
    assert not model.training


def test_same_seed_same_run_other_seed_other_data_order():
    first = train(_model(), _loader(), LOSS, steps=3, seed=1, progress=False)
    again = train(_model(), _loader(), LOSS, steps=3, seed=1, progress=False)
    other = train(_model(), _loader(), LOSS, steps=3, seed=2, progress=False)
    assert first.total == again.total
    assert first.total[1:] != other.total[1:]  # same initial weights, batches in another order


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path):
    # 8 images in batches of 4: 2 steps per epoch; 7 steps cross three epoch boundaries.
    reference_model = _model()
    reference = train(reference_model, _loader(), LOSS, steps=7, progress=False)

    calls = []

    def interrupted(pred, target):
        calls.append(1)
        if len(calls) == 6:  # during step 5, after the checkpoint of step 3
            raise KeyboardInterrupt
        return LOSS(pred, target)

    path = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        train(_model(), _loader(), interrupted, steps=7, progress=False, checkpoint=path, checkpoint_every=3)
    # saved after steps 0, 1, 2 (checkpoint_every), then on the interruption after steps 3, 4
    assert torch.load(path, weights_only=True)["step"] == 5

    resumed_model = _model(seed=99)  # other initial weights: the checkpoint must replace them
    resumed = train(resumed_model, _loader(), LOSS, steps=7, progress=False, checkpoint=path, resume=True)
    assert resumed.as_dict() == reference.as_dict()  # every term of every step, exactly
    for (name, value), expected in zip(resumed_model.state_dict().items(), reference_model.state_dict().values()):
        assert torch.equal(value, expected), name


def test_resume_without_a_checkpoint_file_starts_from_scratch(tmp_path):
    path = tmp_path / "new.pt"
    history = train(_model(), _loader(), LOSS, steps=2, progress=False, checkpoint=path, resume=True)
    assert len(history) == 2 and path.exists()


def test_resume_refuses_another_seed(tmp_path):
    path = tmp_path / "run.pt"
    train(_model(), _loader(), LOSS, steps=1, seed=0, progress=False, checkpoint=path)
    with pytest.raises(ValueError, match=r"seed must match the checkpoint's \(0\)"):
        train(_model(), _loader(), LOSS, steps=2, seed=1, progress=False, checkpoint=path, resume=True)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "give exactly one of epochs and steps"),
        ({"epochs": 1, "steps": 1}, "give exactly one of epochs and steps"),
        ({"steps": 0}, "steps must be a positive int"),
        ({"epochs": 1.5}, "epochs must be a positive int"),
        ({"steps": 1, "checkpoint_every": 0}, "checkpoint_every must be a positive int"),
        ({"steps": 1, "resume": True}, "resume=True needs a checkpoint path"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train(_model(), _loader(), LOSS, progress=False, **kwargs)


def test_history_append_reads_loss_terms():
    history = History()
    t = torch.tensor
    history.append(LossTerms(t(1.0), t(0.25), t(0.25), t(0.25), t(0.25)))
    assert history.as_dict() == {"total": [1.0], "box": [0.25], "obj": [0.25], "noobj": [0.25], "cls": [0.25]}
