"""Forget-task builders: the splits are disjoint and complete, targets right, errors clear."""

from __future__ import annotations

import pytest
import torch

from assd_repro.data import (
    CIFAR100_COARSE_CLASSES,
    CIFAR100_FINE_CLASSES,
    CIFAR100_FINE_TO_COARSE,
    ForgetTask,
    ImageData,
    ImageDataset,
    fullclass,
    load_mnist_sample,
    random_forget,
    resolve_class,
    subclass,
)


def _tagged(labels: list[int], classes: list[str], offset: int,
            coarse: list[int] | None = None, coarse_classes: list[str] | None = None
            ) -> ImageDataset:
    """Images whose single pixel is their id (offset + position), to trace them."""
    n = len(labels)
    images = (torch.arange(n, dtype=torch.float32) + offset).view(n, 1, 1, 1)
    return ImageDataset(images, torch.tensor(labels), classes,
                        None if coarse is None else torch.tensor(coarse), coarse_classes)


@pytest.fixture(scope="module")
def cifar100_like() -> ImageData:
    """Two train and one test image per CIFAR-100 fine class, with the official superclasses."""
    coarse_of = [CIFAR100_COARSE_CLASSES.index(CIFAR100_FINE_TO_COARSE[f])
                 for f in CIFAR100_FINE_CLASSES]
    fine_train = [f for f in range(100) for _ in range(2)]
    fine_test = list(range(100))
    classes, coarse = list(CIFAR100_FINE_CLASSES), list(CIFAR100_COARSE_CLASSES)
    train = _tagged(fine_train, classes, 0, [coarse_of[f] for f in fine_train], coarse)
    test = _tagged(fine_test, classes, 10_000, [coarse_of[f] for f in fine_test], coarse)
    return ImageData("cifar100", train, test)


@pytest.fixture(scope="module")
def cifar20_like(cifar100_like: ImageData) -> ImageData:
    return ImageData("cifar20", cifar100_like.train.with_coarse_targets(),
                     cifar100_like.test.with_coarse_targets())


def _ids(ds: ImageDataset) -> set[int]:
    return {int(v) for v in ds.images.flatten().tolist()}


def _assert_partition(task: ForgetTask) -> None:
    retain, forget = _ids(task.retain_train), _ids(task.forget_train)
    assert retain.isdisjoint(forget)
    assert retain | forget == _ids(task.full_train)
    assert torch.equal(task.full_train.images[task.forget_indices], task.forget_train.images)
    assert torch.equal(task.full_train.images[task.retain_indices], task.retain_train.images)
    assert torch.equal(task.full_train.labels[task.retain_indices], task.retain_train.labels)
    if task.kind != "random":
        assert _ids(task.retain_test).isdisjoint(_ids(task.forget_test))
        assert _ids(task.retain_test) | _ids(task.forget_test) == _ids(task.test)


def test_fullclass_splits(cifar100_like: ImageData) -> None:
    task = fullclass(cifar100_like, "rocket")
    _assert_partition(task)
    assert task.name == "cifar100/fullclass/rocket" and task.kind == "fullclass"
    assert task.n_classes == 100 and task.forget_target == 69 and task.forget_class == "rocket"
    assert len(task.forget_train) == 2 and len(task.forget_test) == 1
    assert set(task.forget_train.labels.tolist()) == {69} == set(task.forget_test.labels.tolist())
    assert 69 not in task.retain_train.labels.tolist() + task.retain_test.labels.tolist()
    assert task.forget_share == pytest.approx(0.01)
    assert fullclass(cifar100_like, 69).name == task.name


@pytest.mark.parametrize(("alias", "official"), [
    ("vehicle2", "vehicles_2"), ("veg", "fruit_and_vegetables"), ("people", "people"),
    ("electrical devices", "household_electrical_devices"),
    ("natural_scenes", "large_natural_outdoor_scenes"),
])
def test_fullclass_cifar20_paper_names(cifar20_like: ImageData, alias: str, official: str) -> None:
    task = fullclass(cifar20_like, alias)
    _assert_partition(task)
    assert task.forget_class == official and task.n_classes == 20
    assert len(task.forget_train) == 10 and len(task.forget_test) == 5  # 5 fine classes


def test_subclass_on_cifar100_and_cifar20_agree(cifar100_like: ImageData,
                                               cifar20_like: ImageData) -> None:
    a, b = subclass(cifar100_like, "rocket"), subclass(cifar20_like, "rocket")
    for task in (a, b):
        _assert_partition(task)
        assert task.n_classes == 20 and task.kind == "subclass"
        assert task.forget_target == CIFAR100_COARSE_CLASSES.index("vehicles_2")
        assert set(task.forget_train.labels.tolist()) == {19}
        assert task.forget_train.fine_labels is not None
        assert set(task.forget_train.fine_labels.tolist()) == {69}
        # the other four vehicles_2 classes stay, labelled 19
        assert int((task.retain_train.labels == 19).sum()) == 8
        assert int((task.retain_test.labels == 19).sum()) == 4
    assert a.name == "cifar100/subclass/rocket" and b.name == "cifar20/subclass/rocket"
    assert torch.equal(a.retain_train.images, b.retain_train.images)
    assert torch.equal(a.forget_test.labels, b.forget_test.labels)


def test_subclass_on_mnist_sample() -> None:
    data = load_mnist_sample(max_per_class=20)
    task = subclass(data, "7")
    both = torch.cat([task.retain_indices, task.forget_indices]).sort().values
    assert torch.equal(both, torch.arange(len(task.full_train)))
    assert torch.equal(task.full_train.images[task.forget_indices], task.forget_train.images)
    assert task.n_classes == 5 and task.forget_train.coarse_labels is None
    assert set(task.forget_train.labels.tolist()) == {task.forget_target}
    assert task.test.classes[task.forget_target] == "stroke_1_7"
    assert len(task.forget_train) + len(task.forget_test) == 20


def test_random_forget(cifar100_like: ImageData) -> None:
    task = random_forget(cifar100_like, 7, seed=3)
    _assert_partition(task)
    assert len(task.forget_train) == 7 and len(task.retain_train) == 193
    assert task.retain_test is cifar100_like.test and task.forget_test is task.forget_train
    assert task.name == "cifar100/random/7@seed3" and task.forget_target is None
    again, other = random_forget(cifar100_like, 7, seed=3), random_forget(cifar100_like, 7, seed=4)
    assert torch.equal(again.forget_indices, task.forget_indices)
    assert not torch.equal(other.forget_indices, task.forget_indices)
    assert len(random_forget(cifar100_like, 0.1).forget_train) == 20


def test_random_fraction_rounds_like_the_paper() -> None:
    n = 50_000
    tiny = ImageDataset(torch.zeros(n, 1, 1, 1, dtype=torch.uint8), torch.arange(n) % 10,
                        [str(i) for i in range(10)])
    data = ImageData("cifar10", tiny, tiny.subset(range(10)))
    assert len(random_forget(data, 0.00165).forget_train) == 83


@pytest.mark.parametrize("bad", [0, 200, 250, -1, 0.0, 1.0, 1.5, True, 0.001])
def test_random_forget_rejects_empty_splits(cifar100_like: ImageData, bad: float) -> None:
    with pytest.raises(ValueError):
        random_forget(cifar100_like, bad)


def test_unknown_class_lists_valid_names(cifar100_like: ImageData,
                                        cifar20_like: ImageData) -> None:
    with pytest.raises(ValueError) as info:
        fullclass(cifar100_like, "spaceship")
    assert "spaceship" in str(info.value) and "rocket" in str(info.value)
    with pytest.raises(ValueError, match="out of range"):
        fullclass(cifar100_like, 100)
    with pytest.raises(ValueError, match="fine class"):
        subclass(cifar20_like, "vehicles_2")


def test_empty_splits_are_errors() -> None:
    train = _tagged([0, 0, 1, 1, 2], ["a", "b", "c"], 0)
    test = _tagged([0, 1], ["a", "b", "c"], 100)
    data = ImageData("toy", train, test)
    with pytest.raises(ValueError, match="forget_test"):
        fullclass(data, "c")  # no test image of c
    only = _tagged([0, 0], ["a"], 0)
    with pytest.raises(ValueError, match="retain_train"):
        fullclass(ImageData("one", only, only), "a")
    with pytest.raises(ValueError, match="coarse"):
        subclass(data, "a")


def test_resolve_class_forms() -> None:
    classes = ["large_man-made_outdoor_things", "vehicles_2", "7"]
    assert resolve_class("Large Man-Made Outdoor Things", classes) == 0
    assert resolve_class("vehicle2", classes) == 1
    assert resolve_class("7", classes) == 2 and resolve_class("1", classes) == 1
    for bad in (True, 3, "boat", 1.0):
        with pytest.raises(ValueError):
            resolve_class(bad, classes)  # type: ignore[arg-type]
