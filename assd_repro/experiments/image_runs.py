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

Checks in one process share what they compute from the same kept weights: the retain
importances, a model's metrics on a task, the retrained epoch. Computed once by the current
code, each is as strict a check for the second run as for the first, at a fraction of the
time (the full-class, plateau and lambda-study runs all start from one baseline).

Bit for bit on the CPU type that computed the run; on another CPU type, float kernels differ
in their last bits (book: Reproducing), so steps 2 and 3 compare accuracies within a tolerance.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
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
from assd_repro.experiments.alpha_plateau import AlphaPlateauConfig
from assd_repro.experiments.benchmark import BenchmarkConfig, benchmark_scenario
from assd_repro.experiments.engine.cache import ArtifactCache, settings_hash
from assd_repro.experiments.engine.config import ExperimentConfig, file_sha256
from assd_repro.experiments.engine.runner import run_one, torch_threads
from assd_repro.experiments.image_pipeline import (
    ImageSetup,
    baseline_settings,
    image_recipe,
    load_data,
    make_task,
    metric_rows,
    model_spec,
    prepare_dampening_task,
    shared_evaluations,
    weights_sha256,
)
from assd_repro.experiments.lambda_study import LambdaStudyConfig, objective_value
from assd_repro.models import build_model
from assd_repro.training import train

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
#: :func:`one_epoch_record` per baseline settings hash, computed once per process by
#: :func:`verify_image_run` (training is deterministic for given code, data and CPU)
_ONE_EPOCH: dict[str, dict[str, Any]] = {}
#: The metrics :func:`verify_image_run` computed, per (weights, task, batch size): runs on one
#: baseline evaluate the same baseline, and the same ASSD model, on the same task
#: (:func:`~assd_repro.experiments.image_pipeline.shared_evaluations`).
_EVALUATED: dict[tuple[str, ...], dict[str, float]] = {}
#: The artefact cache every :func:`verify_image_run` of a process shares (a temporary folder,
#: removed at exit): the kept baselines are copied into it, and the retain importances that
#: the first check of a baseline computes are loaded by the next.
_CHECK_ROOT: list[Path] = []


def _check_root() -> Path:
    if not _CHECK_ROOT:
        root = Path(tempfile.mkdtemp(prefix="assd-verify-"))
        atexit.register(shutil.rmtree, root, True)
        _CHECK_ROOT.append(root)
    return _CHECK_ROOT[0]


def _first_tasks(config: ExperimentConfig) -> list[tuple[ImageSetup, ForgetTask]]:
    """One ``(setup, task)`` per baseline of an image config (the baseline is the same for
    every target and seed of a setup with the same targets): a benchmark's setups on its first
    target and seed; the plateau's setup for each kind of task; the lambda study's setup."""
    if isinstance(config, BenchmarkConfig):
        return [(s, make_task(load_data(s), config.kind, config.targets[0],  # type: ignore[arg-type]
                              seed=config.seeds[0])) for s in config.setups]
    if isinstance(config, AlphaPlateauConfig):
        out, seen = [], set()
        for kind, target in config.tasks:
            base = config.setup_for(kind)
            setup = dataclasses.replace(base, train_seed=base.train_seed + config.seeds[0])
            task = make_task(load_data(setup), kind, target,  # type: ignore[arg-type]
                             seed=config.seeds[0])
            key = settings_hash(baseline_settings(setup, task))
            if key not in seen:
                seen.add(key)
                out.append((setup, task))
        return out
    if isinstance(config, LambdaStudyConfig):
        return [(config.setup, make_task(load_data(config.setup), "fullclass",
                                         config.forget_class))]
    raise TypeError(f"{type(config).__name__} is not an image experiment's config")


def baseline_files(config: ExperimentConfig, results_dir: str | Path = "results"
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


def one_epoch_record(setup: ImageSetup, task: ForgetTask) -> dict[str, Any]:
    """The first setup's baseline after one epoch of its training, retrained now from its
    initial weights (the first epoch of the recipe does not depend on the number of epochs):
    ``{"model", "sha256", "train_accuracy", "train_loss"}``."""
    images = task.full_train[0][0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setup.train_seed)
        model = build_model(model_spec(setup, task.n_classes, images.shape[0]))
    recipe = dataclasses.replace(image_recipe(setup), epochs=1, milestones=())
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


def image_run_record(config: ExperimentConfig, results_dir: str | Path = "results"
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
    """``new`` rows against ``old``, row by row in their (the scenario's) order: labels exactly
    and ``value`` bit for bit when ``exact``; otherwise the non-float labels exactly and the
    :data:`_SCORED_METRICS` within ``tolerance`` points."""
    old, new = old.reset_index(drop=True), new.reset_index(drop=True)
    keys = [c for c in old.columns if c not in ("value", "experiment", "config_hash", "wall_s",
                                                "scenario")]
    if not exact:  # other float kernels: float labels (alphas) differ in their last bits
        keys = [c for c in keys if not pd.api.types.is_float_dtype(old[c])]
    pd.testing.assert_frame_equal(new[keys], old[keys], check_dtype=False)
    if exact:
        pd.testing.assert_series_equal(new["value"], old["value"], check_exact=True,
                                       check_dtype=False)
        return
    scored = old["metric"].isin(_SCORED_METRICS)
    gap = float((new["value"] - old["value"])[scored].abs().max())
    assert gap <= tolerance, (f"a metric differs by {gap:.2f} points, more than the "
                              f"{tolerance:g} allowed across CPU types")


def _benchmark_rows(config: BenchmarkConfig, rows: pd.DataFrame, seed: int, cache_root: str
                    ) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Baseline, SSD and ASSD of the first target, recomputed; the stored ones."""
    target = config.targets[0]
    small = dataclasses.replace(config, targets=(target,), methods=VERIFY_METHODS)
    fresh = run_one(functools.partial(benchmark_scenario, cache_root=cache_root), small, seed,
                    threads=1)
    old = rows[(rows["scenario"] == seed) & (rows["target"] == str(target))
               & rows["method"].isin(VERIFY_METHODS)]
    return (old[~old["metric"].isin(_TIMING_METRICS)],
            fresh[~fresh["metric"].isin(_TIMING_METRICS)], f"target {target}")


def _plateau_rows(config: AlphaPlateauConfig, rows: pd.DataFrame, seed: int, cache_root: str
                  ) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The first task's baseline, SSD at the grid's first and middle alpha, and ASSD."""
    kind, target = config.tasks[0]
    base = config.setup_for(kind)
    setup = dataclasses.replace(base, train_seed=base.train_seed + seed)
    with torch_threads(1):
        prepared = prepare_dampening_task(setup, kind, target,  # type: ignore[arg-type]
                                          cache=ArtifactCache(cache_root), task_seed=seed)
        labels = {"task": prepared.task.name, "kind": kind, "target": str(target)}
        alphas = config.alphas()
        chosen = [float(alphas[0]), float(alphas[len(alphas) // 2])]
        new = metric_rows(prepared.baseline, **labels, method="baseline", alpha=math.nan)
        for alpha in chosen:
            new += metric_rows(prepared.unlearn(alpha, 1.0), **labels, method="ssd",
                               alpha=alpha)
        alpha = prepared.assd_alpha()
        new += metric_rows({**prepared.unlearn(alpha, 1.0),
                            "percentile": prepared.assd_percentile},
                           **labels, method="assd", alpha=alpha)
    mine = rows[(rows["scenario"] == seed) & (rows["task"] == prepared.task.name)]
    old = mine[(mine["method"] != "ssd") | mine["alpha"].isin(chosen)]
    return old, pd.DataFrame(new), f"task {kind} {target}"


def _study_rows(config: LambdaStudyConfig, rows: pd.DataFrame, seed: int, cache_root: str
                ) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The study's baseline, ASSD, and its first and best trials, recomputed (the TPE search
    itself is not rerun: 50 evaluations)."""
    mine = rows[rows["scenario"] == seed]
    trials = mine[mine["part"] == "trial"]
    objective = trials[trials["metric"] == "objective"]
    chosen = sorted({float(objective["trial"].iloc[0]),
                     float(objective.loc[objective["value"].idxmax(), "trial"])})
    blank = {"trial": math.nan, "alpha": math.nan, "lam": math.nan, "target": ""}
    new: list[dict[str, Any]] = []
    with torch_threads(1):
        prepared = prepare_dampening_task(config.setup, "fullclass", config.forget_class,
                                          cache=ArtifactCache(cache_root))
        for number in chosen:
            first = trials[trials["trial"] == number].iloc[0]
            metrics = prepared.unlearn(float(first["alpha"]), float(first["lam"]))
            values = {"objective": objective_value(config.objective, metrics), **metrics}
            new += [{"part": "trial", "trial": number, "alpha": first["alpha"],
                     "lam": first["lam"], "target": "", "metric": m, "value": float(values[m])}
                    for m in ("objective", "Dr", "Df", "MIA", "fraction_selected")]
        new += [{"part": "baseline", **blank, "metric": m, "value": float(v)}
                for m, v in prepared.baseline.items()]
        alpha = prepared.assd_alpha()
        assd = {"percentile": prepared.assd_percentile, **prepared.unlearn(alpha, 1.0)}
        new += [{"part": "assd", **blank, "alpha": alpha, "lam": 1.0, "metric": m,
                 "value": float(v)} for m, v in assd.items()]
    old = mine[((mine["part"] == "trial") & mine["trial"].isin(chosen))
               | mine["part"].isin(["baseline", "assd"])]
    return old, pd.DataFrame(new), f"trials {', '.join(str(int(t)) for t in chosen)}"


def verify_image_run(name: str, config: ExperimentConfig, entry: Mapping[str, Any],
                     rows: pd.DataFrame, results_dir: str | Path, *, exact: bool,
                     tolerance: float) -> dict[str, Any]:
    """The checks of the module docstring on stored image run ``name``.

    What is recomputed from the kept baselines: a benchmark's first target (baseline, SSD,
    ASSD) in its first scenario; the plateau's first task (baseline, SSD at the grid's first
    and middle alpha, ASSD); the lambda study's baseline, ASSD and its first and best trials.

    Args:
        name: the run's name (for messages).
        config: its config (a benchmark, plateau or lambda-study config), as the current code
            builds it.
        entry: its manifest entry.
        rows: its stored rows.
        results_dir: the results root holding ``weights/``.
        exact: compare bit for bit (the CPU type that computed the run).
        tolerance: largest accuracy difference (points) otherwise.

    Returns:
        ``{"scenario", "checked", "recompute_s", "one_epoch_s"}``.

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
    seed = config.seeds[0]
    recompute = (_benchmark_rows if isinstance(config, BenchmarkConfig) else
                 _plateau_rows if isinstance(config, AlphaPlateauConfig) else _study_rows)
    tmp = _check_root()
    models = tmp / "cache" / "models"
    models.mkdir(parents=True, exist_ok=True)
    for _, kept in pairs:
        shutil.copyfile(kept, models / kept.name)
    before = sorted(p.name for p in models.iterdir())
    begin = time.perf_counter()
    with shared_evaluations(_EVALUATED):
        old, new, checked = recompute(config, rows, seed, str(tmp))  # type: ignore[arg-type]
    recompute_s = time.perf_counter() - begin
    assert sorted(p.name for p in models.iterdir()) == before, (
        f"{name}: the check trained a baseline instead of loading the kept one; {fix}")
    try:
        assert len(old) == len(new) > 0, f"{len(new)} rows recomputed, {len(old)} stored"
        _compare(old, new, exact, tolerance)
    except AssertionError as error:
        raise AssertionError(f"{name}: scenario {seed}, {checked}, recomputed from the "
                             f"kept baseline, differs from the stored rows; {fix}\n{error}"
                             ) from None
    setup, task = _first_tasks(config)[0]
    begin = time.perf_counter()
    key = settings_hash(baseline_settings(setup, task))
    if key not in _ONE_EPOCH:  # runs on the same baseline share the retrained epoch
        _ONE_EPOCH[key] = one_epoch_record(setup, task)
    again = _ONE_EPOCH[key]
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
    return {"scenario": seed, "checked": checked, "recompute_s": round(recompute_s, 2),
            "one_epoch_s": round(one_epoch_s, 2)}
