"""A time series: the values with the train/val/test cut, statistics, autocorrelation, a
seasonal decomposition, the loader's repairs and what each ``--transform`` does.

Read with the task's loader (`tasks.data.series.load_series`, with ``--season``) and cut where
the task cuts it (`chronological_split` with the series' own test and validation sizes).

- **autocorrelation** at lags 0 to two seasons (to 20 lags when there is no season): the
  sample ACF ``r_k = sum (y_t - m)(y_{t+k} - m) / sum (y_t - m)^2``.
- **decomposition** (classical, additive; statsmodels' ``seasonal_decompose`` does the same,
  and this is the whole of it): the trend is a centred moving average over one season (a
  2 x m average for an even season m); the seasonal index of each position in the season is
  the mean of the detrended values there, shifted to sum to zero; the residual is what is left.
  Strengths as in Hyndman & Athanasopoulos (FPP3, 4.3): ``1 - Var(R) / Var(T + R)`` for the
  trend and ``1 - Var(R) / Var(S + R)`` for the season, floored at 0.
- **transforms**: each ``--transform`` through the task's `Preprocessor` (log, differencing,
  then min-max scaling fitted on the training part): the series the model would learn on, its
  spread, its autocorrelation at lag 1 and at one season, and how far validation and test go
  outside the training range [-1, 1].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tasks.data.profile.common import Progress, Stages, floats, summary
from tasks.engine.settings import TrainConfig

NO_SEASON_LAGS = 20


def compute(
    task: str, dataset: str, path: Path, settings: TrainConfig, progress: Progress
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures, tables) of a series (its tables are empty: no setting changes a figure)."""
    from tasks.data.series import SeriesSpec, chronological_split, load_series

    stages = Stages(progress, reading=1, analysing=1)
    stages("reading")
    series = load_series(dataset, settings.season)  # type: ignore[attr-defined]
    spec = series.spec or SeriesSpec(value_column=1)
    split = chronological_split(len(series), spec.test_size, spec.val_size)
    stages("analysing")
    y = series.values
    season = series.season
    lags = min(2 * season if season > 1 else NO_SEASON_LAGS, len(y) - 1)
    figures = {
        "name": series.name,
        "column": series.column,
        "unit": series.unit,
        "frequency": series.freq,
        "season": season,
        "dates": [series.date_text(i) for i in range(len(y))],
        "values": floats(y, 10),
        "split": _split(series, split),
        "summary": {"count": len(y), **summary(y)},
        "repairs": list(series.repairs),
        "notes": [series.note] if series.note else [],
        "acf": floats(acf(y, lags)),
        "decomposition": decompose(y, season),
        "auto_transform": spec.transform,
        "transforms": transforms(y, season, split.val_start),
    }
    stages("analysing", 1.0)
    return figures, {}


def _split(series: Any, split: Any) -> dict[str, Any]:
    parts = {"train": (0, split.val_start), "val": (split.val_start, split.test_start),
             "test": (split.test_start, split.n)}  # fmt: skip
    return {
        name: {"start": lo, "count": hi - lo, "from": series.date_text(lo),
               "to": series.date_text(hi - 1)}
        for name, (lo, hi) in parts.items()
    }  # fmt: skip


def acf(y: np.ndarray, lags: int) -> np.ndarray:
    """The sample autocorrelation at lags 0..`lags` (all 0 for a constant series past lag 0)."""
    d = y - y.mean()
    denominator = float(d @ d)
    if denominator == 0:
        return np.r_[1.0, np.zeros(lags)]
    return np.array([float(d[: len(d) - k] @ d[k:]) / denominator for k in range(lags + 1)])


def moving_average(y: np.ndarray, m: int) -> np.ndarray:
    """The centred moving average over `m` steps (2 x m for even m); NaN where it is short."""
    weights = np.full(m, 1 / m) if m % 2 else np.r_[0.5, np.ones(m - 1), 0.5] / m
    out = np.full(len(y), np.nan)
    half = len(weights) // 2
    if len(y) >= len(weights):
        out[half : len(y) - half] = np.convolve(y, weights, mode="valid")
    return out


def decompose(y: np.ndarray, m: int) -> dict[str, Any]:
    """The classical additive decomposition over a season of `m` steps (see the docstring)."""
    if m < 2 or len(y) < 2 * m:
        why = "there is no season" if m < 2 else f"it needs two seasons ({2 * m} values)"
        return {"available": False, "reason": why}
    trend = moving_average(y, m)
    detrended = y - trend
    position = np.arange(len(y)) % m
    index = np.array([np.nanmean(detrended[position == k]) for k in range(m)])
    index -= index.mean()
    seasonal = index[position]
    resid = y - trend - seasonal
    ok = ~np.isnan(trend)
    return {
        "available": True,
        "season": m,
        "trend": floats(trend),
        "seasonal_index": floats(index),
        "seasonal": floats(seasonal),
        "residual": floats(resid),
        "trend_strength": _strength(resid[ok], trend[ok] + resid[ok]),
        "seasonal_strength": _strength(resid[ok], seasonal[ok] + resid[ok]),
    }


def _strength(resid: np.ndarray, part: np.ndarray) -> float:
    var = float(np.var(part))
    return max(0.0, 1 - float(np.var(resid)) / var) if var > 0 else 0.0


def transforms(y: np.ndarray, season: int, val_start: int) -> list[dict[str, Any]]:
    """Each ``--transform`` (but auto): the scaled series the model learns on, and its figures."""
    from tasks.data.series import Preprocessor, SeriesError, parse_transform
    from tasks.timeseries.settings import TRANSFORMS

    out = []
    for name in TRANSFORMS:
        if name == "auto":
            continue
        log, lag = parse_transform(name, season)
        pre = Preprocessor(log, lag)
        try:
            z = pre.z(pre.g(y))
        except SeriesError as exc:
            out.append({"name": name, "available": False, "reason": str(exc)})
            continue
        if val_start - lag < 2:
            reason = f"differencing at lag {lag} leaves too little of the training part"
            out.append({"name": name, "available": False, "reason": reason})
            continue
        scaled = pre.fit(z[:val_start]).scale(z)
        known = z[~np.isnan(z)]
        rest = scaled[val_start:]
        r = acf(known, min(max(season, 1), len(known) - 1))
        out.append({
            "name": name,
            "available": True,
            "lag": lag,
            "log": log,
            "std": float(known.std()),
            "acf1": float(r[1]) if len(r) > 1 else 0.0,
            "acf_season": float(r[-1]) if season > 1 and len(r) > season else None,
            "outside": float(np.mean(np.abs(rest[~np.isnan(rest)]) > 1)) if rest.size else 0.0,
            "values": floats(scaled),
        })  # fmt: skip
    return out


def live(figures: dict[str, Any], tables: dict[str, Any], settings: TrainConfig) -> dict:
    """The training windows ``--seq-len`` leaves, after the differencing of ``--transform``
    and the targets of ``--horizon`` (as `tasks.timeseries.task` counts them)."""
    from tasks.data.series import parse_transform

    transform = settings.transform  # type: ignore[attr-defined]
    if transform == "auto":
        transform = figures["auto_transform"]
    lag = parse_transform(transform, figures["season"])[1]
    direct = settings.forecast == "direct"  # type: ignore[attr-defined]
    outputs = settings.horizon if direct else 1  # type: ignore[attr-defined]
    train = figures["split"]["train"]["count"]
    windows = train - outputs + 1 - lag - settings.seq_len
    return {"windows": {"transform": transform, "lag": lag, "seq_len": settings.seq_len,
                        "outputs": outputs, "count": max(windows, 0)}}  # fmt: skip


def notes(report: dict[str, Any]) -> dict[str, str]:
    """One short line per setting for the Configure form."""
    w = report["live"]["windows"]
    if not w["count"]:
        return {"seq_len": f"too long: no training window is left ({w['transform']})"}
    return {"seq_len": f"{w['count']:,} training windows ({w['transform']})"}
