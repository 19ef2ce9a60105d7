"""What every command shares: one-line errors, exit statuses and the metric formatting."""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A user-facing error: printed as one line on stderr, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `rnn-tui: error: ...` and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"rnn-tui: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {value})")
    return value


def fmt_metrics(metrics: dict[str, Any]) -> str:
    """`val_loss 1.52 · val_bpc 2.19`."""
    return " · ".join(f"{k} {fmt_number(v)}" for k, v in metrics.items())


def fmt_number(value: Any) -> str:
    """Thousands without decimals, smaller numbers to 4 significant digits."""
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)
