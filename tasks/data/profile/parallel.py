"""Sentence pairs for translation: pairs per split, lengths per side, their ratio, vocabularies.

Read with the task's loader (`tasks.data.parallel.load_corpus`, in ``--direction``) and
tokenised once with its tokenizer (`tasks.data.parallel.tokenize`), as the task does.

Figures: pairs per split; lengths in tokens per side (all splits: percentiles, histogram); the
target/source length ratio (pairs with a non-empty source); distinct training tokens per side;
sample pairs. `live`: per side, the vocabulary ``--min-freq`` keeps (built on the training
pairs, plus the four specials) and the out-of-vocabulary rate of validation and test tokens;
and the share of training pairs ``--max-len`` drops (an empty side, or more than max-len
tokens on either side, as `tasks.data.parallel.filter_lengths` does).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from tasks.data.profile.common import (
    Progress,
    Stages,
    coverage,
    every,
    float_histogram,
    kept_tokens,
    length_counts,
    length_figures,
    rank_table,
)
from tasks.engine.settings import TrainConfig

SPLITS = ("train", "val", "test")
SIDES = ("src", "tgt")
SAMPLES = 3
RATIO_BINS = (0.0, 3.0, 0.2)
"""(low, high, width) of the ratio histogram; ratios beyond fall in the end bins."""


def compute(
    task: str, dataset: str, path: Path, settings: TrainConfig, progress: Progress
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures, tables) of a pair corpus."""
    from tasks.data.parallel import LANGUAGE_NAMES, load_corpus, tokenize

    stages = Stages(progress, reading=1, tokenising=3, counting=1)
    stages("reading")
    corpus = load_corpus(dataset, settings.direction)  # type: ignore[attr-defined]
    langs = {"src": corpus.src_lang, "tgt": corpus.tgt_lang}
    counts = {(side, split): Counter[str]() for side in SIDES for split in SPLITS}
    lengths: dict[str, list[int]] = {"src": [], "tgt": []}
    longest: list[int] = []
    empty = 0
    ratios: list[float] = []
    pairs = [(split, pair) for split in SPLITS for pair in getattr(corpus, split)]
    for split, pair in every(pairs, "tokenising", stages):
        n = {}
        for side, text in zip(SIDES, pair, strict=True):
            tokens = tokenize(text, langs[side])
            counts[side, split].update(tokens)
            lengths[side].append(n.setdefault(side, len(tokens)))
        if n["src"]:
            ratios.append(n["tgt"] / n["src"])
        if split == "train":
            if min(n.values()) == 0:
                empty += 1
            else:
                longest.append(max(n.values()))
    stages("counting")
    tables: dict[str, Any] = {"train_longest": length_counts(longest).tolist(), "empty": empty}
    figures: dict[str, Any] = {
        "direction": corpus.direction,
        "languages": {side: LANGUAGE_NAMES.get(code, code) for side, code in langs.items()},
        "notes": list(corpus.notes),
        "pairs": {split: len(getattr(corpus, split)) for split in SPLITS},
        "lengths": {side: length_figures(length_counts(lengths[side])) for side in SIDES},
        "ratio": _ratio(np.asarray(ratios, dtype=np.float64)),
        "vocabulary": {},
        "samples": [list(p) for p in random.Random(0).sample(corpus.train,
                                                              min(SAMPLES, len(corpus.train)))],
    }  # fmt: skip
    for side in SIDES:
        train = counts[side, "train"]
        table = rank_table(train, {s: counts[side, s] for s in ("val", "test")})
        tables |= {f"{side}_{key}": value for key, value in table.items()}
        figures["vocabulary"][side] = {
            "train_types": len(train),
            "train_tokens": int(sum(train.values())),
        }
    stages("counting", 1.0)
    return figures, tables


def _ratio(ratios: np.ndarray) -> dict[str, Any]:
    if not ratios.size:
        return {"pairs": 0}
    return {
        "pairs": int(ratios.size),
        "mean": float(ratios.mean()),
        "median": float(np.median(ratios)),
        "p5": float(np.percentile(ratios, 5)),
        "p95": float(np.percentile(ratios, 95)),
        "histogram": float_histogram(ratios, *RATIO_BINS),
    }


def live(figures: dict[str, Any], tables: dict[str, Any], settings: TrainConfig) -> dict:
    """What ``--min-freq`` keeps per side and ``--max-len`` drops of the training pairs."""
    min_freq = settings.min_freq  # type: ignore[attr-defined]
    max_len = settings.max_len  # type: ignore[attr-defined]
    out: dict[str, Any] = {"min_freq": min_freq, "vocabulary": {}}
    for side in SIDES:
        kept = kept_tokens(tables[f"{side}_train_counts"], min_freq)
        row = {"entries": kept + 4}
        for split in ("val", "test"):
            total = int(tables[f"{side}_{split}_total"])
            covered = coverage(tables[f"{side}_{split}_hits"], total, kept) if total else 1.0
            row[f"{split}_oov"] = 1 - covered
        out["vocabulary"][side] = row
    longest = tables["train_longest"]
    train = int(longest.sum() + tables["empty"])
    dropped = int(longest[max_len + 1 :].sum() + tables["empty"])
    share = dropped / train if train else 0.0
    out["max_len"] = {"value": max_len, "dropped": dropped, "share": share}
    return out


def notes(report: dict[str, Any]) -> dict[str, str]:
    """One short line per setting for the Configure form."""
    live_ = report["live"]
    cut = live_["max_len"]
    vocab = live_["vocabulary"]
    return {
        "max_len": f"drops {100 * cut['share']:.1f}% of training pairs ({cut['dropped']:,})",
        "min_freq": (
            f"unknown in val: {100 * vocab['src']['val_oov']:.1f}% src, "
            f"{100 * vocab['tgt']['val_oov']:.1f}% tgt"
        ),
    }
