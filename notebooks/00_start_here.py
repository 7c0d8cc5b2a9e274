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
# # 00 · Start here
#
# ## Learning goals
#
# After this lesson you can:
#
# - say in one sentence what a YOLO detector predicts, and why it needs only one forward pass;
# - read the YOLOv1 output tensor `[N, S, S, B*5 + C]`: which of a cell's numbers are boxes,
#   confidences and class scores;
# - cut a prediction tensor into those parts in PyTorch and turn it into image boxes with the
#   course's package, `yolo_lesson`;
# - find your way through the course, alone or in a class.
#
# **Why this course.** YOLO ("You Only Look Once", Redmon et al., CVPR 2016) made object
# detection a single regression problem: one network, one pass, one tensor out. Everything it
# learns, it learns from its **loss**, and that loss is easy to get subtly wrong: a wrong mask, a
# mean where a sum belongs. Other departures from the paper, such as a confidence target of 1 where
# the paper says IoU, are choices whose cost must be measured ([lesson 06](06_training_a_tiny_yolo.ipynb)
# trains them). The course starts from a
# popular article that writes the loss three ways, each with such a flaw, and builds the paper's
# loss from scratch instead: term by term, with the equation first, then the code, then a test
# and a picture. By [lesson 05](05_what_goes_wrong.ipynb) you will diagnose the article's versions yourself.

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
from matplotlib.patches import ConnectionPatch, Rectangle

from yolo_lesson.boxes import cxcywh_to_xyxy
from yolo_lesson.grid import decode_predictions
from yolo_lesson.viz import PALETTE, draw_boxes, draw_grid, highlight_cell, image_axes

_ = torch.manual_seed(0)

# %% [markdown]
# ## 1 · What YOLO predicts
#
# YOLOv1 cuts the image into an **S × S grid** (S = 7 in the paper). Each cell answers for the
# objects whose *centre* falls inside it, and predicts:
#
# - **B boxes** (B = 2), each as five numbers $(x, y, w, h, \text{conf})$: the box centre as an
#   offset inside the cell ($x, y \in [0, 1]$, in cell units), the *square roots* of its width and
#   height as fractions of the whole image (the paper, section 2.2: "we predict the square root of
#   the bounding box width and height"; [lesson 03](03_yolov1_loss.ipynb) says why), and a **confidence** that says how sure the predictor is that it holds an
#   object, and how well its box fits it;
# - **C class scores** (C = 20, the PASCAL VOC classes), one set per cell, shared by its B boxes.
#
# So every cell outputs $B \cdot 5 + C = 2 \cdot 5 + 20 = 30$ numbers, and a batch of N images
# gives a tensor of shape
#
# $$\text{pred} \in \mathbb{R}^{N \times S \times S \times (B \cdot 5 + C)} = \mathbb{R}^{N \times 7 \times 7 \times 30}.$$
#
# The targets use the same grid, with one object per cell: `[N, S, S, 5 + C]`, per cell
# $(x, y, w, h, \text{obj}, \text{one-hot class})$ ([lesson 02](02_grid_and_targets.ipynb)).

# %% [markdown]
# ## 2 · The output tensor, drawn
#
# Below, one image with its 7 × 7 grid. The highlighted cell (row 3, column 4) holds the centre of
# an object; its 30 numbers are drawn as a strip: two blocks of $(x, y, w, h, \text{conf})$, one
# per predictor, then the 20 class scores.

# %%
S, B, C = 7, 2, 20
ROW, COL = 3, 4


def draw_cell_strip(ax):
    """The 30 numbers of one cell as a strip of labelled squares, grouped."""
    groups = [("predictor 0", "x y w h conf".split(), PALETTE[1]),
              ("predictor 1", "x y w h conf".split(), PALETTE[2]),
              (f"{C} class scores (shared by the cell)", [str(c) for c in range(C)], PALETTE[4])]
    ax.set(xlim=(0, B * 5 + C), ylim=(-0.9, 2.0))
    ax.axis("off")
    index = 0
    for title, names, color in groups:
        start = index
        for name in names:
            ax.add_patch(Rectangle((index + 0.04, 0), 0.92, 1, color=color, alpha=0.35))
            ax.text(index + 0.5, 0.5, name, ha="center", va="center", fontsize=7 if name == "conf" else 9)
            ax.text(index + 0.5, -0.45, str(index), ha="center", va="center", fontsize=7, color="0.4")
            index += 1
        ax.plot([start + 0.1, index - 0.1], [1.25, 1.25], color=color, lw=2)
        ax.text((start + index) / 2, 1.55, title, ha="center", va="center", fontsize=10)
    ax.text(0, -0.85, f"channel index in pred[n, {ROW}, {COL}, :]", fontsize=8, color="0.4")

# %% mystnb={"image": {"alt": "A 7 by 7 grid over an image with one cell highlighted: it holds the centre of a solid object box, and the two dashed boxes are that cell's two predictors. An arrow links the cell to a strip of the 30 numbers the network predicts for it: two boxes of x, y, w, h and confidence, then 20 class scores."}}
fig = plt.figure(figsize=(11, 7.4))
ax_img = fig.add_axes((0.3, 0.36, 0.4, 0.6))
ax_strip = fig.add_axes((0.03, 0.04, 0.94, 0.2))
image_axes(ax_img, title=f"a 7 × 7 grid; cell ({ROW}, {COL}) holds an object's centre")
draw_grid(ax_img, S)
highlight_cell(ax_img, ROW, COL, S)
object_box = torch.tensor([(COL + 0.4) / S, (ROW + 0.6) / S, 0.36, 0.28])  # cxcywh in the image
guesses = torch.tensor([[(COL + 0.5) / S, (ROW + 0.5) / S, 0.30, 0.30],    # predictor 0
                        [(COL + 0.3) / S, (ROW + 0.7) / S, 0.20, 0.45]])   # predictor 1
draw_boxes(ax_img, cxcywh_to_xyxy(object_box), color=PALETTE[0], labels=["object"])
draw_boxes(ax_img, cxcywh_to_xyxy(guesses), color=[PALETTE[1], PALETTE[2]], linestyle="--")
for color, name in [(PALETTE[0], "object"), (PALETTE[1], "predictor 0's box"), (PALETTE[2], "predictor 1's box")]:
    ax_img.plot([], [], color=color, ls="-" if name == "object" else "--", label=name)
ax_img.legend(loc="upper left", fontsize=8)
fig.text(0.02, 0.62, "pred: [N, 7, 7, 30]\n\nN images\n× 7 rows × 7 columns of cells\n× 30 numbers per cell",
         fontsize=11, va="center", family="monospace")
draw_cell_strip(ax_strip)
fig.add_artist(ConnectionPatch(xyA=((COL + 0.5) / S, (ROW + 1) / S), coordsA=ax_img.transData,
                               xyB=(15, 1.9), coordsB=ax_strip.transData, arrowstyle="->", color="0.3"))
plt.show()

# %% [markdown]
# Each predictor guesses a box in the cell (dashed). During training the one whose box overlaps the
# object best becomes **responsible** for it ([lesson 03](03_yolov1_loss.ipynb)); the other learns to say
# "no object". Channels 4 and 9 are the two confidences; channels 10 to 29 are the class scores.

# %% [markdown]
# ## 3 · Your first cell: split a prediction
#
# A network's output is just a tensor of that shape. Here is a random one for two images, cut into
# its named parts with one reshape:

# %%
pred = torch.rand(2, S, S, B * 5 + C)                      # [N, S, S, 30]
blocks = pred[..., : B * 5].reshape(2, S, S, B, 5)         # [N, S, S, B, 5]: B boxes per cell
boxes, confidences = blocks[..., :4], blocks[..., 4]       # [N, S, S, B, 4] and [N, S, S, B]
class_scores = pred[..., B * 5 :]                          # [N, S, S, C]
print("boxes", tuple(boxes.shape), "| confidences", tuple(confidences.shape),
      "| class scores", tuple(class_scores.shape))

# %% [markdown]
# The package does that split, and more: `yolo_lesson.grid.decode_predictions` turns each of the
# $S \cdot S \cdot B = 98$ predictors per image into an image-space box (corners `xyxy`), a score
# (confidence × best class score) and a label.

# %%
detections = decode_predictions(pred, S=S, B=B, C=C)
print("boxes", tuple(detections.boxes.shape), "| scores", tuple(detections.scores.shape),
      "| labels", tuple(detections.labels.shape))

# %% [markdown]
# Let's check one of them by hand: predictor 1 of cell (3, 4) in image 0. Its centre in the image is
# the cell's corner plus the offset, divided by S: $c_x = (\text{col} + x) / S$, $c_y = (\text{row} + y) / S$;
# its size is the square of the two size outputs, $w = s_w^2$, $h = s_h^2$.
# Detections are ordered by row, column, predictor, so it sits at index $(3 \cdot 7 + 4) \cdot 2 + 1 = 51$.

# %%
x, y, root_w, root_h = boxes[0, ROW, COL, 1].tolist()   # the network outputs √w and √h
by_hand = cxcywh_to_xyxy(torch.tensor([(COL + x) / S, (ROW + y) / S, root_w**2, root_h**2]))
score = confidences[0, ROW, COL, 1] * class_scores[0, ROW, COL].max()
entry = (ROW * S + COL) * B + 1
torch.testing.assert_close(by_hand, detections.boxes[0, entry])
torch.testing.assert_close(score, detections.scores[0, entry])
print(f"entry {entry}: box {[round(v, 3) for v in by_hand.tolist()]}, score {score:.3f}, "
      f"label {int(detections.labels[0, entry])}")

# %% [markdown]
# If that ran, your environment works. A random tensor decodes into 98 random boxes per image;
# training is what makes them mean something, and the loss is what training follows.

# %% [markdown]
# ## 4 · Using the course on your own
#
# **Start it.** In a terminal at the project's root, `make lab` creates the Python environment on
# first use (a few minutes, once) and opens JupyterLab on this notebook. `make test` runs every
# check of the package and re-executes every lesson.
#
# **Order and time.** The lessons build on each other: take them in order. Budget about eight
# hours in all for a first pass, with the exercises; the map below gives a time per lesson.
# Lessons [01](01_boxes_and_iou.ipynb) to [03](03_yolov1_loss.ipynb) are the core: after them
# you can write the YOLOv1 loss from its equation. [Lesson 04](04_gradients_and_lambda.ipynb)
# shows what each term's gradient asks of the network, and
# [lesson 05](05_what_goes_wrong.ipynb) is the payoff of the course's starting question.
# Lessons [06](06_training_a_tiny_yolo.ipynb) to [08](08_beyond_v1.ipynb) put the loss to work
# and look beyond YOLOv1, and [lesson 09](09_your_own_data.ipynb) trains the same tiny YOLO on
# your own labelled images.
#
# **How to read a lesson.** Run the cells top to bottom (*Run → Run All Cells* to catch up). Each
# lesson writes a function inline, checks it against the package with `torch.testing.assert_close`,
# and from then on uses the package, whose code lives in `yolo_lesson/` and is short enough to read.
# The exercises end each lesson: try them before you open the solution cells.
#
# **The interactive views need a live kernel.** Lessons [01](01_boxes_and_iou.ipynb) and
# [04](04_gradients_and_lambda.ipynb) have widgets (sliders, draggable boxes) that recompute IoU
# and the loss as you move them, each with a still figure of the same state beside it. They run
# Python on every change, so they work in JupyterLab with a running kernel. On the course website,
# and in a notebook viewer, you see the lesson with its saved outputs and figures, but a widget
# cannot respond there: open the notebook in JupyterLab to play.

# %% [markdown]
# ## 5 · Using the course in a class
#
# The instructor page of the course website (`book/instructor.md`) has learning goals and timings
# per lesson, a plan for a 90-minute session, the common misconceptions with the lesson that
# addresses each, and advice for using the widgets live.
#
# **Student copies and grading.** Every exercise's reference solution sits in a code cell tagged
# `solution`, folded in JupyterLab and on the website, inside a region marked by nbgrader's solution
# comments. `make student` writes copies of the lessons with those regions removed: a function body
# becomes `raise NotImplementedError`, free-form code becomes `# YOUR CODE HERE`, and the rest of
# each lesson still runs top to bottom. Every exercise is followed by a checker cell (tagged
# `check`) that stays in the copy: it says "not attempted yet" until the learner answers, then
# runs the answer on hidden cases. Under nbgrader each checker cell is a locked grade cell worth one
# point, and fails its test when a case fails (`python tools/make_student.py --keep-solutions`
# writes the instructor versions that `nbgrader generate_assignment` expects). Hand out the copies;
# keep the originals as your answer key.

# %% [markdown]
# ## 6 · Course map
#
# | lesson | you leave able to | time |
# |---|---|---|
# | [00 · Start here](00_start_here.ipynb) | read the YOLO output tensor; run the course | 15 min |
# | [01 · Boxes and IoU](01_boxes_and_iou.ipynb) | convert box formats, compute IoU by hand and in batch, explain GIoU/DIoU/CIoU | 45 min |
# | [02 · The grid and the targets](02_grid_and_targets.ipynb) | encode ground truth on the grid; see responsibility and collisions | 45 min |
# | [03 · The YOLOv1 loss, term by term](03_yolov1_loss.ipynb) | derive and implement every term; check it against the package | 75 min |
# | [04 · Gradients and λ: who pushes what](04_gradients_and_lambda.ipynb) | see which term pushes which number, and why λ_noobj exists | 45 min |
# | [05 · What goes wrong: the article's three losses, diagnosed](05_what_goes_wrong.ipynb) | diagnose the article's three versions: NaN, dead gradients, wrong masks, drifting λs | 60 min |
# | [06 · Training a tiny YOLO](06_training_a_tiny_yolo.ipynb) | train on synthetic shapes; read per-term curves; compare losses by mAP | 45 min |
# | [07 · From predictions to detections: NMS, precision–recall and mAP](07_predictions_to_detections.ipynb) | decode, NMS, precision–recall, mAP | 45 min |
# | [08 · Beyond v1: what later YOLOs changed in the loss](08_beyond_v1.ipynb) | anchors, BCE objectness, IoU-family box losses, focal loss, a look at v8 | 45 min |
# | [09 · Your own data](09_your_own_data.ipynb) | write and read a dataset in the YOLO label format; catch what real labelling tools put in it; train from disk, stop and resume | 45 min |

# %% [markdown]
# ## Summary
#
# - YOLOv1 predicts, for each of the S × S cells, B boxes $(x, y, w, h, \text{conf})$ and C class
#   scores: a tensor `[N, S, S, B*5 + C]`, `[N, 7, 7, 30]` in the paper.
# - $x, y$ are offsets inside the cell (cell units); the size outputs are $\sqrt{w}, \sqrt{h}$, with
#   $w, h$ fractions of the image; the class
#   scores are shared by the cell's boxes.
# - One reshape splits the tensor: `pred[..., :B*5].reshape(N, S, S, B, 5)` and `pred[..., B*5:]`;
#   `yolo_lesson.grid.decode_predictions` turns it into image boxes, scores and labels.
# - Take the lessons in order with `make lab`; widgets need a live kernel; in a class, hand out the
#   copies made by `make student` and see the instructor page.

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell for your answer, followed by a checker cell that runs it on hidden cases
# and, when one fails, shows that case, the expected and the received value, and a hint. In the
# lesson the answer cells hold a solution and start folded: click the cell's left edge to open one.

# %%
from yolo_lesson import check

# %% [markdown]
# **Exercise 1 — the size of the output.** YOLO variants change S, B and C. Write
# `numbers_per_image(S, B, C)`, the count of numbers the network outputs for one image, and use it
# for the paper (7, 2, 20) and for a grid of 13 × 13 with 3 boxes per cell and the 80 COCO classes.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def numbers_per_image(S, B, C):
    ### BEGIN SOLUTION
    return S * S * (B * 5 + C)
    ### END SOLUTION


### BEGIN SOLUTION
assert numbers_per_image(7, 2, 20) == torch.zeros(1, 7, 7, 30)[0].numel() == 1470
print("paper:", numbers_per_image(7, 2, 20), "| 13 × 13, B = 3, C = 80:", numbers_per_image(13, 3, 80))
### END SOLUTION

# %% tags=["check"]
check.numbers_per_image(numbers_per_image)

# %% [markdown]
# **Exercise 2 — where are the confidences?** Write `confidence_channels(B)`, the list of channel
# indices of the B confidences in the last dimension of `pred` (for B = 2: `[4, 9]`). Check that
# `pred[..., confidence_channels(B)]` equals the `confidences` we split out in section 3.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def confidence_channels(B):
    ### BEGIN SOLUTION
    return [5 * b + 4 for b in range(B)]
    ### END SOLUTION


### BEGIN SOLUTION
torch.testing.assert_close(pred[..., confidence_channels(B)], confidences)
print("confidence channels for B = 2:", confidence_channels(2))
### END SOLUTION

# %% tags=["check"]
check.confidence_channels(confidence_channels)

# %% [markdown]
# **Exercise 3 — find a detection.** `decode_predictions` lists each image's predictors by row,
# column, predictor. Write `detection_index(row, col, b, S, B)` and check it on every predictor of
# image 1: the decoded box at that index must have its centre in cell `(row, col)`.

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
def detection_index(row, col, b, S, B):
    ### BEGIN SOLUTION
    return (row * S + col) * B + b
    ### END SOLUTION


### BEGIN SOLUTION
centres = (detections.boxes[1, :, :2] + detections.boxes[1, :, 2:]) / 2     # [98, 2] (cx, cy)
for row in range(S):
    for col in range(S):
        for b in range(B):
            cx, cy = centres[detection_index(row, col, b, S, B)].tolist()
            assert int(cx * S) == col and int(cy * S) == row, (row, col, b)
print("all", S * S * B, "detections of image 1 sit in their own cell")
### END SOLUTION

# %% tags=["check"]
check.detection_index(detection_index)
