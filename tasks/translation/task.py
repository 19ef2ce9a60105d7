"""Translation: sentence pairs -> an encoder-decoder (with attention) -> BLEU.

Data (see `tasks.data.parallel`): Multi30k (de-en, en-de), Tatoeba Chinese-English and
French-English; lower-cased tokens, one vocabulary per side (tokens seen fewer than
``--min-freq`` times become ``<unk>``), training pairs longer than ``--max-len`` tokens dropped
(the count is reported; validation and test are never filtered). Batches group sentences of
similar length.

Model (`models.seq2seq.Seq2Seq`): a (bidirectional) encoder and a Luong decoder of the same
architecture (GRU, LSTM or a modern core, in residual blocks with ``--block``) with dot or
additive attention, or none; trained with cross-entropy (optionally label-smoothed) under
teacher forcing (``--teacher-forcing`` below 1 feeds the model's own guesses).

Metrics: ``val_bleu`` (greedy; the quick estimate reads the first `QUICK_VAL` sentences) picks
the best checkpoint; at the end ``test_bleu`` and ``test_bleu_cased`` decode the test split with
beam search of width ``--beam`` (greedy when 1), ``test_bleu_greedy`` with greedy decoding.
BLEU is sacreBLEU on detokenized output (`tasks.translation.bleu`), lower-cased for the headline
number; its signature is in the run's dataset note.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tasks.data.parallel import (
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
from tasks.engine.base import (
    StepStats,
    TaskBase,
    make_optimizer,
    seed_everything,
    shard_indices,
    torch_device,
)
from tasks.engine.distributed import World
from tasks.engine.precision import StepModel
from tasks.engine.settings import ConfigError, TrainConfig
from tasks.translation.bleu import corpus_bleu, signature
from tasks.translation.settings import TranslationSettings

QUICK_VAL = 200
"""Validation sentences the quick (during training) BLEU estimate decodes."""
EVAL_BATCH = 128
"""Sentences per batch in greedy evaluation."""
LENGTH_ALPHA = 1.0
"""Beam search length normalisation: log p / ((5 + len) / 6) ** alpha."""


def output_limit(source_tokens: int, max_len: int) -> int:
    """The longest output decoded for a source: 1.5 x its length + 10, at most 3 x max_len."""
    return min(int(1.5 * source_tokens) + 10, 3 * max_len)


class TranslationTask(TaskBase):
    """The translation task (see the module docstring)."""

    name = "translation"
    primary_metric = "val_bleu"
    lower_is_better = False

    def __init__(self, config: TrainConfig, corpus: Corpus | None = None) -> None:
        if config.arch not in TranslationSettings.ARCHS:
            archs = ", ".join(TranslationSettings.ARCHS)
            raise ConfigError(f"translation supports --arch {archs} (got {config.arch!r})")
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
        self.step_model = StepModel(self.model, self.device, config)
        self._epoch_batches = None  # the pairs were (re)encoded: batch them again

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # -- training ---------------------------------------------------------------------------

    def batches(self, epoch: int) -> Sequence[np.ndarray]:
        """Training pair indices per batch, grouped by source length, seeded by (seed, epoch)."""

        def groups(rng: np.random.Generator) -> list[np.ndarray]:
            lengths = np.array([len(self.train.src[i]) for i in self.keep], dtype=np.float64)
            return [self.keep[g] for g in bucketed_batches(lengths, self.config.batch, rng)]

        return self.seeded_batches(epoch, groups)

    def start_epoch(self, epoch: int) -> None:
        pass  # sentence pairs are independent: nothing is carried between batches

    def shard(self, batch: np.ndarray, world: World) -> np.ndarray:
        """This rank's pairs of a batch (each rank pads its own). Its loss is the mean over
        its target tokens, so the ranks' mean is the batch's token mean when their shards
        hold as many tokens (nearly so: a batch groups sentences of similar length)."""
        return shard_indices(batch, world)

    def train_step(self, batch: np.ndarray, lr: float) -> StepStats:
        import torch

        from models.seq2seq import label_smoothed_loss

        b = make_batch([self.train.src[i] for i in batch], [self.train.tgt[i] for i in batch])
        src, src_len, tgt_in, tgt_out = (
            torch.from_numpy(a).to(self.device) for a in (b.src, b.src_len, b.tgt_in, b.tgt_out)
        )
        self.model.train()
        logits = self.step_model(src, src_len, tgt_in, self.config.teacher_forcing)  # (B, T, V)
        loss = label_smoothed_loss(logits.float(), tgt_out, self.config.label_smoothing)
        norm = self.step_model.update(self.optimizer, loss, self.config.clip, lr)
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
    """The `Seq2Seq` a config describes (IndRNN bounded for sentences of ``max_len`` tokens)."""
    from models.seq2seq import Seq2Seq

    core = config.core_options()
    if "horizon" in core:
        core["horizon"] = config.max_len
    return Seq2Seq(
        src_vocab, tgt_vocab, config.arch, config.embed, config.hidden, config.layers,
        config.bidirectional, config.attention_type if config.attention else "none",
        config.dropout, config.backend, **core,
    )  # fmt: skip


def create(config: TrainConfig, corpus: Corpus | None = None) -> TranslationTask:
    """The task registry's factory."""
    return TranslationTask(config, corpus=corpus)
