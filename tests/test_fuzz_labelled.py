"""Fuzzing the readers of labelled text: sentiment's `load_reviews` (a label,review CSV, an
rt-polarity folder, an aclImdb archive) and `read_labelled_lines` (``eval --dataset FILE``),
names' `load_names` (a folder of <Language>.txt) and `parse_name` (what a user types), and the
players' ``--file`` lines (`tui.cli.inputs.read_inputs`). Each returns what it documents or
raises its one-line error; nothing is written."""

from __future__ import annotations

import gzip
import io
import tarfile

from fuzzing import inputs, mutated, sandbox
from hypothesis import given
from hypothesis import strategies as st

from tasks.data.info import DatasetError
from tasks.data.text import ReviewSet, load_reviews, read_labelled_lines
from tasks.names.data import ALPHABET, NameSet, load_names, parse_name
from tui.cli.common import CliError
from tui.cli.inputs import read_inputs

LABEL_CSV = (
    'label,review\n1,很好的电影\n0,bad film\n1,"great, really"\n0,\n1,ok\n'.encode(),
    b'\xef\xbb\xbflabel,review\r\n0,meh\r\n1,"a line\nbreak"\r\n0,worst\r\n',
)
LINES = (
    b"a gripping film\t1\nso dull\t0\nwith\ttabs\tpositive\n",
    b"\xef\xbb\xbfgreat\tPositive\r\nawful\tnegative\r\n",
)
POS = b"a gripping , funny film .\nthe best of the year\nsmart and \xe2\x80\x9cwarm\xe2\x80\x9d\n"
NEG = b"dull and far too long .\nnot funny\n\nbad\n"
LANGUAGES = {
    "Czech.txt": "Novák\nDvořák\nSvoboda\nNovák\n".encode(),
    "German.txt": "Müller\nGroß\nSchmidt\nTo The First Page\n".encode(),
    "Polish.txt": "Śmigielski\nMarszałek\nNowak\n".encode(),
}
NAMES = ("Dostoevsky", "  Müller ", "O'Neill", "Shirinsky-Shikhmatov", "Smith, Jr.", "Ивано")
PLAYER_LINES = (b"a good film\nterrible\n", b"\xef\xbb\xbfone\r\ntwo\r\n")


def _imdb_tar() -> bytes:
    """A tiny aclImdb tree as a tar, with a member outside it and a link (both ignored)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, text in (
            ("aclImdb/train/pos/0_9.txt", "loved it"),
            ("aclImdb/train/neg/1_2.txt", "hated it<br />truly"),
            ("aclImdb/test/pos/2_8.txt", "fine"),
            ("aclImdb/test/neg/3_1.txt", "bad"),
            ("../outside/pos/4_9.txt", "never read"),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("aclImdb/train/pos/5_9.txt")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    return out.getvalue()


IMDB_TAR = _imdb_tar()
IMDB_GZ = gzip.compress(IMDB_TAR, mtime=0)


def _check_reviews(data: ReviewSet) -> None:
    for part in (data.train, data.val, data.test):
        assert all(isinstance(text, str) and label in (0, 1) for text, label in part)
    assert {label for _, label in data.train + data.val + data.test} == {0, 1}


@given(data=inputs(*LABEL_CSV))
def test_a_label_review_csv_reads_or_fails_in_one_line(data: bytes) -> None:
    with sandbox() as box:
        path = box.write("reviews.csv", data)
        reviews = box.call(lambda: load_reviews(str(path)), DatasetError)
    if isinstance(reviews, ReviewSet):
        _check_reviews(reviews)
        assert all(text.strip() for text, _ in reviews.train + reviews.val + reviews.test)


@given(pos=st.one_of(st.none(), inputs(POS)), neg=st.one_of(st.none(), inputs(NEG)))
def test_rt_polarity_reads_or_fails_in_one_line(pos: bytes | None, neg: bytes | None) -> None:
    """pos: None for the valid file; neg: None for none (a folder without its .neg file)."""
    with sandbox() as box:
        box.write("polarity/rt-polarity.pos", POS if pos is None else pos)
        if neg is not None:
            box.write("polarity/rt-polarity.neg", neg)
        reviews = box.call(lambda: load_reviews(str(box.inputs / "polarity")), DatasetError)
    if isinstance(reviews, ReviewSet):
        _check_reviews(reviews)


@st.composite
def imdb_archive(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file name, bytes): the tar mutated, gzipped after mutating, or mutated once gzipped."""
    how = draw(st.sampled_from(["tar", "gzip a mutated tar", "mutate the gzip"]))
    if how == "mutate the gzip":
        return "aclImdb.tar.gz", draw(mutated(IMDB_GZ))
    data = draw(mutated(IMDB_TAR))
    if how == "tar":
        return "aclImdb.tar", data
    return "aclImdb.tar.gz", gzip.compress(data, mtime=0)


@given(archive=imdb_archive())
def test_an_imdb_archive_reads_or_fails_in_one_line(archive: tuple[str, bytes]) -> None:
    name, data = archive
    with sandbox() as box:
        path = box.write(name, data)
        reviews = box.call(lambda: load_reviews(str(path)), DatasetError)
    if isinstance(reviews, ReviewSet):
        _check_reviews(reviews)
        assert all(text != "never read" for text, _ in reviews.train + reviews.val + reviews.test)


@given(data=inputs(*LINES))
def test_labelled_lines_read_or_fail_in_one_line(data: bytes) -> None:
    with sandbox() as box:
        path = box.write("labelled.tsv", data)
        examples = box.call(lambda: read_labelled_lines(path), DatasetError)
    if isinstance(examples, list):
        assert examples and all(text and label in (0, 1) for text, label in examples)


@st.composite
def names_folder(draw: st.DrawFn) -> dict[str, bytes]:
    """The language files, each kept, left out or mutated."""
    out = {}
    for name, valid in LANGUAGES.items():
        choice = draw(st.sampled_from(["keep", "leave out", "mutate"]))
        if choice != "leave out":
            out[name] = valid if choice == "keep" else draw(inputs(valid))
    return out


@given(files=names_folder(), seed=st.integers(0, 3))
def test_a_names_folder_reads_or_fails_in_one_line(files: dict[str, bytes], seed: int) -> None:
    with sandbox() as box:
        (box.inputs / "names").mkdir()
        for name, data in files.items():
            box.write(f"names/{name}", data)
        names = box.call(lambda: load_names(str(box.inputs / "names"), seed), DatasetError)
    if isinstance(names, NameSet):
        assert len(names.languages) >= 2 and list(names.languages) == sorted(names.languages)
        for name, label in names.train + names.val + names.test:
            assert name and set(name) <= ALPHABET and name == name.lower()
            assert 0 <= label < len(names.languages)


@given(text=st.one_of(st.text(max_size=120), st.sampled_from(NAMES)))
def test_a_typed_name_parses_or_fails_in_one_line(text: str) -> None:
    with sandbox() as box:
        name = box.call(lambda: parse_name(text), ValueError)
    if isinstance(name, str):
        assert name and set(name) <= ALPHABET and any(c.isalpha() for c in name)


@given(data=inputs(*PLAYER_LINES))
def test_a_players_input_file_reads_or_fails_in_one_line(data: bytes) -> None:
    with sandbox() as box:
        path = box.write("inputs.txt", data)
        lines = box.call(lambda: read_inputs(str(path)), CliError)
    if isinstance(lines, list):
        assert lines and all(isinstance(line, str) and line.strip() for line in lines)
