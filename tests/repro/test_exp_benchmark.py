"""Benchmark tables (paper Tables 1-3): smoke runs, recorded ASSD choices, summaries, configs."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from assd_core import adaptive_percentile, forget_importances, select_alpha
from assd_repro.experiments import ArtifactCache
from assd_repro.experiments import image_pipeline as pipeline
from assd_repro.experiments.benchmark import (
    BENCHMARK_METHODS,
    BenchmarkConfig,
    benchmark_scenario,
    paper_ssd_alpha,
    run_benchmark,
)
from assd_repro.experiments.benchmark_report import (
    SUMMARY_KEYS,
    collapses,
    compare_benchmark_with_paper,
    paper_analogue,
    random_share_report,
    summarize,
)
from assd_repro.models import build_model
from assd_repro.paper import paper_table
from assd_repro.plots.benchmark import comparison_table, plot_methods

ROW_KEYS = ["model", "target", "method", "metric"]
TIMINGS = ["seconds", "importance_s"]
LABEL_COLUMNS = ["dataset", "kind", "model", "target", "n_forget", "method", "metric", "value"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchmarkConfig, pd.DataFrame, Path]:
    """The full-class smoke benchmark (2 seeds, ResNet18 and ViT), with a cache on disk."""
    root = tmp_path_factory.mktemp("benchmark")
    config = BenchmarkConfig.for_profile("smoke", kind="fullclass")
    return config, run_benchmark(config, results_dir=root, progress=False), root


def _values(rows: pd.DataFrame, **where: Any) -> pd.Series:
    mask = np.ones(len(rows), dtype=bool)
    for column, value in where.items():
        mask &= (rows[column] == value).to_numpy()
    return rows.loc[mask].set_index(ROW_KEYS)["value"]


def test_rows_have_every_method_and_metric(smoke: tuple[BenchmarkConfig, pd.DataFrame, Path]) -> None:
    config, rows, _ = smoke
    assert {"experiment", "config_hash", "scenario", "wall_s", *LABEL_COLUMNS} <= set(rows.columns)
    assert set(rows["scenario"]) == set(config.seeds) == {0, 1}
    assert set(rows["model"]) == {"resnet18", "vit"} and set(rows["target"]) == {"3"}
    assert (rows["dataset"] == "mnist_sample").all() and (rows["kind"] == "fullclass").all()
    common = {"Dr", "Df", "MIA", "seconds"}
    dampening = common | {"importance_s", "alpha", "lambda", "fraction_selected"}
    expected = {"baseline": common, "retrain": common, "ssd": dampening,
                "assd": dampening | {"percentile"}}
    for (seed, model, method), group in rows.groupby(["scenario", "model", "method"]):
        assert sorted(group["metric"]) == sorted(expected[method]), (seed, model, method)
    assert set(rows["method"]) == set(BENCHMARK_METHODS)
    accuracy = rows[rows["metric"].isin(["Dr", "Df", "MIA"])]["value"]
    assert accuracy.between(0, 100).all()
    assert (rows.loc[rows["metric"] == "fraction_selected", "value"].between(0, 1)).all()
    # every retrain trained afresh (own seed); the baseline came from the cache in seed 1
    seconds = _values(rows, metric="seconds")
    assert (_values(rows, metric="seconds", method="retrain") > 0).all()
    assert seconds.notna().sum() >= 6


def test_assd_records_the_adaptive_alpha(smoke: tuple[BenchmarkConfig, pd.DataFrame, Path]) -> None:
    config, rows, root = smoke
    cache = ArtifactCache(root)  # the run's baselines and []_D, bit-identical from disk
    for setup, ssd_alpha in zip(config.setups, config.ssd_alpha):
        task = pipeline.make_task(pipeline.load_data(setup), "fullclass", "3")
        model = pipeline.baseline_model(setup, task, cache)
        full = pipeline.retain_importances(setup, task, model, cache)
        forget = forget_importances(model, pipeline.forget_loader(setup, task), full)
        p = adaptive_percentile(len(task.forget_train), len(task.full_train))
        mine = rows[(rows["model"] == setup.model) & (rows["method"] == "assd")]
        for seed in config.seeds:
            got = mine[mine["scenario"] == seed].set_index("metric")["value"]
            assert got["percentile"] == p
            assert got["alpha"] == select_alpha(full, forget, p)
            assert got["lambda"] == 1.0
        ssd = rows[(rows["model"] == setup.model) & (rows["method"] == "ssd")]
        assert set(ssd.loc[ssd["metric"] == "alpha", "value"]) == {ssd_alpha}
        assert set(ssd.loc[ssd["metric"] == "lambda", "value"]) == {config.ssd_lambda}
    assert config.ssd_alpha == (paper_ssd_alpha("resnet18", "fullclass"), paper_ssd_alpha("vit", "fullclass"))


def test_baseline_and_dampening_do_not_depend_on_the_seed(
        smoke: tuple[BenchmarkConfig, pd.DataFrame, Path]) -> None:
    _, rows, _ = smoke
    stable = rows[rows["method"].isin(["baseline", "ssd", "assd"]) & ~rows["metric"].isin(TIMINGS)]
    first = _values(stable, scenario=0)
    second = _values(stable, scenario=1)
    pd.testing.assert_series_equal(first, second)


def test_same_seed_same_rows_and_retrain_never_sees_df(
        smoke: tuple[BenchmarkConfig, pd.DataFrame, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config, rows, _ = smoke
    trained_on: list[set[int]] = []
    real_train = pipeline.train

    def recording_train(model: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
        trained_on.append(set(data.labels.tolist()))
        return real_train(model, data, *args, **kwargs)

    monkeypatch.setattr(pipeline, "train", recording_train)
    again = run_benchmark(config.for_profile("smoke", kind="fullclass", seeds=(0,)),
                          results_dir=tmp_path, progress=False, cache=False)
    keep = ~rows["metric"].isin(TIMINGS) & (rows["scenario"] == 0)
    pd.testing.assert_series_equal(_values(rows[keep], scenario=0),
                                   _values(again[~again["metric"].isin(TIMINGS)], scenario=0))
    # per model: the baseline on all ten digits, then the retrain on Dr, which lacks digit 3
    assert trained_on == [set(range(10)), set(range(10)) - {3}] * 2


def test_head_only_retrain_and_method_subsets() -> None:
    config = BenchmarkConfig.for_profile("smoke", kind="subclass", retrain="head_only",
                                         methods=("retrain", "assd"), seeds=(3,))
    config = BenchmarkConfig(**{**config.to_dict(), "setups": config.setups[:1], "ssd_alpha": ()})
    rows = pd.DataFrame(benchmark_scenario(config, 3))
    assert set(rows["method"]) == {"retrain", "assd"} and set(rows["model"]) == {"resnet18"}
    assert set(rows["kind"]) == {"subclass"} and set(rows["target"]) == {"7"}
    assert rows.set_index(["method", "metric"]).loc[("retrain", "seconds"), "value"] > 0


def test_summarize_and_compare_with_paper(smoke: tuple[BenchmarkConfig, pd.DataFrame, Path]) -> None:
    _, rows, _ = smoke
    summary = summarize(rows)
    assert list(summary.columns) == [*SUMMARY_KEYS, "mean", "std", "n", "min", "max"]
    assert len(summary) == len(rows.drop_duplicates(SUMMARY_KEYS))
    dr = summary.set_index(["model", "method", "metric"]).loc[("resnet18", "retrain", "Dr")]
    values = _values(rows, model="resnet18", method="retrain", metric="Dr")
    assert dr["mean"] == pytest.approx(values.mean()) and dr["n"] == 2
    assert dr["std"] == pytest.approx(values.std(ddof=1))
    assert (dr["min"], dr["max"]) == (values.min(), values.max())
    assert (summary.loc[(summary["method"] == "baseline") & (summary["metric"] == "Dr"), "std"] == 0).all()

    table = compare_benchmark_with_paper(summary, paper_table("fullclass"), {"3": "rocket"})
    assert len(table) == 2 * 4 * 3  # models x methods x (Dr, Df, MIA)
    assert set(table["paper_dataset"]) == {"cifar100"} and set(table["paper_class"]) == {"rocket"}
    np.testing.assert_array_equal(table["difference"], table["mean"] - table["paper_mean"])
    paper = paper_table("fullclass").set_index(["forget_class", "model", "method", "metric"])
    assert table.iloc[0]["paper_mean"] == paper.loc[("rocket", table.iloc[0]["model"],
                                                     table.iloc[0]["method"], table.iloc[0]["metric"]),
                                                    "mean"]
    with pytest.raises(ValueError, match="target '9'"):
        compare_benchmark_with_paper(summary, paper_table("fullclass"), {"9": "rocket"})
    with pytest.raises(ValueError, match="paper class 'spaceship'"):
        compare_benchmark_with_paper(summary, paper_table("fullclass"), {"3": "spaceship"})
    with pytest.raises(ValueError, match="paper_dataset='cifar10'"):
        compare_benchmark_with_paper(summary, paper_table("fullclass"), {"3": "rocket"}, paper_dataset="cifar10")


def _synthetic_rows(kind: str, targets: list[str]) -> pd.DataFrame:
    rows = []
    for seed in (0, 1, 2):
        for target in targets:
            for model in ("resnet18", "vit"):
                for method in BENCHMARK_METHODS:
                    for i, metric in enumerate(["Dr", "Df", "MIA", "seconds"]):
                        rows.append({"scenario": seed, "dataset": "d", "kind": kind, "model": model,
                                     "target": target, "method": method, "metric": metric,
                                     "value": 10.0 * seed + i + len(target)})
    return pd.DataFrame(rows)


def test_random_table_and_pooled_targets() -> None:
    summary = summarize(_synthetic_rows("random", ["20"]))
    table = compare_benchmark_with_paper(summary, paper_table("random"))
    assert len(table) == 24 and set(table["paper_dataset"]) == {"cifar10"}
    np.testing.assert_array_equal(table["difference"], table["mean"] - table["paper_mean"])
    assert (table["std"] == 10.0).all() and (table["n"] == 3).all()

    rows = _synthetic_rows("fullclass", ["1", "10"])
    pooled = summarize(rows, pool={"1": "faces", "10": "faces"})
    assert set(pooled["target"]) == {"faces"} and (pooled["n"] == 6).all()
    faces = compare_benchmark_with_paper(pooled, paper_table("fullclass"), paper_dataset="pins")
    assert len(faces) == 12 and set(faces["model"]) == {"resnet18"}  # Pins: ResNet18 only


def test_paper_analogue_averages_the_paper_classes_and_the_range_is_shown() -> None:
    paper = paper_table("fullclass")
    label = "CIFAR-100, mean of 5 classes"
    analogue = paper_analogue(paper, "cifar100", label)
    expected = (paper[paper["dataset"] == "cifar100"]
                .groupby(["model", "method", "metric"])["mean"].mean())
    got = analogue.set_index(["model", "method", "metric"])["mean"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index())
    assert set(analogue["forget_class"]) == {label} and analogue["std"].isna().all()
    assert list(analogue.columns) == [c for c in paper.columns if c in analogue.columns]

    summary = summarize(_synthetic_rows("fullclass", ["cat", "dog"]))
    table = compare_benchmark_with_paper(summary, analogue, {"cat": label, "dog": label})
    assert {"min", "max"} <= set(table.columns) and set(table["paper_class"]) == {label}
    shown = comparison_table(table, metric="Dr", spread="range")
    assert list(shown.columns) == ["ours (mean, range over seeds)", "paper", "difference"]
    # seeds give 10 * seed + 0 + len(target): cat 3, 13, 23
    row = shown.loc[("ResNet18", f"cat → {label}", "ASSD")]
    assert row.iloc[0] == "13.0 (3.0–23.0)"
    assert row.iloc[1] == f"{expected['resnet18', 'assd', 'Dr']:.1f}"  # no std: a mean of classes
    fig = plot_methods(summary, table, spread="range")
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="spread='sem'"):
        comparison_table(table, spread="sem")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['min', 'max'\]"):
        comparison_table(table.drop(columns=["min", "max"]), spread="range")
    with pytest.raises(ValueError, match="dataset='cifar10' has no paper rows"):
        paper_analogue(paper, "cifar10", label)
    with pytest.raises(ValueError, match=r"lack the column\(s\) \['forget_class'\]"):
        paper_analogue(paper.drop(columns=["forget_class"]), "cifar100", label)


def _case_rows(kind: str, values: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """Rows of one case: (method, metric) -> one value per seed."""
    return pd.DataFrame([{"scenario": seed, "dataset": "d", "kind": kind, "model": "resnet18",
                          "target": "cat", "method": method, "metric": metric, "value": v}
                         for (method, metric), seeds in values.items()
                         for seed, v in enumerate(seeds)])


def test_collapses_flag_over_and_under_dampening_against_slow_reference() -> None:
    values = {("baseline", "Dr"): [60.0] * 3, ("baseline", "Df"): [70.0] * 3,
              ("retrain", "Dr"): [61.0, 62.0, 63.0], ("retrain", "Df"): [20.0, 30.0, 25.0],
              ("ssd", "Dr"): [45.0] * 3, ("ssd", "Df"): [0.0] * 3,      # Dr -15: over
              ("assd", "Dr"): [55.0] * 3, ("assd", "Df"): [41.0] * 3}   # Df 41 > 30 + 10: under
    table = collapses(summarize(_case_rows("subclass", values))).set_index("method")
    assert table.loc["ssd", "dr_drop"] == pytest.approx(15.0)
    assert table.loc["assd", "df_excess"] == pytest.approx(11.0)
    assert bool(table.loc["ssd", "over"]) and not bool(table.loc["ssd", "under"])
    assert bool(table.loc["assd", "under"]) and not bool(table.loc["assd", "over"])
    assert table["collapse"].all()
    # exactly at the thresholds is no collapse; the thresholds are parameters
    values[("ssd", "Dr")] = [50.0] * 3
    values[("assd", "Df")] = [40.0] * 3
    table = collapses(summarize(_case_rows("fullclass", values)))
    assert not table["collapse"].any()
    assert collapses(summarize(_case_rows("fullclass", values)), dr_drop=5.0)["over"].sum() == 1
    with pytest.raises(ValueError, match="no class-task case"):
        collapses(summarize(_case_rows("random", values)))
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['max'\]"):
        collapses(summarize(_case_rows("fullclass", values)).drop(columns="max"))


def _random_rows(assd_dr: list[float], ssd_dr: list[float], assd_mia: list[float],
                 ssd_mia: list[float]) -> pd.DataFrame:
    """Three seeds of random forgetting at share 0.01 (50 images): retrain MIA 40, baseline
    Dr 60, Df 100, MIA 90; ASSD's percentile gives back 1 %."""
    rows = []
    for seed in range(3):
        values = {("baseline", "Dr"): 60.0, ("baseline", "Df"): 100.0,
                  ("baseline", "MIA"): 90.0, ("retrain", "Dr"): 61.0 + seed,
                  ("retrain", "Df"): 55.0, ("retrain", "MIA"): 40.0,
                  ("ssd", "Dr"): ssd_dr[seed], ("ssd", "Df"): 99.0, ("ssd", "MIA"): ssd_mia[seed],
                  ("ssd", "alpha"): 10.0, ("ssd", "fraction_selected"): 0.001,
                  ("assd", "Dr"): assd_dr[seed], ("assd", "Df"): 98.0,
                  ("assd", "MIA"): assd_mia[seed], ("assd", "percentile"): 100 - math.log(2.0),
                  ("assd", "fraction_selected"): 0.0069}
        rows += [{"scenario": seed, "dataset": "d", "kind": "random", "model": "resnet18",
                  "target": "0.01", "method": m, "metric": k, "value": v, "n_forget": 50}
                  for (m, k), v in values.items()]
    return pd.DataFrame(rows)


def test_random_share_report_reads_assd_against_ssd_seed_by_seed() -> None:
    report = random_share_report(_random_rows([60.0, 61.0, 60.6], [59.0, 60.0, 60.0],
                                              [70.0, 60.0, 65.0], [80.0, 75.0, 70.0]), "0.01")
    assert report["share_pct"] == pytest.approx(1.0) and report["n_forget"] == 50
    assert (report["dr_diff_min"], report["dr_diff_max"]) == pytest.approx((0.6, 1.0))
    # MIA gaps to the retrained 40: ASSD 30, 20, 25; SSD 40, 35, 30 -> ASSD - SSD -10, -15, -5
    assert (report["gap_diff_min"], report["gap_diff_max"]) == pytest.approx((-15.0, -5.0))
    assert report["assd_mia_gap"] == pytest.approx(25.0)
    assert report["claim"] == "supported" and report["dr_word"] == "ASSD higher in every seed"
    assert report["gap_word"] == "closer to it in every seed"
    # the largest move of the means over seeds from the baseline: ASSD's MIA 90 -> 65
    # (25 points); the retrained model's 90 -> 40
    assert report["assd_change_max"] == pytest.approx(25.0)
    assert report["retrain_change_max"] == pytest.approx(50.0)
    # 50 images: one image is 2 points, so a move is small within 5; ASSD's 25 is not
    assert report["resolution"] == 5.0 and report["hardly"] == "not supported"
    # one seed within the tie: undecided; both ways against ASSD in every seed: contradicted
    mixed = random_share_report(_random_rows([60.0, 61.0, 60.2], [59.0, 60.0, 60.0],
                                             [70.0, 60.0, 65.0], [80.0, 75.0, 70.0]), "0.01")
    assert mixed["claim"] == "undecided" and mixed["dr_word"] == "no consistent difference"
    worse = random_share_report(_random_rows([58.0, 58.0, 58.0], [59.0, 60.0, 60.0],
                                             [80.0, 75.0, 70.0], [70.0, 60.0, 65.0]), "0.01")
    assert worse["claim"] == "contradicted" and worse["gap_word"] == "further from it in every seed"
    with pytest.raises(ValueError, match=r"target='0.00165' is in no row; .*\['0.01'\]"):
        random_share_report(_random_rows([60.0] * 3, [59.0] * 3, [70.0] * 3, [80.0] * 3),
                            "0.00165")
    with pytest.raises(ValueError, match=r"lack the column\(s\) \['n_forget'\]"):
        random_share_report(_random_rows([60.0] * 3, [59.0] * 3, [70.0] * 3,
                                         [80.0] * 3).drop(columns="n_forget"), "0.01")


def test_compare_with_paper_refuses_table4_rows_naming_the_missing_columns() -> None:
    summary = summarize(_synthetic_rows("fullclass", ["3"]))
    with pytest.raises(ValueError, match=r"paper_rows lacks the column\(s\) \['dataset', "
                                         r"'forget_class', 'model', 'method', 'metric', 'mean', "
                                         r"'std'\]"):
        compare_benchmark_with_paper(summary, paper_table("error_unlearning"), {"3": "rocket"})


def test_compare_with_paper_refuses_rows_instead_of_a_summary() -> None:
    rows = _synthetic_rows("fullclass", ["3"])
    with pytest.raises(ValueError, match=r"summary lacks the column\(s\) \['mean', 'std', 'n'\]"):
        compare_benchmark_with_paper(rows, paper_table("fullclass"), {"3": "rocket"})


def test_profiles() -> None:
    paper = BenchmarkConfig.for_profile("paper", kind="fullclass", vit_weights="/w/vit.safetensors")
    assert paper.targets == ("baby", "lamp", "mushroom", "rocket", "sea")
    resnet, vit = paper.setups
    assert (resnet.dataset, resnet.width, resnet.epochs, resnet.milestones) == ("cifar100", 64, 200, (60, 120, 160))
    assert (vit.vit_preset, vit.image_size, vit.pretrained_path) == ("b16", 224, "/w/vit.safetensors")
    assert paper.ssd_alpha == (10.0, 5.0) and paper.ssd_lambda == 1.0 and len(paper.seeds) == 5
    cifar20 = BenchmarkConfig.for_profile("paper", kind="fullclass", dataset="cifar20")
    assert cifar20.targets[-1] == "vehicle2" and cifar20.setups[0].epochs == 40
    pins = BenchmarkConfig.for_profile("paper", kind="fullclass", dataset="pins")
    assert [s.model for s in pins.setups] == ["resnet18"] and pins.ssd_alpha == (10.0,)
    assert BenchmarkConfig.for_profile("paper", kind="subclass").ssd_alpha == (10.0, 25.0)
    random = BenchmarkConfig.for_profile("paper", kind="random")
    assert random.targets == (0.00165,) and random.dataset == "cifar10" and random.ssd_alpha == (10.0, 10.0)
    book = BenchmarkConfig.for_profile("book", kind="subclass")
    assert book.dataset == "cifar10_jpeg" and book.seeds == (0, 1, 2)
    assert book.targets == ("airplane", "cat", "truck") and book.setups == (pipeline.BOOK_CIFAR10_SETUP,)
    assert BenchmarkConfig.for_profile("book", kind="random").targets == (0.00165, 0.01)
    # the book profile is what the book's stored runs hold
    from assd_repro.experiments import stored_runs
    assert stored_runs.find_run("cifar10-subclass-resnet18").config() == book
    # plain values and dicts give the same config and hash; any change gives another hash
    same = BenchmarkConfig(**book.to_dict())
    assert same == book and same.content_hash() == book.content_hash()
    assert BenchmarkConfig.for_profile("book", kind="subclass", ssd_alpha=(10,)) == book
    assert BenchmarkConfig.for_profile("book", kind="subclass", ssd_alpha=(20,)).content_hash() \
        != book.content_hash()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"kind": "partial"}, "kind='partial' is unknown"),
    ({"methods": ("ssd", "finetune")}, "'finetune' is unknown"),
    ({"methods": ()}, r"methods=\(\)"),
    ({"retrain": "warm"}, "retrain='warm' is unknown"),
    ({"targets": ()}, "targets is empty"),
    ({"targets": ("3", "3")}, "duplicates"),
    ({"targets": (1.5,)}, "target 1.5 is invalid for fullclass"),
    ({"ssd_alpha": (0.0, 5.0)}, r"ssd_alpha\[resnet18\]=0.0 must be a finite number > 0"),
    ({"ssd_alpha": (10.0, math.nan)}, r"ssd_alpha\[vit\]=nan"),
    ({"ssd_alpha": (10.0,)}, "needs one value per setup"),
    ({"ssd_lambda": -1.0}, "ssd_lambda=-1.0"),
    ({"epochs": 3}, r"no field\(s\) \['epochs'\]"),
])
def test_bad_config_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BenchmarkConfig.for_profile("smoke", **overrides)


def test_bad_random_targets_setups_and_datasets() -> None:
    with pytest.raises(ValueError, match="target 0 is invalid for random"):
        BenchmarkConfig.for_profile("smoke", kind="random", targets=(0,))
    with pytest.raises(ValueError, match="target 2.0 is invalid for random"):
        BenchmarkConfig.for_profile("smoke", kind="random", targets=(2.0,))
    smoke = BenchmarkConfig.for_profile("smoke")
    with pytest.raises(ValueError, match="each model may appear only once"):
        BenchmarkConfig(setups=(smoke.setups[0], smoke.setups[0]))
    with pytest.raises(ValueError, match="one config is one data set"):
        other = pipeline.ImageSetup(dataset="cifar10", model="vit")
        BenchmarkConfig(setups=(smoke.setups[0], other))
    with pytest.raises(ValueError, match="no preset fullclass targets for dataset='cifar10'"):
        BenchmarkConfig.for_profile("book", dataset="cifar10")
    pixels = BenchmarkConfig.for_profile("book", dataset="cifar10", targets=("cat",))
    assert {s.dataset for s in pixels.setups} == {"cifar10"}
    with pytest.raises(ValueError, match="no preset subclass targets for dataset='cifar10_jpeg'"):
        BenchmarkConfig.for_profile("smoke", kind="subclass", dataset="cifar10_jpeg")
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        BenchmarkConfig.for_profile("huge")


def test_image_setup_options_added_later_keep_earlier_hashes_at_their_defaults() -> None:
    smoke = BenchmarkConfig.for_profile("smoke")
    setup = smoke.setups[0]
    assert pipeline.image_recipe(setup).optimizer == "sgd"
    for changed in ({"optimizer": "adamw"}, {"weight_decay": 0.05}):
        other = dataclasses.replace(setup, **changed)
        config = dataclasses.replace(smoke, setups=(other, smoke.setups[1]))
        assert config.content_hash() != smoke.content_hash()
        assert list(changed)[0] in config.to_dict()["setups"][0]
    assert "optimizer" not in smoke.to_dict()["setups"][0]  # default: left out, hash as before
    adamw = pipeline.image_recipe(dataclasses.replace(setup, optimizer="adamw",
                                                      weight_decay=0.05))
    assert (adamw.optimizer, adamw.momentum, adamw.weight_decay) == ("adamw", 0.0, 0.05)
    with pytest.raises(ValueError, match="optimizer='adam' is unknown"):
        pipeline.ImageSetup(optimizer="adam")
    with pytest.raises(ValueError, match="autocast='float16' is unknown"):
        pipeline.ImageSetup(autocast="float16")


def test_a_vit_setup_may_set_its_patch_size() -> None:
    smoke = BenchmarkConfig.for_profile("smoke")
    vit = next(s for s in smoke.setups if s.model == "vit")
    assert "patch_size" not in smoke.to_dict()["setups"][1]  # default: hash as before
    side = vit.image_size  # the smoke ViT's 16-pixel images: 4 patches of 8
    spec = pipeline.model_spec(dataclasses.replace(vit, patch_size=8), 10, 1)
    model = build_model(spec)
    assert model.patch_embed.proj.kernel_size == (8, 8)
    assert model(torch.zeros(2, 1, side, side)).shape == (2, 10)
    assert pipeline.model_spec(vit, 10, 1).kwargs.get("patch_size") is None
    with pytest.raises(ValueError, match="patch_size=8 needs model='vit'"):
        pipeline.ImageSetup(patch_size=8)
    with pytest.raises(ValueError, match="patch_size=0 needs model='vit' and a positive"):
        pipeline.ImageSetup(model="vit", patch_size=0)
