"""The app's side of runs of several processes (issue 16).

Configure offers processes, precision and compile under Machine; the child of a run with
nproc > 1 is the launcher (`rnn-tui train ... --nproc N`); control lines, stop and quitting
reach the run; the Train screen shows the world size and the combined throughput.

No real multi-process run: `subprocess.Popen` is replaced by `FakeLauncher`, which records its
command, the control lines and the signals it gets and answers like rank 0 would, and the Train
screen is fed fake events as in test_tui_train.py.
"""

from __future__ import annotations

import dataclasses
import io
import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from fake_events import FakeTrainer, run_until, started, steps
from tui_helpers import ScreenApp, screen_text, set_value, tiny_config, wait_for

from tasks.engine.events import CheckpointSaved, Finished, Note, Started, TrainEvent
from tui import messages, train_process
from tui.screens.architecture import ArchChoice
from tui.screens.configure import ConfigureScreen
from tui.screens.train import TrainScreen
from tui.train_process import TrainProcess, TrainProcessError, cli_command
from tui.widgets.config_form import ChoiceRow, rows_for
from tui.widgets.field import Field
from tui.widgets.run_stats import RunStats, world_size

CHOICE = ArchChoice("lstm", layers=1, hidden=32, embed=16)
EOF = "<eof>"
"""How the fake records the end of its stdin."""


def started_on(nproc: int, run_dir: str = "/runs/ddp") -> Started:
    """The fake Started event of a run of `nproc` processes."""
    config = {"epochs": 2, "nproc": nproc}
    return dataclasses.replace(started(run_dir), config=config, world_size=nproc)


# -- a stand-in for the launcher process ---------------------------------------------------------


class _Lines:
    """The read end of a pipe: iterating yields the lines put in, until it is closed."""

    def __init__(self) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()

    def put(self, line: str) -> None:
        self._queue.put(line)

    def close(self) -> None:
        self._queue.put(None)

    def __iter__(self) -> Iterator[str]:
        while (line := self._queue.get()) is not None:
            yield line


class _Stdin:
    """The write end the app holds: each whole line goes to the fake child, closing is EOF."""

    def __init__(self, child: FakeLauncher) -> None:
        self.child = child
        self.buffer = ""

    def write(self, text: str) -> None:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.child.command(line)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.child.command(None)


class FakeLauncher:
    """What `subprocess.Popen` returns in these tests: rank 0 of a run, as seen through the pipes.

    It prints `events` at once, then answers `save` with a manual checkpoint and `stop` (or the
    end of its stdin, with `answers_stop`) with a stop checkpoint and `Finished`, and exits 130.
    SIGTERM ends it when `exits_on_term`; SIGKILL always does.
    """

    def __init__(
        self, args: list[str], events: list[TrainEvent], answers_stop: bool, exits_on_term: bool
    ) -> None:
        self.args = list(args)
        self.answers_stop = answers_stop
        self.exits_on_term = exits_on_term
        self.commands: list[str] = []
        """The control lines received, EOF as `EOF`."""
        self.signals: list[str] = []
        """SIGTERM and SIGKILL, in the order they came."""
        self.config: dict[str, Any] = {}
        """The settings file passed with --config, as it was when the child started."""
        if "--config" in self.args:
            path = self.args[self.args.index("--config") + 1]
            self.config = json.loads(Path(path).read_text())
        self.pid = 0
        self.returncode: int | None = None
        self.stdout = _Lines()
        self.stderr = _Lines()
        self.stdin = _Stdin(self)
        self._exited = threading.Event()
        self._step = 0
        for event in events:
            self._print(event)

    def _print(self, event: TrainEvent) -> None:
        self._step = getattr(event, "step", self._step)
        self.stdout.put(event.to_json() + "\n")

    def command(self, line: str | None) -> None:
        self.commands.append(EOF if line is None else line)
        if self.returncode is not None:
            return
        if line == "save":
            self._print(CheckpointSaved(self._step, "/runs/ddp/last.pt", "manual"))
        elif line in ("stop", None) and self.answers_stop:
            self._print(CheckpointSaved(self._step, "/runs/ddp/last.pt", "stop"))
            self._print(Finished("/runs/ddp", "/runs/ddp/last.pt", {"val_loss": 2.0}, True))
            self._exit(130)

    def _exit(self, status: int) -> None:
        if self.returncode is None:
            self.returncode = status
            self.stdout.close()
            self.stderr.close()
            self._exited.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def terminate(self) -> None:
        self.signals.append("SIGTERM")
        if self.exits_on_term:
            self._exit(-15)

    def kill(self) -> None:
        self.signals.append("SIGKILL")
        self._exit(-9)


@dataclass
class Launches:
    """Replaces `subprocess.Popen`; keeps every fake child it made."""

    events: list[TrainEvent] = dataclasses.field(default_factory=list)
    """What each child prints when it starts."""
    answers_stop: bool = True
    exits_on_term: bool = True
    children: list[FakeLauncher] = dataclasses.field(default_factory=list)

    def __call__(self, args: list[str], **kwargs: Any) -> FakeLauncher:
        child = FakeLauncher(args, self.events, self.answers_stop, self.exits_on_term)
        self.children.append(child)
        return child

    @property
    def child(self) -> FakeLauncher:
        """The one child started."""
        assert len(self.children) == 1, self.children
        return self.children[0]


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> Launches:
    """Every child process the app starts is a `FakeLauncher` (and is not reniced)."""
    fake = Launches()
    monkeypatch.setattr(subprocess, "Popen", fake)
    monkeypatch.setattr(train_process, "lower_priority", lambda pid: None)
    return fake


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seconds instead of half a minute before an unanswered stop escalates to signals."""
    monkeypatch.setattr(train_process, "STOP_GRACE_S", 0.3)
    monkeypatch.setattr(train_process, "TERM_GRACE_S", 0.3)


def ddp_config(nproc: int = 2) -> Any:
    """A tiny charlm config of `nproc` processes (never trained here: the child is a fake)."""
    return tiny_config(Path("small.txt"), epochs=2, nproc=nproc)


# -- Configure --------------------------------------------------------------------------------


async def test_the_machine_section_offers_processes_precision_and_compile() -> None:
    app = ScreenApp(ConfigureScreen("charlm", CHOICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        machine = [row.name for row in rows_for(type(screen.base))["Machine"]]
        assert {"nproc", "precision", "compile"} <= set(machine)
        nproc = screen.query_one("#field-nproc", Field)
        assert nproc.label == "Processes" and nproc.text == "1"
        precision = screen.query_one("#field-precision", ChoiceRow)
        assert precision.choices == ("fp32", "bf16", "fp16") and precision.value == "fp32"
        assert screen.query_one("#field-compile", ChoiceRow).value is False
        await set_value(pilot, "#field-nproc-input", "2")
        await set_value(pilot, "#field-precision Select", "bf16")
        await set_value(pilot, "#field-compile Select", "on")

        def machine_values() -> tuple | None:
            config = screen.config
            return None if config is None else (config.nproc, config.precision, config.compile)

        await wait_for(pilot, lambda: machine_values() == (2, "bf16", True))
        await set_value(pilot, "#field-nproc-input", "0")
        await wait_for(pilot, lambda: screen.config is None)
        assert nproc.error == "must be a positive integer (got 0)"
        assert screen.query_one("#start").disabled


# -- the child process ------------------------------------------------------------------------


def test_a_run_of_several_processes_is_started_through_the_launcher(launches: Launches) -> None:
    assert TrainProcess.new_run(ddp_config(1)).args == ["train", "charlm"]
    launches.events = [started_on(2), *steps(30)]
    process = TrainProcess.new_run(ddp_config(2))
    stop = threading.Event()
    kinds = []
    for event in process.run(stop):
        kinds.append(event.kind)
        if event.kind == "step":
            stop.set()
    child = launches.child
    command = cli_command("train", "charlm", "--nproc", "2")
    assert child.args[: len(command)] == command
    assert child.args[len(command) :: 2] == ["--config", "--json"] and child.args[-1] == "--control"
    assert child.config["nproc"] == 2
    assert child.commands == ["stop", EOF] and child.signals == []
    assert kinds[-2:] == ["checkpoint", "finished"] and process.returncode == 130


def test_an_unanswered_stop_is_sigterm_once_then_sigkill(
    launches: Launches, short_grace: None
) -> None:
    launches.events = [started_on(2), *steps(30)]
    launches.answers_stop = False  # e.g. rank 0 is stuck waiting for a rank that died
    launches.exits_on_term = False
    stop = threading.Event()
    stop.set()
    with pytest.raises(TrainProcessError, match="exit status -9"):
        list(TrainProcess.new_run(ddp_config()).run(stop))
    child = launches.child
    assert child.commands == ["stop", EOF]
    assert child.signals == ["SIGTERM", "SIGKILL"]  # SIGTERM once: torchrun passes it on


def test_leaving_a_live_run_ends_its_stdin_then_sends_sigterm(launches: Launches) -> None:
    launches.events = [started_on(2), *steps(30)]
    launches.answers_stop = False
    events = TrainProcess.new_run(ddp_config()).run(threading.Event())
    assert next(events).kind == "started"
    events.close()  # the reader goes away mid-run
    child = launches.child
    assert child.commands == [EOF] and child.signals == ["SIGTERM"]
    assert child.returncode == -15


def test_only_rank_0_reads_the_control_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli.launch import main_rank
    from tui.cli.train import _drive

    monkeypatch.delenv("RANK", raising=False)
    assert main_rank()
    monkeypatch.setenv("RANK", "0")
    assert main_rank()
    monkeypatch.setenv("RANK", "1")
    assert not main_rank()
    stdin = io.StringIO("save\nstop\n")
    monkeypatch.setattr(sys, "stdin", stdin)
    trainer = FakeTrainer(run_until(30))
    assert _drive(trainer, as_json=True, control=True) == 0
    assert stdin.read() == "save\nstop\n"  # left for rank 0: rank 1 read none of it
    assert not trainer.save_requested.is_set()
    assert '"event": "started"' in capsys.readouterr().out


# -- the Train screen -------------------------------------------------------------------------


def test_world_size_comes_from_the_started_event() -> None:
    assert world_size(None) == 1
    assert world_size(started()) == 1
    assert world_size(started_on(4)) == 4
    resumed = dataclasses.replace(started_on(2), world_size=3)  # stopped under 2, resumed under 3
    assert world_size(resumed) == 3
    assert world_size(SimpleNamespace(config={"nproc": 2})) == 1  # an event without the field


async def test_the_train_screen_shows_the_world_size_and_combined_throughput() -> None:
    screen = TrainScreen(None, task="charlm", dataset="tiny-shakespeare")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen.post_message(messages.for_event(started_on(2)))
        for event in steps(20):
            screen.post_message(messages.for_event(event))
        stats = screen.query_one(RunStats)
        await wait_for(pilot, lambda: stats.step is not None and stats.step.step == 20)
        rows = dict(stats.rows())
        assert rows["processes"] == "2" and rows["tokens/s (all)"] == "21,500"
        await wait_for(pilot, lambda: "tokens/s (all)" in screen_text(app))
        assert "started on 2 processes: 3,320,129 parameters" in screen_text(app)


async def test_a_run_of_one_process_shows_no_world_size() -> None:
    screen = TrainScreen(None, task="charlm", dataset="tiny-shakespeare")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for event in run_until(20):
            screen.post_message(messages.for_event(event))
        stats = screen.query_one(RunStats)
        await wait_for(pilot, lambda: stats.step is not None and stats.step.step == 20)
        rows = dict(stats.rows())
        assert "processes" not in rows and "tokens/s (all)" not in rows
        assert rows["tokens/s"] == "21,500"


@dataclass(frozen=True)
class _Newer(TrainEvent):
    kind: ClassVar[str] = "something-newer"


async def test_notes_and_the_compile_time_are_logged_and_an_unknown_event_is_ignored() -> None:
    screen = TrainScreen(None, task="charlm", dataset="tiny-shakespeare")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(messages.for_event(_Newer()), messages.UnknownEvent)
        screen.post_message(messages.for_event(_Newer()))
        note = "resumed under 2 processes (stopped under 1): the data order changes"
        screen.post_message(messages.for_event(Note(0, note)))
        await wait_for(pilot, lambda: "the data order changes" in screen_text(app))
        first = dataclasses.replace(next(steps(10)), compile_s=12.34)
        screen.post_message(messages.for_event(first))
        await wait_for(pilot, lambda: "the first step took 12.3 s" in screen_text(app))
        assert screen.state == "loading"


async def test_pause_save_and_stop_reach_the_launcher(launches: Launches) -> None:
    launches.events = [started_on(2), *steps(50)]
    screen = TrainScreen.new(ddp_config())
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: screen.state == "training")
        child = launches.child
        assert child.args[child.args.index("--nproc") + 1] == "2"
        await pilot.press("space")
        await wait_for(pilot, lambda: child.commands == ["pause"])
        await pilot.press("space")
        await wait_for(pilot, lambda: child.commands == ["pause", "resume"])
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.checkpoint == Path("/runs/ddp/last.pt"))  # manual
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.state == "stopped")
        await wait_for(pilot, lambda: child.commands[-1:] == [EOF])  # the reader closes stdin
        assert child.commands == ["pause", "resume", "save", "stop", EOF]
        assert child.signals == [] and child.returncode == 130
        assert dict(screen.query_one(RunStats).rows())["processes"] == "2"


async def test_quitting_the_app_stops_the_run(launches: Launches, short_grace: None) -> None:
    from tui.app import make_app

    launches.events = [started_on(2), *steps(50)]
    launches.answers_stop = False  # rank 0 never answers: the launcher gets SIGTERM
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = TrainScreen.new(ddp_config())
        await app.push_screen(screen)
        await wait_for(pilot, lambda: screen.state == "training")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, 10)
    child = launches.child
    assert child.wait(timeout=30) == -15  # the worker may outlive the app by a moment
    assert child.commands[0] == "stop" and child.signals == ["SIGTERM"]
