"""Benchmark 3: scale of the selection step (``select_alpha``) and of ``dampen``.

Importance dicts with realistic tensor shapes (float32; synthetic values: cubed uniforms with
a per-tensor scale, 1% zeros in the full importances so that some ratios are infinite or NaN):

- ``resnet18`` (11.2M parameters, 62 tensors): CIFAR ResNet18 at the paper's width 64;
- ``vit_b16`` (86.6M, 152 tensors): ViT-B/16, 224x224, 1,000 classes;
- ``gpt2_medium`` (355M, 292 tensors): GPT-2 medium's shapes (a 50,257 x 1,024 embedding,
  24 blocks), standing in for any 350M-parameter model.

``dampen`` needs a model: an ``nn.Module`` holding ``nn.Parameter`` tensors of those shapes.
Each size runs in a fresh subprocess (``--child``), which measures, for ``select_alpha`` at
ASSD's percentile for a 1% forget share and then for ``dampen`` with that alpha:

- time (``select_alpha``: median of 3 runs; ``dampen``: 1 run) and nanoseconds per parameter
  (constant across sizes = linear scaling);
- peak extra memory two ways, as multiples of the size of *one* importance dict
  (``importance_bytes``; the two dicts together are twice that): ``tracemalloc`` (numpy's
  allocations) and the peak resident set (``VmHWM`` of ``/proc/self/status``, reset through
  ``/proc/self/clear_refs`` right before the call) minus the resident set before it
  (torch's allocations too). Target: at most 2x.

The same is measured for the authors'-style code (:mod:`authors_style`: ratios copied to numpy
per tensor, concatenated, ``np.nanpercentile``; ``torch.where`` dampening per tensor) up to
86M parameters (``--authors-all``: also at 355M; it needs about 4 GB more memory).
``--quick`` measures one 1M-parameter size, in this process.

    python benchmarks/selection_scale.py [--quick] [--authors-all]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from bench_common import RESULTS, environment, print_table, set_threads, write_csv
from torch import nn

from assd_core import adaptive_percentile, dampen, select_alpha

TARGET_PEAK = 2.0
SIZES = ("resnet18", "vit_b16", "gpt2_medium")
QUICK_SIZES = ("synthetic_1m",)


def shapes(size: str) -> list[tuple[int, ...]]:
    """Parameter shapes of a model of the named size."""
    if size in ("resnet18", "resnet18_w16", "vit_b16"):
        from assd_repro.models import resnet18_cifar, vit_b16

        with torch.device("meta"):
            model = (vit_b16(1000) if size == "vit_b16"
                     else resnet18_cifar(100, width=64 if size == "resnet18" else 16))
        return [tuple(p.shape) for p in model.parameters()]
    if size == "gpt2_medium":
        d, vocab, context, blocks = 1024, 50_257, 1024, 24
        block = [(d,), (d,), (d, 3 * d), (3 * d,), (d, d), (d,), (d,), (d,), (d, 4 * d), (4 * d,),
                 (4 * d, d), (d,)]
        return [(vocab, d), (context, d), *block * blocks, (d,), (d,)]
    if size == "synthetic_1m":
        return [(512, 512)] * 4 + [(512,)] * 8
    raise ValueError(f"unknown size {size!r}")


class Parameters(nn.Module):
    """A bag of parameters of the given shapes (standard normal values), named ``t0, t1, ...``."""

    def __init__(self, shapes: list[tuple[int, ...]], generator: torch.Generator) -> None:
        super().__init__()
        for i, shape in enumerate(shapes):
            self.register_parameter(f"t{i}", nn.Parameter(torch.empty(shape).normal_(generator=generator)))


def importances(model: nn.Module, generator: torch.Generator, zero_share: float) -> dict[str, torch.Tensor]:
    """Synthetic importances: cubed uniforms times a per-tensor scale in [1e-3, 1], in place."""
    out = {}
    for name, p in model.named_parameters():
        t = torch.empty(p.shape).uniform_(generator=generator).pow_(3)
        t.mul_(10 ** -(3 * torch.rand((), generator=generator).item()))
        if zero_share:
            t.masked_fill_(torch.rand(p.shape, generator=generator) < zero_share, 0.0)
        out[name] = t
    return out


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(fn: Callable[[], Any], reps: int) -> dict[str, float]:
    """Time ``fn`` (median of ``reps``), then its peak extra RSS and tracemalloc peak (bytes)."""
    gc.collect()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
    before = _rss_kib("VmRSS")
    fn()
    rss_peak = (_rss_kib("VmHWM") - before) * 1024
    tracemalloc.start()
    fn()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"seconds": statistics.median(times), "rss_peak_bytes": rss_peak, "traced_peak_bytes": traced}


def child(size: str, implementations: list[str]) -> list[dict[str, Any]]:
    """Build the dicts and the model of ``size``; measure each implementation in turn
    (``"ours"``, ``"authors"``) on them. Dampening twice selects the same elements (the
    importances do not change), so the second implementation does the same work."""
    set_threads()
    import authors_style

    generator = torch.Generator().manual_seed(0)
    model = Parameters(shapes(size), generator)
    full = importances(model, generator, zero_share=0.01)
    forget = importances(model, generator, zero_share=0.0)
    n = sum(t.numel() for t in full.values())
    one_dict = sum(t.numel() * t.element_size() for t in full.values())
    percentile = adaptive_percentile(1, 100)
    rows = []
    for impl in implementations:
        result: dict[str, Any] = {}
        if impl == "ours":
            select = measure(lambda: result.update(alpha=select_alpha(full, forget, percentile)), reps=3)
            damp = measure(lambda: result.update(report=dampen(model, full, forget, alpha=result["alpha"])), reps=1)
            selected = result["report"].n_selected
        else:
            select = measure(lambda: result.update(alpha=authors_style.nanpercentile_alpha(
                model, full, forget, percentile)), reps=1)
            damp = measure(lambda: authors_style.dampen_loop(model, full, forget, result["alpha"]), reps=1)
            selected = sum(int((forget[k] > result["alpha"] * full[k]).sum()) for k in full)
        row = {"size": size, "implementation": impl, "parameters": n, "tensors": len(full),
               "importance_bytes": one_dict, "alpha": result["alpha"], "fraction_selected": selected / n}
        for name, m in (("select", select), ("dampen", damp)):
            row[f"{name}_s"] = m["seconds"]
            row[f"{name}_ns_per_param"] = 1e9 * m["seconds"] / n
            row[f"{name}_rss_peak_x"] = m["rss_peak_bytes"] / one_dict
            row[f"{name}_traced_peak_x"] = m["traced_peak_bytes"] / one_dict
        row["meets_target"] = max(row["select_rss_peak_x"], row["select_traced_peak_x"],
                                  row["dampen_rss_peak_x"], row["dampen_traced_peak_x"]) <= TARGET_PEAK
        rows.append({**row, **environment()})
    for row in rows:  # the authors' float32 nanpercentile against our exact float64 percentile
        row["alpha_rel_diff_vs_ours"] = abs(row["alpha"] - rows[0]["alpha"]) / rows[0]["alpha"]
    return rows


def run(quick: bool = False, out_dir: Path = RESULTS, authors_all: bool = False) -> list[dict[str, Any]]:
    """One subprocess per size and implementation; print the table, write ``selection_scale.csv``."""
    sizes = QUICK_SIZES if quick else SIZES
    rows = []
    for size in sizes:
        implementations = ["ours"] + ([] if size == "gpt2_medium" and not authors_all else ["authors"])
        if quick:  # in this process: saves the subprocess's imports (the numbers are less clean)
            measured = child(size, implementations)
        else:
            done = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--child", size, *implementations],
                check=True, capture_output=True, text=True,
            )
            measured = json.loads(done.stdout.strip().splitlines()[-1])
        for row in measured:
            rows.append(row)
            print(f"{size} ({row['parameters'] / 1e6:.1f}M) {row['implementation']}: select "
                  f"{row['select_s']:.3f} s (peak {max(row['select_rss_peak_x'], row['select_traced_peak_x']):.2f}x), "
                  f"dampen {row['dampen_s']:.3f} s "
                  f"(peak {max(row['dampen_rss_peak_x'], row['dampen_traced_peak_x']):.2f}x)", flush=True)
    print_table("Selection and dampening at scale (peak extra memory as a multiple of one "
                "importance dict)", rows,
                ["size", "implementation", "parameters", "select_s", "select_ns_per_param",
                 "select_rss_peak_x", "select_traced_peak_x", "dampen_s", "dampen_ns_per_param",
                 "dampen_rss_peak_x", "dampen_traced_peak_x", "alpha_rel_diff_vs_ours", "meets_target"])
    print(f"wrote {write_csv(rows, 'selection_scale.csv', out_dir)}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the CSV")
    parser.add_argument("--authors-all", action="store_true",
                        help="also run the authors' style at 355M parameters")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # SIZE IMPLEMENTATION...
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1:])))
    else:
        run(args.quick, args.out, args.authors_all)


if __name__ == "__main__":
    main()
