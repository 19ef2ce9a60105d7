"""The NumPy vanilla RNN against finite differences and torch autograd, plus its helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.numpy_rnn import (
    PARAM_NAMES,
    Adagrad,
    VanillaRNN,
    clip_grad_norm,
    clip_grad_value,
    global_norm,
)

V, H, T = 5, 4, 6


def small_rnn(dtype=np.float64, seed=0) -> VanillaRNN:
    # Larger weights than the 0.01 default, so tanh is not near-linear and every path matters.
    return VanillaRNN(V, H, seed=seed, dtype=dtype, init_scale=0.5)


def small_data(seed=1):
    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, V, size=T)
    targets = rng.integers(0, V, size=T)
    h0 = rng.standard_normal(H) * 0.5
    return inputs, targets, h0


def test_gradients_match_central_finite_differences():
    rnn = small_rnn()
    inputs, targets, h0 = small_data()
    _, grads, _ = rnn.loss(inputs, targets, h0)
    eps = 1e-5
    for name in PARAM_NAMES:
        p = rnn.params[name]
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            lp, _, _ = rnn.loss(inputs, targets, h0)
            p[i] = old - eps
            lm, _, _ = rnn.loss(inputs, targets, h0)
            p[i] = old
            num[i] = (lp - lm) / (2 * eps)
        rel = np.linalg.norm(grads[name] - num) / max(
            np.linalg.norm(grads[name]) + np.linalg.norm(num), 1e-12
        )
        assert rel < 1e-6, f"{name}: relative error {rel:.2e}"


def torch_reference(rnn: VanillaRNN, inputs, targets, h0):
    """The same computation written with torch ops, differentiated by autograd."""
    P = {k: torch.tensor(v, requires_grad=True) for k, v in rnn.params.items()}
    h = torch.tensor(h0, requires_grad=True)
    x = torch.nn.functional.one_hot(torch.as_tensor(inputs), V).to(torch.float64)  # (T, V)
    hs = []
    for t in range(len(inputs)):
        h = torch.tanh(P["Wxh"] @ x[t] + P["Whh"] @ h + P["bh"])
        hs.append(h)
        h.retain_grad()
    logits = torch.stack(hs) @ P["Why"].T + P["by"]  # (T, V)
    loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(targets))
    loss.backward()
    return loss, P, hs


def test_matches_torch_autograd():
    rnn = small_rnn()
    inputs, targets, h0 = small_data(seed=2)
    loss, grads, h_last = rnn.loss(inputs, targets, h0)
    t_loss, P, hs = torch_reference(rnn, inputs, targets, h0)
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(grads[name], P[name].grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h_last, hs[-1].detach().numpy(), rtol=1e-12)
    # The per-step gradient norms ||dL/dh_t|| agree with autograd's h_t.grad.
    expected = [h.grad.norm().item() for h in hs]
    np.testing.assert_allclose(rnn.dh_history, expected, rtol=1e-9)
    assert rnn.dh_history.shape == (T,)


def test_float32_is_close_to_float64():
    r64 = small_rnn(np.float64)
    r32 = small_rnn(np.float32)
    inputs, targets, h0 = small_data()
    l64, g64, _ = r64.loss(inputs, targets, h0)
    l32, g32, h32 = r32.loss(inputs, targets, h0)
    assert h32.dtype == np.float32 and all(g.dtype == np.float32 for g in g32.values())
    assert l32 == pytest.approx(l64, rel=1e-5)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(g32[k], g64[k], rtol=1e-4, atol=1e-6)


def test_clip_by_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}
    assert global_norm(grads) == pytest.approx(5.0)
    clipped, norm = clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(clipped["a"] / clipped["a"][0], grads["a"] / 3.0)  # same direction
    assert grads["a"][0] == 3.0  # inputs untouched
    same, norm = VanillaRNN.clip(grads, 10.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_array_equal(same["b"], grads["b"])
    _, norm = clip_grad_norm(grads, None)
    assert norm == pytest.approx(5.0)
    with pytest.raises(ValueError):
        clip_grad_norm(grads, 0.0)
    np.testing.assert_array_equal(clip_grad_value(grads, 2.0)["b"], [[0.0, 2.0]])


def test_adagrad_step_matches_hand_computation():
    w = np.array([1.0, -2.0])
    opt = Adagrad({"w": w}, lr=0.5)
    g1, g2 = np.array([0.1, -0.3]), np.array([0.2, 0.4])
    opt.step({"w": g1})
    expected = np.array([1.0, -2.0]) - 0.5 * g1 / np.sqrt(g1**2 + 1e-8)
    np.testing.assert_allclose(w, expected)
    opt.step({"w": g2})
    mem = g1**2 + g2**2
    expected = expected - 0.5 * g2 / np.sqrt(mem + 1e-8)
    np.testing.assert_allclose(w, expected)
    np.testing.assert_allclose(opt.memory["w"], mem)


def test_model_step_updates_in_place_with_adagrad_and_sgd():
    rnn = small_rnn()
    inputs, targets, h0 = small_data()
    _, grads, _ = rnn.loss(inputs, targets, h0)
    before = {k: v.copy() for k, v in rnn.params.items()}
    rnn.step(grads, lr=0.1)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(rnn.optimizer.memory[k], grads[k] ** 2)
        np.testing.assert_allclose(
            rnn.params[k], before[k] - 0.1 * grads[k] / np.sqrt(grads[k] ** 2 + 1e-8)
        )
    before = {k: v.copy() for k, v in rnn.params.items()}
    rnn.step(grads, lr=0.2, optimizer="sgd")
    for k in PARAM_NAMES:
        np.testing.assert_allclose(rnn.params[k], before[k] - 0.2 * grads[k])
    with pytest.raises(ValueError):
        rnn.step(grads, optimizer="adam")


def test_sampling_is_reproducible_and_greedy_is_argmax():
    rnn = small_rnn(np.float32)
    h = rnn.init_hidden()
    a = rnn.sample(h, 0, 30, rng=np.random.default_rng(7))
    b = rnn.sample(h, 0, 30, rng=np.random.default_rng(7))
    c = rnn.sample(h, 0, 30, rng=7)
    assert a == b == c
    assert len(a) == 30 and all(0 <= i < V for i in a)
    greedy = rnn.sample(h, 0, 10, temperature=0)
    ix, hh, expected = 0, h, []
    for _ in range(10):
        logits, hh = rnn.step_logits(ix, hh)
        ix = int(np.argmax(logits))
        expected.append(ix)
    assert greedy == expected
    # A very low temperature behaves like greedy.
    assert rnn.sample(h, 0, 10, temperature=1e-4, rng=3) == expected


def test_step_logits_agrees_with_forward():
    rnn = small_rnn()
    inputs, _, h0 = small_data()
    cache = rnn.forward(inputs, h0)
    h = h0
    for t, ix in enumerate(inputs):
        logits, h = rnn.step_logits(int(ix), h)
        np.testing.assert_allclose(logits, cache.logits[t], rtol=1e-12)
    np.testing.assert_allclose(h, cache.h_last)
    logits, h_primed = rnn.prime(inputs, h0)
    np.testing.assert_allclose(h_primed, cache.h_last)


def test_training_on_a_repetitive_string_lowers_the_loss():
    text = "hello world. " * 20
    chars = sorted(set(text))
    ix = np.array([chars.index(c) for c in text])
    rnn = VanillaRNN(len(chars), hidden_size=32, seed=0)
    seq_len, h, p, losses = 12, rnn.init_hidden(), 0, []
    for _ in range(300):
        if p + seq_len + 1 > len(ix):
            p, h = 0, rnn.init_hidden()
        loss, grads, h = rnn.loss(ix[p : p + seq_len], ix[p + 1 : p + seq_len + 1], h)
        grads, _ = rnn.clip(grads, 5.0)
        rnn.step(grads, lr=0.1)
        losses.append(loss)
        p += seq_len
    first, last = np.mean(losses[:20]), np.mean(losses[-20:])
    assert first == pytest.approx(np.log(len(chars)), rel=0.05)  # starts at chance
    assert last < 0.4 * first
    # And generation reproduces the pattern after priming.
    _, h = rnn.prime(ix[:13])
    out = "".join(chars[i] for i in rnn.sample(h, ix[13], 11, temperature=0))
    assert out == "ello world."


def test_state_dict_round_trip():
    rnn = small_rnn(np.float32)
    inputs, targets, h0 = small_data()
    _, grads, _ = rnn.loss(inputs, targets, h0)
    rnn.step(grads)
    state = rnn.state_dict()
    assert set(state) == set(PARAM_NAMES) | {f"adagrad.{k}" for k in PARAM_NAMES}
    assert all(isinstance(v, np.ndarray) for v in state.values())
    other = small_rnn(np.float32, seed=123)
    other.load_state_dict(state)
    for k in state:
        np.testing.assert_array_equal(other.state_dict()[k], state[k])
    # Tensors (as stored in a weights_only checkpoint) load too, and sizes are inferred.
    rebuilt = VanillaRNN.from_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    assert (rebuilt.vocab_size, rebuilt.hidden_size, rebuilt.dtype) == (V, H, np.float32)
    assert rebuilt.loss(inputs, targets, h0)[0] == pytest.approx(rnn.loss(inputs, targets, h0)[0])
    # The copy is independent of the model.
    state["Wxh"][...] = 0
    assert np.any(rnn.params["Wxh"] != 0)
    with pytest.raises(ValueError):
        other.load_state_dict({**state, "Whh": np.zeros((H + 1, H))})
    with pytest.raises(KeyError):
        other.load_state_dict({"Wxh": state["Wxh"]})


def test_bad_input_is_rejected():
    rnn = small_rnn()
    with pytest.raises(ValueError):
        rnn.forward([0, V])
    with pytest.raises(ValueError):
        rnn.forward([])
    with pytest.raises(ValueError):
        rnn.loss([0, 1], [1])
    with pytest.raises(ValueError):
        rnn.forward([0, 1], np.zeros(H + 1))
