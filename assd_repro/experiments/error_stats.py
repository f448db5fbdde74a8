"""Statistics of the error-unlearning rows: per-cell means and tests, gains, Table 4 beside ours.

The authors' p-values (Table 4) come from ``scipy.stats.ttest_ind``, an independent two-sample
t-test between the unlearned and the baseline accuracies over the scenarios. The scenarios are
paired (both models see the same wrong labels), so :func:`cell_statistics` also gives the paired
test ``scipy.stats.ttest_rel``, which is the sounder one (book: Method, "Statistics").

On top of the per-cell tests: :func:`paired_comparisons` (paired mean differences of every method
against the baseline, their t-intervals, Holm-adjusted p-values over the cells and the minimum
detectable difference), :func:`verdict` (the book's supported / contradicted / undecided rule),
:func:`compare_sizes` (claim C6: Welch's test of the gains of two model sizes) and
:func:`bootstrap_test_rows` (intervals that resample the test rows, from the per-row correctness
vectors ``test_correct`` that :func:`encode_correct` writes and :func:`decode_correct` reads).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, stats

from assd_repro.paper import paper_table

__all__ = ["METHODS", "PAPER_METHOD_NAMES", "bootstrap_test_rows", "cell_statistics",
           "compare_sizes", "compare_table4_with_paper", "decode_correct", "encode_correct",
           "holm_adjust", "paired_comparisons", "paired_mde", "scenario_gains", "verdict"]

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


# --------------------------------------------------------------------------------------------
# Paired comparisons, Holm, minimum detectable difference, verdicts, sizes, row bootstrap
# --------------------------------------------------------------------------------------------

_PAIRED_COLUMNS = ["model_size", "error_pct", "method", "against", "n", "mean", "std",
                   "against_mean", "against_std", "diff_mean", "diff_std", "ci_low", "ci_high",
                   "p_paired", "p_ind", "p_paired_holm", "p_ind_holm", "mde"]


def _check_probability(name: str, value: Any, *, hint: str) -> float:
    """``value`` as a float strictly inside (0, 1), else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < float(value) < 1:
        raise ValueError(f"{name}={value!r} must be a number strictly between 0 and 1 ({hint})")
    return float(value)


def _check_methods(frame: pd.DataFrame, names: Sequence[str], what: str) -> None:
    present = set(frame["method"].unique())
    missing = [m for m in names if m not in present]
    if missing:
        raise ValueError(f"{what} {missing} has no row (the rows hold the methods "
                         f"{sorted(map(str, present))}): pass methods that were run")


def _select_split(frame: pd.DataFrame, split: str) -> pd.DataFrame:
    part = frame[frame["split"] == split]
    if part.empty:
        raise ValueError(f"split={split!r} has no row (the rows hold the splits "
                         f"{sorted(map(str, frame['split'].unique()))}): pass one of those")
    return part


def _select_rate(frame: pd.DataFrame, error_pct: Any) -> pd.DataFrame:
    if isinstance(error_pct, bool) or not isinstance(error_pct, Real) or math.isnan(error_pct):
        raise ValueError(f"error_pct={error_pct!r} must be a number (percent of rows mislabelled)")
    mask = np.isclose(frame["error_pct"].astype(float), float(error_pct), rtol=0.0, atol=1e-9)
    if not mask.any():
        rates = sorted({float(v) for v in frame["error_pct"]})
        raise ValueError(f"error_pct={error_pct!r} has no row (the rows hold the error rates "
                         f"{rates}): pass one of those")
    return frame[mask]


def _select_size(frame: pd.DataFrame, name: str, size: Any) -> pd.DataFrame:
    part = frame[frame["model_size"] == size]
    if part.empty:
        raise ValueError(f"{name}={size!r} has no row (the rows hold the model sizes "
                         f"{sorted(map(str, frame['model_size'].unique()))}): pass one of those")
    return part


def _refuse_duplicates(frame: pd.DataFrame) -> None:
    """A scenario (cell, split, replicate) must hold each method once."""
    keys = [*_CELL, "replicate", "method"]
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        first = frame.loc[dup, keys].iloc[0].to_dict()
        raise ValueError(f"the rows hold the scenario {first} {int(dup.sum())} times in all: "
                         "drop the duplicate runs (e.g. rows.drop_duplicates) before testing")


def _paired_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """Like :func:`_wide`, one row per scenario and one column per method, duplicates refused."""
    _refuse_duplicates(frame)
    return _wide(frame)


def holm_adjust(pvalues: ArrayLike) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (family-wise error rate).

    With the ``m`` finite p-values sorted increasingly, ``p_(1) <= ... <= p_(m)``, the adjusted
    value of ``p_(i)`` is ``max_{j <= i} min(1, (m - j + 1) * p_(j))``: monotone in ``p`` and
    capped at 1 (the same numbers as ``statsmodels.stats.multitest.multipletests(p,
    method="holm")[1]``).

    Args:
        pvalues: ``(m,)`` p-values in ``[0, 1]``; NaN entries (untestable cells) are left out
            of the family (they do not count in ``m``) and stay NaN.

    Returns:
        ``(m,)`` float64 adjusted p-values in the order of ``pvalues``.

    Raises:
        ValueError: ``pvalues`` is not one-dimensional or holds a value outside ``[0, 1]``.
    """
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"pvalues has shape {p.shape}: pass a one-dimensional array of p-values")
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError(f"pvalues holds {p[finite][(p[finite] < 0) | (p[finite] > 1)][:3]}, "
                         "outside [0, 1]: pass p-values")
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(finite)
    m = len(idx)
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def _paired_power(ncp: float, df: int, t_crit: float) -> float:
    """Power of the two-sided one-sample t-test with ``df`` degrees of freedom at noncentrality.

    The lower tail ``P(T < -t_crit)`` is taken as ``nct.sf(t_crit, df, -ncp)`` (symmetry):
    ``nct.cdf`` far in the left tail returns NaN for some arguments (scipy 1.17).
    """
    upper = float(stats.nct.sf(t_crit, df, ncp))
    lower = float(stats.nct.sf(t_crit, df, -ncp))
    return upper + (0.0 if math.isnan(lower) else lower)


def paired_mde(n: int, sd: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum paired mean difference a two-sided paired t-test detects with probability ``power``.

    Solves ``P(|T| > t_{1-alpha/2, n-1}) = power`` for ``T`` noncentral t with ``n - 1`` degrees
    of freedom and noncentrality ``delta * sqrt(n) / sd`` (``scipy.stats.nct``, root by
    ``scipy.optimize.brentq``). For large ``n`` it approaches the normal approximation
    ``(z_{1-alpha/2} + z_{power}) * sd / sqrt(n)``.

    Args:
        n: paired scenarios (differences).
        sd: standard deviation of the differences (``ddof=1``), in the unit of the result
            (accuracy points here).
        alpha: two-sided level of the test.
        power: probability of rejecting at the returned difference; above ``alpha``.

    Returns:
        The difference ``delta >= 0`` in the unit of ``sd``; NaN when ``n < 2``, or ``sd`` is
        0 or NaN (no test is possible).

    Raises:
        ValueError: ``n`` is not a whole number >= 0; ``sd`` is negative; ``alpha`` or ``power`` is
            not strictly between 0 and 1, or ``power <= alpha``.
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
        raise ValueError(f"n={n!r} must be a whole number of paired scenarios (>= 0)")
    alpha = _check_probability("alpha", alpha, hint="the level of the test, e.g. 0.05")
    power = _check_probability("power", power, hint="the wanted power, e.g. 0.8")
    if power <= alpha:
        raise ValueError(f"power={power} must exceed alpha={alpha}: a test rejects with "
                         "probability alpha at difference 0")
    sd = float(sd)
    if sd < 0:
        raise ValueError(f"sd={sd} must be a standard deviation (>= 0)")
    if n < 2 or not sd > 0 or math.isinf(sd):
        return float("nan")
    df = int(n) - 1
    t_crit = float(stats.t.ppf(1 - alpha / 2, df))

    def gap(ncp: float) -> float:
        return _paired_power(ncp, df, t_crit) - power

    high = t_crit + float(stats.norm.ppf(power)) + 1.0
    while gap(high) < 0:
        high *= 2
        if high > 1e8:  # pragma: no cover - unreachable for power < 1
            raise RuntimeError(f"no noncentrality reaches power {power} with df={df}")
    ncp = optimize.brentq(gap, 0.0, high, xtol=1e-12, rtol=1e-12)
    return float(ncp * sd / math.sqrt(n))


def _paired_record(pair: pd.DataFrame, method: str, against: str, t_quantile: float,
                   alpha: float, power: float) -> dict[str, Any]:
    """The statistics of one cell and method from its paired scenarios (columns method, against)."""
    x = pair[method].to_numpy(dtype=float)
    y = pair[against].to_numpy(dtype=float)
    n = len(x)
    diff = x - y
    nan = float("nan")
    record: dict[str, Any] = {"n": n,
                              "mean": float(x.mean()) if n else nan,
                              "std": float(x.std(ddof=1)) if n > 1 else nan,
                              "against_mean": float(y.mean()) if n else nan,
                              "against_std": float(y.std(ddof=1)) if n > 1 else nan,
                              "diff_mean": float(diff.mean()) if n else nan,
                              "diff_std": float(diff.std(ddof=1)) if n > 1 else nan}
    if n > 1:
        half = float(stats.t.ppf(t_quantile, n - 1)) * record["diff_std"] / math.sqrt(n)
        record["ci_low"], record["ci_high"] = record["diff_mean"] - half, record["diff_mean"] + half
        record["p_ind"], record["p_paired"] = _pvalues(x, y)
        record["mde"] = paired_mde(n, record["diff_std"], alpha=alpha, power=power)
    else:
        record.update(ci_low=nan, ci_high=nan, p_ind=nan, p_paired=nan, mde=nan)
    return record


def paired_comparisons(rows: pd.DataFrame | Sequence[Mapping[str, Any]], *,
                       against: str = "baseline",
                       methods: Sequence[str] = ("assd", "finetune", "retrain"),
                       split: str = "test", confidence: float = 0.95, power: float = 0.8,
                       alpha: float = 0.05) -> pd.DataFrame:
    """Paired differences of each method against ``against``, per cell, with Holm and the MDE.

    The scenarios of a cell are paired by ``replicate`` (the methods of one replicate share the
    wrong labels); only the scenarios that hold both the method and ``against`` count.

    Args:
        rows: the tidy rows of :func:`~assd_repro.experiments.error_unlearning.run_error_unlearning`.
        against: the reference method (``"baseline"``: the model trained on the wrong labels).
        methods: the methods compared with ``against``; each must have rows.
        split: ``"test"`` or ``"train"`` (the retained training rows).
        confidence: level of the t-interval of the paired mean difference.
        power: power at which ``mde`` is detected.
        alpha: two-sided level of the test behind ``mde``.

    Returns:
        One row per cell ``(model_size, error_pct)`` (in the order of the rows) and method (in
        the order of ``methods``): ``against``; ``n`` (paired scenarios); ``mean``, ``std``
        (``ddof=1``) of the method and ``against_mean``, ``against_std`` (accuracy, %);
        ``diff_mean``, ``diff_std`` (method - against per scenario, accuracy points);
        ``ci_low``, ``ci_high`` (t-interval of ``diff_mean`` at ``confidence``, ``n - 1``
        degrees of freedom); ``p_paired`` (``scipy.stats.ttest_rel``) and ``p_ind``
        (``scipy.stats.ttest_ind``, the authors' test); ``p_paired_holm`` and ``p_ind_holm``
        (Holm's adjustment, :func:`holm_adjust`, over all cells of the same method in the
        frame: 18 for the full Table 4 of one split); ``mde`` (:func:`paired_mde` for ``n`` and
        ``diff_std``, accuracy points). Statistics that need two scenarios are NaN below that.

    Raises:
        ValueError: as :func:`cell_statistics`; ``split`` has no row; ``against`` or a method of
            ``methods`` has no row; ``methods`` is empty or holds ``against`` or a name twice;
            ``confidence``, ``power`` or ``alpha`` is not strictly between 0 and 1, or
            ``power <= alpha``; a scenario holds a method twice.
    """
    frame = _frame(rows)
    if isinstance(methods, str):
        methods = (methods,)
    methods = tuple(methods)
    if not methods:
        raise ValueError("methods is empty: pass the methods to compare, e.g. ('assd',)")
    if against in methods or len(set(methods)) != len(methods):
        raise ValueError(f"methods={methods!r} must name each method once and not "
                         f"against={against!r}")
    confidence = _check_probability("confidence", confidence, hint="e.g. 0.95")
    alpha = _check_probability("alpha", alpha, hint="the level of the test, e.g. 0.05")
    power = _check_probability("power", power, hint="the wanted power, e.g. 0.8")
    if power <= alpha:
        raise ValueError(f"power={power} must exceed alpha={alpha}")
    part = _select_split(frame, split)
    _check_methods(part, [against], "against")
    _check_methods(part, methods, "methods")
    wide = _paired_wide(part)
    t_quantile = (1 + confidence) / 2
    out = []
    for (size, pct, _), cell in wide.groupby(level=_CELL, sort=False):
        for m in methods:
            pair = cell[[m, against]].dropna()       # both columns exist: _check_methods
            record = {"model_size": size, "error_pct": pct, "method": m, "against": against}
            record.update(_paired_record(pair, m, against, t_quantile, alpha, power))
            out.append(record)
    table = pd.DataFrame(out)
    table["p_paired_holm"] = np.nan
    table["p_ind_holm"] = np.nan
    for index in table.groupby("method", sort=False).groups.values():
        table.loc[index, "p_paired_holm"] = holm_adjust(table.loc[index, "p_paired"])
        table.loc[index, "p_ind_holm"] = holm_adjust(table.loc[index, "p_ind"])
    return table[_PAIRED_COLUMNS]


def verdict(ci_low: ArrayLike, ci_high: ArrayLike, direction: ArrayLike) -> str | np.ndarray:
    """The book's verdict on a claimed direction of an effect, from its confidence interval.

    ``"supported"`` where the interval excludes 0 on the claimed side (``direction=+1``:
    ``ci_low > 0``; ``-1``: ``ci_high < 0``), ``"contradicted"`` where it excludes 0 on the
    other side, ``"undecided"`` otherwise (0 inside the interval, or a NaN bound).

    Args:
        ci_low: lower bound(s) of the interval; scalar or array.
        ci_high: upper bound(s), broadcastable with ``ci_low``.
        direction: the claimed sign(s) of the effect, ``+1`` or ``-1`` (broadcastable).

    Returns:
        A ``str`` when all three inputs are scalars, else an array of ``str`` of the
        broadcast shape.

    Raises:
        ValueError: ``direction`` holds something other than +1 or -1; a ``ci_low`` exceeds
            its ``ci_high``; the shapes do not broadcast.
    """
    low = np.asarray(ci_low, dtype=float)
    high = np.asarray(ci_high, dtype=float)
    sign = np.asarray(direction, dtype=float)
    if np.any((sign != 1) & (sign != -1)):
        raise ValueError(f"direction={direction!r} must be +1 (claimed increase) or -1 "
                         "(claimed decrease)")
    try:
        low, high, sign = np.broadcast_arrays(low, high, sign)
    except ValueError as err:
        raise ValueError(f"ci_low, ci_high and direction have the shapes {np.shape(ci_low)}, "
                         f"{np.shape(ci_high)}, {np.shape(direction)}, which do not broadcast: "
                         "pass arrays of one shape") from err
    if np.any(low > high):
        raise ValueError("ci_low exceeds ci_high somewhere: pass (ci_low, ci_high) in that order")
    above = low > 0
    below = high < 0
    claimed = np.where(sign > 0, above, below)
    opposite = np.where(sign > 0, below, above)
    out = np.where(claimed, "supported", np.where(opposite, "contradicted", "undecided"))
    if out.ndim == 0:
        return str(out)
    return out


def _gains_of(part: pd.DataFrame, method: str, against: str) -> np.ndarray:
    wide = _paired_wide(part)
    if method not in wide.columns or against not in wide.columns:
        return np.empty(0)
    pair = wide[[method, against]].dropna()
    return np.asarray(pair[method] - pair[against], dtype=float)


def compare_sizes(rows: pd.DataFrame | Sequence[Mapping[str, Any]], size_a: str, size_b: str, *,
                  error_pct: float, method: str = "assd", against: str = "baseline",
                  split: str = "test", confidence: float = 0.95) -> dict[str, Any]:
    """Claim C6 ("larger models gain more"): Welch's test of the gains of two model sizes.

    The gain of a scenario is ``method - against`` (accuracy points) of one replicate; the two
    sizes' scenarios are independent, so their mean gains are compared with Welch's t-test
    (``scipy.stats.ttest_ind(equal_var=False)``).

    Args:
        rows: the tidy rows of :func:`~assd_repro.experiments.error_unlearning.run_error_unlearning`.
        size_a: the first model size (e.g. ``"5x250"``): the difference is ``a - b``.
        size_b: the second model size (e.g. ``"2x50"``).
        error_pct: the error rate (percent of training rows mislabelled), e.g. ``1.0``.
        method: the method whose gain is compared.
        against: the reference of the gain.
        split: ``"test"`` or ``"train"``.
        confidence: level of the Welch interval of the difference.

    Returns:
        ``{"size_a", "size_b", "error_pct", "method", "against", "split", "gain_a", "gain_b"``
        (mean gains, points), ``"diff"`` (``gain_a - gain_b``, points), ``"ci_low", "ci_high"``
        (Welch t-interval at ``confidence``, Welch-Satterthwaite degrees of freedom), ``"df"``,
        ``"p_value"`` (two-sided), ``"n_a", "n_b"`` (paired scenarios)``}``; the interval, df
        and p-value are NaN when both sizes' gains are constant.

    Raises:
        ValueError: as :func:`cell_statistics`; ``size_a == size_b``; a size, ``split``,
            ``error_pct``, ``method`` or ``against`` has no row; fewer than two paired
            scenarios of a size; ``confidence`` not strictly between 0 and 1.
    """
    if size_a == size_b:
        raise ValueError(f"size_a and size_b are both {size_a!r}: pass two different sizes")
    if method == against:
        raise ValueError(f"method and against are both {method!r}: pass two different methods")
    confidence = _check_probability("confidence", confidence, hint="e.g. 0.95")
    frame = _frame(rows)
    part = _select_rate(_select_split(frame, split), error_pct)
    _check_methods(part, [method, against], "method/against")
    gains = {}
    for name, size in (("size_a", size_a), ("size_b", size_b)):
        g = _gains_of(_select_size(part, name, size), method, against)
        if len(g) < 2:
            raise ValueError(f"{name}={size!r} at error_pct={error_pct} has {len(g)} scenario(s) "
                             f"with both {method!r} and {against!r}: Welch's test needs two or "
                             "more; run more replicates")
        gains[name] = g
    a, b = gains["size_a"], gains["size_b"]
    n_a, n_b = len(a), len(b)
    va, vb = a.var(ddof=1) / n_a, b.var(ddof=1) / n_b
    diff = float(a.mean() - b.mean())
    se2 = va + vb
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        p_value = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    if se2 > 0:
        df = float(se2**2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1)))
        half = float(stats.t.ppf((1 + confidence) / 2, df)) * math.sqrt(se2)
        ci_low, ci_high = diff - half, diff + half
    else:
        df = ci_low = ci_high = p_value = float("nan")
    return {"size_a": size_a, "size_b": size_b, "error_pct": float(error_pct), "method": method,
            "against": against, "split": split, "gain_a": float(a.mean()),
            "gain_b": float(b.mean()), "diff": diff, "ci_low": ci_low, "ci_high": ci_high,
            "df": df, "p_value": p_value, "n_a": n_a, "n_b": n_b}


def encode_correct(correct: ArrayLike) -> str:
    """Per-row correctness as the hex string of ``numpy.packbits`` (bit order ``"big"``).

    Args:
        correct: ``(n,)`` booleans (or 0/1), one per evaluated row, in row order.

    Returns:
        ``2 * ceil(n / 8)`` lowercase hex digits; the last byte is padded with zero bits.
        :func:`decode_correct` with the same ``n`` gives the array back.

    Raises:
        ValueError: ``correct`` is not one-dimensional or holds a value other than 0/1.
    """
    arr = np.asarray(correct)
    if arr.ndim != 1:
        raise ValueError(f"correct has shape {arr.shape}: pass a one-dimensional array, one "
                         "entry per row")
    if arr.dtype != bool:
        if arr.size and not np.isin(arr, (0, 1)).all():
            raise ValueError("correct holds values other than 0/1 or True/False: pass the "
                             "boolean correctness of each row")
        arr = arr.astype(bool)
    return np.packbits(arr).tobytes().hex()


def decode_correct(hex_string: str, n: int) -> np.ndarray:
    """The boolean correctness vector of :func:`encode_correct` (a row's ``test_correct``).

    Args:
        hex_string: hex digits of ``numpy.packbits`` of the vector (bit order ``"big"``).
        n: its length (the row's ``n_eval``).

    Returns:
        ``(n,)`` bool array, ``True`` where the row was classified correctly.

    Raises:
        ValueError: ``hex_string`` is not a string of hex digits; ``n`` is not a whole number
            >= 0; the string holds another number of bytes than ``ceil(n / 8)``; the padding
            bits past ``n`` are not zero (a wrong ``n``).
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
        raise ValueError(f"n={n!r} must be a whole number of rows >= 0 (the row's n_eval)")
    try:
        raw = bytes.fromhex(hex_string)
    except (TypeError, ValueError) as err:
        raise ValueError(f"hex_string={str(hex_string)[:16]!r} is not a string of hex digits: "
                         "pass the test_correct of a row, "
                         "numpy.packbits(correct).tobytes().hex()") from err
    n = int(n)
    if len(raw) != -(-n // 8):
        raise ValueError(f"hex_string holds {len(raw)} bytes, but n={n} rows need "
                         f"{-(-n // 8)}: pass the n_eval of the same row")
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8))
    if bits[n:].any():
        raise ValueError(f"hex_string has set bits past n={n}: pass the n_eval of the same row")
    return bits[:n].astype(bool)


def _has_code(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def bootstrap_test_rows(rows: pd.DataFrame | Sequence[Mapping[str, Any]], *, model_size: str,
                        error_pct: float, method: str = "assd", against: str = "baseline",
                        n_boot: int = 2000, seed: int | None = 0,
                        confidence: float = 0.95) -> dict[str, Any]:
    """Bootstrap interval of a cell's paired mean difference that resamples the TEST ROWS.

    For each replicate with both methods, ``test_correct`` is decoded into a bool vector over
    the test rows, giving ``(n_scenarios, n_test)`` matrices ``M`` (method) and ``A``
    (``against``). The statistic is ``100 * mean(M - A)`` over scenarios and rows: accuracy
    points, equal to ``diff_mean`` of :func:`paired_comparisons` on the test split. The row
    bootstrap draws ``n_test`` row indices with replacement per resample, the same for every
    scenario and both methods, and averages the per-row mean difference ``mean_s(M - A)`` over
    them; it measures the test-set sampling error of the cell mean with the scenarios fixed.
    The two-level bootstrap also resamples the scenarios (the same row indices as the row
    bootstrap, plus ``n_scenarios`` scenario indices with replacement), so it adds the
    scenario-to-scenario variation.

    Args:
        rows: tidy rows of the error-unlearning run, whose test rows carry ``test_correct``
            (``ErrorUnlearningConfig(keep_test_predictions=True)``) and ``n_eval``.
        model_size: the cell's model size, e.g. ``"2x50"``.
        error_pct: the cell's error rate (percent), e.g. ``1.0``.
        method: the method of ``M``.
        against: the reference method of ``A``.
        n_boot: resamples per bootstrap.
        seed: seed of the ``numpy.random.Generator`` (the same seed gives the same intervals).
        confidence: level of the percentile intervals.

    Returns:
        ``{"model_size", "error_pct", "method", "against", "estimate"`` (points),
        ``"ci_low", "ci_high"`` (percentile interval of the row bootstrap), ``"se"`` (its
        standard deviation), ``"two_level_ci_low", "two_level_ci_high", "two_level_se"``
        (scenarios and rows resampled), ``"n_boot", "n_test", "n_scenarios", "confidence"}``.

    Raises:
        ValueError: as :func:`cell_statistics`; the cell has no test row of ``method`` or
            ``against``; its rows lack ``test_correct`` (the run must record test predictions)
            or ``n_eval``; no replicate holds both methods; a replicate holds a method twice;
            the scenarios were evaluated on different numbers of test rows; a decoded vector
            disagrees with the row's ``value``; ``n_boot`` is not a whole number >= 1;
            ``confidence`` is not strictly between 0 and 1.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, Integral) or n_boot < 1:
        raise ValueError(f"n_boot={n_boot!r} must be a whole number of resamples >= 1, e.g. 2000")
    if method == against:
        raise ValueError(f"method and against are both {method!r}: pass two different methods")
    confidence = _check_probability("confidence", confidence, hint="e.g. 0.95")
    frame = _frame(rows)
    cell = _select_rate(_select_size(_select_split(frame, "test"), "model_size", model_size),
                        error_pct)
    cell = cell[cell["method"].isin([method, against])]
    _check_methods(cell, [method, against], "method/against")
    _refuse_duplicates(cell)
    where = f"cell (model_size={model_size!r}, error_pct={error_pct}, split='test')"
    if "test_correct" not in cell.columns or not cell["test_correct"].map(_has_code).all():
        raise ValueError(f"the rows of {where} lack test_correct (per-row correctness): the run "
                         "must record test predictions; rerun with "
                         "ErrorUnlearningConfig(keep_test_predictions=True)")
    if "n_eval" not in cell.columns or cell["n_eval"].isna().any():
        raise ValueError(f"the rows of {where} lack n_eval (test rows evaluated): pass the rows "
                         "of run_error_unlearning")
    n_evals = sorted({int(v) for v in cell["n_eval"]})
    if len(n_evals) != 1:
        raise ValueError(f"the scenarios of {where} were evaluated on {n_evals} test rows: the "
                         "row bootstrap needs one common test set")
    n_test = n_evals[0]
    by_method = {m: cell[cell["method"] == m].set_index("replicate") for m in (method, against)}
    replicates = [r for r in by_method[method].index if r in by_method[against].index]
    if not replicates:
        raise ValueError(f"no replicate of {where} holds both {method!r} and {against!r}")
    matrices = {}
    for m, part in by_method.items():
        mat = np.empty((len(replicates), n_test), dtype=np.int8)
        for i, r in enumerate(replicates):
            mat[i] = decode_correct(part.at[r, "test_correct"], n_test)
            decoded = 100.0 * mat[i].sum() / n_test
            if not math.isclose(decoded, float(part.at[r, "value"]), rel_tol=0, abs_tol=1e-6):
                raise ValueError(f"test_correct of {where}, replicate {r}, method {m!r} gives "
                                 f"accuracy {decoded:.6f}%, but its value is "
                                 f"{float(part.at[r, 'value']):.6f}%: the rows are inconsistent")
        matrices[m] = mat
    diff = matrices[method] - matrices[against]          # (n_scenarios, n_test) in {-1, 0, 1}
    n_scen = diff.shape[0]
    per_row = diff.mean(axis=0)                          # (n_test,) mean over scenarios
    estimate = float(100.0 * per_row.mean())
    rng = np.random.default_rng(seed)
    rows_boot = np.empty(n_boot)
    two_boot = np.empty(n_boot)
    # Integer counts and sums below 2**24: float32 products are exact and halve the work.
    diff_t = np.ascontiguousarray(diff.T, dtype=np.float32)     # (n_test, n_scenarios)
    chunk = max(1, min(n_boot, (1 << 22) // max(1, n_test)))
    for start in range(0, n_boot, chunk):
        b = min(n_boot, start + chunk) - start
        idx = rng.integers(0, n_test, size=(b, n_test))         # the same rows for all scenarios
        rows_boot[start:start + b] = 100.0 * per_row[idx].mean(axis=1)
        # Two-level: how often each row was drawn, times each scenario's differences.
        counts = np.bincount((idx + n_test * np.arange(b)[:, None]).ravel(),
                             minlength=b * n_test).reshape(b, n_test).astype(np.float32)
        per_scen = (counts @ diff_t).astype(float) / n_test     # (b, n_scenarios), row-resampled
        pick = rng.integers(0, n_scen, size=(b, n_scen))
        two_boot[start:start + b] = 100.0 * np.take_along_axis(per_scen, pick, axis=1).mean(axis=1)
    q = [(1 - confidence) / 2, (1 + confidence) / 2]
    ci = np.quantile(rows_boot, q)
    ci2 = np.quantile(two_boot, q)
    return {"model_size": model_size, "error_pct": float(error_pct), "method": method,
            "against": against, "estimate": estimate,
            "ci_low": float(ci[0]), "ci_high": float(ci[1]),
            "se": float(rows_boot.std(ddof=1)) if n_boot > 1 else float("nan"),
            "two_level_ci_low": float(ci2[0]), "two_level_ci_high": float(ci2[1]),
            "two_level_se": float(two_boot.std(ddof=1)) if n_boot > 1 else float("nan"),
            "n_boot": int(n_boot), "n_test": n_test, "n_scenarios": n_scen,
            "confidence": confidence}
