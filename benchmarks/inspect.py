"""What trained models store and what their verdicts rest on (issue 15's figures).

    .venv/bin/python -m benchmarks.inspect charlm RUN_DIR [RUN_DIR ...]
    .venv/bin/python -m benchmarks.inspect sentiment RUN_DIR [--reviews 500] [--k 5]
    .venv/bin/python -m benchmarks.inspect write

``charlm`` traces each char model over its run's validation text (first 100,000 characters, as
`rnn-tui inspect` does) and records, per built-in text feature, the unit (h or c) with the
largest |correlation|, the gate saturation per layer and gate, and the trace's wall time.
``sentiment`` runs the faithfulness check: the mean drop in the predicted label's probability
when the top-k tokens by integrated gradients, gradient x input and attention are removed, and
when k random tokens are. The runs are ordinary `rnn-tui train` runs (their commands are in
the section); rows are kept in `RESULTS` and ``write`` rewrites the "inspect" section of
BENCHMARKS.md from them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, SHARED_DATA, machine, write_section

RESULTS = ROOT / "benchmarks" / "inspect_results.json"


def _load(run: str) -> tuple[dict[str, Any], Any]:
    from tasks.engine.checkpoint import load_checkpoint
    from tasks.registry import config_from_dict

    payload = load_checkpoint(run)
    return payload, config_from_dict(payload["config"])


def _store(key: str, row: dict[str, Any]) -> None:
    rows = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows[key] = row
    RESULTS.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")


def charlm(args: argparse.Namespace) -> None:
    from models.inspect.features import FEATURES
    from models.inspect.ranking import best_per_feature
    from models.inspect.saturation import saturation
    from tasks.charlm.inspect import trace_charlm
    from tasks.inspect_inputs import inspection_text

    for run in args.runs:
        payload, config = _load(run)
        text, source = inspection_text(config)
        started = time.perf_counter()
        trace = trace_charlm(payload, config, text)
        seconds = time.perf_counter() - started
        best = best_per_feature(trace)
        row = {
            "machine": machine(),
            "load": os.getloadavg()[0],
            "run": Path(run).name,
            "model": f"{config.arch} {config.layers}×{config.hidden}, dropout {config.dropout:g}",
            "dataset": config.dataset,
            "val_loss": payload.get("metrics", {}).get("val_loss"),
            "source": source,
            "trace_s": seconds,
            "features": {
                name: None if name not in best else {
                    "layer": best[name].layer + 1, "unit": best[name].unit + 1,
                    "kind": best[name].kind, "r": best[name].correlation,
                } for name in FEATURES
            },
            "saturation": [
                {"layer": s.layer + 1, "gate": s.gate, "left": float(s.left.mean()),
                 "right": float(s.right.mean()),
                 "units_left": float((s.left > 0.5).mean()),
                 "units_right": float((s.right > 0.5).mean())}
                for s in saturation(trace)
            ],
        }  # fmt: skip
        print(json.dumps(row, indent=1), flush=True)
        _store(f"charlm/{config.dataset}", row)


def sentiment(args: argparse.Namespace) -> None:
    from tasks.engine.player import load_player
    from tasks.inspect_inputs import inspection_reviews
    from tasks.sentiment.explain import faithfulness

    predictor = load_player(args.run, "sentiment")
    texts, _, source = inspection_reviews(predictor.config, args.reviews)
    started = time.perf_counter()
    result = faithfulness(predictor, texts, k=args.k, seed=0)
    row = {
        "machine": machine(),
        "load": os.getloadavg()[0],
        "run": Path(args.run).name,
        "model": predictor.describe(),
        "test_accuracy": predictor.metrics.get("test_accuracy"),
        "source": source,
        "k": result.k,
        "reviews": result.reviews,
        "drop": result.drop,
        "seconds": time.perf_counter() - started,
    }
    print(json.dumps(row, indent=1), flush=True)
    _store(f"sentiment/{predictor.config.dataset}", row)


def _charlm_table(row: dict[str, Any]) -> list[str]:
    from models.inspect.features import FEATURES

    lines = [
        f"**{row['model']}**, `{row['dataset']}` (val loss {row['val_loss']:.3f}), traced over "
        f"{row['source']} in {row['trace_s']:.1f} s.",
        "",
        "| feature | what it marks | best unit (layer:unit, kind) | correlation |",
        "|---|---|---|---:|",
    ]
    for name, what in FEATURES.items():
        best = row["features"].get(name)
        found = (
            "– (constant: not in this text) | –"
            if best is None
            else f"{best['layer']}:{best['unit']} {best['kind']} | {best['r']:+.3f}"
        )
        lines.append(f"| {name} | {what} | {found} |")
    lines += [
        "",
        "| layer | gate | mean time < 0.1 | mean time > 0.9 | units < 0.1 over half the time "
        "| units > 0.9 over half the time |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for s in row["saturation"]:
        lines.append(
            f"| {s['layer']} | {s['gate']} | {s['left']:.3f} | {s['right']:.3f} "
            f"| {s['units_left']:.0%} | {s['units_right']:.0%} |"
        )
    return lines


def write(_: argparse.Namespace) -> None:
    rows = json.loads(RESULTS.read_text())
    charlms = [r for k, r in sorted(rows.items(), key=lambda kv: "shakespeare" not in kv[0])
               if k.startswith("charlm/")]  # fmt: skip
    sentiments = [r for k, r in sorted(rows.items()) if k.startswith("sentiment/")]
    lines = [
        "## Inside the network (`python -m benchmarks.inspect`)",
        "",
        "What `rnn-tui inspect RUN` prints, on models trained with the defaults for 10 minutes "
        "(`rnn-tui train charlm --minutes 10`, and `--dataset pydoc-prose`, whose Python prose "
        "has the quotes and brackets Tiny Shakespeare lacks). Correlation is Pearson's r "
        "between a unit's value after each character and the feature at that character, over "
        "every unit's h and c in every layer. Saturation is the paper's measure (Karpathy, "
        "Johnson & Fei-Fei 2015): the fraction of steps a gate is below 0.1 or above 0.9, "
        "averaged over the units, and the share of units saturated more than half the time.",
        "",
    ]
    for row in charlms:
        lines += [*_charlm_table(row), ""]
    if charlms:
        lines.append(f"Machine: {charlms[0]['machine']}; load average at the starts "
                     + ", ".join(f"{r['load']:.1f}" for r in charlms) + ".")  # fmt: skip
        lines.append("")
    for row in sentiments:
        k = row["k"]
        lines += [
            f"### Faithfulness of explanations: {row['model']} (test accuracy "
            f"{row['test_accuracy']:.3f}), {row['source']}",
            "",
            f"Mean drop in the predicted label's probability when each method's top {k} tokens "
            f"are removed from a review (over {row['reviews']} reviews with more than {k} "
            f"tokens), against {k} random tokens; larger means the method found tokens the "
            "verdict rests on (Jain & Wallace 2019's question).",
            "",
            "| tokens removed | mean probability drop |",
            "|---|---:|",
        ]
        for method, drop in sorted(row["drop"].items(), key=lambda kv: -kv[1]):
            lines.append(f"| top {k} by {method} | {drop:+.3f} |" if method != "random"
                         else f"| {k} random tokens | {drop:+.3f} |")  # fmt: skip
        lines += ["", f"{row['seconds']:.0f} s; machine: {row['machine']}; load average "
                  f"{row['load']:.1f} at the start.", ""]  # fmt: skip
    write_section("inspect", "\n".join(lines))


def main() -> None:
    os.environ.setdefault("RNN_TUI_DATA", str(SHARED_DATA))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="part", required=True)
    p = sub.add_parser("charlm")
    p.add_argument("runs", nargs="+")
    p.set_defaults(func=charlm)
    p = sub.add_parser("sentiment")
    p.add_argument("run")
    p.add_argument("--reviews", type=int, default=500)
    p.add_argument("--k", type=int, default=5)
    p.set_defaults(func=sentiment)
    sub.add_parser("write").set_defaults(func=write)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    args.func(args)


if __name__ == "__main__":
    main()
