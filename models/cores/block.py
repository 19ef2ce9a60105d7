"""The residual block of the recent recurrent papers, around any core.

minGRU/minLSTM, LRU, Mamba and xLSTM all stack their recurrence as a pre-norm residual block:
normalise, mix along time with the core, add back, then a position-wise MLP the same way.

Equations::

    u_t = x_t + core(norm₁(x))_t
    y_t = u_t + W₂ GELU(W₁ norm₂(u_t))          W₁ (r·d × d), W₂ (d × r·d)

The core must keep the width (``input_size == output_size``, ``d``); ``mlp_ratio=0`` leaves out
the MLP. The block is a `RecurrentCore` itself: its state and scans are the core's.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from models.cores.base import (
    CoreError,
    Lengths,
    RecurrentCore,
    State,
    padding_mask,
    zero_padding,
)

__all__ = ["NORMS", "ResidualBlock"]

NORMS = ("layer", "rms")


class ResidualBlock(RecurrentCore):
    """``norm -> core -> residual -> (norm -> MLP -> residual)`` over ``(B, T, d)``.

    Args:
        core: any core with ``input_size == output_size``.
        mlp_ratio: the MLP's hidden width over ``d``; 0 for no MLP.
        norm: "layer" (`nn.LayerNorm`) or "rms" (`nn.RMSNorm`).
        dropout: on the core's and the MLP's outputs before each residual add (training only).
    """

    def __init__(
        self, core: RecurrentCore, mlp_ratio: float = 4.0, norm: str = "layer", dropout: float = 0.0
    ) -> None:
        super().__init__()
        if core.input_size != core.output_size:
            raise CoreError(
                f"a residual block needs a core that keeps the width; {type(core).__name__} maps "
                f"{core.input_size} features to {core.output_size}"
            )
        if norm not in NORMS:
            raise CoreError(f"unknown norm {norm!r}; choose one of {NORMS}")
        d = core.input_size
        self.input_size = self.hidden_size = self.output_size = d
        self.core = core
        make_norm = nn.LayerNorm if norm == "layer" else nn.RMSNorm
        self.norm = make_norm(d)
        self.dropout = nn.Dropout(dropout)
        self.mlp: nn.Module | None = None
        if mlp_ratio > 0:
            width = round(mlp_ratio * d)
            self.mlp = nn.Sequential(
                make_norm(d),
                nn.Linear(d, width),
                nn.GELU(),
                nn.Linear(width, d),
                nn.Dropout(dropout),
            )

    @property
    def scans(self) -> tuple[str, ...]:  # type: ignore[override]
        """The core's scans."""
        return self.core.scans

    @property
    def scan(self) -> str:
        """The core's scan; setting it sets the core's."""
        return self.core.scan

    @scan.setter
    def scan(self, value: str) -> None:
        self.core.scan = value

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> State:
        """The core's."""
        return self.core.initial_state(batch, device, dtype)

    def _mix(self, x: Tensor, y: Tensor) -> Tensor:
        """The residual adds around the core's output ``y``."""
        u = x + self.dropout(y)
        return u if self.mlp is None else u + self.mlp(u)

    def step(self, x_t: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        y, state = self.core.step(self.norm(x_t), state)
        return self._mix(x_t, y), state

    def forward(
        self, x: Tensor, state: State | None = None, lengths: Lengths | None = None
    ) -> tuple[Tensor, State]:
        y, state = self.core(self.norm(x), state, lengths)  # checks x and lengths
        mask = padding_mask(lengths, x.size(0), x.size(1), x.device)
        return zero_padding(self._mix(x, y), mask), state
