"""The benchmarks keep running and keep measuring the same thing (no timing assertions).

- ``benchmarks/run_all.py --quick`` runs in a subprocess and writes every CSV with its columns;
- the authors'-style baseline (``benchmarks/authors_style.py``) gives our results;
- the fast paths that the benchmarks' speed claims rest on (the bracketed selection of
  ``select_alpha`` above 128K elements, ``dampen``'s steps over tensors of 16K+ elements) give
  exactly what the plain definitions give.
"""

from __future__ import annotations

import copy
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO, assert_bit_identical, loader, make_mlp, mlp_data
from torch import nn

from assd_core import (
    accuracy,
    assd_unlearn,
    compute_importances,
    dampen,
    entropy_mia,
    select_alpha,
)
from assd_core.dampening import _dampen_tensor
from assd_repro.experiments.method_comparison import COMPARISON_METHODS

BENCHMARKS = REPO / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import authors_style  # noqa: E402

COLUMNS = {
    "import_cost.csv": {"import", "reps", "seconds", "rss_mib", "time_ratio", "rss_ratio",
                        "heavy_modules"},
    "assd_floor.csv": {"model", "parameters", "forget_share", "n_forget", "batch_size", "floor_s",
                       "assd_s", "ratio", "target", "meets_target", "importances_s", "select_s",
                       "dampen_s", "check_full_s", "fraction_selected", "reps", "threads"},
    "alternatives.csv": {"model", "n_retain", "n_forget", "n_test", "assd_s", "finetune_epoch_s",
                         "retrain_epochs", "retrain_epoch_s", "retrain_s", "authors_s",
                         "authors_as_run_s", "full_importances_s", "assd_per_finetune_epoch",
                         "assd_per_retrain", "assd_per_authors", "assd_per_authors_as_run",
                         "eval_s", "eval_authors_s", "eval_per_authors", "alpha_rel_diff",
                         "as_run_alpha_rel_diff", "weights_max_rel_diff", "accuracy_max_diff",
                         "mia_diff", "same_result"},
    "selection_scale.csv": {"size", "implementation", "parameters", "importance_bytes", "select_s",
                            "select_ns_per_param", "select_rss_peak_x", "select_traced_peak_x",
                            "dampen_s", "dampen_ns_per_param", "dampen_rss_peak_x",
                            "dampen_traced_peak_x", "alpha_rel_diff_vs_ours", "meets_target"},
    "experiment_grid.csv": {"model_size", "n_train", "scenario_s", "baseline_train_s", "retrain_s",
                            "finetune_s", "assd_s", "evaluation_and_rest_s", "paper_grid_h"},
    "evaluation.csv": {"model", "task", "n_forwarded", "floor_s", "one_pass_s", "three_calls_s",
                       "one_pass_per_floor", "three_calls_per_floor",
                       "three_calls_per_one_pass", "target", "meets_target", "reps", "threads"},
    "methods.csv": {"method", "seconds", "ratio_to_assd", "reps", "model_size", "error_pct",
                    "n_retain", "n_forget", "threads"},
    "train_throughput.csv": {"model", "parameters", "variant", "images_per_s",
                             "ratio_to_float32", "kept", "compile_s", "steps", "threads"},
    "experiment_dask.csv": {"scenarios", "workers", "in_process_s", "dask_s", "speedup",
                            "mean_scenario_on_worker_s", "same_rows"},
}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _run_quick(out: Path, *extra: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run_all.py"), "--quick", "--out", str(out), *extra],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.slow
def test_quick_run_writes_every_table(tmp_path: Path) -> None:
    _run_quick(tmp_path, "--no-dask")
    for name, columns in COLUMNS.items():
        if name == "experiment_dask.csv":
            continue
        rows = _read(tmp_path / name)
        assert rows, name
        assert columns <= set(rows[0]), (name, sorted(columns - set(rows[0])))
    floor = _read(tmp_path / "assd_floor.csv")
    assert {row["forget_share"] for row in floor} == {"0.002", "0.01", "0.1"}
    assert all(float(row["ratio"]) > 0 and row["threads"] == "1" for row in floor)
    assert all(row["same_result"] == "True" for row in _read(tmp_path / "alternatives.csv"))
    scale = _read(tmp_path / "selection_scale.csv")
    assert {row["implementation"] for row in scale} == {"ours", "authors"}
    imports = {row["import"]: row for row in _read(tmp_path / "import_cost.csv")}
    assert imports["assd_core"]["heavy_modules"] == "none"
    assert float(imports["assd_core"]["time_ratio"]) > 0
    grid = _read(tmp_path / "experiment_grid.csv")
    assert [row["model_size"] for row in grid] == ["2x50", "3x100", "5x250"]
    methods = {row["method"]: row for row in _read(tmp_path / "methods.csv")}
    assert set(methods) == {*COMPARISON_METHODS, "retrain"}
    assert float(methods["assd"]["ratio_to_assd"]) == 1.0
    assert all(float(row["seconds"]) > 0 for row in methods.values())
    training = _read(tmp_path / "train_throughput.csv")
    assert {row["variant"] for row in training} == {
        "float32", "channels_last", "bfloat16", "channels_last+bfloat16"}  # quick: no compile
    assert [row["variant"] for row in training if row["kept"] == "yes"] == [
        "channels_last"]  # the ResNet18's (quick: no ViT)
    assert all(float(row["images_per_s"]) > 0 for row in training)


@pytest.mark.slow
def test_quick_dask_comparison(tmp_path: Path) -> None:
    _run_quick(tmp_path, "--only", "grid")
    rows = _read(tmp_path / "experiment_dask.csv")
    assert COLUMNS["experiment_dask.csv"] <= set(rows[0])
    assert rows[0]["same_rows"] == "True" and rows[0]["workers"] == "2"


# ---------------------------------------------------------------------------------------------
# The authors'-style baseline gives our results
# ---------------------------------------------------------------------------------------------


def _memorising_mlp() -> tuple[nn.Module, object, object, object]:
    """An MLP that memorised its retain set (so that the MIA separates members), and the
    retain, forget and test loaders (equal-size batches: 16)."""
    torch.manual_seed(1)
    model = make_mlp(hidden=16)
    retain, forget, test = mlp_data(128), mlp_data(32), mlp_data(96)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model.train()
    x, y = retain.tensors[0], retain.tensors[1]
    for _ in range(200):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    return model, loader(retain, 16), loader(forget, 16), loader(test, 16)


def test_authors_style_gives_our_results() -> None:
    model, retain, forget, test = _memorising_mlp()
    n_total = len(retain.dataset) + len(forget.dataset)
    full = compute_importances(model, retain)
    twin = copy.deepcopy(model)
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.1)
    theirs_full = authors_style.calc_importance(twin, retain, optimizer)
    for name, t in full.items():
        torch.testing.assert_close(theirs_full[name], t, rtol=1e-5, atol=1e-12)

    ours, theirs = copy.deepcopy(model), copy.deepcopy(model)
    report = assd_unlearn(ours, forget, full, n_total=n_total)
    n_forget = len(forget.dataset)
    alpha = authors_style.assd_unlearn(theirs, forget, full, n_forget=n_forget, n_total=n_total)
    assert alpha == pytest.approx(report.alpha, rel=1e-6)
    percentile = authors_style.assd_percentile(n_forget, n_total)
    assert percentile == pytest.approx(report.percentile, abs=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(q, p, rtol=1e-6, atol=0)

    # as their code runs it: retain importances recomputed inside, same answer
    again = copy.deepcopy(model)
    as_run = authors_style.assd_unlearn_as_run(again, retain, forget)
    assert as_run == pytest.approx(report.alpha, rel=1e-5)
    for p, q in zip(ours.parameters(), again.parameters(), strict=True):
        torch.testing.assert_close(q, p, rtol=1e-5, atol=1e-7)

    theirs_eval = authors_style.evaluate_unlearned(ours, retain, forget, test)
    assert theirs_eval["test_accuracy"] == pytest.approx(accuracy(ours, test), abs=1e-4)
    assert theirs_eval["forget_accuracy"] == pytest.approx(accuracy(ours, forget), abs=1e-4)
    mia = entropy_mia(model, retain, forget, test)
    theirs_mia = authors_style.get_membership_attack_prob(retain, forget, test, model)
    assert theirs_mia == pytest.approx(mia, abs=1e-9)
    assert 0 < entropy_mia(model, retain, retain, test) <= 100  # the attack is not degenerate


# ---------------------------------------------------------------------------------------------
# Fast paths against their definitions
# ---------------------------------------------------------------------------------------------


def _importances(shapes: list[tuple[int, ...]], seed: int, zero_share: float, dtype: torch.dtype,
                 ties: bool = False) -> tuple[dict, dict]:
    g = torch.Generator().manual_seed(seed)
    full, forget = {}, {}
    for i, shape in enumerate(shapes):
        d = torch.rand(shape, generator=g, dtype=torch.float64) ** 3
        f = torch.rand(shape, generator=g, dtype=torch.float64) ** 3
        if ties:
            d, f = (d * 4).round() / 4, (f * 4).round() / 4
        d[torch.rand(shape, generator=g) < zero_share] = 0
        f[torch.rand(shape, generator=g) < zero_share] = 0
        full[f"t{i}"], forget[f"t{i}"] = d.to(dtype), f.to(dtype)
    return full, forget


SHAPES = [(300, 400), (7,), (64, 3, 3, 3), (100_001,), (5,)]


@pytest.mark.parametrize(
    ("p", "zero_share", "dtype", "ties"),
    [(99.82, 0.0, torch.float32, False), (97.6, 0.1, torch.float32, False),
     (99.31, 0.3, torch.float64, False), (50.0, 0.0, torch.float32, True),
     (0.0, 0.05, torch.float32, False), (100.0, 0.05, torch.float32, False)],
)
def test_bracketed_selection_equals_numpy(p: float, zero_share: float, dtype: torch.dtype,
                                          ties: bool) -> None:
    full, forget = _importances(SHAPES, seed=int(p * 10), zero_share=zero_share, dtype=dtype,
                                ties=ties)
    assert sum(t.numel() for t in full.values()) > 1 << 17  # the bracketed path
    ratios = np.concatenate([(forget[n] / full[n]).numpy().ravel() for n in full]).astype(np.float64)
    assert select_alpha(full, forget, p) == np.percentile(ratios[np.isfinite(ratios)], p)


class _Bag(nn.Module):
    def __init__(self, shapes: list[tuple[int, ...]], dtype: torch.dtype) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        for i, shape in enumerate(shapes):
            values = torch.randn(shape, generator=g, dtype=dtype)
            self.register_parameter(f"t{i}", nn.Parameter(values))


@pytest.mark.parametrize("param_dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("imp_dtype", "alpha", "lam"),
                         [(torch.float32, 3.0, 1.0), (torch.float64, 0.5, 0.7)])
def test_dampen_steps_equal_the_plain_torch_expression(param_dtype, imp_dtype, alpha, lam) -> None:
    shapes = [*SHAPES, (70_000, 2)]  # tensors of 16K+ elements get steps of their own
    model = _Bag(shapes, param_dtype)
    full, forget = _importances(shapes, seed=5, zero_share=0.1, dtype=imp_dtype)
    expected = copy.deepcopy(model)
    with torch.no_grad():
        counts = {name: _dampen_tensor(p, full[name], forget[name], alpha, lam)
                  for name, p in expected.named_parameters()}
    versions = {name: p._version for name, p in model.named_parameters()}

    report = dampen(model, full, forget, alpha=alpha, lam=lam)

    assert report.selected_per_tensor == counts and report.n_selected > 0
    pairs = zip(model.named_parameters(), expected.named_parameters(), strict=True)
    for (name, p), (_, q) in pairs:
        assert_bit_identical(p.detach(), q.detach())
        assert (p._version > versions[name]) == (counts[name] > 0)  # in-place writes are recorded


def test_dampen_non_contiguous_parameter_takes_the_torch_path() -> None:
    model = nn.Linear(300, 200)
    with torch.no_grad():
        model.weight = nn.Parameter(torch.randn(300, 200).t())  # a transposed view
    assert not model.weight.is_contiguous()
    full, forget = _importances([(200, 300), (200,)], seed=6, zero_share=0.0, dtype=torch.float32)
    full = {"weight": full["t0"], "bias": full["t1"]}
    forget = {"weight": forget["t0"], "bias": forget["t1"]}
    expected = copy.deepcopy(model)
    with torch.no_grad():
        for name, p in expected.named_parameters():
            _dampen_tensor(p, full[name], forget[name], 1.0, 1.0)
    dampen(model, full, forget, alpha=1.0)
    for p, q in zip(model.parameters(), expected.parameters(), strict=True):
        assert_bit_identical(p.detach().contiguous(), q.detach().contiguous())
