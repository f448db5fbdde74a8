"""Tidy result tables on disk that say what they are, and are checked before they are reused.

Layout: ``<root>/<experiment>/<config-hash>/config.json`` and one ``scenario-<seed>.parquet`` per
finished scenario; a finished run can be compacted into one ``results.parquet``
(:meth:`ResultStore.compact`). A file appears under its final name only once complete (temporary
file in the same folder, then ``os.replace``), so an interrupted run never leaves a file that
reads as finished.

Every file carries a provenance record in its parquet metadata: the experiment, the config hash,
its scenario ids, a SHA-256 checksum of each scenario's rows, and the SHA-256 of each input data
file (:meth:`ExperimentConfig.data_hashes`). Before a stored result is reused, all of that is
checked against the config and the rows; a file that fails (unreadable, truncated, another
scenario's or config's, edited, or computed from other data) is set aside under a new name (never
deleted), reported with a :class:`StoredResultWarning` naming it, and its scenarios are computed
again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from assd_core._kernels import write_atomically

from assd_repro.experiments.engine.config import ExperimentConfig, canonical_json

__all__ = [
    "ResultStore",
    "StoredResultWarning",
    "atomic_write_bytes",
    "content_checksum",
    "recorded_run_times",
]

#: parquet metadata key of the provenance record, and the record's format tag
META_KEY = b"assd_provenance"
FORMAT = "assd-results/1"
COMPACT_NAME = "results.parquet"


class StoredResultWarning(UserWarning):
    """A stored result failed its check; it was set aside and will be computed again."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, with the umask's
    default mode (the core's own atomic write, shared)."""
    write_atomically(path, data)


def content_checksum(rows: pd.DataFrame) -> str:
    """SHA-256 (hex) of a table's content: column names, dtypes and every value, in order.

    Equal for equal tables whatever the file bytes (parquet writers may order metadata
    differently); any edited value, added or dropped row or column changes it.
    """
    digest = hashlib.sha256()
    digest.update(canonical_json([[str(c), str(t)] for c, t in rows.dtypes.items()]).encode())
    digest.update(str(len(rows)).encode())
    for column in rows.columns:
        values = pd.util.hash_pandas_object(rows[column], index=False)
        digest.update(values.to_numpy().tobytes())
    return digest.hexdigest()


class _Rejected(Exception):
    """A stored file failed its check (the message says why)."""


class ResultStore:
    """Results of one experiment config, verified on every read.

    Args:
        config: the experiment config; its ``EXPERIMENT`` and content hash name the folder.
        root: the results root (default ``results``, relative to the working directory).

    Raises:
        FileNotFoundError: a data file named by the config does not exist (its content hash
            names the folder).
    """

    def __init__(self, config: ExperimentConfig, root: str | os.PathLike[str] = "results") -> None:
        self.config = config
        self.config_hash = config.content_hash()
        self.data_sha256 = config.data_hashes()
        self.folder = Path(root) / config.EXPERIMENT / self.config_hash

    # -- paths -------------------------------------------------------------------------------

    def path(self, scenario: int) -> Path:
        """File of one scenario's rows."""
        return self.folder / f"scenario-{scenario}.parquet"

    @property
    def compact_path(self) -> Path:
        """File of a compacted run (every scenario in one table)."""
        return self.folder / COMPACT_NAME

    # -- writing -----------------------------------------------------------------------------

    def _record(self, checksums: dict[int, str]) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "experiment": self.config.EXPERIMENT,
            "config_hash": self.config_hash,
            "scenarios": sorted(checksums),
            "checksums": {str(s): c for s, c in sorted(checksums.items())},
            "data_sha256": self.data_sha256,
        }

    def _write_table(self, path: Path, rows: pd.DataFrame, checksums: dict[int, str]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        config_file = self.folder / "config.json"
        if not config_file.exists():
            record = {"experiment": self.config.EXPERIMENT, **self.config.to_dict(),
                      "data_sha256": self.data_sha256}
            atomic_write_bytes(config_file, canonical_json(record).encode())
        table = pa.Table.from_pandas(rows, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[META_KEY] = canonical_json(self._record(checksums)).encode()
        buffer = io.BytesIO()
        pq.write_table(table.replace_schema_metadata(meta), buffer)
        atomic_write_bytes(path, buffer.getvalue())

    def write(self, scenario: int, rows: pd.DataFrame) -> Path:
        """Store one scenario's rows atomically, with their provenance record; also writes
        ``config.json`` once.

        Raises:
            ValueError: ``rows`` is empty, or has a ``scenario`` column holding another id.
        """
        if rows.empty:
            raise ValueError(f"scenario {scenario}: no rows to store")
        if "scenario" in rows and set(rows["scenario"].unique()) != {scenario}:
            held = sorted(int(s) for s in rows["scenario"].unique())
            raise ValueError(f"rows of scenarios {held} cannot be "
                             f"stored as scenario {scenario}")
        path = self.path(scenario)
        self._write_table(path, rows, {scenario: content_checksum(rows)})
        return path

    def compact(self, *, partial: bool = False) -> Path:
        """Gather every scenario of the config into one verified ``results.parquet`` and remove
        the per-scenario files (after the compacted file is in place).

        ``partial=True`` gathers the scenarios finished so far (a checkpoint of an unfinished
        run: one file to commit, so a long run can go on in another session); the missing ones
        are computed later and a final ``compact()`` merges them in. A process still computing
        the run may go on writing per-scenario files meanwhile.

        Raises:
            RuntimeError: some scenarios of ``config.seeds`` are not finished (it names them)
                and ``partial`` is False; with ``partial``, none is finished.
        """
        found = self.load(self.config.seeds)
        missing = [s for s in self.config.seeds if s not in found]
        if missing and not partial:
            raise RuntimeError(f"cannot compact {self.folder}: scenarios {missing[:10]} "
                               f"({len(missing)} in all) are not finished; run them first, or "
                               "pass partial=True to checkpoint the finished ones")
        if not found:
            raise RuntimeError(f"cannot compact {self.folder}: no scenario is finished yet")
        done = [s for s in self.config.seeds if s in found]
        frames = [found[s] for s in done]
        rows = pd.concat(frames, ignore_index=True)
        checksums = {s: content_checksum(f) for s, f in zip(done, frames, strict=True)}
        self._write_table(self.compact_path, rows, checksums)
        for seed in done:
            self.path(seed).unlink(missing_ok=True)
        return self.compact_path

    # -- reading -----------------------------------------------------------------------------

    def _read_checked(self, path: Path) -> dict[int, pd.DataFrame]:
        """Rows of a stored file by scenario, after every check; raises _Rejected."""
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as error:  # truncated, empty or not parquet at all
            raise _Rejected(f"unreadable ({type(error).__name__}: {error})") from None
        raw = (table.schema.metadata or {}).get(META_KEY)
        if raw is None:
            raise _Rejected("it has no provenance record")
        try:
            record = json.loads(raw)
            scenarios = [int(s) for s in record["scenarios"]]
            checksums = {int(s): str(c) for s, c in record["checksums"].items()}
        except (ValueError, KeyError, TypeError) as error:
            raise _Rejected(f"its provenance record is damaged ({error})") from None
        expected = {"format": FORMAT, "experiment": self.config.EXPERIMENT,
                    "config_hash": self.config_hash, "data_sha256": self.data_sha256}
        for key, want in expected.items():
            if record.get(key) != want:
                raise _Rejected(f"it records {key}={record.get(key)!r}, not {want!r}")
        if path != self.compact_path and scenarios != [self._scenario_of(path)]:
            raise _Rejected(f"it holds scenarios {scenarios}, not {self._scenario_of(path)}")
        rows = table.to_pandas()
        if "scenario" not in rows:
            raise _Rejected("it has no scenario column")
        parts = {int(s): f.reset_index(drop=True) for s, f in rows.groupby("scenario", sort=False)}
        if sorted(parts) != sorted(scenarios) or sorted(checksums) != sorted(scenarios):
            raise _Rejected(f"its rows hold scenarios {sorted(parts)}, its record {scenarios}")
        for seed, part in parts.items():
            if content_checksum(part) != checksums[seed]:
                raise _Rejected(f"the rows of scenario {seed} do not match their checksum "
                                "(edited after they were written)")
        return parts

    @staticmethod
    def _scenario_of(path: Path) -> int:
        return int(path.name.removeprefix("scenario-").removesuffix(".parquet"))

    def _set_aside(self, path: Path, reason: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = path.with_name(f"{path.name}.rejected-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.rejected-{stamp}-{n}")
        os.replace(path, target)
        warnings.warn(f"stored result {path} failed its check: {reason}; set aside as "
                      f"{target.name} (not deleted), its scenarios will be computed again",
                      StoredResultWarning, stacklevel=3)

    def load(self, scenarios: Iterable[int] | None = None, *,
             set_aside: bool = True) -> dict[int, pd.DataFrame]:
        """The verified rows of each finished scenario among ``scenarios`` (default: the
        config's seeds), by scenario id.

        A compacted run is read once; a per-scenario file wins over it. A file that fails a check
        is set aside (renamed ``<name>.rejected-<UTC time>``) with a :class:`StoredResultWarning`;
        when one scenario of a compacted file fails, that file is set aside and its verified
        scenarios are written back as per-scenario files, so only the failed one is recomputed.
        ``set_aside=False`` only reports (a failed scenario is simply missing).
        """
        wanted = list(self.config.seeds if scenarios is None else scenarios)
        found: dict[int, pd.DataFrame] = {}
        compact: dict[int, pd.DataFrame] = {}
        if self.compact_path.is_file():
            compact = self._load_compact(set_aside)
        for seed in wanted:
            path = self.path(seed)
            if path.is_file():
                try:
                    found[seed] = self._read_checked(path)[seed]
                    continue
                except _Rejected as reason:
                    if set_aside:
                        self._set_aside(path, str(reason))
            if seed in compact:
                found[seed] = compact[seed]
        return found

    def _load_compact(self, set_aside: bool) -> dict[int, pd.DataFrame]:
        try:
            return self._read_checked(self.compact_path)
        except _Rejected as reason:
            if not set_aside:
                return {}
            good = self._salvage_compact()
            self._set_aside(self.compact_path, str(reason))
            for seed, rows in good.items():
                if not self.path(seed).is_file():
                    self.write(seed, rows)
            return good

    def _salvage_compact(self) -> dict[int, pd.DataFrame]:
        """The scenarios of a failed compacted file whose own checksums still hold."""
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(self.compact_path)
            record = json.loads((table.schema.metadata or {})[META_KEY])
            if record.get("config_hash") != self.config_hash or record.get(
                    "data_sha256") != self.data_sha256:
                return {}
            checksums = {int(s): c for s, c in record["checksums"].items()}
            rows = table.to_pandas()
            parts = {int(s): f.reset_index(drop=True) for s, f in rows.groupby("scenario")}
        except Exception:
            return {}
        return {s: f for s, f in parts.items() if checksums.get(s) == content_checksum(f)}

    def is_done(self, scenario: int) -> bool:
        """Whether the scenario has a stored result that passes every check (nothing is set
        aside by this question)."""
        return scenario in self.load([scenario], set_aside=False)

    def read(self, scenarios: Sequence[int] | None = None) -> pd.DataFrame:
        """All verified finished scenarios (default: the config's seeds), in the given order
        (empty frame when none); failed files are set aside as in :meth:`load`."""
        wanted = list(self.config.seeds if scenarios is None else scenarios)
        found = self.load(wanted)
        frames = [found[s] for s in wanted if s in found]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def recorded_run_times(root: str | os.PathLike[str] = "results") -> pd.DataFrame:
    """Compute time recorded by the runner for every stored config, as measured when it ran.

    Reads each ``<root>/<experiment>/<hash>/`` folder holding ``config.json`` and result files
    (per-scenario or compacted; the ``wall_s`` column the runner adds: seconds of one scenario,
    training included unless a cached model was reused).

    Returns:
        One row per config: ``experiment``, ``profile``, ``config_hash``, ``scenarios`` and
        ``compute_s`` (sum over scenarios, seconds), sorted by experiment and profile.
    """
    rows = []
    for config_file in sorted(Path(root).glob("*/*/config.json")):
        files = sorted(config_file.parent.glob("scenario-*.parquet"))
        compact = config_file.parent / COMPACT_NAME
        if compact.is_file():
            files.append(compact)
        walls: dict[int, float] = {}
        for file in files:
            try:
                table = pd.read_parquet(file, columns=["scenario", "wall_s"])
            except Exception:  # a damaged file: the store sets it aside on its next read
                continue
            for seed, wall in table.groupby("scenario")["wall_s"].first().items():
                walls.setdefault(int(seed), float(wall))
        if not walls:
            continue
        config = json.loads(config_file.read_text())
        rows.append({
            "experiment": config.get("experiment", config_file.parent.parent.name),
            "profile": config.get("profile", "?"),
            "config_hash": config_file.parent.name,
            "scenarios": len(walls),
            "compute_s": sum(walls.values()),
        })
    columns = ["experiment", "profile", "config_hash", "scenarios", "compute_s"]
    return pd.DataFrame(rows, columns=columns).sort_values(["experiment", "profile"], ignore_index=True)
