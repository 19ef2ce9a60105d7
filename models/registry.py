"""The architectures: name, explanation, equations, default sizes, factory and parameter count.

Torch-free at import time so the TUI can list architectures before torch loads; `build` imports
the implementation when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CHUNKS = {"rnn": 1, "lstm": 4, "gru": 3}
"""Gate blocks stacked in weight_ih/weight_hh, as in torch's RNNCellBase(num_chunks=...)."""


@dataclass(frozen=True)
class Architecture:
    """One registry entry."""

    name: str
    title: str
    summary: str
    """One line for lists."""
    equations: str
    """The cell's update, for the architecture screen."""
    cell: str
    """rnn, lstm or gru (numpy-rnn is an rnn cell in NumPy)."""
    backends: tuple[str, ...]
    """Which implementations can train it."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """Default hyperparameters (hidden, layers, ...)."""
    factory: Callable[..., Any] | None = None
    """Builds the recurrent core; see `build`."""

    def build(self, **kwargs: Any) -> Any:
        """The recurrent core: `Recurrent(mode, input_size, hidden_size, ...)` or `VanillaRNN`."""
        assert self.factory is not None
        return self.factory(self, **kwargs)

    def parameter_count(
        self, input_size: int, hidden: int, layers: int = 1, bidirectional: bool = False
    ) -> int:
        """Parameters of the recurrent core (weights and both biases per layer and direction)."""
        if self.name == "numpy-rnn":  # Wxh, Whh, bh (the output head belongs to the task)
            return hidden * input_size + hidden * hidden + hidden
        gates = CHUNKS[self.cell] * hidden
        directions = 2 if bidirectional else 1
        total, size = 0, input_size
        for _ in range(layers):
            total += directions * (gates * size + gates * hidden + 2 * gates)
            size = hidden * directions
        return total


def _torch_core(arch: Architecture, **kwargs: Any) -> Any:
    from models.recurrent import Recurrent

    return Recurrent(arch.cell, **kwargs)


def _numpy_core(arch: Architecture, vocab_size: int, hidden_size: int, **kwargs: Any) -> Any:
    from models.numpy_rnn import VanillaRNN

    return VanillaRNN(vocab_size, hidden_size, **kwargs)


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture(
            name="numpy-rnn",
            title="Vanilla RNN from scratch (NumPy)",
            summary="min-char-rnn: forward, backprop through time and Adagrad by hand in NumPy",
            equations=(
                "h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)\n"
                "y_t = W_hy h_t + b_y,  p_t = softmax(y_t)\n"
                "BPTT: dh_{t-1} = W_hh^T ((1 - h_t^2) * dh_t)"
            ),
            cell="rnn",
            backends=("numpy",),
            defaults={"hidden": 100, "layers": 1},
            factory=_numpy_core,
        ),
        Architecture(
            name="rnn",
            title="Elman RNN",
            summary="one tanh layer carries the state; gradients fade over long spans",
            equations="h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)",
            cell="rnn",
            backends=("fused", "scratch"),
            defaults={"hidden": 512, "layers": 2},
            factory=_torch_core,
        ),
        Architecture(
            name="lstm",
            title="LSTM",
            summary="gated cell state: input, forget and output gates keep gradients alive",
            equations=(
                "i,f,g,o = σ,σ,tanh,σ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)\n"
                "c_t = f ⊙ c_{t-1} + i ⊙ g\n"
                "h_t = o ⊙ tanh(c_t)"
            ),
            cell="lstm",
            backends=("fused", "scratch"),
            defaults={"hidden": 512, "layers": 2},
            factory=_torch_core,
        ),
        Architecture(
            name="gru",
            title="GRU",
            summary="reset and update gates, no separate cell state; fewer parameters than LSTM",
            equations=(
                "r,z = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr), σ(W_iz x_t + ... )\n"
                "n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn))\n"
                "h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}"
            ),
            cell="gru",
            backends=("fused", "scratch"),
            defaults={"hidden": 512, "layers": 2},
            factory=_torch_core,
        ),
    )
}


def get_architecture(name: str) -> Architecture:
    """Look up an architecture; the error lists the valid names."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ValueError(
            f"unknown architecture {name!r}; choose one of: {', '.join(ARCHITECTURES)}"
        ) from None
