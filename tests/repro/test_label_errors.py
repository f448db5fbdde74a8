"""inject_label_errors: every chosen label changes class (flip), the authors' variant, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from assd_repro.label_errors import inject_label_errors


@given(
    n=st.integers(10, 500),
    n_classes=st.integers(2, 12),
    fraction=st.floats(0.02, 0.98),
    seed=st.integers(0, 2**31),
)
@settings(max_examples=100, deadline=None)
def test_flip_changes_every_chosen_label(n: int, n_classes: int, fraction: float, seed: int) -> None:
    assume(round(fraction * n) >= 1)
    labels = np.random.default_rng(seed).integers(0, n_classes, size=n)
    noisy, idx = inject_label_errors(labels, fraction, n_classes, seed=seed)
    assert idx.size == round(fraction * n) and np.all(np.diff(idx) > 0)
    assert np.all(noisy[idx] != labels[idx])
    untouched = np.setdiff1d(np.arange(n), idx)
    assert np.array_equal(noisy[untouched], labels[untouched])
    assert noisy.min() >= 0 and noisy.max() < n_classes


def test_flip_is_uniform_over_the_other_classes() -> None:
    labels = np.zeros(30_000, dtype=np.int64)
    noisy, idx = inject_label_errors(labels, 0.5, 4, seed=0)
    counts = np.bincount(noisy[idx], minlength=4)
    assert counts[0] == 0
    assert np.allclose(counts[1:] / idx.size, 1 / 3, atol=0.02)


def test_same_seed_same_errors_and_input_untouched() -> None:
    labels = np.arange(100) % 3
    copy = labels.copy()
    a = inject_label_errors(labels, 0.1, 3, seed=5)
    b = inject_label_errors(labels, 0.1, 3, seed=5)
    c = inject_label_errors(labels, 0.1, 3, seed=6)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    assert np.array_equal(labels, copy)


def test_torch_in_torch_out() -> None:
    labels = torch.arange(50) % 5
    noisy, idx = inject_label_errors(labels, 0.2, 5, seed=1)
    assert isinstance(noisy, torch.Tensor) and isinstance(idx, torch.Tensor)
    assert noisy.dtype == torch.int64 and torch.all(noisy[idx] != labels[idx])


def test_authors_mode_can_land_back_on_the_true_label() -> None:
    """Three sequential ifs: 0 -> 1 -> 0 is possible, so some chosen rows keep their label.

    Exact probabilities of ending on the true label: from 0, 1/4 (0->1->0) + 1/8 (0->1->2->0)
    + 1/4 (0->2->0) = 5/8; from 1, 1/4 (1->2->1); from 2, 0.
    """
    labels = np.random.default_rng(0).integers(0, 3, size=60_000)
    noisy, idx = inject_label_errors(labels, 0.5, 3, seed=0, mode="authors")
    for true_class, expected in [(0, 5 / 8), (1, 1 / 4), (2, 0.0)]:
        rows = idx[labels[idx] == true_class]
        assert np.mean(noisy[rows] == true_class) == pytest.approx(expected, abs=0.015)
    assert noisy.min() >= 0 and noisy.max() < 3


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_fraction_outside_unit_interval(fraction: float) -> None:
    with pytest.raises(ValueError, match=r"must lie in \(0, 1\)"):
        inject_label_errors(np.zeros(10, dtype=int), fraction, 3, seed=0)


def test_fraction_selecting_nothing() -> None:
    with pytest.raises(ValueError, match="selects no row"):
        inject_label_errors(np.zeros(10, dtype=int), 0.01, 3, seed=0)


def test_labels_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"labels\[2\]=3 is outside \[0, 3\)"):
        inject_label_errors(np.array([0, 1, 3, 2]), 0.5, 3, seed=0)
    with pytest.raises(ValueError, match=r"labels\[0\]=-1"):
        inject_label_errors(np.array([-1, 1]), 0.5, 3, seed=0)


def test_bad_class_count_and_mode() -> None:
    with pytest.raises(ValueError, match="n_classes=1"):
        inject_label_errors(np.zeros(10, dtype=int), 0.5, 1, seed=0)
    with pytest.raises(ValueError, match="mode='swap' is unknown"):
        inject_label_errors(np.zeros(10, dtype=int), 0.5, 3, seed=0, mode="swap")


@pytest.mark.parametrize("seed", [None, 1.5, "0", True])
def test_seed_must_be_an_int_or_a_generator(seed) -> None:
    with pytest.raises(ValueError, match=r"seed=.* must be an int"):
        inject_label_errors(np.arange(30) % 3, 0.1, 3, seed=seed)


def test_a_generator_is_accepted_and_reproducible() -> None:
    labels = np.arange(30) % 3
    first = inject_label_errors(labels, 0.1, 3, seed=np.random.default_rng(4))
    again = inject_label_errors(labels, 0.1, 3, seed=np.random.default_rng(4))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    np.testing.assert_array_equal(first[0], inject_label_errors(labels, 0.1, 3, seed=4)[0])


@pytest.mark.parametrize("big", [2.0**70, np.uint64(2**63 + 5)])
def test_overflowing_labels_are_reported_with_their_value(big) -> None:
    labels = np.array([0, 1, 2, big] * 5, dtype=np.float64 if isinstance(big, float) else np.uint64)
    with pytest.raises(ValueError, match=r"labels\[3\]=(1\.18|9223372036854775813)"):
        inject_label_errors(labels, 0.1, 3, seed=0)
