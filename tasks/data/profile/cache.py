"""Profiles cached per file checksum, in ``<cache>/profiles/<key>.json`` (`cache_dir()`).

The key is the sha256 of the dataset's bytes (every file of a folder, by relative path), the
profile format's version and whatever changes what the reader returns (the task, a direction,
a split seed, a value column). A renamed or copied file finds its profile again; a changed one
does not. Entries are written atomically (a temporary file renamed into place) and carry the
sha256 of their content: one that cannot be read back (cut short, edited, an older format) is
recomputed, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tasks.data.fetch import cache_dir

FORMAT = 1
"""Bump when what a profile holds changes: older entries are then recomputed."""
BLOCK = 1 << 20


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, or of a folder's files (relative path and bytes, sorted)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
            _update(digest, file)
    else:
        _update(digest, path)
    return digest.hexdigest()


def _update(digest: Any, path: Path) -> None:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            digest.update(block)


def cache_key(path: Path, params: dict[str, Any]) -> str:
    """The entry's name: the data's checksum with the reading parameters."""
    text = json.dumps({"data": file_digest(path), **params}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def entry_path(key: str) -> Path:
    """Where the profile of `key` is kept."""
    return cache_dir() / "profiles" / f"{key}.json"


def load(key: str) -> dict[str, Any] | None:
    """The stored profile of `key`; None when there is none, or it is cut short, edited or of
    another format (its first line holds the format and the sha256 of the rest)."""
    try:
        head, _, body = entry_path(key).read_bytes().partition(b"\n")
        header = json.loads(head)
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            return None
        if header.get("sha256") != hashlib.sha256(body).hexdigest():
            return None
        data = json.loads(body)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def store(key: str, data: dict[str, Any]) -> None:
    """Write a profile atomically; a cache that cannot be written is skipped silently."""
    body = json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
    header = json.dumps({"format": FORMAT, "sha256": hashlib.sha256(body).hexdigest()})
    path = entry_path(key)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:12]}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(header.encode() + b"\n" + body)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass  # a read-only cache: the profile is simply computed again next time
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
