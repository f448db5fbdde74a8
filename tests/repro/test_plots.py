"""Plot and table helpers refuse frames they cannot draw, naming what is wrong, before drawing."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from assd_repro.plots.benchmark import plot_methods  # noqa: E402
from assd_repro.plots.lambda_plateau import (  # noqa: E402
    plateau_table,
    plot_param_importances,
    plot_plateau,
)
from assd_repro.plots.supply_chain import plot_strategy_gains, table4  # noqa: E402

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


def test_plateau_table_of_no_task_is_an_empty_table() -> None:
    bounds = pd.DataFrame(columns=["task", "kind", "alpha_low", "alpha_high", "assd_alpha",
                                   "assd_in_bounds", "assd_meets_criteria"])
    table = plateau_table(bounds)
    assert table.empty and {"paper_task", "paper_low", "paper_width"} <= set(table.columns)


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
