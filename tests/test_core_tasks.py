"""The modern cores in the char LM and the forecaster: exact resume with the carried state of
any core (nested, complex), the classic carry's checkpoint format, a forecast through the player.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from engine_fixtures import engine_config
from test_trainer import assert_same_state, model_metrics, run_all

from models.cores.stack import CoreStack, flatten_state
from tasks.engine.checkpoint import CheckpointError, load_checkpoint
from tasks.engine.player import load_player
from tasks.engine.trainer import Trainer
from tasks.registry import create_task


@pytest.mark.parametrize("arch", ["mingru", "lru"])
def test_charlm_resume_mid_epoch_is_exact(tmp_path: Path, arch: str) -> None:
    """Stopped mid-epoch (a state carried between chunks) and resumed: a straight run's end."""
    config = engine_config("charlm", tmp_path, arch, epochs=2)
    straight = run_all(Trainer(create_task(config), tmp_path / "straight"))
    k = straight[0].steps_per_epoch + 1
    run_all(
        Trainer(create_task(config), tmp_path / "resumed"),
        stop_when=lambda e: e.kind == "step" and e.step == k,
    )
    saved = load_checkpoint(tmp_path / "resumed" / "last.pt")  # torch.load(weights_only=True)
    carry = saved["task_state"]["carry"]
    assert saved["step"] == k and carry
    assert all(t.is_complex() for t in carry) == (arch == "lru")  # LRU's state is complex
    resumed = run_all(Trainer.resume(tmp_path / "resumed"))
    assert resumed[0].resumed_from_step == k
    assert model_metrics(resumed[-1]) == model_metrics(straight[-1])
    ends = [load_checkpoint(tmp_path / run / "last.pt") for run in ("straight", "resumed")]
    assert_same_state(ends[0]["task_state"], ends[1]["task_state"])


@pytest.mark.parametrize(("arch", "parts"), [("gru", 1), ("lstm", 2)])
def test_classic_carry_keeps_the_checkpoint_format(tmp_path: Path, arch: str, parts: int) -> None:
    """A classic cell stores its carry as before: h, or h and c, each (L, B, H)."""
    config = engine_config("charlm", tmp_path, arch)
    task = create_task(config)
    task.start_epoch(0)
    task.train_step(task.batches(0)[0], lr=config.lr)
    state = task.state_dict()
    assert [tuple(t.shape) for t in state["carry"]] == [(1, config.batch, config.hidden)] * parts
    other = create_task(config)
    other.load_state_dict(state)
    assert isinstance(other.engine.carry, tuple) == (parts == 2)
    assert all(map(torch.equal, flatten_state(other.engine.carry), state["carry"]))
    with pytest.raises(CheckpointError, match="carried state"):
        other.load_state_dict(state | {"carry": state["carry"] * 2})


def test_modern_forecaster_gives_the_recorded_test_rmse(tmp_path: Path) -> None:
    """One-step forecasts through the player of a minGRU checkpoint reproduce its test RMSE."""
    config = engine_config("timeseries", tmp_path, "mingru", epochs=1)
    run_all(Trainer(create_task(config), tmp_path / "run"))
    player = load_player(tmp_path / "run" / "last.pt", "timeseries", horizon=1)
    assert isinstance(player.task.model.rnn, CoreStack)
    test = range(player.task.split.test_start, len(player.series))
    forecasts = list(player.answer_many([str(t - 1) for t in test]))
    errors = [f.values[0] - f.actual[0] for f in forecasts]
    rmse = math.sqrt(sum(e * e for e in errors) / len(errors))
    assert rmse == pytest.approx(player.metrics["test_rmse"], abs=1e-4)
    assert any(f.values[0] != f.persistence[0] for f in forecasts)  # the core changed something


@pytest.mark.parametrize("arch", ["mlstm", "slstm"])
def test_nan_from_exponential_gating_keeps_the_last_good_checkpoint(
    tmp_path: Path, arch: str
) -> None:
    """An input gate driven to +inf after the first epoch (exp(ĩ - m) = exp(inf - inf) = NaN):
    the run fails with the NaN named, and last.pt still holds the first epoch's finite weights."""
    config = engine_config("charlm", tmp_path, arch, epochs=3)
    task = create_task(config)
    poisoned = []

    def poison(event) -> bool:
        if event.kind == "checkpoint" and event.reason == "epoch" and not poisoned:
            with torch.no_grad():
                for name, p in task.engine.model.named_parameters():
                    if name.endswith(("gates.weight", "linear.weight")):
                        p.fill_(math.inf)
                        poisoned.append(name)
        return False

    events = run_all(Trainer(task, tmp_path / "run"), stop_when=poison)
    assert poisoned and events[-1].kind == "failed"
    assert "nan" in events[-1].reason.lower()
    good = load_checkpoint(events[-1].checkpoint)
    assert good["epoch"] == 1
    weights = good["task_state"]["model"].values()
    assert all(torch.isfinite(v).all() for v in weights if v.is_floating_point())


def test_indrnn_in_the_char_lm_cannot_grow_along_the_endless_stream(tmp_path: Path) -> None:
    """The char LM carries the state over the whole text: IndRNN's |u| is kept at <= 1 there
    (elsewhere a sequence ends after seq_len steps and u may exceed 1 by the horizon bound),
    and u starts across [0, 1], not all near 1 (units that sum the whole stream never learn)."""
    from models.cores.indrnn import IndRNN

    lm = create_task(engine_config("charlm", tmp_path, "indrnn", epochs=1))
    cores = [m for m in lm.engine.model.modules() if isinstance(m, IndRNN)]
    assert cores and all(core.u_max == 1.0 for core in cores)
    u = torch.cat([core.u.detach() for core in cores])
    assert 0 <= u.min() < 0.25 and 0.75 < u.max() <= 1
    series = create_task(engine_config("timeseries", tmp_path, "indrnn", epochs=1))
    cores = [m for m in series.model.modules() if isinstance(m, IndRNN)]
    assert cores and all(core.u_max > 1.0 for core in cores)
