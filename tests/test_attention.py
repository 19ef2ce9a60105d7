"""Attention modules: masking, shapes, step-vs-batch agreement and gradients."""

from __future__ import annotations

import pytest
import torch

from models.attention import (
    AdditiveAttention,
    AttentionPooling,
    DotAttention,
    lengths_to_mask,
    masked_softmax,
)

B, S, T, HQ, HK = 3, 5, 4, 6, 6


def make(kind: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return {
        "additive": lambda: AdditiveAttention(HQ, HK, 7),
        "dot": lambda: DotAttention(),
        "dot-scaled": lambda: DotAttention(scale=True),
        "general": lambda: DotAttention(query_size=HQ, key_size=HK, general=True),
    }[kind]()


KINDS = ["additive", "dot", "dot-scaled", "general"]


def inputs(dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(B, T, HQ, generator=g, dtype=dtype)
    keys = torch.randn(B, S, HK, generator=g, dtype=dtype)
    values = torch.randn(B, S, 3, generator=g, dtype=dtype)
    mask = lengths_to_mask(torch.tensor([5, 3, 1]), S)
    return query, keys, values, mask


def test_lengths_to_mask():
    m = lengths_to_mask(torch.tensor([2, 0, 3]))
    assert m.tolist() == [[True, True, False], [False, False, False], [True, True, True]]


@pytest.mark.parametrize("kind", KINDS)
def test_weights_sum_to_one_and_are_zero_when_masked(kind):
    att = make(kind)
    query, keys, values, mask = inputs()
    for q in (query, query[:, 0]):
        context, weights = att(q, keys, values, mask)
        assert context.shape == (*q.shape[:-1], 3)
        assert weights.shape == (*q.shape[:-1], S)
        torch.testing.assert_close(weights.sum(-1), torch.ones(q.shape[:-1]))
        m = mask if q.dim() == 2 else mask.unsqueeze(1).expand_as(weights)
        assert torch.all(weights[~m] == 0)
        assert torch.all(weights[m] > 0)


@pytest.mark.parametrize("kind", KINDS)
def test_masked_keys_and_values_do_not_change_the_context(kind):
    att = make(kind)
    query, keys, values, mask = inputs()
    context, weights = att(query, keys, values, mask)
    noise = ~mask.unsqueeze(-1)  # (B, S, 1) True at padded positions
    keys2 = keys + 100.0 * noise * torch.randn_like(keys)
    values2 = values + 100.0 * noise * torch.randn_like(values)
    context2, weights2 = att(query, keys2, values2, mask)
    torch.testing.assert_close(context2, context)
    torch.testing.assert_close(weights2, weights)


@pytest.mark.parametrize("kind", KINDS)
def test_batched_query_matches_one_step_at_a_time(kind):
    att = make(kind)
    query, keys, values, mask = inputs()
    context, weights = att(query, keys, values, mask)
    for t in range(T):
        c_t, w_t = att(query[:, t], keys, values, mask)
        torch.testing.assert_close(c_t, context[:, t])
        torch.testing.assert_close(w_t, weights[:, t])


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck(kind):
    att = make(kind).double()
    query, keys, values, mask = inputs(torch.float64)
    query, keys, values = (x[:2, :2].clone().requires_grad_() for x in (query, keys, values))
    mask = torch.tensor([[True, True], [True, False]])

    def f(q, k, v):
        return att(q, k, v, mask)

    assert torch.autograd.gradcheck(f, (query, keys, values), fast_mode=True)
    assert torch.autograd.gradcheck(f, (query[:, 0], keys, values), fast_mode=True)
    params = list(att.parameters())
    if params:
        context, weights = f(query, keys, values)
        (context.sum() + (weights * torch.arange(2.0, dtype=torch.float64)).sum()).backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params)


@pytest.mark.parametrize("kind", KINDS)
def test_fully_masked_row_is_zero_not_nan(kind):
    att = make(kind)
    query, keys, values, _ = inputs()
    query, keys, values = (x.clone().requires_grad_() for x in (query, keys, values))
    mask = torch.ones(B, S, dtype=torch.bool)
    mask[1] = False
    context, weights = att(query, keys, values, mask)
    assert torch.all(weights[1] == 0) and torch.all(context[1] == 0)
    (context.sum() + weights.sum()).backward()
    for x in (query, keys, values):
        assert torch.isfinite(x.grad).all()


def test_no_mask_means_all_valid():
    att = make("additive")
    query, keys, values, _ = inputs()
    c1, w1 = att(query, keys, values)
    c2, w2 = att(query, keys, values, torch.ones(B, S, dtype=torch.bool))
    torch.testing.assert_close(c1, c2)
    torch.testing.assert_close(w1, w2)


def test_additive_precomputed_keys_give_the_same_result():
    att = make("additive")
    query, keys, values, mask = inputs()
    c1, w1 = att(query[:, 0], keys, values, mask)
    c2, w2 = att(query[:, 0], keys, values, mask, projected_keys=att.project_keys(keys))
    torch.testing.assert_close(c1, c2)
    torch.testing.assert_close(w1, w2)


def test_dot_attention_equations():
    query, keys, values, _ = inputs()
    q = query[:, 0]
    _, w = DotAttention()(q, keys, values)
    torch.testing.assert_close(w, torch.softmax(torch.einsum("bh,bsh->bs", q, keys), -1))
    _, w = DotAttention(scale=True)(q, keys, values)
    expected = torch.softmax(torch.einsum("bh,bsh->bs", q, keys) / HK**0.5, -1)
    torch.testing.assert_close(w, expected)
    # Different sizes add a learned map automatically; without sizes they are an error.
    att = DotAttention(query_size=4, key_size=HK)
    q4 = torch.randn(B, 4)
    context, w = att(q4, keys)
    mapped = q4 @ att.linear.weight.T  # W_a q: (B, HK)
    torch.testing.assert_close(w, torch.softmax(torch.einsum("bh,bsh->bs", mapped, keys), -1))
    assert context.shape == (B, HK)
    with pytest.raises(ValueError, match="query size"):
        DotAttention()(torch.randn(B, 4), keys)


def test_shape_errors_are_clear():
    att = make("additive")
    query, keys, values, mask = inputs()
    with pytest.raises(ValueError, match="Expected query to be 2D or 3D, got 4D"):
        att(query.unsqueeze(0), keys)
    with pytest.raises(ValueError, match="mask"):
        att(query, keys, values, mask[:, :2])


def test_masked_softmax_function():
    scores = torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    mask = torch.tensor([[True, False, True], [False, False, False]])
    w = masked_softmax(scores, mask)
    torch.testing.assert_close(w[0], torch.softmax(torch.tensor([1.0, -float("inf"), 3.0]), -1))
    assert torch.all(w[1] == 0)


@pytest.mark.parametrize("hidden_size", [None, 8])
def test_attention_pooling(hidden_size):
    torch.manual_seed(0)
    pool = AttentionPooling(HK, hidden_size)
    _, keys, _, mask = inputs()
    context, weights = pool(keys, mask)
    assert context.shape == (B, HK) and weights.shape == (B, S)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B))
    assert torch.all(weights[~mask] == 0)
    # Padded steps do not matter.
    context2, _ = pool(keys + 50.0 * (~mask).unsqueeze(-1) * torch.randn_like(keys), mask)
    torch.testing.assert_close(context2, context)
    # Identical steps pool to that step.
    step = torch.randn(B, 1, HK)
    same, _ = pool(step.expand(B, S, HK), mask)
    torch.testing.assert_close(same, step.squeeze(1))
    # Gradients.
    pool = pool.double()
    x = keys[:2, :3].double().requires_grad_()
    m = torch.tensor([[True, True, False], [True, False, False]])
    assert torch.autograd.gradcheck(lambda x: pool(x, m), (x,), fast_mode=True)
