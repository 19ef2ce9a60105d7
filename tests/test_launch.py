"""`rnn-tui train/resume --nproc N`: the torchrun command it hosts, the threads per process, bad
input as one line before any process starts, a rendezvous that does not answer, how the ranks'
exits become one status, and two real processes on this machine (stopped and resumed)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import one_line_error, run_cli, watched_child

from tui.cli.launch import (
    Launch,
    exit_status,
    local_world_size,
    main_rank,
    needs_launch,
    report_error,
    thread_env,
    torchrun_namespace,
    under_torchrun,
    wait_for_endpoint,
)

TINY = ["--hidden", "32", "--layers", "1", "--embed", "16", "--batch", "8", "--seq-len", "32"]
TORCHRUN_ENV = {"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2"}


# -- the torchrun command ------------------------------------------------------------------------


def test_one_machine_runs_standalone_torchrun_over_the_same_command() -> None:
    argv = ["train", "charlm", "--nproc", "2", "--json", "--minutes", "1", "--node-rank", "0"]
    args = torchrun_namespace(Launch(nproc=2), argv)  # torchrun's own parser, its own flags
    assert args.nproc_per_node == "2" and args.standalone and args.max_restarts == 0
    assert args.module and args.training_script == "tui.cli"
    assert args.training_script_args == argv  # --nproc would be ambiguous to torchrun's parser


def test_several_machines_meet_at_node_0() -> None:
    plan = Launch(nproc=2, nnodes=3, node_rank=1, endpoint=("10.0.0.5", 29500), timeout_s=12.5)
    args = torchrun_namespace(plan, ["train", "charlm"])
    assert not args.standalone and args.rdzv_backend == "static"
    assert (args.nnodes, args.node_rank) == ("3", 1)
    assert (args.master_addr, args.master_port) == ("10.0.0.5", 29500)
    assert args.rdzv_conf == "timeout=13"
    assert args.training_script_args == ["train", "charlm"]
    assert plan.size == 6


@pytest.mark.parametrize(("nproc", "cores", "threads"), [(1, 2, "2"), (2, 2, "1"), (3, 16, "5"),
                                                         (4, 2, "1")])  # fmt: skip
def test_each_process_gets_its_share_of_the_cores(nproc: int, cores: int, threads: str) -> None:
    assert thread_env({}, nproc, cores)["OMP_NUM_THREADS"] == threads
    assert thread_env({"OMP_NUM_THREADS": "7"}, nproc, cores)["OMP_NUM_THREADS"] == "7"


def test_who_is_launched_and_who_is_a_rank() -> None:
    assert needs_launch(Launch(nproc=2), env={})
    assert needs_launch(Launch(nproc=1, nnodes=2, endpoint=("h", 1)), env={})
    assert not needs_launch(Launch(nproc=1), env={})
    assert not needs_launch(Launch(nproc=2), env=TORCHRUN_ENV)  # already one of torchrun's
    assert under_torchrun(TORCHRUN_ENV) and not under_torchrun({})
    assert local_world_size(TORCHRUN_ENV) == 2 and local_world_size({}) is None
    assert main_rank({}) and main_rank({"RANK": "0"}) and not main_rank(TORCHRUN_ENV)


# -- how the ranks' exits become one status ------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "status", "line"),
    [({0: (2, ""), 1: (-15, "")}, 2, None),  # rank 0 printed its bad input
     ({0: (130, ""), 1: (130, "")}, 130, None),  # a stopped run
     ({1: (130, ""), 0: (-15, "")}, 130, None),
     ({0: (1, "")}, 1, None),  # rank 0's failed run or traceback is above
     ({0: (-15, ""), 1: (2, "a batch of 3 rows")}, 2, "process 1: a batch of 3 rows"),
     ({1: (1, "")}, 1, "training process 1 failed with exit status 1 (see above)"),
     ({0: (-15, ""), 1: (-9, "")}, 1, "training process 1 was killed by SIGKILL (out of memory?)")],
)  # fmt: skip
def test_exit_status(failures: dict, status: int, line: str | None) -> None:
    assert exit_status(failures) == (status, line)


def test_another_rank_puts_its_error_where_torchrun_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from torch.distributed.elastic.multiprocessing.errors import ProcessFailure

    error_file = tmp_path / "error.json"
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("TORCHELASTIC_ERROR_FILE", str(error_file))
    report_error("--batch 3 is too small")
    assert capsys.readouterr().err == ""
    failure = ProcessFailure(local_rank=1, pid=1, exitcode=2, error_file=str(error_file))
    assert failure.message == "--batch 3 is too small"
    monkeypatch.setenv("RANK", "0")
    report_error("--batch 3 is too small")
    assert capsys.readouterr().err == "rnn-tui: error: --batch 3 is too small\n"


# -- bad input: one line, before any process starts ----------------------------------------------


def test_nproc_0_is_one_line(small_text: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "train", "charlm", "--dataset", str(small_text), *TINY,
                           "--epochs", "1", "--nproc", "0")  # fmt: skip
    one_line_error(code, err, "--nproc must be a positive integer (got 0)")


def test_more_processes_than_a_batch_has_rows_is_one_line(
    small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "train", "charlm", "--dataset", str(small_text), *TINY[:6],
                           "--batch", "2", "--epochs", "1", "--nproc", "3")  # fmt: skip
    one_line_error(code, err, "--batch 2 cannot be split among 3 processes")


def test_fp16_on_the_cpu_is_one_line_before_the_processes_start(
    small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "train", "charlm", "--dataset", str(small_text), *TINY,
                           "--epochs", "1", "--nproc", "2", "--device", "cpu",
                           "--precision", "fp16")  # fmt: skip
    one_line_error(code, err, "--precision fp16 needs a CUDA GPU")


@pytest.mark.parametrize(
    ("options", "words"),
    [(["--nnodes", "2"], "--nnodes 2 needs --rdzv-endpoint HOST:PORT"),
     (["--nnodes", "2", "--node-rank", "2", "--rdzv-endpoint", "h:1"], "--node-rank must be in"),
     (["--rdzv-endpoint", "h:1"], "--rdzv-endpoint applies to several machines"),
     (["--nnodes", "2", "--rdzv-endpoint", "nohost"], "--rdzv-endpoint must be HOST:PORT")],
)  # fmt: skip
def test_bad_machine_options_are_one_line(
    options: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "train", "charlm", *TINY, "--epochs", "1", *options)
    one_line_error(code, err, words)


def test_a_rendezvous_that_does_not_answer_is_one_line_in_bounded_time(
    small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch  # noqa: F401  (imported before the clock starts: the bound is the wait's)

    with socket.socket() as held:  # bound, never listening: refused, and no one else takes it
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        endpoint = f"127.0.0.1:{port}"
        started = time.monotonic()
        code, _, err = run_cli(capsys, "train", "charlm", "--dataset", str(small_text), *TINY,
                               "--epochs", "1", "--nnodes", "2", "--node-rank", "1",
                               "--rdzv-endpoint", endpoint, "--rdzv-timeout", "1")  # fmt: skip
        waited = time.monotonic() - started
    one_line_error(code, err, f"the rendezvous endpoint 127.0.0.1:{port} does not answer "
                              "after 1 s")  # fmt: skip
    assert waited < 30


def test_a_listening_endpoint_answers_at_once() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        started = time.monotonic()
        wait_for_endpoint("127.0.0.1", server.getsockname()[1], timeout_s=30)
    assert time.monotonic() - started < 5


# -- two processes on this machine ---------------------------------------------------------------


def _cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "tui.cli", *argv]


def _events(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.slow
def test_ctrl_c_stops_both_processes_and_the_run_resumes_under_two(
    small_text: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    command = _cli("train", "charlm", "--dataset", str(small_text), *TINY, "--nproc", "2",
                   "--epochs", "400", "--out", str(run), "--json")  # fmt: skip
    with (tmp_path / "stderr.txt").open("w+") as stderr:  # a file: it never fills and blocks
        # a hang guard: killing the launcher ends the ranks too (`watch_launcher`), closing stdout
        with watched_child(command, stderr, 600, stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            lines = []
            for line in proc.stdout:  # wait for the first completed epoch checkpoint
                lines.append(line)
                if '"event": "checkpoint"' in line:
                    break
            proc.send_signal(signal.SIGINT)
            out = proc.communicate()[0]  # the stop comes after one batch
        stderr.seek(0)
        err = stderr.read()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "ChildFailedError" not in err, err
    events = _events("".join(lines) + out)
    assert [e["event"] for e in events].count("started") == 1  # one event stream
    assert events[0]["world_size"] == 2 and events[0]["config"]["nproc"] == 2
    assert events[-1]["event"] == "finished" and events[-1]["stopped"]
    assert sorted(p.name for p in run.glob("*.pt")) == ["best.pt", "last.pt"]
    stopped_step = [e for e in events if e["event"] == "checkpoint"][-1]["step"]

    resumed = subprocess.run(  # under the run's own two processes, a few seconds more
        _cli("resume", str(run), "--minutes", "0.05", "--json"),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    first = _events(resumed.stdout)[0]
    assert first["resumed_from_step"] == stopped_step and first["world_size"] == 2


@pytest.mark.parametrize(
    ("argv", "status"),
    [(("data", "show", "no-such-dataset"), 2), (("data", "list"), 0)],
)
def test_a_torchrun_worker_ends_through_end_rank_on_every_path(
    argv: tuple[str, ...], status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Errors included: a worker that returned normally would free its DDP model after the gloo
    group in the interpreter's teardown, the order that can deadlock."""
    import tui.cli
    from tui.cli import launch

    ended: list[int] = []

    def fake_end_rank(code: int) -> None:
        ended.append(code)
        raise SystemExit(code)

    for name, value in TORCHRUN_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TORCHELASTIC_ERROR_FILE", raising=False)
    monkeypatch.setattr(launch, "end_rank", fake_end_rank)
    with pytest.raises(SystemExit):
        tui.cli.main(list(argv))
    assert ended == [status]
