"""Play for translation checkpoints: type a sentence, get its translation (greedy or beam
search) and a heatmap of where the model looked for each word it wrote.

The checkpoint is loaded in a thread worker (`Translator`); translating one sentence takes
milliseconds, so it runs on the UI thread when asked (ctrl+g, Enter or the button).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from tui.screens.model_play import ModelPlayScreen, metrics_text
from tui.widgets.attention_map import AttentionData, AttentionMap
from tui.widgets.field import Field

DECODERS = (("greedy (most likely word each step)", "greedy"), ("beam search", "beam"))
"""Select label -> decoding."""

METRICS = (
    ("test_bleu", "test BLEU (beam)"),
    ("test_bleu_greedy", "test BLEU (greedy)"),
    ("test_bleu_cased", "test BLEU cased"),
    ("val_bleu", "val BLEU (greedy)"),
)
"""Checkpoint metric -> label, in the order shown."""


class TranslatePlayScreen(ModelPlayScreen):
    """The sentence and the decoding on the left; translation and attention on the right."""

    HELP = """\
### Play: translation

Type a sentence in the model's source language and press **Enter** (or **ctrl+g**). **greedy**
takes the most likely word at each step; **beam search** keeps the best few partial
translations (the **beam width**) and returns the one with the best length-normalised score.

The heatmap shows, for each word the model wrote (rows), how much attention it paid to each
source word (columns): bright is a lot. Words the model does not know are read as `<unk>` and
listed under the translation. Decoding always stops: at the end-of-sentence token, or at a
length limit (1.5 × the source length + 10).
"""

    BINDINGS = [
        Binding("ctrl+g", "translate", "Translate", priority=True),
        Binding("escape", "back", "Back"),
    ]

    task_name = "translation"

    def __init__(self, checkpoint: str | Path, translator: Any = None) -> None:
        """Play with a translation checkpoint.

        Args:
            checkpoint: the `.pt` file.
            translator: an already loaded `Translator`; by default it is loaded in a worker.
        """
        super().__init__(checkpoint, translator)
        self.last_translation: Any = None
        """The `Translation` shown now (tests read it)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="play-body"):
            with VerticalScroll(id="play-controls", classes="panel"):
                yield Label("Sentence", classes="hint")
                yield Input(placeholder="loading the model…", id="source")
                yield Select(DECODERS, value="beam", allow_blank=False, id="decoder")
                yield Field("beam", "Beam width", 5, "int", inline=True)
                with Horizontal(id="play-buttons"):
                    yield Button("Translate", id="translate", variant="primary")
                yield Label("Metrics", classes="hint")
                yield Static("", id="translate-metrics")
            with Vertical(id="play-output", classes="panel"):
                yield Static("", id="translation")
                yield Static("", id="translate-notes")
                with VerticalScroll(id="attention-scroll"):
                    yield AttentionMap(id="attention")
                yield Static("", id="play-status", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#play-controls").border_title = "Translate"
        self.query_one("#play-output").border_title = "Translation and attention"

    # -- loading -----------------------------------------------------------------------------

    @property
    def translator(self) -> Any:
        """The loaded `Translator` (None until then)."""
        return self.model

    def model_ready(self, description: str) -> None:
        t = self.translator
        self.query_one("#source", Input).placeholder = f"a sentence in {t.source_language}"
        self.query_one("#field-beam", Field).text = max(t.config.beam, 2)
        metrics = metrics_text(t.metrics, METRICS, width=20, spec=".1f")
        self.query_one("#translate-metrics", Static).update(metrics)
        attention = self.query_one(AttentionMap)
        if not t.has_attention:
            attention.empty_message = "this model has no attention: nothing to draw"
        self.query_one("#source", Input).focus()

    # -- translating -------------------------------------------------------------------------

    def beam_width(self) -> int | None:
        """1 for greedy, else the beam width typed (None, with the error shown, if invalid)."""
        if self.query_one("#decoder", Select).value == "greedy":
            return 1
        field = self.query_one("#field-beam", Field)
        try:
            width = field.parse()
            field.error = "" if 1 <= width <= 50 else "between 1 and 50"
        except ValueError as exc:
            field.error = str(exc)
        return None if field.error else width

    @on(Input.Submitted, "#source")
    @on(Button.Pressed, "#translate")
    def action_translate(self) -> None:
        """Translate the sentence typed with the chosen decoding."""
        if self.translator is None:
            return
        width = self.beam_width()
        if width is None:
            return
        text = self.query_one("#source", Input).value
        status = self.query_one("#play-status", Static)
        try:
            result = self.translator.translate(text, beam=width)
        except ValueError as exc:
            status.update(Text(str(exc), style="red"))
            return
        self.last_translation = result
        self.query_one("#translation", Static).update(Text(result.text, style="bold"))
        notes = Text("\n".join(result.notes), style="yellow") if result.notes else ""
        self.query_one("#translate-notes", Static).update(notes)
        attention = self.query_one(AttentionMap)
        if result.attention is None:
            attention.data = None
        else:
            rows = [*result.tokens, "<eos>"] if result.finished else list(result.tokens)
            attention.data = AttentionData(result.source_tokens, rows, result.attention)
        how = "greedy" if width == 1 else f"beam {width}"
        status.update(f"{how} · {len(result.tokens)} tokens · log p {result.log_prob:.2f}")

    @on(Select.Changed, "#decoder")
    def _decoder_changed(self) -> None:
        self.query_one("#field-beam", Field).disabled = (
            self.query_one("#decoder", Select).value == "greedy"
        )
