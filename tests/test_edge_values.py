"""Values at the edge of what a function accepts, each with the answer it must give (the
refusals beyond the edge are in test_bad_inputs.py, block "real datasets and safe runs")."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from yolo_lesson.grid import encode_targets
from yolo_lesson.metrics import match_detections, mean_average_precision
from yolo_lesson.modern import cell_grid, distribution_focal_loss


def test_map_at_threshold_zero_does_not_count_an_inverted_box_as_a_hit():
    target = torch.tensor([[0.1, 0.1, 0.4, 0.4]])
    inverted = torch.tensor([[0.4, 0.4, 0.1, 0.1]])  # x2 < x1: IoU 0 with everything
    elsewhere = torch.tensor([[0.6, 0.6, 0.9, 0.9]])  # a proper box that misses the object
    for detection in (inverted, elsewhere):
        assert not match_detections(detection, torch.tensor([0.9]), target, iou_threshold=0).any()
        result = mean_average_precision(
            [{"boxes": detection, "scores": torch.tensor([0.9]), "labels": torch.tensor([0])}],
            [{"boxes": target, "labels": torch.tensor([0])}],
            iou_threshold=0,
        )
        assert result.map == 0.0
    # touching by any positive area is enough at threshold 0
    overlapping = torch.tensor([[0.39, 0.39, 0.8, 0.8]])
    assert match_detections(overlapping, torch.tensor([0.9]), target, iou_threshold=0).all()


def test_distribution_focal_loss_with_a_minus_inf_logit_is_finite():
    # Bin 2 masked out (-inf, probability 0). Target 1.0 sits on bin 1: the loss is -log p_1,
    # with p = softmax over the three finite bins (0, 1, 2) -> logits 0, 1, 2 at bins 0, 1, 3.
    logits = torch.tensor([[0.0, 1.0, -math.inf, 2.0]], dtype=torch.float64, requires_grad=True)
    loss = distribution_focal_loss(logits, torch.tensor([1.0], dtype=torch.float64))
    expected = -(1.0 - math.log(1 + math.e + math.e**2))
    assert math.isclose(float(loss.detach()), expected, rel_tol=1e-12)
    loss.backward()
    assert bool(torch.isfinite(logits.grad).all()) and logits.grad[0, 2] == 0
    # the needed bin itself masked: probability 0 of the truth, an infinite loss (not NaN)
    assert distribution_focal_loss(torch.tensor([[0.0, -math.inf]]), torch.tensor([1.0])) == math.inf


def test_distribution_focal_loss_gradient_is_unchanged_for_finite_logits():
    logits = torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    target = torch.tensor([0.0, 2.5, 4.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: distribution_focal_loss(x, target), (logits,))


@pytest.mark.parametrize(
    "dtype, largest_S",
    # integers: S - 1 up to the dtype's max; floats: every integer up to 2 / eps is exact
    [(torch.uint8, 256), (torch.int8, 128), (torch.float16, 2049), (torch.bfloat16, 257)],
)
def test_cell_grid_is_exact_up_to_the_largest_grid_its_dtype_holds(dtype, largest_S):
    grid = cell_grid(largest_S, dtype)
    assert grid[-1, -1].tolist() == [largest_S - 1, largest_S - 1]
    assert torch.equal(grid[-1, :, 0].long(), torch.arange(largest_S))  # every column index exact


@pytest.mark.parametrize("S", [np.int64(7), np.int32(7), torch.tensor(7)])
def test_integer_like_scalars_work_wherever_an_int_does(S):
    boxes, labels = torch.tensor([[0.3, 0.6, 0.2, 0.4]]), torch.tensor([1])
    assert torch.equal(encode_targets(boxes, labels, S=S, C=np.int64(20)), encode_targets(boxes, labels))
    assert torch.equal(cell_grid(S), cell_grid(7))
