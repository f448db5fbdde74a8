"""Where the experiments compute: ``$ASSD_DEVICE``, else the GPU when there is one, else the CPU."""

from __future__ import annotations

import os

import torch

__all__ = ["compute_device"]


def compute_device() -> torch.device:
    """The device experiments train and evaluate on.

    ``ASSD_DEVICE`` (e.g. ``cpu``, ``cuda``, ``cuda:1``) wins; without it, ``cuda`` when
    ``torch.cuda.is_available()``, else ``cpu``. Results on a GPU are not bit-identical to the
    CPU's (other kernels), so the content hash of a config does not cover the device: keep one
    results folder per machine kind when comparing bit for bit.

    Raises:
        ValueError: ``ASSD_DEVICE`` names no device torch knows, or a CUDA device that is absent.
    """
    name = os.environ.get("ASSD_DEVICE")
    if not name:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"ASSD_DEVICE={name!r} is not a torch device ({error}); use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"ASSD_DEVICE={name!r} but torch sees no CUDA device; unset it or use cpu")
    return device
