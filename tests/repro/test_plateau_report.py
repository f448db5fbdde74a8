"""The alpha-plateau chapter's facts, tables and sentences, on tiny hand-made plateau grids.

Every grid has five alphas, 1 to 16 (a factor of 2 per step); the baseline's Dr is 90 %, so
at tolerances 3 / 10 a grid point meets the criteria when its Dr is >= 87 % and its MIA at
most 10 points above the task's lowest MIA on the grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from assd_repro.experiments.alpha_plateau import plateau_bounds
from assd_repro.experiments.plateau_report import (
    PAPER_COLUMN,
    plateau_comparison,
    plateau_facts,
    plateau_numbers,
    plateau_overview,
    plateau_relation,
    plateau_sensitivity,
    sensitivity_numbers,
    sensitivity_summary,
    task_titles,
)

ALPHAS = [1.0, 2.0, 4.0, 8.0, 16.0]
CRITERIA = {"tolerance": 3.0, "mia_tolerance": 10.0}
REPO = Path(__file__).resolve().parents[2]


def task(kind: str, target: str, dr: Sequence[float], mia: Sequence[float], *,
         df: Sequence[float] = (0.0,) * 5, assd: tuple[float, float, float, float] = (
             4.0, 90.0, 0.0, 0.0), percentile: float = 97.0,
         scenarios: Sequence[int] = (0,)) -> list[dict[str, Any]]:
    """Tidy rows of one task: the baseline (Dr 90, Df 80), SSD on the grid (``dr``, ``mia``,
    ``df`` per alpha) and ASSD (``assd`` = alpha, Dr, MIA, Df), alike in every scenario."""
    rows = []
    for scenario in scenarios:
        labels = {"scenario": scenario, "task": f"toy/{kind}/{target}", "kind": kind,
                  "target": target}
        rows += [{**labels, "method": "baseline", "alpha": math.nan, "metric": m, "value": v}
                 for m, v in (("Dr", 90.0), ("Df", 80.0), ("MIA", 70.0))]
        for alpha, values in zip(ALPHAS, zip(dr, mia, df, strict=True), strict=True):
            rows += [{**labels, "method": "ssd", "alpha": alpha, "metric": m, "value": v}
                     for m, v in zip(("Dr", "MIA", "Df"), values, strict=True)]
        alpha, *values = assd
        rows += [{**labels, "method": "assd", "alpha": alpha, "metric": m, "value": v}
                 for m, v in zip(("Dr", "MIA", "Df", "percentile"), [*values, percentile],
                                 strict=True)]
    return rows


def six_tasks() -> pd.DataFrame:
    """Three full-class and three sub-class tasks, like the book's run.

    Full-class: plane 2-8 (closed; ASSD inside), cat 4-16 (open above, overlapping plane's;
    ASSD inside), truck at 1 only (open below, apart from both; ASSD misses it on Dr and
    MIA). Sub-class: plane 1-2 (open below, overlapping full-class plane's, narrower; ASSD
    inside), cat none (Dr comes back at 8 where the MIA has risen; ASSD 5 points down),
    truck none (Dr never comes back)."""
    return pd.DataFrame(
        task("fullclass", "plane", [50, 88, 90, 90, 90], [0, 1, 2, 5, 60],
             df=[0, 5, 10, 20, 70], assd=(3.0, 89.0, 1.0, 0.0))
        + task("fullclass", "cat", [50, 60, 88, 90, 90], [0, 0, 0, 5, 8],
               df=[0, 0, 0, 5, 6], assd=(5.0, 90.0, 2.0, 0.0))
        + task("fullclass", "truck", [90, 90, 60, 50, 50], [0, 30, 40, 50, 60],
               assd=(1.2, 80.0, 20.0, 1.0))
        + task("subclass", "plane", [88, 90, 60, 50, 50], [0, 5, 40, 50, 60],
               assd=(1.5, 89.0, 3.0, 30.0))
        + task("subclass", "cat", [50, 60, 80, 88, 90], [0, 2, 5, 40, 60],
               assd=(6.0, 85.0, 3.0, 0.5))
        + task("subclass", "truck", [10, 20, 30, 40, 50], [0, 0, 0, 0, 0],
               assd=(3.0, 40.0, 50.0, 2.0)))


def numbers_of(rows: pd.DataFrame, **criteria: float) -> dict[str, object]:
    facts = plateau_facts(rows, ALPHAS, **(criteria or CRITERIA))
    return plateau_numbers(rows, facts, ALPHAS, plateau_comparison(rows))


# -- plateau_facts ----------------------------------------------------------------------------


def test_facts_of_six_tasks() -> None:
    facts = plateau_facts(six_tasks(), ALPHAS, **CRITERIA)
    assert facts.index.tolist() == [f"toy/{k}/{t}" for k in ("fullclass", "subclass")
                                    for t in ("plane", "cat", "truck")]
    by = facts.set_index(["kind", "target"])
    spans = by[["low", "high", "points"]].to_dict("index")
    assert spans[("fullclass", "plane")] == {"low": 2.0, "high": 8.0, "points": 3}
    assert spans[("fullclass", "cat")] == {"low": 4.0, "high": 16.0, "points": 3}
    assert spans[("fullclass", "truck")] == {"low": 1.0, "high": 1.0, "points": 1}
    assert spans[("subclass", "plane")] == {"low": 1.0, "high": 2.0, "points": 2}
    assert by["found"].tolist() == [True, True, True, True, False, False]
    assert by["open_below"].tolist() == [False, False, True, True, False, False]
    assert by["open_above"].tolist() == [False, True, False, False, False, False]
    assert by["in_bounds"].tolist() == [True, True, False, True, False, False]
    assert by["on"].tolist() == [True, True, False, True, False, False]
    assert by["assd_dr_gap"].tolist() == [1.0, 0.0, 10.0, 1.0, 5.0, 50.0]
    assert by["assd_dr_ok"].tolist() == [True, True, False, True, False, False]
    assert by["assd_mia_ok"].tolist() == [True, True, False, True, True, False]
    assert by["mia_ceiling"].tolist() == [10.0] * 6
    assert by["base_df"].tolist() == [80.0] * 6
    assert by.loc[("fullclass", "plane"), ["df_at_high", "mia_at_high"]].tolist() == [20, 5]
    assert math.isnan(by.loc[("subclass", "cat"), "df_at_high"])
    assert by["why_missing"].iloc[:4].isna().all()
    assert by.loc[("subclass", "cat"), "why_missing"] == (
        "on sub-class cat, Dr first comes within 3 points of the baseline's at α = 8, where "
        "the MIA is already 40.0 % (the criterion allows 10.0 %); one grid step lower, at "
        "α = 4, Dr is 80.0 %, 10.0 points below the baseline's, while the MIA meets its "
        "criterion")
    assert by.loc[("subclass", "truck"), "why_missing"] == (
        "on sub-class truck, Dr never comes within 3 points of the baseline's")
    assert (facts["tolerance"] == 3.0).all() and (facts["mia_tolerance"] == 10.0).all()


def test_facts_agree_with_plateau_bounds() -> None:
    rows = six_tasks()
    for tolerance, mia_tolerance in ((0.5, 1.0), (3.0, 10.0), (100.0, 100.0)):
        facts = plateau_facts(rows, ALPHAS, tolerance=tolerance, mia_tolerance=mia_tolerance)
        bounds = plateau_bounds(rows, tolerance=tolerance, mia_tolerance=mia_tolerance)
        np.testing.assert_array_equal(facts["low"], bounds["alpha_low"])
        np.testing.assert_array_equal(facts["high"], bounds["alpha_high"])
        assert facts["points"].tolist() == bounds["n_points"].tolist()
        assert facts["on"].tolist() == (bounds["assd_in_bounds"]
                                        | bounds["assd_meets_criteria"]).tolist()


@pytest.mark.parametrize(("dr", "mia", "why"), [
    # Dr within the tolerance at the grid's first point, where the MIA is too high
    ([90, 50, 50, 50, 50], [60, 0, 0, 0, 0],
     "on full-class x, Dr first comes within 3 points of the baseline's at α = 1, where the "
     "MIA is already 60.0 % (the criterion allows 10.0 %)"),
    # one step lower the MIA fails as well: no "while" clause
    ([50, 60, 88, 90, 90], [0, 50, 60, 70, 80],
     "on full-class x, Dr first comes within 3 points of the baseline's at α = 4, where the "
     "MIA is already 60.0 % (the criterion allows 10.0 %); one grid step lower, at α = 2, "
     "Dr is 60.0 %, 30.0 points below the baseline's"),
])
def test_why_a_plateau_is_missing(dr: list[float], mia: list[float], why: str) -> None:
    rows = pd.DataFrame(task("fullclass", "x", dr, mia))
    (fact,) = plateau_facts(rows, ALPHAS, **CRITERIA).to_dict("records")
    assert not fact["found"] and fact["why_missing"] == why


def test_facts_refuse_what_they_cannot_read() -> None:
    rows = six_tasks()
    with pytest.raises(ValueError, match=r"rows must be a non-empty DataFrame"):
        plateau_facts(rows.iloc[:0], ALPHAS, **CRITERIA)
    with pytest.raises(ValueError, match=r"rows lack\(s\) the column\(s\) \['target'\]"):
        plateau_facts(rows.drop(columns="target"), ALPHAS, **CRITERIA)
    no_df = rows[~((rows["method"] == "assd") & (rows["metric"] == "Df"))]
    with pytest.raises(ValueError, match=r"task 'toy/fullclass/plane' has no assd row of the "
                                         r"metric\(s\) \['Df'\]"):
        plateau_facts(no_df, ALPHAS, **CRITERIA)
    for alphas in ([1.0], [2.0, 1.0], [0.0, 1.0], [1.0, math.nan]):
        with pytest.raises(ValueError, match=r"alphas=.* must be the run's alpha grid"):
            plateau_facts(rows, alphas, **CRITERIA)
    with pytest.raises(ValueError, match=r"mia_tolerance=-1"):
        plateau_facts(rows, ALPHAS, tolerance=3.0, mia_tolerance=-1)


def test_task_titles() -> None:
    assert task_titles(six_tasks()) == {
        f"toy/{k}/{t}": f"{t}, {label}" for k, label in (("fullclass", "full-class"),
                                                          ("subclass", "sub-class"))
        for t in ("plane", "cat", "truck")}
    with pytest.raises(ValueError, match=r"\['target'\]"):
        task_titles(six_tasks().drop(columns="target"))


# -- plateau_relation -------------------------------------------------------------------------


@pytest.mark.parametrize(("plateau", "other", "relation"), [
    ((2.0, 8.0), (2.0, 8.0), "coincides with"),
    ((1.0, 2.0), (4.0, 8.0), "lies entirely below"),
    ((8.0, 16.0), (1.0, 4.0), "lies entirely above"),
    ((1.0, 4.0), (4.0, 16.0), "overlaps"),  # sharing one grid point is overlapping
    ((2.0, 16.0), (4.0, 8.0), "overlaps"),
])
def test_plateau_relation(plateau: tuple[float, float], other: tuple[float, float],
                          relation: str) -> None:
    as_row = pd.Series({"low": plateau[0], "high": plateau[1], "target": "x"})
    assert plateau_relation(as_row, {"low": other[0], "high": other[1]}) == relation


@pytest.mark.parametrize("span", [{"low": math.nan, "high": math.nan}, {"low": 8.0, "high": 2.0},
                                  {"high": 2.0}])
def test_plateau_relation_refuses_a_missing_plateau(span: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"other has low=.*: pass a row of plateau_facts"):
        plateau_relation({"low": 1.0, "high": 2.0}, span)


# -- tables -----------------------------------------------------------------------------------


def test_plateau_overview_adds_grid_points_and_open_ends() -> None:
    rows = six_tasks()
    bounds = plateau_bounds(rows, **CRITERIA)
    shown = plateau_overview(bounds, ALPHAS, titles=task_titles(rows))
    assert shown.index.tolist() == [
        ("this run", "α low"), ("this run", "α high"), ("this run", "width"),
        ("this run", "grid points"), ("this run", "open"), ("ASSD", "α"),
        ("ASSD", "in bounds"), ("ASSD", "meets criteria"), ("paper (its own task)", "task"),
        ("paper (its own task)", "α low"), ("paper (its own task)", "α high"),
        ("paper (its own task)", "width")]
    assert shown.columns.tolist()[:2] == ["plane, full-class", "cat, full-class"]
    assert shown.loc[("this run", "grid points")].tolist() == [3, 3, 1, 2, 0, 0]
    assert shown.loc[("this run", "open")].tolist() == ["–", "above", "below", "below",
                                                         "–", "–"]
    assert shown.loc[("this run", "width")].tolist()[:2] == [4.0, 4.0]
    everywhere = plateau_overview(plateau_bounds(rows, tolerance=100.0), ALPHAS)
    assert everywhere.columns.tolist()[0] == "toy/fullclass/plane"  # no titles: task names
    assert set(everywhere.loc[("this run", "open")]) == {"below and above"}
    with pytest.raises(ValueError, match=r"bounds lack\(s\) the column\(s\) \['n_points'\]"):
        plateau_overview(bounds.drop(columns="n_points"), ALPHAS)


def test_sensitivity_counts_plateaus_and_assd_per_pair_and_kind() -> None:
    rows = six_tasks()
    sensitivity = plateau_sensitivity(rows, [(3.0, 10.0), (100.0, 100.0), (3.0, 10.0)])
    assert len(sensitivity) == 12  # the repeated pair is searched once
    assert sensitivity[["tolerance", "mia_tolerance"]].drop_duplicates().values.tolist() == [
        [3.0, 10.0], [100.0, 100.0]]
    summary = sensitivity_summary(sensitivity)
    assert summary.index.name == "tolerance (Dr / MIA)"
    assert summary.index.tolist() == ["3 / 10", "100 / 100"]
    assert summary.columns.tolist() == [
        ("plateau found", "full-class"), ("plateau found", "sub-class"),
        ("ASSD on it", "full-class"), ("ASSD on it", "sub-class")]
    assert summary.values.tolist() == [["3 of 3", "1 of 3", "2 of 3", "1 of 3"],
                                       ["3 of 3", "3 of 3", "3 of 3", "3 of 3"]]
    assert sensitivity_numbers(sensitivity, strict=(3.0, 10.0)) == {
        "fig3_verdict_strict": "misses them on 3 of 6 tasks",
        "fig3_fullclass_found_min": 3, "fig3_fullclass_found_max": 3,
        "fig3_fullclass_found_span": "3",
        "fig3_subclass_found_min": 1, "fig3_subclass_found_max": 3,
        "fig3_subclass_found_span": "1 to 3"}
    loose = sensitivity_numbers(sensitivity, strict=(100.0, 100.0))
    assert loose["fig3_verdict_strict"] == "still meets them on every task"


def test_sensitivity_refuses_bad_pairs() -> None:
    rows = six_tasks()
    for tolerances in ([], [(3.0,)], [3.0]):
        with pytest.raises(ValueError, match=r"tolerances=.* must be a non-empty sequence of "
                                             r"\(tolerance, mia_tolerance\) pairs"):
            plateau_sensitivity(rows, tolerances)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"tolerance=-2"):
        plateau_sensitivity(rows, [(-2.0, 1.0)])
    sensitivity = plateau_sensitivity(rows, [(3.0, 10.0)])
    with pytest.raises(ValueError, match=r"strict=\(2.0, 2.0\) is none of the tolerance pairs "
                                         r"\[\(3.0, 10.0\)\]"):
        sensitivity_numbers(sensitivity, strict=(2.0, 2.0))
    with pytest.raises(ValueError, match=r"sensitivity has no row"):
        sensitivity_summary(sensitivity.iloc[:0])
    with pytest.raises(ValueError, match=r"sensitivity lack\(s\) the column\(s\) \['on'\]"):
        sensitivity_summary(sensitivity.drop(columns="on"))


def test_comparison_sets_the_run_beside_the_paper() -> None:
    rows = six_tasks()
    comparison = plateau_comparison(rows)
    assert comparison.index.tolist() == [(k, m, metric) for k in ("full-class", "sub-class")
                                         for m in ("baseline", "assd")
                                         for metric in ("Dr", "Df", "MIA")]
    assert comparison.columns.tolist() == ["plane", "cat", "truck", PAPER_COLUMN]
    assert comparison.loc[("sub-class", "assd", "Df"), "plane"] == 30.0
    assert comparison.loc[("full-class", "baseline", "Dr"), "truck"] == 90.0
    # the paper's ResNet18 rocket rows: Table 1 (CIFAR-100), Table 2 (CIFAR-20)
    assert comparison.loc[("full-class", "assd", "Df"), PAPER_COLUMN] == 0.0
    assert comparison.loc[("sub-class", "assd", "Df"), PAPER_COLUMN] == 2.17
    paper = pd.DataFrame([{"method": m, "metric": k, "mean": 1.0}
                          for m in ("baseline", "assd") for k in ("Dr", "Df", "MIA")])
    own = plateau_comparison(rows, {"fullclass": paper})
    kinds = own.index.get_level_values("kind")
    assert (own.loc[kinds == "full-class", PAPER_COLUMN] == 1.0).all()
    assert own.loc[kinds == "sub-class", PAPER_COLUMN].isna().all()  # no paper rows there
    with pytest.raises(ValueError, match=r"paper\['fullclass'\] has no row of \[\('assd', "
                                         r"'Dr'\), \('assd', 'Df'\), \('assd', 'MIA'\)\]"):
        plateau_comparison(rows, {"fullclass": paper[paper["method"] == "baseline"]})
    with pytest.raises(ValueError, match=r"lack\(s\) the column\(s\) \['mean'\]"):
        plateau_comparison(rows, {"fullclass": paper.drop(columns="mean")})


# -- plateau_numbers --------------------------------------------------------------------------


def test_numbers_of_six_tasks() -> None:
    numbers = numbers_of(six_tasks())
    assert numbers == {
        "fig3_n_tasks": 6, "fig3_n_alpha": 5, "fig3_alpha_min": 1.0, "fig3_alpha_max": 16.0,
        "fig3_grid_step": 2.0, "fig3_tolerance": 3.0, "fig3_mia_tolerance": 10.0,
        "fig3_n_scenarios": 1, "fig3_paper_forget_share_pct": 1.0,
        "fig3_tasks_text": "full-class plane, cat and truck, and sub-class plane, cat and truck",
        "fig3_fullclass_n_tasks": 3, "fig3_fullclass_n_found": 3, "fig3_fullclass_n_on": 2,
        "fig3_fullclass_ranges": (
            "for plane, α from 2 to 8 (3 grid points, a factor of 4.0); for cat, α from 4 to "
            "16 (3 grid points, a factor of at least 4.0; open above, at the grid's largest "
            "α); for truck, α = 1 only (open below, at the grid's smallest α)"),
        "fig3_fullclass_assd": (
            "on plane, ASSD's α = 3 lies inside the plateau; on cat, ASSD's α = 5 lies inside "
            "the plateau; on truck, ASSD's α = 1.2 misses the plateau: its Dr is 10.0 points "
            "below the baseline's and its MIA of 20.0 % exceeds the criterion's 10.0 % (its "
            "MIA 20.0 %, Df 1.0 %)"),
        "fig3_fullclass_paper_low": 10.0, "fig3_fullclass_paper_high": 80.0,
        "fig3_fullclass_paper_width": 8.0, "fig3_fullclass_paper_assd_Df": 0.0,
        "fig3_fullclass_assd_dfs": "plane 0.0 %, cat 0.0 % and truck 1.0 %",
        "fig3_subclass_n_tasks": 3, "fig3_subclass_n_found": 1, "fig3_subclass_n_on": 1,
        "fig3_subclass_ranges": (
            "for plane, α from 1 to 2 (2 grid points, a factor of at least 2.0; open below, "
            "at the grid's smallest α); for cat, no grid point meets both criteria; for "
            "truck, no grid point meets both criteria"),
        "fig3_subclass_assd": (
            "on plane, ASSD's α = 1.5 lies inside the plateau; on cat, ASSD's α = 6 has no "
            "plateau to land on: its Dr is 5.0 points below the baseline's (its MIA 3.0 %, "
            "Df 0.5 %); on truck, ASSD's α = 3 has no plateau to land on: its Dr is 50.0 "
            "points below the baseline's and its MIA of 50.0 % exceeds the criterion's "
            "10.0 % (its MIA 50.0 %, Df 2.0 %)"),
        "fig3_subclass_paper_low": 5.0, "fig3_subclass_paper_high": 25.0,
        "fig3_subclass_paper_width": 5.0, "fig3_subclass_paper_assd_Df": 2.17,
        "fig3_subclass_assd_dfs": "plane 30.0 %, cat 0.5 % and truck 2.0 %",
        "fig3_verdict_exists": "partly supported",
        "fig3_open_note": (
            "Not every plateau shows both sides: on full-class truck the retain accuracy "
            "stays within the tolerance down to the grid's smallest α, so its plateau is open "
            "below; on sub-class plane the retain accuracy stays within the tolerance down to "
            "the grid's smallest α, so its plateau is open below; on full-class cat the MIA "
            "still meets its criterion at the grid's largest α, 16, so its plateau is open "
            "above."),
        "fig3_missing_note": (
            "Where a task has no plateau, its retain accuracy comes back only where its MIA "
            "has already risen: on sub-class cat, Dr first comes within 3 points of the "
            "baseline's at α = 8, where the MIA is already 40.0 % (the criterion allows "
            "10.0 %); one grid step lower, at α = 4, Dr is 80.0 %, 10.0 points below the "
            "baseline's, while the MIA meets its criterion; on sub-class truck, Dr never "
            "comes within 3 points of the baseline's."),
        "fig3_fullclass_between_classes": (
            "the full-class plateaus differ from class to class, and 2 of their 3 pairs do "
            "not even overlap (truck's lies apart from the others)"),
        "fig3_subclass_between_classes": (
            "with one sub-class plateau, its position cannot be compared between classes"),
        "fig3_between_kinds": (
            "for plane, the only class with a plateau of both kinds, the sub-class plateau "
            "overlaps the full-class one"),
        "fig3_verdict_moves": "supported",
        "fig3_verdict_narrower": (
            "is narrower than the full-class one for every class (a missing plateau counts "
            "as zero width), as in the paper"),
        "fig3_verdict_assd": "partly supported",
        "fig3_assd_alpha_min": 1.2, "fig3_assd_alpha_max": 6.0,
        "fig3_assd_ratio": pytest.approx(5.0),
        "fig3_assd_percentile": 97.0,
        "fig3_forget_share_pct": pytest.approx(math.e ** 3 - 1),
        "fig3_percentile_note": (
            "at the same percentile, 97.00 (every task forgets the same share of the "
            "training images)"),
        "fig3_scenarios_note": (
            "The run has one scenario: each task rests on one trained baseline (one per "
            "label set, shared by the tasks of a kind), so its numbers carry no spread "
            "between seeds."),
        "fig3_base_dr_min": 90.0, "fig3_base_dr_max": 90.0,
        "fig3_df_at_tops": "plane 20 % (at α = 8), cat 6 % (at α = 16) and truck 0 % (at α = 1)",
        "fig3_df_top_max": 20.0, "fig3_df_top_task": "plane", "fig3_df_top_base": 80.0,
        "fig3_df_top_note": (
            "At that point the MIA is 5.0 %, and plane's Df is 25 % of its baseline's, 80 %."),
        "fig3_verdict_mia_df": numbers["fig3_verdict_mia_df"],
        "fig3_recognised": 25.0,
    }
    assert "agree" in str(numbers["fig3_verdict_mia_df"])  # 20 % <= 25 %: forgotten


def two_tasks(full: tuple[list[float], list[float]], sub: tuple[list[float], list[float]],
              **options: Any) -> pd.DataFrame:
    """One full-class and one sub-class task of the same class ``x``."""
    return pd.DataFrame(task("fullclass", "x", *full, **options)
                        + task("subclass", "x", *sub, **options))


CLOSED_4_8 = ([50, 60, 90, 90, 90], [0, 0, 5, 8, 60])  # plateau 4-8
CLOSED_2 = ([50, 90, 90, 90, 90], [0, 5, 30, 40, 50])  # 2 only
CLOSED_2_8 = ([50, 90, 90, 90, 90], [0, 0, 5, 8, 60])  # 2-8
CLOSED_8 = ([50, 60, 70, 90, 90], [0, 0, 0, 5, 60])  # 8 only
OPEN_4_16 = ([50, 60, 90, 90, 90], [0, 0, 0, 5, 8])  # 4-16, open above
NONE = ([10, 20, 30, 40, 50], [0, 0, 0, 0, 0])  # Dr never comes back


@pytest.mark.parametrize(("full", "sub", "between_kinds", "moves", "narrower"), [
    (CLOSED_4_8, CLOSED_2, "lies entirely below", "supported",
     "is narrower than the full-class one for every class, as in the paper"),
    (CLOSED_2, CLOSED_8, "lies entirely above", "supported",
     "is nowhere narrower than the full-class one, unlike in the paper"),
    (CLOSED_4_8, CLOSED_4_8, "coincides with", "not supported",
     "is nowhere narrower than the full-class one, unlike in the paper"),
    (CLOSED_2_8, OPEN_4_16, "overlaps", "supported, though the plateaus overlap",
     "is nowhere narrower than the full-class one, unlike in the paper"),
])
def test_where_the_sub_class_plateau_lies(full: Any, sub: Any, between_kinds: str, moves: str,
                                          narrower: str) -> None:
    numbers = numbers_of(two_tasks(full, sub))
    assert numbers["fig3_between_kinds"] == (
        f"for x, the only class with a plateau of both kinds, the sub-class plateau "
        f"{between_kinds} the full-class one")
    assert numbers["fig3_verdict_moves"] == moves
    assert numbers["fig3_verdict_narrower"] == narrower
    assert numbers["fig3_verdict_exists"] == "supported"
    assert numbers["fig3_missing_note"] == "Every task has a plateau."
    assert numbers["fig3_fullclass_between_classes"] == (
        "with one full-class plateau, its position cannot be compared between classes")


def test_closed_plateaus_and_one_point_wording() -> None:
    numbers = numbers_of(two_tasks(CLOSED_4_8, CLOSED_2))
    assert numbers["fig3_open_note"] == "Every plateau found is closed on both sides."
    assert numbers["fig3_subclass_ranges"] == "for x, α = 2 only"
    assert numbers["fig3_fullclass_ranges"] == (
        "for x, α from 4 to 8 (2 grid points, a factor of 2.0)")


def test_no_plateau_anywhere() -> None:
    numbers = numbers_of(two_tasks(NONE, NONE, assd=(4.0, 40.0, 50.0, 2.0)))
    assert numbers["fig3_verdict_exists"] == "not supported"
    assert numbers["fig3_verdict_assd"] == "not supported"
    assert numbers["fig3_verdict_moves"] == "undecided, with fewer than two plateaus"
    assert numbers["fig3_between_kinds"] == (
        "no class has a plateau of both kinds, so the shift between kinds cannot be measured")
    assert numbers["fig3_fullclass_between_classes"] == (
        "with no full-class plateau, its position cannot be compared between classes")
    assert numbers["fig3_verdict_narrower"] == (
        "is nowhere narrower than the full-class one, unlike in the paper")
    assert numbers["fig3_df_at_tops"] == "not measured: no full-class task has a plateau"
    assert numbers["fig3_verdict_mia_df"] == "so this cannot be judged here"
    assert numbers["fig3_df_top_task"] == "none" and math.isnan(numbers["fig3_df_top_max"])
    assert numbers["fig3_df_top_note"] == "There is no such point."


def test_assd_between_grid_points_and_missing_on_the_mia() -> None:
    # full: plateau 2 only, ASSD at 3 meets the criteria itself; sub: plateau 4-8, ASSD at
    # 16 keeps Dr but its MIA exceeds the criterion
    rows = pd.DataFrame(
        task("fullclass", "x", *CLOSED_2, assd=(3.0, 89.0, 5.0, 0.0))
        + task("subclass", "x", *CLOSED_4_8, assd=(16.0, 90.0, 60.0, 40.0)))
    numbers = numbers_of(rows)
    assert numbers["fig3_fullclass_assd"] == (
        "on x, ASSD's α = 3 lies between grid points, its own Dr and MIA meeting the criteria")
    assert numbers["fig3_subclass_assd"] == (
        "on x, ASSD's α = 16 misses the plateau: its MIA of 60.0 % exceeds the criterion's "
        "10.0 % (its MIA 60.0 %, Df 40.0 %)")
    assert (numbers["fig3_fullclass_n_on"], numbers["fig3_subclass_n_on"]) == (1, 0)
    assert numbers["fig3_verdict_assd"] == "partly supported"


def test_several_classes_per_kind() -> None:
    rows = pd.DataFrame(
        task("fullclass", "a", [90, 90, 50, 50, 50], [0, 5, 60, 60, 60])  # 1-2
        + task("fullclass", "b", [50, 50, 90, 50, 50], [0, 0, 5, 60, 60])  # 4
        + task("fullclass", "c", [50, 50, 50, 90, 90], [0, 0, 0, 5, 60])  # 8
        + task("subclass", "a", [90, 50, 50, 50, 50], [0, 60, 60, 60, 60])  # 1
        + task("subclass", "b", [50, 50, 90, 90, 50], [0, 0, 5, 5, 60])  # 4-8
        + task("subclass", "c", [50, 50, 90, 90, 50], [0, 0, 5, 5, 60]))  # 4-8
    numbers = numbers_of(rows)
    assert numbers["fig3_fullclass_between_classes"] == (
        "the full-class plateaus differ from class to class, and 3 of their 3 pairs do not "
        "even overlap (a's, b's and c's lie apart from the others)")
    assert numbers["fig3_subclass_between_classes"] == (
        "the sub-class plateaus differ from class to class, and 2 of their 3 pairs do not "
        "even overlap (a's lies apart from the others)")
    assert numbers["fig3_between_kinds"] == (
        "for a the sub-class plateau overlaps the full-class one; for b the sub-class "
        "plateau overlaps the full-class one; for c the sub-class plateau overlaps the "
        "full-class one")
    assert numbers["fig3_verdict_narrower"] == (
        "is narrower than the full-class one for 1 of 3 classes")
    coinciding = pd.DataFrame(
        task("fullclass", "a", *CLOSED_4_8) + task("fullclass", "b", *CLOSED_4_8)
        + task("fullclass", "c", *OPEN_4_16) + task("subclass", "a", *CLOSED_4_8)
        + task("subclass", "b", *CLOSED_4_8) + task("subclass", "c", *NONE))
    numbers = numbers_of(coinciding)
    assert numbers["fig3_subclass_between_classes"] == (
        "the sub-class plateaus of all classes coincide")
    assert numbers["fig3_fullclass_between_classes"] == (
        "the full-class plateaus differ from class to class, but all of them overlap")
    assert numbers["fig3_verdict_narrower"] == (
        "is narrower than the full-class one for 1 of 3 classes (a missing plateau counts "
        "as zero width)")


def test_scenarios_and_percentiles() -> None:
    rows = pd.DataFrame(task("fullclass", "x", *CLOSED_4_8, percentile=97.5, scenarios=(0, 1))
                        + task("subclass", "x", *CLOSED_2, percentile=96.0, scenarios=(0, 1)))
    numbers = numbers_of(rows)
    assert numbers["fig3_n_scenarios"] == 2
    assert numbers["fig3_scenarios_note"] == (
        "The run has 2 scenarios; the numbers are their means.")
    assert numbers["fig3_percentile_note"] == "at percentiles from 96.00 to 97.50"
    assert numbers["fig3_assd_percentile"] == 96.75
    assert numbers["fig3_forget_share_pct"] == pytest.approx(math.expm1(100 - 96.75))


def test_a_class_still_recognised_at_the_plateau_top() -> None:
    full = ([50, 90, 90, 90, 90], [0, 0, 5, 8, 60])  # 2-8
    rows = two_tasks(full, CLOSED_2, df=[0, 10, 20, 40, 80])
    numbers = numbers_of(rows)
    assert numbers["fig3_df_top_max"] == 40.0
    assert "still recognised" in str(numbers["fig3_verdict_mia_df"])
    assert numbers["fig3_df_top_note"] == (
        "At that point the MIA is 8.0 %, and x's Df is 50 % of its baseline's, 80 %.")


def test_numbers_refuse_what_the_text_cannot_say() -> None:
    rows = six_tasks()
    facts = plateau_facts(rows, ALPHAS, **CRITERIA)
    comparison = plateau_comparison(rows)
    only_full = rows[rows["kind"] == "fullclass"]
    with pytest.raises(ValueError, match=r"facts hold the task kinds \['fullclass'\]: the "
                                         r"chapter's text needs full-class and sub-class"):
        plateau_numbers(only_full, plateau_facts(only_full, ALPHAS, **CRITERIA), ALPHAS,
                        plateau_comparison(only_full))
    with pytest.raises(ValueError, match=r"facts lack\(s\) the column\(s\) \['why_missing'\]"):
        plateau_numbers(rows, facts.drop(columns="why_missing"), ALPHAS, comparison)
    no_percentile = rows[rows["metric"] != "percentile"]
    with pytest.raises(ValueError, match=r"no ASSD percentile of the task\(s\) \["):
        plateau_numbers(no_percentile, facts, ALPHAS, comparison)
    with pytest.raises(ValueError, match=r"rows lack\(s\) the column\(s\) \['scenario'\]"):
        plateau_numbers(rows.drop(columns="scenario"), facts, ALPHAS, comparison)
    with pytest.raises(ValueError, match=r"comparison lacks the paper's ASSD Df of subclass"):
        plateau_numbers(rows, facts, ALPHAS, comparison.drop(index="sub-class"))
    with pytest.raises(ValueError, match=r"paper_plateaus lacks the kind 'subclass'"):
        plateau_numbers(rows, facts, ALPHAS, comparison,
                        paper_plateaus={"fullclass": {"paper_low": 1.0, "paper_high": 2.0}})


# -- the stored run ---------------------------------------------------------------------------


def test_the_stored_book_run() -> None:
    """The book's CIFAR-10 run reads as the chapter says (skipped without the stored rows)."""
    from assd_repro.experiments import stored_runs

    name = "cifar10-plateau-resnet18"
    try:
        rows = stored_runs.load_run(name, REPO / "results", compute_missing=False,
                                    progress=False)
    except (RuntimeError, FileNotFoundError, ValueError) as error:
        pytest.skip(f"the stored run {name} is not here: {error}")
    alphas = stored_runs.find_run(name).config_for("book", REPO / "results").alphas()
    facts = plateau_facts(rows, alphas, **CRITERIA)
    numbers = plateau_numbers(rows, facts, alphas, plateau_comparison(rows))
    assert (numbers["fig3_fullclass_n_found"], numbers["fig3_subclass_n_found"]) == (3, 1)
    assert numbers["fig3_verdict_moves"] == "supported"
    assert numbers["fig3_between_kinds"] == (
        "for airplane, the only class with a plateau of both kinds, the sub-class plateau "
        "lies entirely below the full-class one")
    sensitivity = plateau_sensitivity(rows, [(2.0, 2.0), (3.0, 10.0)])
    assert sensitivity_numbers(sensitivity, strict=(2.0, 2.0))["fig3_verdict_strict"] == (
        "misses them on 3 of 6 tasks")
