"""Sentiment analysis: reviews -> tokens -> an RNN with last-state or attention pooling -> label.

Data (see `tasks.data.text`): IMDB, rt-polarity, ChnSentiCorp or a local copy in one of their
formats, split into train, validation and test. The vocabulary is built on the training part
only: the ``--vocab-size`` most frequent tokens seen at least ``--min-freq`` times, plus
``<pad>`` (0) and ``<unk>`` (1). A text longer than ``--seq-len`` tokens keeps its first quarter
and its last three quarters of that length (reviews tend to end with the verdict).

Batches: each epoch the training texts are shuffled (seeded by (seed, epoch)), cut into pools of
`POOL_BATCHES` batches, sorted by length inside a pool and cut into batches, whose order is
shuffled again; so a batch holds texts of similar length and padding costs little. The model
reads packed sequences, so padding never changes a result.

Validation and early stopping: after every epoch the whole validation part is scored; the
weights with the best validation accuracy so far are kept (in memory and in every checkpoint),
and ``--patience`` epochs without a better one end training. A full evaluation reports the
validation metrics and the test metrics of those best weights: ``test_accuracy``, ``test_f1``
(F1 of the positive class) and, in `report`, the confusion matrix. The test part is never used
to choose anything.

Word vectors: ``--word-vectors CORPUS`` starts the embeddings of the words seen in CORPUS (a
review data set, its texts only) from count-based vectors (`tasks.sentiment.word_vectors`);
e.g. imdb for rt-polarity, whose 8.5k training sentences are too few to learn good embeddings from.

Transfer: ``--init-from CHECKPOINT`` starts from another sentiment run's best weights and keeps
its vocabulary (e.g. a short-snippet data set starting from a model trained on IMDB); the model
shape must match.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tasks.data.text import ReviewSet, Vocab, load_reviews, token_strings, truncate
from tasks.engine.base import (
    StepStats,
    TaskBase,
    make_optimizer,
    seed_everything,
    torch_device,
    torch_update,
)
from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.settings import ConfigError, TrainConfig

LABELS = ("negative", "positive")
POOL_BATCHES = 50
"""Batches per length-sorted pool (bucketing)."""
EVAL_BATCH = 256
QUICK_EVAL_TEXTS = 500
"""A quick estimate scores this many validation texts (a fixed random sample)."""


def encode_texts(texts: list[str], vocab: Vocab, max_len: int) -> list[np.ndarray]:
    """Texts -> truncated int64 id arrays; an empty text becomes one ``<unk>``."""
    out = []
    for text in texts:
        ids = truncate(vocab.encode(token_strings(text, vocab.kind)), max_len) or [1]
        out.append(np.asarray(ids, dtype=np.int64))
    return out


def pad_batch(seqs: list[np.ndarray]) -> tuple[Any, Any]:
    """Id arrays -> ids (B, T) padded with 0 and lengths (B,) int64 on the CPU."""
    import torch

    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    ids = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.int64)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.from_numpy(seq)
    return ids, lengths


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


def build_model(config: TrainConfig, vocab_size: int) -> Any:
    """The classifier a config describes (the registry's recurrent core inside)."""
    from models.classifier import SentimentRNN

    return SentimentRNN(
        vocab_size, config.embed, config.hidden, config.layers, config.arch,
        config.bidirectional, config.attention, config.dropout, len(LABELS), config.backend,
    )  # fmt: skip


class SentimentTask(TaskBase):
    """The sentiment task for rnn, lstm and gru (see the module docstring)."""

    name = "sentiment"
    primary_metric = "val_accuracy"
    lower_is_better = False

    def __init__(self, config: TrainConfig, data: ReviewSet | None = None) -> None:
        if config.arch not in ("rnn", "lstm", "gru"):
            raise ConfigError(f"sentiment supports --arch rnn, lstm, gru (got {config.arch!r})")
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
        self.train_x, self.train_y = self._encode(self.data.train)
        self.val_x, self.val_y = self._encode(self.data.val)
        self.test_x, self.test_y = self._encode(self.data.test)
        if not self.val_x or not self.test_x:
            raise ConfigError(
                f"{self.data.name} is too small to hold out validation and test texts"
            )
        self.device = torch_device(config)
        seed_everything(config.seed)  # the initial weights depend on the seed alone
        self.model = build_model(config, len(self.vocab)).to(self.device)
        if start is not None:
            self.model.load_state_dict(start["best_model"])
        if config.word_vectors:
            self.dataset_note = "; ".join(filter(None, (self.dataset_note, self._word_vectors())))
        self.optimizer = make_optimizer(self.model, config)
        self.steps = 0
        self.best_state: dict[str, Any] | None = None
        self.best_val: float | None = None
        self.bad_epochs = 0
        self._val_cache: tuple[int, dict[str, float]] | None = None
        self.confusion: list[list[int]] = []
        """Test confusion matrix [[TN, FP], [FN, TP]] of the last full evaluation."""
        self._epoch_batches: tuple[int, list[np.ndarray]] | None = None

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

    def _encode(self, examples: list[tuple[str, int]]) -> tuple[list[np.ndarray], np.ndarray]:
        ids = encode_texts([t for t, _ in examples], self.vocab, self.config.seq_len)
        return ids, np.asarray([y for _, y in examples], dtype=np.int64)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # -- training ---------------------------------------------------------------------------

    def batches(self, epoch: int) -> list[np.ndarray]:
        """Index arrays of length-bucketed batches, in an order seeded by (seed, epoch)."""
        if self._epoch_batches is None or self._epoch_batches[0] != epoch:
            rng = np.random.default_rng([self.config.seed, epoch])
            size = self.config.batch
            lengths = np.fromiter((len(s) for s in self.train_x), dtype=np.int64)
            order = rng.permutation(len(self.train_x))
            out: list[np.ndarray] = []
            pool = size * POOL_BATCHES
            for i in range(0, len(order), pool):
                chunk = order[i : i + pool]
                chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
                out.extend(chunk[j : j + size] for j in range(0, len(chunk), size))
            self._epoch_batches = (epoch, [out[k] for k in rng.permutation(len(out))])
        return self._epoch_batches[1]

    def start_epoch(self, epoch: int) -> None:
        pass  # texts are independent: nothing is carried between batches

    def train_step(self, batch: np.ndarray, lr: float) -> StepStats:
        import torch
        import torch.nn.functional as F

        ids, lengths = pad_batch([self.train_x[i] for i in batch])
        labels = torch.from_numpy(self.train_y[batch]).to(self.device)
        logits, _ = self.model(ids.to(self.device), lengths)  # (B, C)
        loss = F.cross_entropy(logits, labels)
        norm = torch_update(self.model, self.optimizer, loss, self.config.clip, lr)
        self.steps += 1
        return StepStats(float(loss.detach()), norm, int(lengths.sum()))

    def end_epoch(self, epoch: int) -> bool:
        """Score all of validation, keep the best weights; True when --patience has run out."""
        self._validate()
        patience = self.config.patience
        return bool(patience) and self.bad_epochs >= patience

    # -- evaluation -------------------------------------------------------------------------

    def _score(self, seqs: list[np.ndarray], labels: np.ndarray | None) -> tuple[np.ndarray, float]:
        """Positive-class probabilities (N,) in input order and the mean cross-entropy."""
        import torch
        import torch.nn.functional as F

        order = np.argsort([len(s) for s in seqs], kind="stable")
        probs = np.zeros(len(seqs))
        loss = 0.0
        self.model.eval()
        with torch.inference_mode():
            for i in range(0, len(order), EVAL_BATCH):
                index = order[i : i + EVAL_BATCH]
                ids, lengths = pad_batch([seqs[k] for k in index])
                logits, _ = self.model(ids.to(self.device), lengths)
                probs[index] = torch.softmax(logits.float(), -1)[:, 1].cpu().numpy()
                if labels is not None:
                    target = torch.from_numpy(labels[index]).to(self.device)
                    loss += float(F.cross_entropy(logits, target, reduction="sum"))
        self.model.train()
        return probs, loss / max(len(seqs), 1)

    def _metrics(self, prefix: str, seqs: list[np.ndarray], labels: np.ndarray) -> dict[str, Any]:
        probs, loss = self._score(seqs, labels)
        m = binary_metrics(labels, (probs >= 0.5).astype(np.int64))
        return {
            f"{prefix}_accuracy": round(m["accuracy"], 5),
            f"{prefix}_f1": round(m["f1"], 5),
            f"{prefix}_loss": round(loss, 5),
            f"{prefix}_confusion": m["confusion"],
        }

    def _validate(self) -> dict[str, float]:
        """Validation metrics of the current weights (once per step); updates the best weights."""
        if self._val_cache is not None and self._val_cache[0] == self.steps:
            return self._val_cache[1]
        metrics = self._metrics("val", self.val_x, self.val_y)
        metrics.pop("val_confusion")
        accuracy = metrics["val_accuracy"]
        if self.best_val is None or accuracy > self.best_val:
            self.best_val, self.bad_epochs = accuracy, 0
            self.best_state = {
                k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()
            }
        else:
            self.bad_epochs += 1
        self._val_cache = (self.steps, metrics)
        return metrics

    def evaluate(self, quick: bool = False) -> dict[str, float]:
        """quick: part of validation; full: all of validation, then test on the best weights."""
        if quick:
            pick = np.random.default_rng(0).permutation(len(self.val_x))[:QUICK_EVAL_TEXTS]
            m = self._metrics("val", [self.val_x[i] for i in pick], self.val_y[pick])
            return {"val_accuracy": m["val_accuracy"], "val_loss": m["val_loss"]}
        self._validate()
        report = self._test_best()
        self.confusion = report.pop("test_confusion")
        return {"val_accuracy": float(self.best_val or 0.0), **report}

    def details(self) -> dict[str, Any]:
        """What the last full evaluation found besides its numbers: the test confusion matrix."""
        return {
            "confusion_matrix": {
                "rows": "true label",
                "columns": "predicted",
                "labels": list(LABELS),
                "matrix": self.confusion,
            }
        }

    def _test_best(self) -> dict[str, Any]:
        """Test metrics of the best weights, with the confusion matrix [[TN, FP], [FN, TP]]."""
        current = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        try:
            return self._metrics("test", self.test_x, self.test_y)
        finally:
            self.model.load_state_dict(current)

    # -- state ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "best_model": self.best_state or self.model.state_dict(),
            "best_val": self.best_val,
            "bad_epochs": self.bad_epochs,
            "steps": self.steps,
            "vocab": list(self.vocab.itos),
            "tokenizer": self.vocab.kind,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        vocab = Vocab(tuple(state["vocab"]), state["tokenizer"])
        if vocab.itos != self.vocab.itos:  # another data set: read it with the model's vocabulary
            self.vocab = vocab
            self.train_x, self.train_y = self._encode(self.data.train)
            self.val_x, self.val_y = self._encode(self.data.val)
            self.test_x, self.test_y = self._encode(self.data.test)
            self.model = build_model(self.config, len(vocab)).to(self.device)
            self.optimizer = make_optimizer(self.model, self.config)
            self._epoch_batches = None
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.best_state = state["best_model"]
        self.best_val = state["best_val"]
        self.bad_epochs = state["bad_epochs"]
        self.steps = state["steps"]
        self._val_cache = None


SHAPE_FIELDS = ("arch", "layers", "hidden", "embed", "bidirectional", "attention")
"""Settings a checkpoint given to --init-from must share with the new run."""


def _start_from(config: TrainConfig) -> dict[str, Any]:
    """The task state of the --init-from checkpoint, after checking that its model fits."""
    payload = load_checkpoint(str(config.init_from), "sentiment")
    theirs = payload["config"]
    differ = [f for f in SHAPE_FIELDS if theirs.get(f) != getattr(config, f)]
    if differ:
        shown = ", ".join(
            (f"--{f}" if theirs.get(f) else f"--no-{f}")
            if isinstance(theirs.get(f), bool)
            else f"--{f} {theirs.get(f)}"
            for f in differ
        )
        raise ConfigError(f"--init-from {config.init_from} has another model shape: use {shown}")
    return payload["task_state"]


def create(config: TrainConfig, data: ReviewSet | None = None) -> SentimentTask:
    """The task registry's factory."""
    return SentimentTask(config, data=data)
