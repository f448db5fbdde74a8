"""The method comparison of issue 13 at the smoke profile: config, Table 4's baseline, rows,
determinism, tuning and the summaries against hand computations."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from assd_repro.experiments import method_comparison as mc
from assd_repro.experiments.error_unlearning import ErrorUnlearningConfig, error_unlearning_scenario
from assd_repro.experiments.label_confusion import SHARE_COLUMNS
from assd_repro.experiments.method_comparison import (
    COMPARISON_METHODS,
    ROW_COLUMNS,
    SEARCH_SPACES,
    MethodComparisonConfig,
    bad_teacher_batch,
    confusion_summary,
    method_comparison_scenario,
    method_gains,
    nearest_tuned_pct,
    prepare_scenario,
    run_method,
    run_method_comparison,
    validation_rows,
)
from assd_repro.experiments.method_tuning import (
    TUNING_REPLICATE_OFFSET,
    tune_all,
    tune_method,
    tuning_scenarios,
)

TIMING = {"method_s"}


@pytest.fixture(scope="module")
def config() -> MethodComparisonConfig:
    return MethodComparisonConfig.for_profile("smoke")


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory, config: MethodComparisonConfig) -> pd.DataFrame:
    return run_method_comparison(config, results_dir=tmp_path_factory.mktemp("mc"), progress=False)


def _tuned(config: MethodComparisonConfig, **params: Any) -> dict[tuple[str, str, float], Any]:
    """Every tunable method of ``config`` with ``params`` that it takes, in every cell."""
    return {(m, s, p): {k: v for k, v in params.items() if k in SEARCH_SPACES[m]}
            for m in config.methods if m in SEARCH_SPACES for s, p in config.cells()}


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "named"), [
    ({"methods": ()}, r"methods=\(\)"),
    ({"methods": ("baseline",)}, r"\['baseline'\]"),
    ({"methods": ("assd", "sdd")}, r"\['sdd'\]"),
    ({"methods": ("assd", "assd")}, r"methods=\('assd', 'assd'\) holds a method twice"),
    ({"validation_share": 0.0}, "validation_share=0.0"),
    ({"validation_share": 0.6}, "validation_share=0.6"),
    ({"validation_share": True}, "validation_share=True"),
    ({"validation_share": "0.1"}, "validation_share='0.1'"),
    ({"keep_test_predictions": True}, "keep_test_predictions=True"),
    ({"tuned": 5}, "tuned=5"),
    ({"tuned": [("finetune", "2x50", 1.0)]}, r"\('finetune', '2x50', 1.0\)"),
    ({"tuned": {("assd", "2x50", 1.0): {}}}, "'assd'"),
    ({"tuned": {("finetune", "2x50", 1.0): {"momentum": 0.9}}}, "momentum=0.9"),
    ({"tuned": {("finetune", "2x50", 1.0): {"lr": math.nan}}}, "lr=nan"),
    ({"tuned": {("finetune", "2x50", 1.0): {"epochs": 1.5}}}, "epochs=1.5"),
    ({"methods": ("finetune",), "tuned": {("finetune", "2x50", 1.0): {"lr": 0.01}}},
     r"\('finetune', '2x50', 5.0\)"),
    ({"error_pcts": (1.0, 60.0)}, "60.0"),
    ({"model_sizes": ("big",)}, "'big'"),
])
def test_bad_values_raise_naming_them(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        MethodComparisonConfig.for_profile("smoke", **overrides)


def test_tuned_enters_the_hash_and_reaches_the_methods(config: MethodComparisonConfig) -> None:
    tuned = _tuned(config, lr=0.01, epochs=2, beta=0.99, retain_share=0.5)
    with_tuned = MethodComparisonConfig.for_profile("smoke", tuned=tuned)
    assert with_tuned.content_hash() != config.content_hash()
    other = MethodComparisonConfig.for_profile("smoke", tuned=_tuned(config, lr=0.02, epochs=2,
                                                                     beta=0.99, retain_share=0.5))
    assert other.content_hash() != with_tuned.content_hash()
    assert with_tuned.params_for("neggrad_plus", "2x50", 5.0) == {"lr": 0.01, "epochs": 2,
                                                                    "beta": 0.99}
    assert with_tuned.params_for("assd", "2x50", 5.0) == {} == config.params_for("finetune",
                                                                                   "2x50", 1.0)
    # entries outside the grid are dropped: the hash depends on what runs
    extra = {**tuned, ("finetune", "3x100", 1.0): {"lr": 0.5}}
    assert MethodComparisonConfig.for_profile("smoke", tuned=extra).content_hash() \
        == with_tuned.content_hash()
    assert pickle.loads(pickle.dumps(with_tuned)) == with_tuned


def test_profiles_share_table4s_scenarios(config: MethodComparisonConfig) -> None:
    table4 = ErrorUnlearningConfig.for_profile("smoke")
    assert config.cells() == table4.cells() and config.seeds == table4.seeds
    assert [config.scenario(s) for s in config.seeds] == [table4.scenario(s) for s in table4.seeds]
    assert config.content_hash() != table4.content_hash()  # its own results folder
    book = MethodComparisonConfig.for_profile("book")
    assert book.error_pcts == (1.0, 5.0, 10.0) and book.methods == COMPARISON_METHODS


def test_nearest_tuned_rate_and_bad_teacher_batch() -> None:
    assert nearest_tuned_pct(10.0, (1.0, 5.0)) == 5.0
    assert nearest_tuned_pct(2.5, (5.0, 1.0)) == 1.0
    assert nearest_tuned_pct(3.0, (1.0, 5.0)) == 1.0  # a tie goes to the lower rate
    with pytest.raises(ValueError, match="no tuned error rate"):
        nearest_tuned_pct(1.0, ())
    assert bad_teacher_batch(69, 34) == 35 and bad_teacher_batch(68, 34) == 34
    assert bad_teacher_batch(35, 34) == 35


def test_validation_slice_is_seeded_and_leaves_rows() -> None:
    held = validation_rows(100, 0.1, seed=3)
    assert len(held) == 10 and np.all(np.diff(held) > 0) and held.max() < 100
    np.testing.assert_array_equal(held, validation_rows(100, 0.1, seed=3))
    assert not np.array_equal(held, validation_rows(100, 0.1, seed=4))
    assert len(validation_rows(5, 0.01, seed=0)) == 1
    with pytest.raises(ValueError, match="validation_share=0.5 of 1 retain rows"):
        validation_rows(1, 0.5, seed=0)


# --------------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------------


def test_baseline_is_table4s(config: MethodComparisonConfig, rows: pd.DataFrame) -> None:
    table4 = ErrorUnlearningConfig.for_profile("smoke")
    for seed in (0, 3):
        theirs = pd.DataFrame(error_unlearning_scenario(table4, seed))
        expected = theirs.query("method == 'baseline' and split == 'test'")["value"].item()
        ours = rows.query("scenario == @seed and method == 'baseline' and "
                          "metric == 'test_accuracy'")["value"].item()
        assert ours == expected  # bit for bit


def test_prepared_scenario_splits_dr(config: MethodComparisonConfig) -> None:
    p = prepare_scenario(config, "2x50", 5.0, 1)
    x_r, y_r = p.data.retain()
    assert len(p.retain[1]) + len(p.validation[1]) == len(y_r)
    assert len(p.validation[1]) == round(0.1 * len(y_r))
    rows_of = {tuple(r) for r in torch.cat([p.retain[0], p.validation[0]]).tolist()}
    assert rows_of == {tuple(r) for r in x_r.tolist()}  # a partition of Dr
    assert torch.equal(p.forget()[1], p.data.y_noisy[p.data.error_idx])


def test_row_structure(config: MethodComparisonConfig, rows: pd.DataFrame) -> None:
    assert list(rows.columns) == ["experiment", "config_hash", "scenario", *ROW_COLUMNS, "wall_s"]
    for _, scenario in rows.groupby("scenario"):
        assert list(scenario["method"].unique()) == ["baseline", *COMPARISON_METHODS]
        plain = scenario[scenario["true"].isna()].set_index(["method", "metric"])["value"]
        assert (plain.xs("failed", level="metric") == 0).all()
        accuracy = plain.xs("test_accuracy", level="metric")
        np.testing.assert_allclose(plain.xs("gain", level="metric"),
                                   accuracy - accuracy["baseline"])
        assert (plain.xs("method_s", level="metric") > 0).all()
        assert set(plain.xs("alpha", level="metric").index) == {"assd", "assd_guarded",
                                                                 "assd_repair", "tuned_ssd"}
        assert plain[("assd_guarded", "refused")] in (0.0, 1.0)
        pairs = scenario[scenario["true"].notna()]
        assert (pairs["true"] != pairs["wrong"]).all()
        wide = pairs.set_index(["method", "true", "wrong", "metric"])["value"].unstack("metric")
        for prefix in ("forget", "test"):
            sums = wide[[f"{prefix}_{k}" for k in ("true", "wrong", "other")]].sum(axis=1)
            np.testing.assert_allclose(sums, 100.0)
        n_changed = scenario["n_changed"].iloc[0]
        assert (wide["pair_rows_forget"].groupby(level="method").sum() == n_changed).all()
    assert (rows["n_changed"] == rows["n_forget"]).all()  # "flip" mode
    assert set(rows["settings"]) == {"{}"}


def test_same_seed_same_rows(config: MethodComparisonConfig, rows: pd.DataFrame) -> None:
    again = pd.DataFrame(method_comparison_scenario(config, 1))
    stored = rows[rows["scenario"] == 1][list(ROW_COLUMNS)].reset_index(drop=True)
    keep = ~again["metric"].isin(TIMING)
    pd.testing.assert_frame_equal(again[keep].reset_index(drop=True),
                                  stored[keep.to_numpy()].reset_index(drop=True))


def test_tuned_settings_are_used_and_recorded(config: MethodComparisonConfig) -> None:
    tuned = MethodComparisonConfig.for_profile("smoke", methods=("finetune", "assd_repair"),
                                               tuned=_tuned(config, lr=0.003, epochs=2))
    frame = pd.DataFrame(method_comparison_scenario(tuned, 0))
    settings = frame.groupby("method")["settings"].first()
    assert json.loads(settings["finetune"]) == {"epochs": 2, "lr": 0.003}
    assert settings["baseline"] == "{}"
    p = prepare_scenario(tuned, "2x50", 1.0, 0)
    model = run_method(p, "finetune", {"epochs": 2, "lr": 0.003}).model
    assert model is not None
    accuracy = frame.query("method == 'finetune' and metric == 'validation_accuracy'")
    assert accuracy["value"].item() == mc.evaluate_accuracy(model, *p.validation)


def test_a_diverging_method_is_recorded_as_failed(config: MethodComparisonConfig,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def diverge(p: Any, params: Any) -> Any:
        raise FloatingPointError("the unlearning loss is nan")

    monkeypatch.setitem(mc._RUNNERS, "scrub", diverge)  # type: ignore[index]
    small = MethodComparisonConfig.for_profile("smoke", methods=("assd", "scrub"))
    frame = pd.DataFrame(method_comparison_scenario(small, 0))
    scrub = frame[frame["method"] == "scrub"].set_index("metric")["value"]
    assert scrub["failed"] == 1.0 and math.isnan(scrub["method_s"])
    assert "test_accuracy" not in scrub.index
    gains = method_gains(frame)
    row = gains.set_index("method").loc["scrub"]
    assert row["n"] == 0 and row["n_failed"] == 1 and math.isnan(row["gain_mean"])


# --------------------------------------------------------------------------------------------
# Tuning
# --------------------------------------------------------------------------------------------


def test_tune_method_is_seeded_and_stays_in_its_space(config: MethodComparisonConfig) -> None:
    found = tune_method(config, "neggrad_plus", "2x50", 5.0, n_scenarios=1, n_trials=2, seed=0)
    again = tune_method(config, "neggrad_plus", "2x50", 5.0, n_scenarios=1, n_trials=2, seed=0)
    params, best, seconds = found
    assert (params, best) == again[:2] and seconds > 0
    assert set(params) == set(SEARCH_SPACES["neggrad_plus"])
    for name, value in params.items():
        assert SEARCH_SPACES["neggrad_plus"][name].contains(value), (name, value)
    assert isinstance(params["epochs"], int) and 0 <= best <= 100
    with pytest.raises(ValueError, match="method='assd' has nothing to tune"):
        tune_method(config, "assd", "2x50", 5.0)
    with pytest.raises(ValueError, match="n_trials=0"):
        tune_method(config, "scrub", "2x50", 5.0, n_trials=0)


def test_tuning_scenarios_do_not_overlap_the_evaluated_ones(config: MethodComparisonConfig) -> None:
    (p,) = tuning_scenarios(config, "2x50", 1.0, 1)
    assert p.replicate == TUNING_REPLICATE_OFFSET > max(config.scenario(s).replicate
                                                         for s in config.seeds)


def test_tune_all_gives_a_config_its_tuned_parameters(config: MethodComparisonConfig,
                                                      tmp_path: Path) -> None:
    tuned, costs = tune_all(config, pcts=(1.0,), methods=("finetune",), n_scenarios=1,
                            n_trials=1)
    assert set(tuned) == {("finetune", "2x50", 1.0), ("finetune", "2x50", 5.0)}
    assert tuned[("finetune", "2x50", 5.0)] == tuned[("finetune", "2x50", 1.0)]  # nearest rate
    assert costs["method"].tolist() == ["tuning_baselines", "finetune"]
    assert json.loads(costs["params"].iloc[1]) == tuned[("finetune", "2x50", 1.0)]
    small = MethodComparisonConfig.for_profile("smoke", methods=("finetune",), tuned=tuned)
    assert small.params_for("finetune", "2x50", 5.0) == tuned[("finetune", "2x50", 5.0)]
    frame = pd.DataFrame(method_comparison_scenario(small, 0))
    gains = method_gains(frame, tuning_costs=costs)
    assert gains["tuning_s"].item() == costs["seconds"].iloc[1]


# --------------------------------------------------------------------------------------------
# Summaries against hand computations
# --------------------------------------------------------------------------------------------


def _hand_rows() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    accuracy = {"baseline": np.array([80.0, 82.0, 81.0]), "assd": np.array([81.0, 82.5, 82.0]),
                "scrub": np.array([79.0, 83.0, 80.0])}
    seconds = {"baseline": [3.0, 3.0, 3.0], "assd": [0.1, 0.2, 0.3], "scrub": [1.0, 2.0, 4.0]}
    rows = []
    for method, values in accuracy.items():
        for r in range(3):
            labels = {"model_size": "3x100", "error_pct": 5.0, "replicate": r, "method": method}
            for metric, value in (("test_accuracy", values[r]), ("failed", 0.0),
                                  ("method_s", seconds[method][r])):
                rows.append({**labels, "metric": metric, "true": math.nan, "wrong": math.nan,
                             "value": value})
            shares = {"forget_true": 10.0 * (r + 1), "forget_wrong": 90.0 - 10.0 * (r + 1),
                      "forget_other": 10.0, "test_true": 50.0, "test_wrong": 30.0 + r,
                      "test_other": 20.0 - r, "pair_rows_forget": 4.0 + r, "pair_rows_test": 9}
            if method == "scrub" and r == 2:  # a scenario without this pair
                continue
            rows += [{**labels, "metric": k, "true": 1.0, "wrong": 0.0, "value": v}
                     for k, v in shares.items()]
    return pd.DataFrame(rows), accuracy


def test_method_gains_equal_a_hand_computed_paired_t_interval() -> None:
    frame, accuracy = _hand_rows()
    table = method_gains(frame).set_index("method")
    assert list(table.index) == ["assd", "scrub"]
    for method in ("assd", "scrub"):
        diff = accuracy[method] - accuracy["baseline"]
        half = stats.t.ppf(0.975, 2) * diff.std(ddof=1) / math.sqrt(3)
        row = table.loc[method]
        assert row["n"] == 3 and row["n_failed"] == 0
        assert row["gain_mean"] == pytest.approx(diff.mean())
        assert row["gain_sd"] == pytest.approx(diff.std(ddof=1))
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((diff.mean() - half,
                                                                 diff.mean() + half))
        assert row["p_paired"] == pytest.approx(stats.ttest_rel(accuracy[method],
                                                                accuracy["baseline"]).pvalue)
    assert table.loc["assd", "method_s_mean"] == pytest.approx(0.2)
    assert table.loc["scrub", "method_s_mean"] == pytest.approx(7 / 3)


def test_confusion_summary_averages_over_scenarios() -> None:
    frame, _ = _hand_rows()
    table = confusion_summary(frame).set_index("method")
    assert list(table.index) == ["baseline", "assd", "scrub"]
    assert (table["true"] == 1).all() and (table["wrong"] == 0).all()
    assert table.loc["assd", "n_scenarios"] == 3 and table.loc["scrub", "n_scenarios"] == 2
    assert table.loc["assd", "forget_true"] == pytest.approx(20.0)
    assert table.loc["scrub", "forget_true"] == pytest.approx(15.0)
    assert table.loc["scrub", "test_wrong"] == pytest.approx(30.5)
    assert table.loc["assd", "pair_rows_forget"] == pytest.approx(5.0)
    shares = table[list(SHARE_COLUMNS[:3])].sum(axis=1)
    np.testing.assert_allclose(shares, 100.0)


def test_summaries_of_the_smoke_rows(rows: pd.DataFrame) -> None:
    gains = method_gains(rows)
    assert len(gains) == 2 * len(COMPARISON_METHODS) and (gains["n"] == 2).all()
    confusion = confusion_summary(rows)
    assert set(confusion["method"]) == {"baseline", *COMPARISON_METHODS}


@pytest.mark.parametrize("bad", [pd.DataFrame(), pd.DataFrame({"method": ["assd"]})])
def test_summaries_refuse_other_rows(bad: pd.DataFrame) -> None:
    for summary in (method_gains, confusion_summary):
        with pytest.raises(ValueError, match="rows"):
            summary(bad)
