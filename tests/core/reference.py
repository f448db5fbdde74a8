"""Slow, obviously correct float64 references for the fast code in assd_core.

Each function follows the definition in the book's Method chapter step by step, with explicit
Python loops; tests compare the fast implementation against them.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset


def importances(model: nn.Module, dataset: Dataset, batch_size: int) -> dict[str, torch.Tensor]:
    """Mean over batches of the squared gradient of the batch-mean cross-entropy, float64."""
    m = copy.deepcopy(model).double().eval()
    sums = {name: torch.zeros_like(p) for name, p in m.named_parameters()}
    n_batches = 0
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        x = torch.stack([item[0] for item in items]).double()
        y = torch.stack([item[1] for item in items])
        m.zero_grad(set_to_none=True)
        losses = [nn.functional.cross_entropy(m(x[i : i + 1]), y[i : i + 1]) for i in range(len(y))]
        # the batch-mean loss; eval-mode BatchNorm makes per-sample outputs independent
        (sum(losses) / len(losses)).backward()
        for name, p in m.named_parameters():
            if p.grad is not None:
                sums[name] += p.grad**2
        n_batches += 1
    return {name: s / n_batches for name, s in sums.items()}


def finite_ratios(full: dict[str, torch.Tensor], forget: dict[str, torch.Tensor]) -> list[float]:
    """Every finite forget/full ratio, element by element (ratio in the importances' dtype)."""
    out: list[float] = []
    for name in full:
        for d, f in zip(full[name].reshape(-1).tolist(), forget[name].reshape(-1).tolist()):
            np_type = np.float64 if full[name].dtype == torch.float64 else np.float32
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np_type(f) / np_type(d)
            if math.isfinite(r):
                out.append(float(r))
    return out


def percentile(values: list[float], p: float) -> float:
    """Linear-interpolation percentile from a full sort (numpy's default method)."""
    s = sorted(values)
    v = (len(s) - 1) * (p / 100)
    lo = math.floor(v)
    hi = min(lo + 1, len(s) - 1)
    g = v - lo
    return s[lo] + (s[hi] - s[lo]) * g


def dampen(
    model: nn.Module,
    full: dict[str, torch.Tensor],
    forget: dict[str, torch.Tensor],
    alpha: float,
    lam: float,
) -> dict[str, torch.Tensor]:
    """New float64 parameter values after SSD dampening, element by element."""
    out = {}
    for name, p in model.named_parameters():
        theta = p.detach().double().reshape(-1).tolist()
        d = full[name].double().reshape(-1).tolist()
        f = forget[name].double().reshape(-1).tolist()
        new = []
        for t, di, fi in zip(theta, d, f):
            if fi > alpha * di:
                beta = min(lam * di / fi, 1.0)
                new.append(beta * t)
            else:
                new.append(t)
        out[name] = torch.tensor(new, dtype=torch.float64).reshape(p.shape)
    return out


def accuracy(model: nn.Module, dataset: Dataset) -> float:
    m = copy.deepcopy(model).double().eval()
    correct = 0
    with torch.no_grad():
        for i in range(len(dataset)):
            x, y = dataset[i][0], dataset[i][1]
            correct += int(m(x.double()[None]).argmax(dim=1).item() == int(y))
    return 100.0 * correct / len(dataset)


def entropies(model: nn.Module, dataset: Dataset) -> list[float]:
    """Entropy of the softmax output, one sample at a time, float64."""
    m = copy.deepcopy(model).double().eval()
    out = []
    with torch.no_grad():
        for i in range(len(dataset)):
            probs = torch.softmax(m(dataset[i][0].double()[None])[0], dim=0).tolist()
            out.append(-sum(q * math.log(q) for q in probs if q > 0))
    return out


def entropy_mia(model: nn.Module, retain: Dataset, forget: Dataset, test: Dataset) -> float:
    from sklearn.linear_model import LogisticRegression

    h_r, h_t, h_f = entropies(model, retain), entropies(model, test), entropies(model, forget)
    x = np.array(h_r + h_t).reshape(-1, 1)
    y = np.array([1] * len(h_r) + [0] * len(h_t))
    clf = LogisticRegression(class_weight="balanced", solver="lbfgs").fit(x, y)
    return 100.0 * float(clf.predict(np.array(h_f).reshape(-1, 1)).mean())
