"""An opt-in probe of the app's event-loop lag, for the soak benchmark (benchmarks/soak.py).

With ``RNN_TUI_LAG_LOG=PATH`` in the environment the app runs a timer every `INTERVAL_S`; each
tick records how much later than `INTERVAL_S` after the previous one it ran (the time the loop
could not run a callback that was due), and every `REPORT_S` the worst of that period is
appended to PATH as one line, ``<unix time> <worst lag in ms>``. Without the variable nothing
runs. A file that cannot be written turns the probe off (the app never fails because of it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LAG_ENV = "RNN_TUI_LAG_LOG"
INTERVAL_S = 0.1
REPORT_S = 30.0


class LagProbe:
    """Turns timer ticks into the worst lateness per `REPORT_S`, appended to `path`."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.clock = clock
        self.last: float | None = None
        """When the previous tick ran (None before the first)."""
        self.period_start = 0.0
        self.worst = 0.0
        """The worst lateness (s) of the current period."""
        self.enabled = True

    def tick(self) -> None:
        """One timer callback: measure, and write the period's worst once it is over."""
        now = self.clock()
        if self.last is None:
            self.period_start = now
        else:
            self.worst = max(self.worst, now - self.last - INTERVAL_S)
        self.last = now
        if self.enabled and now - self.period_start >= REPORT_S:
            self._write()
            self.period_start, self.worst = now, 0.0

    def _write(self) -> None:
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(f"{time.time():.3f} {self.worst * 1000:.1f}\n")
        except OSError:
            self.enabled = False


def install(app: Any) -> LagProbe | None:
    """Start the probe on `app` (a mounted Textual app) when ``RNN_TUI_LAG_LOG`` names a file."""
    path = os.environ.get(LAG_ENV, "").strip()
    if not path:
        return None
    probe = LagProbe(Path(path).expanduser())
    app.set_interval(INTERVAL_S, probe.tick)
    return probe
