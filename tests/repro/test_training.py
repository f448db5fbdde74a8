"""Training loop, recipes and schedules, determinism and checkpoints."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch
from conftest import assert_unchanged, snapshot
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from assd_repro.models import ModelSpec, build_model
from assd_repro.training import (
    CIFAR10_SCHEDULE,
    CIFAR20_SCHEDULE,
    CIFAR100_SCHEDULE,
    VIT_SCHEDULE,
    TrainRecipe,
    decayed_lr,
    deterministic_algorithms,
    evaluate_loss_accuracy,
    learning_rate,
    load_checkpoint,
    recipe_loader,
    save_checkpoint,
    ssd_image_recipe,
    supply_chain_recipe,
    train,
)


def blobs(n_per_class: int = 32, n_features: int = 6, n_classes: int = 3, seed: int = 0
          ) -> TensorDataset:
    """Well-separated Gaussian blobs: a linearly separable toy problem."""
    g = torch.Generator().manual_seed(seed)
    centres = 4.0 * torch.eye(n_classes, n_features)
    y = torch.arange(n_classes).repeat_interleave(n_per_class)
    x = centres[y] + 0.5 * torch.randn(len(y), n_features, generator=g)
    return TensorDataset(x, y)


def small_mlp(n_features: int = 6) -> nn.Module:
    return build_model(ModelSpec.mlp(n_features, 3, size="1x16"))


# --- schedules -----------------------------------------------------------------------------


def test_paper_schedules() -> None:
    assert CIFAR100_SCHEDULE == (200, (60, 120, 160))
    assert CIFAR20_SCHEDULE == (40, (15, 30, 35))
    assert CIFAR10_SCHEDULE == (20, (8, 12, 16))
    assert VIT_SCHEDULE.epochs == 8
    recipe = ssd_image_recipe(*CIFAR10_SCHEDULE)
    assert (recipe.lr, recipe.momentum, recipe.weight_decay, recipe.gamma) == (0.1, 0.9, 5e-4, 0.2)
    assert (recipe.batch_size, recipe.warmup_epochs, recipe.schedule) == (64, 1, "multistep")


def test_multistep_with_warmup_matches_formula_and_torch() -> None:
    recipe = ssd_image_recipe(*CIFAR10_SCHEDULE)
    steps = 5
    for s in range(steps):  # linear warm-up over the first epoch's steps
        assert learning_rate(recipe, 0, s, steps) == pytest.approx(0.1 * (s + 1) / steps)
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    reference = torch.optim.lr_scheduler.MultiStepLR(optimizer, [8, 12, 16], gamma=0.2)
    for epoch in range(1, CIFAR10_SCHEDULE.epochs + 2):
        optimizer.step()
        reference.step()
        expected = 0.1 * 0.2 ** sum(epoch >= m for m in (8, 12, 16))
        assert learning_rate(recipe, epoch, 0, steps) == pytest.approx(expected, rel=1e-12)
        assert learning_rate(recipe, epoch, 3, steps) == pytest.approx(
            optimizer.param_groups[0]["lr"], rel=1e-12)


def test_step_schedule_matches_formula_and_torch() -> None:
    recipe = supply_chain_recipe(lr=0.05, weight_decay=1e-4)
    assert (recipe.epochs, recipe.batch_size, recipe.shuffle) == (25, 1024, False)
    assert recipe.momentum == 0
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.05)
    reference = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.95)
    for epoch in range(30):
        assert learning_rate(recipe, epoch, 2, 4) == pytest.approx(0.05 * 0.95**epoch, rel=1e-12)
        assert learning_rate(recipe, epoch) == pytest.approx(
            optimizer.param_groups[0]["lr"], rel=1e-12)
        optimizer.step()
        reference.step()


def test_decayed_lr_is_the_authors_finetune_rate() -> None:
    lr0 = 0.037
    recipe = supply_chain_recipe(lr=lr0, weight_decay=1e-3)
    assert decayed_lr(recipe) == pytest.approx(lr0 * 0.95**25 * 0.95, rel=1e-12)
    assert decayed_lr(supply_chain_recipe(lr=lr0, weight_decay=0, epochs=3)) == pytest.approx(
        lr0 * 0.95**4)
    assert decayed_lr(ssd_image_recipe(*CIFAR10_SCHEDULE)) == pytest.approx(0.1 * 0.2**3)


def test_recipe_validation_and_round_trip() -> None:
    recipe = ssd_image_recipe(*CIFAR20_SCHEDULE)
    assert TrainRecipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe
    with pytest.raises(ValueError, match="strictly increasing"):
        TrainRecipe(epochs=5, lr=0.1, schedule="multistep", milestones=(3, 2))
    with pytest.raises(ValueError, match="unknown schedule"):
        TrainRecipe(epochs=5, lr=0.1, schedule="cosine")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lr"):
        TrainRecipe(epochs=5, lr=-1.0)
    with pytest.raises(ValueError, match="batch_size"):
        recipe_loader(blobs(), TrainRecipe(epochs=1, lr=0.1))


@pytest.mark.parametrize("field", ["epochs", "warmup_epochs"])
def test_recipe_refuses_fractional_epochs_naming_the_value(field: str) -> None:
    with pytest.raises(ValueError, match=rf"{field}=2\.5 must be a whole number >= 0"):
        TrainRecipe(**{"epochs": 3, "lr": 0.1, field: 2.5})


@pytest.mark.parametrize("field", ["lr", "momentum", "weight_decay"])
def test_recipe_refuses_an_infinite_or_nan_rate_naming_the_field(field: str) -> None:
    for bad in (math.inf, math.nan):
        with pytest.raises(ValueError, match=rf"{field}={bad!r} must be a finite number >= 0"):
            TrainRecipe(**{"epochs": 1, "lr": 0.1, field: bad})


@pytest.mark.parametrize("gamma", [0.0, -0.5, math.nan, math.inf])
def test_recipe_refuses_a_gamma_that_is_not_finite_and_positive(gamma: float) -> None:
    with pytest.raises(ValueError, match=r"gamma=.* must be a finite number > 0"):
        TrainRecipe(epochs=3, lr=0.1, schedule="step", gamma=gamma)


# --- the loop ------------------------------------------------------------------------------


def test_train_refuses_a_recipe_dict_naming_its_type() -> None:
    model = small_mlp()
    before = snapshot(model)
    recipe = TrainRecipe(epochs=1, lr=0.1, batch_size=8).to_dict()
    with pytest.raises(ValueError, match=r"recipe is a dict, not a TrainRecipe.*from_dict"):
        train(model, blobs(), recipe, progress=False)  # type: ignore[arg-type]
    assert_unchanged(model, before)


def test_train_refuses_an_empty_loader_when_epochs_are_due() -> None:
    model = small_mlp()
    before = snapshot(model)
    empty = DataLoader(TensorDataset(torch.zeros(0, 6), torch.zeros(0, dtype=torch.long)),
                       batch_size=4)
    with pytest.raises(ValueError, match=r"train_loader yields no batch but recipe\.epochs=2"):
        train(model, empty, TrainRecipe(epochs=2, lr=0.1), progress=False)
    assert_unchanged(model, before)
    assert train(model, empty, TrainRecipe(epochs=0, lr=0.1), progress=False).epochs == []


@pytest.mark.parametrize(("labels", "message"), [
    (torch.full((96,), 3), r"label 3 is outside \[0, 3\)"),
    (torch.zeros(96), r"labels have dtype torch\.float32"),
    (torch.zeros(96, 1, dtype=torch.long), r"labels have shape \(16, 1\)"),
])
def test_train_refuses_bad_labels_of_the_first_batch_leaving_the_model_unchanged(
        labels: torch.Tensor, message: str) -> None:
    model = small_mlp()  # BatchNorm: a train-mode forward would move its running statistics
    model.eval()
    before = snapshot(model)
    data = TensorDataset(blobs().tensors[0], labels)
    with pytest.raises(ValueError, match=message):
        train(model, data, TrainRecipe(epochs=1, lr=0.1, batch_size=16), progress=False)
    assert_unchanged(model, before)
    assert not any(m.training for m in model.modules())


def test_train_checks_the_labels_of_every_batch_before_its_step() -> None:
    x, y = blobs().tensors
    y = y.clone()
    y[-1] = 7  # in the third and last batch only
    model = small_mlp()
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"label 7 is outside \[0, 3\)"):
        train(model, DataLoader(TensorDataset(x, y), batch_size=32), TrainRecipe(epochs=1, lr=0.1),
              progress=False)
    # as documented: the two steps before the bad batch were taken
    assert any(not torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_evaluate_loss_accuracy_refuses_out_of_range_labels_and_restores_training_flags() -> None:
    model = small_mlp()
    model.train()
    model.body[1].eval()  # a frozen BatchNorm: model.train(True) would lose it
    flags = [m.training for m in model.modules()]
    before = snapshot(model)
    x, _ = blobs().tensors
    bad = DataLoader(TensorDataset(x, torch.full((len(x),), 5)), batch_size=50)
    with pytest.raises(ValueError, match=r"label 5 is outside \[0, 3\)"):
        evaluate_loss_accuracy(model, bad)
    assert [m.training for m in model.modules()] == flags
    assert_unchanged(model, before)


def test_train_uses_the_schedule_at_every_step() -> None:
    recipe = TrainRecipe(epochs=3, lr=0.05, momentum=0.9, schedule="multistep", milestones=(1, 2),
                         gamma=0.5, warmup_epochs=1, batch_size=24)
    history = train(small_mlp(), blobs(), recipe, progress=False)  # 96 rows: 4 steps per epoch
    expected = [learning_rate(recipe, e, s, 4) for e in range(3) for s in range(4)]
    assert history.step_lrs == expected
    assert [r.lr for r in history.epochs] == [expected[3], expected[7], expected[11]]


def test_train_reduces_loss_on_separable_problem() -> None:
    data = blobs()
    eval_loader = DataLoader(blobs(seed=1), batch_size=50)
    model = small_mlp()
    before, _ = evaluate_loss_accuracy(model, eval_loader)
    recipe = TrainRecipe(epochs=10, lr=0.1, momentum=0.9, batch_size=16)
    history = train(model, data, recipe, eval_loader=eval_loader, progress=False)
    assert len(history.epochs) == 10
    assert history.train_loss[-1] < 0.3 * history.train_loss[0]
    assert history.epochs[-1].eval_loss < 0.3 * before
    assert history.epochs[-1].eval_accuracy >= 95.0
    assert not model.training
    rows = history.to_rows()
    assert rows[0].keys() >= {"epoch", "lr", "train_loss", "train_accuracy", "eval_accuracy"}


def test_training_is_bit_identical_for_a_seed() -> None:
    initial = small_mlp()
    recipe = TrainRecipe(epochs=3, lr=0.1, momentum=0.9, weight_decay=1e-3, batch_size=10,
                         shuffle=True)

    def run(seed: int) -> dict[str, torch.Tensor]:
        model = copy.deepcopy(initial)
        train(model, blobs(), recipe, progress=False, seed=seed)
        return model.state_dict()

    first, second, other = run(7), run(7), run(8)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def tiny_images(n: int = 24, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.randn(n, 3, 8, 8, generator=g) + y.view(-1, 1, 1, 1).float()
    return TensorDataset(x, y)


def test_speed_options_train_deterministically_and_return_the_usual_layout() -> None:
    torch.manual_seed(0)
    initial = build_model(ModelSpec.resnet18(3, width=2))
    recipe = TrainRecipe(epochs=2, lr=0.05, momentum=0.9, batch_size=8)

    def run(**options) -> nn.Module:
        model = copy.deepcopy(initial)
        history = train(model, tiny_images(), recipe, progress=False, seed=1, **options)
        assert all(math.isfinite(r.train_loss) for r in history.epochs)
        return model

    plain = run()
    fast, again = (run(autocast=torch.bfloat16, channels_last=True) for _ in range(2))
    for name, p in fast.named_parameters():
        assert p.is_contiguous(), name  # importances and dampening see the default layout
        assert p.dtype == torch.float32, name  # master weights stay float32
        assert torch.equal(p, dict(again.named_parameters())[name])  # deterministic
    # bfloat16 forwards change the weights' last bits, not the training
    differ = [n for n, p in fast.named_parameters()
              if not torch.equal(p, dict(plain.named_parameters())[n])]
    assert differ  # (accuracy with and without: benchmarks/train_throughput.py, real data)
    cl = run(channels_last=True)  # the memory format alone
    assert all(p.is_contiguous() for p in cl.parameters())


def test_train_refuses_an_autocast_that_is_not_a_float_dtype_leaving_the_model_unchanged() -> None:
    model = small_mlp()
    before = snapshot(model)
    with pytest.raises(ValueError, match="autocast='bfloat16' must be None or a floating-point"):
        train(model, blobs(), TrainRecipe(epochs=1, lr=0.1, batch_size=8), progress=False,
              autocast="bfloat16")
    assert_unchanged(model, before)


def test_adamw_recipe_trains_and_refuses_a_momentum() -> None:
    model = small_mlp()
    recipe = TrainRecipe(epochs=5, lr=0.01, weight_decay=0.05, batch_size=16,
                         optimizer="adamw")
    history = train(model, blobs(), recipe, progress=False)
    assert history.epochs[-1].train_accuracy > 90
    with pytest.raises(ValueError, match="momentum=0.9 is SGD's"):
        TrainRecipe(epochs=1, lr=0.01, momentum=0.9, optimizer="adamw")
    with pytest.raises(ValueError, match="optimizer='adam' is unknown"):
        TrainRecipe(epochs=1, lr=0.01, optimizer="adam")
    assert TrainRecipe.from_dict(recipe.to_dict()) == recipe


def test_train_restores_caller_rng_and_determinism_setting() -> None:
    model, data = small_mlp(), blobs()
    state = torch.get_rng_state()
    flag = torch.are_deterministic_algorithms_enabled()
    train(model, data, TrainRecipe(epochs=1, lr=0.01, batch_size=32), progress=False,
          deterministic=True)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.are_deterministic_algorithms_enabled() == flag
    with deterministic_algorithms():
        assert torch.are_deterministic_algorithms_enabled()
    assert torch.are_deterministic_algorithms_enabled() == flag


def test_train_accepts_a_dataloader_with_extra_batch_fields() -> None:
    data = blobs()
    extra = TensorDataset(*data.tensors, torch.arange(len(data)))  # (x, y, index)
    loader = DataLoader(extra, batch_size=32)
    history = train(small_mlp(), loader, TrainRecipe(epochs=1, lr=0.05), progress=False)
    assert len(history.step_lrs) == 3


def test_train_reports_non_finite_loss() -> None:
    x = torch.full((8, 6), math.nan)
    data = TensorDataset(x, torch.zeros(8, dtype=torch.long))
    with pytest.raises(FloatingPointError, match="epoch 0, step 0"):
        train(small_mlp(), data, TrainRecipe(epochs=1, lr=0.1, batch_size=4), progress=False)


# --- checkpoints ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [ModelSpec.resnet18(5, width=4),
     ModelSpec.vit(5, preset=None, patch_size=4, embed_dim=32, depth=1, num_heads=2)],
)
def test_checkpoint_round_trip_gives_identical_outputs(tmp_path, spec: ModelSpec) -> None:
    model = build_model(spec)
    model.train()
    with torch.no_grad():  # move BatchNorm running statistics away from their init
        model(torch.randn(8, 3, 32, 32))
    model.eval()
    x = torch.randn(4, 3, 32, 32)
    config = {"model": spec, "seed": 3, "recipe": ssd_image_recipe(*CIFAR10_SCHEDULE).to_dict()}
    weights, config_path = save_checkpoint(tmp_path / "ckpt" / "run", model, config)
    assert weights.name == "run.safetensors" and config_path.name == "run.json"
    restored, restored_config = load_checkpoint(tmp_path / "ckpt" / "run")
    assert restored_config["seed"] == 3 and restored_config["model"] == spec.to_dict()
    with torch.no_grad():
        assert torch.equal(restored(x), model(x))
    for key, value in model.state_dict().items():
        assert torch.equal(restored.state_dict()[key], value), key


def test_save_checkpoint_refuses_a_config_that_is_not_json_writing_no_file(tmp_path) -> None:
    model = small_mlp()
    config = {"model": ModelSpec.mlp(6, 3, size="1x16"), "lr": torch.tensor(0.1)}
    with pytest.raises(ValueError, match=r"config is not JSON-able \(Object of type Tensor"):
        save_checkpoint(tmp_path / "ckpt" / "run", model, config)
    assert not (tmp_path / "ckpt").exists()


def test_load_checkpoint_refuses_a_config_without_a_model_entry(tmp_path) -> None:
    weights, config_path = save_checkpoint(tmp_path / "run", small_mlp(),
                                           {"model": ModelSpec.mlp(6, 3, size="1x16")})
    config_path.write_text(json.dumps({"seed": 0}))
    with pytest.raises(ValueError, match=r"bad model spec \{\}: expected keys 'kind'"):
        load_checkpoint(weights)


def test_checkpoint_errors(tmp_path) -> None:
    model = small_mlp()
    with pytest.raises(ValueError, match="'model' entry"):
        save_checkpoint(tmp_path / "x", model, {"seed": 0})
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        load_checkpoint(tmp_path / "missing")
