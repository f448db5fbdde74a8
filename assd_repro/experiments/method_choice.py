"""Which unlearning method to use against label errors: the book's rule applied to the gains of
the method comparison (issue 13; book: Method, "Other unlearning methods, the guard and the choice of a method").

The rule, stated once here and in the book:

1. Per cell (model size, error rate) each method's mean test-accuracy gain over the baseline
   gets the book's verdict (:func:`~assd_repro.experiments.error_stats.verdict`, claimed
   direction "better than the baseline"): **supported** when its 95 % paired t-interval lies
   above 0, **contradicted** when below, **undecided** otherwise.
2. A method *qualifies* at an error rate when its gain is supported at every model size of that
   rate.
3. The method recommended at a rate is the qualifying one of largest mean gain (averaged over
   the sizes); on equal gains, the cheaper (least mean ``method_s`` plus tuning seconds).
4. Without a qualifying method the recommendation is to keep the model, naming the methods
   that are *safe* there: measured at every size and contradicted at none.
5. Consecutive rates with the same recommendation are merged into one sentence
   (:func:`recommendation_text`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from assd_repro.experiments.error_stats import verdict

__all__ = ["gain_verdicts", "recommend", "recommendation_text"]

_GAINS = ("model_size", "error_pct", "method", "n", "gain_mean", "ci_low", "ci_high",
          "method_s_mean")


def _check(gains: pd.DataFrame) -> None:
    missing = [c for c in _GAINS if c not in gains.columns]
    if missing:
        raise ValueError(f"gains lack the column(s) {missing}: pass the table of "
                         "method_comparison.method_gains")
    if gains.empty:
        raise ValueError("gains is empty: run the comparison first (run_method_comparison)")
    if gains.duplicated(["model_size", "error_pct", "method"]).any():
        raise ValueError("gains hold a (model_size, error_pct, method) twice; give each "
                         "variant its own method name, e.g. 'scrub (tuned)'")


def gain_verdicts(gains: pd.DataFrame) -> pd.DataFrame:
    """``gains`` with a ``verdict`` column: the book's verdict on "better than the baseline".

    Raises:
        ValueError: ``gains`` is empty, lacks a column of
            :func:`~assd_repro.experiments.method_comparison.method_gains` or holds a cell's
            method twice.
    """
    _check(gains)
    out = gains.copy()
    out["verdict"] = verdict(out["ci_low"].to_numpy(float), out["ci_high"].to_numpy(float), 1)
    return out


def recommend(gains: pd.DataFrame) -> pd.DataFrame:
    """The rule of the module docstring, one row per error rate (ascending).

    Args:
        gains: :func:`~assd_repro.experiments.method_comparison.method_gains` of one data set
            (variants under their own method names); ``tuning_s`` (NaN: none) enters the cost.

    Returns:
        Columns ``error_pct``, ``n_sizes``, ``recommended`` (a method, or ``""`` when none
        qualifies), ``gain_mean`` (its mean gain over the sizes, points; NaN without one),
        ``qualifying`` (every qualifying method, best first) and ``safe`` (the methods not
        contradicted at any size, in the order of ``gains``), both tuples.

    Raises:
        ValueError: as :func:`gain_verdicts`.
    """
    table = gain_verdicts(gains)
    tuning = table["tuning_s"].fillna(0.0) if "tuning_s" in table.columns else 0.0
    table = table.assign(cost=table["method_s_mean"] + tuning)
    order = list(dict.fromkeys(table["method"]))
    rows = []
    for pct, cell in table.groupby("error_pct", sort=True):
        n_sizes = cell["model_size"].nunique()
        by_method = cell.groupby("method", sort=False)
        complete = by_method.size() == n_sizes
        supported = by_method["verdict"].agg(lambda v: bool((v == "supported").all()))
        contradicted = by_method["verdict"].agg(lambda v: bool((v == "contradicted").any()))
        summary = pd.DataFrame({"gain": by_method["gain_mean"].mean(),
                                "cost": by_method["cost"].mean(),
                                "ok": supported & complete})
        ranked = summary[summary["ok"]].sort_values(["gain", "cost"], ascending=[False, True])
        best = ranked.index[0] if len(ranked) else ""
        rows.append({"error_pct": float(pct), "n_sizes": int(n_sizes), "recommended": best,
                     "gain_mean": float(ranked["gain"].iloc[0]) if best else math.nan,
                     "qualifying": tuple(ranked.index),
                     "safe": tuple(m for m in order if m in summary.index
                                   and complete[m] and not contradicted[m])})
    return pd.DataFrame(rows)


def _rates(pcts: Sequence[float], all_pcts: Sequence[float]) -> str:
    names = [f"{p:g}" for p in pcts]
    text = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    if list(pcts) == list(all_pcts[:len(pcts)]) and len(pcts) > 1:
        return f"≤ {pcts[-1]:g} % errors"
    return f"{text} % errors"


def recommendation_text(table: pd.DataFrame, labels: Mapping[str, str] | None = None) -> str:
    """The recommendation of :func:`recommend` as plain sentences, rates with the same
    recommendation merged; ``labels`` gives the methods' display names.

    Raises:
        ValueError: ``table`` is empty or lacks a column of :func:`recommend`.
    """
    missing = [c for c in ("error_pct", "recommended", "gain_mean", "safe", "n_sizes")
               if c not in table.columns]
    if table.empty or missing:
        raise ValueError("table must be the (non-empty) frame of recommend()")
    name = (lambda m: (labels or {}).get(m, m))
    pcts = table["error_pct"].tolist()
    groups: list[tuple[list[float], pd.Series]] = []
    for _, row in table.iterrows():
        key = (row["recommended"], row["recommended"] or tuple(row["safe"]))
        if groups and groups[-1][1]["key"] == key:
            groups[-1][0].append(row["error_pct"])
        else:
            groups.append(([row["error_pct"]], pd.Series({**row.to_dict(), "key": key})))
    sentences = []
    for rates, row in groups:
        where = _rates(rates, pcts)
        sizes = f"all {row['n_sizes']} model sizes" if row["n_sizes"] > 1 else "the model size"
        gains = table.loc[table["error_pct"].isin(rates), "gain_mean"].to_numpy(float)
        if row["recommended"]:
            span = (f"{gains.min():+.2f} points" if np.ptp(gains) < 0.005
                    else f"{gains.min():+.2f} to {gains.max():+.2f} points")
            sentences.append(f"At {where}, use {name(row['recommended'])}: its gain over the "
                             f"baseline is significant at {sizes} (mean {span}) and the "
                             "largest among the methods for which it is.")
        else:
            safe = ", ".join(name(m) for m in row["safe"]) or "none"
            sentences.append(f"At {where}, no method improves significantly at {sizes}: keep "
                             f"the model. Not significantly worse than it at any size: {safe}.")
    return " ".join(sentences)
