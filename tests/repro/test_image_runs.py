"""Stored image runs: baselines' weights kept beside the rows, and the checks that recompute one
scenario's unlearning and one training epoch from them (no full training)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from conftest import require_cifar10_archive

from assd_repro.experiments import (
    alpha_plateau,
    benchmark,
    image_pipeline,
    image_runs,
    lambda_study,
    stored_runs,
)
from assd_repro.experiments.alpha_plateau import AlphaPlateauConfig
from assd_repro.experiments.benchmark import BenchmarkConfig
from assd_repro.experiments.image_pipeline import BOOK_CIFAR10_SETUP
from assd_repro.experiments.lambda_study import LambdaStudyConfig
from assd_repro.models import build_model


def smoke_image_run() -> stored_runs.StoredRun:
    return stored_runs.StoredRun(
        "smoke-images", "smoke image run", "MNIST sample",
        lambda: BenchmarkConfig.for_profile("smoke", kind="fullclass"),
        benchmark.benchmark_scenario, benchmark.run_benchmark, 2,
        record=image_runs.image_run_record, check=image_runs.verify_image_run)


@pytest.fixture(scope="module")
def completed(tmp_path_factory) -> Path:
    """The smoke image run, completed once (seconds) in a results folder of its own."""
    root = tmp_path_factory.mktemp("image-run")
    with pytest.MonkeyPatch.context() as patch:
        run = smoke_image_run()
        patch.setattr(stored_runs, "STORED_RUNS", (*stored_runs.STORED_RUNS, run))
        stored_runs.complete_run(run, results_dir=root, progress=False)
    return root


@pytest.fixture
def stored(completed: Path, monkeypatch, tmp_path: Path):
    """A copy of the completed run that a test may alter."""
    run = smoke_image_run()
    monkeypatch.setattr(stored_runs, "STORED_RUNS", (*stored_runs.STORED_RUNS, run))
    monkeypatch.setattr(image_runs, "_ONE_EPOCH", {})  # each test retrains its epoch
    root = tmp_path / "results"
    shutil.copytree(completed, root, ignore=shutil.ignore_patterns("cache"))
    return run, root


def entry_of(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text())["runs"]["smoke-images"]


def test_a_completed_image_run_keeps_its_baselines_and_one_epochs_checksum(stored) -> None:
    run, root = stored
    entry = entry_of(root)
    config = run.config()
    kept = [target for _, target in image_runs.baseline_files(config, root)]
    assert len(kept) == 2 * len(config.setups)  # weights and settings of each baseline
    assert sorted(entry["weights"]) == sorted(p.name for p in kept)
    assert all(p.is_file() for p in kept)
    assert len(entry["one_epoch"]["sha256"]) == 64
    assert 0 <= entry["one_epoch"]["train_accuracy"] <= 100
    assert entry["dataset"]["name"] == "MNIST sample" and entry["dataset"]["file"] is None


def test_verify_recomputes_unlearning_and_one_epoch_from_the_kept_weights(stored) -> None:
    _, root = stored
    report = stored_runs.verify_run("smoke-images", root)
    assert report["exact"] and report["scenario"] == 0 and report["checked"] == "target 3"
    assert report["n_scenarios"] == 2


def test_runs_on_the_same_baseline_retrain_its_epoch_once(stored, monkeypatch) -> None:
    _, root = stored
    calls = []
    real = image_runs.one_epoch_record
    monkeypatch.setattr(image_runs, "one_epoch_record",
                        lambda setup, task: calls.append(setup) or real(setup, task))
    for _ in range(2):
        stored_runs.verify_run("smoke-images", root)
    assert len(calls) == 1


def test_verify_fails_when_the_unlearning_code_computes_other_values(stored, monkeypatch
                                                                     ) -> None:
    _, root = stored
    real = benchmark.evaluate
    monkeypatch.setattr(benchmark, "evaluate",
                        lambda model, task: {**real(model, task), "Df": -1.0})
    with pytest.raises(AssertionError, match="recomputed from the kept baseline, differs"):
        stored_runs.verify_run("smoke-images", root)


def test_verify_fails_when_one_epoch_of_training_gives_other_weights(stored, monkeypatch
                                                                     ) -> None:
    _, root = stored
    real = image_runs.one_epoch_record
    monkeypatch.setattr(image_runs, "one_epoch_record",
                        lambda setup, task: {**real(setup, task), "sha256": "0" * 64})
    with pytest.raises(AssertionError, match="no longer gives the recorded weights"):
        stored_runs.verify_run("smoke-images", root)


def test_verify_fails_for_altered_or_missing_weights(stored) -> None:
    run, root = stored
    weights = [t for _, t in image_runs.baseline_files(run.config(), root)
               if t.suffix == ".safetensors"][0]
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(AssertionError, match="not the file recorded in the manifest"):
        stored_runs.verify_run("smoke-images", root)
    weights.unlink()
    with pytest.raises(AssertionError, match="weights .* are missing"):
        stored_runs.verify_run("smoke-images", root)


def test_verify_on_another_cpu_compares_within_the_tolerance(stored, monkeypatch) -> None:
    _, root = stored
    monkeypatch.setattr(stored_runs, "_cpu", lambda: "another CPU (2 cores)")
    real = image_runs.one_epoch_record
    monkeypatch.setattr(image_runs, "one_epoch_record",  # other last bits, same accuracy
                        lambda setup, task: {**real(setup, task), "sha256": "0" * 64})
    report = stored_runs.verify_run("smoke-images", root)
    assert not report["exact"]
    real_evaluate = benchmark.evaluate
    monkeypatch.setattr(benchmark, "evaluate",
                        lambda model, task: {**(m := real_evaluate(model, task)),
                                             "Dr": m["Dr"] + 6.0})
    with pytest.raises(AssertionError, match="more than the 5 allowed across CPU types"):
        stored_runs.verify_run("smoke-images", root)


#: smoke configs, made smaller still: each check trains its baselines
STUDIES = {
    "smoke-plateau": (AlphaPlateauConfig, {"tasks": (("fullclass", "3"),), "n_alpha": 3},
                      alpha_plateau.alpha_plateau_scenario, alpha_plateau.run_alpha_plateau,
                      "task fullclass 3"),
    "smoke-lambda": (LambdaStudyConfig, {"n_trials": 3}, lambda_study.lambda_study_scenario,
                     lambda_study.run_lambda_study_stored, "trials "),
}


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_plateau_and_lambda_study_runs_are_checked_from_their_kept_baselines(
        name: str, monkeypatch, tmp_path: Path) -> None:
    config_class, overrides, scenario, run_fn, checked = STUDIES[name]
    run = stored_runs.StoredRun(name, "smoke study", "MNIST sample",
                                lambda: config_class.for_profile("smoke", **overrides),
                                scenario, run_fn, 1,
                                record=image_runs.image_run_record,
                                check=image_runs.verify_image_run)
    monkeypatch.setattr(stored_runs, "STORED_RUNS", (*stored_runs.STORED_RUNS, run))
    monkeypatch.setattr(image_runs, "_ONE_EPOCH", {})
    stored_runs.complete_run(run, results_dir=tmp_path, progress=False)
    shutil.rmtree(tmp_path / "cache")  # the check must use the kept weights only
    report = stored_runs.verify_run(name, tmp_path)
    assert report["exact"] and report["checked"].startswith(checked)
    real = image_pipeline.evaluate  # DampeningTask.unlearn evaluates with it
    monkeypatch.setattr(image_pipeline, "evaluate",
                        lambda model, task: {**real(model, task), "MIA": 101.0})
    with pytest.raises(AssertionError, match="recomputed from the kept baseline, differs"):
        stored_runs.verify_run(name, tmp_path)


def test_image_run_record_refuses_a_run_whose_baselines_are_not_cached(tmp_path: Path) -> None:
    config = BenchmarkConfig.for_profile("smoke", kind="fullclass")
    with pytest.raises(FileNotFoundError, match="baseline file .* is missing"):
        image_runs.image_run_record(config, tmp_path)


def test_the_cifar10_runs_memorise_and_use_the_stated_scale() -> None:
    for name in ("cifar10-fullclass-resnet18", "cifar10-subclass-resnet18",
                 "cifar10-random-resnet18"):
        config = stored_runs.find_run(name).config()
        (setup,) = config.setups
        assert setup == BOOK_CIFAR10_SETUP and config.seeds == (0, 1, 2)
        assert setup.dataset == "cifar10_jpeg" and setup.max_per_class == 500
    random = stored_runs.find_run("cifar10-random-resnet18").config()
    assert random.targets == (0.00165, 0.01)  # the paper's share and 1 %


@pytest.mark.xdist_group("cifar10-images")  # beside the stored runs' checks: one data load
def test_the_stored_cifar10_baselines_memorise_their_training_images() -> None:
    """Every kept CIFAR-10 baseline has train accuracy >= 95 % (book: Method, "CIFAR-10 at CPU
    scale"): the membership-inference attack needs a model that memorised its training set."""
    from torch.utils.data import DataLoader

    from assd_core import accuracy
    from assd_repro.training import load_checkpoint

    require_cifar10_archive("the baselines' memorisation")
    results = Path(__file__).resolve().parents[2] / "results"
    entries = stored_runs.read_manifest(results)["runs"]
    checked: dict[str, float] = {}
    for name, entry in sorted(entries.items()):
        if entry["dataset"].get("file") != "cifar10-jpeg.tar.gz":
            continue
        config = stored_runs.find_run(name).config(results)
        for (_, kept), (_, task) in zip(image_runs.baseline_files(config, results)[1::2],
                                         image_runs._first_tasks(config), strict=True):
            if kept.stem not in checked:
                model, _ = load_checkpoint(kept.with_suffix(""))
                checked[kept.stem] = accuracy(model, DataLoader(task.full_train,
                                                                batch_size=500))
    assert len(checked) >= 2, checked  # ResNet18 on the classes and on the groups, ...
    assert min(checked.values()) >= 95.0, checked


def test_shared_evaluations_forward_each_model_once_per_task(monkeypatch) -> None:
    setup = image_pipeline.SMOKE_IMAGE_SETUP
    data = image_pipeline.load_data(setup)
    task = image_pipeline.make_task(data, "fullclass", "3")
    other = image_pipeline.make_task(data, "fullclass", "5")
    spec = image_pipeline.model_spec(setup, task.n_classes, task.full_train[0][0].shape[0])
    model = build_model(spec).eval()
    calls = []
    real = image_pipeline._evaluate
    monkeypatch.setattr(image_pipeline, "_evaluate",
                        lambda *args: calls.append(args[1].name) or real(*args))
    plain = image_pipeline.evaluate(model, task)
    memo: dict = {}
    with image_pipeline.shared_evaluations(memo):
        first = image_pipeline.evaluate(model, task)
        again = image_pipeline.evaluate(model, task)  # same weights, same task: no forward
        image_pipeline.evaluate(model, other)  # another task: forwarded
        with torch.no_grad():
            next(model.parameters()).add_(1.0)
        image_pipeline.evaluate(model, task)  # changed weights: forwarded
    assert first == again == plain and again is not memo[next(iter(memo))]
    assert calls == [task.name, task.name, other.name, task.name] and len(memo) == 3
    image_pipeline.evaluate(model, task)  # outside the block: no memo
    assert len(calls) == 5 and len(memo) == 3


def test_a_clone_without_the_cifar10_archive_skips_the_image_checks_naming_it(
        tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ASSD_DATA", str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match=r"(?s)cifar10-fullclass is checked on the "
                       r"CIFAR-10 JPEG archive: .*cifar10-jpeg\.tar\.gz"):
        require_cifar10_archive("cifar10-fullclass")
