"""Shared by the benchmark scripts: the machine line, timing helpers, training a task to its end,
BENCHMARKS.md sections.

Each script owns one section of BENCHMARKS.md, delimited by HTML comments, and rewrites only
that section, so scripts can be re-run one at a time.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
SHARED_DATA = ROOT.parent / "shared" / "data"
SHAKESPEARE = SHARED_DATA / "tiny-shakespeare" / "input.txt"


def machine() -> str:
    """One line: CPU model, cores, torch version and threads, date."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), Python {platform.python_version()}, "
        f"measured {time.strftime('%Y-%m-%d %H:%M')}"
    )


def best_of(fn: Callable[[], float], repeats: int) -> tuple[float, list[float]]:
    """Run fn (which returns a rate) `repeats` times; the median and all values."""
    values = [fn() for _ in range(repeats)]
    return statistics.median(values), values


def train_to_end(task: Any) -> tuple[dict[str, Any], int]:
    """Train `task` to its end in a temporary run folder: the finished event's metrics (empty
    if none came) and the epochs completed; `RuntimeError` with the reason if the run failed."""
    from tasks.engine.trainer import Trainer

    metrics: dict[str, Any] = {}
    epochs = 0
    with tempfile.TemporaryDirectory() as run_dir:
        for event in Trainer(task, run_dir).run():
            if event.kind == "finished":
                metrics = dict(event.metrics)
            elif event.kind == "checkpoint" and event.reason == "epoch":
                epochs += 1
            elif event.kind == "failed":
                raise RuntimeError(event.reason)
    return metrics, epochs


def replace_section(path: Path, name: str, body: str) -> None:
    """Replace (or append) the section `name` of a Markdown file, between HTML comments."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    path.write_text(text)


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section `name` of BENCHMARKS.md with `body`, and print it."""
    replace_section(BENCHMARKS_MD, name, body)
    print(body)
