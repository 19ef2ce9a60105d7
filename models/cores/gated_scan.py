"""The gated linear recurrence of minGRU and minLSTM as one autograd function.

Both are ``h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ c_t`` with ``z_t = σ(d_t)`` and ``c_t = g(v_t)``
(or ``v_t``), where ``d`` and ``v`` come from the input alone. `gated_scan` runs it with the
block-wise scan of `models.cores.scan` and writes the backward pass by hand::

    λ_t = ∂L/∂h_t in total              (the reverse-time scan with a_{t+1} = 1 - z_{t+1})
    ∂L/∂d_t = λ_t ⊙ (c_t - h_{t-1}) ⊙ z_t (1 - z_t)
    ∂L/∂v_t = λ_t ⊙ z_t ⊙ g'(v_t)       g'(v) = 1 for v >= 0, σ(v)(1 - σ(v)) below
    ∂L/∂h_0 = (1 - z_1) ⊙ λ_1

Why by hand: autograd through ``σ``, ``g``, ``1 - z`` and ``z ⊙ c`` keeps every intermediate of
``(B, T, H)`` and runs about twice as many element-wise passes as the formulas above. Measured
in minGRU's forward + backward at ``B = 8, T = 1024, H = 256`` on two CPU threads (the
projection's matmuls included), this took the chunked mode from about 54 ms to the figure in
BENCHMARKS.md. At padded steps (``mask`` False) ``z`` is taken as 0, so the state passes them
unchanged and nothing flows back to ``d`` or ``v`` there.
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.cores.scan import _blockwise

__all__ = ["gated_scan"]


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


def _candidate(v: Tensor, positive: bool) -> Tensor:
    if not positive:
        return v
    r = torch.relu(v)
    return r.add_(torch.sigmoid(v - r))  # g(v) = relu(v) + σ(min(v, 0))


class _GatedScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, d, v, h0, chunk, valid, positive):  # type: ignore[override]
        z = torch.sigmoid(d)  # (B, T, H)
        if valid is not None:
            z.mul_(valid)
        c = _candidate(v, positive)
        h = _blockwise(1 - z, z * c, h0, chunk)
        ctx.save_for_backward(z, v, h, h0)  # z is 0 at padding, so its gradients are too
        ctx.chunk, ctx.positive = chunk, positive
        return h

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        z, v, h, h0 = ctx.saved_tensors
        a_next = torch.empty_like(z)  # 1 - z_{t+1}, 0 after the end
        torch.sub(1, z[:, 1:], out=a_next[:, :-1])
        a_next[:, -1] = 0
        lam = _blockwise(a_next, grad, torch.zeros_like(h0), ctx.chunk, reverse=True)
        c = _candidate(v, ctx.positive)
        diff = c  # c_t - h_{t-1}, in place
        diff[:, 1:].sub_(h[:, :-1])
        diff[:, 0].sub_(h0)
        grad_d = diff.mul_(lam).mul_(z).mul_(1 - z)
        grad_v = lam * z
        if ctx.positive:
            s = torch.sigmoid(v)
            grad_v.mul_(torch.where(v >= 0, 1.0, s * (1 - s)))
        grad_h0 = (1 - z[:, 0]) * lam[:, 0]
        return grad_d, grad_v, grad_h0, None, None, None
