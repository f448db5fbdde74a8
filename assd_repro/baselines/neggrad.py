"""NegGrad+ (Kurmanji et al. 2023, "Towards Unbounded Machine Unlearning", NeurIPS): descend on
the retain set and ascend on the forget set at once.

Every step takes one retain batch and one forget batch (the forget loader restarts when it is
used up, and at every epoch) and minimises::

    beta * CE(retain batch) - (1 - beta) * CE(forget batch)

with SGD; an epoch is one pass over the retain set, as in the authors' ``train_negrad``
(repository meghdadk/SCRUB, ``thirdparty/repdistiller/helper/loops.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from assd_core._kernels import check_labels
from assd_repro.baselines._common import (
    Data,
    StepLog,
    UnlearningInfo,
    check_fraction,
    checked_sgd_inputs,
    endless,
    run_on_copy,
    sgd,
)
from assd_repro.training import split_batch

__all__ = ["neggrad_loss", "neggrad_plus"]


def neggrad_loss(retain_logits: Tensor, retain_labels: Tensor, forget_logits: Tensor,
                 forget_labels: Tensor, *, beta: float) -> Tensor:
    """``beta * CE(retain) - (1 - beta) * CE(forget)``, each cross-entropy a batch mean (nats).

    Args:
        retain_logits, forget_logits: ``(batch, n_classes)`` outputs on the two batches.
        retain_labels, forget_labels: ``(batch,)`` integer class indices.
        beta: weight of the retain term, in ``[0, 1]``.

    Returns:
        A 0-d tensor.
    """
    return (beta * F.cross_entropy(retain_logits, retain_labels)
            - (1 - beta) * F.cross_entropy(forget_logits, forget_labels))


def neggrad_plus(
    model: nn.Module,
    retain: Data,
    forget: Data,
    *,
    beta: float = 0.9999,
    epochs: int = 5,
    lr: float = 0.01,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, UnlearningInfo]:
    """NegGrad+ on a copy of ``model``.

    Defaults are the authors' CIFAR settings (meghdadk/SCRUB, ``MIA_experiments.ipynb``:
    ``ng_alpha = 0.9999``, ``ng_epochs = 5``, ``ng_lr = 0.01``, SGD without momentum or
    weight decay, batches of 128); their ``ng_alpha`` is ``beta`` here.

    Args:
        model: the trained classifier (not modified).
        retain, forget: Dr and Df (:data:`~assd_repro.baselines._common.Data`): loaders, lists
            of ``(x, y)`` batches, or Datasets batched by ``batch_size`` and shuffled (seeded)
            if ``shuffle``.
        beta: weight of the retain loss, in ``[0, 1]`` (1: fine-tuning, 0: gradient ascent).
        epochs: passes over the retain set.
        lr, momentum, weight_decay: SGD settings, constant learning rate.
        seed: seeds the torch RNG of the run (shuffling included).
        device: where to compute; default the model's device.

    Returns:
        The unlearned copy (eval mode) and its :class:`UnlearningInfo`.

    Raises:
        ValueError: ``beta`` outside ``[0, 1]``; ``epochs``, ``lr``, ``momentum`` or
            ``weight_decay`` out of range (as :class:`~assd_repro.training.TrainRecipe`);
            ``retain`` or ``forget`` empty, a generator, or a Dataset without ``batch_size``;
            all before the copy. Then a batch's labels do not fit the model's outputs.
        TypeError: a batch is not ``(x, y, *rest)``.
        FloatingPointError: the loss became NaN or infinite.
    """
    beta = check_fraction("beta", beta, allow_zero=True)
    retain_batches, forget_batches, settings = checked_sgd_inputs(
        retain, forget, epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay,
        batch_size=batch_size, shuffle=shuffle, seed=seed)

    def body(student: nn.Module, device: torch.device) -> StepLog:
        log = StepLog(sgd(student, settings))
        student.train()
        for _ in range(epochs):
            forget_stream = endless(forget_batches)
            for batch in retain_batches:
                x_r, y_r = split_batch(batch, device)
                x_f, y_f = split_batch(next(forget_stream), device)
                logits_r, logits_f = student(x_r), student(x_f)
                check_labels(y_r, logits_r)
                check_labels(y_f, logits_f)
                log.step(neggrad_loss(logits_r, y_r, logits_f, y_f, beta=beta))
            log.end_epoch()
        return log

    return run_on_copy("neggrad_plus", {"beta": beta, **settings}, model, seed=seed,
                       device=device, body=body)
