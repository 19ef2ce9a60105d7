"""Labelled texts (sentiment reviews, names): splits, labels, lengths, vocabulary, skew.

Read with the task's own loader and tokenizer (`tasks.data.text.load_reviews` and
`token_strings`; `tasks.names.data.load_names` and its characters), so the split and the tokens
are the ones the task trains on. Each text is tokenised once.

Figures (`compute`): examples per split and label; the majority-class accuracy (the most
frequent training label, on validation and test); lengths in tokens (all splits) with
percentiles and a histogram; vocabulary sizes; the coverage of validation and test tokens by a
vocabulary of N entries as ``--vocab-size N --min-freq 1`` builds it (N - 2 tokens plus
``<pad>`` and ``<unk>``); the most frequent training tokens; the most label-skewed ones; a
sample per label. `live` adds what the current ``--seq-len``, ``--vocab-size`` and
``--min-freq`` cut or cover.

Label skew: among training tokens seen at least `skew_min_count` times, the lift of label l
for token t is ``P(l | t) / P(l)``, with ``P(l | t) = (n(t, l) + P(l)) / (n(t) + 1)`` (one
pseudo-occurrence spread by the prior) and ``P(l)`` the share of training tokens under l; each
label lists its tokens of highest lift.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tasks.data.profile.common import (
    Progress,
    Stages,
    coverage,
    every,
    frequent,
    kept_tokens,
    length_counts,
    length_figures,
    rank_table,
    share_longer,
)
from tasks.engine.settings import TrainConfig

SPLITS = ("train", "val", "test")
TOP_N = (5_000, 10_000, 20_000, 50_000)
"""Vocabulary sizes whose coverage is always reported."""
SKEWED_PER_LABEL = 5
SAMPLE_CHARS = 400
"""A sample longer than this is cut (with an ellipsis)."""


@dataclass
class LabelledData:
    """What a labelled task's loader gave: the examples of each split and how to tokenise."""

    splits: dict[str, list[tuple[str, int]]]
    labels: tuple[str, ...]
    tokens: Callable[[str], list[str]]
    unit: str
    """What a token is, for the reader: "tokens" or "characters"."""
    notes: list[str] = field(default_factory=list)


def read_sentiment(dataset: str, settings: TrainConfig) -> LabelledData:
    """A review set through `load_reviews`, tokenised by its own tokenizer."""
    from tasks.data.text import load_reviews, token_strings
    from tasks.sentiment.task import LABELS

    data = load_reviews(dataset)
    kind = data.tokenizer
    notes = [data.describe(), f"tokenizer: {kind}"] + ([data.note] if data.note else [])
    return LabelledData(
        {"train": data.train, "val": data.val, "test": data.test},
        LABELS,
        lambda text: token_strings(text, kind),
        "tokens",
        notes,
    )


def read_names(dataset: str, settings: TrainConfig) -> LabelledData:
    """A names folder through `load_names` with the run's split settings; tokens: characters."""
    from tasks.names.data import load_names

    data = load_names(
        dataset,
        settings.split_seed,  # type: ignore[attr-defined]
        settings.val_fraction,  # type: ignore[attr-defined]
        settings.test_fraction,  # type: ignore[attr-defined]
    )
    return LabelledData(
        {"train": data.train, "val": data.val, "test": data.test},
        data.languages,
        list,
        "characters",
        [data.describe()] + ([data.note] if data.note else []),
    )


READERS: dict[str, Callable[[str, TrainConfig], LabelledData]] = {
    "sentiment": read_sentiment,
    "names": read_names,
}
READING = {"sentiment": (), "names": ("split_seed", "val_fraction", "test_fraction")}
"""The settings that change what each task's loader returns (part of the cache key)."""


def compute(
    task: str, dataset: str, path: Path, settings: TrainConfig, progress: Progress
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures, tables) of a labelled dataset; `live` reads the tables."""
    stages = Stages(progress, reading=1, tokenising=4, counting=1)
    stages("reading")
    data = READERS[task](dataset, settings)
    labels = data.labels
    per_label: list[Counter[str]] = [Counter() for _ in labels]
    held_out: dict[str, Counter[str]] = {"val": Counter(), "test": Counter()}
    lengths: list[int] = []
    everything = [(split, text, y) for split in SPLITS for text, y in data.splits[split]]
    for split, text, y in every(everything, "tokenising", stages):
        tokens = data.tokens(text)
        lengths.append(len(tokens))
        (per_label[y] if split == "train" else held_out[split]).update(tokens)
    stages("counting")
    train: Counter[str] = Counter()
    for counts in per_label:
        train.update(counts)
    table = rank_table(train, held_out)
    counts = length_counts(lengths)
    table["lengths"] = counts.tolist()
    figures = {
        "unit": data.unit,
        "notes": data.notes,
        "labels": list(labels),
        "splits": _splits(data, labels),
        "majority": _majority(data, labels),
        "lengths": length_figures(counts),
        "vocabulary": {
            "train_types": len(train),
            "train_tokens": int(sum(train.values())),
            "all_types": len(set(train) | set(held_out["val"]) | set(held_out["test"])),
        },
        "coverage": _coverage_rows(table),
        "frequent": frequent(train),
        "skew_min_count": skew_min_count(int(sum(train.values()))),
        "skewed": skewed(per_label, labels),
        "samples": samples(data, labels),
    }
    stages("counting", 1.0)
    return figures, table


def _splits(data: LabelledData, labels: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    out = {}
    for split in SPLITS:
        ys = np.fromiter((y for _, y in data.splits[split]), dtype=np.int64)
        per = np.bincount(ys, minlength=len(labels)) if ys.size else np.zeros(len(labels), int)
        out[split] = {"examples": int(ys.size), "per_label": per.tolist()}
    return out


def _majority(data: LabelledData, labels: tuple[str, ...]) -> dict[str, Any]:
    """The most frequent training label (ties: the first) and its accuracy on val and test."""
    counts = Counter(y for _, y in data.splits["train"])
    best = min(counts, key=lambda y: (-counts[y], y))
    accuracy = {}
    for split in ("val", "test"):
        ys = [y for _, y in data.splits[split]]
        accuracy[split] = sum(y == best for y in ys) / len(ys) if ys else 0.0
    return {"label": labels[best], "accuracy": accuracy}


def _coverage_rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Coverage of val and test by the top-N vocabularies, and by every training token."""
    train_counts = np.asarray(table["train_counts"], dtype=np.int64)
    rows = []
    for n in (*TOP_N, None):
        kept = len(train_counts) if n is None else kept_tokens(train_counts, 1, n - 2)
        row = {"entries": n, "tokens": kept}
        for split in ("val", "test"):
            hits = np.asarray(table[f"{split}_hits"], dtype=np.int64)
            row[split] = coverage(hits, table[f"{split}_total"], kept)
        rows.append(row)
    return rows


def skew_min_count(train_tokens: int) -> int:
    """Tokens rarer than this in training are not ranked by skew (too few to tell)."""
    return max(10, round(train_tokens * 1e-5))


def skewed(per_label: list[Counter[str]], labels: tuple[str, ...]) -> dict[str, list[list]]:
    """Per label, its `SKEWED_PER_LABEL` tokens of highest lift: ``[token, count, share]``
    (share: the part of the token's training occurrences under that label)."""
    total = Counter[str]()
    for counts in per_label:
        total.update(counts)
    floor = skew_min_count(sum(total.values()))
    tokens = sorted(t for t, n in total.items() if n >= floor)
    if not tokens:
        return {label: [] for label in labels}
    n_tl = np.array([[c.get(t, 0) for c in per_label] for t in tokens], dtype=np.float64)
    n_t = n_tl.sum(1)
    prior = n_tl.sum(0) / n_t.sum()
    lift = (n_tl + prior) / (n_t[:, None] + 1) / np.where(prior > 0, prior, 1)
    out = {}
    for j, label in enumerate(labels):
        order = sorted(range(len(tokens)), key=lambda i: (-lift[i, j], -n_t[i], tokens[i]))
        out[label] = [
            [tokens[i], int(n_t[i]), float(n_tl[i, j] / n_t[i])]
            for i in order[:SKEWED_PER_LABEL]
            if n_tl[i, j] > 0
        ]
    return out


def samples(data: LabelledData, labels: tuple[str, ...]) -> dict[str, list[str]]:
    """Seeded training examples of each label: one text, or five when texts are short."""
    train = data.splits["train"]
    short = sum(len(t) for t, _ in train) < 40 * max(len(train), 1)
    rng = random.Random(0)
    out = {}
    for y, label in enumerate(labels):
        texts = [t for t, label_of in train if label_of == y]
        picked = rng.sample(texts, min(len(texts), 5 if short else 1))
        out[label] = [_cut(" ".join(t.split())) for t in picked]
    return out


def _cut(text: str) -> str:
    return text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 1].rstrip() + "…"


# -- what the current settings do -------------------------------------------------------------


def live(figures: dict[str, Any], tables: dict[str, np.ndarray], settings: TrainConfig) -> dict:
    """What ``--seq-len`` cuts and, where the task has them, what ``--vocab-size`` and
    ``--min-freq`` keep and cover."""
    out: dict[str, Any] = {
        "seq_len": {"value": settings.seq_len, **share_longer(tables["lengths"], settings.seq_len)}
    }
    vocab_size = getattr(settings, "vocab_size", None)
    min_freq = getattr(settings, "min_freq", None)
    if vocab_size is not None and min_freq is not None:
        kept = kept_tokens(tables["train_counts"], min_freq, vocab_size - 2)
        row = {"vocab_size": vocab_size, "min_freq": min_freq, "entries": kept + 2}
        for split in ("val", "test"):
            row[split] = coverage(tables[f"{split}_hits"], int(tables[f"{split}_total"]), kept)
        out["vocabulary"] = row
    return out


def notes(report: dict[str, Any]) -> dict[str, str]:
    """One short line per setting for the Configure form."""
    cut = report["live"]["seq_len"]
    unit = report["unit"]
    out = {"seq_len": f"cuts {_pct(cut['texts'])} of texts ({_pct(cut['tokens'])} of {unit})"}
    vocab = report["live"].get("vocabulary")
    if vocab is not None:
        out["vocab_size"] = (
            f"covers {_pct(vocab['val'])} of val tokens ({vocab['entries']:,} entries)"
        )
        out["min_freq"] = f"keeps {vocab['entries']:,} entries"
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%" if not math.isnan(x) else "n/a"
