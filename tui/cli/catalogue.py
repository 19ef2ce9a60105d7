"""`rnn-tui runs` and `rnn-tui data`: the saved runs and the dataset catalogue."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from tui.cli import data_show
from tui.cli.common import CliError


def register(sub: Any) -> None:
    """Add the `runs` and `data` parsers."""
    runs = sub.add_parser("runs", help="list the saved runs")
    runs.add_argument("--json", action="store_true", help="one JSON array of the runs")
    runs.set_defaults(func=cmd_runs)

    data = sub.add_parser("data", help="the dataset registry")
    data_sub = data.add_subparsers(
        dest="data_command", metavar="list|fetch|path|show", required=True
    )
    data_sub.add_parser("list", help="every dataset with its status")
    fetch = data_sub.add_parser("fetch", help="download a dataset into the cache")
    fetch.add_argument("name", help="a dataset name from `rnn-tui data list`")
    path = data_sub.add_parser("path", help="print where a dataset is on disk")
    path.add_argument("name", help="a dataset name from `rnn-tui data list`")
    data.set_defaults(func=cmd_data)
    data_show.register(data_sub)  # sets its own func


def cmd_runs(args: argparse.Namespace) -> int:
    from tasks.engine.runs import list_runs

    runs = list_runs()
    if args.json:
        print(json.dumps([r.to_dict() for r in runs]))
        return 0
    if not runs:
        print("no saved runs yet; train one with `rnn-tui train charlm`")
        return 0
    print(f"{'started':19}  {'task':8} {'arch':9} {'dataset':20} {'status':8} metric")
    for r in runs:
        metric = next(iter(r.metrics.items()), ("", ""))
        print(f"{r.started:19}  {r.task:8} {r.arch:9} {r.dataset[:20]:20} {r.status:8} "
              f"{metric[0]} {metric[1]}  {r.path}")  # fmt: skip
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from tasks.data.catalogue import CATALOGUE, get_dataset
    from tasks.data.fetch import fetch
    from tasks.data.resolve import find_local, status

    if args.data_command == "list":
        print(f"{'name':24} {'task':12} {'status':22} license")
        for info, task in CATALOGUE.values():
            print(f"{info.name:24} {task:12} {status(info):22} {info.license}")
        return 0
    info = get_dataset(args.name)
    if args.data_command == "fetch":
        path = fetch(info.name, progress=_progress_bar(info.name))
        print(path)
        return 0
    local = find_local(info)
    if info.offline:
        print(fetch(info.name))
    elif local is None:
        raise CliError(
            f"{info.name} is not on this machine yet; run `rnn-tui data fetch {info.name}`"
        )
    else:
        print(local.path)
    return 0


def _progress_bar(name: str) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        frac = done / total if total else 0.0
        bar = "#" * int(30 * frac)
        print(f"\r{name}: [{bar:30}] {frac:6.1%}", end="", file=sys.stderr, flush=True)
        if total and done >= total:
            print(file=sys.stderr)

    return progress
