"""Which task's format a local file or folder is in, when ``--task`` does not say.

A catalogue dataset's own file (same sha256) is that dataset's task. Otherwise each task's
registry entry is asked, in registry order, whether the path is in its format
(`DataProfile.recognise`, given a `Sample`: the path and the first `SNIFF_BYTES` of a file as
text); the first that claims it reads it. A UTF-8 text file that no entry claims is plain text
(the first task whose data kind is "text"). Anything else (not UTF-8 and claimed by none, an
empty file, a folder of something else) is in no dataset's format: `DatasetError` in one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tasks.data.catalogue import CATALOGUE, task_of
from tasks.data.info import DatasetError
from tasks.data.resolve import identify, resolve
from tasks.registry import TASKS, get_task

SNIFF_BYTES = 1 << 16
"""How much of a file is read to tell its format."""
SNIFF_LINES = 200
"""`Sample.lines` holds at most this many first non-blank lines."""


@dataclass(frozen=True)
class Sample:
    """What a task's recogniser sees of a local path."""

    path: Path
    text: str | None = None
    """A file's first `SNIFF_BYTES` as UTF-8 (a character cut at the end dropped); None for a
    folder or a file that is not UTF-8 text."""
    binary: str = ""
    """Why a file's `text` is None: its first byte that is not UTF-8."""

    @property
    def is_dir(self) -> bool:
        return self.path.is_dir()

    @property
    def name(self) -> str:
        """The file or folder name, lower-cased."""
        return self.path.name.lower()

    @property
    def lines(self) -> list[str]:
        """The first `SNIFF_LINES` non-blank lines of `text`."""
        lines = (self.text or "").splitlines()[:SNIFF_LINES]
        return [line for line in lines if line.strip()]

    @property
    def header(self) -> str:
        """The first line, without a byte-order mark or spaces, lower-cased."""
        first = (self.text or "").removeprefix("\ufeff").split("\n", 1)[0]
        return first.replace(" ", "").strip().lower()


def split_columns(dataset: str, task: str | None) -> tuple[str, str]:
    """(name or path, the ``#COLUMNS`` of a series spec, or "")."""
    declared = TASKS[task].profile if task in TASKS else None
    series = task is None or (declared is not None and declared.kind == "series")
    if "#" in dataset and series and not os.path.exists(dataset):
        head, _, columns = dataset.rpartition("#")
        return head, columns
    return dataset, ""


def resolve_task(dataset: str, task: str | None) -> str:
    """The task whose reader reads ``--dataset``: `task` when given, else the catalogue's,
    else the one whose format the path is in (`guess_task`)."""
    if task is not None:
        get_task(task)
        return task
    target, _ = split_columns(dataset, task)
    if target in CATALOGUE:
        return CATALOGUE[target].task
    path = Path(target).expanduser()
    if not path.exists():
        resolve(target)  # the one-line error: an unknown name or no such file
    return guess_task(path)


def guess_task(path: Path) -> str:
    """The task whose reader fits `path` (see the module docstring)."""
    info = identify(path)
    if info is not None:
        return task_of(info.name)
    sample = Sample(path) if path.is_dir() else _sample(path)
    for name, entry in TASKS.items():
        if entry.profile is not None and entry.profile.recognises(sample):
            return name
    plain = next((n for n, t in TASKS.items() if t.profile and t.profile.kind == "text"), None)
    if sample.text is not None and plain is not None:
        return plain
    formats = "; ".join(
        f"{name}: {entry.profile.formats}"
        for name, entry in TASKS.items()
        if entry.profile is not None and entry.profile.formats
    )
    if sample.is_dir:
        raise DatasetError(
            f"{path} is a folder in no dataset's format (the tasks read {formats}; "
            "or say which with --task)"
        )
    raise DatasetError(f"{path} is in no dataset's format: {sample.binary or 'no task reads it'}")


def _sample(path: Path) -> Sample:
    """A file's `Sample`: its first `SNIFF_BYTES` as text, or why they are not text."""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not head.strip():
        raise DatasetError(f"{path} is empty" if not head else f"{path} contains only whitespace")
    try:
        return Sample(path, head.decode("utf-8"))
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the block
            return Sample(path, head[: exc.start].decode("utf-8"))
        why = f"it is not UTF-8 text (byte 0x{head[exc.start]:02x} at offset {exc.start})"
        return Sample(path, binary=why)
