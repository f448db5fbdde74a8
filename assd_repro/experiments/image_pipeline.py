"""Shared steps of the image experiments: data, forget task, cached baseline, evaluation.

Every image experiment (parameter study, alpha plateau, benchmark tables) needs the same chain:
load a data set, build a forget task, train (or load) the baseline model on all of D, compute
(or load) the importances on the retain set Dr, unlearn, and evaluate Dr, Df and MIA as the SSD
protocol does (book: Method, "Evaluation protocol"). :class:`ImageSetup` holds the settings of
that chain; each experiment config embeds one.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from assd_core import (
    adaptive_percentile,
    compute_importances,
    dampen,
    forget_importances,
    mia_score,
    predict_entropy,
    sample_scores,
    select_alpha,
)
from assd_repro.data import (
    ForgetTask,
    ImageData,
    fullclass,
    load_image_dataset,
    random_forget,
    subclass,
)
from assd_repro.experiments.engine.cache import ArtifactCache, settings_hash
from assd_repro.experiments.engine.config import OMIT_DEFAULT, canonical_json
from assd_repro.experiments.engine.device import compute_device
from assd_repro.models import ModelSpec, build_model
from assd_repro.training import (
    CIFAR10_SCHEDULE,
    CIFAR20_SCHEDULE,
    CIFAR100_SCHEDULE,
    TrainRecipe,
    ssd_image_recipe,
    train,
)

__all__ = [
    "BOOK_CIFAR10_SETUP",
    "BOOK_CIFAR10_TARGETS",
    "BOOK_CIFAR10_VIT_SETUP",
    "BOOK_IMAGE_SETUP",
    "PAPER_CIFAR20_SETUP",
    "PAPER_CIFAR100_SETUP",
    "SMOKE_IMAGE_SETUP",
    "DampeningTask",
    "prepare_dampening_task",
    "ImageSetup",
    "TaskKind",
    "baseline_model",
    "baseline_settings",
    "evaluate",
    "forget_loader",
    "image_recipe",
    "load_data",
    "make_task",
    "metric_rows",
    "model_spec",
    "paper_resnet18_setup",
    "retain_importances",
    "retrained_model",
    "shared_evaluations",
    "weights_sha256",
]

TaskKind = Literal["fullclass", "subclass", "random"]
ModelName = Literal["resnet18", "vit"]


@dataclasses.dataclass(frozen=True)
class ImageSetup:
    """Data, model and training settings of an image experiment.

    Attributes:
        dataset: a name of :func:`~assd_repro.data.load_image_dataset` (``"mnist_sample"`` is the
            embedded offline default; the paper uses ``"cifar100"``, ``"cifar20"``,
            ``"cifar10"``, ``"pins"``).
        data_root: data folder (default: ``$ASSD_DATA``).
        max_per_class: images kept per class and split (None: all).
        image_size: model input side in pixels (None: as stored; ViT-B/16 uses 224).
        model: ``"resnet18"`` (CIFAR variant) or ``"vit"``.
        width: ResNet18 width multiplier (paper: 64).
        vit_preset: ``"tiny_cifar"`` (CPU) or ``"b16"`` (paper).
        pretrained_path: local weights for the ViT (None: random initialisation).
        epochs, milestones, lr: SSD image recipe (SGD, momentum 0.9, wd 5e-4, 1 warm-up epoch,
            MultiStep gamma 0.2).
        batch_size: training and importance batch size (the SSD scripts use 64 for both).
        train_seed: seed of the baseline's initialisation and training.
        optimizer: ``"sgd"`` (the SSD recipe: momentum 0.9) or ``"adamw"`` (no momentum; for
            a ViT trained from scratch, which SGD trains slowly).
        weight_decay: the optimiser's weight decay (SSD recipe: 5e-4).
        patch_size: the ViT's patch side in pixels (None: its preset's, 4 for
            ``"tiny_cifar"``, 16 for ``"b16"``).
        autocast: ``"bfloat16"``: train under bfloat16 autocast (weights, importances,
            unlearning and evaluation stay float32); None: float32 throughout.
        channels_last: train in the ``channels_last`` memory format (convolutions only).
            Both are speed options of :func:`~assd_repro.training.train` that change the
            trained weights' last bits (book: Performance, "Training throughput").

    Raises:
        ValueError: ``model`` is not ``"resnet18"`` or ``"vit"``; ``width``, ``epochs`` or
            ``batch_size`` < 1; ``max_per_class`` neither None nor >= 1; ``autocast``
            neither None nor ``"bfloat16"``; ``optimizer`` not ``"sgd"`` or ``"adamw"``;
            ``patch_size`` given for a ResNet or < 1. The other fields are checked where they are
            used: ``dataset`` by :func:`~assd_repro.data.load_image_dataset`, ``lr`` and
            ``milestones`` by :class:`~assd_repro.training.TrainRecipe`, ``vit_preset`` by
            :class:`~assd_repro.models.ModelSpec`.
    """

    dataset: str = "mnist_sample"
    data_root: str | None = None
    max_per_class: int | None = None
    image_size: int | None = None
    model: ModelName = "resnet18"
    width: int = 16
    vit_preset: str = "tiny_cifar"
    pretrained_path: str | None = None
    epochs: int = 4
    milestones: tuple[int, ...] = (2, 3)
    lr: float = 0.1
    batch_size: int = 64
    train_seed: int = 0
    autocast: str | None = None
    channels_last: bool = False
    # added after image runs were stored: out of the hashes while at their defaults
    optimizer: str = dataclasses.field(default="sgd", metadata=OMIT_DEFAULT)
    weight_decay: float = dataclasses.field(default=5e-4, metadata=OMIT_DEFAULT)
    patch_size: int | None = dataclasses.field(default=None, metadata=OMIT_DEFAULT)

    def __post_init__(self) -> None:
        object.__setattr__(self, "milestones", tuple(self.milestones))
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(f"optimizer={self.optimizer!r} is unknown; use 'sgd' or 'adamw'")
        if self.autocast not in (None, "bfloat16"):
            raise ValueError(f"autocast={self.autocast!r} is unknown; use None (float32) or "
                             "'bfloat16'")
        if self.model not in ("resnet18", "vit"):
            raise ValueError(f"model={self.model!r} is unknown; use 'resnet18' or 'vit'")
        for name in ("width", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be a positive integer")
        if self.max_per_class is not None and self.max_per_class < 1:
            raise ValueError(f"max_per_class={self.max_per_class} must be positive or None")
        if self.patch_size is not None and (self.model != "vit" or self.patch_size < 1):
            raise ValueError(f"patch_size={self.patch_size} needs model='vit' and a positive "
                             "integer (None: the ViT preset's patch size)")

    def data_settings(self) -> dict[str, Any]:
        """The settings that determine the loaded data."""
        keys = ("dataset", "data_root", "max_per_class", "image_size")
        return {k: getattr(self, k) for k in keys}


def paper_resnet18_setup(dataset: str) -> ImageSetup:
    """The paper's ResNet18 on ``dataset``: width 64, batch 64, the SSD schedule of that data set
    (book: Method, "Image benchmarks"; Pins uses CIFAR-100's, as the SSD configuration does).

    Raises:
        ValueError: ``dataset`` is not ``"cifar100"``, ``"cifar20"``, ``"cifar10"`` or
            ``"pins"``.
    """
    schedules = {"cifar100": CIFAR100_SCHEDULE, "cifar20": CIFAR20_SCHEDULE,
                 "cifar10": CIFAR10_SCHEDULE, "pins": CIFAR100_SCHEDULE}
    if dataset not in schedules:
        raise ValueError(f"no paper schedule for dataset {dataset!r}; known: {sorted(schedules)}")
    schedule = schedules[dataset]
    return ImageSetup(dataset=dataset, width=64, epochs=schedule.epochs,
                      milestones=schedule.milestones)


#: Seconds-long: 30 MNIST images per digit (24 train, 6 test), ResNet18 width 8, 6 epochs of
#: batch 16 (about 70% test accuracy: a model that has learnt something, so that dampening
#: changes the metrics; width 4 or a single epoch leaves a constant predictor).
SMOKE_IMAGE_SETUP = ImageSetup(dataset="mnist_sample", max_per_class=30, width=8, epochs=6,
                               milestones=(), batch_size=16)
#: All 5,000 MNIST-sample images (400 train, 100 test per digit), ResNet18 width 8, 4 epochs
#: with decays after epochs 2 and 3 (about 98% test accuracy); about 25 s of training on one
#: core. The image configs' default ``setup`` (the ``book`` profile is CIFAR-10:
#: :data:`BOOK_CIFAR10_SETUP`).
BOOK_IMAGE_SETUP = ImageSetup(dataset="mnist_sample", width=8, epochs=4, milestones=(2, 3))
#: The ``book`` profile's images and model (book: Method, "CIFAR-10 at CPU scale"): 500 images
#: per class and split of the CIFAR-10 JPEGs (5,000 train, 5,000 test); ResNet18 at width 16
#: (0.70 M parameters), the SSD recipe (SGD, momentum 0.9, weight decay 5e-4, batch 64, one
#: warm-up epoch) for 15 epochs with decays after epochs 8 and 12, trained in the
#: channels_last memory format (float32; bfloat16 autocast is faster but memorised less in a
#: paired run: book, Performance); it memorises its training images (train accuracy >= 95 %).
BOOK_CIFAR10_SETUP = ImageSetup(dataset="cifar10_jpeg", max_per_class=500, model="resnet18",
                                width=16, epochs=15, milestones=(8, 12), lr=0.1,
                                channels_last=True)
#: The ``book`` profile's ViT (book: Method, "CIFAR-10 at CPU scale"): the same images; the
#: small CIFAR ViT (width 96, depth 6, 3 heads) with 8-pixel patches (16 tokens: about four
#: times cheaper per image than 4-pixel patches, and it learns about as fast per epoch);
#: AdamW (learning rate 1e-3, weight decay 0.05, one warm-up epoch) for 60 epochs with
#: decays by 0.2 after epochs 45 and 55, until it memorises its training images.
BOOK_CIFAR10_VIT_SETUP = ImageSetup(dataset="cifar10_jpeg", max_per_class=500, model="vit",
                                    patch_size=8, epochs=60, milestones=(45, 55), lr=1e-3,
                                    optimizer="adamw", weight_decay=0.05)
#: The ``book`` profile's forgotten classes: full-class, and each within its look-alike group
#: (:data:`assd_repro.data.CIFAR10_GROUPS`) for sub-class forgetting.
BOOK_CIFAR10_TARGETS: tuple[str, ...] = ("airplane", "cat", "truck")
#: The paper's CIFAR-100 ResNet18: width 64, batch 64, 200 epochs, decay at 60/120/160.
PAPER_CIFAR100_SETUP = paper_resnet18_setup("cifar100")
#: The paper's CIFAR-20 ResNet18: width 64, batch 64, 40 epochs, decay at 15/30/35.
PAPER_CIFAR20_SETUP = paper_resnet18_setup("cifar20")


@functools.lru_cache(maxsize=4)
def _load_data_cached(dataset: str, data_root: str | None, max_per_class: int | None,
                      image_size: int | None) -> ImageData:
    return load_image_dataset(dataset, data_root, image_size=image_size, max_per_class=max_per_class)


def load_data(setup: ImageSetup) -> ImageData:
    """The data set of ``setup`` (kept in memory per process: several tasks share it).

    Raises:
        ValueError, DatasetNotFoundError: as :func:`~assd_repro.data.load_image_dataset`.
    """
    return _load_data_cached(**setup.data_settings())


def make_task(data: ImageData, kind: TaskKind, target: str | int | float, seed: int = 0) -> ForgetTask:
    """Forget task: ``fullclass`` / ``subclass`` take a class name, ``random`` a count or share.

    Raises:
        ValueError: ``kind`` is not ``"fullclass"``, ``"subclass"`` or ``"random"``; then as
            :func:`~assd_repro.data.fullclass`, :func:`~assd_repro.data.subclass` or
            :func:`~assd_repro.data.random_forget` (unknown class, bad count, empty split).
    """
    if kind == "fullclass":
        return fullclass(data, target)
    if kind == "subclass":
        return subclass(data, target)
    if kind == "random":
        return random_forget(data, target, seed=seed)
    raise ValueError(f"task kind {kind!r} is unknown; use fullclass, subclass or random")


def model_spec(setup: ImageSetup, n_classes: int, in_channels: int) -> ModelSpec:
    """The :class:`~assd_repro.models.ModelSpec` of ``setup``'s model.

    Raises:
        ValueError: as :class:`~assd_repro.models.ModelSpec` (``n_classes`` or ``in_channels``
            not a positive ``int``, an unknown ``vit_preset``).
    """
    if setup.model == "resnet18":
        return ModelSpec.resnet18(n_classes, width=setup.width, in_channels=in_channels)
    side = setup.image_size
    options: dict[str, Any] = {"in_channels": in_channels}
    if side is not None:
        options["image_size"] = side
    if setup.pretrained_path is not None:
        options["pretrained_path"] = setup.pretrained_path
    if setup.patch_size is not None:
        options["patch_size"] = setup.patch_size
    return ModelSpec.vit(n_classes, preset=setup.vit_preset, **options)


def _train_settings(setup: ImageSetup, task: ForgetTask, on: str) -> dict[str, Any]:
    images = task.full_train[0][0]
    spec = model_spec(setup, task.n_classes, images.shape[0])
    data = setup.data_settings()
    if task.kind == "random" or on == "full":
        # the model trained on all of D is the same for every task with the same targets
        data["targets"] = "coarse" if task.kind == "subclass" else "fine"
    settings = {
        "model": spec.to_dict(),
        "data": data,
        "trained_on": on if on == "full" else f"{task.name}:retain",
        "recipe": json.loads(canonical_json(image_recipe(setup))),
        "seed": setup.train_seed,
    }
    speed = {k: getattr(setup, k) for k in ("autocast", "channels_last") if getattr(setup, k)}
    return {**settings, "speed": speed} if speed else settings


def image_recipe(setup: ImageSetup) -> TrainRecipe:
    """The training recipe of ``setup``: the SSD image recipe (book: Method, "Image
    benchmarks") with the setup's epochs, milestones, learning rate and batch size; with
    ``optimizer="adamw"``, AdamW without momentum; the setup's weight decay.

    Raises:
        ValueError: as :class:`~assd_repro.training.TrainRecipe`.
    """
    recipe = ssd_image_recipe(setup.epochs, setup.milestones, setup.lr,
                              batch_size=setup.batch_size)
    if setup.optimizer == "adamw":
        recipe = dataclasses.replace(recipe, optimizer="adamw", momentum=0.0)
    return dataclasses.replace(recipe, weight_decay=setup.weight_decay)


def _fit(setup: ImageSetup, task: ForgetTask, data: Dataset, seed: int, progress: bool) -> nn.Module:
    images = task.full_train[0][0]
    spec = model_spec(setup, task.n_classes, images.shape[0])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(spec)
    model.to(compute_device())
    train(model, data, image_recipe(setup), seed=seed, progress=progress,
          autocast=getattr(torch, setup.autocast) if setup.autocast else None,
          channels_last=setup.channels_last)
    return model.eval()


def baseline_settings(setup: ImageSetup, task: ForgetTask) -> dict[str, Any]:
    """The settings that determine the baseline (model trained on all of D) of ``setup`` for
    ``task``: the :class:`ArtifactCache` key of :func:`baseline_model` (``settings_hash``)."""
    return _train_settings(setup, task, "full")


def baseline_model(setup: ImageSetup, task: ForgetTask, cache: ArtifactCache,
                   *, progress: bool = False) -> nn.Module:
    """The model trained on all of D (cached; shared by every task with the same targets).

    Raises:
        ValueError: as :func:`model_spec` and :func:`~assd_repro.training.train` (labels that
            do not fit the model, a bad recipe from ``setup``).
        FloatingPointError: the training loss became NaN or infinite.
    """
    settings = _train_settings(setup, task, "full")
    return cache.model(settings, lambda: _fit(setup, task, task.full_train, setup.train_seed, progress))


def retrained_model(setup: ImageSetup, task: ForgetTask, cache: ArtifactCache, *, seed: int = 0,
                    progress: bool = False) -> nn.Module:
    """A model trained from scratch on Dr only (every parameter re-initialised; cached).

    Raises:
        ValueError, FloatingPointError: as :func:`baseline_model`.
    """
    settings = {**_train_settings(setup, task, "retain"), "seed": seed}
    return cache.model(settings, lambda: _fit(setup, task, task.retain_train, seed, progress))


def retain_importances(setup: ImageSetup, task: ForgetTask, model: nn.Module,
                       cache: ArtifactCache) -> dict[str, Tensor]:
    """``[]_Dr`` of ``model`` at the setup's batch size (the authors' ASSD uses Dr; cached)."""
    settings = {
        "model": settings_hash(_train_settings(setup, task, "full")),
        "data": f"{task.name}:retain",
        "batch_size": setup.batch_size,
    }
    loader = DataLoader(task.retain_train, batch_size=setup.batch_size)
    return cache.importances(settings, model, lambda: compute_importances(model, loader))


def forget_loader(setup: ImageSetup, task: ForgetTask) -> DataLoader:
    """Df in loader order, at the importance batch size."""
    return DataLoader(task.forget_train, batch_size=setup.batch_size)


def weights_sha256(model: nn.Module) -> str:
    """SHA-256 over the names, shapes, dtypes and bytes of ``model``'s state dict, in order."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        t = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}:{tuple(tensor.shape)}:{t.dtype}".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


#: While :func:`shared_evaluations` is active: its dict of metrics per evaluated
#: (weights, task, batch size); None otherwise.
_EVALUATED: dict[tuple[str, ...], dict[str, float]] | None = None


@contextlib.contextmanager
def shared_evaluations(memo: dict[tuple[str, ...], dict[str, float]]) -> Iterator[None]:
    """Within the block, :func:`evaluate` keeps its metrics in ``memo`` and returns a copy
    when the same weights (:func:`weights_sha256`) are evaluated on the same task again,
    instead of forwarding every sample anew. The stored image runs' checks use it: several
    runs evaluate the same baseline, and the same ASSD model, on the same task."""
    global _EVALUATED
    before, _EVALUATED = _EVALUATED, memo
    try:
        yield
    finally:
        _EVALUATED = before


def _task_key(task: ForgetTask) -> str:
    """A digest of what :func:`evaluate` reads of ``task``: its name, sizes and which samples
    are forgotten."""
    digest = hashlib.sha256(f"{task.name}:{len(task.retain_train)}:{len(task.forget_train)}:"
                            f"{len(task.test)}".encode())
    digest.update(task.forget_indices.numpy().tobytes())
    if task.test_forget_mask is not None:
        digest.update(task.test_forget_mask.numpy().tobytes())
    return digest.hexdigest()


def evaluate(model: nn.Module, task: ForgetTask, *, batch_size: int = 256) -> dict[str, float]:
    """SSD protocol metrics in percent: ``Dr`` and ``Df`` accuracy and the entropy ``MIA``.

    Full-class and sub-class: Dr and Df on the test images of retained / forgotten classes;
    random: Dr on the whole test set, Df on the forgotten training samples. MIA: attacker
    trained on retain-train (members) vs test (non-members), applied to the forget-train set.

    Each sample the protocol needs is forwarded once: the test set (both accuracies of a
    class task, and the MIA's non-members), the forget set and the retain set, with
    :func:`assd_core.sample_scores`; the numbers equal :func:`assd_core.accuracy` on
    ``retain_test`` / ``forget_test`` and :func:`assd_core.entropy_mia`.

    Raises:
        ValueError: as :func:`assd_core.accuracy` and :func:`assd_core.entropy_mia`: a set of
            the task is empty, or its labels do not fit the model's outputs; ``batch_size`` < 1
            (torch's ``DataLoader``).
    """
    if _EVALUATED is not None:
        key = (weights_sha256(model), _task_key(task), str(batch_size))
        if key not in _EVALUATED:
            _EVALUATED[key] = _evaluate(model, task, batch_size)
        return dict(_EVALUATED[key])
    return _evaluate(model, task, batch_size)


def _evaluate(model: nn.Module, task: ForgetTask, batch_size: int) -> dict[str, float]:
    def load(ds: Dataset) -> DataLoader:
        return DataLoader(ds, batch_size=batch_size)

    test = sample_scores(model, load(task.test))
    forget = sample_scores(model, load(task.forget_train))
    retain_entropy = predict_entropy(model, load(task.retain_train))
    if task.test_forget_mask is None:  # random forgetting: Dr on all test images, Df on Df
        retained, forgotten = test.correct, forget.correct
    else:
        mask = task.test_forget_mask.numpy()
        retained, forgotten = test.correct[~mask], test.correct[mask]
    for name, correct in (("Dr", retained), ("Df", forgotten)):
        if correct.size == 0:
            raise ValueError(f"the {name} accuracy of task {task.name!r} has no sample")
    return {
        "Dr": 100.0 * int(retained.sum()) / retained.size,
        "Df": 100.0 * int(forgotten.sum()) / forgotten.size,
        "MIA": mia_score(retain_entropy, forget.entropy, test.entropy),
    }


def metric_rows(metrics: Mapping[str, float], **labels: Any) -> list[dict[str, Any]]:
    """Tidy rows ``{**labels, "metric": name, "value": value}``, one per metric."""
    return [{**labels, "metric": name, "value": float(value)} for name, value in metrics.items()]


@dataclasses.dataclass(frozen=True, eq=False)
class DampeningTask:
    """A trained baseline with everything SSD needs that does not depend on alpha or lambda.

    Attributes:
        setup: the image settings (with the training seed actually used).
        task: the forget task.
        model: the baseline trained on all of D; never modified (unlearning works on copies).
        full_importances: ``[]_Dr``, name -> tensor of the parameter's shape.
        forget_importances: ``[]_Df``, same names and shapes.
        baseline: the baseline's ``Dr``, ``Df``, ``MIA`` in percent.
    """

    setup: ImageSetup
    task: ForgetTask
    model: nn.Module
    full_importances: Mapping[str, Tensor]
    forget_importances: Mapping[str, Tensor]
    baseline: dict[str, float]

    @property
    def assd_percentile(self) -> float:
        """ASSD's ``p = 100 - ln(1 + 100 |Df| / |D|)`` with ``|D| = |Dr| + |Df|``."""
        return adaptive_percentile(len(self.task.forget_train), len(self.task.full_train))

    def assd_alpha(self) -> float:
        """ASSD's alpha: the ``assd_percentile``-th percentile of ``[]_Df / []_Dr``."""
        return select_alpha(self.full_importances, self.forget_importances, self.assd_percentile)

    def unlearn(self, alpha: float, lam: float = 1.0) -> dict[str, float]:
        """SSD with ``alpha`` and ``lam`` on a deep copy of the baseline; returns its metrics.

        Returns:
            ``Dr``, ``Df``, ``MIA`` (percent) and ``fraction_selected`` (share of parameter
            elements dampened, in [0, 1]).

        Raises:
            ValueError: ``alpha`` or ``lam`` is not a finite number >= 0 (:func:`assd_core.dampen`);
                the baseline ``model`` is never changed.
        """
        model = copy.deepcopy(self.model)
        report = dampen(model, self.full_importances, self.forget_importances, alpha=alpha,
                        lam=lam)
        return {**evaluate(model, self.task), "fraction_selected": report.fraction_selected}


def prepare_dampening_task(setup: ImageSetup, kind: TaskKind, target: str | int | float, *,
                           cache: ArtifactCache, task_seed: int = 0,
                           progress: bool = False) -> DampeningTask:
    """Load the data, build the task, get the baseline and ``[]_Dr`` (cached), compute ``[]_Df``.

    Args:
        setup: data, model and training settings.
        kind: ``"fullclass"``, ``"subclass"`` or ``"random"``.
        target: class name (full-/sub-class) or count/share (random).
        cache: where trained models and retain importances are kept (``ArtifactCache(None)``:
            nowhere).
        task_seed: seed of a random forget set (unused for class tasks).
        progress: show the baseline's training progress.

    Raises:
        ValueError: as :func:`make_task` (``kind``, ``target``) and :func:`load_data`; then
            the training's checks.
    """
    task = make_task(load_data(setup), kind, target, seed=task_seed)
    model = baseline_model(setup, task, cache, progress=progress)
    full = retain_importances(setup, task, model, cache)
    forget = forget_importances(model, forget_loader(setup, task), full)
    return DampeningTask(setup, task, model, full, forget, evaluate(model, task))
