"""The README's results table is generated from the stored runs and current."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from assd_repro.experiments import results_table as rt
from assd_repro.experiments.stored_runs import read_manifest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
RESULTS = REPO / "results"


@pytest.fixture(scope="module")
def table() -> str:
    return rt.results_table(RESULTS)


def test_readme_results_table_is_current() -> None:
    assert rt.main(["--check", "--readme", str(README), "--results", str(RESULTS)]) == 0


def test_a_stale_or_edited_table_is_found(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    edited = text.replace("| book |", "| smoke |", 1)
    assert edited != text and rt.render_readme(edited, table) == text


def test_every_stored_run_gives_its_number_and_the_others_say_not_stored(
        table: str, tmp_path: Path) -> None:
    stored = set(read_manifest(RESULTS)["runs"])
    for row in rt.RESULT_ROWS:
        line = next(x for x in table.splitlines() if x.startswith(f"| {row.item} |"))
        if row.runs and set(row.runs) <= stored and row.runs[0].startswith("cifar10-"):
            # image runs: a CIFAR-10 headline and a verdict decided by the numbers
            assert re.search(r"(ResNet18|ViT), CIFAR-10", line) and any(
                word in line for word in ("supported", "contradicted", "undecided")), line
        elif row.runs and set(row.runs) <= stored:
            assert "− baseline" in line and "95 % CI" in line, line
        elif row.runs:
            assert "not stored yet" in line, line
    empty = rt.results_table(tmp_path)  # no manifest: no number at all
    assert "95 % CI" not in empty and empty.count("not stored yet") == sum(
        bool(r.runs) for r in rt.RESULT_ROWS)


def test_readme_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="results table markers"):
        rt.render_readme("# A README\n", "| table |")


def test_paper_headlines_come_from_the_paper_tables() -> None:
    assert rt.paper_image_headline("random").startswith("resnet18, Df accuracy: ASSD 95.3 %")


def test_method_row_names_the_best_method_and_the_recommendation() -> None:
    import math

    import pandas as pd

    rows = pd.DataFrame([
        {"model_size": "3x100", "error_pct": 5.0, "replicate": r, "method": m,
         "metric": metric, "true": math.nan, "wrong": math.nan, "value": v}
        for r in range(3) for m, acc in (("baseline", 80.0), ("assd", 80.5 + 0.1 * r),
                                         ("scrub", 79.0 + r))
        for metric, v in (("test_accuracy", acc), ("failed", 0.0), ("method_s", 1.0))])
    ours, paper, verdict = rt._method_cell(rows)
    assert ours == ("best at 3x100, 5 %: assd − baseline +0.60 pts (95 % CI +0.35 to +0.85, "
                    "n = 3)")
    assert paper == "not in the paper" and verdict == "recommended (book's rule): 5 %: assd"
    with pytest.raises(ValueError, match="no cell"):
        rt._method_cell(rows.assign(model_size="2x50"))
