"""Image-folder data sets: CIFAR-10 as JPEGs (folder or ``.tar.gz``) and PinsFaceRecognition.

Layouts read here:

* split tree: ``[top/]{train,test}/<class>/<image>`` as a folder or as a ``.tar.gz`` that is
  streamed member by member (never extracted to disk), e.g. ``cifar10-jpeg.tar.gz``
  (``cifar10-jpeg/{train,test}/<class>/NNNN.jpg``);
* class tree: ``<root>/<class>/<image>`` without a split, e.g. PinsFaceRecognition
  (``105_classes_pins_dataset/pins_Adriana Lima/*.jpg``), split here by seed.

Images are decoded to RGB uint8 with :func:`torchvision.io.decode_image`. Class indices follow
the sorted folder names (as ``torchvision.datasets.ImageFolder``); within a class, files are
taken in name order.
"""

from __future__ import annotations

import io
import os
import tarfile
import warnings
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

try:  # libjpeg-turbo decoder, about 3x faster than Pillow on CIFAR-sized JPEGs
    from torchvision.io import ImageReadMode, decode_image
except ImportError:  # deprecated in torchvision 0.29 in favour of TorchCodec
    decode_image = None

from assd_repro.data.cifar import with_cifar10_groups
from assd_repro.data.containers import (
    DatasetNotFoundError,
    ImageData,
    ImageDataset,
    resolve_data_root,
    stratified_split_indices,
)
from assd_repro.models.common import check_positive

__all__ = ["IMAGE_EXTENSIONS", "find_cifar10_jpeg", "load_cifar10_jpeg", "load_image_folder",
           "load_pins"]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})
_SPLITS = ("train", "test")
_PINS_PREFIX = "pins_"

# split -> class -> [(file name, (3, H, W) uint8)]
_Collected = dict[str, dict[str, list[tuple[str, Tensor]]]]


def _is_image(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


@contextmanager
def _quiet_decoder() -> Iterator[None]:
    """Silence torchvision's per-call deprecation warning of its image decoders."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torchvision\.io")
        yield


def _decode(data: bytes, load_size: int | None) -> Tensor:
    """Encoded image bytes -> ``(3, H, W)`` uint8 RGB, squashed to ``load_size`` squared if
    given (bilinear, antialiased, aspect ratio not kept, like ``Resize((s, s))``).
    Uses torchvision's decoder when present, else Pillow."""
    image: Tensor
    if decode_image is not None:
        image = decode_image(torch.frombuffer(bytearray(data), dtype=torch.uint8),
                             mode=ImageReadMode.RGB)
    else:
        with Image.open(io.BytesIO(data)) as pil_image:
            image = torch.from_numpy(np.array(pil_image.convert("RGB"))).permute(2, 0, 1)
    if load_size is not None and image.shape[-2:] != (load_size, load_size):
        resized = F.interpolate(image[None].float(), size=(load_size, load_size),
                                mode="bilinear", align_corners=False, antialias=True)[0]
        image = resized.round().clamp(0, 255).to(torch.uint8)
    return image


def _to_dataset(per_class: dict[str, list[tuple[str, Tensor]]], classes: list[str],
                where: str) -> ImageDataset:
    """Stack collected images (sorted by class, then file name) into an ImageDataset."""
    images: list[Tensor] = []
    labels: list[int] = []
    for label, cls in enumerate(classes):
        for _, image in sorted(per_class.get(cls, []), key=lambda item: item[0]):
            images.append(image)
            labels.append(label)
    if not images:
        raise ValueError(f"no images found in {where}")
    shapes = {tuple(im.shape) for im in images}
    if len(shapes) > 1:
        raise ValueError(f"images in {where} differ in size ({sorted(shapes)[:3]}...): "
                         "pass load_size to resize them while loading")
    return ImageDataset(torch.stack(images), torch.tensor(labels, dtype=torch.int64), classes)


def _read_class_dir(folder: Path, max_per_class: int | None,
                    load_size: int | None) -> dict[str, list[tuple[str, Tensor]]]:
    """Read ``folder/<class>/<image>`` (first ``max_per_class`` files per class by name)."""
    out: dict[str, list[tuple[str, Tensor]]] = {}
    for class_dir in sorted(d for d in folder.iterdir() if d.is_dir()):
        files = sorted(f for f in class_dir.iterdir() if f.is_file() and _is_image(f.name))
        if max_per_class is not None:
            files = files[:max_per_class]
        if files:
            out[class_dir.name] = [(f.name, _decode(f.read_bytes(), load_size)) for f in files]
    return out


def _read_split_tar(path: Path, max_per_class: int | None, load_size: int | None) -> _Collected:
    """Stream a ``.tar[.gz]`` of ``[top/]{train,test}/<class>/<image>``; keeps the first
    ``max_per_class`` images of each class and split in archive order."""
    collected: _Collected = {s: defaultdict(list) for s in _SPLITS}
    with tarfile.open(path, mode="r|*") as archive:
        for member in archive:
            parts = [p for p in member.name.split("/") if p not in ("", ".")]
            if not member.isfile() or len(parts) not in (3, 4) or parts[-3] not in _SPLITS:
                continue
            split, cls, name = parts[-3:]
            bucket = collected[split][cls]
            if not _is_image(name) or (max_per_class is not None and len(bucket) >= max_per_class):
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                bucket.append((name, _decode(handle.read(), load_size)))
    return collected


def _check_counts(max_per_class: int | None, load_size: int | None) -> None:
    """:func:`check_positive` of those of ``max_per_class`` and ``load_size`` that are given:
    ``files[:0]`` would read nothing and ``files[:-1]`` silently drop a file per class."""
    given = {"max_per_class": max_per_class, "load_size": load_size}
    check_positive(**{name: value for name, value in given.items() if value is not None})


def _split_tree_root(path: Path) -> Path | None:
    """``path`` or its only sub-folder, whichever holds ``train/`` and ``test/``."""
    if all((path / s).is_dir() for s in _SPLITS):
        return path
    subdirs = [d for d in path.iterdir() if d.is_dir()] if path.is_dir() else []
    if len(subdirs) == 1 and all((subdirs[0] / s).is_dir() for s in _SPLITS):
        return subdirs[0]
    return None


def load_image_folder(
    path: str | os.PathLike[str],
    *,
    name: str = "image_folder",
    max_per_class: int | None = None,
    load_size: int | None = None,
) -> ImageData:
    """Load a ``[top/]{train,test}/<class>/<image>`` tree from a folder or a ``.tar(.gz)``.

    Args:
        path: The folder (or its parent, if it is the only sub-folder) or the archive.
        name: Name stored in the returned :class:`ImageData`.
        max_per_class: Keep at most this many images per class and split (the first by file
            name for a folder, the first in archive order for an archive).
        load_size: Resize every image to ``(load_size, load_size)`` while loading; required
            when the images differ in size.

    Returns:
        :class:`ImageData` with uint8 images ``(N, 3, H, W)``; classes are the sorted union
        of the class folders of both splits.

    Raises:
        ValueError: ``max_per_class`` or ``load_size`` is neither None nor a positive ``int``
            (checked before anything is read); a split holds no image; images of different
            sizes without ``load_size``.
        FileNotFoundError: ``path`` does not exist or has no train/test layout.
    """
    _check_counts(max_per_class, load_size)
    source = Path(path).expanduser()
    if source.is_file():
        with _quiet_decoder():
            collected = _read_split_tar(source, max_per_class, load_size)
    else:
        tree = _split_tree_root(source) if source.is_dir() else None
        if tree is None:
            raise FileNotFoundError(f"{source} is neither an archive nor a folder with "
                                    "train/ and test/ sub-folders")
        with _quiet_decoder():
            collected = {s: _read_class_dir(tree / s, max_per_class, load_size)
                         for s in _SPLITS}
    classes = sorted(set(collected["train"]) | set(collected["test"]))
    train = _to_dataset(collected["train"], classes, f"{source} (train)")
    test = _to_dataset(collected["test"], classes, f"{source} (test)")
    return ImageData(name, train, test)


def load_cifar10_jpeg(
    root: str | os.PathLike[str] | None = None,
    *,
    max_per_class: int | None = None,
) -> ImageData:
    """Load CIFAR-10 from its JPEG image-folder form (quality-75 JPEGs of the 60,000 images).

    Looks for ``cifar10-jpeg/`` or ``cifar10-jpeg.tar.gz`` in ``root`` and in
    ``root/cifar10/``; ``root`` may also be the folder or archive itself. The full archive
    loads in about 7 s on 2 CPU cores; with ``max_per_class`` a streamed pass takes about 1.5 s.

    Args:
        root: Data root (default ``$ASSD_DATA``), or the folder / archive itself.
        max_per_class: Keep at most this many images per class and split.

    Returns:
        :class:`ImageData` named ``"cifar10_jpeg"``, uint8 ``(N, 3, 32, 32)``, classes in
        CIFAR-10 order (airplane ... truck); coarse labels
        :data:`~assd_repro.data.cifar.CIFAR10_GROUPS`.

    Raises:
        ValueError: ``max_per_class`` is neither None nor a positive ``int`` (checked before
            the paths are searched); then as :func:`load_image_folder`.
        DatasetNotFoundError: None of the candidate paths exists.
    """
    _check_counts(max_per_class, None)
    source = find_cifar10_jpeg(root)
    data = load_image_folder(source, name="cifar10_jpeg", max_per_class=max_per_class)
    return ImageData(data.name, with_cifar10_groups(data.train), with_cifar10_groups(data.test))


def find_cifar10_jpeg(root: str | os.PathLike[str] | None = None) -> Path:
    """Where :func:`load_cifar10_jpeg` reads from: the first of ``root`` itself,
    ``cifar10-jpeg/`` or ``cifar10-jpeg.tar.gz`` in ``root`` or ``root/cifar10/`` that exists
    (a folder only with a train/test layout). ``root`` defaults to ``$ASSD_DATA``.

    Raises:
        DatasetNotFoundError: None of the candidate paths exists.
    """
    base = resolve_data_root(root)
    candidates = [base]
    for folder in (base, base / "cifar10"):
        candidates += [folder / "cifar10-jpeg", folder / "cifar10-jpeg.tar.gz"]
    for candidate in candidates:
        if candidate.is_file() or (candidate.is_dir() and _split_tree_root(candidate)):
            return candidate
    raise DatasetNotFoundError(
        "cifar10_jpeg", candidates,
        "Put cifar10-jpeg.tar.gz (layout cifar10-jpeg/{train,test}/<class>/*.jpg) in the "
        "data root, or use name='cifar10' with download=True for torchvision's pickles.")


def _pins_root(base: Path) -> tuple[Path | None, list[Path]]:
    candidates = [base / "105_classes_pins_dataset", base / "pins",
                  base / "PinsFaceRecognition", base]
    for folder in candidates:
        if folder.is_dir() and any(d.is_dir() and d.name.startswith(_PINS_PREFIX)
                                   for d in folder.iterdir()):
            return folder, candidates
    return None, candidates


def load_pins(
    root: str | os.PathLike[str] | None = None,
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    max_per_class: int | None = None,
    load_size: int = 32,
) -> ImageData:
    """Load PinsFaceRecognition (Kaggle "hereisburak/pins-face-recognition": 17,534 face
    crops of 105 people) and split it, stratified by person, into train and test.

    No split ships with the data (the SSD code evaluates on its training images); here
    ``round(n * test_fraction)`` images of each person go to test, chosen by
    :func:`~assd_repro.data.containers.stratified_split_indices` with ``seed``.
    Images of varying size are squashed to ``(load_size, load_size)`` while loading (SSD
    resizes them to 36x36, then to the model's size).

    Args:
        root: Data root holding ``105_classes_pins_dataset/`` (or ``pins/``), or that folder;
            default ``$ASSD_DATA``.
        test_fraction: Share of each person's images put in the test split, in (0, 1).
        seed: Seed of the split.
        max_per_class: Read only the first images of each person (by file name) before
            splitting.
        load_size: Side length in pixels of the stored images.

    Returns:
        :class:`ImageData` named ``"pins"``, uint8 ``(N, 3, load_size, load_size)``;
        class names are the folder names without the ``pins_`` prefix.

    Raises:
        ValueError: ``max_per_class`` is neither None nor a positive ``int``, or ``load_size``
            is not a positive ``int`` (checked before anything is read); ``test_fraction`` is
            not in (0, 1) (:func:`~assd_repro.data.containers.stratified_split_indices`); the
            ``pins_*`` folders hold no image.
        DatasetNotFoundError: No folder with ``pins_*`` sub-folders was found.
    """
    _check_counts(max_per_class, load_size)
    folder, candidates = _pins_root(resolve_data_root(root))
    if folder is None:
        raise DatasetNotFoundError(
            "pins", candidates,
            "Download https://www.kaggle.com/datasets/hereisburak/pins-face-recognition and "
            "unzip it into the data root (giving 105_classes_pins_dataset/pins_<Name>/*.jpg).")
    with _quiet_decoder():
        per_class = _read_class_dir(folder, max_per_class, load_size)
    per_class = {k: v for k, v in per_class.items() if k.startswith(_PINS_PREFIX)}
    folder_names = sorted(per_class)
    full = _to_dataset(per_class, folder_names, str(folder))
    full = ImageDataset(full.images, full.labels,
                        [n.removeprefix(_PINS_PREFIX) for n in folder_names])
    train_idx, test_idx = stratified_split_indices(full.labels, test_fraction, seed)
    return ImageData("pins", full.subset(train_idx), full.subset(test_idx))
