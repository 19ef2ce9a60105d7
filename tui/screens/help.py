"""The help screen: what the screen underneath is for, and every key that works on it."""

from __future__ import annotations

from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

GENERAL = """\
**rnn-tui** trains recurrent networks on real data and lets you play with them.

The path through the app: **Home** (choose a task) → **Architecture** (the cell and its sizes)
→ **Configure** (hyperparameters and dataset) → **Train** (live curves) → **Play** (use the
model). **Runs** lists every saved run: compare curves, resume, play or delete. **Sweeps**
(**w** on Home) tries many settings of a task on Optuna and shows which worked best.

`ctrl+p` opens the command palette, `escape` goes back, `ctrl+q` quits from anywhere
(a running training saves a checkpoint first).
"""


def key_table(screen: Screen) -> Table:
    """The keys active on `screen` (its focused widget's, the screen's and the app's)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    seen: set[tuple[str, str]] = set()
    for _key, active in screen.active_bindings.items():
        binding = active.binding
        own = active.node is screen or active.node is screen.app
        if binding.system or not (own or binding.show):
            continue  # leave out widgets' navigation keys (arrows, page up, ...)
        description = binding.description or binding.action.replace("_", " ")
        if not description or (binding.action, description) in seen:
            continue
        seen.add((binding.action, description))
        label = binding.key_display or screen.app.get_key_display(binding)
        table.add_row(Text(label), Text(description, style="" if active.enabled else "dim"))
    return table


class HelpScreen(ModalScreen[None]):
    """A modal over the current screen; any of escape, q, ? or f1 closes it.

    The texts are Rich Markdown in `Static`s, not Textual `Markdown` widgets: those build a
    widget per block, which made opening help take hundreds of milliseconds while training
    kept the CPU busy (benchmarks/tui.py measures the key latency).
    """

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under_help = getattr(under, "HELP", None) or ""
        """The help text of the screen this one covers."""
        self.keys = key_table(under)
        """Its keys, read before this modal takes the focus."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Help"
            box.border_subtitle = "escape to close"
            if self.under_help:
                yield Static(Markdown(self.under_help), id="help-screen")
            yield Static(Text("Keys here", style="bold"), classes="help-heading")
            yield Static(self.keys, id="help-keys")
            yield Static(Markdown(GENERAL), id="help-general")
