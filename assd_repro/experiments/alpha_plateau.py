"""The alpha plateau (paper Fig. 3): SSD with lambda = 1 over a log grid of alpha, per task.

For each forget task (paper: CIFAR-100 rocket full-class and CIFAR-20 rocket sub-class,
ResNet18) the scenario trains (or loads) the baseline, computes ``[]_Dr`` and ``[]_Df`` once,
then dampens a copy of the baseline at every alpha of the grid and evaluates Dr, Df and MIA. It
also records the alpha ASSD picks for the task (with its percentile ``p``) and the metrics there,
so the book can show where ASSD lands relative to the plateau. :func:`plateau_bounds` finds the
plateau in the results.

Rows (tidy): ``task, kind, target, method, alpha, metric, value`` with ``method`` in
``{"baseline", "ssd", "assd"}``; ``metric`` in ``{"Dr", "Df", "MIA"}`` (percent),
``"fraction_selected"`` (in [0, 1], SSD and ASSD) and ``"percentile"`` (ASSD only);
``alpha`` is NaN for the baseline.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from assd_repro.experiments.engine.cache import ArtifactCache
from assd_repro.experiments.engine.config import ExperimentConfig
from assd_repro.experiments.engine.runner import run_scenarios
from assd_repro.experiments.image_pipeline import (
    BOOK_CIFAR10_SETUP,
    BOOK_CIFAR10_TARGETS,
    BOOK_IMAGE_SETUP,
    PAPER_CIFAR20_SETUP,
    PAPER_CIFAR100_SETUP,
    SMOKE_IMAGE_SETUP,
    ImageSetup,
    metric_rows,
    prepare_dampening_task,
)

__all__ = [
    "AlphaPlateauConfig",
    "alpha_plateau_scenario",
    "mia_df_verdict",
    "plateau_bounds",
    "run_alpha_plateau",
]

TASK_KINDS: tuple[str, ...] = ("fullclass", "subclass", "random")


def _as_setup(value: Any) -> Any:
    return ImageSetup(**value) if isinstance(value, Mapping) else value


@dataclasses.dataclass(frozen=True)
class AlphaPlateauConfig(ExperimentConfig):
    """Settings of the alpha plateau (paper Fig. 3).

    Attributes:
        setup: data, model and training settings (a dict is read as ``ImageSetup(**dict)``).
        subclass_setup: settings for the sub-class tasks (the paper trains its CIFAR-20 model
            with another recipe); ``None``: ``setup``.
        tasks: ``(kind, target)`` pairs, kind ``"fullclass"``, ``"subclass"`` or ``"random"``;
            ``smoke`` forgets digit "3" as a class and as a sub-class of its group
            ``curves_3_8``, ``book`` CIFAR-10 airplane, cat and truck as classes and within
            their look-alike pairs, as the paper forgets "rocket" from CIFAR-100 and CIFAR-20.
        alpha_min, alpha_max, n_alpha: the grid ``np.geomspace(alpha_min, alpha_max, n_alpha)``.
        seeds: scenario seeds; scenario ``s`` trains its baseline with
            ``setup.train_seed + s`` (and draws random forget sets with seed ``s``).

    Raises:
        ValueError: (:meth:`validate`, at construction) ``setup`` is not an
            :class:`ImageSetup` (or a dict of its fields, which :class:`ImageSetup` checks),
            or ``subclass_setup`` neither that nor None; ``tasks`` is empty or not a sequence;
            a task is not a ``(kind, target)`` pair with kind ``"fullclass"``, ``"subclass"``
            or ``"random"``; a task appears twice; ``alpha_min`` or ``alpha_max`` is not a
            finite number > 0; ``alpha_max <= alpha_min``; ``n_alpha`` is not a whole number
            >= 2. Also the base class's checks (:class:`ExperimentConfig`: profile, seeds).
    """

    EXPERIMENT: ClassVar[str] = "alpha_plateau"
    PROFILES: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "smoke": {"setup": SMOKE_IMAGE_SETUP, "n_alpha": 7,
                  "tasks": (("fullclass", "3"), ("subclass", "3"))},
        "book": {"setup": BOOK_CIFAR10_SETUP, "n_alpha": 16,
                 "tasks": tuple((kind, t) for kind in ("fullclass", "subclass")
                                for t in BOOK_CIFAR10_TARGETS)},
        "paper": {"setup": PAPER_CIFAR100_SETUP, "subclass_setup": PAPER_CIFAR20_SETUP,
                  "n_alpha": 31, "tasks": (("fullclass", "rocket"), ("subclass", "rocket"))},
    }

    setup: ImageSetup = BOOK_IMAGE_SETUP
    subclass_setup: ImageSetup | None = None
    tasks: tuple[tuple[str, str], ...] = (("fullclass", "3"), ("subclass", "3"))
    alpha_min: float = 0.1
    alpha_max: float = 100.0
    n_alpha: int = 16

    def __post_init__(self) -> None:
        object.__setattr__(self, "setup", _as_setup(self.setup))
        object.__setattr__(self, "subclass_setup", _as_setup(self.subclass_setup))
        if isinstance(self.tasks, list | tuple):
            tasks = tuple(tuple(t) if isinstance(t, list | tuple) else t for t in self.tasks)
            object.__setattr__(self, "tasks", tasks)
        super().__post_init__()

    def validate(self) -> None:
        for name in ("setup", "subclass_setup"):
            value = getattr(self, name)
            if isinstance(value, ImageSetup) or (name == "subclass_setup" and value is None):
                continue
            raise ValueError(f"{name}={value!r} must be an ImageSetup (or a dict of its fields)")
        if not isinstance(self.tasks, tuple) or not self.tasks:
            raise ValueError(f"tasks={self.tasks!r} must be a non-empty sequence of (kind, target)")
        for task in self.tasks:
            if not isinstance(task, tuple) or len(task) != 2 or task[0] not in TASK_KINDS:
                raise ValueError(f"task {task!r} must be a (kind, target) pair with kind one of "
                                 f"{', '.join(TASK_KINDS)}")
        if len(set(self.tasks)) != len(self.tasks):
            raise ValueError(f"tasks={self.tasks!r} holds a task twice")
        for name in ("alpha_min", "alpha_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name}={value!r} must be a finite positive number "
                                 "(the grid is logarithmic)")
        if not self.alpha_max > self.alpha_min:
            raise ValueError(f"alpha_max={self.alpha_max} must be greater than "
                             f"alpha_min={self.alpha_min}")
        if isinstance(self.n_alpha, bool) or not isinstance(self.n_alpha, int) or self.n_alpha < 2:
            raise ValueError(f"n_alpha={self.n_alpha!r} must be a whole number >= 2")

    def alphas(self) -> np.ndarray:
        """``(n_alpha,)`` float64: the log-spaced alpha grid, increasing."""
        return np.geomspace(self.alpha_min, self.alpha_max, self.n_alpha)

    def setup_for(self, kind: str) -> ImageSetup:
        """The image settings of a task of ``kind``."""
        if kind == "subclass" and self.subclass_setup is not None:
            return self.subclass_setup
        return self.setup


def alpha_plateau_scenario(config: AlphaPlateauConfig, seed: int, *,
                           cache: ArtifactCache | None = None) -> list[dict[str, Any]]:
    """One scenario: every task, the baseline, SSD (lambda 1) at every alpha, and ASSD.

    Args:
        config: the plateau's settings.
        seed: scenario seed (offsets the baseline's training seed).
        cache: model and importance cache; ``None``: none (everything is computed afresh).

    Returns:
        Tidy rows, see the module docstring.

    Raises:
        ValueError: a task's target names no class of the data (or, for ``random``, an
            invalid count or share), as :func:`~assd_repro.data.fullclass`,
            :func:`~assd_repro.data.subclass`, :func:`~assd_repro.data.random_forget`; then
            the data loader's and the training's checks.
    """
    cache = ArtifactCache(None) if cache is None else cache
    rows: list[dict[str, Any]] = []
    for kind, target in config.tasks:
        base = config.setup_for(kind)
        setup = dataclasses.replace(base, train_seed=base.train_seed + seed)
        prepared = prepare_dampening_task(setup, kind, target,  # type: ignore[arg-type]
                                          cache=cache, task_seed=seed)
        labels = {"task": prepared.task.name, "kind": kind, "target": str(target)}
        rows += metric_rows(prepared.baseline, **labels, method="baseline", alpha=math.nan)
        for alpha in config.alphas():
            metrics = prepared.unlearn(float(alpha), 1.0)
            rows += metric_rows(metrics, **labels, method="ssd", alpha=float(alpha))
        alpha = prepared.assd_alpha()
        metrics = {**prepared.unlearn(alpha, 1.0), "percentile": prepared.assd_percentile}
        rows += metric_rows(metrics, **labels, method="assd", alpha=alpha)
    return rows


def run_alpha_plateau(
    config: AlphaPlateauConfig,
    *,
    results_dir: str | os.PathLike[str] = "results",
    workers: int | None = None,
    scheduler: str | None = None,
    cache: ArtifactCache | None = None,
    threads: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Run the plateau's missing scenarios through :func:`run_scenarios`; return every row.

    Args:
        config: the plateau's settings.
        results_dir: results root (``<results_dir>/alpha_plateau/<hash>/scenario-<seed>.parquet``).
        workers, scheduler: executor, see :func:`~assd_repro.experiments.run_scenarios`.
        cache: model and importance cache; ``None``: an :class:`ArtifactCache` in
            ``results_dir`` (shared with the other image experiments; ``ArtifactCache(None)``
            disables it).
        threads: torch threads per scenario.
        progress: show a progress bar.

    Returns:
        The tidy rows of every scenario, with the runner's ``experiment``, ``config_hash``,
        ``scenario`` and ``wall_s`` columns.

    Raises:
        ValueError: ``workers`` or ``threads`` out of range, as
            :func:`~assd_repro.experiments.run_scenarios`; then as
            :func:`alpha_plateau_scenario`.
    """
    cache = ArtifactCache(results_dir) if cache is None else cache
    scenario = functools.partial(alpha_plateau_scenario, cache=cache)
    return run_scenarios(scenario, config, results_dir=results_dir, workers=workers,
                         scheduler=scheduler, threads=threads, progress=progress)


def _longest_run(ok: Sequence[bool]) -> tuple[int, int]:
    """``(start, stop)`` of the longest run of True (first on ties); ``(0, 0)`` when none."""
    best, start = (0, 0), None
    for i, flag in enumerate([*ok, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def plateau_bounds(rows: pd.DataFrame | Sequence[Mapping[str, Any]], *, tolerance: float = 2.0,
                   mia_tolerance: float | None = None) -> pd.DataFrame:
    """Where each task's plateau lies on the alpha grid.

    Definition: after averaging over scenarios, a point *meets the plateau criteria* when its
    retain accuracy is at most ``tolerance`` points below the baseline's (``Dr >= Dr_base -
    tolerance``) and its MIA at most ``mia_tolerance`` points above the lowest MIA of the SSD
    grid (``MIA <= min MIA + mia_tolerance``). The plateau is the longest run of consecutive
    grid points that meet them (the lowest such run on ties). Too small an alpha dampens too
    much (Dr drops); too large an alpha dampens nothing (MIA stays at the baseline's).

    Args:
        rows: the tidy rows of :func:`run_alpha_plateau` (a frame or a list of dicts).
        tolerance: percentage points for Dr, >= 0.
        mia_tolerance: percentage points for MIA; ``None``: ``tolerance``.

    Returns:
        One row per task, in the order of the rows: ``task``, ``kind``, ``alpha_low``,
        ``alpha_high`` (grid points; NaN when none qualifies), ``n_points`` (grid points in the
        plateau), ``dr_baseline``, ``mia_min``, ``assd_alpha`` (mean over scenarios),
        ``assd_in_bounds`` (``alpha_low <= assd_alpha <= alpha_high``) and
        ``assd_meets_criteria`` (ASSD's own mean Dr and MIA meet the criteria; on a coarse
        grid ASSD can land on the plateau between two grid points).

    Raises:
        ValueError: ``tolerance`` or ``mia_tolerance`` is not a finite number >= 0; ``rows``
            is empty; it lacks one of the columns ``task, kind, method, alpha, metric, value``
            (names them); a task has no baseline ``Dr`` row or no SSD ``Dr`` and ``MIA`` rows.
    """
    mia_tolerance = tolerance if mia_tolerance is None else mia_tolerance
    for name, value in (("tolerance", tolerance), ("mia_tolerance", mia_tolerance)):
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name}={value!r} must be a finite number of percentage points >= 0")
    frame = pd.DataFrame(list(rows)) if not isinstance(rows, pd.DataFrame) else rows
    if frame.empty:
        raise ValueError("rows is empty: run the plateau first (run_alpha_plateau)")
    missing = [c for c in ("task", "kind", "method", "alpha", "metric", "value")
               if c not in frame.columns]
    if missing:
        raise ValueError(f"rows lack the column(s) {missing}: pass the rows of run_alpha_plateau")
    has = frame.groupby(["task", "method"], sort=False)["metric"].agg(set)
    for task in dict.fromkeys(frame["task"]):
        if "Dr" not in has.get((task, "baseline"), set()) \
                or not {"Dr", "MIA"} <= has.get((task, "ssd"), set()):
            raise ValueError(f"task {task!r} lacks the baseline's Dr or SSD's Dr and MIA rows: "
                             "pass the rows of run_alpha_plateau")
    out = []
    for task, part in frame.groupby("task", sort=False):
        base = part[part["method"] == "baseline"].groupby("metric")["value"].mean()
        grid = (part[part["method"] == "ssd"]
                .pivot_table(index="alpha", columns="metric", values="value", aggfunc="mean")
                .sort_index())
        dr_floor = float(base["Dr"]) - tolerance
        mia_min = float(grid["MIA"].min())
        mia_ceiling = mia_min + mia_tolerance
        on = (grid["Dr"] >= dr_floor) & (grid["MIA"] <= mia_ceiling)
        lo, hi = _longest_run(on.tolist())
        low = float(grid.index[lo]) if hi > lo else math.nan
        high = float(grid.index[hi - 1]) if hi > lo else math.nan
        assd = part[part["method"] == "assd"]
        assd_alpha = float(assd["alpha"].mean())
        assd_metrics = assd.groupby("metric")["value"].mean()
        out.append({
            "task": task, "kind": part["kind"].iloc[0], "alpha_low": low, "alpha_high": high,
            "n_points": hi - lo, "dr_baseline": float(base["Dr"]), "mia_min": mia_min,
            "assd_alpha": assd_alpha,
            "assd_in_bounds": bool(hi > lo and low <= assd_alpha <= high),
            "assd_meets_criteria": bool(assd_metrics.get("Dr", -math.inf) >= dr_floor
                                        and assd_metrics.get("MIA", math.inf) <= mia_ceiling),
        })
    return pd.DataFrame(out)


def mia_df_verdict(df_at_high: float, *, recognised: float = 25.0) -> str:
    """What the forget accuracy at the top of a full-class plateau says about its MIA criterion.

    The plateau is defined by Dr and the entropy MIA only. The MIA sees how flat the softmax is
    on the forget samples, and light dampening can flatten it before the class is forgotten.

    Args:
        df_at_high: Df (%) of SSD at the plateau's largest alpha.
        recognised: Df (%) above which the class counts as still recognised.

    Returns:
        A sentence (for the book's text) that starts after "Df = <value> %".
    """
    if df_at_high > recognised:
        return ("so the forgotten class is still recognised. Light dampening can flatten the "
                "softmax on the forget images, which fools the entropy-based MIA before the class "
                "is actually forgotten; the paper's Dr-and-MIA definition of the plateau does "
                "not see this, and a Df criterion would end the full-class plateau earlier")
    return ("so here a low MIA and forgetting agree, and the Dr-and-MIA definition of the "
            "plateau does not overstate forgetting. It could: the entropy MIA only sees how flat "
            "the softmax is on the forget images, and light dampening can flatten it before a "
            "class is forgotten, so a Df criterion is the safer guard")
