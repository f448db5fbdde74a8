"""Baselines: retrain (from scratch, head-only), fine-tune, unlearning a copy."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from assd_core import assd_unlearn, compute_importances, ssd_unlearn
from assd_repro.baselines import (
    finetune,
    reset_top_level_modules,
    retrain_from_scratch,
    retrain_head_only,
    unlearned_copy,
)
from assd_repro.models import ModelSpec, build_model, vit
from assd_repro.training import TrainRecipe, decayed_lr, supply_chain_recipe

MLP_SPEC = ModelSpec.mlp(6, 3, size="2x8")
NO_TRAINING = TrainRecipe(epochs=0, lr=0.1, batch_size=10)


def toy_data(n: int = 60, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = 3.0 * torch.eye(3, 6)[y] + torch.randn(n, 6, generator=g)
    return TensorDataset(x, y)


def perturbed(model: nn.Module) -> nn.Module:
    """Move every parameter and BatchNorm statistic away from its initial value."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.rand_like(p) + 0.1)
        for b in model.buffers():
            if b.is_floating_point():
                b.add_(0.5)
    return model


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_unchanged(model: nn.Module, before: dict[str, torch.Tensor]) -> None:
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


# --- retrain -------------------------------------------------------------------------------


def test_retrain_from_scratch_reinitialises_every_parameter() -> None:
    original = perturbed(build_model(MLP_SPEC))
    fresh, history = retrain_from_scratch(MLP_SPEC, toy_data(), NO_TRAINING, seed=5)
    assert history.epochs == []
    torch.manual_seed(5)
    reference = build_model(MLP_SPEC)
    for (name, p), q, r in zip(fresh.named_parameters(), original.parameters(),
                               reference.parameters(), strict=True):
        assert torch.equal(p, r), name  # exactly a fresh initialisation (seeded) ...
        assert not torch.equal(p, q), name  # ... sharing nothing with the old weights


def test_retrain_from_scratch_trains_on_retain_set_with_a_factory() -> None:
    recipe = TrainRecipe(epochs=4, lr=0.1, momentum=0.9, batch_size=20)
    model, history = retrain_from_scratch(lambda: build_model(MLP_SPEC), toy_data(), recipe)
    assert len(history.epochs) == 4 and history.train_loss[-1] < history.train_loss[0]
    again, _ = retrain_from_scratch(lambda: build_model(MLP_SPEC), toy_data(), recipe)
    pairs = zip(model.parameters(), again.parameters(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)


def test_retrain_from_scratch_refuses_a_model_instead_of_a_factory() -> None:
    model = perturbed(build_model(MLP_SPEC))
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"spec_or_model_factory is a SupplyChainMLP; pass a "
                                         r"ModelSpec or a zero-argument function"):
        retrain_from_scratch(model, toy_data(), NO_TRAINING)  # type: ignore[arg-type]
    assert_unchanged(model, before)
    with pytest.raises(ValueError, match=r"spec_or_model_factory is a dict"):
        retrain_from_scratch(MLP_SPEC.to_dict(), toy_data(), NO_TRAINING)  # type: ignore[arg-type]


def test_retrain_from_scratch_refuses_a_factory_that_returns_no_model() -> None:
    with pytest.raises(ValueError, match=r"the model factory returned a tuple, not an nn\.Module"):
        retrain_from_scratch(lambda: (build_model(MLP_SPEC), None), toy_data(), NO_TRAINING)


def test_reset_top_level_modules_resets_the_head_only() -> None:
    resnet = build_model(ModelSpec.resnet18(4, width=4))
    assert reset_top_level_modules(resnet) == ["fc"]
    assert reset_top_level_modules(build_model(MLP_SPEC)) == ["head"]
    tiny_vit = vit(4, patch_size=4, embed_dim=16, depth=1, num_heads=2)
    assert reset_top_level_modules(tiny_vit) == ["norm", "head"]


def test_retrain_head_only_leaves_the_body_untouched_before_training() -> None:
    model = perturbed(build_model(ModelSpec.resnet18(4, width=4)))
    before = snapshot(model)
    retrained, _ = retrain_head_only(model, toy_data(), NO_TRAINING, seed=1)
    assert retrained is not model
    assert_unchanged(model, before)
    for name, value in retrained.state_dict().items():
        if name.startswith("fc."):
            assert not torch.equal(value, before[name]), name
        else:
            assert torch.equal(value, before[name]), name


def test_retrain_head_only_trains_a_copy() -> None:
    model = perturbed(build_model(MLP_SPEC))
    before = snapshot(model)
    recipe = TrainRecipe(epochs=2, lr=0.05, batch_size=20)
    retrained, history = retrain_head_only(model, toy_data(), recipe)
    assert len(history.step_lrs) == 6
    assert_unchanged(model, before)
    assert not torch.equal(retrained.body[0].weight, before["body.0.weight"])


# --- fine-tune -----------------------------------------------------------------------------


def test_finetune_one_epoch_at_constant_decayed_lr() -> None:
    model = perturbed(build_model(MLP_SPEC))
    before = snapshot(model)
    recipe = supply_chain_recipe(lr=0.08, weight_decay=1e-3)
    lr = decayed_lr(recipe)
    loader = DataLoader(toy_data(), batch_size=16)
    tuned, history = finetune(model, loader, lr=lr, weight_decay=recipe.weight_decay)
    assert tuned is not model
    assert_unchanged(model, before)
    assert len(history.epochs) == 1
    assert history.step_lrs == [pytest.approx(0.08 * 0.95**26)] * len(loader)
    assert not torch.equal(tuned.head.weight, before["head.weight"])


# --- SSD and ASSD wrappers -----------------------------------------------------------------


@pytest.fixture()
def unlearning_setup() -> tuple[nn.Module, DataLoader, DataLoader]:
    data = toy_data(90)
    model = build_model(MLP_SPEC)
    finetune_recipe = TrainRecipe(epochs=3, lr=0.1, momentum=0.9, batch_size=15)
    from assd_repro.training import train

    train(model, data, finetune_recipe, progress=False)
    retain = DataLoader(TensorDataset(*(t[15:] for t in data.tensors)), batch_size=15)
    forget = DataLoader(TensorDataset(*(t[:15] for t in data.tensors)), batch_size=15)
    return model, retain, forget


def test_unlearned_copy_of_ssd_matches_in_place_call_on_a_copy(unlearning_setup) -> None:
    model, retain, forget = unlearning_setup
    full = compute_importances(model, retain)
    before = snapshot(model)
    new_model, report = unlearned_copy(model, ssd_unlearn, forget, full, alpha=1.0, lam=1.0)
    assert new_model is not model
    assert_unchanged(model, before)
    reference = copy.deepcopy(model)
    ssd_unlearn(reference, forget, full, alpha=1.0, lam=1.0)
    for key, value in reference.state_dict().items():
        assert torch.equal(new_model.state_dict()[key], value), key
    assert report is not None


def test_unlearned_copy_of_assd_matches_in_place_call_on_a_copy(unlearning_setup) -> None:
    model, retain, forget = unlearning_setup
    full = compute_importances(model, retain)
    before = snapshot(model)
    new_model, report = unlearned_copy(model, assd_unlearn, forget, full, n_total=90)
    assert new_model is not model
    assert_unchanged(model, before)
    reference = copy.deepcopy(model)
    assd_unlearn(reference, forget, full, n_forget=15, n_total=90)
    for key, value in reference.state_dict().items():
        assert torch.equal(new_model.state_dict()[key], value), key
    assert report.percentile == pytest.approx(100 - math.log(1 + 100 * 15 / 90))


def test_unlearned_copy_leaves_the_model_untouched_when_the_method_raises(unlearning_setup) -> None:
    model, retain, forget = unlearning_setup
    full = compute_importances(model, retain)
    before = snapshot(model)
    with pytest.raises(ValueError, match="alpha"):
        unlearned_copy(model, ssd_unlearn, forget, full, alpha=-1.0)
    assert_unchanged(model, before)


def test_unlearned_copy_refuses_swapped_arguments_before_the_copy(unlearning_setup) -> None:
    model, retain, forget = unlearning_setup
    full = compute_importances(model, retain)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"model is a function, not an nn\.Module"):
        unlearned_copy(assd_unlearn, model, forget, full, n_total=90)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"unlearn is a SupplyChainMLP; pass the unlearning "
                                         r"function itself"):
        unlearned_copy(model, model, forget, full)  # type: ignore[arg-type]
    assert_unchanged(model, before)


def test_unlearned_copy_refuses_a_method_name_instead_of_a_function(unlearning_setup) -> None:
    model, _, forget = unlearning_setup
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"unlearn is a str; pass the unlearning function"):
        unlearned_copy(model, "assd", forget)  # type: ignore[arg-type]
    assert_unchanged(model, before)
