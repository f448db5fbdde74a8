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
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
import pandas as pd
import torch

from assd_repro.experiments.engine.runner import torch_threads
from assd_repro.experiments.method_comparison import (
    SEARCH_SPACES,
    MethodComparisonConfig,
    PreparedScenario,
    Space,
    nearest_tuned_pct,
    prepare_scenario,
    run_method,
)
from assd_repro.experiments.supply_chain_pipeline import evaluate_accuracy, timed

__all__ = ["DEFAULT_TRIALS", "TUNING_REPLICATE_OFFSET", "suggest_params", "tune_all",
           "tune_method", "tuning_scenarios"]

#: replicate id of the first tuning scenario (evaluation replicates stay below it)
TUNING_REPLICATE_OFFSET = 10_000
#: trials per study (see the module docstring for the cost)
DEFAULT_TRIALS = 30


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
