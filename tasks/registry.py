"""The tasks: name, explanation, metric, datasets, defaults per architecture, and a factory.

Torch-free at import time; `create_task` imports the task's module when a run starts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from tasks.charlm.datasets import DATASETS as CHARLM_DATASETS
from tasks.charlm.settings import CharLMSettings
from tasks.data.info import DatasetInfo
from tasks.engine.settings import ConfigError, TrainConfig
from tasks.gradflow.datasets import DATASETS as GRADFLOW_DATASETS
from tasks.gradflow.settings import GradflowSettings
from tasks.sentiment.datasets import DATASETS as SENTIMENT_DATASETS
from tasks.sentiment.settings import SentimentSettings
from tasks.timeseries.datasets import DATASETS as TIMESERIES_DATASETS
from tasks.timeseries.settings import TimeseriesSettings
from tasks.translation.datasets import DATASETS as TRANSLATION_DATASETS
from tasks.translation.settings import TranslationSettings


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
    datasets: tuple[DatasetInfo, ...]
    """Its datasets (`tasks/<task>/datasets.py`), the default first; the data catalogue is
    gathered from these."""
    settings: type[TrainConfig]
    """The task's settings class: the shared block plus its own (`tasks/<task>/settings.py`)."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """TrainConfig overrides for every architecture of this task."""
    arch_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Further overrides for one architecture."""
    anchors: dict[str, float] = field(default_factory=dict)
    """Reference values of the primary metric (label -> value), drawn as lines on charts."""
    player: str | None = None
    """"module:Class" of the task's `tasks.engine.player.Player` (`load_player` imports it)."""
    play_screen: str | None = None
    """"tui.screens.x:Class" of its Play screen, built with a checkpoint path (data: never
    imported by `tasks`)."""
    lab_screen: str | None = None
    """"tui.screens.x:Class" of a lab screen that new runs open instead of architecture ->
    configure -> train (data: never imported by `tasks`)."""

    @property
    def default_dataset(self) -> str:
        """The name of the dataset a run uses when none is named: the first declared."""
        return self.datasets[0].name

    @property
    def archs(self) -> tuple[str, ...]:
        """The architectures the task offers, the default first (declared by its settings)."""
        return self.settings.ARCHS

    @property
    def options(self) -> tuple[str, ...]:
        """The architecture options it uses ("bidirectional", "attention"); the UI greys out
        the rest (declared by its settings)."""
        return self.settings.OPTIONS


TASKS: dict[str, TaskInfo] = {
    t.name: t
    for t in (
        TaskInfo(
            name="charlm",
            settings=CharLMSettings,
            title="Character-level text generation",
            summary="learn to write like the training text, one character at a time",
            module="tasks.charlm.task",
            primary_metric="val_loss",
            lower_is_better=True,
            datasets=CHARLM_DATASETS,
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
            player="tasks.charlm.player:CharGenerator",
            play_screen="tui.screens.play:CharPlayScreen",
        ),
        TaskInfo(
            name="sentiment",
            settings=SentimentSettings,
            title="Sentiment analysis",
            summary="read reviews (IMDB, rt-polarity, Chinese hotels), say positive or negative, "
            "and show the words the model attended to",
            module="tasks.sentiment.task",
            primary_metric="val_accuracy",
            lower_is_better=False,
            datasets=SENTIMENT_DATASETS,
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
            player="tasks.sentiment.player:SentimentPredictor",
            play_screen="tui.screens.sentiment_play:SentimentPlayScreen",
        ),
        TaskInfo(
            name="timeseries",
            settings=TimeseriesSettings,
            title="Time-series forecasting",
            summary="forecast real series (airline passengers, temperatures, sunspots, S&P 500) "
            "and beat the naive baselines",
            module="tasks.timeseries.task",
            primary_metric="val_rmse",
            lower_is_better=True,
            datasets=TIMESERIES_DATASETS,
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
            player="tasks.timeseries.player:SeriesForecaster",
            play_screen="tui.screens.forecast_play:ForecastPlayScreen",
        ),
        TaskInfo(
            name="gradflow",
            settings=GradflowSettings,
            title="Gradient flow",
            summary="watch gradients vanish in a vanilla RNN and survive in an LSTM and GRU "
            "(adding and copy-memory problems, T steps long)",
            module="tasks.gradflow.task",
            primary_metric="val_loss",
            lower_is_better=True,
            datasets=GRADFLOW_DATASETS,
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
            lab_screen="tui.screens.gradflow:GradFlowScreen",
        ),
        TaskInfo(
            name="translation",
            settings=TranslationSettings,
            title="Translation with attention",
            summary="translate German, Chinese or French into English with an encoder-decoder "
            "and see where it looks",
            module="tasks.translation.task",
            primary_metric="val_bleu",
            lower_is_better=False,
            datasets=TRANSLATION_DATASETS,
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
            player="tasks.translation.player:Translator",
            play_screen="tui.screens.translate_play:TranslatePlayScreen",
        ),
    )
}


def get_task(name: str) -> TaskInfo:
    """Look up a task; the error lists the valid names."""
    try:
        return TASKS[name]
    except KeyError:
        raise ConfigError(f"unknown task {name!r}; choose one of: {', '.join(TASKS)}") from None


def task_defaults(task: str, arch: str | None = None) -> dict[str, Any]:
    """The values a new run of `task` with `arch` starts from (the task's, then the arch's)."""
    info = get_task(task)
    arch = arch or info.archs[0]
    values = {f.name: f.default for f in dataclasses.fields(info.settings)}
    values |= {"task": task, "arch": arch, "dataset": info.default_dataset}
    return values | info.defaults | info.arch_defaults.get(arch, {})


def default_config(task: str, arch: str | None = None, **overrides: Any) -> TrainConfig:
    """The task's defaults, then the architecture's, then `overrides` (None values ignored).

    A time budget given without epochs means as many epochs as fit. Raises `ConfigError`
    naming the field for an unknown setting or a value that is not allowed.
    """
    info = get_task(task)
    values = task_defaults(task, arch)
    values |= {k: v for k, v in overrides.items() if v is not None}
    if overrides.get("minutes") is not None and overrides.get("epochs") is None:
        values["epochs"] = None
    return info.settings.from_dict(values).validate()


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """The task's settings class built from a stored config (a checkpoint's, a summary's).

    An unknown key is an error naming it. Runs written before settings moved into each task
    stored every task's keys; those that belong to another task, at that task's own default
    value, are dropped so old runs still open.
    """
    task = get_task(str(data.get("task", "charlm")))
    own = set(task.settings.settings())
    foreign = _defaults_of_other_tasks(task.name)
    kept = {k: v for k, v in data.items() if k in own or foreign.get(k, _NO_DEFAULT) != v}
    return task.settings.from_dict(kept)


_NO_DEFAULT = object()


def _defaults_of_other_tasks(name: str) -> dict[str, Any]:
    """Field defaults of the other tasks' own settings (not the shared block)."""
    shared = set(TrainConfig.settings())
    defaults: dict[str, Any] = {}
    for info in TASKS.values():
        if info.name == name:
            continue
        for f in dataclasses.fields(info.settings):
            if f.name not in shared:
                defaults.setdefault(f.name, f.default)
    return defaults


def create_task(config: TrainConfig, **kwargs: Any) -> Any:
    """Build the task object (data loaded, model and optimiser created) for a config."""
    info = get_task(config.task)
    return import_module(info.module).create(config, **kwargs)
