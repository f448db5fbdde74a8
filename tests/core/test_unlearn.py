"""ssd_unlearn and assd_unlearn compose the pieces exactly as the reference does."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import reference
import torch
from conftest import assert_bit_identical, loader, make_mlp, mlp_data, snapshot
from torch.utils.data import DataLoader, TensorDataset

from assd_core import adaptive_percentile, assd_unlearn, compute_importances, ssd_unlearn


def test_assd_follows_the_definition(model_and_data) -> None:
    model, retain, forget = model_and_data
    full = compute_importances(model, loader(retain))
    expected_model = copy.deepcopy(model)

    report = assd_unlearn(model, loader(forget), full, n_total=len(retain) + len(forget))

    p = adaptive_percentile(len(forget), len(retain) + len(forget))
    forget_imp = reference.importances(expected_model, forget, 8)
    ratios = reference.finite_ratios(
        {n: t.double() for n, t in full.items()}, forget_imp
    )
    assert report.percentile == p
    assert report.alpha == pytest.approx(reference.percentile(ratios, p), rel=1e-3)
    assert report.lam == 1.0
    n_params = sum(p.numel() for p in model.parameters())
    share = report.n_selected / n_params
    assert 0 < share <= 1 - p / 100 + 2 / n_params  # about (100 - p)% of the elements
    expected = reference.dampen(expected_model, full, compute_importances(expected_model, loader(forget)), report.alpha, 1.0)
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.detach().double(), expected[name], rtol=1e-6, atol=0)


def test_ssd_uses_the_given_alpha_and_lambda() -> None:
    model = make_mlp()
    retain, forget = mlp_data(40), mlp_data(10)
    full = compute_importances(model, loader(retain))
    twin = copy.deepcopy(model)
    report = ssd_unlearn(model, loader(forget), full, alpha=2.0, lam=0.5)
    expected = reference.dampen(twin, full, compute_importances(twin, loader(forget)), 2.0, 0.5)
    assert (report.alpha, report.lam, report.percentile) == (2.0, 0.5, None)
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.detach().double(), expected[name], rtol=1e-6, atol=0)


def test_assd_is_deterministic() -> None:
    model = make_mlp()
    retain, forget = mlp_data(40), mlp_data(10)
    full = compute_importances(model, loader(retain))
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    ra = assd_unlearn(a, loader(forget), full, n_total=50)
    rb = assd_unlearn(b, loader(forget), full, n_total=50)
    assert ra == rb
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert_bit_identical(pa.detach(), pb.detach())


def test_n_forget_defaults_to_the_dataset_length() -> None:
    model = make_mlp()
    full = compute_importances(model, loader(mlp_data(40)))
    report = assd_unlearn(model, loader(mlp_data(10)), full, n_total=50)
    assert report.percentile == adaptive_percentile(10, 50)


def test_empty_forget_loader_is_rejected_and_model_unchanged() -> None:
    model = make_mlp()
    full = compute_importances(model, loader(mlp_data(40)))
    empty = DataLoader(TensorDataset(torch.empty(0, 6), torch.empty(0, dtype=torch.long)), batch_size=8)
    before = snapshot(model)
    with pytest.raises(ValueError, match="at least one sample to forget"):
        assd_unlearn(model, empty, full, n_total=40)
    with pytest.raises(ValueError, match="empty"):
        assd_unlearn(model, empty, full, n_forget=3, n_total=40)
    with pytest.raises(ValueError, match="empty"):
        ssd_unlearn(model, empty, full, alpha=10)
    for name, value in snapshot(model).items():
        assert_bit_identical(value, before[name])


def test_n_forget_not_below_n_total_is_rejected() -> None:
    model = make_mlp()
    full = compute_importances(model, loader(mlp_data(40)))
    with pytest.raises(ValueError, match="n_forget=10 >= n_total=10"):
        assd_unlearn(model, loader(mlp_data(10)), full, n_total=10)


def test_full_importances_of_another_model_fail_before_any_work() -> None:
    model = make_mlp()
    other = make_mlp(hidden=5)
    full = compute_importances(other, loader(mlp_data(40)))
    with pytest.raises(ValueError, match="another model"):
        assd_unlearn(model, loader(mlp_data(10)), full, n_total=50)


def test_batch_size_mismatch_warns() -> None:
    model = make_mlp()
    full = compute_importances(model, loader(mlp_data(40), batch_size=8))
    with pytest.warns(UserWarning, match="batch_size=8 but the forget loader has batch_size=4"):
        assd_unlearn(model, loader(mlp_data(10), batch_size=4), full, n_total=50)


def test_forgetting_one_class_end_to_end() -> None:
    """After training on 10 classes, ASSD on one class removes it and spares the other nine."""
    from assd_core import accuracy

    torch.manual_seed(0)
    centers = torch.randn(10, 10)
    y = torch.arange(10).repeat_interleave(50)
    x = centers[y] + torch.randn(len(y), 10)
    model = torch.nn.Sequential(torch.nn.Linear(10, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    is_forget = y == 2
    retain = TensorDataset(x[~is_forget], y[~is_forget])
    forget = TensorDataset(x[is_forget], y[is_forget])
    full = compute_importances(model, loader(retain, 32))
    acc_r0, acc_f0 = accuracy(model, loader(retain)), accuracy(model, loader(forget))

    report = assd_unlearn(model, loader(forget, 32), full, n_total=len(y))

    acc_r1, acc_f1 = accuracy(model, loader(retain)), accuracy(model, loader(forget))
    assert acc_r0 > 95 and acc_f0 > 95
    assert acc_f1 < acc_f0 - 50, f"forget accuracy {acc_f0:.1f} -> {acc_f1:.1f}"
    assert acc_r1 > acc_r0 - 2, f"retain accuracy {acc_r0:.1f} -> {acc_r1:.1f}"
    assert report.fraction_selected < 0.05
    assert np.isfinite([acc_r1, acc_f1]).all()
