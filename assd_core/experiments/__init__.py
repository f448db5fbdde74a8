"""Experiment engine: configs with profiles, result storage, runners and the artefact cache."""

from assd_core.experiments.cache import ArtifactCache, settings_hash
from assd_core.experiments.config import PROFILES, ExperimentConfig, canonical_json, check_profile
from assd_core.experiments.runner import run_one, run_scenarios, seed_everything, torch_threads
from assd_core.experiments.store import ResultStore, atomic_write_bytes

__all__ = [
    "PROFILES",
    "ArtifactCache",
    "ExperimentConfig",
    "ResultStore",
    "atomic_write_bytes",
    "canonical_json",
    "check_profile",
    "run_one",
    "run_scenarios",
    "seed_everything",
    "settings_hash",
    "torch_threads",
]
