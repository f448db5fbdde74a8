"""Image loaders, preprocessing and loaders, on small data written to tmp_path (and the shared
CIFAR-10 JPEG archive when it is beside the checkout)."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from assd_repro.data import (
    CIFAR10_CLASSES,
    CIFAR10_GROUPS,
    CIFAR100_COARSE_CLASSES,
    CIFAR100_FINE_CLASSES,
    CIFAR100_FINE_TO_COARSE,
    CIFAR100_SUPERCLASSES,
    IMAGE_DATASET_NAMES,
    MNIST_SAMPLE_COARSE_GROUPS,
    DatasetNotFoundError,
    ImageData,
    ImageDataset,
    channel_stats,
    load_cifar10,
    load_cifar10_jpeg,
    load_cifar20,
    load_cifar100,
    load_image_dataset,
    load_image_folder,
    load_mnist_sample,
    load_pins,
    make_loader,
    prepare_image_data,
    resize_images,
    stratified_split_indices,
    subclass,
)
from assd_repro.data.cifar import with_cifar10_groups
from assd_repro.data.containers import first_per_class_indices

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CIFAR10_JPEG = SHARED / "data" / "cifar10" / "cifar10-jpeg.tar.gz"


# ----------------------------------------------------------------------------- fake data


def _dump(path: Path, obj: dict, bytes_keys: bool = False) -> None:
    if bytes_keys:  # Python 2 pickles come back with bytes keys under some encodings
        obj = {k.encode(): v for k, v in obj.items()}
    with open(path, "wb") as handle:
        pickle.dump(obj, handle)


def write_fake_cifar10(root: Path, per_class_per_batch: int = 2, seed: int = 0) -> Path:
    """torchvision layout: root/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.permutation(np.repeat(np.arange(10), per_class_per_batch)).tolist()
        data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
        _dump(folder / name, {"data": data, "labels": labels, "batch_label": name},
              bytes_keys=name == "data_batch_2")
    _dump(folder / "batches.meta", {"label_names": list(CIFAR10_CLASSES)})
    return folder


def write_fake_cifar100(root: Path, n_train: int = 2, n_test: int = 1, seed: int = 0,
                        break_coarse: bool = False) -> Path:
    """torchvision layout: root/cifar-100-python/{train,test,meta}, n images per fine class."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    coarse_of = [CIFAR100_COARSE_CLASSES.index(CIFAR100_FINE_TO_COARSE[f])
                 for f in CIFAR100_FINE_CLASSES]
    for name, per_class in (("train", n_train), ("test", n_test)):
        fine = rng.permutation(np.repeat(np.arange(100), per_class)).tolist()
        coarse = [coarse_of[f] for f in fine]
        if break_coarse:
            coarse[0] = (coarse[0] + 1) % 20
        data = rng.integers(0, 256, size=(len(fine), 3072), dtype=np.uint8)
        _dump(folder / name, {"data": data, "fine_labels": fine, "coarse_labels": coarse})
    _dump(folder / "meta", {"fine_label_names": list(CIFAR100_FINE_CLASSES),
                            "coarse_label_names": list(CIFAR100_COARSE_CLASSES)})
    return folder


def _png_bytes(rng: np.random.Generator, size: tuple[int, int]) -> bytes:
    array = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def write_split_tree(root: Path, classes: dict[str, tuple[int, int]], size: int = 8) -> Path:
    """root/top/{train,test}/<class>/NNNN.png (lossless, so folder and tar can be compared)."""
    rng = np.random.default_rng(1)
    top = root / "top"
    for cls, (n_train, n_test) in classes.items():
        for split, n in (("train", n_train), ("test", n_test)):
            folder = top / split / cls
            folder.mkdir(parents=True)
            for i in range(n):
                (folder / f"{i:04d}.png").write_bytes(_png_bytes(rng, (size, size)))
    return top


def write_fake_pins(root: Path, people: dict[str, int]) -> Path:
    """root/105_classes_pins_dataset/pins_<Name>/<name>N.jpg with varying image sizes."""
    rng = np.random.default_rng(2)
    base = root / "105_classes_pins_dataset"
    for person, n in people.items():
        folder = base / f"pins_{person}"
        folder.mkdir(parents=True)
        for i in range(n):
            w, h = int(rng.integers(20, 40)), int(rng.integers(20, 40))
            array = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
            Image.fromarray(array).save(folder / f"{person.split()[0].lower()}{i}.jpg")
    return base


@pytest.fixture(scope="module")
def mnist() -> ImageData:
    return load_mnist_sample(seed=0)


# ----------------------------------------------------------------------------- CIFAR


def test_cifar10_reads_torchvision_pickles(tmp_path: Path) -> None:
    folder = write_fake_cifar10(tmp_path)
    data = load_cifar10(tmp_path)
    assert data.name == "cifar10"
    assert data.train.images.shape == (100, 3, 32, 32) and data.train.images.dtype == torch.uint8
    assert data.test.images.shape == (20, 3, 32, 32)
    assert data.classes == list(CIFAR10_CLASSES)
    assert torch.bincount(data.train.labels).tolist() == [10] * 10
    first = pickle.load(open(folder / "data_batch_1", "rb"))
    expected = torch.from_numpy(first["data"][3].reshape(3, 32, 32))
    assert torch.equal(data.train.images[3], expected)  # channel-major, row-major layout
    assert data.train.labels[3] == first["labels"][3]


def test_cifar10_max_per_class_keeps_first_in_file_order(tmp_path: Path) -> None:
    write_fake_cifar10(tmp_path)
    full, small = load_cifar10(tmp_path), load_cifar10(tmp_path, max_per_class=3)
    assert torch.bincount(small.train.labels).tolist() == [3] * 10
    for c in range(10):
        first3 = full.train.images[full.train.labels == c][:3]
        assert torch.equal(small.train.images[small.train.labels == c], first3)


def test_cifar10_carries_the_look_alike_groups_so_that_subclass_tasks_exist(tmp_path: Path
                                                                           ) -> None:
    write_fake_cifar10(tmp_path)
    data = load_cifar10(tmp_path)
    assert data.train.coarse_classes == list(CIFAR10_GROUPS) and len(CIFAR10_GROUPS) == 5
    assert sorted(c for pair in CIFAR10_GROUPS.values() for c in pair) == sorted(CIFAR10_CLASSES)
    for split in (data.train, data.test):
        for label, group in zip(split.labels.tolist(), split.coarse_labels.tolist()):
            assert CIFAR10_CLASSES[label] in CIFAR10_GROUPS[split.coarse_classes[group]]
    task = subclass(data, "cat")  # forget cats, keep predicting "pets" (for dogs)
    assert task.n_classes == 5 and task.forget_class == "cat"
    assert len(task.forget_train) == 10 and len(task.retain_train) == 90
    assert task.forget_target == list(CIFAR10_GROUPS).index("pets")
    dogs = task.full_train.fine_labels == CIFAR10_CLASSES.index("dog")
    assert set(task.full_train.labels[dogs].tolist()) == {task.forget_target}


def test_cifar10_groups_refuse_other_classes() -> None:
    split = ImageDataset(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 1]),
                         ["a", "b"])
    with pytest.raises(ValueError, match="not CIFAR-10's"):
        with_cifar10_groups(split)


def test_data_root_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_fake_cifar10(tmp_path)
    monkeypatch.setenv("ASSD_DATA", str(tmp_path))
    assert len(load_cifar10().train) == 100


@pytest.mark.parametrize("name", ["cifar10", "cifar100", "cifar20", "pins", "cifar10_jpeg"])
def test_missing_dataset_error_names_the_paths(tmp_path: Path, name: str) -> None:
    root = tmp_path / "empty_root"
    root.mkdir()
    with pytest.raises(DatasetNotFoundError) as info:
        load_image_dataset(name, root)  # type: ignore[arg-type]
    assert isinstance(info.value, FileNotFoundError)
    assert str(root) in str(info.value)
    assert info.value.searched and all(str(p).startswith(str(root)) for p in info.value.searched)


def test_cifar100_and_cifar20_labels(tmp_path: Path) -> None:
    write_fake_cifar100(tmp_path)
    c100 = load_cifar100(tmp_path)
    assert c100.n_classes == 100 and c100.train.images.shape == (200, 3, 32, 32)
    assert c100.train.coarse_classes == list(CIFAR100_COARSE_CLASSES)
    rocket = CIFAR100_FINE_CLASSES.index("rocket")
    assert set(c100.train.coarse_labels[c100.train.labels == rocket].tolist()) == {19}
    c20 = load_cifar20(tmp_path, max_per_class=1)
    assert c20.name == "cifar20" and c20.n_classes == 20
    assert c20.classes[19] == "vehicles_2"
    assert torch.bincount(c20.train.labels).tolist() == [5] * 20
    assert c20.train.fine_classes == list(CIFAR100_FINE_CLASSES)
    assert c20.train.coarse_labels is None and c20.train.fine_labels is not None


def test_cifar100_rejects_wrong_coarse_labels(tmp_path: Path) -> None:
    write_fake_cifar100(tmp_path, break_coarse=True)
    with pytest.raises(ValueError, match="superclasses"):
        load_cifar100(tmp_path)


def test_cifar100_superclass_table() -> None:
    assert len(CIFAR100_SUPERCLASSES) == 20
    assert all(len(f) == 5 for f in CIFAR100_SUPERCLASSES.values())
    assert len(set(CIFAR100_FINE_CLASSES)) == 100
    paper = {"rocket": "vehicles_2", "mushroom": "fruit_and_vegetables", "baby": "people",
             "lamp": "household_electrical_devices", "sea": "large_natural_outdoor_scenes"}
    for fine, coarse in paper.items():
        assert CIFAR100_FINE_TO_COARSE[fine] == coarse
    # label indices of the SSD code's conf.class_dict
    assert CIFAR100_FINE_CLASSES.index("rocket") == 69 and CIFAR100_FINE_CLASSES.index("sea") == 71
    assert CIFAR100_COARSE_CLASSES.index("vehicles_2") == 19
    assert CIFAR100_COARSE_CLASSES.index("large_natural_outdoor_scenes") == 10


# ----------------------------------------------------------------------------- preprocessing


def test_normalisation_from_train_statistics(tmp_path: Path) -> None:
    write_fake_cifar100(tmp_path)
    data = load_image_dataset("cifar20", tmp_path)
    x = data.train.images.double()
    assert data.train.images.dtype == torch.float32
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3, dtype=torch.float64), atol=1e-5)
    assert torch.allclose(x.std(dim=(0, 2, 3), unbiased=False),
                          torch.ones(3, dtype=torch.float64), atol=1e-5)
    raw = load_cifar20(tmp_path)
    reference = raw.train.images.double() / 255
    assert data.mean == pytest.approx(reference.mean(dim=(0, 2, 3)).tolist(), abs=1e-12)
    expected_test = (raw.test.images.double() / 255 - torch.tensor(data.mean).view(1, 3, 1, 1)) \
        / torch.tensor(data.std).view(1, 3, 1, 1)
    assert torch.allclose(data.test.images.double(), expected_test, atol=1e-5)


def test_channel_stats_matches_direct_float64() -> None:
    images = torch.randint(0, 256, (37, 2, 5, 4), dtype=torch.uint8)
    mean, std = channel_stats(images)
    x = images.double() / 255
    assert mean == pytest.approx(x.mean(dim=(0, 2, 3)).tolist(), abs=1e-12)
    assert std == pytest.approx(x.std(dim=(0, 2, 3), unbiased=False).tolist(), abs=1e-12)


def test_given_and_disabled_normalisation(mnist: ImageData) -> None:
    plain = prepare_image_data(mnist, normalize=False)
    assert plain.mean is None and 0.0 <= plain.train.images.min() <= plain.train.images.max() <= 1.0
    given = prepare_image_data(mnist, normalize=((0.5,), (0.25,)))
    assert torch.allclose(given.train.images, (plain.train.images - 0.5) / 0.25)
    with pytest.raises(ValueError, match="1 means"):
        prepare_image_data(mnist, normalize=((0.5, 0.5, 0.5), (1.0, 1.0, 1.0)))


def test_eager_and_lazy_resizing_agree(mnist: ImageData) -> None:
    small = ImageData("m", mnist.train.subset(range(6)), mnist.test.subset(range(4)))
    eager = prepare_image_data(small, image_size=40)
    lazy = prepare_image_data(small, image_size=40, max_eager_bytes=0)
    assert eager.train.resize_to is None and eager.train.images.shape == (6, 1, 40, 40)
    assert lazy.train.resize_to == 40 and lazy.train.images.shape == (6, 1, 28, 28)
    assert lazy.train.image_shape == (1, 40, 40)
    x_lazy, y_lazy = lazy.train.get_batch([0, 5])
    assert torch.allclose(x_lazy, eager.train.images[[0, 5]], atol=1e-5)
    assert torch.allclose(lazy.test[3][0], eager.test.images[3], atol=1e-5)
    assert torch.equal(y_lazy, eager.train.labels[[0, 5]])


def test_unknown_dataset_name_lists_valid_names() -> None:
    with pytest.raises(ValueError) as info:
        load_image_dataset("cifar1000")  # type: ignore[arg-type]
    assert "cifar1000" in str(info.value)
    assert all(name in str(info.value) for name in IMAGE_DATASET_NAMES)


# ----------------------------------------------------------------------------- folders


def test_image_folder_and_tar_give_the_same_data(tmp_path: Path) -> None:
    top = write_split_tree(tmp_path, {"cat": (3, 2), "ant": (2, 1), "bee": (4, 2)})
    archive = tmp_path / "tree.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(top, arcname="top")
    from_dir = load_image_folder(tmp_path)  # parent of the only sub-folder
    from_tar = load_image_folder(archive)
    assert from_dir.classes == ["ant", "bee", "cat"]
    assert torch.bincount(from_dir.train.labels).tolist() == [2, 4, 3]
    assert from_dir.train.images.shape == (9, 3, 8, 8)
    for a, b in ((from_dir.train, from_tar.train), (from_dir.test, from_tar.test)):
        assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    png = Image.open(top / "train" / "cat" / "0001.png")
    assert torch.equal(from_dir.train.images[7],
                       torch.from_numpy(np.array(png)).permute(2, 0, 1))
    capped = load_image_folder(archive, max_per_class=1, load_size=4)
    assert len(capped.train) == 3 and capped.train.images.shape[-2:] == (4, 4)


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_image_folder(tmp_path / "nothing")
    top = write_split_tree(tmp_path, {"a": (1, 1)})
    Image.fromarray(np.zeros((5, 6, 3), np.uint8)).save(top / "train" / "a" / "odd.png")
    with pytest.raises(ValueError, match="load_size"):
        load_image_folder(top)


@pytest.mark.parametrize(("options", "named"), [
    ({"max_per_class": -1}, r"max_per_class=-1 must be a positive integer"),
    ({"max_per_class": 0}, r"max_per_class=0 must be a positive integer"),
    ({"load_size": 0}, r"load_size=0 must be a positive integer"),
])
def test_load_image_folder_refuses_counts_below_one_before_reading(tmp_path: Path, options: dict,
                                                                    named: str) -> None:
    # a missing folder: the ValueError comes first, before any path is looked at
    with pytest.raises(ValueError, match=named):
        load_image_folder(tmp_path / "nothing", **options)


def test_load_cifar10_jpeg_refuses_a_fractional_max_per_class(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"max_per_class=2\.5 must be a positive integer"):
        load_cifar10_jpeg(tmp_path, max_per_class=2.5)  # type: ignore[arg-type]


def test_load_pins_refuses_a_zero_load_size_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"load_size=0 must be a positive integer"):
        load_pins(tmp_path, load_size=0)  # no Pins folder there: checked before the search


def test_cifar10_jpeg_finds_archive_under_root(tmp_path: Path) -> None:
    top = write_split_tree(tmp_path / "src", {c: (2, 1) for c in CIFAR10_CLASSES}, size=32)
    (tmp_path / "cifar10").mkdir()
    with tarfile.open(tmp_path / "cifar10" / "cifar10-jpeg.tar.gz", "w:gz") as tar:
        tar.add(top, arcname="cifar10-jpeg")
    data = load_image_dataset("cifar10_jpeg", tmp_path)
    assert data.name == "cifar10_jpeg" and data.classes == list(CIFAR10_CLASSES)
    assert data.train.images.shape == (20, 3, 32, 32)


@pytest.mark.shared
def test_shared_cifar10_jpeg_archive() -> None:
    if not CIFAR10_JPEG.is_file():
        pytest.skip(f"shared CIFAR-10 JPEG archive not found at {CIFAR10_JPEG}")
    data = load_cifar10_jpeg(CIFAR10_JPEG.parent.parent, max_per_class=3)
    assert data.classes == list(CIFAR10_CLASSES)
    assert data.train.images.shape == (30, 3, 32, 32) and data.test.images.shape == (30, 3, 32, 32)
    assert torch.bincount(data.test.labels).tolist() == [3] * 10
    assert data.train.coarse_classes == list(CIFAR10_GROUPS)
    assert data.train.images.float().std() > 20  # real pictures, not blank
    with tarfile.open(CIFAR10_JPEG) as tar:  # first training airplane, decoded independently
        raw = tar.extractfile("cifar10-jpeg/train/airplane/0000.jpg").read()  # type: ignore[union-attr]
    expected = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"), dtype=np.int16)
    diff = (data.train.images[0].permute(1, 2, 0).numpy().astype(np.int16) - expected)
    assert np.abs(diff).max() <= 2  # decoders may differ by rounding


def test_pins_stratified_split(tmp_path: Path) -> None:
    write_fake_pins(tmp_path, {"Adriana Lima": 5, "Tom Hardy": 10, "Zendaya": 4})
    data = load_pins(tmp_path, test_fraction=0.2, seed=3, load_size=16)
    assert data.classes == ["Adriana Lima", "Tom Hardy", "Zendaya"]
    assert data.train.images.shape[1:] == (3, 16, 16)
    assert torch.bincount(data.test.labels).tolist() == [1, 2, 1]
    assert torch.bincount(data.train.labels).tolist() == [4, 8, 3]
    again = load_pins(tmp_path / "105_classes_pins_dataset", test_fraction=0.2, seed=3,
                      load_size=16)
    assert torch.equal(again.test.images, data.test.images)
    other = load_pins(tmp_path, test_fraction=0.2, seed=4, load_size=16)
    assert not torch.equal(other.test.images, data.test.images)
    everything = torch.cat([data.train.images, data.test.images]).flatten(1)
    assert torch.unique(everything, dim=0).shape[0] == 19  # a partition of all images
    prepared = load_image_dataset("pins", tmp_path, max_per_class=2, load_size=8)
    assert len(prepared.train) + len(prepared.test) == 6


# ----------------------------------------------------------------------------- MNIST sample


def test_mnist_sample_shapes_counts_and_groups(mnist: ImageData) -> None:
    assert mnist.train.images.shape == (4000, 1, 28, 28) and mnist.train.images.dtype == torch.uint8
    assert mnist.test.images.shape == (1000, 1, 28, 28)
    assert torch.bincount(mnist.train.labels).tolist() == [400] * 10
    assert torch.bincount(mnist.test.labels).tolist() == [100] * 10
    assert mnist.train.coarse_classes == list(MNIST_SAMPLE_COARSE_GROUPS)
    for split in (mnist.train, mnist.test):
        assert split.coarse_labels is not None
        for group, digits in enumerate(MNIST_SAMPLE_COARSE_GROUPS.values()):
            assert set(split.labels[split.coarse_labels == group].tolist()) == set(digits)
    assert sorted(d for ds in MNIST_SAMPLE_COARSE_GROUPS.values() for d in ds) == list(range(10))
    assert int(mnist.train.images.max()) == 255


def test_mnist_sample_split_is_deterministic(mnist: ImageData) -> None:
    again = load_mnist_sample(seed=0)
    assert torch.equal(again.test.images, mnist.test.images)
    other = load_mnist_sample(seed=1)
    assert not torch.equal(other.test.images, mnist.test.images)
    small = load_image_dataset("mnist_sample", max_per_class=10, test_fraction=0.3)
    assert torch.bincount(small.test.labels).tolist() == [3] * 10
    assert small.train.images.dtype == torch.float32 and small.mean is not None


# ----------------------------------------------------------------------------- helpers


def test_stratified_split_partitions_each_class() -> None:
    labels = torch.tensor([0] * 10 + [1] * 3 + [2] * 1)
    train, test = stratified_split_indices(labels, 0.25, seed=0)
    assert sorted(torch.cat([train, test]).tolist()) == list(range(14))
    assert torch.bincount(labels[test], minlength=3).tolist() == [2, 1, 0]
    with pytest.raises(ValueError):
        stratified_split_indices(labels, 1.0, seed=0)


def test_make_loader_is_deterministic() -> None:
    ds = ImageDataset(torch.arange(50.0).view(50, 1, 1, 1), torch.arange(50) % 3,
                      ["a", "b", "c"])
    order1 = torch.cat([y for _, y in make_loader(ds, 8, shuffle=True, seed=5)])
    xs = torch.cat([x.flatten() for x, _ in make_loader(ds, 8, shuffle=True, seed=5)])
    torch.manual_seed(123)  # the global RNG must not matter
    xs_again = torch.cat([x.flatten() for x, _ in make_loader(ds, 8, shuffle=True, seed=5)])
    assert torch.equal(xs, xs_again) and sorted(xs.tolist()) == list(range(50))
    assert torch.equal(order1, xs.long() % 3)
    plain = torch.cat([x.flatten() for x, _ in make_loader(ds, 8)])
    assert plain.tolist() == list(range(50))


def test_image_dataset_validates_labels() -> None:
    with pytest.raises(ValueError, match="out of range"):
        ImageDataset(torch.zeros(2, 1, 2, 2), torch.tensor([0, 3]), ["a", "b"])
    with pytest.raises(ValueError, match="N, C, H, W"):
        ImageDataset(torch.zeros(2, 2, 2), torch.tensor([0, 1]), ["a", "b"])


def test_image_dataset_refuses_a_resize_to_below_one() -> None:
    with pytest.raises(ValueError, match=r"resize_to=0 must be a positive integer"):
        ImageDataset(torch.zeros(2, 1, 2, 2), torch.tensor([0, 1]), ["a", "b"], resize_to=0)


def _four_rows() -> ImageDataset:
    return ImageDataset(torch.arange(16.0).view(4, 1, 2, 2), torch.tensor([0, 1, 0, 1]), ["a", "b"])


def test_subset_refuses_a_bool_mask_of_another_length() -> None:
    ds = _four_rows()
    with pytest.raises(ValueError, match=r"a boolean mask of shape \(3,\) cannot select rows of "
                                         r"a dataset of 4; it must have shape \(4,\)"):
        ds.subset(torch.tensor([True, False, True]))
    assert ds.subset(torch.tensor([True, False, True, False])).labels.tolist() == [0, 0]


@pytest.mark.parametrize("method", ["subset", "get_batch"])
@pytest.mark.parametrize("bad", [4, -1])
def test_subset_and_get_batch_refuse_positions_outside_the_rows(method: str, bad: int) -> None:
    ds = _four_rows()
    with pytest.raises(ValueError, match=rf"indices hold {bad}, outside \[0, 4\) for a dataset "
                                         r"of 4 rows"):
        getattr(ds, method)([0, bad])


def test_get_batch_takes_a_bool_mask_as_subset_does() -> None:
    ds = _four_rows()
    x, y = ds.get_batch(torch.tensor([False, True, False, True]))
    assert torch.equal(x, ds.subset([1, 3]).images) and y.tolist() == [1, 1]


def test_resize_images_refuses_a_size_below_one() -> None:
    with pytest.raises(ValueError, match=r"size=0 must be a positive integer"):
        resize_images(torch.zeros(1, 1, 4, 4), 0)


def test_first_per_class_indices_refuses_a_fractional_cap() -> None:
    with pytest.raises(ValueError, match=r"max_per_class=1\.5 must be a positive integer"):
        first_per_class_indices(np.array([0, 0, 1]), 1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(0, 3, 4, 4), (2, 3, 0, 4), (2, 3, 4)])
def test_channel_stats_refuses_images_without_pixels(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"images of shape .* have no pixel statistics"):
        channel_stats(torch.zeros(shape, dtype=torch.uint8))


def test_pillow_fallback_decodes_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assd_repro.data.folders as folders

    write_split_tree(tmp_path, {"a": (2, 1), "b": (1, 1)})
    fast = load_image_folder(tmp_path)
    monkeypatch.setattr(folders, "decode_image", None)
    slow = load_image_folder(tmp_path)
    assert torch.equal(fast.train.images, slow.train.images)
