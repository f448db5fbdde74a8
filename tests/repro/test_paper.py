"""The shipped copy of the paper's tables equals ../shared and reads as documented."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SHARED

from assd_repro.paper import PAPER_TABLES, paper_table


@pytest.mark.parametrize("name", sorted(PAPER_TABLES))
def test_shipped_copy_equals_the_shared_tables(name: str) -> None:
    source = SHARED / "paper" / "tables" / PAPER_TABLES[name]
    if not source.is_file():
        pytest.skip(f"{source} is absent (../shared not beside the checkout)")
    from importlib import resources

    shipped = (resources.files("assd_repro") / "paper_data" / PAPER_TABLES[name]).read_text()
    assert shipped == source.read_text()


def test_tables_read_as_documented() -> None:
    t1 = paper_table("fullclass")
    assert len(t1) == 252 and set(t1["method"]) == {"baseline", "retrain", "assd", "ssd"}
    assert set(t1["metric"]) == {"Dr", "Df", "MIA"}
    row = t1.query("dataset == 'cifar100' and forget_class == 'baby' and model == 'resnet18' "
                   "and method == 'baseline' and metric == 'Dr'")
    assert row["mean"].item() == 76.38
    t4 = paper_table("error_unlearning")
    assert len(t4) == 36 and set(t4["error_pct"]) == {0.25, 1.0, 2.5, 5.0, 7.5, 10.0}
    assert "<0.05" in set(t4["p_value"])
    assert pd.api.types.is_float_dtype(t4["unlearn_mean"])
    assert paper_table("random")["forget_class"].eq("").all()


def test_unknown_table() -> None:
    with pytest.raises(ValueError, match="unknown paper table 'table9'"):
        paper_table("table9")
