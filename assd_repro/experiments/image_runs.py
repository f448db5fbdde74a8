"""Stored image runs: their baselines' weights beside the rows, and the checks ``make test`` runs.

An image scenario trains models for minutes, so the check of a stored supply-chain run
(recompute a whole scenario) would cost too much here. An image run instead keeps, when it
completes, the weights of its baselines (the models trained on all of D, one per setup) under
``results/weights/<settings hash>.{safetensors,json}`` (safetensors and the training
settings; a few MB at the CPU widths), and records in its manifest entry:

* ``weights``: the files kept, with their SHA-256;
* ``one_epoch``: the SHA-256 of the first setup's baseline weights after its first training
  epoch (and that epoch's train accuracy), retrained from its initial weights.

:func:`verify_image_run` then checks, without a full training:

1. the kept weights' files are those recorded (SHA-256);
2. one scenario's unlearning and evaluation, recomputed from the kept baseline (baseline, SSD
   and ASSD on the first target; the importances are recomputed), give the stored rows;
3. one epoch of the first baseline's training, retrained now, gives the recorded weights, so
   that a change to the model, the data or the training code is caught too.

Bit for bit on the CPU type that computed the run; on another CPU type, float kernels differ
in their last bits (book: Reproducing), so steps 2 and 3 compare accuracies within a tolerance.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from assd_repro.data import ForgetTask
from assd_repro.data.folders import find_cifar10_jpeg
from assd_repro.experiments.benchmark import BenchmarkConfig, benchmark_scenario
from assd_repro.experiments.engine.cache import settings_hash
from assd_repro.experiments.engine.config import file_sha256
from assd_repro.experiments.engine.runner import run_one
from assd_repro.experiments.image_pipeline import (
    ImageSetup,
    baseline_settings,
    load_data,
    make_task,
    model_spec,
)
from assd_repro.models import build_model
from assd_repro.training import ssd_image_recipe, train

__all__ = [
    "WEIGHTS",
    "VERIFY_METHODS",
    "baseline_files",
    "image_dataset_record",
    "image_run_record",
    "one_epoch_record",
    "verify_image_run",
    "weights_sha256",
]

#: folder of ``results/`` that keeps the image runs' baseline weights
WEIGHTS = "weights"
#: the methods whose rows :func:`verify_image_run` recomputes (no training needed)
VERIFY_METHODS = ("baseline", "ssd", "assd")
#: metrics of the benchmark rows that measure time (differ between computations)
_TIMING_METRICS = ("seconds", "importance_s")
#: metrics compared within the cross-CPU tolerance (percent)
_SCORED_METRICS = ("Dr", "Df", "MIA")


def _first_tasks(config: BenchmarkConfig) -> list[tuple[ImageSetup, ForgetTask]]:
    """Each setup with its task on the first target and first seed (the baseline is the same
    for every target and seed of a setup)."""
    out = []
    for setup in config.setups:
        task = make_task(load_data(setup), config.kind, config.targets[0],  # type: ignore[arg-type]
                         seed=config.seeds[0])
        out.append((setup, task))
    return out


def baseline_files(config: BenchmarkConfig, results_dir: str | Path = "results"
                   ) -> list[tuple[Path, Path]]:
    """``(cache file, kept file)`` of every baseline file of ``config``: the artefact cache's
    ``cache/models/<hash>.{json,safetensors}`` and its copy in ``results/weights/``."""
    root = Path(results_dir)
    pairs = []
    for setup, task in _first_tasks(config):
        name = settings_hash(baseline_settings(setup, task))
        for suffix in (".json", ".safetensors"):
            pairs.append((root / "cache" / "models" / f"{name}{suffix}",
                          root / WEIGHTS / f"{name}{suffix}"))
    return pairs


def weights_sha256(model: torch.nn.Module) -> str:
    """SHA-256 over the names, shapes, dtypes and bytes of ``model``'s state dict, in order."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        t = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}:{tuple(tensor.shape)}:{t.dtype}".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def one_epoch_record(setup: ImageSetup, task: ForgetTask) -> dict[str, Any]:
    """The first setup's baseline after one epoch of its training, retrained now from its
    initial weights (the first epoch of the recipe does not depend on the number of epochs):
    ``{"model", "sha256", "train_accuracy", "train_loss"}``."""
    images = task.full_train[0][0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setup.train_seed)
        model = build_model(model_spec(setup, task.n_classes, images.shape[0]))
    recipe = ssd_image_recipe(1, (), setup.lr, batch_size=setup.batch_size)
    history = train(model, task.full_train, recipe, seed=setup.train_seed, progress=False,
                    autocast=getattr(torch, setup.autocast) if setup.autocast else None,
                    channels_last=setup.channels_last)
    epoch = history.epochs[0]
    return {"model": setup.model, "sha256": weights_sha256(model),
            "train_accuracy": round(epoch.train_accuracy, 6),
            "train_loss": round(epoch.train_loss, 6)}


def image_dataset_record(setup: ImageSetup) -> dict[str, Any]:
    """The manifest's ``dataset`` of an image run: the CIFAR-10 JPEG archive's name and
    SHA-256 (other data sets: their name only)."""
    if setup.dataset == "cifar10_jpeg":
        path = find_cifar10_jpeg(setup.data_root)
        if path.is_file():
            return {"file": path.name, "sha256": file_sha256(path)}
    return {"file": None, "sha256": None}


def image_run_record(config: BenchmarkConfig, results_dir: str | Path = "results"
                     ) -> dict[str, Any]:
    """What an image run adds to its manifest entry when it completes, after copying its
    baselines' files from the artefact cache to ``results/weights/``: ``weights`` (file name
    -> SHA-256), ``one_epoch`` (:func:`one_epoch_record` of the first setup) and the data
    file (:func:`image_dataset_record`).

    Raises:
        FileNotFoundError: a baseline is not in the artefact cache (the run did not train it
            there: run it with its results folder as the cache root).
    """
    kept = {}
    for cached, target in baseline_files(config, results_dir):
        if not cached.is_file():
            raise FileNotFoundError(f"baseline file {cached} is missing: complete the run "
                                    "with the same results folder first")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, target)
        kept[target.name] = file_sha256(target)
    setup, task = _first_tasks(config)[0]
    return {"weights": kept, "one_epoch": one_epoch_record(setup, task),
            "data_file": image_dataset_record(setup)}


def _compare(old: pd.DataFrame, new: pd.DataFrame, exact: bool, tolerance: float) -> None:
    keys = [c for c in old.columns if c not in ("value", "experiment", "config_hash", "wall_s")]
    old = old.sort_values(keys).reset_index(drop=True)
    new = new.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(new[keys], old[keys], check_dtype=False)
    if exact:
        pd.testing.assert_series_equal(new["value"], old["value"], check_exact=True)
        return
    scored = old["metric"].isin(_SCORED_METRICS)
    gap = float((new["value"] - old["value"])[scored].abs().max())
    assert gap <= tolerance, (f"a metric differs by {gap:.2f} points, more than the "
                              f"{tolerance:g} allowed across CPU types")


def verify_image_run(name: str, config: BenchmarkConfig, entry: Mapping[str, Any],
                     rows: pd.DataFrame, results_dir: str | Path, *, exact: bool,
                     tolerance: float) -> dict[str, Any]:
    """The checks of the module docstring on stored image run ``name``.

    Args:
        name: the run's name (for messages).
        config: its config, as the current code builds it.
        entry: its manifest entry.
        rows: its stored rows.
        results_dir: the results root holding ``weights/``.
        exact: compare bit for bit (the CPU type that computed the run).
        tolerance: largest accuracy difference (points) otherwise.

    Returns:
        ``{"scenario", "target", "recompute_s", "one_epoch_s"}``.

    Raises:
        AssertionError: a check failed (the message says which).
    """
    fix = f"regenerate it: python -m assd_repro.experiments.stored_runs run {name}"
    recorded = dict(entry.get("weights", {}))
    pairs = baseline_files(config, results_dir)
    assert recorded and sorted(recorded) == sorted(t.name for _, t in pairs), (
        f"{name}: the manifest's weights {sorted(recorded)} are not the config's baselines "
        f"{sorted(t.name for _, t in pairs)}; {fix}")
    for _, kept in pairs:
        assert kept.is_file(), f"{name}: baseline weights {kept} are missing; {fix}"
        assert file_sha256(kept) == recorded[kept.name], (
            f"{name}: {kept} is not the file recorded in the manifest (SHA-256); {fix}")
    seed, target = config.seeds[0], config.targets[0]
    small = dataclasses.replace(config, targets=(target,), methods=VERIFY_METHODS,
                                ssd_alpha=config.ssd_alpha)
    with tempfile.TemporaryDirectory(prefix="assd-verify-") as tmp:
        models = Path(tmp) / "cache" / "models"
        models.mkdir(parents=True)
        for _, kept in pairs:
            shutil.copyfile(kept, models / kept.name)
        before = sorted(p.name for p in models.iterdir())
        begin = time.perf_counter()
        fresh = run_one(functools.partial(benchmark_scenario, cache_root=tmp), small, seed,
                        threads=1)
        recompute_s = time.perf_counter() - begin
        assert sorted(p.name for p in models.iterdir()) == before, (
            f"{name}: the check trained a baseline instead of loading the kept one; {fix}")
    old = rows[(rows["scenario"] == seed) & (rows["target"] == str(target))
               & rows["method"].isin(VERIFY_METHODS) & ~rows["metric"].isin(_TIMING_METRICS)]
    new = fresh[~fresh["metric"].isin(_TIMING_METRICS)]
    try:
        _compare(old.drop(columns=["scenario"]), new.drop(columns=["scenario"]), exact,
                 tolerance)
    except AssertionError as error:
        raise AssertionError(f"{name}: scenario {seed}, target {target}, recomputed from the "
                             f"kept baseline, differs from the stored rows; {fix}\n{error}"
                             ) from None
    setup, task = _first_tasks(config)[0]
    begin = time.perf_counter()
    again = one_epoch_record(setup, task)
    one_epoch_s = time.perf_counter() - begin
    stored = entry["one_epoch"]
    if exact:
        assert again["sha256"] == stored["sha256"], (
            f"{name}: one epoch of the {setup.model} baseline's training no longer gives the "
            f"recorded weights (SHA-256 {again['sha256'][:12]}… instead of "
            f"{stored['sha256'][:12]}…): the model, data or training code changed; {fix}")
    else:
        gap = abs(again["train_accuracy"] - stored["train_accuracy"])
        assert math.isfinite(gap) and gap <= tolerance, (
            f"{name}: one epoch of the {setup.model} baseline's training reaches "
            f"{again['train_accuracy']:.2f} % train accuracy, the stored run "
            f"{stored['train_accuracy']:.2f} % (more than {tolerance:g} points apart); {fix}")
    return {"scenario": seed, "target": str(target), "recompute_s": round(recompute_s, 2),
            "one_epoch_s": round(one_epoch_s, 2)}
