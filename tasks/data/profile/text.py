"""A plain text for the character model: characters, lines, and what the 90/10 split holds out.

Read with the task's reader (`tasks.data.text.read_text`) and cut where the task cuts it
(`tasks.charlm.task.VAL_FRACTION`: the first 90% of the characters train, the rest validates).

Figures: characters and distinct characters, the most and least frequent ones, line lengths in
characters (percentiles and a histogram), a sample from the start, and the validation part
(its size, the line it starts on, characters it has that training never shows). `live`: how
many chunks of ``--batch`` streams by ``--seq-len`` characters an epoch walks.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from tasks.data.profile.common import Progress, Stages, length_counts, length_figures
from tasks.engine.settings import TrainConfig

SAMPLE_CHARS = 400
EXTREMES = 10
"""How many of the most and of the least frequent characters are listed."""


def train_chars(n: int) -> int:
    """How many of `n` characters the task trains on (`tasks.charlm.task.split_ids`)."""
    from tasks.charlm.task import VAL_FRACTION

    return int(n * (1 - VAL_FRACTION))


def compute(
    task: str, dataset: str, path: Path, settings: TrainConfig, progress: Progress
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures, tables) of a text file."""
    from tasks.data.text import read_text

    stages = Stages(progress, reading=1, counting=2)
    stages("reading")
    text = read_text(path)
    stages("counting")
    chars = Counter(text)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line starts no line
    cut = train_chars(len(text))
    train, val = text[:cut], text[cut:]
    ranked = sorted(chars, key=lambda c: (-chars[c], c))
    val_only = sorted(set(val) - set(train))
    figures = {
        "characters": len(text),
        "distinct": len(chars),
        "lines": len(lines),
        "most": [[c, chars[c]] for c in ranked[:EXTREMES]],
        "least": [[c, chars[c]] for c in ranked[::-1][:EXTREMES]],
        "line_lengths": length_figures(length_counts(len(line) for line in lines)),
        "sample": _sample(text),
        "split": {
            "train_chars": len(train),
            "val_chars": len(val),
            "val_lines": val.count("\n") + (1 if val and not val.endswith("\n") else 0),
            "val_starts_at_line": train.count("\n") + 1,
            "val_only": val_only,
            "val_sample": _sample(val, 200),
        },
    }
    stages("counting", 1.0)
    return figures, {}


def _sample(text: str, limit: int = SAMPLE_CHARS) -> str:
    """The first `limit` characters, ending at a line break when there is one."""
    head = text[:limit]
    end = head.rfind("\n")
    return head[:end] if end > limit // 2 else head


def live(figures: dict[str, Any], tables: dict[str, Any], settings: TrainConfig) -> dict:
    """The BPTT walk of an epoch: ``--batch`` streams, chunks of ``--seq-len`` characters."""
    per_stream = (int(figures["split"]["train_chars"]) - 1) // settings.batch
    return {
        "bptt": {
            "batch": settings.batch,
            "seq_len": settings.seq_len,
            "per_stream": per_stream,
            "chunks": per_stream // settings.seq_len,
        }
    }


def notes(report: dict[str, Any]) -> dict[str, str]:
    """One short line per setting for the Configure form."""
    walk = report["live"]["bptt"]
    if walk["chunks"] == 0:
        return {"seq_len": f"too long: {walk['per_stream']:,} characters per stream"}
    return {"seq_len": f"{walk['chunks']:,} chunks per epoch ({walk['per_stream']:,} per stream)"}
