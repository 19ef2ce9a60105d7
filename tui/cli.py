"""`rnn-tui`: the command-line contract (see DESIGN.md). With no arguments it opens the app.

Heavy imports (torch, textual) happen inside the commands, so `rnn-tui --help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A user-facing error: printed as one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `rnn-tui: error: ...` and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"rnn-tui: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {value})")
    return value


def _add_train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", help="registry name (`rnn-tui data list`) or a local path")
    p.add_argument("--arch", help="rnn | lstm | gru (charlm also numpy-rnn)")
    p.add_argument("--backend", choices=["fused", "scratch"], help="fused (nn.LSTM...) or scratch")
    p.add_argument("--layers", type=int)
    p.add_argument("--hidden", type=int)
    p.add_argument("--embed", type=int)
    p.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--attention", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--dropout", type=float)
    p.add_argument("--lr", type=float, help="peak learning rate")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--schedule", choices=["cosine", "constant"])
    p.add_argument("--warmup-steps", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--seq-len", type=int)
    p.add_argument("--clip", type=float, help="max global gradient norm (0: off)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--minutes", type=float, help="wall-clock budget, evaluation included")
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument(
        "--eval-every", type=float, dest="eval_every_s", help="seconds between quick evals"
    )
    ts = p.add_argument_group("timeseries")
    ts.add_argument("--horizon", type=int, help="steps ahead to forecast (default 1)")
    ts.add_argument("--forecast", choices=["recursive", "direct"], help="multi-step strategy")
    ts.add_argument(
        "--transform",
        choices=["auto", "none", "log", "diff", "log-diff", "seasonal", "log-seasonal"],
        help="log and/or differencing before scaling (auto: per dataset)",
    )
    ts.add_argument("--season", type=int, help="season length in steps (0: from the data)")
    gf = p.add_argument_group("gradflow")
    gf.add_argument("--problem", choices=["adding", "copy"], help="the long-range problem")
    gf.add_argument("--activation", choices=["tanh", "relu"], help="vanilla RNN nonlinearity")
    gf.add_argument("--init", choices=["default", "orthogonal"], help="recurrent weight init")
    gf.add_argument("--probe-every", type=int, help="record per-step gradient norms every N steps")
    tr = p.add_argument_group("translation")
    tr.add_argument(
        "--attention-type",
        choices=["dot", "additive", "none"],
        help="decoder attention: dot (Luong), additive (Bahdanau) or none",
    )
    tr.add_argument("--teacher-forcing", type=float, help="probability of feeding the true token")
    tr.add_argument("--beam", type=int, help="beam width for the test BLEU (1: greedy)")
    tr.add_argument("--direction", help="source-target, e.g. de-en, en-de, zh-en, fr-en")
    tr.add_argument("--max-len", type=int, help="drop training pairs longer than this (tokens)")
    tr.add_argument("--min-freq", type=int, help="rarer tokens become <unk> (also sentiment)")
    tr.add_argument("--label-smoothing", type=float, help="cross-entropy label smoothing")
    se = p.add_argument_group("sentiment")
    se.add_argument("--vocab-size", type=int, help="most frequent training tokens kept")
    se.add_argument("--patience", type=int, help="epochs without a better val accuracy (0: off)")
    se.add_argument("--init-from", help="start from a sentiment checkpoint (weights, vocabulary)")
    se.add_argument(
        "--word-vectors",
        metavar="CORPUS",
        help="start the embeddings from word vectors learned on this review data set's texts "
        "(its labels unused), e.g. imdb for rt-polarity",
    )
    p.add_argument(
        "--config",
        help="start from a JSON file of settings, or a run's summary.json (its config); "
        "options given here override it",
    )
    p.add_argument("--out", help="the run folder (default: a new one in the user data directory)")
    p.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    _add_control_option(p)


def _add_control_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--control",
        action="store_true",
        help="read pause, resume, save and stop from stdin, one per line; end of input stops "
        "(the app drives runs this way)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rnn-tui",
        description="A terminal playground for recurrent neural networks. "
        "With no command, opens the app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train headless")
    train.add_argument("task", help="charlm | sentiment | timeseries | gradflow | translation")
    _add_train_options(train)

    resume = sub.add_parser("resume", help="continue a run exactly where it stopped")
    resume.add_argument("run_dir")
    resume.add_argument("--epochs", type=int, help="train to this many epochs in all")
    resume.add_argument("--minutes", type=float, help="this much more wall-clock time")
    resume.add_argument("--json", action="store_true")
    _add_control_option(resume)

    ev = sub.add_parser("eval", help="print a checkpoint's metrics")
    ev.add_argument("checkpoint")
    ev.add_argument("--dataset")
    ev.add_argument("--json", action="store_true")

    gen = sub.add_parser("generate", help="stream text from a charlm checkpoint")
    gen.add_argument("checkpoint")
    gen.add_argument("--prime", default="\n")
    gen.add_argument("--strategy", choices=["greedy", "sample", "top-k", "top-p"], default="top-p")
    gen.add_argument("--k", type=_positive_int, default=10)
    gen.add_argument("--p", type=float, default=0.9)
    gen.add_argument("--temperature", type=float, default=0.8)
    gen.add_argument("--length", type=int, default=500)
    gen.add_argument("--seed", type=int, default=0)

    fc = sub.add_parser("forecast", help="forecast with a timeseries checkpoint")
    fc.add_argument("checkpoint")
    fc.add_argument("--horizon", type=int, default=None, help="steps ahead (default: the run's)")
    fc.add_argument(
        "--origin", help="the last known step: a date of the series or an index (default: the end)"
    )
    fc.add_argument("--dataset", help="forecast another series of the same format")
    fc.add_argument("--json", action="store_true")

    pr = sub.add_parser("predict", help="classify texts with a sentiment checkpoint")
    pr.add_argument("checkpoint")
    pr.add_argument("text", nargs="+", help="one or more texts (quote each); - reads stdin")
    pr.add_argument("--json", action="store_true", help="a JSON object per text, with attention")

    tl = sub.add_parser("translate", help="translate sentences with a translation checkpoint")
    tl.add_argument("checkpoint")
    tl.add_argument("text", nargs="+", help="one or more sentences (quote each)")
    tl.add_argument("--beam", type=_positive_int, help="beam width (default: the run's)")
    tl.add_argument("--json", action="store_true", help="JSON per sentence, with attention")

    runs = sub.add_parser("runs", help="list the saved runs")
    runs.add_argument("--json", action="store_true")

    data = sub.add_parser("data", help="the dataset registry")
    data_sub = data.add_subparsers(dest="data_command", metavar="list|fetch|path", required=True)
    data_sub.add_parser("list", help="every dataset with its status")
    fetch = data_sub.add_parser("fetch", help="download a dataset into the cache")
    fetch.add_argument("name")
    path = data_sub.add_parser("path", help="print where a dataset is on disk")
    path.add_argument("name")
    return parser


# -- commands --------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from tasks.registry import create_task, default_config
    from tasks.runs import new_run_dir, register_run
    from tasks.trainer import Trainer

    options = {
        k: getattr(args, k)
        for k in (
            "dataset", "backend", "layers", "hidden", "embed", "bidirectional", "attention",
            "dropout", "lr", "weight_decay", "schedule", "warmup_steps", "batch", "seq_len",
            "clip", "epochs", "minutes", "seed", "threads", "device", "eval_every_s",
            "horizon", "forecast", "transform", "season", "problem", "activation", "init",
            "probe_every", "attention_type", "teacher_forcing", "beam", "direction", "max_len",
            "min_freq", "label_smoothing", "vocab_size", "patience", "init_from",
            "word_vectors",
        )
    }  # fmt: skip
    if args.config:
        config = _config_file(args.config, args.task).replace(arch=args.arch, **options)
        if args.minutes is not None and args.epochs is None:
            config.epochs = None  # a time budget alone: as many epochs as fit
        config.validate()
    else:
        config = default_config(args.task, args.arch, **options)
    task = create_task(config)
    if args.out:
        from pathlib import Path

        run_dir = Path(args.out)
        if (run_dir / "last.pt").exists():
            raise CliError(f"{run_dir} already holds a run; use `rnn-tui resume {run_dir}`")
        register_run(run_dir)
    else:
        run_dir = new_run_dir(config.task, config.arch, config.dataset)
    return _drive(Trainer(task, run_dir), args.json, args.control)


def _config_file(path: str, task: str) -> Any:
    """The `TrainConfig` in a settings file or summary.json; one-line errors for a bad file."""
    from tasks.config import TrainConfig

    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except OSError as exc:
        raise CliError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"config {path} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        data = data["config"]  # a run's summary.json
    if not isinstance(data, dict):
        raise CliError(f"config {path} must hold a JSON object of settings")
    config = TrainConfig.from_dict(data)
    if config.task != task:
        raise CliError(f"config {path} is for task {config.task}, not {task}")
    return config


def cmd_resume(args: argparse.Namespace) -> int:
    from tasks.trainer import Trainer

    trainer = Trainer.resume(args.run_dir, epochs=args.epochs, minutes=args.minutes)
    return _drive(trainer, args.json, args.control)


def _follow_commands(trainer: Any, stop: threading.Event) -> None:
    """Apply pause, resume, save and stop lines from stdin; end of input (the app is gone) stops."""
    for line in sys.stdin:
        command = line.strip()
        if command == "pause":
            trainer.pause.set()
        elif command == "resume":
            trainer.pause.clear()
        elif command == "save":
            trainer.save_requested.set()
        elif command == "stop":
            break
        elif command:
            print(f"rnn-tui: ignored unknown command {command!r}", file=sys.stderr)
    stop.set()
    trainer.pause.clear()


def _drive(trainer: Any, as_json: bool, control: bool = False) -> int:
    """Iterate the trainer's events, printing them; Ctrl+C stops after the current batch.

    control: also take commands from stdin (`_follow_commands`), as the app sends them.
    """
    stop = threading.Event()
    if control:
        threading.Thread(target=_follow_commands, args=(trainer, stop), daemon=True).start()

    def on_sigint(signum: int, frame: Any) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl+C aborts
        print("rnn-tui: stopping after this batch (Ctrl+C again to abort)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    printer = _JsonPrinter() if as_json else _TextPrinter()
    status = 0
    try:
        for event in trainer.run(stop):
            printer(event)
            if event.kind == "failed":
                print(f"rnn-tui: error: {event.reason}", file=sys.stderr)
                status = 1
            elif event.kind == "finished" and event.stopped:
                status = EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, previous)
    return status


class _JsonPrinter:
    def __call__(self, event: Any) -> None:
        print(event.to_json(), flush=True)


class _TextPrinter:
    """Human output: a line per evaluation and checkpoint, progress every few seconds."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.every_s = every_s
        self.last = 0.0

    def __call__(self, event: Any) -> None:
        kind = event.kind
        profile = getattr(event, "gradients", None)
        if profile and profile["exploding"]:  # gradflow: a norm above 1e3 (or inf) is worth a line
            norm = profile["peak_norm"]
            print(f"step {profile['step']}: exploding gradients, norm up to "
                  f"{'inf/NaN' if norm is None else f'{norm:.3g}'} before clipping")  # fmt: skip
        if kind == "started":
            if event.dataset_note:
                print(f"note: {event.dataset_note}")
            print(
                f"{event.task} · {event.arch} · {event.parameters:,} parameters · "
                f"{event.steps_per_epoch} steps/epoch · run folder {event.run_dir}"
            )
        elif kind == "step" and time.monotonic() - self.last >= self.every_s:
            self.last = time.monotonic()
            eta = f" · eta {event.eta_s:.0f}s" if event.eta_s is not None else ""
            print(
                f"step {event.step:>6} · epoch {event.epoch} · {event.progress:6.1%} · "
                f"loss {event.loss:.4f} · lr {event.lr:.2e} · |g| {event.grad_norm:.2f} · "
                f"{event.tokens_per_s:,.0f} tok/s{eta}"
            )
        elif kind == "eval":
            label = "eval" if event.full else "eval (quick)"
            print(f"{label} at step {event.step}: " + _fmt_metrics(event.metrics))
        elif kind == "checkpoint" and event.reason != "best":
            print(f"checkpoint ({event.reason}) saved: {event.path}")
        elif kind == "finished":
            word = "stopped" if event.stopped else "finished"
            print(f"{word}: " + _fmt_metrics(event.metrics))
            print(f"checkpoint: {event.checkpoint}")
        sys.stdout.flush()


def _fmt_metrics(metrics: dict[str, float]) -> str:
    return " · ".join(f"{k} {_fmt_number(v)}" for k, v in metrics.items())


def _fmt_number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def cmd_eval(args: argparse.Namespace) -> int:
    from tasks.checkpoint import load_checkpoint
    from tasks.config import TrainConfig
    from tasks.registry import create_task

    state = load_checkpoint(args.checkpoint)
    config = TrainConfig.from_dict(state["config"])
    if args.dataset:
        config.dataset = args.dataset
    task = create_task(config)
    task.load_state_dict(state["task_state"])
    metrics = task.evaluate(quick=False)
    details = task.details() if hasattr(task, "details") else {}  # e.g. a confusion matrix
    if args.json:
        print(json.dumps(
            {"checkpoint": args.checkpoint, "task": config.task, "metrics": metrics, **details}
        ))  # fmt: skip
    else:
        print(_fmt_metrics(metrics))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from tasks.sentiment import SentimentPredictor

    predictor = SentimentPredictor(args.checkpoint)
    texts = [sys.stdin.read() if t == "-" else t for t in args.text]
    for text in texts:
        result = predictor.predict(text)
        if args.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False))
            continue
        top = sorted((t for t in result.tokens if t[3] is not None), key=lambda t: -t[3])[:5]
        words = ", ".join(f"{t[0]} {t[3]:.2f}" for t in top)
        attention = f" · attention: {words}" if top else ""
        print(f"{result.label} {result.probability:.3f}{attention}")
        if result.note:
            print(f"note: {result.note}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from tasks.charlm import CharGenerator

    generator = CharGenerator(args.checkpoint)
    stream = generator.stream(
        prime=args.prime, length=args.length, strategy=args.strategy,
        temperature=args.temperature, k=args.k, p=args.p, seed=args.seed,
    )  # fmt: skip
    sys.stdout.write(args.prime)
    for char, _ in stream:
        sys.stdout.write(char)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    from tasks.timeseries import SeriesForecaster

    forecaster = SeriesForecaster(args.checkpoint, dataset=args.dataset)
    horizon = args.horizon if args.horizon is not None else forecaster.config.horizon
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


def cmd_translate(args: argparse.Namespace) -> int:
    from tasks.translation import Translator

    translator = Translator(args.checkpoint)
    beam = args.beam if args.beam is not None else translator.config.beam
    for text in args.text:
        result = translator.translate(text, beam=beam)
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        if args.json:
            head = {"checkpoint": args.checkpoint, "direction": translator.config.direction,
                    "beam": beam, "source": text}  # fmt: skip
            print(json.dumps(head | result.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(result.text, flush=True)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from tasks.runs import list_runs

    runs = list_runs()
    if args.json:
        print(json.dumps([r.to_dict() for r in runs]))
        return 0
    if not runs:
        print("no saved runs yet; train one with `rnn-tui train charlm`")
        return 0
    print(f"{'started':19}  {'task':8} {'arch':9} {'dataset':20} {'status':8} metric")
    for r in runs:
        metric = next(iter(r.metrics.items()), ("", ""))
        print(f"{r.started:19}  {r.task:8} {r.arch:9} {r.dataset[:20]:20} {r.status:8} "
              f"{metric[0]} {metric[1]}  {r.path}")  # fmt: skip
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from tasks import datasets as ds

    if args.data_command == "list":
        print(f"{'name':24} {'task':12} {'status':22} license")
        for info in ds.DATASETS.values():
            print(f"{info.name:24} {info.task:12} {ds.status(info):22} {info.license}")
        return 0
    info = ds.get_dataset(args.name)
    if args.data_command == "fetch":
        path = ds.fetch(info.name, progress=_progress_bar(info.name))
        print(path)
        return 0
    local = ds.find_local(info)
    if info.offline:
        print(ds.fetch(info.name))
    elif local is None:
        raise CliError(
            f"{info.name} is not on this machine yet; run `rnn-tui data fetch {info.name}`"
        )
    else:
        print(local.path)
    return 0


def _progress_bar(name: str) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        frac = done / total if total else 0.0
        bar = "#" * int(30 * frac)
        print(f"\r{name}: [{bar:30}] {frac:6.1%}", end="", file=sys.stderr, flush=True)
        if total and done >= total:
            print(file=sys.stderr)

    return progress


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": cmd_train,
    "resume": cmd_resume,
    "eval": cmd_eval,
    "generate": cmd_generate,
    "forecast": cmd_forecast,
    "translate": cmd_translate,
    "predict": cmd_predict,
    "runs": cmd_runs,
    "data": cmd_data,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rnn-tui` console script."""
    args = build_parser().parse_args(argv)
    if args.command is None:
        from tui.app import run_app

        run_app()
        return 0
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("rnn-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except (CliError, ValueError, OSError) as exc:  # ConfigError, DatasetError, CheckpointError
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"rnn-tui: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
