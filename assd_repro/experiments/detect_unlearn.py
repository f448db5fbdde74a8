"""Detect, then unlearn: find the wrong labels with cleanlab, then forget them with ASSD.

The paper hands ASSD the list of wrong rows. In practice nobody does, so this experiment
(beyond the paper) first looks for them: out-of-sample predicted probabilities from a K-fold
cross-validated training of the same MLP recipe on the noisy training set D, then
``cleanlab.filter.find_label_issues`` (confident learning) flags suspected label errors.
Per scenario (one error rate, one replicate; the same wrong rows as the error-unlearning
experiment's scenario with the same replicate) it compares, on the test set:

- ``baseline``: the model trained on D (doing nothing);
- ``assd_detected``: ASSD with Df = the flagged rows with their given labels and ``[]_Dr`` on
  the rows not flagged (which still hold the undetected errors), ``|D| = N``;
- ``assd_oracle``: ASSD with the true wrong rows, as in the error-unlearning experiment;
- ``retrain_detected``: the same training from the same initial weights on the rows not
  flagged (a reference that costs a full training).

Rows (tidy): ``model_size, error_pct, replicate, method, metric, value``. Methods above carry
``test_accuracy`` (%), ``gain`` (percentage points over the baseline) and ``seconds``; the
ASSD methods also ``alpha``, ``percentile`` and ``fraction_selected``; method ``detection``
carries ``precision``, ``recall``, ``f1`` (fractions in [0, 1]; NaN when undefined),
``n_flagged``, ``n_errors``, ``n_true_positive`` and ``seconds`` (cross-validation + cleanlab).
The truth for detection is the rows whose label differs from the true one (in ``"authors"``
mode a chosen label may land back on its true class and is then no error).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike
from torch import Tensor, nn

from assd_repro.baselines import unlearned_copy
from assd_repro.experiments.supply_chain_pipeline import (
    PAPER_ERROR_PCTS,
    SupplyChainConfig,
    assd_from_rows,
    evaluate_accuracy,
    make_error_split,
    predict_proba,
    run_supply_chain,
    sample_settings,
    timed,
    train_mlp,
)
from assd_repro.models import mlp_size
from assd_repro.training import TrainRecipe

__all__ = [
    "CLEANLAB_FILTERS",
    "DetectScenario",
    "DetectUnlearnConfig",
    "cross_validated_proba",
    "detect_label_errors",
    "detect_unlearn_scenario",
    "detection_scores",
    "run_detect_unlearn",
    "summarize_detection",
]

CLEANLAB_FILTERS: tuple[str, ...] = (
    "prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
    "predicted_neq_given", "low_normalized_margin", "low_self_confidence",
)
"""Values of ``filter_by`` of ``cleanlab.filter.find_label_issues`` (cleanlab 2.x)."""


class DetectScenario(NamedTuple):
    """What scenario id ``s`` stands for."""

    error_pct: float
    replicate: int


@dataclasses.dataclass(frozen=True)
class DetectUnlearnConfig(SupplyChainConfig):
    """Settings of the detect-then-unlearn experiment.

    Attributes:
        model_size: MLP size ``"LAYERSxWIDTH"`` with an entry in ``hyperparameters``.
        error_pcts: shares of wrong training labels, in percent, each in (0, 50).
        k_folds: folds of the cross-validation that gives out-of-sample probabilities (>= 2).
        filter_by: cleanlab's filter, one of :data:`CLEANLAB_FILTERS`.
        Other fields: see :class:`~assd_repro.experiments.supply_chain_pipeline.SupplyChainConfig`;
        scenario id ``s`` is error rate ``s % len(error_pcts)``, replicate
        ``s // len(error_pcts)``.

    Profiles: ``smoke`` (2x50, 5%, 2 replicates, 6,000 synthetic rows, 5 epochs, K = 2),
    ``book`` (3x100, 1/5/10%, 5 replicates, 40,000 synthetic rows, 25 epochs, K = 3; about
    80 CPU seconds on one core), ``paper`` (3x100, the 6 error rates x 100 replicates on the
    real file, K = 5; the replicates draw the same wrong rows as the error-unlearning ones).

    Raises:
        ValueError: (:meth:`validate`, at construction) ``model_size`` is not
            ``"LAYERSxWIDTH"`` or has no entry in ``hyperparameters``; ``error_pcts`` is
            empty, repeats a value or holds one that is not a float in (0, 50); ``k_folds`` is
            not a whole number >= 2; ``filter_by`` is not one of :data:`CLEANLAB_FILTERS`; then
            the checks of :class:`~assd_repro.experiments.supply_chain_pipeline.SupplyChainConfig`.
    """

    EXPERIMENT: ClassVar[str] = "detect_unlearn"
    PROFILES: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "smoke": {"model_size": "2x50", "error_pcts": (5.0,), "n_scenarios": 2, "epochs": 5,
                  "k_folds": 2, **sample_settings()},
        "book": {"model_size": "3x100", "error_pcts": (1.0, 5.0, 10.0), "n_scenarios": 5,
                 "epochs": 25, "k_folds": 3, **sample_settings()},
        "paper": {"model_size": "3x100", "error_pcts": PAPER_ERROR_PCTS, "n_scenarios": 100,
                  "epochs": 25, "k_folds": 5},
    }

    model_size: str = "3x100"
    error_pcts: tuple[float, ...] = (1.0, 5.0, 10.0)
    k_folds: int = 3
    filter_by: str = "prune_by_noise_rate"

    def _normalise(self) -> None:
        value = self.error_pcts
        value = (value,) if isinstance(value, int | float) else value
        if isinstance(value, list | tuple):
            value = tuple(float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                          for v in value)
        object.__setattr__(self, "error_pcts", value)

    def validate(self) -> None:
        mlp_size(self.model_size)
        self.lr_wd(self.model_size)
        if not isinstance(self.error_pcts, tuple) or not self.error_pcts:
            raise ValueError(f"error_pcts={self.error_pcts!r} must be a non-empty sequence of "
                             "percentages such as (1.0, 5.0)")
        for pct in self.error_pcts:
            self.check_error_pct(pct)
        if len(set(self.error_pcts)) != len(self.error_pcts):
            raise ValueError(f"error_pcts={self.error_pcts!r} holds a value twice")
        if isinstance(self.k_folds, bool) or not isinstance(self.k_folds, int) or self.k_folds < 2:
            raise ValueError(f"k_folds={self.k_folds!r} must be a whole number >= 2")
        if self.filter_by not in CLEANLAB_FILTERS:
            raise ValueError(f"filter_by={self.filter_by!r} is unknown; use one of "
                             f"{', '.join(CLEANLAB_FILTERS)}")
        super().validate()

    def cells(self) -> tuple[tuple[float], ...]:
        """One cell per error rate."""
        return tuple((pct,) for pct in self.error_pcts)

    def scenario(self, scenario_id: int) -> DetectScenario:
        """The ``(error_pct, replicate)`` of a scenario id.

        Raises:
            ValueError: ``scenario_id`` is outside ``0..len(error_pcts) * n_scenarios - 1``.
        """
        n = len(self.error_pcts)
        if not 0 <= scenario_id < n * self.n_scenarios:
            raise ValueError(f"scenario id {scenario_id} outside 0..{n * self.n_scenarios - 1}")
        return DetectScenario(self.error_pcts[scenario_id % n], scenario_id // n)


def cross_validated_proba(x: Tensor, y: Tensor, size: str, recipe: TrainRecipe, *, k_folds: int,
                          seed: int, init_seed: int) -> np.ndarray:
    """Out-of-sample predicted probabilities by stratified K-fold cross-validation.

    Each fold trains a fresh MLP (initial weights from ``init_seed``) with ``recipe`` on the
    other folds' rows, kept in their time order, and predicts its own rows.

    Args:
        x: ``(N, n_features)`` float32; y: ``(N,)`` int64 given (possibly wrong) labels.
        seed: seed of the fold assignment.

    Returns:
        ``(N, 3)`` float64, rows summing to 1.

    Raises:
        ValueError: as :func:`~assd_repro.experiments.supply_chain_pipeline.train_mlp` (a bad
            ``size``, labels outside 0..2); scikit-learn's ``StratifiedKFold`` refuses
            ``k_folds < 2`` or more folds than rows of a class.
    """
    from sklearn.model_selection import StratifiedKFold

    probs = np.zeros((len(y), 3))
    folds = StratifiedKFold(n_splits=k_folds, shuffle=True, random_state=seed)
    for train_idx, held_out in folds.split(np.zeros(len(y)), y.numpy()):
        model = train_mlp(x[train_idx], y[train_idx], size, recipe, init_seed=init_seed,
                          train_seed=seed)
        probs[held_out] = predict_proba(model, x[held_out])
    return probs


def detect_label_errors(labels: ArrayLike, pred_probs: np.ndarray, *,
                        filter_by: str = "prune_by_noise_rate") -> np.ndarray:
    """``(N,)`` bool mask of suspected label errors (``cleanlab.filter.find_label_issues``).

    Args:
        labels: ``(N,)`` given labels; pred_probs: ``(N, K)`` out-of-sample probabilities.
        filter_by: one of :data:`CLEANLAB_FILTERS`.

    Raises:
        ValueError: ``filter_by`` is not one of :data:`CLEANLAB_FILTERS`; ``labels`` is not
            1-D or ``pred_probs`` not of shape ``(len(labels), K)``.
    """
    from cleanlab.filter import find_label_issues

    if filter_by not in CLEANLAB_FILTERS:
        raise ValueError(f"filter_by={filter_by!r} is unknown; use one of {', '.join(CLEANLAB_FILTERS)}")
    labels, pred_probs = np.asarray(labels), np.asarray(pred_probs)
    if labels.ndim != 1 or pred_probs.ndim != 2 or len(pred_probs) != len(labels):
        raise ValueError(f"labels of shape {labels.shape} and pred_probs of shape "
                         f"{pred_probs.shape} do not fit: give (N,) labels and (N, K) "
                         "probabilities, one row per label")
    return np.asarray(find_label_issues(labels, pred_probs, filter_by=filter_by, n_jobs=1),
                      dtype=bool)


def detection_scores(flagged: ArrayLike, is_error: ArrayLike) -> dict[str, float]:
    """Precision, recall and F1 of a detector against the known label errors.

    Args:
        flagged: ``(N,)`` bool, the rows the detector flags.
        is_error: ``(N,)`` bool, the rows whose label is wrong.

    Returns:
        ``precision`` (share of flagged rows that are errors; NaN when none is flagged),
        ``recall`` (share of errors flagged; NaN when there is no error), ``f1`` (their
        harmonic mean; 0 when both are 0, NaN when either is NaN), ``n_flagged``,
        ``n_errors``, ``n_true_positive``.

    Raises:
        ValueError: ``flagged`` and ``is_error`` are not 1-D masks of the same length.
    """
    flagged, is_error = np.asarray(flagged, dtype=bool), np.asarray(is_error, dtype=bool)
    if flagged.shape != is_error.shape or flagged.ndim != 1:
        raise ValueError(f"flagged {flagged.shape} and is_error {is_error.shape} must be masks "
                         "of the same length")
    tp, n_flagged, n_errors = int((flagged & is_error).sum()), int(flagged.sum()), int(is_error.sum())
    precision = tp / n_flagged if n_flagged else math.nan
    recall = tp / n_errors if n_errors else math.nan
    if math.isnan(precision) or math.isnan(recall):
        f1 = math.nan
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_flagged": n_flagged,
            "n_errors": n_errors, "n_true_positive": tp}


def detect_unlearn_scenario(config: DetectUnlearnConfig, seed: int) -> list[dict[str, Any]]:
    """One scenario: inject errors, detect them, unlearn the flagged / the true rows, evaluate.

    Returns:
        Tidy rows, see the module docstring.

    Raises:
        ValueError: ``seed`` is not a scenario id of ``config``
            (:meth:`DetectUnlearnConfig.scenario`).
    """
    pct, replicate = config.scenario(seed)
    size, split = config.model_size, config.split()
    data = make_error_split(split, pct, replicate, config.error_mode)
    recipe, init = config.recipe(size), config.init_seed_for(replicate)
    x, y_noisy = data.full()

    probs, cv_s = timed(lambda: cross_validated_proba(
        x, y_noisy, size, recipe, k_folds=config.k_folds, seed=replicate, init_seed=init))
    flagged, find_s = timed(lambda: detect_label_errors(y_noisy.numpy(), probs,
                                                        filter_by=config.filter_by))
    detection = {**detection_scores(flagged, (data.y_noisy != data.y_clean).numpy()),
                 "seconds": cv_s + find_s}

    baseline, base_s = timed(lambda: train_mlp(x, y_noisy, size, recipe, init_seed=init,
                                               train_seed=replicate))
    kept = torch.from_numpy(np.flatnonzero(~flagged))
    hit = torch.from_numpy(np.flatnonzero(flagged))
    models: dict[str, tuple[nn.Module, dict[str, float]]] = {"baseline": (baseline, {"seconds": base_s})}
    if len(hit):
        (model, report), s = timed(lambda: unlearned_copy(
            baseline, assd_from_rows, (x[kept], y_noisy[kept]), (x[hit], y_noisy[hit]), n_total=len(y_noisy),
            batch_size=config.batch_size))
        models["assd_detected"] = (model, {"seconds": s, **_report(report)})
    else:  # nothing flagged: nothing to forget
        models["assd_detected"] = (baseline, {"seconds": 0.0, **_report(None)})
    (model, report), s = timed(lambda: unlearned_copy(
        baseline, assd_from_rows, data.retain(), data.forget(), n_total=data.n_total, batch_size=config.batch_size))
    models["assd_oracle"] = (model, {"seconds": s, **_report(report)})
    model, s = timed(lambda: train_mlp(x[kept], y_noisy[kept], size, recipe, init_seed=init,
                                       train_seed=replicate))
    models["retrain_detected"] = (model, {"seconds": s})

    x_test, y_test = torch.from_numpy(split.x_test), torch.from_numpy(split.y_test)
    base_acc = evaluate_accuracy(baseline, x_test, y_test)
    labels = {"model_size": size, "error_pct": pct, "replicate": replicate}
    rows = [{**labels, "method": "detection", "metric": k, "value": float(v)}
            for k, v in detection.items()]
    for method, (model, extra) in models.items():
        acc = base_acc if model is baseline else evaluate_accuracy(model, x_test, y_test)
        metrics = {"test_accuracy": acc, "gain": acc - base_acc, **extra}
        rows += [{**labels, "method": method, "metric": k, "value": float(v)}
                 for k, v in metrics.items()]
    return rows


def _report(report: Any) -> dict[str, float]:
    if report is None:
        return {"alpha": math.nan, "percentile": math.nan, "fraction_selected": 0.0}
    return {"alpha": report.alpha, "percentile": report.percentile,
            "fraction_selected": report.fraction_selected}


def summarize_detection(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Mean and standard deviation (``ddof=1``) over replicates of every method and metric.

    Returns:
        One row per ``(error_pct, method, metric)``: ``mean``, ``std``, ``n``.

    Raises:
        ValueError: ``rows`` is empty; it lacks one of the columns ``error_pct, method,
            metric, value`` (names them).
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty:
        raise ValueError("rows is empty: run the experiment first (run_detect_unlearn)")
    missing = [c for c in ("error_pct", "method", "metric", "value") if c not in frame.columns]
    if missing:
        raise ValueError(f"rows lack the column(s) {missing}: pass the rows of run_detect_unlearn")
    grouped = frame.groupby(["error_pct", "method", "metric"], sort=False)["value"]
    return grouped.agg(mean="mean", std="std", n="count").reset_index()


def run_detect_unlearn(config: DetectUnlearnConfig, **options: Any) -> pd.DataFrame:
    """Detect, then unlearn: run the missing scenarios (one torch thread each), return all rows
    (``<results_dir>/detect_unlearn/<hash>/scenario-<id>.parquet``); ``options`` as for
    :func:`~assd_repro.experiments.supply_chain_pipeline.run_supply_chain`.

    Raises:
        DatasetNotFoundError, ValueError: as
            :func:`~assd_repro.experiments.supply_chain_pipeline.run_supply_chain`.
    """
    return run_supply_chain(detect_unlearn_scenario, config, **options)
