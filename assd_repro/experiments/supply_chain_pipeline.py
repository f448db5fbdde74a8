"""Shared steps of the supply-chain experiments: data, label errors, MLP training, ASSD, tuning.

The error-unlearning experiment (paper section 6.2) and the detect-then-unlearn experiment need
the same chain (book: Method, "Supply-chain error unlearning"): load the DataCo table (the real
file or the synthetic stand-in), preprocess it with a protocol (once per process:
:func:`load_split` is cached), give a random share of the training labels a wrong class, train
the paper's MLP with the supply-chain recipe, compute ``[]_Dr`` at the training batch size,
unlearn with ASSD and measure accuracies. Training uses :func:`batch_loader`, which slices whole
batches out of tensors (20-50x faster than a ``DataLoader`` that indexes row by row, same
batches).

:data:`TUNED_HYPERPARAMETERS` are the learning rate and weight decay per model size that
:func:`~assd_repro.experiments.error_unlearning.tune_hyperparameters` found.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    Sampler,
    SequentialSampler,
    TensorDataset,
)

from assd_core import DampeningReport, accuracy, assd_unlearn, compute_importances
from assd_repro.data import (
    DatasetNotFoundError,
    leak_free_protocol,
    load_dataco,
    make_dataco_like,
    paper_protocol,
)
from assd_repro.data.dataco import DATACO_DOI, DATACO_FILENAME, DataCoSplit
from assd_repro.experiments.engine.config import ExperimentConfig
from assd_repro.experiments.engine.runner import run_scenarios
from assd_repro.label_errors import inject_label_errors
from assd_repro.models import ModelSpec, build_model, mlp_size
from assd_repro.training import TrainRecipe, supply_chain_recipe, train

__all__ = [
    "FULL_SIZE_ROWS",
    "FULL_SIZE_TRAIN_ROWS",
    "PAPER_ERROR_PCTS",
    "SAMPLE_BATCH_SIZE",
    "SAMPLE_TRAIN_ROWS",
    "SAMPLE_TUNED_HYPERPARAMETERS",
    "ERROR_MODES",
    "N_CLASSES",
    "PROTOCOLS",
    "SUPPLY_CHAIN_SIZES",
    "TUNED_HYPERPARAMETERS",
    "ErrorSplit",
    "SupplyChainConfig",
    "batch_loader",
    "check_data_settings",
    "dataco_path_from_env",
    "evaluate_accuracy",
    "load_split",
    "make_error_split",
    "normalise_hyperparameters",
    "predict_proba",
    "timed",
    "train_mlp",
    "assd_from_rows",
    "run_supply_chain",
    "sample_settings",
    "steps_matched_batch_size",
]

SUPPLY_CHAIN_SIZES: tuple[str, ...] = ("5x250", "3x100", "2x50")
#: The error rates of the paper's Table 4, in percent of the training rows.
PAPER_ERROR_PCTS: tuple[float, ...] = (0.25, 1.0, 2.5, 5.0, 7.5, 10.0)
PROTOCOLS: tuple[str, ...] = ("paper", "leak_free")
ERROR_MODES: tuple[str, ...] = ("flip", "authors")
N_CLASSES = 3

TUNED_HYPERPARAMETERS: dict[str, tuple[float, float]] = {
    "2x50": (0.0884, 2.28e-4),
    "3x100": (0.0681, 0.0162),
    "5x250": (0.0207, 0.0881),
}
"""``size -> (lr, weight_decay)``, rounded to 3 digits: the best of 20 seeded Optuna TPE trials
per size (``tune_hyperparameters(ErrorUnlearningConfig.for_profile("book"), n_trials=20,
seed=0)``) on error-free synthetic data (``make_dataco_like(40_000, seed=0)``, paper protocol,
10,660 train rows, 25 epochs, batch 1024, no shuffle, initial weights of seed 0), validated on
the last 20% of the time-ordered train split: 88.6% (2x50), 87.9% (3x100), 88.4% (5x250).
The paper profile uses them too, as a starting point: the authors tuned on the real file, whose
train split is about 4.5 times larger (more steps per epoch); rerun the search there."""

#: Rows of the full DataCo file, and training rows of its synthetic stand-in of that size
#: (``make_dataco_like(180_519, 0)``, paper protocol): 48 steps per epoch at the paper's batch of
#: 1,024 (the real file keeps about 47,000 rows: 46-47 steps).
FULL_SIZE_ROWS = 180_519
FULL_SIZE_TRAIN_ROWS = 48_492
#: Training rows of the shipped 6,000-row sample after the paper protocol (402 test rows).
SAMPLE_TRAIN_ROWS = 1_612


def steps_matched_batch_size(n_train: int, reference_train: int = FULL_SIZE_TRAIN_ROWS,
                             reference_batch: int = 1024) -> int:
    """The smallest batch size that gives ``n_train`` rows as many SGD steps per epoch as
    ``reference_train`` rows get at ``reference_batch`` (book: Method, "Supply-chain models").

    Raises:
        ValueError: an argument is not a positive whole number.
    """
    for name, value in (("n_train", n_train), ("reference_train", reference_train),
                        ("reference_batch", reference_batch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive whole number of rows")
    steps = -(-reference_train // reference_batch)
    return -(-n_train // steps)


#: Batch size of the sample's recipe: 34 rows, 48 steps per epoch as the full-size table at 1,024.
SAMPLE_BATCH_SIZE = steps_matched_batch_size(SAMPLE_TRAIN_ROWS)

SAMPLE_TUNED_HYPERPARAMETERS: dict[str, tuple[float, float]] = {
    "2x50": (0.0092, 0.00904),
    "3x100": (0.00258, 0.00053),
    "5x250": (0.00187, 0.0425),
}
"""``size -> (lr, weight_decay)`` of the sample's recipe, rounded to 3 digits: the best of 20
seeded Optuna TPE trials per size (``tune_hyperparameters(ErrorUnlearningConfig.for_profile(
"book"), n_trials=20, seed=0)``, 111 s for 2x50 and 3x100, 137 s for 5x250 on one core) on the
error-free rows of the real sample (paper protocol, 1,290 train rows, 25 epochs at batch
:data:`SAMPLE_BATCH_SIZE`, no shuffle, initial weights of seed 0), validated on the last 20 % of
the time-ordered train split (322 rows): 85.1 % (2x50), 84.8 % (3x100), 83.2 % (5x250)."""


def sample_settings() -> dict[str, Any]:
    """Config fields of the shipped real sample and its recipe: ``data_path`` (the sample,
    :func:`~assd_repro.data.dataco_sample_path`), ``batch_size`` (:data:`SAMPLE_BATCH_SIZE`) and
    ``hyperparameters`` (:data:`SAMPLE_TUNED_HYPERPARAMETERS`); the default data of the
    supply-chain chapters."""
    from assd_repro.data import dataco_sample_path

    return {"data_path": str(dataco_sample_path()), "batch_size": SAMPLE_BATCH_SIZE,
            "hyperparameters": SAMPLE_TUNED_HYPERPARAMETERS}


T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def dataco_path_from_env() -> str:
    """The real DataCo file: ``$ASSD_DATACO``, else ``$ASSD_DATA/DataCoSupplyChainDataset.csv``.

    Raises:
        DatasetNotFoundError: (a ``FileNotFoundError``) neither names an existing file; the
            message says where to get it.
    """
    searched: list[Path] = []
    if os.environ.get("ASSD_DATACO"):
        searched.append(Path(os.environ["ASSD_DATACO"]).expanduser())
    if os.environ.get("ASSD_DATA"):
        searched.append(Path(os.environ["ASSD_DATA"]).expanduser() / DATACO_FILENAME)
    for path in searched:
        if path.is_file():
            return str(path)
    raise DatasetNotFoundError(
        "dataco", searched,
        f"The paper profile needs the real {DATACO_FILENAME} (180,519 rows): download it from "
        f"Mendeley Data, DOI {DATACO_DOI} (https://data.mendeley.com/datasets/8gx2fvg2k6, CC BY "
        "4.0), then set ASSD_DATACO=/path/to/the.csv or put it in $ASSD_DATA; or use the book "
        "profile (synthetic data).")


def check_data_settings(protocol: str, data_path: str | None, n_rows: int, data_seed: int) -> None:
    """Raise ValueError naming a bad protocol, row count or seed (the path is checked on load).

    Raises:
        ValueError: ``protocol`` is not ``"paper"`` or ``"leak_free"``; ``data_path`` is
            neither a string nor None; ``n_rows`` is not a whole number >= 1000 (synthetic data
            only); ``data_seed`` is not a whole number >= 0.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol={protocol!r} is unknown; use one of {', '.join(PROTOCOLS)}")
    if data_path is not None and not isinstance(data_path, str):
        raise ValueError(f"data_path={data_path!r} must be a path string or None (synthetic data)")
    if data_path is None and (isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 1000):
        raise ValueError(f"n_rows={n_rows!r} must be a whole number >= 1000 (synthetic rows)")
    if isinstance(data_seed, bool) or not isinstance(data_seed, int) or data_seed < 0:
        raise ValueError(f"data_seed={data_seed!r} must be a non-negative integer")


@functools.lru_cache(maxsize=4)
def load_split(protocol: str, data_path: str | None, n_rows: int, data_seed: int) -> DataCoSplit:
    """The preprocessed train/test split (cached per process: scenarios share it).

    Args:
        protocol: ``"paper"`` (the authors' preprocessing, label leak included) or
            ``"leak_free"``.
        data_path: the real DataCo CSV; ``None``: ``make_dataco_like(n_rows, data_seed)``.
        n_rows, data_seed: size and seed of the synthetic table (ignored with a path).

    Raises:
        ValueError: as :func:`check_data_settings` (before anything is read); then as
            :func:`~assd_repro.data.load_dataco` and :func:`~assd_repro.data.paper_protocol`.
        FileNotFoundError: ``data_path`` names no file.
    """
    check_data_settings(protocol, data_path, n_rows, data_seed)
    table = load_dataco(data_path) if data_path is not None else make_dataco_like(n_rows, data_seed)
    return (paper_protocol if protocol == "paper" else leak_free_protocol)(table)


def batch_loader(x: Tensor, y: Tensor, batch_size: int, *, shuffle: bool = False,
                 seed: int = 0, for_training: bool = False) -> DataLoader:
    """A ``DataLoader`` of ``(x[b], y[b])`` slices, the batches ``DataLoader(TensorDataset(x, y),
    batch_size, shuffle)`` would give (shuffled by a generator seeded with ``seed``), built by
    one indexing per batch instead of one per row.

    Args:
        x: ``(N, n_features)`` float32; y: ``(N,)`` int64.
        for_training: skip a last batch of a single row: BatchNorm cannot normalise one row in
            training mode (book: Method, "Supply-chain models"). It arises only when
            ``N % batch_size == 1``; every other batch is unchanged.

    Raises:
        ValueError: ``x`` and ``y`` have different numbers of rows; ``batch_size`` is not a
            positive integer (torch's ``BatchSampler``).
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)} labels; give one label per "
                         "row")
    dataset = TensorDataset(x, y)
    generator = torch.Generator().manual_seed(seed)
    order = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    batches: Sampler[list[int]] = BatchSampler(order, batch_size, drop_last=False)
    if for_training and len(y) > 1:
        batches = _NoSingleRowBatch(batches)
    return DataLoader(dataset, sampler=batches, batch_size=None, generator=generator)


class _NoSingleRowBatch(Sampler[list[int]]):
    """The batches of a ``BatchSampler``, without a batch of one row."""

    def __init__(self, batches: Sampler[list[int]]) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[list[int]]:
        return (batch for batch in self.batches if len(batch) > 1)

    def __len__(self) -> int:
        sampler = self.batches
        assert isinstance(sampler, BatchSampler)
        n = len(sampler.sampler)  # type: ignore[arg-type]
        return len(sampler) - (1 if n % sampler.batch_size == 1 else 0)


@dataclasses.dataclass(frozen=True, eq=False)
class ErrorSplit:
    """The training rows of one error scenario.

    Attributes:
        x: ``(N, n_features)`` float32 training features.
        y_clean: ``(N,)`` int64 true labels.
        y_noisy: ``(N,)`` int64 labels with the injected errors (the data set D).
        error_idx: ``(n_forget,)`` sorted indices of the rows chosen to be wrong (Df).
        retain_idx: ``(N - n_forget,)`` sorted indices of the other rows (Dr).
    """

    x: Tensor
    y_clean: Tensor
    y_noisy: Tensor
    error_idx: Tensor
    retain_idx: Tensor

    @property
    def n_total(self) -> int:
        """``|D| = |Dr| + |Df|``."""
        return len(self.y_clean)

    def full(self) -> tuple[Tensor, Tensor]:
        """D: every row with its possibly wrong label."""
        return self.x, self.y_noisy

    def retain(self) -> tuple[Tensor, Tensor]:
        """Dr: the rows not chosen, with their (correct) labels, in time order."""
        return self.x[self.retain_idx], self.y_clean[self.retain_idx]

    def forget(self) -> tuple[Tensor, Tensor]:
        """Df: the chosen rows *with their wrong labels*, in time order."""
        return self.x[self.error_idx], self.y_noisy[self.error_idx]


def make_error_split(split: DataCoSplit, error_pct: float, seed: int, mode: str = "flip"
                     ) -> ErrorSplit:
    """Give ``round(error_pct / 100 * N)`` random training labels another class.

    Args:
        split: the preprocessed data.
        error_pct: share of wrong labels in percent, in (0, 50).
        seed: seed of the choice (same seed, same rows and labels).
        mode: ``"flip"`` or ``"authors"``, see :func:`~assd_repro.label_errors.inject_label_errors`.

    Raises:
        ValueError: ``error_pct`` is not in (0, 50); then as
            :func:`~assd_repro.label_errors.inject_label_errors` (``seed``, ``mode``, an error
            rate that selects no row).
    """
    if not 0 < error_pct < 50:
        raise ValueError(f"error_pct={error_pct!r} must lie in (0, 50) percent")
    y = torch.from_numpy(split.y_train)
    noisy, idx = inject_label_errors(y, error_pct / 100, N_CLASSES, seed=seed, mode=mode)
    keep = torch.ones(len(y), dtype=torch.bool)
    keep[idx] = False
    return ErrorSplit(torch.from_numpy(split.x_train), y, noisy, idx,
                      torch.nonzero(keep).flatten())


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """``(fn(), seconds)``."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def train_mlp(x: Tensor, y: Tensor, size: str, recipe: TrainRecipe, *, init_seed: int,
              train_seed: int = 0) -> nn.Module:
    """A freshly initialised MLP of ``size`` (weights from ``init_seed``), trained on ``(x, y)``.

    The authors start every model of a run from the same initial weights (one ``MODEL_base``
    deep-copied), so baseline and retrain differ only in their data. ``train_seed`` orders the
    batches when ``recipe.shuffle``.

    Raises:
        ValueError: ``size`` is not ``"LAYERSxWIDTH"`` (:func:`~assd_repro.models.mlp_size`);
            ``x`` and ``y`` have different numbers of rows (:func:`batch_loader`); then as
            :func:`~assd_repro.training.train` (no rows, labels outside 0..2).
        FloatingPointError: the training loss became NaN or infinite.
    """
    spec = ModelSpec.mlp(x.shape[1], N_CLASSES, size=size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        model = build_model(spec)
    loader = batch_loader(x, y, recipe.batch_size or len(y), shuffle=recipe.shuffle, seed=train_seed,
                          for_training=True)
    train(model, loader, recipe, seed=train_seed, progress=False)
    return model.eval()


def evaluate_accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Accuracy in percent of ``model`` on ``(x, y)`` (eval mode, one batch).

    Raises:
        ValueError: as :func:`assd_core.accuracy`: no row; labels of another shape or dtype,
            or out of ``[0, n_classes)``.
    """
    return accuracy(model, [(x, y)])


@torch.no_grad()
def predict_proba(model: nn.Module, x: Tensor) -> np.ndarray:
    """``(N, n_classes)`` float64 softmax probabilities (eval mode)."""
    was = model.training
    model.eval()
    probs = torch.softmax(model(x).double(), dim=1).numpy()
    model.train(was)
    return probs


def assd_from_rows(model: nn.Module, retain: tuple[Tensor, Tensor], forget: tuple[Tensor, Tensor],
                   *, n_total: int, batch_size: int) -> DampeningReport:
    """ASSD in place, importances included: ``[]_Dr`` on ``retain`` and ``[]_Df`` on ``forget``,
    both at ``batch_size`` (the authors' 1024, the training batch size), ``|D| = n_total``.

    Run it on a copy with :func:`assd_repro.baselines.unlearned_copy`.

    Raises:
        ValueError: ``retain`` or ``forget`` pairs rows and labels of different lengths
            (:func:`batch_loader`); then as :func:`assd_core.assd_unlearn` (not
            ``0 < len(forget) < n_total``, bad labels), all before ``model`` is changed.
    """
    full = compute_importances(model, batch_loader(*retain, batch_size))
    return assd_unlearn(model, batch_loader(*forget, batch_size), full,
                        n_forget=len(forget[1]), n_total=n_total)


def normalise_hyperparameters(value: Any) -> tuple[tuple[str, float, float], ...]:
    """``{size: (lr, wd)}`` or ``[(size, lr, wd), ...]`` -> sorted tuple of triples.

    Raises:
        ValueError: a bad size string (:func:`~assd_repro.models.mlp_size`), or a learning rate
            / weight decay that is not a positive finite number (weight decay may be 0).
    """
    items = value.items() if isinstance(value, Mapping) else [(t[0], t[1:]) for t in value]
    out = []
    for size, pair in items:
        mlp_size(size)
        lr, wd = (float(v) for v in pair)
        if not (np.isfinite(lr) and lr > 0 and np.isfinite(wd) and wd >= 0):
            raise ValueError(f"hyperparameters of {size!r}: lr={lr} must be > 0 and "
                             f"weight_decay={wd} >= 0")
        out.append((str(size), lr, wd))
    return tuple(sorted(out))


# --------------------------------------------------------------------------------------------
# Config base
# --------------------------------------------------------------------------------------------


def _whole(value: Any, *, minimum: int) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= minimum


@dataclasses.dataclass(frozen=True)
class SupplyChainConfig(ExperimentConfig):
    """Settings shared by the supply-chain experiments; subclasses define :meth:`cells`.

    The runner's unit is one integer scenario id ``s``: cell ``s % n_cells`` of :meth:`cells`,
    replicate ``s // n_cells`` (which seeds the label errors). ``seeds`` left empty means every
    scenario, ``range(n_cells * n_scenarios)``; a subset may be given.

    Attributes:
        n_scenarios: replicates per cell (paper: 100).
        protocol: ``"paper"`` (the authors' preprocessing, label leak included) or
            ``"leak_free"``.
        data_path: the real ``DataCoSupplyChainDataset.csv``; ``None``: synthetic
            ``make_dataco_like(n_rows, data_seed)``. The paper profile reads ``$ASSD_DATACO``
            or ``$ASSD_DATA``.
        n_rows, data_seed: size and seed of the synthetic table.
        hyperparameters: ``{size: (lr, weight_decay)}`` (stored as sorted triples); default
            :data:`TUNED_HYPERPARAMETERS`.
        epochs, batch_size, shuffle: the supply-chain recipe (25, 1024, no shuffle: authors).
        error_mode: ``"flip"`` (every chosen label changes) or ``"authors"`` (sequential ifs).
        init_seed: seed of the initial weights, shared by every model of every scenario as in
            the authors' notebook; ``None``: each replicate seeds its own initialisation.

    Raises:
        ValueError: (at construction) ``hyperparameters`` as :func:`normalise_hyperparameters`;
            ``n_scenarios``, ``epochs`` or ``batch_size`` is not a whole number >= 1; the data
            settings as :func:`check_data_settings`; ``shuffle`` is not a bool; ``error_mode``
            is not ``"flip"`` or ``"authors"``; ``init_seed`` is neither None nor a whole
            number >= 0; a seed is not a scenario id ``0..len(cells()) * n_scenarios - 1``.
            Also the subclass's checks and :class:`ExperimentConfig`'s (profile, seeds).
    """

    EXPERIMENT: ClassVar[str] = "supply_chain"
    DATA_FIELDS: ClassVar[tuple[str, ...]] = ("data_path",)

    seeds: tuple[int, ...] = ()
    n_scenarios: int = 3
    protocol: str = "paper"
    data_path: str | None = None
    n_rows: int = 50_000
    data_seed: int = 0
    hyperparameters: Any = tuple(sorted((k, *v) for k, v in TUNED_HYPERPARAMETERS.items()))
    epochs: int = 25
    batch_size: int = 1024
    shuffle: bool = False
    error_mode: str = "flip"
    init_seed: int | None = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "hyperparameters", normalise_hyperparameters(self.hyperparameters))
        self._normalise()
        self.validate()
        if not self.seeds:
            object.__setattr__(self, "seeds", tuple(range(len(self.cells()) * self.n_scenarios)))
        super().__post_init__()

    def _normalise(self) -> None:
        """Subclass hook: convert field values (lists to tuples, ints to floats) before checks."""

    def cells(self) -> tuple[tuple[Any, ...], ...]:
        """The experiment's cells; one scenario per cell and replicate."""
        raise NotImplementedError

    @classmethod
    def for_profile(cls, profile: str = "book", **overrides: Any) -> Self:
        """The profile's config; ``paper`` finds the real data file through the environment
        (:func:`dataco_path_from_env`) unless ``data_path`` is given."""
        if profile == "paper" and "data_path" not in overrides:
            overrides["data_path"] = dataco_path_from_env()
        return super().for_profile(profile, **overrides)

    def validate(self) -> None:
        if not _whole(self.n_scenarios, minimum=1):
            raise ValueError(f"n_scenarios={self.n_scenarios!r} must be a positive whole number")
        check_data_settings(self.protocol, self.data_path, self.n_rows, self.data_seed)
        for name in ("epochs", "batch_size"):
            if not _whole(getattr(self, name), minimum=1):
                raise ValueError(f"{name}={getattr(self, name)!r} must be a positive whole number")
        if not isinstance(self.shuffle, bool):
            raise ValueError(f"shuffle={self.shuffle!r} must be True or False")
        if self.error_mode not in ERROR_MODES:
            raise ValueError(f"error_mode={self.error_mode!r} is unknown; use one of "
                             f"{', '.join(ERROR_MODES)}")
        if self.init_seed is not None and not _whole(self.init_seed, minimum=0):
            raise ValueError(f"init_seed={self.init_seed!r} must be a non-negative integer or None")
        n = len(self.cells()) * self.n_scenarios
        bad = [s for s in self.seeds if not _whole(s, minimum=0) or s >= n]
        if bad:
            raise ValueError(f"seeds {bad[:5]} are not scenario ids: {len(self.cells())} cells x "
                             f"{self.n_scenarios} scenarios give ids 0..{n - 1}")

    def check_error_pct(self, value: Any) -> None:
        """Raise ValueError unless ``value`` is a share of wrong labels in (0, 50) percent."""
        if isinstance(value, bool) or not isinstance(value, float) or not 0 < value < 50:
            raise ValueError(f"error_pcts holds {value!r}: every error rate must be a number "
                             "in (0, 50) percent, e.g. 1.0 for 1% wrong labels")

    def lr_wd(self, size: str) -> tuple[float, float]:
        """``(lr, weight_decay)`` of ``size``.

        Raises:
            ValueError: ``size`` has no entry in ``hyperparameters``.
        """
        for name, lr, wd in self.hyperparameters:
            if name == size:
                return lr, wd
        raise ValueError(f"model size {size!r} has no hyperparameters; add {size!r}: (lr, wd) "
                         "to hyperparameters (tune_hyperparameters finds them)")

    def recipe(self, size: str) -> TrainRecipe:
        """The supply-chain training recipe of ``size``.

        Raises:
            ValueError: as :meth:`lr_wd`.
        """
        lr, wd = self.lr_wd(size)
        return supply_chain_recipe(lr, wd, self.epochs, batch_size=self.batch_size,
                                   shuffle=self.shuffle)

    def split(self) -> DataCoSplit:
        """The preprocessed data (cached per process)."""
        return load_split(self.protocol, self.data_path, self.n_rows, self.data_seed)

    def check_data_file(self) -> None:
        """Raise a clear FileNotFoundError now if ``data_path`` names no file.

        Raises:
            DatasetNotFoundError: (a ``FileNotFoundError``) ``data_path`` names no file.
        """
        if self.data_path is not None and not Path(self.data_path).expanduser().is_file():
            raise DatasetNotFoundError("dataco", [Path(self.data_path)],
                                       f"Download {DATACO_FILENAME} from Mendeley Data, DOI "
                                       f"{DATACO_DOI}, or set data_path=None (synthetic data).")

    def init_seed_for(self, replicate: int) -> int:
        """Seed of the initial weights in replicate ``replicate``."""
        return replicate if self.init_seed is None else self.init_seed


C = TypeVar("C", bound=SupplyChainConfig)


def run_supply_chain(
    scenario: Callable[[C, int], list[dict[str, Any]]],
    config: C,
    *,
    results_dir: str | os.PathLike[str] = "results",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run the missing scenarios of a supply-chain experiment (one torch thread each) and
    return every row; the common body of ``run_error_unlearning`` and ``run_detect_unlearn``.

    Args:
        scenario: the experiment's ``(config, scenario_id) -> rows`` function.
        config: the experiment's settings; a named data file must exist (checked first).
        results_dir: results root (``<results_dir>/<experiment>/<hash>/scenario-<id>.parquet``).
        workers, scheduler: executor, see :func:`~assd_repro.experiments.run_scenarios`; the
            paper's 1,800 scenarios spread over a Dask cluster, each worker preprocessing the
            data once.
        progress: show a progress bar.

    Returns:
        The tidy rows (the experiment module's docstring) with the runner's ``experiment``,
        ``config_hash``, ``scenario`` and ``wall_s`` columns, in scenario order.

    Raises:
        DatasetNotFoundError: ``config.data_path`` names no file (before any scenario runs).
        ValueError: ``workers`` out of range, as :func:`~assd_repro.experiments.run_scenarios`.
    """
    config.check_data_file()
    return run_scenarios(scenario, config, results_dir=results_dir, workers=workers,
                         scheduler=scheduler, threads=1, progress=progress)
