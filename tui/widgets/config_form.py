"""`ConfigForm`: the hyperparameters of a `TrainConfig`, one row each, grouped, validated as typed.

Each row's help is the attribute docstring written under the field in `tasks/config.py`, so the
form and the code say the same thing.
"""

from __future__ import annotations

import ast
import inspect
import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, Select

from tasks import config as config_module
from tasks.config import BACKENDS, SCHEDULES, TRANSFORMS, TrainConfig
from tui.widgets.field import Field, Kind


@lru_cache(maxsize=1)
def field_docs() -> dict[str, str]:
    """TrainConfig's attribute docstrings: field name -> the sentence under it."""
    tree = ast.parse(inspect.getsource(config_module))
    docs: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "TrainConfig":
            body = node.body
            for stmt, after in itertools.pairwise(body):
                if (
                    isinstance(stmt, ast.AnnAssign)
                    and isinstance(stmt.target, ast.Name)
                    and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)
                ):
                    docs[stmt.target.id] = " ".join(after.value.value.split())
    return docs


@dataclass(frozen=True)
class Row:
    """One form row: a TrainConfig field, its label and how it is typed."""

    name: str
    """The TrainConfig field."""
    label: str
    """What the row is called on screen."""
    kind: Kind | None = "int"
    """int, float or text; None for a choice."""
    optional: bool = False
    """An empty input means None."""
    choices: tuple[str, ...] = ()
    """The allowed values of a choice."""
    placeholder: str = ""
    """Shown in an empty input."""


SECTIONS: dict[str, tuple[Row, ...]] = {
    "Optimisation": (
        Row("lr", "Learning rate", "float"),
        Row("schedule", "Schedule", None, choices=SCHEDULES),
        Row("warmup_steps", "Warm-up steps"),
        Row("clip", "Gradient clip", "float"),
        Row("weight_decay", "Weight decay", "float"),
        Row("dropout", "Dropout", "float"),
    ),
    "Data": (
        Row("batch", "Batch size"),
        Row("seq_len", "Sequence length"),
    ),
    "Budget": (
        Row("epochs", "Epochs", optional=True, placeholder="as many as fit"),
        Row("minutes", "Minutes", "float", optional=True, placeholder="no time limit"),
        Row("eval_every_s", "Eval every (s)", "float"),
    ),
    "Machine": (
        Row("backend", "Backend", None, choices=BACKENDS),
        Row("device", "Device", None, choices=("auto", "cpu", "cuda", "mps")),
        Row("threads", "CPU threads", optional=True, placeholder="torch default"),
        Row("seed", "Seed"),
    ),
}
"""The form, section by section (the architecture's sizes come from the previous screen)."""

TASK_SECTIONS: dict[str, dict[str, tuple[Row, ...]]] = {
    "timeseries": {
        "Forecast": (
            Row("horizon", "Horizon (steps)"),
            Row("forecast", "Multi-step", None, choices=("recursive", "direct")),
            Row("transform", "Transform", None, choices=TRANSFORMS),
            Row("season", "Season (0: data's)"),
        ),
    },
    "sentiment": {
        "Text": (
            Row("vocab_size", "Vocabulary size"),
            Row("min_freq", "Min frequency"),
            Row("patience", "Patience (0: off)"),
            Row("word_vectors", "Word vectors from", "text", optional=True, placeholder="none"),
        ),
    },
    "translation": {
        "Translation": (
            Row("direction", "Direction", "text"),
            Row("attention_type", "Attention", None, choices=("dot", "additive", "none")),
            Row("teacher_forcing", "Teacher forcing", "float"),
            Row("beam", "Beam width"),
            Row("max_len", "Max length"),
            Row("min_freq", "Min frequency"),
            Row("label_smoothing", "Label smoothing", "float"),
        ),
    },
}
"""Further sections for one task's own settings (task name -> sections)."""


def sections_for(task: str) -> dict[str, tuple[Row, ...]]:
    """The form's sections for a task: the shared ones, then the task's own."""
    return SECTIONS | TASK_SECTIONS.get(task, {})


class ChoiceRow(Widget):
    """A label and a compact select, on one row."""

    DEFAULT_CSS = """
    ChoiceRow { layout: grid; grid-size: 2; grid-columns: 18 1fr; height: 1; }
    ChoiceRow > Label { color: $text-muted; }
    """

    def __init__(self, row: Row, value: str, *, disabled: bool = False) -> None:
        super().__init__(name=row.name, id=f"field-{row.name}", disabled=disabled)
        self.row = row
        self._value = value

    def compose(self) -> ComposeResult:
        yield Label(self.row.label)
        yield Select(
            [(c, c) for c in self.row.choices], value=self._value, allow_blank=False, compact=True
        )

    @property
    def value(self) -> str:
        """The chosen value."""
        return str(self.query_one(Select).value)


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
        self, config: TrainConfig, *, backends: tuple[str, ...] = BACKENDS, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.config = config
        """The starting values (task- and architecture-aware defaults)."""
        self.backends = backends
        """The backends the architecture has (a one-backend choice is shown disabled)."""

    def compose(self) -> ComposeResult:
        docs = field_docs()
        for section, rows in sections_for(self.config.task).items():
            with Vertical(classes="form-column"):
                yield Label(section, classes="form-section")
                for row in rows:
                    value = getattr(self.config, row.name)
                    if row.kind is None:
                        disabled = row.name == "backend" and len(self.backends) < 2
                        widget: Widget = ChoiceRow(row, str(value), disabled=disabled)
                    else:
                        widget = Field(
                            row.name, row.label, value, row.kind, optional=row.optional,
                            placeholder=row.placeholder, inline=True,
                        )  # fmt: skip
                    widget.tooltip = docs.get(row.name)
                    yield widget

    def rows(self) -> list[Row]:
        """Every row of the form, in order."""
        return [row for rows in sections_for(self.config.task).values() for row in rows]

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
