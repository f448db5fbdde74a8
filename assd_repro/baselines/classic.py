"""The classic baselines: retrain (from scratch, or the SSD authors' head-only variant),
fine-tune on the retain set, and :func:`unlearned_copy`, which runs any in-place method of
``assd_core`` (SSD, ASSD, dampening) on a copy.

Every function leaves the caller's model untouched and returns a new one, together with what
produced it (a :class:`~assd_repro.training.TrainHistory` or the method's report).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from assd_repro.models import ModelSpec, build_model
from assd_repro.training import TrainHistory, TrainRecipe, train

logger = logging.getLogger(__name__)

__all__ = [
    "finetune",
    "reset_top_level_modules",
    "retrain_from_scratch",
    "retrain_head_only",
    "unlearned_copy",
]

R = TypeVar("R")


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
            :func:`~assd_repro.training.train`).
        recipe: the original model's training recipe.
        seed: seeds the initialisation and the training.
        eval_loader, progress, device: passed to :func:`~assd_repro.training.train`.

    Returns:
        The trained model (eval mode) and its training history.

    Raises:
        ValueError: ``spec_or_model_factory`` is a model (it would be trained in place) or
            neither a :class:`ModelSpec` nor callable, checked before anything is built; the
            factory returns something that is not an ``nn.Module``; then as
            :func:`~assd_repro.models.build_model` and :func:`~assd_repro.training.train`.
        TypeError, FloatingPointError: as :func:`~assd_repro.training.train`.
    """
    factory = spec_or_model_factory
    if isinstance(factory, nn.Module) or not (isinstance(factory, ModelSpec) or callable(factory)):
        raise ValueError(f"spec_or_model_factory is a {type(factory).__name__}; pass a ModelSpec "
                         "or a zero-argument function that builds a new model, e.g. "
                         "lambda: build_model(spec) (a model itself would be trained in place)")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(factory) if isinstance(factory, ModelSpec) else factory()
    if not isinstance(model, nn.Module):
        raise ValueError(f"the model factory returned a {type(model).__name__}, not an "
                         "nn.Module; it must return the new model itself")
    if device is not None:
        model.to(device)
    history = train(model, retain_loader, recipe, eval_loader=eval_loader, progress=progress,
                    seed=seed, device=device)
    return model, history


def reset_top_level_modules(model: nn.Module) -> list[str]:
    """Call ``reset_parameters()`` on every direct child of ``model`` that has one, in place.

    This is the SSD authors' "retrain" re-initialisation (book: Method, "Retraining"). With this
    project's models it resets the head only: ``fc`` (ResNet18), ``head`` (MLP), and ``head``
    plus the final ``norm`` LayerNorm for timm ViTs. Uses the global torch RNG.

    Returns:
        The names of the children that were reset; an empty list, with a logged warning,
        when no child has ``reset_parameters``.
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

    Raises:
        ValueError, TypeError, FloatingPointError: as :func:`~assd_repro.training.train` (a
            bad ``recipe``, an empty loader, labels that do not fit the model's outputs, bad
            batches, a diverging loss); ``model`` is unchanged in every case.
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

    The supply-chain protocol (book: Method, "Models, training and baselines") is one epoch at
    ``lr = decayed_lr(recipe)`` (``lr0 * 0.95**25 * 0.95``) with the recipe's weight decay;
    the SSD image scripts use 5 epochs at lr 0.02 (momentum 0.9, weight decay 5e-4).

    Args:
        model: the trained model (not modified).
        retain_loader: Dr, a ``DataLoader`` or a ``Dataset`` (then ``batch_size`` and
            ``shuffle`` build the loader).
        lr, weight_decay, epochs, momentum: SGD settings, constant learning rate, no warm-up.
        seed, eval_loader, progress, device: passed to :func:`~assd_repro.training.train`.

    Returns:
        The fine-tuned copy (eval mode) and its training history.

    Raises:
        ValueError: ``lr``, ``weight_decay``, ``momentum`` or ``epochs`` out of range, or a bad
            ``batch_size``, as :class:`~assd_repro.training.TrainRecipe` (checked before the
            copy); ``retain_loader`` is a ``Dataset`` and ``batch_size`` is None; then as
            :func:`~assd_repro.training.train`. ``model`` is unchanged in every case.
        TypeError, FloatingPointError: as :func:`~assd_repro.training.train`.
    """
    recipe = TrainRecipe(epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         schedule="constant", batch_size=batch_size, shuffle=shuffle)
    new_model = copy.deepcopy(model)
    history = train(new_model, retain_loader, recipe, eval_loader=eval_loader,
                    progress=progress, seed=seed, device=device)
    return new_model, history


def unlearned_copy(
    model: nn.Module, unlearn: Callable[..., R], /, *args: Any, **kwargs: Any
) -> tuple[nn.Module, R]:
    """Apply an in-place unlearning function to a deep copy of ``model``.

    The one way this package unlearns without touching the original model (in every table the
    original is the *baseline*), for example
    ``unlearned_copy(model, assd_unlearn, forget_loader, full, n_total=n)`` or
    ``unlearned_copy(model, dampen, full, forget, alpha=10.0, lam=1.0)``.

    Args:
        model: the trained model (not modified).
        unlearn: a function that changes its first argument in place and returns a report, such
            as :func:`assd_core.assd_unlearn`, :func:`assd_core.ssd_unlearn` or
            :func:`assd_core.dampen`.
        *args, **kwargs: passed to ``unlearn`` after the copy.

    Returns:
        The unlearned copy and what ``unlearn`` returned.

    Raises:
        ValueError: ``model`` is not an ``nn.Module``, or ``unlearn`` is a model or not
            callable (e.g. the two swapped, or a method's name given as a string), checked
            before the copy; then whatever ``unlearn`` raises (``model`` is never changed).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model is a {type(model).__name__}, not an nn.Module; call "
                         "unlearned_copy(model, unlearn, *args), the model first")
    if isinstance(unlearn, nn.Module) or not callable(unlearn):
        raise ValueError(f"unlearn is a {type(unlearn).__name__}; pass the unlearning "
                         "function itself, e.g. assd_core.assd_unlearn, second")
    new_model = copy.deepcopy(model)
    return new_model, unlearn(new_model, *args, **kwargs)
