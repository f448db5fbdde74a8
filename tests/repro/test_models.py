"""Model builders: shapes, parameter counts, layer structure, ViT weight loading, specs."""

from __future__ import annotations

import json
import logging

import pytest
import torch
from conftest import assert_unchanged, snapshot
from torch import nn

from assd_repro.models import (
    ModelSpec,
    ResNet18Cifar,
    SupplyChainMLP,
    build_model,
    count_parameters,
    load_vit_weights,
    mlp_size,
    resnet18_cifar,
    supply_chain_mlp,
    vit,
    vit_b16,
    vit_tiny_cifar,
)
from assd_repro.models.resnet import BasicBlock

SMALL_VIT = dict(patch_size=4, embed_dim=32, depth=2, num_heads=2)


# --- ResNet18 ------------------------------------------------------------------------------


def test_resnet18_paper_width_has_11_2m_parameters() -> None:
    model = resnet18_cifar(100)
    # 11,220,132 is the well-known count of the CIFAR ResNet18 with a 100-class head.
    assert count_parameters(model) == 11_220_132
    assert count_parameters(model) == pytest.approx(11.2e6, rel=0.01)


def test_resnet18_stem_is_3x3_stride_1_without_max_pool() -> None:
    model = resnet18_cifar(10, width=8)
    stem_conv = model.stem[0]
    assert isinstance(stem_conv, nn.Conv2d)
    assert stem_conv.kernel_size == (3, 3) and stem_conv.stride == (1, 1)
    assert stem_conv.padding == (1, 1)
    assert not any(isinstance(m, nn.MaxPool2d) for m in model.modules())
    assert isinstance(model.fc, nn.Linear)


@pytest.mark.parametrize(("width", "in_channels", "side"), [(4, 3, 32), (8, 1, 28), (4, 3, 16)])
def test_resnet18_shapes_and_stage_widths(width: int, in_channels: int, side: int) -> None:
    model = resnet18_cifar(7, width=width, in_channels=in_channels)
    sizes = {}
    for index in range(1, 5):
        layer = getattr(model, f"layer{index}")
        layer.register_forward_hook(lambda m, i, o, k=index: sizes.__setitem__(k, o.shape))
    out = model(torch.randn(2, in_channels, side, side))
    assert out.shape == (2, 7)
    for index, stride_product in zip(range(1, 5), (1, 2, 4, 8), strict=True):
        channels = width * 2 ** (index - 1)
        expected_side = -(-side // stride_product)
        assert sizes[index] == (2, channels, expected_side, expected_side)
    assert model.fc.in_features == 8 * width


def test_resnet18_rejects_bad_width() -> None:
    with pytest.raises(ValueError, match="width"):
        resnet18_cifar(10, width=0)


def test_resnet18_refuses_a_fractional_width_naming_it() -> None:
    with pytest.raises(ValueError, match=r"width=8\.5 must be a positive integer"):
        resnet18_cifar(10, width=8.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["in_planes", "planes", "stride"])
def test_basic_block_refuses_a_size_below_one_naming_it(field: str) -> None:
    with pytest.raises(ValueError, match=rf"{field}=0 must be a positive integer"):
        BasicBlock(**{"in_planes": 4, "planes": 8, "stride": 1, field: 0})


# --- ViT -----------------------------------------------------------------------------------


def test_vit_tiny_cifar_forward_at_32() -> None:
    model = vit_tiny_cifar(10)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert model.patch_embed.grid_size == (8, 8)
    assert count_parameters(model) < 3_000_000


@pytest.mark.parametrize(("image_size", "in_channels"), [(32, 3), (16, 1), (24, 3)])
def test_vit_forward_at_small_sizes(image_size: int, in_channels: int) -> None:
    model = vit(5, image_size=image_size, in_channels=in_channels, **SMALL_VIT)
    assert model(torch.randn(3, in_channels, image_size, image_size)).shape == (3, 5)


def test_vit_rejects_sizes_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="multiple of patch_size"):
        vit(5, image_size=30, patch_size=4)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        vit(5, embed_dim=30, num_heads=4)


@pytest.mark.parametrize("mlp_ratio", [0.0, -1.0, float("nan"), float("inf")])
def test_vit_refuses_an_mlp_ratio_that_is_not_finite_and_positive(mlp_ratio: float) -> None:
    with pytest.raises(ValueError, match=r"mlp_ratio=.* must be a finite number > 0"):
        vit(5, mlp_ratio=mlp_ratio, **SMALL_VIT)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_vit_refuses_a_drop_path_rate_outside_0_1(rate: float) -> None:
    with pytest.raises(ValueError, match=rf"drop_path_rate={rate!r} must lie in \[0, 1\)"):
        vit(5, drop_path_rate=rate, **SMALL_VIT)


def test_load_vit_weights_refuses_a_model_that_is_not_a_vit_before_reading(tmp_path) -> None:
    path = tmp_path / "vit.pth"
    path.write_bytes(b"not read")
    model = resnet18_cifar(10, width=4)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"model is a ResNet18Cifar, not a timm VisionTransformer"):
        load_vit_weights(model, path)
    assert_unchanged(model, before)


def test_load_vit_weights_refuses_missing_tensors_leaving_the_model_unchanged(tmp_path) -> None:
    path = tmp_path / "one_block.pth"
    torch.save(vit(10, image_size=32, **{**SMALL_VIT, "depth": 1}).state_dict(), path)
    model = vit(10, image_size=32, **SMALL_VIT)  # two blocks: the file lacks blocks.1
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"missing \['blocks\.1\..*unexpected \[\]"):
        load_vit_weights(model, path)
    assert_unchanged(model, before)  # blocks.0 and the embeddings were not loaded either


def test_vit_b16_is_paper_sized() -> None:
    model = vit_b16(10)
    assert model.patch_embed.grid_size == (14, 14)
    assert count_parameters(model) == pytest.approx(85.8e6, rel=0.01)


@pytest.mark.parametrize("suffix", [".pth", ".bin", ".safetensors"])
def test_vit_loads_state_dict_with_other_head(tmp_path, caplog, suffix: str) -> None:
    source = vit(10, image_size=32, **SMALL_VIT)
    state = {k: v.clone() for k, v in source.state_dict().items()}
    path = tmp_path / f"weights{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save({"state_dict": state} if suffix == ".bin" else state, path)
    with caplog.at_level(logging.WARNING, logger="assd_repro.models"):
        model = vit(4, image_size=32, pretrained_path=path, **SMALL_VIT)
    assert "dropping head.weight" in caplog.text and "dropping head.bias" in caplog.text
    assert model.head.weight.shape == (4, 32)
    loaded = model.state_dict()
    for key, value in state.items():
        if not key.startswith("head."):
            assert torch.equal(loaded[key], value), key
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 4)


def test_vit_resamples_position_embeddings_for_other_image_size(tmp_path) -> None:
    source = vit(10, image_size=32, **SMALL_VIT)
    path = tmp_path / "weights.pth"
    torch.save(source.state_dict(), path)
    model = vit(10, image_size=48, pretrained_path=path, **SMALL_VIT)
    assert model.pos_embed.shape == (1, 1 + 12 * 12, 32)
    # the class-token position is carried over unchanged, the head too (same shape)
    assert torch.equal(model.pos_embed[:, 0], source.pos_embed[:, 0])
    assert torch.equal(model.head.weight, source.head.weight)
    assert model(torch.randn(1, 3, 48, 48)).shape == (1, 10)


def test_vit_missing_weights_file_names_the_path(tmp_path) -> None:
    missing = tmp_path / "nowhere" / "vit.safetensors"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        vit(10, pretrained_path=missing, **SMALL_VIT)
    with pytest.raises(FileNotFoundError, match="vit.safetensors"):
        load_vit_weights(vit(10, **SMALL_VIT), missing)


def test_vit_rejects_incompatible_weights(tmp_path) -> None:
    path = tmp_path / "other.pth"
    torch.save(vit(10, image_size=32, patch_size=4, embed_dim=16, depth=2, num_heads=2)
               .state_dict(), path)
    with pytest.raises(ValueError, match="do not fit"):
        vit(10, image_size=32, pretrained_path=path, **SMALL_VIT)
    torch.save({"conv.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="not a timm ViT state dict"):
        vit(10, image_size=32, pretrained_path=path, **SMALL_VIT)


# --- MLP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["2x50", "3x100", "5x250"])
def test_mlp_layer_structure(size: str) -> None:
    n_layers, width = mlp_size(size)
    model = supply_chain_mlp(100, 3, n_layers=n_layers, width=width)
    types = [type(m) for m in model.body]
    assert types == [nn.Linear, nn.BatchNorm1d, nn.ReLU] * n_layers
    linears = [m for m in model.body if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == (
        [(100, width)] + [(width, width)] * (n_layers - 1)
    )
    assert isinstance(model.head, nn.Linear) and model.head.out_features == 3
    expected = (100 * width + width) + (n_layers - 1) * (width * width + width)
    expected += n_layers * 2 * width + 3 * width + 3  # BatchNorm affine, head
    assert count_parameters(model) == expected
    assert model(torch.randn(5, 100)).shape == (5, 3)


def test_mlp_size_parses() -> None:
    assert mlp_size("3x100") == (3, 100)
    assert mlp_size(" 5X250 ") == (5, 250)


@pytest.mark.parametrize("bad", ["3by100", "0x10", "3x0", "x100", "", "3x", "3x100x2", "-1x5"])
def test_mlp_size_rejects_bad_strings(bad: str) -> None:
    with pytest.raises(ValueError, match="LAYERSxWIDTH"):
        mlp_size(bad)


# --- specs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "cls"),
    [
        (ModelSpec.resnet18(10, width=4), ResNet18Cifar),
        (ModelSpec.mlp(12, size="2x50"), SupplyChainMLP),
        (ModelSpec.vit(10, depth=1, embed_dim=32, num_heads=2), nn.Module),
        (ModelSpec("vit", 3, {"image_size": 16, **SMALL_VIT}), nn.Module),
    ],
)
def test_spec_json_round_trip_and_build(spec: ModelSpec, cls: type) -> None:
    restored = ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert restored == spec and hash(restored) == hash(spec)
    model = build_model(restored)
    assert isinstance(model, cls)
    side = spec.kwargs.get("image_size", 32)
    x = torch.randn(2, 12) if spec.kind == "mlp" else torch.randn(2, 3, side, side)
    assert model(x).shape == (2, spec.n_classes)


def test_spec_options_are_order_independent_and_frozen() -> None:
    a = ModelSpec("mlp", 3, {"n_features": 4, "n_layers": 2, "width": 8})
    b = ModelSpec("mlp", 3, {"width": 8, "n_layers": 2, "n_features": 4})
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.kind = "vit"  # type: ignore[misc]


def test_spec_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="widht"):
        ModelSpec("resnet18", 10, {"widht": 8})
    with pytest.raises(ValueError, match="unknown model kind"):
        ModelSpec("lenet", 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="preset"):
        ModelSpec.vit(10, preset="huge")
    with pytest.raises(ValueError, match="n_classes"):
        ModelSpec("resnet18", 0)
    with pytest.raises(ValueError, match="expected keys"):
        ModelSpec.from_dict({"kind": "mlp"})


def test_build_model_refuses_a_spec_dict_naming_the_fix() -> None:
    spec = ModelSpec.mlp(12, size="2x50").to_dict()
    with pytest.raises(ValueError, match=r"spec is a dict, not a ModelSpec.*ModelSpec\.from_dict"):
        build_model(spec)  # type: ignore[arg-type]


def test_spec_without_pretrained_drops_the_path() -> None:
    spec = ModelSpec.vit(10, preset="b16", pretrained_path="/models/vit.safetensors")
    assert "pretrained_path" not in spec.without_pretrained().kwargs
    assert spec.without_pretrained().kwargs["preset"] == "b16"
