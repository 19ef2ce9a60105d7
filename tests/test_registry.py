"""Every registry entry: a one-step smoke test, and parameter counts that match the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.registry import ARCHITECTURES, get_architecture
from tasks.charlm import CharLMTask
from tasks.registry import TASKS, default_config


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_architecture_entries_are_complete(arch: str) -> None:
    entry = ARCHITECTURES[arch]
    assert entry.title and entry.summary and entry.equations and entry.defaults
    assert "\n" not in entry.summary


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_registry_parameter_count_matches_the_module(arch: str, bidirectional: bool) -> None:
    entry = get_architecture(arch)
    core = entry.build(input_size=7, hidden_size=5, num_layers=3, bidirectional=bidirectional)
    expected = sum(p.numel() for p in core.parameters())
    assert entry.parameter_count(7, 5, 3, bidirectional) == expected


def test_numpy_rnn_parameter_count() -> None:
    entry = get_architecture("numpy-rnn")
    rnn = entry.build(vocab_size=11, hidden_size=6)
    head = 11 * 6 + 11  # Why, by belong to the task's output head
    assert entry.parameter_count(11, 6) + head == rnn.num_parameters


def test_unknown_architecture_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="choose one of: numpy-rnn, rnn, lstm, gru"):
        get_architecture("tcn")


CHARLM_CASES = [(arch, "fused") for arch in TASKS["charlm"].archs] + [
    (arch, "scratch") for arch in ("rnn", "lstm", "gru")
]


@pytest.mark.parametrize(("arch", "backend"), CHARLM_CASES)
def test_one_training_step_per_entry(small_text: Path, arch: str, backend: str) -> None:
    """pytorch/examples' `--epochs 1 --dry-run`: every entry builds, steps and evaluates."""
    sizes = {} if arch == "numpy-rnn" else {"hidden": 16, "layers": 2, "embed": 8, "batch": 4}
    config = default_config("charlm", arch, dataset=str(small_text), backend=backend,
                            seq_len=16, **sizes)  # fmt: skip
    task = CharLMTask(config)
    task.start_epoch(0)
    batch = task.batches(0)[0]
    stats = task.train_step(batch, lr=config.lr)
    assert stats.loss > 0 and stats.grad_norm > 0 and stats.tokens == config.batch * 16
    assert task.evaluate(quick=True)["val_loss"] > 0
    assert task.parameter_count() > 0
