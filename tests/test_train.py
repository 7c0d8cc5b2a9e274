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
        ({"steps": 1, "callback": "print"}, "callback must be callable"),
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


# ---------------------------------------------------------------- nothing lost
# A learner's own loss, an interrupted run, a resumed run with other settings, a damaged file.


def _sqrt_at_zero_loss(pred, target):
    """Finite at every step, but √ of a predicted width that is exactly 0 at step 1 has an
    infinite derivative: d√w/dw = 1 / (2√w)."""
    terms = LOSS(pred, target)
    w = pred[..., 2] * (1 if len(calls) != 1 else 0)
    calls.append(1)
    return terms._replace(total=terms.total + 0.0 * torch.sqrt(w).sum())


calls: list = []


def test_a_finite_loss_with_nan_gradients_never_reaches_the_weights_or_the_checkpoint(tmp_path):
    calls.clear()
    model, path = _model(), tmp_path / "run.pt"
    with pytest.raises(FloatingPointError, match=r"gradient of features\.0\.0\.weight has \d+ NaN or Inf value\(s\) at step 1"):
        train(model, _loader(), _sqrt_at_zero_loss, steps=5, progress=False, checkpoint=path)
    reference = _model()
    train(reference, _loader(), LOSS, steps=1, progress=False)  # the one good step
    for (name, value), expected in zip(model.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(value, expected), name
    saved = torch.load(path, weights_only=True)  # the good step was kept, and only it
    assert saved["step"] == 1
    assert all(bool(torch.isfinite(v).all()) for v in saved["model"].values() if v.is_floating_point())


def test_a_scalar_loss_is_accepted():
    history = train(_model(), _loader(), lambda pred, target: LOSS(pred, target).total, steps=3, progress=False)
    assert len(history) == 3 and history.box == [] and all(math.isfinite(v) for v in history.total)


@pytest.mark.parametrize(
    "returned, message",
    [
        (lambda t: t.total.reshape(1, 1).expand(2, 2), "one-number floating-point tensor, got a tensor of shape \\[2, 2\\]"),
        (lambda t: t.total.detach().item(), "loss_fn must return LossTerms or a one-number floating-point tensor, got float"),
        (lambda t: t.total.detach(), "loss computed from the prediction"),
    ],
)
def test_a_loss_that_returns_something_else_is_refused(returned, message):
    with pytest.raises(ValueError, match=message):
        train(_model(), _loader(), lambda p, t: returned(LOSS(p, t)), steps=1, progress=False)


def test_the_model_is_in_eval_mode_after_a_keyboard_interrupt():
    def interrupted(pred, target):
        raise KeyboardInterrupt

    model = _model()
    with pytest.raises(KeyboardInterrupt):
        train(model, _loader(), interrupted, steps=2, progress=False)
    assert not model.training


def test_resume_applies_a_new_learning_rate(tmp_path):
    path = tmp_path / "run.pt"
    train(_model(), _loader(), LOSS, steps=2, lr=1e-3, progress=False, checkpoint=path)
    resumed = _model()
    train(resumed, _loader(), LOSS, steps=4, lr=1e-2, progress=False, checkpoint=path, resume=True)
    assert torch.load(path, weights_only=True)["optimizer"]["param_groups"][0]["lr"] == 1e-2
    # The same as a run that changed its rate by hand at step 2.
    manual = _model()
    train(manual, _loader(), LOSS, steps=2, lr=1e-3, progress=False, checkpoint=tmp_path / "m.pt")
    train(manual, _loader(), LOSS, steps=4, lr=1e-2, progress=False, checkpoint=tmp_path / "m.pt", resume=True)
    first_steps = train(_model(), _loader(), LOSS, steps=4, lr=1e-3, progress=False)
    for (name, value), other in zip(resumed.state_dict().items(), manual.state_dict().values()):
        assert torch.equal(value, other), name
    assert torch.load(path, weights_only=True)["history"]["total"][:2] == first_steps.total[:2]


def test_resume_continues_to_a_new_end_and_refuses_an_end_already_passed(tmp_path):
    path = tmp_path / "run.pt"
    train(_model(), _loader(), LOSS, steps=3, progress=False, checkpoint=path)
    assert len(train(_model(), _loader(), LOSS, steps=5, progress=False, checkpoint=path, resume=True)) == 5
    assert len(train(_model(), _loader(), LOSS, steps=5, progress=False, checkpoint=path, resume=True)) == 5  # done
    with pytest.raises(ValueError, match=r"steps must be at least the checkpoint's step \(5\) to resume, got 4"):
        train(_model(), _loader(), LOSS, steps=4, progress=False, checkpoint=path, resume=True)


def test_resume_refuses_another_batch_size(tmp_path):
    path = tmp_path / "run.pt"
    train(_model(), _loader(n=8, batch_size=4), LOSS, steps=1, progress=False, checkpoint=path)
    with pytest.raises(ValueError, match=r"loader must have the checkpoint's 2 batches per epoch to resume, got 4"):
        train(_model(), _loader(n=8, batch_size=2), LOSS, steps=2, progress=False, checkpoint=path, resume=True)
    with pytest.raises(ValueError, match=r"batch size must be the checkpoint's \(4\) to resume, got 3"):
        train(_model(), _loader(n=6, batch_size=3), LOSS, steps=2, progress=False, checkpoint=path, resume=True)


def _damaged(kind: str, path):
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        train(_model(), _loader(), LOSS, steps=1, progress=False, checkpoint=path)
        path.write_bytes(path.read_bytes()[:200])
    elif kind == "text":
        path.write_text("not a checkpoint")
    elif kind == "a bare state_dict":
        torch.save(_model().state_dict(), path)
    elif kind == "another model":
        other = TinyYolo(S, B, C, image_size=SIZE, width=8)
        torch.save({"model": other.state_dict(), "optimizer": {}, "step": 1, "seed": 0, "history": History().as_dict()}, path)
    elif kind == "NaN weights":
        state = _model().state_dict()
        state["head.bias"][0] = math.nan
        torch.save({"model": state, "optimizer": {}, "step": 1, "seed": 0, "history": History().as_dict()}, path)


@pytest.mark.parametrize(
    "kind, message",
    [
        ("empty", "a file torch cannot read"),
        ("truncated", "a file torch cannot read"),
        ("text", "a file torch cannot read"),
        ("a bare state_dict", "got a dict without \\['model', 'optimizer', 'step', 'seed', 'history'\\]"),
        ("another model", "must hold the weights of this model, got weights that do not fit"),
        ("NaN weights", "must hold finite weights, got NaN or Inf in head.bias"),
    ],
)
def test_a_bad_checkpoint_is_a_value_error_naming_the_file(tmp_path, kind, message):
    path = tmp_path / "run.pt"
    _damaged(kind, path)
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=rf"checkpoint {path}.*{message}"):
        train(model, _loader(), LOSS, steps=2, progress=False, checkpoint=path, resume=True)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # untouched


def test_checkpoints_are_written_atomically(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    train(_model(), _loader(), LOSS, steps=1, progress=False, checkpoint=path)
    good = path.read_bytes()

    def dies_while_writing(state, file):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt  # the kernel stopped in the middle of the save

    monkeypatch.setattr(torch, "save", dies_while_writing)
    with pytest.raises(KeyboardInterrupt):
        train(_model(), _loader(), LOSS, steps=3, progress=False, checkpoint=path, resume=True)
    assert path.read_bytes() == good  # the previous checkpoint is intact
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # no partial file left behind


def test_numpy_and_torch_integers_are_accepted_for_ints():
    np = pytest.importorskip("numpy")
    history = train(_model(), _loader(), LOSS, steps=np.int64(2), seed=torch.tensor(0), checkpoint_every=np.int32(1), progress=False)
    assert len(history) == 2


def test_the_callback_sees_every_step_its_terms_and_leaves_the_run_unchanged():
    calls = []

    def look(step, model, terms):
        # Evaluating the model (eval mode, no gradient) and drawing random numbers must not
        # change the run: every step reseeds torch.
        was_training = model.training
        with torch.no_grad():
            model.eval()(torch.rand(2, 3, SIZE, SIZE))
        model.train(was_training)
        calls.append((step, was_training, float(terms.total.detach())))

    plain_model, watched_model = _model(), _model()
    plain = train(plain_model, _loader(), LOSS, steps=5, progress=False)
    watched = train(watched_model, _loader(), LOSS, steps=5, progress=False, callback=look)
    assert plain.as_dict() == watched.as_dict()
    for a, b in zip(plain_model.state_dict().values(), watched_model.state_dict().values()):
        assert torch.equal(a, b)
    # called after each step, numbered from 1, in training mode, with that step's loss
    assert [c[0] for c in calls] == [1, 2, 3, 4, 5]
    assert all(c[1] for c in calls)
    assert [c[2] for c in calls] == watched.total
