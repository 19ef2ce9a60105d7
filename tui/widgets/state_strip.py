"""`StateStrip`: a long text, wrapped, each character's background coloured by one unit's value.

The text can be 100 k characters and the unit changes with a key press, so nothing is laid out
per unit: the wrap (row start offsets) depends only on the text and the width, the colour level
of every character is one NumPy expression over the unit's row, and `render_line` builds only
the rows on screen (a Line API `ScrollView`), merging runs of equal style into one segment.

A cursor moves through the text (arrows, page keys, a click); the selection runs from an anchor
to the cursor, and matched stretches are underlined.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

LEVELS = 10
"""Colour steps on each side of zero (diverging) or from 0 to 1 (sequential)."""

DIVERGING = ((59, 118, 230), (40, 40, 46), (232, 62, 52))
"""-1 (blue), 0 (dark grey), +1 (red): hidden and cell states, signed attributions."""
SEQUENTIAL = ((40, 18, 70), (33, 140, 136), (250, 226, 50))
"""0 (dark violet), 0.5 (teal), 1 (yellow), after viridis: gates and attention weights."""

DISPLAY = str.maketrans({"\n": "↵", "\t": " ", "\r": "·"} | {chr(i): "·" for i in range(32)
                                                            if chr(i) not in "\n\t\r"})  # fmt: skip
"""How characters without a glyph of their own are drawn (one cell each)."""


def _mix(stops: tuple[tuple[int, int, int], ...], t: float) -> tuple[int, int, int]:
    """The colour at `t` in [0, 1] along three stops."""
    low, high, u = (stops[0], stops[1], t * 2) if t < 0.5 else (stops[1], stops[2], t * 2 - 1)
    return tuple(round(a + (b - a) * u) for a, b in zip(low, high, strict=True))  # type: ignore[return-value]


def _style(rgb: tuple[int, int, int]) -> Style:
    """`rgb` as the background, with black or white text, whichever reads better."""
    light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140
    return Style(bgcolor=Color.from_rgb(*rgb), color="black" if light else "white")


def level_style(level: int, signed: bool) -> Style:
    """The style of a colour level: -LEVELS..LEVELS when `signed`, else 0..LEVELS."""
    if signed:
        return _style(_mix(DIVERGING, (level + LEVELS) / (2 * LEVELS)))
    return _style(_mix(SEQUENTIAL, level / LEVELS))


def levels(values: np.ndarray, signed: bool) -> np.ndarray:
    """Colour levels (int8) of values in [-1, 1] (`signed`) or [0, 1]; out of range clipped,
    NaN as 0."""
    low = -1.0 if signed else 0.0
    return np.rint(np.clip(np.nan_to_num(values), low, 1.0) * LEVELS).astype(np.int8)


def legend(signed: bool, low: str, high: str) -> Text:
    """A colour bar from `low` to `high`, the way the strip colours values."""
    text = Text(f"{low} ", style="dim")
    for level in range(-LEVELS if signed else 0, LEVELS + 1, 2):
        text.append(" ", style=level_style(level, signed))
    text.append(f" {high}", style="dim")
    return text


def wrap_rows(text: str, width: int) -> list[int]:
    """Start offsets of the rows `text` takes at `width` cells: each line (with its line break,
    drawn as ↵) cut every `width` characters. The last entry is len(text)."""
    width = max(width, 1)
    starts: list[int] = []
    position = 0
    for line in text.splitlines(keepends=True):
        starts.extend(range(position, position + len(line), width))
        position += len(line)
    starts.append(len(text))
    return starts


@dataclass(frozen=True)
class Marks:
    """What is drawn over the colours: the cursor, the selection and the matched stretches."""

    cursor: int = 0
    selection: tuple[int, int] | None = None
    """[start, end) of the selection being made or made."""
    matches: tuple[tuple[int, int], ...] = ()
    """[start, end) of each matched stretch, in text order."""


class StateStrip(ScrollView, can_focus=True):
    """The text coloured by `values` (one float per character), only the visible rows drawn."""

    DEFAULT_CSS = """
    StateStrip { height: 1fr; overflow-x: hidden; }
    """

    BINDINGS = [
        Binding("left", "move(-1)", "Cursor", show=False),
        Binding("right", "move(1)", show=False),
        Binding("up", "move_row(-1)", show=False),
        Binding("down", "move_row(1)", show=False),
        Binding("pageup", "move_page(-1)", show=False),
        Binding("pagedown", "move_page(1)", show=False),
        Binding("home", "row_edge(0)", show=False),
        Binding("end", "row_edge(1)", show=False),
    ]

    @dataclass
    class CursorMoved(Message):
        """The cursor is now at `position`."""

        strip: StateStrip
        position: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""
        """The characters shown (one value each)."""
        self._display = ""
        self._levels = np.zeros(0, np.int8)
        self._signed = True
        self._rows: list[int] = [0]
        self._wrapped_at = -1
        self._styles: dict[tuple[int, int], Style] = {}
        self._match_starts: list[int] = []
        self.marks = Marks()
        """Cursor, selection and matches (set with `set_marks`)."""

    # -- what is shown -----------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        """Show another text (values zero, marks cleared, back to the top)."""
        self.text = text
        self._display = text.translate(DISPLAY)
        self._levels = np.zeros(len(text), np.int8)
        self._wrapped_at = -1
        self.marks = Marks()
        self._match_starts = []
        self._wrap()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def set_values(self, values: np.ndarray, signed: bool) -> None:
        """Colour by `values` ((T,), in [-1, 1] when `signed`, else [0, 1]); redraws the
        visible rows only."""
        if len(values) != len(self.text):
            raise ValueError(f"{len(values)} values for a text of {len(self.text)} characters")
        self._levels = levels(values, signed)
        if signed != self._signed:
            self._styles.clear()
            self._signed = signed
        self.refresh()

    def set_marks(self, marks: Marks) -> None:
        """Draw the cursor, selection and matches of `marks` (the cursor scrolled into view)."""
        self.marks = marks
        self._match_starts = [start for start, _ in marks.matches]
        self.scroll_to_position(marks.cursor)
        self.refresh()

    # -- layout ------------------------------------------------------------------------------

    @property
    def rows(self) -> int:
        """How many rows the wrapped text takes."""
        return len(self._rows) - 1

    def _wrap(self) -> None:
        """Wrap at the width less the vertical scrollbar's (there is one for all but short
        texts, and the width must not change when it appears)."""
        width = max(self.size.width - self.styles.scrollbar_size_vertical, 1)
        if width == self._wrapped_at:
            return
        self._wrapped_at = width
        self._rows = wrap_rows(self.text, width)
        self.virtual_size = Size(width, self.rows)

    def on_resize(self) -> None:
        self._wrap()
        self.scroll_to_position(self.marks.cursor)

    def row_of(self, position: int) -> int:
        """The row that shows character `position`."""
        return max(min(bisect_right(self._rows, position) - 1, self.rows - 1), 0)

    def scroll_to_position(self, position: int) -> None:
        """Scroll (without animation) so the row of `position` is on screen."""
        row, top, height = self.row_of(position), round(self.scroll_y), self.size.height
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif height and row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False)

    # -- drawing -----------------------------------------------------------------------------

    def _flags(self, position: int) -> int:
        """1: the cursor, 2: in the selection, 4: in a match."""
        marks = self.marks
        flags = 1 if position == marks.cursor else 0
        if marks.selection and marks.selection[0] <= position < marks.selection[1]:
            flags |= 2
        i = bisect_right(self._match_starts, position) - 1
        if i >= 0 and position < marks.matches[i][1]:
            flags |= 4
        return flags

    def _cell_style(self, level: int, flags: int) -> Style:
        key = (level, flags)
        style = self._styles.get(key)
        if style is None:
            style = level_style(level, self._signed)
            if flags & 4:
                style += Style(underline=True, bold=True)
            if flags & 2:
                style += Style(overline=True, underline=True)
            if flags & 1:
                style += Style(reverse=True, bold=True)
            self._styles[key] = style
        return style

    def render_line(self, y: int) -> Strip:
        row = round(self.scroll_y) + y
        width = self.size.width
        if row >= self.rows:
            return Strip.blank(width, self.rich_style)
        start, end = self._rows[row], self._rows[row + 1]
        marked = self._marked_in(start, end)
        segments: list[Segment] = []
        run_start, run_key = start, None
        for position, level in enumerate(self._levels[start:end].tolist(), start):
            key = (level, self._flags(position) if position in marked else 0)
            if key != run_key and run_key is not None:
                segments.append(Segment(self._display[run_start:position],
                                        self._cell_style(*run_key)))  # fmt: skip
                run_start = position
            run_key = key
        if run_key is not None:
            segments.append(Segment(self._display[run_start:end], self._cell_style(*run_key)))
        return Strip(segments).extend_cell_length(width, self.rich_style).crop(0, width)

    def _marked_in(self, start: int, end: int) -> set[int]:
        """The positions in [start, end) under the cursor, the selection or a match."""
        marks = self.marks
        first = max(bisect_right(self._match_starts, start) - 1, 0)
        spans = list(marks.matches[first : bisect_left(self._match_starts, end)])
        if marks.selection:
            spans.append(marks.selection)
        spans.append((marks.cursor, marks.cursor + 1))
        out: set[int] = set()
        for a, b in spans:
            out.update(range(max(a, start), min(b, end)))
        return out

    # -- the cursor --------------------------------------------------------------------------

    def move_to(self, position: int) -> None:
        """Put the cursor at `position` (clipped to the text) and say so."""
        position = max(0, min(position, len(self.text) - 1))
        self.set_marks(Marks(position, self.marks.selection, self.marks.matches))
        self.post_message(self.CursorMoved(self, position))

    def action_move(self, step: int) -> None:
        """Cursor `step` characters on."""
        self.move_to(self.marks.cursor + step)

    def action_move_row(self, step: int) -> None:
        """Cursor `step` rows down (up when negative), in the same column where it can."""
        row = self.row_of(self.marks.cursor)
        target = max(0, min(row + step, self.rows - 1))
        column = self.marks.cursor - self._rows[row]
        self.move_to(min(self._rows[target] + column, self._rows[target + 1] - 1))

    def action_move_page(self, step: int) -> None:
        """Cursor a screenful of rows down or up."""
        self.action_move_row(step * max(self.size.height - 1, 1))

    def action_row_edge(self, end: int) -> None:
        """Cursor to the start (0) or end (1) of its row."""
        row = self.row_of(self.marks.cursor)
        self.move_to(self._rows[row + 1] - 1 if end else self._rows[row])

    def on_click(self, event: events.Click) -> None:
        row = round(self.scroll_y) + event.y
        if 0 <= row < self.rows:
            self.move_to(min(self._rows[row] + event.x, self._rows[row + 1] - 1))


def spans_text(text: str, spans: Sequence[tuple[int, int]], values: Sequence[float],
               signed: bool) -> Text:  # fmt: skip
    """`text` with each span's background coloured by its value (in [-1, 1] when `signed`, else
    [0, 1]); the text between spans stays plain (for short texts: a review)."""
    out = Text()
    position = 0
    marks = levels(np.asarray(values, np.float32), signed).tolist()
    for (start, end), level in zip(spans, marks, strict=True):
        out.append(text[position:start])
        out.append(text[start:end], style=level_style(level, signed))
        position = max(position, end)
    out.append(text[position:])
    return out
