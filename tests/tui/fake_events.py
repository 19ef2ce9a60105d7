"""Fixed, seeded training events for tests and snapshots (no torch)."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator

from tasks.engine.events import CheckpointSaved, EvalDone, Failed, Finished, Started, StepLogged


def started(run_dir: str = "/runs/demo", total_steps: int = 600) -> Started:
    return Started(
        run_dir=run_dir, task="charlm", arch="lstm", dataset="tiny-shakespeare",
        dataset_note="", parameters=3_320_129, steps_per_epoch=total_steps // 2,
        total_steps=total_steps, resumed_from_step=0, config={"epochs": 2},
    )  # fmt: skip


def steps(until: int, total: int = 600, every: int = 10, seed: int = 0) -> Iterator[StepLogged]:
    """Smoothly falling loss with a little seeded noise."""
    rng = random.Random(seed)
    for step in range(every, until + 1, every):
        progress = step / total
        loss = 1.45 + 2.75 * math.exp(-step / 90) + rng.uniform(-0.04, 0.04)
        yield StepLogged(
            step=step, epoch=step * 2 // total, progress=progress, loss=loss,
            lr=0.003 * (0.55 + 0.45 * math.cos(math.pi * progress)),
            grad_norm=0.4 + 0.3 * rng.random(), tokens_per_s=21_500.0,
            elapsed_s=step * 0.37, eta_s=(total - step) * 0.37,
        )  # fmt: skip


def evals(until: int, every: int = 100) -> Iterator[EvalDone]:
    for step in range(every, until + 1, every):
        val = 1.55 + 2.6 * math.exp(-step / 90)
        yield EvalDone(step=step, epoch=step // 300, metrics={"val_loss": round(val, 4),
                       "val_bpc": round(val / math.log(2), 4)}, full=step % 300 == 0)  # fmt: skip


def run_until(step: int, total: int = 600) -> list:
    """Started, then steps and evals interleaved by step, up to `step`."""
    events: list = [started(total_steps=total)]
    pending = list(evals(step))
    for event in steps(step, total):
        events.append(event)
        while pending and pending[0].step <= event.step:
            events.append(pending.pop(0))
    return events


class FakeTrainer:
    """Stands in for the engine's `Trainer`: scripted events, honouring pause, save and stop."""

    def __init__(
        self, events: list, delay: float = 0.0, run_dir: str = "/runs/demo", hold: bool = False
    ) -> None:
        self.events = list(events)
        self.hold = hold
        """After the scripted events, wait (honouring pause and save) until stopped."""
        self.delay = delay
        self.run_dir = run_dir
        self.pause = threading.Event()
        self.save_requested = threading.Event()
        self.saves = 0

    def run(self, stop: threading.Event) -> Iterator:
        last_step = 0
        events = iter(self.events)
        while True:
            event = next(events, None)
            if event is None and not self.hold:
                return
            while (self.pause.is_set() or event is None) and not stop.is_set():
                if self.save_requested.is_set() and not self.pause.is_set():
                    break
                stop.wait(0.01)  # returns at once when stopped
            if stop.is_set():
                yield CheckpointSaved(last_step, f"{self.run_dir}/last.pt", "stop")
                yield Finished(self.run_dir, f"{self.run_dir}/last.pt", {"val_loss": 2.0}, True)
                return
            if self.save_requested.is_set():
                self.save_requested.clear()
                self.saves += 1
                yield CheckpointSaved(last_step, f"{self.run_dir}/last.pt", "manual")
            if event is None:
                continue
            last_step = getattr(event, "step", last_step)
            yield event
            if self.delay:
                time.sleep(self.delay)


def nan_failure(step: int = 120) -> Failed:
    return Failed(
        step=step,
        reason=f"loss became nan at step {step + 1}; training stopped (try a lower --lr or a "
        "--clip value)",
        checkpoint="/runs/demo/last.pt",
    )


class FakeGenerator:
    """Stands in for `tasks.charlm.player.CharGenerator`: a fixed text with seeded probabilities."""

    TEXT = (
        "ROMEO:\nWhat light through yonder window breaks? It is the east, and Juliet is "
        "the sun.\n\nJULIET:\nO Romeo, Romeo, wherefore art thou Romeo?\n"
    )

    class config:
        arch, layers, hidden = "lstm", 2, 512

    class vocab:
        size = 65

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[dict] = []

    def describe(self) -> str:
        return "lstm · 2×512 · 65 characters"

    def stream(self, prime="\n", length=500, strategy="top-p", temperature=1.0, k=None, p=None,
               seed=None):  # fmt: skip
        self.calls.append(dict(prime=prime, length=length, strategy=strategy,
                               temperature=temperature, k=k, p=p, seed=seed))  # fmt: skip
        rng = random.Random(seed)
        for i in range(length):
            if self.delay:
                time.sleep(self.delay)
            yield self.TEXT[i % len(self.TEXT)], round(rng.random() ** 0.5, 3)
