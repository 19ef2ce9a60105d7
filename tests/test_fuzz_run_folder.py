"""Fuzzing the readers of run folders: a run's summary.json and history.jsonl, and the runs
root's elsewhere.txt, as `rnn-tui runs` (`list_runs`), the Runs and Train screens
(`read_summary`, `read_history`, `read_run`), `rnn-tui report` (`read_run_folder`, the curves and
references it draws) and `rnn-tui resume` (`_stored_config`) read them. Damaged files are
repaired as documented (unreadable summary: {} / not a run; a history line that is torn or not
a usable record: skipped), or refused in one line (`ReportError`, `ConfigError`); nothing is
written."""

from __future__ import annotations

import json
from pathlib import Path

from fuzzing import Sandbox, inputs, sandbox
from hypothesis import given
from hypothesis import strategies as st

from tasks.engine.runs import (
    ELSEWHERE,
    HISTORY,
    SUMMARY,
    RunInfo,
    list_runs,
    read_history,
    read_run,
    read_summary,
    usable_record,
)
from tasks.engine.settings import ConfigError, TrainConfig
from tasks.experiments.report.reading import ReportError, RunData, read_run_folder
from tasks.registry import default_config
from tui.cli.train import _stored_config

SUMMARY_OK = json.dumps(
    {
        "task": "charlm", "arch": "lstm", "dataset": "tiny-shakespeare", "status": "finished",
        "reason": None, "step": 40, "epoch": 1, "metrics": {"val_loss": 2.1, "wall_s": 12.5},
        "primary_metric": "val_loss", "started": "2026-12-03 05:31:02", "world_size": 1,
        "config": default_config("charlm", minutes=1.0).to_dict(),
    },
    indent=2,
    sort_keys=True,
).encode()  # fmt: skip
RECORDS = (
    {"event": "note", "step": 0, "text": "resumed"},
    {"event": "step", "step": 10, "epoch": 0, "progress": 0.25, "loss": 3.2, "lr": 0.001,
     "grad_norm": 1.1, "tokens_per_s": 40000.0, "elapsed_s": 1.0, "eta_s": 3.0,
     "gradients": None, "compile_s": None},
    {"event": "eval", "step": 20, "epoch": 0, "metrics": {"val_loss": 2.5}, "full": False},
    {"event": "checkpoint", "step": 40, "path": "last.pt", "reason": "final"},
    {"event": "finished", "run_dir": "run", "checkpoint": "last.pt", "stopped": False,
     "metrics": {"val_loss": 2.1, "test_loss": 2.2}},
)  # fmt: skip
HISTORY_OK = "".join(json.dumps(record) + "\n" for record in RECORDS).encode()
ELSEWHERE_OK = b"{RUN}\n/no/such/run\nrelative/run\n"
"""{RUN} becomes the run folder's path."""


def maybe(valid: bytes) -> st.SearchStrategy[bytes | None]:
    """A file left out (None), as it is, or mutated."""
    return st.one_of(st.none(), st.just(valid), inputs(valid))


def _numbers(values: dict) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.values())


@given(summary=maybe(SUMMARY_OK), history=maybe(HISTORY_OK), elsewhere=maybe(ELSEWHERE_OK))
def test_a_run_folder_reads_or_fails_in_one_line(
    summary: bytes | None, history: bytes | None, elsewhere: bytes | None
) -> None:
    with sandbox() as box:
        root = box.inputs / "runs"
        run = root / "run"
        run.mkdir(parents=True)
        for name, data in ((SUMMARY, summary), (HISTORY, history)):
            if data is not None:
                box.write(f"runs/run/{name}", data)
        if elsewhere is not None:
            box.write(f"runs/{ELSEWHERE}", elsewhere.replace(b"{RUN}", str(run).encode()))
        _check_readers(box, run, root)


def _check_readers(box: Sandbox, run: Path, root: Path) -> None:
    found = box.call(lambda: read_summary(run))
    assert isinstance(found, dict)
    assert isinstance(found.get("config", {}), dict) and _numbers(found.get("metrics", {}))
    records = box.call(lambda: read_history(run))
    assert isinstance(records, list) and all(usable_record(r) for r in records)
    info = box.call(lambda: read_run(run))
    assert info is None or _typed(info)
    runs = box.call(lambda: list_runs(root))
    assert all(_typed(r) for r in runs)
    data = box.call(lambda: read_run_folder(run), ReportError)
    if isinstance(data, RunData):
        box.call(lambda: (data.config, data.metrics, data.title, data.curves))
        box.call(lambda: [data.references(q) for q in data.info.quantities])
    stored = box.call(lambda: _stored_config(str(run)), ConfigError)
    assert stored is None or isinstance(stored, (TrainConfig, ConfigError))


def _typed(info: RunInfo) -> bool:
    texts = (info.task, info.arch, info.dataset, info.status, info.started)
    return (
        all(isinstance(t, str) for t in texts)
        and isinstance(info.step, int)
        and isinstance(info.metrics, dict)
        and _numbers(info.metrics)
    )
