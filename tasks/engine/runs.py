"""Run folders in the user data directory: config, metric history, checkpoints, summary.

This module alone knows a run folder's layout; the trainer, the commands and the screens go
through its names and functions.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUMMARY = "summary.json"
"""The run's settings, status, step and latest metrics (rewritten as the run goes)."""
HISTORY = "history.jsonl"
"""Every event of the run after `Started`, one JSON object a line."""
LAST_CHECKPOINT = "last.pt"
"""The latest checkpoint (epoch ends, saves, stop, the end); resume continues from it."""
BEST_CHECKPOINT = "best.pt"
"""The checkpoint of the best full evaluation of the task's primary metric."""
ELSEWHERE = "elsewhere.txt"
"""Under the runs root: run folders made with --out outside it, one path a line."""


def runs_root() -> Path:
    """Where runs live: $RNN_TUI_HOME/runs, else the platform's user data dir."""
    home = os.environ.get("RNN_TUI_HOME")
    if home:
        return Path(home) / "runs"
    from platformdirs import user_data_dir

    return Path(user_data_dir("rnn-tui")) / "runs"


def new_run_dir(task: str, arch: str, dataset: str, root: Path | None = None) -> Path:
    """A fresh, uniquely named run folder: <date>-<time>-<task>-<arch>-<dataset>."""
    root = root or runs_root()
    stem = Path(dataset).stem if ("/" in dataset or os.sep in dataset) else dataset
    base = f"{time.strftime('%Y%m%d-%H%M%S')}-{task}-{arch}-{stem}"
    path, n = root / base, 1
    while path.exists():
        n += 1
        path = root / f"{base}-{n}"
    path.mkdir(parents=True)
    return path


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)


def append_history(run_dir: Path, record: dict[str, Any]) -> None:
    """Append one event record (a JSON line) to the run's metric history."""
    with (run_dir / HISTORY).open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def history_stamp(run_dir: Path) -> float:
    """When the run's history last changed (0.0 when it has none): a key for caching it."""
    path = Path(run_dir) / HISTORY
    return path.stat().st_mtime if path.exists() else 0.0


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    """All event records of a run; a torn last line (a crash mid-write) is skipped."""
    path = Path(run_dir) / HISTORY
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


@dataclass(frozen=True)
class RunInfo:
    """One saved run as the `runs` command and the Runs screen list it."""

    path: Path
    task: str
    arch: str
    dataset: str
    status: str
    step: int
    metrics: dict[str, float]
    started: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "path": str(self.path)}


def last_checkpoint(run_dir: Path) -> Path:
    """Where the run keeps its latest checkpoint (it may not be written yet)."""
    return Path(run_dir) / LAST_CHECKPOINT


def best_checkpoint(run_dir: Path) -> Path:
    """Where the run keeps its best checkpoint (it may not be written yet)."""
    return Path(run_dir) / BEST_CHECKPOINT


def resumable_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint a resume continues from (the latest), or None if the run has none."""
    path = last_checkpoint(run_dir)
    return path if path.is_file() else None


def playable_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint to play: the latest, else the best, else None."""
    for path in (last_checkpoint(run_dir), best_checkpoint(run_dir)):
        if path.is_file():
            return path
    return None


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    """Replace the run's summary (atomically)."""
    write_json(Path(run_dir) / SUMMARY, summary)


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The run's summary as the trainer wrote it ({} when missing or unreadable)."""
    return _load_summary(Path(run_dir)) or {}


def _load_summary(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / SUMMARY).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def read_run(run_dir: Path) -> RunInfo | None:
    """The summary of a run folder, or None if it is not one."""
    data = _load_summary(run_dir)
    if data is None:
        return None
    return RunInfo(
        path=run_dir,
        task=data.get("task", "?"),
        arch=data.get("arch", "?"),
        dataset=data.get("dataset", "?"),
        status=data.get("status", "?"),
        step=int(data.get("step", 0)),
        metrics=dict(data.get("metrics", {})),
        started=data.get("started", ""),
    )


def register_run(run_dir: Path, root: Path | None = None) -> None:
    """Remember a run folder outside the runs root (made with --out) so `list_runs` finds it."""
    root = root or runs_root()
    run_dir = run_dir.resolve()
    if run_dir.parent == root.resolve() or run_dir in _elsewhere(root):
        return
    root.mkdir(parents=True, exist_ok=True)
    with (root / ELSEWHERE).open("a") as handle:
        handle.write(f"{run_dir}\n")


def _elsewhere(root: Path) -> list[Path]:
    try:
        return [Path(line) for line in (root / ELSEWHERE).read_text().splitlines() if line]
    except OSError:
        return []


def list_runs(root: Path | None = None) -> list[RunInfo]:
    """Every readable run under the root or registered from elsewhere, newest first."""
    root = root or runs_root()
    folders = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    folders += [p for p in _elsewhere(root) if p.is_dir()]
    runs = [read_run(p) for p in dict.fromkeys(folders)]
    return sorted((r for r in runs if r), key=lambda r: r.started, reverse=True)
