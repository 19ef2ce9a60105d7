"""Every architecture entry: complete, and parameter counts that match the model (one training
step per (task, architecture) entry: tests/test_trainer.py)."""

from __future__ import annotations

import pytest

from models.registry import ARCHITECTURES, get_architecture


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
