"""The fused numpy path (joined importances, candidates) against plain per-tensor torch, bit for bit.

The reference forms every ratio and factor with the obvious per-tensor torch expressions:
alpha is ``np.percentile`` of the concatenated finite ``forget / full`` ratios (float64), and
a parameter becomes ``p * min(lam * full / forget, 1)`` where ``forget > alpha * full``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
from conftest import assert_bit_identical, assert_unchanged, loader, snapshot
from torch import nn
from torch.utils.data import TensorDataset

from assd_core import (
    adaptive_percentile,
    assd_unlearn,
    compute_importances,
    dampen,
    select_alpha,
    ssd_unlearn,
)
from assd_core.dampening import signless
from assd_core.selection import alpha_joined


def reference_alpha(full: dict, forget: dict, percentile: float) -> float:
    ratios = torch.cat([(forget[name] / full[name]).reshape(-1) for name in full])
    return float(np.percentile(ratios[torch.isfinite(ratios)].double().numpy(), percentile))


def reference_dampened(model: nn.Module, full: dict, forget: dict, alpha: float, lam: float
                       ) -> tuple[dict[str, torch.Tensor], dict[str, int]]:
    """New parameter values and selected counts, one tensor at a time."""
    values, counts = {}, {}
    for name, p in model.named_parameters():
        d, f = full[name], forget[name]
        selected = f > alpha * d
        factor = (lam * d / f).clamp(max=1.0)
        values[name] = torch.where(selected, p.detach() * factor.to(p.dtype), p.detach())
        counts[name] = int(selected.sum())
    return values, counts


def mlp(sizes: tuple[int, ...], dtype: torch.dtype) -> nn.Module:
    layers: list[nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1]).to(dtype).eval()


def cnn(width: int, dtype: torch.dtype) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, 4),
    ).to(dtype).eval()


# (model, input shape, classes): 2x8 and width 4 take the exact selection (<= 16K elements);
# 150x100 and width 32 the sampled bracket and its candidate indices.
MODELS: dict[str, tuple[Callable[[torch.dtype], nn.Module], tuple[int, ...], int]] = {
    "mlp 2x8": (lambda dtype: mlp((6, 8, 8, 3), dtype), (6,), 3),
    "mlp 150x100": (lambda dtype: mlp((20, 150, 100, 5), dtype), (20,), 5),
    "cnn w4": (lambda dtype: cnn(4, dtype), (1, 8, 8), 4),
    "cnn w32": (lambda dtype: cnn(32, dtype), (1, 8, 8), 4),
}


def data(shape: tuple[int, ...], n: int, n_classes: int, seed: int, dtype: torch.dtype) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, *shape, generator=g).to(dtype),
                         torch.randint(0, n_classes, (n,), generator=g))


def setup(name: str, dtype: torch.dtype, n_forget: int) -> tuple[nn.Module, dict, TensorDataset]:
    make, shape, n_classes = MODELS[name]
    torch.manual_seed(0)
    model = make(dtype)
    full = compute_importances(model, loader(data(shape, 96, n_classes, 1, dtype), 16))
    return model, full, data(shape, n_forget, n_classes, 2, dtype)


def check_assd(model: nn.Module, full: dict, forget_data: TensorDataset, n_total: int) -> None:
    """assd_unlearn on ``model`` equals the reference on a copy, to the last bit."""
    twin = copy.deepcopy(model)
    forget = compute_importances(twin, loader(forget_data, 16))
    percentile = adaptive_percentile(len(forget_data), n_total)
    alpha = reference_alpha(full, forget, percentile)
    expected, counts = reference_dampened(twin, full, forget, alpha, 1.0)

    report = assd_unlearn(model, loader(forget_data, 16), full, n_total=n_total)

    assert report.alpha == alpha  # same float, to the last bit
    assert (report.percentile, report.lam) == (percentile, 1.0)
    assert report.selected_per_tensor == counts and report.n_selected == sum(counts.values())
    for name, p in model.named_parameters():
        assert_bit_identical(p.detach(), expected[name])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize(("n_forget", "n_total"), [(3, 1_000), (12, 400), (40, 60)])
def test_assd_matches_the_per_tensor_reference(name: str, dtype: torch.dtype, n_forget: int,
                                               n_total: int) -> None:
    model, full, forget_data = setup(name, dtype, n_forget)
    check_assd(model, full, forget_data, n_total)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", ["mlp 2x8", "mlp 150x100", "cnn w32"])
@pytest.mark.parametrize("case", ["zeros", "frozen", "ties", "negative zero", "full float64"])
def test_assd_matches_the_reference_on_special_importances(name: str, dtype: torch.dtype,
                                                           case: str) -> None:
    """Zeros in the full importances (infinite ratios), 0/0 (a frozen parameter: NaN ratios),
    ties (a tensor whose ratios are all exactly 0.5), -0.0, importances of another dtype."""
    model, full, forget_data = setup(name, dtype, 12)
    full = dict(full)
    names = list(full)
    if case == "zeros":
        for n in names[::2]:
            full[n] = torch.where(torch.rand(full[n].shape) < 0.3, 0.0, full[n])
    elif case == "frozen":
        first = dict(model.named_parameters())[names[0]]
        first.requires_grad_(False)  # its forget importances are 0: 0/0 where full is 0 too
        full[names[0]] = torch.where(torch.rand(first.shape) < 0.5, 0.0, full[names[0]])
    elif case == "ties":
        biggest = max(names, key=lambda n: full[n].numel())
        full[biggest] = 2 * compute_importances(copy.deepcopy(model), loader(forget_data, 16))[biggest]
    elif case == "negative zero":
        full[names[-1]] = torch.where(torch.rand(full[names[-1]].shape) < 0.5, -0.0, full[names[-1]])
    else:
        full = {n: t.double() for n, t in full.items()}
    check_assd(model, full, forget_data, n_total=600)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", ["mlp 2x8", "cnn w32"])
def test_dampen_and_ssd_match_the_reference(name: str, dtype: torch.dtype) -> None:
    model, full, forget_data = setup(name, dtype, 12)
    forget = compute_importances(model, loader(forget_data, 16))
    for lam, alpha in ((1.0, 1.0), (0.5, 3.0), (2.0, 0.25)):
        expected, counts = reference_dampened(model, full, forget, alpha, lam)
        for unlearn in (lambda m: dampen(m, full, forget, alpha=alpha, lam=lam),
                        lambda m: ssd_unlearn(m, loader(forget_data, 16), full, alpha=alpha, lam=lam)):
            twin = copy.deepcopy(model)
            report = unlearn(twin)
            assert report.selected_per_tensor == counts
            for n, p in twin.named_parameters():
                assert_bit_identical(p.detach(), expected[n])


def adversarial(seed: int, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Forget and full importances with ties, zeros, -0.0, subnormals and overflowing ratios."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5_000, 80_000))
    full, forget = (rng.random(n) ** 3).astype(dtype), (rng.random(n) ** 3).astype(dtype)
    kind = seed % 6
    if kind == 5:  # nearly all full importances zero: few finite ratios, none in a sample
        full[rng.random(n) < 0.999] = 0.0
    elif kind == 0:  # ties: ratios exactly 0.5, 1 or 2
        forget = (full * rng.choice([0.5, 1.0, 2.0], n, p=[0.6, 0.39, 0.01])).astype(dtype)
    elif kind == 1:  # zeros: NaN and inf ratios; for seed 1 also -0.0 (-inf ratios), while
        # seed 7 keeps the full importances signless (alpha_joined's shortcut applies)
        full[rng.random(n) < 0.1], forget[rng.random(n) < 0.1] = 0.0, 0.0
        if seed % 12 == 1:
            full[rng.random(n) < 0.05] = -0.0
    elif kind == 2:  # subnormal importances
        tiny = np.finfo(dtype).tiny
        full, forget = (full * tiny * 8).astype(dtype), (forget * tiny * 8).astype(dtype)
    elif kind == 3:  # ratios that overflow to inf
        full = (full * np.finfo(dtype).tiny * 1e6).astype(dtype)
        forget[: n // 50] = np.finfo(dtype).max / 4
    return forget, full


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(12))
def test_alpha_joined_and_its_candidates(seed: int, dtype: type) -> None:
    """alpha equals np.percentile of the finite ratios; the candidate indices, when given,
    contain every element that ``forget > alpha * full`` selects (and select the same ones).
    With full importances free of -0.0 (``signless``), the shortcut that counts the ratios
    below the bracket instead of the finite ones gives the same."""
    forget, full = adversarial(seed, dtype)
    clean = signless(full)
    assert clean == (not np.signbit(full).any() and bool(np.isfinite(full).all()))
    for percentile in (100 - math.log(1 + 100 * 0.002), 97.6, 99.99):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratios = forget / full
            expected = np.percentile(ratios[np.isfinite(ratios)].astype(np.float64), percentile)
            selected = np.flatnonzero(forget > np.multiply(full, expected))
            for shortcut in {False, clean}:
                alpha, candidates = alpha_joined(forget, full, percentile, shortcut)
                assert alpha == expected
                if candidates is not None:
                    assert np.all(np.diff(candidates) > 0)
                    assert np.isin(selected, candidates).all()
                    kept = candidates[forget[candidates] > np.multiply(full[candidates], alpha)]
                    assert np.array_equal(kept, selected)


@pytest.mark.parametrize("name", ["mlp 2x8", "mlp 150x100"])
def test_errors_leave_the_model_unchanged(name: str) -> None:
    model, full, forget_data = setup(name, torch.float32, 12)
    before = snapshot(model)
    first, last = list(full)[0], list(full)[-1]
    bad = {
        "contains NaN": {**full, last: torch.full_like(full[last], math.nan)},
        "has negative values": {**full, first: -1 - full[first]},
        "contains infinite values": {**full, first: torch.full_like(full[first], math.inf)},
    }
    for message, importances in bad.items():
        for unlearn in (lambda: assd_unlearn(model, loader(forget_data, 16), importances, n_total=600),
                        lambda: ssd_unlearn(model, loader(forget_data, 16), importances, alpha=1.0),
                        lambda: dampen(model, importances, full, alpha=1.0),
                        lambda: dampen(model, full, importances, alpha=1.0)):
            with pytest.raises(ValueError, match=message):
                unlearn()
            assert_unchanged(model, before)
    diverged = copy.deepcopy(model)  # NaN forget importances: refused, nothing written
    with torch.no_grad():
        next(diverged.parameters()).view(-1)[0] = math.nan
    before = snapshot(diverged)
    with pytest.raises(ValueError, match="contains NaN|no finite forget/full importance ratio"):
        assd_unlearn(diverged, loader(forget_data, 16), full, n_total=600)
    assert_unchanged(diverged, before)


@pytest.mark.parametrize("seed", range(6))
def test_above_the_join_limit_the_streamed_alpha_is_the_same(seed: int, monkeypatch) -> None:
    """Above ``FLAT_MAX`` elements select_alpha forms the ratios tensor by tensor in steps;
    with the limit and the step lowered, the bracketed selection and its exact fallback both
    give np.percentile of the finite ratios."""
    from assd_core import selection

    forget, full = adversarial(seed, np.float32)
    cuts = np.sort(np.random.default_rng(seed).choice(np.arange(1, forget.size), 5, replace=False))
    tensors = [{f"t{i}": torch.from_numpy(part.copy()) for i, part in enumerate(np.split(a, cuts))}
               for a in (full, forget)]
    percentile = 100 - math.log(1 + 100 * 0.002)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratios = forget / full
    expected = np.percentile(ratios[np.isfinite(ratios)].astype(np.float64), percentile)
    monkeypatch.setattr(selection, "FLAT_MAX", 1_000)
    monkeypatch.setattr(selection, "CHUNK", 4_096)
    assert select_alpha(*tensors, percentile) == expected
    monkeypatch.setattr(selection, "_bracketed_order_stats", lambda *args: None)
    assert select_alpha(*tensors, percentile) == expected


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", ["mlp 150x100", "cnn w32"])
def test_above_the_join_limit_assd_dampens_tensor_by_tensor_the_same(
        name: str, dtype: torch.dtype, monkeypatch) -> None:
    """Models above ``FLAT_MAX`` elements are dampened parameter by parameter (numpy views,
    torch where they do not apply): the same bits as the per-tensor reference."""
    from assd_core import _kernels

    monkeypatch.setattr(_kernels, "FLAT_MAX", 100)
    model, full, forget_data = setup(name, dtype, 12)
    check_assd(model, full, forget_data, n_total=600)
