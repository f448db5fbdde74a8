"""Plot and table helpers refuse frames they cannot draw, naming what is wrong, before drawing."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from assd_repro.plots.benchmark import plot_methods  # noqa: E402
from assd_repro.plots.lambda_plateau import (  # noqa: E402
    plateau_display,
    plateau_table,
    plot_param_importances,
    plot_plateau,
    sensitivity_display,
)
from assd_repro.plots.supply_chain import (  # noqa: E402
    detection_table,
    init_table,
    init_welch_table,
    p_value_table,
    paired_table,
    plot_gain_by_size,
    plot_paired_differences,
    plot_strategy_gains,
    strategy_gain_table,
    table4,
    table4_accuracies,
    verdict_table,
)

SUMMARY_COLUMNS = ["dataset", "kind", "model", "target", "method", "metric", "mean", "std", "n"]
PLATEAU_COLUMNS = ["task", "kind", "method", "alpha", "metric", "value"]


def _summary() -> pd.DataFrame:
    return pd.DataFrame([["mnist_sample", "fullclass", "resnet18", "3", "assd", metric, 50.0,
                          1.0, 3] for metric in ("Dr", "Df", "MIA")], columns=SUMMARY_COLUMNS)


def test_plot_methods_refuses_a_summary_without_the_metrics_shown() -> None:
    with pytest.raises(ValueError, match=r"summary has no row of the metrics \['Dr', 'Df', "
                                         r"'MIA'\]; it has \[\]"):
        plot_methods(pd.DataFrame(columns=SUMMARY_COLUMNS))
    with pytest.raises(ValueError, match=r"no row of the metrics \['seconds'\]; it has \['Df', "
                                         r"'Dr', 'MIA'\]"):
        plot_methods(_summary(), metrics=("seconds",))


def test_plot_methods_refuses_targets_that_are_not_in_the_summary() -> None:
    with pytest.raises(ValueError, match=r"targets \['7'\] are not in the summary; its targets: "
                                         r"\['3'\]"):
        plot_methods(_summary(), targets=["3", "7"])


def test_plot_param_importances_refuses_an_empty_frame() -> None:
    with pytest.raises(ValueError, match="importances has no row"):
        plot_param_importances(pd.DataFrame(columns=["target", "param", "importance"]))


def test_plot_plateau_refuses_empty_rows() -> None:
    bounds = pd.DataFrame(columns=["task", "alpha_low", "alpha_high"])
    with pytest.raises(ValueError, match=r"rows has no row: run the plateau first"):
        plot_plateau(pd.DataFrame(columns=PLATEAU_COLUMNS), bounds)


def test_plot_plateau_refuses_a_task_without_ssd_rows() -> None:
    rows = pd.DataFrame([["t/fullclass/3", "fullclass", "baseline", float("nan"), "Dr", 99.0]],
                        columns=PLATEAU_COLUMNS)
    bounds = pd.DataFrame(columns=["task", "alpha_low", "alpha_high"])
    with pytest.raises(ValueError, match=r"rows hold no SSD row \(method 'ssd'\) of the task\(s\) "
                                         r"\['t/fullclass/3'\]"):
        plot_plateau(rows, bounds)


def _plateau_rows(tasks: list[tuple[str, str]]) -> pd.DataFrame:
    """Tidy plateau rows of ``(task, kind)`` pairs: a baseline, SSD at two alphas, ASSD."""
    rows = []
    for task, kind in tasks:
        rows += [[task, kind, "baseline", float("nan"), "Dr", 90.0]]
        rows += [[task, kind, "ssd", alpha, metric, value] for alpha in (1.0, 10.0)
                 for metric, value in (("Dr", 89.0), ("MIA", 5.0), ("Df", 1.0))]
        rows += [[task, kind, "assd", 3.0, metric, 50.0] for metric in ("Dr", "MIA", "Df")]
    return pd.DataFrame(rows, columns=PLATEAU_COLUMNS)


def test_plot_plateau_lays_six_tasks_out_in_rows_with_their_titles() -> None:
    import matplotlib.pyplot as plt

    tasks = [(f"d/{kind}/{t}", kind) for kind in ("fullclass", "subclass")
             for t in ("a", "b", "c")]
    bounds = pd.DataFrame({"task": [t for t, _ in tasks], "alpha_low": 1.0,
                           "alpha_high": 10.0})
    fig = plot_plateau(_plateau_rows(tasks), bounds, ncols=3,
                       titles={"d/subclass/c": "c, sub-class"})
    try:
        panels = [ax for ax in fig.axes if ax.get_visible()]
        assert len(panels) == 6
        rows = sorted({round(ax.get_position().y0, 3) for ax in panels})
        assert len(rows) == 2  # two rows of three
        assert panels[5].get_title() == "c, sub-class\nASSD α = 3"
        assert panels[0].get_title().startswith("d: a, full-class")
        assert [bool(ax.get_xlabel()) for ax in panels] == [False] * 3 + [True] * 3
        assert [bool(ax.get_ylabel()) for ax in panels] == [True, False, False] * 2
        assert fig.get_size_inches()[1] == pytest.approx(3.4 + 2.9)
    finally:
        plt.close(fig)
    five = plot_plateau(_plateau_rows(tasks[:5]), bounds, ncols=3)  # last row: 2 of 3
    try:
        assert sum(ax.get_visible() for ax in five.axes[:6]) == 5
    finally:
        plt.close(five)
    one_row = plot_plateau(_plateau_rows(tasks[:2]), bounds)  # default: one row
    try:
        assert one_row.get_size_inches()[1] == pytest.approx(3.4)
        assert all(ax.get_xlabel() for ax in one_row.axes[:2])
    finally:
        plt.close(one_row)


@pytest.mark.parametrize("ncols", [0, -1, 2.5, True])
def test_plot_plateau_refuses_a_bad_ncols(ncols: object) -> None:
    tasks = [("d/fullclass/a", "fullclass")]
    bounds = pd.DataFrame({"task": ["d/fullclass/a"], "alpha_low": 1.0, "alpha_high": 10.0})
    with pytest.raises(ValueError, match=r"ncols=.* must be a whole number >= 1"):
        plot_plateau(_plateau_rows(tasks), bounds, ncols=ncols)  # type: ignore[arg-type]


def test_plateau_table_of_no_task_is_an_empty_table() -> None:
    bounds = pd.DataFrame(columns=["task", "kind", "alpha_low", "alpha_high", "assd_alpha",
                                   "assd_in_bounds", "assd_meets_criteria"])
    table = plateau_table(bounds)
    assert table.empty and {"paper_task", "paper_low", "paper_width"} <= set(table.columns)


def _bounds() -> pd.DataFrame:
    return pd.DataFrame({"task": ["d/fullclass/3", "d/subclass/3"],
                         "kind": ["fullclass", "subclass"], "alpha_low": [10.0, float("nan")],
                         "alpha_high": [40.0, float("nan")], "assd_alpha": [19.1, 0.5],
                         "assd_in_bounds": [True, False], "assd_meets_criteria": [True, False],
                         "n_points": [3, 0]})


def test_plateau_display_turns_the_table_for_the_page() -> None:
    shown = plateau_display(plateau_table(_bounds()))
    assert list(shown.columns) == ["d/fullclass/3", "d/subclass/3"]
    assert shown.loc[("this run", "width"), "d/fullclass/3"] == 4.0
    assert shown.loc[("ASSD", "in bounds"), "d/fullclass/3"] == "yes"
    assert shown.loc[("ASSD", "meets criteria"), "d/subclass/3"] == "no"
    assert shown.loc[("paper", "task"), "d/subclass/3"] == "CIFAR-20 rocket (sub-class)"
    with pytest.raises(ValueError, match=r"table lacks the column\(s\) \['paper_width'\]"):
        plateau_display(plateau_table(_bounds()).drop(columns="paper_width"))


def test_sensitivity_display_labels_the_tolerances() -> None:
    sensitivity = pd.concat([_bounds().assign(tolerance=t, mia_tolerance=m)
                             for t, m in ((2.0, 2.0), (3.0, 10.0))], ignore_index=True)
    shown = sensitivity_display(sensitivity)
    assert list(shown.index) == [("2 / 2", "d/fullclass/3"), ("2 / 2", "d/subclass/3"),
                                 ("3 / 10", "d/fullclass/3"), ("3 / 10", "d/subclass/3")]
    assert list(shown.columns) == ["α low", "α high", "points", "ASSD α", "in bounds",
                                   "meets criteria"]
    assert shown.loc[("3 / 10", "d/fullclass/3"), "in bounds"] == "yes"
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['mia_tolerance'\]"):
        sensitivity_display(sensitivity.drop(columns="mia_tolerance"))


def test_table4_refuses_statistics_without_rows() -> None:
    stats = pd.DataFrame(columns=["model_size", "error_pct", "split", "baseline_mean",
                                  "assd_mean", "p_ttest_ind", "p_ttest_rel"])
    with pytest.raises(ValueError, match=r"stats has no row: pass cell_statistics\(rows\)"):
        table4(stats, split=None)


def test_plot_strategy_gains_refuses_strategies_without_rows() -> None:
    rows = pd.DataFrame([[5.0, 0, "assd_oracle", "gain", 1.0]],
                        columns=["error_pct", "replicate", "method", "metric", "value"])
    with pytest.raises(ValueError, match=r"strategies \['assd_detected'\] have no row; the rows "
                                         r"hold the methods \['assd_oracle'\]"):
        plot_strategy_gains(rows, strategies=["assd_oracle", "assd_detected"])


# -- the error-unlearning chapter's report tables and figures ---------------------------------

def _report_rows(pcts=(1.0, 3.0)) -> pd.DataFrame:
    """Two sizes, two error rates (3 % is not in the paper), 4 replicates, known differences."""
    rows = []
    for size, gain in (("5x250", 1.0), ("2x50", 0.25)):
        for pct in pcts:
            for r in range(4):
                base = 80.0 + r
                values = {"baseline": base, "retrain": base + 0.5, "finetune": base,
                          "assd": base + gain + 0.125 * (-1) ** r}
                for split in ("test", "train"):
                    for method, value in values.items():
                        rows.append({"model_size": size, "error_pct": pct, "replicate": r,
                                     "method": method, "split": split, "value": value,
                                     "n_eval": 400})
    return pd.DataFrame(rows)


NBSP = "\u00a0"  # the report tables join a value's parts with non-breaking spaces


def test_table4_accuracies_put_the_paper_below_ours() -> None:
    from assd_repro.experiments.error_stats import cell_statistics

    table = table4_accuracies(cell_statistics(_report_rows()))
    assert list(table.index) == [(size, pct, source) for size in ("5x250", "2x50")
                                 for pct in ("1%", "3%") for source in ("ours", "paper")]
    assert list(table.columns) == ["scenarios", "Baseline", "Retrain", "Fine-tune", "ASSD"]
    assert table.loc[("5x250", "1%", "ours"), "Baseline"] == f"81.50{NBSP}±{NBSP}1.29"
    assert table.loc[("5x250", "1%", "paper"), "ASSD"] == f"86.61{NBSP}±{NBSP}0.24"
    assert table.loc[("5x250", "3%", "paper"), "ASSD"] == "–"       # not a cell of the paper
    assert table.loc[("2x50", "1%", "ours"), "scenarios"] == 4
    assert table.loc[("2x50", "1%", "paper"), "scenarios"] == ""
    with pytest.raises(ValueError, match=r"split='train' has no rows"):
        table4_accuracies(cell_statistics(_report_rows()).query("split == 'test'"), split="train")


def test_paired_table_formats_intervals_and_p_values() -> None:
    from assd_repro.experiments.error_stats import paired_comparisons

    paired = paired_comparisons(_report_rows())
    table = paired_table(paired)
    assert table.index.names == ["model size", "error", "comparison"]
    row = table.loc[("5x250", "1%", "ASSD − baseline")]
    assert row[("difference (points)", "ours [95 % CI]")].startswith(f"+1.00{NBSP}[+0.")
    assert row[("difference (points)", "paper")] == "+0.61"
    fine = table.loc[("5x250", "1%", "Fine-tune − baseline")]
    assert fine[("difference (points)", "ours [95 % CI]")] == NBSP.join(
        ["+0.00", "[+0.00,", "+0.00]"])
    assert fine[("MDE (points)", "80 % power")] == "–"                # no spread, no test
    assert table.loc[("5x250", "3%", "ASSD − baseline"), ("difference (points)", "paper")] == "–"
    with pytest.raises(ValueError, match="paired has no row"):
        paired_table(paired.iloc[0:0])
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['mde'\]"):
        paired_table(paired.drop(columns="mde"))

    p_values = p_value_table(paired)
    assert p_values.index.equals(table.index)
    assert list(p_values.columns) == [("paired t-test", "raw"), ("paired t-test", "Holm"),
                                      ("unpaired (authors')", "raw"),
                                      ("unpaired (authors')", "Holm"),
                                      ("unpaired (authors')", "paper")]
    assert p_values.loc[("5x250", "1%", "ASSD − baseline"),
                        ("unpaired (authors')", "paper")] == "<0.05"
    assert p_values.loc[("5x250", "1%", "Fine-tune − baseline"),
                        ("unpaired (authors')", "paper")] == "–"   # the paper's p is ASSD's
    with pytest.raises(ValueError, match="paired has no row"):
        p_value_table(paired.iloc[0:0])


def test_verdict_table_lists_every_test_and_copes_with_none() -> None:
    from assd_repro.experiments.error_headlines import source_report

    verdicts = {"hand (synthetic)": source_report(_report_rows()).verdicts}
    table = verdict_table(verdicts)
    assert table.index.names == ["data", "claim", "claimed", "cell"]
    assert set(table.index.get_level_values("claim")) == {"C4", "C6"}
    row = table.loc[("hand (synthetic)", "C6", f"ASSD gain, larger − smaller (Welch) >{NBSP}0",
                     "5x250 − 2x50, 1%")]
    assert row["verdict"] == "supported" and row["n"] == 8
    assert row["ours [95 % CI]"].count(" ") == 0                    # one unbreakable value
    empty = verdict_table({"none": verdicts["hand (synthetic)"].iloc[0:0]})
    assert empty.empty and list(empty.columns) == ["n", "ours [95 % CI]", "paper", "verdict"]


def test_plot_paired_differences_draws_every_source_and_size() -> None:
    from assd_repro.experiments.error_stats import paired_comparisons

    paired = paired_comparisons(_report_rows())
    small = paired[paired["model_size"] == "2x50"]
    fig = plot_paired_differences({"a": small, "b (synthetic)": paired})
    assert len(fig.axes) == 4
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["5x250 (large)",
                                                                  "2x50 (small)"]
    assert "synthetic" in fig.axes[1].get_title()
    with pytest.raises(ValueError, match=r"methods \['retrain'\] have no row"):
        plot_paired_differences({"a": paired[paired["method"] == "assd"]},
                                methods=("assd", "retrain"))
    with pytest.raises(ValueError, match="paired is empty"):
        plot_paired_differences({})


def test_plot_gain_by_size_marks_a_source_without_the_error_rate() -> None:
    from assd_repro.experiments.error_stats import scenario_gains

    fig = plot_gain_by_size({"a": scenario_gains(_report_rows()),
                             "b": scenario_gains(_report_rows(pcts=(3.0,)))})
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[1].texts] == ["no 1% cell"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["5x250", "2x50"]
    with pytest.raises(ValueError, match="gains is empty"):
        plot_gain_by_size({})
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['finetune_gain'\]"):
        plot_gain_by_size({"a": scenario_gains(_report_rows()).drop(columns="finetune_gain")})


def test_detection_and_gain_tables_share_their_index() -> None:
    rows = pd.DataFrame([{"error_pct": pct, "replicate": r, "method": method,
                          "metric": metric, "value": value}
                         for pct in (5.0, 1.0) for r in range(2)
                         for method, metric, value in (
                             ("detection", "n_errors", 80.0), ("detection", "n_flagged", 266.0),
                             ("detection", "precision", 0.2 + 0.01 * r),
                             ("detection", "recall", 0.7),
                             ("baseline", "test_accuracy", 81.5 + r),
                             ("assd_detected", "gain", 0.25 * r))])
    detection, gains = detection_table(rows), strategy_gain_table(rows)
    assert list(detection.index) == list(gains.index) == ["1%", "5%"]
    assert detection.columns.get_level_values(0).unique().tolist() == ["detection"]
    assert detection.loc["5%", ("detection", "precision (%)")] == f"20.5{NBSP}±{NBSP}0.7"
    assert list(gains.columns) == [("test accuracy (%)", "baseline"),
                                   ("gain over baseline (points)", "ASSD, flagged rows")]
    assert gains.loc["1%", ("test accuracy (%)", "baseline")] == f"82.00{NBSP}±{NBSP}0.71"


def test_init_tables_pair_each_cell_and_compare_the_gains() -> None:
    from assd_repro.experiments.error_headlines import init_comparison

    shared = _report_rows()
    own = _report_rows().assign(value=lambda f: f["value"] + 0.25 * (f["method"] == "assd")
                                * (f["replicate"] % 2))
    init = init_comparison(shared, own)
    table = init_table(init)
    assert table.index.names == ["model size", "error", "init"]
    assert list(table.index)[:2] == [("5x250", "1%", "shared"), ("5x250", "1%", "own")]
    row = table.loc[("5x250", "1%", "shared")]
    assert row[("baseline (%)", "mean ± sd")] == f"81.50{NBSP}±{NBSP}1.29"
    assert row[("ASSD − baseline (points)", "ours [95 % CI]")].startswith(f"+1.00{NBSP}[")
    welch = init_welch_table(init)
    assert list(welch.index) == [(s, p) for s in ("5x250", "2x50") for p in ("1%", "3%")]
    assert welch.columns.get_level_values(1).tolist() == ["difference [95 % CI]", "p"]
    assert welch.loc[("5x250", "1%"), ("gain, shared − own (points)",
                                       "difference [95 % CI]")].startswith(f"-0.12{NBSP}[")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['welch_p'\]"):
        init_welch_table(init.drop(columns="welch_p"))


def test_data_overview_display_turns_the_table_and_lets_file_names_break() -> None:
    from assd_repro.plots.supply_chain import data_overview_display

    overview = pd.DataFrame({"data": ["DataCoSupplyChainDataset.sample6000.csv.gz", "synthetic"],
                             "batch": [34, 1024]}, index=["real", "synth"])
    styled = data_overview_display(overview)
    assert list(styled.data.columns) == ["real", "synth"]
    assert list(styled.data.index) == ["data", "batch"]
    html = styled.to_html()
    assert html.count("overflow-wrap: anywhere") >= 1 and "1024" in html
    with pytest.raises(ValueError, match="data_overview"):
        data_overview_display(overview.drop(columns="data"))


def test_training_check_table_labels_the_columns_and_marks_what_does_not_apply() -> None:
    from assd_repro.plots.supply_chain import training_check_table

    nan = float("nan")
    check = pd.DataFrame(
        {"train_mean": [91.234, 85.0, nan], "train_std": [0.5, nan, nan],
         "test_mean": [84.0, 84.6, 55.0], "test_std": [0.25, nan, nan],
         "error_pct": [0.25, 0.0, 0.0]},
        index=pd.Index(["2x50", "logistic regression", "majority class"], name="model"))
    table = training_check_table({"real sample": check})
    assert list(table.columns) == ["train accuracy (%)", "test accuracy (%)", "wrong labels (%)"]
    assert list(table.index) == [("real sample", "2x50 (small)"),
                                 ("real sample", "logistic regression"),
                                 ("real sample", "majority class")]
    assert table.iloc[0].tolist() == ["91.23\u00a0±\u00a00.50", "84.00\u00a0±\u00a00.25", "0.25"]
    assert table.iloc[1].tolist() == ["85.00", "84.60", "0"]
    assert table.iloc[2].tolist() == ["–", "55.00", "–"]
    assert not table.isna().any().any()
    with pytest.raises(ValueError, match="training_check"):
        training_check_table({"x": check.drop(columns="test_std")})
