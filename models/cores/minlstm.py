"""minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): an LSTM whose gates see only the input.

Drop ``h_{t-1}`` from the gates, the output gate, the cell/hidden split and the tanh, and
normalise the forget and input gates to sum to one (so the scale of ``h`` does not grow with
the length of the sequence). What is left is linear in ``h``.

Equations::

    f_t = σ(Linear_f(x_t)),  i_t = σ(Linear_i(x_t))    forget and input gates
    h̃_t = g(Linear_h(x_t))                             candidate
    f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)
    h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t

    g(v) = v + 1/2 if v >= 0 else σ(v)                 keeps h̃ > 0 for the log-space scan

    log-space scan (f̃, ĩ, v the three projections of x):
    d_t = softplus(-f̃_t) - softplus(-ĩ_t)              = log i_t - log f_t
    log a_t = log f'_t = -softplus(d_t)
    log b_t = log(i'_t h̃_t) = -softplus(-d_t) + log g(v_t)
    a*_t = Σ_{s<=t} log a_s
    h_t = exp(a*_t) h_0 + exp(a*_t + logcumsumexp_{s<=t}(log b_s - a*_s))

Scans as `models.cores.mingru`: "sequential" (the equations step by step, ``f / (f + i)``
literally), "log" (the paper's log-space scan), "chunked" (the block-wise scan on
``a = f' = σ(-d)``, ``b = i' ⊙ h̃ = (1 - f') ⊙ h̃``). See `models.cores.minimal` for ``candidate``
and ``h_0``.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor
from torch.nn import functional as F

from models.cores.minimal import MinimalRNN, log_g

__all__ = ["MinLSTM"]


class MinLSTM(MinimalRNN):
    """minLSTM; ``linear.weight`` ``(3H, I)`` stacks ``Linear_f``, ``Linear_i``, ``Linear_h``
    (rows ``:H``, ``H:2H``, ``2H:``). Arguments and shapes: `models.cores.minimal.MinimalRNN`.
    """

    chunks: ClassVar[int] = 3

    def _update(self, f_pre: Tensor, i_pre: Tensor, v: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        f, i = torch.sigmoid(f_pre), torch.sigmoid(i_pre)  # (B, H) each
        h = f / (f + i) * h + i / (f + i) * self._h_tilde(v)
        return h, h

    def _gate(self, f_pre: Tensor, i_pre: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        # d = log i - log f, so σ(d) = i / (f + i) = i' and 1 - σ(d) = f'
        return F.softplus(-f_pre) - F.softplus(-i_pre), v

    def _log_coefficients(self, f_pre: Tensor, i_pre: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        d = F.softplus(-f_pre) - F.softplus(-i_pre)
        return -F.softplus(d), -F.softplus(-d) + log_g(v)
