"""`TooSmall`: what a screen shows instead of its layout in a terminal smaller than the app's
minimum (`MIN_WIDTH` × `MIN_HEIGHT`).

The app (`tui.app.RnnTuiApp.fit_screen`) mounts one into a screen the first time that screen is
shown too small and sets the class `-too-small` on the screen; app.tcss then hides the screen's
other children and shows this message in their place, until the terminal is large enough again.
The screen itself keeps running (a training run goes on).
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

MIN_WIDTH = 80
MIN_HEIGHT = 24
"""The smallest terminal the screens are laid out for: at 80×24 the Train and Runs screens
drop to one chart and the forms scroll (the snapshots are taken there and at 120×40)."""


def fits(size: Size) -> bool:
    """Whether a terminal of `size` is large enough for the screens."""
    return size.width >= MIN_WIDTH and size.height >= MIN_HEIGHT


class TooSmall(Widget):
    """A centred note: the terminal's size and the smallest the app needs."""

    DEFAULT_CSS = """
    TooSmall {
        display: none;
        width: 1fr;
        height: 1fr;
        content-align: center middle;
        text-align: center;
    }
    """

    def render(self) -> Text:
        width, height = self.app.size
        return Text.assemble(
            ("The terminal is too small\n", "bold"),
            f"{width}×{height}; rnn-tui needs {MIN_WIDTH}×{MIN_HEIGHT} or more.\n",
            ("Make the window larger (ctrl+q quits).", "dim"),
        )
