"""Benchmark 4: the supply-chain experiment grid.

Per-scenario cost of the error-unlearning experiment (:mod:`assd_repro.experiments.error_unlearning`,
its own scenario function) at each MLP size: inject 1% label errors, train the baseline and
the retrain (25 epochs each, batch 1024), fine-tune one epoch, ASSD (importances on Dr, then
the forget pass, selection and dampening), evaluate. Data: the synthetic DataCo stand-in at the
real file's size (180,519 rows; the paper protocol keeps about 48,500 training rows of 28
features, against about 47,000 of ~100 features for the real file). The scenario's own
``method_s`` column gives the parts. ``paper_grid_h`` extrapolates to the paper's grid
(6 error rates x 100 replicates = 600 scenarios per size), in hours, in one process.

Then the speed-up of :func:`assd_repro.experiments.run_scenarios` on a 2-worker Dask
``LocalCluster`` over in-process, on the 6 paper error rates with the 2x50 MLP. The Dask time
includes starting and stopping the cluster and each worker preparing the data once; the rows
of both runs are compared (``same_rows``).

    python benchmarks/experiment_grid.py [--quick] [--no-dask]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from bench_common import RESULTS, environment, print_table, seconds, set_threads, write_csv

from assd_repro.experiments import run_one, run_scenarios
from assd_repro.experiments.error_unlearning import (
    PAPER_ERROR_PCTS,
    ErrorUnlearningConfig,
    error_unlearning_scenario,
)

SIZES = ("2x50", "3x100", "5x250")
VALUE_COLUMNS = ["scenario", "method", "split", "value"]


def _config(quick: bool, **fields: Any) -> ErrorUnlearningConfig:
    data = dict(n_rows=6_000, epochs=5) if quick else dict(n_rows=180_519, epochs=25)
    return ErrorUnlearningConfig.for_profile("smoke" if quick else "book", n_scenarios=1,
                                             **data, **fields)


def scenario_costs(quick: bool) -> list[dict[str, Any]]:
    """One scenario per MLP size, in this process (data prepared once, untimed)."""
    data_s = seconds(_config(quick, model_sizes=SIZES, error_pcts=(1.0,)).split)
    rows = []
    for size in SIZES:
        config = _config(quick, model_sizes=(size,), error_pcts=(1.0,))
        frame = run_one(error_unlearning_scenario, config, 0, threads=1)
        parts = frame.groupby("method")["method_s"].first()
        wall = float(frame["wall_s"].iloc[0])
        rows.append({
            "model_size": size, "n_train": int(frame["n_forget"].iloc[0] + frame.loc[
                (frame["method"] == "assd") & (frame["split"] == "train"), "n_eval"].iloc[0]),
            "epochs": config.epochs, "scenario_s": wall, "baseline_train_s": float(parts["baseline"]),
            "retrain_s": float(parts["retrain"]), "finetune_s": float(parts["finetune"]),
            "assd_s": float(parts["assd"]), "evaluation_and_rest_s": wall - float(parts.sum()),
            "assd_share": float(parts["assd"]) / wall, "data_prep_s": data_s,
            "paper_grid_h": wall * len(PAPER_ERROR_PCTS) * 100 / 3600, **environment(),
        })
        print(f"{size}: {wall:.1f} s per scenario (ASSD {float(parts['assd']):.2f} s)", flush=True)
    return rows


def dask_speedup(quick: bool, workers: int = 2) -> dict[str, Any]:
    """In-process against a ``workers``-process LocalCluster, same scenarios and results."""
    pcts = (1.0, 5.0) if quick else PAPER_ERROR_PCTS
    config = _config(quick, model_sizes=("2x50",), error_pcts=pcts)
    frames: dict[str, pd.DataFrame] = {}
    with tempfile.TemporaryDirectory() as tmp:
        in_process_s = seconds(lambda: frames.update(local=run_scenarios(
            error_unlearning_scenario, config, results_dir=Path(tmp) / "local", progress=False)))
        dask_s = seconds(lambda: frames.update(dask=run_scenarios(
            error_unlearning_scenario, config, results_dir=Path(tmp) / "dask", workers=workers,
            progress=False)))
    local, dask = frames["local"], frames["dask"]
    same = local[VALUE_COLUMNS].reset_index(drop=True).equals(dask[VALUE_COLUMNS].reset_index(drop=True))
    per_local = local.groupby("scenario")["wall_s"].first()
    per_dask = dask.groupby("scenario")["wall_s"].first()
    return {
        "scenarios": len(config.seeds), "model_size": "2x50", "workers": workers,
        "in_process_s": in_process_s, "dask_s": dask_s, "speedup": in_process_s / dask_s,
        "mean_scenario_in_process_s": float(per_local.mean()),
        "mean_scenario_on_worker_s": float(per_dask.mean()),
        "dask_overhead_s": dask_s - float(per_dask.sum()) / workers, "same_rows": bool(same),
        **environment(),
    }


def run(quick: bool = False, out_dir: Path = RESULTS, dask: bool = True) -> list[dict[str, Any]]:
    """Both parts; print the tables, write ``experiment_grid.csv`` and ``experiment_dask.csv``."""
    set_threads()
    rows = scenario_costs(quick)
    print_table("Per-scenario cost of the error-unlearning experiment (seconds, one thread)", rows,
                ["model_size", "n_train", "scenario_s", "baseline_train_s", "retrain_s",
                 "finetune_s", "assd_s", "evaluation_and_rest_s", "assd_share", "paper_grid_h"])
    print(f"wrote {write_csv(rows, 'experiment_grid.csv', out_dir)}")
    if dask:
        speed = dask_speedup(quick)
        print_table("2-worker Dask LocalCluster against in-process (run_scenarios)", [speed],
                    ["scenarios", "model_size", "in_process_s", "dask_s", "speedup",
                     "mean_scenario_in_process_s", "mean_scenario_on_worker_s", "dask_overhead_s",
                     "same_rows"])
        print(f"wrote {write_csv([speed], 'experiment_dask.csv', out_dir)}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-sized data (for tests)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the CSVs")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask comparison")
    args = parser.parse_args()
    run(args.quick, args.out, dask=not args.no_dask)


if __name__ == "__main__":
    main()
