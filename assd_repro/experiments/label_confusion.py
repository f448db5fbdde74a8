"""Where the forgotten rows go: the predictions of a model on the wrong-label rows, and on the
test rows of the same true class, split into *true label*, *the wrong label* and *a third class*.

The paper argues that confusion methods (training towards random or other wrong labels on Df)
suit label errors badly, because they push real observations to yet another wrong label. This
module measures that claim. The shares are given per pair ``(true class, wrong label)``: on the
supply-chain data a leaking feature gives the class "late" away, so shares pooled over classes
would mix an easy class with hard ones.

For a pair ``(c, w)``:

- on Df: the rows whose true class is ``c`` and whose (wrong) training label is ``w``, and the
  share of them predicted ``c`` (repaired), ``w`` (the error kept) or another class (moved to
  a third label);
- on the test rows whose true class is ``c``: the share predicted ``c``, ``w`` or another class
  (what the method does to real observations of the class, beyond the rows it forgot).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

__all__ = ["SHARE_COLUMNS", "confusion_shares"]

#: the share columns of :func:`confusion_shares` (%), Df then test
SHARE_COLUMNS: tuple[str, ...] = ("forget_true", "forget_wrong", "forget_other",
                                  "test_true", "test_wrong", "test_other")


def _labels(name: str, values: np.ndarray | torch.Tensor) -> np.ndarray:
    array = values.numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} has shape {array.shape}; pass one class index per row, "
                         "shape (n,)")
    if array.size and (not np.issubdtype(array.dtype, np.integer) or array.min() < 0):
        raise ValueError(f"{name} must hold class indices >= 0 (integers), got dtype "
                         f"{array.dtype} with minimum {array.min()}")
    return array.astype(np.int64)


def confusion_shares(
    pred_forget: np.ndarray | torch.Tensor,
    y_true_forget: np.ndarray | torch.Tensor,
    y_wrong_forget: np.ndarray | torch.Tensor,
    pred_test: np.ndarray | torch.Tensor,
    y_test: np.ndarray | torch.Tensor,
) -> pd.DataFrame:
    """The shares of predictions on the true label, the wrong label and a third class.

    Args:
        pred_forget: ``(n_forget,)`` predicted class of each wrong-label row (Df).
        y_true_forget: ``(n_forget,)`` the rows' true classes.
        y_wrong_forget: ``(n_forget,)`` their wrong training labels (each differs from the
            true class).
        pred_test: ``(n_test,)`` predicted class of each test row.
        y_test: ``(n_test,)`` the test rows' true classes.

    Returns:
        One row per pair ``(true, wrong)`` present in Df, sorted, with columns ``true``,
        ``wrong``, ``n_forget``, ``forget_true``, ``forget_wrong``, ``forget_other`` (% of the
        pair's Df rows), ``n_test`` (test rows of class ``true``), ``test_true``,
        ``test_wrong``, ``test_other`` (% of those test rows; NaN when there are none). Each
        triple of shares sums to 100.

    Raises:
        ValueError: a label array is not one-dimensional or holds something other than class
            indices >= 0; the three Df arrays, or the two test arrays, differ in length; a
            wrong label equals its true class (that row is not a label error).
    """
    pf, tf, wf = (_labels(n, v) for n, v in (("pred_forget", pred_forget),
                                              ("y_true_forget", y_true_forget),
                                              ("y_wrong_forget", y_wrong_forget)))
    pt, yt = _labels("pred_test", pred_test), _labels("y_test", y_test)
    if not len(pf) == len(tf) == len(wf):
        raise ValueError(f"pred_forget, y_true_forget and y_wrong_forget have {len(pf)}, "
                         f"{len(tf)} and {len(wf)} rows; pass one entry per Df row to each")
    if len(pt) != len(yt):
        raise ValueError(f"pred_test has {len(pt)} rows and y_test {len(yt)}; pass one "
                         "prediction per test row")
    same = np.flatnonzero(tf == wf)
    if same.size:
        raise ValueError(f"{same.size} Df rows have a wrong label equal to their true class "
                         f"(first at position {same[0]}); pass only rows whose label was "
                         "changed (for example ErrorSplit's rows with y_noisy != y_clean)")
    columns = ["true", "wrong", "n_forget", *SHARE_COLUMNS[:3], "n_test", *SHARE_COLUMNS[3:]]
    records = []
    for c, w in sorted(set(zip(tf.tolist(), wf.tolist(), strict=True))):
        rows = (tf == c) & (wf == w)
        test = yt == c
        records.append({"true": c, "wrong": w, "n_forget": int(rows.sum()),
                        **_split_shares("forget", pf[rows], c, w),
                        "n_test": int(test.sum()), **_split_shares("test", pt[test], c, w)})
    return pd.DataFrame.from_records(records, columns=columns)


def _split_shares(prefix: str, pred: np.ndarray, true: int, wrong: int) -> dict[str, float]:
    """``{prefix}_true``, ``{prefix}_wrong``, ``{prefix}_other`` (%) of ``pred``."""
    if pred.size == 0:
        return {f"{prefix}_{k}": float("nan") for k in ("true", "wrong", "other")}
    other = (pred != true) & (pred != wrong)
    return {f"{prefix}_true": 100 * float(np.mean(pred == true)),
            f"{prefix}_wrong": 100 * float(np.mean(pred == wrong)),
            f"{prefix}_other": 100 * float(np.mean(other))}
