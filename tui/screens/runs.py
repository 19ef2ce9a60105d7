"""Runs: every saved run; its curves, several overlaid, resume, play, delete."""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from tasks.engine.quantity import Quantity
from tasks.engine.runs import (
    LAST_CHECKPOINT,
    RunInfo,
    history_stamp,
    list_runs,
    playable_checkpoint,
    read_summary,
    resumable_checkpoint,
    runs_root,
)
from tasks.registry import TASKS
from tui.chart_history import ChartHistory, read_chart_history, unread_bytes
from tui.messages import PlayRequested, ResumeRequested
from tui.screens.confirm import ConfirmScreen
from tui.screens.play import PLAY_SCREENS
from tui.screens.resume import ResumeScreen
from tui.widgets.loss_chart import COLORS, rich_color
from tui.widgets.quantity_charts import QuantityCharts
from tui.widgets.run_stats import fmt_metric, metric_label
from tui.widgets.table_redraw import redraw_when_measured

STATUS_STYLES = {"finished": "green", "stopped": "yellow", "failed": "red", "running": "cyan"}

DATASET_WIDTH = 16
"""Longer dataset names are cut with an ellipsis in the table (the detail has the full path)."""
NARROW = 100
"""Below this many columns the table cuts dataset names at `NARROW_DATASET_WIDTH`, so a row
with its best metric fits in 80 columns."""
NARROW_DATASET_WIDTH = 11

CHECKPOINT_LOOKUP_S = 2.0
"""How often the highlighted run's folder is looked at for a checkpoint written meanwhile."""

INLINE_HISTORY_BYTES = 200_000
"""Histories up to this many bytes in all (those not read at the last visit: a history is
read on from where it was) are read on the event loop (about 3 ms on an idle core, 16 ms for
1 MB); more (a run's history grows by about 1 MB in 3,000 steps) in a thread, and the table
and charts are filled again once they are read: the app keeps drawing while a long run is
read, and a visit of Runs beside a training child stays under the 100 ms of lag the soak
allows (benchmarks/soak.py)."""


def short_date(started: str) -> str:
    """`2026-11-27 03:40` as `11-27 03:40` this year, `2025-01-03` before (fits 80 columns)."""
    if started[:4] == time.strftime("%Y"):
        return started[5:16]
    return started[:10]


def short_metric(name: str) -> str:
    """The metric without its split: `val_loss` -> `loss`, `test_accuracy` -> `accuracy`."""
    for prefix in ("val_", "test_"):
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


def short_value(value: float) -> str:
    """Three significant digits, without an exponent: 0.781, 31.2, 1.52, 0.00102, 142, 2,345."""
    return f"{value:,.0f}" if abs(value) >= 99.95 else f"{value:.3g}"


def primary(run: RunInfo) -> tuple[str, float | None]:
    """(metric name, value) of the run's task metric."""
    info = TASKS.get(run.task)
    name = info.primary_metric if info else next(iter(run.metrics), "")
    return name, run.metrics.get(name)


def run_labels(runs: list[RunInfo]) -> list[str]:
    """Short names for overlaid runs: the architecture, with the start time when two share
    one."""
    archs = [r.arch for r in runs]
    return [r.arch if archs.count(r.arch) == 1 else f"{r.arch} {r.started[5:16]}" for r in runs]


def metric_cell(run: RunInfo, name: str, value: float | None) -> str:
    """The table's best metric: the quantity's short name and the value, `acc 0.781`."""
    if value is None:
        return "–"
    info = TASKS.get(run.task)
    short = info.primary_quantity.short if info else short_metric(name)
    return f"{short} {short_value(value)}"


class RunsScreen(Screen[None]):
    """A table of runs over a chart of the highlighted (or the marked) runs' curves."""

    HELP = """\
### Runs

Every training run is saved in its own folder with its settings, curves and checkpoints.
Move through the table to see a run's curves and settings: the loss and the task's metric
each on a chart of its own, with reference results in that quantity as dim lines (marked val
or test). When one chart fits, **c** switches between them. Mark two or more runs with
**space** to overlay their curves (one colour per run; lines are training loss, dots
validation, crosses test).

**r** resumes the highlighted run (it continues exactly where it stopped), **p** opens its
checkpoint in Play, **i** in the inspector (charlm and sentiment runs), **d** deletes it
(after asking).
"""

    BINDINGS = [
        Binding("space", "mark", "Mark/compare"),
        Binding("c", "cycle_chart", "Chart", show=False),
        Binding("r", "resume", "Resume"),
        Binding("p", "play", "Play"),
        Binding("i", "inspect", "Inspect"),
        Binding("d,delete", "delete", "Delete"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, highlight: Path | None = None) -> None:
        """The runs; `highlight`: the run folder the cursor starts on (e.g. a sweep's trial)."""
        super().__init__()
        self.highlight = highlight
        """The run folder highlighted first (None: the newest run)."""
        self.runs: list[RunInfo] = []
        """The runs, newest first (the table's rows)."""
        self.marked: list[Path] = []
        """Run folders marked for comparison, in marking order."""
        self._histories: dict[Path, ChartHistory] = {}
        """Each run's history as last read."""
        self._reading: set[Path] = set()
        """Run folders whose histories a thread is reading."""
        self._narrow: bool | None = None
        """Whether the table was last filled for a narrow screen."""
        self._checkpoint: Path | None = None
        """The highlighted run's playable checkpoint, looked up when it is shown and every
        `CHECKPOINT_LOOKUP_S` (a run training meanwhile writes its first): the footer asks
        `check_action` about every key whenever it redraws, too often to stat files."""
        self._hidden = False
        """Whether another screen covers this one (the look-up pauses meanwhile)."""
        self._shown: Path | None = None
        """The run folder the charts and settings were last drawn for."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True, classes="panel")
        with Horizontal(id="runs-lower"):
            yield QuantityCharts(id="runs-charts", primary_first=True)
            with VerticalScroll(id="run-detail-box", classes="panel"):
                yield Static("", id="run-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "saved runs"
        self.query_one("#runs-table").border_title = "Runs"
        self.query_one("#run-detail-box").border_title = "Settings"
        table = self.query_one(DataTable)
        # the best metric before the dataset: where a row is too wide, the last column is cut
        for key, label in (
            ("mark", " "), ("started", "started"), ("task", "task"), ("arch", "arch"),
            ("status", "status"), ("step", "steps"), ("metric", "best"), ("dataset", "dataset"),
        ):  # fmt: skip
            table.add_column(label, key=key)
        self.reload()
        self._lookup = self.set_interval(CHECKPOINT_LOOKUP_S, self.look_up_checkpoint)
        if self.highlight is not None:
            wanted = self.highlight.resolve()
            rows = [i for i, run in enumerate(self.runs) if run.path.resolve() == wanted]
            if rows:
                table.move_cursor(row=rows[0])

    def on_unmount(self) -> None:
        """Let go of the runs' histories now (the app keeps its Runs screen till it quits; one
        opened from Sweeps is removed when left, and freed only by a full garbage collection,
        which the app runs seldom: `tui.app.calm_garbage_collector`)."""
        self._histories.clear()

    # -- data --------------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the run folders (after training, resuming or deleting)."""
        self.runs = list_runs()
        existing = {r.path for r in self.runs}
        self.marked = [p for p in self.marked if p in existing]
        stale = [
            run.path
            for run in self.runs
            if run.path not in self._reading
            and self.history(run.path).stamp != history_stamp(run.path)
        ]
        known = {path: self._histories.get(path) for path in stale}
        if sum(unread_bytes(path, since) for path, since in known.items()) > INLINE_HISTORY_BYTES:
            self._reading.update(stale)
            self._read_histories(known)
        else:
            self._histories.update({path: read_chart_history(path, since)
                                    for path, since in known.items()})  # fmt: skip
        self._fill()

    @work(thread=True, group="histories")
    def _read_histories(self, known: dict[Path, ChartHistory | None]) -> None:
        """Read long histories (from where each was last read) off the event loop; then fill
        the table and charts again."""
        read = {path: read_chart_history(path, since) for path, since in known.items()}
        if not get_current_worker().is_cancelled:
            with contextlib.suppress(RuntimeError):  # the app has closed while it read
                self.app.call_from_thread(self._histories_read, read)

    def _histories_read(self, read: dict[Path, ChartHistory]) -> None:
        self._reading.difference_update(read)
        if self.is_attached:  # not left while it read
            self._histories.update(read)
            self._fill()

    def _fill(self) -> None:
        """The table from `runs` and the known histories; the highlighted run's charts."""
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        self._narrow = self.app.size.width < NARROW  # a screen is as wide as the app, and is
        # laid out only after `on_mount` fills it
        for run in self.runs:
            table.add_row(*self._cells(run), key=str(run.path))
        redraw_when_measured(table)
        count = "1 run" if len(self.runs) == 1 else f"{len(self.runs)} runs"
        self.query_one("#runs-table").border_subtitle = f"{count} · space marks runs to compare"
        if self.runs:
            table.move_cursor(row=min(max(row, 0), len(self.runs) - 1))
        self._show()

    def best(self, run: RunInfo) -> tuple[str, float | None]:
        """(metric, best value over the run's full evaluations), else its latest value."""
        name, value = primary(run)
        info = TASKS.get(run.task)
        values = [
            r["metrics"][name]
            for r in self.history(run.path).evals
            if r["full"] and name in r["metrics"]
        ]
        if values and info is not None:
            return name, info.primary_quantity.best(values)
        return name, value

    def _cells(self, run: RunInfo) -> list[Any]:
        name, value = self.best(run)
        mark = Text(" ")
        if run.path in self.marked:
            i = self.marked.index(run.path)
            mark = Text("●", style=rich_color(COLORS[i % len(COLORS)]))
        dataset = Path(run.dataset).name if "/" in run.dataset else run.dataset
        width = NARROW_DATASET_WIDTH if self._narrow else DATASET_WIDTH  # as `_fill` set it
        if len(dataset) > width:
            dataset = dataset[: width - 1] + "…"
        return [
            mark,
            short_date(run.started),
            run.task,
            run.arch,
            Text(run.status, style=STATUS_STYLES.get(run.status, "")),
            f"{run.step:,}",
            metric_cell(run, name, value),
            dataset,
        ]

    def history(self, run_dir: Path) -> ChartHistory:
        """The run's steps and evaluations as last read (none while a thread reads them for
        the first time)."""
        return self._histories.get(run_dir) or ChartHistory()

    @property
    def current(self) -> RunInfo | None:
        """The highlighted run."""
        table = self.query_one(DataTable)
        if not self.runs or table.cursor_row < 0 or table.cursor_row >= len(self.runs):
            return None
        return self.runs[table.cursor_row]

    # -- display -----------------------------------------------------------------------------

    def _show(self) -> None:
        """Charts: the marked runs overlaid, or else the highlighted run; settings beside it."""
        charts = self.query_one(QuantityCharts)
        detail = self.query_one("#run-detail", Static)
        current = self.current
        self._shown = current.path if current else None
        self._checkpoint = self._look_up(current)
        if current is None:
            charts.set_empty("no runs yet: press escape, choose a task and train one")
            detail.update(Text("No saved runs yet.", style="dim"))
            charts.replot()
            self.refresh_bindings()
            return
        shown = [current]
        if self.marked:
            shown = [r for r in self.runs if r.path in self.marked]
            shown.sort(key=lambda r: self.marked.index(r.path))
        info = TASKS.get(shown[0].task)
        if info is None:
            charts.set_empty(f"no task {shown[0].task!r} in this version: nothing to draw")
        else:
            self._plot(charts, shown, info.chart_quantities)
            if len({(r.task, r.dataset) for r in shown}) == 1:  # the same data: its references
                for q in info.quantities:
                    charts.set_references(q.name, info.references(q, shown[0].dataset,
                                                                  shown[0].metrics))  # fmt: skip
        charts.lay_out()
        charts.replot()
        detail.update(self._detail(current, self._checkpoint))
        self.refresh_bindings()

    def _plot(
        self, charts: QuantityCharts, shown: list[RunInfo], quantities: tuple[Quantity, ...]
    ) -> None:
        """Each run's curves on the charts of `quantities` that its task measures; marked runs
        get a colour each."""
        reading = any(r.path in self._reading and r.path not in self._histories for r in shown)
        charts.set_quantities(quantities, empty={
            q.name: "reading the run's history…" if reading
            else "this run has no recorded steps" if q.train_loss
            else f"no evaluation of {q.name} recorded" for q in quantities
        })  # fmt: skip
        labels = run_labels(shown)
        for run, label in zip(shown, labels, strict=True):
            info = TASKS.get(run.task)
            for q in quantities:
                if info is None or q not in info.quantities:
                    continue
                series = self.curves_of(run, q)
                if self.marked:
                    color = COLORS[self.marked.index(run.path) % len(COLORS)]
                    charts.add_run(q, label, color, series)
                else:
                    for split, (xs, ys) in series.items():
                        charts.curves[q.name].set_series(split, xs, ys)

    def curves_of(self, run: RunInfo, quantity: Quantity) -> dict[str, tuple[Any, Any]]:
        """The run's recorded (steps, values) of `quantity` by split (those with points)."""
        history = self.history(run.path)
        series: dict[str, tuple[Any, Any]] = {split: ([], []) for split in quantity.splits}
        for record in history.evals:
            for split, value in quantity.points(record["metrics"]):
                series[split][0].append(record["step"])
                series[split][1].append(value)
        if quantity.train_loss:  # the steps' loss (no evaluation is of split train)
            series["train"] = (history.steps, history.losses)
        return {split: points for split, points in series.items() if len(points[0])}

    def _detail(self, run: RunInfo, checkpoint: Path | None) -> RenderableType:
        """The run's settings, metrics and playable checkpoint as a two-column grid."""
        summary = read_summary(run.path)
        config = summary.get("config", {})
        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        rows = [
            ("folder", run.path.name),
            ("status", run.status + (f": {summary['reason']}" if summary.get("reason") else "")),
            ("epochs", f"{summary.get('epoch', '?')} of {config.get('epochs') or '–'}"),
            ("sizes", f"{config.get('layers', '?')}×{config.get('hidden', '?')}, "
                      f"embed {config.get('embed', '?')}"),
            ("lr", f"{config.get('lr', '?')} ({config.get('schedule', '?')})"),
            ("batch × seq", f"{config.get('batch', '?')} × {config.get('seq_len', '?')}"),
            ("dataset", str(config.get("dataset", run.dataset))),
        ]  # fmt: skip
        for key, value in rows:
            table.add_row(key, value)
        for key, value in run.metrics.items():
            table.add_row(metric_label(key), fmt_metric(value))
        table.add_row("checkpoint", checkpoint.name if checkpoint else "none")
        return Group(table)

    @staticmethod
    def _look_up(run: RunInfo | None) -> Path | None:
        """The run's playable checkpoint on disk now (None without a run or a checkpoint)."""
        return playable_checkpoint(run.path) if run else None

    def look_up_checkpoint(self) -> None:
        """Look for the highlighted run's playable checkpoint again; Play and Inspect follow."""
        current = self.current
        checkpoint = self._look_up(current)
        if checkpoint != self._checkpoint:
            self._checkpoint = checkpoint
            if current is not None:
                self.query_one("#run-detail", Static).update(self._detail(current, checkpoint))
            self.refresh_bindings()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        current = self.current
        if (current.path if current else None) != self._shown:  # filling the table highlights
            self._show()  # the row `_fill` has just drawn again

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_mark()

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cycle_chart":
            return self.query_one(QuantityCharts).can_cycle
        if action in ("mark", "resume", "delete"):
            return self.current is not None
        if action == "inspect":
            return self.current is not None and self._checkpoint is not None
        if action == "play":
            current = self.current
            return (
                current is not None
                and current.task in PLAY_SCREENS
                and self._checkpoint is not None
            )
        return True

    def action_cycle_chart(self) -> None:
        """Show the next quantity on the switchable chart."""
        self.query_one(QuantityCharts).cycle()

    def action_mark(self) -> None:
        """Mark or unmark the highlighted run for comparison."""
        current = self.current
        if current is None:
            return
        if current.path in self.marked:
            self.marked.remove(current.path)
        else:
            self.marked.append(current.path)
        table = self.query_one(DataTable)
        for row, run in enumerate(self.runs):
            table.update_cell_at(Coordinate(row, 0), self._cells(run)[0])
        self._show()

    def action_resume(self) -> None:
        """Ask for the epochs in all, then continue the run on the Train screen."""
        current = self.current
        if current is None:
            return
        if resumable_checkpoint(current.path) is None:
            self.notify(
                f"this run has no {LAST_CHECKPOINT} checkpoint to resume from", severity="error"
            )
            return
        summary = read_summary(current.path)
        done = int(summary.get("epoch", 0))
        planned = summary.get("config", {}).get("epochs") or done + 1
        suggest = planned if planned > done else done + 1

        def answered(epochs: int | None) -> None:
            if epochs is not None:
                self.post_message(ResumeRequested(current.path, epochs))

        self.app.push_screen(ResumeScreen(current.path.name, done, suggest), answered)

    def action_play(self) -> None:
        """Open the highlighted run's checkpoint in Play."""
        checkpoint = self._look_up(self.current)
        if checkpoint is not None:
            self.post_message(PlayRequested(checkpoint))

    def action_inspect(self) -> None:
        """Open the highlighted run's checkpoint in the inspector of its task."""
        from tui.screens.inspect import inspect_screen_for

        checkpoint = self._look_up(self.current)
        if checkpoint is None:
            return
        try:
            screen = inspect_screen_for(checkpoint)
        except ValueError as exc:
            self.notify(str(exc), title="Nothing to inspect", severity="warning")
            return
        self.app.push_screen(screen)

    def action_delete(self) -> None:
        """Delete the highlighted run's folder, after asking."""
        current = self.current
        if current is None:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            root = runs_root().resolve()
            path = current.path.resolve()
            if root not in path.parents:
                self.notify(f"{path} is not inside {root}; not deleted", severity="error")
                return
            shutil.rmtree(path, ignore_errors=True)
            self.notify(f"deleted {current.path.name}")
            self.reload()

        self.app.push_screen(
            ConfirmScreen(
                "Delete run?",
                f"Delete {current.path.name} with its checkpoints and curves? This cannot be "
                "undone.",
                yes="Delete",
                danger=True,
            ),
            answered,
        )

    def action_back(self) -> None:
        """Clear the marks, or go back."""
        if self.marked:
            self.marked.clear()
            self.reload()
            return
        self.dismiss()

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW
        if narrow != self._narrow:  # not at the first layout: the table was filled for its width
            self.reload()  # dataset names cut to fit the width

    def on_screen_suspend(self) -> None:
        self._hidden = True
        self._lookup.pause()

    def on_screen_resume(self) -> None:
        """Shown again (the app keeps one Runs screen): read what changed meanwhile."""
        if self._hidden:  # not at the first showing, which `on_mount` has filled
            self._hidden = False
            self._lookup.resume()
            self.reload()
