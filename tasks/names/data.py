"""Surnames and their languages: read a folder of ``Language.txt`` files, clean, split.

The published format (the PyTorch tutorial's ``data/names``): one ``<Language>.txt`` per
language, UTF-8, one surname per line; the label is the file name without ``.txt``.

Cleaning, in order:

1. **fold to ASCII** as the tutorial does: NFD-normalise, drop the combining marks and keep
   ASCII letters and `KEPT_PUNCTUATION` (``Müller`` -> ``Muller``, ``Śmigielski`` ->
   ``Smigielski``; a stray digit or ``/`` disappears, ``Rafaj1`` -> ``Rafaj``). Unlike the
   tutorial, letters NFD does not decompose are spelled out first (`SPELLED`: ``Groß`` ->
   ``Gross``, not ``Gro``; ``Marszałek`` -> ``Marszalek``). Runs of spaces become one, and
   leading or trailing spaces, commas and semicolons go;
2. **lower-case**: every file capitalises its names the same way, so case says nothing about
   the language, and ``dostoevsky``, ``Dostoevsky`` and ``DOSTOEVSKY`` are one input;
3. **drop junk**: lines with no letter left, and web-page text scraped along with the names
   (`JUNK`; ``Russian.txt`` has 24 lines of ``To The First Page``);
4. **de-duplicate** exact (name, language) repeats (``Arabic.txt`` has 2,000 lines but 108
   names). The same name under two languages (``Kelly``: English, Irish, Scottish) is kept
   under both.

The split is by name: every language of a name goes to the same part, so no test or
validation name was seen in training. It is stratified: each name's group is filed under its
rarest language, and each language's groups are shuffled (seeded) and cut by the fractions,
so every language appears in each part in about its share.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from string import ascii_letters

from tasks.data.catalogue import CATALOGUE
from tasks.data.info import DatasetError
from tasks.data.resolve import resolve
from tasks.data.text import PAD, UNK, Vocab

KEPT_PUNCTUATION = " .,;'-"
"""Characters a name keeps besides ASCII letters (the tutorial's set, plus the hyphen of
``Shirinsky-Shikhmatov``)."""
ALPHABET = frozenset(ascii_letters + KEPT_PUNCTUATION)
SPELLED = str.maketrans({"ß": "ss", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae",
                        "Æ": "AE", "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D"})  # fmt: skip
"""Latin letters without an NFD decomposition, and their ASCII spelling."""
JUNK = frozenset({"to the first page"})
"""Lines (folded and lower-cased) that are not names."""
MAX_NAME_CHARS = 100
"""`parse_name` refuses longer input (the longest name in the data has 20 characters)."""

Example = tuple[str, int]
"""(name, language index)."""

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """ASCII letters and `KEPT_PUNCTUATION` of `text` after NFD (accents dropped), trimmed."""
    decomposed = unicodedata.normalize("NFD", _SPACES.sub(" ", text).translate(SPELLED))
    kept = "".join(c for c in decomposed if c in ALPHABET)
    return _SPACES.sub(" ", kept).strip(" ,;")


def clean(line: str) -> str | None:
    """The lower-cased name on one line of a language file, or None for junk (no letters,
    `JUNK`)."""
    name = fold(line).lower()
    if not any(c.isalpha() for c in name) or name in JUNK:
        return None
    return name


def parse_name(text: str) -> str:
    """A name a user typed, cleaned like the training names; ValueError in one line if it
    cannot be one: empty or only spaces, over `MAX_NAME_CHARS`, a digit, or a character that
    folds to nothing (``?``, a Cyrillic letter)."""
    stripped = unicodedata.normalize("NFC", text).strip()  # a typed "é" may come decomposed
    if not stripped:
        raise ValueError("the name is empty: type a surname, e.g. Dostoevsky")
    if len(stripped) > MAX_NAME_CHARS:
        raise ValueError(
            f"the name has {len(stripped):,} characters; the limit is {MAX_NAME_CHARS}"
        )
    digit = next((c for c in stripped if c.isdigit()), None)
    if digit is not None:
        raise ValueError(f"a surname has no digits ({digit!r} in {stripped!r})")
    bad = next((c for c in stripped if not c.isspace() and not fold(c)), None)
    if bad is not None:
        raise ValueError(
            f"{bad!r} cannot be in a name: type Latin letters (accents are fine), spaces "
            "or . , ; ' -"
        )
    name = fold(stripped).lower()
    if not any(c.isalpha() for c in name):
        raise ValueError(f"{stripped!r} has no letters: type a surname, e.g. Dostoevsky")
    return name


@dataclass
class NameSet:
    """The names of a folder, cleaned and split three ways."""

    name: str
    """Dataset name (registry name or folder name)."""
    languages: tuple[str, ...]
    """The labels, sorted; an example's label is an index into this."""
    train: list[Example]
    val: list[Example]
    test: list[Example]
    lines: int
    """Non-empty lines read."""
    junk: int
    """Lines dropped as junk."""
    duplicates: int
    """Exact (name, language) repeats dropped."""
    note: str = ""

    def describe(self) -> str:
        """One line: how many lines, what cleaning dropped, the split and the languages."""
        kept = self.lines - self.junk - self.duplicates
        return (
            f"{self.name}: {len(self.languages)} languages, {self.lines:,} lines -> {kept:,} "
            f"(name, language) pairs ({self.junk} junk lines and {self.duplicates:,} exact "
            "repeats dropped); "
            f"{len(self.train):,} train / {len(self.val):,} val / {len(self.test):,} test"
        )


def read_language_files(folder: Path) -> tuple[dict[str, list[str]], int]:
    """The raw lines of every ``*.txt`` in `folder` by language, and the non-empty line count.

    Raises:
        DatasetError: not a folder, fewer than two language files, or a file that is not UTF-8.
    """
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder of <Language>.txt files")
    files = sorted(p for p in folder.glob("*.txt") if p.is_file())
    if len(files) < 2:
        raise DatasetError(
            f"{folder} has {len(files)} .txt file(s): names needs one <Language>.txt per "
            "language (at least two), one name per line"
        )
    raw: dict[str, list[str]] = {}
    lines = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path} is not UTF-8 text (at byte {exc.start})") from None
        except OSError as exc:
            raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from exc
        raw[path.stem] = [line for line in text.splitlines() if line.strip()]
        lines += len(raw[path.stem])
    return raw, lines


def stratified_split(
    groups: dict[str, list[int]], seed: int, val_fraction: float, test_fraction: float
) -> tuple[list[str], list[str], list[str]]:
    """Split names (each with its labels) into train, validation and test names.

    Each name is filed under its rarest label; each label's names are shuffled with
    ``Random(seed)`` and cut so validation and test get ``round(n * fraction)`` of them (at
    least one each once a label has three names or more). The result depends only on the
    inputs, not on the order of `groups`.
    """
    frequency = Counter(label for labels in groups.values() for label in labels)
    strata: dict[int, list[str]] = defaultdict(list)
    for name in sorted(groups):
        strata[min(groups[name], key=lambda y: (frequency[y], y))].append(name)
    rng = random.Random(seed)
    train: list[str] = []
    val: list[str] = []
    test: list[str] = []
    for label in sorted(strata):
        names = strata[label]
        rng.shuffle(names)
        n_val, n_test = (round(len(names) * f) for f in (val_fraction, test_fraction))
        if len(names) >= 3:
            n_val, n_test = max(n_val, 1), max(n_test, 1)
        test += names[:n_test]
        val += names[n_test : n_test + n_val]
        train += names[n_test + n_val :]
    return train, val, test


def load_folder(
    folder: Path, seed: int, val_fraction: float = 0.1, test_fraction: float = 0.1
) -> NameSet:
    """Read, clean, de-duplicate and split a names folder (see the module docstring)."""
    raw, lines = read_language_files(folder)
    languages = tuple(sorted(raw))
    groups: dict[str, list[int]] = defaultdict(list)
    junk = duplicates = 0
    for label, language in enumerate(languages):
        for line in raw[language]:
            name = clean(line)
            if name is None:
                junk += 1
            elif label in groups[name]:
                duplicates += 1
            else:
                groups[name].append(label)
    empty = [lang for i, lang in enumerate(languages) if not any(i in g for g in groups.values())]
    if empty:
        raise DatasetError(f"{folder}: no names left in {', '.join(f'{e}.txt' for e in empty)}")
    parts = stratified_split(groups, seed, val_fraction, test_fraction)
    train, val, test = ([(n, y) for n in names for y in groups[n]] for names in parts)
    return NameSet(
        name=folder.name, languages=languages, train=train, val=val, test=test,
        lines=lines, junk=junk, duplicates=duplicates,
    )  # fmt: skip


def load_names(
    name_or_path: str, seed: int, val_fraction: float = 0.1, test_fraction: float = 0.1
) -> NameSet:
    """Resolve ``--dataset`` (a registry name or a folder) and read it with `load_folder`.

    names has no offline default (no names data ships with Python): when a registry dataset
    cannot be found or downloaded, the error says so and asks for a local folder.
    """
    try:
        resolved = resolve(name_or_path, task="names", allow_offline=False)
    except DatasetError as exc:
        if name_or_path not in CATALOGUE:
            raise
        raise DatasetError(
            f"{exc}; names has no built-in offline default: give a local folder of "
            "<Language>.txt files with --dataset PATH",
            reason=exc.reason,
        ) from None
    data = load_folder(resolved.path, seed, val_fraction, test_fraction)
    if resolved.info is not None:
        data.name = resolved.info.name
    data.note = resolved.note if resolved.source == "local path" else ""
    return data


def build_vocab(names: list[str]) -> Vocab:
    """``<pad>`` (0), ``<unk>`` (1), then every character of the training names, sorted."""
    return Vocab((PAD, UNK, *sorted({c for name in names for c in name})), kind="chars")


def encode(name: str, vocab: Vocab) -> list[int]:
    """A name's character ids (characters the vocabulary lacks: ``<unk>``)."""
    return vocab.encode(list(name))
