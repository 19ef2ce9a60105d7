"""Surname -> language: a character RNN classifier (any core) over the names of 18 languages.

Data (`tasks.names.data`): a folder of ``<Language>.txt`` files, folded to lower-case ASCII,
de-duplicated and split by name, stratified by language (``--val-fraction``,
``--test-fraction``, ``--split-seed``). Characters: the training names' alphabet, plus
``<pad>`` (0) and ``<unk>`` (1).

Model: `models.classifier.SentimentRNN`, which is a general classifier over padded id
sequences (embedding, a uni- or bidirectional recurrent encoder exact on right padding, last
state or attention + max pooling, a linear head), here with one output per language.

Training and evaluation are `tasks.engine.classification.ClassifierTask`'s: length-bucketed
batches (`POOL_BATCHES` a pool), scoring in batches of `EVAL_BATCH`, the best-on-validation
weights kept and early stopping.

Loss: cross-entropy; ``--class-weights`` weights each language by ``N / (C * n_c)`` over the
training names (scikit-learn's "balanced"), so rare languages count as much as Russian.

Validation and early stopping: after every epoch all of validation is scored and the weights
with the best validation accuracy are kept; ``--patience`` epochs without a better one end
training. A full evaluation reports validation accuracy and macro-F1 and the test metrics of
the best weights (``test_accuracy``, ``test_macro_f1``), beside ``majority_accuracy`` (always
answering the most frequent training language); `details` gives the test confusion matrix.
The test part never chooses anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tasks.data.text import Vocab
from tasks.engine.base import make_optimizer, seed_everything, torch_device
from tasks.engine.classification import ClassifierTask
from tasks.engine.settings import ConfigError
from tasks.names.data import NameSet, build_vocab, encode, load_names
from tasks.names.settings import NamesSettings

POOL_BATCHES = 20
"""Batches per length-sorted pool (bucketing)."""
EVAL_BATCH = 512


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


class NamesTask(ClassifierTask):
    """The names task for the architectures of its settings (see the module docstring)."""

    name = "names"
    pool_batches = POOL_BATCHES
    eval_batch = EVAL_BATCH

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
        self.model = self._model()
        self.optimizer = make_optimizer(self.model, config)
        self.class_weight = self._class_weight() if config.class_weights else None
        self._reset_progress()

    @property
    def class_names(self) -> tuple[str, ...]:
        """The languages, in label order."""
        return self.languages

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

    # -- evaluation -------------------------------------------------------------------------

    def class_metrics(self, labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
        """Accuracy, macro-F1 and the confusion matrix of the most likely languages."""
        return classification_metrics(labels, probs.argmax(1), len(self.languages))

    def best_metrics(self) -> dict[str, Any]:
        """Validation and test metrics, and the majority class's test accuracy."""
        val = self._metrics("val", self.val_x, self.val_y)
        val.pop("val_confusion")
        test = self._metrics("test", self.test_x, self.test_y)
        return val | test | {"majority_accuracy": round(self.majority_accuracy(), 5)}

    def majority_accuracy(self) -> float:
        """Test accuracy of always answering the most frequent training language."""
        majority = np.bincount(self.train_y, minlength=len(self.languages)).argmax()
        return float((self.test_y == majority).mean())

    # -- state ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return super().state_dict() | {"languages": list(self.languages)}

    def _vocab_of(self, state: dict[str, Any]) -> Vocab:
        """The checkpoint's alphabet; `ConfigError` if it knows other languages."""
        languages = tuple(state["languages"])
        if languages != self.languages:
            raise ConfigError(
                f"the checkpoint knows {len(languages)} languages ({', '.join(languages)}); "
                f"{self.data.name} has {len(self.languages)} ({', '.join(self.languages)})"
            )
        return Vocab(tuple(state["vocab"]), "chars")


def create(config: NamesSettings, data: NameSet | None = None) -> NamesTask:
    """The task registry's factory."""
    return NamesTask(config, data=data)
