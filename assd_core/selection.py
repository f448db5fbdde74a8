"""ASSD's choice of alpha: an adaptive percentile of the forget/full importance ratios.

Paper eq. 4-5, as the authors' code runs them (``../shared/REFERENCE.md`` section 1):

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
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import torch
from torch import Tensor

__all__ = ["adaptive_percentile", "select_alpha", "percentile_linear"]

#: Elements processed per step when forming ratios; bounds the temporaries of select_alpha.
_CHUNK = 1 << 22


def adaptive_percentile(n_forget: int, n_total: int) -> float:
    """ASSD's percentile ``p = 100 - ln(1 + 100 * n_forget / n_total)`` (paper eq. 5).

    Args:
        n_forget: number of samples to forget, ``|Df|``.
        n_total: number of training samples, ``|D| = |Dr| + |Df|``.

    Returns:
        The percentile in ``(100 - ln 101, 100)``: 97.60 for a 10% forget share, 99.31 for 1%.

    Raises:
        ValueError: unless ``0 < n_forget < n_total`` (both whole numbers).
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


def percentile_linear(order_stat: tuple[float, float], n: int, percentile: float) -> float:
    """Numpy's default ('linear') percentile from the two order statistics it needs.

    Args:
        order_stat: the ``floor(v)``-th and ``floor(v) + 1``-th smallest values (0-based,
            the second clipped to ``n - 1``), where ``v = (n - 1) * percentile / 100``.
        n: number of values.
        percentile: in ``[0, 100]``.

    Returns:
        Exactly what ``np.percentile(values, percentile)`` returns for float64 values.
    """
    q = np.true_divide(percentile, 100)
    virtual = (n - 1) * q
    gamma = virtual - np.floor(virtual)
    a, b = np.float64(order_stat[0]), np.float64(order_stat[1])
    diff = b - a
    return float(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)


def _order_stat_indices(n: int, percentile: float) -> tuple[int, int]:
    virtual = (n - 1) * np.true_divide(percentile, 100)
    lo = int(min(max(np.floor(virtual), 0), n - 1))
    return lo, min(lo + 1, n - 1)


def _finite_ratios(full: Mapping[str, Tensor], forget: Mapping[str, Tensor]) -> np.ndarray:
    """All finite ``forget / full`` ratios, concatenated into one preallocated array."""
    if set(full) != set(forget):
        missing = sorted(set(full) ^ set(forget))[:5]
        raise ValueError(
            f"full and forget importances have different parameters (e.g. {missing}); "
            "compute both for the same model"
        )
    dtype = torch.float32
    for name in full:
        if full[name].shape != forget[name].shape:
            raise ValueError(
                f"importance shapes differ for {name!r}: full {tuple(full[name].shape)}, "
                f"forget {tuple(forget[name].shape)}"
            )
        dtype = torch.promote_types(dtype, torch.promote_types(full[name].dtype, forget[name].dtype))
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    torch_dtype = torch.float64 if np_dtype is np.float64 else torch.float32
    total = sum(t.numel() for t in full.values())
    out = np.empty(total, dtype=np_dtype)
    pos = 0
    with torch.no_grad():
        for name in full:
            f_all, d_all = forget[name].reshape(-1), full[name].reshape(-1)
            for start in range(0, f_all.numel(), _CHUNK):
                f = f_all[start : start + _CHUNK].detach().to("cpu", torch_dtype).numpy()
                d = d_all[start : start + _CHUNK].detach().to("cpu", torch_dtype).numpy()
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.divide(f, d)
                finite = np.isfinite(ratio)
                count = int(np.count_nonzero(finite))
                np.compress(finite, ratio, out=out[pos : pos + count])
                pos += count
    return out[:pos]


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

    Works for any model size (``torch.quantile`` refuses more than 16M elements): the finite
    ratios are written into one array of the importances' size (chunk by chunk) and the two
    order statistics are found by an in-place introselect, O(n) time. Peak extra memory: one
    array of the importances' size plus a few chunks of 4M elements.

    Args:
        full_importances: ``[]_D`` (ASSD: computed on the retain set), name -> tensor.
        forget_importances: ``[]_Df``, same names and shapes.
        percentile: in ``[0, 100]``, e.g. :func:`adaptive_percentile`.

    Returns:
        alpha, a float.

    Raises:
        ValueError: percentile outside [0, 100]; names or shapes differ; no finite ratio
            (for instance all forget importances are zero).
    """
    if isinstance(percentile, bool) or not isinstance(percentile, Real) or not 0 <= percentile <= 100:
        raise ValueError(f"percentile={percentile!r} must be a number in [0, 100]")
    ratios = _finite_ratios(full_importances, forget_importances)
    n = ratios.size
    if n == 0:
        raise ValueError(
            "no finite forget/full importance ratio: the importances are all zero or the full "
            "importances are zero wherever the forget ones are not; check the loaders"
        )
    lo, hi = _order_stat_indices(n, percentile)
    ratios.partition(sorted({lo, hi}))
    return percentile_linear((float(ratios[lo]), float(ratios[hi])), n, percentile)
