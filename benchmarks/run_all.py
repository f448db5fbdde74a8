"""Run every benchmark: print their tables and write their CSVs to ``benchmarks/results/``.

    python benchmarks/run_all.py [--quick] [--only import,floor,alternatives,scale,grid,evaluation,methods,training] [--no-dask]

``--quick`` shrinks every benchmark (tenfold smaller data, few reps, one small size for the
scale benchmark) so that a test can check the scripts still run; its numbers mean little.
The full run takes 12-17 minutes on the project's 2-core machine. One torch thread
throughout (see ``bench_common``). See ``benchmarks/README.md`` for what each one measures.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import alternatives  # noqa: E402
import assd_floor  # noqa: E402
import evaluation  # noqa: E402
import experiment_grid  # noqa: E402
import import_cost  # noqa: E402
import methods  # noqa: E402
import selection_scale  # noqa: E402
import train_throughput  # noqa: E402
from bench_common import RESULTS, set_threads  # noqa: E402

BENCHMARKS = ("import", "floor", "alternatives", "scale", "grid", "evaluation", "methods",
              "training")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small and fast (for tests)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the CSVs")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask comparison")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    set_threads()
    print(f"# ASSD benchmarks ({'quick' if args.quick else 'full'}; 1 torch thread; "
          f"CSVs in {args.out})", flush=True)
    started = time.perf_counter()
    steps = {
        "import": lambda: import_cost.run(args.quick, args.out),
        "floor": lambda: assd_floor.run(args.quick, args.out),
        "alternatives": lambda: alternatives.run(args.quick, args.out),
        "scale": lambda: selection_scale.run(args.quick, args.out),
        "grid": lambda: experiment_grid.run(args.quick, args.out, dask=not args.no_dask),
        "evaluation": lambda: evaluation.run(args.quick, args.out),
        "methods": lambda: methods.run(args.quick, args.out),
        "training": lambda: train_throughput.run(args.quick, args.out),
    }
    for name in chosen:
        began = time.perf_counter()
        print(f"\n## {name}", flush=True)
        steps[name]()
        print(f"({name}: {time.perf_counter() - began:.0f} s)", flush=True)
    print(f"\nall benchmarks: {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
