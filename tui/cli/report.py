"""`rnn-tui report RUN... [--out report.html] [--study NAME [--storage URL]]`: one HTML file.

The page is self-contained (inline CSS, plots as inline SVG, no scripts): per run its settings,
curves with the reference lines, metrics against the published anchors and the task's pictures;
several runs add a comparison; `--study` adds a sweep's trials and importances (alone, it brings
its best trial's run). Progress lines go to stderr, the path written to stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from tui.cli.common import CliError


def register(sub: Any) -> None:
    """Add the `report` parser."""
    p = sub.add_parser(
        "report",
        help="write one self-contained HTML report of runs (and a sweep)",
        description="One HTML file, plots inline as SVG: each run's settings, curves with the "
        "reference lines, test metrics against the published anchors and its task's pictures; "
        "for several runs a comparison; for a sweep its trials and importances.",
    )
    p.add_argument("runs", nargs="*", metavar="RUN", help="run folders (`rnn-tui runs` lists them)")
    p.add_argument(
        "--out",
        default="report.html",
        metavar="FILE",
        help="the HTML file to write (default: report.html)",
    )
    p.add_argument("--study", metavar="NAME", help="a sweep's study to report (`rnn-tui sweep`)")
    p.add_argument(
        "--storage", metavar="URL", help="the study's storage (default: the sweeps' database)"
    )
    p.set_defaults(func=cmd_report)


def output_path(text: str) -> Path:
    """Where the report goes; `CliError` for a folder, or a folder that does not exist."""
    out = Path(text)
    if out.is_dir():
        raise CliError(f"--out {out} is a folder; name the file, e.g. {out / 'report.html'}")
    parent = out.parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise CliError(f"--out {out}: the folder {parent} {what}")
    return out


def cmd_report(args: argparse.Namespace) -> int:
    if not args.runs and not args.study:
        raise CliError("name at least one run folder (`rnn-tui runs` lists them) or --study NAME")
    if args.storage and not args.study:
        raise CliError("--storage needs --study NAME")
    out = output_path(args.out)
    from tasks.experiments.report import build_report

    page = build_report(
        [Path(r) for r in args.runs],
        study=args.study,
        storage=args.storage,
        progress=lambda line: print(f"report: {line}", file=sys.stderr, flush=True),
    )
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    figures = page.count('<figure class="plot')
    print(f"wrote {out} ({figures} plots, {len(page.encode()) / 1e6:.1f} MB)")
    return 0
