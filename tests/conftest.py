"""Shared fixtures: seeded RNGs, two small models (MLP with BatchNorm, small CNN) and loaders."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# One torch thread: the tests' models are tiny, and two threads on a shared 2-core machine can
# be many times slower than one.
torch.set_num_threads(1)


def require_cifar10_archive(what: str) -> None:
    """Skip the calling test, saying what it checks, when the CIFAR-10 JPEG archive cannot be
    found (a user's clone without the shared data folder); the message names where it looked."""
    from assd_repro.data import DatasetNotFoundError
    from assd_repro.data.folders import find_cifar10_jpeg

    try:
        find_cifar10_jpeg()
    except DatasetNotFoundError as error:
        pytest.skip(f"{what} is checked on the CIFAR-10 JPEG archive: {error}")


@pytest.fixture(autouse=True)
def _seed_everything() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


def make_mlp(n_in: int = 6, hidden: int = 8, n_classes: int = 3) -> nn.Module:
    """Linear -> BatchNorm1d -> ReLU -> Linear, with non-trivial BatchNorm statistics."""
    model = nn.Sequential(
        nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
    )
    _warm_batchnorm(model, torch.randn(64, n_in))
    return model


def make_cnn(in_channels: int = 1, n_classes: int = 4) -> nn.Module:
    """Two conv layers with BatchNorm2d, global pooling and a linear head (8x8 inputs)."""
    model = nn.Sequential(
        nn.Conv2d(in_channels, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 6, 3, stride=2, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, n_classes),
    )
    _warm_batchnorm(model, torch.randn(32, in_channels, 8, 8))
    return model


def _warm_batchnorm(model: nn.Module, x: torch.Tensor) -> None:
    model.train()
    with torch.no_grad():
        model(x)
    model.eval()


def mlp_data(n: int = 50, n_in: int = 6, n_classes: int = 3) -> TensorDataset:
    return TensorDataset(torch.randn(n, n_in), torch.randint(0, n_classes, (n,)))


def cnn_data(n: int = 30, in_channels: int = 1, n_classes: int = 4) -> TensorDataset:
    return TensorDataset(torch.randn(n, in_channels, 8, 8), torch.randint(0, n_classes, (n,)))


MODELS: dict[str, tuple[Callable[[], nn.Module], Callable[..., TensorDataset]]] = {
    "mlp_bn": (make_mlp, mlp_data),
    "cnn": (make_cnn, cnn_data),
}


@pytest.fixture(params=sorted(MODELS))
def model_and_data(request: pytest.FixtureRequest) -> tuple[nn.Module, TensorDataset, TensorDataset]:
    """(model, retain data, forget data) for each small test model."""
    make_model, make_data = MODELS[request.param]
    return make_model(), make_data(50), make_data(13)


def loader(dataset: TensorDataset, batch_size: int = 8) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=False)


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """Copies of every parameter and buffer, keyed by name."""
    return {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}


def assert_bit_identical(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    view = {torch.float32: torch.int32, torch.float64: torch.int64}.get(a.dtype)
    if view is None:
        assert torch.equal(a, b)
    else:
        assert torch.equal(a.contiguous().view(view), b.contiguous().view(view))


def assert_unchanged(model: nn.Module, before: dict[str, torch.Tensor]) -> None:
    """Every parameter and buffer of ``model`` bit-identical to the :func:`snapshot` ``before``."""
    after = snapshot(model)
    assert after.keys() == before.keys()
    for name, value in after.items():
        assert_bit_identical(value, before[name])
