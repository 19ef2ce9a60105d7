"""The sentiment task's own settings: vocabulary, early stopping and where embeddings start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tasks.engine.settings import MODERN, TrainConfig, positive_int, setting


@dataclass
class SentimentSettings(TrainConfig):
    """Sentiment analysis of reviews."""

    TASK_GROUPS: ClassVar[tuple[str, ...]] = ("Text",)
    ARCHS: ClassVar[tuple[str, ...]] = ("gru", "lstm", "rnn", *MODERN)

    vocab_size: int = setting(
        30000,
        "Vocabulary size",
        "the most frequent training tokens kept (with <pad> and <unk>); the rest become <unk>",
        "Text",
        minimum=3,
    )
    min_freq: int = positive_int(
        2, "Min frequency", "tokens seen fewer times in training become <unk>", "Text"
    )
    patience: int = setting(
        0,
        "Patience (0: off)",
        "stop after this many epochs without a better validation accuracy (0: never)",
        "Text",
        minimum=0,
    )
    init_from: str | None = setting(
        None,
        "Start from",
        "start from this sentiment checkpoint's best weights and vocabulary (transfer learning)",
        "Text",
        kind="text",
        optional=True,
        placeholder="none",
        metavar="CHECKPOINT",
        form=False,
    )
    word_vectors: str | None = setting(
        None,
        "Word vectors from",
        "start the embeddings from word vectors counted on this review corpus's texts (its "
        "labels unused), e.g. imdb for rt-polarity",
        "Text",
        kind="text",
        optional=True,
        placeholder="none",
        metavar="CORPUS",
    )
