"""`ArchList`: the architectures a task can train, from the architecture registry."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from models.registry import ARCHITECTURES, Architecture


def arch_prompt(arch: Architecture) -> Text:
    """Two lines: title and name, then the one-line explanation."""
    text = Text()
    text.append(arch.title, style="bold")
    text.append(f"  {arch.name}\n", style="dim")
    text.append(arch.summary, style="italic")
    return text


class ArchList(OptionList):
    """The architectures of one task; highlighting one tells the parent."""

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
        options: list[Option | None] = []
        for name in archs:
            if name in ARCHITECTURES:
                if options:
                    options.append(None)  # a separator line
                options.append(Option(arch_prompt(ARCHITECTURES[name]), id=name))
        super().__init__(*options, id=id)

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
