"""The tasks: name, explanation, metric, datasets, defaults per architecture, and a factory.

Torch-free at import time; `create_task` imports the task's module when a run starts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from models.registry import ARCHITECTURES
from tasks.charlm.datasets import DATASETS as CHARLM_DATASETS
from tasks.charlm.datasets import QUANTITIES as CHARLM_QUANTITIES
from tasks.charlm.settings import CharLMSettings
from tasks.data.info import DatasetInfo, Reference
from tasks.data.profile import DataProfile
from tasks.engine.quantity import Quantity
from tasks.engine.settings import ConfigError, Search, TrainConfig
from tasks.gradflow.datasets import DATASETS as GRADFLOW_DATASETS
from tasks.gradflow.datasets import QUANTITIES as GRADFLOW_QUANTITIES
from tasks.gradflow.settings import GradflowSettings
from tasks.names.datasets import DATASETS as NAMES_DATASETS
from tasks.names.datasets import QUANTITIES as NAMES_QUANTITIES
from tasks.names.settings import NamesSettings
from tasks.sentiment.datasets import DATASETS as SENTIMENT_DATASETS
from tasks.sentiment.datasets import QUANTITIES as SENTIMENT_QUANTITIES
from tasks.sentiment.settings import SentimentSettings
from tasks.timeseries.datasets import DATASETS as TIMESERIES_DATASETS
from tasks.timeseries.datasets import QUANTITIES as TIMESERIES_QUANTITIES
from tasks.timeseries.settings import TimeseriesSettings
from tasks.translation.datasets import DATASETS as TRANSLATION_DATASETS
from tasks.translation.datasets import QUANTITIES as TRANSLATION_QUANTITIES
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
    quantities: tuple[Quantity, ...]
    """What it measures, each on an axis of its own (`tasks/<task>/datasets.py`): one holds
    the training loss, one the primary metric (the same one when the loss selects)."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """TrainConfig overrides for every architecture of this task."""
    arch_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Further overrides for one architecture."""
    player: str | None = None
    """"module:Class" of the task's `tasks.engine.player.Player` (`load_player` imports it)."""
    play_screen: str | None = None
    """"tui.screens.x:Class" of its Play screen, built with a checkpoint path (data: never
    imported by `tasks`)."""
    command: str = "predict"
    """The inference command that serves its player (`rnn-tui predict` unless it has its own:
    generate, forecast, translate)."""
    lab_screen: str | None = None
    """"tui.screens.x:Class" of a lab screen that new runs open instead of architecture ->
    configure -> train (data: never imported by `tasks`)."""
    profile: DataProfile | None = None
    """How ``rnn-tui data show`` reads its datasets (`tasks.data.profile`): the kind of data,
    its reader and how a local path in its format is recognised; None for a task that
    generates its data as it trains."""
    search: dict[str, Search | None] = field(default_factory=dict)
    """The sweep's space (`rnn-tui sweep`) as this task widens or narrows the settings' declared
    ranges (`Setting.search`): a setting name -> its `Search`, or None to leave it out (a
    setting the task does not use)."""
    dataset_search: dict[str, dict[str, Search | None]] = field(default_factory=dict)
    """Further changes to the space for one dataset (sentiment: word vectors for rt-polarity)."""

    def __post_init__(self) -> None:
        names = [q.name for q in self.quantities]
        if len(set(names)) != len(names):
            raise ValueError(f"task {self.name!r}: two quantities share a name in {names}")
        if sum(q.train_loss for q in self.quantities) != 1:
            raise ValueError(f"task {self.name!r}: exactly one quantity holds the training loss")
        primary = [q for q in self.quantities if self.primary_metric in q.metrics]
        if len(primary) != 1 or primary[0].higher_is_better == self.lower_is_better:
            raise ValueError(
                f"task {self.name!r}: {self.primary_metric} needs one quantity, "
                f"{'lower' if self.lower_is_better else 'higher'} is better"
            )
        for dataset in self.datasets:
            for ref in dataset.references:
                if ref.quantity not in names:
                    raise ValueError(
                        f"task {self.name!r}: reference {ref.label!r} on {dataset.name} is in "
                        f"{ref.quantity!r}, not one of its quantities {names}"
                    )

    def quantity(self, name: str) -> Quantity:
        """The quantity of that name (`KeyError` if the task has none)."""
        for q in self.quantities:
            if q.name == name:
                return q
        raise KeyError(f"task {self.name!r} has no quantity {name!r}")

    @property
    def loss_quantity(self) -> Quantity:
        """The quantity of the training loss."""
        return next(q for q in self.quantities if q.train_loss)

    @property
    def primary_quantity(self) -> Quantity:
        """The quantity of the primary metric (the one runs are selected on)."""
        return next(q for q in self.quantities if self.primary_metric in q.metrics)

    @property
    def chart_quantities(self) -> tuple[Quantity, ...]:
        """The quantities in the order charts offer them: the loss, the primary, the rest."""
        first = (self.loss_quantity, self.primary_quantity)
        return tuple(dict.fromkeys(first + self.quantities))

    def references(
        self, quantity: Quantity, dataset: str, metrics: Mapping[str, float] | None = None
    ) -> tuple[Reference, ...]:
        """The reference lines of `quantity` for a run on `dataset`: those declared with the
        catalogue dataset of that name (none for a local path), then the baselines the run
        measured (in its `metrics`)."""
        declared = next((d.references for d in self.datasets if d.name == dataset), ())
        own = tuple(r for r in declared if r.quantity == quantity.name)
        return own + quantity.measured_references(metrics or {})

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


PLAIN_LAYERS: dict[str, dict[str, Any]] = {
    name: {"block": False} for name, arch in ARCHITECTURES.items() if arch.modern
}
"""Overrides for classifiers: the modern cores as plain layers, no residual blocks."""

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
            quantities=CHARLM_QUANTITIES,
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
            # Sweeps: the cells that learn text well on two cores (BENCHMARKS.md), sizes around
            # the defaults.
            search={
                "arch": Search.among("lstm", "gru", "mingru", "lru"),
                "hidden": Search.range(128, 512, step=64),
                "embed": Search.range(32, 128, step=32),
                "lr": Search.range(1e-3, 1e-2, log=True),
                "dropout": Search.range(0.0, 0.3),
                "batch": Search.range(16, 64, log=True),
                "seq_len": Search.range(64, 256, log=True),
            },
            player="tasks.charlm.player:CharGenerator",
            command="generate",
            play_screen="tui.screens.play:CharPlayScreen",
            profile=DataProfile("text"),
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
            quantities=SENTIMENT_QUANTITIES,
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
            # Plain layers for the modern cores too: with blocks, the 0.4 dropout also falls inside
            # every residual branch and an 18-second minGRU run stayed at chance (0.49 on
            # rt-polarity) where plain layers reached 0.69.
            arch_defaults=PLAIN_LAYERS,
            search={
                "arch": Search.among("gru", "lstm", "mingru", "minlstm"),
                "bidirectional": Search.among(True, False),
                "layers": Search.range(1, 2),
                "hidden": Search.range(64, 256, step=32),
                "embed": Search.range(64, 256, step=64),
                "lr": Search.range(1e-3, 1e-2, log=True),
                "dropout": Search.range(0.2, 0.6),
                "weight_decay": Search.range(1e-6, 1e-3, log=True),
                "batch": Search.range(16, 64, log=True),
                "seq_len": Search.range(100, 400, step=50),
            },
            # rt-polarity's snippets are short (the longest about 60 tokens): the length cut never
            # bites; its 8.5k training sentences gain from IMDB's word vectors (BENCHMARKS.md).
            dataset_search={
                "rt-polarity": {"seq_len": None, "word_vectors": Search.among(None, "imdb")},
            },
            player="tasks.sentiment.player:SentimentPredictor",
            play_screen="tui.screens.sentiment_play:SentimentPlayScreen",
            profile=DataProfile(
                "labelled",
                reader="tasks.sentiment.datasets:profile_data",
                recognise="tasks.sentiment.datasets:recognise",
                formats="rt-polarity.pos/.neg, an aclImdb tree (train/ and test/) or its "
                ".tar.gz, a label,review CSV",
            ),
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
            quantities=TIMESERIES_QUANTITIES,
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
            search={
                "arch": Search.among("lstm", "gru", "rnn", "mingru"),
                "layers": Search.range(1, 2),
                "hidden": Search.range(8, 128, log=True),
                "embed": None,  # a series has no tokens
                "lr": Search.range(1e-3, 3e-2, log=True),
                "batch": Search.range(8, 64, log=True),
                "seq_len": Search.range(12, 48, step=6),
            },
            player="tasks.timeseries.player:SeriesForecaster",
            command="forecast",
            play_screen="tui.screens.forecast_play:ForecastPlayScreen",
            profile=DataProfile(
                "series",
                reading=("season",),
                recognise="tasks.timeseries.datasets:recognise",
                formats="a CSV or TSV series",
            ),
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
            quantities=GRADFLOW_QUANTITIES,
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
            # T (seq_len) is the experiment, not a knob; no tokens, one layer.
            search={
                "arch": Search.among("rnn", "lstm", "gru"),
                "hidden": Search.range(16, 128, step=16),
                "embed": None,
                "dropout": None,
                "seq_len": None,
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
            quantities=TRANSLATION_QUANTITIES,
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
            search={
                "arch": Search.among("gru", "lstm"),
                "layers": Search.range(1, 2),
                "hidden": Search.range(128, 512, step=64),
                "embed": Search.range(128, 512, step=64),
                "lr": Search.range(5e-4, 5e-3, log=True),
                "dropout": Search.range(0.1, 0.5),
                "batch": Search.range(32, 128, log=True),
                "seq_len": None,  # sentences are read whole
            },
            player="tasks.translation.player:Translator",
            command="translate",
            play_screen="tui.screens.translate_play:TranslatePlayScreen",
            profile=DataProfile(
                "parallel",
                reading=("direction",),
                recognise="tasks.translation.datasets:recognise",
                formats="Multi30k's train.en/train.de, a file of tab-separated pairs",
            ),
        ),
        TaskInfo(
            name="names",
            settings=NamesSettings,
            title="Surname to language",
            summary="guess the language of a surname (18 of them, Arabic to Vietnamese) "
            "from its letters, and watch the guess change as you type",
            module="tasks.names.task",
            primary_metric="val_accuracy",
            lower_is_better=False,
            datasets=NAMES_DATASETS,
            quantities=NAMES_QUANTITIES,
            # From 45-second runs on one thread: every size, direction and pooling tried reached
            # 0.83-0.84 validation accuracy; a one-way GRU 1×256 got there in the fewest seconds
            # (a bidirectional one runs half the epochs). Results: BENCHMARKS.md.
            defaults={
                "layers": 1,
                "hidden": 256,
                "embed": 64,
                "dropout": 0.2,
                "batch": 32,
                "seq_len": 32,
                "lr": 1.5e-3,
                "weight_decay": 1e-2,
                "clip": 1.0,
                "warmup_steps": 50,
                "epochs": 15,
            },
            arch_defaults=PLAIN_LAYERS,
            search={
                "arch": Search.among("gru", "lstm", "rnn", "mingru"),
                "layers": Search.range(1, 2),
                "hidden": Search.range(64, 512, step=64),
                "embed": Search.range(16, 128, step=16),
                "lr": Search.range(3e-4, 1e-2, log=True),
                "weight_decay": Search.range(1e-4, 1e-1, log=True),
                "seq_len": None,  # surnames are shorter than the cut
            },
            player="tasks.names.player:NamesPlayer",
            play_screen="tui.screens.names_play:NamesPlayScreen",
            profile=DataProfile(
                "labelled",
                reader="tasks.names.datasets:profile_data",
                reading=("split_seed", "val_fraction", "test_fraction"),
                recognise="tasks.names.datasets:recognise",
                formats="a folder of <Language>.txt files",
            ),
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
    if not isinstance(arch, str):  # a settings file's "arch" that is a list, a number...
        raise ConfigError(f"must be text, one of {', '.join(info.archs)} (got {arch!r})", "arch")
    values = {f.name: f.default for f in dataclasses.fields(info.settings)}
    values |= {"task": task, "arch": arch, "dataset": info.default_dataset}
    core = ARCHITECTURES[arch].run_defaults if arch in ARCHITECTURES else {}
    return values | info.defaults | core | info.arch_defaults.get(arch, {})


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
