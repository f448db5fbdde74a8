"""The experiment engine: configs, the resumable runner, the result store, the artefact cache.

- :mod:`~assd_repro.experiments.engine.config`: frozen config dataclasses with three profiles
  (``smoke``, ``book``, ``paper``) and a stable content hash;
- :mod:`~assd_repro.experiments.engine.store`: atomic per-scenario result files with a provenance
  record, checked before reuse (damaged or foreign files are set aside and recomputed);
- :mod:`~assd_repro.experiments.engine.runner`: runs the missing scenarios in-process or on Dask;
- :mod:`~assd_repro.experiments.engine.cache`: a content-addressed cache of models and
  importances;
- :mod:`~assd_repro.experiments.engine.device`: where the image experiments compute.
"""

from assd_repro.experiments.engine.cache import ArtifactCache, settings_hash
from assd_repro.experiments.engine.config import (
    PROFILES,
    ExperimentConfig,
    canonical_json,
    check_profile,
    file_sha256,
)
from assd_repro.experiments.engine.device import compute_device
from assd_repro.experiments.engine.runner import (
    run_one,
    run_scenarios,
    seed_everything,
    torch_threads,
)
from assd_repro.experiments.engine.store import (
    ResultStore,
    StoredResultWarning,
    atomic_write_bytes,
    content_checksum,
    recorded_run_times,
)

__all__ = [
    "PROFILES",
    "ArtifactCache",
    "ExperimentConfig",
    "ResultStore",
    "StoredResultWarning",
    "atomic_write_bytes",
    "canonical_json",
    "check_profile",
    "file_sha256",
    "compute_device",
    "content_checksum",
    "recorded_run_times",
    "run_one",
    "run_scenarios",
    "seed_everything",
    "settings_hash",
    "torch_threads",
]
