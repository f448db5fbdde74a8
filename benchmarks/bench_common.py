"""Shared helpers of the benchmarks: thread setting, interleaved timing, synthetic data and
models, tables and CSV files.

Timing protocol (the machine is a shared 2-core box, so absolute times are noisy): every
benchmark measures what it compares *side by side*, alternating the contenders rep by rep
(A B A B ...), and reports the median time of each and the median of the per-rep ratios. One
torch thread (``torch.set_num_threads(1)``): on a shared 2-core machine one thread is both
faster and far steadier than two.
"""

from __future__ import annotations

import csv
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from assd_repro.models import CPU_RESNET_WIDTH, ModelSpec, build_model

RESULTS = Path(__file__).resolve().parent / "results"
THREADS = 1


def set_threads(n: int = THREADS) -> None:
    """One intra-op (and one inter-op) torch thread; see the module docstring."""
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:  # already set once in this process
        pass


def environment() -> dict[str, Any]:
    """Columns every CSV row carries: torch version, threads, CPU count, machine."""
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }


def seconds(fn: Callable[[], Any]) -> float:
    """Wall-clock seconds of one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


Contender = Callable[[], Any] | tuple[Callable[[], Any], Callable[[], Any]]


def interleaved(contenders: Mapping[str, Contender], reps: int, *, warmup: int = 1
                ) -> dict[str, list[float]]:
    """Time each contender ``reps`` times, alternating them rep by rep (A B A B ...).

    Args:
        contenders: name -> zero-argument callable to time, or ``(prepare, fn)``: ``prepare()``
            runs untimed before every timed ``fn()`` (e.g. to copy a model).
        reps: timed calls of each.
        warmup: untimed rounds first.

    Returns:
        name -> list of ``reps`` wall-clock times in seconds.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(warmup + reps):
        for name, contender in contenders.items():
            prepare, fn = contender if isinstance(contender, tuple) else (None, contender)
            if prepare is not None:
                prepare()
            elapsed = seconds(fn)
            if round_ >= warmup:
                times[name].append(elapsed)
    return times


def warmup_round(contenders: Mapping[str, Contender]) -> float:
    """Run every contender once (untimed warm-up); returns the round's total seconds."""
    total = 0.0
    for contender in contenders.values():
        prepare, fn = contender if isinstance(contender, tuple) else (None, contender)
        if prepare is not None:
            prepare()
        total += seconds(fn)
    return total


def reps_for(round_seconds: float, budget_s: float, *, lo: int = 3, hi: int = 15) -> int:
    """How many rounds of ``round_seconds`` fit in ``budget_s``, clipped to ``[lo, hi]``."""
    return max(lo, min(hi, int(budget_s / max(round_seconds, 1e-9))))


def median_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Median of the per-rep ratios ``numerator[i] / denominator[i]``."""
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))


# ---------------------------------------------------------------------------------------------
# Models and synthetic data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCase:
    """One model of the benchmarks, with the data set size that is realistic for it.

    Attributes:
        name: label in the tables.
        spec: how to build it.
        input_shape: one sample's shape.
        n_train: training set size (images: 5,000 32x32 images; MLPs: 100,000 rows).
        n_test: test set size (a multiple of the batch size: the authors' per-batch accuracy
            then equals the sample-weighted one).
        batch_size: importance / training batch size (SSD images: 64; supply chain: 1024).
        retrain_epochs: epochs of a retrain (ResNet18 CIFAR-10: 20; ViT fine-tuning: 8;
            supply-chain MLPs: 25).
    """

    name: str
    spec: ModelSpec
    input_shape: tuple[int, ...]
    n_train: int
    n_test: int
    batch_size: int
    retrain_epochs: int

    @property
    def n_classes(self) -> int:
        return self.spec.n_classes

    def build(self, seed: int = 0) -> nn.Module:
        """A freshly initialised model (eval mode), seeded."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return build_model(self.spec).eval()

    def data(self, n: int, seed: int) -> TensorDataset:
        """``n`` synthetic samples (standard normal inputs, uniform labels), seeded."""
        g = torch.Generator().manual_seed(seed)
        return TensorDataset(torch.randn(n, *self.input_shape, generator=g),
                             torch.randint(0, self.n_classes, (n,), generator=g))

    def loader(self, dataset: TensorDataset, batch_size: int | None = None) -> DataLoader:
        """Unshuffled loader at the case's batch size (or ``batch_size``)."""
        return DataLoader(dataset, batch_size=batch_size or self.batch_size, shuffle=False)


N_FEATURES = 100


def model_cases(quick: bool = False) -> list[ModelCase]:
    """CPU-sized ResNet18 (width 16), the tiny ViT and the three supply-chain MLPs.

    ``quick`` keeps ResNet18 and the 2x50 MLP and shrinks their data sets (64 images, 2,048
    rows), for the test that keeps the scripts working; its timings mean little.
    """
    image = dict(input_shape=(3, 32, 32), n_train=64 if quick else 5_000,
                 n_test=64 if quick else 1_024, batch_size=64)
    table = dict(input_shape=(N_FEATURES,), n_train=2_048 if quick else 100_000,
                 n_test=1_024 if quick else 20_480, batch_size=1024)
    cases = [
        ModelCase(f"resnet18 w{CPU_RESNET_WIDTH}", ModelSpec.resnet18(10, width=CPU_RESNET_WIDTH),
                  retrain_epochs=20, **image),
        ModelCase("vit tiny_cifar", ModelSpec.vit(10, preset="tiny_cifar"), retrain_epochs=8, **image),
        *(ModelCase(f"mlp {size}", ModelSpec.mlp(N_FEATURES, 3, size=size), retrain_epochs=25, **table)
          for size in ("2x50", "3x100", "5x250")),
    ]
    return [cases[0], cases[2]] if quick else cases


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def write_csv(rows: Sequence[Mapping[str, Any]], name: str, out_dir: Path = RESULTS) -> Path:
    """Write ``rows`` (same keys each) to ``out_dir/name``; returns the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if value == 0 or 1e-3 <= abs(value) < 1e5:
            return f"{value:.3g}" if abs(value) < 10 else f"{value:,.1f}"
        return f"{value:.2e}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Print ``columns`` of ``rows`` as a Markdown table under a ``### title`` heading."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(_cell(row[c]) for c in columns) + " |")
    print(flush=True)
