"""The gradient-flow lab's own settings: the problem, the RNN's nonlinearity, init, probing.

Every architecture runs here, the modern cores too (their options: `TrainConfig.core_options`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tasks.engine.settings import MODERN, ConfigError, TrainConfig, positive_int, setting

MAX_SEQ_LEN = 1000
"""The longest T (--seq-len): already enough to watch gradients vanish over many decades."""


@dataclass
class GradflowSettings(TrainConfig):
    """Gradient flow on long-range synthetic problems."""

    TASK_GROUPS: ClassVar[tuple[str, ...]] = ("Problem",)
    ARCHS: ClassVar[tuple[str, ...]] = ("rnn", "lstm", "gru", "numpy-rnn", *MODERN)
    OPTIONS: ClassVar[tuple[str, ...]] = ()
    WITHOUT_OPTIONS: ClassVar[str] = "the lab runs one direction without attention"

    problem: str = setting(
        "adding",
        "Problem",
        "adding (sum two marked numbers) or copy (recall 10 symbols T steps later)",
        "Problem",
        choices=("adding", "copy"),
    )
    activation: str = setting(
        "tanh",
        "RNN activation",
        "the vanilla RNN's nonlinearity",
        "Problem",
        choices=("tanh", "relu"),
    )
    init: str = setting(
        "default",
        "Recurrent init",
        "recurrent weights from PyTorch's default uniform or orthogonal",
        "Problem",
        choices=("default", "orthogonal"),
    )
    probe_every: int = positive_int(
        25, "Probe every", "record the per-time-step gradient norms every this many steps",
        "Problem",
    )  # fmt: skip

    def check(self) -> None:
        """T within the lab's range, its own data, and what the NumPy RNN can run."""
        super().check()
        if not 2 <= self.seq_len <= MAX_SEQ_LEN:
            raise ConfigError(
                f"(T) must be between 2 and {MAX_SEQ_LEN} for gradflow (got {self.seq_len})",
                "seq_len",
            )
        if self.dataset != "synthetic":
            raise ConfigError(
                f"is not used: gradflow generates its data (choose --problem adding or copy, "
                f"not --dataset {self.dataset})",
                "dataset",
            )
        if self.activation != "tanh" and (self.arch != "rnn" or self.block):
            raise ConfigError(
                f"{self.activation} applies to --arch rnn only (without --block)", "activation"
            )
        if self.init != "default" and self.arch in MODERN:
            raise ConfigError(
                f"{self.init} applies to rnn, lstm, gru and numpy-rnn, not {self.arch}", "init"
            )
        if self.precision != "fp32":
            raise ConfigError(
                f"{self.precision} does not apply to gradflow: it measures gradients in fp32",
                "precision",
            )
        if self.compile:
            raise ConfigError("does not apply to gradflow (its probes unroll the model)", "compile")
        if self.arch == "numpy-rnn" and self.problem != "copy":
            raise ConfigError("copy: numpy-rnn reads symbols", "problem", "use --problem")
        if self.arch == "numpy-rnn" and self.layers != 1:
            raise ConfigError("1: numpy-rnn has one layer", "layers", "use --layers")
