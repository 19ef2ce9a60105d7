"""`DataNotes`: on the Configure screen, what the typed settings do to the chosen data.

The dataset's profile (`tasks.data.profile`) is computed once in a thread worker (or read from
the cache) when a dataset on this machine is chosen; then every edit only reads its tables, so
the line under ``--seq-len`` ("cuts 17.2% of texts"), ``--vocab-size`` ("covers 98.4% of val
tokens") or ``--max-len`` follows the typing. A dataset still to download gets no notes.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from tasks.data.profile.core import Profile, profile
from tasks.engine.settings import TrainConfig
from tasks.registry import get_task
from tui.widgets.dataset_picker import needs_download
from tui.widgets.field import Field


class DataNotes(Static):
    """A status line for the profile; the notes themselves go under the form's fields."""

    DEFAULT_CSS = """
    DataNotes { color: $text-muted; padding: 0 1; height: auto; }
    """

    def __init__(self, task: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.task_name = task
        """Whose reader reads the data."""
        self.profile: Profile | None = None
        """The chosen dataset's profile, once computed."""
        self.dataset = ""
        """The dataset the profile is (being) computed for."""
        self.config: TrainConfig | None = None
        """The latest valid settings."""
        self.key: tuple = ()
        """(dataset, the settings that change what the reader returns) of the profile."""

    def on_mount(self) -> None:
        self.display = False

    def follow(self, dataset: str, config: TrainConfig | None) -> None:
        """The chosen dataset ("" when it is not usable) and the valid settings (None while
        something is invalid): compute a new profile, or just update the notes."""
        if config is not None:
            self.config = config
        key = (dataset, self._reading())
        if key != self.key:
            self.key = key
            self.dataset = dataset
            self.profile = None
            self._set_notes({})
            profiled = get_task(self.task_name).profile is not None
            usable = dataset and profiled and not needs_download(dataset)
            self._say("figures of the data: reading…" if usable else "")
            if usable:
                self.compute(dataset, self.config)
            return
        self._apply()

    @work(thread=True, exclusive=True, exit_on_error=False, group="data-notes")
    def compute(self, dataset: str, config: TrainConfig | None) -> tuple[str, Profile]:
        """The profile of `dataset` (in a thread)."""
        return dataset, profile(dataset, self.task_name, config)

    @on(Worker.StateChanged)
    def _computed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "data-notes":
            return
        if event.state == WorkerState.SUCCESS:
            dataset, result = event.worker.result
            if dataset == self.dataset:
                self.profile = result
                self._say("")
                self._apply()
        elif event.state == WorkerState.ERROR:
            message = str(event.worker.error).strip().splitlines()
            self._say(f"figures of the data: {message[0] if message else 'cannot be read'}")

    def _reading(self) -> tuple:
        declared = get_task(self.task_name).profile
        names = declared.reading if declared is not None else ()
        return tuple(getattr(self.config, n, None) for n in names)

    def _apply(self) -> None:
        if self.profile is not None and self.config is not None:
            self._set_notes(self.profile.notes(self.config))

    def _set_notes(self, notes: dict[str, str]) -> None:
        for field in self.screen.query(Field):
            field.note = notes.get(field.name or "", "")

    def _say(self, text: str) -> None:
        self.update(Text(text))
        self.display = bool(text)
