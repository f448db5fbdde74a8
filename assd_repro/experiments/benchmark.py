"""Benchmark tables (paper Tables 1-3): baseline, retrain, SSD and ASSD on image forget tasks.

One :class:`BenchmarkConfig` is one table block: a forget ``kind``, one data set (Table 1's
CIFAR-100, CIFAR-20 and Pins are three configs), one :class:`ImageSetup` per model and the
targets. One scenario is one seed; for every model and target it records the methods

* ``baseline``: the model trained on all of D (shared by every seed and target);
* ``retrain``: trained on Dr only, seeded by the scenario seed: from scratch (``"scratch"``) or
  the SSD authors' head re-initialisation (``"head_only"``; book: Method, "Retraining");
* ``ssd``: SSD with the paper's tuned alpha and lambda (book: Method, "SSD's tuned
  parameters"), configurable;
* ``assd``: ASSD (lambda 1, alpha from the adaptive percentile);

and the metrics ``Dr``, ``Df``, ``MIA`` (percent, SSD protocol) and ``seconds`` (the cost:
training time of baseline and retrain, NaN when the model came from the artefact cache; forget
importances + selection + dampening for SSD and ASSD). SSD and ASSD also record
``importance_s`` (the one-off ``[]_D`` pass on Dr; NaN when cached), ``alpha``, ``lambda``,
``fraction_selected`` (in [0, 1]) and, for ASSD, ``percentile``. The forget importances are
computed once per model and target and shared; SSD and ASSD each dampen their own deep copy.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

import pandas as pd
from torch import Tensor, nn

from assd_core import adaptive_percentile, dampen, forget_importances, select_alpha
from assd_repro.baselines import retrain_head_only, unlearned_copy
from assd_repro.data import ForgetTask
from assd_repro.experiments.engine.cache import ArtifactCache
from assd_repro.experiments.engine.config import ExperimentConfig, check_profile
from assd_repro.experiments.engine.runner import run_scenarios
from assd_repro.experiments.image_pipeline import (
    BOOK_CIFAR10_SETUP,
    BOOK_CIFAR10_TARGETS,
    ImageSetup,
    baseline_model,
    evaluate,
    forget_loader,
    image_recipe,
    load_data,
    make_task,
    metric_rows,
    paper_resnet18_setup,
    retain_importances,
    retrained_model,
)
from assd_repro.training import VIT_CIFAR20_SCHEDULE, VIT_SCHEDULE

__all__ = [
    "BENCHMARK_KINDS",
    "BENCHMARK_METHODS",
    "RETRAIN_MODES",
    "BenchmarkConfig",
    "benchmark_scenario",
    "paper_ssd_alpha",
    "run_benchmark",
]

BENCHMARK_KINDS: tuple[str, ...] = ("fullclass", "subclass", "random")
BENCHMARK_METHODS: tuple[str, ...] = ("baseline", "retrain", "ssd", "assd")
RETRAIN_MODES: tuple[str, ...] = ("scratch", "head_only")


def paper_ssd_alpha(model: str, kind: str) -> float:
    """SSD's tuned alpha (book: Method, "SSD's tuned parameters"): 10 for ResNet18 and for random
    forgetting, 5 for ViT full-class, 25 for ViT sub-class. Lambda is 1 throughout.

    Raises:
        ValueError: ``kind`` is not ``"fullclass"``, ``"subclass"`` or ``"random"``.
    """
    if kind not in BENCHMARK_KINDS:
        raise ValueError(f"kind={kind!r} is unknown; use one of {', '.join(BENCHMARK_KINDS)}")
    if model == "vit" and kind != "random":
        return 5.0 if kind == "fullclass" else 25.0
    return 10.0


def _setup(value: ImageSetup | Mapping[str, Any]) -> ImageSetup:
    return value if isinstance(value, ImageSetup) else ImageSetup(**dict(value))


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list | tuple) else (value,)


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig(ExperimentConfig):
    """One block of the paper's Tables 1-3: a forget kind, one data set, one setup per model.

    Attributes:
        kind: ``"fullclass"``, ``"subclass"`` or ``"random"``.
        setups: one :class:`ImageSetup` per model (distinct ``model`` names, same ``dataset``);
            dicts are accepted and converted.
        targets: class names (or indices) to forget, one at a time; for ``random`` the number
            of samples (int) or the share of the training set (float in (0, 1)).
        methods: subset of ``baseline, retrain, ssd, assd`` to record.
        ssd_alpha: SSD's alpha per setup; empty: the paper's tuned value (:func:`paper_ssd_alpha`),
            filled in at construction so the hash holds the values used.
        ssd_lambda: SSD's lambda (paper: 1).
        retrain: ``"scratch"`` or ``"head_only"`` (the SSD authors' "retrain").
        seeds: scenario seeds: the retrain's seed and, for ``random``, the forget set's.

    Raises:
        ValueError: (:meth:`validate`, at construction) ``kind`` is unknown; ``retrain`` is
            not ``"scratch"`` or ``"head_only"``; ``methods`` is empty, repeats a method or
            holds one not in ``baseline, retrain, ssd, assd``; ``setups`` is empty, names a
            model twice or uses more than one data set (a dict setup is checked by
            :class:`ImageSetup`); ``targets`` is empty, repeats a target, or holds one that is
            not a class name or index >= 0 (class tasks) or a count > 0 or share in (0, 1)
            (``random``); ``ssd_alpha`` does not give one value per setup; an ``ssd_alpha``
            value or ``ssd_lambda`` is not a finite number > 0. Also the base class's checks
            (:class:`ExperimentConfig`: profile, seeds).
    """

    EXPERIMENT: ClassVar[str] = "benchmark"
    PROFILES: ClassVar[Mapping[str, Mapping[str, Any]]] = {}  # see for_profile: per kind

    kind: str = "fullclass"
    setups: tuple[ImageSetup, ...] = (ImageSetup(),)
    targets: tuple[str | int | float, ...] = ("3",)
    methods: tuple[str, ...] = BENCHMARK_METHODS
    ssd_alpha: tuple[float, ...] = ()
    ssd_lambda: float = 1.0
    retrain: str = "scratch"

    def __post_init__(self) -> None:
        setups = tuple(_setup(s) for s in _as_tuple(self.setups))
        alphas = tuple(float(a) if type(a) is int else a for a in _as_tuple(self.ssd_alpha))
        if not alphas and self.kind in BENCHMARK_KINDS:  # the paper's tuned values
            alphas = tuple(paper_ssd_alpha(s.model, self.kind) for s in setups)
        object.__setattr__(self, "setups", setups)
        object.__setattr__(self, "ssd_alpha", alphas)
        super().__post_init__()

    def validate(self) -> None:
        if self.kind not in BENCHMARK_KINDS:
            raise ValueError(f"kind={self.kind!r} is unknown; use one of {', '.join(BENCHMARK_KINDS)}")
        if self.retrain not in RETRAIN_MODES:
            raise ValueError(f"retrain={self.retrain!r} is unknown; use 'scratch' (from scratch on "
                             "Dr) or 'head_only' (the SSD authors' head re-initialisation)")
        unknown = [m for m in self.methods if m not in BENCHMARK_METHODS]
        if unknown or not self.methods or len(set(self.methods)) != len(self.methods):
            what = f"{unknown[0]!r} is unknown; " if unknown else ""
            raise ValueError(f"methods={self.methods!r}: {what}give distinct methods among "
                             f"{', '.join(BENCHMARK_METHODS)}")
        if not self.setups:
            raise ValueError("setups is empty: give one ImageSetup per model")
        names = [s.model for s in self.setups]
        if len(set(names)) != len(names):
            raise ValueError(f"setups name the models {names}; each model may appear only once")
        datasets = {s.dataset for s in self.setups}
        if len(datasets) != 1:
            raise ValueError(f"setups use the data sets {sorted(datasets)}; one config is one data "
                             "set (run one config per data set)")
        if not self.targets:
            raise ValueError("targets is empty: give at least one class to forget "
                             "(or, for random forgetting, a count or a share)")
        for t in self.targets:
            if self.kind == "random":
                ok = isinstance(t, int) and t > 0 or isinstance(t, float) and 0 < t < 1
                fix = "a positive count (int) or a share in (0, 1) (float)"
            else:
                ok = isinstance(t, str) and t != "" or isinstance(t, int) and t >= 0
                fix = "a class name or index"
            if isinstance(t, bool) or not ok:
                raise ValueError(f"target {t!r} is invalid for {self.kind} forgetting: use {fix}")
        if len(set(map(str, self.targets))) != len(self.targets):
            raise ValueError(f"targets={self.targets!r} contains duplicates")
        if len(self.ssd_alpha) != len(self.setups):
            raise ValueError(f"ssd_alpha={self.ssd_alpha!r} needs one value per setup "
                             f"({len(self.setups)}: {', '.join(names)}), or () for the paper's")
        for name, value in [*zip((f"ssd_alpha[{m}]" for m in names), self.ssd_alpha),
                            ("ssd_lambda", self.ssd_lambda)]:
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    math.isfinite(value) and value > 0):
                raise ValueError(f"{name}={value!r} must be a finite number > 0")

    @property
    def dataset(self) -> str:
        """The data set shared by every setup."""
        return self.setups[0].dataset

    @classmethod
    def for_profile(cls, profile: str = "book", *, dataset: str | None = None,
                    data_root: str | None = None, vit_weights: str | None = None,
                    **overrides: Any) -> Self:
        """The config of ``profile`` for ``kind`` (an override, default ``"fullclass"``).

        Args:
            profile: ``smoke`` (seconds; embedded MNIST sample), ``book`` (the book's stored
                CIFAR-10 runs: :data:`~assd_repro.experiments.image_pipeline.BOOK_CIFAR10_SETUP`
                on 500 CIFAR-10 JPEGs per class and split; airplane, cat and truck for the
                class tasks, 0.165 % and 1 % of the training images for random forgetting;
                seeds 0, 1, 2) or ``paper``
                (CIFAR-100 / CIFAR-20 / Pins full-class, CIFAR-20 sub-class, CIFAR-10 random;
                ResNet18 width 64 and ViT-B/16 at 224 with the authors' schedules (book: Method,
                "Image benchmarks"); 5 seeds, as the paper does not say how many it ran).
            dataset: another data set for the profile; the paper profile knows ``cifar100``,
                ``cifar20`` and ``pins`` (ResNet18 only) for full-class. Elsewhere the profile's
                settings are kept and ``targets`` must be given (except for ``random``).
            data_root: data folder for every setup (default ``$ASSD_DATA``).
            vit_weights: local pretrained weights of the ViT (paper: ImageNet ViT-B/16).
            **overrides: field values, e.g. ``kind``, ``seeds``, ``targets``, ``retrain``.

        Raises:
            ValueError: an unknown ``profile``; an override that is no field; an unknown
                ``kind``; a ``dataset`` without preset targets for a class task and no
                ``targets`` override; then as the class.
        """
        check_profile(profile)
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"{cls.__name__} has no field(s) {unknown}; also accepted: dataset, "
                             "data_root, vit_weights")
        kind = overrides.get("kind", "fullclass")
        values = _profile_values(profile, kind, dataset, has_targets="targets" in overrides)
        setups = []
        for s in values["setups"]:
            s = dataclasses.replace(s, data_root=data_root)
            if vit_weights is not None and s.model == "vit":
                s = dataclasses.replace(s, pretrained_path=vit_weights)
            setups.append(s)
        return cls(profile=profile, **{**values, "setups": tuple(setups), **overrides})


#: The ``smoke`` profile's models: seconds on the embedded MNIST sample.
_SMOKE_SETUPS = (ImageSetup(max_per_class=12, width=4, epochs=1, milestones=()),
                 ImageSetup(max_per_class=12, model="vit", image_size=16, epochs=1,
                            milestones=()))


def _paper_setups(dataset: str) -> tuple[ImageSetup, ...]:
    vit = VIT_CIFAR20_SCHEDULE if dataset == "cifar20" else VIT_SCHEDULE
    setups = [paper_resnet18_setup(dataset)]
    if dataset != "pins":  # the paper reports Pins for ResNet18 only
        setups.append(ImageSetup(dataset=dataset, model="vit", vit_preset="b16", image_size=224,
                                 epochs=vit.epochs, milestones=vit.milestones))
    return tuple(setups)


_PAPER_TARGETS: dict[tuple[str, str], tuple[str | int | float, ...]] = {
    ("fullclass", "cifar100"): ("baby", "lamp", "mushroom", "rocket", "sea"),
    ("fullclass", "cifar20"): ("electrical_devices", "natural_scenes", "people", "vegetables",
                               "vehicle2"),
    ("fullclass", "pins"): ("1", "10", "20", "30", "40"),  # face indices of the SSD script
    ("subclass", "cifar20"): ("rocket", "mushroom", "baby", "lamp", "sea"),
    ("random", "cifar10"): (0.00165,),  # 83 of 50,000 images
}
_PAPER_DEFAULT = {"fullclass": "cifar100", "subclass": "cifar20", "random": "cifar10"}
# Digits standing in for the paper's classes on the embedded MNIST sample.
_CPU_TARGETS: dict[tuple[str, str], tuple[str | int | float, ...]] = {
    ("smoke", "fullclass"): ("3",), ("smoke", "subclass"): ("7",), ("smoke", "random"): (5,),
    ("book", "fullclass"): BOOK_CIFAR10_TARGETS, ("book", "subclass"): BOOK_CIFAR10_TARGETS,
    # the paper's share (0.165 %: 8 of the 5,000 training images) and 1 %
    ("book", "random"): (0.00165, 0.01),
}
#: The data set of each CPU profile (its targets are class names of it).
_CPU_DATASETS = {"smoke": "mnist_sample", "book": BOOK_CIFAR10_SETUP.dataset}


def _profile_values(profile: str, kind: str, dataset: str | None, *, has_targets: bool
                    ) -> dict[str, Any]:
    if kind not in BENCHMARK_KINDS:
        raise ValueError(f"kind={kind!r} is unknown; use one of {', '.join(BENCHMARK_KINDS)}")
    if profile == "paper":
        name = dataset or _PAPER_DEFAULT[kind]
        known = (kind, name) in _PAPER_TARGETS
        setups = _paper_setups(name if known else _PAPER_DEFAULT[kind])
        targets = _PAPER_TARGETS[(kind, name if known else _PAPER_DEFAULT[kind])]
        seeds: tuple[int, ...] = tuple(range(5))
    else:
        name = dataset or _CPU_DATASETS[profile]
        known = name == _CPU_DATASETS[profile]
        setups = _SMOKE_SETUPS if profile == "smoke" else (BOOK_CIFAR10_SETUP,)
        targets = _CPU_TARGETS[(profile, kind)]
        seeds = (0, 1) if profile == "smoke" else (0, 1, 2)
    if not known:
        if kind != "random" and not has_targets:
            raise ValueError(f"the {profile} profile has no preset {kind} targets for dataset="
                             f"{name!r}; pass targets=(...) with class names of {name}")
        setups = tuple(dataclasses.replace(s, dataset=name) for s in setups)
    return {"kind": kind, "setups": setups, "targets": targets, "seeds": seeds}


class _TimedCache(ArtifactCache):
    """An :class:`ArtifactCache` that records how long its last train/compute call took
    (``seconds``; NaN when the artefact was loaded from the cache)."""

    seconds: float = math.nan

    def _timed(self, make: Callable[[], Any]) -> Callable[[], Any]:
        self.seconds = math.nan

        def run() -> Any:
            start = time.perf_counter()
            out = make()
            self.seconds = time.perf_counter() - start
            return out
        return run

    def model(self, settings: Mapping[str, Any], train: Callable[[], nn.Module]) -> nn.Module:
        return super().model(settings, self._timed(train))

    def importances(self, settings: Mapping[str, Any], model: nn.Module,
                    compute: Callable[[], dict[str, Tensor]]) -> dict[str, Tensor]:
        return super().importances(settings, model, self._timed(compute))


def _retrain(config: BenchmarkConfig, setup: ImageSetup, task: ForgetTask, baseline: nn.Module,
             cache: _TimedCache, seed: int) -> tuple[nn.Module, float]:
    if config.retrain == "scratch":
        model = retrained_model(setup, task, cache, seed=seed)
        return model, cache.seconds
    recipe = image_recipe(setup)
    start = time.perf_counter()
    model, _ = retrain_head_only(baseline, task.retain_train, recipe, seed)
    return model, time.perf_counter() - start


def _task_rows(config: BenchmarkConfig, setup: ImageSetup, alpha: float, task: ForgetTask,
               baseline: nn.Module, baseline_s: float, cache: _TimedCache, seed: int,
               labels: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if "baseline" in config.methods:
        rows += metric_rows({**evaluate(baseline, task), "seconds": baseline_s},
                            method="baseline", **labels)
    if "retrain" in config.methods:
        model, seconds = _retrain(config, setup, task, baseline, cache, seed)
        rows += metric_rows({**evaluate(model, task), "seconds": seconds}, method="retrain", **labels)
    if "ssd" not in config.methods and "assd" not in config.methods:
        return rows
    full = retain_importances(setup, task, baseline, cache)  # []_D on Dr, as the authors' ASSD
    importance_s = cache.seconds
    start = time.perf_counter()
    forget = forget_importances(baseline, forget_loader(setup, task), full)
    forget_s = time.perf_counter() - start
    n_forget, n_total = len(task.forget_train), len(task.full_train)
    for method in ("ssd", "assd"):
        if method not in config.methods:
            continue
        start = time.perf_counter()
        extra: dict[str, float] = {}
        if method == "ssd":
            chosen, lam = alpha, config.ssd_lambda
        else:
            extra["percentile"] = adaptive_percentile(n_forget, n_total)
            chosen, lam = select_alpha(full, forget, extra["percentile"]), 1.0
        model, report = unlearned_copy(baseline, dampen, full, forget, alpha=chosen, lam=lam)
        seconds = forget_s + time.perf_counter() - start
        rows += metric_rows({**evaluate(model, task), "seconds": seconds, "importance_s": importance_s,
                             "alpha": report.alpha, "lambda": report.lam,
                             "fraction_selected": report.fraction_selected, **extra},
                            method=method, **labels)
    return rows


def benchmark_scenario(config: BenchmarkConfig, seed: int, *,
                       cache_root: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """One scenario: every model x target x method, as tidy rows.

    Args:
        config: the benchmark config.
        seed: the scenario seed (retrain seed; random forgetting's forget-set seed).
        cache_root: root of the :class:`ArtifactCache` for trained models and ``[]_D``
            (None: train and compute everything afresh).

    Returns:
        Rows ``{dataset, kind, model, target, n_forget, method, metric, value}``; ``target``
        is a string, ``value`` in percent for Dr/Df/MIA.

    Raises:
        ValueError: a target names no class of the data set, or a forget or retain set would
            be empty (:func:`~assd_repro.experiments.image_pipeline.make_task`); then the data
            loader's and the training's checks.
    """
    cache = _TimedCache(cache_root)
    rows: list[dict[str, Any]] = []
    for setup, alpha in zip(config.setups, config.ssd_alpha, strict=True):
        data = load_data(setup)
        tasks = [make_task(data, config.kind, t, seed=seed) for t in config.targets]  # type: ignore[arg-type]
        baseline = baseline_model(setup, tasks[0], cache)  # trained on all of D: same for every task
        baseline_s = cache.seconds
        for target, task in zip(config.targets, tasks, strict=True):
            labels = {"dataset": setup.dataset, "kind": config.kind, "model": setup.model,
                      "target": str(target), "n_forget": len(task.forget_train)}
            rows += _task_rows(config, setup, alpha, task, baseline, baseline_s, cache, seed, labels)
    return rows


def run_benchmark(config: BenchmarkConfig, *, results_dir: str | os.PathLike[str] = "results",
                  workers: int | None = None, scheduler: str | None = None, progress: bool = True,
                  cache: bool = True) -> pd.DataFrame:
    """Run (or load) every scenario of ``config`` through :func:`run_scenarios`.

    Args:
        config: the benchmark config.
        results_dir: results root; the artefact cache lives in ``<results_dir>/cache``.
        workers, scheduler, progress: see :func:`~assd_repro.experiments.run_scenarios`.
        cache: reuse trained models and ``[]_D`` across seeds and experiments (False: train
            everything afresh in every scenario).

    Returns:
        The tidy rows of every seed (see :func:`benchmark_scenario`), plus the runner's
        ``experiment``, ``config_hash``, ``scenario`` and ``wall_s`` columns.

    Raises:
        ValueError: ``workers`` out of range, as :func:`~assd_repro.experiments.run_scenarios`;
            then as :func:`benchmark_scenario`.
    """
    fn = functools.partial(benchmark_scenario, cache_root=os.fspath(results_dir) if cache else None)
    return run_scenarios(fn, config, results_dir=results_dir, workers=workers,
                         scheduler=scheduler, progress=progress)
