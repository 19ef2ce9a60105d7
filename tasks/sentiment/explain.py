"""Why a sentiment model says what it says, over a `tasks.sentiment.player.SentimentPredictor`.

- `saliency`: per token read, the attention weight (when the model has attention), integrated
  gradients (Sundararajan et al. 2017) and gradient x input, both of the predicted label's logit
  difference ``logit[label] - logit[other]`` with respect to the token embeddings.
- `faithfulness`: the probability the predicted label loses when the top-k tokens by each method
  are removed, against k random tokens (Jain & Wallace 2019 ask whether attention explains).
- `trajectories`: the last layer's per-token states of each review on their first two principal
  components (the line-attractor picture of Maheswaranathan et al. 2019).

The model stays in eval mode (no dropout); each text is read as the player reads it (tokenized,
encoded and truncated to --seq-len). Torch is imported inside the functions, like the rest of
`tasks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tasks.engine.classification import pad_batch
from tasks.engine.player import DEFAULT_BATCH, InputError, check_each, chunks
from tasks.sentiment.player import SentimentPredictor, _Read
from tasks.sentiment.task import LABELS

IG_STEPS = 32
"""Interpolation steps of integrated gradients (`saliency`'s default, `faithfulness`'s)."""
METHODS = ("integrated gradients", "gradient x input", "attention", "random")
"""Faithfulness methods, in report order ("attention" only for a model with attention)."""


@dataclass(frozen=True)
class Saliency:
    """Token importance for one text, one value per token read (in text order)."""

    tokens: list[str]
    spans: list[tuple[int, int]]
    """(start, end) character offsets of each token in the text."""
    positive: float
    """The probability of positive."""
    label: str
    """The predicted label, towards which the attributions are signed."""
    attention: list[float] | None
    """The attention weights (sum 1); None for a model without attention."""
    integrated_gradients: list[float]
    """Their sum is the logit difference at the text minus at the zero-embedding baseline."""
    gradient_x_input: list[float]


@dataclass(frozen=True)
class Faithfulness:
    """Mean probability drop of the predicted label when each method's top-k tokens go."""

    k: int
    reviews: int
    """Reviews used: those with more than k tokens read."""
    drop: dict[str, float]
    """Method (`METHODS`) -> mean of p(label | review) - p(label | review without k tokens)."""


@dataclass(frozen=True)
class Trajectories:
    """Per-token encoder states of reviews projected on their first two principal components."""

    paths: list[np.ndarray]
    """(T_i, 2) float32 per review, T_i its tokens read."""
    labels: list[int]
    explained: tuple[float, float]
    """Explained variance ratio of the two components."""


def _ids(predictor: SentimentPredictor, text: str) -> tuple[_Read, list[int]]:
    """The player's reading of `text` (ValueError for an empty one) and the ids it keeps."""
    read = predictor._read(text)
    return read, [read.ids[p] for p in read.positions]


def _saliency(predictor: SentimentPredictor, read: _Read, ids: list[int], steps: int) -> Saliency:
    """One forward and one backward over ``steps`` interpolated copies plus the text itself.

    IG with the zero-embedding baseline (the padding id's embedding is zero too:
    ``padding_idx`` keeps it so) and the Riemann midpoint rule: alpha_s = (s + 1/2) / steps,
    IG_t = sum_e x_te * mean_s grad f(alpha_s x)_te, with f the logit difference.
    """
    import torch

    model = predictor.model
    device = model.embedding.weight.device
    with torch.no_grad():
        x = model.embedding(torch.tensor(ids, device=device))  # (T, E)
    alphas = (torch.arange(steps, device=device, dtype=x.dtype) + 0.5) / steps  # (S,)
    batch = torch.cat([alphas.view(-1, 1, 1) * x, x.unsqueeze(0)])  # (S + 1, T, E)
    batch.requires_grad_(True)
    lengths = torch.full((steps + 1,), len(ids), dtype=torch.int64)
    with torch.enable_grad():
        logits, weights = model.forward_embedded(batch, lengths)  # (S + 1, 2), (S + 1, T)
        positive = float(torch.softmax(logits[-1].detach().float(), -1)[1])
        label = int(positive >= 0.5)
        sign = 1.0 if label else -1.0
        difference = sign * (logits[:, 1] - logits[:, 0])  # (S + 1,)
        (grad,) = torch.autograd.grad(difference.sum(), batch)
    ig = (x * grad[:-1].mean(0)).sum(-1)  # (T,)
    gxi = (x * grad[-1]).sum(-1)  # (T,)
    tokens = [read.tokens[p] for p in read.positions]
    return Saliency(
        tokens=[t.text for t in tokens],
        spans=[(t.start, t.end) for t in tokens],
        positive=positive,
        label=LABELS[label],
        attention=None if weights is None else weights[-1].detach().tolist(),
        integrated_gradients=ig.tolist(),
        gradient_x_input=gxi.tolist(),
    )


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer (got {value!r})")


def saliency(predictor: SentimentPredictor, text: str, steps: int = IG_STEPS) -> Saliency:
    """Attention, integrated gradients and gradient x input per token of `text` (see the module
    docstring); ValueError (one line) for an empty text or a bad `steps`."""
    _check_positive("steps", steps)
    read, ids = _ids(predictor, text)
    return _saliency(predictor, read, ids, steps)


def _top(values: Sequence[float], k: int) -> np.ndarray:
    """Positions of the k largest values (earlier first among ties)."""
    return np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")[:k]


def _drops(
    predictor: SentimentPredictor, text: str, k: int, rng: np.random.Generator
) -> dict[str, float] | None:
    """Each method's probability drop for one text; None when it has <= k tokens read."""
    import torch

    read, ids = _ids(predictor, text)
    if len(ids) <= k:
        return None
    found = _saliency(predictor, read, ids, IG_STEPS)
    scores = {METHODS[0]: found.integrated_gradients, METHODS[1]: found.gradient_x_input}
    if found.attention is not None:
        scores[METHODS[2]] = found.attention
    removed = {method: _top(values, k) for method, values in scores.items()}
    removed[METHODS[3]] = rng.choice(len(ids), size=k, replace=False)
    x, lengths = pad_batch([np.delete(np.asarray(ids), r) for r in removed.values()])
    with torch.inference_mode():
        logits, _ = predictor.model(x.to(predictor.model.embedding.weight.device), lengths)
    label = LABELS.index(found.label)
    after = torch.softmax(logits.float(), -1)[:, label].tolist()
    before = found.positive if label else 1.0 - found.positive
    return {method: before - p for method, p in zip(removed, after, strict=True)}


def review_drops(
    predictor: SentimentPredictor, text: str, k: int = 5, seed: int = 0
) -> dict[str, float]:
    """Method -> p(label | text) - p(label | text without that method's top-k tokens), label the
    predicted one; "random" removes k tokens drawn by ``np.random.default_rng(seed)``.

    ValueError (one line) for an empty text or one with at most k tokens read.
    """
    _check_positive("k", k)
    drops = _drops(predictor, text, k, np.random.default_rng(seed))
    if drops is None:
        raise ValueError(f"the text has at most {k} tokens to read; removing {k} needs more")
    return drops


def faithfulness(
    predictor: SentimentPredictor,
    texts: Iterable[str],
    k: int = 5,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> Faithfulness:
    """`review_drops` averaged over the texts that have more than k tokens read (the others are
    left out); text i draws its random tokens with seed ``seed + i``, so
    ``review_drops(predictor, texts[i], k, seed + i)`` is its row. `progress` gets the fraction
    of texts done after each.

    `InputError` (one line, naming the text) for an empty text; ValueError when no text is long
    enough.
    """
    _check_positive("k", k)
    texts = list(texts)
    rows: list[dict[str, float]] = []
    for i, text in enumerate(texts):
        try:
            drops = _drops(predictor, text, k, np.random.default_rng(seed + i))
        except ValueError as exc:
            raise InputError(i, f"review {i + 1}: {exc}") from None
        if drops is not None:
            rows.append(drops)
        if progress is not None:
            progress((i + 1) / len(texts))
    return mean_drops(rows, k, given=len(texts))


def mean_drops(rows: list[dict[str, float]], k: int, given: int) -> Faithfulness:
    """`Faithfulness` of the `review_drops` rows of the ``given`` reviews that have more than k
    tokens read; ValueError when there are none."""
    if not rows:
        raise ValueError(f"no review has more than k={k} tokens to read ({given} given)")
    drop = {method: float(np.mean([row[method] for row in rows])) for method in rows[0]}
    return Faithfulness(k=k, reviews=len(rows), drop=drop)


def trajectories(
    predictor: SentimentPredictor, texts: Iterable[str], labels: Iterable[int]
) -> Trajectories:
    """The last encoder layer's output at each token read (`SentimentRNN.encode`, (T_i, O)),
    projected on the first two principal components of all the texts' states together.

    `InputError` (one line) for an empty text; ValueError when texts and labels differ in
    number or there are none.
    """
    import torch

    texts, labels = list(texts), [int(label) for label in labels]
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise ValueError("no reviews to trace")
    model = predictor.model
    device = model.embedding.weight.device
    states: list[np.ndarray] = []
    for start, group in chunks(texts, DEFAULT_BATCH):
        seqs = [ids for _, ids in check_each(start, group, lambda t: _ids(predictor, t))]
        x, lengths = pad_batch(seqs)
        with torch.inference_mode():
            outputs, _ = model.encode(model.embedding(x.to(device)), lengths)  # (B, T, O)
        outputs = outputs.float().cpu().numpy()
        states.extend(outputs[b, :n] for b, n in enumerate(lengths.tolist()))
    paths, explained = _pca2(states)
    return Trajectories(paths=paths, labels=labels, explained=explained)


def _pca2(states: list[np.ndarray]) -> tuple[list[np.ndarray], tuple[float, float]]:
    """Project each (T_i, O) array on the top two principal components of all rows together
    (from the covariance, accumulated in float64; each component's largest loading positive)."""
    width = states[0].shape[1]
    count = sum(len(s) for s in states)
    total = sum(s.sum(0, dtype=np.float64) for s in states)
    gram = sum(s.T.astype(np.float64) @ s for s in states)
    mean = total / count
    covariance = gram / count - np.outer(mean, mean)  # (O, O)
    values, vectors = np.linalg.eigh(covariance)  # ascending
    order = np.argsort(values)[::-1][:2]
    components = np.zeros((width, 2))
    components[:, : len(order)] = vectors[:, order]
    peaks = np.abs(components).argmax(0)
    components *= np.where(components[peaks, [0, 1]] < 0, -1.0, 1.0)
    variance = np.clip(values, 0.0, None)
    ratios = [float(variance[i] / variance.sum()) if variance.sum() > 0 else 0.0 for i in order]
    ratios += [0.0] * (2 - len(ratios))
    paths = [((s - mean) @ components).astype(np.float32) for s in states]
    return paths, (ratios[0], ratios[1])


__all__ = [
    "IG_STEPS",
    "METHODS",
    "Faithfulness",
    "Saliency",
    "Trajectories",
    "faithfulness",
    "mean_drops",
    "review_drops",
    "saliency",
    "trajectories",
]
