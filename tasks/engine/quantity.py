"""What a task measures: its quantities, each drawn on an axis of its own.

A `Quantity` is one kind of number (a loss, an accuracy, BLEU, an RMSE) with its direction and
the metric keys that measure it on each split. Charts never mix quantities: the loss has its
axis, the metric a run is selected on has another, and a `Reference` line is drawn only on the
axis of the quantity it names. Each task declares its quantities beside its datasets
(``tasks/<task>/datasets.py``); stdlib only, imported by `tasks.registry` before torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tasks.data.info import Reference, Split

SPLITS: tuple[Split, ...] = ("val", "test")
"""The splits a metric key can start with (`val_accuracy`, `test_accuracy`)."""


@dataclass(frozen=True)
class Baseline:
    """A reference every run measures for itself, read from its own metrics.

    E.g. the persistence forecast's RMSE on the same test targets (`persistence_rmse`): it
    depends on the data and the split the run used, so it is not declared with a dataset.
    """

    label: str
    """How its line is labelled, e.g. "persistence"."""
    key: str
    """The metric key that holds it."""
    split: Split
    """The part of the data it is measured on."""


@dataclass(frozen=True)
class Quantity:
    """One kind of number a task reports, drawn on its own axis."""

    name: str
    """What references name, unique within the task: "accuracy", "nats/char", "BLEU"."""
    higher_is_better: bool
    """The direction of better."""
    metrics: tuple[str, ...] = ()
    """The metric keys that measure it, each starting with its split: "val_accuracy"."""
    train_loss: bool = False
    """Whether the training steps' loss is in this quantity too (drawn as "train")."""
    baselines: tuple[Baseline, ...] = ()
    """References read from each run's own metrics."""
    title: str = ""
    """The axis heading, e.g. "loss (nats/char)" (default: the name)."""
    short: str = ""
    """A few letters for narrow tables, e.g. "acc" (default: the name)."""

    def __post_init__(self) -> None:
        for key in self.metrics:
            split_of(key)  # every key names its split
        object.__setattr__(self, "title", self.title or self.name)
        object.__setattr__(self, "short", self.short or self.name)

    @property
    def heading(self) -> str:
        """The title and the direction: `accuracy · higher is better`."""
        return f"{self.title} · {'higher' if self.higher_is_better else 'lower'} is better"

    @property
    def splits(self) -> tuple[str, ...]:
        """The series it draws: "train" (when the training loss is in it), then "val" and
        "test" where its metrics have them."""
        measured = {split_of(key) for key in self.metrics}
        return ("train",) * self.train_loss + tuple(s for s in SPLITS if s in measured)

    def points(self, metrics: Mapping[str, float]) -> list[tuple[Split, float]]:
        """(split, value) of each of its keys present in one evaluation's `metrics`."""
        return [(split_of(key), metrics[key]) for key in self.metrics if key in metrics]

    def measured_references(self, metrics: Mapping[str, float]) -> tuple[Reference, ...]:
        """Its baselines present in a run's `metrics`, as references."""
        return tuple(
            Reference(b.label, float(metrics[b.key]), self.name, b.split, f"this run: {b.key}")
            for b in self.baselines
            if b.key in metrics
        )

    def best(self, values: list[float]) -> float:
        """The best of `values` (not empty)."""
        return max(values) if self.higher_is_better else min(values)


def split_of(key: str) -> Split:
    """The split a metric key is measured on: `test_bleu` -> `test`."""
    for split in SPLITS:
        if key.startswith(f"{split}_"):
            return split
    raise ValueError(f"metric {key!r} names no split (it starts with neither val_ nor test_)")
