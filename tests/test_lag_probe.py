"""The opt-in event-loop lag probe (tui/lag_probe.py) that benchmarks/soak.py reads: the worst
lateness of each period, one line per period, nothing at all unless RNN_TUI_LAG_LOG is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.lag_probe import INTERVAL_S, LAG_ENV, REPORT_S, LagProbe, install


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _ticks(probe: LagProbe, clock: Clock, times: list[float]) -> None:
    for t in times:
        clock.now = t
        probe.tick()


def _worst_ms(path: Path) -> list[float]:
    return [float(line.split()[1]) for line in path.read_text().splitlines()]


def test_each_period_reports_its_worst_lateness_then_starts_again(tmp_path: Path) -> None:
    log = tmp_path / "lag.log"
    clock = Clock()
    probe = LagProbe(log, clock)
    steps = round(REPORT_S / INTERVAL_S)
    on_time = [k * INTERVAL_S for k in range(steps + 1)]
    late = [*on_time[:10], *(t + 0.25 for t in on_time[10:])]  # one tick 250 ms late
    _ticks(probe, clock, late)
    _ticks(probe, clock, [late[-1] + k * INTERVAL_S for k in range(1, steps + 1)])
    assert _worst_ms(log) == pytest.approx([250.0, 0.0], abs=0.1)


def test_no_line_before_a_period_is_over(tmp_path: Path) -> None:
    clock = Clock()
    probe = LagProbe(tmp_path / "lag.log", clock)
    _ticks(probe, clock, [k * INTERVAL_S for k in range(round(REPORT_S / INTERVAL_S))])
    assert not (tmp_path / "lag.log").exists()


def test_a_log_that_cannot_be_written_turns_the_probe_off(tmp_path: Path) -> None:
    clock = Clock()
    probe = LagProbe(tmp_path / "missing" / "lag.log", clock)
    _ticks(probe, clock, [0.0, REPORT_S + 1.0, 2 * REPORT_S + 2.0])
    assert not probe.enabled


class FakeApp:
    def __init__(self) -> None:
        self.timers: list[tuple[float, object]] = []

    def set_interval(self, interval: float, callback: object) -> None:
        self.timers.append((interval, callback))


def test_the_probe_runs_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = FakeApp()
    monkeypatch.delenv(LAG_ENV, raising=False)
    assert install(app) is None and app.timers == []
    monkeypatch.setenv(LAG_ENV, str(tmp_path / "lag.log"))
    probe = install(app)
    assert probe is not None and app.timers == [(INTERVAL_S, probe.tick)]
