"""What the Sweeps screen's panels say, as Rich renderables of plain data: the search space, a
trial's settings, the best trial, the parameter importances as bars."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from tui.sweep_process import Trial

EIGHTHS = " ▏▎▍▌▋▊▉"
"""Partial blocks for a bar's last cell, in eighths of a cell."""

BAR_WIDTH = 18
"""Cells of the longest importance bar."""


def value_text(value: Any) -> str:
    """A setting's value in a few characters: `0.0032`, `256`, `gru`, `none`, `on`."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e6:
            return str(int(value))
        return f"{value:.3g}"
    return str(value)


def settings_text(params: Mapping[str, Any]) -> str:
    """A trial's settings on one line: `lr 0.0032 · hidden 256 · arch gru`."""
    return " · ".join(f"{name} {value_text(value)}" for name, value in params.items())


def search_text(search: Any) -> tuple[str, str]:
    """(values, scale) of a `tasks.experiments.space.Search`: (`1e-04 … 0.01`, `log`),
    (`gru, lstm`, `choice`), (`= 2`, `fixed`)."""
    choices = tuple(search.choices)
    if len(choices) == 1:
        return f"= {value_text(choices[0])}", "fixed"
    if choices:
        return ", ".join(value_text(c) for c in choices), "choice"
    text = f"{value_text(search.low)} … {value_text(search.high)}"
    if search.step:
        text += f" step {search.step}"
    return text, "log" if search.log else "linear"


def space_table(space: Mapping[str, Any]) -> Table:
    """The search space, one setting a row: name, values, scale."""
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    table.add_column("setting", style="cyan", no_wrap=True)
    table.add_column("values")
    table.add_column("scale", style="dim", no_wrap=True)
    for name, search in space.items():
        table.add_row(name, *search_text(search))
    return table


def duration_text(seconds: float | None) -> str:
    """`42s`, `3m 05s`; empty when unknown."""
    if seconds is None:
        return ""
    seconds = round(seconds)
    return f"{seconds}s" if seconds < 60 else f"{seconds // 60}m {seconds % 60:02d}s"


def best_table(trial: Trial | None, metric: str) -> Table | Text:
    """The best trial so far: its number, metric, settings, test metrics and run folder."""
    if trial is None or trial.value is None:
        return Text("no completed trial yet", style="dim")
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_row("trial", Text(f"#{trial.number}", style="bold"))
    table.add_row(metric, Text(f"{trial.value:.4g}", style="bold green"))
    for name, value in trial.params.items():
        table.add_row(name, value_text(value))
    for name, value in trial.test_metrics.items():
        table.add_row(name, f"{value:.4g}")
    if trial.run_dir:
        table.add_row("run", Path(trial.run_dir).name)
    return table


def importance_bars(importances: Mapping[str, float] | None, waiting: str) -> Table | Text:
    """Each setting's importance as a bar (the largest `BAR_WIDTH` cells) and a percentage,
    most important first; `waiting` while there are none."""
    if not importances:
        return Text(waiting, style="dim")
    top = max(importances.values()) or 1.0
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for name, value in sorted(importances.items(), key=lambda item: -item[1]):
        cells = max(value, 0.0) / top * BAR_WIDTH
        full = int(cells)
        bar = "█" * full + (EIGHTHS[int((cells - full) * 8)] if full < BAR_WIDTH else "")
        table.add_row(name, Text(bar.rstrip(), style="cyan"), f"{value:.0%}")
    return table
