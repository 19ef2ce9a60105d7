"""Forecasting with a timeseries checkpoint from any origin (the CLI and the Play screen).

An input is an origin, the last known step: a date of the series (as `Series.date_text` writes
it) or a step index (negative from the end). Many origins forecast together: one batch of
windows per step ahead (`TimeSeriesTask.forecast_paths`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.data.series import Series
from tasks.engine.player import DEFAULT_BATCH, check_each, chunks
from tasks.timeseries.task import MAX_HORIZON, TimeSeriesTask, seasonal_path


@dataclass(frozen=True)
class Forecast:
    """A forecast of `horizon` steps after `origin`, with the baselines and the truth."""

    origin: int
    """The last known step (index into the series)."""
    origin_date: str
    dates: list[str]
    values: list[float]
    """The model's forecast, original units."""
    actual: list[float | None]
    """The true values where the series has them (None past its end)."""
    persistence: list[float]
    seasonal_naive: list[float | None]
    """None where the series has no value a whole season back."""

    def to_dict(self) -> dict[str, Any]:
        rows = [
            {"date": d, "forecast": v, "actual": a, "persistence": p, "seasonal_naive": s}
            for d, v, a, p, s in zip(
                self.dates, self.values, self.actual, self.persistence, self.seasonal_naive,
                strict=True,
            )
        ]  # fmt: skip
        return {"origin": self.origin, "origin_date": self.origin_date, "steps": rows}

    def to_text(self) -> str:
        """`after 1960-12: 1961-01 447.2, 1961-02 421.9` (the forecast only; --json has all)."""
        steps = ", ".join(f"{d} {v:.4g}" for d, v in zip(self.dates, self.values, strict=True))
        return f"after {self.origin_date}: {steps}"


class SeriesForecaster:
    """Forecasts with a timeseries checkpoint; `dataset` forecasts another series of the same
    format, `horizon` (default: the run's) is how far `answer` and `answer_many` look ahead."""

    def __init__(
        self,
        payload: dict[str, Any],
        config: Any,
        *,
        dataset: str | None = None,
        horizon: int | None = None,
    ) -> None:
        if dataset:
            config.dataset = dataset
        self.config = config
        self.task = TimeSeriesTask(config)
        self.task.load_state_dict(payload["task_state"])
        self.metrics: dict[str, float] = dict(payload.get("metrics", {}))
        self.horizon = _check_horizon(horizon if horizon is not None else config.horizon)

    @property
    def series(self) -> Series:
        return self.task.series

    def describe(self) -> str:
        """`gru · 1×16 · airline-passengers (Passengers) · recursive` (model and series)."""
        c = self.config
        return (
            f"{c.arch} · {c.layers}×{c.hidden} · {c.dataset} ({self.series.column}) · {c.forecast}"
        )

    def origin_index(self, origin: int | str | None) -> int:
        """None: the last step; an int: a step index (negative from the end); else a date.

        ValueError when it is outside the series or too early to have a full window behind it.
        """
        n = len(self.series)
        if origin is None:
            return n - 1
        if isinstance(origin, str):
            origin = origin.strip()
            if origin.lstrip("-").isdigit():
                origin = int(origin)
        if isinstance(origin, int):
            index = origin + n if origin < 0 else origin
            if not 0 <= index < n:
                raise ValueError(f"--origin {origin} is outside the series (0..{n - 1})")
        else:
            index = next((i for i in range(n) if self.series.date_text(i) == origin), -1)
            if index < 0:
                raise ValueError(
                    f"--origin {origin!r} is not a date of the series "
                    f"({self.series.date_text(0)} .. {self.series.date_text(n - 1)})"
                )
        first = self.task.min_target - 1
        if index < first:
            raise ValueError(
                f"--origin {origin}: a forecast needs {first + 1} known values before it; the "
                f"earliest origin is step {first} ({self.series.date_text(first)})"
            )
        return index

    def forecast(self, horizon: int, origin: int | str | None = None) -> Forecast:
        """Forecast `horizon` steps after `origin` (default: after the last value)."""
        return self._forecasts(_check_horizon(horizon), [self.origin_index(origin)])[0]

    def answer(self, text: str) -> Forecast:
        """The forecast of `horizon` steps after the origin `text` (a date or an index)."""
        return self.forecast(self.horizon, text)

    def answer_many(
        self, texts: Iterable[str], batch_size: int = DEFAULT_BATCH
    ) -> Iterator[Forecast]:
        """`answer` for each origin, in order; a group of origins forecasts as one batch."""
        for start, group in chunks(texts, batch_size):
            yield from self._forecasts(self.horizon, check_each(start, group, self.origin_index))

    def _forecasts(self, horizon: int, origins: list[int]) -> list[Forecast]:
        paths = self.task.forecast_paths(np.array(origins), horizon)  # (N, horizon)
        y, s, n = self.series.values, self.series.season, len(self.series)
        out = []
        for o, values in zip(origins, paths, strict=True):
            steps = range(o + 1, o + horizon + 1)
            out.append(
                Forecast(
                    origin=o,
                    origin_date=self.series.date_text(o),
                    dates=[self.series.date_text(t) for t in steps],
                    values=[float(v) for v in values],
                    actual=[float(y[t]) if t < n else None for t in steps],
                    persistence=[float(y[o])] * horizon,
                    seasonal_naive=[
                        float(v) if math.isfinite(v) else None
                        for v in seasonal_path(y, o, horizon, s)
                    ],
                )
            )
        return out


def _check_horizon(horizon: Any) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon <= 0:
        raise ValueError(f"--horizon must be a positive integer (got {horizon})")
    if horizon > MAX_HORIZON:
        raise ValueError(f"--horizon must be at most {MAX_HORIZON} (got {horizon})")
    return horizon
