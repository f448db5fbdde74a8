"""Content-addressed cache of trained models and their importances, shared by experiments.

A trained model is a pure function of its settings (data, model spec, recipe, seed): the cache
keys it by the hash of those settings, so the benchmark tables, the alpha plateau and the
parameter study reuse one baseline model instead of training it three times. Importances are
stored with :func:`assd_core.save_importances`, which checks them against the model on load.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from assd_core import load_importances, save_importances
from assd_repro.experiments.engine.config import canonical_json
from assd_repro.experiments.engine.device import compute_device
from assd_repro.training import load_checkpoint, save_checkpoint

__all__ = ["ArtifactCache", "settings_hash"]


def settings_hash(settings: Mapping[str, Any]) -> str:
    """16 hex digits of SHA-256 over the canonical JSON of ``settings``."""
    return hashlib.sha256(canonical_json(settings).encode()).hexdigest()[:16]


class ArtifactCache:
    """Models and importances under ``<root>/cache/{models,importances}/<hash>``.

    Args:
        root: the results root (default ``results``). ``None`` disables the cache: every call
            trains or computes afresh (the smoke tests use this to stay hermetic).
    """

    def __init__(self, root: str | os.PathLike[str] | None = "results") -> None:
        self.root = None if root is None else Path(root) / "cache"

    def model(self, settings: Mapping[str, Any], train: Callable[[], nn.Module]) -> nn.Module:
        """The model trained with ``settings``: loaded if cached (onto
        :func:`~assd_repro.experiments.engine.device.compute_device`), else ``train()`` and stored.

        ``settings`` must hold ``"model"`` (a ``ModelSpec`` or its dict), as
        :func:`~assd_repro.training.save_checkpoint` needs it to rebuild the model.
        """
        if self.root is None:
            return train()
        base = self.root / "models" / settings_hash(settings)
        if base.with_suffix(".json").is_file() and base.with_suffix(".safetensors").is_file():
            model, _ = load_checkpoint(base, device=compute_device())
            return model
        model = train()
        tmp = base.with_name(base.name + f".{os.getpid()}.partial")
        weights, config = save_checkpoint(tmp, model, dict(settings))
        os.replace(weights, base.with_suffix(".safetensors"))
        os.replace(config, base.with_suffix(".json"))  # written last: marks the entry complete
        return model

    def importances(
        self, settings: Mapping[str, Any], model: nn.Module, compute: Callable[[], dict[str, Tensor]]
    ) -> dict[str, Tensor]:
        """Importances of ``model`` for ``settings`` (which should name the model's settings hash,
        the data and the batch size): loaded if cached, else ``compute()`` and stored."""
        if self.root is None:
            return compute()
        path = self.root / "importances" / f"{settings_hash(settings)}.safetensors"
        if path.is_file():
            return load_importances(path, model)
        result = compute()
        save_importances(path, result, model)
        return result
