"""timm Vision Transformers: the paper's ViT-B/16, a small CIFAR ViT for the CPU, and loading
local timm-format weights.

The head is the top-level child ``head``; the SSD authors' "retrain" rule also resets the final
``norm`` LayerNorm, a top-level child in timm.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from assd_repro.models.common import check_positive

logger = logging.getLogger(__name__)

__all__ = ["load_vit_weights", "vit", "vit_b16", "vit_tiny_cifar"]


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
        ValueError: ``n_classes``, ``image_size``, ``patch_size``, ``embed_dim``, ``depth``,
            ``num_heads`` or ``in_channels`` is not a positive ``int``; ``image_size`` is not
            a multiple of ``patch_size``; ``embed_dim`` is not divisible by ``num_heads``;
            ``mlp_ratio`` is not a finite number > 0; ``drop_path_rate`` is not in [0, 1).
            Then as :func:`load_vit_weights` for ``pretrained_path``.
        FileNotFoundError: if ``pretrained_path`` is given but missing.
    """
    from timm.models.vision_transformer import VisionTransformer

    check_positive(n_classes=n_classes, image_size=image_size, patch_size=patch_size,
                    embed_dim=embed_dim, depth=depth, num_heads=num_heads, in_channels=in_channels)
    if image_size % patch_size:
        raise ValueError(f"image_size={image_size} is not a multiple of patch_size={patch_size}")
    if embed_dim % num_heads:
        raise ValueError(f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}")
    if not (isinstance(mlp_ratio, int | float) and math.isfinite(mlp_ratio) and mlp_ratio > 0):
        raise ValueError(f"mlp_ratio={mlp_ratio!r} must be a finite number > 0 (the blocks' "
                         "MLP width as a multiple of embed_dim; timm's default is 4.0)")
    if not (isinstance(drop_path_rate, int | float) and 0 <= drop_path_rate < 1):
        raise ValueError(f"drop_path_rate={drop_path_rate!r} must lie in [0, 1) (a probability "
                         "of dropping a block; 0 disables stochastic depth)")
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
    Keyword ``overrides`` go to :func:`vit`.

    Raises:
        ValueError, FileNotFoundError: as :func:`vit`, for ``n_classes`` and the overrides.
    """
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

    Raises:
        ValueError, FileNotFoundError: as :func:`vit` (and :func:`load_vit_weights` for
            ``pretrained_path``).
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
        ValueError: ``model`` is not a timm VisionTransformer (it has no ``patch_embed`` and
            ``pos_embed``; checked before the file is read); the file holds no state dict;
            tensors other than the head's have other shapes than the model's (names up to 5);
            the file lacks tensors of the model or has tensors the model lacks (names up to 5
            of each). Every check runs before a weight is loaded: on an error ``model`` is
            unchanged.
        FileNotFoundError: ``path`` does not exist.
    """
    from timm.layers import resample_abs_pos_embed

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ViT weights file not found: {path}")
    target = model.state_dict() if isinstance(model, nn.Module) else {}
    if "pos_embed" not in target or not hasattr(model, "patch_embed"):
        raise ValueError(f"model is a {type(model).__name__}, not a timm VisionTransformer (it "
                         "has no patch_embed and pos_embed); build it with vit(...)")
    state = _read_state_dict(path)
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
    missing = [k for k in target if k not in state and k not in dropped]
    unexpected = [k for k in state if k not in target]
    if missing or unexpected:
        raise ValueError(
            f"{path} is not a timm ViT state dict for this model: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]} (convert HF/torchvision weights to timm names first)"
        )
    model.load_state_dict(state, strict=False)  # strict but for the dropped head
    return dropped
