"""Fuzzing the training child's control side and what the app reads back from it: the control
lines on the child's stdin (`tui.cli.train._follow_commands`, pause, resume, save and stop as
the app sends them) and the event lines on its stdout (`event_from_json` for a training run,
`sweep_event_from_json` for a sweep). Any bytes on stdin are taken without an error, and the
end of input (or a stop line) always stops the run; an event line is an event or a one-line
`ValueError`."""

from __future__ import annotations

import contextlib
import io
import sys
import threading
from types import SimpleNamespace

from fuzzing import garbage, inputs, sandbox
from hypothesis import given
from hypothesis import strategies as st

from tasks.engine.events import (
    CheckpointSaved,
    EvalDone,
    Failed,
    Finished,
    Note,
    Started,
    StepLogged,
    TrainEvent,
    event_from_json,
)
from tasks.experiments.events import (
    SweepEvent,
    TrialDone,
    TrialProgress,
    TrialStarted,
    sweep_event_from_json,
)
from tui.cli.train import _follow_commands

COMMANDS = ("pause", "resume", "save", "stop", " stop ", "\tsave", "STOP", "", "halt", "pause!")
LINE_ENDS = (b"\n", b"\r\n", b"\r")


@st.composite
def control_input(draw: st.DrawFn) -> bytes:
    """Control lines as the app writes them, mixed with odd ones, bytes that are not UTF-8 and
    any line ends; the input may stop mid-line."""
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        line = draw(st.one_of(st.sampled_from(COMMANDS).map(str.encode), garbage(20)))
        parts.append(line + draw(st.sampled_from(LINE_ENDS)))
    data = b"".join(parts)
    return data[: draw(st.integers(0, len(data)))]


def expected_save(data: bytes) -> bool:
    """Whether a save line comes before the first stop line (what `_follow_commands` obeys)."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    commands = [line.strip() for line in text.split("\n")]
    until = commands.index("stop") if "stop" in commands else len(commands)
    return "save" in commands[:until]


@given(data=control_input())
def test_control_lines_never_end_the_reader_and_the_end_of_input_stops(data: bytes) -> None:
    trainer = SimpleNamespace(pause=threading.Event(), save_requested=threading.Event())
    stop = threading.Event()
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")  # strict, as a real stdin is
    saved, sys.stdin = sys.stdin, stdin
    try:
        with sandbox() as box, contextlib.redirect_stderr(io.StringIO()):
            box.call(lambda: _follow_commands(trainer, stop))
    finally:
        sys.stdin = saved
    assert stop.is_set() and not trainer.pause.is_set()
    assert trainer.save_requested.is_set() == expected_save(data)


EVENTS = (
    Started("run", "charlm", "lstm", "tiny-shakespeare", "", 1000, 10, 20, 0, {"lr": 0.003}),
    StepLogged(5, 0, 0.25, 3.2, 0.001, 1.1, 40000.0, 1.0, 3.0),
    EvalDone(10, 0, {"val_loss": 2.5}, False),
    CheckpointSaved(10, "run/last.pt", "manual"),
    Finished("run", "run/last.pt", {"val_loss": 2.1}, True),
    Failed(12, "the loss is NaN", None),
    Note(0, "resumed under 2 processes"),
)
SWEEP_EVENTS = (
    TrialStarted(0, {"lr": 0.003, "arch": "gru"}, "runs/trial-0"),
    TrialProgress(0, 2, 0.71),
    TrialDone(0, "pruned", 0.7, {"lr": 0.003}, "runs/trial-0", 2, {}, 12.5),
)


@given(line=inputs(*(event.to_json().encode() for event in EVENTS)))
def test_a_training_event_line_reads_or_fails_in_one_line(line: bytes) -> None:
    text = line.decode("utf-8", errors="replace")  # the app reads the child's stdout as text
    with sandbox() as box:
        event = box.call(lambda: event_from_json(text), ValueError)
    assert isinstance(event, (TrainEvent, ValueError))


@given(line=inputs(*(event.to_json().encode() for event in SWEEP_EVENTS)))
def test_a_sweep_event_line_reads_or_fails_in_one_line(line: bytes) -> None:
    text = line.decode("utf-8", errors="replace")
    with sandbox() as box:
        event = box.call(lambda: sweep_event_from_json(text), ValueError)
    assert isinstance(event, (SweepEvent, ValueError))
