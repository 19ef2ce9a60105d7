"""The command line: its contract (README), and bad input (one clear line, no traceback)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from cli_helpers import one_line_error, run_cli

from tasks.engine.checkpoint import load_checkpoint, save_checkpoint
from tui.cli import build_parser, main
from tui.cli.train import train_config

TINY = ["--hidden", "32", "--layers", "1", "--embed", "16", "--batch", "8", "--seq-len", "32",
        "--threads", "1"]  # fmt: skip


@pytest.fixture
def trained(small_text: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A tiny finished charlm run folder."""
    run = tmp_path / "run"
    code, out, _ = run_cli(
        capsys, "train", "charlm", "--dataset", str(small_text), *TINY, "--epochs", "1",
        "--out", str(run), "--json",
    )  # fmt: skip
    assert code == 0, out
    return run


def test_train_json_events_end_with_finished(trained: Path) -> None:
    lines = (trained / "history.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["event"] == "finished"
    state = load_checkpoint(trained / "last.pt", task="charlm")
    assert state["epoch"] == 1 and state["task_state"]["vocab"]


def test_train_json_stdout_is_one_object_per_line(
    small_text: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        capsys, "train", "charlm", "--dataset", str(small_text), *TINY, "--epochs", "1",
        "--out", str(tmp_path / "r"), "--json",
    )  # fmt: skip
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and events[0]["event"] == "started"
    last = events[-1]
    assert last["event"] == "finished" and last["run_dir"] == str(tmp_path / "r")
    assert {"val_loss", "val_bpc", "train_tokens_per_s", "wall_s"} <= set(last["metrics"])


def test_eval_generate_runs(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "eval", str(trained / "last.pt"), "--json")
    assert code == 0 and json.loads(out)["metrics"]["val_loss"] > 0
    args = ["generate", str(trained / "last.pt"), "--prime", "ROMEO:", "--length", "40"]
    code, first, _ = run_cli(capsys, *args, "--seed", "3")
    assert code == 0 and first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 41
    assert run_cli(capsys, *args, "--seed", "3")[1] == first
    code, greedy, _ = run_cli(capsys, *args, "--strategy", "greedy")
    assert code == 0 and greedy == run_cli(capsys, *args, "--strategy", "greedy", "--seed", "9")[1]
    code, out, _ = run_cli(capsys, "runs", "--json")
    assert code == 0 and any(r["path"] == str(trained) for r in json.loads(out))


def test_resume_continues_to_more_epochs(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "resume", str(trained), "--epochs", "2", "--json")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and events[0]["resumed_from_step"] > 0
    assert load_checkpoint(trained / "last.pt")["epoch"] == 2


def test_data_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "data", "list")
    assert code == 0 and "tiny-shakespeare" in out and "pydoc-prose" in out
    code, out, _ = run_cli(capsys, "data", "path", "pydoc-prose")
    assert code == 0 and Path(out.strip()).is_file()
    code, _, err = run_cli(capsys, "data", "path", "tiny-shakespeare")
    one_line_error(code, err, "rnn-tui data fetch tiny-shakespeare")


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--lr", "0", "--lr must be a positive number"),
        ("--lr", "-1e-3", "--lr must be a positive number"),
        ("--hidden", "0", "--hidden must be a positive integer"),
        ("--minutes", "-2", "--minutes must be a positive number"),
        ("--minutes", "0", "--minutes must be a positive number"),
        ("--arch", "transformer", "--arch must be one of lstm, gru, rnn, numpy-rnn, mingru"),
        ("--bidirectional", None, "--bidirectional does not apply to charlm"),
    ],
)
def test_invalid_hyperparameters(
    small_text: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, needle: str
) -> None:
    code, _, err = run_cli(
        capsys,
        "train",
        "charlm",
        "--dataset",
        str(small_text),
        option if value is None else f"{option}={value}",
    )
    one_line_error(code, err, needle)


def test_an_optional_setting_given_empty_is_none_over_the_settings_file(tmp_path: Path) -> None:
    """--help says "empty: as many as the time budget allows"; '' there means none, on purpose."""
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"epochs": 3, "minutes": 2.0, "threads": 1}))
    argv = ["train", "charlm", "--config", str(settings), "--epochs", "", "--threads="]
    config = train_config(build_parser().parse_args(argv))
    assert (config.epochs, config.minutes, config.threads) == (None, 2.0, None)
    left_out = train_config(build_parser().parse_args(argv[:4]))
    assert (left_out.epochs, left_out.minutes, left_out.threads) == (3, 2.0, 1)


def test_empty_epochs_and_no_budget_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "train", "charlm", "--epochs", "")
    one_line_error(code, err, "give --epochs or --minutes (or both)")
    with pytest.raises(SystemExit):  # a setting that cannot be none takes no ''
        main(["train", "charlm", "--hidden", ""])
    one_line_error(2, capsys.readouterr().err, "--hidden", "invalid int value: ''")


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "charlm", "--hidden", "many"])
    assert exit_info.value.code == 2
    one_line_error(2, capsys.readouterr().err, "--hidden", "invalid int value")


def test_unknown_dataset_lists_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "train", "charlm", "--dataset", "shakespear")
    one_line_error(code, err, "unknown dataset 'shakespear'", "tiny-shakespeare")


def test_bad_text_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9 au lait\n".encode("latin-1") * 100)
    cases = {
        str(tmp_path / "missing.txt"): "no such file",
        str(empty): "empty",
        str(latin1): "not UTF-8",
    }
    for path, needle in cases.items():
        code, _, err = run_cli(capsys, "train", "charlm", "--dataset", path, "--epochs", "1")
        one_line_error(code, err, needle)


def test_sequence_longer_than_the_data(
    small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys, "train", "charlm", "--dataset", str(small_text), "--seq-len", "100000"
    )
    one_line_error(code, err, "--seq-len 100000 is longer than the data")


def test_truncated_and_foreign_checkpoints(trained: Path, tmp_path: Path, capsys) -> None:
    data = (trained / "last.pt").read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    pickled = tmp_path / "pickled.pt"
    torch.save({"format": "rnn-tui/1", "obj": Path("x")}, pickled)  # needs unpickling code
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    for path, needle in [
        (truncated, "not a readable rnn-tui checkpoint"),
        (foreign, "not an rnn-tui checkpoint"),
        (pickled, "not a readable rnn-tui checkpoint"),
        (text, "not a readable rnn-tui checkpoint"),
        (tmp_path / "missing.pt", "checkpoint not found"),
    ]:
        for command in ("eval", "generate"):
            code, _, err = run_cli(capsys, command, str(path))
            one_line_error(code, err, needle)


def test_generate_on_another_tasks_checkpoint(tmp_path: Path, capsys) -> None:
    other = save_checkpoint(tmp_path / "sentiment.pt", {"task": "sentiment", "config": {}})
    code, _, err = run_cli(capsys, "generate", str(other))
    one_line_error(code, err, "'sentiment' checkpoint", "'charlm'")


def test_generate_bad_prime(trained: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "generate", str(trained / "last.pt"), "--prime", "")
    one_line_error(code, err, "prime text is empty")
    code, _, err = run_cli(capsys, "generate", str(trained / "last.pt"), "--prime", "日本")
    one_line_error(code, err, "never saw")
    code, _, err = run_cli(capsys, "generate", str(trained / "last.pt"), "--temperature", "0")
    one_line_error(code, err, "temperature")


def test_ctrl_c_keeps_the_checkpoint_and_resume_continues(small_text: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    command = [sys.executable, "-m", "tui.cli", "train", "charlm", "--dataset", str(small_text),
               *TINY, "--epochs", "500", "--out", str(run), "--json"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # wait for the first completed epoch checkpoint
        if '"event": "checkpoint"' in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)  # a hang guard: the stop comes after one batch
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    events = [json.loads(line) for line in out.splitlines()]
    assert events[-1]["event"] == "finished" and events[-1]["stopped"]
    assert [e["reason"] for e in events if e["event"] == "checkpoint"][-1] == "stop"
    stopped = load_checkpoint(run / "last.pt")
    target = stopped["epoch"] + 2  # wherever the signal landed, two more epochs to go
    resumed = subprocess.run(
        [sys.executable, "-m", "tui.cli", "resume", str(run), "--epochs", str(target), "--json"],
        capture_output=True, text=True, timeout=300, env=os.environ,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    first = json.loads(resumed.stdout.splitlines()[0])
    assert first["resumed_from_step"] == stopped["step"]
    assert load_checkpoint(run / "last.pt")["epoch"] == target


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys\nfrom tui.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, 'textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_train_without_network_announces_the_offline_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses
    import socket

    from tasks.data.catalogue import CATALOGUE

    with socket.socket() as sock:  # a local port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/input.txt"
    entry = CATALOGUE["tiny-shakespeare"]
    patched = entry._replace(info=dataclasses.replace(entry.info, url=dead))
    monkeypatch.setitem(CATALOGUE, "tiny-shakespeare", patched)
    code, out, _ = run_cli(
        capsys, "train", "charlm", *TINY, "--minutes", "0.03", "--out", str(tmp_path / "r")
    )
    assert code == 0
    assert out.splitlines()[0].startswith("note: tiny-shakespeare not available offline")
    assert "pydoc-prose" in out.splitlines()[0]
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["dataset"] == "pydoc-prose"


def test_eval_on_another_text(trained: Path, tmp_path: Path, capsys) -> None:
    subset = tmp_path / "subset.txt"
    subset.write_text("the king is dead; long live the king\n" * 50)
    code, out, _ = run_cli(capsys, "eval", str(trained / "last.pt"), "--dataset", str(subset))
    assert code == 0 and "val_loss" in out
    alien = tmp_path / "alien.txt"
    alien.write_text("ünïcödé only here\n" * 50)
    code, _, err = run_cli(capsys, "eval", str(trained / "last.pt"), "--dataset", str(alien))
    one_line_error(code, err, "does not fit the checkpoint", "never saw")


def test_train_from_a_config_file_with_overrides(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "again"
    code, out, _ = run_cli(
        capsys, "train", "charlm", "--config", str(trained / "summary.json"), "--epochs", "1",
        "--seed", "7", "--out", str(run), "--json",
    )  # fmt: skip
    assert code == 0, out
    first = json.loads((trained / "summary.json").read_text())["config"]
    second = json.loads((run / "summary.json").read_text())["config"]
    assert second == {**first, "seed": 7}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "cannot read config"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"task": "timeseries"}', "is for task timeseries, not charlm"),
        ('{"task": "charlm", "hidden": 0}', "--hidden must be a positive integer"),
        ('{"task": "charlm", "colour": "red"}', "unknown setting for task charlm: colour"),
    ],
)
def test_a_bad_config_file_is_one_line(
    content: str | None, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    code, _, err = run_cli(capsys, "train", "charlm", "--config", str(path))
    one_line_error(code, err, needle)


def test_control_lines_on_stdin_save_and_stop(small_text: Path, tmp_path: Path) -> None:
    """Each control line answers an event the run printed, so none can race the run's end.

    The save is asked once the run has started and the stop once the save is written; 500
    epochs are far more than the time that takes, so only the stop can end the run.
    """
    run = tmp_path / "controlled"
    child = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "train", "charlm", "--dataset", str(small_text), *TINY,
         "--epochs", "500", "--out", str(run), "--json", "--control"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    events = []
    for line in child.stdout:
        event = json.loads(line)
        events.append(event)
        if event["event"] == "started":
            child.stdin.write("pause\nresume\nsave\n")
            child.stdin.flush()
        elif event["event"] == "checkpoint" and event["reason"] == "manual":
            child.stdin.write("stop\n")
            child.stdin.flush()
    assert child.wait(timeout=120) == 130, child.stderr.read()
    checkpoints = [e for e in events if e["event"] == "checkpoint"]
    reasons = [e["reason"] for e in checkpoints]
    assert reasons.count("manual") == 1 and reasons[-1] == "stop"
    saved = {e["reason"]: e["step"] for e in checkpoints}
    assert 0 < saved["manual"] <= saved["stop"]
    assert events[-1]["event"] == "finished" and events[-1]["stopped"]
    assert load_checkpoint(run / "last.pt")["step"] == saved["stop"]
