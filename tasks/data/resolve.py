"""Finding a dataset: what the user typed (``--dataset NAME|PATH``) -> a file or folder on disk.

`resolve` looks, in this order:

1. an existing path is used as is (any file or folder in the dataset's published format);
2. a catalogue name is looked up in the data root (``$RNN_TUI_DATA``: a folder holding each
   dataset at its entry's ``shared_path``, e.g. ``tiny-shakespeare/input.txt``), then in the
   download cache, then downloaded once, with progress and sha256 verification
   (`tasks.data.fetch`);
3. when the download fails, the task's built-in offline default is used instead, and the
   returned `Resolved.note` says so in one human line for the UI to show.

`status` says the same for a listing, without downloading: "found in data root", "cached",
"download 1.1 MB", "offline default" or "generated".

Example::

    r = resolve("tiny-shakespeare", progress=lambda done, total: print(done, total))
    if r.source == "offline default":
        print(r.note)
    text = read_text(r.path)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tasks.data.catalogue import CATALOGUE, names, offline_default, task_of
from tasks.data.fetch import Progress, cached_path, fetch
from tasks.data.info import DatasetError, DatasetInfo, Resolved

__all__ = [
    "DATA_ENV",
    "data_root",
    "find_local",
    "human_size",
    "identify",
    "resolve",
    "status",
]

DATA_ENV = "RNN_TUI_DATA"
"""Environment variable naming a data root: each dataset at its entry's ``shared_path``."""


def data_root() -> Path | None:
    """The data root from ``$RNN_TUI_DATA`` (each dataset at its entry's ``shared_path``).

    None when the variable is unset or empty, or does not name an existing folder.
    """
    env = os.environ.get(DATA_ENV, "").strip()
    if not env:
        return None
    root = Path(env).expanduser()
    return root if root.is_dir() else None


def _data_root_path(info: DatasetInfo) -> Path | None:
    root = data_root()
    if root is None or info.shared_path is None:
        return None
    path = root / info.shared_path
    return path if info.is_complete(path) else None


def find_local(info: DatasetInfo) -> Resolved | None:
    """The dataset in the data root, else in the cache, without downloading; else None.

    Offline defaults are not looked up here (they are built by `fetch`).
    """
    if info.offline:
        return None
    path = _data_root_path(info)
    if path is not None:
        return Resolved(path, info, "data root", f"{info.name} from the data root: {path}")
    path = cached_path(info)
    if path is not None:
        return Resolved(path, info, "cache", f"{info.name} from the cache: {path}")
    return None


def identify(path: str | os.PathLike[str]) -> DatasetInfo | None:
    """The catalogue dataset whose published file this is (same sha256), or None.

    Lets a local copy of a catalogue dataset get that dataset's settings.
    """
    p = Path(path)
    if not p.is_file():
        return None
    size = p.stat().st_size
    candidates = [e.info for e in CATALOGUE.values() if e.info.sha256 and e.info.size_bytes == size]
    if not candidates:
        return None
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    return next((i for i in candidates if i.sha256 == digest), None)


def human_size(n: int) -> str:
    """Bytes as a short decimal size: ``1115394 -> "1.1 MB"``, ``2180 -> "2.2 kB"``."""
    if n < 1000:
        return f"{n} B"
    size = float(n)
    for unit in ("kB", "MB"):
        size /= 1000
        if size < 999.95:
            return f"{size:.1f} {unit}"
    return f"{size / 1000:.1f} GB"


def status(info: DatasetInfo) -> str:
    """One word or two for a listing.

    "generated", "offline default", "found in data root", "cached", or "download 1.1 MB".
    """
    if info.generated:
        return "generated"
    if info.offline:
        return "offline default"
    if _data_root_path(info) is not None:
        return "found in data root"
    if cached_path(info) is not None:
        return "cached"
    return f"download {human_size(info.size_bytes)}"


def _looks_like_path(text: str) -> bool:
    return os.sep in text or "/" in text or text.startswith((".", "~")) or Path(text).suffix != ""


def resolve(
    name_or_path: str | os.PathLike[str],
    progress: Progress | None = None,
    allow_offline: bool = True,
    *,
    task: str | None = None,
) -> Resolved:
    """Turn ``--dataset NAME|PATH`` into a file or folder on disk.

    An existing path is used as is. A catalogue name is looked up in the data root, then in the
    cache, then downloaded (with `progress`). When the download fails and `allow_offline` is
    true, the task's offline default is used and `Resolved.note` says why, in one line.

    Args:
        name_or_path: a catalogue name (see `CATALOGUE`) or the path of a file or folder.
        progress: ``progress(done, total)`` byte counts while downloading.
        allow_offline: fall back to the task's offline default when the download fails.
        task: when given, a catalogue name must belong to this task.

    Raises:
        DatasetError: an unknown name that is no existing path, a dataset of another task, or a
            failed download with no fallback.
    """
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if text and path.exists():
        return Resolved(path, None, "local path", f"using {path}")

    entry = CATALOGUE.get(text)
    if entry is None:
        valid = ", ".join(names(task) if task is not None else names())
        if _looks_like_path(text):
            raise DatasetError(
                f"no such file or folder: {text!r}; give an existing path or one of: {valid}"
            )
        raise DatasetError(
            f"unknown dataset {text!r}; choose one of: {valid} "
            "(or give the path of an existing file or folder)"
        )
    info = entry.info
    if task is not None and entry.task != task:
        raise DatasetError(
            f"{info.name!r} is a {entry.task} dataset, not a {task} one; "
            f"choose one of: {', '.join(names(task))}"
        )

    if info.offline:
        return Resolved(
            fetch(info.name),
            info,
            "offline default",
            f"using the built-in {info.title} ({info.name})",
        )
    local = find_local(info)
    if local is not None:
        return local
    try:
        path = fetch(info.name, progress)
    except DatasetError as exc:
        fallback = offline_default(task_of(info.name))
        if not allow_offline or fallback is None:
            raise
        return Resolved(
            fetch(fallback.name),
            fallback,
            "offline default",
            f"{info.name} not available offline ({exc.reason}); "
            f"using the built-in {fallback.title} ({fallback.name}) instead",
        )
    return Resolved(path, info, "download", f"downloaded {info.name} to {path}")
