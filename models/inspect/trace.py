"""`StateTrace`: every unit's hidden state, cell and gates after each character of a text.

What the inspector reads (LSTMVis, Strobelt et al. 2018; Karpathy et al. 2015): per layer and
per kind of value (``h``, LSTM's ``c``, a gate, the candidate), one row of T values per unit.
The value at position t is the one after reading character t. Rows are stored float16 and
unit-major, ``(H, T)``, so one unit of a 100 k-character text is one contiguous 200 kB row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

__all__ = [
    "GATES",
    "INSPECTABLE",
    "KINDS",
    "InspectCancelled",
    "InspectError",
    "StateTrace",
    "check_inspectable",
    "spans",
]

KINDS: dict[str, tuple[str, ...]] = {
    "rnn": ("h",),
    "numpy-rnn": ("h",),
    "lstm": ("h", "c", "input gate", "forget gate", "candidate", "output gate"),
    "gru": ("h", "reset gate", "update gate", "candidate"),
    "mingru": ("h", "update gate", "candidate"),
    "minlstm": ("h", "forget gate", "input gate", "candidate"),
    "indrnn": ("h",),
}
"""The values recorded per architecture. Gates are post-activation (σ, in [0, 1]); minLSTM's
are σ before their normalisation ``f / (f + i)``; torch's GRU keeps ``z ⊙ h_{t-1}``."""

GATES: dict[str, tuple[str, ...]] = {
    arch: tuple(k for k in kinds if k.endswith(" gate")) for arch, kinds in KINDS.items()
}
"""The kinds in [0, 1] (what gate saturation measures)."""

INSPECTABLE: tuple[str, ...] = tuple(KINDS)
"""The architectures whose per-step states can be traced."""

FLOAT16_MAX = float(np.finfo(np.float16).max)


class InspectError(ValueError):
    """Bad input to the inspector, said in one line (no state to inspect, a bad regex, ...)."""


class InspectCancelled(InspectError):
    """The caller's `cancelled()` said stop while a trace was being computed."""


def check_inspectable(arch: str) -> None:
    """Raise `InspectError` unless ``arch`` exposes per-step states."""
    if arch not in KINDS:
        raise InspectError(
            f"`{arch}` does not expose per-step states to inspect; inspectable cores: "
            + ", ".join(INSPECTABLE)
        )


@dataclass
class StateTrace:
    """The states of a model over ``text``: ``values[(layer, kind)]`` is ``(H, T)`` float16."""

    text: str
    """The characters read (T of them)."""
    layers: int
    units: int
    """H, the units of every layer."""
    kinds: tuple[str, ...]
    """What was recorded per layer, ``h`` first."""
    gates: tuple[str, ...]
    """The kinds that are gates (values in [0, 1])."""
    values: dict[tuple[int, str], np.ndarray]

    def check(self, layer: int, kind: str) -> np.ndarray:
        """The stored ``(H, T)`` float16 rows of a layer's kind; `InspectError` if not there."""
        if not 0 <= layer < self.layers:
            raise InspectError(
                f"layer {layer} is out of range: this model has layers 0-{self.layers - 1}"
            )
        if kind not in self.kinds:
            raise InspectError(f"no {kind!r} in this trace; its kinds: {', '.join(self.kinds)}")
        return self.values[(layer, kind)]

    def unit(self, layer: int, kind: str, n: int) -> np.ndarray:
        """Unit ``n``'s values over the text, ``(T,)`` float32."""
        rows = self.check(layer, kind)
        if not 0 <= n < self.units:
            raise InspectError(
                f"unit {n} is out of range: layer {layer} has units 0-{self.units - 1}"
            )
        return rows[n].astype(np.float32)

    def matrix(self, layer: int, kind: str) -> np.ndarray:
        """Every unit of a layer, ``(H, T)`` float32."""
        return self.check(layer, kind).astype(np.float32)


class Recorder:
    """Fills a `StateTrace`'s arrays block by block: `put(layer, {kind: (C, H)}, start)`."""

    def __init__(self, text: str, layers: int, units: int, arch: str) -> None:
        self.trace = StateTrace(
            text, layers, units, KINDS[arch], GATES[arch],
            {(layer, kind): np.empty((units, len(text)), np.float16)
             for layer in range(layers) for kind in KINDS[arch]},
        )  # fmt: skip

    def put(self, layer: int, block: dict[str, np.ndarray], start: int) -> None:
        """Store each kind's ``(C, H)`` float32 values at positions ``start .. start + C``."""
        for kind in self.trace.kinds:
            rows = block[kind]
            clipped = np.clip(rows, -FLOAT16_MAX, FLOAT16_MAX)  # no inf from a large c
            self.trace.values[(layer, kind)][:, start : start + len(rows)] = clipped.astype(
                np.float16
            ).T


PIECES = 64
"""A trace runs the text in this many pieces: progress every ~1.6%, cancellation between."""


def spans(
    steps: int,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[tuple[int, int]]:
    """``(start, end)`` pieces of ``range(steps)``; reports progress after each piece and raises
    `InspectCancelled` before one when ``cancelled()`` says so."""
    size = max(1, -(-steps // PIECES))
    for start in range(0, steps, size):
        if cancelled is not None and cancelled():
            raise InspectCancelled("inspection cancelled")
        end = min(steps, start + size)
        yield start, end
        if progress is not None:
            progress(end / steps)
