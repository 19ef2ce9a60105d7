"""Time-series forecasting quality: each real series x (RNN, LSTM, GRU) against the baselines.

    .venv/bin/python -m benchmarks.timeseries [--seeds 3] [--series airline-passengers ...]

Every run uses the task's defaults (`tasks.registry`, `--transform auto`), one torch thread,
and the shared data in ../shared/data/timeseries. Test RMSE is one-step (rolling origin) in
the series' own units, on exactly the targets the baselines are scored on; mean ± standard
deviation over the seeds (each seed is a separate model; none is picked on test). A second
table scores recursive forecasts H steps ahead. Writes the "timeseries" section of
BENCHMARKS.md and of README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from benchmarks.common import (
    ROOT,
    SHARED_DATA,
    machine,
    replace_section,
    train_to_end,
    write_section,
)

SERIES = ("airline-passengers", "daily-min-temperatures", "monthly-sunspots", "sp500")
ARCHS = ("rnn", "lstm", "gru")
HORIZONS = {"airline-passengers": 12, "daily-min-temperatures": 7, "monthly-sunspots": 12,
            "sp500": 5}  # fmt: skip
"""The multi-step horizon scored per series (a year, a week, a year, a trading week)."""


def drift_anchor() -> float:
    """Airline passengers' declared seasonal-naive-with-drift test RMSE (its chart line)."""
    from tasks.data.catalogue import get_dataset

    declared = get_dataset("airline-passengers").references
    return next(r.value for r in declared if r.label == "seasonal naive + drift")


def run_one(series: str, arch: str, seed: int) -> dict[str, float]:
    """Train one model with the task's defaults; its final metrics and training seconds."""
    from tasks.registry import create_task, default_config

    config = default_config(
        "timeseries", arch, dataset=series, seed=seed, threads=1, horizon=HORIZONS[series]
    )
    config.log_every_s = config.eval_every_s = 1e9
    started = time.perf_counter()
    task = create_task(config)
    metrics, _ = train_to_end(task)
    metrics["seconds"] = time.perf_counter() - started
    metrics["parameters"] = task.parameter_count()
    metrics["transform"] = task.transform  # type: ignore[assignment]
    return metrics


def _ms(values: list[float], digits: int) -> str:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--series", nargs="*", default=list(SERIES))
    parser.add_argument("--archs", nargs="*", default=list(ARCHS))
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.environ["RNN_TUI_DATA"] = str(SHARED_DATA)

    one_step = [
        "| series | model | test RMSE | test MAE | test R² | persistence RMSE | "
        "seasonal naive RMSE | beats persistence | train s |",
        "|---|---|---:|---:|---:|---:|---:|:---:|---:|",
    ]
    multi = [
        "| series | H | model | RMSE at +H | persistence at +H | seasonal naive at +H |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for series in args.series:
        h = HORIZONS[series]
        for arch in args.archs:
            runs = [run_one(series, arch, seed) for seed in range(1, args.seeds + 1)]
            first = runs[0]
            rmse = [r["test_rmse"] for r in runs]
            digits = 1 if first["persistence_rmse"] >= 10 else 3
            wins = sum(r["test_rmse"] < r["persistence_rmse"] for r in runs)
            naive = first.get("seasonal_naive_rmse")
            one_step.append(
                f"| {series} ({first['transform']}) | {arch} ({first['parameters']:,} params) | "
                f"{_ms(rmse, digits)} | {_ms([r['test_mae'] for r in runs], digits)} | "
                f"{_ms([r['test_r2'] for r in runs], 3)} | {first['persistence_rmse']:.{digits}f} | "
                f"{'' if naive is None else f'{naive:.{digits}f}'} | {wins}/{len(runs)} | "
                f"{statistics.fmean(r['seconds'] for r in runs):.0f} |"
            )
            key = f"test_rmse_h{h}"
            if key in first:
                naive_h = first.get(f"seasonal_naive_rmse_h{h}")
                multi.append(
                    f"| {series} | {h} | {arch} | {_ms([r[key] for r in runs], digits)} | "
                    f"{first[f'persistence_rmse_h{h}']:.{digits}f} | "
                    f"{'' if naive_h is None else f'{naive_h:.{digits}f}'} |"
                )
            print(one_step[-1], flush=True)

    body = "\n".join(
        [
            "## Time-series forecasting (one-step test RMSE vs the naive baselines)",
            "",
            f"Machine: {machine()}.",
            f"Command: `.venv/bin/python -m benchmarks.timeseries --seeds {args.seeds}`. "
            "Task defaults (1 layer, hidden 16, window 24, dropout 0.2, 10 epochs of >= 40 "
            "batches, AdamW 3e-3 cosine), `--transform auto` (shown after the series name). "
            f"Mean ± sd over {args.seeds} seeds; no seed is chosen on test. Units are the "
            "series' own (thousands of passengers, °C, sunspot number, index points). Test "
            "parts: airline the last 48 months, the others the last 20% (temperatures the "
            "last 365 days). Persistence = the previous value; seasonal naive = the value one "
            "season back (12 months, 365 days, 12 months, 5 trading days), on the same targets.",
            "",
            *one_step,
            "",
            "Recursive multi-step forecasts (the one-step model fed its own forecasts), scored "
            "H steps after each origin on the test targets:",
            "",
            *multi,
            "",
            "Reading it: on airline passengers the anchors are seasonal naive 42.3 (41.9 on "
            f"these exact targets) and seasonal naive with drift {drift_anchor():g}. On the "
            "S&P 500 the close "
            "is close to a random walk: persistence is the forecast to beat, and the model "
            "only ties it (its log-return predictions stay near zero).",
        ]
    )
    if args.no_write:
        print(body)
        return
    write_section("timeseries", body)
    replace_section(ROOT / "README.md", "timeseries", body)


if __name__ == "__main__":
    main()
