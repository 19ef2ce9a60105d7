"""The translation task's own settings: attention, teacher forcing, beam, direction, lengths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tasks.engine.settings import MODERN, TrainConfig, positive_int, setting


@dataclass
class TranslationSettings(TrainConfig):
    """Translation with an encoder-decoder."""

    TASK_GROUPS: ClassVar[tuple[str, ...]] = ("Translation",)
    ARCHS: ClassVar[tuple[str, ...]] = ("gru", "lstm", *MODERN)

    direction: str = setting(
        "auto",
        "Direction",
        "source-target, e.g. de-en, en-de, zh-en, fr-en (auto: the dataset's default)",
        "Translation",
        pattern=r"auto|[a-z]{2}-[a-z]{2}",
        pattern_hint="auto or like de-en",
    )
    attention_type: str = setting(
        "dot",
        "Attention",
        "the decoder's attention when --attention is on: dot (Luong, general), additive "
        "(Bahdanau's score) or none",
        "Translation",
        choices=("dot", "additive", "none"),
    )
    teacher_forcing: float = setting(
        1.0,
        "Teacher forcing",
        "probability of feeding the true previous token (1: always, one fused call)",
        "Translation",
        minimum=0.0,
        maximum=1.0,
    )
    beam: int = positive_int(
        5, "Beam width", "beam width for the test BLEU and `translate` (1: greedy)", "Translation"
    )
    max_len: int = positive_int(
        50,
        "Max length",
        "training pairs longer than this many tokens (either side) are dropped",
        "Translation",
    )
    min_freq: int = positive_int(
        2, "Min frequency", "tokens seen fewer times in training become <unk>", "Translation"
    )
    label_smoothing: float = setting(
        0.0,
        "Label smoothing",
        "cross-entropy label smoothing",
        "Translation",
        minimum=0.0,
        maximum=1.0,
        below=True,
    )
