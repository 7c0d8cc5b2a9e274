"""A catalogue of typical wrong learner functions and answers, one or more per checker: each
must be caught, on the case built for it where that matters, with the words of its intended
hint or message; the reference solutions written here (independently of the package) must pass.
Also: the strict mode that grade cells use, the time limit on an endless loop, the message for a
list returned where a tensor was expected, and the digits shown for a near miss."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from test_check import LOSS_OPTIONS, _area, _image_xyxy, ap_101, check_loss, focal, good_giou, good_iou, greedy_nms, learner_loss
from yolo_lesson import check

# ------------------------------------------------------------------ the loss, two new mistakes


def loss_variant(pred, target, S=7, B=2, C=20, *, detach_iou=True, last_on_tie=False):
    """The paper's loss (the package's default options), with two switches for mistakes that
    keep the value and change the gradient, or that hand ties to the last predictor."""
    N = pred.shape[0]
    boxes = pred[..., : B * 5].reshape(N, S, S, B, 5)
    t = target[..., None, :]
    obj = target[..., 4] == 1
    rows = torch.arange(S).view(1, S, 1, 1).float()
    cols = torch.arange(S).view(1, 1, S, 1).float()
    p_xyxy = _image_xyxy(boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3], rows, cols, S)
    t_xyxy = _image_xyxy(t[..., 0], t[..., 1], t[..., 2], t[..., 3], rows, cols, S)
    ious = good_iou(p_xyxy, t_xyxy)
    if detach_iou:
        ious = ious.detach()
    if last_on_tie:  # the mistake: the last maximum instead of the first
        best = (B - 1) - ious.detach().flip(-1).argmax(-1)
    else:
        best = ious.detach().argmax(-1)
    resp = F.one_hot(best, B).bool() & obj[..., None]
    root = lambda v: v / torch.sqrt(v.abs() + 1e-6)  # noqa: E731  (the package's signed root)
    coord = ((boxes[..., :2] - t[..., :2]) ** 2).sum(-1) + ((root(boxes[..., 2:4]) - root(t[..., 2:4])) ** 2).sum(-1)
    cls = ((pred[..., B * 5 :] - target[..., 5:]) ** 2).sum(-1)
    total = (5.0 * torch.where(resp, coord, 0).sum() + torch.where(resp, (boxes[..., 4] - ious) ** 2, 0).sum()
             + 0.5 * torch.where(resp, 0, boxes[..., 4] ** 2).sum() + torch.where(obj, cls, 0).sum())
    return total / N


# ------------------------------------------------------------------ wrong functions


def _inter(a, b, clamp=True):
    wh = torch.minimum(a[..., 2:], b[..., 2:]) - torch.maximum(a[..., :2], b[..., :2])
    if clamp:
        wh = wh.clamp(min=0)
    return wh[..., 0] * wh[..., 1]


def pairwise_good(b1, b2):
    inter = _inter(b1[:, None], b2[None])
    return inter / (_area(b1)[:, None] + _area(b2)[None] - inter)


def stable_nms(boxes, scores, thr):
    order = torch.sort(scores, descending=True, stable=True).indices.tolist()
    keep = []
    for i in order:
        if all(good_iou(boxes[i], boxes[j]).item() <= thr for j in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)


def encode_good(boxes, labels, S, C):
    target = torch.zeros(S, S, 5 + C)
    for (cx, cy, w, h), label in zip(boxes.tolist(), labels.tolist()):
        row, col = min(int(cy * S), S - 1), min(int(cx * S), S - 1)
        if target[row, col, 4] == 1:
            continue
        target[row, col, :5] = torch.tensor([cx * S - col, cy * S - row, w, h, 1.0])
        target[row, col, 5 + label] = 1.0
    return target


def ciou_good(w, h, overlap, rho=0.0, s=0.4):
    v = 4 / math.pi**2 * (math.atan(w / h) - math.atan(1.0)) ** 2
    alpha = v / (1 - overlap + v) if v else 0.0
    return v, alpha, overlap - rho - alpha * v


def v5_good(t, a):
    return a * (2 * torch.sigmoid(t)) ** 2


def endless(*args):
    while True:
        pass


# (name, checker call, the learner's function or answer builder, failing case or None, words)
CATALOGUE = [
    # 00: the output layout
    ("numbers: B·C class scores", lambda f: check.numbers_per_image(f), lambda S, B, C: S * S * (B * 5 + B * C), 1, ["C class scores shared by its boxes"]),
    ("numbers: fixed paper layout", lambda f: check.numbers_per_image(f), lambda S, B, C: 1470, 2, ["(5·B + C)"]),
    ("channels: the first of the five", lambda f: check.confidence_channels(f), lambda B: [5 * b for b in range(B)], 1, ["5·b + 4"]),
    ("channels: fixed B = 2", lambda f: check.confidence_channels(f), lambda B: [4, 9], 2, ["return a list even"]),
    ("index: columns first", lambda f: check.detection_index(f), lambda r, c, b, S, B: (c * S + r) * B + b, 3, ["(row·S + col)·B + b"]),
    ("index: predictor-major", lambda f: check.detection_index(f), lambda r, c, b, S, B: b * S * S + r * S + c, 2, ["next to each other"]),
    # 01: boxes
    ("iou: no clamp", lambda f: check.iou(f), lambda a, b: _inter(a, b, False) / (_area(a) + _area(b) - _inter(a, b, False)), 3, ["clamp it"]),
    ("iou: union twice the intersection", lambda f: check.iou(f), lambda a, b: _inter(a, b) / (_area(a) + _area(b)), 1, ["intersection"]),
    ("iou: no guard", lambda f: check.iou(f), lambda a, b: _inter(a, b) / (_area(a) + _area(b) - _inter(a, b)), 8, ["Guard the division"]),
    ("iou: a list", lambda f: check.iou(f), lambda a, b: good_iou(a, b).tolist(), 1, ["a float, where a tensor was expected"]),
    ("iou: float16 near miss", lambda f: check.iou(f), lambda a, b: good_iou(a, b).half(), 1, ["differ beyond 4 digits", "float16"]),
    ("pairwise: transposed", lambda f: check.pairwise_iou(f), lambda a, b: pairwise_good(b, a), 1, ["[N, 1, 4]"]),
    ("pairwise: a list of rows", lambda f: check.pairwise_iou(f), lambda a, b: [row for row in pairwise_good(a, b)], 1, ["a list, where a tensor was expected"]),
    ("giou: hull over the union", lambda f: check.giou(f), lambda a, b: good_giou(a, b) - 0.0 * a.sum() if False else good_iou(a, b) - (_area(torch.cat((torch.minimum(a[..., :2], b[..., :2]), torch.maximum(a[..., 2:], b[..., 2:])), -1)) - (_area(a) + _area(b) - _inter(a, b))) / (_area(a) + _area(b) - _inter(a, b)), 3, ["enclosing box C"]),
    ("box_convert: x1, x2, y1, y2", lambda f: check.box_convert(f), lambda x: torch.stack((x[..., 0] - x[..., 2] / 2, x[..., 0] + x[..., 2] / 2, x[..., 1] - x[..., 3] / 2, x[..., 1] + x[..., 3] / 2), -1), 1, ["in that order"]),
    ("box_convert: full width", lambda f: check.box_convert(f), lambda x: torch.cat((x[..., :2] - x[..., 2:], x[..., :2] + x[..., 2:]), -1), 1, ["cx - w/2"]),
    ("ciou: IoU for 1 - IoU", lambda f: check.ciou_by_hand(f), lambda w, h, o, r=0.0, s=0.4: (lambda v: (v, v / (o + v), o - r - v * v / (o + v)))(4 / math.pi**2 * (math.atan(w / h) - 1 / 1 * math.atan(1)) ** 2), 1, ["1 - IoU"]),
    ("ciou: centre term ignored", lambda f: check.ciou_by_hand(f), lambda w, h, o, r=0.0, s=0.4: ciou_good(w, h, o, 0.0, s), 4, ["centre term"]),
    # 02: the grid
    ("cell: (col, row)", lambda f: check.owning_cell(f), lambda cx, cy, S: (int(cx * S), int(cy * S)), 1, ["(row, col)"]),
    ("cell: round", lambda f: check.owning_cell(f), lambda cx, cy, S: (min(round(cy * S), S - 1), min(round(cx * S), S - 1)), 6, ["floor, not round"]),
    ("cell: no clamp at 1.0", lambda f: check.owning_cell(f), lambda cx, cy, S: (int(cy * S), int(cx * S)), 4, ["clamp row and col"]),
    ("encode: last object keeps the cell", lambda f: check.encode_targets(f), lambda b, l, S, C: encode_good(b.flip(0), l.flip(0), S, C), 8, ["first object listed keeps the cell"]),
    ("encode: offsets in image units", lambda f: check.encode_targets(f), lambda b, l, S, C: (lambda t: torch.where(t[..., 4:5] > 0, torch.cat((t[..., :2] / S, t[..., 2:]), -1), t))(encode_good(b, l, S, C)), 1, ["x = cx·S - col"]),
    # 03, 04: the loss and its gradients
    ("loss: a mean", lambda f: check_loss(f), lambda p, t: learner_loss(p, t, reduction="mean"), 1, ["a sum, not a mean"]),
    ("loss: confidence target 1", lambda f: check_loss(f), lambda p, t: learner_loss(p, t, conf_one=True), 4, ["not to 1"]),
    ("loss: IoU target keeps its graph", lambda f: check_loss(f), lambda p, t: loss_variant(p, t, detach_iou=False), 4, ["gradient is not", "detach"]),
    ("loss: ties to the last predictor", lambda f: check_loss(f), lambda p, t: loss_variant(p, t, last_on_tie=True), 8, ["first maximum"]),
    ("loss: predictor 0 responsible", lambda f: check_loss(f), lambda p, t: learner_loss(p, t, first_responsible=True), 6, ["not always predictor 0"]),
    ("loss: no-object on empty cells only", lambda f: check_loss(f), lambda p, t: learner_loss(p, t, empty_only=True), 7, ["not only the predictors of empty cells"]),
    ("loss: a float", lambda f: check_loss(f), lambda p, t: learner_loss(p, t).item(), 1, ["carries no gradient"]),
    ("loss: IoU in cell units", lambda f: check_loss(f), lambda p, t: learner_loss(p, t, cell_frame_iou=True), 10, ["image coordinates"]),
    ("loss: no division by N", lambda f: check_loss(f), lambda p, t: learner_loss(p, t, reduction="sum"), 12, ["divide by the batch size"]),
    ("width gradient: no chain rule", lambda f: check.width_gradient(f), lambda w, wt: 2 * (w - wt), 1, ["chain rule"]),
    ("width gradient: sign of |w| ignored", lambda f: check.width_gradient(f), lambda w, wt, eps=1e-6: 2 * (w / (w * w + eps) ** 0.25 / 1 - wt / (abs(wt) + eps) ** 0.5) * 0 + 2 * (w / (abs(w) + eps) ** 0.5 - wt / (abs(wt) + eps) ** 0.5) * ((w / 2 + eps) / (abs(w) + eps) ** 1.5), 2, ["sign(w)"]),
    # 05: what goes wrong
    ("masked mean: 0 / 0", lambda f: check.safe_masked_mean(f), lambda v, m: v[m].sum() / m.sum(), 2, ["max(count, 1)"]),
    ("masked mean: rows, not elements", lambda f: check.safe_masked_mean(f), lambda v, m: v[m].sum() / max(m.any(-1).sum().item() if m.dim() > 1 else m.sum().item(), 1), 3, ["count its elements"]),
    ("repaired: box on every cell", lambda f: check.repaired_article_loss(f), lambda p, t: (lambda d: {**d, "box": d["box"] + 5.0 * F.smooth_l1_loss(p[..., :4], t[..., :4], reduction="none").sum(-1)[t[..., 4] == 0].sum() / p.shape[0], "total": d["total"] + 5.0 * F.smooth_l1_loss(p[..., :4], t[..., :4], reduction="none").sum(-1)[t[..., 4] == 0].sum() / p.shape[0]})(check.robust._repaired_reference(p, t)), 1, ["the box term: expected"]),
    # 06: training
    ("precision-recall: classes mixed", lambda f: check.precision_recall_at(f), lambda d, t, thr, C: (1.0, 1.0), 1, ["false positive"]),
    # 07: detections
    ("nms: suppresses at the threshold", lambda f: check.nms(f), lambda b, s, thr: greedy_nms(b, s, thr, strict=False), 8, ["strictly greater"]),
    ("nms: equal scores the other way", lambda f: check.nms(f), lambda b, s, thr: stable_nms(b.flip(0), s.flip(0), thr).neg().add(len(s) - 1), 9, ["stable sort"]),
    ("nms: every box judges", lambda f: check.nms(f), lambda b, s, thr: greedy_nms(b, s, thr, only_kept=False), 7, ["only boxes that are kept"]),
    ("ap: 100 levels", lambda f: check.average_precision(f), lambda r, p: ap_101(r, p, levels=100), 2, ["not 100"]),
    ("ap voc11: 10 levels", lambda f: check.average_precision(f, interpolation="voc11"), lambda r, p: ap_101(r, p, levels=10), 2, ["divide by 11"]),
    # 08: beyond v1
    ("v5: exp", lambda f: check.decode_wh_v5(f), lambda t, a: a * torch.exp(t), 2, ["torch.sigmoid"]),
    ("v5: no square", lambda f: check.decode_wh_v5(f), lambda t, a: a * 2 * torch.sigmoid(t), 1, ["b = p·(2σ(t))²"]),
    ("focal: α swapped", lambda f: check.focal_loss(f), lambda x, y: focal(x, y, swap_alpha=True), 2, ["1 - α the negatives"]),
    ("focal: naive log", lambda f: check.focal_loss(f), lambda x, y: focal(x, y, naive_log=True), 4, ["from the logits"]),
    ("top-k: by IoU alone", lambda f: check.top_k_positives(f), lambda s, u, k: u.topk(k).indices, 1, ["not by the score or the IoU alone"]),
    ("top-k: by score alone", lambda f: check.top_k_positives(f), lambda s, u, k: s.topk(k).indices, 1, ["not by the score or the IoU alone"]),
]

REFERENCES = [
    (lambda f: check.numbers_per_image(f), lambda S, B, C: S * S * (5 * B + C)),
    (lambda f: check.confidence_channels(f), lambda B: list(range(4, 5 * B, 5))),
    (lambda f: check.detection_index(f), lambda r, c, b, S, B: (r * S + c) * B + b),
    (lambda f: check.iou(f), good_iou),
    (lambda f: check.pairwise_iou(f), pairwise_good),
    (lambda f: check.giou(f), good_giou),
    (lambda f: check.ciou_by_hand(f), ciou_good),
    (lambda f: check.owning_cell(f), lambda cx, cy, S: (min(int(cy * S), S - 1), min(int(cx * S), S - 1))),
    (lambda f: check.encode_targets(f), encode_good),
    (lambda f: check_loss(f), loss_variant),
    # A loss without roots is right when the exercise names wh="linear".
    (lambda f: check.yolo_v1_loss(f, **{**LOSS_OPTIONS, "wh": "linear"}), lambda p, t: learner_loss(p, t, sqrt=False)),
    (lambda f: check.nms(f), stable_nms),
    (lambda f: check.average_precision(f), ap_101),
    (lambda f: check.average_precision(f, interpolation="voc11"), lambda r, p: ap_101(r, p, levels=11)),
    (lambda f: check.decode_wh_v5(f), v5_good),
    (lambda f: check.focal_loss(f), focal),
]


def test_the_catalogue_is_large_and_spans_the_checkers():
    assert len(CATALOGUE) >= 40
    assert len({name.split(":")[0] for name, *_ in CATALOGUE}) >= 15


@pytest.mark.parametrize("name, checker, wrong, case, words", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_each_wrong_answer_is_caught_with_its_hint(capsys, name, checker, wrong, case, words):
    result = checker(wrong)
    printed = capsys.readouterr().out
    assert not result and result.status == "failed", printed
    if case is not None:
        assert result.failed_case == case, printed
    flat = " ".join(printed.split())
    for word in words:
        assert word in flat, f"{word!r} not in the report:\n{printed}"


@pytest.mark.parametrize("checker, good", REFERENCES)
def test_the_reference_solutions_pass(capsys, checker, good):
    result = checker(good)
    assert result.passed, capsys.readouterr().out


# ------------------------------------------------------------------ answers, not functions


def test_answer_checkers_accept_the_right_answer_and_reject_a_wrong_one(capsys):
    scene = torch.tensor([[0.10, 0.10, 0.10, 0.10], [0.40, 0.60, 0.30, 0.40], [0.13, 0.05, 0.20, 0.30],
                          [0.35, 0.68, 0.10, 0.10], [0.90, 0.90, 0.20, 0.20]])
    largest_first = scene[(scene[:, 2] * scene[:, 3]).argsort(descending=True)]
    assert check.collisions(scene, [2, 3], largest_first)
    assert not check.collisions(scene, [0, 1], largest_first)  # the first listed keeps the cell
    assert not check.collisions(scene, [2, 3], scene)  # the given order drops the larger box 2
    vector = torch.zeros(25)
    vector[:5] = torch.tensor([0.3, 0.05, 0.2, 0.3, 1.0])
    vector[11] = 1.0
    assert check.encoded_cell((1, 6), vector, box=(0.9, 0.15, 0.2, 0.3), label=6)
    assert not check.encoded_cell((6, 1), vector, box=(0.9, 0.15, 0.2, 0.3), label=6)
    truth = torch.tensor([0.0, 0.0, 1.0, 1.0])
    side, diagonal = torch.tensor([0.5, 0.0, 1.5, 1.0]), truth + (1 - math.sqrt(0.5))
    assert check.same_iou_different_giou(truth, side, diagonal, "first")
    assert not check.same_iou_different_giou(truth, side, diagonal, "second")
    assert not check.same_iou_different_giou(truth, side, truth + 0.5, "first")  # IoUs differ
    out = " ".join(capsys.readouterr().out.split())
    assert "IoUs differ" in out and "sort by area" in out


def test_an_answer_left_at_none_is_not_attempted(capsys):
    result = check.balancing_lambda(None, batch=None)
    assert result.status == "not attempted"
    assert "not attempted yet" in capsys.readouterr().out


def test_the_loss_checker_passes_its_options_through(capsys):
    # A loss with an empty-cells no-object term passes when the exercise names that option.
    assert check.yolo_v1_loss(lambda p, t: learner_loss(p, t, empty_only=True, sqrt=True),
                              noobj_scope="empty_cells", **LOSS_OPTIONS)
    # ...and the options are checked as the package checks them.
    result = check.yolo_v1_loss(lambda p, t: 0.0, wh="cubic")
    assert result.status == "unavailable" and "wh" in result.report
    result = check.yolo_v1_loss(lambda p, t: 0.0, colour="red")
    assert result.status == "unavailable" and "no option 'colour'" in result.report
    capsys.readouterr()


# ------------------------------------------------------------------ strict mode, time limit


def test_strict_mode_prints_the_report_then_raises(capsys):
    with pytest.raises(AssertionError, match=r"check.iou: failed \(case 3 of 9\)"):
        check.iou(lambda a, b: _inter(a, b, False) / (_area(a) + _area(b) - _inter(a, b, False)), strict=True)
    assert "clamp it" in capsys.readouterr().out
    assert check.iou(good_iou, strict=True)


def test_nbgrader_execution_makes_every_checker_strict(capsys, monkeypatch):
    def stub(a, b):
        raise NotImplementedError

    assert check.iou(stub).status == "not attempted"  # a lesson run: reported, not raised
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="not attempted"):
        check.iou(stub)
    with pytest.raises(AssertionError):
        check.balancing_lambda(None, batch=None)
    assert "not attempted yet" in capsys.readouterr().out


def test_an_endless_loop_is_stopped_and_reported(capsys):
    result = check.iou(endless, time_limit=0.2)
    printed = capsys.readouterr().out
    assert result.status == "timeout"
    assert "took longer than 0.2 s: an endless loop?" in printed
    # A learner's `except Exception` does not swallow the stop.
    def stubborn(a, b):
        while True:
            try:
                endless()
            except Exception:
                pass

    assert check.iou(stubborn, time_limit=0.2).status == "timeout"
    capsys.readouterr()


# ------------------------------------------------------------------ 09: your own data


def parse_labels(data, *, encoding="utf-8-sig", errors="strict", lines=str.splitlines,
                 fields=str.split, skip_comments=False, label_dtype=torch.long, box_dtype=torch.float32,
                 reshape=True, skip=lambda line, parts: not parts):
    """A learner's label reader, written here without the package, with switches for mistakes."""
    text = data.decode(encoding, errors)
    if encoding == "latin-1":
        text = text.removeprefix("\ufeff").removeprefix("ï»¿")  # a BOM dropped by hand
    boxes, labels = [], []
    for line in lines(text):
        parts = fields(line)
        if skip_comments and parts and parts[0].startswith("#"):
            continue
        if skip(line, parts):
            continue
        labels.append(int(parts[0]))
        boxes.append([float(v) for v in parts[1:]])
    boxes = torch.tensor(boxes, dtype=box_dtype)
    return (boxes.reshape(-1, 4) if reshape else boxes), torch.tensor(labels, dtype=label_dtype)


def batch_of_step_variant(step, n, b, drop_last=True, *, per_epoch=None, stop_past_end=False, guard=False,
                          epoch_by_images=False, batch_index=False):
    """A learner's batch_of_step (train's rule by hand), with switches for mistakes."""
    per = per_epoch(n, b) if per_epoch else (n // b if drop_last else math.ceil(n / b))
    if guard:
        per = max(per, 1)
    if per == 0:
        raise ValueError("no batch")
    epoch, k = divmod(step, per)
    if epoch_by_images:
        epoch = step // b
    if batch_index:
        return epoch, k, k + 1
    start = k * b
    return epoch, start, start + b if stop_past_end else min(start + b, n)


DATA_CATALOGUE = [
    ("labels: float labels", check.parse_label_bytes, lambda d: parse_labels(d, label_dtype=torch.float32), 1, ["class indices are integers"]),
    ("labels: float64 boxes", check.parse_label_bytes, lambda d: parse_labels(d, box_dtype=torch.float64), 1, ["expected float32"]),
    ("labels: split(' ')", check.parse_label_bytes, lambda d: parse_labels(d, fields=lambda s: s.split(" ") if s else []), 3, ["on a file that the reader reads", "not line.split(' ')"]),
    ("labels: no objects, shape [0]", check.parse_label_bytes, lambda d: parse_labels(d, reshape=False), 5, ["shape [0] instead of [0, 4]", "torch.zeros(0, 4)"]),
    ("labels: utf-8 keeps the BOM", check.parse_label_bytes, lambda d: parse_labels(d, encoding="utf-8"), 6, ["'\\ufeff0'", "'utf-8-sig'"]),
    ("labels: Latin-1 read", check.parse_label_bytes, lambda d: parse_labels(d, encoding="latin-1", skip_comments=True), 7, ["read a file that is not UTF-8", "not Latin-1"]),
    ("labels: errors ignored", check.parse_label_bytes, lambda d: parse_labels(d, errors="ignore", skip_comments=True), 7, ["must raise a ValueError"]),
    ("labels: refusal silent on UTF-8", check.parse_label_bytes, lambda d: parse_labels(d, encoding="latin-1"), 7, ["does not say that the file must be UTF-8"]),
    ("batch: ceil with drop_last", check.batch_of_step, lambda *a, **k: batch_of_step_variant(*a, **k, per_epoch=lambda n, b: math.ceil(n / b)), 4, ["round down, not up"]),
    ("batch: drop_last ignored", check.batch_of_step, lambda *a, **k: batch_of_step_variant(*a, **k, per_epoch=lambda n, b: n // b), 5, ["ceil(500 / 32) = 16"]),
    ("batch: stop past the end", check.batch_of_step, lambda *a, **k: batch_of_step_variant(*a, **k, stop_past_end=True), 6, ["min(start + batch_size, num_images)"]),
    ("batch: guarded division", check.batch_of_step, lambda *a, **k: batch_of_step_variant(*a, **k, guard=True), 8, ["expected a ValueError", "max(..., 1)"]),
    ("batch: epoch = step // batch_size", check.batch_of_step, lambda *a, **k: batch_of_step_variant(*a, **k, epoch_by_images=True), 2, ["divmod(step, batches per epoch)"]),
    ("batch: batch index, not positions", check.batch_of_step, lambda *a, **k: batch_of_step_variant(*a, **k, batch_index=True), 1, ["return (0, 0, 32)"]),
]


@pytest.mark.parametrize("name, checker, wrong, case, words", DATA_CATALOGUE, ids=[c[0] for c in DATA_CATALOGUE])
def test_each_wrong_data_answer_is_caught_with_its_hint(capsys, name, checker, wrong, case, words):
    test_each_wrong_answer_is_caught_with_its_hint(capsys, name, checker, wrong, case, words)


@pytest.mark.parametrize("checker, good", [(check.parse_label_bytes, parse_labels),
                                           (check.batch_of_step, batch_of_step_variant)])
def test_the_data_reference_solutions_pass(capsys, checker, good):
    result = checker(good)
    assert result.passed and result.cases >= 8, capsys.readouterr().out


@pytest.mark.parametrize("wrong, case, words", [
    # text.split("\n") leaves an empty last line: its fields[0] is an IndexError.
    (lambda d: parse_labels(d, lines=lambda s: s.split("\n"), skip=lambda line, parts: False), 2, ["IndexError", "splitlines() does not"]),
    # Skipping only "" lines: a Windows blank line is "\r".
    (lambda d: parse_labels(d, lines=lambda s: s.split("\n"), skip=lambda line, parts: line == ""), 4, ["IndexError", "not for an empty string"]),
])
def test_a_label_reader_that_raises_is_reported_on_its_case(capsys, wrong, case, words):
    result = check.parse_label_bytes(wrong)
    printed = " ".join(capsys.readouterr().out.split())
    assert result.status == "raised" and result.failed_case == case, printed
    for word in words:
        assert word in printed, printed


def test_the_data_checkers_report_a_stub_as_not_attempted(capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    assert check.parse_label_bytes(stub).status == "not attempted"
    assert check.batch_of_step(stub).status == "not attempted"
    assert capsys.readouterr().out.count("not attempted yet") == 2
