"""`GeneratedText`: the prime and the sampled characters, optionally coloured by confidence."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

CONFIDENCE = (
    (0.9, "#4ade80"),
    (0.6, "#a3e635"),
    (0.3, "#facc15"),
    (0.1, "#fb923c"),
    (0.0, "#f87171"),
)
"""(lowest probability, colour) bands of the chosen character's probability, high to low."""


def confidence_color(probability: float) -> str:
    """The colour of a character chosen with this probability."""
    for low, color in CONFIDENCE:
        if probability >= low:
            return color
    return CONFIDENCE[-1][1]


def legend() -> Text:
    """`p ■≥.9 ■≥.6 ■≥.3 ■≥.1 ■<.1`: the colour of each band of p(chosen)."""
    text = Text("p ", style="dim")
    for low, color in CONFIDENCE:
        label = f"≥{low:g}" if low > 0 else f"<{CONFIDENCE[-2][0]:g}"
        text.append("■", style=color)
        text.append(f"{label.replace('0.', '.')} ", style="dim")
    return text


class GeneratedText(Widget):
    """Prime text (dim) followed by the sampled text; redraws when pieces are added."""

    DEFAULT_CSS = """
    GeneratedText { height: auto; }
    """

    prime: reactive[str] = reactive("")
    """The text the model read first."""
    colour: reactive[bool] = reactive(True)
    """Colour each sampled character by the probability it was chosen with."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pieces: list[tuple[str, float]] = []
        """(character, probability) as sampled."""

    def clear(self, prime: str) -> None:
        """Start over after `prime`."""
        self.pieces = []
        self.prime = prime
        self.refresh(layout=True)

    def extend(self, pieces: list[tuple[str, float]]) -> None:
        """Append sampled characters and redraw."""
        self.pieces.extend(pieces)
        self.refresh(layout=True)

    @property
    def text(self) -> str:
        """The sampled text alone."""
        return "".join(char for char, _ in self.pieces)

    def mean_probability(self) -> float | None:
        """Average probability of the chosen characters (None before any)."""
        if not self.pieces:
            return None
        return sum(p for _, p in self.pieces) / len(self.pieces)

    def render(self) -> RenderableType:
        text = Text(self.prime, style="dim underline")
        if not self.colour:
            text.append(self.text)
            return text
        run, run_color = [], ""
        for char, probability in self.pieces:  # one span per run of equal colour
            color = confidence_color(probability)
            if color != run_color and run:
                text.append("".join(run), style=run_color)
                run = []
            run_color = color
            run.append(char)
        if run:
            text.append("".join(run), style=run_color)
        return text

    def watch_colour(self) -> None:
        self.refresh()
