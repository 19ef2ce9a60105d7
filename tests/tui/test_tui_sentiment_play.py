"""The sentiment Play screen: a real (tiny) checkpoint, the verdict, the attention colours,
examples with one key, English and Chinese, and errors shown in the status line."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from textual.widgets import Static, TextArea
from tui_helpers import ScreenApp, screen_text, train_and_play, wait_for, wait_until_ready

from tui.cli import main
from tui.screens.play import play_screen_for
from tui.screens.sentiment_play import (
    EXAMPLES,
    SentimentPlayScreen,
    attention_text,
    probability_bar,
)

WORDS = {
    "words": (["good", "great", "superb", "wonderful"], ["bad", "awful", "boring", "dull"],
              ["the", "film", "plot", "was", "a", "story"]),
    "chars": (["好", "棒", "赞", "美"], ["差", "脏", "吵", "旧"], ["房", "间", "服", "务", "很"]),
}  # fmt: skip


def train_tiny(folder: Path, kind: str) -> Path:
    """A checkpoint trained for a few seconds on reviews whose label shows in one word."""
    positive, negative, filler = WORDS[kind]
    rng = random.Random(0)
    rows = ["label,review"]
    for i in range(200):
        words = [*rng.sample(filler, 4), rng.choice(positive if i % 2 else negative)]
        rng.shuffle(words)
        rows.append(f"{i % 2},{(' ' if kind == 'words' else '').join(words)}")
    data = folder / f"{kind}.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = folder / f"run-{kind}"
    args = ["train", "sentiment", "--dataset", str(data), "--hidden", "16", "--embed", "16",
            "--epochs", "5", "--lr", "1e-2", "--dropout", "0", "--batch", "16", "--threads", "1",
            "--out", str(run), "--json"]  # fmt: skip
    assert main(args) == 0
    return run / "last.pt"


@pytest.fixture
def english(tmp_path: Path, capsys: pytest.CaptureFixture) -> Path:
    path = train_tiny(tmp_path, "words")
    capsys.readouterr()
    return path


def test_bar_and_attention_colours() -> None:
    bar = probability_bar(0.75, width=8).plain
    assert bar == "negative ██████░░ positive"
    drawn = attention_text("Good, bad!", [("good", 0, 4, 0.8), ("bad", 6, 9, 0.2)])
    assert drawn.plain == "Good, bad!"
    styles = {drawn.plain[s.start : s.end]: str(s.style) for s in drawn.spans}
    assert "rgb(255,127,0)" in styles["Good"] and "rgb(93,46,0)" in styles["bad"]
    plain = attention_text("Good", [("good", 0, 4, None)])
    assert not plain.spans


async def test_classify_shows_verdict_bar_and_attention(english: Path) -> None:
    screen = play_screen_for(english)
    assert isinstance(screen, SentimentPlayScreen)
    app = ScreenApp(screen)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_until_ready(pilot, screen)
        assert "attention · words" in str(screen.query_one("#play-status", Static).render())
        screen.query_one("#review", TextArea).text = "The plot was wonderful!"
        await pilot.press("ctrl+g")
        await pilot.pause()
        result = screen.last_prediction
        assert result is not None and result.label == "positive"
        text = screen_text(app)
        assert "positive" in text and "█" in text and "The plot was wonderful!" in text
        assert "most attended: " in text and "wonderful 0." in text
        drawn = screen.query_one("#attention-text", Static).render()
        assert any("rgb(255," in str(span.style) for span in drawn.spans)  # the top word

        await pilot.press("ctrl+n")
        await pilot.pause()
        assert screen.query_one("#review", TextArea).text == EXAMPLES["words"][0]
        assert screen.last_prediction is not result

        screen.query_one("#review", TextArea).text = "   "
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "the text is empty" in screen_text(app)

        screen.query_one("#review", TextArea).text = "qqq zzz"
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "every token is unknown" in screen_text(app)


async def test_chinese_model_reads_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    checkpoint = train_tiny(tmp_path, "chars")
    capsys.readouterr()
    screen = SentimentPlayScreen(checkpoint)
    app = ScreenApp(screen)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_until_ready(pilot, screen)
        assert "attention · characters" in screen_text(app)
        await pilot.press("ctrl+n")
        await pilot.pause()
        result = screen.last_prediction
        assert screen.query_one("#review", TextArea).text == EXAMPLES["chars"][0]
        assert [t[0] for t in result.tokens[:3]] == ["房", "间", "干"]


async def test_a_broken_checkpoint_shows_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "run" / "last.pt"
    bad.parent.mkdir()
    bad.write_bytes(b"not a checkpoint")
    screen = SentimentPlayScreen(bad)
    app = ScreenApp(screen)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: "error:" in screen_text(app))
        await pilot.press("ctrl+g")  # nothing loaded: nothing happens
        assert screen.last_prediction is None


async def test_home_to_train_to_play(tmp_path: Path) -> None:
    """The real app: choose sentiment, train a tiny model on a local CSV, then play with it."""
    from tui.app import make_app

    positive, negative, filler = WORDS["words"]
    rows = ["label,review"] + [
        f"{i % 2},{filler[i % 6]} {(positive if i % 2 else negative)[i % 4]}" for i in range(120)
    ]
    data = tmp_path / "reviews.csv"
    data.write_text("\n".join(rows) + "\n")
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        play = await train_and_play(pilot, "sentiment", data, SentimentPlayScreen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert play.query_one("#review", TextArea).text == EXAMPLES["words"][0]
        assert play.last_prediction.label in ("positive", "negative")
        assert play.last_prediction.label in screen_text(app)
