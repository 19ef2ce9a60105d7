"""TrialTable draws a cell that grew at its column's new width, even when a frame came first."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.sweep_process import Trial
from tui.widgets.trial_table import TrialTable


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TrialTable()


async def test_a_cell_that_grew_is_drawn_whole_when_a_frame_came_before_the_measuring() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 10)) as pilot:
        table = app.query_one(TrialTable)
        table.show_trial(Trial(0, value=0.5))
        await pilot.pause()
        assert "0.5" in table.render_line(1).text
        table.show_trial(Trial(0, value=0.7642, step=123))
        table.render_line(1)  # a frame drawn before the table measured the new cell
        await pilot.pause()
        assert "0.7642 @ 123" in table.render_line(1).text
        table.show_trial(Trial(1, value=0.61234, step=4567))  # a new row, wider still
        table.render_line(2)
        await pilot.pause()
        assert "0.6123 @ 4567" in table.render_line(2).text
        assert "0.7642 @ 123" in table.render_line(1).text
