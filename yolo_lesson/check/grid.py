"""Checkers of lesson 02 (the grid and its targets): the owning cell, one encoded cell, the
objects a collision drops, and the learner's own target encoder."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor

from .core import Case, CheckResult, _nested, _number, _shape, _show, _t, compare_exact, compare_tensors, run_cases
from .core import _as_tensor

def _cell_text(vector: Tensor) -> str:
    values = [_number(v) for v in vector[:5].tolist()]
    classes = vector[5:]
    nonzero = [(i, classes[i].item()) for i in torch.nonzero(classes).flatten().tolist()]
    if not nonzero:
        class_text = "all class entries 0"
    else:
        class_text = "class entries " + ", ".join(f"[{i}] = {_number(v)}" for i, v in nonzero[:4])
        class_text += " ..." if len(nonzero) > 4 else ""
    return f"(x, y, w, h, obj) = ({', '.join(values)}), {class_text}"


def _compare_grids(expected: Tensor, received: Any) -> str | None:
    difference = compare_tensors(expected, received, rtol=1e-4, atol=1e-5)
    if not difference or not difference.startswith("first difference"):
        return difference
    got = _as_tensor(received).detach().double()
    want = expected.double()
    close = torch.isclose(got, want, rtol=1e-4, atol=1e-5)
    row, col = torch.nonzero(~close.all(-1))[0].tolist()
    return (
        f"first wrong cell [row {row}, col {col}]: expected {_cell_text(want[row, col])}; "
        f"received {_cell_text(got[row, col])}"
    )


def _grid_summary(value: Any) -> str:
    grid = _as_tensor(value)
    if grid is None:
        return type(value).__name__
    if grid.dim() != 3 or grid.shape[-1] < 5:
        return _show(grid)
    cells = torch.nonzero(grid[..., 4]).tolist()
    listed = ", ".join(f"({r}, {c})" for r, c in cells[:6]) + (" ..." if len(cells) > 6 else "")
    return f"Tensor{_shape(grid.shape)}, obj = 1 in cells {listed or 'none'}"


def _encode_cases() -> list[Case]:
    def case(why, hint, boxes, labels, S, C, note=""):
        box_tensor = _t(boxes).reshape(-1, 4)
        return Case(why, hint, (box_tensor, torch.tensor(labels, dtype=torch.long), S, C), note=note)

    formulas = (
        "row = floor(cy·S), col = floor(cx·S); the cell stores x = cx·S - col, y = cy·S - row, "
        "then w, h, obj = 1, and a one-hot class at index 5 + label."
    )
    return [
        case("one object at the image centre (S = 7, C = 20)", formulas,
             [[0.5, 0.5, 0.2, 0.4]], [3], 7, 20),
        case("rows come from cy, columns from cx",
             "index the grid as target[row, col] with row from cy and col from cx; swapping them "
             "puts the object in the mirrored cell.", [[0.9, 0.15, 0.2, 0.3]], [6], 7, 20),
        case("the centre's offset inside its cell, in cell units",
             "x = cx·S - col is measured in cells (0 at the cell's left edge, 1 at its right), "
             "not in image units like cx - col / S.", [[0.62, 0.31, 0.1, 0.2]], [0], 7, 20),
        case("another grid size and class count (S = 3, C = 2)",
             "use the S and C arguments, not 7 and 20: the result is [S, S, 5 + C].",
             [[0.7, 0.2, 0.3, 0.3]], [1], 3, 2),
        case("a centre exactly on a cell border (0.25 with S = 4)",
             "a centre on a border starts the next cell: floor(0.25·4) = 1, offset 0. Use floor "
             "(or int() of a non-negative number), not ceil - 1 or round.",
             [[0.25, 0.5, 0.2, 0.2]], [2], 4, 3),
        case("a centre at 1.0, on the image's right and bottom edge",
             "floor(1.0·S) = S is outside the grid: clamp row and col to S - 1; the offset is "
             "then 1.0.", [[1.0, 1.0, 0.2, 0.2]], [0], 4, 3),
        case("no objects (K = 0)",
             "with boxes of shape [0, 4] the result is an all-zero grid [S, S, 5 + C].",
             [], [], 7, 20),
        case("two centres in one cell: the first listed keeps it",
             "a YOLOv1 cell holds one object, and the course's rule is that the first object "
             "listed keeps the cell. A loop that simply assigns in order lets the last one "
             "overwrite it: skip cells whose obj is already 1.",
             [[0.5, 0.5, 0.2, 0.2], [0.52, 0.48, 0.4, 0.4]], [1, 2], 7, 20),
        case("five objects, two collisions (S = 7, C = 5)", formulas + " The first object "
             "listed in a cell keeps it.",
             [[0.10, 0.10, 0.10, 0.10], [0.40, 0.60, 0.30, 0.40], [0.13, 0.05, 0.20, 0.30],
              [0.35, 0.68, 0.10, 0.10], [0.90, 0.90, 0.20, 0.20]], [0, 1, 2, 3, 4], 7, 5),
    ]


def encode_targets(
    learner_fn: Callable[[Tensor, Tensor, int, int], Tensor], **run: Any
) -> CheckResult:
    """Checks ``learner_fn(boxes, labels, S, C) -> Tensor[S, S, 5 + C]`` against
    :func:`yolo_lesson.grid.encode_targets`. ``boxes`` is ``[K, 4]`` ``cxcywh`` in ``[0, 1]``,
    ``labels`` ``[K]`` long.

    Cases: the centre cell, row/column order, offsets in cell units, other S and C, a centre
    on a cell border and at 1.0, no objects, collisions (the first object listed keeps the cell).
    """
    from .. import grid

    return run_cases("encode_targets", learner_fn, _encode_cases, grid.encode_targets,
                     compare=_compare_grids, arg_names=("boxes", "labels", "S", "C"),
                     show_expected=_grid_summary, show_received=_grid_summary, **run)




def _cell_reference(cx, cy, S):
    from .. import grid

    cells = grid.assign_cells(torch.tensor([[cx, cy, 0.1, 0.1]], dtype=torch.float64), S)
    return (int(cells.rows), int(cells.cols))


_CELL_CASES = [
    Case("a centre at (0.62, 0.31) with S = 7", "row comes from cy and column from cx: "
         "(floor(cy·S), floor(cx·S)), returned as (row, col).", (0.62, 0.31, 7)),
    Case("the same centre with S = 13", "use the argument S.", (0.62, 0.31, 13)),
    Case("a centre exactly on a cell border (0.25 with S = 4)", "a border belongs to the next "
         "cell: floor(0.25·4) = 1. Use floor (or int of a non-negative number), not round.",
         (0.25, 0.5, 4)),
    Case("a centre at 1.0, on the right and bottom edge", "floor(1.0·S) = S is outside the "
         "grid: clamp row and col to S - 1.", (1.0, 1.0, 7)),
    Case("a centre at 0", "the top-left corner is cell (0, 0).", (0.0, 0.0, 5)),
    Case("a centre in the right half of its cell (0.5 with S = 7: 3.5)", "floor, not round: "
         "3.5 is in cell 3, whose right edge is at 4.", (0.5, 0.5, 7)),
]


def owning_cell(learner_fn: Callable[[float, float, int], tuple], **run: Any) -> CheckResult:
    """Checks ``learner_fn(cx, cy, S) -> (row, col)``, the cell that owns an object centred at
    ``(cx, cy)`` (image fractions), against :func:`yolo_lesson.grid.assign_cells`."""
    return run_cases("owning_cell", learner_fn, lambda: _CELL_CASES, _cell_reference,
                     compare=compare_exact, arg_names=("cx", "cy", "S"), **run)


def encoded_cell(cell: Any, vector: Any, *, box, label: int, S: int = 7, C: int = 20, **run: Any) -> CheckResult:
    """Checks an answer: ``cell`` = (row, col) and ``vector`` = the ``5 + C`` numbers that
    :func:`yolo_lesson.grid.encode_targets` writes there for one object ``box`` (cx, cy, w, h)
    of class ``label``."""
    from .. import grid

    def reference(box, label):
        target = grid.encode_targets(_t([list(box)]), torch.tensor([label]), S=S, C=C)
        row, col = [int(i) for i in torch.nonzero(target[..., 4])[0]]
        return (row, col), target[row, col]

    def compare(expected, received):
        (want_cell, want_vector), (got_cell, got_vector) = expected, received
        if compare_exact(want_cell, got_cell) is not None:
            return f"cell {got_cell} instead of {want_cell}: row = floor(cy·S), col = floor(cx·S)"
        return compare_tensors(want_vector, got_vector, atol=1e-6)

    def show(value):
        return f"cell {tuple(int(v) for v in value[0])}, vector {_show(value[1])}" if isinstance(value, tuple) else _show(value)

    case = Case(f"the target of one object (S = {S}, C = {C})",
                "the vector is (x, y, w, h, obj, one-hot): x = cx·S - col and y = cy·S - row are "
                "offsets in cell units, w and h stay fractions of the image, obj = 1, and the "
                "class is a 1 at position 5 + label.", (list(box), label))
    return run_cases("encoded_cell", (cell, vector), lambda: [case], reference, compare=compare,
                     arg_names=("box", "label"), call=lambda answer, *a: answer,
                     show_expected=show, show_received=show, expects_function=False, **run)


def collisions(scene: Tensor, dropped: Any, reordered: Any, *, S: int = 7, **run: Any) -> CheckResult:
    """Checks an answer about one scene ``[K, 4]`` (cx, cy, w, h): ``dropped``, the indices of
    the objects that lose their cell in the given order, and ``reordered``, the scene's boxes in
    an order where, in every collision, the largest box keeps the cell."""
    from .. import grid

    def reference(scene):
        return grid.assign_cells(scene, S).dropped.tolist()

    def compare(expected, received):
        got_dropped, got_order = received
        if compare_exact(expected, sorted(int(i) for i in got_dropped)) is not None:
            return (f"dropped {got_dropped} instead of {expected}: compute every object's "
                    "(row, col); in a cell claimed twice, the object listed later is dropped")
        order = _as_tensor(got_order)
        if order is None or order.shape != scene.shape:
            return f"reordered must be the scene's {scene.shape[0]} boxes in a new order, a Tensor{_shape(scene.shape)}"
        if sorted(map(tuple, order.tolist())) != sorted(map(tuple, scene.tolist())):
            return "reordered must hold exactly the scene's boxes (a permutation of its rows)"
        cells = grid.assign_cells(order, S)
        area = order[:, 2] * order[:, 3]
        for k in torch.nonzero(~cells.kept).flatten().tolist():
            same = (cells.rows == cells.rows[k]) & (cells.cols == cells.cols[k]) & cells.kept
            if area[k] > area[same].max():
                return (f"in cell ({int(cells.rows[k])}, {int(cells.cols[k])}) the larger box "
                        f"({_nested(order[k].tolist())}) is dropped: sort by area w·h, largest first")
        return None

    case = Case(f"the scene's collisions (S = {S})", "an object whose cell an earlier object "
                "took is dropped; sorting by w·h in decreasing order lets the largest keep it.",
                (scene,))
    return run_cases("collisions", (dropped, reordered), lambda: [case], reference, compare=compare,
                     arg_names=("scene",), call=lambda answer, *a: answer,
                     show_received=lambda r: f"dropped {r[0]}", expects_function=False, **run)
