"""`rnn-tui train gradflow ... --json`: the gradient profile rides on the step events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.cli import main

TINY = ["--hidden", "8", "--batch", "4", "--threads", "1", "--json"]


def test_json_steps_carry_the_gradient_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--arch", "lstm", "--seq-len", "16", "--epochs", "1", "--probe-every", "10"]
    argv += ["--layers", "2", "--out", str(tmp_path / "run"), *TINY]
    code = main(["train", "gradflow", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    profiles = [e["gradients"] for e in events if e["event"] == "step" and e["gradients"]]
    assert profiles, "no step event carried a gradient profile"
    steps = [p["step"] for p in profiles]
    assert steps == sorted(steps) and all(s == 1 or s % 10 == 0 for s in steps)
    last = profiles[-1]
    assert len(last["dl_dh"]) == 2 and all(len(row) == 16 for row in last["dl_dh"])
    assert last["ratio"] == pytest.approx(last["dl_dh"][-1][0] / last["dl_dh"][-1][-1])
    assert {"norm_before", "norm_after", "clip", "exploding", "dhT_dh"} <= set(last)
    finished = events[-1]
    assert finished["event"] == "finished"
    assert {"val_loss", "val_mse", "baseline_mse", "grad_ratio"} <= set(finished["metrics"])


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--seq-len", "1"], "between 2 and 1000"),
        (["--seq-len", "100000"], "between 2 and 1000"),
        (["--problem", "parity"], "--problem"),
        (["--arch", "gru", "--activation", "relu"], "--arch rnn only"),
    ],
)
def test_bad_input_is_one_line(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["train", "gradflow", "--epochs", "1", *argv])
    except SystemExit as exc:  # argparse rejects unknown choices itself
        code = exc.code
    _, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and needle in lines[0], err
