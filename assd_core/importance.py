"""Diagonal "Fisher" importances of SSD, and their on-disk cache.

The importance of parameter ``i`` over a data set ``X`` (written ``[]_X`` in the paper) is the
mean over mini-batches of the squared gradient of the batch-mean cross-entropy,

    []_X,i = (1 / B) * sum_b (d L_b / d theta_i) ** 2,      L_b = mean_{(x, y) in batch b} CE(f(x), y)

exactly as the authors' SSD code computes it (book: Method, "Importances"). It is *not* a
per-sample empirical Fisher: it depends on the batch size, and a partial last batch counts as a
whole batch. The paper's "compute ``[]_D`` once, store it, discard D" is :func:`save_importances`
and :func:`load_importances`.

Precision: squared gradients are summed in at least float32. A float16 or bfloat16 model gets
float32 importances (its gradients are cast to float32 before squaring: in half precision the
square of any gradient below about 2.4e-4 is 0, which changes the selection); float32 and
float64 models get importances of their own dtype. The loss of a half model is formed on its
logits cast to float32.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Integral
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from tqdm import tqdm

from assd_core._kernels import (
    check_labels,
    module_flags,
    restore_module_flags,
    split_batch,
    wide,
    write_atomically,
)
from assd_core.dampening import check_importances, check_tensor

__all__ = [
    "Importances",
    "compute_importances",
    "load_importances",
    "model_fingerprint",
    "save_importances",
]


class Importances(dict[str, Tensor]):
    """Importances keyed by ``model.named_parameters()`` names, with how they were computed.

    A plain ``dict[str, Tensor]`` (each value has its parameter's shape) that also carries
    ``n_batches``, ``n_samples`` and ``batch_size`` (the loader's batch size, ``None`` when the
    loader has none). The metadata travel with :func:`save_importances`.

    Args:
        tensors: name -> tensor (or ``(name, tensor)`` pairs), as for ``dict``.
        n_batches: number of batches averaged.
        n_samples: number of samples seen.
        batch_size: the loader's batch size.

    Raises:
        TypeError, ValueError: ``tensors`` is neither a mapping nor an iterable of pairs
            (raised by ``dict``). Nothing else is checked here: the tensors are checked where
            they are used (:func:`check_importances`), the metadata by :func:`save_importances`.
    """

    def __init__(
        self,
        tensors: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] = (),
        *,
        n_batches: int | None = None,
        n_samples: int | None = None,
        batch_size: int | None = None,
    ) -> None:
        super().__init__(tensors)
        self.n_batches = n_batches
        self.n_samples = n_samples
        self.batch_size = batch_size

    def __repr__(self) -> str:
        n = sum(t.numel() for t in self.values())
        return (
            f"Importances({len(self)} tensors, {n} values, n_batches={self.n_batches}, "
            f"n_samples={self.n_samples}, batch_size={self.batch_size})"
        )


def compute_importances(
    model: nn.Module,
    loader: Iterable[Any],
    *,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> Importances:
    """Mean squared batch gradient of the cross-entropy, per parameter (SSD's importance).

    The model is left exactly as found: parameters, buffers, ``.grad`` fields, every
    module's ``training`` flag and the ``requires_grad`` flags (gradients are taken with
    ``torch.autograd.grad``, so no ``.grad`` is touched).

    Args:
        model: classifier mapping inputs ``x`` to logits of shape ``(batch, n_classes)``.
            Evaluated in ``eval()`` mode (BatchNorm uses its running statistics).
        loader: iterable of batches ``(x, y, *rest)``; ``y`` holds class indices, shape
            ``(batch,)``. Usually a ``DataLoader``; its ``batch_size`` is recorded. ``x`` is
            passed to the model as it is (a ``.half()`` model needs float16 inputs).
        device: where the batches are moved; the model must already live there. ``None``:
            the device of the model's first parameter.
        progress: show a tqdm progress bar over the batches.

    Returns:
        :class:`Importances`: for every ``model.named_parameters()`` entry a tensor of the
        parameter's shape, on the model's device, in the dtype the squares were summed in:
        the parameter's dtype for float32 and float64, float32 for float16 and bfloat16
        (casting back would make small importances 0 again). Parameters that receive no
        gradient (``requires_grad=False`` or unused) get zeros. With all parameters on one
        device and that dtype, the tensors are views of one buffer in parameter order, which
        :func:`~assd_core.dampen` and :func:`~assd_core.assd_unlearn` read without copying.

    Raises:
        ValueError: ``device`` is not the device of the model's parameters (checked before any
            batch); a batch is not a tuple or list ``(x, y, *rest)``; the model's output is not
            a tensor of shape ``(batch, n_classes)``; a batch's labels are not a tensor, not of
            shape ``(batch,)``, not of an integer dtype, or outside ``[0, n_classes)``; the
            loader yields no batch. The model is left as found.
        RuntimeError: ``device`` is not a device name (raised by ``torch.device``).
    """
    return _importances(model, list(model.named_parameters()), loader, device, progress)[1]()


def _importances(
    model: nn.Module, named: Sequence[tuple[str, Tensor]], loader: Iterable[Any],
    device: torch.device | str | None = None, progress: bool = False,
) -> tuple[Tensor | None, Callable[[], Importances]]:
    """:func:`compute_importances` for ``named = list(model.named_parameters())``: the joined
    importances (or None) and a function that builds the :class:`Importances` (views of them).

    With all parameters on one device and summing dtype, the first batch's squares fill one
    flat buffer in parameter order (zeros where there is no gradient); later batches add into
    per-parameter views of it with the same fused ``addcmul_`` (a flat one could round some
    elements differently): every value is the per-parameter computation's."""
    model_device = named[0][1].device if named else torch.device("cpu")
    device = model_device if device is None else torch.device(device)
    if device.type != model_device.type or (
        device.index is not None and model_device.index is not None and device.index != model_device.index
    ):
        raise ValueError(
            f"device={device} but the model's parameters are on {model_device}; "
            f"move the model first (model.to({str(device)!r})) or pass device=None."
        )

    trainable = [(name, p) for name, p in named if p.requires_grad]
    names = [name for name, _ in trainable]
    params = [p for _, p in trainable]
    dtype = wide(named[0][1].dtype) if named else None
    one_buffer = bool(named) and all(
        p.device == model_device and wide(p.dtype) == dtype for _, p in named)
    flat: Tensor | None = None
    sums: dict[str, Tensor] = {}  # name -> running sum of squared gradients, from g * g on

    flags = module_flags(model)
    if any(training for _, training in flags):  # eval() sets every module's flag: skip if set
        model.eval()
    n_batches = 0
    n_samples = 0
    try:
        batches = tqdm(loader, desc="importances", leave=False) if progress else loader
        for batch in batches:
            x, y = (t.to(device) if isinstance(t, Tensor) else t for t in split_batch(batch))
            with torch.enable_grad():
                logits = model(x)
                check_labels(y, logits)
                loss = nn.functional.cross_entropy(logits.to(wide(logits.dtype)), y)
                grads = torch.autograd.grad(loss, params, allow_unused=True) if params else ()
            # square in at least float32: a float16 square of a gradient < 2.4e-4 is 0
            grads = tuple(g if g is None or g.dtype == wide(g.dtype) else g.to(wide(g.dtype))
                          for g in grads)
            if n_batches == 0 and one_buffer and dtype is not None:  # g * g, joined
                got = dict(zip(names, grads))
                flat = torch.cat([g.reshape(-1) if (g := got.get(name)) is not None else
                                  torch.zeros(p.numel(), dtype=dtype, device=device)
                                  for name, p in named])
                flat.mul_(flat)
            else:
                if flat is not None and not sums:  # 2nd batch: into views (0 + g * g == g * g)
                    sums = dict(zip((n for n, _ in named), _views(flat, named)))
                old = [(sums[n], g) for n, g in zip(names, grads) if g is not None and n in sums]
                new = [(n, g) for n, g in zip(names, grads) if g is not None and n not in sums]
                if old:
                    a_list, g_list = zip(*old)
                    torch._foreach_addcmul_(list(a_list), list(g_list), list(g_list))
                if new:
                    n_list, g_list = zip(*new)
                    sums.update(zip(n_list, torch._foreach_mul(list(g_list), list(g_list))))
            n_batches += 1
            n_samples += len(y)
    finally:
        restore_module_flags(flags)

    if n_batches == 0:
        raise ValueError(
            "the loader yielded no batch, so no importance can be computed; "
            "check that the data set (e.g. the forget set) is not empty."
        )
    if n_batches > 1:  # x / 1 == x exactly: one batch needs no division
        if flat is not None:
            flat.div_(float(n_batches))
        elif sums:
            torch._foreach_div_(list(sums.values()), float(n_batches))
    def build() -> Importances:
        views = _views(flat, named) if flat is not None else [
            sums[name] if name in sums else torch.zeros_like(p, dtype=wide(p.dtype))
            for name, p in named]
        return Importances(zip((name for name, _ in named), views), n_batches=n_batches,
                           n_samples=n_samples, batch_size=getattr(loader, "batch_size", None))
    return flat, build


def _views(flat: Tensor, named: Sequence[tuple[str, Tensor]]) -> list[Tensor]:
    """Views of ``flat`` with the parameters' shapes, in order."""
    pieces = flat.split_with_sizes([p.numel() for _, p in named])
    return [t.view(p.shape) for (_, p), t in zip(named, pieces)]


def _parameter_table(model: nn.Module) -> list[list[Any]]:
    return [[name, list(p.shape), str(p.dtype).removeprefix("torch.")] for name, p in model.named_parameters()]


def model_fingerprint(model: nn.Module) -> str:
    """SHA-256 (hex) of the model's parameter names, shapes and dtypes, in order.

    Args:
        model: any module; only ``named_parameters()`` enter the hash, never their values.

    Returns:
        64 hex digits, equal for two models of the same architecture and dtype.

    Raises:
        AttributeError: ``model`` has no ``named_parameters`` (not a module). Nothing else is
            checked: a module without parameters has a fingerprint too.
    """
    text = json.dumps(_parameter_table(model), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _describe_mismatch(stored: list[list[Any]], model: nn.Module, limit: int = 5) -> str:
    ours = {name: (shape, dtype) for name, shape, dtype in _parameter_table(model)}
    theirs = {name: (shape, dtype) for name, shape, dtype in stored}
    problems = [f"missing in file: {n}" for n in ours if n not in theirs]
    problems += [f"not in model: {n}" for n in theirs if n not in ours]
    problems += [
        f"{n}: file has shape {theirs[n][0]} {theirs[n][1]}, model has {ours[n][0]} {ours[n][1]}"
        for n in ours
        if n in theirs and ours[n] != theirs[n]
    ]
    if not problems:
        problems = ["parameter order differs"]
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return "; ".join(problems[:limit]) + more


def _count(name: str, value: object) -> int | None:
    """``value`` as an int (None stays None); a ValueError unless it is a whole number >= 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(
            f"{name}={value!r} ({type(value).__name__}) must be None or a whole number >= 1: "
            "it records how the importances were computed"
        )
    return int(value)


def save_importances(
    path: str | os.PathLike[str],
    importances: Mapping[str, Tensor],
    model: nn.Module,
    *,
    batch_size: int | None = None,
    n_samples: int | None = None,
) -> Path:
    """Store importances as a safetensors file, with the model's fingerprint.

    Args:
        path: file to write (conventionally ``*.safetensors``); written atomically
            (temporary file in the same folder, then rename).
        importances: one tensor per ``model.named_parameters()`` name, of that shape.
        model: the model they belong to (only names, shapes and dtypes are read).
        batch_size, n_samples: how they were computed; default to the attributes of an
            :class:`Importances`.

    Returns:
        The path written.

    Raises:
        ValueError: checked in this order, before anything is written: an entry is not a
            ``torch.Tensor``, not floating-point, or on the ``meta`` device; ``batch_size``,
            ``n_samples`` (given, else the importances' attributes) or the importances'
            ``n_batches`` is not None or a whole number >= 1; the names or shapes differ from
            the model's parameters (the message lists the differences); a value is NaN,
            infinite or negative.
    """
    from safetensors.torch import save

    table = _parameter_table(model)
    names = [row[0] for row in table]
    for name in names:  # tensors first: a shape is read below
        if name in importances:
            check_tensor("the importances to save", name, importances[name])
    counts = {key: _count(key, value if value is not None else getattr(importances, key, None))
              for key, value in (("batch_size", batch_size), ("n_samples", n_samples),
                                 ("n_batches", None))}
    if set(importances) != set(names) or any(
        list(importances[n].shape) != shape for n, shape, _ in table
    ):
        stored = [[n, list(t.shape), str(t.dtype).removeprefix("torch.")] for n, t in importances.items()]
        raise ValueError(
            "the importances do not belong to this model: " + _describe_mismatch(stored, model)
        )
    check_importances(model, importances, "the importances to save")  # float, finite, >= 0
    meta = {
        "format": "assd_core.importances/1",
        "fingerprint": model_fingerprint(model),
        "parameters": json.dumps(table),
        **{key: json.dumps(value) for key, value in counts.items()},
    }
    tensors = {n: importances[n].detach().to("cpu").contiguous() for n in names}
    path = Path(path)
    write_atomically(path, save(tensors, metadata=meta))
    return path


def load_importances(path: str | os.PathLike[str], model: nn.Module) -> Importances:
    """Load importances saved by :func:`save_importances`, checked against ``model``.

    Args:
        path: the ``.safetensors`` file written by :func:`save_importances`.
        model: the model the importances are for; its parameter names, shapes and dtypes
            must match those stored (it is not modified).

    Returns:
        :class:`Importances` on the device of each parameter, with the stored
        ``batch_size``, ``n_samples`` and ``n_batches``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: each message names the path: the file cannot be read as safetensors
            (damaged, truncated); its ``format`` metadata is not ``assd_core.importances/1``;
            it lacks one of the metadata ``fingerprint``, ``parameters``, ``batch_size``,
            ``n_samples``, ``n_batches``, or their values are not valid JSON (whole counts >= 1
            or null for the last three); it was saved for a model with other parameter names,
            shapes or dtypes (fingerprint; the message lists the differences); its tensors fail
            :func:`check_importances` against ``model``, or their data cannot be read. The
            importances' own dtype is not compared (a float16 model's are float32).
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no importance file at {path}; compute one with compute_importances() and "
            "store it with save_importances()."
        )
    redo = "recompute the importances with compute_importances() and save them again"
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as error:  # safetensors raises its own SafetensorError for damaged files
        raise ValueError(
            f"{path} cannot be read as a safetensors file ({error}); it may be truncated or "
            f"not an importance file: {redo}"
        ) from error
    if meta.get("format") != "assd_core.importances/1":
        raise ValueError(f"{path} is not an importance file written by assd_core.save_importances")
    missing = sorted({"fingerprint", "parameters", "batch_size", "n_samples", "n_batches"}
                     - set(meta))
    if missing:
        raise ValueError(f"{path} lacks the metadata {missing} of an importance file: {redo}")
    try:
        stored = json.loads(meta["parameters"])
        counts = {key: _count(key, json.loads(meta[key]))
                  for key in ("batch_size", "n_samples", "n_batches")}
    except ValueError as error:  # JSONDecodeError is a ValueError
        raise ValueError(f"{path} has damaged metadata ({error}): {redo}") from None
    if meta["fingerprint"] != model_fingerprint(model):
        raise ValueError(
            f"the importances in {path} were computed for another model: "
            + _describe_mismatch(stored, model)
            + ". Recompute them for this model with compute_importances()."
        )
    try:
        tensors = load_file(str(path))
        check_importances(model, tensors, "the stored importances")
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
    except Exception as error:  # damaged tensor data
        raise ValueError(f"{path} cannot be read ({error}): {redo}") from error
    devices = {name: p.device for name, p in model.named_parameters()}
    return Importances(
        {name: tensors[name].to(devices[name]) for name in devices},
        **counts,
    )
