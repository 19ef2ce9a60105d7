"""Play for names checkpoints: type a surname and watch the most likely languages, each with a
probability bar, change as you type.

The checkpoint is loaded in a thread worker (`tasks.names.player.NamesPlayer`); guessing one
name takes about a millisecond, so every keystroke is answered on the UI thread. ctrl+n puts
the next example surname in the box.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, Static

from tui.screens.model_play import ModelPlayScreen, metrics_text

EXAMPLES = (
    "Dostoevsky", "Nakamura", "O'Neill", "Schmidt", "Rossi", "Nguyen", "Papadopoulos",
    "Kowalski", "García", "Dvořák", "Van der Berg", "MacGregor", "Zhang", "Kim",
)  # fmt: skip
"""Well-known surnames (hand-picked, most of them not in the data set)."""

SHOWN = 5
"""Languages drawn with a bar."""
BAR_WIDTH = 30
METRICS = (
    ("test_accuracy", "test accuracy"),
    ("test_macro_f1", "test macro-F1"),
    ("val_accuracy", "val accuracy"),
)
"""Checkpoint metric -> label, in the order shown."""


def language_bars(top: tuple[tuple[str, float], ...], width: int = BAR_WIDTH) -> Text:
    """One line per language: ``Russian     ██████████░░░░  72.1%``, the first in bold."""
    text = Text()
    pad = max((len(lang) for lang, _ in top), default=0)
    for rank, (language, probability) in enumerate(top):
        filled = round(probability * width)
        text.append(f"{language:<{pad}} ", style="bold" if rank == 0 else "")
        text.append("█" * filled, style="green" if rank == 0 else "cyan")
        text.append("░" * (width - filled), style="dim")
        text.append(f" {probability:6.1%}\n")
    return text


class NamesPlayScreen(ModelPlayScreen):
    """The name box, an example button and the metrics on the left; the languages on the right."""

    HELP = """\
### Play: names

Type a surname: the most likely languages update as you type, each with the probability the
model gives it. **ctrl+n** puts the next example surname in the box.

The model reads names folded to lower-case ASCII, as it was trained (`Dvořák` is read as
`dvorak`). A name with digits, or with characters that are not Latin letters, spaces or
. , ; ' - , gets a message instead of a guess. Characters the model never saw in training are
read as unknown, and the note says so.
"""

    BINDINGS = [
        Binding("ctrl+n", "example", "Example", priority=True),
        Binding("escape", "back", "Back"),
    ]

    task_name = "names"
    player_options = {"top": SHOWN}

    DEFAULT_CSS = """
    NamesPlayScreen #name { margin: 0 0 1 0; }
    NamesPlayScreen #languages, NamesPlayScreen #names-note { height: auto; }
    """

    def __init__(self, checkpoint: str | Path, player: Any = None) -> None:
        """Play with a names checkpoint.

        Args:
            checkpoint: the `.pt` file.
            player: an already loaded `NamesPlayer` (or a stand-in with `describe`, `metrics`
                and `answer`); by default it is loaded in a worker.
        """
        super().__init__(checkpoint, player)
        self.last_guess: Any = None
        """The `Guess` shown now (None when the box is empty or holds no name)."""
        self.example_index = -1
        """The example shown last (-1: none yet)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="play-body"):
            with VerticalScroll(id="play-controls", classes="panel"):
                yield Input(placeholder="a surname, e.g. Dostoevsky", id="name")
                with Horizontal(id="play-buttons"):
                    yield Button("Example", id="example")
                yield Label("Metrics", classes="hint")
                yield Static("", id="names-metrics")
            with Vertical(id="play-output", classes="panel"):
                yield Static("", id="languages")
                yield Static("", id="names-note")
                yield Static("", id="play-status", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#play-controls").border_title = "Surname"
        self.query_one("#play-output").border_title = "Most likely languages"

    # -- loading -----------------------------------------------------------------------------

    @property
    def player(self) -> Any:
        """The loaded `NamesPlayer` (None until then)."""
        return self.model

    def model_ready(self, description: str) -> None:
        self.query_one("#names-metrics", Static).update(metrics_text(self.player.metrics, METRICS))
        name = self.query_one("#name", Input)
        name.focus()
        if name.value:
            self.guess(name.value)

    # -- guessing ----------------------------------------------------------------------------

    @on(Input.Changed, "#name")
    def _typed(self, event: Input.Changed) -> None:
        if self.player is not None:
            self.guess(event.value)

    def guess(self, text: str) -> None:
        """Draw the languages of `text`; an empty box clears them, bad input shows why."""
        languages = self.query_one("#languages", Static)
        note = self.query_one("#names-note", Static)
        if not text.strip():
            self.last_guess = None
            languages.update("")
            note.update(Text("type a surname", style="dim"))
            return
        try:
            result = self.player.answer(text)
        except ValueError as exc:
            self.last_guess = None
            languages.update("")
            note.update(Text(str(exc), style="red"))
            return
        self.last_guess = result
        languages.update(language_bars(result.top))
        remarks = [f"read as {result.read!r}"]
        if result.unknown:
            remarks.append(f"{result.unknown} character(s) never seen in training")
        note.update(Text(" · ".join(remarks), style="yellow" if result.unknown else "dim"))

    @on(Button.Pressed, "#example")
    def action_example(self) -> None:
        """Put the next example surname in the box (typing it updates the guess)."""
        if self.player is None:
            return
        self.example_index = (self.example_index + 1) % len(EXAMPLES)
        name = self.query_one("#name", Input)
        name.value = EXAMPLES[self.example_index]
        name.cursor_position = len(name.value)
