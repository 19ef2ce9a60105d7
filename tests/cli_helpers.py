"""Running `rnn-tui` in a test (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator, Sequence
from typing import IO, Any

import pytest

from tui.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of `rnn-tui ARGV` (argparse's own errors included)."""
    try:
        code = main(list(argv))
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, *needles: str) -> None:
    """Bad input as the command line answers it: exit status 2 and one line on stderr,
    ``rnn-tui: error: ...`` with each of `needles` in it, no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("rnn-tui: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


@contextlib.contextmanager
def watched_child(
    command: Sequence[str], stderr: IO[str], deadline_s: float, **popen: Any
) -> Iterator[subprocess.Popen]:
    """A text-mode child whose stderr goes to `stderr` (a file: it never fills and blocks),
    killed when it outlives `deadline_s` (a hang fails, it never blocks the suite) and on the
    way out; waited for."""
    proc = subprocess.Popen(command, stderr=stderr, text=True, **popen)
    watchdog = threading.Timer(deadline_s, proc.kill)
    watchdog.start()
    try:
        yield proc
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
