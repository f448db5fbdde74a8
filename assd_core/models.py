"""Model builders: CIFAR ResNet18, timm Vision Transformers and the supply-chain MLPs.

Every builder returns a freshly initialised ``torch.nn.Module`` in training mode that maps a
batch of inputs to logits of shape ``(N, n_classes)``. :class:`ModelSpec` describes a model as
plain JSON-able data so that experiment configs and checkpoints can rebuild it with
:func:`build_model`.

Layout choices that other modules rely on:

* The classifier head is a top-level child named ``fc`` (ResNet18) or ``head`` (ViT, MLP), and
  the body sits in other top-level children without ``reset_parameters`` (``Sequential``
  containers), so the authors' "retrain" rule (re-initialise the modules with
  ``reset_parameters`` among ``model.children()``, REFERENCE.md section 1) touches the head only.
  For timm ViTs it also touches the final ``norm`` LayerNorm, a top-level child in timm.
* Parameter names are stable: importances keyed by ``named_parameters()`` survive deep copies
  and checkpoint round trips.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import torch
from torch import Tensor, nn

logger = logging.getLogger(__name__)

__all__ = [
    "CPU_RESNET_WIDTH",
    "ModelKind",
    "ModelSpec",
    "ResNet18Cifar",
    "SupplyChainMLP",
    "build_model",
    "count_parameters",
    "load_vit_weights",
    "mlp_size",
    "resnet18_cifar",
    "supply_chain_mlp",
    "vit",
    "vit_b16",
    "vit_tiny_cifar",
]

CPU_RESNET_WIDTH = 16
"""Width multiplier used for ResNet18 on this project's 2-core CPU (the paper uses 64)."""


def count_parameters(model: nn.Module) -> int:
    """Number of scalar entries in ``model.parameters()`` (trainable or not; buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------
# ResNet18, CIFAR variant
# ---------------------------------------------------------------------------------------------


class BasicBlock(nn.Module):
    """Two 3x3 conv -> BatchNorm layers with an identity (or 1x1 conv + BN) shortcut.

    Maps ``(N, in_planes, H, W)`` to ``(N, planes, H / stride, W / stride)``.
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet18Cifar(nn.Module):
    """ResNet18 for 32x32 images: 3x3 stride-1 stem, no max-pool, widths w, 2w, 4w, 8w.

    Top-level children: ``stem`` (conv, BN, ReLU), ``layer1`` ... ``layer4`` (two
    :class:`BasicBlock` each, strides 1, 2, 2, 2), ``pool`` (global average pool) and the linear
    head ``fc``. Input ``(N, in_channels, H, W)``, output logits ``(N, n_classes)``; any
    ``H, W >= 8`` works thanks to the adaptive pool.
    """

    def __init__(self, n_classes: int, *, width: int = 64, in_channels: int = 3) -> None:
        super().__init__()
        _check_positive(n_classes=n_classes, width=width, in_channels=in_channels)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        )
        widths = (width, 2 * width, 4 * width, 8 * width)
        in_planes = width
        for index, (planes, stride) in enumerate(zip(widths, (1, 2, 2, 2), strict=True), start=1):
            blocks = nn.Sequential(BasicBlock(in_planes, planes, stride),
                                   BasicBlock(planes, planes))
            self.add_module(f"layer{index}", blocks)
            in_planes = planes
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8 * width, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        out = self.stem(x)
        for index in range(1, 5):
            out = getattr(self, f"layer{index}")(out)
        return self.fc(torch.flatten(self.pool(out), 1))


def resnet18_cifar(n_classes: int, *, width: int = 64, in_channels: int = 3) -> ResNet18Cifar:
    """CIFAR-variant ResNet18 (about 11.2M parameters at ``width=64``, 100 classes).

    Args:
        n_classes: number of output logits.
        width: channels of the first stage; stages have ``width * (1, 2, 4, 8)``. The paper uses
            64; :data:`CPU_RESNET_WIDTH` (16) keeps CPU experiments affordable.
        in_channels: image channels (3 for RGB, 1 for MNIST-like data).
    """
    return ResNet18Cifar(n_classes, width=width, in_channels=in_channels)


# ---------------------------------------------------------------------------------------------
# Vision Transformers (timm)
# ---------------------------------------------------------------------------------------------


def vit(
    n_classes: int,
    *,
    image_size: int = 32,
    patch_size: int = 4,
    embed_dim: int = 192,
    depth: int = 6,
    num_heads: int = 3,
    mlp_ratio: float = 4.0,
    in_channels: int = 3,
    drop_path_rate: float = 0.0,
    pretrained_path: str | Path | None = None,
) -> nn.Module:
    """A ``timm`` VisionTransformer with a class token and a linear head named ``head``.

    Input ``(N, in_channels, image_size, image_size)``, output logits ``(N, n_classes)``.

    Args:
        n_classes: number of output logits.
        image_size: input side in pixels; must be a multiple of ``patch_size``.
        patch_size: side of the square patches, in pixels.
        embed_dim: token width; must be divisible by ``num_heads``.
        depth: number of transformer blocks.
        num_heads: attention heads per block.
        mlp_ratio: hidden width of each block's MLP, as a multiple of ``embed_dim``.
        in_channels: image channels.
        drop_path_rate: stochastic-depth rate (0 disables it).
        pretrained_path: optional local weights file (see :func:`load_vit_weights`); never
            downloaded from a hub.

    Raises:
        ValueError: for sizes that do not fit together.
        FileNotFoundError: if ``pretrained_path`` is given but missing.
    """
    from timm.models.vision_transformer import VisionTransformer

    _check_positive(n_classes=n_classes, image_size=image_size, patch_size=patch_size,
                    embed_dim=embed_dim, depth=depth, num_heads=num_heads, in_channels=in_channels)
    if image_size % patch_size:
        raise ValueError(f"image_size={image_size} is not a multiple of patch_size={patch_size}")
    if embed_dim % num_heads:
        raise ValueError(f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}")
    if pretrained_path is not None and not Path(pretrained_path).is_file():
        raise FileNotFoundError(f"ViT weights file not found: {Path(pretrained_path)}")
    model = VisionTransformer(
        img_size=image_size, patch_size=patch_size, in_chans=in_channels, num_classes=n_classes,
        embed_dim=embed_dim, depth=depth, num_heads=num_heads, mlp_ratio=mlp_ratio,
        drop_path_rate=drop_path_rate,
    )
    if pretrained_path is not None:
        load_vit_weights(model, pretrained_path)
    return model


def vit_tiny_cifar(n_classes: int, **overrides: Any) -> nn.Module:
    """CPU-sized ViT for 32x32 images: patch 4 (64 tokens + class token), width 96, depth 6,
    3 heads (about 0.68M parameters, trains about as fast as ResNet18 at width 16 on a CPU).
    Keyword ``overrides`` go to :func:`vit`."""
    options: dict[str, Any] = dict(image_size=32, patch_size=4, embed_dim=96, depth=6, num_heads=3)
    return vit(n_classes, **{**options, **overrides})


def vit_b16(
    n_classes: int, *, image_size: int = 224, pretrained_path: str | Path | None = None,
    **overrides: Any,
) -> nn.Module:
    """Paper-scale ViT-B/16 (width 768, depth 12, 12 heads; about 86M parameters).

    ``pretrained_path`` names a local timm-format state dict (for example the ImageNet weights of
    ``vit_base_patch16_224`` saved as ``.safetensors`` or ``.pth``/``.bin``); the head is
    replaced for ``n_classes`` and position embeddings are resampled when ``image_size`` differs
    from the checkpoint's.
    """
    options: dict[str, Any] = dict(patch_size=16, embed_dim=768, depth=12, num_heads=12)
    return vit(n_classes, image_size=image_size, pretrained_path=pretrained_path,
               **{**options, **overrides})


def _read_state_dict(path: Path) -> dict[str, Tensor]:
    """Tensors of a ``.safetensors`` file or a torch-saved state dict (``.pth``, ``.bin``, ...),
    unwrapped from ``{"state_dict": ...}`` / ``{"model": ...}`` and ``module.`` prefixes."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state: Any = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
    if not isinstance(state, Mapping):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict")
    return {k.removeprefix("module."): v for k, v in state.items() if isinstance(v, Tensor)}


def load_vit_weights(model: nn.Module, path: str | Path) -> list[str]:
    """Load a timm-format ViT state dict from a local file into ``model`` (in place).

    Head weights whose shape does not fit ``model`` are dropped (logged as a warning) and stay
    randomly initialised; an absolute position embedding of another grid size is resampled
    with ``timm.layers.resample_abs_pos_embed``.

    Returns:
        Names of the checkpoint tensors that were dropped.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not a compatible timm ViT state dict (names the offending keys).
    """
    from timm.layers import resample_abs_pos_embed

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ViT weights file not found: {path}")
    state = _read_state_dict(path)
    target = model.state_dict()
    if "pos_embed" in state and state["pos_embed"].shape != target["pos_embed"].shape:
        prefix = 0 if getattr(model, "no_embed_class", False) else model.num_prefix_tokens
        old = state["pos_embed"].shape
        state["pos_embed"] = resample_abs_pos_embed(
            state["pos_embed"], new_size=list(model.patch_embed.grid_size), num_prefix_tokens=prefix
        )
        logger.info("resampled pos_embed %s -> %s", tuple(old), tuple(state["pos_embed"].shape))
    dropped = []
    for key in ("head.weight", "head.bias"):
        if key in state and state[key].shape != target[key].shape:
            logger.warning(
                "dropping %s of shape %s from %s: the model's head has shape %s and stays "
                "randomly initialised", key, tuple(state[key].shape), path,
                tuple(target[key].shape),
            )
            dropped.append(key)
            del state[key]
    mismatched = [k for k in state if k in target and state[k].shape != target[k].shape]
    if mismatched:
        raise ValueError(
            f"{path}: tensors {mismatched[:5]} do not fit the model's shapes (another patch size, "
            "width or channel count?); build the ViT with the checkpoint's architecture"
        )
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if k not in dropped]
    if missing or result.unexpected_keys:
        raise ValueError(
            f"{path} is not a timm ViT state dict for this model: missing {missing[:5]}, "
            f"unexpected {result.unexpected_keys[:5]} (convert HF/torchvision weights to timm "
            "names first)"
        )
    return dropped


# ---------------------------------------------------------------------------------------------
# Supply-chain MLP
# ---------------------------------------------------------------------------------------------


class SupplyChainMLP(nn.Module):
    """``n_layers`` blocks of Linear -> BatchNorm1d -> ReLU (in child ``body``), then the linear
    head ``head``. Input ``(N, n_features)``, output logits ``(N, n_classes)``.

    In training mode BatchNorm needs batches of at least 2 rows.
    """

    def __init__(self, n_features: int, n_classes: int = 3, *, n_layers: int, width: int) -> None:
        super().__init__()
        _check_positive(n_features=n_features, n_classes=n_classes, n_layers=n_layers, width=width)
        layers: list[nn.Module] = []
        for index in range(n_layers):
            layers += [nn.Linear(n_features if index == 0 else width, width),
                       nn.BatchNorm1d(width), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


def supply_chain_mlp(
    n_features: int, n_classes: int = 3, *, n_layers: int, width: int
) -> SupplyChainMLP:
    """The paper's supply-chain MLP; sizes "2x50", "3x100", "5x250" via :func:`mlp_size`."""
    return SupplyChainMLP(n_features, n_classes, n_layers=n_layers, width=width)


_MLP_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def mlp_size(size: str) -> tuple[int, int]:
    """Parse ``"LAYERSxWIDTH"`` (e.g. ``"3x100"``) into ``(n_layers, width)``.

    Raises:
        ValueError: the string is not of that form or a number is zero.
    """
    match = _MLP_SIZE.match(size) if isinstance(size, str) else None
    if match is None or 0 in (int(match[1]), int(match[2])):
        raise ValueError(
            f"bad MLP size {size!r}: expected 'LAYERSxWIDTH' with positive integers, e.g. '3x100'"
        )
    return int(match[1]), int(match[2])


# ---------------------------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------------------------

ModelKind = Literal["resnet18", "vit", "mlp"]
_VIT_PRESETS: dict[str, Callable[..., nn.Module]] = {"tiny_cifar": vit_tiny_cifar, "b16": vit_b16}


def _builder(kind: str, options: Mapping[str, Any]) -> Callable[..., nn.Module]:
    if kind == "resnet18":
        return resnet18_cifar
    if kind == "mlp":
        return supply_chain_mlp
    if kind == "vit":
        preset = options.get("preset")
        if preset is None:
            return vit
        if preset not in _VIT_PRESETS:
            raise ValueError(f"unknown ViT preset {preset!r}; choose one of {sorted(_VIT_PRESETS)}")
        return _VIT_PRESETS[preset]
    raise ValueError(f"unknown model kind {kind!r}; choose one of {list(get_args(ModelKind))}")


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, list | tuple) else value


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Plain-data description of a model, for configs and checkpoints.

    Attributes:
        kind: ``"resnet18"`` (:func:`resnet18_cifar`), ``"vit"`` (:func:`vit`, or a preset
            ``"tiny_cifar"`` / ``"b16"`` chosen by option ``preset``) or ``"mlp"``
            (:func:`supply_chain_mlp`; needs ``n_features``, ``n_layers``, ``width``).
        n_classes: number of output logits.
        options: keyword arguments of the builder (JSON scalars); pass a dict, it is stored as
            sorted ``(name, value)`` pairs so the spec is hashable. Unknown names raise
            ``ValueError`` at construction.
    """

    kind: ModelKind
    n_classes: int
    options: Mapping[str, Any] | tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        items = self.options.items() if isinstance(self.options, Mapping) else self.options
        options = tuple(sorted((str(k), _freeze(v)) for k, v in items))  # always a tuple now
        object.__setattr__(self, "options", options)
        _check_positive(n_classes=self.n_classes)
        kwargs = self.kwargs
        builder = _builder(self.kind, kwargs)
        accepted = set(inspect.signature(builder).parameters) - {"n_classes"}
        if builder in (vit_tiny_cifar, vit_b16):
            accepted |= set(inspect.signature(vit).parameters) - {"n_classes"}
        unknown = set(kwargs) - accepted - ({"preset"} if self.kind == "vit" else set())
        if unknown:
            raise ValueError(
                f"unknown option(s) {sorted(unknown)} for a {self.kind!r} model; "
                f"accepted: {sorted(accepted)}"
            )

    @property
    def kwargs(self) -> dict[str, Any]:
        """The options as a dict (a fresh copy)."""
        return dict(self.options)

    @classmethod
    def resnet18(cls, n_classes: int, *, width: int = CPU_RESNET_WIDTH, in_channels: int = 3
                 ) -> ModelSpec:
        """Spec of :func:`resnet18_cifar` (default width: the CPU width)."""
        return cls("resnet18", n_classes, {"width": width, "in_channels": in_channels})

    @classmethod
    def mlp(cls, n_features: int, n_classes: int = 3, *, size: str = "3x100") -> ModelSpec:
        """Spec of :func:`supply_chain_mlp` with a paper size string such as ``"5x250"``."""
        n_layers, width = mlp_size(size)
        return cls("mlp", n_classes, {"n_features": n_features, "n_layers": n_layers,
                                      "width": width})

    @classmethod
    def vit(cls, n_classes: int, *, preset: str | None = "tiny_cifar", **options: Any) -> ModelSpec:
        """Spec of a ViT preset (``"tiny_cifar"``, ``"b16"``) or, with ``preset=None``, of
        :func:`vit` with ``options``."""
        extra = {} if preset is None else {"preset": preset}
        return cls("vit", n_classes, {**extra, **options})

    def without_pretrained(self) -> ModelSpec:
        """The same spec without ``pretrained_path`` (for rebuilding from a checkpoint)."""
        kwargs = {k: v for k, v in self.kwargs.items() if k != "pretrained_path"}
        return ModelSpec(self.kind, self.n_classes, kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; inverse of :meth:`from_dict`."""
        options = {k: list(v) if isinstance(v, tuple) else v for k, v in self.options}
        return {"kind": self.kind, "n_classes": self.n_classes, "options": options}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSpec:
        """Rebuild a spec from :meth:`to_dict` output."""
        unknown = set(data) - {"kind", "n_classes", "options"}
        if unknown or "kind" not in data or "n_classes" not in data:
            raise ValueError(
                f"bad model spec {dict(data)!r}: expected keys 'kind', 'n_classes', 'options'"
            )
        return cls(data["kind"], int(data["n_classes"]), dict(data.get("options", {})))


def build_model(spec: ModelSpec) -> nn.Module:
    """Build a freshly initialised model from ``spec`` (uses the global torch RNG)."""
    kwargs = spec.kwargs
    builder = _builder(spec.kind, kwargs)
    kwargs.pop("preset", None)
    return builder(n_classes=spec.n_classes, **kwargs)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
