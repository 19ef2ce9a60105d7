"""A sweep in the report: its trial table, the metric against trial number, the importances.

The study is read with Optuna from its storage (`rnn-tui sweep`'s database by default); the rows
and the importances come from `tasks.experiments.sweep` (`trials_table`, `importances`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from tasks.experiments.report import plots
from tasks.experiments.report.page import Raw, esc, figure, note, plot_grid, table
from tasks.experiments.report.reading import ReportError

STATE_COLORS = {"complete": "#1f77b4", "pruned": "#999999"}
"""How each state's trials are drawn against trial number."""


def load_study(name: str, storage: str | None) -> Any:
    """The Optuna study `name` in `storage` (default: the sweeps' database), read only.

    `ReportError` (one line) for a SQLite file that does not exist (it is never created), a
    storage that cannot be opened, or a name that is not there (the names that are, listed).
    """
    import optuna

    from tasks.experiments.study import default_storage

    url = storage or default_storage()
    database = url.removeprefix("sqlite:///")
    if url.startswith("sqlite:///") and database != ":memory:" and not Path(database).is_file():
        raise ReportError(f"no study database at {database} (--storage {url})")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        rdb = optuna.storages.RDBStorage(url)
    except Exception as exc:  # SQLAlchemy's and the drivers' many errors: one line each
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"cannot open the study storage {url}: {reason}") from None
    names = [s.study_name for s in rdb.get_all_studies()]
    if name not in names:
        there = f"; studies there: {', '.join(names)}" if names else "; it holds no study"
        raise ReportError(f"no study {name!r} in {url}{there}")
    return optuna.load_study(study_name=name, storage=rdb)


def best_run_dir(study: Any) -> Path | None:
    """The run folder of the study's best complete trial, if it still exists."""
    from tasks.experiments.study import best_trial

    best = best_trial(study)
    folder = best.user_attrs.get("run_dir") if best is not None else None
    return Path(folder) if folder and Path(folder).is_dir() else None


def _value(row: dict[str, Any]) -> float | None:
    value = row.get("value")
    return None if value is None else float(value)


def sweep_section(study: Any, anchor: str) -> str:
    """The sweep's section: what it searched, the trials, the plots."""
    from tasks.experiments.sweep import importances, trials_table

    attrs = study.user_attrs
    metric = str(attrs.get("metric", "value"))
    lower = study.direction.name == "MINIMIZE"
    rows = trials_table(study)
    done = [r for r in rows if r["state"] in STATE_COLORS and _value(r) is not None]
    completed = [r for r in done if r["state"] == "complete"]
    pick = min if lower else max
    best_number = pick(completed, key=_value)["number"] if completed else None
    counts = Counter(r["state"] for r in rows)
    meta = (
        f"{attrs.get('task', '?')} on {attrs.get('dataset', '?')} · {metric}, "
        f"{'lower' if lower else 'higher'} is better · {len(rows)} trials: "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
    )
    parts = [
        f'<section id="{anchor}"><h2>Sweep: {esc(study.study_name)}</h2>',
        f'<p class="meta">{esc(meta)}</p>',
    ]
    if not rows:
        parts.append(note("the study has no trials yet"))
        return "\n".join(parts) + "</section>"
    parts.append("<h3>Trials</h3>")
    parts.append(_trials_table(rows, metric, best_number))
    figures = []
    if done:
        figures.append(
            figure(
                "trials",
                _trials_plot(study.study_name, done, metric, lower),
                f"{metric} of each finished trial (a pruned one: its last "
                "reported value) and the best so far",
            )
        )
    found = importances(study)
    if found:
        svg = plots.bars(
            f"importances-{study.study_name}",
            found,
            title="Setting importances",
            xlabel="importance (Optuna's default evaluator)",
        )
        figures.append(
            figure(
                "importances",
                svg,
                f"how much of {metric}'s variation each setting explains, over the complete trials",
            )
        )
    parts.append(plot_grid(figures))
    if not found:
        parts.append(note("importances need at least 4 complete trials that varied a setting"))
    return "\n".join(parts) + "</section>"


def _trials_table(rows: list[dict[str, Any]], metric: str, best: int | None) -> Raw:
    params = list(dict.fromkeys(p for r in rows for p in r["params"]))
    tests = list(dict.fromkeys(k for r in rows for k in r["test_metrics"]))
    headers = ["trial", "state", metric, *params, *tests, "pruned at", "seconds", "run"]
    body = []
    for r in rows:
        run = Path(r["run_dir"]).name if r.get("run_dir") else ""
        reason = f" ({r['reason']})" if r.get("reason") else ""
        body.append(
            [
                r["number"],
                r["state"] + reason,
                _value(r),
                *[_cell(r["params"].get(p, "")) for p in params],
                *[r["test_metrics"].get(k) for k in tests],
                r.get("pruned_step"),
                r.get("duration_s"),
                run,
            ]
        )
    classes = ["best" if r["number"] == best else "" for r in rows]
    return Raw(f'<div class="wide">{table(headers, body, row_classes=classes)}</div>')


def _cell(value: Any) -> Any:
    """A parameter as a table shows it (None: "none", the empty choice)."""
    return "none" if value is None else value


def _trials_plot(name: str, done: list[dict[str, Any]], metric: str, lower: bool) -> str:
    drawn = []
    for state, color in STATE_COLORS.items():
        chosen = [r for r in done if r["state"] == state]
        if chosen:
            drawn.append(
                plots.Line(
                    state,
                    [r["number"] for r in chosen],
                    [_value(r) for r in chosen],
                    color,
                    style="none",
                    marker="o" if state == "complete" else "x",
                    size=6,
                )
            )
    complete = sorted((r for r in done if r["state"] == "complete"), key=lambda r: r["number"])
    if complete:
        best: list[float] = []
        for r in complete:
            value = _value(r)
            best.append(value if not best else (min if lower else max)(best[-1], value))
        drawn.append(
            plots.Line(
                "best so far",
                [r["number"] for r in complete],
                best,
                "#d62728",
                width=1.4,
                steps=True,
            )
        )
    return plots.lines(f"trials-{name}", f"{metric} against trial number", "trial", metric, drawn)
