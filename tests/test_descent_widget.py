"""The descent replay widget: a thin view over yolo_lesson.landscape.descent_paths, with every
frame recorded in its state (so the static website can scrub it without a kernel)."""

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("anywidget")

from yolo_lesson.landscape import DESCENT_LOSSES, descent_paths, replay_state  # noqa: E402
from yolo_lesson.widgets import DescentReplay  # noqa: E402

TARGET = (0.4, 0.4, 0.6, 0.6)
APART = (0.08, 0.45, 0.23, 0.55)


@pytest.fixture(scope="module")
def replay():
    return DescentReplay(TARGET, APART, steps=30)


def test_replay_records_every_frame_of_the_package_paths(replay):
    paths = descent_paths(TARGET, APART, steps=30)
    state = replay.replay
    assert state["steps"] == 30
    assert [p["name"] for p in state["paths"]] == list(DESCENT_LOSSES)
    for recorded, (name, path) in zip(state["paths"], paths.items()):
        assert len(recorded["boxes"]) == 31
        for k in (0, 1, 17, 30):
            assert recorded["boxes"][k] == pytest.approx(path.boxes[k], abs=1e-6)
            assert recorded["values"][k] == pytest.approx(path.values[k], abs=1e-6)
            assert recorded["ious"][k] == pytest.approx(path.ious[k], abs=1e-6)
            x1, y1, x2, y2 = path.boxes[k]
            assert recorded["centres"][k] == pytest.approx(((x1 + x2) / 2, (y1 + y2) / 2), abs=1e-6)
    frame = replay.frame(17)
    assert frame["giou"]["value"] == pytest.approx(paths["giou"].values[17], abs=1e-6)


def test_replay_is_marked_recorded_and_small(replay):
    assert "yolo-recorded" in replay._dom_classes
    # The saved state stays far below the ~300 KB budget per widget, at the lesson's 100 steps.
    full = DescentReplay(TARGET, APART)
    assert len(json.dumps(full.replay)) < 100_000


def test_the_script_only_looks_numbers_up():
    source = (Path(__import__("yolo_lesson").__file__).parent / "widgets" / "js" / "descent_replay.js").read_text()
    # No arithmetic functions: the page maps coordinates to pixels and clamps the step, nothing more.
    assert set(re.findall(r"Math\.(\w+)", source)) <= {"min", "max"}


def test_replay_state_bad_input():
    paths = descent_paths(TARGET, APART, steps=2, losses=["giou"])
    with pytest.raises(ValueError, match="paths"):
        replay_state({}, TARGET, colors={}, labels={})
    short = descent_paths(TARGET, APART, steps=1, losses=["diou"])
    with pytest.raises(ValueError, match="same number of steps"):
        replay_state(paths | short, TARGET, colors={}, labels={})
    with pytest.raises(ValueError, match="truth"):
        replay_state(paths, (0.5, 0.5, 0.4, 0.6), colors={}, labels={})
    with pytest.raises(ValueError, match="start"):
        DescentReplay(TARGET, (0.1, 0.1, 0.1, 0.2))
