"""`rnn-tui inspect`: charlm units and gate saturation, sentiment saliency and faithfulness, and
bad input as one line (exit 2). Layers and units are counted from 1 on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_helpers import one_line_error, run_cli
from engine_fixtures import engine_config

from models.inspect import FEATURES, feature, rank_units, regex_feature, saturation
from tasks.charlm.inspect import trace_charlm
from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.player import load_player
from tasks.engine.trainer import Trainer
from tasks.registry import config_from_dict, create_task
from tasks.sentiment.explain import faithfulness


def train(folder: Path, task: str, arch: str | None = None, **settings: Any) -> Path:
    """A tiny run of `task` trained for one epoch; its last checkpoint."""
    folder.mkdir(exist_ok=True)
    config = engine_config(task, folder, arch, epochs=1, **settings)
    for _ in Trainer(create_task(config), folder / "run").run():
        pass
    return folder / "run" / "last.pt"


@pytest.fixture(scope="module")
def charlm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 8-unit LSTM charlm checkpoint."""
    return train(tmp_path_factory.mktemp("charlm"), "charlm", layers=2)


@pytest.fixture(scope="module")
def sentiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(tmp_path_factory.mktemp("sentiment"), "sentiment", attention=True)


@pytest.fixture
def play(charlm: Path) -> Path:
    """Text the charlm model can read: the 3,000-character play it was trained on."""
    return Path(load_config(load_checkpoint(charlm)).dataset)


def load_config(payload: dict[str, Any]) -> Any:
    return config_from_dict(payload["config"])


def report(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run_cli(capsys, "inspect", *argv, "--json")
    assert code == 0 and not err, err  # no progress bar: stderr is not a terminal
    return json.loads(out)


def test_charlm_ranks_units_like_the_library(charlm: Path, play: Path, capsys) -> None:
    found = report(capsys, str(charlm), "--text", str(play), "--top", "2")
    payload = load_checkpoint(charlm)
    trace = trace_charlm(payload, load_config(payload), play.read_text())
    assert (found["layers"], found["units"], found["ranked_kinds"]) == (2, 8, ["h", "c"])
    assert [row["name"] for row in found["features"]] == list(FEATURES)
    for row in found["features"]:
        signal = feature(trace.text, row["name"])
        if signal.min() == signal.max():  # no quotes or brackets in the play
            assert not row["units"] and "constant" in row["note"]
            continue
        expected = rank_units(trace, signal, kinds=("h", "c"), top=2)
        got = [(u["layer"] - 1, u["kind"], u["unit"] - 1, u["correlation"]) for u in row["units"]]
        assert got == [(s.layer, s.kind, s.unit, pytest.approx(s.correlation, abs=1e-5))
                       for s in expected]  # fmt: skip
    rows = {(r["layer"], r["gate"]): r for r in found["saturation"]}
    assert len(rows) == 2 * 3  # 2 layers x the input, forget and output gates
    for s in saturation(trace):
        row = rows[(s.layer + 1, s.gate)]
        assert row["left_per_unit"] == pytest.approx(s.left.tolist(), abs=1e-5)
        assert row["right_mean"] == pytest.approx(float(s.right.mean()), abs=1e-5)
        assert row["left_saturated_units"] == pytest.approx(float((s.left > 0.5).mean()))


def test_charlm_table_and_the_default_text(charlm: Path, play: Path, capsys) -> None:
    code, out, err = run_cli(capsys, "inspect", str(charlm), "--feature", "vowel", "--top", "1")
    assert code == 0 and not err, err
    lines = out.splitlines()
    assert lines[0] == f"text: {play}, validation split, 300 characters"
    assert lines[1].startswith("model: lstm 2×8")
    assert sum(line.startswith("vowel ") for line in lines) == 1
    assert not any(line.startswith("quotes") for line in lines)
    assert sum(" forget gate " in line for line in lines) == 2


def test_one_unit_with_a_regex(charlm: Path, play: Path, capsys) -> None:
    found = report(capsys, str(charlm), "--text", str(play), "--unit", "2:8", "--regex", "ROMEO")
    unit = found["unit"]
    assert (unit["layer"], unit["unit"]) == (2, 8)
    names = [row["name"] for row in unit["features"]]
    assert names == [*FEATURES, "regex ROMEO"]
    payload = load_checkpoint(charlm)
    trace = trace_charlm(payload, load_config(payload), play.read_text())
    signal = regex_feature(trace.text, "ROMEO")
    for kind in trace.kinds:
        scores = rank_units(trace, signal, kinds=(kind,), layers=(1,), top=8)
        mine = next(s.correlation for s in scores if s.unit == 7)
        assert unit["features"][-1]["correlation"][kind] == pytest.approx(mine, abs=1e-5)
    stretch = unit["most_active"]
    h = trace.unit(1, "h", 7)
    assert stretch["text"] == trace.text[stretch["start"] : stretch["end"]]
    means = np.lib.stride_tricks.sliding_window_view(h, 60).mean(axis=1)  # every 60-char window
    start = int(np.abs(means).argmax())  # the strongest stretch, either sign
    assert (stretch["start"], stretch["end"]) == (start, start + 60)
    assert stretch["mean"] == pytest.approx(float(means[start]), abs=1e-4)
    code, out, _ = run_cli(capsys, "inspect", str(charlm), "--text", str(play), "--unit", "1:1")
    assert code == 0 and "unit 1:1: correlation with each feature" in out
    assert "most active (h, mean" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--unit", "3:1"], "has 2 layer(s)"),
        (["--unit", "1:9"], "has 8 units"),
        (["--unit", "0:1"], "counted from 1"),
        (["--unit", "one"], "expected L:N"),
        (["--regex", "("], "does not compile"),
        (["--regex", "zzqx"], "never matches"),
        (["--feature", "colour"], "colour"),
        (["--feature", "vowel", "--regex", "a"], "not allowed"),
    ],
)
def test_bad_charlm_options_are_one_line(
    charlm: Path, play: Path, argv: list[str], needle: str, capsys
) -> None:
    code, _, err = run_cli(capsys, "inspect", str(charlm), "--text", str(play), *argv)
    one_line_error(code, err, needle)


def test_bad_texts_are_one_line(charlm: Path, tmp_path: Path, capsys) -> None:
    empty, latin = tmp_path / "empty.txt", tmp_path / "latin.txt"
    empty.write_text("")
    latin.write_bytes(b"caf\xe9\n")
    for path, needle in ((empty, "empty"), (latin, "not UTF-8"), (tmp_path / "no.txt", "no such")):
        code, _, err = run_cli(capsys, "inspect", str(charlm), "--text", str(path))
        one_line_error(code, err, needle)
    unseen = tmp_path / "unseen.txt"
    unseen.write_text("ROMEO: 42 {}")
    code, _, err = run_cli(capsys, "inspect", str(charlm), "--text", str(unseen))
    one_line_error(code, err)
    code, _, err = run_cli(capsys, "inspect", str(charlm), "--text", str(unseen), "--unit", "3:1")
    one_line_error(code, err, "has 2 layer(s)")  # checked before the text is traced


def test_uninspectable_core_and_other_tasks(tmp_path: Path, capsys) -> None:
    lru = train(tmp_path / "lru", "charlm", "lru")
    code, _, err = run_cli(capsys, "inspect", str(lru))
    one_line_error(code, err, "`lru` does not expose per-step states")
    series = train(tmp_path / "ts", "timeseries")
    code, _, err = run_cli(capsys, "inspect", str(series.parent))
    one_line_error(code, err, "inspect covers charlm and sentiment checkpoints")


def test_sentiment_saliency_per_review_and_faithfulness(
    sentiment: Path, tmp_path: Path, capsys
) -> None:
    reviews = tmp_path / "reviews.txt"
    texts = ["the film was great and the plot good", "awful boring story and a dull actor",
             "great"]  # fmt: skip
    reviews.write_text(f"{texts[0]}\n\n{texts[1]}\n{texts[2]}\n")
    found = report(capsys, str(sentiment), "--text", str(reviews), "--k", "2")
    assert [s["line"] for s in found["saliency"]] == [1, 3, 4]
    first = found["saliency"][0]
    assert first["tokens"] == texts[0].split() and len(first["attention"]) == 8
    assert found["saliency"][2]["drops"] is None  # one token: nothing to remove 2 of
    expected = faithfulness(load_player(sentiment, "sentiment"), texts, k=2)
    summary = found["faithfulness"]
    assert (summary["k"], summary["reviews"], summary["skipped"]) == (2, 2, 1)
    assert summary["drop"] == pytest.approx(expected.drop, abs=1e-5)
    rows = [s["drops"] for s in found["saliency"][:2]]
    for method, mean in summary["drop"].items():
        assert mean == pytest.approx(sum(r[method] for r in rows) / 2, abs=1e-4)
    code, out, _ = run_cli(capsys, "inspect", str(sentiment), "--text", str(reviews), "--k", "2")
    assert code == 0 and "line 3: " in out and "  attention: " in out
    assert "faithfulness over 2 reviews (1 skipped: at most 2 tokens read)" in out
    assert "most faithful: " in out


def test_sentiment_default_reviews(sentiment: Path, capsys) -> None:
    found = report(capsys, str(sentiment), "--reviews", "5", "--k", "1")
    assert found["reviews"]["count"] == 5 and "saliency" not in found
    assert found["reviews"]["source"] == "reviews.csv, test split, first 5 of 8 reviews"
    assert set(found["faithfulness"]["drop"]) == {
        "integrated gradients", "gradient x input", "attention", "random"
    }  # fmt: skip


@pytest.mark.parametrize("option", [["--feature", "vowel"], ["--unit", "1:1"], ["--regex", "a"]])
def test_charlm_options_on_a_sentiment_checkpoint(
    sentiment: Path, option: list[str], capsys
) -> None:
    code, _, err = run_cli(capsys, "inspect", str(sentiment), *option)
    one_line_error(code, err, option[0], "for charlm checkpoints")


def test_progress_only_on_a_terminal(
    charlm: Path, play: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run_cli(capsys, "inspect", str(charlm), "--text", str(play), "--json")
    assert code == 0 and json.loads(out)["text"]["characters"] == 3000
    assert err.startswith("\rtracing ") and "100%" in err and err.endswith("\r\x1b[K")
