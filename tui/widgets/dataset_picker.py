"""`DatasetPicker`: a task's registry datasets or a local path; status and download progress."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from tasks.data.catalogue import CATALOGUE, datasets_for, get_dataset, offline_default
from tasks.data.resolve import status
from tui.widgets.task_list import status_style

LOCAL = "local path"
"""The Select value that means "a file or folder on this machine"."""


def needs_download(name: str) -> bool:
    """Whether a registry dataset is neither on disk nor built in (so Start downloads it)."""
    entry = CATALOGUE.get(name)
    return entry is not None and status(entry.info).startswith("download")


class DatasetPicker(Widget):
    """Select a registry dataset (with its status) or type a path; shows how it will be found."""

    DEFAULT_CSS = """
    DatasetPicker { height: auto; }
    DatasetPicker > Label { color: $text-muted; }
    DatasetPicker > Input { background: $boost; margin: 1 0 0 0; }
    DatasetPicker > Input:focus { background: $accent 25%; }
    DatasetPicker #dataset-path { display: none; }
    DatasetPicker.-local #dataset-path { display: block; }
    DatasetPicker #dataset-progress { display: none; }
    DatasetPicker.-downloading #dataset-progress { display: block; }
    DatasetPicker #dataset-failure { display: none; height: auto; }
    DatasetPicker.-failed #dataset-failure { display: block; }
    DatasetPicker #dataset-failure-text { width: 1fr; color: $error; }
    DatasetPicker #dataset-status { height: auto; }
    """

    @dataclass
    class Changed(Message):
        """The choice or the path changed."""

        picker: DatasetPicker
        """The picker that changed."""

        @property
        def control(self) -> DatasetPicker:
            return self.picker

    @dataclass
    class OfflineChosen(Message):
        """The user took the offline default after a failed download."""

        picker: DatasetPicker

    downloading: reactive[bool] = reactive(False)
    """A download is running (shows the progress bar)."""
    failure: reactive[str] = reactive("")
    """Why the last download failed ("" when it did not)."""

    def __init__(self, task: str, value: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.task_name = task
        """Task registry name: which datasets to offer."""
        self._initial = value
        self.offline = offline_default(task)
        """The task's built-in default, offered when a download fails."""

    def compose(self) -> ComposeResult:
        options: list[tuple[Text, str]] = []
        for info in datasets_for(self.task_name):
            state = status(info)
            prompt = Text.assemble((info.name, "bold"), "  ", (state, status_style(state)))
            options.append((prompt, info.name))
        options.append((Text("a local file or folder…", style="italic"), LOCAL))
        registry = self._initial in CATALOGUE
        yield Label("Dataset")
        yield Select(
            options,
            value=self._initial if registry else LOCAL,
            allow_blank=False,
            id="dataset",
            compact=True,
        )
        yield Input(
            "" if registry else self._initial,
            placeholder="path of a text file (or a folder in the dataset's format)",
            id="dataset-path",
            compact=True,
        )
        yield Static("", id="dataset-status")
        yield ProgressBar(total=None, show_eta=False, id="dataset-progress")
        with Horizontal(id="dataset-failure"):
            yield Static("", id="dataset-failure-text")
            if self.offline is not None:
                yield Button(
                    f"Use {self.offline.name} (offline)", id="dataset-offline", variant="warning"
                )

    def on_mount(self) -> None:
        self._sync()

    # -- value -------------------------------------------------------------------------------

    @property
    def choice(self) -> str:
        """The Select's value: a registry name or `LOCAL`."""
        return str(self.query_one("#dataset", Select).value)

    @property
    def value(self) -> str:
        """What goes into `TrainConfig.dataset`: a registry name or the typed path."""
        if self.choice == LOCAL:
            return self.query_one("#dataset-path", Input).value.strip()
        return self.choice

    def error(self) -> str:
        """Why the current choice cannot be used ("" when it can)."""
        if self.choice != LOCAL:
            return ""
        text = self.value
        if not text:
            return "type the path of a text file"
        if not Path(text).expanduser().exists():
            return f"no such file or folder: {text}"
        return ""

    def select(self, name: str) -> None:
        """Choose a registry dataset."""
        self.query_one("#dataset", Select).value = name

    # -- display -----------------------------------------------------------------------------

    def _sync(self) -> None:
        """Show the path input for a local choice and say how the data will be found."""
        local = self.choice == LOCAL
        self.set_class(local, "-local")
        shown = self.query_one("#dataset-status", Static)
        if local:
            error = self.error()
            shown.update(Text(error, style="red") if error else Text("using this file", "green"))
            return
        info = get_dataset(self.choice)
        state = status(info)
        if state.startswith("download"):
            line = Text.assemble((f"{info.title}: ", "bold"), (f"{state} when you start", "yellow"))
            if self.offline is None:
                copy = "folder" if info.is_folder else "file"
                line.append(f"; no offline default: if it fails, give a local {copy}", "yellow")
            line.append(f" · {info.license}", "dim")
        elif state == "offline default":
            line = Text.assemble((f"{info.title}: ", "bold"), ("built in, no download", "cyan"))
        else:
            line = Text.assemble((f"{info.title}: ", "bold"), (state, "green"))
        shown.update(line)

    def watch_downloading(self, downloading: bool) -> None:
        self.set_class(downloading, "-downloading")
        if downloading:
            self.query_one("#dataset-progress", ProgressBar).update(total=None, progress=0)

    def watch_failure(self, failure: str) -> None:
        self.set_class(bool(failure), "-failed")
        if self.is_mounted:
            reason = failure.removeprefix("download failed: ").rstrip(".")
            text = f"Could not download it: {reason}." if failure else ""
            if failure and self.offline is not None:
                text += f" The built-in {self.offline.title} works without a network."
                self.query_one("#dataset-offline", Button).focus()
            elif failure:
                text += " There is no offline default: choose a local file or folder above."
            self.query_one("#dataset-failure-text", Static).update(text)

    def progress(self, done: int, total: int) -> None:
        """Show download progress (bytes)."""
        bar = self.query_one("#dataset-progress", ProgressBar)
        bar.update(total=total or None, progress=done)

    # -- events ------------------------------------------------------------------------------

    @on(Select.Changed, "#dataset")
    @on(Input.Changed, "#dataset-path")
    def _changed(self, event: Message) -> None:
        event.stop()
        self.failure = ""
        self._sync()
        self.post_message(self.Changed(self))

    @on(Button.Pressed, "#dataset-offline")
    def _use_offline(self, event: Button.Pressed) -> None:
        event.stop()
        if self.offline is not None:
            self.select(self.offline.name)
            self.post_message(self.OfflineChosen(self))
