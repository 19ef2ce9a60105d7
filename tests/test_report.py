"""`rnn-tui report`: one self-contained HTML page per set of runs (and a sweep), every plot an
inline SVG; built here from tiny runs trained for one short epoch each (sentiment on the real
rt-polarity, the other tasks on their synthetic data)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from cli_helpers import one_line_error, run_cli
from engine_fixtures import engine_config
from test_translation_data import write_multi30k

from tasks.engine.trainer import Trainer
from tasks.experiments.report import build_report
from tasks.experiments.report.pictures import confusion
from tasks.experiments.report.reading import read_run_folder
from tasks.experiments.samples import samples
from tasks.registry import create_task, default_config

FIGURE = re.compile(r'<figure class="plot[^"]*" data-plot="([^"]+)"[^>]*>(.*?)</figure>', re.S)

EXPECTED = {
    "sentiment": {"curves-loss": 1, "curves-accuracy": 1, "confusion": 1},
    "translation": {"curves-loss": 1, "curves-bleu": 1, "attention": 3},
    "timeseries": {"curves-loss": 1, "curves-rmse": 1, "forecast": 1, "one-step": 1},
    "charlm": {"curves-nats-char": 1},
    "gradflow": {"curves-loss": 1, "gradflow": 1, "gradflow-last": 1},
}
"""Task -> the plots (data-plot name -> how many) the report of one of its tiny runs holds."""

SYNTHETIC = ("translation", "timeseries", "charlm", "gradflow")
"""The tasks whose tiny runs train on synthetic data (tests/engine_fixtures.py)."""

RT_POLARITY = {
    "hidden": 16,
    "embed": 16,
    "layers": 1,
    "batch": 64,
    "seq_len": 40,
    "vocab_size": 4000,
    "patience": 0,
    "threads": 1,
    "log_every_s": 0.0,
    "eval_every_s": 1e9,
    "epochs": 1,
}
"""A few seconds of sentiment on rt-polarity."""


def plot_counts(page: str) -> Counter:
    """data-plot name -> figures of that name, after checking each holds exactly one <svg>."""
    found = FIGURE.findall(page)
    for name, body in found:
        assert body.count("<svg") == 1, f"figure {name} holds {body.count('<svg')} <svg>"
    assert len(found) == page.count("<figure"), "a figure outside the expected markup"
    return Counter(name for name, _ in found)


def train(config, folder: Path) -> Path:
    for _ in Trainer(create_task(config), folder).run():
        pass
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny finished run per task on its synthetic data (and a second charlm run)."""
    out = {}
    for task in SYNTHETIC:
        folder = tmp_path_factory.mktemp(task)
        out[task] = train(engine_config(task, folder, epochs=1), folder / "run")
    folder = tmp_path_factory.mktemp("charlm-b")
    out["charlm-b"] = train(engine_config("charlm", folder, epochs=1, lr=1e-3), folder / "run")
    return out


@pytest.fixture(scope="module")
def sentiment_run(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Path:
    """A few seconds of sentiment on the real rt-polarity."""
    with pytest.MonkeyPatch.context() as patch:
        home = tmp_path_factory.mktemp("home")
        patch.setenv("RNN_TUI_HOME", str(home / "home"))
        patch.setenv("RNN_TUI_CACHE", str(home / "cache"))
        patch.setenv("RNN_TUI_DATA", str(real_data))
        config = default_config("sentiment", dataset="rt-polarity", **RT_POLARITY)
        return train(config, tmp_path_factory.mktemp("sentiment") / "run")


@pytest.fixture(scope="module")
def multi30k_run(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Path:
    """Two epochs of translation on 200 real Multi30k pairs (de→en)."""
    data = write_multi30k(real_data, tmp_path_factory.mktemp("m30k") / "multi30k", 200, 20)
    config = default_config(
        "translation", "gru", dataset=str(data), hidden=16, embed=8, batch=16, threads=1,
        epochs=2, beam=3, min_freq=1,
    )  # fmt: skip
    return train(config, tmp_path_factory.mktemp("translation") / "run")


@pytest.fixture
def data_root(real_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real data root as the data root (the sentiment run's pictures read rt-polarity)."""
    monkeypatch.setenv("RNN_TUI_DATA", str(real_data))
    return real_data


# -- one run -----------------------------------------------------------------------------------


@pytest.mark.parametrize("task", SYNTHETIC)
def test_the_report_of_one_run_has_each_plot_once(task: str, runs) -> None:
    page = build_report([runs[task]])
    assert plot_counts(page) == Counter(EXPECTED[task])
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert not re.search(r'(src|href)="(?!#|data:)', page), "the page links to an external resource"
    assert "<?xml" not in page and "Settings" in page and "Against the references" in page


def test_the_cli_writes_the_page_and_says_where(runs, tmp_path, capsys) -> None:
    out = tmp_path / "report.html"
    code, stdout, err = run_cli(capsys, "report", str(runs["translation"]), "--out", str(out))
    assert code == 0, err
    assert stdout.startswith(f"wrote {out} (5 plots, ")
    assert "report: run 1 of 1: translation" in err
    assert plot_counts(out.read_text(encoding="utf-8")) == Counter(EXPECTED["translation"])


def test_sentiment_on_rt_polarity(sentiment_run, data_root) -> None:
    run = read_run_folder(sentiment_run)
    matrix, source = confusion(run)
    assert source == "rt-polarity, test split, all 1,066 reviews"
    total = sum(map(sum, matrix))
    assert total == 1066
    assert round((matrix[0][0] + matrix[1][1]) / total, 5) == run.metrics["test_accuracy"]
    page = build_report([sentiment_run])
    assert plot_counts(page) == Counter(EXPECTED["sentiment"])
    assert "NBSVM" in page and "Wang &amp; Manning" in page  # the published anchor, in its row


def test_translation_on_a_multi30k_slice(multi30k_run) -> None:
    page = build_report([multi30k_run])
    assert plot_counts(page) == Counter(EXPECTED["translation"])  # attention maps of 3 pairs
    assert "BLEU" in page and "Against the references" in page


def test_charlm_shows_a_sample_per_strategy(runs) -> None:
    page = build_report([runs["charlm"]])
    found = samples(runs["charlm"])
    assert page.count('<div class="sample">') == len(found) == 3
    for tag in found:
        assert f"<h4>{tag.removeprefix('samples/')}</h4>" in page


def test_timeseries_references_are_its_own_baselines(runs) -> None:
    page = build_report([runs["timeseries"]])
    assert "persistence" in page and "this run: persistence_rmse" in page


# -- several runs and a sweep ------------------------------------------------------------------


def test_several_runs_add_a_comparison_and_overlaid_curves(runs) -> None:
    page = build_report([runs["charlm"], runs["charlm-b"], runs["gradflow"]])
    counts = plot_counts(page)
    assert counts["overlay-nats-char"] == 1  # the two charlm runs; gradflow has no partner
    assert not any(name.startswith("overlay-loss") for name in counts)
    assert counts["curves-nats-char"] == 2 and counts["gradflow"] == 1
    comparison = page.split('<section id="comparison">')[1].split("</section>")[0]
    assert '<th class="num">lr</th>' in comparison  # the setting that differs: a column


def _study(path: Path, best_run: Path) -> str:
    """A finished sweep in SQLite without training: 5 complete trials, 1 pruned, 1 failed."""
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution
    from optuna.trial import TrialState, create_trial

    url = f"sqlite:///{path}"
    study = optuna.create_study(storage=url, study_name="charlm-play", direction="minimize")
    for key, value in (("task", "charlm"), ("dataset", "play.txt"), ("metric", "val_loss")):
        study.set_user_attr(key, value)
    space = {"lr": FloatDistribution(1e-4, 1e-2, log=True), "hidden": IntDistribution(8, 64)}
    for n, (lr, hidden, loss) in enumerate(
        [(1e-3, 8, 2.9), (3e-3, 16, 2.5), (5e-3, 32, 2.1), (2e-4, 64, 3.1), (8e-3, 24, 2.3)]
    ):
        attrs = {
            "run_dir": str(best_run) if n == 2 else f"/gone/{n}",
            "test_metrics": {"test_loss": loss + 0.1},
        }
        study.add_trial(
            create_trial(
                params={"lr": lr, "hidden": hidden},
                distributions=space,
                value=loss,
                user_attrs=attrs,
            )
        )
    study.add_trial(
        create_trial(
            params={"lr": 1e-4, "hidden": 8},
            distributions=space,
            state=TrialState.PRUNED,
            intermediate_values={1: 3.3},
            user_attrs={"pruned_step": 1},
        )
    )
    study.add_trial(
        create_trial(
            params={"lr": 1e-2, "hidden": 8},
            distributions=space,
            state=TrialState.FAIL,
            user_attrs={"reason": "loss became nan"},
        )
    )
    return url


def test_a_sweep_shows_its_trials_importances_and_best_run(runs, tmp_path, capsys) -> None:
    url = _study(tmp_path / "sweeps.db", runs["charlm"])
    out = tmp_path / "sweep.html"
    code, _, err = run_cli(
        capsys, "report", "--study", "charlm-play", "--storage", url, "--out", str(out)
    )
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert plot_counts(page) == Counter({"trials": 1, "importances": 1, "curves-nats-char": 1})
    sweep = page.split('<section id="sweep">')[1].split("</section>")[0]
    assert sweep.count('<tr class="best">') == 1 and "loss became nan" in sweep
    assert "Run 1: charlm" in page  # the best trial's run, reported in full


# -- bad input ---------------------------------------------------------------------------------


def test_bad_input_is_one_line_each(tmp_path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = ["--out", str(tmp_path / "r.html")]
    cases = [
        (["report", str(empty), *out], "is not a run folder: it has no readable summary.json"),
        (["report", str(tmp_path / "nowhere"), *out], "is not a run folder: it does not exist"),
        (
            ["report", str(empty), "--out", str(tmp_path / "no" / "r.html")],
            f"the folder {tmp_path / 'no'} does not exist",
        ),
        (["report", str(empty), "--out", str(tmp_path)], "is a folder; name the file"),
        (["report", *out], "name at least one run folder"),
        (
            ["report", "--study", "x", "--storage", f"sqlite:///{tmp_path / 'none.db'}", *out],
            "no study database at",
        ),
    ]
    for argv, needle in cases:
        code, _, err = run_cli(capsys, *argv)
        one_line_error(code, err, needle)
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "none.db").exists()


def test_a_study_that_is_not_there_names_those_that_are(tmp_path, capsys) -> None:
    url = _study(tmp_path / "sweeps.db", tmp_path)
    code, _, err = run_cli(
        capsys, "report", "--study", "other", "--storage", url, "--out", str(tmp_path / "r.html")
    )
    one_line_error(code, err, "no study 'other'", "studies there: charlm-play")
