"""Screens that were left are freed: nothing the app keeps (its watchers, its signals, a
footer's key bindings) holds on to them (tui/watchers.py)."""

from __future__ import annotations

import gc

from textual._styles_cache import StylesCache
from textual.widgets import Footer, Header
from textual.widgets._footer import FooterKey
from textual_plotext import PlotextPlot
from tui_helpers import wait_for

from tui.app import make_app
from tui.screens.help import HelpScreen
from tui.screens.runs import RunsScreen
from tui.watchers import forget_closed_widgets

VISITS = 6


def _alive(kind: type) -> int:
    gc.collect()
    return sum(isinstance(o, kind) for o in gc.get_objects())


async def test_screens_visited_again_and_again_are_freed() -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(VISITS):
            for key, screen in (("r", RunsScreen), ("f1", HelpScreen)):
                await pilot.press(key)
                await wait_for(pilot, lambda screen=screen: isinstance(app.screen, screen))
                await pilot.press("escape")
                await wait_for(pilot, lambda screen=screen: not isinstance(app.screen, screen))
        await pilot.pause()
        # Runs was left before the last visit of Help: freed at the screen changes since
        assert _alive(RunsScreen) == 0
        assert _alive(PlotextPlot) == 0  # its charts, subscribed to the app's theme signal
        assert _alive(HelpScreen) <= 1  # the one just left may wait for the next change
        assert _alive(Header) <= 2
        forget_closed_widgets(app)
        assert _alive(HelpScreen) == 0
        drawn = app.screen.query_one(Footer).query(FooterKey)
        assert _alive(FooterKey) == len(drawn) > 0  # none of the keys drawn before is kept
        widgets = [
            node for screen in app.screen_stack for node in screen.walk_children(with_self=True)
        ]
        assert _alive(StylesCache) <= len(widgets)  # no closed widget's rendered lines
