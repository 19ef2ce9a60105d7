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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from models.recurrent import Recurrent


class ProbeNet(nn.Module):
    """A stack of one-layer `Recurrent`s and a linear head whose hidden states can be probed.

    Args:
        mode: "rnn", "lstm" or "gru".
        input_size: features per time step ``I``.
        hidden_size: ``H`` per layer.
        num_layers: ``L`` stacked layers (each its own `Recurrent`, so each layer's states exist).
        output_size: ``O`` outputs per time step.
        backend: "fused" or "scratch" (see `Recurrent`).
        nonlinearity: "tanh" or "relu" (mode "rnn" only).
        init: "default" (PyTorch's U(-1/sqrt(H), 1/sqrt(H))) or "orthogonal": every gate's
            (H, H) block of ``weight_hh`` is a random orthogonal matrix (all singular values 1).
            Either way an LSTM's forget-gate bias starts at 1 (`open_forget_gate_`).
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
    ) -> None:
        super().__init__()
        if init not in ("default", "orthogonal"):
            raise ValueError(f"init must be default or orthogonal (got {init!r})")
        self.mode = mode
        self.layers = nn.ModuleList(
            Recurrent(
                mode, input_size if i == 0 else hidden_size, hidden_size, 1,
                batch_first=True, backend=backend, nonlinearity=nonlinearity,
            )
            for i in range(num_layers)
        )  # fmt: skip
        self.head = nn.Linear(hidden_size, output_size)
        for layer in self.layers:
            if init == "orthogonal":
                orthogonal_recurrent_(layer.rnn.weight_hh_l0, hidden_size)
            if mode == "lstm":
                open_forget_gate_(layer.rnn, hidden_size)

    def forward(self, x: Tensor) -> Tensor:
        """x ``(B, T, I)`` -> outputs ``(B, T, O)`` (the fast path, one call per layer)."""
        h = x
        for layer in self.layers:
            h, _ = layer(h)  # (B, T, H)
        return self.head(h)

    def unrolled(self, x: Tensor) -> tuple[Tensor, list[list[Tensor]]]:
        """The same function as `forward`, one step at a time, with every state exposed.

        Returns ``(outputs (B, T, O), states)``: ``states[l][t]`` is layer l's h_t ``(B, H)``,
        the one tensor through which h_t reaches everything after it.
        """
        carried: list[tuple[Tensor, ...] | Tensor | None] = [None] * len(self.layers)
        states: list[list[Tensor]] = [[] for _ in self.layers]
        for xt in x.unbind(1):  # T tensors (B, I)
            below = xt.unsqueeze(1)  # (B, 1, I)
            for i, layer in enumerate(self.layers):
                _, hx = layer(below, carried[i])
                h = hx[0][0] if self.mode == "lstm" else hx[0]  # (B, H)
                states[i].append(h)
                carried[i] = (h.unsqueeze(0), hx[1]) if self.mode == "lstm" else h.unsqueeze(0)
                below = h.unsqueeze(1)  # (B, 1, H)
        top = torch.stack(states[-1], 1)  # (B, T, H)
        return self.head(top), states


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
    ``dhT_dh`` ``(L, T)`` the batch mean of ``||u^T dh_T/dh_t||`` for a fixed unit vector u."""

    dl_dh: np.ndarray
    dhT_dh: np.ndarray


def probe_backward(loss: Tensor, states: list[list[Tensor]], u: Tensor) -> StepGradients:
    """``loss.backward()`` that also measures the gradient reaching every state.

    Args:
        loss: a scalar built from `ProbeNet.unrolled`'s outputs.
        states: its ``states`` (L lists of T tensors ``(B, H)``).
        u: ``(H,)`` a unit vector: ``||u^T dh_T/dh_t||`` estimates how much of h_t survives in
            h_T without looking at the loss (for a random u its square averages ||J||_F^2 / H).

    The parameters' ``.grad`` are filled exactly as by ``loss.backward()``.
    """
    jacobian = []
    for hs in states:
        # d(u . h_T)/dh_t for every sample at once: the samples do not mix.
        grads = torch.autograd.grad((hs[-1] * u).sum(), hs, retain_graph=True, allow_unused=True)
        jacobian.append([_row_norm_mean(g) for g in grads])
    for hs in states:
        for h in hs:
            h.retain_grad()
    loss.backward()
    dl_dh = [[_norm(h.grad) for h in hs] for hs in states]
    return StepGradients(np.array(dl_dh), np.array(jacobian))


def _norm(g: Tensor | None) -> float:
    return 0.0 if g is None else float(g.detach().norm())


def _row_norm_mean(g: Tensor | None) -> float:
    return 0.0 if g is None else float(g.detach().norm(dim=1).mean())


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
