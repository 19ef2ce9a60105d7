"""sLSTM, xLSTM's scalar-memory LSTM (Beck et al. 2024), with exponential gating and memory mixing.

Like an LSTM, each unit keeps a scalar cell ``c``; unlike it, the input gate is an exponential,
so one step can outweigh all before it, and a normaliser ``n`` (the sum of the gates' weights)
divides the cell, so ``h`` stays a weighted mean of ``tanh(z̃)``. Exponentials overflow, so a
stabiliser ``m`` (a running max of the log gates) is kept in the state and ``c`` and ``n`` are
stored divided by ``exp(m)``: ``c / n`` and so ``h`` are unchanged, the numbers stay small.
The gates also see ``h_{t-1}`` through ``R``, block-diagonal per head (memory mixing within a
head), so the recurrence is not linear and there is only the "sequential" scan.

Equations::

    z̃_t, ĩ_t, f̃_t, õ_t = W x_t + R h_{t-1} + b    R block-diagonal: heads blocks of d × d
    log f_t = f̃_t  (forget="exp")  or  log σ(f̃_t)  (forget="sigmoid")
    m_t = max(log f_t + m_{t-1}, ĩ_t)             stabiliser; m_t = ĩ_t where n_{t-1} = 0
    i'_t = exp(ĩ_t - m_t),  f'_t = exp(log f_t + m_{t-1} - m_t)   (f'_t = 0 where n_{t-1} = 0)
    c_t = f'_t c_{t-1} + i'_t tanh(z̃_t)           cell
    n_t = f'_t n_{t-1} + i'_t                     normaliser
    h_t = σ(õ_t) ⊙ c_t / n_t

The state is ``(h, c, n, m)``, each ``(B, H)``, all zeros at first. ``n = 0`` is an empty
memory (nothing written yet): its step takes ``m_t = ĩ_t`` and ``f'_t = 0``, as the paper's code
does when the whole state is fresh, so ``i'_t = 1`` and ``n_t = 1`` however large ``f̃_t - ĩ_t``
is. With ``m_0 = 0`` taken literally, ``n_1 = exp(ĩ_1 - max(log f_1, ĩ_1))`` underflows to 0
once ``log f_1 - ĩ_1`` passes about 88 in float32, and ``h_1`` is 0/0. The function is the
same: an empty memory has nothing to forget. From a zero state on, one of ``i'_t``, ``f'_t``
is 1 at every step, so ``n_t >= 1`` and ``|h_t| < 1``. Sizes: ``hidden_size`` = heads × head
size = ``output_size``.
"""

from __future__ import annotations

import math

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

__all__ = ["FORGET_GATES", "SLSTM"]

FORGET_GATES = ("exp", "sigmoid")

SState = tuple[Tensor, Tensor, Tensor, Tensor]
"""``(h, c, n, m)``, each ``(B, H)``."""


class SLSTM(RecurrentCore):
    """sLSTM over ``(B, T, input_size)`` -> ``(B, T, hidden_size)``.

    Args:
        input_size: features in.
        hidden_size: heads × head size, features out.
        heads: blocks of ``R`` (each ``d × d`` per gate, ``d = hidden_size / heads``).
        forget: "exp" (the paper's exponential forget gate) or "sigmoid".

    Parameters: ``linear`` (``W`` ``(4 H, I)`` and ``b``, rows ``z̃, ĩ, f̃, õ``), ``recurrent``
    (``R`` ``(4, heads, d, d)``: per gate and head, ``d`` inputs to ``d`` outputs). ``R`` starts
    uniform in ``±1/sqrt(d)`` (the fan-in of a block; the paper's code starts it at zero).
    The forget bias starts at ``linspace(3, 6, d)`` in every head for "sigmoid" (the paper code's
    "small_init": σ between 0.95 and 0.9975) and at ``log σ`` of those for "exp", so both
    forget the same at first (a raw bias of 3 under ``exp`` would be ``f ≈ 20``: the oldest
    steps would outweigh every new one).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        heads: int = 4,
        forget: str = "exp",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if heads < 1 or hidden_size % heads:
            raise CoreError(f"SLSTM: hidden_size {hidden_size} must split into {heads} heads")
        if forget not in FORGET_GATES:
            raise CoreError(f"SLSTM: unknown forget gate {forget!r}; choose one of {FORGET_GATES}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = hidden_size
        self.heads = heads
        self.head_size = hidden_size // heads
        self.forget = forget
        factory = {"device": device, "dtype": dtype}
        self.linear = nn.Linear(input_size, 4 * hidden_size, **factory)
        d = self.head_size
        self.recurrent = nn.Parameter(torch.empty(4, heads, d, d, **factory))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        self.linear.reset_parameters()
        bound = 1 / math.sqrt(self.head_size)
        nn.init.uniform_(self.recurrent, -bound, bound)
        bias = self.linear.bias
        forget = torch.linspace(3.0, 6.0, self.head_size, device=bias.device, dtype=bias.dtype)
        if self.forget == "exp":
            forget = F.logsigmoid(forget)
        H = self.hidden_size
        bias[2 * H : 3 * H].view(self.heads, self.head_size).copy_(forget)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, heads={self.heads}, forget={self.forget!r}"

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> SState:
        """``(h, c, n, m)``, all zeros ``(B, H)``."""
        where = {"device": device, "dtype": dtype}
        return tuple(self._zeros(batch, self.hidden_size, **where) for _ in range(4))

    def _update(self, wx: Tensor, state: SState) -> tuple[Tensor, SState]:
        """One step from ``wx = W x_t + b`` ``(B, 4 H)``."""
        h, c, n, m = state
        heads = h.view(-1, self.heads, self.head_size)  # (B, heads, d)
        rh = torch.einsum("bkd,gkde->bgke", heads, self.recurrent).flatten(1)  # (B, 4 H)
        z_pre, i_pre, f_pre, o_pre = (wx + rh).chunk(4, dim=-1)  # (B, H) each
        log_f = f_pre if self.forget == "exp" else F.logsigmoid(f_pre)
        past = torch.where(n == 0, float("-inf"), log_f + m)  # an empty memory: nothing to keep
        m_new = torch.maximum(past, i_pre)
        i = torch.exp(i_pre - m_new)
        f = torch.exp(past - m_new)
        c = f * c + i * torch.tanh(z_pre)
        n = f * n + i
        h = torch.sigmoid(o_pre) * c / n
        return h, (h, c, n, m_new)

    def step(self, x_t: Tensor, state: SState | None = None) -> tuple[Tensor, SState]:
        state = self._start_step(x_t, state)
        return self._update(self.linear(x_t), state)

    def forward(
        self, x: Tensor, state: SState | None = None, lengths: Lengths | None = None
    ) -> tuple[Tensor, SState]:
        state, mask = self._start(x, state, lengths)  # mask (B, T) or None
        wx = self.linear(x)  # (B, T, 4 H): W x_t + b for all t at once
        h, state = run_steps(self._update, (wx,), state, mask)
        return zero_padding(h, mask), state
