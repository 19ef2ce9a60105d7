"""What the inspector reads by default: a charlm run's validation text, a sentiment run's test
reviews (`rnn-tui inspect` and the Inspect screen both start from these).

Each comes with a one-line description of where it came from. When the run's dataset is no
longer available and the built-in offline default is read instead, the description says so.
"""

from __future__ import annotations

from typing import Any

from tasks.data.info import DatasetError

INSPECT_CHARS = 100_000
"""Characters of validation text traced by default."""
INSPECT_REVIEWS = 500
"""Test reviews explained by default."""


def inspection_text(config: Any, limit: int = INSPECT_CHARS) -> tuple[str, str]:
    """A charlm run's validation text (the last 10% of its dataset, as the task splits it),
    its first `limit` characters, and a line such as "Tiny Shakespeare, validation split,
    first 100,000 characters".

    Raises DatasetError when the text cannot be read.
    """
    from tasks.charlm.task import split_ids
    from tasks.data.catalogue import offline_default
    from tasks.data.fetch import fetch
    from tasks.data.resolve import resolve
    from tasks.data.text import read_text

    dataset = str(config.dataset)
    try:
        resolved = resolve(dataset, task="charlm")
        path, info, note = resolved.path, resolved.info, ""
        if resolved.source == "offline default" and dataset != getattr(info, "name", None):
            note = resolved.note  # the download failed: say what is read instead
    except DatasetError:  # e.g. the run's local text file is gone
        info = offline_default("charlm")
        if info is None:
            raise
        path = fetch(info.name)
        note = f"the run's dataset {dataset} was not found; using the built-in {info.title}"
    title = info.title if info is not None else str(path)
    if info is not None and info.build is not None and not note:
        title += " (the built-in offline default)"
    _, validation = split_ids(read_text(path))  # slices a str as it slices the ids
    text = validation[:limit]
    extent = (
        f"first {len(text):,} characters"
        if len(text) < len(validation)
        else f"{len(text):,} characters"
    )
    return text, f"{title}, validation split, {extent}" + (f" (note: {note})" if note else "")


def inspection_reviews(config: Any, n: int = INSPECT_REVIEWS) -> tuple[list[str], list[int], str]:
    """A sentiment run's first `n` test reviews (in the dataset's order), their labels (0
    negative, 1 positive) and a line such as "rt-polarity, test split, first 500 of 1,066
    reviews".

    Raises DatasetError when the dataset cannot be read.
    """
    from tasks.data.text import load_reviews

    data = load_reviews(str(config.dataset))
    chosen = data.test[:n]
    extent = (
        f"first {len(chosen):,} of {len(data.test):,} reviews"
        if len(chosen) < len(data.test)
        else f"all {len(chosen):,} reviews"
    )
    return [t for t, _ in chosen], [y for _, y in chosen], f"{data.name}, test split, {extent}"
