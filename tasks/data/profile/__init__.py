"""What is in a dataset: the figures ``rnn-tui data show`` prints and the Data screen draws.

One module per kind of data (`KINDS`), each computing from its task's own reader (the split the
task trains on, its tokenizer): `text` (char LM), `labelled` (sentiment, names), `parallel`
(translation), `series` (timeseries). Torch-free; NumPy (and scikit-learn for a series'
scaling, as the task itself uses).

Which kind a task's data is, the reader the kind calls and the settings that change what it
reads are declared in the task's registry entry (`tasks.registry.TaskInfo.profile`, a
`DataProfile`); nothing here names a task.

A profile is computed once per dataset and kept in the cache per file checksum (`cache`):

- `core.profile(dataset, task, settings, progress)` resolves ``NAME|PATH`` (a local path's task is
  guessed from its format when `task` is None: `detect`), then loads or computes its figures
  and the tables the setting-dependent figures are read from;
- `Profile.report(settings)` is every figure, plus ``live``: what the given ``--seq-len``,
  ``--vocab-size``, ``--min-freq``, ``--max-len`` ... cut or cover (cheap: no data is read);
- `Profile.notes(settings)` is one short line per such setting, for the Configure form.

Example::

    from tasks.data.profile.core import profile

    p = profile("rt-polarity", progress=lambda stage, done: print(stage, done))
    p.report(default_config("sentiment", vocab_size=5000))["live"]["vocabulary"]["val"]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

__all__ = ["KINDS", "DataProfile", "Kind", "profile_settings", "profiled_tasks"]


@dataclass(frozen=True)
class Kind:
    """One kind of data: the module that profiles it and the settings its figures read."""

    module: str
    """The module with ``compute``, ``live`` and ``notes``."""
    title: str
    """What the kind is called: text, labelled text, parallel text, series."""
    live: tuple[str, ...] = ()
    """Settings the setting-dependent figures read, where the task has them."""
    needs_reader: bool = False
    """Whether ``compute`` reads through the task's own reader (`DataProfile.reader`); the
    others read with their data-layer loader (`tasks.data.text`, `parallel`, `series`)."""


KINDS: dict[str, Kind] = {
    "text": Kind("tasks.data.profile.text", "text", live=("batch", "seq_len")),
    "labelled": Kind(
        "tasks.data.profile.labelled",
        "labelled text",
        live=("seq_len", "vocab_size", "min_freq"),
        needs_reader=True,
    ),
    "parallel": Kind("tasks.data.profile.parallel", "parallel text", live=("min_freq", "max_len")),
    "series": Kind(
        "tasks.data.profile.series", "series", live=("seq_len", "horizon", "forecast", "transform")
    ),
}
"""Kind name -> its profile module. Light (no NumPy): the command line reads it to build
options. A plain UTF-8 file that no task's `DataProfile.recognise` claims is read as "text"."""


@dataclass(frozen=True)
class DataProfile:
    """How ``data show`` reads a task's datasets: a field of its registry entry.

    Example (names)::

        DataProfile("labelled", reader="tasks.names.datasets:profile_data",
                    reading=("split_seed", "val_fraction", "test_fraction"),
                    recognise="tasks.names.datasets:recognise",
                    formats="a folder of <Language>.txt files")
    """

    kind: str
    """A key of `KINDS`."""
    reader: str = ""
    """"module:function" ``(dataset, settings) -> data`` the kind computes from, where the kind
    needs one (labelled: a `tasks.data.profile.labelled.LabelledData`). Imported when a profile
    is computed, never at start-up."""
    reading: tuple[str, ...] = ()
    """Settings that change what the reader returns (part of the cache key)."""
    recognise: str = ""
    """"module:function" ``(Sample) -> bool``: whether a local path is in the task's format
    (`tasks.data.profile.detect`; entries are asked in registry order, the first claim wins).
    "" for a task whose paths are never guessed (say ``--task``)."""
    formats: str = ""
    """What `recognise` accepts, for the message on a path that no task claims."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown data kind {self.kind!r}; choose one of: {', '.join(KINDS)}")
        if KINDS[self.kind].needs_reader and not self.reader:
            raise ValueError(f"{self.kind} data needs the task's reader (module:function)")
        if bool(self.recognise) != bool(self.formats):
            raise ValueError("a recogniser and its formats go together")

    @property
    def of_kind(self) -> Kind:
        """Its `Kind`."""
        return KINDS[self.kind]

    def read(self, dataset: str, settings: Any) -> Any:
        """What the task's reader returns for `dataset` with `settings` (imported now)."""
        return _imported(self.reader)(dataset, settings)

    def recognises(self, sample: Any) -> bool:
        """Whether the task's recogniser claims a `detect.Sample` (False when it has none)."""
        return bool(self.recognise) and bool(_imported(self.recognise)(sample))


def _imported(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


def profiled_tasks() -> list[str]:
    """The tasks whose datasets ``data show`` can read, in registry order."""
    from tasks.registry import TASKS

    return [name for name, info in TASKS.items() if info.profile is not None]


def profile_settings(task: str) -> tuple[str, ...]:
    """The settings of `task` that change a profile's figures (its reading and live ones)."""
    from tasks.registry import get_task

    info = get_task(task)
    assert info.profile is not None, f"{task} has no data to profile"
    own = info.settings.settings()
    names = (*info.profile.reading, *info.profile.of_kind.live)
    return tuple(n for n in names if n in own)
