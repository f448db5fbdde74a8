"""One supervised training loop, its recipes (SSD image protocol, supply-chain protocol) and
safetensors checkpoints.

Batches are ``(x, y, *rest)`` as everywhere in ``assd_core`` and here: inputs first, integer class
targets second, anything after that ignored.
Losses are mean cross-entropies; accuracies are percentages (0-100), sample-weighted.

Learning-rate schedule (:func:`learning_rate`), per optimiser step ``s`` of epoch ``e``
(both 0-based, ``S`` steps per epoch, ``W`` warm-up epochs)::

    lr(e, s) = lr0 * decay(e) * min(1, (e * S + s + 1) / (W * S))
    decay(e) = gamma ** #{m in milestones : m <= e}   ("multistep", torch's MultiStepLR)
             = gamma ** e                              ("step", StepLR with step_size 1)
             = 1                                       ("constant")

``decay`` equals what torch's ``MultiStepLR`` / ``StepLR`` give when ``scheduler.step()`` is
called once after every epoch. Differences from the SSD authors' scripts (pytorch-cifar100
style), kept small on purpose: their warm-up starts at lr 0 (``m / S`` instead of
``(m + 1) / S``) and their ``scheduler.step(epoch)`` with 1-based epochs decays one epoch
earlier than the milestones say.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from assd_core._kernels import check_labels, module_flags, restore_module_flags
from assd_repro.models import ModelSpec, build_model

__all__ = [
    "CIFAR10_SCHEDULE",
    "CIFAR100_SCHEDULE",
    "CIFAR20_SCHEDULE",
    "VIT_CIFAR20_SCHEDULE",
    "VIT_SCHEDULE",
    "EpochRecord",
    "PaperSchedule",
    "TrainHistory",
    "TrainRecipe",
    "decayed_lr",
    "deterministic_algorithms",
    "evaluate_loss_accuracy",
    "learning_rate",
    "load_checkpoint",
    "recipe_loader",
    "save_checkpoint",
    "split_batch",
    "ssd_image_recipe",
    "supply_chain_recipe",
    "train",
]

ScheduleKind = Literal["multistep", "step", "constant"]


class PaperSchedule(NamedTuple):
    """Epoch count and MultiStep milestones (epochs) of one of the paper's training runs."""

    epochs: int
    milestones: tuple[int, ...]


CIFAR100_SCHEDULE = PaperSchedule(200, (60, 120, 160))
CIFAR20_SCHEDULE = PaperSchedule(40, (15, 30, 35))
CIFAR10_SCHEDULE = PaperSchedule(20, (8, 12, 16))
VIT_SCHEDULE = PaperSchedule(8, (7,))
"""ViT fine-tuning (CIFAR-10 / CIFAR-100): 8 epochs, one decay before the last epoch, as in the
SSD authors' ``conf.py`` (``Cifar100_ViT_MILESTONES = [7]``)."""
VIT_CIFAR20_SCHEDULE = PaperSchedule(9, (8,))
"""The authors' CIFAR-20 ViT fine-tuning (``Cifar20_ViT_EPOCHS = 9``, milestones ``[8]``)."""


@dataclasses.dataclass(frozen=True)
class TrainRecipe:
    """Optimiser (SGD) and schedule of one training run.

    Attributes:
        epochs: passes over the training data (0 trains nothing).
        lr: base learning rate ``lr0``.
        momentum: SGD momentum.
        weight_decay: SGD (L2) weight decay.
        schedule: ``"multistep"``, ``"step"`` (decay by ``gamma`` every epoch) or ``"constant"``.
        milestones: epochs (0-based counts of finished epochs) where ``"multistep"`` decays.
        gamma: multiplicative decay factor.
        warmup_epochs: epochs of linear per-step warm-up from ``lr0 / (W*S)`` to ``lr0``.
        batch_size: rows per batch when :func:`train` builds the loader from a ``Dataset``.
        shuffle: whether that loader shuffles (seeded); ignored for a given ``DataLoader``.
        optimizer: ``"sgd"`` (with ``momentum``) or ``"adamw"`` (torch's defaults for the
            betas; ``weight_decay`` decoupled; ``momentum`` must be 0). Left out of hashes
            while ``"sgd"``.

    Raises:
        ValueError: ``epochs`` or ``warmup_epochs`` is not a whole number >= 0; ``lr``,
            ``momentum`` or ``weight_decay`` is not a finite number >= 0 (NaN and infinity
            refused); ``gamma`` is not a finite number > 0; ``schedule`` is not
            ``"multistep"``, ``"step"`` or ``"constant"``; ``milestones`` are not strictly
            increasing; ``batch_size`` is neither None nor >= 1; ``optimizer`` is not
            ``"sgd"`` or ``"adamw"``, or is ``"adamw"`` with a momentum. Each message names
            the field and its value.
    """

    epochs: int
    lr: float
    momentum: float = 0.0
    weight_decay: float = 0.0
    schedule: ScheduleKind = "constant"
    milestones: tuple[int, ...] = ()
    gamma: float = 1.0
    warmup_epochs: int = 0
    batch_size: int | None = None
    shuffle: bool = True
    # left out of the experiments' hashes while "sgd" (engine.config.OMIT_DEFAULT)
    optimizer: Literal["sgd", "adamw"] = dataclasses.field(default="sgd",
                                                           metadata={"omit_default": True})

    def __post_init__(self) -> None:
        object.__setattr__(self, "milestones", tuple(int(m) for m in self.milestones))
        for name in ("epochs", "warmup_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
                raise ValueError(f"{name}={value!r} must be a whole number >= 0 (epochs=0 "
                                 "trains nothing)")
        for name in ("lr", "momentum", "weight_decay"):
            value = getattr(self, name)
            if not (isinstance(value, Real) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}={value!r} must be a finite number >= 0")
        if not (isinstance(self.gamma, Real) and math.isfinite(self.gamma) and self.gamma > 0):
            raise ValueError(f"gamma={self.gamma!r} must be a finite number > 0: the learning "
                             "rate is multiplied by it at every decay (1.0: no decay)")
        if self.schedule not in ("multistep", "step", "constant"):
            raise ValueError(f"unknown schedule {self.schedule!r}; use multistep, step, constant")
        if list(self.milestones) != sorted(set(self.milestones)):
            raise ValueError(f"milestones must be strictly increasing, got {self.milestones}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be positive or None, got {self.batch_size}")
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(f"optimizer={self.optimizer!r} is unknown; use 'sgd' or 'adamw'")
        if self.optimizer == "adamw" and self.momentum:
            raise ValueError(f"momentum={self.momentum!r} is SGD's; AdamW uses its betas: "
                             "set momentum=0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (milestones as a list)."""
        data = dataclasses.asdict(self)
        data["milestones"] = list(self.milestones)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainRecipe:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


def ssd_image_recipe(
    epochs: int, milestones: Sequence[int], lr: float = 0.1, *, batch_size: int = 64,
    warmup_epochs: int = 1,
) -> TrainRecipe:
    """SSD image protocol: SGD momentum 0.9, weight decay 5e-4, batch 64, one warm-up epoch,
    MultiStep decay by 0.2 at ``milestones``. Use with a :class:`PaperSchedule`, e.g.
    ``ssd_image_recipe(*CIFAR10_SCHEDULE)``.

    Raises:
        ValueError: as :class:`TrainRecipe` (``epochs``, ``lr``, ``milestones``,
            ``batch_size``, ``warmup_epochs``).
    """
    return TrainRecipe(
        epochs=epochs, lr=lr, momentum=0.9, weight_decay=5e-4, schedule="multistep",
        milestones=tuple(milestones), gamma=0.2, warmup_epochs=warmup_epochs,
        batch_size=batch_size, shuffle=True,
    )


def supply_chain_recipe(
    lr: float, weight_decay: float, epochs: int = 25, *, momentum: float = 0.0,
    batch_size: int = 1024, shuffle: bool = False,
) -> TrainRecipe:
    """Supply-chain protocol: SGD with weight decay, StepLR decay 0.95 per epoch, batch 1024.
    ``shuffle=False`` keeps the authors' loader order.

    Raises:
        ValueError: as :class:`TrainRecipe` (``lr``, ``weight_decay``, ``epochs``,
            ``momentum``, ``batch_size``).
    """
    return TrainRecipe(
        epochs=epochs, lr=lr, momentum=momentum, weight_decay=weight_decay, schedule="step",
        gamma=0.95, batch_size=batch_size, shuffle=shuffle,
    )


def learning_rate(recipe: TrainRecipe, epoch: int, step: int = 0, steps_per_epoch: int = 1
                  ) -> float:
    """Learning rate of optimiser step ``step`` (0-based) in epoch ``epoch`` (0-based); see the
    module docstring for the formula."""
    if recipe.schedule == "multistep":
        decay = recipe.gamma ** sum(m <= epoch for m in recipe.milestones)
    elif recipe.schedule == "step":
        decay = recipe.gamma**epoch
    else:
        decay = 1.0
    warm_steps = recipe.warmup_epochs * steps_per_epoch
    warm = min(1.0, (epoch * steps_per_epoch + step + 1) / warm_steps) if warm_steps else 1.0
    return recipe.lr * decay * warm


def decayed_lr(recipe: TrainRecipe) -> float:
    """Learning rate after the recipe's last epoch times one more scheduler step, i.e. the rate
    of epoch ``epochs + 1``; for the supply-chain recipe ``lr0 * 0.95**25 * 0.95`` (the
    authors' fine-tune rate; book: Method, "Models, training and baselines")."""
    return learning_rate(recipe, recipe.epochs + 1)


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool = True, *, warn_only: bool = True) -> Iterator[None]:
    """Turn ``torch.use_deterministic_algorithms`` on for the block and restore the previous
    setting afterwards (``enabled=False`` leaves the setting untouched)."""
    if not enabled:
        yield
        return
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=warn_only)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn)


def recipe_loader(dataset: Dataset, recipe: TrainRecipe, *, seed: int = 0) -> DataLoader:
    """DataLoader with the recipe's batch size and order (shuffled by a ``torch.Generator``
    seeded with ``seed`` when ``recipe.shuffle``).

    Raises:
        ValueError: ``recipe.batch_size`` is None.
    """
    if recipe.batch_size is None:
        raise ValueError("recipe.batch_size is None: set it, or pass a DataLoader instead")
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=recipe.batch_size, shuffle=recipe.shuffle,
                      generator=generator)


def split_batch(batch: Any, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
    """``(inputs, targets)`` of a batch ``(x, y, *rest)``, moved to ``device``.

    Raises:
        TypeError: ``batch`` is not a sequence of at least two items.
    """
    if not isinstance(batch, Sequence) or len(batch) < 2:
        raise TypeError("a batch must be a sequence (inputs, targets, *rest) of tensors")
    return batch[0].to(device), batch[1].to(device)


@torch.no_grad()
def evaluate_loss_accuracy(
    model: nn.Module, loader: DataLoader, *, device: torch.device | str | None = None
) -> tuple[float, float]:
    """Sample-weighted mean cross-entropy and accuracy (%) of ``model`` on ``loader``.

    Runs in eval mode and restores every module's ``training`` flag afterwards, also when it
    raises. Returns ``(nan, nan)`` for an empty loader.

    Raises:
        TypeError: a batch is not a sequence ``(x, y, *rest)``.
        ValueError: the model's output is not a tensor of shape ``(batch, n_outputs)``, or a
            batch's labels are not integer class indices of shape ``(batch,)`` in
            ``[0, n_outputs)`` (:func:`assd_core._kernels.check_labels`), checked before the
            batch's loss.
    """
    device = _model_device(model) if device is None else torch.device(device)
    flags = module_flags(model)
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    try:
        for batch in loader:
            inputs, targets = split_batch(batch, device)
            logits = model(inputs)
            check_labels(targets, logits)
            total_loss += F.cross_entropy(logits, targets, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == targets).sum())
            count += len(targets)
    finally:
        restore_module_flags(flags)
    if count == 0:
        return math.nan, math.nan
    return total_loss / count, 100.0 * correct / count


@dataclasses.dataclass
class EpochRecord:
    """Statistics of one epoch: losses are mean cross-entropies, accuracies in %."""

    epoch: int
    lr: float
    train_loss: float
    train_accuracy: float
    eval_loss: float | None = None
    eval_accuracy: float | None = None
    seconds: float = 0.0


@dataclasses.dataclass
class TrainHistory:
    """Per-epoch records and the learning rate used at every optimiser step."""

    epochs: list[EpochRecord] = dataclasses.field(default_factory=list)
    step_lrs: list[float] = dataclasses.field(default_factory=list)

    @property
    def train_loss(self) -> list[float]:
        """Mean training loss per epoch (running, in train mode)."""
        return [record.train_loss for record in self.epochs]

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per epoch (for a tidy table)."""
        return [dataclasses.asdict(record) for record in self.epochs]


def train(
    model: nn.Module,
    train_loader: DataLoader | Dataset,
    recipe: TrainRecipe,
    *,
    eval_loader: DataLoader | None = None,
    progress: bool = True,
    seed: int = 0,
    device: torch.device | str | None = None,
    deterministic: bool = False,
    autocast: torch.dtype | None = None,
    channels_last: bool = False,
) -> TrainHistory:
    """Train ``model`` **in place** with SGD and the recipe's per-step schedule.

    Args:
        model: the network; left in eval mode at the end.
        train_loader: a ``DataLoader`` used as given, or a ``Dataset`` turned into one by
            :func:`recipe_loader` (the recipe's batch size and, if ``recipe.shuffle``, seeded
            shuffling).
        recipe: optimiser and schedule.
        eval_loader: if given, loss and accuracy on it are recorded after every epoch.
        progress: show a tqdm progress bar.
        seed: seeds torch's global RNG inside a forked RNG state (the caller's RNG state is
            restored afterwards) and the shuffling generator: same seed, same data and same
            threads give bit-identical weights on CPU.
        device: where to compute; default the device of the model's parameters.
        deterministic: also enable ``torch.use_deterministic_algorithms`` (warn-only) for the
            duration of the call; the previous global setting is restored.
        autocast: run the forward passes under ``torch.autocast`` in this dtype (e.g.
            ``torch.bfloat16``: CPU convolutions about 1.7x faster where the CPU has bfloat16
            units, book: Performance); weights, gradients, the optimiser and the loss stay
            float32. None: plain float32.
        channels_last: train in the ``channels_last`` memory format (inputs and 4-D weights);
            the model is returned in the default (contiguous) format, so that what follows
            (importances, dampening) sees the usual layout. Both options change the weights'
            last bits, so they are part of an experiment's training settings.

    Returns:
        Per-epoch losses/accuracies and the per-step learning rates.

    Raises:
        ValueError: ``recipe`` is not a :class:`TrainRecipe`; ``autocast`` is neither None
            nor a floating-point ``torch.dtype``; ``train_loader`` is a
            ``Dataset`` and ``recipe.batch_size`` is None; the loader yields no batch while
            ``recipe.epochs > 0``; the model's output is not a tensor of shape
            ``(batch, n_outputs)``, or a batch's labels are not integer class indices of shape
            ``(batch,)`` in ``[0, n_outputs)`` (:func:`assd_core._kernels.check_labels`). These
            checks, the first batch's against an eval-mode, gradient-free output, come before
            the first optimiser step: on such an error ``model`` is unchanged, every module's
            ``training`` flag included. A later batch is checked before its own step, so the
            model then holds the steps before it.
        TypeError: a batch is not a sequence ``(x, y, *rest)`` (:func:`split_batch`).
        FloatingPointError: the training loss became NaN or infinite.
    """
    if not isinstance(recipe, TrainRecipe):
        raise ValueError(f"recipe is a {type(recipe).__name__}, not a TrainRecipe; build one "
                         "with TrainRecipe(...), ssd_image_recipe(...) or TrainRecipe.from_dict")
    if autocast is not None and not (isinstance(autocast, torch.dtype)
                                     and autocast.is_floating_point):
        raise ValueError(f"autocast={autocast!r} must be None or a floating-point torch.dtype, "
                         "e.g. torch.bfloat16")
    device = _model_device(model) if device is None else torch.device(device)
    loader = train_loader if isinstance(train_loader, DataLoader) else recipe_loader(
        train_loader, recipe, seed=seed)
    steps = len(loader)
    if steps == 0 and recipe.epochs > 0:
        raise ValueError(f"train_loader yields no batch but recipe.epochs={recipe.epochs}: "
                         "the training data is empty, or drop_last drops its only, partial "
                         "batch")
    flags = module_flags(model)
    optimizer = _optimizer(model, recipe)
    history = TrainHistory()
    rng_devices = [device.index or 0] if device.type == "cuda" else []
    bar = tqdm(total=recipe.epochs * steps, desc="train", unit="batch", disable=not progress)
    with torch.random.fork_rng(devices=rng_devices), deterministic_algorithms(deterministic), bar:
        torch.manual_seed(seed)
        fast = _FastOptions(autocast, channels_last)
        try:
            if channels_last:
                model.to(memory_format=torch.channels_last)
            _train_epochs(model, loader, recipe, optimizer, history, bar, eval_loader, device,
                          fast)
        except BaseException:
            if not history.step_lrs:  # no step taken: leave the model as it came
                restore_module_flags(flags)
            raise
        finally:
            if channels_last:
                model.to(memory_format=torch.contiguous_format)
    model.eval()
    return history


def _optimizer(model: nn.Module, recipe: TrainRecipe) -> torch.optim.Optimizer:
    """The recipe's optimiser over ``model``'s parameters."""
    if recipe.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=recipe.lr,
                                 weight_decay=recipe.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                           weight_decay=recipe.weight_decay)


@dataclasses.dataclass(frozen=True)
class _FastOptions:
    """:func:`train`'s speed options: the forward's autocast dtype, the memory format."""

    autocast: torch.dtype | None = None
    channels_last: bool = False

    def inputs(self, x: Tensor) -> Tensor:
        """``x`` in the training's memory format (4-D inputs only)."""
        return x.contiguous(memory_format=torch.channels_last) if (
            self.channels_last and x.dim() == 4) else x

    def forward(self, model: nn.Module, x: Tensor, device: torch.device) -> Tensor:
        """``model(x)``, under autocast if asked; the logits in float32."""
        if self.autocast is None:
            return model(x)
        with torch.autocast(device.type, dtype=self.autocast):
            return model(x).float()


def _check_first_batch(model: nn.Module, inputs: Tensor, targets: Tensor) -> None:
    """:func:`check_labels` against the eval-mode output without gradients, which changes no
    parameter and no BatchNorm statistic (the train-mode forward of a step would)."""
    model.eval()
    with torch.no_grad():
        check_labels(targets, model(inputs))
    model.train()


def _train_epochs(model: nn.Module, loader: DataLoader, recipe: TrainRecipe,
                  optimizer: torch.optim.Optimizer, history: TrainHistory, bar: tqdm,
                  eval_loader: DataLoader | None, device: torch.device,
                  fast: _FastOptions = _FastOptions()) -> None:
    """The loop of :func:`train` (inside its RNG fork): every epoch, every step.

    Labels and outputs are checked on every batch of the first epoch (later epochs yield the
    same samples); the loss is read once per step (the NaN check and the epoch's mean loss);
    the epoch's accuracy is summed on the device and read once per epoch.
    """
    steps = len(loader)
    lr_set = None
    for epoch in range(recipe.epochs):
        started = time.perf_counter()
        model.train()
        loss_sum, correct, count, lr = 0.0, torch.zeros((), dtype=torch.long), 0, recipe.lr
        for step, batch in enumerate(loader):
            lr = learning_rate(recipe, epoch, step, steps)
            if lr != lr_set:
                for group in optimizer.param_groups:
                    group["lr"] = lr
                lr_set = lr
            inputs, targets = split_batch(batch, device)
            inputs = fast.inputs(inputs)
            if not history.step_lrs:  # before the first step
                _check_first_batch(model, inputs, targets)
            optimizer.zero_grad(set_to_none=True)
            logits = fast.forward(model, inputs, device)
            if epoch == 0:
                check_labels(targets, logits)
            loss = F.cross_entropy(logits, targets)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise FloatingPointError(
                    f"training loss is {loss_value} at epoch {epoch}, step {step} "
                    f"(lr {lr:g}); lower the learning rate")
            loss.backward()
            optimizer.step()
            history.step_lrs.append(lr)
            loss_sum += loss_value * len(targets)
            correct = correct + (logits.detach().argmax(dim=1) == targets).sum().cpu()
            count += len(targets)
            if not bar.disable:
                bar.update()
                bar.set_postfix(epoch=epoch, loss=f"{loss_value:.4f}", lr=f"{lr:.3g}")
        record = EpochRecord(epoch, lr, loss_sum / max(count, 1),
                             100.0 * int(correct) / max(count, 1))
        if eval_loader is not None:
            record.eval_loss, record.eval_accuracy = evaluate_loss_accuracy(
                model, eval_loader, device=device)
        record.seconds = time.perf_counter() - started
        history.epochs.append(record)


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def _checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    base = Path(path)
    if base.suffix in (".safetensors", ".json"):
        base = base.with_suffix("")
    return Path(f"{base}.safetensors"), Path(f"{base}.json")


def save_checkpoint(path: str | Path, model: nn.Module, config: Mapping[str, Any]
                    ) -> tuple[Path, Path]:
    """Write ``<path>.safetensors`` (the full ``state_dict``, buffers included) and
    ``<path>.json`` (``config``).

    Args:
        path: base path; a ``.safetensors``/``.json`` suffix is ignored. Parents are created.
        model: the model to save (not modified).
        config: JSON-able settings; must hold ``"model"``, a :class:`ModelSpec` or its
            ``to_dict()``, so that :func:`load_checkpoint` can rebuild the model.

    Returns:
        The weights path and the config path.

    Raises:
        ValueError: ``config`` has no ``"model"`` entry; the entry is neither a
            :class:`ModelSpec` nor a valid ``to_dict()`` (:meth:`ModelSpec.from_dict`);
            ``config`` is not JSON-able (names the offending type). Checked before either file
            is written: on an error no file is created or changed.
    """
    from safetensors.torch import save_file

    if "model" not in config:
        raise ValueError("config needs a 'model' entry (a ModelSpec or its to_dict())")
    spec = config["model"]
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec.from_dict(spec)
    try:
        text = json.dumps({**config, "model": spec.to_dict()}, indent=2, sort_keys=True)
    except TypeError as err:  # json names the type: "Object of type Tensor is not ..."
        raise ValueError(f"config is not JSON-able ({err}); give plain numbers, strings, "
                         "lists and dicts (e.g. recipe.to_dict(), float(x))") from err
    weights_path, config_path = _checkpoint_paths(path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(weights_path), metadata={"format": "pt"})
    config_path.write_text(text + "\n", encoding="utf-8")
    return weights_path, config_path


def load_checkpoint(path: str | Path, *, device: torch.device | str = "cpu"
                    ) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a model saved by :func:`save_checkpoint` (in eval mode) and return it with its
    config. Pre-trained weight files named in the spec are not read again.

    Raises:
        FileNotFoundError: ``<path>.safetensors`` or ``<path>.json`` is missing (names it).
        ValueError: the config has no ``"model"`` entry, or it is not a valid spec
            (:meth:`ModelSpec.from_dict`), checked before the weights are read.
    """
    from safetensors.torch import load_file

    weights_path, config_path = _checkpoint_paths(path)
    for file in (weights_path, config_path):
        if not file.is_file():
            raise FileNotFoundError(f"checkpoint file not found: {file}")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    model = build_model(ModelSpec.from_dict(config.get("model", {})).without_pretrained())
    model.load_state_dict(load_file(str(weights_path)), strict=True)
    return model.to(device).eval(), config
