"""`Field`: a labelled input that parses what is typed and shows its error right under it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Label

Kind = Literal["int", "float", "text"]

_INPUT_TYPES = {"int": "integer", "float": "number", "text": "text"}


def format_value(value: Any) -> str:
    """How a value is written into an input: `0.003`, `64`, `` for None."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse_value(text: str, kind: Kind, optional: bool) -> Any:
    """The typed text as a value of `kind`; `ValueError` with a short human reason otherwise."""
    text = text.strip()
    if not text:
        if optional:
            return None
        raise ValueError("required")
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be an integer") from None
    if kind == "float":
        try:
            value = float(text)
        except ValueError:
            raise ValueError("must be a number, e.g. 0.003 or 3e-3") from None
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    return text


class Field(Widget):
    """Label, input and an error line; the parent validates across fields and sets `error`."""

    DEFAULT_CSS = """
    Field { height: auto; width: 1fr; }
    Field > Label { color: $text-muted; padding: 0 1; }
    Field > Input { width: 1fr; }
    Field > .field--error { color: $error; padding: 0 1; height: auto; display: none; }
    Field.-invalid > .field--error { display: block; }
    Field.-invalid > Input { border: tall $error; }
    Field.-inline { layout: grid; grid-size: 2; grid-columns: 18 1fr; grid-rows: auto; }
    Field.-inline > Label { padding: 0 1 0 0; }
    Field.-inline > .field--error { column-span: 2; padding: 0 0 0 18; }
    Field > .field--note { color: $text-muted; padding: 0 1; height: auto; display: none; }
    Field.-noted > .field--note { display: block; }
    Field.-invalid > .field--note { display: none; }
    Field.-inline > .field--note { column-span: 2; padding: 0 0 0 18; }
    Field.-inline > Input { background: $boost; }
    Field.-inline > Input:focus { background: $accent 25%; }
    Field.-inline.-invalid > Input { border: none; background: $error 25%; }
    """

    @dataclass
    class Edited(Message):
        """The text changed (the parent re-validates)."""

        field: Field
        """The field that changed."""

        @property
        def control(self) -> Field:
            return self.field

    error: reactive[str] = reactive("")
    """The error to show under the input ("" when the value is fine)."""
    note: reactive[str] = reactive("")
    """A dim line under the input while it is valid, e.g. what the value does to the data."""

    def __init__(
        self,
        name: str,
        label: str,
        value: Any,
        kind: Kind = "int",
        *,
        optional: bool = False,
        placeholder: str = "",
        tooltip: str | None = None,
        inline: bool = False,
        id: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            name=name,
            id=id or f"field-{name}",
            disabled=disabled,
            classes="-inline" if inline else "",
        )
        self.inline = inline
        """Label left of a one-row input (forms) rather than above a boxed one."""
        self.label = label
        """What the field is called on screen."""
        self.kind: Kind = kind
        """How the text is parsed: int, float or text."""
        self.optional = optional
        """Whether an empty input means None (rather than an error)."""
        self._initial = format_value(value)
        self._placeholder = placeholder
        if tooltip:
            self.tooltip = tooltip

    def compose(self) -> ComposeResult:
        yield Label(self.label)
        yield Input(
            self._initial,
            placeholder=self._placeholder,
            type=_INPUT_TYPES[self.kind],
            id=f"{self.id}-input",
            compact=self.inline,
            select_on_focus=True,
        )
        yield Label("", classes="field--error")
        yield Label("", classes="field--note")

    @property
    def input(self) -> Input:
        """The input widget."""
        return self.query_one(Input)

    @property
    def text(self) -> str:
        """What is typed."""
        return self.input.value

    @text.setter
    def text(self, value: Any) -> None:
        self.input.value = format_value(value)

    def parse(self) -> Any:
        """The parsed value; `ValueError` (a short reason) when the text is not one."""
        return parse_value(self.text, self.kind, self.optional)

    def watch_error(self, error: str) -> None:
        self.set_class(bool(error), "-invalid")
        if self.is_mounted:
            self.query_one(".field--error", Label).update(error)

    def watch_note(self, note: str) -> None:
        self.set_class(bool(note), "-noted")
        if self.is_mounted:
            self.query_one(".field--note", Label).update(note)

    def on_mount(self) -> None:
        self.watch_error(self.error)
        self.watch_note(self.note)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Edited(self))
