"""Training in a child process: events read back, control lines, errors as one line."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tui_helpers import tiny_config

from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.events import EVENT_TYPES, StepLogged, event_from_json
from tasks.engine.runs import read_run
from tui.train_process import (
    APP_OPENMP_VARIABLE,
    TrainProcess,
    TrainProcessError,
    child_environment,
)


def test_every_event_kind_reads_back_from_its_json() -> None:
    event = StepLogged(3, 1, 0.5, 2.0, 1e-3, 0.7, 1000.0, 1.5, None)
    assert event_from_json(event.to_json()) == event
    assert set(EVENT_TYPES) == {"started", "step", "eval", "checkpoint", "finished", "failed",
                                "note"}  # fmt: skip
    with pytest.raises(ValueError, match="not a training event"):
        event_from_json('{"event": "nope"}')
    with pytest.raises(ValueError, match="not a training event"):
        event_from_json("Warning: something a library printed")


def test_the_child_gets_the_users_openmp_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.setenv(APP_OPENMP_VARIABLE, "1")  # the app chose PASSIVE, not the user
    assert "OMP_WAIT_POLICY" not in child_environment()
    monkeypatch.delenv(APP_OPENMP_VARIABLE)
    assert child_environment()["OMP_WAIT_POLICY"] == "PASSIVE"


def test_a_run_streams_its_events_and_saves_and_stops_on_request(small_text: Path) -> None:
    process = TrainProcess.new_run(tiny_config(small_text, epochs=500))
    stop = threading.Event()
    kinds: list[str] = []
    run_dir = None
    for event in process.run(stop):
        kinds.append(event.kind)
        if event.kind == "started":
            run_dir = Path(event.run_dir)
        if event.kind == "step" and kinds.count("step") == 1:
            process.save_requested.set()
        if event.kind == "checkpoint" and event.reason == "manual":
            stop.set()
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert process.returncode == 130  # stopped, as `rnn-tui train` reports it
    info = read_run(run_dir)
    assert info is not None and info.status == "stopped"
    assert load_checkpoint(run_dir / "last.pt")["step"] == info.step > 0


def test_pause_holds_the_run(small_text: Path) -> None:
    process = TrainProcess.new_run(tiny_config(small_text, epochs=500))
    stop = threading.Event()
    steps_while_paused = 0
    events = process.run(stop)
    for event in events:
        if event.kind == "step":
            process.pause.set()
            break
    timer = threading.Timer(1.5, stop.set)  # stopping also ends a pause
    timer.start()
    for event in events:
        steps_while_paused += event.kind == "step"
    timer.join()
    assert steps_while_paused <= 2  # at most what was already on its way


def test_a_bad_setting_ends_with_the_childs_one_line_error(tmp_path: Path) -> None:
    process = TrainProcess.new_run(tiny_config(tmp_path / "missing.txt"))
    with pytest.raises(TrainProcessError, match=r"missing\.txt") as info:
        list(process.run(threading.Event()))
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)


def test_the_child_runs_at_a_lower_priority() -> None:
    import os
    import subprocess
    import sys

    from tui.train_process import CHILD_NICENESS, lower_priority

    # lives until its stdin closes, however slowly it starts
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        lower_priority(child.pid)
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(own + CHILD_NICENESS, 19)
    finally:
        child.kill()
        child.wait()
