"""Translation: sentence pairs -> an encoder-decoder (with attention) -> BLEU.

Data (see `tasks.parallel_data`): Multi30k (de-en, en-de), Tatoeba Chinese-English and
French-English; lower-cased tokens, one vocabulary per side (tokens seen fewer than
``--min-freq`` times become ``<unk>``), training pairs longer than ``--max-len`` tokens dropped
(the count is reported; validation and test are never filtered). Batches group sentences of
similar length.

Model (`models.seq2seq.Seq2Seq`): a (bidirectional) GRU/LSTM encoder and a Luong decoder with
dot or additive attention, or none; trained with cross-entropy (optionally label-smoothed)
under teacher forcing (``--teacher-forcing`` below 1 feeds the model's own guesses).

Metrics: ``val_bleu`` (greedy; the quick estimate reads the first `QUICK_VAL` sentences) picks
the best checkpoint; at the end ``test_bleu`` and ``test_bleu_cased`` decode the test split with
beam search of width ``--beam`` (greedy when 1), ``test_bleu_greedy`` with greedy decoding.
BLEU is sacreBLEU on detokenized output (`tasks.bleu`), lower-cased for the headline number;
its signature is in the run's dataset note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tasks.base import StepStats, make_optimizer, seed_everything, torch_device, torch_update
from tasks.bleu import corpus_bleu, signature
from tasks.checkpoint import load_checkpoint
from tasks.config import ConfigError, TrainConfig
from tasks.parallel_data import (
    LANGUAGE_NAMES,
    UNK_ID,
    Corpus,
    Encoded,
    Vocab,
    bucketed_batches,
    capitalize_first,
    detokenize,
    encode_pairs,
    filter_lengths,
    load_corpus,
    make_batch,
    pad_sources,
    tokenize,
)

QUICK_VAL = 200
"""Validation sentences the quick (during training) BLEU estimate decodes."""
EVAL_BATCH = 128
"""Sentences per batch in greedy evaluation."""
LENGTH_ALPHA = 1.0
"""Beam search length normalisation: log p / ((5 + len) / 6) ** alpha."""
MAX_SOURCE_TOKENS = 200
"""`translate` reads at most this many source tokens (the rest is dropped, with a note)."""


def output_limit(source_tokens: int, max_len: int) -> int:
    """The longest output decoded for a source: 1.5 x its length + 10, at most 3 x max_len."""
    return min(int(1.5 * source_tokens) + 10, 3 * max_len)


class TranslationTask:
    """The translation task for gru and lstm (see the module docstring)."""

    name = "translation"
    primary_metric = "val_bleu"
    lower_is_better = False

    def __init__(self, config: TrainConfig, corpus: Corpus | None = None) -> None:
        if config.arch not in ("gru", "lstm"):
            raise ConfigError(f"translation supports --arch gru, lstm (got {config.arch!r})")
        config.validate()
        self.config = config
        self.corpus = (
            corpus if corpus is not None else load_corpus(config.dataset, config.direction)
        )
        if config.direction == "auto":
            config.direction = self.corpus.direction  # the run records what it really used
        src, tgt = self.corpus.src_lang, self.corpus.tgt_lang
        self.src_lang, self.tgt_lang = src, tgt
        train_src = [tokenize(s, src) for s, _ in self.corpus.train]
        train_tgt = [tokenize(t, tgt) for _, t in self.corpus.train]
        self.src_vocab = Vocab.build(train_src, config.min_freq)
        self.tgt_vocab = Vocab.build(train_tgt, config.min_freq)
        self._encode_splits()
        self.attention = config.attention_type if config.attention else "none"
        self.dataset_note = "; ".join(
            [
                *self.corpus.notes,
                f"{self.corpus.direction}: {len(self.keep):,} training pairs (dropped "
                f"{self.dropped:,} longer than {config.max_len} tokens), "
                f"val {len(self.val.src):,}, test {len(self.test.src):,}; vocabulary "
                f"{len(self.src_vocab):,} {src} / {len(self.tgt_vocab):,} {tgt} tokens",
                f"BLEU: sacreBLEU {signature(tgt)}",
            ]
        )
        self._build_model()

    # -- setup -------------------------------------------------------------------------------

    def _encode_splits(self) -> None:
        sv, tv, s, t = self.src_vocab, self.tgt_vocab, self.src_lang, self.tgt_lang
        self.train = encode_pairs(self.corpus.train, sv, tv, s, t)
        self.val = encode_pairs(self.corpus.val, sv, tv, s, t)
        self.test = encode_pairs(self.corpus.test, sv, tv, s, t)
        self.keep, self.dropped = filter_lengths(
            self.train.src, self.train.tgt, self.config.max_len
        )
        if len(self.keep) == 0:
            raise ConfigError(
                f"no training pair is at most {self.config.max_len} tokens long; raise --max-len"
            )

    def _build_model(self) -> None:
        config = self.config
        self.device = torch_device(config)
        seed_everything(config.seed)  # the initial weights depend on the seed alone
        self.model = build_model(config, len(self.src_vocab), len(self.tgt_vocab)).to(self.device)
        self.optimizer = make_optimizer(self.model, config)
        self._epoch_batches: tuple[int, list[np.ndarray]] | None = None

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # -- training ---------------------------------------------------------------------------

    def batches(self, epoch: int) -> list[np.ndarray]:
        """Training pair indices per batch, grouped by source length, seeded by (seed, epoch)."""
        if self._epoch_batches is None or self._epoch_batches[0] != epoch:
            rng = np.random.default_rng([self.config.seed, epoch])
            lengths = np.array([len(self.train.src[i]) for i in self.keep], dtype=np.float64)
            groups = bucketed_batches(lengths, self.config.batch, rng)
            self._epoch_batches = (epoch, [self.keep[g] for g in groups])
        return self._epoch_batches[1]

    def start_epoch(self, epoch: int) -> None:
        pass  # sentence pairs are independent: nothing is carried between batches

    def train_step(self, batch: np.ndarray, lr: float) -> StepStats:
        import torch

        from models.seq2seq import label_smoothed_loss

        b = make_batch([self.train.src[i] for i in batch], [self.train.tgt[i] for i in batch])
        src, src_len, tgt_in, tgt_out = (
            torch.from_numpy(a).to(self.device) for a in (b.src, b.src_len, b.tgt_in, b.tgt_out)
        )
        self.model.train()
        logits = self.model(src, src_len, tgt_in, self.config.teacher_forcing)  # (B, T, V)
        loss = label_smoothed_loss(logits, tgt_out, self.config.label_smoothing)
        norm = torch_update(self.model, self.optimizer, loss, self.config.clip, lr)
        return StepStats(float(loss.detach()), norm, b.tokens)

    # -- decoding and evaluation ------------------------------------------------------------

    def decode_ids(self, sources: list[list[int]], beam: int) -> list[list[int]]:
        """Target ids for each source, decoded in length-sorted batches (beam 1: greedy)."""
        import torch

        self.model.eval()
        out: list[list[int]] = [[] for _ in sources]
        with torch.inference_mode():
            order = np.argsort([len(s) for s in sources], kind="stable")
            for start in range(0, len(order), EVAL_BATCH):
                chunk = order[start : start + EVAL_BATCH]
                ids, lens = pad_sources([sources[i] for i in chunk])
                src, src_len = torch.from_numpy(ids).to(self.device), torch.from_numpy(lens)
                limit = output_limit(int(lens.max()), self.config.max_len)
                hyps = self.model.beam_search(src, src_len, beam, limit, LENGTH_ALPHA)
                for i, hyp in zip(chunk, hyps, strict=True):
                    out[i] = hyp.ids
        return out

    def detok(self, ids: list[int]) -> str:
        """Target ids -> text (first letter capitalised for languages with case)."""
        text = detokenize(self.tgt_vocab.decode(ids), self.tgt_lang)
        return text if self.tgt_lang == "zh" else capitalize_first(text)

    def bleu(self, split: Encoded, beam: int, limit: int | None = None) -> dict[str, float]:
        """Lower-cased and cased BLEU of the first `limit` sentences of a split."""
        n = len(split.src) if limit is None else min(limit, len(split.src))
        hyps = [self.detok(ids) for ids in self.decode_ids(split.src[:n], beam)]
        refs = split.refs[:n]
        return {
            "lc": corpus_bleu(hyps, refs, self.tgt_lang, lowercase=True),
            "cased": corpus_bleu(hyps, refs, self.tgt_lang, lowercase=False),
        }

    def evaluate(self, quick: bool = False) -> dict[str, float]:
        """val_bleu (greedy); full: also test BLEU with beam search and greedy."""
        if quick:
            return {"val_bleu": self.bleu(self.val, 1, QUICK_VAL)["lc"]}
        metrics = {"val_bleu": self.bleu(self.val, 1)["lc"]}
        beam = self.config.beam
        scores = self.bleu(self.test, beam)
        metrics |= {"test_bleu": scores["lc"], "test_bleu_cased": scores["cased"]}
        if beam > 1:
            greedy = self.bleu(self.test, 1)
            metrics |= {"test_bleu_greedy": greedy["lc"], "test_bleu_greedy_cased": greedy["cased"]}
        return metrics

    # -- state ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "src_vocab": list(self.src_vocab.itos),
            "tgt_vocab": list(self.tgt_vocab.itos),
            "src_lang": self.src_lang,
            "tgt_lang": self.tgt_lang,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["src_vocab"] != self.src_vocab.itos or state["tgt_vocab"] != self.tgt_vocab.itos:
            # The data differs from the run's (another --dataset): read it with the run's words.
            self.src_vocab, self.tgt_vocab = Vocab(state["src_vocab"]), Vocab(state["tgt_vocab"])
            self._encode_splits()
            self._build_model()
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])


def build_model(config: TrainConfig, src_vocab: int, tgt_vocab: int) -> Any:
    """The `Seq2Seq` a config describes."""
    from models.seq2seq import Seq2Seq

    return Seq2Seq(
        src_vocab, tgt_vocab, config.arch, config.embed, config.hidden, config.layers,
        config.bidirectional, config.attention_type if config.attention else "none",
        config.dropout, config.backend,
    )  # fmt: skip


def create(config: TrainConfig, corpus: Corpus | None = None) -> TranslationTask:
    """The task registry's factory."""
    return TranslationTask(config, corpus=corpus)


# -- using a trained model -----------------------------------------------------------------


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


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class Translator:
    """Translates with a translation checkpoint (no data needed: the vocabularies are in it)."""

    def __init__(self, checkpoint: str | Path | dict[str, Any]) -> None:
        import torch

        payload = (
            checkpoint
            if isinstance(checkpoint, dict)
            else load_checkpoint(checkpoint, "translation")
        )
        self.config = TrainConfig.from_dict(payload["config"])
        state = payload["task_state"]
        self.src_vocab, self.tgt_vocab = Vocab(state["src_vocab"]), Vocab(state["tgt_vocab"])
        self.src_lang, self.tgt_lang = state["src_lang"], state["tgt_lang"]
        self.metrics: dict[str, float] = payload.get("metrics", {})
        self.model = build_model(self.config, len(self.src_vocab), len(self.tgt_vocab))
        self.model.load_state_dict(state["model"])
        self.model.eval()
        self.torch = torch

    @property
    def has_attention(self) -> bool:
        return self.model.attn is not None

    @property
    def source_language(self) -> str:
        return LANGUAGE_NAMES.get(self.src_lang, self.src_lang)

    @property
    def target_language(self) -> str:
        return LANGUAGE_NAMES.get(self.tgt_lang, self.tgt_lang)

    def translate(self, text: str, beam: int = 1) -> Translation:
        """Translate one sentence; beam 1 is greedy. Decoding always stops (`output_limit`).

        Raises:
            ValueError: empty text, no word in it, or a beam width below 1.
        """
        if beam < 1:
            raise ValueError(f"--beam must be a positive integer (got {beam})")
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
        limit = output_limit(len(ids), self.config.max_len)
        src, src_len = (self.torch.from_numpy(a) for a in pad_sources([ids]))
        with self.torch.inference_mode():
            hyp = self.model.beam_search(src, src_len, beam, limit, LENGTH_ALPHA)[0]
        if not hyp.finished:
            notes.append(f"the translation was cut at {limit} tokens")
        words = self.tgt_vocab.decode(hyp.ids)
        text_out = detokenize(words, self.tgt_lang)
        if self.tgt_lang != "zh":
            text_out = capitalize_first(text_out)
        attention = None
        if hyp.attention is not None:
            attention = [[round(float(v), 4) for v in row] for row in hyp.attention.tolist()]
        return Translation(tokens, words, text_out, attention, hyp.log_prob, hyp.finished,
                           unknown, notes)  # fmt: skip

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
