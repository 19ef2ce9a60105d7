"""Parallel scans for the diagonal linear recurrence ``h_t = a_t ⊙ h_{t-1} + b_t``.

minGRU, minLSTM, LRU and S6 all reduce to this recurrence once their gates are computed from
the inputs alone; what differs is how the ``T`` steps are combined.

- `log_scan` (Heinsen 2023, used by minGRU/minLSTM's paper): in log space,
  ``h_t = exp(a*_t) h_0 + exp(a*_t + logcumsumexp_{k<=t}(log b_k - a*_k))`` with
  ``a*_t = sum_{k<=t} log a_k``. Needs ``a > 0`` and ``b > 0`` (``log b``); stable for any T.
- `chunked_scan`: the block-wise (two-level) scan. Cut the T steps into ``n`` chunks of ``C``;
  scan all chunks at once from a zero state (``C`` steps, each over every chunk), carry the
  state across chunk ends (``n`` steps), then add ``(prod of a in the chunk so far) ⊙ carry``.
  ``C + n`` (about ``2 sqrt(T)``) sequential steps instead of ``T``, ``O(T)`` work, and no logs,
  so any sign and complex values work. Its backward is the same scan run backwards in time.

The products of ``a`` within a chunk shrink towards zero; on x86 CPUs float32 values below
about 1e-38 (denormals) are slow unless ``torch.set_flush_denormal(True)``.

Why not the log-depth Hillis-Steele scan? Its ``log2 T`` passes each touch every element, and
on two CPU cores memory traffic, not the number of steps, is what costs: profiled at
``B=8, T=1024, H=256`` it took longer than the plain loop. Shapes: ``B`` batch, ``T`` time,
``*S`` any state shape (``(H,)``, ``(D, N)``).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor

__all__ = ["chunked_scan", "default_chunk", "hold_padding", "log_scan"]


def default_chunk(steps: int) -> int:
    """``ceil(sqrt(T))`` steps per chunk: the fewest sequential steps (``C + n``)."""
    return math.isqrt(steps - 1) + 1 if steps > 1 else 1


def hold_padding(
    a: Tensor, b: Tensor, mask: Tensor | None, log: bool = False
) -> tuple[Tensor, Tensor]:
    """``a = 1``, ``b = 0`` at padded steps, so the state passes them unchanged.

    ``a``, ``b`` ``(B, T, *S)``; ``mask`` ``(B, T)`` True at valid steps, or None (nothing to
    do). With ``log``, ``a`` and ``b`` are ``log a`` and ``log b`` (0 and -inf there).
    """
    if mask is None:
        return a, b
    valid = mask.view(*mask.shape, *([1] * (a.dim() - 2)))  # (B, T, 1, ...)
    one, zero = (0.0, float("-inf")) if log else (1.0, 0.0)
    return a.masked_fill(~valid, one), b.masked_fill(~valid, zero)


def log_scan(log_a: Tensor, log_b: Tensor, h0: Tensor | None = None) -> Tensor:
    """``h_t = a_t ⊙ h_{t-1} + b_t`` from ``log a``, ``log b`` ``(B, T, *S)`` in log space.

    ``h0`` ``(B, *S)`` (any sign; zeros if None) enters linearly, ``exp(a*_t) ⊙ h_0``, so only
    ``a`` and ``b`` need to be positive. ``log_b = -inf`` is allowed (``b = 0``).
    Returns ``h`` ``(B, T, *S)``.
    """
    a_star = log_a.cumsum(1)  # (B, T, *S): log prod_{k<=t} a_k
    h = torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=1))  # (B, T, *S)
    if h0 is not None:
        h = h + torch.exp(a_star) * h0.unsqueeze(1)
    return h


def chunked_scan(a: Tensor, b: Tensor, h0: Tensor, chunk: int | None = None) -> Tensor:
    """``h_t = a_t ⊙ h_{t-1} + b_t`` for ``t = 1..T`` by the block-wise scan.

    Args:
        a, b: ``(B, T, *S)``, real or complex, same shape.
        h0: ``(B, *S)``, the state before the first step.
        chunk: steps per chunk; ``ceil(sqrt(T))`` if None (fewest sequential steps).

    Returns:
        ``h`` ``(B, T, *S)``. Differentiable in ``a``, ``b`` and ``h0`` (backward is the
        reverse-time scan of the adjoint, not a recorded graph of the forward).
    """
    if a.shape != b.shape or b.shape[:1] + b.shape[2:] != h0.shape:
        raise ValueError(
            f"chunked_scan: a {tuple(a.shape)} and b {tuple(b.shape)} must match, "
            f"h0 {tuple(h0.shape)} must be b without its time axis"
        )
    if chunk is None:
        chunk = default_chunk(a.size(1))
    if chunk < 1:
        raise ValueError(f"chunked_scan: chunk must be at least 1, got {chunk}")
    return _ChunkedScan.apply(a, b, h0, chunk)


def _blockwise(a: Tensor, b: Tensor, h0: Tensor, chunk: int, reverse: bool = False) -> Tensor:
    """The forward pass of `chunked_scan` (no autograd): ``h`` ``(B, T, *S)``.

    With ``reverse`` the recurrence runs from ``t = T`` down to 1 (``h0`` comes after the end),
    as the adjoint in the backward pass does. Results go into two buffers allocated once: on
    this machine a fresh 32 MB tensor costs about 2.5 times a pass into an existing one.
    """
    batch, steps, rest = a.size(0), a.size(1), a.shape[2:]
    n = -(-steps // chunk)  # chunks
    pad = n * chunk - steps
    if pad:  # a = 1, b = 0 past the end leave the state unchanged (either way round)
        a = torch.cat([a, a.new_ones((batch, pad, *rest))], 1)
        b = torch.cat([b, b.new_zeros((batch, pad, *rest))], 1)
    a = a.reshape(batch, n, chunk, *rest)  # (B, n, C, *S)
    b = b.reshape(batch, n, chunk, *rest)
    h = torch.empty_like(b)  # every chunk's scan from a zero state, then the true state
    p = torch.empty_like(a)  # products of a within the chunk
    order = range(chunk - 1, -1, -1) if reverse else range(chunk)
    h[:, :, order[0]] = b[:, :, order[0]]
    p[:, :, order[0]] = a[:, :, order[0]]
    for prev, t in itertools.pairwise(order):  # every chunk at once
        torch.addcmul(b[:, :, t], a[:, :, t], h[:, :, prev], out=h[:, :, t])
        torch.mul(p[:, :, prev], a[:, :, t], out=p[:, :, t])
    end = order[-1]  # where each chunk's totals are
    start = torch.empty_like(h[:, :, 0])  # (B, n, *S): the true state entering each chunk
    carry = h0
    for k in range(n - 1, -1, -1) if reverse else range(n):
        start[:, k] = carry
        carry = torch.addcmul(h[:, k, end], p[:, k, end], carry)
    h.addcmul_(p, start.unsqueeze(2))
    return h.reshape(batch, n * chunk, *rest)[:, :steps]


class _ChunkedScan(torch.autograd.Function):
    """`_blockwise` with the adjoint recurrence as its backward.

    With ``λ_t = ∂L/∂h_t`` in total (through every later step):
    ``λ_t = g_t + conj(a_{t+1}) λ_{t+1}``, a scan backwards in time; then ``∂L/∂b_t = λ_t``,
    ``∂L/∂a_t = λ_t conj(h_{t-1})`` and ``∂L/∂h_0 = conj(a_1) λ_1`` (conj is a no-op for real
    tensors; for complex ones it is PyTorch's convention for gradients).
    """

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor, chunk: int) -> Tensor:
        h = _blockwise(a, b, h0, chunk)
        ctx.save_for_backward(a, h, h0)
        ctx.chunk = chunk
        return h

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:
        a, h, h0 = ctx.saved_tensors
        a_next = torch.cat([a[:, 1:], torch.zeros_like(a[:, :1])], 1).conj()  # a_{t+1}
        lam = _blockwise(a_next, grad, torch.zeros_like(h0), ctx.chunk, reverse=True)
        grad_a = grad_h0 = None
        if ctx.needs_input_grad[0]:  # λ_t conj(h_{t-1}), h_0 first
            grad_a = torch.empty_like(lam)
            torch.mul(lam[:, 1:], h[:, :-1].conj(), out=grad_a[:, 1:])
            torch.mul(lam[:, 0], h0.conj(), out=grad_a[:, 0])
        if ctx.needs_input_grad[2]:
            grad_h0 = a[:, 0].conj() * lam[:, 0]
        return grad_a, lam, grad_h0, None
