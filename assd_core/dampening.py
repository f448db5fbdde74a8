"""SSD's selection and dampening step (paper eq. 1-3), applied in place.

For every parameter element ``i``::

    selected  where  []_Df,i > alpha * []_D,i
    theta_i  <-  theta_i * min(lam * []_D,i / []_Df,i, 1)      (selected elements only)

The factor lies in ``[0, 1]``, so signs are kept and magnitudes only shrink. This is the
authors' code. The paper's Algorithm 1 (line 7) writes ``min(ratio * theta, theta)``, which for a
negative theta would keep the *larger* magnitude; eq. 3 is misprinted (``[]_Df / []_Df``).
Where ``[]_D,i = 0 < []_Df,i`` the factor is 0: the parameter is zeroed, never NaN.

Speed: models of up to 4M elements with contiguous CPU float32 or float64 parameters and
importances of one dtype go through numpy (on one thread several times faster than torch):
the importances joined into one array each, only the selected elements written, each value
from the same IEEE operations, in the same dtypes, as the per-tensor torch path (so results
are bit-identical); other models (GPU, float16, mixed dtypes, larger) take that torch path.

Dtypes: importances need not have their parameter's dtype (a float16 model's are float32).
Ratios and the selection are formed in the importances' dtype, at least float32; a float16 or
bfloat16 parameter is multiplied by its factor in float32 and rounded once to its own dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from numbers import Real

import numpy as np
import torch
from torch import Tensor, nn

from assd_core._kernels import NUMPY_DTYPES, flat_view, joined, wide

__all__ = ["DampeningReport", "check_importances", "dampen"]


@dataclass(frozen=True)
class DampeningReport:
    """What one dampening step did.

    Attributes:
        n_selected: parameter elements whose value was multiplied by a factor <= 1.
        n_parameters: parameter elements in the model.
        alpha: selection threshold used.
        lam: dampening constant lambda used.
        selected_per_tensor: name -> number of selected elements of that parameter tensor.
        percentile: ASSD's percentile ``p`` (None for plain SSD).

    Raises:
        dataclasses.FrozenInstanceError: a field is assigned after construction. The fields
            are not checked: :func:`dampen` fills them.
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


#: Unsigned integer of a float's width, and the largest bit pattern of a finite float >= +0
#: (above it: the sign bit, of -0.0 and negatives, or all exponent bits, of inf and NaN).
_BITS = {np.dtype(np.float32): (np.uint32, 0x7F7F_FFFF),
         np.dtype(np.float64): (np.uint64, 0x7FEF_FFFF_FFFF_FFFF)}


def signless(values: np.ndarray) -> bool:
    """True when ``values`` (float32/float64, non-empty) are all finite and >= +0, with no -0.0:
    one pass, the largest of their bit patterns read as unsigned integers. False means only
    that this test cannot tell (another dtype, or a value that fails it)."""
    bits = _BITS.get(values.dtype)
    return bits is not None and bool(np.maximum.reduce(values.view(bits[0]), axis=None) <= bits[1])


def finite_nonnegative(values: np.ndarray | Tensor) -> bool:
    """True when every element of ``values`` (a :func:`flat_view`) is finite and >= 0 (-0.0
    too): :func:`signless`, else a min and a max (a NaN makes both NaN, which compares false)."""
    if isinstance(values, np.ndarray):
        return not values.size or signless(values) or bool(
            np.minimum.reduce(values, axis=None) >= 0
            and np.maximum.reduce(values, axis=None) < math.inf)
    lo, hi = torch.aminmax(values) if values.numel() else (0, 0)
    return bool(lo >= 0) and bool(hi < math.inf)


def check_tensor(what: str, name: str, t: object) -> None:
    """Raise ValueError unless ``t`` is a floating-point tensor with data (not on ``meta``)."""
    if not isinstance(t, Tensor):
        raise ValueError(
            f"{what}[{name!r}] is a {type(t).__name__}, not a torch.Tensor; importances are "
            "tensors from compute_importances (convert an array with torch.from_numpy)"
        )
    if not t.dtype.is_floating_point:
        raise ValueError(
            f"{what}[{name!r}] has dtype {t.dtype}; importances are floating-point (squared "
            "gradients): recompute them with compute_importances"
        )
    if t.is_meta:
        raise ValueError(
            f"{what}[{name!r}] is on the 'meta' device and holds no values; compute the "
            "importances on a model with real weights"
        )


#: :func:`validated_views`' flat views, or one joined array and whether it is :func:`signless`.
Views = tuple[list[np.ndarray | Tensor], np.ndarray | None, bool]


def validated_views(
    named: Sequence[tuple[str, Tensor]], importances: Mapping[str, Tensor], what: str,
    join: bool = False,
) -> Views:
    """:func:`check_importances` for ``named = list(model.named_parameters())``; returns ``(the
    flat views (:func:`flat_view`) of the importances in parameter order, None, False)`` for
    reuse, or with ``join``, when :func:`joined` can join them, ``([], their concatenation,
    whether it is signless)`` (:func:`signless`: no -0.0, so no ratio over it is -inf)."""
    missing = [n for n, _ in named if n not in importances]
    if missing:
        raise ValueError(
            f"{what} have no entry for parameter {missing[0]!r}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + "; were they computed for another model? Recompute them with compute_importances(model, ...)."
        )
    if len(importances) != len(named):
        params = {n for n, _ in named}
        extra = [n for n in importances if n not in params]
        raise ValueError(
            f"{what} have an entry {extra[0]!r} that is not a parameter of this model; "
            "were they computed for another model?"
        )
    tensors = [importances[n] for n, _ in named]
    for (name, _), t in zip(named, tensors):
        check_tensor(what, name, t)
    if all(t.shape == p.shape for t, (_, p) in zip(tensors, named)):
        if (flat := joined(tensors) if join else None) is not None:
            if (clean := bool(flat.size) and signless(flat)) or finite_nonnegative(flat):
                return [], flat, clean
        elif all(map(finite_nonnegative, views := [flat_view(t) for t in tensors])):
            return views, None, False
    # Something is wrong: name the first offending tensor, in parameter order, and say what.
    for name, p in named:
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
    raise AssertionError("unreachable: the fast check failed but no tensor is at fault")


def check_importances(model: nn.Module, importances: Mapping[str, Tensor], what: str) -> None:
    """Raise ValueError unless ``importances`` match ``model``'s parameters and are finite, >= 0.

    The importances' dtype need not be the parameter's (a float16 model's are float32).

    Args:
        model: the model whose ``named_parameters()`` the importances must cover.
        importances: name -> tensor of the parameter's shape.
        what: how to call them in messages (e.g. ``"full importances"``).

    Raises:
        ValueError: checked in this order, naming the first offending entry (in parameter
            order): a parameter has no entry; an entry is not a parameter of the model; an
            entry is not a ``torch.Tensor``, not floating-point, or on the ``meta`` device;
            an entry's shape differs from its parameter's; an entry holds NaN or infinite
            values; an entry holds negative values.
    """
    validated_views(list(model.named_parameters()), importances, what)  # no join: no copy


def check_number(name: str, value: float) -> float:
    """``float(value)``, or a ValueError naming ``name`` unless it is a finite number >= 0.

    Accepts any real number: Python and numpy ints and floats, and 0-d (one-element) tensors;
    refuses bools, strings and other types, naming the type.
    """
    if isinstance(value, Tensor) and value.numel() == 1 and not value.dtype.is_complex \
            and value.dtype != torch.bool:
        value = value.item()
    if isinstance(value, bool) or isinstance(value, np.bool_) or not isinstance(value, Real):
        raise ValueError(
            f"{name}={value!r} is a {type(value).__name__}; it must be a finite number >= 0"
        )
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}={value!r} must be a finite number >= 0")
    return float(value)


def _dampen_tensor(p: Tensor, full: Tensor, forget: Tensor, alpha: float, lam: float) -> int:
    """The plain per-tensor torch version; returns the number of selected elements.

    Selection and factor are formed in the importances' common dtype, at least float32 (as
    :func:`~assd_core.selection.select_alpha` forms its ratios). A float16/bfloat16 parameter is
    multiplied in that dtype and rounded once to its own (a factor rounded to float16 first
    would err twice); other parameters are multiplied by the factor cast to their dtype.
    """
    dtype = wide(torch.promote_types(full.dtype, forget.dtype))
    full = full.to(p.device, dtype)
    forget = forget.to(p.device, dtype)
    selected = forget > alpha * full
    n = int(selected.sum())
    if n:
        factor = torch.where(selected, (lam * full / forget).clamp_(max=1.0), 1.0)
        if wide(p.dtype) != p.dtype:
            p.copy_(p * factor)
        else:
            p.mul_(factor.to(p.dtype))
    return n


def _dampen_numpy(
    params: Sequence[Tensor], full: np.ndarray, forget: np.ndarray, alpha: float, lam: float,
    candidates: np.ndarray | None,
) -> list[int]:
    """:func:`_dampen_tensor`'s IEEE operations, in its dtypes, through numpy views of contiguous
    CPU parameters of one dtype and the joined importances (shape ``(n,)``); tests only the
    ``candidates`` (ascending indices of a superset of the selection), if given; bumps version
    counters as in-place ops do. Returns the selected count of each parameter."""
    # Like torch, let alpha * full or lam * full / forget overflow to inf silently (an inf
    # threshold selects nothing; an inf factor is clamped to 1).
    with np.errstate(over="ignore"):
        if candidates is None:
            idx = np.flatnonzero(forget > np.multiply(full, alpha))
        else:
            idx = candidates[forget[candidates] > np.multiply(full[candidates], alpha)]
        factor = np.minimum(np.multiply(full[idx], lam) / forget[idx], 1.0)
    factor = factor.astype(NUMPY_DTYPES[params[0].dtype], copy=False)
    offsets = list(accumulate((p.numel() for p in params), initial=0))
    cuts = idx.searchsorted(offsets).tolist()
    for p, lo, hi, offset in zip(params, cuts, cuts[1:], offsets):
        if hi > lo:
            p.detach().numpy().reshape(-1)[idx[lo:hi] - offset] *= factor[lo:hi]
            torch.autograd.graph.increment_version(p)
    return [hi - lo for lo, hi in zip(cuts, cuts[1:])]


def dampen_checked(
    named: Sequence[tuple[str, Tensor]], full: Views, forget: Views,
    full_importances: Mapping[str, Tensor],
    forget_importances: Mapping[str, Tensor] | Callable[[], Mapping[str, Tensor]],
    alpha: float, lam: float, candidates: np.ndarray | None = None, percentile: float | None = None,
) -> DampeningReport:
    """:func:`dampen` once checked (``named = list(model.named_parameters())``; ``full``,
    ``forget``: :func:`validated_views`; ``forget_importances``: the dict, or a function that
    returns it). :func:`_dampen_numpy` over all parameters (with ``candidates``) when both are
    joined and the parameters are contiguous CPU float32/64 of one dtype, else per parameter:
    numpy where its views allow, torch (:func:`_dampen_tensor`) where not."""
    params = [p for _, p in named]
    d, f = full[1], forget[1]
    with torch.no_grad():
        if d is not None and f is not None and d.dtype == f.dtype and params and all(
                p.is_cpu and p.dtype == params[0].dtype and p.is_contiguous() for p in params
        ) and params[0].dtype in NUMPY_DTYPES:
            counts = _dampen_numpy(params, d, f, alpha, lam, candidates)
        else:
            if callable(forget_importances):
                forget_importances = forget_importances()
            views = zip(full[0], forget[0]) if full[0] and forget[0] else [(None, None)] * len(named)
            counts = [_dampen_numpy([p], dv, fv, alpha, lam, None)[0] if isinstance(dv, np.ndarray)
                      and isinstance(fv, np.ndarray) and dv.dtype == fv.dtype and p.is_cpu
                      and p.is_contiguous() and p.dtype in NUMPY_DTYPES else _dampen_tensor(
                          p, full_importances[name], forget_importances[name], alpha, lam)
                      for (name, p), (dv, fv) in zip(named, views)]
    return DampeningReport(sum(counts), sum(p.numel() for p in params), alpha, lam,
                           {name: n for (name, _), n in zip(named, counts)}, percentile)


def dampen(
    model: nn.Module,
    full_importances: Mapping[str, Tensor],
    forget_importances: Mapping[str, Tensor],
    *,
    alpha: float,
    lam: float = 1.0,
) -> DampeningReport:
    """Select parameters specialised to the forget set and dampen them, in place.

    Args:
        model: modified in place (parameters only, under ``torch.no_grad()``; buffers are
            never touched).
        full_importances: ``[]_D`` per parameter name, each of the parameter's shape, of
            any float dtype (ratios are formed in the importances' dtype, at least float32).
        forget_importances: ``[]_Df`` per parameter name.
        alpha: selection threshold, finite and >= 0.
        lam: lambda, finite and >= 0 (ASSD: 1).

    Returns:
        A :class:`DampeningReport`. Unselected elements stay bit-identical.

    Raises:
        ValueError: ``alpha`` or ``lam`` is not a real number (bool, str, a tensor of more
            than one element...) or is NaN, infinite or negative; ``full_importances``, then
            ``forget_importances``, fail :func:`check_importances` (a missing or extra key, not
            a float tensor with data, a shape mismatch, NaN/inf, negative values). Everything
            is checked before anything is written, so on any error the model is unchanged.
    """
    alpha = check_number("alpha", alpha)
    lam = check_number("lam", lam)
    named = list(model.named_parameters())
    full = validated_views(named, full_importances, "full importances", join=True)
    forget = validated_views(named, forget_importances, "forget importances", join=True)
    return dampen_checked(named, full, forget, full_importances, forget_importances, alpha, lam)
