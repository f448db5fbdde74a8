"""What the optimisation-based unlearning methods of this package share: checks of their
inputs, the loaders they build, one seeded run on a copy, the optimiser steps and the record
they return.

Every method deep-copies the model (moved to ``device``), optimises the copy inside a forked
torch RNG seeded with ``seed`` (the caller's RNG state is restored afterwards; on the CPU the
same seed, data and threads give bit-identical weights) and returns the copy in eval mode with
an :class:`UnlearningInfo`. Losses are batch means of cross-entropies and KL divergences in nats.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from assd_core._kernels import check_labels
from assd_repro.training import TrainRecipe, split_batch

__all__ = ["Data", "StepLog", "UnlearningInfo"]

Data = DataLoader[Any] | Dataset[Any] | Sequence[Any]
"""Training data of a method: a ``DataLoader``, a ``Dataset`` (then ``batch_size`` builds the
loader) or a list of ``(x, y, *rest)`` batches."""


@dataclasses.dataclass(frozen=True)
class UnlearningInfo:
    """What one run of an unlearning method did.

    Attributes:
        method: the method's name (``"neggrad_plus"``, ``"scrub"``, ``"random_label"``,
            ``"salun"``, ``"bad_teacher"``).
        settings: its hyper-parameters as used, with ``seed``.
        epoch_losses: per epoch, the mean of the objective its optimiser steps minimised (nats;
            SCRUB's max-steps enter with their sign, as minimised).
        steps: optimiser steps taken.
        seconds: wall time of the run, the copy included.
        details: what the method adds (SalUn: ``n_masked`` and ``n_parameters``; Bad Teacher:
            ``n_retain_used``).
    """

    method: str
    settings: Mapping[str, Any]
    epoch_losses: tuple[float, ...]
    steps: int
    seconds: float
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class StepLog:
    """Optimiser steps on given losses, with a finiteness check and per-epoch mean losses.

    Args:
        optimizer: the optimiser of the model being unlearned.
        after_step: called after every ``optimizer.step()`` (SalUn restores its unmasked
            weights there).
    """

    def __init__(self, optimizer: torch.optim.Optimizer,
                 after_step: Callable[[], None] | None = None) -> None:
        self.optimizer, self.after_step = optimizer, after_step
        self.steps = 0
        self.epoch_losses: list[float] = []
        self._sum, self._count = 0.0, 0

    def step(self, loss: Tensor) -> None:
        """One optimiser step on ``loss`` (a 0-d tensor).

        Raises:
            FloatingPointError: ``loss`` is NaN or infinite (before the step).
        """
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"the unlearning loss is {value} at step {self.steps}; "
                                     "lower the learning rate")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.after_step is not None:
            self.after_step()
        self.steps += 1
        self._sum, self._count = self._sum + value, self._count + 1

    def end_epoch(self) -> None:
        """Record the epoch's mean loss (NaN for an epoch without a step)."""
        self.epoch_losses.append(self._sum / self._count if self._count else math.nan)
        self._sum, self._count = 0.0, 0


def check_fraction(name: str, value: float, *, allow_zero: bool = False) -> float:
    """``float(value)`` if it lies in ``(0, 1]`` (``[0, 1]`` with ``allow_zero``).

    Raises:
        ValueError: it does not, or it is not a real number (a bool included); names it.
    """
    low = "[0" if allow_zero else "(0"
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) \
            or not 0 <= value <= 1 or (value == 0 and not allow_zero):
        raise ValueError(f"{name}={value!r} must be a number in {low}, 1]")
    return float(value)


def check_positive(name: str, value: float) -> float:
    """``float(value)`` if it is a finite number > 0.

    Raises:
        ValueError: it is not (a bool included); names it.
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) \
            or value <= 0:
        raise ValueError(f"{name}={value!r} must be a finite number > 0")
    return float(value)


def check_whole(name: str, value: int) -> int:
    """``int(value)`` if it is a whole number >= 0.

    Raises:
        ValueError: it is not (a bool included); names it.
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"{name}={value!r} must be a whole number >= 0")
    return int(value)


def as_loader(name: str, data: Data, batch_size: int | None, *, shuffle: bool, seed: int
              ) -> Iterable[Any]:
    """The batches a method iterates over, once per epoch.

    A ``Dataset`` becomes a ``DataLoader`` with ``batch_size`` (shuffled, if ``shuffle``, by a
    ``torch.Generator`` seeded with ``seed``, as :func:`~assd_repro.training.recipe_loader`);
    a ``DataLoader`` or a list of batches is used as given.

    Raises:
        ValueError: ``data`` is a ``Dataset`` and ``batch_size`` is None; ``data`` is a
            one-shot iterator (a generator) or not iterable; it has no batch. Each names
            ``name``.
    """
    if isinstance(data, Dataset):
        if batch_size is None:
            raise ValueError(f"{name} is a {type(data).__name__} and batch_size is None; pass "
                             "batch_size=..., or a DataLoader")
        generator = torch.Generator().manual_seed(seed)
        data = DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator)
    elif isinstance(data, Iterator) or not isinstance(data, Iterable):
        raise ValueError(f"{name} is a {type(data).__name__}; pass a DataLoader, a Dataset "
                         "with batch_size, or a list of (x, y) batches (a generator is used "
                         "up after one pass, and the method passes over the data every epoch)")
    try:
        n_batches = len(data)
    except TypeError:  # a loader over an IterableDataset
        n_batches = None
    if n_batches == 0:
        raise ValueError(f"{name} yields no batch: it is empty, or drop_last drops its only, "
                         "partial batch")
    return data


def checked_sgd_inputs(
    retain: Data, forget: Data, *, epochs: int, lr: float, momentum: float, weight_decay: float,
    batch_size: int | None, shuffle: bool, seed: int,
) -> tuple[Iterable[Any], Iterable[Any], dict[str, Any]]:
    """Check the SGD settings (as :class:`~assd_repro.training.TrainRecipe`) and the data (as
    :func:`as_loader`, named ``retain`` and ``forget``).

    Returns:
        The retain batches, the forget batches, and the settings as a dict (for
        :func:`sgd` and :class:`UnlearningInfo`).

    Raises:
        ValueError: as :class:`~assd_repro.training.TrainRecipe` and :func:`as_loader`.
    """
    TrainRecipe(epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay,
                batch_size=batch_size)
    settings = {"epochs": epochs, "lr": lr, "momentum": momentum, "weight_decay": weight_decay}
    return (as_loader("retain", retain, batch_size, shuffle=shuffle, seed=seed),
            as_loader("forget", forget, batch_size, shuffle=shuffle, seed=seed), settings)


def sgd(model: nn.Module, settings: Mapping[str, Any]) -> torch.optim.SGD:
    """SGD over the model's parameters with the ``lr``, ``momentum`` and ``weight_decay`` of
    ``settings``."""
    return torch.optim.SGD(model.parameters(), lr=settings["lr"], momentum=settings["momentum"],
                           weight_decay=settings["weight_decay"])


def endless(batches: Iterable[Any]) -> Iterator[Any]:
    """The batches again and again, from the start each time (a fresh pass of a shuffling
    loader each time).

    Raises:
        ValueError: a pass yields no batch.
    """
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("a loader yielded no batch; the method needs at least one")


def batch_cross_entropy(model: nn.Module, batch: Any, device: torch.device) -> Tensor:
    """Mean cross-entropy of ``model`` on a batch ``(x, y, *rest)``, its labels checked.

    Raises:
        TypeError: the batch is not a sequence (:func:`~assd_repro.training.split_batch`).
        ValueError: as :func:`assd_core._kernels.check_labels`.
    """
    inputs, labels = split_batch(batch, device)
    logits = model(inputs)
    check_labels(labels, logits)
    return F.cross_entropy(logits, labels)


def model_device(model: nn.Module, device: torch.device | str | None) -> torch.device:
    """``device``, or that of the model's first parameter (the CPU for a model without one)."""
    if device is not None:
        return torch.device(device)
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def frozen_copy(model: nn.Module) -> nn.Module:
    """A deep copy in eval mode without gradients: a teacher."""
    teacher = copy.deepcopy(model).eval()
    teacher.requires_grad_(False)
    return teacher


def run_on_copy(
    method: str, settings: Mapping[str, Any], model: nn.Module, *, seed: int,
    device: torch.device | str | None, body: Callable[[nn.Module, torch.device], StepLog],
    details: Mapping[str, Any] | None = None,
) -> tuple[nn.Module, UnlearningInfo]:
    """Run ``body(copy, device)`` on a deep copy of ``model`` moved to ``device``, inside a
    forked torch RNG seeded with ``seed``; the copy ends in eval mode.

    Returns:
        The copy and the :class:`UnlearningInfo` (``settings`` with ``seed`` added).
    """
    started = time.perf_counter()
    target = model_device(model, device)
    new_model = copy.deepcopy(model).to(target)
    rng_devices = [target.index or 0] if target.type == "cuda" else []
    with torch.random.fork_rng(devices=rng_devices):
        torch.manual_seed(seed)
        log = body(new_model, target)
    new_model.eval()
    info = UnlearningInfo(method, {**settings, "seed": seed}, tuple(log.epoch_losses), log.steps,
                          time.perf_counter() - started, dict(details or {}))
    return new_model, info
