"""Half-precision models: importances are summed in float32, so they select what float32 does.

In float16 the square of any gradient below about 2.4e-4 is 0 (float16's smallest subnormal is
6e-8): squaring half gradients in half would zero many importances and move alpha silently.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest
import reference
import torch
from conftest import assert_bit_identical, loader, make_mlp, mlp_data, snapshot
from torch import nn
from torch.utils.data import TensorDataset

from assd_core import (
    adaptive_percentile,
    assd_unlearn,
    compute_importances,
    dampen,
    load_importances,
    save_importances,
    select_alpha,
    ssd_unlearn,
)


def small_input_mlp() -> tuple[nn.Module, TensorDataset, TensorDataset]:
    """(model, retain 200, forget 40): an untrained MLP without BatchNorm on inputs of scale
    0.1, whose gradients are small enough for many float16 squares to underflow."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 3)).eval()
    x = torch.randn(240, 8)
    y = (x @ torch.randn(8, 3)).argmax(1)
    x = 0.1 * x
    return model, TensorDataset(x[:200], y[:200]), TensorDataset(x[200:], y[200:])


def as_dtype(data: TensorDataset, dtype: torch.dtype) -> TensorDataset:
    return TensorDataset(data.tensors[0].to(dtype), data.tensors[1])


def half_squared_importances(model: nn.Module, data: TensorDataset, batch_size: int) -> dict:
    """The importances as computed before the fix: loss, squares and sums in float16."""
    params = list(model.parameters())
    sums: list[torch.Tensor] = []
    n = 0
    for x, y in loader(data, batch_size):
        grads = torch.autograd.grad(nn.functional.cross_entropy(model(x), y), params)
        if sums:
            torch._foreach_addcmul_(sums, list(grads), list(grads))
        else:
            sums = torch._foreach_mul(list(grads), list(grads))
        n += 1
    return {name: s / n for (name, _), s in zip(model.named_parameters(), sums)}


def test_float16_model_selects_the_same_parameters_as_float32() -> None:
    model, retain, forget = small_input_mlp()
    half = copy.deepcopy(model).half()
    retain16, forget16 = as_dtype(retain, torch.float16), as_dtype(forget, torch.float16)
    p = adaptive_percentile(len(forget), len(retain) + len(forget))

    def select(m: nn.Module, full: dict, fgt: dict) -> tuple[float, dict, int]:
        alpha = select_alpha(full, fgt, p)
        masks = {n: fgt[n].float() > alpha * full[n].float() for n in full}
        report = dampen(copy.deepcopy(m), full, fgt, alpha=alpha)
        assert report.selected_per_tensor == {n: int(k.sum()) for n, k in masks.items()}
        return alpha, masks, sum(int((t == 0).sum()) for t in [*full.values(), *fgt.values()])

    full16 = compute_importances(half, loader(retain16, 32))
    forget_imp16 = compute_importances(half, loader(forget16, 32))
    assert {t.dtype for t in [*full16.values(), *forget_imp16.values()]} == {torch.float32}
    alpha32, masks32, zeros32 = select(model, *(compute_importances(model, loader(d, 32))
                                                for d in (retain, forget)))
    alpha16, masks16, zeros16 = select(half, full16, forget_imp16)
    alpha_old, masks_old, zeros_old = select(half, *(half_squared_importances(half, d, 32)
                                                     for d in (retain16, forget16)))

    assert zeros16 == zeros32  # 273 of 934 (dead ReLUs)
    assert alpha16 == pytest.approx(alpha32, rel=2e-3)  # 20.086 against 20.074
    assert all(torch.equal(masks16[n], masks32[n]) for n in masks32)  # 11 selected
    # before: squared in float16, 352 zeros; alpha 6.23 selects 17 elements, others than float32
    assert zeros_old > zeros32 + 50
    assert alpha_old < alpha32 / 2
    assert not all(torch.equal(masks_old[n], masks32[n]) for n in masks32)


def test_float16_model_through_assd_and_ssd_unlearn() -> None:
    model, retain, forget = small_input_mlp()
    half = copy.deepcopy(model).half()
    retain16, forget16 = as_dtype(retain, torch.float16), as_dtype(forget, torch.float16)
    full = compute_importances(half, loader(retain16, 32))
    forget_imp = compute_importances(half, loader(forget16, 32))
    twin, ssd = copy.deepcopy(half), copy.deepcopy(half)

    report = assd_unlearn(half, loader(forget16, 32), full, n_total=240)

    assert report.alpha == select_alpha(full, forget_imp, adaptive_percentile(40, 240))
    steps = dampen(twin, full, forget_imp, alpha=report.alpha)
    assert report == dataclasses.replace(steps, percentile=report.percentile)
    assert ssd_unlearn(ssd, loader(forget16, 32), full, alpha=report.alpha).selected_per_tensor \
        == report.selected_per_tensor
    for (_, a), (_, b), (_, c) in zip(half.named_parameters(), twin.named_parameters(),
                                      ssd.named_parameters()):
        assert a.dtype == torch.float16
        assert_bit_identical(a.detach(), b.detach())
        assert_bit_identical(a.detach(), c.detach())


def test_dampen_multiplies_float16_parameters_in_float32_and_rounds_once() -> None:
    model = nn.Linear(40, 30).half()
    g = torch.Generator().manual_seed(1)
    full = {n: torch.rand(p.shape, generator=g) ** 2 for n, p in model.named_parameters()}
    forget = {n: torch.rand(p.shape, generator=g) ** 2 for n, p in model.named_parameters()}
    alpha, lam = 0.7, 0.9
    before = snapshot(model)

    report = dampen(model, full, forget, alpha=alpha, lam=lam)

    assert report.n_selected > 0
    factor_first_differs = False
    for name, p in model.named_parameters():
        expected, factor_first = [], []
        for t, d, f in zip(before[name].reshape(-1).tolist(), full[name].reshape(-1).tolist(),
                           forget[name].reshape(-1).tolist()):
            d, f, t16 = np.float32(d), np.float32(f), np.float16(t)
            beta = min(np.float32(lam) * d / f, np.float32(1)) if f > np.float32(alpha) * d else None
            expected.append(t16 if beta is None else np.float16(np.float32(t) * beta))
            factor_first.append(t16 if beta is None else t16 * np.float16(beta))
        expected_t = torch.from_numpy(np.array(expected, dtype=np.float16)).reshape(p.shape)
        assert p.dtype == torch.float16
        assert_bit_identical(p.detach(), expected_t)
        factor_first_differs |= expected != factor_first
    assert factor_first_differs  # rounding the factor to float16 first errs twice


def test_bfloat16_model_still_works() -> None:
    model = make_mlp().to(torch.bfloat16)
    retain, forget = as_dtype(mlp_data(40), torch.bfloat16), as_dtype(mlp_data(10), torch.bfloat16)
    full = compute_importances(model, loader(retain))
    assert all(t.dtype == torch.float32 and bool(torch.isfinite(t).all()) for t in full.values())
    before = snapshot(model)

    report = assd_unlearn(model, loader(forget), full, n_total=50)

    assert report.n_selected > 0 and math.isfinite(report.alpha)
    changed = 0
    for name, p in model.named_parameters():
        assert p.dtype == torch.bfloat16 and bool(torch.isfinite(p).all())
        assert torch.all(p.detach().abs() <= before[name].abs())
        changed += int((p.detach() != before[name]).sum())
    assert 0 < changed <= report.n_selected
    for name, b in model.named_buffers():
        assert_bit_identical(b, before[name])


def test_float64_model_keeps_float64_importances() -> None:
    model, data = make_mlp().double(), mlp_data(20)
    fast = compute_importances(model, loader(as_dtype(data, torch.float64)))
    slow = reference.importances(model, data, 8)
    for name in slow:
        assert fast[name].dtype == torch.float64
        torch.testing.assert_close(fast[name], slow[name], rtol=1e-9, atol=1e-300)
    single = compute_importances(make_mlp(), loader(data))
    assert {t.dtype for t in single.values()} == {torch.float32}


def test_float16_importances_round_trip_through_a_file(tmp_path) -> None:
    model, retain, _ = small_input_mlp()
    half = copy.deepcopy(model).half()
    imp = compute_importances(half, loader(as_dtype(retain, torch.float16), 32))
    path = save_importances(tmp_path / "half.safetensors", imp, half)

    loaded = load_importances(path, half)

    assert (loaded.batch_size, loaded.n_samples, loaded.n_batches) == (32, 200, 7)
    for name in imp:
        assert_bit_identical(loaded[name], imp[name])  # float32 for a float16 model
    with pytest.raises(ValueError, match=r"another model.*0\.weight: file has shape \[16, 8\] "
                                         r"float16, model has \[16, 8\] float32"):
        load_importances(path, model)
    path32 = save_importances(tmp_path / "single.safetensors", imp, model)
    with pytest.raises(ValueError, match=r"another model.*file has shape \[16, 8\] float32, "
                                         r"model has \[16, 8\] float16"):
        load_importances(path32, half)
