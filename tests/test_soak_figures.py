"""The soak's figures (benchmarks/soak.py) from a stored row, and the /proc readings it
samples (benchmarks/terminal.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.soak import REFERENCE_WARM_S, cpu_line, cpu_shares, figures, render
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


def test_the_headless_references_give_the_machines_drift_and_the_net_change() -> None:
    """The soak slows 10% (1,000 to 900 tokens/s), the machine itself 5% (2,000 to 1,900)."""
    slowing = row()
    slowing["step_rates"] = [
        [t, 10, 0.01 if t < 600 else 0.01 / 0.9] for t, _, _ in slowing["step_rates"]
    ]
    warm = [[1.0, 10, 1.0]]  # before REFERENCE_WARM_S: left out
    ref = [[REFERENCE_WARM_S + k, 10, 0.005] for k in range(60)]
    slow_ref = [[REFERENCE_WARM_S + k, 9.5, 0.005] for k in range(60)]
    slowing["reference_rates"] = {"before": warm + ref, "after": warm + slow_ref}
    slowing |= {"switches": 2, "steps": 100, "status": "stopped", "machine": "m", "load_before": 0}
    f = figures(slowing)
    assert [round(r) for r in f["reference"]] == [2000, 1900]
    assert round(f["change"], 6) == -0.1 and not f["met"]["rate"]
    section = render(slowing)
    assert "| 2,000 | 1,900 | -5.0% |" in section
    assert "net of the headless one | | | -5.3% |" in section


def test_a_row_without_references_has_no_reference_rows() -> None:
    old = row() | {
        "switches": 2,
        "steps": 100,
        "status": "stopped",
        "machine": "m",
        "load_before": 0,
    }
    assert figures(old)["reference"] is None and "headless" not in render(old)
