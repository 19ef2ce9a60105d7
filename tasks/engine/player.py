"""The inference side of a task: a `Player` answers inputs with a trained checkpoint.

The contract a task's player class keeps (the registry entry names it: ``TaskInfo.player =
"tasks.<task>.player:<Class>"``; `load_player` imports it only when a checkpoint is loaded):

- ``Class(payload, config, **options)``: `payload` is the dict `load_checkpoint` returned (the
  class reads ``payload["task_state"]`` and, if it wants, ``payload["metrics"]``); `config` is
  the run's settings, already built from ``payload["config"]`` (the task's settings class);
  `options` are the player's own keyword-only settings, each with a default (e.g. ``beam`` for
  translation, ``length`` for generation); an unknown one is a `TypeError` like any call. The
  constructor loads the weights, puts the model in eval mode and needs no data set.
- ``config`` and ``metrics`` attributes: the settings above and the run's metrics
  (``payload.get("metrics", {})``).
- ``describe() -> str``: one line about the model, e.g. ``"gru · 1×128 · 5,000 words"``.
- ``answer(text) -> Answer``: the answer to one input, as a user would type it (a review, a
  sentence, a prime, a surname). An input the model cannot answer raises `ValueError` with one
  line saying why and what to type instead (never a traceback, never a silent guess).
- ``answer_many(texts, batch_size) -> Iterator[Answer]``: one answer per text, in input order,
  equal to ``answer(text)`` for each (the same label, text, probabilities to float noise). Batched
  for real: each group of at most `batch_size` texts goes through the model as one padded (or
  same-length) batch, not a loop of single calls. It raises `InputError` (a `ValueError` carrying
  the position of the refused text in `texts`) for an input `answer` would refuse; every text
  of a group is checked before that group is run, so the answers already yielded stay valid.

An `Answer` is a frozen dataclass of plain values with ``to_dict()`` (JSON-ready: one object per
input for ``--json``) and ``to_text()`` (one line without a line break, for the CLI's plain
output; ``--json`` is the lossless form).

How the players here keep it: ``answer_many`` walks `chunks(texts, batch_size)`, turns each
group into model inputs with `check_each(start, group, read)` (a ValueError from the reader
becomes the `InputError` at the right position), runs one batch and builds the answers; and
``answer(text)`` runs the same code on a group of one. The Play screens call `describe` for the
status line and the task's own domain methods (stream, predict, forecast, translate) besides.

Players are torch-based; this module is not (the registry and the CLI import it freely).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from tasks.engine.checkpoint import CheckpointError, load_checkpoint
from tasks.registry import config_from_dict, get_task

DEFAULT_BATCH = 64
"""Inputs per model call in `answer_many` when the caller does not say."""

T = TypeVar("T")


@runtime_checkable
class Answer(Protocol):
    """What a player returns for one input."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (one object per input for ``--json``)."""
        ...

    def to_text(self) -> str:
        """One line, no line break (the CLI's plain output)."""
        ...


@runtime_checkable
class Player(Protocol):
    """The inference side of a task (see the module docstring for the full contract)."""

    config: Any
    """The run's settings (the task's `TrainConfig` subclass)."""
    metrics: dict[str, Any]
    """The run's metrics as stored in the checkpoint."""

    def describe(self) -> str:
        """One line about the model."""
        ...

    def answer(self, text: str) -> Answer:
        """The answer to one input; `ValueError` (one line) when it cannot be answered."""
        ...

    def answer_many(
        self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH
    ) -> Iterator[Answer]:
        """`answer` for each text, in order, in real batches; `InputError` names a bad one."""
        ...


class InputError(ValueError):
    """An input `answer_many` refuses; `index` is its position (0-based) in the texts given."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


def chunks(texts: Iterable[str], size: int) -> Iterator[tuple[int, list[str]]]:
    """(position of the first, up to `size` texts) groups, in order: `answer_many`'s batches."""
    if size < 1:
        raise ValueError(f"the batch size must be a positive integer (got {size})")
    group: list[str] = []
    start = 0
    for i, text in enumerate(texts):
        if not group:
            start = i
        group.append(text)
        if len(group) == size:
            yield start, group
            group = []
    if group:
        yield start, group


def check_each(start: int, texts: list[str], check: Callable[[str], T]) -> list[T]:
    """`check(text)` for each text of a group; its `ValueError` becomes an `InputError` at
    position ``start + i``. Returns what `check` returned, one per text."""
    out: list[T] = []
    for i, text in enumerate(texts):
        try:
            out.append(check(text))
        except InputError:
            raise
        except ValueError as exc:
            raise InputError(start + i, str(exc)) from None
    return out


def player_class(task: str) -> type:
    """The player class a task's registry entry names (imported now); `ValueError` if none."""
    info = get_task(task)
    if not info.player:
        raise CheckpointError(
            f"{task} checkpoints have no player: nothing answers inputs with them"
        )
    module, _, name = info.player.partition(":")
    return getattr(import_module(module), name)


def load_player(
    checkpoint: str | Path | dict[str, Any], task: str | None = None, **options: Any
) -> Any:
    """The task's player for a checkpoint (a path, a run folder, or a loaded payload).

    `task`, when given, must be the checkpoint's task (`CheckpointError` otherwise); `options`
    go to the player class (its keyword-only settings).
    """
    payload = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint, task)
    found = str(payload.get("task"))
    if task is not None and found != task:
        raise CheckpointError(f"this is a {found!r} checkpoint; this command needs a {task!r} one")
    config = config_from_dict(payload["config"])
    return player_class(found)(payload, config, **options)
