"""Tidy result tables on disk: one parquet file per scenario, written atomically.

Layout: ``<root>/<experiment>/<config-hash>/config.json`` and ``scenario-<seed>.parquet``. A file
appears under its final name only once complete (temporary file in the same folder, then
``os.replace``), so an interrupted run never leaves a file that reads as finished, and a rerun
skips exactly the scenarios already written.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from assd_core._kernels import write_atomically

from assd_repro.experiments.engine.config import ExperimentConfig, canonical_json

__all__ = ["ResultStore", "atomic_write_bytes", "recorded_run_times"]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, with the umask's
    default mode (the core's own atomic write, shared)."""
    write_atomically(path, data)


class ResultStore:
    """Results of one experiment config.

    Args:
        config: the experiment config; its ``EXPERIMENT`` and content hash name the folder.
        root: the results root (default ``results``, relative to the working directory).
    """

    def __init__(self, config: ExperimentConfig, root: str | os.PathLike[str] = "results") -> None:
        self.config = config
        self.folder = Path(root) / config.EXPERIMENT / config.content_hash()

    def path(self, scenario: int) -> Path:
        """File of one scenario's rows."""
        return self.folder / f"scenario-{scenario}.parquet"

    def is_done(self, scenario: int) -> bool:
        """Whether the scenario's file exists (and so is complete)."""
        return self.path(scenario).is_file()

    def write(self, scenario: int, rows: pd.DataFrame) -> Path:
        """Store one scenario's rows atomically; also writes ``config.json`` once."""
        config_file = self.folder / "config.json"
        if not config_file.exists():
            text = canonical_json({"experiment": self.config.EXPERIMENT, **self.config.to_dict()})
            atomic_write_bytes(config_file, text.encode())
        path = self.path(scenario)
        atomic_write_bytes(path, rows.to_parquet(index=False))
        return path

    def read(self) -> pd.DataFrame:
        """All finished scenarios of this config, in seed order (empty frame when none)."""
        frames = [pd.read_parquet(self.path(s)) for s in self.config.seeds if self.is_done(s)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def recorded_run_times(root: str | os.PathLike[str] = "results") -> pd.DataFrame:
    """Compute time recorded by the runner for every stored config, as measured when it ran.

    Reads each ``<root>/<experiment>/<hash>/`` folder holding ``config.json`` and scenario files
    (the ``wall_s`` column the runner adds: seconds of one scenario, training included unless a
    cached model was reused).

    Returns:
        One row per config: ``experiment``, ``profile``, ``config_hash``, ``scenarios`` and
        ``compute_s`` (sum over scenarios, seconds), sorted by experiment and profile.
    """
    import json

    rows = []
    for config_file in sorted(Path(root).glob("*/*/config.json")):
        files = sorted(config_file.parent.glob("scenario-*.parquet"))
        if not files:
            continue
        config = json.loads(config_file.read_text())
        walls = [float(pd.read_parquet(f, columns=["wall_s"])["wall_s"].iloc[0]) for f in files]
        rows.append({
            "experiment": config.get("experiment", config_file.parent.parent.name),
            "profile": config.get("profile", "?"),
            "config_hash": config_file.parent.name,
            "scenarios": len(files),
            "compute_s": sum(walls),
        })
    columns = ["experiment", "profile", "config_hash", "scenarios", "compute_s"]
    return pd.DataFrame(rows, columns=columns).sort_values(["experiment", "profile"], ignore_index=True)
