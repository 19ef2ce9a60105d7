"""Settings declared once: each is a dataclass field whose metadata says how to show and check it.

    @dataclass
    class SentimentSettings(TrainConfig):
        vocab_size: int = setting(30000, "Vocabulary size", "most frequent training tokens kept",
                                  "Text", minimum=3)

The command line (`tui.cli.train`), the Configure form (`tui.widgets.config_form`) and `validate()`
all read the same `Setting`: its label, help line, group, kind, choices and bounds. `TrainConfig`
is the shared block every run has (model sizes, optimiser, schedule, data, budget, machine);
each task adds its own settings in a subclass (`tasks/<task>/settings.py`).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

Kind = Literal["int", "float", "text", "choice", "bool"]
"""How a setting is typed: a number, free text, one of `choices`, or a switch."""

SHARED_GROUPS = ("Model", "Optimisation", "Data", "Budget", "Machine")
"""The groups of the shared block, in the order the form and `--help` show them."""


class ConfigError(ValueError):
    """A setting is out of range or a rule between settings is broken.

    `field` names the setting (None for an error of the whole config); `reason` is the message
    without the option name, for showing under the field in a form. `str()` is the one line the
    command line prints: ``--seq-len must be a positive integer (got 0)``.
    """

    def __init__(
        self,
        reason: str,
        field: str | None = None,
        option: str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        self.reason = reason
        self.field = field
        self.option = option or (f"--{field.replace('_', '-')}" if field else None)
        super().__init__(message or (f"{self.option} {reason}" if self.option else reason))


@dataclass(frozen=True)
class Search:
    """Where a sweep looks for a setting's value (`tasks.experiments.space`): a range or choices.

    A range is ``[low, high]`` (integers for an integer setting), log-uniform when `log`, on a
    grid of `step` when given; choices are a list (None allowed for an optional setting).
    """

    low: float | None = None
    high: float | None = None
    log: bool = False
    step: int | None = None
    choices: tuple[Any, ...] = ()

    @classmethod
    def range(cls, low: float, high: float, log: bool = False, step: int | None = None) -> Search:
        """Values in [low, high]: integers when both are ints, floats otherwise."""
        return cls(low=low, high=high, log=log, step=step)

    @classmethod
    def among(cls, *choices: Any) -> Search:
        """One of `choices`."""
        return cls(choices=tuple(choices))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: {"choices": [...]} or {"low", "high", "log", "step"}."""
        if self.choices:
            return {"choices": list(self.choices)}
        return {"low": self.low, "high": self.high, "log": self.log, "step": self.step}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Search:
        """Inverse of `to_dict`."""
        if "choices" in data:
            return cls(choices=tuple(data["choices"]))
        return cls(data["low"], data["high"], bool(data.get("log")), data.get("step"))

    def describe(self) -> str:
        """In words: "log [0.0001, 0.01]", "[32, 512] step 32", "one of gru, lstm"."""
        if self.choices:
            shown = ", ".join("none" if c is None else str(c) for c in self.choices)
            return shown if len(self.choices) == 1 else f"one of {shown}"
        text = f"{'log ' if self.log else ''}[{_fmt(self.low)}, {_fmt(self.high)}]"
        return text + (f" step {self.step}" if self.step else "")


@dataclass(frozen=True)
class Setting:
    """How one setting is shown and checked (the metadata of its dataclass field)."""

    label: str
    """What the form row is called."""
    help: str
    """One line: what it does (the `--help` line and the form's tooltip)."""
    group: str
    """The section it belongs to (a shared group, or the task's own section)."""
    kind: Kind
    """int, float, text, choice or bool."""
    choices: tuple[str, ...] = ()
    """The allowed values of a choice."""
    minimum: float | None = None
    """The smallest allowed value (see `above`)."""
    above: bool = False
    """True: the value must be strictly more than `minimum`."""
    maximum: float | None = None
    """The largest allowed value (see `below`)."""
    below: bool = False
    """True: the value must be strictly less than `maximum`."""
    optional: bool = False
    """None is allowed (an empty form field)."""
    placeholder: str = ""
    """What an empty optional field means, shown in the form."""
    pattern: str | None = None
    """A regular expression a text must match in full."""
    pattern_hint: str = ""
    """How to describe `pattern` in an error, e.g. "auto or like de-en"."""
    flag: str | None = None
    """The command-line option when it differs from the field name (``--eval-every``)."""
    metavar: str | None = None
    """How `--help` names the value (default: N, F or TEXT by kind, or the choices)."""
    form: bool = True
    """A row of the Configure form (False: chosen on another screen, e.g. the model sizes)."""
    cli: bool = True
    """An option of `rnn-tui train` (False: set by the command itself, e.g. the task)."""
    search: Search | None = None
    """Where a sweep looks by default (`rnn-tui sweep`); None: not searched unless the task or
    a space file says so."""

    def option(self, name: str) -> str:
        """The command-line option of the field `name`."""
        return f"--{self.flag or name.replace('_', '-')}"

    def check(self, name: str, value: Any) -> None:
        """Raise `ConfigError` naming `name` when `value` is not allowed."""
        if value is None:
            if not self.optional:
                raise ConfigError("must be given", name, self.option(name))
            return
        reason = self._problem(value)
        if reason:
            raise ConfigError(reason, name, self.option(name))

    def _problem(self, value: Any) -> str | None:
        if self.kind == "bool":
            return None if isinstance(value, bool) else f"must be true or false (got {value!r})"
        if self.kind == "choice":
            if value not in self.choices:
                return f"must be one of {', '.join(self.choices)} (got {value!r})"
            return None
        if self.kind == "text":
            if not isinstance(value, str):
                return f"must be text (got {value!r})"
            if self.pattern and not re.fullmatch(self.pattern, value):
                return f"must be {self.pattern_hint or self.pattern} (got {value!r})"
            return None
        return self._number_problem(value)

    def _number_problem(self, value: Any) -> str | None:
        integer = self.kind == "int"
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            return f"must be {'an integer' if integer else 'a number'} (got {value!r})"
        if not integer and not is_finite(value):
            shown = value if isinstance(value, float) else "an integer beyond the float range"
            return f"must be a finite number (got {shown})"
        low, high = self.minimum, self.maximum
        too_low = low is not None and (value <= low if self.above else value < low)
        too_high = high is not None and (value >= high if self.below else value > high)
        if not (too_low or too_high):
            return None
        return f"must be {self.range_text()} (got {value})"

    def range_text(self) -> str:
        """The allowed range in words: "a positive integer", "in [0, 1)", ">= 0"."""
        low, high = self.minimum, self.maximum
        noun = "integer" if self.kind == "int" else "number"
        if high is None:
            if self.kind == "int" and low == 1 and not self.above:
                return "a positive integer"
            if low == 0 and self.above:
                return f"a positive {noun}"
            bound = f"{'>' if self.above else '>='} {_fmt(low)}"
            return f"an integer {bound}" if self.kind == "int" else bound
        if low is None:
            return f"{'<' if self.below else '<='} {_fmt(high)}"
        left, right = "(" if self.above else "[", ")" if self.below else "]"
        return f"in {left}{_fmt(low)}, {_fmt(high)}{right}"


def _fmt(value: float | None) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def is_finite(value: float) -> bool:
    """Whether `value` is finite as a float (`math.isfinite` raises OverflowError for an int
    beyond the float range, as a settings file may hold)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def setting(
    default: Any,
    label: str,
    help: str,
    group: str,
    *,
    kind: Kind | None = None,
    **options: Any,
) -> Any:
    """A dataclass field with its `Setting`; `kind` is inferred from the default when omitted."""
    if kind is None:
        kind = _infer_kind(default, options)
    meta = Setting(label=label, help=help, group=group, kind=kind, **options)
    return dataclasses.field(default=default, metadata={"setting": meta})


def _infer_kind(default: Any, options: dict[str, Any]) -> Kind:
    if options.get("choices"):
        return "choice"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "text"
    raise TypeError(f"setting with default {default!r}: give its kind")


def positive_int(default: int, label: str, help: str, group: str, **options: Any) -> Any:
    """A setting that must be an integer >= 1."""
    return setting(default, label, help, group, kind="int", minimum=1, **options)


CLASSIC = ("numpy-rnn", "rnn", "lstm", "gru")
"""The textbook cells."""
MODERN = ("mingru", "minlstm", "indrnn", "lru", "s6", "mlstm", "slstm")
"""The cores of `models.cores` (`models.registry` describes each)."""
ARCHS = CLASSIC + MODERN
"""Every architecture some task offers (a task's entry lists the ones it supports)."""
SCANS = ("auto", "sequential", "log", "chunked", "parallel")
BACKENDS = ("fused", "scratch")
SCHEDULES = ("cosine", "constant")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")
"""fp32; bf16: autocast to bfloat16 (CPU or CUDA); fp16: CUDA autocast with loss scaling."""


@dataclass
class TrainConfig:
    """The settings every run has. A task's own settings: its subclass in tasks/<task>/settings.py.

    Defaults here are generic; each task's registry entry overrides them (`default_config`).
    """

    TASK_GROUPS: ClassVar[tuple[str, ...]] = ()
    """The task's own sections, in order (a subclass sets it)."""
    ARCHS: ClassVar[tuple[str, ...]] = ARCHS
    """The architectures the task offers, its default first (a subclass narrows it)."""
    OPTIONS: ClassVar[tuple[str, ...]] = ("bidirectional", "attention")
    """The architecture options the task has a use for."""
    WITHOUT_OPTIONS: ClassVar[str] = ""
    """Why the task lacks the options it does not list, for the error."""

    task: str = setting("charlm", "Task", "the task registry name", "Model", form=False, cli=False)
    dataset: str = setting(
        "tiny-shakespeare",
        "Dataset",
        "a registry name (`rnn-tui data list`) or a local path in the dataset's format",
        "Data",
        form=False,
        metavar="NAME|PATH",
    )
    arch: str = setting(
        "lstm",
        "Architecture",
        "the recurrent cell (the task lists the ones it supports)",
        "Model",
        kind="text",  # one of the task's ARCHS, checked in `check()`
        form=False,
    )
    backend: str = setting(
        "fused",
        "Backend",
        "fused: nn.LSTM and friends (fast); scratch: our cells written from the equations",
        "Machine",
        choices=BACKENDS,
    )
    layers: int = positive_int(
        2, "Layers", "stacked recurrent layers", "Model", form=False, search=Search.range(1, 3)
    )
    hidden: int = positive_int(
        512,
        "Hidden size",
        "hidden state size per layer and direction",
        "Model",
        form=False,
        search=Search.range(32, 512, step=32),
    )
    embed: int = positive_int(
        64,
        "Embedding",
        "token embedding size",
        "Model",
        form=False,
        search=Search.range(16, 256, step=16),
    )
    bidirectional: bool = setting(
        False,
        "Bidirectional",
        "run a second layer over the reversed sequence (not for language models)",
        "Model",
        form=False,
    )
    attention: bool = setting(
        False,
        "Attention",
        "attention pooling / attention decoder where the task has one",
        "Model",
        form=False,
    )
    block: bool = setting(
        False,
        "Residual blocks",
        "wrap each layer as the recent papers do: norm -> core -> residual -> MLP -> residual",
        "Model",
    )
    scan: str = setting(
        "auto",
        "Scan",
        "how a core runs its recurrence: auto (its fastest), sequential, or its parallel form "
        "(log, chunked: minGRU/minLSTM; chunked: LRU/S6; parallel: mLSTM)",
        "Model",
        choices=SCANS,
    )
    state_size: int | None = positive_int(
        None,
        "State size",
        "LRU: complex state units (default: the hidden size); S6: states per channel (16)",
        "Model",
        optional=True,
        placeholder="the core's default",
    )
    heads: int | None = positive_int(
        None,
        "Heads",
        "memory heads of mLSTM and sLSTM (the hidden size must split into them; default 4)",
        "Model",
        optional=True,
        placeholder="4",
    )
    lr: float = setting(3e-3, "Learning rate", "peak learning rate", "Optimisation", minimum=0.0,
                        above=True, search=Search.range(1e-4, 1e-2, log=True))  # fmt: skip
    schedule: str = setting(
        "cosine",
        "Schedule",
        "cosine: linear warm-up, then cosine decay to lr/10 at the end; constant: lr throughout",
        "Optimisation",
        choices=SCHEDULES,
    )
    warmup_steps: int = setting(
        50, "Warm-up steps", "steps of linear warm-up", "Optimisation", minimum=0
    )
    clip: float = setting(
        1.0,
        "Gradient clip",
        "clip the global gradient norm to this (0 turns clipping off)",
        "Optimisation",
        minimum=0.0,
    )
    weight_decay: float = setting(
        0.0,
        "Weight decay",
        "AdamW weight decay (matrices only)",
        "Optimisation",
        minimum=0.0,
        search=Search.range(1e-6, 1e-2, log=True),
    )
    dropout: float = setting(
        0.0,
        "Dropout",
        "dropout between layers and before the output head",
        "Optimisation",
        minimum=0.0,
        maximum=1.0,
        below=True,
        search=Search.range(0.0, 0.5),
    )
    batch: int = positive_int(
        64, "Batch size", "sequences per batch", "Data", search=Search.range(16, 128, log=True)
    )
    seq_len: int = positive_int(
        128,
        "Sequence length",
        "truncated-BPTT length: time steps per chunk (classifiers: the most tokens read per text)",
        "Data",
        search=Search.range(32, 256, log=True),
    )
    epochs: int | None = positive_int(
        None,
        "Epochs",
        "passes over the training data (empty: as many as the time budget allows)",
        "Budget",
        optional=True,
        placeholder="as many as fit",
    )
    minutes: float | None = setting(
        None,
        "Minutes",
        "wall-clock budget in minutes, evaluation included (empty: no budget)",
        "Budget",
        kind="float",
        minimum=0.0,
        above=True,
        optional=True,
        placeholder="no time limit",
    )
    eval_every_s: float = setting(
        30.0,
        "Eval every (s)",
        "seconds between quick validation estimates (the full evaluation runs per epoch)",
        "Budget",
        minimum=0.0,
        above=True,
        flag="eval-every",
    )
    log_every_s: float = setting(
        0.25,
        "Log every (s)",
        "at most one step event per this many seconds (losses in between are averaged)",
        "Budget",
        minimum=0.0,
        flag="log-every",
        form=False,
    )
    seed: int = setting(
        1337,
        "Seed",
        "seeds Python, NumPy and torch; the data order of each epoch derives from it",
        "Machine",
    )
    threads: int | None = positive_int(
        None,
        "CPU threads",
        "torch CPU threads (empty: torch's default)",
        "Machine",
        optional=True,
        placeholder="torch default",
    )
    device: str = setting(
        "auto", "Device", "auto (CUDA, then MPS, then CPU), cpu, cuda or mps", "Machine",
        choices=DEVICES,
    )  # fmt: skip
    nproc: int = positive_int(
        1,
        "Processes",
        "training processes on this machine (torchrun): each takes its share of every batch's "
        "rows, gradients are averaged",
        "Machine",
    )
    precision: str = setting(
        "fp32",
        "Precision",
        "fp32; bf16: autocast to bfloat16 (CPU or CUDA); fp16: CUDA autocast with loss scaling",
        "Machine",
        choices=PRECISIONS,
    )
    compile: bool = setting(
        False,
        "Compile",
        "torch.compile the model (the first step's compile time is reported)",
        "Machine",
    )

    # -- checking ----------------------------------------------------------------------------

    @classmethod
    def settings(cls) -> dict[str, Setting]:
        """Every declared setting of this class (field name -> `Setting`), in field order."""
        return {
            f.name: f.metadata["setting"]
            for f in dataclasses.fields(cls)
            if "setting" in f.metadata
        }

    @classmethod
    def groups(cls) -> tuple[str, ...]:
        """The sections in order: the shared ones, then the task's own."""
        return SHARED_GROUPS + cls.TASK_GROUPS

    def validate(self) -> TrainConfig:
        """Raise `ConfigError` (naming its field) for the first setting or rule that is broken."""
        for name, meta in self.settings().items():
            meta.check(name, getattr(self, name))
        self.check()
        return self

    def check(self) -> None:
        """Rules across settings (a subclass extends it and calls ``super().check()``)."""
        if self.arch not in self.ARCHS:
            raise ConfigError(
                f"must be one of {', '.join(self.ARCHS)} for {self.task} (got {self.arch!r})",
                "arch",
            )
        for option in ("bidirectional", "attention"):
            if getattr(self, option) and option not in self.OPTIONS:
                raise ConfigError(f"does not apply to {self.task}: {self.WITHOUT_OPTIONS}", option)
        self._check_core()
        self._check_machine()
        if self.epochs is None and self.minutes is None:
            raise ConfigError(
                "give epochs or minutes (or both)",
                "epochs",
                message="give --epochs or --minutes (or both) so the run knows when to stop",
            )

    def _check_machine(self) -> None:
        """Precision and compile against the architecture (the device is checked when the run
        picks it: `tasks.engine.precision.check_precision`)."""
        if self.arch != "numpy-rnn":
            return
        if self.precision != "fp32":
            raise ConfigError(
                f"{self.precision} does not apply to numpy-rnn (NumPy computes in float64)",
                "precision",
            )
        if self.compile:
            raise ConfigError("does not apply to numpy-rnn (no torch model to compile)", "compile")

    def _check_core(self) -> None:
        """The core options against the architecture: one line naming the combination."""
        from models.registry import get_architecture

        arch = get_architecture(self.arch)
        if self.scan != "auto" and self.scan not in arch.scans:
            raise ConfigError(
                f"{self.scan}: {arch.title} runs {' or '.join(arch.scans)}", "scan",
                message=f"--arch {self.arch} has no --scan {self.scan}; it runs "
                f"{', '.join(arch.scans)} (or auto)",
            )  # fmt: skip
        if self.backend == "scratch" and arch.modern:
            raise ConfigError(
                f"scratch applies to rnn, lstm and gru; {self.arch} is written from its "
                "equations already",
                "backend",
            )
        if self.block and self.arch == "numpy-rnn":
            raise ConfigError("does not apply to numpy-rnn (one NumPy layer)", "block")
        if self.state_size is not None and self.arch not in ("lru", "s6"):
            raise ConfigError(f"applies to lru and s6, not {self.arch}", "state_size")
        if self.heads is not None and self.arch not in ("mlstm", "slstm"):
            raise ConfigError(f"applies to mlstm and slstm, not {self.arch}", "heads")
        heads = self.heads or 4
        if self.arch in ("mlstm", "slstm") and self.hidden % heads:
            raise ConfigError(
                f"{self.hidden} does not split into {heads} heads for {self.arch}", "hidden"
            )

    def core_options(self) -> dict[str, Any]:
        """What `models.registry.Architecture.build_layers` takes from these settings.

        IndRNN's bound is chosen for the horizon of the task's sequences (``seq_len``).
        """
        options: dict[str, Any] = {"block": self.block}
        if self.scan != "auto":
            options["scan"] = self.scan
        if self.arch in ("lru", "s6"):
            options["state_size"] = self.state_size
        if self.arch in ("mlstm", "slstm"):
            options["heads"] = self.heads
        if self.arch == "indrnn":
            options["horizon"] = self.seq_len
        return options

    # -- storing -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (stored in checkpoints and run folders)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of `to_dict`; an unknown key is an error naming it; missing keys: defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = [key for key in data if key not in names]
        if unknown:
            what = "key" if len(unknown) == 1 else "keys"
            task = data.get("task", cls.task)
            raise ConfigError(f"unknown setting {what} for task {task}: {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
