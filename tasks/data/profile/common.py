"""The figures every kind of profile shares: percentiles, histograms, vocabulary coverage.

NumPy only. Lengths are kept as a count per length (``counts[L]`` = how many texts have L
tokens), so a percentile, a histogram or the share a ``--seq-len`` cuts is read off the counts
without the texts.

Definitions (the tests compute each the same way from the raw data):

- **percentile p** (nearest rank): the smallest length L such that at least ``ceil(p n / 100)``
  of the n texts have at most L tokens; "90% of the texts have at most p90 tokens".
- **coverage** of a split's tokens by a vocabulary: the share of the split's tokens (every
  occurrence, tokens never seen in training included) that are in the vocabulary.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

Progress = Callable[[str, float], None]
"""``progress(stage, fraction)``: what is being done and how much of all of it is done (0-1)."""

PERCENTILES = (50, 90, 95, 99)
"""The percentiles reported for every length."""
HISTOGRAM_BINS = 20
"""About this many bins up to the 99th percentile (longer ones share one last bin)."""


def quiet(stage: str, fraction: float) -> None:
    """A `Progress` that reports nothing."""


class Stages:
    """Maps the progress of named stages, each with its share of the work, to one fraction.

    ``stages = Stages(progress, reading=1, tokenising=3)``; ``stages("tokenising", 0.5)``
    reports ``("tokenising", 0.625)``.
    """

    def __init__(self, progress: Progress, **weights: float) -> None:
        self.progress = progress
        total = sum(weights.values())
        self.start: dict[str, float] = {}
        self.share: dict[str, float] = {}
        done = 0.0
        for name, weight in weights.items():
            self.start[name], self.share[name] = done / total, weight / total
            done += weight

    def __call__(self, stage: str, fraction: float = 0.0) -> None:
        self.progress(stage, self.start[stage] + self.share[stage] * min(max(fraction, 0.0), 1.0))


def every(items: Sequence[Any], stage: str, stages: Stages, steps: int = 50) -> Iterable[Any]:
    """The items in order, reporting `stage` progress about `steps` times along the way."""
    n = len(items)
    stride = max(1, n // steps)
    for i, item in enumerate(items):
        if i % stride == 0:
            stages(stage, i / max(n, 1))
        yield item
    stages(stage, 1.0)


# -- lengths ------------------------------------------------------------------------------------


def length_counts(lengths: Iterable[int]) -> np.ndarray:
    """``counts[L]``: how many of `lengths` are L (int64, at least one entry)."""
    array = np.fromiter(lengths, dtype=np.int64)
    return np.bincount(array, minlength=1) if array.size else np.zeros(1, dtype=np.int64)


def percentile(counts: np.ndarray, p: float) -> int:
    """The nearest-rank percentile p of the lengths counted in `counts` (0 when none)."""
    n = int(counts.sum())
    if n == 0:
        return 0
    rank = max(1, math.ceil(p * n / 100))
    return int(np.searchsorted(np.cumsum(counts), rank, side="left"))


def nice_width(span: float, bins: int = HISTOGRAM_BINS) -> float:
    """A bin width of 1, 2 or 5 times a power of ten, giving at most about `bins` bins."""
    raw = max(span / bins, 1e-12)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def length_figures(counts: np.ndarray) -> dict[str, Any]:
    """Count, total, mean, min, max, percentiles and a histogram of counted lengths."""
    n = int(counts.sum())
    lengths = np.arange(len(counts))
    total = int((counts * lengths).sum())
    present = np.flatnonzero(counts)
    low = int(present[0]) if present.size else 0
    high = int(present[-1]) if present.size else 0
    top = percentile(counts, 99)
    width = max(1, int(nice_width(max(top - low, 1))))
    start = low // width * width
    edges = [*range(start, top + 1, width), start + width * ((top - start) // width + 1)]
    bins = [[lo, hi, int(counts[lo:hi].sum())] for lo, hi in itertools.pairwise(edges)]
    overflow = int(counts[edges[-1] :].sum())
    if overflow:
        bins.append([edges[-1], None, overflow])
    return {
        "count": n,
        "total": total,
        "mean": total / n if n else 0.0,
        "min": low,
        "max": high,
        "percentiles": {str(p): percentile(counts, p) for p in PERCENTILES},
        "histogram": bins,
    }


def share_longer(counts: np.ndarray, limit: int) -> dict[str, float]:
    """What a cut at `limit` tokens does: the share of texts longer, and of tokens beyond it."""
    n = counts.sum()
    lengths = np.arange(len(counts))
    total = (counts * lengths).sum()
    over = lengths > limit
    lost = (counts[over] * (lengths[over] - limit)).sum()
    return {
        "texts": float(counts[over].sum() / n) if n else 0.0,
        "tokens": float(lost / total) if total else 0.0,
    }


def float_histogram(values: np.ndarray, low: float, high: float, width: float) -> list[list]:
    """Bins ``[lo, hi, count]`` of `width` from `low` to `high`; values below `low` count in
    the first bin, values from `high - width` up in the last, open one (hi None)."""
    edges = np.arange(low, high + width / 2, width)
    clipped = np.clip(values, low, high - width / 2)
    counts, _ = np.histogram(clipped, bins=edges)
    bins: list[list] = [[round(float(a), 6), round(float(b), 6), int(c)]
                        for a, b, c in zip(edges, edges[1:], counts, strict=False)]  # fmt: skip
    bins[-1][1] = None
    return bins


# -- vocabulary -------------------------------------------------------------------------------


def ranked(counts: Counter[str]) -> list[str]:
    """Tokens by falling count, ties A-Z: the order the tasks' vocabularies keep them in."""
    return sorted(counts, key=lambda t: (-counts[t], t))


def rank_table(train: Counter[str], splits: dict[str, Counter[str]]) -> dict[str, Any]:
    """What coverage needs, per training token in rank order: its training count and how
    often it occurs in each split; and each split's token total."""
    order = ranked(train)
    table: dict[str, Any] = {"train_counts": [train[t] for t in order]}
    for name, counts in splits.items():
        table[f"{name}_hits"] = [counts.get(t, 0) for t in order]
        table[f"{name}_total"] = int(sum(counts.values()))
    return table


def kept_tokens(train_counts: np.ndarray, min_freq: int, limit: int | None = None) -> int:
    """How many of the ranked training tokens a vocabulary keeps: those seen at least
    `min_freq` times, at most `limit` of them."""
    seen = int(np.searchsorted(-train_counts, -min_freq, side="right"))
    return seen if limit is None else max(0, min(limit, seen))


def coverage(hits: np.ndarray, total: int, kept: int) -> float:
    """The share of a split's `total` tokens among the first `kept` ranked training tokens."""
    return float(hits[:kept].sum() / total) if total else 0.0


def frequent(counts: Counter[str], n: int = 20) -> list[list]:
    """The `n` most frequent tokens as ``[token, count]`` (ties A-Z)."""
    return [[t, counts[t]] for t in ranked(counts)[:n]]


def summary(values: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation, min, median and max of a float array."""
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "median": float(np.median(values)),
        "max": float(values.max()),
    }


def floats(values: np.ndarray, digits: int = 6) -> list[float | None]:
    """An array as JSON numbers (NaN -> None), rounded to `digits` significant digits."""
    return [None if not math.isfinite(v) else float(f"{v:.{digits}g}") for v in values.tolist()]
