"""`TaskDetail`: what a task is, its datasets, the architectures that can learn it, and the
reference results on its default dataset."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from models.registry import ARCHITECTURES
from tasks.data.catalogue import datasets_for
from tasks.data.resolve import status
from tasks.registry import TASKS
from tui.widgets.task_list import status_style


def metric_phrase(task: str) -> str:
    """`val_loss (lower is better)`."""
    info = TASKS[task]
    better = "lower" if info.lower_is_better else "higher"
    return f"{info.primary_metric} ({better} is better)"


class TaskDetail(Widget):
    """The highlighted task, in full. Redraws when `task` changes."""

    DEFAULT_CSS = """
    TaskDetail { height: auto; }
    """

    task_name: reactive[str | None] = reactive(None)
    """Task registry name to describe (None: nothing yet)."""

    def render(self) -> RenderableType:
        if self.task_name is None or self.task_name not in TASKS:
            return Text("Choose a task on the left.", style="dim")
        info = TASKS[self.task_name]
        parts: list[RenderableType] = []
        title = Text(info.title, style="bold")
        parts.append(title)
        parts.append(Text(info.summary, style="italic"))
        parts.append(Text.assemble(("\nmetric  ", "dim"), metric_phrase(self.task_name)))

        parts.append(Text("\nDatasets", style="bold"))
        wide = self.size.width >= 70
        datasets = Table.grid(padding=(0, 2))
        datasets.add_column(no_wrap=True)
        datasets.add_column(no_wrap=True)
        if wide:
            datasets.add_column()
        for info_ds in datasets_for(self.task_name):
            state = status(info_ds)
            default = " *" if info_ds.name == info.default_dataset else ""
            row = [Text(info_ds.name + default), Text(state, style=status_style(state))]
            if wide:
                row.append(Text(info_ds.title, style="dim"))
            datasets.add_row(*row)
        parts.append(datasets)
        parts.append(Text("* the default; choose another on the configure screen", style="dim"))

        parts.append(Text("\nArchitectures", style="bold"))
        archs = [ARCHITECTURES[name] for name in info.archs if name in ARCHITECTURES]
        for arch in archs:
            if not arch.modern:
                parts.append(
                    Text.assemble(
                        (arch.title.replace(" (NumPy)", ""), ""), "  ", (arch.summary, "dim")
                    )
                )
        modern = [arch for arch in archs if arch.modern]
        if modern:
            line = Text("Modern cores  ")
            for i, arch in enumerate(modern):
                line.append(" · " if i else "")
                line.append(arch.title.split(" (")[0])  # "LRU (Linear Recurrent Unit)"
                if arch.parallel:
                    line.append(" ∥", style="green")
            line.append("   ∥ also trains by a parallel scan", style="dim")
            parts.append(line)

        default = next(d for d in info.datasets if d.name == info.default_dataset)
        if default.references:
            parts.append(Text(f"\nReference results on {default.name}", style="bold"))
            references = Table.grid(padding=(0, 2))
            for ref in default.references:
                references.add_row(
                    Text(ref.label),
                    Text(f"{ref.value:g}", style="cyan"),
                    Text(f"{ref.split} {ref.quantity}", style="dim"),
                )
            parts.append(references)
        return Group(*parts)
