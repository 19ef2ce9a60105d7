"""Fuzzing the readers of settings files: a JSON settings file or a run's summary.json given to
``rnn-tui train TASK --config FILE`` (read by `tui.cli.train._config_file`, then checked by
`default_config`, as `cmd_train` does before it trains), and a sweep's search-space file in
TOML or JSON (`tasks.experiments.space.load_space`). A checked config or space, or a one-line
`CliError` / `ConfigError` / `SweepError`; nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from fuzzing import inputs, sandbox
from hypothesis import given
from hypothesis import strategies as st

from tasks.engine.settings import ConfigError, Search, TrainConfig
from tasks.experiments.space import BY_THE_COMMAND, SweepError, load_space
from tasks.registry import TASKS, default_config
from tui.cli.common import CliError
from tui.cli.train import _config_file

TASK = st.sampled_from(["charlm", "sentiment", "names", "timeseries", "translation"])
A_SUMMARY = {"status": "finished", "config": default_config("charlm", minutes=1.0).to_dict()}
"""A run's summary.json, which --config also takes."""
CONFIGS = (
    json.dumps({"lr": 0.003, "hidden": 128, "epochs": 2}).encode(),
    json.dumps({"task": "charlm", "arch": "gru", "dropout": 0.1, "minutes": 1.5}).encode(),
    b'{"batch": 32, "seq_len": 64, "schedule": "constant", "device": "cpu", "threads": null}',
    json.dumps(A_SUMMARY, indent=2).encode(),
)
SPACES = {
    ".toml": b"dropout = [0.1, 0.3]\nbatch = 32\n\n[lr]\nlow = 1e-4\nhigh = 1e-2\nlog = true\n\n"
    b'[arch]\nchoices = ["gru", "lstm"]\n\n[hidden]\nlow = 64\nhigh = 256\nstep = 64\n',
    ".json": b'{"hidden": {"low": 64, "high": 256, "step": 64}, "lr": [0.001, 0.003], "embed": 32,'
    b' "dropout": {"low": 0.0, "high": 0.5}, "arch": {"choices": ["lstm", "gru"]}}',
}


def config_from_file(path: Path, task: str) -> TrainConfig:
    """What `cmd_train` builds from ``--config FILE`` alone, before it trains."""
    values = _config_file(str(path), task)
    values.pop("task", None)
    arch = values.pop("arch", None)
    return default_config(task, arch, **values)


@given(data=inputs(*CONFIGS), task=TASK)
def test_a_settings_file_reads_or_fails_in_one_line(data: bytes, task: str) -> None:
    with sandbox() as box:
        path = box.write("settings.json", data)
        config = box.call(lambda: config_from_file(path, task), CliError, ConfigError)
    if isinstance(config, TrainConfig):
        assert isinstance(config, TASKS[task].settings) and config.task == task
        config.validate()  # what it returns is already valid


@st.composite
def space_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """(suffix, bytes): a valid space of either kind, mutated, read by its suffix or the other's
    (now and then by one that is neither)."""
    kind = draw(st.sampled_from(sorted(SPACES)))
    other = ".json" if kind == ".toml" else ".toml"
    suffix = draw(st.sampled_from([*[kind] * 8, other, ".txt"]))
    return suffix, draw(inputs(SPACES[kind]))


@given(space=space_file(), task=TASK)
def test_a_space_file_reads_or_fails_in_one_line(space: tuple[str, bytes], task: str) -> None:
    suffix, data = space
    info = TASKS[task]
    with sandbox() as box:
        path = box.write(f"space{suffix}", data)
        searched = box.call(lambda: load_space(path, info), SweepError)
    if isinstance(searched, dict):
        settings = info.settings.settings()
        assert searched and all(isinstance(search, Search) for search in searched.values())
        for name, search in searched.items():
            assert name in settings and name not in BY_THE_COMMAND
            assert search.choices or search.low < search.high
