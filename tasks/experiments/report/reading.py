"""A run folder as the report reads it: its summary, its event history, its curves by quantity.

Through `tasks.engine.runs` only (the one module that knows a run folder's files).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tasks.data.info import Reference
from tasks.engine.quantity import Quantity
from tasks.engine.runs import SUMMARY, playable_checkpoint, read_history, read_run, read_summary
from tasks.registry import TASKS, TaskInfo


class ReportError(ValueError):
    """A report cannot be made from its input (one line: the run folder, the study, ...)."""


Curves = dict[str, tuple[list[float], list[float]]]
"""Split ("train", "val", "test") -> (steps, values) of one quantity."""


@dataclass
class RunData:
    """One run folder: its task's entry, its summary and its recorded events."""

    path: Path
    info: TaskInfo
    summary: dict[str, Any]
    history: list[dict[str, Any]]

    @property
    def config(self) -> dict[str, Any]:
        """The run's settings as stored."""
        return dict(self.summary.get("config", {}))

    @property
    def metrics(self) -> dict[str, Any]:
        """The run's latest metrics (the final full evaluation's once finished)."""
        return dict(self.summary.get("metrics", {}))

    @property
    def dataset(self) -> str:
        return str(self.summary.get("dataset") or self.config.get("dataset", "?"))

    @property
    def dataset_name(self) -> str:
        """The catalogue name, or a local path's file or folder name."""
        return Path(self.dataset).name if "/" in self.dataset else self.dataset

    @property
    def arch(self) -> str:
        return str(self.summary.get("arch", self.config.get("arch", "?")))

    @property
    def title(self) -> str:
        """`sentiment · gru · rt-polarity`."""
        return f"{self.info.name} · {self.arch} · {self.dataset_name}"

    @cached_property
    def curves(self) -> dict[str, Curves]:
        """Quantity name -> its recorded curves (only the splits with points): the training
        loss from the step events, every evaluation's metrics (quick and full)."""
        out: dict[str, Curves] = {}
        for q in self.info.quantities:
            series: Curves = {split: ([], []) for split in q.splits}
            for record in self.history:
                if record.get("event") == "step" and q.train_loss:
                    series["train"][0].append(record["step"])
                    series["train"][1].append(record["loss"])
                elif record.get("event") == "eval":
                    for split, value in q.points(record.get("metrics", {})):
                        series[split][0].append(record["step"])
                        series[split][1].append(value)
            out[q.name] = {split: points for split, points in series.items() if points[0]}
        return out

    def references(self, quantity: Quantity) -> tuple[Reference, ...]:
        """The published anchors of `quantity` on the run's dataset, then the baselines the
        run measured itself."""
        return self.info.references(quantity, self.dataset, self.metrics)

    def checkpoint(self) -> Path:
        """The checkpoint the pictures are drawn from: the latest (the state the final
        metrics were measured on), else the best; `ReportError` when it has none."""
        path = playable_checkpoint(self.path)
        if path is None:
            raise ReportError(f"{self.path} has no checkpoint yet")
        return path


def read_run_folder(path: Path) -> RunData:
    """The run in `path`; `ReportError` (one line) when it is not a run folder."""
    path = Path(path)
    if not path.is_dir():
        what = "is a file" if path.exists() else "does not exist"
        raise ReportError(f"{path} is not a run folder: it {what}")
    run = read_run(path)
    if run is None:
        raise ReportError(f"{path} is not a run folder: it has no readable {SUMMARY}")
    info = TASKS.get(run.task)
    if info is None:
        raise ReportError(f"{path} is a run of task {run.task!r}, which this version does not have")
    return RunData(path, info, read_summary(path), read_history(path))
