"""Each task's own pictures in the report, drawn from the run's checkpoint through its player.

- sentiment: the test confusion matrix. The run folder does not keep it (the task computes it in
  its final evaluation and `details` hands it to `rnn-tui eval` only), so it is measured again:
  every test review of the run's dataset through the player, which reads them exactly as the
  task's evaluation did (the best-on-validation weights, the same truncation); the caption
  checks its accuracy against the run's `test_accuracy`.
- translation: attention heatmaps of the first few short validation sentences.
- timeseries: the forecast across the test part from its start, and the one-step forecasts the
  test RMSE is measured on, each against persistence and the seasonal naive.
- charlm: generated text per sampling strategy (`tasks.experiments.samples`).
- gradflow: the gradient-flow maps (time step x training step) from the history's profiles,
  and the last profile per layer.

A picture that cannot be drawn (the dataset is gone, no checkpoint yet) becomes a one-line note;
the rest of the report is made anyway.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tasks.experiments.report import plots
from tasks.experiments.report.page import figure, fmt, note, plot_grid, sample
from tasks.experiments.report.reading import RunData

ATTENTION_SENTENCES = 3
"""Validation sentences drawn with their attention."""
ATTENTION_MAX_TOKENS = 14
"""Only sentences of at most this many source tokens are drawn (the labels stay readable)."""
CONFUSION_BATCH = 256
"""Test reviews per forward pass when measuring the confusion matrix."""
MAP_COLUMNS = 400
"""A gradient-flow map shows at most this many profiles (evenly picked from the history)."""
FORECAST_CONTEXT = 36
"""At least this many steps before the test part are drawn with a forecast."""


def pictures(run: RunData, index: int) -> tuple[str, list[str]]:
    """(heading, HTML blocks) of the run's task pictures; ("", []) for a task without any."""
    entry = PICTURES.get(run.info.name)
    if entry is None:
        return "", []
    heading, build = entry
    try:
        return heading, build(run, index)
    except (ValueError, OSError) as exc:  # DatasetError, CheckpointError, an input refused
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return heading, [note(f"not drawn: {reason}")]


def _player(run: RunData) -> Any:
    from tasks.engine.player import load_player

    return load_player(run.checkpoint(), run.info.name)


# -- sentiment ---------------------------------------------------------------------------------


def confusion(run: RunData) -> tuple[list[list[int]], str]:
    """The test confusion matrix [[TN, FP], [FN, TP]] of the run (rows true, columns
    predicted) and where its reviews came from."""
    from tasks.inspect_inputs import inspection_reviews
    from tasks.sentiment.task import LABELS, binary_metrics

    player = _player(run)
    texts, labels, source = inspection_reviews(player.config, n=sys.maxsize)
    predicted = [LABELS.index(a.label) for a in player.answer_many(texts, CONFUSION_BATCH)]
    matrix = binary_metrics(np.asarray(labels), np.asarray(predicted))["confusion"]
    return matrix, source


def _sentiment(run: RunData, index: int) -> list[str]:
    from tasks.sentiment.task import LABELS

    matrix, source = confusion(run)
    counts = np.asarray(matrix, dtype=float)
    shares = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    cells = [
        [f"{int(counts[r, c]):,}\n{100 * shares[r, c]:.1f}%" for c in range(2)] for r in range(2)
    ]
    svg = plots.heatmap(
        f"confusion-{index}",
        shares,
        LABELS,
        LABELS,
        title="Test confusion matrix",
        xlabel="predicted",
        ylabel="true label",
        annotations=cells,
        cmap="Blues",
        vmin=0,
        vmax=1,
    )
    accuracy = float(np.trace(counts) / max(counts.sum(), 1))
    stored = run.metrics.get("test_accuracy")
    check = f"; the run's test_accuracy {fmt(stored)}" if stored is not None else ""
    caption = (
        f"{source}, read by the best-on-validation weights; rows share of each true label; "
        f"accuracy {accuracy:.4g}{check}"
    )
    return [plot_grid([figure("confusion", svg, caption, run=index, small=True)])]


# -- translation -------------------------------------------------------------------------------


def _translation(run: RunData, index: int) -> list[str]:
    from tasks.data.parallel import load_corpus, tokenize

    translator = _player(run)
    if not translator.has_attention:
        return [note("this model has no attention: there is nothing to draw")]
    config = translator.config
    corpus = load_corpus(str(config.dataset), str(config.direction))
    chosen = [
        (s, t)
        for s, t in corpus.val
        if 0 < len(tokenize(s, translator.src_lang)) <= ATTENTION_MAX_TOKENS
    ]
    chosen = chosen[:ATTENTION_SENTENCES]
    if not chosen:
        return [note(f"no validation sentence of at most {ATTENTION_MAX_TOKENS} tokens")]
    figures = []
    results = translator.answer_many([s for s, _ in chosen])
    for n, ((source, reference), result) in enumerate(zip(chosen, results, strict=True)):
        weights = result.attention or [[]]
        rows = [*result.tokens, "<eos>"][: len(weights)]  # a finished sentence: one row more
        columns = [*result.source_tokens, "<eos>"][: len(weights[0])]
        svg = plots.heatmap(
            f"attention-{index}-{n}",
            weights[: len(rows)],
            columns,
            rows,
            title=f"Where each word looked ({translator.source_language} → "
            f"{translator.target_language})",
            xlabel="source",
            ylabel="output",
            colorbar="attention",
            vmin=0,
            vmax=1,
        )
        caption = f"source: {source} · reference: {reference} · model: {result.text}"
        figures.append(figure("attention", svg, caption, run=index))
    how = "greedy" if translator.beam == 1 else f"beam {translator.beam}"
    intro = note(
        f"The first {len(figures)} validation sentences of at most "
        f"{ATTENTION_MAX_TOKENS} tokens, decoded with {how}."
    )
    return [intro, plot_grid(figures)]


# -- timeseries --------------------------------------------------------------------------------


def _date_ticks(series: Any, start: int, end: int, count: int = 6) -> tuple[list, list]:
    positions = sorted(set(np.linspace(start, end, count).round().astype(int).tolist()))
    return positions, [series.date_text(p) for p in positions]


def _timeseries(run: RunData, index: int) -> list[str]:
    from tasks.timeseries.task import MAX_HORIZON

    forecaster = _player(run)
    task, series = forecaster.task, forecaster.series
    y, season, n = series.values, series.season, len(series)
    test_start = task.split.test_start
    test = np.arange(test_start, n)
    if not len(test):
        return [note("the series has no test part")]
    unit = series.unit or series.column or "value"
    seasonal = season > 1
    figures = []

    horizon = min(len(test), MAX_HORIZON, task.outputs if task.outputs > 1 else len(test))
    result = forecaster.forecast(horizon, test_start - 1)
    start = max(0, test_start - max(FORECAST_CONTEXT, horizon))
    origin = test_start - 1
    path_x = list(range(origin, origin + horizon + 1))
    drawn = [
        plots.Line("series", list(range(start, n)), y[start:n].tolist(), "#888888", width=1.2),
        plots.Line("forecast", path_x, [y[origin], *result.values], "#ff7f0e", width=1.8),
        plots.Line("persistence", path_x, [y[origin], *result.persistence], "#1f77b4", style="--"),
    ]
    if seasonal and None not in result.seasonal_naive:
        drawn.append(
            plots.Line(
                "seasonal naive", path_x, [y[origin], *result.seasonal_naive], "#2ca02c", style=":"
            )
        )
    svg = plots.lines(
        f"forecast-{index}",
        f"{horizon} steps forecast from {series.date_text(origin)}",
        "date",
        unit,
        drawn,
        marks=[(test_start, "test")],
        xticks=_date_ticks(series, start, n - 1),
        size=(7.0, 3.4),
    )
    figures.append(
        figure(
            "forecast",
            svg,
            f"{run.dataset_name}: the model's {horizon}-step "
            "forecast from the last step before the test part, against the naive "
            "forecasts from the same origin",
            run=index,
        )
    )

    one_step = task.one_step(test)
    drawn = [
        plots.Line("actual", test.tolist(), y[test].tolist(), "#333333", width=1.2),
        plots.Line("model", test.tolist(), one_step.tolist(), "#ff7f0e", width=1.6),
        plots.Line("persistence", test.tolist(), y[test - 1].tolist(), "#1f77b4", style="--"),
    ]
    if seasonal and test_start >= season:
        drawn.append(
            plots.Line(
                "seasonal naive", test.tolist(), y[test - season].tolist(), "#2ca02c", style=":"
            )
        )
    svg = plots.lines(
        f"one-step-{index}",
        "One step ahead on the test part",
        "date",
        unit,
        drawn,
        xticks=_date_ticks(series, test_start, n - 1),
        size=(7.0, 3.4),
    )
    m = run.metrics
    scores = [
        f"{label} {fmt(m[key])}"
        for key, label in (
            ("test_rmse", "model"),
            ("persistence_rmse", "persistence"),
            ("seasonal_naive_rmse", "seasonal naive"),
        )
        if key in m
    ]
    caption = "each forecast from the true values before it (the test RMSE's targets)"
    if scores:
        caption += "; RMSE " + " · ".join(scores)
    figures.append(figure("one-step", svg, caption, run=index))
    return [plot_grid(figures)]


# -- charlm ------------------------------------------------------------------------------------


def _charlm(run: RunData, index: int) -> list[str]:
    from tasks.experiments.samples import samples

    found = samples(run.path)
    if not found:
        return [note("no samples: the run has no checkpoint to generate from")]
    return [sample(tag.removeprefix("samples/"), text) for tag, text in found.items()]


# -- gradflow ----------------------------------------------------------------------------------

GRADIENT_QUANTITIES = {"dl_dh": "||dL/dh_t||", "dhT_dh": "||u^T dh_T/dh_t||"}
"""The profile's rows -> how they are labelled."""


def profiles(run: RunData) -> list[dict[str, Any]]:
    """The gradient-flow profiles of the run's step events, oldest first."""
    return [r["gradients"] for r in run.history if r.get("event") == "step" and r.get("gradients")]


def log_map(columns: Sequence[Sequence[float | None]]) -> np.ndarray:
    """(T, profiles) log10 norms of columns of T values: None (an overflow) is NaN, a zero
    gradient the smallest finite value shown."""
    values = np.array([[math.nan if v is None else v for v in col] for col in columns], float).T
    with np.errstate(divide="ignore"):
        logs = np.log10(values)
    finite = logs[np.isfinite(logs)]
    logs[np.isneginf(logs)] = finite.min() if len(finite) else 0.0
    return logs


def _gradflow(run: RunData, index: int) -> list[str]:
    found = profiles(run)
    if not found:
        return [note("the history holds no gradient profiles")]
    pick = np.unique(
        np.linspace(0, len(found) - 1, min(MAP_COLUMNS, len(found))).round().astype(int)
    )
    shown = [found[i] for i in pick]
    ticks = np.unique(np.linspace(0, len(shown) - 1, min(6, len(shown))).round().astype(int))
    xticks = (ticks.tolist(), [f"{shown[i]['step']:,}" for i in ticks])
    length = len(shown[0]["dl_dh"][-1])
    panels = [
        plots.Panel(
            f"log10 {label}, top layer",
            log_map([p[key][-1] for p in shown]),
            xticks,
            (0.5, length + 0.5),
        )
        for key, label in GRADIENT_QUANTITIES.items()
        if all(p.get(key) for p in shown)
    ]
    svg = plots.grid_maps(
        f"gradflow-{index}",
        panels,
        xlabel="training step",
        ylabel="time step t",
        colorbar="log10 norm",
    )
    blocks = [
        figure(
            "gradflow",
            svg,
            f"{len(found):,} profiles recorded, {len(shown):,} shown; red: the norm overflowed",
            run=index,
        )
    ]
    last = found[-1]
    t = list(range(1, length + 1))
    drawn = [
        plots.Line(f"layer {layer + 1}", t, row, plots.PALETTE[layer % len(plots.PALETTE)])
        for layer, row in enumerate(last["dl_dh"])
    ]
    svg = plots.lines(
        f"gradflow-last-{index}",
        f"{GRADIENT_QUANTITIES['dl_dh']} at step {last['step']:,}",
        "time step t",
        "norm (log scale)",
        drawn,
        log_y=True,
    )
    ratio = last.get("ratio")
    caption = "the last profile: the gradient reaching each time step from the loss"
    if ratio is not None:
        caption += f"; ||dL/dh_1|| / ||dL/dh_T|| = {ratio:.3g}"
    blocks.append(figure("gradflow-last", svg, caption, run=index))
    return [plot_grid(blocks)]


PICTURES: dict[str, tuple[str, Callable[[RunData, int], list[str]]]] = {
    "sentiment": ("Confusion matrix", _sentiment),
    "translation": ("Attention", _translation),
    "timeseries": ("Forecasts against the naive baselines", _timeseries),
    "charlm": ("Samples per sampling strategy", _charlm),
    "gradflow": ("Gradient flow", _gradflow),
}
"""Task -> (heading, builder(run, run number) -> HTML blocks)."""
