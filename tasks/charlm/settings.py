"""The character language model: the shared block, and IndRNN bounded for an endless stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from tasks.engine.settings import MODERN, TrainConfig


@dataclass
class CharLMSettings(TrainConfig):
    """Character-level text generation: the shared settings only (`seq_len` is the BPTT chunk)."""

    ARCHS: ClassVar[tuple[str, ...]] = ("lstm", "gru", "rnn", "numpy-rnn", *MODERN)
    OPTIONS: ClassVar[tuple[str, ...]] = ()
    WITHOUT_OPTIONS: ClassVar[str] = "it predicts left to right from the past only"

    def core_options(self) -> dict[str, Any]:
        """The shared options; IndRNN's recurrent weights kept at |u| <= 1 and started in [0, 1].

        The char LM carries the state from one chunk into the next over the whole text, so a
        unit with u > 1 (allowed elsewhere, where a sequence ends after ``seq_len`` steps) grows
        without end: 1.0054^8064 ≈ 5e18 after 63 chunks of 128 turned the loss to NaN. And with
        every u started near 1 (``min_memory`` 1/2 over the 128-step horizon gives u >= 0.995)
        each ReLU unit sums its inputs over the whole stream: the model stayed at 3.35 nats/char
        after a minute, where u ~ U[0, 1] (the paper's usual start) reached 1.78.
        """
        options = super().core_options()
        if self.arch == "indrnn":
            options["max_gain"] = 1.0
            options["min_memory"] = 0.0
        return options
