"""A toy experiment for the engine tests: a tiny torch model trained per scenario."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, ClassVar

import torch

from assd_repro.experiments import ExperimentConfig


@dataclasses.dataclass(frozen=True)
class ToyConfig(ExperimentConfig):
    EXPERIMENT: ClassVar[str] = "toy"
    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"n": 64, "steps": 20, "seeds": (0, 1, 2)},
        "book": {"n": 256, "steps": 50, "seeds": tuple(range(5))},
        "paper": {"n": 4096, "steps": 500, "seeds": tuple(range(100))},
    }

    n: int = 64
    steps: int = 20
    lr: float = 0.1
    sleep_s: float = 0.0

    def validate(self) -> None:
        if self.n < 2:
            raise ValueError(f"n={self.n} must be at least 2")


def toy_scenario(config: ToyConfig, seed: int) -> list[dict[str, Any]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(config.n, 5, generator=g)
    y = (x[:, 0] + 0.3 * torch.randn(config.n, generator=g) > 0).long()
    model = torch.nn.Linear(5, 2)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr)
    for _ in range(config.steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    if config.sleep_s:
        time.sleep(config.sleep_s)
    acc = float((model(x).argmax(1) == y).float().mean()) * 100
    return [
        {"method": "sgd", "metric": "loss", "value": float(loss.detach()), "pid": os.getpid()},
        {"method": "sgd", "metric": "accuracy", "value": acc, "pid": os.getpid()},
    ]


@dataclasses.dataclass(frozen=True)
class ToyFileConfig(ToyConfig):
    """The toy experiment reading a number from an input data file (hashed by content)."""

    EXPERIMENT: ClassVar[str] = "toy_file"
    DATA_FIELDS: ClassVar[tuple[str, ...]] = ("data_path",)

    data_path: str | None = None


def toy_file_scenario(config: ToyFileConfig, seed: int) -> list[dict[str, Any]]:
    offset = 0.0 if config.data_path is None else float(open(config.data_path).read())
    return [{**row, "value": row["value"] + offset} for row in toy_scenario(config, seed)]
