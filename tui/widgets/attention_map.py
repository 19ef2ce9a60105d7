"""`AttentionMap`: where a translation model looked, as a heatmap of coloured blocks.

One row per output token (its label on the left), one column per source token (its label on
top, cut to the column width); each cell is shaded by the attention weight, from dark (0) to
bright orange (1). Rows sum to 1 over the source.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

SHADES = " ░▒▓█"
"""Block characters from no weight to all of it (readable without colour too)."""


@dataclass(frozen=True)
class AttentionData:
    """What to draw: source tokens (columns), output tokens (rows) and the weights."""

    source: list[str]
    output: list[str]
    weights: list[list[float]]
    """len(output) rows of len(source) weights."""


def cell_style(weight: float) -> str:
    """A colour from dark grey (0) to bright orange (1)."""
    w = min(max(weight, 0.0), 1.0)
    r, g, b = (int(lo + (hi - lo) * w) for lo, hi in ((40, 255), (40, 170), (48, 0)))
    return f"rgb({r},{g},{b})"


def render_attention(data: AttentionData, max_label: int = 12, max_col: int = 8) -> Text:
    """The heatmap as Rich text (see the module docstring)."""
    label_w = min(max((len(t) for t in data.output), default=1), max_label) + 1
    widths = [min(max(len(t), 2), max_col) + 1 for t in data.source]
    text = Text(" " * label_w)
    for token, width in zip(data.source, widths, strict=True):
        text.append(token[: width - 1].ljust(width), style="bold")
    text.append("\n")
    for token, row in zip(data.output, data.weights, strict=True):
        text.append(token[: label_w - 1].ljust(label_w), style="bold cyan")
        for weight, width in zip(row, widths, strict=True):
            shade = SHADES[round(min(max(weight, 0.0), 1.0) * (len(SHADES) - 1))]
            text.append(shade * (width - 1), style=cell_style(weight))
            text.append(" ")
        text.append("\n")
    return text


class AttentionMap(Static):
    """Draws `data` as a heatmap; an explanation when there is nothing to draw."""

    data: reactive[AttentionData | None] = reactive(None)
    """The attention to draw (None: show `empty_message`)."""

    empty_message: reactive[str] = reactive("translate a sentence to see where the model looks")
    """Shown when there is no attention to draw."""

    def watch_data(self) -> None:
        self._redraw()

    def watch_empty_message(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        if self.data is None or not self.data.weights:
            self.update(Text(self.empty_message, style="dim"))
        else:
            self.update(render_attention(self.data))
