"""Generating text with a charlm checkpoint: a prime in, a continuation out (a `Player`).

The weights of a classic cell run in NumPy (`models.stepper`); a modern core (or a classic cell
in residual blocks) runs through its own `step` in torch (`models.stepper.CoreStepper`, the
prime read with one `forward`). One character at a time for the Play screen's stream; for a
file of primes all continuations step together as one batch. Each prime has its own random
generator seeded with `seed`, so a prime's continuation is the same alone or in a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.charlm.task import CharVocab, build_model
from tasks.engine.player import DEFAULT_BATCH, check_each, chunks


@dataclass(frozen=True)
class Generation:
    """A continuation of one prime, with the probability of each character chosen."""

    prime: str
    text: str
    """The generated characters (without the prime)."""
    probabilities: list[float]
    """One per character of `text`: its probability under the distribution it was drawn from."""

    def to_dict(self) -> dict[str, Any]:
        mean = sum(self.probabilities) / len(self.probabilities) if self.probabilities else None
        return {
            "prime": self.prime,
            "text": self.text,
            "mean_probability": None if mean is None else round(mean, 5),
            "probabilities": [round(p, 5) for p in self.probabilities],
        }

    def to_text(self) -> str:
        """Prime and continuation on one line: backslashes and line breaks escaped (\\n, \\r)."""
        whole = self.prime + self.text
        return whole.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


class CharGenerator:
    """Streams text from a charlm checkpoint, one character at a time, with its probability.

    Options (used by `answer` and `answer_many`; `stream` takes its own): `length` characters
    after the prime, the sampling `strategy`, `temperature`, `k` (top-k), `p` (top-p), `seed`.
    """

    def __init__(
        self,
        payload: dict[str, Any],
        config: Any,
        *,
        length: int = 500,
        strategy: str = "top-p",
        temperature: float = 0.8,
        k: int = 10,
        p: float = 0.9,
        seed: int = 0,
    ) -> None:
        from models.stepper import CoreStepper, make_stepper, steps_in_numpy

        self.config = config
        self.metrics: dict[str, Any] = dict(payload.get("metrics", {}))
        state = payload["task_state"]
        self.vocab = CharVocab(state["vocab"])
        self.stepper: Any
        if steps_in_numpy(config.arch, config.block):
            self.stepper = make_stepper(config.arch, state["model"])
        else:
            model = build_model(config, self.vocab.size)
            model.load_state_dict(state["model"])
            self.stepper = CoreStepper(model)
        if length < 0:
            raise ValueError(f"--length must be >= 0 (got {length})")
        self.settings: dict[str, Any] = dict(
            length=length, strategy=strategy, temperature=temperature, k=k, p=p, seed=seed
        )

    def describe(self) -> str:
        """`lstm · 2×256 · 65 characters`."""
        c = self.config
        return f"{c.arch} · {c.layers}×{c.hidden} · {self.vocab.size} characters"

    def stream(
        self,
        prime: str = "\n",
        length: int = 500,
        strategy: str = "top-p",
        temperature: float = 1.0,
        k: int | None = None,
        p: float | None = None,
        seed: int | None = None,
    ) -> Iterator[tuple[str, float]]:
        """Yield (character, probability of that choice) `length` times after reading `prime`."""
        import torch

        from tasks.charlm.sampling import sample_next

        ids = self._encode(prime)
        if length < 0:
            raise ValueError(f"--length must be >= 0 (got {length})")
        generator = torch.Generator().manual_seed(seed if seed is not None else 0)
        logits, state = self.stepper.read(ids)
        for _ in range(length):
            index, prob = sample_next(
                torch.from_numpy(logits), strategy, temperature, k=k, p=p, generator=generator
            )
            ix = int(index)
            yield self.vocab.chars[ix], float(prob)
            logits, state = self.stepper.step(ix, state)

    def _encode(self, prime: str) -> np.ndarray:
        if not prime:
            raise ValueError("the prime text is empty: give at least one character")
        return self.vocab.encode(prime)

    def answer(self, text: str) -> Generation:
        """The continuation of one prime, with the generator's options (as `stream` would give)."""
        return self._generate([text], [self._encode(text)])[0]

    def answer_many(
        self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH
    ) -> Iterator[Generation]:
        """Continuations of many primes; each group steps as one batch (see the module doc)."""
        for start, group in chunks(texts, batch_size):
            encoded = check_each(start, group, self._encode)
            yield from self._generate(group, encoded)

    def _generate(self, primes: list[str], encoded: list[np.ndarray]) -> list[Generation]:
        """Read each prime, then sample all continuations together, `length` steps."""
        import torch

        from tasks.charlm.sampling import sample_next

        s = self.settings
        logits, state = self.stepper.read_many(encoded)  # (B, V)
        generators = [torch.Generator().manual_seed(s["seed"]) for _ in primes]
        chosen = np.zeros((len(primes), s["length"]), dtype=np.int64)
        probs = np.zeros((len(primes), s["length"]))
        for t in range(s["length"]):
            for b, generator in enumerate(generators):  # each prime draws from its own stream
                index, prob = sample_next(
                    torch.from_numpy(logits[b]), s["strategy"], s["temperature"],
                    k=s["k"], p=s["p"], generator=generator,
                )  # fmt: skip
                chosen[b, t], probs[b, t] = int(index), float(prob)
            if t + 1 < s["length"]:
                logits, state = self.stepper.step_many(chosen[:, t], state)
        return [
            Generation(prime, self.vocab.decode(chosen[b].tolist()), probs[b].tolist())
            for b, prime in enumerate(primes)
        ]
