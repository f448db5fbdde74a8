"""Lambda-insensitivity study (paper Fig. 2): an Optuna TPE search over SSD's alpha and lambda.

The paper tunes SSD on CIFAR-100 "rocket" (full-class, ResNet18) with 50 Optuna TPE trials over
``alpha`` in [0.1, 100] and ``lambda`` in [0.1, 5], both on a log scale, and observes that alpha
decides the outcome while lambda barely matters; ASSD therefore fixes ``lambda = 1``. This module
reruns that study and quantifies "barely matters" with Optuna's fANOVA parameter importances.

Efficiency: the baseline model, its retain importances ``[]_Dr`` and the forget importances
``[]_Df`` do not depend on alpha or lambda. They are computed once per study
(:func:`prepare_dampening_task`; model and ``[]_Dr`` through the :class:`ArtifactCache`); a trial
only dampens a deep copy and evaluates it.

Resumption and sharing: the study lives in an Optuna storage (default an SQLite file
``<results>/lambda_study/<study-hash>/study.db``) and is opened with ``load_if_exists=True``; a
run adds trials until the study holds ``n_trials`` complete ones. ``n_trials`` is not part of the
study hash, so a longer study extends a shorter one. Each trial's TPE sampler is seeded from
``sampler_seed`` and the number of trials already in the study, so a resumed study proposes
exactly what an uninterrupted one would (a process killed mid-trial leaves that trial RUNNING in
the storage, which shifts the later seeds but not the count of complete trials). Several
processes can share one storage; they may then overshoot ``n_trials`` by up to one trial each,
and the table keeps the first ``n_trials`` complete trials.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState
from tqdm import tqdm

from assd_repro.experiments.engine.cache import ArtifactCache
from assd_repro.experiments.engine.config import ExperimentConfig, canonical_json
from assd_repro.experiments.engine.runner import run_scenarios, seed_everything, torch_threads
from assd_repro.experiments.engine.store import atomic_write_bytes
from assd_repro.experiments.image_pipeline import (
    BOOK_CIFAR10_SETUP,
    BOOK_CIFAR10_TARGETS,
    BOOK_IMAGE_SETUP,
    PAPER_CIFAR100_SETUP,
    SMOKE_IMAGE_SETUP,
    DampeningTask,
    ImageSetup,
    prepare_dampening_task,
)

__all__ = [
    "OBJECTIVES",
    "STUDY_ROW_COLUMNS",
    "LambdaStudyConfig",
    "LambdaStudyResult",
    "lambda_study_result",
    "lambda_study_rows",
    "lambda_study_scenario",
    "objective_value",
    "run_lambda_study",
    "run_lambda_study_stored",
]

ObjectiveName = Literal["dr_minus_df_mia", "dr_minus_df", "dr_minus_mia"]

#: Objectives the study can maximise (values in percentage points).
OBJECTIVES: dict[str, str] = {
    "dr_minus_df_mia": "Dr - (Df + MIA) / 2",
    "dr_minus_df": "Dr - Df",
    "dr_minus_mia": "Dr - MIA",
}

METRICS: tuple[str, ...] = ("Dr", "Df", "MIA")
TRIAL_COLUMNS: list[str] = ["trial", "alpha", "lam", "objective", "Dr", "Df", "MIA",
                            "fraction_selected"]


def objective_value(objective: str, metrics: Mapping[str, float]) -> float:
    """The study's objective (to maximise) from evaluated metrics in percent.

    The authors' Optuna objective for SSD is not published. Ours rewards closeness to a model
    retrained without the forgotten class, without training one per study: on a full-class
    task that model keeps the retain accuracy, scores about 0% on the forgotten class (``Df``)
    and its MIA on the forgotten training images is close to 0 (it never saw the class and is
    unsure about it). Hence:

    * ``"dr_minus_df_mia"`` (default): ``Dr - (Df + MIA) / 2``.
    * ``"dr_minus_df"``: ``Dr - Df``.
    * ``"dr_minus_mia"``: ``Dr - MIA``, the two quantities Fig. 2 plots. Alone it can be gamed:
      a light dampening that only flattens the softmax drives the entropy MIA to about 0 while
      the forgotten class is still recognised (book profile: MIA 0.25% with Df 84%).

    These targets suit full-class tasks only: on sub-class or random tasks the retrained
    model's Df and MIA are not near 0, and pushing them lower is the Streisand effect.

    Raises:
        ValueError: ``objective`` is not one of :data:`OBJECTIVES`.
    """
    if objective == "dr_minus_df_mia":
        return float(metrics["Dr"] - (metrics["Df"] + metrics["MIA"]) / 2)
    if objective == "dr_minus_df":
        return float(metrics["Dr"] - metrics["Df"])
    if objective == "dr_minus_mia":
        return float(metrics["Dr"] - metrics["MIA"])
    raise ValueError(f"objective={objective!r} is unknown; choose one of {', '.join(OBJECTIVES)}")


def _check_log_range(name: str, value: tuple[float, float]) -> None:
    ok = (len(value) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool)
                                  and math.isfinite(v) for v in value))
    if not ok or not 0 < value[0] < value[1]:
        raise ValueError(f"{name}={value!r} must be two finite numbers 0 < low < high "
                         "(the search is on a log scale)")


@dataclasses.dataclass(frozen=True)
class LambdaStudyConfig(ExperimentConfig):
    """Settings of the lambda-insensitivity study (paper Fig. 2).

    Attributes:
        setup: data, model and training settings (a dict is read as ``ImageSetup(**dict)``).
        forget_class: the class forgotten (full-class task); the paper's is CIFAR-100 "rocket",
            ``smoke`` uses digit "3", ``book`` CIFAR-10 airplane.
        n_trials: complete trials the study should hold (paper: 50).
        alpha_range: search range of alpha, log scale (paper: 0.1 to 100).
        lam_range: search range of lambda, log scale (paper: 0.1 to 5).
        objective: what the TPE search maximises, see :func:`objective_value`.
        sampler_seed: seed of the TPE sampler (and of fANOVA's random forests).
        storage: Optuna storage URL; ``None``: the SQLite file ``study.db`` in the study's
            results folder.
        seeds: unused; the study is one scenario whose randomness is ``sampler_seed`` and
            ``setup.train_seed``.

    Raises:
        ValueError: (:meth:`validate`, at construction) ``setup`` is not an
            :class:`ImageSetup` (or a dict of its fields); ``n_trials`` is not a whole number
            >= 1; ``alpha_range`` or ``lam_range`` is not two finite numbers
            ``0 < low < high``; ``objective`` is not one of :data:`OBJECTIVES`;
            ``sampler_seed`` is not a whole number >= 0; ``forget_class`` is not a non-empty
            class name or an index; ``storage`` is neither None nor a non-empty string. Also
            :class:`ExperimentConfig`'s checks (profile, seeds).
    """

    EXPERIMENT: ClassVar[str] = "lambda_study"
    PROFILES: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "smoke": {"setup": SMOKE_IMAGE_SETUP, "forget_class": "3", "n_trials": 6},
        "book": {"setup": BOOK_CIFAR10_SETUP, "forget_class": BOOK_CIFAR10_TARGETS[0],
                 "n_trials": 50},
        "paper": {"setup": PAPER_CIFAR100_SETUP, "forget_class": "rocket", "n_trials": 50},
    }

    setup: ImageSetup = BOOK_IMAGE_SETUP
    forget_class: str = "3"
    n_trials: int = 50
    alpha_range: tuple[float, float] = (0.1, 100.0)
    lam_range: tuple[float, float] = (0.1, 5.0)
    objective: ObjectiveName = "dr_minus_df_mia"
    sampler_seed: int = 0
    storage: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.setup, Mapping):
            object.__setattr__(self, "setup", ImageSetup(**self.setup))
        super().__post_init__()

    def validate(self) -> None:
        if not isinstance(self.setup, ImageSetup):
            raise ValueError(f"setup={self.setup!r} must be an ImageSetup "
                             "(or a dict of its fields)")
        if isinstance(self.n_trials, bool) or not isinstance(self.n_trials, int) \
                or self.n_trials < 1:
            raise ValueError(f"n_trials={self.n_trials!r} must be a positive whole number "
                             "of trials")
        _check_log_range("alpha_range", self.alpha_range)
        _check_log_range("lam_range", self.lam_range)
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective={self.objective!r} is unknown; choose one of "
                             f"{', '.join(OBJECTIVES)}")
        if isinstance(self.sampler_seed, bool) or not isinstance(self.sampler_seed, int) \
                or self.sampler_seed < 0:
            raise ValueError(f"sampler_seed={self.sampler_seed!r} must be a non-negative integer")
        if not isinstance(self.forget_class, str | int) or self.forget_class == "":
            raise ValueError(f"forget_class={self.forget_class!r} must be a class name or index")
        if self.storage is not None and (not isinstance(self.storage, str) or not self.storage):
            raise ValueError(f"storage={self.storage!r} must be an Optuna storage URL or None")

    def study_hash(self) -> str:
        """12 hex digits naming the study: every field but ``profile``, ``seeds``, ``n_trials``
        and ``storage`` (so that a longer study extends a shorter one)."""
        skip = {"profile", "seeds", "n_trials", "storage"}
        data = {k: v for k, v in self.to_dict().items() if k not in skip}
        text = canonical_json({"experiment": self.EXPERIMENT, "study": data})
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def study_name(self) -> str:
        """Name of the study in its storage."""
        return f"{self.EXPERIMENT}-{self.study_hash()}"


@dataclasses.dataclass(frozen=True, eq=False)
class LambdaStudyResult:
    """What :func:`run_lambda_study` returns.

    Attributes:
        config: the study's config.
        trials: ``(n_trials, 8)`` frame, one row per complete trial in trial order: ``trial``
            (Optuna's number), ``alpha``, ``lam``, ``objective``, ``Dr``, ``Df``, ``MIA``
            (percent), ``fraction_selected`` (in [0, 1]).
        param_importances: fANOVA importance of ``alpha`` and ``lam`` for the objective
            (normalised to sum to 1; NaN when the objective never varied).
        importances: tidy frame ``target, param, importance`` for the targets ``objective``,
            ``Dr``, ``Df`` and ``MIA``.
        baseline: the baseline model's ``Dr``, ``Df``, ``MIA`` in percent.
        assd: what ASSD does on the same task: ``alpha``, ``percentile``, ``Dr``, ``Df``,
            ``MIA``, ``fraction_selected``.
        folder: the results folder (``study.db`` unless ``storage`` is set, ``config.json`` of
            the latest run, ``trials-<n>.parquet``, ``importances-<n>.parquet``).
        storage: the Optuna storage URL; ``study_name``: the study's name in it.
    """

    config: LambdaStudyConfig
    trials: pd.DataFrame
    param_importances: dict[str, float]
    importances: pd.DataFrame
    baseline: dict[str, float]
    assd: dict[str, float]
    folder: Path
    storage: str
    study_name: str

    @property
    def best(self) -> dict[str, float]:
        """The row of the trial with the highest objective (first on ties)."""
        return self.trials.loc[self.trials["objective"].idxmax()].to_dict()


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def _trial_sampler(config: LambdaStudyConfig, n_existing: int) -> optuna.samplers.TPESampler:
    """TPE sampler of the trial that follows ``n_existing`` trials: seeded from both.

    Independent (univariate) TPE, Optuna's default when the paper was written (Optuna 5's
    default is multivariate); fixed here so that results do not depend on the Optuna version.
    """
    seed = int(np.random.SeedSequence([config.sampler_seed, n_existing]).generate_state(1)[0])
    return optuna.samplers.TPESampler(seed=seed, multivariate=False)


def _complete(study: optuna.Study) -> list[FrozenTrial]:
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return sorted(trials, key=lambda t: t.number)


def _run_trials(study: optuna.Study, config: LambdaStudyConfig, prepared: DampeningTask,
                progress: bool) -> None:
    bar = tqdm(total=config.n_trials, initial=len(_complete(study)), disable=not progress,
               desc=f"{config.EXPERIMENT} [{config.profile}]")
    while len(_complete(study)) < config.n_trials:
        study.sampler = _trial_sampler(config, len(study.get_trials(deepcopy=False)))
        trial = study.ask()
        alpha = trial.suggest_float("alpha", *config.alpha_range, log=True)
        lam = trial.suggest_float("lam", *config.lam_range, log=True)
        try:
            metrics = prepared.unlearn(alpha, lam)
        except BaseException:
            study.tell(trial, state=TrialState.FAIL)
            raise
        for name, value in metrics.items():
            trial.set_user_attr(name, float(value))
        study.tell(trial, objective_value(config.objective, metrics))
        bar.update()
    bar.close()


def _fanova(trials: list[FrozenTrial], seed: int) -> pd.DataFrame:
    """fANOVA importances of alpha and lam for the objective and each metric (tidy)."""
    rows = []
    study = optuna.create_study(direction="maximize")
    study.add_trials(trials)
    targets = {"objective": None, **{m: (lambda t, m=m: t.user_attrs[m]) for m in METRICS}}
    for target, fn in targets.items():
        values = [t.value if fn is None else fn(t) for t in trials]
        if len(trials) < 2 or np.ptp(values) == 0:
            found = {"alpha": math.nan, "lam": math.nan}
        else:
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
            found = optuna.importance.get_param_importances(study, evaluator=evaluator, target=fn)
        rows += [{"target": target, "param": p, "importance": float(found[p])}
                 for p in ("alpha", "lam")]
    return pd.DataFrame(rows)


def run_lambda_study(
    config: LambdaStudyConfig,
    *,
    results_dir: str | Path = "results",
    cache: ArtifactCache | None = None,
    threads: int = 1,
    progress: bool = True,
) -> LambdaStudyResult:
    """Run (or resume, or load) the study of ``config`` and compute fANOVA importances.

    Args:
        config: the study's settings.
        results_dir: results root; the study's folder is
            ``<results_dir>/lambda_study/<config.study_hash()>``.
        cache: cache of the baseline model and its retain importances; ``None``: an
            :class:`ArtifactCache` in ``results_dir`` (``ArtifactCache(None)`` disables it).
        threads: torch threads (1 is fastest on a shared CPU).
        progress: show progress bars.

    Returns:
        A :class:`LambdaStudyResult`; its tables are also written (atomically) to the folder.

    Raises:
        ValueError: ``threads`` is not a whole number >= 1 (before any file is written);
            ``config.forget_class`` names no class of the data (:func:`~assd_repro.data.fullclass`);
            then the data loader's and the training's checks.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads={threads!r} must be >= 1")
    folder = Path(results_dir) / config.EXPERIMENT / config.study_hash()
    folder.mkdir(parents=True, exist_ok=True)
    storage = config.storage or f"sqlite:///{(folder / 'study.db').resolve()}"
    cache = ArtifactCache(results_dir) if cache is None else cache
    text = canonical_json({"experiment": config.EXPERIMENT, **config.to_dict()})
    atomic_write_bytes(folder / "config.json", text.encode())  # the latest run's settings
    with torch_threads(threads), _quiet_optuna():
        study = optuna.create_study(storage=storage, study_name=config.study_name,
                                    direction="maximize", load_if_exists=True,
                                    sampler=_trial_sampler(config, 0))
        if len(_complete(study)) < config.n_trials or "assd" not in study.user_attrs:
            seed_everything(config.sampler_seed)
            prepared = prepare_dampening_task(config.setup, "fullclass", config.forget_class,
                                              cache=cache, progress=progress)
            if "assd" not in study.user_attrs:
                alpha = prepared.assd_alpha()
                assd = {"alpha": alpha, "percentile": prepared.assd_percentile,
                        **prepared.unlearn(alpha, 1.0)}
                study.set_user_attr("baseline", prepared.baseline)
                study.set_user_attr("assd", assd)
            _run_trials(study, config, prepared, progress)
        trials = _complete(study)[: config.n_trials]
        importances = _fanova(trials, config.sampler_seed)
    table = pd.DataFrame(
        [{"trial": t.number, "alpha": t.params["alpha"], "lam": t.params["lam"],
          "objective": t.value, **{k: t.user_attrs[k] for k in TRIAL_COLUMNS[4:]}} for t in trials],
        columns=TRIAL_COLUMNS,
    )
    atomic_write_bytes(folder / f"trials-{config.n_trials}.parquet", table.to_parquet(index=False))
    atomic_write_bytes(folder / f"importances-{config.n_trials}.parquet",
                       importances.to_parquet(index=False))
    objective = importances[importances["target"] == "objective"]
    return LambdaStudyResult(
        config=config,
        trials=table,
        param_importances=dict(zip(objective["param"], objective["importance"], strict=True)),
        importances=importances,
        baseline=dict(study.user_attrs["baseline"]),
        assd=dict(study.user_attrs["assd"]),
        folder=folder,
        storage=storage,
        study_name=config.study_name,
    )


#: columns of :func:`lambda_study_rows`
STUDY_ROW_COLUMNS: list[str] = ["part", "trial", "alpha", "lam", "target", "metric", "value"]


def lambda_study_rows(result: LambdaStudyResult) -> pd.DataFrame:
    """A study as one tidy frame (the rows of a stored run), columns :data:`STUDY_ROW_COLUMNS`.

    ``part`` is ``"trial"`` (one row per complete trial and metric: ``objective``, ``Dr``,
    ``Df``, ``MIA`` in percent or points, ``fraction_selected`` in [0, 1]; with the trial's
    ``trial``, ``alpha`` and ``lam``), ``"baseline"`` (``Dr``, ``Df``, ``MIA``), ``"assd"``
    (ASSD on the same task: its ``alpha``, lambda 1, and ``Dr``, ``Df``, ``MIA``,
    ``fraction_selected``, ``percentile``) or ``"importance"`` (fANOVA: ``target`` the
    objective or a metric, ``metric`` the parameter, ``alpha`` or ``lam``). Unused cells are
    NaN (numbers) or ``""`` (``target``).
    """
    rows: list[dict[str, Any]] = []
    blank = {"trial": math.nan, "alpha": math.nan, "lam": math.nan, "target": ""}
    for trial in result.trials.itertuples(index=False):
        for metric in TRIAL_COLUMNS[3:]:
            rows.append({"part": "trial", "trial": float(trial.trial), "alpha": trial.alpha,
                         "lam": trial.lam, "target": "", "metric": metric,
                         "value": float(getattr(trial, metric))})
    rows += [{"part": "baseline", **blank, "metric": m, "value": float(v)}
             for m, v in result.baseline.items()]
    assd = dict(result.assd)
    alpha = assd.pop("alpha")
    rows += [{"part": "assd", **blank, "alpha": alpha, "lam": 1.0, "metric": m,
              "value": float(v)} for m, v in assd.items()]
    rows += [{"part": "importance", **blank, "target": r.target, "metric": r.param,
              "value": float(r.importance)} for r in result.importances.itertuples(index=False)]
    return pd.DataFrame(rows, columns=STUDY_ROW_COLUMNS)


def lambda_study_result(rows: pd.DataFrame, config: LambdaStudyConfig) -> LambdaStudyResult:
    """The study back from its tidy rows (:func:`lambda_study_rows`; a stored run's rows, whose
    runner columns are ignored): what :func:`run_lambda_study` returned, without its storage
    (``folder`` is ``Path()``, ``storage`` and ``study_name`` empty).

    Raises:
        ValueError: ``rows`` lacks a column of :data:`STUDY_ROW_COLUMNS`, or has no trial,
            baseline or ASSD rows (names what is missing).
    """
    missing = [c for c in STUDY_ROW_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack the column(s) {missing}: pass lambda_study_rows(result) "
                         "or a stored run's rows")
    parts = {p: rows[rows["part"] == p] for p in ("trial", "baseline", "assd", "importance")}
    absent = [p for p in ("trial", "baseline", "assd") if parts[p].empty]
    if absent:
        raise ValueError(f"rows hold no {', '.join(absent)} rows: not a complete study")
    wide = (parts["trial"].pivot_table(index=["trial", "alpha", "lam"], columns="metric",
                                       values="value", sort=False).reset_index())
    trials = wide.assign(trial=wide["trial"].astype(int))[TRIAL_COLUMNS]
    trials = trials.sort_values("trial", kind="stable").reset_index(drop=True)
    trials.columns.name = None
    importances = pd.DataFrame({"target": parts["importance"]["target"].to_numpy(),
                                "param": parts["importance"]["metric"].to_numpy(),
                                "importance": parts["importance"]["value"].to_numpy()})
    objective = importances[importances["target"] == "objective"]
    assd = {str(r.metric): float(r.value) for r in parts["assd"].itertuples()}
    return LambdaStudyResult(
        config=config, trials=trials,
        param_importances=dict(zip(objective["param"], objective["importance"], strict=True)),
        importances=importances,
        baseline={str(r.metric): float(r.value) for r in parts["baseline"].itertuples()},
        assd={"alpha": float(parts["assd"]["alpha"].iloc[0]), **assd},
        folder=Path(), storage="", study_name="")


def lambda_study_scenario(config: LambdaStudyConfig, seed: int, *,
                          cache_root: str | Path | None = None) -> pd.DataFrame:
    """The whole study as one scenario (the unit of a stored run): :func:`run_lambda_study`
    with its study and the artefact cache under ``cache_root`` (None: a temporary folder, no
    cache), as :func:`lambda_study_rows`. ``seed`` is unused (``sampler_seed`` seeds the
    study)."""
    del seed
    if cache_root is not None:
        return lambda_study_rows(run_lambda_study(config, results_dir=cache_root,
                                                  progress=False))
    with tempfile.TemporaryDirectory(prefix="lambda-study-") as tmp:
        return lambda_study_rows(run_lambda_study(config, results_dir=tmp,
                                                  cache=ArtifactCache(None), progress=False))


def run_lambda_study_stored(config: LambdaStudyConfig, *, results_dir: str | Path = "results",
                            progress: bool = True) -> pd.DataFrame:
    """The study through :func:`~assd_repro.experiments.run_scenarios` (one scenario; the
    result store of ``results_dir`` keeps its rows, the artefact cache there its baseline):
    what a stored run of the study computes. Returns :func:`lambda_study_rows` plus the
    runner's columns."""
    scenario = functools.partial(lambda_study_scenario, cache_root=results_dir)
    return run_scenarios(scenario, config, results_dir=results_dir, progress=progress)
