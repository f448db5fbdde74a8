"""Data for the ASSD experiments: image data sets, forget tasks (and supply-chain tables).

Image data: :func:`load_image_dataset` (CIFAR-10/100/20, CIFAR-10 JPEGs, PinsFaceRecognition,
the embedded MNIST sample), held in memory as :class:`ImageDataset` / :class:`ImageData`.
Forget tasks of the SSD protocol: :func:`fullclass`, :func:`subclass`, :func:`random_forget`.
"""

from assd_repro.data.cifar import (
    CIFAR10_CLASSES,
    CIFAR10_GROUPS,
    CIFAR20_ALIASES,
    CIFAR100_COARSE_CLASSES,
    CIFAR100_FINE_CLASSES,
    CIFAR100_FINE_TO_COARSE,
    CIFAR100_MEAN,
    CIFAR100_STD,
    CIFAR100_SUPERCLASSES,
    load_cifar10,
    load_cifar20,
    load_cifar100,
)
from assd_repro.data.containers import (
    DATA_ENV_VAR,
    DatasetNotFoundError,
    ImageData,
    ImageDataset,
    make_loader,
    resize_images,
    resolve_data_root,
    stratified_split_indices,
)
from assd_repro.data.embedded import MNIST_SAMPLE_COARSE_GROUPS, load_mnist_sample
from assd_repro.data.folders import load_cifar10_jpeg, load_image_folder, load_pins
from assd_repro.data.images import (
    IMAGE_DATASET_NAMES,
    ImageDatasetName,
    Normalization,
    channel_stats,
    load_image_dataset,
    prepare_image_data,
)
from assd_repro.data.tasks import (
    ForgetKind,
    ForgetTask,
    fullclass,
    random_forget,
    resolve_class,
    subclass,
)

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_GROUPS",
    "CIFAR100_COARSE_CLASSES",
    "CIFAR100_FINE_CLASSES",
    "CIFAR100_FINE_TO_COARSE",
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "CIFAR100_SUPERCLASSES",
    "CIFAR20_ALIASES",
    "DATA_ENV_VAR",
    "DatasetNotFoundError",
    "ForgetKind",
    "ForgetTask",
    "IMAGE_DATASET_NAMES",
    "ImageData",
    "ImageDataset",
    "ImageDatasetName",
    "MNIST_SAMPLE_COARSE_GROUPS",
    "Normalization",
    "channel_stats",
    "fullclass",
    "load_cifar10",
    "load_cifar100",
    "load_cifar10_jpeg",
    "load_cifar20",
    "load_image_dataset",
    "load_image_folder",
    "load_mnist_sample",
    "load_pins",
    "make_loader",
    "prepare_image_data",
    "random_forget",
    "resize_images",
    "resolve_class",
    "resolve_data_root",
    "stratified_split_indices",
    "subclass",
]

# --- supply-chain (DataCo) data ----------------------------------------------------------
from assd_repro.data.dataco import (  # noqa: E402
    DATACO_CLASS_NAMES,
    DATACO_COLUMNS,
    DATACO_LEAK_COLUMNS,
    DataCoSplit,
    dataco_sample_path,
    leak_free_protocol,
    load_dataco,
    paper_protocol,
)
from assd_repro.data.dataco_synth import make_dataco_like  # noqa: E402

__all__ += [
    "DATACO_CLASS_NAMES",
    "DATACO_COLUMNS",
    "DATACO_LEAK_COLUMNS",
    "DataCoSplit",
    "dataco_sample_path",
    "leak_free_protocol",
    "load_dataco",
    "make_dataco_like",
    "paper_protocol",
]
