"""`RunStats`: the numbers of a training run (step, epoch, speed, learning rate, losses)."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


def fmt_duration(seconds: float | None) -> str:
    """`1h 02m`, `3m 07s`, `12s`; `–` when unknown."""
    if seconds is None:
        return "–"
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def fmt_metric(value: Any) -> str:
    """Four significant digits for floats; thousands with separators (55,610, not 5.561e+04)."""
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


METRIC_LABELS = {"wall_s": "wall time (s)", "train_tokens_per_s": "tokens/s (train)"}
"""Metric keys that read better spelled out; others are shown with spaces for underscores."""


def metric_label(key: str) -> str:
    """How a metric key is shown: `val_loss` -> `val loss`."""
    return METRIC_LABELS.get(key, key.replace("_", " "))


def world_size(started: Any) -> int:
    """How many processes train the run together: its `Started` event's `world_size` (1 before
    it has started, and for a run of one process)."""
    return max(int(getattr(started, "world_size", 1) or 1), 1)


class RunStats(Widget):
    """A two-column table redrawn from the latest events (set by the screen)."""

    DEFAULT_CSS = """
    RunStats { height: 12; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    # A fixed height (changed only when the number of rows changes) keeps a step update from
    # re-laying out the whole screen.

    started: reactive[Any] = reactive(None, always_update=True)
    """The run's `Started` event (None while loading)."""
    step: reactive[Any] = reactive(None, always_update=True)
    """The latest `StepLogged` event."""
    metrics: reactive[dict[str, float]] = reactive(dict, always_update=True)
    """The latest validation metrics."""
    best: reactive[float | None] = reactive(None)
    """The best value of the primary metric so far."""
    primary_metric: reactive[str] = reactive("")
    """The task's metric (e.g. val_loss)."""
    epochs: reactive[int | None] = reactive(None)
    """Epochs in all (None for a time budget)."""

    def rows(self) -> list[tuple[str, str | Text]]:
        """(label, value) rows from the latest events."""
        rows: list[tuple[str, str | Text]] = []
        s, st = self.step, self.started
        size = world_size(st)
        if st is not None:
            rows.append(("parameters", f"{st.parameters:,}"))
        if size > 1:
            rows.append(("processes", str(size)))
        if s is not None:
            total = st.total_steps if st is not None else None
            rows.append(("step", f"{s.step:,}" + (f" / {total:,}" if total else "")))
            epoch = s.epoch + 1 if s.progress < 1 else s.epoch
            if self.epochs:
                epoch = min(epoch, self.epochs)
            rows.append(("epoch", f"{epoch}" + (f" / {self.epochs}" if self.epochs else "")))
            rows.append(("train loss", Text(f"{s.loss:.4f}", style="bold cyan")))
        else:
            rows.append(("step", "–"))
        if self.primary_metric:
            value = self.metrics.get(self.primary_metric)
            rows.append((
                self.primary_metric.replace("_", " "),
                Text("–" if value is None else fmt_metric(value), style="bold #ffa62b"),
            ))  # fmt: skip
            if self.best is not None:
                rows.append(("best", Text(fmt_metric(self.best), style="green")))
        for key, value in self.metrics.items():
            if key != self.primary_metric:
                rows.append((key.replace("_", " "), fmt_metric(value)))
        if s is not None:
            # with several processes the trainer counts the tokens of every rank
            label = "tokens/s (all)" if size > 1 else "tokens/s"
            rows.append((label, f"{s.tokens_per_s:,.0f}"))
            rows.append(("learning rate", f"{s.lr:.2e}"))
            rows.append(("grad norm", f"{s.grad_norm:.3f}"))
            rows.append(("elapsed", fmt_duration(s.elapsed_s)))
        return rows

    def render(self) -> RenderableType:
        """Two aligned columns as one `Text` (a Rich table took about 5 ms to lay out, twice
        a second while training)."""
        rows = self.rows()
        values = max(len(str(value)) for _, value in rows)
        width = min(max(len(label) for label, _ in rows), self.size.width - values - 1)
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, (label, value) in enumerate(rows):
            label = label if len(label) <= width else label[: max(width - 1, 1)] + "…"
            text.append(("\n" if i else "") + label.ljust(width + 1), style="dim")
            text.append(value)
        height = max(len(rows), 12)
        if self.styles.height is None or self.styles.height.value != height:
            self.call_later(self._set_height, height)
        return text

    def _set_height(self, rows: int) -> None:
        self.styles.height = rows
