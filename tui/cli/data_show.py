"""`rnn-tui data show NAME|PATH`: what is in a dataset, from its task's own reader.

The figures are computed once per file (cached by checksum, `tasks.data.profile`) with a
progress bar on stderr when it is a terminal; the setting-dependent ones (``--seq-len``,
``--vocab-size``, ``--min-freq``, ``--max-len`` ...) are the task's defaults unless given.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from typing import Any

from tasks.data.profile import profiled_tasks
from tasks.engine.settings import Setting
from tasks.registry import TASKS, task_defaults

PLOT_HEIGHT = 14
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _options() -> dict[str, tuple[Setting, list[str]]]:
    """Each setting a profile reads -> its declaration and the tasks that have it."""
    from tasks.data.profile import profile_settings

    out: dict[str, tuple[Setting, list[str]]] = {}
    for task in profiled_tasks():
        settings = TASKS[task].settings.settings()
        for name in profile_settings(task):
            out.setdefault(name, (settings[name], []))[1].append(task)
    return out


def register(data_sub: Any) -> None:
    """Add ``data show`` to the `data` subparsers."""
    show = data_sub.add_parser(
        "show",
        help="what is in a dataset: sizes, lengths, labels, vocabulary coverage, the series",
        description="Figures of a dataset, computed with its task's reader on the split the "
        "task trains on; cached per file checksum.",
    )
    show.add_argument(
        "dataset",
        metavar="NAME|PATH",
        help="a dataset from `rnn-tui data list`, or a file or folder in a dataset's format "
        "(a series may add #COLUMNS, e.g. prices.csv#Close)",
    )
    show.add_argument(
        "--task",
        choices=profiled_tasks(),
        help="read it with this task's reader (default: the catalogue's task, or the one whose "
        "format a path is in)",
    )
    show.add_argument("--json", action="store_true", help="print every figure as one JSON object")
    group = show.add_argument_group("settings (each task's default unless given)")
    for name, (meta, tasks) in _options().items():
        defaults = ", ".join(f"{t} {_text(task_defaults(t).get(name))}" for t in tasks)
        kwargs: dict[str, Any] = {
            "dest": name,
            "default": None,
            "help": f"{meta.help} (default: {defaults})".replace("%", "%%"),
        }
        if meta.choices:
            kwargs["choices"] = meta.choices
        kwargs["type"] = {"int": int, "float": float}.get(meta.kind, str)
        kwargs["metavar"] = None if meta.choices else meta.metavar or _metavar(meta.kind)
        group.add_argument(meta.option(name), **kwargs)
    show.set_defaults(func=cmd_show)


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _metavar(kind: str) -> str:
    return {"int": "N", "float": "F"}.get(kind, "TEXT")


def cmd_show(args: argparse.Namespace) -> int:
    from tasks.data.profile.core import profile
    from tasks.data.profile.detect import resolve_task
    from tasks.registry import default_config
    from tui.cli.common import CliError
    from tui.data_report import render

    task = resolve_task(args.dataset, args.task)
    given = {n: getattr(args, n) for n in _options() if getattr(args, n) is not None}
    own = TASKS[task].settings.settings()
    foreign = [n for n in given if n not in own]
    if foreign:
        option = own.get(foreign[0]) or _options()[foreign[0]][0]
        raise CliError(f"{option.option(foreign[0])} does not apply to {task} data")
    settings = default_config(task, **given)
    bar = _Bar(args.dataset) if sys.stderr.isatty() else None
    result = profile(args.dataset, task, settings, progress=bar or _quiet,
                     download=bar.download if bar else None)  # fmt: skip
    if bar is not None:
        bar.close()
    report = result.report(settings)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(render(report))
    if report["kind"] == "series":
        print(series_plots(report))
    return 0


def _quiet(stage: str, fraction: float) -> None:
    pass


class _Bar:
    """``imdb: tokenising [#########      ]  61%`` on stderr, redrawn in place."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.shown = ""

    def __call__(self, stage: str, fraction: float) -> None:
        line = f"\r{self.name}: {stage:10} [{'#' * int(30 * fraction):30}] {fraction:4.0%}"
        if line != self.shown:
            print(line, end="", file=sys.stderr, flush=True)
            self.shown = line

    def download(self, done: int, total: int) -> None:
        self("download", done / total if total else 0.0)

    def close(self) -> None:
        if self.shown:
            print("\r" + " " * (len(self.shown) - 1) + "\r", end="", file=sys.stderr, flush=True)


def series_plots(report: dict[str, Any]) -> str:
    """The series, its autocorrelation, decomposition and transforms, drawn with plotext."""
    import plotext

    from tui import data_plots

    width = min(shutil.get_terminal_size((100, 24)).columns, 100)
    out = []
    for draw in data_plots.series_figures(report):
        plotext.clear_figure()
        plotext.plotsize(width, PLOT_HEIGHT)
        plotext.theme("clear")
        draw(plotext)
        out.append(ANSI.sub("", plotext.build()))
    return "\n" + "\n\n".join(out)
