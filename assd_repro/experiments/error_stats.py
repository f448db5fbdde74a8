"""Statistics of the error-unlearning rows: per-cell means and tests, gains, Table 4 beside ours.

The authors' p-values (Table 4) come from ``scipy.stats.ttest_ind``, an independent two-sample
t-test between the unlearned and the baseline accuracies over the scenarios. The scenarios are
paired (both models see the same wrong labels), so :func:`cell_statistics` also gives the paired
test ``scipy.stats.ttest_rel``, which is the sounder one (book: Method, "Statistics").
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from assd_repro.paper import paper_table

__all__ = ["METHODS", "PAPER_METHOD_NAMES", "cell_statistics", "compare_table4_with_paper",
           "scenario_gains"]

METHODS: tuple[str, ...] = ("baseline", "retrain", "finetune", "assd")
PAPER_METHOD_NAMES: dict[str, str] = {"baseline": "baseline", "retrain": "retrain",
                                      "finetune": "finetune", "assd": "unlearn"}
"""Our method name -> the column prefix of :func:`~assd_repro.paper.paper_table` ``("error_unlearning")``."""

_CELL = ["model_size", "error_pct", "split"]


def _frame(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty:
        raise ValueError("rows is empty: run the experiment first (run_error_unlearning)")
    missing = {*_CELL, "replicate", "method", "value"} - set(frame.columns)
    if missing:
        raise ValueError(f"rows lack the columns {sorted(missing)}: pass the rows of "
                         "run_error_unlearning")
    return frame


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per scenario and split, one column per method (accuracy, %)."""
    return frame.pivot_table(index=[*_CELL, "replicate"], columns="method", values="value",
                             aggfunc="first", sort=False)


def _pvalues(assd: np.ndarray, base: np.ndarray) -> tuple[float, float]:
    """``(ttest_ind, ttest_rel)`` p-values of assd vs baseline (NaN when undefined)."""
    if len(assd) < 2:
        return float("nan"), float("nan")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        p_ind = stats.ttest_ind(assd, base).pvalue
        p_rel = stats.ttest_rel(assd, base).pvalue
    return float(p_ind), float(p_rel)


def cell_statistics(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Mean and standard deviation per method and both p-values, per cell and split.

    Args:
        rows: the tidy rows of :func:`~assd_repro.experiments.error_unlearning.run_error_unlearning`.

    Returns:
        One row per ``(model_size, error_pct, split)`` in the order of the rows:
        ``n_scenarios``, ``{method}_mean`` and ``{method}_std`` (sample standard deviation,
        ``ddof=1``; percent) for each method present, ``gain_mean`` (mean of ASSD minus
        baseline, percentage points), ``p_ttest_ind`` (the authors' test) and
        ``p_ttest_rel`` (paired by replicate), both of ASSD vs baseline.

    Raises:
        ValueError: ``rows`` is empty; it lacks one of the columns ``model_size, error_pct,
            split, replicate, method, value`` (names them).
    """
    wide = _wide(_frame(rows))
    methods = [m for m in METHODS if m in wide.columns]
    out = []
    for cell, part in wide.groupby(level=_CELL, sort=False):
        record: dict[str, Any] = dict(zip(_CELL, cell, strict=True))
        record["n_scenarios"] = len(part)
        for m in methods:
            record[f"{m}_mean"] = float(part[m].mean())
            record[f"{m}_std"] = float(part[m].std(ddof=1))
        if {"assd", "baseline"} <= set(methods):
            pair = part[["assd", "baseline"]].dropna()
            record["gain_mean"] = float((pair["assd"] - pair["baseline"]).mean())
            record["p_ttest_ind"], record["p_ttest_rel"] = _pvalues(
                pair["assd"].to_numpy(), pair["baseline"].to_numpy())
        out.append(record)
    return pd.DataFrame(out)


def compare_table4_with_paper(stats_frame: pd.DataFrame) -> pd.DataFrame:
    """Our cell means beside the paper's Table 4, with the differences.

    Args:
        stats_frame: the output of :func:`cell_statistics`.

    Returns:
        One row per cell of ours (cells the paper lacks get NaN there): ``model_size, split,
        error_pct, n_scenarios``, for each method ``{m}_ours``, ``{m}_paper`` and ``{m}_diff``
        (ours - paper, percentage points; the paper's "unlearn" is our ``assd``),
        ``gain_ours`` and ``gain_paper`` (ASSD minus baseline means), ``p_ours`` (ttest_ind),
        ``p_paired_ours`` (ttest_rel) and ``p_paper`` (as printed: ``"<0.05"`` or a number).

    Raises:
        ValueError: ``stats_frame`` lacks one of the columns ``model_size, split, error_pct,
            n_scenarios`` (names them: pass the output of :func:`cell_statistics`).
    """
    keys = ["model_size", "split", "error_pct"]
    missing = [c for c in [*keys, "n_scenarios"] if c not in stats_frame.columns]
    if missing:
        raise ValueError(f"stats_frame lacks the column(s) {missing}: pass the output of "
                         "cell_statistics(rows)")
    paper = paper_table("error_unlearning")
    paper = paper.rename(columns={c: f"paper:{c}" for c in paper.columns if c not in keys})
    ours = stats_frame.copy()
    for frame in (paper, ours):
        frame["_key"] = frame["error_pct"].astype(float).round(4)
    merged = ours.merge(paper.drop(columns="error_pct"), on=["model_size", "split", "_key"],
                        how="left")
    out = merged[[*keys, "n_scenarios"]].copy()
    for m, name in PAPER_METHOD_NAMES.items():
        ours_col = merged.get(f"{m}_mean", pd.Series(np.nan, index=merged.index))
        out[f"{m}_ours"] = ours_col
        out[f"{m}_paper"] = merged[f"paper:{name}_mean"]
        out[f"{m}_diff"] = ours_col - merged[f"paper:{name}_mean"]
    out["gain_ours"] = out["assd_ours"] - out["baseline_ours"]
    out["gain_paper"] = out["assd_paper"] - out["baseline_paper"]
    out["p_ours"] = merged.get("p_ttest_ind")
    out["p_paired_ours"] = merged.get("p_ttest_rel")
    out["p_paper"] = merged["paper:p_value"]
    return out


def scenario_gains(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per scenario and split: each method's accuracy and its gain over the baseline (Figs. 4-5).

    Returns:
        One row per ``(model_size, error_pct, split, replicate)``: the accuracy (%) of each
        method, ``{m}_gain`` (percentage points over the baseline) for the other methods,
        ``n_eval`` and ``assd_extra_correct`` (additional correct classifications of ASSD
        over the baseline, Fig. 4's unit: ``gain * n_eval / 100``, rounded).

    Raises:
        ValueError: as :func:`cell_statistics`, and ``rows`` lacks the column ``n_eval``.
    """
    frame = _frame(rows)
    if "n_eval" not in frame.columns:
        raise ValueError("rows lack the column 'n_eval' (rows evaluated per scenario): pass "
                         "the rows of run_error_unlearning")
    wide = _wide(frame)
    n_eval = frame.groupby([*_CELL, "replicate"], sort=False)["n_eval"].first()
    out = wide.copy()
    for m in METHODS[1:]:
        if m in out.columns and "baseline" in out.columns:
            out[f"{m}_gain"] = out[m] - out["baseline"]
    out["n_eval"] = n_eval.reindex(out.index)
    if "assd_gain" in out.columns:
        out["assd_extra_correct"] = (out["assd_gain"] * out["n_eval"] / 100).round().astype(int)
    out.columns.name = None
    return out.reset_index()
