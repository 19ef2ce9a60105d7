"""Play: use a trained model. Each task's registry entry names its play screen (`PLAY_SCREENS`).

Character generation is here: a prime, a strategy (greedy, sampling, top-k, top-p), its
settings and a length; a thread worker streams characters in small batches as they are sampled,
and the output can be stopped and coloured by the probability of each chosen character.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, Select, Static, Switch, TextArea

from tasks.engine.runs import read_summary
from tasks.registry import TASKS
from tui.messages import TextSampled
from tui.screens import screen_class
from tui.screens.model_play import ModelPlayScreen
from tui.widgets.field import Field
from tui.widgets.generated_text import GeneratedText, legend

BATCH_S = 0.08
"""The sampling worker posts what it has at most this often (the text redraws that often)."""

STRATEGIES = (
    ("top-p (nucleus)", "top-p"),
    ("top-k", "top-k"),
    ("sample (temperature only)", "sample"),
    ("greedy (most likely)", "greedy"),
)
"""Select label -> `CharGenerator.stream` strategy."""


def checkpoint_task(checkpoint: Path) -> str:
    """The task a checkpoint belongs to, from its run folder's summary (no torch needed)."""
    return str(read_summary(checkpoint.parent).get("task", "charlm"))


class CharPlayScreen(ModelPlayScreen):
    """Prime, strategy and settings on the left; the text streams in on the right."""

    HELP = """\
### Play: character generation

The model reads the **prime** text, then writes one character at a time. **greedy** always
takes the most likely character (and soon repeats itself); **sample** draws from the softmax
at the given **temperature** (lower: safer, higher: wilder); **top-k** draws from the k most
likely; **top-p** from the smallest set whose probabilities add up to p.

With *colour by confidence* on, each character is coloured by the probability the model gave
it when it was chosen: green is confident, red a long shot.

**ctrl+t** (or **i** outside the text boxes) opens the inspector: what the model's units store
while it reads the validation text.
"""

    BINDINGS = [
        Binding("ctrl+g", "generate", "Generate", priority=True),
        Binding("escape", "stop_or_back", "Stop/back"),
        Binding("ctrl+o", "toggle_colour", "Colour"),
        Binding("ctrl+t", "inspect", "Inspect", priority=True),
        Binding("i", "inspect", "Inspect", show=False),
    ]

    task_name = "charlm"

    generating: reactive[bool] = reactive(False)
    """A stream is running."""

    def __init__(self, checkpoint: str | Path, generator: Any = None) -> None:
        """Play with a checkpoint.

        Args:
            checkpoint: the `.pt` file.
            generator: an already loaded `CharGenerator` (or a stand-in with the same
                `stream`, `config` and `vocab`); by default the checkpoint is loaded in a worker.
        """
        super().__init__(checkpoint, generator)
        self.stop_event = threading.Event()
        """Set to stop the current stream."""
        self.started_at = 0.0
        """When the current stream started (for chars/s)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="play-body"):
            with VerticalScroll(id="play-controls", classes="panel"):
                yield Label("Prime text", classes="hint")
                yield TextArea("ROMEO:\n", id="prime", soft_wrap=True, show_line_numbers=False)
                yield Label("Strategy", classes="hint")
                yield Select(STRATEGIES, value="top-p", allow_blank=False, id="strategy",
                             compact=True)  # fmt: skip
                yield Field("temperature", "Temperature", 0.8, "float", inline=True)
                yield Field("k", "k (top-k)", 10, "int", inline=True)
                yield Field("p", "p (top-p)", 0.9, "float", inline=True)
                yield Field("length", "Length", 500, "int", inline=True)
                yield Field("seed", "Seed", 0, "int", inline=True)
                with Horizontal(id="colour-row"):
                    yield Switch(True, id="colour")
                    yield Label("colour by confidence", classes="hint")
                with Horizontal(id="play-buttons"):
                    yield Button("Generate", id="generate", variant="primary")
                    yield Button("Stop", id="stop", variant="error", disabled=True)
            with Vertical(id="play-output", classes="panel"):
                with VerticalScroll(id="output-scroll"):
                    yield GeneratedText(id="output")
                yield Static(legend(), id="legend")
                yield Static("", id="play-status", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#play-controls").border_title = "Prompt"
        self.query_one("#play-output").border_title = "Output"
        self._sync_fields()

    # -- settings ----------------------------------------------------------------------------

    def _sync_fields(self) -> None:
        """Only the settings the strategy uses are enabled."""
        strategy = self.query_one("#strategy", Select).value
        self.query_one("#field-k", Field).disabled = strategy != "top-k"
        self.query_one("#field-p", Field).disabled = strategy != "top-p"
        self.query_one("#field-temperature", Field).disabled = strategy == "greedy"
        self.settings()

    def settings(self) -> dict[str, Any] | None:
        """The stream's arguments, or None (errors shown inline) when one is invalid."""
        values: dict[str, Any] = {}
        ok = True
        checks: dict[str, Callable[[Any], str]] = {
            "temperature": lambda v: "" if v > 0 else "must be more than 0",
            "k": lambda v: "" if v >= 1 else "must be at least 1",
            "p": lambda v: "" if 0 < v <= 1 else "must be in (0, 1]",
            "length": lambda v: "" if 1 <= v <= 100_000 else "between 1 and 100000",
            "seed": lambda v: "",
        }
        for name, check in checks.items():
            field = self.query_one(f"#field-{name}", Field)
            try:
                value = field.parse()
                error = "" if field.disabled else check(value)
            except ValueError as exc:
                value, error = None, "" if field.disabled else str(exc)
            field.error = error
            ok = ok and not error
            values[name] = value
        prime = self.query_one("#prime", TextArea).text
        if not prime:
            ok = False
        self.query_one("#generate", Button).disabled = not ok or self.generating
        if not ok:
            return None
        values["strategy"] = self.query_one("#strategy", Select).value
        values["prime"] = prime
        return values

    @on(Select.Changed, "#strategy")
    def _strategy_changed(self) -> None:
        self._sync_fields()

    @on(Field.Edited)
    @on(TextArea.Changed, "#prime")
    def _edited(self) -> None:
        self.settings()

    @on(Switch.Changed, "#colour")
    def _colour_changed(self, event: Switch.Changed) -> None:
        self.query_one(GeneratedText).colour = event.value
        self.query_one("#legend").display = event.value

    def action_toggle_colour(self) -> None:
        """Colour by confidence on or off."""
        switch = self.query_one("#colour", Switch)
        switch.value = not switch.value

    # -- workers -----------------------------------------------------------------------------

    @property
    def generator(self) -> Any:
        """The loaded `CharGenerator` (made in the worker, reused; None until then)."""
        return self.model

    @work(thread=True, exclusive=True, exit_on_error=False, group="play")
    def sample(self, settings: dict[str, Any], stop: threading.Event) -> None:
        """Stream characters, posting them in small batches, until done or `stop` is set."""
        if self.model is None:
            self.model = self.build_model()
        stream = self.generator.stream(**settings)
        batch: list[tuple[str, float]] = []
        last = time.monotonic()
        for piece in stream:
            if stop.is_set():
                break
            batch.append(piece)
            if time.monotonic() - last >= BATCH_S:
                self.post_message(TextSampled(batch))
                batch, last = [], time.monotonic()
        self.post_message(TextSampled(batch, finished=True))

    def ready_text(self, description: str) -> Text:
        """Ready, and how to generate."""
        return super().ready_text(description).append(" · ctrl+g to generate")

    def model_ready(self, description: str) -> None:
        self.query_one("#output-scroll").border_subtitle = description

    def on_text_sampled(self, message: TextSampled) -> None:
        output = self.query_one(GeneratedText)
        output.extend(message.pieces)
        self.query_one("#output-scroll", VerticalScroll).scroll_end(animate=False)
        count = len(output.pieces)
        mean = output.mean_probability()
        status = f"{count:,} chars"
        if mean is not None:
            status += f" · mean p {mean:.2f}"
        if message.finished:
            self.generating = False
            status += " · done"
        else:
            rate = count / max(time.monotonic() - self.started_at, 1e-6)
            status += f" · {rate:,.0f} chars/s"
        self.query_one("#play-status", Static).update(status)

    def worker_failed(self) -> None:
        """A failed stream is not running any more."""
        self.generating = False

    # -- actions -----------------------------------------------------------------------------

    @on(Button.Pressed, "#generate")
    def action_generate(self) -> None:
        """Sample a new text with the current settings."""
        settings = self.settings()
        if settings is None or self.generating:
            return
        self.stop_event.set()
        self.stop_event = threading.Event()
        self.query_one(GeneratedText).clear(settings["prime"])
        self.started_at = time.monotonic()
        self.generating = True
        self.query_one("#play-status", Static).update("sampling…")
        self.sample(settings, self.stop_event)

    @on(Button.Pressed, "#stop")
    def action_stop(self) -> None:
        """Stop the stream (what was written stays)."""
        self.stop_event.set()

    def action_stop_or_back(self) -> None:
        """Stop a running stream, else go back."""
        if self.generating:
            self.action_stop()
        else:
            self.dismiss()

    def watch_generating(self, generating: bool) -> None:
        if self.is_mounted:
            self.query_one("#stop", Button).disabled = not generating
            self.settings()

    def action_inspect(self) -> None:
        """Open the hidden-state inspector on this checkpoint."""
        from tui.screens.inspect import InspectScreen

        self.app.push_screen(InspectScreen(self.checkpoint))

    def stop_work(self) -> None:
        """Stop sampling (the app calls this on quit)."""
        self.stop_event.set()

    def on_unmount(self) -> None:
        self.stop_event.set()


PLAY_SCREENS: dict[str, str] = {t.name: t.play_screen for t in TASKS.values() if t.play_screen}
"""Task name -> "module:Class" of the screen that plays with its checkpoints (from the registry;
imported when a checkpoint is played)."""


def play_screen_for(checkpoint: str | Path) -> Screen[Any]:
    """The play screen for a checkpoint's task; `ValueError` when the task has none (yet)."""
    path = Path(checkpoint)
    if not path.is_file():
        raise ValueError(f"checkpoint not found: {path}")
    task = checkpoint_task(path)
    if task not in PLAY_SCREENS:
        raise ValueError(f"there is no Play screen for {task} checkpoints yet")
    return screen_class(PLAY_SCREENS[task])(path)
