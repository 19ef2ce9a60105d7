"""The scan view: the traced parallel form lands on the sequential states, Measure fills rows
from a thread and stops when the screen closes; one snapshot on the seeded trace (no timings)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.pilot import Pilot
from tui_helpers import ScreenApp, screen_text, wait_for

from models.cores import scan_trace
from models.cores.scan_trace import ScanTrace
from tui.app import make_app
from tui.screens.scan_view import ScanViewScreen
from tui.widgets.scan_panels import value


async def opened(pilot: Pilot) -> ScanViewScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ScanViewScreen)
    await wait_for(pilot, lambda: screen.trace is not None)
    await pilot.pause()
    return screen


def row(values) -> str:
    """How a row of states reads on screen (cells separated by two spaces)."""
    return "  ".join(value(v) for v in values)


@pytest.mark.parametrize("arch", ["mingru", "s6"])
async def test_the_chunked_scan_ends_on_the_sequential_states(arch: str) -> None:
    app = ScreenApp(ScanViewScreen(arch))
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await opened(pilot)
        trace = screen.trace
        text = screen_text(app)
        sequential = row(trace.sequential)
        forms = 2 if trace.log is not None else 1
        assert text.count(sequential) == 1 + forms  # (a), the fix-up row, the log-space scan
        assert text.count("= (a) to 1e-6 ✓") == forms
        chunked = trace.chunked
        assert f"chunked {chunked.chunk} + {chunked.chunks} = {chunked.sequential_steps}" in text
        assert row(chunked.local) in text


async def test_mlstm_shows_its_decay_matrix() -> None:
    app = ScreenApp(ScanViewScreen("mlstm"))
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await opened(pilot)
        text = screen_text(app)
        assert "D'_ts" in text and "(b) the parallel form" in text
        last = screen.trace.parallel.decay[-1]
        assert "    ".join(f"{v:.2f}" for v in last[-2:]) in text
        assert text.count(row(screen.trace.sequential)) == 2
        assert "= (a) to 1e-6 ✓" in text


async def test_measure_fills_rows_from_a_thread() -> None:
    app = ScreenApp(ScanViewScreen("mingru", steps=(8, 16)))
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await opened(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: len(screen.timings) >= 1)
        first = screen.timings[0]
        assert first.steps == 8 and first.forward[0] > 0 and first.backward[1] > 0
        await wait_for(pilot, lambda: screen.measure_status == "done")
        text = screen_text(app)
        assert "speed-up" in text and "done" in text
        assert [t.steps for t in screen.timings] == [8, 16]


async def test_closing_the_screen_cancels_the_measure() -> None:
    app = ScreenApp(ScanViewScreen("mingru", steps=(8, 1024, 1024, 1024)))  # still measuring
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await opened(pilot)
        # pilot.press waits until the process is idle, i.e. for the whole measure: call the
        # actions the keys are bound to instead
        screen.action_measure()
        await wait_for(pilot, lambda: len(screen.timings) >= 1)
        screen.action_back()
        await wait_for(pilot, lambda: screen.measuring.is_cancelled)
        assert app.results == [None]


ROUND_OFF = {"chunked": 2.2e-16, "log": 6.7e-16, "parallel": 2.2e-16}
"""Each form's largest difference as the snapshot shows it: float64 round-off, which differs
between CPUs (an AVX2 EPYC reads 8.9e-16 where an AVX-512 machine reads 2.2e-16)."""


def pinned_round_off(trace: ScanTrace) -> ScanTrace:
    """The trace with each form's largest difference set to `ROUND_OFF`."""
    return replace(trace, **{name: replace(form, difference=ROUND_OFF[name])
                             for name in ROUND_OFF if (form := getattr(trace, name))})  # fmt: skip


def test_snapshot(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    real = scan_trace.trace
    monkeypatch.setattr(scan_trace, "trace", lambda arch: pinned_round_off(real(arch)))

    async def run_before(pilot: Pilot) -> None:
        await pilot.app.push_screen(ScanViewScreen("mingru"))
        await opened(pilot)

    assert snap_compare(make_app(preload_torch=False), terminal_size=(110, 44),
                        run_before=run_before)  # fmt: skip
