"""The part the Play screens share: the model object (generator, predictor, translator,
forecaster: the task's player) is loaded from the checkpoint in a thread worker, and the status
line says so; `metrics_text` draws the checkpoint's metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState


def metrics_text(
    metrics: dict[str, Any],
    rows: Sequence[tuple[str, str]],
    width: int = 16,
    spec: str = ".1%",
) -> Text:
    """One line per (key, label) of `rows` whose metric is a number: the label (dim, `width`
    columns), then the value in the format `spec`; a dim note when none is."""
    text = Text()
    for key, label in rows:
        if isinstance(metrics.get(key), (int, float)):
            text.append(f"{label:{width}}", style="dim")
            text.append(f"{metrics[key]:{spec}}\n")
    if not text:
        text.append("no metrics in this checkpoint", style="dim")
    return text


class ModelPlayScreen(Screen[None]):
    """A Play screen with a `#play-status` line and a model object loaded off the UI thread.

    Subclasses name their `task_name` (and `player_options`), or build the object otherwise
    (`build_model`, `describe`), and set up what needs it (`model_ready`). Textual runs the
    `on_mount` of every class, the subclass's first, so a subclass's `on_mount` only sets up
    its own widgets.
    """

    task_name: ClassVar[str]
    """The task whose checkpoints the screen plays (`build_model` loads its player)."""
    player_options: ClassVar[dict[str, Any]] = {}
    """Keyword options for the task's player class (e.g. how many answers it lists)."""

    @dataclass
    class Loaded(Message):
        """The model object is ready (loaded in the worker or passed in)."""

        description: str
        """One line about the model."""

    def __init__(self, checkpoint: str | Path, model: Any = None) -> None:
        """Play with `checkpoint` (a `.pt` file); `model`: the object already loaded, if any."""
        super().__init__()
        self.checkpoint = Path(checkpoint)
        """The checkpoint played with."""
        self.model: Any = model
        """The loaded model object (None until the worker has built it)."""

    def on_mount(self) -> None:
        self.sub_title = f"play · {self.checkpoint.parent.name}/{self.checkpoint.name}"
        if self.model is None:
            self.query_one("#play-status", Static).update("loading the model…")
            self.load()
        else:
            self.post_message(self.Loaded(self.describe()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="play")
    def load(self) -> None:
        """Build the model object (torch) off the UI thread."""
        self.model = self.build_model()
        self.post_message(self.Loaded(self.describe()))

    def build_model(self) -> Any:
        """The model object for `checkpoint`: the task's player (torch; runs in a thread)."""
        from tasks.engine.player import load_player

        return load_player(self.checkpoint, self.task_name, **self.player_options)

    def describe(self) -> str:
        """One line about the loaded model: its `describe()`."""
        return str(self.model.describe())

    def ready_text(self, description: str) -> Text:
        """The status line once the model is loaded."""
        return Text.assemble(("ready: ", "green"), description)

    def model_ready(self, description: str) -> None:
        """Set up the widgets that need the model (after the status line says ready)."""

    def on_model_play_screen_loaded(self, message: Loaded) -> None:
        self.query_one("#play-status", Static).update(self.ready_text(message.description))
        self.model_ready(message.description)

    def worker_failed(self) -> None:
        """A "play" worker failed; called before the error is shown."""

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "play" or event.state != WorkerState.ERROR:
            return
        self.worker_failed()
        error = event.worker.error
        text = str(error).strip().splitlines()[0] if error and str(error).strip() else repr(error)
        self.query_one("#play-status", Static).update(Text(f"error: {text}", style="red"))

    def action_back(self) -> None:
        """Back to where the screen was opened from."""
        self.dismiss()

    def stop_work(self) -> None:
        """Nothing streams here (the app calls this on quit)."""
