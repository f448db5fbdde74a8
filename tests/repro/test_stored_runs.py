"""The book's stored runs: computed once, compacted, recorded in the manifest, and verified
against the current code (config hash, scenario count, one scenario recomputed exactly)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, require_cifar10_archive

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


def test_a_second_call_keeps_the_record_of_the_run(smoke) -> None:
    run, rows, root = smoke
    before = (root / "manifest.json").read_text()
    again = stored_runs.complete_run(run, results_dir=root, progress=False)
    pd.testing.assert_frame_equal(again, rows)
    assert (root / "manifest.json").read_text() == before


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


@pytest.mark.parametrize(("shift", "passes"), [(0.25, True), (6.0, False)])
def test_verify_run_on_another_cpu_accepts_accuracies_within_the_tolerance(
        smoke, monkeypatch, shift: float, passes: bool) -> None:
    run, _, root = smoke

    def other_kernels(config, seed):  # the same code on another CPU type: last bits differ
        return [{**row, "value": row["value"] + shift, "test_correct": ""}
                for row in error_unlearning_scenario(config, seed)]

    altered = dataclasses.replace(run, scenario=other_kernels)
    monkeypatch.setattr(stored_runs, "STORED_RUNS", (*stored_runs.STORED_RUNS[:-1], altered))
    monkeypatch.setattr(stored_runs, "_cpu", lambda: "another CPU (2 cores)")
    if passes:
        assert stored_runs.verify_run(run.name, root)["exact"] is False
    else:
        with pytest.raises(AssertionError, match="more than the 5 allowed across CPUs"):
            stored_runs.verify_run(run.name, root)


def test_load_run_computes_only_what_is_missing_and_says_how_long(smoke, capsys) -> None:
    run, rows, root = smoke
    pd.testing.assert_frame_equal(stored_runs.load_run(run.name, root, progress=False), rows)
    assert capsys.readouterr().err == ""
    bigger = smoke_run(n_scenarios=3)
    stored_runs.STORED_RUNS = (*stored_runs.STORED_RUNS[:-1], bigger)
    with pytest.raises(RuntimeError, match=r"lacks 6 of 6 scenarios"):
        stored_runs.load_run(run.name, root, compute_missing=False)


def test_a_checkpointed_run_is_committable_and_completes_to_the_same_rows(
        smoke, tmp_path: Path) -> None:
    run, rows, _ = smoke
    root = tmp_path / "elsewhere"
    config = run.config()
    first = list(config.seeds[: len(config.seeds) // 2])
    store = stored_runs.ResultStore(config, root)
    for seed in first:  # the finished half, as an interrupted session leaves it
        store.write(seed, rows[rows["scenario"] == seed].reset_index(drop=True))
    line = stored_runs.checkpoint_run(run.name, root)
    assert f"{len(first)} of {len(config.seeds)} scenarios" in line
    assert sorted(p.name for p in store.folder.iterdir()) == ["config.json", "results.parquet"]
    assert not (root / "manifest.json").exists()  # unfinished: no stored result yet
    again = stored_runs.complete_run(run, results_dir=root, progress=False)
    keep = [c for c in rows.columns if c not in stored_runs.TIMING_COLUMNS]
    pd.testing.assert_frame_equal(again[keep], rows[keep])
    assert json.loads((root / "manifest.json").read_text())["runs"][run.name]["n_scenarios"] \
        == len(config.seeds)


def test_unknown_stored_run_is_named() -> None:
    with pytest.raises(ValueError, match=r"no stored run 'table9'; choose one of \['table4-sample'"):
        stored_runs.find_run("table9")


def test_every_manifest_entry_is_a_stored_run_of_the_book() -> None:
    assert set(ENTRIES) <= {run.name for run in stored_runs.STORED_RUNS}


def _image_run(name: str) -> bool:
    return ENTRIES[name]["dataset"].get("file") == "cifar10-jpeg.tar.gz"


# The image runs' checks share what they compute from one kept baseline (image_runs), so they
# run in one test process (pytest-xdist's --dist loadgroup).
@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xdist_group("cifar10-images")) if _image_run(n) else n
    for n in sorted(ENTRIES)])
def test_stored_run_matches_the_current_code(name: str) -> None:
    """Every committed run: config hash, scenario count, cheapest scenario recomputed exactly."""
    if _image_run(name):
        require_cifar10_archive(name)
    report = stored_runs.verify_run(name, STORED)
    assert report["n_scenarios"] == ENTRIES[name]["n_scenarios"]


# -- profiles and provenance ----------------------------------------------------------------------

#: The book configs' content hashes: running and stored computations depend on them.
BOOK_HASHES = {
    "table4-sample": "e9070e8cc203",
    "table4-sample-leak-free": "25ea1ad34169",
    "table4-sample-own-init": "6c488986c6d0",
    "table4-synthetic": "d4e079725d43",
    "fig5-synthetic-small": "770d7b5baf3b",
    "fig5-synthetic-5x250": "98dcead70696",
    "methods-tuning-sample": "bdf797124e82",
    "methods-sample": "c484fbcc7541",
    "methods-tuning-synthetic": "4e24cc26766d",
    "methods-synthetic": "edefaa4bf50a",
    "cifar10-fullclass-resnet18": "d16fc15dceda",
    "cifar10-fullclass-vit": "01119788a083",
    "cifar10-subclass-resnet18": "9a59dfd0f6e5",
    "cifar10-random-resnet18": "565bb80414bf",
    "cifar10-plateau-resnet18": "f3cee6deb375",
    "cifar10-lambda-resnet18": "e7ab83fb0c48",
}
#: runs whose config takes the parameters of a tuning run (their hash follows its rows)
TUNED_RUNS = {"methods-sample-tuned": "methods-tuning-sample",
              "methods-synthetic-tuned": "methods-tuning-synthetic"}
#: the runs of Table 4's experiment (error_unlearning)
TABLE4_RUNS = sorted(n for n in BOOK_HASHES if not n.startswith(("methods-", "cifar10-")))


def test_every_stored_run_has_a_pinned_book_hash() -> None:
    assert {run.name for run in stored_runs.STORED_RUNS} == set(BOOK_HASHES) | set(TUNED_RUNS)
    assert {r.name: r.tuning for r in stored_runs.STORED_RUNS if r.tuning} == TUNED_RUNS
    assert {n for n in BOOK_HASHES if stored_runs.find_run(n).scenario
            is error_unlearning_scenario} == set(TABLE4_RUNS)


@pytest.mark.parametrize("name", sorted(BOOK_HASHES))
def test_book_config_hash_is_unchanged(name: str) -> None:
    run = stored_runs.find_run(name)
    assert run.config().content_hash() == BOOK_HASHES[name]
    assert run.config_for("book").content_hash() == BOOK_HASHES[name]


@pytest.mark.parametrize("name", TABLE4_RUNS)
def test_smoke_config_is_a_tiny_analogue_of_the_book_run(name: str) -> None:
    run = stored_runs.find_run(name)
    book, smoke = run.config(), run.config_for("smoke")
    assert smoke.profile == "smoke" and smoke.n_scenarios == stored_runs.SMOKE_SCENARIOS == 2
    assert smoke.epochs == 5 and len(smoke.seeds) <= 10
    assert (smoke.protocol, smoke.init_seed, smoke.batch_size, smoke.keep_test_predictions,
            smoke.hyperparameters) == (book.protocol, book.init_seed, book.batch_size,
                                        book.keep_test_predictions, book.hyperparameters)
    if book.data_path is None:           # synthetic: the same table, at 6,000 rows
        assert smoke.data_path is None and smoke.n_rows == stored_runs.SMOKE_SYNTHETIC_ROWS
        assert smoke.error_pcts == book.error_pcts
        # the Fig. 5 runs keep their sizes (claim C6 compares them); Table 4 runs 2x50 only
        assert smoke.model_sizes == (book.model_sizes if name.startswith("fig5") else ("2x50",))
    else:                                # the real sample; its 2x50 smoke cells are shared
        assert smoke.data_path == book.data_path and smoke.model_sizes == ("2x50",)
    assert smoke.content_hash() != book.content_hash()


@pytest.mark.parametrize("name", TABLE4_RUNS)
def test_paper_config_has_the_papers_settings(name: str, monkeypatch, tmp_path: Path) -> None:
    from assd_repro.experiments.supply_chain_pipeline import (
        FULL_SIZE_ROWS,
        TUNED_HYPERPARAMETERS,
    )

    real = tmp_path / "DataCoSupplyChainDataset.csv"
    real.write_text("stand-in for the real file\n")
    monkeypatch.setenv("ASSD_DATACO", str(real))
    run = stored_runs.find_run(name)
    book, paper = run.config(), run.config_for("paper")
    assert paper.profile == "paper" and paper.epochs == 25 and paper.batch_size == 1024
    assert {s: (lr, wd) for s, lr, wd in paper.hyperparameters} == TUNED_HYPERPARAMETERS
    assert paper.n_scenarios == stored_runs.PAPER_SCENARIOS == 100
    assert (paper.protocol, paper.init_seed, paper.model_sizes, paper.error_pcts,
            paper.keep_test_predictions) == (book.protocol, book.init_seed, book.model_sizes,
                                             book.error_pcts, book.keep_test_predictions)
    if book.data_path is None:
        assert paper.data_path is None and paper.n_rows == FULL_SIZE_ROWS
    else:
        assert paper.data_path == str(real)


def test_paper_config_of_a_sample_run_needs_the_real_file(monkeypatch) -> None:
    from assd_repro.data import DatasetNotFoundError

    monkeypatch.delenv("ASSD_DATACO", raising=False)
    monkeypatch.delenv("ASSD_DATA", raising=False)
    with pytest.raises(DatasetNotFoundError, match="ASSD_DATACO"):
        stored_runs.find_run("table4-sample").config_for("paper")


def test_config_for_refuses_unknown_profiles_and_runs_without_profiles() -> None:
    with pytest.raises(ValueError, match="unknown profile 'gpu'"):
        stored_runs.find_run("table4-sample").config_for("gpu")
    with pytest.raises(ValueError, match="has only the book profile"):
        smoke_run().config_for("smoke")
    assert smoke_run().config_for("book").content_hash() == smoke_run().config().content_hash()


def test_provenance_note_from_the_manifest(smoke) -> None:
    run, _, root = smoke
    entry = stored_runs.read_manifest(root)["runs"][run.name]
    note = stored_runs.provenance_note([run.name], root)
    assert note.startswith("**Provenance.**") and note.count("\n- ") == 1
    assert f"SHA-256 `{entry['dataset']['sha256'][:12]}…`" in note
    assert f"{entry['n_scenarios']:,} scenarios ({entry['n_per_cell']} per cell)" in note
    assert f"{entry['compute_s'] / 3600:.1f} CPU hours" in note
    for key in ("torch", "numpy", "python", "cpu"):
        assert str(entry[key]) in note
    assert f"code `{entry['code_commit'][:10]}" in note
    assert f"started {entry['started'][:10]}" in note
    assert "computed as the page was built" not in note


def test_provenance_note_says_what_was_computed_live(tmp_path: Path) -> None:
    note = stored_runs.provenance_note(["table4-sample", "table4-synthetic"], tmp_path,
                                       profile="smoke")
    lines = note.splitlines()
    assert len(lines) == 4 and all("computed as the page was built, at the `smoke` profile"
                                   in line for line in lines[2:])
    assert "synthetic table of 6,000 rows" in lines[3]
    smoke = stored_runs.find_run("table4-sample").config_for("smoke")
    assert f"(config `{smoke.content_hash()}`)" in lines[2]
    # a manifest entry of another config (here the book run) is not this profile's record
    entry = {"runs": {"table4-sample": {"config_hash": BOOK_HASHES["table4-sample"]}}}
    (tmp_path / "manifest.json").write_text(json.dumps(entry))
    assert "computed as the page was built" in stored_runs.provenance_note(
        ["table4-sample"], tmp_path, profile="smoke")
    with pytest.raises(ValueError, match="no stored run 'x'"):
        stored_runs.provenance_note(["x"], tmp_path)
