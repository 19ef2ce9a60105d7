"""What the text classifiers share (sentiment, names): padded id batches, the classifier, and
`ClassifierTask`, the training and evaluation both run.

`ClassifierTask` trains `models.classifier.SentimentRNN` (a general classifier over padded id
sequences) with cross-entropy:

- Batches: each epoch the training sequences are shuffled (seeded by (seed, epoch)), cut into
  pools of `pool_batches` batches, sorted by length inside a pool and cut into batches whose
  order is shuffled again, so a batch holds sequences of about the same length.
- Validation and early stopping: `end_epoch` scores all of validation; the weights with the best
  validation accuracy are kept (in memory and in every checkpoint), and ``--patience`` epochs
  without a better one end training. A full evaluation scores test with those best weights; the
  test part never chooses anything.
- A checkpoint of another data set is read with the checkpoint's vocabulary (the data is
  encoded again and the model rebuilt before the weights load).

A subclass reads its data, sets `class_names`, ``vocab``, ``device`` and the encoded parts
(``train_x``/``val_x``/``test_x``: id sequences; ``train_y``/``val_y``/``test_y``: int64 label
arrays, by `_encode_all`), builds ``model`` (`_model`) and ``optimizer``, calls
`_reset_progress`, and gives its metrics (`class_metrics`), its full report (`best_metrics`)
and how a checkpoint's vocabulary is read (`_vocab_of`).

Torch is imported inside the functions, like the rest of `tasks`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence, Sized
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np

from tasks.data.text import Vocab
from tasks.engine.base import StepStats, TaskBase, make_optimizer, shard_indices
from tasks.engine.distributed import World
from tasks.engine.precision import StepModel
from tasks.engine.settings import TrainConfig

QUICK_EVAL = 500
"""A quick estimate scores this many validation sequences (a fixed random sample)."""


def pad_batch(seqs: Sequence[Sequence[int] | np.ndarray]) -> tuple[Any, Any]:
    """Id lists or int64 arrays -> ids (B, T) padded with 0 and lengths (B,), int64 on the CPU."""
    import torch

    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    ids = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.int64)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.int64)
    return ids, lengths


def build_classifier(config: TrainConfig, vocab_size: int, classes: int) -> Any:
    """The classifier a config describes (the registry's recurrent core inside, built with
    the config's core options)."""
    from models.classifier import SentimentRNN

    return SentimentRNN(
        vocab_size, config.embed, config.hidden, config.layers, config.arch,
        config.bidirectional, config.attention, config.dropout, classes, config.backend,
        **config.core_options(),
    )  # fmt: skip


def length_buckets(
    seqs: Sequence[Sized], size: int, pool_batches: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Index arrays of batches of `size` sequences of about the same length, in a random order.

    Shuffled, cut into pools of `pool_batches` batches, sorted by length inside a pool (stable),
    cut into batches, and the batches shuffled again.
    """
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64)
    order = rng.permutation(len(lengths))
    out: list[np.ndarray] = []
    pool = size * pool_batches
    for i in range(0, len(order), pool):
        chunk = order[i : i + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out.extend(chunk[j : j + size] for j in range(0, len(chunk), size))
    return [out[k] for k in rng.permutation(len(out))]


class ClassifierTask(TaskBase, ABC):
    """Training, scoring, best weights and state of a text classifier (see the module docstring)."""

    primary_metric = "val_accuracy"
    lower_is_better = False

    pool_batches: ClassVar[int]
    """Batches per length-sorted pool (bucketing)."""
    eval_batch: ClassVar[int]
    """Sequences per batch when scoring."""
    class_names: tuple[str, ...]
    """The labels, in label order (the confusion matrix's rows and columns)."""
    class_weight: Any = None
    """Per-class loss weights (C,) on the device, or None for plain cross-entropy."""
    _step_model: StepModel | None = None

    vocab: Vocab
    device: str
    model: Any
    optimizer: Any
    train_x: list[Any]
    train_y: np.ndarray
    val_x: list[Any]
    val_y: np.ndarray
    test_x: list[Any]
    test_y: np.ndarray

    # -- set by the subclass -----------------------------------------------------------------

    @abstractmethod
    def _encode_all(self) -> None:
        """Set ``train_x``/``_y``, ``val_x``/``_y``, ``test_x``/``_y`` with ``self.vocab``."""

    @abstractmethod
    def _vocab_of(self, state: dict[str, Any]) -> Vocab:
        """The vocabulary a `state_dict` holds (after checking it fits this data)."""

    @abstractmethod
    def class_metrics(self, labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
        """Metrics of probabilities (N, C) against labels (N,): ``accuracy``, the task's other
        numbers, and ``confusion`` (rows true, columns predicted), in the order reported."""

    @abstractmethod
    def best_metrics(self) -> dict[str, Any]:
        """The full report, computed while the model holds the best weights; it holds
        ``test_confusion`` (kept for `details`, not reported)."""

    # -- setup -------------------------------------------------------------------------------

    def _model(self) -> Any:
        """A new classifier for ``self.vocab`` and `class_names`, on the device."""
        classes = len(self.class_names)
        return build_classifier(self.config, len(self.vocab), classes).to(self.device)

    def _reset_progress(self) -> None:
        """No steps taken, no best weights, no cached scores or batches."""
        self.steps = 0
        self.best_state: dict[str, Any] | None = None
        self.best_val: float | None = None
        self.bad_epochs = 0
        self._val_cache: tuple[int, dict[str, float]] | None = None
        self.confusion: list[list[int]] = []
        """Test confusion matrix of the last full evaluation (rows true, columns predicted)."""
        self._epoch_batches = None

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def step_model(self) -> StepModel:
        """How the training step runs ``model`` (DDP, compile, precision), made again whenever
        the model is rebuilt (a checkpoint of another data set)."""
        if self._step_model is None or self._step_model.model is not self.model:
            self._step_model = StepModel(self.model, self.device, self.config)
        return self._step_model

    # -- training ----------------------------------------------------------------------------

    def batches(self, epoch: int) -> Sequence[np.ndarray]:
        """Index arrays of length-bucketed batches, in an order seeded by (seed, epoch)."""
        size, pool = self.config.batch, self.pool_batches
        return self.seeded_batches(epoch, lambda rng: length_buckets(self.train_x, size, pool, rng))

    def start_epoch(self, epoch: int) -> None:
        pass  # the sequences are independent: nothing is carried between batches

    def shard(self, batch: np.ndarray, world: World) -> np.ndarray:
        """This rank's rows of a batch of indices (each rank pads its own rows)."""
        return shard_indices(batch, world)

    def train_step(self, batch: np.ndarray, lr: float) -> StepStats:
        import torch
        import torch.nn.functional as F

        ids, lengths = pad_batch([self.train_x[i] for i in batch])
        labels = torch.from_numpy(self.train_y[batch]).to(self.device)
        logits, _ = self.step_model(ids.to(self.device), lengths)  # (B, C)
        loss = F.cross_entropy(logits.float(), labels, weight=self.class_weight)
        norm = self.step_model.update(self.optimizer, loss, self.config.clip, lr)
        self.steps += 1
        return StepStats(float(loss.detach()), norm, int(lengths.sum()))

    def end_epoch(self, epoch: int) -> bool:
        """Score all of validation, keep the best weights; True when --patience has run out."""
        self._validate()
        patience = self.config.patience
        return bool(patience) and self.bad_epochs >= patience

    # -- evaluation --------------------------------------------------------------------------

    def score(
        self, seqs: Sequence[Any], labels: np.ndarray | None = None
    ) -> tuple[np.ndarray, float]:
        """Class probabilities (N, C) in input order and, with `labels`, the mean cross-entropy
        (unweighted; 0.0 without labels). Eval mode, in length-sorted batches."""
        import torch
        import torch.nn.functional as F

        order = np.argsort([len(s) for s in seqs], kind="stable")
        probs = np.zeros((len(seqs), len(self.class_names)), dtype=np.float64)
        loss = 0.0
        self.model.eval()
        with torch.inference_mode():
            for i in range(0, len(order), self.eval_batch):
                index = order[i : i + self.eval_batch]
                ids, lengths = pad_batch([seqs[k] for k in index])
                logits, _ = self.model(ids.to(self.device), lengths)
                probs[index] = torch.softmax(logits.float(), -1).cpu().numpy()
                if labels is not None:
                    target = torch.from_numpy(labels[index]).to(self.device)
                    loss += float(F.cross_entropy(logits, target, reduction="sum"))
        self.model.train()
        return probs, loss / max(len(seqs), 1)

    def _metrics(self, prefix: str, seqs: Sequence[Any], labels: np.ndarray) -> dict[str, Any]:
        """`class_metrics` rounded and named ``{prefix}_...``, with the loss before the
        confusion matrix."""
        probs, loss = self.score(seqs, labels)
        m = self.class_metrics(labels, probs)
        out = {f"{prefix}_{k}": round(v, 5) for k, v in m.items() if k != "confusion"}
        return out | {f"{prefix}_loss": round(loss, 5), f"{prefix}_confusion": m["confusion"]}

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
        """quick: part of validation; full: all of validation, then `best_metrics` with the
        best weights."""
        if quick:
            pick = np.random.default_rng(0).permutation(len(self.val_x))[:QUICK_EVAL]
            m = self._metrics("val", [self.val_x[i] for i in pick], self.val_y[pick])
            return {"val_accuracy": m["val_accuracy"], "val_loss": m["val_loss"]}
        self._validate()
        with self._best_weights():
            metrics = self.best_metrics()
        self.confusion = metrics.pop("test_confusion")
        return metrics

    def details(self) -> dict[str, Any]:
        """The test confusion matrix of the last full evaluation, with its labels."""
        return {
            "confusion_matrix": {
                "rows": "true label",
                "columns": "predicted",
                "labels": list(self.class_names),
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

    # -- state -------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "best_model": self.best_state or self.model.state_dict(),
            "best_val": self.best_val,
            "bad_epochs": self.bad_epochs,
            "steps": self.steps,
            "vocab": list(self.vocab.itos),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        vocab = self._vocab_of(state)
        if vocab.itos != self.vocab.itos:  # another data set: read it with the model's vocabulary
            self.vocab = vocab
            self._encode_all()
            self.model = self._model()
            self.optimizer = make_optimizer(self.model, self.config)
            self._epoch_batches = None
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.best_state = state["best_model"]
        self.best_val = state["best_val"]
        self.bad_epochs = state["bad_epochs"]
        self.steps = state["steps"]
        self._val_cache = None
