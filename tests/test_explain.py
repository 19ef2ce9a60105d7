"""Sentiment explanations: integrated gradients (completeness), a planted deciding token, the
faithfulness check and the hidden-state trajectories, on tiny random models."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from tasks.data.text import PAD, UNK
from tasks.engine.classification import build_classifier
from tasks.engine.player import InputError
from tasks.registry import default_config
from tasks.sentiment.explain import (
    METHODS,
    faithfulness,
    review_drops,
    saliency,
    trajectories,
)
from tasks.sentiment.player import SentimentPredictor

WORDS = ("the", "film", "plot", "was", "and", "a", "great", "awful")
VOCAB = (PAD, UNK, *WORDS)
GREAT = VOCAB.index("great")
REVIEW = "the film was great and the plot"
REVIEWS = [REVIEW, "awful film", "a plot and a film was the awful plot", "the great plot was"]


def predictor(arch: str = "gru", seed: int = 0, **settings: Any) -> SentimentPredictor:
    """A randomly initialised classifier over `VOCAB`, as a checkpoint would load it."""
    config = default_config("sentiment", arch, dataset="reviews.csv", hidden=8, embed=8,
                            threads=1, **settings)  # fmt: skip
    torch.manual_seed(seed)
    model = build_classifier(config, len(VOCAB), 2)
    state = {"vocab": list(VOCAB), "tokenizer": "words", "best_model": model.state_dict()}
    return SentimentPredictor({"task_state": state}, config)


def difference(p: SentimentPredictor, x: torch.Tensor) -> float:
    """logit[positive] - logit[negative] for embeddings x (T, E)."""
    with torch.no_grad():
        logits, _ = p.model.forward_embedded(x.unsqueeze(0), torch.tensor([x.shape[0]]))
    return float(logits[0, 1] - logits[0, 0])


def embedded(p: SentimentPredictor, text: str) -> torch.Tensor:
    ids = torch.tensor(p.vocab.encode(text.split()))
    with torch.no_grad():
        return p.model.embedding(ids)


SHAPES = [
    ("lstm", {"bidirectional": True, "attention": True}),
    ("gru", {"layers": 2, "bidirectional": False, "attention": False}),
    ("rnn", {"bidirectional": True, "attention": False}),
    ("mingru", {"attention": True, "layers": 2, "bidirectional": False}),
    ("lru", {"bidirectional": True, "attention": True}),
]


@pytest.mark.parametrize(("arch", "settings"), SHAPES)
def test_integrated_gradients_add_up_to_the_logit_difference(
    arch: str, settings: dict[str, Any]
) -> None:
    p = predictor(arch, **settings)
    found = saliency(p, REVIEW, steps=256)
    x = embedded(p, REVIEW)
    sign = 1.0 if found.label == "positive" else -1.0
    expected = sign * (difference(p, x) - difference(p, torch.zeros_like(x)))
    assert abs(expected) > 1e-4
    assert math.isclose(sum(found.integrated_gradients), expected, rel_tol=0.02, abs_tol=1e-5)
    xt = x.clone().requires_grad_(True)  # gradient x input by hand
    logits, _ = p.model.forward_embedded(xt.unsqueeze(0), torch.tensor([len(x)]))
    (grad,) = torch.autograd.grad(sign * (logits[0, 1] - logits[0, 0]), xt)
    assert np.allclose(found.gradient_x_input, (x * grad).sum(-1).numpy(), rtol=1e-4, atol=1e-6)
    verdict = p.predict(REVIEW)
    assert found.tokens == [t[0] for t in verdict.tokens] == REVIEW.split()
    assert found.spans == [(t[1], t[2]) for t in verdict.tokens]
    assert math.isclose(found.positive, verdict.positive, rel_tol=1e-5)
    assert (found.attention is None) == (not settings["attention"])
    if found.attention is not None:
        assert np.allclose(found.attention, [t[3] for t in verdict.tokens], atol=1e-6)


def test_tokens_follow_truncation() -> None:
    found = saliency(predictor(seq_len=4), "the film was great and the plot was awful")
    assert found.tokens == ["the", "plot", "was", "awful"]  # the beginning and the end
    assert len(found.integrated_gradients) == len(found.gradient_x_input) == 4


def planted(arch: str) -> SentimentPredictor:
    """Every embedding and encoder bias zero but the embedding of "great", so that the other
    tokens leave the states at zero; the head is shifted and scaled so that the review is
    positive with "great" (p ~ 0.98) and negative without it."""
    p = predictor(arch, attention=True)
    model = p.model
    with torch.no_grad():
        model.embedding.weight.zero_()
        model.embedding.weight[GREAT] = 3 * torch.randn(model.embedding.weight.shape[1])
        for name, parameter in model.rnn.named_parameters():
            if "bias" in name:
                parameter.zero_()
        with_great = difference(p, embedded(p, REVIEW))
        without = difference(p, embedded(p, REVIEW.replace(" great", "")))
        if with_great < without:  # negated logits: "great" pushes towards positive
            model.head.weight.neg_()
            model.head.bias.neg_()
            with_great, without = -with_great, -without
        model.head.bias[1] -= (with_great + without) / 2
        scale = 8 / abs(with_great - without)
        model.head.weight *= scale
        model.head.bias *= scale
    return p


@pytest.mark.parametrize("arch", ["gru", "lru"])
def test_the_deciding_token_is_the_top_one_and_removing_it_costs_most(arch: str) -> None:
    p = planted(arch)
    found = saliency(p, REVIEW)
    assert found.label == "positive" and found.positive > 0.95
    assert found.tokens[int(np.argmax(found.integrated_gradients))] == "great"
    scores = dict(zip(found.tokens, found.integrated_gradients, strict=True))
    # a zero embedding has nothing to attribute
    assert [v for t, v in scores.items() if t != "great"] == [0.0] * 5
    drops = review_drops(p, REVIEW, k=1, seed=0)  # seed 0 draws token 5 ("the") at random
    assert np.random.default_rng(0).choice(7, size=1, replace=False).tolist() == [5]
    assert drops["integrated gradients"] > 0.9
    assert drops["integrated gradients"] == max(drops.values()) > drops["random"]


def test_faithfulness_means_the_review_drops_and_repeats_with_its_seed() -> None:
    p = predictor("lstm", attention=True, bidirectional=True)
    done: list[float] = []
    result = faithfulness(p, REVIEWS, k=2, seed=5, progress=done.append)
    assert result.k == 2 and result.reviews == 3  # "awful film" has only 2 tokens
    assert list(result.drop) == list(METHODS)
    assert done == [0.25, 0.5, 0.75, 1.0]
    rows = [review_drops(p, text, k=2, seed=5 + i) for i, text in enumerate(REVIEWS) if i != 1]
    for method in METHODS:
        assert math.isclose(result.drop[method], np.mean([r[method] for r in rows]), abs_tol=1e-7)
    assert faithfulness(p, REVIEWS, k=2, seed=5) == result
    without = faithfulness(predictor("mingru", attention=False), REVIEWS, k=2)
    assert list(without.drop) == [m for m in METHODS if m != "attention"]


def test_trajectories_project_every_token_read() -> None:
    p = predictor("gru", bidirectional=True, seq_len=5)
    result = trajectories(p, REVIEWS, [1, 0, 0, 1])
    assert [path.shape for path in result.paths] == [(5, 2), (2, 2), (5, 2), (4, 2)]
    assert all(path.dtype == np.float32 for path in result.paths) and result.labels == [1, 0, 0, 1]
    states = []  # each review alone, as the player reads it (truncated to 5 tokens)
    for text in REVIEWS:
        words = [t[0] for t in p.predict(text).tokens]
        x = embedded(p, " ".join(words)).unsqueeze(0)
        with torch.no_grad():
            states.append(p.model.encode(x, torch.tensor([x.shape[1]]))[0][0].numpy())
    centred = np.concatenate(states) - np.concatenate(states).mean(0)
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    ratios = singular**2 / (singular**2).sum()
    assert np.allclose(result.explained, ratios[:2], atol=1e-5)
    assert result.explained[0] >= result.explained[1] > 0
    projected = np.abs(centred @ directions[:2].T)  # the components up to their sign
    assert np.allclose(np.abs(np.concatenate(result.paths)), projected, atol=1e-4)


def one_line(error: pytest.ExceptionInfo[BaseException], *needles: str) -> None:
    message = str(error.value)
    assert message and "\n" not in message, message
    for needle in needles:
        assert needle in message, message


def test_bad_input_is_one_line() -> None:
    p = predictor()
    with pytest.raises(ValueError) as error:
        saliency(p, "   ")
    one_line(error, "empty")
    with pytest.raises(ValueError) as error:
        saliency(p, REVIEW, steps=0)
    one_line(error, "steps must be a positive integer")
    with pytest.raises(ValueError) as error:
        review_drops(p, "awful film", k=2)
    one_line(error, "at most 2 tokens")
    with pytest.raises(InputError) as error:
        faithfulness(p, [REVIEW, ""], k=2)
    one_line(error, "review 2", "empty")
    with pytest.raises(ValueError) as error:
        faithfulness(p, ["awful film", "great"], k=2)
    one_line(error, "no review has more than k=2 tokens")
    with pytest.raises(ValueError) as error:
        trajectories(p, REVIEWS, [1, 0])
    one_line(error, "4 texts but 2 labels")
