"""The dataset registry: where each task's real data comes from, and how to get it.

Every entry names its canonical source, checksum, license and size. `resolve` turns what a user
typed (``--dataset NAME|PATH``) into a file or folder on disk, in this order:

1. an existing path is used as is (any file or folder in the dataset's published format);
2. a registry name is looked up in the data root (``$RNN_TUI_DATA``, a folder laid out like
   ``../shared/data``), then in the download cache (``$RNN_TUI_CACHE`` or the platform's user
   cache folder), then downloaded once, with progress and sha256 verification;
3. when the download fails, the task's built-in offline default is used instead, and the
   returned `Resolved.note` says so in one human line for the UI to show.

This module imports neither torch nor textual (the TUI lists datasets before torch loads), and
it imports pooch and platformdirs only when it needs them.

Example::

    r = resolve("tiny-shakespeare", progress=lambda done, total: print(done, total))
    if r.source == "offline default":
        print(r.note)
    text = read_text(r.path)
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

__all__ = [
    "DATASETS",
    "TASKS",
    "DatasetError",
    "DatasetInfo",
    "Progress",
    "RemoteFile",
    "Resolved",
    "Source",
    "cache_dir",
    "cached_path",
    "data_root",
    "datasets_for",
    "default_for",
    "fetch",
    "find_local",
    "get_dataset",
    "human_size",
    "identify",
    "offline_default",
    "offline_text",
    "read_text",
    "resolve",
    "status",
]

TASKS = ("charlm", "sentiment", "timeseries", "translation", "gradflow")
"""The task names, as the CLI and the task registry spell them."""

CACHE_ENV = "RNN_TUI_CACHE"
"""Environment variable that overrides the download cache folder."""

DATA_ENV = "RNN_TUI_DATA"
"""Environment variable naming a data root laid out like ``../shared/data``."""

TIMEOUT_S = (10.0, 60.0)
"""(connect, read) timeouts for downloads, in seconds: an offline machine fails fast."""

Progress = Callable[[int, int], None]
"""A download progress callback: ``progress(bytes_done, bytes_total)``."""

Source = Literal["local path", "data root", "cache", "download", "offline default"]


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
    """One file to download for a dataset.

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


@dataclass(frozen=True)
class DatasetInfo:
    """One registry entry: what a dataset is and where it comes from."""

    name: str
    """Registry name, as typed after ``--dataset``."""
    task: str
    """The task it is for: one of `TASKS`."""
    title: str
    """Short human title."""
    description: str
    """One or two sentences: what it holds and its format."""
    url: str
    """Canonical source: the download URL of a single-file dataset, else the source page."""
    filename: str
    """Name of the file (or folder, for multi-file datasets) in the cache."""
    sha256: str | None
    """sha256 of the file as downloaded from `url`; None for folder datasets (see `files`)."""
    license: str
    """License or terms as stated by the source."""
    size_bytes: int
    """Download size in bytes (all files together); 0 for offline defaults built locally."""
    shared_path: str | None
    """Where a copy lives under a data root, e.g. ``"tiny-shakespeare/input.txt"``."""
    offline: bool = False
    """True for a built-in offline default (built locally, never downloaded)."""
    files: tuple[RemoteFile, ...] = field(default=())
    """The downloads of a folder dataset or of an archive to unpack; empty when the single file
    at `url` is the dataset as is."""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"DatasetInfo {self.name!r}: unknown task {self.task!r}")

    @property
    def is_folder(self) -> bool:
        """True when the dataset is a folder of several files rather than one file."""
        return len(self.files) > 1

    def downloads(self) -> tuple[RemoteFile, ...]:
        """The files to download, in order (empty for offline defaults)."""
        if self.offline:
            return ()
        if self.files:
            return self.files
        return (RemoteFile(self.url, self.sha256, self.size_bytes, self.filename),)


@dataclass(frozen=True)
class Resolved:
    """Where a dataset was found, and a line for the UI saying how."""

    path: Path
    """The file or folder to load."""
    info: DatasetInfo | None
    """The registry entry, or None for a local path given by the user."""
    source: Source
    """How it was found: "local path", "data root", "cache", "download" or "offline default"."""
    note: str
    """One human line, e.g. why an offline default is used instead of the requested dataset."""


# ------------------------------------------------------------------------------------------
# The registry
# ------------------------------------------------------------------------------------------


def _raw(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


_RT = ("dennybritz/cnn-text-classification-tf", "18762b459e21d9c70e5c242f8d43fc4e6db37a0d")
_M30K = ("multi30k/dataset", "a3d2e0d26b56f3846f66a952536ffed4e401d05a")
_BROWNLEE = ("jbrownlee/Datasets", "d20fcb6402ae34e653d4513b00f39257bb37ed7f")
_TSDL = "no license stated (jbrownlee/Datasets; Time Series Data Library, R. Hyndman)"
_TATOEBA = "CC-BY 2.0 (France); attribution: tatoeba.org and manythings.org/anki"

_FRA_ZIP = _raw("modelexlab/data", "adddaf33ac35572bcfeb421efec29435e7ea9332", "fra-eng.zip")
_FRA_ZIP_SHA = "161c93f18da3a7e6df611ed961426613260de8af06ccf8c79c977afe5135ac44"

_M30K_FILES = tuple(
    RemoteFile(_raw(*_M30K, f"data/task1/raw/{name}.gz"), sha, size, name, unpack="gzip")
    for name, sha, size in (
        ("train.en", "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f", 568929),
        ("train.de", "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6", 637044),
        ("val.en", "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28", 21650),
        ("val.de", "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a", 24681),
        (
            "test_2016_flickr.en",
            "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
            21077,
        ),
        (
            "test_2016_flickr.de",
            "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
            22890,
        ),
    )
)

_RT_FILES = tuple(
    RemoteFile(_raw(*_RT, f"data/rt-polaritydata/{name}"), sha, size, name)
    for name, sha, size in (
        (
            "rt-polarity.pos",
            "4134882974a28d0c7b5151256f0e33a6169984ee7372c279e673f1114f475d58",
            626395,
        ),
        (
            "rt-polarity.neg",
            "2d11cfbc790f1cd96d78339f41ce53ced1efa83cd22d37d6788fa3fe3d17e2fd",
            612506,
        ),
    )
)

_ENTRIES = (
    # -- charlm --------------------------------------------------------------------------
    DatasetInfo(
        name="tiny-shakespeare",
        task="charlm",
        title="Tiny Shakespeare",
        description="About 1.1 MB of Shakespeare's plays (40,000 lines of ASCII play script), "
        "the char-rnn example corpus.",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        filename="input.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        license="MIT (karpathy/char-rnn); the text is Shakespeare, public domain",
        size_bytes=1115394,
        shared_path="tiny-shakespeare/input.txt",
    ),
    DatasetInfo(
        name="pydoc-prose",
        task="charlm",
        title="Python documentation prose",
        description="The prose of the Python language reference topics that ship with every "
        "Python install (pydoc_data.topics), joined into one text; the offline default.",
        url="https://github.com/python/cpython/blob/main/Lib/pydoc_data/topics.py",
        filename="pydoc-prose.txt",
        sha256=None,
        license="PSF License (Python documentation)",
        size_bytes=0,
        shared_path=None,
        offline=True,
    ),
    # -- sentiment -----------------------------------------------------------------------
    # The download is Stanford's aclImdb_v1.tar.gz (aclImdb/{train,test}/{pos,neg}, plus
    # train/unsup); the shared/data copy is a repack of the same reviews whose train split is
    # cut into train/ and val/. Both are tar.gz archives of aclImdb/: the loader reads either.
    DatasetInfo(
        name="imdb",
        task="sentiment",
        title="IMDB Large Movie Review Dataset v1.0",
        description="50,000 labeled movie reviews (25k train, 25k test, balanced pos/neg), "
        "one review per text file in a tar.gz (aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt).",
        url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        filename="aclImdb_v1.tar.gz",
        sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
        license="no license stated; cite Maas et al., ACL 2011",
        size_bytes=84125825,
        shared_path="imdb/aclImdb_dax44.tar.gz",
    ),
    DatasetInfo(
        name="rt-polarity",
        task="sentiment",
        title="Rotten Tomatoes sentence polarity v1.0 (MR)",
        description="10,662 review snippets, one per line: rt-polarity.pos (5,331 positive) "
        "and rt-polarity.neg (5,331 negative), UTF-8, lower-cased and tokenized.",
        url=f"https://github.com/{_RT[0]}/tree/{_RT[1]}/data/rt-polaritydata",
        filename="rt-polarity",
        sha256=None,
        license="no data license stated; cite Pang & Lee, ACL 2005",
        size_bytes=sum(f.size_bytes for f in _RT_FILES),
        shared_path="rt-polarity",
        files=_RT_FILES,
    ),
    DatasetInfo(
        name="chnsenticorp",
        task="sentiment",
        title="ChnSentiCorp hotel reviews (Chinese)",
        description="7,766 Chinese hotel reviews from Ctrip, CSV with header label,review "
        "(1 positive, 0 negative; about 69/31).",
        url=_raw(
            "SophonPlus/ChineseNlpCorpus",
            "a0b781d72158bde242c0626c9e354d2b328865ff",
            "datasets/ChnSentiCorp_htl_all/ChnSentiCorp_htl_all.csv",
        ),
        filename="ChnSentiCorp_htl_all.csv",
        sha256="1d414b9c65caf3a836abdb4efded621968502ad3338e1a9d885ae131c86083f0",
        license="no license stated (corpus compiled by Tan Songbo)",
        size_bytes=2904858,
        shared_path="chnsenticorp/ChnSentiCorp_htl_all.csv",
    ),
    # -- timeseries ----------------------------------------------------------------------
    DatasetInfo(
        name="airline-passengers",
        task="timeseries",
        title="International airline passengers, 1949-1960",
        description="144 monthly totals in thousands (Box & Jenkins), CSV Month,Passengers.",
        url=_raw(*_BROWNLEE, "airline-passengers.csv"),
        filename="airline-passengers.csv",
        sha256="8cb51be753a718d9be5d76d7e238cc224792754676adc21faa59e954b0201621",
        license=_TSDL,
        size_bytes=2180,
        shared_path="timeseries/airline-passengers.csv",
    ),
    DatasetInfo(
        name="daily-min-temperatures",
        task="timeseries",
        title="Daily minimum temperatures, Melbourne, 1981-1990",
        description="3,650 daily minimum temperatures in °C, CSV Date,Temp.",
        url=_raw(*_BROWNLEE, "daily-min-temperatures.csv"),
        filename="daily-min-temperatures.csv",
        sha256="8b9de63ed6789492bf497625e7f9beb96a63d367b4b0a21754006f749fa5e5da",
        license=_TSDL,
        size_bytes=67921,
        shared_path="timeseries/daily-min-temperatures.csv",
    ),
    DatasetInfo(
        name="monthly-sunspots",
        task="timeseries",
        title="Zurich monthly sunspot numbers, 1749-1983",
        description="2,820 monthly mean sunspot numbers, CSV Month,Sunspots.",
        url=_raw(*_BROWNLEE, "monthly-sunspots.csv"),
        filename="monthly-sunspots.csv",
        sha256="c4ec8cc57d9f6fb6ecdb3e1f37f25b6f4badd5124c55931052b0cd2fc3bc71f3",
        license=_TSDL,
        size_bytes=45039,
        shared_path="timeseries/monthly-sunspots.csv",
    ),
    DatasetInfo(
        name="sp500",
        task="timeseries",
        title="S&P 500 index, daily, 2000-2018",
        description="4,697 trading days of OHLC and volume, CSV Date,Open,High,Low,Close,Volume "
        "with DD-MM-YY dates.",
        url=_raw(
            "jaungiers/LSTM-Neural-Network-for-Time-Series-Prediction",
            "da44411c91135b64c02eb60da3c7f574c7c4c253",
            "data/sp500.csv",
        ),
        filename="sp500.csv",
        sha256="b11593884d3aef8cb6d5671352db4203498251e624e6fee16ae6df32b66db9d7",
        license="AGPL-3.0 (the source repo's license, written for its code); "
        "index values are public market data",
        size_bytes=310533,
        shared_path="timeseries/sp500.csv",
    ),
    DatasetInfo(
        name="synthetic-series",
        task="timeseries",
        title="Synthetic monthly series (trend + seasonality + noise)",
        description="240 generated monthly values, 2000-01 to 2019-12: a linear trend, a "
        "12-month seasonal cycle and seeded Gaussian noise, CSV month,value; the offline default.",
        url="https://otexts.com/fpp3/tspatterns.html",
        filename="synthetic-series.csv",
        sha256=None,
        license="generated by rnn-tui (no third-party data)",
        size_bytes=0,
        shared_path=None,
        offline=True,
    ),
    # -- translation ---------------------------------------------------------------------
    DatasetInfo(
        name="multi30k",
        task="translation",
        title="Multi30k English-German (task 1)",
        description="Image captions and their German translations, one sentence per line: "
        "train 29,000, val 1,014, test_2016_flickr 1,000 pairs ({split}.en / {split}.de).",
        url=f"https://github.com/{_M30K[0]}/tree/{_M30K[1]}/data/task1/raw",
        filename="multi30k-en-de",
        sha256=None,
        license="no license stated; Flickr30K terms of use apply; cite Elliott et al., 2016",
        size_bytes=sum(f.size_bytes for f in _M30K_FILES),
        shared_path="translation/multi30k-en-de",
        files=_M30K_FILES,
    ),
    DatasetInfo(
        name="tatoeba-cmn-eng",
        task="translation",
        title="Tatoeba English-Chinese sentence pairs",
        description="28,447 pairs, tab-separated English<TAB>Chinese<TAB>attribution "
        "(manythings.org Anki release).",
        url=_raw(
            "JimEverest/transformer-ready-go",
            "7745df43beea3501a578e17090277ea2d755cb82",
            "data/cmn.txt",
        ),
        filename="cmn.txt",
        sha256="3a8ac6cb8cdaab6e235d3075ec3680084044d975882d6139c903bf7893097ff6",
        license=_TATOEBA,
        size_bytes=4052123,
        shared_path="translation/cmn-eng/cmn.txt",
    ),
    DatasetInfo(
        name="tatoeba-fra-eng",
        task="translation",
        title="Tatoeba English-French sentence pairs",
        description="167,130 pairs, tab-separated English<TAB>French (manythings.org Anki "
        "release of 2019-04-07; fra.txt from fra-eng.zip).",
        url=_FRA_ZIP,
        filename="fra.txt",
        sha256=_FRA_ZIP_SHA,
        license=_TATOEBA,
        size_bytes=3424571,
        shared_path="translation/fra-eng/fra.txt",
        files=(
            RemoteFile(
                _FRA_ZIP, _FRA_ZIP_SHA, 3424571, "fra.txt", unpack="zip", member="fra-eng/fra.txt"
            ),
        ),
    ),
)

DATASETS: dict[str, DatasetInfo] = {info.name: info for info in _ENTRIES}
"""Every dataset by name, grouped by task; the TUI and ``rnn-tui data list`` list this."""


def _names(infos: Iterable[DatasetInfo] | None = None) -> str:
    return ", ".join(info.name for info in (DATASETS.values() if infos is None else infos))


def datasets_for(task: str) -> list[DatasetInfo]:
    """The datasets of one task, real ones first and the offline default last."""
    if task not in TASKS:
        raise DatasetError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    infos = [info for info in DATASETS.values() if info.task == task]
    return sorted(infos, key=lambda info: info.offline)


def get_dataset(name: str) -> DatasetInfo:
    """The registry entry called `name`; `DatasetError` listing the valid names otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DatasetError(f"unknown dataset {name!r}; choose one of: {_names()}") from None


def default_for(task: str) -> DatasetInfo | None:
    """The dataset a task uses when none is named: its first real dataset (None for gradflow)."""
    infos = datasets_for(task)
    return infos[0] if infos else None


def offline_default(task: str) -> DatasetInfo | None:
    """The task's built-in offline default, or None when it has none (yet)."""
    return next((info for info in datasets_for(task) if info.offline), None)


# ------------------------------------------------------------------------------------------
# Where things live
# ------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """The download cache: ``$RNN_TUI_CACHE`` or the user cache folder for "rnn-tui".

    The folder is not created here; `fetch` creates it when it first writes.
    """
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("rnn-tui", appauthor=False))


def data_root() -> Path | None:
    """The data root from ``$RNN_TUI_DATA`` (a folder laid out like ``../shared/data``).

    None when the variable is unset or empty, or does not name an existing folder.
    """
    env = os.environ.get(DATA_ENV, "").strip()
    if not env:
        return None
    root = Path(env).expanduser()
    return root if root.is_dir() else None


def _complete(path: Path, info: DatasetInfo) -> bool:
    """Whether `path` holds the whole dataset: the file, or a folder with every file."""
    if info.is_folder:
        return path.is_dir() and all((path / f.target).is_file() for f in info.files)
    return path.is_file()


def _cache_target(info: DatasetInfo) -> Path:
    return cache_dir() / info.name / info.filename


def cached_path(info: DatasetInfo) -> Path | None:
    """The dataset's file (or folder) in the cache, or None when it is not (wholly) there."""
    target = _cache_target(info)
    return target if _complete(target, info) else None


def _data_root_path(info: DatasetInfo) -> Path | None:
    root = data_root()
    if root is None or info.shared_path is None:
        return None
    path = root / info.shared_path
    return path if _complete(path, info) else None


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
    """The registry entry whose published file this is (same sha256), or None.

    Lets a local copy of a registered dataset get that dataset's settings.
    """
    p = Path(path)
    if not p.is_file():
        return None
    candidates = [i for i in DATASETS.values() if i.sha256 and i.size_bytes == p.stat().st_size]
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

    "offline default", "found in data root", "cached", or "download 1.1 MB".
    """
    if info.offline:
        return "offline default"
    if _data_root_path(info) is not None:
        return "found in data root"
    if cached_path(info) is not None:
        return "cached"
    return f"download {human_size(info.size_bytes)}"


# ------------------------------------------------------------------------------------------
# Offline defaults
# ------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def offline_text() -> str:
    """The charlm offline default: the prose of ``pydoc_data.topics``, every topic joined.

    Topics are taken in sorted order and separated by a blank line, so the text is the same on
    every run of the same Python (about 460 KB on 3.11); nothing is downloaded.
    """
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key].strip() for key in sorted(topics)) + "\n"


def synthetic_series_csv() -> str:
    """The timeseries offline default: 240 monthly values of trend + seasonality + noise.

    value = 100 + 0.5 t + 10 sin(2 pi t / 12) + 4 cos(2 pi t / 6) + N(0, 3), rounded to 0.01,
    with a fixed seed, so every install builds the same file (stdlib only, no NumPy).
    """
    import math
    import random

    rng = random.Random(20240101)
    lines = ["month,value"]
    for t in range(240):
        value = (
            100 + 0.5 * t + 10 * math.sin(2 * math.pi * t / 12)
            + 4 * math.cos(2 * math.pi * t / 6) + rng.gauss(0, 3)
        )  # fmt: skip
        lines.append(f"{2000 + t // 12}-{t % 12 + 1:02d},{value:.2f}")
    return "\n".join(lines) + "\n"


_OFFLINE_BUILDERS: dict[str, Callable[[], str]] = {
    "pydoc-prose": offline_text,
    "synthetic-series": synthetic_series_csv,
}


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _build_offline(info: DatasetInfo) -> Path:
    """Write an offline default to the cache (or a temp folder) and return its path."""
    text = _OFFLINE_BUILDERS[info.name]()
    target = _cache_target(info)
    try:
        if not (target.is_file() and target.read_text(encoding="utf-8") == text):
            _atomic_write_text(target, text)
    except (OSError, UnicodeDecodeError):
        # The cache may be read-only; the offline default must still work.
        target = Path(tempfile.gettempdir()) / f"rnn-tui-{os.getpid()}" / info.filename
        _atomic_write_text(target, text)
    return target


# ------------------------------------------------------------------------------------------
# Downloading
# ------------------------------------------------------------------------------------------


class _ProgressAdapter:
    """Pooch's progress-bar protocol (``total``, ``update``, ``reset``, ``close``) feeding a
    ``progress(done, total)`` callback, with `offset` bytes already done by earlier files."""

    def __init__(self, callback: Progress, offset: int, expected: int, rest: int) -> None:
        self.callback = callback
        self.offset = offset
        self.expected = expected  # this file's size per the registry
        self.rest = rest  # bytes of the files still to come
        self.total = 0  # set by pooch from Content-Length (0 when the server sends none)
        self.n = 0

    @property
    def size(self) -> int:
        """This file's size: the server's Content-Length, else the registry's."""
        return self.total or self.expected

    def update(self, n: int) -> None:
        size = self.size
        self.n = min(self.n + n, size) if size else self.n + n
        self.callback(self.offset + self.n, self.offset + max(size, self.n) + self.rest)

    def reset(self) -> None:
        self.n = 0

    def close(self) -> None:
        pass


def _short_reason(exc: BaseException) -> str:
    """A one-line reason for a requests error (they nest long urllib3 messages)."""
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}".strip()
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if match:
        return match.group(1).strip().lower()
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _download(f: RemoteFile, work: Path, name: str, adapter: _ProgressAdapter | None) -> Path:
    """Download one file into `work` with pooch, verifying its sha256; return its path."""
    import pooch
    import requests

    downloader = pooch.HTTPDownloader(
        progressbar=adapter if adapter is not None else False, timeout=TIMEOUT_S
    )
    known_hash = f"sha256:{f.sha256}" if f.sha256 else None
    download_name = f.url.rsplit("/", 1)[-1] or f.target
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # pooch logs "Downloading ..." to stderr: not on a TUI
    try:
        out = pooch.retrieve(
            f.url, known_hash, fname=download_name, path=work, downloader=downloader
        )
    except requests.RequestException as exc:
        reason = _short_reason(exc)
        raise DatasetError(
            f"could not download {name} from {f.url}: {reason}", reason=f"download failed: {reason}"
        ) from exc
    except ValueError as exc:
        msg = str(exc)
        if "does not match the known hash" in msg:
            got = re.search(r"but got (\w+)", msg)
            detail = f" (got {got.group(1)[:16]}…)" if got else ""
            raise DatasetError(
                f"{name}: the file from {f.url} does not match its sha256 checksum "
                f"{f.sha256}{detail}; the download was discarded",
                reason="the download did not match its checksum",
            ) from exc
        raise DatasetError(
            f"could not download {name} from {f.url}: {msg}", reason="download failed"
        ) from exc
    except OSError as exc:
        raise DatasetError(
            f"could not download {name} into {work}: {exc}", reason=f"cannot write: {exc}"
        ) from exc
    finally:
        logger.setLevel(level)
    return Path(out)


def _unpack(src: Path, f: RemoteFile, dest: Path, name: str) -> None:
    """Move (or gunzip, or extract from a zip) a verified download to `dest`, atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if f.unpack is None:
        os.replace(src, dest)
        return
    tmp = dest.with_name(f".{dest.name}.tmp")
    try:
        if f.unpack == "gzip":
            with gzip.open(src, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        else:
            with (
                zipfile.ZipFile(src) as zf,
                zf.open(f.member or f.target) as fin,
                open(tmp, "wb") as fout,
            ):
                shutil.copyfileobj(fin, fout)
        os.replace(tmp, dest)
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise DatasetError(f"could not unpack {name} ({src.name}): {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            src.unlink()


def fetch(name: str, progress: Progress | None = None) -> Path:
    """Download a registry dataset into the cache once, verified, and return its path.

    A dataset already in the cache is returned without touching the network. Offline defaults
    are built locally. `progress(done, total)` is called with byte counts while downloading.
    Each file is checked against its sha256 before it is kept; a mismatched file is deleted.

    Raises:
        DatasetError: unknown name, network failure, HTTP error, checksum mismatch, or a
            download that cannot be unpacked or written. The message is one line.
    """
    info = get_dataset(name)
    if info.offline:
        return _build_offline(info)
    target = _cache_target(info)
    if _complete(target, info):
        return target

    files = info.downloads()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    except OSError as exc:
        raise DatasetError(f"cannot write to the cache folder {target.parent}: {exc}") from exc
    try:
        # A folder dataset is assembled in a staging folder and renamed into place at the end,
        # so a half-finished download never looks complete.
        stage = work / "stage" if info.is_folder else None
        done = 0
        total = sum(f.size_bytes for f in files)
        if progress is not None:
            progress(0, total)
        for f in files:
            adapter = None
            if progress is not None:
                adapter = _ProgressAdapter(
                    progress, done, f.size_bytes, total - done - f.size_bytes
                )
            src = _download(f, work / "dl", info.name, adapter)
            dest = stage / f.target if stage is not None else target
            _unpack(src, f, dest, info.name)
            done += adapter.size if adapter is not None else f.size_bytes
            total = max(total, done)
        if stage is not None:
            if target.exists():
                shutil.rmtree(target)
            os.replace(stage, target)
    except OSError as exc:
        raise DatasetError(f"could not store {info.name} in {target.parent}: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


# ------------------------------------------------------------------------------------------
# Resolving what the user typed
# ------------------------------------------------------------------------------------------


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

    An existing path is used as is. A registry name is looked up in the data root, then in the
    cache, then downloaded (with `progress`). When the download fails and `allow_offline` is
    true, the task's offline default is used and `Resolved.note` says why, in one line.

    Args:
        name_or_path: a registry name (see `DATASETS`) or the path of a file or folder.
        progress: ``progress(done, total)`` byte counts while downloading.
        allow_offline: fall back to the task's offline default when the download fails.
        task: when given, a registry name must belong to this task.

    Raises:
        DatasetError: an unknown name that is no existing path, a dataset of another task, or a
            failed download with no fallback.
    """
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if text and path.exists():
        return Resolved(path, None, "local path", f"using {path}")

    info = DATASETS.get(text)
    if info is None:
        valid = _names(datasets_for(task)) if task is not None else _names()
        if _looks_like_path(text):
            raise DatasetError(
                f"no such file or folder: {text!r}; give an existing path or one of: {valid}"
            )
        raise DatasetError(
            f"unknown dataset {text!r}; choose one of: {valid} "
            "(or give the path of an existing file or folder)"
        )
    if task is not None and info.task != task:
        raise DatasetError(
            f"{info.name!r} is a {info.task} dataset, not a {task} one; "
            f"choose one of: {_names(datasets_for(task))}"
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
        fallback = offline_default(info.task)
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


# ------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a UTF-8 text file for the character model, with one-line errors.

    A leading byte-order mark is dropped and line endings become ``\\n``.

    Raises:
        DatasetError: the file is missing, a folder, unreadable, empty, only whitespace, or not
            UTF-8 (the message names the first bad byte and its offset).
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise DatasetError(f"no such file: {p}")
    if p.is_dir():
        raise DatasetError(f"{p} is a folder, not a text file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {p}: {exc.strerror or exc}") from exc
    if not data:
        raise DatasetError(f"{p} is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise DatasetError(
            f"{p} is not UTF-8 text (byte 0x{bad:02x} at offset {exc.start})"
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DatasetError(f"{p} contains only whitespace")
    return text
