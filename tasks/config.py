"""`TrainConfig`: every setting of a training run, each default next to its meaning."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

ARCHS = ("numpy-rnn", "rnn", "lstm", "gru")
BACKENDS = ("fused", "scratch")
SCHEDULES = ("cosine", "constant")
TRANSFORMS = ("auto", "none", "log", "diff", "log-diff", "seasonal", "log-seasonal")
"""Time-series transforms (see `tasks.series_data`)."""
PROBLEMS = ("adding", "copy")
"""Gradient-flow problems (see `tasks.gradflow`)."""


class ConfigError(ValueError):
    """A setting is out of range; the message names the option and the allowed values."""


@dataclass
class TrainConfig:
    """Hyperparameters and run settings. Task- and architecture-aware defaults: `default_config`."""

    task: str = "charlm"
    """Task name from the task registry."""
    dataset: str = "tiny-shakespeare"
    """A registry name (`rnn-tui data list`) or a local path in the dataset's format."""
    arch: str = "lstm"
    """Recurrent cell: numpy-rnn (from scratch, NumPy), rnn, lstm or gru."""
    backend: str = "fused"
    """fused: nn.LSTM and friends (fast); scratch: our cells written from the equations."""
    layers: int = 2
    """Stacked recurrent layers."""
    hidden: int = 512
    """Hidden state size per layer and direction."""
    embed: int = 64
    """Token embedding size."""
    bidirectional: bool = False
    """Run a second layer over the reversed sequence (not for language models)."""
    attention: bool = False
    """Attention pooling / attention decoder where the task has one."""
    dropout: float = 0.0
    """Dropout between layers and before the output head."""
    lr: float = 3e-3
    """Peak learning rate."""
    weight_decay: float = 0.0
    """AdamW weight decay (matrices only)."""
    schedule: str = "cosine"
    """cosine: linear warm-up, then cosine decay to lr/10 at the end; constant: lr throughout."""
    warmup_steps: int = 50
    """Steps of linear warm-up."""
    batch: int = 64
    """Sequences per batch."""
    seq_len: int = 128
    """Truncated-BPTT length: time steps per chunk (sentiment: the most tokens read per text)."""
    clip: float = 1.0
    """Clip the global gradient norm to this (0 turns clipping off)."""
    epochs: int | None = None
    """Passes over the training data (None: as many as the time budget allows)."""
    minutes: float | None = None
    """Wall-clock budget in minutes, evaluation included (None: no budget)."""
    seed: int = 1337
    """Seeds Python, NumPy and torch; the data order of each epoch derives from it."""
    threads: int | None = None
    """torch CPU threads (None: torch's default)."""
    device: str = "auto"
    """auto (CUDA, then MPS, then CPU), cpu, cuda or mps."""
    log_every_s: float = 0.25
    """At most one step event per this many seconds (losses in between are averaged)."""
    eval_every_s: float = 30.0
    """A quick validation estimate at most this often (the full evaluation runs per epoch)."""
    horizon: int = 1
    """Time series: steps ahead to forecast (metrics are one-step; > 1 adds h-step metrics)."""
    forecast: str = "recursive"
    """Time series: recursive (a one-step model fed its forecasts) or direct (H outputs)."""
    transform: str = "auto"
    """Time series: auto (per dataset), none, log, diff, log-diff, seasonal, log-seasonal."""
    season: int = 0
    """Time series: season length for seasonal differencing and the seasonal naive (0: data's)."""
    attention_type: str = "dot"
    """Translation: the decoder's attention when --attention is on: dot (Luong, general),
    additive (Bahdanau's score) or none."""
    teacher_forcing: float = 1.0
    """Translation: probability of feeding the true previous token (1: always, one fused call)."""
    beam: int = 5
    """Translation: beam width for the test BLEU and `translate` (1: greedy)."""
    direction: str = "auto"
    """Translation: source-target, e.g. de-en or en-de (auto: the dataset's default)."""
    max_len: int = 50
    """Translation: training pairs longer than this many tokens (either side) are dropped."""
    min_freq: int = 2
    """Translation and sentiment: tokens seen fewer times in training become <unk>."""
    label_smoothing: float = 0.0
    """Translation: cross-entropy label smoothing."""
    problem: str = "adding"
    """Gradient flow: adding (sum two marked numbers) or copy (recall 10 symbols T steps later)."""
    activation: str = "tanh"
    """Gradient flow: the vanilla RNN's nonlinearity, tanh or relu."""
    init: str = "default"
    """Gradient flow: recurrent weights from PyTorch's default uniform or orthogonal."""
    probe_every: int = 25
    """Gradient flow: record the per-time-step gradient norms every this many steps."""
    vocab_size: int = 30000
    """Sentiment: the most frequent training tokens kept (with <pad> and <unk>); the rest: <unk>."""
    patience: int = 0
    """Sentiment: stop after this many epochs without a better validation accuracy (0: never)."""
    init_from: str | None = None
    """Sentiment: start from this checkpoint's best weights and vocabulary (transfer learning)."""
    word_vectors: str | None = None
    """Sentiment: start the embeddings from word vectors counted on this review corpus's texts."""

    def validate(self) -> TrainConfig:
        """Raise `ConfigError` with one clear line for the first invalid setting."""
        if self.arch not in ARCHS:
            raise ConfigError(f"--arch must be one of {', '.join(ARCHS)} (got {self.arch!r})")
        if self.backend not in BACKENDS:
            raise ConfigError(f"--backend must be fused or scratch (got {self.backend!r})")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"--schedule must be cosine or constant (got {self.schedule!r})")
        for name in ("layers", "hidden", "embed", "batch", "seq_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                option = name.replace("_", "-")
                raise ConfigError(f"--{option} must be a positive integer (got {value})")
        _positive_number("lr", self.lr)
        if self.epochs is not None and (not isinstance(self.epochs, int) or self.epochs <= 0):
            raise ConfigError(f"--epochs must be a positive integer (got {self.epochs})")
        if self.minutes is not None:
            _positive_number("minutes", self.minutes)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"--dropout must be in [0, 1) (got {self.dropout})")
        if not math.isfinite(self.clip) or self.clip < 0:
            raise ConfigError(f"--clip must be >= 0, 0 turns clipping off (got {self.clip})")
        if self.weight_decay < 0:
            raise ConfigError(f"--weight-decay must be >= 0 (got {self.weight_decay})")
        if self.warmup_steps < 0:
            raise ConfigError(f"--warmup-steps must be >= 0 (got {self.warmup_steps})")
        if self.threads is not None and self.threads <= 0:
            raise ConfigError(f"--threads must be a positive integer (got {self.threads})")
        if not isinstance(self.horizon, int) or self.horizon <= 0:
            raise ConfigError(f"--horizon must be a positive integer (got {self.horizon})")
        if self.forecast not in ("recursive", "direct"):
            raise ConfigError(f"--forecast must be recursive or direct (got {self.forecast!r})")
        if self.transform not in TRANSFORMS:
            raise ConfigError(
                f"--transform must be one of {', '.join(TRANSFORMS)} (got {self.transform!r})"
            )
        if not isinstance(self.season, int) or self.season < 0:
            raise ConfigError(f"--season must be >= 0, 0: from the data (got {self.season})")
        if self.attention_type not in ("dot", "additive", "none"):
            raise ConfigError(
                f"--attention-type must be dot, additive or none (got {self.attention_type!r})"
            )
        if not 0.0 <= self.teacher_forcing <= 1.0:
            raise ConfigError(f"--teacher-forcing must be in [0, 1] (got {self.teacher_forcing})")
        for name in ("beam", "max_len", "min_freq"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                option = name.replace("_", "-")
                raise ConfigError(f"--{option} must be a positive integer (got {value})")
        if not re.fullmatch(r"auto|[a-z]{2}-[a-z]{2}", self.direction):
            raise ConfigError(f"--direction must be auto or like de-en (got {self.direction!r})")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"--label-smoothing must be in [0, 1) (got {self.label_smoothing})")
        if self.problem not in PROBLEMS:
            raise ConfigError(f"--problem must be adding or copy (got {self.problem!r})")
        if self.activation not in ("tanh", "relu"):
            raise ConfigError(f"--activation must be tanh or relu (got {self.activation!r})")
        if self.init not in ("default", "orthogonal"):
            raise ConfigError(f"--init must be default or orthogonal (got {self.init!r})")
        if not isinstance(self.probe_every, int) or self.probe_every <= 0:
            raise ConfigError(f"--probe-every must be a positive integer (got {self.probe_every})")
        if not isinstance(self.vocab_size, int) or self.vocab_size < 3:
            raise ConfigError(f"--vocab-size must be an integer >= 3 (got {self.vocab_size})")
        if not isinstance(self.patience, int) or self.patience < 0:
            raise ConfigError(f"--patience must be >= 0, 0: never stop early (got {self.patience})")
        if self.device not in ("auto", "cpu", "cuda", "mps"):
            raise ConfigError(f"--device must be auto, cpu, cuda or mps (got {self.device!r})")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (stored in checkpoints and run folders)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of `to_dict`; unknown keys are an error, missing keys take defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _positive_number(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"--{name.replace('_', '-')} must be a positive number (got {value})")
