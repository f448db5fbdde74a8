"""timm Vision Transformers: the paper's ViT-B/16, a small CIFAR ViT for the CPU, and loading
local timm-format weights.

The head is the top-level child ``head``; the SSD authors' "retrain" rule also resets the final
``norm`` LayerNorm, a top-level child in timm.
"""

from __future__ import annotations

import logging
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
        ValueError: for sizes that do not fit together.
        FileNotFoundError: if ``pretrained_path`` is given but missing.
    """
    from timm.models.vision_transformer import VisionTransformer

    check_positive(n_classes=n_classes, image_size=image_size, patch_size=patch_size,
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
