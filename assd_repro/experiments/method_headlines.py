"""The numbers chapter 8 (which method repairs label errors) states, computed from the rows of
the method comparison's stored runs: gains of every method with defaults and tuned, the
tuning's cost, where the wrong-label rows go, and the guard's refusals.

A data source is three stored runs (:data:`METHOD_SOURCES`): the Optuna studies, the methods
with their defaults and the tunable methods with the tuned parameters. A tuned variant is
named ``"<method> (tuned)"`` in every table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from assd_repro.experiments.method_choice import gain_verdicts
from assd_repro.experiments.method_comparison import COMPARISON_METHODS, method_gains
from assd_repro.experiments.method_tuning import tuning_costs

__all__ = ["METHOD_SOURCES", "MethodSource", "gain_headlines", "guard_headlines",
           "labelled_gains", "pooled_shares", "run_hours", "tuned_name", "tuning_headlines",
           "tuning_table"]


class MethodSource(NamedTuple):
    """The stored runs of one data source of the comparison."""

    key: str
    tuning: str
    defaults: str
    tuned: str

    @property
    def runs(self) -> tuple[str, str, str]:
        return (self.tuning, self.defaults, self.tuned)


#: the data sources of chapter 8: the real sample (3 sizes) and the synthetic table (3x100)
METHOD_SOURCES: tuple[MethodSource, ...] = (
    MethodSource("sample", "methods-tuning-sample", "methods-sample", "methods-sample-tuned"),
    MethodSource("synthetic", "methods-tuning-synthetic", "methods-synthetic",
                 "methods-synthetic-tuned"),
)


def tuned_name(method: str) -> str:
    """The name of ``method``'s tuned variant in the tables."""
    return f"{method} (tuned)"


def _renamed(frame: pd.DataFrame, keep: str) -> pd.DataFrame:
    return frame.assign(method=frame["method"].map(lambda m: m if m == keep else tuned_name(m)))


def labelled_gains(defaults: pd.DataFrame, tuned: pd.DataFrame, tuning: pd.DataFrame,
                   sizes: Sequence[str]) -> pd.DataFrame:
    """Every method's gain over the baseline, defaults and tuned variants together, with the
    book's verdict, ordered by error rate, model size (``sizes``' order) and method.

    Args:
        defaults, tuned: rows of the comparison with defaults and with tuned parameters.
        tuning: rows of the tuning studies (their seconds become the tuned cells' ``tuning_s``).
        sizes: the model sizes, in display order.

    Returns:
        :func:`~assd_repro.experiments.method_comparison.method_gains` of both runs (tuned
        methods renamed by :func:`tuned_name`, ``tuning_s`` NaN for the defaults) with
        :func:`~assd_repro.experiments.method_choice.gain_verdicts`' ``verdict``.

    Raises:
        ValueError: as ``method_gains`` (empty rows, no baseline, ...), or a size of the rows
            is not in ``sizes``.
    """
    plain = method_gains(defaults)
    variants = method_gains(_renamed(tuned, "baseline"),
                            tuning_costs=_renamed(tuning_costs(tuning), "tuning_baselines"))
    both = pd.concat([plain, variants], ignore_index=True)
    unknown = sorted(set(both["model_size"]) - set(sizes))
    if unknown:
        raise ValueError(f"the rows hold the model size(s) {unknown}, not in sizes={sizes!r}")
    methods = [x for m in COMPARISON_METHODS for x in (m, tuned_name(m))]
    both = both.assign(_size=both["model_size"].map(list(sizes).index),
                       _method=both["method"].map(methods.index))
    both = both.sort_values(["error_pct", "_size", "_method"], kind="stable")
    return gain_verdicts(both.drop(columns=["_size", "_method"]).reset_index(drop=True))


def gain_headlines(gains: pd.DataFrame, prefix: str,
                   labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The chapter's numbers on one source's gains, keys prefixed ``{prefix}_``: ``n_cells``,
    the verdict counts (``supported``, ``contradicted``, ``undecided``), the largest and the
    smallest mean gain (``best_*``, ``worst_*``: method display name, gain, size, rate) and the
    range of the confusion family's (random labels, SalUn; any variant) mean gains."""
    name = (lambda m: (labels or {}).get(m, m))
    out: dict[str, Any] = {"n_cells": int(len(gains))}
    for verdict in ("supported", "contradicted", "undecided"):
        out[verdict] = int((gains["verdict"] == verdict).sum())
    for which, row in (("best", gains.loc[gains["gain_mean"].idxmax()]),
                       ("worst", gains.loc[gains["gain_mean"].idxmin()])):
        out.update({f"{which}_method": name(row["method"]), f"{which}_gain":
                    float(row["gain_mean"]), f"{which}_size": row["model_size"],
                    f"{which}_pct": float(row["error_pct"])})
    family = gains[gains["method"].str.partition(" ")[0].isin(["random_label", "salun"])]
    out["confusion_low"] = float(family["gain_mean"].min())
    out["confusion_high"] = float(family["gain_mean"].max())
    return {f"{prefix}_{k}": v for k, v in out.items()}


def tuning_table(tuning: pd.DataFrame, labels: Mapping[str, str] | None = None
                 ) -> pd.DataFrame:
    """The parameters each study found, its best objective (mean validation accuracy, %) and
    its seconds, indexed by method (display name), model size and tuned error rate."""
    costs = tuning_costs(tuning)
    studies = costs[costs["method"] != "tuning_baselines"]

    def number(v: float) -> str:  # 3 significant digits, of 1 - v just below 1 (NegGrad+'s beta)
        return f"1 - {1 - v:.3g}" if 0.99 < v < 1 else f"{v:.3g}"

    def fmt(params: str) -> str:
        return ", ".join(f"{k}={number(v)}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in json.loads(params).items())

    table = pd.DataFrame({
        "method": studies["method"].map(lambda m: (labels or {}).get(m, m)),
        "model": studies["model_size"], "errors": studies["error_pct"].map(lambda p: f"{p:g} %"),
        "parameters": studies["params"].map(fmt),
        "objective (%)": studies["best_value"].round(1), "seconds": studies["seconds"].round(1)})
    return table.set_index(["method", "model", "errors"])


def tuning_headlines(tuning: pd.DataFrame, prefix: str) -> dict[str, Any]:
    """``{prefix}_tuning_hours`` (studies and their baselines, CPU hours) and
    ``{prefix}_tuning_studies``."""
    costs = tuning_costs(tuning)
    return {f"{prefix}_tuning_hours": float(costs["seconds"].sum() / 3600),
            f"{prefix}_tuning_studies": int((costs["method"] != "tuning_baselines").sum())}


def run_hours(rows: pd.DataFrame) -> float:
    """CPU hours of a run's scenarios (the sum of each scenario's ``wall_s``)."""
    return float(rows.groupby("scenario")["wall_s"].first().sum() / 3600)


def pooled_shares(summary: pd.DataFrame, size: str, pct: float) -> pd.DataFrame:
    """Per method, the shares of the wrong-label rows predicted as their true class, their
    wrong label and a third class (%) in one cell, pooled over the pairs (true, wrong) by their
    mean row counts.

    Raises:
        ValueError: the summary has no such cell.
    """
    cell = summary[(summary["model_size"] == size) & (summary["error_pct"] == pct)]
    if cell.empty:
        raise ValueError(f"the summary has no cell ({size!r}, {pct:g} %)")
    columns = ["forget_true", "forget_wrong", "forget_other"]
    out = {method: {c: float(np.average(part[c], weights=part["pair_rows_forget"]))
                    for c in columns}
           for method, part in cell.groupby("method", sort=False)}
    return pd.DataFrame.from_dict(out, orient="index")[columns]


def guard_headlines(rows: pd.DataFrame, gains: pd.DataFrame) -> dict[str, Any]:
    """The guard's refusals in a comparison run (``guard_refused``, ``guard_total``,
    ``guard_refused_pct``) and its gains (``guard_contradicted``: cells significantly below
    the baseline; ``guard_worst_low``: the lowest interval bound, points)."""
    refused = rows[(rows["method"] == "assd_guarded") & (rows["metric"] == "refused")]["value"]
    guarded = gains[gains["method"] == "assd_guarded"]
    return {"guard_refused": int(refused.sum()), "guard_total": int(len(refused)),
            "guard_refused_pct": float(refused.mean() * 100),
            "guard_contradicted": int((guarded["verdict"] == "contradicted").sum()),
            "guard_worst_low": float(guarded["ci_low"].min())}
