"""image_pipeline.evaluate forwards each sample once and gives the numbers of the three
separate protocol calls (accuracy on retain_test and forget_test, entropy_mia)."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from assd_core import accuracy, entropy_mia
from assd_repro.data import ForgetTask, fullclass, load_mnist_sample, random_forget, subclass
from assd_repro.experiments.image_pipeline import evaluate

pytest.importorskip("sklearn", reason="the MIA needs scikit-learn")


def three_calls(model: nn.Module, task: ForgetTask, batch_size: int) -> dict[str, float]:
    """The protocol as separate calls (the slow, obvious reference: test forwarded twice)."""
    def load(ds):  # type: ignore[no-untyped-def]
        return DataLoader(ds, batch_size=batch_size)

    return {"Dr": accuracy(model, load(task.retain_test)),
            "Df": accuracy(model, load(task.forget_test)),
            "MIA": entropy_mia(model, load(task.retain_train), load(task.forget_train),
                               load(task.test))}


class Counting(nn.Module):
    """A small classifier that counts the samples it forwards."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 32), nn.ReLU(),
                                 nn.Linear(32, n_classes))
        self.seen = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen += len(x)
        return self.net(x.float() / 255)


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return load_mnist_sample(max_per_class=40)


@pytest.mark.parametrize("kind", ["fullclass", "subclass", "random"])
@pytest.mark.parametrize("batch_size", [7, 256])
def test_one_pass_equals_the_three_calls_and_forwards_each_sample_once(
        data, kind: str, batch_size: int) -> None:  # type: ignore[no-untyped-def]
    task = {"fullclass": lambda: fullclass(data, 3),
            "subclass": lambda: subclass(data, "3"),
            "random": lambda: random_forget(data, 0.05, seed=1)}[kind]()
    model = Counting(task.n_classes)
    model.train()
    fast = evaluate(model, task, batch_size=batch_size)
    assert model.training  # flags restored
    assert model.seen == len(task.retain_train) + len(task.forget_train) + len(task.test)
    model.seen = 0
    slow = three_calls(model, task, batch_size)
    assert model.seen > len(task.retain_train) + len(task.forget_train) + len(task.test)
    assert fast == slow


def test_the_test_mask_marks_the_forget_test_images(data) -> None:  # type: ignore[no-untyped-def]
    task = fullclass(data, 3)
    assert task.test_forget_mask is not None
    assert torch.equal(task.test.images[task.test_forget_mask], task.forget_test.images)
    assert torch.equal(task.test.images[~task.test_forget_mask], task.retain_test.images)
    assert random_forget(data, 0.05).test_forget_mask is None
