"""What minGRU and minLSTM share (Feng et al. 2024): gates from the input alone, three scans.

Both are ``h_t = a_t ⊙ h_{t-1} + b_t`` with ``a_t``, ``b_t`` computed from ``x_t`` only, so a
subclass says how its projection gives the step update (sequential mode), ``(a, b)`` (the
block-wise scan) and ``(log a, log b)`` (the log-space scan); `MinimalRNN` runs them.

The candidate ``h̃`` goes through ``g`` (continuous, always positive, linear above zero) so the
log-space scan can take its logarithm; ``candidate="linear"`` is the plain ``Linear_h(x_t)``
of the paper's first algorithms, which the log-space scan cannot run. Unlike the paper's code,
``h_0`` is not put inside the logarithm: it enters as ``exp(a*_t) ⊙ h_0``, so any initial state
(zeros, negative values, a state carried from the sequential mode) runs in every scan.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from models.cores.base import (
    CoreError,
    Lengths,
    RecurrentCore,
    run_steps,
    zero_padding,
)
from models.cores.gated_scan import g, gated_scan
from models.cores.scan import default_chunk, hold_padding, log_scan

__all__ = ["CANDIDATES", "MinimalRNN", "g", "log_g"]

CANDIDATES = ("g", "linear")


def log_g(v: Tensor) -> Tensor:
    """``log g(v)``, computed stably (``-softplus(-v)`` below zero)."""
    return torch.where(v >= 0, torch.log(F.relu(v) + 0.5), -F.softplus(-v))


class MinimalRNN(RecurrentCore):
    """Base of minGRU and minLSTM: ``(B, T, input_size)`` -> ``(B, T, hidden_size)``.

    Args:
        input_size, hidden_size: as `nn.GRU`.
        candidate: "g" (positive, any scan) or "linear" (not the "log" scan).
        scan: "sequential", "log" or "chunked".
        chunk: steps per chunk of the "chunked" scan; ``ceil(sqrt(T))`` if None.
        bias: biases in the input projection.

    The state is ``h`` ``(B, H)``. Parameters: ``linear`` stacks the ``chunks`` projections of
    the subclass (``weight`` ``(chunks*H, I)``, ``bias`` ``(chunks*H,)``).
    """

    chunks: ClassVar[int]
    """Projections stacked in ``linear``."""
    joint: ClassVar[bool] = False
    """True when the projection is ``[d | v]`` as `_gate` returns them (minGRU): the chunked
    scan then takes it whole."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        candidate: str = "g",
        scan: str = "chunked",
        chunk: int | None = None,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if candidate not in CANDIDATES:
            raise CoreError(f"{name}: unknown candidate {candidate!r}; choose one of {CANDIDATES}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = hidden_size
        self.candidate = candidate
        self.chunk = chunk
        self.scan = scan
        self.linear = nn.Linear(
            input_size, self.chunks * hidden_size, bias, device=device, dtype=dtype
        )

    @property
    def scans(self) -> tuple[str, ...]:  # type: ignore[override]
        """ "sequential", "log" (not with ``candidate="linear"``), "chunked"."""
        if self.candidate == "linear":
            return ("sequential", "chunked")
        return ("sequential", "log", "chunked")

    def _check_scan(self, scan: str) -> None:
        if scan == "log" and self.candidate == "linear":
            raise CoreError(
                f"{type(self).__name__}: the log-space scan needs a positive candidate; "
                "candidate='linear' runs with scan 'sequential' or 'chunked'"
            )

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, candidate={self.candidate!r}, "
            f"scan={self.scan!r}"
        )

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> Tensor:
        """Zeros ``(B, H)``."""
        return self._zeros(batch, self.hidden_size, device=device, dtype=dtype)

    def _h_tilde(self, v: Tensor) -> Tensor:
        """The candidate from its pre-activation ``v``."""
        return g(v) if self.candidate == "g" else v

    @abstractmethod
    def _update(self, *parts: Tensor) -> tuple[Tensor, Tensor]:
        """One step of the equations: ``(*parts of the projection, h) -> (h, h)``."""

    @abstractmethod
    def _gate(self, *parts: Tensor) -> tuple[Tensor, Tensor]:
        """``(d, v)``: ``h_t = (1 - σ(d_t)) ⊙ h_{t-1} + σ(d_t) ⊙ h̃(v_t)`` for every step."""

    def _coefficients(self, *parts: Tensor) -> tuple[Tensor, Tensor]:
        """``(a, b)`` of ``h_t = a_t ⊙ h_{t-1} + b_t`` for every step ``(B, T, H)``."""
        d, v = self._gate(*parts)
        z = torch.sigmoid(d)
        return 1 - z, z * self._h_tilde(v)

    @abstractmethod
    def _log_coefficients(self, *parts: Tensor) -> tuple[Tensor, Tensor]:
        """``(log a, log b)``, computed without taking the log of a small number."""

    def step(self, x_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h = self._start_step(x_t, state)
        return self._update(*self.linear(x_t).chunk(self.chunks, dim=-1), h)

    def forward(
        self, x: Tensor, state: Tensor | None = None, lengths: Lengths | None = None
    ) -> tuple[Tensor, Tensor]:
        h0, mask = self._start(x, state, lengths)  # (B, H); mask (B, T) or None
        projection = self.linear(x)  # (B, T, chunks * H)
        parts = projection.chunk(self.chunks, dim=-1)  # (B, T, H) each
        if self.scan == "sequential":
            h, last = run_steps(self._update, parts, h0, mask)
            return zero_padding(h, mask), last
        if self.scan == "log":
            log_a, log_b = hold_padding(*self._log_coefficients(*parts), mask, log=True)
            h = log_scan(log_a, log_b, h0)  # (B, T, H)
        else:
            dv = projection if self.joint else self._gate(*parts)
            chunk = self.chunk or default_chunk(x.size(1))
            h = gated_scan(dv, h0, chunk, mask, self.candidate == "g")
        last = h[:, -1]  # padding held the state, so the last step has it
        return zero_padding(h, mask), last
