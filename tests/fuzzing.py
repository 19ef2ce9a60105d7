"""What the fuzz tests (tests/test_fuzz_*.py) share: the Hypothesis profiles, inputs made by
mutating small valid files, and a sandbox that checks that a reader wrote nothing.

Profiles, chosen with the environment variable HYPOTHESIS_PROFILE (default ``ci``):

- ``ci``: `CI_EXAMPLES` inputs per reader, derandomized (the same inputs on every run, so a CI
  failure reproduces), no deadline (a slow machine never fails a test);
- ``nightly``: `NIGHTLY_EXAMPLES` inputs per reader, fresh random ones each run::

    HYPOTHESIS_PROFILE=nightly .venv/bin/python -m pytest -q tests/test_fuzz_*.py

Every reader is held to the same property: it returns what it documents, or raises its one-line
error type, never another exception; and it writes nothing, neither beside its input nor in the
working directory, the user folders (RNN_TUI_HOME, RNN_TUI_CACHE, HOME) or the temporary
directory, which `sandbox` points at empty folders of its own for each input.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CI_EXAMPLES = 2_000
NIGHTLY_EXAMPLES = 20_000
_SHARED: dict[str, Any] = {
    "deadline": None,
    "database": None,  # no .hypothesis/ folder in the checkout
    "print_blob": True,  # a failure prints the line that replays it
    "suppress_health_check": [HealthCheck.too_slow],  # a busy machine must not fail CI
}
settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True, **_SHARED)
settings.register_profile("nightly", max_examples=NIGHTLY_EXAMPLES, **_SHARED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

T = TypeVar("T")

SPECIAL: tuple[bytes, ...] = (
    b"",
    b"\n",
    b"\r\n",
    b"\r",
    b"\t",
    b",",
    b'"',
    b"#",
    b"\\",
    b"\x00",
    b"\xef\xbb\xbf",  # a byte-order mark
    b"\xff\xfe",  # a UTF-16 byte-order mark
    b"\xc3",  # a UTF-8 lead byte alone
    b"\xe9",  # Latin-1 é
    b"\x80",  # a continuation byte alone
    "é中\u2028\x85".encode(),  # non-ASCII, a line separator, NEL
    b"NaN",
    b"nan",
    b"inf",
    b"-Infinity",
    b"1e999",
    b"-1e308",
    b"9" * 400,  # an integer beyond the float range
    b"9" * 5000,  # beyond Python's 4300-digit int-from-text limit
    b"-1",
    b"0",
    b"true",
    b"null",
    b"[]",
    b"{}",
    b"[" * 3000,  # nesting deeper than the recursion limit
    b"2020-02-30",
    b"9999-12-31",
)
"""Tokens that break readers: separators, line ends, encodings, odd numbers, deep nesting."""

EDITS = (
    "token", "insert", "delete", "replace", "duplicate", "flip", "truncate", "crlf", "cr", "bom",
    "utf16",
)  # fmt: skip
"""What `mutated` does to a file (the first ones are the gentlest, where shrinking goes)."""


@st.composite
def mutated(draw: st.DrawFn, valid: bytes, max_edits: int = 4) -> bytes:
    """`valid` after up to `max_edits` edits (`EDITS`): a `SPECIAL` token put in, bytes inserted,
    a span deleted, replaced or doubled, a bit flipped, the end cut off, every line end made
    CRLF or CR, a byte-order mark put first, or the whole re-encoded as UTF-16."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(0, max_edits))):
        edit = draw(st.sampled_from(EDITS))
        at = draw(st.integers(0, len(data)))
        end = draw(st.integers(at, min(len(data), at + 24)))
        if edit == "token":
            data[at:at] = draw(st.sampled_from(SPECIAL))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[at:end]
        elif edit == "replace":
            data[at:end] = draw(st.sampled_from(SPECIAL))
        elif edit == "duplicate":
            data[at:at] = data[at:end]
        elif edit == "flip" and data:
            data[min(at, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif edit == "truncate":
            del data[at:]
        elif edit == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        elif edit == "cr":
            data = bytearray(bytes(data).replace(b"\n", b"\r"))
        elif edit == "bom":
            data[0:0] = b"\xef\xbb\xbf"
        elif edit == "utf16":
            data = bytearray(bytes(data).decode("utf-8", "replace").encode("utf-16"))
    return bytes(data)


def garbage(max_size: int = 300) -> st.SearchStrategy[bytes]:
    """Inputs with no structure at all: random bytes, or random text as UTF-8."""
    return st.one_of(
        st.binary(max_size=max_size), st.text(max_size=max_size).map(lambda s: s.encode())
    )


def inputs(*valid: bytes) -> st.SearchStrategy[bytes]:
    """Mutations of the valid examples (most of the inputs), or garbage."""
    return st.one_of(st.sampled_from(valid).flatmap(mutated), garbage())


class Sandbox:
    """One input's folders: `inputs` for the files a test writes, and the folders that must stay
    empty (`watched`: the home, cache, working and temporary directories)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inputs = root / "inputs"
        self.watched = tuple(root / name for name in ("home", "cache", "cwd", "tmp"))

    def write(self, relative: str, data: bytes) -> Path:
        """Write an input file (its folders made as needed); its path."""
        path = self.inputs / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def call(self, reader: Callable[[], T], *errors: type[BaseException]) -> T | BaseException:
        """`reader()`'s result, or its exception when it is one of `errors` (with a message);
        any other exception propagates and fails the test. Then checks that nothing was
        written: the inputs are as they were and every watched folder is still empty."""
        before = _listing(self.inputs)
        try:
            result: T | BaseException = reader()
        except errors as exc:
            assert str(exc).strip().splitlines(), f"{type(exc).__name__} without a message"
            result = exc
        assert _listing(self.inputs) == before, "the reader changed the files it read"
        for folder in self.watched:
            assert not any(folder.iterdir()), f"the reader wrote into the {folder.name} folder"
        return result


_ENVIRONMENT = (
    "RNN_TUI_HOME", "RNN_TUI_CACHE", "RNN_TUI_DATA", "HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
)  # fmt: skip


@contextlib.contextmanager
def sandbox() -> Iterator[Sandbox]:
    """A fresh `Sandbox` for one input: inside the block the user folders (RNN_TUI_HOME,
    RNN_TUI_CACHE, HOME and the XDG ones), the working directory and `tempfile`'s directory are
    its empty folders, and no data root is set; everything is put back and removed after."""
    box = Sandbox(Path(tempfile.mkdtemp(prefix="rnn-tui-fuzz-")))
    home, cache, cwd, tmp = box.watched
    for folder in (box.inputs, *box.watched):
        folder.mkdir()
    saved = {name: os.environ.get(name) for name in _ENVIRONMENT}
    saved_cwd, saved_tempdir = os.getcwd(), tempfile.tempdir
    os.environ.pop("RNN_TUI_DATA", None)
    os.environ.update({"RNN_TUI_HOME": str(home), "RNN_TUI_CACHE": str(cache)})
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        os.environ[name] = str(home)
    os.chdir(cwd)
    tempfile.tempdir = str(tmp)
    try:
        yield box
    finally:
        os.chdir(saved_cwd)
        tempfile.tempdir = saved_tempdir
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(box.root, ignore_errors=True)


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `folder`: relative path -> (size, mtime in ns)."""
    out: dict[str, tuple[int, int]] = {}
    for path in folder.rglob("*"):
        stat = path.lstat()
        out[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return out
