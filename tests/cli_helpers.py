"""Running `rnn-tui` in a test (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

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
