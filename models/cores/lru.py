"""LRU, the Linear Recurrent Unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks").

A linear RNN made to train like a deep state-space model: the recurrence is diagonal and
complex (any real linear recurrence is one, after diagonalising its matrix), its eigenvalues
are parameterised so they always lie inside the unit disc, and the input is scaled down by
``γ`` so states keep the input's size however close ``|λ|`` comes to 1.

Equations::

    λ_j = exp(-exp(ν_j) + i exp(θ_j))           |λ_j| = exp(-exp(ν_j)) < 1 always
    γ_j = exp(γlog_j), initialised to sqrt(1 - |λ_j|²)
    x_t = λ ⊙ x_{t-1} + γ ⊙ (B u_t)             x ∈ ℂ^N, B ∈ ℂ^{N×H}
    y_t = Re(C x_t) + D ⊙ u_t                   C ∈ ℂ^{H×N}, D ∈ ℝ^H

    initialisation: |λ| uniform on the ring r_min <= |λ| <= r_max,
    ν = log(-½ log(U (r_max² - r_min²) + r_min²)), θ = log(max_phase U), U ~ U[0, 1)

Scans: "sequential" (one step at a time) and "chunked" (the block-wise scan of
`models.cores.scan` on complex numbers, with ``a_t = λ``). Sizes: ``input_size`` = ``H`` =
``output_size`` (``D ⊙ u`` skips the input to the output); ``hidden_size`` = ``N``, the number of
complex state units. The state ``x`` is a complex tensor ``(B, N)``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor, nn

from models.cores.base import (
    CoreError,
    Lengths,
    RecurrentCore,
    run_steps,
    zero_padding,
)
from models.cores.scan import chunked_scan, hold_padding

__all__ = ["LRU"]


class LRU(RecurrentCore):
    """LRU over ``(B, T, H)`` -> ``(B, T, H)`` with ``N = hidden_size`` complex states.

    Args:
        input_size: ``H``, features in and out.
        hidden_size: ``N``, complex state units.
        r_min, r_max: the ring the eigenvalue moduli start on (``0 <= r_min < r_max <= 1``).
        max_phase: eigenvalue phases start uniform in ``[0, max_phase)``.
        scan: "sequential" or "chunked".
        chunk: steps per chunk of the "chunked" scan; ``ceil(sqrt(T))`` if None.

    Parameters: ``nu_log``, ``theta_log``, ``gamma_log`` ``(N,)``; ``B_re``, ``B_im``
    ``(N, H)``; ``C_re``, ``C_im`` ``(H, N)``; ``D`` ``(H,)``. Defaults as the paper's code.
    """

    scans: ClassVar[tuple[str, ...]] = ("sequential", "chunked")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        r_min: float = 0.0,
        r_max: float = 1.0,
        max_phase: float = 2 * math.pi,
        scan: str = "chunked",
        chunk: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= r_min < r_max <= 1.0:
            raise CoreError(f"LRU: need 0 <= r_min < r_max <= 1, got r_min={r_min}, r_max={r_max}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = input_size
        self.r_min, self.r_max, self.max_phase = r_min, r_max, max_phase
        self.chunk = chunk
        self.scan = scan
        factory = {"device": device, "dtype": dtype}
        N, H = hidden_size, input_size
        self.nu_log = nn.Parameter(torch.empty(N, **factory))
        self.theta_log = nn.Parameter(torch.empty(N, **factory))
        self.gamma_log = nn.Parameter(torch.empty(N, **factory))
        self.B_re = nn.Parameter(torch.empty(N, H, **factory))
        self.B_im = nn.Parameter(torch.empty(N, H, **factory))
        self.C_re = nn.Parameter(torch.empty(H, N, **factory))
        self.C_im = nn.Parameter(torch.empty(H, N, **factory))
        self.D = nn.Parameter(torch.empty(H, **factory))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """The paper's initialisation (its appendix code)."""
        N, H = self.hidden_size, self.input_size
        u1, u2 = torch.rand_like(self.nu_log), torch.rand_like(self.theta_log)
        r2 = u1 * (self.r_max**2 - self.r_min**2) + self.r_min**2  # |λ|² uniform on the ring
        self.nu_log.copy_(torch.log(-0.5 * torch.log(r2)))
        self.theta_log.copy_(torch.log(self.max_phase * u2))
        modulus = torch.exp(-torch.exp(self.nu_log))
        self.gamma_log.copy_(torch.log(torch.sqrt(1 - modulus**2)))
        for weight, fan in ((self.B_re, 2 * H), (self.B_im, 2 * H), (self.C_re, N), (self.C_im, N)):
            nn.init.normal_(weight, std=1 / math.sqrt(fan))
        nn.init.normal_(self.D)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, r_min={self.r_min}, r_max={self.r_max}, "
            f"scan={self.scan!r}"
        )

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> Tensor:
        """Complex zeros ``(B, N)`` (``dtype`` is the real dtype they pair)."""
        zeros = self._zeros(batch, self.hidden_size, device=device, dtype=dtype)
        return torch.complex(zeros, zeros)

    def eigenvalues(self) -> Tensor:
        """``λ`` ``(N,)`` complex, inside the unit disc."""
        return torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))

    def _input(self, u: Tensor) -> Tensor:
        """``γ ⊙ (B u)``: ``(..., H)`` real -> ``(..., N)`` complex."""
        gamma = torch.exp(self.gamma_log)
        return torch.complex(u @ self.B_re.T, u @ self.B_im.T) * gamma

    def _output(self, x: Tensor, u: Tensor) -> Tensor:
        """``Re(C x) + D ⊙ u``: ``(..., N)`` complex, ``(..., H)`` -> ``(..., H)`` real."""
        return x.real @ self.C_re.T - x.imag @ self.C_im.T + self.D * u

    def step(self, x_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x = self.eigenvalues() * self._start_step(x_t, state) + self._input(x_t)  # (B, N)
        return self._output(x, x_t), x

    def forward(
        self, x: Tensor, state: Tensor | None = None, lengths: Lengths | None = None
    ) -> tuple[Tensor, Tensor]:
        s0, mask = self._start(x, state, lengths)  # (B, N) complex; mask (B, T) or None
        b = self._input(x)  # (B, T, N) complex
        lam = self.eigenvalues()  # (N,)
        if self.scan == "sequential":
            s_all, s = run_steps(lambda b_t, s: (lam * s + b_t,) * 2, (b,), s0, mask)
        else:
            a, b = hold_padding(lam.expand_as(b), b, mask)
            s_all = chunked_scan(a, b, s0, self.chunk)  # (B, T, N)
            s = s_all[:, -1]
        return zero_padding(self._output(s_all, x), mask), s
