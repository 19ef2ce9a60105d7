"""Profiles cached per file checksum: found again for a copy, missed for a change, recomputed
(never an error) when an entry is damaged; the progress bar on a terminal; a real-data slice."""

from __future__ import annotations

import io
import shutil
import sys
import tarfile
from pathlib import Path

import pytest

from tasks.data.fetch import cache_dir
from tasks.data.profile.core import profile
from tasks.data.text import token_strings
from tui.cli import main


def entries() -> list[Path]:
    folder = cache_dir() / "profiles"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_a_second_look_comes_from_the_cache_and_a_copy_finds_it(small_text: Path) -> None:
    first = profile(str(small_text))
    assert not first.cached and len(entries()) == 1
    assert [p.suffix for p in entries()] == [".json"]  # written atomically: no temporary left
    again = profile(str(small_text))
    assert again.cached and again.report() == first.report()
    copy = small_text.with_name("copy.txt")
    shutil.copy(small_text, copy)
    assert profile(str(copy)).cached
    copy.write_text(copy.read_text() + "one more line")
    changed = profile(str(copy))
    assert not changed.cached
    assert changed.report()["characters"] == first.report()["characters"] + 13


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # cut short
        lambda b: b"\x00\xff garbage",
        lambda b: b.replace(b'"characters":', b'"characters":1', 1),  # edited: checksum fails
        lambda b: b.replace(b'"format": 1', b'"format": 0', 1),  # an older format
        lambda b: b"",
    ],
)
def test_a_damaged_entry_is_recomputed(small_text: Path, damage) -> None:
    expected = profile(str(small_text)).report()
    (entry,) = entries()
    entry.write_bytes(damage(entry.read_bytes()))
    again = profile(str(small_text))
    assert not again.cached and again.report() == expected
    assert profile(str(small_text)).cached  # stored again, whole


def test_the_progress_bar_is_drawn_on_a_terminal_only(
    small_text: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["data", "show", str(small_text)]) == 0
    assert capsys.readouterr().err == ""  # not a terminal: no bar
    small_text.write_text(small_text.read_text() + "x\n")  # not cached
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["data", "show", str(small_text)]) == 0
    err = capsys.readouterr().err
    assert "counting" in err and "[##############################] 100%" in err


def test_a_slice_of_real_imdb_is_read_like_the_whole(real_data: Path, tmp_path: Path) -> None:
    """The first 20 reviews of each split and label of the real archive, repacked."""
    taken: dict[tuple[str, str], list[tuple[str, str]]] = {}
    with tarfile.open(real_data / "imdb" / "aclImdb_dax44.tar.gz", "r:gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 4 or parts[1] not in ("train", "val", "test"):
                continue
            bucket = taken.setdefault((parts[1], parts[2]), [])
            if len(bucket) < 20:
                text = archive.extractfile(member).read().decode("utf-8")  # type: ignore[union-attr]
                bucket.append((member.name, text))
    slice_path = tmp_path / "imdb-slice.tar.gz"
    with tarfile.open(slice_path, "w:gz") as out:
        for reviews in taken.values():
            for name, text in reviews:
                info = tarfile.TarInfo(name)
                info.size = len(text.encode())
                out.addfile(info, io.BytesIO(text.encode()))
    report = profile(str(slice_path)).report()
    assert report["task"] == "sentiment"
    for split in ("train", "val", "test"):
        assert report["splits"][split] == {"examples": 40, "per_label": [20, 20]}
    lengths = sorted(len(token_strings(t)) for reviews in taken.values() for _, t in reviews)
    assert report["lengths"]["total"] == sum(lengths)
    assert report["lengths"]["percentiles"]["50"] == lengths[len(lengths) // 2 - 1]
    assert "<br" not in " ".join(t for t, _ in report["frequent"])  # HTML breaks are spaces
