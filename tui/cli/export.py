"""`rnn-tui export RUN... --tensorboard DIR`, and `train ... --tensorboard DIR`'s live writer.

Each run folder becomes the TensorBoard run ``DIR/<run folder name>``: its curves, its settings
with its final metrics (the HPARAMS tab) and its text samples
(`tasks.experiments.tensorboard`). `LiveBoard` writes the same as a training goes.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from tui.cli.common import CliError


def register(sub: Any) -> None:
    """Add the `export` parser."""
    p = sub.add_parser(
        "export",
        help="write runs as TensorBoard event files",
        description="Write run folders as TensorBoard runs: scalars, the settings with the "
        "final metrics (HPARAMS), text samples of the best checkpoint.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders (`rnn-tui runs` lists them)")
    p.add_argument(
        "--tensorboard", metavar="DIR", required=True,
        help="the folder of TensorBoard runs: each run goes to DIR/<run folder name>, "
        "replacing what an earlier export wrote there",
    )  # fmt: skip
    p.set_defaults(func=cmd_export)


def add_board_option(group: Any) -> None:
    """`train`'s --tensorboard DIR."""
    group.add_argument(
        "--tensorboard", metavar="DIR",
        help="also write TensorBoard event files as the run goes, to DIR/<run folder name> "
        "(under torchrun: rank 0) (default: none)",
    )  # fmt: skip


def cmd_export(args: argparse.Namespace) -> int:
    from tasks.experiments.tensorboard import export_runs

    for run, target in zip(args.runs, export_runs(args.runs, args.tensorboard), strict=True):
        print(f"{run} -> {target}")
    print(f"view them: tensorboard --logdir {args.tensorboard}")
    return 0


def checked_board(directory: str | None) -> Path | None:
    """--tensorboard DIR checked before training starts (None when not given)."""
    from tasks.experiments.tensorboard import board_folder

    if directory is None:
        return None
    try:
        return board_folder(directory)
    except ValueError as exc:
        raise CliError(f"--tensorboard: {exc}") from None


class LiveBoard:
    """Feeds a training's events to a `BoardWriter` in ``directory/<run folder name>``,
    opened at the run's `Started` event (which carries its folder and settings)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.board: Any = None

    def __call__(self, event: Any) -> None:
        from tasks.experiments.tensorboard import BoardWriter

        if event.kind == "started":
            self.close()
            self.board = BoardWriter(self.directory / Path(event.run_dir).name, event.config)
        elif self.board is not None:
            self.board.write({"event": event.kind, **dataclasses.asdict(event)})

    def close(self) -> None:
        if self.board is not None:
            self.board.close()
            self.board = None
