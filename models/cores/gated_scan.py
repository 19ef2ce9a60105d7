"""The gated linear recurrence of minGRU and minLSTM as one autograd function.

Both are ``h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ c_t`` with ``z_t = σ(d_t)`` and ``c_t = g(v_t)``
(or ``v_t``), where ``d`` and ``v`` come from the input alone. `gated_scan` runs it with the
block-wise scan of `models.cores.scan` and writes the backward pass by hand::

    λ_t = ∂L/∂h_t in total              (the reverse-time scan with a_{t+1} = 1 - z_{t+1})
    ∂L/∂d_t = λ_t ⊙ (c_t - h_{t-1}) ⊙ z_t (1 - z_t) = λ_t ⊙ (h_t - h_{t-1}) ⊙ (1 - z_t)
    ∂L/∂v_t = λ_t ⊙ z_t ⊙ g'(v_t)       g'(v) = 1 for v > 0, σ(v)(1 - σ(v)) at or below
    ∂L/∂h_0 = (1 - z_1) ⊙ λ_1

Why by hand: autograd through ``σ``, ``g``, ``1 - z`` and ``z ⊙ c`` keeps every intermediate of
``(B, T, H)`` and runs more element-wise passes than the formulas above, and on two cores each
pass over such a tensor costs about as much as the arithmetic. So the forward writes ``1 - z``
once into a buffer one step longer (``a_{t+1}`` is then a view, not a copy), ``∂L/∂d`` uses the
states' differences instead of ``c - h``, ``g'`` is two fused kernels (``torch.where`` was
three times slower) and minGRU's joined projection gets its gradient as one tensor (no
``cat``). Measured in minGRU's forward + backward at ``B = 8, T = 1024, H = 256`` on two CPU
threads, the projection's matmuls (about 24 ms) included: 61 ms through autograd, 36-40 ms
here; the sequential mode takes 118-124 ms. At padded steps (``mask`` False) ``z`` is taken as
0, so the state passes them unchanged and nothing flows back to ``d`` or ``v`` there.
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.cores.scan import _blockwise

__all__ = ["g", "gated_scan"]


def gated_scan(
    dv: Tensor | tuple[Tensor, Tensor],
    h0: Tensor,
    chunk: int,
    mask: Tensor | None = None,
    positive: bool = True,
) -> Tensor:
    """``h`` ``(B, T, H)`` of ``h_t = (1 - σ(d_t)) h_{t-1} + σ(d_t) c_t``.

    Args:
        dv: the gate logits ``d`` and candidate pre-activations ``v``, ``(B, T, H)`` each, as
            a pair, or joined as one ``(B, T, 2H)`` tensor ``[d | v]`` (minGRU's projection:
            its gradient is then written as one tensor, without joining two).
        h0: ``(B, H)``.
        chunk: steps per chunk of the block-wise scan.
        mask: ``(B, T)`` True at valid steps, or None.
        positive: ``c = g(v)`` (minGRU/minLSTM's positive candidate) if True, else ``c = v``.
    """
    valid = None if mask is None else mask.unsqueeze(-1).to(h0.dtype)  # (B, T, 1)
    if isinstance(dv, Tensor):
        return _GatedScan.apply(dv, None, h0, chunk, valid, positive)
    return _GatedScan.apply(*dv, h0, chunk, valid, positive)


def g(v: Tensor) -> Tensor:
    """``v + 1/2`` where ``v >= 0``, ``σ(v)`` below: continuous and always > 0.

    Written ``relu(v) + σ(min(v, 0))`` (the same numbers): measured inside minGRU's chunked
    forward + backward at T = 1024 on two CPU threads, faster than
    ``torch.where(v >= 0, v + 0.5, σ(v))``, which computes both sides everywhere. Inside
    `gated_scan` (no autograd there) the same runs in place, with two fresh tensors.
    """
    return torch.relu(v) + torch.sigmoid(torch.clamp_max(v, 0))


class _GatedScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, d, v, h0, chunk, valid, positive):  # type: ignore[override]
        ctx.joint = v is None
        if ctx.joint:  # one tensor [d | v]
            d, v = d.chunk(2, dim=-1)
        batch, steps, width = d.shape
        z = torch.sigmoid(d)  # (B, T, H)
        if valid is not None:
            z.mul_(valid)  # z = 0 at padding: the state passes, no gradient reaches d or v
        a_ext = z.new_empty(batch, steps + 1, width)  # a_t, then a 0: a_{t+1} is a_ext[:, 1:]
        a_ext[:, -1] = 0
        a = a_ext[:, :-1]
        torch.sub(z.new_ones(()), z, out=a)
        if positive:  # c = g(v) = relu(v) + s, s = σ(min(v, 0)): σ(v) below 0, 1/2 above
            s = torch.clamp_max(v, 0).sigmoid_()
            b = torch.relu(v).add_(s).mul_(z)  # z ⊙ c
        else:
            s, b = v.new_empty(0), z * v
        h = _blockwise(a, b, h0, chunk)
        ctx.save_for_backward(z, a_ext, v, s, h, h0)
        ctx.chunk, ctx.positive = chunk, positive
        return h

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        z, a_ext, v, s, h, h0 = ctx.saved_tensors
        a = a_ext[:, :-1]
        lam = _blockwise(a_ext[:, 1:], grad, torch.zeros_like(h0), ctx.chunk, reverse=True)
        grad_h0 = a[:, 0] * lam[:, 0]
        batch, steps, width = lam.shape
        joined = lam.new_empty(batch, steps, 2 * width) if ctx.joint else None
        grad_d = torch.empty_like(lam) if joined is None else joined[..., :width]
        torch.sub(h[:, 1:], h[:, :-1], out=grad_d[:, 1:])  # z_t (c_t - h_{t-1}) = h_t - h_{t-1}
        torch.sub(h[:, 0], h0, out=grad_d[:, 0])
        grad_d.mul_(lam).mul_(a)
        m = lam.mul_(z)  # λ_t z_t
        grad_v = (
            joined[..., width:]
            if joined is not None
            else (torch.empty_like(m) if ctx.positive else m)
        )
        if ctx.positive:  # g'(v) = s (1 - s) below 0, 1 above: s (1 - s) + 3/4 [v > 0]
            # (not torch.where: three times slower here)
            torch.ops.aten.sigmoid_backward.grad_input(m, s, grad_input=grad_v)  # m s (1 - s)
            grad_v.add_(torch.ops.aten.threshold_backward(m, v, 0), alpha=0.75)  # m [v > 0]
        elif joined is not None:
            grad_v.copy_(m)
        if joined is not None:
            return joined, None, grad_h0, None, None, None
        return grad_d, grad_v, grad_h0, None, None, None
