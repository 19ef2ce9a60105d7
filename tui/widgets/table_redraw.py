"""`redraw_when_measured`: draw a DataTable again once it has measured the cells just changed."""

from __future__ import annotations

from textual.widgets import DataTable


def redraw_when_measured(table: DataTable) -> None:
    """Call after adding or updating rows while the table is shown.

    DataTable measures new and changed cells (and widens their columns) when it is next idle; a
    frame drawn before that caches the rows at the old column widths, and they stay cut off until
    the table changes again (Textual issue #3533). This clears those caches and redraws right
    after that measuring pass.
    """
    table.call_next(table.notify_style_update)
