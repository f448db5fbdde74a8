"""Error unlearning (Table 4, Figs. 4-5) at the smoke profile: rows, data flow, statistics, config."""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from torch.utils.data import DataLoader, TensorDataset

from assd_repro.experiments import error_unlearning as eu
from assd_repro.experiments.error_stats import cell_statistics, compare_table4_with_paper, scenario_gains
from assd_repro.experiments.error_unlearning import (
    METHODS,
    ErrorUnlearningConfig,
    error_unlearning_scenario,
    run_error_unlearning,
    tune_hyperparameters,
)
from assd_repro.experiments.supply_chain_pipeline import batch_loader, load_split, make_error_split
from assd_repro.label_errors import inject_label_errors
from assd_repro.paper import paper_table
from assd_repro.training import decayed_lr

COLUMNS = ["model_size", "error_pct", "replicate", "n_forget", "n_changed", "method", "split",
           "value", "n_eval", "method_s", "alpha", "percentile", "fraction_selected"]


@pytest.fixture(scope="module")
def config() -> ErrorUnlearningConfig:
    return ErrorUnlearningConfig.for_profile("smoke")


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory, config: ErrorUnlearningConfig) -> pd.DataFrame:
    return run_error_unlearning(config, results_dir=tmp_path_factory.mktemp("eu"), progress=False)


def test_row_schema(rows: pd.DataFrame, config: ErrorUnlearningConfig) -> None:
    assert list(rows.columns) == ["experiment", "config_hash", "scenario", *COLUMNS, "wall_s"]
    n_scenarios = len(config.cells()) * config.n_scenarios
    assert len(rows) == n_scenarios * len(METHODS) * 2
    assert sorted(rows["scenario"].unique()) == list(config.seeds) == list(range(n_scenarios))
    assert set(rows["method"]) == set(METHODS) and set(rows["split"]) == {"test", "train"}
    assert rows["value"].between(0, 100).all() and (rows["method_s"] > 0).all()
    split = config.split()
    n_train = len(split.y_train)
    assert (rows.loc[rows["split"] == "test", "n_eval"] == len(split.y_test)).all()
    train = rows[rows["split"] == "train"]
    assert (train["n_eval"] == n_train - train["n_forget"]).all()
    assert (rows["n_forget"] == (rows["error_pct"] / 100 * n_train).round()).all()
    assert (rows["n_changed"] == rows["n_forget"]).all()  # "flip": every chosen label changes
    assd = rows["method"] == "assd"
    assert rows.loc[~assd, ["alpha", "percentile", "fraction_selected"]].isna().all().all()
    expected_p = 100 - np.log(1 + 100 * rows.loc[assd, "n_forget"] / n_train)
    np.testing.assert_allclose(rows.loc[assd, "percentile"], expected_p)
    assert rows.loc[assd, "fraction_selected"].between(0, 1).all()


def test_scenario_ids_map_cells_and_replicates(config: ErrorUnlearningConfig) -> None:
    seen = {config.scenario(s) for s in config.seeds}
    assert seen == {(size, pct, r) for size, pct in config.cells()
                    for r in range(config.n_scenarios)}
    assert len(seen) == len(config.seeds)
    with pytest.raises(ValueError, match="scenario id 99"):
        config.scenario(99)


def test_config_pickles_for_dask(config: ErrorUnlearningConfig) -> None:
    again = pickle.loads(pickle.dumps(config))
    assert again == config and again.content_hash() == config.content_hash()


@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_loader_gives_the_batches_of_a_plain_dataloader(shuffle: bool) -> None:
    x, y = torch.randn(50, 3), torch.randint(0, 3, (50,))
    plain = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=shuffle,
                       generator=torch.Generator().manual_seed(4))
    fast = batch_loader(x, y, 16, shuffle=shuffle, seed=4)
    assert len(fast) == len(plain) == 4
    for _ in range(2):  # two epochs: the shuffled order moves on the same way
        for (xa, ya), (xb, yb) in zip(plain, fast, strict=True):
            assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_batch_loader_refuses_rows_and_labels_of_different_lengths() -> None:
    with pytest.raises(ValueError, match=r"x has 50 rows but y has 49 labels; give one label per "
                                         r"row"):
        batch_loader(torch.randn(50, 3), torch.zeros(49, dtype=torch.long), 16)


def test_authors_mode_may_restore_true_labels(config: ErrorUnlearningConfig) -> None:
    authors = ErrorUnlearningConfig.for_profile("smoke", error_mode="authors")
    rows = pd.DataFrame(error_unlearning_scenario(authors, 1))
    assert (rows["n_changed"] <= rows["n_forget"]).all()
    data = make_error_split(authors.split(), 5.0, seed=0, mode="authors")
    assert torch.equal(data.forget()[1], data.y_noisy[data.error_idx])


def test_same_seed_same_rows(rows: pd.DataFrame, config: ErrorUnlearningConfig) -> None:
    again = pd.DataFrame(error_unlearning_scenario(config, 1))
    stored = rows[rows["scenario"] == 1].reset_index(drop=True)
    for column in ("model_size", "error_pct", "method", "split", "value", "alpha", "percentile"):
        pd.testing.assert_series_equal(again[column], stored[column], check_names=False)


def test_forget_set_is_the_injected_rows_with_wrong_labels(config: ErrorUnlearningConfig) -> None:
    split = config.split()
    assert config.split() is split  # preprocessed once per process
    data = make_error_split(split, 5.0, seed=3, mode="flip")
    noisy, idx = inject_label_errors(split.y_train, 0.05, 3, seed=3)
    np.testing.assert_array_equal(data.error_idx.numpy(), idx)
    x_f, y_f = data.forget()
    np.testing.assert_array_equal(x_f.numpy(), split.x_train[idx])
    np.testing.assert_array_equal(y_f.numpy(), noisy[idx])
    assert (y_f.numpy() != split.y_train[idx]).all()
    x_r, y_r = data.retain()
    rest = np.setdiff1d(np.arange(len(split.y_train)), idx)
    np.testing.assert_array_equal(x_r.numpy(), split.x_train[rest])
    np.testing.assert_array_equal(y_r.numpy(), split.y_train[rest])  # correct labels
    assert data.n_total == len(rest) + len(idx)


def test_retrain_and_finetune_see_only_dr_at_the_decayed_rate(
        config: ErrorUnlearningConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    trained: list[tuple[torch.Tensor, torch.Tensor]] = []
    tuned: list[dict[str, Any]] = []
    real_train, real_finetune = eu.train_mlp, eu.finetune

    def spy_train(x: torch.Tensor, y: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        trained.append((x, y))
        return real_train(x, y, *args, **kwargs)

    def spy_finetune(model: Any, loader: Any, **kwargs: Any) -> Any:
        tuned.append({"data": loader.dataset.tensors, **kwargs})
        return real_finetune(model, loader, **kwargs)

    monkeypatch.setattr(eu, "train_mlp", spy_train)
    monkeypatch.setattr(eu, "finetune", spy_finetune)
    size, pct, replicate = config.scenario(1)
    error_unlearning_scenario(config, 1)
    data = make_error_split(config.split(), pct, replicate, config.error_mode)
    (x_base, y_base), (x_retrain, y_retrain) = trained
    assert torch.equal(x_base, data.x) and torch.equal(y_base, data.y_noisy)
    x_r, y_r = data.retain()
    assert torch.equal(x_retrain, x_r) and torch.equal(y_retrain, y_r)
    (call,) = tuned
    assert torch.equal(call["data"][0], x_r) and torch.equal(call["data"][1], y_r)
    recipe = config.recipe(size)
    assert call["lr"] == decayed_lr(recipe) == pytest.approx(recipe.lr * 0.95 ** (recipe.epochs + 1))
    assert call["epochs"] == 1 and call["weight_decay"] == recipe.weight_decay
    paper = ErrorUnlearningConfig.for_profile("book").recipe("3x100")  # 25 epochs
    assert decayed_lr(paper) == pytest.approx(paper.lr * 0.95**25 * 0.95)


def _hand_rows() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    values = {m: 86 + rng.normal(0, 0.3, 5) for m in METHODS}
    rows = [{"model_size": "3x100", "error_pct": 1.0, "split": split, "replicate": r,
             "method": m, "value": values[m][r] + (split == "train"), "n_eval": 1000}
            for split in ("test", "train") for m in METHODS for r in range(5)]
    return pd.DataFrame(rows), values


def test_cell_statistics_equal_scipy() -> None:
    rows, values = _hand_rows()
    table = cell_statistics(rows.sample(frac=1, random_state=1))  # row order must not matter
    test = table[table["split"] == "test"].iloc[0]
    assert test["n_scenarios"] == 5
    for m in METHODS:
        assert test[f"{m}_mean"] == pytest.approx(values[m].mean())
        assert test[f"{m}_std"] == pytest.approx(values[m].std(ddof=1))
    assert test["p_ttest_ind"] == pytest.approx(stats.ttest_ind(values["assd"], values["baseline"]).pvalue)
    assert test["p_ttest_rel"] == pytest.approx(stats.ttest_rel(values["assd"], values["baseline"]).pvalue)
    assert test["gain_mean"] == pytest.approx((values["assd"] - values["baseline"]).mean())


def test_compare_with_paper_and_gains() -> None:
    rows, values = _hand_rows()
    comparison = compare_table4_with_paper(cell_statistics(rows))
    paper = paper_table("error_unlearning").set_index(["model_size", "split", "error_pct"])
    for _, row in comparison.iterrows():
        printed = paper.loc[(row["model_size"], row["split"], row["error_pct"])]
        assert row["assd_paper"] == printed["unlearn_mean"]
        assert row["baseline_diff"] == pytest.approx(row["baseline_ours"] - printed["baseline_mean"])
        assert row["p_paper"] == printed["p_value"]
    gains = scenario_gains(rows)
    test = gains[gains["split"] == "test"].sort_values("replicate")
    np.testing.assert_allclose(test["assd_gain"], values["assd"] - values["baseline"])
    np.testing.assert_array_equal(test["assd_extra_correct"],
                                  np.round((values["assd"] - values["baseline"]) * 10))


def test_compare_table4_refuses_the_rows_instead_of_the_statistics() -> None:
    rows, _ = _hand_rows()
    with pytest.raises(ValueError, match=r"stats_frame lacks the column\(s\) \['n_scenarios'\]: "
                                         r"pass the output of cell_statistics"):
        compare_table4_with_paper(rows)


def test_scenario_gains_refuses_rows_without_n_eval() -> None:
    rows, _ = _hand_rows()
    with pytest.raises(ValueError, match=r"rows lack the column 'n_eval'"):
        scenario_gains(rows.drop(columns="n_eval"))


@pytest.mark.parametrize(("overrides", "named"), [
    ({"error_pcts": (1.0, 60.0)}, "60.0"),
    ({"error_pcts": (0.0,)}, "0.0"),
    ({"error_pcts": (-2,)}, "-2.0"),
    ({"n_scenarios": -1}, "n_scenarios=-1"),
    ({"protocol": "leaky"}, "'leaky'"),
    ({"model_sizes": ("big",)}, "'big'"),
    ({"model_sizes": ("4x64",)}, "'4x64'"),
    ({"error_mode": "swap"}, "'swap'"),
    ({"epochs": 0}, "epochs=0"),
    ({"n_rows": 10, "data_path": None}, "n_rows=10"),
    ({"seeds": (0, 7)}, r"\[7\]"),
])
def test_bad_values_raise_naming_them(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        ErrorUnlearningConfig.for_profile("smoke", **overrides)


def test_paper_profile_needs_the_real_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSD_DATACO", raising=False)
    monkeypatch.setenv("ASSD_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="10.17632/8gx2fvg2k6") as info:
        ErrorUnlearningConfig.for_profile("paper")
    assert "ASSD_DATACO" in str(info.value) and "Mendeley" in str(info.value)
    csv = tmp_path / "DataCoSupplyChainDataset.csv"
    csv.write_text("placeholder")
    config = ErrorUnlearningConfig.for_profile("paper")
    assert config.data_path == str(csv) and len(config.seeds) == 3 * 6 * 100
    assert (config.epochs, config.batch_size, config.shuffle) == (25, 1024, False)
    missing = ErrorUnlearningConfig.for_profile("smoke", data_path=str(tmp_path / "nope.csv"))
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        run_error_unlearning(missing, results_dir=tmp_path, progress=False)


def test_tune_hyperparameters_searches_the_authors_ranges(config: ErrorUnlearningConfig) -> None:
    table = tune_hyperparameters(config, n_trials=2, seed=0)
    assert table["model_size"].tolist() == list(config.model_sizes)
    assert table["lr"].between(1e-5, 1e-1).all() and table["weight_decay"].between(1e-6, 1e-1).all()
    assert table["val_accuracy"].between(0, 100).all() and not math.isnan(table["lr"].iloc[0])
    again = tune_hyperparameters(config, n_trials=2, seed=0)
    pd.testing.assert_frame_equal(table, again)  # seeded
