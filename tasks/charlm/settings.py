"""The character language model has no settings beyond the shared block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tasks.engine.settings import MODERN, TrainConfig


@dataclass
class CharLMSettings(TrainConfig):
    """Character-level text generation: the shared settings only (`seq_len` is the BPTT chunk)."""

    ARCHS: ClassVar[tuple[str, ...]] = ("lstm", "gru", "rnn", "numpy-rnn", *MODERN)
    OPTIONS: ClassVar[tuple[str, ...]] = ()
    WITHOUT_OPTIONS: ClassVar[str] = "it predicts left to right from the past only"
