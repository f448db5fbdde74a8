"""Hyper-parameters of the unlearning methods of the method comparison, tuned by Optuna on
held-out retained rows (issue 13).

Per method, model size and error rate, a seeded TPE study (independent sampler, as
:mod:`~assd_repro.experiments.lambda_study`) searches :data:`~assd_repro.experiments.
method_comparison.SEARCH_SPACES`. The objective is the mean accuracy (%) on the validation
slice of Dr (true labels, held out of every method's Dr) over ``n_scenarios`` tuning scenarios:
the same cell with replicates ``TUNING_REPLICATE_OFFSET + k``, so that no tuning scenario shares
its wrong labels with an evaluated one. A trial whose loss becomes NaN or infinite scores 0 on
its scenario. The tuning scenarios' baselines are trained once per cell and shared by every
method's study; their cost is reported apart (a practitioner tunes on the one model they
have). ASSD and its guard need no tuning; ``tuned_ssd`` tunes its own alpha.

Cost, measured on the shared 2-core machine (one thread): at the smoke profile a trial costs
1.35 times the method's run with its defaults on each tuning scenario (23 s for the 14 studies
of 3 trials x 2 scenarios). On the real sample (book profile, 2 trials x 1 scenario of all 42
studies of 7 methods x 3 sizes x 2 rates: 38 s, and 14 s for the 6 baselines), a trial on one
scenario of every study costs 19 s together, so :data:`DEFAULT_TRIALS` = 30 trials x 5
scenarios take about 2,800 s and the 30 tuning baselines 70 s: about 0.8 CPU h (the smoke
ratio would predict 1.1 h). The full-size synthetic 3x100 costs about 3.8 times the sample's
3x100: about 0.6 h for its 2 rates.

Stored runs (:mod:`~assd_repro.experiments.stored_runs`) run the studies through the experiment
engine: :class:`MethodTuningConfig` makes each study ``(method, model_size, error_pct)`` one
scenario of :func:`method_tuning_scenario` (resumable, checked, with provenance), and
:func:`tuned_from_rows` turns the stored rows into a comparison config's ``tuned``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import optuna
import pandas as pd
import torch

from assd_repro.experiments.engine.runner import torch_threads
from assd_repro.experiments.method_comparison import (
    COMPARISON_METHODS,
    SEARCH_SPACES,
    MethodComparisonConfig,
    PreparedScenario,
    Space,
    nearest_tuned_pct,
    prepare_scenario,
    run_method,
)
from assd_repro.experiments.supply_chain_pipeline import (
    evaluate_accuracy,
    run_supply_chain,
    timed,
)

__all__ = ["DEFAULT_TRIALS", "TUNABLE_METHODS", "TUNING_REPLICATE_OFFSET", "MethodTuningConfig",
           "Study", "method_tuning_scenario", "run_method_tuning", "suggest_params", "tune_all",
           "tune_method", "tuned_from_rows", "tuning_costs", "tuning_scenarios"]

#: replicate id of the first tuning scenario (evaluation replicates stay below it)
TUNING_REPLICATE_OFFSET = 10_000
#: trials per study (see the module docstring for the cost)
DEFAULT_TRIALS = 30
#: the methods with hyper-parameters to tune, in the comparison's order
TUNABLE_METHODS: tuple[str, ...] = tuple(m for m in COMPARISON_METHODS if m in SEARCH_SPACES)


def suggest_params(trial: optuna.Trial | optuna.trial.FixedTrial, method: str
                   ) -> dict[str, int | float]:
    """The hyper-parameters of one trial, drawn from ``SEARCH_SPACES[method]``.

    A ``complement`` space is suggested as ``one_minus_<name>``; everything else under its own
    name. ``suggest_params(optuna.trial.FixedTrial(study.best_params), method)`` gives the best
    trial's parameters back.
    """
    params: dict[str, int | float] = {}
    for name, space in SEARCH_SPACES[method].items():
        params[name] = _suggest(trial, name, space)
    return params


def _suggest(trial: optuna.Trial | optuna.trial.FixedTrial, name: str, space: Space
             ) -> int | float:
    if space.integer:
        return trial.suggest_int(name, int(space.low), int(space.high))
    if space.complement:
        return 1.0 - trial.suggest_float(f"one_minus_{name}", 1.0 - space.high,
                                         1.0 - space.low, log=True)
    return trial.suggest_float(name, space.low, space.high, log=space.log)


def _check_tuning(config: MethodComparisonConfig, method: str, error_pct: float,
                  n_scenarios: int, n_trials: int) -> None:
    if method not in SEARCH_SPACES:
        raise ValueError(f"method={method!r} has nothing to tune here; tunable: "
                         f"{', '.join(SEARCH_SPACES)} (ASSD needs no parameter, tuned_ssd "
                         "tunes its alpha itself)")
    config.check_error_pct(error_pct)
    for name, value in (("n_scenarios", n_scenarios), ("n_trials", n_trials)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r} must be a whole number >= 1")


def tuning_scenarios(config: MethodComparisonConfig, size: str, error_pct: float,
                     n_scenarios: int) -> list[PreparedScenario]:
    """The tuning scenarios of a cell: replicates ``TUNING_REPLICATE_OFFSET + k``,
    ``k < n_scenarios``, each with its baseline trained (as an evaluated scenario's).

    Raises:
        ValueError: as :func:`~assd_repro.experiments.method_comparison.prepare_scenario`.
    """
    return [prepare_scenario(config, size, error_pct, TUNING_REPLICATE_OFFSET + k)
            for k in range(n_scenarios)]


def _objective(prepared: Sequence[PreparedScenario], method: str,
               params: Mapping[str, Any]) -> float:
    """Mean validation accuracy (%) of ``method`` with ``params`` over the scenarios."""
    total = 0.0
    for p in prepared:
        model = run_method(p, method, params).model
        total += 0.0 if model is None else evaluate_accuracy(model, *p.validation)
    return total / len(prepared)


def _study(prepared: Sequence[PreparedScenario], method: str, n_trials: int, seed: int
           ) -> tuple[dict[str, int | float], float, float]:
    def objective(trial: optuna.Trial) -> float:
        return _objective(prepared, method, suggest_params(trial, method))

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(
            seed=seed, multivariate=False))
        with torch.random.fork_rng(devices=[]), torch_threads(1):
            _, seconds = timed(lambda: study.optimize(objective, n_trials=n_trials))
    finally:
        optuna.logging.set_verbosity(verbosity)
    best = study.best_trial
    assert best.value is not None  # a complete trial of a single-objective study
    return (suggest_params(optuna.trial.FixedTrial(best.params), method), float(best.value),
            seconds)


def tune_method(config: MethodComparisonConfig, method: str, size: str, error_pct: float, *,
                n_scenarios: int = 5, n_trials: int = DEFAULT_TRIALS, seed: int = 0
                ) -> tuple[dict[str, int | float], float, float]:
    """Tune one method for one cell (deterministic for a seed on the CPU, one torch thread).

    Args:
        config: the comparison's settings (data, recipe, ``validation_share``).
        method: a method of :data:`~assd_repro.experiments.method_comparison.SEARCH_SPACES`.
        size: a model size with hyper-parameters in ``config``.
        error_pct: the cell's error rate, in percent.
        n_scenarios: tuning scenarios the objective averages over.
        n_trials: Optuna trials.
        seed: seed of the TPE sampler.

    Returns:
        ``(params, best_value, seconds)``: the best trial's hyper-parameters, its objective
        (mean validation accuracy, %) and the study's wall time, seconds (the tuning
        scenarios' baselines not included).

    Raises:
        ValueError: ``method`` has no search space; ``error_pct`` is not in (0, 50);
            ``n_scenarios`` or ``n_trials`` is not a whole number >= 1; all before any
            training. Then as :func:`tuning_scenarios` (a size without hyper-parameters).
    """
    _check_tuning(config, method, error_pct, n_scenarios, n_trials)
    with torch_threads(1):
        prepared = tuning_scenarios(config, size, error_pct, n_scenarios)
    return _study(prepared, method, n_trials, seed)


def tune_all(config: MethodComparisonConfig, sizes: Sequence[str] | None = None,
             pcts: Sequence[float] = (1.0, 5.0), *, methods: Sequence[str] | None = None,
             n_scenarios: int = 5, n_trials: int = DEFAULT_TRIALS, seed: int = 0
             ) -> tuple[dict[tuple[str, str, float], dict[str, int | float]], pd.DataFrame]:
    """Tune every tunable method of ``config`` for every size at each rate of ``pcts``.

    Every error rate of ``config.error_pcts`` gets the parameters of the nearest tuned rate
    (:func:`~assd_repro.experiments.method_comparison.nearest_tuned_pct`; the lower on a tie):
    with the default ``pcts``, 10 % errors use the parameters tuned at 5 %.

    Args:
        config: the comparison's settings.
        sizes: model sizes; default ``config.model_sizes``.
        pcts: error rates tuned, in percent.
        methods: methods to tune; default those of ``config.methods`` with a search space.
        n_scenarios, n_trials, seed: as :func:`tune_method` (same seed for every study).

    Returns:
        ``(tuned, costs)``: ``tuned`` maps ``(method, size, pct)`` for every pct of
        ``config.error_pcts`` to hyper-parameters (pass it as ``config``'s ``tuned``);
        ``costs`` has one row per study: ``method, model_size, error_pct`` (the tuned rate),
        ``seconds``, ``best_value``, ``n_trials``, ``n_scenarios``, ``params`` (JSON), and one
        row per cell with method ``tuning_baselines``: the training of its tuning scenarios'
        baselines (shared by the studies).

    Raises:
        ValueError: ``pcts`` is empty; a method, rate or count as :func:`tune_method`; all
            before any training.
    """
    sizes = tuple(sizes or config.model_sizes)
    methods = tuple(m for m in config.methods if m in SEARCH_SPACES) if methods is None \
        else tuple(methods)
    if not pcts:
        raise ValueError("pcts is empty: give the error rates to tune at, e.g. (1.0, 5.0)")
    for method in methods:
        for pct in pcts:
            _check_tuning(config, method, float(pct), n_scenarios, n_trials)
    found: dict[tuple[str, str, float], dict[str, int | float]] = {}
    rows: list[dict[str, Any]] = []
    for size in sizes:
        for pct in map(float, pcts):
            with torch_threads(1):
                prepared, seconds = timed(lambda: tuning_scenarios(config, size, pct, n_scenarios))
            rows.append({"method": "tuning_baselines", "model_size": size, "error_pct": pct,
                         "seconds": seconds, "best_value": float("nan"), "n_trials": 0,
                         "n_scenarios": n_scenarios, "params": "{}"})
            for method in methods:
                params, best, seconds = _study(prepared, method, n_trials, seed)
                found[(method, size, pct)] = params
                rows.append({"method": method, "model_size": size, "error_pct": pct,
                             "seconds": seconds, "best_value": best, "n_trials": n_trials,
                             "n_scenarios": n_scenarios,
                             "params": json.dumps(params, sort_keys=True)})
    tuned = {(method, size, pct): found[(method, size, nearest_tuned_pct(pct, pcts))]
             for method in methods for size in sizes for pct in config.error_pcts}
    return tuned, pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The studies as scenarios of the experiment engine (stored runs)
# --------------------------------------------------------------------------------------------


class Study(NamedTuple):
    """What scenario id ``s`` of a :class:`MethodTuningConfig` stands for."""

    method: str
    model_size: str
    error_pct: float


@dataclasses.dataclass(frozen=True)
class MethodTuningConfig(MethodComparisonConfig):
    """Settings of the tuning studies: one study (scenario) per tunable method, model size and
    tuned error rate.

    Attributes:
        error_pcts: the error rates tuned at (the issue's 1 and 5 %); a comparison's other
            rates take the nearest's parameters (:func:`tuned_from_rows`).
        methods: the methods tuned, each in :data:`TUNABLE_METHODS`.
        n_trials: Optuna trials per study.
        n_tuning_scenarios: tuning scenarios the objective averages over (replicates
            :data:`TUNING_REPLICATE_OFFSET` + k).
        sampler_seed: seed of every study's TPE sampler.
        n_scenarios: must be 1 (a study is one scenario).
        Other fields: the comparison's (data, recipe, ``validation_share``), which the
        tuning scenarios share with the comparison whose methods they tune.

    Scenario id ``s`` is study ``cells()[s]``: the method varies fastest, then the size, then
    the rate, so that consecutive studies share their tuning scenarios, whose baselines are
    trained once per process and cell (:func:`method_tuning_scenario`).

    Profiles: ``smoke`` (the comparison's smoke data and recipe, 2x50 at 1 and 5 %, 3 trials on
    1 scenario), ``book`` (the comparison's book data and recipe, its 3 sizes at 1 and 5 %,
    :data:`DEFAULT_TRIALS` trials on 5 scenarios), ``paper`` (the same on the real file).

    Raises:
        ValueError: (at construction) ``methods`` holds a method without a search space;
            ``n_trials``, ``n_tuning_scenarios`` is not a whole number >= 1 or
            ``sampler_seed`` one >= 0; ``n_scenarios`` is not 1; ``tuned`` is set; then the
            checks of :class:`~assd_repro.experiments.method_comparison.MethodComparisonConfig`.
    """

    EXPERIMENT: ClassVar[str] = "method_tuning"
    PROFILES: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "smoke": {**MethodComparisonConfig.PROFILES["smoke"], "n_scenarios": 1,
                  "n_trials": 3, "n_tuning_scenarios": 1},
        "book": {**MethodComparisonConfig.PROFILES["book"], "error_pcts": (1.0, 5.0),
                 "n_scenarios": 1},
        "paper": {**MethodComparisonConfig.PROFILES["paper"], "error_pcts": (1.0, 5.0),
                  "n_scenarios": 1},
    }

    error_pcts: tuple[float, ...] = (1.0, 5.0)
    methods: tuple[str, ...] = TUNABLE_METHODS
    n_scenarios: int = 1
    n_trials: int = DEFAULT_TRIALS
    n_tuning_scenarios: int = 5
    sampler_seed: int = 0

    def validate(self) -> None:
        if isinstance(self.methods, tuple):
            untunable = [m for m in self.methods if m in COMPARISON_METHODS
                         and m not in SEARCH_SPACES]
            if untunable:
                raise ValueError(f"methods holds {untunable}, which have nothing to tune; "
                                 f"tunable: {', '.join(TUNABLE_METHODS)}")
        for name, minimum in (("n_trials", 1), ("n_tuning_scenarios", 1), ("sampler_seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name}={value!r} must be a whole number >= {minimum}")
        if self.n_scenarios != 1:
            raise ValueError(f"n_scenarios={self.n_scenarios!r} must be 1: a study is one "
                             "scenario; set n_tuning_scenarios for the scenarios it averages over")
        if self.tuned is not None:
            raise ValueError("tuned must stay None in a tuning config (it finds the parameters)")
        super().validate()

    def cells(self) -> tuple[Study, ...]:  # type: ignore[override]
        """The studies, the method fastest, then the size, then the error rate."""
        return tuple(Study(m, size, pct) for pct in self.error_pcts
                     for size in self.model_sizes for m in self.methods)

    def scenario(self, scenario_id: int) -> Study:  # type: ignore[override]
        """The study of a scenario id.

        Raises:
            ValueError: ``scenario_id`` is outside ``0..len(cells()) - 1``.
        """
        cells = self.cells()
        if not 0 <= scenario_id < len(cells):
            raise ValueError(f"scenario id {scenario_id} outside 0..{len(cells) - 1}")
        return cells[scenario_id]

    def comparison(self) -> MethodComparisonConfig:
        """The comparison config whose data, recipe and validation slice the studies share
        (this config's fields but the tuning's own; error rates and methods as here)."""
        own = {"n_trials", "n_tuning_scenarios", "sampler_seed", "seeds", "n_scenarios"}
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(MethodComparisonConfig)
                  if f.name not in own}
        return MethodComparisonConfig(**fields)


#: the tuning scenarios of the last cell this process tuned: ``(key, prepared, seconds)``
_PREPARED: dict[str, Any] = {}


def _prepared_cell(config: MethodTuningConfig, size: str, pct: float
                   ) -> tuple[list[PreparedScenario], float]:
    """The cell's tuning scenarios and the seconds their baselines took, trained once per
    process (the last cell is kept: consecutive studies share it)."""
    key = (config.content_hash(), size, pct)
    if _PREPARED.get("key") != key:
        _PREPARED.clear()
        prepared, seconds = timed(lambda: tuning_scenarios(config.comparison(), size, pct,
                                                           config.n_tuning_scenarios))
        _PREPARED.update(key=key, prepared=prepared, seconds=seconds)
    return _PREPARED["prepared"], _PREPARED["seconds"]


#: the parameter columns of the tuning rows, ``p_<name>`` for every name of any search space
PARAM_COLUMNS: tuple[str, ...] = tuple(sorted({f"p_{name}" for spaces in SEARCH_SPACES.values()
                                               for name in spaces}))


def method_tuning_scenario(config: MethodTuningConfig, seed: int) -> list[dict[str, Any]]:
    """One study: tune ``method`` for ``(model_size, error_pct)`` (:func:`tune_method`'s
    search, the cell's tuning scenarios trained once per process and cell).

    Returns:
        One row: ``method, model_size, error_pct, n_trials, n_tuning_scenarios``, ``value``
        (the best trial's mean validation accuracy, %), ``method_s`` (the study's seconds),
        ``baselines_s`` (seconds of the cell's tuning baselines, trained once for all its
        studies) and the best parameters as float columns :data:`PARAM_COLUMNS` (NaN for a
        parameter the method does not take).

    Raises:
        ValueError: ``seed`` is not a scenario id of ``config``.
    """
    method, size, pct = config.scenario(seed)
    prepared, baselines_s = _prepared_cell(config, size, pct)
    params, best, seconds = _study(prepared, method, config.n_trials, config.sampler_seed)
    row: dict[str, Any] = {"method": method, "model_size": size, "error_pct": pct,
                           "n_trials": config.n_trials,
                           "n_tuning_scenarios": config.n_tuning_scenarios, "value": best,
                           "method_s": seconds, "baselines_s": baselines_s}
    row.update({column: math.nan for column in PARAM_COLUMNS})
    row.update({f"p_{name}": float(value) for name, value in params.items()})
    return [row]


def run_method_tuning(config: MethodTuningConfig, **options: Any) -> pd.DataFrame:
    """Run the missing studies (one torch thread each) and return every row.

    ``options`` are those of
    :func:`~assd_repro.experiments.supply_chain_pipeline.run_supply_chain`; the results go to
    ``<results_dir>/method_tuning/<hash>/scenario-<id>.parquet``.
    """
    return run_supply_chain(method_tuning_scenario, config, **options)


def _study_params(row: Any) -> dict[str, int | float]:
    spaces = SEARCH_SPACES[row.method]
    return {name: int(getattr(row, f"p_{name}")) if space.integer
            else float(getattr(row, f"p_{name}")) for name, space in spaces.items()}


def tuned_from_rows(rows: pd.DataFrame, error_pcts: Sequence[float]
                    ) -> dict[tuple[str, str, float], dict[str, int | float]]:
    """The ``tuned`` of a comparison at ``error_pcts`` from the rows of
    :func:`run_method_tuning`: each rate takes the parameters of the nearest tuned rate
    (:func:`~assd_repro.experiments.method_comparison.nearest_tuned_pct`).

    Raises:
        ValueError: ``rows`` is empty or lacks a column; it holds a study twice.
    """
    needed = ["method", "model_size", "error_pct", *PARAM_COLUMNS]
    missing = [c for c in needed if c not in rows.columns]
    if rows.empty or missing:
        raise ValueError(f"rows {'is empty' if rows.empty else f'lack {missing}'}: pass the "
                         "rows of run_method_tuning")
    found: dict[tuple[str, str, float], dict[str, int | float]] = {}
    for row in rows.itertuples(index=False):
        key = (row.method, row.model_size, float(row.error_pct))
        if key in found:
            raise ValueError(f"rows hold the study {key} twice")
        found[key] = _study_params(row)
    tuned = {}
    for method, size in {(m, s) for m, s, _ in found}:
        rates = [p for m, s, p in found if (m, s) == (method, size)]
        for pct in map(float, error_pcts):
            tuned[(method, size, pct)] = found[(method, size, nearest_tuned_pct(pct, rates))]
    return tuned


def tuning_costs(rows: pd.DataFrame) -> pd.DataFrame:
    """The cost table of :func:`tune_all` from the rows of :func:`run_method_tuning` (for
    :func:`~assd_repro.experiments.method_comparison.method_gains`' ``tuning_costs``): one
    row per study and one ``tuning_baselines`` row per cell."""
    studies = pd.DataFrame({
        "method": rows["method"], "model_size": rows["model_size"],
        "error_pct": rows["error_pct"].astype(float), "seconds": rows["method_s"],
        "best_value": rows["value"], "n_trials": rows["n_trials"],
        "n_scenarios": rows["n_tuning_scenarios"],
        "params": [json.dumps(_study_params(r), sort_keys=True)
                   for r in rows.itertuples(index=False)]})
    cells = rows.groupby(["model_size", "error_pct"], sort=False).agg(
        seconds=("baselines_s", "first"), n_scenarios=("n_tuning_scenarios", "first"))
    baselines = cells.reset_index().assign(method="tuning_baselines", best_value=math.nan,
                                           n_trials=0, params="{}")
    return pd.concat([baselines[studies.columns], studies], ignore_index=True)
