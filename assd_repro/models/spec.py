"""Plain-data model descriptions (:class:`ModelSpec`) and :func:`build_model`."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

from torch import nn

from assd_repro.models.common import CPU_RESNET_WIDTH, check_positive
from assd_repro.models.mlp import mlp_size, supply_chain_mlp
from assd_repro.models.resnet import resnet18_cifar
from assd_repro.models.vit import vit, vit_b16, vit_tiny_cifar

__all__ = ["ModelKind", "ModelSpec", "build_model"]

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

    Raises:
        ValueError: ``n_classes`` is not a positive ``int``; ``kind`` is not ``"resnet18"``,
            ``"vit"`` or ``"mlp"``; option ``preset`` of a ViT is not ``"tiny_cifar"``,
            ``"b16"`` or None; an option the builder does not accept (names it and lists the
            accepted ones). Option values are checked by the builder, in :func:`build_model`.
    """

    kind: ModelKind
    n_classes: int
    options: Mapping[str, Any] | tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        items = self.options.items() if isinstance(self.options, Mapping) else self.options
        options = tuple(sorted((str(k), _freeze(v)) for k, v in items))  # always a tuple now
        object.__setattr__(self, "options", options)
        check_positive(n_classes=self.n_classes)
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
        """Spec of :func:`resnet18_cifar` (default width: the CPU width).

        Raises:
            ValueError: as the class (``n_classes`` not a positive ``int``).
        """
        return cls("resnet18", n_classes, {"width": width, "in_channels": in_channels})

    @classmethod
    def mlp(cls, n_features: int, n_classes: int = 3, *, size: str = "3x100") -> ModelSpec:
        """Spec of :func:`supply_chain_mlp` with a paper size string such as ``"5x250"``.

        Raises:
            ValueError: ``size`` is not ``"LAYERSxWIDTH"`` with positive integers
                (:func:`mlp_size`); ``n_classes`` not a positive ``int``.
        """
        n_layers, width = mlp_size(size)
        return cls("mlp", n_classes, {"n_features": n_features, "n_layers": n_layers,
                                      "width": width})

    @classmethod
    def vit(cls, n_classes: int, *, preset: str | None = "tiny_cifar", **options: Any) -> ModelSpec:
        """Spec of a ViT preset (``"tiny_cifar"``, ``"b16"``) or, with ``preset=None``, of
        :func:`vit` with ``options``.

        Raises:
            ValueError: as the class: an unknown ``preset`` or option, ``n_classes`` not a
                positive ``int``.
        """
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
        """Rebuild a spec from :meth:`to_dict` output.

        Raises:
            ValueError: ``data`` lacks ``kind`` or ``n_classes`` or has other keys than
                ``kind``, ``n_classes``, ``options``; then as the class.
        """
        unknown = set(data) - {"kind", "n_classes", "options"}
        if unknown or "kind" not in data or "n_classes" not in data:
            raise ValueError(
                f"bad model spec {dict(data)!r}: expected keys 'kind', 'n_classes', 'options'"
            )
        return cls(data["kind"], int(data["n_classes"]), dict(data.get("options", {})))


def build_model(spec: ModelSpec) -> nn.Module:
    """Build a freshly initialised model from ``spec`` (uses the global torch RNG).

    Raises:
        ValueError: ``spec`` is not a :class:`ModelSpec` (a dict such as a checkpoint's
            ``config["model"]`` is refused: pass ``ModelSpec.from_dict(spec)``); the builder's
            own checks of the option values (:func:`resnet18_cifar`, :func:`vit`,
            :func:`supply_chain_mlp`).
        FileNotFoundError: a ViT's ``pretrained_path`` names no file.
    """
    if not isinstance(spec, ModelSpec):
        raise ValueError(f"spec is a {type(spec).__name__}, not a ModelSpec; build one with "
                         "ModelSpec(...) or, from a dict, ModelSpec.from_dict(spec)")
    kwargs = spec.kwargs
    builder = _builder(spec.kind, kwargs)
    kwargs.pop("preset", None)
    return builder(n_classes=spec.n_classes, **kwargs)
