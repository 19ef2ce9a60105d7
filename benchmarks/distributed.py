"""Several processes and bf16 on the CPU, for the default char model on Tiny Shakespeare.

    .venv/bin/python -m benchmarks.distributed processes [--minutes 5]
    .venv/bin/python -m benchmarks.distributed precision [--epochs 1]
    .venv/bin/python -m benchmarks.distributed write      # the section from the stored rows

- processes: 1 process x 2 threads against 2 processes x 1 thread (torchrun, gloo on this
  machine) at the same global batch (the task's --batch; two processes take half its rows each)
  and the same wall-clock budget: training tokens/s of all the processes together, the steps
  taken, and the validation loss at the end.
- precision: fp32 against bf16 autocast on the CPU, one process x 2 threads, the same steps
  (``--epochs``): training tokens/s and the validation loss at the end.

Each run is ``rnn-tui train charlm --json`` in a child process, started the way a user starts
one (the launcher starts torchrun for ``--nproc 2``). Tokens/s is the median of the step events
after the first (the first holds the warm-up); the loss is the final full evaluation. Rows are
stored in ``benchmarks/distributed_results.json`` (a row replaces the earlier one with its key)
and the "distributed" section of BENCHMARKS.md is rewritten from every stored row; each row
keeps its machine line and the load average at its start. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import BENCHMARKS_MD, ROOT, SHAKESPEARE, machine, replace_section

RESULTS = ROOT / "benchmarks" / "distributed_results.json"
LAYOUTS = {"1x2": ("1", "2"), "2x1": ("2", "1")}
"""processes x threads -> (--nproc, --threads)."""


def load_rows() -> dict[str, dict[str, Any]]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def store(key: str, row: dict[str, Any], load: float) -> None:
    """Keep ``row`` under ``key`` (replacing an older one) and rewrite the section."""
    rows = load_rows()
    rows[key] = {**row, "machine": machine(), "load": load}
    RESULTS.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
    write()


def train(options: list[str]) -> dict[str, Any]:
    """``rnn-tui train charlm`` on Tiny Shakespeare with `options`, in a child process: its
    tokens/s, steps, wall time, world size, global batch and final validation loss."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}  # set per process
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "tui.cli", "train", "charlm", "--dataset",
                   str(SHAKESPEARE), *options, "--out", str(Path(folder) / "run"), "--json"]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise RuntimeError(f"train charlm {' '.join(options)}: {last[0]}")
    events = [json.loads(line) for line in done.stdout.splitlines()]
    steps = [e for e in events if e["event"] == "step"]
    rates = [e["tokens_per_s"] for e in steps[1:]] or [e["tokens_per_s"] for e in steps]
    finished = events[-1]
    return {
        "tokens_per_s": round(statistics.median(rates)),
        "steps": steps[-1]["step"],
        "wall_s": finished["metrics"]["wall_s"],
        "val_loss": finished["metrics"]["val_loss"],
        "world_size": events[0].get("world_size", 1),
        "batch": events[0]["config"]["batch"],
        "model": f"{events[0]['arch']} {events[0]['config']['layers']}x"
        f"{events[0]['config']['hidden']}, {events[0]['parameters']:,} parameters",
    }


def processes(minutes: float) -> None:
    """1 process x 2 threads, then 2 processes x 1 thread, `minutes` each."""
    for layout, (nproc, threads) in LAYOUTS.items():
        load = os.getloadavg()[0]
        row = train(["--nproc", nproc, "--threads", threads, "--device", "cpu",
                     "--minutes", f"{minutes:g}"])  # fmt: skip
        store(f"processes {layout}", {"layout": layout, "minutes": minutes, **row}, load)


def precision(epochs: int) -> None:
    """fp32, then bf16, one process x 2 threads, `epochs` epochs each; nothing on a CPU without
    bfloat16 arithmetic, where `rnn-tui train` refuses bf16 (the stored rows stay)."""
    from tasks.engine.precision import cpu_has_bf16

    if not cpu_has_bf16():
        raise SystemExit("this CPU has no bfloat16 arithmetic: rnn-tui refuses bf16 here")
    for name in ("fp32", "bf16"):
        load = os.getloadavg()[0]
        row = train(["--threads", "2", "--device", "cpu", "--precision", name,
                     "--epochs", str(epochs)])  # fmt: skip
        store(f"precision {name}", {"precision": name, "epochs": epochs, **row}, load)


def render() -> str:
    """The section from every stored row."""
    rows = load_rows()
    if not rows:
        return "## Several processes, bf16 on the CPU\n\nNo rows measured yet."
    any_row = next(iter(rows.values()))
    lines = [
        "## Several processes, bf16 on the CPU",
        "",
        f"The default char model ({any_row['model']}) on Tiny Shakespeare, "
        "`python -m benchmarks.distributed` (each run an `rnn-tui train charlm` of its own). "
        "Tokens/s: the median of the step events after the first, every process's tokens "
        "together; val loss: the final full evaluation (nats/char).",
    ]
    layouts = [rows[f"processes {k}"] for k in LAYOUTS if f"processes {k}" in rows]
    if layouts:
        lines += [
            "",
            f"Processes x threads at the same global batch ({layouts[0]['batch']} rows) and the "
            f"same wall-clock budget ({layouts[0]['minutes']:g} min, evaluation included):",
            "",
            "| processes x threads | tokens/s | steps | val loss | load at start | finished |",
            "|---|---:|---:|---:|---:|---|",
        ]
        lines += [
            f"| {r['layout']} | {r['tokens_per_s']:,} | {r['steps']:,} | {r['val_loss']:.4f} | "
            f"{r['load']:.2f} | {_when(r)} |"
            for r in layouts
        ]
        if len(layouts) == 2:
            lines += [
                "",
                f"2x1 against 1x2: {layouts[1]['tokens_per_s'] / layouts[0]['tokens_per_s']:.3f}x "
                "the tokens/s. The load at a start is mostly the previous run's own threads "
                "(the load average decays over a minute).",
            ]
    kept = [rows[f"precision {p}"] for p in ("fp32", "bf16") if f"precision {p}" in rows]
    if kept:
        lines += [
            "",
            f"Precision at the same steps ({kept[0]['steps']:,}: {kept[0]['epochs']} epoch(s)), "
            "1 process x 2 threads:",
            "",
            "| precision | tokens/s | wall s | val loss | load at start | finished |",
            "|---|---:|---:|---:|---:|---|",
        ]
        lines += [
            f"| {r['precision']} | {r['tokens_per_s']:,} | {r['wall_s']:.0f} | "
            f"{r['val_loss']:.4f} | {r['load']:.2f} | {_when(r)} |"
            for r in kept
        ]
        if len(kept) == 2:
            lines += [
                "",
                f"bf16 against fp32: {kept[1]['tokens_per_s'] / kept[0]['tokens_per_s']:.2f}x "
                f"the tokens/s, val loss {kept[1]['val_loss'] - kept[0]['val_loss']:+.4f} nats/char.",
            ]
    machines = sorted({r["machine"].split(", measured ")[0] for r in rows.values()})
    lines += ["", *(f"Machine: {m}." for m in machines)]
    return "\n".join(lines)


def _when(row: dict[str, Any]) -> str:
    """The date and time a row was measured (the end of its machine line)."""
    return row["machine"].split(", measured ")[-1]


def write() -> None:
    replace_section(BENCHMARKS_MD, "distributed", render())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parts = parser.add_subparsers(dest="part", required=True)
    parts.add_parser("processes").add_argument("--minutes", type=float, default=5.0)
    parts.add_parser("precision").add_argument("--epochs", type=int, default=1)
    parts.add_parser("write")
    args = parser.parse_args()
    print(f"{machine()}; load {os.getloadavg()[0]:.2f} at {time.strftime('%H:%M')}", flush=True)
    if args.part == "processes":
        processes(args.minutes)
    elif args.part == "precision":
        precision(args.epochs)
    else:
        write()
    print(render())


if __name__ == "__main__":
    main()
