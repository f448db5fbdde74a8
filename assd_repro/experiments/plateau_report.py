"""What the alpha-plateau chapter (paper Fig. 3) reads from a run: facts, tables, glued numbers.

The rows are the tidy rows of :func:`~assd_repro.experiments.alpha_plateau.run_alpha_plateau`;
the plateau is the one of :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds`.
:func:`plateau_facts` collects, per task, the plateau's span and open ends, where ASSD's alpha
lands and why a plateau is missing; :func:`plateau_numbers` turns the facts into the verdicts
on claim C3 (a plateau exists; it moves between classes and between full-class and sub-class;
the sub-class plateau is narrower; ASSD lands on it) and the sentences the chapter glues into
its text. :func:`plateau_sensitivity` repeats the search under other tolerances, and
:func:`plateau_overview` and :func:`plateau_comparison` build the chapter's tables.

Units: Dr, Df and MIA in percent; tolerances and gaps in percentage points; alpha values as
they are (the grid is logarithmic, so a plateau's width is the factor ``high / low``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from assd_repro.experiments.alpha_plateau import mia_df_verdict, plateau_bounds
from assd_repro.paper import paper_table
from assd_repro.plots.lambda_plateau import PAPER_PLATEAUS, plateau_display, plateau_table

__all__ = [
    "BOOK_TOLERANCES",
    "KIND_LABELS",
    "PAPER_COLUMN",
    "PAPER_FORGET_SHARE_PCT",
    "RECOGNISED_DF",
    "plateau_comparison",
    "plateau_facts",
    "plateau_numbers",
    "plateau_overview",
    "plateau_relation",
    "plateau_sensitivity",
    "sensitivity_numbers",
    "sensitivity_summary",
    "task_titles",
]

#: The book's names of the task kinds.
KIND_LABELS: dict[str, str] = {"fullclass": "full-class", "subclass": "sub-class",
                               "random": "random"}

#: The column of :func:`plateau_comparison` that holds the paper's rows.
PAPER_COLUMN = "paper (rocket, its own task)"

#: The paper's forget set as a share of the training data, in percent: the 500 rocket images
#: of CIFAR's 50,000.
PAPER_FORGET_SHARE_PCT: float = 100 * 500 / 50_000

#: The plateau criteria the book reads its verdicts at, in percentage points: Dr at most 3
#: below the baseline's, MIA at most 10 above the grid's lowest (``tolerance``,
#: ``mia_tolerance`` of :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds`).
BOOK_TOLERANCES: tuple[float, float] = (3.0, 10.0)

#: Df (%) above which a class counts as still recognised (:func:`mia_df_verdict`'s mark).
RECOGNISED_DF = 25.0

_ROW_COLUMNS = ("task", "kind", "target", "method", "alpha", "metric", "value")
#: The metrics every task needs, per method.
_NEEDED: dict[str, tuple[str, ...]] = {"baseline": ("Dr", "Df"), "ssd": ("Dr", "Df", "MIA"),
                                       "assd": ("Dr", "Df", "MIA")}
_BOOL_COLUMNS = ("found", "open_below", "open_above", "in_bounds", "on", "assd_dr_ok",
                 "assd_mia_ok")
_FACT_COLUMNS = ("kind", "target", "found", "low", "high", "points", "open_below",
                 "open_above", "assd_alpha", "in_bounds", "on", "assd_dr_gap",
                 "assd_dr_ok", "assd_mia", "mia_ceiling", "assd_mia_ok", "assd_df",
                 "base_df", "df_at_high", "mia_at_high", "why_missing", "tolerance",
                 "mia_tolerance")
_RELATIONS = ("coincides with", "lies entirely below", "lies entirely above", "overlaps")


def _and_list(words: Sequence[object]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    texts = [str(w) for w in words]
    return " and ".join([", ".join(texts[:-1]), texts[-1]] if len(texts) > 2 else texts)


def _alpha(alpha: float) -> str:
    """An alpha value as the text shows it: three significant digits."""
    return f"{alpha:.3g}"


def _count_verdict(n: int, total: int) -> str:
    """``supported`` when all ``total`` count, ``not supported`` when none, else ``partly``."""
    return "supported" if n == total else "not supported" if n == 0 else "partly supported"


def _require_columns(frame: pd.DataFrame, name: str, columns: Sequence[str], fix: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lack(s) the column(s) {missing}: {fix}")


def _check_rows(rows: pd.DataFrame) -> None:
    """Refuse rows that are not a plateau run's (columns, and the metrics of every task)."""
    if not isinstance(rows, pd.DataFrame) or rows.empty:
        raise ValueError("rows must be a non-empty DataFrame: pass the rows of "
                         "run_alpha_plateau (or stored_runs.load_run)")
    _require_columns(rows, "rows", _ROW_COLUMNS, "pass the rows of run_alpha_plateau")
    has = rows.groupby(["task", "method"], sort=False)["metric"].agg(set)
    for task in dict.fromkeys(rows["task"]):
        for method, metrics in _NEEDED.items():
            absent = [m for m in metrics if m not in has.get((task, method), set())]
            if absent:
                raise ValueError(f"task {task!r} has no {method} row of the metric(s) {absent}: "
                                 "pass the complete rows of run_alpha_plateau")


def _check_alphas(alphas: Sequence[float] | np.ndarray) -> np.ndarray:
    """``alphas`` as a float array: at least two finite positive values, increasing."""
    grid = np.asarray(alphas, dtype=float)
    if grid.ndim != 1 or len(grid) < 2 or not np.isfinite(grid).all() or (grid <= 0).any() \
            or (np.diff(grid) <= 0).any():
        raise ValueError(f"alphas={alphas!r} must be the run's alpha grid: at least two finite "
                         "positive values, increasing (pass config.alphas())")
    return grid


def _means(rows: pd.DataFrame) -> pd.Series:
    """Mean over scenarios per ``(task, method, metric)``."""
    return rows.groupby(["task", "method", "metric"], sort=False)["value"].mean()


def _open_ends(low: float, high: float, alphas: np.ndarray) -> tuple[bool, bool]:
    """Whether ``[low, high]`` reaches the grid's smallest and its largest alpha."""
    return bool(np.isclose(low, alphas[0])), bool(np.isclose(high, alphas[-1]))


def task_titles(rows: pd.DataFrame) -> dict[str, str]:
    """Short names of the tasks for the book's tables and figure panels.

    Args:
        rows: the tidy rows of
            :func:`~assd_repro.experiments.alpha_plateau.run_alpha_plateau` (``task``,
            ``kind``, ``target``).

    Returns:
        Task -> ``"<target>, <kind>"`` (e.g. ``"airplane, full-class"``), in the rows' order.

    Raises:
        ValueError: ``rows`` lacks the column ``task``, ``kind`` or ``target``.
    """
    _require_columns(rows, "rows", ["task", "kind", "target"],
                     "pass the rows of run_alpha_plateau")
    first = rows.groupby("task", sort=False)[["kind", "target"]].first()
    return {str(task): f"{target}, {KIND_LABELS.get(kind, kind)}"
            for task, kind, target in zip(first.index, first["kind"],
                                          first["target"].astype(str), strict=True)}


def plateau_facts(rows: pd.DataFrame, alphas: Sequence[float] | np.ndarray, *,
                  tolerance: float, mia_tolerance: float) -> pd.DataFrame:
    """Per task: its plateau, the plateau's open ends, ASSD's place and why a plateau is missing.

    The plateau is :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds`'s under the
    same tolerances: the longest run of grid points whose Dr is at most ``tolerance`` points
    below the baseline's and whose MIA is at most ``mia_tolerance`` points above the grid's
    lowest. It is *open* on a side when it reaches that end of the grid (the criteria may
    hold beyond it). Every value is a mean over the run's scenarios.

    Args:
        rows: the tidy rows of
            :func:`~assd_repro.experiments.alpha_plateau.run_alpha_plateau` (every task with
            the baseline's Dr and Df, SSD's and ASSD's Dr, Df and MIA).
        alphas: the run's alpha grid (``config.alphas()``), increasing.
        tolerance: Dr criterion, percentage points below the baseline's, >= 0.
        mia_tolerance: MIA criterion, percentage points above the grid's lowest MIA, >= 0.

    Returns:
        One row per task (index ``task``, in the rows' order): ``kind``, ``target``,
        ``found`` (a plateau exists), ``low``, ``high`` (its alpha bounds, NaN when none),
        ``points`` (its grid points), ``open_below``, ``open_above``, ``assd_alpha``,
        ``in_bounds`` (ASSD's alpha inside the plateau), ``on`` (in bounds, or ASSD's own Dr
        and MIA meet the criteria between grid points), ``assd_dr_gap`` (points ASSD's Dr
        lies below the baseline's), ``assd_dr_ok``, ``assd_mia``, ``mia_ceiling`` (the MIA
        criterion, %), ``assd_mia_ok``, ``assd_df``, ``base_df`` (the baseline's Df),
        ``df_at_high``, ``mia_at_high`` (SSD's Df and MIA at the plateau's largest alpha,
        NaN when none), ``why_missing`` (a clause for the text when there is no plateau,
        else None), ``tolerance`` and ``mia_tolerance``.

    Raises:
        ValueError: ``rows`` is not a non-empty DataFrame with the columns ``task, kind,
            target, method, alpha, metric, value``, or a task lacks one of the metrics
            above (names the task and the metrics); ``alphas`` is not an increasing grid of
            at least two positive values; a tolerance is not a finite number >= 0 (as
            :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds`).
    """
    _check_rows(rows)
    grid_alphas = _check_alphas(alphas)
    bounds = plateau_bounds(rows, tolerance=tolerance, mia_tolerance=mia_tolerance)
    targets = rows.groupby("task", sort=False)["target"].first().astype(str)
    means = _means(rows)
    grid = (rows[rows["method"] == "ssd"]
            .pivot_table(index=["task", "alpha"], columns="metric", values="value",
                         aggfunc="mean"))
    facts: dict[Any, dict[str, Any]] = {}
    for row in bounds.itertuples():
        t, g = row.task, grid.loc[row.task]
        dr_floor, mia_ceiling = row.dr_baseline - tolerance, row.mia_min + mia_tolerance
        has = row.n_points >= 1
        below, above = _open_ends(row.alpha_low, row.alpha_high, grid_alphas)
        label = f"{KIND_LABELS.get(row.kind, row.kind)} {targets[t]}"
        facts[t] = {
            "kind": row.kind, "target": targets[t], "found": has, "low": row.alpha_low,
            "high": row.alpha_high, "points": row.n_points, "open_below": has and below,
            "open_above": has and above, "assd_alpha": row.assd_alpha,
            "in_bounds": row.assd_in_bounds,
            "on": row.assd_in_bounds or row.assd_meets_criteria,
            "assd_dr_gap": row.dr_baseline - means[t, "assd", "Dr"],
            "assd_dr_ok": means[t, "assd", "Dr"] >= dr_floor,
            "assd_mia": means[t, "assd", "MIA"], "mia_ceiling": mia_ceiling,
            "assd_mia_ok": means[t, "assd", "MIA"] <= mia_ceiling,
            "assd_df": means[t, "assd", "Df"], "base_df": means[t, "baseline", "Df"],
            "df_at_high": g.loc[row.alpha_high, "Df"] if has else float("nan"),
            "mia_at_high": g.loc[row.alpha_high, "MIA"] if has else float("nan"),
            "why_missing": None if has else _why_missing(
                g, label, dr_floor=dr_floor, mia_ceiling=mia_ceiling, tolerance=tolerance,
                dr_baseline=row.dr_baseline),
            "tolerance": tolerance, "mia_tolerance": mia_tolerance,
        }
    out = pd.DataFrame.from_dict(facts, orient="index", columns=list(_FACT_COLUMNS))
    out.index.name = "task"
    return out.astype(dict.fromkeys(_BOOL_COLUMNS, bool))


def _why_missing(grid: pd.DataFrame, label: str, *, dr_floor: float, mia_ceiling: float,
                 tolerance: float, dr_baseline: float) -> str:
    """Why one task has no plateau: where its Dr comes back, and its MIA there."""
    dr_ok, mia_ok = grid["Dr"] >= dr_floor, grid["MIA"] <= mia_ceiling
    if not dr_ok.any():
        return (f"on {label}, Dr never comes within {tolerance:g} points of the "
                "baseline's")
    first = int(np.argmax(dr_ok.to_numpy()))
    why = (f"on {label}, Dr first comes within {tolerance:g} points of the baseline's at "
           f"α = {_alpha(grid.index[first])}, where the MIA is already "
           f"{grid['MIA'].iloc[first]:.1f} % (the criterion allows {mia_ceiling:.1f} %)")
    if first > 0:
        why += (f"; one grid step lower, at α = {_alpha(grid.index[first - 1])}, Dr is "
                f"{grid['Dr'].iloc[first - 1]:.1f} %, "
                f"{dr_baseline - grid['Dr'].iloc[first - 1]:.1f} points below the baseline's")
        if mia_ok.iloc[first - 1]:
            why += ", while the MIA meets its criterion"
    return why


def plateau_relation(plateau: Mapping[str, float] | pd.Series,
                     other: Mapping[str, float] | pd.Series) -> str:
    """Where one plateau lies against another, as the text says it.

    Args:
        plateau, other: each with ``low`` and ``high``, alpha values (rows of
            :func:`plateau_facts`).

    Returns:
        ``"coincides with"``, ``"lies entirely below"``, ``"lies entirely above"`` or
        ``"overlaps"`` (the plateaus share a stretch of alpha; they overlap also when they
        coincide).

    Raises:
        ValueError: a ``low`` or ``high`` is missing, NaN (a task without a plateau) or
            ``low > high``.
    """
    spans = []
    for name, span in (("plateau", plateau), ("other", other)):
        low, high = span.get("low", math.nan), span.get("high", math.nan)
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise ValueError(f"{name} has low={low}, high={high}: pass a row of "
                             "plateau_facts whose plateau was found (low <= high)")
        spans.append((low, high))
    (low, high), (other_low, other_high) = spans
    if (low, high) == (other_low, other_high):
        return _RELATIONS[0]
    if high < other_low:
        return _RELATIONS[1]
    if low > other_high:
        return _RELATIONS[2]
    return _RELATIONS[3]


def _overlap(a: pd.Series, b: pd.Series) -> bool:
    return plateau_relation(a, b) in (_RELATIONS[0], _RELATIONS[3])


def plateau_overview(bounds: pd.DataFrame, alphas: Sequence[float] | np.ndarray, *,
                     titles: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The chapter's plateau table: each task's plateau, ASSD on it, and the paper's plateau.

    :func:`~assd_repro.plots.lambda_plateau.plateau_display` of
    :func:`~assd_repro.plots.lambda_plateau.plateau_table`, with two more rows for this run
    (the plateau's grid points, and its open ends) and the paper's rows named as its own
    task's.

    Args:
        bounds: :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds` of the run.
        alphas: the run's alpha grid (``config.alphas()``), increasing.
        titles: task -> column name (:func:`task_titles`); tasks not in it keep their name.

    Returns:
        Columns: the tasks; index ``(what, quantity)``: ``this run`` (``α low``, ``α high``,
        ``width``, ``grid points``, ``open``: ``"below"``, ``"above"``, ``"below and
        above"`` or ``"–"``), ``ASSD`` (``α``, ``in bounds``, ``meets criteria``) and
        ``paper (its own task)`` (``task``, ``α low``, ``α high``, ``width``).

    Raises:
        ValueError: ``bounds`` lacks a column of
            :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds`'s that the table
            shows; ``alphas`` is not an increasing grid of at least two positive values.
    """
    _require_columns(bounds, "bounds", ["task", "kind", "alpha_low", "alpha_high", "n_points",
                                        "assd_alpha", "assd_in_bounds",
                                        "assd_meets_criteria"], "pass plateau_bounds(rows)")
    grid_alphas = _check_alphas(alphas)
    names = {} if titles is None else titles
    table = plateau_table(bounds)
    shown = plateau_display(table.assign(task=table["task"].map(lambda t: names.get(t, t))))
    ends = []
    for low, high in zip(bounds["alpha_low"], bounds["alpha_high"], strict=True):
        below, above = _open_ends(low, high, grid_alphas)
        ends.append(" and ".join(side for side, at_end in (("below", below), ("above", above))
                                 if at_end) or "–")
    extra = pd.DataFrame(
        [bounds["n_points"].to_list(), ends], columns=shown.columns,
        index=pd.MultiIndex.from_tuples([("this run", "grid points"), ("this run", "open")]))
    shown = pd.concat([shown.iloc[:3], extra, shown.iloc[3:]])
    return shown.rename(index={"paper": "paper (its own task)"}, level=0)


def plateau_sensitivity(rows: pd.DataFrame,
                        tolerances: Sequence[tuple[float, float]]) -> pd.DataFrame:
    """The plateau of every task under each pair of tolerances.

    Args:
        rows: the tidy rows of
            :func:`~assd_repro.experiments.alpha_plateau.run_alpha_plateau`.
        tolerances: ``(tolerance, mia_tolerance)`` pairs in percentage points (Dr below the
            baseline's, MIA above the grid's lowest); a pair given twice is searched once.

    Returns:
        :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds` of each pair, in the
        pairs' order, concatenated, with the columns ``tolerance``, ``mia_tolerance``,
        ``found`` (a plateau exists) and ``on`` (ASSD in bounds or meeting the criteria).

    Raises:
        ValueError: ``tolerances`` is empty or holds something other than a pair; then as
            :func:`~assd_repro.experiments.alpha_plateau.plateau_bounds` (a tolerance that
            is not a finite number >= 0, rows that are not a plateau run's).
    """
    pairs = list(tolerances) if isinstance(tolerances, Sequence) else []
    if not pairs or any(not isinstance(p, tuple | list) or len(p) != 2 for p in pairs):
        raise ValueError(f"tolerances={tolerances!r} must be a non-empty sequence of "
                         "(tolerance, mia_tolerance) pairs, e.g. [(2.0, 2.0), (3.0, 10.0)]")
    parts = []
    for t, m in dict.fromkeys(tuple(p) for p in pairs):
        bounds = plateau_bounds(rows, tolerance=t, mia_tolerance=m)
        parts.append(bounds.assign(tolerance=float(t), mia_tolerance=float(m)))
    sensitivity = pd.concat(parts, ignore_index=True)
    sensitivity["found"] = sensitivity["n_points"] >= 1
    sensitivity["on"] = sensitivity["assd_in_bounds"] | sensitivity["assd_meets_criteria"]
    return sensitivity


_SENSITIVITY_COLUMNS = ("task", "kind", "tolerance", "mia_tolerance", "found", "on")


def sensitivity_summary(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """Per tolerance pair and task kind: how many tasks have a plateau, and ASSD on it.

    Args:
        sensitivity: :func:`plateau_sensitivity` output.

    Returns:
        Index ``tolerance (Dr / MIA)`` (``"2 / 5"``, in the pairs' order); columns
        ``("plateau found", kind)`` and then ``("ASSD on it", kind)``, kinds as the book
        names them, in the order they appear; values ``"<n> of <tasks>"``.

    Raises:
        ValueError: ``sensitivity`` lacks one of the columns ``task, kind, tolerance,
            mia_tolerance, found, on`` or has no row.
    """
    _require_columns(sensitivity, "sensitivity", _SENSITIVITY_COLUMNS,
                     "pass plateau_sensitivity(rows, tolerances)")
    if sensitivity.empty:
        raise ValueError("sensitivity has no row: pass plateau_sensitivity(rows, tolerances)")
    counts = (sensitivity
              .assign(kind=sensitivity["kind"].map(lambda k: KIND_LABELS.get(k, k)),
                      pair=[f"{t:g} / {m:g}" for t, m in
                            zip(sensitivity["tolerance"], sensitivity["mia_tolerance"],
                                strict=True)])
              .groupby(["pair", "kind"], sort=False)
              .agg(found=("found", "sum"), on=("on", "sum"), n=("task", "size")))
    by_kind = list(counts.groupby("kind", sort=False))
    return pd.DataFrame(
        {("plateau found", kind): [f"{row.found} of {row.n}" for row in part.itertuples()]
         for kind, part in by_kind}
        | {("ASSD on it", kind): [f"{row.on} of {row.n}" for row in part.itertuples()]
           for kind, part in by_kind},
        index=pd.Index(counts.index.get_level_values("pair").unique(),
                       name="tolerance (Dr / MIA)"))


def sensitivity_numbers(sensitivity: pd.DataFrame, *,
                        strict: tuple[float, float]) -> dict[str, object]:
    """What the chapter's text says about the tolerances: ASSD at the strictest pair, and how
    many tasks of each kind have a plateau over all pairs.

    Args:
        sensitivity: :func:`plateau_sensitivity` output.
        strict: the strictest ``(tolerance, mia_tolerance)`` pair, percentage points; one of
            the pairs of ``sensitivity``.

    Returns:
        ``fig3_verdict_strict`` (``"still meets them on every task"`` or ``"misses them on
        <n> of <tasks> tasks"``), and per task kind ``fig3_<kind>_found_min``,
        ``fig3_<kind>_found_max`` (the fewest and most tasks with a plateau over the pairs)
        and ``fig3_<kind>_found_span`` (``"<n>"`` or ``"<min> to <max>"``).

    Raises:
        ValueError: ``sensitivity`` lacks one of the columns ``task, kind, tolerance,
            mia_tolerance, found, on``; ``strict`` is none of its pairs (names them).
    """
    _require_columns(sensitivity, "sensitivity", _SENSITIVITY_COLUMNS,
                     "pass plateau_sensitivity(rows, tolerances)")
    pairs = list(dict.fromkeys((float(t), float(m)) for t, m in zip(
        sensitivity["tolerance"], sensitivity["mia_tolerance"], strict=True)))
    chosen = sensitivity[(sensitivity["tolerance"] == strict[0])
                         & (sensitivity["mia_tolerance"] == strict[1])]
    if chosen.empty:
        raise ValueError(f"strict={strict!r} is none of the tolerance pairs {pairs}: pass "
                         "one of them (the strictest)")
    misses = int((~chosen["on"].astype(bool)).sum())
    numbers: dict[str, object] = {
        "fig3_verdict_strict": "still meets them on every task" if misses == 0
        else f"misses them on {misses} of {len(chosen)} tasks"}
    found_range = (sensitivity
                   .groupby(["kind", "tolerance", "mia_tolerance"])["found"].sum()
                   .groupby("kind").agg(["min", "max"]))
    for kind in sorted(found_range.index, key=_kind_order):
        lo, hi = int(found_range.loc[kind, "min"]), int(found_range.loc[kind, "max"])
        numbers |= {f"fig3_{kind}_found_min": lo, f"fig3_{kind}_found_max": hi,
                    f"fig3_{kind}_found_span": f"{lo}" if lo == hi else f"{lo} to {hi}"}
    return numbers


def _kind_order(kind: str) -> tuple[int, str]:
    """Sort key: the kinds in the book's order (full-class, sub-class, random), then others."""
    order = list(KIND_LABELS)
    return (order.index(kind) if kind in order else len(order), kind)


def _paper_rocket_rows() -> dict[str, pd.DataFrame]:
    """The paper's rows of its rocket tasks with ResNet18: Table 1 (CIFAR-100) for full-class,
    Table 2 (CIFAR-20) for sub-class."""
    tables = {"fullclass": paper_table("fullclass").query("dataset == 'cifar100'"),
              "subclass": paper_table("subclass").query("dataset == 'cifar20'")}
    return {kind: table.query("forget_class == 'rocket' and model == 'resnet18'")
            for kind, table in tables.items()}


def plateau_comparison(rows: pd.DataFrame,
                       paper: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The baseline's and ASSD's metrics per task beside the paper's rows of the same kind.

    Args:
        rows: the tidy rows of
            :func:`~assd_repro.experiments.alpha_plateau.run_alpha_plateau`.
        paper: task kind -> the paper's rows of the one task it is set beside (columns
            ``method``, ``metric``, ``mean``, with the baseline and ASSD for Dr, Df and MIA);
            kinds not in it get NaN. ``None``: the paper's ResNet18 rocket rows, Table 1
            (CIFAR-100) for full-class and Table 2 (CIFAR-20) for sub-class.

    Returns:
        Index ``(kind, method, metric)`` (the book's kind names; ``baseline`` then ``assd``;
        Dr, Df, MIA), kinds in the rows' order; one column per target (the mean over
        scenarios of its task of that kind, NaN for a target without one) and
        :data:`PAPER_COLUMN`; values in percent.

    Raises:
        ValueError: ``rows`` is not a plateau run's (as :func:`plateau_facts`); a paper
            frame lacks the column ``method``, ``metric`` or ``mean``, or the baseline's or
            ASSD's Dr, Df or MIA (names the kind).
    """
    _check_rows(rows)
    paper = _paper_rocket_rows() if paper is None else paper
    means = _means(rows)
    first = rows.groupby("task", sort=False)[["kind", "target"]].first()
    records = []
    for kind in dict.fromkeys(first["kind"]):
        stated = None
        if kind in paper:
            _require_columns(paper[kind], f"paper[{kind!r}]", ["method", "metric", "mean"],
                             "pass rows of paper_table for one task")
            stated = paper[kind].set_index(["method", "metric"])["mean"]
            absent = [key for key in itertools.product(("baseline", "assd"), ("Dr", "Df", "MIA"))
                      if key not in stated.index]
            if absent:
                raise ValueError(f"paper[{kind!r}] has no row of {absent}: pass the paper's "
                                 "rows of one task with the baseline and ASSD")
        tasks = first.index[first["kind"] == kind]
        for method in ("baseline", "assd"):
            for metric in ("Dr", "Df", "MIA"):
                record: dict[str, Any] = {"kind": KIND_LABELS.get(kind, kind), "method": method,
                                          "metric": metric}
                for task in tasks:
                    record[str(first.loc[task, "target"])] = float(means[task, method, metric])
                record[PAPER_COLUMN] = (float(stated[method, metric]) if stated is not None
                                        else float("nan"))
                records.append(record)
    return pd.DataFrame(records).set_index(["kind", "method", "metric"])


def _span_text(f: pd.Series) -> str:
    """One task's plateau in words: its alpha range, grid points, width and open ends."""
    if not f["found"]:
        return "no grid point meets both criteria"
    ends = (["open below, at the grid's smallest α"] * f["open_below"]
            + ["open above, at the grid's largest α"] * f["open_above"])
    if f["points"] == 1:
        return f"α = {_alpha(f['low'])} only" + "".join(f" ({e})" for e in ends)
    factor = ("at least " if ends else "") + f"{f['high'] / f['low']:.1f}"
    details = [f"{f['points']} grid points, a factor of {factor}", *ends]
    return f"α from {_alpha(f['low'])} to {_alpha(f['high'])} ({'; '.join(details)})"


def _assd_place(f: pd.Series) -> str:
    """Where ASSD's alpha lands on one task, and why it misses."""
    place = f"α = {_alpha(f['assd_alpha'])} "
    if f["in_bounds"]:
        return place + "lies inside the plateau"
    if f["on"]:
        return place + "lies between grid points, its own Dr and MIA meeting the criteria"
    reasons = ([f"its Dr is {f['assd_dr_gap']:.1f} points below the baseline's"]
               * (not f["assd_dr_ok"])
               + [f"its MIA of {f['assd_mia']:.1f} % exceeds the criterion's "
                  f"{f['mia_ceiling']:.1f} %"] * (not f["assd_mia_ok"]))
    missed = "misses the plateau" if f["found"] else "has no plateau to land on"
    return (place + missed + ": " + " and ".join(reasons)
            + f" (its MIA {f['assd_mia']:.1f} %, Df {f['assd_df']:.1f} %)")


def _label(f: pd.Series) -> str:
    """``"full-class airplane"``."""
    return f"{KIND_LABELS.get(f['kind'], f['kind'])} {f['target']}"


def _open_note(facts: pd.DataFrame, alpha_max: float) -> str:
    """Which plateaus reach an end of the grid."""
    sides = ([f"on {_label(f)} the retain accuracy stays within the tolerance down to the "
              "grid's smallest α, so its plateau is open below"
              for _, f in facts[facts["open_below"]].iterrows()]
             + [f"on {_label(f)} the MIA still meets its criterion at the grid's largest α, "
                f"{_alpha(alpha_max)}, so its plateau is open above"
                for _, f in facts[facts["open_above"]].iterrows()])
    if not sides:
        return "Every plateau found is closed on both sides."
    return f"Not every plateau shows both sides: {'; '.join(sides)}."


def _missing_note(facts: pd.DataFrame) -> str:
    """Why the tasks without a plateau have none."""
    missing = facts["why_missing"].dropna()
    if missing.empty:
        return "Every task has a plateau."
    return ("Where a task has no plateau, its retain accuracy comes back only where its MIA "
            f"has already risen: {'; '.join(missing)}.")


def _between_classes(facts: pd.DataFrame, kind: str) -> str:
    """How the plateaus of one kind differ from class to class."""
    part = facts[(facts["kind"] == kind) & facts["found"]]
    name = KIND_LABELS.get(kind, kind)
    if len(part) < 2:
        return (f"with {['no', 'one'][len(part)]} {name} plateau, its position cannot be "
                "compared between classes")
    if part[["low", "high"]].drop_duplicates().shape[0] == 1:
        return f"the {name} plateaus of all classes coincide"
    pairs = list(itertools.combinations(part.index, 2))
    apart = [p for p in pairs if not _overlap(part.loc[p[0]], part.loc[p[1]])]
    alone = [part.loc[t, "target"] for t in part.index
             if len(part) > 2 and all(not _overlap(part.loc[t], part.loc[o])
                                      for o in part.index if o != t)]
    text = (f"the {name} plateaus differ from class to class"
            + (f", and {len(apart)} of their {len(pairs)} pairs do not even overlap"
               if apart else ", but all of them overlap"))
    if alone:
        owners = _and_list([f"{a}'s" for a in alone])
        text += f" ({owners} {'lies' if len(alone) == 1 else 'lie'} apart from the others)"
    return text


def _between_kinds(full: pd.DataFrame, sub: pd.DataFrame) -> str:
    """Where each class's sub-class plateau lies against its full-class one."""
    both = [c for c in full.index if c in sub.index and full.loc[c, "found"]
            and sub.loc[c, "found"]]
    relations = {c: plateau_relation(sub.loc[c], full.loc[c]) for c in both}
    if not both:
        return ("no class has a plateau of both kinds, so the shift between kinds cannot be "
                "measured")
    if len(both) == 1:
        return (f"for {both[0]}, the only class with a plateau of both kinds, the sub-class "
                f"plateau {relations[both[0]]} the full-class one")
    return "; ".join(f"for {c} the sub-class plateau {r} the full-class one"
                     for c, r in relations.items())


def _moves_verdict(facts: pd.DataFrame) -> str:
    """C3, moves: whether the plateaus found differ (and whether some lie apart)."""
    plateaus = facts[facts["found"]]
    if len(plateaus) < 2:
        return "undecided, with fewer than two plateaus"
    pairs = list(itertools.combinations(plateaus.index, 2))
    spans = {t: (plateaus.loc[t, "low"], plateaus.loc[t, "high"]) for t in plateaus.index}
    if not any(spans[a] != spans[b] for a, b in pairs):
        return "not supported"
    disjoint = any(not _overlap(plateaus.loc[a], plateaus.loc[b]) for a, b in pairs)
    return "supported" if disjoint else "supported, though the plateaus overlap"


def _narrower_verdict(full: pd.DataFrame, sub: pd.DataFrame) -> str:
    """C3, narrower: the sub-class plateau has fewer grid points than the full-class one."""
    common = [c for c in full.index if c in sub.index]
    n_narrower = sum(int(sub.loc[c, "points"] < full.loc[c, "points"]) for c in common)
    zero = " (a missing plateau counts as zero width)" if (~sub["found"]).any() else ""
    if common and n_narrower == len(common):
        return f"is narrower than the full-class one for every class{zero}, as in the paper"
    if n_narrower == 0:
        return "is nowhere narrower than the full-class one, unlike in the paper"
    return (f"is narrower than the full-class one for {n_narrower} of {len(common)} "
            f"classes{zero}")


def _mia_df_numbers(facts: pd.DataFrame, recognised: float) -> dict[str, object]:
    """Df at the top of each full-class plateau: does a low MIA mean forgotten?"""
    tops = facts[(facts["kind"] == "fullclass") & facts["found"]]
    if tops.empty:
        return {"fig3_df_at_tops": "not measured: no full-class task has a plateau",
                "fig3_verdict_mia_df": "so this cannot be judged here",
                "fig3_df_top_max": float("nan"), "fig3_df_top_task": "none",
                "fig3_df_top_base": float("nan"),
                "fig3_df_top_note": "There is no such point."}
    top = tops.loc[tops["df_at_high"].idxmax()]
    return {
        "fig3_df_at_tops": _and_list([f"{f.target} {f.df_at_high:.0f} % (at α = "
                                      f"{_alpha(f.high)})" for _, f in tops.iterrows()]),
        "fig3_df_top_max": top["df_at_high"],
        "fig3_df_top_task": top["target"],
        "fig3_df_top_base": top["base_df"],
        "fig3_df_top_note": (
            f"At that point the MIA is {top['mia_at_high']:.1f} %, and {top['target']}'s Df "
            f"is {100 * top['df_at_high'] / top['base_df']:.0f} % of its baseline's, "
            f"{top['base_df']:.0f} %."),
        "fig3_verdict_mia_df": mia_df_verdict(top["df_at_high"], recognised=recognised),
    }


def plateau_numbers(rows: pd.DataFrame, facts: pd.DataFrame,
                    alphas: Sequence[float] | np.ndarray, comparison: pd.DataFrame, *,
                    recognised: float = RECOGNISED_DF,
                    paper_plateaus: Mapping[str, Mapping[str, Any]] | None = None,
                    ) -> dict[str, object]:
    """Every number and sentence the chapter's text glues, with the verdicts on claim C3.

    The verdicts: *a plateau exists* is supported when every task has one, not supported
    when none has, partly supported otherwise (likewise *ASSD lands on it*, counting ASSD in
    bounds or meeting the criteria between grid points); *it moves* is supported when two
    plateaus differ (with ", though the plateaus overlap" when no two lie apart), undecided
    with fewer than two plateaus; the sub-class plateau is *narrower* in a class when it
    has fewer grid points than the full-class one (a missing one has none).

    Args:
        rows: the tidy rows of
            :func:`~assd_repro.experiments.alpha_plateau.run_alpha_plateau` (with the
            runner's ``scenario`` column and ASSD's ``percentile`` rows).
        facts: :func:`plateau_facts` of ``rows``.
        alphas: the run's alpha grid (``config.alphas()``), increasing.
        comparison: :func:`plateau_comparison` of ``rows`` (the paper's ASSD Df per kind).
        recognised: Df (%) above which a class counts as still recognised.
        paper_plateaus: kind -> ``paper_low``, ``paper_high`` (alpha values); ``None``:
            :data:`~assd_repro.plots.lambda_plateau.PAPER_PLATEAUS`.

    Returns:
        Glue name -> value, the names ``fig3_*`` of the chapter's text: the grid
        (``n_alpha``, ``alpha_min``, ``alpha_max``, ``grid_step``), the criteria
        (``tolerance``, ``mia_tolerance``), the run (``n_tasks``, ``tasks_text``,
        ``n_scenarios``, ``scenarios_note``, ``base_dr_min``/``max``), per kind
        ``<kind>_n_tasks``, ``_n_found``, ``_n_on``, ``_ranges``, ``_assd``,
        ``_assd_dfs`` and the paper's ``_paper_low``, ``_paper_high``, ``_paper_width``,
        ``_paper_assd_Df``; the verdicts ``verdict_exists``, ``verdict_moves``,
        ``verdict_narrower``, ``verdict_assd`` with ``open_note``, ``missing_note``,
        ``<kind>_between_classes``, ``between_kinds``; ASSD's ``assd_alpha_min``/``max``,
        ``assd_ratio``, ``assd_percentile``, ``forget_share_pct``, ``percentile_note``,
        ``paper_forget_share_pct``; and Df at the full-class plateaus' tops,
        ``df_at_tops``, ``df_top_max``, ``df_top_task``, ``df_top_base``, ``df_top_note``,
        ``verdict_mia_df``, ``recognised``. Percent, percentage points and alpha values.

    Raises:
        ValueError: ``facts`` lacks a column of :func:`plateau_facts`'s, or its tasks are
            not exactly full-class and sub-class ones (the text names both kinds); ``rows``
            lacks the column ``scenario`` or ASSD's ``percentile`` of a task; ``alphas`` is
            not an increasing grid of at least two positive values; ``comparison`` lacks
            ASSD's Df of a kind; ``paper_plateaus`` lacks a kind.
    """
    _require_columns(facts, "facts", _FACT_COLUMNS, "pass plateau_facts(rows, alphas, ...)")
    kinds = ["fullclass", "subclass"]
    if set(facts["kind"]) != set(kinds):
        raise ValueError(f"facts hold the task kinds {sorted(set(facts['kind']))}: the "
                         "chapter's text needs full-class and sub-class tasks and no other")
    _require_columns(rows, "rows", ["scenario", "task", "method", "metric", "value"],
                     "pass the rows of run_alpha_plateau, with the runner's columns")
    with_percentile = set(rows.loc[(rows["method"] == "assd")
                                   & (rows["metric"] == "percentile"), "task"])
    absent = [t for t in facts.index if t not in with_percentile]
    if absent:
        raise ValueError(f"rows hold no ASSD percentile of the task(s) {absent}: pass the "
                         "rows of run_alpha_plateau that facts were computed from")
    means = _means(rows)
    percentiles = means.xs(("assd", "percentile"), level=["method", "metric"])
    grid = _check_alphas(alphas)
    paper_plateaus = PAPER_PLATEAUS if paper_plateaus is None else paper_plateaus
    for kind in kinds:
        if kind not in paper_plateaus:
            raise ValueError(f"paper_plateaus lacks the kind {kind!r}: pass PAPER_PLATEAUS")
        if (KIND_LABELS[kind], "assd", "Df") not in comparison.index \
                or PAPER_COLUMN not in comparison.columns:
            raise ValueError(f"comparison lacks the paper's ASSD Df of {kind}: pass "
                             "plateau_comparison(rows)")
    tolerance, mia_tolerance = facts["tolerance"].iloc[0], facts["mia_tolerance"].iloc[0]
    numbers: dict[str, object] = {
        "fig3_n_tasks": len(facts), "fig3_n_alpha": len(grid), "fig3_alpha_min": grid[0],
        "fig3_alpha_max": grid[-1], "fig3_grid_step": grid[1] / grid[0],
        "fig3_tolerance": tolerance, "fig3_mia_tolerance": mia_tolerance,
        "fig3_n_scenarios": rows["scenario"].nunique(),
        "fig3_paper_forget_share_pct": PAPER_FORGET_SHARE_PCT,
        "fig3_tasks_text": ", and ".join(
            f"{KIND_LABELS[k]} {_and_list(list(facts.loc[facts['kind'] == k, 'target']))}"
            for k in kinds)}
    for k in kinds:
        part = facts[facts["kind"] == k]
        paper = paper_plateaus[k]
        numbers |= {
            f"fig3_{k}_n_tasks": len(part), f"fig3_{k}_n_found": int(part["found"].sum()),
            f"fig3_{k}_n_on": int(part["on"].sum()),
            f"fig3_{k}_ranges": "; ".join(f"for {f.target}, {_span_text(f)}"
                                          for _, f in part.iterrows()),
            f"fig3_{k}_assd": "; ".join(f"on {f.target}, ASSD's {_assd_place(f)}"
                                        for _, f in part.iterrows()),
            f"fig3_{k}_paper_low": paper["paper_low"],
            f"fig3_{k}_paper_high": paper["paper_high"],
            f"fig3_{k}_paper_width": paper["paper_high"] / paper["paper_low"],
            f"fig3_{k}_paper_assd_Df": float(comparison.loc[(KIND_LABELS[k], "assd", "Df"),
                                                            PAPER_COLUMN]),
            f"fig3_{k}_assd_dfs": _and_list([f"{f.target} {f.assd_df:.1f} %"
                                             for _, f in part.iterrows()]),
        }
    full = facts[facts["kind"] == "fullclass"].set_index("target")
    sub = facts[facts["kind"] == "subclass"].set_index("target")
    numbers |= {
        "fig3_verdict_exists": _count_verdict(int(facts["found"].sum()), len(facts)),
        "fig3_open_note": _open_note(facts, grid[-1]),
        "fig3_missing_note": _missing_note(facts),
        **{f"fig3_{k}_between_classes": _between_classes(facts, k) for k in kinds},
        "fig3_between_kinds": _between_kinds(full, sub),
        "fig3_verdict_moves": _moves_verdict(facts),
        "fig3_verdict_narrower": _narrower_verdict(full, sub),
        "fig3_verdict_assd": _count_verdict(int(facts["on"].sum()), len(facts)),
        "fig3_assd_alpha_min": facts["assd_alpha"].min(),
        "fig3_assd_alpha_max": facts["assd_alpha"].max(),
        "fig3_assd_ratio": facts["assd_alpha"].max() / facts["assd_alpha"].min(),
        "fig3_assd_percentile": percentiles.mean(),
    }
    # ASSD's percentile p = 100 - ln(1 + share in %) gives back the forget share
    numbers["fig3_forget_share_pct"] = np.expm1(100 - percentiles.mean())
    numbers["fig3_percentile_note"] = (
        f"at the same percentile, {percentiles.iloc[0]:.2f} (every task forgets the same "
        "share of the training images)" if np.ptp(percentiles) < 1e-6 else
        f"at percentiles from {percentiles.min():.2f} to {percentiles.max():.2f}")
    n_scenarios = rows["scenario"].nunique()
    numbers["fig3_scenarios_note"] = (
        "The run has one scenario: each task rests on one trained baseline (one per label "
        "set, shared by the tasks of a kind), so its numbers carry no spread between seeds."
        if n_scenarios == 1 else
        f"The run has {n_scenarios} scenarios; the numbers are their means.")
    base_dr = means.xs(("baseline", "Dr"), level=["method", "metric"])
    numbers |= {"fig3_base_dr_min": base_dr.min(), "fig3_base_dr_max": base_dr.max()}
    numbers |= _mia_df_numbers(facts, recognised)
    numbers["fig3_recognised"] = recognised
    return numbers
