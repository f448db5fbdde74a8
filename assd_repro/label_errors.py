"""Simulated data entry errors: give a random share of the training labels a wrong class.

The paper's supply-chain experiment (section 6.2) makes a random ``error%`` of training rows
wrong; the forget set Df is those rows *with their wrong labels*. The authors' notebook changes
labels with three sequential ``if`` statements (not ``elif``), so a label may be changed twice
and land back on its true value; ``mode="flip"`` (default) moves every chosen label to a
different class, uniformly; ``mode="authors"`` reproduces the sequential-``if`` behaviour for
comparison (book: Method, "Label errors").
"""

from __future__ import annotations

from typing import Literal, TypeVar

import numpy as np
import torch
from numpy.typing import ArrayLike

__all__ = ["inject_label_errors"]

Labels = TypeVar("Labels", np.ndarray, torch.Tensor)


def _as_int_array(labels: ArrayLike | torch.Tensor) -> np.ndarray:
    arr = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.mod(arr, 1) == 0):
            raise ValueError("labels must be whole class indices 0..n_classes-1")
        big = np.flatnonzero(np.abs(arr) > np.iinfo(np.int64).max)
        if big.size:  # would wrap to -2**63 when cast below
            raise ValueError(f"labels[{big[0]}]={arr[big[0]].item()!r} is not a class index")
    if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
        index = int(arr.argmax())
        raise ValueError(f"labels[{index}]={int(arr[index])} is not a class index")
    return arr.astype(np.int64)


def inject_label_errors(
    labels: Labels,
    fraction: float,
    n_classes: int,
    *,
    seed: int | np.random.Generator,
    mode: Literal["flip", "authors"] = "flip",
) -> tuple[Labels, Labels]:
    """Give ``round(fraction * N)`` randomly chosen labels another class.

    Args:
        labels: class indices in ``[0, n_classes)``, shape ``(N,)``; numpy array or tensor
            (not modified).
        fraction: share of labels to corrupt, in ``(0, 1)`` (1% is ``0.01``).
        n_classes: number of classes, at least 2.
        seed: seed of the random choice (``numpy.random.default_rng``; same seed, same errors),
            or a ``numpy.random.Generator`` to draw from. ``None`` is refused: it would pick
            other rows on every call.
        mode: ``"flip"``: each chosen label moves to one of the other ``n_classes - 1``
            classes, uniformly. ``"authors"``: for ``c = 0, 1, ..., n_classes - 1`` in turn, a
            chosen label equal to ``c`` is replaced by a uniform choice among the other
            classes; later steps can change it again, back to its true value included.

    Returns:
        ``(noisy, indices)``: the new labels, shape ``(N,)``, and the sorted indices of the
        chosen rows, shape ``(round(fraction * N),)`` (in ``"authors"`` mode some of them may
        carry their true label again), both of the input's type (numpy or torch, int64).

    Raises:
        ValueError: ``fraction`` is not an int or float in (0, 1) (bools and NaN refused);
            ``n_classes`` is not an integer >= 2; ``seed`` is neither an int nor a
            ``numpy.random.Generator`` (None refused); ``mode`` is not ``"flip"`` or
            ``"authors"``; ``labels`` is not one-dimensional, holds a value that is not a
            whole number or beyond the int64 range, or one outside ``[0, n_classes)``;
            ``round(fraction * N)`` is 0. All before a label is drawn; ``labels`` is never
            modified.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ValueError(f"fraction={fraction!r} must lie in (0, 1), e.g. 0.05 for 5% label errors")
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes={n_classes!r} must be an integer >= 2")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer, np.random.Generator)):
        raise ValueError(
            f"seed={seed!r} must be an int (or a numpy.random.Generator): with another seed "
            "the wrong labels would not be reproducible"
        )
    if mode not in ("flip", "authors"):
        raise ValueError(f"mode={mode!r} is unknown; use 'flip' or 'authors'")
    clean = _as_int_array(labels)
    bad = np.flatnonzero((clean < 0) | (clean >= n_classes))
    if bad.size:
        raise ValueError(
            f"labels[{bad[0]}]={clean[bad[0]]} is outside [0, {n_classes}); "
            f"{bad.size} label(s) out of range: check n_classes"
        )
    n_errors = int(round(fraction * clean.size))
    if n_errors == 0:
        raise ValueError(
            f"fraction={fraction} of {clean.size} labels selects no row; use a larger fraction"
        )

    rng = np.random.default_rng(seed)
    indices = np.sort(rng.choice(clean.size, size=n_errors, replace=False))
    noisy = clean.copy()
    chosen = noisy[indices]
    if mode == "flip":
        chosen = (chosen + rng.integers(1, n_classes, size=n_errors)) % n_classes
    else:
        for c in range(n_classes):
            hit = chosen == c
            others = rng.integers(0, n_classes - 1, size=int(hit.sum()))
            chosen[hit] = others + (others >= c)
    noisy[indices] = chosen

    if isinstance(labels, torch.Tensor):
        return torch.from_numpy(noisy).to(labels.device), torch.from_numpy(indices)
    return noisy, indices
