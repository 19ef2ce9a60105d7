"""Time-series forecasting: windows of a real series -> an RNN -> the next value(s).

The data path (see `tasks.data.series`): the series is split in time order into train,
validation and test; ``y`` is transformed to ``z`` (optional log, optional differencing at lag 1
or at the season length; ``--transform auto`` picks per dataset, e.g. log + seasonal
differencing for airline passengers) and min-max scaled to [-1, 1] with a scaler fitted on the
training part only. The model reads ``--seq-len`` steps of scaled z (plus sin/cos of the
position in the year where the dataset asks for date features) and predicts the next z.

Forecasting ``--horizon H`` steps from an origin (the last known step):

- ``--forecast recursive`` (default): a one-step model; each forecast is fed back as the next
  input, H times.
- ``--forecast direct``: the model has H outputs and predicts z at +1..+H at once.

Either way, forecasts of z are unscaled and un-differenced (adding g at t - lag, known or
itself forecast) and exponentiated back into the original units.

Metrics, all in original units, on exactly the same targets: one-step forecasts of every test
point (rolling origin: each uses the true values before it) give ``test_rmse``, ``test_mae``,
``test_r2``; the same targets forecast by persistence (the previous value) and by the seasonal
naive (the value one season back) give ``persistence_rmse`` and ``seasonal_naive_rmse``.
``val_rmse`` (one-step, validation part) is the primary metric: the best checkpoint is chosen on
validation, never on test. With H > 1, ``test_rmse_hH`` and the baselines' ``_hH`` compare
forecasts made H steps ahead.

An epoch is as many shuffled passes over the training windows as make at least
`MIN_STEPS_PER_EPOCH` batches (the series are tiny: airline passengers has 60 windows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tasks.data.series import (
    Preprocessor,
    Series,
    SeriesSpec,
    chronological_split,
    load_series,
    parse_transform,
    persistence,
    regression_metrics,
    seasonal_naive,
)
from tasks.engine.base import (
    StepStats,
    TaskBase,
    make_optimizer,
    seed_everything,
    shard_indices,
    torch_device,
)
from tasks.engine.distributed import World
from tasks.engine.precision import StepModel
from tasks.engine.settings import ConfigError, TrainConfig

MIN_STEPS_PER_EPOCH = 40
"""An epoch repeats shuffled passes over the training windows until it has this many batches."""
MAX_HORIZON = 2000
"""The longest forecast asked of a model (dates and features are prepared this far ahead)."""


class TimeSeriesTask(TaskBase):
    """The timeseries task for rnn, lstm, gru and the modern cores (see the module docstring)."""

    name = "timeseries"
    primary_metric = "val_rmse"
    lower_is_better = True

    def __init__(self, config: TrainConfig, series: Series | None = None) -> None:
        config.validate()
        self.config = config
        if series is None:
            series = load_series(config.dataset, config.season)
            if series.source == "offline default":
                config.dataset = series.name  # the run records what it really used
        self.series = series
        self.dataset_note = series.note
        spec = series.spec or SeriesSpec(value_column=1)
        self.transform = spec.transform if config.transform == "auto" else config.transform
        log, lag = parse_transform(self.transform, series.season)
        self.split = chronological_split(len(series), spec.test_size, spec.val_size)
        self.outputs = config.horizon if config.forecast == "direct" else 1
        self.date_features = spec.date_features
        self.window = config.seq_len
        self.pre = Preprocessor(log, lag)
        self.g = self.pre.g(series.values)  # (n,) log or identity
        self.pre.fit(self.pre.z(self.g)[: self.split.val_start])
        self._check_lengths()
        self.features = 3 if self.date_features else 1
        phase = series.phase(len(series) + MAX_HORIZON)
        self._calendar = np.stack([np.sin(2 * np.pi * phase), np.cos(2 * np.pi * phase)], 1)
        self.train_targets = np.arange(self.min_target, self.split.val_start - self.outputs + 1)
        self._build_model()

    # -- setup -------------------------------------------------------------------------------

    @property
    def min_target(self) -> int:
        """The first step that has a full window of z behind it."""
        return self.pre.lag + self.window

    def _check_lengths(self) -> None:
        n, lag, w = len(self.series), self.pre.lag, self.window
        train = self.split.val_start
        need = lag + w + self.outputs
        if train < need:
            what = f"{lag} for differencing + " if lag else ""
            raise ConfigError(
                f"the series is too short for --seq-len {w}: its training part has {train} of "
                f"{n} values, and a window needs {need} ({what}{w} inputs + {self.outputs} "
                f"target{'s' if self.outputs > 1 else ''}); use a smaller --seq-len"
            )

    def _build_model(self) -> None:
        from models.forecaster import SeriesRNN

        config = self.config
        self.device = torch_device(config)
        seed_everything(config.seed)  # the initial weights depend on the seed alone
        self.model = SeriesRNN(
            self.features, config.hidden, config.layers, config.arch, self.outputs,
            config.dropout, config.backend, **config.core_options(),
        ).to(self.device)  # fmt: skip
        self.optimizer = make_optimizer(self.model, config)
        self.step_model = StepModel(self.model, self.device, config)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # -- windows ----------------------------------------------------------------------------

    def _inputs(self, z_scaled: np.ndarray, times: np.ndarray) -> np.ndarray:
        """(N, W) scaled z at `times` (N, W) -> model inputs (N, W, F)."""
        parts = [z_scaled[..., None]]
        if self.date_features:
            parts.append(self._calendar[times])
        return np.concatenate(parts, axis=-1).astype(np.float32)

    def windows(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs for first-target steps: x (N, W, F) and y (N, outputs), scaled z."""
        z = self.pre.scale(self.pre.z(self.g))
        back = targets[:, None] + np.arange(-self.window, 0)[None, :]  # (N, W)
        ahead = targets[:, None] + np.arange(self.outputs)[None, :]  # (N, outputs)
        return self._inputs(z[back], back), z[ahead].astype(np.float32)

    def batches(self, epoch: int) -> Sequence[np.ndarray]:
        """Target indices per batch; shuffled passes, seeded by (seed, epoch)."""
        return self.seeded_batches(epoch, self._passes)

    def _passes(self, rng: np.random.Generator) -> list[np.ndarray]:
        """Batches of shuffled passes over the training targets, at least `MIN_STEPS_PER_EPOCH`."""
        size = self.config.batch
        per_pass = max(1, math.ceil(len(self.train_targets) / size))
        passes = max(1, math.ceil(MIN_STEPS_PER_EPOCH / per_pass))
        out: list[np.ndarray] = []
        for _ in range(passes):
            order = rng.permutation(self.train_targets)
            out.extend(order[i : i + size] for i in range(0, len(order), size))
        return out

    def start_epoch(self, epoch: int) -> None:
        pass  # windows are independent: nothing is carried between batches

    def shard(self, batch: np.ndarray, world: World) -> np.ndarray:
        """This rank's target steps of a batch."""
        return shard_indices(batch, world)

    def train_step(self, batch: np.ndarray, lr: float) -> StepStats:
        import torch
        import torch.nn.functional as F

        x, y = self.windows(batch)
        x_t, y_t = torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device)
        loss = F.mse_loss(self.step_model(x_t).float(), y_t)
        norm = self.step_model.update(self.optimizer, loss, self.config.clip, lr)
        return StepStats(float(loss.detach()), norm, len(batch))

    # -- forecasting ------------------------------------------------------------------------

    def forecast_paths(self, origins: np.ndarray, horizon: int) -> np.ndarray:
        """Forecasts of steps o+1..o+horizon for each origin o (the last known step): (N, horizon).

        Only values up to each origin are used; recursive models feed their forecasts back,
        direct models predict all steps at once (horizon <= their outputs).
        """
        import torch

        origins = np.asarray(origins, dtype=np.int64)
        if self.outputs > 1 and horizon > self.outputs:
            raise ValueError(
                f"this model forecasts {self.outputs} steps directly; ask for --horizon "
                f"{self.outputs} or fewer (or train with --forecast recursive)"
            )
        if len(origins) and origins.min() + 1 < self.min_target:
            first = self.min_target - 1
            raise ValueError(
                f"a forecast needs {self.min_target} known values before it; the earliest "
                f"origin is step {first} ({self.series.date_text(first)})"
            )
        lag, w = self.pre.lag, self.window
        back = w + lag
        g = np.zeros((len(origins), back + horizon))
        g[:, :back] = self.g[origins[:, None] + 1 + np.arange(-back, 0)[None, :]]
        self.model.eval()
        with torch.inference_mode():
            direct = None
            for h in range(horizon):
                p = back + h  # position of the step forecast now
                if direct is None or self.outputs == 1:
                    pos = np.arange(p - w, p)
                    zw = g[:, pos] - g[:, pos - lag] if lag else g[:, pos]
                    times = origins[:, None] + 1 + (pos - back)[None, :]
                    x = torch.from_numpy(self._inputs(self.pre.scale(zw), times)).to(self.device)
                    out = self.model(x).cpu().numpy().astype(np.float64)  # (N, outputs)
                    direct = out
                    z_hat = self.pre.unscale(out[:, 0])
                else:
                    z_hat = self.pre.unscale(direct[:, h])
                g[:, p] = z_hat + (g[:, p - lag] if lag else 0.0)
        self.model.train()
        return self.pre.g_inv(g[:, back:])

    def one_step(self, targets: np.ndarray) -> np.ndarray:
        """One-step forecasts of the given steps (each from the true values before it)."""
        return self.forecast_paths(np.asarray(targets) - 1, 1)[:, 0]

    # -- evaluation -------------------------------------------------------------------------

    def evaluate(self, quick: bool = False) -> dict[str, float]:
        """Validation and test metrics in original units (cheap: one batched pass each)."""
        y, s = self.series.values, self.series.season
        split = self.split
        val = np.arange(max(split.val_start, self.min_target), split.test_start)
        test = np.arange(split.test_start, split.n)
        metrics: dict[str, float] = {}
        if len(val):
            metrics["val_rmse"] = regression_metrics(y[val], self.one_step(val))["rmse"]
        pred = self.one_step(test)
        m = regression_metrics(y[test], pred)
        metrics |= {"test_rmse": m["rmse"], "test_mae": m["mae"], "test_r2": m["r2"]}
        metrics |= baseline_metrics(y, test, s, 1)
        h = self.config.horizon
        if h > 1 and not quick:
            ok = test[test - h + 1 >= self.min_target]
            if len(ok):
                path = self.forecast_paths(ok - h, h)[:, -1]
                metrics[f"test_rmse_h{h}"] = regression_metrics(y[ok], path)["rmse"]
                metrics |= baseline_metrics(y, ok, s, h, suffix=f"_h{h}")
        return {k: round(v, 5) for k, v in metrics.items() if math.isfinite(v)}

    # -- state ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "preprocessor": self.pre.state(),
            "outputs": self.outputs,
            "features": self.features,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        # The scaling the model was trained with (the same unless the data changed).
        self.pre.load_state(state["preprocessor"])


def baseline_metrics(
    y: np.ndarray, targets: np.ndarray, season: int, lead: int, suffix: str = ""
) -> dict[str, float]:
    """persistence and seasonal-naive RMSE on exactly `targets` (the seasonal naive is left out
    when a target has no value a whole season back)."""
    naive = persistence(y, targets, lead)
    out = {f"persistence_rmse{suffix}": regression_metrics(y[targets], naive)["rmse"]}
    if targets.min() - season * math.ceil(lead / season) >= 0:
        naive = seasonal_naive(y, targets, season, lead)
        out[f"seasonal_naive_rmse{suffix}"] = regression_metrics(y[targets], naive)["rmse"]
    return out


def seasonal_path(y: np.ndarray, origin: int, horizon: int, season: int) -> np.ndarray:
    """The seasonal naive forecast of steps origin+1..origin+horizon (NaN where unknown)."""
    out = np.full(horizon, np.nan)
    for h in range(1, horizon + 1):
        src = origin + h - season * math.ceil(h / season)
        if src >= 0:
            out[h - 1] = y[src]
    return out


def create(config: TrainConfig, series: Series | None = None) -> TimeSeriesTask:
    """The task registry's factory."""
    return TimeSeriesTask(config, series=series)
