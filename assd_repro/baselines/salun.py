"""SalUn (Fan et al. 2024, "SalUn: Empowering Machine Unlearning via Gradient-based Weight
Saliency in Both Image Classification and Generation", ICLR): random-label fine-tuning that
updates only the weights most salient to the forget set.

Saliency is ``|g|`` with ``g`` the gradient, at the trained weights in eval mode, of the
forget set's cross-entropy summed over its batches (each batch's mean), as the authors'
``Classification/generate_mask.py`` (repository OPTML-Group/Unlearn-Saliency; its sign, a
gradient of ``-CE``, does not change ``|g|``). The mask holds the ``floor(share * n)`` weights
of largest saliency among all ``n`` trainable parameter elements of the model. Then
:func:`~assd_repro.baselines.random_label` with every weight outside the mask put back to its
trained value after each step (the authors' ``_restore_masked_params``), so those weights end
bit-identical to the trained ones. Buffers (BatchNorm statistics) are not masked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from assd_core._kernels import check_labels, module_flags, restore_module_flags
from assd_repro.baselines._common import (
    Data,
    StepLog,
    UnlearningInfo,
    check_fraction,
    checked_sgd_inputs,
    model_device,
    run_on_copy,
    sgd,
)
from assd_repro.baselines.random_label import relabel_epochs
from assd_repro.training import split_batch

__all__ = ["salun", "saliency_mask"]


def _masked_count(model: nn.Module, share: float) -> tuple[int, int]:
    """``(floor(share * n), n)`` with ``n`` the model's trainable parameter elements.

    Raises:
        ValueError: the count is 0.
    """
    n_parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_masked = int(share * n_parameters)
    if n_masked == 0:
        raise ValueError(f"share={share} of the model's {n_parameters} trainable weights "
                         "selects none; raise the share")
    return n_masked, n_parameters


def saliency_mask(model: nn.Module, forget: Iterable[Any], *, share: float = 0.5
                  ) -> dict[str, Tensor]:
    """SalUn's hard weight-saliency mask.

    Ranks every trainable parameter element by ``|g|`` (see the module docstring) and keeps the
    top ``floor(share * n)``. Ties are broken by position: an element earlier in
    ``model.named_parameters()`` order, then in the tensor's row-major order, ranks first, so
    exactly that many are selected.

    Args:
        model: the trained classifier; run in eval mode (every ``training`` flag restored), its
            parameters, buffers and ``.grad`` left untouched.
        forget: batches ``(x, y, *rest)`` of Df (moved to the model's device).
        share: fraction of the weights in the mask, in ``(0, 1]`` (authors' default 0.5).

    Returns:
        Parameter name -> bool tensor of the parameter's shape, True inside the mask, for each
        trainable parameter.

    Raises:
        ValueError: ``share`` outside ``(0, 1]`` or too small to select one weight, checked
            first; a batch's labels do not fit the model's outputs.
        TypeError: a batch is not ``(x, y, *rest)``.
    """
    share = check_fraction("share", share)
    n_masked, _ = _masked_count(model, share)
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    sums = [torch.zeros_like(p) for _, p in named]
    device = model_device(model, None)
    flags = module_flags(model)
    model.eval()
    try:
        for batch in forget:
            inputs, labels = split_batch(batch, device)
            logits = model(inputs)
            check_labels(labels, logits)
            grads = torch.autograd.grad(F.cross_entropy(logits, labels), [p for _, p in named],
                                        allow_unused=True)
            for total, grad in zip(sums, grads, strict=True):
                if grad is not None:
                    total.add_(grad)
    finally:
        restore_module_flags(flags)
    saliency = torch.cat([total.abs().flatten() for total in sums])
    top = torch.sort(saliency, descending=True, stable=True).indices[:n_masked]
    flat = torch.zeros(saliency.numel(), dtype=torch.bool, device=saliency.device)
    flat[top] = True
    pieces = flat.split([p.numel() for _, p in named])
    return {name: piece.view_as(p) for (name, p), piece in zip(named, pieces, strict=True)}


def salun(
    model: nn.Module,
    retain: Data,
    forget: Data,
    *,
    share: float = 0.5,
    epochs: int = 10,
    lr: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, UnlearningInfo]:
    """SalUn on a copy of ``model``.

    Defaults are the authors' CIFAR-10 command (OPTML-Group/Unlearn-Saliency,
    ``Classification/README.md``: ``--unlearn RL --unlearn_epochs 10 --unlearn_lr 0.1`` with
    the mask of threshold 0.5; ``arg_parser.py``: SGD momentum 0.9, weight decay ``5e-4``,
    batches of 256).

    Args:
        model: the trained classifier (not modified).
        retain, forget: Dr and Df (:data:`~assd_repro.baselines._common.Data`).
        share: fraction of the weights that may change, in ``(0, 1]``. ``share=1`` gives
            :func:`~assd_repro.baselines.random_label` with the same settings, bit for bit
            where the data are not shuffled (the mask's pass over Df advances a shuffle).
        epochs, lr, momentum, weight_decay: SGD settings, constant learning rate.
        batch_size, shuffle, seed, device: as :func:`~assd_repro.baselines.neggrad_plus`.

    Returns:
        The unlearned copy (eval mode) and its :class:`UnlearningInfo`, whose ``details``
        hold ``n_masked`` and ``n_parameters``.

    Raises:
        ValueError: ``share`` outside ``(0, 1]`` or too small to select one weight;
            ``epochs``, ``lr``, ``momentum`` or ``weight_decay`` out of range; ``retain`` or
            ``forget`` empty, a generator, or a Dataset without ``batch_size``; all before the
            copy. Then a batch's labels do not fit the model's outputs.
        TypeError: a batch is not ``(x, y, *rest)``.
        FloatingPointError: the loss became NaN or infinite.
    """
    share = check_fraction("share", share)
    n_masked, n_parameters = _masked_count(model, share)
    retain_batches, forget_batches, settings = checked_sgd_inputs(
        retain, forget, epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay,
        batch_size=batch_size, shuffle=shuffle, seed=seed)

    def body(student: nn.Module, device: torch.device) -> StepLog:
        mask = saliency_mask(student, forget_batches, share=share)
        kept = [(p, mask[name], p.detach().clone())
                for name, p in student.named_parameters() if name in mask]

        @torch.no_grad()
        def restore_unmasked() -> None:
            for parameter, selected, trained in kept:
                parameter.copy_(torch.where(selected, parameter, trained))

        return relabel_epochs(student, retain_batches, forget_batches, sgd(student, settings),
                              epochs, device, after_step=restore_unmasked)

    return run_on_copy("salun", {"share": share, **settings}, model, seed=seed, device=device,
                       body=body, details={"n_masked": n_masked, "n_parameters": n_parameters})
