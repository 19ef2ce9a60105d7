"""Batch-1 generation speed: our NumPy fast path vs a naive nn.LSTM step-by-step loop.

A 2x256 char LSTM (embedding 64) with the Tiny Shakespeare vocabulary; both loops sample from
softmax(logits / 0.8) one character at a time. The naive loop is what tutorials write: an
nn.LSTM call per character under torch.no_grad(), then torch.multinomial.

    python -m benchmarks.generation [--chars 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks.common import SHAKESPEARE, machine, write_section
from models.charlm import CharRNN
from tasks.charlm.player import CharGenerator
from tasks.charlm.task import CharVocab
from tasks.engine.settings import TrainConfig


def naive_rate(model: CharRNN, chars: int, mkldnn: bool) -> float:
    gen = torch.Generator().manual_seed(0)
    x, state = torch.tensor([[0]]), None
    with torch.no_grad(), torch.backends.mkldnn.flags(enabled=mkldnn):
        start = time.perf_counter()
        for _ in range(chars):
            out, state = model.rnn(model.embed(x), state)
            probs = torch.softmax(model.head(out[:, -1]) / 0.8, dim=-1)
            x = torch.multinomial(probs, 1, generator=gen)
    return chars / (time.perf_counter() - start)


def ours_rate(generator: CharGenerator, chars: int, strategy: str) -> float:
    start = time.perf_counter()
    n = sum(1 for _ in generator.stream("\n", chars, strategy, 0.8, k=10, p=0.9, seed=0))
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    vocab = CharVocab.from_text(SHAKESPEARE.read_text())
    torch.manual_seed(0)
    model = CharRNN(vocab.size, embed=64, hidden=256, layers=2, arch="lstm").eval()
    config = TrainConfig(embed=64, hidden=256, layers=2)
    payload = {
        "config": config.to_dict(),
        "task_state": {"vocab": vocab.chars, "model": model.state_dict()},
    }
    generator = CharGenerator(payload, config)
    loops = {
        "naive nn.LSTM loop (oneDNN on, torch default)": lambda: naive_rate(
            model, args.chars, True
        ),
        "naive nn.LSTM loop (oneDNN off)": lambda: naive_rate(model, args.chars, False),
        "rnn-tui fast path, sample": lambda: ours_rate(generator, args.chars, "sample"),
        "rnn-tui fast path, top-k 10": lambda: ours_rate(generator, args.chars, "top-k"),
        "rnn-tui fast path, top-p 0.9": lambda: ours_rate(generator, args.chars, "top-p"),
        "rnn-tui fast path, greedy": lambda: ours_rate(generator, args.chars, "greedy"),
    }
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.rounds):
        for name, fn in loops.items():
            rates[name].append(fn())
    med = {k: statistics.median(v) for k, v in rates.items()}
    base = med["naive nn.LSTM loop (oneDNN on, torch default)"]
    rows = "\n".join(
        f"| {name} | {med[name]:,.0f} | {min(v):,.0f}–{max(v):,.0f} | {med[name] / base:.1f}× |"
        for name, v in rates.items()
    )
    write_section(
        "generation",
        f"""## Generation speed, batch 1 (`python -m benchmarks.generation`)

{machine()}. 2×256 char LSTM, {args.chars} characters per round, {args.rounds} rounds
(alternating), temperature 0.8. Bar: the fast path ≥ 2× the naive loop.

| loop | chars/s (median) | range | vs naive |
|---|---:|---|---:|
{rows}""",
    )


if __name__ == "__main__":
    main()
