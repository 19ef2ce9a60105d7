"""ANSI-coloured text (plotext's output) straight to Textual strips, one per line.

`rich.text.Text.from_ansi` (about 4 ms) and Textual's conversion of the resulting `Text` (about
10 ms) were more than half of a Train screen chart redraw on the UI thread. Plotext writes only
SGR colour and attribute codes, so a regular expression and a cache of the few styles in a figure
do the same in one to two milliseconds.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

SGR = re.compile(r"\x1b\[([0-9;]*)m")
"""A Select Graphic Rendition escape; its parameters in group 1."""

ATTRIBUTES = {1: "bold", 2: "dim", 3: "italic", 4: "underline", 5: "blink", 7: "reverse",
              8: "conceal", 9: "strike"}  # fmt: skip
"""SGR attribute codes -> Rich style attributes."""

PLAIN = (None, None, frozenset())
"""(foreground, background, attributes): the state after a reset."""

State = tuple[Color | None, Color | None, frozenset[str]]


def ansi_to_strips(text: str, width: int) -> list[Strip]:
    """One strip per line of `text`, each exactly `width` cells (cropped or padded)."""
    strips = []
    state: State = PLAIN
    for line in text.split("\n"):
        segments = []
        position = 0
        for match in SGR.finditer(line):
            if match.start() > position:
                segments.append(Segment(line[position : match.start()], style_of(state)))
            state = apply_sgr(state, match.group(1))
            position = match.end()
        if position < len(line):
            segments.append(Segment(line[position:], style_of(state)))
        strips.append(Strip(segments).adjust_cell_length(width))
    return strips


@lru_cache(maxsize=256)
def apply_sgr(state: State, parameters: str) -> State:
    """The state after one escape's parameters (e.g. "38;5;6", "48;2;30;30;30", "0")."""
    foreground, background, attributes = state
    codes = [int(code) if code else 0 for code in parameters.split(";")]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            foreground, background, attributes = PLAIN
        elif code in ATTRIBUTES:
            attributes = attributes | {ATTRIBUTES[code]}
        elif 30 <= code <= 37 or 90 <= code <= 97:
            foreground = Color.from_ansi(code - 30 if code < 90 else code - 82)
        elif 40 <= code <= 47 or 100 <= code <= 107:
            background = Color.from_ansi(code - 40 if code < 100 else code - 92)
        elif code == 39:
            foreground = Color.default()
        elif code == 49:
            background = Color.default()
        elif code in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
            color = Color.from_ansi(codes[i + 2])
            foreground, background = (color, background) if code == 38 else (foreground, color)
            i += 2
        elif code in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
            color = Color.from_rgb(*codes[i + 2 : i + 5])
            foreground, background = (color, background) if code == 38 else (foreground, color)
            i += 4
        i += 1
    return foreground, background, frozenset(attributes)


@lru_cache(maxsize=256)
def style_of(state: State) -> Style:
    """The Rich style of a state."""
    foreground, background, attributes = state
    return Style(color=foreground, bgcolor=background, **dict.fromkeys(attributes, True))
