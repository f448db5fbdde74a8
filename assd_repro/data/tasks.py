"""Forget tasks of the SSD protocol: full-class, sub-class and random forgetting.

Each builder splits an :class:`~assd_repro.data.containers.ImageData` into the four sets the
SSD evaluation uses (book: Method, "Evaluation protocol"):

============  ====================================  =====================================
task          ``retain_test`` / ``forget_test``     targets (``n_classes``)
============  ====================================  =====================================
full-class    test images of the other classes /    the data set's classes
              test images of the forgotten class
sub-class     test images of the other fine         the coarse groups (CIFAR-20: 20)
              classes / test images of the
              forgotten fine class
random        the whole test set /                  the data set's classes
              ``forget_train`` itself
============  ====================================  =====================================

``retain_train`` and ``forget_train`` always partition the training split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from assd_repro.data.cifar import CIFAR20_ALIASES
from assd_repro.data.containers import ImageData, ImageDataset

__all__ = ["ForgetKind", "ForgetTask", "fullclass", "random_forget", "resolve_class", "subclass"]

ForgetKind = Literal["fullclass", "subclass", "random"]


@dataclass(frozen=True, eq=False)
class ForgetTask:
    """The data of one unlearning scenario.

    Attributes:
        name: E.g. ``"cifar20/subclass/rocket"`` or ``"cifar10/random/83@seed0"``.
        kind: ``"fullclass"``, ``"subclass"`` or ``"random"``.
        retain_train: Dr, training samples kept.
        forget_train: Df, training samples to forget.
        retain_test: Test set on which retain accuracy is measured (see module table).
        forget_test: Set on which forget accuracy is measured; for random forgetting this is
            ``forget_train`` itself (book: Method, "Evaluation protocol").
        full_train: The whole training split D = Dr + Df in its original order, with the
            targets the model is trained on (coarse ones for sub-class tasks).
        test: The whole test split, same targets.
        n_classes: Number of targets (model outputs).
        forget_indices: ``(|Df|,)`` int64, sorted positions of Df in ``full_train``.
        retain_indices: ``(|Dr|,)`` int64, sorted positions of Dr in ``full_train``.
        forget_class: Name of the forgotten class (full-class) or fine class (sub-class);
            None for random forgetting.
        forget_target: Target label of the forgotten data (the class, or the fine class's
            coarse group); None for random forgetting.
        test_forget_mask: ``(len(test),)`` bool, which test images form ``forget_test`` (the
            others form ``retain_test``), so an evaluation can forward the test set once;
            None for random forgetting, whose ``retain_test`` is the whole test set.
    """

    name: str
    kind: ForgetKind
    retain_train: ImageDataset
    forget_train: ImageDataset
    retain_test: ImageDataset
    forget_test: ImageDataset
    full_train: ImageDataset
    test: ImageDataset
    n_classes: int
    forget_indices: Tensor
    retain_indices: Tensor
    forget_class: str | None = None
    forget_target: int | None = None
    test_forget_mask: Tensor | None = None

    @property
    def forget_share(self) -> float:
        """|Df| / |D|, a fraction in (0, 1) (ASSD's percentile uses it)."""
        return len(self.forget_train) / len(self.full_train)


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def resolve_class(cls: int | str, classes: Sequence[str], *, what: str = "class") -> int:
    """Index of ``cls`` in ``classes``.

    ``cls`` may be an index, a name (case, spaces, ``-`` and ``_`` ignored), a paper alias of
    a CIFAR-100 superclass (:data:`~assd_repro.data.cifar.CIFAR20_ALIASES`, e.g. ``"vehicle2"``
    -> ``"vehicles_2"``) or a string of digits read as an index.

    Raises:
        ValueError: Unknown class or index out of range; the message lists the valid names.
    """
    valid = f"valid {what} names: {', '.join(classes)} (or an index 0..{len(classes) - 1})"
    if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool):
        if 0 <= int(cls) < len(classes):
            return int(cls)
        raise ValueError(f"{what} index {cls} out of range; {valid}")
    if isinstance(cls, str):
        keys = {_key(c): i for i, c in enumerate(classes)}
        aliases = {_key(a): _key(t) for a, t in CIFAR20_ALIASES.items()}
        key = _key(cls)
        if key in keys:
            return keys[key]
        if aliases.get(key) in keys:
            return keys[aliases[key]]
        if key.isdigit() and int(key) < len(classes):
            return int(key)
    raise ValueError(f"unknown {what} {cls!r}; {valid}")


def _split(ds: ImageDataset, forget: Tensor) -> tuple[ImageDataset, ImageDataset]:
    """``(retain, forget)`` subsets for a bool mask ``forget`` of shape ``(N,)``."""
    return ds.subset(~forget), ds.subset(forget)


_EMPTY_HINTS = {
    "forget_train": "no training image of the class to forget",
    "forget_test": "no test image of the class to forget",
    "retain_train": "no training image of any other class",
    "retain_test": "no test image of any other class",
}


def _check_nonempty(sizes: dict[str, int], task_name: str) -> None:
    empty = [name for name, size in sizes.items() if size == 0]
    if empty:
        reasons = "; ".join(f"{name} ({_EMPTY_HINTS[name]})" for name in empty)
        raise ValueError(f"{task_name}: empty split(s): {reasons}")


def _mask_task(name: str, kind: ForgetKind, train: ImageDataset, test: ImageDataset,
               train_mask: Tensor, test_mask: Tensor, forget_class: str,
               forget_target: int) -> ForgetTask:
    retain_train, forget_train = _split(train, train_mask)
    retain_test, forget_test = _split(test, test_mask)
    _check_nonempty({"forget_train": len(forget_train), "forget_test": len(forget_test),
                     "retain_train": len(retain_train), "retain_test": len(retain_test)},
                    name)
    return ForgetTask(
        name=name, kind=kind, retain_train=retain_train, forget_train=forget_train,
        retain_test=retain_test, forget_test=forget_test, full_train=train, test=test,
        n_classes=train.n_classes, forget_indices=train_mask.nonzero().flatten(),
        retain_indices=(~train_mask).nonzero().flatten(), forget_class=forget_class,
        forget_target=forget_target, test_forget_mask=test_mask.clone(),
    )


def fullclass(data: ImageData, forget_class: int | str) -> ForgetTask:
    """Forget every training image of one class (SSD full-class forgetting).

    Args:
        data: Train and test splits; their targets define the classes.
        forget_class: Class name or index (see :func:`resolve_class`); e.g. ``"rocket"`` on
            CIFAR-100, ``"vehicle2"`` on CIFAR-20, a person's name on Pins.

    Returns:
        ForgetTask with ``forget_*`` = images of that class, ``retain_*`` = the others.

    Raises:
        ValueError: Unknown class, or a split would be empty (no train or test image of the
            class, or no other class).
    """
    c = resolve_class(forget_class, data.classes)
    name = f"{data.name}/fullclass/{data.classes[c]}"
    return _mask_task(name, "fullclass", data.train, data.test, data.train.labels == c,
                      data.test.labels == c, data.classes[c], c)


def _coarse_view(ds: ImageDataset, data_name: str) -> ImageDataset:
    """The split with coarse targets and fine labels kept in ``fine_labels``."""
    if ds.coarse_labels is not None:
        return ds.with_coarse_targets()
    if ds.fine_labels is not None:
        return ds
    raise ValueError(f"sub-class forgetting needs fine and coarse labels, which {data_name!r} "
                     "lacks; use cifar100, cifar20, cifar10 or mnist_sample")


def subclass(data: ImageData, fine_class: int | str) -> ForgetTask:
    """Forget every training image of one fine class; the model predicts the coarse groups.

    Works on data with a coarse grouping (CIFAR-100, whose superclasses become the targets)
    or already coarse targets (CIFAR-20); both give the same task. E.g. ``"rocket"`` is
    forgotten while the model keeps predicting ``vehicles_2`` for lawn mowers, streetcars,
    tanks and tractors.

    Args:
        data: Splits with ``coarse_labels`` or ``fine_labels``.
        fine_class: Fine class name or index (see :func:`resolve_class`).

    Returns:
        ForgetTask over the coarse targets; ``forget_target`` is the fine class's group.

    Raises:
        ValueError: No coarse grouping, unknown fine class, or an empty split.
    """
    train, test = _coarse_view(data.train, data.name), _coarse_view(data.test, data.name)
    assert train.fine_labels is not None and train.fine_classes is not None
    assert test.fine_labels is not None
    f = resolve_class(fine_class, train.fine_classes, what="fine class")
    train_mask, test_mask = train.fine_labels == f, test.fine_labels == f
    fine_name = train.fine_classes[f]
    target = int(train.labels[train_mask][0]) if bool(train_mask.any()) else -1
    name = f"{data.name}/subclass/{fine_name}"
    return _mask_task(name, "subclass", train, test, train_mask, test_mask, fine_name, target)


def _forget_count(n_or_fraction: int | float, n_train: int) -> int:
    if isinstance(n_or_fraction, bool):
        raise ValueError(f"n_or_fraction must be a count or a fraction, got {n_or_fraction!r}")
    if isinstance(n_or_fraction, (int, np.integer)):
        n = int(n_or_fraction)
    elif 0.0 < float(n_or_fraction) < 1.0:
        # round half up, on a value rounded to 9 decimals against float noise:
        # 0.165% of 50,000 = 82.5 -> 83 images, as in the paper.
        n = math.floor(round(float(n_or_fraction) * n_train, 9) + 0.5)
    else:
        raise ValueError(f"a float n_or_fraction must be a fraction in (0, 1), got "
                         f"{n_or_fraction}; pass an int for a count")
    if not 0 < n < n_train:
        raise ValueError(f"random forgetting of {n_or_fraction!r} gives {n} of {n_train} "
                         "training samples; both the forget and the retain set must be non-empty")
    return n


def random_forget(data: ImageData, n_or_fraction: int | float, seed: int = 0) -> ForgetTask:
    """Forget a uniformly random subset of training samples (SSD random forgetting).

    Following the SSD protocol (book: Method, "Evaluation protocol"), ``retain_test`` is the
    whole test set and ``forget_test`` is ``forget_train`` itself (accuracy on Df is measured on
    the forgotten training samples).

    Args:
        data: Train and test splits.
        n_or_fraction: Number of samples (int) or share of the training set (float in
            (0, 1), rounded half up: 0.00165 of 50,000 -> 83).
        seed: Seed of ``numpy.random.default_rng`` choosing the samples without replacement.

    Raises:
        ValueError: ``n_or_fraction`` is a bool, or a float outside (0, 1); the count it gives
            leaves the forget or the retain set empty (not ``0 < n < len(data.train)``).
    """
    n_train = len(data.train)
    n = _forget_count(n_or_fraction, n_train)
    chosen = np.random.default_rng(seed).choice(n_train, size=n, replace=False)
    mask = torch.zeros(n_train, dtype=torch.bool)
    mask[torch.from_numpy(chosen.astype(np.int64))] = True
    retain_train, forget_train = _split(data.train, mask)
    return ForgetTask(
        name=f"{data.name}/random/{n}@seed{seed}", kind="random", retain_train=retain_train,
        forget_train=forget_train, retain_test=data.test, forget_test=forget_train,
        full_train=data.train, test=data.test, n_classes=data.n_classes,
        forget_indices=mask.nonzero().flatten(), retain_indices=(~mask).nonzero().flatten(),
    )
