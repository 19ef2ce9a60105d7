"""Surname -> language: a character RNN/LSTM/GRU classifier over the names of 18 languages.

Data (`tasks.names.data`): a folder of ``<Language>.txt`` files, folded to lower-case ASCII,
de-duplicated and split by name, stratified by language (``--val-fraction``,
``--test-fraction``, ``--split-seed``). Characters: the training names' alphabet, plus
``<pad>`` (0) and ``<unk>`` (1).

Model: `models.classifier.SentimentRNN`, which is a general classifier over padded id
sequences (embedding, a uni- or bidirectional recurrent encoder exact on right padding, last
state or attention + max pooling, a linear head), here with one output per language.

Batches: each epoch the training names are shuffled (seeded by (seed, epoch)), cut into pools
of `POOL_BATCHES` batches, sorted by length inside a pool and cut into batches whose order is
shuffled again, so a batch holds names of about the same length.

Loss: cross-entropy; ``--class-weights`` weights each language by ``N / (C * n_c)`` over the
training names (scikit-learn's "balanced"), so rare languages count as much as Russian.

Validation and early stopping: after every epoch all of validation is scored and the weights
with the best validation accuracy are kept; ``--patience`` epochs without a better one end
training. A full evaluation reports validation accuracy and macro-F1 and the test metrics of
the best weights (``test_accuracy``, ``test_macro_f1``); `details` gives the test confusion
matrix. The test part never chooses anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from tasks.data.text import Vocab
from tasks.engine.base import (
    StepStats,
    TaskBase,
    make_optimizer,
    seed_everything,
    torch_device,
    torch_update,
)
from tasks.engine.settings import ConfigError
from tasks.names.data import NameSet, build_vocab, encode, load_names
from tasks.names.settings import NamesSettings

POOL_BATCHES = 20
"""Batches per length-sorted pool (bucketing)."""
EVAL_BATCH = 512
QUICK_EVAL_NAMES = 500
"""A quick estimate scores this many validation names (a fixed random sample)."""


def pad_batch(seqs: list[list[int]]) -> tuple[Any, Any]:
    """Id lists -> ids (B, T) padded with 0 and lengths (B,), int64 on the CPU."""
    import torch

    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    ids = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.int64)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.int64)
    return ids, lengths


def classification_metrics(labels: np.ndarray, predictions: np.ndarray, classes: int) -> dict:
    """Accuracy, macro-F1 and the confusion matrix (rows true, columns predicted).

    Macro-F1 averages the F1 of every class that occurs in `labels` or `predictions` (as
    scikit-learn's ``f1_score(average="macro")``); a class never predicted scores F1 0.
    """
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    true_positive = np.diag(confusion).astype(np.float64)
    predicted, actual = confusion.sum(0), confusion.sum(1)
    denominator = predicted + actual
    f1 = np.divide(2 * true_positive, denominator, out=np.zeros(classes), where=denominator > 0)
    present = denominator > 0
    return {
        "accuracy": float(true_positive.sum() / max(len(labels), 1)),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "confusion": confusion.tolist(),
    }


def build_model(config: NamesSettings, vocab_size: int, classes: int) -> Any:
    """The classifier a config describes (the registry's recurrent core inside)."""
    from models.classifier import SentimentRNN

    return SentimentRNN(
        vocab_size, config.embed, config.hidden, config.layers, config.arch,
        config.bidirectional, config.attention, config.dropout, classes, config.backend,
    )  # fmt: skip


class NamesTask(TaskBase):
    """The names task for rnn, lstm and gru (see the module docstring)."""

    name = "names"
    primary_metric = "val_accuracy"
    lower_is_better = False

    def __init__(self, config: NamesSettings, data: NameSet | None = None) -> None:
        config.validate()
        self.config = config
        self.data = data if data is not None else load_names(
            config.dataset, config.split_seed, config.val_fraction, config.test_fraction
        )  # fmt: skip
        if not self.data.val or not self.data.test:
            raise ConfigError(
                f"{self.data.name} is too small to hold out validation and test names "
                "(give each language at least three names)"
            )
        self.dataset_note = "; ".join(filter(None, (self.data.note, self.data.describe())))
        self.languages = self.data.languages
        self.vocab = build_vocab([n for n, _ in self.data.train])
        self._encode_all()
        self.device = torch_device(config)
        seed_everything(config.seed)  # the initial weights depend on the seed alone
        self.model = build_model(config, len(self.vocab), len(self.languages)).to(self.device)
        self.optimizer = make_optimizer(self.model, config)
        self.class_weight = self._class_weight() if config.class_weights else None
        self.steps = 0
        self.best_state: dict[str, Any] | None = None
        self.best_val: float | None = None
        self.bad_epochs = 0
        self._val_cache: tuple[int, dict[str, float]] | None = None
        self.confusion: list[list[int]] = []
        """Test confusion matrix of the last full evaluation (rows true, columns predicted)."""
        self._epoch_batches: tuple[int, list[np.ndarray]] | None = None

    def _encode_all(self) -> None:
        """Encode the three parts with `self.vocab` (names cut to --seq-len characters)."""
        limit = self.config.seq_len
        for part in ("train", "val", "test"):
            examples = getattr(self.data, part)
            ids = [encode(n, self.vocab)[:limit] for n, _ in examples]
            labels = np.asarray([y for _, y in examples], dtype=np.int64)
            setattr(self, f"{part}_x", ids)
            setattr(self, f"{part}_y", labels)

    def _class_weight(self) -> Any:
        """``N / (C * n_c)`` per language over the training names (0 for one with none)."""
        import torch

        counts = np.bincount(self.train_y, minlength=len(self.languages)).astype(np.float64)
        weight = np.divide(
            len(self.train_y), len(self.languages) * counts, out=np.zeros_like(counts),
            where=counts > 0,
        )  # fmt: skip
        return torch.tensor(weight, dtype=torch.float32, device=self.device)

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
        pass  # names are independent: nothing is carried between batches

    def train_step(self, batch: np.ndarray, lr: float) -> StepStats:
        import torch
        import torch.nn.functional as F

        ids, lengths = pad_batch([self.train_x[i] for i in batch])
        labels = torch.from_numpy(self.train_y[batch]).to(self.device)
        logits, _ = self.model(ids.to(self.device), lengths)  # (B, C)
        loss = F.cross_entropy(logits, labels, weight=self.class_weight)
        norm = torch_update(self.model, self.optimizer, loss, self.config.clip, lr)
        self.steps += 1
        return StepStats(float(loss.detach()), norm, int(lengths.sum()))

    def end_epoch(self, epoch: int) -> bool:
        """Score all of validation, keep the best weights; True when --patience has run out."""
        self._validate()
        patience = self.config.patience
        return bool(patience) and self.bad_epochs >= patience

    # -- evaluation -------------------------------------------------------------------------

    def probabilities(self, seqs: list[list[int]]) -> np.ndarray:
        """Language probabilities (N, C) of id sequences, in input order (eval mode)."""
        import torch

        order = np.argsort([len(s) for s in seqs], kind="stable")
        probs = np.zeros((len(seqs), len(self.languages)), dtype=np.float64)
        self.model.eval()
        with torch.inference_mode():
            for i in range(0, len(order), EVAL_BATCH):
                index = order[i : i + EVAL_BATCH]
                ids, lengths = pad_batch([seqs[k] for k in index])
                logits, _ = self.model(ids.to(self.device), lengths)
                probs[index] = torch.softmax(logits.float(), -1).cpu().numpy()
        self.model.train()
        return probs

    def _metrics(self, prefix: str, seqs: list[list[int]], labels: np.ndarray) -> dict[str, Any]:
        probs = self.probabilities(seqs)
        m = classification_metrics(labels, probs.argmax(1), len(self.languages))
        picked = probs[np.arange(len(labels)), labels]
        loss = float(-np.log(np.clip(picked, 1e-12, None)).mean())
        return {
            f"{prefix}_accuracy": round(m["accuracy"], 5),
            f"{prefix}_macro_f1": round(m["macro_f1"], 5),
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
        """quick: part of validation; full: all of validation and test, with the best weights."""
        if quick:
            pick = np.random.default_rng(0).permutation(len(self.val_x))[:QUICK_EVAL_NAMES]
            m = self._metrics("val", [self.val_x[i] for i in pick], self.val_y[pick])
            return {"val_accuracy": m["val_accuracy"], "val_loss": m["val_loss"]}
        self._validate()
        with self._best_weights():
            val = self._metrics("val", self.val_x, self.val_y)
            test = self._metrics("test", self.test_x, self.test_y)
        val.pop("val_confusion")
        self.confusion = test.pop("test_confusion")
        return val | test

    def details(self) -> dict[str, Any]:
        """The test confusion matrix of the last full evaluation, with its labels."""
        return {
            "confusion_matrix": {
                "rows": "true label",
                "columns": "predicted",
                "labels": list(self.languages),
                "matrix": self.confusion,
            }
        }

    @contextmanager
    def _best_weights(self) -> Iterator[None]:
        """The model holds the best-on-validation weights inside the block."""
        current = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        try:
            yield
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
            "languages": list(self.languages),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        languages = tuple(state["languages"])
        if languages != self.languages:
            raise ConfigError(
                f"the checkpoint knows {len(languages)} languages ({', '.join(languages)}); "
                f"{self.data.name} has {len(self.languages)} ({', '.join(self.languages)})"
            )
        vocab = Vocab(tuple(state["vocab"]), "chars")
        if vocab.itos != self.vocab.itos:  # another data set: read it with the model's alphabet
            self.vocab = vocab
            self._encode_all()
            self.model = build_model(self.config, len(vocab), len(languages)).to(self.device)
            self.optimizer = make_optimizer(self.model, self.config)
            self._epoch_batches = None
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.best_state = state["best_model"]
        self.best_val = state["best_val"]
        self.bad_epochs = state["bad_epochs"]
        self.steps = state["steps"]
        self._val_cache = None


def create(config: NamesSettings, data: NameSet | None = None) -> NamesTask:
    """The task registry's factory."""
    return NamesTask(config, data=data)
