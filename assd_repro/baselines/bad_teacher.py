"""Bad Teacher (Chundawat et al. 2023, "Can Bad Teaching Induce Forgetting? Unlearning in Deep
Networks Using an Incompetent Teacher", AAAI): a student, initialised as the trained model, is
distilled from the trained model (the competent teacher) on retain rows and from a randomly
initialised copy (the incompetent teacher) on forget rows.

As the authors' ``unlearn.py`` (repository vikram2000b/bad-teaching-unlearning): a random
``retain_share`` of Dr (``random.sample`` there, ``torch.randperm`` here) and all of Df form one
shuffled data set; each step minimises ``KL(target || softmax(student / T))`` with
:func:`bad_teacher_targets` as the target, with Adam. The authors' ``F.kl_div`` uses
``reduction="mean"``, which divides the batch's KL by ``batch * n_classes``; here it is the
batch mean of the KL (``"batchmean"``), a constant factor ``n_classes`` larger, which Adam's
update all but ignores.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Subset

from assd_repro.baselines._common import (
    Data,
    StepLog,
    UnlearningInfo,
    check_fraction,
    check_positive,
    frozen_copy,
    run_on_copy,
)
from assd_repro.training import TrainRecipe

__all__ = ["bad_teacher", "bad_teacher_loss", "bad_teacher_targets"]


def bad_teacher_targets(competent_logits: Tensor, incompetent_logits: Tensor, is_forget: Tensor,
                        *, temperature: float = 1.0) -> Tensor:
    """Per row, the incompetent teacher's tempered softmax on forget rows, the competent
    teacher's on retain rows.

    Args:
        competent_logits, incompetent_logits: ``(batch, n_classes)``.
        is_forget: ``(batch,)`` bool (or 0/1), True for a row of Df.
        temperature: ``T > 0``.

    Returns:
        ``(batch, n_classes)`` probabilities, each row summing to 1.
    """
    competent = F.softmax(competent_logits / temperature, dim=1)
    incompetent = F.softmax(incompetent_logits / temperature, dim=1)
    return torch.where(is_forget.bool()[:, None], incompetent, competent)


def bad_teacher_loss(student_logits: Tensor, targets: Tensor, *, temperature: float = 1.0
                     ) -> Tensor:
    """``mean_i KL(targets_i || softmax(student_i / T))`` (nats), a 0-d tensor."""
    return F.kl_div(F.log_softmax(student_logits / temperature, dim=1), targets,
                    reduction="batchmean")


class _Flagged(Dataset[tuple[Any, Any, bool]]):
    """``(x, y, flag)`` rows of a data set of ``(x, y, *rest)`` rows."""

    def __init__(self, dataset: Any, flag: bool) -> None:
        self.dataset, self.flag = dataset, flag

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, Any, bool]:
        row = self.dataset[index]
        return row[0], row[1], self.flag


def _rows(name: str, data: Data) -> Any:
    """The ``Dataset`` of ``data`` (a Dataset, or a DataLoader's ``.dataset``).

    Raises:
        ValueError: ``data`` is neither; it has no rows.
    """
    dataset = data.dataset if isinstance(data, DataLoader) else data
    if not isinstance(dataset, Dataset) or not hasattr(dataset, "__len__"):
        raise ValueError(f"{name} is a {type(data).__name__}; Bad Teacher samples rows, so pass "
                         "a Dataset or a DataLoader over a sized Dataset")
    if len(dataset) == 0:
        raise ValueError(f"{name} has no rows")
    return dataset


def bad_teacher(
    model: nn.Module,
    retain: Data,
    forget: Data,
    *,
    retain_share: float = 0.3,
    epochs: int = 1,
    lr: float = 1e-4,
    temperature: float = 1.0,
    batch_size: int = 256,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, UnlearningInfo]:
    """Bad Teacher on a copy of ``model``.

    Defaults are the authors' (vikram2000b/bad-teaching-unlearning,
    ``CIFARSuper20_Rocket_Unlearn.ipynb``: 30 % of the retain rows, one epoch, Adam at
    ``1e-4``, ``KL_temperature = 1``, batches of 256, shuffled).

    The incompetent teacher is a copy of ``model`` on which every module's
    ``reset_parameters()`` is called (seeded): a fresh initialisation of the same architecture,
    as the authors' new ``ResNet18(pretrained=False)``. Parameters that belong to no such
    module (a ViT's position embedding, say) keep their trained values.

    Args:
        model: the trained classifier (not modified); also the competent teacher.
        retain, forget: Dr and Df as Datasets of ``(x, y, *rest)`` rows or DataLoaders over
            them (their ``.dataset`` is used; their batching is not).
        retain_share: fraction of Dr used, in ``(0, 1]``; ``floor(retain_share * |Dr|)`` rows.
        epochs: passes over the combined rows.
        lr: Adam learning rate.
        temperature: ``T > 0`` of the teachers' and the student's softmax.
        batch_size: rows per step.
        seed: seeds the retain sample, the incompetent teacher, the shuffling.
        device: where to compute; default the model's device.

    Returns:
        The student (eval mode) and its :class:`UnlearningInfo`, whose ``details`` hold
        ``n_retain_used``.

    Raises:
        ValueError: ``retain_share`` outside ``(0, 1]`` or too small to keep one row;
            ``temperature`` not > 0; ``epochs``, ``lr`` or ``batch_size`` out of range (as
            :class:`~assd_repro.training.TrainRecipe`); ``retain`` or ``forget`` neither a
            sized Dataset nor a DataLoader over one, or without rows; no module of ``model``
            has ``reset_parameters``; all before the copy.
        FloatingPointError: the loss became NaN or infinite.
    """
    retain_share = check_fraction("retain_share", retain_share)
    temperature = check_positive("temperature", temperature)
    TrainRecipe(epochs=epochs, lr=lr, batch_size=batch_size)  # checks
    retain_rows, forget_rows = _rows("retain", retain), _rows("forget", forget)
    n_keep = int(retain_share * len(retain_rows))
    if n_keep == 0:
        raise ValueError(f"retain_share={retain_share} of {len(retain_rows)} retain rows keeps "
                         "none; raise the share")
    if not any(hasattr(m, "reset_parameters") for m in model.modules()):
        raise ValueError(f"no module of the {type(model).__name__} has reset_parameters(), so "
                         "no incompetent (randomly initialised) teacher can be made from it")

    def body(student: nn.Module, device: torch.device) -> StepLog:
        competent, incompetent = frozen_copy(student), frozen_copy(student)
        for module in incompetent.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
        kept = torch.randperm(len(retain_rows))[:n_keep].tolist()
        flagged = [_Flagged(forget_rows, True), _Flagged(Subset(retain_rows, kept), False)]
        rows: ConcatDataset[Any] = ConcatDataset(flagged)
        loader = DataLoader(rows, batch_size=batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
        log = StepLog(torch.optim.Adam(student.parameters(), lr=lr))
        student.train()
        for _ in range(epochs):
            for inputs, _, is_forget in loader:
                inputs = inputs.to(device)
                targets = bad_teacher_targets(competent(inputs), incompetent(inputs),
                                              is_forget.to(device), temperature=temperature)
                log.step(bad_teacher_loss(student(inputs), targets, temperature=temperature))
            log.end_epoch()
        return log

    settings = {"retain_share": retain_share, "epochs": epochs, "lr": lr,
                "temperature": temperature, "batch_size": batch_size}
    return run_on_copy("bad_teacher", settings, model, seed=seed, device=device, body=body,
                       details={"n_retain_used": n_keep})
