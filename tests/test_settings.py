"""Settings declared once: validation, errors naming their field, and the generated command line."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from tasks.engine.settings import ConfigError, Setting, TrainConfig
from tasks.registry import TASKS, config_from_dict, default_config, task_defaults
from tui.cli import build_parser, main

ALL_SETTINGS = [
    (task, name, meta)
    for task, info in TASKS.items()
    for name, meta in info.settings.settings().items()
]


def help_entries(task: str, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """`rnn-tui train TASK --help` as option -> its entry's words (argparse wraps lines)."""
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["train", task, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    entries = re.findall(r"^ {2}(--[a-z-]+)(.*?)(?=^ {2}-|^\S|\Z)", out, re.M | re.S)
    return {option: " ".join(body.split()) for option, body in entries}


@pytest.mark.parametrize("task", TASKS)
def test_train_help_lists_every_option_with_its_help_and_default(
    task: str, capsys: pytest.CaptureFixture[str]
) -> None:
    info = TASKS[task]
    entries = help_entries(task, capsys)
    shown = 0
    for name, meta in info.settings.settings().items():
        if not meta.cli:
            continue
        option = meta.option(name)
        if name in ("bidirectional", "attention") and name not in info.options:
            assert option not in entries  # an option the task has no use for
            continue
        assert option in entries, f"`train {task} --help` lacks {option}"
        help_words = " ".join(meta.help.split())
        assert help_words in entries[option], (option, entries[option])
        assert re.search(r"\(default: [^)]+\)$", entries[option]), (option, entries[option])
        shown += 1
    assert shown >= 20


def test_help_shows_the_task_default_and_an_architecture_own() -> None:
    from tui.cli.settings_options import default_text

    info = TASKS["charlm"]
    meta = info.settings.settings()["lr"]
    assert default_text(info, "lr", meta, task_defaults("charlm")["lr"]) == (
        "default: 0.005; rnn: 0.001; numpy-rnn: 0.1"
    )


@pytest.mark.parametrize("command", ["eval", "predict", "translate", "forecast", "generate"])
def test_every_option_of_the_inference_commands_has_a_help_line(command: str) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    for action in sub._actions:
        if action.dest != "help":
            assert action.help, f"`{command}` option {action.option_strings or action.dest}"


def test_every_setting_is_declared_completely() -> None:
    for task, name, meta in ALL_SETTINGS:
        assert meta.label and meta.help, (task, name)
        assert meta.group in TASKS[task].settings.groups(), (task, name, meta.group)
        if meta.kind == "choice":
            assert meta.choices, (task, name)


@pytest.mark.parametrize("task", TASKS)
def test_the_defaults_of_every_architecture_are_valid(task: str) -> None:
    for arch in TASKS[task].archs:
        config = default_config(task, arch)
        assert type(config) is TASKS[task].settings
        assert config.arch == arch


def _out_of_range(meta: Setting) -> object | None:
    if meta.kind == "choice":
        return "no-such-choice"
    if meta.minimum is not None:
        return type(meta.minimum)(meta.minimum - 1) if not meta.above else meta.minimum
    if meta.maximum is not None:
        return meta.maximum + 1
    return None


@pytest.mark.parametrize(
    ("task", "name", "meta"),
    [(t, n, m) for t, n, m in ALL_SETTINGS if _out_of_range(m) is not None],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_value_out_of_range_is_refused_naming_its_field(
    task: str, name: str, meta: Setting
) -> None:
    config = default_config(task)
    bad = dataclasses.replace(config, **{name: _out_of_range(meta)})
    with pytest.raises(ConfigError) as info:
        bad.validate()
    assert info.value.field == name
    assert str(info.value).startswith(meta.option(name))
    assert "\n" not in str(info.value)


def test_config_error_carries_field_reason_and_line() -> None:
    error = ConfigError("must be a positive integer (got 0)", "seq_len")
    assert (error.field, error.reason) == ("seq_len", "must be a positive integer (got 0)")
    assert str(error) == "--seq-len must be a positive integer (got 0)"


def test_a_rule_across_settings_names_its_field() -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig(epochs=None, minutes=None).validate()
    assert info.value.field == "epochs"
    with pytest.raises(ConfigError) as info:
        default_config("gradflow", "numpy-rnn", problem="adding")
    assert info.value.field == "problem"
    with pytest.raises(ConfigError) as info:
        default_config("charlm", bidirectional=True)
    assert info.value.field == "bidirectional"


def test_eval_every_zero_is_refused_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "charlm", "--eval-every", "0", "--epochs", "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "rnn-tui: error: --eval-every must be a positive number (got 0.0)"
    )


def test_a_task_lacks_the_options_of_another(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "charlm", "--horizon", "3"])
    assert "unrecognized arguments: --horizon 3" in capsys.readouterr().err


@pytest.mark.parametrize("summary", [False, True])
def test_an_unknown_key_in_a_settings_file_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], summary: bool
) -> None:
    settings = {"task": "charlm", "hiden": 32}
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"config": settings} if summary else settings))
    assert main(["train", "charlm", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rnn-tui: error: config ") and err.endswith("hiden")
    assert "\n" not in err


def test_a_settings_file_overrides_the_task_defaults_and_options_override_it(
    tmp_path: Path,
) -> None:
    from tui.cli.train import _config_file

    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"hidden": 48, "lr": 0.01}))
    values = _config_file(str(path), "charlm")
    config = default_config("charlm", None, **values | {"lr": 0.02})
    assert (config.hidden, config.lr, config.batch) == (48, 0.02, task_defaults("charlm")["batch"])


def test_a_stored_config_is_read_as_its_task_settings_class() -> None:
    stored = default_config("translation", beam=3).to_dict()
    config = config_from_dict(stored)
    assert type(config).__name__ == "TranslationSettings" and config.beam == 3


def test_an_older_run_with_every_task_key_at_its_default_still_opens() -> None:
    """Runs from before the per-task settings stored every key; the foreign ones are defaults."""
    stored = default_config("charlm").to_dict() | {"horizon": 1, "beam": 5, "vocab_size": 30000}
    assert config_from_dict(stored) == default_config("charlm")
    with pytest.raises(ConfigError, match="unknown setting key for task charlm: beam"):
        config_from_dict(stored | {"beam": 3})
