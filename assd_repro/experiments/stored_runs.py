"""The book's stored runs: finished experiment runs that take CPU hours, computed once, committed
under ``results/`` with their provenance, rendered by the book and re-verified by ``make test``.

Each :class:`StoredRun` names a config (the ``book`` profile of an experiment with stated
overrides) and the replicates each of its cells needs. :func:`complete_run` computes what is
missing (resumable: the result store keeps every finished scenario), compacts the finished run
into one checked ``results.parquet`` and records it in ``results/manifest.json``: experiment,
profile, config hash, data set and the SHA-256 of its file, scenarios, code commit, library
versions, CPU, threads, start time, wall and compute seconds. :func:`verify_run` checks a stored
run against the current code: same config hash, enough scenarios, and the cheapest scenario
recomputed now gives the stored rows exactly (training on the CPU with one thread is
deterministic: book, Reproducing).

Command line (also ``make results``)::

    python -m assd_repro.experiments.stored_runs list
    python -m assd_repro.experiments.stored_runs run table4-sample [--results results]
    python -m assd_repro.experiments.stored_runs verify
    python -m assd_repro.experiments.stored_runs checkpoint table4-sample

``checkpoint`` gathers the finished scenarios of an unfinished run into its ``results.parquet``
(with ``progress.json``, the files git keeps under ``results/``), so a run longer than one
working session can be committed part-way and resumed elsewhere; the run gets its manifest
entry, and is verified and rendered, only once complete.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from assd_repro.experiments.alpha_plateau import (
    AlphaPlateauConfig,
    alpha_plateau_scenario,
    run_alpha_plateau,
)
from assd_repro.experiments.benchmark import BenchmarkConfig, benchmark_scenario, run_benchmark
from assd_repro.experiments.engine.config import ExperimentConfig, canonical_json, check_profile
from assd_repro.experiments.engine.runner import run_one
from assd_repro.experiments.engine.store import ResultStore, atomic_write_bytes
from assd_repro.experiments.error_unlearning import (
    ErrorUnlearningConfig,
    error_unlearning_scenario,
    run_error_unlearning,
)
from assd_repro.experiments.image_pipeline import BOOK_CIFAR10_VIT_SETUP
from assd_repro.experiments.image_runs import image_run_record, verify_image_run
from assd_repro.experiments.lambda_study import (
    LambdaStudyConfig,
    lambda_study_scenario,
    run_lambda_study_stored,
)
from assd_repro.experiments.method_comparison import (
    MethodComparisonConfig,
    method_comparison_scenario,
    run_method_comparison,
)
from assd_repro.experiments.method_tuning import (
    TUNABLE_METHODS,
    MethodTuningConfig,
    method_tuning_scenario,
    run_method_tuning,
    tuned_from_rows,
)
from assd_repro.experiments.supply_chain_pipeline import FULL_SIZE_ROWS, TUNED_HYPERPARAMETERS

__all__ = [
    "MANIFEST",
    "checkpoint_run",
    "STORED_RUNS",
    "StoredRun",
    "complete_run",
    "find_run",
    "load_run",
    "manifest_entry",
    "provenance_note",
    "read_manifest",
    "verify_run",
]

MANIFEST = "manifest.json"
#: scenarios per cell of a stored run's ``smoke`` analogue
SMOKE_SCENARIOS = 2
#: rows of the synthetic table of a synthetic run's ``smoke`` analogue
SMOKE_SYNTHETIC_ROWS = 6_000
#: scenarios per cell of a stored run at the ``paper`` profile (the paper's 100)
PAPER_SCENARIOS = 100
#: columns (or, in tidy results, metrics) that measure time: they differ from one computation
#: to the next
TIMING_COLUMNS = ("wall_s", "method_s", "baselines_s")
#: the metrics of tidy results compared within :data:`CROSS_CPU_TOLERANCE` across CPU types
#: (accuracies, in %; the other metrics, shares of a few rows or alphas, are left out)
ACCURACY_METRICS = ("test_accuracy", "gain", "validation_accuracy")
#: largest accuracy difference (points) accepted when a stored run is verified on another CPU
#: than the one that computed it (book: Reproducing): float kernels differ in their last bits
#: between CPU types, and SGD amplifies that; measured up to 2.5 points on one scenario of the
#: real sample (402 test rows: one row is 0.25 points) between an AMD EPYC and an Intel Xeon
CROSS_CPU_TOLERANCE = 5.0
#: columns compared only on the CPU that computed the run (which test rows are right)
CROSS_CPU_FREE = ("test_correct",)


@dataclasses.dataclass(frozen=True)
class StoredRun:
    """One stored run of the book.

    Attributes:
        name: the run's name (``results/manifest.json`` key, command-line argument).
        title: what it is, in words (for the chapters' provenance notes).
        dataset: the data, in words; synthetic data say so.
        make_config: builds the run's config from the current code (given ``tuned_rows=`` when
            the run has a ``tuning`` run).
        scenario: the scenario function ``(config, seed) -> rows``.
        run: runs the missing scenarios (one torch thread each):
            ``run(config, results_dir=..., progress=...)``.
        min_per_cell: replicates each cell needs.
        profile_config: builds the run's config for the ``smoke`` and ``paper`` profiles
            (:meth:`config_for`; ``profile_config(profile)``, plus ``tuned_rows=`` as
            ``make_config``); None: the run has only its book config.
        tuning: the stored run whose rows give this run's tuned hyper-parameters (the method
            comparison with tuned parameters); its config depends on them, so that run is
            completed first.
        record: ``record(config, results_dir) -> dict``: what the run adds to its manifest
            entry when it completes (image runs: their baselines' weights and one epoch's
            checksum, :func:`~assd_repro.experiments.image_runs.image_run_record`).
        check: replaces the recomputed scenario of :func:`verify_run`:
            ``check(name, config, entry, rows, results_dir, exact=, tolerance=) -> dict``
            (image runs: :func:`~assd_repro.experiments.image_runs.verify_image_run`).
    """

    name: str
    title: str
    dataset: str
    make_config: Callable[..., ExperimentConfig]
    scenario: Callable[[Any, int], Any]
    run: Callable[..., pd.DataFrame]
    min_per_cell: int
    profile_config: Callable[..., ExperimentConfig] | None = None
    tuning: str | None = None
    record: Callable[..., dict[str, Any]] | None = None
    check: Callable[..., dict[str, Any]] | None = None

    def _tuned(self, profile: str, results_dir: str | os.PathLike[str]) -> dict[str, Any]:
        """``{"tuned_rows": rows}`` of the tuning run at ``profile`` (``{}`` without one): the
        stored rows for ``book``, computed (or read back) under ``results_dir`` otherwise."""
        if self.tuning is None:
            return {}
        if profile == "book":
            return {"tuned_rows": load_run(self.tuning, results_dir, compute_missing=False,
                                           progress=False)}
        tuning = find_run(self.tuning)
        config = tuning.config_for(profile, results_dir)
        return {"tuned_rows": tuning.run(config, results_dir=results_dir, progress=False)}

    def config(self, results_dir: str | os.PathLike[str] = "results") -> Any:
        """The run's config, as the current code builds it.

        Raises:
            RuntimeError: the run has a ``tuning`` run that is not stored under
                ``results_dir`` (compute it first: :func:`complete_run` does).
        """
        return self.make_config(**self._tuned("book", results_dir))

    def config_for(self, profile: str, results_dir: str | os.PathLike[str] = "results") -> Any:
        """The run's config at ``profile``: ``book`` is :meth:`config` (the stored run);
        ``smoke`` a tiny analogue computed live in seconds and ``paper`` the paper's settings,
        both from ``profile_config`` (a ``tuning`` run's rows at that profile are computed
        under ``results_dir``, or read back from there).

        Raises:
            ValueError: ``profile`` is not ``smoke``, ``book`` or ``paper``; the run has no
                ``profile_config`` and ``profile`` is not ``book``.
            DatasetNotFoundError: ``paper`` for a run on DataCo rows when the real file is not
                found (``$ASSD_DATACO``, ``$ASSD_DATA``).
        """
        check_profile(profile)
        if profile == "book":
            return self.config(results_dir)
        if self.profile_config is None:
            raise ValueError(f"stored run {self.name!r} has only the book profile (no "
                             "profile_config); pass profile='book'")
        return self.profile_config(profile, **self._tuned(profile, results_dir))


def _table4(**overrides: Any) -> Callable[[], ErrorUnlearningConfig]:
    return lambda: ErrorUnlearningConfig.for_profile("book", **overrides)


def _table4_profiles(smoke: Mapping[str, Any], **overrides: Any
                     ) -> Callable[[str], ErrorUnlearningConfig]:
    """The ``smoke`` and ``paper`` configs of a run whose book config is ``_table4(**overrides)``.

    ``smoke``: the smoke profile (5 epochs; 2x50 and 1 and 5 % errors unless the run names its
    sizes or rates) with the run's overrides, then ``smoke``'s, :data:`SMOKE_SCENARIOS` per
    cell, synthetic tables of :data:`SMOKE_SYNTHETIC_ROWS` rows, and the book run's
    ``keep_test_predictions``. ``paper``: the paper profile (the real file for runs on DataCo
    rows, batch 1,024 with :data:`TUNED_HYPERPARAMETERS`) with the run's overrides, at least
    :data:`PAPER_SCENARIOS` per cell, and the book run's ``keep_test_predictions``.
    """
    def build(profile: str) -> ErrorUnlearningConfig:
        settings = dict(overrides)
        settings.setdefault("keep_test_predictions", _table4(**overrides)().keep_test_predictions)
        if profile == "smoke":
            settings.update(smoke, n_scenarios=SMOKE_SCENARIOS)
            if "data_path" in settings and settings["data_path"] is None:
                settings["n_rows"] = SMOKE_SYNTHETIC_ROWS
        else:
            settings["n_scenarios"] = max(settings.get("n_scenarios", 0), PAPER_SCENARIOS)
        return ErrorUnlearningConfig.for_profile(profile, **settings)

    return build


def _table4_run(name: str, title: str, dataset: str, min_per_cell: int, *,
                smoke: Mapping[str, Any] | None = None, **overrides: Any) -> StoredRun:
    """A stored run of ``error_unlearning``: book config ``_table4(**overrides)``, the other
    profiles :func:`_table4_profiles` (``smoke``: extra overrides of the smoke analogue)."""
    return StoredRun(name, title, dataset, _table4(**overrides), error_unlearning_scenario,
                     run_error_unlearning, min_per_cell,
                     _table4_profiles(smoke or {}, **overrides))


def _method_config(cls: type[MethodComparisonConfig], overrides: Mapping[str, Any]
                   ) -> Callable[..., MethodComparisonConfig]:
    """``build(profile="book", tuned_rows=None)``: the config of a method-comparison or tuning
    run at ``profile``: the profile's settings with ``overrides``; ``smoke`` with
    :data:`SMOKE_SCENARIOS` replicates per cell (a comparison) and synthetic tables of
    :data:`SMOKE_SYNTHETIC_ROWS` rows, ``paper`` with :data:`PAPER_SCENARIOS` (a comparison);
    ``tuned_rows``: the tuning run's rows, whose parameters the comparison takes
    (:func:`~assd_repro.experiments.method_tuning.tuned_from_rows`)."""
    def build(profile: str = "book", tuned_rows: pd.DataFrame | None = None
              ) -> MethodComparisonConfig:
        settings = dict(overrides)
        comparison = cls is MethodComparisonConfig
        if profile == "smoke":
            if comparison:
                settings["n_scenarios"] = SMOKE_SCENARIOS
            if "data_path" in settings and settings["data_path"] is None:
                settings["n_rows"] = SMOKE_SYNTHETIC_ROWS
        elif profile == "paper" and comparison:
            settings["n_scenarios"] = max(settings.get("n_scenarios", 0), PAPER_SCENARIOS)
        config = cls.for_profile(profile, **settings)
        if tuned_rows is None:
            return config
        return dataclasses.replace(config, tuned=tuned_from_rows(tuned_rows, config.error_pcts))

    return build


def _method_run(name: str, title: str, dataset: str, min_per_cell: int, *,
                tuning: str | None = None, **overrides: Any) -> StoredRun:
    """A stored run of the method comparison (with ``tuning``: the parameters of that tuning
    run, for the tunable methods only) at the book profile with ``overrides``."""
    if tuning is not None:
        overrides = {"methods": TUNABLE_METHODS, **overrides}
    build = _method_config(MethodComparisonConfig, overrides)
    return StoredRun(name, title, dataset, build, method_comparison_scenario,
                     run_method_comparison, min_per_cell, build, tuning)


def _tuning_run(name: str, title: str, dataset: str, **overrides: Any) -> StoredRun:
    """A stored run of the tuning studies at the book profile with ``overrides``."""
    build = _method_config(MethodTuningConfig, overrides)
    return StoredRun(name, title, dataset, build, method_tuning_scenario, run_method_tuning, 1,
                     build)


_SYNTHETIC = {"data_path": None, "n_rows": FULL_SIZE_ROWS, "data_seed": 0, "batch_size": 1024,
              "hyperparameters": TUNED_HYPERPARAMETERS, "keep_test_predictions": False}
_SYNTHETIC_METHODS = {**{k: v for k, v in _SYNTHETIC.items() if k != "keep_test_predictions"},
                      "model_sizes": ("3x100",)}
#: replicates per cell of the method comparison on the real sample (9 cells) and on the
#: synthetic table (3 cells): the issue's budget of about 4 CPU hours for the comparison,
#: tuning included (:class:`~assd_repro.experiments.method_comparison.MethodComparisonConfig`)
METHOD_SCENARIOS = 50
METHOD_SCENARIOS_SYNTHETIC = 20
_SAMPLE = "DataCo sample (real rows: 6,000 of 180,519)"
_SYNTHETIC_NAME = f"synthetic DataCo-like table ({FULL_SIZE_ROWS:,} rows, the full file's size)"

_CIFAR10 = "CIFAR-10 JPEGs (real images: 500 per class and split of 60,000)"


def _image_run(name: str, title: str, kind: str, **overrides: Any) -> StoredRun:
    """A stored run of the benchmark tables on CIFAR-10: the ``book`` profile's config of
    ``kind`` (with ``overrides``, e.g. another model's ``setups``); ``smoke`` and ``paper`` are
    those profiles' configs of ``kind``."""
    def build() -> BenchmarkConfig:
        return BenchmarkConfig.for_profile("book", kind=kind, **overrides)

    def profile_config(profile: str) -> BenchmarkConfig:
        return BenchmarkConfig.for_profile(profile, kind=kind)

    return StoredRun(name, title, _CIFAR10, build, benchmark_scenario, run_benchmark,
                     len(build().seeds), profile_config, record=image_run_record,
                     check=verify_image_run)


def _image_study(name: str, title: str, config_class: type[ExperimentConfig],
                 scenario: Callable[..., Any], run: Callable[..., pd.DataFrame]) -> StoredRun:
    """A stored run of the alpha plateau or the lambda study on CIFAR-10 (one scenario on the
    benchmark runs' baselines): the ``book`` profile's config; ``smoke`` and ``paper`` are
    those profiles' configs."""
    def build() -> ExperimentConfig:
        return config_class.for_profile("book")

    def profile_config(profile: str) -> ExperimentConfig:
        return config_class.for_profile(profile)

    return StoredRun(name, title, _CIFAR10, build, scenario, run, 1, profile_config,
                     record=image_run_record, check=verify_image_run)


STORED_RUNS: tuple[StoredRun, ...] = (
    _table4_run("table4-sample", "Table 4 on the real sample, paper protocol", _SAMPLE, 100),
    _table4_run("table4-sample-leak-free", "Table 4 on the real sample, leak-free protocol",
                _SAMPLE, 30, protocol="leak_free", n_scenarios=30),
    _table4_run("table4-sample-own-init",
                "3x100 on the real sample, each scenario with its own initial weights", _SAMPLE,
                30, model_sizes=("3x100",), init_seed=None, n_scenarios=30,
                smoke={"model_sizes": ("2x50",)}),   # smoke: table4-sample's smoke cells
    _table4_run("table4-synthetic", "Table 4 on the synthetic full-size table (1 % in the Fig. 5 "
                "runs)", _SYNTHETIC_NAME, 20, **_SYNTHETIC,
                error_pcts=(0.25, 2.5, 5.0, 7.5, 10.0), n_scenarios=20),
    _table4_run("fig5-synthetic-small", "Fig. 5: 2x50 and 3x100 at 1 % errors, synthetic "
                "full-size table", _SYNTHETIC_NAME, 100, **_SYNTHETIC, error_pcts=(1.0,),
                model_sizes=("3x100", "2x50"), n_scenarios=100),
    _table4_run("fig5-synthetic-5x250", "Fig. 5: 5x250 at 1 % errors, synthetic full-size table",
                _SYNTHETIC_NAME, 30, **_SYNTHETIC, error_pcts=(1.0,), model_sizes=("5x250",),
                n_scenarios=30),
    _tuning_run("methods-tuning-sample", "Optuna studies of the unlearning methods' "
                "hyper-parameters, real sample", _SAMPLE),
    _method_run("methods-sample", "Unlearning methods with their defaults, real sample",
                _SAMPLE, METHOD_SCENARIOS, n_scenarios=METHOD_SCENARIOS),
    _method_run("methods-sample-tuned", "Unlearning methods with tuned hyper-parameters, real "
                "sample", _SAMPLE, METHOD_SCENARIOS, tuning="methods-tuning-sample",
                n_scenarios=METHOD_SCENARIOS),
    _tuning_run("methods-tuning-synthetic", "Optuna studies of the unlearning methods' "
                "hyper-parameters, synthetic full-size table (3x100)", _SYNTHETIC_NAME,
                **_SYNTHETIC_METHODS),
    _method_run("methods-synthetic", "Unlearning methods with their defaults, synthetic "
                "full-size table (3x100)", _SYNTHETIC_NAME, METHOD_SCENARIOS_SYNTHETIC,
                n_scenarios=METHOD_SCENARIOS_SYNTHETIC, **_SYNTHETIC_METHODS),
    _method_run("methods-synthetic-tuned", "Unlearning methods with tuned hyper-parameters, "
                "synthetic full-size table (3x100)", _SYNTHETIC_NAME,
                METHOD_SCENARIOS_SYNTHETIC, tuning="methods-tuning-synthetic",
                n_scenarios=METHOD_SCENARIOS_SYNTHETIC, **_SYNTHETIC_METHODS),
    _image_run("cifar10-fullclass-resnet18", "Table 1 analogue: full-class forgetting, "
               "ResNet18", "fullclass"),
    _image_run("cifar10-fullclass-vit", "Table 1 analogue: full-class forgetting, ViT",
               "fullclass", setups=(BOOK_CIFAR10_VIT_SETUP,), seeds=(0, 1)),
    _image_run("cifar10-subclass-resnet18", "Table 2 analogue: sub-class forgetting within "
               "look-alike groups, ResNet18", "subclass"),
    _image_run("cifar10-random-resnet18", "Table 3: random forgetting of 0.165 % and 1 %, "
               "ResNet18", "random"),
    _image_study("cifar10-plateau-resnet18", "Fig. 3 analogue: SSD over 16 alphas, full-class "
                 "and sub-class, ResNet18", AlphaPlateauConfig, alpha_plateau_scenario,
                 run_alpha_plateau),
    _image_study("cifar10-lambda-resnet18", "Fig. 2 analogue: Optuna TPE over alpha and lambda "
                 "(50 trials), full-class airplane, ResNet18", LambdaStudyConfig,
                 lambda_study_scenario, run_lambda_study_stored),
)


def find_run(name: str) -> StoredRun:
    """The stored run called ``name``.

    Raises:
        ValueError: no stored run has that name (the message lists them).
    """
    for run in STORED_RUNS:
        if run.name == name:
            return run
    raise ValueError(f"no stored run {name!r}; choose one of {[r.name for r in STORED_RUNS]}")


# -- provenance ---------------------------------------------------------------------------------

def _code_commit() -> str:
    """``git rev-parse HEAD`` of the project (``+dirty`` when tracked code files differ)."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                "assd_core", "assd_repro"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def read_manifest(results_dir: str | os.PathLike[str] = "results") -> dict[str, Any]:
    """``results/manifest.json`` as a dict (``{"runs": {}}`` when there is none)."""
    path = Path(results_dir) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else {"runs": {}}


def manifest_entry(run: StoredRun, rows: pd.DataFrame, *, started: str, wall_s: float,
                   threads: int, results_dir: str | os.PathLike[str] = "results",
                   extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The manifest's record of a finished run (see the module docstring), with ``extra``
    (``run.record``'s fields; its ``data_file`` gives the data file's name and SHA-256)."""
    config = run.config(results_dir)
    extra = dict(extra or {})
    data = config.data_hashes()
    path = getattr(config, "data_path", None)
    dataset = {"name": run.dataset, "file": None if path is None else Path(path).name,
               "sha256": next(iter(data.values()), None) if data else None}
    dataset.update(extra.pop("data_file", {}))
    return {
        **extra,
        "name": run.name,
        "title": run.title,
        "experiment": config.EXPERIMENT,
        "profile": config.profile,
        "config_hash": config.content_hash(),
        "dataset": dataset,
        "n_scenarios": int(rows["scenario"].nunique()),
        "n_per_cell": int(run.min_per_cell),
        "code_commit": _code_commit(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cpu": _cpu(),
        "threads": threads,
        "started": started,
        "wall_s": round(wall_s, 1),
        "compute_s": round(float(rows.groupby("scenario")["wall_s"].first().sum()), 1),
    }


def _plural(n: int, noun: str) -> str:
    """``"1 run"``, ``"1,800 scenarios"``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _stored_line(run: StoredRun, entry: Mapping[str, Any]) -> str:
    """One Markdown bullet of :func:`provenance_note` from a manifest entry."""
    data = entry["dataset"]
    source = (f"file `{data['file']}` (SHA-256 `{data['sha256'][:12]}…`)" if data.get("file")
              else "generated, no file")
    commit = str(entry["code_commit"])
    short = commit[:10] + ("+dirty" if commit.endswith("+dirty") else "")
    return (f"- **{run.name}** ({run.title}): {data['name']}, {source}; "
            f"{_plural(entry['n_scenarios'], 'scenario')} ({entry['n_per_cell']} per cell); "
            f"{entry['compute_s'] / 3600:.1f} CPU hours ({entry['wall_s'] / 3600:.1f} h wall, "
            f"{entry['threads']} torch thread(s) per scenario) on {entry['cpu']}; code `{short}`, "
            f"torch {entry['torch']}, numpy {entry['numpy']}, Python {entry['python']}; "
            f"started {str(entry['started'])[:10]}.")


def _n_cells(config: Any) -> int:
    """Cells of a config (its replicates are ``seeds`` spread over them); 1 without ``cells``."""
    return len(config.cells()) if hasattr(config, "cells") else 1


def _live_line(run: StoredRun, config: Any, profile: str) -> str:
    """One Markdown bullet of :func:`provenance_note` for a run computed as the page was built."""
    if isinstance(config, BenchmarkConfig | AlphaPlateauConfig | LambdaStudyConfig):
        setups = ", ".join(f"{s.model} ({s.dataset}, {s.epochs} epochs)"
                           for s in getattr(config, "setups", None) or (config.setup,))
        return (f"- **{run.name}** ({run.title}): computed as the page was built, at the "
                f"`{profile}` profile with {setups}, {len(config.seeds)} scenario(s) "
                f"(config `{config.content_hash()}`); no stored record.")
    per_cell = len(config.seeds) // _n_cells(config)
    path = getattr(config, "data_path", None)
    data = f"`{Path(path).name}`" if path else f"synthetic table of {config.n_rows:,} rows"
    units = (f"one study of {config.n_trials} trials on {config.n_tuning_scenarios} tuning "
             "scenarios per method and cell" if isinstance(config, MethodTuningConfig)
             else f"{per_cell} scenarios per cell")
    return (f"- **{run.name}** ({run.title}): computed as the page was built, at the "
            f"`{profile}` profile: {data}, sizes {', '.join(config.model_sizes)}, error rates "
            f"{', '.join(f'{p:g}' for p in config.error_pcts)} %, {units}, "
            f"{config.epochs} epochs at batch {config.batch_size} (config "
            f"`{config.content_hash()}`); no stored record.")


def provenance_note(names: Sequence[str], results_dir: str | os.PathLike[str] = "results", *,
                    profile: str = "book") -> str:
    """A short Markdown note on where a chapter's rows come from, for the chapter's page.

    A run whose manifest entry (:func:`read_manifest`) has the config hash of
    ``run.config_for(profile)`` is described from that entry: data set and the first digits of
    its SHA-256, scenarios, CPU hours, CPU, code commit, library versions and start date.
    Any other run (the ``smoke`` or ``paper`` profile, or a run not stored yet) is said to be
    computed as the page was built, with the profile.

    Args:
        names: stored runs (:data:`STORED_RUNS` names), in the order to list.
        results_dir: the results root holding ``manifest.json``.
        profile: the profile the chapter ran at.

    Returns:
        A paragraph (``**Provenance.** ...``) and one bullet per run.

    Raises:
        ValueError: an unknown run name or profile.
        DatasetNotFoundError: ``profile="paper"`` for a run on DataCo rows without the real file.
    """
    check_profile(profile)
    runs = [find_run(n) for n in names]
    configs = [run.config_for(profile, results_dir) for run in runs]
    manifest = read_manifest(results_dir)["runs"]
    lines = []
    for run, config in zip(runs, configs, strict=True):
        entry = manifest.get(run.name)
        stored = entry is not None and entry.get("config_hash") == config.content_hash()
        lines.append(_stored_line(run, entry) if stored else _live_line(run, config, profile))
    experiments = sorted({c.EXPERIMENT.replace("_", "-") for c in configs})
    intro = (f"**Provenance.** The rows of this page come from "
             f"{_plural(len(runs), 'run')} of the {' and '.join(experiments)} experiment{'s' if len(experiments) > 1 else ''} "
             f"(`python -m assd_repro.experiments.stored_runs list`); stored runs are checked "
             f"against the current code by `make test`.")
    return "\n".join([intro, "", *lines])


# -- computing, loading, verifying --------------------------------------------------------------

def _progress_file(store: ResultStore) -> Path:
    return store.folder / "progress.json"


def complete_run(run: StoredRun, *, results_dir: str | os.PathLike[str] = "results",
                 progress: bool = True) -> pd.DataFrame:
    """Compute the run's missing scenarios, compact the run and record it in the manifest.

    Interrupting is safe: finished scenarios stay stored and the next call resumes. Wall time is
    summed over the calls that computed scenarios (``progress.json`` beside the results).

    A run with a ``tuning`` run completes that one first (its rows set this run's config).

    Returns:
        Every row of the run.
    """
    if run.tuning is not None:
        complete_run(find_run(run.tuning), results_dir=results_dir, progress=progress)
    config = run.config(results_dir)
    store = ResultStore(config, results_dir)
    state_file = _progress_file(store)
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    started = state.get("started") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    begin = time.perf_counter()
    missing = len(config.seeds) - len(store.load(config.seeds, set_aside=False))
    if missing and "started" not in state:  # kept even when this call is killed
        store.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(state_file, canonical_json({"started": started, "wall_s": 0.0})
                           .encode())
    try:
        rows = run.run(config, results_dir=results_dir, progress=progress)
    finally:
        if missing:
            state = {"started": started,
                     "wall_s": state.get("wall_s", 0.0) + time.perf_counter() - begin}
            store.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(state_file, canonical_json(state).encode())
    if not store.compact_path.is_file() or missing:
        store.compact()
    manifest = read_manifest(results_dir)
    recorded = manifest.get("runs", {}).get(run.name, {})
    if not missing and recorded.get("config_hash") == config.content_hash():
        return rows  # nothing computed: the record (commit, times) stays that of the run
    extra = run.record(config, results_dir) if run.record is not None else None
    manifest.setdefault("runs", {})[run.name] = manifest_entry(
        run, rows, started=started, wall_s=state.get("wall_s", 0.0), threads=1,
        results_dir=results_dir, extra=extra)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(Path(results_dir) / MANIFEST, text.encode())
    return rows


def checkpoint_run(name: str, results_dir: str | os.PathLike[str] = "results") -> str:
    """Gather the finished scenarios of stored run ``name`` into its ``results.parquet``
    (:meth:`ResultStore.compact` with ``partial=True``), so they can be committed before the run
    is complete; a process still computing the run may go on meanwhile.

    Returns:
        A line saying how many scenarios the checkpoint holds.

    Raises:
        ValueError: unknown name.
        RuntimeError: no scenario of the run is finished yet.
    """
    config = find_run(name).config(results_dir)
    store = ResultStore(config, results_dir)
    store.compact(partial=True)
    done = len(store.load(config.seeds))
    return f"{name}: {done} of {len(config.seeds)} scenarios in {store.compact_path}"


def load_run(name: str, results_dir: str | os.PathLike[str] = "results", *,
             compute_missing: bool = True, progress: bool = True) -> pd.DataFrame:
    """The verified rows of a stored run; missing scenarios are computed first (saying how many
    and about how long, from the run's measured seconds per scenario) unless
    ``compute_missing=False``, which raises instead.

    Raises:
        ValueError: unknown name.
        RuntimeError: scenarios are missing and ``compute_missing`` is False.
    """
    run = find_run(name)
    if run.tuning is not None and compute_missing:
        load_run(run.tuning, results_dir, progress=progress)
    config = run.config(results_dir)
    store = ResultStore(config, results_dir)
    found = store.load(config.seeds)
    missing = [s for s in config.seeds if s not in found]
    if not missing:
        return store.read(config.seeds)
    if not compute_missing:
        raise RuntimeError(f"stored run {name!r} lacks {len(missing)} of {len(config.seeds)} "
                           f"scenarios in {store.folder}; compute them with `python -m "
                           f"assd_repro.experiments.stored_runs run {name}` (make results)")
    per_scenario = _seconds_per_scenario(found, results_dir, name)
    estimate = (f"about {len(missing) * per_scenario / 60:.0f} CPU minutes at "
                f"{per_scenario:.1f} s per scenario" if per_scenario else "time unknown")
    print(f"{name}: computing {len(missing)} of {len(config.seeds)} scenarios ({estimate})",
          file=sys.stderr, flush=True)
    return complete_run(run, results_dir=results_dir, progress=progress)


def _seconds_per_scenario(found: dict[int, pd.DataFrame], results_dir: str | os.PathLike[str],
                          name: str) -> float:
    if found:
        return float(np.mean([f["wall_s"].iloc[0] for f in found.values()]))
    entry = read_manifest(results_dir)["runs"].get(name)
    return entry["compute_s"] / entry["n_scenarios"] if entry else 0.0


def _untimed(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` without the rows of a timing metric (tidy results with a ``metric`` column)."""
    if "metric" in rows.columns:
        rows = rows[~rows["metric"].isin(TIMING_COLUMNS)]
    return rows.reset_index(drop=True)


def verify_run(name: str, results_dir: str | os.PathLike[str] = "results") -> dict[str, Any]:
    """Check a stored run against the current code.

    Checks: the manifest's config hash equals the current config's; the stored, verified
    result holds every scenario of the config and at least ``min_per_cell`` per cell; the
    cheapest stored scenario (least ``wall_s``) recomputed now gives the stored rows exactly,
    timing columns (and timing metrics of tidy results) aside, on the CPU type that computed
    the run (the manifest's ``cpu``); on another CPU type its labels and counts exactly and its
    accuracies (``value``; in tidy results, the :data:`ACCURACY_METRICS`) within
    :data:`CROSS_CPU_TOLERANCE` points.

    Returns:
        ``{"name", "config_hash", "n_scenarios", "scenario", "recompute_s", "exact"}``
        (``exact``: compared bit for bit, on the same CPU type).

    Raises:
        AssertionError: a check failed (the message says which and how to regenerate).
    """
    run = find_run(name)
    config = run.config(results_dir)
    entry = read_manifest(results_dir)["runs"].get(name)
    fix = f"regenerate it: python -m assd_repro.experiments.stored_runs run {name}"
    assert entry is not None, f"{name}: no manifest entry in {results_dir}/{MANIFEST}; {fix}"
    assert entry["config_hash"] == config.content_hash(), (
        f"{name}: stored config hash {entry['config_hash']} is not the current code's "
        f"{config.content_hash()} (settings or data changed); {fix}")
    rows = ResultStore(config, results_dir).read(config.seeds)
    stored = set(rows["scenario"].unique()) if not rows.empty else set()
    assert stored == set(config.seeds), (
        f"{name}: {len(set(config.seeds) - stored)} of {len(config.seeds)} scenarios are not "
        f"stored (or failed their checks); {fix}")
    per_cell = len(config.seeds) // _n_cells(config)
    assert per_cell >= run.min_per_cell, (
        f"{name}: {per_cell} scenarios per cell, the book needs {run.min_per_cell}")
    exact = entry.get("cpu") == _cpu()
    if run.check is not None:
        checked = run.check(name, config, entry, rows, results_dir, exact=exact,
                            tolerance=CROSS_CPU_TOLERANCE)
        return {"name": name, "config_hash": entry["config_hash"], "n_scenarios": len(stored),
                **checked, "exact": exact}
    walls = rows.groupby("scenario")["wall_s"].first()
    cheapest = int(walls.idxmin())
    begin = time.perf_counter()
    fresh = run_one(run.scenario, config, cheapest, threads=1)
    seconds = time.perf_counter() - begin
    keep = [c for c in rows.columns if c not in TIMING_COLUMNS]
    old = _untimed(rows[rows["scenario"] == cheapest])[keep]
    new = _untimed(fresh)[keep]
    if not exact:  # other float kernels: compare labels exactly, accuracies within tolerance
        keep = [c for c in keep if c not in CROSS_CPU_FREE and not pd.api.types.is_float_dtype(
            old[c])]
    try:
        pd.testing.assert_frame_equal(new[keep], old[keep], check_exact=True, check_dtype=False)
        if not exact:
            scored = (old["metric"].isin(ACCURACY_METRICS) if "metric" in old.columns
                      else pd.Series(True, index=old.index))
            gap = float((new["value"] - old["value"])[scored].abs().max())
            assert gap <= CROSS_CPU_TOLERANCE, (
                f"stored on {entry.get('cpu')}, recomputed on {_cpu()}: an accuracy differs by "
                f"{gap:.2f} points, more than the {CROSS_CPU_TOLERANCE:g} allowed across CPUs")
    except AssertionError as error:
        raise AssertionError(f"{name}: scenario {cheapest} recomputed by the current code "
                             f"differs from the stored rows; {fix}\n{error}") from None
    return {"name": name, "config_hash": entry["config_hash"], "n_scenarios": len(stored),
            "scenario": cheapest, "recompute_s": round(seconds, 2), "exact": exact}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``list``, ``run [NAME...]``, ``verify [NAME...]``,
    ``checkpoint [NAME...]`` (no name: every stored run)."""
    parser = argparse.ArgumentParser(prog="python -m assd_repro.experiments.stored_runs")
    parser.add_argument("command", choices=["list", "run", "verify", "checkpoint"])
    parser.add_argument("names", nargs="*", help="stored runs (default: all)")
    parser.add_argument("--results", default=os.environ.get("ASSD_RESULTS", "results"))
    args = parser.parse_args(argv)
    runs = [find_run(n) for n in args.names] if args.names else list(STORED_RUNS)
    torch.set_num_threads(1)
    manifest = read_manifest(args.results)["runs"]
    for run in runs:
        if args.command == "list":
            entry = manifest.get(run.name)
            state = (f"{entry['n_scenarios']} scenarios, {entry['compute_s'] / 3600:.2f} CPU h"
                     if entry else "not stored")
            print(f"{run.name:28} {state:32} {run.title}")
        elif args.command == "run":
            complete_run(run, results_dir=args.results)
        elif args.command == "checkpoint":
            print(checkpoint_run(run.name, args.results), flush=True)
        else:
            print(verify_run(run.name, args.results), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
