"""`TrainProgress`: a progress bar with the trainer's own ETA and the run's state."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Label, ProgressBar

from tui.widgets.run_stats import fmt_duration

STATE_STYLES = {
    "loading": "$text-muted",
    "training": "$success",
    "paused": "$warning",
    "stopping": "$warning",
    "finished": "$success",
    "stopped": "$warning",
    "failed": "$error",
}
"""Colour of each state's label."""


class EtaText(Widget):
    """One line of text that repaints in place: unlike `Label.update`, setting `text` never
    lays the screen out again (the ETA changes every second while training)."""

    text: reactive[str] = reactive("")

    def render(self) -> str:
        return self.text


class TrainProgress(Widget):
    """`[training] ███████░░░ 43%  ETA 3m 12s`."""

    DEFAULT_CSS = """
    TrainProgress { layout: horizontal; height: 1; }
    TrainProgress > #train-state { width: 12; text-style: bold; }
    TrainProgress > ProgressBar { width: 1fr; }
    TrainProgress > ProgressBar > Bar { width: 1fr; }
    TrainProgress > #train-eta { width: 16; padding: 0 0 0 1; color: $text-muted; }
    """ + "".join(
        f"TrainProgress > #train-state.-{k} {{ color: {v}; }}\n" for k, v in STATE_STYLES.items()
    )

    progress: reactive[float] = reactive(0.0)
    """Fraction done, 0..1."""
    eta_s: reactive[float | None] = reactive(None)
    """Seconds left, as the trainer estimates them."""
    state: reactive[str] = reactive("loading")
    """loading, training, paused, stopping, finished, stopped or failed."""

    def compose(self) -> ComposeResult:
        yield Label("", id="train-state")
        yield ProgressBar(total=1000, show_eta=False, show_percentage=True, id="train-bar")
        yield EtaText(id="train-eta")

    def on_mount(self) -> None:
        self.watch_state(self.state)
        self.watch_eta_s(self.eta_s)

    def watch_progress(self, progress: float) -> None:
        if self.is_mounted:
            self.query_one(ProgressBar).update(progress=round(1000 * min(max(progress, 0.0), 1.0)))

    def watch_eta_s(self, eta_s: float | None) -> None:
        if self.is_mounted:
            self.query_one("#train-eta", EtaText).text = f"ETA {fmt_duration(eta_s)}"

    def watch_state(self, state: str) -> None:
        if self.is_mounted:
            label = self.query_one("#train-state", Label)
            label.update(state)
            for name in STATE_STYLES:
                label.set_class(name == state, f"-{name}")
