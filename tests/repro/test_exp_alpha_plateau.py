"""Alpha plateau (Fig. 3) at the smoke profile: rows, ASSD's alpha, huge alpha, determinism."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader

from assd_core import adaptive_percentile, compute_importances, forget_importances, select_alpha
from assd_repro.data import ForgetTask
from assd_repro.experiments import PROFILES, ArtifactCache, image_pipeline
from assd_repro.experiments.alpha_plateau import (
    AlphaPlateauConfig,
    plateau_bounds,
    run_alpha_plateau,
)
from assd_repro.experiments.image_pipeline import baseline_model, load_data, make_task

VALUE_COLUMNS = ["scenario", "task", "kind", "target", "method", "alpha", "metric", "value"]
HUGE_ALPHA = 1e9


def smoke_config() -> AlphaPlateauConfig:
    """The smoke profile with a grid reaching an alpha that selects nothing."""
    return AlphaPlateauConfig.for_profile("smoke", alpha_max=HUGE_ALPHA, n_alpha=5)


FORGET_PASSES: list[str] = []


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, ArtifactCache]:
    """The smoke run (cached artefacts), counting the forget-importance passes."""
    cache = ArtifactCache(tmp_path_factory.mktemp("cache"))

    def counted(model, loader, full):  # noqa: ANN001, ANN202
        FORGET_PASSES.append(loader.dataset)
        return forget_importances(model, loader, full)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(image_pipeline, "forget_importances", counted)
        rows = run_alpha_plateau(smoke_config(), results_dir=tmp_path_factory.mktemp("results"),
                                 cache=cache, progress=False)
    return rows, cache


def _metrics(rows: pd.DataFrame, task_kind: str, method: str) -> pd.DataFrame:
    part = rows[(rows["kind"] == task_kind) & (rows["method"] == method)]
    return part.pivot_table(index="alpha", columns="metric", values="value", dropna=False)


@pytest.mark.slow
def test_rows_shape_and_columns(run: tuple[pd.DataFrame, ArtifactCache]) -> None:
    rows, _ = run
    config = smoke_config()
    assert list(rows.columns[:3]) == ["experiment", "config_hash", "scenario"]
    assert set(VALUE_COLUMNS) <= set(rows.columns)
    per_task = 3 + 4 * config.n_alpha + 5  # baseline, SSD per alpha, ASSD (+ percentile)
    assert len(rows) == len(config.tasks) * per_task
    assert set(rows["method"]) == {"baseline", "ssd", "assd"}
    assert rows["task"].unique().tolist() == ["mnist_sample/fullclass/3", "mnist_sample/subclass/3"]
    ssd = rows[rows["method"] == "ssd"]
    np.testing.assert_allclose(np.sort(ssd["alpha"].unique()), config.alphas())
    assert rows.loc[rows["method"] == "baseline", "alpha"].isna().all()
    selected = ssd[ssd["metric"] == "fraction_selected"]
    assert selected["value"].between(0, 1).all()
    for kind in ("fullclass", "subclass"):  # a larger alpha never selects more parameters
        shares = _metrics(rows, kind, "ssd")["fraction_selected"].sort_index()
        assert shares.is_monotonic_decreasing


@pytest.mark.slow
def test_forget_importances_once_per_task(run: tuple[pd.DataFrame, ArtifactCache]) -> None:
    """[]_Df does not depend on alpha: one pass per task, shared by every alpha and ASSD."""
    assert len(FORGET_PASSES) == len(smoke_config().tasks)


def _task_importances(config: AlphaPlateauConfig, cache: ArtifactCache) -> Iterator[
        tuple[str, ForgetTask, dict[str, torch.Tensor], dict[str, torch.Tensor]]]:
    """Per task of ``config``: its kind, the task, and ``[]_Dr`` and ``[]_Df`` of the scenario's
    baseline (loaded from ``cache``), recomputed here at the setup's batch size."""
    data = load_data(config.setup)
    batch = config.setup.batch_size
    for kind, target in config.tasks:
        task = make_task(data, kind, target)
        model = baseline_model(config.setup, task, cache)
        full = compute_importances(model, DataLoader(task.retain_train, batch_size=batch))
        forget = compute_importances(model, DataLoader(task.forget_train, batch_size=batch))
        yield kind, task, full, forget


@pytest.mark.slow
def test_assd_alpha_is_the_adaptive_percentile(run: tuple[pd.DataFrame, ArtifactCache]) -> None:
    rows, cache = run
    config = smoke_config()
    for kind, task, full, forget in _task_importances(config, cache):
        p = adaptive_percentile(len(task.forget_train), len(task.full_train))
        assd = _metrics(rows, kind, "assd")
        assert assd.index.tolist() == [pytest.approx(select_alpha(full, forget, p), rel=1e-12)]
        assert assd["percentile"].iloc[0] == pytest.approx(p, rel=1e-15)


@pytest.mark.slow
def test_huge_alpha_selects_only_what_the_retain_data_never_use(
        run: tuple[pd.DataFrame, ArtifactCache]) -> None:
    """At alpha = 1e9 SSD selects only the elements with ``[]_Df > 1e9 []_D``: in practice those
    whose retain importance is 0 while the forget one is not (their factor is 0: they are
    zeroed). Where there is none, the model, and so every metric, stays as it was."""
    rows, cache = run
    config = smoke_config()
    for kind, _, full, forget in _task_importances(config, cache):
        expected = sum(int((forget[name] > HUGE_ALPHA * full[name]).sum()) for name in full)
        n_parameters = sum(t.numel() for t in full.values())
        top = _metrics(rows, kind, "ssd").loc[HUGE_ALPHA]
        assert round(top["fraction_selected"] * n_parameters) == expected, kind
        if expected == 0:
            base = _metrics(rows, kind, "baseline").iloc[0]
            for metric in ("Dr", "Df", "MIA"):
                assert top[metric] == base[metric]


@pytest.mark.slow
def test_same_seed_same_rows(tmp_path: Path, run: tuple[pd.DataFrame, ArtifactCache]) -> None:
    """A second run without the cache (the baseline is trained again) gives equal rows; one task
    of the two, to save time (each task's rows depend on that task only)."""
    rows, _ = run
    config = dataclasses.replace(smoke_config(), tasks=(("subclass", "3"),))
    again = run_alpha_plateau(config, results_dir=tmp_path, cache=ArtifactCache(None),
                              progress=False)
    first = rows[rows["kind"] == "subclass"].reset_index(drop=True)
    pd.testing.assert_frame_equal(again[VALUE_COLUMNS], first[VALUE_COLUMNS])


@pytest.mark.slow
def test_plateau_bounds_of_a_run(run: tuple[pd.DataFrame, ArtifactCache]) -> None:
    rows, _ = run
    bounds = plateau_bounds(rows, tolerance=100.0)  # every grid point qualifies
    assert bounds["task"].tolist() == rows["task"].unique().tolist()
    assert (bounds["n_points"] == smoke_config().n_alpha).all()
    assert bounds["alpha_low"].tolist() == pytest.approx([0.1, 0.1])
    assert bounds["alpha_high"].tolist() == pytest.approx([HUGE_ALPHA, HUGE_ALPHA])


def _synthetic(dr: list[float], mia: list[float], *, assd_alpha: float,
               assd_mia: float = 0.5) -> list[dict]:
    alphas = [0.1, 1.0, 10.0, 100.0, 1000.0][: len(dr)]
    labels = {"task": "t", "kind": "fullclass"}
    rows = [{**labels, "method": "baseline", "alpha": math.nan, "metric": m, "value": v}
            for m, v in (("Dr", 90.0), ("Df", 95.0), ("MIA", 80.0))]
    for a, d, m in zip(alphas, dr, mia, strict=True):
        rows += [{**labels, "method": "ssd", "alpha": a, "metric": "Dr", "value": d},
                 {**labels, "method": "ssd", "alpha": a, "metric": "MIA", "value": m}]
    rows += [{**labels, "method": "assd", "alpha": assd_alpha, "metric": "Dr", "value": 90.0},
             {**labels, "method": "assd", "alpha": assd_alpha, "metric": "MIA", "value": assd_mia}]
    return rows


def test_plateau_bounds_definition() -> None:
    # Dr: too low at 0.1; MIA: back at the baseline's at 1000; plateau 1-100.
    rows = _synthetic([50.0, 89.0, 90.0, 90.5, 90.0], [0.0, 1.0, 0.5, 2.0, 80.0], assd_alpha=20.0)
    (got,) = plateau_bounds(rows, tolerance=2.0).to_dict("records")
    assert (got["alpha_low"], got["alpha_high"], got["n_points"]) == (1.0, 100.0, 3)
    assert got["dr_baseline"] == 90.0 and got["mia_min"] == 0.0 and got["assd_in_bounds"]
    assert got["assd_meets_criteria"]
    unlearnt_too_little = _synthetic([50.0, 89.0, 90.0, 90.5, 90.0], [0.0, 1.0, 0.5, 2.0, 80.0],
                                     assd_alpha=20.0, assd_mia=50.0)
    (worse,) = plateau_bounds(unlearnt_too_little, tolerance=2.0).to_dict("records")
    assert worse["assd_in_bounds"] and not worse["assd_meets_criteria"]
    (tight,) = plateau_bounds(rows, tolerance=0.5, mia_tolerance=1.0).to_dict("records")
    assert (tight["alpha_low"], tight["alpha_high"]) == (10.0, 10.0)  # 89 and MIA 2 fail
    outside = _synthetic([50.0, 89.0, 90.0, 90.5, 90.0], [0.0, 1.0, 0.5, 2.0, 80.0], assd_alpha=500)
    assert not plateau_bounds(outside, tolerance=2.0)["assd_in_bounds"].item()
    # the longest run wins; none qualifies gives NaN bounds
    split = _synthetic([90.0, 0.0, 90.0, 90.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0], assd_alpha=1.0)
    (longest,) = plateau_bounds(split, tolerance=1.0).to_dict("records")
    assert (longest["alpha_low"], longest["alpha_high"]) == (10.0, 100.0)
    none = _synthetic([0.0, 0.0], [0.0, 0.0], assd_alpha=1.0)
    (empty,) = plateau_bounds(none, tolerance=1.0).to_dict("records")
    assert empty["n_points"] == 0 and math.isnan(empty["alpha_low"]) and not empty["assd_in_bounds"]
    with pytest.raises(ValueError, match="tolerance=-1"):
        plateau_bounds(rows, tolerance=-1)
    with pytest.raises(ValueError, match="rows is empty"):
        plateau_bounds([], tolerance=1.0)


def test_plateau_bounds_refuses_rows_without_the_plateau_columns() -> None:
    rows = pd.DataFrame(_synthetic([90.0, 90.0], [0.0, 0.0], assd_alpha=1.0)).drop(columns="alpha")
    with pytest.raises(ValueError, match=r"rows lack the column\(s\) \['alpha'\]: pass the rows "
                                         r"of run_alpha_plateau"):
        plateau_bounds(rows)


@pytest.mark.parametrize("dropped", ["baseline", "ssd"])
def test_plateau_bounds_refuses_a_task_without_baseline_or_ssd_rows(dropped: str) -> None:
    rows = [r for r in _synthetic([90.0, 90.0], [0.0, 0.0], assd_alpha=1.0)
            if r["method"] != dropped]
    with pytest.raises(ValueError, match=r"task 't' lacks the baseline's Dr or SSD's Dr and MIA "
                                         r"rows"):
        plateau_bounds(rows)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"alpha_min": 0.0}, "alpha_min=0.0"),
        ({"alpha_min": -1.0}, "alpha_min=-1.0"),
        ({"alpha_max": 0.05}, "alpha_max=0.05 must be greater than alpha_min=0.1"),
        ({"n_alpha": 1}, "n_alpha=1"),
        ({"tasks": ()}, r"tasks=\(\)"),
        ({"tasks": (("forget", "3"),)}, "task \\('forget', '3'\\)"),
        ({"tasks": (("fullclass", "3"), ("fullclass", "3"))}, "holds a task twice"),
    ],
)
def test_bad_values_raise(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AlphaPlateauConfig.for_profile("smoke", **overrides)


def test_profiles_hash_and_plain_values() -> None:
    hashes = {p: AlphaPlateauConfig.for_profile(p).content_hash() for p in PROFILES}
    assert len(set(hashes.values())) == 3
    paper = AlphaPlateauConfig.for_profile("paper")
    assert paper.setup_for("fullclass").dataset == "cifar100"
    assert paper.setup_for("subclass").dataset == "cifar20"
    assert paper.setup_for("subclass").milestones == (15, 30, 35)
    smoke = AlphaPlateauConfig.for_profile("smoke")
    assert smoke.setup_for("subclass") == smoke.setup
    plain = AlphaPlateauConfig.for_profile(
        "smoke", tasks=[["fullclass", "3"], ["subclass", "3"]], setup=smoke.to_dict()["setup"]
    )
    assert plain == smoke and plain.content_hash() == smoke.content_hash()
    np.testing.assert_allclose(AlphaPlateauConfig.for_profile("book").alphas()[[0, 5, 10, 15]],
                               [0.1, 1.0, 10.0, 100.0])
    book = AlphaPlateauConfig.for_profile("book")
    assert book.setup.dataset == "cifar10_jpeg" and len(book.tasks) == 6
    assert {kind for kind, _ in book.tasks} == {"fullclass", "subclass"}


def test_mia_df_verdict_follows_the_forget_accuracy() -> None:
    from assd_repro.experiments.alpha_plateau import mia_df_verdict

    assert "still recognised" in mia_df_verdict(60.0)
    assert "agree" in mia_df_verdict(5.0)
    assert "agree" in mia_df_verdict(25.0) and "still recognised" in mia_df_verdict(25.1)
