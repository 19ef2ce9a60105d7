"""`GradHeatmap`: gradient norms per time step (rows) over training (columns), log-scaled.

Each column is one recorded profile (``||dL/dh_t||`` for t = 1..N); rows bin the time steps so
the map fits the widget, and columns are picked evenly from the whole history when there are
more than fit. Colours run from dark (tiny gradient) to bright yellow (large) on a log10 scale
fitted to what is shown; red marks a value that overflowed (NaN/inf).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

PALETTE = (
    "#0d0887", "#41049d", "#6a00a8", "#8f0da4", "#b12a90",
    "#cc4778", "#e16462", "#f2844b", "#fca636", "#fcce25", "#f0f921",
)  # fmt: skip
"""Low to high (plasma)."""
OVERFLOW = "#ff0000"
"""The colour of a non-finite value."""
MAX_COLUMNS = 2000
"""Profiles kept; beyond this every other one is dropped (the map shows a sample anyway)."""


def log_grid(columns: Sequence[Sequence[float | None]], rows: int, width: int) -> np.ndarray:
    """``(rows, width')`` mean log10 norm per cell (NaN: overflow; -inf: zero gradient).

    columns: profiles, each ``N`` values for t = 1..N; ``width' = min(width, len(columns))``.
    """
    picks = np.unique(
        np.linspace(0, len(columns) - 1, min(width, len(columns))).round().astype(int)
    )
    out = []
    for i in picks:
        values = np.array([np.nan if v is None else v for v in columns[i]], dtype=float)
        with np.errstate(divide="ignore"):
            logs = np.log10(values)  # 0 -> -inf
        bins = np.array_split(logs, min(rows, len(logs)))
        out.append([_bin(b) for b in bins])
    return np.array(out).T


def _bin(values: np.ndarray) -> float:
    if np.isnan(values).any():
        return math.nan
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else -math.inf


class GradHeatmap(Widget):
    """Time step × training step, coloured by log10 of a gradient norm."""

    DEFAULT_CSS = """
    GradHeatmap { height: 1fr; min-height: 6; }
    """

    version: reactive[int] = reactive(0)
    """Bumped when a column is added (redraws the map)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[list[float | None]] = []
        """The profiles, oldest first."""
        self.steps: list[int] = []
        """The training step of each column."""

    def add_column(self, step: int, values: Sequence[float | None]) -> None:
        """Append one profile (values for t = 1..N)."""
        self.columns.append(list(values))
        self.steps.append(step)
        if len(self.columns) > MAX_COLUMNS:
            del self.columns[::2], self.steps[::2]
        self.version += 1

    def set_columns(self, steps: Sequence[int], columns: Sequence[Sequence[float | None]]) -> None:
        """Replace every profile (e.g. to show another quantity of the same steps)."""
        self.steps = list(steps)
        self.columns = [list(c) for c in columns]
        self.version += 1

    def render(self) -> RenderableType:
        if not self.columns:
            return Text("waiting for the first gradient profile…", style="dim")
        length = len(self.columns[-1])
        label_width = len(str(length)) + 3
        rows = max(1, self.size.height - 2)
        width = max(1, self.size.width - label_width)
        same = [c for c in self.columns if len(c) == length]
        grid = log_grid(same, rows, width)  # (rows', width')
        finite = grid[np.isfinite(grid)]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 0.0)
        text = Text()
        edges = np.array_split(np.arange(1, length + 1), grid.shape[0])
        for r, row in enumerate(grid):
            label = f"t={edges[r][0]}" if r == 0 else ""
            if r == grid.shape[0] - 1 and r > 0:
                label = f"t={edges[r][-1]}"
            text.append(f"{label:>{label_width - 1}} ", style="dim")
            for value in row:
                text.append(" ", style=Style(bgcolor=_colour(value, lo, hi)))
            text.append("\n")
        text.append(f"{'':{label_width - 1}} ", style="dim")
        text.append(f"1e{lo:.0f} ", style="dim")
        for colour in PALETTE:
            text.append(" ", style=Style(bgcolor=colour))
        text.append(f" 1e{hi:.0f}", style="dim")
        text.append(f"  · steps {self.steps[0]:,}–{self.steps[-1]:,} →", style="dim")
        return text


def _colour(value: float, lo: float, hi: float) -> str:
    """The palette colour of a log10 value within [lo, hi]."""
    if math.isnan(value):
        return OVERFLOW
    if value == -math.inf:
        return PALETTE[0]
    if hi <= lo:
        return PALETTE[len(PALETTE) // 2]
    k = round((value - lo) / (hi - lo) * (len(PALETTE) - 1))
    return PALETTE[min(max(k, 0), len(PALETTE) - 1)]
