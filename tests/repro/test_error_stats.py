"""Paired comparisons, Holm, MDE, verdicts, size comparison and the test-row bootstrap of
:mod:`assd_repro.experiments.error_stats`, on hand-made rows with known answers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from assd_repro.experiments.error_stats import (
    bootstrap_test_rows,
    cell_statistics,
    compare_sizes,
    decode_correct,
    encode_correct,
    holm_adjust,
    paired_comparisons,
    paired_mde,
    verdict,
)

SIZES = ("3x100", "2x50")                 # deliberately not sorted
PCTS = (1.0, 0.25, 5.0)
N = 5
#: Exact per-replicate differences (method - baseline) per method; the cell adds an offset.
DIFFS = {"assd": np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
         "finetune": np.array([-0.5, 0.0, 0.5, -1.0, 1.0]),
         "retrain": np.array([2.0, 2.0, 2.5, 1.5, 2.0])}


def _offset(size: str, pct: float) -> float:
    return SIZES.index(size) * 0.5 - PCTS.index(pct) * 0.75


def _baseline(size: str, pct: float) -> np.ndarray:
    rng = np.random.default_rng(int(pct * 100) + 7 * SIZES.index(size))
    return 85.0 + rng.normal(0.0, 1.0, N)


def hand_rows() -> pd.DataFrame:
    """Both splits, every method; ``method = baseline + DIFFS[method] + offset(cell)``."""
    rows = []
    for size, pct, split in itertools.product(SIZES, PCTS, ("test", "train")):
        base = _baseline(size, pct) + (split == "train")
        values = {"baseline": base,
                  **{m: base + d + _offset(size, pct) for m, d in DIFFS.items()}}
        for r in range(N):
            for m, v in values.items():
                rows.append({"model_size": size, "error_pct": pct, "replicate": r, "method": m,
                             "split": split, "value": float(v[r]), "n_eval": 1000})
    return pd.DataFrame(rows)


def slow_holm(p: list[float]) -> list[float]:
    """Holm by the textbook: walk the sorted p-values, multiplier m - rank, running maximum."""
    m = len(p)
    order = sorted(range(m), key=lambda i: (p[i], i))
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


# ----------------------------------------------------------------- paired_comparisons --------

def test_paired_comparisons_known_differences() -> None:
    rows = hand_rows()
    table = paired_comparisons(rows.sample(frac=1, random_state=3))     # order must not matter
    assert len(table) == len(SIZES) * len(PCTS) * 3
    assert set(table["against"]) == {"baseline"}
    for _, row in table.iterrows():
        size, pct, m = row["model_size"], row["error_pct"], row["method"]
        diff = DIFFS[m] + _offset(size, pct)
        base = _baseline(size, pct)
        assert row["n"] == N
        assert row["diff_mean"] == pytest.approx(diff.mean())
        assert row["diff_std"] == pytest.approx(diff.std(ddof=1))
        assert row["mean"] == pytest.approx((base + diff).mean())
        assert row["std"] == pytest.approx((base + diff).std(ddof=1))
        assert row["against_mean"] == pytest.approx(base.mean())
        assert row["against_std"] == pytest.approx(base.std(ddof=1))
        half = stats.t.ppf(0.975, N - 1) * diff.std(ddof=1) / math.sqrt(N)
        assert row["ci_low"] == pytest.approx(diff.mean() - half)
        assert row["ci_high"] == pytest.approx(diff.mean() + half)
        assert row["p_paired"] == pytest.approx(stats.ttest_rel(base + diff, base).pvalue)
        assert row["p_ind"] == pytest.approx(stats.ttest_ind(base + diff, base).pvalue)
        assert row["mde"] == pytest.approx(paired_mde(N, diff.std(ddof=1)))


def test_paired_comparisons_assd_matches_cell_statistics() -> None:
    rows = hand_rows()
    table = paired_comparisons(rows, methods=("assd",))
    cells = cell_statistics(rows)
    cells = cells[cells["split"] == "test"].reset_index(drop=True)
    np.testing.assert_allclose(table["diff_mean"], cells["gain_mean"])
    np.testing.assert_allclose(table["p_paired"], cells["p_ttest_rel"])
    np.testing.assert_allclose(table["p_ind"], cells["p_ttest_ind"])
    np.testing.assert_allclose(table["mean"], cells["assd_mean"])


def test_paired_comparisons_holm_over_the_cells_of_each_method() -> None:
    table = paired_comparisons(hand_rows())
    for _, part in table.groupby("method"):
        assert len(part) == len(SIZES) * len(PCTS)
        np.testing.assert_allclose(part["p_paired_holm"], slow_holm(list(part["p_paired"])))
        np.testing.assert_allclose(part["p_ind_holm"], slow_holm(list(part["p_ind"])))
        assert (part["p_paired_holm"] >= part["p_paired"] - 1e-15).all()


def test_paired_comparisons_train_split_and_confidence() -> None:
    rows = hand_rows()
    narrow = paired_comparisons(rows, split="train", confidence=0.5)
    wide = paired_comparisons(rows, split="train", confidence=0.99)
    assert (narrow["ci_high"] - narrow["ci_low"] < wide["ci_high"] - wide["ci_low"]).all()
    np.testing.assert_allclose(narrow["diff_mean"], paired_comparisons(rows)["diff_mean"])


def test_paired_comparisons_only_paired_scenarios_count() -> None:
    rows = hand_rows()
    dropped = rows[~((rows["method"] == "assd") & (rows["replicate"] == 0))]
    table = paired_comparisons(dropped, methods=("assd",))
    assert (table["n"] == N - 1).all()
    row = table.iloc[0]
    diff = (DIFFS["assd"] + _offset(row["model_size"], row["error_pct"]))[1:]
    assert row["diff_mean"] == pytest.approx(diff.mean())
    assert row["against_mean"] == pytest.approx(_baseline(row["model_size"],
                                                          row["error_pct"])[1:].mean())


def test_paired_comparisons_single_scenario_is_nan() -> None:
    rows = hand_rows()
    table = paired_comparisons(rows[rows["replicate"] == 0], methods=("assd",))
    assert (table["n"] == 1).all()
    for col in ("std", "diff_std", "ci_low", "ci_high", "p_paired", "p_ind", "p_paired_holm",
                "mde"):
        assert table[col].isna().all(), col
    assert table["diff_mean"].notna().all()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"against": "oracle"}, r"against \['oracle'\] has no row"),
    ({"methods": ("assd", "ssd")}, r"methods \['ssd'\] has no row"),
    ({"methods": ("assd", "baseline")}, r"not against='baseline'"),
    ({"methods": ()}, r"methods is empty"),
    ({"split": "val"}, r"split='val' has no row"),
    ({"confidence": 1.0}, r"confidence=1.0 must be a number strictly between 0 and 1"),
    ({"power": 0.01}, r"power=0.01 must exceed alpha=0.05"),
])
def test_paired_comparisons_refuses_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        paired_comparisons(hand_rows(), **kwargs)  # type: ignore[arg-type]


def test_paired_comparisons_refuses_duplicate_scenarios() -> None:
    rows = hand_rows()
    with pytest.raises(ValueError, match=r"drop the duplicate runs"):
        paired_comparisons(pd.concat([rows, rows.iloc[:1]]))


# ------------------------------------------------------------------------------ Holm ---------

def test_holm_hand_example() -> None:
    np.testing.assert_allclose(holm_adjust([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm_adjust([0.5, 0.9]), [1.0, 1.0])      # capped at 1


def test_holm_against_slow_loop() -> None:
    rng = np.random.default_rng(11)
    for m in (1, 2, 5, 18, 40):
        p = rng.uniform(0, 0.2, m) ** 2
        p[: m // 3] = p[0]                                              # ties
        adjusted = holm_adjust(p)
        np.testing.assert_allclose(adjusted, slow_holm(list(p)))
        order = np.argsort(p, kind="stable")
        assert (np.diff(adjusted[order]) >= 0).all()                    # monotone
        assert (adjusted <= 1).all() and (adjusted >= p).all()


def test_holm_against_statsmodels() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(5).uniform(0, 0.1, 18)
    np.testing.assert_allclose(holm_adjust(p), multitest.multipletests(p, method="holm")[1])


def test_holm_leaves_nan_out_of_the_family() -> None:
    adjusted = holm_adjust([0.01, np.nan, 0.02])
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2]], [0.02, 0.02])
    assert np.isnan(holm_adjust([np.nan])).all()


def test_holm_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        holm_adjust([0.1, 1.5])
    with pytest.raises(ValueError, match=r"one-dimensional"):
        holm_adjust([[0.1]])


# ------------------------------------------------------------------------------- MDE ---------

@pytest.mark.parametrize(("n", "sd"), [(3, 1.0), (6, 2.0), (15, 0.7)])
def test_mde_against_simulation(n: int, sd: float) -> None:
    delta = paired_mde(n, sd)
    rng = np.random.default_rng(100 + n)
    sims = 20_000
    baseline = 85 + rng.normal(0, 3.0, (sims, n))                       # shared scenario part
    noise = rng.normal(0, sd / math.sqrt(2), (2, sims, n))
    method = baseline + delta + noise[0]
    against = baseline + noise[1]
    rejected = stats.ttest_rel(method, against, axis=1).pvalue < 0.05
    assert rejected.mean() == pytest.approx(0.8, abs=0.01)


def test_mde_power_and_alpha_move_it() -> None:
    assert paired_mde(10, 1.0, power=0.9) > paired_mde(10, 1.0)
    assert paired_mde(10, 1.0, alpha=0.01) > paired_mde(10, 1.0)
    assert paired_mde(10, 2.0) == pytest.approx(2 * paired_mde(10, 1.0))


@pytest.mark.parametrize("n", [2000, 10_000])
def test_mde_normal_approximation_for_large_n(n: int) -> None:
    approx = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * 1.3 / math.sqrt(n)
    assert paired_mde(n, 1.3) == pytest.approx(approx, rel=2e-3)


def test_mde_nan_and_refusals() -> None:
    assert math.isnan(paired_mde(1, 1.0))
    assert math.isnan(paired_mde(5, 0.0))
    assert math.isnan(paired_mde(5, float("nan")))
    with pytest.raises(ValueError, match=r"sd=-1.0 must be a standard deviation"):
        paired_mde(5, -1.0)
    with pytest.raises(ValueError, match=r"n=2.5 must be a whole number"):
        paired_mde(2.5, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"power=0.05 must exceed alpha=0.05"):
        paired_mde(5, 1.0, power=0.05)


# --------------------------------------------------------------------------- verdict ---------

@pytest.mark.parametrize(("low", "high", "direction", "expected"), [
    (0.1, 2.0, 1, "supported"),
    (-2.0, -0.1, 1, "contradicted"),
    (-0.1, 2.0, 1, "undecided"),
    (0.0, 2.0, 1, "undecided"),                   # touching 0 does not exclude it
    (-2.0, -0.1, -1, "supported"),
    (0.1, 2.0, -1, "contradicted"),
    (-1.0, 1.0, -1, "undecided"),
    (float("nan"), float("nan"), 1, "undecided"),
])
def test_verdict_cases(low: float, high: float, direction: int, expected: str) -> None:
    assert verdict(low, high, direction) == expected
    assert isinstance(verdict(low, high, direction), str)


def test_verdict_vectorised() -> None:
    table = paired_comparisons(hand_rows())
    out = verdict(table["ci_low"], table["ci_high"], 1)
    assert isinstance(out, np.ndarray) and out.shape == (len(table),)
    expected = [verdict(lo, hi, 1) for lo, hi in zip(table["ci_low"], table["ci_high"])]
    np.testing.assert_array_equal(out, expected)
    assert {"supported", "undecided"} <= set(out)
    np.testing.assert_array_equal(verdict([1.0, -3.0, -1.0], [2.0, -1.0, 1.0], [1, -1, 1]),
                                  ["supported", "supported", "undecided"])


def test_verdict_refusals() -> None:
    with pytest.raises(ValueError, match=r"direction=0 must be \+1"):
        verdict(0.1, 0.2, 0)
    with pytest.raises(ValueError, match=r"ci_low exceeds ci_high"):
        verdict(1.0, 0.5, 1)


# ---------------------------------------------------------------------- compare_sizes --------

def test_compare_sizes_equals_scipy_welch() -> None:
    rows = hand_rows()
    # Make the gains of the two sizes differ in spread, so Welch's df is not the pooled one.
    mask = (rows["model_size"] == "2x50") & (rows["method"] == "assd")
    rows.loc[mask, "value"] += 0.7 * rows.loc[mask, "replicate"] ** 2
    out = compare_sizes(rows, "3x100", "2x50", error_pct=1)
    test = rows[(rows["split"] == "test") & (rows["error_pct"] == 1.0)]
    gains = {}
    for size in ("3x100", "2x50"):
        w = test[test["model_size"] == size].pivot(index="replicate", columns="method",
                                                  values="value")
        gains[size] = (w["assd"] - w["baseline"]).to_numpy()
    ref = stats.ttest_ind(gains["3x100"], gains["2x50"], equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert out["gain_a"] == pytest.approx(gains["3x100"].mean())
    assert out["gain_b"] == pytest.approx(gains["2x50"].mean())
    assert out["diff"] == pytest.approx(gains["3x100"].mean() - gains["2x50"].mean())
    assert out["p_value"] == pytest.approx(ref.pvalue)
    assert out["df"] == pytest.approx(ref.df)
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert (out["n_a"], out["n_b"]) == (N, N)


def test_compare_sizes_known_difference() -> None:
    out = compare_sizes(hand_rows(), "2x50", "3x100", error_pct=5.0, method="retrain")
    assert out["diff"] == pytest.approx(_offset("2x50", 5.0) - _offset("3x100", 5.0))
    assert out["ci_low"] < out["diff"] < out["ci_high"]


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    (("2x50", "2x50"), {"error_pct": 1.0}, r"both '2x50'"),
    (("2x50", "9x9"), {"error_pct": 1.0}, r"size_b='9x9' has no row"),
    (("2x50", "3x100"), {"error_pct": 2.5}, r"error_pct=2.5 has no row"),
    (("2x50", "3x100"), {"error_pct": 1.0, "method": "ssd"}, r"\['ssd'\] has no row"),
])
def test_compare_sizes_refusals(args: tuple[str, str], kwargs: dict[str, object],
                                match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compare_sizes(hand_rows(), *args, **kwargs)  # type: ignore[arg-type]


def test_compare_sizes_needs_two_scenarios() -> None:
    rows = hand_rows()
    with pytest.raises(ValueError, match=r"Welch's test needs two or more"):
        compare_sizes(rows[rows["replicate"] == 0], "2x50", "3x100", error_pct=1.0)


# --------------------------------------------------------------- encode / decode -------------

@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 15, 16, 17, 402, 1001])
def test_encode_decode_round_trip(n: int) -> None:
    correct = np.random.default_rng(n).random(n) < 0.6
    code = encode_correct(correct)
    assert len(code) == 2 * -(-n // 8)
    assert code == bytes(np.packbits(correct)).hex()            # the run's own encoding
    np.testing.assert_array_equal(decode_correct(code, n), correct)
    assert decode_correct(code, n).dtype == bool
    np.testing.assert_array_equal(decode_correct(encode_correct(correct.astype(int)), n), correct)


def test_decode_refusals() -> None:
    code = encode_correct(np.ones(9, bool))
    with pytest.raises(ValueError, match=r"holds 2 bytes, but n=20 rows need 3"):
        decode_correct(code, 20)
    with pytest.raises(ValueError, match=r"set bits past n=9"):
        decode_correct(encode_correct(np.ones(12, bool)), 9)          # 2 bytes, wrong length
    with pytest.raises(ValueError, match=r"hex_string='zz' is not a string of hex digits"):
        decode_correct("zz", 8)
    with pytest.raises(ValueError, match=r"is not a string of hex digits"):
        decode_correct(float("nan"), 8)  # type: ignore[arg-type]  # a missing test_correct
    with pytest.raises(ValueError, match=r"one-dimensional"):
        encode_correct(np.ones((2, 2), bool))
    with pytest.raises(ValueError, match=r"values other than 0/1"):
        encode_correct([0, 2])


# ------------------------------------------------------------------------- bootstrap ---------

N_TEST = 203          # not a multiple of 8


def correct_rows(n_scen: int = 6, p_base: float = 0.80, p_assd: float = 0.83) -> pd.DataFrame:
    """Test rows with ``test_correct`` (and train rows with an empty one) for one cell."""
    rng = np.random.default_rng(42)
    hard = rng.random(N_TEST) < 0.2                               # rows all models find hard
    rows = []
    for r in range(n_scen):
        for m, p in (("baseline", p_base), ("assd", p_assd), ("finetune", p_base)):
            correct = (rng.random(N_TEST) < p) & ~(hard & (rng.random(N_TEST) < 0.8))
            rows.append({"model_size": "2x50", "error_pct": 1.0, "replicate": r, "method": m,
                         "split": "test", "value": 100.0 * correct.sum() / N_TEST,
                         "n_eval": N_TEST, "test_correct": encode_correct(correct)})
            rows.append({"model_size": "2x50", "error_pct": 1.0, "replicate": r, "method": m,
                         "split": "train", "value": 90.0, "n_eval": 500, "test_correct": ""})
    return pd.DataFrame(rows)


def test_bootstrap_estimate_equals_paired_diff_mean() -> None:
    rows = correct_rows()
    boot = bootstrap_test_rows(rows, model_size="2x50", error_pct=1.0, n_boot=500)
    paired = paired_comparisons(rows, methods=("assd",)).iloc[0]
    assert boot["estimate"] == pytest.approx(paired["diff_mean"], abs=1e-9)
    assert (boot["n_boot"], boot["n_test"], boot["n_scenarios"]) == (500, N_TEST, 6)


def test_bootstrap_interval_contains_the_estimate() -> None:
    boot = bootstrap_test_rows(correct_rows(), model_size="2x50", error_pct=1.0, n_boot=1000)
    assert boot["ci_low"] < boot["estimate"] < boot["ci_high"]
    assert boot["two_level_ci_low"] < boot["estimate"] < boot["two_level_ci_high"]


def test_bootstrap_se_matches_the_analytic_row_se() -> None:
    rows = correct_rows()
    boot = bootstrap_test_rows(rows, model_size="2x50", error_pct=1.0, n_boot=2000)
    test = rows[rows["split"] == "test"]
    mats = {m: np.stack([decode_correct(c, N_TEST) for c in test[test["method"] == m]
                         .sort_values("replicate")["test_correct"]]).astype(float)
            for m in ("assd", "baseline")}
    per_row = (mats["assd"] - mats["baseline"]).mean(axis=0)
    analytic = 100 * per_row.std(ddof=0) / math.sqrt(N_TEST)
    assert boot["se"] == pytest.approx(analytic, rel=0.1)


def test_bootstrap_two_level_equals_row_level_for_one_scenario() -> None:
    rows = correct_rows(n_scen=1)
    boot = bootstrap_test_rows(rows, model_size="2x50", error_pct=1.0, n_boot=400, seed=3)
    assert boot["n_scenarios"] == 1
    assert boot["two_level_ci_low"] == pytest.approx(boot["ci_low"], abs=1e-12)
    assert boot["two_level_ci_high"] == pytest.approx(boot["ci_high"], abs=1e-12)
    many = bootstrap_test_rows(correct_rows(), model_size="2x50", error_pct=1.0, n_boot=1000)
    assert many["two_level_se"] > many["se"]                # scenarios add variation


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    rows = correct_rows()
    first = bootstrap_test_rows(rows, model_size="2x50", error_pct=1.0, n_boot=300, seed=7)
    again = bootstrap_test_rows(rows, model_size="2x50", error_pct=1.0, n_boot=300, seed=7)
    other = bootstrap_test_rows(rows, model_size="2x50", error_pct=1.0, n_boot=300, seed=8)
    assert first == again
    assert (first["ci_low"], first["ci_high"]) != (other["ci_low"], other["ci_high"])


def test_bootstrap_other_method_and_reference() -> None:
    rows = correct_rows()
    boot = bootstrap_test_rows(rows, model_size="2x50", error_pct=1, method="finetune",
                               against="assd", n_boot=200)
    paired = paired_comparisons(rows, against="assd", methods=("finetune",)).iloc[0]
    assert boot["estimate"] == pytest.approx(paired["diff_mean"], abs=1e-9)


def test_bootstrap_error_on_missing_test_correct() -> None:
    rows = correct_rows()
    with pytest.raises(ValueError, match=r"lack test_correct .*must record test predictions"):
        bootstrap_test_rows(rows.drop(columns="test_correct"), model_size="2x50", error_pct=1.0)
    rows.loc[(rows["split"] == "test") & (rows["replicate"] == 2), "test_correct"] = ""
    with pytest.raises(ValueError, match=r"must record test predictions"):
        bootstrap_test_rows(rows, model_size="2x50", error_pct=1.0)


def test_bootstrap_refuses_inconsistent_rows() -> None:
    rows = correct_rows()
    bad = rows.copy()
    bad.loc[(bad["split"] == "test") & (bad["replicate"] == 1) & (bad["method"] == "assd"),
            "value"] += 1.0
    with pytest.raises(ValueError, match=r"replicate 1, method 'assd' gives accuracy"):
        bootstrap_test_rows(bad, model_size="2x50", error_pct=1.0)
    with pytest.raises(ValueError, match=r"n_boot=0 must be a whole number"):
        bootstrap_test_rows(rows, model_size="2x50", error_pct=1.0, n_boot=0)
    with pytest.raises(ValueError, match=r"model_size='5x250' has no row"):
        bootstrap_test_rows(rows, model_size="5x250", error_pct=1.0)
