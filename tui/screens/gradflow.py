"""The gradient-flow lab: watch gradients vanish in a vanilla RNN and survive in an LSTM.

One or two runs of the gradflow task train side by side, each in its own thread worker. For
each run a heatmap shows ||dL/dh_t|| per time step t (rows) over training (columns), log-scaled,
with its loss curve beside it; one line chart below overlays the newest profile of every run
against the distance from the end, T - t. The caption says what to look for and the measured
ratio ||dL/dh_1|| / ||dL/dh_T||.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from tasks.engine.settings import MODERN, TrainConfig
from tasks.registry import TASKS, default_config
from tui.widgets.grad_heatmap import GradHeatmap
from tui.widgets.gradflow_setup import GradFlowSetup
from tui.widgets.loss_chart import Curves, LossChart

LABELS = {"dl_dh": "||dL/dh_t||", "dhT_dh": "||u^T dh_T/dh_t||"}
"""The two recorded quantities."""

COMPARE_WITH = {"rnn": "lstm", "lstm": "rnn", "gru": "rnn", "numpy-rnn": "lstm"}
"""c (compare) starts the same settings with this architecture (a modern core's: the LSTM)."""

SHARED = ("problem", "seq_len", "hidden", "layers", "batch", "lr", "clip", "seed", "epochs",
          "minutes", "threads", "probe_every")  # fmt: skip
"""What a comparison run of a modern core keeps (its core options do not apply to the LSTM)."""

CAPTION = (
    "Each column of a heatmap is one recorded training step; each row a time step t of the "
    "sequence (t=1 at the top). The colour is log10 ||dL/dh_t||: how much of the loss's "
    "gradient reaches the hidden state at t. Backpropagation multiplies one Jacobian per step, "
    "so in a vanilla RNN it shrinks geometrically with the distance from the end (dark rows at "
    "the top): the first steps cannot learn. An LSTM's cell state adds instead of multiplying, "
    "so its gradient survives. Clipping (--clip) caps exploding norms; orthogonal init and "
    "ReLU change how fast the product shrinks or grows. j switches to ||u^T dh_T/dh_t||: how "
    "much of h_t survives in the last state, whatever the loss (the top layer is drawn)."
)
"""What the user is seeing."""


@dataclass
class FlowRun:
    """One run on the screen."""

    config: TrainConfig
    """Its settings."""
    build: Callable[[], Any] | None
    """Makes the `Trainer` (called in the worker thread); None: events are posted by hand."""

    @property
    def label(self) -> str:
        c = self.config
        extra = f" {c.activation}" if c.arch == "rnn" else ""
        init = " orthogonal" if c.init == "orthogonal" else ""
        clip = f"clip {c.clip:g}" if c.clip > 0 else "no clipping"
        return f"{c.arch}{extra}{init} · {c.problem} T={c.seq_len} · {clip}"


def trainer_builder(config: TrainConfig) -> Callable[[], Any]:
    """A function that starts a fresh run of `config` in a child process (as the Train screen
    does, so training never competes with the UI for the interpreter lock)."""

    def build() -> Any:
        from tui.train_process import TrainProcess

        return TrainProcess.new_run(config)

    return build


class GradFlowScreen(Screen[None]):
    """Heatmaps and loss of one or two gradflow runs, the profile chart and the caption."""

    HELP = """\
### Gradient flow

Each heatmap shows, for every recorded training step (columns, oldest on the left) and every
time step t of the sequence (rows, t=1 at the top), the norm of dL/dh_t on a log scale. The
chart below plots the newest profile of each run against the distance from the end: a straight
falling line is geometric vanishing. The ratio in the caption is ||dL/dh_1|| / ||dL/dh_T||.

Most modern cores (minGRU, minLSTM, LRU, S6, mLSTM) are linear in their state: each step
multiplies the gradient by a gate or an eigenvalue, near 1 where the core keeps its memory;
IndRNN bounds each neuron's recurrent weight for the horizon T. Their h_t is the whole state
they carry (mLSTM's matrix memory, S6's states per channel), measured the same way.

Choose the problem, T, the two architectures and the switches (the vanilla RNN's activation,
orthogonal recurrent weights, the clipping threshold, 0 for none), then **ctrl+r** starts.
**c** adds a second run with the same settings and the other architecture (RNN ↔ LSTM; a
modern core against the LSTM),
**x** stops the runs (each saves a checkpoint; resume them from Runs), **escape** leaves.
"""

    DEFAULT_CSS = """
    #gf-setup { height: auto; }
    #gf-runs { height: 3fr; }
    .gf-run { width: 1fr; }
    #gf-bottom { height: 2fr; }
    #gf-profile { width: 1fr; }
    #gf-caption { width: 1fr; height: 1fr; overflow-y: auto; }
    """

    BINDINGS = [
        Binding("ctrl+r", "start", "Start", priority=True),
        Binding("c", "compare", "Compare"),
        Binding("j", "toggle_quantity", "dL/dh ↔ dh_T/dh"),
        Binding("x", "stop", "Stop"),
        Binding("escape", "back", "Back"),
    ]

    @dataclass
    class EventArrived(Message):
        """A training event of run `index`, posted by its worker."""

        index: int
        """Which run (0 or 1)."""
        event: Any
        """The `tasks.engine.events.TrainEvent`."""

    def __init__(self, runs: list[FlowRun] | None = None) -> None:
        """runs: start these at once; none: show the switches and start on ctrl+r."""
        super().__init__()
        self.runs: list[FlowRun] = []
        """The runs shown, left to right."""
        self.pending = list(runs or [])
        """Runs to add once mounted."""
        self.setting_up = not self.pending
        """The switches are shown and nothing runs yet."""
        self.stop_event = threading.Event()
        """Set to stop every run after its current batch."""
        self.ratios: list[float | None] = []
        """Per run: the newest ||dL/dh_1|| / ||dL/dh_T||."""
        self.notes: list[str] = []
        """Per run: a warning (exploding gradients) or why it failed."""
        self.history: list[list[dict[str, Any]]] = []
        """Per run: every profile received, oldest first."""
        self.quantity = "dl_dh"
        """What the heatmaps and the chart show: dl_dh (||dL/dh_t||) or dhT_dh."""

    @classmethod
    def new(cls, config: TrainConfig) -> GradFlowScreen:
        """A fresh run of `config`."""
        return cls([FlowRun(config, trainer_builder(config))])

    def compose(self) -> ComposeResult:
        yield Header()
        if self.setting_up:
            yield GradFlowSetup(id="gf-setup", classes="panel")
        yield Horizontal(id="gf-runs")
        with Horizontal(id="gf-bottom"):
            yield LossChart(
                id="gf-profile",
                ylabel=f"log10 {LABELS['dl_dh']}",
                xlabel="distance from the end T - t",
            )
            yield Static("", id="gf-caption", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "gradient flow"
        self.query_one("#gf-profile").border_title = "Newest profile"
        profile = self.query_one("#gf-profile", LossChart)
        profile.empty_message = "waiting for a gradient profile…"
        profile.clear()  # redraw with that message
        profile.add_class("panel")
        if self.setting_up:
            self.query_one(GradFlowSetup).border_title = "Switches · ctrl+r starts"
        for run in self.pending:
            self.add_run(run)
        self.pending = []
        self._show_caption()

    # -- runs ------------------------------------------------------------------------------

    def add_run(self, run: FlowRun) -> None:
        """Show a run in a new panel and start its worker (if it has a builder)."""
        index = len(self.runs)
        self.runs.append(run)
        self.ratios.append(None)
        self.notes.append("")
        self.history.append([])
        loss = LossChart(id=f"gf-loss-{index}")
        loss.show(Curves(TASKS["gradflow"].loss_quantity))  # its trivial baseline is drawn too
        panel = Vertical(
            GradHeatmap(id=f"gf-heatmap-{index}"),
            loss,
            id=f"gf-run-{index}",
            classes="panel gf-run",
        )
        panel.border_title = run.label
        self.query_one("#gf-runs").mount(panel)
        if run.build is not None:
            self.run_worker(
                lambda: self._train(index), thread=True, group="gradflow",
                name=f"gradflow-{index}", exit_on_error=False,
            )  # fmt: skip
        self.refresh_bindings()

    def _train(self, index: int) -> None:
        """Worker thread: build the trainer and post each of its events."""
        build = self.runs[index].build
        assert build is not None
        for event in build().run(self.stop_event):
            self.post_message(self.EventArrived(index, event))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "gradflow" or event.state != WorkerState.ERROR:
            return
        index = int(event.worker.name.rsplit("-", 1)[1])
        error = event.worker.error
        text = str(error).strip().splitlines()[0] if error and str(error).strip() else ""
        self.notes[index] = f"failed: {text or type(error).__name__}"
        self._show_caption()

    # -- events ------------------------------------------------------------------------------

    def on_grad_flow_screen_event_arrived(self, message: EventArrived) -> None:
        index, event = message.index, message.event
        loss = self.query_one(f"#gf-loss-{index}", LossChart)
        if event.kind == "step":
            loss.add_point("train", event.step, event.loss)
            if event.gradients:
                self._add_profile(index, event.gradients)
        elif event.kind == "eval":
            loss.add_point("val", event.step, event.metrics["val_loss"])
            info = TASKS["gradflow"]
            dataset = self.runs[index].config.dataset
            loss.set_references(info.references(info.loss_quantity, dataset, event.metrics))
        elif event.kind == "failed":
            self.notes[index] = f"failed: {event.reason}"
            self._show_caption()
        elif event.kind == "finished":
            word = "stopped" if event.stopped else "finished"
            value = event.metrics.get("val_loss")
            self.notes[index] = f"{word}" + (f", val_loss {value:.4g}" if value is not None else "")
            self._show_caption()

    def _add_profile(self, index: int, profile: dict[str, Any]) -> None:
        self.history[index].append(profile)
        top = profile[self.quantity][-1]  # the top layer, t = 1..N
        self.query_one(f"#gf-heatmap-{index}", GradHeatmap).add_column(profile["step"], top)
        self.ratios[index] = profile.get("ratio")
        if profile.get("exploding"):
            peak = profile.get("peak_norm")
            size = f"{peak:.3g}" if peak is not None else "inf"
            self.notes[index] = f"exploding: gradient norm up to {size} before clipping"
        elif self.notes[index].startswith("exploding"):
            self.notes[index] = ""
        self._draw_profile(index)
        self._show_caption()

    def _draw_profile(self, index: int) -> None:
        """The run's newest profile on the chart: one line per layer, against T - t."""
        chart = self.query_one("#gf-profile", LossChart)
        rows = self.history[index][-1][self.quantity]
        for layer, row in enumerate(rows):
            n = len(row)
            points = [(n - 1 - t, math.log10(v)) for t, v in enumerate(row) if v][::-1]
            name = f"{self.runs[index].config.arch} ({index + 1})"
            if len(rows) > 1:
                name += f" layer {layer + 1}"
            chart.set_series(name, [x for x, _ in points], [y for _, y in points])

    def _show_caption(self) -> None:
        text = Text(CAPTION + "\n", style="default")
        for i, run in enumerate(self.runs):
            ratio = self.ratios[i]
            ratio_text = f"{ratio:.2e}" if ratio is not None else "–"
            text.append(f"\n{i + 1}. {run.label}: ", style="bold")
            text.append(f"||dL/dh_1|| / ||dL/dh_T|| = {ratio_text}")
            if self.notes[i]:
                bad = self.notes[i].startswith(("exploding", "failed"))
                text.append(f" · {self.notes[i]}", style="bold red" if bad else "green")
        self.query_one("#gf-caption", Static).update(text)

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return self.setting_up
        if action == "compare":
            return len(self.runs) == 1
        return True

    def action_start(self) -> None:
        """Start the runs the switches describe."""
        try:
            configs = self.query_one(GradFlowSetup).configs()
        except ValueError as exc:  # ConfigError
            self.notify(str(exc).splitlines()[0], title="Cannot start", severity="error")
            return
        self.setting_up = False
        self.query_one(GradFlowSetup).disabled = True
        for config in configs:
            if len(configs) > 1 and config.threads is None:
                config.threads = 1  # two runs share the machine: one core each
            self.add_run(FlowRun(config, trainer_builder(config)))

    def action_compare(self) -> None:
        """Train the same settings with the other architecture, side by side."""
        first = self.runs[0].config
        arch = COMPARE_WITH.get(first.arch, "lstm")
        if first.arch in MODERN:
            config = default_config("gradflow", arch, **{k: getattr(first, k) for k in SHARED})
        elif first.arch == "numpy-rnn":  # Adagrad settings do not carry over: torch defaults
            config = default_config(
                "gradflow", arch, problem=first.problem, seq_len=first.seq_len, seed=first.seed,
                epochs=first.epochs, minutes=first.minutes, threads=first.threads,
            )  # fmt: skip
        else:
            config = dataclasses.replace(first, arch=arch, activation="tanh").validate()
        self.add_run(FlowRun(config, trainer_builder(config)))

    def action_toggle_quantity(self) -> None:
        """Switch the heatmaps and the chart between ||dL/dh_t|| and ||u^T dh_T/dh_t||."""
        self.quantity = "dhT_dh" if self.quantity == "dl_dh" else "dl_dh"
        chart = self.query_one("#gf-profile", LossChart)
        chart.ylabel = f"log10 {LABELS[self.quantity]}"
        chart.clear()
        for index, profiles in enumerate(self.history):
            heatmap = self.query_one(f"#gf-heatmap-{index}", GradHeatmap)
            heatmap.set_columns(
                [p["step"] for p in profiles], [p[self.quantity][-1] for p in profiles]
            )
            if profiles:
                self._draw_profile(index)
        self.notify(f"showing {LABELS[self.quantity]}", title="Gradient flow")

    def action_stop(self) -> None:
        """Stop every run after its current batch (each saves a checkpoint)."""
        self.stop_event.set()

    def action_back(self) -> None:
        """Stop the runs and leave."""
        self.stop_event.set()
        self.dismiss()

    def on_unmount(self) -> None:
        self.stop_event.set()
