"""Fault injection: SIGKILLs of the training child at random moments, some of them inside a
checkpoint write; after every kill the run's newest checkpoint must load and `resume` must go on
from exactly its step.

    .venv/bin/python -m benchmarks.faults [--kills 50] [--seed 0] [--slow-write 3]

The default char model on Tiny Shakespeare, one thread. A short run is trained first (`train
--minutes`); then each round resumes it the way the app does (`rnn-tui resume RUN --json
--control`, saves asked for on stdin as the s key does, every checkpoint write slowed by
RNN_TUI_FAULT_SLOW_WRITE) and kills it with SIGKILL at a moment drawn from three kinds:

- starting: a random time in the first seconds, while it imports, loads the data or builds the
  model (before or after it took the run's lock);
- training: a random time after its first step, a save asked for on the way half the time;
- writing: a save asked for, and the kill at a random point inside its write (once the write's
  temp file is there).

After each kill every checkpoint in the folder is loaded, and the next child's `started` event
must resume from the newest one's step and a step must follow; a last resume trains on and is
stopped with `stop` (exit 130, a stop checkpoint further on). The "faults" section of
BENCHMARKS.md gets the counts. Run it alone on the machine (each kill takes some seconds
to half a minute: a start of torch, the data and the model, then the moment).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import SHAKESPEARE, machine, write_section
from tasks.engine.checkpoint import FAULT_SLOW_WRITE, PARTIAL_GLOB, load_checkpoint

MOMENTS = ("starting", "training", "writing")
DEADLINE_S = 600.0
"""The longest a child may take to reach what a round waits for."""
START_WINDOW_S = 6.0
"""`starting` kills land in the first this many seconds after the spawn."""
TRAIN_WINDOW_S = 15.0
"""`training` kills land this many seconds (at most) after the first step."""
POLL_S = 0.01


class ChildError(RuntimeError):
    """A child ended or stalled before what a round waited for."""


class Child:
    """`rnn-tui ARGS --json --control`: its events read by a thread, its stderr in a file."""

    def __init__(self, argv: list[str], env: dict[str, str], stderr: Path) -> None:
        self.started_at = time.monotonic()
        self.err = stderr
        with stderr.open("w") as handle:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tui.cli", *argv, "--json", "--control"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=handle, text=True, env=env,
            )  # fmt: skip
        self.events: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self.events.append(json.loads(line))

    def first(self, kind: str) -> dict[str, Any] | None:
        return next((e for e in list(self.events) if e["event"] == kind), None)

    def notes(self) -> list[str]:
        return [e["text"] for e in list(self.events) if e["event"] == "note"]

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except OSError as exc:  # a broken pipe: it has ended
            raise ChildError(f"gone before {command!r}: {self.error()}") from exc

    def run_for(self, seconds: float) -> None:
        """Let the child run `seconds` more; `ChildError` if it ends meanwhile."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise ChildError(f"exited ({self.proc.returncode}): {self.error()}")
            time.sleep(POLL_S)

    def until(self, condition: Any, what: str) -> Any:
        """Wait for `condition()` to be true (its value); `ChildError` if the child ends first
        or `DEADLINE_S` pass."""
        deadline = time.monotonic() + DEADLINE_S
        while not (value := condition()):
            if self.proc.poll() is not None:
                raise ChildError(f"exited ({self.proc.returncode}) before {what}: {self.error()}")
            if time.monotonic() > deadline:
                raise ChildError(f"no {what} within {DEADLINE_S:.0f} s")
            time.sleep(POLL_S)
        return value

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.reader.join(timeout=30)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def error(self) -> str:
        lines = [line for line in self.err.read_text().splitlines() if line.strip()]
        return lines[-1] if lines else "(no error line)"


@dataclass
class Kill:
    """One SIGKILL and what was found after it."""

    moment: str
    after_s: float
    """Seconds from the spawn to the kill."""
    in_write: bool = False
    """A checkpoint's temp file was left behind: the kill landed inside a write."""
    loads: bool = False
    """Every checkpoint in the folder loaded after the kill."""
    step: int = -1
    """The newest checkpoint's step after the kill."""
    resumed: bool | None = None
    """The next resume started from that step and trained (None: not checked yet)."""
    problem: str = ""


def prepare(run: Path, dataset: list[str], env: dict[str, str], minutes: float) -> int:
    """Train the run for a short budget; the step of its checkpoint."""
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "train", "charlm", *dataset, "--threads", "1",
         "--minutes", str(minutes), "--out", str(run), "--json"],
        capture_output=True, text=True, env=env, timeout=DEADLINE_S + minutes * 60,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the first run failed: {done.stderr.strip().splitlines()[-1:]}")
    return int(load_checkpoint(run)["step"])


def newest_step(run: Path) -> int:
    """Load every checkpoint of the run (CheckpointError if one does not); last.pt's step."""
    for path in sorted(run.glob("*.pt")):
        load_checkpoint(path)
    return int(load_checkpoint(run)["step"])


def confirm(child: Child, expected: int, pending: list[Kill]) -> None:
    """The child's resume: it must start from `expected` and take a step; the kills waiting
    for a resume are marked with the outcome."""
    started = child.until(lambda: child.first("started"), "the started event")
    ok = started["resumed_from_step"] == expected
    problem = "" if ok else f"resumed from {started['resumed_from_step']}, not {expected}"
    if ok:
        child.until(lambda: child.first("step"), "a step after the resume")
    for kill in pending:
        kill.resumed, kill.problem = ok, kill.problem or problem
    pending.clear()


def round_(child: Child, kill: Kill, rng: random.Random, expected: int, pending: list[Kill],
           slow_s: float) -> None:  # fmt: skip
    """Drive one child to its moment (it is killed right after)."""
    if kill.moment == "starting":
        child.run_for(child.started_at + rng.uniform(0.1, START_WINDOW_S) - time.monotonic())
        if child.first("step") is not None:  # it got that far: its resume counts too
            confirm(child, expected, pending)
        return
    confirm(child, expected, pending)
    if kill.moment == "training":
        wait_s = rng.uniform(0.0, TRAIN_WINDOW_S)
        if rng.random() < 0.5:  # a save asked for on the way
            before = rng.uniform(0.0, wait_s)
            child.run_for(before)
            child.send("save")
            wait_s -= before
        child.run_for(wait_s)
        return
    run = Path(child.first("started")["run_dir"])
    before_write = set(run.glob(PARTIAL_GLOB))
    child.send("save")  # written after the current batch, slowed by the fault hook
    child.until(lambda: set(run.glob(PARTIAL_GLOB)) - before_write, "a checkpoint write")
    child.run_for(rng.uniform(0.0, slow_s * 0.9))  # a random point inside the write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--slow-write", type=float, default=3.0, help="seconds added to each checkpoint write"
    )
    parser.add_argument("--first-minutes", type=float, default=0.5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    began = time.monotonic()
    dataset = ["--dataset", str(SHAKESPEARE)] if SHAKESPEARE.is_file() else []
    kills: list[Kill] = []
    with tempfile.TemporaryDirectory(prefix="rnn-tui-faults-") as folder:
        work = Path(folder)
        env = {**os.environ, "RNN_TUI_HOME": str(work / "home")}
        run = work / "run"
        expected = prepare(run, dataset, env, args.first_minutes)
        print(f"prepared {run} at step {expected}", flush=True)
        slow = {**env, FAULT_SLOW_WRITE: str(args.slow_write)}
        pending: list[Kill] = []
        takeovers = removals = 0
        for i in range(args.kills):
            kill = Kill(moment=rng.choice(MOMENTS), after_s=0.0)
            left = set(run.glob(PARTIAL_GLOB))  # by earlier kills (this resume removes them)
            child = Child(["resume", str(run), "--minutes", "600"], slow, work / f"{i}.err")
            try:
                round_(child, kill, rng, expected, pending, args.slow_write)
            except ChildError as exc:
                kill.problem = str(exc)
            finally:
                kill.after_s = time.monotonic() - child.started_at
                child.kill()
            notes = child.notes()
            takeovers += any("took over the run's lock" in n for n in notes)
            removals += any("partly written checkpoint" in n for n in notes)
            kill.in_write = bool(set(run.glob(PARTIAL_GLOB)) - left)
            try:
                kill.step = newest_step(run)
                kill.loads = True
            except ValueError as exc:  # CheckpointError
                kill.problem = kill.problem or str(exc)
            expected = kill.step
            pending.append(kill)
            kills.append(kill)
            print(f"{i + 1:>3} {kill.moment:<8} at {kill.after_s:5.1f} s: "
                  f"{'inside a write, ' if kill.in_write else ''}"
                  f"{'loads' if kill.loads else 'DOES NOT LOAD'} (step {kill.step})"
                  f"{' ' + kill.problem if kill.problem else ''}", flush=True)  # fmt: skip
        final = Child(["resume", str(run), "--minutes", "600"], env, work / "final.err")
        try:
            confirm(final, expected, pending)
            takeovers += any("took over the run's lock" in n for n in final.notes())
            removals += any("partly written checkpoint" in n for n in final.notes())
            final.send("stop")
            code = final.proc.wait(timeout=DEADLINE_S)
            final.reader.join(timeout=30)
            last = final.events[-1] if final.events else {}
            stopped = code == 130 and last.get("event") == "finished" and last.get("stopped")
            end_step = newest_step(run)
        except (ChildError, ValueError, subprocess.TimeoutExpired) as exc:
            stopped, end_step = False, -1
            for kill in pending:
                kill.resumed, kill.problem = False, kill.problem or str(exc)
        finally:
            if final.proc.poll() is None:
                final.kill()
    minutes = (time.monotonic() - began) / 60
    write_section("faults", render(kills, takeovers, removals, stopped, end_step, minutes,
                                   args, bool(dataset)))  # fmt: skip


def render(kills: list[Kill], takeovers: int, removals: int, stopped: bool, end_step: int,
           minutes: float, args: argparse.Namespace, shakespeare: bool) -> str:  # fmt: skip
    """The "faults" section of BENCHMARKS.md."""
    good = [k for k in kills if k.loads and k.resumed and not k.problem]
    lines = [
        "## Faults",
        "",
        f"`python -m benchmarks.faults --kills {args.kills} --seed {args.seed} --slow-write "
        f"{args.slow_write}`: the default char model on "
        f"{'Tiny Shakespeare' if shakespeare else 'the default dataset'}, one thread, trained "
        f"{args.first_minutes} min, then resumed as the app runs it (`resume RUN --json "
        f"--control`, every checkpoint write slowed by {args.slow_write} s) and killed with "
        "SIGKILL at a random moment each time. After each kill every checkpoint of the run is "
        "loaded, and the next resume must start from the newest one's step and train a step.",
        "",
        "| moment of the kill | kills | inside a checkpoint write | checkpoints load | resume "
        "goes on from the newest |",
        "|---|---:|---:|---:|---:|",
    ]
    for moment in (*MOMENTS, None):
        group = [k for k in kills if moment is None or k.moment == moment]
        name = moment or "**all**"
        lines.append(
            f"| {name} | {len(group)} | {sum(k.in_write for k in group)} | "
            f"{sum(k.loads for k in group)}/{len(group)} | "
            f"{sum(bool(k.resumed) for k in group)}/{len(group)} |"
        )
    lines += [
        "",
        f"{len(good)} of {len(kills)} kills left loadable checkpoints and a resume that went "
        "on with no other problem. Stale locks taken over: "
        f"{takeovers}; resumes that removed a half-written checkpoint file: {removals}. The last "
        "resume "
        + (
            f"was stopped cleanly at step {end_step:,} (exit 130, a stop checkpoint)."
            if stopped
            else "did NOT stop cleanly."
        )
        + f" {minutes:.0f} min in all.",
    ]
    problems = [f"- kill {i + 1} ({k.moment}): {k.problem}" for i, k in enumerate(kills)
                if k.problem or not (k.loads and k.resumed)]  # fmt: skip
    if problems:
        lines += ["", "Problems:", *problems]
    lines += ["", f"Machine: {machine()}."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
