"""ASSD's choice of alpha: an adaptive percentile of the forget/full importance ratios.

Paper eq. 4-5, as the authors' code runs them (book: Method, "Adaptive SSD"):

    p     = 100 - ln(1 + 100 * |Df| / |D|)
    alpha = P_p( []_Df / []_D )            over every parameter of the model, taken together

The paper prints the ratio of eq. 4 upside down (``[]_D / []_Df``); the selection rule
``[]_Df > alpha * []_D`` needs ``[]_Df / []_D``, which is what the code uses and what we use.
NaN ratios (0/0) and infinite ones (x/0) are ignored, as ``np.nanpercentile`` on the authors'
concatenated ratios effectively does for NaN (and as it must for inf, which no finite alpha can
separate).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from numbers import Integral, Real

import numpy as np
import torch
from torch import Tensor

from assd_core._kernels import (
    CHUNK,
    FLAT_MAX,
    order_stat_indices,
    percentile_linear,
    piece,
    two_order_stats,
)
from assd_core.dampening import check_tensor, validated_views

__all__ = ["adaptive_percentile", "alpha_from_views", "alpha_joined", "select_alpha"]

#: ``(tiny, eps)`` of each ratio dtype, for :func:`alpha_joined`'s bound.
_TINY_EPS = {t: (float(np.finfo(t).tiny), float(np.finfo(t).eps)) for t in (np.float32, np.float64)}
#: Half-width of the sampled bracket around the percentile, in binomial standard deviations.
_SIGMAS = 8.0


def adaptive_percentile(n_forget: int, n_total: int) -> float:
    """ASSD's percentile ``p = 100 - ln(1 + 100 * n_forget / n_total)`` (paper eq. 5).

    Args:
        n_forget: number of samples to forget, ``|Df|``.
        n_total: number of training samples, ``|D| = |Dr| + |Df|``.

    Returns:
        The percentile, in ``(100 - ln 101, 100)``; 97.60 for a 10% forget share, 99.31 for 1%.

    Raises:
        ValueError: ``n_forget`` or ``n_total`` is not a whole number (an int or numpy
            integer; bools are refused); ``n_forget <= 0``; ``n_forget >= n_total``.
    """
    for name, value in (("n_forget", n_forget), ("n_total", n_total)):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise ValueError(f"{name} must be a whole number of samples, got {value!r}")
    if n_forget <= 0:
        raise ValueError(f"n_forget={n_forget}: there must be at least one sample to forget")
    if n_forget >= n_total:
        raise ValueError(
            f"n_forget={n_forget} >= n_total={n_total}: the forget set must be a strict subset "
            "of the training set (n_total counts retained and forgotten samples together)"
        )
    return 100.0 - math.log(1.0 + 100.0 * n_forget / n_total)


def _flat_pairs(
    full: Mapping[str, Tensor], forget: Mapping[str, Tensor]
) -> tuple[list[np.ndarray | Tensor], list[np.ndarray | Tensor]]:
    """Flat views (:func:`flat_view`) of the ``forget`` and ``full`` tensors, name by name,
    after checking that names and shapes agree and that both are float tensors, finite, >= 0
    (a NaN ratio would be ignored silently, a negative one would move alpha)."""
    if set(full) != set(forget):
        raise ValueError(f"full and forget importances have different parameters (e.g. "
                         f"{sorted(set(full) ^ set(forget))[:5]}); compute both for the same model")
    for name in full:
        check_tensor("full importances", name, full[name])
        check_tensor("forget importances", name, forget[name])
        if full[name].shape != forget[name].shape:
            raise ValueError(f"importance shapes differ for {name!r}: full "
                             f"{tuple(full[name].shape)}, forget {tuple(forget[name].shape)}")
    named = list(full.items())
    full_views = validated_views(named, full, "full importances")[0]
    return validated_views(named, forget, "forget importances")[0], full_views


def _ratio_steps(
    forget: list[np.ndarray | Tensor], full: list[np.ndarray | Tensor], dtype: type[np.floating]
) -> Iterator[np.ndarray]:
    """``forget / full``, tensor by tensor, in steps of at most ``CHUNK`` ratios (cache-sized);
    each yielded array lives in a scratch buffer that the next step overwrites."""
    ratio = np.empty(min(CHUNK, max(map(len, full))), dtype=dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for f, d in zip(forget, full):
            for start in range(0, len(d), CHUNK):
                stop = min(len(d), start + CHUNK)
                yield np.divide(piece(f, start, stop, dtype), piece(d, start, stop, dtype),
                                out=ratio[: stop - start])


def _exact_order_stats(
    forget: list[np.ndarray | Tensor], full: list[np.ndarray | Tensor], dtype: type[np.floating],
    percentile: float,
) -> tuple[int, float, float]:
    """``(n finite ratios, lo-th smallest, hi-th smallest)`` by an introselect over all of them."""
    ratios = np.concatenate([r[np.isfinite(r)] for r in _ratio_steps(forget, full, dtype)])
    if not (n := ratios.size):
        return 0, math.nan, math.nan
    return (n, *two_order_stats(ratios, *order_stat_indices(n, percentile)))


def _sample_ratios(
    forget: list[np.ndarray | Tensor], full: list[np.ndarray | Tensor], dtype: type[np.floating], m: int
) -> np.ndarray:
    """The finite ones among ``m <= n`` ratios, one in each of ``m`` strata of ``n // m``, at a
    hashed offset; unsorted, as ``dtype``. Gathers only those: no pass over the importances."""
    offsets = np.cumsum([0] + [len(x) for x in full])
    stratum, k = int(offsets[-1]) // m, np.arange(m, dtype=np.uint64)
    jitter = k * 0x9E3779B97F4A7C15 >> 40 & (1 << (stratum.bit_length() - 1)) - 1  # < stratum
    positions = (k * stratum + jitter).astype(np.int64)  # ascending
    bounds = np.searchsorted(positions, offsets)
    parts: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    for i in np.flatnonzero(bounds[1:] > bounds[:-1]).tolist():
        local = positions[bounds[i] : bounds[i + 1]] - offsets[i]
        for source, part in zip((forget[i], full[i]), parts):
            part.append(source[local].astype(dtype, copy=False) if isinstance(source, np.ndarray)
                        else piece(source[torch.from_numpy(local).to(source.device)], 0, len(local),
                                   dtype))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratios = np.divide(np.concatenate(parts[0]), np.concatenate(parts[1]))
    return np.compress(np.isfinite(ratios), ratios)


def _bracket_ranks(m: int, percentile: float) -> tuple[int, int]:
    """Ranks, in a sample of ``m`` finite ratios, of a bracket ``_SIGMAS`` binomial deviations
    either side of the percentile; outside ``range(m)`` (open) past the ends or few above it."""
    q = percentile / 100
    delta = _SIGMAS * math.sqrt(q * (1 - q) / m) + _SIGMAS / m
    hi_rank = m if q + 3 * delta >= 1 else math.ceil((q + delta) * (m - 1))
    return math.floor((q - delta) * (m - 1)), hi_rank


def _bracketed_order_stats(
    forget: list[np.ndarray | Tensor], full: list[np.ndarray | Tensor], dtype: type[np.floating],
    percentile: float,
) -> tuple[int, float, float] | None:
    """:func:`_exact_order_stats` among the few ratios near the answer: a sample
    (:func:`_sample_ratios`) gives a bracket ``[a, b]`` (:func:`_bracket_ranks`); one pass counts
    the finite ratios and those below ``a`` and keeps those inside. None unless the counts put
    the order statistics inside (the answer never depends on the sample), or when the bracket
    holds too many ratios (heavy ties)."""
    n = sum(len(x) for x in full)
    sample = _sample_ratios(forget, full, dtype, min(n, 1 << 16, max(1 << 12, n >> 6)))
    if sample.size < 64:
        return None
    lo_rank, hi_rank = _bracket_ranks(sample.size, percentile)
    sample.partition([r for r in (lo_rank, hi_rank) if 0 <= r < sample.size])
    a = float(sample[lo_rank]) if lo_rank >= 0 else -math.inf
    b = float(sample[hi_rank]) if hi_rank < sample.size else math.inf
    cap = max(1 << 16, 16 * (hi_rank - lo_rank) * n // sample.size)
    n_finite = below = kept = 0
    parts = []
    for ratio in _ratio_steps(forget, full, dtype):
        finite = np.isfinite(ratio)
        count = int(np.count_nonzero(finite))
        inside = ratio >= a  # never NaN; +inf always, -inf only when a is
        if count < ratio.size:
            inside &= finite
        n_finite += count
        below += count - int(np.count_nonzero(inside))
        if b < math.inf:
            inside &= ratio <= b
        parts.append(ratio[inside])
        kept += parts[-1].size
        if kept > cap:
            return None
    if n_finite == 0:
        return 0, math.nan, math.nan
    lo, hi = order_stat_indices(n_finite, percentile)
    if not below <= lo <= hi < below + kept:
        return None
    return (n_finite, *two_order_stats(np.concatenate(parts), lo - below, hi - below))


def alpha_joined(forget: np.ndarray, full: np.ndarray, percentile: float,
                 signless_full: bool = False) -> tuple[float, np.ndarray | None]:
    """:func:`alpha_from_views` for two joined arrays (:func:`joined`), all ratios formed at
    once; and ascending indices of a superset of what ``forget > fl(alpha * full)`` selects.

    Above 16K elements, a sample of the ratios at an odd stride gives a lower bound ``a``; the
    infinite ratios and those ``>= a`` are kept, by index. If the counts put the order
    statistics there (else all finite ratios are searched), the indices are the superset when
    the lower one ``lo >= 4 tiny`` and ``a <= lo * (1 - 4 eps)``: as ``alpha >= lo``, a selected
    element has ``full = 0 < forget`` or ``forget > alpha * full * (1 - eps / 2)`` (subnormal:
    by the spacing, twice its error), so its ratio rounds to ``>= lo * (1 - eps) > a``.
    ``signless_full`` (:func:`~assd_core.dampening.signless`, and ``forget >= +0``): no ratio is
    -inf, so ``ratio >= a`` keeps the infinite ones and ``ratio < a`` counts the finite rest.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.divide(forget, full)
    if ratio.size > 1 << 14:
        sample = ratio[:: ratio.size // max(1 << 10, ratio.size >> 6) | 1]  # odd stride
        sample = np.compress(np.isfinite(sample), sample)
        if sample.size >= 64 and (rank := _bracket_ranks(sample.size, percentile)[0]) >= 0:
            a = float(np.partition(sample, rank)[rank])
            inside = ratio >= a  # never NaN; +inf always
            if signless_full:  # no -inf: the finite ratios are those below a and those kept
                n = int(np.count_nonzero(ratio < a))
            else:
                inside |= np.isinf(ratio)
                n = int(np.count_nonzero(np.isfinite(ratio)))
            index = np.flatnonzero(inside)
            values = np.compress(np.isfinite(kept := ratio[index]), kept)
            n += values.size if signless_full else 0
            lo, hi = order_stat_indices(n, percentile)
            if n and (below := n - values.size) <= lo:
                lo_value, hi_value = two_order_stats(values, lo - below, hi - below)
                tiny, eps = _TINY_EPS[ratio.dtype.type]
                tight = lo_value >= 4 * tiny and a <= lo_value * (1 - 4 * eps)
                return _alpha(n, lo_value, hi_value, percentile), index if tight else None
    finite = np.isfinite(ratio)
    if not (n := int(np.count_nonzero(finite))):
        return _alpha(0, math.nan, math.nan, percentile), None
    return _alpha(n, *two_order_stats(np.compress(finite, ratio), *order_stat_indices(n, percentile)),
                  percentile), None


def select_alpha(
    full_importances: Mapping[str, Tensor],
    forget_importances: Mapping[str, Tensor],
    percentile: float,
) -> float:
    """The ``percentile``-th percentile of the finite ``forget / full`` importance ratios.

    Taken once over every parameter of the model (global, not per layer), with numpy's
    default linear interpolation. The ratios are formed in the importances' dtype (float32
    for float32 importances) and interpolated in float64, so the result equals
    ``np.percentile(ratios.astype(np.float64), percentile)`` exactly.

    Any model size (``torch.quantile`` refuses more than 16M elements), O(n) time. Up to 4M
    elements, the importances are joined and all ratios formed at once (:func:`alpha_joined`).
    Above, ratios are formed in cache-sized steps of 64K elements; a fixed, spread sample
    brackets the percentile and only the ratios inside (about 1%) are kept and selected from;
    the counts check that the bracket holds the answer, else (practically never) an
    introselect over all finite ratios runs. Either way the result is exact. Peak extra memory:
    the kept ratios plus a few steps (the full introselect: twice the importances' size).

    Args:
        full_importances: ``[]_D`` (ASSD: computed on the retain set), name -> tensor.
        forget_importances: ``[]_Df``, same names and shapes. The two may have different float
            dtypes; ratios are formed in float64 if either is float64, else in float32.
        percentile: in ``[0, 100]``, e.g. :func:`adaptive_percentile`.

    Returns:
        alpha, a float.

    Raises:
        ValueError: checked in this order: ``percentile`` is not a real number in
            ``[0, 100]`` (bools are refused); the two dicts have different names; an entry is
            not a ``torch.Tensor``, not floating-point, or on the ``meta`` device; shapes
            differ for a name; an entry holds NaN, infinite or negative values (a NaN ratio
            would be ignored silently); no ratio is finite (for instance all forget
            importances are zero).
    """
    if isinstance(percentile, bool) or not isinstance(percentile, Real) or not 0 <= percentile <= 100:
        raise ValueError(f"percentile={percentile!r} must be a number in [0, 100]")
    return alpha_from_views(*_flat_pairs(full_importances, forget_importances), percentile)


def alpha_from_views(
    forget: Sequence[np.ndarray | Tensor], full: Sequence[np.ndarray | Tensor], percentile: float
) -> float:
    """:func:`select_alpha` on flat views (:func:`flat_view`) of matching tensors, listed in
    the same order, with ``percentile`` already checked. For callers that hold the views."""
    forget, full = list(forget), list(full)  # ratios in float64 if any importance is (torch's
    dtype = np.float64 if any(v.dtype in (np.float64, torch.float64) for v in forget + full) \
        else np.float32  # promotion with float32), else in float32
    if (total := sum(len(x) for x in full)) <= FLAT_MAX:  # small enough to join: one step
        if not total:
            return _alpha(0, math.nan, math.nan, percentile)
        f, d = (np.concatenate([piece(x, 0, len(x), dtype) for x in v]) for v in (forget, full))
        return alpha_joined(f, d, percentile)[0]
    found = _bracketed_order_stats(forget, full, dtype, percentile)
    return _alpha(*(found or _exact_order_stats(forget, full, dtype, percentile)), percentile)


def _alpha(n: int, lo_value: float, hi_value: float, percentile: float) -> float:
    if n == 0:
        raise ValueError("no finite forget/full importance ratio: the importances are all zero or "
                         "the full importances are zero wherever the forget ones are not; check "
                         "the loaders")
    return percentile_linear((lo_value, hi_value), n, percentile)
