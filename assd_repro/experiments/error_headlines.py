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

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assd_repro.data.dataco import DataCoSplit
from assd_repro.experiments.error_stats import (
    PAPER_METHOD_NAMES,
    bootstrap_test_rows,
    cell_statistics,
    compare_sizes,
    paired_comparisons,
    scenario_gains,
    verdict,
)
from assd_repro.data.dataco import load_dataco
from assd_repro.experiments.supply_chain_pipeline import (
    FULL_SIZE_ROWS,
    FULL_SIZE_TRAIN_ROWS,
    SAMPLE_BATCH_SIZE,
    SUPPLY_CHAIN_SIZES,
)
from assd_repro.label_errors import inject_label_errors
from assd_repro.paper import paper_table

__all__ = [
    "C4_MAX_PCT",
    "C5_PCTS",
    "C5_SIZE",
    "C6_PAIRS",
    "C6_PCT",
    "CLAIMS",
    "DATA_SOURCES",
    "OWN_INIT_RUN",
    "DataSource",
    "SourceReport",
    "authors_injection_headlines",
    "bootstrap_cell",
    "bootstrap_headlines",
    "bootstrap_versus_t",
    "claim_verdicts",
    "concat_runs",
    "data_overview",
    "data_source",
    "fig5_headlines",
    "init_comparison",
    "init_headlines",
    "leak_free_headlines",
    "logistic_reference",
    "model_sizes",
    "only_test_split",
    "paired_headlines",
    "paper_difference",
    "paper_headlines",
    "recipe_headlines",
    "selection_headlines",
    "source_report",
    "table4_claims",
    "table4_headlines",
    "training_check",
    "training_headlines",
    "verdict_counts",
    "verdict_headlines",
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


# --------------------------------------------------------------------------------------------
# The chapter's report: data sources, paired comparisons, claims C4-C6, robustness checks
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DataSource:
    """One data source of the chapter: the stored runs whose rows form its Table 4.

    Attributes:
        key: short name, the prefix of its glued numbers (``"sample"``).
        runs: names of its stored runs (:data:`~assd_repro.experiments.stored_runs.STORED_RUNS`),
            whose cells do not overlap.
        synthetic: whether the rows come from the synthetic stand-in rather than DataCo's.
    """

    key: str
    runs: tuple[str, ...]
    synthetic: bool

    def label(self, config: Any) -> str:
        """The source's name in tables and figure titles, from one of its runs' configs (any
        profile): ``"real DataCo sample, paper protocol"``, ``"real DataCo file, ..."`` (another
        file, e.g. the paper profile's) or ``"synthetic table (180,519 rows), ..."``; a
        synthetic source always says "synthetic".

        Raises:
            ValueError: the config's data disagree with ``synthetic``.
        """
        from assd_repro.data import dataco_sample_path

        if (config.data_path is None) != self.synthetic:
            raise ValueError(f"data source {self.key!r} is {'' if self.synthetic else 'not '}"
                             f"synthetic, but its config has data_path={config.data_path!r}")
        protocol = {"paper": "paper protocol", "leak_free": "leak-free protocol"}.get(
            config.protocol, f"{config.protocol} protocol")
        if self.synthetic:
            return f"synthetic table ({config.n_rows:,} rows), {protocol}"
        sample = Path(config.data_path).resolve() == dataco_sample_path().resolve()
        return f"real DataCo {'sample' if sample else 'file'}, {protocol}"


DATA_SOURCES: tuple[DataSource, ...] = (
    DataSource("sample", ("table4-sample",), False),
    DataSource("leakfree", ("table4-sample-leak-free",), False),
    DataSource("synth", ("table4-synthetic", "fig5-synthetic-small", "fig5-synthetic-5x250"),
               True),
)
#: The run whose scenarios each draw their own initial weights (against ``table4-sample``).
OWN_INIT_RUN = "table4-sample-own-init"

#: The paper's claims of section 6.2 that the chapter tests, in words.
CLAIMS: dict[str, str] = {
    "C4": "ASSD beats the baseline and fine-tuning at low error rates",
    "C5": "ASSD falls below the baseline at high error rates (largest model)",
    "C6": "at 1 % errors the larger models gain more than the small one",
}
#: C4's error rates: at most this (percent).
C4_MAX_PCT = 5.0
#: C5's model size and error rates (percent).
C5_SIZE = "5x250"
C5_PCTS: tuple[float, ...] = (7.5, 10.0)
#: C6's error rate (percent) and the size pairs whose gains are compared (``a - b``).
C6_PCT = 1.0
C6_PAIRS: tuple[tuple[str, str], ...] = (("5x250", "2x50"), ("3x100", "2x50"))
VERDICTS: tuple[str, ...] = ("supported", "contradicted", "undecided")
_CELL_KEYS = ["model_size", "error_pct"]
_VERDICT_COLUMNS = ["claim", "comparison", "model_size", "error_pct", "direction", "n",
                    "estimate", "ci_low", "ci_high", "p_value", "p_holm", "paper", "verdict"]


def data_source(key: str) -> DataSource:
    """The :data:`DATA_SOURCES` entry called ``key``.

    Raises:
        ValueError: no source has that key (the message lists them).
    """
    for source in DATA_SOURCES:
        if source.key == key:
            return source
    raise ValueError(f"no data source {key!r}; choose one of {[s.key for s in DATA_SOURCES]}")


def concat_runs(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The rows of several runs of one data source as one table (e.g. the synthetic Table 4
    run and its two Fig. 5 runs), ordered by model size (largest first) and error rate, the
    order within a cell kept.

    Raises:
        ValueError: no frame, or a frame without rows; two frames hold the same cell
            ``(model_size, error_pct)`` (their replicates would be mixed).
    """
    if not frames or any(len(f) == 0 for f in frames):
        raise ValueError("concat_runs needs at least one frame, each with rows")
    seen: set[tuple[str, float]] = set()
    for frame in frames:
        cells = {(str(s), float(p)) for s, p in frame[_CELL_KEYS].drop_duplicates().itertuples(
            index=False)}
        if seen & cells:
            raise ValueError(f"two runs hold the cells {sorted(seen & cells)}: pass runs with "
                             "disjoint cells")
        seen |= cells
    rows = pd.concat(list(frames), ignore_index=True)
    rank = rows["model_size"].map(lambda s: SUPPLY_CHAIN_SIZES.index(s)
                                  if s in SUPPLY_CHAIN_SIZES else len(SUPPLY_CHAIN_SIZES))
    order = np.lexsort((rows["error_pct"].astype(float).to_numpy(), rank.to_numpy()))
    return rows.iloc[order].reset_index(drop=True)


@dataclasses.dataclass(frozen=True)
class SourceReport:
    """Everything the chapter shows of one data source.

    Attributes:
        rows: the tidy rows of its runs.
        stats: :func:`~assd_repro.experiments.error_stats.cell_statistics` (both splits).
        paired: :func:`~assd_repro.experiments.error_stats.paired_comparisons` of ASSD,
            fine-tune and retrain against the baseline (test split).
        versus_finetune: the same of ASSD against fine-tuning.
        gains: :func:`~assd_repro.experiments.error_stats.scenario_gains`.
        verdicts: :func:`claim_verdicts`.
    """

    rows: pd.DataFrame
    stats: pd.DataFrame
    paired: pd.DataFrame
    versus_finetune: pd.DataFrame
    gains: pd.DataFrame
    verdicts: pd.DataFrame


def source_report(rows: pd.DataFrame) -> SourceReport:
    """The :class:`SourceReport` of the rows of one data source.

    Raises:
        ValueError: as :func:`~assd_repro.experiments.error_stats.paired_comparisons` (no row,
            a missing method or column, a scenario twice).
    """
    paired = paired_comparisons(rows)
    versus = paired_comparisons(rows, against="finetune", methods=("assd",))
    return SourceReport(rows=rows, stats=cell_statistics(rows), paired=paired,
                        versus_finetune=versus, gains=scenario_gains(rows),
                        verdicts=claim_verdicts(rows, paired, versus))


@functools.lru_cache(maxsize=1)
def _paper_test() -> pd.DataFrame:
    """The paper's Table 4, test split, indexed by ``(model_size, error_pct)`` (read only)."""
    paper = paper_table("error_unlearning")
    paper = paper[paper["split"] == "test"].copy()
    paper["error_pct"] = paper["error_pct"].astype(float)
    return paper.set_index(_CELL_KEYS)


def paper_difference(size: str, pct: float, method: str, against: str) -> float:
    """The paper's Table 4 mean of ``method`` minus that of ``against`` (points; NaN: no cell)."""
    paper = _paper_test()
    if (size, pct) not in paper.index:
        return float("nan")
    cell = paper.loc[(size, pct)]
    return float(cell[f"{PAPER_METHOD_NAMES[method]}_mean"]
                 - cell[f"{PAPER_METHOD_NAMES[against]}_mean"])


def _cell_claims(paired: pd.DataFrame, mask: pd.Series, claim: str, comparison: str,
                 direction: int) -> pd.DataFrame:
    """Verdict rows of the cells of ``paired`` (one method) selected by ``mask``."""
    part = paired[mask]
    return pd.DataFrame({
        "claim": claim, "comparison": comparison, "model_size": part["model_size"],
        "error_pct": part["error_pct"].astype(float), "direction": direction, "n": part["n"],
        "estimate": part["diff_mean"], "ci_low": part["ci_low"], "ci_high": part["ci_high"],
        "p_value": part["p_paired"], "p_holm": part["p_paired_holm"],
        "paper": [paper_difference(s, float(p), m, a) for s, p, m, a in zip(
            part["model_size"], part["error_pct"], part["method"], part["against"], strict=True)],
        "verdict": verdict(part["ci_low"].to_numpy(), part["ci_high"].to_numpy(), direction)
        if len(part) else [],
    }, columns=_VERDICT_COLUMNS)


def _size_claims(rows: pd.DataFrame) -> pd.DataFrame:
    """C6's verdict rows: Welch's test of the ASSD gains of each pair in :data:`C6_PAIRS` at
    :data:`C6_PCT`, for the pairs whose sizes both have two or more scenarios there."""
    test = rows[(rows["split"] == "test")
                & np.isclose(rows["error_pct"].astype(float), C6_PCT)]
    counts = test[test["method"] == "assd"].groupby("model_size")["replicate"].nunique()
    out = []
    for a, b in C6_PAIRS:
        if counts.get(a, 0) < 2 or counts.get(b, 0) < 2:
            continue
        r = compare_sizes(rows, a, b, error_pct=C6_PCT)
        paper = (paper_difference(a, C6_PCT, "assd", "baseline")
                 - paper_difference(b, C6_PCT, "assd", "baseline"))
        out.append({"claim": "C6", "comparison": "ASSD gain, larger − smaller (Welch)",
                    "model_size": f"{a} − {b}", "error_pct": C6_PCT, "direction": 1,
                    "n": r["n_a"] + r["n_b"], "estimate": r["diff"], "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"], "p_value": r["p_value"], "p_holm": float("nan"),
                    "paper": paper, "verdict": verdict(r["ci_low"], r["ci_high"], 1)})
    return pd.DataFrame(out, columns=_VERDICT_COLUMNS)


def claim_verdicts(rows: pd.DataFrame, paired: pd.DataFrame,
                   versus_finetune: pd.DataFrame) -> pd.DataFrame:
    """The verdicts of claims C4-C6 on one data source, one row per test.

    The rule (:func:`~assd_repro.experiments.error_stats.verdict`): "supported" where the
    95 % interval of the difference excludes 0 in the claimed direction, "contradicted" where
    it excludes 0 the other way, "undecided" otherwise. C4: ASSD − baseline > 0 and ASSD −
    fine-tune > 0 in every cell at most :data:`C4_MAX_PCT` % (paired t-intervals); C5: ASSD −
    baseline < 0 for :data:`C5_SIZE` at :data:`C5_PCTS`; C6: the ASSD gain of the larger size
    minus the smaller's > 0 at :data:`C6_PCT` % (Welch interval), for :data:`C6_PAIRS`.
    Cells or sizes the rows lack are left out.

    Args:
        rows: the tidy rows of the source's runs.
        paired: ``paired_comparisons(rows)`` (against the baseline, holding ``assd``).
        versus_finetune: ``paired_comparisons(rows, against="finetune", methods=("assd",))``.

    Returns:
        Columns ``claim, comparison, model_size, error_pct, direction`` (+1 or -1), ``n``
        (scenarios), ``estimate, ci_low, ci_high`` (points), ``p_value`` (paired, or Welch for
        C6), ``p_holm`` (Holm over the source's cells; NaN for C6), ``paper`` (the paper's
        difference of means, points) and ``verdict``.

    Raises:
        ValueError: as :func:`~assd_repro.experiments.error_stats.compare_sizes`.
    """
    assd = paired[paired["method"] == "assd"]
    pct = assd["error_pct"].astype(float)
    low = pct <= C4_MAX_PCT + 1e-9
    high = (assd["model_size"] == C5_SIZE) & pct.isin(C5_PCTS)
    ft_low = versus_finetune["error_pct"].astype(float) <= C4_MAX_PCT + 1e-9
    parts = [_cell_claims(assd, low, "C4", "ASSD − baseline", 1),
             _cell_claims(versus_finetune, ft_low, "C4", "ASSD − fine-tune", 1),
             _cell_claims(assd, high, "C5", "ASSD − baseline", -1),
             _size_claims(rows)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=_VERDICT_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def verdict_counts(verdicts: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """How many tests of each claim are supported, contradicted or undecided, per data source.

    Args:
        verdicts: data-source label -> :func:`claim_verdicts`.

    Returns:
        Index ``(data, claim)`` over every source and every claim of :data:`CLAIMS` (0 where
        none was tested); integer columns ``supported, contradicted, undecided, tested``.
    """
    records = []
    for label, frame in verdicts.items():
        for claim in CLAIMS:
            found = frame.loc[frame["claim"] == claim, "verdict"]
            counts = {v: int((found == v).sum()) for v in VERDICTS}
            records.append({"data": label, "claim": claim, **counts, "tested": len(found)})
    return pd.DataFrame(records).set_index(["data", "claim"])


def verdict_headlines(verdicts: pd.DataFrame, prefix: str) -> dict[str, int]:
    """``{prefix}_{claim}_{verdict}`` and ``{prefix}_{claim}_tested`` counts (claims in lower
    case, e.g. ``sample_c4_supported``), and ``{prefix}_{claim}_paper_direction``: the tests
    whose paper difference has the claimed sign."""
    out: dict[str, int] = {}
    for claim in CLAIMS:
        part = verdicts[verdicts["claim"] == claim]
        name = f"{prefix}_{claim.lower()}"
        for v in VERDICTS:
            out[f"{name}_{v}"] = int((part["verdict"] == v).sum())
        out[f"{name}_tested"] = len(part)
        out[f"{name}_paper_direction"] = int((np.sign(part["paper"].astype(float))
                                              == part["direction"]).sum())
    return out


def _largest(values: pd.Series) -> int:
    """Index label of the largest absolute value."""
    return values.abs().idxmax()


def paired_headlines(paired: pd.DataFrame, prefix: str) -> dict[str, Any]:
    """Numbers of the source's paired comparisons against the baseline, ``{prefix}_...``.

    ``n_cells``, ``n_min``/``n_max`` (scenarios per cell), ``baseline_mean`` (%), for ASSD:
    ``gain_min``/``gain_max``, ``absmax`` (the largest mean difference in absolute value,
    signed) with its ``absmax_size`` and ``absmax_pct``, ``n_positive``, ``n_sig_paired``
    (paired p < 0.05), ``n_sig_paired_holm``, ``n_sig_ind`` (the authors' test),
    ``n_sig_ind_holm``, ``mde_median``/``mde_min``/``mde_max`` (points at 80 % power); and
    ``finetune_absmax``, ``retrain_absmax``, the largest |difference| of those methods.

    Raises:
        ValueError: ``paired`` holds no ``assd`` row.
    """
    assd = paired[paired["method"] == "assd"].reset_index(drop=True)
    if assd.empty:
        raise ValueError("paired holds no 'assd' row: pass paired_comparisons(rows)")
    top = assd.loc[_largest(assd["diff_mean"])]
    out: dict[str, Any] = {
        "n_cells": len(assd), "n_min": int(assd["n"].min()), "n_max": int(assd["n"].max()),
        "baseline_mean": float(assd["against_mean"].mean()),
        "gain_min": float(assd["diff_mean"].min()), "gain_max": float(assd["diff_mean"].max()),
        "absmax": float(top["diff_mean"]), "absmax_size": str(top["model_size"]),
        "absmax_pct": float(top["error_pct"]), "n_positive": int((assd["diff_mean"] > 0).sum()),
        "n_sig_paired": int((assd["p_paired"] < 0.05).sum()),
        "n_sig_paired_holm": int((assd["p_paired_holm"] < 0.05).sum()),
        "n_sig_ind": int((assd["p_ind"] < 0.05).sum()),
        "n_sig_ind_holm": int((assd["p_ind_holm"] < 0.05).sum()),
        "mde_median": float(assd["mde"].median()), "mde_min": float(assd["mde"].min()),
        "mde_max": float(assd["mde"].max()),
    }
    for method in ("finetune", "retrain"):
        diffs = paired.loc[paired["method"] == method, "diff_mean"]
        out[f"{method}_absmax"] = float(diffs.abs().max()) if len(diffs) else float("nan")
    return {f"{prefix}_{k}": v for k, v in out.items()}


def paper_headlines() -> dict[str, Any]:
    """The paper's Table 4 (test split) in numbers, ``paper_...``: baseline range, ASSD − baseline
    range, cells with p < 0.05, the large model at 10 %, and the claims' thresholds
    (:data:`C4_MAX_PCT`, :data:`C5_SIZE`, :data:`C5_PCTS`, :data:`C6_PCT`)."""
    paper = _paper_test().reset_index()
    gain = paper["unlearn_mean"] - paper["baseline_mean"]
    large_10 = paper[(paper["model_size"] == C5_SIZE) & (paper["error_pct"] == max(C5_PCTS))]
    return {
        "paper_baseline_min": float(paper["baseline_mean"].min()),
        "paper_baseline_max": float(paper["baseline_mean"].max()),
        "paper_gain_min": float(gain.min()), "paper_gain_max": float(gain.max()),
        "paper_n_cells": len(paper), "paper_n_sig": int((paper["p_value"] == "<0.05").sum()),
        "paper_assd_large_10": float(large_10["unlearn_mean"].iloc[0]),
        "paper_baseline_large_10": float(large_10["baseline_mean"].iloc[0]),
        "c4_max_pct": C4_MAX_PCT, "c5_size": C5_SIZE, "c5_pct_low": min(C5_PCTS),
        "c5_pct_high": max(C5_PCTS), "c6_pct": C6_PCT,
    }


# -- baselines, recipe, data -------------------------------------------------------------------

def logistic_reference(split: DataCoSplit) -> dict[str, float]:
    """A multinomial logistic regression (scikit-learn, ``max_iter=2000``) fitted on the
    split's training rows with their true labels: ``train`` and ``test`` accuracy (%), and
    ``majority``, the test share of the most frequent training class (%)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=2000).fit(split.x_train, split.y_train)
    majority = int(np.bincount(split.y_train).argmax())
    return {"train": 100 * float(model.score(split.x_train, split.y_train)),
            "test": 100 * float(model.score(split.x_test, split.y_test)),
            "majority": 100 * float((split.y_test == majority).mean())}


def training_check(rows: pd.DataFrame, reference: Mapping[str, float]) -> pd.DataFrame:
    """The baselines' accuracy at the run's lowest error rate beside a logistic regression.

    Args:
        rows: the tidy rows of a run.
        reference: :func:`logistic_reference` of the run's split.

    Returns:
        Index ``model`` (the sizes largest first, then ``"logistic regression"`` and
        ``"majority class"``); columns ``train_mean, train_std`` (the retained training rows
        Dr with their true labels; the regression: all training rows) and ``test_mean,
        test_std`` (%), ``error_pct`` (the baselines' error rate).

    Raises:
        ValueError: the rows hold no baseline row of the ``test`` or the ``train`` split.
    """
    low = float(rows["error_pct"].astype(float).min())
    base = rows[(rows["method"] == "baseline") & np.isclose(rows["error_pct"].astype(float), low)]
    missing = sorted({"test", "train"} - set(base["split"]))
    if missing:
        raise ValueError(f"the rows hold no baseline row of the split(s) {missing}: pass the "
                         "rows of run_error_unlearning")
    agg = base.pivot_table(index="model_size", columns="split", values="value",
                           aggfunc=["mean", "std"])
    records = {size: {"train_mean": agg[("mean", "train")][size],
                      "train_std": agg[("std", "train")][size],
                      "test_mean": agg[("mean", "test")][size],
                      "test_std": agg[("std", "test")][size], "error_pct": low}
               for size in model_sizes(base)}
    records["logistic regression"] = {"train_mean": reference["train"], "test_mean":
                                      reference["test"], "error_pct": 0.0}
    records["majority class"] = {"test_mean": reference["majority"], "error_pct": 0.0}
    table = pd.DataFrame.from_dict(records, orient="index")
    table.index.name = "model"
    return table


def training_headlines(check: pd.DataFrame, prefix: str) -> dict[str, Any]:
    """``{prefix}_lr_test``, ``{prefix}_lr_train``, ``{prefix}_majority``,
    ``{prefix}_base_test_min``/``_max`` (the sizes' mean test accuracies),
    ``{prefix}_base_train_min``/``_max``, ``{prefix}_base_vs_lr_min``/``_max`` (baseline test
    minus the regression's, points) and ``{prefix}_base_pct`` (their error rate) of
    :func:`training_check`."""
    sizes = check.drop(index=["logistic regression", "majority class"])
    lr_test = float(check.loc["logistic regression", "test_mean"])
    return {f"{prefix}_{k}": v for k, v in {
        "lr_test": lr_test, "lr_train": float(check.loc["logistic regression", "train_mean"]),
        "majority": float(check.loc["majority class", "test_mean"]),
        "base_test_min": float(sizes["test_mean"].min()),
        "base_test_max": float(sizes["test_mean"].max()),
        "base_train_min": float(sizes["train_mean"].min()),
        "base_train_max": float(sizes["train_mean"].max()),
        "base_vs_lr_min": float(sizes["test_mean"].min()) - lr_test,
        "base_vs_lr_max": float(sizes["test_mean"].max()) - lr_test,
        "base_pct": float(sizes["error_pct"].iloc[0])}.items()}


def data_overview(configs: Mapping[str, Any]) -> pd.DataFrame:
    """The data and recipe of each source, from its config (the split is loaded, cached).

    Args:
        configs: data-source label -> an ``ErrorUnlearningConfig`` of that source.

    Returns:
        One row per source: ``data`` (the file, or "synthetic, N rows"), ``protocol``,
        ``train rows``, ``test rows``, ``features``, the training labels' shares
        ``early / on time / late (%)``, ``batch``, ``SGD steps per epoch``, ``epochs`` and
        ``lr, weight decay`` per model size.

    Raises:
        DatasetNotFoundError, ValueError: as the configs' ``split()`` (a data file that is
            missing or cannot be preprocessed).
    """
    records = {}
    for label, config in configs.items():
        split = config.split()
        shares = np.bincount(split.y_train, minlength=3) / len(split.y_train) * 100
        hyper = "; ".join(f"{s}: {lr:.3g}, {wd:.3g}" for s, lr, wd in config.hyperparameters
                          if s in config.model_sizes)
        records[label] = {
            "data": (Path(config.data_path).name if config.data_path
                     else f"synthetic, {config.n_rows:,} rows"),
            "protocol": config.protocol, "train rows": len(split.y_train),
            "test rows": len(split.y_test), "features": split.n_features,
            "early / on time / late (%)": " / ".join(f"{v:.1f}" for v in shares),
            "batch": config.batch_size,
            "SGD steps per epoch": -(-len(split.y_train) // config.batch_size),
            "epochs": config.epochs, "lr, weight decay": hyper}
    return pd.DataFrame.from_dict(records, orient="index")


def recipe_headlines() -> dict[str, Any]:
    """The sample's recipe against the full-size table's, from the pipeline's constants:
    ``sample_rows`` (the shipped sample), ``sample_train_rows``, ``sample_test_rows``
    (its paper-protocol split), ``sample_batch`` (:data:`SAMPLE_BATCH_SIZE`),
    ``sample_steps`` (SGD steps per epoch), ``sample_row_points`` (one test row in accuracy
    points), ``full_rows``, ``full_train_rows`` and ``full_steps`` (the full-size table at
    the paper's batch), ``paper_batch``, ``epochs``."""
    from assd_repro.experiments.error_unlearning import ErrorUnlearningConfig

    sample = ErrorUnlearningConfig.for_profile("book")
    split = sample.split()
    paper_batch = next(f.default for f in dataclasses.fields(ErrorUnlearningConfig)
                       if f.name == "batch_size")
    n_sample = len(load_dataco(str(sample.data_path)))
    return {"sample_rows": n_sample, "sample_train_rows": len(split.y_train),
            "sample_test_rows": len(split.y_test), "sample_batch": SAMPLE_BATCH_SIZE,
            "sample_steps": -(-len(split.y_train) // SAMPLE_BATCH_SIZE),
            "sample_row_points": 100 / len(split.y_test), "full_rows": FULL_SIZE_ROWS,
            "full_train_rows": FULL_SIZE_TRAIN_ROWS, "paper_batch": int(paper_batch),
            "full_steps": -(-FULL_SIZE_TRAIN_ROWS // int(paper_batch)),
            "epochs": int(sample.epochs)}


# -- one cell: scenarios against test rows -----------------------------------------------------

def bootstrap_cell(rows: pd.DataFrame, preferred: tuple[str, float] = ("3x100", 5.0)
                   ) -> tuple[str, float]:
    """The cell of the test-row bootstrap: ``preferred`` when the rows hold it, else the
    largest size at the preferred error rate, else the first test cell.

    Raises:
        ValueError: the rows hold no test row.
    """
    test = rows[rows["split"] == "test"]
    if test.empty:
        raise ValueError("rows hold no test row: pass the rows of run_error_unlearning")
    cells = {(str(s), float(p)) for s, p in test[_CELL_KEYS].itertuples(index=False)}
    if preferred in cells:
        return preferred
    at = [c for c in cells if np.isclose(c[1], preferred[1])]
    if at:
        return min(at, key=lambda c: SUPPLY_CHAIN_SIZES.index(c[0])
                   if c[0] in SUPPLY_CHAIN_SIZES else len(SUPPLY_CHAIN_SIZES))
    first = test.iloc[0]
    return str(first["model_size"]), float(first["error_pct"])


def bootstrap_versus_t(rows: pd.DataFrame, paired: pd.DataFrame, cell: tuple[str, float], *,
                       n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """ASSD − baseline in one cell: the paired t-interval over scenarios beside the bootstrap
    intervals over test rows (:func:`~assd_repro.experiments.error_stats.bootstrap_test_rows`).

    Returns:
        Index ``interval`` (``"paired t, scenarios"``, ``"bootstrap, test rows"``,
        ``"bootstrap, scenarios and test rows"``); columns ``estimate, ci_low, ci_high,
        width`` (points), ``n_scenarios``, ``n_test``.

    Raises:
        ValueError: as ``bootstrap_test_rows`` (no ``test_correct``, unknown cell); ``paired``
            has no ASSD row of the cell.
    """
    size, pct = cell
    boot = bootstrap_test_rows(rows, model_size=size, error_pct=pct, n_boot=n_boot, seed=seed)
    match = paired[(paired["method"] == "assd") & (paired["model_size"] == size)
                   & np.isclose(paired["error_pct"].astype(float), pct)]
    if match.empty:
        raise ValueError(f"paired has no ASSD row of the cell ({size!r}, {pct})")
    t = match.iloc[0]
    table = pd.DataFrame({
        "estimate": [t["diff_mean"], boot["estimate"], boot["estimate"]],
        "ci_low": [t["ci_low"], boot["ci_low"], boot["two_level_ci_low"]],
        "ci_high": [t["ci_high"], boot["ci_high"], boot["two_level_ci_high"]],
        "n_scenarios": [int(t["n"]), boot["n_scenarios"], boot["n_scenarios"]],
        "n_test": boot["n_test"]},
        index=pd.Index(["paired t, scenarios", "bootstrap, test rows",
                        "bootstrap, scenarios and test rows"], name="interval"))
    table.insert(3, "width", table["ci_high"] - table["ci_low"])
    return table


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN where the denominator is 0 or NaN."""
    return numerator / denominator if denominator > 0 else float("nan")


def bootstrap_headlines(table: pd.DataFrame, cell: tuple[str, float]) -> dict[str, Any]:
    """``boot_size``, ``boot_pct``, ``boot_n_test``, ``boot_row_points`` (one test row in
    points), ``boot_n_scenarios``, ``boot_estimate`` (points) and ``boot_estimate_rows`` (the
    same in test rows per scenario), ``boot_t_low``/``_high``/``_width``,
    ``boot_rows_low``/``_high``/``_width``, ``boot_two_low``/``_high``/``_width`` and
    ``boot_rows_over_t`` (row-bootstrap width / t width; NaN for a t width of 0) of
    :func:`bootstrap_versus_t`."""
    t, r, two = (table.iloc[i] for i in range(3))
    n_test = int(t["n_test"])
    return {"boot_size": cell[0], "boot_pct": float(cell[1]), "boot_n_test": n_test,
            "boot_row_points": 100 / n_test, "boot_n_scenarios": int(t["n_scenarios"]),
            "boot_estimate": float(t["estimate"]),
            "boot_estimate_rows": float(t["estimate"]) * n_test / 100,
            "boot_t_low": float(t["ci_low"]), "boot_t_high": float(t["ci_high"]),
            "boot_t_width": float(t["width"]), "boot_rows_low": float(r["ci_low"]),
            "boot_rows_high": float(r["ci_high"]), "boot_rows_width": float(r["width"]),
            "boot_two_low": float(two["ci_low"]), "boot_two_high": float(two["ci_high"]),
            "boot_two_width": float(two["width"]),
            "boot_rows_over_t": _ratio(float(r["width"]), float(t["width"]))}


# -- shared against own initial weights --------------------------------------------------------

def init_comparison(shared: pd.DataFrame, own: pd.DataFrame) -> pd.DataFrame:
    """The cells both runs hold, under shared initial weights (one seed for every scenario, as
    the authors) and under each scenario's own: the baseline's spread and ASSD's gain.

    Returns:
        Index ``(model_size, error_pct, init)`` (``"shared"``, ``"own"``); columns ``n``,
        ``baseline_mean``, ``baseline_std``, ``gain`` (ASSD − baseline, points), ``ci_low``,
        ``ci_high``, ``verdict`` (of a gain > 0), and ``welch_diff``, ``welch_low``,
        ``welch_high``, ``welch_p`` on the ``own`` rows (gain shared − own, Welch).

    Raises:
        ValueError: the runs share no test cell.
    """
    common = _common_cells(shared, own)
    parts = []
    for init, rows in (("shared", shared), ("own", own)):
        keep = _in_cells(rows, common)
        part = paired_comparisons(keep, methods=("assd",)).assign(init=init)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True).rename(columns={
        "against_mean": "baseline_mean", "against_std": "baseline_std", "diff_mean": "gain"})
    table["verdict"] = verdict(table["ci_low"].to_numpy(), table["ci_high"].to_numpy(), 1)
    table["error_pct"] = table["error_pct"].astype(float)
    table = table.set_index(["model_size", "error_pct", "init"])[
        ["n", "baseline_mean", "baseline_std", "gain", "ci_low", "ci_high", "verdict"]]
    names = {"diff": "welch_diff", "ci_low": "welch_low", "ci_high": "welch_high",
             "p_value": "welch_p"}
    for column in names.values():
        table[column] = np.nan
    for size, pct in common:
        welch = _init_welch(shared, own, size, pct)
        for key, column in names.items():
            table.loc[(size, pct, "own"), column] = welch[key]
    return table


def _common_cells(a: pd.DataFrame, b: pd.DataFrame) -> list[tuple[str, float]]:
    def cells(rows: pd.DataFrame) -> list[tuple[str, float]]:
        test = rows[rows["split"] == "test"]
        return [(str(s), float(p)) for s, p in test[_CELL_KEYS].drop_duplicates().itertuples(
            index=False)]
    common = [c for c in cells(a) if c in set(cells(b))]
    if not common:
        raise ValueError("the two runs share no test cell (model_size, error_pct)")
    return common


def _in_cells(rows: pd.DataFrame, cells: Sequence[tuple[str, float]]) -> pd.DataFrame:
    keys = list(zip(rows["model_size"].astype(str), rows["error_pct"].astype(float), strict=True))
    return rows[[k in set(cells) for k in keys]]


def _init_welch(shared: pd.DataFrame, own: pd.DataFrame, size: str, pct: float
                ) -> dict[str, Any]:
    """Welch's test of the ASSD gains of one cell, shared minus own initial weights: the two
    runs' rows with ``model_size`` relabelled ``"shared"`` and ``"own"``, through
    :func:`~assd_repro.experiments.error_stats.compare_sizes`."""
    both = pd.concat([_in_cells(r, [(size, pct)]).assign(model_size=name)
                      for name, r in (("shared", shared), ("own", own))], ignore_index=True)
    return compare_sizes(both, "shared", "own", error_pct=pct)


def init_headlines(table: pd.DataFrame) -> dict[str, Any]:
    """``init_n_cells``, ``init_shared_sd_median`` and ``init_own_sd_median`` (the baseline's
    standard deviation over scenarios, points), ``init_sd_ratio`` (own / shared; NaN where
    the shared one is 0),
    ``init_n_same_verdict`` (cells whose gain verdict agrees), ``init_n_welch_differs``
    (cells whose Welch interval excludes 0), ``init_welch_absmax`` (the largest |gain shared −
    own|, points) and ``init_n_shared``/``init_n_own`` (most scenarios per cell)."""
    shared = table.xs("shared", level="init")
    own = table.xs("own", level="init")
    excludes = (own["welch_low"] > 0) | (own["welch_high"] < 0)
    return {"init_n_cells": len(own),
            "init_shared_sd_median": float(shared["baseline_std"].median()),
            "init_own_sd_median": float(own["baseline_std"].median()),
            "init_sd_ratio": _ratio(float(own["baseline_std"].median()),
                                    float(shared["baseline_std"].median())),
            "init_n_same_verdict": int((shared["verdict"] == own["verdict"]).sum()),
            "init_n_welch_differs": int(excludes.sum()),
            "init_welch_absmax": float(own["welch_diff"].abs().max()),
            "init_n_shared": int(shared["n"].max()), "init_n_own": int(own["n"].max())}
