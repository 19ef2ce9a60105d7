"""Time series: reading and repairing CSVs, split/scaling/windows, baselines, the task, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tasks.data.series import (
    Preprocessor,
    SeriesError,
    chronological_split,
    load_series,
    parse_dataset_spec,
    persistence,
    read_csv_series,
    seasonal_naive,
)
from tasks.engine.settings import ConfigError
from tasks.registry import create_task, default_config
from tasks.timeseries.task import TimeSeriesTask, seasonal_path
from tui.cli import main

# -- helpers ---------------------------------------------------------------------------------


def monthly_csv(path: Path, n: int = 120, header: str = "month,value", seed: int = 0) -> Path:
    """A seasonal monthly series with trend, like the offline default."""
    rng = np.random.default_rng(seed)
    rows = [header]
    for t in range(n):
        v = 50 + 0.3 * t + 8 * math.sin(2 * math.pi * t / 12) + rng.normal(0, 1)
        rows.append(f"{2000 + t // 12}-{t % 12 + 1:02d},{v:.3f}")
    path.write_text("\n".join(rows) + "\n")
    return path


def small_config(dataset: str, arch: str = "gru", **overrides):
    sizes = {"hidden": 8, "seq_len": 12, "batch": 16, "epochs": 1, "threads": 1}
    return default_config("timeseries", arch, dataset=dataset, **(sizes | overrides))


class LastValue:
    """A stand-in model: predicts the last scaled input (z persistence)."""

    def __call__(self, x):
        return x[:, -1, :1]

    def eval(self):
        return self

    def train(self):
        return self


# -- reading and repairing -------------------------------------------------------------------


def test_reads_columns_by_name_and_index(tmp_path: Path) -> None:
    p = tmp_path / "prices.csv"
    p.write_text("Date,Open,Close\n2020-01-01,1,10\n2020-01-02,2,11\n2020-01-03,3,12\n")
    assert read_csv_series(p).values.tolist() == [10, 11, 12]  # "close" is found by name
    assert read_csv_series(p, value_column="Open").values.tolist() == [1, 2, 3]
    assert read_csv_series(p, value_column=1).values.tolist() == [1, 2, 3]
    assert read_csv_series(p, date_column="date", value_column=-1).column == "Close"
    assert parse_dataset_spec("a/b.csv#Date,Open") == ("a/b.csv", "Date", "Open")
    assert parse_dataset_spec("a/b.csv#2") == ("a/b.csv", None, 2)
    with pytest.raises(SeriesError, match="no value column named 'Volume'; the columns are"):
        read_csv_series(p, value_column="Volume")
    q = tmp_path / "wide.csv"
    q.write_text("Date,A,B\n2020-01-01,1,2\n2020-01-02,1,2\n2020-01-03,1,2\n")
    with pytest.raises(SeriesError, match="choose the value column"):
        read_csv_series(q)


def test_missing_values_are_interpolated_and_reported(tmp_path: Path) -> None:
    p = tmp_path / "gaps.csv"
    p.write_text("month,value\n2000-01,1\n2000-02,\n2000-03,NA\n2000-04,4\n2000-05,5\n")
    s = read_csv_series(p)
    assert s.values.tolist() == [1, 2, 3, 4, 5]
    assert s.repairs == ["filled 2 missing values by linear interpolation"]
    assert s.freq == "monthly" and s.season == 12


def test_unsorted_and_duplicate_dates_are_repaired_and_reported(tmp_path: Path) -> None:
    p = tmp_path / "messy.csv"
    p.write_text("d,v\n2000-03-01,3\n2000-01-01,1\n2000-02-01,2\n2000-02-01,4\n2000-04-01,5\n")
    s = read_csv_series(p)
    assert s.values.tolist() == [1, 3, 3, 5]  # sorted; the two February values averaged
    assert s.repairs == ["sorted the rows by date", "averaged the values of 1 duplicated dates"]


def test_non_numeric_values_and_bad_dates_are_clear_errors(tmp_path: Path) -> None:
    p = tmp_path / "text.csv"
    p.write_text("month,value\n2000-01,1\n2000-02,lots\n2000-03,3\n")
    with pytest.raises(SeriesError, match="column 'value' is not numeric: row 3 holds 'lots'"):
        read_csv_series(p)
    q = tmp_path / "dates.csv"
    q.write_text("month,value\n2000-01,1\nsoon,2\n2000-03,3\n")
    with pytest.raises(SeriesError, match="row 3 of column 'month' is not a date: 'soon'"):
        read_csv_series(q)
    with pytest.raises(SeriesError, match="no such file"):
        read_csv_series(tmp_path / "nope.csv")
    r = tmp_path / "empty.csv"
    r.write_text("month,value\n2000-01,\n2000-02,NA\n2000-03,\n")
    with pytest.raises(SeriesError, match="has no values"):
        read_csv_series(r)


def test_series_shorter_than_the_window_is_a_clear_error(tmp_path: Path) -> None:
    path = monthly_csv(tmp_path / "short.csv", n=30)
    with pytest.raises(ConfigError, match=r"too short for --seq-len 24.*use a smaller --seq-len"):
        TimeSeriesTask(small_config(str(path), seq_len=24))
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("month,value\n2000-01,1\n2000-02,2\n")
    with pytest.raises(SeriesError, match="only 2 values"):
        read_csv_series(tiny)


def test_horizon_zero_and_bad_options_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--horizon must be a positive integer \(got 0\)"):
        default_config("timeseries", "lstm", horizon=0)
    with pytest.raises(ConfigError, match="--forecast must be one of recursive, direct"):
        default_config("timeseries", "lstm", forecast="both")
    with pytest.raises(ConfigError, match="--transform must be one of"):
        default_config("timeseries", "lstm", transform="boxcox")
    with pytest.raises(ConfigError, match="--bidirectional does not apply"):
        TimeSeriesTask(small_config(str(monthly_csv(tmp_path / "s.csv")), bidirectional=True))


def test_log_transform_of_non_positive_values_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "zeros.csv"
    p.write_text("month,value\n" + "".join(f"2000-{m:02d},{m % 3}\n" for m in range(1, 13)) * 1)
    with pytest.raises(SeriesError, match="a log transform needs positive values"):
        Preprocessor(log=True, lag=0).g(read_csv_series(p).values)


# -- split, scaling, windows, baselines -------------------------------------------------------


def test_chronological_split_and_scaler_fitted_on_train_only(tmp_path: Path) -> None:
    split = chronological_split(100, test_size=20, val_size=10)
    assert (split.val_start, split.test_start, split.n) == (70, 80, 100)
    assert chronological_split(100).test_start == 80  # 20% test, 10% validation by default
    with pytest.raises(SeriesError, match="too short to hold out"):
        chronological_split(10, test_size=6, val_size=4)

    task = TimeSeriesTask(small_config(str(monthly_csv(tmp_path / "s.csv")), transform="none"))
    train = task.series.values[: task.split.val_start]
    assert (task.pre.lo, task.pre.hi) == (train.min(), train.max())
    z = task.pre.scale(task.pre.z(task.g))
    assert z[: task.split.val_start].min() == -1 and z[: task.split.val_start].max() == 1
    assert z[task.split.test_start :].max() > 1  # the trend leaves the training range


def test_windows_are_the_past_and_targets_the_future(tmp_path: Path) -> None:
    task = TimeSeriesTask(small_config(str(monthly_csv(tmp_path / "s.csv")), transform="none"))
    x, y = task.windows(np.array([30]))
    expected = task.pre.scale(task.series.values)
    assert x.shape == (1, 12, 1) and y.shape == (1, 1)
    np.testing.assert_allclose(x[0, :, 0], expected[18:30], rtol=1e-6)
    np.testing.assert_allclose(y[0, 0], expected[30], rtol=1e-6)
    # every training target (and its whole window) lies in the training part
    assert task.train_targets.max() < task.split.val_start
    assert task.train_targets.min() - task.window >= 0


def test_baselines_on_a_toy_series() -> None:
    y = np.arange(30, dtype=float)
    t = np.array([24, 25])
    assert persistence(y, t).tolist() == [23, 24]
    assert persistence(y, t, lead=3).tolist() == [21, 22]
    assert seasonal_naive(y, t, 12).tolist() == [12, 13]
    assert seasonal_naive(y, t, 12, lead=13).tolist() == [0, 1]  # two seasons back
    assert seasonal_path(y, 23, 14, 12).tolist()[:2] == [12, 13]
    assert seasonal_path(y, 23, 14, 12).tolist()[12:] == [12, 13]  # t=36, 37: two seasons back


@pytest.mark.parametrize("transform", ["none", "diff", "seasonal", "log-seasonal", "log-diff"])
def test_forecasts_invert_the_transform_exactly(tmp_path: Path, transform: str) -> None:
    """A model that repeats the last z reproduces the matching naive forecast in original units."""
    task = TimeSeriesTask(small_config(str(monthly_csv(tmp_path / "s.csv")), transform=transform))
    task.model = LastValue()
    y, test = task.series.values, np.arange(task.split.test_start, task.split.n)
    pred = task.one_step(test)
    if transform == "none":
        np.testing.assert_allclose(pred, y[test - 1])  # persistence
    elif transform == "diff":
        np.testing.assert_allclose(pred, y[test - 1] + (y[test - 1] - y[test - 2]))
    elif transform == "seasonal":
        np.testing.assert_allclose(pred, y[test - 12] + (y[test - 1] - y[test - 13]))
    elif transform == "log-seasonal":
        np.testing.assert_allclose(pred, y[test - 12] * y[test - 1] / y[test - 13])
    else:
        np.testing.assert_allclose(pred, y[test - 1] ** 2 / y[test - 2])
    metrics = task.evaluate()
    if transform == "none":
        assert metrics["test_rmse"] == metrics["persistence_rmse"]


def test_recursive_forecast_uses_only_the_past(tmp_path: Path) -> None:
    task = TimeSeriesTask(small_config(str(monthly_csv(tmp_path / "s.csv")), horizon=6))
    origin = np.array([80])
    before = task.forecast_paths(origin, 6)
    task.g = task.g.copy()
    task.g[81:] = 0.0  # destroy the future: the forecast must not change
    np.testing.assert_allclose(task.forecast_paths(origin, 6), before)
    assert before.shape == (1, 6)
    m = task.evaluate()
    assert {"test_rmse_h6", "persistence_rmse_h6", "seasonal_naive_rmse_h6"} <= set(m)


def test_direct_forecast_has_one_output_per_step(tmp_path: Path) -> None:
    config = small_config(str(monthly_csv(tmp_path / "s.csv")), horizon=4, forecast="direct")
    task = TimeSeriesTask(config)
    assert task.outputs == 4
    _x, y = task.windows(task.train_targets[:3])
    assert y.shape == (3, 4)
    stats = task.train_step(task.batches(0)[0], lr=1e-3)
    assert stats.loss > 0 and math.isfinite(stats.grad_norm)
    assert task.forecast_paths(np.array([90, 91]), 4).shape == (2, 4)
    with pytest.raises(ValueError, match="forecasts 4 steps directly"):
        task.forecast_paths(np.array([90]), 5)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_one_training_step_per_architecture(tmp_path: Path, arch: str) -> None:
    task = create_task(small_config(str(monthly_csv(tmp_path / "s.csv")), arch=arch))
    task.start_epoch(0)
    batches = task.batches(0)
    assert len(batches) >= 40  # an epoch repeats passes over the few windows
    assert [b.tolist() for b in task.batches(0)] == [b.tolist() for b in batches]
    stats = task.train_step(batches[0], lr=task.config.lr)
    assert stats.loss > 0 and stats.tokens == len(batches[0])
    metrics = task.evaluate(quick=True)
    assert {"val_rmse", "test_rmse", "test_mae", "test_r2", "persistence_rmse"} <= set(metrics)
    assert "seasonal_naive_rmse" in metrics


def test_offline_default_is_generated_and_labelled() -> None:
    series = load_series("synthetic-series")
    assert len(series) == 240 and series.freq == "monthly" and series.source == "offline default"
    assert "built-in" in series.note and "trend + seasonality + noise" in series.note
    again = load_series("synthetic-series")
    np.testing.assert_array_equal(series.values, again.values)


# -- training, resume, forecast through the CLI -------------------------------------------------


def test_train_resume_and_forecast_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = monthly_csv(tmp_path / "series.csv", header="Month,Sales")
    run = tmp_path / "run"
    args = ["train", "timeseries", "--dataset", f"{data}#Sales", "--hidden", "8", "--seq-len",
            "12", "--epochs", "1", "--threads", "1", "--out", str(run), "--json"]  # fmt: skip
    assert main(args) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    metrics = events[-1]["metrics"]
    assert events[-1]["event"] == "finished"
    assert {"test_rmse", "test_mae", "test_r2", "persistence_rmse", "seasonal_naive_rmse"} <= set(
        metrics
    )

    assert main(["forecast", str(run / "last.pt"), "--horizon", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["horizon"] == 3 and len(out["steps"]) == 3
    assert out["steps"][0]["date"] == "2010-01" and out["steps"][0]["actual"] is None
    assert main(["forecast", str(run / "last.pt"), "--horizon", "2", "--origin", "2008-06"]) == 0
    text = capsys.readouterr().out
    assert "2008-07" in text and "2008-08" in text

    assert main(["resume", str(run), "--epochs", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["event"] == "finished"


def test_resume_is_exact(tmp_path: Path) -> None:
    """Stopped mid-epoch and resumed, a run ends exactly where a straight run does."""
    import threading

    from tasks.engine.trainer import Trainer

    data = str(monthly_csv(tmp_path / "s.csv"))
    config = small_config(data, epochs=2)
    straight = [e for e in Trainer(create_task(config), tmp_path / "a").run()][-1].metrics
    stop = threading.Event()
    trainer = Trainer(create_task(small_config(data, epochs=2)), tmp_path / "b")
    trainer.config.log_every_s = 0.0  # a step event per step, so we can stop at step 50
    for event in trainer.run(stop):
        if event.kind == "step" and event.step >= 50:
            stop.set()
    assert trainer.step < 2 * len(trainer.task.batches(0))
    resumed = [e for e in Trainer.resume(tmp_path / "b").run()][-1].metrics
    for key in ("val_rmse", "test_rmse", "test_mae"):
        assert resumed[key] == pytest.approx(straight[key], abs=1e-6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["forecast", "CKPT", "--horizon", "0"], "--horizon: must be a positive integer (got 0)"),
        (["forecast", "CKPT", "--origin", "1900-01"], "--origin '1900-01' is not a date"),
        (["train", "timeseries", "--horizon", "0"], "--horizon must be a positive integer"),
        (["train", "timeseries", "--dataset", "BAD", "--epochs", "1"], "is not numeric"),
        (["train", "timeseries", "--dataset", "SHORT", "--epochs", "1"], "too short"),
    ],
)
def test_cli_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    data = monthly_csv(tmp_path / "s.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("month,value\n2000-01,1\n2000-02,x\n")
    short = monthly_csv(tmp_path / "short.csv", n=20)
    if "CKPT" in argv:
        run = tmp_path / "run"
        main(["train", "timeseries", "--dataset", str(data), "--hidden", "4", "--seq-len", "12",
              "--epochs", "1", "--threads", "1", "--out", str(run), "--json"])  # fmt: skip
        capsys.readouterr()
    swap = {"CKPT": str(tmp_path / "run" / "last.pt"), "BAD": str(bad), "SHORT": str(short)}
    try:
        code = main([swap.get(a, a) for a in argv])
    except SystemExit as exit_info:  # argparse's own check of the option's type
        code = exit_info.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err


def test_forecast_refuses_a_charlm_checkpoint(tmp_path: Path, capsys, small_text: Path) -> None:
    run = tmp_path / "char"
    main(["train", "charlm", "--dataset", str(small_text), "--hidden", "8", "--embed", "4",
          "--layers", "1", "--batch", "4", "--seq-len", "16", "--epochs", "1", "--minutes",
          "0.02", "--out", str(run), "--json"])  # fmt: skip
    capsys.readouterr()
    assert main(["forecast", str(run / "last.pt")]) == 2
    assert "needs a 'timeseries' one" in capsys.readouterr().err


# -- the real series ------------------------------------------------------------------------------


def test_registry_series_load_with_their_columns(
    real_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNN_TUI_DATA", str(real_data))
    expected = {
        "airline-passengers": (144, "monthly", 12, 112.0, "1949-01"),
        "daily-min-temperatures": (3650, "daily", 365, 20.7, "1981-01-01"),
        "monthly-sunspots": (2820, "monthly", 12, 58.0, "1749-01"),
        "sp500": (4697, "business-daily", 5, 1455.219971, "2000-01-03"),
    }
    for name, (n, freq, season, first, day) in expected.items():
        s = load_series(name)
        assert (len(s), s.freq, s.season, s.date_text(0)) == (n, freq, season, day), name
        assert s.values[0] == pytest.approx(first) and not s.repairs
    assert load_series("sp500").column == "Close"
    # the same files as local paths, in their published formats
    for name in expected:
        local = load_series(str(real_data / "timeseries" / f"{name}.csv"))
        np.testing.assert_array_equal(local.values, load_series(name).values)


def test_airline_passengers_beats_seasonal_naive(
    real_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The bar: one-step test RMSE on the last 48 months below seasonal naive (42.3)."""
    from tasks.engine.trainer import Trainer

    monkeypatch.setenv("RNN_TUI_DATA", str(real_data))
    config = default_config("timeseries", "gru", dataset="airline-passengers", threads=1)
    task = create_task(config)
    assert task.split.n - task.split.test_start == 48 and task.transform == "log-seasonal"
    metrics = next(e for e in Trainer(task, tmp_path).run() if e.kind == "finished").metrics
    assert metrics["seasonal_naive_rmse"] == pytest.approx(41.85, abs=0.01)
    assert metrics["test_rmse"] < 42.3
    assert metrics["test_rmse"] < metrics["persistence_rmse"]


def test_a_local_copy_of_a_registry_series_gets_its_settings(real_data: Path) -> None:
    """The published airline CSV given by path is recognised by its checksum (log-seasonal)."""
    from tasks.data.series import load_series

    path = real_data / "timeseries" / "airline-passengers.csv"
    series = load_series(str(path))
    assert series.spec is not None and series.season == 12
