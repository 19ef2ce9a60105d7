"""Batch-1 inference in NumPy: the fast path for generating one character at a time.

A batch-1 step through `nn.LSTM` pays torch's per-op dispatch and oneDNN's set-up on matrices
that are tiny (one row), so sampling runs at a few thousand characters per second at best. Here
the same weights run as a handful of NumPy matrix-vector products per layer. The first layer's
input projection is folded into a lookup table: row v is `W_ih0 @ embed[v] + biases`, so feeding
a character costs one row read instead of an embedding lookup plus a matmul.

That fast path covers the classic cells (rnn, lstm, gru and the NumPy RNN). A modern core, or a
classic cell inside residual blocks, generates through the core's own `step` instead
(`CoreStepper`, torch, batch 1): the prime is read with one `forward` call (the parallel scan
where the core has one), and stepping goes on from its state. Both offer the same methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

State = list[tuple[np.ndarray, ...]]
"""Per layer: (h,) for rnn/gru and numpy-rnn, (h, c) for lstm; each (H,)."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def numpy_weights(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.detach().cpu() if hasattr(v, "detach") else v, np.float32)
            for k, v in state.items()}  # fmt: skip


def find_weight(weights: Mapping[str, np.ndarray], suffix: str) -> np.ndarray:
    matches = [k for k in weights if k.endswith(suffix)]
    if len(matches) != 1:
        raise KeyError(f"expected one parameter ending in {suffix!r}, found {matches}")
    return weights[matches[0]]


class Stepper:
    """Runs a trained char model one id at a time: `step(ix, state) -> (logits (V,), state)`."""

    def __init__(self, cell: str, weights: Mapping[str, Any]) -> None:
        w = numpy_weights(weights)
        self.cell = cell
        embed = find_weight(w, "embed.weight")  # (V, E)
        self.layers = sum(1 for k in w if "weight_ih_l" in k and not k.endswith("_reverse"))
        self.w_ih: list[np.ndarray] = []  # (G, H) for layers > 0
        self.w_hh: list[np.ndarray] = []  # (G, H)
        self.b_x: list[np.ndarray] = []  # bias added to the input projection (G,)
        self.b_h: list[np.ndarray] = []  # bias added to the recurrent projection (G,)
        for layer in range(self.layers):
            w_ih, w_hh, b_ih, b_hh = (
                find_weight(w, f"{name}_l{layer}")
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            )
            if cell == "gru":  # b_hn sits inside r * (W_hn h + b_hn): keep it on the h side
                self.b_x.append(b_ih)
                self.b_h.append(b_hh)
            else:
                self.b_x.append(b_ih + b_hh)
                self.b_h.append(np.zeros_like(b_hh))
            self.w_ih.append(w_ih)
            self.w_hh.append(w_hh)
        self.table = embed @ self.w_ih[0].T + self.b_x[0]  # (V, G): layer-0 input projection
        self.hidden = self.w_hh[0].shape[1]
        self.head_w = find_weight(w, "head.weight")  # (V, H)
        self.head_b = find_weight(w, "head.bias")  # (V,)

    def initial_state(self) -> State:
        zero = np.zeros(self.hidden, np.float32)
        return [(zero, zero) if self.cell == "lstm" else (zero,) for _ in range(self.layers)]

    def step(self, ix: int, state: State | None = None) -> tuple[np.ndarray, State]:
        """One character id in -> next-character logits (V,) and the new state."""
        state = state or self.initial_state()
        new: State = []
        x_proj = self.table[ix]  # (G,)
        h = x_proj
        for layer, layer_state in enumerate(state):
            if layer:
                x_proj = self.w_ih[layer] @ h + self.b_x[layer]
            h_prev = layer_state[0]
            h_proj = self.w_hh[layer] @ h_prev + self.b_h[layer]  # (G,)
            if self.cell == "lstm":
                gates = x_proj + h_proj
                H = self.hidden
                s = _sigmoid(gates)
                c = s[H : 2 * H] * layer_state[1] + s[:H] * np.tanh(gates[2 * H : 3 * H])
                h = s[3 * H :] * np.tanh(c)
                new.append((h, c))
            elif self.cell == "gru":
                H = self.hidden
                rz = _sigmoid(x_proj[: 2 * H] + h_proj[: 2 * H])
                n = np.tanh(x_proj[2 * H :] + rz[:H] * h_proj[2 * H :])
                h = (1 - rz[H:]) * n + rz[H:] * h_prev
                new.append((h,))
            else:
                h = np.tanh(x_proj + h_proj)
                new.append((h,))
        return self.head_w @ h + self.head_b, new

    def step_many(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """`step` for B sequences at once: ids (B,) and a state of (B, H) arrays -> logits (B, V).

        The same arithmetic as `step`, as matrix-matrix products (one call per layer for the
        whole batch); `stack_states` builds the batched state from single ones.
        """
        H = self.hidden
        new: State = []
        x_proj = self.table[ids]  # (B, G)
        h = x_proj
        for layer, layer_state in enumerate(state):
            if layer:
                x_proj = h @ self.w_ih[layer].T + self.b_x[layer]
            h_prev = layer_state[0]
            h_proj = h_prev @ self.w_hh[layer].T + self.b_h[layer]  # (B, G)
            if self.cell == "lstm":
                gates = x_proj + h_proj
                s = _sigmoid(gates)
                c = s[:, H : 2 * H] * layer_state[1] + s[:, :H] * np.tanh(gates[:, 2 * H : 3 * H])
                h = s[:, 3 * H :] * np.tanh(c)
                new.append((h, c))
            elif self.cell == "gru":
                rz = _sigmoid(x_proj[:, : 2 * H] + h_proj[:, : 2 * H])
                n = np.tanh(x_proj[:, 2 * H :] + rz[:, :H] * h_proj[:, 2 * H :])
                h = (1 - rz[:, H:]) * n + rz[:, H:] * h_prev
                new.append((h,))
            else:
                h = np.tanh(x_proj + h_proj)
                new.append((h,))
        return h @ self.head_w.T + self.head_b, new

    def read(self, ids: Sequence[int], state: State | None = None) -> tuple[np.ndarray, State]:
        """Feed a prime; returns the logits after its last character and the state."""
        logits = np.zeros(len(self.head_b), np.float32)
        for ix in ids:
            logits, state = self.step(int(ix), state)
        return logits, state or self.initial_state()

    def read_many(self, primes: Sequence[Sequence[int]]) -> tuple[np.ndarray, State]:
        """`read` each prime: the logits (B, V) after each and their batched state."""
        reads = [self.read(ids) for ids in primes]
        return np.stack([r[0] for r in reads]), stack_states([r[1] for r in reads])


class NumpyRNNStepper(Stepper):
    """The same interface over the from-scratch NumPy RNN's parameters (Wxh, Whh, Why, bh, by)."""

    def __init__(self, weights: Mapping[str, Any]) -> None:
        w = numpy_weights(weights)
        self.cell, self.layers = "rnn", 1
        self.table = (w["Wxh"].T + w["bh"].reshape(-1)).astype(np.float32)  # (V, H)
        self.w_hh = [w["Whh"]]
        self.b_h = [np.zeros(w["Whh"].shape[0], np.float32)]
        self.hidden = w["Whh"].shape[0]
        self.head_w, self.head_b = w["Why"], w["by"].reshape(-1)


def stack_states(states: Sequence[State]) -> State:
    """B single states (per layer, arrays (H,)) -> one batched state (per layer, arrays (B, H))."""
    return [
        tuple(np.stack([s[layer][part] for s in states]) for part in range(len(states[0][layer])))
        for layer in range(len(states[0]))
    ]


class CoreStepper:
    """`Stepper`'s methods over a torch `models.charlm.CharRNN` whose layers can `step`.

    The state is the core's own (opaque, batch first or not as the core keeps it); logits come
    back as NumPy arrays, as `Stepper` gives them.
    """

    def __init__(self, model: Any) -> None:
        self.model = model.eval()

    def initial_state(self) -> Any:
        return self.model.rnn.initial_state(1)

    def step(self, ix: int, state: Any = None) -> tuple[np.ndarray, Any]:
        """One character id in -> next-character logits (V,) and the new state."""
        logits, state = self.step_many(np.array([ix]), state)
        return logits[0], state

    def step_many(self, ids: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        """ids (B,) and their state -> logits (B, V) and the new state, one core `step`."""
        import torch

        with torch.no_grad():
            logits, state = self.model.step(torch.as_tensor(ids, dtype=torch.int64), state)
        return logits.numpy(), state

    def read(self, ids: Sequence[int], state: Any = None) -> tuple[np.ndarray, Any]:
        """Feed a prime (at least one id) with one `forward`; the logits after it and the state."""
        import torch

        with torch.no_grad():
            logits, state = self.model(torch.as_tensor(np.asarray(ids)[None], dtype=torch.int64),
                                       state)  # fmt: skip
        return logits[0, -1].numpy(), state

    def read_many(self, primes: Sequence[Sequence[int]]) -> tuple[np.ndarray, Any]:
        """The primes, right-padded, in one `forward` with their lengths: logits (B, V), state."""
        import torch

        lengths = torch.tensor([len(ids) for ids in primes])
        idx = torch.zeros(len(primes), int(lengths.max()), dtype=torch.int64)  # (B, T)
        for b, ids in enumerate(primes):
            idx[b, : len(ids)] = torch.as_tensor(np.asarray(ids), dtype=torch.int64)
        with torch.no_grad():
            logits, state = self.model(idx, None, lengths)  # (B, T, V)
        last = logits[torch.arange(len(primes)), lengths - 1]  # (B, V)
        return last.numpy(), state


def steps_in_numpy(arch: str, block: bool = False) -> bool:
    """True when `Stepper` (or `NumpyRNNStepper`) can run the architecture's checkpoint."""
    from models.registry import get_architecture

    return not get_architecture(arch).modern and not block


def make_stepper(arch: str, weights: Mapping[str, Any]) -> Stepper:
    """A NumPy stepper for a charlm checkpoint's model weights (see `steps_in_numpy`)."""
    if arch == "numpy-rnn":
        return NumpyRNNStepper({k: v for k, v in weights.items() if not k.startswith("adagrad")})
    return Stepper(arch, weights)
