"""Frozen events that `Trainer.run` yields: the CLI prints them, the TUI posts them as messages."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class TrainEvent:
    """Base class: `kind` names the event in JSON output."""

    kind: ClassVar[str] = "event"

    def to_json(self) -> str:
        """One line of JSON: {"event": kind, ...fields}."""
        return json.dumps({"event": self.kind, **dataclasses.asdict(self)})


@dataclass(frozen=True)
class Started(TrainEvent):
    """The run is set up: data loaded, model built (or restored)."""

    kind: ClassVar[str] = "started"
    run_dir: str
    task: str
    arch: str
    dataset: str
    dataset_note: str
    parameters: int
    steps_per_epoch: int
    total_steps: int | None
    resumed_from_step: int
    config: dict[str, Any] = field(default_factory=dict)
    world_size: int = 1
    """How many processes train the run together (torchrun's world; 1 alone)."""


@dataclass(frozen=True)
class StepLogged(TrainEvent):
    """Training progress since the previous StepLogged (losses averaged over those steps)."""

    kind: ClassVar[str] = "step"
    step: int
    epoch: int
    progress: float
    loss: float
    lr: float
    grad_norm: float
    tokens_per_s: float
    elapsed_s: float
    eta_s: float | None
    gradients: dict[str, Any] | None = None
    """The latest gradient-flow profile since the previous StepLogged, from tasks that record
    one (gradflow: `tasks.gradflow.task.GradientProfile.to_dict`); None otherwise."""
    compile_s: float | None = None
    """--compile: the seconds of the run's first (cold) step, compilation included, on the
    first step event after it (that step is left out of `tokens_per_s`); None otherwise."""


@dataclass(frozen=True)
class EvalDone(TrainEvent):
    """Validation metrics at a step; `full` is False for a quick estimate on part of the data."""

    kind: ClassVar[str] = "eval"
    step: int
    epoch: int
    metrics: dict[str, float]
    full: bool


@dataclass(frozen=True)
class CheckpointSaved(TrainEvent):
    """A checkpoint was written atomically; reason: epoch, best, stop, manual or final."""

    kind: ClassVar[str] = "checkpoint"
    step: int
    path: str
    reason: str


@dataclass(frozen=True)
class Finished(TrainEvent):
    """The run ended normally or was stopped; the checkpoint holds its last state."""

    kind: ClassVar[str] = "finished"
    run_dir: str
    checkpoint: str
    metrics: dict[str, float]
    stopped: bool


@dataclass(frozen=True)
class Failed(TrainEvent):
    """The run failed (NaN/inf loss, an error); `checkpoint` is the last good one, if any."""

    kind: ClassVar[str] = "failed"
    step: int
    reason: str
    checkpoint: str | None


@dataclass(frozen=True)
class Note(TrainEvent):
    """One line for the run's log, e.g. that a resume under another number of processes splits
    the batches another way."""

    kind: ClassVar[str] = "note"
    step: int
    text: str


EVENT_TYPES: dict[str, type[TrainEvent]] = {
    cls.kind: cls
    for cls in (Started, StepLogged, EvalDone, CheckpointSaved, Finished, Failed, Note)
}
"""Event kind -> class, for reading events back from JSON lines."""


def event_from_json(line: str) -> TrainEvent:
    """The event a `to_json` line describes; `ValueError` for anything else."""
    try:
        data = json.loads(line)
        cls = EVENT_TYPES[data.pop("event")]
        return cls(**data)
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ValueError(f"not a training event: {line.strip()[:80]!r}") from exc
