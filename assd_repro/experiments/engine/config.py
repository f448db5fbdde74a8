"""Experiment configs: frozen dataclasses with three profiles and a stable content hash.

Every experiment has one config class deriving from :class:`ExperimentConfig`. Its
``PROFILES`` map ``"smoke"`` (seconds, for tests), ``"book"`` (real but CPU-sized, the default of
``make book``) and ``"paper"`` (the paper's settings, for a GPU and the real data) to field
values; :meth:`ExperimentConfig.for_profile` builds one, with overrides. The content hash
(:meth:`ExperimentConfig.content_hash`) names the results folder: equal settings, equal hash,
whatever the profile label. Fields that name an input data file (``DATA_FIELDS``) enter the hash
by the SHA-256 of the file's content, never by its path or modification time: a changed file gets
a new results folder, and a fresh clone of the same data finds the stored results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

__all__ = ["PROFILES", "ExperimentConfig", "canonical_json", "check_profile", "file_sha256"]

PROFILES: tuple[str, ...] = ("smoke", "book", "paper")


def check_profile(profile: str) -> str:
    """Return ``profile`` or raise a ValueError that lists the valid ones."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return profile


#: ``dataclasses.field`` metadata of a setting added after runs were stored: left out of the
#: canonical JSON (and so of every hash) while it holds its default, which keeps the earlier
#: behaviour, so that the earlier runs keep their hashes.
OMIT_DEFAULT = {"omit_default": True}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (f.metadata.get("omit_default") and getattr(value, f.name) == f.default)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"config values must be finite, got {value}")
    return value


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (64 hex digits) of a file's content, read in 1 MiB blocks.

    Remembered per process while the file's size and modification time stay the same (these
    only decide whether to read the file again; they never enter a hash).

    Raises:
        FileNotFoundError: ``path`` names no file (the message names the path).
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(f"data file {os.fspath(path)!r} does not exist: give the path of "
                                "an existing file")
    stat = file.stat()
    key = (str(file.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_HASHES:
        digest = hashlib.sha256()
        with file.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _FILE_HASHES[key] = digest.hexdigest()
    return _FILE_HASHES[key]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the same text for the same settings."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"))


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Base of every experiment config.

    Subclasses are frozen dataclasses that set ``EXPERIMENT`` (the results folder name) and
    ``PROFILES`` (profile -> field values), and check their values in :meth:`validate`.

    Attributes:
        profile: the profile the defaults came from (not part of the content hash).
        seeds: scenario seeds; one result file per seed.

    Raises:
        ValueError: an unknown profile, an empty or repeated or negative seed, or (from
            :meth:`validate`) a bad field value; the message names the field.
    """

    EXPERIMENT: ClassVar[str] = "experiment"
    PROFILES: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    #: fields holding the path of an input data file (or ``None``); hashed by content.
    DATA_FIELDS: ClassVar[tuple[str, ...]] = ()

    profile: str = "smoke"
    seeds: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        check_profile(self.profile)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        if not self.seeds:
            raise ValueError("seeds is empty: give at least one scenario seed")
        if len(set(self.seeds)) != len(self.seeds) or any(int(s) != s or s < 0 for s in self.seeds):
            raise ValueError(f"seeds={self.seeds} must be distinct non-negative integers")
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the field for a bad value; subclasses extend this."""

    @classmethod
    def for_profile(cls, profile: str = "book", **overrides: Any) -> Self:
        """The config of ``profile`` (``smoke``, ``book`` or ``paper``), with ``overrides``."""
        check_profile(profile)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ValueError(f"{cls.__name__} has no field(s) {unknown}; fields: {sorted(names)}")
        return cls(profile=profile, **{**cls.PROFILES.get(profile, {}), **overrides})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field."""
        return json.loads(canonical_json(self))

    def data_hashes(self) -> dict[str, str | None]:
        """SHA-256 of the content of each ``DATA_FIELDS`` file (``None`` for a field set to
        ``None``), by field name.

        Raises:
            FileNotFoundError: a data field names no file.
        """
        paths = {name: getattr(self, name) for name in self.DATA_FIELDS}
        return {name: None if path is None else file_sha256(path) for name, path in paths.items()}

    def content_hash(self) -> str:
        """12 hex digits of SHA-256 over the experiment name and every field but ``profile``;
        a ``DATA_FIELDS`` path enters as ``{"sha256": <its content's hash>}``.

        Raises:
            FileNotFoundError: a data field names no file.
        """
        data = {k: v for k, v in self.to_dict().items() if k != "profile"}
        for name, digest in self.data_hashes().items():
            if digest is not None:
                data[name] = {"sha256": digest}
        text = canonical_json({"experiment": self.EXPERIMENT, "config": data})
        return hashlib.sha256(text.encode()).hexdigest()[:12]
