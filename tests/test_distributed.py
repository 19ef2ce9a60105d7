"""Training in several processes: two ranks on gloo over 127.0.0.1, as torchrun starts them.

A scenario runs this file as a script in two processes (``python tests/test_distributed.py
SCENARIO FOLDER``) with the environment torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK,
LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT, a port found free by binding port 0). The ranks
write what they found into FOLDER and the tests read it. Every wait is bounded: the process
group's `GROUP_TIMEOUT_S` inside the ranks, `DEADLINE_S` for the whole scenario outside.

The models are tiny (`engine_fixtures.SIZES`) and the runs a few steps long; three scenarios
start six processes in all.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from engine_fixtures import BUILDERS, SIZES, TINY, CountingTask

from models.cores.stack import flatten_state
from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.distributed import (
    DistributedError,
    ShardError,
    World,
    all_reduce_mean,
    all_reduce_sum,
    any_flag,
    backend_for,
    broadcast_flag,
    gather_objects,
    init_world,
    shard_rows,
    share,
    world,
)
from tasks.engine.settings import ConfigError
from tasks.engine.trainer import Trainer
from tasks.registry import TASKS, create_task, default_config

ROOT = Path(__file__).resolve().parents[1]
RANKS = 2
GROUP_TIMEOUT_S = 60.0
"""The ranks' process-group timeout: joining and every collective."""
DEADLINE_S = 300.0
"""The most a scenario may take before its processes are killed and the test fails (a hang
guard: generous, for a loaded two-core machine)."""
STEPS = 3
"""Steps of the runs whose weights are compared across the ranks."""
ONE_STEP_TASKS = ("charlm", "timeseries", "names", "gradflow")
"""Tasks whose loss is a mean over equal rows, so one DDP step is exactly one step of the batch
(gradflow's first step is probed, past DDP, with the gradients averaged by hand)."""


# -- what the ranks run -------------------------------------------------------------------------


def _config(task: str, dataset: str, arch: str | None = None, **overrides: Any) -> Any:
    """A tiny config on the CPU with a step event per step and no quick evaluations."""
    sizes = dict(SIZES.get(task, TINY))
    if arch == "numpy-rnn":
        sizes.pop("batch")
    values = sizes | {"log_every_s": 0.0, "eval_every_s": 1e9, "device": "cpu"} | overrides
    return default_config(task, arch, dataset=dataset, **values)


def _train(trainer: Trainer, stop_at: int | None = None) -> list[Any]:
    """The run's events (none on rank 1); rank 0 stops it after step `stop_at`."""
    stop = threading.Event()
    events = []
    for event in trainer.run(stop):
        events.append(event)
        if event.kind == "step" and event.step == stop_at:
            stop.set()
    return events


def _model(task: Any) -> Any:
    """The task's plain torch module."""
    return getattr(task, "engine", task).model


def _weights(task: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in _model(task).state_dict().items()}


def _rows(task: Any, batch: Any) -> int:
    if isinstance(batch, tuple):
        return len(batch[0])  # charlm: (x, y)
    return task.config.batch if isinstance(batch, int) else len(batch)  # gradflow: a number


def _full_batch(task: Any) -> Any:
    """The first batch of epoch 0 with --batch rows."""
    return next(b for b in task.batches(0) if _rows(task, b) == task.config.batch)


def _datasets(folder: Path) -> dict[str, str]:
    return json.loads((folder / "datasets.json").read_text())


def _in_step(me: World, folder: Path) -> None:
    """Every task (its default architecture) and every torch core of the char LM, a few steps
    each; each rank saves its weights. Then the one-line errors of numpy-rnn and of batches
    too small to split."""
    data = _datasets(folder)
    charlm = [a for a in TASKS["charlm"].archs if a not in ("numpy-rnn", TASKS["charlm"].archs[0])]
    for task, arch in [(t, None) for t in TASKS] + [("charlm", a) for a in charlm]:
        key = f"{task}-{arch or 'default'}"
        trained = create_task(_config(task, data[task], arch, epochs=50))
        _train(Trainer(trained, folder / key), stop_at=STEPS)
        torch.save(_weights(trained), folder / f"{key}.rank{me.rank}.pt")
    errors = {}
    for task, extra in (("charlm", {}), ("gradflow", {"problem": "copy"})):
        try:
            create_task(_config(task, data[task], "numpy-rnn", **extra))
        except ConfigError as exc:
            errors[task] = str(exc)
    try:
        Trainer(create_task(_config("charlm", data["charlm"], batch=1)), folder / "batch-1")
    except ConfigError as exc:
        errors["batch-1"] = str(exc)
    (folder / f"errors.rank{me.rank}.json").write_text(json.dumps(errors))


def _one_step(me: World, folder: Path) -> None:
    """One step of each `ONE_STEP_TASKS` task on this rank's shard of a whole batch."""
    data = _datasets(folder)
    for task in ONE_STEP_TASKS:
        config = _config(task, data[task], dropout=0.0, epochs=1)
        trained = create_task(config)
        trained.start_epoch(0)
        stats = trained.train_step(trained.shard(_full_batch(trained), me), config.lr)
        grads = {n: p.grad.clone() for n, p in _model(trained).named_parameters()
                 if p.grad is not None}  # fmt: skip
        torch.save(
            {"weights": _weights(trained), "grads": grads, "loss": stats.loss,
             "norm": stats.grad_norm},
            folder / f"{task}.rank{me.rank}.pt",
        )  # fmt: skip


def _runs(me: World, folder: Path) -> None:
    """The char LM (dropout on) for two epochs: straight; stopped after an epoch and a step,
    then resumed; stopped the same way and left (the test resumes it alone); and the test's
    run of one process resumed here under two."""
    config = _config("charlm", _datasets(folder)["charlm"], epochs=2, dropout=0.2)
    first = create_task(config)
    stop_at = len(first.batches(0)) + 1
    found = {"straight": _train(Trainer(first, folder / "straight"))}
    _train(Trainer(create_task(config), folder / "resumed"), stop_at=stop_at)
    found["resumed"] = _train(Trainer.resume(folder / "resumed"))
    _train(Trainer(create_task(config), folder / "to-one"), stop_at=stop_at)
    found["from-one"] = _train(Trainer.resume(folder / "from-one"))
    records = {name: [json.loads(e.to_json()) for e in events] for name, events in found.items()}
    (folder / f"events.rank{me.rank}.json").write_text(json.dumps(records))


SCENARIOS = {"in_step": _in_step, "one_step": _one_step, "runs": _runs}


def _rank_main(scenario: str, folder: Path) -> None:
    """One rank: join the others, run the scenario, leave."""
    from tasks.engine.distributed import close_world

    torch.set_num_threads(1)
    me = init_world("cpu", timeout_s=GROUP_TIMEOUT_S)
    try:
        SCENARIOS[scenario](me, folder)
    finally:
        gc.collect()  # a DDP model left in a reference cycle goes now, before its group
        close_world()  # (freed after the group, it can deadlock: `tui.cli.launch.end_rank`)


# -- starting them ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(scenario: str, folder: Path) -> None:
    """Run `scenario` in `RANKS` processes; fail with a rank's output if one fails or the
    scenario outlives `DEADLINE_S` (its processes are then killed).

    The port found free may be taken before rank 0 listens on it: then, and only then (rank 0
    fails before it has done anything), the scenario starts again on another port."""
    for _ in range(3):
        results = _spawn_once(scenario, folder, _free_port())
        if not any(code != 0 and "address already in use" in text.lower()
                   for code, text in results):  # fmt: skip
            break
    for rank, (code, text) in enumerate(results):
        assert code == 0, f"{scenario} rank {rank}: exit {code}\n{text[-4000:]}"


def _spawn_once(scenario: str, folder: Path, port: int) -> list[tuple[int | None, str]]:
    """Each rank's exit status and output."""
    env = {
        **os.environ,
        "WORLD_SIZE": str(RANKS),
        "LOCAL_WORLD_SIZE": str(RANKS),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "OMP_NUM_THREADS": "1",
        "RNN_TUI_HOME": str(folder / "home"),
        "RNN_TUI_CACHE": str(folder / "cache"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
    }
    env.pop("RNN_TUI_DATA", None)
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    procs, logs = [], []
    for rank in range(RANKS):
        log = (folder / f"{scenario}.rank{rank}.log").open("w")
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [sys.executable, __file__, scenario, str(folder)],
                env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        )
    deadline = time.monotonic() + DEADLINE_S
    try:  # until all have ended, one has failed (the others would wait for it) or the deadline
        while time.monotonic() < deadline and not all(p.poll() == 0 for p in procs):
            if any(p.poll() not in (None, 0) for p in procs):
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                next(p for p in procs if p.poll() is None).wait(timeout=1.0)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
    return [
        (proc.returncode, (folder / f"{scenario}.rank{rank}.log").read_text())
        for rank, proc in enumerate(procs)
    ]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each task's synthetic dataset, written once for all the ranks."""
    root = tmp_path_factory.mktemp("data")
    paths = {}
    for task in TASKS:
        (root / task).mkdir()
        paths[task] = BUILDERS[task](root / task)
    return paths


def _scenario_folder(tmp_path_factory: pytest.TempPathFactory, name: str, data: dict) -> Path:
    folder = tmp_path_factory.mktemp(name)
    (folder / "datasets.json").write_text(json.dumps(data))
    return folder


@pytest.fixture(scope="module")
def in_step(tmp_path_factory: pytest.TempPathFactory, data: dict[str, str]) -> Path:
    folder = _scenario_folder(tmp_path_factory, "in_step", data)
    _spawn("in_step", folder)
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, data: dict[str, str]) -> dict[str, Any]:
    """The `_runs` scenario, with a run of one process stopped before it (resumed there under
    two) and one of its stopped runs resumed here alone after it."""
    folder = _scenario_folder(tmp_path_factory, "runs", data)
    config = _config("charlm", data["charlm"], epochs=2, dropout=0.2)
    task = create_task(config)
    stop_at = len(task.batches(0)) + 1
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RNN_TUI_HOME", str(folder / "home"))
        patch.setenv("RNN_TUI_CACHE", str(folder / "cache"))
        _train(Trainer(task, folder / "from-one"), stop_at=stop_at)
        _spawn("runs", folder)
        alone = _train(Trainer.resume(folder / "to-one"))
    ranks = [json.loads((folder / f"events.rank{r}.json").read_text()) for r in range(RANKS)]
    return {"folder": folder, "ranks": ranks, "alone": alone, "stop_at": stop_at, "config": config}


def _model_metrics(finished: dict[str, Any]) -> dict[str, float]:
    assert finished["event"] == "finished" and not finished["stopped"], finished
    return {
        k: v for k, v in finished["metrics"].items() if k not in ("wall_s", "train_tokens_per_s")
    }


def _flat(state: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(state, dict):
        return {
            k: v for key, sub in state.items() for k, v in _flat(sub, f"{prefix}{key}.").items()
        }
    if isinstance(state, (list, tuple)):
        return {k: v for i, sub in enumerate(state) for k, v in _flat(sub, f"{prefix}{i}.").items()}
    return {prefix: state}


def _assert_same(a: Any, b: Any) -> None:
    left, right = _flat(a), _flat(b)
    assert left.keys() == right.keys()
    for key, value in left.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, right[key]), key
        else:
            assert value == right[key], key


# -- one process: the pure parts --------------------------------------------------------------


def test_alone_the_world_is_one_process_and_the_collectives_return_their_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert world() == World() and world().main and init_world("cpu") == World()
    assert share([1.0, 2.0], [3.0]) == ([1.0, 2.0], [3.0])
    assert all_reduce_sum({"b": 2.0, "a": 1.0}) == {"a": 1.0, "b": 2.0}
    assert all_reduce_mean({"a": 3.0}) == {"a": 3.0}
    assert broadcast_flag(True) and not any_flag(False)
    assert gather_objects("x") == ["x"]


def test_the_world_comes_from_torchruns_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"}.items():
        monkeypatch.setenv(name, value)
    me = world()
    assert (me.rank, me.size, me.local_rank, me.backend, me.main) == (3, 4, 1, "", False)


def test_backends_by_device() -> None:
    assert [backend_for(d) for d in ("cpu", "cuda", "cuda:1")] == ["gloo", "nccl", "nccl"]
    with pytest.raises(DistributedError, match="--device mps cannot train in several"):
        backend_for("mps")


def test_shards_are_contiguous_and_as_equal_as_can_be() -> None:
    assert [shard_rows(8, r, 2) for r in range(2)] == [slice(0, 4), slice(4, 8)]
    shards = [shard_rows(7, r, 3) for r in range(3)]
    assert shards == [slice(0, 3), slice(3, 5), slice(5, 7)]
    with pytest.raises(ShardError, match="a batch of 1 rows cannot be split among 2"):
        shard_rows(1, 1, 2)


def test_a_task_without_shards_trains_in_one_process_only() -> None:
    with pytest.raises(ConfigError, match="charlm cannot train in several processes"):
        CountingTask(epochs=1, per_epoch=2, tokens=1).shard(0, World(0, 2, 0, "gloo"))


# -- two processes ------------------------------------------------------------------------------


def test_after_some_steps_every_rank_holds_the_same_weights(in_step: Path) -> None:
    """Every task and every torch core of the char LM: the ranks trained on different rows
    (`test_one_ddp_step_is_one_step_of_the_whole_batch`) and ended with equal weights."""
    keys = sorted(p.name.removesuffix(".rank0.pt") for p in in_step.glob("*.rank0.pt"))
    assert len(keys) == len(TASKS) + len(TASKS["charlm"].archs) - 2
    for key in keys:
        ranks = [torch.load(in_step / f"{key}.rank{r}.pt") for r in range(RANKS)]
        assert ranks[0].keys() == ranks[1].keys()
        for name, tensor in ranks[0].items():
            assert torch.equal(tensor, ranks[1][name]), f"{key}: {name} differs across ranks"
        assert load_checkpoint(in_step / key / "last.pt")["step"] == STEPS, key


def test_numpy_rnn_and_batches_smaller_than_the_ranks_are_one_line_errors(in_step: Path) -> None:
    for rank in range(RANKS):
        errors = json.loads((in_step / f"errors.rank{rank}.json").read_text())
        assert (
            errors["charlm"]
            == errors["gradflow"]
            == ("--arch numpy-rnn trains in one process (NumPy, no DDP): use --nproc 1")
        )
        assert errors["batch-1"].startswith(
            "2 processes are more than the rows of any batch of this data (--batch 1)"
        )
        assert all("\n" not in e for e in errors.values())


def test_one_ddp_step_is_one_step_of_the_whole_batch(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, str]
) -> None:
    folder = _scenario_folder(tmp_path_factory, "one_step", data)
    _spawn("one_step", folder)
    for task in ONE_STEP_TASKS:
        config = _config(task, data[task], dropout=0.0, epochs=1)
        alone = create_task(config)
        alone.start_epoch(0)
        stats = alone.train_step(_full_batch(alone), config.lr)
        ranks = [torch.load(folder / f"{task}.rank{r}.pt") for r in range(RANKS)]
        assert ranks[0]["loss"] != ranks[1]["loss"], f"{task}: the ranks saw the same rows"
        mean = sum(r["loss"] for r in ranks) / RANKS
        assert mean == pytest.approx(stats.loss, rel=1e-5), task
        assert ranks[0]["norm"] == pytest.approx(stats.grad_norm, rel=1e-4), task
        grads = {n: p.grad for n, p in _model(alone).named_parameters() if p.grad is not None}
        assert ranks[0]["grads"].keys() == grads.keys(), task
        for name, grad in grads.items():
            torch.testing.assert_close(ranks[0]["grads"][name], grad, rtol=1e-4, atol=1e-7)
        for name, weight in _weights(alone).items():
            torch.testing.assert_close(ranks[0]["weights"][name], weight, rtol=1e-5, atol=1e-6)


def test_rank_zero_alone_writes_the_run(runs: dict[str, Any]) -> None:
    folder, (main, other) = runs["folder"], runs["ranks"]
    assert all(events == [] for events in other.values())  # the other rank yields nothing
    run = folder / "straight"
    assert sorted(p.name for p in run.iterdir()) == [
        "best.pt", "history.jsonl", "last.pt", "summary.json",
    ]  # fmt: skip
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [r["event"] for r in history] == [e["event"] for e in main["straight"][1:]]
    assert main["straight"][0]["world_size"] == RANKS
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["status"], summary["world_size"]) == ("finished", RANKS)
    saved = load_checkpoint(run / "last.pt")
    assert saved["world_size"] == RANKS and len(saved["rng_ranks"]) == RANKS
    assert not torch.equal(*saved["rng_ranks"])  # each rank draws its own dropout noise
    alone = create_task(runs["config"]).engine.model.rnn.initial_state(runs["config"].batch)
    whole = [t.shape for t in flatten_state(alone)]
    assert [t.shape for t in saved["task_state"]["carry"]] == whole  # every stream's state


def test_a_stopped_run_resumes_to_the_end_of_a_straight_one(runs: dict[str, Any]) -> None:
    folder, main = runs["folder"], runs["ranks"][0]
    resumed = main["resumed"]
    assert resumed[0]["resumed_from_step"] == runs["stop_at"]
    assert "note" not in [e["event"] for e in resumed]  # the same processes: nothing to say
    assert _model_metrics(resumed[-1]) == _model_metrics(main["straight"][-1])
    ends = [load_checkpoint(folder / name / "last.pt") for name in ("straight", "resumed")]
    assert ends[0]["step"] == ends[1]["step"]
    _assert_same(ends[0]["task_state"], ends[1]["task_state"])
    _assert_same(ends[0]["rng_ranks"], ends[1]["rng_ranks"])


def test_a_resume_under_another_number_of_processes_says_so(runs: dict[str, Any]) -> None:
    folder = runs["folder"]
    moved = runs["ranks"][0]["from-one"]
    alone = [json.loads(e.to_json()) for e in runs["alone"]]
    for events, now, then in ((moved, 2, "1 process"), (alone, 1, "2 processes")):
        notes = [e["text"] for e in events if e["event"] == "note"]
        where = "2 processes" if now == 2 else "1 process"
        assert len(notes) == 1 and notes[0].startswith(f"resumed under {where}, saved under {then}")
        assert events[0]["world_size"] == now
        assert math.isfinite(_model_metrics(events[-1])["val_loss"])
    assert load_checkpoint(folder / "from-one" / "last.pt")["world_size"] == 2
    assert load_checkpoint(folder / "to-one" / "last.pt")["world_size"] == 1


if __name__ == "__main__":
    _rank_main(sys.argv[1], Path(sys.argv[2]))
