"""Sampling from logits: greedy, temperature, top-k, top-p."""

from __future__ import annotations

import math

import pytest
import torch

from tasks.charlm.sampling import STRATEGIES, filter_top_k, filter_top_p, sample_next


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _logits(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=_gen(seed)) * 3


@pytest.mark.parametrize("temperature", [0.0, 0.1, 1.0, 5.0])
def test_greedy_is_argmax_whatever_the_temperature(temperature: float) -> None:
    logits = _logits((8, 50))
    index, prob = sample_next(logits, "greedy", temperature=temperature)
    assert index.shape == (8,) and index.dtype == torch.long
    assert torch.equal(index, logits.argmax(-1))
    expected = torch.softmax(logits, -1).amax(-1)
    assert torch.allclose(prob, expected)


def test_shapes_for_one_row_and_a_batch() -> None:
    for strategy in STRATEGIES:
        index, prob = sample_next(_logits((30,)), strategy, k=5, p=0.9, generator=_gen())
        assert index.shape == () and prob.shape == ()
        index, prob = sample_next(_logits((4, 30)), strategy, k=5, p=0.9, generator=_gen())
        assert index.shape == (4,) and prob.shape == (4,)
        assert ((prob > 0) & (prob <= 1)).all()


@pytest.mark.parametrize("strategy", ["sample", "top-k", "top-p"])
def test_seeded_sampling_is_reproducible(strategy: str) -> None:
    logits = _logits((16, 40))
    kwargs = {"temperature": 1.3, "k": 10, "p": 0.8}
    a = [sample_next(logits, strategy, generator=_gen(7), **kwargs)[0] for _ in range(2)]
    assert torch.equal(a[0], a[1])
    g = _gen(7)
    seq1 = [sample_next(logits[0], strategy, generator=g, **kwargs)[0].item() for _ in range(20)]
    g = _gen(7)
    seq2 = [sample_next(logits[0], strategy, generator=g, **kwargs)[0].item() for _ in range(20)]
    assert seq1 == seq2


def test_top_k_never_leaves_the_top_k() -> None:
    logits = _logits((2000, 30), seed=1)
    index, _ = sample_next(logits, "top-k", temperature=3.0, k=4, generator=_gen())
    top4 = logits.topk(4, dim=-1).indices
    assert (top4 == index.unsqueeze(-1)).any(-1).all()


def test_filter_top_k_keeps_exactly_k() -> None:
    logits = torch.tensor([[1.0, 5.0, 3.0, 3.0, -2.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    out = filter_top_k(logits, 2)
    assert torch.isfinite(out).sum(-1).tolist() == [2, 2]
    assert out[0, 1] == 5.0
    assert torch.isfinite(out[0, 2:4]).sum() == 1  # one of the tied 3.0s, not both
    assert torch.equal(filter_top_k(logits, 99), logits)  # k > V keeps everything
    assert torch.isfinite(logits).all()  # input untouched


def test_filter_top_p_keeps_the_smallest_nucleus() -> None:
    probs = torch.tensor([0.05, 0.5, 0.15, 0.3])
    logits = probs.log()
    kept = lambda p: torch.isfinite(filter_top_p(logits, p)).nonzero().flatten().tolist()  # noqa: E731
    assert kept(0.2) == [1]
    assert kept(0.7) == [1, 3]
    assert kept(0.9) == [1, 2, 3]
    assert kept(1.0) == [0, 1, 2, 3]
    batch = torch.stack([logits, logits.flip(0)])
    out = filter_top_p(batch, 0.7)
    assert torch.isfinite(out).nonzero().tolist() == [[0, 1], [0, 3], [1, 0], [1, 2]]


def test_top_p_with_small_p_returns_the_top_token() -> None:
    logits = _logits((500, 20), seed=2)
    index, prob = sample_next(logits, "top-p", temperature=2.0, p=1e-6, generator=_gen())
    assert torch.equal(index, logits.argmax(-1))
    assert torch.allclose(prob, torch.ones_like(prob))


def test_top_p_keeps_the_top_token_even_when_it_alone_exceeds_p() -> None:
    logits = torch.tensor([10.0, 0.0, 0.0])
    assert torch.isfinite(filter_top_p(logits, 0.5)).tolist() == [True, False, False]


def _frequencies(index: torch.Tensor, vocab: int) -> torch.Tensor:
    return torch.bincount(index, minlength=vocab).float() / index.numel()


@pytest.mark.parametrize("temperature", [0.7, 1.0, 1.5])
def test_sampled_frequencies_match_the_softmax(temperature: float) -> None:
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
    n = 40_000
    index, prob = sample_next(
        logits.expand(n, -1), "sample", temperature=temperature, generator=_gen(3)
    )
    expected = torch.softmax(logits / temperature, -1)
    assert torch.allclose(_frequencies(index, 5), expected, atol=0.01)
    assert torch.allclose(prob, expected[index])


def test_top_k_frequencies_are_the_renormalised_top_k() -> None:
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
    n = 40_000
    index, prob = sample_next(logits.expand(n, -1), "top-k", k=2, generator=_gen(4))
    expected = torch.zeros(5)
    expected[:2] = torch.softmax(logits[:2], -1)
    assert torch.allclose(_frequencies(index, 5), expected, atol=0.01)
    assert torch.allclose(prob, expected[index])


def test_banned_tokens_are_never_sampled() -> None:
    logits = torch.tensor([0.0, -math.inf, 0.0, -math.inf])
    index, _ = sample_next(logits.expand(1000, -1), "sample", generator=_gen())
    assert set(index.tolist()) <= {0, 2}


def test_tiny_temperature_behaves_like_greedy() -> None:
    logits = _logits((50, 10), seed=5)
    index, _ = sample_next(logits, "sample", temperature=1e-30, generator=_gen())
    assert torch.equal(index, logits.argmax(-1))


def test_half_precision_logits() -> None:
    logits = _logits((3, 10)).half()
    index, prob = sample_next(logits, "top-p", p=0.9, generator=_gen())
    assert index.shape == (3,) and prob.dtype == torch.float32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strategy": "beam"}, "unknown strategy 'beam'"),
        ({"strategy": "sample", "temperature": 0.0}, "temperature must be"),
        ({"strategy": "top-k", "temperature": -1.0, "k": 3}, "temperature must be"),
        ({"strategy": "sample", "temperature": math.nan}, "temperature must be"),
        ({"strategy": "top-k"}, "k to be an integer >= 1"),
        ({"strategy": "top-k", "k": 0}, "k to be an integer >= 1"),
        ({"strategy": "top-k", "k": 2.5}, "k to be an integer >= 1"),
        ({"strategy": "top-p"}, r"p in \(0, 1\]"),
        ({"strategy": "top-p", "p": 0.0}, r"p in \(0, 1\]"),
        ({"strategy": "top-p", "p": 1.5}, r"p in \(0, 1\]"),
        ({"strategy": "greedy", "k": -1}, "k to be an integer >= 1"),
    ],
)
def test_invalid_arguments_raise_value_error(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sample_next(torch.zeros(5), **kwargs)


@pytest.mark.parametrize(
    ("logits", "match"),
    [
        (torch.zeros(2, 3, 4), "got 3D"),
        (torch.zeros(()), "got 0D"),
        (torch.zeros(3, dtype=torch.long), "floating-point"),
        (torch.tensor([0.0, math.nan]), "NaN"),
        (torch.full((2, 3), -math.inf), "no finite entry"),
    ],
)
def test_bad_logits_raise_value_error(logits: torch.Tensor, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sample_next(logits, "sample")


def test_filters_validate_their_arguments() -> None:
    with pytest.raises(ValueError, match="k to be an integer"):
        filter_top_k(torch.zeros(4), 0)
    with pytest.raises(ValueError, match=r"p in \(0, 1\]"):
        filter_top_p(torch.zeros(4), 0.0)
