"""The result store checks what it reuses: damaged, foreign, edited and stale files are set aside
(never deleted), named in a warning and computed again; compacted runs get the same checks."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import REPO
from engine_toy import ToyConfig, ToyFileConfig, toy_file_scenario, toy_scenario

from assd_repro.experiments import ResultStore, StoredResultWarning, recorded_run_times, run_scenarios
from assd_repro.experiments.engine.runner import run_one

VALUE_COLUMNS = ["experiment", "config_hash", "scenario", "method", "metric", "value"]


class Counting:
    """A scenario function that records which scenarios it computed."""

    def __init__(self, fn=toy_scenario) -> None:
        self.fn, self.seeds = fn, []

    def __call__(self, config, seed):
        self.seeds.append(seed)
        return self.fn(config, seed)


def first_run(tmp_path: Path, **overrides) -> tuple[ToyConfig, ResultStore, pd.DataFrame]:
    config = ToyConfig.for_profile("smoke", seeds=(0, 1, 2, 3), **overrides)
    rows = run_scenarios(toy_scenario, config, results_dir=tmp_path, progress=False)
    return config, ResultStore(config, tmp_path), rows


def rerun(config, tmp_path: Path, *, warns: str | None) -> tuple[pd.DataFrame, list[int]]:
    """Run again; return the rows and the scenarios computed anew; check the warning."""
    counting = Counting()
    if warns is None:
        rows = run_scenarios(counting, config, results_dir=tmp_path, progress=False)
    else:
        with pytest.warns(StoredResultWarning, match=warns):
            rows = run_scenarios(counting, config, results_dir=tmp_path, progress=False)
    return rows, counting.seeds


def set_aside(store: ResultStore) -> list[str]:
    return sorted(p.name.split(".rejected-")[0] for p in store.folder.glob("*.rejected-*"))


def test_intact_results_are_reused_without_recomputing(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    again, computed = rerun(config, tmp_path, warns=None)
    assert computed == [] and set_aside(store) == []
    pd.testing.assert_frame_equal(again, rows)


def test_truncated_result_file_is_set_aside_and_recomputed(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    data = store.path(1).read_bytes()
    store.path(1).write_bytes(data[: len(data) // 2])
    again, computed = rerun(config, tmp_path, warns=r"scenario-1\.parquet failed its check: unreadable")
    assert computed == [1] and set_aside(store) == ["scenario-1.parquet"]
    pd.testing.assert_frame_equal(again[VALUE_COLUMNS], rows[VALUE_COLUMNS])


def test_zero_byte_result_file_is_set_aside_and_recomputed(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    store.path(2).write_bytes(b"")
    again, computed = rerun(config, tmp_path, warns=r"scenario-2\.parquet failed its check: unreadable")
    assert computed == [2] and set_aside(store) == ["scenario-2.parquet"]
    pd.testing.assert_frame_equal(again[VALUE_COLUMNS], rows[VALUE_COLUMNS])


def test_result_file_of_another_scenario_is_set_aside(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    shutil.copyfile(store.path(2), store.path(1))
    again, computed = rerun(config, tmp_path, warns=r"scenario-1\.parquet .* holds scenarios \[2\], not 1")
    assert computed == [1] and again["scenario"].unique().tolist() == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(again[VALUE_COLUMNS], rows[VALUE_COLUMNS])


def test_result_file_of_another_config_is_set_aside(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    other, other_store, _ = first_run(tmp_path, lr=0.2)
    shutil.copyfile(other_store.path(3), store.path(3))
    again, computed = rerun(config, tmp_path, warns=rf"records config_hash='{other_store.config_hash}'")
    assert computed == [3]
    pd.testing.assert_frame_equal(again[VALUE_COLUMNS], rows[VALUE_COLUMNS])


def test_edited_value_is_set_aside_and_recomputed(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    table = pq.read_table(store.path(0))  # edit one value, keep the provenance record
    frame = table.to_pandas()
    frame.loc[0, "value"] += 1.0
    edited = pq.read_table(store.path(0)).from_pandas(frame, preserve_index=False)
    pq.write_table(edited.replace_schema_metadata(table.schema.metadata), store.path(0))
    again, computed = rerun(config, tmp_path, warns=r"rows of scenario 0 do not match their checksum")
    assert computed == [0]
    pd.testing.assert_frame_equal(again[VALUE_COLUMNS], rows[VALUE_COLUMNS])


def test_result_without_provenance_record_is_set_aside(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    pd.read_parquet(store.path(3)).to_parquet(store.path(3), index=False)  # a plain parquet file
    again, computed = rerun(config, tmp_path, warns=r"scenario-3\.parquet failed its check: it has no provenance")
    assert computed == [3]
    pd.testing.assert_frame_equal(again[VALUE_COLUMNS], rows[VALUE_COLUMNS])


def test_set_aside_files_are_kept_and_named_uniquely(tmp_path: Path) -> None:
    config, store, _ = first_run(tmp_path)
    for _ in range(2):
        store.path(1).write_bytes(b"garbage")
        rerun(config, tmp_path, warns="unreadable")
    kept = sorted(store.folder.glob("scenario-1.parquet.rejected-*"))
    assert len(kept) == 2 and all(p.read_bytes() == b"garbage" for p in kept)


def test_is_done_does_not_set_anything_aside(tmp_path: Path) -> None:
    _, store, _ = first_run(tmp_path)
    store.path(1).write_bytes(b"")
    assert store.is_done(0) and not store.is_done(1) and not store.is_done(9)
    assert set_aside(store) == [] and store.path(1).exists()


def test_replaced_data_file_gets_a_new_results_folder(tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("1.5")
    config = ToyFileConfig.for_profile("smoke", data_path=str(data))
    first = run_scenarios(toy_file_scenario, config, results_dir=tmp_path / "r", progress=False)
    old_hash = config.content_hash()
    time.sleep(0.01)
    data.write_text("2.5")  # same path, new content
    assert config.content_hash() != old_hash
    counting = Counting(toy_file_scenario)
    second = run_scenarios(counting, config, results_dir=tmp_path / "r", progress=False)
    assert counting.seeds == list(config.seeds)
    np.testing.assert_allclose(second["value"], first["value"] + 1.0)
    assert sorted(p.name for p in (tmp_path / "r" / "toy_file").iterdir()) == sorted(
        [old_hash, config.content_hash()])


def test_same_data_at_another_path_finds_the_stored_results(tmp_path: Path) -> None:
    (tmp_path / "clone-a").mkdir()
    (tmp_path / "clone-b").mkdir()
    for clone in ("clone-a", "clone-b"):
        (tmp_path / clone / "data.txt").write_text("0.25")
    a = ToyFileConfig.for_profile("smoke", data_path=str(tmp_path / "clone-a" / "data.txt"))
    b = ToyFileConfig.for_profile("smoke", data_path=str(tmp_path / "clone-b" / "data.txt"))
    assert a.content_hash() == b.content_hash()
    run_scenarios(toy_file_scenario, a, results_dir=tmp_path / "r", progress=False)
    counting = Counting(toy_file_scenario)
    run_scenarios(counting, b, results_dir=tmp_path / "r", progress=False)
    assert counting.seeds == []


def test_missing_data_file_names_the_path(tmp_path: Path) -> None:
    config = ToyFileConfig.for_profile("smoke", data_path=str(tmp_path / "gone.csv"))
    with pytest.raises(FileNotFoundError, match=r"gone\.csv' does not exist"):
        run_scenarios(toy_file_scenario, config, results_dir=tmp_path, progress=False)


def test_stale_result_from_other_data_is_set_aside(tmp_path: Path) -> None:
    """A file moved into the folder of the current data (say by hand) still records the data
    it was computed from."""
    data = tmp_path / "data.txt"
    data.write_text("1.0")
    config = ToyFileConfig.for_profile("smoke", data_path=str(data))
    run_scenarios(toy_file_scenario, config, results_dir=tmp_path, progress=False)
    old = ResultStore(config, tmp_path)
    data.write_text("3.0")
    new = ResultStore(config, tmp_path)
    run_scenarios(toy_file_scenario, config, results_dir=tmp_path, progress=False)
    shutil.copyfile(old.path(0), new.path(0))
    with pytest.warns(StoredResultWarning, match="records config_hash"):
        rows = run_scenarios(toy_file_scenario, config, results_dir=tmp_path, progress=False)
    assert rows["value"].min() > 2.0


def test_compacted_run_reads_as_the_same_table(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    store.compact()
    assert sorted(p.name for p in store.folder.iterdir()) == ["config.json", "results.parquet"]
    again, computed = rerun(config, tmp_path, warns=None)
    assert computed == []
    pd.testing.assert_frame_equal(again, rows)
    times = recorded_run_times(tmp_path)
    assert times["scenarios"].tolist() == [4]


def test_compacting_an_unfinished_run_names_the_missing_scenarios(tmp_path: Path) -> None:
    config = ToyConfig.for_profile("smoke", seeds=(0, 1, 2, 3))
    run_scenarios(toy_scenario, config, seeds=[0, 2], results_dir=tmp_path, progress=False)
    with pytest.raises(RuntimeError, match=r"scenarios \[1, 3\] \(2 in all\) are not finished"):
        ResultStore(config, tmp_path).compact()


def test_partial_compaction_checkpoints_the_finished_scenarios_and_the_run_resumes(
        tmp_path: Path) -> None:
    config = ToyConfig.for_profile("smoke", seeds=(0, 1, 2, 3))
    run_scenarios(toy_scenario, config, seeds=[0, 2], results_dir=tmp_path, progress=False)
    store = ResultStore(config, tmp_path)
    store.compact(partial=True)
    assert sorted(p.name for p in store.folder.iterdir()) == ["config.json", "results.parquet"]
    assert sorted(store.load()) == [0, 2]
    rows, computed = rerun(config, tmp_path, warns=None)
    assert computed == [1, 3]
    store.compact()
    assert sorted(p.name for p in store.folder.iterdir()) == ["config.json", "results.parquet"]
    _, _, expected = first_run(tmp_path / "fresh")
    pd.testing.assert_frame_equal(store.read()[VALUE_COLUMNS], expected[VALUE_COLUMNS])


def test_a_scenario_another_process_stored_meanwhile_is_not_computed_again(
        tmp_path: Path) -> None:
    config = ToyConfig.for_profile("smoke", seeds=(0, 1, 2, 3))
    other = ResultStore(config, tmp_path)

    def scenario_and_a_neighbour(config, seed):  # the other process stores scenario 2
        rows = toy_scenario(config, seed)
        if seed == 1:
            other.write(2, run_one(toy_scenario, config, 2, 1))
        return rows

    counting = Counting(scenario_and_a_neighbour)
    rows = run_scenarios(counting, config, results_dir=tmp_path, progress=False)
    assert counting.seeds == [0, 1, 3]
    _, _, expected = first_run(tmp_path / "alone")
    pd.testing.assert_frame_equal(rows[VALUE_COLUMNS], expected[VALUE_COLUMNS])


def test_partial_compaction_of_a_run_with_nothing_finished_says_so(tmp_path: Path) -> None:
    config = ToyConfig.for_profile("smoke", seeds=(0, 1))
    with pytest.raises(RuntimeError, match="no scenario is finished yet"):
        ResultStore(config, tmp_path).compact(partial=True)


def test_compacted_run_with_an_edited_scenario_recomputes_only_that_one(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    store.compact()
    table = pq.read_table(store.compact_path)
    frame = table.to_pandas()
    frame.loc[frame["scenario"] == 2, "value"] *= 2
    edited = table.from_pandas(frame, preserve_index=False)
    pq.write_table(edited.replace_schema_metadata(table.schema.metadata), store.compact_path)
    again, computed = rerun(config, tmp_path, warns=r"results\.parquet failed its check: the rows of scenario 2")
    assert computed == [2] and set_aside(store) == ["results.parquet"]
    pd.testing.assert_frame_equal(again[VALUE_COLUMNS], rows[VALUE_COLUMNS])


def test_truncated_compacted_run_is_set_aside_and_recomputed(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    store.compact()
    data = store.compact_path.read_bytes()
    store.compact_path.write_bytes(data[:100])
    again, computed = rerun(config, tmp_path, warns=r"results\.parquet failed its check: unreadable")
    assert computed == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(again[VALUE_COLUMNS], rows[VALUE_COLUMNS])


def test_compacted_run_of_another_config_is_set_aside(tmp_path: Path) -> None:
    config, store, rows = first_run(tmp_path)
    _, other, _ = first_run(tmp_path, lr=0.2)
    other.compact()
    shutil.copyfile(other.compact_path, store.compact_path)
    again, computed = rerun(config, tmp_path, warns=r"results\.parquet failed its check: it records config_hash")
    assert computed == []  # its own per-scenario files are still there and intact
    pd.testing.assert_frame_equal(again[VALUE_COLUMNS], rows[VALUE_COLUMNS])


KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from engine_toy import ToyConfig, toy_scenario
from assd_repro.experiments import run_scenarios
config = ToyConfig.for_profile("smoke", seeds=tuple(range({n_seeds})), sleep_s=0.05)
print("running", flush=True)
run_scenarios(toy_scenario, config, results_dir={results!r}, progress=False)
"""
KILL_SEEDS = 30


def _finished_files(folder: Path) -> int:
    return len(list(folder.glob("scenario-*.parquet"))) if folder.exists() else 0


def test_kill_at_ten_seeded_random_points_then_rerun_gives_the_same_table(tmp_path: Path) -> None:
    """kill -9 at 10 random moments (seeded) of a grid, each restart resuming the last; the final
    rerun gives the table of an uninterrupted run.

    Each kill comes a seeded random time (0 to one scenario's ~0.06 s) after the restarted
    process has stored its first new scenario, so every restart makes progress and the kills
    land at random points of the compute/write cycle whatever the machine's load.
    """
    config = ToyConfig.for_profile("smoke", seeds=tuple(range(KILL_SEEDS)), sleep_s=0.05)
    script = KILL_SCRIPT.format(
        tests=str(REPO / "tests" / "repro"), results=str(tmp_path / "killed"), n_seeds=KILL_SEEDS
    )
    store = ResultStore(config, tmp_path / "killed")
    rng = np.random.default_rng(10)
    progress = []
    for delay in rng.uniform(0.0, 0.06, size=10):
        before = _finished_files(store.folder)
        proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline() == b"running\n"
        deadline = time.monotonic() + 120.0
        while _finished_files(store.folder) == before and proc.poll() is None:
            assert time.monotonic() < deadline, "the restarted run stored nothing in 120 s"
            time.sleep(0.002)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for path in store.folder.glob("scenario-*.parquet"):
            assert store.is_done(int(path.stem.split("-")[1])), path  # no partial file ever
        progress.append(len(store.load(set_aside=False)))
    assert progress == sorted(set(progress)), progress  # every restart resumed and added
    assert progress[-1] < len(config.seeds), progress  # killed midway
    with warnings.catch_warnings():
        warnings.simplefilter("error", StoredResultWarning)  # nothing partial was ever stored
        resumed = run_scenarios(toy_scenario, config, results_dir=tmp_path / "killed", progress=False)
    clean = run_scenarios(toy_scenario, config, results_dir=tmp_path / "clean", progress=False)
    pd.testing.assert_frame_equal(resumed[VALUE_COLUMNS], clean[VALUE_COLUMNS])

