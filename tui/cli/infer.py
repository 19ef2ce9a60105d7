"""The inference commands: `eval`, `generate`, `forecast`, `predict`, `translate`.

The player commands answer the inputs given on the command line, or ``--file PATH`` (``-``:
stdin) with one input per line (see `tui.cli.inputs` for what a line may be), in batches of
``--batch-size`` (`tasks.engine.player`). They print one line per input, in order, or one JSON
object per input with ``--json``; an input the model refuses stops the command with one line
naming the file and the line.

``eval CKPT --dataset FILE`` scores a labelled file in the task's plain format: sentiment, a
file of ``text<TAB>label`` lines (0/1 or negative/positive); translation, ``--dataset
SOURCES --references TARGETS``, two line-aligned files. Any other ``--dataset`` (a registry
name, or a path in a training format) is read as training reads it and its held-out parts are
evaluated.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tasks.engine.player import DEFAULT_BATCH, InputError
from tasks.registry import TASKS
from tui.cli.common import CliError, fmt_metrics, positive_int
from tui.cli.inputs import read_inputs, source_name, with_progress

DEDICATED = {name: info.command for name, info in TASKS.items() if info.command != "predict"}
"""Tasks whose players have a command of their own (declared by their registry entries);
`predict` serves every other task's player (sentiment, names, any classifier an entry adds)."""
TRAINING_FORMATS = (".csv", ".tar.gz", ".tgz", ".tar")
"""Sentiment files read as training data by `eval --dataset` (any other file: text<TAB>label)."""


def register(sub: Any) -> None:
    """Add the parsers of the inference commands."""
    _register_eval(sub)

    gen = sub.add_parser("generate", help="stream text from a charlm checkpoint")
    gen.add_argument("checkpoint", help="a charlm checkpoint (.pt) or its run folder")
    gen.add_argument("--prime", default="\n", help="the text to continue (default: a line break)")
    gen.add_argument(
        "--strategy",
        choices=["greedy", "sample", "top-k", "top-p"],
        default="top-p",
        help="how the next character is chosen (default: %(default)s)",
    )
    gen.add_argument(
        "--k", type=positive_int, default=10, help="top-k keeps this many (default: %(default)s)"
    )
    gen.add_argument(
        "--p",
        type=float,
        default=0.9,
        help="top-p keeps this probability mass (default: %(default)s)",
    )
    gen.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        help="below 1 sharpens, above 1 flattens (default: %(default)s)",
    )
    gen.add_argument(
        "--length", type=int, default=500, help="characters to generate (default: %(default)s)"
    )
    gen.add_argument(
        "--seed", type=int, default=0, help="the random seed of each text (default: %(default)s)"
    )
    _add_input_options(gen, "primes", "one continuation per line, prime included, line breaks "
                       "written as \\n")  # fmt: skip
    gen.set_defaults(func=cmd_generate)

    fc = sub.add_parser("forecast", help="forecast with a timeseries checkpoint")
    fc.add_argument("checkpoint", help="a timeseries checkpoint (.pt) or its run folder")
    fc.add_argument(
        "--horizon", type=positive_int, help="steps ahead (default: the run's --horizon)"
    )
    fc.add_argument(
        "--origin",
        help="the last known step: a date of the series or an index (default: the end)",
    )
    fc.add_argument(
        "--dataset", help="forecast another series of the same format (default: the run's)"
    )
    _add_input_options(fc, "origins", "one line per origin, the forecast only")
    fc.set_defaults(func=cmd_forecast)

    pr = sub.add_parser(
        "predict", help="classify texts with a sentiment (or other classifier) checkpoint"
    )
    pr.add_argument(
        "checkpoint", help="a sentiment (or other classifier) checkpoint (.pt) or its run folder"
    )
    pr.add_argument("text", nargs="*", help="texts to classify, quote each (or use --file)")
    _add_input_options(pr, "texts", "one answer per line (sentiment: the verdict, the words "
                       "attended to most)")  # fmt: skip
    pr.set_defaults(func=cmd_predict)

    tl = sub.add_parser("translate", help="translate sentences with a translation checkpoint")
    tl.add_argument("checkpoint", help="a translation checkpoint (.pt) or its run folder")
    tl.add_argument("text", nargs="*", help="sentences to translate, quote each (or use --file)")
    tl.add_argument(
        "--beam", type=positive_int, help="beam width, 1: greedy (default: the run's --beam)"
    )
    _add_input_options(tl, "sentences", "one translation per line, notes on stderr")
    tl.set_defaults(func=cmd_translate)


def _register_eval(sub: Any) -> None:
    ev = sub.add_parser(
        "eval",
        help="print a checkpoint's metrics",
        description="Evaluate a checkpoint on its run's data, on another data set, or on a "
        "labelled file (sentiment: text<TAB>label lines; translation: --dataset SOURCES "
        "--references TARGETS).",
    )
    ev.add_argument("checkpoint", help="a checkpoint (.pt) or its run folder")
    ev.add_argument(
        "--dataset",
        metavar="DATA",
        help="a registry name or a path in the task's training format; sentiment: also a "
        "file of text<TAB>label lines (label 0/1 or negative/positive; .csv and archives are "
        "training formats); translation with --references: the source sentences, one a line "
        "(default: the run's dataset)",
    )
    ev.add_argument(
        "--references",
        metavar="FILE",
        help="translation: the reference translations, line-aligned with --dataset "
        "(default: none, --dataset is read as training data)",
    )
    ev.add_argument(
        "--batch-size",
        type=positive_int,
        default=DEFAULT_BATCH,
        help="inputs of a labelled file per model call (default: %(default)s)",
    )
    ev.add_argument(
        "--json", action="store_true", help="one JSON object with the metrics (default: off)"
    )
    ev.set_defaults(func=cmd_eval)


def _add_input_options(parser: argparse.ArgumentParser, what: str, output: str) -> None:
    parser.add_argument(
        "--file",
        metavar="PATH",
        help=f"read {what} from PATH, one per line (- reads stdin); prints {output} "
        "(default: none)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=DEFAULT_BATCH,
        help=f"{what} per model call (default: %(default)s)",
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per input (default: off)"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="torch CPU threads (default: %(default)s: small batches run fastest on one, and "
        "a busy second core does not slow them down)",
    )


# -- inputs and answers --------------------------------------------------------------------


def _inputs(args: argparse.Namespace, texts: Sequence[str]) -> tuple[list[str], str | None]:
    """The inputs and the file they came from (None: the command line)."""
    if args.file is not None:
        if texts:
            raise CliError("give the inputs on the command line or with --file, not both")
        return read_inputs(args.file), source_name(args.file)
    if "-" in texts:
        raise CliError("- is not an input: use --file - to read stdin, one input per line")
    if not texts:
        raise CliError("nothing to answer: give an input or --file PATH")
    return list(texts), None


def _answers(player: Any, texts: list[str], batch_size: int, where: str | None) -> Iterator[Any]:
    """The player's answers in order, with a progress bar for a file; a refused input becomes
    one line naming its line in the file (or its position on the command line)."""
    answers = player.answer_many(texts, batch_size)
    try:
        yield from with_progress(answers, len(texts)) if where else answers
    except InputError as exc:
        raise CliError(_place(where, exc.index, len(texts)) + exc.reason) from None


def _place(where: str | None, index: int, count: int) -> str:
    if where:
        return f"{where}, line {index + 1}: "
    return f"input {index + 1}: " if count > 1 else ""


def _load(args: argparse.Namespace, task: str, payload: Any = None, **options: Any) -> Any:
    """The player for `args.checkpoint` (or its loaded `payload`), on `args.threads` threads."""
    import torch

    from tasks.engine.player import load_player

    torch.set_num_threads(args.threads)
    return load_player(payload if payload is not None else args.checkpoint, task, **options)


def _classifier(args: argparse.Namespace) -> Any:
    """The player of a checkpoint whose task has no command of its own (`DEDICATED`)."""
    from tasks.engine.checkpoint import load_checkpoint

    payload = load_checkpoint(args.checkpoint)
    task = str(payload.get("task"))
    served = [name for name, info in TASKS.items() if info.player and name not in DEDICATED]
    if task not in served:
        hint = f"; use `rnn-tui {DEDICATED[task]}`" if task in DEDICATED else ""
        wanted = " or ".join(repr(name) for name in served)
        raise CliError(f"{args.checkpoint} is a {task!r} checkpoint; predict needs a {wanted} one"
                       f"{hint}")  # fmt: skip
    return _load(args, task, payload)


def _emit(answer: Any, as_json: bool, head: dict[str, Any] | None = None) -> None:
    if as_json:
        print(json.dumps((head or {}) | answer.to_dict(), ensure_ascii=False))
    else:
        print(answer.to_text())


# -- commands ------------------------------------------------------------------------------


def cmd_predict(args: argparse.Namespace) -> int:
    texts, where = _inputs(args, args.text)
    player = _classifier(args)
    for result in _answers(player, texts, args.batch_size, where):
        _emit(result, args.json)
    return 0


def cmd_translate(args: argparse.Namespace) -> int:
    texts, where = _inputs(args, args.text)
    player = _load(args, "translation", beam=args.beam)
    head = {"checkpoint": args.checkpoint, "direction": player.config.direction}
    for index, result in enumerate(_answers(player, texts, args.batch_size, where)):
        for note in result.notes:
            print(f"note: {_place(where, index, len(texts))}{note}", file=sys.stderr)
        _emit(result, args.json, head | {"beam": player.beam, "source": texts[index]})
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    options = dict(length=args.length, strategy=args.strategy, temperature=args.temperature,
                   k=args.k, p=args.p, seed=args.seed)  # fmt: skip
    if args.file is None and not args.json:  # stream as it is sampled
        stream = _load(args, "charlm").stream(prime=args.prime, **options)
        sys.stdout.write(args.prime)
        for char, _ in stream:
            sys.stdout.write(char)
            sys.stdout.flush()
        sys.stdout.write("\n")
        return 0
    if args.file is not None and args.prime != "\n":
        raise CliError("give --prime or --file (one prime a line), not both")
    primes, where = _inputs(args, []) if args.file is not None else ([args.prime], None)
    player = _load(args, "charlm", **options)
    for result in _answers(player, primes, args.batch_size, where):
        _emit(result, args.json)
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    if args.file is not None:
        if args.origin is not None:
            raise CliError("give --origin or --file (one origin a line), not both")
        origins, where = _inputs(args, [])
        player = _load(args, "timeseries", dataset=args.dataset, horizon=args.horizon)
        for result in _answers(player, origins, args.batch_size, where):
            _emit(result, args.json)
        return 0
    forecaster = _load(args, "timeseries", dataset=args.dataset, horizon=args.horizon)
    horizon = forecaster.horizon
    result = forecaster.forecast(horizon, origin=args.origin)
    series = forecaster.series
    if args.json:
        print(json.dumps({
            "checkpoint": args.checkpoint, "dataset": forecaster.config.dataset,
            "column": series.column, "unit": series.unit, "horizon": horizon,
            "forecast_strategy": forecaster.config.forecast, **result.to_dict(),
            "metrics": forecaster.metrics,
        }))  # fmt: skip
        return 0
    if series.note:
        print(f"note: {series.note}")
    print(
        f"{forecaster.config.dataset} ({series.column}{', ' + series.unit if series.unit else ''})"
        f": {horizon} step(s) after {result.origin_date} ({forecaster.config.forecast})"
    )
    print(f"{'date':12} {'forecast':>12} {'actual':>12} {'persistence':>12} {'seasonal':>12}")
    for row in result.to_dict()["steps"]:
        actual, naive = (
            "" if v is None else f"{v:.4g}" for v in (row["actual"], row["seasonal_naive"])
        )
        print(f"{row['date']:12} {row['forecast']:12.4g} {actual:>12} "
              f"{row['persistence']:12.4g} {naive:>12}")  # fmt: skip
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from tasks.engine.checkpoint import load_checkpoint
    from tasks.registry import config_from_dict

    payload = load_checkpoint(args.checkpoint)
    task = str(payload.get("task"))
    if args.references is not None:
        if task != "translation":
            raise CliError(f"--references is for translation checkpoints (this is {task})")
        if not args.dataset:
            raise CliError("--references needs --dataset SOURCES: the sentences to translate")
        metrics, details = _eval_parallel(payload, args)
    elif task == "sentiment" and args.dataset and _labelled_lines(args.dataset):
        metrics, details = _eval_labelled(payload, args)
    else:
        config = config_from_dict(payload["config"])
        metrics, details = _eval_task(payload, config, args.dataset)
    if args.json:
        print(json.dumps(
            {"checkpoint": args.checkpoint, "task": task, "metrics": metrics, **details}
        ))  # fmt: skip
    else:
        print(fmt_metrics(metrics))
    return 0


def _labelled_lines(dataset: str) -> bool:
    path = Path(dataset)
    return path.is_file() and not path.name.lower().endswith(TRAINING_FORMATS)


def _eval_task(payload: dict[str, Any], config: Any, dataset: str | None) -> tuple[dict, dict]:
    """The task's own evaluation (its validation and test parts) on the run's data or another."""
    from tasks.registry import create_task

    if dataset:
        config.dataset = dataset
    config.precision = "fp32"  # no training step here: a GPU run's fp16 must not stop a CPU eval
    task = create_task(config)
    task.load_state_dict(payload["task_state"])
    metrics = task.evaluate(quick=False)
    details = task.details()  # e.g. a confusion matrix
    return metrics, details


def _eval_labelled(payload: dict[str, Any], args: argparse.Namespace) -> tuple[dict, dict]:
    """Accuracy, F1 and the confusion matrix of a sentiment checkpoint on text<TAB>label lines."""
    import numpy as np

    from tasks.data.text import read_labelled_lines
    from tasks.engine.player import load_player
    from tasks.sentiment.task import LABELS, binary_metrics

    examples = read_labelled_lines(Path(args.dataset))
    player = load_player(payload, "sentiment")
    texts = [t for t, _ in examples]
    predicted = [LABELS.index(a.label) for a in _answers(player, texts, args.batch_size,
                                                         args.dataset)]  # fmt: skip
    m = binary_metrics(np.array([y for _, y in examples]), np.array(predicted))
    metrics = {"accuracy": round(m["accuracy"], 5), "f1": round(m["f1"], 5),
               "examples": len(examples)}  # fmt: skip
    matrix = {"rows": "true label", "columns": "predicted", "labels": list(LABELS),
              "matrix": m["confusion"]}  # fmt: skip
    return metrics, {"dataset": args.dataset, "confusion_matrix": matrix}


def _eval_parallel(payload: dict[str, Any], args: argparse.Namespace) -> tuple[dict, dict]:
    """BLEU (lower-cased and cased) of a translation checkpoint on two line-aligned files."""
    from tasks.data.parallel import read_aligned
    from tasks.engine.player import load_player
    from tasks.translation.bleu import corpus_bleu, signature

    pairs = read_aligned(Path(args.dataset), Path(args.references))
    for number, (source, _) in enumerate(pairs, 1):
        if not source:
            raise CliError(f"{args.dataset}, line {number} is blank: one sentence a line")
    player = load_player(payload, "translation")
    sources = [s for s, _ in pairs]
    hyps = [a.text for a in _answers(player, sources, args.batch_size, args.dataset)]
    refs, lang = [r for _, r in pairs], player.tgt_lang
    metrics = {
        "bleu": corpus_bleu(hyps, refs, lang, lowercase=True),
        "bleu_cased": corpus_bleu(hyps, refs, lang, lowercase=False),
        "sentences": len(pairs),
        "beam": player.beam,
    }
    return metrics, {"dataset": args.dataset, "references": args.references,
                     "bleu_signature": signature(lang)}  # fmt: skip
