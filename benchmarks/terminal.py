"""The app in a pseudo-terminal, driven with keys as a user drives it (benchmarks/soak.py).

`Terminal.start` runs a command (the app: ``python -m tui.cli``, what the `rnn-tui` script
runs) as the session leader of a new pseudo-terminal of a fixed size. A thread drains what the
app draws (a full terminal would block it) and keeps the latest `KEPT_BYTES`; `wait_for` looks
for a text among what it drew since the last `mark`, escape sequences left out, and `press`
types keys. The process figures come from /proc (Linux only).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path

KEYS = {
    "enter": b"\r", "tab": b"\t", "escape": b"\x1b", "f1": b"\x1bOP", "ctrl+a": b"\x01",
    "ctrl+k": b"\x0b", "ctrl+n": b"\x0e", "ctrl+q": b"\x11", "ctrl+r": b"\x12",
}  # fmt: skip
"""Named keys as a terminal sends them; any other key is sent as its text."""
KEY_GAP_S = 0.15
"""After each key (an escape alone must not run into the next key's bytes)."""
KEPT_BYTES = 4_000_000
_ESCAPES = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
"""CSI (colours, cursor moves), OSC (titles) and two-byte escape sequences."""


class Terminal:
    """One app in one pseudo-terminal of `columns` x `lines`."""

    def __init__(self, columns: int = 120, lines: int = 40) -> None:
        self.columns, self.lines = columns, lines
        self.pid = 0
        self.fd = -1
        self.status: int | None = None
        """The app's exit status, once it has exited."""
        self._drawn = bytearray()
        self._lock = threading.Lock()

    def start(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        """Start `argv` in the terminal (its size set before the program can read it)."""
        pid, fd = pty.fork()
        if pid == 0:  # the child: the session leader, the terminal on its stdin and stdout
            try:
                size = struct.pack("HHHH", self.lines, self.columns, 0, 0)
                fcntl.ioctl(sys.stdin.fileno(), termios.TIOCSWINSZ, size)
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                chunk = os.read(self.fd, 65536) if ready else b""
            except OSError:  # EIO: the app has exited and closed the terminal
                return
            if ready and not chunk:
                return
            with self._lock:
                self._drawn += chunk
                if len(self._drawn) > KEPT_BYTES:
                    del self._drawn[: len(self._drawn) - KEPT_BYTES // 2]

    def mark(self) -> None:
        """Forget what was drawn so far: `wait_for` looks at what comes after."""
        with self._lock:
            self._drawn.clear()

    def drawn(self, text: str) -> bool:
        """Whether `text` was drawn since the last `mark`."""
        with self._lock:
            raw = bytes(self._drawn)
        return text.encode() in _ESCAPES.sub(b"", raw)

    def wait_for(self, text: str, timeout_s: float) -> None:
        """Wait until `text` is drawn (since the last `mark`); RuntimeError after `timeout_s` or
        when the app exits first."""
        end = time.monotonic() + timeout_s
        while not self.drawn(text):
            if not self.alive():
                raise RuntimeError(f"the app exited (status {self.status}) before {text!r}")
            if time.monotonic() > end:
                raise RuntimeError(f"{text!r} was not drawn within {timeout_s:.0f} s")
            time.sleep(0.1)

    def press(self, *keys: str) -> None:
        """Type `keys` (names in `KEYS`, or text) one after the other."""
        for key in keys:
            os.write(self.fd, KEYS.get(key, key.encode()))
            time.sleep(KEY_GAP_S)

    def alive(self) -> bool:
        """Whether the app still runs (it is reaped once it has exited)."""
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
        return self.status is None

    def close(self, quit_keys: tuple[str, ...] = ("ctrl+q",), timeout_s: float = 30.0) -> None:
        """Quit the app with `quit_keys`; SIGTERM, then SIGKILL, its process group (the app and
        the training child it started) if it has not exited after `timeout_s`."""
        if self.alive():
            self.press(*quit_keys)
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None and self.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, sig)
            end = time.monotonic() + timeout_s
            while self.alive() and time.monotonic() < end:
                time.sleep(0.2)
            if not self.alive():
                break
        os.close(self.fd)


def rss_kb(pid: int) -> int | None:
    """The resident set size of a process in kB (VmRSS), None once it has gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((line for line in text.splitlines() if line.startswith("VmRSS:")), None)
    return int(line.split()[1]) if line else None


def cpu_s(pid: int) -> float | None:
    """The CPU seconds (user and system) a process has used, None once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def steal_s() -> float:
    """The CPU seconds the hypervisor has given to other guests, all cores (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is `pid`: pid -> command line."""
    out: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                cmdline = (stat.parent / "cmdline").read_bytes()
                out[int(stat.parent.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue  # it ended while being read
    return out
