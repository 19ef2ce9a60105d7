"""Computing or loading a dataset's profile, and the report read from it (see the package).

`profile(dataset, task, settings, progress)` resolves ``NAME|PATH``, then loads its figures
from the cache (per file checksum) or computes them with the task's kind of profile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from tasks.data.fetch import Progress as DownloadProgress
from tasks.data.info import DatasetError
from tasks.data.profile import DataProfile, Kind, cache, profile_settings
from tasks.data.profile.common import Progress, quiet
from tasks.data.profile.detect import resolve_task, split_columns
from tasks.data.resolve import resolve
from tasks.engine.settings import TrainConfig
from tasks.registry import default_config, get_task

__all__ = ["Profile", "Progress", "profile"]


@dataclass
class Profile:
    """A dataset's figures and the tables its setting-dependent figures are read from."""

    task: str
    dataset: str
    """What was asked for: a catalogue name or a path."""
    path: Path
    """The file or folder that was read."""
    figures: dict[str, Any]
    tables: dict[str, Any]
    """Lists as NumPy int64 arrays, counts as ints."""
    cached: bool
    """True when the figures came from the cache."""

    @property
    def module(self) -> ModuleType:
        """The module of its kind (`tasks.data.profile.text`, ...)."""
        return import_module(_kind(self.task).module)

    @property
    def kind(self) -> str:
        """text, labelled text, parallel text or series."""
        return _kind(self.task).title

    def report(self, settings: TrainConfig | None = None) -> dict[str, Any]:
        """Every figure (JSON-able), with ``live`` for `settings` (the task's defaults)."""
        settings = settings or default_config(self.task)
        return {
            "dataset": self.dataset,
            "task": self.task,
            "kind": self.kind,
            "path": str(self.path),
            "settings": {n: getattr(settings, n) for n in profile_settings(self.task)},
            **self.figures,
            "live": self.module.live(self.figures, self.tables, settings),
        }

    def notes(self, settings: TrainConfig) -> dict[str, str]:
        """Setting name -> one short line: what its current value cuts or covers."""
        return self.module.notes(self.report(settings))


def profile(
    dataset: str,
    task: str | None = None,
    settings: TrainConfig | None = None,
    progress: Progress = quiet,
    download: DownloadProgress | None = None,
) -> Profile:
    """The profile of ``--dataset NAME|PATH`` (see the module docstring).

    Args:
        dataset: a catalogue name or a path (a series may add ``#COLUMNS``).
        task: whose reader to use; None: the catalogue's, or guessed from a path's format.
        settings: the task's settings (its defaults when None); those that change what the
            reader returns (a direction, a split seed, a season) are part of the cache key.
        progress: ``progress(stage, fraction)`` while computing.
        download: ``download(done, total)`` bytes while a catalogue dataset is downloaded.

    Raises:
        DatasetError: unknown name, missing path, a path in no dataset's format, a dataset its
            task generates, or a file its reader refuses. One line.
    """
    target, columns = split_columns(dataset, task)
    task = resolve_task(dataset, task)
    declared = _declared(task)
    resolved = resolve(target, download, allow_offline=False, task=task)
    settings = settings or default_config(task)
    reading = {n: getattr(settings, n) for n in declared.reading if hasattr(settings, n)}
    key = cache.cache_key(resolved.path, {"task": task, "columns": columns, **reading})
    stored = cache.load(key)
    cached = stored is not None and _usable(stored)
    if not cached:
        module = import_module(declared.of_kind.module)
        figures, tables = module.compute(task, dataset, resolved.path, settings, progress)
        stored = json.loads(json.dumps({"figures": figures, "tables": tables}, default=_plain))
        cache.store(key, stored)
    assert stored is not None
    progress("done", 1.0)
    return Profile(task, dataset, resolved.path, stored["figures"], _arrays(stored["tables"]),
                   cached)  # fmt: skip


def _declared(task: str) -> DataProfile:
    """How the task's registry entry says its data is read; `DatasetError` if it has none."""
    declared = get_task(task).profile
    if declared is None:
        raise DatasetError(f"{task} generates its data as it trains: there is no dataset to show")
    return declared


def _kind(task: str) -> Kind:
    return _declared(task).of_kind


def _usable(stored: dict[str, Any]) -> bool:
    return isinstance(stored.get("figures"), dict) and isinstance(stored.get("tables"), dict)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def _arrays(tables: dict[str, Any]) -> dict[str, Any]:
    return {k: np.asarray(v, dtype=np.int64) if isinstance(v, list) else v
            for k, v in tables.items()}  # fmt: skip
