"""The gated linear recurrence of minGRU and minLSTM as one autograd function.

Both are ``h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ c_t`` with ``z_t = σ(d_t)`` and ``c_t = g(v_t)``
(or ``v_t``), where ``d`` and ``v`` come from the input alone. `gated_scan` runs it with the
block-wise scan of `models.cores.scan` and writes the backward pass by hand::

    λ_t = ∂L/∂h_t in total              (the reverse-time scan with a_{t+1} = 1 - z_{t+1})
    ∂L/∂d_t = λ_t ⊙ (c_t - h_{t-1}) ⊙ z_t (1 - z_t)
    ∂L/∂v_t = λ_t ⊙ z_t ⊙ g'(v_t)       g'(v) = 1 for v >= 0, σ(v)(1 - σ(v)) below
    ∂L/∂h_0 = (1 - z_1) ⊙ λ_1

Why by hand: autograd through ``σ``, ``g``, ``1 - z`` and ``z ⊙ c`` keeps every intermediate of
``(B, T, H)`` and runs more element-wise passes than the formulas above. Measured in minGRU's
forward + backward at ``B = 8, T = 1024, H = 256`` on two CPU threads (the projection's
matmuls, about 24 ms of it, included): 61 ms through autograd, 50 ms here; the sequential mode
takes 127-140 ms. At padded steps (``mask`` False) ``z`` is taken as 0, so the state passes them
unchanged and nothing flows back to ``d`` or ``v`` there.
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.cores.scan import _blockwise

__all__ = ["g", "gated_scan"]


def gated_scan(
    d: Tensor,
    v: Tensor,
    h0: Tensor,
    chunk: int,
    mask: Tensor | None = None,
    positive: bool = True,
) -> Tensor:
    """``h`` ``(B, T, H)`` of ``h_t = (1 - σ(d_t)) h_{t-1} + σ(d_t) c_t``.

    Args:
        d, v: ``(B, T, H)`` gate logits and candidate pre-activations.
        h0: ``(B, H)``.
        chunk: steps per chunk of the block-wise scan.
        mask: ``(B, T)`` True at valid steps, or None.
        positive: ``c = g(v)`` (minGRU/minLSTM's positive candidate) if True, else ``c = v``.
    """
    valid = None if mask is None else mask.unsqueeze(-1).to(d.dtype)  # (B, T, 1)
    return _GatedScan.apply(d, v, h0, chunk, valid, positive)


def g(v: Tensor) -> Tensor:
    """``v + 1/2`` where ``v >= 0``, ``σ(v)`` below: continuous and always > 0.

    Written ``r + σ(v - r)`` with ``r = relu(v)`` (``v - r = min(v, 0)``; the same numbers):
    measured inside minGRU's chunked forward + backward at T = 1024 on two CPU threads, about
    15% faster than ``torch.where(v >= 0, v + 0.5, σ(v))``.
    """
    r = torch.relu(v)
    return r + torch.sigmoid(v - r)


def _candidate_slope(c: Tensor, positive: bool) -> Tensor | float:
    """``g'(v)`` from ``c = g(v)``: 1 where ``v >= 0`` (there ``c >= 1/2``), ``c (1 - c)`` below
    (there ``c = σ(v)``)."""
    if not positive:
        return 1.0
    slope = c * (1 - c)
    return slope.masked_fill_(c >= 0.5, 1.0)


class _GatedScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, d, v, h0, chunk, valid, positive):  # type: ignore[override]
        z = torch.sigmoid(d)  # (B, T, H)
        if valid is not None:
            z.mul_(valid)  # z = 0 at padding: the state passes, no gradient reaches d or v
        a = 1 - z
        c = g(v) if positive else v
        h = _blockwise(a, z * c, h0, chunk)
        ctx.save_for_backward(z, a, c, h, h0)
        ctx.chunk, ctx.positive = chunk, positive
        return h

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        z, a, c, h, h0 = ctx.saved_tensors
        a_next = torch.empty_like(a)  # a_{t+1}, 0 after the end
        a_next[:, :-1] = a[:, 1:]
        a_next[:, -1] = 0
        lam = _blockwise(a_next, grad, torch.zeros_like(h0), ctx.chunk, reverse=True)
        diff = a_next  # reused: c_t - h_{t-1}
        torch.sub(c[:, 1:], h[:, :-1], out=diff[:, 1:])
        torch.sub(c[:, 0], h0, out=diff[:, 0])
        grad_d = diff.mul_(lam).mul_(z).mul_(a)
        grad_v = (lam * z).mul_(_candidate_slope(c, ctx.positive))
        grad_h0 = a[:, 0] * lam[:, 0]
        return grad_d, grad_v, grad_h0, None, None, None
