"""The core's contract on bad input: a clear ValueError that names the value and the fix, raised
before any work, with the model left bit-identical."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import assert_bit_identical, loader, make_mlp, mlp_data, snapshot

from assd_core import (
    accuracy,
    assd_unlearn,
    compute_importances,
    dampen,
    ssd_unlearn,
)


def _unchanged(model: torch.nn.Module, before: dict[str, torch.Tensor]) -> None:
    after = snapshot(model)
    for name, value in before.items():
        assert_bit_identical(after[name], value)


@pytest.fixture
def setup() -> tuple[torch.nn.Module, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    model = make_mlp()
    full = compute_importances(model, loader(mlp_data(40)))
    forget = compute_importances(model, loader(mlp_data(8)))
    return model, full, forget


@pytest.mark.parametrize("alpha", [np.float32(10), np.float64(2.5), np.int64(3), torch.tensor(4.0),
                                   torch.tensor([5.0])])
def test_alpha_accepts_numpy_and_one_element_tensor_numbers(setup, alpha) -> None:
    model, full, forget = setup
    report = dampen(model, full, forget, alpha=alpha)
    assert report.alpha == float(alpha)


@pytest.mark.parametrize(("alpha", "kind"), [(True, "bool"), ("10", "str"), ([10.0], "list"),
                                             (torch.tensor([1.0, 2.0]), "Tensor")])
def test_alpha_of_another_type_is_refused_naming_the_type(setup, alpha, kind: str) -> None:
    model, full, forget = setup
    before = snapshot(model)
    with pytest.raises(ValueError, match=rf"alpha=.* is a {kind}; it must be a finite number"):
        dampen(model, full, forget, alpha=alpha)
    _unchanged(model, before)


def test_ssd_checks_alpha_and_lam_before_the_forget_pass(setup) -> None:
    model, full, _ = setup
    seen: list[int] = []

    def counting_loader():  # a forget loader that records every batch it yields
        for x, y in loader(mlp_data(8)):
            seen.append(len(y))
            yield x, y

    with pytest.raises(ValueError, match="lam=-1.0 must be a finite number >= 0"):
        ssd_unlearn(model, counting_loader(), full, alpha=1.0, lam=-1.0)
    assert seen == []


@pytest.mark.parametrize(("make", "match"), [
    (lambda t: t.to(torch.int64), r"dtype torch.int64; importances are floating-point"),
    (lambda t: t > 0, r"dtype torch.bool; importances are floating-point"),
    (lambda t: t.numpy(), r"is a ndarray, not a torch.Tensor.*torch.from_numpy"),
    (lambda t: torch.empty_like(t, device="meta"), r"on the 'meta' device"),
])
def test_importances_that_are_not_float_tensors_with_data_are_refused(setup, make, match) -> None:
    model, full, forget = setup
    bad = {name: make(t) for name, t in full.items()}
    before = snapshot(model)
    with pytest.raises(ValueError, match=match):
        dampen(model, bad, forget, alpha=1.0)
    _unchanged(model, before)


@pytest.mark.parametrize(("batches", "match"), [
    ([{"x": torch.randn(4, 6), "y": torch.zeros(4, dtype=torch.long)}],
     r"a batch is a dict with keys \['x', 'y'\]; batches must be tuples or lists \(x, y, \*rest\)"),
    ([torch.randn(4, 6)], r"a batch is a Tensor; batches must be tuples"),
    ([(torch.randn(4, 6),)], r"a batch is a tuple of length 1"),
])
def test_batches_of_another_structure_say_what_is_expected(batches, match: str) -> None:
    model = make_mlp()
    before = snapshot(model)
    with pytest.raises(ValueError, match=match):
        compute_importances(model, batches)
    with pytest.raises(ValueError, match=match):
        accuracy(model, batches)
    _unchanged(model, before)


def test_assd_with_bad_forget_labels_leaves_the_model_untouched(setup) -> None:
    model, full, _ = setup
    before = snapshot(model)
    forget = [(torch.randn(8, 6), torch.full((8,), 7))]
    with pytest.raises(ValueError, match=r"label 7 is outside \[0, 3\)"):
        assd_unlearn(model, forget, full, n_forget=8, n_total=48)
    _unchanged(model, before)
