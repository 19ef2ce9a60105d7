"""Every architecture entry: complete, and parameter counts that match the model (one training
step per (task, architecture) entry: tests/test_trainer.py)."""

from __future__ import annotations

import pytest

from models.registry import ARCHITECTURES, get_architecture


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_architecture_entries_are_complete(arch: str) -> None:
    entry = ARCHITECTURES[arch]
    assert entry.title and entry.summary and entry.update_equations() and entry.defaults
    assert "\n" not in entry.summary
    if entry.modern:  # the equations are the core's own docstring, and it runs every scan named
        from importlib import import_module

        assert entry.paper and entry.scans[0] == "sequential"
        from models.equations import equations_block

        doc = import_module(entry.module).__doc__
        assert "_t = " in entry.update_equations()
        assert entry.update_equations() == equations_block(doc)


@pytest.mark.parametrize("arch", [a for a in ARCHITECTURES if ARCHITECTURES[a].modern])
@pytest.mark.parametrize("block", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_modern_parameter_count_matches_the_built_layers(
    arch: str, block: bool, bidirectional: bool
) -> None:
    entry = get_architecture(arch)
    layers = entry.build_layers(16, 16, 2, bidirectional=bidirectional, block=block)
    expected = sum(p.numel() for p in layers.parameters())
    assert entry.parameter_count(16, 16, 2, bidirectional, block=block) == expected
    assert set(layers.scans) == set(entry.scans)


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
