"""`CoreStack`: layers of one core, optionally bidirectional, optionally in residual blocks.

This is what a task's model holds when its architecture is one of the new cores (or a classic
cell inside residual blocks): a `RecurrentCore` over ``(B, T, input_size)`` whose layers are
cores from `make_core`.

Layouts::

    plain:     x -> core_1 -> dropout -> core_2 -> ... -> core_L          (like nn.LSTM's layers)
    width:     x -> Linear(I, d) -> core_1 -> ... -> core_L               (LRU, S6: in = out = d)
    blocks:    x -> Linear(I, d) -> block_1 -> ... -> block_L -> norm     (block = ResidualBlock)

A bidirectional layer runs a second core over each sequence reversed *within its length*
(padding stays on the right) and joins the two outputs (``2d``; projected back to ``d`` where
the layer must keep the width). Its state is the pair of the two directions' states, and it
cannot `step`: the backward direction needs the steps that have not come yet.

The state of the stack is the tuple of its layers' states (each a tensor or a tuple of tensors);
`flatten_state` and `unflatten_state` turn it into a flat list of tensors and back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from models.cores.base import CoreError, Lengths, RecurrentCore, State, padding_mask, zero_padding

__all__ = [
    "Bidirectional",
    "CoreStack",
    "flatten_state",
    "make_core",
    "map_state",
    "unflatten_state",
]

Nested = Tensor | tuple[Any, ...]
"""A state: a tensor or a (possibly nested) tuple of tensors."""


def make_core(
    arch: str,
    input_size: int,
    width: int,
    *,
    scan: str | None = None,
    state_size: int | None = None,
    heads: int | None = None,
    horizon: int = 100,
    max_gain: float = 2.0,
    min_memory: float = 0.5,
    backend: str = "fused",
) -> RecurrentCore:
    """One layer of architecture ``arch`` mapping ``input_size`` features to ``width``.

    ``scan`` None keeps the core's default (its fastest parallel form); ``state_size`` is LRU's
    complex units (``width`` if None) or S6's states per channel (16 if None); ``heads`` the
    memory heads of mLSTM and sLSTM (4 if None); ``horizon`` and ``max_gain`` IndRNN's bound,
    ``min_memory`` the low end of its initial recurrent weights.
    LRU and S6 keep the width, so they need ``input_size == width`` (`CoreStack` projects
    first).
    """
    from models.cores.indrnn import IndRNN
    from models.cores.lru import LRU
    from models.cores.mingru import MinGRU
    from models.cores.minlstm import MinLSTM
    from models.cores.mlstm import MLSTM
    from models.cores.s6 import S6
    from models.cores.slstm import SLSTM
    from models.cores.torch_rnn import TorchRecurrent

    builders: dict[str, Callable[[], RecurrentCore]] = {
        "rnn": lambda: TorchRecurrent("rnn", input_size, width, backend=backend),
        "lstm": lambda: TorchRecurrent("lstm", input_size, width, backend=backend),
        "gru": lambda: TorchRecurrent("gru", input_size, width, backend=backend),
        "mingru": lambda: MinGRU(input_size, width),
        "minlstm": lambda: MinLSTM(input_size, width),
        "indrnn": lambda: IndRNN(
            input_size, width, horizon=horizon, max_gain=max_gain, min_memory=min_memory
        ),
        "lru": lambda: LRU(width, state_size or width),
        "s6": lambda: S6(width, state_size or 16),
        "mlstm": lambda: MLSTM(input_size, width, heads=heads or 4),
        "slstm": lambda: SLSTM(input_size, width, heads=heads or 4),
    }
    if arch not in builders:
        raise CoreError(f"no recurrent core {arch!r}; choose one of {', '.join(builders)}")
    if arch in KEEPS_WIDTH and input_size != width:
        raise CoreError(f"{arch} keeps the width: input_size {input_size} must equal {width}")
    core = builders[arch]()
    if scan is not None:
        core.scan = scan
    return core


KEEPS_WIDTH = frozenset({"lru", "s6"})
"""Cores whose output has the input's width (their hidden size counts states, not features)."""


class Bidirectional(RecurrentCore):
    """Two cores over ``(B, T, I)``: one forwards, one over each sequence reversed in its length.

    Output ``(B, T, 2 O)`` (the two joined), or ``(B, T, O)`` with ``merge`` (a linear map
    back). State: ``(forward state, backward state)``; the backward state is the one after the
    sequence's *first* step.
    """

    def __init__(self, forward: RecurrentCore, backward: RecurrentCore, merge: bool) -> None:
        super().__init__()
        self.fwd, self.bwd = forward, backward
        self.input_size, self.hidden_size = forward.input_size, forward.hidden_size
        joined = forward.output_size + backward.output_size
        self.merge = nn.Linear(joined, forward.output_size) if merge else None
        self.output_size = forward.output_size if merge else joined

    @property
    def scans(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.fwd.scans

    @property
    def scan(self) -> str:
        return self.fwd.scan

    @scan.setter
    def scan(self, value: str) -> None:
        self.fwd.scan = self.bwd.scan = value

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> tuple[State, State]:
        return (
            self.fwd.initial_state(batch, device, dtype),
            self.bwd.initial_state(batch, device, dtype),
        )

    def step(self, x_t: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        raise CoreError(
            "a bidirectional layer cannot step: its backward direction needs the steps that "
            "have not come yet"
        )

    def forward(
        self, x: Tensor, state: Any = None, lengths: Lengths | None = None
    ) -> tuple[Tensor, tuple[State, State]]:
        self._check_input(x)
        fwd_state, bwd_state = (None, None) if state is None else state
        y_fwd, fwd_state = self.fwd(x, fwd_state, lengths)
        flip = _reversal(lengths, x.size(0), x.size(1), x.device)  # (B, T, 1)
        y_bwd, bwd_state = self.bwd(_gather(x, flip), bwd_state, lengths)
        y = torch.cat([y_fwd, _gather(y_bwd, flip)], dim=-1)  # (B, T, 2 O)
        if self.merge is not None:
            y = zero_padding(self.merge(y), padding_mask(lengths, x.size(0), x.size(1), x.device))
        return y, (fwd_state, bwd_state)


def _reversal(lengths: Lengths | None, batch: int, steps: int, device: torch.device) -> Tensor:
    """``(B, T, 1)`` indices ``len - 1 - t`` at valid steps, ``t`` at padding."""
    t = torch.arange(steps, device=device).unsqueeze(0)  # (1, T)
    if lengths is None:
        return (steps - 1 - t).expand(batch, -1).unsqueeze(-1)
    lengths = torch.as_tensor(lengths, dtype=torch.int64, device=device).unsqueeze(1)
    flip = lengths - 1 - t
    return torch.where(flip >= 0, flip, t).unsqueeze(-1)


def _gather(x: Tensor, index: Tensor) -> Tensor:
    return x.gather(1, index.expand(-1, -1, x.size(-1)))


class CoreStack(RecurrentCore):
    """``num_layers`` cores of architecture ``arch`` (see the module docstring for the layouts).

    Args:
        arch: a core name of `make_core` (mingru, minlstm, indrnn, lru, s6, mlstm, slstm, or a
            classic rnn/lstm/gru, one layer each).
        input_size: features in ``I``.
        hidden_size: the width ``d`` of every layer (per direction).
        num_layers: layers ``L``.
        dropout: between layers (plain layout) or inside the blocks; training only.
        bidirectional: also run each layer over the reversed sequences.
        block: wrap every layer in a `ResidualBlock` (norm -> core -> residual -> MLP).
        mlp_ratio: the blocks' MLP width over ``d``.
        **core: `make_core`'s options (scan, state_size, heads, horizon, max_gain, min_memory,
            backend).

    ``output_size`` is ``2d`` for a bidirectional stack without blocks, else ``d``.
    """

    def __init__(
        self,
        arch: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        block: bool = False,
        mlp_ratio: float = 4.0,
        **core: Any,
    ) -> None:
        super().__init__()
        from models.cores.block import ResidualBlock

        if num_layers < 1:
            raise CoreError(f"a stack needs at least one layer, got {num_layers}")
        self.arch, self.block = arch, block
        self.input_size, self.hidden_size = input_size, hidden_size
        d = hidden_size
        keep = block or arch in KEEPS_WIDTH
        self.project = nn.Linear(input_size, d) if keep and input_size != d else None
        width_in = d if keep else input_size

        def layer(size: int) -> RecurrentCore:
            cell = make_core(arch, size, d, **core)
            if bidirectional:
                cell = Bidirectional(cell, make_core(arch, size, d, **core), merge=keep)
            return ResidualBlock(cell, mlp_ratio, dropout=dropout) if block else cell

        layers = [layer(width_in)]
        for _ in range(num_layers - 1):
            layers.append(layer(layers[-1].output_size))
        self.layers = nn.ModuleList(layers)
        self.norm = nn.LayerNorm(d) if block else None
        self.drop = nn.Dropout(0.0 if block else dropout)
        self.output_size = self.layers[-1].output_size
        self.bidirectional = bidirectional

    @property
    def scans(self) -> tuple[str, ...]:  # type: ignore[override]
        """The scans of the core (every layer runs the same)."""
        return self.layers[0].scans

    @property
    def scan(self) -> str:
        return self.layers[0].scan

    @scan.setter
    def scan(self, value: str) -> None:
        for layer in self.layers:
            layer.scan = value

    def extra_repr(self) -> str:
        return f"{self.arch!r}, block={self.block}, bidirectional={self.bidirectional}"

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> tuple[Nested, ...]:
        """One state per layer."""
        return tuple(layer.initial_state(batch, device, dtype) for layer in self.layers)

    def _states(self, state: tuple[Nested, ...] | None) -> tuple[Nested | None, ...]:
        if state is None:
            return (None,) * len(self.layers)
        if not isinstance(state, tuple) or len(state) != len(self.layers):
            raise CoreError(f"{self.arch} stack: expected one state per layer ({len(self.layers)})")
        return state

    def _between(self, x: Tensor, depth: int) -> Tensor:
        return self.drop(x) if depth else x

    def forward(
        self, x: Tensor, state: tuple[Nested, ...] | None = None, lengths: Lengths | None = None
    ) -> tuple[Tensor, tuple[Nested, ...]]:
        """x ``(B, T, I)`` -> ``(y (B, T, output_size), one state per layer)``."""
        self._check_input(x)
        if self.project is not None:
            x = self.project(x)
        finals = []
        for depth, (layer, s) in enumerate(zip(self.layers, self._states(state), strict=True)):
            x, s = layer(self._between(x, depth), s, lengths)
            finals.append(s)
        if self.norm is not None:
            x = zero_padding(self.norm(x), padding_mask(lengths, x.size(0), x.size(1), x.device))
        return x, tuple(finals)

    def step(
        self, x_t: Tensor, state: tuple[Nested, ...] | None = None
    ) -> tuple[Tensor, tuple[Nested, ...]]:
        """x_t ``(B, I)`` -> ``(y_t (B, output_size), one state per layer)``."""
        self._check_step_input(x_t)
        if self.project is not None:
            x_t = self.project(x_t)
        finals = []
        for depth, (layer, s) in enumerate(zip(self.layers, self._states(state), strict=True)):
            x_t, s = layer.step(self._between(x_t, depth), s)
            finals.append(s)
        if self.norm is not None:
            x_t = self.norm(x_t)
        return x_t, tuple(finals)


def map_state(fn: Callable[[Tensor], Tensor], state: Nested | None) -> Nested | None:
    """``state`` with ``fn`` applied to every tensor, structure kept (e.g. ``Tensor.detach``)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return fn(state)
    return tuple(map_state(fn, s) for s in state)


def flatten_state(state: Nested | None) -> list[Tensor]:
    """Every tensor of ``state``, depth first (what a checkpoint stores)."""
    if state is None:
        return []
    if isinstance(state, Tensor):
        return [state]
    return [t for s in state for t in flatten_state(s)]


def unflatten_state(template: Nested, tensors: list[Tensor]) -> Nested:
    """Inverse of `flatten_state`: ``tensors`` put back into the structure of ``template``.

    Raises `CoreError` when the count or a shape does not match (a carry from another model).
    """
    flat = flatten_state(template)
    if len(flat) != len(tensors) or any(
        a.dim() != b.dim() for a, b in zip(flat, tensors, strict=True)
    ):
        raise CoreError(
            f"a stored state of {len(tensors)} tensors does not fit this model's state "
            f"({len(flat)} tensors)"
        )
    it = iter(tensors)

    def build(t: Nested) -> Nested:
        return next(it) if isinstance(t, Tensor) else tuple(build(s) for s in t)

    return build(template)
