"""The app's cost: training speed with the Train screen live, start-up time, key latency.

1. Throughput: the same run (char LSTM 2×256, embedding 64, batch 64, seq 128, Tiny Shakespeare)
   headless through `rnn-tui train` (a subprocess, default environment) and inside the app
   (`App.run_test`, the Train screen visible and its chart redrawing, the run in the child
   process the app starts), alternating; tokens/s from each run's history after a warm-up.
2. Start-up: `rnn-tui` in a pseudo-terminal (120×40) until the home screen's text is drawn;
   the median of 5.
3. Key latency while training: in a separate app run, every 0.5 s press f1 (help opens),
   then 0.25 s after it is drawn escape (it closes), timing press -> the new screen drawn; the
   worst seen, and the worst event-loop lag.

    python -m benchmarks.tui [--seconds 40] [--rounds 8] [--latency-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual import events

from tui.app import quiet_openmp

quiet_openmp()  # as run_app does, before torch loads

from benchmarks.common import SHAKESPEARE, machine, write_section  # noqa: E402
from tasks.engine.runs import read_history  # noqa: E402
from tasks.registry import default_config  # noqa: E402
from tui.app import make_app  # noqa: E402
from tui.screens.help import HelpScreen  # noqa: E402
from tui.screens.train import TrainScreen  # noqa: E402

SIZES = {"embed": 64, "hidden": 256, "layers": 2, "batch": 64, "seq_len": 128}
WARMUP_S = 5.0
KEY_GAP_S = 0.25
"""Pause after a key's screen is drawn before the next key (a fast typist's gap)."""


def rate_from_history(run_dir: Path) -> float:
    """Tokens/s between the first step event after the warm-up and the last one."""
    steps = [r for r in read_history(run_dir) if r["event"] == "step"]
    first = next(r for r in steps if r["elapsed_s"] >= WARMUP_S)
    last = steps[-1]
    tokens = (last["step"] - first["step"]) * SIZES["batch"] * SIZES["seq_len"]
    return tokens / (last["elapsed_s"] - first["elapsed_s"])


def headless(seconds: float, out: Path) -> float:
    options = [f"--{k.replace('_', '-')}={v}" for k, v in SIZES.items()]
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}  # as a user runs it
    subprocess.run(
        [sys.executable, "-m", "tui.cli", "train", "charlm", "--dataset", str(SHAKESPEARE),
         *options, "--minutes", str(seconds / 60), "--out", str(out), "--json"],
        check=True, stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    return rate_from_history(out)


async def in_app(seconds: float, keys: bool) -> tuple[float, list[float], list[float], float]:
    """Train inside the app; returns tokens/s, key latencies (s) to the screen switched and to
    the new screen drawn, and the worst loop lag (s).

    keys: press f1 / escape every 0.5 s (the latency run); without, the screen only redraws.
    """
    config = default_config("charlm", "lstm", dataset=str(SHAKESPEARE), minutes=seconds / 60,
                            **SIZES)  # fmt: skip
    screen = TrainScreen.new(config)  # as the app starts a run: `rnn-tui train` in a child
    app = make_app(preload_torch=False)
    handled: list[float] = []
    latencies: list[float] = []
    lag = 0.0
    async with app.run_test(size=(120, 40)):
        await app.push_screen(screen)
        start = time.perf_counter()
        while (
            screen.state in ("loading", "training") and time.perf_counter() - start < seconds + 60
        ):
            before = time.perf_counter()
            await asyncio.sleep(0.5)
            lag = max(lag, time.perf_counter() - before - 0.5)
            if not keys or screen.state != "training":
                continue
            for key, expected in (("f1", HelpScreen), ("escape", TrainScreen)):
                t0 = time.perf_counter()
                app.post_message(events.Key(key, None))  # as the driver posts a key press
                while not isinstance(app.screen, expected):
                    await asyncio.sleep(0.001)
                handled.append(time.perf_counter() - t0)
                drawn = asyncio.get_running_loop().create_future()
                app.screen.call_after_refresh(drawn.set_result, None)
                await drawn  # the new screen is on the terminal
                latencies.append(time.perf_counter() - t0)
                await asyncio.sleep(KEY_GAP_S)
    return rate_from_history(screen.run_dir), handled, latencies, lag


def startup_seconds(timeout: float = 30.0) -> float:
    """Seconds from spawning `rnn-tui` in a pty to the home screen's text on it."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update({"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"})
        os.execvp(sys.executable, [sys.executable, "-m", "tui.cli"])
    start, seen = time.perf_counter(), b""
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        while b"Tasks" not in seen and time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
        return time.perf_counter() - start
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--latency-seconds", type=float, default=60.0)
    args = parser.parse_args()
    starts = [startup_seconds() for _ in range(5)]
    print("start-up", [round(s, 2) for s in starts], flush=True)
    rates: dict[str, list[float]] = {"headless": [], "app": []}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RNN_TUI_HOME"] = tmp  # the app's runs go here, not among the user's
        for i in range(args.rounds):
            rates["headless"].append(headless(args.seconds, Path(tmp) / f"h{i}"))
            rates["app"].append(asyncio.run(in_app(args.seconds, False))[0])
            print(json.dumps({k: [round(x) for x in v] for k, v in rates.items()}), flush=True)
        _, handled, drawn, lag = asyncio.run(in_app(args.latency_seconds, True))
    ratios = [a / h for a, h in zip(rates["app"], rates["headless"], strict=True)]
    head = rates["headless"]
    pooled = sum(rates["app"]) / sum(head)
    faster = sum(r >= 1 for r in ratios)
    spread = (max(head) - min(head)) / statistics.median(head)
    ms = [f"{1000 * x:.0f}" for x in (max(handled), statistics.median(handled))]
    drawn_ms = [f"{1000 * x:.0f}" for x in (max(drawn), statistics.median(drawn))]
    write_section(
        "tui",
        f"""## The app's cost (`python -m benchmarks.tui`)

{machine()}.

| measure | value | bar |
|---|---|---|
| training throughput, Train screen live (`App.run_test`, 120×40) vs headless `rnn-tui train`, median of {args.rounds} alternating pairs | **{statistics.median(ratios):.2f}** (pairs: {", ".join(f"{r:.2f}" for r in ratios)}; app {", ".join(f"{r:,.0f}" for r in rates["app"])} tokens/s; headless {", ".join(f"{r:,.0f}" for r in head)}, which differ by {spread:.0%} among themselves; all app runs / all headless runs {pooled:.2f}; the app as fast or faster in {faster} of {len(ratios)} pairs) | ≥ 0.95 |
| start-up, `rnn-tui` to the home screen drawn (pty, 120×40), median of 5 | **{statistics.median(starts):.2f} s** (all: {", ".join(f"{s:.2f}" for s in starts)}) | ≤ 1.5 s |
| key press answered while training: f1 (help) / escape, {len(handled)} presses over a {args.latency_seconds:.0f} s run, to the screen switched | worst **{ms[0]} ms**, median {ms[1]} ms; worst event-loop lag {1000 * lag:.0f} ms | ≤ 100 ms |
| the same presses, to the new screen drawn (the next refresh done) | worst **{drawn_ms[0]} ms**, median {drawn_ms[1]} ms | |

Run: char LSTM 2×256, embedding 64, batch 64, seq 128 on Tiny Shakespeare, {args.seconds:.0f} s each,
alternating headless/app, {args.rounds} rounds; tokens/s after a {WARMUP_S:.0f} s warm-up. Keys: f1,
then escape {1000 * KEY_GAP_S:.0f} ms after help is drawn, every 0.5 s.""",
    )


if __name__ == "__main__":
    main()
