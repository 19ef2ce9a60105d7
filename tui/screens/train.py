"""The train screen: a thread worker iterates the trainer's events; widgets redraw from them.

The worker is thin: it starts the run (a `TrainProcess`: `rnn-tui train --json` in a child
process, so training never competes with the UI for the interpreter), hands it this screen's
pause, save and stop events, and posts one message per training event
(`tui.messages.for_event`). Everything visible is set by the message handlers below.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, RichLog, Sparkline, Static
from textual.worker import Worker, WorkerState

from tasks.engine.runs import LAST_CHECKPOINT
from tasks.engine.settings import TrainConfig
from tasks.registry import TASKS
from tui import messages
from tui.messages import PlayRequested, RunsRequested
from tui.screens.confirm import ConfirmScreen
from tui.train_process import TrainProcess
from tui.widgets.loss_chart import Curves
from tui.widgets.quantity_charts import QuantityCharts
from tui.widgets.run_stats import RunStats, fmt_metric, world_size
from tui.widgets.train_progress import TrainProgress

GRAD_NORM_POINTS = 80
STATS_EVERY_S = 0.5
"""The step's numbers (stats, progress, sparkline) are shown at most this often; the chart
still gets every point. Fewer repaints leave the CPU to the training run."""
"""How many recent gradient norms the sparkline shows."""

RUNNING = ("loading", "training", "paused", "stopping")
"""States in which the worker is alive."""


class TrainScreen(Screen[None]):
    """Live curves, progress and numbers of one training run, with pause, save and stop."""

    HELP = """\
### Train

The loss chart shows the training loss (averaged between updates) and the loss of each
evaluation over steps; the task's metric (accuracy, BLEU, RMSE...) has a chart of its own, each
titled with whether higher or lower is better. Dim horizontal lines are reference results in
that same quantity, on the same data, marked val or test. When only one chart fits, **c**
switches between them (with two, it switches the second). The right panel has the numbers; the
sparkline is the gradient norm before clipping.

**space** pauses and resumes, **s** saves a checkpoint now, **x** stops (a checkpoint is
saved, and the run can be resumed from Runs). When a checkpoint exists, **g** opens it in Play.
If the loss becomes NaN the run stops and the last good checkpoint is kept.

A run of several processes (Processes on Configure) shows how many under **Run**; its tokens/s
adds up every process. Pause, save and stop reach them all.
"""

    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/resume"),
        Binding("s", "save", "Save now"),
        Binding("x", "stop", "Stop"),
        Binding("g", "play", "Play"),
        Binding("c", "cycle_chart", "Chart", show=False),
        Binding("r", "runs", "Runs"),
        Binding("escape", "back", "Back"),
    ]

    state: reactive[str] = reactive("loading")
    """loading, training, paused, stopping, finished, stopped or failed."""

    def __init__(
        self,
        build: Callable[[], Any] | None,
        *,
        task: str,
        dataset: str,
        heading: str = "",
        epochs: int | None = None,
        history: Iterable[dict[str, Any]] = (),
    ) -> None:
        """A screen for one run.

        Args:
            build: makes the event source (a `TrainProcess`, or anything with the `Trainer`'s
                `run(stop)`, `pause` and `save_requested`), called in the worker thread; None
                shows events posted by hand (tests feed fake events this way).
            task: task registry name.
            dataset: the dataset name or path (a catalogue dataset's reference results are drawn).
            heading: the sub-title.
            epochs: epochs in all, when known up front.
            history: earlier event records of a resumed run, drawn before new ones arrive.
        """
        super().__init__()
        self.build = build
        """Makes the trainer, in the worker thread."""
        self.task_name = task
        """Task registry name."""
        self.dataset = dataset
        """Dataset name or path."""
        self.heading = heading
        """Sub-title of the screen."""
        self.epochs = epochs
        """Epochs in all (None until the run says, or for a time budget)."""
        self.history = list(history)
        """Earlier records of a resumed run."""
        self.stop_event = threading.Event()
        """Set to stop the trainer after the current batch (it saves a checkpoint)."""
        self.pause_event = threading.Event()
        """Set while paused (the trainer's `pause`)."""
        self.save_event = threading.Event()
        """Set to save a checkpoint after the current batch (the trainer's `save_requested`)."""
        self.checkpoint: Path | None = None
        """The run's latest checkpoint (or its best, until a latest is written), once one is."""
        self.run_dir: Path | None = None
        """The run folder, once the run started."""
        self.leave_when_stopped = False
        """Close the screen once the worker has stopped (escape while training)."""
        self.grad_norms: list[float] = []
        """Recent gradient norms (for the sparkline)."""
        self._unshown_step: Any = None
        self._stats_shown_at = 0.0
        self._loss_curves: Curves | None = None
        """The training loss's curves (appended to at every step)."""
        self.failure = ""
        """Why the run failed (shown in the banner)."""

    # -- factories ---------------------------------------------------------------------------

    @classmethod
    def new(cls, config: TrainConfig) -> TrainScreen:
        """A fresh run of `config` in a new run folder."""

        info = TASKS[config.task]
        return cls(
            lambda: TrainProcess.new_run(config),
            task=config.task,
            dataset=config.dataset,
            heading=f"{info.title} · {config.arch} · {Path(config.dataset).name}",
            epochs=config.epochs,
        )

    @classmethod
    def resume(cls, run_dir: str | Path, epochs: int | None = None) -> TrainScreen:
        """Continue a saved run, with its earlier curves drawn first."""
        from tasks.engine.runs import read_history, read_run

        run_dir = Path(run_dir)
        info = read_run(run_dir)
        task = info.task if info else "charlm"
        dataset = info.dataset if info else ""
        return cls(
            lambda: TrainProcess.resume(run_dir, epochs=epochs),
            task=task,
            dataset=dataset,
            heading=f"resuming {run_dir.name}",
            epochs=epochs,
            history=read_history(run_dir),
        )

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="train-main"):
            yield QuantityCharts(id="charts")
            with VerticalScroll(id="stats-box", classes="panel"):
                yield RunStats(id="run-stats")
                yield Label("gradient norm", classes="hint", id="grad-label")
                yield Sparkline([], id="grad-norms")
        yield TrainProgress(id="train-progress")
        yield Static("", id="train-banner")
        yield RichLog(id="train-log", classes="panel", max_lines=500, markup=False, wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        info = TASKS.get(self.task_name)
        self.sub_title = self.heading
        stats_box = self.query_one("#stats-box")
        stats_box.border_title = "Run"
        stats_box.can_focus = False
        self.query_one("#train-log").border_title = "Events"
        stats = self.query_one(RunStats)
        stats.epochs = self.epochs
        if info is not None:
            stats.primary_metric = info.primary_metric
            charts = self.query_one(QuantityCharts)
            loss = info.loss_quantity
            charts.set_quantities(info.chart_quantities, empty={
                q.name: "waiting for the first evaluation…" for q in info.quantities if q != loss
            })  # fmt: skip
            for q in info.quantities:
                charts.set_references(q.name, info.references(q, self.dataset))
            self._loss_curves = charts.curves[loss.name]
        self._replay(self.history)
        self.set_interval(STATS_EVERY_S, self.show_latest_step)
        self._show_banner()
        if self.build is not None:
            self.train()
        self.refresh_bindings()

    def _replay(self, records: list[dict[str, Any]]) -> None:
        """Draw a resumed run's earlier steps and evaluations."""
        for record in records:
            if record.get("event") == "step" and self._loss_curves is not None:
                self._loss_curves.add_point("train", record["step"], record["loss"])
            elif record.get("event") == "eval":
                self._add_eval(record["step"], record.get("metrics", {}))
        if records:
            self.log_line(f"resumed: {len(records)} earlier records drawn", "dim")

    # -- the worker --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="train")
    def train(self) -> None:
        """Build the trainer and post each of its events as a message."""
        assert self.build is not None
        trainer = self.build()
        trainer.pause = self.pause_event
        trainer.save_requested = self.save_event
        for event in trainer.run(self.stop_event):
            self.post_message(messages.for_event(event))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "train":
            return
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            text = str(error).strip().splitlines()[0] if error and str(error).strip() else ""
            self.failure = text or type(error).__name__
            self.state = "failed"
            self.log_line(f"error: {self.failure}", "red")
        elif event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED) and self.state in RUNNING:
            self.state = "stopped"
        ended = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)
        if event.state in ended and self.leave_when_stopped and self.is_current:
            self.dismiss()

    def stop_work(self) -> None:
        """Ask the trainer to stop after this batch (it saves a checkpoint). Safe to repeat."""
        self.stop_event.set()
        self.pause_event.clear()
        if self.state in ("training", "paused", "loading"):
            self.state = "stopping"

    def on_unmount(self) -> None:
        self.stop_event.set()
        self.pause_event.clear()

    # -- messages from the worker --------------------------------------------------------------

    def on_run_started(self, message: messages.RunStarted) -> None:
        event = message.event
        self.run_dir = Path(event.run_dir)
        epochs = event.config.get("epochs")
        self.epochs = epochs
        stats = self.query_one(RunStats)
        stats.epochs = epochs
        stats.started = event
        if self.state == "loading":
            self.state = "paused" if self.pause_event.is_set() else "training"
        if event.dataset_note:
            self.log_line(event.dataset_note, "yellow" if "offline" in event.dataset_note else "")
        what = "resumed at step" if event.resumed_from_step else "started"
        step = f" {event.resumed_from_step:,}" if event.resumed_from_step else ""
        size = world_size(event)
        where = f" on {size} processes" if size > 1 else ""
        self.log_line(
            f"{what}{step}{where}: {event.parameters:,} parameters, "
            f"{event.steps_per_epoch:,} steps per epoch · {event.run_dir}"
        )

    def on_step_logged(self, message: messages.StepLogged) -> None:
        event = message.event
        if event.compile_s is not None:
            seconds = event.compile_s
            self.log_line(f"compiled: the first step took {seconds:.1f} s, compilation included")
        if self._loss_curves is not None:
            self._loss_curves.add_point("train", event.step, event.loss)
        self.grad_norms.append(event.grad_norm)
        del self.grad_norms[:-GRAD_NORM_POINTS]
        self._unshown_step = event
        if time.monotonic() - self._stats_shown_at >= STATS_EVERY_S:
            self.show_latest_step()

    def show_latest_step(self) -> None:
        """Show the newest step's numbers, if not shown yet (a timer catches up every
        `STATS_EVERY_S`)."""
        event, self._unshown_step = self._unshown_step, None
        if event is None:
            return
        self._stats_shown_at = time.monotonic()
        self.query_one(RunStats).step = event
        progress = self.query_one(TrainProgress)
        progress.progress = event.progress
        progress.eta_s = event.eta_s
        self.query_one("#grad-norms", Sparkline).data = list(self.grad_norms)

    def on_eval_logged(self, message: messages.EvalLogged) -> None:
        event = message.event
        self._add_eval(event.step, event.metrics)
        label = "eval" if event.full else "quick eval"
        text = " · ".join(f"{k} {fmt_metric(v)}" for k, v in event.metrics.items())
        self.log_line(f"{label} at step {event.step:,}: {text}", "" if event.full else "dim")

    def _add_eval(self, step: int, metrics: dict[str, float]) -> None:
        stats = self.query_one(RunStats)
        stats.metrics = dict(metrics)
        info = TASKS.get(self.task_name)
        if info is None:
            return
        charts = self.query_one(QuantityCharts)
        for q in info.quantities:
            for split, value in q.points(metrics):
                charts.add_point(q.name, split, step, value)
            if any(b.key in metrics for b in q.baselines):  # measured by full evaluations
                charts.set_references(q.name, info.references(q, self.dataset, metrics))
        value = metrics.get(info.primary_metric)
        if value is None:
            return
        best = stats.best
        if best is None or (value < best if info.lower_is_better else value > best):
            stats.best = value

    def on_checkpoint_written(self, message: messages.CheckpointWritten) -> None:
        event = message.event
        path = Path(event.path)
        first = self.checkpoint is None
        if path.name == LAST_CHECKPOINT or first:
            self.checkpoint = path
        if event.reason != "best":
            self.log_line(f"checkpoint ({event.reason}) at step {event.step:,}: {path}", "green")
            if event.reason == "manual":
                self.notify(f"saved {path.name} at step {event.step:,}", title="Checkpoint")
        if first:  # "play" is now offered (the footer is rebuilt only when its keys change)
            self.refresh_bindings()

    def on_run_finished(self, message: messages.RunFinished) -> None:
        self.show_latest_step()
        event = message.event
        self.checkpoint = Path(event.checkpoint)
        self.query_one(RunStats).metrics = {
            k: v
            for k, v in event.metrics.items()
            if k not in ("wall_s", "train_tokens_per_s", "world_size")
        }
        self.query_one(TrainProgress).eta_s = 0 if not event.stopped else None
        if not event.stopped:
            self.query_one(TrainProgress).progress = 1.0
        self.state = "stopped" if event.stopped else "finished"
        text = " · ".join(f"{k} {fmt_metric(v)}" for k, v in event.metrics.items())
        self.log_line(("stopped: " if event.stopped else "finished: ") + text, "bold")
        self.refresh_bindings()

    def on_note_logged(self, message: messages.NoteLogged) -> None:
        event = message.event
        text = getattr(event, "text", None) or getattr(event, "message", None)
        if text:
            self.log_line(str(text), "yellow")

    def on_run_failed(self, message: messages.RunFailed) -> None:
        self.show_latest_step()
        event = message.event
        self.failure = event.reason
        self.checkpoint = Path(event.checkpoint) if event.checkpoint else None
        self.state = "failed"
        self.log_line(f"failed: {event.reason}", "red")
        self.refresh_bindings()

    # -- display -----------------------------------------------------------------------------

    def log_line(self, text: str, style: str = "") -> None:
        """Add a line to the event log."""
        self.query_one("#train-log", RichLog).write(Text(text, style=style))

    def watch_state(self, state: str) -> None:
        if not self.is_mounted:
            return
        self.show_latest_step()  # a paused or ended run shows its last step at once
        self.query_one(TrainProgress).state = state
        self._show_banner()
        self.refresh_bindings()

    def _show_banner(self) -> None:
        banner = self.query_one("#train-banner", Static)
        state = self.state
        banner.set_classes(f"-{state}")
        if state == "loading":
            text = Text("Loading the data and building the model…", style="dim")
        elif state == "paused":
            text = Text("Paused. Press space to continue.", style="yellow")
        elif state == "stopping":
            text = Text("Stopping after this batch and saving a checkpoint…", style="yellow")
        elif state == "failed":
            text = Text.assemble(("Training failed: ", "bold red"), (self.failure, "red"))
            if self.checkpoint is not None:
                text.append(f"\nThe last good checkpoint is kept: {self.checkpoint}", "default")
            elif self.run_dir is not None:
                text.append("\nNo checkpoint had been saved yet.", "default")
        elif state in ("finished", "stopped"):
            word = "Finished" if state == "finished" else "Stopped"
            text = Text.assemble((f"{word}. ", "bold green"))
            if self.check_action("play", ()):
                text.append("g: play with the model · ", "default")
            text.append("r: all runs · escape: home", "default")
        else:
            text = Text("space pause · s save · x stop", style="dim")
        banner.update(text)

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_pause", "save", "stop"):
            return self.state in ("training", "paused")
        if action == "cycle_chart":
            return self.query_one(QuantityCharts).can_cycle
        if action == "play":
            from tui.screens.play import PLAY_SCREENS

            playable = self.task_name in PLAY_SCREENS
            return playable and self.checkpoint is not None and self.checkpoint.exists()
        return True

    def action_toggle_pause(self) -> None:
        """Pause between batches, or continue."""
        if self.state == "training":
            self.pause_event.set()
            self.state = "paused"
            self.log_line("paused", "yellow")
        elif self.state == "paused":
            self.pause_event.clear()
            self.state = "training"
            self.log_line("resumed", "yellow")

    def action_save(self) -> None:
        """Write a checkpoint after the current batch."""
        if self.state in ("training", "paused"):
            self.save_event.set()
            if self.state == "paused":
                self.notify("the checkpoint is written when training continues", title="Save")

    def action_stop(self) -> None:
        """Stop after this batch; a checkpoint is saved."""
        if self.state in ("training", "paused", "loading"):
            self.stop_work()

    def action_play(self) -> None:
        """Open the latest checkpoint in Play."""
        if self.checkpoint is not None:
            self.post_message(PlayRequested(self.checkpoint))

    def action_cycle_chart(self) -> None:
        """Show the next quantity on the switchable chart."""
        self.query_one(QuantityCharts).cycle()

    def action_runs(self) -> None:
        """Show the saved runs."""
        self.post_message(RunsRequested())

    def action_back(self) -> None:
        """Leave; while training, ask first (stopping saves a checkpoint)."""
        if self.state not in RUNNING:
            self.dismiss()
            return

        def answered(stop: bool | None) -> None:
            if stop:
                self.leave_when_stopped = True
                self.stop_work()

        self.app.push_screen(
            ConfirmScreen(
                "Stop training?",
                "Leaving stops the run after this batch and saves a checkpoint; "
                "you can resume it from Runs.",
                yes="Stop and leave",
                no="Keep training",
            ),
            answered,
        )
