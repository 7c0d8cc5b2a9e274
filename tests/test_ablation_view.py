"""The bug toggles: yolo_lesson.ablation_view.ablation_summary on a hand-made curve file
(every number checked by hand) and on the package's recorded runs (against
benchmarks/ablations.csv), and the widget's recorded state (equal to ablation_summary's)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from yolo_lesson.ablation_view import CURVE_TERMS, TOGGLES, ablation_summary, load_ablation_runs

ROOT = Path(__file__).resolve().parents[1]


def _run(variant, seed, map50, totals, steps=(0, 2, 4)):
    # Each term is the total times a fixed share, so every term is known from `totals`.
    share = {"total": 1.0, "box": 0.5, "obj": 0.25, "noobj": 0.125, "cls": 0.125}
    return {"variant": variant, "seed": seed, "map50": map50, "steps": list(steps),
            **{t: [v * share[t] for v in totals] for t in CURVE_TERMS}}


@pytest.fixture
def small(tmp_path):
    """Three seeds of the paper and of three variants, three recorded steps (0, 2, 4)."""
    runs = [
        _run("paper", 0, 0.90, [8.0, 4.0, 2.0]),
        _run("paper", 1, 0.92, [6.0, 3.0, 1.0]),
        _run("paper", 2, 0.94, [10.0, 5.0, 3.0]),
        # lower on every seed, by 0.10 on average: more than the paper's sd 0.02 -> differs
        _run("bad", 0, 0.80, [16.0, 8.0, 4.0]),
        _run("bad", 1, 0.82, [12.0, 6.0, 2.0]),
        _run("bad", 2, 0.84, [20.0, 10.0, 6.0]),
        # lower on every seed but by 0.01 only: within the sd
        _run("close", 0, 0.89, [8.0, 4.0, 2.0]),
        _run("close", 1, 0.91, [6.0, 3.0, 1.0]),
        _run("close", 2, 0.93, [10.0, 5.0, 3.0]),
        # mean lower by 0.03 (> sd), but higher on seed 2
        _run("mixed", 0, 0.80, [8.0, 4.0, 2.0]),
        _run("mixed", 1, 0.88, [6.0, 3.0, 1.0]),
        _run("mixed", 2, 0.99, [10.0, 5.0, 3.0]),
    ]
    data = {"steps": 5, "every": 2, "terms": list(CURVE_TERMS),
            "variants": [{"name": n, "group": "g", "change": f"{n} change"} for n in ("paper", "bad", "close", "mixed")],
            "runs": runs}
    path = tmp_path / "curves.json"
    path.write_text(json.dumps(data))
    return path


def test_summary_is_the_mean_min_and_max_over_seeds_at_each_step(small):
    s = ablation_summary("bad", path=small)
    assert s.variant == "bad" and s.change == "bad change" and s.seeds == (0, 1, 2)
    assert s.steps == (0, 2, 4)
    # step 0: totals 16, 12, 20 -> mean 16, min 12, max 20; step 4: 4, 2, 6 -> 4, 2, 6
    assert s.mean["total"] == pytest.approx((16.0, 8.0, 4.0))
    assert s.low["total"] == (12.0, 6.0, 2.0) and s.high["total"] == (20.0, 10.0, 6.0)
    assert s.mean["box"] == pytest.approx((8.0, 4.0, 2.0))  # half the total, by construction
    assert s.maps == (0.80, 0.82, 0.84)
    assert s.map_mean == pytest.approx(0.82) and s.map_sd == pytest.approx(0.02)
    # The paper's: mAPs 0.90, 0.92, 0.94 -> 0.92 ± 0.02 (sample sd: sqrt((0.02² + 0 + 0.02²) / 2))
    assert s.paper.map_mean == pytest.approx(0.92) and s.paper.map_sd == pytest.approx(0.02)
    assert s.paper.mean["total"] == pytest.approx((8.0, 4.0, 2.0)) and s.paper.paper is None


def test_reading_follows_lesson_06s_criterion(small):
    bad = ablation_summary("bad", path=small)
    assert (bad.lower_seeds, bad.higher_seeds, bad.differs) == (3, 0, True)
    assert bad.reading.startswith("Differs: lower on all 3 seeds") and "0.100" in bad.reading and "0.020" in bad.reading
    close = ablation_summary("close", path=small)
    assert (close.lower_seeds, close.differs) == (3, False)
    assert close.reading.startswith("No difference") and "0.010" in close.reading
    mixed = ablation_summary("mixed", path=small)  # 0.80, 0.88, 0.99 -> mean 0.89, 0.03 below
    assert (mixed.lower_seeds, mixed.higher_seeds, mixed.differs) == (2, 1, False)
    assert "lower by 0.030" in mixed.reading and "not on every seed" in mixed.reading
    paper = ablation_summary("paper", path=small)
    assert paper.paper is None and not paper.differs and "reference" in paper.reading


def test_every_subsamples_the_records_and_keeps_the_last(small):
    s = ablation_summary("bad", path=small, every=4)
    assert s.steps == (0, 4) and s.mean["total"] == pytest.approx((16.0, 4.0))
    assert ablation_summary("bad", path=small, every=6).steps == (0, 4)  # only the first, then the last
    with pytest.raises(ValueError, match="every must be a multiple of the recorded spacing 2 steps, got 3"):
        ablation_summary("bad", path=small, every=3)
    with pytest.raises(ValueError, match="every must be a positive int, got 0"):
        ablation_summary("bad", path=small, every=0)


def test_unknown_variant_names_the_argument_and_lists_the_choices(small):
    with pytest.raises(ValueError, match=r"variant must be one of 'paper', 'bad', 'close', 'mixed', got 'worse'"):
        ablation_summary("worse", path=small)
    with pytest.raises(ValueError, match=r"variant must be one of .* got None"):
        ablation_summary(None, path=small)
    with pytest.raises(ValueError, match=r"'wh=signed_sqrt'.*got 'sqrt'"):
        ablation_summary("sqrt")  # the package's file lists its own variants


def test_a_variant_without_curves_is_refused(small, tmp_path):
    data = json.loads(small.read_text())
    data["runs"][3] = {**data["runs"][3], "steps": [], **{t: [] for t in CURVE_TERMS}, "map50": math.nan}
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="no recorded curve"):
        ablation_summary("bad", path=path)


# --- the package's recorded runs ----------------------------------------------------------------


def _csv():
    with (ROOT / "benchmarks" / "ablations.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", ["paper", *TOGGLES])
def test_package_summaries_show_the_mAPs_of_the_committed_table(name):
    rows = _csv()
    summary_row = next(r for r in rows if r["variant"] == name and r["seed"] == "all")
    seed_rows = [r for r in rows if r["variant"] == name and r["seed"] != "all"]
    s = ablation_summary(name)
    assert [f"{m:.4f}" for m in s.maps] == [r["map50"] for r in seed_rows]
    assert (f"{s.map_mean:.4f}", f"{s.map_sd:.4f}") == (summary_row["mean"], summary_row["std"])
    assert s.change == summary_row["change"]
    assert s.steps[0] == 0 and s.steps[-1] == 299 and len(s.steps) == 151


def test_package_readings_agree_with_lesson_06():
    # Lesson 06 §7 sorts the rows by this criterion: of the toggles, the no-object term on empty
    # cells and the sign-trick root differ; the others do not.
    differs = {name for name in TOGGLES if ablation_summary(name).differs}
    assert differs == {"noobj_scope=empty_cells", "wh=signed_sqrt"}
    # The sum over the batch: the same errors give N = 32 times the paper's loss; at step 0 the
    # untrained networks are the same (seeded), so the recorded totals differ by that factor.
    summed, paper = ablation_summary("reduction=sum"), ablation_summary("paper")
    assert summed.mean["total"][0] == pytest.approx(32 * paper.mean["total"][0], rel=1e-3)


def test_the_curve_file_ships_with_the_package():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"yolo_lesson" = ["data_files/*.json"]' in text
    runs = load_ablation_runs()
    assert runs.steps == 300 and set(TOGGLES) <= set(runs.variants)


# --- the widget's recorded state ----------------------------------------------------------------


def test_widget_state_holds_every_toggle_as_ablation_summary_gives_it():
    pytest.importorskip("anywidget")
    from yolo_lesson.widgets import AblationToggles
    from yolo_lesson.widgets._ablations import SHOWN_EVERY

    widget = AblationToggles()
    data = widget.data
    assert "yolo-recorded" in widget._dom_classes  # answers on the website without a kernel
    assert len(json.dumps(data)) <= 300_000
    assert [v["name"] for v in data["variants"]] == list(TOGGLES)
    assert [v["label"] for v in data["variants"]] == list(TOGGLES.values())
    for shown in data["variants"]:
        s = ablation_summary(shown["name"], every=SHOWN_EVERY)
        assert data["steps"] == list(s.steps)
        assert shown["maps"] == [f"{m:.4f}" for m in s.maps]
        assert (shown["map_mean"], shown["map_sd"]) == (f"{s.map_mean:.4f}", f"{s.map_sd:.4f}")
        assert shown["reading"] == s.reading and shown["differs"] == s.differs
        # The differences are those of the numbers shown: the variant's minus the paper's.
        for diff, mine, theirs in zip(shown["diffs"], shown["maps"], data["paper"]["maps"]):
            assert float(diff) == pytest.approx(float(mine) - float(theirs), abs=1e-9)
            assert diff == "0.0000" or diff[0] in "+-"
        assert float(shown["diff_mean"]) == pytest.approx(float(shown["map_mean"]) - float(data["paper"]["map_mean"]), abs=1e-9)
        for term in CURVE_TERMS:
            for key in ("mean", "low", "high"):
                assert shown["curves"][term][key] == pytest.approx(getattr(s, key)[term], rel=5e-4)
            # Its log axis holds both curves' bands; its ticks lie inside the axis.
            axis = shown["axes"][term]
            values = [*shown["curves"][term]["low"], *shown["curves"][term]["high"],
                      *data["paper"]["curves"][term]["low"], *data["paper"]["curves"][term]["high"]]
            # (A log axis spans at most four decades below the top: lower values sit at its floor,
            # as the cls term of the summed loss does.)
            floor = max(min(v for v in values if v > 0), max(values) * 1e-4)
            assert axis["min"] <= floor and max(values) <= axis["max"]
            assert len(axis["ticks"]) >= 2 and all(axis["min"] <= t <= axis["max"] for t in axis["ticks"])
    paper = ablation_summary("paper", every=SHOWN_EVERY)
    assert data["paper"]["maps"] == [f"{m:.4f}" for m in paper.maps]
    assert data["seeds"] == len(paper.seeds)


def test_widget_switches_variant_and_refuses_unknown_ones():
    pytest.importorskip("anywidget")
    from yolo_lesson.widgets import AblationToggles

    widget = AblationToggles("reduction=sum")
    assert widget.shown()["name"] == "reduction=sum" and "32" in widget.shown()["note"]
    widget.variant = "tie_break=first"
    assert widget.shown()["map_mean"] == f"{ablation_summary('tie_break=first').map_mean:.4f}"
    with pytest.raises(ValueError, match="variant must be one of 'conf_target=one'"):
        AblationToggles("paper")  # the reference is always shown; it is not a toggle
    with pytest.raises(ValueError, match="variant must be one of"):
        AblationToggles("lambda")


def test_log_ticks_are_round_numbers_inside_the_range():
    pytest.importorskip("anywidget")
    from yolo_lesson.widgets._ablations import _log_ticks

    assert _log_ticks(0.04, 0.45) == [0.05, 0.1, 0.2]
    assert _log_ticks(1.6, 300) == [5.0, 10.0, 50.0, 100.0]  # 1, 2, 5 would make seven
    assert _log_ticks(1.07, 1.93) == [1.1, 1.4, 1.8]  # no power-of-ten multiple inside: three round numbers
    for low, high in ((0.001, 300.0), (2.0, 2.5), (0.3, 0.9)):
        ticks = _log_ticks(low, high)
        assert 2 <= len(ticks) <= 6 and all(low <= t <= high for t in ticks), (low, high, ticks)
