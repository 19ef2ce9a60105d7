"""Inspect a character model: what its units store while it reads a text (LSTMVis in the terminal).

The states of every unit are traced once, in a thread worker
(`tasks.charlm.inspect.trace_charlm`, with a progress bar, cancelled when the screen closes),
over the run's validation text or a file the user opens. The strip colours the text by one
unit; keys move between units, layers and kinds. Beside it, the units ranked by correlation
with a text feature or a regular expression, and select-and-match: the units that stay on over
a selection, and every other place where they are on together. The Saturation tab draws the
gate-saturation scatter of Karpathy et al. 2015.

`inspect_screen_for` opens the right inspector for a checkpoint (charlm or sentiment).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState, get_current_worker

from models.inspect.ranking import unit_correlation
from tui.widgets.data_plot import DataPlot
from tui.widgets.inspect_plots import saturation_draw
from tui.widgets.state_strip import Marks, StateStrip, legend
from tui.widgets.table_redraw import redraw_when_measured

if TYPE_CHECKING:
    from models.inspect import StateTrace

INSPECTORS = {"charlm": "tui.screens.inspect:InspectScreen",
              "sentiment": "tui.screens.saliency:SaliencyScreen"}  # fmt: skip
"""Task -> the screen that inspects its checkpoints."""
REGEX = "regex"
"""The Select value that ranks by the regular expression typed below it."""
TOP = 20
"""Units listed in the ranking."""


def inspect_screen_for(checkpoint: str | Path) -> Screen[Any]:
    """The inspector for a checkpoint's task; `ValueError` (one line) when there is none."""
    from tui.screens import screen_class
    from tui.screens.play import checkpoint_task

    path = Path(checkpoint)
    if not path.is_file():
        raise ValueError(f"checkpoint not found: {path}")
    task = checkpoint_task(path)
    if task not in INSPECTORS:
        raise ValueError(f"inspect covers charlm and sentiment runs; this is a {task} run")
    return screen_class(INSPECTORS[task])(path)


class InspectScreen(Screen[None]):
    """The coloured text and its status on the left; ranking and select-and-match on the right."""

    HELP = """\
### Inspect: what the units store

Every unit's hidden state (**h**), LSTM cell (**c**) and gates are traced once over the
validation text (or a file you open). The text is coloured by one unit: blue is negative, red
positive for h and c (c, and any kind that goes beyond ±1, scaled by its own largest value),
dark to yellow from 0 to 1 for gates.

**[** and **]** move to the previous and next unit, **l** to the next layer, **k** to the next
kind; **u** types a unit (`37` or `2:37`, layer:unit, counted from 1 as `rnn-tui inspect
--unit` counts them). The list on the right ranks the
units by correlation with a text feature (inside quotes, position in the line, ...) or a regular
expression; enter on a row shows that unit.

Select and match (LSTMVis): move the cursor with the arrows (or click), press **v** at the start
of a stretch and **v** again at its end. The units of this layer and kind that stay above the
threshold over the whole stretch are listed, and every other place where they are all on
together is underlined: **n** and **N** jump between them.

**s** shows the gate saturation: for each gate of each unit, how often it is below 0.1 (x) and
above 0.9 (y) over the text (Karpathy, Johnson & Fei-Fei 2015). **o** opens another text file.
"""

    BINDINGS = [
        Binding("right_square_bracket", "unit(1)", "Unit +"),
        Binding("left_square_bracket", "unit(-1)", "Unit −"),
        Binding("l", "layer", "Layer"),
        Binding("k", "kind", "Kind"),
        Binding("v", "select", "Select"),
        Binding("n", "match(1)", "Next match"),
        Binding("N", "match(-1)", "Previous match", show=False),
        Binding("u", "type_in('goto')", "Go to unit", show=False),
        Binding("o", "type_in('path')", "Open file", show=False),
        Binding("s", "saturation", "Saturation"),
        Binding("escape", "back", "Back"),
    ]

    @dataclass
    class Traced(Message):
        """A trace is done (posted from the tracing thread)."""

        worker: Worker[None]
        """The trace worker that posted it (a cancelled one's message is ignored)."""
        trace: StateTrace
        description: str
        """Where the text came from, one line."""
        saturation: list[Any]
        """`models.inspect.Saturation`, one per (layer, gate)."""

    @dataclass
    class Progressed(Message):
        """The fraction of the text traced so far (posted from the tracing thread)."""

        worker: Worker[None]
        """The trace worker that posted it (a cancelled one's message is ignored)."""
        fraction: float

    def __init__(self, checkpoint: str | Path) -> None:
        super().__init__()
        self.checkpoint = Path(checkpoint)
        """The charlm checkpoint inspected."""
        self.payload: dict[str, Any] | None = None
        self.config: Any = None
        """The checkpoint and its settings (loaded by the first trace)."""
        self.trace: StateTrace | None = None
        """The states shown (None until the first trace is done)."""
        self.layer_index, self.kind, self.unit = 0, "h", 0
        """The unit the strip shows."""
        self.feature = "line-position"
        """What the ranking and the status's r are measured against (a feature, or `REGEX`)."""
        self.signal: np.ndarray | None = None
        """The feature's (T,) values (None: none, e.g. a bad regex or a constant feature)."""
        self.anchor: int | None = None
        """Where the selection being made starts."""
        self.selected: tuple[int, int, int, str] | None = None
        """The last selection: [start, end) and the layer and kind its units were chosen in."""
        self.units: list[int] = []
        """The units on over the last selection."""
        self.matches: list[tuple[int, int]] = []
        """Where they are all on together, in text order."""

    def compose(self) -> ComposeResult:
        from models.inspect import FEATURES

        yield Header()
        with TabbedContent(id="inspect-tabs"):
            with TabPane("Units", id="units"), Horizontal(id="inspect-body"):
                with Vertical(id="inspect-main", classes="panel"):
                    yield Static("", id="inspect-note")
                    yield ProgressBar(total=1.0, show_eta=False, id="inspect-progress")
                    yield StateStrip(id="inspect-strip")
                    yield Static("", id="inspect-status")
                    yield Static("", id="inspect-legend", classes="hint")
                with Vertical(id="inspect-side", classes="panel"):  # scrolls, takes no focus
                    options = [(name, name) for name in FEATURES] + [("regular expression",
                                                                      REGEX)]  # fmt: skip
                    yield Select(options, value=self.feature, allow_blank=False,
                                 id="inspect-feature", compact=True)  # fmt: skip
                    yield Input(placeholder="regular expression, enter", id="inspect-regex")
                    yield DataTable(id="inspect-ranking", cursor_type="row")
                    yield Label("select v…v, above:", classes="hint")
                    yield Input("0.5", placeholder="threshold", id="inspect-threshold")
                    yield Static("", id="inspect-selection")
                    yield Input(placeholder="go to unit: N or L:N, enter", id="inspect-goto")
                    yield Input(placeholder="open a UTF-8 text file, enter", id="inspect-path")
                    yield Static("", id="inspect-message")
            with TabPane("Saturation", id="saturation"), VerticalScroll(id="saturation-body"):
                yield Horizontal(id="saturation-plots")
                yield Static("", id="saturation-means")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"inspect · {self.checkpoint.parent.name}/{self.checkpoint.name}"
        self.query_one("#inspect-main").border_title = "Text"
        self.query_one("#inspect-side").border_title = "Units by correlation"
        table = self.query_one("#inspect-ranking", DataTable)
        for label in ("layer", "kind", "unit", "r"):
            table.add_column(label, key=label)
        self.query_one("#inspect-regex").display = False
        self._note("loading the checkpoint…")
        self.compute_trace(None)

    # -- tracing -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="trace")
    def compute_trace(self, path: Path | None) -> None:
        """Trace the run's validation text (`path` None) or the file `path` (a thread)."""
        from models.inspect import check_inspectable, saturation
        from tasks.charlm.inspect import trace_charlm
        from tasks.data.text import read_text
        from tasks.engine.checkpoint import load_checkpoint
        from tasks.inspect_inputs import INSPECT_CHARS, inspection_text
        from tasks.registry import config_from_dict

        worker = get_current_worker()
        if self.payload is None:
            payload = load_checkpoint(self.checkpoint, "charlm")
            self.config = config_from_dict(payload["config"])
            self.payload = payload
        check_inspectable(self.config.arch)
        if path is None:
            text, description = inspection_text(self.config)
        else:
            text = read_text(path)
            description = f"{path.name}, {min(len(text), INSPECT_CHARS):,} characters"
            if len(text) > INSPECT_CHARS:
                description = f"{path.name}, first {INSPECT_CHARS:,} characters"
            text = text[:INSPECT_CHARS]
        self.post_message(self.Progressed(worker, 0.0))
        trace = trace_charlm(self.payload, self.config, text,
                             progress=lambda f: self.post_message(self.Progressed(worker, f)),
                             cancelled=lambda: worker.is_cancelled)  # fmt: skip
        self.post_message(self.Traced(worker, trace, description, saturation(trace)))

    def on_inspect_screen_progressed(self, message: Progressed) -> None:
        if message.worker.is_cancelled:  # a newer trace has started (or the screen closed)
            return
        bar = self.query_one("#inspect-progress", ProgressBar)
        bar.display = True
        bar.update(progress=message.fraction)
        self._note(f"tracing the states… {message.fraction:.0%}")

    def on_inspect_screen_traced(self, message: Traced) -> None:
        if message.worker.is_cancelled:
            return
        trace = message.trace
        self.query_one("#inspect-progress").display = False
        self._note("")
        self.query_one("#inspect-main").border_title = message.description
        self.trace = trace
        self.layer_index, self.unit = 0, 0
        self.kind = "c" if "c" in trace.kinds else trace.kinds[0]
        self.anchor, self.selected, self.units, self.matches = None, None, [], []
        strip = self.query_one(StateStrip)
        strip.set_text(trace.text)
        strip.focus()
        self._show_selection()
        self._set_feature()
        self._show_saturation(message.saturation)
        self._message(f"{len(trace.text):,} characters · {trace.layers} × {trace.units} units "
                      f"· {', '.join(trace.kinds)}", "dim")  # fmt: skip

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.is_cancelled:  # superseded: a newer ranking or trace is coming
            return
        if event.state == WorkerState.SUCCESS and event.worker.group == "rank":
            self.signal, scores = event.worker.result
            self._show()
            self._show_ranking(scores)
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        line = str(error).strip().splitlines()[0] if error and str(error).strip() else repr(error)
        if event.worker.group == "rank":  # a bad regex or a constant feature
            self._message(line, "red")
            self.query_one("#inspect-ranking", DataTable).clear()
            return
        self.query_one("#inspect-progress").display = False
        if self.trace is None:  # nothing to show: say why where the text would be
            self._note(line, "red")
        else:
            self._note("")
        self._message(line, "red")

    # -- the unit shown ----------------------------------------------------------------------

    def _show(self) -> None:
        """Colour the strip by the current unit and say which it is."""
        trace = self.trace
        if trace is None:
            return
        values = trace.unit(self.layer_index, self.kind, self.unit)
        signed = self.kind not in trace.gates
        peak = ""
        top = float(np.abs(values).max())
        if signed and (self.kind == "c" or top > 1) and top > 0:  # relu, minGRU h: unbounded
            values = values / top
            peak = f" (÷ {top:.2f})"
        self.query_one(StateStrip).set_values(values, signed)
        status = Text.assemble(
            (f"layer {self.layer_index + 1}", "bold"), " · ", (f"unit {self.unit + 1}", "bold"),
            " · ", (self.kind, "bold"),
        )  # fmt: skip
        if self.signal is not None:
            r = unit_correlation(values, self.signal)
            status.append(f" · r({self.feature_name}) = {r:.2f}")
        status.append(peak, style="dim")
        self.query_one("#inspect-status", Static).update(status, layout=False)  # one line
        self._show_cursor()

    def _show_cursor(self) -> None:
        """The colour scale, and the unit's value at the cursor."""
        trace = self.trace
        if trace is None:
            return
        signed = self.kind not in trace.gates
        scale = legend(signed, *(("-1", "+1") if signed else ("0", "1")))
        position = self.query_one(StateStrip).marks.cursor
        if position < len(trace.text):
            raw = float(trace.values[(self.layer_index, self.kind)][self.unit, position])
            scale.append(f"   cursor at {position + 1:,} {trace.text[position]!r}: {raw:.2f}")
        self.query_one("#inspect-legend", Static).update(scale, layout=False)

    @property
    def feature_name(self) -> str:
        """The feature as the status names it."""
        if self.feature == REGEX:
            return f"/{self.query_one('#inspect-regex', Input).value}/"
        return self.feature

    def action_unit(self, step: int) -> None:
        """The next (or previous) unit of this layer and kind."""
        if self.trace is not None:
            self.unit = (self.unit + step) % self.trace.units
            self._show()

    def action_layer(self) -> None:
        """The same unit of the next layer."""
        if self.trace is not None:
            self.layer_index = (self.layer_index + 1) % self.trace.layers
            self._show()

    def action_kind(self) -> None:
        """The next kind (h, c, a gate, ...) of the same unit."""
        if self.trace is not None:
            kinds = self.trace.kinds
            self.kind = kinds[(kinds.index(self.kind) + 1) % len(kinds)]
            self._show()

    def go_to(self, layer: int, kind: str, unit: int) -> None:
        """Show a unit (indices from 0, in range)."""
        self.layer_index, self.kind, self.unit = layer, kind, unit
        self._show()

    @on(Input.Submitted, "#inspect-goto")
    def _goto(self, event: Input.Submitted) -> None:
        """`N` (this layer) or `L:N`, counted from 1; out of range or not numbers: a message."""
        if self.trace is None:
            return
        layer_text, _, unit_text = event.value.strip().rpartition(":")
        try:
            layer = int(layer_text) if layer_text else self.layer_index + 1
            unit = int(unit_text)
        except ValueError:
            self._message(f"type a unit as N or L:N, e.g. 2:37 (got {event.value!r})", "red")
            return
        layers, units = self.trace.layers, self.trace.units
        if not 1 <= layer <= layers:
            self._message(f"layer {layer} is out of range: this model has layers 1-{layers}", "red")
        elif not 1 <= unit <= units:
            self._message(f"unit {unit} is out of range: each layer has units 1-{units}", "red")
        else:
            self.go_to(layer - 1, self.kind, unit - 1)
            self.query_one(StateStrip).focus()

    @on(StateStrip.CursorMoved)
    def _cursor_moved(self, event: StateStrip.CursorMoved) -> None:
        if self.anchor is not None:
            strip = self.query_one(StateStrip)
            start, end = sorted((self.anchor, event.position))
            strip.set_marks(Marks(event.position, (start, end + 1), strip.marks.matches))
            self._show_selection()
        self._show_cursor()

    # -- ranking -----------------------------------------------------------------------------

    @on(Select.Changed, "#inspect-feature")
    def _feature_changed(self, event: Select.Changed) -> None:
        self.feature = str(event.value)
        regex = self.query_one("#inspect-regex", Input)
        regex.display = self.feature == REGEX
        if self.feature == REGEX:
            regex.focus()
            if not regex.value:  # nothing to rank by until a pattern is typed
                self.workers.cancel_group(self, "rank")
                self.signal = None
                self._show()
                return
        self._set_feature()

    @on(Input.Submitted, "#inspect-regex")
    def _regex_submitted(self) -> None:
        self._set_feature()

    def _set_feature(self) -> None:
        """Rank the units by the feature (a thread, which computes its signal); until it is
        done the status shows no r."""
        if self.trace is None:
            return
        self.signal = None
        self._message("", "dim")
        self._show()
        pattern = self.query_one("#inspect-regex", Input).value if self.feature == REGEX else None
        self.rank(self.trace, self.feature, pattern, self.feature_name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rank")
    def rank(
        self, trace: StateTrace, name: str, pattern: str | None, shown: str
    ) -> tuple[np.ndarray, list[Any]]:
        """The (T,) signal of feature `name` (or of the regex `pattern`) and every unit of every
        layer and kind ranked by |r| with it (a thread); InspectError for a bad regex or a
        feature constant over the text (`shown` names it)."""
        from models.inspect import InspectError, feature, rank_units, regex_feature

        text = trace.text
        signal = feature(text, name) if pattern is None else regex_feature(text, pattern)
        if np.ptp(signal) == 0:
            raise InspectError(f"{shown} is the same all through this text: "
                               "nothing to correlate with")  # fmt: skip
        signal = signal.astype(np.float32)
        return signal, rank_units(trace, signal, top=TOP)

    def _show_ranking(self, scores: list[Any]) -> None:
        table = self.query_one("#inspect-ranking", DataTable)
        table.clear()
        for score in scores:
            key = f"{score.layer}:{score.kind}:{score.unit}"
            r = f"{score.correlation:+.2f}"
            table.add_row(score.layer + 1, score.kind, score.unit + 1, r, key=key)
        redraw_when_measured(table)
        self.query_one("#inspect-side").border_subtitle = f"by {self.feature_name}"

    @on(DataTable.RowSelected, "#inspect-ranking")
    def _ranked_chosen(self, event: DataTable.RowSelected) -> None:
        layer, kind, unit = str(event.row_key.value).split(":")
        self.go_to(int(layer), kind, int(unit))
        self.query_one(StateStrip).focus()

    # -- select and match --------------------------------------------------------------------

    def threshold(self) -> float | None:
        """The threshold typed (None, with a message, when it is not a number)."""
        text = self.query_one("#inspect-threshold", Input).value
        try:
            return float(text)
        except ValueError:
            self._message(f"the threshold must be a number (got {text!r})", "red")
            return None

    def action_select(self) -> None:
        """Start a selection at the cursor, or end it there and match its units."""
        from models.inspect import InspectError, match_units, select_units

        if self.trace is None:
            return
        strip = self.query_one(StateStrip)
        cursor = strip.marks.cursor
        if self.anchor is None:
            self.anchor, self.units, self.matches = cursor, [], []
            strip.set_marks(Marks(cursor, (cursor, cursor + 1)))
            self._show_selection()
            return
        threshold = self.threshold()
        if threshold is None:  # the selection stays open: v ends it once the threshold is fixed
            return
        start, end = sorted((self.anchor, cursor))
        end += 1
        layer, kind = self.layer_index, self.kind
        self.anchor, self.selected = None, (start, end, layer, kind)
        try:
            self.units = select_units(self.trace, layer, kind, start, end, threshold)
            self.matches = []
            if self.units:
                shortest = max(1, (end - start) // 2)
                self.matches = match_units(self.trace, layer, kind, self.units, threshold,
                                           min_length=shortest)  # fmt: skip
        except InspectError as exc:
            self._message(str(exc), "red")
            self.units, self.matches = [], []
        strip.set_marks(Marks(cursor, (start, end), tuple(self.matches)))
        self._show_selection()

    def action_match(self, step: int) -> None:
        """Move the cursor to the next (1) or previous (-1) matched place."""
        if not self.matches:
            return
        strip = self.query_one(StateStrip)
        starts = [a for a, _ in self.matches]
        cursor = strip.marks.cursor
        after = [i for i, a in enumerate(starts) if (a > cursor if step > 0 else a < cursor)]
        index = (after[0] if step > 0 else after[-1]) if after else (0 if step > 0 else -1)
        strip.move_to(starts[index])
        self._show_selection(index % len(starts))

    def _show_selection(self, current: int | None = None) -> None:
        info = self.query_one("#inspect-selection", Static)
        if self.anchor is not None:
            info.update(Text("selecting: move the cursor, v ends the selection (escape "
                             "cancels)", style="yellow"))  # fmt: skip
            return
        if self.selected is None:
            info.update(Text("no selection yet", style="dim"))
            return
        start, end, layer, kind = self.selected
        count = f"{end - start} character{'s' if end - start > 1 else ''}"
        text = Text(f"{count} at {start + 1:,}: ")
        if not self.units:
            text.append(f"no {kind} unit of layer {layer + 1} stays above the threshold over "
                        "all of them", style="yellow")  # fmt: skip
        else:
            shown = ", ".join(str(u + 1) for u in self.units[:12])
            shown += " …" if len(self.units) > 12 else ""
            text.append(f"{len(self.units)} {kind} units of layer {layer + 1} on ({shown})")
            count = f"{len(self.matches)} matches"
            if current is not None:
                count = f"match {current + 1} of {len(self.matches)}"
            text.append(f"\n{count} · n / N jump", style="bold")
        info.update(text)

    # -- saturation --------------------------------------------------------------------------

    def _show_saturation(self, saturations: list[Any]) -> None:
        trace = self.trace
        box = self.query_one("#saturation-plots", Horizontal)
        box.remove_children()
        means = self.query_one("#saturation-means", Static)
        if trace is None or not trace.gates:
            means.update(Text("this core has no gates: nothing in [0, 1] to saturate",
                              style="yellow"))  # fmt: skip
            return
        by = {(s.layer, s.gate): s for s in saturations}
        plots = []
        for layer in range(trace.layers):
            found = [by[(layer, g)] for g in trace.gates]
            draw = saturation_draw(layer, trace.gates, [s.left for s in found],
                                   [s.right for s in found])  # fmt: skip
            plots.append(DataPlot(draw, classes="saturation-plot"))
        box.mount_all(plots)
        table = Table(box=None, padding=(0, 2))
        table.add_column("gate")
        for layer in range(trace.layers):
            table.add_column(f"layer {layer + 1}", justify="right")
        for gate in trace.gates:
            cells = [f"{by[(layer, gate)].left.mean():.0%} / {by[(layer, gate)].right.mean():.0%}"
                     for layer in range(trace.layers)]  # fmt: skip
            table.add_row(gate, *cells)
        title = Text("mean fraction of steps left (< 0.1) / right (> 0.9) saturated", "bold")
        means.update(Group(title, table))

    def action_saturation(self) -> None:
        """Switch between the units and the saturation scatter."""
        tabs = self.query_one(TabbedContent)
        tabs.active = "units" if tabs.active == "saturation" else "saturation"

    # -- files and messages ------------------------------------------------------------------

    @on(Input.Submitted, "#inspect-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self._message("type the path of a UTF-8 text file", "red")
            return
        self._message("reading the file…", "dim")
        self.compute_trace(Path(event.value.strip()).expanduser())

    def action_type_in(self, name: str) -> None:
        """Focus the input `#inspect-<name>` (a unit to go to, a file to open)."""
        self.query_one(TabbedContent).active = "units"
        self.query_one(f"#inspect-{name}", Input).focus()

    def _note(self, text: str, style: str = "dim") -> None:
        note = self.query_one("#inspect-note", Static)
        note.display = bool(text)
        note.update(Text(text, style=style))

    def _message(self, text: str, style: str) -> None:
        self.query_one("#inspect-message", Static).update(Text(text, style=style))

    def action_back(self) -> None:
        """Back to the text from a box, cancel a selection being made, else stop tracing and
        go back."""
        strip = self.query_one(StateStrip)
        if self.trace is not None and self.focused is not strip:
            self.query_one(TabbedContent).active = "units"
            strip.focus()
            return
        if self.anchor is not None:
            self.anchor = None
            strip.set_marks(Marks(strip.marks.cursor, None, strip.marks.matches))
            self._show_selection()
            return
        self.workers.cancel_node(self)
        self.dismiss()
