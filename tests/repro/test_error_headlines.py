"""Headline numbers of the error-unlearning chapter, on hand-made rows with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from assd_repro.data.dataco import DataCoSplit
from assd_repro.experiments import error_headlines as eh
from assd_repro.experiments.error_headlines import (
    authors_injection_headlines,
    fig5_headlines,
    leak_free_headlines,
    model_sizes,
    selection_headlines,
    table4_claims,
    table4_headlines,
    only_test_split,
)
from assd_repro.experiments.error_stats import (
    cell_statistics,
    compare_table4_with_paper,
    encode_correct,
    paired_comparisons,
)
from assd_repro.paper import paper_table

SIZES = ("2x50", "5x250")          # deliberately not in the paper's order
PCTS = (1.0, 10.0)
N = 6
#: ASSD's gain over the baseline per (size, error %), in points; retrain's likewise.
GAIN = {("5x250", 1.0): 0.8, ("5x250", 10.0): -2.0, ("2x50", 1.0): 0.3, ("2x50", 10.0): 0.5}
RETRAIN = {1.0: 1.5, 10.0: 0.1}


def hand_rows(shift: float = 0.0) -> pd.DataFrame:
    """Tidy rows: 4 methods x 2 splits x N replicates per cell, with ASSD's selection fields."""
    rng = np.random.default_rng(1)
    rows = []
    for size in SIZES:
        for pct in PCTS:
            base = 80 + shift + rng.normal(0, 0.5, N)
            noise = rng.normal(0, 0.05, N)
            values = {"baseline": base, "retrain": base + RETRAIN[pct],
                      "finetune": base + 0.2, "assd": base + GAIN[size, pct] + noise}
            percentile = 100 - np.log(1 + pct)
            for split in ("test", "train"):
                for method, v in values.items():
                    for r in range(N):
                        extra = ({"fraction_selected": (1.1 if size == "5x250" else 0.9)
                                  * (100 - percentile) / 100, "percentile": percentile}
                                 if method == "assd" else
                                 {"fraction_selected": np.nan, "percentile": np.nan})
                        rows.append({"model_size": size, "error_pct": pct, "split": split,
                                     "replicate": r, "method": method,
                                     "value": v[r] + (split == "train"), "n_eval": 400,
                                     **extra})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rows = hand_rows()
    stats = cell_statistics(rows)
    return rows, stats, compare_table4_with_paper(stats)


def test_sizes_come_largest_first(tables) -> None:
    _, stats, _ = tables
    assert model_sizes(only_test_split(stats)) == ["5x250", "2x50"]


def test_table4_headlines(tables) -> None:
    rows, stats, comparison = tables
    numbers = table4_headlines(stats, comparison, n_train=1612, n_scenarios=N)
    test = rows[rows["split"] == "test"].pivot_table(index=["model_size", "error_pct"],
                                                     columns="method", values="value")
    gains = test["assd"] - test["baseline"]
    assert numbers["n_cells"] == 4 and numbers["n_scenarios"] == N
    assert numbers["gain_min"] == pytest.approx(gains.min())
    assert numbers["gain_max"] == pytest.approx(gains.max())
    assert numbers["n_gain_positive"] == 3
    assert numbers["n_sig_paired_positive"] == 3     # the noise is tiny against the gains
    assert numbers["retrain_gap_max"] == pytest.approx(1.5)
    assert numbers["n_low_cells"] == 2 and numbers["n_retrain_best_low"] == 2
    assert numbers["n_assd_beats_finetune"] == 3
    assert numbers["baseline_mean"] == pytest.approx(test["baseline"].mean())
    paper = paper_table("error_unlearning")
    paper_test = paper[paper["split"] == "test"]
    assert numbers["paper_baseline_min"] == paper_test["baseline_mean"].min()
    large_10 = paper_test[(paper_test["model_size"] == "5x250") & (paper_test["error_pct"] == 10)]
    assert numbers["paper_assd_large_10"] == large_10["unlearn_mean"].item()


def test_selection_headlines_follow_the_formula(tables) -> None:
    rows, stats, comparison = tables
    numbers, table = selection_headlines(rows, stats, comparison)
    assert list(table.index) == list(PCTS)
    np.testing.assert_allclose(table["1 − p/100 (%)"], np.log1p(PCTS))
    # the two sizes dampen 1.1 and 0.9 times the formula's share: on average exactly it
    np.testing.assert_allclose(table["dampened (%)"], np.log1p(PCTS))
    assert numbers["selected_max_rel_dev_pct"] == pytest.approx(0, abs=1e-9)
    assert numbers["largest_size"] == "5x250" and numbers["smallest_size"] == "2x50"
    assert numbers["high_pct"] == 10.0 and numbers["peak_pct"] == 1.0
    assert numbers["gain_largest_high"] == pytest.approx(-2.0, abs=0.1)
    assert numbers["gain_largest_peak"] == pytest.approx(0.8, abs=0.1)


def test_fig5_headlines(tables) -> None:
    _, stats, comparison = tables
    numbers = fig5_headlines(stats, comparison)
    assert numbers["fig5_pct"] == 1.0
    assert numbers["gain_fig5_largest"] == pytest.approx(0.8, abs=0.1)
    assert numbers["gain_fig5_smallest"] == pytest.approx(0.3, abs=0.1)
    paper = compare_table4_with_paper(stats)
    at = paper[(paper["split"] == "test") & (paper["error_pct"] == 1.0)].set_index("model_size")
    assert numbers["paper_gain_fig5_largest"] == at.loc["5x250", "gain_paper"]
    # without a 1 % cell the lowest error rate stands in
    only_10 = stats[stats["error_pct"] == 10.0]
    assert fig5_headlines(only_10, compare_table4_with_paper(only_10))["fig5_pct"] == 10.0


def test_leak_free_headlines(tables) -> None:
    rows, stats, _ = tables
    leak_rows = hand_rows(shift=-20.0)
    leak_stats = cell_statistics(leak_rows)
    y_test = np.array([0] * 30 + [1] * 50 + [2] * 20)
    numbers = leak_free_headlines(stats, leak_stats, leak_rows, n_features_paper=40,
                                  n_features_leak=35, y_test=y_test)
    assert numbers["majority_pct"] == 50.0
    assert numbers["leak_drop"] == pytest.approx(20.0, abs=0.3)
    assert numbers["leak_gain_min_size"] == "5x250" and numbers["leak_gain_min_pct"] == 10.0
    assert numbers["leak_gain_min_is_highest_pct"] is True
    assert numbers["leak_selected_worst_pct"] == pytest.approx(1.1 * np.log1p(10.0))
    assert numbers["leak_n_cells"] == 4


def test_authors_injection_headlines() -> None:
    labels = np.arange(30_000) % 3
    numbers = authors_injection_headlines(labels)
    # three balanced classes: 7/24 of the chosen rows end on their true label
    assert numbers["authors_unchanged_balanced_pct"] == pytest.approx(100 * 7 / 24, abs=1.5)
    assert numbers["authors_unchanged_pct"] == numbers["authors_unchanged_balanced_pct"]
    assert numbers["late_share_pct"] == pytest.approx(100 / 3)


def test_claims_table(tables) -> None:
    rows, stats, comparison = tables
    found = {**table4_headlines(stats, comparison, n_train=1612, n_scenarios=N),
             **selection_headlines(rows, stats, comparison)[0],
             **fig5_headlines(stats, comparison),
             "leak_baseline_mean": 60.0, "majority_pct": 50.0, "leak_drop": 20.0}
    claims = table4_claims(found, synthetic=False)
    assert list(claims.columns) == ["paper", "this run", "supported"]
    supported = claims["supported"].tolist()
    assert supported[0] == "yes"        # 3 of 4 cells gain significantly
    assert supported[1] == "yes"        # ASSD beats fine-tuning in 3 of 4
    assert supported[2] == "yes"        # retrain best in both low cells
    assert supported[-1] == "no"        # a 20-point drop without the leak
    assert table4_claims(found, synthetic=True)["supported"].iloc[5].endswith("synthetic data")


# --------------------------------------------------------------------------------------------
# The chapter's report: paired comparisons, claims C4-C6, robustness checks
# --------------------------------------------------------------------------------------------


REPORT_SIZES = ("5x250", "3x100", "2x50")
REPORT_PCTS = (1.0, 5.0, 10.0)
R = 8
#: ASSD − baseline per cell (binary-exact values, so that the means come out exact).
DIFF = {("5x250", 1.0): 1.0, ("3x100", 1.0): 0.5, ("2x50", 1.0): 0.25,
        ("5x250", 5.0): -0.5, ("3x100", 5.0): 0.0, ("2x50", 5.0): 0.375,
        ("5x250", 10.0): -2.0, ("3x100", 10.0): 0.5, ("2x50", 10.0): 0.0}
#: ASSD's noise per cell: +a, -a, +a, ... (mean exactly 0).
NOISE = {cell: (0.25 if cell == ("3x100", 5.0) else 0.0625) for cell in DIFF}
FINETUNE = 0.125    # fine-tune − baseline, every scenario
RETRAIN_GAP = 0.75  # retrain − baseline, every scenario


def report_rows(sizes=REPORT_SIZES, pcts=REPORT_PCTS, diff=DIFF, baseline_spread=0.25,
                offset=80.0) -> pd.DataFrame:
    """Test and train rows of the four methods, R replicates per cell, with known differences."""
    rows = []
    for pct in pcts:
        for size in sizes:
            for r in range(R):
                base = offset + baseline_spread * r
                noise = NOISE.get((size, pct), 0.0625) * (-1) ** r
                values = {"baseline": base, "retrain": base + RETRAIN_GAP,
                          "finetune": base + FINETUNE, "assd": base + diff[size, pct] + noise}
                for split in ("test", "train"):
                    for method, value in values.items():
                        rows.append({"model_size": size, "error_pct": pct, "replicate": r,
                                     "method": method, "split": split, "value": value,
                                     "n_eval": 400})
    return pd.DataFrame(rows)


def _half(sd_unit: float, n: int = R) -> float:
    """Half-width of the 95 % t-interval of a mean of n alternating +-sd_unit values."""
    sd = sd_unit * math.sqrt(n / (n - 1))
    return float(sps.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)


@pytest.fixture(scope="module")
def report() -> eh.SourceReport:
    return eh.source_report(report_rows())


def test_data_source_label_names_the_real_file_at_the_paper_profile(monkeypatch,
                                                                   tmp_path) -> None:
    from assd_repro.experiments.stored_runs import find_run

    real = tmp_path / "DataCoSupplyChainDataset.csv"
    real.write_text("stand-in\n")
    monkeypatch.setenv("ASSD_DATACO", str(real))
    config = find_run("table4-sample-leak-free").config_for("paper")
    assert eh.data_source("leakfree").label(config) == "real DataCo file, leak-free protocol"


def test_data_sources_name_their_runs_and_say_synthetic() -> None:
    from assd_repro.experiments.stored_runs import STORED_RUNS, find_run

    names = {run.name for run in STORED_RUNS}
    for source in eh.DATA_SOURCES:
        assert set(source.runs) <= names
        for profile in ("smoke", "book"):
            label = source.label(find_run(source.runs[0]).config_for(profile))
            assert ("synthetic" in label) == source.synthetic, label
    book = {s.key: s.label(find_run(s.runs[0]).config()) for s in eh.DATA_SOURCES}
    assert book == {"sample": "real DataCo sample, paper protocol",
                    "leakfree": "real DataCo sample, leak-free protocol",
                    "synth": "synthetic table (180,519 rows), paper protocol"}
    with pytest.raises(ValueError, match="'synth' is synthetic, but its config has data_path"):
        eh.data_source("synth").label(find_run("table4-sample").config())
    assert eh.OWN_INIT_RUN in names
    assert eh.data_source("synth").runs[0] == "table4-synthetic"
    with pytest.raises(ValueError, match=r"no data source 'x'; choose one of \['sample'"):
        eh.data_source("x")


def test_concat_runs_orders_cells_and_refuses_overlaps() -> None:
    small = report_rows(sizes=("2x50",), pcts=(1.0,))
    large = report_rows(sizes=("5x250",), pcts=(5.0, 1.0))
    both = eh.concat_runs([small, large])
    assert len(both) == len(small) + len(large)
    cells = list(dict.fromkeys(zip(both["model_size"], both["error_pct"], strict=True)))
    assert cells == [("5x250", 1.0), ("5x250", 5.0), ("2x50", 1.0)]
    with pytest.raises(ValueError, match=r"two runs hold the cells \[\('2x50', 1.0\)\]"):
        eh.concat_runs([small, small])
    with pytest.raises(ValueError, match="at least one frame"):
        eh.concat_runs([])


def test_source_report_holds_every_comparison(report) -> None:
    assert list(report.paired["method"].unique()) == ["assd", "finetune", "retrain"]
    assert set(report.versus_finetune["against"]) == {"finetune"}
    assert len(report.paired) == 3 * len(DIFF) and len(report.versus_finetune) == len(DIFF)
    assd = report.paired[report.paired["method"] == "assd"].set_index(["model_size", "error_pct"])
    for cell, d in DIFF.items():
        assert assd.loc[cell, "diff_mean"] == d
        assert assd.loc[cell, "ci_high"] - d == pytest.approx(_half(NOISE[cell]))


def test_claim_verdicts_follow_the_rule(report) -> None:
    v = report.verdicts
    got = {(r.claim, r.comparison, r.model_size, r.error_pct): r.verdict
           for r in v.itertuples(index=False)}
    c4 = {k: x for k, x in got.items() if k[0] == "C4"}
    assert len(c4) == 12                          # 6 cells at <= 5 % x 2 comparisons
    base = {(k[2], k[3]): x for k, x in c4.items() if k[1] == "ASSD − baseline"}
    assert base == {("5x250", 1.0): "supported", ("3x100", 1.0): "supported",
                    ("2x50", 1.0): "supported", ("5x250", 5.0): "contradicted",
                    ("3x100", 5.0): "undecided", ("2x50", 5.0): "supported"}
    fine = {(k[2], k[3]): x for k, x in c4.items() if k[1] == "ASSD − fine-tune"}
    assert fine == {("5x250", 1.0): "supported", ("3x100", 1.0): "supported",
                    ("2x50", 1.0): "supported", ("5x250", 5.0): "contradicted",
                    ("3x100", 5.0): "undecided", ("2x50", 5.0): "supported"}
    c5 = v[v["claim"] == "C5"]
    assert list(c5["model_size"]) == ["5x250"] and list(c5["error_pct"]) == [10.0]
    assert c5["verdict"].item() == "supported" and c5["direction"].item() == -1
    c6 = v[v["claim"] == "C6"].set_index("model_size")
    assert list(c6.index) == ["5x250 − 2x50", "3x100 − 2x50"]
    assert c6.loc["5x250 − 2x50", "estimate"] == pytest.approx(0.75)
    assert c6.loc["3x100 − 2x50", "estimate"] == pytest.approx(0.25)
    assert (c6["verdict"] == "supported").all() and (c6["n"] == 2 * R).all()
    # the paper's differences: Table 4 means (5x250 at 1 %: 86.61 - 86.00)
    row = v[(v["claim"] == "C4") & (v["comparison"] == "ASSD − baseline")
            & (v["model_size"] == "5x250") & (v["error_pct"] == 1.0)]
    assert row["paper"].item() == pytest.approx(86.61 - 86.00)
    assert c6.loc["5x250 − 2x50", "paper"] == pytest.approx((86.61 - 86.00) - (86.88 - 86.76))


def test_claim_verdicts_leave_out_what_the_rows_lack() -> None:
    rows = report_rows(sizes=("2x50",), pcts=(1.0,))
    verdicts = eh.source_report(rows).verdicts
    assert set(verdicts["claim"]) == {"C4"} and len(verdicts) == 2   # no 5x250, no C6 pair
    counts = eh.verdict_counts({"tiny": verdicts})
    assert counts.loc[("tiny", "C5"), "tested"] == 0 and counts.loc[("tiny", "C6"), "tested"] == 0


def test_verdict_counts_and_headlines(report) -> None:
    counts = eh.verdict_counts({"hand": report.verdicts})
    assert counts.loc[("hand", "C4")].to_dict() == {"supported": 8, "contradicted": 2,
                                                    "undecided": 2, "tested": 12}
    assert counts.loc[("hand", "C5"), "supported"] == 1
    assert counts.loc[("hand", "C6")].to_dict() == {"supported": 2, "contradicted": 0,
                                                    "undecided": 0, "tested": 2}
    numbers = eh.verdict_headlines(report.verdicts, "hand")
    assert numbers["hand_c4_supported"] == 8 and numbers["hand_c4_tested"] == 12
    assert numbers["hand_c5_supported"] == 1 and numbers["hand_c6_supported"] == 2
    # the paper's mean differences point the claimed way in both C6 pairs and in C5's cell
    assert numbers["hand_c6_paper_direction"] == 2 and numbers["hand_c5_paper_direction"] == 1


def test_paired_headlines(report) -> None:
    numbers = eh.paired_headlines(report.paired, "hand")
    assert numbers["hand_n_cells"] == 9 and numbers["hand_n_min"] == numbers["hand_n_max"] == R
    assert numbers["hand_absmax"] == -2.0
    assert (numbers["hand_absmax_size"], numbers["hand_absmax_pct"]) == ("5x250", 10.0)
    assert numbers["hand_gain_min"] == -2.0 and numbers["hand_gain_max"] == 1.0
    assert numbers["hand_n_positive"] == 5
    assert numbers["hand_finetune_absmax"] == FINETUNE
    assert numbers["hand_retrain_absmax"] == RETRAIN_GAP
    assd = report.paired[report.paired["method"] == "assd"]
    assert numbers["hand_mde_median"] == pytest.approx(assd["mde"].median())
    assert numbers["hand_n_sig_paired"] == int((assd["p_paired"] < 0.05).sum())
    assert numbers["hand_n_sig_paired_holm"] <= numbers["hand_n_sig_paired"]
    assert numbers["hand_baseline_mean"] == pytest.approx(80 + 0.25 * (R - 1) / 2)
    with pytest.raises(ValueError, match="no 'assd' row"):
        eh.paired_headlines(report.paired[report.paired["method"] != "assd"], "hand")


def test_paper_headlines_read_table4() -> None:
    numbers = eh.paper_headlines()
    paper = paper_table("error_unlearning")
    test = paper[paper["split"] == "test"]
    assert numbers["paper_n_cells"] == len(test) == 18
    assert numbers["paper_n_sig"] == int((test["p_value"] == "<0.05").sum())
    assert numbers["paper_gain_min"] == pytest.approx(82.53 - 86.56)
    assert (numbers["c4_max_pct"], numbers["c5_size"], numbers["c6_pct"]) == (5.0, "5x250", 1.0)


def _split(n_train: int = 60, n_test: int = 30) -> DataCoSplit:
    """A separable three-class split: class k has feature k set."""
    def part(n):
        y = np.arange(n) % 3
        return np.eye(3, dtype=np.float32)[y], y.astype(np.int64)

    x_train, y_train = part(n_train)
    x_test, y_test = part(n_test)
    return DataCoSplit(x_train, y_train, x_test, y_test, np.arange(n_train),
                       np.arange(n_test) + n_train, ("a", "b", "c"), (), "paper")


def test_logistic_reference_and_training_check() -> None:
    reference = eh.logistic_reference(_split())
    assert reference["train"] == reference["test"] == 100.0
    assert reference["majority"] == pytest.approx(100 / 3)
    rows = report_rows(pcts=(5.0, 1.0))
    check = eh.training_check(rows, reference)
    assert list(check.index) == ["5x250", "3x100", "2x50", "logistic regression",
                                 "majority class"]
    assert (check.loc[["5x250", "2x50"], "error_pct"] == 1.0).all()  # the lowest error rate
    assert check.loc["2x50", "test_mean"] == pytest.approx(80 + 0.25 * (R - 1) / 2)
    assert check.loc["2x50", "train_std"] == pytest.approx(
        np.std(80 + 0.25 * np.arange(R), ddof=1))
    with pytest.raises(ValueError, match=r"no baseline row of the split\(s\) \['train'\]"):
        eh.training_check(rows[rows["split"] == "test"], reference)
    numbers = eh.training_headlines(check, "hand")
    assert numbers["hand_lr_test"] == 100.0 and numbers["hand_base_pct"] == 1.0
    assert numbers["hand_base_vs_lr_max"] == pytest.approx(80 + 0.25 * (R - 1) / 2 - 100)


def test_recipe_headlines_match_the_pipeline_constants() -> None:
    from assd_repro.experiments.supply_chain_pipeline import (
        FULL_SIZE_TRAIN_ROWS,
        SAMPLE_BATCH_SIZE,
        SAMPLE_TRAIN_ROWS,
    )

    numbers = eh.recipe_headlines()
    assert numbers["sample_batch"] == SAMPLE_BATCH_SIZE == 34
    assert numbers["sample_train_rows"] == SAMPLE_TRAIN_ROWS
    assert numbers["sample_steps"] == numbers["full_steps"] == 48
    assert numbers["full_train_rows"] == FULL_SIZE_TRAIN_ROWS and numbers["paper_batch"] == 1024
    assert numbers["sample_rows"] == 6000 and numbers["sample_test_rows"] == 402
    assert numbers["sample_row_points"] == pytest.approx(100 / 402)


def test_data_overview_of_the_sample() -> None:
    from assd_repro.experiments.error_unlearning import ErrorUnlearningConfig

    overview = eh.data_overview({"sample": ErrorUnlearningConfig.for_profile("smoke")})
    row = overview.loc["sample"]
    assert row["data"] == "DataCoSupplyChainDataset.sample6000.csv.gz"
    assert (row["train rows"], row["test rows"], row["batch"]) == (1612, 402, 34)
    assert row["SGD steps per epoch"] == 48 and row["lr, weight decay"].startswith("2x50: ")


def _correct_rows(n_test: int = 8) -> pd.DataFrame:
    """One cell (3x100, 5 %), 4 replicates; ASSD gets replicate r's first r+1 wrong rows right."""
    rows = []
    for r in range(4):
        base = np.ones(n_test, dtype=bool)
        base[: r + 2] = False
        assd = base.copy()
        assd[: r + 1] = True
        for method, correct in (("baseline", base), ("assd", assd)):
            rows.append({"model_size": "3x100", "error_pct": 5.0, "replicate": r,
                         "method": method, "split": "test", "value": 100 * correct.mean(),
                         "n_eval": n_test, "test_correct": encode_correct(correct)})
    return pd.DataFrame(rows)


def test_bootstrap_cell_prefers_the_stated_cell() -> None:
    rows = report_rows(pcts=(1.0, 5.0))
    assert eh.bootstrap_cell(rows) == ("3x100", 5.0)
    assert eh.bootstrap_cell(rows[rows["model_size"] != "3x100"]) == ("5x250", 5.0)
    only_1 = rows[rows["error_pct"] == 1.0]
    assert eh.bootstrap_cell(only_1) == (only_1["model_size"].iloc[0], 1.0)
    with pytest.raises(ValueError, match="no test row"):
        eh.bootstrap_cell(rows[rows["split"] == "train"])


def test_bootstrap_versus_t() -> None:
    rows = _correct_rows()
    paired = paired_comparisons(rows, methods=("assd",))
    table = eh.bootstrap_versus_t(rows, paired, ("3x100", 5.0), n_boot=400)
    gains = 100 * (np.arange(4) + 1) / 8           # replicate r gains r+1 rows of 8
    assert list(table.index) == ["paired t, scenarios", "bootstrap, test rows",
                                 "bootstrap, scenarios and test rows"]
    assert table["estimate"].tolist() == pytest.approx([gains.mean()] * 3)
    assert table.loc["paired t, scenarios", "ci_low"] == pytest.approx(
        gains.mean() - sps.t.ppf(0.975, 3) * gains.std(ddof=1) / 2)
    assert (table["width"] == table["ci_high"] - table["ci_low"]).all()
    assert (table["n_test"] == 8).all() and (table["n_scenarios"] == 4).all()
    numbers = eh.bootstrap_headlines(table, ("3x100", 5.0))
    assert numbers["boot_row_points"] == 12.5 and numbers["boot_n_test"] == 8
    assert numbers["boot_estimate_rows"] == pytest.approx(2.5)   # 1, 2, 3, 4 rows: mean 2.5
    assert numbers["boot_rows_over_t"] == pytest.approx(
        numbers["boot_rows_width"] / numbers["boot_t_width"])
    with pytest.raises(ValueError, match="no ASSD row of the cell"):
        eh.bootstrap_versus_t(rows, paired.iloc[0:0], ("3x100", 5.0), n_boot=10)


def test_init_comparison_and_headlines() -> None:
    sizes, pcts = ("3x100",), (1.0, 5.0)
    shared = report_rows(sizes=sizes, pcts=pcts, baseline_spread=0.0)
    own_diff = {**DIFF, ("3x100", 1.0): 0.0}           # the gain at 1 % vanishes
    own = report_rows(sizes=sizes, pcts=pcts, diff=own_diff, baseline_spread=1.0)
    table = eh.init_comparison(report_rows(pcts=pcts, baseline_spread=0.0), own)
    assert list(table.index.get_level_values("init")) == ["shared", "shared", "own", "own"]
    assert table.loc[("3x100", 1.0, "shared"), "baseline_std"] == 0.0
    assert table.loc[("3x100", 1.0, "own"), "baseline_std"] == pytest.approx(
        np.std(np.arange(R), ddof=1))
    assert table.loc[("3x100", 1.0, "shared"), "verdict"] == "supported"
    assert table.loc[("3x100", 1.0, "own"), "verdict"] == "undecided"
    assert table.loc[("3x100", 1.0, "own"), "welch_diff"] == pytest.approx(0.5)
    assert table.loc[("3x100", 5.0, "own"), "welch_diff"] == pytest.approx(0.0)
    assert math.isnan(table.loc[("3x100", 1.0, "shared"), "welch_diff"])
    numbers = eh.init_headlines(table)
    assert numbers["init_n_cells"] == 2 and numbers["init_n_same_verdict"] == 1
    assert numbers["init_n_welch_differs"] == 1 and numbers["init_welch_absmax"] == 0.5
    assert math.isnan(numbers["init_sd_ratio"])        # the shared baselines do not vary
    assert numbers["init_n_shared"] == numbers["init_n_own"] == R
    with pytest.raises(ValueError, match="share no test cell"):
        eh.init_comparison(shared, report_rows(sizes=("2x50",), pcts=pcts))
