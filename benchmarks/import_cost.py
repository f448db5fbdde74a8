"""Import cost of the core: ``import assd_core`` against ``import torch`` alone.

    python benchmarks/import_cost.py [--quick] [--out DIR]

Each measurement is a fresh interpreter (``python -X importtime`` is not used: it slows the
import down). The child times its one import statement with ``time.perf_counter`` and reports
its peak resident memory (``ru_maxrss``) and which heavy packages ended up in ``sys.modules``.
The two contenders alternate, so drift of the shared machine hits both alike; the table gives
medians and the ratio of the medians (target: at most 1.2). Writes ``import_cost.csv``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import RESULTS, print_table, write_csv  # noqa: E402

#: Packages ``import assd_core`` must not load (the reproduction's dependencies).
HEAVY = ("pandas", "sklearn", "scipy", "PIL", "pyarrow", "optuna", "dask", "timm", "matplotlib")

CHILD = """
import json, resource, sys, time
start = time.perf_counter()
import {module}
seconds = time.perf_counter() - start
rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
print(json.dumps({{"seconds": seconds, "rss_mib": rss_kib / 1024, "heavy": heavy}}))
"""

CONTENDERS = ("torch", "assd_core")


def measure(module: str) -> dict[str, float | list[str]]:
    """One fresh interpreter that imports ``module``: seconds, peak RSS (MiB), heavy modules."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(module=module, heavy=HEAVY)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def run(quick: bool = False, out: Path = RESULTS) -> list[dict[str, object]]:
    """Alternate the two imports ``reps`` times; print and write the medians and ratios."""
    reps = 2 if quick else 7
    measure("torch")  # warm the file cache once, unmeasured
    samples: dict[str, list[dict[str, float | list[str]]]] = {m: [] for m in CONTENDERS}
    for _ in range(reps):
        for module in CONTENDERS:
            samples[module].append(measure(module))
    rows: list[dict[str, object]] = []
    base = {key: statistics.median(float(s[key]) for s in samples["torch"])  # type: ignore[arg-type]
            for key in ("seconds", "rss_mib")}
    for module in CONTENDERS:
        seconds = statistics.median(float(s["seconds"]) for s in samples[module])  # type: ignore[arg-type]
        rss = statistics.median(float(s["rss_mib"]) for s in samples[module])  # type: ignore[arg-type]
        heavy = sorted({m for s in samples[module] for m in s["heavy"]})  # type: ignore[union-attr]
        rows.append({"import": module, "reps": reps, "seconds": seconds, "rss_mib": rss,
                     "time_ratio": seconds / base["seconds"], "rss_ratio": rss / base["rss_mib"],
                     "heavy_modules": " ".join(heavy) or "none"})
    print_table("import cost (fresh interpreter, medians)", rows,
                ["import", "reps", "seconds", "rss_mib", "time_ratio", "rss_ratio",
                 "heavy_modules"])
    write_csv(rows, "import_cost.csv", out)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two reps (for tests)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the CSV")
    args = parser.parse_args(argv)
    run(args.quick, args.out)


if __name__ == "__main__":
    main()
