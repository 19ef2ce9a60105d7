"""Helpers for the app's tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot


def screen_text(app: App) -> str:
    """The screen as plain text, one line per row (what a person would read)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
        await pilot.pause(0.05)


def sent(messages: list, kind: type) -> list:
    """The messages of a kind from a `message_hook` log, each once (they repeat as they bubble)."""
    unique: dict[int, object] = {}
    for message in messages:
        if isinstance(message, kind):
            unique.setdefault(id(message), message)
    return list(unique.values())
