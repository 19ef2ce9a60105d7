"""The data layer: the catalogue (gathered from the task registry), reading, downloading (from a
local server), resolving."""

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

from tasks.charlm.datasets import offline_text
from tasks.data.catalogue import (
    CATALOGUE,
    Entry,
    datasets_for,
    default_for,
    get_dataset,
    offline_default,
    task_of,
)
from tasks.data.fetch import cache_dir, cached_path, fetch
from tasks.data.info import DatasetError, DatasetInfo, RemoteFile, RemoteZip, ZipMember
from tasks.data.resolve import data_root, human_size, resolve, status
from tasks.data.text import read_text
from tasks.registry import TASKS
from tui.cli import main

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
    """Put a small charlm dataset served from `url` into the catalogue for one test."""
    info = DatasetInfo(
        name="tiny-test",
        title="Tiny test text",
        description="A test file.",
        url=url,
        filename="tiny.txt",
        sha256=sha256(TEXT) if sha is None else sha,
        license="test",
        size_bytes=len(TEXT),
        shared_path="tiny/tiny.txt",
    )
    monkeypatch.setitem(CATALOGUE, info.name, Entry(info, "charlm"))
    return info


def patch_dataset(monkeypatch: pytest.MonkeyPatch, name: str, **changes: object) -> DatasetInfo:
    """Change one catalogue dataset for one test (e.g. its url), keeping its task."""
    entry = CATALOGUE[name]
    info = dataclasses.replace(entry.info, **changes)
    monkeypatch.setitem(CATALOGUE, name, entry._replace(info=info))
    return info


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


# -- the catalogue ---------------------------------------------------------------------------


def test_catalogue_names_and_tasks() -> None:
    """Each entry's datasets are the catalogue's under that task, in its order; the offline
    defaults of the existing tasks stay as they are (a new task adds nothing here)."""
    for task in TASKS.values():
        assert datasets_for(task.name) == list(task.datasets)
        assert {task_of(info.name) for info in task.datasets} == {task.name}
        built = offline_default(task.name)
        assert built is None or (built.offline and built in task.datasets)
    assert len(CATALOGUE) == sum(len(task.datasets) for task in TASKS.values())  # names unique
    offline = {task: getattr(offline_default(task), "name", None) for task in TASKS}
    known = {"charlm": "pydoc-prose", "sentiment": None, "timeseries": "synthetic-series",
             "gradflow": None, "translation": None, "names": None}  # fmt: skip
    assert offline.items() >= known.items()
    assert get_dataset("synthetic").generated
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
    assert all(name in msg for name in CATALOGUE)


def test_the_catalogue_is_gathered_from_the_registry() -> None:
    """Every dataset belongs to exactly one task: the one whose registry entry declares it."""
    declared = [(info.name, task.name) for task in TASKS.values() for info in task.datasets]
    assert len({name for name, _ in declared}) == len(declared), "a dataset declared twice"
    assert [(name, entry.task) for name, entry in CATALOGUE.items()] == declared
    assert all(CATALOGUE[i.name].info is i for t in TASKS.values() for i in t.datasets)
    for task in TASKS.values():
        assert task.datasets, task.name
        assert task_of(task.default_dataset) == task.name
        assert default_for(task.name) is task.datasets[0]
    with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
        task_of("nope")


def test_current_defaults_are_kept() -> None:
    assert {name: task.default_dataset for name, task in TASKS.items()}.items() >= {
        "charlm": "tiny-shakespeare",
        "sentiment": "rt-polarity",
        "timeseries": "airline-passengers",
        "gradflow": "synthetic",
        "translation": "multi30k",
        "names": "names",
    }.items()


def test_data_list_task_column_comes_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "list"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["name", "task", "status"]
    listed = [tuple(row.split()[:2]) for row in rows]
    assert listed == [(i.name, t.name) for t in TASKS.values() for i in t.datasets]


def test_data_path_of_a_generated_dataset_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "path", "synthetic"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "rnn-tui: error: synthetic is generated by the gradflow task as it runs; "
        "there is no file to fetch\n"
    )


def test_declaration_errors() -> None:
    base = {"name": "x", "title": "X", "description": "x", "url": "https://x", "license": "x"}
    with pytest.raises(ValueError, match="'x': needs a filename"):
        DatasetInfo(**base)
    with pytest.raises(ValueError, match="'x': either built or generated"):
        DatasetInfo(**base, build=str, generated=True)
    with pytest.raises(ValueError, match="'x': a built-in dataset has no download"):
        DatasetInfo(**base, filename="x.txt", build=str, sha256="0" * 64)


@pytest.mark.parametrize("info", [e.info for e in CATALOGUE.values()], ids=list(CATALOGUE))
def test_catalogue_entries_are_complete(info: DatasetInfo) -> None:
    assert info.title and info.description and info.license
    assert info.url.startswith("https://")
    if info.offline:
        assert info.downloads() == () and info.shared_path is None and info.size_bytes == 0
        assert info.generated or info.filename
        return
    assert info.shared_path and info.size_bytes > 0
    downloads = info.downloads()
    assert sum(f.size_bytes for f in downloads) == info.size_bytes
    for f in downloads:
        assert f.url.startswith("https://")
        if isinstance(f, RemoteZip):
            assert f.members and all(len(m.sha256) == 64 for m in f.members)
            assert len(f.sha256 or "0" * 64) == 64
        else:
            assert len(f.sha256 or "") == 64
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


def test_importing_the_data_layer_loads_neither_torch_nor_textual() -> None:
    code = (
        "import sys, tasks.data.resolve as r, tasks.data.catalogue as c; r.status; c.CATALOGUE; "
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
    monkeypatch.setitem(CATALOGUE, info.name, Entry(info, "translation"))
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


NAMES = {"Arabic.txt": "Khoury\nNahas\n" * 200, "Czech.txt": "Novak\nDvorak\n" * 150}


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def register_zip(
    monkeypatch: pytest.MonkeyPatch, url: str, size: int, **sha_of: str
) -> DatasetInfo:
    """A folder dataset of two members of one zip whose own checksum is unknown."""
    members = tuple(
        ZipMember(f"data/names/{name}", sha_of.get(name.split(".")[0], sha256(text.encode())),
                  len(text.encode()))
        for name, text in NAMES.items()
    )  # fmt: skip
    info = DatasetInfo(
        name="zip-test",
        title="Zip test",
        description="Two members of a zip.",
        url=url,
        filename="names",
        license="test",
        size_bytes=size,
        shared_path="names",
        files=(RemoteZip(url, None, size, members),),
    )
    monkeypatch.setitem(CATALOGUE, info.name, Entry(info, "charlm"))
    return info


def test_fetch_zip_members_verified_one_by_one(
    server: FileServer, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    payload = zip_of(
        {f"data/names/{n}": t.encode() for n, t in NAMES.items()}
        | {"data/eng-fra.txt": b"not wanted\n" * 500}
    )
    server.files["data.zip"] = payload
    info = register_zip(monkeypatch, server.url("data.zip"), len(payload))
    assert info.is_folder and info.targets() == ("Arabic.txt", "Czech.txt")
    assert status(info) == f"download {human_size(len(payload))}"
    calls: list[tuple[int, int]] = []
    folder = fetch("zip-test", lambda done, total: calls.append((done, total)))
    assert folder == isolated_env / "zip-test" / "names"
    assert {p.name: p.read_text() for p in files_under(isolated_env)} == NAMES  # nothing else
    assert calls[-1] == (len(payload), len(payload))
    assert status(info) == "cached" and server.hits == ["data.zip"]
    assert fetch("zip-test") == folder and server.hits == ["data.zip"]


def test_fetch_zip_member_checksum_mismatch_keeps_nothing(
    server: FileServer, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    changed = dict(NAMES, **{"Czech.txt": "Novak\n"})
    payload = zip_of({f"data/names/{n}": t.encode() for n, t in changed.items()})
    server.files["data.zip"] = payload
    info = register_zip(monkeypatch, server.url("data.zip"), len(payload))
    with pytest.raises(DatasetError) as err:
        fetch("zip-test")
    msg = str(err.value)
    assert msg.startswith("zip-test: data/names/Czech.txt in http://127.0.0.1:")
    assert "does not match its sha256 checksum" in msg and msg.endswith("was discarded")
    assert err.value.reason == "the download did not match its checksum"
    assert cached_path(info) is None and files_under(isolated_env) == []


def test_fetch_zip_without_a_member_says_which(
    server: FileServer, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    payload = zip_of({"data/names/Arabic.txt": NAMES["Arabic.txt"].encode()})
    server.files["data.zip"] = payload
    register_zip(monkeypatch, server.url("data.zip"), len(payload))
    with pytest.raises(DatasetError, match=r"could not unpack zip-test \(data\.zip\): .*Czech"):
        fetch("zip-test")
    assert files_under(isolated_env) == []


def test_zip_dataset_found_in_a_data_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    info = register_zip(monkeypatch, dead_url("data.zip"), 1000)
    root = tmp_path / "root"
    (root / "names").mkdir(parents=True)
    (root / "names" / "Arabic.txt").write_text(NAMES["Arabic.txt"])
    monkeypatch.setenv("RNN_TUI_DATA", str(root))
    assert status(info) == "download 1.0 kB"  # one file of two is not the dataset
    (root / "names" / "Czech.txt").write_text(NAMES["Czech.txt"])
    r = resolve("zip-test")
    assert (r.source, r.path) == ("data root", root / "names")


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
    patch_dataset(monkeypatch, "tiny-shakespeare", url=dead_url("input.txt"))
    r = resolve("tiny-shakespeare")
    assert r.source == "offline default" and r.info == get_dataset("pydoc-prose")
    assert r.note.startswith("tiny-shakespeare not available offline (download failed: ")
    assert r.note.endswith("; using the built-in Python documentation prose (pydoc-prose) instead")
    assert "\n" not in r.note
    assert read_text(r.path) == offline_text()

    with pytest.raises(DatasetError, match="could not download tiny-shakespeare"):
        resolve("tiny-shakespeare", allow_offline=False)


def test_resolve_with_no_offline_default_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    # sentiment has no offline default (timeseries has)
    patch_dataset(monkeypatch, "chnsenticorp", url=dead_url())
    with pytest.raises(DatasetError, match="could not download chnsenticorp"):
        resolve("chnsenticorp")


def test_timeseries_falls_back_to_the_synthetic_series(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_dataset(monkeypatch, "airline-passengers", url=dead_url())
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


def test_real_tiny_shakespeare_matches_the_registry(real_data: Path) -> None:
    path = real_data / "tiny-shakespeare" / "input.txt"
    info = get_dataset("tiny-shakespeare")
    assert sha256_file(path) == info.sha256
    assert path.stat().st_size == info.size_bytes
    r = resolve(str(path))
    assert (r.path, r.source) == (path, "local path")
    text = read_text(r.path)
    assert len(text) == 1115394 and text.startswith("First Citizen:")


def test_real_data_root_holds_every_dataset(
    real_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = real_data
    monkeypatch.setenv("RNN_TUI_DATA", str(root))
    for info, _ in CATALOGUE.values():
        if info.offline:
            continue
        assert status(info) == "found in data root", info.name
        r = resolve(info.name)
        assert (r.source, r.path) == ("data root", root / info.shared_path)


@pytest.mark.parametrize(
    "name",
    [
        n
        for n, (i, _) in CATALOGUE.items()
        if not i.offline
        and all(isinstance(f, RemoteZip) or f.unpack is None for f in i.downloads())
        and Path(i.shared_path).name == i.filename
    ],
)
def test_real_files_match_the_catalogue_checksums(real_data: Path, name: str) -> None:
    """Where a finished file's checksum is declared (a download kept as is, a zip member),
    the shared copy agrees."""
    info = get_dataset(name)
    path = real_data / info.shared_path
    for f in info.downloads():
        if isinstance(f, RemoteZip):
            checks = [(m.name, m.sha256, m.size_bytes) for m in f.members]
        else:
            checks = [(f.target, f.sha256, f.size_bytes)]
        for target, sha, size in checks:
            file = path / target if info.is_folder else path
            assert sha256_file(file) == sha, file
            assert file.stat().st_size == size, file


def test_module_has_no_stray_state(isolated_env: Path) -> None:
    """Listing and status never create the cache folder."""
    for info, _ in CATALOGUE.values():
        status(info)
    assert not isolated_env.exists()
    assert data_root() is None
    assert os.environ["RNN_TUI_CACHE"] == str(isolated_env)
