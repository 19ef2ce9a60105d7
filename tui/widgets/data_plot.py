"""`DataPlot`: one still plotext figure of a dataset profile (`tui.data_plots`).

The figure is built only when its drawing, its size or the theme changes (about 10 ms of
Python each), never on a timer: a profile does not move, so scrolling and repaints reuse the
strips (`ansi_strips`), as `LossChart` does.
"""

from __future__ import annotations

from textual.strip import Strip
from textual_plotext import PlotextPlot

from tui.data_plots import Draw
from tui.widgets.ansi_strips import ansi_to_strips


class DataPlot(PlotextPlot):
    """A figure drawn by `draw(plt)`."""

    DEFAULT_CSS = """
    DataPlot { height: 14; min-height: 8; }
    """

    def __init__(self, draw: Draw, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.draw = draw
        """Draws the figure on a plotext object."""
        self.builds = 0
        """How many times the figure was built (tests check it is not rebuilt needlessly)."""
        self._rendered: tuple[tuple, list[Strip]] | None = None

    def render_line(self, y: int) -> Strip:
        lines = self.figure_lines()
        return lines[y] if y < len(lines) else Strip.blank(self.size.width, self.rich_style)

    def figure_lines(self) -> list[Strip]:
        """The figure, one strip per line, built again only for a new size or theme."""
        width, height = self.size
        key = (self.size, self.app.theme)
        if self._rendered is None or self._rendered[0] != key:
            plt = self.plt
            plt.clear_data()
            plt.clear_figure()
            plt.plotsize(width, height)
            plt._set_size(width, height)  # as PlotextPlot.render does: plotsize alone may not
            plt.theme(self._get_plotext_theme_name(self.app.theme))
            self.draw(plt)
            self._rendered = (key, ansi_to_strips(plt.build(), width))
            self.builds += 1
        return self._rendered[1]
