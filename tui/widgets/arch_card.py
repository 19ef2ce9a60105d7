"""`ArchCard`: how an architecture works (its cell's equations) and its size, computed live."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from models.registry import ARCHITECTURES, CHUNKS

ONE_HOT_VOCAB = 65
"""Characters in Tiny Shakespeare: the input size of the one-hot NumPy RNN on the default data."""


def one_hot_input(arch_name: str) -> bool:
    """True for the NumPy RNN, which reads one-hot characters instead of an embedding."""
    return ARCHITECTURES[arch_name].backends == ("numpy",)


def human_count(n: int) -> str:
    """`2,379,776 (2.38 M)`."""
    if n >= 1_000_000:
        return f"{n:,} ({n / 1e6:.2f} M)"
    if n >= 10_000:
        return f"{n:,} ({n / 1e3:.0f} k)"
    return f"{n:,}"


class ArchCard(Widget):
    """Title, explanation, equations and the recurrent core's parameter count."""

    DEFAULT_CSS = """
    ArchCard { height: auto; }
    """

    arch: reactive[str | None] = reactive(None)
    """Architecture registry name."""
    input_size: reactive[int | None] = reactive(64)
    """Size of each input vector (the embedding); None when not a valid number."""
    hidden: reactive[int | None] = reactive(512)
    """Hidden units per layer and direction; None when not a valid number."""
    layers: reactive[int | None] = reactive(2)
    """Stacked layers; None when not a valid number."""
    bidirectional: reactive[bool] = reactive(False)
    """Whether each layer also runs right to left."""

    def parameters(self) -> int | None:
        """The recurrent core's parameter count for the current sizes (None if a size is bad)."""
        if self.arch is None:
            return None
        sizes = (self.input_size, self.hidden, self.layers)
        if any(s is None or s <= 0 for s in sizes):
            return None
        arch = ARCHITECTURES[self.arch]
        input_size = ONE_HOT_VOCAB if one_hot_input(self.arch) else self.input_size
        return arch.parameter_count(input_size, self.hidden, self.layers, self.bidirectional)

    def render(self) -> RenderableType:
        if self.arch is None:
            return Text("Choose an architecture.", style="dim")
        arch = ARCHITECTURES[self.arch]
        parts: list[RenderableType] = [
            Text(arch.summary, style="italic"),
            Text(""),
            Panel(
                Text(arch.equations),
                title="the cell",
                title_align="left",
                border_style="dim",
                expand=True,
                padding=(0, 1),
            ),
            Text("σ sigmoid · ⊙ element-wise product · x_t input · h_t hidden state", style="dim"),
            Text(""),
        ]
        count = self.parameters()
        line = Text()
        line.append("Recurrent core: ", style="bold")
        if count is None:
            line.append("enter positive sizes below", style="red")
        else:
            line.append(human_count(count), style="bold cyan")
            line.append(" parameters")
        parts.append(line)
        parts.append(self._breakdown())
        return Group(*parts)

    def _breakdown(self) -> RenderableType:
        """Where the parameters are, as a one-line formula per layer type."""
        assert self.arch is not None
        if self.parameters() is None:
            return Text("")
        if one_hot_input(self.arch):
            h, v = self.hidden, ONE_HOT_VOCAB
            return Text(
                f"W_xh {h}×{v} + W_hh {h}×{h} + b_h {h}   (one-hot input: {v} characters "
                "assumed; the output layer W_hy is the task's)",
                style="dim",
            )
        arch = ARCHITECTURES[self.arch]
        gates = CHUNKS[arch.cell]
        h, x = self.hidden, self.input_size
        directions = 2 if self.bidirectional else 1
        table = Table.grid(padding=(0, 1))
        table.add_row(
            Text("layer 1", style="dim"),
            Text(f"{directions}× ({gates}·{h}×{x} + {gates}·{h}×{h} + 2·{gates}·{h})", style="dim"),
        )
        if self.layers and self.layers > 1:
            rest = "layer 2" if self.layers == 2 else f"layers 2-{self.layers}"
            table.add_row(
                Text(rest, style="dim"),
                Text(
                    f"{directions}× ({gates}·{h}×{h * directions} + {gates}·{h}×{h} "
                    f"+ 2·{gates}·{h}) each",
                    style="dim",
                ),
            )
        table.add_row(
            Text(""), Text("+ embedding and output head (they depend on the data)", style="dim")
        )
        return table
