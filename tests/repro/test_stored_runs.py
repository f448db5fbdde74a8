"""The book's stored runs: computed once, compacted, recorded in the manifest, and verified
against the current code (config hash, scenario count, one scenario recomputed exactly)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO

from assd_repro.experiments import stored_runs
from assd_repro.experiments.error_unlearning import ErrorUnlearningConfig, error_unlearning_scenario

STORED = REPO / "results"
ENTRIES = stored_runs.read_manifest(STORED)["runs"]


def smoke_run(**overrides) -> stored_runs.StoredRun:
    settings = {"n_scenarios": 2, "keep_test_predictions": True, **overrides}
    return stored_runs.StoredRun(
        "smoke-table4", "smoke run", "DataCo sample",
        lambda: ErrorUnlearningConfig.for_profile("smoke", **settings),
        error_unlearning_scenario, stored_runs.run_error_unlearning, 2)


@pytest.fixture
def smoke(monkeypatch, tmp_path: Path):
    run = smoke_run()
    monkeypatch.setattr(stored_runs, "STORED_RUNS", (*stored_runs.STORED_RUNS, run))
    rows = stored_runs.complete_run(run, results_dir=tmp_path, progress=False)
    return run, rows, tmp_path


def test_complete_run_compacts_and_records_provenance(smoke) -> None:
    run, rows, root = smoke
    store = stored_runs.ResultStore(run.config(), root)
    assert sorted(p.name for p in store.folder.iterdir()) == [
        "config.json", "progress.json", "results.parquet"]
    entry = json.loads((root / "manifest.json").read_text())["runs"]["smoke-table4"]
    assert entry["config_hash"] == run.config().content_hash()
    assert entry["n_scenarios"] == len(run.config().seeds) == rows["scenario"].nunique()
    assert entry["dataset"]["file"] == "DataCoSupplyChainDataset.sample6000.csv.gz"
    assert len(entry["dataset"]["sha256"]) == 64 and entry["threads"] == 1
    for key in ("experiment", "profile", "code_commit", "torch", "numpy", "cpu", "started",
                "wall_s", "compute_s"):
        assert entry[key] not in (None, ""), key
    assert entry["compute_s"] > 0 and entry["wall_s"] > 0


def test_test_predictions_are_stored_and_agree_with_the_accuracy(smoke) -> None:
    import numpy as np

    _, rows, _ = smoke
    test = rows[rows["split"] == "test"]
    for _, row in test.iterrows():
        bits = np.unpackbits(np.frombuffer(bytes.fromhex(row["test_correct"]), np.uint8))
        assert 100 * bits[: row["n_eval"]].mean() == pytest.approx(row["value"])
    assert (rows.loc[rows["split"] == "train", "test_correct"] == "").all()


def test_verify_run_recomputes_a_scenario_exactly(smoke) -> None:
    run, rows, root = smoke
    report = stored_runs.verify_run(run.name, root)
    assert report["n_scenarios"] == rows["scenario"].nunique()
    assert report["scenario"] in set(rows["scenario"])


def test_verify_run_fails_for_a_deliberately_altered_config(smoke, monkeypatch) -> None:
    run, _, root = smoke
    altered = dataclasses.replace(run, make_config=smoke_run(epochs=4).make_config)
    monkeypatch.setattr(stored_runs, "STORED_RUNS", (*stored_runs.STORED_RUNS[:-1], altered))
    with pytest.raises(AssertionError, match="stored config hash .* is not the current code's"):
        stored_runs.verify_run(run.name, root)


def test_verify_run_fails_when_the_code_computes_other_values(smoke, monkeypatch) -> None:
    run, _, root = smoke

    def changed(config, seed):  # same settings, different code
        return [{**row, "value": row["value"] + 0.25} for row in error_unlearning_scenario(config, seed)]

    altered = dataclasses.replace(run, scenario=changed)
    monkeypatch.setattr(stored_runs, "STORED_RUNS", (*stored_runs.STORED_RUNS[:-1], altered))
    with pytest.raises(AssertionError, match="recomputed by the current code differs"):
        stored_runs.verify_run(run.name, root)


def test_load_run_computes_only_what_is_missing_and_says_how_long(smoke, capsys) -> None:
    run, rows, root = smoke
    pd.testing.assert_frame_equal(stored_runs.load_run(run.name, root, progress=False), rows)
    assert capsys.readouterr().err == ""
    bigger = smoke_run(n_scenarios=3)
    stored_runs.STORED_RUNS = (*stored_runs.STORED_RUNS[:-1], bigger)
    with pytest.raises(RuntimeError, match=r"lacks 6 of 6 scenarios"):
        stored_runs.load_run(run.name, root, compute_missing=False)


def test_unknown_stored_run_is_named() -> None:
    with pytest.raises(ValueError, match=r"no stored run 'table9'; choose one of \['table4-sample'"):
        stored_runs.find_run("table9")


def test_every_manifest_entry_is_a_stored_run_of_the_book() -> None:
    assert set(ENTRIES) <= {run.name for run in stored_runs.STORED_RUNS}


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_stored_run_matches_the_current_code(name: str) -> None:
    """Every committed run: config hash, scenario count, cheapest scenario recomputed exactly."""
    report = stored_runs.verify_run(name, STORED)
    assert report["n_scenarios"] == ENTRIES[name]["n_scenarios"]
