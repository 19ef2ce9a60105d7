"""What a trained run produces, as text: a few answers of its best checkpoint's player.

`samples(run_dir)` gives tag -> markdown, for TensorBoard's text tab (`tensorboard.py`) and the
written report. Each task shows what its model is for: the char LM a generated text per sampling
strategy (a fixed seed, so the same checkpoint gives the same texts), translation the first
validation sentences (source, reference, model), sentiment the first test reviews (label and
prediction), names the first test names, timeseries the forecast of the series' last steps
against the truth and the naive baselines. Gradflow has no player: nothing. Every call is
cheap (a few hundred characters, a handful of inputs).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tasks.data.info import DatasetError
from tasks.engine.runs import best_checkpoint, playable_checkpoint

SAMPLE_CHARS = 300
"""Characters the char LM generates per strategy."""
SAMPLE_SEED = 0
"""The random seed of each generated text."""
CHARLM_STRATEGIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("greedy", {"strategy": "greedy"}),
    ("top-k", {"strategy": "top-k", "k": 10, "temperature": 0.8}),
    ("nucleus", {"strategy": "top-p", "p": 0.9, "temperature": 0.8}),
)
"""(tag name, `CharGenerator.stream` options) of each text."""
EXAMPLES = 4
"""Sentences or reviews shown."""
NAMES = 6
"""Test names shown."""
REVIEW_CHARS = 240
"""A review is cut to this many characters in the table."""


def sample_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint the samples come from: the best, else the playable one (None: none)."""
    best = best_checkpoint(run_dir)
    return best if best.is_file() else playable_checkpoint(run_dir)


def samples(run_dir: Path) -> dict[str, str]:
    """Tag (``samples/<what>``) -> markdown text of the run's best checkpoint; {} when the
    run has no checkpoint yet or its task has nothing to show. The data a task reads its
    examples from missing: one tag holding a line that says so."""
    from tasks.engine.checkpoint import load_checkpoint
    from tasks.engine.player import load_player

    checkpoint = sample_checkpoint(Path(run_dir))
    if checkpoint is None:
        return {}
    payload = load_checkpoint(checkpoint)
    maker = _MAKERS.get(str(payload.get("task")))
    if maker is None:
        return {}
    make, tag, what = maker
    try:
        return make(load_player(payload))  # a timeseries player reads its series
    except DatasetError as exc:
        return {tag: f"*{what} could not be read: {exc}*"}


def _charlm(player: Any) -> dict[str, str]:
    chars = player.vocab.chars
    prime = next((c for c in ("\n", " ") if c in chars), chars[0])
    out = {}
    for name, options in CHARLM_STRATEGIES:
        stream = player.stream(prime=prime, length=SAMPLE_CHARS, seed=SAMPLE_SEED, **options)
        text = prime + "".join(char for char, _ in stream)
        settings = ", ".join(f"{k} {v}" for k, v in options.items() if k != "strategy")
        head = f"**{name}** ({options['strategy']}{', ' + settings if settings else ''}; "
        head += f"seed {SAMPLE_SEED}, {SAMPLE_CHARS} characters after {prime!r})"
        out[f"samples/{name}"] = f"{head}\n\n```\n{text.replace('```', '` ` `')}\n```"
    return out


def _translation(player: Any) -> dict[str, str]:
    from tasks.data.parallel import load_corpus

    pairs = load_corpus(player.config.dataset, player.config.direction).val[:EXAMPLES]
    answers = player.answer_many([source for source, _ in pairs])
    rows = [(s, r, a.text) for (s, r), a in zip(pairs, answers, strict=True)]
    head = f"{player.source_language} → {player.target_language}, the first validation "
    head += f"sentences (beam {player.beam})"
    return {"samples/translations": _table(head, ("source", "reference", "model"), rows)}


def _sentiment(player: Any) -> dict[str, str]:
    from tasks.inspect_inputs import inspection_reviews
    from tasks.sentiment.task import LABELS

    texts, labels, where = inspection_reviews(player.config, EXAMPLES)
    rows = [
        (_cut(text), LABELS[label], f"{a.label} {a.probability:.3f}")
        for text, label, a in zip(texts, labels, player.answer_many(texts), strict=True)
    ]
    return {"samples/reviews": _table(where, ("review", "label", "prediction"), rows)}


def _names(player: Any) -> dict[str, str]:
    from tasks.names.data import load_names

    c = player.config
    data = load_names(c.dataset, c.split_seed, c.val_fraction, c.test_fraction)
    chosen = data.test[:NAMES]
    guesses = player.answer_many([name for name, _ in chosen])
    rows = [
        (name, data.languages[label], " · ".join(f"{lang} {p:.3f}" for lang, p in g.top))
        for (name, label), g in zip(chosen, guesses, strict=True)
    ]
    head = f"{data.name}, the first test names"
    return {"samples/names": _table(head, ("name", "language", "guesses"), rows)}


def _timeseries(player: Any) -> dict[str, str]:
    horizon, n = player.horizon, len(player.series)
    origin = max(n - 1 - horizon, player.task.min_target - 1)  # the truth known after it
    forecast = player.forecast(horizon, origin=origin)
    columns = ("forecast", "actual", "persistence", "seasonal_naive")
    rows = [
        (step["date"], *("" if step[c] is None else f"{step[c]:.4g}" for c in columns))
        for step in forecast.to_dict()["steps"]
    ]
    head = f"{player.config.dataset}: {horizon} step(s) after {forecast.origin_date}"
    header = ("date", "forecast", "actual", "persistence", "seasonal naive")
    return {"samples/forecast": _table(head, header, rows)}


def _table(head: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A markdown table under a line of text; cells made safe for one table row."""
    lines = [head, "", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _cut(review: str) -> str:
    text = " ".join(review.replace("<br />", " ").split())
    return text if len(text) <= REVIEW_CHARS else text[: REVIEW_CHARS - 1] + "…"


_MAKERS: dict[str, tuple[Callable[[Any], dict[str, str]], str, str]] = {
    "charlm": (_charlm, "samples/greedy", "the text"),
    "translation": (_translation, "samples/translations", "the validation sentences"),
    "sentiment": (_sentiment, "samples/reviews", "the test reviews"),
    "names": (_names, "samples/names", "the test names"),
    "timeseries": (_timeseries, "samples/forecast", "the series"),
}
"""Task -> (its samples from the player, the tag saying its data is missing, what it reads)."""
