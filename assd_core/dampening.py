"""SSD's selection and dampening step (paper eq. 1-3), applied in place.

For every parameter element ``i``::

    selected  where  []_Df,i > alpha * []_D,i
    theta_i  <-  theta_i * min(lam * []_D,i / []_Df,i, 1)      (selected elements only)

The factor lies in ``[0, 1]``, so signs are kept and magnitudes only shrink. This is the
authors' code. The paper's Algorithm 1 (line 7) writes ``min(ratio * theta, theta)``, which for a
negative theta would keep the *larger* magnitude; eq. 3 is misprinted (``[]_Df / []_Df``).
Where ``[]_D,i = 0 < []_Df,i`` the factor is 0: the parameter is zeroed, never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

__all__ = ["DampeningReport", "check_importances", "dampen"]


@dataclass(frozen=True)
class DampeningReport:
    """What one dampening step did.

    Attributes:
        n_selected: parameter elements whose value was multiplied by a factor < = 1.
        n_parameters: parameter elements in the model.
        alpha: selection threshold used.
        lam: dampening constant lambda used.
        selected_per_tensor: name -> number of selected elements of that parameter tensor.
        percentile: ASSD's percentile ``p`` (None for plain SSD).
    """

    n_selected: int
    n_parameters: int
    alpha: float
    lam: float
    selected_per_tensor: dict[str, int] = field(default_factory=dict)
    percentile: float | None = None

    @property
    def fraction_selected(self) -> float:
        """Share of the model's parameter elements that were selected, in ``[0, 1]``."""
        return self.n_selected / self.n_parameters if self.n_parameters else 0.0


def check_importances(model: nn.Module, importances: Mapping[str, Tensor], what: str) -> None:
    """Raise ValueError unless ``importances`` match ``model``'s parameters and are finite, >= 0.

    Args:
        model: the model whose ``named_parameters()`` the importances must cover.
        importances: name -> tensor of the parameter's shape.
        what: how to call them in messages (e.g. ``"full importances"``).
    """
    params = dict(model.named_parameters())
    missing = [n for n in params if n not in importances]
    if missing:
        raise ValueError(
            f"{what} have no entry for parameter {missing[0]!r}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + "; were they computed for another model? Recompute them with compute_importances(model, ...)."
        )
    extra = [n for n in importances if n not in params]
    if extra:
        raise ValueError(
            f"{what} have an entry {extra[0]!r} that is not a parameter of this model; "
            "were they computed for another model?"
        )
    for name, p in params.items():
        t = importances[name]
        if t.shape != p.shape:
            raise ValueError(
                f"{what}[{name!r}] has shape {tuple(t.shape)} but the parameter has shape "
                f"{tuple(p.shape)}; were they computed for another model?"
            )
        if not bool(torch.isfinite(t).all()):
            bad = "NaN" if bool(torch.isnan(t).any()) else "infinite values"
            raise ValueError(
                f"{what}[{name!r}] contains {bad}; recompute the importances (a NaN loss "
                "usually means a diverged model or bad inputs)"
            )
        if bool((t < 0).any()):
            raise ValueError(f"{what}[{name!r}] has negative values; importances are squared gradients")


def _check_number(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}={value!r} must be a finite number >= 0")
    return float(value)


def dampen(
    model: nn.Module,
    full_importances: Mapping[str, Tensor],
    forget_importances: Mapping[str, Tensor],
    alpha: float,
    lam: float = 1.0,
) -> DampeningReport:
    """Select parameters specialised to the forget set and dampen them, in place.

    Args:
        model: modified in place (parameters only, under ``torch.no_grad()``; buffers are
            never touched).
        full_importances: ``[]_D`` per parameter name, each of the parameter's shape.
        forget_importances: ``[]_Df`` per parameter name.
        alpha: selection threshold, finite and >= 0.
        lam: lambda, finite and >= 0 (ASSD: 1).

    Returns:
        A :class:`DampeningReport`. Unselected elements stay bit-identical.

    Raises:
        ValueError: a missing or extra key, a shape mismatch, a NaN/inf/negative importance,
            or a bad alpha/lam. Everything is checked before anything is written, so on any
            error the model is unchanged.
    """
    alpha = _check_number("alpha", alpha)
    lam = _check_number("lam", lam)
    check_importances(model, full_importances, "full importances")
    check_importances(model, forget_importances, "forget importances")

    counts: dict[str, int] = {}
    n_parameters = 0
    with torch.no_grad():
        for name, p in model.named_parameters():
            full = full_importances[name].to(p.device)
            forget = forget_importances[name].to(p.device)
            selected = forget > alpha * full
            n = int(selected.sum())
            counts[name] = n
            n_parameters += p.numel()
            if n:
                factor = (lam * full / forget).clamp_(max=1.0)
                p.mul_(torch.where(selected, factor, torch.ones_like(factor)).to(p.dtype))
    return DampeningReport(
        n_selected=sum(counts.values()),
        n_parameters=n_parameters,
        alpha=alpha,
        lam=lam,
        selected_per_tensor=counts,
    )
