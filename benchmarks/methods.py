"""Benchmark 6: every unlearning method's cost relative to ASSD on the same task.

The task is one scenario of the method comparison (:mod:`assd_repro.experiments.method_comparison`,
issue 13): the real 6,000-row DataCo sample (paper protocol), 5 % wrong training labels
(replicate 0), the 3x100 MLP trained on them with the sample's recipe (25 epochs at batch 34;
untimed), 10 % of Dr held out as validation data. Each method runs as the experiment runs it
(:func:`~assd_repro.experiments.method_comparison.run_method`, its paper's defaults) on that
one trained model; the methods that dampen recompute ``[]_Dr`` every rep (their cost includes
it, as in a one-off unlearning). ``retrain`` (the same training on Dr, from the same initial
weights) is the reference that unlearning means to beat.

Contenders alternate rep by rep; ``seconds`` is each one's median, ``ratio_to_assd`` the median
of the per-rep ratios to ASSD's time in the same rep.

    python benchmarks/methods.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

from bench_common import (
    RESULTS,
    Contender,
    environment,
    interleaved,
    median_ratio,
    print_table,
    reps_for,
    set_threads,
    warmup_round,
    write_csv,
)

from assd_repro.experiments.method_comparison import (
    COMPARISON_METHODS,
    MethodComparisonConfig,
    prepare_scenario,
    run_method,
)
from assd_repro.experiments.supply_chain_pipeline import train_mlp

SIZE, ERROR_PCT, REPLICATE = "3x100", 5.0, 0
COLUMNS = ["method", "seconds", "ratio_to_assd", "reps"]


def run(quick: bool = False, out_dir: Path = RESULTS) -> list[dict[str, Any]]:
    """Time every method against ASSD; print the table and write ``methods.csv``.

    ``quick``: 5 training epochs and 2 reps (for the test that keeps the script working).
    """
    set_threads()
    config = MethodComparisonConfig.for_profile(
        "book", model_sizes=(SIZE,), error_pcts=(ERROR_PCT,), n_scenarios=1,
        **({"epochs": 5} if quick else {}))
    p = prepare_scenario(config, SIZE, ERROR_PCT, REPLICATE)

    def method(name: str) -> Contender:
        return (p.clear_importances, lambda: run_method(p, name))  # fresh []_Dr every rep

    def retrain() -> None:
        train_mlp(*p.retain, SIZE, p.recipe, init_seed=config.init_seed_for(REPLICATE),
                  train_seed=REPLICATE)

    contenders: dict[str, Contender] = {name: method(name) for name in COMPARISON_METHODS}
    contenders["retrain"] = retrain
    reps = reps_for(warmup_round(contenders), 1.0 if quick else 90.0, lo=2 if quick else 3,
                    hi=2 if quick else 15)
    times = interleaved(contenders, reps, warmup=0)
    shared = {"model_size": SIZE, "error_pct": ERROR_PCT, "n_retain": len(p.retain[1]),
              "n_forget": len(p.forget()[1]), "n_validation": len(p.validation[1]),
              "epochs": config.epochs}
    rows = [{"method": name, "seconds": statistics.median(t),
             "ratio_to_assd": median_ratio(t, times["assd"]), "reps": reps, **shared,
             **environment()} for name, t in times.items()]
    print_table(f"Unlearning methods against ASSD ({SIZE}, {ERROR_PCT:g} % wrong labels, real "
                "sample; seconds, one thread)", rows, COLUMNS)
    print(f"wrote {write_csv(rows, 'methods.csv', out_dir)}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 epochs, 2 reps (for tests)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the CSV")
    args = parser.parse_args()
    run(args.quick, args.out)


if __name__ == "__main__":
    main()
