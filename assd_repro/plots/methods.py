"""Tables and figures of the method comparison (book chapter "Which method repairs label
errors?"): gains with intervals, gain against cost, and where the wrong-label rows go."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from assd_repro.data import DATACO_CLASS_NAMES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["COMPARISON_LABELS", "confusion_table", "gains_table", "method_label",
           "plot_forget_shares", "plot_gain_cost", "test_class_table"]

#: Display names of the comparison's methods; a tuned variant is ``"<method> (tuned)"``.
COMPARISON_LABELS: dict[str, str] = {
    "finetune": "Fine-tune", "assd": "ASSD", "assd_guarded": "ASSD + guard",
    "assd_repair": "ASSD + repair", "neggrad_plus": "NegGrad+", "scrub": "SCRUB",
    "random_label": "Random labels", "salun": "SalUn", "bad_teacher": "Bad Teacher",
    "tuned_ssd": "SSD, tuned alpha", "baseline": "Baseline",
}
_PALETTE = ("#009e73", "#d55e00", "#cc79a7", "#e69f00", "#0072b2", "#56b4e9", "#999999",
            "#000000", "#f0e442", "#8c564b")
_SHARES = {"true": "#009e73", "wrong": "#d55e00", "other": "#999999"}


def method_label(method: str) -> str:
    """The display name of ``method`` (``"scrub (tuned)"`` -> ``"SCRUB (tuned)"``)."""
    base, _, variant = method.partition(" ")
    return COMPARISON_LABELS.get(base, base) + (f" {variant}" if variant else "")


def _color(method: str) -> str:
    base = method.partition(" ")[0]
    names = [m for m in COMPARISON_LABELS if m != "baseline"]
    return _PALETTE[names.index(base) % len(_PALETTE)] if base in names else "#4d4d4d"


def _require(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing or frame.empty:
        raise ValueError(f"pass the non-empty table of {source} (missing: {missing})")


def gains_table(gains: pd.DataFrame, *, digits: int = 2) -> pd.DataFrame:
    """Mean gain over the baseline with its 95 % interval, ``"+0.12 [-0.05, +0.29]"``: one row
    per method (the order of ``gains``), one column per ``(error rate, model size)``; the
    cells' ``verdict`` (when present) marks a supported gain ``▲`` and a contradicted one ``▼``.

    Raises:
        ValueError: ``gains`` is empty or lacks a column of ``method_gains``.
    """
    _require(gains, ("model_size", "error_pct", "method", "gain_mean", "ci_low", "ci_high"),
             "method_gains")
    marks = {"supported": " ▲", "contradicted": " ▼"}

    def cell(r: pd.Series) -> str:
        mark = marks.get(r.get("verdict", ""), "")
        return (f"{r['gain_mean']:+.{digits}f} [{r['ci_low']:+.{digits}f}, "
                f"{r['ci_high']:+.{digits}f}]{mark}")

    frame = gains.assign(cell=gains.apply(cell, axis=1),
                         rate=gains["error_pct"].map(lambda p: f"{p:g} %"),
                         label=gains["method"].map(method_label))
    table = frame.pivot(index="label", columns=["rate", "model_size"], values="cell")
    table = table.reindex(index=list(dict.fromkeys(frame["label"])),
                          columns=list(dict.fromkeys(zip(frame["rate"], frame["model_size"],
                                                         strict=True))))
    table.index.name = "method"
    table.columns.names = ["errors", "model"]
    return table


def plot_gain_cost(gains: pd.DataFrame, *, title: str = "") -> Figure:
    """Mean gain (points, 95 % interval) against cost (seconds per scenario, log scale: the
    method's own time plus, for a tuned variant, its study's), one panel per error rate, one
    colour per method and one marker per model size.

    Raises:
        ValueError: ``gains`` is empty or lacks a column of ``method_gains``.
    """
    import matplotlib.pyplot as plt

    _require(gains, ("model_size", "error_pct", "method", "gain_mean", "ci_low", "ci_high",
                     "method_s_mean"), "method_gains")
    pcts = sorted(gains["error_pct"].unique())
    sizes = list(dict.fromkeys(gains["model_size"]))
    markers = dict(zip(sizes, "os^Dv", strict=False))
    fig, axes = plt.subplots(1, len(pcts), figsize=(3.6 * len(pcts) + 1.8, 3.8), sharey=True,
                             squeeze=False)
    tuning = gains["tuning_s"].fillna(0.0) if "tuning_s" in gains.columns else 0.0
    frame = gains.assign(cost=gains["method_s_mean"] + tuning)
    for ax, pct in zip(axes[0], pcts, strict=True):
        for r in frame[frame["error_pct"] == pct].itertuples(index=False):
            tuned = "(tuned)" in r.method
            ax.errorbar(r.cost, r.gain_mean, yerr=[[r.gain_mean - r.ci_low],
                                                   [r.ci_high - r.gain_mean]],
                        fmt=markers[r.model_size], color=_color(r.method), ms=5, lw=0.8,
                        mfc="white" if tuned else _color(r.method), capsize=0)
        ax.axhline(0.0, color="#4d4d4d", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_title(f"{pct:g} % wrong labels")
        ax.set_xlabel("seconds per scenario (tuning included)")
    axes[0][0].set_ylabel("test accuracy gain over baseline (points)")
    handles = [plt.Line2D([], [], color=_color(m), marker="o", ls="", label=method_label(m))
               for m in dict.fromkeys(m.partition(" ")[0] for m in frame["method"])]
    handles += [plt.Line2D([], [], color="#4d4d4d", marker=markers[s], ls="", label=s)
                for s in sizes]  # filled, as the defaults are drawn
    handles.append(plt.Line2D([], [], color="#4d4d4d", marker=markers[sizes[0]], ls="",
                              mfc="white", label="open: tuned"))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
               fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _pairs(summary: pd.DataFrame, size: str, pct: float) -> pd.DataFrame:
    _require(summary, ("model_size", "error_pct", "method", "true", "wrong", "forget_true",
                       "forget_wrong", "forget_other", "test_true"), "confusion_summary")
    cell = summary[(summary["model_size"] == size) & (summary["error_pct"] == pct)]
    if cell.empty:
        raise ValueError(f"the summary has no cell ({size!r}, {pct:g} %); cells: "
                         f"{sorted(set(zip(summary['model_size'], summary['error_pct'])))}")
    return cell


def _pair_name(true: int, wrong: int, names: Sequence[str]) -> str:
    return f"{names[true]} labelled {names[wrong]}"


def confusion_table(summary: pd.DataFrame, size: str, pct: float, *,
                    names: Sequence[str] = DATACO_CLASS_NAMES, digits: int = 0) -> pd.DataFrame:
    """Where the wrong-label rows go in one cell: per pair (true class, wrong label) and method,
    the mean shares of those rows predicted as their true class / their wrong label / a third
    class (%), ``"62 / 30 / 8"``.

    Raises:
        ValueError: ``summary`` is not a ``confusion_summary`` table or lacks the cell.
    """
    cell = _pairs(summary, size, pct)
    text = cell.apply(lambda r: " / ".join(f"{r[c]:.{digits}f}" for c in
                                           ("forget_true", "forget_wrong", "forget_other")),
                      axis=1)
    frame = cell.assign(text=text, pair=[_pair_name(t, w, names) for t, w in
                                         zip(cell["true"], cell["wrong"], strict=True)],
                        label=cell["method"].map(method_label))
    table = frame.pivot(index="label", columns="pair", values="text")
    table = table.reindex(index=list(dict.fromkeys(frame["label"])),
                          columns=list(dict.fromkeys(frame["pair"])))
    table.index.name = "method (true / wrong / other, %)"
    return table


def test_class_table(summary: pd.DataFrame, size: str, pct: float, *,
                     names: Sequence[str] = DATACO_CLASS_NAMES, digits: int = 1
                     ) -> pd.DataFrame:
    """The test rows of each true class predicted as that class (%, the class's recall), per
    method, in one cell: what a method does to real observations beyond the rows it forgot.

    Raises:
        ValueError: ``summary`` is not a ``confusion_summary`` table or lacks the cell.
    """
    cell = _pairs(summary, size, pct)
    recall = cell.groupby(["method", "true"], sort=False)["test_true"].mean().unstack("true")
    recall = recall.round(digits)
    recall.columns = [names[int(c)] for c in recall.columns]
    recall.index = [method_label(m) for m in recall.index]
    recall.index.name = "method (test rows of the class predicted as it, %)"
    return recall


def plot_forget_shares(summary: pd.DataFrame, size: str, pct: float, *,
                       names: Sequence[str] = DATACO_CLASS_NAMES,
                       methods: Sequence[str] | None = None,
                       labels: Mapping[str, str] | None = None) -> Figure:
    """Stacked bars of where the wrong-label rows go in one cell: one panel per pair (true
    class, wrong label), one bar per method, the shares predicted as the true class, the wrong
    label and a third class.

    Raises:
        ValueError: ``summary`` is not a ``confusion_summary`` table or lacks the cell.
    """
    import matplotlib.pyplot as plt

    cell = _pairs(summary, size, pct)
    order = list(methods or dict.fromkeys(cell["method"]))
    pairs = list(dict.fromkeys(zip(cell["true"], cell["wrong"], strict=True)))
    n_cols = min(3, len(pairs))
    n_rows = int(np.ceil(len(pairs) / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.9 * n_cols, 2.9 * n_rows + 0.6),
                             sharey=True, squeeze=False)
    for ax, (true, wrong) in zip(axes.flat, pairs, strict=False):
        part = cell[(cell["true"] == true) & (cell["wrong"] == wrong)].set_index("method")
        part = part.reindex([m for m in order if m in part.index])
        x = np.arange(len(part))
        bottom = np.zeros(len(part))
        for key, color in _SHARES.items():
            values = part[f"forget_{key}"].to_numpy(float)
            ax.bar(x, values, bottom=bottom, color=color, width=0.75, label=key)
            bottom += values
        ax.set_xticks(x, [(labels or {}).get(m, method_label(m)) for m in part.index],
                      rotation=60, ha="right", fontsize=7)
        rows = part["pair_rows_forget"].mean() if "pair_rows_forget" in part else np.nan
        ax.set_title(f"{_pair_name(int(true), int(wrong), names)} ({rows:.0f} rows)",
                     fontsize=9)
        ax.set_ylim(0, 100)
    for ax in axes.flat[len(pairs):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("wrong-label rows (%)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in _SHARES.values()]
    fig.legend(handles, ["predicted: true class", "predicted: its wrong label",
                         "predicted: a third class"], loc="upper center", ncol=3,
               frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return fig
