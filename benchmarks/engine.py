"""Engine overhead: our trainer vs a bare nn.LSTM loop, and the scratch backend vs fused.

Same model (char LSTM: embedding 64, hidden 256, 2 layers), batch 64, seq 128, Tiny Shakespeare,
AdamW and global-norm clipping in both. The engine is timed through `Trainer.run` (events,
history file and all); rounds alternate bare/fused/scratch so drift hits them alike.

    python -m benchmarks.engine [--seconds 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import SHAKESPEARE, machine, write_section
from tasks.charlm.task import CharLMTask
from tasks.engine.trainer import Trainer
from tasks.registry import default_config

SIZES = dict(embed=64, hidden=256, layers=2, batch=64, seq_len=128)


def config(backend: str):
    return default_config(
        "charlm", "lstm", dataset=str(SHAKESPEARE), backend=backend, epochs=100,
        eval_every_s=1e9, **SIZES,
    )  # fmt: skip


def engine_rate(backend: str, seconds: float) -> float:
    """Tokens/s through Trainer.run, from the step events after a warm-up of 3 s."""
    task = CharLMTask(config(backend))
    stop = threading.Event()
    first = last = None
    with tempfile.TemporaryDirectory() as run_dir:
        for event in Trainer(task, run_dir).run(stop):
            if event.kind != "step":
                continue
            if first is None and event.elapsed_s >= 3.0:
                first = (event.step, event.elapsed_s)
            last = (event.step, event.elapsed_s)
            if first and last[1] - first[1] >= seconds:
                stop.set()
    steps, elapsed = last[0] - first[0], last[1] - first[1]
    return steps * SIZES["batch"] * SIZES["seq_len"] / elapsed


def bare_rate(seconds: float) -> float:
    """A bare loop: nn.Embedding -> nn.LSTM -> nn.Linear, AdamW, clip, carried state."""
    torch.manual_seed(0)
    task = CharLMTask(config("fused"))  # only for its batches
    vocab = task.vocab.size
    emb, lstm = nn.Embedding(vocab, 64), nn.LSTM(64, 256, 2, batch_first=True)
    head = nn.Linear(256, vocab)
    params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
    opt = torch.optim.AdamW(params, lr=3e-3)
    state, tokens, start = None, 0, None
    for i, (x, y) in enumerate(task.batches(0) * 100):
        if i == 10:
            start, tokens = time.perf_counter(), 0
        out, state = lstm(emb(x), state)
        loss = F.cross_entropy(head(out).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        state = tuple(s.detach() for s in state)
        tokens += x.numel()
        if start and time.perf_counter() - start >= seconds:
            break
    return tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"bare": [], "fused": [], "scratch": []}
    for _ in range(args.rounds):
        rates["bare"].append(bare_rate(args.seconds))
        rates["fused"].append(engine_rate("fused", args.seconds))
        rates["scratch"].append(engine_rate("scratch", args.seconds))
        print({k: [round(v) for v in vs] for k, vs in rates.items()}, flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    write_section(
        "engine",
        f"""## Engine overhead (`python -m benchmarks.engine`)

{machine()}. Char LSTM, embedding 64, hidden 256, 2 layers, batch 64, seq 128, AdamW, clip 1.0;
median of {args.rounds} alternating rounds of {args.seconds:.0f} s each (after warm-up).

| loop | tokens/s (median) | all rounds | ratio |
|---|---:|---|---:|
| bare `nn.LSTM` loop | {med["bare"]:,.0f} | {", ".join(f"{v:,.0f}" for v in rates["bare"])} | 1.00 |
| `Trainer.run`, fused backend | {med["fused"]:,.0f} | {", ".join(f"{v:,.0f}" for v in rates["fused"])} | {med["fused"] / med["bare"]:.2f} of bare |
| `Trainer.run`, scratch backend | {med["scratch"]:,.0f} | {", ".join(f"{v:,.0f}" for v in rates["scratch"])} | {med["scratch"] / med["fused"]:.2f} of fused |

Bars: fused ≥ 0.90 of bare; scratch ≥ 0.65 of fused.""",
    )


if __name__ == "__main__":
    main()
