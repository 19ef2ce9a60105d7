"""Character LM quality within a wall-clock budget, through the real command line.

1. The bar: a 2-layer LSTM on Tiny Shakespeare (90/10 split) for 10 minutes, defaults otherwise.
2. The defaults a new user gets, `rnn-tui train charlm --dataset FILE --minutes 4`, on Tiny
   Shakespeare and on a second English text of about 1 MB (IMDB movie reviews, one per line).

    python -m benchmarks.charlm [--bar-minutes 10] [--default-minutes 4] [--only bar|defaults]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from benchmarks.common import SHAKESPEARE, SHARED_DATA, machine, write_section
from tasks.data.catalogue import get_dataset

PLAIN_LSTM = "plain 2×512 LSTM here 1.48"
"""Measured here before the defaults were chosen (not a chart line)."""


def anchors() -> str:
    """The results declared with Tiny Shakespeare (its chart lines), then `PLAIN_LSTM`."""
    declared = [f"{r.label} {r.value:g}" for r in get_dataset("tiny-shakespeare").references]
    return " · ".join([*declared, PLAIN_LSTM])


def imdb_text(size: int = 1_100_000) -> str:
    """About 1 MB of IMDB training reviews, one per line, HTML line breaks removed."""
    reviews, total = [], 0
    with tarfile.open(SHARED_DATA / "imdb" / "aclImdb_dax44.tar.gz") as archive:
        for member in archive:
            if not re.match(r"aclImdb/train/(pos|neg)/\d+_\d+\.txt$", member.name):
                continue
            text = archive.extractfile(member).read().decode("utf-8")
            text = re.sub(r"<br\s*/?>", " ", text).strip()
            reviews.append(text)
            total += len(text) + 1
            if total >= size:
                break
    return "\n".join(reviews) + "\n"


def train(dataset: Path, *options: str) -> dict:
    """Run `rnn-tui train charlm ... --json`; the finished event plus the started one."""
    command = [sys.executable, "-m", "tui.cli", "train", "charlm", "--dataset", str(dataset),
               *options, "--json"]  # fmt: skip
    print("$", " ".join(command[2:]), flush=True)
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([*command, "--out", f"{out}/run"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    evals = [e for e in events if e["event"] == "eval"]
    result = {"started": events[0], "finished": events[-1], "evals": evals}
    print(json.dumps(events[-1]["metrics"]), flush=True)
    return result


def row(name: str, result: dict) -> str:
    m, s = result["finished"]["metrics"], result["started"]
    c = s["config"]
    return (
        f"| {name} | {c['arch']} {c['layers']}×{c['hidden']}, emb {c['embed']}, batch {c['batch']}, "
        f"seq {c['seq_len']}, lr {c['lr']:g} | {s['parameters']:,} | {m['wall_s']:.0f} | "
        f"{m['train_tokens_per_s']:,.0f} | **{m['val_loss']:.3f}** | {m['val_bpc']:.3f} |"
    )


HEADER = (
    "| run | model | parameters | wall s | train tokens/s | val_loss (nats/char) | val_bpc |\n"
    "|---|---|---:|---:|---:|---:|---:|"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bar-minutes", type=float, default=10.0)
    parser.add_argument("--default-minutes", type=float, default=4.0)
    parser.add_argument("--only", choices=["bar", "defaults"])
    args = parser.parse_args()
    if args.only != "defaults":
        bar = train(
            SHAKESPEARE, "--arch", "lstm", "--layers", "2", "--minutes", str(args.bar_minutes)
        )
        write_section(
            "charlm-bar",
            f"""## Char LM: 2-layer LSTM on Tiny Shakespeare in {args.bar_minutes:g} minutes (`python -m benchmarks.charlm --only bar`)

{machine()}. `rnn-tui train charlm --dataset tiny-shakespeare/input.txt --arch lstm --layers 2
--minutes {args.bar_minutes:g}`; the budget is wall-clock time including evaluation. Validation: the last
10% of the text, stateful. Bar ≤ 1.50; anchors on the same split: {anchors()}.

{HEADER}
{row("2-layer LSTM, " + f"{args.bar_minutes:g} min", bar)}""",
        )
    if args.only != "bar":
        with tempfile.TemporaryDirectory() as tmp:
            reviews = Path(tmp) / "imdb-reviews.txt"
            reviews.write_text(imdb_text())
            minutes = str(args.default_minutes)
            shakespeare = train(SHAKESPEARE, "--minutes", minutes)
            imdb = train(reviews, "--minutes", minutes)
        write_section(
            "charlm-defaults",
            f"""## Char LM: the defaults, `rnn-tui train charlm --dataset FILE --minutes {args.default_minutes:g}` (`python -m benchmarks.charlm --only defaults`)

{machine()}. No other options. Two English texts of about 1 MB: Tiny Shakespeare (a play
script) and the first 1.1 MB of IMDB training reviews (modern prose, one review a line).

{HEADER}
{row("Tiny Shakespeare", shakespeare)}
{row("IMDB reviews (1.1 MB)", imdb)}""",
        )


if __name__ == "__main__":
    main()
