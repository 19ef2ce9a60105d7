"""What a dataset is: the types every task declares its datasets with.

Light on purpose (stdlib only): `tasks.registry` and every ``tasks/<task>/datasets.py`` import
this module, and the catalogue, the fetcher and the resolver build on it.

Three kinds of dataset:

- **downloaded**: one file at `DatasetInfo.url` (with its `sha256`), or the downloads listed in
  `DatasetInfo.files`: a `RemoteFile` each (kept as is, gunzipped, or one member taken out of a
  zip), or a `RemoteZip` (one zip, several members taken out, each checked by its own sha256);
- **built in**: `DatasetInfo.build` returns the file's text, written locally on first use; the
  task's offline default;
- **generated**: the task makes its data itself as it runs (`DatasetInfo.generated`); there is
  no file at all.

A dataset may list `Reference` results measured on it (published models, simple baselines):
each names the task's quantity it is measured in, so a chart draws it only on that quantity's
axis.

Example (a folder of two members of one zip whose own checksum is unknown)::

    DatasetInfo(
        name="pair", title="A pair", description="Two files.", url="https://example.org/p.zip",
        license="CC0", filename="pair", shared_path="pair",
        files=(RemoteZip("https://example.org/p.zip", None, 2048, (
            ZipMember("p/a.txt", sha_a, 1000), ZipMember("p/b.txt", sha_b, 1200),
        )),),
    )
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "DatasetError",
    "DatasetInfo",
    "Download",
    "Reference",
    "RemoteFile",
    "RemoteZip",
    "Resolved",
    "Source",
    "Split",
    "ZipMember",
    "github_raw",
]


def github_raw(repo: str, commit: str, path: str) -> str:
    """The download URL of one file of a GitHub repository at a fixed commit."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


Source = Literal["local path", "data root", "cache", "download", "offline default"]

Split = Literal["val", "test"]
"""The part of a dataset a result is measured on."""


class DatasetError(ValueError):
    """A dataset could not be found, downloaded, verified or read. The message is one line.

    `reason` is a shorter phrase for notes such as "connection refused" (the message itself
    when none is given).
    """

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


@dataclass(frozen=True)
class RemoteFile:
    """One file to download for a dataset, turned into one file of it.

    Single-file datasets describe their one download with `DatasetInfo.url`, `sha256`,
    `size_bytes` and `filename` and need no `RemoteFile`; folder datasets and downloads that
    must be unpacked list theirs in `DatasetInfo.files`.
    """

    url: str
    """Where to download it from."""
    sha256: str | None
    """Checksum of the bytes as downloaded (before unpacking)."""
    size_bytes: int
    """Size as downloaded."""
    target: str
    """Name of the finished file: inside the dataset's folder, or the dataset's file itself."""
    unpack: Literal["gzip", "zip"] | None = None
    """How to turn the download into `target`: gunzip it, or extract `member` from a zip."""
    member: str | None = None
    """The zip member to extract when ``unpack == "zip"``."""

    def targets(self) -> tuple[str, ...]:
        """The names of the files this download becomes."""
        return (self.target,)


@dataclass(frozen=True)
class ZipMember:
    """One file taken out of a `RemoteZip`, checked against its own sha256."""

    path: str
    """Its path inside the zip, e.g. ``"data/names/Arabic.txt"``."""
    sha256: str
    """Checksum of the extracted bytes."""
    size_bytes: int
    """Size once extracted."""
    target: str = ""
    """Its name in the dataset's folder (or the dataset's file itself); "" for the last part
    of `path`."""

    @property
    def name(self) -> str:
        """The finished file's name: `target`, else the last part of `path`."""
        return self.target or self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class RemoteZip:
    """A zip downloaded once, from which several members are taken, each verified by its own
    sha256; the rest of the zip is discarded.

    The zip's own checksum may be unknown (None): every extracted member is checked instead, so
    a changed archive still fails with one line, and nothing is kept.
    """

    url: str
    """Where to download the zip from."""
    sha256: str | None
    """Checksum of the zip as downloaded, None when it is not known."""
    size_bytes: int
    """Size of the zip as downloaded (for progress and listings; the server's Content-Length
    takes over while downloading)."""
    members: tuple[ZipMember, ...]
    """The files to take out of it."""

    def targets(self) -> tuple[str, ...]:
        """The names of the files this download becomes."""
        return tuple(m.name for m in self.members)


Download = RemoteFile | RemoteZip
"""One download of a dataset."""


@dataclass(frozen=True)
class Reference:
    """A result to compare with, on one split of a dataset, in one quantity of its task.

    Charts draw it as a dim line on the axis of that quantity only (`tasks.engine.quantity`),
    e.g. ``Reference("NBSVM", 0.794, "accuracy", "test", "Wang & Manning, ACL 2012")``.
    """

    label: str
    """Who or what scored it, e.g. "NBSVM"."""
    value: float
    """The score."""
    quantity: str
    """The name of the task's `Quantity` it is measured in, e.g. "accuracy"."""
    split: Split
    """The part of the data it is measured on."""
    source: str
    """Where the number comes from (paper, tutorial, or how it was measured)."""

    @property
    def line_label(self) -> str:
        """How its line is labelled on a chart: `NBSVM · test 0.794`."""
        return f"{self.label} · {self.split} {self.value:.4g}"


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset: what it is and where it comes from. Declared by its task (the catalogue
    knows which task declares it)."""

    name: str
    """Catalogue name, as typed after ``--dataset``."""
    title: str
    """Short human title."""
    description: str
    """One or two sentences: what it holds and its format."""
    url: str
    """Canonical source: the download URL of a single-file dataset, else the source page."""
    license: str
    """License or terms as stated by the source."""
    filename: str = ""
    """Name of the file (or folder, for multi-file datasets) in the cache; "" when generated."""
    sha256: str | None = None
    """sha256 of the file as downloaded from `url`; None for folder datasets (see `files`)."""
    size_bytes: int = 0
    """Download size in bytes (all downloads together); 0 for built-in and generated ones."""
    shared_path: str | None = None
    """Where a copy lives under a data root, e.g. ``"tiny-shakespeare/input.txt"``."""
    files: tuple[Download, ...] = ()
    """The downloads of a folder dataset or of an archive to unpack; empty when the single file
    at `url` is the dataset as is."""
    build: Callable[[], str] | None = None
    """For a built-in offline default: returns the file's text (same on every run); it is
    written to the cache on first use and never downloaded."""
    generated: bool = False
    """True when the task generates its data as it runs: nothing is stored or downloaded."""
    references: tuple[Reference, ...] = ()
    """Results measured on this dataset, drawn as reference lines on its quantity's charts."""

    def __post_init__(self) -> None:
        if self.build is not None and self.generated:
            raise ValueError(f"DatasetInfo {self.name!r}: either built or generated, not both")
        if self.offline and (self.files or self.sha256 or self.shared_path):
            raise ValueError(f"DatasetInfo {self.name!r}: a built-in dataset has no download")
        if not self.generated and not self.filename:
            raise ValueError(f"DatasetInfo {self.name!r}: needs a filename")

    @property
    def offline(self) -> bool:
        """True for a built-in or generated dataset (never downloaded)."""
        return self.build is not None or self.generated

    def downloads(self) -> tuple[Download, ...]:
        """The downloads, in order (empty for built-in and generated datasets)."""
        if self.offline:
            return ()
        if self.files:
            return self.files
        return (RemoteFile(self.url, self.sha256, self.size_bytes, self.filename),)

    def targets(self) -> tuple[str, ...]:
        """The names of the finished files (inside the folder, for a folder dataset)."""
        return tuple(name for d in self.downloads() for name in d.targets())

    @property
    def is_folder(self) -> bool:
        """True when the dataset is a folder of several files rather than one file."""
        return len(self.targets()) > 1

    def is_complete(self, path: Path) -> bool:
        """Whether `path` holds the whole dataset: the file, or a folder with every file."""
        if self.is_folder:
            return path.is_dir() and all((path / name).is_file() for name in self.targets())
        return path.is_file()


@dataclass(frozen=True)
class Resolved:
    """Where a dataset was found, and a line for the UI saying how."""

    path: Path
    """The file or folder to load."""
    info: DatasetInfo | None
    """The catalogue entry, or None for a local path given by the user."""
    source: Source
    """How it was found: "local path", "data root", "cache", "download" or "offline default"."""
    note: str
    """One human line, e.g. why an offline default is used instead of the requested dataset."""
