"""`ArchCard`: how an architecture works (its update equations, paper and scans) and its size.

The parameter count of a classic cell is a formula; a modern core, or any cell in residual
blocks, is built on the meta device and counted (`Architecture.parameter_count`). That takes
milliseconds once torch is loaded, but the first count of some cores imports torch's
decompositions (about a second), so the card counts in a thread worker and caches each result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.reactive import reactive
from textual.widget import Widget
from textual.worker import Worker, WorkerState

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


@dataclass(frozen=True)
class CoreSizes:
    """What the parameter count of a task's recurrent layers depends on."""

    arch: str
    input_size: int
    hidden: int
    layers: int
    bidirectional: bool = False
    block: bool = False
    """Residual blocks (norm -> core -> residual -> MLP)."""
    core: tuple[tuple[str, Any], ...] = ()
    """`make_core`'s options (state_size, heads, ...), as sorted items."""

    @classmethod
    def of(cls, arch: str, input_size: int, hidden: int, layers: int, bidirectional: bool,
           options: dict[str, Any]) -> CoreSizes:  # fmt: skip
        """From a config's `core_options()` (``block`` and the core's options)."""
        core = {k: v for k, v in options.items() if k not in ("block", "scan")}
        input_size = ONE_HOT_VOCAB if one_hot_input(arch) else input_size
        return cls(arch, input_size, hidden, layers, bidirectional, bool(options.get("block")),
                   tuple(sorted(core.items())))  # fmt: skip

    @property
    def by_formula(self) -> bool:
        """A classic cell without blocks: counted without torch."""
        return not ARCHITECTURES[self.arch].modern and not self.block


@dataclass(frozen=True)
class Count:
    """A parameter count and, for a built module, where the parameters are."""

    total: int
    parts: tuple[tuple[str, int], ...] = ()
    """(what, parameters), e.g. ("MLPs of the blocks", 526_336); empty for a formula."""


_COUNTS: dict[CoreSizes, Count | str] = {}
"""Every count made (or the one-line reason it cannot be built)."""


def count_parameters(sizes: CoreSizes) -> Count | str:
    """The count for ``sizes`` (cached), or why the core cannot be built with them."""
    if sizes not in _COUNTS:
        _COUNTS[sizes] = _count(sizes)
    return _COUNTS[sizes]


def cached_count(sizes: CoreSizes) -> Count | str | None:
    """The count if it needs no torch or was made before; None if it must be computed."""
    if sizes.by_formula:
        return count_parameters(sizes)
    return _COUNTS.get(sizes)


def _count(sizes: CoreSizes) -> Count | str:
    arch = ARCHITECTURES[sizes.arch]
    if sizes.by_formula:
        return Count(arch.parameter_count(sizes.input_size, sizes.hidden, sizes.layers,
                                          sizes.bidirectional))  # fmt: skip
    import torch
    from torch import nn

    try:
        with torch.device("meta"):
            layers = arch.build_layers(
                sizes.input_size, sizes.hidden, sizes.layers, bidirectional=sizes.bidirectional,
                block=sizes.block, **dict(sizes.core),
            )  # fmt: skip
    except ValueError as exc:  # CoreError: a combination the core cannot run
        return str(exc)
    parts: dict[str, int] = {}
    for name, module in layers.named_modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if not own:
            continue
        if isinstance(module, (nn.LayerNorm, nn.RMSNorm)):
            part = "norms"
        elif ".mlp." in f".{name}.":
            part = "MLPs of the blocks"
        elif name == "project":
            part = f"input projection {sizes.input_size}→{sizes.hidden}"
        else:
            part = "recurrence"
        parts[part] = parts.get(part, 0) + own
    order = ("recurrence", "MLPs of the blocks", "norms")
    ranked = sorted(parts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else -1)
    return Count(sum(parts.values()), tuple(ranked))


class ArchCard(Widget):
    """Title, explanation, paper, equations, scans and the recurrent layers' parameter count.

    The parent sets the sizes (`arch`, `input_size`, `hidden`, `layers`, `bidirectional`,
    `block`, `core`) and calls `recount`.
    """

    DEFAULT_CSS = """
    ArchCard { height: auto; }
    """

    arch: reactive[str | None] = reactive(None, layout=True)
    """Architecture registry name."""
    input_size: reactive[int | None] = reactive(64)
    """Size of each input vector (the embedding); None when not a valid number."""
    hidden: reactive[int | None] = reactive(512)
    """Hidden units per layer and direction; None when not a valid number."""
    layers: reactive[int | None] = reactive(2)
    """Stacked layers; None when not a valid number."""
    bidirectional: reactive[bool] = reactive(False)
    """Whether each layer also runs right to left."""
    block: reactive[bool] = reactive(False)
    """Whether each layer sits in a residual block with an MLP (the config's ``block``)."""
    core: reactive[dict[str, Any]] = reactive(dict)
    """The core's options from the config (`TrainConfig.core_options`, without ``block``)."""
    counted: reactive[Count | str | None] = reactive(None, layout=True)
    """The count for the current sizes, the reason there is none, or None while counting."""
    _counted_for: CoreSizes | None = None
    """The sizes `counted` belongs to."""

    def sizes(self) -> CoreSizes | None:
        """What the count depends on; None while a size is missing or not positive."""
        sizes = (self.input_size, self.hidden, self.layers)
        if self.arch is None or any(s is None or s <= 0 for s in sizes):
            return None
        options = {**self.core, "block": self.block}
        return CoreSizes.of(self.arch, self.input_size, self.hidden, self.layers,  # type: ignore[arg-type]
                            self.bidirectional, options)  # fmt: skip

    def parameters(self) -> int | None:
        """The count for the current sizes, computed here if needed (None if there is none)."""
        sizes = self.sizes()
        if sizes is None:
            return None
        count = count_parameters(sizes)
        return count.total if isinstance(count, Count) else None

    def recount(self) -> None:
        """Show the count for the current sizes: at once if known, else from a thread (the
        same architecture's previous count stays meanwhile, so typing does not flicker)."""
        sizes = self.sizes()
        known = cached_count(sizes) if sizes is not None else None
        previous = self._counted_for
        if known is not None or previous is None or sizes is None or previous.arch != sizes.arch:
            self.counted, self._counted_for = known, sizes if known is not None else None
        if sizes is not None and known is None:
            self._count_in_thread(sizes)
        self.refresh(layout=True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="arch-count")
    def _count_in_thread(self, sizes: CoreSizes) -> tuple[CoreSizes, Count | str]:
        return sizes, count_parameters(sizes)

    @on(Worker.StateChanged)
    def _counted(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "arch-count" or event.state != WorkerState.SUCCESS:
            return
        sizes, count = event.worker.result
        if sizes == self.sizes():
            self.counted, self._counted_for = count, sizes

    # -- drawing -----------------------------------------------------------------------------

    def render(self) -> RenderableType:
        if self.arch is None:
            return Text("Choose an architecture.", style="dim")
        arch = ARCHITECTURES[self.arch]
        parts: list[RenderableType] = [Text(arch.summary, style="italic")]
        if arch.paper:
            parts.append(Text.assemble(("paper  ", "dim"), arch.paper))
        parts += [
            Text(""),
            self._count_line(),
            self._breakdown(),
            Text(""),
            self._scans(),
            Panel(
                Text(arch.update_equations()),
                title="the core" if arch.modern else "the cell",
                title_align="left",
                border_style="dim",
                expand=True,
                padding=(0, 1),
            ),
            Text("σ sigmoid · ⊙ element-wise product · x_t input · h_t hidden state", style="dim"),
        ]
        return Group(*parts)

    def _scans(self) -> Text:
        """Which ways the recurrence runs, and where to watch them."""
        assert self.arch is not None
        arch = ARCHITECTURES[self.arch]
        text = Text.assemble(("scans  ", "dim"))
        if not arch.parallel:
            text.append("sequential only", style="yellow")
            text.append(
                ": h_{t-1} goes through a nonlinearity, so the steps run one after another",
                style="dim",
            )
            return text
        text.append(" · ".join(arch.scans), style="green")
        text.append(f" (default {arch.scans[-1]}) · f3 shows them side by side", style="dim")
        return text

    def _count_line(self) -> Text:
        line = Text()
        line.append("Recurrent layers: ", style="bold")
        if self.sizes() is None:
            line.append("enter positive sizes below", style="red")
        elif self.counted is None:
            line.append("counting…", style="dim")
        elif isinstance(self.counted, str):
            line.append(self.counted, style="red")
        else:
            line.append(human_count(self.counted.total), style="bold cyan")
            line.append(" parameters")
            if self.block:
                line.append(" in residual blocks (set on the next screen)", style="dim")
        return line

    def _breakdown(self) -> RenderableType:
        """Where the parameters are: a formula per layer type, or the built module's parts."""
        assert self.arch is not None
        sizes = self.sizes()
        if sizes is None or not isinstance(self.counted, Count):
            return Text("")
        if self.counted.parts:
            text = Text(style="dim")
            for i, (part, n) in enumerate(self.counted.parts):
                text.append(" + " if i else "= ")
                text.append(f"{n:,}", style="cyan")
                text.append(f" {part}")
            text.append(" (+ the embedding and output head: they depend on the data)")
            return text
        if one_hot_input(self.arch):
            h, v = self.hidden, ONE_HOT_VOCAB
            return Text(
                f"W_xh {h}×{v} + W_hh {h}×{h} + b_h {h}   (one-hot input: {v} characters "
                "assumed; the output layer W_hy is the task's)",
                style="dim",
            )
        table = Table.grid(padding=(0, 1))
        self._formula(table)
        table.add_row(
            Text(""), Text("+ embedding and output head (they depend on the data)", style="dim")
        )
        return table

    def _formula(self, table: Table) -> None:
        """``gates·h×x + gates·h×h + 2·gates·h`` per layer and direction (classic cells)."""
        assert self.arch is not None
        gates = CHUNKS[ARCHITECTURES[self.arch].cell]
        h, x = self.hidden, self.input_size
        directions = 2 if self.bidirectional else 1
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
