"""Sentence pairs for translation: loaders, tokenizers, vocabularies, length filtering, batches.

Three published formats are read (a registry name or a local path in that format):

- Multi30k: a folder of line-aligned files ``train.en``/``train.de``, ``val.*`` and
  ``test_2016_flickr.*`` (line i of ``X.en`` translates line i of ``X.de``); de-en or en-de.
- Tatoeba/Anki ``cmn.txt``: ``English<TAB>Chinese<TAB>attribution``; zh-en or en-zh.
- Tatoeba/Anki ``fra.txt``: ``English<TAB>French``; fr-en or en-fr. French non-breaking spaces
  (U+00A0, U+202F) before punctuation become plain spaces.

Tatoeba has no official split: pairs are grouped by their English sentence (several
translations of one sentence stay together, so no test sentence is seen in training) and the
groups are split 90/5/5 with a fixed seed, the same on every run.

Tokens are lower-cased words and punctuation marks; Chinese is split into characters (a Latin
word or a number inside Chinese stays one token). `detokenize` joins tokens back into text
for sacreBLEU.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tasks.data.info import DatasetError
from tasks.data.resolve import resolve

PAD, UNK, SOS, EOS = "<pad>", "<unk>", "<sos>", "<eos>"
SPECIALS = (PAD, UNK, SOS, EOS)
PAD_ID, UNK_ID, SOS_ID, EOS_ID = range(4)

DIRECTIONS = {
    "multi30k": ("de-en", "en-de"),
    "cmn": ("zh-en", "en-zh"),
    "fra": ("fr-en", "en-fr"),
}
"""Format -> the directions it can be read in (the first is the default)."""

LANGUAGE_NAMES = {"en": "English", "de": "German", "zh": "Chinese", "fr": "French"}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = {
    "zh": re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]"),
    "latin": re.compile(r"\w+|[^\w\s]"),
}
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u3000": " ", "\u200b": None})


def normalize(text: str) -> str:
    """NFC, non-breaking/ideographic spaces to spaces, zero-width spaces removed, trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_SPACES).split())


def tokenize(text: str, lang: str) -> list[str]:
    """Lower-cased tokens: words and punctuation marks; Chinese characters one by one.

    ``tokenize("A man's hat.", "en") == ["a", "man", "'", "s", "hat", "."]``
    """
    pattern = _TOKEN["zh" if lang == "zh" else "latin"]
    return pattern.findall(normalize(text).lower())


_NO_SPACE_BEFORE = re.compile(r"\s+([.,!?;:%)\]}»])")
_NO_SPACE_AFTER = re.compile(r"([(\[{«¿¡])\s+")
_JOINED = re.compile(r"(\w) ([-'/]) (?=\w)")
_LATIN_WORD = re.compile(rf"[^\W{_CJK}]+")


def detokenize(tokens: Sequence[str], lang: str) -> str:
    """Tokens back to text: punctuation attached, ``man ' s`` -> ``man's``, ``a - b`` -> ``a-b``;
    Chinese without spaces (except between two Latin words or numbers)."""
    if lang == "zh":
        out = ""
        for prev, tok in zip(["", *tokens[:-1]], tokens, strict=True):
            gap = _LATIN_WORD.fullmatch(prev) and _LATIN_WORD.fullmatch(tok)
            out += (" " if gap else "") + tok
        return out
    text = _JOINED.sub(r"\1\2", " ".join(tokens))
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    return _NO_SPACE_AFTER.sub(r"\1", text)


def capitalize_first(text: str) -> str:
    """Upper-case a leading letter (the model writes lower case; references are cased)."""
    return text[:1].upper() + text[1:]


class Vocab:
    """Token <-> id for one side; ids 0-3 are ``<pad> <unk> <sos> <eos>``."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if tuple(tokens[:4]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        self.itos = list(tokens)
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_freq: int) -> Vocab:
        """Tokens seen at least `min_freq` times, most frequent first (ties alphabetical)."""
        counts = Counter(t for s in sentences for t in s)
        kept = sorted(
            (t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t)
        )
        return cls([*SPECIALS, *kept])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of `tokens`, unknown ones as ``<unk>`` (no ``<sos>``/``<eos>`` added)."""
        return [self.stoi.get(t, UNK_ID) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of `ids`, stopping at ``<eos>`` and skipping ``<pad>``/``<sos>``."""
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            if i not in (PAD_ID, SOS_ID):
                out.append(self.itos[i])
        return out


@dataclass
class Corpus:
    """The pairs of one dataset, split, in one direction (``src`` -> ``tgt``)."""

    name: str
    src_lang: str
    tgt_lang: str
    train: list[tuple[str, str]]
    val: list[tuple[str, str]]
    test: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)
    """Human lines: where the data came from, what was repaired."""

    @property
    def direction(self) -> str:
        return f"{self.src_lang}-{self.tgt_lang}"


def detect_format(path: Path) -> str:
    """``multi30k`` (a folder), ``cmn`` or ``fra`` (a tab-separated file); DatasetError else."""
    if path.is_dir():
        if (path / "train.en").is_file() and (path / "train.de").is_file():
            return "multi30k"
        raise DatasetError(
            f"{path} is a folder without train.en/train.de; a translation folder holds "
            "Multi30k's line-aligned {train,val,test_2016_flickr}.{en,de}"
        )
    lines = _read_lines(path)[:200]
    if not lines or not all("\t" in line for line in lines):
        raise DatasetError(
            f"{path} is not tab-separated sentence pairs (English<TAB>other language[<TAB>...])"
        )
    letters = [ch for line in lines for ch in line.split("\t")[1] if ch.isalpha()]
    cjk = sum(1 for ch in letters if re.match(rf"[{_CJK}]", ch))
    return "cmn" if cjk > 0.5 * max(len(letters), 1) else "fra"


def load_corpus(dataset: str, direction: str = "auto") -> Corpus:
    """Resolve ``--dataset`` and read its pairs in `direction` (``auto``: the format's default).

    Raises:
        DatasetError: unknown dataset, unreadable or malformed files, a direction the data
            cannot give. One line.
    """
    resolved = resolve(dataset, task="translation", allow_offline=False)
    fmt = detect_format(resolved.path)
    allowed = DIRECTIONS[fmt]
    if direction == "auto":
        direction = allowed[0]
    if direction not in allowed:
        raise DatasetError(
            f"{dataset} translates {' or '.join(allowed)}; --direction {direction} does not apply"
        )
    src, tgt = direction.split("-")
    if fmt == "multi30k":
        splits = {s: _multi30k_split(resolved.path, s, src, tgt) for s in MULTI30K_SPLITS}
        corpus = Corpus(dataset, src, tgt, splits["train"], splits["val"], splits["test"])
    else:
        pairs = _tatoeba_pairs(resolved.path, english_first=src == "en")
        train, val, test = split_by_english(pairs, english_index=0 if src == "en" else 1)
        corpus = Corpus(dataset, src, tgt, train, val, test)
    if resolved.source != "local path":
        corpus.notes.append(resolved.note)
    return corpus


MULTI30K_SPLITS = {"train": "train", "val": "val", "test": "test_2016_flickr"}


def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text (byte offset {exc.start})") from None
    return text.splitlines()


def _multi30k_split(folder: Path, split: str, src: str, tgt: str) -> list[tuple[str, str]]:
    stem = MULTI30K_SPLITS[split]
    for lang in (src, tgt):
        path = folder / f"{stem}.{lang}"
        if not path.is_file():
            raise DatasetError(f"{folder} has no {path.name} (Multi30k needs {stem}.en/.de)")
    pairs = read_aligned(folder / f"{stem}.{src}", folder / f"{stem}.{tgt}")
    return [(a, b) for a, b in pairs if a]


def read_aligned(src_path: Path, tgt_path: Path) -> list[tuple[str, str]]:
    """(source, target) pairs of two line-aligned files (line i of one translates line i of
    the other), normalized; one pair per line, blank ones included."""
    sides = [_read_lines(src_path), _read_lines(tgt_path)]
    if len(sides[0]) != len(sides[1]):
        raise DatasetError(
            f"{src_path} has {len(sides[0])} lines but {tgt_path} has {len(sides[1])}; the "
            "files must be line-aligned"
        )
    return [(normalize(a), normalize(b)) for a, b in zip(*sides, strict=True)]


def _tatoeba_pairs(path: Path, english_first: bool) -> list[tuple[str, str]]:
    """(src, tgt) pairs of an Anki file; the attribution column (if any) is dropped."""
    pairs = []
    for number, line in enumerate(_read_lines(path), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 2 or not cols[0].strip() or not cols[1].strip():
            raise DatasetError(f"{path} line {number}: expected English<TAB>translation")
        en, other = normalize(cols[0]), normalize(cols[1])
        pairs.append((en, other) if english_first else (other, en))
    return pairs


def split_by_english(
    pairs: list[tuple[str, str]], english_index: int, seed: int = 0
) -> tuple[list, list, list]:
    """90/5/5 split of pairs grouped by their English sentence (fixed seed)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for pair in pairs:
        groups.setdefault(pair[english_index], []).append(pair)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n_val = n_test = max(1, len(keys) // 20)
    parts = (keys[n_val + n_test :], keys[:n_val], keys[n_val : n_val + n_test])
    return tuple([p for k in part for p in groups[k]] for part in parts)  # type: ignore[return-value]


@dataclass
class Encoded:
    """Token ids of one split: ``src[i]`` and ``tgt[i]`` (tgt without ``<sos>``/``<eos>``)."""

    src: list[list[int]]
    tgt: list[list[int]]
    refs: list[str]
    """The untouched target sentences (the BLEU references)."""


def encode_pairs(pairs: Sequence[tuple[str, str]], src_vocab: Vocab, tgt_vocab: Vocab,
                 src_lang: str, tgt_lang: str) -> Encoded:  # fmt: skip
    """Tokenize and map to ids (unknown tokens -> ``<unk>``)."""
    return Encoded(
        [src_vocab.encode(tokenize(s, src_lang)) for s, _ in pairs],
        [tgt_vocab.encode(tokenize(t, tgt_lang)) for _, t in pairs],
        [t for _, t in pairs],
    )


def filter_lengths(
    src: list[list[int]], tgt: list[list[int]], max_len: int
) -> tuple[np.ndarray, int]:
    """Indices of pairs with 1..max_len tokens on both sides, and how many were dropped."""
    keep = [i for i, (s, t) in enumerate(zip(src, tgt, strict=True)) if 0 < len(s) <= max_len
            and 0 < len(t) <= max_len]  # fmt: skip
    return np.asarray(keep, dtype=np.int64), len(src) - len(keep)


@dataclass
class Batch:
    """Padded ids: ``src`` (B, S), ``src_len`` (B,), ``tgt_in`` = ``<sos>`` y (B, T),
    ``tgt_out`` = y ``<eos>`` (B, T); ``<pad>`` (id 0) fills the rest."""

    src: np.ndarray
    src_len: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray

    @property
    def tokens(self) -> int:
        """Target tokens predicted (``<eos>`` included)."""
        return int((self.tgt_out != PAD_ID).sum())


def pad_sources(src: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(B, S) ids padded with 0 and (B,) lengths (an empty source becomes one ``<unk>``)."""
    seqs = [list(s) or [UNK_ID] for s in src]
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    out = np.zeros((len(seqs), int(lengths.max())), dtype=np.int64)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out, lengths


def make_batch(src: Sequence[Sequence[int]], tgt: Sequence[Sequence[int]]) -> Batch:
    """Pad a list of pairs into a `Batch`."""
    src_ids, src_len = pad_sources(src)
    width = max(len(t) for t in tgt) + 1
    tgt_in = np.zeros((len(tgt), width), dtype=np.int64)
    tgt_out = np.zeros((len(tgt), width), dtype=np.int64)
    for i, t in enumerate(tgt):
        tgt_in[i, : len(t) + 1] = [SOS_ID, *t]
        tgt_out[i, : len(t) + 1] = [*t, EOS_ID]
    return Batch(src_ids, src_len, tgt_in, tgt_out)


def bucketed_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Positions 0..n-1 grouped into batches of similar `lengths`, batches in random order.

    The order is sorted by length plus uniform noise in [0, 2), so batches differ per epoch
    while padding stays small.
    """
    keys = lengths + rng.uniform(0, 2, size=len(lengths))
    order = np.argsort(keys, kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)  # type: ignore[arg-type]
    return batches
