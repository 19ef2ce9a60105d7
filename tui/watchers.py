"""Letting go of closed widgets that the app's watchers and signals still hold.

Two things in Textual 8 keep a widget alive after its screen was popped, and its screen with it
(a widget holds its parent):

- a watch of the app's reactives (``self.watch(self.app, "title", ...)``, as `Header` does on
  every screen that has one) leaves a ``(widget, callback)`` entry in the app's watcher list,
  dropped only when the watched value changes, and the app's title never does;
- a subscription to an app signal (`PlotextPlot` subscribes to ``theme_changed_signal``) is kept
  in a weak-keyed dictionary whose value, a callback closing over the widget, holds the key, and
  is dropped only when the signal is published, and the theme seldom changes.

The same first way, a `Footer` kept every set of keys it had drawn: each `FooterKey` binds the
footer's ``compact``, and the footer draws its keys anew whenever the bindings change.

And the rendered lines of the last 1,024 widgets stay: `StylesCache.get_inner_outer` is an
``lru_cache`` on a method, so each key holds a widget's styles cache with its lines (2 MB a
visit of Runs, until a thousand widgets had been drawn).

Every visit of Runs left its screen behind (about 1 MB; some 100 MB over an hour's soak in
benchmarks/soak.py). `forget_closed_widgets`, run whenever the screen changes, drops those
entries as Textual would at the next change or publish.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual._styles_cache import StylesCache
from textual.signal import Signal

WATCHERS = "__watchers"
"""The attribute in which Textual keeps an object's watchers (textual/reactive.py `_watch`)."""


def forget_closed_widgets(app: Any, kept: Iterable[Any] = ()) -> int:
    """Drop the watchers and signal subscriptions of widgets that have closed, held by the app
    or by any node of the screens on its stack or of the `kept` screens (installed ones, off
    the stack between visits), and the styles caches kept with each widget's rendered lines
    (the live widgets' are filled again as they draw); how many were dropped."""
    dropped = 0
    screens = dict.fromkeys([*app.screen_stack, *kept])
    for holder in [app, *(node for screen in screens
                          for node in screen.walk_children(with_self=True))]:  # fmt: skip
        for entries in getattr(holder, WATCHERS, {}).values():
            alive = [(node, callback) for node, callback in entries if not _closed(node)]
            dropped += len(entries) - len(alive)
            entries[:] = alive
        for signal in [value for value in vars(holder).values() if isinstance(value, Signal)]:
            for node in [node for node in list(signal._subscriptions) if _closed(node)]:
                signal.unsubscribe(node)
                dropped += 1
    StylesCache.get_inner_outer.cache_clear()
    return dropped


def _closed(node: Any) -> bool:
    return bool(getattr(node, "_closing", False) or getattr(node, "_closed", False))
