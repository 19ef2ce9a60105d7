"""Guessing a surname's language with a names checkpoint (its best-on-validation weights).

A group of names runs as one right-padded batch; the encoder is exact on padding
whatever its core (`models.classifier.SentimentRNN`), so a name gets the same guess alone or
in a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tasks.data.text import Vocab
from tasks.engine.classification import build_classifier, pad_batch
from tasks.engine.player import DEFAULT_BATCH, check_each, chunks
from tasks.names.data import encode, parse_name

TOP = 3
"""Languages a guess lists by default."""


@dataclass(frozen=True)
class Guess:
    """The most likely languages of one name."""

    name: str
    """The name as typed."""
    read: str
    """What the model read: the name folded to lower-case ASCII (its first --seq-len
    characters)."""
    top: tuple[tuple[str, float], ...]
    """(language, probability), most likely first."""
    unknown: int
    """Characters of `read` the model never saw in training (read as <unk>)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "read": self.read,
            "languages": [{"language": lang, "probability": round(p, 5)} for lang, p in self.top],
            "unknown_chars": self.unknown,
        }

    def to_text(self) -> str:
        """`Dostoevsky: Russian 0.981 · Czech 0.009 · Polish 0.004`."""
        guesses = " · ".join(f"{lang} {p:.3f}" for lang, p in self.top)
        return f"{self.name.strip()}: {guesses}"


class NamesPlayer:
    """Guesses the language of surnames with a names checkpoint (no data needed)."""

    def __init__(self, payload: dict[str, Any], config: Any, *, top: int = TOP) -> None:
        state = payload["task_state"]
        self.config = config
        self.languages: tuple[str, ...] = tuple(state["languages"])
        if top < 1:
            raise ValueError(f"top must be a positive integer (got {top})")
        self.top = min(top, len(self.languages))
        """Languages a guess lists (`top`, or every language when there are fewer)."""
        self.vocab = Vocab(tuple(state["vocab"]), "chars")
        self.model = build_classifier(config, len(self.vocab), len(self.languages))
        self.model.load_state_dict(state["best_model"])
        self.model.eval()
        self.metrics: dict[str, Any] = dict(payload.get("metrics", {}))

    def describe(self) -> str:
        """`gru 1×128 bidirectional · 18 languages · names` (`mingru 2×128 blocks ...` for
        residual blocks)."""
        c = self.config
        model = f"{c.arch} {c.layers}×{c.hidden}" + (" blocks" if c.block else "")
        model += " bidirectional" if c.bidirectional else ""
        return f"{model} · {len(self.languages)} languages · {c.dataset}"

    def answer(self, text: str) -> Guess:
        """The `top` languages of one surname; ValueError (one line) for what is no name."""
        return self._guess([text], [parse_name(text)])[0]

    def answer_many(self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH) -> Iterator[Guess]:
        """`answer` for each name, in order; each group is one padded forward pass."""
        for start, group in chunks(texts, batch_size):
            yield from self._guess(group, check_each(start, group, parse_name))

    def _guess(self, texts: list[str], names: list[str]) -> list[Guess]:
        """One forward pass over the cleaned names: probabilities (B, C) -> the top of each."""
        import torch

        names = [n[: self.config.seq_len] for n in names]  # the model reads this much
        ids = [encode(n, self.vocab) for n in names]
        x, lengths = pad_batch(ids)
        with torch.inference_mode():
            logits, _ = self.model(x, lengths)  # (B, C)
        probs, index = torch.softmax(logits.float(), -1).topk(self.top, dim=-1)  # (B, top)
        rows = zip(texts, names, ids, index.tolist(), probs.tolist(), strict=True)
        return [
            Guess(
                name=text,
                read=name,
                top=tuple((self.languages[k], p) for k, p in zip(ks, ps, strict=True)),
                unknown=sum(1 for i in row if i == 1),
            )
            for text, name, row, ks, ps in rows
        ]
