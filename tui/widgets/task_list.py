"""`TaskList`: the task registry as a list, one entry per task with its datasets' status."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tasks.data.catalogue import datasets_for
from tasks.data.resolve import status
from tasks.registry import TASKS, TaskInfo


def dataset_line(task: str) -> Text:
    """`tiny-shakespeare download 1.1 MB · pydoc-prose offline default`, status dimmed."""
    line = Text()
    for i, info in enumerate(datasets_for(task)):
        if i:
            line.append("  ·  ", style="dim")
        line.append(info.name)
        state = status(info)
        line.append(f" {state}", style=status_style(state))
    return line


def status_style(state: str) -> str:
    """Green when on disk, yellow when it must be downloaded, blue for built-in or generated."""
    if state.startswith("download"):
        return "yellow"
    if state in ("offline default", "generated"):
        return "cyan"
    return "green"


def task_prompt(info: TaskInfo) -> Text:
    """Three lines: title, the one-line explanation, the datasets."""
    text = Text()
    text.append(info.title, style="bold")
    text.append(f"  {info.name}\n", style="dim")
    text.append(f"{info.summary}\n", style="italic")
    text.append_text(dataset_line(info.name))
    return text


class TaskList(OptionList):
    """Every task of the registry; highlighting one tells the parent, enter chooses it."""

    BINDINGS = [Binding("enter", "select", "New run")]

    @dataclass
    class TaskHighlighted(Message):
        """The cursor moved to a task."""

        task: str
        """Task registry name."""

    @dataclass
    class TaskSelected(Message):
        """Enter (or a click) chose a task."""

        task: str
        """Task registry name."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(*self._task_options(), id=id, classes=classes)

    @staticmethod
    def _task_options() -> list[Option | None]:
        options: list[Option | None] = []
        for info in TASKS.values():
            if options:
                options.append(None)  # a separator line
            options.append(Option(task_prompt(info), id=info.name))
        return options

    def refresh_status(self) -> None:
        """Re-read the datasets' status (after a download) keeping the highlighted task."""
        highlighted = self.highlighted
        self.clear_options()
        self.add_options(self._task_options())
        self.highlighted = highlighted

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_id is not None:
            self.post_message(self.TaskHighlighted(event.option_id))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is not None:
            self.post_message(self.TaskSelected(event.option_id))
