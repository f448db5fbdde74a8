"""Error unlearning on supply-chain data (paper section 6.2, Table 4, Figs. 4-5).

A random ``error_pct`` of the training labels is wrong. Per scenario (one model size, one
error rate, one replicate) four models are compared (book: Method, "Models, training and
baselines"):

- ``baseline``: the MLP trained on D, wrong labels included;
- ``retrain``: the same training (same initial weights) on Dr only;
- ``finetune``: the baseline fine-tuned one epoch on Dr at ``decayed_lr`` (``lr0 * 0.95**26``);
- ``assd``: the baseline unlearned with ASSD, ``[]_Dr`` at the training batch size 1024,
  Df = the wrong rows *with their wrong labels*, ``|D| = |Dr| + |Df|``.

Rows (tidy, one per method and split): ``model_size, error_pct, replicate, method, split``
(``"test"`` or ``"train"``, the latter being Dr with its correct labels, as the authors'
``rt_`` accuracies), ``value`` (accuracy, %), ``n_eval`` (rows evaluated), ``n_forget``,
``n_changed`` (rows whose label really differs: fewer than ``n_forget`` in ``"authors"`` mode),
``method_s`` (seconds: training, or importances + dampening for ASSD) and ASSD's ``alpha``,
``percentile`` and ``fraction_selected`` (NaN for the other methods).
Statistics and the comparison with Table 4 live in :mod:`assd_repro.experiments.error_stats`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import pandas as pd
import torch
from torch import nn

from assd_core import DampeningReport
from assd_repro.baselines import finetune, unlearned_copy
from assd_repro.experiments.error_stats import (
    METHODS,
    cell_statistics,
    compare_table4_with_paper,
    encode_correct,
    scenario_gains,
)
from assd_repro.experiments.supply_chain_pipeline import (
    PAPER_ERROR_PCTS,
    SUPPLY_CHAIN_SIZES,
    SupplyChainConfig,
    assd_from_rows,
    batch_loader,
    evaluate_accuracy,
    make_error_split,
    predict_proba,
    run_supply_chain,
    sample_settings,
    timed,
    train_mlp,
)
from assd_repro.models import mlp_size
from assd_repro.training import decayed_lr, supply_chain_recipe

__all__ = [
    "METHODS",
    "PAPER_ERROR_PCTS",
    "ErrorScenario",
    "ErrorUnlearningConfig",
    "cell_statistics",
    "compare_table4_with_paper",
    "error_unlearning_scenario",
    "run_error_unlearning",
    "scenario_gains",
    "tune_hyperparameters",
]


class ErrorScenario(NamedTuple):
    """What scenario id ``s`` stands for."""

    model_size: str
    error_pct: float
    replicate: int


@dataclasses.dataclass(frozen=True)
class ErrorUnlearningConfig(SupplyChainConfig):
    """Settings of the error-unlearning experiment (Table 4).

    Attributes:
        model_sizes: MLP sizes ``"LAYERSxWIDTH"`` (paper: 5x250, 3x100, 2x50), each with an
            entry in ``hyperparameters``.
        error_pcts: shares of wrong training labels, in percent, each in (0, 50).
        keep_test_predictions: also store, in the test rows' ``test_correct`` column, which
            test rows each model classifies correctly (hex of ``numpy.packbits``), for the
            bootstrap over test rows.
        Other fields: see :class:`~assd_repro.experiments.supply_chain_pipeline.SupplyChainConfig`
        (``n_scenarios`` replicates per cell; scenario id ``s`` is cell ``s % n_cells`` of
        :meth:`cells`, replicate ``s // n_cells``).

    Profiles: ``smoke`` (2x50, 2 error rates, 2 replicates, the shipped real sample, 5
    epochs; seconds), ``book`` (3 sizes x 6 error rates x 100 replicates on the shipped real
    sample :func:`~assd_repro.data.dataco_sample_path`, 25 epochs at batch
    :data:`~assd_repro.experiments.supply_chain_pipeline.SAMPLE_BATCH_SIZE` with
    :data:`~assd_repro.experiments.supply_chain_pipeline.SAMPLE_TUNED_HYPERPARAMETERS`: the
    full file's number of SGD steps; CPU hours, stored: :mod:`~assd_repro.experiments.stored_runs`),
    ``paper`` (3 x 6 x 100 on the real file at the paper's batch of 1,024: for a cluster).

    Raises:
        ValueError: (:meth:`validate`, at construction) ``model_sizes`` is empty, repeats a
            size, or holds one that is not ``"LAYERSxWIDTH"`` or has no entry in
            ``hyperparameters``; ``error_pcts`` is empty, repeats a value or holds one that is
            not a float in (0, 50); ``keep_test_predictions`` is not a bool; then the checks of
            :class:`~assd_repro.experiments.supply_chain_pipeline.SupplyChainConfig`.
    """

    EXPERIMENT: ClassVar[str] = "error_unlearning"
    PROFILES: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "smoke": {"model_sizes": ("2x50",), "error_pcts": (1.0, 5.0), "n_scenarios": 2,
                  "epochs": 5, **sample_settings()},
        "book": {"model_sizes": SUPPLY_CHAIN_SIZES, "error_pcts": PAPER_ERROR_PCTS,
                 "n_scenarios": 100, "keep_test_predictions": True, "epochs": 25,
                 **sample_settings()},
        "paper": {"model_sizes": SUPPLY_CHAIN_SIZES, "error_pcts": PAPER_ERROR_PCTS,
                  "n_scenarios": 100, "epochs": 25},
    }

    model_sizes: tuple[str, ...] = SUPPLY_CHAIN_SIZES
    error_pcts: tuple[float, ...] = PAPER_ERROR_PCTS
    keep_test_predictions: bool = False

    def _normalise(self) -> None:
        for name in ("model_sizes", "error_pcts"):
            value = getattr(self, name)
            if isinstance(value, str | int | float):
                value = (value,)
            if isinstance(value, list | tuple):
                value = tuple(float(v) if name == "error_pcts" and isinstance(v, int)
                              and not isinstance(v, bool) else v for v in value)
            object.__setattr__(self, name, value)

    def validate(self) -> None:
        if not isinstance(self.model_sizes, tuple) or not self.model_sizes:
            raise ValueError(f"model_sizes={self.model_sizes!r} must be a non-empty sequence "
                             "such as ('5x250', '3x100', '2x50')")
        for size in self.model_sizes:
            mlp_size(size)
            self.lr_wd(size)
        if not isinstance(self.error_pcts, tuple) or not self.error_pcts:
            raise ValueError(f"error_pcts={self.error_pcts!r} must be a non-empty sequence of "
                             "percentages such as (1.0, 5.0)")
        for pct in self.error_pcts:
            self.check_error_pct(pct)
        for name in ("model_sizes", "error_pcts"):
            if len(set(getattr(self, name))) != len(getattr(self, name)):
                raise ValueError(f"{name}={getattr(self, name)!r} holds a value twice")
        if not isinstance(self.keep_test_predictions, bool):
            raise ValueError(f"keep_test_predictions={self.keep_test_predictions!r} must be "
                             "True or False")
        super().validate()

    def cells(self) -> tuple[tuple[str, float], ...]:
        """``(model_size, error_pct)`` pairs, error rate first then size (Table 4's order)."""
        return tuple((size, pct) for pct in self.error_pcts for size in self.model_sizes)

    def scenario(self, scenario_id: int) -> ErrorScenario:
        """The ``(model_size, error_pct, replicate)`` of a scenario id.

        Raises:
            ValueError: ``scenario_id`` is outside ``0..len(cells()) * n_scenarios - 1``.
        """
        cells = self.cells()
        if not 0 <= scenario_id < len(cells) * self.n_scenarios:
            raise ValueError(f"scenario id {scenario_id} outside 0..{len(cells) * self.n_scenarios - 1}")
        size, pct = cells[scenario_id % len(cells)]
        return ErrorScenario(size, pct, scenario_id // len(cells))


def _assd_fields(report: DampeningReport | None) -> dict[str, float]:
    if report is None:
        return {"alpha": math.nan, "percentile": math.nan, "fraction_selected": math.nan}
    return {"alpha": float(report.alpha), "percentile": float(report.percentile),
            "fraction_selected": float(report.fraction_selected)}


def error_unlearning_scenario(config: ErrorUnlearningConfig, seed: int) -> list[dict[str, Any]]:
    """One scenario: inject errors, train baseline and retrain, fine-tune, unlearn, evaluate.

    Args:
        config: the experiment's settings.
        seed: scenario id (see :meth:`ErrorUnlearningConfig.scenario`); its replicate seeds the
            choice of wrong rows and labels.

    Returns:
        8 tidy rows (4 methods x 2 splits), see the module docstring.

    Raises:
        ValueError: ``seed`` is not a scenario id of ``config``
            (:meth:`ErrorUnlearningConfig.scenario`).
    """
    size, pct, replicate = config.scenario(seed)
    split = config.split()
    data = make_error_split(split, pct, replicate, config.error_mode)
    recipe = config.recipe(size)
    init = config.init_seed_for(replicate)
    retain, forget = data.retain(), data.forget()

    models: dict[str, tuple[nn.Module, float, DampeningReport | None]] = {}
    baseline, seconds = timed(lambda: train_mlp(*data.full(), size, recipe, init_seed=init,
                                                train_seed=replicate))
    models["baseline"] = (baseline, seconds, None)
    model, seconds = timed(lambda: train_mlp(*retain, size, recipe, init_seed=init,
                                             train_seed=replicate))
    models["retrain"] = (model, seconds, None)
    (model, _), seconds = timed(lambda: finetune(
        baseline, batch_loader(*retain, config.batch_size, shuffle=config.shuffle, seed=replicate,
                               for_training=True),
        lr=decayed_lr(recipe), weight_decay=recipe.weight_decay, epochs=1, seed=replicate))
    models["finetune"] = (model, seconds, None)
    (model, report), seconds = timed(lambda: unlearned_copy(
        baseline, assd_from_rows, retain, forget, n_total=data.n_total, batch_size=config.batch_size))
    models["assd"] = (model, seconds, report)

    x_test, y_test = torch.from_numpy(split.x_test), torch.from_numpy(split.y_test)
    labels = {"model_size": size, "error_pct": pct, "replicate": replicate,
              "n_forget": len(forget[1]),
              "n_changed": int((data.y_noisy != data.y_clean).sum())}
    rows = []
    for method in METHODS:
        model, seconds, report = models[method]
        for split_name, (x, y) in (("test", (x_test, y_test)), ("train", retain)):
            row = {**labels, "method": method, "split": split_name,
                   "value": evaluate_accuracy(model, x, y), "n_eval": len(y),
                   "method_s": seconds, **_assd_fields(report)}
            if config.keep_test_predictions:
                row["test_correct"] = (_correct_hex(model, x, y) if split_name == "test"
                                       else "")
            rows.append(row)
    return rows


def _correct_hex(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> str:
    """Which rows ``model`` classifies correctly (:func:`~assd_repro.experiments.error_stats.encode_correct`)."""
    return encode_correct(predict_proba(model, x).argmax(axis=1) == y.numpy())


def run_error_unlearning(config: ErrorUnlearningConfig, **options: Any) -> pd.DataFrame:
    """Run the missing scenarios of Table 4 and return every row, one torch thread each.

    ``options`` (``results_dir``, ``workers``, ``scheduler``, ``progress``) are those of
    :func:`~assd_repro.experiments.supply_chain_pipeline.run_supply_chain`; the results go to
    ``<results_dir>/error_unlearning/<hash>/scenario-<id>.parquet``.

    Raises:
        DatasetNotFoundError, ValueError: as
            :func:`~assd_repro.experiments.supply_chain_pipeline.run_supply_chain`.
    """
    return run_supply_chain(error_unlearning_scenario, config, **options)


def tune_hyperparameters(config: SupplyChainConfig, n_trials: int = 20, seed: int = 0, *,
                         sizes: Sequence[str] | None = None, validation_fraction: float = 0.2
                         ) -> pd.DataFrame:
    """Tune lr and weight decay per model size as the authors did: Optuna TPE (seeded) on
    error-free data, lr in [1e-5, 1e-1] and weight decay in [1e-6, 1e-1], both log-uniform.

    Objective: accuracy (%) on the last ``validation_fraction`` of the time-ordered train split
    of a model trained on the rest with the config's recipe (epochs, batch size, shuffle;
    clean labels; the config's ``init_seed``). The authors validated on a random 20% instead
    (``train_test_split(..., random_state=42)``); the time-ordered hold-out mirrors the test split.

    Args:
        config: an experiment config with the data settings (``protocol``, ``data_path``,
            ``n_rows``, ``data_seed``), ``epochs``, ``batch_size``, ``shuffle``, ``init_seed``
            and ``model_sizes`` (or ``model_size``).
        n_trials: trials per size.
        seed: seed of the TPE sampler.
        sizes: model sizes to tune; default the config's.
        validation_fraction: share of the train rows held out, in (0, 1).

    Returns:
        One row per size: ``model_size, lr, weight_decay, val_accuracy, n_trials``.

    Raises:
        ValueError: ``validation_fraction`` is not in (0, 1); ``n_trials`` < 1 (both before the
            data are loaded); a size that is not ``"LAYERSxWIDTH"`` (when its first trial
            builds the model).
    """
    import optuna

    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction={validation_fraction!r} must lie in (0, 1)")
    if n_trials < 1:
        raise ValueError(f"n_trials={n_trials!r} must be >= 1")
    split = config.split()
    x, y = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    cut = len(y) - int(len(y) * validation_fraction)
    sizes = sizes or getattr(config, "model_sizes", None) or (config.model_size,)
    rows = []
    for size in sizes:
        def objective(trial: optuna.Trial, size: str = size) -> float:
            lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
            wd = trial.suggest_float("weight_decay", 1e-6, 1e-1, log=True)
            recipe = supply_chain_recipe(lr, wd, config.epochs, batch_size=config.batch_size,
                                         shuffle=config.shuffle)
            try:
                model = train_mlp(x[:cut], y[:cut], size, recipe, init_seed=config.init_seed_for(0))
            except FloatingPointError:
                return 0.0
            return evaluate_accuracy(model, x[cut:], y[cut:])

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="maximize",
                                    sampler=optuna.samplers.TPESampler(seed=seed))
        with torch.random.fork_rng(devices=[]):
            study.optimize(objective, n_trials=n_trials)
        best = study.best_trial
        rows.append({"model_size": size, "lr": best.params["lr"],
                     "weight_decay": best.params["weight_decay"], "val_accuracy": best.value,
                     "n_trials": n_trials})
    return pd.DataFrame(rows)
