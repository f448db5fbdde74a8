"""Benchmark: evaluating one unlearned image model (Dr, Df, MIA) against its floor.

The SSD protocol needs the model's outputs on three sets: retain-train (the MIA's members),
forget-train (the MIA's target, and Df of random forgetting) and test (Dr and Df of class
forgetting, and the MIA's non-members). The floor is one forward pass over those three sets,
at the same batch size, in inference mode::

    for loader in (retain_train, forget_train, test):
        for x, y in loader:
            model(x)

Contenders, on the same model and task:

- ``one_pass``: :func:`assd_repro.experiments.image_pipeline.evaluate`, which forwards each
  set once (:func:`assd_core.sample_scores`) and fits the attack on the entropies;
- ``three_calls``: the protocol as separate calls, ``accuracy(retain_test)``,
  ``accuracy(forget_test)``, ``entropy_mia(retain_train, forget_train, test)``: the test set
  is forwarded twice.

Reported per model and task (full-class: one class of 10 forgotten; random: 1 % of the
training set): ``one_pass / floor`` (target: at most 1.1), ``three_calls / floor`` and
``three_calls / one_pass``, medians of per-rep ratios (contenders alternate rep by rep).
Synthetic 32x32 images (5,000 train, 1,024 test), freshly initialised models: timing does not
depend on training.

    python benchmarks/evaluation.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

import torch
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
from torch import nn
from torch.utils.data import DataLoader

from assd_core import accuracy, entropy_mia
from assd_repro.data import ForgetTask, ImageData, ImageDataset, fullclass, random_forget
from assd_repro.experiments.image_pipeline import evaluate

TARGET = 1.1
BATCH_SIZE = 256
COLUMNS = ["model", "task", "n_forwarded", "floor_s", "one_pass_s", "three_calls_s",
           "one_pass_per_floor", "three_calls_per_floor", "three_calls_per_one_pass", "target",
           "meets_target", "reps"]


def synthetic_images(n_train: int, n_test: int, n_classes: int = 10) -> ImageData:
    """Standard-normal 3x32x32 images with balanced labels (seeded)."""
    g = torch.Generator().manual_seed(0)
    classes = [f"class{i}" for i in range(n_classes)]

    def split(n: int) -> ImageDataset:
        labels = torch.arange(n) % n_classes
        return ImageDataset(torch.randn(n, 3, 32, 32, generator=g), labels, classes)

    return ImageData("synthetic", split(n_train), split(n_test))


def floor_pass(model: nn.Module, task: ForgetTask) -> None:
    """One inference-mode forward pass over retain-train, forget-train and test."""
    with torch.inference_mode():
        for ds in (task.retain_train, task.forget_train, task.test):
            for x, _ in DataLoader(ds, batch_size=BATCH_SIZE):
                model(x)


def three_calls(model: nn.Module, task: ForgetTask) -> dict[str, float]:
    """The protocol as three separate calls (the test set forwarded twice)."""
    def load(ds: ImageDataset) -> DataLoader:
        return DataLoader(ds, batch_size=BATCH_SIZE)

    return {"Dr": accuracy(model, load(task.retain_test)),
            "Df": accuracy(model, load(task.forget_test)),
            "MIA": entropy_mia(model, load(task.retain_train), load(task.forget_train),
                               load(task.test))}


def run(quick: bool = False, out_dir: Path = RESULTS) -> list[dict[str, Any]]:
    """Measure the image models on a full-class and a random task; print the table and write
    ``evaluation.csv``."""
    set_threads()
    budget = 0.5 if quick else 8.0
    rows = []
    for case in model_cases(quick):
        if case.input_shape != (3, 32, 32):
            continue
        data = synthetic_images(case.n_train, case.n_test)
        model = case.build(seed=0)
        for name, task in (("fullclass", fullclass(data, 0)),
                           ("random 1%", random_forget(data, 0.01, seed=0))):
            assert evaluate(model, task, batch_size=BATCH_SIZE) == three_calls(model, task)
            contenders = {
                "floor": lambda m=model, t=task: floor_pass(m, t),
                "one_pass": lambda m=model, t=task: evaluate(m, t, batch_size=BATCH_SIZE),
                "three_calls": lambda m=model, t=task: three_calls(m, t),
            }
            reps = reps_for(warmup_round(contenders), budget)
            times = interleaved(contenders, reps, warmup=0)
            one = median_ratio(times["one_pass"], times["floor"])
            rows.append({
                "model": case.name, "task": name,
                "n_forwarded": len(task.retain_train) + len(task.forget_train) + len(task.test),
                "floor_s": statistics.median(times["floor"]),
                "one_pass_s": statistics.median(times["one_pass"]),
                "three_calls_s": statistics.median(times["three_calls"]),
                "one_pass_per_floor": one,
                "three_calls_per_floor": median_ratio(times["three_calls"], times["floor"]),
                "three_calls_per_one_pass": median_ratio(times["three_calls"],
                                                         times["one_pass"]),
                "target": TARGET, "meets_target": one <= TARGET, "reps": reps,
                **environment(),
            })
    print_table("Evaluating one unlearned model: one pass against three calls", rows, COLUMNS)
    write_csv(rows, "evaluation.csv", out_dir)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small and fast (for tests)")
    args = parser.parse_args()
    run(args.quick)


if __name__ == "__main__":
    main()
