"""The architectures: name, explanation, equations, default sizes, factory and parameter count.

Two families: the classic cells (numpy-rnn, rnn, lstm, gru: `models.recurrent.Recurrent` or the
NumPy RNN) and the modern cores of `models.cores` (minGRU, minLSTM, IndRNN, LRU, S6, mLSTM,
sLSTM), which a task's model holds as a `models.cores.stack.CoreStack` (`build_layers`).

Torch-free at import time so the TUI can list architectures before torch loads; `build`,
`build_layers` and the parameter count of a modern core import torch when called. A modern
core's equations are read from its module's docstring without importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from models.equations import docstring_equations

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
    family: str = "classic"
    """classic (a cell of the textbook chapter) or modern (a core of `models.cores`)."""
    scans: tuple[str, ...] = ("sequential",)
    """The ways the core can run its recurrence; "sequential" first, its default last."""
    paper: str = ""
    """Where the equations come from."""
    module: str = ""
    """The module of a modern core (its docstring holds the equations)."""
    run_defaults: dict[str, Any] = field(default_factory=dict)
    """Settings a run with this core starts from in every task (before the task's own)."""

    @property
    def modern(self) -> bool:
        return self.family == "modern"

    @property
    def parallel(self) -> bool:
        """True when the recurrence also runs as a parallel scan."""
        return len(self.scans) > 1

    def update_equations(self) -> str:
        """The update equations: `equations`, or the modern core's ``Equations::`` block."""
        return self.equations or docstring_equations(self.module)

    def build(self, **kwargs: Any) -> Any:
        """The recurrent core: `Recurrent(mode, input_size, hidden_size, ...)` or `VanillaRNN`."""
        assert self.factory is not None
        return self.factory(self, **kwargs)

    def build_layers(
        self,
        input_size: int,
        hidden: int,
        layers: int,
        *,
        dropout: float = 0.0,
        bidirectional: bool = False,
        backend: str = "fused",
        block: bool = False,
        **core: Any,
    ) -> Any:
        """A task's recurrent layers, a `models.cores.base.RecurrentCore` over ``(B, T, I)``.

        A classic cell without blocks is `TorchRecurrent` (`Recurrent` with its parameter
        names, so old checkpoints load); anything else a `CoreStack` (``core``: `make_core`'s
        scan, state_size, heads, horizon).
        """
        if not self.modern and not block:
            from models.cores.torch_rnn import TorchRecurrent

            return TorchRecurrent(
                self.cell, input_size, hidden, layers, dropout=dropout if layers > 1 else 0.0,
                bidirectional=bidirectional, backend=backend,
            )  # fmt: skip
        from models.cores.stack import CoreStack

        return CoreStack(
            self.name if self.modern else self.cell, input_size, hidden, layers,
            dropout=dropout, bidirectional=bidirectional, block=block, backend=backend, **core,
        )  # fmt: skip

    def parameter_count(
        self,
        input_size: int,
        hidden: int,
        layers: int = 1,
        bidirectional: bool = False,
        block: bool = False,
        **core: Any,
    ) -> int:
        """Parameters of the recurrent layers (weights and biases; the task's head excluded).

        Classic cells without blocks by formula; the rest built on the meta device and counted.
        """
        if self.modern or block:
            from models.cores.base import meta_parameter_count

            return meta_parameter_count(
                self.build_layers, input_size, hidden, layers,
                bidirectional=bidirectional, block=block, **core,
            )  # fmt: skip
        if self.name == "numpy-rnn":  # Wxh, Whh, bh (the output head belongs to the task)
            return hidden * input_size + hidden * hidden + hidden
        gates = CHUNKS[self.cell] * hidden
        directions = 2 if bidirectional else 1
        total, size = 0, input_size
        for _ in range(layers):
            total += directions * (gates * size + gates * hidden + 2 * gates)
            size = hidden * directions
        return total


MODERN: tuple[tuple[str, str, str, tuple[str, ...], str, str], ...] = (
    (
        "mingru",
        "minGRU",
        "a GRU whose gates see only the input: linear in h, so it trains by a parallel scan",
        ("sequential", "log", "chunked"),
        "Feng et al. 2024, Were RNNs All We Needed?",
        "mingru",
    ),
    (
        "minlstm",
        "minLSTM",
        "an LSTM with input-only, normalised forget and input gates; a parallel scan too",
        ("sequential", "log", "chunked"),
        "Feng et al. 2024, Were RNNs All We Needed?",
        "minlstm",
    ),
    (
        "indrnn",
        "IndRNN",
        "one recurrent weight per unit, ReLU, bounded for a horizon: very long sequences",
        ("sequential",),
        "Li et al. 2018, Independently Recurrent Neural Network",
        "indrnn",
    ),
    (
        "lru",
        "LRU (Linear Recurrent Unit)",
        "a diagonal complex linear recurrence, eigenvalues kept inside the unit disc",
        ("sequential", "chunked"),
        "Orvieto et al. 2023, Resurrecting Recurrent Neural Networks",
        "lru",
    ),
    (
        "s6",
        "S6 (selective state space)",
        "Mamba's layer: input-dependent step, B and C choose what to keep and write",
        ("sequential", "chunked"),
        "Gu & Dao 2023, Mamba",
        "s6",
    ),
    (
        "mlstm",
        "mLSTM (xLSTM)",
        "a matrix memory per head, written with exponential gates; has a parallel form",
        ("sequential", "parallel"),
        "Beck et al. 2024, xLSTM",
        "mlstm",
    ),
    (
        "slstm",
        "sLSTM (xLSTM)",
        "exponential gates with a stabiliser, memory mixing within heads; sequential only",
        ("sequential",),
        "Beck et al. 2024, xLSTM",
        "slstm",
    ),
)
"""name, title, summary, scans (the default last), paper, module under models.cores."""


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
        *(
            Architecture(
                name=name,
                title=title,
                summary=summary,
                equations="",
                cell=name,
                backends=("core",),
                defaults={"hidden": 256, "layers": 2},
                family="modern",
                scans=scans,
                paper=paper,
                module=f"models.cores.{module}",
                run_defaults={"block": True},
            )
            for name, title, summary, scans, paper, module in MODERN
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
