"""The Data screen: what is in a dataset, computed in a thread with a progress bar.

The same figures as ``rnn-tui data show`` (`tui.data_report`) on the left, the plots
(`tui.data_plots`) on the right. Choose another of the task's datasets or type a path: the
figures follow (a dataset still to download waits for ctrl+r). Bad input is one line in red,
and the screen keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, ProgressBar, Static
from textual.worker import Worker, WorkerState

from tasks.data.catalogue import CATALOGUE, default_for
from tasks.data.profile.core import Profile, profile
from tasks.data.resolve import human_size
from tasks.engine.settings import TrainConfig
from tasks.registry import default_config, get_task
from tui.data_plots import histogram_figures
from tui.data_report import sections, title
from tui.widgets.data_plot import DataPlot
from tui.widgets.dataset_picker import DatasetPicker, needs_download

TYPING_PAUSE_S = 0.4
"""A typed path is read once typing pauses this long."""


@dataclass
class ProfileProgressed(Message):
    """How far the profile worker is; a newer one replaces a queued older one."""

    stage: str
    fraction: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProfileProgressed)


class DataScreen(Screen[None]):
    """A task's dataset, looked at: sizes, lengths, labels, vocabulary, the series."""

    HELP = """\
### Data

What is in a dataset, read with its task's own reader and split: sizes per split and label,
length histograms with percentiles, vocabulary coverage, the most frequent and most
label-skewed tokens, samples; for a series, the series with its train/validation/test cut,
its autocorrelation, a seasonal decomposition and what each transform does.

The figures that depend on a setting (what `--seq-len` cuts, what `--vocab-size` covers) use
the values of the Configure screen you came from, or the task's defaults. They are computed
once per file and cached. **ctrl+r** downloads a dataset that is not here yet.
"""

    DEFAULT_CSS = """
    DataScreen #data-top { height: auto; max-height: 12; }
    DataScreen #data-picker { width: 1fr; }
    DataScreen #data-state { width: 1fr; height: auto; padding: 1 0 0 2; }
    DataScreen #data-progress { display: none; }
    DataScreen.-computing #data-progress { display: block; }
    DataScreen #data-body { height: 1fr; }
    DataScreen #data-text, DataScreen #data-plots { width: 1fr; height: 1fr; }
    DataScreen .data-section { margin: 1 0 0 0; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "show(True)", "Show (download if needed)", priority=True),
    ]

    def __init__(
        self, task: str, dataset: str | None = None, settings: TrainConfig | None = None
    ) -> None:
        super().__init__()
        self.task_name = task
        """Whose reader reads the data."""
        self.dataset = dataset or default_for(task).name
        """The dataset shown first."""
        self.settings = settings or default_config(task)
        """The settings the live figures are for."""
        self.profile: Profile | None = None
        """The profile on screen (None while computing or after an error)."""
        self._wanted = ""
        self._typing: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="data-top", classes="panel"):
            yield DatasetPicker(self.task_name, self.dataset, id="data-picker")
            with VerticalScroll(id="data-state"):
                yield Static("", id="data-status")
                yield ProgressBar(total=100, show_eta=False, id="data-progress")
        with Horizontal(id="data-body"):
            with VerticalScroll(id="data-text", classes="panel"):
                yield Static("", id="data-title")
            yield VerticalScroll(id="data-plots", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{get_task(self.task_name).title} · data"
        self.query_one("#data-top").border_title = "Data"
        self.query_one("#data-text").border_title = "Figures"
        self.query_one("#data-plots").border_title = "Plots"
        self.action_show()

    # -- computing ---------------------------------------------------------------------------

    def action_show(self, download: bool = False) -> None:
        """Compute (or load) the profile of the chosen dataset; download it only if asked."""
        picker = self.query_one(DatasetPicker)
        error = picker.error()
        dataset = picker.value
        if self._typing is not None:  # a pending re-read would overwrite what this one says
            self._typing.stop()
            self._typing = None
        self._wanted = dataset
        self._clear()
        self.profile = None
        if error:
            self._say(error, error=True)
            return
        if needs_download(dataset) and not download:
            size = human_size(CATALOGUE[dataset].info.size_bytes)
            self._say(f"{dataset} is not on this machine yet: ctrl+r downloads it ({size})")
            return
        self.query_one("#data-progress", ProgressBar).update(progress=0)
        self.set_class(True, "-computing")
        self._say("reading…")
        self.compute(dataset)

    @work(thread=True, exclusive=True, exit_on_error=False, group="profile")
    def compute(self, dataset: str) -> tuple[str, Profile]:
        """The profile of `dataset`, posting progress (runs in a thread)."""

        def progress(stage: str, fraction: float) -> None:
            self.post_message(ProfileProgressed(stage, fraction))

        def download(done: int, total: int) -> None:
            self.post_message(ProfileProgressed("downloading", done / total if total else 0.0))

        return dataset, profile(dataset, self.task_name, self.settings, progress, download)

    def on_profile_progressed(self, message: ProfileProgressed) -> None:
        if not self.has_class("-computing"):
            return  # a late one, after the result
        self.query_one("#data-progress", ProgressBar).update(progress=100 * message.fraction)
        self._say(f"{message.stage}…")

    @on(Worker.StateChanged)
    async def _computed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "profile":
            return
        if event.state == WorkerState.SUCCESS:
            dataset, result = event.worker.result
            if dataset == self._wanted:
                self.set_class(False, "-computing")
                await self.show(result)
        elif event.state == WorkerState.ERROR:
            self.set_class(False, "-computing")
            error = event.worker.error
            text = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            self._say(text, error=True)

    # -- showing -----------------------------------------------------------------------------

    async def show(self, result: Profile) -> None:
        """Put a profile's figures and plots on screen (`profile` is set once they are)."""
        report = result.report(self.settings)
        self._clear()
        self.query_one("#data-title", Static).update(Text(title(report), style="bold"))
        await self.query_one("#data-text").mount_all(
            Static(_section(name, lines), classes="data-section")
            for name, lines in sections(report)
        )
        await self.query_one("#data-plots").mount_all(
            DataPlot(d) for d in histogram_figures(report)
        )
        self.profile = result
        self._say("from the cache" if result.cached else "computed and cached")

    def _clear(self) -> None:
        self.query(".data-section").remove()
        self.query(DataPlot).remove()
        self.query_one("#data-title", Static).update("")

    def _say(self, text: str, *, error: bool = False) -> None:
        style = "red" if error else "dim"
        self.query_one("#data-status", Static).update(Text(text, style=style))

    # -- events ------------------------------------------------------------------------------

    @on(DatasetPicker.Changed)
    def _dataset_changed(self) -> None:
        picker = self.query_one(DatasetPicker)
        if picker.value == self._wanted and not picker.error():
            return  # the same dataset (the picker reports its first value too)
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE_S, self.action_show)

    def action_back(self) -> None:
        self.dismiss(None)


def _section(name: str, lines: list[str]) -> Text:
    text = Text.assemble((name, "bold cyan"))
    for line in lines:
        text.append("\n" + line)
    return text
