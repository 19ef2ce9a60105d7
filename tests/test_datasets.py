"""The dataset registry: lookup, reading, downloading (from a local server), resolving."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import itertools
import os
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from realdata import shared_data

from tasks import datasets
from tasks.datasets import (
    DATASETS,
    TASKS,
    DatasetError,
    DatasetInfo,
    RemoteFile,
    cache_dir,
    cached_path,
    datasets_for,
    default_for,
    fetch,
    get_dataset,
    offline_default,
    offline_text,
    read_text,
    resolve,
    status,
)

REPO = Path(__file__).resolve().parents[1]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Never touch the real cache, never read a data root unless a test sets one."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("RNN_TUI_CACHE", str(cache))
    monkeypatch.delenv("RNN_TUI_DATA", raising=False)
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    return cache


class FileServer:
    """A tiny HTTP server on 127.0.0.1 that serves `files` and records every request path."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                server.hits.append(name)
                body = server.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FileServer]:
    s = FileServer({})
    yield s
    s.close()


def dead_url(name: str = "gone.txt") -> str:
    """A URL on a local port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"


TEXT = ("To be, or not to be, that is the question.\n" * 120).encode()  # 5,160 bytes


def register(monkeypatch: pytest.MonkeyPatch, url: str, sha: str | None = None) -> DatasetInfo:
    """Put a small charlm dataset served from `url` into the registry for one test."""
    info = DatasetInfo(
        name="tiny-test",
        task="charlm",
        title="Tiny test text",
        description="A test file.",
        url=url,
        filename="tiny.txt",
        sha256=sha256(TEXT) if sha is None else sha,
        license="test",
        size_bytes=len(TEXT),
        shared_path="tiny/tiny.txt",
    )
    monkeypatch.setitem(DATASETS, info.name, info)
    return info


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


# -- registry ----------------------------------------------------------------------------


def test_registry_names_and_tasks() -> None:
    assert set(DATASETS) == {
        "tiny-shakespeare",
        "pydoc-prose",
        "imdb",
        "rt-polarity",
        "chnsenticorp",
        "multi30k",
        "tatoeba-cmn-eng",
        "tatoeba-fra-eng",
        "airline-passengers",
        "daily-min-temperatures",
        "monthly-sunspots",
        "sp500",
        "synthetic-series",
    }
    assert [i.name for i in datasets_for("charlm")] == ["tiny-shakespeare", "pydoc-prose"]
    assert default_for("charlm").name == "tiny-shakespeare"
    assert offline_default("charlm").name == "pydoc-prose"
    assert offline_default("sentiment") is None
    assert offline_default("timeseries").name == "synthetic-series"
    assert datasets_for("gradflow") == [] and default_for("gradflow") is None
    assert {i.name for i in datasets_for("timeseries")} >= {"airline-passengers", "sp500"}
    with pytest.raises(DatasetError, match="unknown task 'poetry'; choose one of: charlm"):
        datasets_for("poetry")


def test_get_dataset_and_unknown_name() -> None:
    assert get_dataset("tiny-shakespeare").sha256 == (
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    )
    with pytest.raises(DatasetError) as err:
        get_dataset("shakespeare")
    assert isinstance(err.value, ValueError)
    msg = str(err.value)
    assert msg.startswith("unknown dataset 'shakespeare'; choose one of: ")
    assert all(name in msg for name in DATASETS)


@pytest.mark.parametrize("info", list(DATASETS.values()), ids=list(DATASETS))
def test_registry_entries_are_complete(info: DatasetInfo) -> None:
    assert info.task in TASKS and info.title and info.description and info.license
    assert info.url.startswith("https://")
    if info.offline:
        assert info.downloads() == () and info.shared_path is None
        return
    assert info.shared_path and info.size_bytes > 0
    downloads = info.downloads()
    assert sum(f.size_bytes for f in downloads) == info.size_bytes
    for f in downloads:
        assert f.url.startswith("https://") and len(f.sha256 or "") == 64
    if info.is_folder:
        assert info.sha256 is None
    else:
        (f,) = downloads
        assert (f.url, f.sha256, f.size_bytes, f.target) == (
            info.url,
            info.sha256,
            info.size_bytes,
            info.filename,
        )


def test_status_strings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert status(get_dataset("tiny-shakespeare")) == "download 1.1 MB"
    assert status(get_dataset("imdb")) == "download 84.1 MB"
    assert status(get_dataset("airline-passengers")) == "download 2.2 kB"
    assert status(get_dataset("pydoc-prose")) == "offline default"
    root = tmp_path / "root"
    (root / "tiny-shakespeare").mkdir(parents=True)
    (root / "tiny-shakespeare" / "input.txt").write_text("hello")
    monkeypatch.setenv("RNN_TUI_DATA", str(root))
    assert status(get_dataset("tiny-shakespeare")) == "found in data root"
    assert status(get_dataset("sp500")) == "download 310.5 kB"


def test_cache_dir_env_and_default(monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> None:
    assert cache_dir() == isolated_env
    monkeypatch.delenv("RNN_TUI_CACHE")
    assert "rnn-tui" in str(cache_dir())


def test_importing_the_registry_loads_neither_torch_nor_textual() -> None:
    code = (
        "import sys, tasks.datasets as d; d.DATASETS; "
        "bad = [m for m in ('torch', 'textual', 'pooch', 'requests') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# -- reading -----------------------------------------------------------------------------


def test_read_text_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        read_text(tmp_path / "missing.txt")
    with pytest.raises(DatasetError, match="is a folder"):
        read_text(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DatasetError, match="is empty"):
        read_text(empty)
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b" \n\n\t")
    with pytest.raises(DatasetError, match="only whitespace"):
        read_text(blank)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("café au lait".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"is not UTF-8 text \(byte 0xe9 at offset 3\)"):
        read_text(latin)


def test_read_text_normalises_bom_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "win.txt"
    path.write_bytes("\ufeffHi\r\nthere\rÜ\n".encode())
    assert read_text(path) == "Hi\nthere\nÜ\n"


def test_offline_text_is_deterministic_and_substantial() -> None:
    text = offline_text()
    offline_text.cache_clear()
    assert offline_text() == text
    assert len(text) > 100_000 and len(set(text)) > 60
    assert "assert" in text and "\n\n" in text


def test_offline_default_resolves_to_a_file() -> None:
    r = resolve("pydoc-prose")
    assert r.source == "offline default" and r.info.name == "pydoc-prose"
    assert read_text(r.path) == offline_text()
    assert fetch("pydoc-prose") == r.path


# -- fetching from a local server ---------------------------------------------------------


def test_fetch_downloads_verifies_and_caches(
    server: FileServer, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    server.files["tiny.txt"] = TEXT
    info = register(monkeypatch, server.url("tiny.txt"))
    assert cached_path(info) is None and status(info) == "download 5.2 kB"

    calls: list[tuple[int, int]] = []
    path = fetch("tiny-test", progress=lambda done, total: calls.append((done, total)))
    assert path.read_bytes() == TEXT
    assert path == isolated_env / "tiny-test" / "tiny.txt"
    assert files_under(isolated_env) == [path]  # no temp files left behind
    assert calls[0] == (0, len(TEXT)) and calls[-1] == (len(TEXT), len(TEXT))
    assert len(calls) > 2
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(calls)), calls
    assert cached_path(info) == path and status(info) == "cached"
    assert server.hits == ["tiny.txt"]

    assert fetch("tiny-test") == path
    r = resolve("tiny-test")
    assert (r.path, r.source) == (path, "cache")
    assert server.hits == ["tiny.txt"]  # the cache answered, not the server


def test_fetch_checksum_mismatch_keeps_nothing(
    server: FileServer, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    server.files["tiny.txt"] = TEXT
    info = register(monkeypatch, server.url("tiny.txt"), sha="0" * 64)
    with pytest.raises(DatasetError, match="does not match its sha256 checksum") as err:
        fetch("tiny-test")
    assert "discarded" in str(err.value) and "\n" not in str(err.value)
    assert cached_path(info) is None
    assert files_under(isolated_env) == []


def test_fetch_server_down(monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> None:
    register(monkeypatch, dead_url())
    with pytest.raises(DatasetError, match="could not download tiny-test from http://127") as err:
        fetch("tiny-test")
    assert "\n" not in str(err.value) and len(str(err.value)) < 300
    assert files_under(isolated_env) == []


def test_fetch_http_error(server: FileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, server.url("missing.txt"))
    with pytest.raises(DatasetError, match="HTTP 404"):
        fetch("tiny-test")


def test_fetch_unknown_name() -> None:
    with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
        fetch("nope")


def test_fetch_folder_dataset_with_gzip_and_zip(
    server: FileServer, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    a, b, c = b"alpha\n" * 300, "beta ß\n".encode() * 300, b"gamma\n" * 300
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("inner/c.txt", c)
        zf.writestr("inner/other.txt", b"not wanted")
    payloads = {"a.txt": a, "b.txt.gz": gzip.compress(b), "c.zip": zbuf.getvalue()}
    server.files.update(payloads)
    files = (
        RemoteFile(server.url("a.txt"), sha256(a), len(a), "a.txt"),
        RemoteFile(
            server.url("b.txt.gz"),
            sha256(payloads["b.txt.gz"]),
            len(payloads["b.txt.gz"]),
            "b.txt",
            unpack="gzip",
        ),
        RemoteFile(
            server.url("c.zip"),
            sha256(payloads["c.zip"]),
            len(payloads["c.zip"]),
            "c.txt",
            unpack="zip",
            member="inner/c.txt",
        ),
    )
    total = sum(f.size_bytes for f in files)
    info = DatasetInfo(
        name="folder-test",
        task="translation",
        title="Folder test",
        description="Three files.",
        url=server.url(""),
        filename="abc",
        sha256=None,
        license="test",
        size_bytes=total,
        shared_path="abc",
        files=files,
    )
    monkeypatch.setitem(DATASETS, info.name, info)
    calls: list[tuple[int, int]] = []
    folder = fetch("folder-test", lambda done, tot: calls.append((done, tot)))
    assert folder == isolated_env / "folder-test" / "abc" and info.is_folder
    assert (folder / "a.txt").read_bytes() == a
    assert (folder / "b.txt").read_bytes() == b
    assert (folder / "c.txt").read_bytes() == c
    assert files_under(isolated_env) == sorted(folder / n for n in ("a.txt", "b.txt", "c.txt"))
    assert calls[-1] == (total, total)
    assert all(x[0] <= y[0] for x, y in itertools.pairwise(calls))
    assert status(info) == "cached"

    # A folder missing one file is not complete, and a failed download leaves it as it was.
    (folder / "c.txt").unlink()
    assert cached_path(info) is None
    server.files.pop("c.zip")
    with pytest.raises(DatasetError, match="HTTP 404"):
        fetch("folder-test")
    assert sorted(p.name for p in files_under(isolated_env)) == ["a.txt", "b.txt"]


# -- resolving ------------------------------------------------------------------------------


def test_resolve_prefers_data_root_then_cache_then_download(
    server: FileServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server.files["tiny.txt"] = TEXT
    info = register(monkeypatch, server.url("tiny.txt"))
    root = tmp_path / "root"
    (root / "tiny").mkdir(parents=True)
    (root / "tiny" / "tiny.txt").write_bytes(b"local copy")
    monkeypatch.setenv("RNN_TUI_DATA", str(root))
    r = resolve("tiny-test")
    assert (r.path, r.source, r.info) == (root / "tiny" / "tiny.txt", "data root", info)
    assert status(info) == "found in data root" and server.hits == []

    monkeypatch.delenv("RNN_TUI_DATA")
    r = resolve("tiny-test")
    assert r.source == "download" and r.path.read_bytes() == TEXT and r.note
    assert resolve("tiny-test").source == "cache"
    assert server.hits == ["tiny.txt"]


def test_resolve_falls_back_to_the_offline_default(monkeypatch: pytest.MonkeyPatch) -> None:
    real = get_dataset("tiny-shakespeare")
    monkeypatch.setitem(DATASETS, real.name, dataclasses.replace(real, url=dead_url("input.txt")))
    r = resolve("tiny-shakespeare")
    assert r.source == "offline default" and r.info == get_dataset("pydoc-prose")
    assert r.note.startswith("tiny-shakespeare not available offline (download failed: ")
    assert r.note.endswith("; using the built-in Python documentation prose (pydoc-prose) instead")
    assert "\n" not in r.note
    assert read_text(r.path) == offline_text()

    with pytest.raises(DatasetError, match="could not download tiny-shakespeare"):
        resolve("tiny-shakespeare", allow_offline=False)


def test_resolve_with_no_offline_default_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    real = get_dataset("chnsenticorp")  # sentiment has no offline default (timeseries now has)
    monkeypatch.setitem(DATASETS, real.name, dataclasses.replace(real, url=dead_url()))
    with pytest.raises(DatasetError, match="could not download chnsenticorp"):
        resolve("chnsenticorp")


def test_timeseries_falls_back_to_the_synthetic_series(monkeypatch: pytest.MonkeyPatch) -> None:
    real = get_dataset("airline-passengers")
    monkeypatch.setitem(DATASETS, real.name, dataclasses.replace(real, url=dead_url()))
    r = resolve("airline-passengers")
    assert r.source == "offline default" and r.info == get_dataset("synthetic-series")
    assert r.note.startswith("airline-passengers not available offline (download failed: ")


def test_resolve_local_path(tmp_path: Path) -> None:
    path = tmp_path / "my.txt"
    path.write_text("some text")
    for arg in (path, str(path)):
        r = resolve(arg)
        assert (r.path, r.info, r.source) == (path, None, "local path")
    assert resolve(tmp_path).path == tmp_path  # a folder is fine too: the loader decides


def test_resolve_unknown_name_or_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as err:
        resolve("shakespear")
    msg = str(err.value)
    assert msg.startswith("unknown dataset 'shakespear'; choose one of: tiny-shakespeare, ")
    assert "path of an existing file or folder" in msg
    with pytest.raises(DatasetError, match=r"no such file or folder: .*missing\.txt"):
        resolve(str(tmp_path / "missing.txt"))
    with pytest.raises(
        DatasetError, match=r"choose one of: tiny-shakespeare, pydoc-prose \(or give"
    ):
        resolve("nope", task="charlm")


def test_resolve_checks_the_task() -> None:
    with pytest.raises(DatasetError, match="'imdb' is a sentiment dataset, not a charlm one"):
        resolve("imdb", task="charlm")


# -- the real data in ../shared/data -------------------------------------------------------


@pytest.mark.realdata
def test_real_tiny_shakespeare_matches_the_registry() -> None:
    path = shared_data() / "tiny-shakespeare" / "input.txt"
    info = get_dataset("tiny-shakespeare")
    assert sha256_file(path) == info.sha256
    assert path.stat().st_size == info.size_bytes
    r = resolve(str(path))
    assert (r.path, r.source) == (path, "local path")
    text = read_text(r.path)
    assert len(text) == 1115394 and text.startswith("First Citizen:")


@pytest.mark.realdata
def test_real_data_root_holds_every_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    root = shared_data()
    monkeypatch.setenv("RNN_TUI_DATA", str(root))
    for info in DATASETS.values():
        if info.offline:
            continue
        assert status(info) == "found in data root", info.name
        r = resolve(info.name)
        assert (r.source, r.path) == ("data root", root / info.shared_path)


@pytest.mark.realdata
@pytest.mark.parametrize(
    "name",
    [
        n
        for n, i in DATASETS.items()
        if not i.offline
        and all(f.unpack is None for f in i.downloads())
        and Path(i.shared_path).name == i.filename
    ],
)
def test_real_files_match_the_registry_checksums(name: str) -> None:
    """Where the download is the shared file unchanged, their checksums agree."""
    info = get_dataset(name)
    path = shared_data() / info.shared_path
    for f in info.downloads():
        file = path / f.target if info.is_folder else path
        assert sha256_file(file) == f.sha256, file
        assert file.stat().st_size == f.size_bytes, file


def test_module_has_no_stray_state(isolated_env: Path) -> None:
    """Listing and status never create the cache folder."""
    for info in DATASETS.values():
        status(info)
    assert not isolated_env.exists()
    assert datasets.data_root() is None
    assert os.environ["RNN_TUI_CACHE"] == str(isolated_env)
