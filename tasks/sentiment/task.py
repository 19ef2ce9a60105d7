"""Sentiment analysis: reviews -> tokens -> an RNN with last-state or attention pooling -> label.

Data (see `tasks.data.text`): IMDB, rt-polarity, ChnSentiCorp or a local copy in one of their
formats, split into train, validation and test. The vocabulary is built on the training part
only: the ``--vocab-size`` most frequent tokens seen at least ``--min-freq`` times, plus
``<pad>`` (0) and ``<unk>`` (1). A text longer than ``--seq-len`` tokens keeps its first quarter
and its last three quarters of that length (reviews tend to end with the verdict).

Training and evaluation are `tasks.engine.classification.ClassifierTask`'s: each epoch the
training texts are shuffled (seeded by (seed, epoch)) and cut into length-bucketed batches
(`POOL_BATCHES` a pool), so padding costs little; the model reads right-padded batches exactly,
so padding never changes a result. After every epoch the whole validation part is scored; the
weights with the best validation accuracy so far are kept (in memory and in every checkpoint),
and ``--patience`` epochs without a better one end training. A full evaluation reports the best
validation accuracy and the test metrics of those best weights: ``test_accuracy``, ``test_f1``
(F1 of the positive class) and, in `details`, the confusion matrix. The test part is never used
to choose anything.

Word vectors: ``--word-vectors CORPUS`` starts the embeddings of the words seen in CORPUS (a
review data set, its texts only) from count-based vectors (`tasks.sentiment.word_vectors`);
e.g. imdb for rt-polarity, whose 8.5k training sentences are too few to learn good embeddings from.

Transfer: ``--init-from CHECKPOINT`` starts from another sentiment run's best weights and keeps
its vocabulary (e.g. a short-snippet data set starting from a model trained on IMDB); the model
shape must match.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tasks.data.text import ReviewSet, Vocab, load_reviews, token_strings, truncate
from tasks.engine.base import make_optimizer, seed_everything, torch_device
from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.classification import ClassifierTask
from tasks.engine.settings import ConfigError, TrainConfig

LABELS = ("negative", "positive")
POOL_BATCHES = 50
"""Batches per length-sorted pool (bucketing)."""
EVAL_BATCH = 256


def encode_texts(texts: list[str], vocab: Vocab, max_len: int) -> list[np.ndarray]:
    """Texts -> truncated int64 id arrays; an empty text becomes one ``<unk>``."""
    out = []
    for text in texts:
        ids = truncate(vocab.encode(token_strings(text, vocab.kind)), max_len) or [1]
        out.append(np.asarray(ids, dtype=np.int64))
    return out


def binary_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
    """Accuracy, F1 of the positive class and the confusion matrix [[TN, FP], [FN, TP]]."""
    tp = int(((predictions == 1) & (labels == 1)).sum())
    tn = int(((predictions == 0) & (labels == 0)).sum())
    fp = int(((predictions == 1) & (labels == 0)).sum())
    fn = int(((predictions == 0) & (labels == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = (tp + tn) / max(len(labels), 1)
    return {"accuracy": accuracy, "f1": f1, "confusion": [[tn, fp], [fn, tp]]}


class SentimentTask(ClassifierTask):
    """The sentiment task for the architectures of its settings (see the module docstring)."""

    name = "sentiment"
    pool_batches = POOL_BATCHES
    eval_batch = EVAL_BATCH
    class_names = LABELS

    def __init__(self, config: TrainConfig, data: ReviewSet | None = None) -> None:
        if config.layers > 3:
            raise ConfigError(f"sentiment supports 1 to 3 --layers (got {config.layers})")
        config.validate()
        if config.word_vectors and config.init_from:
            raise ConfigError("--word-vectors and --init-from both set the embeddings: use one")
        self.config = config
        self.data = data if data is not None else load_reviews(config.dataset)
        self.dataset_note = self.data.note
        start = _start_from(config) if config.init_from else None
        if start is not None:
            self.vocab = Vocab(tuple(start["vocab"]), start["tokenizer"])
        else:
            self.vocab = Vocab.build(
                (token_strings(t, self.data.tokenizer) for t, _ in self.data.train),
                config.vocab_size, config.min_freq, self.data.tokenizer,
            )  # fmt: skip
        self._encode_all()
        if not self.val_x or not self.test_x:
            raise ConfigError(
                f"{self.data.name} is too small to hold out validation and test texts"
            )
        self.device = torch_device(config)
        seed_everything(config.seed)  # the initial weights depend on the seed alone
        self.model = self._model()
        if start is not None:
            self.model.load_state_dict(start["best_model"])
        if config.word_vectors:
            self.dataset_note = "; ".join(filter(None, (self.dataset_note, self._word_vectors())))
        self.optimizer = make_optimizer(self.model, config)
        self._reset_progress()

    def _word_vectors(self) -> str:
        """Fill the embedding from `--word-vectors`; one line saying how many words got one."""
        from tasks.sentiment.word_vectors import fill_embedding, learned_vectors

        source = str(self.config.word_vectors)
        vectors, counts = learned_vectors(
            source, self.config.dataset, [t for t, _ in self.data.train], self.vocab.itos,
            self.config.embed, self.data.tokenizer,
        )  # fmt: skip
        filled = fill_embedding(self.model.embedding.weight, vectors, counts, pad_id=0)
        return f"word vectors from {source} for {filled:,} of {len(self.vocab):,} tokens"

    def _encode_all(self) -> None:
        """Encode the three parts with `self.vocab` (texts truncated to --seq-len tokens)."""
        for part in ("train", "val", "test"):
            examples = getattr(self.data, part)
            ids = encode_texts([t for t, _ in examples], self.vocab, self.config.seq_len)
            setattr(self, f"{part}_x", ids)
            setattr(self, f"{part}_y", np.asarray([y for _, y in examples], dtype=np.int64))

    # -- evaluation -------------------------------------------------------------------------

    def class_metrics(self, labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
        """Accuracy, F1 of positive and [[TN, FP], [FN, TP]], positive at probability >= 0.5."""
        return binary_metrics(labels, (probs[:, 1] >= 0.5).astype(np.int64))

    def best_metrics(self) -> dict[str, Any]:
        """The best validation accuracy and the test metrics."""
        return {"val_accuracy": float(self.best_val or 0.0)} | self._metrics(
            "test", self.test_x, self.test_y
        )

    # -- state ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return super().state_dict() | {"tokenizer": self.vocab.kind}

    def _vocab_of(self, state: dict[str, Any]) -> Vocab:
        return Vocab(tuple(state["vocab"]), state["tokenizer"])


SHAPE_FIELDS = (
    "arch", "layers", "hidden", "embed", "bidirectional", "attention", "block", "state_size",
    "heads",
)  # fmt: skip
"""Settings a checkpoint given to --init-from must share with the new run (a setting its
config lacks, from before the setting existed, has the default)."""


def _start_from(config: TrainConfig) -> dict[str, Any]:
    """The task state of the --init-from checkpoint, after checking that its model fits."""
    payload = load_checkpoint(str(config.init_from), "sentiment")
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    theirs = defaults | payload["config"]
    differ = [f for f in SHAPE_FIELDS if theirs[f] != getattr(config, f)]
    if differ:
        shown = ", ".join(
            (f"--{flag}" if theirs[f] else f"--no-{flag}")
            if isinstance(theirs[f], bool)
            else f"--{flag} {theirs[f]}"
            for f, flag in ((f, f.replace("_", "-")) for f in differ)
        )
        raise ConfigError(f"--init-from {config.init_from} has another model shape: use {shown}")
    return payload["task_state"]


def create(config: TrainConfig, data: ReviewSet | None = None) -> SentimentTask:
    """The task registry's factory."""
    return SentimentTask(config, data=data)
