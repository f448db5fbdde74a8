"""compute_device: the environment variable, and clear errors for bad values."""

from __future__ import annotations

import pytest
import torch

from assd_repro.experiments.engine.device import compute_device


def test_default_is_cpu_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSD_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert compute_device().type == expected


def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSD_DEVICE", "cpu")
    assert compute_device() == torch.device("cpu")


@pytest.mark.parametrize("value", ["tpu-ish", "gpu"])
def test_unknown_device(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ASSD_DEVICE", value)
    with pytest.raises(ValueError, match=f"ASSD_DEVICE='{value}' is not a torch device"):
        compute_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSD_DEVICE", "cuda")
    with pytest.raises(ValueError, match="no CUDA device"):
        compute_device()
