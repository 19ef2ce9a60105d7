"""Checkpoints: written atomically (temp file + rename), loaded without unpickling code.

A checkpoint is a dict of tensors and plain Python values (state_dict, optimizer state, step,
config, vocabulary, metrics, RNG state), saved with `torch.save` and read back with
`torch.load(weights_only=True)`, which refuses anything but tensors and primitive containers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from tasks.engine.runs import last_checkpoint

FORMAT = "rnn-tui/1"


class CheckpointError(ValueError):
    """The file is missing, truncated, not a checkpoint, or of another task."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write `payload` to `path` atomically: a crash mid-write leaves the old file intact."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save({"format": FORMAT, **payload}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
    return payload
