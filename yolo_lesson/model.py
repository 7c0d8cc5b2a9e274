"""A tiny YOLO: a small convolutional network whose output is the course's YOLOv1 tensor.

The output is ``Tensor[N, S, S, B*5 + C]``: per cell B blocks ``(x, y, w, h, conf)`` then C
class scores, ``x, y`` the box centre's offset inside the cell (see :mod:`yolo_lesson.grid`).
What ``w, h`` mean is set by the loss that trains the network: under the default
``wh="predicted_sqrt"`` of :func:`yolo_lesson.loss.yolo_v1_loss` (the paper, section 2.2) they
are ``√w, √h``, the square roots of the box's size relative to the image, and the box to draw
is their square (:func:`yolo_lesson.grid.decode_predictions` with the same ``wh``); under the
tutorial variants they are the size itself. Every number is squashed to the range its target
lives in:

* ``x, y, w, h, conf``: a **sigmoid**. Cell offsets, image fractions, their roots and
  confidences (an IoU) all live in ``[0, 1]``; a sigmoid keeps the prediction there from the
  first step, so an output is never negative and a box can never leave its cell. The paper's
  network (darknet's ``cfg/yolov1.cfg``) used a linear last layer and had to learn these
  ranges.
* class scores: a **softmax** over the C classes, since they are the probabilities
  ``Pr(class | object)`` of the paper and sum to 1. They also stay in ``[0, 1]``, which the
  article's binary cross-entropy requires.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._checks import require_positive_int, require_tensor, shape_str

__all__ = ["TinyYolo"]


def _conv(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """3×3 convolution, batch norm, leaky ReLU (YOLOv1's slope 0.1): the network's brick.
    With ``stride=2`` it also halves the resolution (cheaper on a CPU than a max-pool after it)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.1),
    )


class TinyYolo(nn.Module):
    """A small YOLOv1-style detector.

    Args:
        S: grid size of the output.
        B: boxes per cell.
        C: number of classes.
        image_size: side of the (square) input images; must be ``S · 2^k`` for some
            ``k >= 1``: the network halves the resolution k times to reach S × S.
        width: channels of the first stage; each halving doubles them, up to ``8 · width``.

    Shapes: ``images Tensor[N, 3, image_size, image_size]`` (floating point, in ``[0, 1]``)
    → ``Tensor[N, S, S, B*5 + C]``, with ``x, y, w, h, conf`` in ``(0, 1)`` (sigmoid) and the
    C class scores summing to 1 (softmax); ``w, h`` are √w, √h under the default loss. See
    the module notes for why.

    Example::

        model = TinyYolo(S=4, B=2, C=3, image_size=64)
        pred = model(torch.rand(8, 3, 64, 64))   # [8, 4, 4, 13]
    """

    def __init__(self, S: int = 4, B: int = 2, C: int = 3, image_size: int = 64, width: int = 16) -> None:
        super().__init__()
        self.S = require_positive_int("S", S)
        self.B = require_positive_int("B", B)
        self.C = require_positive_int("C", C)
        self.image_size = require_positive_int("image_size", image_size)
        width = require_positive_int("width", width)
        S, image_size = self.S, self.image_size  # Python ints, whatever integer type was passed
        ratio = image_size // S
        if image_size % S or ratio < 2 or ratio & (ratio - 1):
            raise ValueError(
                f"image_size must be S · 2^k with k >= 1 (S={S}: {2 * S}, {4 * S}, {8 * S}, ...), "
                f"got {image_size}"
            )
        layers: list[nn.Module] = []
        channels = 3
        halvings = ratio.bit_length() - 1  # k = log2(ratio)
        for stage in range(halvings):
            out = width * 2 ** min(stage, 3)
            layers.append(_conv(channels, out, stride=2))
            if stage >= halvings - 2:  # one more look at the two coarsest resolutions
                layers.append(_conv(out, out))
            channels = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, B * 5 + C, 1)  # one prediction vector per cell

    def forward(self, images: Tensor) -> Tensor:
        size = self.image_size
        images = require_tensor("images", images)
        if not images.is_floating_point():
            raise ValueError(
                "images must be a floating-point tensor with values in [0, 1] (divide uint8 "
                f"pixels by 255), got dtype {images.dtype}"
            )
        if images.dim() != 4 or tuple(images.shape[1:]) != (3, size, size):
            raise ValueError(
                f"images must be [N, 3, {size}, {size}], got {shape_str(images.shape)}"
            )
        raw = self.head(self.features(images))  # [N, B*5 + C, S, S]
        raw = raw.permute(0, 2, 3, 1)  # [N, S, S, B*5 + C]: channels last, as the contract says
        B = self.B
        boxes = torch.sigmoid(raw[..., : B * 5])  # [N, S, S, B*5]: (x, y, w, h, conf) × B
        classes = torch.softmax(raw[..., B * 5 :], dim=-1)  # [N, S, S, C]
        return torch.cat((boxes, classes), dim=-1)

    def extra_repr(self) -> str:
        return f"S={self.S}, B={self.B}, C={self.C}, image_size={self.image_size}"
