"""Plotext drawings of the inspector (`DataPlot` draws them): gate saturation per layer, as in
Karpathy et al. 2015 (fig. 4), and review trajectories on two principal components
(Maheswaranathan et al. 2019). No textual here: each is a function of plain data that draws
on a plotext object."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tui.data_plots import Draw

GATE_COLORS = ("cyan", "orange", "green", "magenta")
"""One colour per gate, in the trace's gate order."""
LABEL_COLORS = ("red", "green")
"""Trajectories of negative (0) and positive (1) reviews."""


def saturation_draw(
    layer: int, gates: Sequence[str], left: Sequence[np.ndarray], right: Sequence[np.ndarray]
) -> Draw:
    """Layer `layer`'s (from 0) scatter: a dot per unit and gate at (fraction of steps < 0.1,
    fraction > 0.9); `left[i]`, `right[i]` are gate i's (H,) fractions."""

    def draw(plt: Any) -> None:
        plt.title(f"layer {layer + 1} · y: right-saturated (> 0.9)")
        plt.xlabel("x: left-saturated (< 0.1), fraction of steps")
        plt.plot([0, 1], [1, 0], color="gray", marker="braille")  # always one or the other
        for i, gate in enumerate(gates):
            color = GATE_COLORS[i % len(GATE_COLORS)]
            plt.scatter(list(map(float, left[i])), list(map(float, right[i])), color=color,
                        marker="dot", label=gate)  # fmt: skip
        plt.xlim(0, 1)
        plt.ylim(0, 1)

    return draw


def trajectories_draw(
    paths: Sequence[np.ndarray], labels: Sequence[int], explained: tuple[float, float]
) -> Draw:
    """Each review's path through its states on PC 1 and PC 2 (`paths[i]`: (T_i, 2)), coloured
    by its label; its last state as a larger mark (a last-state model reads its verdict there;
    an attention model pools every state)."""

    def draw(plt: Any) -> None:
        plt.title("review states on their first two principal components")
        plt.xlabel(f"PC 1 ({explained[0]:.0%} of the variance)")
        plt.ylabel(f"PC 2 ({explained[1]:.0%})")
        named: set[int] = set()
        for path, label in zip(paths, labels, strict=True):
            color = LABEL_COLORS[label % 2]
            plt.plot(path[:, 0].tolist(), path[:, 1].tolist(), color=color, marker="braille")
            name = None if label in named else ("positive" if label else "negative")
            named.add(label)
            plt.scatter([float(path[-1, 0])], [float(path[-1, 1])], color=color, marker="●",
                        label=name)  # fmt: skip

    return draw
