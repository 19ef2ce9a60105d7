"""The translation Play screen: a real (tiny) checkpoint, greedy and beam, the heatmap, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static
from tui_helpers import ScreenApp, screen_text, wait_until_ready

from tasks.data.parallel import SPECIALS
from tui.cli import main
from tui.screens.play import play_screen_for
from tui.screens.translate_play import TranslatePlayScreen
from tui.widgets.attention_map import AttentionData, AttentionMap, render_attention


@pytest.fixture
def checkpoint(real_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> Path:
    source = real_data / "translation" / "multi30k-en-de"
    data = tmp_path / "m30k"
    data.mkdir()
    for stem, n in (("train", 150), ("val", 10), ("test_2016_flickr", 10)):
        for lang in ("en", "de"):
            lines = (source / f"{stem}.{lang}").read_text(encoding="utf-8").splitlines()[:n]
            (data / f"{stem}.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    args = ["train", "translation", "--dataset", str(data), "--hidden", "16", "--embed", "8",
            "--epochs", "1", "--threads", "1", "--beam", "2", "--min-freq", "1",
            "--out", str(run), "--json"]  # fmt: skip
    assert main(args) == 0
    capsys.readouterr()
    return run / "last.pt"


def test_heatmap_rows_columns_and_shades() -> None:
    data = AttentionData(["zwei", "hunde"], ["two", "dogs"], [[0.9, 0.1], [0.0, 1.0]])
    lines = render_attention(data).plain.splitlines()
    assert lines[0].split() == ["zwei", "hunde"]
    assert lines[1].startswith("two") and "█" * 4 in lines[1] and "░" not in lines[1]
    assert lines[2].startswith("dogs") and lines[2].count("█") == 5


async def test_translate_greedy_and_beam_with_attention(checkpoint: Path) -> None:
    screen = play_screen_for(checkpoint)
    assert isinstance(screen, TranslatePlayScreen)
    app = ScreenApp(screen)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_until_ready(pilot, screen)
        assert "German → English" in str(screen.query_one("#play-status", Static).render())
        screen.query_one("#source", Input).value = "Ein Mann mit einem Hut."
        await pilot.press("ctrl+g")
        await pilot.pause()
        beam = screen.last_translation
        assert beam is not None and beam.source_tokens[:2] == ["ein", "mann"]
        heat = screen.query_one(AttentionMap).data
        assert heat.source == beam.source_tokens and len(heat.output) == len(beam.attention)
        assert "beam 2" in str(screen.query_one("#play-status", Static).render())  # the run's
        assert str(screen.query_one("#translation", Static).render()) == beam.text
        assert beam.tokens[0] in screen_text(app)  # the heatmap's first row label

        screen.query_one("#decoder", Select).value = "greedy"
        await pilot.pause()
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "greedy" in str(screen.query_one("#play-status", Static).render())
        assert not set(screen.last_translation.tokens) & set(SPECIALS[2:])

        screen.query_one("#source", Input).value = "   "
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "the text is empty" in str(screen.query_one("#play-status", Static).render())

        screen.query_one("#source", Input).value = "猫在睡觉"
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "looks like Chinese" in screen_text(app)
