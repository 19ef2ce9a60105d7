"""Helpers for the app's tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen


def screen_text(app: App) -> str:
    """The screen as plain text, one line per row (what a person would read)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
        await pilot.pause(0.05)


async def wait_until_ready(pilot: Pilot, screen: Screen, timeout: float = 30.0) -> None:
    """Until a Play screen has taken its loaded model (its status line says ready): the model
    object is set in the loading thread a moment before the screen sets up its widgets."""
    from textual.widgets import Static

    status = screen.query_one("#play-status", Static)
    await wait_for(pilot, lambda: str(status.render()).startswith("ready: "), timeout)


async def set_value(pilot: Pilot, selector: str, value: object) -> None:
    """Set the `value` of the widget `selector` on the current screen and let the app react."""
    pilot.app.screen.query_one(selector).value = value
    await pilot.pause()


async def train_through_the_app(
    pilot: Pilot,
    data: Path,
    sizes: dict[str, str],
    settings: dict[str, str],
    arch: str | None = None,
):
    """From Home (task highlighted): enter -> Architecture (`arch`, `sizes`) -> Configure (`data`
    as a local path, `settings`) -> Train; the finished Train screen."""
    from tui.screens.architecture import ArchitectureScreen
    from tui.screens.configure import ConfigureScreen
    from tui.screens.train import TrainScreen
    from tui.widgets.arch_list import ArchList

    app = pilot.app
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ArchitectureScreen))
    if arch is not None:
        archs = app.screen.query_one(ArchList)
        archs.highlighted = archs.get_option_index(arch)
        await pilot.pause()
    for name, value in sizes.items():
        await set_value(pilot, f"#field-{name}-input", value)
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfigureScreen))
    await set_value(pilot, "#dataset", "local path")
    await set_value(pilot, "#dataset-path", str(data))
    for name, value in settings.items():
        await set_value(pilot, f"#field-{name}-input", value)
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
    screen = app.screen
    await wait_for(pilot, lambda: screen.state in ("finished", "failed"), 60)
    assert screen.state == "finished", screen.failure
    return screen


async def train_and_play(pilot: Pilot, task: str, data: Path, play: type[Screen]) -> Screen:
    """From Home just opened: choose `task`, train a tiny model on `data` through the app (one
    layer of 8, embed 8, batch 16, 2 epochs, 1 thread) and press g; the `play` screen, ready."""
    from textual.widgets import OptionList

    app = pilot.app
    await pilot.pause()
    tasks = app.screen.query_one("#tasks", OptionList)
    ids = [tasks.get_option_at_index(i).id for i in range(tasks.option_count)]
    tasks.highlighted = ids.index(task)
    await pilot.pause()
    sizes = {"hidden": "8", "layers": "1", "embed": "8"}
    settings = {"batch": "16", "epochs": "2", "threads": "1"}
    await train_through_the_app(pilot, data, sizes, settings)
    await pilot.press("g")
    await wait_for(pilot, lambda: isinstance(app.screen, play))
    screen = app.screen
    await wait_until_ready(pilot, screen)
    return screen


def sent(messages: list, kind: type) -> list:
    """The messages of a kind from a `message_hook` log, each once (they repeat as they bubble)."""
    unique: dict[int, object] = {}
    for message in messages:
        if isinstance(message, kind):
            unique.setdefault(id(message), message)
    return list(unique.values())


def tiny_config(path: Path, epochs: int = 1, **overrides):
    """A charlm config that trains on `path` in about a second (one torch thread)."""
    from tasks.registry import default_config

    values = dict(
        dataset=str(path), hidden=32, layers=1, embed=16, batch=8, seq_len=32, epochs=epochs,
        threads=1, warmup_steps=5,
    )  # fmt: skip
    values.update(overrides)
    return default_config("charlm", "lstm", **values)


def write_fake_run(
    root: Path,
    name: str,
    arch: str,
    started: str,
    final: float,
    status: str = "finished",
    steps: int = 400,
    dataset: str = "tiny-shakespeare",
) -> Path:
    """A run folder with a summary and a smooth, seeded loss history (no torch, no checkpoint)."""

    rng = random.Random(name)
    run = root / name
    run.mkdir(parents=True)
    lines = []
    for step in range(10, steps + 1, 10):
        loss = final + (4.2 - final) * math.exp(-step / (steps / 5)) + rng.uniform(-0.05, 0.05)
        lines.append({"event": "step", "step": step, "epoch": 0, "progress": step / steps,
                      "loss": loss, "lr": 0.003, "grad_norm": 0.5, "tokens_per_s": 20000.0,
                      "elapsed_s": step / 10, "eta_s": 1.0})  # fmt: skip
        if step % 100 == 0:
            val = final + 0.08 + (4.2 - final) * math.exp(-step / (steps / 5))
            lines.append({"event": "eval", "step": step, "epoch": step // 200,
                          "metrics": {"val_loss": val, "val_bpc": val / math.log(2)},
                          "full": True})  # fmt: skip
    lines.append(
        {
            "event": "eval",
            "step": steps,
            "epoch": 2,
            "full": True,
            "metrics": {"val_loss": final + 0.08, "val_bpc": (final + 0.08) / math.log(2)},
        }
    )
    (run / "history.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    config = {"task": "charlm", "arch": arch, "dataset": dataset, "layers": 2, "hidden": 256,
              "embed": 64, "lr": 0.003, "schedule": "cosine", "batch": 64, "seq_len": 128,
              "epochs": 2}  # fmt: skip
    summary = {"task": "charlm", "arch": arch, "dataset": dataset, "status": status,
               "reason": None, "step": steps, "epoch": 2 if status == "finished" else 1,
               "metrics": {"val_loss": final + 0.08, "val_bpc": round((final + 0.08) / 0.6931, 4)},
               "primary_metric": "val_loss", "started": started, "config": config}  # fmt: skip
    (run / "summary.json").write_text(json.dumps(summary))
    return run


def write_task_run(
    root: Path,
    task: str,
    arch: str,
    started: str,
    steps: int = 600,
    status: str = "finished",
    pace: float = 1.0,
) -> Path:
    """A run folder of `task` on its fake data (`fake_events`): the steps and evaluations of
    `run_until(steps)` as history (`pace` > 1: a slower learner), and a summary with the last
    evaluation's metrics."""
    from fake_events import TASK_DATASETS, run_until

    from tasks.engine.runs import append_history, write_summary

    dataset = TASK_DATASETS[task]
    run = root / f"{started[:10].replace('-', '')}-{started[11:19].replace(':', '')}-{task}-{arch}"
    run.mkdir(parents=True)
    events = run_until(steps, steps, task, pace)[1:]  # after Started, as the trainer records them
    for event in events:
        append_history(run, json.loads(event.to_json()))
    metrics = [e.metrics for e in events if e.kind == "eval"][-1]
    config = {"task": task, "arch": arch, "dataset": dataset, "layers": 1, "hidden": 128,
              "embed": 64, "lr": 0.003, "schedule": "cosine", "batch": 32, "seq_len": 64,
              "epochs": 2}  # fmt: skip
    summary = {"task": task, "arch": arch, "dataset": dataset, "status": status, "reason": None,
               "step": steps, "epoch": 2, "metrics": metrics, "started": started,
               "config": config}  # fmt: skip
    write_summary(run, summary)
    return run


class ScreenApp(App[None]):
    """Pushes one screen, styled as in the app, and keeps what it dismissed with."""

    CSS_PATH = str(Path(__file__).resolve().parents[2] / "tui" / "app.tcss")

    def __init__(self, screen) -> None:
        super().__init__()
        self.the_screen = screen
        self.results: list = []

    def on_mount(self) -> None:
        self.push_screen(self.the_screen, self.results.append)
