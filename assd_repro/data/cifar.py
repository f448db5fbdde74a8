"""CIFAR-10, CIFAR-100 and CIFAR-20 from torchvision's on-disk format.

torchvision stores CIFAR as pickled batches: ``<root>/cifar-10-batches-py/`` (``data_batch_1``
... ``data_batch_5``, ``test_batch``, ``batches.meta``) and ``<root>/cifar-100-python/``
(``train``, ``test``, ``meta``). Each batch holds ``data``, a ``(N, 3072)`` uint8 array
(1024 red, then green, then blue values of a 32x32 image, row-major), and the labels.
The files are read directly (no MD5 check); torchvision is used only to download them.

CIFAR-20 is CIFAR-100 with its 20 coarse superclasses as targets, as in SSD
(Foster et al.) and ASSD; the fine labels are kept in ``fine_labels``.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from assd_repro.data.containers import (
    DatasetNotFoundError,
    ImageData,
    ImageDataset,
    first_per_class_indices,
    resolve_data_root,
)

__all__ = [
    "CIFAR100_COARSE_CLASSES",
    "CIFAR100_FINE_CLASSES",
    "CIFAR100_FINE_TO_COARSE",
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "CIFAR100_SUPERCLASSES",
    "CIFAR10_CLASSES",
    "CIFAR10_GROUPS",
    "CIFAR20_ALIASES",
    "load_cifar10",
    "load_cifar100",
    "load_cifar20",
]

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)

#: Five groups of two look-alike CIFAR-10 classes, the CIFAR-10 analogue of CIFAR-100's
#: superclasses (book: Method, "Image benchmarks"): a sub-class task forgets one class of a
#: group while the model keeps predicting the group. Not an official grouping.
CIFAR10_GROUPS: dict[str, tuple[str, ...]] = {
    "air_and_sea": ("airplane", "ship"),
    "road_vehicles": ("automobile", "truck"),
    "small_animals": ("bird", "frog"),
    "pets": ("cat", "dog"),
    "hoofed": ("deer", "horse"),
}


def with_cifar10_groups(split: ImageDataset) -> ImageDataset:
    """``split`` (CIFAR-10 targets) with :data:`CIFAR10_GROUPS` as its coarse labels.

    Raises:
        ValueError: the split's classes are not CIFAR-10's, in CIFAR-10 order.
    """
    if tuple(split.classes) != CIFAR10_CLASSES:
        raise ValueError(f"classes {split.classes} are not CIFAR-10's {list(CIFAR10_CLASSES)}")
    group_of = {fine: g for g, (name, fines) in enumerate(CIFAR10_GROUPS.items())
                for fine in fines}
    coarse = torch.tensor([group_of[c] for c in CIFAR10_CLASSES], dtype=torch.int64)
    return dataclasses.replace(split, coarse_labels=coarse[split.labels],
                               coarse_classes=list(CIFAR10_GROUPS))


CIFAR100_SUPERCLASSES: dict[str, tuple[str, ...]] = {
    "aquatic_mammals": ("beaver", "dolphin", "otter", "seal", "whale"),
    "fish": ("aquarium_fish", "flatfish", "ray", "shark", "trout"),
    "flowers": ("orchid", "poppy", "rose", "sunflower", "tulip"),
    "food_containers": ("bottle", "bowl", "can", "cup", "plate"),
    "fruit_and_vegetables": ("apple", "mushroom", "orange", "pear", "sweet_pepper"),
    "household_electrical_devices": ("clock", "keyboard", "lamp", "telephone", "television"),
    "household_furniture": ("bed", "chair", "couch", "table", "wardrobe"),
    "insects": ("bee", "beetle", "butterfly", "caterpillar", "cockroach"),
    "large_carnivores": ("bear", "leopard", "lion", "tiger", "wolf"),
    "large_man-made_outdoor_things": ("bridge", "castle", "house", "road", "skyscraper"),
    "large_natural_outdoor_scenes": ("cloud", "forest", "mountain", "plain", "sea"),
    "large_omnivores_and_herbivores": ("camel", "cattle", "chimpanzee", "elephant", "kangaroo"),
    "medium_mammals": ("fox", "porcupine", "possum", "raccoon", "skunk"),
    "non-insect_invertebrates": ("crab", "lobster", "snail", "spider", "worm"),
    "people": ("baby", "boy", "girl", "man", "woman"),
    "reptiles": ("crocodile", "dinosaur", "lizard", "snake", "turtle"),
    "small_mammals": ("hamster", "mouse", "rabbit", "shrew", "squirrel"),
    "trees": ("maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"),
    "vehicles_1": ("bicycle", "bus", "motorcycle", "pickup_truck", "train"),
    "vehicles_2": ("lawn_mower", "rocket", "streetcar", "tank", "tractor"),
}
"""The official CIFAR-100 superclasses (names and order of ``coarse_label_names`` in the
``meta`` file) with their five fine classes each."""

CIFAR100_COARSE_CLASSES: tuple[str, ...] = tuple(CIFAR100_SUPERCLASSES)
"""The 20 coarse class names; position = coarse label."""

CIFAR100_FINE_CLASSES: tuple[str, ...] = tuple(
    sorted(f for fines in CIFAR100_SUPERCLASSES.values() for f in fines)
)
"""The 100 fine class names (alphabetical, as ``fine_label_names``); position = fine label."""

CIFAR100_FINE_TO_COARSE: dict[str, str] = {
    fine: coarse for coarse, fines in CIFAR100_SUPERCLASSES.items() for fine in fines
}
"""Fine class name -> official superclass name, e.g. ``"rocket" -> "vehicles_2"``."""

CIFAR20_ALIASES: dict[str, str] = {
    "vehicle2": "vehicles_2",
    "vehicle1": "vehicles_1",
    "veg": "fruit_and_vegetables",
    "vegetables": "fruit_and_vegetables",
    "electrical_devices": "household_electrical_devices",
    "natural_scenes": "large_natural_outdoor_scenes",
    "medium-sized_mammals": "medium_mammals",
}
"""Names used by the SSD/ASSD papers and code (``conf.class_dict``) -> official names."""

CIFAR100_MEAN: tuple[float, float, float] = (0.5070751592371323, 0.48654887331495095,
                                             0.4409178433670343)
CIFAR100_STD: tuple[float, float, float] = (0.2673342858792401, 0.2564384629170883,
                                            0.27615047132568404)
"""Per-channel statistics that the SSD code uses to normalise *every* data set (CIFAR-10,
-20, -100 and Pins alike); pass ``normalize=(CIFAR100_MEAN, CIFAR100_STD)`` to match it."""

_CIFAR10_DIR = "cifar-10-batches-py"
_CIFAR100_DIR = "cifar-100-python"
_CIFAR10_FILES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")
_CIFAR100_FILES = ("train", "test", "meta")


def _unpickle(path: Path) -> dict[str, Any]:
    """Load one pickled CIFAR file; bytes keys (Python 2 pickles) become str."""
    with open(path, "rb") as handle:
        content = pickle.load(handle, encoding="latin1")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in content.items()}


def _to_images(data: Any) -> torch.Tensor:
    """``(N, 3072)`` uint8 rows -> ``(N, 3, 32, 32)`` uint8 tensor."""
    array = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32)
    return torch.from_numpy(np.ascontiguousarray(array))


def _find_dir(name: str, root: Path, subdir: str, files: tuple[str, ...], download: bool,
              download_cls: str) -> Path:
    """Locate a torchvision CIFAR folder under ``root`` (or ``root`` itself), downloading
    it into ``root`` first when ``download`` is true and it is missing."""
    candidates = [root / subdir, root / name / subdir, root]
    for folder in candidates:
        if all((folder / f).is_file() for f in files):
            return folder
    how = (f"Pass download=True (needs internet) to fetch it with torchvision into {root}, "
           f"or copy torchvision's '{subdir}' folder there.")
    if download:
        import torchvision.datasets as tvd

        try:
            getattr(tvd, download_cls)(str(root), train=True, download=True)
        except Exception as exc:  # network errors come in many types
            raise DatasetNotFoundError(name, candidates,
                                       f"Download into {root} failed ({exc}).") from exc
        if all((root / subdir / f).is_file() for f in files):
            return root / subdir
    raise DatasetNotFoundError(name, candidates, how)


def load_cifar10(
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    max_per_class: int | None = None,
) -> ImageData:
    """Load CIFAR-10 (50,000 train / 10,000 test, 10 classes) as uint8 ``(N, 3, 32, 32)``.

    Args:
        root: Data root holding ``cifar-10-batches-py/`` (or that folder itself);
            default ``$ASSD_DATA``.
        download: Download with torchvision into ``root`` if missing.
        max_per_class: Keep only the first images of each class, in file order, per split.

    Returns:
        :class:`ImageData` named ``"cifar10"``; coarse labels: :data:`CIFAR10_GROUPS`.

    Raises:
        DatasetNotFoundError: The files are missing (and were not downloaded).
        ValueError: ``max_per_class`` is neither None nor a positive ``int``.
    """
    base = resolve_data_root(root)
    folder = _find_dir("cifar10", base, _CIFAR10_DIR, _CIFAR10_FILES, download, "CIFAR10")
    classes = [str(c) for c in _unpickle(folder / "batches.meta")["label_names"]]
    splits: list[ImageDataset] = []
    for files in ([f"data_batch_{i}" for i in range(1, 6)], ["test_batch"]):
        batches = [_unpickle(folder / f) for f in files]
        images = torch.cat([_to_images(b["data"]) for b in batches])
        labels = torch.cat([torch.as_tensor(b["labels"], dtype=torch.int64) for b in batches])
        keep = first_per_class_indices(labels, max_per_class)
        splits.append(with_cifar10_groups(ImageDataset(images[keep], labels[keep], classes)))
    return ImageData("cifar10", splits[0], splits[1])


def load_cifar100(
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    max_per_class: int | None = None,
) -> ImageData:
    """Load CIFAR-100 (50,000 train / 10,000 test) with its 100 fine classes as targets.

    Images are uint8 ``(N, 3, 32, 32)``; ``coarse_labels`` hold the 20 superclasses.

    Args:
        root: Data root holding ``cifar-100-python/`` (or that folder itself);
            default ``$ASSD_DATA``.
        download: Download with torchvision into ``root`` if missing.
        max_per_class: Keep only the first images of each fine class, in file order, per split.

    Raises:
        DatasetNotFoundError: The files are missing (and were not downloaded).
        ValueError: The file's coarse labels disagree with :data:`CIFAR100_SUPERCLASSES`;
            ``max_per_class`` is neither None nor a positive ``int``.
    """
    base = resolve_data_root(root)
    folder = _find_dir("cifar100", base, _CIFAR100_DIR, _CIFAR100_FILES, download, "CIFAR100")
    meta = _unpickle(folder / "meta")
    fine = [str(c) for c in meta["fine_label_names"]]
    coarse = [str(c) for c in meta["coarse_label_names"]]
    expected = torch.tensor([coarse.index(CIFAR100_FINE_TO_COARSE[f])
                             if CIFAR100_FINE_TO_COARSE.get(f) in coarse else -1 for f in fine])
    splits: list[ImageDataset] = []
    for file in ("train", "test"):
        batch = _unpickle(folder / file)
        labels = torch.as_tensor(batch["fine_labels"], dtype=torch.int64)
        coarse_labels = torch.as_tensor(batch["coarse_labels"], dtype=torch.int64)
        if not torch.equal(expected[labels], coarse_labels):
            raise ValueError(f"{folder / file}: coarse labels do not follow the official "
                             "CIFAR-100 superclasses (CIFAR100_SUPERCLASSES)")
        keep = first_per_class_indices(labels, max_per_class)
        splits.append(ImageDataset(_to_images(batch["data"])[keep], labels[keep], fine,
                                   coarse_labels[keep], coarse))
    return ImageData("cifar100", splits[0], splits[1])


def load_cifar20(
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    max_per_class: int | None = None,
) -> ImageData:
    """Load CIFAR-20: CIFAR-100 images with the 20 superclasses as targets.

    The 100 fine labels stay available as ``fine_labels`` / ``fine_classes`` (the
    sub-class task needs them). ``max_per_class`` caps each *fine* class.
    Arguments as :func:`load_cifar100`.

    Raises:
        DatasetNotFoundError, ValueError: as :func:`load_cifar100`.
    """
    data = load_cifar100(root, download=download, max_per_class=max_per_class)
    return ImageData("cifar20", data.train.with_coarse_targets(), data.test.with_coarse_targets())
