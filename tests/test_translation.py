"""The translation task end to end: train, eval, translate (CLI and API), resume, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_translation_data import write_multi30k

from tasks.engine.player import load_player
from tasks.engine.settings import ConfigError
from tasks.engine.trainer import Trainer
from tasks.registry import create_task, default_config
from tasks.translation.player import MAX_SOURCE_TOKENS
from tasks.translation.task import output_limit
from tui.cli import main

TINY = ["--hidden", "16", "--embed", "8", "--batch", "16", "--threads", "1", "--beam", "3"]


@pytest.fixture(scope="module")
def data(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("m30k") / "multi30k"
    return write_multi30k(real_data, folder, n_train=200, n_eval=20)


@pytest.fixture(scope="module")
def checkpoint(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "run"
    config = default_config(
        "translation", "gru", dataset=str(data), hidden=16, embed=8, batch=16, threads=1,
        epochs=2, beam=3, min_freq=1,
    )  # fmt: skip
    events = list(Trainer(create_task(config), run).run())
    assert events[-1].kind == "finished"
    return run / "last.pt"


def test_train_eval_and_translate_cli(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = tmp_path / "run"
    args = ["train", "translation", "--dataset", str(data), *TINY, "--epochs", "1",
            "--out", str(run), "--json"]  # fmt: skip
    assert main(args) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "sacreBLEU nrefs:1|case:lc|eff:no|tok:13a" in lines[0]["dataset_note"]
    metrics = lines[-1]["metrics"]
    for key in ("val_bleu", "test_bleu", "test_bleu_cased", "test_bleu_greedy", "wall_s"):
        assert key in metrics
    assert main(["eval", str(run / "last.pt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["test_bleu"] == metrics["test_bleu"]

    assert main(["translate", str(run / "last.pt"), "Ein Mann fährt Fahrrad.", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source_tokens"] == ["ein", "mann", "fährt", "fahrrad", "."]
    assert out["beam"] == 3
    rows = len(out["tokens"]) + (1 if out["finished"] else 0)
    assert len(out["attention"]) == rows
    assert all(len(r) == 5 and abs(sum(r) - 1) < 1e-3 for r in out["attention"])
    assert main(["translate", str(run / "last.pt"), "Ein Hund.", "Eine Frau.", "--beam", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_greedy_and_beam_translations_are_bounded(checkpoint: Path) -> None:
    translator = load_player(checkpoint, "translation")
    for beam in (1, 4):
        result = translator.translate("Zwei Hunde spielen im Schnee.", beam=beam)
        assert result.text and len(result.tokens) <= output_limit(6, translator.config.max_len)
        assert len(result.attention) == len(result.tokens) + result.finished


def test_empty_input_is_a_clear_error(checkpoint: Path, capsys: pytest.CaptureFixture) -> None:
    translator = load_player(checkpoint, "translation")
    with pytest.raises(ValueError, match="the text is empty: type a sentence in German"):
        translator.translate("   ")
    with pytest.raises(ValueError, match="no words"):
        translator.translate("\u200b")
    assert main(["translate", str(checkpoint), ""]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "rnn-tui: error: the text is empty: type a sentence in German"


def test_only_unknown_words_gives_a_bounded_guess_and_a_note(checkpoint: Path) -> None:
    result = load_player(checkpoint, "translation").translate("Xylofonquatsch Blubberwurst", beam=3)
    assert result.unknown == ["xylofonquatsch", "blubberwurst"]
    assert any("none of these words" in n for n in result.notes)
    assert len(result.tokens) <= output_limit(2, 50)


def test_a_sentence_longer_than_any_in_training(checkpoint: Path) -> None:
    translator = load_player(checkpoint, "translation")
    words = ["ein", "mann", "mit", "einem", "hut", "geht", "über", "die", "straße", "und"]
    long = " ".join(words * 30)  # 300 tokens; the training pairs have at most 50
    result = translator.translate(long, beam=2)
    assert len(result.source_tokens) == MAX_SOURCE_TOKENS
    assert any("only the first" in n for n in result.notes)
    assert len(result.tokens) <= output_limit(MAX_SOURCE_TOKENS, translator.config.max_len)


def test_wrong_language_and_script_get_a_note(checkpoint: Path) -> None:
    translator = load_player(checkpoint, "translation")
    chinese = translator.translate("我们今天去公园散步。")
    assert any("looks like Chinese" in n for n in chinese.notes)
    assert chinese.unknown  # none of it is German
    english = translator.translate("The cat is sleeping on the sofa.")
    assert english.text  # English words read as unknown German ones: a bounded guess
    assert len(english.tokens) <= output_limit(8, 50)


def test_checkpoint_of_another_task_is_refused(tmp_path: Path, capsys) -> None:
    text = tmp_path / "t.txt"
    text.write_text("hello world, this is a tiny text. " * 200)
    run = tmp_path / "lm"
    args = ["train", "charlm", "--dataset", str(text), "--hidden", "8", "--layers", "1",
            "--epochs", "1", "--seq-len", "16", "--threads", "1", "--out", str(run)]  # fmt: skip
    assert main(args) == 0
    capsys.readouterr()
    assert main(["translate", str(run / "last.pt"), "Hallo"]) == 2
    assert "needs a 'translation' one" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--direction", "zh-en"], "--direction zh-en does not apply"),
        (["--arch", "rnn"], "--arch must be one of gru, lstm, mingru, minlstm, indrnn, lru"),
        (["--teacher-forcing", "1.5"], "--teacher-forcing must be in [0, 1]"),
        (["--beam", "0"], "--beam must be a positive integer"),
        (["--max-len", "1"], "no training pair is at most 1 tokens long"),
    ],
)
def test_bad_options_are_one_line(
    data: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    args = ["train", "translation", "--dataset", str(data), *TINY, "--epochs", "1", *argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(("attention", "arch"), [("none", "gru"), ("additive", "lstm")])
def test_variants_train_one_step(data: Path, attention: str, arch: str) -> None:
    config = default_config(
        "translation", arch, dataset=str(data), hidden=8, embed=8, batch=8, threads=1,
        epochs=1, attention_type=attention, teacher_forcing=0.5,
    )  # fmt: skip
    task = create_task(config)
    stats = task.train_step(task.batches(0)[0], 1e-3)
    assert stats.loss > 0 and stats.tokens > 0
    assert (task.model.attn is None) == (attention == "none")


def test_resume_is_exact(data: Path, tmp_path: Path) -> None:
    def config(epochs: int):
        return default_config(
            "translation", "gru", dataset=str(data), hidden=8, embed=8, batch=16, threads=1,
            epochs=epochs, beam=1,
        )  # fmt: skip

    whole = list(Trainer(create_task(config(2)), tmp_path / "a").run())[-1].metrics
    list(Trainer(create_task(config(1)), tmp_path / "b").run())
    resumed = list(Trainer.resume(tmp_path / "b", epochs=2).run())[-1].metrics
    assert resumed["val_bleu"] == whole["val_bleu"]
    assert resumed["test_bleu"] == whole["test_bleu"]


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="--attention-type must be"):
        default_config("translation", attention_type="cosine")
    with pytest.raises(ConfigError, match="--direction must be auto or like de-en"):
        default_config("translation", direction="German")


def test_chinese_to_english_and_back(real_data: Path, tmp_path: Path) -> None:
    source = real_data / "translation" / "cmn-eng" / "cmn.txt"
    cmn = tmp_path / "cmn.txt"
    cmn.write_text("\n".join(source.read_text(encoding="utf-8").splitlines()[:400]) + "\n")
    for direction, tok in (("zh-en", "13a"), ("en-zh", "zh")):
        config = default_config(
            "translation", "gru", dataset=str(cmn), direction=direction, hidden=8, embed=8,
            batch=32, threads=1, epochs=1, beam=2, min_freq=1,
        )  # fmt: skip
        task = create_task(config)
        assert f"tok:{tok}" in task.dataset_note
        run = tmp_path / direction
        assert list(Trainer(task, run).run())[-1].kind == "finished"
        translator = load_player(run / "last.pt", "translation")
        if direction == "zh-en":
            result = translator.translate("我很忙。")
            assert result.source_tokens == ["我", "很", "忙", "。"]
            assert any("does not look like Chinese" in n for n in translator.translate("Hi").notes)
        else:
            text = translator.translate("I am busy.").text
            assert text and not re.search(r"[\u4e00-\u9fff] | [\u4e00-\u9fff]", text)
