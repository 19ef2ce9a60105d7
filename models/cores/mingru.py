"""minGRU (Feng et al. 2024, "Were RNNs All We Needed?"): a GRU whose gates see only the input.

Drop ``h_{t-1}`` from the GRU's update gate and candidate, drop the reset gate and the tanh,
and what is left is linear in ``h``: every ``z_t`` and ``h̃_t`` can be computed for all steps at
once, and the recurrence by a parallel scan.

Equations::

    z_t = σ(Linear_z(x_t))                       update gate
    h̃_t = g(Linear_h(x_t))                       candidate
    h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

    g(v) = v + 1/2 if v >= 0 else σ(v)           keeps h̃ > 0 for the log-space scan

    log-space scan (k = Linear_z(x), v = Linear_h(x)):
    log a_t = log(1 - z_t) = -softplus(k_t)
    log b_t = log(z_t h̃_t) = -softplus(-k_t) + log g(v_t)
    a*_t = Σ_{s<=t} log a_s
    h_t = exp(a*_t) h_0 + exp(a*_t + logcumsumexp_{s<=t}(log b_s - a*_s))

Scans: "sequential" runs the equations step by step (the input projections of all steps in one
matmul first: they do not depend on ``h``); "log" is the paper's log-space scan
(``logcumsumexp``); "chunked" is the block-wise scan of `models.cores.scan` on ``a = 1 - z``,
``b = z ⊙ h̃`` (the same numbers). See `models.cores.minimal` for ``candidate``
and ``h_0``.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor
from torch.nn import functional as F

from models.cores.minimal import MinimalRNN, log_g

__all__ = ["MinGRU"]


class MinGRU(MinimalRNN):
    """minGRU; ``linear.weight`` ``(2H, I)`` stacks ``Linear_z`` (rows ``:H``) over
    ``Linear_h`` (rows ``H:``). Arguments and shapes: `models.cores.minimal.MinimalRNN`.
    """

    chunks: ClassVar[int] = 2
    joint: ClassVar[bool] = True

    def _update(self, k: Tensor, v: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        z = torch.sigmoid(k)  # (B, H)
        h = (1 - z) * h + z * self._h_tilde(v)
        return h, h

    def _gate(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        return k, v

    def _log_coefficients(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        return -F.softplus(k), -F.softplus(-k) + log_g(v)
