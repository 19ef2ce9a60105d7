"""The report of some runs (and a sweep) as one HTML page.

    html = build_report([Path("runs/20261203-...-sentiment-gru-rt-polarity")])

Per run: its settings (those changed from the task's defaults marked), its metrics, the curves of
each quantity with the reference lines (published anchors and the baselines the run measured),
the metrics against those anchors, and the task's pictures (`pictures`). Several runs: a
comparison table and, per task, the curves of every run overlaid. A sweep (`study`): its trial
table, the metric against trial number and the importances (`study`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tasks.engine.quantity import Quantity, split_of
from tasks.experiments.report import plots
from tasks.experiments.report.page import (
    Raw,
    esc,
    figure,
    fmt,
    note,
    page,
    plot_grid,
    table,
)
from tasks.experiments.report.pictures import pictures
from tasks.experiments.report.reading import RunData, read_run_folder
from tasks.experiments.report.study import best_run_dir, load_study, sweep_section
from tasks.registry import task_defaults

MAX_DIFFERING = 10
"""The comparison table shows at most this many of the settings that differ between runs."""
SHOWN_ELSEWHERE = ("task", "arch", "dataset")
"""Settings every table shows in its own column or heading."""


def build_report(
    run_dirs: Sequence[Path],
    study: str | None = None,
    storage: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> str:
    """The HTML page of the runs in `run_dirs` and of the sweep `study` (in `storage`, default
    the sweeps' database); a sweep alone brings its best trial's run.

    Every input is checked before anything is drawn: `ReportError` (one line) for a folder that
    is not a run, a study that cannot be read.
    """
    runs = [read_run_folder(Path(p)) for p in run_dirs]
    sweep = load_study(study, storage) if study else None
    if sweep is not None and not runs:
        best = best_run_dir(sweep)
        runs = [read_run_folder(best)] if best is not None else []
    say = progress or (lambda _: None)
    contents: list[tuple[str, str]] = []
    sections: list[str] = []
    if len(runs) > 1:
        contents.append(("comparison", "Comparison"))
        sections.append(comparison_section(runs, "comparison"))
    if sweep is not None:
        contents.append(("sweep", f"Sweep {sweep.study_name}"))
        sections.append(sweep_section(sweep, "sweep"))
    for index, run in enumerate(runs, 1):
        say(f"run {index} of {len(runs)}: {run.title}")
        contents.append((f"run-{index}", f"Run {index}: {run.title}"))
        sections.append(run_section(run, index))
    what = [f"{len(runs)} run{'s' * (len(runs) != 1)}"]
    if sweep is not None:
        what.append(f"sweep {sweep.study_name}")
    subtitle = f"{' and '.join(what)} · written {time.strftime('%Y-%m-%d %H:%M')} by rnn-tui"
    return page("rnn-tui report", subtitle, contents, sections)


def slug(name: str) -> str:
    """A quantity's name in a plot name: `nats/char` -> `nats-char`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def metric_key(quantity: Quantity, split: str) -> str | None:
    """The key of `quantity`'s metric on `split`, if it has one."""
    return next((k for k in quantity.metrics if split_of(k) == split), None)


# -- one run -----------------------------------------------------------------------------------


def run_section(run: RunData, index: int) -> str:
    """Settings, metrics, curves, the anchors, the task's pictures."""
    s = run.summary
    status = str(s.get("status", "?")) + (f": {s['reason']}" if s.get("reason") else "")
    meta = (
        f"{run.path} · {status} · step {fmt(s.get('step'))}, epoch {fmt(s.get('epoch'))} · "
        f"started {s.get('started', '?')}"
    )
    parts = [
        f'<section class="run" id="run-{index}"><h2>Run {index}: {esc(run.title)}</h2>',
        f'<p class="meta">{esc(meta)}</p>',
        "<h3>Settings</h3>",
        settings_tables(run),
        "<h3>Metrics</h3>",
        metrics_table(run),
        "<h3>Curves</h3>",
        curves(run, index),
        "<h3>Against the references</h3>",
        references_table(run),
    ]
    heading, blocks = pictures(run, index)
    if heading:
        parts += [f"<h3>{esc(heading)}</h3>", *blocks]
    return "\n".join(parts) + "\n</section>"


def settings_tables(run: RunData) -> Raw:
    """One small table per group of settings; those changed from the task's defaults marked."""
    config = run.config
    declared = run.info.settings.settings()
    defaults = task_defaults(run.info.name, config.get("arch"))
    tables = []
    for group in run.info.settings.groups():
        names = [n for n, s in declared.items() if s.group == group and n in config]
        names = [n for n in names if n not in SHOWN_ELSEWHERE]
        if not names:
            continue
        rows = [[declared[n].label, _value(config[n])] for n in names]
        changed = ["changed" if n in defaults and config[n] != defaults[n] else "" for n in names]
        tables.append(table(["setting", "value"], rows, row_classes=changed, caption=group))
    legend = note("* changed from the task's default for this architecture")
    return Raw(f'<div class="settings">{"".join(tables)}</div>{legend}')


def _value(value: Any) -> Any:
    """A setting for a table: numbers stay numbers, None is "none", lists are joined."""
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


def metrics_table(run: RunData) -> Raw:
    """The run's latest metrics: validation, test, then the rest (baselines, speed)."""
    metrics = {k: v for k, v in run.metrics.items() if not isinstance(v, dict | list)}
    if not metrics:
        return note("no metrics recorded yet")
    order = sorted(
        metrics, key=lambda k: 0 if k.startswith("val_") else 1 if k.startswith("test_") else 2
    )
    primary = run.summary.get("primary_metric") or run.info.primary_metric
    classes = ["best" if k == primary else "" for k in order]
    rows = [[k, metrics[k]] for k in order]
    return table(["metric", "value"], rows, row_classes=classes)


def references_table(run: RunData) -> Raw:
    """Each reference (published, or a baseline the run measured) against the run's value of
    the same quantity on the same split."""
    rows, cells = [], {}
    for q in run.info.chart_quantities:
        for ref in run.references(q):
            key = metric_key(q, ref.split)
            ours = run.metrics.get(key) if key else None
            diff = ""
            if isinstance(ours, int | float):
                delta = float(ours) - ref.value
                diff = f"{delta:+.4g}"
                better = delta > 0 if q.higher_is_better else delta < 0
                cells[(len(rows), 5)] = "num better" if better else "num worse"
            rows.append([ref.label, q.name, ref.split, ref.value, ours, diff, ref.source])
    if not rows:
        return note(f"no published reference for {run.dataset_name}, and no baseline measured")
    headers = ["reference", "quantity", "split", "its value", "this run", "difference", "source"]
    return table(headers, rows, cell_classes=cells)


def _run_lines(run: RunData, q: Quantity, color: str | None = None, prefix: str = "") -> list:
    return [
        plots.split_line(split, xs, ys, label=f"{prefix}{split}", color=color)
        for split, (xs, ys) in run.curves[q.name].items()
    ]


def _drawable(run: RunData, q: Quantity) -> bool:
    """A quantity is drawn when it has more than its final test value."""
    return any(split != "test" for split in run.curves[q.name])


def curves(run: RunData, index: int) -> Raw:
    """A plot per quantity the run recorded, with its reference lines."""
    figures = []
    for q in run.info.chart_quantities:
        if not _drawable(run, q):
            continue
        name = f"curves-{slug(q.name)}"
        svg = plots.lines(
            f"{name}-{index}", q.heading, "step", q.title, _run_lines(run, q), run.references(q)
        )
        figures.append(figure(name, svg, run=index))
    return plot_grid(figures) if figures else note("no training step or evaluation recorded yet")


# -- several runs ------------------------------------------------------------------------------


def comparison_section(runs: list[RunData], anchor: str) -> str:
    """A table of the runs (their metrics and the settings that differ) and, per task, the
    curves of every run overlaid."""
    configs = [r.config for r in runs]
    common = [k for k in configs[0] if k not in SHOWN_ELSEWHERE and all(k in c for c in configs)]
    differing = [k for k in common if len({repr(c[k]) for c in configs}) > 1]
    shown = differing[:MAX_DIFFERING]
    headers = [
        "#",
        "task",
        "arch",
        "dataset",
        "status",
        "steps",
        "wall (min)",
        "metric",
        "value",
        "test",
        *shown,
    ]
    rows = []
    for i, run in enumerate(runs, 1):
        q = run.info.primary_quantity
        test_key = metric_key(q, "test")
        wall = run.metrics.get("wall_s")
        rows.append(
            [
                i,
                run.info.name,
                run.arch,
                run.dataset_name,
                run.summary.get("status", "?"),
                run.summary.get("step"),
                None if wall is None else round(wall / 60, 2),
                run.info.primary_metric,
                run.metrics.get(run.info.primary_metric),
                run.metrics.get(test_key) if test_key else None,
                *[_value(run.config[k]) for k in shown],
            ]
        )
    classes = _best_rows(runs)
    parts = [
        f'<section id="{anchor}"><h2>Comparison</h2>',
        f'<div class="wide">{table(headers, rows, row_classes=classes)}</div>',
    ]
    if len(differing) > len(shown):
        parts.append(note(f"{len(differing) - len(shown)} more settings differ; see each run"))
    for task in dict.fromkeys(r.info.name for r in runs):
        group = [(i, r) for i, r in enumerate(runs, 1) if r.info.name == task]
        if len(group) > 1:
            parts.append(f"<h3>{esc(task)}: the curves overlaid</h3>")
            parts.append(overlay(group))
    return "\n".join(parts) + "\n</section>"


def _best_rows(runs: list[RunData]) -> list[str]:
    """ "best" for the best run of each task on its primary metric."""
    classes = [""] * len(runs)
    for task in dict.fromkeys(r.info.name for r in runs):
        scored = [
            (i, r.metrics.get(r.info.primary_metric))
            for i, r in enumerate(runs)
            if r.info.name == task
        ]
        scored = [(i, v) for i, v in scored if isinstance(v, int | float)]
        if len(scored) > 1:
            pick = min if runs[scored[0][0]].info.lower_is_better else max
            classes[pick(scored, key=lambda iv: iv[1])[0]] = "best"
    return classes


def overlay(group: list[tuple[int, RunData]]) -> Raw:
    """One plot per quantity: each run in its colour (its number in the legend), the
    references when every run read the same dataset."""
    info = group[0][1].info
    same_data = len({r.dataset for _, r in group}) == 1
    figures = []
    for q in info.chart_quantities:
        if not any(_drawable(r, q) for _, r in group):
            continue
        drawn = []
        for i, run in group:
            color = plots.PALETTE[(i - 1) % len(plots.PALETTE)]
            drawn += _run_lines(run, q, color=color, prefix=f"{i} ")
        refs = group[0][1].references(q) if same_data else ()
        name = f"overlay-{slug(q.name)}"
        svg = plots.lines(
            f"{name}-{info.name}",
            q.heading,
            "step",
            q.title,
            drawn,
            refs,
            legend_outside=True,
            size=(7.4, 3.6),
        )
        figures.append(
            figure(
                name,
                svg,
                "runs by number (the table above): train thin, "
                "validation with dots, test as crosses",
            )
        )
    return plot_grid(figures) if figures else note("none of these runs recorded a curve yet")
