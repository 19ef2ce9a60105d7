"""Messages of the app: the trainer-event bridge and the navigation requests screens send up.

The bridge turns each frozen `tasks.engine.events.TrainEvent` into one Textual message
(`for_event`), so a thread worker can iterate `Trainer.run` and hand every event to the UI
with the thread-safe `post_message`. The class for each event kind is looked up in `BRIDGE`,
not chosen by if-chains.

Navigation messages bubble from a screen up to the app, which owns the screen stack: a screen
asks ("play this checkpoint"), the app decides how to show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:  # the events module is torch-free, but keep the import graph explicit
    from tasks.engine.events import TrainEvent
    from tasks.experiments.events import SweepEvent

# -- the trainer-event bridge ----------------------------------------------------------------


@dataclass
class TrainerMessage(Message):
    """A training event, carried from the worker thread to the UI thread."""

    event: Any
    """The `tasks.engine.events.TrainEvent` as the trainer yielded it."""


@dataclass
class RunStarted(TrainerMessage):
    """The data is loaded and the model built (`tasks.engine.events.Started`)."""


@dataclass
class StepLogged(TrainerMessage):
    """Averaged training statistics since the previous one (`tasks.engine.events.StepLogged`).

    Never replaced in the queue: each one is a point of the loss curve.
    """


@dataclass
class EvalLogged(TrainerMessage):
    """Validation metrics at a step (`tasks.engine.events.EvalDone`)."""


@dataclass
class CheckpointWritten(TrainerMessage):
    """A checkpoint was written (`tasks.engine.events.CheckpointSaved`)."""


@dataclass
class RunFinished(TrainerMessage):
    """The run ended or was stopped (`tasks.engine.events.Finished`)."""


@dataclass
class RunFailed(TrainerMessage):
    """The loss went NaN/inf or the task failed (`tasks.engine.events.Failed`)."""


@dataclass
class NoteLogged(TrainerMessage):
    """A line the run has for the log (a `note` event, e.g. that a resume under another number
    of processes changes the data order)."""


@dataclass
class UnknownEvent(TrainerMessage):
    """An event kind this app does not know (from a newer engine); nothing handles it."""


BRIDGE: dict[str, type[TrainerMessage]] = {
    "started": RunStarted,
    "step": StepLogged,
    "eval": EvalLogged,
    "checkpoint": CheckpointWritten,
    "finished": RunFinished,
    "failed": RunFailed,
    "note": NoteLogged,
}
"""Event kind (`TrainEvent.kind`) -> the message that carries it (any other: `UnknownEvent`)."""


def for_event(event: TrainEvent) -> TrainerMessage:
    """The message that carries `event` to the UI."""
    return BRIDGE.get(event.kind, UnknownEvent)(event)


# -- status that may coalesce ------------------------------------------------------------------


@dataclass
class DownloadProgressed(Message):
    """Bytes downloaded so far; a newer one replaces a queued older one."""

    done: int
    """Bytes received."""
    total: int
    """Bytes expected (0 when unknown)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DownloadProgressed)


# -- navigation requests (a screen asks, the app decides) ----------------------------------------


@dataclass
class NewRunRequested(Message):
    """Start the new-run flow (architecture, then configure, then train) for a task."""

    task: str
    """Task registry name."""


@dataclass
class PlayRequested(Message):
    """Open a checkpoint in its task's Play screen."""

    checkpoint: Path
    """A `.pt` file written by the trainer."""


@dataclass
class ResumeRequested(Message):
    """Continue a saved run on the Train screen."""

    run_dir: Path
    """The run folder."""
    epochs: int | None = None
    """Train to this many epochs in all (None: the run's own setting)."""


@dataclass
class RunsRequested(Message):
    """Show the saved runs."""


@dataclass
class SweepsRequested(Message):
    """Open the Sweeps screen (hyperparameter search on Optuna)."""

    task: str | None = None
    """The task the form starts with (None: the first task)."""


# -- the sampling bridge (Play) ------------------------------------------------------------------


@dataclass
class TextSampled(Message):
    """Characters sampled since the previous message, each with the probability it had."""

    pieces: list[tuple[str, float]]
    """(character, probability of choosing it) in order."""
    finished: bool = False
    """The stream ended (length reached or stopped)."""


# -- the sweep bridge (Sweeps) -------------------------------------------------------------------


@dataclass
class SweepMessage(Message):
    """A sweep event, carried from the reader thread to the UI thread."""

    event: Any
    """The `tasks.experiments.events.SweepEvent` as the sweep yielded it."""


@dataclass
class SweepStarted(SweepMessage):
    """The study is open: its name, storage, metric and direction, the trials to reach."""


@dataclass
class TrialStarted(SweepMessage):
    """A trial began: its number, settings and run folder."""


@dataclass
class TrialReported(SweepMessage):
    """A trial reported an intermediate value of the metric (what pruning decides on)."""


@dataclass
class TrialEnded(SweepMessage):
    """A trial completed, was pruned or failed."""


@dataclass
class SweepEnded(SweepMessage):
    """The sweep reached its trials: the best trial and the parameter importances."""


SWEEP_BRIDGE: dict[str, type[SweepMessage]] = {
    "sweep_started": SweepStarted,
    "trial_started": TrialStarted,
    "trial_progress": TrialReported,
    "trial_done": TrialEnded,
    "sweep_finished": SweepEnded,
}
"""Sweep event kind (`SweepEvent.kind`) -> the message that carries it."""


def for_sweep_event(event: SweepEvent) -> SweepMessage:
    """The message that carries a sweep event to the UI."""
    return SWEEP_BRIDGE[event.kind](event)
