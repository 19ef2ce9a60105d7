"""Inputs of the player commands: one per line from `--file PATH` (or `-`, stdin), and a
progress bar on stderr when it is a terminal.

A file is checked whole before the model loads, so a bad line costs nothing and no output is
half written: every line must be UTF-8, at most `MAX_LINE_BYTES` long and not blank (a blank
line is refused, naming it, rather than skipped: the answers stay line-aligned with the file).
Each refusal is one line naming the file and the line number.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, TypeVar

from tui.cli.common import CliError

MAX_LINE_BYTES = 1_000_000
"""The longest line read (UTF-8 bytes, without the line break)."""
REDRAW_S = 0.1
"""The progress bar redraws at most this often."""
BAR_WIDTH = 30

T = TypeVar("T")


def source_name(path: str) -> str:
    """How messages name an input file: `stdin` for `-`."""
    return "stdin" if path == "-" else path


def read_inputs(path: str) -> list[str]:
    """The lines of `path` (`-`: stdin), without line breaks; `CliError` naming a bad line."""
    name = source_name(path)
    if path == "-":
        handle: IO[bytes] = getattr(sys.stdin, "buffer", None) or io.BytesIO(
            sys.stdin.read().encode()
        )
        return _lines(handle, name)
    try:
        with open(path, "rb") as handle:
            return _lines(handle, name)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def _lines(handle: IO[bytes], name: str) -> list[str]:
    out: list[str] = []
    for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 3), b""), 1):
        line = raw.rstrip(b"\r\n")
        if len(line) > MAX_LINE_BYTES:
            raise CliError(
                f"{name}, line {number}: longer than {MAX_LINE_BYTES:,} bytes; give one input "
                "per line"
            )
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CliError(
                f"{name}, line {number}: not UTF-8 text (byte {exc.start + 1} of the line is "
                f"0x{line[exc.start]:02x})"
            ) from None
        if number == 1:
            text = text.removeprefix("\ufeff")
        if not text.strip():
            raise CliError(
                f"{name}, line {number} is blank: give one input per line (remove blank lines)"
            )
        out.append(text)
    if not out:
        raise CliError(f"{name} is empty: give one input per line")
    return out


class Progress:
    """`  312/1,000 lines ━━━━━━━━━━────── 31% 2.1 s` on `stream`, redrawn in place; silent
    unless `stream` is a terminal."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(self.stream)
        self.started = time.monotonic()
        self.drawn = 0.0
        self.visible = False

    def update(self, done: int) -> None:
        """Redraw for `done` inputs answered (throttled; always drawn at the end)."""
        now = time.monotonic()
        if not self.enabled or (done < self.total and now - self.drawn < REDRAW_S):
            return
        self.drawn = now
        share = done / max(self.total, 1)
        full = round(share * BAR_WIDTH)
        bar = "━" * full + "─" * (BAR_WIDTH - full)
        self.stream.write(
            f"\r{done:>{len(f'{self.total:,}')},}/{self.total:,} lines {bar} {share:4.0%} "
            f"{now - self.started:.1f} s"
        )
        self.stream.flush()
        self.visible = True

    def close(self) -> None:
        """Clear the bar's line (the next output starts on a clean line)."""
        if self.visible:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.visible = False


def with_progress(items: Iterable[T], total: int, stream: Any = None) -> Iterator[T]:
    """Yield `items`, moving a `Progress` bar one step per item; the bar is cleared at the end."""
    progress = Progress(total, stream)
    shared = _is_terminal(sys.stdout)  # answers print on the same screen: clear the bar first
    try:
        for done, item in enumerate(items, 1):
            progress.update(done)
            if shared:
                progress.close()
            yield item
    finally:
        progress.close()


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
