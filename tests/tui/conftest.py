"""Fixtures for the app's tests: no cursor blink, isolated user folders, a small text, fake runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from tui.app import quiet_openmp

quiet_openmp()  # as `rnn-tui` does, in case torch is not imported yet

SHAKESPEARE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "tiny-shakespeare" / "input.txt"
)


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes snapshots depend on timing."""
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(TextArea, "cursor_blink", False)


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Runs and the download cache live in tmp_path; no data root, so status is predictable."""
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RNN_TUI_DATA", raising=False)
    monkeypatch.setenv("RNN_TUI_SCREENSHOTS", str(tmp_path / "shots"))
    os.environ.pop("RNN_TUI_DATA", None)
    yield tmp_path


@pytest.fixture
def small_text(tmp_path: Path) -> Path:
    """A 6 kB slice of Tiny Shakespeare (or a fixed pangram text): trains in about a second."""
    if SHAKESPEARE.is_file():
        text = SHAKESPEARE.read_text()[:6_000]
    else:
        text = "The quick brown fox jumps over the lazy dog.\n" * 140
    path = tmp_path / "small.txt"
    path.write_text(text)
    return path


def tiny_config(path: Path, epochs: int = 1, **overrides):
    """A charlm config that trains on `path` in about a second (one torch thread)."""
    from tasks.registry import default_config

    values = dict(
        dataset=str(path), hidden=32, layers=1, embed=16, batch=8, seq_len=32, epochs=epochs,
        threads=1, warmup_steps=5,
    )  # fmt: skip
    values.update(overrides)
    return default_config("charlm", "lstm", **values)


@pytest.fixture
def trained_run(small_text: Path, user_dirs: Path) -> Path:
    """A finished tiny run in the runs folder (trained headless, about a second)."""
    import threading

    from tasks.registry import create_task
    from tasks.runs import new_run_dir
    from tasks.trainer import Trainer

    config = tiny_config(small_text)
    trainer = Trainer(create_task(config), new_run_dir("charlm", "lstm", str(small_text)))
    for _ in trainer.run(threading.Event()):
        pass
    return trainer.run_dir


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
    import json
    import math
    import random

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


@pytest.fixture
def fake_runs(user_dirs: Path) -> list[Path]:
    """Three saved runs with fixed names, dates and curves."""
    root = user_dirs / "home" / "runs"
    return [
        write_fake_run(root, "20250101-090000-charlm-lstm-tiny-shakespeare", "lstm",
                       "2025-01-01 09:00:00", 1.55),
        write_fake_run(root, "20250102-100000-charlm-gru-tiny-shakespeare", "gru",
                       "2025-01-02 10:00:00", 1.62),
        write_fake_run(root, "20250103-110000-charlm-rnn-tiny-shakespeare", "rnn",
                       "2025-01-03 11:00:00", 1.95, status="stopped", steps=250),
    ]  # fmt: skip
