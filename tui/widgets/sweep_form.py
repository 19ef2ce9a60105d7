"""`SweepForm`: what to sweep (task, dataset, trials, minutes per trial, jobs, pruner, space file,
study), checked as typed; each bad value is one line under its field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, Select

from tasks.experiments.space import default_space, load_space
from tasks.experiments.study import PRUNERS, default_study_name
from tasks.registry import TASKS
from tui.sweep_process import DEFAULT_PRUNER, SweepRequest
from tui.widgets.field import Field

DEFAULT_TRIALS = 20
"""Trials in all, as the form starts."""
DEFAULT_MINUTES = 2.0
"""Minutes per trial, as the form starts."""
DEFAULT_JOBS = 1
"""Trials at once, as the form starts (as `rnn-tui sweep`)."""


class ChoiceField(Widget):
    """A label and a compact select on one row."""

    DEFAULT_CSS = """
    ChoiceField { layout: grid; grid-size: 2; grid-columns: 13 1fr; height: 1; }
    ChoiceField > Label { color: $text-muted; }
    """

    def __init__(self, name: str, label: str, choices: list[str], value: str) -> None:
        super().__init__(name=name, id=f"field-{name}")
        self.label = label
        """What the row is called on screen."""
        self._choices = choices
        self._value = value

    def compose(self) -> ComposeResult:
        yield Label(self.label)
        yield Select(
            [(c, c) for c in self._choices], value=self._value, allow_blank=False, compact=True,
            id=f"{self.id}-select",
        )  # fmt: skip

    @property
    def value(self) -> str:
        """The chosen value."""
        return str(self.query_one(Select).value)

    def set_choices(self, choices: list[str]) -> None:
        """Offer other values; the first is chosen."""
        select = self.query_one(Select)
        select.set_options([(c, c) for c in choices])
        select.value = choices[0]


class SweepForm(Widget):
    """The sweep's options. Posts `Changed` after each edit, once `check` has run."""

    DEFAULT_CSS = """
    SweepForm { height: auto; layout: grid; grid-size: 2; grid-gutter: 0 2; grid-rows: auto; }
    SweepForm Field.-inline { grid-columns: 13 1fr; }
    SweepForm Field.-inline > .field--error { padding: 0 0 0 13; }
    """

    @dataclass
    class Changed(Message):
        """A value changed; `request`, `space` and `space_error` are up to date."""

        form: SweepForm

        @property
        def control(self) -> SweepForm:
            return self.form

    def __init__(self, task: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.initial_task = task
        """The task the form starts with."""
        self.request: SweepRequest | None = None
        """What is typed now, as a sweep (None while a value is bad)."""
        self.space: dict[str, Any] | None = None
        """The search space the sweep would use: the file's, else the task's default."""
        self.space_source = ""
        """Where `space` comes from: `default for charlm on tiny-shakespeare`, or the file."""
        self.space_error = ""
        """Why there is no space to show ("" when there is)."""

    def compose(self) -> ComposeResult:
        task = self.initial_task
        datasets = dataset_names(task)
        yield ChoiceField("task", "Task", list(TASKS), task)
        yield ChoiceField("dataset", "Dataset", datasets, datasets[0])
        text = {"inline": True, "optional": True, "kind": "text"}
        yield Field(
            "trials",
            "Trials",
            DEFAULT_TRIALS,
            "int",
            inline=True,
            tooltip="finished trials the study holds in all (a resumed one counts its own)",
        )
        yield Field(
            "minutes",
            "Minutes each",
            DEFAULT_MINUTES,
            "float",
            inline=True,
            tooltip="the time budget of every trial",
        )
        yield Field(
            "jobs",
            "Jobs",
            DEFAULT_JOBS,
            "int",
            inline=True,
            tooltip="trials at once, each in its own process (the cores shared among them)",
        )
        yield ChoiceField("pruner", "Pruner", list(PRUNERS), DEFAULT_PRUNER)
        yield Field(
            "space",
            "Space file",
            "",
            placeholder="default space",
            tooltip="a TOML or JSON search space",
            **text,
        )
        yield Field(
            "storage",
            "Storage",
            "",
            placeholder="sweeps.db",
            tooltip="the study's database URL, e.g. sqlite:///PATH",
            **text,
        )
        yield Field("study", "Study", "", placeholder=default_study_name(task, datasets[0]),
                    tooltip="the study's name", **text)  # fmt: skip

    def on_mount(self) -> None:
        self.check()

    def field(self, name: str) -> Field:
        """The text field `name`."""
        return self.query_one(f"#field-{name}", Field)

    @property
    def task(self) -> str:
        """The chosen task."""
        return self.query_one("#field-task", ChoiceField).value

    @property
    def dataset(self) -> str:
        """The chosen dataset."""
        return self.query_one("#field-dataset", ChoiceField).value

    @property
    def study_name(self) -> str:
        """The study typed, else the default name the sweep gives it."""
        return self.field("study").text.strip() or default_study_name(self.task, self.dataset)

    @property
    def storage(self) -> str | None:
        """The storage typed (None: the default database)."""
        return self.field("storage").text.strip() or None

    def check(self) -> SweepRequest | None:
        """Check every value, put each error under its field; the request, or None."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for name in ("trials", "minutes", "jobs", "space", "storage", "study"):
            try:
                values[name] = self.field(name).parse()
            except ValueError as exc:
                errors[name] = str(exc)
        if "trials" in values and values["trials"] < 1:
            errors["trials"] = "must be at least 1"
        if "minutes" in values and values["minutes"] <= 0:
            errors["minutes"] = "must be more than 0"
        if "jobs" in values and values["jobs"] < 1:
            errors["jobs"] = "must be at least 1"
        self._check_space(values.get("space"), errors)
        for field in self.query(Field):
            field.error = errors.get(field.name or "", "")
        self.field("study").input.placeholder = default_study_name(self.task, self.dataset)
        self.request = None
        if not errors:
            self.request = SweepRequest(
                task=self.task, dataset=self.dataset, trials=values["trials"],
                minutes=values["minutes"],
                pruner=self.query_one("#field-pruner", ChoiceField).value,
                space=values["space"], storage=values["storage"], study=values["study"],
                jobs=values["jobs"],
            )  # fmt: skip
        return self.request

    def _check_space(self, text: str | None, errors: dict[str, str]) -> None:
        """The space to show: the file's (a bad file is the field's error), else the default."""
        info = TASKS[self.task]
        self.space, self.space_error = None, ""
        try:
            if text:
                path = Path(text).expanduser()
                if not path.is_file():
                    errors["space"] = f"no such file: {text}"
                    self.space_error = "the space file is not there"
                    return
                self.space = load_space(path, info)
                self.space_source = path.name
            else:
                self.space = default_space(info, self.dataset)
                self.space_source = f"default for {info.name} on {self.dataset}"
        except ValueError as exc:  # SweepError: one line naming the file and the key
            message = str(exc).strip().splitlines()[0]
            if text:
                errors["space"] = message
            self.space_error = message

    @on(Select.Changed, "#field-task-select")
    def _task_changed(self, event: Select.Changed) -> None:
        self.query_one("#field-dataset", ChoiceField).set_choices(dataset_names(self.task))

    @on(Field.Edited)
    @on(Select.Changed)
    def _edited(self, event: Message) -> None:
        event.stop()
        self.check()
        self.post_message(self.Changed(self))


def dataset_names(task: str) -> list[str]:
    """The task's registry datasets, its default first."""
    return [d.name for d in TASKS[task].datasets]
