"""The home screen: every task with its datasets' status; pick one to set up a run."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from tui.messages import NewRunRequested, RunsRequested, SweepsRequested
from tui.widgets.task_detail import TaskDetail
from tui.widgets.task_list import TaskList

INTRO = (
    "Train a recurrent network on real data, watch it learn, then play with it. "
    "Pick a task and press [b]enter[/b]."
)


class HomeScreen(Screen[None]):
    """Tasks on the left, the highlighted one in full on the right."""

    HELP = """\
### Home

Each task is something a recurrent network can learn, with the datasets it trains on and
whether they are already here (*cached*, *found in data root*), will be downloaded once
(*download* and the size), or are built in (*offline default*, no network needed).

Press **enter** on a task to choose an architecture, then the hyperparameters, then train;
**d** shows what is in its datasets (sizes, lengths, labels, vocabulary, the series);
**w** opens Sweeps, a hyperparameter search over its settings (Optuna).
"""

    BINDINGS = [
        Binding("enter", "new_run", "New run", show=True, priority=False),
        Binding("r", "runs", "Runs"),
        Binding("d", "data", "Data"),
        Binding("w", "sweeps", "Sweeps"),
        Binding("q", "app.quit", "Quit"),
    ]
    AUTO_FOCUS = "#tasks"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(INTRO, id="intro")
        with Horizontal(id="home-body"):
            yield TaskList(id="tasks")
            with VerticalScroll(id="task-detail-box"):
                yield TaskDetail(id="task-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "choose a task"
        self.query_one("#tasks", TaskList).border_title = "Tasks"
        self.query_one("#task-detail-box").border_title = "About"
        tasks = self.query_one(TaskList)
        if tasks.option_count:
            tasks.highlighted = 0

    def on_screen_resume(self) -> None:
        """Back from a download or a run: dataset status may have changed."""
        self.query_one(TaskList).refresh_status()
        self.query_one(TaskDetail).refresh()

    @on(TaskList.TaskHighlighted)
    def _show_task(self, event: TaskList.TaskHighlighted) -> None:
        self.query_one(TaskDetail).task_name = event.task

    @on(TaskList.TaskSelected)
    def _choose_task(self, event: TaskList.TaskSelected) -> None:
        self.post_message(NewRunRequested(event.task))

    def action_new_run(self) -> None:
        """Set up a run for the highlighted task."""
        task = self.query_one(TaskDetail).task_name
        if task is not None:
            self.post_message(NewRunRequested(task))

    def action_data(self) -> None:
        """Show what is in the highlighted task's datasets."""
        from tasks.registry import get_task
        from tui.screens.data import DataScreen

        task = self.query_one(TaskDetail).task_name
        if task is None:
            return
        if get_task(task).profile is None:
            self.notify(f"{task} generates its data as it trains: there is no dataset to show")
            return
        self.app.push_screen(DataScreen(task))

    def action_runs(self) -> None:
        """Show the saved runs."""
        self.post_message(RunsRequested())

    def action_sweeps(self) -> None:
        """Open Sweeps on the highlighted task."""
        self.post_message(SweepsRequested(self.query_one(TaskDetail).task_name))
