"""The book's rule for choosing an unlearning method, on gains made by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from assd_repro.experiments.method_choice import gain_verdicts, recommend, recommendation_text


def _gains(cells: dict[tuple[str, float, str], tuple[float, float, float]],
           cost: dict[str, float] | None = None) -> pd.DataFrame:
    """``{(size, pct, method): (mean, low, high)}`` -> a method_gains-like table."""
    return pd.DataFrame([
        {"model_size": s, "error_pct": p, "method": m, "n": 50, "gain_mean": mean,
         "ci_low": low, "ci_high": high, "method_s_mean": (cost or {}).get(m, 1.0)}
        for (s, p, m), (mean, low, high) in cells.items()])


GAINS = _gains({
    # 1 %: A supported at both sizes, B larger but only at one size -> A
    ("2x50", 1.0, "A"): (0.5, 0.1, 0.9), ("3x100", 1.0, "A"): (0.3, 0.1, 0.5),
    ("2x50", 1.0, "B"): (2.0, 1.0, 3.0), ("3x100", 1.0, "B"): (0.2, -0.1, 0.5),
    # 5 %: both supported everywhere, B larger -> B
    ("2x50", 5.0, "A"): (0.5, 0.1, 0.9), ("3x100", 5.0, "A"): (0.5, 0.1, 0.9),
    ("2x50", 5.0, "B"): (1.0, 0.5, 1.5), ("3x100", 5.0, "B"): (1.2, 0.5, 1.9),
    # 10 %: B supported everywhere -> B (merged with 5 %)
    ("2x50", 10.0, "A"): (-0.5, -0.9, -0.1), ("3x100", 10.0, "A"): (0.1, -0.2, 0.4),
    ("2x50", 10.0, "B"): (1.0, 0.5, 1.5), ("3x100", 10.0, "B"): (1.0, 0.5, 1.5),
})


def test_verdicts_follow_the_interval() -> None:
    table = gain_verdicts(GAINS).set_index(["model_size", "error_pct", "method"])["verdict"]
    assert table[("2x50", 1.0, "A")] == "supported"
    assert table[("3x100", 1.0, "B")] == "undecided"
    assert table[("2x50", 10.0, "A")] == "contradicted"


def test_recommend_by_the_rule() -> None:
    table = recommend(GAINS)
    assert table["error_pct"].tolist() == [1.0, 5.0, 10.0]
    assert table["recommended"].tolist() == ["A", "B", "B"]
    assert table["gain_mean"].tolist() == pytest.approx([0.4, 1.1, 1.0])
    assert table["qualifying"].tolist() == [("A",), ("B", "A"), ("B",)]
    assert table["safe"].tolist() == [("A", "B"), ("A", "B"), ("B",)]
    text = recommendation_text(table, {"A": "Alpha", "B": "Beta"})
    assert text.startswith("At 1 % errors, use Alpha: its gain over the baseline is "
                           "significant at all 2 model sizes (mean +0.40 points)")
    assert "At 5 and 10 % errors, use Beta" in text and "(mean +1.00 to +1.10 points)" in text


def test_no_qualifying_method_keeps_the_model_and_names_the_safe_ones() -> None:
    gains = _gains({("2x50", 1.0, "A"): (0.1, -0.1, 0.3), ("2x50", 1.0, "B"): (-1.0, -2.0, -0.1),
                    ("2x50", 5.0, "A"): (0.0, -0.2, 0.2), ("2x50", 5.0, "B"): (-1.0, -2.0, -0.5)})
    table = recommend(gains)
    assert table["recommended"].tolist() == ["", ""] and math.isnan(table["gain_mean"].iloc[0])
    assert recommendation_text(table) == (
        "At ≤ 5 % errors, no method improves significantly at the model size: keep the model. "
        "Not significantly worse than it at any size: A.")


def test_equal_gains_go_to_the_cheaper_method_tuning_included() -> None:
    cells = {("2x50", 1.0, m): (0.5, 0.1, 0.9) for m in ("A", "B")}
    gains = _gains(cells, cost={"A": 1.0, "B": 2.0})
    assert recommend(gains)["recommended"].item() == "A"
    gains["tuning_s"] = [5.0, math.nan]
    assert recommend(gains)["recommended"].item() == "B"


def test_a_method_missing_at_a_size_does_not_qualify() -> None:
    gains = _gains({("2x50", 1.0, "A"): (0.5, 0.1, 0.9), ("3x100", 1.0, "B"): (0.5, 0.1, 0.9),
                    ("2x50", 1.0, "B"): (0.2, 0.1, 0.3)})
    table = recommend(gains)
    assert table["recommended"].item() == "B" and table["safe"].item() == ("B",)


@pytest.mark.parametrize(("bad", "named"), [
    (GAINS.drop(columns="ci_low"), r"\['ci_low'\]"),
    (GAINS.iloc[:0], "gains is empty"),
    (pd.concat([GAINS, GAINS.iloc[:1]]), "twice"),
])
def test_bad_gains_are_named(bad: pd.DataFrame, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        recommend(bad)
    with pytest.raises(ValueError, match="frame of recommend"):
        recommendation_text(GAINS.iloc[:0])
