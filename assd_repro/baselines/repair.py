"""ASSD + repair: parameter-free ASSD on a copy, then fine-tuning on the retain set with
:func:`~assd_repro.baselines.finetune` (by default one epoch), to win back what dampening cost
the retained data."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from assd_core import DampeningReport, assd_unlearn
from assd_repro.baselines._common import as_loader
from assd_repro.baselines.classic import finetune, unlearned_copy
from assd_repro.training import TrainHistory, TrainRecipe

__all__ = ["RepairInfo", "assd_repair"]


@dataclasses.dataclass(frozen=True)
class RepairInfo:
    """What :func:`assd_repair` did.

    Attributes:
        report: ASSD's :class:`~assd_core.DampeningReport` (percentile, alpha, selection).
        history: the fine-tuning's :class:`~assd_repro.training.TrainHistory`.
        seconds: wall time of both steps, the copies included.
    """

    report: DampeningReport
    history: TrainHistory
    seconds: float


def assd_repair(
    model: nn.Module,
    forget_loader: Iterable[Any],
    full_importances: Mapping[str, Tensor],
    retain_loader: DataLoader[Any] | Dataset[Any],
    *,
    n_total: int,
    n_forget: int | None = None,
    lr: float,
    weight_decay: float,
    epochs: int = 1,
    momentum: float = 0.0,
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, RepairInfo]:
    """:func:`assd_core.assd_unlearn` on a copy of ``model``, then
    :func:`~assd_repro.baselines.finetune` of the result on Dr: the same as
    ``finetune(unlearned_copy(model, assd_unlearn, ...)[0], retain_loader, ...)``, bit for bit.

    Args:
        model: the trained model (not modified).
        forget_loader, full_importances, n_total, n_forget: as :func:`assd_core.assd_unlearn`.
        retain_loader: Dr for the fine-tuning, a ``DataLoader`` or a ``Dataset`` (then
            ``batch_size`` and ``shuffle`` build the loader).
        lr, weight_decay, epochs, momentum, batch_size, shuffle, seed, device: as
            :func:`~assd_repro.baselines.finetune` (the supply-chain protocol's fine-tune:
            one epoch at ``decayed_lr(recipe)`` with the recipe's weight decay).

    Returns:
        The repaired copy (eval mode) and its :class:`RepairInfo`.

    Raises:
        ValueError: the fine-tuning settings out of range (as
            :class:`~assd_repro.training.TrainRecipe`); ``retain_loader`` a ``Dataset`` with
            ``batch_size`` None, or without a batch; both before the copy. Then as
            :func:`assd_core.assd_unlearn` and :func:`~assd_repro.training.train`; ``model``
            is unchanged in every case.
        TypeError, FloatingPointError: as :func:`~assd_repro.training.train`.
    """
    started = time.perf_counter()
    TrainRecipe(epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay,
                batch_size=batch_size)  # checks
    as_loader("retain_loader", retain_loader, batch_size, shuffle=shuffle, seed=seed)  # checks
    dampened, report = unlearned_copy(model, assd_unlearn, forget_loader, full_importances,
                                      n_forget=n_forget, n_total=n_total)
    repaired, history = finetune(dampened, retain_loader, lr=lr, weight_decay=weight_decay,
                                 epochs=epochs, momentum=momentum, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, device=device)
    return repaired, RepairInfo(report, history, time.perf_counter() - started)
