"""Play for sentiment checkpoints: type or paste a review, see the verdict with a probability
bar and the review with each word coloured by the attention the model paid to it.

The checkpoint is loaded in a thread worker (`SentimentPredictor`); classifying one review takes
milliseconds, so it runs on the UI thread when asked (ctrl+g or the button). ctrl+n puts the
next example review (English or Chinese, matching the model) in the box and classifies it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Label, Static, TextArea

from tui.screens.model_play import ModelPlayScreen, metrics_text

EXAMPLES = {
    "words": (
        "A wonderful film: the acting is superb and the story kept me hooked to the end.",
        "Two hours of my life I will never get back. Boring, predictable and badly acted.",
        "The first half drags, but the ending is brilliant and moving. Worth seeing.",
        "I wanted to love it; the cast is great, yet the script is a mess and nothing works.",
    ),
    "chars": (
        "房间干净整洁，服务热情周到，早餐也很丰富，下次还会再来。",
        "设施陈旧，隔音很差，前台态度冷淡，非常失望。",
        "位置不错，交通方便，但是房间有点小，价格偏贵。",
        "酒店环境很好，床很舒服，性价比高，推荐！",
    ),
}
"""Example reviews per tokenizer (hand-written, not from the data sets)."""

METRICS = (
    ("test_accuracy", "test accuracy"),
    ("test_f1", "test F1"),
    ("val_accuracy", "val accuracy"),
)
"""Checkpoint metric -> label, in the order shown."""

BAR_WIDTH = 30


def probability_bar(positive: float, width: int = BAR_WIDTH) -> Text:
    """``negative ████████░░░░ positive``: the filled part is the probability of positive."""
    filled = round(positive * width)
    bar = Text("negative ", style="red")
    bar.append("█" * filled, style="green")
    bar.append("░" * (width - filled), style="red")
    bar.append(" positive", style="green")
    return bar


def attention_text(text: str, tokens: list[tuple[str, int, int, float | None]]) -> Text:
    """`text` with each token's background as bright as its attention weight (scaled to the
    largest); tokens without a weight, and text between tokens, stay plain."""
    out = Text()
    weights = [w for *_, w in tokens if w is not None]
    top = max(weights) if weights else 0.0
    position = 0
    for _, start, end, weight in tokens:
        out.append(text[position:start])
        if weight is None or top <= 0:
            out.append(text[start:end])
        else:
            level = weight / top
            shade = int(40 + 215 * level)
            style = f"{'black' if level > 0.5 else 'white'} on rgb({shade},{shade // 2},0)"
            out.append(text[start:end], style=style)
        position = end
    out.append(text[position:])
    return out


class SentimentPlayScreen(ModelPlayScreen):
    """The review and its buttons on the left; verdict, bar and coloured words on the right."""

    HELP = """\
### Play: sentiment

Type or paste a review and press **ctrl+g** (or *Classify*); **ctrl+n** puts the next example
review in the box. The bar shows the probability the model gives to *positive*. With an
attention model, the review is drawn with each word's background as bright as the attention
the model paid to it (scaled to the most attended word): those words weighed most in the
verdict. English models read lower-cased words and punctuation; Chinese models read characters.

Words the model never saw are read as `<unk>`; a review of only unknown words still gets a
verdict, but the note says it means little. Long reviews are cut to the length the
model was trained with, keeping the beginning and the end.

**ctrl+t** (or **i** outside the review box) opens the inspector on this review: integrated
gradients beside the attention, and whether removing the words they point at changes the verdict.
"""

    BINDINGS = [
        Binding("ctrl+g", "classify", "Classify", priority=True),
        Binding("ctrl+n", "example", "Example", priority=True),
        Binding("ctrl+t", "inspect", "Inspect", priority=True),
        Binding("i", "inspect", "Inspect", show=False),
        Binding("escape", "back", "Back"),
    ]

    task_name = "sentiment"

    DEFAULT_CSS = """
    SentimentPlayScreen #review { height: 12; }
    SentimentPlayScreen #verdict, SentimentPlayScreen #sentiment-notes { height: auto; }
    SentimentPlayScreen #attention-scroll { height: 1fr; margin: 1 0 0 0; }
    """

    def __init__(self, checkpoint: str | Path, predictor: Any = None) -> None:
        """Play with a sentiment checkpoint.

        Args:
            checkpoint: the `.pt` file.
            predictor: an already loaded `SentimentPredictor` (or a stand-in with `config`,
                `vocab.kind`, `metrics`, `has_attention` and `predict`); by default it is
                loaded in a worker.
        """
        super().__init__(checkpoint, predictor)
        self.last_prediction: Any = None
        """The `Prediction` shown now (tests read it)."""
        self.example_index = -1
        """The example review shown last (-1: none yet)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="play-body"):
            with VerticalScroll(id="play-controls", classes="panel"):
                yield TextArea("", id="review", soft_wrap=True, show_line_numbers=False)
                with Horizontal(id="play-buttons"):
                    yield Button("Classify", id="classify", variant="primary")
                    yield Button("Example", id="example")
                yield Label("Metrics", classes="hint")
                yield Static("", id="sentiment-metrics")
            with Vertical(id="play-output", classes="panel"):
                yield Static("", id="verdict")
                with VerticalScroll(id="attention-scroll"):
                    yield Static("", id="attention-text")
                yield Static("", id="sentiment-notes")
                yield Static("", id="play-status", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#play-controls").border_title = "Review"
        self.query_one("#play-output").border_title = "Verdict and attention"

    # -- loading -----------------------------------------------------------------------------

    @property
    def predictor(self) -> Any:
        """The loaded `SentimentPredictor` (None until then)."""
        return self.model

    def model_ready(self, description: str) -> None:
        metrics = metrics_text(self.predictor.metrics, METRICS)
        self.query_one("#sentiment-metrics", Static).update(metrics)
        self.query_one("#review", TextArea).focus()

    # -- classifying -------------------------------------------------------------------------

    @on(Button.Pressed, "#classify")
    def action_classify(self) -> None:
        """Classify the review in the box and draw the verdict and the attention."""
        if self.predictor is None:
            return
        text = self.query_one("#review", TextArea).text
        status = self.query_one("#play-status", Static)
        try:
            result = self.predictor.predict(text)
        except ValueError as exc:
            status.update(Text(str(exc), style="red"))
            return
        self.last_prediction = result
        colour = "green" if result.label == "positive" else "red"
        verdict = Text.assemble(
            (result.label, f"bold {colour}"), f"  {result.probability:.1%}\n",
            probability_bar(result.positive),
        )  # fmt: skip
        self.query_one("#verdict", Static).update(verdict)
        drawn = attention_text(text, result.tokens)
        self.query_one("#attention-text", Static).update(drawn)
        notes = [result.note] if result.note else []
        if not self.predictor.has_attention:
            notes.append("this model pools the last state: it has no attention to show")
        else:
            top = sorted(result.tokens, key=lambda t: -(t[3] or 0.0))[:5]
            notes.append("most attended: " + ", ".join(f"{t[0]} {t[3]:.2f}" for t in top))
        self.query_one("#sentiment-notes", Static).update(Text("\n".join(notes), style="yellow"))
        status.update(f"{len(result.tokens)} tokens read · {result.unknown} unknown")

    @on(Button.Pressed, "#example")
    def action_example(self) -> None:
        """Put the next example review (in the model's language) in the box and classify it."""
        if self.predictor is None:
            return
        examples = EXAMPLES[self.predictor.vocab.kind]
        self.example_index = (self.example_index + 1) % len(examples)
        self.query_one("#review", TextArea).text = examples[self.example_index]
        self.action_classify()

    def action_inspect(self) -> None:
        """Open the inspector (saliency, faithfulness, trajectories) on the review in the box."""
        from tui.screens.saliency import SaliencyScreen

        text = self.query_one("#review", TextArea).text
        self.app.push_screen(SaliencyScreen(self.checkpoint, self.predictor, text))
