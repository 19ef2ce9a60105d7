"""Checkpoints: written atomically (temp file + rename), loaded without unpickling code.

A checkpoint is a dict of tensors and plain Python values (state_dict, optimizer state, step,
config, vocabulary, metrics, RNG state), saved with `torch.save` and read back with
`torch.load(weights_only=True)`, which refuses anything but tensors and primitive containers.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from tasks.engine.runs import last_checkpoint

FORMAT = "rnn-tui/1"
SHAPE: dict[str, type] = {"task": str, "config": dict, "step": int, "task_state": dict}
"""What every reader of a checkpoint takes from it: the key and its type."""

FAULT_SLOW_WRITE = "RNN_TUI_FAULT_SLOW_WRITE"
"""Test hook: seconds by which every checkpoint write is slowed (`save_checkpoint`)."""

WRITE_CHUNKS = 10
"""A checkpoint is written in this many pieces (the slow-write hook sleeps after each)."""

PARTIAL_GLOB = ".*.pt.*.tmp"
"""The temp files of checkpoint writes (`save_checkpoint`), e.g. `.last.pt.k2x8.tmp`."""


class CheckpointError(ValueError):
    """The file is missing, truncated, not a checkpoint, or of another task."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write `payload` to `path` atomically: a crash mid-write leaves the old file intact.

    The checkpoint is serialised in memory, written to a temp file beside `path` (a name
    `PARTIAL_GLOB` matches) in `WRITE_CHUNKS` pieces, synced to disk, renamed over `path`
    (`os.replace`), and the rename synced too. Any error (an OSError such as a full disk)
    removes the temp file and propagates; `path` is then untouched.

    Fault hook: with the environment variable RNN_TUI_FAULT_SLOW_WRITE=S (seconds, read here
    alone) the write sleeps S / WRITE_CHUNKS after each piece, so it takes about S seconds
    longer and a test can kill the process while the temp file is half written.
    """
    import torch

    path = Path(path)
    pause_s = slow_write_s() / WRITE_CHUNKS
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **payload}, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle, buffer.getbuffer() as data:
            _write_chunks(handle, data, pause_s)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return path


def slow_write_s() -> float:
    """The seconds RNN_TUI_FAULT_SLOW_WRITE adds to each checkpoint write (0 when unset)."""
    text = os.environ.get(FAULT_SLOW_WRITE, "").strip()
    if not text:
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"{FAULT_SLOW_WRITE} must be a number of seconds >= 0, not {text!r}")
    return seconds


def _write_chunks(handle: IO[bytes], data: memoryview, pause_s: float) -> None:
    """Write `data` in `WRITE_CHUNKS` pieces, sleeping `pause_s` after each (the fault hook)."""
    size = max(1, -(-len(data) // WRITE_CHUNKS))
    for start in range(0, len(data), size):
        handle.write(data[start : start + size])
        if pause_s > 0:
            handle.flush()  # the piece is in the file: a kill now leaves it half written
            time.sleep(pause_s)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (where a folder can be opened and synced)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_partial_writes(folder: str | Path) -> int:
    """Delete the temp files that checkpoint writes killed midway left in `folder`; how many.

    Only while no other process writes there (the trainer calls it holding the run's lock).
    """
    removed = 0
    for tmp in Path(folder).glob(PARTIAL_GLOB):
        try:
            tmp.unlink()
        except OSError:
            continue
        removed += 1
    return removed


def load_checkpoint(path: str | Path, task: str | None = None) -> dict[str, Any]:
    """Load a checkpoint safely; `task` (if given) must match the checkpoint's task.

    `path` is a checkpoint file, or a run folder (its latest checkpoint).
    """
    import torch

    path = Path(path)
    if path.is_dir():
        path = last_checkpoint(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file can fail anywhere inside the unpickler
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path} is not a readable rnn-tui checkpoint (truncated or foreign file: {first})"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an rnn-tui checkpoint (no '{FORMAT}' marker)")
    if task is not None and payload.get("task") != task:
        raise CheckpointError(
            f"{path} is a {payload.get('task')!r} checkpoint; this command needs a {task!r} one"
        )
    for key, kind in SHAPE.items():
        if not isinstance(payload.get(key), kind):
            raise CheckpointError(
                f"{path} is a damaged rnn-tui checkpoint: its {key!r} is missing or not a "
                f"{kind.__name__}"
            )
    return payload
