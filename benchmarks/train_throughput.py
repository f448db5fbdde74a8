"""Training throughput (samples/s) of the project's models at their CPU sizes.

One SGD step (momentum 0.9, weight decay 5e-4) = forward, cross-entropy, backward, update, on
synthetic data: batch 128 of 32x32 RGB images for the image models, batch 1024 rows of 100
features for the supply-chain MLPs. A few warm-up steps are discarded, then the median time
of the timed steps is reported.

    python benchmarks/train_throughput.py [--steps 3] [--warmup 1] [--threads 1 2]

Prints a Markdown table and writes ``benchmarks/results/train_throughput.csv`` (one row per
model and thread count). On a shared 2-core machine one thread is often faster than two.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from assd_repro.models import CPU_RESNET_WIDTH, ModelSpec, build_model, count_parameters

RESULTS = Path(__file__).resolve().parent / "results" / "train_throughput.csv"
N_FEATURES = 100

# (name, spec, batch size, input shape without the batch dimension)
CASES: list[tuple[str, ModelSpec, int, tuple[int, ...]]] = [
    (f"resnet18 w{CPU_RESNET_WIDTH}", ModelSpec.resnet18(10, width=CPU_RESNET_WIDTH), 128,
     (3, 32, 32)),
    ("resnet18 w64 (paper)", ModelSpec.resnet18(10, width=64), 128, (3, 32, 32)),
    ("vit tiny_cifar", ModelSpec.vit(10, preset="tiny_cifar"), 128, (3, 32, 32)),
    ("mlp 2x50", ModelSpec.mlp(N_FEATURES, size="2x50"), 1024, (N_FEATURES,)),
    ("mlp 3x100", ModelSpec.mlp(N_FEATURES, size="3x100"), 1024, (N_FEATURES,)),
    ("mlp 5x250", ModelSpec.mlp(N_FEATURES, size="5x250"), 1024, (N_FEATURES,)),
]


def step_seconds(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, warmup: int, steps: int
                 ) -> list[float]:
    """Wall-clock seconds of each of ``steps`` timed SGD steps after ``warmup`` untimed ones."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    model.train()

    def one_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(warmup):
        one_step()
    return [_timed(one_step) for _ in range(steps)]


def _timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per image model")
    parser.add_argument("--mlp-steps", type=int, default=20, help="timed steps per MLP")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--threads", type=int, nargs="+", default=[torch.get_num_threads()],
                        help="torch.set_num_threads values to measure (default: torch's)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows = []
    for (name, spec, batch, shape), threads in itertools.product(CASES, args.threads):
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        model = build_model(spec)
        x = torch.randn(batch, *shape)
        y = torch.randint(0, spec.n_classes, (batch,))
        steps = args.mlp_steps if spec.kind == "mlp" else args.steps
        seconds = statistics.median(step_seconds(model, x, y, warmup=args.warmup, steps=steps))
        rows.append({
            "model": name, "parameters": count_parameters(model), "batch": batch,
            "input": "x".join(map(str, shape)), "seconds_per_step": round(seconds, 4),
            "samples_per_s": round(batch / seconds, 1), "threads": torch.get_num_threads(),
            "timed_steps": steps, "torch": torch.__version__,
        })
        print(f"{name}, {threads} thread(s): {batch / seconds:,.1f} samples/s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("\n| model | parameters | batch | threads | s/step | samples/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['model']} | {row['parameters']:,} | {row['batch']} | {row['threads']} | "
              f"{row['seconds_per_step']:.3f} | {row['samples_per_s']:,.1f} |")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
