"""Aggregate benchmark rows over seeds and put them beside the paper's Tables 1-3.

:func:`summarize` turns the tidy rows of :func:`~assd_repro.experiments.benchmark.run_benchmark`
into mean and standard deviation over seeds; :func:`compare_benchmark_with_paper` joins that summary with
:func:`assd_repro.paper.paper_table` rows, given which of our targets plays which paper class
(on the embedded MNIST sample, digits stand in for CIFAR classes; at the paper profile the
targets are the paper's own classes).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["SUMMARY_KEYS", "compare_benchmark_with_paper", "paper_analogue", "summarize"]

SUMMARY_KEYS: list[str] = ["dataset", "kind", "model", "target", "method", "metric"]
"""The columns a summary row is keyed by."""


def summarize(rows: pd.DataFrame, *, pool: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Mean, sample standard deviation (ddof 1) and range of every metric over seeds.

    Args:
        rows: benchmark rows (columns :data:`SUMMARY_KEYS`, ``value``, ``scenario``).
        pool: optional target -> name; targets given the same name are pooled, their values
            averaged over seeds and targets together (as the paper's Pins row "faces" pools
            five faces). Targets not named keep their own name.

    Returns:
        One row per :data:`SUMMARY_KEYS` combination with ``mean``, ``std`` (0 for values equal
        across seeds, NaN for a single value), ``n`` (non-NaN values: NaN timings of cached
        models are left out), ``min`` and ``max`` (the range over seeds, to show instead of a
        standard deviation when there are few seeds), in the rows' order of first appearance.

    Raises:
        ValueError: ``rows`` lacks one of the columns :data:`SUMMARY_KEYS` or ``value``
            (names them).
    """
    missing = [c for c in [*SUMMARY_KEYS, "value"] if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack the column(s) {missing}; pass the rows of run_benchmark")
    data = rows[[*SUMMARY_KEYS, "value"]].copy()
    data["target"] = data["target"].astype(str)
    if pool:
        data["target"] = data["target"].map(lambda t: pool.get(t, t))
    grouped = data.groupby(SUMMARY_KEYS, sort=False, dropna=False)["value"]
    out = grouped.agg(mean="mean", std="std", n="count", min="min", max="max").reset_index()
    return out


def compare_benchmark_with_paper(summary: pd.DataFrame, paper_rows: pd.DataFrame,
                       mapping: Mapping[str, str] | None = None, *,
                       paper_dataset: str | None = None) -> pd.DataFrame:
    """Our mean and std beside the paper's, with the difference (ours - paper).

    Args:
        summary: output of :func:`summarize`.
        paper_rows: rows of :func:`assd_repro.paper.paper_table` (``fullclass``, ``subclass``
            or ``random``), optionally filtered.
        mapping: our target -> paper ``forget_class``, e.g. ``{"3": "rocket"}``; None: the
            targets are the paper's classes. Targets not in the mapping are left out. For the
            random table (no class), every target matches the paper's single row per model,
            method and metric.
        paper_dataset: keep only paper rows of this data set (e.g. ``"cifar20"``).

    Returns:
        Columns ``dataset, kind, model, target, paper_class, method, metric, mean, std, n,
        paper_dataset, paper_mean, paper_std, difference`` for Dr, Df and MIA, in percent;
        only combinations present in both tables.

    Raises:
        ValueError: ``summary`` lacks one of the columns ``dataset, kind, model, target,
            method, metric, mean, std, n``, or ``paper_rows`` one of ``dataset,
            forget_class, model, method, metric, mean, std`` (names them; Table 4's rows, for
            example, are refused); ``paper_dataset`` has no paper row; a mapped target is not
            in the summary; a mapped paper class is not in the paper rows.
    """
    for frame, name, columns in (
            (summary, "summary", [*SUMMARY_KEYS, "mean", "std", "n"]),
            (paper_rows, "paper_rows", ["dataset", "forget_class", "model", "method", "metric",
                                        "mean", "std"])):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks the column(s) {missing}: pass summarize(rows) and "
                             "rows of paper_table('fullclass' | 'subclass' | 'random')")
    paper = paper_rows
    if paper_dataset is not None:
        paper = paper[paper["dataset"] == paper_dataset]
        if paper.empty:
            raise ValueError(f"paper_dataset={paper_dataset!r} has no paper rows; data sets: "
                             f"{sorted(paper_rows['dataset'].unique())}")
    ours = summary[summary["metric"].isin(["Dr", "Df", "MIA"])].copy()
    targets = list(dict.fromkeys(ours["target"].astype(str)))
    classes = sorted(set(paper["forget_class"]))
    classless = classes == [""]
    if mapping is None:
        mapping = {t: "" if classless else t for t in targets}
    else:
        mapping = {str(k): v for k, v in mapping.items()}
        unknown = [t for t in mapping if t not in targets]
        if unknown:
            raise ValueError(f"mapping names target {unknown[0]!r}, which the summary lacks; "
                             f"its targets: {targets}")
    absent = sorted({c for c in mapping.values() if c not in classes} - ({""} if classless else set()))
    if absent:
        raise ValueError(f"mapping names paper class {absent[0]!r}, which the paper rows lack; "
                         f"their classes: {classes}")
    ours["target"] = ours["target"].astype(str)
    ours = ours[ours["target"].isin(mapping)]
    ours["paper_class"] = ours["target"].map(lambda t: "" if classless else mapping[t])
    right = paper.rename(columns={"forget_class": "paper_class", "dataset": "paper_dataset",
                                  "mean": "paper_mean", "std": "paper_std"})
    right = right[["paper_class", "model", "method", "metric", "paper_dataset", "paper_mean",
                   "paper_std"]]
    merged = ours.merge(right, on=["paper_class", "model", "method", "metric"], how="inner")
    merged["difference"] = merged["mean"] - merged["paper_mean"]
    columns = ["dataset", "kind", "model", "target", "paper_class", "method", "metric", "mean",
               "std", "n", *[c for c in ("min", "max") if c in merged.columns],
               "paper_dataset", "paper_mean", "paper_std", "difference"]
    return merged[columns].reset_index(drop=True)


def paper_analogue(paper_rows: pd.DataFrame, dataset: str, label: str) -> pd.DataFrame:
    """The paper's rows of one data set averaged over its forgotten classes, as one class.

    For an analogue of a paper table on other data (CIFAR-10 classes standing in for the
    paper's CIFAR-100 classes), where no class of ours is the paper's: each of our targets is
    set beside the paper's mean over its classes, per model, method and metric.

    Args:
        paper_rows: rows of :func:`assd_repro.paper.paper_table` (``fullclass`` or
            ``subclass``).
        dataset: the paper's data set to average (``"cifar100"``, ``"cifar20"``).
        label: the name of the averaged class (e.g. ``"CIFAR-100, mean of 5 classes"``); map
            our targets to it in :func:`compare_benchmark_with_paper`.

    Returns:
        The columns of ``paper_rows``, one row per model, method and metric, with
        ``forget_class = label``, ``mean`` the mean over the classes and ``std`` NaN (the
        spread over the paper's classes is no spread over seeds).

    Raises:
        ValueError: ``paper_rows`` lacks one of the columns ``dataset, forget_class, model,
            method, metric, mean``, or has no row of ``dataset`` (names the data sets it has).
    """
    missing = [c for c in ("dataset", "forget_class", "model", "method", "metric", "mean")
               if c not in paper_rows.columns]
    if missing:
        raise ValueError(f"paper_rows lack the column(s) {missing}: pass rows of "
                         "paper_table('fullclass' | 'subclass')")
    rows = paper_rows[paper_rows["dataset"] == dataset]
    if rows.empty:
        raise ValueError(f"dataset={dataset!r} has no paper rows; data sets: "
                         f"{sorted(paper_rows['dataset'].unique())}")
    out = (rows.groupby(["dataset", "model", "method", "metric"], sort=False)["mean"].mean()
           .reset_index())
    out["forget_class"] = label
    out["std"] = float("nan")
    return out[[c for c in paper_rows.columns if c in out.columns]]
