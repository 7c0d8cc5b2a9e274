"""Loss landscapes and descent replays (yolo_lesson.landscape), against hand calculations,
single-image calls of the loss and finite differences."""

import math

import pytest
import torch

from yolo_lesson.boxes import giou, iou
from yolo_lesson.landscape import (
    DESCENT_LOSSES,
    DESCENT_LR,
    _descent_loss,
    descent_paths,
    iou_family_landscape,
    loss_landscape,
)
from yolo_lesson.loss import yolo_v1_loss

TRUTH = (0.30, 0.28, 0.62, 0.72)  # centre (0.46, 0.50), 0.32 x 0.44: cell (row 3, col 3) of S = 7
PREDS = ((0.34, 0.34, 0.60, 0.66), (0.10, 0.14, 0.40, 0.44))
S = 7


def _iou(a, b):
    return float(iou(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)))


def _box_at(cx, cy, w, h):
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


@pytest.fixture(scope="module")
def centre():
    return loss_landscape(TRUTH, PREDS, grid=5, arrows=3)


def test_landscape_values_equal_the_paper_formula_by_hand(centre):
    # Every point, by hand: the responsible predictor is the one of higher IoU (the RMSE
    # fallback is not needed: predictor 2 always overlaps the object a little).
    tx, ty, tw, th = 0.46 * S - 3, 0.50 * S - 3, 0.32, 0.44
    w1, h1 = 0.26, 0.32
    second = PREDS[1]
    for i, cy in enumerate(centre.ys.tolist()):
        for j, cx in enumerate(centre.xs.tolist()):
            first = _box_at(cx, cy, w1, h1)
            ious = (_iou(first, TRUTH), _iou(second, TRUTH))
            assert ious[1] > 0
            r = 0 if ious[0] >= ious[1] else 1
            x, y, w, h = ((cx * S - 3, cy * S - 3, w1, h1), (0.25 * S - 3, 0.29 * S - 3, 0.30, 0.30))[r]
            box = 5 * ((x - tx) ** 2 + (y - ty) ** 2 + (math.sqrt(w) - math.sqrt(tw)) ** 2 + (math.sqrt(h) - math.sqrt(th)) ** 2)
            obj = ((0.6, 0.4)[r] - ious[r]) ** 2
            noobj = 0.5 * (0.6, 0.4)[1 - r] ** 2
            assert int(centre.responsible[i, j]) == r
            for name, value in (("box", box), ("obj", obj), ("noobj", noobj), ("total", box + obj + noobj)):
                assert float(centre.terms[name][i, j]) == pytest.approx(value, rel=1e-9, abs=1e-12), (name, i, j)


def test_landscape_gradients_equal_the_chain_rule_and_single_image_calls(centre):
    # Where predictor 1 is responsible, d box / d cx = 2 λ_coord (x - x̂) · S (x = cx · S - col).
    # The obj target (the IoU) is detached and no confidence moves with the box: obj and
    # noobj send no gradient to the centre at all, anywhere.
    for i, cy in enumerate(centre.arrow_ys.tolist()):
        for j, cx in enumerate(centre.arrow_xs.tolist()):
            first = _box_at(cx, cy, 0.26, 0.32)
            responsible = _iou(first, TRUTH) >= _iou(PREDS[1], TRUTH)
            expected = [2 * 5 * (cx - 0.46) * S * S, 2 * 5 * (cy - 0.50) * S * S] if responsible else [0.0, 0.0]
            torch.testing.assert_close(centre.grads["box"][i, j], torch.tensor(expected, dtype=torch.float64))
            torch.testing.assert_close(centre.grads["total"][i, j], centre.grads["box"][i, j])
    assert float(centre.grads["obj"].abs().max()) == 0.0
    assert float(centre.grads["noobj"].abs().max()) == 0.0
    # The batched gradient of one point equals one image's own call of the loss.
    point = torch.tensor([float(centre.arrow_xs[2]), float(centre.arrow_ys[0])], dtype=torch.float64, requires_grad=True)
    pred = torch.zeros(1, S, S, 11, dtype=torch.float64)
    cell = torch.stack([point[0] * S - 3, point[1] * S - 3, torch.tensor(0.26).double().sqrt(), torch.tensor(0.32).double().sqrt(),
                        torch.tensor(0.6).double(), torch.tensor(0.25 * S - 3).double(), torch.tensor(0.29 * S - 3).double(),
                        torch.tensor(0.3).double().sqrt(), torch.tensor(0.3).double().sqrt(), torch.tensor(0.4).double(), torch.tensor(1.0).double()])
    pred = pred.index_put((torch.tensor([0]), torch.tensor([3]), torch.tensor([3])), cell[None])
    target = torch.zeros(1, S, S, 6, dtype=torch.float64)
    target[0, 3, 3] = torch.tensor([0.46 * S - 3, 0.5 * S - 3, 0.32, 0.44, 1, 1])
    (alone,) = torch.autograd.grad(yolo_v1_loss(pred, target, C=1).total, point)
    torch.testing.assert_close(centre.grads["total"][0, 2], alone)


def test_responsibility_switches_inside_the_centre_landscape():
    land = loss_landscape(TRUTH, PREDS, grid=21, arrows=2)
    # Both predictors answer somewhere in the picture (the boundary is inside it), and at each
    # point the one that answers is the one of higher IoU, by brute force.
    assert bool((land.responsible == 0).any()) and bool((land.responsible == 1).any())
    for i, cy in enumerate(land.ys.tolist()):
        for j, cx in enumerate(land.xs.tolist()):
            expected = 0 if _iou(_box_at(cx, cy, 0.26, 0.32), TRUTH) >= _iou(PREDS[1], TRUTH) else 1
            assert int(land.responsible[i, j]) == expected
    assert land.terms["total"].dtype == torch.float64


def test_size_landscape_gradient_is_the_chain_rule_through_the_root():
    land = loss_landscape(TRUTH, PREDS, over="size", grid=3, arrows=3, x_range=(0.2, 0.4), y_range=(0.3, 0.5))
    # Predictor 1 stays at its centre (0.47, 0.50), inside the object: it is responsible for
    # every one of these sizes, and d box / d w = 2 λ (√w - √ŵ) / (2 √w).
    for i, h in enumerate(land.arrow_ys.tolist()):
        for j, w in enumerate(land.arrow_xs.tolist()):
            assert int(land.responsible[i, j]) == 0
            expected = [5 * (math.sqrt(w) - math.sqrt(0.32)) / math.sqrt(w), 5 * (math.sqrt(h) - math.sqrt(0.44)) / math.sqrt(h)]
            torch.testing.assert_close(land.grads["box"][i, j], torch.tensor(expected, dtype=torch.float64))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(truth=(0.5, 0.5, 0.5, 0.7)), "truth"),
        (dict(preds=PREDS[:1]), "preds"),
        (dict(preds=(PREDS[0], (0.4, 0.4, 0.3, 0.5))), "preds\\[1\\]"),
        (dict(over="corner"), "over"),
        (dict(grid=1), "grid"),
        (dict(arrows=0), "arrows"),
        (dict(confs=(0.5, float("nan"))), "confs"),
        (dict(x_range=(0.5, 0.2)), "x_range"),
        (dict(over="size", y_range=(0.0, 0.5)), "x_range and y_range"),
    ],
)
def test_landscape_bad_input_names_the_argument(kwargs, name):
    args = dict(truth=TRUTH, preds=PREDS) | kwargs
    with pytest.raises(ValueError, match=name):
        loss_landscape(args.pop("truth"), args.pop("preds"), **args)


def test_iou_family_landscape_iou_is_flat_exactly_where_the_boxes_do_not_overlap():
    truth = (0.4, 0.4, 0.6, 0.6)
    land = iou_family_landscape(truth, (0.2, 0.2), grid=21)
    zero_iou_grad = (land.grads["iou"] == 0).all(-1)
    # Centres on the grid lie 0.05 apart; a 0.2 box overlaps the object when both centre
    # distances are < 0.2, i.e. for 7 x 7 of the 21 x 21 points (0.35..0.65): the rest,
    # 1 - 49/441 = 0.889, is the plateau.
    assert int(land.overlap.sum()) == 49
    # Where the boxes are apart (a gap > 0: centre distance > 0.2 on some axis, so not the
    # ring of points at exactly 0.2 where the edges touch), the IoU has no gradient at all.
    distance = torch.maximum(*(torch.stack(torch.meshgrid(land.ys, land.xs, indexing="ij")) - 0.5).abs())
    apart = distance > 0.2 + 1e-9
    assert int(apart.sum()) == 441 - 81
    assert bool(zero_iou_grad[apart].all())
    # Where they overlap it has one, except at the maximum, the object's own place.
    assert torch.equal(zero_iou_grad[land.overlap], (distance < 1e-9)[land.overlap])
    # On the ring where edges touch (zero overlap) PyTorch's clamp passes a one-sided gradient,
    # except at its 4 corners, where both overlap sides are 0 and their product's gradient too:
    # 360 apart + 4 corners + the maximum.
    assert land.zero_gradient["iou"] == pytest.approx((360 + 4 + 1) / 441)
    assert float(land.losses["iou"][~land.overlap].min()) == 1.0
    # GIoU, DIoU and CIoU keep a gradient off the plateau (except at the object's own centre
    # for DIoU and CIoU, where it is a minimum, and GIoU where the hull is the union).
    for name in ("giou", "diou", "ciou"):
        assert bool((land.grads[name][~land.overlap] != 0).any(-1).all()), name
    # The values against the boxes module, point by point.
    cx, cy = float(land.xs[3]), float(land.ys[17])
    box = torch.tensor(_box_at(cx, cy, 0.2, 0.2), dtype=torch.float64)
    assert float(land.losses["giou"][17, 3]) == pytest.approx(1 - float(giou(box, torch.tensor(truth).double())))


def test_iou_family_gradient_equals_finite_differences():
    truth = (0.3, 0.35, 0.6, 0.6)
    land = iou_family_landscape(truth, (0.25, 0.15), grid=5, x_range=(0.2, 0.8), y_range=(0.2, 0.8))
    t = torch.tensor(truth, dtype=torch.float64)
    eps = 1e-6
    for name, fn in (("iou", iou), ("giou", giou)):
        for i, j in ((1, 1), (2, 3), (4, 0)):
            cx, cy = float(land.xs[j]), float(land.ys[i])
            f = lambda x, y: 1 - float(fn(torch.tensor(_box_at(x, y, 0.25, 0.15), dtype=torch.float64), t))  # noqa: E731
            numeric = [(f(cx + eps, cy) - f(cx - eps, cy)) / (2 * eps), (f(cx, cy + eps) - f(cx, cy - eps)) / (2 * eps)]
            torch.testing.assert_close(land.grads[name][i, j], torch.tensor(numeric, dtype=torch.float64), atol=1e-6, rtol=1e-5)


def test_iou_family_landscape_bad_input():
    with pytest.raises(ValueError, match="size"):
        iou_family_landscape(TRUTH, (0.2, 0.0))
    with pytest.raises(ValueError, match="truth"):
        iou_family_landscape((0.1, 0.1, float("inf"), 0.3), (0.2, 0.2))
    with pytest.raises(ValueError, match="y_range"):
        iou_family_landscape(TRUTH, (0.2, 0.2), y_range=(0.3,))


TARGET = (0.4, 0.4, 0.6, 0.6)  # centre (0.5, 0.5), 0.2 x 0.2: cell (3, 3)
APART = (0.08, 0.45, 0.23, 0.55)  # centre (0.155, 0.5), 0.15 x 0.1: no overlap with TARGET
OVERLAPPING = (0.35, 0.3, 0.6, 0.5)


def test_first_v1_step_is_the_hand_computed_gradient_step():
    paths = descent_paths(TARGET, APART, steps=1, losses=["v1"])
    (first, second) = paths["v1"].boxes
    assert first == pytest.approx(APART)
    cx, cy, w, h = 0.155, 0.5, 0.15, 0.1
    # d/d cx of 5 (cx S - col - x̂)² = 2 · 5 · S² (cx - 0.5); d/d w of 5 (√w - √ŵ)² = 5 (√w - √ŵ) / √w.
    grad = [2 * 5 * S * S * (cx - 0.5), 2 * 5 * S * S * (cy - 0.5),
            5 * (math.sqrt(w) - math.sqrt(0.2)) / math.sqrt(w), 5 * (math.sqrt(h) - math.sqrt(0.2)) / math.sqrt(h)]
    lr = DESCENT_LR["v1"]
    nx, ny, nw, nh = (v - lr * g for v, g in zip((cx, cy, w, h), grad))
    assert second == pytest.approx(_box_at(nx, ny, nw, nh), abs=1e-12)
    assert paths["v1"].grads[0] == pytest.approx(tuple(grad))
    assert paths["v1"].values[0] == pytest.approx(5 * ((cx * S - 3.5) ** 2 + (math.sqrt(w) - math.sqrt(0.2)) ** 2 + (math.sqrt(h) - math.sqrt(0.2)) ** 2))


def test_first_giou_step_follows_finite_differences():
    paths = descent_paths(TARGET, APART, steps=1, losses=["giou"], lr=0.01)
    t = torch.tensor(TARGET, dtype=torch.float64)
    f = lambda b: 1 - float(giou(torch.tensor(_box_at(*b), dtype=torch.float64), t))  # noqa: E731
    theta = [0.155, 0.5, 0.15, 0.1]
    eps = 1e-6
    numeric = []
    for k in range(4):
        up, down = list(theta), list(theta)
        up[k] += eps
        down[k] -= eps
        numeric.append((f(up) - f(down)) / (2 * eps))
    assert paths["giou"].grads[0] == pytest.approx(tuple(numeric), abs=1e-6)
    assert paths["giou"].boxes[1] == pytest.approx(_box_at(*(v - 0.01 * g for v, g in zip(theta, numeric))), abs=1e-8)


def test_iou_path_never_moves_without_overlap_and_the_others_reach_the_object():
    paths = descent_paths(TARGET, APART)
    assert list(paths) == list(DESCENT_LOSSES)
    stalled = paths["iou"]
    assert stalled.boxes[0] == pytest.approx(APART)
    assert all(b == stalled.boxes[0] for b in stalled.boxes)
    assert set(stalled.values) == {1.0} and set(stalled.ious) == {0.0}
    for name in ("v1", "giou", "diou", "ciou"):
        assert paths[name].ious[-1] > 0.3, name
    # While the boxes are apart, GIoU's loss goes down at every step (its penalty term is
    # smooth there); near the object, a fixed step zig-zags across the kink of 1 - IoU at the
    # match, so only the overall fall is asserted after that.
    values, ious = paths["giou"].values, paths["giou"].ious
    apart = next(k for k, v in enumerate(ious) if v > 0)
    assert apart > 3
    assert all(later < earlier for earlier, later in zip(values[: apart + 1], values[1 : apart + 1]))
    assert values[-1] < 0.2 * values[0]
    assert len(values) == 101


def test_from_an_overlapping_start_every_loss_improves_the_iou():
    paths = descent_paths(TARGET, OVERLAPPING)
    for name, path in paths.items():
        assert path.ious[-1] > path.ious[0], name
        assert path.values[-1] < path.values[0], name


def test_descent_losses_pass_gradcheck_and_ciou_holds_alpha_constant():
    theta = torch.tensor([0.45, 0.47, 0.23, 0.15], dtype=torch.float64, requires_grad=True)
    for name in ("v1", "iou", "giou", "diou"):
        assert torch.autograd.gradcheck(_descent_loss(name, TARGET, S), (theta,)), name
    # CIoU's gradient is deliberately not the exact derivative (α held constant, as in
    # Ultralytics): it equals box_loss's, which the modern tests check against that code.
    from yolo_lesson.boxes import cxcywh_to_xyxy
    from yolo_lesson.modern import box_loss

    (ours,) = torch.autograd.grad(_descent_loss("ciou", TARGET, S)(theta), theta)
    (theirs,) = torch.autograd.grad(box_loss(cxcywh_to_xyxy(theta), torch.tensor(TARGET, dtype=torch.float64)), theta)
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(start=(0.3, 0.3, 0.2, 0.4)), "start"),
        (dict(start=(0.3, 0.3, float("nan"), 0.4)), "start"),
        (dict(start=(0.3, 0.3, 0.4)), "start"),
        (dict(truth=(0.4, 0.4, 0.4, 0.6)), "truth"),
        (dict(lr=0.0), "lr"),
        (dict(lr=-1), "lr"),
        (dict(lr={"v1": 0.001}), "lr"),
        (dict(lr={"v1": 0.001, "iou": 0, "giou": 0.01, "diou": 0.01, "ciou": 0.01}), "lr\\['iou'\\]"),
        (dict(steps=0), "steps"),
        (dict(steps=2.5), "steps"),
        (dict(losses=["giou", "l1"]), "losses"),
        (dict(losses="giou"), "losses"),
        (dict(losses=[]), "losses"),
    ],
)
def test_descent_bad_input_names_the_argument(kwargs, name):
    args = dict(truth=TARGET, start=APART) | kwargs
    with pytest.raises(ValueError, match=name):
        descent_paths(args.pop("truth"), args.pop("start"), **args)


def test_a_step_size_that_crushes_the_box_is_a_value_error_naming_lr():
    # At lr = 1 the first v1 step moves the centre by 490 times its error: far past the
    # image, and the width's step makes it negative (its root undefined).
    with pytest.raises(ValueError, match="lr = 1.0 is too large for 'v1'"):
        descent_paths(TARGET, APART, lr=1.0, losses=["v1"])


def test_figures_draw_the_measured_numbers_and_the_boundary():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from yolo_lesson.landscape_figures import plot_descent_paths, plot_iou_family_landscape, plot_loss_landscape

    family = iou_family_landscape(TARGET, (0.2, 0.2), grid=21)
    fig = plot_iou_family_landscape(family)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0] == f"1 − IoU  (zero gradient: {family.zero_gradient['iou']:.0%})"
    assert len(titles) == 4
    plt.close(fig)
    land = loss_landscape(TRUTH, PREDS, grid=21, arrows=3)
    fig = plot_loss_landscape(land)
    # Each of the 4 panels has the responsibility contour (both predictors answer somewhere),
    # and arrows only where the term has a gradient: box and total, not obj or noobj.
    panels = [ax for ax in fig.axes if ax.get_title() in ("box", "obj", "noobj", "total")]
    assert [len(ax.collections) for ax in panels] == [2, 1, 1, 2]
    plt.close(fig)
    fig = plot_descent_paths(descent_paths(TARGET, APART, steps=3), TARGET)
    assert len(fig.axes[1].lines) == len(DESCENT_LOSSES)
    plt.close(fig)
