"""The run lock: one process at a time trains a run folder.

`Trainer.run` takes it (rank 0 under torchrun) before it writes anything, so `rnn-tui train`,
`rnn-tui resume` and the app's training child all go through it. The lock is a file in the run
folder (`tasks.engine.runs.LOCK`) holding the owner's pid, host, start time and, where
/proc/PID/stat exists, the kernel's start tick of that pid:

    {"pid": 4242, "host": "box", "started": "2026-12-03 05:31:02", "start_ticks": 1234567}

It is created with O_EXCL, so of two processes starting at once one wins, and removed when the
run ends in any way but a hard kill. A lock left by a killed process is stale and taken over
(the trainer says so in a note): stale when its pid is not running on this host, is a zombie,
or now belongs to another process (its start tick differs: the pid was reused). A lock of
another host cannot be checked from here and counts as held. An empty or torn lock file is
some process's lock being written, or left by a kill at that moment: it counts as held for
`TORN_S` seconds after it was last written, and as stale after that.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from tasks.engine.runs import lock_file

TORN_S = 2.0
"""How long an unreadable lock file counts as being written by its owner."""

RETRY_S = 0.25
"""How long `RunLock.acquire` waits before looking at such a file again."""

ATTEMPTS = 20
"""How many times `RunLock.acquire` looks again (a torn file, a lost race for a stale lock)."""


class RunBusy(ValueError):
    """Another process is training the run (the message names it)."""


@dataclass(frozen=True)
class Owner:
    """A process as a lock file records it."""

    pid: int
    host: str
    started: str
    """When the process took the lock (local time, to the second)."""
    start_ticks: int | None
    """The kernel's start time of the pid in clock ticks since boot (None without /proc)."""

    @classmethod
    def me(cls) -> Owner:
        """This process, now."""
        pid = os.getpid()
        return cls(pid, socket.gethostname(), time.strftime("%Y-%m-%d %H:%M:%S"),
                   start_ticks(pid))  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Owner | None:
        """The owner a lock file's text names; None for a torn or foreign file."""
        try:
            data = json.loads(text)
            ticks = data["start_ticks"]
            return cls(int(data["pid"]), str(data["host"]), str(data["started"]),
                       None if ticks is None else int(ticks))  # fmt: skip
        except (ValueError, TypeError, KeyError, RecursionError):  # JSONDecodeError: ValueError
            return None

    def to_json(self) -> str:
        """The lock file's text."""
        return json.dumps(self.__dict__)

    def running(self) -> bool:
        """Whether this owner still runs (a process of another host: assumed so)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process: it exists
            pass
        if self.start_ticks is None:
            return True
        return start_ticks(self.pid) == self.start_ticks  # None: gone meanwhile, or a zombie

    def describe(self) -> str:
        """`process 4242 (started ...)`, with the host when it is another."""
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"process {self.pid}{where} (started {self.started})"


def start_ticks(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (/proc/PID/stat, field 22); None where
    there is no /proc, for a pid that is not running, and for a zombie (exited, not reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) ": state, field 3, first
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    try:
        return int(fields[19])
    except ValueError:
        return None


@dataclass
class RunLock:
    """The lock of one run folder, held by this process (`acquire`, then `release`)."""

    path: Path
    owner: Owner
    stale: Owner | None
    """The killed process whose lock was taken over, if there was one."""

    @classmethod
    def acquire(cls, run_dir: str | Path) -> RunLock:
        """Take the run's lock; `RunBusy` naming the process that holds it."""
        path = lock_file(Path(run_dir))
        me = Owner.me()
        stale: Owner | None = None
        for _ in range(ATTEMPTS):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = _read(path)
                if holder is not None and holder.running():
                    raise RunBusy(
                        f"run {run_dir} is already training in {holder.describe()}"
                        + _remote_hint(holder, path)
                    ) from None
                if holder is None and _written_within(path, TORN_S):
                    time.sleep(RETRY_S)  # its owner is writing it (or was killed doing so)
                elif _move_aside(path, holder):
                    stale = holder or stale
                continue
            try:
                os.write(fd, me.to_json().encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            return cls(path, me, stale)
        raise RunBusy(f"run {run_dir}: another process keeps taking its lock {path}")

    def note(self) -> str | None:
        """One line for the run's log when a stale lock was taken over."""
        if self.stale is None:
            return None
        return (f"took over the run's lock from {self.stale.describe()}, which no longer runs "
                "(killed or crashed)")  # fmt: skip

    def release(self) -> None:
        """Remove the lock file, if it still names this process."""
        if _read(self.path) == self.owner:
            self.path.unlink(missing_ok=True)


def _remote_hint(holder: Owner, path: Path) -> str:
    """For a lock taken on another host (whose processes cannot be checked from here): how to
    free it."""
    if holder.host == socket.gethostname():
        return ""
    return f"; if nothing trains it there any more, delete {path}"


def _read(path: Path) -> Owner | None:
    """The owner a lock file names; None when it is gone, unreadable or torn."""
    try:
        return Owner.from_json(path.read_text())
    except (OSError, UnicodeDecodeError):
        return None


def _written_within(path: Path, seconds: float) -> bool:
    """Whether `path` was last written less than `seconds` ago (False once it is gone)."""
    try:
        return time.time() - path.stat().st_mtime < seconds
    except OSError:
        return False


def _move_aside(path: Path, judged: Owner | None) -> bool:
    """Remove a stale lock; False when it changed hands meanwhile (`acquire` looks again).

    The lock is renamed to a name of this process first, so of two processes removing the
    same stale lock only one succeeds, and checked: had a new owner's fresh lock been moved
    instead, it is put back.
    """
    aside = path.with_name(f".{path.name}.{os.getpid()}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return False
    if _read(aside) == judged:
        aside.unlink(missing_ok=True)
        return True
    with contextlib.suppress(OSError):  # someone's fresh lock: back where it was (unless a
        os.link(aside, path)  # third process has taken the name meanwhile)
    aside.unlink(missing_ok=True)
    return False
