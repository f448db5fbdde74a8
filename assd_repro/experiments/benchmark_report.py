"""Aggregate benchmark rows over seeds and put them beside the paper's Tables 1-3.

:func:`summarize` turns the tidy rows of :func:`~assd_repro.experiments.benchmark.run_benchmark`
into mean and standard deviation over seeds; :func:`compare_benchmark_with_paper` joins that summary with
:func:`assd_repro.paper.paper_table` rows, given which of our targets plays which paper class
(on the embedded MNIST sample, digits stand in for CIFAR classes; at the paper profile the
targets are the paper's own classes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

__all__ = ["SUMMARY_KEYS", "TIE", "collapses", "compare_benchmark_with_paper", "paper_analogue",
           "random_share_report", "summarize"]

#: Points: a per-seed difference between two methods within this counts as none.
TIE = 0.5

#: A method collapses on a class task when its Dr falls more than this many points below the
#: baseline's (over-dampening) ...
COLLAPSE_DR_DROP = 10.0
#: ... or its Df stays more than this many points above the highest Df of the retrained models
#: (under-forgetting).
COLLAPSE_DF_MARGIN = 10.0

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


def collapses(summary: pd.DataFrame, *, methods: tuple[str, ...] = ("ssd", "assd"),
              dr_drop: float = COLLAPSE_DR_DROP,
              df_margin: float = COLLAPSE_DF_MARGIN) -> pd.DataFrame:
    """The failures the paper says ASSD avoids (claim C1), per class-task case and method.

    A method *collapses* on a case (data set, kind, model, forgotten class) when its mean Dr
    is more than ``dr_drop`` points below the baseline's (it dampened too much: the retained
    classes pay) or its mean Df is more than ``df_margin`` points above the retrained models'
    highest Df over seeds (it dampened too little: the class is still recognised). Random
    forgetting has no such cases (there even the retrained model recognises forgotten images
    it generalises to), so only ``fullclass`` and ``subclass`` rows are judged.

    Args:
        summary: output of :func:`summarize` (with ``max``), for rows holding the baseline,
            the retrained models and ``methods``.
        methods: the unlearning methods judged.
        dr_drop, df_margin: the thresholds, in percentage points.

    Returns:
        One row per case and method: ``dataset, kind, model, target, method, dr_drop`` (the
        baseline's Dr minus the method's), ``df_excess`` (the method's Df minus the retrained
        models' highest), ``over`` (dr_drop > threshold), ``under`` (df_excess > threshold)
        and ``collapse`` (either).

    Raises:
        ValueError: ``summary`` lacks a needed column, or holds no class-task case with the
            baseline, retrain and every one of ``methods`` (names what is missing).
    """
    missing = [c for c in [*SUMMARY_KEYS, "mean", "max"] if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks the column(s) {missing}: pass summarize(rows)")
    data = summary[summary["kind"].isin(["fullclass", "subclass"])
                   & summary["metric"].isin(["Dr", "Df"])]
    keys = ["dataset", "kind", "model", "target"]
    wide = data.set_index([*keys, "method", "metric"])[["mean", "max"]].unstack(
        ["method", "metric"])
    needed = ["baseline", "retrain", *methods]
    present = set(wide.columns.get_level_values("method")) if len(wide) else set()
    absent = [m for m in needed if m not in present]
    if absent or wide.empty:
        raise ValueError(f"summary has no class-task case with the method(s) {absent or needed}"
                         "; pass summarize(rows) of a full-class or sub-class benchmark")
    out = []
    for method in methods:
        part = pd.DataFrame({
            "method": method,
            "dr_drop": wide["mean", "baseline", "Dr"] - wide["mean", method, "Dr"],
            "df_excess": wide["mean", method, "Df"] - wide["max", "retrain", "Df"],
        })
        out.append(part)
    table = pd.concat(out).reset_index()
    table["over"] = table["dr_drop"] > dr_drop
    table["under"] = table["df_excess"] > df_margin
    table["collapse"] = table["over"] | table["under"]
    return table[[*keys, "method", "dr_drop", "df_excess", "over", "under", "collapse"]]


def _largest_change(table: pd.DataFrame, method: str) -> float:
    """Largest |method - baseline| over the rows of ``table`` and Dr, Df, MIA (points)."""
    metrics = ["Dr", "Df", "MIA"]
    return float((table[method][metrics] - table["baseline"][metrics]).abs().max().max())


def _sign(values: pd.Series, up: str, down: str, neither: str) -> str:
    if (values > TIE).all():
        return up
    if (values < -TIE).all():
        return down
    return neither


def random_share_report(rows: pd.DataFrame, target: str) -> dict[str, object]:
    """What the random-forgetting chapter says about one forget share: how far each method
    moves the metrics from the baseline's, and ASSD against SSD seed by seed.

    Each seed compares ASSD and SSD on the same baseline and forget set, so the claims of the
    paper's Table 3 (ASSD keeps a higher Dr than SSD, and its MIA is closer to the retrained
    model's) are read from the per-seed differences: supported when in every seed both go
    ASSD's way by more than :data:`TIE` points, contradicted when both go the other way in
    every seed, undecided otherwise.

    Args:
        rows: benchmark rows of random forgetting (columns ``scenario, model, target, method,
            metric, value, n_forget``), with the baseline, retrain, SSD and ASSD.
        target: the share, as its string in the rows (e.g. ``"0.00165"``).

    Returns:
        Numbers (points or percent; means over seeds and models unless named): ``n_forget``,
        ``share_pct`` (the share in % as ASSD's percentile gives it back),
        ``assd_percentile``, ``assd_sel_pct``, ``ssd_sel_pct_max``, ``ssd_alpha``,
        ``{assd,ssd,retrain}_change_max`` (largest move from the baseline over Dr, Df, MIA),
        ``baseline_dr``, ``{baseline,retrain,assd}_df_mean``,
        ``{baseline,retrain,assd}_mia_mean``, ``{assd,ssd}_mia_gap`` (mean |MIA - the
        retrained model's|), ``{assd,ssd}_dr_mean``, ``dr_diff_min``/``max`` (ASSD - SSD per
        seed), ``gap_diff_min``/``max`` (ASSD's MIA gap - SSD's per seed), ``resolution``
        (points a move may take and still count as small: 5, or one forgotten image's share
        of Df and MIA where that is coarser); and words: ``dr_word``, ``gap_word``, ``claim``
        (``supported``, ``contradicted`` or ``undecided``) and ``hardly`` (the paper's
        "values hardly change" for ASSD and SSD: ``supported`` or ``not supported``).

    Raises:
        ValueError: ``rows`` lacks a needed column, or has no row of ``target`` (names the
            targets it has).
    """
    needed = ["scenario", "model", "target", "method", "metric", "value", "n_forget"]
    missing = [c for c in needed if c not in rows.columns]
    if missing:
        raise ValueError(f"rows lack the column(s) {missing}: pass the rows of run_benchmark")
    data = rows[rows["target"].astype(str) == str(target)]
    if data.empty:
        raise ValueError(f"target={target!r} is in no row; the rows' targets: "
                         f"{sorted(set(rows['target'].astype(str)))}")
    per_seed = (data.set_index(["model", "scenario", "method", "metric"])["value"]
                .unstack(["method", "metric"]))
    means = per_seed.groupby(level="model").mean()
    dr_diff = per_seed["assd", "Dr"] - per_seed["ssd", "Dr"]
    gaps = {m: (per_seed[m, "MIA"] - per_seed["retrain", "MIA"]).abs() for m in ("assd", "ssd")}
    gap_diff = gaps["assd"] - gaps["ssd"]
    claim = ("supported" if (dr_diff > TIE).all() and (gap_diff < -TIE).all()
             else "contradicted" if (dr_diff < -TIE).all() and (gap_diff > TIE).all()
             else "undecided")
    percentile = float(means["assd", "percentile"].mean())
    changes = {m: _largest_change(means, m) for m in ("assd", "ssd", "retrain")}
    # a move is small within 5 points, or within one forgotten image's share of Df and MIA
    # where that is coarser (8 images: 12.5 points)
    resolution = max(5.0, 100.0 / float(data["n_forget"].mean()))
    return {
        "n_forget": float(data["n_forget"].mean()),
        # ASSD's percentile p = 100 - ln(1 + 100 |Df| / |D|) gives back the share in %
        "share_pct": float(math.expm1(100 - percentile)),
        "assd_percentile": percentile,
        "assd_sel_pct": 100 * float(means["assd", "fraction_selected"].mean()),
        "ssd_sel_pct_max": 100 * float(means["ssd", "fraction_selected"].max()),
        "ssd_alpha": float(means["ssd", "alpha"].max()),
        **{f"{m}_change_max": changes[m] for m in ("assd", "ssd", "retrain")},
        "baseline_dr": float(means["baseline", "Dr"].mean()),
        **{f"{m}_{k.lower()}_mean": float(means[m, k].mean())
           for m in ("baseline", "retrain", "assd") for k in ("Df", "MIA")},
        **{f"{m}_mia_gap": float(gaps[m].mean()) for m in ("assd", "ssd")},
        **{f"{m}_dr_mean": float(means[m, "Dr"].mean()) for m in ("assd", "ssd")},
        "dr_diff_min": float(dr_diff.min()), "dr_diff_max": float(dr_diff.max()),
        "gap_diff_min": float(gap_diff.min()), "gap_diff_max": float(gap_diff.max()),
        "dr_word": _sign(dr_diff, "ASSD higher in every seed", "ASSD lower in every seed",
                         "no consistent difference"),
        "gap_word": _sign(-gap_diff, "closer to it in every seed",
                          "further from it in every seed", "not consistently closer or further"),
        "claim": claim,
        "resolution": resolution,
        "hardly": "supported" if max(changes["assd"], changes["ssd"]) <= resolution
        else "not supported",
    }
