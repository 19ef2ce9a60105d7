"""Gradient-flow probes: the norm of dL/dh_t at every time step, and of dh_T/dh_t.

Backpropagation through time multiplies one Jacobian dh_{k+1}/dh_k per step, so the gradient
that reaches an early state is a product of T - t of them::

    dL/dh_t = dL/dh_T · prod_{k=t}^{T-1} dh_{k+1}/dh_k    (+ what the outputs at t..T add)

In a vanilla tanh RNN each factor is ``diag(1 - h_{k+1}^2) W_hh``; unless W_hh's singular values
sit near 1 the product shrinks (vanishes) or grows (explodes) geometrically with the distance
T - t. An LSTM's cell state adds instead of multiplying, so its gradient survives.

`nn.LSTM` (the fused backend) keeps its hidden states inside one op, and the scratch backend's
output sequence is a copy of them, so the gradient on a layer's *output* at t is only the part
that arrives from the head (and the layer above), never the part through later time steps. To
see the whole dL/dh_t, `ProbeNet.unrolled` runs each layer one step at a time and feeds the same
tensor h_t to the next step, the layer above and the head; after ``backward`` its ``.grad`` is
the total gradient. It costs T small calls per layer, so training uses the fast `forward` and
probes only now and then.

The modern cores (minGRU, LRU, S6, mLSTM, ...) run the same way through their ``step``: the
state a step returns is what the next step reads and what that step's output is computed from,
so its ``.grad`` is again the whole dL/dh_t, and the norm is taken over every tensor the
recurrence carries (S6's ``(B, D, N)`` h, mLSTM's matrix memory ``(C, n, m)``). A state of
several tensors gets backprop's gradient for each: through everything computed from it, which
for a tensor that the same step's other state tensors are computed from (an LSTM's c_t gives
h_t; a stabiliser m_t gives C_t and n_t) includes those too. So a stabiliser's gradient is zero
(up to rounding): the outputs do not depend on its value, only the numbers' scale does. Their
fast `forward` is the parallel scan; the probe shows the gradient the scan trains with, since
both compute the same function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from models.cores.stack import flatten_state
from models.recurrent import Recurrent


class Unrolled(NamedTuple):
    """What `ProbeNet.unrolled` exposes of one pass."""

    outputs: Tensor
    """``(B, T, O)``: the head's outputs, the same as `ProbeNet.forward`'s."""
    states: list[list[tuple[Tensor, ...]]]
    """``states[l][t]``: every tensor of layer l's state after step t, the very tensors the next
    step reads (for the classic cells h_t ``(B, H)`` alone)."""
    ends: list[Tensor]
    """``ends[l]``: layer l's output at the last step ``(B, H)`` (for the classic cells h_T)."""
    batch_axis: int
    """The batch axis of the state tensors: 0, or 1 for torch's ``(L, B, H)`` layout."""


class ProbeNet(nn.Module):
    """A stack of one-layer recurrences and a linear head whose states can be probed.

    Args:
        mode: the architecture: "rnn", "lstm", "gru" or a modern core of `models.registry`.
        input_size: features per time step ``I``.
        hidden_size: ``H`` per layer.
        num_layers: ``L`` stacked layers, each built on its own so that each layer's states exist.
        output_size: ``O`` outputs per time step.
        backend: "fused" or "scratch" (see `Recurrent`; the classic cells only).
        nonlinearity: "tanh" or "relu" (mode "rnn" without blocks only).
        init: "default" (PyTorch's U(-1/sqrt(H), 1/sqrt(H))) or "orthogonal": every gate's
            (H, H) block of ``weight_hh`` is a random orthogonal matrix (all singular values 1;
            the classic cells only). Either way an LSTM's forget-gate bias starts at 1
            (`open_forget_gate_`).
        block: each layer a `models.cores.block.ResidualBlock`.
        **core: `models.cores.stack.make_core`'s options (scan, state_size, heads, horizon).

    A classic cell without blocks is a `Recurrent` per layer (``layers[l].rnn`` is the
    ``nn.LSTM``, ...); anything else a one-layer `models.cores.stack.CoreStack` per layer from
    `models.registry.Architecture.build_layers`.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        output_size: int,
        backend: str = "fused",
        nonlinearity: str = "tanh",
        init: str = "default",
        block: bool = False,
        **core: Any,
    ) -> None:
        super().__init__()
        from models.registry import get_architecture

        if init not in ("default", "orthogonal"):
            raise ValueError(f"init must be default or orthogonal (got {init!r})")
        arch = get_architecture(mode)
        self.mode = mode
        self.plain = not arch.modern and not block
        """The classic `Recurrent` layers (else one core stack per layer)."""
        if not self.plain and nonlinearity != "tanh":
            raise ValueError(f"nonlinearity {nonlinearity} applies to rnn without blocks only")
        if arch.modern and init != "default":
            raise ValueError(f"init {init} applies to the rnn, lstm and gru cells, not {mode}")
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        if self.plain:
            layers = [
                Recurrent(mode, size, hidden_size, 1, batch_first=True, backend=backend,
                          nonlinearity=nonlinearity)
                for size in sizes
            ]  # fmt: skip
        else:
            layers = [
                arch.build_layers(size, hidden_size, 1, backend=backend, block=block, **core)
                for size in sizes
            ]
        self.layers = nn.ModuleList(layers)
        self.batch_axis = 1 if block and not arch.modern else 0
        """The batch axis of the exposed states (a classic cell in a block: torch's layout)."""
        self.head = nn.Linear(hidden_size, output_size)
        for cell in self.modules():
            if isinstance(cell, Recurrent) and init == "orthogonal":
                orthogonal_recurrent_(cell.rnn.weight_hh_l0, hidden_size)
            if isinstance(cell, Recurrent) and cell.mode == "lstm":
                open_forget_gate_(cell.rnn, hidden_size)

    def forward(self, x: Tensor) -> Tensor:
        """x ``(B, T, I)`` -> outputs ``(B, T, O)`` (the fast path: one call per layer, a modern
        core's default parallel scan)."""
        h = x
        for layer in self.layers:
            h, _ = layer(h)  # (B, T, H)
        return self.head(h)

    def unrolled(self, x: Tensor) -> Unrolled:
        """The same function as `forward`, one step at a time, with every state exposed.

        A classic cell's state here is h_t (an LSTM's c_t is carried, not exposed); a core's
        is all it carries (minGRU, IndRNN: h; LRU: the complex x; S6: h ``(B, D, N)``; mLSTM:
        ``(C, n, m)``; sLSTM: ``(h, c, n, m)``; a classic cell in a block: ``h`` or ``(h, c)``
        in torch's layout), as `step` returns it.
        """
        carried: list[Any] = [None] * len(self.layers)
        states: list[list[tuple[Tensor, ...]]] = [[] for _ in self.layers]
        tops, ends = [], []
        for xt in x.unbind(1):  # T tensors (B, I)
            ends = []
            below = xt
            for i, layer in enumerate(self.layers):
                below, carried[i], exposed = self._step(layer, below, carried[i])  # y_t (B, H)
                states[i].append(exposed)
                ends.append(below)
            tops.append(below)
        return Unrolled(self.head(torch.stack(tops, 1)), states, ends, self.batch_axis)

    def _step(
        self, layer: nn.Module, x_t: Tensor, carried: Any
    ) -> tuple[Tensor, Any, tuple[Tensor, ...]]:
        """One step of one layer: ``(y_t (B, H), the state to carry, its exposed tensors)``."""
        if not self.plain:
            y, carried = layer.step(x_t, carried)
            return y, carried, tuple(flatten_state(carried))
        _, hx = layer(x_t.unsqueeze(1), carried)  # (B, 1, I) in
        h = hx[0][0] if self.mode == "lstm" else hx[0]  # (B, H): the output and the state
        carried = (h.unsqueeze(0), hx[1]) if self.mode == "lstm" else h.unsqueeze(0)
        return h, carried, (h,)


def open_forget_gate_(lstm: nn.Module, hidden_size: int) -> None:
    """Start an LSTM layer's forget-gate bias at 1 (b_ih 1, b_hh 0), so c_t is mostly kept.

    With PyTorch's default (uniform around 0) the forget gate starts near 0.5 and the cell state
    halves every step: the gradient vanishes as in a plain RNN until training opens the gate.
    Jozefowicz et al. (2015) recommend 1; Keras does it by default (``unit_forget_bias``).
    """
    with torch.no_grad():
        lstm.bias_ih_l0[hidden_size : 2 * hidden_size].fill_(1.0)  # gates: input, forget, ...
        lstm.bias_hh_l0[hidden_size : 2 * hidden_size].zero_()


def orthogonal_recurrent_(weight_hh: Tensor, hidden_size: int) -> None:
    """Make each (H, H) gate block of ``weight_hh`` ``(G*H, H)`` a random orthogonal matrix."""
    with torch.no_grad():
        for block in weight_hh.split(hidden_size, 0):
            nn.init.orthogonal_(block)


@dataclass(frozen=True)
class StepGradients:
    """Per layer and time step: ``dl_dh`` ``(L, T)`` the norm of dL/dh_t over the batch, and
    ``dhT_dh`` ``(L, T)`` the batch mean of ``||u^T dy_T/dh_t||`` for a fixed unit vector u."""

    dl_dh: np.ndarray
    dhT_dh: np.ndarray


def probe_backward(loss: Tensor, unrolled: Unrolled, u: Tensor) -> StepGradients:
    """``loss.backward()`` that also measures the gradient reaching every state.

    Args:
        loss: a scalar built from ``unrolled.outputs``.
        unrolled: `ProbeNet.unrolled`'s pass.
        u: ``(H,)`` a unit vector: ``||u^T dy_T/dh_t||`` (y_T the layer's last output, h_T for
            the classic cells) estimates how much of the state at t survives to the end without
            looking at the loss (for a random u its square averages ||J||_F^2 / H).

    A state of several tensors (or a matrix) counts as one vector of all its entries: both norms
    are taken over every tensor of the state at t. The parameters' ``.grad`` are filled exactly
    as by ``loss.backward()``.
    """
    jacobian = []
    for steps, end in zip(unrolled.states, unrolled.ends, strict=True):
        flat = [s for state in steps for s in state]
        # d(u . y_T)/dh_t for every sample at once: the samples do not mix.
        grads = iter(torch.autograd.grad((end * u).sum(), flat, retain_graph=True,
                                         allow_unused=True))  # fmt: skip
        per_step = [[next(grads) for _ in state] for state in steps]
        jacobian.append([_sample_norm_mean(g, unrolled.batch_axis) for g in per_step])
    for steps in unrolled.states:
        for s in (s for state in steps for s in state if s.requires_grad):
            s.retain_grad()
    loss.backward()
    dl_dh = [[_norm([s.grad for s in state]) for state in steps] for steps in unrolled.states]
    return StepGradients(np.array(dl_dh), np.array(jacobian))


def _norm(grads: list[Tensor | None]) -> float:
    """The norm of the tensors together (a missing gradient is zero)."""
    return math.hypot(*(float(g.detach().norm()) for g in grads if g is not None))


def _sample_norm_mean(grads: list[Tensor | None], axis: int) -> float:
    """The mean over the batch of each sample's norm over the tensors together."""
    norms = [g.detach().movedim(axis, 0).flatten(1).norm(dim=1) for g in grads if g is not None]
    return float(torch.stack(norms).norm(dim=0).mean()) if norms else 0.0


def numpy_state_jacobian_norms(whh: np.ndarray, hs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``||u^T dh_T/dh_t||`` for t = 1..T of the NumPy tanh RNN (`models.numpy_rnn`).

    Args:
        whh: ``(H, H)`` the recurrent weights.
        hs: ``(T + 1, H)`` the forward pass's states (``hs[0]`` is h_0).
        u: ``(H,)`` the unit vector.

    Going back from g_T = u: ``g_{t-1} = Whh^T ((1 - h_t^2) * g_t)``, the same recursion as BPTT.
    """
    steps = hs.shape[0] - 1
    out = np.empty(steps)
    g = u.astype(hs.dtype)
    for t in range(steps, 0, -1):
        out[t - 1] = np.linalg.norm(g)
        g = whh.T @ ((1 - hs[t] ** 2) * g)  # (H,)
    return out
