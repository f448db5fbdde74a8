"""Every case of the bad-input catalogue (``assd_repro.input_checks.CASES``, also the book's
table): the documented error and message, raised before any work, with the model (parameters,
buffers, every module's training flag) and the files in its folder left exactly as they were."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from assd_repro.input_checks import CASES, BadInput, Bench, checks_table, raise_site, run_case


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_leaves_everything_untouched(case: BadInput, tmp_path: Path) -> None:
    bench = Bench(tmp_path)
    bench.model.train()
    bench.model[1].eval()  # a frozen BatchNorm inside a model in train mode
    if case.setup is not None:
        case.setup(bench)
    tensors, flags, files = bench.state()
    error = run_case(case, bench)
    assert re.search(case.match, str(error)), f"{case.id}: message {str(error)!r} !~ {case.match!r}"
    after_tensors, after_flags, after_files = bench.state()
    assert after_flags == flags, f"{case.id}: training flags changed"
    assert after_tensors.keys() == tensors.keys()
    for name, value in tensors.items():
        assert torch.equal(after_tensors[name], value), f"{case.id}: {name} changed"
    assert after_files == files, f"{case.id}: files changed"
    assert raise_site(error) != "?", f"{case.id}: raised outside assd_core/assd_repro"


def test_catalogue_covers_at_least_40_distinct_checks() -> None:
    """Distinct checks: each case is raised from its own line of code."""
    table = checks_table()
    assert len(table) == len(CASES)
    assert table["checked at"].is_unique, table[table["checked at"].duplicated(keep=False)]
    assert table["checked at"].nunique() >= 40
    packages = set(table["function"].str.split(".").str[0])
    assert packages == {"assd_core", "assd_repro"}


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
