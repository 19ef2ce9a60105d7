"""`ansi_to_strips` against Rich's own ANSI decoder, on a real plotext figure and odd codes."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip
from textual_plotext.plot import Plot

from tui.widgets.ansi_strips import ansi_to_strips


def rich_lines(text: str, width: int) -> list[list[tuple[str, object]]]:
    """What `Text.from_ansi` draws at `width`, as (text, style) runs per line."""
    console = Console(width=width, color_system="truecolor")
    lines = console.render_lines(Text.from_ansi(text), console.options, pad=True)
    return [runs(Strip(line)) for line in lines]


def runs(strip: Strip) -> list[tuple[str, object]]:
    return [(s.text, s.style) for s in Segment.simplify(list(strip)) if s.text]


def plotext_figure(width: int, height: int, theme: str) -> str:
    plt = Plot()
    plt.theme(theme)
    plt.title("loss")
    plt.plot(list(range(50)), [1 / (i + 1) for i in range(50)], label="train", color="cyan")
    plt.plot([0, 49], [0.3, 0.3], label="5-gram 0.3", color="gray", marker="-")
    plt.scatter([10, 20], [0.5, 0.4], label="val", color=(200, 120, 0))
    plt.plotsize(width, height)
    return plt.build()


@pytest.mark.parametrize("theme", ["default", "dark", "pro"])
def test_a_plotext_figure_matches_rich(theme: str) -> None:
    text = plotext_figure(70, 18, theme)
    assert [runs(s) for s in ansi_to_strips(text, 70)] == rich_lines(text, 70)


def test_attributes_resets_and_basic_colours_match_rich() -> None:
    text = (
        "\x1b[1;31mbold red\x1b[0m plain \x1b[4;92;44munder\x1b[39m default fg\x1b[49m\n"
        "\x1b[38;2;10;20;30;48;5;200mrgb on 256\x1b[0m \x1b[3;7mitalic reverse\x1b[m end"
    )
    assert [runs(s) for s in ansi_to_strips(text, 50)] == rich_lines(text, 50)


def test_lines_are_cropped_or_padded_to_the_width() -> None:
    strips = ansi_to_strips("\x1b[31mabcdef\x1b[0m\nab", 4)
    assert [s.cell_length for s in strips] == [4, 4]
    assert [s.text for s in strips] == ["abcd", "ab  "]
