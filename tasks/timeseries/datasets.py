"""The forecasting datasets: four real series (airline passengers, the default, first) and the
built-in synthetic series (the offline default, last), and the quantities a forecast is measured
in (the training loss; the RMSE against the naive baselines each run measures).

Light on purpose: imported by `tasks.registry` before torch loads. How each series is read
(columns, dates, season) is in `tasks.data.series`.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

from tasks.data.info import DatasetInfo, Reference, github_raw
from tasks.engine.quantity import Baseline, Quantity

if TYPE_CHECKING:
    from tasks.data.profile.detect import Sample

QUANTITIES = (
    Quantity("loss", higher_is_better=False, train_loss=True, title="loss (scaled)"),
    Quantity(
        "RMSE", higher_is_better=False, metrics=("val_rmse", "test_rmse"),
        baselines=(
            Baseline("persistence", "persistence_rmse", "test"),
            Baseline("seasonal naive", "seasonal_naive_rmse", "test"),
        ),
    ),
)  # fmt: skip
"""The loss is on the model's scaled targets; RMSE (one step ahead) is in the series' units,
beside the naive forecasts on the same test targets."""

_BROWNLEE = ("jbrownlee/Datasets", "d20fcb6402ae34e653d4513b00f39257bb37ed7f")
_TSDL = "no license stated (jbrownlee/Datasets; Time Series Data Library, R. Hyndman)"


def synthetic_series_csv() -> str:
    """The offline default: 240 monthly values of trend + seasonality + noise, as CSV.

    value = 100 + 0.5 t + 10 sin(2 pi t / 12) + 4 cos(2 pi t / 6) + N(0, 3), rounded to 0.01,
    with a fixed seed, so every install builds the same file (stdlib only, no NumPy).
    """
    rng = random.Random(20240101)
    lines = ["month,value"]
    for t in range(240):
        value = (
            100 + 0.5 * t + 10 * math.sin(2 * math.pi * t / 12)
            + 4 * math.cos(2 * math.pi * t / 6) + rng.gauss(0, 3)
        )  # fmt: skip
        lines.append(f"{2000 + t // 12}-{t % 12 + 1:02d},{value:.2f}")
    return "\n".join(lines) + "\n"


DATASETS = (
    DatasetInfo(
        name="airline-passengers",
        title="International airline passengers, 1949-1960",
        description="144 monthly totals in thousands (Box & Jenkins), CSV Month,Passengers.",
        url=github_raw(*_BROWNLEE, "airline-passengers.csv"),
        filename="airline-passengers.csv",
        sha256="8cb51be753a718d9be5d76d7e238cc224792754676adc21faa59e954b0201621",
        license=_TSDL,
        size_bytes=2180,
        shared_path="timeseries/airline-passengers.csv",
        references=(
            Reference(
                "seasonal naive + drift",
                15.7,
                "RMSE",
                "test",
                "seasonal naive with drift, the last 48 months (BENCHMARKS.md)",
            ),
        ),
    ),
    DatasetInfo(
        name="daily-min-temperatures",
        title="Daily minimum temperatures, Melbourne, 1981-1990",
        description="3,650 daily minimum temperatures in °C, CSV Date,Temp.",
        url=github_raw(*_BROWNLEE, "daily-min-temperatures.csv"),
        filename="daily-min-temperatures.csv",
        sha256="8b9de63ed6789492bf497625e7f9beb96a63d367b4b0a21754006f749fa5e5da",
        license=_TSDL,
        size_bytes=67921,
        shared_path="timeseries/daily-min-temperatures.csv",
    ),
    DatasetInfo(
        name="monthly-sunspots",
        title="Zurich monthly sunspot numbers, 1749-1983",
        description="2,820 monthly mean sunspot numbers, CSV Month,Sunspots.",
        url=github_raw(*_BROWNLEE, "monthly-sunspots.csv"),
        filename="monthly-sunspots.csv",
        sha256="c4ec8cc57d9f6fb6ecdb3e1f37f25b6f4badd5124c55931052b0cd2fc3bc71f3",
        license=_TSDL,
        size_bytes=45039,
        shared_path="timeseries/monthly-sunspots.csv",
    ),
    DatasetInfo(
        name="sp500",
        title="S&P 500 index, daily, 2000-2018",
        description="4,697 trading days of OHLC and volume, CSV Date,Open,High,Low,Close,Volume "
        "with DD-MM-YY dates.",
        url=github_raw(
            "jaungiers/LSTM-Neural-Network-for-Time-Series-Prediction",
            "da44411c91135b64c02eb60da3c7f574c7c4c253",
            "data/sp500.csv",
        ),
        filename="sp500.csv",
        sha256="b11593884d3aef8cb6d5671352db4203498251e624e6fee16ae6df32b66db9d7",
        license="AGPL-3.0 (the source repo's license, written for its code); "
        "index values are public market data",
        size_bytes=310533,
        shared_path="timeseries/sp500.csv",
    ),
    DatasetInfo(
        name="synthetic-series",
        title="Synthetic monthly series (trend + seasonality + noise)",
        description="240 generated monthly values, 2000-01 to 2019-12: a linear trend, a "
        "12-month seasonal cycle and seeded Gaussian noise, CSV month,value; the offline default.",
        url="https://otexts.com/fpp3/tspatterns.html",
        filename="synthetic-series.csv",
        license="generated by rnn-tui (no third-party data)",
        build=synthetic_series_csv,
    ),
)
"""airline-passengers first (the default), the offline default last."""


def recognise(sample: Sample) -> bool:
    """Whether a local path is a series `tasks.data.series.load_series` reads: a CSV or TSV
    text file (which column holds the values is its reader's to say)."""
    return sample.text is not None and sample.name.endswith((".csv", ".tsv"))
