"""mLSTM, xLSTM's matrix-memory LSTM (Beck et al. 2024), with exponential gating.

Each head stores a matrix ``C`` (a key -> value memory, written with an outer product) and a
normaliser ``n``; the input gate is an exponential, so one token can outweigh everything before
it. Exponentials overflow, so a stabiliser ``m`` (a running max of the log gates) is kept in the
state and every gate is divided by ``exp(m)``: the outputs are the same, the numbers stay small.
No memory mixing across steps goes through ``h``, so the whole sequence also has a parallel
form, like attention with a decay matrix.

Equations::

    per head, with q_t, k_t, v_t = W_q x_t, W_k x_t / sqrt(d), W_v x_t  (d the head size):
    ĩ_t = w_i·x_t + b_i,  f̃_t = w_f·x_t + b_f,  o_t = σ(W_o x_t + b_o)
    m_t = max(log σ(f̃_t) + m_{t-1}, ĩ_t)                       stabiliser
    i'_t = exp(ĩ_t - m_t),  f'_t = exp(log σ(f̃_t) + m_{t-1} - m_t)
    C_t = f'_t C_{t-1} + i'_t v_t k_tᵀ                          matrix memory (d × d)
    n_t = f'_t n_{t-1} + i'_t k_t                               normaliser
    h_t = o_t ⊙ C_t q_t / max(|n_tᵀ q_t|, exp(-m_t))

    parallel form, F_t = Σ_{s<=t} log σ(f̃_s):
    D̃_ts = F_t - F_s + ĩ_s for s <= t (else -inf),  D̃_t0 = F_t + m_0  (the initial state)
    m_t = max_s D̃_ts,  D'_ts = exp(D̃_ts - m_t)
    S = (Q Kᵀ) ⊙ D'
    h_t = o_t ⊙ (S V + D'_t0 C_0 q_t)_t / max(|Σ_s S_ts + D'_t0 n_0ᵀ q_t|, exp(-m_t))

Scans: "sequential" (the recurrence) and "parallel" (the form above: ``(T, T)`` per head, so
its memory grows as ``T²``). Sizes: ``hidden_size`` = heads × head size = ``output_size``.
The state is ``(C (B, heads, d, d), n (B, heads, d), m (B, heads))``; ``m_0 = 0``.
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

__all__ = ["MLSTM"]

MState = tuple[Tensor, Tensor, Tensor]
"""``(C (B, heads, d, d), n (B, heads, d), m (B, heads))``."""


class MLSTM(RecurrentCore):
    """mLSTM over ``(B, T, input_size)`` -> ``(B, T, hidden_size)``.

    Args:
        input_size: features in.
        hidden_size: heads × head size, features out.
        heads: memory heads (each a ``d × d`` matrix, ``d = hidden_size / heads``).
        scan: "sequential" or "parallel".

    Parameters: ``qkv`` (``(3 hidden, I)``: ``W_q``, ``W_k``, ``W_v``), ``gates``
    (``(2 heads, I)``: ``w_i`` then ``w_f`` per head, forget bias starting at 3 so memories
    start long), ``out_gate`` (``W_o``).
    """

    scans: ClassVar[tuple[str, ...]] = ("sequential", "parallel")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        heads: int = 4,
        scan: str = "parallel",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if heads < 1 or hidden_size % heads:
            raise CoreError(f"MLSTM: hidden_size {hidden_size} must split into {heads} heads")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = hidden_size
        self.heads = heads
        self.head_size = hidden_size // heads
        self.scan = scan
        factory = {"device": device, "dtype": dtype}
        self.qkv = nn.Linear(input_size, 3 * hidden_size, **factory)
        self.gates = nn.Linear(input_size, 2 * heads, **factory)
        self.out_gate = nn.Linear(input_size, hidden_size, **factory)
        with torch.no_grad():
            self.gates.bias[heads:].fill_(3.0)  # σ(3) ≈ 0.95: forget slowly at first

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, heads={self.heads}, scan={self.scan!r}"

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> MState:
        """``(C, n, m)``, all zeros."""
        d, heads, where = self.head_size, self.heads, {"device": device, "dtype": dtype}
        return (
            self._zeros(batch, heads, d, d, **where),
            self._zeros(batch, heads, d, **where),
            self._zeros(batch, heads, **where),
        )

    def _project(self, x: Tensor) -> tuple[Tensor, ...]:
        """``q, k, v`` ``(..., heads, d)``; ``ĩ``, ``log f`` ``(..., heads)``; ``o``."""
        shape = (*x.shape[:-1], self.heads, self.head_size)
        q, k, v = (p.reshape(shape) for p in self.qkv(x).chunk(3, dim=-1))
        i_pre, f_pre = self.gates(x).chunk(2, dim=-1)
        o = torch.sigmoid(self.out_gate(x))
        return q, k / math.sqrt(self.head_size), v, i_pre, F.logsigmoid(f_pre), o

    def _update(
        self,
        q: Tensor,
        k: Tensor,
        v: Tensor,
        i_pre: Tensor,
        log_f: Tensor,
        o: Tensor,
        state: MState,
    ) -> tuple[Tensor, MState]:
        """One step of the recurrence; ``q, k, v`` ``(B, heads, d)``, gates ``(B, heads)``."""
        C, n, m = state
        m_new = torch.maximum(log_f + m, i_pre)  # (B, heads)
        i = torch.exp(i_pre - m_new).unsqueeze(-1)  # (B, heads, 1)
        f = torch.exp(log_f + m - m_new).unsqueeze(-1)
        C = f.unsqueeze(-1) * C + i.unsqueeze(-1) * v.unsqueeze(-1) * k.unsqueeze(-2)
        n = f * n + i * k  # (B, heads, d)
        num = (C @ q.unsqueeze(-1)).squeeze(-1)  # (B, heads, d)
        den = (n * q).sum(-1, keepdim=True).abs().maximum(torch.exp(-m_new).unsqueeze(-1))
        return o * (num / den).flatten(-2), (C, n, m_new)

    def step(self, x_t: Tensor, state: MState | None = None) -> tuple[Tensor, MState]:
        state = self._start_step(x_t, state)
        return self._update(*self._project(x_t), state)

    def forward(
        self, x: Tensor, state: MState | None = None, lengths: Lengths | None = None
    ) -> tuple[Tensor, MState]:
        state, mask = self._start(x, state, lengths)  # mask (B, T) or None
        parts = self._project(x)
        if self.scan == "sequential":
            h, state = run_steps(self._update, parts, state, mask)
        else:
            h, state = self._parallel(*parts, state, mask)
        return zero_padding(h, mask), state

    def _parallel(
        self,
        q: Tensor,
        k: Tensor,
        v: Tensor,
        i_pre: Tensor,
        log_f: Tensor,
        o: Tensor,
        state: MState,
        mask: Tensor | None,
    ) -> tuple[Tensor, MState]:
        """The parallel form; inputs ``(B, T, heads, ...)`` as from `_project`."""
        C0, n0, m0 = state
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, heads, T, d)
        i_pre, log_f = i_pre.transpose(1, 2), log_f.transpose(1, 2)  # (B, heads, T)
        if mask is not None:  # padded steps: no input (ĩ = -inf), no forgetting (f = 1)
            valid = mask.unsqueeze(1)  # (B, 1, T)
            i_pre = i_pre.masked_fill(~valid, float("-inf"))
            log_f = log_f.masked_fill(~valid, 0.0)
        steps = q.size(2)
        F_cum = log_f.cumsum(-1)  # (B, heads, T)
        causal = torch.ones(steps, steps, dtype=torch.bool, device=q.device).tril()
        log_D = (F_cum.unsqueeze(-1) - F_cum.unsqueeze(-2) + i_pre.unsqueeze(-2)).masked_fill(
            ~causal, float("-inf")
        )  # (B, heads, T, T): t rows, s columns
        log_D0 = F_cum + m0.unsqueeze(-1)  # (B, heads, T): weight of the initial state
        m = torch.maximum(log_D.amax(-1), log_D0)  # (B, heads, T)
        D = torch.exp(log_D - m.unsqueeze(-1))
        D0 = torch.exp(log_D0 - m)
        S = (q @ k.transpose(-1, -2)) * D  # (B, heads, T, T)
        num = S @ v + D0.unsqueeze(-1) * (q @ C0.transpose(-1, -2))  # (B, heads, T, d)
        den = S.sum(-1) + D0 * (q @ n0.unsqueeze(-1)).squeeze(-1)  # (B, heads, T)
        h = num / den.abs().maximum(torch.exp(-m)).unsqueeze(-1)
        h = o * h.transpose(1, 2).flatten(-2)  # (B, T, hidden)
        last, last0 = D[..., -1, :], D0[..., -1]  # padding held the state: row T is the end
        C = torch.einsum("bhs,bhsv,bhsk->bhvk", last, v, k) + last0[..., None, None] * C0
        n = torch.einsum("bhs,bhsk->bhk", last, k) + last0.unsqueeze(-1) * n0
        return h, (C, n, m[..., -1])
