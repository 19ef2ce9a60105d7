"""Tracing a charlm checkpoint's states over a text (what the Inspect screen and command read).

A classic cell without blocks (rnn, lstm, gru, the NumPy RNN) is traced in NumPy from its
weights (`models.inspect.classic`); anything else is rebuilt as the task builds it and traced
through its forward pass (`models.inspect.cores`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from models.inspect.trace import InspectError, StateTrace, check_inspectable
from tasks.charlm.task import CharVocab, build_model

__all__ = ["trace_charlm"]


def encode(vocab: CharVocab, text: str) -> np.ndarray:
    """``text`` -> ids ``(T,)``; `InspectError` for an empty text or a character not in
    ``vocab`` (naming the first)."""
    if not text:
        raise InspectError("the text is empty: give at least one character")
    known = set(vocab.chars)
    for position, char in enumerate(text):
        if char not in known:
            raise InspectError(
                f"character {char!r} at position {position} is not in the model's vocabulary "
                f"({vocab.size} characters)"
            )
    return vocab.encode(text)


def trace_charlm(
    payload: dict[str, Any],
    config: Any,
    text: str,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> StateTrace:
    """The states of a charlm checkpoint over ``text``.

    ``payload``: `tasks.engine.checkpoint.load_checkpoint`'s dict; ``config``: its settings
    (`tasks.registry.config_from_dict(payload["config"])`). ``progress(fraction)`` is called at
    least every 2% of the text; ``cancelled()`` is polled as often and raises
    `models.inspect.InspectCancelled` when it says True.
    """
    from models.stepper import steps_in_numpy

    check_inspectable(config.arch)
    state = payload["task_state"]
    vocab = CharVocab(state["vocab"])
    ids = encode(vocab, text)
    if steps_in_numpy(config.arch, config.block):
        from models.inspect.classic import trace_classic

        weights = {k: v for k, v in state["model"].items() if not k.startswith("adagrad")}
        return trace_classic(config.arch, weights, ids, text, progress, cancelled)
    from models.inspect.cores import trace_cores

    model = build_model(config, vocab.size)
    model.load_state_dict(state["model"])
    return trace_cores(model, ids, text, progress, cancelled)
