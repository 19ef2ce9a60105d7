"""Text data: plain UTF-8 text files (`read_text`, the character model's), and the sentiment
loaders for IMDB, rt-polarity and ChnSentiCorp with their tokenizers and vocabularies.

Every loader returns a `ReviewSet`: train, validation and test lists of (text, label), label 1 =
positive, 0 = negative. Formats (a registry name or a local path in the same format):

- **imdb**: the aclImdb tree as a folder or a ``.tar.gz`` read in place (nothing is extracted),
  ``{train,test}/{pos,neg}/*.txt`` or ``{train,val,test}/...``. Without ``val/`` a seeded 10%
  of ``train`` validates. Archive members are only read, never written to disk; members with
  an absolute name or a ``..`` part, links and other non-files are ignored.
- **rt-polarity**: a folder with ``rt-polarity.pos`` and ``rt-polarity.neg`` (one snippet per
  line). There is no official split: the 10,662 lines are shuffled with a fixed seed
  (`SPLIT_SEED`) and cut 80/10/10 into train/validation/test, so the test part is the same
  10% on every machine and for every ``--seed``.
- **chnsenticorp**: a CSV with a ``label,review`` header (1 positive, 0 negative). Rows with an
  empty review are skipped and counted; a row with a bad label, or the wrong number of fields,
  is an error naming its line. Split 80/10/10 like rt-polarity.

Tokenizers: ``words`` (lower-cased words, an apostrophe kept inside a word, every other
punctuation mark its own token; HTML ``<br />`` is a space) and ``chars`` (every CJK character
is a token, a run of letters or digits in another script is one word). Both report where each
token sits in the text, so a UI can colour the words.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import random
import re
import tarfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tasks.data.info import DatasetError
from tasks.data.resolve import resolve

Example = tuple[str, int]
"""(text, label): label 1 = positive, 0 = negative."""

PAD, UNK = "<pad>", "<unk>"
SPLIT_SEED = 20240607
"""Seed of the fixed train/validation/test split of the datasets that have none."""
VAL_FRACTION = TEST_FRACTION = 0.1
MAX_REVIEW_BYTES = 10_000_000
"""An archive member claiming more bytes than this is damaged (aclImdb's reviews are a few kB
each): it is refused before anything is allocated for it."""
TOKENIZERS = ("words", "chars")

_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_WORDS = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]")
_CJK_RANGE = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_CHARS = re.compile(rf"[{_CJK_RANGE}]|[^\W_{_CJK_RANGE}]+|[^\w\s]")
_CJK = re.compile(rf"[{_CJK_RANGE}]")
_IMDB_MEMBER = re.compile(r"(?:^|/)(train|val|test)/(pos|neg)/[^/]+\.txt$")


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


@dataclass(frozen=True)
class Token:
    """One token: its vocabulary form and where it sits in the original text."""

    text: str
    start: int
    end: int


def tokenize(text: str, kind: str = "words") -> list[Token]:
    """Split `text` into tokens with character offsets into `text` (see the module docstring)."""
    if kind not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {kind!r}; choose one of: {', '.join(TOKENIZERS)}")
    cleaned = _BR.sub(lambda m: " " * len(m.group()), text)  # same length: offsets stay valid
    pattern = _WORDS if kind == "words" else _CHARS
    return [Token(m.group().lower(), m.start(), m.end()) for m in pattern.finditer(cleaned)]


def token_strings(text: str, kind: str = "words") -> list[str]:
    """The tokens of `text` without offsets (faster, for building data sets)."""
    pattern = _WORDS if kind == "words" else _CHARS
    return pattern.findall(_BR.sub(" ", text).lower())


def guess_tokenizer(texts: Iterable[str]) -> str:
    """``chars`` when at least a third of the letters are CJK characters, else ``words``."""
    sample = "".join(itertools.islice(texts, 500))
    letters = sum(ch.isalpha() for ch in sample)
    return "chars" if letters and len(_CJK.findall(sample)) * 3 >= letters else "words"


def truncate(ids: list[int], max_len: int, head_fraction: float = 0.25) -> list[int]:
    """At most `max_len` ids: a long text keeps its beginning and its end (where verdicts are)."""
    if len(ids) <= max_len:
        return ids
    head = int(max_len * head_fraction)
    return ids[:head] + ids[len(ids) - (max_len - head) :]


@dataclass(frozen=True)
class Vocab:
    """Token strings; id = position. 0 is ``<pad>``, 1 is ``<unk>``."""

    itos: tuple[str, ...]
    kind: str = "words"
    """The tokenizer the vocabulary was built with."""
    stoi: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stoi", {s: i for i, s in enumerate(self.itos)})

    @classmethod
    def build(
        cls, texts: Iterable[Sequence[str]], max_size: int, min_freq: int, kind: str
    ) -> Vocab:
        """The `max_size` most frequent tokens seen at least `min_freq` times (ties: A-Z)."""
        counts: Counter[str] = Counter()
        for tokens in texts:
            counts.update(tokens)
        ranked = sorted(
            (t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t)
        )
        return cls((PAD, UNK, *ranked[: max(0, max_size - 2)]), kind)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Token strings -> ids (unknown tokens -> 1)."""
        get = self.stoi.get
        return [get(t, 1) for t in tokens]


@dataclass
class ReviewSet:
    """A labelled data set split three ways, and what loading it found."""

    name: str
    train: list[Example]
    val: list[Example]
    test: list[Example]
    tokenizer: str = "words"
    skipped: int = 0
    """Rows left out (empty reviews)."""
    note: str = ""

    def describe(self) -> str:
        """One line: sizes, positive share, skipped rows."""
        pos = sum(y for _, y in self.train) / max(len(self.train), 1)
        text = (
            f"{self.name}: {len(self.train):,} train / {len(self.val):,} val / "
            f"{len(self.test):,} test, {pos:.0%} positive"
        )
        return text + (f", {self.skipped} empty review(s) skipped" if self.skipped else "")


# -- loaders ---------------------------------------------------------------------------------


def load_reviews(name_or_path: str) -> ReviewSet:
    """Resolve ``--dataset`` and read it in whichever of the three formats it is in."""
    resolved = resolve(name_or_path, task="sentiment", allow_offline=False)
    path = resolved.path
    name = resolved.info.name if resolved.info is not None else path.name
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz", ".tar")):
        data = read_imdb_archive(path)
    elif path.is_file() and path.suffix.lower() in (".csv", ".tsv"):
        data = read_label_csv(path)
    elif path.is_dir() and (path / "rt-polarity.pos").is_file():
        data = read_polarity_folder(path)
    elif path.is_dir() and _imdb_root(path) is not None:
        data = read_imdb_folder(path)
    else:
        raise DatasetError(
            f"{path} is not a sentiment dataset: expected an aclImdb folder or .tar.gz "
            "(train/ and test/ with pos/ and neg/), a folder with rt-polarity.pos and "
            "rt-polarity.neg, or a CSV with a label,review header"
        )
    data.name = name
    data.note = resolved.note if resolved.source == "local path" else ""
    return data


def _split_examples(examples: list[Example], seed: int = SPLIT_SEED) -> tuple[list, list, list]:
    """Shuffle with a fixed seed and cut 80/10/10 into train, validation and test."""
    order = list(examples)
    random.Random(seed).shuffle(order)
    n_test = round(len(order) * TEST_FRACTION)
    n_val = round(len(order) * VAL_FRACTION)
    return order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]


def _check_both_labels(examples: list[Example], where: Path) -> None:
    labels = {y for _, y in examples}
    if labels != {0, 1}:
        have = "no examples" if not labels else f"only label {labels.pop()}"
        raise DatasetError(f"{where} has {have}; sentiment needs positive and negative examples")


def read_polarity_folder(folder: Path) -> ReviewSet:
    """rt-polarity: one snippet per line in rt-polarity.pos (1) and rt-polarity.neg (0)."""
    examples: list[Example] = []
    for suffix, label in (("pos", 1), ("neg", 0)):
        path = folder / f"rt-polarity.{suffix}"
        if not path.is_file():
            raise DatasetError(f"{folder} has rt-polarity.pos but no rt-polarity.{suffix}")
        text = path.read_bytes().decode("utf-8", errors="replace")
        examples += [(line.strip(), label) for line in text.splitlines() if line.strip()]
    _check_both_labels(examples, folder)
    return ReviewSet(folder.name, *_split_examples(examples))


LINE_LABELS = {"0": 0, "1": 1, "negative": 0, "positive": 1}
"""The labels `read_labelled_lines` accepts (case-insensitive)."""


def read_labelled_lines(path: Path) -> list[Example]:
    """``text<TAB>label`` lines, label 0/1 or negative/positive (`eval --dataset FILE`).

    The label follows the last tab, so a text may hold tabs. Every line counts: a blank line,
    a line without a tab, an empty text or another label is an error naming its line.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from exc
    examples: list[Example] = []
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            line = raw.decode("utf-8").removeprefix("\ufeff" if number == 1 else "")
        except UnicodeDecodeError as exc:
            raise DatasetError(
                f"{path}, line {number}: not UTF-8 text (byte {exc.start + 1})"
            ) from None
        text, tab, label = line.rpartition("\t")
        if not tab or not text.strip():
            what = "is blank" if not line.strip() else "has no text<TAB>label"
            raise DatasetError(f"{path}, line {number} {what}: expected text<TAB>label")
        if label.strip().lower() not in LINE_LABELS:
            raise DatasetError(
                f"{path}, line {number}: the label must be 0, 1, negative or positive "
                f"(got {label.strip()!r})"
            )
        examples.append((text.strip(), LINE_LABELS[label.strip().lower()]))
    if not examples:
        raise DatasetError(f"{path} is empty: expected text<TAB>label lines")
    return examples


def read_label_csv(path: Path) -> ReviewSet:
    """A ``label,review`` CSV (ChnSentiCorp): empty reviews are skipped and counted."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text (byte offset {exc.start})") from None
    rows = _csv_rows(text, path)
    header = [h.strip().lower() for h in next(rows, (0, []))[1]]
    if header[:2] != ["label", "review"]:
        raise DatasetError(f"{path}: expected a 'label,review' header, got {','.join(header)!r}")
    examples: list[Example] = []
    skipped = 0
    for line, row in rows:
        if not row:
            continue
        if len(row) != 2:
            raise DatasetError(
                f"{path}, line {line}: expected 2 fields (label,review), got {len(row)}"
            )
        label, review = row[0].strip(), row[1].strip()
        if label not in ("0", "1"):
            raise DatasetError(f"{path}, line {line}: label must be 0 or 1 (got {label!r})")
        if not review:
            skipped += 1
            continue
        examples.append((review, int(label)))
    _check_both_labels(examples, path)
    data = ReviewSet(path.name, *_split_examples(examples), skipped=skipped)
    data.tokenizer = guess_tokenizer(t for t, _ in data.train)
    return data


def _csv_rows(text: str, path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each CSV row of `text`, lazily; `DatasetError` naming the line
    the csv module cannot read (a lone carriage return, a field over its size limit)."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DatasetError(f"{path}, line {reader.line_num}: not a CSV row ({exc})") from None
        yield reader.line_num, row


def _imdb_split(parts: dict[str, list[Example]], where: Path) -> ReviewSet:
    """train/val/test from the folders found; a seeded 10% of train when there is no val."""
    if not parts.get("train") or not parts.get("test"):
        found = ", ".join(sorted(k for k, v in parts.items() if v)) or "none"
        raise DatasetError(
            f"{where}: expected aclImdb train/ and test/ folders with pos/ and neg/ reviews "
            f"(found: {found})"
        )
    train, test = parts["train"], parts["test"]
    for examples in (train, test):
        _check_both_labels(examples, where)
    val = parts.get("val") or []
    if not val:
        order = list(train)
        random.Random(SPLIT_SEED).shuffle(order)
        cut = round(len(order) * VAL_FRACTION)
        val, train = order[:cut], order[cut:]
    return ReviewSet(where.name, train, val, test)


def _member_key(name: str) -> tuple[str, int] | None:
    """(split, label) of an aclImdb review path, else None (absolute names and '..' never)."""
    if name.startswith("/") or ".." in name.split("/"):
        return None
    match = _IMDB_MEMBER.search(name)
    if match is None:
        return None
    return match.group(1), 1 if match.group(2) == "pos" else 0


def read_imdb_archive(path: Path) -> ReviewSet:
    """aclImdb in a .tar.gz, read member by member without extracting anything."""
    parts: dict[str, list[Example]] = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                key = _member_key(member.name) if member.isfile() else None
                if key is None:
                    continue
                if member.size > MAX_REVIEW_BYTES:  # a damaged size field: never allocate it
                    raise DatasetError(
                        f"{path}: {member.name!r} claims {member.size:,} bytes, more than any "
                        "review: a damaged archive"
                    )
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                text = handle.read().decode("utf-8", errors="replace")
                parts.setdefault(key[0], []).append((text, key[1]))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:  # zlib: a damaged .gz
        raise DatasetError(f"cannot read the archive {path}: {exc}") from None
    for examples in parts.values():
        examples.sort(key=lambda e: (e[1], e[0]))  # member order must not matter
    return _imdb_split(parts, path)


def _imdb_root(folder: Path) -> Path | None:
    """The folder holding train/ and test/: `folder` itself or its aclImdb/ child."""
    for root in (folder, folder / "aclImdb"):
        if (root / "train").is_dir() and (root / "test").is_dir():
            return root
    return None


def read_imdb_folder(folder: Path) -> ReviewSet:
    """aclImdb unpacked: {train,val,test}/{pos,neg}/*.txt (val optional)."""
    root = _imdb_root(folder)
    assert root is not None
    parts: dict[str, list[Example]] = {}
    for split in ("train", "val", "test"):
        for label_dir, label in (("pos", 1), ("neg", 0)):
            for file in sorted((root / split / label_dir).glob("*.txt")):
                if file.is_file() and not file.is_symlink():
                    text = file.read_bytes().decode("utf-8", errors="replace")
                    parts.setdefault(split, []).append((text, label))
    return _imdb_split(parts, folder)
