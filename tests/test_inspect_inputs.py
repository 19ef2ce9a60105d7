"""The inspector's default inputs: a charlm run's validation text as the task splits it, a
sentiment run's first test reviews, each with a line saying where it came from."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_fixtures import BUILDERS, engine_config

from tasks.charlm.task import CharLMTask
from tasks.data.text import load_reviews, read_text
from tasks.inspect_inputs import inspection_reviews, inspection_text
from tasks.registry import default_config


def test_charlm_text_is_the_tasks_validation_split(tmp_path: Path) -> None:
    config = engine_config("charlm", tmp_path)
    task = CharLMTask(config)
    validation = task.vocab.decode(task.val_ids.tolist())
    text, source = inspection_text(config)
    assert text == validation and len(text) == 300
    assert source == f"{config.dataset}, validation split, 300 characters"
    text, source = inspection_text(config, limit=100)
    assert text == validation[:100]
    assert source == f"{config.dataset}, validation split, first 100 characters"


def test_charlm_offline_default_and_a_missing_dataset_say_so(tmp_path: Path) -> None:
    text, source = inspection_text(default_config("charlm", dataset="pydoc-prose"), limit=500)
    assert len(text) == 500
    assert source.startswith("Python documentation prose (the built-in offline default), ")
    gone = default_config("charlm", dataset=str(tmp_path / "gone.txt"))
    swapped, source = inspection_text(gone, limit=500)
    assert swapped == text
    assert source == (
        "Python documentation prose, validation split, first 500 characters (note: the run's "
        f"dataset {tmp_path / 'gone.txt'} was not found; using the built-in Python "
        "documentation prose)"
    )


def test_sentiment_reviews_are_the_first_test_reviews(tmp_path: Path) -> None:
    config = default_config("sentiment", dataset=BUILDERS["sentiment"](tmp_path))
    test = load_reviews(config.dataset).test
    texts, labels, source = inspection_reviews(config, n=3)
    assert list(zip(texts, labels, strict=True)) == test[:3] and len(test) == 8
    assert source == "reviews.csv, test split, first 3 of 8 reviews"
    texts, _, source = inspection_reviews(config)
    assert len(texts) == 8 and source == "reviews.csv, test split, all 8 reviews"


def test_real_tiny_shakespeare_and_rt_polarity(
    real_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNN_TUI_DATA", str(real_data))
    whole = read_text(real_data / "tiny-shakespeare" / "input.txt")
    text, source = inspection_text(default_config("charlm", dataset="tiny-shakespeare"))
    assert text == whole[int(len(whole) * 0.9) :][:100_000]
    assert source == "Tiny Shakespeare, validation split, first 100,000 characters"
    texts, labels, source = inspection_reviews(default_config("sentiment", dataset="rt-polarity"))
    assert len(texts) == 500 and 0 < sum(labels) < 500 and all(t.strip() for t in texts)
    assert source == "rt-polarity, test split, first 500 of 1,066 reviews"
