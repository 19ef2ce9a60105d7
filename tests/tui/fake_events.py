"""Fixed, seeded training events for tests and snapshots (no torch)."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator

from tasks.engine.events import CheckpointSaved, EvalDone, Failed, Finished, Started, StepLogged

TASK_DATASETS = {
    "charlm": "tiny-shakespeare", "sentiment": "rt-polarity", "names": "names",
    "timeseries": "airline-passengers", "gradflow": "synthetic", "translation": "multi30k",
}  # fmt: skip
"""The dataset of each task's fake run (one with reference results where the task has one)."""

TRAIN_LOSS = {
    "charlm": (4.2, 1.45), "sentiment": (0.72, 0.22), "names": (2.9, 0.55),
    "timeseries": (0.9, 0.04), "gradflow": (0.3, 0.004), "translation": (6.5, 2.4),
}  # fmt: skip
"""(first, last) training loss of each task's fake run."""


def started(run_dir: str = "/runs/demo", total_steps: int = 600, task: str = "charlm") -> Started:
    return Started(
        run_dir=run_dir, task=task, arch="lstm", dataset=TASK_DATASETS[task],
        dataset_note="", parameters=3_320_129, steps_per_epoch=total_steps // 2,
        total_steps=total_steps, resumed_from_step=0, config={"epochs": 2},
    )  # fmt: skip


def steps(
    until: int,
    total: int = 600,
    every: int = 10,
    seed: int = 0,
    task: str = "charlm",
    pace: float = 1.0,
) -> Iterator[StepLogged]:
    """Smoothly falling loss with a little seeded noise (`pace` > 1: a slower learner)."""
    rng = random.Random(seed)
    first, last = TRAIN_LOSS[task]
    for step in range(every, until + 1, every):
        progress = step / total
        noise = rng.uniform(-0.04, 0.04) * (first - last) / 2.75
        loss = last + (first - last) * math.exp(-step / (90 * pace)) + noise
        yield StepLogged(
            step=step, epoch=step * 2 // total, progress=progress, loss=loss,
            lr=0.003 * (0.55 + 0.45 * math.cos(math.pi * progress)),
            grad_norm=0.4 + 0.3 * rng.random(), tokens_per_s=21_500.0,
            elapsed_s=step * 0.37, eta_s=(total - step) * 0.37,
        )  # fmt: skip


def fake_metrics(task: str, step: int, full: bool, pace: float = 1.0) -> dict[str, float]:
    """What an evaluation of `task` reports at `step`: smooth curves towards a plausible end
    (`pace` > 1: more slowly), under the keys the real task reports (a quick evaluation
    reports fewer)."""
    e = math.exp(-step / (90 * pace))
    if task == "charlm":
        val = 1.55 + 2.6 * e
        return {"val_loss": round(val, 4), "val_bpc": round(val / math.log(2), 4)}
    if task == "sentiment":
        acc, loss = 0.78 - 0.28 * e, 0.47 + 0.25 * e
        out = {"val_accuracy": acc}  # a full evaluation: validation accuracy, then test
        out |= {"test_accuracy": acc - 0.012, "test_f1": acc - 0.004, "test_loss": loss + 0.02}
        if not full:
            out = {"val_accuracy": acc, "val_loss": loss}
    elif task == "names":
        acc, loss = 0.81 - 0.34 * e, 0.66 + 2.1 * e
        out = {"val_accuracy": acc, "val_loss": loss}
        if full:
            out |= {"val_macro_f1": acc - 0.2, "test_accuracy": acc - 0.01}
            out |= {"test_macro_f1": acc - 0.22, "test_loss": loss + 0.03}
            out["majority_accuracy"] = 0.4689  # Russian, on the test part
    elif task == "timeseries":
        out = {"val_rmse": 17.5 + 110 * e, "test_rmse": 23.8 + 125 * e, "test_mae": 18 + 90 * e}
        out |= {"test_r2": 0.91 - 0.8 * e, "persistence_rmse": 46.1, "seasonal_naive_rmse": 41.92}
    elif task == "gradflow":
        val = 0.004 + 0.16 * e
        out = {"val_loss": val, "val_mse": val, "baseline_mse": 0.167}
        if full:
            out["grad_ratio"] = 0.33
    elif task == "translation":
        bleu = 31.0 - 29.0 * e
        out = {"val_bleu": bleu}
        if full:
            out |= {"test_bleu": bleu + 0.8, "test_bleu_cased": bleu + 0.5}
    else:
        raise ValueError(f"no fake metrics for {task!r}")
    return {k: round(v, 4) for k, v in out.items()}


def evals(
    until: int, every: int = 100, task: str = "charlm", pace: float = 1.0
) -> Iterator[EvalDone]:
    for step in range(every, until + 1, every):
        full = step % 300 == 0
        metrics = fake_metrics(task, step, full, pace)
        yield EvalDone(step=step, epoch=step // 300, metrics=metrics, full=full)


def run_until(step: int, total: int = 600, task: str = "charlm", pace: float = 1.0) -> list:
    """Started, then steps and evals interleaved by step, up to `step`."""
    events: list = [started(total_steps=total, task=task)]
    pending = list(evals(step, task=task, pace=pace))
    for event in steps(step, total, task=task, pace=pace):
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
