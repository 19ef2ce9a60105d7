"""A `CoreStack`'s states traced through the model's own forward pass (torch).

For a modern core (minGRU, minLSTM, IndRNN) or a classic cell inside residual blocks: forward
hooks catch each layer core's input and output while the model reads the text (eval mode, batch
1, piece by piece with the state carried), then the gates are computed from the core's own
parameters on that input (the equations of `models.cores.mingru`, `minlstm`; a classic cell's
by `models.inspect.classic`), and ``h`` is the core's output itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from models.cores.block import ResidualBlock
from models.cores.indrnn import IndRNN
from models.cores.mingru import MinGRU
from models.cores.minimal import g
from models.cores.minlstm import MinLSTM
from models.cores.stack import Bidirectional, CoreStack
from models.cores.torch_rnn import TorchRecurrent
from models.inspect.classic import ClassicLayer
from models.inspect.trace import InspectError, Recorder, StateTrace, check_inspectable, spans

__all__ = ["trace_cores"]

Reader = Callable[[Tensor, Tensor], dict[str, np.ndarray]]
"""(the core's input (C, I), its output (C, H)) over a piece -> each kind's values (C, H)."""


def _candidate(core: MinGRU | MinLSTM, v: Tensor) -> Tensor:
    return g(v) if core.candidate == "g" else v


def _reader(core: nn.Module) -> Reader:
    """How to read one layer core's kinds from its input and output."""
    if isinstance(core, MinGRU):

        def mingru(x: Tensor, y: Tensor) -> dict[str, Tensor]:
            k, v = core.linear(x).chunk(2, dim=-1)  # z = σ(k), h̃ = g(v)
            return {"h": y, "update gate": torch.sigmoid(k), "candidate": _candidate(core, v)}

        return _numpy_values(mingru)
    if isinstance(core, MinLSTM):

        def minlstm(x: Tensor, y: Tensor) -> dict[str, Tensor]:
            f, i, v = core.linear(x).chunk(3, dim=-1)  # the gates before normalisation
            return {"h": y, "forget gate": torch.sigmoid(f), "input gate": torch.sigmoid(i),
                    "candidate": _candidate(core, v)}  # fmt: skip

        return _numpy_values(minlstm)
    if isinstance(core, IndRNN):
        return _numpy_values(lambda x, y: {"h": y})
    if isinstance(core, TorchRecurrent) and not core.bidirectional:
        layer = ClassicLayer.from_weights(core.mode, core.state_dict())

        def classic(x: Tensor, y: Tensor) -> dict[str, np.ndarray]:
            values = layer.run(layer.project(x.numpy()))  # carries the state between pieces
            return values | {"h": y.numpy()}

        return classic
    raise InspectError(f"a {type(core).__name__} layer does not expose per-step states to inspect")


def _numpy_values(read: Callable[[Tensor, Tensor], dict[str, Tensor]]) -> Reader:
    return lambda x, y: {kind: v.numpy() for kind, v in read(x, y).items()}


def trace_cores(
    model: nn.Module,
    ids: np.ndarray,
    text: str,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> StateTrace:
    """Trace a model whose ``model.rnn`` is a `CoreStack` over ``text`` (its ids ``(T,)``).

    ``model(idx (1, C), state) -> (logits, state)`` (`models.charlm.CharRNN`); it is put in
    eval mode.
    """
    stack = model.rnn
    if not isinstance(stack, CoreStack):
        raise InspectError(f"expected a stack of cores, got {type(stack).__name__}")
    check_inspectable(stack.arch)
    cores = [layer.core if isinstance(layer, ResidualBlock) else layer for layer in stack.layers]
    if any(isinstance(core, Bidirectional) for core in cores):
        raise InspectError("a bidirectional model has no single state per step to inspect")
    readers = [_reader(core) for core in cores]
    seen: dict[int, tuple[Tensor, Tensor]] = {}

    def catch(n: int) -> Callable[..., None]:
        def hook(module: nn.Module, args: tuple[Any, ...], out: tuple[Tensor, Any]) -> None:
            seen[n] = (args[0][0], out[0][0])  # batch row 0: (C, I), (C, H)

        return hook

    recorder = Recorder(text, len(cores), stack.hidden_size, stack.arch)
    hooks = [core.register_forward_hook(catch(n)) for n, core in enumerate(cores)]
    model.eval()
    try:
        state = None
        with torch.no_grad():
            for start, end in spans(len(ids), progress, cancelled):
                _, state = model(torch.as_tensor(ids[start:end], dtype=torch.int64)[None], state)
                for n, read in enumerate(readers):
                    recorder.put(n, read(*seen[n]), start)
    finally:
        for hook in hooks:
            hook.remove()
    return recorder.trace
