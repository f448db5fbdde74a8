"""Benchmark 2: ASSD against the alternatives, and against the authors'-style implementation.

Per model (forget share 1% of the training set: 5,000 synthetic 32x32 images or 100,000 rows x
100 features; test set 1,024 images / 20,480 rows), all measured in one run, alternating the
contenders rep by rep where they are repeated:

- ``assd_s``: :func:`assd_core.assd_unlearn` with the full importances cached (on Dr);
- ``finetune_epoch_s``: one epoch of :func:`assd_repro.baselines.finetune` on Dr (SGD, batch as the
  model's training batch);
- ``retrain_s``: ``retrain_epochs x`` one epoch of :func:`assd_repro.baselines.retrain_from_scratch` on Dr
  (measured on one epoch: ResNet18 CIFAR-10 20 epochs, ViT fine-tuning 8, MLPs 25);
- ``authors_s``: the same ASSD step written as the authors' code runs it
  (:mod:`authors_style`), with the same cached full importances;
- ``authors_as_run_s``: the authors' ``ssd()`` as it runs, recomputing the retain-set
  importances on every call;
- ``full_importances_s``: our one-off pass that computes the importances to cache;
- evaluation of one unlearned model (test and forget accuracy + entropy MIA over Dr, Df and
  the test set): ``eval_s`` (ours: batched, ``inference_mode``) and ``eval_authors_s``
  (per-batch accuracies, MIA features one sample at a time); one rep each.

The authors'-style results are checked against ours in the same run (``same_result``):
alpha (relative 1e-6; 1e-5 for the as-run version, whose retain importances are its own),
every dampened weight (relative 1e-5), the accuracies (0.01 points; the test and forget
loaders have equal-size batches) and the MIA score (one forget sample).

    python benchmarks/alternatives.py [--quick] [--models mlp]
"""

from __future__ import annotations

import argparse
import copy
import statistics
from pathlib import Path
from typing import Any

import authors_style
import torch
from bench_common import (
    RESULTS,
    environment,
    interleaved,
    median_ratio,
    model_cases,
    print_table,
    seconds,
    set_threads,
    write_csv,
)
from torch import nn

from assd_core import accuracy, assd_unlearn, compute_importances, entropy_mia
from assd_repro.baselines import finetune, retrain_from_scratch
from assd_repro.training import TrainRecipe

SHARE = 0.01


def _evaluate_ours(model: nn.Module, retain: Any, forget: Any, test: Any) -> dict[str, float]:
    return {"test_accuracy": accuracy(model, test), "forget_accuracy": accuracy(model, forget),
            "mia": entropy_mia(model, retain, forget, test)}


def _max_relative_difference(a: nn.Module, b: nn.Module) -> float:
    worst = 0.0
    with torch.no_grad():
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            scale = torch.maximum(p.abs(), q.abs()).clamp_min(1e-30)
            worst = max(worst, float(((p - q).abs() / scale).max()))
    return worst


def compare_with_authors(model: nn.Module, retain: Any, forget: Any, test: Any,
                         full: dict[str, torch.Tensor], n_total: int) -> dict[str, Any]:
    """Unlearn two copies (ours, authors' style) and evaluate the unlearned model both ways.

    Returns:
        The differences, ``same_result``, and the seconds of the two evaluations
        (``eval_s``, ``eval_authors_s``: one rep of that contender each).
    """
    ours, theirs = copy.deepcopy(model), copy.deepcopy(model)
    report = assd_unlearn(ours, forget, full, n_total=n_total)
    alpha = authors_style.assd_unlearn(theirs, forget, full, n_forget=len(forget.dataset),
                                       n_total=n_total)
    weights = _max_relative_difference(ours, theirs)
    found: dict[str, dict[str, float]] = {}
    eval_s = seconds(lambda: found.update(ours=_evaluate_ours(ours, retain, forget, test)))
    eval_authors_s = seconds(lambda: found.update(
        theirs=authors_style.evaluate_unlearned(ours, retain, forget, test)))
    ev_ours, ev_theirs = found["ours"], found["theirs"]
    accuracy_gap = max(abs(ev_ours[k] - ev_theirs[k]) for k in ("test_accuracy", "forget_accuracy"))
    mia_gap = float(abs(ev_ours["mia"] - ev_theirs["mia"]))
    alpha_gap = abs(report.alpha - alpha) / abs(alpha)
    same = bool(alpha_gap <= 1e-6 and weights <= 1e-5 and accuracy_gap <= 0.01
                and mia_gap <= 100.0 / len(forget.dataset) + 1e-9)
    return {"alpha": report.alpha, "alpha_rel_diff": alpha_gap, "weights_max_rel_diff": weights,
            "accuracy_max_diff": accuracy_gap, "mia": ev_ours["mia"], "mia_diff": mia_gap,
            "same_result": same, "eval_s": eval_s, "eval_authors_s": eval_authors_s}


def run(quick: bool = False, out_dir: Path = RESULTS, models: str = "") -> list[dict[str, Any]]:
    """Measure every model (whose name contains ``models``); print tables, write
    ``alternatives.csv``."""
    set_threads()
    rows = []
    for case in model_cases(quick):
        if models not in case.name:
            continue
        model = case.build(seed=0)
        n_forget = max(1, round(case.n_train * SHARE))
        retain_set = case.data(case.n_train - n_forget, seed=1)
        forget_set = case.data(n_forget, seed=2)
        test_set = case.data(case.n_test, seed=3)
        retain, forget, test = case.loader(retain_set), case.loader(forget_set), case.loader(test_set)
        work: dict[str, Any] = {}
        full_s = seconds(lambda: work.update(full=compute_importances(model, retain)))
        full = work["full"]
        check = compare_with_authors(model, retain, forget, test, full, case.n_train)

        def fresh_copy() -> None:
            work["model"] = copy.deepcopy(model)

        cheap = {
            "assd": (fresh_copy, lambda: assd_unlearn(work["model"], forget, full, n_total=case.n_train)),
            "authors": (fresh_copy, lambda: authors_style.assd_unlearn(
                work["model"], forget, full, n_forget=n_forget, n_total=case.n_train)),
        }
        cheap_times = interleaved(cheap, 3 if quick else 7)
        # An epoch on Dr and the authors' retain-set importances each cost a whole pass over Dr:
        # one rep for the image models (tens of seconds each), three for the MLPs.
        heavy_reps = 1 if (quick or case.input_shape != (100,)) else 3
        recipe = TrainRecipe(epochs=1, lr=0.01, momentum=0.9, weight_decay=5e-4)
        heavy = {
            "finetune_epoch": lambda: finetune(model, retain, lr=0.01, weight_decay=5e-4, momentum=0.9),
            "retrain_epoch": lambda: retrain_from_scratch(case.spec, retain, recipe),
            "authors_as_run": (fresh_copy, lambda: work.update(as_run_alpha=authors_style.assd_unlearn_as_run(
                work["model"], retain, forget))),
        }
        heavy_times = interleaved(heavy, heavy_reps, warmup=0)
        # one rep of each evaluation: the one of compare_with_authors (the authors' MIA runs a
        # forward pass per sample: 100,000 of them for the MLPs)
        eval_times = {"eval": [check.pop("eval_s")], "eval_authors": [check.pop("eval_authors_s")]}
        check["as_run_alpha_rel_diff"] = abs(work["as_run_alpha"] - check["alpha"]) / check["alpha"]
        check["same_result"] = bool(check["same_result"] and check["as_run_alpha_rel_diff"] <= 1e-5)
        med = {k: statistics.median(v) for k, v in {**cheap_times, **heavy_times, **eval_times}.items()}
        retrain_s = case.retrain_epochs * med["retrain_epoch"]
        row = {
            "model": case.name, "parameters": sum(p.numel() for p in model.parameters()),
            "n_retain": len(retain_set), "n_forget": n_forget, "n_test": len(test_set),
            "assd_s": med["assd"], "finetune_epoch_s": med["finetune_epoch"],
            "retrain_epochs": case.retrain_epochs, "retrain_epoch_s": med["retrain_epoch"],
            "retrain_s": retrain_s, "authors_s": med["authors"],
            "authors_as_run_s": med["authors_as_run"], "full_importances_s": full_s,
            "assd_per_finetune_epoch": med["assd"] / med["finetune_epoch"],
            "assd_per_retrain": med["assd"] / retrain_s,
            "assd_per_authors": median_ratio(cheap_times["assd"], cheap_times["authors"]),
            "assd_per_authors_as_run": med["assd"] / med["authors_as_run"],
            "eval_s": med["eval"], "eval_authors_s": med["eval_authors"],
            "eval_per_authors": median_ratio(eval_times["eval"], eval_times["eval_authors"]),
            **check, "heavy_reps": heavy_reps, **environment(),
        }
        rows.append(row)
        print(f"{case.name}: assd {row['assd_s'] * 1e3:.1f} ms; x{1 / row['assd_per_finetune_epoch']:.0f} "
              f"faster than a fine-tune epoch, x{1 / row['assd_per_retrain']:.0f} than a retrain, "
              f"x{1 / row['assd_per_authors']:.1f} than the authors' style "
              f"(x{1 / row['assd_per_authors_as_run']:.0f} as run); evaluation "
              f"x{1 / row['eval_per_authors']:.1f} faster; same result: {row['same_result']}", flush=True)
    print_table("ASSD against the alternatives (times in s; ratios = ASSD time / alternative time)",
                rows, ["model", "assd_s", "finetune_epoch_s", "retrain_s", "authors_s",
                       "authors_as_run_s", "assd_per_finetune_epoch", "assd_per_retrain",
                       "assd_per_authors", "assd_per_authors_as_run"])
    print_table("Evaluating one unlearned model (accuracies + MIA) and agreement with the "
                "authors' style", rows, ["model", "eval_s", "eval_authors_s", "eval_per_authors",
                                          "alpha_rel_diff", "as_run_alpha_rel_diff",
                                          "weights_max_rel_diff",
                                          "accuracy_max_diff", "mia_diff", "same_result"])
    print(f"wrote {write_csv(rows, 'alternatives.csv', out_dir)}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, few reps (for tests)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the CSV")
    parser.add_argument("--models", default="", help="only models whose name contains this")
    args = parser.parse_args()
    run(args.quick, args.out, args.models)


if __name__ == "__main__":
    main()
