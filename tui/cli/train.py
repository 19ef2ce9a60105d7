"""`rnn-tui train` and `rnn-tui resume`: headless training, events printed as text or JSON."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tasks.engine.distributed import close_world
from tasks.engine.runs import SUMMARY
from tasks.engine.settings import ConfigError, TrainConfig
from tasks.registry import TASKS, TaskInfo, config_from_dict
from tui.cli.common import EXIT_INTERRUPTED, CliError, fmt_metrics, positive_int
from tui.cli.export import LiveBoard, add_board_option, checked_board
from tui.cli.launch import (
    add_launch_options,
    end_rank,
    launch,
    launch_plan,
    local_world_size,
    main_rank,
    needs_launch,
    preflight,
    under_torchrun,
    watch_launcher,
)
from tui.cli.settings_options import EMPTY, add_setting_options, given_settings


def register(sub: Any) -> None:
    """Add the `train` and `resume` parsers."""
    train = sub.add_parser(
        "train", help="train headless", description="Train a task headless; see TASK --help."
    )
    tasks = train.add_subparsers(dest="task", metavar="TASK", required=True)
    for info in TASKS.values():
        parser = tasks.add_parser(
            info.name, help=info.summary, description=f"{info.title}: {info.summary}."
        )
        _add_train_options(parser, info)
        parser.set_defaults(func=cmd_train)

    resume = sub.add_parser("resume", help="continue a run exactly where it stopped")
    resume.add_argument("run_dir", help="the run folder (`rnn-tui runs` lists them)")
    resume.add_argument(
        "--epochs", type=int, help="train to this many epochs in all (default: the run's)"
    )
    resume.add_argument(
        "--minutes", type=float, help="this much more wall-clock time (default: the run's budget)"
    )
    resume.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    _add_control_option(resume)
    processes = resume.add_argument_group("processes")
    processes.add_argument(
        "--nproc", type=positive_int, metavar="N",
        help="training processes on this machine (default: the run's own; another number "
        "resumes with a note that the data order changes)",
    )  # fmt: skip
    add_launch_options(processes)
    resume.set_defaults(func=cmd_resume)


def _add_train_options(parser: argparse.ArgumentParser, info: TaskInfo) -> None:
    add_setting_options(parser, info)
    p = parser.add_argument_group("run")
    p.add_argument(
        "--config",
        metavar="FILE",
        help=f"start from a JSON file of settings, or a run's {SUMMARY} (its config); "
        "options given here override it",
    )
    p.add_argument(
        "--out", metavar="DIR", help="the run folder (default: a new one in the user data folder)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    _add_control_option(p)
    add_board_option(p)
    add_launch_options(parser.add_argument_group("several machines (with --nproc)"))


def _add_control_option(p: Any) -> None:
    p.add_argument(
        "--control",
        action="store_true",
        help="read pause, resume, save and stop from stdin, one per line; end of input stops "
        "(the app drives runs this way)",
    )


def cmd_train(args: argparse.Namespace) -> int:
    from tasks.engine.trainer import Trainer
    from tasks.registry import create_task

    board = checked_board(args.tensorboard)
    local = local_world_size()
    config = train_config(args, local)
    plan = launch_plan(args, config.nproc)
    if needs_launch(plan):  # this process becomes torchrun's agent for the N processes
        preflight(config, plan)
        if args.out:
            _fresh_out(args.out)
        return launch(plan, args.argv)
    if local is not None:
        watch_launcher()
    task = create_task(config)
    trainer = Trainer(task, _run_folder(args.out, config))
    live = LiveBoard(board) if board is not None and main_rank() else None
    status = _drive(trainer, args.json, args.control, live)
    if local is not None:
        end_rank(status)  # before the task (and its DDP model) is freed
    return status


def train_config(args: argparse.Namespace, local: int | None = None) -> TrainConfig:
    """The run's settings: the task's defaults, then the settings file, then the options.

    An optional setting given as '' (``--epochs ''``) is none whatever the file says; a time
    budget given without epochs means as many epochs as fit. `local`: the processes torchrun
    started on this machine (None when not under torchrun).
    """
    from tasks.registry import default_config

    options = given_settings(args, TASKS[args.task])
    emptied = [name for name, value in options.items() if value is EMPTY]
    options |= dict.fromkeys(emptied)
    if local is not None:  # a torchrun worker: the run records the processes it really has
        if options["nproc"] not in (None, local):
            raise CliError(f"--nproc {options['nproc']}, but torchrun started {local} "
                           "processes on this machine")  # fmt: skip
        options["nproc"] = local
    arch = options.pop("arch")
    values = _config_file(args.config, args.task) if args.config else {}
    values.pop("task", None)
    arch = arch or values.pop("arch", None)
    if options["minutes"] is not None and options["epochs"] is None:
        values.pop("epochs", None)  # a time budget alone: as many epochs as fit
    given = {name: value for name, value in options.items() if value is not None}
    config = default_config(args.task, arch, **values | given)
    if not emptied:
        return config
    return dataclasses.replace(config, **dict.fromkeys(emptied)).validate()


def _fresh_out(out: str) -> Path:
    """--out as a run folder for a new run (refused when it holds one already)."""
    from tasks.engine.runs import resumable_checkpoint

    run_dir = Path(out)
    if resumable_checkpoint(run_dir) is not None:
        raise CliError(f"{run_dir} already holds a run; use `rnn-tui resume {run_dir}`")
    return run_dir


def _run_folder(out: str | None, config: Any) -> Path:
    """The new run's folder: --out, or a new one in the runs root. Rank 0 makes it; under
    torchrun the other ranks get its name from rank 0 (they write nothing there)."""
    from tasks.engine.distributed import gather_objects, init_world, world
    from tasks.engine.precision import process_device
    from tasks.engine.runs import new_run_dir, register_run

    if world().size > 1:
        init_world(process_device(config))
    made: str | None = None
    if main_rank():
        if out:
            run_dir = _fresh_out(out)
            register_run(run_dir)
        else:
            run_dir = new_run_dir(config.task, config.arch, config.dataset)
        made = str(run_dir)
    return Path(gather_objects(made)[0])


def _config_file(path: str, task: str) -> dict[str, Any]:
    """The settings in a JSON settings file or a run's summary; one-line errors for a bad file.

    A settings file may hold any of the task's settings (the rest keep the task's defaults);
    an unknown key is refused, naming it.
    """
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except OSError as exc:
        raise CliError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, 5000 digits, deep nesting
        raise CliError(f"config {path} is not valid JSON: {exc}") from None
    summary = isinstance(data, dict) and isinstance(data.get("config"), dict)
    if summary:
        data = data["config"]
    if not isinstance(data, dict):
        raise CliError(f"config {path} must hold a JSON object of settings")
    if data.get("task", task) != task:
        raise CliError(f"config {path} is for task {data['task']}, not {task}")
    try:
        if summary:  # a run's own record (older runs stored every task's keys)
            return config_from_dict(data | {"task": task}).to_dict()
        unknown = [key for key in data if key not in TASKS[task].settings.settings()]
        if unknown:
            raise ConfigError(f"unknown setting for task {task}: {', '.join(unknown)}")
    except (ConfigError, RecursionError) as exc:  # RecursionError: copying a deeply nested value
        raise CliError(f"config {path}: {exc}") from None
    return dict(data)


def cmd_resume(args: argparse.Namespace) -> int:
    from tasks.engine.trainer import Trainer

    local = local_world_size()
    if local is not None and args.nproc not in (None, local):
        raise CliError(f"--nproc {args.nproc}, but torchrun started {local} processes on this "
                       "machine")  # fmt: skip
    stored = _stored_config(args.run_dir)
    nproc = local or args.nproc or (stored.nproc if stored else 1)
    plan = launch_plan(args, nproc)
    if needs_launch(plan):  # under the run's own number of processes, unless told otherwise
        if stored is not None:
            preflight(stored.replace(nproc=nproc), plan)
        argv = args.argv if args.nproc else [*args.argv, "--nproc", str(nproc)]
        return launch(plan, argv)
    if local is not None:
        watch_launcher()
    trainer = Trainer.resume(args.run_dir, epochs=args.epochs, minutes=args.minutes, nproc=nproc)
    status = _drive(trainer, args.json, args.control)
    if local is not None:
        end_rank(status)  # before the trainer (and its DDP model) is freed
    return status


def _stored_config(run_dir: str) -> Any:
    """The config a run's summary records (None when it has none to read)."""
    from tasks.engine.runs import read_summary

    config = read_summary(Path(run_dir)).get("config")
    return config_from_dict(config) if isinstance(config, dict) else None


def _follow_commands(trainer: Any, stop: threading.Event) -> None:
    """Apply pause, resume, save and stop lines from stdin; end of input (the app is gone) stops.

    Bytes that are not UTF-8 read as U+FFFD (an unknown command), never as an error that would
    end this reader and with it the stop at the end of input.
    """
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
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


def _drive(trainer: Any, as_json: bool, control: bool = False, board: Any = None) -> int:
    """Iterate the trainer's events, printing them; Ctrl+C stops after the current batch.

    control: also take commands from stdin (`_follow_commands`), as the app sends them. Under
    torchrun only rank 0 reads them (every rank inherits the launcher's stdin, and a line read
    by another rank would be lost to rank 0, which broadcasts stop, save and pause to the others
    each step); only rank 0's trainer yields events.
    board: a `LiveBoard` that sees every event too (--tensorboard), closed at the end.
    A broken stdout (its reader, the app, is gone) stops the run as the end of the control
    input does: after the batch, with a checkpoint; what is printed after that goes nowhere.
    With control (one process), a hang-up (SIGHUP) is ignored: the input's end decides.
    """
    main = main_rank()
    stop = threading.Event()
    if control and main:
        threading.Thread(target=_follow_commands, args=(trainer, stop), daemon=True).start()
    # The app's terminal closing hangs up its whole process group, this child included; the
    # app's end closes the control input instead, which saves and stops the run.
    hangup = getattr(signal, "SIGHUP", None) if control and not under_torchrun() else None
    previous_hangup = signal.signal(hangup, signal.SIG_IGN) if hangup is not None else None

    def on_sigint(signum: int, frame: Any) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl+C aborts
        if main:
            print("rnn-tui: stopping after this batch (Ctrl+C again to abort)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    printer = _JsonPrinter() if as_json else _TextPrinter()
    status = 0
    try:
        for event in trainer.run(stop):  # under torchrun, rank 0's events only
            try:
                printer(event)
            except BrokenPipeError:  # nobody reads the events (the app is gone): save and stop
                _discard(sys.stdout)
                stop.set()
                trainer.pause.clear()
            if board is not None:
                board(event)
            if event.kind == "failed":
                _say(f"rnn-tui: error: {event.reason}")
                status = 1
            elif event.kind == "finished" and event.stopped:
                status = EXIT_INTERRUPTED
    finally:
        # Under torchrun a late forwarded SIGINT must not interrupt leaving the group: the rank
        # ends right after (`end_rank`).
        signal.signal(signal.SIGINT, signal.SIG_IGN if under_torchrun() else previous)
        if hangup is not None:
            signal.signal(hangup, previous_hangup)
        if board is not None:
            board.close()
        close_world()  # under torchrun: leave the process group (alone: nothing)
    return status


def _discard(stream: Any) -> None:
    """Point a stream whose reader has gone (a broken pipe) at the null device, so that what is
    still written to it, and its flush at exit, go nowhere instead of raising."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, stream.fileno())
    finally:
        os.close(null)


def _say(line: str) -> None:
    """A line on stderr, unless nobody reads it any more (the app is gone)."""
    try:
        print(line, file=sys.stderr, flush=True)
    except BrokenPipeError:
        _discard(sys.stderr)


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
        profile = event.gradients if kind == "step" else None
        if profile and profile["exploding"]:  # gradflow: a norm above 1e3 (or inf) is worth a line
            norm = profile["peak_norm"]
            print(f"step {profile['step']}: exploding gradients, norm up to "
                  f"{'inf/NaN' if norm is None else f'{norm:.3g}'} before clipping")  # fmt: skip
        if kind == "step" and event.compile_s is not None:
            print(f"compiled: the first step took {event.compile_s:.1f}s, compilation included")
        if kind == "started":
            if event.dataset_note:
                print(f"note: {event.dataset_note}")
            size = event.world_size
            print(
                f"{event.task} · {event.arch} · {event.parameters:,} parameters · "
                f"{event.steps_per_epoch} steps/epoch · "
                + (f"{size} processes · " if size > 1 else "")
                + f"run folder {event.run_dir}"
            )
        elif kind == "note":
            print(f"note: {event.text}")
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
            print(f"{label} at step {event.step}: " + fmt_metrics(event.metrics))
        elif kind == "checkpoint" and event.reason != "best":
            print(f"checkpoint ({event.reason}) saved: {event.path}")
        elif kind == "finished":
            word = "stopped" if event.stopped else "finished"
            print(f"{word}: " + fmt_metrics(event.metrics))
            print(f"checkpoint: {event.checkpoint}")
        sys.stdout.flush()
