"""A hyperparameter sweep on sentiment/rt-polarity, word vectors in the space, on two cores.

    .venv/bin/python -m benchmarks.sweep rt-polarity [--trials 20] [--minutes 40] [--jobs 2]
        [--pruner median|halving|none] [--interrupt-at 7]
    .venv/bin/python -m benchmarks.sweep write      # the section from the stored rows

Runs ``rnn-tui sweep sentiment --dataset rt-polarity --json`` in a child process, the way a user
does, with the task's default space (for rt-polarity: the IMDB word vectors or none, the
architecture, sizes, learning rate, dropout, weight decay, batch). Each trial gets
``minutes x jobs / trials`` minutes less `SETUP_SHARE` for building the task, so the trials fit
in ``--minutes`` on ``--jobs`` single-threaded workers. Recorded: the wall time of the whole
sweep, the complete and pruned trials, the best trial (chosen on validation accuracy) and its
test accuracy (of the weights chosen on validation) against the 80.0% bar.

``--interrupt-at K`` sends SIGINT to the sweep when its K-th trial (number K-1) starts, then runs
the same command again on the same SQLite study, and checks that every trial finished before
the interrupt is still there with its value and run folder, that the study ends with
``--trials`` finished trials, and that no settings ran twice (no two finished trials share a
run folder, and the interrupted trial's settings ran exactly once more). The wall time is then
that of both commands.

Each sweep has a fresh temporary user folder (runs and study); the download cache (and with it
the word vectors, counted once) is the user's own. Rows are kept in
``benchmarks/sweep_results.json`` by (dataset, pruner, interrupted) and the "sweeps" section
of BENCHMARKS.md is rewritten from them. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import BENCHMARKS_MD, ROOT, SHARED_DATA, machine, replace_section

RESULTS = ROOT / "benchmarks" / "sweep_results.json"
SETUP_SHARE = 0.15
"""The share of each trial's slot left for starting it (data, vocabulary, word vectors)."""
BAR = 0.80
"""The issue's bar for the best trial's test accuracy."""


def load_rows() -> dict[str, dict[str, Any]]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def store(key: str, row: dict[str, Any]) -> None:
    rows = load_rows()
    rows[key] = {**row, "machine": machine()}
    RESULTS.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
    write()


def sweep_command(args: argparse.Namespace, storage: str, per_trial: float) -> list[str]:
    return [sys.executable, "-m", "tui.cli", "sweep", "sentiment", "--dataset", args.dataset,
            "--trials", str(args.trials), "--minutes-per-trial", f"{per_trial:.3f}",
            "--storage", storage, "--pruner", args.pruner, "--jobs", str(args.jobs),
            "--seed", str(args.seed), "--json"]  # fmt: skip


def run(command: list[str], env: dict[str, str], interrupt_at: int | None = None) -> tuple:
    """The sweep's events, its exit status and its wall time; SIGINT when trial number
    `interrupt_at` starts (None: never)."""
    began = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert process.stdout is not None
    events = []
    for line in process.stdout:
        event = json.loads(line)
        events.append(event)
        if event["event"] == "trial_done":
            print(f"  trial {event['number']} {event['state']} {event['value']} "
                  f"{event['duration_s']:.0f}s {event['params']}", flush=True)  # fmt: skip
        if (interrupt_at is not None and event["event"] == "trial_started"
                and event["number"] == interrupt_at):  # fmt: skip
            print(f"  SIGINT at the start of trial {interrupt_at}", flush=True)
            process.send_signal(signal.SIGINT)
    status = process.wait()
    return events, status, time.monotonic() - began


def finished_trials(env: dict[str, str], storage: str, dataset: str) -> dict[int, dict]:
    """The study's complete and pruned trials (number -> row), read in this process."""
    os.environ["RNN_TUI_HOME"] = env["RNN_TUI_HOME"]
    from tasks.experiments.study import open_study, trials_table

    study = open_study("sentiment", dataset, storage, None, "none", 0)
    return {r["number"]: r for r in trials_table(study) if r["state"] in ("complete", "pruned")}


def sweep(args: argparse.Namespace) -> None:
    per_trial = args.minutes * args.jobs / args.trials * (1 - SETUP_SHARE)
    print(f"{machine()}; {args.trials} trials of {per_trial:.2f} min, {args.jobs} jobs, "
          f"pruner {args.pruner}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "RNN_TUI_HOME": home}
        env.setdefault("RNN_TUI_DATA", str(SHARED_DATA))
        env.pop("OMP_NUM_THREADS", None)  # the sweep gives each worker its share
        storage = f"sqlite:///{Path(home) / 'sweeps.db'}"
        command = sweep_command(args, storage, per_trial)
        interrupt = args.interrupt_at - 1 if args.interrupt_at else None
        events, status, wall = run(command, env, interrupt)
        check: dict[str, Any] | None = None
        if interrupt is not None:
            if status != 130:
                raise RuntimeError(f"the interrupted sweep exited {status}, not 130")
            before = finished_trials(env, storage, args.dataset)
            stopped = [e for e in events if e["event"] == "trial_started"
                       and e["number"] == interrupt]  # fmt: skip
            events, status, second = run(command, env)
            wall += second
            check = verify(before, finished_trials(env, storage, args.dataset), stopped, args)
            check["interrupt_at"] = args.interrupt_at
        if status != 0:
            raise RuntimeError(f"the sweep exited {status}")
        finished = finished_trials(env, storage, args.dataset)  # both commands' trials
        best = events[-1]
    row = {
        "dataset": args.dataset, "trials": args.trials, "jobs": args.jobs,
        "pruner": args.pruner, "minutes_budget": args.minutes,
        "minutes_per_trial": round(per_trial, 3), "wall_min": round(wall / 60, 2),
        "complete": sum(r["state"] == "complete" for r in finished.values()),
        "pruned": sum(r["state"] == "pruned" for r in finished.values()),
        "best_trial": best["best_number"], "best_val_accuracy": best["best_value"],
        "best_test_accuracy": (best["best_test_metrics"] or {}).get("test_accuracy"),
        "best_params": best["best_params"], "importances": best["importances"],
        "interrupt": check,
        "trial_seconds": round(sum(r["duration_s"] or 0 for r in finished.values())),
        "trials_table": [
            {"number": n, "state": r["state"], "val": r["value"], "pruned_step": r["pruned_step"],
             "test": r["test_metrics"].get("test_accuracy"), "seconds": round(r["duration_s"] or 0)}
            for n, r in sorted(finished.items())
        ],
    }  # fmt: skip
    store(f"{args.dataset} {args.pruner}{' interrupted' if check else ''}", row)


def verify(
    before: dict[int, dict], after: dict[int, dict], stopped: list[dict], args: argparse.Namespace
) -> dict[str, Any]:
    """What survived the interrupt: every finished trial kept, the target reached, nothing
    run twice; `RuntimeError` when one of them does not hold."""
    lost = [n for n, row in before.items() if after.get(n) != row]
    folders = [row["run_dir"] for row in after.values()]
    again = [r for r in after.values() if stopped and r["params"] == stopped[0]["params"]]
    result = {
        "finished_before": len(before),
        "finished_after": len(after),
        "lost": lost,
        "shared_run_folders": len(folders) - len(set(folders)),
        "interrupted_settings_ran": len(again),
    }
    ok = not lost and result["shared_run_folders"] == 0 and len(after) >= args.trials
    if not ok or (stopped and len(again) != 1):
        raise RuntimeError(f"the resumed sweep lost or repeated trials: {result}")
    return result


def render() -> str:
    """The section from every stored row."""
    rows = load_rows()
    lines = ["## Sweeps", ""]
    if not rows:
        return "\n".join([*lines, "No sweep measured yet."])
    lines += [
        "`python -m benchmarks.sweep rt-polarity` (`rnn-tui sweep sentiment --dataset rt-polarity`"
        " in a child process, the task's default space: IMDB word vectors or none, architecture,"
        " sizes, learning rate, dropout, weight decay, batch; TPE; each trial a run of "
        "`minutes x jobs / trials` less 15% for its set-up). The best trial is chosen on "
        "validation accuracy; its test accuracy is that of the weights chosen on validation. "
        f"Bar: test accuracy >= {BAR:.1%} (NBSVM 79.4%, Kim CNN 81.5%; the defaults 78.0%).",
        "",
        "| pruner | trials | jobs | min/trial | wall (min) | complete / pruned | best val acc | "
        "best test acc | best settings |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows.values():
        test = row["best_test_accuracy"]
        shown = "?" if test is None else f"**{test:.1%}**" + (" ✓" if test >= BAR else "")
        params = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                           for k, v in (row["best_params"] or {}).items())  # fmt: skip
        name = row["pruner"] + (f", Ctrl+C at trial {row['interrupt']['interrupt_at']}"
                                if row["interrupt"] else "")  # fmt: skip
        lines.append(
            f"| {name} | {row['trials']} | {row['jobs']} | {row['minutes_per_trial']:.2f} | "
            f"{row['wall_min']:.1f} of {row['minutes_budget']:g} | {row['complete']} / "
            f"{row['pruned']} | {row['best_val_accuracy']:.1%} | {shown} | {params} |"
        )
    for row in rows.values():
        check = row["interrupt"]
        if check:
            lines += ["", f"Ctrl+C at trial {check['interrupt_at']} ({row['pruner']}), then the "
                      f"same command on the same study: {check['finished_before']} trials finished "
                      f"before, all kept ({len(check['lost'])} lost), {check['finished_after']} "
                      f"finished after, {check['shared_run_folders']} run folders shared, the "
                      f"interrupted settings ran {check['interrupted_settings_ran']} time(s) "
                      "after."]  # fmt: skip
        if row["importances"]:
            shown = ", ".join(f"{k} {v:.2f}" for k, v in row["importances"].items())
            lines += ["", f"Importances ({row['pruner']}): {shown}."]
    machines = sorted({r["machine"] for r in rows.values()})
    lines += ["", *(f"Machine: {m}." for m in machines)]
    return "\n".join(lines)


def write() -> None:
    replace_section(BENCHMARKS_MD, "sweeps", render())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="rt-polarity, or write (the section from the rows)")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=40.0, help="for the whole sweep")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (1 thread each)")
    parser.add_argument("--pruner", default="median", choices=("median", "halving", "none"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--interrupt-at", type=int, metavar="K",
                        help="SIGINT when the K-th trial starts, then resume")  # fmt: skip
    args = parser.parse_args()
    if args.dataset != "write":
        sweep(args)
    write()
    print(render())


if __name__ == "__main__":
    main()
