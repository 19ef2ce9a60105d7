"""Generation: the NumPy batch-1 fast path equals the torch model, a modern core's `step`
continues its `forward`, and streams are seeded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.charlm import CharRNN
from models.numpy_rnn import VanillaRNN
from models.stepper import CoreStepper, make_stepper
from tasks.charlm.sampling import STRATEGIES
from tasks.charlm.task import CharLMTask
from tasks.engine.player import load_player
from tasks.engine.trainer import Trainer
from tasks.registry import default_config


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_stepper_matches_the_torch_model(cell: str) -> None:
    torch.manual_seed(0)
    model = CharRNN(vocab_size=13, embed=6, hidden=9, layers=3, arch=cell).eval()
    ids = torch.randint(0, 13, (1, 20))
    with torch.no_grad():
        logits, _ = model(ids)  # (1, 20, V)
    stepper = make_stepper(cell, model.state_dict())
    state = None
    for t, ix in enumerate(ids[0].tolist()):
        step_logits, state = stepper.step(ix, state)
        np.testing.assert_allclose(step_logits, logits[0, t].numpy(), atol=1e-5)


def test_numpy_rnn_stepper_matches_step_logits() -> None:
    rnn = VanillaRNN(vocab_size=10, hidden_size=8, seed=1)
    stepper = make_stepper("numpy-rnn", rnn.state_dict())
    h, state = None, None
    for ix in [1, 4, 2, 9, 0]:
        expected, h = rnn.step_logits(ix, h)
        got, state = stepper.step(ix, state)
        np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.fixture
def checkpoint(small_text: Path, tmp_path: Path) -> Path:
    config = default_config(
        "charlm", "gru", dataset=str(small_text), hidden=24, layers=1, embed=8, batch=8,
        seq_len=32, epochs=1,
    )  # fmt: skip
    for _ in Trainer(CharLMTask(config), tmp_path / "run").run():
        pass
    return tmp_path / "run" / "last.pt"


def test_streams_are_seeded_and_probabilities_valid(checkpoint: Path) -> None:
    gen = load_player(checkpoint, "charlm")

    def text(**kw) -> list[tuple[str, float]]:
        return list(gen.stream(prime="The ", length=60, **kw))

    assert text(strategy="top-p", p=0.9, seed=5) == text(strategy="top-p", p=0.9, seed=5)
    assert text(strategy="sample", seed=1) != text(strategy="sample", seed=2)
    greedy = text(strategy="greedy")
    assert greedy == text(strategy="greedy", seed=99)
    assert all(0 < p <= 1 for _, p in greedy + text(strategy="top-k", k=3))
    assert all(c in gen.vocab.chars for c, _ in greedy)


def test_greedy_picks_the_most_likely_character(checkpoint: Path) -> None:
    gen = load_player(checkpoint, "charlm")
    logits, _ = gen.stepper.read(gen.vocab.encode("First "))
    first, _ = next(iter(gen.stream(prime="First ", length=1, strategy="greedy")))
    assert first == gen.vocab.chars[int(np.argmax(logits))]


@pytest.mark.parametrize(
    ("arch", "core"),
    [("mingru", {}), ("lru", {}), ("mlstm", {"heads": 2}), ("s6", {}), ("lstm", {})],
)
def test_core_generation_by_step_is_the_greedy_forward_continuation(arch: str, core: dict) -> None:
    """Greedy text from `CoreStepper` (prime read by one forward, then `step`) equals the
    argmax continuation recomputed with a full forward over everything so far, every step."""
    torch.manual_seed(0)
    model = CharRNN(13, embed=6, hidden=8, layers=2, arch=arch, block=True, **core).eval()
    stepper = CoreStepper(model)
    ids = [3, 7, 1, 12]
    logits, state = stepper.read(ids)
    stepped = []
    for _ in range(12):
        stepped.append(int(np.argmax(logits)))
        logits, state = stepper.step(stepped[-1], state)
    expected = list(ids)
    with torch.no_grad():
        for _ in range(13):
            full, _ = model(torch.tensor([expected]))  # (1, T, V)
            expected.append(int(full[0, -1].argmax()))
    assert stepped == expected[len(ids) : -1]
    np.testing.assert_allclose(logits, full[0, -1].numpy(), atol=1e-5)  # after the last step


def test_core_read_many_is_each_prime_read_alone() -> None:
    """Right-padded primes in one forward with their lengths give each prime's own logits and
    state (the batch then steps as one)."""
    torch.manual_seed(0)
    stepper = CoreStepper(CharRNN(13, embed=6, hidden=8, layers=2, arch="minlstm", block=True))
    primes = [[1, 2, 3, 4, 5], [6], [7, 8, 9]]
    logits, state = stepper.read_many(primes)
    after, _ = stepper.step_many(np.array([0, 1, 2]), state)
    for b, prime in enumerate(primes):
        alone, alone_state = stepper.read(prime)
        np.testing.assert_allclose(logits[b], alone, atol=1e-5)
        np.testing.assert_allclose(after[b], stepper.step(b, alone_state)[0], atol=1e-5)


@pytest.fixture
def mingru_checkpoint(small_text: Path, tmp_path: Path) -> Path:
    config = default_config(
        "charlm", "mingru", dataset=str(small_text), hidden=16, layers=1, embed=8, batch=8,
        seq_len=32, epochs=1, threads=1,
    )  # fmt: skip
    for _ in Trainer(CharLMTask(config), tmp_path / "run").run():
        pass
    return tmp_path / "run" / "last.pt"


def test_modern_checkpoint_generates_with_every_strategy(mingru_checkpoint: Path) -> None:
    gen = load_player(mingru_checkpoint, "charlm", length=20)
    assert isinstance(gen.stepper, CoreStepper) and gen.config.block
    for strategy in STRATEGIES:
        chars = list(gen.stream(prime="ROMEO:", length=20, strategy=strategy, k=3, p=0.9, seed=4))
        assert len(chars) == 20 and all(c in gen.vocab.chars and 0 < p <= 1 for c, p in chars)
        assert chars == list(gen.stream("ROMEO:", 20, strategy, k=3, p=0.9, seed=4))
    logits, _ = gen.stepper.read(gen.vocab.encode("First "))
    first, _ = next(iter(gen.stream(prime="First ", length=1, strategy="greedy")))
    assert first == gen.vocab.chars[int(np.argmax(logits))]
