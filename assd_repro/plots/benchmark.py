"""Tables and figures of the benchmark chapters (paper Tables 1-3).

The inputs are the frames of :mod:`assd_repro.experiments.benchmark_report`:
:func:`~assd_repro.experiments.benchmark_report.summarize` (``mean``, ``std``, ``n`` per data set,
kind, model, target, method and metric) and
:func:`~assd_repro.experiments.benchmark_report.compare_benchmark_with_paper` (the same for Dr, Df and MIA,
plus ``paper_class``, ``paper_mean``, ``paper_std`` and ``difference`` = ours - paper). Dr, Df and
MIA are in percent, ``seconds`` and ``importance_s`` in seconds. matplotlib is imported lazily.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from assd_repro.plots import METHOD_COLORS, METHOD_LABELS, format_mean_std

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ACCURACY_METRICS",
    "METRIC_LABELS",
    "MODEL_LABELS",
    "case_label",
    "comparison_table",
    "cost_summary",
    "means_by_case",
    "plot_cost",
    "plot_methods",
]

#: The metrics of the paper's Tables 1-3, in their order.
ACCURACY_METRICS: tuple[str, ...] = ("Dr", "Df", "MIA")
#: Axis and column labels of the metrics.
METRIC_LABELS: dict[str, str] = {"Dr": "Dr acc.", "Df": "Df acc.", "MIA": "MIA"}
#: Display names of the models.
MODEL_LABELS: dict[str, str] = {"resnet18": "ResNet18", "vit": "ViT"}
_METHOD_ORDER: tuple[str, ...] = ("baseline", "retrain", "ssd", "assd")
_TABLE_COLUMNS: tuple[str, str, str] = ("ours (mean ± std)", "paper", "difference")
_RANGE_COLUMN = "ours (mean, range over seeds)"


def _mean_range(mean: float, low: float, high: float, digits: int) -> str:
    """``"55.8 (54.1–57.0)"``; ``"55.8"`` when every seed gave the same value."""
    if math.isnan(mean):
        return "–"
    if math.isnan(low) or round(low, digits) == round(high, digits):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


def _require(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks the column(s) {missing}; pass the output of {source}")


def _ordered(values: pd.Series, order: Sequence[str] = ()) -> list[str]:
    """Distinct values: those in ``order`` first (in its order), then the rest as they appear."""
    seen = list(dict.fromkeys(values.astype(str)))
    return [v for v in order if v in seen] + [v for v in seen if v not in order]


def _target_label(target: str, paper_class: str | None, kind: str = "") -> str:
    """``"3 → rocket"`` (our target, the paper class it stands in for); ``"20 random images"``
    or ``"0.165 % random"`` (a count or a share of the training set) for random forgetting."""
    if kind == "random":
        if target.isdigit():
            return f"{target} random images"
        return f"{100 * float(target):g} % random"
    if not paper_class or paper_class == target:
        return target
    return f"{target} → {paper_class}"


def means_by_case(summary: pd.DataFrame) -> pd.DataFrame:
    """The means of a summary in wide form, for picking the numbers a text quotes.

    Args:
        summary: output of :func:`~assd_repro.experiments.benchmark_report.summarize`.

    Returns:
        One row per case ``(dataset, model, target)``, one column per ``(method, metric)``
        (e.g. ``means["assd"]["Df"]``); NaN where a method lacks a metric or was not timed.

    Raises:
        ValueError: ``summary`` lacks one of the columns ``dataset, model, target, method,
            metric, mean`` (names them).
    """
    _require(summary, ["dataset", "model", "target", "method", "metric", "mean"], "summarize")
    data = summary.assign(target=summary["target"].astype(str))
    return data.set_index(["dataset", "model", "target", "method", "metric"])["mean"].unstack(
        ["method", "metric"])


def case_label(case: tuple[str, str, str]) -> str:
    """``"ResNet18, target 3"``: the case ``(dataset, model, target)`` of :func:`means_by_case`."""
    _, model, target = case
    return f"{MODEL_LABELS.get(model, model)}, target {target}"


def comparison_table(comparison: pd.DataFrame, *, metric: str | None = None,
                     digits: int = 1, spread: str = "std") -> pd.DataFrame:
    """Our numbers beside the paper's, as strings for the book.

    Args:
        comparison: output of :func:`~assd_repro.experiments.benchmark_report.compare_benchmark_with_paper`.
        metric: ``"Dr"``, ``"Df"`` or ``"MIA"``: a narrow table of that metric only (three
            columns); None: every metric, under a two-level column header (nine columns).
        digits: decimals shown (values in percent).
        spread: ``"std"``: ours as mean ± standard deviation; ``"range"``: as the mean and the
            range over seeds, ``55.8 (54.1–57.0)`` (for fewer than five seeds, where a standard
            deviation says little; needs the ``min`` and ``max`` columns of ``summarize``).

    Returns:
        Index ``(model, target → paper class, method)`` with display names, in the order
        baseline, retrain, SSD, ASSD; columns ``ours (mean ± std)`` (or ``ours (mean, range
        over seeds)``), ``paper`` (mean ± std as transcribed; "–" where the paper has no
        value) and ``difference`` (ours - paper, signed), per metric when ``metric`` is None.

    Raises:
        ValueError: ``comparison`` lacks one of the columns ``model, target, paper_class,
            method, metric, mean, std, paper_mean, paper_std, difference`` (names them); a
            metric shown (``metric``, or each of Dr, Df, MIA when None) has no row in it (an
            empty comparison included; the message lists the metrics present); ``spread`` is
            not ``"std"`` or ``"range"``, or ``"range"`` without ``min`` and ``max`` columns.
    """
    _require(comparison, ["model", "target", "paper_class", "method", "metric", "mean", "std",
                          "paper_mean", "paper_std", "difference"], "compare_benchmark_with_paper")
    if spread not in ("std", "range"):
        raise ValueError(f"spread={spread!r} must be 'std' or 'range'")
    if spread == "range":
        _require(comparison, ["min", "max"], "compare_benchmark_with_paper(summarize(rows), ...)")
    headers = ((_RANGE_COLUMN, *_TABLE_COLUMNS[1:]) if spread == "range" else _TABLE_COLUMNS)
    metrics = list(ACCURACY_METRICS) if metric is None else [metric]
    unknown = [m for m in metrics if m not in set(comparison["metric"])]
    if unknown:
        raise ValueError(f"metric={unknown[0]!r} is not in the comparison; it has "
                         f"{sorted(set(comparison['metric']))}")
    data = comparison[comparison["metric"].isin(metrics)]
    index_names = ["model", "target → paper class", "method"]
    rows: dict[tuple[str, str, str], dict[tuple[str, str], str]] = {}
    for model in _ordered(data["model"], tuple(MODEL_LABELS)):
        by_model = data[data["model"] == model]
        for target in _ordered(by_model["target"]):
            by_target = by_model[by_model["target"].astype(str) == target]
            label = _target_label(target, str(by_target["paper_class"].iloc[0]),
                                  str(by_target["kind"].iloc[0]) if "kind" in by_target else "")
            for method in _ordered(by_target["method"], _METHOD_ORDER):
                key = (MODEL_LABELS.get(model, model), label, METHOD_LABELS.get(method, method))
                cells = rows.setdefault(key, {})
                for r in by_target[by_target["method"] == method].itertuples():
                    cells[(str(r.metric), headers[0])] = (
                        _mean_range(r.mean, r.min, r.max, digits) if spread == "range"
                        else format_mean_std(r.mean, r.std, digits))
                    cells[(str(r.metric), headers[1])] = format_mean_std(
                        r.paper_mean, r.paper_std, digits)
                    cells[(str(r.metric), headers[2])] = (
                        "–" if math.isnan(r.difference) else f"{r.difference:+.{digits}f}")
    columns = pd.MultiIndex.from_tuples([(m, c) for m in metrics for c in headers],
                                        names=["metric", ""])
    index = pd.MultiIndex.from_tuples(list(rows), names=index_names)
    table = pd.DataFrame([[cells.get(c, "–") for c in columns] for cells in rows.values()],
                         index=index, columns=columns)
    return table.droplevel("metric", axis=1) if metric is not None else table


def plot_methods(summary: pd.DataFrame, comparison: pd.DataFrame | None = None, *,
                 targets: Sequence[str] | None = None,
                 metrics: Sequence[str] = ACCURACY_METRICS, spread: str = "std") -> Figure:
    """Grouped bars of Dr, Df and MIA by method: one panel per model (columns) and target (rows).

    Args:
        summary: output of :func:`~assd_repro.experiments.benchmark_report.summarize`.
        comparison: optional :func:`~assd_repro.experiments.benchmark_report.compare_benchmark_with_paper`
            output; its paper values are drawn as black diamonds on the matching bars and its
            paper classes name the targets in the panel titles.
        targets: targets to show (default: every target of the summary).
        metrics: metrics to show, in percent.
        spread: the error bars: ``"std"`` one standard deviation, ``"range"`` the lowest and
            highest value over seeds (``min`` and ``max`` of ``summarize``).

    Returns:
        The figure; the bars show the mean over seeds, the error bars ``spread``.
        A model without a target (the paper's Pins faces have no ViT) leaves its panel empty.

    Raises:
        ValueError: ``summary`` (or ``comparison``, when given) lacks a needed column (names
            them); ``summary`` has no row of ``metrics`` (an empty summary included); a target
            in ``targets`` is in no row of the summary (the message lists its targets);
            ``spread`` is not ``"std"`` or ``"range"``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if spread not in ("std", "range"):
        raise ValueError(f"spread={spread!r} must be 'std' or 'range'")
    _require(summary, ["model", "target", "method", "metric", "mean",
                       *(("min", "max") if spread == "range" else ("std",))], "summarize")
    data = summary[summary["metric"].isin(metrics)].assign(target=lambda d: d["target"].astype(str))
    if data.empty:
        raise ValueError(f"summary has no row of the metrics {list(metrics)}; it has "
                         f"{sorted(set(summary['metric'].astype(str)))}: pass summarize(rows)")
    models = _ordered(data["model"], tuple(MODEL_LABELS))
    present = _ordered(data["target"])
    shown = [str(t) for t in targets] if targets is not None else present
    unknown = [t for t in shown if t not in present]
    if unknown:
        raise ValueError(f"targets {unknown} are not in the summary; its targets: {present}")
    methods = _ordered(data["method"], _METHOD_ORDER)
    paper = None
    if comparison is not None:
        _require(comparison, ["model", "target", "paper_class", "method", "metric", "paper_mean"],
                 "compare_benchmark_with_paper")
        paper = comparison.assign(target=lambda d: d["target"].astype(str))
    fig, axes = plt.subplots(len(shown), len(models), squeeze=False, sharey=True,
                             figsize=(3.3 * len(models) + 0.4, 2.3 * len(shown) + 0.6),
                             layout="constrained")
    width = 0.8 / max(len(methods), 1)
    x = np.arange(len(metrics), dtype=float)
    for row, target in enumerate(shown):
        for col, model in enumerate(models):
            ax = axes[row, col]
            panel = data[(data["model"] == model) & (data["target"] == target)]
            if panel.empty:
                ax.set_axis_off()
                continue
            paper_class = None
            kind = str(panel["kind"].iloc[0]) if "kind" in panel else ""
            for j, method in enumerate(methods):
                values = panel[panel["method"] == method].set_index("metric").reindex(list(metrics))
                where = x + (j - (len(methods) - 1) / 2) * width
                if spread == "range":
                    yerr = np.vstack([(values["mean"] - values["min"]).fillna(0.0).clip(0),
                                      (values["max"] - values["mean"]).fillna(0.0).clip(0)])
                else:
                    yerr = values["std"].fillna(0.0).to_numpy()
                ax.bar(where, values["mean"], width, yerr=yerr,
                       color=METHOD_COLORS.get(method, "grey"),
                       error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "black"})
                if paper is not None:
                    ours = paper[(paper["model"] == model) & (paper["target"] == target)
                                 & (paper["method"] == method)]
                    if not ours.empty:
                        paper_class = str(ours["paper_class"].iloc[0])
                        marks = ours.set_index("metric").reindex(list(metrics))["paper_mean"]
                        ax.plot(where, marks, ls="none", marker="D", ms=3.2, color="black",
                                markeredgecolor="white", markeredgewidth=0.4, zorder=3)
            ax.set_xticks(x, [METRIC_LABELS.get(m, m) for m in metrics])
            ax.set_ylim(0, 105)
            label = _target_label(target, paper_class, kind)
            ax.set_title(f"{MODEL_LABELS.get(model, model)}, target {label}")
            if col == 0:
                ax.set_ylabel("accuracy or MIA (%)")
    handles: list[Patch | Line2D] = [Patch(color=METHOD_COLORS.get(m, "grey"),
                                           label=METHOD_LABELS.get(m, m)) for m in methods]
    if paper is not None and not paper.empty:
        handles.append(Line2D([], [], ls="none", marker="D", ms=4, color="black", label="paper"))
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles))
    return fig


def cost_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """Seconds per model and method, averaged over data sets, targets and seeds.

    Args:
        summary: output of :func:`~assd_repro.experiments.benchmark_report.summarize`, with the
            ``seconds`` (and, for SSD and ASSD, ``importance_s``) metrics.

    Returns:
        Index ``model``; columns ``baseline``, ``retrain`` (training time), ``ssd``, ``assd``
        (unlearning time per forget request: forget importances, selection and dampening),
        ``importance_pass`` (the one-off ``[]_D`` pass on Dr that SSD and ASSD share),
        ``speedup`` (retrain / ASSD) and ``speedup_incl_pass`` (retrain / (ASSD + the pass)).
        Means weigh each target by its number of timed seeds; a time is NaN where every model
        came from the artefact cache (not timed), and so is every ratio that needs it.

    Raises:
        ValueError: ``summary`` lacks one of the columns ``model, method, metric, mean, n``.
    """
    _require(summary, ["model", "method", "metric", "mean", "n"], "summarize")
    timed = summary[summary["metric"].isin(["seconds", "importance_s"]) & (summary["n"] > 0)]
    models = pd.Index(_ordered(summary["model"], tuple(MODEL_LABELS)), name="model")
    out = pd.DataFrame(index=models, columns=[*_METHOD_ORDER, "importance_pass"], dtype=float)
    for (model, method, metric), group in timed.groupby(["model", "method", "metric"]):
        weighted = float((group["mean"] * group["n"]).sum() / group["n"].sum())
        column = "importance_pass" if metric == "importance_s" else str(method)
        if column in out.columns:
            out.loc[model, column] = weighted
    out["speedup"] = out["retrain"] / out["assd"]
    out["speedup_incl_pass"] = out["retrain"] / (out["assd"] + out["importance_pass"])
    return out


def plot_cost(summary: pd.DataFrame) -> Figure:
    """Cost of forgetting per model: retraining on Dr against SSD's and ASSD's unlearning.

    Args:
        summary: output of :func:`~assd_repro.experiments.benchmark_report.summarize`.

    Returns:
        A figure with a log-scaled seconds axis: per model the retrain bar (training on Dr),
        SSD and ASSD (per forget request) and the hatched one-off ``[]_D`` pass; a time that
        was not measured (model loaded from the cache) is marked "cached" instead of a bar.

    Raises:
        ValueError: as :func:`cost_summary`.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    cost = cost_summary(summary)
    bars = [("retrain", "Retrain (training on Dr)", METHOD_COLORS["retrain"], None),
            ("ssd", "SSD (per request)", METHOD_COLORS["ssd"], None),
            ("assd", "ASSD (per request)", METHOD_COLORS["assd"], None),
            ("importance_pass", "importance pass on Dr (one-off)", "white", "///")]
    fig, ax = plt.subplots(figsize=(max(4.5, 1.0 + 2.0 * len(cost)), 3.4), layout="constrained")
    width = 0.8 / len(bars)
    positive = cost[[b[0] for b in bars]].to_numpy(dtype=float)
    floor = np.nanmin(positive[positive > 0]) / 3 if np.any(positive > 0) else 1e-2
    for j, (column, _, color, hatch) in enumerate(bars):
        for i, value in enumerate(cost[column]):
            where = i + (j - (len(bars) - 1) / 2) * width
            if math.isnan(value):
                ax.text(where, floor * 1.2, "cached", rotation=90, ha="center", va="bottom",
                        fontsize="x-small", color="grey")
                continue
            ax.bar(where, value, width, color=color, hatch=hatch, edgecolor="black",
                   linewidth=0.5)
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(range(len(cost)), [MODEL_LABELS.get(m, m) for m in cost.index])
    ax.set_ylabel("wall-clock time (s, log scale)")
    handles = [Patch(facecolor=c, hatch=h, edgecolor="black", linewidth=0.5, label=label)
               for _, label, c, h in bars]
    fig.legend(handles=handles, loc="outside upper center", ncols=2, fontsize="small")
    return fig
