"""`rnn-tui`: the command-line contract. With no arguments it opens the app.

One module per family of commands (`train`, `infer`, `catalogue`, `inspect`, `sweep`, `export`,
`report`), each adding its parsers. Heavy imports (torch, textual, optuna) happen inside the
commands, so `rnn-tui --help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from tui.cli import catalogue, export, infer, inspect, launch, report, sweep, train
from tui.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, CliError, Parser


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = Parser(
        prog="rnn-tui",
        description="A terminal playground for recurrent neural networks. "
        "With no command, opens the app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for family in (train, infer, catalogue, inspect, sweep, export, report):
        family.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rnn-tui` console script."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the launcher re-runs them
    if args.command is None:
        from tui.app import run_app

        run_app()
        return 0
    try:
        return _ended(args.func(args))
    except KeyboardInterrupt:
        if launch.main_rank():
            print("rnn-tui: interrupted", file=sys.stderr)
        return _ended(EXIT_INTERRUPTED)
    except BrokenPipeError:
        return _ended(0)
    except (CliError, ValueError, OSError) as exc:  # ConfigError, DatasetError, CheckpointError
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        launch.report_error(message)  # under torchrun, rank 0's line alone reaches stderr
        return _ended(EXIT_ERROR)
    except Exception:
        if launch.under_torchrun():
            traceback.print_exc()
            _ended(1)
        raise


def _ended(status: int) -> int:
    """`status`; a torchrun worker ends here instead (`launch.end_rank`), on every path, while
    the frames that hold its DDP model are still alive: freeing that model after its gloo group
    can deadlock the interpreter's teardown."""
    if launch.under_torchrun():
        launch.end_rank(status)
    return status
