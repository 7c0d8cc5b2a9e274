# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · From predictions to detections: NMS, precision–recall and mAP
#
# ## Learning goals
#
# After this lesson you can:
#
# - turn a raw YOLOv1 output `[N, S, S, B*5 + C]` into scored, labelled image boxes;
# - write greedy non-maximum suppression (NMS) and its class-aware version, and say what the IoU
#   threshold trades off;
# - decide which detections are true positives, and draw the precision–recall curve they make;
# - compute average precision with the PASCAL VOC (all-point) and COCO (101-point) interpolations,
#   and the mean over classes, mAP.
#
# **Why this matters.** The loss of [lesson 03](03_yolov1_loss.ipynb) tells the network what to learn, but
# it is not what anyone reports. A YOLOv1 network answers with $S \cdot S \cdot B = 98$ boxes
# per image whatever the image holds; a user wants *one* box per object, and a paper wants *one
# number* per model. Between the two sit a few short algorithms — a score, a suppression, a
# matching rule, an interpolation — and each one is a choice that moves the final number. We
# build each of them inline on a small made-up example, check it against `yolo_lesson.metrics`,
# and then use the package.

# %%
# On Google Colab only: install the course package and its widgets from the repository.
try:
    import google.colab  # noqa: F401 (only Colab has this module)
except ImportError:
    pass
else:
    import subprocess
    import sys

    COURSE = "yolo-lesson[widgets] @ git+https://github.com/yolo-loss-from-scratch/course"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", COURSE], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip could not install {COURSE}:\n{done.stderr[-2000:]}")

# %%
import matplotlib.pyplot as plt
import torch
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from yolo_lesson.boxes import box_iou, cxcywh_to_xyxy
from yolo_lesson.grid import assign_cells, decode_predictions
from yolo_lesson.metrics import (
    average_precision,
    batched_nms,
    detections_from_predictions,
    match_detections,
    mean_average_precision,
    nms,
    precision_recall_curve,
)
from yolo_lesson.viz import PALETTE, draw_boxes, draw_grid, image_axes

_ = torch.manual_seed(0)

# %% [markdown]
# ## 1 · A small scene and a made-up network
#
# We need ground truth and a network output, and we want to control both, so we make them up.
# Eight images on the paper's 7 × 7 grid with B = 2 predictors per cell, and C = 3 classes.
# Each image holds two to four objects, given as `cxcywh` boxes normalized to the image
# ([lesson 02](02_grid_and_targets.ipynb)); objects whose centres share a cell are dropped, since
# a YOLOv1 cell holds one object.

# %%
S, B, C = 7, 2, 3
CLASS_NAMES = ("circle", "square", "triangle")
generator = torch.Generator().manual_seed(7)


def random_objects(k):
    """k objects: cxcywh boxes [k, 4] and labels [k]; one object per cell."""
    centres = 0.15 + 0.7 * torch.rand(k, 2, generator=generator)
    sizes = 0.12 + 0.2 * torch.rand(k, 2, generator=generator)
    boxes = torch.cat((centres, sizes), dim=1)  # [k, 4] cxcywh
    labels = torch.randint(0, C, (k,), generator=generator)
    kept = assign_cells(boxes, S).kept
    return boxes[kept], labels[kept]


scenes = [random_objects(int(torch.randint(2, 5, (), generator=generator))) for _ in range(8)]
print("objects per image:", [len(labels) for _, labels in scenes])

# %% [markdown]
# The "network" imitates a half-trained YOLOv1. Every predictor of every cell guesses a small box
# with a low confidence and a vague class. For each object, its own cell fires on noisy copies of
# the object's box with a high confidence and a peaked class score, and the neighbouring cell on
# the side of the centre fires too, less confidently: real YOLOs do exactly this, and it is why
# they need NMS. Each object gets its own noise level, so some are found precisely and some
# badly.

# %%
def fire(out, row, col, box, label, confidence, noise):
    """Writes noisy copies of `box` (cxcywh) into both predictors of cell (row, col); `noise`
    is the spread of the errors as a fraction of the box size."""
    if not (0 <= row < S and 0 <= col < S):
        return
    for b in range(B):
        jitter = (noise * torch.randn(4, generator=generator)).tolist()
        cx, cy = box[0] + box[2] * jitter[0], box[1] + box[3] * jitter[1]
        w, h = box[2] * (1 + jitter[2]), box[3] * (1 + jitter[3])
        conf = confidence * (1 - 0.25 * b)  # the second predictor is a bit less sure
        # The network outputs the roots of the sizes (paper, section 2.2).
        out[row, col, 5 * b : 5 * b + 5] = torch.tensor([cx * S - col, cy * S - row, abs(w) ** 0.5, abs(h) ** 0.5, conf])
    peak = 3.0 * torch.nn.functional.one_hot(torch.tensor(label), C)
    out[row, col, B * 5 :] = torch.softmax(peak + torch.randn(C, generator=generator), dim=0)


# %%
def uniform():
    return float(torch.rand((), generator=generator))


def made_up_output(boxes, labels):
    """A fake YOLOv1 output [S, S, B*5 + C] for one image."""
    out = torch.rand(S, S, B * 5 + C, generator=generator)  # background: x, y in the cell
    blocks = out[..., : B * 5].view(S, S, B, 5)  # a view: writing into it writes into out
    blocks[..., 2:4] = (0.05 + 0.2 * blocks[..., 2:4]).sqrt()  # small background boxes (outputs √w, √h)
    blocks[..., 4] *= 0.15  # with low confidence
    out[..., B * 5 :] = torch.softmax(torch.randn(S, S, C, generator=generator), dim=-1)
    cells = assign_cells(boxes, S)
    for box, label, row, col in zip(boxes.tolist(), labels.tolist(), cells.rows, cells.cols):
        noise = 0.03 + 0.12 * uniform()
        side = 1 if box[0] * S - col > 0.5 else -1  # the neighbour nearer to the centre
        fire(out, int(row), int(col) + side, box, label, 0.3 + 0.4 * uniform(), 1.5 * noise)
        fire(out, int(row), int(col), box, label, 0.6 + 0.4 * uniform(), noise)
    # one false alarm per image: a confident box on whatever a random cell holds
    row, col = torch.randint(0, S, (2,), generator=generator).tolist()
    alarm = [(col + uniform()) / S, (row + uniform()) / S, 0.1 + 0.2 * uniform(), 0.1 + 0.2 * uniform()]
    fire(out, row, col, alarm, int(torch.randint(0, C, (), generator=generator)), 0.3 + 0.5 * uniform(), 0.05)
    return out


pred = torch.stack([made_up_output(boxes, labels) for boxes, labels in scenes])  # [8, 7, 7, 13]
targets = [{"boxes": cxcywh_to_xyxy(boxes), "labels": labels} for boxes, labels in scenes]
print("pred:", tuple(pred.shape), "= [N, S, S, B*5 + C]")

# %% [markdown]
# We follow one of the images through the lesson. Its ground truth, on the grid:

# %% mystnb={"image": {"alt": "One image on the 7 by 7 grid with its ground-truth boxes dashed and labelled with their classes."}}
def draw_truth(ax, target):
    names = [CLASS_NAMES[c] for c in target["labels"].tolist()]
    draw_boxes(ax, target["boxes"], color="0.15", labels=names, linestyle="--", centres=False, lw=1.5)


shown = 2  # the image drawn in the figures
ax = image_axes(size=4.5, title=f"image {shown}: ground truth")
draw_grid(ax, S)
draw_truth(ax, targets[shown])
plt.show()

# %% [markdown]
# ## 2 · Decoding: from cells to image boxes
#
# [Lesson 02](02_grid_and_targets.ipynb) built the decoding; here is the short version. Predictor
# $j$ of the cell in row $r$, column $c$ holds $(x, y, s_w, s_h, \text{conf})$ with $x, y$ the centre's
# offset inside the cell and $s_w, s_h$ the square roots of the box's size relative to the image
# (the paper's parametrization, [lesson 03](03_yolov1_loss.ipynb)), so its box is
#
# $$ c_x = \frac{c + x}{S}, \qquad c_y = \frac{r + y}{S}, \qquad w = s_w^2, \qquad h = s_h^2. $$
#
# Its **score** is YOLOv1's *class-specific confidence*: the box's confidence times the cell's
# class score,
#
# $$ \text{score}_{c} = \text{conf} \cdot p(c), $$
#
# which the paper reads as $\Pr(\text{object}) \cdot \text{IoU} \cdot \Pr(c \mid \text{object})$.
# The paper keeps that score for **every** class of every box ("class-specific confidence scores
# for each box", section 2; darknet's `get_detection_boxes` fills one probability per class), and
# non-maximum suppression then runs class by class. Many implementations, and this package by
# default, keep only the cell's best class as the label: with a confidence $\ge 0$, the best
# product is the product with the best class. Section 10 compares the two.

# %%
def decode_inline(pred, S, B, C):
    N = pred.shape[0]
    blocks = pred[..., : B * 5].reshape(N, S, S, B, 5)  # [N, S, S, B, 5]
    index = torch.arange(S, dtype=pred.dtype)
    cx = (index[None, None, :, None] + blocks[..., 0]) / S  # column index runs along dim 2
    cy = (index[None, :, None, None] + blocks[..., 1]) / S  # row index runs along dim 1
    w, h = blocks[..., 2] ** 2, blocks[..., 3] ** 2  # the outputs are √w, √h
    boxes = torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)
    best_score, best_class = pred[..., B * 5 :].max(dim=-1)  # [N, S, S] each
    scores = blocks[..., 4] * best_score[..., None]  # [N, S, S, B]
    labels = best_class[..., None].expand(N, S, S, B)
    return boxes.reshape(N, -1, 4), scores.reshape(N, -1), labels.reshape(N, -1)


# %%
boxes, scores, labels = decode_inline(pred, S, B, C)
decoded = decode_predictions(pred, S, B, C)
torch.testing.assert_close(boxes, decoded.boxes)
torch.testing.assert_close(scores, decoded.scores)
assert torch.equal(labels, decoded.labels)
print("decode_inline matches decode_predictions:", tuple(decoded.boxes.shape), "boxes")

# %% [markdown]
# Ninety-eight boxes per image. Drawn with an opacity equal to their score, most fade into the
# background, but each object is covered by a small crowd of confident boxes, and here and there
# a confident box stands where nothing is:

# %% mystnb={"image": {"alt": "All 98 boxes decoded from one image, coloured by class with opacity following their score, over the dashed ground truth; a legend names the class colours."}}
def draw_scored(ax, boxes, scores, labels, min_score=0.0, text=False):
    """Boxes coloured by class; opacity = score (boxes at or below min_score are skipped)."""
    for box, score, label in zip(boxes.tolist(), scores.tolist(), labels.tolist()):
        if score <= min_score:
            continue
        x1, y1, x2, y2 = box
        color = PALETTE[1 + label]
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color,
                               lw=1.8, alpha=min(1.0, max(0.08, score))))
        if text:
            ax.text(x1, y2 + 0.01, f"{score:.2f}", color=color, fontsize=8, va="top")


def class_legend(ax):
    """A legend for the class colours and the dashed ground truth, right of the axes."""
    handles = [Line2D([], [], color=PALETTE[1 + c], lw=2, label=name) for c, name in enumerate(CLASS_NAMES)]
    handles.append(Line2D([], [], color="0.15", lw=1.5, ls="--", label="ground truth"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=9)


fig, ax = plt.subplots(figsize=(6, 4.5))
image_axes(ax, title=f"image {shown}: all 98 decoded boxes, opacity = score")
draw_scored(ax, decoded.boxes[shown], decoded.scores[shown], decoded.labels[shown])
draw_truth(ax, targets[shown])
class_legend(ax)
plt.show()

# %% [markdown]
# ## 3 · A score threshold
#
# The first filter is the cheapest: drop every box whose score is at most a threshold. A
# threshold for *drawing* is high (around 0.2 in the YOLOv1 demo code); a threshold for
# *evaluation* is low (0.001–0.05), because, as section 7 shows, average precision rewards a
# long, well-ordered list of candidates and never punishes the low end of it.

# %%
score_threshold = 0.1
confident = decoded.scores[shown] > score_threshold
print(f"image {shown}: {int(confident.sum())} of {confident.numel()} boxes have a score > {score_threshold}")
for k in (0.05, 0.2, 0.4):
    print(f"  score > {k}: {int((decoded.scores[shown] > k).sum())} boxes")

# %% [markdown]
# ## 4 · Non-maximum suppression
#
# The survivors still come in clusters: every object has two predictors in its own cell and two
# in the neighbouring cell. **Greedy NMS** keeps one box per cluster:
#
# 1. rank the boxes by decreasing score (equal scores: lower index first);
# 2. walk down the ranking; a box is **kept** unless it overlaps an already kept box by more than
#    the threshold $t$:
#
# $$ \text{keep } b_i \iff \mathrm{IoU}(b_i, b_j) \le t \ \text{ for every kept } b_j \text{ ranked above } b_i. $$
#
# A suppressed box suppresses nothing: only kept boxes vote.

# %%
def my_nms(boxes, scores, iou_threshold):
    ranking = torch.sort(scores, descending=True, stable=True).indices
    kept = []
    for i in ranking.tolist():
        overlaps = box_iou(boxes[i : i + 1], boxes[kept])  # [1, len(kept)]
        if bool((overlaps <= iou_threshold).all()):
            kept.append(i)
    return torch.tensor(kept, dtype=torch.long)


# %% [markdown]
# On every image, after the score threshold, it agrees with the package's `nms` index for index:

# %%
for n in range(len(pred)):
    keep = decoded.scores[n] > score_threshold
    b, s = decoded.boxes[n][keep], decoded.scores[n][keep]
    for t in (0.3, 0.5, 0.7):
        assert torch.equal(my_nms(b, s, t), nms(b, s, t))
print(f"my_nms equals yolo_lesson.metrics.nms on {len(pred)} images × 3 thresholds")

# %% [markdown]
# Plain NMS ignores the labels: a square overlapping a circle can be removed by it. The
# **class-aware** version runs NMS separately per class, and merges the kept boxes by score. It
# is what detectors use, because two objects of different classes may well overlap (a rider
# and a horse).

# %%
def my_batched_nms(boxes, scores, labels, iou_threshold):
    kept = []
    for c in labels.unique().tolist():
        mine = torch.nonzero(labels == c).flatten()  # indices of class c
        kept.append(mine[my_nms(boxes[mine], scores[mine], iou_threshold)])
    kept = torch.cat(kept).sort().values  # index order first, so that ties rank by index
    return kept[torch.sort(scores[kept], descending=True, stable=True).indices]


for n in range(len(pred)):
    keep = decoded.scores[n] > score_threshold
    b, s, l = decoded.boxes[n][keep], decoded.scores[n][keep], decoded.labels[n][keep]
    assert torch.equal(my_batched_nms(b, s, l, 0.5), batched_nms(b, s, l, 0.5))
print("my_batched_nms equals yolo_lesson.metrics.batched_nms")

# %% [markdown]
# Before and after, on our image:

# %% mystnb={"image": {"alt": "Left: the boxes with a score above the threshold, many overlapping. Right: the few left after class-aware non-maximum suppression, each with its score, over the dashed ground truth."}}
n = shown
keep = decoded.scores[n] > score_threshold
b, s, l = decoded.boxes[n][keep], decoded.scores[n][keep], decoded.labels[n][keep]
kept = batched_nms(b, s, l, iou_threshold=0.5)
fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 5))
image_axes(left, title=f"score > {score_threshold}: {len(s)} boxes")
image_axes(right, title=f"after class-aware NMS (IoU > 0.5 suppressed): {len(kept)} boxes")
draw_scored(left, b, s, l)
draw_scored(right, b[kept], s[kept], l[kept], text=True)
for ax in (left, right):
    draw_truth(ax, targets[n])
class_legend(right)
fig.tight_layout()
plt.show()

# %% [markdown]
# The threshold $t$ is a trade-off. Too low, and a real object standing next to another of its
# class is suppressed; too high, and duplicates survive. How many boxes remain, over all the
# images, for a few thresholds:

# %%
candidates = [(decoded.boxes[n][decoded.scores[n] > score_threshold],
               decoded.scores[n][decoded.scores[n] > score_threshold],
               decoded.labels[n][decoded.scores[n] > score_threshold]) for n in range(len(pred))]
num_objects = sum(len(t["labels"]) for t in targets)
for t in (0.1, 0.3, 0.5, 0.7, 0.9):
    total = sum(len(batched_nms(b, s, l, t)) for b, s, l in candidates)
    print(f"IoU threshold {t}: {total:3d} detections kept for {num_objects} objects")

# %% [markdown]
# ## 5 · True and false positives
#
# To score detections we must say which ones are right. For one class in one image, the rule
# (COCO's) is greedy in score order:
#
# - visit the detections from the highest score down;
# - each takes the **still unmatched** ground-truth box it overlaps most; if that IoU is
#   $\ge$ the matching threshold (0.5 here), the detection is a **true positive** (TP) and the
#   ground truth is used up; otherwise it is a **false positive** (FP).
#
# So a second box on an already found object is a false positive: a duplicate costs as much as a
# box on empty background. Ground truth left unmatched is a **miss**. (PASCAL VOC's rule differs
# in a corner: a detection looks only at its best-overlapping ground truth, and if that one is
# taken it is a false positive even when another object would have matched.)

# %%
def my_match(boxes, scores, gt_boxes, iou_threshold=0.5):
    is_tp = torch.zeros(len(boxes), dtype=torch.bool)
    used = torch.zeros(len(gt_boxes), dtype=torch.bool)
    for i in torch.sort(scores, descending=True, stable=True).indices.tolist():
        if len(gt_boxes) == 0:
            break
        overlaps = box_iou(boxes[i : i + 1], gt_boxes)[0].masked_fill(used, -1.0)  # [G]
        best = int(overlaps.argmax())
        if overlaps[best] >= iou_threshold:
            is_tp[i], used[best] = True, True
    return is_tp


# %% [markdown]
# We run the whole pipeline so far on every image (score threshold, class-aware NMS), then
# match each class separately and compare with the package's `match_detections`:

# %%
detections = []
for b, s, l in candidates:
    kept = batched_nms(b, s, l, 0.5)
    detections.append({"boxes": b[kept], "scores": s[kept], "labels": l[kept]})

for det, target in zip(detections, targets):
    for c in range(C):
        d, g = det["labels"] == c, target["labels"] == c
        mine = my_match(det["boxes"][d], det["scores"][d], target["boxes"][g])
        assert torch.equal(mine, match_detections(det["boxes"][d], det["scores"][d], target["boxes"][g]))
print("my_match equals yolo_lesson.metrics.match_detections on every image and class")

# %% [markdown]
# ## 6 · The precision–recall curve
#
# Now pool one class's detections from **all** images and rank them by score. After the top $k$
# of them, with $TP_k$ true positives among them and $G$ objects of that class in the data set:
#
# $$ P_k = \frac{TP_k}{k} \quad \text{(precision: how many of my answers are right)}, \qquad
#    R_k = \frac{TP_k}{G} \quad \text{(recall: how many objects I found)}. $$
#
# Going down the ranking is like lowering a score threshold one detection at a time: recall can
# only grow, precision zigzags — down at every false positive, up at every true positive. The
# objects nobody detected sit in $G$ and cap the recall below 1.

# %%
def pooled(detections, targets, c, iou_threshold=0.5):
    """Scores, TP flags and number of objects of class c over all images."""
    scores, hits, num_gt = [], [], 0
    for det, target in zip(detections, targets):
        d, g = det["labels"] == c, target["labels"] == c
        scores.append(det["scores"][d])
        hits.append(match_detections(det["boxes"][d], det["scores"][d], target["boxes"][g], iou_threshold))
        num_gt += int(g.sum())
    return torch.cat(scores), torch.cat(hits), num_gt


c = 0
class_scores, class_hits, num_gt = pooled(detections, targets, c)
print(f"class {c} ({CLASS_NAMES[c]}): {len(class_scores)} detections, "
      f"{int(class_hits.sum())} true positives, {num_gt} objects")

# %%
ranking = torch.sort(class_scores, descending=True, stable=True).indices
tp = class_hits[ranking].double().cumsum(0)  # TP_k
k = torch.arange(1, len(ranking) + 1, dtype=torch.float64)
precision, recall = tp / k, tp / num_gt

curve = precision_recall_curve(class_scores, class_hits, num_gt)
torch.testing.assert_close(precision, curve.precision)
torch.testing.assert_close(recall, curve.recall)
print(" k  score  TP?   P_k    R_k")
for i in range(min(12, len(ranking))):
    print(f"{i + 1:2d}  {class_scores[ranking[i]]:.3f}  {'TP' if class_hits[ranking[i]] else 'FP'}"
          f"  {precision[i]:.3f}  {recall[i]:.3f}")
print(f"... and {len(ranking) - 12} more, all false positives" if not class_hits[ranking[12:]].any() else "...")

# %% [markdown]
# ## 7 · Average precision, two ways
#
# A zigzag is awkward to average, so both standard definitions first replace precision by its
# **envelope**: at recall $r$, the best precision reachable at $r$ *or beyond* (if lowering the
# threshold further would give both more recall and more precision, we would just do it):
#
# $$ P_\text{interp}(r) = \max_{k:\ R_k \ge r} P_k \qquad (0 \text{ if the recall } r \text{ is never reached}). $$
#
# In code we take a running maximum from the end of the list, $\max_{j \ge k} P_j$. It looks at later
# ranks rather than at recall, so it can differ from $P_\text{interp}(R_k)$ at a rank that adds no
# recall (a false positive whose recall ties the rank before it); such a rank contributes nothing to
# the sums below, so the AP is the same:

# %%
def envelope(precision):
    return precision.flip(0).cummax(0).values.flip(0)  # envelope[k] = max(precision[k:])


print("precision, top 10:", [round(p, 3) for p in precision[:10].tolist()])
print("envelope,  top 10:", [round(p, 3) for p in envelope(precision)[:10].tolist()])

# %% [markdown]
# **PASCAL VOC, all points** (VOC 2010 and later): the exact area under the envelope, a sum of
# rectangles, one per recall step ($R_0 = 0$):
#
# $$ AP_\text{VOC} = \sum_{k=1}^{D} (R_k - R_{k-1}) \, P_\text{interp}(R_k). $$
#
# **COCO, 101 points**: the envelope sampled at the recall levels $0, 0.01, \dots, 1$ and
# averaged:
#
# $$ AP_\text{COCO} = \frac{1}{101} \sum_{j=0}^{100} P_\text{interp}\!\left(\tfrac{j}{100}\right). $$

# %%
def ap_voc_all(recall, precision):
    steps = recall - torch.cat((torch.zeros(1, dtype=recall.dtype), recall[:-1]))  # R_k - R_{k-1}
    return float((steps * envelope(precision)).sum())


def ap_coco101(recall, precision):
    pairs = list(zip(recall.tolist(), precision.tolist()))
    levels = [j / 100 for j in range(101)]
    return sum(max((p for r, p in pairs if r >= level), default=0.0) for level in levels) / 101


# %% [markdown]
# A hand example first. Five detections, four objects, ranked outcomes TP, FP, TP, FP, TP:
#
# | k | 1 | 2 | 3 | 4 | 5 |
# |---|---|---|---|---|---|
# | $P_k$ | 1 | 1/2 | 2/3 | 1/2 | 3/5 |
# | $R_k$ | 1/4 | 1/4 | 1/2 | 1/2 | 3/4 |
# | $P_\text{interp}(R_k)$ | 1 | 1 | 2/3 | 2/3 | 3/5 |
# | running max, $\max_{j \ge k} P_j$ | 1 | 2/3 | 2/3 | 3/5 | 3/5 |
#
# The two rows differ only at $k = 2$ and $k = 4$, the false positives, where $R_k = R_{k-1}$ and the
# recall step is 0.
# VOC: three recall steps of 1/4, at envelope 1, 2/3 and 3/5: $AP = \frac14 (1 + \frac23 + \frac35) = \frac{17}{30} \approx 0.567$.
# COCO: the 26 levels $0 \dots 0.25$ get 1, the 25 levels $0.26 \dots 0.50$ get 2/3, the 25
# levels $0.51 \dots 0.75$ get 3/5, the last 25 get 0 (recall 0.8 is never reached):
# $AP = (26 + 25 \cdot \frac23 + 25 \cdot \frac35) / 101 = \frac{173}{303} \approx 0.571$.

# %%
hand_precision = torch.tensor([1, 1 / 2, 2 / 3, 1 / 2, 3 / 5], dtype=torch.float64)
hand_recall = torch.tensor([1 / 4, 1 / 4, 1 / 2, 1 / 2, 3 / 4], dtype=torch.float64)
torch.testing.assert_close(ap_voc_all(hand_recall, hand_precision), 17 / 30)
torch.testing.assert_close(ap_coco101(hand_recall, hand_precision), 173 / 303)
for name in ("voc_all", "coco101"):
    print(f"{name}: {average_precision(hand_recall, hand_precision, interpolation=name):.4f}")

# %% [markdown]
# On class 0 of our scene, the inline versions agree with the package's `average_precision`:

# %%
torch.testing.assert_close(ap_voc_all(recall, precision), average_precision(recall, precision, "voc_all"))
torch.testing.assert_close(ap_coco101(recall, precision), average_precision(recall, precision, "coco101"))
print(f"class {c}: AP (VOC all-point) = {ap_voc_all(recall, precision):.4f}, "
      f"AP (COCO 101-point) = {ap_coco101(recall, precision):.4f}")

# %% [markdown]
# The two definitions usually differ little. COCO's levels include both ends, 0 and 1: 101
# samples for 100 gaps, so the sample at recall 0 (the best precision anywhere) counts once more
# than in a pure area, and a recall that falls between two levels counts only up to the level
# below it. In the picture, the zigzag is the raw curve, the step line its envelope, the shaded area VOC's AP,
# and the dots COCO's 101 samples:

# %% mystnb={"image": {"alt": "A precision-recall curve for one class: the zigzag of precision, its stepped envelope with the VOC area under it shaded, and the 101 COCO sample points; the legend gives both averages."}}
fig, ax = plt.subplots(figsize=(7, 4.5))
r = torch.cat((torch.zeros(1, dtype=torch.float64), recall))  # start the zigzag at recall 0
ax.plot(r, torch.cat((precision[:1], precision)), color="0.6", lw=1, marker=".", label="precision $P_k$")
ax.fill_between(r, torch.cat((envelope(precision)[:1], envelope(precision))), step="pre",
                color=PALETTE[0], alpha=0.15, label=f"VOC area = {ap_voc_all(recall, precision):.4f}")
ax.step(r, torch.cat((envelope(precision)[:1], envelope(precision))), where="pre", color=PALETTE[0], lw=2,
        label="envelope $P_\\mathrm{interp}$")
levels = torch.arange(101, dtype=torch.float64) / 100
samples = [max((p for q, p in zip(recall.tolist(), precision.tolist()) if q >= v), default=0.0) for v in levels.tolist()]
ax.plot(levels, samples, "o", ms=2.5, color=PALETTE[1], label=f"COCO samples, mean = {ap_coco101(recall, precision):.4f}")
ax.set(xlim=(0, 1.02), ylim=(0, 1.05), xlabel="recall", ylabel="precision",
       title=f"class {c} ({CLASS_NAMES[c]}): precision–recall over {len(pred)} images")
ax.legend(loc="lower left", fontsize=9)
plt.show()

# %% [markdown]
# ## 8 · Mean average precision
#
# One AP per class; **mAP** is their plain mean,
#
# $$ mAP = \frac{1}{|\mathcal{C}|} \sum_{c \in \mathcal{C}} AP_c, $$
#
# over the classes $\mathcal{C}$ that have at least one object in the data set. A class with
# objects but no detection has AP 0 and pulls the mean down; a class with detections but no
# object anywhere has no recall to speak of, and is left out. Every class weighs the same,
# however many objects it has.

# %%
per_class = {}
for c in range(C):
    class_scores, class_hits, num_gt = pooled(detections, targets, c)
    if num_gt > 0:
        curve = precision_recall_curve(class_scores, class_hits, num_gt)
        per_class[c] = ap_voc_all(curve.recall, curve.precision)
my_map = sum(per_class.values()) / len(per_class)

result = mean_average_precision(detections, targets, iou_threshold=0.5, interpolation="voc_all")
torch.testing.assert_close(my_map, result.map)
for c, ap in result.per_class.items():
    torch.testing.assert_close(per_class[c], ap)
    print(f"AP[{CLASS_NAMES[c]:8s}] = {ap:.3f}")
print(f"mAP (VOC all-point, IoU 0.5) = {result.map:.3f}")

# %% [markdown]
# The matching threshold is part of the metric. PASCAL VOC uses IoU 0.5; COCO's headline "AP"
# averages the 101-point AP over ten thresholds 0.50, 0.55, …, 0.95, which rewards precise
# boxes. Our made-up network has noisy boxes, and the stricter thresholds show it:

# %% mystnb={"image": {"alt": "mAP against the IoU threshold for a true positive, from 0.5 to 0.95: it falls as the threshold rises; the title gives mAP at 0.5 and averaged over 0.5 to 0.95."}}
thresholds = [0.5 + 0.05 * i for i in range(10)]
maps = [mean_average_precision(detections, targets, t).map for t in thresholds]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(thresholds, maps, "o-", color=PALETTE[0])
ax.set(xlabel="IoU threshold for a true positive", ylabel="mAP (COCO 101-point)", ylim=(0, 1.05),
       title=f"mAP@0.5 = {maps[0]:.3f}, mAP@[0.5:0.95] = {sum(maps) / len(maps):.3f}")
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 9 · The whole pipeline in two calls
#
# `detections_from_predictions` chains what sections 2–4 did (decode, score threshold,
# class-aware NMS) and returns the per-image dicts `{"boxes", "scores", "labels"}` that
# `mean_average_precision` reads — the same convention as `torchmetrics`. It is what
# [lesson 06](06_training_a_tiny_yolo.ipynb) uses to evaluate a trained model.

# %%
packaged = detections_from_predictions(pred, S, B, C, score_threshold=0.1, iou_threshold=0.5)
for mine, theirs in zip(detections, packaged):
    for key in ("boxes", "scores", "labels"):
        torch.testing.assert_close(mine[key], theirs[key])
for name in ("voc_all", "coco101"):
    print(f"mAP@0.5 ({name}): {mean_average_precision(packaged, targets, 0.5, name).map:.3f}")

# %% [markdown]
# ## 10 · The paper's scores: every class of every box
#
# Keeping only the best class throws candidates away. Take a cell whose object is a square but
# whose class scores say circle 0.55, square 0.45. With the best class only, the cell yields one
# detection, "circle", and the square is missed, however good the box. With one score per class,
# the same box is also a "square" detection, with score $\text{conf} \cdot 0.45$: ranked lower, but
# there. The cost is more candidates, $C$ per box instead of one, which the per-class NMS and the
# ranking of AP handle. Inline:

# %%
def per_class_detections(pred, S, B, C, score_threshold, iou_threshold):
    """Every box with every class: score conf · p(c), then class-aware NMS, per image."""
    N = pred.shape[0]
    decoded = decode_predictions(pred, S, B, C)                             # boxes [N, S·S·B, 4]
    conf = pred[..., : B * 5].reshape(N, S, S, B, 5)[..., 4]                # [N, S, S, B]
    class_scores = (conf[..., None] * pred[..., None, B * 5 :]).reshape(N, S * S * B * C)
    labels = torch.arange(C).repeat(S * S * B)                               # [S·S·B·C]: 0..C-1, 0..C-1, ...
    found = []
    for n in range(N):
        boxes = decoded.boxes[n].repeat_interleave(C, dim=0)                 # each box C times
        keep = class_scores[n] > score_threshold
        kept = batched_nms(boxes[keep], class_scores[n][keep], labels[keep], iou_threshold)
        found.append({"boxes": boxes[keep][kept], "scores": class_scores[n][keep][kept],
                      "labels": labels[keep][kept]})
    return found


def recall(detections, targets, iou_threshold=0.5):
    """Share of all objects that some detection of their class matches (at any score)."""
    hits = total = 0
    for det, target in zip(detections, targets):
        for c in range(C):
            d, g = det["labels"] == c, target["labels"] == c
            hits += int(match_detections(det["boxes"][d], det["scores"][d], target["boxes"][g], iou_threshold).sum())
            total += int(g.sum())
    return hits / total


best_only = detections_from_predictions(pred, S, B, C, score_threshold=0.01, iou_threshold=0.5)
every_class = per_class_detections(pred, S, B, C, score_threshold=0.01, iou_threshold=0.5)
packaged_every = detections_from_predictions(pred, S, B, C, score_threshold=0.01, iou_threshold=0.5,
                                             scoring="every_class")
for mine, theirs in zip(every_class, packaged_every):
    for key in ("boxes", "scores", "labels"):
        torch.testing.assert_close(mine[key], theirs[key])
for name, found in (("best class only", best_only), ("every class", every_class)):
    print(f"{name:>16}: {sum(len(d['labels']) for d in found):4d} detections, recall {recall(found, targets):.3f}, "
          f"mAP@0.5 {mean_average_precision(found, targets, 0.5).map:.3f}")

# %% [markdown]
# `detections_from_predictions(..., scoring="every_class")` is the package's form of it. With every
# class, the made-up network's recall at IoU 0.5 goes from 0.957 to 1.000: the objects
# whose cell named the wrong best class are now found, by a lower-ranked detection of the right
# class. The price is twice as many detections, most of them low-scored wrong-class copies; AP
# ranks them low, and here mAP@0.5 rises from 0.919 to 0.952. That is one made-up network: the
# size of the effect depends on how often a cell's best class is wrong.

# %% [markdown]
# ## Summary
#
# - A YOLOv1 output gives $S \cdot S \cdot B$ boxes per image; their sizes are the squares of the
#   size outputs. Each box's score is $\text{conf} \cdot p(c)$: for the cell's best class $c$
#   (`decode_predictions`), or, as in the paper, for every class.
# - A score threshold removes the hopeless boxes: high to draw, low to evaluate.
# - Greedy NMS walks down the scores and keeps a box unless a kept box overlaps it by more than
#   $t$; the class-aware version never lets two classes suppress each other (`nms`,
#   `batched_nms`).
# - A detection is a true positive if it takes a still unmatched object with IoU ≥ the matching
#   threshold; duplicates are false positives (`match_detections`).
# - Ranked over all images, detections trace $P_k = TP_k / k$ against $R_k = TP_k / G$; AP is the
#   area under the envelope of that curve: exact for VOC (all points), sampled at 101 recall
#   levels for COCO (`average_precision`). mAP is the mean over classes with objects
#   (`mean_average_precision`).
# - Every step has a knob (score threshold, NMS threshold, matching threshold, interpolation):
#   a number is only comparable to another computed the same way.
#
# **References.** J. Redmon, S. Divvala, R. Girshick, A. Farhadi, "You Only Look Once: Unified,
# Real-Time Object Detection", CVPR 2016. M. Everingham, S. M. A. Eslami, L. Van Gool,
# C. K. I. Williams, J. Winn, A. Zisserman, "The PASCAL Visual Object Classes Challenge: A
# Retrospective", IJCV 2015. T.-Y. Lin et al., "Microsoft COCO: Common Objects in Context",
# ECCV 2014.
#
# Next: [lesson 08](08_beyond_v1.ipynb) looks at what later YOLOs changed.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for your answer, followed by a checker cell that runs it on hidden cases
# and, when one fails, shows that case, the expected and the received value, and a hint. In the
# lesson the answer cells hold a solution and start folded: click the cell's left edge to open one.

# %%
from yolo_lesson import check

# %% [markdown]
# **Exercise 1 — the 11-point AP of VOC 2007.** Before 2010, PASCAL VOC sampled the envelope at the 11 recall
# levels $0, 0.1, \dots, 1$ and averaged. Write `ap_voc11(recall, precision)`, compute by hand its
# value on the five-detection example of section 7, and check that your function gives it.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def ap_voc11(recall, precision):
    ### BEGIN SOLUTION
    pairs = list(zip(recall.tolist(), precision.tolist()))
    levels = [j / 10 for j in range(11)]
    return sum(max((p for r, p in pairs if r >= level - 1e-12), default=0.0) for level in levels) / 11
    ### END SOLUTION


### BEGIN SOLUTION
# Levels 0, 0.1, 0.2 -> 1; 0.3, 0.4, 0.5 -> 2/3; 0.6, 0.7 -> 3/5; 0.8, 0.9, 1 -> 0 (never reached).
by_hand = (3 * 1 + 3 * 2 / 3 + 2 * 3 / 5) / 11  # = 6.2 / 11
assert abs(ap_voc11(hand_recall, hand_precision) - by_hand) < 1e-12
print(f"11-point AP = 6.2/11 = {by_hand:.4f}, all-point 17/30 = {17 / 30:.4f}, 101-point {173 / 303:.4f}")
### END SOLUTION

# %% tags=["check"]
check.average_precision(ap_voc11, interpolation="voc11")

# %% [markdown]
# **Exercise 2 — class-agnostic NMS hurts overlapping classes.** Make a rider (a tall box) on a horse (a
# wider box) whose boxes overlap with IoU above 0.5, with different labels (`rider_horse`,
# `two_scores`, `two_labels`). Show that `nms` keeps only one of them and `batched_nms` keeps both.
# Then compute, on this lesson's `candidates`, the mAP (IoU 0.5, COCO) with class-agnostic NMS
# instead of class-aware NMS, and compare.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
rider_horse = two_scores = two_labels = None
### BEGIN SOLUTION
rider_horse = torch.tensor([[0.3, 0.1, 0.7, 0.9], [0.2, 0.3, 0.8, 0.9]])  # IoU = 0.24 / 0.44 ≈ 0.55
two_scores, two_labels = torch.tensor([0.9, 0.8]), torch.tensor([0, 1])
print(f"IoU(rider, horse) = {box_iou(rider_horse[:1], rider_horse[1:]).item():.3f}; nms keeps",
      nms(rider_horse, two_scores, 0.5).tolist(), "batched_nms keeps", batched_nms(rider_horse, two_scores, two_labels, 0.5).tolist())

agnostic = []
for b, s, l in candidates:
    kept = nms(b, s, 0.5)
    agnostic.append({"boxes": b[kept], "scores": s[kept], "labels": l[kept]})
map_agnostic = mean_average_precision(agnostic, targets).map
map_aware = mean_average_precision(detections, targets).map
# Here the two agree: in this scene, objects of different classes barely overlap. Either way is
# possible in general: class-agnostic NMS loses real objects in crowded scenes (riders, bicycles,
# cars), but can also remove a duplicate that was given the wrong class, a false positive.
print(f"mAP@0.5: class-aware NMS {map_aware:.3f}, class-agnostic NMS {map_agnostic:.3f}")
### END SOLUTION

# %% tags=["check"]
check.overlapping_classes(rider_horse, two_scores, two_labels)

# %% [markdown]
# **Exercise 3 — why evaluate with a low score threshold?** Compute the VOC all-point mAP@0.5 of
# `detections_from_predictions(pred, S, B, C, score_threshold=t)` for each $t$ in
# `score_thresholds` (put them in `curve_maps`). Check that it never increases with $t$, and explain
# in a comment why it cannot.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
score_thresholds = [0.01, 0.05, 0.1, 0.2, 0.4, 0.6]
curve_maps = None
### BEGIN SOLUTION
# Raising t only removes the lowest-ranked detections of each class. NMS and matching are greedy
# in score order, so the boxes that remain are kept and matched exactly as before: each class's
# precision-recall curve is cut short, never changed. A shorter curve has a lower or equal
# envelope at every recall (a max over fewer points) and stops at a lower or equal recall, so its
# area cannot grow. (And false positives ranked below the last true positive cost nothing.)
curve_maps = []
for t in score_thresholds:
    dets = detections_from_predictions(pred, S, B, C, score_threshold=t)
    curve_maps.append(mean_average_precision(dets, targets, 0.5, "voc_all").map)
    print(f"score threshold {t:4}: mAP@0.5 = {curve_maps[-1]:.3f}")
assert all(later <= earlier + 1e-12 for earlier, later in zip(curve_maps, curve_maps[1:]))
### END SOLUTION

# %% tags=["check"]
check.map_by_score_threshold(curve_maps, pred, targets, S=S, B=B, C=C, thresholds=score_thresholds)

# %% [markdown]
# **Exercise 4 — NMS from scratch.** Write `my_nms(boxes, scores, iou_threshold)` without calling
# `nms`: walk down the boxes by decreasing score, keep a box unless its IoU with an already kept box
# is *greater* than the threshold, and return the kept indices (a `LongTensor`, highest score
# first). On equal scores, the box listed first comes first.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def my_nms(boxes, scores, iou_threshold):
    ### BEGIN SOLUTION
    order = torch.sort(scores, descending=True, stable=True).indices
    keep = []
    for i in order.tolist():
        if all(box_iou(boxes[i : i + 1], boxes[j : j + 1]).item() <= iou_threshold for j in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)
    ### END SOLUTION

# %% tags=["check"]
check.nms(my_nms)
