"""The λ explorer's recording: every state of the slider grid, as the website looks it up,
equals :func:`yolo_lesson.playground.lambda_explorer` at that λ, rounded as shown."""

from __future__ import annotations

import json

import pytest
import torch

from yolo_lesson import playground
from yolo_lesson.loss import yolo_v1_loss


@pytest.fixture(scope="module")
def batch():
    return playground.make_lambda_batch(N=3, seed=2)


@pytest.fixture(scope="module")
def recording(batch):
    return playground.record_lambda_explorer(batch)


def test_grid_is_the_sliders_grid(recording):
    # λ_coord 0..20 by 0.5 and λ_noobj 0..2 by 0.05: 41 values each, 1,681 states.
    assert recording.lambda_coord[:3] == (0.0, 0.5, 1.0) and recording.lambda_coord[-1] == 20.0
    assert recording.lambda_noobj[:3] == (0.0, 0.05, 0.1) and recording.lambda_noobj[-1] == 2.0
    assert len(recording.lambda_coord) == len(recording.lambda_noobj) == 41
    # Each grid value is the double a browser's range input reads from its decimal text.
    assert all(v == float(f"{v:g}") for v in recording.lambda_coord + recording.lambda_noobj)
    for table in (recording.terms, recording.grad_norms):
        assert set(table) == {"total", *playground.TERMS}
        assert all(len(values) == 41 * 41 for values in table.values())


def test_every_recorded_state_equals_the_state_function(batch, recording):
    unit = 10.0 ** -recording.decimals
    exact = 0
    for i, lc in enumerate(recording.lambda_coord):
        for j, ln in enumerate(recording.lambda_noobj):
            expected = playground.rounded_view(playground.lambda_explorer(batch, lc, ln))
            got = recording.at(i, j)
            for table in ("terms", "grad_norms"):
                for name, value in getattr(expected, table).items():
                    # The recording scales one backward pass at λ = 1; the state function runs
                    # the loss at each λ. The two differ by ~1e-15, which can move the 4th
                    # decimal of a number ending in ...5 by one unit, never more.
                    assert abs(getattr(got, table)[name] - value) <= unit * 1.0001, (lc, ln, table, name)
                    exact += getattr(got, table)[name] == value
            assert (got.object_cells, got.empty_predictors) == (expected.object_cells, expected.empty_predictors)
    assert exact >= 0.99 * 41 * 41 * 10


def test_recording_against_an_independent_loss_run(batch, recording):
    # λ_coord = 7.5 (index 15), λ_noobj = 1.25 (index 25): the loss and autograd called here
    # directly, the total gradient as one backward pass of the total.
    pred = batch.pred.clone().requires_grad_(True)
    terms = yolo_v1_loss(pred, batch.target, S=7, B=2, C=20, lambda_coord=7.5, lambda_noobj=1.25)
    (g,) = torch.autograd.grad(terms.total, pred)
    state = recording.at(15, 25)
    assert state.terms["total"] == round(float(terms.total.detach()), 4)
    assert state.grad_norms["total"] == pytest.approx(float(g.norm()), abs=1e-4)
    # The box term is linear in λ_coord: at λ_coord = 0 it vanishes with its gradient.
    zero = recording.at(0, 25)
    assert zero.terms["box"] == 0 and zero.grad_norms["box"] == 0
    assert zero.terms["cls"] == state.terms["cls"]


def test_numbers_keep_the_shown_decimals_and_stay_small(recording):
    for table in (recording.terms, recording.grad_norms):
        for values in table.values():
            assert all(v == round(v, 4) and v >= 0 for v in values)
    # The widget saves the recording in the notebook: it must stay well under 300 KB.
    size = len(json.dumps(playground.record_lambda_explorer(playground.make_lambda_batch()).to_json()))
    assert size < 200_000, size


def test_other_decimals_and_grids(batch):
    small = playground.record_lambda_explorer(batch, lambda_coord=[1, 2], lambda_noobj=[0.5], decimals=2)
    assert small.lambda_coord == (1.0, 2.0) and small.lambda_noobj == (0.5,)
    assert small.terms["total"] == (
        round(playground.lambda_explorer(batch, 1, 0.5).terms["total"], 2),
        round(playground.lambda_explorer(batch, 2, 0.5).terms["total"], 2),
    )
    # One grid point, no object: the empty target still records (only no-object terms).
    empty = playground.LambdaBatch(batch.pred[:1], torch.zeros_like(batch.target[:1]), 7, 2, 20)
    rec = playground.record_lambda_explorer(empty, [5.0], [0.5])
    assert rec.object_cells == 0 and rec.at(0, 0).terms["box"] == 0
    assert rec.at(0, 0).terms["total"] == round(playground.lambda_explorer(empty).terms["total"], 4)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"lambda_coord": []}, "lambda_coord"),
        ({"lambda_coord": [0, -1]}, "lambda_coord"),
        ({"lambda_coord": [1, 1]}, "lambda_coord"),
        ({"lambda_noobj": [0, float("nan")]}, "lambda_noobj"),
        ({"lambda_noobj": 3}, "lambda_noobj"),
        ({"lambda_noobj": "abc"}, "lambda_noobj"),
        ({"decimals": -1}, "decimals"),
        ({"decimals": 2.5}, "decimals"),
        ({"conf_target": "ones"}, "conf_target"),
    ],
)
def test_bad_input_names_the_argument(batch, kwargs, name):
    with pytest.raises(ValueError, match=name):
        playground.record_lambda_explorer(batch, **kwargs)


def test_bad_batch_names_the_argument():
    with pytest.raises(ValueError, match="batch must be a LambdaBatch"):
        playground.record_lambda_explorer(torch.zeros(1, 7, 7, 30))


def test_widget_answers_requests_and_carries_the_recording(batch):
    widgets = pytest.importorskip("yolo_lesson.widgets")
    lam = widgets.LambdaExplorer(batch)
    assert lam.shown["seq"] == 0 and lam.shown["terms"] == playground.rounded_view(lam.view).terms
    assert json.loads(lam.recording) == playground.record_lambda_explorer(batch).to_json()
    assert "yolo-recorded" in lam._dom_classes and "yolo-lambda-explorer" in lam._dom_classes
    # A browser request: both sliders and the request number in one message.
    lam.set_state({"lambda_coord": 7.5, "lambda_noobj": 1.25, "seq": 3})
    assert lam.shown["seq"] == 3 and (lam.shown["lambda_coord"], lam.shown["lambda_noobj"]) == (7.5, 1.25)
    assert lam.shown["terms"] == playground.record_lambda_explorer(batch).at(15, 25).terms
    # From Python: setting a slider trait answers too, under the same request number.
    lam.lambda_noobj = 0.5
    assert lam.shown["seq"] == 3 and lam.shown["lambda_noobj"] == 0.5
    assert lam.shown["terms"]["noobj"] == round(playground.lambda_explorer(batch, 7.5, 0.5).terms["noobj"], 4)


def test_lambda_figure_still_draws(batch):
    widgets = pytest.importorskip("yolo_lesson.widgets")
    import matplotlib.pyplot as plt

    fig = widgets.lambda_figure(playground.lambda_explorer(batch), playground.lambda_explorer(batch, 5.0, 1.0))
    left, right = fig.axes
    assert len(left.patches) == 8 and len(right.patches) == 8
    # The legend belongs to the figure, under the panels, not to a panel over its bars.
    assert left.get_legend() is None and len(fig.legends) == 1
    plt.close(fig)
