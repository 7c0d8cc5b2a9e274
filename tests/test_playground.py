"""The widgets' state functions (yolo_lesson.playground) and their Python views.

Every number a widget shows is checked here against a computation written in the test: the
loss on a prediction tensor built by hand, autograd called directly, hand formulas."""

from __future__ import annotations

import math
import random
import re

import pytest
import torch

from yolo_lesson import playground
from yolo_lesson.boxes import ciou, diou, giou, iou
from yolo_lesson.grid import encode_targets
from yolo_lesson.loss import yolo_v1_loss

TRUTH = (0.30, 0.28, 0.62, 0.72)
PREDS = [(0.34, 0.34, 0.60, 0.66), (0.10, 0.14, 0.40, 0.44)]
CONFS = [0.6, 0.4]
SCORES = [0.7, 0.2, 0.1]


def _direct(truth, preds, confs, scores, label=0, S=7, **options):
    """The loss and its gradient, built without the playground: a [1, S, S, B*5+C] tensor
    with the object's cell filled in by hand, autograd on the whole tensor. The tensor's
    w, h are the roots of the drawn sizes under the default wh="predicted_sqrt"."""
    root = options.get("wh", "predicted_sqrt") == "predicted_sqrt"
    B, C = len(preds), len(scores)
    x1, y1, x2, y2 = truth
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    row, col = min(int(cy * S), S - 1), min(int(cx * S), S - 1)
    pred = torch.zeros(1, S, S, B * 5 + C, dtype=torch.float64)
    for b, ((px1, py1, px2, py2), conf) in enumerate(zip(preds, confs)):
        pred[0, row, col, b * 5 : b * 5 + 5] = torch.tensor(
            [(px1 + px2) / 2 * S - col, (py1 + py2) / 2 * S - row,
             math.sqrt(px2 - px1) if root else px2 - px1, math.sqrt(py2 - py1) if root else py2 - py1, conf],
            dtype=torch.float64,
        )
    pred[0, row, col, B * 5 :] = torch.tensor(scores, dtype=torch.float64)
    pred.requires_grad_(True)
    target = encode_targets(torch.tensor([[cx, cy, x2 - x1, y2 - y1]], dtype=torch.float64), torch.tensor([label]), S, C)
    terms = yolo_v1_loss(pred, target[None], S=S, B=B, C=C, **options)
    (grad,) = torch.autograd.grad(terms.total, pred)
    return type(terms)(*(t.detach() for t in terms)), grad[0, row, col], (row, col)


def test_box_playground_matches_the_loss_and_autograd_on_the_whole_tensor():
    view = playground.box_playground(TRUTH, PREDS, CONFS, SCORES)
    terms, grad, cell = _direct(TRUTH, PREDS, CONFS, SCORES)
    assert view.cell == cell == (3, 3)  # centre (0.46, 0.50) · 7 = (3.22, 3.5)
    for name in ("total", "box", "obj", "noobj", "cls"):
        assert view.terms[name] == pytest.approx(float(getattr(terms, name)), rel=1e-12)
    for b in range(2):
        for k, name in enumerate(("x", "y", "w", "h", "conf")):
            assert view.grads[b][name] == pytest.approx(float(grad[b * 5 + k]), abs=1e-12)
    assert view.class_grads == pytest.approx(grad[10:].tolist(), abs=1e-12)


def test_box_playground_hand_values():
    view = playground.box_playground(TRUTH, PREDS, CONFS, SCORES)
    # Predictor 1 (0.34..0.60 × 0.34..0.66) lies inside the object (0.30..0.62 × 0.28..0.72):
    # IoU = its area / the object's = 0.26·0.32 / (0.32·0.44) = 0.0832 / 0.1408.
    assert view.ious[0] == pytest.approx(0.0832 / 0.1408)
    assert view.responsible == 0
    # Predictor 2 is not responsible: its confidence 0.4 gets ∂/∂C = 2 · λ_noobj · 0.4 = 0.4,
    # its box nothing; noobj = λ_noobj · 0.4² = 0.08.
    assert view.grads[1] == {"x": 0.0, "y": 0.0, "w": 0.0, "h": 0.0, "conf": pytest.approx(0.4)}
    assert view.terms["noobj"] == pytest.approx(0.08)
    # x = cx · S - col: predicted 0.47 · 7 - 3 = 0.29, target 0.46 · 7 - 3 = 0.22;
    # ∂/∂x = 2 · λ_coord · (0.29 - 0.22) = 0.7; the centres share y, so ∂/∂y = 0.
    assert view.grads[0]["x"] == pytest.approx(0.7)
    assert view.grads[0]["y"] == pytest.approx(0.0, abs=1e-12)
    # cls = (0.7 - 1)² + 0.2² + 0.1² = 0.14.
    assert view.terms["cls"] == pytest.approx(0.14)
    assert view.terms["total"] == pytest.approx(sum(view.terms[t] for t in playground.TERMS))


def test_gradients_by_term_add_up_and_touch_their_own_outputs():
    view = playground.box_playground(TRUTH, PREDS, CONFS, SCORES)
    r = view.responsible
    for b in range(2):
        for k in ("x", "y", "w", "h", "conf"):
            total = sum(view.grads_by_term[t][b][k] for t in playground.TERMS)
            assert total == pytest.approx(view.grads[b][k], abs=1e-12)
    box, obj, noobj = (view.grads_by_term[t] for t in ("box", "obj", "noobj"))
    assert all(box[r][k] != 0 for k in ("x", "w", "h")) and box[r]["conf"] == 0
    assert obj[r]["conf"] != 0 and all(obj[r][k] == 0 for k in "xywh")
    assert noobj[1 - r]["conf"] != 0 and noobj[r]["conf"] == 0


@pytest.mark.parametrize("options", [
    dict(conf_target="one"), dict(wh="linear"), dict(wh="clamped_sqrt"), dict(wh="signed_sqrt"),
    dict(lambda_coord=1.0, lambda_noobj=2.0), dict(tie_break="first"),
])
def test_box_playground_options_reach_the_loss(options):
    view = playground.box_playground(TRUTH, PREDS, CONFS, SCORES, **options)
    terms, grad, _ = _direct(TRUTH, PREDS, CONFS, SCORES, **options)
    assert view.terms["total"] == pytest.approx(float(terms.total), rel=1e-12)
    assert view.grads[0]["w"] == pytest.approx(float(grad[2]), abs=1e-12)


def test_the_tensor_holds_roots_of_the_drawn_box_under_the_default():
    """Predictor 1 is drawn 0.26 × 0.32: the tensor holds √0.26, √0.32 (the paper's
    parametrization), or 0.26, 0.32 under the tutorial variants; the box is the same."""
    view = playground.box_playground(TRUTH, PREDS, CONFS, SCORES)
    assert view.wh == "predicted_sqrt"
    assert view.outputs[0]["w"] == pytest.approx(math.sqrt(0.26)) and view.outputs[0]["h"] == pytest.approx(math.sqrt(0.32))
    assert view.outputs[0]["x"] == pytest.approx(0.47 * 7 - 3) and view.outputs[0]["conf"] == 0.6
    linear = playground.box_playground(TRUTH, PREDS, CONFS, SCORES, wh="linear")
    assert linear.outputs[0]["w"] == pytest.approx(0.26) and linear.preds == view.preds
    # Same boxes, same IoUs under every mode.
    assert linear.ious == pytest.approx(view.ious)
    # ∂box/∂(√w) = 2 · λ_coord · (√0.26 - √0.32): the gradient in the tensor's own unit.
    assert view.grads[0]["w"] == pytest.approx(2 * 5 * (math.sqrt(0.26) - math.sqrt(0.32)))


def test_the_playground_picks_by_rmse_where_no_box_overlaps():
    """Neither predictor overlaps the object; predictor 2 is nearer: darknet's RMSE makes it
    responsible, tie_break="first" keeps predictor 1."""
    far, near = (0.80, 0.80, 0.95, 0.95), (0.64, 0.30, 0.74, 0.50)
    view = playground.box_playground(TRUTH, [far, near], CONFS, SCORES)
    assert view.ious == (0.0, 0.0) and view.responsible == 1
    assert playground.box_playground(TRUTH, [far, near], CONFS, SCORES, tie_break="first").responsible == 0


def test_arrows_point_against_the_gradient():
    view = playground.box_playground(TRUTH, PREDS, CONFS, SCORES)
    x0, y0, x1, y1 = view.centre_arrows[0]
    assert (x0, y0) == pytest.approx((0.47, 0.50))  # starts at predictor 1's centre
    assert x1 < x0 and y1 == pytest.approx(y0)  # ∂/∂x > 0, ∂/∂y = 0: descent moves it left
    sx0, sy0, sx1, sy1 = view.size_arrows[0]
    assert (sx0, sy0) == (0.60, 0.66) and sx1 > sx0 and sy1 > sy0  # grow: ∂/∂w, ∂/∂h < 0
    assert view.centre_arrows[1][:2] == view.centre_arrows[1][2:]  # no gradient, no arrow
    assert math.hypot(x1 - x0, y1 - y0) <= playground.ARROW_MAX


def test_responsibility_moves_with_the_boxes_and_ties_go_to_the_first():
    swapped = playground.box_playground(TRUTH, [PREDS[1], PREDS[0]], CONFS, SCORES)
    assert swapped.responsible == 1
    tie = playground.box_playground(TRUTH, [PREDS[0], PREDS[0]], CONFS, SCORES)
    assert tie.responsible == 0


@pytest.mark.parametrize("box, note", [
    ((0.6, 0.6, 0.2, 0.2), "crossed corners"),
    ((-0.2, 0.1, 0.3, 1.4), "outside the image"),
    ((0.5, 0.5, 0.5, 0.5), "shrank"),
    ((float("nan"), 0.1, 0.2, 0.3), "non-number"),
    ((0.1, 0.2), "non-number"),
    (None, "non-number"),
])
def test_pathological_boxes_are_repaired_and_named(box, note):
    repaired, notes = playground.repair_box(box, "the box")
    x1, y1, x2, y2 = repaired
    assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
    assert x2 - x1 >= playground.MIN_SIZE - 1e-12 and y2 - y1 >= playground.MIN_SIZE - 1e-12
    assert any(note in n and "the box" in n for n in notes), notes
    view = playground.box_playground(box, [box, PREDS[1]], CONFS, SCORES)
    assert all(math.isfinite(v) for v in view.terms.values())
    assert view.notes


def test_a_valid_box_is_left_alone():
    assert playground.repair_box(TRUTH) == (TRUTH, [])


def test_a_tiny_box_at_the_border_stays_inside():
    (x1, y1, x2, y2), _ = playground.repair_box((0.999, 0.0, 1.0, 0.001))
    assert x2 == pytest.approx(1.0) and x1 == pytest.approx(1 - playground.MIN_SIZE)
    assert y1 == pytest.approx(0.0) and y2 == pytest.approx(playground.MIN_SIZE)


def test_out_of_range_controls_are_clipped_and_named():
    view = playground.box_playground(
        TRUTH, PREDS, [5.0, float("nan")], [0.1, 0.2, 0.3], label=9, lambda_coord=-1,
        conf_target="sometimes", wh="cube", tie_break="coin",
    )
    text = " ".join(view.notes)
    for word in ("confidence 1", "confidence 2", "label", "λ_coord", "conf_target", "wh", "tie_break"):
        assert word in text
    assert all(math.isfinite(v) for v in view.terms.values())


def test_iou_playground_values_and_gradients():
    target, pred = (0.1, 0.1, 0.5, 0.5), (0.3, 0.3, 0.7, 0.7)
    view = playground.iou_playground(target, pred)
    # Overlap 0.2 × 0.2 = 0.04; union 0.16 + 0.16 - 0.04 = 0.28.
    assert view.values["iou"] == pytest.approx(0.04 / 0.28)
    t, p = torch.tensor(target, dtype=torch.float64), torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    for name, fn in (("iou", iou), ("giou", giou), ("diou", diou), ("ciou", ciou)):
        (g,) = torch.autograd.grad(1 - fn(p, t), p)
        assert view.values[name] == pytest.approx(float(fn(p, t).detach()))
        assert view.losses[name] == pytest.approx(1 - view.values[name])
        assert view.grads[name] == pytest.approx(tuple(g.tolist()), abs=1e-12)
        # The prediction is right of and below the target: every loss pulls it up and left.
        x0, y0, x1, y1 = view.arrows[name]
        assert x1 < x0 and y1 < y0


def test_iou_has_no_pull_on_disjoint_boxes_and_giou_diou_do():
    view = playground.iou_playground((0.1, 0.1, 0.3, 0.3), (0.6, 0.6, 0.8, 0.8))
    assert view.values["iou"] == 0 and view.grads["iou"] == (0.0, 0.0, 0.0, 0.0)
    for name in ("giou", "diou", "ciou"):
        x0, y0, x1, y1 = view.arrows[name]
        assert x1 < x0 and y1 < y0  # towards the target


def test_lambda_explorer_matches_autograd_and_is_linear_in_lambda():
    batch = playground.make_lambda_batch(N=4, seed=1)
    view = playground.lambda_explorer(batch, 5.0, 0.5)
    pred = batch.pred.clone().requires_grad_(True)
    terms = yolo_v1_loss(pred, batch.target, S=7, B=2, C=20)
    (g,) = torch.autograd.grad(terms.total, pred)
    assert view.terms["total"] == pytest.approx(float(terms.total.detach()))
    assert view.grad_norms["total"] == pytest.approx(float(g.norm()))
    # The terms touch disjoint outputs, so the squared norms add up to the total's.
    assert sum(view.grad_norms[t] ** 2 for t in playground.TERMS) == pytest.approx(view.grad_norms["total"] ** 2)
    doubled = playground.lambda_explorer(batch, 10.0, 1.0)
    assert doubled.terms["box"] == pytest.approx(2 * view.terms["box"])
    assert doubled.grad_norms["noobj"] == pytest.approx(2 * view.grad_norms["noobj"])
    assert doubled.terms["cls"] == pytest.approx(view.terms["cls"])
    # One responsible predictor per object cell; the no-object term covers all the others.
    assert view.empty_predictors == 4 * 7 * 7 * 2 - view.object_cells


def test_lambda_batch_is_deterministic():
    a, b = playground.make_lambda_batch(seed=3), playground.make_lambda_batch(seed=3)
    assert torch.equal(a.pred, b.pred) and torch.equal(a.target, b.target)
    assert not torch.equal(a.pred, playground.make_lambda_batch(seed=4).pred)


def test_thousands_of_random_drags_and_slider_moves_never_raise_or_give_nan():
    """A scripted learner: random drags, resizes, crossed corners, boxes thrown off the image
    and random slider values, fed to the state functions thousands of times."""
    rng = random.Random(0)
    truth, preds = list(TRUTH), [list(p) for p in PREDS]
    batch = playground.make_lambda_batch(N=2, seed=0)
    wild = lambda: rng.choice([rng.uniform(-0.5, 1.5), rng.uniform(0, 1), float("nan"), 1e9, -1e-9])  # noqa: E731
    for step in range(2000):
        box = rng.choice([truth, *preds])
        if rng.random() < 0.5:  # move
            dx, dy = rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3)
            box[:] = [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy]
        else:  # resize one corner, possibly past the other
            box[rng.choice([0, 2])] += rng.uniform(-0.5, 0.5)
            box[rng.choice([1, 3])] += rng.uniform(-0.5, 0.5)
        if rng.random() < 0.02:
            box[rng.randrange(4)] = wild()
        view = playground.box_playground(
            truth, preds, [wild(), rng.uniform(0, 1)], [rng.uniform(0, 1) for _ in range(3)],
            lambda_coord=rng.choice([0.0, 5.0, wild()]), lambda_noobj=rng.choice([0.0, 0.5, wild()]),
            conf_target=rng.choice(["iou", "one"]),
            wh=rng.choice(["predicted_sqrt", "signed_sqrt", "clamped_sqrt", "linear"]),
            tie_break=rng.choice(["rmse", "first"]),
        )
        numbers = [*view.terms.values(), *view.ious, *view.class_grads]
        numbers += [v for g in view.grads for v in g.values()] + [v for a in view.centre_arrows + view.size_arrows for v in a]
        numbers += [v for o in view.outputs for v in o.values()]
        assert all(math.isfinite(v) for v in numbers), (step, view)
        truth, preds = list(view.truth), [list(p) for p in view.preds]  # the widget keeps the repaired boxes
        if step % 10 == 0:
            iou_view = playground.iou_playground(truth, preds[0])
            assert all(math.isfinite(v) for v in (*iou_view.values.values(), *sum(iou_view.grads.values(), ())))
        if step % 100 == 0:
            lam = playground.lambda_explorer(batch, wild(), wild())
            assert all(math.isfinite(v) for v in (*lam.terms.values(), *lam.grad_norms.values()))


# ------------------------------------------------------------------ the widgets' Python side


def test_box_playground_widget_follows_a_drag_and_a_slider():
    widgets = pytest.importorskip("yolo_lesson.widgets")
    w = widgets.BoxPlayground()
    w.canvas.move_box(1, [0.40, 0.34, 0.66, 0.66])  # what the browser sends after a drag
    expected = playground.box_playground(TRUTH, [(0.40, 0.34, 0.66, 0.66), PREDS[1]], CONFS, SCORES)
    assert w.view.terms == expected.terms
    # The readout the browser formats: the package's numbers, rounded to the 4 decimals shown.
    assert w.canvas.readout["terms"]["total"] == round(expected.terms["total"], 4)
    assert w.canvas.readout["preds"][0]["grad"][0] == round(expected.grads[0]["x"], 4)
    w.lambda_coord.value = 7.0
    assert w.view.terms["box"] == pytest.approx(expected.terms["box"] * 7 / 5)
    assert w.canvas.readout["terms"]["box"] == round(w.view.terms["box"], 4)


def test_box_playground_widget_table_shows_the_tensor_and_the_box():
    """After a drag to a 0.25 × 0.36 box, the readout holds the box (0.25) and the tensor's
    entry (√0.25 = 0.5) under the default; the switch offers the four modes, and under
    "linear" the tensor's entry is the size itself."""
    widgets = pytest.importorskip("yolo_lesson.widgets")
    w = widgets.BoxPlayground()
    assert [value for _, value in w.wh.options] == ["predicted_sqrt", "signed_sqrt", "clamped_sqrt", "linear"]
    assert w.wh.value == "predicted_sqrt"
    w.canvas.move_box(1, [0.35, 0.30, 0.60, 0.66])
    shown = w.canvas.readout["preds"][0]
    assert shown["box"][2] == 0.25 and shown["tensor"][2] == 0.5
    assert shown["tensor"][3] == 0.6 and w.canvas.readout["rooted"]
    w.wh.value = "linear"
    assert w.canvas.readout["preds"][0]["tensor"][2] == 0.25 and not w.canvas.readout["rooted"]
    assert w.view.outputs[0]["w"] == pytest.approx(0.25)


def test_box_playground_widget_writes_back_repaired_boxes_and_says_so():
    widgets = pytest.importorskip("yolo_lesson.widgets")
    w = widgets.BoxPlayground()
    w.canvas.move_box(1, [0.9, 0.9, 1.6, 0.5])  # dragged off the image with crossed corners
    x1, y1, x2, y2 = w.canvas.boxes[1]["xyxy"]
    assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
    assert any("predictor 1" in n for n in w.canvas.readout["notes"])


def test_readouts_never_carry_negative_zero():
    """-0.0 would print as "-0.0000": the readout rounds and turns it into 0.0."""
    widgets = pytest.importorskip("yolo_lesson.widgets")
    w = widgets.BoxPlayground()  # predictor 1 sits at the object's height: ∂/∂y is (-)0
    numbers = [v for _, v in widgets._playgrounds._leaves(w.canvas.readout)]
    assert all(math.copysign(1, v) > 0 for v in numbers if v == 0)


# ------------------------------------------------------------------ recorded answers


def test_centre_grid_keeps_the_box_inside_and_passes_through_its_centre():
    # A 0.26 × 0.32 box centred at (0.47, 0.50), step 0.025: x from 0.145 (0.47 - 13 steps,
    # the lowest >= 0.13) to 0.87 (0.47 + 16 steps), y from 0.175 to 0.825 (±13 steps).
    xs, ys = playground.centre_grid((0.34, 0.34, 0.60, 0.66), 0.025)
    assert len(xs) == 30 and len(ys) == 27
    assert xs[0] == pytest.approx(0.145) and xs[-1] == pytest.approx(0.87)
    assert ys[0] == pytest.approx(0.175) and ys[-1] == pytest.approx(0.825)
    assert 0.47 in xs and 0.5 in ys
    assert all(b - a == pytest.approx(0.025) for a, b in zip(xs, xs[1:]))
    with pytest.raises(ValueError, match="step"):
        playground.centre_grid((0.3, 0.3, 0.6, 0.6), 0)
    # A box as wide as the image has one position.
    assert playground.centre_grid((0.0, 0.2, 1.0, 0.4), 0.1)[0] == (0.5,)


def test_recorded_box_playground_equals_the_playground_at_every_state():
    recording = playground.record_box_playground(TRUTH, PREDS, CONFS, SCORES, step=0.1, lambda_coord=3.0)
    assert len(recording.views) == len(recording.xs) * len(recording.ys) > 20
    w, h = PREDS[0][2] - PREDS[0][0], PREDS[0][3] - PREDS[0][1]
    for j, cy in enumerate(recording.ys):
        for i, cx in enumerate(recording.xs):
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)  # the size kept
            expected = playground.box_playground(TRUTH, [box, PREDS[1]], CONFS, SCORES, lambda_coord=3.0)
            got = recording.views[j * len(recording.xs) + i]
            assert got.notes == ()  # every recorded box lies inside the image
            assert got.preds[1] == expected.preds[1]
            assert got.preds[0] == pytest.approx(expected.preds[0], abs=1e-12)
            assert got.terms == pytest.approx(expected.terms, abs=1e-12)
            assert got.responsible == expected.responsible
            for g, e in zip(got.grads, expected.grads):
                assert g == pytest.approx(e, abs=1e-10)
    with pytest.raises(ValueError, match="moving"):
        playground.record_box_playground(TRUTH, PREDS, CONFS, SCORES, moving=2)


def test_recorded_iou_playground_equals_the_playground_at_every_state():
    target, pred = (0.20, 0.25, 0.55, 0.60), (0.45, 0.40, 0.85, 0.80)
    # Step 0.07: no grid position puts an edge exactly on the target's (a kink of IoU, where
    # the gradient depends on rounding). The 0.4 × 0.4 prediction's centre stays in
    # [0.2, 0.8]: x = 0.65 - 6·0.07 ... 0.65 + 2·0.07 (9 positions), y = 0.60 - 5·0.07 ...
    # 0.60 + 2·0.07 (8 positions).
    recording = playground.record_iou_playground(target, pred, step=0.07)
    assert len(recording.xs) == 9 and len(recording.ys) == 8
    for j, cy in enumerate(recording.ys):
        for i, cx in enumerate(recording.xs):
            expected = playground.iou_playground(target, (cx - 0.2, cy - 0.2, cx + 0.2, cy + 0.2))
            got = recording.views[j * 9 + i]
            assert got.values == pytest.approx(expected.values, abs=1e-12)
            for name in expected.arrows:
                assert got.arrows[name] == pytest.approx(expected.arrows[name], abs=1e-10)


def test_recorded_frames_unpack_to_the_live_frames_and_stay_small():
    """What the browser does with ``recorded`` (template, then the varying numbers at their
    paths), done here in Python: every recorded frame is the live widget's frame for that
    position. And the whole recording stays under 300 KB."""
    import json

    widgets = pytest.importorskip("yolo_lesson.widgets")
    for make, moving in ((lambda: widgets.BoxPlayground(record=True), 1),
                         (lambda: widgets.IoUPlayground(record=True), 1)):
        w = make()
        rec = w.canvas.recorded
        assert rec["moving"] == moving and "yolo-recorded" in w._dom_classes
        assert len(json.dumps(rec)) < 300_000
        values = json.loads(rec["values"])
        assert len(values) == len(rec["xs"]) * len(rec["ys"])
        start = w.canvas.boxes[moving]["xyxy"]
        # (Not len // 3: there the IoU playground's prediction has an edge on the target's, a
        # kink where the gradient depends on the last bit of the coordinates.)
        for k in (0, len(values) // 3 + 1, len(values) - 1):
            frame = json.loads(json.dumps(rec["template"]))
            for path, value in zip(rec["paths"], values[k]):
                target = frame
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = value
            i, j = k % len(rec["xs"]), k // len(rec["xs"])
            box = playground.box_at(start, rec["xs"][i], rec["ys"][j])
            w.canvas.move_box(moving, box)
            live = w.frame(w.view)
            assert frame["readout"] == live["readout"]
            for key in ("xyxy", "arrows"):
                for got, expected in zip(frame[key], live[key]):
                    assert got == pytest.approx(expected, abs=1e-6), key


def test_iou_and_lambda_widgets_update():
    widgets = pytest.importorskip("yolo_lesson.widgets")
    w = widgets.IoUPlayground()
    w.canvas.move_box(1, [0.7, 0.7, 0.9, 0.9])
    assert w.view.values["iou"] == 0 and w.canvas.readout["disjoint"] == 1
    lam = widgets.LambdaExplorer(playground.make_lambda_batch(N=2))
    before = lam.view.terms["noobj"]
    lam.lambda_noobj = 1.0
    assert lam.view.terms["noobj"] == pytest.approx(2 * before)
    assert lam.shown["terms"]["noobj"] == round(lam.view.terms["noobj"], 4)
