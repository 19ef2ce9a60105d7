"""`rnn-tui sweep`: text and JSON output over tiny names trials, bad input as one line each,
Ctrl+C (a signal sent from inside a trial's output) queues the trial and the same command
resumes, and --jobs 2 on one study (two worker processes, waited for)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import one_line_error, run_cli
from engine_fixtures import names_data

from tasks.engine.runs import read_summary
from tasks.experiments.events import sweep_event_from_json
from tasks.experiments.study import open_study, trials_table

SPACE = """\
embed = 8
layers = 1
batch = 4
threads = 1
hidden = [8, 16]

[lr]
low = 1e-3
high = 1e-2
log = true
"""


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, str]:
    """The names dataset, a tiny space file and a study storage, in tmp_path."""
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    return {"dataset": names_data(tmp_path), "space": str(space),
            "storage": f"sqlite:///{tmp_path / 'sweeps.db'}"}  # fmt: skip


def argv(setup: dict[str, str], *more: str, trials: int = 2) -> list[str]:
    return ["sweep", "names", "--dataset", setup["dataset"], "--trials", str(trials),
            "--epochs-per-trial", "1", "--space", setup["space"], "--storage",
            setup["storage"], "--pruner", "none", *more]  # fmt: skip


def rows(setup: dict[str, str]) -> list[dict[str, Any]]:
    return trials_table(open_study("names", setup["dataset"], setup["storage"], None, "none", 0))


def test_json_prints_one_event_per_line(capsys: pytest.CaptureFixture[str], setup: Any) -> None:
    code, out, err = run_cli(capsys, *argv(setup, "--json"))
    assert code == 0, err
    events = [sweep_event_from_json(line) for line in out.splitlines()]
    kinds = [e.kind for e in events]
    assert kinds[0] == "sweep_started" and kinds[-1] == "sweep_finished"
    assert kinds.count("trial_started") == kinds.count("trial_done") == 2
    for done in (e for e in events if e.kind == "trial_done"):
        assert read_summary(Path(done.run_dir))["sweep"]["trial"] == done.number


def test_text_prints_a_line_per_trial_and_the_best(
    capsys: pytest.CaptureFixture[str], setup: Any
) -> None:
    code, out, err = run_cli(capsys, *argv(setup))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("sweep names-names in sqlite:///") and "2 trials" in lines[0]
    assert lines[1].startswith("space: ") and "lr log [0.001, 0.01]" in lines[1]
    assert lines[2].startswith("trial 0 complete · val_accuracy ")
    assert lines[3].startswith("trial 1 complete · val_accuracy ")
    assert lines[4].startswith("best: trial ") and "test_accuracy" in lines[4]
    assert lines[5].startswith("best run folder: ")


@pytest.mark.parametrize(
    ("space", "needle"),
    [
        ("[hiden]\nlow = 8\nhigh = 16\n", "hiden: not a setting of names"),
        ("[lr]\nlow = 0.01\nhigh = 0.01\n", "lr: empty range"),
        ("hidden = []\n", "hidden: empty"),
    ],
)
def test_a_bad_space_is_one_line(
    capsys: pytest.CaptureFixture[str], setup: Any, space: str, needle: str
) -> None:
    Path(setup["space"]).write_text(space)
    code, _, err = run_cli(capsys, *argv(setup))
    one_line_error(code, err, setup["space"], needle)


def test_bad_storage_study_and_options_are_one_line(
    capsys: pytest.CaptureFixture[str], setup: Any, tmp_path: Path
) -> None:
    missing = f"sqlite:///{tmp_path / 'no' / 'folder' / 's.db'}"
    code, _, err = run_cli(capsys, *argv({**setup, "storage": missing}))
    one_line_error(code, err, f"cannot open the study storage {missing}")
    code, _, err = run_cli(capsys, *argv(setup, "--study", "mine", trials=1))
    assert code == 0, err
    code, _, err = run_cli(capsys, "sweep", "charlm", "--dataset", setup["dataset"], "--trials",
                           "1", "--storage", setup["storage"], "--study", "mine")  # fmt: skip
    one_line_error(code, err, "study mine is a sweep of names")
    yaml = Path(setup["space"]).with_suffix(".yaml")
    yaml.write_text("lr: 1\n")
    code, _, err = run_cli(capsys, *argv({**setup, "space": str(yaml)}))
    one_line_error(code, err, "a .toml or .json file")
    code, _, err = run_cli(capsys, *argv(setup, "--minutes-per-trial", "0"))
    one_line_error(code, err, "--minutes-per-trial")


def test_ctrl_c_queues_the_running_trial_and_the_same_command_resumes(
    capsys: pytest.CaptureFixture[str], setup: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.cli import sweep as sweep_cli

    printed = sweep_cli._JsonPrinter.__call__

    def print_then_interrupt(self: Any, event: Any) -> None:
        printed(self, event)
        if event.kind == "trial_started" and event.number == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C while trial 1 runs

    monkeypatch.setattr(sweep_cli._JsonPrinter, "__call__", print_then_interrupt)
    code, out, err = run_cli(capsys, *argv(setup, "--json"))
    assert code == 130 and "Traceback" not in err and "stopping the sweep" in err
    monkeypatch.undo()
    events = [json.loads(line) for line in out.splitlines()]
    interrupted = next(e for e in events if e["event"] == "trial_started" and e["number"] == 1)
    assert events[-1]["event"] == "trial_done" and events[-1]["state"] == "failed"
    first = rows(setup)[0]
    assert first["state"] == "complete"
    code, out, err = run_cli(capsys, *argv(setup, "--json"))  # the same command
    assert code == 0, err
    resumed = [json.loads(line) for line in out.splitlines()]
    assert resumed[0]["finished_before"] == 1
    started = [e for e in resumed if e["event"] == "trial_started"]
    assert [e["params"] for e in started] == [interrupted["params"]]  # the queued settings
    table = rows(setup)
    assert table[0] == first  # the finished trial is untouched
    assert [r["state"] for r in table] == ["complete", "failed", "complete"]


def test_two_jobs_share_one_study(capsys: pytest.CaptureFixture[str], setup: Any) -> None:
    code, out, err = run_cli(capsys, *argv(setup, "--jobs", "2", "--json", trials=3))
    assert code == 0, err
    events = [sweep_event_from_json(line) for line in out.splitlines()]
    assert events[0].kind == "sweep_started" and events[-1].kind == "sweep_finished"
    done = [e for e in events if e.kind == "trial_done"]
    finished = [r for r in rows(setup) if r["state"] == "complete"]
    # a worker that checks just as the other starts the last trial may start one more
    assert 3 <= len(finished) <= 4 and len(done) == len(finished)
    assert sorted(d.number for d in done) == sorted(r["number"] for r in finished)
    for trial in done:
        assert read_summary(Path(trial.run_dir))["sweep"]["trial"] == trial.number
    assert events[-1].best_number in {d.number for d in done}
