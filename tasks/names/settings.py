"""The names task's own settings: the split, class weights and early stopping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tasks.engine.settings import MODERN, ConfigError, TrainConfig, setting


def _share(default: float, label: str, part: str) -> float:
    return setting(
        default,
        label,
        f"the share of the distinct names held out for {part} (stratified by language)",
        "Names",
        minimum=0.0,
        above=True,
        maximum=0.5,
        below=True,
    )


@dataclass
class NamesSettings(TrainConfig):
    """Surname -> language classification."""

    TASK_GROUPS: ClassVar[tuple[str, ...]] = ("Names",)
    ARCHS: ClassVar[tuple[str, ...]] = ("gru", "lstm", "rnn", *MODERN)

    class_weights: bool = setting(
        False,
        "Class weights",
        "weight the loss by inverse language frequency (rare languages count as much as "
        "Russian: a better macro-F1, often a lower accuracy)",
        "Names",
    )
    val_fraction: float = _share(0.1, "Validation share", "validation")
    test_fraction: float = _share(0.1, "Test share", "the test")
    split_seed: int = setting(
        0,
        "Split seed",
        "seeds the train/validation/test split (not --seed: runs with other seeds are tested "
        "on the same names)",
        "Names",
        minimum=0,
    )
    patience: int = setting(
        0,
        "Patience (0: off)",
        "stop after this many epochs without a better validation accuracy (0: never)",
        "Names",
        minimum=0,
    )

    def check(self) -> None:
        super().check()
        if self.val_fraction + self.test_fraction > 0.5:
            raise ConfigError(
                f"plus --test-fraction must leave at least half of the names for training "
                f"(got {self.val_fraction} + {self.test_fraction})",
                "val_fraction",
            )
