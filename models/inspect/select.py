"""LSTMVis's select and match: the units on over a stretch of text, and where they fire together.

Select a stretch ``[start, end)``: the units whose value stays above a threshold over all of it.
Match: the other stretches where all those units are above the threshold at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.inspect.trace import InspectError, StateTrace

__all__ = ["match_units", "select_units"]


def select_units(
    trace: StateTrace, layer: int, kind: str, start: int, end: int, threshold: float = 0.5
) -> list[int]:
    """The units of ``(layer, kind)`` above ``threshold`` at every position of ``[start, end)``."""
    rows = trace.check(layer, kind)
    if not 0 <= start < end <= len(trace.text):
        raise InspectError(
            f"the selection [{start}, {end}) is not a stretch of the text "
            f"(0 <= start < end <= {len(trace.text)})"
        )
    return np.flatnonzero((rows[:, start:end] > threshold).all(axis=1)).tolist()


def match_units(
    trace: StateTrace,
    layer: int,
    kind: str,
    units: Sequence[int],
    threshold: float = 0.5,
    min_length: int | None = None,
) -> list[tuple[int, int]]:
    """The maximal stretches ``[a, b)`` where every unit of ``units`` is above ``threshold``,
    at least ``min_length`` long (1 if None), in text order."""
    rows = trace.check(layer, kind)
    if not units:
        raise InspectError("no units to match: select a stretch where some units stay on")
    for n in units:
        if not 0 <= n < trace.units:
            raise InspectError(
                f"unit {n} is out of range: layer {layer} has units 0-{trace.units - 1}"
            )
    on = (rows[list(units)] > threshold).all(axis=0)  # (T,)
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    shortest = 1 if min_length is None else min_length
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b - a >= shortest]
