"""Headline numbers of the error-unlearning chapter (Table 4, Figs. 4-5, the leak-free run).

Each function turns the chapter's tables into a flat ``name -> number`` dict that the notebook
glues into its text (:func:`assd_repro.plots.glue_numbers`), so that no number in the book is
computed in a notebook cell or typed by hand. Inputs are the outputs of
:func:`~assd_repro.experiments.error_stats.cell_statistics` (``stats``),
:func:`~assd_repro.experiments.error_stats.compare_table4_with_paper` (``comparison``) and the
tidy rows of :func:`~assd_repro.experiments.error_unlearning.run_error_unlearning` (``rows``).
Accuracies and gains are in percent / percentage points; ``p_*`` are p-values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from assd_repro.experiments.supply_chain_pipeline import SUPPLY_CHAIN_SIZES
from assd_repro.label_errors import inject_label_errors
from assd_repro.paper import paper_table

__all__ = [
    "authors_injection_headlines",
    "fig5_headlines",
    "leak_free_headlines",
    "model_sizes",
    "selection_headlines",
    "table4_claims",
    "table4_headlines",
    "only_test_split",
]

#: The methods that retraining is compared with at low error rates.
_OTHERS = ("baseline", "finetune", "assd")


def only_test_split(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``split == "test"`` rows of a cell table, re-indexed from 0."""
    return frame[frame["split"] == "test"].reset_index(drop=True)


def model_sizes(test: pd.DataFrame) -> list[str]:
    """The model sizes present in ``test``, largest first (the paper's order)."""
    present = set(test["model_size"])
    return [size for size in SUPPLY_CHAIN_SIZES if size in present]


def table4_headlines(stats: pd.DataFrame, comparison: pd.DataFrame, *, n_train: int,
                     n_scenarios: int) -> dict[str, Any]:
    """Table 4 against the paper's: gains, significance counts and who is best, ours and theirs.

    Args:
        stats: ``cell_statistics`` of the run.
        comparison: ``compare_table4_with_paper(stats)``.
        n_train: training rows of the split (before errors are removed).
        n_scenarios: scenarios (replicates) per cell.
    """
    test, paper_test = only_test_split(stats), only_test_split(comparison)
    significant = (test["p_ttest_rel"] < 0.05) & (test["gain_mean"] > 0)
    low = test["error_pct"] <= 1.0
    paper4 = paper_table("error_unlearning")
    paper4_test = paper4[paper4["split"] == "test"]
    large_10 = paper4_test[(paper4_test["model_size"] == "5x250")
                           & (paper4_test["error_pct"] == 10.0)]
    others = [f"{m}_mean" for m in _OTHERS]
    paper_others = [f"{m}_paper" for m in _OTHERS]
    return {
        "paper_baseline_min": float(paper4_test["baseline_mean"].min()),
        "paper_baseline_max": float(paper4_test["baseline_mean"].max()),
        "paper_assd_large_10": float(large_10["unlearn_mean"].iloc[0]),
        "paper_baseline_large_10": float(large_10["baseline_mean"].iloc[0]),
        "n_train": int(n_train),
        "n_scenarios": int(n_scenarios),
        "n_cells": int(len(test)),
        "baseline_mean": float(test["baseline_mean"].mean()),
        "paper_baseline_mean": float(paper_test["baseline_paper"].mean()),
        "gain_min": float(test["gain_mean"].min()),
        "gain_max": float(test["gain_mean"].max()),
        "paper_gain_min": float(paper_test["gain_paper"].min()),
        "paper_gain_max": float(paper_test["gain_paper"].max()),
        "n_gain_positive": int((test["gain_mean"] > 0).sum()),
        "paper_n_gain_positive": int((paper_test["gain_paper"] > 0).sum()),
        "n_sig_paired_positive": int(significant.sum()),
        "n_sig_ind": int((test["p_ttest_ind"] < 0.05).sum()),
        "paper_n_sig": int((paper_test["p_paper"] == "<0.05").sum()),
        "retrain_gap_max": float((test["retrain_mean"] - test["baseline_mean"]).abs().max()),
        "paper_retrain_gap_max": float((paper_test["retrain_paper"]
                                        - paper_test["baseline_paper"]).abs().max()),
        "n_assd_beats_finetune": int((test["assd_mean"] > test["finetune_mean"]).sum()),
        "paper_n_assd_beats_finetune": int((paper_test["assd_paper"]
                                            > paper_test["finetune_paper"]).sum()),
        "n_low_cells": int(low.sum()),
        "n_retrain_best_low": int((test.loc[low, "retrain_mean"]
                                   > test.loc[low, others].max(axis=1)).sum()),
        "paper_n_retrain_best_low": int((paper_test.loc[low, "retrain_paper"]
                                         > paper_test.loc[low, paper_others].max(axis=1)).sum()),
    }


def selection_headlines(rows: pd.DataFrame, stats: pd.DataFrame, comparison: pd.DataFrame
                        ) -> tuple[dict[str, Any], pd.DataFrame]:
    """ASSD's dampened share against its formula, and the largest model's gain by error rate.

    Returns:
        The numbers, and a table indexed by ``error_pct`` with the measured share of dampened
        parameters (``"dampened (%)"``) and ``1 - p/100`` (``"1 − p/100 (%)"``), both in %.
    """
    test, paper_test = only_test_split(stats), only_test_split(comparison)
    assd = rows[(rows["method"] == "assd") & (rows["split"] == "test")]
    selected = assd.groupby("error_pct").agg(measured=("fraction_selected", "mean"),
                                             formula=("percentile", "mean"))
    selected["measured"] *= 100                       # share of parameters dampened, %
    selected["formula"] = 100 - selected["formula"]   # 1 - p/100, in %: ln(1 + error %)
    sizes = model_sizes(test)
    largest, smallest = sizes[0], sizes[-1]
    big = test[test["model_size"] == largest].set_index("error_pct")
    high_pct = float(big.index.max())
    peak_pct = float(big["gain_mean"].idxmax())
    paper_big = paper_test[paper_test["model_size"] == largest].set_index("error_pct")
    numbers = {
        "low_pct": float(selected.index.min()),
        "high_pct": high_pct,
        "selected_low_pct": float(selected["measured"].iloc[0]),
        "selected_high_pct": float(selected["measured"].iloc[-1]),
        "formula_low_pct": float(selected["formula"].iloc[0]),
        "formula_high_pct": float(selected["formula"].iloc[-1]),
        "selected_max_rel_dev_pct": float(((selected["measured"] - selected["formula"]).abs()
                                           / selected["formula"]).max() * 100),
        "largest_size": largest,
        "smallest_size": smallest,
        "gain_largest_high": float(big.loc[high_pct, "gain_mean"]),
        "p_largest_high": float(big.loc[high_pct, "p_ttest_rel"]),
        "paper_gain_largest_high": float(paper_big.loc[high_pct, "gain_paper"]),
        "peak_pct": peak_pct,
        "gain_largest_peak": float(big.loc[peak_pct, "gain_mean"]),
        "assd_std_largest_high": float(big.loc[high_pct, "assd_std"]),
        "baseline_std_largest_high": float(big.loc[high_pct, "baseline_std"]),
    }
    table = selected.rename(columns={"measured": "dampened (%)", "formula": "1 − p/100 (%)"})
    return numbers, table


def fig5_headlines(stats: pd.DataFrame, comparison: pd.DataFrame) -> dict[str, Any]:
    """Fig. 5: the gains of the largest and the smallest model at 1 % errors (or the lowest
    error rate of the run when it has no 1 % cell)."""
    test, paper_test = only_test_split(stats), only_test_split(comparison)
    sizes = model_sizes(test)
    largest, smallest = sizes[0], sizes[-1]
    fig5_pct = 1.0 if 1.0 in set(test["error_pct"]) else float(test["error_pct"].min())
    at = test[test["error_pct"] == fig5_pct].set_index("model_size")
    paper_at = paper_test[paper_test["error_pct"] == fig5_pct].set_index("model_size")
    return {
        "fig5_pct": fig5_pct,
        "gain_fig5_largest": float(at.loc[largest, "gain_mean"]),
        "gain_fig5_smallest": float(at.loc[smallest, "gain_mean"]),
        "paper_gain_fig5_largest": float(paper_at.loc[largest, "gain_paper"]),
        "paper_gain_fig5_smallest": float(paper_at.loc[smallest, "gain_paper"]),
        "p_fig5_largest": float(at.loc[largest, "p_ttest_rel"]),
    }


def leak_free_headlines(stats: pd.DataFrame, leak_stats: pd.DataFrame, leak_rows: pd.DataFrame,
                        *, n_features_paper: int, n_features_leak: int, y_test: np.ndarray
                        ) -> dict[str, Any]:
    """The leak-free run against the paper protocol on the model sizes both ran.

    Args:
        stats, leak_stats: ``cell_statistics`` of the paper-protocol and the leak-free run.
        leak_rows: the leak-free run's tidy rows.
        n_features_paper, n_features_leak: feature counts of the two protocols.
        y_test: ``(n_test,)`` integer test labels (for the majority-class share).
    """
    test, leak_test = only_test_split(stats), only_test_split(leak_stats)
    shared_mean = float(test.loc[test["model_size"].isin(leak_test["model_size"]),
                                 "baseline_mean"].mean())
    leak_mean = float(leak_test["baseline_mean"].mean())
    worst = leak_test.loc[leak_test["gain_mean"].idxmin()]
    majority_pct = float(np.bincount(y_test).max() / len(y_test) * 100)
    worst_rows = leak_rows[(leak_rows["method"] == "assd")
                           & (leak_rows["model_size"] == worst["model_size"])
                           & (leak_rows["error_pct"] == worst["error_pct"])]
    return {
        "n_features_paper": int(n_features_paper),
        "n_features_leak": int(n_features_leak),
        "leak_baseline_mean": leak_mean,
        "paper_protocol_baseline_shared": shared_mean,
        "leak_drop": shared_mean - leak_mean,
        "majority_pct": majority_pct,
        "leak_above_majority": leak_mean - majority_pct,
        "leak_gain_min": float(leak_test["gain_mean"].min()),
        "leak_gain_min_size": str(worst["model_size"]),
        "leak_gain_min_pct": float(worst["error_pct"]),
        "p_leak_gain_min": float(worst["p_ttest_rel"]),
        "leak_gain_min_is_highest_pct": bool(worst["error_pct"] == leak_test["error_pct"].max()),
        "leak_selected_worst_pct": float(worst_rows["fraction_selected"].mean() * 100),
        "leak_gain_max": float(leak_test["gain_mean"].max()),
        "leak_retrain_gap_max": float((leak_test["retrain_mean"]
                                       - leak_test["baseline_mean"]).abs().max()),
        "leak_n_sig_paired_positive": int(((leak_test["p_ttest_rel"] < 0.05)
                                           & (leak_test["gain_mean"] > 0)).sum()),
        "leak_n_cells": int(len(leak_test)),
    }


def authors_injection_headlines(labels: np.ndarray, *, fraction: float = 0.1,
                                seed: int = 0) -> dict[str, float]:
    """How often the authors' sequential-``if`` injection leaves a chosen label unchanged.

    Args:
        labels: ``(n,)`` integer training labels of the three supply-chain classes.
        fraction: share of rows chosen (0.1: 10 % errors).
        seed: seed of the draw.

    Returns:
        ``authors_unchanged_pct`` on ``labels`` and ``authors_unchanged_balanced_pct`` on
        balanced labels (``0, 1, 2, 0, ...``; 7/24 = 29.2 % in expectation), both in % of the
        chosen rows, and ``late_share_pct``, the share of label 2 ("late") in ``labels``.

    Raises:
        ValueError: as :func:`~assd_repro.label_errors.inject_label_errors` (``fraction`` not in
            (0, 1) or selecting no row, labels outside 0..2 or not whole numbers, a ``seed``
            that is not an int).
    """
    balanced = np.arange(len(labels)) % 3
    numbers = {}
    for name, y in {"authors_unchanged_pct": labels,
                    "authors_unchanged_balanced_pct": balanced}.items():
        noisy, chosen = inject_label_errors(y, fraction, 3, seed=seed, mode="authors")
        numbers[name] = float((noisy[chosen] == y[chosen]).mean() * 100)
    numbers["late_share_pct"] = float((labels == 2).mean() * 100)
    return numbers


def _verdict(ok: bool, significant: bool = True) -> str:
    """"yes" only with a significant effect where the claim is about one."""
    if not ok:
        return "no"
    return "yes" if significant else "direction only, not significant"


def table4_claims(found: dict[str, Any], *, synthetic: bool) -> pd.DataFrame:
    """The paper's section-6.2 claims, the paper's figure, ours, and whether the run supports
    each; ``found`` holds every number of the functions above, ``synthetic`` says whether the
    run used the synthetic table instead of the DataCo file."""
    f = found
    if synthetic:
        level = ("close, but on synthetic data"
                 if abs(f["baseline_mean"] - f["paper_baseline_mean"]) <= 1.5
                 else "not comparable: synthetic data")
    else:
        level = _verdict(abs(f["baseline_mean"] - f["paper_baseline_mean"]) <= 1.5)
    claims = [
        ("ASSD raises the test accuracy, with p < 0.05 in most cells (Table 4)",
         f"gain > 0 in {f['paper_n_gain_positive']} of {f['n_cells']} cells, "
         f"p < 0.05 in {f['paper_n_sig']}",
         f"gain > 0 in {f['n_gain_positive']}; paired p < 0.05 with a gain in "
         f"{f['n_sig_paired_positive']}",
         _verdict(f["n_sig_paired_positive"] > f["n_cells"] / 2)),
        ("ASSD outperforms fine-tuning",
         f"ASSD > fine-tune in {f['paper_n_assd_beats_finetune']} of {f['n_cells']} cells",
         f"in {f['n_assd_beats_finetune']}",
         _verdict(f["n_assd_beats_finetune"] > f["n_cells"] / 2)),
        ("Retraining is best at ≤ 1 % errors",
         f"best in {f['paper_n_retrain_best_low']} of {f['n_low_cells']} cells",
         f"in {f['n_retrain_best_low']}",
         _verdict(f["n_retrain_best_low"] > f["n_low_cells"] / 2)),
        (f"ASSD deteriorates at high error rates ({f['largest_size']}, {f['high_pct']:g} %)",
         f"gain {f['paper_gain_largest_high']:+.2f} points",
         f"gain {f['gain_largest_high']:+.2f}, paired p = {f['p_largest_high']:.2f} "
         f"(peak {f['gain_largest_peak']:+.2f} at {f['peak_pct']:g} %)",
         _verdict(f["gain_largest_high"] < 0 and f["gain_largest_high"] < f["gain_largest_peak"],
                  f["p_largest_high"] < 0.05)),
        (f"At {f['fig5_pct']:g} % errors the large model gains more (Fig. 5)",
         f"{f['largest_size']} {f['paper_gain_fig5_largest']:+.2f}, "
         f"{f['smallest_size']} {f['paper_gain_fig5_smallest']:+.2f}",
         f"{f['gain_fig5_largest']:+.2f} (paired p = {f['p_fig5_largest']:.2f}) and "
         f"{f['gain_fig5_smallest']:+.2f}",
         _verdict(f["gain_fig5_largest"] > f["gain_fig5_smallest"], f["p_fig5_largest"] < 0.05)),
        (f"Test accuracy of {f['paper_baseline_min']:.0f}–{f['paper_baseline_max']:.0f} %",
         f"baseline {f['paper_baseline_mean']:.1f} % on average",
         f"{f['baseline_mean']:.1f} % (paper protocol)",
         level),
        ("These accuracies measure delay prediction",
         "not examined",
         f"leak-free: {f['leak_baseline_mean']:.1f} % (majority class {f['majority_pct']:.1f} %)",
         _verdict(f["leak_drop"] < 5)),
    ]
    columns = ["paper's claim", "paper", "this run", "supported"]
    return pd.DataFrame(claims, columns=columns).set_index("paper's claim")
