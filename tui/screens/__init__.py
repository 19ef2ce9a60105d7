"""The app's screens, one per file: each composes widgets and routes their messages."""

from importlib import import_module
from typing import Any


def screen_class(path: str) -> Any:
    """The screen class a registry entry names: "tui.screens.x:Class" (imported now)."""
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)
