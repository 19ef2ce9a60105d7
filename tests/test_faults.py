"""Faults: a training child killed inside a checkpoint write, a full disk, two trainers on one
run and stale locks, the app gone (its control input closed).

The children are real `rnn-tui` processes on a tiny char model with one thread; every wait is
for a condition (a file appearing, an event line), with a generous deadline, and every child
is ended in a `finally`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cli_helpers import run_cli, watched_child
from engine_fixtures import CountingTask

import tasks.engine.checkpoint as checkpoint
from tasks.engine.checkpoint import FAULT_SLOW_WRITE, PARTIAL_GLOB, load_checkpoint
from tasks.engine.run_lock import Owner, RunBusy, start_ticks
from tasks.engine.runs import lock_file, read_history, read_summary
from tasks.engine.trainer import Trainer

TINY = ["--hidden", "16", "--layers", "1", "--embed", "8", "--batch", "8", "--seq-len", "16",
        "--threads", "1", "--eval-every", "1000"]  # fmt: skip
DEADLINE_S = 180.0
"""The longest any wait may take (a busy machine starts torch slowly)."""
POLL_S = 0.02
LONG_AGO = "2026-01-01 00:00:00"

T = TypeVar("T")


def _cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "tui.cli", *argv]


def _wait_for(condition: Callable[[], T], what: str, proc: subprocess.Popen | None = None) -> T:
    """Poll `condition` until it returns something true, and return that; fail after
    `DEADLINE_S`, or as soon as `proc` has exited."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the child exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {DEADLINE_S:.0f} s waiting for {what}")
        time.sleep(POLL_S)


@dataclass
class Child:
    """A `rnn-tui` child process whose stdout and stderr go to files."""

    proc: subprocess.Popen
    out: Path
    err: Path

    def events(self) -> list[dict[str, Any]]:
        """The JSON events printed so far (a line still being written is left out)."""
        events = []
        for line in self.out.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                events.append(json.loads(line))
        return events

    def saved(self, reason: str) -> dict[str, Any] | None:
        """The first checkpoint event of `reason`, once there is one."""
        return next((e for e in self.events() if e["event"] == "checkpoint"
                     and e["reason"] == reason), None)  # fmt: skip


@contextlib.contextmanager
def _child(tmp_path: Path, name: str, *argv: str, **popen: Any) -> Iterator[Child]:
    out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(_cli(*argv), stdout=stdout, stderr=stderr, text=True, **popen)
        try:
            yield Child(proc, out, err)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _notes(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "note"]


# -- a kill inside the checkpoint write -----------------------------------------------------------


@pytest.mark.slow
def test_a_kill_inside_a_checkpoint_write_leaves_whole_checkpoints_and_resume_goes_on(
    small_text: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    first = subprocess.run(
        _cli("train", "charlm", "--dataset", str(small_text), *TINY, "--epochs", "1",
             "--out", str(run), "--json"),
        capture_output=True, text=True, timeout=DEADLINE_S,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    saved = {name: load_checkpoint(run / name)["step"] for name in ("last.pt", "best.pt")}

    slow = {**os.environ, FAULT_SLOW_WRITE: "600"}  # each write now takes ten minutes
    resume = ["resume", str(run), "--epochs", "50", "--json"]
    with _child(tmp_path, "killed", *resume, env=slow, stdin=subprocess.DEVNULL) as child:
        partial = _wait_for(
            lambda: next(run.glob(PARTIAL_GLOB), None), "a checkpoint write", child.proc
        )
        killed = child.proc.pid
        child.proc.send_signal(signal.SIGKILL)
        assert child.proc.wait() == -signal.SIGKILL
    assert partial.exists()  # the kill landed inside the write: its temp file is left over
    assert Owner.from_json(lock_file(run).read_text()).pid == killed  # a stale lock too
    for name, step in saved.items():  # the checkpoints on disk are whole and untouched
        assert load_checkpoint(run / name)["step"] == step

    resumed = subprocess.run(_cli("resume", str(run), "--epochs", "2", "--json"),
                             capture_output=True, text=True, timeout=DEADLINE_S)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    events = _json_lines(resumed.stdout)
    assert events[0]["event"] == "started" and events[0]["resumed_from_step"] == saved["last.pt"]
    notes = _notes(events)
    assert any(f"took over the run's lock from process {killed} " in n for n in notes), notes
    assert any("removed 1 partly written checkpoint file " in n for n in notes), notes
    assert events[-1]["event"] == "finished" and not events[-1]["stopped"]
    assert load_checkpoint(run)["step"] > saved["last.pt"]
    assert read_summary(run)["status"] == "finished"
    assert not list(run.glob(PARTIAL_GLOB)) and not lock_file(run).exists()


def test_the_slow_write_hook_reads_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAULT_SLOW_WRITE, "0.5")
    assert checkpoint.slow_write_s() == 0.5
    monkeypatch.setenv(FAULT_SLOW_WRITE, "soon")
    with pytest.raises(ValueError, match=f"{FAULT_SLOW_WRITE} must be a number of seconds"):
        checkpoint.slow_write_s()
    monkeypatch.delenv(FAULT_SLOW_WRITE)
    assert checkpoint.slow_write_s() == 0.0


# -- a full disk -----------------------------------------------------------------------------------


def _disk_fills(monkeypatch: pytest.MonkeyPatch, full: threading.Event) -> None:
    """Checkpoint writes fail with ENOSPC once `full` is set (after the temp file is made)."""
    real = checkpoint._write_chunks

    def write(handle: Any, data: memoryview, pause_s: float) -> None:
        if full.is_set():
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(handle, data, pause_s)

    monkeypatch.setattr(checkpoint, "_write_chunks", write)


def test_a_full_disk_fails_the_run_once_and_keeps_the_previous_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = threading.Event()
    _disk_fills(monkeypatch, full)
    run = tmp_path / "run"
    events = []
    for event in Trainer(CountingTask(epochs=3, per_epoch=4, tokens=10), run).run():
        events.append(event)
        if event.kind == "checkpoint" and event.reason == "epoch":
            full.set()  # the disk fills up after the first epoch's checkpoints
    kinds = [e.kind for e in events]
    assert kinds.count("failed") == 1 and kinds[-1] == "failed" and "finished" not in kinds
    failed = events[-1]
    assert failed.reason == (
        "could not write checkpoint best.pt at step 8: the disk is full; training stopped (the "
        "previous checkpoint is kept: free some space and resume)"
    )
    assert failed.checkpoint == str(run / "last.pt")
    assert load_checkpoint(run / "last.pt")["step"] == load_checkpoint(run / "best.pt")["step"] == 4
    summary = read_summary(run)
    assert (summary["status"], summary["reason"]) == ("failed", failed.reason)
    assert read_history(run)[-1] == {"event": "failed", "step": 8, "reason": failed.reason,
                                     "checkpoint": str(run / "last.pt")}  # fmt: skip
    assert not list(run.glob(PARTIAL_GLOB)) and not lock_file(run).exists()


def test_a_full_disk_is_one_line_from_the_command(
    small_text: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    full = threading.Event()
    full.set()
    _disk_fills(monkeypatch, full)
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "charlm", "--dataset", str(small_text), *TINY,
                           "--epochs", "1", "--out", str(run))  # fmt: skip
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("rnn-tui: error: could not write checkpoint best.pt at step ")
    assert lines[0].endswith(": the disk is full; training stopped (no checkpoint had been "
                             "written yet)")  # fmt: skip
    assert read_summary(run)["status"] == "failed"
    assert not list(run.glob("*.pt")) and not list(run.glob(PARTIAL_GLOB))


# -- one trainer per run ---------------------------------------------------------------------------


def _counting(run: Path) -> Trainer:
    return Trainer(CountingTask(epochs=1, per_epoch=3, tokens=10), run)


def _lock(run: Path, owner: Owner | None) -> Path:
    """A lock file in `run` naming `owner` (None: an empty file, as a kill while it was being
    written leaves it, last written a minute ago)."""
    run.mkdir(parents=True, exist_ok=True)
    path = lock_file(run)
    path.write_text("" if owner is None else owner.to_json())
    if owner is None:
        past = time.time() - 60
        os.utime(path, (past, past))
    return path


def _gone_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_lock_is_held_while_training_and_released_on_every_way_out(tmp_path: Path) -> None:
    run = tmp_path / "run"
    events = _counting(run).run()
    assert next(events).kind == "started"
    held = Owner.from_json(lock_file(run).read_text())
    assert held is not None and held.pid == os.getpid() and held.host == socket.gethostname()
    refusal = f"run {run} is already training in process {os.getpid()} (started {held.started})"
    with pytest.raises(RunBusy, match=f"^{re.escape(refusal)}$"):
        next(_counting(run).run())
    assert Owner.from_json(lock_file(run).read_text()) == held  # the refusal left it alone
    events.close()  # the consumer stops reading
    assert not lock_file(run).exists()

    class Broken(CountingTask):
        def train_step(self, batch: int, lr: float) -> Any:
            raise RuntimeError("the task broke")

    with pytest.raises(RuntimeError, match="the task broke"):
        list(Trainer(Broken(epochs=1, per_epoch=3, tokens=10), run).run())
    assert not lock_file(run).exists()
    assert [e.kind for e in _counting(run).run()][-1] == "finished"
    assert not lock_file(run).exists()


@pytest.mark.parametrize("case", ["gone", "reused", "torn"])
def test_a_stale_lock_is_taken_over_with_a_note(tmp_path: Path, case: str) -> None:
    run = tmp_path / "run"
    here = socket.gethostname()
    parent = os.getppid()
    owners = {
        "gone": Owner(_gone_pid(), here, LONG_AGO, 1),
        "reused": Owner(parent, here, LONG_AGO, (start_ticks(parent) or 0) + 1),
        "torn": None,
    }
    stale = owners[case]
    _lock(run, stale)
    events = list(_counting(run).run())
    assert events[-1].kind == "finished"
    notes = [e.text for e in events if e.kind == "note"]
    if stale is None:
        assert notes == []  # an unreadable lock names nobody
    else:
        assert notes == [f"took over the run's lock from process {stale.pid} (started "
                         f"{LONG_AGO}), which no longer runs (killed or crashed)"]  # fmt: skip
    assert not lock_file(run).exists()


def test_a_lock_of_a_running_process_or_another_host_is_refused(tmp_path: Path) -> None:
    parent = os.getppid()
    cases = [
        (Owner(parent, socket.gethostname(), LONG_AGO, start_ticks(parent)), "", False),
        (Owner(1, "elsewhere.example", LONG_AGO, None), " on elsewhere.example", True),
    ]
    for i, (owner, where, remote) in enumerate(cases):
        run = tmp_path / f"run{i}"
        path = _lock(run, owner)
        hint = f"; if nothing trains it there any more, delete {path}" if remote else ""
        refusal = (
            f"run {run} is already training in process {owner.pid}{where} (started {LONG_AGO})"
            + hint
        )
        with pytest.raises(RunBusy, match=f"^{re.escape(refusal)}$"):
            next(_counting(run).run())
        assert Owner.from_json(path.read_text()) == owner
        assert not (run / "summary.json").exists()  # nothing written


@pytest.mark.slow
def test_resuming_a_run_that_a_child_trains_is_refused_naming_it(
    small_text: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    train = ["train", "charlm", "--dataset", str(small_text), *TINY, "--epochs", "500",
             "--out", str(run), "--json", "--control"]  # fmt: skip
    with _child(tmp_path, "trainer", *train, stdin=subprocess.PIPE) as child:
        _wait_for(lambda: child.saved("epoch"), "the first epoch's checkpoint", child.proc)
        code, _, err = run_cli(capsys, "resume", str(run), "--epochs", "600")
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1, err
        assert lines[0].startswith(f"rnn-tui: error: run {run} is already training in process "
                                   f"{child.proc.pid} (started 20")  # fmt: skip
        assert child.proc.poll() is None  # the refusal did not disturb it
        assert child.proc.stdin is not None
        child.proc.stdin.write("stop\n")
        child.proc.stdin.flush()
        assert child.proc.wait(timeout=DEADLINE_S) == 130, child.err.read_text()
    assert child.events()[-1]["event"] == "finished"
    assert not lock_file(run).exists()


# -- the app gone ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_when_the_app_is_gone_the_child_saves_and_stops(small_text: Path, tmp_path: Path) -> None:
    """The app killed with SIGKILL, or hung up with its terminal: the child ignores the hang-up,
    its stdout has no reader and its control input ends; it stops after the batch with a
    checkpoint, as `stop` would."""
    run = tmp_path / "run"
    command = _cli("train", "charlm", "--dataset", str(small_text), *TINY, "--epochs", "500",
                   "--out", str(run), "--json", "--control")  # fmt: skip
    with (tmp_path / "stderr.txt").open("w+") as stderr:
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
        with watched_child(command, stderr, DEADLINE_S, **pipes) as proc:  # a hang fails as -9
            assert proc.stdout is not None and proc.stdin is not None
            for line in proc.stdout:  # until training is under way
                if line.startswith('{"event": "step"'):
                    break
            proc.send_signal(signal.SIGHUP)  # the terminal closed: its process group hangs up
            proc.stdout.close()  # the app is gone: nobody reads the events
            proc.stdin.close()  # and its end of the control pipe is closed
            code = proc.wait()
        stderr.seek(0)
        err = stderr.read()
    assert code == 130, err  # stopped as asked, not killed by the watchdog
    assert "Traceback" not in err, err
    history = read_history(run)
    assert history[-1]["event"] == "finished" and history[-1]["stopped"]
    stop = [r for r in history if r["event"] == "checkpoint"][-1]
    assert stop["reason"] == "stop"
    summary = read_summary(run)
    assert summary["status"] == "stopped"
    assert load_checkpoint(run)["step"] == stop["step"] == summary["step"]
    assert not lock_file(run).exists()
