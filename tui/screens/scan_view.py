"""The scan view: one core's sequential recurrence beside its parallel form, then both timed.

Opened from the Architecture screen (f3) for a core whose recurrence also runs in parallel.
The numbers come from `models.cores.scan_trace` in thread workers: the trace when the screen
opens, the timings row by row when **m** is pressed (cancelled when the screen closes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from models.registry import ARCHITECTURES
from tui.widgets import scan_panels

if TYPE_CHECKING:
    from models.cores.scan_trace import ScanTrace, Timing

MEASURE_STEPS = (64, 256, 1024, 4096)
"""The lengths **m** times (`models.cores.scan_trace.MEASURE_STEPS`, kept here torch-free)."""
BATCH, WIDTH = 8, 64
"""The timed input: ``(BATCH, T, WIDTH)``, float32."""


class ScanViewScreen(Screen[None]):
    """(a) the recurrence step by step, (b) the parallel form's phases, (c) the timings."""

    HELP = """\
### Scan view

The same small core (width 4, seeded) reads the same 8 inputs twice.

**(a)** runs the recurrence one step after another, as an LSTM must. **(b)** computes the same
states the parallel way. The chunked scan cuts the 8 steps into chunks, scans every chunk at once
from a zero state, carries the true state across the chunk ends, then fixes every step up at
once: C + n steps one after another instead of T. The log-space scan turns the recurrence into
two prefix sums. mLSTM's parallel form weighs every earlier step by the decay matrix D'.

**m** times the sequential mode against the parallel scan, forward and forward + backward, at
growing T on this machine (rows appear as they finish; escape stops).
"""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("m", "measure", "Measure"),
    ]

    @dataclass
    class Measured(Message):
        """One length timed (posted from the measuring thread)."""

        worker: Worker
        """The worker that measured it."""
        timing: Timing

    def __init__(self, arch: str, steps: tuple[int, ...] = MEASURE_STEPS) -> None:
        super().__init__()
        self.arch = arch
        """Architecture registry name (one with a parallel form)."""
        self.steps = steps
        """The lengths **m** times."""
        self.trace: ScanTrace | None = None
        """The traced sequence, once computed."""
        self.timings: list[Timing] = []
        """The rows measured so far."""
        self.measuring: Worker | None = None
        """The latest measuring worker (an earlier one's late rows are ignored)."""
        self.measure_status = ""
        """"", "measuring", "done" or "failed: <reason>"."""

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="scan-body"):
            yield Static(Text("tracing…", style="dim"), id="scan-intro", classes="hint")
            yield Static("", id="scan-sequential", classes="panel")
            yield Static("", id="scan-parallel", classes="panel")
            yield Static("", id="scan-log", classes="panel")
            yield Static("", id="scan-measure", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        arch = ARCHITECTURES[self.arch]
        self.sub_title = f"{arch.title} · sequential recurrence vs parallel scan"
        self.query_one("#scan-sequential").border_title = "(a) the recurrence, step by step"
        self.query_one("#scan-measure").border_title = "(c) measured on this machine"
        for name in ("sequential", "parallel", "log"):
            self.query_one(f"#scan-{name}").display = False
        self._show_timings()
        self.compute_trace()

    # -- trace -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="trace")
    def compute_trace(self) -> ScanTrace:
        """The trace of this core (in a thread: it imports torch)."""
        from models.cores.scan_trace import trace

        return trace(self.arch)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        lines = str(worker.error).strip().splitlines() if worker.error else [""]
        if worker.group == "trace":
            if state == WorkerState.SUCCESS:
                self._show_trace(worker.result)
            else:
                self.query_one("#scan-intro", Static).update(Text(lines[0], style="red"))
        elif worker.group == "measure" and worker is self.measuring and not worker.is_cancelled:
            self.measure_status = "done" if state == WorkerState.SUCCESS else f"failed: {lines[0]}"
            self._show_timings()

    def _show_trace(self, trace: ScanTrace) -> None:
        self.trace = trace
        intro = (
            f"{ARCHITECTURES[self.arch].title} on T = {trace.steps} seeded inputs of width "
            f"{trace.width}; the rows follow {trace.follows}"
        )
        self.query_one("#scan-intro", Static).update(Text(intro))
        panels = {
            "sequential": scan_panels.sequential_panel(trace),
            "parallel": None,
            "log": None,
        }
        parallel = self.query_one("#scan-parallel")
        if trace.chunked is not None:
            parallel.border_title = "(b) the chunked scan"
            panels["parallel"] = scan_panels.chunked_panel(trace, trace.chunked)
        elif trace.parallel is not None:
            parallel.border_title = "(b) the parallel form"
            panels["parallel"] = scan_panels.decay_panel(trace, trace.parallel)
        if trace.log is not None:
            self.query_one("#scan-log").border_title = "(b′) the log-space scan"
            panels["log"] = scan_panels.log_panel(trace, trace.log)
        for name, renderable in panels.items():
            widget = self.query_one(f"#scan-{name}", Static)
            widget.display = renderable is not None
            if renderable is not None:
                widget.update(renderable)

    # -- measure -----------------------------------------------------------------------------

    def action_measure(self) -> None:
        """Time both modes, row by row (starting over if a measure is running)."""
        self.timings = []
        self.measure_status = "measuring"
        self._show_timings()
        self.measuring = self.measure()

    @work(thread=True, exclusive=True, exit_on_error=False, group="measure")
    def measure(self) -> None:  # the decorator makes it return its Worker
        """Post one `Measured` per length until done or cancelled."""
        from models.cores.scan_trace import timings

        worker = get_current_worker()
        for row in timings(self.arch, self.steps, BATCH, WIDTH, stop=lambda: worker.is_cancelled):
            if worker.is_cancelled:
                return
            self.post_message(self.Measured(worker, row))

    @on(Measured)
    def _measured(self, message: Measured) -> None:
        if message.worker is not self.measuring:
            return
        self.timings.append(message.timing)
        self._show_timings()

    def _show_timings(self) -> None:
        arch = ARCHITECTURES[self.arch]
        scan = arch.scans[-1]
        lengths = ", ".join(str(t) for t in self.steps)
        about = (
            f"{scan} vs sequential at T = {lengths} · batch {BATCH}, width {WIDTH}, float32, "
            "best of 3 after a warm-up"
        )
        if not self.measure_status:
            status = Text.assemble(("press m to time ", "dim"), about)
        elif self.measure_status == "measuring":
            left = self.steps[len(self.timings) :]
            status = Text(f"measuring T = {left[0]}… (rows appear as they finish; escape stops)"
                          if left else "measuring…", style="yellow")  # fmt: skip
        elif self.measure_status == "done":
            threads = self.timings[-1].threads if self.timings else 0
            status = Text.assemble(("done · ", "green"), (f"{about} · {threads} threads", "dim"))
        else:
            status = Text(self.measure_status, style="red")
        parts = [status]
        if self.timings:
            parts.append(scan_panels.timing_table(self.timings, scan))
        self.query_one("#scan-measure", Static).update(Group(*parts))

    def action_back(self) -> None:
        """Back to the architectures (a running measure stops)."""
        self.dismiss(None)
