"""Gradient flow on the adding problem: RNN, LSTM and GRU at T = 50, 100, 200.

    .venv/bin/python -m benchmarks.gradflow [--minutes 1.5] [--seq-lens 50 100 200]
    .venv/bin/python -m benchmarks.gradflow --bar [--minutes 10]

Every run uses the gradflow task's defaults (`tasks.registry`: one layer of 64, batch 64,
AdamW lr 3e-3, clipping at 1.0) and the same wall-clock budget. Reported: the final validation
MSE (512 fixed sequences) against predicting 1 on the same sequences (the trivial baseline,
about 0.167), and the ratio ||dL/dh_1|| / ||dL/dh_T|| on 64 validation sequences, at
initialisation and at the end: how much of the gradient at the answer reaches the first step.

``--bar`` trains an LSTM and a tanh RNN at T = 100 for up to ``--minutes`` each and stops a run
as soon as a quick validation estimate is below MSE 0.01 (then scores it fully); it reports the
time that took. Writes the "gradflow" (or "gradflow-bar") section of BENCHMARKS.md and README.md.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import threading
import time
from collections.abc import Callable

from benchmarks.common import ROOT, machine, replace_section, write_section

ARCHS = ("rnn", "lstm", "gru")
SEQ_LENS = (50, 100, 200)
TARGET_MSE = 0.01
"""The bar: an LSTM at T = 100 gets below this."""


def run_one(
    arch: str, seq_len: int, minutes: float, threads: int, target: float | None = None
) -> dict[str, float]:
    """Train one model on the adding problem; its final metrics and gradient ratios.

    target: stop as soon as a quick validation MSE is below it (``seconds_to_target``).
    """
    from tasks.engine.trainer import Trainer
    from tasks.registry import create_task, default_config

    config = default_config(
        "gradflow", arch, seq_len=seq_len, minutes=minutes, threads=threads,
        eval_every_s=15.0 if target else 1e9,
    )  # fmt: skip
    started = time.perf_counter()
    task = create_task(config)
    initial = task.probe().ratio()
    stop = threading.Event()
    reached: float | None = None
    with tempfile.TemporaryDirectory() as run_dir:
        for event in Trainer(task, run_dir).run(stop):
            if event.kind == "eval" and target is not None and reached is None:
                if event.metrics["val_mse"] < target:
                    reached = time.perf_counter() - started
                    stop.set()
            elif event.kind == "failed":
                raise RuntimeError(event.reason)
    metrics = task.evaluate(quick=False)
    metrics["initial_ratio"] = initial if initial is not None else math.nan
    metrics["steps"] = task.steps_taken
    metrics["seconds"] = time.perf_counter() - started
    if target is not None:
        metrics["seconds_to_target"] = reached if reached is not None else math.nan
    return metrics


def _ratio(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == 0:
        return "0 (float32 underflow)"
    return f"{value:.1e}"


def sweep(args: argparse.Namespace, publish: Callable[[str], None]) -> None:
    """Every (T, arch); the table is published after each run, marked partial until done."""
    rows = []
    total = len(args.seq_lens) * len(args.archs)
    for seq_len in args.seq_lens:
        for arch in args.archs:
            m = run_one(arch, seq_len, args.minutes, args.threads)
            print(f"T={seq_len} {arch}: {m}", flush=True)
            verdict = "solved" if m["val_mse"] < TARGET_MSE else (
                "near baseline" if m["val_mse"] > 0.8 * m["baseline_mse"] else "partly")  # fmt: skip
            rows.append(
                f"| {seq_len} | {arch} | {m['val_mse']:.4f} | {m['baseline_mse']:.4f} | {verdict} "
                f"| {_ratio(m['initial_ratio'])} | {_ratio(m.get('grad_ratio'))} "
                f"| {m['steps']:,.0f} | {m['seconds']:.0f} |"
            )
            partial = f" (partial: {len(rows)} of {total} runs so far)" if len(rows) < total else ""
            publish(
                f"### Gradient flow: the adding problem{partial}\n\n"
                f"`python -m benchmarks.gradflow --minutes {args.minutes}` · {machine()}.\n"
                f"Each run: {args.minutes} minutes of wall clock in a shared CPU slot with "
                f"{args.threads} torch thread (other jobs ran on the other core), the gradflow "
                "defaults (1 layer × 64, batch 64, AdamW lr 3e-3, clip 1.0, seed 1337). MSE on 512 "
                "fixed validation sequences; the baseline predicts 1 on the same sequences. ratio: "
                "||dL/dh_1|| / ||dL/dh_T|| on 64 validation sequences (1 = the gradient reaches "
                "the first step undiminished).\n\n"
                "| T | arch | val MSE | baseline MSE | | ratio at init | ratio at end | steps | s |\n"
                "|---:|---|---:|---:|---|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
            )


def bar(args: argparse.Namespace) -> str:
    rows = []
    for arch in ("lstm", "rnn"):
        m = run_one(arch, 100, args.minutes, args.threads, target=TARGET_MSE)
        print(f"bar {arch}: {m}", flush=True)
        hit = m["seconds_to_target"]
        time_text = (
            f"{hit / 60:.1f} min" if math.isfinite(hit) else f"not within {args.minutes} min"
        )
        rows.append(
            f"| {arch} | {m['val_mse']:.4f} | {m['baseline_mse']:.4f} | {time_text} "
            f"| {_ratio(m['initial_ratio'])} | {_ratio(m.get('grad_ratio'))} "
            f"| {m['steps']:,.0f} |"
        )
    return (
        "### Gradient flow: the bar (adding problem, T = 100)\n\n"
        f"`python -m benchmarks.gradflow --bar --minutes {args.minutes} --threads "
        f"{args.threads}` · {machine()}.\n"
        "Run alone on the machine (`cpu-slot --exclusive`) with the gradflow defaults (1 layer "
        "× 64, batch 64, AdamW lr 3e-3, clip 1.0, seed 1337; the LSTM's forget-gate bias starts "
        f"at 1). Up to {args.minutes} minutes per run; a run stops once a quick validation estimate "
        f"(128 sequences, every 15 s) is below MSE {TARGET_MSE}, and is then scored on all 512.\n\n"
        "| arch | val MSE | baseline MSE | time to MSE < 0.01 | ratio at init | ratio at end "
        "| steps |\n|---|---:|---:|---|---:|---:|---:|\n" + "\n".join(rows) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=None, help="budget per run")
    parser.add_argument("--seq-lens", type=int, nargs="*", default=list(SEQ_LENS))
    parser.add_argument("--archs", nargs="*", default=list(ARCHS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bar", action="store_true", help="LSTM vs tanh RNN at T = 100")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.minutes is None:
        args.minutes = 10.0 if args.bar else 1.5
    name = "gradflow-bar" if args.bar else "gradflow"

    def publish(body: str) -> None:
        if args.no_write:
            print(body)
            return
        write_section(name, body)
        replace_section(ROOT / "README.md", name, body)

    if args.bar:
        publish(bar(args))
    else:
        sweep(args, publish)


if __name__ == "__main__":
    main()
