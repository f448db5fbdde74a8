"""Chapter 8's numbers, tables and figures on method-comparison rows made by hand."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from assd_repro.experiments import method_headlines as mh
from assd_repro.experiments.method_comparison import confusion_summary
from assd_repro.experiments.method_tuning import PARAM_COLUMNS
from assd_repro.plots import methods as mp

matplotlib.use("Agg")

SIZES = ("3x100", "2x50")


def _rows(methods: dict[str, list[float]], *, guard_refused: tuple[int, ...] = ()
          ) -> pd.DataFrame:
    """Tidy comparison rows: 3 replicates of two sizes at 5 %, accuracies per method, one
    (true, wrong) pair with shares that depend on the method."""
    out = []
    for size in SIZES:
        for r in range(3):
            for m, accs in methods.items():
                labels = {"model_size": size, "error_pct": 5.0, "replicate": r, "method": m,
                          "scenario": r, "wall_s": 10.0}
                plain = [("test_accuracy", accs[r]), ("failed", 0.0), ("method_s", 2.0)]
                if m == "assd_guarded":
                    plain.append(("refused", float(r in guard_refused)))
                out += [{**labels, "metric": k, "true": math.nan, "wrong": math.nan,
                         "value": v} for k, v in plain]
                for true, wrong, n, share in ((0, 1, 4.0, 50.0), (1, 0, 12.0, 10.0)):
                    moved = 0.0 if m == "baseline" else 10.0  # other -> true
                    shares = {"forget_true": share + moved, "forget_wrong": 90.0 - share,
                              "forget_other": 10.0 - moved,
                              "test_true": 70.0 + true, "test_wrong": 20.0, "test_other": 10.0,
                              "pair_rows_forget": n, "pair_rows_test": 30.0}
                    out += [{**labels, "metric": k, "true": float(true), "wrong": float(wrong),
                             "value": v} for k, v in shares.items()]
    return pd.DataFrame(out)


DEFAULTS = _rows({"baseline": [80.0, 81.0, 82.0], "assd": [80.5, 81.4, 82.6],
                  "assd_guarded": [80.0, 81.4, 82.6], "random_label": [78.0, 78.5, 80.0]},
                 guard_refused=(0,))
TUNED = _rows({"baseline": [80.0, 81.0, 82.0], "random_label": [80.1, 81.2, 82.0]})


def _tuning() -> pd.DataFrame:
    row = {"method": "random_label", "model_size": "3x100", "error_pct": 5.0, "n_trials": 3,
           "n_tuning_scenarios": 1, "value": 85.0, "method_s": 30.0, "baselines_s": 6.0,
           "scenario": 0, "wall_s": 36.0, **{c: math.nan for c in PARAM_COLUMNS}}
    return pd.DataFrame([{**row, "p_lr": 0.01, "p_epochs": 4.0},
                         {**row, "model_size": "2x50", "p_lr": 0.02, "p_epochs": 2.0,
                          "scenario": 1}])


@pytest.fixture(scope="module")
def gains() -> pd.DataFrame:
    return mh.labelled_gains(DEFAULTS, TUNED, _tuning(), SIZES)


def test_labelled_gains_hold_both_variants_in_order(gains: pd.DataFrame) -> None:
    assert gains["method"].tolist() == ["assd", "assd_guarded", "random_label",
                                        "random_label (tuned)"] * 2
    assert gains["model_size"].tolist() == ["3x100"] * 4 + ["2x50"] * 4
    tuned = gains[gains["method"] == "random_label (tuned)"]
    assert tuned["tuning_s"].tolist() == [30.0, 30.0]
    assert gains.loc[gains["method"] == "assd", "tuning_s"].isna().all()
    assd = gains[gains["method"] == "assd"].iloc[0]
    d = np.array([0.5, 0.4, 0.6])
    assert assd["gain_mean"] == pytest.approx(d.mean()) and assd["verdict"] == "supported"
    assert gains.loc[gains["method"] == "random_label", "verdict"].eq("contradicted").all()
    with pytest.raises(ValueError, match=r"\['2x50'\], not in sizes"):
        mh.labelled_gains(DEFAULTS, TUNED, _tuning(), ("3x100",))


def test_gain_headlines(gains: pd.DataFrame) -> None:
    found = mh.gain_headlines(gains, "s", {"assd": "ASSD"})
    assert found["s_n_cells"] == 8
    assert found["s_supported"] + found["s_contradicted"] + found["s_undecided"] == 8
    assert found["s_best_method"] == "ASSD" and found["s_best_gain"] == pytest.approx(0.5)
    assert found["s_worst_method"] == "random_label"
    assert found["s_worst_gain"] == found["s_confusion_low"] == pytest.approx(-2.1666, abs=1e-3)
    assert found["s_confusion_high"] == pytest.approx(0.1)


def test_tuning_table_and_headlines() -> None:
    table = mh.tuning_table(_tuning(), {"random_label": "Random labels"})
    assert table.index.tolist() == [("Random labels", "3x100", "5 %"),
                                    ("Random labels", "2x50", "5 %")]
    assert table["parameters"].tolist() == ["epochs=4, lr=0.01", "epochs=2, lr=0.02"]
    found = mh.tuning_headlines(_tuning(), "x")
    assert found == {"x_tuning_hours": pytest.approx((60.0 + 12.0) / 3600),
                     "x_tuning_studies": 2}
    assert mh.run_hours(DEFAULTS) == pytest.approx(30.0 / 3600)


def test_tuning_table_writes_a_weight_just_below_1_as_its_distance_from_1() -> None:
    tuning = _tuning().iloc[:1].assign(method="neggrad_plus", p_beta=0.99996, p_lr=0.000104)
    parameters = mh.tuning_table(tuning)["parameters"].iloc[0]
    assert parameters == "beta=1 - 4e-05, epochs=4, lr=0.000104"  # not "beta=1"


def test_pooled_shares_weight_the_pairs_by_their_rows() -> None:
    summary = confusion_summary(DEFAULTS)
    pooled = mh.pooled_shares(summary, "3x100", 5.0)
    assert pooled.loc["baseline", "forget_true"] == pytest.approx((4 * 50 + 12 * 10) / 16)
    assert pooled.loc["assd", "forget_true"] == pytest.approx((4 * 60 + 12 * 20) / 16)
    assert np.allclose(pooled.sum(axis=1), 100)
    with pytest.raises(ValueError, match="no cell"):
        mh.pooled_shares(summary, "5x250", 5.0)


def test_guard_headlines(gains: pd.DataFrame) -> None:
    found = mh.guard_headlines(DEFAULTS, gains)
    assert (found["guard_refused"], found["guard_total"]) == (2, 6)
    assert found["guard_refused_pct"] == pytest.approx(100 / 3)


def test_tables_and_figures(gains: pd.DataFrame) -> None:
    table = mp.gains_table(gains)
    assert table.index.tolist() == ["ASSD", "ASSD + guard", "Random labels",
                                    "Random labels (tuned)"]
    assert table.columns.tolist() == [("5 %", "3x100"), ("5 %", "2x50")]
    assert table.loc["ASSD", ("5 %", "3x100")] == "+0.50 [+0.25, +0.75] ▲"
    assert table.loc["Random labels", ("5 %", "3x100")].endswith("▼")
    summary = confusion_summary(DEFAULTS)
    shares = mp.confusion_table(summary, "3x100", 5.0)
    assert shares.loc["Baseline", "early labelled on time"] == "50 / 40 / 10"
    assert shares.loc["ASSD", "on time labelled early"] == "20 / 80 / 0"
    recall = mp.test_class_table(summary, "3x100", 5.0)
    assert recall.loc["ASSD"].tolist() == [70.0, 71.0]
    fig = mp.plot_gain_cost(gains)  # sizes in the legend filled, as drawn; "tuned" open
    legend = {h.get_label(): h.get_markerfacecolor() for h in fig.legends[0].legend_handles}
    assert legend["open: tuned"] == "white" and legend["3x100"] != "white"
    matplotlib.pyplot.close(fig)
    for fig in (mp.plot_gain_cost(gains), mp.plot_forget_shares(summary, "3x100", 5.0)):
        assert fig.axes
        matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="no cell"):
        mp.confusion_table(summary, "5x250", 5.0)
    with pytest.raises(ValueError, match="method_gains"):
        mp.gains_table(gains.iloc[:0])
