"""TensorBoard event files of runs, written with `torch.utils.tensorboard` (imported lazily).

One TensorBoard run per run folder. `BoardWriter` turns event records (a history line, or a
live `TrainEvent` as a dict) into summaries:

- step: ``train/loss``, ``train/lr``, ``train/grad_norm``, ``train/tokens_per_s``;
- eval (quick and full): each number as ``val/<name>`` (``val_bpc`` -> ``val/bpc``),
  ``test/<name>`` for a test metric, ``eval/<key>`` for any other;
- finished: the hyperparameters (the run's settings) with the final metrics in the SAME
  TensorBoard run (the hparams plugin's three summaries through the writer's own file writer;
  `SummaryWriter.add_hparams` would make a sub-run), the final metrics also as scalars
  ``final/<key>`` (the tags the hparams metrics name, so the HPARAMS tab shows their values),
  and the text samples of `tasks.experiments.samples` at the last step.

`export_runs` replays run folders' histories into ``<out>/<run folder name>``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tasks.engine.runs import SUMMARY, is_number, read_history, read_run, read_summary
from tasks.experiments.space import SweepError

STEP_SCALARS = ("loss", "lr", "grad_norm", "tokens_per_s")
"""Fields of a step record written as ``train/<field>``."""
FLUSH_S = 5
"""How often a live writer flushes its events to disk (seconds)."""
EVENT_FILES = "events.out.tfevents.*"
"""The event files a TensorBoard run folder holds (an export replaces them)."""


def board_folder(path: str | Path) -> Path:
    """`path` as a TensorBoard log folder (the writer makes it when missing); SweepError when
    it is a file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SweepError(f"{path} is a file, not a folder: TensorBoard runs are written into "
                         "a folder")  # fmt: skip
    return path


def metric_tag(key: str) -> str:
    """An evaluation metric's scalar tag: `val_bpc` -> `val/bpc`, `test_bleu` -> `test/bleu`,
    anything else under ``eval/``."""
    for split in ("val", "test"):
        if key.startswith(f"{split}_"):
            return f"{split}/{key[len(split) + 1 :]}"
    return f"eval/{key}"


def final_tag(key: str) -> str:
    """The tag of a final metric: a scalar, and a metric of the hparams plugin."""
    return f"final/{key}"


class BoardWriter:
    """One TensorBoard run in `log_dir`, fed event records one at a time (see the module doc).

    `config` is the run's settings (a `TrainConfig.to_dict()`): the hyperparameters.
    """

    def __init__(self, log_dir: Path, config: Mapping[str, Any]) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = Path(log_dir)
        self.config = dict(config)
        self.writer = SummaryWriter(log_dir=str(self.log_dir), flush_secs=FLUSH_S)
        self.step = 0
        """The latest training step seen (where the final summaries go)."""

    def write(self, record: Mapping[str, Any]) -> None:
        """Write one event record ({"event": kind, ...}); kinds without summaries are skipped."""
        kind = record.get("event")
        if kind == "step":
            self.step = int(record["step"])
            for name in STEP_SCALARS:
                self._scalar(f"train/{name}", record.get(name), self.step)
        elif kind == "eval":
            self.step = max(self.step, int(record["step"]))
            for key, value in record["metrics"].items():
                self._scalar(metric_tag(key), value, int(record["step"]))
            self.writer.flush()
        elif kind == "finished":
            self._finished(record)

    def _finished(self, record: Mapping[str, Any]) -> None:
        """The hyperparameters with the final metrics in this run, and the text samples."""
        from torch.utils.tensorboard.summary import hparams

        from tasks.experiments.samples import samples

        metrics = {final_tag(k): float(v) for k, v in record["metrics"].items() if _number(v)}
        file_writer = self.writer._get_file_writer()
        for summary in hparams(_hparams(self.config), metrics):
            file_writer.add_summary(summary, self.step)
        for tag, value in metrics.items():
            self.writer.add_scalar(tag, value, self.step)
        for tag, text in samples(Path(record["run_dir"])).items():
            self.writer.add_text(tag, text, self.step)
        self.writer.flush()

    def _scalar(self, tag: str, value: Any, step: int) -> None:
        if _number(value):
            self.writer.add_scalar(tag, float(value), step)

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.close()


def _number(value: Any) -> bool:
    """A finite int or float (not a bool, a list or None)."""
    return is_number(value) and math.isfinite(value)


def _hparams(config: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as the hparams plugin takes them: numbers, text and flags as they are, lists
    and tables as JSON text; unset (None) settings left out."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if value is None:
            continue
        plain = isinstance(value, bool | int | float | str)
        out[key] = value if plain else json.dumps(value, sort_keys=True)
    return out


def export_runs(run_dirs: Iterable[str | Path], out_dir: str | Path) -> list[Path]:
    """Replay each run folder's history into ``out_dir/<run folder name>`` (replacing the
    event files an earlier export left there); the TensorBoard run folders, in order.

    Every run folder is checked before anything is written: SweepError (one line) for one
    that is not a run folder, or for `out_dir` being a file.
    """
    out = board_folder(out_dir)
    runs = [Path(p) for p in run_dirs]
    for run in runs:
        if read_run(run) is None:
            raise SweepError(f"{run} is not a run folder (it has no readable {SUMMARY}; "
                             "`rnn-tui runs` lists them)")  # fmt: skip
    written = []
    for run in runs:
        target = out / run.resolve().name
        for old in target.glob(EVENT_FILES):
            old.unlink()
        _replay(run, target)
        written.append(target)
    return written


def _replay(run: Path, target: Path) -> None:
    """One run's history through a `BoardWriter`; of a resumed run's several `finished`
    records only the last writes the hyperparameters and samples."""
    history = read_history(run)
    ends = [i for i, record in enumerate(history) if record.get("event") == "finished"]
    board = BoardWriter(target, read_summary(run).get("config") or {})
    try:
        for i, record in enumerate(history):
            if record.get("event") == "finished":
                if i != ends[-1]:
                    continue
                record = {**record, "run_dir": str(run)}  # where the folder is now
            board.write(record)
    finally:
        board.close()
