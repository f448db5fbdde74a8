"""accuracy and entropy_mia against per-sample float64 references."""

from __future__ import annotations

import numpy as np
import pytest
import reference
import torch
from conftest import loader, make_cnn, make_mlp, mlp_data
from torch.utils.data import DataLoader, TensorDataset

from assd_core import accuracy, entropy_mia, mia_score, predict_entropy, sample_scores


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_accuracy_is_sample_weighted(model_and_data, batch_size: int) -> None:
    model, data, _ = model_and_data
    assert accuracy(model, loader(data, batch_size)) == pytest.approx(reference.accuracy(model, data), abs=1e-9)


def test_accuracy_restores_training_flag() -> None:
    model = make_mlp()
    model.train()
    accuracy(model, loader(mlp_data(10)))
    assert model.training


def test_accuracy_of_empty_loader() -> None:
    empty = DataLoader(TensorDataset(torch.empty(0, 6), torch.empty(0, dtype=torch.long)), batch_size=4)
    with pytest.raises(ValueError, match="empty"):
        accuracy(make_mlp(), empty)


def test_entropy_matches_reference() -> None:
    model = make_cnn()
    data = TensorDataset(torch.randn(20, 1, 8, 8), torch.randint(0, 4, (20,)))
    torch.testing.assert_close(
        torch.from_numpy(predict_entropy(model, loader(data, 6))),
        torch.tensor(reference.entropies(model, data), dtype=torch.float64),
        rtol=1e-5,
        atol=1e-7,
    )


def test_entropy_mia_matches_reference() -> None:
    pytest.importorskip("sklearn", reason="entropy_mia needs the mia extra")
    torch.manual_seed(1)
    model = make_mlp(hidden=16)
    retain, forget, test = mlp_data(120), mlp_data(40), mlp_data(80)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model.train()
    x, y = retain.tensors[0], retain.tensors[1]
    for _ in range(200):  # memorise the retain set so members are distinguishable
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    fast = entropy_mia(model, loader(retain, 16), loader(forget, 16), loader(test, 16))
    slow = reference.entropy_mia(model, retain, forget, test)
    assert fast == pytest.approx(slow, abs=1e-9)
    assert 0 <= fast <= 100
    on_members = entropy_mia(model, loader(retain, 16), loader(retain, 16), loader(test, 16))
    assert on_members > fast  # the attack recognises the members it was trained on better


def test_entropy_mia_rejects_empty_loader() -> None:
    pytest.importorskip("sklearn", reason="entropy_mia needs the mia extra")
    empty = DataLoader(TensorDataset(torch.empty(0, 6), torch.empty(0, dtype=torch.long)), batch_size=4)
    with pytest.raises(ValueError, match="forget loader of the MIA yielded no sample"):
        entropy_mia(make_mlp(), loader(mlp_data(10)), empty, loader(mlp_data(10)))


def test_entropy_mia_without_scikit_learn_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)
    data = loader(mlp_data(10))
    with pytest.raises(ImportError, match=r"assd-core\[mia\]"):
        entropy_mia(make_mlp(), data, data, data)


def _train_mode_with_a_frozen_batchnorm() -> torch.nn.Module:
    model = make_mlp()
    model.train()
    model[1].eval()  # a BatchNorm frozen in eval mode inside a model in training mode
    return model


def _flags(model: torch.nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


def test_every_module_flag_is_restored() -> None:
    model = _train_mode_with_a_frozen_batchnorm()
    before = _flags(model)
    data = loader(mlp_data(20), 8)
    accuracy(model, data)
    assert _flags(model) == before
    predict_entropy(model, data)
    assert _flags(model) == before


@pytest.mark.parametrize(("labels", "match"), [
    (lambda y: y[:, None], r"shape \(8, 1\).*\(batch,\) = \(8,\).*squeeze"),
    (lambda y: y.float(), r"dtype torch.float32.*y.long\(\)"),
    (lambda y: y.bool(), r"dtype torch.bool"),
    (lambda y: y + 3, r"label [3-5] is outside \[0, 3\) for a model with 3 outputs"),
    (lambda y: y - 1, r"label -1 is outside \[0, 3\)"),
])
def test_accuracy_refuses_bad_labels_naming_them(labels, match: str) -> None:
    model = make_mlp()
    x = torch.randn(8, 6)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match=match):
        accuracy(model, [(x, labels(y))])


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_sample_scores_match_the_per_sample_references(model_and_data, batch_size: int) -> None:
    model, data, _ = model_and_data
    scores = sample_scores(model, loader(data, batch_size))
    x, y = data.tensors[0], data.tensors[1]
    model.eval()  # one sample at a time, as the slow references do
    with torch.no_grad():
        expected = [bool(model(x[i : i + 1]).argmax(1) == y[i]) for i in range(len(y))]
    assert scores.correct.dtype == bool and scores.correct.tolist() == expected
    assert 100 * scores.correct.mean() == pytest.approx(reference.accuracy(model, data), abs=1e-9)
    torch.testing.assert_close(torch.from_numpy(scores.entropy),
                               torch.tensor(reference.entropies(model, data), dtype=torch.float64),
                               rtol=1e-5, atol=1e-7)


def test_sample_scores_of_an_empty_loader_are_empty() -> None:
    empty = DataLoader(TensorDataset(torch.empty(0, 6), torch.empty(0, dtype=torch.long)), batch_size=4)
    scores = sample_scores(make_mlp(), empty)
    assert scores.correct.shape == scores.entropy.shape == (0,)


def test_mia_score_on_entropies_equals_entropy_mia() -> None:
    pytest.importorskip("sklearn", reason="the attack needs the mia extra")
    torch.manual_seed(2)
    model = make_mlp(hidden=16)
    retain, forget, test = mlp_data(60), mlp_data(20), mlp_data(40)
    direct = entropy_mia(model, loader(retain, 16), loader(forget, 16), loader(test, 16))
    parts = [sample_scores(model, loader(d, 16)).entropy for d in (retain, forget, test)]
    assert mia_score(*parts) == direct == reference.entropy_mia(model, retain, forget, test)


@pytest.mark.parametrize("bad, match", [
    (np.empty(0), "forget loader of the MIA yielded no sample"),
    (np.ones((2, 2)), "1-D array of finite values"),
    (np.array([0.1, np.nan]), "1-D array of finite values"),
])
def test_mia_score_refuses_bad_entropies(bad, match: str) -> None:
    pytest.importorskip("sklearn", reason="the attack needs the mia extra")
    with pytest.raises(ValueError, match=match):
        mia_score(np.ones(4), bad, np.zeros(4))
