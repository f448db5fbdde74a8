"""Which unlearning method repairs label errors best, and where do the forgotten rows go
(issue 13, beyond the paper).

The scenarios are Table 4's (:mod:`~assd_repro.experiments.error_unlearning`): scenario id ``s``
is the same ``(model_size, error_pct, replicate)``, with the same wrong labels and the same
baseline, trained on D (wrong labels included) from the same initial weights, bit for bit.
Then every method of ``config.methods`` unlearns Df (the wrong rows with their wrong labels)
from that baseline:

- ``finetune``: one epoch on Dr at ``decayed_lr`` (Table 4's fine-tune);
- ``assd``: ASSD, ``[]_Dr`` at the training batch size, ``|D| = N``;
- ``assd_guarded``: the same inside :func:`assd_core.guarded` (refused when accuracy on the
  validation slice falls by more than 1 point);
- ``assd_repair``: ASSD, then ``finetune`` (:func:`~assd_repro.baselines.assd_repair`);
- ``neggrad_plus``, ``scrub``, ``random_label``, ``salun``, ``bad_teacher``: the optimisation
  methods of :mod:`assd_repro.baselines` with their papers' defaults (or ``config.tuned``);
- ``tuned_ssd``: SSD with the alpha of best accuracy on the validation slice, among
  :data:`SSD_ALPHAS`.

A seeded random ``validation_share`` of Dr (:func:`validation_rows`) is held out of every
method's Dr: the tuning's objective (:mod:`~assd_repro.experiments.method_tuning`), the guard's
``check_loader`` and ``tuned_ssd``'s validation data. Every method uses the config's training
batch size (the sample: 34 rows, the full file's 48 steps per epoch); ``finetune`` and
``assd_repair`` keep the recipe's batch order (``config.shuffle``), the optimisation methods
shuffle (their authors' default), seeded by the replicate, as every method's own seed. The
dampening methods share one ``[]_Dr`` pass, whose time enters each one's ``method_s``.

Rows (tidy): ``model_size, error_pct, replicate, n_forget, n_changed, n_validation, method``
(``baseline`` or a method), ``settings`` (JSON of the hyper-parameters given, ``{}`` for the
defaults), ``metric, true, wrong, value``. Per method: ``test_accuracy`` (%), ``gain``
(points over the baseline, same scenario), ``validation_accuracy`` (%), ``method_s`` (seconds;
the baseline's: its training), ``failed`` (1 if the loss became NaN or infinite: then
``method_s`` is NaN and no other metric follows); ``alpha`` and ``fraction_selected`` for the
ASSD methods, ``alpha`` (the chosen one) for ``tuned_ssd``, ``refused`` (1 or 0) and
``guard_accuracy_before/after`` for ``assd_guarded``. Per pair ``(true, wrong)`` of the
changed rows (``y_noisy != y_clean``): the
:data:`~assd_repro.experiments.label_confusion.SHARE_COLUMNS` (%) and the pair's row counts
``pair_rows_forget``, ``pair_rows_test``, with ``true`` and ``wrong`` set (NaN elsewhere).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from assd_core import DampeningReport, assd_unlearn, compute_importances, guarded
from assd_repro.baselines import (
    assd_repair,
    bad_teacher,
    finetune,
    neggrad_plus,
    random_label,
    salun,
    scrub,
    tuned_ssd,
    unlearned_copy,
)
from assd_repro.baselines.tuned_ssd import DEFAULT_ALPHAS
from assd_repro.experiments.error_stats import paired_comparisons
from assd_repro.experiments.error_unlearning import ErrorUnlearningConfig
from assd_repro.experiments.label_confusion import SHARE_COLUMNS, confusion_shares
from assd_repro.experiments.supply_chain_pipeline import (
    SUPPLY_CHAIN_SIZES,
    ErrorSplit,
    batch_loader,
    evaluate_accuracy,
    make_error_split,
    predict_proba,
    run_supply_chain,
    sample_settings,
    timed,
    train_mlp,
)
from assd_repro.training import TrainRecipe, decayed_lr

__all__ = [
    "COMPARISON_METHODS",
    "COMPARISON_PCTS",
    "DAMPENING_METHODS",
    "ROW_COLUMNS",
    "SEARCH_SPACES",
    "SSD_ALPHAS",
    "MethodComparisonConfig",
    "MethodOutcome",
    "PreparedScenario",
    "Space",
    "confusion_summary",
    "method_comparison_scenario",
    "method_gains",
    "nearest_tuned_pct",
    "prepare_scenario",
    "run_method",
    "run_method_comparison",
    "validation_rows",
]

COMPARISON_METHODS: tuple[str, ...] = (
    "finetune", "assd", "assd_guarded", "assd_repair", "neggrad_plus", "scrub", "random_label",
    "salun", "bad_teacher", "tuned_ssd")
"""Every method the experiment knows, in the order of its rows (the baseline is implicit)."""
#: the methods that dampen with ``[]_Dr`` (one shared importance pass per scenario)
DAMPENING_METHODS: tuple[str, ...] = ("assd", "assd_guarded", "assd_repair", "tuned_ssd")
#: the error rates of the comparison, in percent
COMPARISON_PCTS: tuple[float, ...] = (1.0, 5.0, 10.0)
#: mixed with the replicate into the seed of the validation slice (the issue's number)
VALIDATION_SEED_TAG = 13
#: ``tuned_ssd``'s candidate alphas here: :data:`~assd_repro.baselines.tuned_ssd.DEFAULT_ALPHAS`
#: (1..100, the image tasks' range) and six more up to 10,000, since the alphas ASSD picks on
#: the sample's MLPs lie between about 60 and 9,000 at 1-10 % errors (medians 72-5,357 per
#: cell in Table 4's stored run ``table4-sample``)
SSD_ALPHAS: tuple[float, ...] = (*DEFAULT_ALPHAS, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
                                 10000.0)
ROW_COLUMNS: tuple[str, ...] = ("model_size", "error_pct", "replicate", "n_forget", "n_changed",
                                "n_validation", "method", "settings", "metric", "true", "wrong",
                                "value")


class Space(NamedTuple):
    """The range of one hyper-parameter in the tuning.

    Attributes:
        low, high: bounds, both included.
        log: drawn log-uniformly.
        integer: a whole number (uniform over ``low..high``).
        complement: ``1 - value`` is drawn log-uniformly in ``[1 - high, 1 - low]`` (a weight
            close to 1, such as NegGrad+'s ``beta``, whose distance to 1 spans decades).
    """

    low: float
    high: float
    log: bool = False
    integer: bool = False
    complement: bool = False

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in ``[low, high]`` (rounding of ``1 - (1 - v)`` allowed)."""
        return self.low - 1e-12 <= value <= self.high + 1e-12


_LR = Space(1e-4, 1e-1, log=True)
_EPOCHS_5 = Space(1, 5, integer=True)
_EPOCHS_10 = Space(1, 10, integer=True)

SEARCH_SPACES: Mapping[str, Mapping[str, Space]] = {
    "finetune": {"lr": _LR, "epochs": _EPOCHS_5},
    "assd_repair": {"lr": _LR, "epochs": _EPOCHS_5},
    "neggrad_plus": {"lr": _LR, "epochs": _EPOCHS_5, "beta": Space(0.5, 0.99999, complement=True)},
    "scrub": {"lr": Space(1e-5, 1e-2, log=True), "epochs": _EPOCHS_5,
              "alpha": Space(1e-4, 1.0, log=True), "gamma": Space(0.1, 1.0),
              "msteps": Space(0, 3, integer=True)},
    "random_label": {"lr": _LR, "epochs": _EPOCHS_10},
    "salun": {"lr": Space(1e-4, 3e-1, log=True), "epochs": _EPOCHS_10,
              "share": Space(0.05, 1.0)},
    "bad_teacher": {"lr": Space(1e-5, 1e-2, log=True), "retain_share": Space(0.05, 1.0)},
}
"""Method -> hyper-parameter -> :class:`Space` of the Optuna search (the other arguments keep
their defaults). The ranges sit around each paper's default and the supply-chain recipe:

- ``finetune``, ``assd_repair``: ``lr`` 1e-4..0.1 (default ``decayed_lr``: 4.9e-4..2.4e-3 on the
  sample, 5.5e-3..2.3e-2 on the full table; the training's own lr0 reaches 0.09), ``epochs``
  1..5 (default 1; more begins to retrain);
- ``neggrad_plus``: ``lr`` 1e-4..0.1 (default 0.01), ``epochs`` 1..5 (default 5), ``beta``
  0.5..0.99999 with ``1 - beta`` (the forget weight, default 1e-4) log-uniform;
- ``scrub``: ``lr`` 1e-5..1e-2 (default 5e-4, with momentum 0.9), ``epochs`` 1..5 (default 3),
  ``alpha`` (KL weight) 1e-4..1 log-uniform (default 1e-3), ``gamma`` (CE weight) 0.1..1
  (default 0.99), ``msteps`` 0..3 (default 2; 0: no max-step, distillation only);
- ``random_label``: ``lr`` 1e-4..0.1 (default 0.01), ``epochs`` 1..10 (default 10);
- ``salun``: ``lr`` 1e-4..0.3 (default 0.1), ``epochs`` 1..10 (default 10), ``share`` of the
  weights that may change 0.05..1 (default 0.5);
- ``bad_teacher``: ``lr`` (Adam) 1e-5..1e-2 (default 1e-4), ``retain_share`` 0.05..1
  (default 0.3); one epoch, as the authors.

``assd`` and ``assd_guarded`` have no parameter; ``tuned_ssd`` tunes its alpha itself, on the
same validation slice."""


def nearest_tuned_pct(pct: float, tuned_pcts: Iterable[float]) -> float:
    """The tuned error rate whose parameters serve ``pct``: the nearest, the lower on a tie
    (10 % errors use the 5 % parameters of rates 1 and 5).

    Raises:
        ValueError: ``tuned_pcts`` is empty.
    """
    candidates = sorted(float(p) for p in tuned_pcts)
    if not candidates:
        raise ValueError("no tuned error rate: tune at least one, e.g. pcts=(1.0, 5.0)")
    return min(candidates, key=lambda p: (abs(p - pct), p))


def _tuned_value(method: str, name: str, value: Any) -> int | float:
    spaces = SEARCH_SPACES[method]
    if name not in spaces:
        raise ValueError(f"tuned holds {name}={value!r} for {method!r}, which takes no such "
                         f"hyper-parameter here; tunable: {', '.join(spaces)}")
    space = spaces[name]
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"tuned holds {name}={value!r} for {method!r}: give a finite number")
    number = float(value)
    if space.integer:
        if not number.is_integer():
            raise ValueError(f"tuned holds {name}={value!r} for {method!r}: give a whole number")
        return int(number)
    return number


def _normalise_tuned(value: Any, sizes: Sequence[str], pcts: Sequence[float],
                     methods: Sequence[str]) -> tuple[Any, ...] | None:
    """``{(method, size, pct): {name: value}}`` (or its normalised form) -> sorted tuple of
    ``(method, size, pct, ((name, value), ...))``, keeping only the grid's entries."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        items = [(*key, params) for key, params in value.items()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValueError(f"tuned={value!r} must be None or a mapping (method, model_size, "
                         "error_pct) -> {hyper-parameter: value}, as tune_all returns")
    out = []
    for item in items:
        if not isinstance(item, list | tuple) or len(item) != 4:
            raise ValueError(f"tuned holds {item!r}: each entry is (method, model_size, "
                             "error_pct, parameters)")
        method, size, pct, params = item
        if method not in SEARCH_SPACES:
            raise ValueError(f"tuned holds the method {method!r}; only "
                             f"{', '.join(SEARCH_SPACES)} have hyper-parameters to tune")
        pairs = params.items() if isinstance(params, Mapping) else params
        checked = tuple(sorted((str(k), _tuned_value(method, str(k), v)) for k, v in pairs))
        if method in methods and size in sizes and float(pct) in pcts:
            out.append((method, size, float(pct), checked))
    return tuple(sorted(out))


@dataclasses.dataclass(frozen=True)
class MethodComparisonConfig(ErrorUnlearningConfig):
    """Settings of the method comparison: Table 4's scenarios, more unlearning methods.

    Attributes:
        methods: the methods run on every scenario, a subset of :data:`COMPARISON_METHODS`
            (the baseline is always there).
        validation_share: fraction of Dr held out of every method as validation data, in
            (0, 0.5]; at least one row (:func:`validation_rows`).
        tuned: ``None``: every method with its paper's defaults; else
            ``{(method, model_size, error_pct): {name: value}}`` for every method of
            :data:`SEARCH_SPACES` in ``methods`` and every cell (what
            :func:`~assd_repro.experiments.method_tuning.tune_all` returns). Stored as a sorted
            tuple (it enters the content hash); entries outside the grid are dropped.
        Other fields: see :class:`~assd_repro.experiments.error_unlearning.ErrorUnlearningConfig`
        (``keep_test_predictions`` must stay False).

    Profiles: ``smoke`` (Table 4's smoke cells: 2x50, 1 and 5 %, 2 replicates, the shipped real
    sample, 5 epochs; about 1.6 s a scenario), ``book`` (3 sizes x 1/5/10 % x 50 replicates,
    Table 4's first 50, on the real sample at 25 epochs with
    :func:`~assd_repro.experiments.supply_chain_pipeline.sample_settings`), ``paper`` (3 sizes x
    1/5/10 % x 100 replicates on the real file at batch 1,024). The full-size synthetic table of
    Table 4's stored runs is the book profile with ``data_path=None, n_rows=FULL_SIZE_ROWS,
    batch_size=1024, hyperparameters=TUNED_HYPERPARAMETERS``.

    Cost of the book profile, measured on the shared 2-core machine (one thread, two other
    experiments running): one replicate of the 9 cells took 52 s with every method (a scenario
    2.4-4.3 s for 2x50, 4.2-5.9 s for 3x100, 8.8-10.4 s for 5x250; the baseline's training
    is a third of it, NegGrad+, random labels and SalUn most of the rest), so 50 replicates
    take about 45 minutes a run: about 1.4 CPU h for the run with the defaults and the run
    with tuned parameters (the tunable methods only) together; with the tuning (about 0.8 h)
    and the synthetic 3x100 (20 replicates and its tuning, about 1.2 h) the comparison's stored
    runs (:mod:`~assd_repro.experiments.stored_runs`) stay within the issue's 4 CPU hours.
    The full-size synthetic 3x100 costs about 3.8 times the sample's per scenario (its
    training does, in Table 4's stored runs): about 55 s a replicate of its 3 rates.

    Raises:
        ValueError: (at construction) ``methods`` is empty, repeats a method or names one
            outside :data:`COMPARISON_METHODS` (``baseline`` included); ``validation_share``
            is not a number in (0, 0.5]; ``tuned`` is malformed, holds an unknown method or
            parameter, a non-finite or (for a whole-number parameter) fractional value, or
            lacks a cell of a tunable method; ``keep_test_predictions`` is True; then the
            checks of :class:`~assd_repro.experiments.error_unlearning.ErrorUnlearningConfig`.
    """

    EXPERIMENT: ClassVar[str] = "method_comparison"
    PROFILES: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "smoke": ErrorUnlearningConfig.PROFILES["smoke"],  # Table 4's smoke scenarios
        "book": {"model_sizes": SUPPLY_CHAIN_SIZES, "error_pcts": COMPARISON_PCTS,
                 "n_scenarios": 50, "epochs": 25, **sample_settings()},
        "paper": {"model_sizes": SUPPLY_CHAIN_SIZES, "error_pcts": COMPARISON_PCTS,
                  "n_scenarios": 100, "epochs": 25},
    }

    error_pcts: tuple[float, ...] = COMPARISON_PCTS
    methods: tuple[str, ...] = COMPARISON_METHODS
    validation_share: float = 0.1
    tuned: Any = None

    def _normalise(self) -> None:
        super()._normalise()
        if isinstance(self.methods, str):
            object.__setattr__(self, "methods", (self.methods,))
        if isinstance(self.methods, list):
            object.__setattr__(self, "methods", tuple(self.methods))
        if isinstance(self.model_sizes, tuple) and isinstance(self.error_pcts, tuple) \
                and isinstance(self.methods, tuple):
            object.__setattr__(self, "tuned", _normalise_tuned(
                self.tuned, self.model_sizes, self.error_pcts, self.methods))

    def validate(self) -> None:
        if not isinstance(self.methods, tuple) or not self.methods:
            raise ValueError(f"methods={self.methods!r} must be a non-empty sequence of "
                             f"methods, e.g. {COMPARISON_METHODS[:3]}")
        unknown = [m for m in self.methods if m not in COMPARISON_METHODS]
        if unknown:
            raise ValueError(f"methods holds {unknown} (the baseline is always run); choose "
                             f"from {', '.join(COMPARISON_METHODS)}")
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods={self.methods!r} holds a method twice")
        share = self.validation_share
        if isinstance(share, bool) or not isinstance(share, Real) or not 0 < share <= 0.5:
            raise ValueError(f"validation_share={share!r} must be a number in (0, 0.5], e.g. "
                             "0.1 to hold out 10% of Dr")
        if self.keep_test_predictions:
            raise ValueError("keep_test_predictions=True is not used by the method comparison;"
                             " leave it False")
        if self.tuned is not None:
            have = {(m, s, p) for m, s, p, _ in self.tuned}
            for method in (m for m in self.methods if m in SEARCH_SPACES):
                for size, pct in self.cells():
                    if (method, size, pct) not in have:
                        raise ValueError(f"tuned has no parameters for ({method!r}, {size!r}, "
                                         f"{pct}); run tune_all for this grid, or tuned=None")
        super().validate()

    def params_for(self, method: str, size: str, pct: float) -> dict[str, int | float]:
        """The hyper-parameters ``method`` gets in cell ``(size, pct)`` (``{}``: defaults)."""
        for m, s, p, params in self.tuned or ():
            if (m, s, p) == (method, size, float(pct)):
                return dict(params)
        return {}


# --------------------------------------------------------------------------------------------
# One scenario: data, baseline, methods
# --------------------------------------------------------------------------------------------


def validation_rows(n_retain: int, share: float, seed: int) -> np.ndarray:
    """Sorted positions (in Dr) of the validation slice: ``max(1, round(share * n_retain))``
    rows drawn without replacement by ``numpy.random.default_rng([VALIDATION_SEED_TAG, seed])``.

    Raises:
        ValueError: the slice would take every row of Dr.
    """
    n_held = max(1, round(share * n_retain))
    if n_held >= n_retain:
        raise ValueError(f"validation_share={share} of {n_retain} retain rows leaves no row to "
                         "unlearn with; lower the share")
    rng = np.random.default_rng([VALIDATION_SEED_TAG, seed])
    return np.sort(rng.choice(n_retain, size=n_held, replace=False))


@dataclasses.dataclass(frozen=True, eq=False)
class PreparedScenario:
    """A scenario's data and baseline, ready for any method.

    Attributes:
        model_size, error_pct, replicate: the scenario.
        data: the error split (D, its wrong rows, Dr with true labels).
        baseline: the MLP trained on D (eval mode; never modified).
        baseline_s: its training time, seconds.
        retain: Dr without the validation slice, ``((n, n_features), (n,))``, time order.
        validation: the validation slice of Dr (true labels).
        recipe: the training recipe of the size.
        batch_size: every method's batch size; shuffle: the recipe's batch order.
    """

    model_size: str
    error_pct: float
    replicate: int
    data: ErrorSplit
    baseline: nn.Module
    baseline_s: float
    retain: tuple[Tensor, Tensor]
    validation: tuple[Tensor, Tensor]
    recipe: TrainRecipe
    batch_size: int
    shuffle: bool
    _importances: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    def forget(self) -> tuple[Tensor, Tensor]:
        """Df: the wrong rows with their wrong labels."""
        return self.data.forget()

    def forget_batches(self) -> DataLoader[Any]:
        """Df in time order at :attr:`batch_size`: the dampening methods' forget loader."""
        return batch_loader(*self.forget(), self.batch_size)

    def full_importances(self) -> tuple[dict[str, Tensor], float]:
        """``[]_Dr`` of the baseline on :attr:`retain` at :attr:`batch_size`, and the seconds
        its (first, cached) computation took."""
        if not self._importances:
            full, seconds = timed(lambda: compute_importances(
                self.baseline, batch_loader(*self.retain, self.batch_size)))
            self._importances.update(full=full, seconds=seconds)
        return self._importances["full"], self._importances["seconds"]

    def clear_importances(self) -> None:
        """Drop the cached ``[]_Dr``: the next dampening method computes it again."""
        self._importances.clear()


def prepare_scenario(config: MethodComparisonConfig, size: str, pct: float, replicate: int
                     ) -> PreparedScenario:
    """Inject the errors of ``replicate`` and train the baseline exactly as
    :func:`~assd_repro.experiments.error_unlearning.error_unlearning_scenario` does, then hold
    the validation slice out of Dr.

    Raises:
        ValueError: as :func:`~assd_repro.experiments.supply_chain_pipeline.make_error_split`,
            :meth:`~MethodComparisonConfig.recipe` and :func:`validation_rows`.
    """
    data = make_error_split(config.split(), pct, replicate, config.error_mode)
    recipe = config.recipe(size)
    baseline, seconds = timed(lambda: train_mlp(
        *data.full(), size, recipe, init_seed=config.init_seed_for(replicate),
        train_seed=replicate))
    x, y = data.retain()
    held = validation_rows(len(y), config.validation_share, replicate)
    keep = np.setdiff1d(np.arange(len(y)), held)
    return PreparedScenario(size, pct, replicate, data, baseline, seconds,
                            (x[keep], y[keep]), (x[held], y[held]), recipe, config.batch_size,
                            config.shuffle)


class MethodOutcome(NamedTuple):
    """What one method did: the unlearned copy (None if it failed), its seconds and metrics."""

    model: nn.Module | None
    seconds: float
    metrics: dict[str, float]


def _loader(p: PreparedScenario, rows: tuple[Tensor, Tensor], shuffle: bool) -> DataLoader[Any]:
    return batch_loader(*rows, p.batch_size, shuffle=shuffle, seed=p.replicate, for_training=True)


Runner = Callable[[PreparedScenario, dict[str, Any]], tuple[nn.Module, dict[str, float]]]
"""A method as the experiment runs it: ``(scenario, hyper-parameters) -> (model, metrics)``."""


def _dampening_metrics(report: DampeningReport) -> dict[str, float]:
    return {"alpha": float(report.alpha), "fraction_selected": float(report.fraction_selected)}


def _finetune(p: PreparedScenario, params: dict[str, Any]) -> tuple[nn.Module, dict[str, float]]:
    model, _ = finetune(p.baseline, _loader(p, p.retain, p.shuffle),
                        lr=params.get("lr", decayed_lr(p.recipe)),
                        weight_decay=p.recipe.weight_decay, epochs=params.get("epochs", 1),
                        seed=p.replicate)
    return model, {}


def _assd(p: PreparedScenario, params: dict[str, Any]) -> tuple[nn.Module, dict[str, float]]:
    model, report = unlearned_copy(p.baseline, assd_unlearn, p.forget_batches(),
                                   p.full_importances()[0], n_total=p.data.n_total)
    return model, _dampening_metrics(report)


def _assd_guarded(p: PreparedScenario, params: dict[str, Any]
                  ) -> tuple[nn.Module, dict[str, float]]:
    model = copy.deepcopy(p.baseline)
    guard = guarded(model, assd_unlearn, p.forget_batches(),
                    p.full_importances()[0], n_total=p.data.n_total, check_loader=[p.validation])
    return model, {"refused": float(guard.refused), "guard_accuracy_before": guard.accuracy_before,
                   "guard_accuracy_after": guard.accuracy_after,
                   **_dampening_metrics(guard.result)}


def _assd_repair(p: PreparedScenario, params: dict[str, Any]
                 ) -> tuple[nn.Module, dict[str, float]]:
    model, info = assd_repair(p.baseline, p.forget_batches(),
                              p.full_importances()[0], _loader(p, p.retain, p.shuffle),
                              n_total=p.data.n_total, lr=params.get("lr", decayed_lr(p.recipe)),
                              weight_decay=p.recipe.weight_decay, epochs=params.get("epochs", 1),
                              seed=p.replicate)
    return model, _dampening_metrics(info.report)


def _tuned_ssd(p: PreparedScenario, params: dict[str, Any]) -> tuple[nn.Module, dict[str, float]]:
    model, info = tuned_ssd(p.baseline, p.forget_batches(),
                            p.full_importances()[0], validation_loader=[p.validation],
                            alphas=SSD_ALPHAS)
    return model, {"alpha": info.alpha}


def _optimised(method: Callable[..., tuple[nn.Module, Any]]) -> Runner:
    def run(p: PreparedScenario, params: dict[str, Any]) -> tuple[nn.Module, dict[str, float]]:
        model, _ = method(p.baseline, _loader(p, p.retain, True), _loader(p, p.forget(), True),
                          seed=p.replicate, **params)
        return model, {}
    return run


def bad_teacher_batch(n_rows: int, batch_size: int) -> int:
    """``batch_size``, or one more if it would leave a last batch of one row (BatchNorm cannot
    train on it); ``n_rows`` are the rows Bad Teacher draws (its retain share plus Df)."""
    return batch_size + 1 if n_rows % batch_size == 1 else batch_size


def _bad_teacher(p: PreparedScenario, params: dict[str, Any]
                 ) -> tuple[nn.Module, dict[str, float]]:
    share = params.get("retain_share", 0.3)
    n_rows = int(share * len(p.retain[1])) + len(p.forget()[1])
    model, _ = bad_teacher(p.baseline, TensorDataset(*p.retain), TensorDataset(*p.forget()),
                           batch_size=bad_teacher_batch(n_rows, p.batch_size), seed=p.replicate,
                           **params)
    return model, {}


_RUNNERS: Mapping[str, Runner] = {
    "finetune": _finetune, "assd": _assd, "assd_guarded": _assd_guarded,
    "assd_repair": _assd_repair, "neggrad_plus": _optimised(neggrad_plus),
    "scrub": _optimised(scrub), "random_label": _optimised(random_label),
    "salun": _optimised(salun), "bad_teacher": _bad_teacher, "tuned_ssd": _tuned_ssd,
}


def run_method(p: PreparedScenario, method: str, params: Mapping[str, Any] | None = None
               ) -> MethodOutcome:
    """Run ``method`` on the prepared scenario (the baseline is not modified).

    Args:
        p: the scenario.
        method: one of :data:`COMPARISON_METHODS`.
        params: hyper-parameters that replace the method's defaults (names of
            :data:`SEARCH_SPACES`).

    Returns:
        The outcome; ``seconds`` include the shared ``[]_Dr`` pass for the dampening methods.
        A method whose loss became NaN or infinite gives ``model=None`` and
        ``metrics={"failed": 1.0}``.

    Raises:
        ValueError: ``method`` is unknown; a parameter is out of the method's range.
    """
    if method not in _RUNNERS:
        raise ValueError(f"method={method!r} is unknown; choose from "
                         f"{', '.join(COMPARISON_METHODS)}")
    extra = p.full_importances()[1] if method in DAMPENING_METHODS else 0.0
    try:
        (model, metrics), seconds = timed(lambda: _RUNNERS[method](p, dict(params or {})))
    except FloatingPointError:
        return MethodOutcome(None, math.nan, {"failed": 1.0})
    return MethodOutcome(model, seconds + extra, {"failed": 0.0, **metrics})


def _predict(model: nn.Module, x: Tensor) -> np.ndarray:
    return np.asarray(predict_proba(model, x).argmax(axis=1))


def _confusion(model: nn.Module, p: PreparedScenario, changed: Tensor, test: tuple[Tensor, Tensor]
               ) -> pd.DataFrame:
    data = p.data
    return confusion_shares(_predict(model, data.x[changed]), data.y_clean[changed],
                            data.y_noisy[changed], _predict(model, test[0]), test[1])


def method_comparison_scenario(config: MethodComparisonConfig, seed: int) -> list[dict[str, Any]]:
    """One scenario: Table 4's baseline, then every method of ``config.methods``, evaluated.

    Args:
        config: the experiment's settings.
        seed: scenario id (:meth:`~MethodComparisonConfig.scenario`, as Table 4's).

    Returns:
        Tidy rows, see the module docstring.

    Raises:
        ValueError: ``seed`` is not a scenario id of ``config``.
    """
    size, pct, replicate = config.scenario(seed)
    p = prepare_scenario(config, size, pct, replicate)
    split = config.split()
    test = (torch.from_numpy(split.x_test), torch.from_numpy(split.y_test))
    changed = p.data.error_idx[p.data.y_noisy[p.data.error_idx] != p.data.y_clean[p.data.error_idx]]
    labels = {"model_size": size, "error_pct": pct, "replicate": replicate,
              "n_forget": len(p.data.error_idx), "n_changed": len(changed),
              "n_validation": len(p.validation[1])}
    base_acc = evaluate_accuracy(p.baseline, *test)
    outcomes = {"baseline": MethodOutcome(p.baseline, p.baseline_s, {"failed": 0.0})}
    settings = {"baseline": "{}"}
    for method in config.methods:
        params = config.params_for(method, size, pct)
        outcomes[method] = run_method(p, method, params)
        settings[method] = json.dumps(params, sort_keys=True)
    rows: list[dict[str, Any]] = []
    for method, (model, seconds, extra) in outcomes.items():
        def add(metric: str, value: float, true: float = math.nan, wrong: float = math.nan,
                method: str = method) -> None:
            rows.append({**labels, "method": method, "settings": settings[method],
                         "metric": metric, "true": true, "wrong": wrong, "value": float(value)})

        add("method_s", seconds)
        for name, value in extra.items():
            add(name, value)
        if model is None:
            continue
        accuracy = base_acc if model is p.baseline else evaluate_accuracy(model, *test)
        add("test_accuracy", accuracy)
        add("gain", accuracy - base_acc)
        add("validation_accuracy", evaluate_accuracy(model, *p.validation))
        if len(changed):
            for pair in _confusion(model, p, changed, test).itertuples(index=False):
                for column, metric in (("n_forget", "pair_rows_forget"),
                                       ("n_test", "pair_rows_test")):
                    add(metric, getattr(pair, column), pair.true, pair.wrong)
                for column in SHARE_COLUMNS:
                    add(column, getattr(pair, column), pair.true, pair.wrong)
    return rows


def run_method_comparison(config: MethodComparisonConfig, **options: Any) -> pd.DataFrame:
    """Run the missing scenarios (one torch thread each) and return every row.

    ``options`` (``results_dir``, ``workers``, ``scheduler``, ``progress``) are those of
    :func:`~assd_repro.experiments.supply_chain_pipeline.run_supply_chain`; the results go to
    ``<results_dir>/method_comparison/<hash>/scenario-<id>.parquet``.

    Raises:
        DatasetNotFoundError, ValueError: as
            :func:`~assd_repro.experiments.supply_chain_pipeline.run_supply_chain`.
    """
    return run_supply_chain(method_comparison_scenario, config, **options)


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------


def _frame(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty:
        raise ValueError("rows is empty: run the experiment first (run_method_comparison)")
    missing = [c for c in ("model_size", "error_pct", "replicate", "method", "metric", "true",
                           "wrong", "value") if c not in frame.columns]
    if missing:
        raise ValueError(f"rows lack the column(s) {missing}: pass the rows of "
                         "run_method_comparison")
    return frame


_CELL = ["model_size", "error_pct", "method"]


def method_gains(rows: pd.DataFrame | Sequence[Mapping[str, Any]], *, confidence: float = 0.95,
                 tuning_costs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Test-accuracy gain of every method over the baseline, paired by scenario, per cell.

    The statistics are those of :func:`~assd_repro.experiments.error_stats.paired_comparisons`
    on the test accuracies (failed runs left out).

    Args:
        rows: the tidy rows of :func:`run_method_comparison`.
        confidence: level of the paired t-interval.
        tuning_costs: the cost table of
            :func:`~assd_repro.experiments.method_tuning.tune_all`; adds ``tuning_s``.

    Returns:
        One row per ``(model_size, error_pct, method)`` but the baseline, in the order of the
        rows: ``n`` (paired scenarios), ``gain_mean``, ``gain_sd`` (``ddof=1``), ``ci_low``,
        ``ci_high`` (t-interval, ``n - 1`` degrees of freedom; accuracy points), ``p_paired``
        and ``p_paired_holm`` (Holm over the cells of the method), ``method_s_mean``
        (seconds), ``n_failed``; with ``tuning_costs``, ``tuning_s``: the seconds of the study
        whose parameters the cell used (NaN for a method without one).

    Raises:
        ValueError: ``rows`` is empty or lacks a column; it holds no baseline or no other
            method; ``confidence`` is not strictly between 0 and 1; a scenario holds a method
            twice.
    """
    frame = _frame(rows)
    plain = frame[frame["true"].isna() & (frame["method"] != "baseline")]
    by_cell = {metric: plain[plain["metric"] == metric].groupby(_CELL, sort=False)["value"]
               for metric in ("method_s", "failed")}
    costs = pd.concat([by_cell["method_s"].mean().rename("method_s_mean"),
                       by_cell["failed"].sum().astype(int).rename("n_failed")], axis=1)
    costs = costs.reset_index()
    plain = frame[frame["true"].isna()]
    accuracy = plain[(plain["metric"] == "test_accuracy") & plain["value"].notna()]
    methods = [m for m in accuracy["method"].unique() if m != "baseline"]
    if "baseline" not in set(accuracy["method"]) or not methods:
        raise ValueError("rows need the baseline's and another method's test_accuracy: pass "
                         "the rows of run_method_comparison")
    paired = paired_comparisons(accuracy.assign(split="test"), against="baseline",
                                methods=methods, confidence=confidence)
    paired = paired.rename(columns={"diff_mean": "gain_mean", "diff_std": "gain_sd"})
    out = costs.merge(paired[[*_CELL, "n", "gain_mean", "gain_sd", "ci_low", "ci_high",
                              "p_paired", "p_paired_holm"]], on=_CELL, how="left")
    out["n"] = out["n"].fillna(0).astype(int)
    if tuning_costs is not None:
        out["tuning_s"] = [_tuning_seconds(tuning_costs, r.method, r.model_size, r.error_pct)
                           for r in out.itertuples(index=False)]
    return out[[*_CELL, "n", "gain_mean", "gain_sd", "ci_low", "ci_high", "p_paired",
                "p_paired_holm", "method_s_mean", "n_failed",
                *(["tuning_s"] if tuning_costs is not None else [])]]


def _tuning_seconds(costs: pd.DataFrame, method: str, size: str, pct: float) -> float:
    part = costs[(costs["method"] == method) & (costs["model_size"] == size)]
    if part.empty:
        return math.nan
    tuned_at = nearest_tuned_pct(pct, part["error_pct"])
    return float(part.loc[part["error_pct"] == tuned_at, "seconds"].sum())


def confusion_summary(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Where the wrong-label rows go, before (``baseline``) and after each method: the mean
    over scenarios of each share (%) per pair ``(true, wrong)``.

    Returns:
        One row per ``(model_size, error_pct, method, true, wrong)`` in the order of the rows:
        ``n_scenarios`` (scenarios holding the pair), the mean of each of
        :data:`~assd_repro.experiments.label_confusion.SHARE_COLUMNS` (unweighted over
        scenarios; a test share's NaN, no test row of the class, is left out) and of
        ``pair_rows_forget`` and ``pair_rows_test``.

    Raises:
        ValueError: ``rows`` is empty or lacks a column; it holds no pair row; a scenario holds
            a pair's metric twice.
    """
    frame = _frame(rows)
    pairs = frame[frame["true"].notna()]
    if pairs.empty:
        raise ValueError("rows hold no share of a (true, wrong) pair: run the experiment with "
                         "label errors that change labels")
    keys = [*_CELL, "true", "wrong"]
    wide = pairs.set_index([*keys, "replicate", "metric"])["value"].unstack("metric")
    grouped = wide.groupby(level=keys)
    out = grouped.mean()
    out.insert(0, "n_scenarios", grouped.size())
    columns = ["n_scenarios", *SHARE_COLUMNS, "pair_rows_forget", "pair_rows_test"]
    order = pd.MultiIndex.from_frame(pairs[keys].drop_duplicates())
    out = out.reindex(index=order, columns=columns).reset_index()
    out[["true", "wrong"]] = out[["true", "wrong"]].astype(int)
    return out
