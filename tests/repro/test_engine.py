"""Experiment engine: config hashes and profiles, atomic results, resumption, executors."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO
from engine_toy import ToyConfig, toy_scenario

from assd_repro.experiments import (
    ArtifactCache,
    ResultStore,
    recorded_run_times,
    run_scenarios,
    settings_hash,
)

VALUE_COLUMNS = ["experiment", "config_hash", "scenario", "method", "metric", "value"]


def test_hash_is_stable_and_content_based() -> None:
    a = ToyConfig.for_profile("smoke")
    # The hashed text, spelt out: a change here means every stored result is recomputed.
    text = '{"config":{"lr":0.1,"n":64,"seeds":[0,1,2],"sleep_s":0.0,"steps":20},"experiment":"toy"}'
    assert a.content_hash() == hashlib.sha256(text.encode()).hexdigest()[:12]
    assert ToyConfig(profile="book", n=64, steps=20, seeds=(0, 1, 2)).content_hash() == a.content_hash()
    assert ToyConfig.for_profile("smoke", lr=0.2).content_hash() != a.content_hash()
    assert ToyConfig.for_profile("smoke", seeds=[0, 1, 2]) == a  # lists become tuples


def test_profiles_and_bad_values() -> None:
    assert ToyConfig.for_profile("paper").n == 4096
    with pytest.raises(ValueError, match="unknown profile 'huge'; choose one of smoke, book, paper"):
        ToyConfig.for_profile("huge")
    with pytest.raises(ValueError, match=r"has no field\(s\) \['epochs'\]"):
        ToyConfig.for_profile("smoke", epochs=3)
    with pytest.raises(ValueError, match="n=1 must be at least 2"):
        ToyConfig.for_profile("smoke", n=1)
    with pytest.raises(ValueError, match="distinct non-negative"):
        ToyConfig.for_profile("smoke", seeds=(1, 1))
    with pytest.raises(ValueError, match="seeds is empty"):
        ToyConfig.for_profile("smoke", seeds=())


def test_run_writes_one_file_per_scenario_and_skips_finished(tmp_path: Path) -> None:
    config = ToyConfig.for_profile("smoke")
    rows = run_scenarios(toy_scenario, config, results_dir=tmp_path, progress=False)
    assert list(rows.columns[:3]) == ["experiment", "config_hash", "scenario"]
    assert len(rows) == 2 * len(config.seeds) and (rows["wall_s"] > 0).all()
    store = ResultStore(config, tmp_path)
    assert sorted(p.name for p in store.folder.iterdir()) == [
        "config.json", "scenario-0.parquet", "scenario-1.parquet", "scenario-2.parquet"
    ]
    mtimes = {p: p.stat().st_mtime_ns for p in store.folder.glob("*.parquet")}
    again = run_scenarios(toy_scenario, config, results_dir=tmp_path, progress=False)
    assert {p: p.stat().st_mtime_ns for p in store.folder.glob("*.parquet")} == mtimes
    pd.testing.assert_frame_equal(again, rows)


def test_recorded_run_times_sum_the_scenarios(tmp_path: Path) -> None:
    config = ToyConfig.for_profile("smoke")
    rows = run_scenarios(toy_scenario, config, results_dir=tmp_path, progress=False)
    times = recorded_run_times(tmp_path)
    assert times[["experiment", "profile", "scenarios"]].values.tolist() == [["toy", "smoke", 3]]
    assert times["compute_s"].item() == pytest.approx(rows.groupby("scenario")["wall_s"].first().sum())
    assert recorded_run_times(tmp_path / "nothing").empty


def test_same_seed_same_rows(tmp_path: Path) -> None:
    config = ToyConfig.for_profile("smoke")
    a = run_scenarios(toy_scenario, config, results_dir=tmp_path / "a", progress=False)
    b = run_scenarios(toy_scenario, config, results_dir=tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(a[VALUE_COLUMNS], b[VALUE_COLUMNS])


KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from engine_toy import ToyConfig, toy_scenario
from assd_repro.experiments import run_scenarios
config = ToyConfig.for_profile("smoke", seeds=tuple(range(6)), sleep_s=0.5)
run_scenarios(toy_scenario, config, results_dir={results!r}, progress=False)
"""


def test_killed_run_resumes_to_the_same_table(tmp_path: Path) -> None:
    config = ToyConfig.for_profile("smoke", seeds=tuple(range(6)), sleep_s=0.5)
    script = KILL_SCRIPT.format(tests=str(REPO / "tests" / "repro"), results=str(tmp_path / "killed"))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    store = ResultStore(config, tmp_path / "killed")
    deadline = time.time() + 120
    while not store.is_done(1) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = [s for s in config.seeds if store.is_done(s)]
    assert 2 <= len(finished) < 6, finished  # killed midway
    for path in store.folder.glob("*.parquet"):
        pd.read_parquet(path)  # every file that reads as finished is complete

    resumed = run_scenarios(toy_scenario, config, results_dir=tmp_path / "killed", progress=False)
    clean = run_scenarios(toy_scenario, config, results_dir=tmp_path / "clean", progress=False)
    pd.testing.assert_frame_equal(resumed[VALUE_COLUMNS], clean[VALUE_COLUMNS])


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_rows(tmp_path: Path) -> None:
    config = ToyConfig.for_profile("smoke", seeds=tuple(range(4)))
    local = run_scenarios(toy_scenario, config, results_dir=tmp_path / "local", progress=False)
    dask = run_scenarios(toy_scenario, config, results_dir=tmp_path / "dask", workers=2, progress=False)
    pd.testing.assert_frame_equal(local[VALUE_COLUMNS], dask[VALUE_COLUMNS])
    assert dask["pid"].nunique() >= 1 and os.getpid() not in set(dask["pid"])


def test_bad_executor_settings(tmp_path: Path) -> None:
    config = ToyConfig.for_profile("smoke")
    with pytest.raises(ValueError, match="workers=0"):
        run_scenarios(toy_scenario, config, results_dir=tmp_path, workers=0)
    with pytest.raises(ValueError, match="threads=0"):
        run_scenarios(toy_scenario, config, results_dir=tmp_path, threads=0)


def test_artifact_cache_trains_once(tmp_path: Path) -> None:
    import torch

    from assd_core import compute_importances
    from assd_repro.models import ModelSpec, build_model

    spec = ModelSpec.mlp(4, 3, size="2x50")
    calls = []

    def train() -> torch.nn.Module:
        calls.append(1)
        torch.manual_seed(0)
        return build_model(spec).eval()

    cache = ArtifactCache(tmp_path)
    settings = {"model": spec.to_dict(), "seed": 0}
    first = cache.model(settings, train)
    second = cache.model(settings, train)
    assert len(calls) == 1
    for (_, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b)
    data = torch.utils.data.TensorDataset(torch.randn(10, 4), torch.randint(0, 3, (10,)))
    loader = torch.utils.data.DataLoader(data, batch_size=5)
    key = {"model": settings_hash(settings), "data": "toy", "batch_size": 5}
    imp = cache.importances(key, second, lambda: compute_importances(second, loader))
    again = cache.importances(key, second, lambda: pytest.fail("should come from the cache"))
    assert all(torch.equal(imp[n], again[n]) for n in imp)
    assert not list(tmp_path.rglob("*.partial*"))


def test_result_files_get_the_umask_default_mode(tmp_path: Path) -> None:
    import os

    from assd_repro.experiments.engine.store import atomic_write_bytes

    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "a" / "result.bin", b"data")
    finally:
        os.umask(old)
    path = tmp_path / "a" / "result.bin"
    assert path.read_bytes() == b"data" and path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in path.parent.iterdir()] == ["result.bin"]
