"""SCRUB (Kurmanji et al. 2023, "Towards Unbounded Machine Unlearning", NeurIPS): a student,
initialised as the trained model (the teacher), moves away from the teacher on the forget set
and stays close to it on the retain set.

Epoch ``e`` (0-based) is, as in the authors' ``large_scale_unlearning.ipynb`` (repository
meghdadk/SCRUB):

- if ``e < msteps``, a max-pass over Df: each step minimises ``-KL(teacher || student)``;
- a min-pass over Dr: each step minimises ``gamma * CE + alpha * KL(teacher || student)``.

KL is :func:`distill_kl`, the authors' ``DistillKL``: tempered softmaxes, summed over classes,
averaged over the batch, times ``T**2``. One SGD optimiser serves both passes; the teacher is a
frozen copy in eval mode, the student trains in train mode.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from assd_core._kernels import check_labels
from assd_core.dampening import check_number
from assd_repro.baselines._common import (
    Data,
    StepLog,
    UnlearningInfo,
    check_positive,
    check_whole,
    checked_sgd_inputs,
    frozen_copy,
    run_on_copy,
    sgd,
)
from assd_repro.training import split_batch

__all__ = ["distill_kl", "scrub"]


def distill_kl(student_logits: Tensor, teacher_logits: Tensor, *, temperature: float) -> Tensor:
    """``T**2 / batch * sum_i KL(softmax(t_i / T) || softmax(s_i / T))`` (nats), as the
    authors' ``DistillKL`` (RepDistiller).

    Args:
        student_logits, teacher_logits: ``(batch, n_classes)``.
        temperature: ``T > 0``.

    Returns:
        A 0-d tensor; gradients flow into ``student_logits`` only if the teacher's are detached.
    """
    log_student = F.log_softmax(student_logits / temperature, dim=1)
    teacher = F.softmax(teacher_logits / temperature, dim=1)
    return (F.kl_div(log_student, teacher, reduction="sum") * temperature**2
            / student_logits.shape[0])


def scrub(
    model: nn.Module,
    retain: Data,
    forget: Data,
    *,
    alpha: float = 0.001,
    gamma: float = 0.99,
    msteps: int = 2,
    epochs: int = 3,
    temperature: float = 4.0,
    lr: float = 5e-4,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, UnlearningInfo]:
    """SCRUB on a copy of ``model`` (the copy is the student; the teacher is ``model`` as given).

    Defaults are the authors' CIFAR-10 ResNet settings (meghdadk/SCRUB,
    ``large_scale_unlearning.ipynb``: ``alpha = 0.001`` (KL weight), ``gamma = 0.99`` (CE
    weight), ``msteps = 2``, ``sgda_epochs = 3``, ``kd_T = 4``, SGD at ``5e-4`` with momentum
    0.9 and weight decay ``5e-4``; its learning-rate decay at epoch 3 never applies within 3
    epochs). Their loaders: forget batches of 512, retain batches of 256.

    Args:
        model: the trained classifier (not modified).
        retain, forget: Dr and Df (:data:`~assd_repro.baselines._common.Data`).
        alpha: weight of the KL term of the min-steps (>= 0).
        gamma: weight of the cross-entropy of the min-steps (>= 0).
        msteps: epochs that start with a max-pass over Df (the first ``msteps``).
        epochs: epochs in all; each ends with a min-pass over Dr.
        temperature: softmax temperature ``T > 0`` of the KL terms.
        lr, momentum, weight_decay: SGD settings, constant learning rate.
        batch_size, shuffle, seed, device: as :func:`~assd_repro.baselines.neggrad_plus`.

    Returns:
        The student (eval mode) and its :class:`UnlearningInfo`.

    Raises:
        ValueError: ``alpha`` or ``gamma`` not a finite number >= 0; ``msteps`` not a whole
            number >= 0; ``temperature`` not > 0; ``epochs``, ``lr``, ``momentum`` or
            ``weight_decay`` out of range; ``retain`` or ``forget`` empty, a generator, or a
            Dataset without ``batch_size``; all before the copy. Then a retain batch's labels
            do not fit the model's outputs.
        TypeError: a batch is not ``(x, y, *rest)``.
        FloatingPointError: the loss became NaN or infinite.
    """
    alpha, gamma = check_number("alpha", alpha), check_number("gamma", gamma)
    msteps = check_whole("msteps", msteps)
    temperature = check_positive("temperature", temperature)
    retain_batches, forget_batches, settings = checked_sgd_inputs(
        retain, forget, epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay,
        batch_size=batch_size, shuffle=shuffle, seed=seed)

    def body(student: nn.Module, device: torch.device) -> StepLog:
        teacher = frozen_copy(student)
        log = StepLog(sgd(student, settings))
        student.train()
        for epoch in range(epochs):
            for batch in forget_batches if epoch < msteps else ():
                inputs, _ = split_batch(batch, device)
                log.step(-distill_kl(student(inputs), teacher(inputs), temperature=temperature))
            for batch in retain_batches:
                inputs, labels = split_batch(batch, device)
                logits = student(inputs)
                check_labels(labels, logits)
                kl = distill_kl(logits, teacher(inputs), temperature=temperature)
                log.step(gamma * F.cross_entropy(logits, labels) + alpha * kl)
            log.end_epoch()
        return log

    settings = {"alpha": alpha, "gamma": gamma, "msteps": msteps, "temperature": temperature,
                **settings}
    return run_on_copy("scrub", settings, model, seed=seed, device=device, body=body)
