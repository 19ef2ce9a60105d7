"""Sweeps: a hyperparameter search on Optuna, started and watched here, or a saved study read.

Start runs `rnn-tui sweep TASK ... --json` in a child process (`tui.sweep_process`); a thin
thread worker posts one message per sweep event (`tui.messages.for_sweep_event`) and the
handlers below redraw the table of trials, the best so far, the metric by trial and the
parameter importances. Stop is the command's own Ctrl+C: the running trial saves its checkpoint
and is queued again, so starting the same study later loses nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from tasks.engine.runs import playable_checkpoint, read_run
from tasks.registry import TASKS
from tui import messages
from tui.messages import PlayRequested
from tui.screens.confirm import ConfirmScreen
from tui.sweep_process import (
    StudyView,
    SweepProcess,
    SweepRequest,
    Trial,
    best_trial,
    read_study,
    trial_from,
)
from tui.widgets.loss_chart import Curves, LossChart
from tui.widgets.sweep_form import SweepForm
from tui.widgets.sweep_panels import best_table, importance_bars, space_table
from tui.widgets.trial_table import TrialTable

NARROW = 100
"""Below this many columns the search space is not shown beside the form."""
SHORT = 30
"""Below this many rows the form's hint is left out."""

RUNNING = ("starting", "running", "stopping")
"""States in which the sweep's worker is alive."""

FINISHED_STATES = ("complete", "pruned")
"""Trial states that count towards the sweep's trials."""

NO_IMPORTANCES = "shown once 4 trials have completed"
"""What the importances panel says before there are any."""

HINT = (
    "Each trial is an ordinary run (Runs, Play, resume). A study continues where it stopped: "
    "Trials counts its finished trials in all."
)
"""Under the form: what a sweep leaves behind and how it resumes."""

LEGEND = "[cyan]●[/] complete · [dark_orange]×[/] pruned · [green]─[/] best so far"
"""The chart's legend, in its border (the plot keeps its corners for points)."""


class SweepsScreen(Screen[None]):
    """The form and search space above, the trials and the best so far, the metric by trial."""

    HELP = """\
### Sweeps

A sweep tries many settings of one task on Optuna: TPE sampling over the search space (the
task's default ranges, shown on the right, or a TOML/JSON **space file**), each trial an
ordinary run folder trained for **minutes each**, and the **pruner** stopping a trial early
when its evaluations fall behind the others' at the same time (median or successive halving).
**Jobs** trials run at once, each in its own process, the cores shared among them. The study
is kept in a database (**storage**, by default `sweeps.db` in the user data folder) under its
**study** name: starting a study again continues it until it has **trials** finished trials
in all.

**ctrl+r** starts, **s** (or **ctrl+c**) stops: each running trial saves its checkpoint and is
queued again. **ctrl+o** opens the study named in the form without running anything.

The table lists every trial: its state, its metric (while it runs, the latest evaluation and
its step), where it was pruned, its settings. **enter** opens a trial's run in Runs (curves,
resume, play), **p** plays its checkpoint. The chart has each finished trial's metric by trial
number, pruned trials apart, and the best so far as a line; the importances (Optuna's
evaluator, after each trial once 4 have completed) say which settings mattered most.
"""

    BINDINGS = [
        Binding("ctrl+r", "start", "Start sweep", priority=True),
        Binding("ctrl+o", "open_study", "Open study", priority=True),
        Binding("s", "stop", "Stop"),
        Binding("ctrl+c", "stop", "Stop", priority=True, show=False),
        Binding("p", "play", "Play"),
        Binding("escape", "back", "Back"),
    ]

    state: reactive[str] = reactive("idle")
    """idle, starting, running, stopping, finished, stopped, failed, opening or viewing."""

    def __init__(
        self,
        task: str | None = None,
        *,
        source: Callable[[SweepRequest], Any] = SweepProcess,
        reader: Callable[[str | None, str], StudyView] = read_study,
    ) -> None:
        """The screen, with the form on `task` (None: the first task).

        Args:
            source: makes the sweep's event source from the form's request (anything with
                `run(stop) -> Iterator[dict]`; tests give a fake), called in the worker thread.
            reader: reads a saved study (storage or None, name), in a worker thread.
        """
        super().__init__()
        self.initial_task = task if task in TASKS else next(iter(TASKS))
        """The task the form starts with."""
        self.source = source
        """Makes the event source of a sweep."""
        self.reader = reader
        """Reads a saved study."""
        self.stop_event = threading.Event()
        """Set to stop the sweep (a fresh one for each start)."""
        self.task_name = self.initial_task
        """The task of the trials shown."""
        self.metric = TASKS[self.initial_task].primary_metric
        """The metric the trials are ranked by."""
        self.lower_is_better = TASKS[self.initial_task].lower_is_better
        """Its direction."""
        self.study = ""
        """The study's name, once one is running or open."""
        self.target = 0
        """Finished trials the sweep runs to (in all, earlier ones included)."""
        self.finished_before = 0
        """Finished trials the study had before this sweep started."""
        self.finished_here = 0
        """Trials this sweep finished (complete or pruned)."""
        self.running_trials: set[int] = set()
        """The numbers of the trials now running (several at once with more than one job)."""
        self.best: Trial | None = None
        """The best complete trial so far."""
        self.failure = ""
        """Why the sweep failed (shown in the status line)."""
        self.leave_when_stopped = False
        """Close the screen once the worker has stopped (escape during a sweep)."""

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="sweep-top"):
            with Vertical(id="sweep-setup", classes="panel"):
                yield SweepForm(self.initial_task, id="sweep-form")
                with Horizontal(id="sweep-buttons"):
                    yield Button("Start sweep ▶", id="sweep-start", variant="success",
                                 compact=True)  # fmt: skip
                    yield Button("Open study", id="sweep-open", compact=True)
                yield Static(HINT, id="sweep-hint", classes="hint")
            with VerticalScroll(id="space-box", classes="panel"):
                yield Static("", id="space")
        with Horizontal(id="sweep-main"):
            yield TrialTable(id="trials", classes="panel")
            with VerticalScroll(id="sweep-side", classes="panel"):
                yield Static("", id="best")
        with Horizontal(id="sweep-lower"):
            yield LossChart(title="", ylabel=self.metric, xlabel="trial", id="trial-chart")
            with VerticalScroll(id="importances-box", classes="panel"):
                yield Static("", id="importances")
        yield Static("", id="sweep-status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "hyperparameter sweeps"
        self.query_one("#sweep-setup").border_title = "Sweep"
        self.query_one("#sweep-side").border_title = "Best so far"
        self.query_one("#importances-box").border_title = "Importances"
        for box in ("#sweep-side", "#importances-box"):
            self.query_one(box).can_focus = False
        chart = self.query_one(LossChart)
        chart.add_class("panel")
        chart.border_title = "Metric by trial"
        chart.border_subtitle = LEGEND
        chart.legend = False  # the subtitle says it, the plot keeps its corners
        chart.curves.scattered = {"complete", "pruned"}
        chart.empty_message = "trials' metrics appear as they finish"
        form = self.query_one(SweepForm)
        form.check()
        self._show_space(form)
        self._show_importances(None)
        self._show_results()
        self._show_status()

    # -- the form ----------------------------------------------------------------------------

    @on(SweepForm.Changed)
    def _form_changed(self, event: SweepForm.Changed) -> None:
        self._show_space(event.form)

    def _show_space(self, form: SweepForm) -> None:
        box = self.query_one("#space-box")
        shown = self.query_one("#space", Static)
        if form.space is None:
            box.border_title = "Search space"
            shown.update(Text(form.space_error or "no search space", style="red"))
            return
        box.border_title = f"Search space · {form.space_source}"
        shown.update(space_table(form.space))

    @on(Button.Pressed, "#sweep-start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#sweep-open")
    def _open_pressed(self) -> None:
        self.action_open_study()

    # -- the sweep's worker ------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="sweep")
    def sweep(self, request: SweepRequest, stop: threading.Event) -> None:
        """Start the sweep and post each of its events as a message."""
        for event in self.source(request).run(stop):
            self.post_message(messages.for_sweep_event(event))

    @work(thread=True, exclusive=True, exit_on_error=False, group="study")
    def read_saved(self, storage: str | None, name: str) -> StudyView:
        """Read a saved study (for `open_study`)."""
        return self.reader(storage, name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="earlier")
    def read_earlier(self, storage: str | None, name: str) -> StudyView:
        """Read the trials a resumed study had before this sweep."""
        return self.reader(storage, name)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.group == "sweep":
            if state == WorkerState.ERROR:
                self.failure = first_line(worker.error)
                self.state = "failed"
            elif state in (WorkerState.SUCCESS, WorkerState.CANCELLED) and self.state in RUNNING:
                self.state = "stopped"
            ended = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)
            if state in ended and self.leave_when_stopped and self.is_current:
                self.dismiss()
        elif worker.group == "study":
            if state == WorkerState.ERROR:
                self.failure = first_line(worker.error)
                self.state = "failed"
            elif state == WorkerState.SUCCESS:
                self._show_study(worker.result)
        elif worker.group == "earlier" and state == WorkerState.SUCCESS:
            self._add_earlier(worker.result)
        elif worker.group == "earlier" and state == WorkerState.ERROR:
            self.notify(first_line(worker.error), title="Earlier trials not shown",
                        severity="warning")  # fmt: skip

    def stop_work(self) -> None:
        """Stop the sweep (its running trial saves a checkpoint). Safe to repeat."""
        self.stop_event.set()
        if self.state in ("starting", "running"):
            self.state = "stopping"

    def on_unmount(self) -> None:
        self.stop_event.set()

    # -- messages from the worker ------------------------------------------------------------

    def on_sweep_started(self, message: messages.SweepStarted) -> None:
        event = message.event
        self.study, self.metric = event.study, event.metric
        self.lower_is_better = event.lower_is_better
        self.target, self.finished_before = event.trials_target, event.finished_before
        if self.state == "starting":
            self.state = "running"
        chart = self.query_one(LossChart)
        chart.ylabel = self.metric
        last = float(max(self.target - 1, 1))  # the axis spans the sweep from its start
        chart.curves.steps_like = Curves(series={"trials": ([0.0, last], [0.0, 0.0])})
        if self.finished_before:
            self.read_earlier(event.storage, self.study)
        self._show_results()

    def on_trial_started(self, message: messages.TrialStarted) -> None:
        trial = trial_from(message.event)
        self.running_trials.add(trial.number)
        self.query_one(TrialTable).show_trial(trial)
        self._show_status()

    def on_trial_reported(self, message: messages.TrialReported) -> None:
        event = message.event
        table = self.query_one(TrialTable)
        trial = table.trials.get(event.number) or Trial(event.number)
        trial.value, trial.step = event.value, event.step
        table.show_trial(trial)

    def on_trial_ended(self, message: messages.TrialEnded) -> None:
        trial = trial_from(message.event)
        self.finished_here += trial.state in FINISHED_STATES
        self.running_trials.discard(trial.number)
        self.query_one(TrialTable).show_trial(trial)
        if message.event.importances:
            self._show_importances(message.event.importances)
        self._show_results()

    def on_sweep_ended(self, message: messages.SweepEnded) -> None:
        event = message.event
        if event.best_number is not None:
            shown = self.query_one(TrialTable).trials.get(event.best_number)
            self.best = shown or Trial(
                event.best_number, "complete", dict(event.best_params or {}), event.best_value,
                run_dir=event.best_run_dir,
            )  # fmt: skip
            self.best.test_metrics = dict(event.best_test_metrics or self.best.test_metrics)
        self._show_importances(event.importances)
        self.state = "finished"
        self._show_results(keep_best=True)

    # -- a saved study -----------------------------------------------------------------------

    def _show_study(self, view: StudyView) -> None:
        """Show a saved study's trials (nothing runs)."""
        self._reset()
        self.task_name = view.task if view.task in TASKS else self.task_name
        self.study, self.metric, self.lower_is_better = view.name, view.metric, view.lower_is_better
        self.query_one(LossChart).ylabel = self.metric
        self._add_earlier(view)
        self._show_importances(view.importances)
        if view.space:
            self.query_one("#space-box").border_title = f"Search space · study {view.name}"
            self.query_one("#space", Static).update(space_table(view.space))
        self.state = "viewing"
        self.query_one(TrialTable).focus()

    def _add_earlier(self, view: StudyView) -> None:
        """Add the study's trials that the table does not have yet (live ones stay as shown)."""
        table = self.query_one(TrialTable)
        for trial in view.trials:
            if trial.number not in table.trials:
                table.show_trial(trial)
        table.sort_by_number()
        self._show_results()

    # -- display -----------------------------------------------------------------------------

    def _show_results(self, keep_best: bool = False) -> None:
        """The best so far, the chart and the status from the table's trials."""
        trials = list(self.query_one(TrialTable).trials.values())
        if not keep_best:
            self.best = best_trial(trials, self.lower_is_better)
        self.query_one("#best", Static).update(best_table(self.best, self.metric))
        direction = "lower" if self.lower_is_better else "higher"
        self.query_one("#trials").border_title = f"Trials · {self.metric}, {direction} is better"
        self._plot(trials)
        self._show_status()

    def _plot(self, trials: list[Trial]) -> None:
        """Each finished trial's metric by number (pruned ones apart) over the best so far, a
        step at each new best."""
        chart = self.query_one(LossChart)
        ordered = sorted((t for t in trials if t.value is not None), key=lambda t: t.number)
        xs: list[float] = []
        ys: list[float] = []
        for trial in (t for t in ordered if t.state == "complete"):
            value = trial.value or 0.0
            better = not ys or (value < ys[-1] if self.lower_is_better else value > ys[-1])
            if ys and better:
                xs.append(trial.number)
                ys.append(ys[-1])
            xs.append(trial.number)
            ys.append(value if better else ys[-1])
        chart.set_series("best so far", xs, ys, color="green")  # first: drawn under the points
        for state, color, marker in (("complete", "cyan", "●"), ("pruned", "orange", "×")):
            points = [t for t in ordered if t.state == state]
            chart.set_series(state, [t.number for t in points],
                             [t.value or 0.0 for t in points], marker, color)  # fmt: skip

    def _show_importances(self, importances: dict[str, float] | None) -> None:
        self.query_one("#importances", Static).update(importance_bars(importances, NO_IMPORTANCES))

    def _reset(self) -> None:
        """A clean slate for a new sweep."""
        self.query_one(TrialTable).reset()
        self.query_one(LossChart).curves.steps_like = None
        self.running_trials.clear()
        self.best, self.failure = None, ""
        self.target = self.finished_before = self.finished_here = 0
        self._show_importances(None)
        self._show_results()

    def on_resize(self) -> None:
        """A small terminal keeps the trials and the chart: the space panel and the hint go."""
        self.set_class(self.size.width < NARROW, "-narrow")
        self.set_class(self.size.height < SHORT, "-short")

    def watch_state(self, state: str) -> None:
        if not self.is_mounted:
            return
        self.query_one("#sweep-setup").disabled = state in RUNNING
        self._show_status()
        self.refresh_bindings()

    def _show_status(self) -> None:
        self.query_one("#sweep-status", Static).update(status_line(self))

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.state in ("starting", "running")
        if action in ("start", "open_study"):
            return self.state not in RUNNING
        if action == "play":
            from tui.screens.play import PLAY_SCREENS

            trial = self.query_one(TrialTable).current
            return (
                self.task_name in PLAY_SCREENS
                and trial is not None
                and trial.run_dir is not None
                and playable_checkpoint(Path(trial.run_dir)) is not None
            )
        return True

    def action_start(self) -> None:
        """Start the sweep the form describes (a study already there is continued)."""
        if self.state in RUNNING:
            return
        form = self.query_one(SweepForm)
        request = form.check()
        if request is None:
            self.notify("fix the fields marked in red first", title="Cannot start",
                        severity="warning")  # fmt: skip
            return
        info = TASKS[request.task]
        self.task_name, self.metric, self.lower_is_better = (
            info.name,
            info.primary_metric,
            info.lower_is_better,
        )
        self.study = form.study_name
        self._reset()
        self.stop_event = threading.Event()
        self.state = "starting"
        self.sweep(request, self.stop_event)
        self.query_one(TrialTable).focus()  # s stops, enter opens a trial's run

    def action_open_study(self) -> None:
        """Show the trials of the study named in the form, without running anything."""
        if self.state in RUNNING:
            return
        form = self.query_one(SweepForm)
        self.study = form.study_name
        self.state = "opening"
        self.read_saved(form.storage, form.study_name)

    def action_stop(self) -> None:
        """Stop the sweep; the running trial saves a checkpoint and is queued again."""
        if self.state in ("starting", "running"):
            self.stop_work()

    @on(DataTable.RowSelected, "#trials")
    def _selected(self) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        """Open the highlighted trial's run in Runs (curves, resume, play)."""
        from tui.screens.runs import RunsScreen

        trial = self.query_one(TrialTable).current
        if trial is None:
            return
        if trial.run_dir is None:
            self.notify(f"trial {trial.number} has no run folder yet", severity="warning")
            return
        path = Path(trial.run_dir)
        if read_run(path) is None:
            self.notify(f"trial {trial.number}'s run folder is not there: {path}",
                        severity="warning")  # fmt: skip
            return
        self.app.push_screen(RunsScreen(highlight=path))

    def action_play(self) -> None:
        """Open the highlighted trial's checkpoint in Play."""
        trial = self.query_one(TrialTable).current
        checkpoint = playable_checkpoint(Path(trial.run_dir)) if trial and trial.run_dir else None
        if checkpoint is not None:
            self.post_message(PlayRequested(checkpoint))

    @on(DataTable.RowHighlighted, "#trials")
    def _highlighted(self) -> None:
        self.refresh_bindings()  # play depends on the trial's checkpoint

    def action_back(self) -> None:
        """Leave; during a sweep, ask first (stopping keeps every finished trial)."""
        if self.state not in RUNNING:
            self.dismiss()
            return

        def answered(stop: bool | None) -> None:
            if stop:
                self.leave_when_stopped = True
                self.stop_work()

        self.app.push_screen(
            ConfirmScreen(
                "Stop the sweep?",
                "Leaving stops the running trial (its checkpoint is saved and it is queued "
                "again); the study keeps every finished trial.",
                yes="Stop and leave",
                no="Keep sweeping",
            ),
            answered,
        )


def first_line(error: BaseException | None) -> str:
    """An error's first line (its type's name when it has no message)."""
    text = str(error).strip() if error is not None else ""
    return text.splitlines()[0] if text else type(error).__name__


def status_line(screen: SweepsScreen) -> Text:
    """What the sweep is doing, in one line."""
    state = screen.state
    finished = screen.finished_here + screen.finished_before
    of = f"{finished} of {screen.target}" if screen.target else ""
    before = f" ({screen.finished_before} before this sweep)" if screen.finished_before else ""
    if state == "idle":
        return Text("ctrl+r starts this sweep · ctrl+o opens its study without running it",
                    style="dim")  # fmt: skip
    if state == "starting":
        return Text("starting the sweep…", style="dim")
    if state == "running":
        numbers = ", ".join(str(n) for n in sorted(screen.running_trials))
        plural = "s" if len(screen.running_trials) > 1 else ""
        trial = f"trial{plural} {numbers} running · " if numbers else ""
        return Text(f"{trial}{of} trials finished{before} · s stops", style="cyan")
    if state == "stopping":
        if len(screen.running_trials) > 1:
            return Text("stopping: the running trials save their checkpoints and are queued "
                        "again…", style="yellow")  # fmt: skip
        return Text("stopping: the running trial saves its checkpoint and is queued again…",
                    style="yellow")  # fmt: skip
    if state == "finished":
        best = f" · best: trial {screen.best.number}" if screen.best else ""
        return Text(f"finished: {of} trials{best} · enter opens a trial's run", style="green")
    if state == "stopped":
        done = f": {of} trials finished" if of else ""
        return Text(f"stopped{done} · ctrl+r continues the study", style="yellow")
    if state == "failed":
        return Text.assemble(("failed: ", "bold red"), (screen.failure, "red"))
    if state == "opening":
        return Text(f"reading the study {screen.study}…", style="dim")
    trials = screen.query_one(TrialTable).trials.values()
    count, finished = len(trials), sum(t.state in FINISHED_STATES for t in trials)
    return Text(f"study {screen.study}: {count} trials, {finished} finished · nothing running · "
                "enter opens a trial's run", style="green")  # fmt: skip
