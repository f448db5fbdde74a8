"""dampen against the element-by-element reference, and its invariants (hypothesis)."""

from __future__ import annotations

import copy

import pytest
import reference
import torch
from conftest import assert_bit_identical, assert_unchanged, make_cnn, make_mlp, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from assd_core import DampeningReport, dampen


def random_importances(model: nn.Module, seed: int, zero_share: float = 0.2) -> tuple[dict, dict]:
    g = torch.Generator().manual_seed(seed)
    full, forget = {}, {}
    for name, p in model.named_parameters():
        d = torch.rand(p.shape, generator=g) ** 2
        f = torch.rand(p.shape, generator=g) ** 2
        d[torch.rand(p.shape, generator=g) < zero_share] = 0
        f[torch.rand(p.shape, generator=g) < zero_share] = 0
        full[name], forget[name] = d, f
    return full, forget


@pytest.mark.parametrize("make_model", [make_mlp, make_cnn])
@pytest.mark.parametrize(("alpha", "lam"), [(1.0, 1.0), (0.5, 0.3), (3.0, 2.0), (0.0, 1.0)])
def test_matches_reference(make_model, alpha: float, lam: float) -> None:
    model = make_model()
    full, forget = random_importances(model, seed=1)
    expected = reference.dampen(model, full, forget, alpha, lam)
    before = snapshot(model)

    report = dampen(model, full, forget, alpha=alpha, lam=lam)

    n_selected = 0
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.detach().double(), expected[name], rtol=1e-6, atol=0)
        selected = forget[name] > alpha * full[name]
        n_selected += int(selected.sum())
        assert report.selected_per_tensor[name] == int(selected.sum())
        assert_bit_identical(p.detach()[~selected], before[name][~selected])
    assert report.n_selected == n_selected > 0
    assert report.n_parameters == sum(p.numel() for p in model.parameters())
    assert (report.alpha, report.lam) == (alpha, lam)
    assert 0 < report.fraction_selected <= 1


def test_zero_full_importance_zeroes_the_parameter() -> None:
    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-3.0, 2.0]]))
    report = dampen(model, {"weight": torch.tensor([[0.0, 0.0]])}, {"weight": torch.tensor([[1.0, 0.0]])}, alpha=10)
    w = model.weight.detach()
    assert w[0, 0].item() == 0.0 and torch.signbit(w[0, 0])  # -3 * 0 keeps the sign bit
    assert w[0, 1].item() == 2.0  # 0 > 10 * 0 is false: untouched
    assert torch.isfinite(w).all()
    assert report.n_selected == 1


def test_negative_parameters_shrink_towards_zero() -> None:
    """Algorithm 1's min(ratio * theta, theta) would grow a negative theta; we do not."""
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(-4.0)
    dampen(model, {"weight": torch.tensor([[1.0]])}, {"weight": torch.tensor([[4.0]])}, alpha=1, lam=1)
    assert model.weight.item() == -1.0


@st.composite
def models_and_importances(draw):
    sizes = draw(st.lists(st.integers(1, 6), min_size=2, max_size=4))
    layers: list[nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU()]
    torch.manual_seed(draw(st.integers(0, 2**16)))
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    values = st.floats(0, 1e3, allow_nan=False, allow_infinity=False, width=32)
    full, forget = {}, {}
    for name, p in model.named_parameters():
        n = p.numel()
        full[name] = torch.tensor(draw(st.lists(values, min_size=n, max_size=n))).reshape(p.shape)
        forget[name] = torch.tensor(draw(st.lists(values, min_size=n, max_size=n))).reshape(p.shape)
    alpha = draw(st.floats(0, 50))
    lam = draw(st.floats(0, 5))
    return model, full, forget, alpha, lam


@given(models_and_importances())
@settings(max_examples=60, deadline=None)
def test_invariants(case) -> None:
    model, full, forget, alpha, lam = case
    twin = copy.deepcopy(model)
    before = snapshot(model)
    buffers_before = {n: b.clone() for n, b in model.named_buffers()}

    report = dampen(model, full, forget, alpha=alpha, lam=lam)
    dampen(twin, full, forget, alpha=alpha, lam=lam)

    total = 0
    for name, p in model.named_parameters():
        new, old = p.detach(), before[name]
        assert torch.all(new.abs() <= old.abs())
        assert torch.all((new == 0) | (torch.sign(new) == torch.sign(old)))
        assert torch.isfinite(new).all()
        selected = forget[name] > alpha * full[name]
        assert_bit_identical(new[~selected], old[~selected])
        total += int(selected.sum())
        assert_bit_identical(new, dict(twin.named_parameters())[name].detach())  # deterministic
    for name, b in model.named_buffers():
        assert_bit_identical(b, buffers_before[name])
    assert report.n_selected == total


def test_missing_key_leaves_model_unchanged() -> None:
    model = make_mlp()
    full, forget = random_importances(model, seed=2)
    del forget["3.bias"]
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"forget importances have no entry for parameter '3\.bias'"):
        dampen(model, full, forget, alpha=0.0)
    assert_unchanged(model, before)


def test_nan_importance_leaves_model_unchanged() -> None:
    model = make_cnn()
    full, forget = random_importances(model, seed=3)
    full["8.bias"][1] = float("nan")  # the last parameter: everything before it would be written
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"full importances\['8\.bias'\] contains NaN"):
        dampen(model, full, forget, alpha=0.0)
    assert_unchanged(model, before)


def test_importances_of_another_model_are_rejected() -> None:
    model = make_cnn()
    other = make_cnn(n_classes=7)
    full, forget = random_importances(other, seed=4)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"has shape \(7, 6\) but the parameter has shape \(4, 6\)"):
        dampen(model, full, forget, alpha=1.0)
    full, forget = random_importances(make_mlp(), seed=4)
    with pytest.raises(ValueError, match="another model"):
        dampen(model, full, forget, alpha=1.0)
    assert_unchanged(model, before)


@pytest.mark.parametrize(("alpha", "lam"), [(-1.0, 1.0), (float("nan"), 1.0), (1.0, float("inf")), (1.0, -0.5)])
def test_bad_alpha_or_lambda(alpha: float, lam: float) -> None:
    model = make_mlp()
    full, forget = random_importances(model, seed=5)
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        dampen(model, full, forget, alpha=alpha, lam=lam)


def test_negative_importance_is_rejected() -> None:
    model = make_mlp()
    full, forget = random_importances(model, seed=6)
    forget["0.weight"][0, 0] = -1.0
    with pytest.raises(ValueError, match="negative"):
        dampen(model, full, forget, alpha=1.0)


def test_report_is_a_dataclass_with_counts() -> None:
    model = make_mlp()
    full, forget = random_importances(model, seed=7)
    report = dampen(model, full, forget, alpha=1.0)
    assert isinstance(report, DampeningReport)
    assert set(report.selected_per_tensor) == {n for n, _ in model.named_parameters()}
    assert report.percentile is None
