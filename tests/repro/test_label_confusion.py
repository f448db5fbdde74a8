"""Where the forgotten rows go: the shares against a slow row-by-row count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from assd_repro.experiments.label_confusion import SHARE_COLUMNS, confusion_shares


def slow_shares(pf, tf, wf, pt, yt) -> pd.DataFrame:
    """The same table, one row at a time."""
    records = []
    for c, w in sorted({(int(a), int(b)) for a, b in zip(tf, wf)}):
        counts = {"forget": [0, 0, 0], "test": [0, 0, 0]}
        for prefix, preds, trues, wrongs in (("forget", pf, tf, wf), ("test", pt, yt, None)):
            for i, p in enumerate(preds):
                if trues[i] != c or (wrongs is not None and wrongs[i] != w):
                    continue
                counts[prefix][0 if p == c else 1 if p == w else 2] += 1
        record = {"true": c, "wrong": w}
        for prefix in ("forget", "test"):
            n = sum(counts[prefix])
            record[f"n_{prefix}"] = n
            for k, name in enumerate(("true", "wrong", "other")):
                record[f"{prefix}_{name}"] = 100 * counts[prefix][k] / n if n else float("nan")
        records.append(record)
    return pd.DataFrame(records)


def test_shares_match_a_row_by_row_count() -> None:
    rng = np.random.default_rng(0)
    n_classes = 4
    tf = rng.integers(0, n_classes, 300)
    wf = (tf + rng.integers(1, n_classes, 300)) % n_classes
    pf = rng.integers(0, n_classes, 300)
    yt = rng.integers(0, 3, 200)  # class 3 has no test row: NaN shares
    pt = rng.integers(0, n_classes, 200)
    fast = confusion_shares(torch.from_numpy(pf), tf, wf, pt, torch.from_numpy(yt))
    slow = slow_shares(pf, tf, wf, pt, yt)
    pd.testing.assert_frame_equal(fast[slow.columns], slow, check_dtype=False)
    assert len(fast) == 12  # every (true, wrong) pair of 4 classes
    for prefix in ("forget", "test"):
        sums = fast[[f"{prefix}_true", f"{prefix}_wrong", f"{prefix}_other"]].sum(axis=1)
        assert np.allclose(sums[fast[f"n_{prefix}"] > 0], 100.0)
    assert fast.loc[fast["true"] == 3, list(SHARE_COLUMNS[3:])].isna().all().all()


def test_a_model_that_repairs_every_row_has_all_its_share_on_the_true_label() -> None:
    tf, wf = np.array([0, 0, 1, 2]), np.array([1, 2, 0, 1])
    table = confusion_shares(tf, tf, wf, np.array([0, 1, 2]), np.array([0, 1, 2]))
    assert (table["forget_true"] == 100).all() and (table["forget_other"] == 0).all()
    assert table[["true", "wrong"]].values.tolist() == [[0, 1], [0, 2], [1, 0], [2, 1]]


@pytest.mark.parametrize(("args", "message"), [
    ((np.zeros((2, 2), int), [0, 0], [1, 1], [0], [0]), r"pred_forget has shape \(2, 2\)"),
    (([0.5], [0], [1], [0], [0]), "pred_forget must hold class indices"),
    (([0, 1], [0], [1], [0], [0]), "have 2, 1 and 1 rows"),
    (([0], [0], [1], [0, 1], [0]), "pred_test has 2 rows and y_test 1"),
    (([0, 1], [0, 1], [1, 1], [0], [0]), "1 Df rows have a wrong label equal to their true "
                                          "class \\(first at position 1\\)"),
])
def test_bad_input_names_the_value_and_the_fix(args, message) -> None:
    with pytest.raises(ValueError, match=message):
        confusion_shares(*args)
