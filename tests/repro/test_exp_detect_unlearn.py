"""Detect-then-unlearn at the smoke profile: detection scores, cross-validation, rows, config."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import precision_recall_fscore_support

from assd_repro.experiments import detect_unlearn as du
from assd_repro.experiments.detect_unlearn import (
    DetectUnlearnConfig,
    cross_validated_proba,
    detect_label_errors,
    detect_unlearn_scenario,
    detection_scores,
    run_detect_unlearn,
    summarize_detection,
)
from assd_repro.experiments.error_unlearning import ErrorUnlearningConfig, error_unlearning_scenario
from assd_repro.experiments.supply_chain_pipeline import make_error_split

METHODS = ["baseline", "assd_detected", "assd_oracle", "retrain_detected"]
DETECTION = ["precision", "recall", "f1", "n_flagged", "n_errors", "n_true_positive", "seconds"]


@pytest.fixture(scope="module")
def config() -> DetectUnlearnConfig:
    return DetectUnlearnConfig.for_profile("smoke")


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory, config: DetectUnlearnConfig) -> pd.DataFrame:
    return run_detect_unlearn(config, results_dir=tmp_path_factory.mktemp("du"), progress=False)


def test_detection_scores_on_a_hand_made_case() -> None:
    flagged = np.array([1, 1, 0, 0, 1, 0, 1, 0], dtype=bool)
    errors = np.array([1, 0, 1, 0, 1, 0, 0, 0], dtype=bool)
    scores = detection_scores(flagged, errors)
    # 2 of the 4 flagged rows are errors; 2 of the 3 errors are flagged
    assert scores["n_true_positive"] == 2 and scores["n_flagged"] == 4 and scores["n_errors"] == 3
    assert scores["precision"] == pytest.approx(2 / 4) and scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    p, r, f, _ = precision_recall_fscore_support(errors, flagged, average="binary")
    assert (scores["precision"], scores["recall"], scores["f1"]) == pytest.approx((p, r, f))


def test_detection_scores_edge_cases() -> None:
    none = detection_scores(np.zeros(4, bool), np.array([1, 0, 0, 0], bool))
    assert math.isnan(none["precision"]) and none["recall"] == 0 and math.isnan(none["f1"])
    wrong = detection_scores(np.array([0, 1], bool), np.array([1, 0], bool))
    assert (wrong["precision"], wrong["recall"], wrong["f1"]) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="same length"):
        detection_scores(np.zeros(3, bool), np.zeros(4, bool))


@pytest.mark.parametrize(("labels", "probs"), [
    (np.zeros(5, int), np.full((4, 3), 1 / 3)),
    (np.zeros((5, 1), int), np.full((5, 3), 1 / 3)),
    (np.zeros(5, int), np.full(5, 1 / 3)),
])
def test_detect_label_errors_refuses_probabilities_that_do_not_fit_the_labels(
        labels: np.ndarray, probs: np.ndarray) -> None:
    with pytest.raises(ValueError, match=re.escape(f"labels of shape {labels.shape} and "
                                                   f"pred_probs of shape {probs.shape} do not "
                                                   "fit: give (N,) labels")):
        detect_label_errors(labels, probs)


def test_summarize_detection_refuses_rows_without_its_columns() -> None:
    rows = pd.DataFrame({"error_pct": [5.0], "method": ["detection"], "value": [0.5]})
    with pytest.raises(ValueError, match=r"rows lack the column\(s\) \['metric'\]: pass the rows "
                                         r"of run_detect_unlearn"):
        summarize_detection(rows)


def test_cross_validation_is_out_of_sample(config: DetectUnlearnConfig,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_error_split(config.split(), 5.0, 0)
    x, y = data.full()
    x = x + torch.arange(len(y), dtype=torch.float32)[:, None] * 1e3  # rows told apart by x[:, 0]
    seen: list[set[int]] = []
    predicted: list[set[int]] = []
    real_train, real_predict = du.train_mlp, du.predict_proba

    def spy_train(xs: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        seen.append(set((xs[:, 0] // 1e3).long().tolist()))
        assert torch.equal(xs[:, 0], torch.sort(xs[:, 0]).values)  # time order kept
        return real_train(xs, *args, **kwargs)

    def spy_predict(model: Any, xs: torch.Tensor) -> np.ndarray:
        predicted.append(set((xs[:, 0] // 1e3).long().tolist()))
        return real_predict(model, xs)

    monkeypatch.setattr(du, "train_mlp", spy_train)
    monkeypatch.setattr(du, "predict_proba", spy_predict)
    probs = cross_validated_proba(x, y, "2x50", config.recipe("2x50"), k_folds=3, seed=0,
                                  init_seed=0)
    assert probs.shape == (len(y), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert len(seen) == len(predicted) == 3
    for trained_on, held_out in zip(seen, predicted, strict=True):
        assert not trained_on & held_out and len(trained_on | held_out) == len(y)
    assert sorted(i for fold in predicted for i in fold) == list(range(len(y)))


def test_row_schema(rows: pd.DataFrame, config: DetectUnlearnConfig) -> None:
    assert list(rows.columns) == ["experiment", "config_hash", "scenario", "model_size",
                                  "error_pct", "replicate", "method", "metric", "value", "wall_s"]
    assert sorted(rows["scenario"].unique()) == list(range(len(config.error_pcts) * config.n_scenarios))
    for _, part in rows.groupby("scenario"):
        detection = part[part["method"] == "detection"].set_index("metric")["value"]
        assert list(detection.index) == DETECTION
        assert detection["n_errors"] == round(0.05 * len(config.split().y_train))
        assert detection["n_true_positive"] <= min(detection["n_flagged"], detection["n_errors"])
        assert detection["precision"] == pytest.approx(detection["n_true_positive"] / detection["n_flagged"])
        assert detection["recall"] == pytest.approx(detection["n_true_positive"] / detection["n_errors"])
        assert part.loc[part["method"] != "detection", "method"].unique().tolist() == METHODS
        acc = part[part["metric"] == "test_accuracy"].set_index("method")["value"]
        gain = part[part["metric"] == "gain"].set_index("method")["value"]
        np.testing.assert_allclose(gain[METHODS], acc[METHODS] - acc["baseline"])
        share = part[part["metric"] == "fraction_selected"]["value"]
        assert share.between(0, 1).all() and len(share) == 2
    summary = summarize_detection(rows)
    assert set(summary.columns) == {"error_pct", "method", "metric", "mean", "std", "n"}
    assert (summary["n"] == config.n_scenarios).all()


def test_same_seed_same_rows_and_oracle_matches_error_unlearning(
        rows: pd.DataFrame, config: DetectUnlearnConfig) -> None:
    again = pd.DataFrame(detect_unlearn_scenario(config, 1))
    stored = rows[rows["scenario"] == 1].reset_index(drop=True)
    timing = again["metric"] == "seconds"
    assert (again["metric"] == stored["metric"]).all()
    pd.testing.assert_series_equal(again.loc[~timing, "value"], stored.loc[~timing, "value"],
                                   check_names=False)
    # same replicate, size, rate and recipe: the same baseline and ASSD as Table 4's scenario
    eu_config = ErrorUnlearningConfig.for_profile("smoke", error_pcts=(5.0,))
    eu_rows = pd.DataFrame(error_unlearning_scenario(eu_config, 1))
    eu_test = eu_rows[eu_rows["split"] == "test"].set_index("method")["value"]
    ours = stored[stored["metric"] == "test_accuracy"].set_index("method")["value"]
    assert ours["baseline"] == eu_test["baseline"] and ours["assd_oracle"] == eu_test["assd"]


@pytest.mark.parametrize(("overrides", "named"), [
    ({"k_folds": 1}, "k_folds=1"),
    ({"filter_by": "magic"}, "'magic'"),
    ({"error_pcts": (50.0,)}, "50.0"),
    ({"model_size": "huge"}, "'huge'"),
    ({"protocol": "other"}, "'other'"),
    ({"n_scenarios": 0}, "n_scenarios=0"),
])
def test_bad_values_raise_naming_them(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        DetectUnlearnConfig.for_profile("smoke", **overrides)


def test_paper_profile_needs_the_real_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSD_DATACO", raising=False)
    monkeypatch.delenv("ASSD_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="Mendeley Data, DOI 10.17632/8gx2fvg2k6"):
        DetectUnlearnConfig.for_profile("paper")
    csv = tmp_path / "data.csv"
    csv.write_text("placeholder")
    monkeypatch.setenv("ASSD_DATACO", str(csv))
    config = DetectUnlearnConfig.for_profile("paper")
    assert config.data_path == str(csv) and config.k_folds == 5
