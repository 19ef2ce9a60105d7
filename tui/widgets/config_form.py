"""`ConfigForm`: the settings of a task's config class, one row each, grouped, validated as typed.

Rows come from the settings' own declaration (`tasks.engine.settings.Setting`): label, help line,
group, kind, choices. The form and `rnn-tui train --help` therefore say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, Select

from tasks.engine.settings import Setting, TrainConfig
from tui.widgets.field import Field

SWITCH = {"on": True, "off": False}
"""How a bool setting is chosen in the form."""


@dataclass(frozen=True)
class Row:
    """One form row: a setting and the label it is shown with."""

    name: str
    """The config field."""
    setting: Setting
    """Its declaration."""
    label: str = ""
    """A label other than the setting's own (empty: the setting's)."""

    @property
    def title(self) -> str:
        """What the row is called on screen."""
        return self.label or self.setting.label


def rows_for(config_class: type[TrainConfig]) -> dict[str, tuple[Row, ...]]:
    """The form's sections for a config class: its groups in order, the form's settings in each."""
    settings = config_class.settings()
    sections = {
        group: tuple(Row(n, s) for n, s in settings.items() if s.form and s.group == group)
        for group in config_class.groups()
    }
    return {group: rows for group, rows in sections.items() if rows}


def row(config_class: type[TrainConfig], name: str, label: str = "") -> Row:
    """The row of one setting, optionally with another label."""
    return Row(name, config_class.settings()[name], label)


class ChoiceRow(Widget):
    """A label and a compact select, on one row (a choice, or a bool as on/off)."""

    DEFAULT_CSS = """
    ChoiceRow { layout: grid; grid-size: 2; grid-columns: 18 1fr; height: 1; }
    ChoiceRow > Label { color: $text-muted; }
    """

    def __init__(
        self, row: Row, value: Any, *, choices: tuple[str, ...] = (), disabled: bool = False
    ):
        super().__init__(name=row.name, id=f"field-{row.name}", disabled=disabled)
        self.row = row
        self.switch = row.setting.kind == "bool"
        """A bool shown as on/off."""
        self.choices = choices or (tuple(SWITCH) if self.switch else row.setting.choices)
        """The values offered."""
        self._value = ("on" if value else "off") if self.switch else str(value)

    def compose(self) -> ComposeResult:
        yield Label(self.row.title)
        yield Select(
            [(c, c) for c in self.choices], value=self._value, allow_blank=False, compact=True
        )

    @property
    def value(self) -> Any:
        """The chosen value (a bool for a switch)."""
        chosen = str(self.query_one(Select).value)
        return SWITCH[chosen] if self.switch else chosen


def row_widget(row: Row, value: Any, *, choices: tuple[str, ...] = (), disabled: bool = False):
    """The widget of one row: a `ChoiceRow` for a choice or bool, else an inline `Field`."""
    meta = row.setting
    widget: Widget
    if meta.kind in ("choice", "bool"):
        widget = ChoiceRow(row, value, choices=choices, disabled=disabled)
    else:
        widget = Field(
            row.name, row.title, value, meta.kind, optional=meta.optional,
            placeholder=meta.placeholder, inline=True,
        )  # fmt: skip
    widget.tooltip = meta.help
    return widget


class ConfigForm(Widget):
    """The form. Posts `Changed` on every edit; the parent validates and calls `show_errors`."""

    DEFAULT_CSS = """
    ConfigForm { height: auto; layout: grid; grid-size: 2; grid-gutter: 0 2; }
    ConfigForm > Vertical { height: auto; }
    ConfigForm .form-section { color: $accent; text-style: bold; margin: 1 0 0 0; }
    """

    @dataclass
    class Changed(Message):
        """A value changed."""

        form: ConfigForm

        @property
        def control(self) -> ConfigForm:
            return self.form

    def __init__(
        self, config: TrainConfig, *, backends: tuple[str, ...] = (), id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.config = config
        """The starting values (task- and architecture-aware defaults)."""
        self.backends = backends
        """The backends the architecture has (empty: all; a one-backend choice is disabled)."""
        self.sections = rows_for(type(config))
        """The rows, section by section."""

    def compose(self) -> ComposeResult:
        for section, rows in self.sections.items():
            with Vertical(classes="form-column"):
                yield Label(section, classes="form-section")
                for row in rows:
                    disabled = row.name == "backend" and 0 < len(self.backends) < 2
                    yield row_widget(row, getattr(self.config, row.name), disabled=disabled)

    def rows(self) -> list[Row]:
        """Every row of the form, in order."""
        return [row for rows in self.sections.values() for row in rows]

    def values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(parsed values, errors by field) for what is typed now."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for row in self.rows():
            widget = self.query_one(f"#field-{row.name}")
            if isinstance(widget, ChoiceRow):
                values[row.name] = widget.value
                continue
            assert isinstance(widget, Field)
            try:
                values[row.name] = widget.parse()
            except ValueError as exc:
                errors[row.name] = str(exc)
        return values, errors

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put each error under its field and clear the others."""
        for field in self.query(Field):
            field.error = errors.get(field.name or "", "")

    @on(Field.Edited)
    @on(Select.Changed)
    def _edited(self, event: Message) -> None:
        event.stop()
        self.post_message(self.Changed(self))
