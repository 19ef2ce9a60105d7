"""The architecture screen: pick the cell or core, see how it works and how big it is (f3: its
parallel scan beside the sequential recurrence); returns a choice."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Switch

from models.registry import ARCHITECTURES
from tasks.engine.settings import ConfigError
from tasks.registry import TASKS, default_config
from tui.widgets.arch_card import ArchCard, one_hot_input
from tui.widgets.arch_list import ArchList
from tui.widgets.field import Field


@dataclass(frozen=True)
class ArchChoice:
    """What this screen returns: the architecture and the sizes of its recurrent core."""

    arch: str
    """Architecture registry name."""
    layers: int
    """Stacked layers."""
    hidden: int
    """Hidden units per layer and direction."""
    embed: int
    """Input (embedding) size."""
    bidirectional: bool = False
    """Run each layer in both directions (tasks that read the whole input first)."""
    attention: bool = False
    """Attention pooling or an attention decoder, where the task has one."""


class ArchitectureScreen(Screen[ArchChoice | None]):
    """Architectures on the left, the highlighted one's equations and size on the right."""

    HELP = """\
### Architecture

Choose the recurrent cell: the classic cells of the chapter (RNN, LSTM, GRU) or a modern core
(minGRU, minLSTM, IndRNN, LRU, S6, mLSTM, sLSTM). The right side shows its update equations, the
paper they come from, the ways it can run (sequential, or also a parallel scan) and the number of
parameters of the recurrent layers for the sizes below, updated as you type. Modern cores start
in residual blocks (norm, core, residual, MLP; the *block* setting on the next screen), and the
count includes the blocks' MLPs.

**f3** opens the scan view of a core with a parallel form: the sequential recurrence and the
scan computing the same states on a short sequence, and **m** there times both at T = 64…4096.

*Bidirectional* and *attention* are greyed out for tasks that cannot use them (a character
language model reads left to right).
"""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+n", "next", "Next: hyperparameters", priority=True),
        Binding("f3", "scan_view", "Scan view"),
    ]
    AUTO_FOCUS = "#archs"

    def __init__(self, task: str, initial: ArchChoice | None = None) -> None:
        super().__init__()
        self.task_name = task
        """Task registry name."""
        self.initial = initial
        """The choice to start from (when coming back from the configure screen)."""

    def compose(self) -> ComposeResult:
        info = TASKS[self.task_name]
        yield Header()
        with Horizontal(id="arch-body"):
            yield ArchList(info.archs, id="archs")
            with VerticalScroll(id="arch-card-box", classes="panel"):
                yield ArchCard(id="arch-card")
        with Horizontal(id="arch-sizes", classes="panel"):
            yield Field("layers", "Layers", 1)
            yield Field("hidden", "Hidden", 1)
            yield Field("embed", "Input size", 1)
            with Vertical(classes="switch-field"):
                yield Label("Bidirectional")
                yield Switch(id="bidirectional")
            with Vertical(classes="switch-field"):
                yield Label("Attention")
                yield Switch(id="attention")
            with Vertical(id="arch-next-box"):
                yield Label(" ")
                yield Button("Next ›", id="arch-next", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        info = TASKS[self.task_name]
        self.sub_title = f"{info.title} · choose an architecture"
        self.query_one("#archs").border_title = "Architectures"
        self.query_one("#arch-sizes").border_title = "Sizes"
        self.query_one("#arch-card-box").can_focus = False  # tab goes list -> sizes
        unused = [option for option in ("bidirectional", "attention") if option not in info.options]
        for option in unused:
            switch = self.query_one(f"#{option}", Switch)
            switch.disabled = True
            switch.tooltip = f"{info.name} does not use this option"
        if unused:
            self.query_one(
                "#arch-sizes"
            ).border_subtitle = f"{' and '.join(unused)}: not used by {info.name}"
        archs = self.query_one(ArchList)
        start = self.initial.arch if self.initial else info.archs[0]
        start = start if start in archs.archs else archs.archs[0]
        archs.highlighted = archs.get_option_index(start)
        self._load(start, self.initial)

    # -- state -------------------------------------------------------------------------------

    def _load(self, arch: str, choice: ArchChoice | None = None) -> None:
        """Fill the sizes with the task's defaults for `arch` (or with a previous choice)."""
        defaults = default_config(self.task_name, arch)
        values = {
            "layers": choice.layers if choice else defaults.layers,
            "hidden": choice.hidden if choice else defaults.hidden,
            "embed": choice.embed if choice else defaults.embed,
        }
        with self.prevent(Field.Edited):
            for name, value in values.items():
                self.query_one(f"#field-{name}", Field).text = value
        if choice:
            self.query_one("#bidirectional", Switch).value = choice.bidirectional
            self.query_one("#attention", Switch).value = choice.attention
        one_hot = one_hot_input(arch)
        self.query_one("#field-layers", Field).disabled = one_hot
        self.query_one("#field-embed", Field).disabled = one_hot
        card = self.query_one(ArchCard)
        card.arch = arch
        options = defaults.core_options()
        card.set_reactive(ArchCard.block, options.pop("block"))
        card.set_reactive(ArchCard.core, options)
        self.query_one("#arch-card-box").border_title = ARCHITECTURES[arch].title
        self._revalidate()

    def _revalidate(self) -> ArchChoice | None:
        """Parse the sizes, show errors inline, update the card; the choice when all are valid."""
        card = self.query_one(ArchCard)
        values: dict[str, int | None] = {}
        for name in ("layers", "hidden", "embed"):
            field = self.query_one(f"#field-{name}", Field)
            try:
                value = field.parse()
                if value <= 0:
                    raise ValueError("must be at least 1")
                field.error = ""
                values[name] = value
            except ValueError as exc:
                field.error = str(exc)
                values[name] = None
        bidirectional = self.query_one("#bidirectional", Switch).value
        ok = card.arch is not None and all(v is not None for v in values.values())
        ok = ok and self._check_rules(card.arch, values, bidirectional)  # type: ignore[arg-type]
        card.set_reactive(ArchCard.bidirectional, bidirectional)
        card.set_reactive(ArchCard.input_size, values["embed"])
        card.set_reactive(ArchCard.hidden, values["hidden"])
        card.set_reactive(ArchCard.layers, values["layers"])
        card.recount()
        self.query_one("#arch-next", Button).disabled = not ok
        if not ok:
            return None
        assert card.arch is not None
        return ArchChoice(
            arch=card.arch,
            layers=values["layers"],  # type: ignore[arg-type]
            hidden=values["hidden"],  # type: ignore[arg-type]
            embed=values["embed"],  # type: ignore[arg-type]
            bidirectional=bidirectional,
            attention=self.query_one("#attention", Switch).value,
        )

    def _check_rules(self, arch: str, values: dict[str, int | None], bidirectional: bool) -> bool:
        """The task's rules on the sizes (e.g. mLSTM's hidden size must split into its heads);
        a broken one is marked under its field. True when none is."""
        sizes = {**values, "bidirectional": bidirectional}
        try:
            dataclasses.replace(default_config(self.task_name, arch), **sizes).check()
        except ConfigError as exc:
            if exc.field in values:
                self.query_one(f"#field-{exc.field}", Field).error = exc.reason
                return False
        return True

    # -- events ------------------------------------------------------------------------------

    @on(ArchList.ArchHighlighted)
    def _arch_highlighted(self, event: ArchList.ArchHighlighted) -> None:
        if event.arch != self.query_one(ArchCard).arch:
            self._load(event.arch)

    @on(ArchList.ArchSelected)
    def _arch_selected(self, event: ArchList.ArchSelected) -> None:
        if event.arch != self.query_one(ArchCard).arch:
            self._load(event.arch)
        self.action_next()

    @on(Input.Submitted)
    def _size_submitted(self) -> None:
        self.action_next()

    @on(Field.Edited)
    @on(Switch.Changed)
    def _sizes_changed(self) -> None:
        self._revalidate()

    @on(Button.Pressed, "#arch-next")
    def _next_pressed(self) -> None:
        self.action_next()

    def action_next(self) -> None:
        """Return the choice (to the configure step) if the sizes are valid."""
        choice = self._revalidate()
        if choice is not None:
            self.dismiss(choice)

    def action_scan_view(self) -> None:
        """The highlighted core's parallel scan beside its sequential recurrence."""
        from tui.screens.scan_view import ScanViewScreen

        arch = self.query_one(ArchCard).arch
        if arch is None:
            return
        if not ARCHITECTURES[arch].parallel:
            title = ARCHITECTURES[arch].title
            self.notify(f"{title} has only a sequential recurrence: no parallel scan to show")
            return
        self.app.push_screen(ScanViewScreen(arch))

    def action_back(self) -> None:
        """Back to the tasks."""
        self.dismiss(None)
