"""What the scan view draws, as Rich renderables: rows of states over ``t = 1..T``, the
block-wise scan's phases, mLSTM's decay matrix as a heat map, and the timing table.

The numbers come from `models.cores.scan_trace` (imported only for types, so drawing loads no
torch). Every row has the same columns, so the phases line up under the steps they compute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.color import Color
from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from models.cores.scan_trace import ChunkedTrace, DecayTrace, LogTrace, ScanTrace, Timing

LABEL = 9
"""Width of the row labels."""
CELL = 7
"""Width of one step's value (``+0.123``)."""
TOLERANCE = 1e-6
"""The largest difference the view calls equal."""
CHUNK_STYLES = ("", "on grey23")
"""Alternate chunks' background, so a chunk's steps read as one block."""


def value(v: complex | float) -> str:
    """``+0.123`` (the real part of a complex value)."""
    return f"{v.real:+.3f}"


def grid(steps: int, chunk: int | None = None) -> Table:
    """A table with a label column and one fixed-width column per step (chunks shaded)."""
    table = Table.grid(padding=(0, 1))
    table.add_column(width=LABEL, no_wrap=True)
    for t in range(steps):
        style = CHUNK_STYLES[(t // chunk) % 2] if chunk else ""
        table.add_column(width=CELL, justify="right", no_wrap=True, style=style)
    return table


def steps_row(table: Table, steps: int, name: str = "t") -> None:
    table.add_row(Text(name, style="dim"), *(Text(str(t + 1), style="dim") for t in range(steps)))


def values_row(
    table: Table, label: str, values: Sequence[complex | float | None], style: str = ""
) -> None:
    cells = [Text("") if v is None else Text(value(v), style=style) for v in values]
    table.add_row(Text(label, style="bold" if style else ""), *cells)


def heading(text: str, note: str = "") -> Text:
    return Text.assemble((text, "bold"), (f"  {note}" if note else "", "dim"))


def verdict(difference: float, against: str) -> Text:
    """``= (a) to 1e-6 ✓  (largest difference 2.2e-16 over every unit and step)``."""
    ok = difference <= TOLERANCE
    return Text.assemble(
        (f"= {against} to 1e-6 {'✓' if ok else '✗'}", "bold green" if ok else "bold red"),
        (f"  largest difference {difference:.1e} over every unit and step", "dim"),
    )


def sequential_panel(trace: ScanTrace) -> RenderableType:
    """(a): the recurrence's states, one step after another."""
    table = grid(trace.steps)
    steps_row(table, trace.steps)
    values_row(table, trace.quantity, trace.sequential, "cyan")
    return Group(
        table,
        Text(
            f"{trace.steps} sequential steps: each needs the state of the one before", style="dim"
        ),
    )


def chunked_panel(trace: ScanTrace, chunked: ChunkedTrace) -> RenderableType:
    """(b): the block-wise scan's three phases for the same unit."""
    C, n, T = chunked.chunk, chunked.chunks, trace.steps
    carry_at = [chunked.carries[t // C] if t % C == 0 else None for t in range(T)]
    parts: list[RenderableType] = []
    table = grid(T, C)
    steps_row(table, T)
    table.add_row(
        Text("chunk", style="dim"), *(Text(str(t // C + 1), style="dim") for t in range(T))
    )
    parts.append(table)
    parts.append(heading("1 scan each chunk from 0", f"{C} steps, all {n} chunks at once"))
    table = grid(T, C)
    values_row(table, "local", chunked.local)
    values_row(table, "p = Π a", chunked.products)
    parts.append(table)
    parts.append(
        heading("2 carry across chunk ends", f"{n} steps: carry ← local + p ⊙ carry at each end")
    )
    table = grid(T, C)
    values_row(table, "carry", carry_at)
    parts.append(table)
    parts.append(heading("3 fix up", "1 step, every t at once: h_t = local_t + p_t ⊙ carry"))
    table = grid(T, C)
    values_row(table, trace.quantity, chunked.states, "cyan")
    parts.append(table)
    parts.append(verdict(chunked.difference, "(a)"))
    big = 4096
    chunk = math.isqrt(big - 1) + 1  # what `chunked_scan` picks: ceil(sqrt(T)), so n = C here
    parts.append(
        Text(
            f"steps one after another: recurrence {T}, chunked {C} + {n} = {C + n} "
            f"(at T = {big}: {big} vs {chunk} + {chunk})",
            style="dim",
        )
    )
    return Group(*parts)


def log_panel(trace: ScanTrace, log: LogTrace) -> RenderableType:
    """(b'): the log-space scan, two prefix sums over time."""
    table = grid(trace.steps)
    steps_row(table, trace.steps)
    values_row(table, "a*=Σlog a", log.a_star)
    values_row(table, trace.quantity, log.states, "cyan")
    return Group(
        table,
        verdict(log.difference, "(a)"),
        Text(
            "two prefix sums over t (cumsum of log a, logcumsumexp of log b - a*): "
            "each runs in about log₂ T parallel steps",
            style="dim",
        ),
    )


def heat(v: float) -> Style:
    """Dark for 0, bright for 1."""
    lo, hi = (30, 42, 68), (246, 195, 67)
    mix = tuple(round(a + (b - a) * max(0.0, min(1.0, v))) for a, b in zip(lo, hi, strict=True))
    return Style(color="black" if v > 0.55 else "white", bgcolor=Color.from_rgb(*mix))


def decay_panel(trace: ScanTrace, decay: DecayTrace) -> RenderableType:
    """(b) for mLSTM: the decay matrix D' (rows t, columns s) and the outputs computed from it."""
    T = trace.steps
    table = grid(T)
    steps_row(table, T, "t \\ s")
    for t, row in enumerate(decay.decay):
        cells = [Text(f"{v:.2f}".center(CELL), style=heat(v)) if s <= t else Text("·", style="dim")
                 for s, v in enumerate(row)]  # fmt: skip
        table.add_row(Text(f"{t + 1}", style="dim"), *cells)
    out = grid(T)
    values_row(out, trace.quantity, decay.states, "cyan")
    return Group(
        Text(
            "D'_ts = exp(F_t - F_s + ĩ_s - m_t): how much of step s is still in h_t "
            "(F the running sum of log forget gates; 0 above the diagonal)",
            style="dim",
        ),
        table,
        heading("outputs", "h_t = o_t ⊙ ((QKᵀ ⊙ D') V)_t / max(|Σ_s (QKᵀ ⊙ D')_ts|, exp(-m_t))"),
        out,
        verdict(decay.difference, "(a)"),
        Text(
            f"steps one after another: recurrence {T}, parallel form 1 (matrix products over "
            f"a {T}×{T} grid per head: T² work and memory)",
            style="dim",
        ),
    )


def timing_table(rows: Sequence[Timing], scan: str) -> Table:
    """T, then forward and forward + backward: sequential ms, parallel ms, speed-up."""
    table = Table(box=None, padding=(0, 1), header_style="bold")
    table.add_column("T", justify="right")
    for kind in ("forward", "fwd + bwd"):
        table.add_column(f"{kind}\nsequential", justify="right")
        table.add_column(f"{kind}\n{scan}", justify="right")
        table.add_column("\nspeed-up", justify="right")
    for row in rows:
        cells = [str(row.steps)]
        for sequential, parallel in (row.forward, row.backward):
            cells.append(f"{sequential * 1e3:,.1f} ms")
            if parallel is None:
                cells += ["T² too big", ""]
            else:
                cells += [f"{parallel * 1e3:,.1f} ms", f"{sequential / parallel:.2f}×"]
        table.add_row(*cells)
    return table
