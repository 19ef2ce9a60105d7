"""Every recurrent core side by side: char LM, the adding problem, rt-polarity, scan speed.

    .venv/bin/python -m benchmarks.architectures throughput [--sizes 0.9 3] [--seconds 60]
    .venv/bin/python -m benchmarks.architectures charlm --archs lstm mingru [--minutes 10]
    .venv/bin/python -m benchmarks.architectures adding --seq-lens 1000 --archs lstm lru
    .venv/bin/python -m benchmarks.architectures sentiment [--archs ...] [--minutes 1.5]
    .venv/bin/python -m benchmarks.architectures scan [--repeats 3]
    .venv/bin/python -m benchmarks.architectures write      # the section from the stored rows

Each part trains through the same calls as ``rnn-tui train`` (`tasks.registry.create_task`,
`tasks.engine.trainer.Trainer`) and stores its rows in ``benchmarks/architectures_results.json``
(a row replaces the earlier one with the same key), then rewrites the "architectures" section of
BENCHMARKS.md and README.md from every stored row, so parts can run on different days; each row
keeps its machine line and the load average at its start.

- throughput: char LM training tokens/s on Tiny Shakespeare for each core at about 0.9M and 3M
  parameters (the whole model: embedding, layers, head), as a ratio to ``nn.LSTM`` at the same
  size measured in the same run (the LSTM runs first and last; the ratio uses their mean).
- charlm: the validation loss (nats/char) after a wall-clock budget, at about 0.9M or 3M
  parameters (``--size``).
- adding: the adding problem (gradflow's defaults with the core) at each T: the final MSE vs the
  0.167 baseline, minutes to MSE < 0.01 (quick estimates every 15 s), the gradient ratio
  ||dL/dh_1|| / ||dL/dh_T||.
- sentiment: rt-polarity test accuracy (the task's defaults with the core, a time budget).
- scan: forward + backward of each parallel core, its sequential mode vs its parallel scan, by T.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from typing import Any

from benchmarks.common import ROOT, SHAKESPEARE, machine, replace_section, train_to_end

RESULTS = ROOT / "benchmarks" / "architectures_results.json"
CORES = ("lstm", "gru", "mingru", "minlstm", "indrnn", "lru", "s6", "mlstm", "slstm")
SIZES = (0.9, 3.0)
"""Model sizes in millions of parameters."""
VOCAB = 65
"""Characters in Tiny Shakespeare."""


def load_rows() -> dict[str, dict[str, Any]]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def store(key: str, row: dict[str, Any]) -> None:
    """Keep ``row`` under ``key`` (replacing an older one) and rewrite the section."""
    rows = load_rows()
    rows[key] = {**row, "machine": machine(), "load": os.getloadavg()[0]}
    RESULTS.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
    write()


def hidden_for(arch: str, millions: float, layers: int, embed: int, block: bool) -> int:
    """The hidden size (a multiple of 16) whose char LM is nearest ``millions`` parameters."""
    from models.registry import get_architecture

    a = get_architecture(arch)

    def total(h: int) -> int:
        core = a.parameter_count(embed, h, layers, block=block)
        return VOCAB * embed + core + h * VOCAB + VOCAB

    target = millions * 1e6
    return min(range(16, 2049, 16), key=lambda h: abs(total(h) - target))


def charlm_config(arch: str, millions: float, **overrides: Any):
    """The char LM defaults with ``arch`` at about ``millions`` parameters."""
    from tasks.registry import default_config, task_defaults

    values = task_defaults("charlm", arch) | overrides
    hidden = hidden_for(arch, millions, values["layers"], values["embed"], values["block"])
    return default_config(
        "charlm", arch, dataset=str(SHAKESPEARE), hidden=hidden, threads=2, **overrides
    )


def train(config) -> tuple[dict[str, Any], int, int]:
    """Train ``config`` to its end: final metrics, epochs, parameters."""
    from tasks.registry import create_task

    config.log_every_s = 5.0
    task = create_task(config)
    metrics, epochs = train_to_end(task)
    return metrics, epochs, task.parameter_count()


def throughput(args: argparse.Namespace) -> None:
    minutes = args.seconds / 60
    for millions in args.sizes:
        measured: dict[str, tuple[float, int, int]] = {}  # arch -> (tokens/s, hidden, params)
        lstm_rates = []
        for arch in ["lstm", *(a for a in args.archs if a != "lstm"), "lstm"]:
            config = charlm_config(arch, millions, minutes=minutes, eval_every_s=1e9)
            try:
                metrics, _, params = train(config)
            except RuntimeError as error:  # NaN: no rate, and the reason in the log
                print(f"{millions}M {arch} hidden {config.hidden}: failed: {error}", flush=True)
                continue
            rate = metrics["train_tokens_per_s"]
            print(f"{millions}M {arch} hidden {config.hidden}: {rate:,.0f} tokens/s", flush=True)
            if arch == "lstm":
                lstm_rates.append(rate)
            measured[arch] = (rate, config.hidden, params)
        lstm = sum(lstm_rates) / len(lstm_rates)  # first and last: drift in the machine shows
        measured["lstm"] = (lstm, *measured["lstm"][1:])
        for arch, (rate, hidden, params) in measured.items():
            store(f"throughput/{millions}/{arch}", {
                "part": "throughput", "arch": arch, "millions": millions, "tokens_per_s": rate,
                "lstm_tokens_per_s": lstm, "lstm_spread": max(lstm_rates) / min(lstm_rates),
                "ratio": rate / lstm, "hidden": hidden, "parameters": params,
                "seconds": args.seconds,
            })  # fmt: skip


def charlm(args: argparse.Namespace) -> None:
    for arch in args.archs:
        config = charlm_config(arch, args.size, minutes=args.minutes, dropout=args.dropout)
        metrics, epochs, params = train(config)
        print(f"charlm {arch}: {metrics}", flush=True)
        store(f"charlm/{args.size}/{arch}/{args.dropout:g}", {
            "part": "charlm", "arch": arch, "millions": args.size, "minutes": args.minutes,
            "hidden": config.hidden, "layers": config.layers, "block": config.block,
            "dropout": config.dropout, "parameters": params, "epochs": epochs,
            "val_loss": metrics["val_loss"], "tokens_per_s": metrics["train_tokens_per_s"],
        })  # fmt: skip


def adding(args: argparse.Namespace) -> None:
    from benchmarks.gradflow import TARGET_MSE, run_one

    for seq_len in args.seq_lens:
        minutes = args.minutes if args.minutes else (10.0 if seq_len >= 1000 else 3.0)
        for arch in args.archs:
            m = run_one(arch, seq_len, minutes, 2, target=TARGET_MSE)
            print(f"adding T={seq_len} {arch}: {m}", flush=True)
            store(f"adding/{seq_len}/{arch}", {
                "part": "adding", "arch": arch, "seq_len": seq_len, "minutes": minutes,
                "val_mse": m["val_mse"], "baseline_mse": m["baseline_mse"],
                "seconds_to_target": m["seconds_to_target"], "grad_ratio": m.get("grad_ratio"),
                "initial_ratio": m["initial_ratio"], "steps": m["steps"],
            })  # fmt: skip


def sentiment(args: argparse.Namespace) -> None:
    from tasks.registry import default_config

    for arch in args.archs:
        config = default_config(
            "sentiment", arch, dataset="rt-polarity", minutes=args.minutes, threads=2
        )
        config.eval_every_s = 1e9
        metrics, epochs, params = train(config)
        print(f"sentiment {arch}: {metrics}", flush=True)
        store(f"sentiment/{arch}", {
            "part": "sentiment", "arch": arch, "minutes": args.minutes, "epochs": epochs,
            "parameters": params, "test_accuracy": metrics.get("test_accuracy"),
            "val_accuracy": metrics.get("val_accuracy"),
        })  # fmt: skip


def scan(args: argparse.Namespace) -> None:
    import torch

    from benchmarks.cores import factories, time_scans

    torch.set_num_threads(2)
    torch.manual_seed(0)
    for name, (make, longest) in factories().items():
        core = make()
        for seq_len in (t for t in (64, 256, 1024, 4096) if t <= longest):
            times = time_scans(core, seq_len, args.repeats)
            print(f"scan {name} T={seq_len}: {times}", flush=True)
            store(f"scan/{name}/{seq_len}", {
                "part": "scan", "arch": name, "seq_len": seq_len, "ms": {
                    k: v * 1e3 for k, v in times.items()},
            })  # fmt: skip


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format(value, spec)


def _rows(part: str) -> list[dict[str, Any]]:
    order = {a: i for i, a in enumerate(CORES)}
    rows = [r for r in load_rows().values() if r["part"] == part]
    return sorted(rows, key=lambda r: (r.get("millions", 0), r.get("seq_len", 0),
                                       order.get(r["arch"], 99)))  # fmt: skip


def _machines(rows: list[dict[str, Any]]) -> str:
    """One line: the machine(s), when the rows were measured, the load averages at their start
    (about 2 while a benchmark of two threads runs: the previous row's own load)."""
    machines = sorted({r["machine"].split(", measured ")[0] for r in rows})
    times = sorted(r["machine"].split(", measured ")[-1] for r in rows)
    loads = [r["load"] for r in rows]
    return (
        f"{'; '.join(machines)}; measured {times[0]} to {times[-1]}, one run at a time, "
        f"nothing else running; load average {min(loads):.1f}-{max(loads):.1f} at the starts."
    )


def _table(title: str, part: str, header: str, line) -> list[str]:
    """A subsection: title, the machines, a Markdown table with one ``line(row)`` per row."""
    rows = _rows(part)
    if not rows:
        return []
    align = "|".join("---" if i == 1 else "---:" for i in range(1, header.count("|")))
    return ["", f"### {title}", "", _machines(rows), "", header, f"|{align}|",
            *map(line, rows)]  # fmt: skip


def _speedup(r: dict[str, Any]) -> str:
    ms = dict(r["ms"])
    seq = ms.pop("sequential")
    best = min(ms, key=ms.get)
    return (f"| {r['arch']} | {r['seq_len']} | {seq:.1f} | {ms[best]:.1f} ({best}) "
            f"| {seq / ms[best]:.2f}× |")  # fmt: skip


def render() -> str:
    """The section, from every stored row."""
    out = [
        "## Recurrent cores side by side (`python -m benchmarks.architectures`)",
        "",
        "Every core through the task code a user trains with, at each task's defaults: the "
        "modern cores in residual blocks (norm, core, MLP) except in the classifiers.",
    ]
    out += _table(
        "Char LM training speed, Tiny Shakespeare, ratio to nn.LSTM in the same run",
        "throughput",
        "| size | core | hidden | parameters | tokens/s | nn.LSTM tokens/s | ratio |",
        lambda r: (
            f"| {r['millions']}M | {r['arch']} | {r['hidden']} | {r['parameters']:,} "
            f"| {r['tokens_per_s']:,.0f} | {r['lstm_tokens_per_s']:,.0f} | {r['ratio']:.2f} |"
        ),
    )
    out += _table(
        "Char LM quality within a wall-clock budget (val nats/char)",
        "charlm",
        "| size | core | layers × hidden | blocks | dropout | parameters | minutes | epochs "
        "| tokens/s | val loss |",
        lambda r: (
            f"| {r['millions']}M | {r['arch']} | {r['layers']} × {r['hidden']} | {r['block']} "
            f"| {r.get('dropout', 0.0):g} "
            f"| {r['parameters']:,} | {r['minutes']:g} | {r['epochs']} "
            f"| {r['tokens_per_s']:,.0f} | **{r['val_loss']:.3f}** |"
        ),
    )
    out += _table(
        "The adding problem (MSE; predicting 1 scores 0.167)",
        "adding",
        "| T | core | budget min | val MSE | baseline | minutes to MSE < 0.01 | ratio at init "
        "| ratio at end | steps |",
        lambda r: (
            f"| {r['seq_len']} | {r['arch']} | {r['minutes']:g} | {r['val_mse']:.4f} "
            f"| {r['baseline_mse']:.4f} | {_fmt(r['seconds_to_target'] / 60, '.1f')} "
            f"| {_fmt(r['initial_ratio'], '.1e')} | {_fmt(r['grad_ratio'], '.1e')} "
            f"| {r['steps']:,.0f} |"
        ),
    )
    out += _table(
        "rt-polarity test accuracy (the task's defaults, a time budget)",
        "sentiment",
        "| core | parameters | minutes | epochs | val acc | test acc |",
        lambda r: (
            f"| {r['arch']} | {r['parameters']:,} | {r['minutes']:g} | {r['epochs']} "
            f"| {_fmt(r['val_accuracy'], '.1%')} | {_fmt(r['test_accuracy'], '.1%')} |"
        ),
    )
    out += _table(
        "Parallel scan vs sequential mode, forward + backward (batch 8, width 256)",
        "scan",
        "| core | T | sequential ms | parallel ms (scan) | speed-up |",
        _speedup,
    )
    return "\n".join(out) + "\n"


def write() -> None:
    body = render()
    replace_section(ROOT / "BENCHMARKS.md", "architectures", body)
    replace_section(ROOT / "README.md", "architectures", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parts = parser.add_subparsers(dest="part", required=True)
    p = parts.add_parser("throughput")
    p.add_argument("--archs", nargs="+", default=list(CORES))
    p.add_argument("--sizes", nargs="+", type=float, default=list(SIZES))
    p.add_argument("--seconds", type=float, default=60.0)
    p = parts.add_parser("charlm")
    p.add_argument("--archs", nargs="+", default=["lstm", "mingru"])
    p.add_argument("--size", type=float, default=0.9)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--dropout", type=float, default=0.0)
    p = parts.add_parser("adding")
    p.add_argument("--archs", nargs="+", default=["lstm", "mingru", "lru"])
    p.add_argument("--seq-lens", nargs="+", type=int, default=[100, 200, 500, 1000])
    p.add_argument("--minutes", type=float, default=None, help="default: 10 at T>=1000, else 3")
    p = parts.add_parser("sentiment")
    p.add_argument("--archs", nargs="+", default=list(CORES))
    p.add_argument("--minutes", type=float, default=1.5)
    p = parts.add_parser("scan")
    p.add_argument("--repeats", type=int, default=3)
    parts.add_parser("write")
    args = parser.parse_args()
    started = time.strftime("%H:%M")
    print(f"{machine()}; load {os.getloadavg()[0]:.2f} at {started}", flush=True)
    {"throughput": throughput, "charlm": charlm, "adding": adding, "sentiment": sentiment,
     "scan": scan, "write": lambda _: write()}[args.part](args)  # fmt: skip


if __name__ == "__main__":
    main()
