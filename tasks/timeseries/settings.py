"""The forecasting task's own settings: horizon, multi-step strategy, transform and season."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tasks.engine.settings import MODERN, TrainConfig, positive_int, setting

TRANSFORMS = ("auto", "none", "log", "diff", "log-diff", "seasonal", "log-seasonal")
"""Transforms before scaling (see `tasks.data.series`)."""


@dataclass
class TimeseriesSettings(TrainConfig):
    """Time-series forecasting."""

    TASK_GROUPS: ClassVar[tuple[str, ...]] = ("Forecast",)
    ARCHS: ClassVar[tuple[str, ...]] = ("lstm", "gru", "rnn", *MODERN)
    OPTIONS: ClassVar[tuple[str, ...]] = ()
    WITHOUT_OPTIONS: ClassVar[str] = "it forecasts from the past only, without attention"

    horizon: int = positive_int(
        1,
        "Horizon (steps)",
        "steps ahead to forecast (metrics are one-step; more than 1 adds h-step metrics)",
        "Forecast",
    )
    forecast: str = setting(
        "recursive",
        "Multi-step",
        "recursive (a one-step model fed its own forecasts) or direct (H outputs at once)",
        "Forecast",
        choices=("recursive", "direct"),
    )
    transform: str = setting(
        "auto",
        "Transform",
        "log and/or differencing before scaling (auto: chosen per dataset)",
        "Forecast",
        choices=TRANSFORMS,
    )
    season: int = setting(
        0,
        "Season (0: data's)",
        "season length in steps, for seasonal differencing and the seasonal naive (0: the data's)",
        "Forecast",
        minimum=0,
    )
