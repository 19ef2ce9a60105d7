"""Translating with a translation checkpoint (the vocabularies are in it; no data needed).

Batches: a group of sentences is decoded in sub-batches of sentences with the same number of
source tokens, so each has no padding and the same output limit (`output_limit`) as alone:
a sentence translates the same alone or in a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tasks.data.parallel import (
    LANGUAGE_NAMES,
    UNK_ID,
    Vocab,
    capitalize_first,
    detokenize,
    pad_sources,
    tokenize,
)
from tasks.engine.player import DEFAULT_BATCH, check_each, chunks
from tasks.translation.task import LENGTH_ALPHA, build_model, output_limit

MAX_SOURCE_TOKENS = 200
"""`translate` reads at most this many source tokens (the rest is dropped, with a note)."""
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Translation:
    """One translated sentence with the attention behind it."""

    source_tokens: list[str]
    """The source as the model read it (unknown tokens as typed)."""
    tokens: list[str]
    """The output tokens (without ``<eos>``)."""
    text: str
    """The detokenized translation."""
    attention: list[list[float]] | None
    """One row per output step, each over the source tokens: row i is where output step i
    looked; a finished sentence has one more row, the step that ended it. None for a model
    without attention."""
    log_prob: float
    finished: bool
    """False when the length limit stopped the decoder before ``<eos>``."""
    unknown: list[str] = field(default_factory=list)
    """Source tokens outside the model's vocabulary."""
    notes: list[str] = field(default_factory=list)
    """Warnings for the user: unknown words, wrong script, truncated input or output."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_tokens": self.source_tokens, "tokens": self.tokens, "text": self.text,
            "attention": self.attention, "log_prob": round(self.log_prob, 4),
            "finished": self.finished, "unknown": self.unknown, "notes": self.notes,
        }  # fmt: skip

    def to_text(self) -> str:
        """The translation (the notes are for stderr or ``--json``)."""
        return self.text


@dataclass(frozen=True)
class _Source:
    """A sentence as the encoder reads it."""

    tokens: list[str]
    ids: list[int]
    unknown: list[str]
    notes: list[str]


class Translator:
    """Translates with a translation checkpoint; `beam` (default: the run's) is the width
    `answer` and `answer_many` decode with (1: greedy)."""

    def __init__(self, payload: dict[str, Any], config: Any, *, beam: int | None = None) -> None:
        state = payload["task_state"]
        self.config = config
        self.src_vocab, self.tgt_vocab = Vocab(state["src_vocab"]), Vocab(state["tgt_vocab"])
        self.src_lang, self.tgt_lang = state["src_lang"], state["tgt_lang"]
        self.metrics: dict[str, Any] = dict(payload.get("metrics", {}))
        self.model = build_model(config, len(self.src_vocab), len(self.tgt_vocab))
        self.model.load_state_dict(state["model"])
        self.model.eval()
        self.beam = _check_beam(beam if beam is not None else config.beam)

    @property
    def has_attention(self) -> bool:
        return self.model.attn is not None

    @property
    def source_language(self) -> str:
        return LANGUAGE_NAMES.get(self.src_lang, self.src_lang)

    @property
    def target_language(self) -> str:
        return LANGUAGE_NAMES.get(self.tgt_lang, self.tgt_lang)

    def describe(self) -> str:
        """`German → English · gru 1×256 · dot attention` (`mingru 2×256 blocks · ...`)."""
        c = self.config
        attention = f"{c.attention_type} attention" if self.has_attention else "no attention"
        blocks = " blocks" if c.block else ""
        return (
            f"{self.source_language} → {self.target_language} · {c.arch} {c.layers}×{c.hidden}"
            f"{blocks} · {attention}"
        )

    def translate(self, text: str, beam: int = 1) -> Translation:
        """Translate one sentence; beam 1 is greedy. Decoding always stops (`output_limit`).

        Raises:
            ValueError: empty text, no word in it, or a beam width below 1.
        """
        return self._decode([self._read(text)], _check_beam(beam))[0]

    def answer(self, text: str) -> Translation:
        """`translate` with the translator's beam width."""
        return self.translate(text, self.beam)

    def answer_many(
        self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH
    ) -> Iterator[Translation]:
        """`answer` for each sentence, in order, decoded in same-length batches."""
        for start, group in chunks(texts, batch_size):
            yield from self._decode(check_each(start, group, self._read), self.beam)

    def _read(self, text: str) -> _Source:
        """Tokenize and encode one sentence, with the notes about it; ValueError when empty."""
        if not text.strip():
            raise ValueError(f"the text is empty: type a sentence in {self.source_language}")
        tokens = tokenize(text, self.src_lang)
        if not tokens:
            raise ValueError(f"no words in {text!r}: type a sentence in {self.source_language}")
        notes = self._script_notes(text)
        if len(tokens) > MAX_SOURCE_TOKENS:
            notes.append(
                f"the sentence has {len(tokens)} tokens; only the first {MAX_SOURCE_TOKENS} "
                "are translated"
            )
            tokens = tokens[:MAX_SOURCE_TOKENS]
        ids = self.src_vocab.encode(tokens)
        unknown = [t for t, i in zip(tokens, ids, strict=True) if i == UNK_ID]
        if len(unknown) == len(tokens):
            notes.append(
                f"none of these words is in the model's {self.source_language} vocabulary: "
                "the output is a guess"
            )
        elif unknown:
            notes.append(f"unknown words (read as <unk>): {', '.join(dict.fromkeys(unknown))}")
        return _Source(tokens, ids, unknown, notes)

    def _decode(self, sources: list[_Source], beam: int) -> list[Translation]:
        """Decode sentences grouped by source length: one beam search per length."""
        import torch

        by_length: dict[int, list[int]] = {}
        for i, source in enumerate(sources):
            by_length.setdefault(len(source.ids), []).append(i)
        out: list[Translation | None] = [None] * len(sources)
        for length, members in by_length.items():
            limit = output_limit(length, self.config.max_len)
            ids, lens = pad_sources([sources[i].ids for i in members])
            src, src_len = torch.from_numpy(ids), torch.from_numpy(lens)
            with torch.inference_mode():
                hyps = self.model.beam_search(src, src_len, beam, limit, LENGTH_ALPHA)
            for i, hyp in zip(members, hyps, strict=True):
                out[i] = self._translation(sources[i], hyp, limit)
        return [t for t in out if t is not None]

    def _translation(self, source: _Source, hyp: Any, limit: int) -> Translation:
        notes = list(source.notes)
        if not hyp.finished:
            notes.append(f"the translation was cut at {limit} tokens")
        words = self.tgt_vocab.decode(hyp.ids)
        text_out = detokenize(words, self.tgt_lang)
        if self.tgt_lang != "zh":
            text_out = capitalize_first(text_out)
        attention = None
        if hyp.attention is not None:
            attention = [[round(float(v), 4) for v in row] for row in hyp.attention.tolist()]
        return Translation(source.tokens, words, text_out, attention, hyp.log_prob, hyp.finished,
                           source.unknown, notes)  # fmt: skip

    def _script_notes(self, text: str) -> list[str]:
        """A note when the text is in the wrong script for the source language."""
        letters = [ch for ch in text if ch.isalpha()]
        if not letters:
            return []
        han = sum(1 for ch in letters if _HAN.match(ch)) / len(letters)
        if self.src_lang == "zh" and han < 0.5:
            return ["this does not look like Chinese text; the model translates Chinese"]
        if self.src_lang != "zh" and han >= 0.5:
            return [f"this looks like Chinese text; the model translates {self.source_language}"]
        return []


def _check_beam(beam: Any) -> int:
    if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
        raise ValueError(f"--beam must be a positive integer (got {beam})")
    return beam
