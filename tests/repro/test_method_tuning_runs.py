"""The tuning studies as scenarios of the experiment engine (issue 13's stored runs): the config,
one study's row against :func:`tune_method`, the parameters a comparison takes from the rows,
the cost table, and a tuned comparison stored and verified after its tuning run."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from assd_repro.experiments import stored_runs
from assd_repro.experiments.method_comparison import (
    SEARCH_SPACES,
    MethodComparisonConfig,
    method_gains,
)
from assd_repro.experiments.method_tuning import (
    PARAM_COLUMNS,
    TUNABLE_METHODS,
    MethodTuningConfig,
    Study,
    method_tuning_scenario,
    run_method_tuning,
    tune_method,
    tuned_from_rows,
    tuning_costs,
)


@pytest.fixture(scope="module")
def small() -> MethodTuningConfig:
    return MethodTuningConfig.for_profile("smoke", methods=("finetune", "neggrad_plus"),
                                          n_trials=2)


@pytest.fixture(scope="module")
def tuning_rows(tmp_path_factory: pytest.TempPathFactory, small: MethodTuningConfig
                ) -> pd.DataFrame:
    return run_method_tuning(small, results_dir=tmp_path_factory.mktemp("tuning"),
                             progress=False)


@pytest.mark.parametrize(("overrides", "named"), [
    ({"methods": ("assd",)}, r"\['assd'\], which have nothing to tune"),
    ({"methods": ("finetune", "tuned_ssd")}, r"\['tuned_ssd'\]"),
    ({"n_trials": 0}, "n_trials=0"),
    ({"n_trials": 2.5}, "n_trials=2.5"),
    ({"n_tuning_scenarios": True}, "n_tuning_scenarios=True"),
    ({"sampler_seed": -1}, "sampler_seed=-1"),
    ({"n_scenarios": 3}, "n_scenarios=3 must be 1"),
    ({"tuned": {("finetune", "2x50", 1.0): {"lr": 0.01}}}, "tuned must stay None"),
    ({"methods": ("finetune", "sdd")}, r"\['sdd'\]"),
])
def test_bad_values_raise_naming_them(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        MethodTuningConfig.for_profile("smoke", **overrides)


def test_studies_are_the_scenarios_method_fastest(small: MethodTuningConfig) -> None:
    assert small.cells() == (Study("finetune", "2x50", 1.0), Study("neggrad_plus", "2x50", 1.0),
                             Study("finetune", "2x50", 5.0), Study("neggrad_plus", "2x50", 5.0))
    assert small.seeds == (0, 1, 2, 3) and small.scenario(3) == Study("neggrad_plus", "2x50", 5.0)
    with pytest.raises(ValueError, match="scenario id 4 outside 0..3"):
        small.scenario(4)
    book = MethodTuningConfig.for_profile("book")
    assert book.methods == TUNABLE_METHODS and set(TUNABLE_METHODS) == set(SEARCH_SPACES)
    assert (book.n_trials, book.n_tuning_scenarios, book.error_pcts) == (30, 5, (1.0, 5.0))
    assert len(book.seeds) == len(TUNABLE_METHODS) * 3 * 2
    # the studies share the comparison's data, recipe and validation slice
    comparison = MethodComparisonConfig.for_profile("book")
    shared = [f.name for f in dataclasses.fields(MethodComparisonConfig)
              if f.name not in {"seeds", "n_scenarios", "error_pcts", "methods"}]
    assert all(getattr(book.comparison(), n) == getattr(comparison, n) for n in shared)
    assert book.content_hash() != comparison.content_hash()


def test_a_study_row_is_tune_methods_result(small: MethodTuningConfig,
                                            tuning_rows: pd.DataFrame) -> None:
    row = tuning_rows[tuning_rows["scenario"] == 3].iloc[0]
    params, best, _ = tune_method(small.comparison(), "neggrad_plus", "2x50", 5.0,
                                  n_scenarios=small.n_tuning_scenarios, n_trials=2, seed=0)
    assert row["value"] == best and row["method"] == "neggrad_plus"
    assert {c: row[c] for c in PARAM_COLUMNS if not math.isnan(row[c])} == {
        f"p_{k}": v for k, v in params.items()}
    # a fresh process (no cached baselines) gives the same row
    fresh = pd.DataFrame(method_tuning_scenario(small, 3))
    assert fresh["value"].item() == row["value"]
    assert (tuning_rows.groupby("error_pct")["baselines_s"].nunique() == 1).all()


def test_tuned_from_rows_takes_the_nearest_tuned_rate(small: MethodTuningConfig,
                                                      tuning_rows: pd.DataFrame) -> None:
    tuned = tuned_from_rows(tuning_rows, (1.0, 5.0, 10.0))
    assert set(tuned) == {(m, "2x50", p) for m in small.methods for p in (1.0, 5.0, 10.0)}
    assert tuned[("neggrad_plus", "2x50", 10.0)] == tuned[("neggrad_plus", "2x50", 5.0)]
    assert isinstance(tuned[("finetune", "2x50", 1.0)]["epochs"], int)
    config = MethodComparisonConfig.for_profile("smoke", methods=small.methods, tuned=tuned)
    assert config.params_for("finetune", "2x50", 5.0) == tuned[("finetune", "2x50", 5.0)]
    with pytest.raises(ValueError, match="twice"):
        tuned_from_rows(pd.concat([tuning_rows, tuning_rows.iloc[:1]]), (1.0,))
    with pytest.raises(ValueError, match="is empty"):
        tuned_from_rows(tuning_rows.iloc[:0], (1.0,))
    with pytest.raises(ValueError, match="p_lr"):
        tuned_from_rows(tuning_rows.drop(columns="p_lr"), (1.0,))


def test_tuning_costs_feed_method_gains(tuning_rows: pd.DataFrame) -> None:
    costs = tuning_costs(tuning_rows)
    assert costs["method"].tolist() == ["tuning_baselines"] * 2 + tuning_rows["method"].tolist()
    assert costs["seconds"].iloc[2:].tolist() == tuning_rows["method_s"].tolist()
    frame = pd.DataFrame([
        {"model_size": "2x50", "error_pct": 10.0, "replicate": r, "method": m,
         "metric": metric, "true": math.nan, "wrong": math.nan, "value": v}
        for r in range(2) for m, acc in (("baseline", 80.0), ("finetune", 81.0 + r))
        for metric, v in (("test_accuracy", acc), ("failed", 0.0), ("method_s", 1.0))])
    gains = method_gains(frame, tuning_costs=costs)
    at_5 = tuning_rows[(tuning_rows["method"] == "finetune") & (tuning_rows["error_pct"] == 5.0)]
    assert gains["tuning_s"].item() == at_5["method_s"].item()  # 10 % uses the 5 % study


def _tiny_runs() -> tuple[stored_runs.StoredRun, stored_runs.StoredRun]:
    tuning = {"methods": ("finetune",), "n_trials": 2, "error_pcts": (1.0,)}
    build_tuning = stored_runs._method_config(MethodTuningConfig, tuning)
    build = stored_runs._method_config(MethodComparisonConfig,
                                       {"methods": ("finetune",), "n_scenarios": 1})
    return (stored_runs.StoredRun("tiny-tuning", "tiny tuning", "DataCo sample",
                                  lambda **kw: build_tuning("smoke", **kw),
                                  method_tuning_scenario, run_method_tuning, 1),
            stored_runs.StoredRun("tiny-tuned", "tiny tuned comparison", "DataCo sample",
                                  lambda **kw: build("smoke", **kw),
                                  stored_runs.method_comparison_scenario,
                                  stored_runs.run_method_comparison, 1, tuning="tiny-tuning"))


def test_a_tuned_run_completes_its_tuning_first_and_verifies(monkeypatch, tmp_path: Path) -> None:
    tuning, tuned = _tiny_runs()
    monkeypatch.setattr(stored_runs, "STORED_RUNS", (*stored_runs.STORED_RUNS, tuning, tuned))
    with pytest.raises(RuntimeError, match="stored run 'tiny-tuning' lacks 1 of 1"):
        tuned.config(tmp_path)
    rows = stored_runs.complete_run(tuned, results_dir=tmp_path, progress=False)
    manifest = stored_runs.read_manifest(tmp_path)["runs"]
    assert set(manifest) == {"tiny-tuning", "tiny-tuned"}
    config = tuned.config(tmp_path)
    study = stored_runs.load_run("tiny-tuning", tmp_path, compute_missing=False)
    assert config.params_for("finetune", "2x50", 5.0) == tuned_from_rows(study, (5.0,))[
        ("finetune", "2x50", 5.0)] != {}
    assert manifest["tiny-tuned"]["config_hash"] == config.content_hash()
    assert set(rows["method"]) == {"baseline", "finetune"}
    for name in ("tiny-tuning", "tiny-tuned"):
        assert stored_runs.verify_run(name, tmp_path)["exact"]
    note = stored_runs.provenance_note(["tiny-tuning", "tiny-tuned"], tmp_path, profile="book")
    assert "method-comparison and method-tuning experiments" in note
    assert "computed as the page was built" not in note


def test_method_runs_have_tiny_smoke_analogues() -> None:
    for run in stored_runs.STORED_RUNS:
        if run.tuning is not None or run.scenario is not stored_runs.method_comparison_scenario:
            continue
        book, smoke = run.config(), run.config_for("smoke")
        assert (smoke.profile, smoke.n_scenarios, smoke.epochs) == ("smoke", 2, 5)
        assert smoke.methods == book.methods and smoke.batch_size == book.batch_size
        if book.data_path is None:
            assert smoke.n_rows == stored_runs.SMOKE_SYNTHETIC_ROWS
            assert smoke.model_sizes == book.model_sizes == ("3x100",)
    tuning = stored_runs.find_run("methods-tuning-sample").config_for("smoke")
    assert (tuning.n_trials, tuning.n_tuning_scenarios, tuning.error_pcts) == (3, 1, (1.0, 5.0))
