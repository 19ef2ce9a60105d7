"""Gate saturation (Karpathy et al. 2015): how often each unit's gate is nearly shut or open.

Per layer and gate, the fraction of the text's steps where a unit's gate is below 0.1
(left-saturated) and above 0.9 (right-saturated): one point per unit in the paper's scatter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.inspect.trace import StateTrace

__all__ = ["LEFT", "RIGHT", "Saturation", "saturation"]

LEFT, RIGHT = 0.1, 0.9
"""A gate below LEFT is left-saturated (nearly shut), above RIGHT right-saturated (open)."""


@dataclass
class Saturation:
    """One gate of one layer: the fractions of steps each unit spends saturated, ``(H,)`` each."""

    layer: int
    gate: str
    left: np.ndarray
    right: np.ndarray


def saturation(trace: StateTrace) -> list[Saturation]:
    """One `Saturation` per (layer, gate), layers first; empty for a trace without gates."""
    result = []
    for layer in range(trace.layers):
        for gate in trace.gates:
            rows = trace.check(layer, gate)  # (H, T) float16
            result.append(
                Saturation(layer, gate, (rows < LEFT).mean(axis=1), (rows > RIGHT).mean(axis=1))
            )
    return result
