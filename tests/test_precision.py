"""Mixed precision: float16 and bfloat16 inputs to the boxes, grid and loss modules.

The package's rule (yolo_lesson/_checks.py, ``upcast``): half-precision tensors are computed in
float32 and the result is float32; gradients flow back in the input's own dtype. So the only
error a half-precision prediction adds is the rounding of the prediction itself:

* float16 keeps 11 significant bits: a value is stored to a relative error of at most 2⁻¹¹ ≈ 4.9e-4;
* bfloat16 keeps 8 bits: at most 2⁻⁸ ≈ 3.9e-3 (but float32's exponent range, up to ~3.4e38).

A squared error (p - g)² moves by about 2·|p|·δ|p| / |p - g|² relative to itself when p is
rounded by δ. Over a whole batch the rounding errors partly cancel, and the tolerances below
(float16: 2e-3, bfloat16: 1.5e-2 relative) hold with room to spare for predictions of the size
a network gives (|p| ≲ a few units, targets in [0, 1]). Computed on the *rounded* inputs, the
half-precision loss equals the float32 loss to float32 rounding (1e-6 relative): nothing is
computed in half precision.
"""

from __future__ import annotations

import pytest
import torch

from yolo_lesson.boxes import box_iou, ciou, cxcywh_to_xyxy, diou, giou, iou
from yolo_lesson.grid import decode_predictions, encode_batch, encode_targets
from yolo_lesson.loss import YoloV1Loss, responsibility, yolo_v1_loss

HALVES = [torch.float16, torch.bfloat16]
HALF_IDS = ["float16", "bfloat16"]
# Relative tolerance of a loss from half-precision predictions against the float32 loss of the
# unrounded predictions (see the module docstring for the reasoning).
LOSS_RTOL = {torch.float16: 2e-3, torch.bfloat16: 1.5e-2}
TERMS = ("total", "box", "obj", "noobj", "cls")


def scene_batch(seed: int, N: int = 8, S: int = 7, C: int = 20):
    """N images, 1 to 6 objects each; predictions near the targets with noise, so every term
    is well above rounding level (no term is a difference of nearly equal numbers)."""
    g = torch.Generator().manual_seed(seed)
    boxes, labels = [], []
    for _ in range(N):
        k = int(torch.randint(1, 7, (), generator=g))
        centres = torch.rand(k, 2, generator=g)
        sizes = 0.05 + 0.6 * torch.rand(k, 2, generator=g)
        boxes.append(torch.cat([centres, sizes], dim=1))
        labels.append(torch.randint(0, C, (k,), generator=g))
    target = encode_batch(boxes, labels, S=S, C=C)
    pred = torch.randn(N, S, S, 2 * 5 + C, generator=g)
    return pred, target


@pytest.mark.parametrize("dtype", HALVES, ids=HALF_IDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_half_predictions_give_a_finite_float32_loss_close_to_float32(dtype, seed):
    pred, target = scene_batch(seed)
    low = pred.to(dtype).requires_grad_(True)
    terms = yolo_v1_loss(low, target)
    reference = yolo_v1_loss(pred, target)  # float32, unrounded predictions
    for name in TERMS:
        value = getattr(terms, name)
        assert value.dtype == torch.float32 and torch.isfinite(value), name
        torch.testing.assert_close(value, getattr(reference, name), rtol=LOSS_RTOL[dtype], atol=0.0, msg=name)
    terms.total.backward()
    assert low.grad.dtype == dtype and torch.isfinite(low.grad).all()


@pytest.mark.parametrize("dtype", HALVES, ids=HALF_IDS)
def test_half_predictions_are_computed_in_float32(dtype):
    # Same rounded numbers, once as half and once as float32: the results agree to float32
    # rounding, and so do the gradients (cast back to the half dtype at the end).
    pred, target = scene_batch(3)
    low = pred.to(dtype).requires_grad_(True)
    widened = low.detach().float().requires_grad_(True)
    by_half = yolo_v1_loss(low, target)
    by_float = yolo_v1_loss(widened, target)
    for name in TERMS:
        torch.testing.assert_close(getattr(by_half, name), getattr(by_float, name), rtol=1e-6, atol=0.0, msg=name)
    by_half.total.backward()
    by_float.total.backward()
    torch.testing.assert_close(low.grad, widened.grad.to(dtype), rtol=0.0, atol=0.0)


@pytest.mark.parametrize("dtype", HALVES, ids=HALF_IDS)
def test_half_targets_and_mixed_dtypes(dtype):
    # Targets encoded in half precision (encode_targets keeps the boxes' dtype) and a float32
    # prediction: the loss is float32 and equals the loss on the same rounded target in float32.
    pred, target = scene_batch(4)
    low_target = target.to(dtype)
    terms = yolo_v1_loss(pred, low_target)
    expected = yolo_v1_loss(pred, low_target.float())
    for name in TERMS:
        assert getattr(terms, name).dtype == torch.float32
        torch.testing.assert_close(getattr(terms, name), getattr(expected, name), rtol=1e-6, atol=0.0)
    # float16 prediction with a bfloat16 target: no common half type, so float32.
    other = torch.bfloat16 if dtype == torch.float16 else torch.float16
    mixed = yolo_v1_loss(pred.to(dtype), target.to(other))
    assert mixed.total.dtype == torch.float32 and torch.isfinite(mixed.total)


def test_float16_extremes_stay_finite():
    # float16's largest value is 65504; squared it is ~4.3e9, beyond float16 (it would be inf)
    # but far inside float32, where the loss is computed. Tiny values (the smallest float16
    # subnormal, 2⁻²⁴ ≈ 6e-8) and negative sizes stay finite as well.
    pred, target = scene_batch(5, N=2)
    big = torch.full_like(pred, 65504.0).to(torch.float16)
    big[..., 1::2] = -65504.0
    tiny = torch.full_like(pred, 2.0**-24).to(torch.float16)
    for extreme in (big, tiny, -tiny):
        terms = yolo_v1_loss(extreme, target)
        for name in TERMS:
            assert torch.isfinite(getattr(terms, name)), name


def test_float16_gradients_of_huge_predictions_overflow_where_float32_does_not():
    # Documents a limit rather than a bug: the gradient of a squared error is 2·λ·(p - g)/N,
    # and autograd returns it in the prediction's dtype. For x = 60000 with λ_coord = 5 and
    # N = 1 that is 6e5 > 65504: inf in float16. Mixed-precision training keeps its master
    # weights (and gradients) in float32, or scales the loss with torch.amp.GradScaler, which
    # detects such an inf and skips the step. bfloat16 has float32's range and stays finite.
    target = encode_batch([torch.tensor([[0.5, 0.5, 0.2, 0.2]])], [torch.tensor([0])])
    pred = torch.zeros(1, 7, 7, 30)
    # Both predictors of the object cell (row 3, col 3) have zero size, so both IoUs are 0;
    # with tie_break="first" predictor 0 answers (the RMSE would pick predictor 1, nearer):
    # its x, 60000, is in the box term.
    pred[0, 3, 3, 0] = 60000.0
    for dtype, finite in ((torch.float16, False), (torch.bfloat16, True), (torch.float32, True)):
        leaf = pred.to(dtype).requires_grad_(True)
        terms = yolo_v1_loss(leaf, target, tie_break="first")
        assert torch.isfinite(terms.total)
        terms.total.backward()
        assert bool(torch.isfinite(leaf.grad).all()) == finite, dtype


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bfloat16", "float16"])
def test_loss_under_cpu_autocast_equals_the_loss_outside(dtype):
    # A model trained under torch.autocast calls the loss inside the autocast region. The
    # loss's elementwise operations are not on autocast's lower-precision list, and the
    # package upcasts half inputs itself, so the result is the float32 one.
    pred, target = scene_batch(6)
    outside = yolo_v1_loss(pred.to(dtype), target)
    with torch.autocast("cpu", dtype=dtype):
        inside = yolo_v1_loss(pred.to(dtype), target)
    for name in TERMS:
        assert getattr(inside, name).dtype == torch.float32
        torch.testing.assert_close(getattr(inside, name), getattr(outside, name), rtol=1e-6, atol=0.0)


@pytest.mark.parametrize("dtype", HALVES, ids=HALF_IDS)
def test_module_and_responsibility_accept_half(dtype):
    pred, target = scene_batch(7)
    low = pred.to(dtype)
    torch.testing.assert_close(YoloV1Loss()(low, target).total, yolo_v1_loss(low, target).total, rtol=0, atol=0)
    by_half = responsibility(low, target)
    by_float = responsibility(low.float(), target)
    assert torch.equal(by_half.responsible, by_float.responsible)
    torch.testing.assert_close(by_half.ious, by_float.ious, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", HALVES, ids=HALF_IDS)
def test_iou_family_in_half_is_the_float32_value_of_the_rounded_boxes(dtype):
    g = torch.Generator().manual_seed(8)
    centres, sizes = torch.rand(64, 2, generator=g), 0.05 + 0.5 * torch.rand(64, 2, generator=g)
    a = cxcywh_to_xyxy(torch.cat([centres, sizes], 1)).to(dtype)
    b = (a.float() + 0.05 * torch.randn(64, 4, generator=g)).to(dtype)
    for fn in (iou, giou, diou, ciou):
        value = fn(a, b)
        assert value.dtype == torch.float32 and torch.isfinite(value).all()
        torch.testing.assert_close(value, fn(a.float(), b.float()), rtol=1e-6, atol=1e-7)
    assert box_iou(a, b).dtype == torch.float32


@pytest.mark.parametrize("dtype", HALVES, ids=HALF_IDS)
def test_encode_and_decode_in_half(dtype):
    # encode_targets computes the cells in float32 (a float16 centre times S can round onto a
    # cell border) and stores the target in the boxes' dtype; decode keeps the prediction's.
    pred, target = scene_batch(9, N=1)
    boxes = torch.tensor([[0.3, 0.6, 0.2, 0.4], [0.9, 0.1, 0.1, 0.1]])
    low = encode_targets(boxes.to(dtype), torch.tensor([1, 2]))
    assert low.dtype == dtype
    exact = encode_targets(boxes.to(dtype).float(), torch.tensor([1, 2]))
    torch.testing.assert_close(low.float(), exact.to(dtype).float(), rtol=0, atol=0)
    detections = decode_predictions(pred.to(dtype))
    assert detections.boxes.dtype == dtype and torch.isfinite(detections.boxes.float()).all()
