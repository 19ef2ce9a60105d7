"""Screens that were left are freed: nothing the app keeps (its watchers, its signals, a
footer's key bindings) holds on to them (tui/watchers.py); the one Runs screen the app keeps
between visits holds only its own widgets."""

from __future__ import annotations

import gc

from textual._styles_cache import StylesCache
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Header
from textual.widgets._footer import FooterKey
from textual_plotext import PlotextPlot
from tui_helpers import wait_for

from tui.app import RUNS, make_app
from tui.screens.help import HelpScreen
from tui.screens.runs import RunsScreen
from tui.watchers import forget_closed_widgets

VISITS = 6


def _alive(kind: type) -> int:
    gc.collect()
    return sum(isinstance(o, kind) for o in gc.get_objects())


async def visit(pilot: Pilot, app: App, times: int) -> None:
    """Runs and Help in turn, `times` each, back to Home after each."""
    for _ in range(times):
        for key, screen in (("r", RunsScreen), ("f1", HelpScreen)):
            await pilot.press(key)
            await wait_for(pilot, lambda screen=screen: isinstance(app.screen, screen))
            await pilot.press("escape")
            await wait_for(pilot, lambda screen=screen: not isinstance(app.screen, screen))
    await pilot.pause()


async def test_screens_visited_again_and_again_are_freed() -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await visit(pilot, app, VISITS // 2)
        forget_closed_widgets(app, app.kept_screens())
        keys_before = _alive(FooterKey)
        await visit(pilot, app, VISITS - VISITS // 2)
        assert _alive(RunsScreen) == 1  # the app keeps one, shown again at each visit
        runs = app.get_screen(RUNS)
        # its charts (subscribed to the app's theme signal) and none of another visit's
        assert _alive(PlotextPlot) == len(runs.query(PlotextPlot)) > 0
        assert _alive(HelpScreen) <= 1  # the one just left may wait for the next change
        assert _alive(Header) <= 2
        forget_closed_widgets(app, app.kept_screens())
        assert _alive(HelpScreen) == 0
        drawn = [key for screen in (app.screen, runs) for key in screen.query(FooterKey)]
        # none of the keys drawn before is kept, but for those of the last layout of Runs
        # (its compositor's map until it is laid out again): as many after 3 visits as after 6
        assert len(drawn) <= _alive(FooterKey) == keys_before
        widgets = [
            node
            for screen in [*app.screen_stack, runs]
            for node in screen.walk_children(with_self=True)
        ]
        assert _alive(StylesCache) <= len(widgets)  # no closed widget's rendered lines
