"""The tasks: name, explanation, metric, datasets, defaults per architecture, and a factory.

Torch-free at import time; `create_task` imports the task's module when a run starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from tasks.config import ConfigError, TrainConfig


@dataclass(frozen=True)
class TaskInfo:
    """One registry entry."""

    name: str
    title: str
    summary: str
    """One line for lists."""
    module: str
    """The module with `create(config) -> Task`."""
    primary_metric: str
    lower_is_better: bool
    default_dataset: str
    archs: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)
    """TrainConfig overrides for every architecture of this task."""
    arch_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Further overrides for one architecture."""
    anchors: dict[str, float] = field(default_factory=dict)
    """Reference values of the primary metric (label -> value), drawn as lines on charts."""
    options: tuple[str, ...] = ()
    """Architecture options the task uses: "bidirectional", "attention" (the UI greys out the rest;
    a character language model reads left to right and has no attention, so charlm uses none)."""


TASKS: dict[str, TaskInfo] = {
    t.name: t
    for t in (
        TaskInfo(
            name="charlm",
            title="Character-level text generation",
            summary="learn to write like the training text, one character at a time",
            module="tasks.charlm",
            primary_metric="val_loss",
            lower_is_better=True,
            default_dataset="tiny-shakespeare",
            archs=("lstm", "gru", "rnn", "numpy-rnn"),
            # Chosen by measurement (BENCHMARKS.md): on two CPU cores a 2×256 LSTM sees twice the
            # text of a 2×384 and four times that of a 2×512 in the same minutes, and wins at
            # 4 and 10 minute budgets; batch 32 gives twice the updates of 64 at the same speed.
            defaults={
                "layers": 2,
                "hidden": 256,
                "embed": 64,
                "batch": 32,
                "seq_len": 128,
                "lr": 5e-3,
                "clip": 1.0,
                "dropout": 0.0,
                "warmup_steps": 50,
                "epochs": 5,
            },
            arch_defaults={
                "numpy-rnn": {
                    "layers": 1,
                    "hidden": 100,
                    "batch": 1,
                    "seq_len": 25,
                    "lr": 0.1,
                    "clip": 5.0,
                    "schedule": "constant",
                    "warmup_steps": 0,
                    "epochs": 1,
                    "backend": "fused",
                },
                "rnn": {"lr": 1e-3},
            },
            anchors={"5-gram": 1.69, "nanoGPT CPU": 1.88, "baby GPT (A100)": 1.47},
        ),
        TaskInfo(
            name="sentiment",
            title="Sentiment analysis",
            summary="read reviews (IMDB, rt-polarity, Chinese hotels), say positive or negative, "
            "and show the words the model attended to",
            module="tasks.sentiment",
            primary_metric="val_accuracy",
            lower_is_better=False,
            default_dataset="rt-polarity",
            archs=("gru", "lstm", "rnn"),
            # A bidirectional GRU with attention + max pooling: GRU is cheaper than LSTM per
            # token on two cores; reviews keep 400 tokens (head and tail), see BENCHMARKS.md.
            defaults={
                "layers": 1,
                "hidden": 128,
                "embed": 128,
                "bidirectional": True,
                "attention": True,
                "dropout": 0.4,
                "batch": 32,
                "seq_len": 400,
                "lr": 5e-3,
                "weight_decay": 1e-4,
                "clip": 5.0,
                "warmup_steps": 50,
                "epochs": 8,
                "patience": 3,
                "vocab_size": 30000,
                "min_freq": 2,
            },
            anchors={"NBSVM (rt-polarity)": 0.794, "BiLSTM+GloVe (IMDB)": 0.862},
            options=("bidirectional", "attention"),
        ),
        TaskInfo(
            name="timeseries",
            title="Time-series forecasting",
            summary="forecast real series (airline passengers, temperatures, sunspots, S&P 500) "
            "and beat the naive baselines",
            module="tasks.timeseries",
            primary_metric="val_rmse",
            lower_is_better=True,
            default_dataset="airline-passengers",
            archs=("lstm", "gru", "rnn"),
            defaults={
                "layers": 1,
                "hidden": 16,
                "batch": 32,
                "seq_len": 24,
                "lr": 3e-3,
                "clip": 1.0,
                "dropout": 0.2,
                "weight_decay": 1e-4,
                "warmup_steps": 20,
                "epochs": 10,
            },
        ),
        TaskInfo(
            name="gradflow",
            title="Gradient flow",
            summary="watch gradients vanish in a vanilla RNN and survive in an LSTM and GRU "
            "(adding and copy-memory problems, T steps long)",
            module="tasks.gradflow",
            primary_metric="val_loss",
            lower_is_better=True,
            default_dataset="synthetic",
            archs=("rnn", "lstm", "gru", "numpy-rnn"),
            # An LSTM solves the adding problem at T = 100 with these in about 2,200 steps
            # (BENCHMARKS.md); every architecture gets the same ones, so the comparison is fair.
            defaults={
                "layers": 1,
                "hidden": 64,
                "batch": 64,
                "seq_len": 100,
                "lr": 3e-3,
                "clip": 1.0,
                "warmup_steps": 50,
                "schedule": "constant",
                "epochs": 30,
                "eval_every_s": 10.0,
            },
            arch_defaults={
                "numpy-rnn": {
                    "problem": "copy",
                    "hidden": 64,
                    "batch": 8,
                    "seq_len": 20,
                    "lr": 0.1,
                    "warmup_steps": 0,
                    "epochs": 10,
                },
            },
        ),
        TaskInfo(
            name="translation",
            title="Translation with attention",
            summary="translate German, Chinese or French into English with an encoder-decoder "
            "and see where it looks",
            module="tasks.translation",
            primary_metric="val_bleu",
            lower_is_better=False,
            default_dataset="multi30k",
            archs=("gru", "lstm"),
            # A bidirectional GRU encoder and a Luong decoder run the whole target in one fused
            # call under teacher forcing; sizes chosen by measurement on two cores (BENCHMARKS.md).
            defaults={
                "layers": 1,
                "hidden": 256,
                "embed": 256,
                "bidirectional": True,
                "attention": True,
                "dropout": 0.3,
                "batch": 64,
                "lr": 2e-3,
                "weight_decay": 1e-4,
                "clip": 1.0,
                "warmup_steps": 100,
                "epochs": 10,
                "label_smoothing": 0.1,
                "eval_every_s": 120.0,
            },
            anchors={"GRU (bentrevett)": 20.6, "GRU + attention (bentrevett)": 28.3},
            options=("bidirectional", "attention"),
        ),
    )
}


def get_task(name: str) -> TaskInfo:
    """Look up a task; the error lists the valid names."""
    try:
        return TASKS[name]
    except KeyError:
        raise ConfigError(f"unknown task {name!r}; choose one of: {', '.join(TASKS)}") from None


def default_config(task: str, arch: str | None = None, **overrides: Any) -> TrainConfig:
    """The task's defaults, then the architecture's, then `overrides` (None values ignored)."""
    info = get_task(task)
    arch = arch or info.archs[0]
    if arch not in info.archs:
        raise ConfigError(f"task {task} supports --arch {', '.join(info.archs)} (got {arch!r})")
    values: dict[str, Any] = {"task": task, "arch": arch, "dataset": info.default_dataset}
    values |= info.defaults | info.arch_defaults.get(arch, {})
    values |= {k: v for k, v in overrides.items() if v is not None}
    if overrides.get("minutes") is not None and overrides.get("epochs") is None:
        values["epochs"] = None  # a time budget alone: as many epochs as fit
    return TrainConfig(**values).validate()


def create_task(config: TrainConfig, **kwargs: Any) -> Any:
    """Build the task object (data loaded, model and optimiser created) for a config."""
    info = get_task(config.task)
    return import_module(info.module).create(config, **kwargs)
