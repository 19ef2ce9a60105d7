"""Translation quality: Multi30k de-en, GRU encoder-decoder without vs with attention.

    cpu-slot --exclusive bash -c 'rnn-tui train translation --dataset multi30k --minutes 43.5 \\
        --threads 1 --out BAR & python -m benchmarks.translation run --attention none \\
        --minutes 43.5 --threads 1 --out NONE; wait'
    .venv/bin/python -m benchmarks.translation report --bar BAR --compare NONE

`run` trains one variant with the task's defaults (bidirectional GRU encoder, Luong decoder),
a budget, seed and thread count, into a run folder; separate processes let two variants train
side by side, one per core. `report` reads run folders (`rnn-tui train translation` writes the
same ones) and writes the "translation" sections of BENCHMARKS.md and README.md: test2016 BLEU
greedy and beam 5, lower-cased and cased (sacreBLEU 13a on detokenized output), training time
and tokens/s, beside the reference numbers.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from benchmarks.common import ROOT, SHARED_DATA, machine, replace_section, write_section

MEASURED_HERE = (
    "plain bi-GRU + Luong attention, greedy, 40 min on this CPU (a reference run)",
    "32.2",
)
"""A result measured on this machine before the defaults were chosen (not a chart line)."""
PAUSE_S = 60.0
"""A gap this long between two logged steps is a pause (a stopped process), not training."""


def references() -> list[tuple[str, str]]:
    """(who, BLEU) of the results declared with Multi30k (its chart lines), then ours."""
    from tasks.data.catalogue import get_dataset

    declared = get_dataset("multi30k").references
    return [(f"{r.label}, {r.source}", f"{r.value:g}") for r in declared] + [MEASURED_HERE]


def run(attention: str, minutes: float, threads: int, seed: int, out: Path) -> dict[str, float]:
    """Train one variant into `out`; its final metrics."""
    import torch

    from tasks.engine.trainer import Trainer
    from tasks.registry import create_task, default_config

    torch.set_num_threads(threads)
    config = default_config(
        "translation", "gru", dataset="multi30k", minutes=minutes, threads=threads, seed=seed,
        attention=attention != "none", attention_type=attention, eval_every_s=1e9, beam=5,
    )  # fmt: skip
    config.log_every_s = 5.0
    for event in Trainer(create_task(config), out).run():
        if event.kind == "finished":
            return dict(event.metrics)
        if event.kind == "failed":
            raise RuntimeError(event.reason)
    raise RuntimeError("the run ended without a finished event")


def training_time(run_dir: Path) -> tuple[float, float, float]:
    """(seconds spent training, seconds paused, mean tokens/s) from a run's step events."""
    steps = [
        event
        for line in (run_dir / "history.jsonl").read_text().splitlines()
        if (event := json.loads(line))["event"] == "step"
    ]
    seconds, paused, previous = 0.0, 0.0, 0.0
    for event in steps:
        gap = event["elapsed_s"] - previous
        if gap < PAUSE_S:
            seconds += gap
        else:
            paused += gap
        previous = event["elapsed_s"]
    rates = [e["tokens_per_s"] for e in steps if e["tokens_per_s"] > 0]
    return seconds, paused, sum(rates) / max(len(rates), 1)


def run_result(run_dir: Path) -> dict:
    """What a row shows, from a run folder."""
    from tasks.registry import config_from_dict, create_task

    summary = json.loads((run_dir / "summary.json").read_text())
    config = config_from_dict(summary["config"])
    task = create_task(config)
    per_epoch = len(task.batches(0))
    seconds, paused, rate = training_time(run_dir)
    return {
        "config": config,
        "parameters": task.parameter_count(),
        "epochs": summary["step"] / per_epoch,
        "train_s": seconds,
        "paused_s": paused,
        "wall_s": summary["metrics"]["wall_s"] - paused,
        "tokens_per_s": rate,
        "metrics": summary["metrics"],
    }


def _row(name: str, r: dict) -> str:
    m, c = r["metrics"], r["config"]
    budget = f"{r['train_s'] / 60:.1f} min, {c.threads} thread"
    return (
        f"| {name} | {budget} | {r['parameters'] / 1e6:.1f}M | {r['epochs']:.1f} | "
        f"{r['tokens_per_s']:,.0f} | {m['test_bleu_greedy']:.1f} | **{m['test_bleu']:.1f}** | "
        f"{m['test_bleu_greedy_cased']:.1f} / {m['test_bleu_cased']:.1f} | {r['wall_s']:,.0f} |"
    )


def _kind(config: object) -> str:
    return config.attention_type if config.attention else "none"  # type: ignore[attr-defined]


def _name(config: object) -> str:
    kind = _kind(config)
    return {"none": "bi-GRU encoder-decoder, no attention",
            "dot": "bi-GRU + Luong (dot) attention",
            "additive": "bi-GRU + additive (Bahdanau) attention"}[kind]  # fmt: skip


def report(bar: Path | None, compare: list[Path]) -> None:
    """Write the sections from the bar run and the comparison runs."""
    header = [
        "| model (Multi30k de→en) | trained | params | epochs | train tok/s | "
        "test BLEU greedy | test BLEU beam 5 | cased greedy / beam | wall s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows, lines, runs = [], [], []
    if bar is not None:
        b = run_result(bar)
        c = b["config"]
        rows.append(_row(f"**bar run**: {_name(c)}", b))
        runs.append(b)
        lines.append(
            f"Bar run: `rnn-tui train translation --dataset multi30k --minutes {c.minutes:g} "
            f"--threads {c.threads} --eval-every {c.eval_every_s:g} --beam {c.beam}` with the "
            f"task's defaults (embed {c.embed}, hidden {c.hidden} per direction, dropout "
            f"{c.dropout}, AdamW lr {c.lr:g} with cosine decay, batch {c.batch}, label smoothing "
            f"{c.label_smoothing}, min freq {c.min_freq}), holding the whole machine "
            "(`cpu-slot --exclusive`); wall s counts training, quick validation estimates and "
            "the final evaluation (val greedy, test beam 5 and greedy)."
        )
    for run_dir in compare:
        r = run_result(run_dir)
        early = " (stopped early)" if r["paused_s"] > 0 else ""
        rows.append(_row(_name(r["config"]) + early, r))
        runs.append(r)
    for minutes in dict.fromkeys(r["config"].minutes for r in runs):
        group = {_kind(r["config"]): r for r in runs if r["config"].minutes == minutes}
        if "none" in group and "dot" in group:
            on, off = group["dot"], group["none"]
            beam = on["metrics"]["test_bleu"] - off["metrics"]["test_bleu"]
            greedy = on["metrics"]["test_bleu_greedy"] - off["metrics"]["test_bleu_greedy"]
            how = (
                f"both stopped together after {on['train_s'] / 60:.0f} min of training, before "
                "the learning rate decayed"
                if on["paused_s"] > 0
                else f"a {minutes:g}-minute budget each"
            )
            lines.append(
                f"Attention on vs off, same settings, trained side by side (one thread each, "
                f"whole machine held), {how}: **{beam:+.1f} BLEU** with beam search, "
                f"{greedy:+.1f} greedy."
            )
    body = "\n".join(
        [
            "## Translation (Multi30k de→en, test2016 BLEU)",
            "",
            f"Machine: {machine()}.",
            "",
            "BLEU is sacreBLEU `nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:2.6.0` on "
            "detokenized, lower-cased output (the reference numbers are lower-cased); *cased* "
            "compares our output, first letter capitalised, with the cased references. Greedy and "
            "beam search (width 5, length-normalised) decode the same checkpoint. Other "
            "engineers' short test runs shared the two cores at times, so tokens/s is below what "
            "an idle core gives. `trained` and `wall s` leave out the time a run was stopped.",
            "",
            *header,
            *rows,
            "",
            *[line + "\n" for line in lines],
            "| reference (same data, test2016) | BLEU |",
            "|---|---:|",
            *(f"| {name} | {value} |" for name, value in references()),
            "",
            "Reproduce: see `benchmarks/translation.py`.",
        ]
    )
    write_section("translation", body)
    replace_section(ROOT / "README.md", "translation", body.replace("## ", "### ", 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train one variant into a run folder")
    r.add_argument("--attention", choices=["none", "dot", "additive"], required=True)
    r.add_argument("--minutes", type=float, default=12.0)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--seed", type=int, default=1337)
    r.add_argument("--out", type=Path, required=True, help="the run folder")
    rep = sub.add_parser("report", help="write the BENCHMARKS.md and README.md sections")
    rep.add_argument("--bar", type=Path, help="the bar run's folder")
    rep.add_argument("--compare", type=Path, nargs="*", default=[], help="equal-budget runs")
    args = parser.parse_args()
    os.environ.setdefault("RNN_TUI_DATA", str(SHARED_DATA))
    if args.command == "run":
        print(json.dumps(run(args.attention, args.minutes, args.threads, args.seed, args.out)))
    else:
        report(args.bar, args.compare)


if __name__ == "__main__":
    main()
