"""Run folders in the user data directory: config, metric history, checkpoints, summary.

This module alone knows a run folder's layout; the trainer, the commands and the screens go
through its names and functions.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
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
LOCK = "lock.json"
"""Present while a process trains the run: its pid, host and start (`tasks.engine.run_lock`)."""


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
    """Write JSON atomically (a failed write, a full disk say, leaves the old file and no temp)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def append_history(run_dir: Path, record: dict[str, Any]) -> None:
    """Append one event record (a JSON line) to the run's metric history."""
    with (run_dir / HISTORY).open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def history_stamp(run_dir: Path) -> float:
    """When the run's history last changed (0.0 when it has none): a key for caching it."""
    path = Path(run_dir) / HISTORY
    return path.stat().st_mtime if path.exists() else 0.0


def history_bytes(run_dir: Path) -> int:
    """The size of the run's history file (0 when it has none)."""
    try:
        return (Path(run_dir) / HISTORY).stat().st_size
    except OSError:
        return 0


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    """All event records of a run; a torn last line (a crash mid-write) is skipped, and so is a
    line that is not a record of the shape its readers use (`usable_record`)."""
    return list(iter_history(run_dir))


def iter_history(run_dir: Path) -> Iterator[dict[str, Any]]:
    """The run's event records as `read_history` reads them, one line at a time (a long run's
    history need not be held whole)."""
    return (record for _, record in iter_history_from(run_dir) if record is not None)


def iter_history_from(run_dir: Path, start: int = 0) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(the byte offset after the line, its record or None) for each line of the run's history
    after byte `start`: None for a line that is damaged or not of a usable shape
    (`usable_record`). A last line that does not parse and has no newline yet is left out, as
    being written now (or torn by a crash): a read that goes on from the last offset (the Runs
    screen's, while a run trains) meets it whole."""
    try:
        with (Path(run_dir) / HISTORY).open("rb") as lines:
            lines.seek(start)
            offset = start
            for raw in lines:
                try:
                    record = json.loads(raw.decode("utf-8", errors="replace"))
                except (ValueError, RecursionError):  # torn or damaged, 5000 digits, deep nesting
                    if not raw.endswith(b"\n"):
                        return
                    record = None
                offset += len(raw)
                yield offset, record if usable_record(record) else None
    except OSError:  # no history yet (or not a file)
        return


def history_file_id(run_dir: Path) -> tuple[int, int] | None:
    """(device, inode) of the run's history file, None without one: a read that goes on from
    an offset checks that the file is still the one it read."""
    try:
        info = (Path(run_dir) / HISTORY).stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def usable_record(record: Any) -> bool:
    """Whether a history record has the shape the charts, the report and the export rely on:
    an object; a step with an integer step and a numeric loss; an evaluation with an integer
    step and numeric metrics; a finished run with an object of metrics. A damaged or hand-edited
    line that parses as JSON but fails this is skipped like a torn one."""
    if not isinstance(record, dict):
        return False
    event = record.get("event")
    if event == "step":
        return _integer(record.get("step")) and is_number(record.get("loss"))
    if event == "eval":
        metrics = record.get("metrics")
        return (
            _integer(record.get("step"))
            and isinstance(metrics, dict)
            and all(is_number(v) for v in metrics.values())
        )
    if event == "finished":
        return isinstance(record.get("metrics"), dict)
    return True


def is_number(value: Any) -> bool:
    """An int or float that is not a bool (what JSON gives for a number)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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


def lock_file(run_dir: Path) -> Path:
    """Where the process training the run keeps its lock."""
    return Path(run_dir) / LOCK


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
    """The summary's object; a damaged one is repaired for its readers: a `config` that is not
    an object is left out, and `metrics` keeps its numbers only. None when it cannot be read."""
    try:
        data = json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # missing, not UTF-8 or JSON, too deep
        return None
    if not isinstance(data, dict):
        return None
    if not isinstance(data.get("config", {}), dict):
        del data["config"]
    if "metrics" in data:
        metrics = data["metrics"] if isinstance(data["metrics"], dict) else {}
        data["metrics"] = {name: v for name, v in metrics.items() if is_number(v)}
    return data


def read_run(run_dir: Path) -> RunInfo | None:
    """The summary of a run folder, or None if it is not one (texts and the step are typed as
    `RunInfo` says, whatever a damaged summary holds)."""
    data = _load_summary(run_dir)
    if data is None:
        return None
    step = data.get("step", 0)
    return RunInfo(
        path=run_dir,
        task=str(data.get("task", "?")),
        arch=str(data.get("arch", "?")),
        dataset=str(data.get("dataset", "?")),
        status=str(data.get("status", "?")),
        step=int(step) if is_number(step) and math.isfinite(step) else 0,
        metrics=dict(data.get("metrics", {})),
        started=str(data.get("started", "")),
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
        text = (root / ELSEWHERE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [Path(line) for line in text.splitlines() if line]


def _is_folder(path: Path) -> bool:
    """`path.is_dir()`, False for a path the system refuses (a NUL byte, a name too long)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def list_runs(root: Path | None = None) -> list[RunInfo]:
    """Every readable run under the root or registered from elsewhere, newest first."""
    root = root or runs_root()
    folders = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    folders += [p for p in _elsewhere(root) if _is_folder(p)]
    runs = [read_run(p) for p in dict.fromkeys(folders)]
    return sorted((r for r in runs if r), key=lambda r: r.started, reverse=True)
