"""Ask how far to continue a saved run; dismisses with the epochs in all (or None)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.widgets.field import Field


class ResumeScreen(ModalScreen[int | None]):
    """`Train to [N] epochs in all`; enter resumes, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, run_name: str, done_epochs: int, epochs: int) -> None:
        super().__init__()
        self.run_name = run_name
        """The run folder's name."""
        self.done_epochs = done_epochs
        """Epochs the run has finished."""
        self.epochs = epochs
        """The suggested total."""

    def compose(self) -> ComposeResult:
        with Vertical(id="resume-box") as box:
            box.border_title = "Resume run"
            yield Static(
                f"{self.run_name}\nhas done {self.done_epochs} epoch(s). It continues exactly "
                "where it stopped (same data order, optimiser state and schedule).",
                id="resume-text",
            )
            yield Field("epochs", "Epochs in all", self.epochs, "int", inline=True)
            with Horizontal(id="resume-buttons"):
                yield Button("Resume", id="resume-go", variant="primary")
                yield Button("Cancel", id="resume-cancel")

    def on_mount(self) -> None:
        self.query_one(Field).input.focus()

    def _value(self) -> int | None:
        field = self.query_one(Field)
        try:
            value = field.parse()
        except ValueError as exc:
            field.error = str(exc)
            return None
        if value <= self.done_epochs:
            field.error = f"must be more than the {self.done_epochs} done"
            return None
        field.error = ""
        return value

    @on(Field.Edited)
    def _edited(self) -> None:
        self.query_one("#resume-go", Button).disabled = self._value() is None

    @on(Button.Pressed, "#resume-go")
    def _go(self) -> None:
        value = self._value()
        if value is not None:
            self.dismiss(value)

    @on(Button.Pressed, "#resume-cancel")
    def action_cancel(self) -> None:
        """Close without resuming."""
        self.dismiss(None)

    def on_input_submitted(self) -> None:
        self._go()
