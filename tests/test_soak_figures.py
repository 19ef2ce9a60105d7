"""The soak's figures (benchmarks/soak.py) from a stored row, and the /proc readings it
samples (benchmarks/terminal.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.soak import cpu_line, cpu_shares, figures
from benchmarks.terminal import cpu_s, steal_s


def row(minutes: float = 20.0) -> dict:
    """Samples every 30 s: the app's RSS grows 1,000 kB a minute, the child uses 1.5 cores at first
    and 1.8 in the last window, the app 0.4 then 0.1; training steps at 1,000 tokens/s."""
    samples, app_cpu, child_cpu = [], 0.0, 0.0
    for k in range(int(minutes * 2) + 1):
        t = 30.0 * k
        late = t > minutes * 60 - 300
        if k:
            app_cpu += 30 * (0.1 if late else 0.4)
            child_cpu += 30 * (1.8 if late else 1.5)
        cpu = {"app_cpu_s": app_cpu, "child_cpu_s": child_cpu, "steal_s": 0.0}
        samples.append({"t_s": t, "app_kb": 100_000 + 500 * k, "child_kb": 400_000, **cpu})
    rates = [[float(t), 10, 0.01] for t in range(1, int(minutes * 60))]
    return {"minutes": minutes, "samples": samples, "step_rates": rates, "lag_ms": [[60.0, 12.0]]}


def test_the_bars_figures_from_a_row() -> None:
    f = figures(row())
    assert abs(f["app"][1] - f["app"][0] - 36 * 500 * 1024 / 1e6) < 1e-9  # after 2 minutes
    assert f["met"] == {"app": True, "child": True, "rate": True, "lag": True}
    assert [round(r, 6) for r in f["rates"]] == [1000.0] * 3  # complete 5-minute windows


def test_cpu_shares_of_the_first_and_last_window() -> None:
    assert cpu_shares(row(), "child_cpu_s") == (1.5, 1.8)
    assert cpu_shares(row(), "app_cpu_s") == (0.4, 0.1)
    assert "the training child 1.50 / 1.80, the app 0.40 / 0.10" in cpu_line(row())


def test_a_row_without_cpu_samples_has_no_cpu_line() -> None:
    old = row()
    for s in old["samples"]:
        del s["app_cpu_s"], s["child_cpu_s"], s["steal_s"]
    assert cpu_shares(old, "app_cpu_s") is None and cpu_line(old) == ""


def test_cpu_seconds_of_a_process_and_of_one_gone() -> None:
    busy = subprocess.run(
        [sys.executable, "-c", "import os, sys; sum(range(10**7)); print(os.getpid())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert cpu_s(int(busy.stdout)) is None  # it has exited
    assert cpu_s(os.getpid()) > 0 and steal_s() >= 0
