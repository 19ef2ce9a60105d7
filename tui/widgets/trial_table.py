"""`TrialTable`: a sweep's trials, one row each, updated in place as trials run and end."""

from __future__ import annotations

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui.sweep_process import Trial
from tui.widgets.sweep_panels import duration_text, settings_text
from tui.widgets.table_redraw import redraw_when_measured

STATE_STYLES = {
    "running": "bold cyan", "complete": "green", "pruned": "yellow", "failed": "red",
    "waiting": "dim",
}  # fmt: skip
"""How each trial state is coloured."""

COLUMNS = (
    ("number", "#"), ("state", "state"), ("value", "metric"), ("pruned", "pruned at"),
    ("time", "time"), ("settings", "settings"),
)  # fmt: skip
"""(key, label) of the columns; the settings last, where a narrow screen cuts them."""


class TrialTable(DataTable):
    """The trials by number; `show_trial` adds a row or rewrites its cells."""

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.trials: dict[int, Trial] = {}
        """The trials shown, by number."""

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def reset(self) -> None:
        """Remove every trial."""
        self.trials.clear()
        self.clear()

    def show_trial(self, trial: Trial) -> None:
        """Add the trial's row, or update it in place."""
        key = str(trial.number)
        known = trial.number in self.trials
        self.trials[trial.number] = trial
        cells = self.cells(trial)
        if not known:
            self.add_row(*cells.values(), key=key)
        else:
            for column, value in cells.items():
                self.update_cell(key, column, value, update_width=True)
        redraw_when_measured(self)

    def cells(self, trial: Trial) -> dict[str, object]:
        """The row of a trial, by column key."""
        if trial.value is None and trial.reason:
            value: object = Text(trial.reason.split(" (")[0], style="red")
        elif trial.value is None:
            value = Text("–", style="dim")
        elif trial.state == "running":
            at = f" @ {trial.step}" if trial.step is not None else ""
            value = Text(f"{trial.value:.4g}{at}", style="dim")
        else:
            value = Text(f"{trial.value:.4g}", style="" if trial.state == "complete" else "dim")
        return {
            "number": trial.number,
            "state": Text(trial.state, style=STATE_STYLES.get(trial.state, "")),
            "value": value,
            "pruned": "" if trial.pruned_step is None else str(trial.pruned_step),
            "time": duration_text(trial.duration_s),
            "settings": settings_text(trial.params),
        }

    def sort_by_number(self) -> None:
        """Rows in trial order (after earlier trials were read from the study)."""
        self.sort("number")

    @property
    def current(self) -> Trial | None:
        """The highlighted trial."""
        if not self.row_count or not 0 <= self.cursor_row < self.row_count:
            return None
        key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        return self.trials.get(int(key)) if key is not None else None
