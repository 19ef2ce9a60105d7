"""Classifying reviews with a sentiment checkpoint (its best-on-validation weights): a `Player`.

A group of texts runs as one right-padded batch; the encoder is exact on padding
whatever its core (`models.classifier.SentimentRNN`), so a text gets the same verdict alone or
in a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.data.text import Token, Vocab, tokenize, truncate
from tasks.engine.classification import build_classifier, pad_batch
from tasks.engine.player import DEFAULT_BATCH, check_each, chunks
from tasks.sentiment.task import LABELS

MAX_PREDICT_CHARS = 1_000_000
"""`predict` refuses longer texts (the model would read only --seq-len tokens of them anyway)."""
TOP_WORDS = 5
"""`to_text` names this many of the most attended tokens."""


@dataclass(frozen=True)
class Prediction:
    """A verdict on one text, with the attention the model paid to each token."""

    label: str
    """negative or positive."""
    probability: float
    """The probability of `label` (>= 0.5)."""
    positive: float
    """The probability of positive."""
    tokens: list[tuple[str, int, int, float | None]]
    """(token, start, end, attention weight) for each token read, in text order; the weight is
    None for a model without attention. Tokens cut by truncation are left out."""
    unknown: int
    """Tokens of the text the vocabulary does not know (read as <unk>)."""
    note: str = ""
    """A plain remark, e.g. that every word was unknown, or that the text was truncated."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "probability": round(self.probability, 5),
            "positive": round(self.positive, 5),
            "unknown_tokens": self.unknown,
            "note": self.note,
            "tokens": [
                {"token": t, "start": s, "end": e, "attention": None if w is None else round(w, 5)}
                for t, s, e, w in self.tokens
            ],
        }

    def to_text(self) -> str:
        """`positive 0.912 · attention: great 0.41, film 0.12` (and the note, if any)."""
        top = sorted((t for t in self.tokens if t[3] is not None), key=lambda t: -t[3])
        words = ", ".join(f"{t[0]} {t[3]:.2f}" for t in top[:TOP_WORDS])
        parts = [f"{self.label} {self.probability:.3f}"]
        if words:
            parts.append(f"attention: {words}")
        if self.note:
            parts.append(f"note: {self.note}")
        return " · ".join(parts)


@dataclass(frozen=True)
class _Read:
    """A text as the model reads it: its tokens, their ids and the positions kept."""

    tokens: list[Token]
    ids: list[int]
    positions: list[int]
    """Indices into `tokens` that survive truncation to --seq-len."""


class SentimentPredictor:
    """Classifies texts with a sentiment checkpoint (no data needed: the vocabulary is in it)."""

    def __init__(self, payload: dict[str, Any], config: Any) -> None:
        state = payload["task_state"]
        self.config = config
        self.vocab = Vocab(tuple(state["vocab"]), state["tokenizer"])
        self.model = build_classifier(config, len(self.vocab), len(LABELS))
        self.model.load_state_dict(state["best_model"])
        self.model.eval()
        self.metrics: dict[str, Any] = dict(payload.get("metrics", {}))

    @property
    def has_attention(self) -> bool:
        return self.config.attention

    def describe(self) -> str:
        """`gru 1×128 bidirectional · attention · words · rt-polarity` (`mingru 2×128 blocks
        ...` for residual blocks)."""
        c = self.config
        parts = [
            f"{c.arch} {c.layers}×{c.hidden}"
            + (" blocks" if c.block else "")
            + (" bidirectional" if c.bidirectional else "")
        ]
        parts.append("attention" if self.has_attention else "last state (no attention)")
        parts.append("characters" if self.vocab.kind == "chars" else "words")
        parts.append(str(c.dataset))
        return " · ".join(parts)

    def predict(self, text: str) -> Prediction:
        """Label, probability and per-token attention for one text.

        Raises ValueError for an empty or whitespace-only text, or one over `MAX_PREDICT_CHARS`.
        A text whose every token is unknown is still classified (from <unk> tokens alone); the
        note says so.
        """
        return self._classify([self._read(text)])[0]

    answer = predict

    def answer_many(
        self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH
    ) -> Iterator[Prediction]:
        """`predict` for each text, in order; each group is one padded forward pass."""
        for start, group in chunks(texts, batch_size):
            yield from self._classify(check_each(start, group, self._read))

    def _read(self, text: str) -> _Read:
        """Tokenize, encode and truncate one text; ValueError when there is nothing to read."""
        if not text.strip():
            raise ValueError("the text is empty: type or paste a review")
        if len(text) > MAX_PREDICT_CHARS:
            raise ValueError(
                f"the text has {len(text):,} characters; the limit is {MAX_PREDICT_CHARS:,}"
            )
        tokens = tokenize(text, self.vocab.kind)
        if not tokens:
            raise ValueError("the text has no words or characters to read (only spaces or markup)")
        ids = self.vocab.encode([t.text for t in tokens])
        return _Read(tokens, ids, truncate(list(range(len(ids))), self.config.seq_len))

    def _classify(self, reads: list[_Read]) -> list[Prediction]:
        """One forward pass over the texts as a padded batch: logits (B, 2), weights (B, T)."""
        import torch

        seqs = [np.asarray([r.ids[p] for p in r.positions], dtype=np.int64) for r in reads]
        x, lengths = pad_batch(seqs)
        with torch.inference_mode():
            logits, weights = self.model(x, lengths)
        positives = torch.softmax(logits.float(), -1)[:, 1].tolist()
        rows = weights.tolist() if weights is not None else None
        return [
            _prediction(r, p, None if rows is None else rows[b][: len(r.positions)])
            for b, (r, p) in enumerate(zip(reads, positives, strict=True))
        ]


def _prediction(read: _Read, positive: float, attention: list[float] | None) -> Prediction:
    """The verdict for one text from its positive probability and attention weights."""
    weights = attention if attention is not None else [None] * len(read.positions)
    unknown = sum(1 for i in read.ids if i == 1)
    notes = []
    if unknown == len(read.ids):
        notes.append(
            "every token is unknown to the model: it reads only <unk>, the verdict means little"
        )
    if len(read.positions) < len(read.ids):
        notes.append(f"read {len(read.positions)} of {len(read.ids)} tokens (beginning and end)")
    tokens = read.tokens
    return Prediction(
        label=LABELS[int(positive >= 0.5)],
        probability=positive if positive >= 0.5 else 1 - positive,
        positive=positive,
        tokens=[
            (tokens[p].text, tokens[p].start, tokens[p].end, w)
            for p, w in zip(read.positions, weights, strict=True)
        ],
        unknown=unknown,
        note="; ".join(notes),
    )
