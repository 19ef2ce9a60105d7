"""S6, the selective state-space layer of Mamba (Gu & Dao 2023), minimal and in plain PyTorch.

A state-space model ``h' = A h + B x``, ``y = C h`` run per channel, discretised with a step
``Δ``, where ``Δ``, ``B`` and ``C`` depend on the input: the layer chooses, token by token, how
much to keep (small ``Δ``: ``exp(Δ A)`` near 1) and how much to write. The recurrence stays
linear in ``h``, so it scans in parallel. This is the S6 layer alone: no convolution, gate or
projections of the Mamba block (`models.cores.block` adds a residual block around any core).

Equations::

    per channel d = 1..D and state n = 1..N:
    Δ_t = softplus(W_Δ (W_r x_t) + b_Δ)        (B, T, D), low rank R = ceil(D / 16)
    B_t = W_B x_t,  C_t = W_C x_t              (B, T, N), shared by the channels
    A   = -exp(A_log)                          (D, N), real and negative
    Ā_t = exp(Δ_t A)                           zero-order hold
    B̄_t x_t = Δ_t B_t x_t                      (the simplified B of Mamba's code)
    h_t = Ā_t ⊙ h_{t-1} + B̄_t x_t              h (D, N)
    y_t = C_t · h_t + D_skip ⊙ x_t             (B, T, D)

    initialisation (S4D-real and Mamba's): A_log[d, n] = log(n), D_skip = 1,
    Δ = softplus(b_Δ) starts log-uniform in [dt_min, dt_max]

Scans: "sequential" (one step at a time) and "chunked" (the block-wise scan of
`models.cores.scan` on ``(B, T, D, N)``: chunks scanned at once, the state carried between
them). Sizes: ``input_size`` = ``D`` = ``output_size``; ``hidden_size`` = ``N`` states per
channel. The state ``h`` is ``(B, D, N)``.
"""

from __future__ import annotations

import math
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
from models.cores.scan import chunked_scan, hold_padding

__all__ = ["S6"]


class S6(RecurrentCore):
    """Selective SSM over ``(B, T, D)`` -> ``(B, T, D)`` with ``N = hidden_size`` states a channel.

    Args:
        input_size: ``D`` channels, in and out.
        hidden_size: ``N``, states per channel.
        dt_rank: ``R``, the rank of the ``Δ`` projection; ``ceil(D / 16)`` if None.
        dt_min, dt_max: the range ``Δ`` starts in.
        scan: "sequential" or "chunked".
        chunk: steps per chunk of the "chunked" scan; ``ceil(sqrt(T))`` if None.

    Parameters: ``x_proj.weight`` ``(R + 2N, D)`` stacks ``W_r``, ``W_B``, ``W_C``;
    ``dt_proj`` (``W_Δ`` ``(D, R)``, ``b_Δ`` ``(D,)``); ``A_log`` ``(D, N)``; ``D_skip`` ``(D,)``.
    """

    scans: ClassVar[tuple[str, ...]] = ("sequential", "chunked")

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 16,
        dt_rank: int | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        scan: str = "chunked",
        chunk: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if not 0 < dt_min <= dt_max:
            raise CoreError(f"S6: need 0 < dt_min <= dt_max, got {dt_min} and {dt_max}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = input_size
        self.dt_rank = dt_rank or math.ceil(input_size / 16)
        self.dt_min, self.dt_max = dt_min, dt_max
        self.chunk = chunk
        self.scan = scan
        factory = {"device": device, "dtype": dtype}
        D, N, R = input_size, hidden_size, self.dt_rank
        self.x_proj = nn.Linear(D, R + 2 * N, bias=False, **factory)
        self.dt_proj = nn.Linear(R, D, **factory)
        self.A_log = nn.Parameter(torch.empty(D, N, **factory))
        self.D_skip = nn.Parameter(torch.empty(D, **factory))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Mamba's initialisation: S4D-real ``A``, ``Δ`` log-uniform, ``D_skip = 1``."""
        self.x_proj.reset_parameters()
        nn.init.uniform_(self.dt_proj.weight, -(self.dt_rank**-0.5), self.dt_rank**-0.5)
        log_lo, log_hi = math.log(self.dt_min), math.log(self.dt_max)
        dt = torch.exp(torch.rand_like(self.dt_proj.bias) * (log_hi - log_lo) + log_lo)
        self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # softplus⁻¹(dt)
        n = torch.arange(1, self.hidden_size + 1, dtype=self.A_log.dtype, device=self.A_log.device)
        self.A_log.copy_(torch.log(n).expand_as(self.A_log))
        nn.init.ones_(self.D_skip)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, dt_rank={self.dt_rank}, scan={self.scan!r}"

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> Tensor:
        """Zeros ``(B, D, N)``."""
        return self._zeros(batch, self.input_size, self.hidden_size, device=device, dtype=dtype)

    def _selection(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(Ā, B̄x, C)`` for ``x`` ``(..., D)``: ``(..., D, N)`` twice and ``(..., N)``."""
        low, B, C = self.x_proj(x).split([self.dt_rank, self.hidden_size, self.hidden_size], -1)
        delta = F.softplus(self.dt_proj(low)).unsqueeze(-1)  # (..., D, 1)
        A = -torch.exp(self.A_log)  # (D, N)
        a = torch.exp(delta * A)  # (..., D, N)
        bx = delta * B.unsqueeze(-2) * x.unsqueeze(-1)  # (..., D, N)
        return a, bx, C

    def _output(self, h: Tensor, C: Tensor, x: Tensor) -> Tensor:
        """``C · h + D_skip ⊙ x``: ``(..., D, N)``, ``(..., N)``, ``(..., D)`` -> ``(..., D)``."""
        return (h @ C.unsqueeze(-1)).squeeze(-1) + self.D_skip * x

    def step(self, x_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h = self._start_step(x_t, state)
        a, bx, C = self._selection(x_t)
        h = a * h + bx  # (B, D, N)
        return self._output(h, C, x_t), h

    def forward(
        self, x: Tensor, state: Tensor | None = None, lengths: Lengths | None = None
    ) -> tuple[Tensor, Tensor]:
        h0, mask = self._start(x, state, lengths)  # (B, D, N); mask (B, T) or None
        a, bx, C = self._selection(x)  # (B, T, D, N) twice, (B, T, N)
        if self.scan == "sequential":
            h, last = run_steps(lambda a_t, b_t, h: (a_t * h + b_t,) * 2, (a, bx), h0, mask)
        else:
            h = chunked_scan(*hold_padding(a, bx, mask), h0, self.chunk)  # (B, T, D, N)
            last = h[:, -1]
        return zero_padding(self._output(h, C, x), mask), last
