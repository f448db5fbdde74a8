"""Helpers shared by the model builders."""

from __future__ import annotations

from torch import nn

__all__ = ["CPU_RESNET_WIDTH", "check_positive", "count_parameters"]

CPU_RESNET_WIDTH = 16
"""Width multiplier used for ResNet18 on this project's 2-core CPU (the paper uses 64)."""


def count_parameters(model: nn.Module) -> int:
    """Number of scalar entries in ``model.parameters()`` (trainable or not; buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def check_positive(**values: int) -> None:
    """Raise ValueError unless every value is a positive Python ``int``.

    Args:
        **values: name -> value; the first bad one is named in the message.

    Raises:
        ValueError: a value is not an ``int`` (floats, bools and numpy integers are refused)
            or is < 1: ``"width=0 must be a positive integer"``.
    """
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")
