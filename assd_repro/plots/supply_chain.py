"""Tables and figures of the supply-chain chapters (paper section 6.2, Table 4, Figs. 4-5).

Inputs are the frames of :mod:`assd_repro.experiments.error_stats` (:func:`cell_statistics`,
:func:`scenario_gains`) and the tidy rows of
:func:`~assd_repro.experiments.detect_unlearn.run_detect_unlearn`. Accuracies are in percent,
gains in percentage points, detection scores are fractions in the rows and shown in percent.
Every helper returns a new ``Figure`` or frame and modifies nothing it is given; matplotlib is
imported inside the functions. Figures are sized for the book's page width (about 7 in).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assd_repro.plots import METHOD_COLORS, METHOD_LABELS, format_mean_std

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DETECT_COLORS",
    "DETECT_LABELS",
    "SIZE_LABELS",
    "data_overview_display",
    "detection_table",
    "format_p",
    "init_table",
    "init_welch_table",
    "p_value_table",
    "paired_table",
    "plot_accuracy_by_error",
    "plot_detection",
    "plot_gain_by_size",
    "plot_gain_distribution",
    "plot_paired_differences",
    "plot_strategy_gains",
    "strategy_gain_table",
    "table4",
    "table4_accuracies",
    "training_check_table",
    "verdict_table",
]

#: Display names of the MLP sizes (layers x neurons per layer), largest first as in Table 4.
SIZE_LABELS: dict[str, str] = {"5x250": "5x250 (large)", "3x100": "3x100 (medium)",
                               "2x50": "2x50 (small)"}
#: Display names of the detect-then-unlearn strategies.
DETECT_LABELS: dict[str, str] = {
    "baseline": "Baseline (do nothing)",
    "assd_detected": "ASSD on the flagged rows",
    "assd_oracle": "ASSD on the true error rows",
    "retrain_detected": "Retrain without the flagged rows",
}
#: One colour per detect-then-unlearn strategy (colour-blind safe).
DETECT_COLORS: dict[str, str] = {
    "baseline": METHOD_COLORS["baseline"],
    "assd_detected": METHOD_COLORS["assd"],
    "assd_oracle": "#cc79a7",
    "retrain_detected": METHOD_COLORS["retrain"],
}
_SHORT_DETECT_LABELS: dict[str, str] = {"assd_detected": "ASSD, flagged rows",
                                         "assd_oracle": "ASSD, true errors",
                                         "retrain_detected": "retrain w/o flagged"}
_METHODS: tuple[str, ...] = ("baseline", "retrain", "finetune", "assd")
_PAPER_NAMES: dict[str, str] = {"baseline": "baseline", "retrain": "retrain",
                                "finetune": "finetune", "assd": "unlearn"}
_SCORE_COLORS: dict[str, str] = {"precision": "#0072b2", "recall": "#e69f00", "f1": "#009e73"}
_SCORE_LABELS: dict[str, str] = {"precision": "precision", "recall": "recall", "f1": "F1"}


def _require(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks the column(s) {missing}; pass the output of {source}")


def _split(frame: pd.DataFrame, split: str, what: str) -> pd.DataFrame:
    """The rows of ``split``; a ValueError naming the splits present when there are none."""
    rows = frame[frame["split"] == split]
    if rows.empty:
        raise ValueError(f"split={split!r} has no rows; the {what} hold "
                         f"{sorted(set(frame['split']))}")
    return rows


def _sizes(values: pd.Series) -> list[str]:
    """The model sizes present, in Table 4's order (largest first), unknown sizes last."""
    seen = list(dict.fromkeys(values.astype(str)))
    return [s for s in SIZE_LABELS if s in seen] + [s for s in seen if s not in SIZE_LABELS]


def format_p(p: Any) -> str:
    """A p-value for a table: ``"<0.001"``, ``"0.042"``; strings (the paper's ``"<0.05"``) as
    given; ``"–"`` for NaN or None."""
    if isinstance(p, str):
        return p or "–"
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _pct(value: float) -> str:
    return f"{value:g}%"


def _signed(value: float, digits: int) -> str:
    return "–" if math.isnan(value) else f"{value:+.{digits}f}"



def _method_cells(row: Mapping[str, Any], ref: Any, digits: int) -> dict[tuple[str, str], str]:
    """``(method label, "ours"/"paper") -> "mean ± std"`` of one cell (paper: "–" when absent)."""
    cells: dict[tuple[str, str], str] = {}
    for m in _METHODS:
        label = METHOD_LABELS.get(m, m)
        cells[(label, "ours")] = format_mean_std(row.get(f"{m}_mean", math.nan),
                                                 row.get(f"{m}_std"), digits)
        name = _PAPER_NAMES[m]
        cells[(label, "paper")] = ("–" if ref is None else format_mean_std(
            float(ref[f"{name}_mean"]), float(ref[f"{name}_std"]), digits))
    return cells


def table4(stats: pd.DataFrame, paper: pd.DataFrame | None = None, *, split: str | None = "test",
           digits: int = 2) -> pd.DataFrame:
    """Table 4 with our numbers beside the paper's, as strings for the book.

    Args:
        stats: output of :func:`~assd_repro.experiments.error_stats.cell_statistics`.
        paper: the paper's Table 4 (:func:`~assd_repro.paper.paper_table` ``("error_unlearning")``);
            None loads it.
        split: ``"test"`` or ``"train"`` (Dr with its true labels) to show one split; None: both.
        digits: decimals of the accuracies (percent).

    Returns:
        Index ``(model size, error, split)`` in the order of ``stats``; two-level columns: per
        method (Baseline, Retrain, Fine-tune, ASSD) ``ours`` and ``paper`` (mean ± std over the
        scenarios, %); ``ASSD − baseline`` (mean gain, points) ``ours`` and ``paper``;
        ``ASSD ours − paper`` (points); ``p-value`` ``ttest_ind`` (ours, the authors' test),
        ``ttest_rel`` (ours, paired) and ``paper`` (as printed). Cells the paper lacks show "–".

    Raises:
        ValueError: ``stats`` lacks one of the columns ``model_size, error_pct, split,
            baseline_mean, assd_mean, p_ttest_ind, p_ttest_rel``, or ``paper`` one of
            ``model_size, split, error_pct, baseline_mean, unlearn_mean, p_value`` (names
            them); ``split`` has no row in ``stats`` (lists the splits present); ``stats`` has
            no row (``split=None``).
    """
    from assd_repro.paper import paper_table

    _require(stats, ["model_size", "error_pct", "split", "baseline_mean", "assd_mean",
                     "p_ttest_ind", "p_ttest_rel"], "cell_statistics")
    paper = paper_table("error_unlearning") if paper is None else paper
    _require(paper, ["model_size", "split", "error_pct", "baseline_mean", "unlearn_mean",
                     "p_value"], 'paper_table("error_unlearning")')
    ours = stats if split is None else _split(stats, split, "statistics")
    if ours.empty:
        raise ValueError("stats has no row: pass cell_statistics(rows) of a finished run")
    keyed = paper.assign(_key=paper["error_pct"].astype(float).round(4)).set_index(
        ["model_size", "split", "_key"])
    index, records = [], []
    for r in ours.itertuples(index=False):
        row = r._asdict()
        key = (row["model_size"], row["split"], round(float(row["error_pct"]), 4))
        ref = keyed.loc[key] if key in keyed.index else None
        cells: dict[tuple[str, str], str] = _method_cells(row, ref, digits)
        gain = row["assd_mean"] - row["baseline_mean"]
        paper_gain = math.nan if ref is None else ref["unlearn_mean"] - ref["baseline_mean"]
        versus = math.nan if ref is None else row["assd_mean"] - ref["unlearn_mean"]
        cells[("ASSD − baseline", "ours")] = _signed(gain, digits)
        cells[("ASSD − baseline", "paper")] = _signed(paper_gain, digits)
        cells[("ASSD ours − paper", "")] = _signed(versus, digits)
        cells[("p-value", "ttest_ind")] = format_p(row["p_ttest_ind"])
        cells[("p-value", "ttest_rel")] = format_p(row["p_ttest_rel"])
        cells[("p-value", "paper")] = "–" if ref is None else format_p(str(ref["p_value"]))
        index.append((row["model_size"], _pct(float(row["error_pct"])), row["split"]))
        records.append(cells)
    columns = pd.MultiIndex.from_tuples(list(records[0]))
    table = pd.DataFrame([[c[k] for k in columns] for c in records], columns=columns,
                         index=pd.MultiIndex.from_tuples(index, names=["model size", "error",
                                                                        "split"]))
    return table.droplevel("split") if split is not None else table


def plot_accuracy_by_error(stats: pd.DataFrame, *, split: str = "test",
                           methods: Sequence[str] = _METHODS, title: str | None = None) -> Figure:
    """Accuracy against the share of wrong labels, one panel per model size (Fig. 4's subject).

    Args:
        stats: output of :func:`~assd_repro.experiments.error_stats.cell_statistics`.
        split: ``"test"`` or ``"train"``.
        methods: methods to draw, each a line (mean over scenarios) with a band of ± one
            standard deviation.
        title: optional figure title.

    Returns:
        The figure: x the error rates (%, equally spaced, not to scale), y the accuracy (%),
        panels sharing y.

    Raises:
        ValueError: ``stats`` lacks the column ``model_size``, ``error_pct`` or ``split``;
            ``split`` has no row (lists the splits present).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    _require(stats, ["model_size", "error_pct", "split"], "cell_statistics")
    data = _split(stats, split, "statistics")
    sizes = _sizes(data["model_size"])
    fig, axes = plt.subplots(1, len(sizes), squeeze=False, sharey=True, layout="constrained",
                             figsize=(max(3.6, 2.35 * len(sizes) + 0.3), 3.3))
    pcts = sorted(set(data["error_pct"].astype(float)))
    for ax, size in zip(axes[0], sizes, strict=True):
        panel = data[data["model_size"] == size].sort_values("error_pct")
        x = np.searchsorted(pcts, panel["error_pct"].to_numpy(dtype=float))
        for m in methods:
            if f"{m}_mean" not in panel.columns:
                continue
            mean = panel[f"{m}_mean"].to_numpy(dtype=float)
            std = panel[f"{m}_std"].fillna(0.0).to_numpy(dtype=float)
            color = METHOD_COLORS.get(m, "grey")
            ax.plot(x, mean, marker="o", ms=3.5, lw=1.4, color=color)
            ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.15, lw=0)
        ax.set_xticks(range(len(pcts)), [f"{p:g}" for p in pcts])
        ax.set_xlim(-0.4, len(pcts) - 0.6)
        ax.set_title(SIZE_LABELS.get(size, size))
        ax.set_xlabel("wrong labels in D (%)")
    axes[0, 0].set_ylabel(f"{split} accuracy (%)")
    handles = [Line2D([], [], color=METHOD_COLORS.get(m, "grey"), marker="o", ms=3.5,
                      label=METHOD_LABELS.get(m, m)) for m in methods]
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles))
    if title:
        fig.suptitle(title)
    return fig


def _strips(ax: Axes, groups: Sequence[Sequence[np.ndarray]], labels: Sequence[str],
            colors: Sequence[str], *, seed: int = 0) -> None:
    """Dodged per-scenario points with a mean bar (and a box when a group has >= 8 points).

    ``groups[i][j]`` holds the values of x position ``i`` and series ``j``.
    """
    rng = np.random.default_rng(seed)
    n_series = len(colors)
    width = 0.8 / n_series
    for i, series in enumerate(groups):
        for j, values in enumerate(series):
            values = np.asarray(values, dtype=float)
            values = values[~np.isnan(values)]
            if values.size == 0:
                continue
            where = i + (j - (n_series - 1) / 2) * width
            if values.size >= 8:
                ax.boxplot(values, positions=[where], widths=width * 0.8, showfliers=False,
                           patch_artist=True, manage_ticks=False,
                           boxprops={"facecolor": "none", "edgecolor": colors[j], "lw": 0.9},
                           whiskerprops={"color": colors[j]}, capprops={"color": colors[j]},
                           medianprops={"color": colors[j], "lw": 0.9})
            jitter = rng.uniform(-width * 0.25, width * 0.25, values.size)
            ax.scatter(where + jitter, values, s=16, color=colors[j], alpha=0.8, lw=0, zorder=3)
            ax.hlines(values.mean(), where - width * 0.4, where + width * 0.4, color="black",
                      lw=1.6, zorder=4)
    ax.axhline(0.0, color="black", lw=0.8, ls="--", zorder=1)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.grid(axis="x", visible=False)


def plot_gain_distribution(gains: pd.DataFrame, *, split: str = "test",
                           methods: Sequence[str] = ("assd", "finetune"),
                           sizes: Sequence[str] | None = None) -> Figure:
    """Per-scenario gain over the baseline by error rate, one panel per model size (Fig. 5 a-c).

    Args:
        gains: output of :func:`~assd_repro.experiments.error_stats.scenario_gains`.
        split: ``"test"`` or ``"train"``.
        methods: methods whose ``{method}_gain`` columns are drawn side by side.
        sizes: model sizes, one panel each (default: all, largest first).

    Returns:
        The figure, panels sharing the y axis so that the sizes compare: per error rate and
        method one point per scenario (accuracy minus the baseline's, percentage points), a
        black bar at their mean, a box when there are at least 8 scenarios, and a dashed zero
        line (no change).

    Raises:
        ValueError: ``gains`` lacks ``model_size``, ``error_pct``, ``split`` or a
            ``{method}_gain`` column of ``methods``; ``split`` has no row; a size in ``sizes``
            is not in the gains (lists those present).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    _require(gains, ["model_size", "error_pct", "split", *(f"{m}_gain" for m in methods)],
             "scenario_gains")
    data = _split(gains, split, "gains")
    present = _sizes(data["model_size"])
    shown = list(sizes) if sizes is not None else present
    unknown = [s for s in shown if s not in present]
    if unknown:
        raise ValueError(f"sizes {unknown} are not in the gains; they hold {present}")
    pcts = sorted(set(data["error_pct"].astype(float)))
    colors = [METHOD_COLORS.get(m, "grey") for m in methods]
    fig, axes = plt.subplots(len(shown), 1, squeeze=False, sharex=True, sharey=True,
                             figsize=(7.0, 1.9 * len(shown) + 0.7), layout="constrained")
    for k, (ax, size) in enumerate(zip(axes[:, 0], shown, strict=True)):
        panel = data[data["model_size"] == size]
        groups = [[panel.loc[panel["error_pct"] == p, f"{m}_gain"].to_numpy() for m in methods]
                  for p in pcts]
        _strips(ax, groups, [_pct(p) for p in pcts], colors, seed=k)
        ax.set_title(f"({chr(ord('a') + k)}) {SIZE_LABELS.get(size, size)}", loc="left")
        ax.set_ylabel("gain (points)")
    axes[-1, 0].set_xlabel(f"wrong labels in D (%); gain = {split} accuracy − baseline's")
    handles = [Line2D([], [], ls="none", marker="o", ms=4, color=c, label=METHOD_LABELS.get(m, m))
               for m, c in zip(methods, colors, strict=True)]
    handles.append(Line2D([], [], color="black", lw=1.6, label="mean"))
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles))
    return fig


def _detect_frame(rows: pd.DataFrame) -> pd.DataFrame:
    _require(rows, ["error_pct", "replicate", "method", "metric", "value"], "run_detect_unlearn")
    return rows


def _detect_strategies(rows: pd.DataFrame) -> list[str]:
    present = set(rows["method"])
    return [m for m in DETECT_LABELS if m in present and m != "baseline"]


def _detect_table(rows: pd.DataFrame, digits: int, groups: Sequence[str]) -> pd.DataFrame:
    """The column groups ``groups`` of the detection report (see :func:`detection_table`
    and :func:`strategy_gain_table`), index ``error``."""
    from assd_repro.experiments.detect_unlearn import summarize_detection

    summary = summarize_detection(_detect_frame(rows)).set_index(["error_pct", "method", "metric"])
    gain_head = "gain over baseline (points)"
    out = {}
    for pct in sorted(set(rows["error_pct"].astype(float))):
        def cell(method: str, metric: str, scale: float = 1.0, d: int = digits,
                 pct: float = pct) -> str:
            key = (pct, method, metric)
            if key not in summary.index:
                return "–"
            r = summary.loc[key]
            return _nowrap(format_mean_std(float(r["mean"]) * scale, float(r["std"]) * scale,
                                           d))

        cells = {
            ("detection", "true errors"): cell("detection", "n_errors", d=0),
            ("detection", "flagged"): cell("detection", "n_flagged", d=0),
            ("detection", "precision (%)"): cell("detection", "precision", 100.0),
            ("detection", "recall (%)"): cell("detection", "recall", 100.0),
            ("test accuracy (%)", "baseline"): cell("baseline", "test_accuracy"),
            **{(gain_head, _SHORT_DETECT_LABELS[m]): cell(m, "gain")
               for m in _detect_strategies(rows)},
        }
        out[_pct(pct)] = {key: value for key, value in cells.items() if key[0] in groups}
    table = pd.DataFrame.from_dict(out, orient="index")
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    table.index.name = "error"
    return table


def detection_table(rows: pd.DataFrame, *, digits: int = 1) -> pd.DataFrame:
    """How well the detection finds the wrong labels, per error rate, as strings for the book.

    The accuracies and gains are in :func:`strategy_gain_table`, with the same index: one
    table holding both would not fit the book's page.

    Args:
        rows: the tidy rows of :func:`~assd_repro.experiments.detect_unlearn.run_detect_unlearn`.
        digits: decimals of precision and recall (%); the row counts have none.

    Returns:
        Index ``error`` (e.g. ``"5%"``); columns ``(detection, true errors)`` and
        ``(detection, flagged)`` (rows) and ``(detection, precision (%))`` and
        ``(detection, recall (%))``, each mean ± std over the replicates (non-breaking
        spaces).

    Raises:
        ValueError: ``rows`` lacks one of the columns ``error_pct, replicate, method, metric,
            value``; it has no row.
    """
    return _detect_table(rows, digits, ["detection"])


def strategy_gain_table(rows: pd.DataFrame, *, digits: int = 2) -> pd.DataFrame:
    """The baseline's test accuracy and each strategy's gain over it, per error rate, as
    strings for the book.

    Args:
        rows: the tidy rows of :func:`~assd_repro.experiments.detect_unlearn.run_detect_unlearn`.
        digits: decimals of accuracies and gains.

    Returns:
        Index ``error`` as :func:`detection_table`'s; columns ``(test accuracy (%),
        baseline)`` and ``(gain over baseline (points), <strategy>)``, one per strategy (short
        names of :data:`DETECT_LABELS`), each mean ± std over the replicates (non-breaking
        spaces).

    Raises:
        ValueError: ``rows`` lacks one of the columns ``error_pct, replicate, method, metric,
            value``; it has no row.
    """
    return _detect_table(rows, digits, ["test accuracy (%)", "gain over baseline (points)"])


def plot_detection(rows: pd.DataFrame) -> Figure:
    """How well cleanlab finds the wrong labels, by error rate.

    Args:
        rows: the tidy rows of :func:`~assd_repro.experiments.detect_unlearn.run_detect_unlearn`.

    Returns:
        Two panels: (a) precision, recall and F1 (%, mean ± std over replicates, points per
        replicate); (b) rows flagged against rows truly wrong (mean ± std).

    Raises:
        ValueError: ``rows`` lacks one of the columns ``error_pct, replicate, method, metric,
            value``; it holds no row of method ``"detection"``.
    """
    import matplotlib.pyplot as plt

    data = _detect_frame(rows)
    det = data[data["method"] == "detection"]
    if det.empty:
        raise ValueError("rows hold no 'detection' method; pass the rows of run_detect_unlearn")
    pcts = sorted(set(det["error_pct"].astype(float)))
    x = np.arange(len(pcts), dtype=float)
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(7.0, 3.0), layout="constrained")
    for j, metric in enumerate(_SCORE_LABELS):
        part = det[det["metric"] == metric]
        offset = (j - 1) * 0.12
        stats = part.groupby("error_pct")["value"].agg(["mean", "std"]).reindex(pcts) * 100
        ax_a.errorbar(x + offset, stats["mean"], yerr=stats["std"].fillna(0.0), marker="o",
                      ms=4, capsize=2, lw=1.2, color=_SCORE_COLORS[metric],
                      label=_SCORE_LABELS[metric])
        for i, p in enumerate(pcts):
            values = part.loc[part["error_pct"] == p, "value"].to_numpy(dtype=float) * 100
            ax_a.scatter(np.full(values.size, x[i] + offset), values, s=8, alpha=0.4,
                         color=_SCORE_COLORS[metric], lw=0)
    ax_a.set_ylim(0, 105)
    ax_a.set_ylabel("score (%)")
    ax_a.set_title("(a) cleanlab against the true errors", loc="left")
    ax_a.legend(loc="lower right", fontsize="small")
    width = 0.38
    for j, (metric, label, color) in enumerate([("n_errors", "truly wrong", "#999999"),
                                                ("n_flagged", "flagged by cleanlab",
                                                 DETECT_COLORS["assd_detected"])]):
        stats = det[det["metric"] == metric].groupby("error_pct")["value"].agg(
            ["mean", "std"]).reindex(pcts)
        ax_b.bar(x + (j - 0.5) * width, stats["mean"], width, yerr=stats["std"].fillna(0.0),
                 color=color, label=label, error_kw={"elinewidth": 0.8, "capsize": 2})
    ax_b.set_ylabel("training rows")
    ax_b.set_title("(b) rows flagged and rows wrong", loc="left")
    ax_b.legend(loc="upper left", fontsize="small")
    for ax in (ax_a, ax_b):
        ax.set_xticks(x, [_pct(p) for p in pcts])
        ax.set_xlim(-0.6, len(pcts) - 0.4)
        ax.set_xlabel("wrong labels in D (%)")
    return fig


def plot_strategy_gains(rows: pd.DataFrame,
                        strategies: Sequence[str] | None = None) -> Figure:
    """Test-accuracy gain over the baseline of each strategy, per replicate and error rate.

    Args:
        rows: the tidy rows of :func:`~assd_repro.experiments.detect_unlearn.run_detect_unlearn`.
        strategies: methods to show (default: ``assd_detected``, ``assd_oracle``,
            ``retrain_detected`` where present).

    Returns:
        The figure: per error rate and strategy one point per replicate (points), a black bar
        at their mean and a dashed zero line.

    Raises:
        ValueError: ``rows`` lacks one of the columns ``error_pct, replicate, method, metric,
            value``; a strategy in ``strategies`` has no row (lists the methods present).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    data = _detect_frame(rows)
    shown = list(strategies) if strategies is not None else _detect_strategies(data)
    unknown = [m for m in shown if m not in set(data["method"])]
    if unknown:
        raise ValueError(f"strategies {unknown} have no row; the rows hold the methods "
                         f"{sorted(set(data['method']))}")
    gains = data[data["metric"] == "gain"]
    pcts = sorted(set(gains["error_pct"].astype(float)))
    colors = [DETECT_COLORS.get(m, "grey") for m in shown]
    groups = [[gains.loc[(gains["error_pct"] == p) & (gains["method"] == m), "value"].to_numpy()
               for m in shown] for p in pcts]
    fig, ax = plt.subplots(figsize=(7.0, 3.2), layout="constrained")
    _strips(ax, groups, [_pct(p) for p in pcts], colors)
    ax.set_xlabel("wrong labels in D (%)")
    ax.set_ylabel("test accuracy − baseline's (points)")
    handles = [Line2D([], [], ls="none", marker="o", ms=4, color=c, label=DETECT_LABELS.get(m, m))
               for m, c in zip(shown, colors, strict=True)]
    handles.append(Line2D([], [], color="black", lw=1.6, label="mean"))
    fig.legend(handles=handles, loc="outside upper center", ncols=2, fontsize="small")
    return fig


# --------------------------------------------------------------------------------------------
# The chapter's report: accuracies, paired differences, verdicts, per data source
# --------------------------------------------------------------------------------------------

_COMPARISON_LABELS: dict[str, str] = {"assd": "ASSD − baseline",
                                      "finetune": "Fine-tune − baseline",
                                      "retrain": "Retrain − baseline"}


def _paper_cells(paper: pd.DataFrame | None) -> pd.DataFrame:
    """The paper's Table 4, test split, indexed by ``(model_size, error_pct rounded)``."""
    from assd_repro.paper import paper_table

    paper = paper_table("error_unlearning") if paper is None else paper
    _require(paper, ["model_size", "split", "error_pct", "baseline_mean", "unlearn_mean",
                     "p_value"], 'paper_table("error_unlearning")')
    test = paper[paper["split"] == "test"]
    return test.assign(_key=test["error_pct"].astype(float).round(4)).set_index(
        ["model_size", "_key"])


def _wrap(label: str, width: int = 24) -> str:
    """A panel title broken into lines of at most ``width`` characters."""
    import textwrap

    return "\n".join(textwrap.wrap(label, width)) or label


def _nowrap(text: str) -> str:
    """``text`` with non-breaking spaces: a table too wide for the page then scrolls in its
    box instead of breaking a value such as ``"+0.12 [-0.34, +0.56]"`` over lines."""
    return text.replace(" ", "\u00a0")


def _interval(mean: float, low: float, high: float, digits: int) -> str:
    """``"+0.12 [-0.34, +0.56]"`` (non-breaking spaces); the mean alone without bounds."""
    if math.isnan(mean):
        return "–"
    if math.isnan(low) or math.isnan(high):
        return _signed(mean, digits)
    return _nowrap(f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]")


def table4_accuracies(stats: pd.DataFrame, paper: pd.DataFrame | None = None, *,
                      split: str = "test", digits: int = 2) -> pd.DataFrame:
    """Table 4's accuracies, ours above the paper's, as strings for the book.

    Two rows per cell, ours and the paper's, keep the table five columns wide, so that it
    fits the book's page (about 780 px at a 1,400 px window) without wrapping a value.

    Args:
        stats: output of :func:`~assd_repro.experiments.error_stats.cell_statistics`.
        paper: the paper's Table 4 (None loads it); its test split is shown beside ``split``.
        split: ``"test"`` or ``"train"``.
        digits: decimals (percent).

    Returns:
        Index ``(model size, error, "")``, the last level ``"ours"`` or ``"paper"``; columns
        ``scenarios`` (ours; blank in the paper's row) and one per method (Baseline,
        Retrain, Fine-tune, ASSD): mean ± standard deviation over the scenarios (%), with
        non-breaking spaces (a narrow page scrolls the table rather than break a value); "–"
        where the paper has no cell.

    Raises:
        ValueError: ``stats`` lacks ``model_size``, ``error_pct``, ``split`` or
            ``n_scenarios``; ``split`` has no row.
    """
    _require(stats, ["model_size", "error_pct", "split", "n_scenarios"], "cell_statistics")
    ours = _split(stats, split, "statistics")
    keyed = _paper_cells(paper)
    records, index = [], []
    for row in ours.to_dict("records"):
        key = (row["model_size"], round(float(row["error_pct"]), 4))
        ref = keyed.loc[key] if key in keyed.index else None
        cells = _method_cells(row, ref, digits)
        for source, scenarios in (("ours", int(row["n_scenarios"])), ("paper", "")):
            records.append({"scenarios": scenarios,
                            **{label: _nowrap(value) for (label, which), value in cells.items()
                               if which == source}})
            index.append((row["model_size"], _pct(float(row["error_pct"])), source))
    return pd.DataFrame(records, index=pd.MultiIndex.from_tuples(
        index, names=["model size", "error", ""]))


def _two_level_table(records: Sequence[Mapping[tuple[str, str], Any]], index: Any
                     ) -> pd.DataFrame:
    """A frame of ``records`` (keys ``(group, column)``) with a two-level column header."""
    table = pd.DataFrame(list(records), index=index)
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


def _paired_rows(paired: pd.DataFrame, paper: pd.DataFrame | None
                 ) -> tuple[list[dict[str, Any]], pd.MultiIndex]:
    """Each row of ``paired`` with the paper's cell (None where it has none), and the index
    ``(model size, error, comparison)`` of the paired tables."""
    _require(paired, ["model_size", "error_pct", "method", "n", "diff_mean", "ci_low",
                      "ci_high", "p_paired", "p_paired_holm", "p_ind", "p_ind_holm", "mde"],
             "paired_comparisons")
    if paired.empty:
        raise ValueError("paired has no row: pass paired_comparisons(rows) of a finished run")
    keyed = _paper_cells(paper)
    rows, index = [], []
    for row in paired.to_dict("records"):
        key = (row["model_size"], round(float(row["error_pct"]), 4))
        rows.append({**row, "_ref": keyed.loc[key] if key in keyed.index else None})
        index.append((row["model_size"], _pct(float(row["error_pct"])),
                      _COMPARISON_LABELS.get(row["method"], f"{row['method']} − baseline")))
    return rows, pd.MultiIndex.from_tuples(index, names=["model size", "error", "comparison"])


def paired_table(paired: pd.DataFrame, paper: pd.DataFrame | None = None, *,
                 digits: int = 2) -> pd.DataFrame:
    """Paired differences against the baseline per cell and method, as strings for the book.

    Their p-values are in :func:`p_value_table`, with the same index: one table holding both
    would not fit the book's page.

    Args:
        paired: output of :func:`~assd_repro.experiments.error_stats.paired_comparisons`
            against the baseline.
        paper: the paper's Table 4 (None loads it).
        digits: decimals of the differences (points).

    Returns:
        Index ``(model size, error, comparison)`` (``"ASSD − baseline"``, ...); columns
        ``(n, "")``, ``(difference (points), ours [95 % CI])`` (``"+0.12 [-0.34, +0.56]"``,
        with non-breaking spaces) and ``(..., paper)`` (the difference of the paper's means)
        and ``(MDE (points), 80 % power)``.

    Raises:
        ValueError: ``paired`` lacks a column of ``paired_comparisons``; it has no row.
    """
    rows, index = _paired_rows(paired, paper)
    records = []
    for row in rows:
        ref = row["_ref"]
        paper_diff = (math.nan if ref is None else
                      float(ref[f"{_PAPER_NAMES[row['method']]}_mean"] - ref["baseline_mean"]))
        records.append({
            ("n", ""): int(row["n"]),
            ("difference (points)", "ours [95 % CI]"): _interval(
                row["diff_mean"], row["ci_low"], row["ci_high"], digits),
            ("difference (points)", "paper"): _signed(paper_diff, digits),
            ("MDE (points)", "80 % power"): ("–" if math.isnan(row["mde"])
                                             else f"{row['mde']:.{digits}f}"),
        })
    return _two_level_table(records, index)


def p_value_table(paired: pd.DataFrame, paper: pd.DataFrame | None = None) -> pd.DataFrame:
    """The p-values of the paired differences of :func:`paired_table`, as strings for the book.

    Args:
        paired: output of :func:`~assd_repro.experiments.error_stats.paired_comparisons`
            against the baseline.
        paper: the paper's Table 4 (None loads it).

    Returns:
        Index ``(model size, error, comparison)`` as :func:`paired_table`'s; columns
        ``(paired t-test, raw)`` and ``(paired t-test, Holm)``, ``(unpaired (authors'),
        raw / Holm / paper)`` (the paper's p, for ASSD only; "–" elsewhere).

    Raises:
        ValueError: ``paired`` lacks a column of ``paired_comparisons``; it has no row.
    """
    rows, index = _paired_rows(paired, paper)
    records = []
    for row in rows:
        ref = row["_ref"]
        records.append({
            ("paired t-test", "raw"): format_p(row["p_paired"]),
            ("paired t-test", "Holm"): format_p(row["p_paired_holm"]),
            ("unpaired (authors')", "raw"): format_p(row["p_ind"]),
            ("unpaired (authors')", "Holm"): format_p(row["p_ind_holm"]),
            ("unpaired (authors')", "paper"): ("–" if ref is None or row["method"] != "assd"
                                               else format_p(str(ref["p_value"]))),
        })
    return _two_level_table(records, index)


def init_table(init: pd.DataFrame, *, digits: int = 2) -> pd.DataFrame:
    """Shared against own initial weights, per cell and initialisation, as strings for the
    book; the Welch comparison of the two is :func:`init_welch_table`.

    Args:
        init: output of :func:`~assd_repro.experiments.error_headlines.init_comparison`.
        digits: decimals (percent and points).

    Returns:
        Index ``(model size, error, init)``, the two initialisations of a cell together;
        columns ``(n, "")``, ``(baseline (%), mean ± sd)`` over the scenarios,
        ``(ASSD − baseline (points), ours [95 % CI])`` (the paired interval) and
        ``(..., verdict)`` (of a gain > 0); values with non-breaking spaces.

    Raises:
        ValueError: ``init`` lacks one of the columns ``n, baseline_mean, baseline_std, gain,
            ci_low, ci_high, verdict``.
    """
    _require(init, ["n", "baseline_mean", "baseline_std", "gain", "ci_low", "ci_high",
                    "verdict"], "init_comparison")
    cells = list(dict.fromkeys((size, pct) for size, pct, _ in init.index))
    order = sorted(range(len(init)), key=lambda i: cells.index(init.index[i][:2]))
    records, index = [], []
    for key, row in ((init.index[i], init.iloc[i].to_dict()) for i in order):
        size, pct, how = key
        records.append({
            ("n", ""): int(row["n"]),
            ("baseline (%)", "mean ± sd"): _nowrap(format_mean_std(
                float(row["baseline_mean"]), float(row["baseline_std"]), digits)),
            ("ASSD − baseline (points)", "ours [95 % CI]"): _interval(
                row["gain"], row["ci_low"], row["ci_high"], digits),
            ("ASSD − baseline (points)", "verdict"): row["verdict"],
        })
        index.append((size, _pct(float(pct)), how))
    table = pd.DataFrame(records, index=pd.MultiIndex.from_tuples(
        index, names=["model size", "error", "init"]))
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


def init_welch_table(init: pd.DataFrame, *, digits: int = 2) -> pd.DataFrame:
    """Welch's comparison of ASSD's gain under shared and own initial weights, per cell, as
    strings for the book (the rows of :func:`init_table` are its inputs).

    Args:
        init: output of :func:`~assd_repro.experiments.error_headlines.init_comparison`.
        digits: decimals of the difference (points).

    Returns:
        Index ``(model size, error)``, one row per cell with a Welch comparison; columns
        ``(gain, shared − own (points), difference [95 % CI])`` (non-breaking spaces) and
        ``(..., p)``.

    Raises:
        ValueError: ``init`` lacks one of the columns ``welch_diff, welch_low, welch_high,
            welch_p``.
    """
    _require(init, ["welch_diff", "welch_low", "welch_high", "welch_p"], "init_comparison")
    head = "gain, shared − own (points)"
    records, index = [], []
    for key, row in zip(init.index, init.to_dict("records"), strict=True):
        if pd.isna(row["welch_diff"]):
            continue
        records.append({(head, "difference [95 % CI]"): _interval(
                            row["welch_diff"], row["welch_low"], row["welch_high"], digits),
                        (head, "p"): format_p(row["welch_p"])})
        index.append((key[0], _pct(float(key[1]))))
    columns = pd.MultiIndex.from_tuples([(head, "difference [95 % CI]"), (head, "p")])
    return pd.DataFrame(records, columns=columns, index=pd.MultiIndex.from_tuples(
        index, names=["model size", "error"]) if index else None)


def data_overview_display(overview: pd.DataFrame) -> Styler:
    """:func:`~assd_repro.experiments.error_headlines.data_overview` turned for a page: one
    column per data source, one row per property; a long file name in the ``data`` row may
    break anywhere, so three sources fit a 1,400 px page.

    Raises:
        ValueError: ``overview`` has no ``data`` column.
    """
    _require(overview, ["data"], "data_overview")
    turned = overview.T.astype(str)
    return turned.style.set_properties(subset=pd.IndexSlice[["data"], :],
                                       **{"overflow-wrap": "anywhere"})


def training_check_table(checks: Mapping[str, pd.DataFrame], *, digits: int = 2) -> pd.DataFrame:
    """The baselines beside a logistic regression and the majority class, as strings for the
    book: one row per data source and model.

    Args:
        checks: data-source label -> output of
            :func:`~assd_repro.experiments.error_headlines.training_check`.
        digits: decimals (%).

    Returns:
        Index ``(data, model)`` (sizes with :data:`SIZE_LABELS`); columns ``train accuracy
        (%)`` (the baselines: the retained rows with their true labels; the regression: all
        training rows), ``test accuracy (%)`` (mean ± sd over the scenarios for the baselines)
        and ``wrong labels (%)`` (the share it was trained with); "–" where a value does not
        apply (the majority class is not trained).

    Raises:
        ValueError: a check lacks one of ``training_check``'s columns.
    """
    records, index = [], []
    for label, check in checks.items():
        _require(check, ["train_mean", "train_std", "test_mean", "test_std", "error_pct"],
                 "training_check")
        for model, row in check.iterrows():
            index.append((label, SIZE_LABELS.get(str(model), str(model))))
            records.append({
                "train accuracy (%)": _nowrap(format_mean_std(row["train_mean"],
                                                              row["train_std"], digits)),
                "test accuracy (%)": _nowrap(format_mean_std(row["test_mean"],
                                                             row["test_std"], digits)),
                "wrong labels (%)": ("–" if pd.isna(row["train_mean"])  # not trained
                                     else f"{row['error_pct']:g}")})
    return pd.DataFrame(records, index=pd.MultiIndex.from_tuples(index, names=["data", "model"]))


def verdict_table(verdicts: Mapping[str, pd.DataFrame], *, digits: int = 2) -> pd.DataFrame:
    """The verdicts of claims C4-C6 per data source, as strings for the book.

    Args:
        verdicts: data-source label -> output of
            :func:`~assd_repro.experiments.error_headlines.claim_verdicts`.
        digits: decimals of the differences (points).

    Returns:
        Index ``(data, claim, claimed, cell)``, ``claimed`` the comparison with its claimed
        sign (``"ASSD − baseline > 0"``); columns ``n``, ``ours [95 % CI]``, ``paper``
        (difference of the paper's means) and ``verdict``. The values hold non-breaking
        spaces, so that a narrow page breaks the index labels rather than the values. Empty
        (with these columns) when no claim was tested.
    """
    records, index = [], []
    for label, frame in verdicts.items():
        for row in frame.to_dict("records"):
            records.append({
                "n": int(row["n"]),
                "ours [95 % CI]": _interval(row["estimate"], row["ci_low"], row["ci_high"],
                                            digits),
                "paper": _signed(float(row["paper"]), digits), "verdict": row["verdict"]})
            sign = ">" if row["direction"] > 0 else "<"
            index.append((label, row["claim"], f"{row['comparison']} {sign}\u00a00",
                          f"{row['model_size']}, {_pct(float(row['error_pct']))}"))
    columns = ["n", "ours [95 % CI]", "paper", "verdict"]
    names = ["data", "claim", "claimed", "cell"]
    if not records:
        return pd.DataFrame(columns=columns, index=pd.MultiIndex.from_tuples([], names=names))
    return pd.DataFrame(records, columns=columns,
                        index=pd.MultiIndex.from_tuples(index, names=names))


def plot_paired_differences(paired: Mapping[str, pd.DataFrame], *,
                            methods: Sequence[str] = ("assd", "finetune")) -> Figure:
    """Mean paired difference against the baseline with its 95 % interval, by error rate
    (Fig. 4's subject): one panel per data source and method, one line per model size.

    Args:
        paired: data-source label (the panel title; say "synthetic" for synthetic data) ->
            :func:`~assd_repro.experiments.error_stats.paired_comparisons`.
        methods: methods drawn, one row of panels each.

    Returns:
        The figure; x the error rates (%, equally spaced), y the difference (points), a dashed
        zero line; each panel has its own y scale.

    Raises:
        ValueError: ``paired`` is empty; a frame lacks a column of ``paired_comparisons`` or
            holds no row of a method in ``methods``.
    """
    import matplotlib.pyplot as plt

    if not paired:
        raise ValueError("paired is empty: pass {data-source label: paired_comparisons(rows)}")
    frames = dict(paired)
    for frame in frames.values():
        _require(frame, ["model_size", "error_pct", "method", "diff_mean", "ci_low", "ci_high"],
                 "paired_comparisons")
        missing = [m for m in methods if m not in set(frame["method"])]
        if missing:
            raise ValueError(f"methods {missing} have no row; the frame holds "
                             f"{sorted(set(frame['method']))}")
    fig, axes = plt.subplots(len(methods), len(frames), squeeze=False,
                             figsize=(7.0, 2.6 * len(methods) + 0.6), layout="constrained")
    size_colors = dict(zip(SIZE_LABELS, ("#d55e00", "#0072b2", "#009e73"), strict=True))
    for j, (label, frame) in enumerate(frames.items()):
        pcts = sorted(set(frame["error_pct"].astype(float)))
        for i, m in enumerate(methods):
            ax = axes[i, j]
            part = frame[frame["method"] == m]
            sizes = _sizes(part["model_size"])
            for k, size in enumerate(sizes):
                cell = part[part["model_size"] == size].sort_values("error_pct")
                x = np.searchsorted(pcts, cell["error_pct"].to_numpy(dtype=float))
                x = x + (k - (len(sizes) - 1) / 2) * 0.12
                mean = cell["diff_mean"].to_numpy(dtype=float)
                err = np.vstack([mean - cell["ci_low"].to_numpy(dtype=float),
                                 cell["ci_high"].to_numpy(dtype=float) - mean])
                ax.errorbar(x, mean, yerr=np.nan_to_num(err), marker="o", ms=3.5, lw=1.2,
                            capsize=2, color=size_colors.get(size, "grey"),
                            label=SIZE_LABELS.get(size, size))
            ax.axhline(0.0, color="black", lw=0.8, ls="--")
            ax.set_xticks(range(len(pcts)), [f"{p:g}" for p in pcts])
            ax.set_title(f"{_wrap(label)}\n{_COMPARISON_LABELS.get(m, m)}", fontsize="small")
            if j == 0:
                ax.set_ylabel("difference (points)")
            if i == len(methods) - 1:
                ax.set_xlabel("wrong labels in D (%)")
    legend: dict[str, Any] = {}
    for ax in axes.ravel():
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(text, handle)
    order = [SIZE_LABELS.get(s, s) for s in _sizes(pd.Series([str(v) for f in frames.values()
                                                              for v in f["model_size"]]))]
    fig.legend([legend[t] for t in order if t in legend], [t for t in order if t in legend],
               loc="outside upper center", ncols=max(1, len(legend)))
    return fig


def plot_gain_by_size(gains: Mapping[str, pd.DataFrame], *, error_pct: float = 1.0,
                      methods: Sequence[str] = ("assd", "finetune")) -> Figure:
    """Per-scenario test gains over the baseline at one error rate, by model size (Fig. 5's
    subject): one panel per data source.

    Args:
        gains: data-source label (the panel title; say "synthetic" for synthetic data) ->
            :func:`~assd_repro.experiments.error_stats.scenario_gains`.
        error_pct: the error rate shown (percent).
        methods: methods whose ``{method}_gain`` is drawn side by side.

    Returns:
        The figure: per size and method one point per scenario, a black bar at their mean, a
        box from 8 scenarios on, a dashed zero line; each panel has its own y scale (the
        sources' test sets differ in size). A source without the
        error rate gets an empty panel saying so.

    Raises:
        ValueError: ``gains`` is empty; a frame lacks ``model_size``, ``error_pct``, ``split``
            or a ``{method}_gain`` column.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if not gains:
        raise ValueError("gains is empty: pass {data-source label: scenario_gains(rows)}")
    colors = [METHOD_COLORS.get(m, "grey") for m in methods]
    fig, axes = plt.subplots(1, len(gains), squeeze=False, figsize=(7.0, 3.4),
                             layout="constrained")
    for k, (ax, (label, frame)) in enumerate(zip(axes[0], gains.items(), strict=True)):
        _require(frame, ["model_size", "error_pct", "split", *(f"{m}_gain" for m in methods)],
                 "scenario_gains")
        test = frame[(frame["split"] == "test")
                     & np.isclose(frame["error_pct"].astype(float), error_pct)]
        ax.set_title(_wrap(label), fontsize="small")
        if test.empty:
            ax.text(0.5, 0.5, f"no {_pct(error_pct)} cell", ha="center", transform=ax.transAxes)
            continue
        sizes = _sizes(test["model_size"])
        groups = [[test.loc[test["model_size"] == s, f"{m}_gain"].to_numpy() for m in methods]
                  for s in sizes]
        _strips(ax, groups, sizes, colors, seed=k)
        ax.set_xlabel("model size")
    axes[0, 0].set_ylabel(f"test gain at {_pct(error_pct)} (points)")
    handles = [Line2D([], [], ls="none", marker="o", ms=4, color=c, label=METHOD_LABELS.get(m, m))
               for m, c in zip(methods, colors, strict=True)]
    handles.append(Line2D([], [], color="black", lw=1.6, label="mean"))
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles))
    return fig
