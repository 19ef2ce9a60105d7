"""Surname -> language: the task's RNN against a character n-gram logistic regression and the
majority class, each measured on the same splits in the same run.

    .venv/bin/python -m benchmarks.names [--minutes 3] [--splits 3] [--threads 2] [--no-write]

For each split seed (0, 1, ...) the shared names folder is read, cleaned and split exactly as
the task does (`tasks.names.data.load_folder`: by name, stratified, 80/10/10), and three models
are scored on its test part:

- the majority class (always the most frequent training language);
- scikit-learn: TF-IDF of character 1-3-grams (``char_wb``, sublinear tf) and a logistic
  regression, its C chosen from `C_GRID` on validation accuracy;
- the RNN: the task's defaults (`tasks.registry`) trained for ``--minutes`` of wall clock on
  ``--threads`` threads, its weights chosen on validation accuracy.

Test accuracy and macro-F1 (every language weighs the same) of each, their mean over the
splits, and the time each took. Writes the "names" section of BENCHMARKS.md and the names row
of README.md's results table.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import ROOT, SHARED_DATA, machine, train_to_end, write_section

NAMES = SHARED_DATA / "names"
C_GRID = (1.0, 3.0, 10.0, 30.0)
"""Inverse regularisation strengths tried for the logistic regression (chosen on validation)."""
ROW_START = "| surname → language"
"""How the names row of README.md's results table begins."""


def scores(labels: list[int], predicted: np.ndarray, classes: int) -> dict[str, float]:
    from tasks.names.task import classification_metrics

    m = classification_metrics(np.asarray(labels), np.asarray(predicted), classes)
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


def majority(data: Any) -> dict[str, float]:
    """Always the most frequent training language."""
    train = [y for _, y in data.train]
    top = np.bincount(train, minlength=len(data.languages)).argmax()
    test = [y for _, y in data.test]
    return scores(test, np.full(len(test), top), len(data.languages))


def logistic(data: Any) -> dict[str, float]:
    """TF-IDF char 1-3-grams + logistic regression, C chosen on validation accuracy."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    names, labels = zip(*data.train, strict=True)
    grid_started = time.perf_counter()
    best: tuple[float, float, Any, Any, float] | None = None
    for c in C_GRID:
        started = time.perf_counter()
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        model = LogisticRegression(C=c, max_iter=3000)
        model.fit(vectorizer.fit_transform(names), labels)
        fit_s = time.perf_counter() - started
        val = model.score(vectorizer.transform([n for n, _ in data.val]), [y for _, y in data.val])
        if best is None or val > best[0]:
            best = (val, c, vectorizer, model, fit_s)
    assert best is not None
    _, c, vectorizer, model, fit_s = best
    predicted = model.predict(vectorizer.transform([n for n, _ in data.test]))
    result = scores([y for _, y in data.test], predicted, len(data.languages))
    return result | {"C": c, "fit_s": fit_s, "grid_s": time.perf_counter() - grid_started}


def rnn(split: int, minutes: float, threads: int, data: Any) -> dict[str, Any]:
    """The task's defaults for `minutes`; the split is checked to be the baselines' one."""
    from tasks.registry import create_task, default_config

    config = default_config("names", dataset=str(NAMES), split_seed=split, seed=1337 + split,
                            minutes=minutes, threads=threads)  # fmt: skip
    config.log_every_s, config.eval_every_s = 5.0, 1e9
    task = create_task(config)
    if (task.data.train, task.data.test) != (data.train, data.test):
        raise RuntimeError("the task's split differs from the baselines'")
    metrics, epochs = train_to_end(task)
    return {
        "accuracy": metrics["test_accuracy"], "macro_f1": metrics["test_macro_f1"],
        "val_accuracy": metrics["val_accuracy"], "wall_s": metrics["wall_s"], "epochs": epochs,
        "parameters": task.parameter_count(), "config": config,
    }  # fmt: skip


def _mean(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.fmean(r[key] for r in rows)


def _pm(rows: list[dict[str, Any]], key: str, percent: bool) -> str:
    values = [r[key] * (100 if percent else 1) for r in rows]
    digits, unit = (1, "%") if percent else (3, "")
    text = f"{statistics.fmean(values):.{digits}f}{unit}"
    if len(values) > 1:
        text += f" ± {statistics.stdev(values):.{digits}f}"
    return text


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> tuple[str, str]:
    """The BENCHMARKS.md section and the README results row."""
    config = runs[0]["rnn"]["config"]
    model = (f"{'Bi' if config.bidirectional else ''}{config.arch.upper()} "
             f"{config.layers}×{config.hidden}, embed {config.embed}")  # fmt: skip
    data = runs[0]["data"]
    lines = [
        "| split | test names | model | test accuracy | test macro-F1 | time |",
        "|---:|---:|---|---:|---:|---|",
    ]
    for r in runs:
        n = len(r["data"].test)
        lr, net = r["logistic"], r["rnn"]
        lines += [
            f"| {r['split']} | {n:,} | majority class | {r['majority']['accuracy']:.1%} | "
            f"{r['majority']['macro_f1']:.3f} | – |",
            f"| {r['split']} | {n:,} | char 1–3-gram TF-IDF + LR (C {lr['C']:g}) | "
            f"{lr['accuracy']:.1%} | {lr['macro_f1']:.3f} | fit {lr['fit_s']:.1f} s "
            f"(grid of {len(C_GRID)}: {lr['grid_s']:.0f} s) |",
            f"| {r['split']} | {n:,} | {model} | **{net['accuracy']:.1%}** | "
            f"**{net['macro_f1']:.3f}** | {net['wall_s'] / 60:.1f} min, {net['epochs']} epochs |",
        ]
    per = {k: [r[k] for r in runs] for k in ("majority", "logistic", "rnn")}
    wins = sum(
        r["rnn"]["accuracy"] > r["logistic"]["accuracy"]
        and r["rnn"]["macro_f1"] > r["logistic"]["macro_f1"]
        for r in runs
    )
    acc_ok = _mean(per["rnn"], "accuracy") > _mean(per["logistic"], "accuracy")
    f1_ok = _mean(per["rnn"], "macro_f1") > _mean(per["logistic"], "macro_f1")
    verdict = "met" if acc_ok and f1_ok else "NOT met"
    splits = len(runs)
    kept = data.lines - data.junk - data.duplicates
    means = {k: f"{_pm(per[k], 'accuracy', True)} / {_pm(per[k], 'macro_f1', False)}" for k in per}
    grid = ", ".join(f"{c:g}" for c in C_GRID)
    counts = Counter(y for part in (data.train, data.val, data.test) for _, y in part)
    (big, n_big), (small, n_small) = counts.most_common()[0], counts.most_common()[-1]
    body = f"""## Surname → language (test accuracy and macro-F1 on the same splits)

Machine: {machine()}.
Command: `.venv/bin/python -m benchmarks.names --minutes {args.minutes:g} --splits {splits}
--threads {args.threads}`. Data: `names`, {len(data.languages)} languages, {data.lines:,} lines
→ {kept:,} (name, language) pairs after folding to lower-case ASCII and dropping {data.junk}
junk lines and {data.duplicates:,} exact repeats. Each split (split seed {", ".join(str(r["split"]) for r in runs)}) is by name
(no test name is seen in training), stratified by language, 80/10/10. The RNN is the task's
defaults ({model}, dropout {config.dropout:g}, AdamW {config.lr:g} with cosine decay, weight
decay {config.weight_decay:g}, batch {config.batch}; {runs[0]["rnn"]["parameters"]:,}
parameters) trained for {args.minutes:g} min of wall clock, evaluation included, on
{args.threads} thread(s); its weights are chosen on validation accuracy. The logistic
regression's C is chosen from {grid} on validation accuracy. Macro-F1 weighs all
{len(data.languages)} languages alike ({data.languages[big]} has {n_big / kept:.0%} of the
pairs, {data.languages[small]} {n_small}).

{chr(10).join(lines)}

Mean over {splits} split(s), test accuracy / macro-F1 (± standard deviation): majority class
{means["majority"]}; logistic regression {means["logistic"]}; RNN **{means["rnn"]}**. Bar
(the RNN above the logistic regression in both, on the mean): **{verdict}**; the RNN is above
it in both on {wins} of {splits} split(s).
"""
    row = (
        f"{ROW_START}, {len(data.languages)} languages, test 10% (by name), {model}, "
        f"`--minutes {args.minutes:g}` on {args.threads} CPU thread(s), mean of {splits} "
        f"split(s) | **test accuracy {_mean(per['rnn'], 'accuracy'):.1%}**, macro-F1 "
        f"{_mean(per['rnn'], 'macro_f1'):.3f} ({runs[0]['rnn']['wall_s'] / 60:.1f} min per "
        f"split) | char 1–3-gram TF-IDF + LR on the same splits: "
        f"{_mean(per['logistic'], 'accuracy'):.1%} / {_mean(per['logistic'], 'macro_f1'):.3f}"
        f" (fit {_mean(per['logistic'], 'fit_s'):.1f} s); majority class "
        f"{_mean(per['majority'], 'accuracy'):.1%} / {_mean(per['majority'], 'macro_f1'):.3f} |"
    )
    return body, row


def write_row(path: Path, row: str) -> None:
    """Put `row` in the results table of `path`: replace the names row, or add it last."""
    text = path.read_text()
    lines = text.splitlines()
    end = lines.index("<!-- results:end -->")
    at = next((i for i, line in enumerate(lines[:end]) if line.startswith(ROW_START)), None)
    if at is None:
        lines.insert(end, row)
    else:
        lines[at] = row
    path.write_text("\n".join(lines) + ("\n" if text.endswith("\n") else ""))


def main() -> None:
    import torch

    from tasks.names.data import load_folder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="the RNN's budget per split")
    parser.add_argument("--splits", type=int, default=3, help="split seeds 0, 1, ...")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = []
    for split in range(args.splits):
        data = load_folder(NAMES, seed=split)
        run = {"split": split, "data": data, "majority": majority(data)}
        run["logistic"] = logistic(data)
        print(f"split {split}: majority {run['majority']}, logistic {run['logistic']}", flush=True)
        run["rnn"] = rnn(split, args.minutes, args.threads, data)
        print(f"split {split}: rnn {run['rnn']}", flush=True)
        runs.append(run)
    body, row = report(runs, args)
    if args.no_write:
        print(body + "\n" + row)
        return
    write_section("names", body)
    write_row(ROOT / "README.md", row)
    print(row)


if __name__ == "__main__":
    main()
