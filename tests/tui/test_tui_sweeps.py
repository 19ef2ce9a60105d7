"""The Sweeps screen (issue 17): the form and its bad input, the live table of trials, the best
so far, the importances, opening a trial's run, stopping, a saved study; the child process's
signals; one snapshot mid-sweep.

No real sweep: the screen's event source is `FakeSweep` (events the test feeds it), the child
process is `FakeChild` in place of `subprocess.Popen`, a saved study is a `StudyView` built by
hand, except in the one test that reads a real Optuna study from SQLite.
"""

from __future__ import annotations

import dataclasses
import io
import queue
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static
from tui_helpers import ScreenApp, screen_text, set_value, wait_for, write_task_run

from tasks.experiments.events import (
    SweepEvent,
    SweepFinished,
    SweepStarted,
    TrialDone,
    TrialProgress,
    TrialStarted,
)
from tasks.experiments.space import SweepError
from tui import sweep_process, train_process
from tui.app import make_app
from tui.screens.runs import RunsScreen
from tui.screens.sweeps import SweepsScreen
from tui.sweep_process import (
    StudyView,
    SweepProcess,
    SweepProcessError,
    SweepRequest,
    Trial,
    read_study,
)
from tui.widgets.field import Field
from tui.widgets.loss_chart import LossChart
from tui.widgets.trial_table import TrialTable

SPACE = """\
arch = ["gru", "lstm"]
dropout = [0.0, 0.3]

[lr]
low = 0.0003
high = 0.01
log = true

[hidden]
low = 64
high = 256
step = 64
"""
"""A small search space of sentiment settings (fixed, so the snapshot does not follow the
defaults)."""

INTERRUPTED = "interrupted (its settings were queued again)"

# -- fake sweep events ---------------------------------------------------------------------------


def begun(trials: int = 6, before: int = 0) -> SweepStarted:
    """A sentiment sweep on rt-polarity, maximising validation accuracy."""
    return SweepStarted(
        study="sentiment-rt-polarity", storage="sqlite:///sweeps.db", task="sentiment",
        dataset="rt-polarity", metric="val_accuracy", lower_is_better=False,
        trials_target=trials, finished_before=before,
    )  # fmt: skip


def params(n: int) -> dict[str, Any]:
    """Trial n's settings (fixed, seeded by n)."""
    return {"arch": ("gru", "lstm")[n % 2], "dropout": (0.0, 0.3)[n // 2 % 2],
            "lr": round(0.0004 * (1.7**n), 5), "hidden": 64 * (1 + n % 4)}  # fmt: skip


def begin(n: int, run_dir: str | None = None) -> TrialStarted:
    return TrialStarted(n, params(n), run_dir or f"/runs/sweep-trial-{n}")


def done(
    n: int, value: float | None, state: str = "complete", pruned_step: int | None = None,
    run_dir: str | None = None, reason: str | None = None,
) -> TrialDone:  # fmt: skip
    tests = {"test_accuracy": value - 0.01} if state == "complete" and value else {}
    folder = run_dir or f"/runs/sweep-trial-{n}"
    return TrialDone(n, state, value, params(n), folder, pruned_step, tests, 60.0 + 7 * n, reason)


MID_SWEEP: list[SweepEvent] = [
    begun(),
    begin(0), TrialProgress(0, 1, 0.70), done(0, 0.742),
    begin(1), done(1, 0.771),
    begin(2), TrialProgress(2, 1, 0.61), done(2, 0.615, "pruned", pruned_step=2),
    begin(3), done(3, 0.789),
    begin(4), done(4, 0.602, "pruned", pruned_step=1),
    begin(5), TrialProgress(5, 3, 0.764),
]  # fmt: skip
"""Five trials finished (two pruned), the sixth running."""


class FakeSweep:
    """The screen's event source: yields what the test feeds it until `end()`; a stop yields each
    running trial's interrupted `TrialDone` (as `rnn-tui sweep` does) and returns."""

    def __init__(self) -> None:
        self.events: queue.Queue[SweepEvent | None] = queue.Queue()
        self.requests: list[SweepRequest] = []
        """What each start asked for."""
        self.stopped = threading.Event()
        """Set when a sweep saw its stop."""
        self.running: set[int] = set()
        """The trials started and not done yet."""

    def __call__(self, request: SweepRequest) -> FakeSweep:
        self.requests.append(request)
        return self

    def feed(self, *events: SweepEvent) -> None:
        for event in events:
            self.events.put(event)

    def end(self) -> None:
        self.events.put(None)

    def run(self, stop: threading.Event) -> Iterator[SweepEvent]:
        while not stop.is_set():
            try:
                event = self.events.get(timeout=0.05)
            except queue.Empty:
                continue
            if event is None:
                return
            if isinstance(event, TrialStarted):
                self.running.add(event.number)
            elif isinstance(event, TrialDone):
                self.running.discard(event.number)
            yield event
        self.stopped.set()
        for number in sorted(self.running):
            yield done(number, None, "failed", reason=INTERRUPTED)


@pytest.fixture
def fake() -> FakeSweep:
    return FakeSweep()


@pytest.fixture
def space_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`space.toml` in the working folder (a relative name: the snapshot shows it)."""
    (tmp_path / "space.toml").write_text(SPACE)
    monkeypatch.chdir(tmp_path)
    return "space.toml"


def sweeps_app(fake: FakeSweep, reader: Any = read_study) -> ScreenApp:
    return ScreenApp(SweepsScreen("sentiment", source=fake, reader=reader))


def error_of(screen: SweepsScreen, name: str) -> str:
    return screen.query_one(f"#field-{name}", Field).error


def cell(screen: SweepsScreen, number: int, column: str) -> str:
    return str(screen.query_one(TrialTable).get_cell(str(number), column))


def static_text(screen: SweepsScreen, selector: str) -> str:
    """A Static's text as drawn at its width (tables included), lines stripped."""
    widget = screen.query_one(selector, Static)
    console = Console(file=io.StringIO(), width=max(widget.content_size.width, 20), record=True)
    console.print(widget.content)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


async def start(pilot: Pilot, fake: FakeSweep, *events: SweepEvent) -> SweepsScreen:
    """Press ctrl+r, feed `events`, wait until the table has their last trial's state."""
    screen = pilot.app.screen
    assert isinstance(screen, SweepsScreen)
    fake.feed(*events)
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: fake.events.empty() and screen.state == "running")
    await settle(pilot, screen, events[-1])
    return screen


async def settle(pilot: Pilot, screen: SweepsScreen, last: SweepEvent) -> None:
    """Until the table shows `last` (a trial event) or the sweep took it (the others)."""
    table = screen.query_one(TrialTable)
    if isinstance(last, TrialDone):
        await wait_for(pilot, lambda: getattr(table.trials.get(last.number), "state", "")
                       == last.state)  # fmt: skip
    elif isinstance(last, TrialProgress):
        await wait_for(pilot, lambda: getattr(table.trials.get(last.number), "step", None)
                       == last.step)  # fmt: skip
    elif isinstance(last, TrialStarted):
        await wait_for(pilot, lambda: last.number in table.trials)
    elif isinstance(last, SweepFinished):
        await wait_for(pilot, lambda: screen.state == "finished")


# -- the form ------------------------------------------------------------------------------------


async def test_bad_input_is_one_line_under_its_field_and_nothing_starts(
    fake: FakeSweep, tmp_path: Path
) -> None:
    app = sweeps_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        await set_value(pilot, "#field-trials-input", "")
        assert error_of(screen, "trials") == "required"
        await pilot.press("ctrl+r")
        await pilot.pause()
        await set_value(pilot, "#field-trials-input", "0")
        assert error_of(screen, "trials") == "must be at least 1"
        await set_value(pilot, "#field-trials-input", "4")
        await set_value(pilot, "#field-minutes-input", "0")
        assert error_of(screen, "minutes") == "must be more than 0"
        await set_value(pilot, "#field-minutes-input", "1")
        await set_value(pilot, "#field-space-input", "no-such-space.toml")
        assert error_of(screen, "space") == "no such file: no-such-space.toml"
        bad = tmp_path / "bad.toml"
        bad.write_text("hiden = [64, 128]\n")
        await set_value(pilot, "#field-space-input", str(bad))
        message = error_of(screen, "space")
        assert "hiden" in message and "\n" not in message
        assert "hiden" in screen_text(app)  # shown under the field
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.is_running and app.screen is screen
        assert fake.requests == [] and screen.state == "idle"
        await set_value(pilot, "#field-space-input", "")
        assert all(f.error == "" for f in screen.query(Field))
        assert "lr" in static_text(screen, "#space")  # the default space again


async def test_bad_jobs_are_one_line_under_the_field_and_nothing_starts(fake: FakeSweep) -> None:
    app = sweeps_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#field-jobs", Field).text == "1"  # as `rnn-tui sweep`
        for text, error in (("0", "must be at least 1"), ("-2", "must be at least 1"),
                            ("two", "must be an integer"), ("", "required")):  # fmt: skip
            await set_value(pilot, "#field-jobs-input", text)
            assert error_of(screen, "jobs") == error
            assert error in screen_text(app)  # shown under the field
            await pilot.press("ctrl+r")
            await pilot.pause()
            assert fake.requests == [] and screen.state == "idle"
        await set_value(pilot, "#field-jobs-input", "2")
        assert all(f.error == "" for f in screen.query(Field))


async def test_start_runs_the_sweep_command_of_the_form(fake: FakeSweep, space_file: str) -> None:
    app = sweeps_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        await set_value(pilot, "#field-trials-input", "6")
        await set_value(pilot, "#field-minutes-input", "0.5")
        await set_value(pilot, "#field-pruner-select", "halving")
        await set_value(pilot, "#field-space-input", space_file)
        assert "step 64" in static_text(screen, "#space")  # the file's space is shown
        await start(pilot, fake, begun())
        [request] = fake.requests
        assert request.args() == [
            "sweep", "sentiment", "--dataset", "rt-polarity", "--trials", "6",
            "--minutes-per-trial", "0.5", "--pruner", "halving", "--space", "space.toml",
            "--json",
        ]  # fmt: skip
        assert screen.query_one("#sweep-setup").disabled  # no edits while it runs
        fake.end()
        await wait_for(pilot, lambda: screen.state == "stopped")
        assert not screen.query_one("#sweep-setup").disabled


def test_a_request_names_only_the_options_given() -> None:
    request = SweepRequest("charlm", "tiny-shakespeare", 20, 2.0, storage="sqlite:///s.db")
    assert request.args() == [
        "sweep", "charlm", "--dataset", "tiny-shakespeare", "--trials", "20",
        "--minutes-per-trial", "2", "--pruner", "median", "--storage", "sqlite:///s.db", "--json",
    ]  # fmt: skip


# -- the live sweep ------------------------------------------------------------------------------


async def test_the_table_the_best_and_the_chart_follow_the_trials(fake: FakeSweep) -> None:
    app = sweeps_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = await start(pilot, fake, begun(), begin(0))
        assert cell(screen, 0, "state") == "running"
        assert cell(screen, 0, "settings") == "arch gru · dropout 0 · lr 0.0004 · hidden 64"
        assert "no completed trial yet" in static_text(screen, "#best")
        assert "trial 0 running" in static_text(screen, "#sweep-status")
        fake.feed(TrialProgress(0, 2, 0.7))
        await settle(pilot, screen, TrialProgress(0, 2, 0.7))
        assert cell(screen, 0, "value") == "0.7 @ 2"
        fake.feed(done(0, 0.742))
        await settle(pilot, screen, done(0, 0.742))
        assert (cell(screen, 0, "state"), cell(screen, 0, "value")) == ("complete", "0.742")
        best = static_text(screen, "#best")
        assert "#0" in best and "0.742" in best and "test_accuracy" in best
        fake.feed(begin(1), done(1, 0.701), begin(2), done(2, 0.65, "pruned", pruned_step=3))
        await settle(pilot, screen, done(2, 0.65, "pruned", pruned_step=3))
        assert "#0" in static_text(screen, "#best")  # 0.701 is worse: higher is better
        assert (cell(screen, 2, "state"), cell(screen, 2, "pruned")) == ("pruned", "3")
        fake.feed(begin(3), done(3, 0.789))
        await settle(pilot, screen, done(3, 0.789))
        assert "#3" in static_text(screen, "#best")
        assert "4 of 6 trials finished" in static_text(screen, "#sweep-status")
        series = screen.query_one(LossChart).series
        assert series["complete"] == ([0.0, 1.0, 3.0], [0.742, 0.701, 0.789])
        assert series["pruned"] == ([2.0], [0.65])
        assert series["best so far"] == ([0.0, 1.0, 3.0, 3.0], [0.742, 0.742, 0.742, 0.789])
        assert app.screen is screen


async def test_trials_running_at_once_all_show_running(fake: FakeSweep) -> None:
    app = sweeps_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = await start(pilot, fake, begun(), begin(0), begin(1), TrialProgress(0, 1, 0.72))

        def status() -> str:
            return static_text(screen, "#sweep-status")

        assert [cell(screen, n, "state") for n in (0, 1)] == ["running", "running"]
        assert cell(screen, 0, "value") == "0.72 @ 1"
        assert "trials 0, 1 running · 0 of 6 trials finished" in status()
        fake.feed(done(0, 0.742), begin(2))
        await settle(pilot, screen, begin(2))
        states = [cell(screen, n, "state") for n in (0, 1, 2)]
        assert states == ["complete", "running", "running"]
        assert "trials 1, 2 running · 1 of 6 trials finished" in status()
        fake.feed(done(1, 0.7))
        await settle(pilot, screen, done(1, 0.7))
        assert "trial 2 running · 2 of 6 trials finished" in status()
        fake.feed(begin(3))
        await settle(pilot, screen, begin(3))
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "stopped")
        assert [cell(screen, n, "value") for n in (2, 3)] == ["interrupted", "interrupted"]
        assert "stopped: 2 of 6 trials finished" in status()


async def test_importances_appear_once_four_trials_completed(fake: FakeSweep) -> None:
    app = sweeps_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = await start(pilot, fake, *MID_SWEEP[:-2])
        assert "shown once 4 trials have completed" in static_text(screen, "#importances")
        live = {"hidden": 0.7, "lr": 0.3}
        fifth = dataclasses.replace(done(5, 0.77), importances=live)
        fake.feed(begin(5), fifth)
        await settle(pilot, screen, fifth)
        assert [line.split()[0] for line in static_text(screen, "#importances").splitlines()] == [
            "hidden", "lr"]  # while the sweep runs  # fmt: skip
        importances = {"lr": 0.61, "hidden": 0.24, "arch": 0.1, "dropout": 0.05}
        finished = SweepFinished(3, 0.789, params(3), "/runs/sweep-trial-3",
                                 {"test_accuracy": 0.801}, importances)  # fmt: skip
        fake.feed(finished)
        fake.end()
        await settle(pilot, screen, finished)
        bars = static_text(screen, "#importances").splitlines()
        assert [line.split()[0] for line in bars] == ["lr", "hidden", "arch", "dropout"]
        assert bars[0].count("█") == 18 and bars[0].endswith("61%")
        assert bars[1].count("█") == 7  # 0.24 / 0.61 of 18 cells
        best = static_text(screen, "#best")
        assert "#3" in best and "0.801" in best  # the sweep's own test metrics of the best
        assert static_text(screen, "#sweep-status").startswith("finished: 6 of 6 trials")
        await pilot.pause()
        assert screen.state == "finished"  # the worker's end does not turn it into stopped


async def test_a_resumed_study_shows_its_earlier_trials(fake: FakeSweep) -> None:
    calls: list[tuple[str | None, str]] = []

    def reader(storage: str | None, name: str) -> StudyView:
        calls.append((storage, name))
        earlier = [Trial(0, "complete", params(0), 0.75), Trial(1, "pruned", params(1), 0.6,
                   pruned_step=2), Trial(2, "failed", params(2), reason=INTERRUPTED)]  # fmt: skip
        return StudyView(name, "sqlite:///sweeps.db", "sentiment", "rt-polarity",
                         "val_accuracy", False, earlier, None)  # fmt: skip

    app = sweeps_app(fake, reader)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = await start(pilot, fake, begun(trials=4, before=2), begin(3))
        table = screen.query_one(TrialTable)
        await wait_for(pilot, lambda: len(table.trials) == 4)
        assert calls == [("sqlite:///sweeps.db", "sentiment-rt-polarity")]
        assert [table.get_row_at(i)[0] for i in range(4)] == [0, 1, 2, 3]
        assert cell(screen, 2, "value") == "interrupted"
        assert "#0" in static_text(screen, "#best")
        status = static_text(screen, "#sweep-status")
        assert "2 of 4 trials finished (2 before this sweep)" in status


# -- stopping ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["s", "ctrl+c"])
async def test_stop_interrupts_the_running_trial(fake: FakeSweep, key: str) -> None:
    app = sweeps_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = await start(pilot, fake, begun(), begin(0), done(0, 0.74), begin(1))
        await pilot.press(key)
        await wait_for(pilot, lambda: screen.state == "stopped")
        assert fake.stopped.is_set()
        assert cell(screen, 0, "state") == "complete"
        assert (cell(screen, 1, "state"), cell(screen, 1, "value")) == ("failed", "interrupted")
        assert "stopped: 1 of 6 trials finished" in static_text(screen, "#sweep-status")
        assert app.is_running and app.screen is screen


async def test_a_sweep_that_fails_says_why_in_one_line() -> None:
    class Failing:
        def __init__(self, request: SweepRequest) -> None:
            pass

        def run(self, stop: threading.Event) -> Iterator[SweepEvent]:
            yield from ()
            raise SweepProcessError("cannot open the study storage sqlite:///nope: no such table")

    app = ScreenApp(SweepsScreen("sentiment", source=Failing))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.state == "failed")
        assert static_text(screen, "#sweep-status") == (
            "failed: cannot open the study storage sqlite:///nope: no such table"
        )
        assert not screen.query_one("#sweep-setup").disabled and app.is_running


# -- opening a trial's run -------------------------------------------------------------------------


async def test_enter_on_a_trial_opens_its_run_in_runs(fake: FakeSweep, user_dirs: Path) -> None:
    root = user_dirs / "home" / "runs"
    newer = write_task_run(root, "sentiment", "gru", "2025-01-02 10:00:00")
    older = write_task_run(root, "sentiment", "lstm", "2025-01-01 09:00:00")
    app = sweeps_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        no_folder = TrialDone(2, "failed", None, params(2), None, None, {}, 1.0, "boom")
        screen = await start(pilot, fake, begun(), begin(0, str(older)),
                             done(0, 0.74, run_dir=str(older)), begin(1, str(newer)),
                             done(1, 0.7, run_dir=str(newer)), no_folder)  # fmt: skip
        table = screen.query_one(TrialTable)
        table.move_cursor(row=2)
        await pilot.press("enter")  # no run folder: a note, nothing opens
        await pilot.pause()
        assert app.screen is screen
        table.move_cursor(row=0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        runs = app.screen
        await wait_for(pilot, lambda: runs.current is not None)
        assert [r.path.resolve() for r in runs.runs] == [newer.resolve(), older.resolve()]
        assert runs.current is not None and runs.current.path.resolve() == older.resolve()
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)


# -- a saved study -------------------------------------------------------------------------------


async def test_a_saved_study_opens_without_running(fake: FakeSweep) -> None:
    def reader(storage: str | None, name: str) -> StudyView:
        if name != "sentiment-rt-polarity":
            raise SweepError(f"there is no study {name!r} in sqlite:///sweeps.db")
        trials = [Trial(0, "complete", params(0), 0.74), Trial(1, "complete", params(1), 0.79),
                  Trial(2, "pruned", params(2), 0.6, pruned_step=1)]  # fmt: skip
        return StudyView(name, "sqlite:///sweeps.db", "sentiment", "rt-polarity", "val_accuracy",
                         False, trials, {"lr": 0.7, "arch": 0.3})  # fmt: skip

    app = sweeps_app(fake, reader)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        await set_value(pilot, "#field-study-input", "other")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: screen.state == "failed")
        assert "there is no study 'other'" in static_text(screen, "#sweep-status")
        await set_value(pilot, "#field-study-input", "")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: screen.state == "viewing")
        assert sorted(screen.query_one(TrialTable).trials) == [0, 1, 2]
        assert "#1" in static_text(screen, "#best")
        assert static_text(screen, "#importances").splitlines()[0].startswith("lr")
        assert "3 trials, 3 finished · nothing running" in static_text(screen, "#sweep-status")
        assert fake.requests == []


def test_read_study_reads_a_real_optuna_study(tmp_path: Path) -> None:
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    url = f"sqlite:///{tmp_path / 'sweeps.db'}"
    study = optuna.create_study(storage=url, study_name="charlm-x", direction="minimize")
    for key, value in (("task", "charlm"), ("dataset", "x"), ("metric", "val_loss")):
        study.set_user_attr(key, value)
    lr = FloatDistribution(1e-4, 1e-2, log=True)
    for value, state in ((1.9, TrialState.COMPLETE), (2.4, TrialState.PRUNED)):
        study.add_trial(create_trial(params={"lr": 0.003}, distributions={"lr": lr},
                                     value=value if state == TrialState.COMPLETE else None,
                                     state=state, user_attrs={"run_dir": "/runs/a"}))  # fmt: skip
    view = read_study(url, "charlm-x")
    assert (view.task, view.dataset, view.metric, view.lower_is_better) == (
        "charlm", "x", "val_loss", True,
    )  # fmt: skip
    assert [(t.number, t.state, t.run_dir) for t in view.trials] == [
        (0, "complete", "/runs/a"), (1, "pruned", "/runs/a"),
    ]  # fmt: skip
    assert view.trials[0].value == 1.9 and view.trials[0].params == {"lr": 0.003}
    with pytest.raises(SweepError, match="there is no study 'other'"):
        read_study(url, "other")
    with pytest.raises(SweepError, match="no study database at"):
        read_study(f"sqlite:///{tmp_path / 'missing.db'}", "charlm-x")


# -- the child process ---------------------------------------------------------------------------


class _Pipe:
    """The read end of a pipe: the lines put in, until closed."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()

    def __iter__(self) -> Iterator[str]:
        while (line := self.lines.get()) is not None:
            yield line


class FakeChild:
    """`rnn-tui sweep --json` as the pipes show it: prints `events`, answers SIGINT (when
    `answers`) with the interrupted trial and exit 130, SIGTERM with -15."""

    def __init__(self, args: list[str], events: list[SweepEvent], answers: bool,
                 stderr: str = "", exit_now: int | None = None) -> None:  # fmt: skip
        self.args = args
        self.answers = answers
        self.signals: list[str] = []
        self.returncode: int | None = None
        self.pid = 0
        self.stdout, self.stderr = _Pipe(), _Pipe()
        self._exited = threading.Event()
        for event in events:
            self.stdout.lines.put(event.to_json() + "\n")
        self.stdout.lines.put("a stray line of a library\n")
        if stderr:
            self.stderr.lines.put(stderr + "\n")
        if exit_now is not None:
            self._exit(exit_now)

    def _exit(self, status: int) -> None:
        if self.returncode is None:
            self.returncode = status
            self.stdout.lines.put(None)
            self.stderr.lines.put(None)
            self._exited.set()

    def send_signal(self, sig: int) -> None:
        assert sig == signal.SIGINT
        self.signals.append("SIGINT")
        if self.answers:
            self.stdout.lines.put(done(1, None, "failed", reason=INTERRUPTED).to_json() + "\n")
            self._exit(130)

    def terminate(self) -> None:
        self.signals.append("SIGTERM")
        self._exit(-15)

    def kill(self) -> None:
        self.signals.append("SIGKILL")
        self._exit(-9)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`subprocess.Popen` makes `FakeChild`ren as `spec` says; they are kept in `made`."""
    spec: dict[str, Any] = {"events": [begun(), begin(0), done(0, 0.7), begin(1)],
                            "answers": True, "made": []}  # fmt: skip

    def popen(args: list[str], **kwargs: Any) -> FakeChild:
        assert kwargs["stdin"] == subprocess.DEVNULL
        child = FakeChild(args, spec["events"], spec["answers"], spec.get("stderr", ""),
                          spec.get("exit_now"))  # fmt: skip
        spec["made"].append(child)
        return child

    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(sweep_process, "lower_priority", lambda pid: None)
    monkeypatch.setattr(sweep_process, "STOP_GRACE_S", 0.3)
    monkeypatch.setattr(train_process, "TERM_GRACE_S", 0.3)
    return spec


REQUEST = SweepRequest("sentiment", "rt-polarity", 6, 1.0)


def test_stop_is_the_sweeps_ctrl_c(children: dict[str, Any]) -> None:
    process = SweepProcess(REQUEST)
    stop = threading.Event()
    kinds = []
    for event in process.run(stop):
        kinds.append(event.kind)
        if len(kinds) == 4:  # trial 1 is running
            stop.set()
    [child] = children["made"]
    assert child.args[-len(REQUEST.args()) :] == REQUEST.args()
    assert child.signals == ["SIGINT"] and process.returncode == 130
    assert kinds == ["sweep_started", "trial_started", "trial_done", "trial_started",
                     "trial_done"]  # fmt: skip


async def test_the_forms_jobs_reach_the_launched_command(children: dict[str, Any]) -> None:
    app = ScreenApp(SweepsScreen("sentiment", source=SweepProcess))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        await set_value(pilot, "#field-jobs-input", "3")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: 1 in screen.query_one(TrialTable).trials)
        [child] = children["made"]
        assert child.args[3:] == [
            "sweep", "sentiment", "--dataset", "rt-polarity", "--trials", "20",
            "--minutes-per-trial", "2", "--pruner", "median", "--jobs", "3", "--json",
        ]  # fmt: skip
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "stopped")
        assert child.signals == ["SIGINT"]


def test_an_unanswered_stop_escalates_to_sigterm(children: dict[str, Any]) -> None:
    children["answers"] = False
    stop = threading.Event()
    stop.set()
    process = SweepProcess(REQUEST)
    list(process.run(stop))  # stopped: no error for the missing sweep_finished
    [child] = children["made"]
    assert child.signals == ["SIGINT", "SIGTERM"] and process.returncode == -15


def test_leaving_mid_sweep_interrupts_the_child(children: dict[str, Any]) -> None:
    events = SweepProcess(REQUEST).run(threading.Event())
    assert next(events).kind == "sweep_started"
    events.close()
    [child] = children["made"]
    assert child.signals == ["SIGINT"] and child.returncode == 130


def test_a_child_that_ends_early_raises_its_error_line(children: dict[str, Any]) -> None:
    children.update(events=[], stderr="rnn-tui: error: space.toml: hiden: not a setting of "
                    "sentiment (did you mean hidden?)", exit_now=2)  # fmt: skip
    with pytest.raises(SweepProcessError) as raised:
        list(SweepProcess(REQUEST).run(threading.Event()))
    assert str(raised.value) == (
        "space.toml: hiden: not a setting of sentiment (did you mean hidden?)"
    )


# -- the way in ----------------------------------------------------------------------------------


async def test_w_on_home_and_the_palette_open_sweeps() -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "Sweeps" in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("down")
        await pilot.pause()
        highlighted = app.screen.query_one("#task-detail").task_name
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, SweepsScreen))
        screen = app.screen
        assert screen.query_one("#sweep-form").task == highlighted
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SweepsScreen))


# -- the snapshot --------------------------------------------------------------------------------


def test_snapshot_mid_sweep(snap_compare, space_file: str) -> None:
    """Five trials finished (two pruned), the sixth running, on a fixed space file."""
    fake = FakeSweep()

    async def run_before(pilot: Pilot) -> None:
        screen = SweepsScreen("sentiment", source=fake)
        await pilot.app.push_screen(screen)
        await pilot.pause()
        await set_value(pilot, "#field-trials-input", "6")
        await set_value(pilot, "#field-space-input", space_file)
        await start(pilot, fake, *MID_SWEEP)
        screen.query_one(LossChart).replot()
        await pilot.pause()

    assert snap_compare(make_app(preload_torch=False), terminal_size=(120, 40),
                        run_before=run_before)  # fmt: skip
