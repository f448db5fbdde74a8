"""Figures and tables of the parameter study (paper Fig. 2) and the alpha plateau (Fig. 3).

Inputs are the tables of :mod:`assd_repro.experiments.lambda_study` and
:mod:`assd_repro.experiments.alpha_plateau`; every helper returns its ``Figure`` (or frame) and
modifies nothing it is given. Matplotlib and seaborn are imported inside the functions so that
importing this module stays cheap. Figures are sized for the book's page width (about 7 in).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assd_repro.plots import METHOD_COLORS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "METRIC_COLORS",
    "METRIC_LABELS",
    "PAPER_PLATEAUS",
    "plateau_display",
    "plateau_table",
    "plot_param_importances",
    "plot_plateau",
    "plot_trials",
    "sensitivity_display",
]

#: Axis and legend names of the metrics (all in percent).
METRIC_LABELS: dict[str, str] = {
    "Dr": "Retain accuracy Dr (%)",
    "Df": "Forget accuracy Df (%)",
    "MIA": "MIA (%)",
    "objective": "Objective (points)",
}

#: One colour per metric in the plateau figure (colour-blind safe).
METRIC_COLORS: dict[str, str] = {"Dr": "#0072b2", "Df": "#999999", "MIA": "#cc79a7"}

#: The plateaus the paper states in its text around Fig. 3 (ResNet18): the alpha range where
#: retain accuracy has reached its plateau and the MIA has not yet started to rise.
#: Keyed by task kind, since the CPU profiles forget another class than the paper's rocket.
PAPER_PLATEAUS: dict[str, dict[str, Any]] = {
    "fullclass": {"paper_task": "CIFAR-100 rocket (full-class)", "paper_low": 10.0,
                  "paper_high": 80.0},
    "subclass": {"paper_task": "CIFAR-20 rocket (sub-class)", "paper_low": 5.0,
                 "paper_high": 25.0},
}

_PARAM_LABELS: dict[str, str] = {"alpha": "α (selection)", "lam": "λ (dampening)"}


def _plain_log_axis(axis: Any, ticks: Sequence[float] | None = None) -> None:
    """Log-scale ``axis`` (``ax.xaxis`` or ``ax.yaxis``) labelled with plain numbers (0.1, 1, 10)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    if ticks is not None:
        axis.set_major_locator(FixedLocator(list(ticks)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _require_columns(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {missing}; it has {list(frame.columns)}")


def plot_trials(trials: pd.DataFrame, *, assd_alpha: float | None = None,
                metrics: Sequence[str] = ("Dr", "MIA"), cmap: str = "viridis",
                alpha_range: tuple[float, float] | None = None,
                lam_range: tuple[float, float] | None = None) -> Figure:
    """The study's trials in the (alpha, lambda) plane, one panel per metric (Fig. 2 a/b).

    Each point is one Optuna trial, coloured by the metric; both axes are logarithmic. A
    dotted vertical line marks ASSD's alpha and a star its own setting (alpha, lambda = 1).

    Args:
        trials: ``(n_trials, k)`` frame with the columns ``alpha``, ``lam`` and each of
            ``metrics`` (percent), as ``LambdaStudyResult.trials``.
        assd_alpha: ASSD's alpha on the same task; ``None``: not marked.
        metrics: the columns to colour by, one panel each.
        cmap: matplotlib colour map (the same for every panel; a colour bar per panel).
        alpha_range, lam_range: the search ranges, drawn as the axis limits (with a 10 %
            margin on the log scale); ``None``: fitted to the trials.

    Returns:
        The figure (7 in wide, one row of panels).

    Raises:
        ValueError: ``trials`` lacks the column ``alpha``, ``lam`` or one of ``metrics``
            (names them and lists the columns it has).
    """
    import matplotlib.pyplot as plt

    _require_columns(trials, "trials", ["alpha", "lam", *metrics])
    fig, axes = plt.subplots(1, len(metrics), figsize=(7.0, 3.3), sharey=True,
                             layout="constrained", squeeze=False)
    for i, (ax, metric) in enumerate(zip(axes[0], metrics, strict=True)):
        points = ax.scatter(trials["alpha"], trials["lam"], c=trials[metric], cmap=cmap, s=36,
                            edgecolors="white", linewidths=0.5)
        fig.colorbar(points, ax=ax, label=f"{metric} (%)", pad=0.02)
        if assd_alpha is not None and math.isfinite(assd_alpha):
            ax.axvline(assd_alpha, color=METHOD_COLORS["assd"], linestyle=":", linewidth=1.5)
            ax.plot([assd_alpha], [1.0], marker="*", markersize=13, color=METHOD_COLORS["assd"],
                    markeredgecolor="black", linestyle="none",
                    label=f"ASSD (α = {assd_alpha:.3g}, λ = 1)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        _plain_log_axis(ax.xaxis)
        _plain_log_axis(ax.yaxis, ticks=(0.1, 0.2, 0.5, 1, 2, 5))
        for limits, set_lim in ((alpha_range, ax.set_xlim), (lam_range, ax.set_ylim)):
            if limits is not None:
                set_lim(limits[0] / 1.1, limits[1] * 1.1)
        ax.set_xlabel("α (selection threshold, log)")
        name = METRIC_LABELS.get(metric, metric).replace(" (%)", "")
        ax.set_title(f"({chr(ord('a') + i)}) {name}")
    axes[0][0].set_ylabel("λ (dampening constant, log)")
    if assd_alpha is not None and math.isfinite(assd_alpha):
        fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center",
                   fontsize="small")
    return fig


def plot_param_importances(importances: pd.DataFrame) -> Figure:
    """fANOVA importance of alpha and lambda, per target (objective, Dr, Df, MIA).

    Args:
        importances: tidy frame ``target, param, importance`` (``param`` in ``alpha``,
            ``lam``; importances of one target sum to 1), as ``LambdaStudyResult.importances``.
            Targets whose importance is NaN (the target never varied) are drawn empty.

    Returns:
        The figure: horizontal bars, one group per target.

    Raises:
        ValueError: ``importances`` lacks the column ``target``, ``param`` or ``importance``;
            it has no row.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    _require_columns(importances, "importances", ["target", "param", "importance"])
    if importances.empty:
        raise ValueError("importances has no row; pass LambdaStudyResult.importances of a study "
                         "with trials")
    data = importances.assign(
        Parameter=importances["param"].map(lambda p: _PARAM_LABELS.get(p, p)),
        Target=importances["target"].map(lambda t: METRIC_LABELS.get(t, t)),
    )
    fig, ax = plt.subplots(figsize=(7.0, 2.8), layout="constrained")
    sns.barplot(data=data, y="Target", x="importance", hue="Parameter", orient="h", ax=ax,
                palette=["#0072b2", "#e69f00"])
    for container in ax.containers:
        ax.bar_label(container, fmt="%.3f", padding=3, fontsize="small")
    for row, target in enumerate(data["Target"].drop_duplicates()):
        if data.loc[data["Target"] == target, "importance"].isna().all():
            ax.text(0.01, row, "n/a: constant in every trial", va="center", fontsize="small",
                    color="#4d4d4d")
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("fANOVA importance (share of explained variance)")
    ax.set_ylabel("")
    handles, labels = ax.get_legend_handles_labels()
    ax.get_legend().remove()
    fig.legend(handles, labels, loc="outside upper center", ncol=2)
    return fig


_KIND_LABELS: dict[str, str] = {"fullclass": "full-class", "subclass": "sub-class",
                                 "random": "random"}


def _task_title(task: str, kind: str) -> str:
    """``"mnist_sample/subclass/3"`` -> ``"mnist_sample: 3, sub-class"``."""
    parts = task.split("/")
    if len(parts) == 3:
        return f"{parts[0]}: {parts[2]}, {_KIND_LABELS.get(kind, kind)}"
    return f"{task} ({_KIND_LABELS.get(kind, kind)})"


def _half_grid_step(alphas: np.ndarray) -> float:
    """Factor of half a step of a log-spaced ``(n,)`` grid (1.0 for fewer than two points)."""
    alphas = np.unique(alphas[np.isfinite(alphas) & (alphas > 0)])
    if len(alphas) < 2:
        return 1.0
    return float(np.sqrt(np.median(alphas[1:] / alphas[:-1])))


def plot_plateau(rows: pd.DataFrame, bounds: pd.DataFrame, *,
                 metrics: Sequence[str] = ("Dr", "MIA", "Df"), ncols: int | None = None,
                 titles: Mapping[str, str] | None = None) -> Figure:
    """Per task, SSD's metrics (lambda = 1) against alpha, with the plateau and ASSD marked.

    One panel per task: each metric in percent on a log alpha axis (mean over scenarios), the
    plateau of ``bounds`` shaded, the baseline's retain accuracy dashed, and ASSD's alpha as a
    vertical line (its value in the panel title) with its own metrics as star markers. The
    plateau is a set of grid points, so its band reaches half a grid step (on the log scale)
    beyond ``alpha_low`` and ``alpha_high``; a one-point plateau stays visible.

    Args:
        rows: tidy rows ``task, kind, method, alpha, metric, value`` of
            :func:`~assd_repro.experiments.alpha_plateau.run_alpha_plateau`.
        bounds: :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds` of ``rows``
            (``task``, ``alpha_low``, ``alpha_high``; NaN bounds: no plateau shaded).
        metrics: the metrics drawn, in legend order.
        ncols: panels per row; the tasks fill the rows in their order (e.g. 3 for six tasks:
            a row per task kind when the rows list three tasks of each kind); ``None``: every
            task in one row.
        titles: task -> the panel's first title line (ASSD's alpha is the second); tasks not
            in it: ``"<dataset>: <target>, <kind>"``.

    Returns:
        The figure (7 in wide, one panel per task, shared y axis 0-100 %; 3.4 in high for
        one row of panels, 2.9 in more for each further row).

    Raises:
        ValueError: ``rows`` lacks one of the columns ``task, kind, method, alpha, metric,
            value`` or ``bounds`` one of ``task, alpha_low, alpha_high``; ``rows`` has no row;
            a task has no SSD row (method ``"ssd"``) to draw; ``ncols`` is not a whole number
            >= 1.
    """
    import matplotlib.pyplot as plt

    _require_columns(rows, "rows", ["task", "kind", "method", "alpha", "metric", "value"])
    _require_columns(bounds, "bounds", ["task", "alpha_low", "alpha_high"])
    tasks = list(dict.fromkeys(rows["task"]))
    if not tasks:
        raise ValueError("rows has no row: run the plateau first (run_alpha_plateau)")
    with_grid = set(rows.loc[rows["method"] == "ssd", "task"])
    no_grid = [t for t in tasks if t not in with_grid]
    if no_grid:
        raise ValueError(f"rows hold no SSD row (method 'ssd') of the task(s) {no_grid}: pass "
                         "the rows of run_alpha_plateau")
    if ncols is not None and (isinstance(ncols, bool) or not isinstance(ncols, int)
                              or ncols < 1):
        raise ValueError(f"ncols={ncols!r} must be a whole number >= 1 (panels per row)")
    ncols = len(tasks) if ncols is None else min(ncols, len(tasks))
    nrows = -(-len(tasks) // ncols)
    fig, grid_axes = plt.subplots(nrows, ncols, figsize=(7.0, 3.4 + 2.9 * (nrows - 1)),
                                  sharey=True, layout="constrained", squeeze=False)
    panels = list(grid_axes.flat)
    for ax in panels[len(tasks):]:  # a last row that is not full
        ax.set_visible(False)
    axes = panels[:len(tasks)]
    limits = bounds.set_index("task")
    for i, (ax, task) in enumerate(zip(axes, tasks, strict=True)):
        part = rows[rows["task"] == task]
        grid = (part[part["method"] == "ssd"]
                .pivot_table(index="alpha", columns="metric", values="value", aggfunc="mean")
                .sort_index())
        base = part[part["method"] == "baseline"].groupby("metric")["value"].mean()
        assd = part[part["method"] == "assd"]
        for metric in metrics:
            ax.plot(grid.index, grid[metric], marker="o", markersize=3.5, linewidth=1.6,
                    color=METRIC_COLORS.get(metric), label=f"SSD {metric}")
        if "Dr" in base:
            ax.axhline(float(base["Dr"]), color=METHOD_COLORS["baseline"], linestyle="--",
                       linewidth=1.0, label="Baseline Dr")
        if task in limits.index:
            low, high = limits.loc[task, ["alpha_low", "alpha_high"]]
            if np.isfinite(low) and np.isfinite(high):
                half_step = _half_grid_step(grid.index.to_numpy(dtype=float))
                ax.axvspan(low / half_step, high * half_step, color="#009e73", alpha=0.15,
                           linewidth=0, label="Plateau")
        title = (titles[task] if titles is not None and task in titles
                 else _task_title(str(task), str(part["kind"].iloc[0])))
        if not assd.empty:
            alpha = float(assd["alpha"].mean())
            title += f"\nASSD α = {alpha:.3g}"
            ax.axvline(alpha, color=METHOD_COLORS["assd"], linestyle=":", linewidth=1.5,
                       label="ASSD α (★ its metrics)")
            values = assd.groupby("metric")["value"].mean()
            for metric in metrics:
                if metric in values:
                    ax.plot([alpha], [float(values[metric])], marker="*", markersize=11,
                            color=METRIC_COLORS.get(metric), markeredgecolor="black",
                            linestyle="none")
        ax.set_xscale("log")
        _plain_log_axis(ax.xaxis)
        ax.set_ylim(-3, 103)
        if i + ncols >= len(tasks):  # no panel below: the bottom of its column
            ax.set_xlabel("α (log scale), λ = 1")
        if i % ncols == 0:
            ax.set_ylabel("Metric (%)")
        ax.set_title(title)
    legend: dict[str, Any] = {}
    for ax in axes:  # every label once, whichever panel has it
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    fig.legend(list(legend.values()), list(legend), loc="outside lower center",
               ncol=min(len(legend), 4), fontsize="small")
    return fig


def plateau_table(bounds: pd.DataFrame,
                  paper: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Our plateau per task beside the paper's stated plateau of the same task kind.

    Args:
        bounds: :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds` output.
        paper: kind -> ``paper_task``, ``paper_low``, ``paper_high``; ``None``:
            :data:`PAPER_PLATEAUS`.

    Returns:
        One row per task: ``task, kind, alpha_low, alpha_high, width`` (high / low, a factor),
        ``assd_alpha, assd_in_bounds, assd_meets_criteria, paper_task, paper_low, paper_high,
        paper_width``; paper columns are NaN for kinds the paper states no plateau for.

    Raises:
        ValueError: ``bounds`` lacks one of the columns ``task, kind, alpha_low, alpha_high,
            assd_alpha, assd_in_bounds, assd_meets_criteria``.
    """
    _require_columns(bounds, "bounds", ["task", "kind", "alpha_low", "alpha_high", "assd_alpha",
                                        "assd_in_bounds", "assd_meets_criteria"])
    paper = PAPER_PLATEAUS if paper is None else paper
    empty = {"paper_task": "–", "paper_low": math.nan, "paper_high": math.nan}
    out = bounds[["task", "kind", "alpha_low", "alpha_high", "assd_alpha", "assd_in_bounds",
                  "assd_meets_criteria"]].copy()
    out.insert(4, "width", out["alpha_high"] / out["alpha_low"])
    stated = pd.DataFrame([dict(paper.get(kind, empty)) for kind in out["kind"]],
                          index=out.index, columns=list(empty))
    out = pd.concat([out, stated], axis=1)
    out["paper_width"] = out["paper_high"] / out["paper_low"]
    return out


def _yes_no(value: Any) -> Any:
    """``"yes"``/``"no"`` for a boolean (numpy's included), the value otherwise."""
    return ("yes" if value else "no") if isinstance(value, (bool, np.bool_)) else value


def plateau_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`plateau_table` turned for the book's page: one column per task, one row per
    quantity, so that it fits the page however long the task names are.

    Args:
        table: :func:`plateau_table` output.

    Returns:
        Columns: the tasks; index ``(what, quantity)``: ``this run`` (``α low``, ``α high``,
        ``width``), ``ASSD`` (``α``, ``in bounds``, ``meets criteria``, "yes" or "no") and
        ``paper`` (``task``, ``α low``, ``α high``, ``width``); values as in ``table``
        (floats, NaN where there is none).

    Raises:
        ValueError: ``table`` lacks a column of :func:`plateau_table`'s.
    """
    rows = {("this run", "α low"): "alpha_low", ("this run", "α high"): "alpha_high",
            ("this run", "width"): "width", ("ASSD", "α"): "assd_alpha",
            ("ASSD", "in bounds"): "assd_in_bounds",
            ("ASSD", "meets criteria"): "assd_meets_criteria",
            ("paper", "task"): "paper_task", ("paper", "α low"): "paper_low",
            ("paper", "α high"): "paper_high", ("paper", "width"): "paper_width"}
    _require_columns(table, "table", ["task", *rows.values()])
    shown = pd.DataFrame({key: table[column].map(_yes_no).to_list()
                          for key, column in rows.items()},
                         index=pd.Index(table["task"], name="task"), dtype=object)
    shown.columns = pd.MultiIndex.from_tuples(list(rows), names=["", "quantity"])
    return shown.T


def sensitivity_display(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """The plateau found under several tolerances, with short labels for the book's page.

    Args:
        sensitivity: :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds` outputs,
            one per tolerance pair, concatenated, with the columns ``tolerance`` and
            ``mia_tolerance`` added.

    Returns:
        Index ``(tolerance (Dr / MIA), task)`` in the order of ``sensitivity``, the first
        level as ``"2 / 5"`` (points); columns ``α low``, ``α high``, ``points``,
        ``ASSD α``, ``in bounds`` and ``meets criteria`` ("yes" or "no").

    Raises:
        ValueError: ``sensitivity`` lacks one of the columns ``task, tolerance,
            mia_tolerance, alpha_low, alpha_high, n_points, assd_alpha, assd_in_bounds,
            assd_meets_criteria``.
    """
    columns = {"alpha_low": "α low", "alpha_high": "α high", "n_points": "points",
               "assd_alpha": "ASSD α", "assd_in_bounds": "in bounds",
               "assd_meets_criteria": "meets criteria"}
    _require_columns(sensitivity, "sensitivity",
                     ["task", "tolerance", "mia_tolerance", *columns])
    tolerance = [f"{t:g} / {m:g}" for t, m in zip(sensitivity["tolerance"],
                                                    sensitivity["mia_tolerance"], strict=True)]
    shown = sensitivity[list(columns)].rename(columns=columns)
    for name in ("in bounds", "meets criteria"):
        shown[name] = shown[name].map(_yes_no)
    shown.index = pd.MultiIndex.from_arrays([tolerance, sensitivity["task"].to_list()],
                                            names=["tolerance (Dr / MIA)", "task"])
    return shown
