"""The core's contract on bad input: a clear ValueError that names the value and the fix, raised
before any work, with the model left bit-identical."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from conftest import assert_unchanged, loader, make_mlp, mlp_data, snapshot

from assd_core import (
    accuracy,
    assd_unlearn,
    compute_importances,
    dampen,
    entropy_mia,
    load_importances,
    predict_entropy,
    save_importances,
    select_alpha,
    ssd_unlearn,
)


@pytest.fixture
def setup() -> tuple[torch.nn.Module, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    model = make_mlp()
    full = compute_importances(model, loader(mlp_data(40)))
    forget = compute_importances(model, loader(mlp_data(8)))
    return model, full, forget


@pytest.mark.parametrize("alpha", [np.float32(10), np.float64(2.5), np.int64(3), torch.tensor(4.0),
                                   torch.tensor([5.0])])
def test_alpha_accepts_numpy_and_one_element_tensor_numbers(setup, alpha) -> None:
    model, full, forget = setup
    report = dampen(model, full, forget, alpha=alpha)
    assert report.alpha == float(alpha)


@pytest.mark.parametrize(("alpha", "kind"), [(True, "bool"), ("10", "str"), ([10.0], "list"),
                                             (torch.tensor([1.0, 2.0]), "Tensor")])
def test_alpha_of_another_type_is_refused_naming_the_type(setup, alpha, kind: str) -> None:
    model, full, forget = setup
    before = snapshot(model)
    with pytest.raises(ValueError, match=rf"alpha=.* is a {kind}; it must be a finite number"):
        dampen(model, full, forget, alpha=alpha)
    assert_unchanged(model, before)


def test_ssd_checks_alpha_and_lam_before_the_forget_pass(setup) -> None:
    model, full, _ = setup
    seen: list[int] = []

    def counting_loader():  # a forget loader that records every batch it yields
        for x, y in loader(mlp_data(8)):
            seen.append(len(y))
            yield x, y

    with pytest.raises(ValueError, match="lam=-1.0 must be a finite number >= 0"):
        ssd_unlearn(model, counting_loader(), full, alpha=1.0, lam=-1.0)
    assert seen == []


@pytest.mark.parametrize(("make", "match"), [
    (lambda t: t.to(torch.int64), r"dtype torch.int64; importances are floating-point"),
    (lambda t: t > 0, r"dtype torch.bool; importances are floating-point"),
    (lambda t: t.numpy(), r"is a ndarray, not a torch.Tensor.*torch.from_numpy"),
    (lambda t: torch.empty_like(t, device="meta"), r"on the 'meta' device"),
])
def test_importances_that_are_not_float_tensors_with_data_are_refused(setup, make, match) -> None:
    model, full, forget = setup
    bad = {name: make(t) for name, t in full.items()}
    before = snapshot(model)
    with pytest.raises(ValueError, match=match):
        dampen(model, bad, forget, alpha=1.0)
    assert_unchanged(model, before)


@pytest.mark.parametrize(("batches", "match"), [
    ([{"x": torch.randn(4, 6), "y": torch.zeros(4, dtype=torch.long)}],
     r"a batch is a dict with keys \['x', 'y'\]; batches must be tuples or lists \(x, y, \*rest\)"),
    ([torch.randn(4, 6)], r"a batch is a Tensor; batches must be tuples"),
    ([(torch.randn(4, 6),)], r"a batch is a tuple of length 1"),
])
def test_batches_of_another_structure_say_what_is_expected(batches, match: str) -> None:
    model = make_mlp()
    before = snapshot(model)
    with pytest.raises(ValueError, match=match):
        compute_importances(model, batches)
    with pytest.raises(ValueError, match=match):
        accuracy(model, batches)
    assert_unchanged(model, before)


def test_assd_with_bad_forget_labels_leaves_the_model_untouched(setup) -> None:
    model, full, _ = setup
    before = snapshot(model)
    forget = [(torch.randn(8, 6), torch.full((8,), 7))]
    with pytest.raises(ValueError, match=r"label 7 is outside \[0, 3\)"):
        assd_unlearn(model, forget, full, n_forget=8, n_total=48)
    assert_unchanged(model, before)


def test_nan_or_negative_importances_are_refused_at_save(setup, tmp_path) -> None:
    model, full, _ = setup
    name = next(iter(full))
    for value, match in ((float("nan"), "NaN"), (-1.0, "negative")):
        bad = {k: v.clone() for k, v in full.items()}
        bad[name].view(-1)[0] = value
        with pytest.raises(ValueError, match=match):
            save_importances(tmp_path / "bad.safetensors", bad, model)
        assert not (tmp_path / "bad.safetensors").exists()


def test_truncated_importance_file_names_the_path(setup, tmp_path) -> None:
    model, full, _ = setup
    path = save_importances(tmp_path / "full.safetensors", full, model)
    data = path.read_bytes()
    for cut in (0, 7, len(data) // 2):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=rf"{path}.*(truncated|cannot be read)"):
            load_importances(path, model)


def test_garbage_importance_file_names_the_path(setup, tmp_path) -> None:
    model, _, _ = setup
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(ValueError, match=str(path)):
        load_importances(path, model)


def test_importance_file_without_fingerprint_names_what_is_missing(setup, tmp_path) -> None:
    from safetensors.torch import save_file

    model, full, _ = setup
    path = tmp_path / "nofp.safetensors"
    save_file({k: v.contiguous() for k, v in full.items()}, str(path),
              metadata={"format": "assd_core.importances/1"})
    with pytest.raises(ValueError, match=r"lacks the metadata \['batch_size', 'fingerprint'"):
        load_importances(path, model)


def test_nan_importances_in_a_file_are_refused_at_load(setup, tmp_path) -> None:
    from safetensors.torch import save_file

    model, full, _ = setup
    path = save_importances(tmp_path / "full.safetensors", full, model)
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    bad = {k: v.clone().contiguous() for k, v in full.items()}
    next(iter(bad.values())).view(-1)[0] = float("nan")
    save_file(bad, str(path), metadata=meta)
    with pytest.raises(ValueError, match=rf"{path}: the stored importances.*NaN"):
        load_importances(path, model)


def test_saved_importances_get_the_umask_default_mode(setup, tmp_path) -> None:
    import os

    model, full, _ = setup
    old = os.umask(0o022)
    try:
        path = save_importances(tmp_path / "full.safetensors", full, model)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["full.safetensors"]  # no temporary left


@pytest.mark.parametrize(("which", "make", "match"), [
    ("full", lambda t: t.index_fill(0, torch.tensor([0]), float("nan")),
     r"full importances\['0\.weight'\] contains NaN"),
    ("forget", lambda t: t.index_fill(0, torch.tensor([0]), float("inf")),
     r"forget importances\['0\.weight'\] contains infinite values"),
    ("forget", lambda t: -t, r"forget importances\['0\.weight'\] has negative values"),
    ("full", lambda t: t.numpy(), r"full importances\['0\.weight'\] is a ndarray, not a torch.Tensor"),
    ("forget", lambda t: t.to(torch.int64), r"dtype torch.int64; importances are floating-point"),
])
def test_select_alpha_refuses_importances_that_are_not_finite_nonnegative_tensors(
        setup, which: str, make, match: str) -> None:
    _, full, forget = setup
    bad = {"full": dict(full), "forget": dict(forget)}
    bad[which]["0.weight"] = make(bad[which]["0.weight"])
    with pytest.raises(ValueError, match=match):
        select_alpha(bad["full"], bad["forget"], 97.6)


@pytest.mark.parametrize(("keyword", "value", "match"), [
    ("batch_size", "8", r"batch_size='8' \(str\) must be None or a whole number >= 1"),
    ("batch_size", 0, r"batch_size=0 \(int\) must be None or a whole number >= 1"),
    ("batch_size", True, r"batch_size=True \(bool\)"),
    ("n_samples", 2.5, r"n_samples=2.5 \(float\)"),
    ("n_samples", -1, r"n_samples=-1 \(int\)"),
])
def test_save_refuses_counts_that_are_not_whole_numbers_and_writes_nothing(
        setup, tmp_path, keyword: str, value, match: str) -> None:
    model, full, _ = setup
    with pytest.raises(ValueError, match=match):
        save_importances(tmp_path / "full.safetensors", full, model, **{keyword: value})
    assert not list(tmp_path.iterdir())


def test_save_stores_numpy_integer_counts_as_ints(setup, tmp_path) -> None:
    model, full, _ = setup
    path = save_importances(tmp_path / "full.safetensors", full, model, batch_size=np.int64(8),
                            n_samples=np.int32(40))
    loaded = load_importances(path, model)
    assert (loaded.batch_size, loaded.n_samples) == (8, 40)
    assert type(loaded.batch_size) is int and type(loaded.n_samples) is int


def test_save_refuses_importances_that_are_not_tensors_naming_the_entry(setup, tmp_path) -> None:
    model, full, _ = setup
    bad = {name: t.tolist() for name, t in full.items()}
    with pytest.raises(ValueError, match=r"the importances to save\['0\.weight'\] is a list, "
                                         r"not a torch.Tensor"):
        save_importances(tmp_path / "full.safetensors", bad, model)
    assert not list(tmp_path.iterdir())


class _Output(torch.nn.Module):
    """make_mlp() with its output reshaped by ``shape``."""

    def __init__(self, shape) -> None:
        super().__init__()
        self.inner, self.shape = make_mlp(), shape

    def forward(self, x: torch.Tensor):
        return self.shape(self.inner(x))


@pytest.mark.parametrize(("shape", "match"), [
    (lambda out: out[:, 0], r"the model's output has shape \(8,\); logits must have shape "
                            r"\(batch, n_classes\)"),
    (lambda out: out[:, None], r"the model's output has shape \(8, 1, 3\)"),
    (lambda out: (out,), r"the model's output is a tuple, not a tensor.*output.logits"),
])
def test_model_output_that_is_not_batch_by_classes_logits_is_refused(shape, match: str) -> None:
    model = _Output(shape)
    before = snapshot(model)
    batches = [(torch.randn(8, 6), torch.zeros(8, dtype=torch.long))]
    runs = [lambda: compute_importances(model, batches), lambda: accuracy(model, batches),
            lambda: predict_entropy(model, batches)]
    if importlib.util.find_spec("sklearn") is not None:  # entropy_mia needs the mia extra
        runs.append(lambda: entropy_mia(model, batches, batches, batches))
    for run in runs:
        with pytest.raises(ValueError, match=match):
            run()
    assert_unchanged(model, before)


def test_labels_that_are_not_tensors_are_named_by_accuracy_and_ignored_by_entropy() -> None:
    model = make_mlp()
    batches = [(torch.randn(4, 6), [0, 1, 2, 0])]
    with pytest.raises(ValueError, match="labels must be a tensor of class indices, got list"):
        accuracy(model, batches)
    assert predict_entropy(model, batches).shape == (4,)
    assert predict_entropy(model, [(torch.randn(4, 6), None)]).shape == (4,)
