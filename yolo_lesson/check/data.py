"""Checkers of lesson 09 (your own data): reading the bytes of a YOLO label file as the reader
does, and which positions of an epoch's data order a training step reads (why a run cannot be
resumed with another batch size)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor

from .core import Case, CheckResult, _show, compare_exact, compare_tensors, run_cases


@dataclass(frozen=True)
class _Refused:
    """What a call ended with when it raised ``ValueError`` (the expected end for a bad file)."""

    message: str


def _refusing(learner_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Calls the learner's function; a ``ValueError`` it raises becomes an answer to compare."""
    try:
        return learner_fn(*args, **kwargs)
    except ValueError as error:
        return _Refused(str(error).strip().splitlines()[0] if str(error).strip() else "")


def _refusing_reference(reference: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return _refusing(reference, *args, **kwargs)

    return call


# ---------------------------------------------------------------------------------------------
# The bytes of a label file.


def _label_reference(data: bytes) -> tuple[Tensor, Tensor]:
    """The package's reader on a label file holding ``data``."""
    from ..data import _Notes, _parse_label_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "label.txt"
        path.write_bytes(data)
        return _parse_label_file(path, None, "refuse", _Notes())


def _label_case(why: str, hint: str, data: bytes) -> Case:
    return Case(why, hint, (data,), note=repr(data))


_FRENCH = "# étiquettes vérifiées\n"


def _label_cases() -> list[Case]:
    one = b"0 0.5 0.5 0.2 0.3"
    two = b"0 0.5 0.5 0.2 0.3\n2 0.25 0.75 0.125 0.1\n"
    return [
        _label_case("one object, no newline at the end",
                    "each line is 'class cx cy w h': an integer class, then four floats. Return "
                    "(boxes, labels): boxes a float32 tensor [N, 4], labels an int64 tensor [N].",
                    one),
        _label_case("two objects, a newline at the end",
                    "a line without fields (the end of the file, a blank line) holds no object: "
                    "skip it. text.split('\\n') leaves an empty last line; splitlines() does not.",
                    two),
        _label_case("tabs and double spaces between the fields",
                    "split each line on any whitespace: line.split() with no argument, not "
                    "line.split(' ').",
                    b"1\t0.5  0.5 0.2\t0.4\n"),
        _label_case("Windows line ends and a blank line between the objects",
                    "Windows ends a line with '\\r\\n', so a blank line may hold just '\\r': test "
                    "for 'no fields' (not line.split()), not for an empty string.",
                    b"0 0.5 0.5 0.2 0.3\r\n\r\n2 0.25 0.75 0.125 0.1\r\n"),
        _label_case("an empty file: an image without objects",
                    "no objects is boxes of shape [0, 4] and labels of shape [0] (torch.zeros(0, 4), "
                    "or build the tensor then .reshape(-1, 4)).",
                    b""),
        _label_case("saved by Notepad as 'UTF-8 with BOM', with Windows line ends",
                    "Notepad's 'UTF-8 with BOM' starts with the bytes EF BB BF: decode with "
                    "'utf-8-sig', which drops them (with 'utf-8' the first class reads '\\ufeff0').",
                    b"\xef\xbb\xbf" + two.replace(b"\n", b"\r\n")),
        _label_case("a Latin-1 file with a French comment at its end",
                    "decode as UTF-8 (not Latin-1, and not with errors='ignore' or 'replace'): a "
                    "file in another encoding must raise a ValueError that says label files must "
                    "be UTF-8 (letting the UnicodeDecodeError of .decode('utf-8-sig') through does "
                    "that).",
                    two + _FRENCH.encode("latin-1")),
        _label_case("saved by an old Notepad as 'Unicode' (UTF-16)",
                    "UTF-16 is not UTF-8 either: refuse it with a ValueError that names UTF-8, "
                    "never read it by guessing the encoding.",
                    two.decode("ascii").encode("utf-16")),
    ]


def _show_labels(value: Any) -> str:
    if isinstance(value, _Refused):
        return f"ValueError: {value.message}"
    if isinstance(value, tuple) and len(value) == 2:
        return f"boxes {_show(value[0])}, labels {_show(value[1])}"
    return _show(value)


def _compare_labels(expected: Any, received: Any) -> str | None:
    if isinstance(expected, _Refused):
        if not isinstance(received, _Refused):
            return "your function read a file that is not UTF-8: it must raise a ValueError"
        if "utf-8" not in received.message.lower():
            return ("your function raised a ValueError, but its message does not say that the "
                    "file must be UTF-8")
        return None
    if isinstance(received, _Refused):
        return "your function raised a ValueError on a file that the reader reads"
    if not isinstance(received, (tuple, list)) or len(received) != 2:
        return "return a pair: (boxes, labels)"
    boxes, labels = received
    for name, want, got, dtype in (("boxes", expected[0], boxes, torch.float32),
                                   ("labels", expected[1], labels, torch.int64)):
        difference = compare_tensors(want, got, rtol=0, atol=1e-6)
        if difference is not None:
            return f"{name}: {difference}" if difference else f"{name} differ"
        if got.dtype != dtype:
            kind = "class indices are integers" if name == "labels" else "the reader's boxes are float32"
            return (f"{name} has dtype {str(got.dtype).replace('torch.', '')}, expected "
                    f"{str(dtype).replace('torch.', '')}: {kind}")
    return None


def parse_label_bytes(learner_fn: Callable[[bytes], tuple[Tensor, Tensor]], **run: Any) -> CheckResult:
    """Checks ``learner_fn(data) -> (boxes, labels)``: the bytes of a YOLO label file read as
    :func:`yolo_lesson.read_yolo_folder` reads them (UTF-8 with or without a BOM, any line ends,
    blank lines skipped; boxes float32 ``[N, 4]``, labels int64 ``[N]``), and a ``ValueError``
    naming UTF-8 for a file in another encoding."""
    return run_cases("parse_label_bytes", learner_fn, _label_cases, _refusing_reference(_label_reference),
                     compare=_compare_labels, arg_names=("data",), call=_refusing,
                     show_expected=_show_labels, show_received=_show_labels, **run)


# ---------------------------------------------------------------------------------------------
# Which positions of an epoch's order a step reads.


def _batch_reference(step: int, num_images: int, batch_size: int, drop_last: bool = True) -> tuple[int, int, int]:
    """By the loader itself: the positions of an epoch's order (0 .. num_images - 1) that batch
    ``skip`` holds, with ``train``'s rule ``epoch, skip = divmod(step, batches per epoch)``."""
    from torch.utils.data import DataLoader

    loader = DataLoader(range(num_images), batch_size=batch_size, drop_last=drop_last)
    if len(loader) == 0:
        raise ValueError(f"a loader of {num_images} images in batches of {batch_size} with "
                         "drop_last=True has no batch")
    epoch, skip = divmod(step, len(loader))
    batch = next(islice(iter(loader), skip, None))
    return epoch, int(batch[0]), int(batch[-1]) + 1


def _batch_cases() -> list[Case]:
    return [
        Case("the first step", "step 0 reads the first batch of epoch 0: positions 0 to 32 of "
             "the epoch's order (stop excluded), so return (0, 0, 32).", (0, 480, 32)),
        Case("step 45 of the lesson's run: 15 batches of 32 per epoch",
             "an epoch has num_images // batch_size batches (with drop_last); epoch, batch = "
             "divmod(step, batches per epoch), and the batch starts at batch · batch_size.",
             (45, 480, 32)),
        Case("the same step with batches of 16: 30 per epoch",
             "with batches of 16 an epoch has 30 batches, so step 45 is batch 15 of epoch 1: "
             "other images than with batches of 32.", (45, 480, 16)),
        Case("500 images in batches of 32, drop_last=True: 15 batches per epoch",
             "drop_last=True drops the 20 images left over: 500 // 32 = 15 batches per epoch, not "
             "16 (round down, not up).", (17, 500, 32)),
        Case("500 images in batches of 32, drop_last=False: 16 batches per epoch",
             "drop_last=False keeps a last, shorter batch: ceil(500 / 32) = 16 batches per epoch.",
             (16, 500, 32), {"drop_last": False}),
        Case("the last, shorter batch of an epoch (drop_last=False)",
             "the last batch stops at num_images, not at start + batch_size: min(start + "
             "batch_size, num_images).", (15, 500, 32), {"drop_last": False}),
        Case("a batch as large as the dataset", "one batch per epoch: every step starts a new "
             "epoch and reads every position.", (3, 480, 480)),
        Case("fewer images than a batch, drop_last=True: no batch at all",
             "such a loader yields nothing and train refuses it: raise a ValueError instead of "
             "guarding the division with max(..., 1).", (0, 10, 32)),
        Case("fewer images than a batch, drop_last=False: one short batch",
             "drop_last=False keeps the 10 images as one short batch: each step is a new epoch.",
             (2, 10, 32), {"drop_last": False}),
    ]


def _show_batch(value: Any) -> str:
    if isinstance(value, _Refused):
        return f"ValueError: {value.message}"
    if isinstance(value, (tuple, list)) and len(value) == 3:
        try:
            return "(epoch {}, start {}, stop {})".format(*[_show(v) for v in value])
        except (TypeError, ValueError):
            pass
    return _show(value)


def _compare_batch(expected: Any, received: Any) -> str | None:
    if isinstance(expected, _Refused):
        return None if isinstance(received, _Refused) else "expected a ValueError: there is no batch to read"
    if isinstance(received, _Refused):
        return "your function raised a ValueError where the loader has batches"
    if not isinstance(received, (tuple, list)) or len(received) != 3:
        return "return three integers: (epoch, start, stop)"
    return compare_exact(expected, received)


def batch_of_step(learner_fn: Callable[..., tuple[int, int, int]], **run: Any) -> CheckResult:
    """Checks ``learner_fn(step, num_images, batch_size, drop_last=True) -> (epoch, start, stop)``:
    the epoch that training step ``step`` belongs to and the positions ``start .. stop - 1`` of
    that epoch's shuffled order that it reads, under :func:`yolo_lesson.train.train`'s rule
    (``epoch, batch = divmod(step, len(loader))``); a ``ValueError`` when the loader has no batch."""
    return run_cases("batch_of_step", learner_fn, _batch_cases, _refusing_reference(_batch_reference),
                     compare=_compare_batch, arg_names=("step", "num_images", "batch_size"),
                     call=_refusing, show_expected=_show_batch, show_received=_show_batch, **run)
