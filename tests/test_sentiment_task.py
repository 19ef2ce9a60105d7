"""The sentiment task through the CLI: train, early stopping, eval --json, predict, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from cli_helpers import one_line_error, run_cli
from engine_fixtures import review_csv

from models.registry import get_architecture
from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.player import load_player
from tasks.engine.settings import BACKENDS, ConfigError
from tasks.registry import TASKS, create_task, default_config
from tasks.sentiment.task import binary_metrics
from tui.cli import main

TINY = ["--hidden", "16", "--embed", "16", "--batch", "16", "--threads", "1", "--dropout", "0"]


def word_csv(path: Path, n: int = 240, seed: int = 0) -> Path:
    """Reviews whose label shows in one sentiment word among five filler words."""
    return review_csv(path, n, seed, fillers=5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run on separable word reviews (learns them within a few epochs)."""
    folder = tmp_path_factory.mktemp("sentiment")
    data = word_csv(folder / "words.csv")
    code = main(["train", "sentiment", "--dataset", str(data), *TINY, "--epochs", "6",
                 "--lr", "1e-2", "--out", str(folder / "run"), "--json"])  # fmt: skip
    assert code == 0
    return folder / "run"


def test_train_reports_accuracy_f1_and_keeps_the_best(trained: Path) -> None:
    summary = json.loads((trained / "summary.json").read_text())
    metrics = summary["metrics"]
    assert metrics["test_accuracy"] >= 0.9 and metrics["test_f1"] >= 0.9
    assert {"val_accuracy", "wall_s", "train_tokens_per_s"} <= set(metrics)
    assert (trained / "best.pt").is_file()
    best = load_checkpoint(trained / "best.pt", "sentiment")
    assert best["metrics"]["val_accuracy"] == metrics["val_accuracy"]


def test_eval_json_has_the_confusion_matrix(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "eval", str(trained / "last.pt"), "--json")
    assert code == 0
    report = json.loads(out)
    matrix = report["confusion_matrix"]["matrix"]
    assert sum(map(sum, matrix)) == 24  # the 10% test part of 240 rows
    accuracy = (matrix[0][0] + matrix[1][1]) / 24
    assert report["metrics"]["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)


def test_predict_json_gives_label_probability_and_attention(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "predict", str(trained / "last.pt"), "a wonderful film",
                           "the plot was awful", "--json")  # fmt: skip
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert (first["label"], second["label"]) == ("positive", "negative")
    assert first["probability"] > 0.5 and first["positive"] == first["probability"]
    weights = [t["attention"] for t in first["tokens"]]
    assert [t["token"] for t in first["tokens"]] == ["a", "wonderful", "film"]
    assert sum(weights) == pytest.approx(1.0, abs=1e-4)
    code, out, _ = run_cli(capsys, "predict", str(trained / "last.pt"), "great!")
    assert code == 0 and out.startswith("positive ")


def test_predict_bad_input(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = str(trained / "last.pt")
    for text in ("", "   \n\t"):
        code, _, err = run_cli(capsys, "predict", ckpt, text)
        one_line_error(code, err, "the text is empty")
    code, _, err = run_cli(capsys, "predict", ckpt, "<br /><br />")
    one_line_error(code, err, "no words or characters to read")
    code, _, err = run_cli(capsys, "predict", ckpt, "x" * 1_000_001)
    one_line_error(code, err, "the limit is 1,000,000")
    predictor = load_player(trained / "last.pt", "sentiment")
    unknown = predictor.predict("zzyzx qwfp")
    assert unknown.unknown == 2 and "every token is unknown" in unknown.note
    assert unknown.label in ("positive", "negative") and 0.5 <= unknown.probability <= 1.0
    long_text = "good film " * 10_000
    assert len(long_text) == 100_000
    long = predictor.predict(long_text)
    assert len(long.tokens) == predictor.config.seq_len and "read 400 of 20000" in long.note
    assert long.tokens[-1][1:3] == (99_995, 99_999)  # offsets still point into the text
    mixed = predictor.predict("great 电影 film ✨ très bien")
    assert [t[0] for t in mixed.tokens] == ["great", "电影", "film", "✨", "très", "bien"]


def test_predict_rejects_a_checkpoint_of_another_task(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = load_checkpoint(trained / "last.pt")
    payload["task"] = "charlm"
    other = tmp_path / "other.pt"
    torch.save(payload, other)
    code, _, err = run_cli(capsys, "predict", str(other), "good")
    one_line_error(code, err, "is a 'charlm' checkpoint; predict needs a 'sentiment'")


def test_early_stopping_ends_when_validation_stops_improving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = word_csv(tmp_path / "words.csv")
    code, out, _ = run_cli(capsys, "train", "sentiment", "--dataset", str(data), *TINY,
                           "--epochs", "8", "--lr", "1e-9", "--warmup-steps", "0",
                           "--patience", "2", "--out", str(tmp_path / "run"), "--json")  # fmt: skip
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    full_evals = [e for e in events if e["event"] == "eval" and e["full"]]
    assert len(full_evals) == 3  # epoch 1 sets the best; 2 and 3 do not beat it: stop
    assert events[-1]["event"] == "finished" and not events[-1]["stopped"]


def test_bad_settings_and_datasets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(word_csv(tmp_path / "words.csv"))
    code, _, err = run_cli(capsys, "train", "sentiment", "--dataset", data, "--layers", "4")
    one_line_error(code, err, "1 to 3 --layers")
    code, _, err = run_cli(capsys, "train", "sentiment", "--dataset", data, "--arch", "numpy-rnn")
    one_line_error(code, err, "--arch must be one of gru, lstm, rnn, mingru,", "for sentiment")
    code, _, err = run_cli(capsys, "train", "sentiment", "--dataset", data, "--vocab-size", "2")
    one_line_error(code, err, "--vocab-size must be an integer >= 3")
    code, _, err = run_cli(capsys, "train", "sentiment", "--dataset", str(tmp_path))
    one_line_error(code, err, "is not a sentiment dataset")
    code, _, err = run_cli(capsys, "train", "sentiment", "--dataset", "tiny-shakespeare")
    one_line_error(code, err, "is a charlm dataset")
    with pytest.raises(ConfigError, match="too small"):
        tiny = tmp_path / "tiny.csv"
        tiny.write_text("label,review\n1,good\n0,bad\n1,great\n")
        create_task(default_config("sentiment", dataset=str(tiny)))


def test_binary_metrics() -> None:
    import numpy as np

    m = binary_metrics(np.array([1, 1, 0, 0, 1]), np.array([1, 0, 0, 1, 1]))
    assert m["confusion"] == [[1, 1], [1, 2]]
    assert m["accuracy"] == pytest.approx(0.6) and m["f1"] == pytest.approx(2 / 3)


def test_chinese_reviews_train_and_predict_by_character(
    real_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RNN_TUI_DATA", str(real_data))
    rows = (real_data / "chnsenticorp" / "ChnSentiCorp_htl_all.csv").read_text().splitlines()
    subset = tmp_path / "hotels.csv"
    subset.write_text("\n".join(rows[:1] + rows[1:400] + rows[-400:]) + "\n")
    run = str(tmp_path / "run")
    code, _, _ = run_cli(capsys, "train", "sentiment", "--dataset", str(subset), *TINY,
                         "--epochs", "1", "--seq-len", "64", "--out", run)  # fmt: skip
    assert code == 0
    code, out, _ = run_cli(capsys, "predict", str(tmp_path / "run" / "last.pt"),
                           "房间很干净，服务很好", "--json")  # fmt: skip
    tokens = [t["token"] for t in json.loads(out)["tokens"]]
    assert code == 0 and tokens[:3] == ["房", "间", "很"]


ENTRIES = [
    (arch, backend)
    for arch in TASKS["sentiment"].archs
    for backend in [b for b in get_architecture(arch).backends if b in BACKENDS] or [None]
]
"""Every (architecture, backend) sentiment offers; a modern core has one backend (None)."""


@pytest.mark.parametrize(("arch", "backend"), ENTRIES)
def test_one_training_step_per_entry(tmp_path: Path, arch: str, backend: str | None) -> None:
    """Every architecture and backend builds, steps and evaluates, with and without attention."""
    data = str(word_csv(tmp_path / "words.csv", n=60))
    for bidirectional, attention in ((True, True), (False, False)):
        config = default_config("sentiment", arch, dataset=data, backend=backend, hidden=8,
                                embed=8, layers=2, bidirectional=bidirectional,
                                attention=attention, threads=1)  # fmt: skip
        task = create_task(config)
        stats = task.train_step(task.batches(0)[0], lr=config.lr)
        assert stats.loss > 0 and stats.grad_norm > 0 and stats.tokens > 0
        assert 0 <= task.evaluate(quick=True)["val_accuracy"] <= 1
        assert task.end_epoch(1) is False and task.best_state is not None


def test_init_from_starts_with_the_checkpoints_weights_and_vocabulary(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(word_csv(tmp_path / "other.csv", seed=1))
    ckpt = str(trained / "last.pt")
    config = default_config("sentiment", dataset=data, hidden=16, embed=16, init_from=ckpt)
    task = create_task(config)
    source = load_checkpoint(ckpt)["task_state"]
    assert list(task.vocab.itos) == source["vocab"]
    assert task.evaluate(quick=True)["val_accuracy"] >= 0.8  # before any training step
    code, _, err = run_cli(capsys, "train", "sentiment", "--dataset", data, "--init-from", ckpt)
    one_line_error(code, err, "has another model shape: use --hidden 16, --embed 16")


def test_a_stopped_run_resumes_exactly(tmp_path: Path) -> None:
    """Stopped after epoch 2 of 4 and resumed = never stopped (weights, best, metrics)."""
    import threading

    from tasks.engine.trainer import Trainer

    data = str(word_csv(tmp_path / "words.csv", n=120))

    def config():
        return default_config("sentiment", dataset=data, hidden=16, embed=16, batch=16,
                              dropout=0.2, epochs=4, patience=0, threads=1)  # fmt: skip

    list(Trainer(create_task(config()), tmp_path / "straight").run())
    stop = threading.Event()
    for event in Trainer(create_task(config()), tmp_path / "split").run(stop):
        if event.kind == "checkpoint" and load_checkpoint(event.path)["epoch"] == 2:
            stop.set()
    list(Trainer.resume(tmp_path / "split").run())
    straight, split = (load_checkpoint(tmp_path / n / "last.pt") for n in ("straight", "split"))
    for key in ("model", "best_model"):
        for name, value in straight["task_state"][key].items():
            assert torch.equal(value, split["task_state"][key][name]), (key, name)
    assert straight["metrics"]["test_accuracy"] == split["metrics"]["test_accuracy"]
