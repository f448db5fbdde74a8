"""Unlearning baselines: retrain (from scratch, or the SSD authors' head-only variant),
fine-tune on the retain set, and copy-returning wrappers of SSD and ASSD.

Every function leaves the caller's model untouched and returns a new one, together with what
produced it (a :class:`~assd_core.training.TrainHistory` or a ``DampeningReport``).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from assd_core.dampening import DampeningReport
from assd_core.models import ModelSpec, build_model
from assd_core.training import TrainHistory, TrainRecipe, train
from assd_core.unlearn import assd_unlearn, ssd_unlearn

logger = logging.getLogger(__name__)

__all__ = [
    "assd_baseline",
    "finetune",
    "reset_top_level_modules",
    "retrain_from_scratch",
    "retrain_head_only",
    "ssd_baseline",
]


def retrain_from_scratch(
    spec_or_model_factory: ModelSpec | Callable[[], nn.Module],
    retain_loader: DataLoader | Dataset,
    recipe: TrainRecipe,
    seed: int = 0,
    *,
    eval_loader: DataLoader | None = None,
    progress: bool = False,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, TrainHistory]:
    """The gold-standard baseline: a freshly initialised model trained on the retain set Dr.

    Args:
        spec_or_model_factory: a :class:`ModelSpec` (built with :func:`build_model`) or a
            zero-argument callable that returns a *new* model (not one the caller still uses:
            it is trained in place). A spec with ``pretrained_path`` starts from those weights.
        retain_loader: Dr, as a ``DataLoader`` or a ``Dataset`` (see
            :func:`~assd_core.training.train`).
        recipe: the original model's training recipe.
        seed: seeds the initialisation and the training.
        eval_loader, progress, device: passed to :func:`~assd_core.training.train`.

    Returns:
        The trained model (eval mode) and its training history.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if isinstance(spec_or_model_factory, ModelSpec):
            model = build_model(spec_or_model_factory)
        else:
            model = spec_or_model_factory()
    if device is not None:
        model.to(device)
    history = train(model, retain_loader, recipe, eval_loader=eval_loader, progress=progress,
                    seed=seed, device=device)
    return model, history


def reset_top_level_modules(model: nn.Module) -> list[str]:
    """Call ``reset_parameters()`` on every direct child of ``model`` that has one, in place.

    This is the SSD authors' "retrain" re-initialisation (REFERENCE.md section 1). With this
    project's models it resets the head only: ``fc`` (ResNet18), ``head`` (MLP), and ``head``
    plus the final ``norm`` LayerNorm for timm ViTs. Uses the global torch RNG.

    Returns:
        The names of the children that were reset.
    """
    names = [name for name, child in model.named_children() if hasattr(child, "reset_parameters")]
    for name in names:
        getattr(model, name).reset_parameters()
    if not names:
        logger.warning("no top-level child of %s has reset_parameters: nothing was reset",
                       type(model).__name__)
    return names


def retrain_head_only(
    model: nn.Module,
    retain_loader: DataLoader | Dataset,
    recipe: TrainRecipe,
    seed: int = 0,
    *,
    eval_loader: DataLoader | None = None,
    progress: bool = False,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, TrainHistory]:
    """The SSD authors' "retrain": re-initialise the head, train on from the old weights.

    A deep copy of ``model`` gets :func:`reset_top_level_modules` (seeded with ``seed``) and
    is then trained on Dr with ``recipe``. Not a retrain from scratch: the body keeps what it
    learnt from the forget set until training overwrites it.

    Returns:
        The new model (eval mode) and its training history; ``model`` is not modified.
    """
    new_model = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        names = reset_top_level_modules(new_model)
    logger.info("head-only retrain: re-initialised %s", names)
    history = train(new_model, retain_loader, recipe, eval_loader=eval_loader,
                    progress=progress, seed=seed, device=device)
    return new_model, history


def finetune(
    model: nn.Module,
    retain_loader: DataLoader | Dataset,
    *,
    lr: float,
    weight_decay: float,
    epochs: int = 1,
    momentum: float = 0.0,
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int = 0,
    eval_loader: DataLoader | None = None,
    progress: bool = False,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, TrainHistory]:
    """Fine-tune a copy of ``model`` on the retain set Dr at a constant learning rate.

    The supply-chain protocol (REFERENCE.md section 4) is one epoch at
    ``lr = decayed_lr(recipe)`` (``lr0 * 0.95**25 * 0.95``) with the recipe's weight decay;
    the SSD image scripts use 5 epochs at lr 0.02 (momentum 0.9, weight decay 5e-4).

    Args:
        model: the trained model (not modified).
        retain_loader: Dr, a ``DataLoader`` or a ``Dataset`` (then ``batch_size`` and
            ``shuffle`` build the loader).
        lr, weight_decay, epochs, momentum: SGD settings, constant learning rate, no warm-up.
        seed, eval_loader, progress, device: passed to :func:`~assd_core.training.train`.

    Returns:
        The fine-tuned copy (eval mode) and its training history.
    """
    recipe = TrainRecipe(epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         schedule="constant", batch_size=batch_size, shuffle=shuffle)
    new_model = copy.deepcopy(model)
    history = train(new_model, retain_loader, recipe, eval_loader=eval_loader,
                    progress=progress, seed=seed, device=device)
    return new_model, history


def ssd_baseline(
    model: nn.Module,
    forget_loader: Iterable[Any],
    full_importances: Mapping[str, Tensor],
    alpha: float,
    lam: float = 1.0,
) -> tuple[nn.Module, DampeningReport]:
    """SSD with given ``alpha`` and ``lam`` applied to a deep copy of ``model``.

    See :func:`assd_core.unlearn.ssd_unlearn`; ``model`` is not modified.
    """
    new_model = copy.deepcopy(model)
    report = ssd_unlearn(new_model, forget_loader, full_importances, alpha=alpha, lam=lam)
    return new_model, report


def assd_baseline(
    model: nn.Module,
    forget_loader: Iterable[Any],
    full_importances: Mapping[str, Tensor],
    *,
    n_forget: int | None = None,
    n_total: int,
) -> tuple[nn.Module, DampeningReport]:
    """Parameter-free ASSD applied to a deep copy of ``model``.

    See :func:`assd_core.unlearn.assd_unlearn` (``n_total = |Dr| + |Df|``); ``model`` is not
    modified.
    """
    new_model = copy.deepcopy(model)
    report = assd_unlearn(new_model, forget_loader, full_importances, n_forget=n_forget,
                          n_total=n_total)
    return new_model, report
