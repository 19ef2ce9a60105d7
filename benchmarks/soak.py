"""A soak of the app: the default char model training for an hour with the Train screen live.

    .venv/bin/python -m benchmarks.soak [--minutes 60] [--switch-minutes 3]
    .venv/bin/python -m benchmarks.soak --write      # the section from the stored rows

The app (``python -m tui.cli``, what `rnn-tui` runs) in a pseudo-terminal of 120x40
(benchmarks/terminal.py), with a user folder of its own (RNN_TUI_HOME in a temporary folder),
the data root next to the checkout (RNN_TUI_DATA: benchmarks/common.py's SHARED_DATA, which must
hold Tiny Shakespeare) and its lag probe on (RNN_TUI_LAG_LOG, tui/lag_probe.py). Keys start the
default char model as a user does: enter on Home (charlm, the first task), ctrl+n on
Architecture (the LSTM at the task's sizes), on Configure the Epochs field emptied and Minutes
set to the soak's length plus `MARGIN_MIN` (the run outlasts the soak and still ends by itself
if the soak dies), ctrl+r. While it trains, every ``--switch-minutes`` the soak leaves the Train
screen for `DWELL_S`, for Runs (r) and for Help (f1) in turn, and comes back with escape; the
run trains on meanwhile. At the end x stops the run and ctrl+q quits.

Measured from the run's first step:

- RSS (VmRSS in /proc) of the app and of its training child every `SAMPLE_S`; the growth is the
  last sample less the first one after the warm-up (`WARM_UP_S`, a quarter of a short try), once
  torch, the allocator and the chart's buffers have settled;
- training tokens/s per window of `WINDOW_S` of the run's elapsed time (a quarter of a short
  try): the steps of its step events over their step time (each event's tokens/s covers its
  steps), so evaluation and saving are left out; the first and the last complete window;
- the worst event-loop lag: the probe's worst per 30 s, of the periods that lie wholly in the
  watched span (the first one, which holds the app's start and the Train screen's mount, is out).

Before the app starts and after it has quit, a headless run of the default char model
(``python -m tui.cli train charlm``) trains alone for `REFERENCE_MIN`: its tokens/s after
`REFERENCE_WARM_S` is how fast the machine itself is then, so a change of the soak's tokens/s can
be told apart from the machine's own (a shared VM drifts by several percent in an hour).

Bars (issue 18): each RSS growth < 50 MB, the last window's tokens/s within 5% of the first's,
the worst lag < 100 ms. A row per soak length goes to benchmarks/soak_results.json, its plot to
benchmarks/soak-<minutes>min.svg, and the "soak" section of BENCHMARKS.md shows the longest
soak. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import BENCHMARKS_MD, ROOT, SHARED_DATA, machine, replace_section
from benchmarks.terminal import Terminal, children, cpu_s, rss_kb, steal_s
from tasks.engine.runs import read_history, read_summary
from tasks.engine.settings import TrainConfig
from tui.lag_probe import LAG_ENV, REPORT_S

RESULTS = ROOT / "benchmarks" / "soak_results.json"
SAMPLE_S = 30.0
WINDOW_S = 300.0
WARM_UP_S = 120.0
DWELL_S = 20.0
MARGIN_MIN = 2.0
START_TIMEOUT_S = 600.0
"""From ctrl+r to the run's first step (torch, the data, the model)."""
SCREEN_TIMEOUT_S = 60.0
AWAY = (("r", "Mark/compare"), ("f1", "Keys here"))
"""Where the soak goes from the Train screen, in turn: the key, and a text the screen draws."""
TRAIN_SCREEN = "Pause/resume"
RSS_BAR_MB = 50.0
WINDOW_BAR = 0.05
LAG_BAR_MS = 100.0
REFERENCE_MIN = 3.0
REFERENCE_WARM_S = 30.0


def app_environment(home: Path, lag_log: Path) -> dict[str, str]:
    """The user's environment, with the soak's user folder, data root and lag log."""
    return os.environ | {
        "RNN_TUI_HOME": str(home), "RNN_TUI_CACHE": str(home / "cache"),
        "RNN_TUI_DATA": str(SHARED_DATA), LAG_ENV: str(lag_log), "TERM": "xterm-256color",
        "COLUMNS": "120", "LINES": "40",
    }  # fmt: skip


def go(term: Terminal, keys: list[str], shown: str, timeout_s: float = SCREEN_TIMEOUT_S) -> None:
    """Press `keys` and wait for `shown` to be drawn."""
    term.mark()
    term.press(*keys)
    term.wait_for(shown, timeout_s)


def fill(term: Terminal, name: str, value: str, tabs: int = 60) -> None:
    """On Configure, tab to the field of the setting `name` (the help line under the form shows
    its help once it has the focus) and type `value` over what it holds."""
    help_text = TrainConfig.settings()[name].help[:30]
    for _ in range(tabs):
        term.mark()
        term.press("tab")
        end = time.monotonic() + 1.5
        while not term.drawn(help_text) and time.monotonic() < end:
            time.sleep(0.05)
        if term.drawn(help_text):
            term.press("ctrl+a", "ctrl+k", *value)  # start of the field, delete to its end
            return
    raise RuntimeError(f"tab never reached the {name} field on Configure")


def start_training(term: Terminal, minutes: float) -> None:
    """Home -> Architecture -> Configure (no epoch limit, `minutes` of budget) -> Train."""
    term.wait_for("Tasks", SCREEN_TIMEOUT_S * 2)
    go(term, ["enter"], "Next: hyperparameters")
    go(term, ["ctrl+n"], "Start training", SCREEN_TIMEOUT_S * 2)
    fill(term, "epochs", "")
    fill(term, "minutes", f"{minutes:g}")
    go(term, ["ctrl+r"], TRAIN_SCREEN)


def first_step(runs: Path, timeout_s: float) -> Path:
    """The run folder, once its history holds a step."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        folders = [p for p in runs.iterdir() if p.is_dir()] if runs.is_dir() else []
        for run in folders:
            if any(r.get("event") == "step" for r in read_history(run)):
                return run
        time.sleep(1.0)
    raise RuntimeError(f"no training step within {timeout_s:.0f} s of ctrl+r")


def training_child(app: int) -> int:
    """The app's training process (`rnn-tui train ... --control`)."""
    found = [pid for pid, command in children(app).items() if " train " in f"{command} "]
    if len(found) != 1:
        raise RuntimeError(f"expected one training child of the app, found {children(app)}")
    return found[0]


def sample(t_s: float, app: int, child: int) -> dict[str, Any]:
    """RSS (kB) and CPU seconds used of the app and the child, and the machine's steal time."""
    return {"t_s": round(t_s, 1), "app_kb": rss_kb(app), "child_kb": rss_kb(child),
            "app_cpu_s": cpu_s(app), "child_cpu_s": cpu_s(child), "steal_s": steal_s()}  # fmt: skip


def watch(term: Terminal, child: int, minutes: float, switch_s: float) -> dict[str, Any]:
    """`minutes` of training: RSS every `SAMPLE_S`, away from the Train screen every
    `switch_s` for `DWELL_S`; the samples, the switches and the wall-clock span."""
    t0, started = time.monotonic(), time.time()
    end = t0 + minutes * 60
    samples: list[dict[str, Any]] = []
    next_sample, next_switch, back_at, switches = t0, t0 + switch_s, None, 0
    while (now := time.monotonic()) < end:
        if now >= next_sample:
            samples.append(sample(now - t0, term.pid, child))
            next_sample += SAMPLE_S * (1 + (now - next_sample) // SAMPLE_S)  # no catching up
        if back_at is None and now >= next_switch and now + DWELL_S < end:
            key, shown = AWAY[switches % len(AWAY)]
            go(term, [key], shown)
            back_at, switches = time.monotonic() + DWELL_S, switches + 1
        elif back_at is not None and now >= back_at:
            go(term, ["escape"], TRAIN_SCREEN)
            back_at, next_switch = None, time.monotonic() + switch_s
        if not term.alive() or rss_kb(child) is None:
            raise RuntimeError("the app or its training child ended during the soak")
        time.sleep(0.5)
    if back_at is not None:
        go(term, ["escape"], TRAIN_SCREEN)
    samples.append(sample(time.monotonic() - t0, term.pid, child))
    return {"samples": samples, "switches": switches, "span": [started, time.time()]}


def stop_run(term: Terminal, run: Path, timeout_s: float = 120.0) -> str:
    """x on the Train screen (the run saves and stops); the status its summary ends with."""
    term.press("x")
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        status = read_summary(run).get("status")
        if status not in (None, "running"):
            return str(status)
        time.sleep(1.0)
    return "still running"


def step_rates(history: list[dict[str, Any]]) -> list[list[float]]:
    """[elapsed s, steps, step seconds] of each step event after the first (whose steps began
    before anything was recorded)."""
    steps = [r for r in history if r.get("event") == "step"]
    out = []
    for before, record in itertools.pairwise(steps):
        count = record["step"] - before["step"]
        if count > 0 and record.get("tokens_per_s"):
            out.append([record["elapsed_s"], count, count / record["tokens_per_s"]])
    return out


def reference(home: Path, minutes: float) -> list[list[float]]:
    """The step rates (`step_rates`) of a headless run of the default char model, alone, for
    `minutes` (a time budget alone: as many epochs as fit), in the user folder `home`."""
    command = [sys.executable, "-m", "tui.cli", "train", "charlm", "--minutes", f"{minutes:g}"]
    env = app_environment(home, home / "lag.log")
    del env[LAG_ENV]
    subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=True,
                   timeout=minutes * 60 + START_TIMEOUT_S)  # fmt: skip
    (run,) = (p for p in (home / "runs").iterdir() if p.is_dir())
    return step_rates(read_history(run))


def soak(minutes: float, switch_minutes: float) -> dict[str, Any]:
    """One soak in a fresh user folder, between two headless references; the row to store."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="rnn-tui-soak-", ignore_cleanup_errors=True) as folder:
        home = Path(folder)
        before = reference(home / "reference-before", REFERENCE_MIN)
        lag_log = home / "lag.log"
        term = Terminal(120, 40)
        term.start([sys.executable, "-m", "tui.cli"], app_environment(home, lag_log), ROOT)
        child = None
        try:
            start_training(term, minutes + MARGIN_MIN)
            run = first_step(home / "runs", START_TIMEOUT_S)
            child = training_child(term.pid)
            row = watch(term, child, minutes, switch_minutes * 60)
            row["status"] = stop_run(term, run)
        finally:
            term.close()
            end = time.monotonic() + 60
            while child is not None and rss_kb(child) is not None and time.monotonic() < end:
                time.sleep(0.5)  # the child saves and exits once the app has gone
        history = read_history(run)
        after = reference(home / "reference-after", REFERENCE_MIN)
        lines = lag_log.read_text().splitlines() if lag_log.exists() else []
        lags = [parts for parts in (line.split() for line in lines) if len(parts) == 2]
    first, last = row["span"]
    last_step = next((r["step"] for r in reversed(history) if r.get("event") == "step"), 0)
    return row | {
        "minutes": minutes, "machine": machine(), "load_before": round(load, 2),
        "steps": last_step, "step_rates": step_rates(history),
        "reference_rates": {"before": before, "after": after},
        "lag_ms": [[round(float(t) - first, 1), float(ms)] for t, ms in lags
                   if first <= float(t) - REPORT_S and float(t) <= last],
    }  # fmt: skip


# -- figures, plot, section ----------------------------------------------------------------------


def _scale(row: dict[str, Any], full: float) -> float:
    """`full` seconds for an hour's soak; a quarter of the soak when that is shorter."""
    return min(full, row["minutes"] * 60 / 4)


def windows(row: dict[str, Any]) -> list[float]:
    """Training tokens/s of each complete window: the tokens of its steps over their seconds
    (the tokens per step cancel: each event's steps / tokens/s are its step seconds)."""
    width = _scale(row, WINDOW_S)
    rates = row["step_rates"]
    complete = int(max((e for e, _, _ in rates), default=0.0) // width)
    steps, seconds = [0.0] * complete, [0.0] * complete
    for elapsed, count, step_s in rates:
        k = int(elapsed // width)
        if k < complete:
            steps[k] += count
            seconds[k] += step_s
    return [n / s for n, s in zip(steps, seconds, strict=True) if s > 0]


def rate_after(rates: list[list[float]], warm_s: float) -> float:
    """Tokens/s of the steps recorded after `warm_s` of elapsed time."""
    kept = [(count, step_s) for elapsed, count, step_s in rates if elapsed >= warm_s]
    return sum(c for c, _ in kept) / sum(s for _, s in kept)


def machine_drift(row: dict[str, Any]) -> tuple[float, float] | None:
    """Tokens/s of the headless reference before and after the soak; None for a row without."""
    runs = row.get("reference_rates")
    if not runs:
        return None
    return rate_after(runs["before"], REFERENCE_WARM_S), rate_after(runs["after"], REFERENCE_WARM_S)


def growth(row: dict[str, Any], key: str) -> tuple[float, float]:
    """(MB after the warm-up, MB at the end) of one process's RSS."""
    kept = [s for s in row["samples"] if s[key] is not None]
    warm = next((s for s in kept if s["t_s"] >= _scale(row, WARM_UP_S)), kept[-1])
    return warm[key] * 1024 / 1e6, kept[-1][key] * 1024 / 1e6


def cpu_shares(row: dict[str, Any], key: str) -> tuple[float, float] | None:
    """The share of a core that `key` (app_cpu_s, child_cpu_s, steal_s) took over the first
    and the last window of samples; None for a row without CPU samples."""
    kept = [s for s in row["samples"] if s.get(key) is not None]
    width = _scale(row, WINDOW_S)
    if len(kept) < 2 or kept[-1]["t_s"] - kept[0]["t_s"] < 2 * width:
        return None
    first = [s for s in kept if s["t_s"] <= kept[0]["t_s"] + width]
    last = [s for s in kept if s["t_s"] >= kept[-1]["t_s"] - width]
    return tuple(  # type: ignore[return-value]
        (part[-1][key] - part[0][key]) / (part[-1]["t_s"] - part[0]["t_s"])
        for part in (first, last)
    )


def figures(row: dict[str, Any]) -> dict[str, Any]:
    """The bars' figures of a row, and whether each is met."""
    app, child = growth(row, "app_kb"), growth(row, "child_kb")
    rates = windows(row)
    change = rates[-1] / rates[0] - 1 if len(rates) >= 2 else float("nan")
    lag = max((ms for _, ms in row["lag_ms"]), default=float("nan"))
    return {
        "app": app, "child": child, "rates": rates, "change": change, "lag": lag,
        "reference": machine_drift(row),
        "met": {"app": app[1] - app[0] < RSS_BAR_MB, "child": child[1] - child[0] < RSS_BAR_MB,
                "rate": abs(change) <= WINDOW_BAR, "lag": lag < LAG_BAR_MS},
    }  # fmt: skip


def plot_path(row: dict[str, Any]) -> Path:
    return ROOT / "benchmarks" / f"soak-{row['minutes']:g}min.svg"


def plot(row: dict[str, Any]) -> None:
    """RSS of both processes, tokens/s per window and the lag per 30 s against the minutes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    with plt.rc_context({"svg.hashsalt": "soak", "font.size": 9}):
        fig, (rss, speed, lag) = plt.subplots(3, 1, figsize=(7, 7), sharex=True,
                                              layout="constrained")  # fmt: skip
        t = [s["t_s"] / 60 for s in row["samples"]]
        for key, label in (("app_kb", "app"), ("child_kb", "training child")):
            rss.plot(t, [(s[key] or 0) * 1024 / 1e6 for s in row["samples"]], label=label)
        rss.set_ylabel("RSS (MB)")
        rss.legend(loc="center right")
        width = _scale(row, WINDOW_S) / 60
        rates = windows(row)
        speed.step([k * width for k in range(len(rates))], rates, where="post", marker="o")
        speed.set_ylabel(f"tokens/s per {width:g} min")
        lag.plot([t / 60 for t, _ in row["lag_ms"]], [ms for _, ms in row["lag_ms"]], ".")
        lag.axhline(LAG_BAR_MS, color="grey", linestyle="--", linewidth=0.8)
        lag.set_ylabel("worst lag per 30 s (ms)")
        lag.set_xlabel("minutes of training")
        fig.savefig(plot_path(row), format="svg", metadata={"Date": None})
        plt.close(fig)


def render(row: dict[str, Any]) -> str:
    f = figures(row)
    yes = {True: "yes", False: "**no**"}
    (a0, a1), (c0, c1), rates = f["app"], f["child"], f["rates"]
    first = f"{rates[0]:,.0f}" if rates else "–"
    last = f"{rates[-1]:,.0f}" if rates else "–"
    width = _scale(row, WINDOW_S) / 60
    return f"""
## Soak: the app training for {row["minutes"]:g} minutes (`benchmarks/soak.py`)

The default char model (LSTM 2×256, Tiny Shakespeare) trained from the app in a 120×40
pseudo-terminal, the Train screen live, leaving it for Runs or Help every few minutes
({row["switches"]} times); {row["steps"]:,} steps, the run ended `{row["status"]}`.
{row["machine"]}; load average {row["load_before"]} before.

| measure | after the warm-up / first window | end / last window | change | bar | met |
|---|---|---|---|---|---|
| app RSS | {a0:.0f} MB | {a1:.0f} MB | {a1 - a0:+.1f} MB | < {RSS_BAR_MB:g} MB | {yes[f["met"]["app"]]} |
| training child RSS | {c0:.0f} MB | {c1:.0f} MB | {c1 - c0:+.1f} MB | < {RSS_BAR_MB:g} MB | {yes[f["met"]["child"]]} |
| training tokens/s ({width:g}-min windows) | {first} | {last} | {f["change"]:+.1%} | within {WINDOW_BAR:.0%} | {yes[f["met"]["rate"]]} |
| worst event-loop lag (per 30 s) | | {f["lag"]:.0f} ms | | < {LAG_BAR_MS:g} ms | {yes[f["met"]["lag"]]} |
{reference_row(f)}
RSS is sampled every {SAMPLE_S:g} s from /proc; the growth counts from the first sample after
{_scale(row, WARM_UP_S):g} s. Tokens/s is step time only (evaluation and saving left out). The lag
is how late the app's 0.1 s timer ran (tui/lag_probe.py).{cpu_line(row)}

![RSS, tokens/s and event-loop lag over the soak]({plot_path(row).relative_to(ROOT)})
"""


def reference_row(f: dict[str, Any]) -> str:
    """The table's row of the headless references and the soak's change net of theirs."""
    if f["reference"] is None:
        return ""
    before, after = f["reference"]
    drift = after / before - 1
    net = (1 + f["change"]) / (1 + drift) - 1
    return (f"| headless tokens/s, alone, before / after the soak ({REFERENCE_MIN:g} min each) | "
            f"{before:,.0f} | {after:,.0f} | {drift:+.1%} | | |\n"
            f"| the soak's tokens/s change net of the headless one | | | {net:+.1%} | | |\n")  # fmt: skip


def cpu_line(row: dict[str, Any]) -> str:
    """What each process used of the two cores in the first and the last window, and the
    hypervisor's steal time: what the tokens/s of the child competed with."""
    shares = {k: cpu_shares(row, k) for k in ("child_cpu_s", "app_cpu_s", "steal_s")}
    if any(v is None for v in shares.values()):
        return ""
    (c0, c1), (a0, a1), (s0, s1) = shares.values()  # type: ignore[misc]
    return (f"\nCores in use (of 2), first window / last window: the training child {c0:.2f} / "
            f"{c1:.2f}, the app {a0:.2f} / {a1:.2f}; taken by the hypervisor (steal) "
            f"{s0:.2f} / {s1:.2f}.")  # fmt: skip


def load_rows() -> dict[str, dict[str, Any]]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def write() -> None:
    """Plot the longest stored soak and rewrite the section from it."""
    rows = load_rows()
    if not rows:
        return
    row = max(rows.values(), key=lambda r: r["minutes"])
    plot(row)
    replace_section(BENCHMARKS_MD, "soak", render(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="of training (default 60)")
    parser.add_argument("--switch-minutes", type=float, default=3.0,
                        help="between visits to another screen (default 3)")  # fmt: skip
    parser.add_argument("--write", action="store_true", help="only rewrite the section")
    args = parser.parse_args()
    if not args.write:
        row = soak(args.minutes, args.switch_minutes)
        rows = load_rows()
        rows[f"{args.minutes:g}"] = row
        RESULTS.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
    write()
    rows = load_rows()
    if rows:
        print(render(max(rows.values(), key=lambda r: r["minutes"])))


if __name__ == "__main__":
    main()
