"""TensorBoard export and `train --tensorboard`, read back with TensorBoard's own event reader;
the text samples of tiny trained runs (tasks/experiments/samples.py)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import one_line_error, run_cli
from engine_fixtures import engine_config, play_text
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

from tasks.engine.runs import read_history
from tasks.engine.trainer import Trainer
from tasks.experiments.samples import CHARLM_STRATEGIES, EXAMPLES, NAMES, SAMPLE_CHARS, samples
from tasks.experiments.tensorboard import export_runs
from tasks.registry import create_task
from tui.cli import main

TINY = ["--hidden", "8", "--embed", "8", "--layers", "1", "--batch", "4", "--seq-len", "16",
        "--threads", "1", "--epochs", "1", "--log-every", "0", "--eval-every", "1e9"]  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The user folders of this module's trainings (module fixtures run before the
    function-scoped isolation of conftest)."""
    base = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RNN_TUI_HOME", str(base / "home"))
        patch.setenv("RNN_TUI_CACHE", str(base / "cache"))
        patch.delenv("RNN_TUI_DATA", raising=False)
        yield base


@pytest.fixture(scope="module")
def live(home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny charlm run trained with --tensorboard: (its run folder, the TensorBoard folder)."""
    folder = tmp_path_factory.mktemp("live")
    text = folder / "play.txt"
    text.write_text(play_text(3_000))
    run, board = folder / "run", folder / "tb"
    argv = ["train", "charlm", "--dataset", str(text), *TINY, "--out", str(run),
            "--tensorboard", str(board), "--json"]  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(argv)
    assert code == 0, out.getvalue()
    return run, board


def trained(folder: Path, task: str, **settings: Any) -> Path:
    """A tiny run of `task` trained one epoch on its synthetic data; its run folder."""
    folder.mkdir(exist_ok=True)
    config = engine_config(task, folder, epochs=1, **settings)
    for _ in Trainer(create_task(config), folder / "run").run():
        pass
    return folder / "run"


def accumulator(path: Path) -> EventAccumulator:
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    return acc


def hparams_of(acc: EventAccumulator) -> tuple[Any, Any]:
    """(the experiment, the session start info) the run's hparams summaries hold."""
    content = acc.PluginTagToContent("hparams")
    experiment = HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    start = HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    assert "_hparams_/session_end_info" in content
    return experiment, start.session_start_info


def text_of(acc: EventAccumulator, tag: str) -> str:
    return acc.Tensors(f"{tag}/text_summary")[-1].tensor_proto.string_val[0].decode()


def test_live_board_has_curves_hparams_and_samples_in_one_run(live: tuple[Path, Path]) -> None:
    run, board = live
    tb_run = board / run.name
    assert [p for p in tb_run.iterdir() if p.is_dir()] == []  # no hparams sub-run
    acc = accumulator(tb_run)
    history = read_history(run)
    steps = [r for r in history if r["event"] == "step"]
    losses = [e.value for e in acc.Scalars("train/loss")]
    assert losses == pytest.approx([r["loss"] for r in steps], rel=1e-6)
    assert [e.step for e in acc.Scalars("train/lr")] == [r["step"] for r in steps]
    for tag in ("train/grad_norm", "train/tokens_per_s", "val/loss", "val/bpc"):
        assert acc.Scalars(tag), tag
    final = next(r for r in history if r["event"] == "finished")
    assert acc.Scalars("final/val_bpc")[-1].value == pytest.approx(final["metrics"]["val_bpc"])
    experiment, start = hparams_of(acc)
    assert {m.name.tag for m in experiment.metric_infos} >= {"final/val_loss", "final/val_bpc"}
    assert start.hparams["hidden"].number_value == 8
    config = json.loads((run / "summary.json").read_text())["config"]
    assert start.hparams["arch"].string_value == config["arch"]
    expected = samples(run)
    assert set(expected) == {f"samples/{name}" for name, _ in CHARLM_STRATEGIES}
    for tag, text in expected.items():
        assert text_of(acc, tag) == text


def test_export_replays_the_history_and_replaces_an_earlier_export(
    live: tuple[Path, Path], tmp_path: Path
) -> None:
    run, board = live
    out = tmp_path / "exported"
    for _ in range(2):
        assert export_runs([run], out) == [out / run.name]
    assert len(list((out / run.name).glob("events.out.tfevents.*"))) == 1
    exported, written = accumulator(out / run.name), accumulator(board / run.name)
    for tag in ("train/loss", "val/loss", "final/val_loss"):
        assert [(e.step, e.value) for e in exported.Scalars(tag)] == [
            (e.step, e.value) for e in written.Scalars(tag)
        ]
    assert hparams_of(exported)[1].hparams["batch"].number_value == 4
    assert text_of(exported, "samples/greedy") == text_of(written, "samples/greedy")


def test_export_command(live: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    run, _ = live
    code, out, err = run_cli(capsys, "export", str(run), "--tensorboard", str(tmp_path / "tb"))
    assert code == 0, err
    assert f"{tmp_path / 'tb' / run.name}" in out and "tensorboard --logdir" in out
    assert accumulator(tmp_path / "tb" / run.name).Scalars("train/loss")


def test_export_refuses_what_is_no_run_folder_and_a_file_as_dir(
    live: tuple[Path, Path], tmp_path: Path, capsys
) -> None:
    run, _ = live
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(capsys, "export", str(run), str(empty), "--tensorboard",
                           str(tmp_path / "tb"))  # fmt: skip
    one_line_error(code, err, str(empty), "is not a run folder")
    assert not (tmp_path / "tb").exists()  # checked before anything is written
    code, _, err = run_cli(capsys, "export", str(tmp_path / "gone"), "--tensorboard",
                           str(tmp_path / "tb"))  # fmt: skip
    one_line_error(code, err, "is not a run folder")
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    code, _, err = run_cli(capsys, "export", str(run), "--tensorboard", str(file))
    one_line_error(code, err, str(file), "is a file, not a folder")
    assert file.read_text() == "mine"


def test_train_refuses_a_file_as_tensorboard_dir_before_training(
    tmp_path: Path, small_text: Path, capsys
) -> None:
    file = tmp_path / "board"
    file.write_text("")
    code, _, err = run_cli(capsys, "train", "charlm", "--dataset", str(small_text), *TINY,
                           "--out", str(tmp_path / "run"), "--tensorboard", str(file))  # fmt: skip
    one_line_error(code, err, "--tensorboard", "is a file, not a folder")
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def sentiment_run(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained(tmp_path_factory.mktemp("sentiment"), "sentiment")


def test_charlm_samples_per_strategy_are_fixed_by_the_seed(live: tuple[Path, Path]) -> None:
    run, _ = live
    first = samples(run)
    assert first == samples(run)
    for name, options in CHARLM_STRATEGIES:
        text = first[f"samples/{name}"]
        assert text.startswith(f"**{name}** ({options['strategy']}")
        body = text.split("```\n")[1].removesuffix("\n```")
        assert len(body) == 1 + SAMPLE_CHARS  # the prime, then the generated characters


def test_sentiment_samples_are_test_reviews_with_label_and_prediction(sentiment_run: Path):
    text = samples(sentiment_run)["samples/reviews"]
    lines = text.splitlines()
    assert "test split" in lines[0]
    assert lines[2] == "| review | label | prediction |"
    rows = lines[4:]
    assert len(rows) == EXAMPLES
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] in ("negative", "positive")
        label, probability = cells[2].split()
        assert label in ("negative", "positive") and 0.5 <= float(probability) <= 1


def test_samples_say_when_the_data_is_gone(sentiment_run: Path) -> None:
    dataset = Path(json.loads((sentiment_run / "summary.json").read_text())["config"]["dataset"])
    moved = dataset.with_suffix(".away")
    dataset.rename(moved)
    try:
        text = samples(sentiment_run)["samples/reviews"]
    finally:
        moved.rename(dataset)
    assert text.startswith("*the test reviews could not be read:") and "\n" not in text


@pytest.mark.parametrize(
    ("task", "tag", "rows"),
    [("translation", "samples/translations", EXAMPLES), ("names", "samples/names", NAMES),
     ("timeseries", "samples/forecast", None)],
)  # fmt: skip
def test_other_tasks_samples_are_tables(
    home: Path, tmp_path: Path, task: str, tag: str, rows: int | None
) -> None:
    run = trained(tmp_path, task)
    (key, text), *rest = samples(run).items()
    assert key == tag and not rest
    body = text.splitlines()[4:]
    horizon = json.loads((run / "summary.json").read_text())["config"].get("horizon")
    assert len(body) == (rows if rows is not None else horizon)
    assert all(line.startswith("| ") and line.endswith(" |") for line in body)


def test_a_run_without_a_checkpoint_has_no_samples(tmp_path: Path) -> None:
    assert samples(tmp_path) == {}
