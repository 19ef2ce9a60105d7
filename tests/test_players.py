"""The players: one shared `load_player` for every task, `answer` equal to `answer_many`, and the
CLI's `--file` inputs (stdin, bad lines) and `eval --dataset FILE` on labelled files."""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import one_line_error, run_cli
from engine_fixtures import INPUTS, engine_config

from tasks.engine.checkpoint import CheckpointError
from tasks.engine.player import InputError, Player, load_player, player_class
from tasks.engine.trainer import Trainer
from tasks.registry import TASKS, create_task
from tui.cli import build_parser
from tui.cli.infer import DEDICATED
from tui.cli.inputs import MAX_LINE_BYTES, Progress, with_progress

OPTIONS: dict[str, dict[str, Any]] = {"charlm": {"length": 40}, "translation": {"beam": 2}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny checkpoint per task with a player, trained here for one short epoch."""
    out = {}
    for task in INPUTS:
        folder = tmp_path_factory.mktemp(task)
        config = engine_config(task, folder, epochs=1)
        for _ in Trainer(create_task(config), folder / "run").run():
            pass
        out[task] = folder / "run" / "last.pt"
    return out


def close(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-5 (a batch may add float noise), recursively."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# -- the contract ---------------------------------------------------------------------------


def test_every_task_with_a_player_has_inputs() -> None:
    with_player = {name for name, info in TASKS.items() if info.player}
    missing = sorted(with_player - set(INPUTS))
    assert not missing, f"tests/engine_fixtures.py: add three inputs to INPUTS for {missing}"


@pytest.mark.parametrize("task", list(INPUTS))
def test_load_player_answers_one_and_many_alike(task: str, runs: dict[str, Path]) -> None:
    player = load_player(runs[task], task, **OPTIONS.get(task, {}))
    assert isinstance(player, Player) and type(player) is player_class(task)
    description = player.describe()
    assert description and "\n" not in description
    texts = INPUTS[task]
    single = [player.answer(t) for t in texts]
    many = list(player.answer_many(texts, batch_size=2))  # two groups: 2 + 1
    assert len(many) == len(texts)
    for one, batched in zip(single, many, strict=True):
        assert close(one.to_dict(), batched.to_dict()), (one, batched)
        line = batched.to_text()
        assert line and "\n" not in line
        json.dumps(batched.to_dict())


def test_generation_in_a_batch_is_the_stream_the_play_screen_shows(runs: dict[str, Path]) -> None:
    for strategy in ("top-p", "greedy"):
        generator = load_player(runs["charlm"], length=60, strategy=strategy, seed=3)
        streamed = list(generator.stream("ROMEO:", **generator.settings))
        answer = generator.answer("ROMEO:")
        assert answer.text == "".join(c for c, _ in streamed)
        assert close(answer.probabilities, [p for _, p in streamed])


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """Count the calls of `owner.name` (each call appends the size of its first argument)."""
    calls: list[int] = []
    real = getattr(owner, name)

    def wrapper(first: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(first))
        return real(first, *args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def test_answer_many_runs_one_model_call_per_group(
    runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sentiment = load_player(runs["sentiment"])
    calls = counting(monkeypatch, sentiment.model, "forward")
    list(sentiment.answer_many(["good", "a dull plot", "great film", "awful"], batch_size=3))
    assert calls == [3, 1]
    translator = load_player(runs["translation"], beam=2)
    calls = counting(monkeypatch, translator.model, "beam_search")
    list(translator.answer_many(["Ein hund.", "Die katze.", "Ein mann läuft."], batch_size=8))
    assert sorted(calls) == [1, 2]  # one call per source length (3 and 4 tokens)
    forecaster = load_player(runs["timeseries"])
    calls = counting(monkeypatch, forecaster.task, "forecast_paths")
    list(forecaster.answer_many(["-1", "-2", "-3"], batch_size=8))
    assert calls == [3]
    generator = load_player(runs["charlm"], length=5)
    calls = counting(monkeypatch, generator.stepper, "step_many")
    list(generator.answer_many(["ROMEO:", "O", "What"], batch_size=8))
    assert calls == [3] * 4  # every step after the first samples all three at once


def test_load_player_refuses_another_tasks_checkpoint(runs: dict[str, Path]) -> None:
    with pytest.raises(CheckpointError, match="needs a 'sentiment' one"):
        load_player(runs["charlm"], "sentiment")
    with pytest.raises(CheckpointError, match="no player"):
        player_class("gradflow")


def test_answer_many_names_the_refused_input(runs: dict[str, Path]) -> None:
    player = load_player(runs["sentiment"])
    answers = player.answer_many(["good", "bad", "fine", "<br />"], batch_size=2)
    assert len([next(answers), next(answers)]) == 2  # the first group is answered
    with pytest.raises(InputError, match="no words or characters") as info:
        next(answers)
    assert info.value.index == 3


# -- --file -----------------------------------------------------------------------------------


def test_predict_reads_stdin_one_input_per_line(
    runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = ["a good film", "awful", "the plot was dull", "great story"]
    stdin = io.TextIOWrapper(io.BytesIO(("\n".join(texts) + "\n").encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, err = run_cli(capsys, "predict", str(runs["sentiment"]), "--file", "-",
                             "--batch-size", "3", "--json")  # fmt: skip
    assert code == 0 and err == ""  # no progress bar: stderr is not a terminal
    rows = [json.loads(line) for line in out.splitlines()]
    player = load_player(runs["sentiment"])
    expected = [player.answer(t).to_dict() for t in texts]
    assert len(rows) == len(texts) and all(close(r, e) for r, e in zip(rows, expected, strict=True))


@pytest.mark.parametrize("task", list(INPUTS))
def test_every_player_command_answers_a_file_line_by_line(
    task: str, runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command, lines = DEDICATED.get(task, "predict"), INPUTS[task]
    path = tmp_path / "inputs.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    extra = ["--length", "40"] if command == "generate" else []
    code, out, _ = run_cli(capsys, command, str(runs[task]), "--file", str(path), *extra)
    options = OPTIONS.get(task, {}) | ({"beam": None} if task == "translation" else {})
    player = load_player(runs[task], task, **options)
    assert code == 0
    assert out.splitlines() == [player.answer(t).to_text() for t in lines]


def bad_file(tmp_path: Path, kind: str) -> Path:
    """A file of inputs whose third line is bad in one way."""
    good = b"a good film\nawful\n"
    third = {
        "blank": b"   \n",
        "long": b"x" * (10 * 1024 * 1024) + b"\n",
        "not utf-8": b"caf\xe9 cr\xe8me\n",
    }[kind]
    path = tmp_path / f"{kind.replace(' ', '-')}.txt"
    path.write_bytes(good + third + b"great\n")
    return path


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("blank", "line 3 is blank"),
        ("long", f"line 3: longer than {MAX_LINE_BYTES:,} bytes"),
        ("not utf-8", "line 3: not UTF-8 text (byte 4 of the line is 0xe9)"),
    ],
)
def test_a_bad_line_is_one_clear_line_naming_file_and_line(
    kind: str, needle: str, runs: dict[str, Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = bad_file(tmp_path, kind)
    code, out, err = run_cli(capsys, "predict", str(runs["sentiment"]), "--file", str(path))
    one_line_error(code, err, str(path), needle)
    assert out == ""  # the file is checked before anything is answered


def test_a_line_the_model_refuses_names_its_line(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "texts.txt"
    path.write_text("good\nbad\n<br /><br />\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "predict", str(runs["sentiment"]), "--file", str(path))
    one_line_error(code, err, f"{path}, line 3: the text has no words")


def test_inputs_come_from_the_command_line_or_a_file(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = str(runs["sentiment"])
    code, _, err = run_cli(capsys, "predict", ckpt, "-")
    one_line_error(code, err, "use --file -")
    code, _, err = run_cli(capsys, "predict", ckpt)
    one_line_error(code, err, "give an input or --file")
    code, _, err = run_cli(capsys, "predict", ckpt, "good", "--file", str(tmp_path / "x.txt"))
    one_line_error(code, err, "not both")
    code, _, err = run_cli(capsys, "predict", ckpt, "--file", str(tmp_path / "missing.txt"))
    one_line_error(code, err, "cannot read", "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, _, err = run_cli(capsys, "predict", ckpt, "--file", str(empty))
    one_line_error(code, err, "empty.txt is empty")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_draws_on_a_terminal_only() -> None:
    screen = Terminal()
    assert list(with_progress(iter(range(5)), 5, screen)) == [0, 1, 2, 3, 4]
    drawn = screen.getvalue()
    assert "5/5 lines" in drawn and "100%" in drawn and drawn.endswith("\r\x1b[K")
    quiet = io.StringIO()
    bar = Progress(5, quiet)
    bar.update(5)
    bar.close()
    assert quiet.getvalue() == ""


# -- eval --dataset FILE ------------------------------------------------------------------------


def labelled(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "labelled.txt"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_eval_scores_a_sentiment_file_of_text_tab_label(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ["a good film\t1", "awful\tnegative", "great story\tPositive", "dull plot\t0"]
    path = labelled(tmp_path, rows)
    code, out, _ = run_cli(capsys, "eval", str(runs["sentiment"]), "--dataset", str(path),
                           "--json")  # fmt: skip
    assert code == 0
    report = json.loads(out)
    player = load_player(runs["sentiment"])
    predicted = [player.answer(r.split("\t")[0]).label for r in rows]
    truth = ["positive", "negative", "positive", "negative"]
    accuracy = sum(p == t for p, t in zip(predicted, truth, strict=True)) / 4
    assert report["metrics"]["accuracy"] == pytest.approx(accuracy)
    assert report["metrics"]["examples"] == 4
    assert sum(map(sum, report["confusion_matrix"]["matrix"])) == 4
    code, out, _ = run_cli(capsys, "eval", str(runs["sentiment"]), "--dataset", str(path))
    assert code == 0 and out.startswith("accuracy ")


def test_eval_names_the_line_of_a_bad_label(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"review number {i}\t{i % 2}" for i in range(1, 17)] + ["a good film\tmaybe"]
    path = labelled(tmp_path, rows)
    code, _, err = run_cli(capsys, "eval", str(runs["sentiment"]), "--dataset", str(path))
    one_line_error(code, err, f"{path}, line 17: the label must be 0, 1, negative or positive")
    path = labelled(tmp_path, ["a good film\t1", "no label here"])
    code, _, err = run_cli(capsys, "eval", str(runs["sentiment"]), "--dataset", str(path))
    one_line_error(code, err, "line 2 has no text<TAB>label")


def test_eval_scores_translation_on_two_aligned_files(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources, refs = tmp_path / "src.de", tmp_path / "ref.en"
    sources.write_text("Ein mann läuft.\nDie katze sitzt.\nEin hund.\n", encoding="utf-8")
    refs.write_text("A man runs.\nThe cat sits.\nA dog.\n", encoding="utf-8")
    ckpt = str(runs["translation"])
    code, out, _ = run_cli(capsys, "eval", ckpt, "--dataset", str(sources), "--references",
                           str(refs), "--json")  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert report["metrics"]["sentences"] == 3 and 0 <= report["metrics"]["bleu"] <= 100
    assert "case:lc" in report["bleu_signature"]
    refs.write_text("A man runs.\nThe cat sits.\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "eval", ckpt, "--dataset", str(sources), "--references",
                           str(refs))  # fmt: skip
    one_line_error(code, err, "has 3 lines but", "has 2; the files must be line-aligned")
    code, _, err = run_cli(capsys, "eval", str(runs["sentiment"]), "--dataset", str(sources),
                           "--references", str(refs))  # fmt: skip
    one_line_error(code, err, "--references is for translation checkpoints")


# -- help ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["eval", "predict", "translate", "forecast", "generate"])
def test_every_option_has_a_help_line_with_its_default(command: str) -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    parser = sub.choices[command]  # type: ignore[attr-defined]
    for action in parser._actions:
        if action.dest == "help" or not action.option_strings:
            continue
        assert action.help and "(default: " in action.help, action.option_strings
    assert "%(default)s" in " ".join(a.help or "" for a in parser._actions)
