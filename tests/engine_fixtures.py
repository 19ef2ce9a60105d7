"""Small synthetic datasets, one per registered task, for the engine tests (no real data).

`BUILDERS[task](folder)` writes the task's dataset into `folder` in a plain local format its
reader accepts and returns what `--dataset` takes. `SIZES[task]` are settings that keep the
model tiny. A task added to `tasks.registry.TASKS` adds its builder here
(tests/test_engine.py fails until it does). `CountingTask` is a fake task for the trainer's
own tests.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tasks.engine.base import StepStats, TaskBase
from tasks.engine.settings import TrainConfig

SPEAKERS = ("ROMEO:", "JULIET:", "FRIAR:", "NURSE:")
VERSE_TEXT = (
    "what light through yonder window breaks it is the east and juliet is the sun arise fair "
    "sun and kill the envious moon who is already sick and pale with grief; o romeo, romeo! "
    "wherefore art thou romeo? deny thy father and refuse thy name. good night, good night! "
    "parting is such sweet sorrow, that i shall say good night till it be morrow."
)
VERSE = VERSE_TEXT.split()


def play_text(chars: int = 30_000, seed: int = 0) -> str:
    """A seeded play in verse: speaker lines ("ROMEO:") and lines of words from a fixed verse."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < chars:
        lines = [" ".join(rng.choices(VERSE, k=rng.randint(4, 9))).capitalize() + "."
                 for _ in range(rng.randint(1, 3))]  # fmt: skip
        speech = "\n".join([rng.choice(SPEAKERS), *lines]) + "\n\n"
        parts.append(speech)
        size += len(speech)
    return "".join(parts)[:chars]


def charlm_data(folder: Path) -> str:
    """A plain text file of about 3,000 characters."""
    path = folder / "play.txt"
    path.write_text(play_text(3_000), encoding="utf-8")
    return str(path)


POSITIVE = ("good", "great", "wonderful", "loved", "superb")
NEGATIVE = ("bad", "awful", "boring", "hated", "dull")
FILLER = ("the", "film", "plot", "actor", "was", "and", "a", "story", "it")


def review_csv(path: Path, rows: int, seed: int = 0, fillers: int = 4) -> Path:
    """A ``label,review`` CSV at `path` whose label shows in one sentiment word among `fillers`
    filler words (seeded; labels alternate 0, 1)."""
    rng = random.Random(seed)
    lines = ["label,review"]
    for i in range(rows):
        label = i % 2
        words = [*rng.sample(FILLER, fillers), rng.choice(POSITIVE if label else NEGATIVE)]
        rng.shuffle(words)
        lines.append(f"{label},{' '.join(words)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sentiment_data(folder: Path, rows: int = 80) -> str:
    """A ``label,review`` CSV whose label shows in one sentiment word among filler words."""
    return str(review_csv(folder / "reviews.csv", rows))


def timeseries_data(folder: Path, months: int = 96) -> str:
    """A ``month,value`` CSV: a trend, a yearly season and seeded noise."""
    rng = random.Random(0)
    lines = ["month,value"]
    for t in range(months):
        value = 50 + 0.3 * t + 8 * math.sin(2 * math.pi * t / 12) + rng.gauss(0, 1)
        lines.append(f"{2000 + t // 12}-{t % 12 + 1:02d},{value:.3f}")
    path = folder / "sales.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


LEXICON = {
    "a": "ein", "man": "mann", "woman": "frau", "dog": "hund", "cat": "katze", "runs": "läuft",
    "sits": "sitzt", "sleeps": "schläft", "red": "rot", "big": "groß", "small": "klein",
    "on": "auf", "the": "die", "grass": "wiese", "street": "straße",
}  # fmt: skip


def translation_data(folder: Path) -> str:
    """A Multi30k-format folder ({train,val,test_2016_flickr}.{en,de}) of word-for-word pairs."""
    rng = random.Random(0)
    words = sorted(LEXICON)
    root = folder / "pairs"
    root.mkdir()
    for stem, count in (("train", 60), ("val", 8), ("test_2016_flickr", 8)):
        english = [rng.choices(words, k=rng.randint(3, 6)) for _ in range(count)]
        sides = {
            "en": [" ".join(s).capitalize() + "." for s in english],
            "de": [" ".join(LEXICON[w] for w in s).capitalize() + "." for s in english],
        }
        for lang, lines in sides.items():
            (root / f"{stem}.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(root)


def gradflow_data(folder: Path) -> str:
    """Gradflow generates its sequences from the seed: nothing to write."""
    return "synthetic"


ENDINGS = {
    "Russian": ("ov", "evsky", "enko", "in"),
    "Japanese": ("moto", "yama", "kawa", "ta"),
    "Italian": ("ini", "elli", "etti", "one"),
}
"""Language -> the endings of its synthetic surnames (the language shows in the ending)."""


def surnames(language: str, count: int, seed: int = 0) -> list[str]:
    """`count` distinct seeded surnames: two random syllables and one of the language's endings."""
    rng = random.Random(f"{language}-{seed}")
    names: set[str] = set()
    while len(names) < count:
        stem = "".join(rng.choice("bdgklmnprstvz") + rng.choice("aeiou") for _ in range(2))
        names.add((stem + rng.choice(ENDINGS[language])).capitalize())
    return sorted(names)


def names_data(folder: Path, count: int = 30) -> str:
    """A folder of ``<Language>.txt`` files, one surname per line (`ENDINGS`' languages)."""
    root = folder / "names"
    root.mkdir()
    for language in ENDINGS:
        text = "\n".join(surnames(language, count)) + "\n"
        (root / f"{language}.txt").write_text(text, encoding="utf-8")
    return str(root)


BUILDERS: dict[str, Callable[[Path], str]] = {
    "charlm": charlm_data,
    "sentiment": sentiment_data,
    "timeseries": timeseries_data,
    "translation": translation_data,
    "gradflow": gradflow_data,
    "names": names_data,
}
"""Task name -> builder(folder) -> the `--dataset` value of a small synthetic dataset."""

INPUTS: dict[str, list[str]] = {
    "charlm": ["ROMEO:", "What light", "O"],
    "sentiment": ["a good film", "the plot was awful and boring", "great"],
    "timeseries": ["-1", "2005-06", "50"],
    "translation": ["Ein mann läuft.", "Die katze", "Ein hund sitzt auf der wiese."],
    "names": ["Dostoevsky", "Yamamoto", "Rossini"],
}
"""Three inputs per task with a player that its tiny model can read (words and characters of its
data); a task registered with a player and no inputs here fails
`tests/test_players.py::test_every_task_with_a_player_has_inputs`."""

TINY = {"hidden": 8, "embed": 8, "layers": 1, "batch": 4, "threads": 1}
SIZES: dict[str, dict[str, object]] = {
    "charlm": TINY | {"seq_len": 16},
    "sentiment": TINY | {"seq_len": 16, "min_freq": 1, "patience": 0},
    "timeseries": TINY | {"seq_len": 12},
    "translation": TINY | {"beam": 2, "min_freq": 1, "max_len": 10},
    "gradflow": TINY | {"seq_len": 8},
    "names": TINY | {"seq_len": 16},
}
"""Task name -> settings that keep the model and its batches tiny (missing: `TINY`)."""


def engine_config(task: str, folder: Path, arch: str | None = None, **overrides: Any) -> Any:
    """The task's config on its synthetic dataset in `folder`: tiny, a step event per step, no
    quick evaluations (`overrides` last; the NumPy RNN keeps its own batch size)."""
    from tasks.registry import default_config

    sizes = dict(SIZES.get(task, TINY))
    if arch == "numpy-rnn":
        sizes.pop("batch")
    values = sizes | {"log_every_s": 0.0, "eval_every_s": 1e9} | overrides
    return default_config(task, arch, dataset=BUILDERS[task](folder), **values)


class CountingTask(TaskBase):
    """A task without data or a model, for the trainer's own tests: `per_epoch` batches an
    epoch; step n reports loss `loss_at(n)` (1/n), gradient norm 1 and `tokens` tokens;
    evaluation gives val_loss 1/steps; the state is the step count."""

    name = "charlm"
    primary_metric = "val_loss"
    lower_is_better = True
    dataset_note = ""

    def __init__(self, epochs: int, per_epoch: int, tokens: int) -> None:
        self.config = TrainConfig(epochs=epochs, log_every_s=0.0, eval_every_s=1e9)
        self.per_epoch, self.tokens, self.steps = per_epoch, tokens, 0

    def parameter_count(self) -> int:
        return 1

    def batches(self, epoch: int) -> list[int]:
        return list(range(self.per_epoch))

    def start_epoch(self, epoch: int) -> None:
        pass

    def loss_at(self, step: int) -> float:
        return 1.0 / step

    def train_step(self, batch: int, lr: float) -> StepStats:
        self.steps += 1
        return StepStats(self.loss_at(self.steps), 1.0, self.tokens)

    def evaluate(self, quick: bool = False) -> dict[str, float]:
        return {"val_loss": 1.0 / max(self.steps, 1)}

    def state_dict(self) -> dict:
        return {"steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]
