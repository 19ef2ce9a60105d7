"""The data catalogue: every dataset of every task, by name and by task.

Each task declares its datasets in its registry entry (`tasks.registry.TaskInfo.datasets`, the
default first); this module gathers them into one table, name -> `Entry` (info, task), so the
task a dataset belongs to is the one that declares it. Where a dataset is found or how it is
downloaded is for `tasks.data.resolve` and `tasks.data.fetch`.

Torch-free and textual-free: the TUI lists datasets before torch loads.

Example::

    for info, task in CATALOGUE.values():
        print(info.name, task)
    default_for("charlm").name  # "tiny-shakespeare"
"""

from __future__ import annotations

from typing import NamedTuple

from tasks.data.info import DatasetError, DatasetInfo
from tasks.registry import TASKS

__all__ = [
    "CATALOGUE",
    "Entry",
    "datasets_for",
    "default_for",
    "get_dataset",
    "names",
    "offline_default",
    "task_of",
]


class Entry(NamedTuple):
    """One catalogue row: a dataset and the task that declares it."""

    info: DatasetInfo
    task: str
    """The registry name of the task whose entry lists `info`."""


def _gather() -> dict[str, Entry]:
    table: dict[str, Entry] = {}
    for task in TASKS.values():
        for info in task.datasets:
            if info.name in table:
                raise ValueError(
                    f"dataset {info.name!r} is declared by both {table[info.name].task} "
                    f"and {task.name}"
                )
            table[info.name] = Entry(info, task.name)
    return table


CATALOGUE: dict[str, Entry] = _gather()
"""Every dataset by name, in registry order (each task's default first); ``rnn-tui data list``
and the TUI list this."""


def names(task: str | None = None) -> list[str]:
    """Every dataset's name, or those of one task."""
    return [name for name, entry in CATALOGUE.items() if task is None or entry.task == task]


def get_dataset(name: str) -> DatasetInfo:
    """The dataset called `name`; `DatasetError` listing the valid names otherwise."""
    try:
        return CATALOGUE[name].info
    except KeyError:
        raise DatasetError(
            f"unknown dataset {name!r}; choose one of: {', '.join(names())}"
        ) from None


def task_of(name: str) -> str:
    """The task that declares the dataset called `name` (`DatasetError` when none does)."""
    get_dataset(name)
    return CATALOGUE[name].task


def datasets_for(task: str) -> list[DatasetInfo]:
    """The datasets of one task, in its declared order: the default first."""
    if task not in TASKS:
        raise DatasetError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    return [entry.info for entry in CATALOGUE.values() if entry.task == task]


def default_for(task: str) -> DatasetInfo:
    """The dataset a task uses when none is named: the first it declares."""
    return datasets_for(task)[0]


def offline_default(task: str) -> DatasetInfo | None:
    """The task's built-in offline default (built locally), or None when it has none."""
    return next((info for info in datasets_for(task) if info.build is not None), None)
