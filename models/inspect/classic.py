"""The classic cells (rnn, lstm, gru, the NumPy RNN) traced in NumPy from their weights.

Torch's layout and gate order (``W_ih`` ``(G, I)``, ``W_hh`` ``(G, H)``; LSTM i, f, g, o; GRU
r, z, n), the equations of `models.cores.torch_rnn`. The input projection of a piece of text
is one matmul (for the first layer a row lookup: row v of the table is
``W_ih0 @ embed[v] + b``); the recurrence is a float32 loop, one matrix-vector product a step,
that keeps what it needs of the gates, then they are taken over the whole piece at once. The
loop's σ is ``(1 + tanh(x / 2)) / 2`` with the halving folded into the weights: one tanh a
step for all of an LSTM's gates, and no overflow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from models.inspect.trace import Recorder, StateTrace, spans
from models.stepper import find_weight, numpy_weights

__all__ = ["ClassicLayer", "trace_classic"]


class ClassicLayer:
    """One layer of an rnn, lstm or gru in NumPy, carrying its state from piece to piece.

    ``b_x`` is added to the input projection; GRU keeps ``b_hh`` on the recurrent side (``b_hn``
    sits inside ``r ⊙ (W_hn h + b_hn)``), the others fold both biases into ``b_x``. The loops
    use ``w_half`` and ``b_half``: the recurrent weights and bias with the σ rows halved.
    """

    def __init__(self, cell: str, w_ih: np.ndarray, w_hh: np.ndarray,
                 b_ih: np.ndarray, b_hh: np.ndarray) -> None:  # fmt: skip
        self.cell = cell
        self.hidden = H = w_hh.shape[1]
        self.w_ih = w_ih  # (G, I)
        self.b_x = b_ih if cell == "gru" else b_ih + b_hh  # (G,)
        b_h = b_hh if cell == "gru" else np.zeros_like(b_hh)
        gated = {"lstm": (0, 1, 3), "gru": (0, 1)}.get(cell, ())  # LSTM i, f, o; GRU r, z
        half = [0.5 if n in gated else 1.0 for n in range(len(b_hh) // H)]
        self.half = np.repeat(np.float32(half), H)  # (G,)
        self.w_half, self.b_half = w_hh * self.half[:, None], b_h * self.half
        zero = np.zeros(H, np.float32)
        self.state: tuple[np.ndarray, ...] = (zero, zero.copy()) if cell == "lstm" else (zero,)

    @classmethod
    def from_weights(cls, cell: str, weights: Mapping[str, Any], layer: int = 0) -> ClassicLayer:
        """Layer ``layer`` of a torch state dict (``...weight_ih_l{layer}``, ...)."""
        w = numpy_weights(weights)
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return cls(cell, *(find_weight(w, f"{name}_l{layer}") for name in names))

    def project(self, x: np.ndarray) -> np.ndarray:
        """Inputs ``(C, I)`` -> their projections ``(C, G)``, biases ``b_x`` included."""
        return x @ self.w_ih.T + self.b_x

    def run(self, pre: np.ndarray) -> dict[str, np.ndarray]:
        """Projected inputs ``(C, G)`` (overwritten) -> each kind's values ``(C, H)``."""
        return {"lstm": self._lstm, "gru": self._gru}.get(self.cell, self._rnn)(pre)

    def _rnn(self, pre: np.ndarray) -> dict[str, np.ndarray]:
        (h,) = self.state
        hs = np.empty((len(pre), self.hidden), np.float32)
        for t in range(len(pre)):
            h = np.tanh(pre[t] + self.w_half @ h)  # no σ rows: w_half is W_hh
            hs[t] = h
        self.state = (h,)
        return {"h": hs}

    def _lstm(self, pre: np.ndarray) -> dict[str, np.ndarray]:
        H, w = self.hidden, self.w_half
        h, c = self.state
        hs = np.empty((len(pre), H), np.float32)
        cs = np.empty_like(hs)
        pre *= self.half
        for t in range(len(pre)):
            row = pre[t]  # (4H,): halved i, f, o and g pre-activations
            row += w @ h
            np.tanh(row, out=row)  # row keeps tanh(i/2), tanh(f/2), tanh(g), tanh(o/2)
            s = row * 0.5 + 0.5  # σ(i), σ(f), -, σ(o)
            c = s[H : 2 * H] * c + s[:H] * row[2 * H : 3 * H]
            h = s[3 * H :] * np.tanh(c)
            hs[t], cs[t] = h, c
        self.state = (h, c)
        gates = pre * 0.5 + 0.5  # (C, 4H)
        return {
            "h": hs, "c": cs, "input gate": gates[:, :H], "forget gate": gates[:, H : 2 * H],
            "candidate": pre[:, 2 * H : 3 * H], "output gate": gates[:, 3 * H :],
        }  # fmt: skip

    def _gru(self, pre: np.ndarray) -> dict[str, np.ndarray]:
        H, w, b = self.hidden, self.w_half, self.b_half
        (h,) = self.state
        hs = np.empty((len(pre), H), np.float32)
        rz = np.empty((len(pre), 2 * H), np.float32)
        ns = np.empty_like(hs)
        pre *= self.half
        for t in range(len(pre)):
            x = pre[t]  # (3H,): halved r, z and the n pre-activations
            hp = w @ h + b  # halved for r, z; W_hn h + b_hn
            gates = np.tanh(x[: 2 * H] + hp[: 2 * H])
            gates *= 0.5
            gates += 0.5  # σ(r), σ(z)
            n = np.tanh(x[2 * H :] + gates[:H] * hp[2 * H :])
            h = (1 - gates[H:]) * n + gates[H:] * h
            hs[t], rz[t], ns[t] = h, gates, n
        self.state = (h,)
        return {"h": hs, "reset gate": rz[:, :H], "update gate": rz[:, H:], "candidate": ns}


def _layers(arch: str, w: dict[str, np.ndarray]) -> tuple[np.ndarray, list[ClassicLayer]]:
    """The first layer's projection table ``(V, G)`` and the layers."""
    if arch == "numpy-rnn":  # h_t = tanh(Wxh[:, x_t] + Whh h + bh)
        whh = w["Whh"]
        zero = np.zeros(len(whh), np.float32)
        return (w["Wxh"].T + w["bh"].reshape(-1)), [ClassicLayer("rnn", w["Wxh"], whh, zero, zero)]
    count = sum(1 for k in w if "weight_ih_l" in k and not k.endswith("_reverse"))
    layers = [ClassicLayer.from_weights(arch, w, n) for n in range(count)]
    return layers[0].project(find_weight(w, "embed.weight")), layers


def trace_classic(
    arch: str,
    weights: Mapping[str, Any],
    ids: np.ndarray,
    text: str,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> StateTrace:
    """Trace a char model of a classic cell over ``text`` (its ids ``(T,)``) from its weights.

    ``weights``: the model's state dict (``embed.weight``, ``...weight_ih_l0``, ...) or the
    NumPy RNN's (``Wxh``, ``Whh``, ``bh``, ...). Every layer runs each piece of the text before
    the next piece, so only the pieces' float32 values are held at once.
    """
    table, layers = _layers(arch, numpy_weights(weights))
    recorder = Recorder(text, len(layers), layers[0].hidden, arch)
    for start, end in spans(len(ids), progress, cancelled):
        pre = table[ids[start:end]]  # (C, G), a copy the loop may overwrite
        for n, layer in enumerate(layers):
            block = layer.run(pre)
            recorder.put(n, block, start)
            if n + 1 < len(layers):
                pre = layers[n + 1].project(block["h"])
    return recorder.trace
