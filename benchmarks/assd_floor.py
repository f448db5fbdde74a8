"""Benchmark 1: ASSD against its floor.

With the full-data importances cached, ``assd_unlearn`` costs one forward+backward pass over
the forget set Df plus the selection and the dampening. The floor is that pass alone, at the
same batch size, on the same model and loader::

    for x, y in forget_loader:
        torch.autograd.grad(cross_entropy(model(x), y), parameters)

Reported per model and forget share (0.2%, 1%, 10% of the training set: 5,000 synthetic
32x32 images for the image models, 100,000 rows x 100 features for the MLPs):
``ratio = assd_unlearn time / floor time`` (target: at most 1.3), with the parts of ASSD
timed on their own: the forget importances, ``select_alpha``, ``dampen`` (which checks the
forget importances first) and one ``check_importances`` of the full importances.

Models are freshly initialised (timing does not depend on training); the full importances
are computed once, untimed, on up to 1,024 images / 20,480 rows of the retain set. Every rep
of the floor, of ASSD and of its parts runs on a fresh copy of the model (copying is not
timed), as a one-off unlearning call does; contenders alternate rep by rep, and the ratio is
the median of the per-rep ratios.

    python benchmarks/assd_floor.py [--quick]
"""

from __future__ import annotations

import argparse
import copy
import statistics
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from bench_common import (
    RESULTS,
    environment,
    interleaved,
    median_ratio,
    model_cases,
    print_table,
    reps_for,
    set_threads,
    warmup_round,
    write_csv,
)

from assd_core import (
    adaptive_percentile,
    assd_unlearn,
    check_importances,
    compute_importances,
    dampen,
    select_alpha,
)

SHARES = (0.002, 0.01, 0.1)
TARGET = 1.3
COLUMNS = ["model", "parameters", "forget_share", "n_forget", "batch_size", "floor_s", "assd_s",
           "ratio", "target", "meets_target", "importances_s", "select_s", "dampen_s",
           "check_full_s", "fraction_selected", "reps"]


def run(quick: bool = False, out_dir: Path = RESULTS, models: str = "") -> list[dict[str, Any]]:
    """Measure every model (whose name contains ``models``) and share; print the table and
    write ``assd_floor.csv``."""
    set_threads()
    budget = 0.5 if quick else 6.0
    rows = []
    for case in model_cases(quick):
        if models not in case.name:
            continue
        model = case.build(seed=0)
        n_cache = min(case.n_train, 1_024 if case.input_shape != (100,) else 20_480)
        retain_sample = case.data(n_cache, seed=1)
        full = compute_importances(model, case.loader(retain_sample))
        for share in SHARES:
            n_forget = max(1, round(case.n_train * share))
            loader = case.loader(case.data(n_forget, seed=2))
            percentile = adaptive_percentile(n_forget, case.n_train)
            forget = compute_importances(model, loader)
            alpha = select_alpha(full, forget, percentile)
            work: dict[str, Any] = {}

            def fresh_copy() -> None:
                work["model"] = copy.deepcopy(model)

            def floor() -> None:
                copied = work["model"]
                weights = list(copied.parameters())
                for x, y in loader:
                    torch.autograd.grad(F.cross_entropy(copied(x), y), weights)

            def unlearn() -> None:
                work["report"] = assd_unlearn(work["model"], loader, full, n_total=case.n_train)

            contenders = {  # every model-touching contender gets a fresh copy (copying untimed)
                "floor": (fresh_copy, floor),
                "assd": (fresh_copy, unlearn),
                "importances": (fresh_copy, lambda: compute_importances(work["model"], loader)),
                "select": lambda: select_alpha(full, forget, percentile),
                "dampen": (fresh_copy, lambda: dampen(work["model"], full, forget, alpha=alpha)),
                "check_full": lambda: check_importances(model, full, "full importances"),
            }
            reps = reps_for(warmup_round(contenders), budget, lo=2 if quick else 3, hi=5 if quick else 41)
            times = interleaved(contenders, reps, warmup=0)
            med = {name: statistics.median(t) for name, t in times.items()}
            ratio = median_ratio(times["assd"], times["floor"])
            rows.append({
                "model": case.name, "parameters": sum(p.numel() for p in model.parameters()),
                "forget_share": share, "n_forget": n_forget, "batch_size": case.batch_size,
                "floor_s": med["floor"], "assd_s": med["assd"], "ratio": ratio, "target": TARGET,
                "meets_target": ratio <= TARGET, "importances_s": med["importances"],
                "select_s": med["select"], "dampen_s": med["dampen"], "check_full_s": med["check_full"],
                "fraction_selected": work["report"].fraction_selected, "reps": reps,
                **environment(),
            })
            print(f"{case.name} share {share:.3f}: ratio {ratio:.2f} "
                  f"({med['assd'] * 1e3:.1f} ms / {med['floor'] * 1e3:.1f} ms, {reps} reps)", flush=True)
    print_table("ASSD against its floor (assd_unlearn / forward+backward over Df)", rows,
                ["model", "forget_share", "n_forget", "floor_s", "assd_s", "ratio", "meets_target",
                 "importances_s", "select_s", "dampen_s", "check_full_s"])
    print(f"wrote {write_csv(rows, 'assd_floor.csv', out_dir)}")
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
