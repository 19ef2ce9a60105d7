"""Training in a child process: `rnn-tui train --json --control`, read back as trainer events.

The app trains in a separate process, the same headless command a script would run, rather than
in a thread of its own: a training thread and the UI thread share one interpreter lock, and on a
machine with few cores every key press then waited behind the training loop (hundreds of
milliseconds in our measurements) while the UI's own work slowed the training. As a child
process the run trains at headless speed, in torch's default threading, and the UI stays free.

`TrainProcess` has the trainer's interface (`run(stop)` yields the events; `pause` and
`save_requested` are events to set), so the Train screen drives either one the same way.

A run of several processes (the setting `nproc` > 1) is the same command with `--nproc N`: the
child is then the launcher (`tui.cli.launch`), which runs the ranks under torchrun. Every rank
inherits the child's stdin, but only rank 0 reads the control lines; it broadcasts stop, save
and pause to the others at each step, and alone prints the events. Ending the run the hard way
(a stop that is not answered in time, or the app going away) signals the launcher with SIGTERM,
which torchrun passes on to every rank, and only then kills it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from tasks.engine.events import TrainEvent, event_from_json
from tasks.engine.settings import TrainConfig

POLL_S = 0.1
"""How often the reader looks at the pause, save and stop requests between events."""

STOP_GRACE_S = 30.0
"""After asking the child to stop, how long to wait for it to save before ending it."""

TERM_GRACE_S = 10.0
"""After SIGTERM, how long the child (with torchrun, every rank) has to exit before SIGKILL."""

EXIT_WAIT_S = 10.0
"""When the child has closed its output without a final event, how long it may take to exit (and
finish its error line) before it is ended."""

ERROR_LINES = 200
"""How many of the child's last stderr lines are kept to find its error in (torchrun reports a
failed rank in a few dozen lines after the rank's own one-line error)."""

CHILD_NICENESS = 10
"""The training process runs at a lower priority than the app: it gets every idle cycle, and a
key press is answered at once instead of waiting for the training threads' time slices."""

APP_OPENMP_VARIABLE = "RNN_TUI_APP_SET_OMP"
"""Set when the app (not the user) chose OMP_WAIT_POLICY; the child then runs without it."""


class TrainProcessError(RuntimeError):
    """The child exited without a final event; the message is its last error line."""


def cli_command(*args: str) -> list[str]:
    """`rnn-tui ARGS` with this interpreter (works from a checkout as from an install)."""
    return [sys.executable, "-m", "tui.cli", *args]


def processes(config: TrainConfig | None) -> int:
    """How many training processes `config` asks for (its `nproc`; 1 without one)."""
    return int(getattr(config, "nproc", 1) or 1)


def nproc_option(config: TrainConfig) -> list[str]:
    """`--nproc N` when the run has several processes, else nothing.

    The value is in the config file too; on the command line, the launcher sees it without
    reading that file.
    """
    count = processes(config)
    return ["--nproc", str(count)] if count > 1 else []


def child_environment() -> dict[str, str]:
    """The environment a headless run gets: the app's own OpenMP setting is taken back out."""
    env = dict(os.environ)
    if env.pop(APP_OPENMP_VARIABLE, None):
        env.pop("OMP_WAIT_POLICY", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class TrainProcess:
    """One training run in a child process, iterated like `tasks.engine.trainer.Trainer.run`."""

    def __init__(self, args: Sequence[str], config: TrainConfig | None = None) -> None:
        """A run of `rnn-tui ARGS --json --control`.

        Args:
            args: the command after `rnn-tui`, e.g. ["train", "charlm", "--minutes", "1"].
            config: written to a temporary config.json passed with `--config` (a new run).
        """
        self.args = list(args)
        """The command after `rnn-tui`."""
        self.config = config
        """The settings of a new run (None for a resume)."""
        self.pause = threading.Event()
        """Set to pause between batches; cleared to continue."""
        self.save_requested = threading.Event()
        """Set to have a checkpoint written after the current batch."""
        self.returncode: int | None = None
        """The child's exit status, once it has ended."""

    @classmethod
    def new_run(cls, config: TrainConfig) -> TrainProcess:
        """A fresh run of `config` in a new run folder (under the launcher when nproc > 1)."""
        return cls(["train", config.task, *nproc_option(config)], config)

    @classmethod
    def resume(cls, run_dir: str | Path, epochs: int | None = None) -> TrainProcess:
        """Continue a saved run."""
        extra = ["--epochs", str(epochs)] if epochs is not None else []
        return cls(["resume", str(run_dir), *extra])

    def run(self, stop: threading.Event) -> Iterator[TrainEvent]:
        """Start the child and yield its events until it ends; `stop` asks it to save and stop.

        Raises `TrainProcessError` when it ends without a finished or failed event (a bad
        setting, missing data, a crash), with its last error line.
        """
        with tempfile.TemporaryDirectory(prefix="rnn-tui-") as folder:
            args = list(self.args)
            if self.config is not None:
                path = Path(folder) / "config.json"
                path.write_text(json.dumps(self.config.to_dict()))
                args += ["--config", str(path)]
            yield from self._follow([*args, "--json", "--control"], stop)

    def _follow(self, args: list[str], stop: threading.Event) -> Iterator[TrainEvent]:
        child = subprocess.Popen(
            cli_command(*args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",  # a stray non-UTF-8 byte must not end the reader threads
            env=child_environment(),
        )
        lower_priority(child.pid)
        lines: queue.Queue[str | None] = queue.Queue()
        errors: deque[str] = deque(maxlen=ERROR_LINES)
        readers = [
            threading.Thread(target=_pump, args=(child.stdout, lines.put, True), daemon=True),
            threading.Thread(target=_pump, args=(child.stderr, errors.append, False), daemon=True),
        ]
        for reader in readers:
            reader.start()
        control = _Control(child.stdin, self.pause, self.save_requested, stop)
        ender = _Ender(child)
        ended = closed = False
        try:
            while True:
                control.send_changes()
                try:
                    line = lines.get(timeout=POLL_S)
                except queue.Empty:
                    if control.stop_sent_for() > STOP_GRACE_S:
                        ender.step()  # SIGTERM once, SIGKILL if that is not enough
                    continue
                if line is None:
                    closed = True  # the child is exiting
                    break
                try:
                    event = event_from_json(line)
                except ValueError:
                    continue  # a stray print of a library; events are whole JSON lines
                ended = ended or event.kind in ("finished", "failed")
                yield event
        finally:
            control.close()  # end of input: rank 0 stops of its own accord too
            wait_s = STOP_GRACE_S if ended else EXIT_WAIT_S if closed else 0.0
            self.returncode = ender.finish(wait_s)
            readers[1].join(timeout=1.0)
        if not ended:
            raise TrainProcessError(_last_error(errors, self.returncode))


def lower_priority(pid: int) -> None:
    """Raise a process's niceness by `CHILD_NICENESS` (where the OS has niceness).

    Set right after the start, while the child is still importing, so the threads torch starts
    later inherit it.
    """
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            current = os.getpriority(os.PRIO_PROCESS, pid)
            os.setpriority(os.PRIO_PROCESS, pid, min(current + CHILD_NICENESS, 19))


class _Ender:
    """Ends the child in two steps: SIGTERM once, then SIGKILL after `TERM_GRACE_S`.

    SIGTERM first, because a killed launcher cannot pass anything on: torchrun, told once, sends
    SIGTERM to every rank and waits for them (told twice, it abandons that shutdown half way).
    """

    def __init__(self, child: subprocess.Popen[str]) -> None:
        self.child = child
        self.terminated_at: float | None = None
        """When SIGTERM was sent (None: not yet)."""

    def step(self) -> None:
        """SIGTERM the first time; SIGKILL once `TERM_GRACE_S` have passed since."""
        if self.child.poll() is not None:
            return
        if self.terminated_at is None:
            self.terminated_at = time.monotonic()
            with contextlib.suppress(OSError):
                self.child.terminate()
        elif time.monotonic() - self.terminated_at > TERM_GRACE_S:
            with contextlib.suppress(OSError):
                self.child.kill()

    def finish(self, wait_s: float = 0.0) -> int:
        """Wait up to `wait_s` for the child to exit by itself, then end it; its exit status."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.child.wait(timeout=wait_s) if wait_s > 0 else self._polled()
        self.step()
        if self.terminated_at is not None:
            left = TERM_GRACE_S - (time.monotonic() - self.terminated_at)
            with contextlib.suppress(subprocess.TimeoutExpired):
                return self.child.wait(timeout=max(left, 0.0))
        with contextlib.suppress(OSError):
            self.child.kill()
        return self.child.wait()

    def _polled(self) -> int:
        """The exit status if the child has ended; TimeoutExpired if it is still running."""
        status = self.child.poll()
        if status is None:
            raise subprocess.TimeoutExpired(self.child.args, 0)
        return status


class _Control:
    """Writes the screen's pause, save and stop requests to the child's stdin as they change."""

    def __init__(
        self,
        pipe: IO[str] | None,
        pause: threading.Event,
        save: threading.Event,
        stop: threading.Event,
    ) -> None:
        self.pipe = pipe
        self.pause, self.save, self.stop = pause, save, stop
        self.paused = False
        self.stop_sent_at: float | None = None

    def send_changes(self) -> None:
        if self.stop.is_set():
            if self.stop_sent_at is None:
                self._send("stop")
                self.stop_sent_at = time.monotonic()
            return
        if self.pause.is_set() != self.paused:
            self.paused = self.pause.is_set()
            self._send("pause" if self.paused else "resume")
        if self.save.is_set():
            self.save.clear()
            self._send("save")

    def stop_sent_for(self) -> float:
        """Seconds since stop was sent (0 before)."""
        return 0.0 if self.stop_sent_at is None else time.monotonic() - self.stop_sent_at

    def _send(self, command: str) -> None:
        if self.pipe is None:
            return
        try:
            self.pipe.write(command + "\n")
            self.pipe.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.pipe = None  # the child has gone; its exit is reported by the reader

    def close(self) -> None:
        if self.pipe is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.pipe.close()
            self.pipe = None


def _pump(stream: IO[str] | None, put: Callable[[Any], None], mark_end: bool) -> None:
    """Hand each line of a pipe to `put`; with mark_end, then None when the pipe closes."""
    if stream is not None:
        for line in stream:
            put(line)
    if mark_end:
        put(None)


def _last_error(errors: deque[str], returncode: int | None) -> str:
    """The child's own one-line error, else its last line of output, else its exit status."""
    lines = [line.strip() for line in errors if line.strip()]
    for line in reversed(lines):
        if line.startswith("rnn-tui: error:"):
            return line.removeprefix("rnn-tui: error:").strip()
    if lines:
        return lines[-1]
    return f"the training process ended unexpectedly (exit status {returncode})"
