"""--precision, --compile and the device: the choices as pure functions (the CUDA ones too, on a
CPU), autocast and loss scaling on the CPU, and bad input as one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from cli_helpers import one_line_error, run_cli

from tasks.engine.base import torch_update
from tasks.engine.distributed import DistributedError, backend_for
from tasks.engine.precision import (
    autocast_context,
    autocast_dtype,
    choose_device,
    cpu_has_bf16,
    grad_scaler,
    needs_scaler,
    precision_problem,
    widen,
)
from tasks.engine.settings import ConfigError

TINY = ["--hidden", "32", "--layers", "1", "--embed", "16", "--batch", "8", "--seq-len", "32",
        "--threads", "1"]  # fmt: skip


# -- the choices ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cuda", "mps", "device"),
    [("auto", 2, True, "cuda"), ("auto", 0, True, "mps"), ("auto", 0, False, "cpu"),
     ("cpu", 1, True, "cpu"), ("cuda", 1, False, "cuda"), ("mps", 0, True, "mps")],
)  # fmt: skip
def test_device_auto_prefers_cuda_then_mps_then_cpu(
    name: str, cuda: int, mps: bool, device: str
) -> None:
    assert choose_device(name, cuda_count=cuda, mps=mps) == device


def test_each_cuda_process_takes_the_gpu_of_its_local_rank() -> None:
    assert [choose_device("auto", cuda_count=4, mps=False, local_rank=r, processes=4)
            for r in range(4)] == ["cuda:0", "cuda:1", "cuda:2", "cuda:3"]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "cuda", "mps", "processes", "words"),
    [("cuda", 0, False, 1, "--device cuda: torch sees no CUDA device"),
     ("mps", 0, False, 1, "--device mps: torch sees no Apple GPU"),
     ("cuda", 2, False, 3, "--nproc 3 needs a GPU per process, and this machine has 2"),
     ("auto", 0, True, 2, "--device mps runs one process")],
)  # fmt: skip
def test_a_device_the_machine_lacks_is_one_line(
    name: str, cuda: int, mps: bool, processes: int, words: str
) -> None:
    with pytest.raises(ConfigError) as error:
        choose_device(name, cuda_count=cuda, mps=mps, processes=processes)
    assert str(error.value).startswith(words), str(error.value)
    assert "\n" not in str(error.value)


def test_nccl_on_cuda_gloo_on_the_cpu() -> None:
    assert backend_for("cuda") == backend_for("cuda:1") == "nccl"
    assert backend_for("cpu") == "gloo"
    with pytest.raises(DistributedError):
        backend_for("mps")


@pytest.mark.parametrize(
    ("kind", "precision", "dtype"),
    [("cpu", "fp32", None), ("cpu", "bf16", "bfloat16"), ("cuda", "fp32", None),
     ("cuda", "bf16", "bfloat16"), ("cuda", "fp16", "float16")],
)  # fmt: skip
def test_autocast_dtype(kind: str, precision: str, dtype: str | None) -> None:
    assert precision_problem(kind, precision) is None
    assert autocast_dtype(kind, precision) == dtype


@pytest.mark.parametrize(
    ("kind", "precision", "bf16", "words"),
    [("cpu", "fp16", True, "fp16 needs a CUDA GPU"),
     ("cuda", "bf16", False, "bf16: this GPU has no bfloat16"),
     ("cpu", "bf16", False, "bf16: this CPU has no bfloat16 arithmetic"),
     ("mps", "bf16", True, "bf16 runs on cpu (bf16) or cuda (bf16, fp16), not mps")],
)  # fmt: skip
def test_a_precision_the_device_cannot_run(kind: str, precision: str, bf16: bool, words: str):
    problem = precision_problem(kind, precision, bf16)
    assert problem is not None and problem.startswith(words), problem


def test_no_fp16_autocast_off_cuda() -> None:
    with pytest.raises(ConfigError, match="--precision fp16 needs a CUDA GPU"):
        autocast_dtype("cpu", "fp16")


def test_only_fp16_on_cuda_scales_the_loss() -> None:
    assert needs_scaler("cuda", "fp16")
    assert not any(needs_scaler(kind, p) for kind in ("cpu", "cuda") for p in ("fp32", "bf16"))
    assert grad_scaler("cpu", "bf16") is None and grad_scaler("cuda:0", "fp32") is None


# -- autocast and loss scaling on the CPU --------------------------------------------------------


def test_cpu_bf16_autocast_lowers_matrix_products_only_inside() -> None:
    layer = torch.nn.Linear(4, 3)
    x = torch.randn(2, 4)
    with autocast_context("cpu", "bf16"):
        assert layer(x).dtype == torch.bfloat16
    with autocast_context("cpu", "fp32"):
        assert layer(x).dtype == torch.float32
    assert layer(x).dtype == torch.float32


def test_widen_keeps_carried_states_in_fp32_and_leaves_the_rest() -> None:
    assert widen(torch.ones(2, dtype=torch.bfloat16)).dtype == torch.float32
    assert widen(torch.ones(2, dtype=torch.complex64)).dtype == torch.complex64
    assert widen(torch.ones(2, dtype=torch.int64)).dtype == torch.int64


def _model_and_step(scaler: object | None, scale: float = 1.0) -> tuple[torch.nn.Module, float]:
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(8, 4) * scale
    loss = model(x).pow(2).mean()
    norm = torch_update(model, optimizer, loss, clip=1.0, lr=0.1, scaler=scaler)
    return model, norm


def test_a_loss_scaled_step_is_the_plain_step() -> None:
    plain, plain_norm = _model_and_step(None)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    scaled, scaled_norm = _model_and_step(scaler)
    assert scaled_norm == pytest.approx(plain_norm, rel=1e-6)
    for a, b in zip(plain.parameters(), scaled.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_an_overflowed_scaled_step_is_skipped_and_lowers_the_scale() -> None:
    torch.manual_seed(0)
    before = [p.detach().clone() for p in torch.nn.Linear(4, 2).parameters()]
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**127)
    model, norm = _model_and_step(scaler, scale=100.0)  # the scaled loss overflows fp32
    assert norm == 0.0  # no update, and not a failure the trainer would stop on
    for a, b in zip(before, model.parameters(), strict=True):
        torch.testing.assert_close(a, b.detach())
    assert scaler.get_scale() < 2.0**127


# -- the command line ----------------------------------------------------------------------------


def test_fp16_on_the_cpu_is_one_line(small_text: Path, capsys: pytest.CaptureFixture[str]):
    code, _, err = run_cli(capsys, "train", "charlm", "--dataset", str(small_text), *TINY,
                           "--epochs", "1", "--device", "cpu", "--precision", "fp16")  # fmt: skip
    one_line_error(code, err, "--precision fp16 needs a CUDA GPU")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_where_there_is_none_is_one_line(
    small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "train", "charlm", "--dataset", str(small_text), *TINY,
                           "--epochs", "1", "--device", "cuda")  # fmt: skip
    one_line_error(code, err, "--device cuda: torch sees no CUDA device")


@pytest.mark.parametrize(
    ("task", "option", "words"),
    [("charlm", ["--precision", "bf16"], "--precision bf16 does not apply to numpy-rnn"),
     ("charlm", ["--compile"], "--compile does not apply to numpy-rnn"),
     ("gradflow", ["--precision", "bf16"], "--precision bf16 does not apply to gradflow")],
)  # fmt: skip
def test_where_precision_and_compile_do_not_apply(
    task: str, option: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    arch = ["--arch", "numpy-rnn"] if task == "charlm" else []
    code, _, err = run_cli(capsys, "train", task, *arch, *option, "--epochs", "1")
    one_line_error(code, err, words)


def _events(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_bf16_trains_on_a_cpu_with_bfloat16_and_is_refused_on_one_without(
    small_text: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both answers are checked on every machine: the real one, then the other one forced."""
    argv = ["train", "charlm", "--dataset", str(small_text), *TINY, "--epochs", "1",
            "--device", "cpu", "--precision", "bf16", "--json"]  # fmt: skip
    code, out, err = run_cli(capsys, *argv, "--out", str(tmp_path / "run"))
    if cpu_has_bf16():
        assert code == 0, err
        events = _events(out)
        assert events[0]["config"]["precision"] == "bf16"
        assert events[-1]["event"] == "finished"
        assert 0 < events[-1]["metrics"]["val_loss"] < 4.5  # finite, and below uniform (ln 65)
    else:
        one_line_error(code, err, "this CPU has no bfloat16 arithmetic", "--precision fp32")
        assert not (tmp_path / "run").exists()  # refused before a run folder is made
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tasks.engine.precision.cpu_has_bf16", lambda: False)
        code, _, err = run_cli(capsys, *argv, "--out", str(tmp_path / "other"))
    one_line_error(code, err, "this CPU has no bfloat16 arithmetic")


@pytest.mark.slow
def test_compile_reports_the_cold_step_once(
    small_text: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = str(tmp_path / "run")
    code, out, err = run_cli(capsys, "train", "charlm", "--dataset", str(small_text), *TINY,
                             "--minutes", "0.02", "--device", "cpu", "--compile",
                             "--log-every", "0", "--out", run, "--json")  # fmt: skip
    assert code == 0, err
    steps = [e for e in _events(out) if e["event"] == "step"]
    timed = [e["compile_s"] for e in steps if e["compile_s"] is not None]
    assert len(timed) == 1 and timed[0] > 0, steps[:3]
    assert steps[0]["compile_s"] == timed[0]
