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

Label skew ("Fightin' Words", Monroe, Colaresi & Quinn 2008): for each label l against the
rest, the z-score of the log-odds ratio of a token t with an informative Dirichlet prior
``a_t = ALPHA * n(t) / N`` (the training corpus itself, `ALPHA` pseudo-tokens in all):
``d = log((y + a_t) / (n_l + ALPHA - y - a_t)) - log((r + a_t) / (n_r + ALPHA - r - a_t))`` and
``z = d / sqrt(1 / (y + a_t) + 1 / (r + a_t))``, where y and r are t's training counts under l
and under the other labels and n_l, n_r their token totals. Tokens seen fewer than
`skew_min_count` times are left out. Frequent, telling tokens rank high, not names seen twice.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tasks.data.profile import DataProfile
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
ALPHA = 1000.0
"""Pseudo-tokens of the skew's prior (see the module docstring)."""
SAMPLE_CHARS = 400
"""A sample longer than this is cut (with an ellipsis)."""
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
"""IMDB's HTML line breaks, shown as spaces in a sample (the tokenizer reads them so too)."""


@dataclass
class LabelledData:
    """What a labelled task's reader returns: the examples of each split and how to tokenise."""

    splits: dict[str, list[tuple[str, int]]]
    labels: tuple[str, ...]
    tokens: Callable[[str], list[str]]
    unit: str
    """What a token is, for the reader: "tokens" or "characters"."""
    notes: list[str] = field(default_factory=list)


def compute(
    task: str, dataset: str, path: Path, settings: TrainConfig, progress: Progress
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures, tables) of a labelled dataset; `live` reads the tables."""
    stages = Stages(progress, reading=1, tokenising=4, counting=1)
    stages("reading")
    data = _reader(task).read(dataset, settings)
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


def _reader(task: str) -> DataProfile:
    from tasks.registry import get_task

    profile = get_task(task).profile
    assert profile is not None and profile.kind == "labelled", task
    return profile


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
    """Per label, its `SKEWED_PER_LABEL` tokens of highest z-score: ``[token, count, share]``
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
    n_l = n_tl.sum(0)
    grand = n_t.sum()
    prior = ALPHA * n_t / grand
    out = {}
    for j, label in enumerate(labels):
        y, r = n_tl[:, j], n_t - n_tl[:, j]
        rest = grand - n_l[j]
        delta = np.log((y + prior) / (n_l[j] + ALPHA - y - prior)) - np.log(
            (r + prior) / (rest + ALPHA - r - prior)
        )
        z = delta / np.sqrt(1 / (y + prior) + 1 / (r + prior))
        order = sorted(range(len(tokens)), key=lambda i: (-z[i], tokens[i]))
        out[label] = [
            [tokens[i], int(n_t[i]), float(y[i] / n_t[i])]
            for i in order[:SKEWED_PER_LABEL]
            if y[i] > 0
        ]
    return out


def samples(data: LabelledData, labels: tuple[str, ...]) -> dict[str, list[str]]:
    """Seeded training examples of each label: one text, or three when texts are short."""
    train = data.splits["train"]
    short = sum(len(t) for t, _ in train) < 40 * max(len(train), 1)
    rng = random.Random(0)
    out = {}
    for y, label in enumerate(labels):
        texts = [t for t, label_of in train if label_of == y]
        picked = rng.sample(texts, min(len(texts), 3 if short else 1))
        out[label] = [_cut(" ".join(_BR.sub(" ", t).split())) for t in picked]
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
        out["vocab_size"] = f"covers {_pct(vocab['val'])} of val tokens"
        out["min_freq"] = f"keeps {vocab['entries']:,} entries"
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"
