"""Kernels shared by the core's modules: flat views, cache-sized steps, order statistics.

Private: the names here may change without notice. Public functions check their inputs and
then call these on flat views of the importance tensors.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

#: Elements per step when forming ratios or dampening: a step's temporaries stay in the CPU
#: cache.
CHUNK = 1 << 16
#: At most this many importance elements are joined into one array (:func:`joined`).
FLAT_MAX = 1 << 22

def percentile_linear(order_stat: tuple[float, float], n: int, percentile: float) -> float:
    """Numpy's default ('linear') percentile of ``n`` values from the two order statistics it
    needs, the ``floor(v)``-th and ``floor(v) + 1``-th smallest (0-based, the second clipped to
    ``n - 1``), ``v = (n - 1) * percentile / 100``: exactly ``np.percentile(values,
    float(percentile))`` for float64 values."""
    virtual = (n - 1) * (float(percentile) / 100)  # IEEE double, as numpy's float64
    gamma = virtual - math.floor(virtual)
    a, b = float(order_stat[0]), float(order_stat[1])
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def order_stat_indices(n: int, percentile: float) -> tuple[int, int]:
    """The 0-based ranks ``(floor(v), floor(v) + 1)`` that :func:`percentile_linear` needs."""
    lo = min(max(math.floor((n - 1) * (float(percentile) / 100)), 0), n - 1)
    return lo, min(lo + 1, n - 1)


def wide(dtype: torch.dtype) -> torch.dtype:
    """The dtype that squared gradients and importance ratios are formed in: float32 for
    float16 and bfloat16 (whose squares of small gradients underflow to 0), else ``dtype``."""
    return torch.float32 if dtype.is_floating_point and dtype.itemsize < 4 else dtype


#: torch dtypes that :func:`flat_view` shows as numpy arrays, and their numpy dtypes.
NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


def flat_view(t: Tensor) -> np.ndarray | Tensor:
    """Flat numpy view of a CPU float32/float64 tensor (a copy only if it is not contiguous);
    other tensors are returned flattened, as tensors."""
    if t.requires_grad:
        t = t.detach()
    if t.is_cpu and t.dtype in NUMPY_DTYPES:
        return t.numpy().reshape(-1)
    return t.reshape(-1)


def joined(tensors: Sequence[Tensor]) -> np.ndarray | None:
    """The tensors flattened and concatenated in order, shape ``(n,)``, when all are CPU float32
    or float64 tensors of one dtype, not requiring grad, ``n <= FLAT_MAX``; else None. A view
    (do not write into it) when they lie back to back in one storage (:func:`_adjacent`)."""
    dtype = tensors[0].dtype if tensors else None
    if dtype not in NUMPY_DTYPES or sum(t.numel() for t in tensors) > FLAT_MAX or any(
            not t.is_cpu or t.dtype != dtype or t.requires_grad for t in tensors):
        return None
    flat = _adjacent(tensors)
    return np.concatenate([t.numpy() for t in tensors], axis=None) if flat is None else flat


def _adjacent(tensors: Sequence[Tensor]) -> np.ndarray | None:
    """A flat numpy view over ``tensors`` if they are contiguous and lie back to back, in order,
    inside the first one's storage; else None."""
    first = tensors[0]
    storage, start, size = first.untyped_storage(), first.data_ptr(), first.element_size()
    end = start
    for t in tensors:
        if t.data_ptr() != end or not t.is_contiguous():
            return None
        end += t.numel() * size
    if end > storage.data_ptr() + storage.nbytes():  # not all in one allocation
        return None
    flat = first.new_empty(0).set_(storage, first.storage_offset(), ((end - start) // size,), (1,))
    return np.asarray(flat.numpy())


def piece(x: np.ndarray | Tensor, start: int, stop: int, dtype: type[np.floating]) -> np.ndarray:
    """Elements ``start:stop`` of a :func:`flat_view`, as a numpy array of ``dtype`` (a view
    when no conversion is needed)."""
    if isinstance(x, np.ndarray):
        values = x[start:stop]
        return values if values.dtype == dtype else values.astype(dtype)
    return x[start:stop].to("cpu", torch.float64 if dtype == np.float64 else torch.float32).numpy()


def two_order_stats(values: np.ndarray, lo: int, hi: int) -> tuple[float, float]:
    """The ``lo``-th and ``hi``-th smallest of ``values`` (0-based, ``hi`` is ``lo`` or
    ``lo + 1``), partitioning ``values`` in place: one introselect, then the minimum of what
    lies above position ``lo`` (the next order statistic)."""
    values.partition(lo)
    return float(values[lo]), float(values[lo] if hi == lo else values[lo + 1 :].min())


def module_flags(model: nn.Module) -> list[tuple[nn.Module, bool]]:
    """Every module's ``training`` flag, for :func:`restore_module_flags`: ``model.train(b)``
    would set them all alike and lose, for example, a BatchNorm frozen in eval mode."""
    return [(module, module.training) for module in model.modules()]


def restore_module_flags(flags: Sequence[tuple[nn.Module, bool]]) -> None:
    """Set each module's ``training`` flag back to what :func:`module_flags` recorded."""
    for module, training in flags:
        if module.training != training:  # nn.Module.__setattr__ is slow: only those that differ
            module.training = training


def check_labels(y: Any, logits: Tensor) -> None:
    """Raise ValueError unless ``logits`` pass :func:`check_logits` and ``y`` holds one integer
    class index per row of ``logits``.

    Args:
        y: the batch's labels; must be an integer tensor of shape ``(batch,)`` with values in
            ``[0, n_outputs)``.
        logits: the model's output for the batch, shape ``(batch, n_outputs)``.
    """
    check_logits(logits)
    if not isinstance(y, Tensor):
        raise ValueError(f"labels must be a tensor of class indices, got {type(y).__name__}")
    batch = logits.shape[0]
    if y.dim() != 1 or y.shape[0] != batch:
        raise ValueError(
            f"labels have shape {tuple(y.shape)} but must have shape (batch,) = ({batch},), one "
            "class index per sample: pass y.squeeze(1) for labels of shape (batch, 1), or "
            "y.argmax(1) for one-hot labels"
        )
    if y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == torch.bool:
        raise ValueError(
            f"labels have dtype {y.dtype}; class indices must be integers: pass y.long()"
        )
    n_outputs = logits.shape[1]
    if y.numel():
        low, high = (int(v) for v in torch.aminmax(y))
        if low < 0 or high >= n_outputs:
            bad = low if low < 0 else high
            raise ValueError(
                f"label {bad} is outside [0, {n_outputs}) for a model with {n_outputs} "
                f"outputs; labels must be class indices 0 to {n_outputs - 1}"
            )


def check_logits(logits: Any) -> None:
    """Raise ValueError unless the model's output is a tensor of shape ``(batch, n_classes)``."""
    if not isinstance(logits, Tensor):
        raise ValueError(
            f"the model's output is a {type(logits).__name__}, not a tensor; the model must "
            "return logits of shape (batch, n_classes) (wrap it to return e.g. output.logits)"
        )
    if logits.dim() != 2:
        raise ValueError(
            f"the model's output has shape {tuple(logits.shape)}; logits must have shape "
            "(batch, n_classes)"
        )


def split_batch(batch: Any) -> tuple[Any, Any]:
    """``(x, y)`` of a batch ``(x, y, *rest)``; a ValueError that says what is expected for any
    other structure (a dict, a single tensor)."""
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return batch[0], batch[1]
    keys = f" with keys {sorted(map(str, batch))[:5]}" if isinstance(batch, Mapping) else ""
    size = f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""
    raise ValueError(
        f"a batch is a {type(batch).__name__}{size}{keys}; batches must be tuples or lists "
        "(x, y, *rest): inputs first, then integer class labels. Wrap other loaders, e.g. "
        "((b['x'], b['y']) for b in loader) for batches that are dicts"
    )


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so
    that ``path`` never holds a partial file. The file gets the umask's default mode, as a plain
    ``open`` would give it (``tempfile.mkstemp`` would leave it readable by its owner only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
