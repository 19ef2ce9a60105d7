"""The sweep's search space: defaults from the declared settings and the registry, space files
in TOML and JSON, every bad space as one line naming the file and key, and `suggest`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.engine.settings import Search, TrainConfig
from tasks.experiments.space import (
    SweepError,
    default_space,
    load_space,
    space_from_json,
    space_to_json,
    suggest,
)
from tasks.registry import TASKS


@pytest.mark.parametrize(
    ("task", "dataset"),
    [(name, d.name) for name, info in TASKS.items() for d in info.datasets],
)
def test_every_task_has_a_default_space_its_settings_accept(task: str, dataset: str) -> None:
    info = TASKS[task]
    space = default_space(info, dataset)  # checked against the settings: raises if not
    assert "lr" in space and "hidden" in space
    assert set(space["arch"].choices) <= set(info.archs) and len(space["arch"].choices) > 1
    assert list(space) == [name for name in info.settings.settings() if name in space]


def test_ranges_come_from_the_settings_and_the_task_changes_them() -> None:
    declared = TrainConfig.settings()
    assert declared["lr"].search == Search.range(1e-4, 1e-2, log=True)
    charlm = default_space(TASKS["charlm"], "tiny-shakespeare")
    assert charlm["weight_decay"] == declared["weight_decay"].search  # not changed by charlm
    assert charlm["hidden"] == Search.range(128, 512, step=64)  # changed by charlm
    assert "seq_len" not in default_space(TASKS["gradflow"], "synthetic")  # T is the experiment
    assert "embed" not in default_space(TASKS["timeseries"], "airline-passengers")


def test_rt_polarity_searches_word_vectors_and_imdb_does_not() -> None:
    rt = default_space(TASKS["sentiment"], "rt-polarity")
    assert rt["word_vectors"] == Search.among(None, "imdb")
    assert "seq_len" not in rt
    imdb = default_space(TASKS["sentiment"], "imdb")
    assert "word_vectors" not in imdb and "seq_len" in imdb


TOML = """\
dropout = [0, 0.3]
batch = 32
word_vectors = ["", "imdb"]

[lr]
low = 1e-4
high = 1e-2
log = true

[hidden]
low = 32
high = 256
step = 32

[arch]
choices = ["gru", "lstm"]
"""

JSON = {
    "arch": ["gru", "lstm"],
    "lr": {"low": 0.0001, "high": 0.01, "log": True},
    "hidden": {"low": 32, "high": 256, "step": 32},
    "dropout": {"choices": [0.0, 0.3]},
    "batch": 32,
    "word_vectors": [None, "imdb"],
}


def test_toml_and_json_files_give_the_same_typed_space(tmp_path: Path) -> None:
    toml_file, json_file = tmp_path / "space.toml", tmp_path / "space.json"
    toml_file.write_text(TOML)
    json_file.write_text(json.dumps(JSON))
    info = TASKS["sentiment"]
    space = load_space(toml_file, info)
    assert space == load_space(json_file, info)
    assert list(space) == ["arch", "hidden", "lr", "dropout", "batch", "word_vectors"]  # fields
    assert space["lr"] == Search.range(1e-4, 1e-2, log=True)
    assert space["hidden"] == Search.range(32, 256, step=32)
    assert isinstance(space["hidden"].low, int)
    assert space["dropout"].choices == (0.0, 0.3) and isinstance(space["dropout"].choices[0], float)
    assert space["batch"] == Search.among(32)  # a scalar: fixed
    assert space["word_vectors"] == Search.among(None, "imdb")  # "" is none
    assert space_from_json(space_to_json(space)) == space


BAD = [
    ("space.toml", "[hiden]\nlow = 16\nhigh = 64\n", "hiden: not a setting of sentiment (did you"),
    ("space.toml", "[lr]\nlow = 0.01\nhigh = 0.001\n", "lr: empty range"),
    ("space.toml", "[layers]\nlow = 2\nhigh = 2\n", "layers: empty range"),
    ("space.toml", "arch = []\n", "arch: empty"),
    ("space.toml", "[arch]\nchoices = []\n", "arch: empty choices"),
    ("space.toml", "[dropout]\nlow = 0.0\nhigh = 1.5\n", "dropout: must be in [0, 1)"),
    ("space.toml", "[lr]\nlow = 0.0\nhigh = 0.1\n", "lr: must be a positive number"),
    ("space.toml", 'arch = ["gru", "numpy-rnn"]\n', "arch: sentiment does not offer 'numpy-rnn'"),
    ("space.toml", 'arch = ["gru", "gru"]\n', 'arch: lists "gru" twice'),
    ("space.toml", "[arch]\nlow = 1\nhigh = 2\n", "arch: a range needs a number setting"),
    ("space.toml", "[weight_decay]\nlow = 0\nhigh = 0.1\nlog = true\n", "log range needs low > 0"),
    ("space.toml", "[hidden]\nlow = 16.5\nhigh = 64\n", "hidden: hidden is an integer setting"),
    ("space.toml", "[dropout]\nlow = 0.1\nhigh = 0.5\nstep = 1\n", "step applies to integer"),
    ("space.toml", "[lr]\nlow = 1e-4\nhigh = 1e-2\nlogs = true\n", "lr: unknown key 'logs'"),
    ("space.toml", "[lr]\nlow = 1e-4\n", "lr: give low and high"),
    ("space.toml", 'dataset = "imdb"\n', "dataset: set by the command"),
    ("space.toml", "lr = [\n", "not valid TOML"),
    ("space.toml", "", "names no setting"),
    ("space.json", "{", "not valid JSON"),
    ("space.json", "[1, 2]", "must hold an object"),
    ("space.json", '{"hidden": {"low": 16, "high": 64, "step": 0}}', "step must be a positive"),
    ("space.yaml", "lr: 1\n", "a search space is a .toml or .json file"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "needle"), BAD, ids=[b[2][:30] for b in BAD])
def test_a_bad_space_is_one_line_naming_the_file_and_key(
    tmp_path: Path, name: str, text: str, needle: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SweepError) as error:
        load_space(path, TASKS["sentiment"])
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(path)), message
    assert needle in message, message


def test_a_missing_space_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match=r"cannot read the search space .*missing\.toml"):
        load_space(tmp_path / "missing.toml", TASKS["names"])


def test_suggest_draws_typed_values_inside_the_space() -> None:
    import optuna

    space = {
        "arch": Search.among("gru", "lstm"),
        "hidden": Search.range(32, 256, step=32),
        "batch": Search.range(16, 128, log=True),
        "lr": Search.range(1e-4, 1e-2, log=True),
        "word_vectors": Search.among(None, "imdb"),
    }
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        params = suggest(study.ask(), space)
        assert params["arch"] in ("gru", "lstm") and params["word_vectors"] in (None, "imdb")
        assert isinstance(params["hidden"], int) and params["hidden"] % 32 == 0
        assert 32 <= params["hidden"] <= 256 and 16 <= params["batch"] <= 128
        assert isinstance(params["lr"], float) and 1e-4 <= params["lr"] <= 1e-2


def test_a_search_says_what_it_is() -> None:
    assert Search.range(1e-4, 1e-2, log=True).describe() == "log [0.0001, 0.01]"
    assert Search.range(32, 512, step=32).describe() == "[32, 512] step 32"
    assert Search.among(None, "imdb").describe() == "one of none, imdb"
    assert Search.among(32).describe() == "32"
    for search in (Search.range(1, 3), Search.among("gru", None)):
        assert Search.from_dict(json.loads(json.dumps(search.to_dict()))) == search
