"""What the Runs screen keeps of a run's history: its steps' training loss as two arrays of
floats and its evaluations.

A long run's history is large (30,000 steps: some 9 MB of JSON lines). Held as records it took
about 30 MB of small Python objects each time Runs showed the run, and left the heap scattered
after Runs was left while the Train screen went on allocating beside it (about 7 MB more RSS a
visit in benchmarks/soak.py). Two `array('d')` are two blocks, given back whole.

A run that trains meanwhile is read again from where the last read stopped, so a visit of Runs
an hour into a run reads the minutes since the last visit, not the hour.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.engine.runs import history_bytes, history_file_id, history_stamp, iter_history_from


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
    offset: int = 0
    """The bytes of the file read so far (a read goes on from there)."""
    file_id: tuple[int, int] | None = None
    """`history_file_id` of the file read."""


def goes_on(run_dir: Path, since: ChartHistory | None) -> bool:
    """Whether the run's history is the file `since` was read from, grown or as it was (a
    history is only appended to; a folder deleted and made again starts a new file)."""
    file_id = history_file_id(run_dir)
    return (
        since is not None
        and file_id is not None
        and since.file_id == file_id
        and history_bytes(run_dir) >= since.offset
    )


def unread_bytes(run_dir: Path, since: ChartHistory | None) -> int:
    """How many bytes `read_chart_history(run_dir, since)` reads."""
    size = history_bytes(run_dir)
    return size - since.offset if since is not None and goes_on(run_dir, since) else size


def read_chart_history(run_dir: Path, since: ChartHistory | None = None) -> ChartHistory:
    """The run's history read a line at a time into a `ChartHistory`; given what an earlier
    read gave (`since`), only the lines written after it, added to a copy of it (`since` is
    left as it was: the screen may be drawing it)."""
    out = ChartHistory(stamp=history_stamp(run_dir), file_id=history_file_id(run_dir))
    if since is not None and goes_on(run_dir, since):
        out.steps, out.losses = array("d", since.steps), array("d", since.losses)
        out.evals, out.offset = list(since.evals), since.offset
    for offset, record in iter_history_from(run_dir, out.offset):
        out.offset = offset
        if record is None:
            continue
        if record["event"] == "step":
            out.steps.append(record["step"])
            out.losses.append(record["loss"])
        elif record["event"] == "eval":
            out.evals.append(
                {"step": record["step"], "metrics": record["metrics"], "full": record.get("full")}
            )
    return out
