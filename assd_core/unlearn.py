"""One-call unlearning: SSD with given alpha and lambda, and parameter-free ASSD.

Both compute the forget importances ``[]_Df`` with the same function (and so the same
settings) as the full importances, then :func:`~assd_core.dampening.dampen` in place. The full
importances are checked once, before the forget pass (not again when dampening); the forget
importances are checked before anything is written.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from typing import Any

from torch import Tensor, nn

from assd_core._kernels import flat_view, joined
from assd_core.dampening import (
    DampeningReport,
    Views,
    check_number,
    dampen_checked,
    validated_views,
)
from assd_core.importance import Importances, _importances
from assd_core.selection import adaptive_percentile, alpha_from_views, alpha_joined

__all__ = ["assd_unlearn", "forget_importances", "ssd_unlearn"]


def _checked_forget_pass(
    model: nn.Module, forget_loader: Iterable[Any], full_importances: Mapping[str, Tensor],
    stacklevel: int, join: bool = True,
) -> tuple[Sequence[tuple[str, Tensor]], Views, tuple[Tensor | None, Callable[[], Importances]]]:
    """Check the full importances, warn on a batch-size mismatch (``stacklevel`` 3: at the
    caller's caller), compute the forget ones. Returns ``list(model.named_parameters())``,
    :func:`validated_views` of the full importances and what :func:`_importances` returns."""
    named = list(model.named_parameters())
    full_views = validated_views(named, full_importances, "full importances", join)
    recorded = getattr(full_importances, "batch_size", None)
    current = getattr(forget_loader, "batch_size", None)
    if recorded is not None and current is not None and recorded != current:
        warnings.warn(
            f"the full importances were computed with batch_size={recorded} but the forget "
            f"loader has batch_size={current}; importances scale with the batch size, so use "
            "the same batch size for both",
            UserWarning,
            stacklevel=stacklevel,
        )
    return named, full_views, _importances(model, named, forget_loader)


def forget_importances(
    model: nn.Module, forget_loader: Iterable[Any], full_importances: Mapping[str, Tensor]
) -> dict[str, Tensor]:
    """Check ``full_importances`` against the model, then compute ``[]_Df`` on ``forget_loader``.

    Warns when the forget loader's batch size differs from the one recorded with the full
    importances: the importance is a mean of squared *batch* gradients, so its scale depends
    on the batch size and the two would not be comparable.

    Args:
        model: the trained model (not modified).
        forget_loader: batches ``(x, y, *rest)`` of the forget set Df.
        full_importances: ``[]_D`` for ``model``, as from :func:`compute_importances`.

    Returns:
        ``[]_Df``: parameter name -> tensor of the parameter's shape.

    Raises:
        ValueError: ``full_importances`` fail :func:`~assd_core.check_importances` against
            ``model`` (checked before the forget pass); then any error of
            :func:`~assd_core.compute_importances` on ``forget_loader`` (a batch not
            ``(x, y, *rest)``, an output not ``(batch, n_classes)``, bad labels, no batch).
    """
    return _checked_forget_pass(model, forget_loader, full_importances, 4, join=False)[2][1]()


def ssd_unlearn(
    model: nn.Module,
    forget_loader: Iterable[Any],
    full_importances: Mapping[str, Tensor],
    *,
    alpha: float,
    lam: float = 1.0,
) -> DampeningReport:
    """Selective Synaptic Dampening (Foster et al. 2023) with given alpha and lambda, in place.

    Args:
        model: the trained model; its parameters are dampened in place.
        forget_loader: batches ``(x, y, *rest)`` of the forget set Df, same batch size as
            used for ``full_importances``.
        full_importances: ``[]_D`` from :func:`compute_importances` (or loaded from disk).
        alpha: selection threshold (SSD's tuned values: 10 for ResNet18, 5 or 25 for ViT).
        lam: dampening constant lambda.

    Returns:
        The :class:`DampeningReport`.

    Raises:
        ValueError: checked in this order, the model unchanged on any of them: ``alpha`` or
            ``lam`` is not a finite real number >= 0 (before any work); ``full_importances``
            fail :func:`~assd_core.check_importances`; the forget pass fails as in
            :func:`~assd_core.compute_importances` (bad batch, output or labels, no batch);
            the forget importances fail the same check (NaN from a diverged model).
    """
    alpha, lam = check_number("alpha", alpha), check_number("lam", lam)  # before any work
    named, full, (_, build) = _checked_forget_pass(model, forget_loader, full_importances, 3)
    forget = build()
    forget_views = validated_views(named, forget, "forget importances", join=True)
    return dampen_checked(named, full, forget_views, full_importances, forget, alpha, lam)


def assd_unlearn(
    model: nn.Module,
    forget_loader: Iterable[Any],
    full_importances: Mapping[str, Tensor],
    *,
    n_forget: int | None = None,
    n_total: int,
) -> DampeningReport:
    """Adaptive SSD: no parameter to tune, in place.

    ``lam = 1``; ``p = 100 - ln(1 + 100 n_forget / n_total)``; ``alpha`` = the p-th
    percentile of the finite ``[]_Df / []_D`` ratios over all parameters; then SSD.

    Args:
        model: the trained model; its parameters are dampened in place.
        forget_loader: batches of the forget set Df.
        full_importances: ``[]_D``. The authors compute it on the retain set Dr.
        n_forget: ``|Df|``; defaults to ``len(forget_loader.dataset)``.
        n_total: ``|D|``, the number of training samples, retained and forgotten together.

    Returns:
        The :class:`DampeningReport`, with the ``percentile`` and ``alpha`` used.

    Raises:
        ValueError: checked in this order, the model unchanged on any of them: ``n_forget``
            is None and ``forget_loader`` has no sized ``.dataset``; ``n_forget``/``n_total``
            fail :func:`~assd_core.adaptive_percentile` (whole numbers,
            ``0 < n_forget < n_total``); ``full_importances`` fail
            :func:`~assd_core.check_importances`; the forget pass fails as in
            :func:`~assd_core.compute_importances` (bad batch, output or labels, no batch);
            the forget importances fail the same check; no forget/full ratio is finite.
    """
    if n_forget is None:
        dataset = getattr(forget_loader, "dataset", None)
        if not isinstance(dataset, Sized):
            raise ValueError(
                "n_forget was not given and the forget loader has no sized .dataset; "
                "pass n_forget=<number of samples to forget>"
            )
        n_forget = len(dataset)
    percentile = adaptive_percentile(n_forget, n_total)
    named, full, (joint, build) = _checked_forget_pass(model, forget_loader, full_importances, 3)
    flat = joined([joint]) if joint is not None and full[1] is not None else None
    # select_alpha on the same values (names and shapes match: forget comes from this model)
    if flat is None or full[1] is None:  # on flat views (of the full ones again, if joined)
        views = full[0] or validated_views(named, full_importances, "full importances")[0]
        alpha = alpha_from_views([flat_view(t) for t in build().values()], views, percentile)
        candidates = None
    else:
        alpha, candidates = alpha_joined(flat, full[1], percentile, full[2])
    alpha = check_number("alpha", alpha)  # finite and >= 0 by construction; checked all the same
    forget: Views = ([], flat, False)  # joined squares of this model's CPU gradients: NaN, inf?
    if flat is None or not flat.max(initial=0) < math.inf:
        forget = validated_views(named, build(), "forget importances", join=True)
    return dampen_checked(named, full, forget, full_importances, build, alpha, 1.0, candidates,
                          percentile)
