"""`ArchList`: the architectures a task can train, from the architecture registry, in two groups
(the textbook's classic cells, then the modern cores)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from models.registry import ARCHITECTURES, Architecture

GROUPS = {
    "classic": "Classic cells (the chapter)",
    "modern": "Modern cores (2018-2024)",
}
"""Header of each `Architecture.family`, in the order shown."""


def arch_prompt(arch: Architecture) -> Text:
    """Two lines: title and name (and, for a modern core, how it runs), then the explanation."""
    text = Text()
    text.append(arch.title, style="bold")
    text.append(f"  {arch.name}", style="dim")
    if arch.modern:
        if arch.parallel:
            text.append("  ∥ " + " · ".join(arch.scans[1:]), style="green")
        else:
            text.append("  sequential", style="yellow")
    text.append("\n")
    text.append(arch.summary, style="italic")
    return text


class ArchList(OptionList):
    """The architectures of one task under a header per family; highlighting one tells the
    parent. The headers are disabled options (ids ``group-<family>``): the cursor skips them."""

    DEFAULT_CSS = """
    ArchList > .option-list--option-disabled {
        color: $text-accent;
        text-style: bold;
    }
    """

    @dataclass
    class ArchHighlighted(Message):
        """The cursor moved to an architecture."""

        arch: str
        """Architecture registry name."""

    @dataclass
    class ArchSelected(Message):
        """Enter (or a click) chose an architecture."""

        arch: str
        """Architecture registry name."""

    def __init__(self, archs: tuple[str, ...], *, id: str | None = None) -> None:
        known = [ARCHITECTURES[name] for name in archs if name in ARCHITECTURES]
        options: list[Option | None] = []
        for family, header in GROUPS.items():
            members = [arch for arch in known if arch.family == family]
            if not members:
                continue
            if options:
                options.append(None)
            options.append(Option(header, id=f"group-{family}", disabled=True))
            for i, arch in enumerate(members):
                if i:
                    options.append(None)  # a separator line
                options.append(Option(arch_prompt(arch), id=arch.name))
        super().__init__(*options, id=id)

    @property
    def archs(self) -> list[str]:
        """The architectures listed, in order (without the headers)."""
        options = (self.get_option_at_index(i) for i in range(self.option_count))
        return [o.id for o in options if o.id is not None and not o.disabled]

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_id is not None:
            self.post_message(self.ArchHighlighted(event.option_id))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is not None:
            self.post_message(self.ArchSelected(event.option_id))
