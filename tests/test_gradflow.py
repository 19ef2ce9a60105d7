"""The gradflow task: the synthetic problems, the per-step gradient probes and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.cores.stack import flatten_state, map_state
from models.numpy_rnn import VanillaRNN
from models.probe import ProbeNet, numpy_state_jacobian_norms, probe_backward
from tasks.engine.settings import MODERN, ConfigError
from tasks.gradflow.settings import MAX_SEQ_LEN
from tasks.gradflow.task import (
    COPY_LENGTH,
    COPY_VOCAB,
    GradientProfile,
    adding_batch,
    copy_baseline,
    copy_batch,
)
from tasks.registry import create_task, default_config


def tiny(arch: str = "rnn", **overrides: object):
    values = {"seq_len": 12, "hidden": 8, "batch": 4, "threads": 1} | overrides
    return default_config("gradflow", arch, **values)


# -- the problems ------------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [2, 3, 50])
def test_adding_batch_marks_one_number_in_each_half(steps: int) -> None:
    x, y = adding_batch(np.random.default_rng(0), 64, steps)
    assert x.shape == (64, steps, 2) and y.shape == (64,)
    markers = x[..., 1]
    assert (markers.sum(1) == 2).all()
    half = steps // 2
    assert (markers[:, :half].sum(1) == 1).all() and (markers[:, half:].sum(1) == 1).all()
    np.testing.assert_allclose(y, (x[..., 0] * markers).sum(1), rtol=1e-6)
    again, _ = adding_batch(np.random.default_rng(0), 64, steps)
    np.testing.assert_array_equal(x, again)


def test_copy_batch_asks_for_the_symbols_after_the_delimiter() -> None:
    steps = 15
    x, y = copy_batch(np.random.default_rng(1), 8, steps)
    assert x.shape == y.shape == (8, steps + 2 * COPY_LENGTH)
    symbols = x[:, :COPY_LENGTH]
    assert ((symbols >= 1) & (symbols <= 8)).all()
    assert (x[:, COPY_LENGTH + steps - 1] == COPY_VOCAB - 1).all()
    assert (np.delete(x, [*range(COPY_LENGTH), COPY_LENGTH + steps - 1], axis=1) == 0).all()
    np.testing.assert_array_equal(y[:, -COPY_LENGTH:], symbols)
    assert (y[:, :-COPY_LENGTH] == 0).all()
    assert copy_baseline(steps) == pytest.approx(10 * math.log(8) / (steps + 20))


# -- the probes ------------------------------------------------------------------------------


def _copy_weights(rnn: VanillaRNN, net: ProbeNet) -> None:
    p = {k: torch.from_numpy(v) for k, v in rnn.params.items()}
    layer = net.layers[0].rnn
    with torch.no_grad():
        layer.weight_ih_l0.copy_(p["Wxh"])
        layer.weight_hh_l0.copy_(p["Whh"])
        layer.bias_ih_l0.copy_(p["bh"])
        layer.bias_hh_l0.zero_()
        net.head.weight.copy_(p["Why"])
        net.head.bias.copy_(p["by"])


def test_numpy_rnn_step_gradients_match_the_scratch_backend() -> None:
    """The bar: ||dL/dh_t|| from the NumPy BPTT equals torch autograd on the same weights."""
    vocab, hidden, steps = 10, 16, 30
    rnn = VanillaRNN(vocab, hidden, seed=3, dtype=np.float64, init_scale=0.5)
    net = ProbeNet("rnn", vocab, hidden, 1, vocab, backend="scratch").double()
    _copy_weights(rnn, net)
    rng = np.random.default_rng(4)
    xs, ys = rng.integers(0, vocab, steps), rng.integers(0, vocab, steps)
    u = rng.standard_normal(hidden)
    u /= np.linalg.norm(u)

    cache = rnn.forward(xs)
    rnn.backward(cache, ys)
    numpy_jacobian = numpy_state_jacobian_norms(rnn.params["Whh"], cache.hs, u)

    inputs = F.one_hot(torch.from_numpy(xs), vocab).double().unsqueeze(0)  # (1, T, V)
    unrolled = net.unrolled(inputs)
    loss = F.cross_entropy(unrolled.outputs[0], torch.from_numpy(ys))
    grads = probe_backward(loss, unrolled, torch.from_numpy(u))

    assert rnn.dh_history is not None
    assert rnn.dh_history.max() > 3 * rnn.dh_history.min()  # the profile is not flat
    np.testing.assert_allclose(grads.dl_dh[0], rnn.dh_history, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(grads.dhT_dh[0], numpy_jacobian, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(
        net.layers[0].rnn.weight_hh_l0.grad.numpy(), rnn.backward(cache, ys)[0]["Whh"], rtol=1e-9
    )


def test_task_engines_agree_numpy_against_scratch() -> None:
    """Through the tasks: the NumPy engine's batch profile equals the scratch engine's."""
    np_task = create_task(tiny("numpy-rnn", problem="copy", seq_len=6, batch=3))
    torch_task = create_task(tiny("rnn", problem="copy", seq_len=6, batch=3, backend="scratch"))
    _copy_weights(np_task.engine.rnn, torch_task.engine.model.float())
    x, y = np_task.val_x[:3], np_task.val_y[:3]
    _, expected = np_task.engine.probe(x, y)
    _, got = torch_task.engine.probe(x, y)
    np.testing.assert_allclose(got.dl_dh, expected.dl_dh, rtol=2e-4, atol=1e-9)
    np.testing.assert_allclose(got.dhT_dh, expected.dhT_dh, rtol=2e-4, atol=1e-7)


@pytest.mark.parametrize("mode", ["rnn", "lstm", "gru"])
def test_probe_sees_the_whole_gradient_through_later_steps(mode: str) -> None:
    """dL/dh_t equals the gradient of the loss recomputed from h_t onwards (an oracle that
    shares nothing with the probe), not only the part arriving from the output at t."""
    torch.manual_seed(0)
    net = ProbeNet(mode, 2, 6, 2, 1, backend="fused").double()
    x = torch.randn(3, 9, 2, dtype=torch.double)
    unrolled = net.unrolled(x)
    torch.testing.assert_close(unrolled.outputs, net(x))  # the same function as the fast path
    loss = unrolled.outputs[:, -1, 0].pow(2).mean()
    grads = probe_backward(loss, unrolled, torch.ones(6, dtype=torch.double) / 6**0.5)
    t = 3
    with torch.no_grad():
        states_again = net.unrolled(x[:, : t + 1]).states
    top_t = states_again[1][t][0].clone().requires_grad_(True)
    low = states_again[0][t][0]
    if mode == "lstm":  # the cell states at t come from a one-layer run up to t
        _, (_, c_low) = net.layers[0](x[:, : t + 1])
        _, (_, c_top) = net.layers[1](net.layers[0](x[:, : t + 1])[0])
        hx_low, hx_top = (low[None], c_low), (top_t[None], c_top)
    else:
        hx_low, hx_top = low[None], top_t[None]
    below, _ = net.layers[0](x[:, t + 1 :], hx_low)
    above, _ = net.layers[1](below, hx_top)
    oracle = net.head(above)[:, -1, 0].pow(2).mean()
    (expected,) = torch.autograd.grad(oracle, top_t)
    assert grads.dl_dh[1][t] == pytest.approx(float(expected.norm()), rel=1e-9)
    assert grads.dhT_dh[1][-1] == pytest.approx(1.0)  # dh_T/dh_T is the identity


MODERN_CASES = [(arch, True) for arch in MODERN] + [
    ("mingru", False), ("lru", False), ("s6", False), ("mlstm", False), ("slstm", False),
    ("lstm", True),  # a classic cell in residual blocks: its state in torch's (1, B, H) layout
]  # fmt: skip


@pytest.mark.parametrize(("arch", "block"), MODERN_CASES)
def test_modern_unrolled_is_the_fast_path_step_by_step(arch: str, block: bool) -> None:
    """`unrolled` (each core's `step`) gives `forward`'s (the parallel scan's) outputs, loss and
    parameter gradients, in float64."""
    torch.manual_seed(2)
    net = ProbeNet(arch, 2, 8, 2, 1, block=block, heads=2).double()
    x = torch.randn(3, 11, 2, dtype=torch.double)
    net(x)[:, -1, 0].pow(2).mean().backward()
    expected = {name: p.grad.clone() for name, p in net.named_parameters()}
    net.zero_grad(set_to_none=True)
    unrolled = net.unrolled(x)
    torch.testing.assert_close(unrolled.outputs, net(x), rtol=1e-9, atol=1e-12)
    probe_backward(unrolled.outputs[:, -1, 0].pow(2).mean(), unrolled, torch.ones(8) / 8**0.5)
    for name, p in net.named_parameters():
        torch.testing.assert_close(p.grad, expected[name], rtol=1e-8, atol=1e-12, msg=name)


LAST_COMPUTED = {"mlstm": (0, 1), "slstm": (0,), "lstm": (0,)}
"""The state tensors no other tensor of the same step is computed from (C, n; h; h)."""
STABILISER = {"mlstm": 2, "slstm": 3}
"""The stabiliser m: scales C, n (c, n) and never the outputs, so its gradient vanishes."""


@pytest.mark.parametrize(("arch", "block"), MODERN_CASES)
def test_modern_probe_equals_the_gradient_on_a_state_injected_at_t(arch: str, block: bool) -> None:
    """The probed gradient of the top layer's state at t equals the gradient of the loss
    recomputed by `forward` from that state carried in at t (an oracle that shares nothing with
    the probe): for a one-tensor state its norm and ||u^T dy_T/dh_t||; for a state of several
    the tensors computed last (the others also carry what flows through them within the step)."""
    torch.manual_seed(3)
    net = ProbeNet(arch, 2, 8, 2, 1, block=block, heads=2).double()
    x = torch.randn(3, 11, 2, dtype=torch.double)
    u = torch.randn(8, dtype=torch.double)
    u /= u.norm()
    unrolled = net.unrolled(x)
    grads = probe_backward(unrolled.outputs[:, -1, 0].pow(2).mean(), unrolled, u)
    for t in (2, 6):
        with torch.no_grad():
            h, carried = x[:, : t + 1], []
            for layer in net.layers:
                h, state = layer(h)  # the parallel scan up to t
                carried.append(state)
        top = map_state(lambda s: s.clone().requires_grad_(True), carried[-1])
        h = x[:, t + 1 :]
        for layer, state in zip(net.layers, [*carried[:-1], top], strict=True):
            h, _ = layer(h, state)
        leaves = flatten_state(top)
        loss = net.head(h)[:, -1, 0].pow(2).mean()
        oracle = torch.autograd.grad(loss, leaves, retain_graph=True)
        probed = [s.grad for s in unrolled.states[-1][t]]
        assert len(probed) == len(leaves)
        for i in LAST_COMPUTED.get(arch, (0,)):
            torch.testing.assert_close(probed[i], oracle[i], rtol=1e-7, atol=1e-14)
        if arch in STABILISER:
            assert float(probed[STABILISER[arch]].abs().max()) < 1e-12
        if len(leaves) == 1:
            assert grads.dl_dh[-1][t] == pytest.approx(float(oracle[0].norm()), rel=1e-7)
            (jac,) = torch.autograd.grad((h[:, -1] * u).sum(), leaves)
            per_sample = jac.flatten(1).norm(dim=1).mean()
            assert grads.dhT_dh[-1][t] == pytest.approx(float(per_sample), rel=1e-7)
    if not block and arch == "mingru":
        assert grads.dhT_dh[-1][-1] == pytest.approx(1.0)  # y_T is h_T: the identity


def test_modern_cores_refuse_the_classic_switches() -> None:
    with pytest.raises(ValueError, match="init orthogonal applies to the rnn"):
        ProbeNet("lru", 2, 8, 1, 1, init="orthogonal", block=True)
    with pytest.raises(ValueError, match="relu applies to rnn without blocks"):
        ProbeNet("rnn", 2, 8, 1, 1, nonlinearity="relu", block=True)


def test_fused_and_scratch_probes_agree() -> None:
    torch.manual_seed(1)
    fused = ProbeNet("lstm", 2, 5, 1, 1, backend="fused")
    scratch = ProbeNet("lstm", 2, 5, 1, 1, backend="scratch")
    scratch.load_state_dict(fused.state_dict())
    x = torch.randn(4, 20, 2)
    u = torch.ones(5) / 5**0.5
    results = []
    for net in (fused, scratch):
        unrolled = net.unrolled(x)
        results.append(probe_backward(unrolled.outputs[:, -1, 0].sum(), unrolled, u))
    np.testing.assert_allclose(results[0].dl_dh, results[1].dl_dh, rtol=1e-4)
    np.testing.assert_allclose(results[0].dhT_dh, results[1].dhT_dh, rtol=1e-4)


def test_orthogonal_init_and_open_forget_gate() -> None:
    net = ProbeNet("gru", 2, 6, 1, 1, init="orthogonal")
    for block in net.layers[0].rnn.weight_hh_l0.detach().split(6):
        torch.testing.assert_close(block @ block.T, torch.eye(6), atol=1e-5, rtol=0)
    lstm = ProbeNet("lstm", 2, 6, 1, 1).layers[0].rnn
    forget = lstm.bias_ih_l0[6:12] + lstm.bias_hh_l0[6:12]
    torch.testing.assert_close(forget.detach(), torch.ones(6))


# -- the task ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arch", "overrides"),
    [
        ("rnn", {}),
        ("rnn", {"activation": "relu", "init": "orthogonal", "backend": "scratch"}),
        ("lstm", {"layers": 2}),
        ("gru", {"problem": "copy"}),
        ("numpy-rnn", {"problem": "copy"}),
        ("mingru", {}),
        ("lru", {"problem": "copy", "layers": 2}),
        ("mlstm", {"heads": 2}),
        ("indrnn", {"block": False}),
        ("gru", {"block": True}),
    ],
)
def test_training_steps_record_profiles(arch: str, overrides: dict) -> None:
    task = create_task(tiny(arch, probe_every=2, **overrides))
    task.batches(0)
    layers = task.config.layers
    length = task.length
    stats = [task.train_step(i, 1e-3) for i in range(4)]
    assert all(math.isfinite(s.loss) and s.grad_norm > 0 for s in stats)
    profile = GradientProfile.from_dict(task.pop_gradient_profile())
    assert profile.step == 4 and task.pop_gradient_profile() is None  # handed out once
    assert len(profile.dl_dh) == len(profile.dhT_dh) == layers
    assert all(len(row) == length for row in profile.dl_dh + profile.dhT_dh)
    assert profile.norm_after <= min(profile.norm_before, 1.0) + 1e-3  # clipped at 1.0
    metrics = task.evaluate()
    assert metrics["val_loss"] > 0 and metrics["grad_ratio"] > 0
    assert ("baseline_mse" if task.problem == "adding" else "baseline_loss") in metrics


def test_state_dict_resumes_the_probe_schedule() -> None:
    task = create_task(tiny("gru", probe_every=3))
    task.batches(0)
    for i in range(2):
        task.train_step(i, 1e-3)
    again = create_task(tiny("gru", probe_every=3))
    again.load_state_dict(task.state_dict())
    again.batches(0)
    again.pop_gradient_profile()
    again.train_step(2, 1e-3)
    assert again.pop_gradient_profile()["step"] == 3


def test_exploding_gradients_are_flagged_without_clipping() -> None:
    task = create_task(tiny("rnn", activation="relu", clip=0.0, seq_len=40, probe_every=1))
    with torch.no_grad():
        task.engine.model.layers[0].rnn.weight_hh_l0.mul_(4.0)
    task.batches(0)
    task.train_step(0, 1e-3)
    profile = task.pop_gradient_profile()
    assert profile["exploding"] and profile["norm_after"] == profile["norm_before"]
    first, last = profile["dl_dh"][0][0], profile["dl_dh"][0][-1]
    assert first is None or first > 1e3 * last  # grows (or overflows) backwards in time


def test_exploding_between_probes_is_not_missed() -> None:
    """A step that is not probed still marks the next profile (peak_norm since the last one)."""
    task = create_task(tiny("rnn", activation="relu", clip=0.0, seq_len=40, probe_every=3))
    weight = task.engine.model.layers[0].rnn.weight_hh_l0
    task.batches(0)
    task.train_step(0, 1e-3)
    assert not task.pop_gradient_profile()["exploding"]
    with torch.no_grad():
        weight.mul_(4.0)
    task.train_step(1, 1e-3)  # not probed
    with torch.no_grad():
        weight.div_(4.0)
    task.train_step(2, 1e-3)
    profile = task.pop_gradient_profile()
    assert profile["step"] == 3 and profile["exploding"]
    assert profile["peak_norm"] > 1e3 > profile["norm_before"]


def test_overflow_fails_the_run_cleanly(tmp_path) -> None:
    from tasks.engine.trainer import Trainer

    task = create_task(tiny("rnn", activation="relu", clip=0.0, seq_len=300, epochs=1))
    with torch.no_grad():
        task.engine.model.layers[0].rnn.weight_hh_l0.mul_(50.0)
    events = list(Trainer(task, tmp_path / "run").run())
    assert events[-1].kind == "failed"
    assert "became" in events[-1].reason and "--clip" in events[-1].reason


def test_profile_json_has_no_nan() -> None:
    profile = GradientProfile.measured(
        5, np.array([[np.inf, 1.0]]), np.array([[np.nan, 1.0]]), math.inf, math.inf, 0.0
    )
    data = profile.to_dict()
    assert data["dl_dh"] == [[None, 1.0]] and data["dhT_dh"] == [[None, 1.0]]
    assert data["exploding"] and data["ratio"] is None


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"seq_len": 1}, "between 2 and"),
        ({"seq_len": MAX_SEQ_LEN + 1}, f"between 2 and {MAX_SEQ_LEN}"),
        ({"arch": "lstm", "activation": "relu"}, "--arch rnn only"),
        ({"arch": "numpy-rnn", "problem": "adding"}, "--problem copy"),
        ({"dataset": "tiny-shakespeare"}, "generates its data"),
        ({"bidirectional": True}, "one direction"),
        ({"arch": "rnn", "activation": "relu", "block": True}, "without --block"),
        ({"arch": "s6", "init": "orthogonal"}, "not s6"),
        ({"arch": "lru", "backend": "scratch"}, "written from its equations"),
    ],
)
def test_bad_settings_are_one_clear_line(overrides: dict, needle: str) -> None:
    arch = overrides.pop("arch", "rnn")
    with pytest.raises(ConfigError, match=needle.replace("-", r"\-")) as info:
        create_task(tiny(arch, **overrides))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"), [("problem", "parity"), ("init", "xavier"), ("probe_every", 0)]
)
def test_config_rejects_unknown_switches(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"--{field.replace('_', '-')}"):
        tiny("rnn", **{field: value})
