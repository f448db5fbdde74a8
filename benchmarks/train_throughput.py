"""Benchmark: CPU training throughput of the book's image models, before and after the speed
options of :func:`assd_repro.training.train`.

One SGD step (momentum 0.9, weight decay 5e-4) = forward, cross-entropy, backward, update, at
the book's batch size (64) on synthetic 32x32 RGB images, one torch thread. Variants per model:

- ``float32``: the plain loop (before);
- ``channels_last``: inputs and 4-D weights in the channels_last memory format;
- ``bfloat16``: forwards under ``torch.autocast("cpu", torch.bfloat16)`` (weights, gradients and
  optimiser stay float32);
- ``channels_last+bfloat16``: both;
- ``compile``: ``torch.compile`` of the model (its one-off compilation, tens of seconds, is
  reported apart and not in the step time).

Variants alternate step by step (``interleaved``); the throughput is the batch over the median
step time, the ratio the median of per-step ratios to ``float32``. ``kept`` marks what the book's
stored image runs train with (``after``): it must be faster, and not change accuracy, which
``--accuracy`` measures (one full training of the CIFAR-10 ResNet18 in float32,
channels_last and channels_last+bfloat16 on the real images, about 10 minutes each on one
core; written to ``train_accuracy.csv``).

    python benchmarks/train_throughput.py [--quick] [--no-compile] [--accuracy]

Writes ``benchmarks/results/train_throughput.csv``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from bench_common import (
    RESULTS,
    environment,
    interleaved,
    median_ratio,
    print_table,
    set_threads,
    write_csv,
)
from torch import nn

from assd_repro.models import CPU_RESNET_WIDTH, ModelSpec, build_model, count_parameters

BATCH = 64
VARIANTS = ("float32", "channels_last", "bfloat16", "channels_last+bfloat16", "compile")
#: the variant each model's stored runs train with (assd_repro.experiments.stored_runs)
KEPT = {"resnet18": "channels_last", "vit": "float32"}
COLUMNS = ["model", "parameters", "variant", "images_per_s", "ratio_to_float32", "kept",
           "compile_s", "steps"]
ACCURACY_COLUMNS = ["variant", "epochs", "train_accuracy", "test_accuracy", "train_s"]


def _cases() -> list[tuple[str, str, ModelSpec]]:
    return [("resnet18", f"resnet18 w{CPU_RESNET_WIDTH}",
             ModelSpec.resnet18(10, width=CPU_RESNET_WIDTH)),
            ("vit", "vit tiny_cifar", ModelSpec.vit(10, preset="tiny_cifar"))]


def training_step(spec: ModelSpec, variant: str, x: torch.Tensor, y: torch.Tensor
                  ) -> tuple[Callable[[], None], float]:
    """One SGD step of a fresh ``spec`` model in ``variant``; and the compile seconds (0 unless
    ``compile``, whose first call compiles and is run here, untimed)."""
    torch.manual_seed(0)
    model = build_model(spec).train()
    channels_last = variant.startswith("channels_last")
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    forward: nn.Module | Callable[..., torch.Tensor] = model
    if variant == "compile":
        forward = torch.compile(model)
    bf16 = variant.endswith("bfloat16")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = forward(x)
        F.cross_entropy(logits.float(), y).backward()
        optimizer.step()

    compile_s = 0.0
    if variant == "compile":
        began = time.perf_counter()
        step()
        compile_s = time.perf_counter() - began
    return step, compile_s


def throughput(quick: bool, compile_models: bool) -> list[dict[str, Any]]:
    """One row per model and variant (see the module docstring)."""
    rows = []
    steps = 3 if quick else 12
    variants = [v for v in VARIANTS if compile_models or v != "compile"]
    for family, name, spec in _cases()[: 1 if quick else None]:
        torch.manual_seed(0)
        x, y = torch.randn(BATCH, 3, 32, 32), torch.randint(0, 10, (BATCH,))
        made = {v: training_step(spec, v, x, y) for v in variants}
        times = interleaved({v: fn for v, (fn, _) in made.items()}, steps)
        for v in variants:
            seconds = sorted(times[v])[len(times[v]) // 2]
            rows.append({"model": name, "parameters": count_parameters(build_model(spec)),
                         "variant": v, "images_per_s": round(BATCH / seconds, 1),
                         "ratio_to_float32": round(median_ratio(times["float32"], times[v]), 3),
                         "kept": "yes" if v == KEPT[family] else "no",
                         "compile_s": round(made[v][1], 1), "steps": steps, **environment()})
    return rows


def accuracy(quick: bool) -> list[dict[str, Any]]:
    """Train the stored runs' CIFAR-10 ResNet18 once per variant (float32, channels_last and
    channels_last+bfloat16; same initial weights and batches) on the real images
    (``$ASSD_DATA``) and report train and test accuracy."""
    from assd_repro.experiments.image_pipeline import load_data, model_spec
    from assd_repro.experiments.image_pipeline import BOOK_CIFAR10_SETUP
    from assd_repro.training import ssd_image_recipe, train

    setup = BOOK_CIFAR10_SETUP
    if quick:
        setup = dataclasses.replace(setup, max_per_class=20, epochs=1, milestones=())
    data = load_data(setup)
    rows = []
    for variant in ("float32", "channels_last", "channels_last+bfloat16"):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(setup.train_seed)
            model = build_model(model_spec(setup, len(data.classes), 3))
        recipe = ssd_image_recipe(setup.epochs, setup.milestones, setup.lr,
                                  batch_size=setup.batch_size)
        began = time.perf_counter()
        history = train(model, data.train, recipe, seed=setup.train_seed, progress=False,
                        autocast=torch.bfloat16 if variant.endswith("bfloat16") else None,
                        channels_last=variant.startswith("channels_last"))
        train_s = time.perf_counter() - began
        correct = sum(int((model(x).argmax(1) == y).sum())
                      for x, y in torch.utils.data.DataLoader(data.test, batch_size=256))
        rows.append({"variant": variant, "epochs": setup.epochs,
                     "train_accuracy": round(history.epochs[-1].train_accuracy, 2),
                     "test_accuracy": round(100.0 * correct / len(data.test), 2),
                     "train_s": round(train_s, 1), **environment()})
    return rows


def run(quick: bool = False, out: Path = RESULTS, *, compile_models: bool = True,
        with_accuracy: bool = False) -> list[dict[str, Any]]:
    """Measure, print the tables and write the CSVs; returns the throughput rows."""
    set_threads()
    rows = throughput(quick, compile_models and not quick)
    print_table("Training throughput (images/s, batch 64, one thread)", rows, COLUMNS)
    path = write_csv(rows, "train_throughput.csv", out)
    print(f"\nwrote {path}")
    if with_accuracy:
        accuracy_rows = accuracy(quick)
        print_table("Accuracy of the CIFAR-10 ResNet18 trained either way", accuracy_rows,
                    ACCURACY_COLUMNS)
        print(f"wrote {write_csv(accuracy_rows, 'train_accuracy.csv', out)}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ResNet18 only, few steps")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--accuracy", action="store_true",
                        help="also train the CIFAR-10 ResNet18 in three variants (30 minutes)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    run(args.quick, args.out, compile_models=not args.no_compile, with_accuracy=args.accuracy)


if __name__ == "__main__":
    main()
