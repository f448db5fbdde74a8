"""The catalogue of checked bad inputs: one list of cases that drives the tests and the book's table.

Each :class:`BadInput` names a public function of ``assd_core`` or ``assd_repro``, a bad input
in words, the error it must raise and a pattern its message must match. ``tests/test_input_checks.py``
runs every case on a fresh :class:`Bench` (a tiny trained classifier, its importances, a loader
and a scratch folder) and asserts the error, the message, that the model's parameters, buffers
and training flags are unchanged and that no file in the scratch folder was written, changed or
removed. The *Using ASSD* chapter of the book renders :func:`checks_table`, which runs the same
cases and shows the messages they produce now, with the line of code that raised each.
"""

from __future__ import annotations

import dataclasses
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

import assd_core as ac

__all__ = ["CASES", "BadInput", "Bench", "checks_table", "raise_site", "run_case"]

N_IN, N_CLASSES = 4, 3


class Bench:
    """A fresh workbench for one case: a small MLP (with BatchNorm, one module frozen in eval
    mode), 24 labelled rows in batches of 8, full and forget importances, and a scratch folder.

    Args:
        folder: scratch folder for files the cases read (default: a new temporary folder).
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        generator = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        self.folder = Path(tempfile.mkdtemp(prefix="assd-checks-") if folder is None else folder)
        self.model = nn.Sequential(nn.Linear(N_IN, 8), nn.BatchNorm1d(8), nn.ReLU(),
                                   nn.Linear(8, N_CLASSES))
        self.x = torch.randn(24, N_IN, generator=generator)
        self.y = torch.randint(0, N_CLASSES, (24,), generator=generator)
        self.model.eval()
        self.full = ac.compute_importances(self.model, self.batches())
        self.forget = ac.compute_importances(self.model, self.batches(8))

    def batches(self, n: int = 24, *, y: Tensor | None = None) -> list[tuple[Tensor, Tensor]]:
        """The first ``n`` rows in batches of 8, with labels ``y`` (default: the true ones)."""
        labels = self.y if y is None else y
        return [(self.x[i:i + 8], labels[i:i + 8]) for i in range(0, n, 8)]

    def loader(self, n: int = 24) -> torch.utils.data.DataLoader[Any]:
        """A ``DataLoader`` over the first ``n`` rows (it has a sized ``.dataset``)."""
        data = torch.utils.data.TensorDataset(self.x[:n], self.y[:n])
        return torch.utils.data.DataLoader(data, batch_size=8)

    def importance_file(self, name: str = "full.safetensors") -> Path:
        """The full importances saved in the scratch folder."""
        return ac.save_importances(self.folder / name, self.full, self.model)

    def edited(self, **changes: Callable[[Tensor], Any]) -> dict[str, Any]:
        """The full importances with ``changes[name](tensor)`` applied to every tensor."""
        (change,) = changes.values()
        return {name: change(t) for name, t in self.full.items()}

    def state(self) -> tuple[dict[str, Tensor], dict[str, bool], dict[str, bytes]]:
        """Parameters and buffers (cloned), every module's training flag, and every file's bytes
        under the scratch folder: what a failing call must leave as it was."""
        tensors = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        flags = {name: m.training for name, m in self.model.named_modules()}
        files = {str(p.relative_to(self.folder)): p.read_bytes()
                 for p in sorted(self.folder.rglob("*")) if p.is_file()}
        return tensors, flags, files


@dataclasses.dataclass(frozen=True)
class BadInput:
    """One bad input and the error it must raise.

    Attributes:
        function: the public function or class called, with its package (``assd_core.dampen``).
        case: the bad input, in words.
        error: the exception type expected.
        match: a regular expression the message must match (``re.search``).
        call: makes the bad call on a :class:`Bench`.
        setup: prepares files in the bench's folder before its state is recorded (optional).
    """

    function: str
    case: str
    error: type[Exception]
    match: str
    call: Callable[[Bench], object]
    setup: Callable[[Bench], object] | None = None

    @property
    def id(self) -> str:
        """A test id: the function's short name and the case."""
        return f"{self.function.rsplit('.', 1)[-1]}: {self.case}"


def run_case(case: BadInput, bench: Bench) -> Exception:
    """Run one case and return the error it raised.

    Raises:
        AssertionError: the call raised nothing, or an error of another type (chained).
    """
    try:
        case.call(bench)
    except case.error as error:
        return error
    except Exception as error:
        raise AssertionError(f"{case.id}: expected {case.error.__name__}, got "
                             f"{type(error).__name__}: {error}") from error
    raise AssertionError(f"{case.id}: expected {case.error.__name__}, nothing was raised")


def raise_site(error: BaseException) -> str:
    """``package/module.py:line`` of the innermost frame of ``assd_core`` or ``assd_repro`` in
    the error's traceback: the check that raised it."""
    sites = [f for f in traceback.extract_tb(error.__traceback__)
             if "/assd_core/" in f.filename or "/assd_repro/" in f.filename]
    if not sites:
        return "?"
    frame = sites[-1]
    package = "assd_core" if "/assd_core/" in frame.filename else "assd_repro"
    return f"{package}/{frame.filename.split(f'/{package}/', 1)[1]}:{frame.lineno}"


def checks_table(cases: tuple[BadInput, ...] | None = None) -> pd.DataFrame:
    """Run every case on a fresh bench and tabulate what it raised.

    Returns:
        One row per case: ``function``, ``case``, ``error`` (type name), ``message`` (as raised
        now, the scratch folder written ``<folder>``) and ``checked at`` (:func:`raise_site`).
    """
    rows = []
    for case in CASES if cases is None else cases:
        with tempfile.TemporaryDirectory(prefix="assd-checks-") as folder:
            bench = Bench(folder)
            if case.setup is not None:
                case.setup(bench)
            error = run_case(case, bench)
            message = str(error).strip("'\"").replace(str(bench.folder), "<folder>")
        rows.append({"function": case.function, "case": case.case,
                     "error": type(error).__name__, "message": message,
                     "checked at": raise_site(error)})
    return pd.DataFrame(rows)


# -- the cases --------------------------------------------------------------------------------

def _returns(output: Callable[[Tensor], Any]) -> nn.Module:
    class Wrapped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(N_IN, N_CLASSES)

        def forward(self, x: Tensor) -> Any:
            return output(self.linear(x))

    return Wrapped()


class _BareParameter(nn.Module):
    """A classifier whose only weight belongs to no module with ``reset_parameters``."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(N_IN, N_CLASSES))

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.weight


def _unsized(bench: Bench) -> Iterator[tuple[Tensor, Tensor]]:
    yield from bench.batches(8)


def _write(name: str, data: bytes) -> Callable[[Bench], object]:
    return lambda b: (b.folder / name).write_bytes(data)


def _safetensors_file(name: str, metadata: dict[str, str] | None) -> Callable[[Bench], object]:
    def setup(b: Bench) -> None:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in b.full.items()}, str(b.folder / name),
                  metadata=metadata)

    return setup


def _damage_metadata(bench: Bench, name: str) -> None:
    """An importance file whose ``n_samples`` metadata is not JSON."""
    from safetensors import safe_open

    path = bench.importance_file(name)
    with safe_open(str(path), framework="pt") as f:
        metadata = dict(f.metadata())
    _safetensors_file(name, {**metadata, "n_samples": "twenty"})(bench)


def _other_model(bench: Bench) -> nn.Module:
    return nn.Sequential(nn.Linear(N_IN, 5), nn.ReLU(), nn.Linear(5, N_CLASSES))


CORE: tuple[BadInput, ...] = (
    # labels, model outputs and batches (everywhere data enter)
    BadInput("assd_core.accuracy", "labels of shape (batch, 1)", ValueError,
             r"labels have shape \(8, 1\) but must have shape \(batch,\).*y\.squeeze\(1\)",
             lambda b: ac.accuracy(b.model, [(x, y[:, None]) for x, y in b.batches()])),
    BadInput("assd_core.compute_importances", "float labels", ValueError,
             r"labels have dtype torch.float32; class indices must be integers: pass y.long\(\)",
             lambda b: ac.compute_importances(b.model, b.batches(y=b.y.float()))),
    BadInput("assd_core.accuracy", "a label outside the model's classes", ValueError,
             r"label 7 is outside \[0, 3\) for a model with 3 outputs",
             lambda b: ac.accuracy(b.model, b.batches(y=b.y.clone().fill_(7)))),
    BadInput("assd_core.accuracy", "labels that are a list, not a tensor", ValueError,
             r"labels must be a tensor of class indices, got list",
             lambda b: ac.accuracy(b.model, [(x, y.tolist()) for x, y in b.batches()])),
    BadInput("assd_core.accuracy", "a model that returns a dict", ValueError,
             r"the model's output is a dict, not a tensor.*output\.logits",
             lambda b: ac.accuracy(_returns(lambda z: {"logits": z}), b.batches())),
    BadInput("assd_core.compute_importances", "a model whose output is 1-D", ValueError,
             r"the model's output has shape \(8,\); logits must have shape \(batch, n_classes\)",
             lambda b: ac.compute_importances(_returns(lambda z: z[:, 0]), b.batches())),
    BadInput("assd_core.compute_importances", "batches that are dicts", ValueError,
             r"a batch is a dict with keys \['x', 'y'\]; batches must be tuples or lists",
             lambda b: ac.compute_importances(b.model, [{"x": x, "y": y} for x, y in b.batches()])),
    BadInput("assd_core.compute_importances", "a loader with no batch", ValueError,
             r"the loader yielded no batch",
             lambda b: ac.compute_importances(b.model, [])),
    BadInput("assd_core.compute_importances", "a device other than the model's", ValueError,
             r"device=meta but the model's parameters are on cpu; move the model first",
             lambda b: ac.compute_importances(b.model, b.batches(), device="meta")),
    BadInput("assd_core.accuracy", "an empty loader", ValueError,
             r"accuracy of an empty loader is undefined",
             lambda b: ac.accuracy(b.model, [])),
    BadInput("assd_core.entropy_mia", "an empty test loader", ValueError,
             r"the test loader of the MIA yielded no sample",
             lambda b: ac.entropy_mia(b.model, b.batches(), b.batches(), [])),
    # importances
    BadInput("assd_core.dampen", "importances that are numpy arrays", ValueError,
             r"is a ndarray, not a torch.Tensor.*torch\.from_numpy",
             lambda b: ac.dampen(b.model, b.edited(f=lambda t: t.numpy()), b.forget, alpha=1.0)),
    BadInput("assd_core.dampen", "integer importances", ValueError,
             r"has dtype torch.int64; importances are floating-point",
             lambda b: ac.dampen(b.model, b.edited(f=lambda t: t.long()), b.forget, alpha=1.0)),
    BadInput("assd_core.select_alpha", "importances on the meta device", ValueError,
             r"is on the 'meta' device and holds no values",
             lambda b: ac.select_alpha(b.edited(f=lambda t: t.to("meta")), b.forget, 99.0)),
    BadInput("assd_core.dampen", "importances missing a parameter", ValueError,
             r"have no entry for parameter '3.bias'",
             lambda b: ac.dampen(b.model, {k: v for k, v in b.full.items() if k != "3.bias"},
                                 b.forget, alpha=1.0)),
    BadInput("assd_core.assd_unlearn", "importances with a name the model lacks", ValueError,
             r"have an entry 'head.weight' that is not a parameter of this model",
             lambda b: ac.assd_unlearn(b.model, b.loader(8), {**b.full, "head.weight": b.full["3.weight"]},
                                       n_total=24)),
    BadInput("assd_core.check_importances", "importances of another shape", ValueError,
             r"has shape \(4, 3\) but the parameter has shape \(3, 8\)",
             lambda b: ac.check_importances(b.model, {**b.full, "3.weight": torch.ones(4, 3)},
                                            "the full importances")),
    BadInput("assd_core.dampen", "NaN importances", ValueError,
             r"contains NaN; recompute the importances",
             lambda b: ac.dampen(b.model, b.edited(f=lambda t: t * float("nan")), b.forget, alpha=1.0)),
    BadInput("assd_core.dampen", "negative importances", ValueError,
             r"has negative values; importances are squared gradients",
             lambda b: ac.dampen(b.model, b.edited(f=lambda t: -1 - t), b.forget, alpha=1.0)),
    BadInput("assd_core.select_alpha", "full and forget importances of different parameters",
             ValueError, r"full and forget importances have different parameters",
             lambda b: ac.select_alpha(b.full, {"0.weight": b.forget["0.weight"]}, 99.0)),
    BadInput("assd_core.select_alpha", "full and forget importances of different shapes",
             ValueError, r"importance shapes differ for '0.bias'",
             lambda b: ac.select_alpha(b.full, {**b.forget, "0.bias": torch.ones(3)}, 99.0)),
    BadInput("assd_core.select_alpha", "all-zero importances", ValueError,
             r"no finite forget/full importance ratio",
             lambda b: ac.select_alpha(b.edited(f=torch.zeros_like),
                                       {k: torch.zeros_like(v) for k, v in b.forget.items()}, 99.0)),
    # numbers
    BadInput("assd_core.dampen", "alpha given as a bool", ValueError,
             r"alpha=True is a bool; it must be a finite number >= 0",
             lambda b: ac.dampen(b.model, b.full, b.forget, alpha=True)),
    BadInput("assd_core.ssd_unlearn", "a negative lambda", ValueError,
             r"lam=-1.0 must be a finite number >= 0",
             lambda b: ac.ssd_unlearn(b.model, b.batches(8), b.full, alpha=1.0, lam=-1.0)),
    BadInput("assd_core.select_alpha", "a percentile above 100", ValueError,
             r"percentile=150 must be a number in \[0, 100\]",
             lambda b: ac.select_alpha(b.full, b.forget, 150)),
    BadInput("assd_core.adaptive_percentile", "a fractional number of samples", ValueError,
             r"n_forget must be a whole number of samples, got 2.5",
             lambda b: ac.adaptive_percentile(2.5, 100)),  # type: ignore[arg-type]
    BadInput("assd_core.adaptive_percentile", "nothing to forget", ValueError,
             r"n_forget=0: there must be at least one sample to forget",
             lambda b: ac.adaptive_percentile(0, 100)),
    BadInput("assd_core.assd_unlearn", "a forget set as large as the training set", ValueError,
             r"n_forget=24 >= n_total=24: the forget set must be a strict subset",
             lambda b: ac.assd_unlearn(b.model, b.loader(24), b.full, n_total=24)),
    BadInput("assd_core.assd_unlearn", "no n_forget and a loader without a sized dataset",
             ValueError, r"n_forget was not given and the forget loader has no sized \.dataset",
             lambda b: ac.assd_unlearn(b.model, _unsized(b), b.full, n_total=24)),
    # the guard
    BadInput("assd_core.guarded", "a negative accuracy drop", ValueError,
             r"max_drop_points=-1.0 must be a finite number >= 0 \(percentage points",
             lambda b: ac.guarded(b.model, ac.assd_unlearn, b.loader(8), b.full, n_total=24,
                                  check_loader=b.batches(), max_drop_points=-1.0)),
    BadInput("assd_core.guarded", "a tolerance above 1", ValueError,
             r"tolerance=1.5 must lie in \(0, 1\], e.g. 0.95",
             lambda b: ac.guarded(b.model, ac.assd_unlearn, b.loader(8), b.full, n_total=24,
                                  check_loader=b.batches(), tolerance=1.5)),
    BadInput("assd_core.guarded", "an empty check loader", ValueError,
             r"check_loader is empty; give held-out retained rows",
             lambda b: ac.guarded(b.model, ac.assd_unlearn, b.loader(8), b.full, n_total=24,
                                  check_loader=[])),
    BadInput("assd_core.guarded", "a generator as the check loader", ValueError,
             r"check_loader is a one-shot iterator; pass a DataLoader or a list of batches",
             lambda b: ac.guarded(b.model, ac.assd_unlearn, b.loader(8), b.full, n_total=24,
                                  check_loader=_unsized(b))),
    BadInput("assd_core.guarded", "the model and the function swapped", ValueError,
             r"unlearn is a Sequential; call guarded\(model, unlearn",
             lambda b: ac.guarded(ac.assd_unlearn, b.model, check_loader=b.batches())),
    # importance files
    BadInput("assd_core.save_importances", "importances of another model", ValueError,
             r"the importances do not belong to this model: missing in file: 2.weight",
             lambda b: ac.save_importances(b.folder / "x.safetensors", b.full, _other_model(b))),
    BadInput("assd_core.save_importances", "a batch size of 0", ValueError,
             r"batch_size=0 \(int\) must be None or a whole number >= 1",
             lambda b: ac.save_importances(b.folder / "x.safetensors", b.full, b.model, batch_size=0)),
    BadInput("assd_core.load_importances", "no file at the path", FileNotFoundError,
             r"no importance file at .*nothing\.safetensors; compute one",
             lambda b: ac.load_importances(b.folder / "nothing.safetensors", b.model)),
    BadInput("assd_core.load_importances", "a garbage file", ValueError,
             r"garbage\.safetensors cannot be read as a safetensors file .* may be truncated",
             lambda b: ac.load_importances(b.folder / "garbage.safetensors", b.model),
             setup=_write("garbage.safetensors", b"not a safetensors file at all")),
    BadInput("assd_core.load_importances", "a safetensors file not written by save_importances",
             ValueError, r"foreign\.safetensors is not an importance file written by",
             lambda b: ac.load_importances(b.folder / "foreign.safetensors", b.model),
             setup=_safetensors_file("foreign.safetensors", None)),
    BadInput("assd_core.load_importances", "an importance file without its fingerprint",
             ValueError, r"partial\.safetensors lacks the metadata \['batch_size', 'fingerprint'",
             lambda b: ac.load_importances(b.folder / "partial.safetensors", b.model),
             setup=_safetensors_file("partial.safetensors", {"format": "assd_core.importances/1"})),
    BadInput("assd_core.load_importances", "an importance file with damaged metadata",
             ValueError, r"damaged\.safetensors has damaged metadata \(Expecting value",
             lambda b: ac.load_importances(b.folder / "damaged.safetensors", b.model),
             setup=lambda b: _damage_metadata(b, "damaged.safetensors")),
    BadInput("assd_core.load_importances", "importances of another model", ValueError,
             r"full\.safetensors were computed for another model: missing in file",
             lambda b: ac.load_importances(b.folder / "full.safetensors", _other_model(b)),
             setup=lambda b: b.importance_file()),
)



def _plateau(**overrides: Any) -> Any:
    from assd_repro.experiments import AlphaPlateauConfig

    return AlphaPlateauConfig.for_profile("smoke", **overrides)


def _no_rows(config: Any, seed: int) -> list[dict[str, Any]]:
    return []


def _with_env(name: str, value: str, call: Callable[[], object]) -> object:
    import os

    before = os.environ.get(name)
    os.environ[name] = value
    try:
        return call()
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


def _engine() -> Any:
    from assd_repro.experiments import engine

    return engine


ENGINE: tuple[BadInput, ...] = (
    BadInput("assd_repro.experiments.ExperimentConfig.for_profile", "an unknown profile",
             ValueError, r"unknown profile 'huge'; choose one of smoke, book, paper",
             lambda b: _engine().ExperimentConfig.for_profile("huge")),
    BadInput("assd_repro.experiments.ExperimentConfig.for_profile", "a field the config lacks",
             ValueError, r"AlphaPlateauConfig has no field\(s\) \['epochs'\]",
             lambda b: _plateau(epochs=3)),
    BadInput("assd_repro.experiments.ExperimentConfig", "no scenario seed", ValueError,
             r"seeds is empty: give at least one scenario seed",
             lambda b: _plateau(seeds=())),
    BadInput("assd_repro.experiments.ExperimentConfig", "a repeated seed", ValueError,
             r"seeds=\(1, 1\) must be distinct non-negative integers",
             lambda b: _plateau(seeds=(1, 1))),
    BadInput("assd_repro.experiments.ResultStore", "a data file that does not exist",
             FileNotFoundError, r"data file '.*gone\.csv' does not exist",
             lambda b: _engine().ResultStore(_error_config(b.folder / "gone.csv"), b.folder)),
    BadInput("assd_repro.experiments.run_scenarios", "workers=0", ValueError,
             r"workers=0 must be a positive number of processes, or None",
             lambda b: _engine().run_scenarios(_no_rows, _plateau(), results_dir=b.folder,
                                               workers=0)),
    BadInput("assd_repro.experiments.run_scenarios", "threads=0", ValueError,
             r"threads=0 must be >= 1",
             lambda b: _engine().run_scenarios(_no_rows, _plateau(), results_dir=b.folder,
                                               threads=0)),
    BadInput("assd_repro.experiments.run_scenarios", "a scenario function that returns no row",
             RuntimeError, r"scenario 0 of alpha_plateau returned no rows",
             lambda b: _engine().run_scenarios(_no_rows, _plateau(), results_dir=b.folder,
                                               progress=False)),
    BadInput("assd_repro.experiments.ResultStore.write", "rows of another scenario", ValueError,
             r"rows of scenarios \[2\] cannot be stored as scenario 0",
             lambda b: _engine().ResultStore(_plateau(), b.folder).write(
                 0, pd.DataFrame({"scenario": [2], "value": [1.0]}))),
    BadInput("assd_repro.experiments.ResultStore.compact", "a run with unfinished scenarios",
             RuntimeError, r"scenarios \[0\] \(1 in all\) are not finished; run them first",
             lambda b: _engine().ResultStore(_plateau(), b.folder).compact()),
    BadInput("assd_repro.experiments.compute_device", "ASSD_DEVICE naming no device", ValueError,
             r"ASSD_DEVICE='gpu0' is not a torch device .*; use cpu or cuda",
             lambda b: _with_env("ASSD_DEVICE", "gpu0", _engine().compute_device)),
)


def _error_config(path: Path) -> Any:
    from assd_repro.experiments import ErrorUnlearningConfig

    return ErrorUnlearningConfig.for_profile("smoke", data_path=str(path))


def _recipe(**overrides: Any) -> Any:
    from assd_repro.training import TrainRecipe

    return TrainRecipe(**{"epochs": 1, "lr": 0.1, "batch_size": 8, **overrides})


def _repro() -> Any:
    """The reproduction's modules, imported when a case runs (not at catalogue import)."""
    import types

    from assd_repro import baselines, data, label_errors, models, paper, training
    from assd_repro import experiments as experiments
    from assd_repro.data import dataco
    from assd_repro.experiments import supply_chain_pipeline
    from assd_repro.plots import supply_chain as supply_chain_plots

    return types.SimpleNamespace(baselines=baselines, data=data, label_errors=label_errors,
                                 models=models, paper=paper, training=training,
                                 experiments=experiments, dataco=dataco,
                                 pipeline=supply_chain_pipeline, plots=supply_chain_plots)


REPRO: tuple[BadInput, ...] = (
    # training
    BadInput("assd_repro.training.TrainRecipe", "a learning-rate factor gamma of 0", ValueError,
             r"gamma=0 must be a finite number > 0", lambda b: _recipe(gamma=0)),
    BadInput("assd_repro.training.TrainRecipe", "an unknown schedule", ValueError,
             r"unknown schedule 'cosine'; use multistep, step, constant",
             lambda b: _recipe(schedule="cosine")),
    BadInput("assd_repro.training.TrainRecipe", "an infinite learning rate", ValueError,
             r"lr=inf must be a finite number >= 0", lambda b: _recipe(lr=float("inf"))),
    BadInput("assd_repro.training.train", "a dict instead of a TrainRecipe", ValueError,
             r"recipe is a dict, not a TrainRecipe",
             lambda b: _repro().training.train(b.model, b.loader(), {"epochs": 1, "lr": 0.1})),
    BadInput("assd_repro.training.train", "a loader with no batch", ValueError,
             r"train_loader yields no batch but recipe.epochs=1",
             lambda b: _repro().training.train(b.model, b.loader(0), _recipe(), progress=False)),
    BadInput("assd_repro.training.save_checkpoint", "a config that is not JSON", ValueError,
             r"config is not JSON-able .*; give plain numbers, strings, lists and dicts",
             lambda b: _repro().training.save_checkpoint(
                 b.folder / "model", b.model,
                 {"model": _repro().models.ModelSpec.mlp(N_IN, N_CLASSES, size="1x8"),
                  "when": object()})),
    BadInput("assd_repro.training.load_checkpoint", "no checkpoint at the path", FileNotFoundError,
             r"checkpoint file not found: .*missing",
             lambda b: _repro().training.load_checkpoint(b.folder / "missing")),
    # baselines
    BadInput("assd_repro.baselines.unlearned_copy", "the arguments swapped", ValueError,
             r"model is a function, not an nn.Module; call unlearned_copy\(model, unlearn",
             lambda b: _repro().baselines.unlearned_copy(ac.assd_unlearn, b.model)),
    BadInput("assd_repro.baselines.unlearned_copy", "a method name instead of a function",
             ValueError, r"unlearn is a str; pass the unlearning function itself",
             lambda b: _repro().baselines.unlearned_copy(b.model, "assd")),
    BadInput("assd_repro.baselines.retrain_from_scratch", "a model instead of a model factory",
             ValueError, r"spec_or_model_factory is a Sequential; pass a ModelSpec or a "
             r"zero-argument function",
             lambda b: _repro().baselines.retrain_from_scratch(b.model, b.loader(), _recipe())),
    BadInput("assd_repro.baselines.neggrad_plus", "a retain weight beta above 1", ValueError,
             r"beta=1.5 must be a number in \[0, 1\]",
             lambda b: _repro().baselines.neggrad_plus(b.model, b.loader(), b.loader(8),
                                                       beta=1.5)),
    BadInput("assd_repro.baselines.neggrad_plus", "an empty forget set", ValueError,
             r"forget yields no batch: it is empty",
             lambda b: _repro().baselines.neggrad_plus(b.model, b.loader(), b.loader(0))),
    BadInput("assd_repro.baselines.scrub", "a generator as the forget set", ValueError,
             r"forget is a generator; pass a DataLoader, a Dataset with batch_size, or a list",
             lambda b: _repro().baselines.scrub(b.model, b.loader(), _unsized(b))),
    BadInput("assd_repro.baselines.scrub", "a temperature of 0", ValueError,
             r"temperature=0 must be a finite number > 0",
             lambda b: _repro().baselines.scrub(b.model, b.loader(), b.loader(8), temperature=0)),
    BadInput("assd_repro.baselines.relabel", "a single class", ValueError,
             r"n_classes=1: random labels need at least 2 classes",
             lambda b: _repro().baselines.relabel(b.y, 1)),
    BadInput("assd_repro.baselines.salun", "a share of the weights that selects none",
             ValueError, r"share=0.001 of the model's 83 trainable weights selects none",
             lambda b: _repro().baselines.salun(b.model, b.loader(), b.loader(8), share=0.001)),
    BadInput("assd_repro.baselines.bad_teacher", "a list of batches instead of a Dataset",
             ValueError, r"retain is a list; Bad Teacher samples rows, so pass a Dataset",
             lambda b: _repro().baselines.bad_teacher(b.model, b.batches(), b.loader(8))),
    BadInput("assd_repro.baselines.bad_teacher", "a retain share that keeps no row",
             ValueError, r"retain_share=0.01 of 24 retain rows keeps none",
             lambda b: _repro().baselines.bad_teacher(b.model, b.loader(), b.loader(8),
                                                      retain_share=0.01)),
    BadInput("assd_repro.baselines.bad_teacher", "a model that cannot be re-initialised",
             ValueError, r"no module of the _BareParameter has reset_parameters\(\)",
             lambda b: _repro().baselines.bad_teacher(_BareParameter(), b.loader(),
                                                      b.loader(8))),
    BadInput("assd_repro.baselines.assd_repair", "a retain Dataset without a batch size",
             ValueError, r"retain_loader is a TensorDataset and batch_size is None",
             lambda b: _repro().baselines.assd_repair(
                 b.model, b.loader(8), b.full, b.loader().dataset, n_total=24, lr=0.1,
                 weight_decay=0.0)),
    BadInput("assd_repro.baselines.tuned_ssd", "no candidate alpha", ValueError,
             r"alphas is empty: give at least one candidate alpha",
             lambda b: _repro().baselines.tuned_ssd(b.model, b.batches(8), b.full,
                                                    validation_loader=b.batches(), alphas=())),
    BadInput("assd_repro.baselines.tuned_ssd", "a negative candidate alpha", ValueError,
             r"alphas holds -2.0: every candidate must be a finite number >= 0",
             lambda b: _repro().baselines.tuned_ssd(b.model, b.batches(8), b.full,
                                                    validation_loader=b.batches(),
                                                    alphas=(1.0, -2.0))),
    # label errors
    BadInput("assd_repro.label_errors.inject_label_errors", "a fraction above 1", ValueError,
             r"fraction=1.5 must lie in \(0, 1\), e.g. 0.05 for 5% label errors",
             lambda b: _repro().label_errors.inject_label_errors(b.y.numpy(), 1.5, N_CLASSES,
                                                                 seed=0)),
    BadInput("assd_repro.label_errors.inject_label_errors", "no seed", ValueError,
             r"seed=None must be an int \(or a numpy.random.Generator\)",
             lambda b: _repro().label_errors.inject_label_errors(b.y.numpy(), 0.1, N_CLASSES,
                                                                 seed=None)),
    BadInput("assd_repro.label_errors.inject_label_errors", "a label beyond n_classes",
             ValueError, r"labels\[0\]=5 is outside \[0, 3\); 1 label\(s\) out of range",
             lambda b: _repro().label_errors.inject_label_errors(
                 np.array([5] + [0] * 23), 0.1, N_CLASSES, seed=0)),
    BadInput("assd_repro.label_errors.inject_label_errors", "an unknown mode", ValueError,
             r"mode='swap' is unknown; use 'flip' or 'authors'",
             lambda b: _repro().label_errors.inject_label_errors(b.y.numpy(), 0.1, N_CLASSES,
                                                                 seed=0, mode="swap")),
    # paper tables and models
    BadInput("assd_repro.paper.paper_table", "an unknown table", ValueError,
             r"unknown paper table 'table9'; choose one of fullclass, subclass",
             lambda b: _repro().paper.paper_table("table9")),
    BadInput("assd_repro.models.resnet18_cifar", "a width of 0", ValueError,
             r"width=0 must be a positive integer",
             lambda b: _repro().models.resnet18_cifar(10, width=0)),
    BadInput("assd_repro.models.mlp_size", "a size that is not LAYERSxWIDTH", ValueError,
             r"bad MLP size '3-100': expected 'LAYERSxWIDTH'",
             lambda b: _repro().models.mlp_size("3-100")),
    BadInput("assd_repro.models.ModelSpec", "an unknown model kind", ValueError,
             r"unknown model kind 'vgg'; choose one of",
             lambda b: _repro().models.ModelSpec("vgg", 10)),
    BadInput("assd_repro.models.vit", "an image size that is not a multiple of the patch size",
             ValueError, r"image_size=30 is not a multiple of patch_size=4",
             lambda b: _repro().models.vit(10, image_size=30)),
    BadInput("assd_repro.models.build_model", "a dict instead of a ModelSpec", ValueError,
             r"spec is a dict, not a ModelSpec; .*ModelSpec.from_dict\(spec\)",
             lambda b: _repro().models.build_model({"kind": "mlp", "n_classes": 3})),
    # data
    BadInput("assd_repro.data.load_image_dataset", "an unknown data set", ValueError,
             r"unknown image dataset 'imagenet'; valid names:",
             lambda b: _repro().data.load_image_dataset("imagenet")),
    BadInput("assd_repro.data.ImageDataset", "images without a channel axis", ValueError,
             r"images must be \(N, C, H, W\), got shape \(2, 8, 8\)",
             lambda b: _repro().data.ImageDataset(torch.zeros(2, 8, 8), torch.zeros(2).long(),
                                                  ["a"])),
    BadInput("assd_repro.data.load_dataco", "no file at the path", FileNotFoundError,
             r"no DataCo CSV file at '.*nothing\.csv'",
             lambda b: _repro().data.load_dataco(b.folder / "nothing.csv")),
    BadInput("assd_repro.data.load_dataco", "a CSV that is not a DataCo table", ValueError,
             r"not a DataCo supply-chain table: 5\d of the 53 columns are missing",
             lambda b: _repro().data.load_dataco(b.folder / "other.csv"),
             setup=_write("other.csv", b"a,b\n1,2\n")),
    BadInput("assd_repro.data.paper_protocol", "a path instead of a table", ValueError,
             r"df is a str, not a pandas DataFrame; read the file with load_dataco\(path\)",
             lambda b: _repro().data.paper_protocol("DataCoSupplyChainDataset.csv")),
    BadInput("assd_repro.data.make_dataco_like", "a fractional number of rows", ValueError,
             r"n_rows=2500.5 must be a whole number >= 1",
             lambda b: _repro().data.make_dataco_like(2500.5, 0)),
    BadInput("assd_repro.data.dataco.delay_classes", "missing delays", ValueError,
             r"delay has missing values; rows need both day counts",
             lambda b: _repro().dataco.delay_classes(np.array([1.0, np.nan]))),
    BadInput("assd_repro.data.dataco.parse_dataco_dates", "values that are not dates",
             ValueError, r"1 values of 'date' are not dates like '1/31/2018 22:56'",
             lambda b: _repro().dataco.parse_dataco_dates(["1/31/2018 22:56", "tomorrow"])),
    # experiments and their tables
    BadInput("assd_repro.experiments.ErrorUnlearningConfig", "an error rate of 60 %",
             ValueError, r"error_pcts holds 60.0: every error rate must be a number in \(0, 50\)",
             lambda b: _repro().experiments.ErrorUnlearningConfig.for_profile(
                 "smoke", error_pcts=(60.0,))),
    BadInput("assd_repro.experiments.ErrorUnlearningConfig", "shuffle given as a string",
             ValueError, r"shuffle='yes' must be True or False",
             lambda b: _repro().experiments.ErrorUnlearningConfig.for_profile(
                 "smoke", shuffle="yes")),
    BadInput("assd_repro.experiments.ErrorUnlearningConfig", "an unknown protocol", ValueError,
             r"protocol='clean' is unknown; use one of paper, leak_free",
             lambda b: _repro().experiments.ErrorUnlearningConfig.for_profile(
                 "smoke", protocol="clean")),
    BadInput("assd_repro.experiments.BenchmarkConfig", "an unknown forgetting kind",
             ValueError, r"kind='partial' is unknown; use one of fullclass, subclass, random",
             lambda b: _repro().experiments.BenchmarkConfig.for_profile("smoke",
                                                                         kind="partial")),
    BadInput("assd_repro.experiments.cell_statistics", "no rows", ValueError,
             r"rows is empty: run the experiment first \(run_error_unlearning\)",
             lambda b: _repro().experiments.cell_statistics(pd.DataFrame())),
    BadInput("assd_repro.experiments.tune_hyperparameters", "zero trials", ValueError,
             r"n_trials=0 must be >= 1",
             lambda b: _repro().experiments.tune_hyperparameters(
                 _repro().experiments.ErrorUnlearningConfig.for_profile("smoke"), n_trials=0)),
    BadInput("assd_repro.experiments.supply_chain_pipeline.batch_loader",
             "rows and labels of different lengths", ValueError,
             r"x has 24 rows but y has 8 labels; give one label per row",
             lambda b: _repro().pipeline.batch_loader(b.x, b.y[:8], 8)),
    BadInput("assd_repro.plots.supply_chain.table4", "a frame that is not cell statistics",
             ValueError, r"the frame lacks the column\(s\) \['error_pct', 'split'.*; pass the output of "
             r"cell_statistics",
             lambda b: _repro().plots.table4(pd.DataFrame({"model_size": ["2x50"]}))),
)

CASES: tuple[BadInput, ...] = CORE + ENGINE + REPRO
