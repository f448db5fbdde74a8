"""Run an experiment's scenarios: in-process, on a local Dask cluster, or on an existing one.

A scenario is a pure function of ``(config, seed)`` that returns tidy rows (one per
scenario x method x metric). :func:`run_scenarios` reuses the scenarios whose stored result passes
the store's checks (:class:`~assd_repro.experiments.engine.store.ResultStore`), runs the rest, adds ``experiment``, ``config_hash``, ``scenario`` and ``wall_s`` columns and stores each
scenario's rows as soon as it finishes; the executor does not change a single value, because
each scenario is seeded from its own seed and runs with the same number of torch threads.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from assd_repro.experiments.engine.config import ExperimentConfig
from assd_repro.experiments.engine.store import ResultStore

__all__ = ["ScenarioFn", "run_scenarios", "seed_everything", "torch_threads"]

C = TypeVar("C", bound=ExperimentConfig)
ScenarioFn = Callable[[C, int], "pd.DataFrame | list[dict[str, Any]]"]


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_one(fn: ScenarioFn, config: ExperimentConfig, seed: int, threads: int) -> pd.DataFrame:
    """Run one scenario (seeded, with ``threads`` torch threads) and label its rows."""
    start = time.perf_counter()
    with torch_threads(threads):
        seed_everything(seed)
        rows = fn(config, seed)
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty:
        raise RuntimeError(f"scenario {seed} of {config.EXPERIMENT} returned no rows")
    frame = frame.copy()
    frame.insert(0, "experiment", config.EXPERIMENT)
    frame.insert(1, "config_hash", config.content_hash())
    frame.insert(2, "scenario", seed)
    frame["wall_s"] = time.perf_counter() - start
    return frame


def run_scenarios(
    fn: ScenarioFn,
    config: ExperimentConfig,
    *,
    seeds: Sequence[int] | None = None,
    results_dir: str | os.PathLike[str] = "results",
    workers: int | None = None,
    scheduler: str | None = None,
    threads: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Run the missing scenarios of ``config`` and return every scenario's rows.

    Args:
        fn: module-level scenario function ``fn(config, seed) -> rows`` (picklable for Dask).
        config: the experiment config; results go to
            ``results_dir/<experiment>/<config-hash>/scenario-<seed>.parquet``.
        seeds: scenarios to run, in this order; default ``config.seeds``. Several processes may
            work on one run (e.g. one over the seeds, one over them reversed): in this process,
            a scenario whose file another process stored meanwhile is not computed again.
        results_dir: results root.
        workers: ``None``: in this process. ``N``: a Dask ``LocalCluster`` of N single-threaded
            worker processes.
        scheduler: address of an existing Dask scheduler (``tcp://host:8786``); overrides
            ``workers``.
        threads: torch threads per scenario (the same whichever executor, so that results are
            identical row for row).
        progress: show a progress bar.

    Returns:
        The rows of all requested scenarios, in seed order.

    Raises:
        ValueError: ``workers`` is not a positive whole number, or ``threads`` < 1.
        FileNotFoundError: a data file named by the config does not exist.

    Warns:
        StoredResultWarning: a stored result failed its check (unreadable, another scenario's or
            config's, edited, or from other data); it is set aside and computed again.
    """
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers={workers!r} must be a positive number of processes, or None")
    if threads < 1:
        raise ValueError(f"threads={threads} must be >= 1")
    store = ResultStore(config, results_dir)
    seeds = list(config.seeds if seeds is None else seeds)
    done = store.load(seeds)
    todo = [s for s in seeds if s not in done]
    desc = f"{config.EXPERIMENT} [{config.profile}]"
    if todo and workers is None and scheduler is None:
        for seed in tqdm(todo, desc=desc, disable=not progress):
            if store.path(seed).is_file():  # another process on the same run stored it since
                continue
            store.write(seed, run_one(fn, config, seed, threads))
    elif todo:
        _run_dask(fn, config, todo, store, workers=workers, scheduler=scheduler, threads=threads,
                  progress=progress, desc=desc)
    return store.read(seeds)


def _run_dask(
    fn: ScenarioFn,
    config: ExperimentConfig,
    todo: list[int],
    store: ResultStore,
    *,
    workers: int | None,
    scheduler: str | None,
    threads: int,
    progress: bool,
    desc: str,
) -> None:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = Client(scheduler if scheduler is not None else cluster)
    try:
        futures = {
            client.submit(run_one, fn, config, seed, threads, pure=False): seed
            for seed in todo
        }
        bar = tqdm(total=len(todo), desc=desc, disable=not progress)
        for future in as_completed(futures):
            store.write(futures[future], future.result())
            bar.update()
        bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
