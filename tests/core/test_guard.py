"""guarded: a refused or failing unlearning leaves the model bit-identical (every parameter and
buffer, every training flag); an accepted one leaves exactly the unlearned model."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import assert_unchanged, loader, make_mlp, snapshot
from torch import nn
from torch.utils.data import TensorDataset

from assd_core import accuracy, assd_unlearn, compute_importances, guarded
from assd_core.guard import GuardReport


def rows_of_class(label: int, n: int = 16) -> TensorDataset:
    return TensorDataset(torch.randn(n, 6), torch.full((n,), label))


def predict(model: nn.Module, label: int, strength: float = 50.0) -> str:
    """In place: the head always predicts ``label``; BatchNorm statistics shifted too (so a
    restore must bring back buffers as well as parameters)."""
    with torch.no_grad():
        model[3].weight.zero_()
        model[3].bias.copy_(strength * torch.nn.functional.one_hot(torch.tensor(label), 3))
        model[1].running_mean.add_(0.25)
        model[1].num_batches_tracked.add_(1)
    return f"predicts {label}"


@pytest.fixture()
def model() -> nn.Module:
    """An MLP that predicts class 0 everywhere, in train mode with a frozen BatchNorm."""
    net = make_mlp()
    predict(net, 0)
    net.train()
    net[1].eval()
    return net


def flags(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


def test_a_refused_unlearning_is_undone_bit_for_bit(model) -> None:
    before, training = snapshot(model), flags(model)
    report = guarded(model, predict, 1, check_loader=loader(rows_of_class(0)))
    assert isinstance(report, GuardReport)
    assert report.refused and report.accuracy_before == 100.0 and report.accuracy_after == 0.0
    assert "fell by 100 points" in report.reason and report.result == "predicts 1"
    assert_unchanged(model, before)  # parameters and buffers, bit for bit
    assert flags(model) == training


def test_an_accepted_unlearning_is_kept(model) -> None:
    expected = copy.deepcopy(model)
    predict(expected, 0, strength=80.0)
    report = guarded(model, predict, 0, strength=80.0, check_loader=loader(rows_of_class(0)))
    assert not report.refused and report.accuracy_after == report.accuracy_before == 100.0
    assert_unchanged(model, snapshot(expected))


def test_a_small_drop_within_the_limit_is_accepted(model) -> None:
    check = loader(TensorDataset(torch.randn(10, 6), torch.tensor([0] * 9 + [1])))
    report = guarded(model, predict, 1, check_loader=check, max_drop_points=100.0)
    assert not report.refused and report.accuracy_before - report.accuracy_after == 80.0
    assert accuracy(model, check) == 10.0


def test_guarded_assd_is_assd_when_accepted() -> None:
    model = make_mlp()
    retain, forget = TensorDataset(torch.randn(40, 6), torch.arange(40) % 3), \
        TensorDataset(torch.randn(8, 6), torch.arange(8) % 3)
    full = compute_importances(model, loader(retain))
    expected = copy.deepcopy(model)
    expected_report = assd_unlearn(expected, loader(forget), full, n_total=48)
    report = guarded(model, assd_unlearn, loader(forget), full, n_total=48,
                     check_loader=loader(retain), max_drop_points=100.0)
    assert not report.refused and report.result == expected_report
    assert_unchanged(model, snapshot(expected))


@pytest.mark.parametrize(("tolerance", "refused"), [(1.0, True), (0.99, False)])
def test_the_authors_tolerance_rule_keeps_only_results_above_it(model, tolerance, refused):
    """Accuracy 100% before and after: 100 > 0.99 * 100 is kept; 100 > 1.0 * 100 is not."""
    before = snapshot(model)
    report = guarded(model, predict, 0, strength=90.0, check_loader=loader(rows_of_class(0)),
                     max_drop_points=0.0, tolerance=tolerance)
    assert report.refused is refused and "tolerance" in report.reason
    if refused:
        assert_unchanged(model, before)
    else:
        assert model[3].bias[0] == 90.0


def test_an_unlearning_that_raises_is_undone(model) -> None:
    before, training = snapshot(model), flags(model)

    def half_done(net: nn.Module) -> None:
        predict(net, 2)
        net.eval()
        raise RuntimeError("failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        guarded(model, half_done, check_loader=loader(rows_of_class(0)))
    assert_unchanged(model, before)
    assert flags(model) == training


@pytest.mark.parametrize(("settings", "match"), [
    ({"max_drop_points": -1.0}, r"max_drop_points=-1.0 must be a finite number >= 0"),
    ({"max_drop_points": float("nan")}, r"max_drop_points=nan must be a finite number"),
    ({"tolerance": 0.0}, r"tolerance=0.0 must lie in \(0, 1\]"),
    ({"tolerance": 1.5}, r"tolerance=1.5 must lie in \(0, 1\]"),
    ({"check_loader": []}, r"check_loader is empty"),
    ({"check_loader": iter([(torch.zeros(2, 6), torch.zeros(2).long())])},
     r"check_loader is a one-shot iterator; pass a DataLoader or a list"),
])
def test_bad_inputs_raise_before_anything_changes(model, settings, match) -> None:
    before, training, calls = snapshot(model), flags(model), []
    arguments = {"check_loader": loader(rows_of_class(0)), **settings}
    with pytest.raises(ValueError, match=match):
        guarded(model, lambda net: calls.append(predict(net, 1)), **arguments)
    assert calls == []
    assert_unchanged(model, before)
    assert flags(model) == training
