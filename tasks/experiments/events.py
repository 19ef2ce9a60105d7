"""Frozen events a sweep yields (`tasks.experiments.sweep.run_sweep`): the command prints them,
one JSON object a line with ``--json``, and the Sweeps screen reads them back."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

TrialState = Literal["complete", "pruned", "failed"]


@dataclass(frozen=True)
class SweepEvent:
    """Base class: `kind` names the event in JSON output."""

    kind: ClassVar[str] = "sweep_event"

    def to_json(self) -> str:
        """One line of JSON: {"event": kind, ...fields}."""
        return json.dumps({"event": self.kind, **dataclasses.asdict(self)})


@dataclass(frozen=True)
class SweepStarted(SweepEvent):
    """The study is open (created or resumed) and the space known."""

    kind: ClassVar[str] = "sweep_started"
    study: str
    storage: str
    task: str
    dataset: str
    metric: str
    """The task's primary metric: what the sweep optimises (on validation)."""
    lower_is_better: bool
    trials_target: int
    """Finished (complete or pruned) trials the study should hold in all."""
    finished_before: int
    """Finished trials it held already (a resumed sweep)."""
    space: dict[str, Any] = field(default_factory=dict)
    """Setting -> {"low", "high", "log", "step"} or {"choices"} (`Search.to_dict`)."""


@dataclass(frozen=True)
class TrialStarted(SweepEvent):
    """A trial has its settings and its run folder and starts training."""

    kind: ClassVar[str] = "trial_started"
    number: int
    params: dict[str, Any]
    run_dir: str


@dataclass(frozen=True)
class TrialProgress(SweepEvent):
    """An intermediate value reported to the pruner: the primary metric at `step`
    (``round(elapsed_s / eval_every_s)``: steps align across trials by wall time)."""

    kind: ClassVar[str] = "trial_progress"
    number: int
    step: int
    value: float


@dataclass(frozen=True)
class TrialDone(SweepEvent):
    """A trial ended: complete (its final value), pruned (at `pruned_step`, its last reported
    value) or failed (`reason`; an interrupted trial is failed and its settings queued again)."""

    kind: ClassVar[str] = "trial_done"
    number: int
    state: TrialState
    value: float | None
    params: dict[str, Any]
    run_dir: str | None
    pruned_step: int | None
    test_metrics: dict[str, float]
    """The Finished event's test_* metrics (of the weights chosen on validation)."""
    duration_s: float
    reason: str | None = None
    """Why a failed trial failed (None otherwise)."""
    importances: dict[str, float] | None = None
    """The parameters' importances over the study's trials so far, once enough completed
    (as `SweepFinished`'s; None before, and for a failed trial)."""


@dataclass(frozen=True)
class SweepFinished(SweepEvent):
    """The study holds its trials: the best complete one, and the parameters' importances
    (Optuna's default evaluator, once enough trials completed; None before)."""

    kind: ClassVar[str] = "sweep_finished"
    best_number: int | None
    best_value: float | None
    best_params: dict[str, Any] | None
    best_run_dir: str | None
    best_test_metrics: dict[str, float] | None
    importances: dict[str, float] | None


SWEEP_EVENTS: dict[str, type[SweepEvent]] = {
    cls.kind: cls for cls in (SweepStarted, TrialStarted, TrialProgress, TrialDone, SweepFinished)
}
"""Event kind -> class, for reading events back from JSON lines."""


def sweep_event_from_json(line: str) -> SweepEvent:
    """The event a `to_json` line describes; `ValueError` for anything else."""
    try:
        data = json.loads(line)
        cls = SWEEP_EVENTS[data.pop("event")]
        return cls(**data)
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, RecursionError):
        raise ValueError(f"not a sweep event: {line.strip()[:80]!r}") from None
