"""Random-label fine-tuning ("RL"; the SalUn paper's baseline, Fan et al. 2024, ICLR, after
Golatkar et al. 2020): fine-tune on the forget set with wrong labels and on the retain set with
its labels.

Every epoch is, as in the SalUn authors' CIFAR-10 code (repository OPTML-Group/Unlearn-Saliency,
``Classification/unlearn/RL.py``), a pass over Df, each batch's labels redrawn by
:func:`relabel`, then a pass over Dr; every batch is one SGD step on its mean cross-entropy.
Unlike the authors' ``torch.randint(0, n_classes)``, a new label is never the given one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from assd_core._kernels import check_labels
from assd_repro.baselines._common import (
    Data,
    StepLog,
    UnlearningInfo,
    batch_cross_entropy,
    checked_sgd_inputs,
    run_on_copy,
    sgd,
)
from assd_repro.training import split_batch

__all__ = ["random_label", "random_label_loss", "relabel"]


def relabel(labels: Tensor, n_classes: int, *, generator: torch.Generator | None = None
            ) -> Tensor:
    """Each label replaced by one of the other ``n_classes - 1`` classes, uniformly at random:
    ``(y + s) mod n_classes`` with ``s`` uniform in ``{1, ..., n_classes - 1}``.

    Args:
        labels: ``(batch,)`` integer class indices in ``[0, n_classes)``.
        n_classes: number of classes (>= 2).
        generator: random source (on the labels' device); default torch's global RNG.

    Returns:
        New labels, same shape, dtype and device; none equals the label it replaces.

    Raises:
        ValueError: ``n_classes < 2`` (no other class to move to).
    """
    if n_classes < 2:
        raise ValueError(f"n_classes={n_classes}: random labels need at least 2 classes, "
                         "one to move each row to")
    shift = torch.randint(1, n_classes, labels.shape, generator=generator, device=labels.device)
    return (labels + shift) % n_classes


def random_label_loss(logits: Tensor, labels: Tensor, *,
                      generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Mean cross-entropy of ``logits`` ``(batch, n_classes)`` against :func:`relabel`-ed
    ``labels`` (nats), and those new labels.

    Raises:
        ValueError: ``labels`` do not fit ``logits`` (:func:`assd_core._kernels.check_labels`);
            a model with one output.
    """
    check_labels(labels, logits)
    new_labels = relabel(labels, logits.shape[1], generator=generator)
    return F.cross_entropy(logits, new_labels), new_labels


def relabel_epochs(student: nn.Module, retain: Iterable[Any], forget: Iterable[Any],
                   optimizer: torch.optim.Optimizer, epochs: int, device: torch.device,
                   after_step: Callable[[], None] | None = None) -> StepLog:
    """The training of :func:`random_label` (and of SalUn, with ``after_step``): per epoch a
    pass over ``forget`` with random labels, then one over ``retain``; train mode."""
    log = StepLog(optimizer, after_step)
    student.train()
    for _ in range(epochs):
        for batch in forget:
            inputs, labels = split_batch(batch, device)
            log.step(random_label_loss(student(inputs), labels)[0])
        for batch in retain:
            log.step(batch_cross_entropy(student, batch, device))
        log.end_epoch()
    return log


def random_label(
    model: nn.Module,
    retain: Data,
    forget: Data,
    *,
    epochs: int = 10,
    lr: float = 0.01,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, UnlearningInfo]:
    """Random-label fine-tuning of a copy of ``model``.

    Defaults are the SalUn authors' (OPTML-Group/Unlearn-Saliency,
    ``Classification/arg_parser.py``: ``unlearn_epochs = 10``, ``unlearn_lr = 0.01``, SGD
    momentum 0.9, weight decay ``5e-4``, batches of 256; the learning-rate decay at epochs
    91 and 136 never applies).

    Args:
        model: the trained classifier (not modified).
        retain, forget: Dr and Df (:data:`~assd_repro.baselines._common.Data`); Df with its
            given labels, which every epoch replaces by random other ones.
        epochs, lr, momentum, weight_decay: SGD settings, constant learning rate.
        batch_size, shuffle, seed, device: as :func:`~assd_repro.baselines.neggrad_plus`.

    Returns:
        The fine-tuned copy (eval mode) and its :class:`UnlearningInfo`.

    Raises:
        ValueError: ``epochs``, ``lr``, ``momentum`` or ``weight_decay`` out of range (as
            :class:`~assd_repro.training.TrainRecipe`); ``retain`` or ``forget`` empty, a
            generator, or a Dataset without ``batch_size``; all before the copy. Then a
            batch's labels do not fit the model's outputs, or the model has one output.
        TypeError: a batch is not ``(x, y, *rest)``.
        FloatingPointError: the loss became NaN or infinite.
    """
    retain_batches, forget_batches, settings = checked_sgd_inputs(
        retain, forget, epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay,
        batch_size=batch_size, shuffle=shuffle, seed=seed)

    def body(student: nn.Module, device: torch.device) -> StepLog:
        return relabel_epochs(student, retain_batches, forget_batches, sgd(student, settings),
                              epochs, device)

    return run_on_copy("random_label", settings, model, seed=seed, device=device, body=body)
