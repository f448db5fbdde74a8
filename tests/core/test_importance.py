"""compute_importances and the importance cache against a float64 reference."""

from __future__ import annotations

import pytest
import reference
import torch
from conftest import (
    assert_bit_identical,
    assert_unchanged,
    loader,
    make_cnn,
    make_mlp,
    mlp_data,
    snapshot,
)
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from assd_core import Importances, compute_importances, load_importances, save_importances


@pytest.mark.parametrize("batch_size", [1, 8, 64])
def test_matches_float64_reference(model_and_data, batch_size: int) -> None:
    model, retain, _ = model_and_data
    fast = compute_importances(model, loader(retain, batch_size))
    slow = reference.importances(model, retain, batch_size)
    assert set(fast) == {name for name, _ in model.named_parameters()}
    for name in slow:
        torch.testing.assert_close(fast[name].double(), slow[name], rtol=2e-4, atol=1e-10)
    assert fast.n_batches == -(-len(retain) // batch_size)
    assert fast.n_samples == len(retain)
    assert fast.batch_size == batch_size


def test_partial_last_batch_counts_as_a_whole_batch() -> None:
    model = make_mlp()
    data = mlp_data(9)
    imp = compute_importances(model, loader(data, 4))  # batches of 4, 4, 1
    assert imp.n_batches == 3
    torch.testing.assert_close(
        imp["0.weight"].double(), reference.importances(model, data, 4)["0.weight"], rtol=2e-4, atol=1e-10
    )


def test_leaves_the_model_as_found() -> None:
    model = make_cnn()
    model.train()
    model[0].weight.grad = torch.full_like(model[0].weight, 0.5)
    model[4].bias.requires_grad_(False)
    before = snapshot(model)
    grad_before = model[0].weight.grad.clone()
    flags = {n: p.requires_grad for n, p in model.named_parameters()}

    imp = compute_importances(model, loader(TensorDataset(torch.randn(10, 1, 8, 8), torch.randint(0, 4, (10,)))))

    assert model.training
    for name, value in snapshot(model).items():
        assert_bit_identical(value, before[name])
    assert_bit_identical(model[0].weight.grad, grad_before)
    assert all(p.grad is None for n, p in model.named_parameters() if n != "0.weight")
    assert {n: p.requires_grad for n, p in model.named_parameters()} == flags
    assert torch.count_nonzero(imp["4.bias"]) == 0  # frozen parameter: importance 0


def test_unused_parameter_gets_zero_importance() -> None:
    class WithSpare(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.used = nn.Linear(3, 2)
            self.spare = nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.used(x)

    imp = compute_importances(WithSpare(), loader(TensorDataset(torch.randn(5, 3), torch.randint(0, 2, (5,)))))
    assert torch.count_nonzero(imp["spare.weight"]) == 0
    assert torch.count_nonzero(imp["used.weight"]) > 0


def test_extra_batch_items_are_ignored() -> None:
    model = make_mlp()
    data = mlp_data(12)
    with_index = TensorDataset(data.tensors[0], data.tensors[1], torch.arange(12))
    a = compute_importances(model, loader(data, 4))
    b = compute_importances(model, loader(with_index, 4))
    for name in a:
        assert torch.equal(a[name], b[name])


def test_empty_loader_is_rejected() -> None:
    empty = DataLoader(TensorDataset(torch.empty(0, 6), torch.empty(0, dtype=torch.long)), batch_size=4)
    with pytest.raises(ValueError, match="no batch.*empty"):
        compute_importances(make_mlp(), empty)


def test_wrong_device_is_rejected() -> None:
    with pytest.raises(ValueError, match="move the model first"):
        compute_importances(make_mlp(), loader(mlp_data(4)), device="meta")


def test_deterministic() -> None:
    model, data = make_cnn(), TensorDataset(torch.randn(20, 1, 8, 8), torch.randint(0, 4, (20,)))
    a, b = compute_importances(model, loader(data)), compute_importances(model, loader(data))
    for name in a:
        assert_bit_identical(a[name], b[name])


def test_save_and_load_round_trip(tmp_path) -> None:
    model = make_cnn()
    imp = compute_importances(model, loader(TensorDataset(torch.randn(20, 1, 8, 8), torch.randint(0, 4, (20,))), 8))
    path = save_importances(tmp_path / "full.safetensors", imp, model)
    loaded = load_importances(path, model)
    assert isinstance(loaded, Importances)
    assert (loaded.batch_size, loaded.n_samples, loaded.n_batches) == (8, 20, 3)
    for name in imp:
        assert_bit_identical(loaded[name], imp[name])
    assert not list(tmp_path.glob("*.tmp"))


def test_load_for_another_model_names_the_difference(tmp_path) -> None:
    model = make_cnn()
    imp = compute_importances(model, loader(TensorDataset(torch.randn(8, 1, 8, 8), torch.randint(0, 4, (8,)))))
    path = save_importances(tmp_path / "full.safetensors", imp, model)
    with pytest.raises(ValueError, match=r"another model.*8\.weight: file has shape \[4, 6\]"):
        load_importances(path, make_cnn(n_classes=5))
    with pytest.raises(ValueError, match="another model.*not in model: 4.weight"):
        load_importances(path, make_mlp())


def test_save_rejects_importances_of_another_model(tmp_path) -> None:
    imp = compute_importances(make_mlp(), loader(mlp_data(8)))
    with pytest.raises(ValueError, match="do not belong to this model"):
        save_importances(tmp_path / "x.safetensors", imp, make_cnn())
    assert not list(tmp_path.iterdir())


def test_load_missing_file_says_how_to_make_one(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="save_importances"):
        load_importances(tmp_path / "nope.safetensors", make_mlp())


def test_every_module_flag_is_restored() -> None:
    model = make_mlp()
    model.train()
    model[1].eval()  # a BatchNorm frozen in eval mode inside a model in training mode
    before = [m.training for m in model.modules()]
    compute_importances(model, loader(mlp_data(20), 8))
    assert [m.training for m in model.modules()] == before


@pytest.mark.parametrize(("labels", "match"), [
    (lambda y: y[:, None], r"shape \(8, 1\)"),
    (lambda y: y.double(), r"dtype torch.float64"),
    (lambda y: y + 3, r"outside \[0, 3\) for a model with 3 outputs"),
])
def test_bad_labels_are_refused_and_the_model_is_untouched(labels, match: str) -> None:
    model = make_mlp()
    model.train()
    model[1].eval()
    before = snapshot(model)
    flags = [m.training for m in model.modules()]
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match=match):
        compute_importances(model, [(torch.randn(8, 6), labels(y))])
    assert_unchanged(model, before)
    assert [m.training for m in model.modules()] == flags
