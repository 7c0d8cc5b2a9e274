"""Tests of yolo_lesson.check: every checker passes a correct learner solution written here
independently of the package, fails the typical wrong answers with the hint aimed at them,
reports unfinished stubs and crashing functions without raising, and prints deterministic text."""

from __future__ import annotations

import functools
import math
import sys

import pytest
import torch
import torch.nn.functional as F

from reference_loss import reference_yolo_v1_loss
from yolo_lesson import check


# The options under which the learner losses of these tests are the package's loss: roots of the
# predicted w, h (the tutorials' "signed_sqrt") and ties to the first predictor. Named explicitly,
# so that the tests hold whatever the package's defaults are.
LOSS_OPTIONS = {"wh": "signed_sqrt", "tie_break": "first"}
check_loss = functools.partial(check.yolo_v1_loss, **LOSS_OPTIONS)

# ------------------------------------------------------------------ learner-style solutions


def _overlap_wh(a, b, clamp=True):
    wh = torch.minimum(a[..., 2:], b[..., 2:]) - torch.maximum(a[..., :2], b[..., :2])
    return wh.clamp(min=0) if clamp else wh


def _area(x):
    return (x[..., 2] - x[..., 0]).clamp(min=0) * (x[..., 3] - x[..., 1]).clamp(min=0)


def good_iou(a, b):
    wh = _overlap_wh(a, b)
    inter = wh[..., 0] * wh[..., 1]
    union = _area(a) + _area(b) - inter
    return inter / torch.where(union > 0, union, torch.ones_like(union))


def iou_without_clamp(a, b):
    wh = _overlap_wh(a, b, clamp=False)
    inter = wh[..., 0] * wh[..., 1]
    union = _area(a) + _area(b) - inter
    return inter / torch.where(union > 0, union, torch.ones_like(union))


def iou_without_guard(a, b):
    wh = _overlap_wh(a, b)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (_area(a) + _area(b) - inter)


def iou_pairwise(a, b):
    return iou_without_guard(a[..., :, None, :], b[..., None, :, :]) if a.dim() > 1 else good_iou(a, b)


def good_giou(a, b):
    top_left = torch.minimum(a[..., :2], b[..., :2])
    bottom_right = torch.maximum(a[..., 2:], b[..., 2:])
    hull = _area(torch.cat((top_left, bottom_right), dim=-1))
    wh = _overlap_wh(a, b)
    inter = wh[..., 0] * wh[..., 1]
    union = _area(a) + _area(b) - inter
    return inter / union - (hull - union) / hull


def giou_without_clamp(a, b):
    top_left = torch.minimum(a[..., :2], b[..., :2])
    bottom_right = torch.maximum(a[..., 2:], b[..., 2:])
    hull = _area(torch.cat((top_left, bottom_right), dim=-1))
    wh = _overlap_wh(a, b, clamp=False)
    inter = wh[..., 0] * wh[..., 1]
    union = _area(a) + _area(b) - inter
    return inter / union - (hull - union) / hull


def giou_over_union(a, b):
    top_left = torch.minimum(a[..., :2], b[..., :2])
    bottom_right = torch.maximum(a[..., 2:], b[..., 2:])
    hull = _area(torch.cat((top_left, bottom_right), dim=-1))
    wh = _overlap_wh(a, b)
    inter = wh[..., 0] * wh[..., 1]
    union = _area(a) + _area(b) - inter
    return inter / union - (hull - union) / union


def convert(boxes, half=2.0):
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - w / half, cy - h / half, cx + w / half, cy + h / half), dim=-1)


def encode_by_loops(boxes, labels, S, C, *, first_wins=True, clamp=True, swap=False):
    target = torch.zeros(S, S, 5 + C)
    for (cx, cy, w, h), label in zip(boxes.tolist(), labels.tolist()):
        row, col = int(cy * S), int(cx * S)
        if clamp:
            row, col = min(row, S - 1), min(col, S - 1)
        r, c = (col, row) if swap else (row, col)
        if first_wins and target[r, c, 4] == 1:
            continue
        target[r, c] = 0
        target[r, c, :5] = torch.tensor([cx * S - col, cy * S - row, w, h, 1.0])
        target[r, c, 5 + label] = 1.0
    return target


def _image_xyxy(x, y, w, h, row, col, S):
    cx, cy = (col + x) / S, (row + y) / S
    return torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)


def learner_loss(pred, target, S=7, B=2, C=20, *, conf_one=False, sqrt=True, empty_only=False,
                 reduction="sum/N", first_responsible=False, cell_frame_iou=False):
    """A vectorized learner's YOLOv1 loss, written without the package, with switches for the
    typical mistakes."""
    N = pred.shape[0]
    boxes = pred[..., : B * 5].reshape(N, S, S, B, 5)  # [N, S, S, B, 5]
    t = target[..., None, :]  # [N, S, S, 1, 5 + C]
    obj = target[..., 4] == 1  # [N, S, S]
    rows = torch.arange(S).view(1, S, 1, 1).float()
    cols = torch.arange(S).view(1, 1, S, 1).float()
    if cell_frame_iou:  # the mistake: x, y in cell units mixed with w, h in image units
        p_xyxy = _image_xyxy(boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3], 0, 0, 1)
        t_xyxy = _image_xyxy(t[..., 0], t[..., 1], t[..., 2], t[..., 3], 0, 0, 1)
    else:
        p_xyxy = _image_xyxy(boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3], rows, cols, S)
        t_xyxy = _image_xyxy(t[..., 0], t[..., 1], t[..., 2], t[..., 3], rows, cols, S)
    ious = good_iou(p_xyxy, t_xyxy).detach()  # [N, S, S, B]
    best = torch.zeros_like(ious[..., 0], dtype=torch.long) if first_responsible else ious.argmax(-1)
    resp = F.one_hot(best, B).bool() & obj[..., None]
    root = torch.sqrt if sqrt else (lambda v: v)
    coord = ((boxes[..., :2] - t[..., :2]) ** 2).sum(-1) + ((root(boxes[..., 2:4]) - root(t[..., 2:4])) ** 2).sum(-1)
    goal = torch.ones_like(ious) if conf_one else ious
    noobj_mask = ~obj[..., None].expand_as(resp) if empty_only else ~resp
    cls = ((pred[..., B * 5 :] - target[..., 5:]) ** 2).sum(-1)
    terms = torch.stack((
        5.0 * (coord * resp).sum(), ((boxes[..., 4] - goal) ** 2 * resp).sum(),
        0.5 * (boxes[..., 4] ** 2 * noobj_mask).sum(), (cls * obj).sum(),
    ))
    if reduction == "mean":
        return terms.sum() / pred.numel()
    if reduction == "sum":
        return terms.sum()
    return terms.sum() / N


def greedy_nms(boxes, scores, thr, *, only_kept=True, strict=True):
    order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    keep = []
    for position, i in enumerate(order):
        judges = keep if only_kept else order[:position]
        ious = [good_iou(boxes[i], boxes[j]).item() for j in judges]
        if all((v <= thr) if strict else (v < thr) for v in ious):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)


def ap_all_points(recall, precision, *, envelope=True):
    ap, previous = 0.0, 0.0
    for k in range(len(recall)):
        p = max(precision[k:].tolist()) if envelope else precision[k].item()
        ap += (recall[k].item() - previous) * p
        previous = recall[k].item()
    return ap


def ap_101(recall, precision, *, levels=101):
    total = 0.0
    for j in range(levels):
        reached = [p for r, p in zip(recall.tolist(), precision.tolist()) if r >= j / (levels - 1) - 1e-12]
        total += max(reached) if reached else 0.0
    return total / levels


def focal(x, y, alpha=0.25, gamma=2.0, *, swap_alpha=False, pt_power=False, naive_log=False, mean=False):
    p = torch.sigmoid(x)
    pt = p * y + (1 - p) * (1 - y)
    a = alpha * y + (1 - alpha) * (1 - y)
    if swap_alpha:
        a = torch.full_like(y, alpha)
    bce = -torch.log(pt) if naive_log else F.binary_cross_entropy_with_logits(x, y, reduction="none")
    factor = pt**gamma if pt_power else (1 - pt) ** gamma
    loss = a * factor * bce
    return loss.mean() if mean else loss.sum()


# ------------------------------------------------------------------ helpers


def run(checker, fn, capsys, **kwargs):
    result = checker(fn, **kwargs)
    printed = capsys.readouterr().out
    assert printed.strip() == result.report.strip()
    return result, printed


def assert_fails(checker, fn, capsys, case, hint_words, status="failed", **kwargs):
    result, printed = run(checker, fn, capsys, **kwargs)
    assert result.status == status, printed
    assert not result
    assert result.failed_case == case, printed
    assert result.case is not None
    hint = printed.split("hint:", 1)[1]
    for word in hint_words:
        assert word in " ".join(hint.split()), f"{word!r} not in the hint:\n{printed}"
    return printed


# ------------------------------------------------------------------ iou, giou, box_convert


def test_iou_passes_a_correct_solution(capsys):
    result, printed = run(check.iou, good_iou, capsys)
    assert result and result.status == "passed"
    # 9 hidden cases: partial, identical, disjoint ×2, touching, nested, line, points, batch.
    assert printed == "check.iou: all 9 cases pass.\n"
    assert repr(result) == "CheckResult(checker='iou', status='passed', cases=9, failed_case=None)"


def test_iou_without_clamp_fails_on_disjoint_boxes(capsys):
    # (0,0,1,1) vs (2,0,3,1): overlap width 1 - 2 = -1, height 1, "intersection" -1,
    # union 1 + 1 + 1 = 3 -> -1/3 instead of 0.
    printed = assert_fails(check.iou, iou_without_clamp, capsys, 3, ["clamp"])
    assert "expected : 0\n" in printed and "received : -0.3333" in printed


def test_iou_without_guard_fails_on_zero_union(capsys):
    printed = assert_fails(check.iou, iou_without_guard, capsys, 8, ["Guard the division"])
    assert "received : nan" in printed


def test_pairwise_instead_of_elementwise_fails_on_the_batch(capsys):
    printed = assert_fails(check.iou, iou_pairwise, capsys, 9, ["elementwise"])
    assert "shape [3, 3] instead of [3]" in printed


def test_union_without_subtracting_the_intersection_fails_first_case(capsys):
    def no_subtraction(a, b):
        wh = _overlap_wh(a, b)
        inter = wh[..., 0] * wh[..., 1]
        return inter / (_area(a) + _area(b))

    # 0.5 / 2 = 0.25 instead of 1/3.
    printed = assert_fails(check.iou, no_subtraction, capsys, 1, ["union 1 + 1 - 0.5"])
    assert "received : 0.25" in printed


def test_giou_passes_and_catches_its_mistakes(capsys):
    assert run(check.giou, good_giou, capsys)[0].passed
    # Diagonal disjoint: -1 · -1 = +1 "intersection" gives 1 - 8/9 instead of 0 - 7/9.
    assert_fails(check.giou, giou_without_clamp, capsys, 5, ["clamp"])
    # Diagonal shift, case 3: penalty 2/9 over the hull, 2/7 over the union.
    assert_fails(check.giou, giou_over_union, capsys, 3, ["|C|"])


def test_box_convert_passes_and_catches_its_mistakes(capsys):
    assert run(check.box_convert, convert, capsys)[0].passed
    assert_fails(check.box_convert, lambda b: convert(b, half=1.0), capsys, 1, ["cx - w/2"])

    def wrong_order(boxes):
        cx, cy, w, h = boxes.unbind(-1)
        return torch.stack((cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2), dim=-1)

    assert_fails(check.box_convert, wrong_order, capsys, 1, ["in that order"])

    def in_place(boxes):
        boxes[..., :2] -= boxes[..., 2:] / 2
        boxes[..., 2:] += boxes[..., :2]
        return boxes

    assert_fails(check.box_convert, in_place, capsys, 1, ["in place"])


def test_box_convert_two_dimensional_indexing_is_reported_with_shapes(capsys):
    def first_axis(boxes):
        return torch.stack((boxes[:, 0] - boxes[:, 2] / 2, boxes[:, 1] - boxes[:, 3] / 2,
                            boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2), -1)

    result, printed = run(check.box_convert, first_axis, capsys)
    assert result.status == "raised" and "raised IndexError" in printed
    assert "(input shapes: boxes [4])" in printed


# ------------------------------------------------------------------ encode_targets


def test_encode_targets_passes_a_loop_solution(capsys):
    assert run(check.encode_targets, encode_by_loops, capsys)[0].passed


@pytest.mark.parametrize(
    "options, case, words",
    [
        ({"swap": True}, 2, ["target[row, col]"]),  # case 1 is the centre cell, symmetric
        ({"first_wins": False}, 8, ["first object listed keeps the cell"]),
    ],
)
def test_encode_targets_catches_mistakes(capsys, options, case, words):
    printed = assert_fails(check.encode_targets,
                           lambda b, l, S, C: encode_by_loops(b, l, S, C, **options), capsys, case, words)
    assert "first wrong cell" in printed


def test_encode_targets_without_clamp_is_reported_as_an_exception(capsys):
    # A centre at 1.0 gives floor(4.0) = 4 = S: an IndexError, reported with the clamp hint.
    printed = assert_fails(check.encode_targets,
                           lambda b, l, S, C: encode_by_loops(b, l, S, C, clamp=False),
                           capsys, 6, ["clamp row and col"], status="raised")
    assert "raised IndexError" in printed


def test_encode_targets_hard_coded_sizes_fail_on_another_grid(capsys):
    printed = assert_fails(check.encode_targets, lambda b, l, S, C: encode_by_loops(b, l, 7, 20),
                           capsys, 4, ["use the S and C arguments"])
    assert "shape [7, 7, 25] instead of [3, 3, 7]" in printed


def test_encode_targets_ceil_minus_one_fails_on_a_border(capsys):
    def ceil_cells(boxes, labels, S, C):
        target = torch.zeros(S, S, 5 + C)
        for (cx, cy, w, h), label in zip(boxes.tolist(), labels.tolist()):
            row, col = max(math.ceil(cy * S) - 1, 0), max(math.ceil(cx * S) - 1, 0)
            if target[row, col, 4] == 0:
                target[row, col, :5] = torch.tensor([cx * S - col, cy * S - row, w, h, 1.0])
                target[row, col, 5 + label] = 1.0
        return target

    assert_fails(check.encode_targets, ceil_cells, capsys, 5, ["not ceil - 1"])


# ------------------------------------------------------------------ the YOLOv1 loss


def test_yolo_v1_loss_passes_two_independent_solutions(capsys):
    assert run(check_loss, lambda p, t: learner_loss(p, t), capsys)[0].passed
    # The per-cell loop reference returns named terms: the checker reads .total.
    assert run(check_loss, lambda p, t: reference_yolo_v1_loss(p, t, **LOSS_OPTIONS), capsys)[0].passed
    # A dict with "total", as lesson 03's inline loss returns, is read too.
    assert run(check_loss, lambda p, t: {"total": learner_loss(p, t)}, capsys)[0].passed


def test_yolo_v1_loss_other_layouts(capsys):
    result, _ = run(check_loss, lambda p, t: learner_loss(p, t, S=3, B=2, C=3), capsys,
                    S=3, B=2, C=3)
    assert result.passed and result.cases == 13
    # B = 1 leaves out the five cases that need a second predictor.
    result, _ = run(check_loss, lambda p, t: learner_loss(p, t, B=1), capsys, B=1)
    assert result.passed and result.cases == 8


@pytest.mark.parametrize(
    "mistake, case, words",
    [
        # Mean over all N·S·S·30 elements: 12.25 / 1470 on the empty image (case 1).
        ({"reduction": "mean"}, 1, ["a sum, not a mean"]),
        ({"conf_one": True}, 4, ["not to 1"]),
        # Without roots the value of case 4 is the same (5·0.2² = 5·(0.6 - 0.4)²), the slope
        # on w is not: the gradient comparison catches it there.
        ({"sqrt": False}, 4, []),
        ({"empty_only": True}, 7, ["not only the predictors of empty cells"]),
        ({"first_responsible": True}, 6, ["not always predictor 0"]),
        ({"cell_frame_iou": True}, 10, ["image coordinates"]),
        # Sum without dividing by N: equal to the right answer until N = 3 (case 12).
        ({"reduction": "sum"}, 12, ["divide by the batch size N"]),
    ],
)
def test_yolo_v1_loss_catches_each_typical_mistake(capsys, mistake, case, words):
    assert_fails(check_loss, lambda p, t: learner_loss(p, t, **mistake), capsys, case, words)


def test_yolo_v1_loss_reports_the_terms_of_the_expected_total(capsys):
    printed = assert_fails(check_loss, lambda p, t: learner_loss(p, t, empty_only=True),
                           capsys, 7, [])
    # Predictor 1 has confidence 0.8 and is not responsible: λ_noobj · 0.8² = 0.32.
    assert "expected : 0.32  (box 0, obj 0, noobj 0.32, cls 0)" in printed
    assert "received : 0\n" in printed


def test_yolo_v1_loss_rejects_a_non_scalar_answer(capsys):
    printed = assert_fails(check_loss, lambda p, t: (p[..., 4] ** 2).sum(-1), capsys, 1, [])
    assert "must be one number" in printed


# ------------------------------------------------------------------ nms, AP, focal loss


def test_nms_passes_a_greedy_loop_and_catches_mistakes(capsys):
    assert run(check.nms, greedy_nms, capsys)[0].passed
    assert_fails(check.nms, lambda b, s, t: greedy_nms(b, s, t, only_kept=False), capsys, 7,
                 ["only boxes that are kept suppress"])
    assert_fails(check.nms, lambda b, s, t: greedy_nms(b, s, 0.5), capsys, 5, ["no fixed 0.5"])
    printed = assert_fails(check.nms, lambda b, s, t: greedy_nms(b, s, t).sort().values, capsys, 3,
                           ["sorted by decreasing score"])
    assert "right boxes in the wrong order" in printed
    printed = assert_fails(check.nms, lambda b, s, t: greedy_nms(b, s, t).float(), capsys, 1, [])
    assert "LongTensor" in printed


def test_average_precision_both_interpolations(capsys):
    assert run(check.average_precision, ap_101, capsys)[0].passed
    assert run(check.average_precision, ap_all_points, capsys, interpolation="voc_all")[0].passed
    # TP then FP for 2 objects: levels 0 to 0.5 reach precision 1, so 51/101, not 51/100.
    # Dividing the 101 levels' sum by 100 gives 1.01 for the perfect detector (case 1).
    assert_fails(check.average_precision, lambda r, p: ap_101(r, p) * 101 / 100, capsys, 1,
                 ["divide by 101"])
    # TP, FP, FP, TP, TP for 3 objects: with the envelope the step to recall 2/3 counts at
    # precision 0.6 (reached later), without it at 0.5: 0.7333 against 0.7.
    assert_fails(check.average_precision, lambda r, p: ap_all_points(r, p, envelope=False), capsys, 5,
                 ["running max"], interpolation="voc_all")


def test_average_precision_reports_an_empty_max(capsys):
    # max() of an empty sequence raises ValueError on the empty curve: reported, not raised.
    printed = assert_fails(check.average_precision,
                           lambda r, p: ap_all_points(r, p) + 0 * max(p.tolist()), capsys, 3,
                           ["return 0.0"], interpolation="voc_all", status="raised")
    assert "raised ValueError" in printed


def test_focal_loss_passes_and_catches_mistakes(capsys):
    assert run(check.focal_loss, focal, capsys)[0].passed
    assert run(check.focal_loss, lambda x, y: focal(x, y, gamma=0.0, alpha=0.5), capsys,
               gamma=0.0, alpha=0.5)[0].passed
    assert_fails(check.focal_loss, lambda x, y: focal(x, y, swap_alpha=True), capsys, 2, ["1 - α"])
    assert_fails(check.focal_loss, lambda x, y: focal(x, y, pt_power=True), capsys, 3, ["(1 - p_t)^γ"])
    printed = assert_fails(check.focal_loss, lambda x, y: focal(x, y, naive_log=True), capsys, 4,
                           ["from the logits"])
    assert "received : inf" in printed
    assert_fails(check.focal_loss, lambda x, y: focal(x, y, mean=True), capsys, 3, [])


# ------------------------------------------------------------------ never raises


CHECKERS = [check.iou, check.giou, check.box_convert, check.encode_targets, check.yolo_v1_loss,
            check.nms, check.average_precision, check.focal_loss]


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_a_stub_is_not_attempted_yet(capsys, checker):
    def stub(*args):
        raise NotImplementedError("Exercise: replace this line with your code")

    result, printed = run(checker, stub, capsys)
    assert result.status == "not attempted" and not result
    assert printed.startswith(f"check.{checker.__name__}: not attempted yet")


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_errors_and_odd_answers_are_reported_not_raised(capsys, checker):
    def crashes(*args):
        raise ValueError("something broke\nsecond line")

    result, printed = run(checker, crashes, capsys)
    assert result.status == "raised"
    assert "your function raised ValueError: something broke\n" in printed
    for odd in (lambda *a: None, lambda *a: "text", lambda *a: torch.full((2, 2), float("nan"))):
        result, printed = run(checker, odd, capsys)
        assert result.status == "failed" and result.failed_case == 1, printed
    result, printed = run(checker, 42, capsys)
    assert result.status == "raised" and "expected a function" in printed


def test_a_missing_module_makes_the_checker_unavailable(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "yolo_lesson.metrics", None)  # import now fails
    monkeypatch.delattr("yolo_lesson.metrics", raising=False)
    result, printed = run(check.nms, greedy_nms, capsys)
    assert result.status == "unavailable" and "cannot run yet" in printed


def test_reports_are_deterministic_and_leave_the_global_rng_alone(capsys):
    state = torch.get_rng_state()
    first = check_loss(lambda p, t: learner_loss(p, t, conf_one=True), quiet=True)
    second = check_loss(lambda p, t: learner_loss(p, t, conf_one=True), quiet=True)
    assert capsys.readouterr().out == ""  # quiet prints nothing
    assert first == second and first.report == second.report
    assert "0x" not in first.report
    assert torch.equal(torch.get_rng_state(), state)


def test_the_result_shows_nothing_more_in_a_notebook():
    result = check.iou(good_iou, quiet=True)
    assert result._ipython_display_() is None
