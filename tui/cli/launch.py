"""`rnn-tui train/resume ... --nproc N [--nnodes M --node-rank R --rdzv-endpoint HOST:PORT]`:
the same command again in N processes per machine, under torchrun.

When more than one process is asked for and this process is not one of torchrun's already
(``RANK`` unset), the command becomes torchrun's agent itself: it runs
`torch.distributed.run` with the argument list of

    python -m torch.distributed.run --nproc-per-node N --standalone --max-restarts 0 \\
        -m tui.cli train TASK ...         # the same arguments as given

(several machines: ``--nnodes M --node-rank R --master-addr HOST --master-port PORT
--rdzv-conf timeout=S`` instead of ``--standalone``; node 0 hosts the rendezvous). Hosting
torchrun here rather than in a child lets its failures become one line and an exit status (2
for bad input, 130 for a stopped run) instead of its report. torchrun puts each worker in its
own session and forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to every one of them, so a Ctrl+C
reaches each rank exactly once: each stops after its batch, as one process does. A worker whose
launcher dies (SIGKILL) notices that its parent changed and exits (`watch_launcher`).

Before any process starts it checks what would otherwise fail in every rank at once: the
settings, the device and the precision on this machine, the batch against the processes, and,
on a machine other than node 0, that the rendezvous endpoint answers within ``--rdzv-timeout``
seconds. Each process gets ``OMP_NUM_THREADS`` = cores // N (unless it is set already).

No torch at import: `rnn-tui --help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from tui.cli.common import EXIT_INTERRUPTED, CliError, positive_int

RDZV_TIMEOUT_S = 60.0
"""How long the machines wait for each other at the rendezvous by default."""
SHUTDOWN_S = 120
"""How long torchrun waits for the ranks to stop (finish a batch, save) before killing them."""
LAUNCHER_PID = "RNN_TUI_LAUNCHER_PID"
"""Set by the launcher for its ranks: the parent `watch_launcher` expects (one that died while a
rank was still starting is noticed too)."""


@dataclass(frozen=True)
class Launch:
    """How many processes a run asks for, and where they meet."""

    nproc: int = 1
    """Processes on this machine."""
    nnodes: int = 1
    """Machines taking part."""
    node_rank: int = 0
    """This machine's place: 0 hosts the rendezvous (and global rank 0, which writes the run)."""
    endpoint: tuple[str, int] | None = None
    """Node 0's address and port (several machines only)."""
    timeout_s: float = RDZV_TIMEOUT_S
    """Seconds to wait for the other machines."""

    @property
    def size(self) -> int:
        """Processes in all (torchrun's WORLD_SIZE)."""
        return self.nproc * self.nnodes


def add_launch_options(parser: Any) -> None:
    """--nnodes, --node-rank, --rdzv-endpoint and --rdzv-timeout (launch-only: not settings)."""
    parser.add_argument(
        "--nnodes", type=positive_int, default=1, metavar="M",
        help="machines taking part, each running this command with its own --node-rank "
        "(default: 1)",
    )  # fmt: skip
    parser.add_argument(
        "--node-rank", type=int, default=0, metavar="R",
        help="this machine's place among them, 0 .. M-1; node 0 hosts the rendezvous and "
        "writes the run (default: 0)",
    )  # fmt: skip
    parser.add_argument(
        "--rdzv-endpoint", metavar="HOST:PORT",
        help="node 0's address and a free port there, the same on every machine "
        "(needed with --nnodes > 1)",
    )  # fmt: skip
    parser.add_argument(
        "--rdzv-timeout", type=float, default=RDZV_TIMEOUT_S, metavar="S",
        help=f"seconds to wait for the other machines (default: {RDZV_TIMEOUT_S:g})",
    )  # fmt: skip


def launch_plan(args: argparse.Namespace, nproc: int) -> Launch:
    """The `Launch` of the parsed launch options and the run's --nproc; one-line `CliError`s."""
    nnodes, node_rank, endpoint = args.nnodes, args.node_rank, args.rdzv_endpoint
    if not 0 <= node_rank < nnodes:
        raise CliError(f"--node-rank must be in 0 .. {nnodes - 1} with --nnodes {nnodes} "
                       f"(got {node_rank})")  # fmt: skip
    if not args.rdzv_timeout > 0:
        raise CliError(f"--rdzv-timeout must be a positive number (got {args.rdzv_timeout:g})")
    if nnodes > 1 and not endpoint:
        raise CliError(f"--nnodes {nnodes} needs --rdzv-endpoint HOST:PORT (node 0's address)")
    if endpoint and nnodes == 1:
        raise CliError("--rdzv-endpoint applies to several machines: give --nnodes too")
    where = parse_endpoint(endpoint) if endpoint else None
    return Launch(nproc, nnodes, node_rank, where, args.rdzv_timeout)


def parse_endpoint(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) -> (host, port)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CliError(
            f"--rdzv-endpoint must be HOST:PORT with a port in 1 .. 65535 (got {text!r})"
        )
    return host, int(port)


# -- inside torchrun ----------------------------------------------------------------------------


def under_torchrun(env: Mapping[str, str] = os.environ) -> bool:
    """True in a process torchrun started (it sets RANK and LOCAL_WORLD_SIZE)."""
    return "RANK" in env and "LOCAL_WORLD_SIZE" in env


def local_world_size(env: Mapping[str, str] = os.environ) -> int | None:
    """The processes torchrun started on this machine (None outside torchrun)."""
    return int(env["LOCAL_WORLD_SIZE"]) if under_torchrun(env) else None


def main_rank(env: Mapping[str, str] = os.environ) -> bool:
    """True outside torchrun and on its global rank 0."""
    return env.get("RANK", "0") == "0"


def needs_launch(plan: Launch, env: Mapping[str, str] = os.environ) -> bool:
    """More than one process asked for, and this is not one of torchrun's already."""
    return plan.size > 1 and not under_torchrun(env)


def report_error(message: str) -> None:
    """A one-line error: on stderr, except under torchrun on a rank other than 0, which puts it
    in torchrun's error file instead (the launcher shows it when that rank fails first; every
    rank runs the same checks on the same data, so rank 0 usually says it already)."""
    error_file = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if main_rank() or not error_file:
        print(f"rnn-tui: error: {message}", file=sys.stderr)
        return
    with open(error_file, "w", encoding="utf-8") as handle:
        json.dump({"message": message, "timestamp": int(time.time())}, handle)


def watch_launcher(poll_s: float = 1.0) -> None:
    """Under torchrun: exit when the parent (torchrun, the launcher) is gone.

    torchrun puts each worker in its own session, so a SIGKILL to the launcher would leave the
    ranks training on; this thread notices the new parent within `poll_s` and exits. Rank 0's
    checkpoints are written atomically, so the last completed one stays intact.
    """
    parent = int(os.environ.get(LAUNCHER_PID, os.getppid()))

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        if main_rank():
            print("rnn-tui: the launcher is gone; stopping", file=sys.stderr, flush=True)
        os._exit(EXIT_INTERRUPTED)

    threading.Thread(target=watch, name="watch-launcher", daemon=True).start()


def end_rank(status: int) -> NoReturn:
    """End this torchrun worker now with `status`, without the interpreter's teardown.

    Freeing a DistributedDataParallel model after its gloo group can deadlock: the group's
    destructor, run while the GIL is held, joins gloo's worker thread, which waits for the GIL
    to free a finished all-reduce's tensors (seen here in about one stop in three). By now
    rank 0's files are complete: the trainer ends with a barrier after its last write.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


# -- starting torchrun --------------------------------------------------------------------------


def torchrun_args(plan: Launch) -> list[str]:
    """torchrun's own arguments that run ``python -m tui.cli`` in every process of `plan`."""
    args = ["--nproc-per-node", str(plan.nproc), "--max-restarts", "0",
            "--shutdown-timeout", str(SHUTDOWN_S)]  # fmt: skip
    if plan.endpoint is None:
        args.append("--standalone")  # one machine: a rendezvous on a free local port
    else:
        host, port = plan.endpoint
        args += [
            "--nnodes", str(plan.nnodes), "--node-rank", str(plan.node_rank),
            "--master-addr", host, "--master-port", str(port),
            "--rdzv-conf", f"timeout={math.ceil(plan.timeout_s)}",
        ]  # fmt: skip
    return [*args, "--module", "tui.cli"]


def torchrun_namespace(plan: Launch, cli_argv: Sequence[str]) -> argparse.Namespace:
    """torchrun's parsed arguments for ``python -m tui.cli CLI_ARGV`` in every process.

    CLI_ARGV goes straight into the namespace, not through torchrun's parser: argparse takes
    an option after the script for an abbreviation of its own (``--nproc`` is ambiguous with
    ``--nproc-per-node``) and stops.
    """
    from torch.distributed.run import parse_args

    args = parse_args(torchrun_args(plan))
    args.training_script_args = list(cli_argv)
    return args


def thread_env(env: Mapping[str, str], nproc: int, cores: int) -> dict[str, str]:
    """The environment with OMP_NUM_THREADS = cores // nproc (at least 1) unless already set."""
    out = dict(env)
    out.setdefault("OMP_NUM_THREADS", str(max(1, cores // nproc)))
    return out


def cpu_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def wait_for_endpoint(
    host: str,
    port: int,
    timeout_s: float,
    connect: Callable[..., Any] = socket.create_connection,
) -> None:
    """Return once something listens at host:port; a one-line `CliError` after `timeout_s`.

    Node 0 may start a little later than the others, so a refused connection is tried again
    every half second until the time is up.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        try:
            with connect((host, port), timeout=max(0.1, min(left, 2.0))):
                return
        except socket.gaierror as exc:
            raise CliError(f"--rdzv-endpoint {host}:{port}: cannot resolve {host} "
                           f"({exc.strerror})") from None  # fmt: skip
        except OSError:
            pass
        left = deadline - time.monotonic()
        if left <= 0:
            raise CliError(
                f"the rendezvous endpoint {host}:{port} does not answer after {timeout_s:g} s: "
                "start node 0 (--node-rank 0) first, and check the address, the port and the "
                "firewall"
            )
        time.sleep(min(0.5, left))


def exit_status(failures: Mapping[int, tuple[int, str]]) -> tuple[int, str | None]:
    """The launcher's exit status, and the line it prints (None: the ranks said it), from the
    failed ranks' (exit code, message in torchrun's error file or "").

    Rank 0 prints why it ended (bad input: 2, a failed run or a traceback: 1, a stop: 130), so
    its code is the launcher's, silently. Otherwise the first other rank that exited by itself
    (code > 0; a stop's 130 counts last) is the cause, with its line from the error file
    (`report_error`); with none, the first killed by a signal other than torchrun's SIGTERM
    to the rest.
    """
    if 0 in failures and failures[0][0] > 0:
        return failures[0][0], None
    exited = sorted((code == EXIT_INTERRUPTED, rank) for rank, (code, _) in failures.items()
                    if code > 0)  # fmt: skip
    if not exited:
        _, rank = min((-code == signal.SIGTERM, rank) for rank, (code, _) in failures.items())
        name = _signal_name(-failures[rank][0])
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return 1, f"training process {rank} was killed by {name}{hint}"
    rank = exited[0][1]
    code, message = failures[rank]
    if code == EXIT_INTERRUPTED:
        return code, None
    if message:
        return code, f"process {rank}: {message}"
    return code, f"training process {rank} failed with exit status {code} (see above)"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def preflight(config: Any, plan: Launch) -> None:
    """What would fail in every rank at once, checked here once (one-line `ConfigError`s): the
    device and the precision on this machine, and a batch with fewer rows than processes."""
    from tasks.engine.distributed import ShardError, shard_rows
    from tasks.engine.precision import check_precision, machine_device
    from tasks.engine.settings import ConfigError

    config.validate()
    check_precision(machine_device(config.device, processes=plan.nproc), config.precision)
    try:
        shard_rows(config.batch, 0, plan.size)
    except ShardError:
        raise ConfigError(
            f"{config.batch} cannot be split among {plan.size} processes (each trains on its "
            f"share of every batch's rows); use --batch {plan.size} or more, or fewer processes",
            "batch",
        ) from None


def launch(plan: Launch, cli_argv: Sequence[str]) -> int:
    """Run ``rnn-tui CLI_ARGV`` in `plan`'s processes under torchrun, hosted here; returns the
    exit status (0, 2 for bad input, 130 when stopped)."""
    if plan.endpoint is not None and plan.node_rank != 0:
        wait_for_endpoint(*plan.endpoint, plan.timeout_s)
    os.environ.update(thread_env(os.environ, plan.nproc, cpu_cores()))
    os.environ[LAUNCHER_PID] = str(os.getpid())  # torchrun runs here: the ranks' parent
    return _run_torchrun(torchrun_namespace(plan, cli_argv), plan)


def _run_torchrun(args: argparse.Namespace, plan: Launch) -> int:
    import logging

    from torch.distributed.elastic.multiprocessing import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import run

    for name in ("torch.distributed.elastic", "torch.distributed.run"):  # the agent's own
        quiet = logging.getLogger(name)  # progress and warnings ("sending SIGINT to ...")
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
    try:
        run(args)
    except SignalException as exc:  # Ctrl+C or SIGTERM: forwarded, the ranks stopped
        return EXIT_INTERRUPTED if exc.sigval == signal.SIGINT else 128 + int(exc.sigval)
    except ChildFailedError as exc:
        status, line = exit_status(
            {rank: (f.exitcode, f.message if os.path.isfile(f.error_file) else "")
             for rank, f in exc.failures.items()}
        )  # fmt: skip
        if line:
            print(f"rnn-tui: error: {line}", file=sys.stderr)
        return status
    except Exception as exc:  # the rendezvous: an endpoint in use, machines that never came
        text = str(exc).strip().splitlines()
        where = f" at {plan.endpoint[0]}:{plan.endpoint[1]}" if plan.endpoint else ""
        raise CliError(
            f"the {plan.size} processes could not meet{where} "
            f"({text[0] if text else type(exc).__name__})"
        ) from None
    return 0
