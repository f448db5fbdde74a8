"""In-memory image datasets, their train/test container and the data-root lookup.

An :class:`ImageDataset` holds every image of one split as a single tensor of shape
``(N, C, H, W)``; indexing it returns ``(x, y)`` so it plugs into
:class:`torch.utils.data.DataLoader`. An :class:`ImageData` pairs a train and a test split.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader

from assd_repro.models.common import check_positive

__all__ = [
    "DATA_ENV_VAR",
    "DatasetNotFoundError",
    "ImageData",
    "ImageDataset",
    "first_per_class_indices",
    "make_loader",
    "resize_images",
    "resolve_data_root",
    "stratified_split_indices",
]

DATA_ENV_VAR = "ASSD_DATA"
"""Environment variable naming the data root when no ``root`` argument is given."""

_DEFAULT_ROOT = Path.home() / ".cache" / "assd" / "data"


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not on disk where it was looked for.

    Args:
        name: Dataset name, e.g. ``"cifar100"``.
        searched: Every path that was looked at, in order.
        how_to_get: One or two sentences telling the user how to obtain the data.
    """

    def __init__(self, name: str, searched: Sequence[Path], how_to_get: str) -> None:
        self.name = name
        self.searched = tuple(Path(p) for p in searched)
        self.how_to_get = how_to_get
        looked = "\n".join(f"  - {p}" for p in self.searched) or "  (nowhere)"
        super().__init__(
            f"dataset {name!r} not found. Looked at:\n{looked}\n{how_to_get} "
            f"The data root is the `root` argument, else ${DATA_ENV_VAR}, "
            f"else {_DEFAULT_ROOT}."
        )


def resolve_data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the data root: ``root`` if given, else ``$ASSD_DATA``, else ``~/.cache/assd/data``.

    The path is expanded (``~``) but not required to exist.
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return _DEFAULT_ROOT


@dataclass(frozen=True, eq=False)
class ImageDataset(torch.utils.data.Dataset[tuple[Tensor, Tensor]]):
    """One split of an image classification data set, held in memory.

    Attributes:
        images: ``(N, C, H, W)``. ``uint8`` in [0, 255] as loaded from disk, or ``float32``
            (scaled to [0, 1] and, usually, normalised per channel) after
            :func:`assd_repro.data.images.prepare_image_data`.
        labels: ``(N,)`` int64, the training targets, indices into ``classes``.
        classes: Name of every target class; ``len(classes)`` is the number of model outputs.
        coarse_labels: ``(N,)`` int64 or None, a coarser grouping of ``labels`` (CIFAR-100's
            20 superclasses, the MNIST sample's digit pairs), indices into ``coarse_classes``.
        coarse_classes: Names of the coarse groups, or None.
        fine_labels: ``(N,)`` int64 or None: when the targets are themselves a grouping
            (CIFAR-20, or after :meth:`with_coarse_targets`), the original fine labels.
        fine_classes: Names of the fine classes, or None.
        resize_to: If set, ``__getitem__`` and :meth:`get_batch` resize each image lazily
            to ``(resize_to, resize_to)`` (bilinear, antialiased); ``images`` keeps its
            stored size. Used when the resized set would not fit in memory (ViT at 224).

    Indexing returns ``(x, y)``: ``x`` of shape ``(C, H', W')`` and ``y`` a 0-d int64 tensor.
    The dataclass is frozen; every method returns a new dataset and leaves this one unchanged.

    Raises:
        ValueError: ``images`` is not 4-D; ``labels``, ``coarse_labels`` or ``fine_labels`` is
            given without its class names, is not int64 of shape ``(N,)``, or holds a value
            outside ``[0, len(names))``; ``resize_to`` is neither None nor a positive ``int``.
    """

    images: Tensor
    labels: Tensor
    classes: list[str]
    coarse_labels: Tensor | None = None
    coarse_classes: list[str] | None = None
    fine_labels: Tensor | None = None
    fine_classes: list[str] | None = None
    resize_to: int | None = field(default=None)

    def __post_init__(self) -> None:
        n = self.images.shape[0]
        if self.images.ndim != 4:
            raise ValueError(f"images must be (N, C, H, W), got shape {tuple(self.images.shape)}")
        for attr, names in (
            ("labels", self.classes),
            ("coarse_labels", self.coarse_classes),
            ("fine_labels", self.fine_classes),
        ):
            value = getattr(self, attr)
            if value is None:
                continue
            if names is None:
                raise ValueError(f"{attr} given without its class names")
            if value.shape != (n,) or value.dtype != torch.int64:
                raise ValueError(f"{attr} must be int64 of shape ({n},), got {value.dtype} "
                                 f"{tuple(value.shape)}")
            if n and (int(value.min()) < 0 or int(value.max()) >= len(names)):
                raise ValueError(f"{attr} out of range for {len(names)} class names")
        if self.resize_to is not None:
            check_positive(resize_to=self.resize_to)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        x = self.images[index]
        if self.resize_to is not None:
            x = resize_images(x.unsqueeze(0), self.resize_to)[0]
        return x, self.labels[index]

    @property
    def n_classes(self) -> int:
        """Number of target classes (model outputs)."""
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of the images that indexing returns (after lazy resizing)."""
        c, h, w = self.images.shape[1:]
        if self.resize_to is not None:
            h = w = self.resize_to
        return int(c), int(h), int(w)

    def _rows(self, indices: Tensor | Sequence[int]) -> Tensor:
        """``indices`` (positions, or a bool mask of shape ``(N,)``) as int64 positions."""
        idx = torch.as_tensor(indices)
        n = len(self)
        if idx.dtype == torch.bool:
            if idx.shape != (n,):
                raise ValueError(f"a boolean mask of shape {tuple(idx.shape)} cannot select rows "
                                 f"of a dataset of {n}; it must have shape ({n},)")
            return idx.nonzero().flatten()
        idx = idx.to(torch.int64).flatten()
        bad = idx[(idx < 0) | (idx >= n)]
        if bad.numel():
            raise ValueError(f"indices hold {int(bad[0])}, outside [0, {n}) for a dataset of "
                             f"{n} rows; give row positions 0..{n - 1}")
        return idx

    def get_batch(self, indices: Tensor | Sequence[int]) -> tuple[Tensor, Tensor]:
        """Return ``(x, y)`` for many indices at once: ``(B, C, H', W')`` and ``(B,)``.

        ``indices`` are row positions or, as in :meth:`subset`, a bool mask of shape ``(N,)``.

        Raises:
            ValueError: a position outside ``[0, N)`` (negative ones included); a bool mask of
                another shape than ``(N,)``.
        """
        idx = self._rows(indices)
        x = self.images.index_select(0, idx)
        if self.resize_to is not None:
            x = resize_images(x, self.resize_to)
        return x, self.labels.index_select(0, idx)

    def subset(self, indices: Tensor | Sequence[int]) -> ImageDataset:
        """Return a new dataset with the rows ``indices`` (``(K,)`` int64 or a bool mask of
        shape ``(N,)``), in that order. Tensors are copied; class lists are shared.

        Raises:
            ValueError: a position outside ``[0, N)`` (negative ones included); a bool mask of
                another shape than ``(N,)`` (a shorter one would silently select from the
                first rows only).
        """
        idx = self._rows(indices)

        def take(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.index_select(0, idx)

        return replace(
            self,
            images=self.images.index_select(0, idx),
            labels=self.labels.index_select(0, idx),
            coarse_labels=take(self.coarse_labels),
            fine_labels=take(self.fine_labels),
        )

    def with_coarse_targets(self) -> ImageDataset:
        """Return the dataset with the coarse groups as targets (CIFAR-100 -> CIFAR-20).

        The old targets move to ``fine_labels`` / ``fine_classes``; ``coarse_*`` become None.

        Raises:
            ValueError: the dataset has no coarse labels or coarse class names.
        """
        if self.coarse_labels is None or self.coarse_classes is None:
            raise ValueError("this dataset has no coarse labels to use as targets")
        return replace(
            self,
            labels=self.coarse_labels,
            classes=self.coarse_classes,
            coarse_labels=None,
            coarse_classes=None,
            fine_labels=self.labels,
            fine_classes=self.classes,
        )


@dataclass(frozen=True, eq=False)
class ImageData:
    """A train and a test split of one data set.

    Attributes:
        name: Data set name, e.g. ``"cifar20"``.
        train: Training split.
        test: Test split (same classes, same preprocessing).
        mean: Per-channel mean subtracted from images scaled to [0, 1] (length C), or None
            if the images are not normalised.
        std: Per-channel standard deviation the images were divided by, or None.

    Raises:
        ValueError: ``train`` and ``test`` have different class lists.
    """

    name: str
    train: ImageDataset
    test: ImageDataset
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.train.classes != self.test.classes:
            raise ValueError("train and test splits must have the same classes")

    @property
    def classes(self) -> list[str]:
        """Target class names."""
        return self.train.classes

    @property
    def n_classes(self) -> int:
        """Number of target classes."""
        return self.train.n_classes


def resize_images(images: Tensor, size: int) -> Tensor:
    """Resize ``(B, C, H, W)`` float images to ``(B, C, size, size)``.

    Bilinear, ``align_corners=False``, antialiased (which matters only when shrinking).
    Bilinear weights sum to one, so resizing commutes with per-channel normalisation.
    Returns a new tensor; returns ``images`` itself if it already has the size.

    Raises:
        ValueError: ``size`` is not a positive ``int``.
    """
    check_positive(size=size)
    if images.shape[-2:] == (size, size):
        return images
    if not images.is_floating_point():
        images = images.float()
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=True)


def stratified_split_indices(
    labels: Tensor | np.ndarray, test_fraction: float, seed: int
) -> tuple[Tensor, Tensor]:
    """Split sample indices into train and test, class by class, reproducibly.

    For each class with ``n`` samples, ``round(n * test_fraction)`` go to test (at least one
    when ``n >= 2`` and ``test_fraction > 0``, never all of them), chosen by a NumPy
    ``default_rng(seed)`` permutation. Classes are processed in ascending label order.

    Args:
        labels: ``(N,)`` integer labels.
        test_fraction: Share of each class put in the test split, in (0, 1).
        seed: Seed of the permutation.

    Returns:
        ``(train_idx, test_idx)``, each a sorted int64 tensor; together a partition of
        ``range(N)``.

    Raises:
        ValueError: ``test_fraction`` is not in (0, 1) (NaN included).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    y = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    train_parts: list[np.ndarray] = []
    test_parts: list[np.ndarray] = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        perm = rng.permutation(members)
        n_test = int(round(len(members) * test_fraction))
        if len(members) >= 2:
            n_test = min(max(n_test, 1), len(members) - 1)
        else:
            n_test = 0
        test_parts.append(perm[:n_test])
        train_parts.append(perm[n_test:])
    train_idx = np.sort(np.concatenate(train_parts)) if train_parts else np.empty(0, np.int64)
    test_idx = np.sort(np.concatenate(test_parts)) if test_parts else np.empty(0, np.int64)
    return torch.from_numpy(train_idx.astype(np.int64)), torch.from_numpy(test_idx.astype(np.int64))


def first_per_class_indices(labels: Tensor | np.ndarray, max_per_class: int | None) -> Tensor:
    """Indices of the first ``max_per_class`` samples of every class, in storage order.

    Args:
        labels: ``(N,)`` integer labels.
        max_per_class: Cap per class; None keeps everything.

    Returns:
        Sorted int64 tensor of kept indices (``arange(N)`` when ``max_per_class`` is None).

    Raises:
        ValueError: ``max_per_class`` is neither None nor a positive ``int`` (a float such as
            2.5 included).
    """
    y = np.asarray(labels, dtype=np.int64)
    if max_per_class is None:
        return torch.arange(len(y), dtype=torch.int64)
    check_positive(max_per_class=max_per_class)
    keep = np.concatenate(
        [np.flatnonzero(y == c)[:max_per_class] for c in np.unique(y)] or [np.empty(0, np.int64)]
    )
    return torch.from_numpy(np.sort(keep).astype(np.int64))


def make_loader(
    dataset: torch.utils.data.Dataset[tuple[Tensor, Tensor]],
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int | None = None,
    drop_last: bool = False,
) -> DataLoader[tuple[Tensor, Tensor]]:
    """Return a deterministic single-process DataLoader.

    Args:
        dataset: Any map-style dataset, usually an :class:`ImageDataset`.
        batch_size: Samples per batch; the last batch may be smaller unless ``drop_last``.
        shuffle: Reshuffle each epoch.
        seed: Seed of the loader's own ``torch.Generator`` (0 when None), so the shuffle
            order depends on neither the global RNG nor earlier draws.
        drop_last: Drop a final partial batch.

    Returns:
        A ``DataLoader`` with ``num_workers=0`` yielding ``(x, y)`` batches of shapes
        ``(B, C, H, W)`` and ``(B,)``.

    Raises:
        ValueError: ``batch_size`` < 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=0,
        drop_last=drop_last,
        generator=generator,
    )
