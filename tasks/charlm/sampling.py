"""Choosing the next token from logits: greedy, temperature, top-k and top-p (nucleus).

Pure functions on tensors, in the style of nanoGPT's and minGPT's ``generate()``: no model, no
state, seeded only through an optional `torch.Generator`, so a seed makes a sample
reproducible. Shapes: ``V`` vocabulary size, ``B`` batch; logits are ``(V,)`` or ``(B, V)``.

Example::

    g = torch.Generator().manual_seed(0)
    idx, prob = sample_next(logits, "top-p", temperature=0.8, p=0.9, generator=g)
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

__all__ = ["STRATEGIES", "Strategy", "filter_top_k", "filter_top_p", "sample_next"]

Strategy = Literal["greedy", "sample", "top-k", "top-p"]
STRATEGIES: tuple[str, ...] = ("greedy", "sample", "top-k", "top-p")
"""The sampling strategies `sample_next` accepts."""


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"top-k needs k to be an integer >= 1, got {k!r}")
    return k


def _check_p(p: object) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 < p <= 1.0:
        raise ValueError(f"top-p needs p in (0, 1], got {p!r}")
    return float(p)


def _check_logits(logits: Tensor, where: str) -> None:
    if not isinstance(logits, Tensor):
        raise TypeError(f"{where}: expected logits to be a tensor, got {type(logits).__name__}")
    if logits.dim() not in (1, 2):
        raise ValueError(f"{where}: expected logits of shape (V,) or (B, V), got {logits.dim()}D")
    if logits.size(-1) == 0:
        raise ValueError(f"{where}: expected a vocabulary of at least one token, got V=0")
    if not logits.is_floating_point():
        raise ValueError(f"{where}: expected floating-point logits, got {logits.dtype}")


def filter_top_k(logits: Tensor, k: int) -> Tensor:
    """Keep the `k` largest logits of each row and set the rest to ``-inf``.

    Exactly ``min(k, V)`` entries stay finite per row (ties at the boundary are broken by
    `torch.topk`'s order), so sampling can never leave the top k.

    Args:
        logits: ``(V,)`` or ``(B, V)``.
        k: how many to keep, ``>= 1``; a `k` above ``V`` keeps everything.

    Returns:
        A new tensor of the same shape; `logits` is not modified.
    """
    _check_logits(logits, "filter_top_k")
    k = min(_check_k(k), logits.size(-1))
    values, indices = torch.topk(logits, k, dim=-1)  # (..., k)
    out = torch.full_like(logits, -math.inf)
    return out.scatter(-1, indices, values)


def filter_top_p(logits: Tensor, p: float) -> Tensor:
    """Nucleus filtering: keep the smallest set of top tokens whose probability sums to >= `p`.

    Probabilities are ``softmax(logits)`` per row. A token is dropped when the tokens ranked
    above it already hold at least `p` of the mass, so the most likely token is always kept
    (even when its probability alone exceeds `p`) and ``p = 1`` keeps everything.

    Args:
        logits: ``(V,)`` or ``(B, V)``; apply the temperature first, as `sample_next` does.
        p: the mass to keep, in ``(0, 1]``.

    Returns:
        A new tensor of the same shape with the dropped entries set to ``-inf``.
    """
    _check_logits(logits, "filter_top_p")
    p = _check_p(p)
    if p >= 1.0:
        return logits.clone()
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)  # (..., V)
    probs = torch.softmax(sorted_logits.float(), dim=-1)
    mass_before = torch.cumsum(probs, dim=-1) - probs  # mass of the tokens ranked above
    drop_sorted = mass_before >= p
    drop_sorted[..., 0] = False  # always keep the top token
    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, -math.inf)


@torch.no_grad()
def sample_next(
    logits: Tensor,
    strategy: Strategy | str = "greedy",
    temperature: float = 1.0,
    k: int | None = None,
    p: float | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Pick the next token from `logits`.

    - ``"greedy"``: the argmax, whatever the temperature (which may then be 0).
    - ``"sample"``: draw from ``softmax(logits / temperature)``.
    - ``"top-k"``: the same, after `filter_top_k` with `k`.
    - ``"top-p"``: the same, after `filter_top_p` with `p` (on the tempered logits).

    `k` is used only by top-k and `p` only by top-p; when given, they are still validated.

    Args:
        logits: ``(V,)`` or ``(B, V)`` unnormalised scores (``-inf`` marks banned tokens).
        strategy: one of `STRATEGIES`.
        temperature: ``> 0`` for the sampling strategies; below 1 sharpens, above 1 flattens.
        k: top-k's ``k >= 1``.
        p: top-p's mass in ``(0, 1]``.
        generator: the random source, for reproducible samples.

    Returns:
        ``(index, prob)``: the chosen token, shape ``()`` for ``(V,)`` logits and ``(B,)`` for
        ``(B, V)``, dtype long; and its probability under the distribution it was drawn from
        (after temperature and filtering), same shape, float32. For greedy the probability is
        ``softmax(logits)`` at the argmax, the model's own confidence.

    Raises:
        ValueError: an unknown strategy, a bad temperature/k/p, logits of the wrong shape, or
            a row with NaN or no finite logit.
    """
    _check_logits(logits, "sample_next")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}")
    if k is not None or strategy == "top-k":
        k = _check_k(k)
    if p is not None or strategy == "top-p":
        p = _check_p(p)
    if strategy != "greedy" and (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float))
        or not math.isfinite(temperature)
        or temperature <= 0
    ):
        raise ValueError(
            f"temperature must be a finite number > 0 for {strategy} sampling, got {temperature!r}"
            " (use the greedy strategy for temperature 0)"
        )

    x = logits.float()  # (..., V): sample in float32 even for half-precision logits
    if torch.isnan(x).any() or (x == math.inf).any():
        raise ValueError("sample_next: logits contain NaN or +inf")
    if not torch.isfinite(x).any(dim=-1).all():
        raise ValueError("sample_next: a row of logits has no finite entry (every token banned)")

    if strategy == "greedy":
        index = torch.argmax(x, dim=-1)  # (...)
        probs = torch.softmax(x, dim=-1)
    else:
        # Shift so the largest logit is 0: same distribution, and no overflow for tiny T.
        x = (x - x.amax(dim=-1, keepdim=True)) / temperature
        if strategy == "top-k":
            x = filter_top_k(x, k)  # type: ignore[arg-type]
        elif strategy == "top-p":
            x = filter_top_p(x, p)  # type: ignore[arg-type]
        probs = torch.softmax(x, dim=-1)  # (..., V)
        rows = probs.reshape(-1, probs.size(-1))  # (B, V)
        index = torch.multinomial(rows, 1, generator=generator).reshape(probs.shape[:-1])
    prob = probs.gather(-1, index.unsqueeze(-1)).squeeze(-1)  # (...)
    return index, prob
