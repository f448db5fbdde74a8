"""adaptive_percentile and select_alpha against the definition, up to 120M parameters."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import reference
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from assd_core import adaptive_percentile, select_alpha
from assd_core._kernels import percentile_linear


@pytest.mark.parametrize(
    ("n_forget", "n_total", "expected"),
    [(1_000, 10_000, 97.60), (100, 10_000, 99.31), (20, 10_000, 99.82), (83, 50_000, 99.85)],
)
def test_percentile_at_the_papers_shares(n_forget: int, n_total: int, expected: float) -> None:
    p = adaptive_percentile(n_forget, n_total)
    assert round(p, 2) == expected
    assert p == 100 - math.log(1 + 100 * n_forget / n_total)


@pytest.mark.parametrize(
    ("n_forget", "n_total", "message"),
    [
        (0, 10, "at least one sample"),
        (-3, 10, "at least one sample"),
        (10, 10, "n_forget=10 >= n_total=10"),
        (11, 10, "n_forget=11 >= n_total=10"),
        (2.5, 10, "whole number"),
        (True, 10, "whole number"),
    ],
)
def test_percentile_rejects_bad_counts(n_forget, n_total, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        adaptive_percentile(n_forget, n_total)


@given(
    values=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=40),
    p=st.floats(0, 100),
)
@settings(max_examples=200, deadline=None)
def test_linear_interpolation_equals_numpy(values: list[float], p: float) -> None:
    arr = np.array(values)
    s = np.sort(arr)
    v = (len(s) - 1) * (p / 100)
    lo = int(min(max(math.floor(v), 0), len(s) - 1))
    got = percentile_linear((s[lo], s[min(lo + 1, len(s) - 1)]), len(s), p)
    assert got == np.percentile(arr, p)
    assert got == pytest.approx(reference.percentile(values, p), rel=1e-12, abs=1e-300)


def _random_importances(shapes: dict[str, tuple[int, ...]], zero_share: float, seed: int):
    g = torch.Generator().manual_seed(seed)
    full, forget = {}, {}
    for name, shape in shapes.items():
        d = torch.rand(shape, generator=g) ** 3
        f = torch.rand(shape, generator=g) ** 3
        d[torch.rand(shape, generator=g) < zero_share] = 0
        f[torch.rand(shape, generator=g) < zero_share] = 0
        full[name], forget[name] = d, f
    return full, forget


@pytest.mark.parametrize("p", [0.0, 50.0, 97.6021, 99.3069, 100.0])
def test_select_alpha_matches_the_slow_reference(p: float) -> None:
    full, forget = _random_importances({"a": (7, 5), "b": (11,), "c": (2, 3, 4)}, zero_share=0.2, seed=1)
    ratios = reference.finite_ratios(full, forget)
    assert len(ratios) < sum(t.numel() for t in full.values())  # 0/0 and x/0 were dropped
    alpha = select_alpha(full, forget, p)
    assert alpha == pytest.approx(reference.percentile(ratios, p), rel=1e-12)
    assert alpha == np.percentile(np.array(ratios), p)


def test_select_alpha_matches_the_authors_nanpercentile() -> None:
    """The authors copy ratios to numpy, concatenate and call np.nanpercentile."""
    full, forget = _random_importances({"a": (30, 20), "b": (50,)}, zero_share=0.1, seed=2)
    ratios = np.concatenate([(forget[n] / full[n]).numpy().ravel() for n in full]).astype(np.float64)
    ratios[~np.isfinite(ratios)] = np.nan
    assert select_alpha(full, forget, 97.6) == np.nanpercentile(ratios, 97.6)


def test_select_alpha_float64_importances() -> None:
    full = {"w": torch.tensor([1.0, 2.0, 0.0, 4.0], dtype=torch.float64)}
    forget = {"w": torch.tensor([3.0, 1.0, 5.0, 4.0], dtype=torch.float64)}
    assert select_alpha(full, forget, 50) == np.percentile([3.0, 0.5, 1.0], 50)


def test_select_alpha_rejects_bad_input() -> None:
    full, forget = _random_importances({"a": (3,)}, 0.0, seed=0)
    with pytest.raises(ValueError, match=r"percentile=101 must be a number in \[0, 100\]"):
        select_alpha(full, forget, 101)
    with pytest.raises(ValueError, match="no finite"):
        select_alpha({"a": torch.zeros(3)}, {"a": torch.zeros(3)}, 50)
    with pytest.raises(ValueError, match="different parameters"):
        select_alpha(full, {"b": torch.ones(3)}, 50)
    with pytest.raises(ValueError, match="shapes differ for 'a'"):
        select_alpha(full, {"a": torch.ones(4)}, 50)


@pytest.mark.slow
def test_select_alpha_120m_parameters_exact_and_lean() -> None:
    """torch.quantile refuses > 16M elements; ours is exact at 120M with little extra memory."""
    shapes = {f"layer{i}.weight": (1000, 10_000) for i in range(12)}  # 12 x 10M = 120M
    full, forget = _random_importances(shapes, zero_share=0.01, seed=3)
    own_size = sum(t.numel() * t.element_size() for t in full.values())
    p = adaptive_percentile(1000, 50_000)

    tracemalloc.start()
    alpha = select_alpha(full, forget, p)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak <= 1.5 * own_size, f"peak extra {peak / own_size:.2f}x the importances"

    ratios = torch.cat([(forget[n] / full[n]).reshape(-1) for n in full])
    ratios = ratios[torch.isfinite(ratios)].numpy().astype(np.float64)
    assert alpha == np.percentile(ratios, p)
