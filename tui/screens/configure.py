"""The configure screen: hyperparameters and dataset, validated as typed; returns a TrainConfig."""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Header, Static
from textual.worker import Worker, WorkerState

from models.registry import ARCHITECTURES
from tasks.data.fetch import fetch
from tasks.engine.settings import ConfigError, TrainConfig
from tasks.registry import TASKS, default_config
from tui.messages import DownloadProgressed
from tui.screens.architecture import ArchChoice
from tui.widgets.arch_card import CoreSizes, Count, count_parameters, human_count
from tui.widgets.config_form import ChoiceRow, ConfigForm
from tui.widgets.data_notes import DataNotes
from tui.widgets.dataset_picker import DatasetPicker, needs_download
from tui.widgets.field import Field

IDLE_HELP = "tab moves between settings; the focused one is explained here"
"""The help line when no setting has the focus."""


class ConfigureScreen(Screen[TrainConfig | None]):
    """The run's settings. Start stays disabled until every value is valid."""

    HELP = """\
### Configure

Every value starts at the default for this task and architecture. Values are checked as you
type: a bad one is marked in red with the reason underneath, and **Start** stays disabled
until everything is valid. Hover a field (or focus it) to read what it does.

A dataset marked *download* is fetched once, with a progress bar, when you start. If the
download fails you can train on the built-in offline text instead.

For a dataset on this machine, the lines under `--seq-len`, `--vocab-size`, `--max-len` and
`--min-freq` say what the typed value cuts or covers; **f2** shows the whole dataset.

Under *Machine*, **Processes** above 1 trains with that many processes on this machine (DDP
under torchrun): each takes its share of every batch and the gradients are averaged, so a step
is the step of one process with the whole batch. **Precision** bf16 (CPU or CUDA) or fp16 (CUDA
only) runs the model in half precision; **Compile** uses torch.compile, whose first steps are
slow while it compiles.
"""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "start", "Start training", priority=True),
        Binding("f2", "data", "Data"),
    ]

    def __init__(self, task: str, choice: ArchChoice, initial: TrainConfig | None = None) -> None:
        super().__init__()
        self.task_name = task
        """Task registry name."""
        self.choice = choice
        """The architecture and sizes chosen on the previous screen."""
        sizes = {
            "layers": choice.layers,
            "hidden": choice.hidden,
            "embed": choice.embed,
            "bidirectional": choice.bidirectional,
            "attention": choice.attention,
        }
        base = initial or default_config(task, choice.arch)
        self.base = dataclasses.replace(base, arch=choice.arch, **sizes)
        """The defaults the form starts from (with the chosen sizes)."""
        self.config: TrainConfig | None = self.base
        """The valid config for what is typed now (None while something is invalid)."""

    def compose(self) -> ComposeResult:
        arch = ARCHITECTURES[self.choice.arch]
        yield Header()
        with VerticalScroll(id="configure-body"):
            yield Static(self._summary(self.base), id="configure-summary", classes="panel")
            with Horizontal(id="dataset-box", classes="panel"):
                yield DatasetPicker(self.task_name, self.base.dataset, id="dataset-picker")
            yield DataNotes(self.task_name, id="data-notes")
            with Horizontal(id="form-box", classes="panel"):
                yield ConfigForm(self.base, backends=arch.backends, id="config-form")
        yield Static(IDLE_HELP, id="field-help", classes="hint")
        with Horizontal(id="configure-actions"):
            yield Static("", id="configure-error", classes="error")
            yield Button("Start training ▶", id="start", variant="success", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        info = TASKS[self.task_name]
        arch = ARCHITECTURES[self.choice.arch]
        self.sub_title = f"{info.title} · {arch.title} · hyperparameters"
        self.query_one("#configure-summary").border_title = "Model"
        self.query_one("#dataset-box").border_title = "Data"
        self.query_one("#form-box").border_title = "Training"
        self.validate_form()

    def _summary(self, config: TrainConfig) -> Text:
        """`LSTM · 2 layers × 512 hidden · embedding 64 · 3.2 M core parameters`, counted with
        the config's core options (residual blocks with their MLPs, heads, state size)."""
        c = self.choice
        arch = ARCHITECTURES[c.arch]
        layers = "1 layer" if c.layers == 1 else f"{c.layers} layers"
        text = Text.assemble(
            (arch.title, "bold"), f" · {layers} × {c.hidden} hidden · embedding {c.embed}"
        )
        if c.bidirectional:
            text.append(" · bidirectional")
        if c.attention:
            text.append(" · attention")
        if config.block:
            text.append(" · residual blocks")
        sizes = CoreSizes.of(c.arch, c.embed, c.hidden, c.layers, c.bidirectional,
                             config.core_options())  # fmt: skip
        count = count_parameters(sizes)
        if isinstance(count, Count):
            text.append(f" · {human_count(count.total)} core parameters", style="cyan")
        text.append(" (escape to change)", style="dim")
        return text

    # -- validation --------------------------------------------------------------------------

    def validate_form(self) -> TrainConfig | None:
        """Check everything typed; show errors inline; enable Start only when all is valid."""
        form = self.query_one(ConfigForm)
        picker = self.query_one(DatasetPicker)
        values, errors = form.values()
        general = ""
        config: TrainConfig | None = None
        dataset_error = picker.error()
        if not errors:
            errors, general, config = self._check(values, picker.value)
        form.show_errors(errors)
        if dataset_error:
            general = f"dataset: {dataset_error}"
            config = None
        if errors and not general:
            count = len(errors)
            general = "1 value needs fixing" if count == 1 else f"{count} values need fixing"
        self.query_one("#configure-error", Static).update(general)
        self.query_one("#start", Button).disabled = config is None or picker.downloading
        if config is not None:
            self.query_one("#configure-summary", Static).update(self._summary(config))
        self.config = config
        self.query_one(DataNotes).follow("" if dataset_error else picker.value, config)
        return config

    def _check(
        self, values: dict[str, Any], dataset: str
    ) -> tuple[dict[str, str], str, TrainConfig | None]:
        """(errors by field, a general error, the config) for parsed values."""
        try:
            config = dataclasses.replace(self.base, dataset=dataset, **values).validate()
        except ConfigError as exc:
            if exc.field in values:
                return {exc.field: exc.reason}, "", None
            return {}, str(exc), None
        return {}, "", config

    @on(ConfigForm.Changed)
    @on(DatasetPicker.Changed)
    def _changed(self) -> None:
        self.validate_form()

    @on(events.DescendantFocus)
    def _show_field_help(self, event: events.DescendantFocus) -> None:
        """Under the form: what the focused setting does (its declared help line)."""
        node: Widget | None = event.widget
        while node is not None and not isinstance(node, (Field, ChoiceRow)):
            parent = node.parent
            node = parent if isinstance(parent, Widget) else None
        help_line = self.query_one("#field-help", Static)
        if node is None:
            help_line.update(IDLE_HELP)
            return
        name = node.name or ""
        meta = type(self.base).settings().get(name)
        help_line.update(Text.assemble((f"{name}: ", "bold"), meta.help if meta else ""))

    # -- start -------------------------------------------------------------------------------

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    def action_start(self) -> None:
        """Download the dataset if needed, then return the config."""
        config = self.validate_form()
        picker = self.query_one(DatasetPicker)
        if config is None or picker.downloading:
            return
        if needs_download(config.dataset):
            picker.failure = ""
            picker.downloading = True
            self.query_one("#start", Button).disabled = True
            self.download(config.dataset)
            return
        self.dismiss(config)

    @work(thread=True, exclusive=True, exit_on_error=False, group="download")
    def download(self, name: str) -> str:
        """Fetch a dataset into the cache, posting progress; returns the path."""

        def progress(done: int, total: int) -> None:
            self.post_message(DownloadProgressed(done, total))

        return str(fetch(name, progress=progress))

    def on_download_progressed(self, message: DownloadProgressed) -> None:
        self.query_one(DatasetPicker).progress(message.done, message.total)

    @on(Worker.StateChanged)
    def _download_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "download":
            return
        picker = self.query_one(DatasetPicker)
        if event.state == WorkerState.SUCCESS:
            picker.downloading = False
            if self.config is not None:
                self.dismiss(self.config)
        elif event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            picker.downloading = False
            error = event.worker.error
            reason = getattr(error, "reason", None) or str(error or "cancelled")
            picker.failure = reason.strip().splitlines()[0] if reason.strip() else "unknown error"
            self.validate_form()

    @on(DatasetPicker.OfflineChosen)
    def _offline_chosen(self) -> None:
        self.validate_form()

    def action_data(self) -> None:
        """What is in the chosen dataset, with the settings typed here."""
        from tui.screens.data import DataScreen

        picker = self.query_one(DatasetPicker)
        self.app.push_screen(DataScreen(self.task_name, picker.value or None, self.config))

    def action_back(self) -> None:
        """Back to the architecture (what is typed here is kept)."""
        self.dismiss(None)
