"""What the Runs screen keeps of a run's history: its steps' training loss as two arrays of
floats and its evaluations.

A long run's history is large (30,000 steps: some 9 MB of JSON lines). Held as records it took
about 30 MB of small Python objects each time Runs showed the run, and left the heap scattered
after Runs was left while the Train screen went on allocating beside it (about 7 MB more RSS a
visit in benchmarks/soak.py). Two `array('d')` are two blocks, given back whole.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.engine.runs import history_stamp, iter_history


@dataclass
class ChartHistory:
    """One run's steps (step numbers and training losses) and evaluation records."""

    stamp: float = 0.0
    """`history_stamp` of the file when it was read (0.0: never read)."""
    steps: array = field(default_factory=lambda: array("d"))
    losses: array = field(default_factory=lambda: array("d"))
    evals: list[dict[str, Any]] = field(default_factory=list)
    """Each evaluation's step, metrics and whether it was full (``step``, ``metrics``,
    ``full``)."""


def read_chart_history(run_dir: Path) -> ChartHistory:
    """The run's history read a line at a time into a `ChartHistory`."""
    out = ChartHistory(stamp=history_stamp(run_dir))
    for record in iter_history(run_dir):
        if record["event"] == "step":
            out.steps.append(record["step"])
            out.losses.append(record["loss"])
        elif record["event"] == "eval":
            out.evals.append(
                {"step": record["step"], "metrics": record["metrics"], "full": record.get("full")}
            )
    return out
