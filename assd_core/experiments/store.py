"""Tidy result tables on disk: one parquet file per scenario, written atomically.

Layout: ``<root>/<experiment>/<config-hash>/config.json`` and ``scenario-<seed>.parquet``. A file
appears under its final name only once complete (temporary file in the same folder, then
``os.replace``), so an interrupted run never leaves a file that reads as finished, and a rerun
skips exactly the scenarios already written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from assd_core.experiments.config import ExperimentConfig, canonical_json

__all__ = ["ResultStore", "atomic_write_bytes"]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
