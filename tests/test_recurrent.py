"""`Recurrent`: the scratch backend against the fused one (nn.RNN/nn.LSTM/nn.GRU) as oracle."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from models.recurrent import MODES, Recurrent, ScratchRNN

INPUT, HIDDEN, BATCH, STEPS = 4, 5, 3, 6
LENGTHS = [6, 2, 4]  # unsorted on purpose, with one full-length sequence
F64 = torch.float64


def make_pair(mode: str, **kwargs) -> tuple[Recurrent, Recurrent]:
    """A fused and a scratch layer with the same weights (float64 unless told)."""
    kwargs.setdefault("dtype", F64)
    fused = Recurrent(mode, INPUT, HIDDEN, backend="fused", **kwargs)
    scratch = Recurrent(mode, INPUT, HIDDEN, backend="scratch", **kwargs)
    scratch.load_state_dict(fused.state_dict())
    return fused, scratch


def as_tuple(value):
    return tuple(value) if isinstance(value, tuple) else (value,)


def make_input(batch_first: bool, dtype=F64) -> torch.Tensor:
    shape = (BATCH, STEPS, INPUT) if batch_first else (STEPS, BATCH, INPUT)
    return torch.randn(shape, dtype=dtype)


def make_hx(mode: str, layers: int, bidirectional: bool, dtype=F64):
    shape = (layers * (2 if bidirectional else 1), BATCH, HIDDEN)
    if mode == "lstm":
        return (torch.randn(shape, dtype=dtype), torch.randn(shape, dtype=dtype))
    return torch.randn(shape, dtype=dtype)


def run_with_grads(layer: Recurrent, x: torch.Tensor, hx=None, lengths=None):
    """Forward and backward; returns outputs, h_n parts and the gradients of everything."""
    x = x.clone().requires_grad_()
    hx = tuple(h.clone().requires_grad_() for h in as_tuple(hx)) if hx is not None else None
    layer.zero_grad()
    out, h_n = layer(x, None if hx is None else (hx if len(hx) == 2 else hx[0]), lengths=lengths)
    h_n = as_tuple(h_n)
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
    loss = (out * weights).sum() + sum((h.sin()).sum() for h in h_n)
    loss.backward()
    grads = {name: p.grad for name, p in layer.named_parameters()}
    grads["input"] = x.grad
    for i, h in enumerate(hx or ()):
        grads[f"hx{i}"] = h.grad
    return out, h_n, grads


def assert_same(a_run, b_run, **tol):
    tol = tol or {"atol": 1e-10, "rtol": 1e-10}
    (a_out, a_h, a_grads), (b_out, b_h, b_grads) = a_run, b_run
    assert a_out.shape == b_out.shape
    torch.testing.assert_close(a_out, b_out, **tol)
    assert len(a_h) == len(b_h)
    for x, y in zip(a_h, b_h, strict=True):
        assert x.shape == y.shape
        torch.testing.assert_close(x, y, **tol)
    assert a_grads.keys() == b_grads.keys()
    for key in a_grads:
        torch.testing.assert_close(a_grads[key], b_grads[key], **tol, msg=f"gradient of {key}")


@pytest.mark.parametrize("batch_first", [False, True], ids=["time_first", "batch_first"])
@pytest.mark.parametrize("num_layers", [1, 2], ids=["1layer", "2layers"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("mode", list(MODES))
def test_scratch_matches_fused(mode, bidirectional, num_layers, batch_first):
    torch.manual_seed(0)
    fused, scratch = make_pair(
        mode, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first
    )
    x = make_input(batch_first)
    out, h_n, _ = run = run_with_grads(fused, x)
    assert_same(run_with_grads(scratch, x), run)
    directions = 2 if bidirectional else 1
    time_batch = (BATCH, STEPS) if batch_first else (STEPS, BATCH)
    assert out.shape == (*time_batch, directions * HIDDEN)
    assert all(h.shape == (num_layers * directions, BATCH, HIDDEN) for h in h_n)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("mode", list(MODES))
def test_scratch_matches_fused_with_initial_state(mode, bidirectional):
    torch.manual_seed(1)
    fused, scratch = make_pair(mode, num_layers=2, bidirectional=bidirectional)
    x, hx = make_input(False), make_hx(mode, 2, bidirectional)
    assert_same(run_with_grads(scratch, x, hx), run_with_grads(fused, x, hx))


@pytest.mark.parametrize("bias", [False])
@pytest.mark.parametrize("mode", list(MODES))
def test_scratch_matches_fused_without_bias(mode, bias):
    torch.manual_seed(2)
    fused, scratch = make_pair(mode, num_layers=2, bias=bias, bidirectional=True)
    assert not any("bias" in name for name, _ in scratch.named_parameters())
    x = make_input(False)
    assert_same(run_with_grads(scratch, x), run_with_grads(fused, x))


def test_relu_rnn_matches_fused():
    torch.manual_seed(3)
    fused, scratch = make_pair("rnn", num_layers=2, nonlinearity="relu")
    x = make_input(False)
    assert_same(run_with_grads(scratch, x), run_with_grads(fused, x))


@pytest.mark.parametrize("mode", list(MODES))
def test_float32_matches_fused(mode):
    torch.manual_seed(4)
    fused, scratch = make_pair(mode, num_layers=2, bidirectional=True, dtype=torch.float32)
    x = make_input(True, dtype=torch.float32)
    assert_same(run_with_grads(scratch, x), run_with_grads(fused, x), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("mode", list(MODES))
def test_unbatched_input(mode):
    torch.manual_seed(5)
    fused, scratch = make_pair(mode, num_layers=2, bidirectional=True)
    x = torch.randn(STEPS, INPUT, dtype=F64)
    shape = (4, HIDDEN)
    hx = (torch.randn(shape, dtype=F64),) * (2 if mode == "lstm" else 1)
    hx = hx if mode == "lstm" else hx[0]
    for state in (None, hx):
        out_f, h_f = fused(x, state)
        out_s, h_s = scratch(x, state)
        assert out_s.shape == out_f.shape == (STEPS, 2 * HIDDEN)
        torch.testing.assert_close(out_s, out_f)
        for a, b in zip(as_tuple(h_s), as_tuple(h_f), strict=True):
            assert a.shape == b.shape == shape
            torch.testing.assert_close(a, b)


# ---------------------------------------------------------------------------------------------
# Padded batches
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_first", [False, True], ids=["time_first", "batch_first"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("mode", list(MODES))
def test_lengths_scratch_matches_packed_fused(mode, bidirectional, batch_first):
    torch.manual_seed(6)
    fused, scratch = make_pair(
        mode, num_layers=2, bidirectional=bidirectional, batch_first=batch_first
    )
    x = make_input(batch_first)
    hx = make_hx(mode, 2, bidirectional)
    lengths = torch.tensor(LENGTHS)
    for state in (None, hx):
        run = run_with_grads(fused, x, state, lengths=lengths)
        assert_same(run_with_grads(scratch, x, state, lengths=lengths), run)
        out = run[0] if batch_first else run[0].transpose(0, 1)  # (B, T, D*H)
        for b, length in enumerate(LENGTHS):
            assert torch.all(out[b, length:] == 0)
            assert torch.all(out[b, :length] != 0)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("mode", list(MODES))
def test_lengths_equal_running_each_sequence_alone(mode, bidirectional):
    """Independent oracle: sequence b cut to its length, run on its own, gives the same."""
    torch.manual_seed(7)
    _, scratch = make_pair(mode, num_layers=2, bidirectional=bidirectional)
    reference = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[mode](
        INPUT, HIDDEN, num_layers=2, bidirectional=bidirectional, dtype=F64
    )
    reference.load_state_dict({k.removeprefix("rnn."): v for k, v in scratch.state_dict().items()})
    x = make_input(False)
    out, h_n = scratch(x, lengths=LENGTHS)  # a plain list works too
    for b, length in enumerate(LENGTHS):
        out_b, h_b = reference(x[:length, b])  # unbatched (T_b, I)
        torch.testing.assert_close(out[:length, b], out_b)
        for ours, theirs in zip(as_tuple(h_n), as_tuple(h_b), strict=True):
            torch.testing.assert_close(ours[:, b], theirs)


@pytest.mark.parametrize("backend", ["fused", "scratch"])
def test_full_lengths_same_as_no_lengths(backend):
    torch.manual_seed(8)
    layer = Recurrent("lstm", INPUT, HIDDEN, bidirectional=True, backend=backend, dtype=F64)
    x = make_input(False)
    out, (h, c) = layer(x)
    out_l, (h_l, c_l) = layer(x, lengths=[STEPS] * BATCH)
    torch.testing.assert_close(out_l, out)
    torch.testing.assert_close(h_l, h)
    torch.testing.assert_close(c_l, c)


@pytest.mark.parametrize("backend", ["fused", "scratch"])
@pytest.mark.parametrize(
    ("lengths", "match"),
    [([6, 2], "one entry per batch element"), ([7, 2, 4], r"lie in \[1, 6\]"), ([0, 2, 4], "lie")],
)
def test_bad_lengths_are_rejected(backend, lengths, match):
    layer = Recurrent("gru", INPUT, HIDDEN, backend=backend)
    with pytest.raises(ValueError, match=match):
        layer(torch.randn(STEPS, BATCH, INPUT), lengths=lengths)


# ---------------------------------------------------------------------------------------------
# Dropout, state_dict, parameters, errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MODES))
def test_dropout_only_in_training(mode):
    torch.manual_seed(9)
    fused, scratch = make_pair(mode, num_layers=2, dropout=0.5)
    x = make_input(False)
    fused.eval()
    scratch.eval()
    assert_same(run_with_grads(scratch, x), run_with_grads(fused, x))
    eval_out = scratch(x)[0]
    scratch.train()
    torch.manual_seed(10)
    train_out = scratch(x)[0]
    torch.manual_seed(10)
    assert torch.equal(scratch(x)[0], train_out)  # seeded: reproducible
    assert not torch.allclose(train_out, eval_out)


@pytest.mark.parametrize("mode", list(MODES))
def test_state_dict_round_trip_across_backends(mode):
    torch.manual_seed(11)
    fused = Recurrent(mode, INPUT, HIDDEN, num_layers=2, bidirectional=True, dtype=F64)
    scratch = Recurrent(mode, INPUT, HIDDEN, 2, bidirectional=True, backend="scratch", dtype=F64)
    assert list(fused.state_dict()) == list(scratch.state_dict())
    x = make_input(False)

    scratch.load_state_dict(fused.state_dict())  # fused -> scratch
    torch.testing.assert_close(scratch(x)[0], fused(x)[0])

    with torch.no_grad():
        for p in scratch.parameters():
            p.add_(0.1)
    fused.load_state_dict(scratch.state_dict())  # scratch -> fused
    torch.testing.assert_close(fused(x)[0], scratch(x)[0])


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", list(MODES))
def test_parameters_named_counted_and_initialised_like_torch(mode, bias):
    torch_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[mode]
    torch.manual_seed(12)
    reference = torch_cls(INPUT, HIDDEN, num_layers=2, bias=bias, bidirectional=True)
    torch.manual_seed(12)
    scratch = ScratchRNN(mode, INPUT, HIDDEN, num_layers=2, bias=bias, bidirectional=True)
    ref_params = dict(reference.named_parameters())
    ours = dict(scratch.named_parameters())
    assert list(ours) == list(ref_params)
    assert sum(p.numel() for p in scratch.parameters()) == sum(
        p.numel() for p in reference.parameters()
    )
    for name, value in ref_params.items():
        assert torch.equal(ours[name], value), name  # same init, drawn in the same order
    layer = Recurrent(mode, INPUT, HIDDEN, num_layers=2, bias=bias, backend="scratch")
    assert all(name.startswith("rnn.") for name in layer.state_dict())


def test_repr_and_sizes():
    layer = Recurrent("gru", INPUT, HIDDEN, num_layers=2, bidirectional=True, backend="scratch")
    assert "backend='scratch'" in repr(layer)
    assert "ScratchRNN(gru, 4, 5, num_layers=2, bidirectional=True)" in repr(layer)
    assert layer.output_size == 2 * HIDDEN
    assert len(layer.rnn.all_weights) == 4


@pytest.mark.parametrize("backend", ["fused", "scratch"])
def test_errors_like_torch(backend):
    layer = Recurrent("lstm", INPUT, HIDDEN, backend=backend)
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        layer(torch.randn(1, STEPS, BATCH, INPUT))
    with pytest.raises(RuntimeError, match=r"input\.size\(-1\) must be equal to input_size"):
        layer(torch.randn(STEPS, BATCH, INPUT + 1))
    bad = torch.zeros(1, BATCH + 1, HIDDEN)
    with pytest.raises(RuntimeError, match="Expected hidden"):
        layer(torch.randn(STEPS, BATCH, INPUT), (bad, bad))


def test_constructor_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        Recurrent("transformer", INPUT, HIDDEN)
    with pytest.raises(ValueError, match="backend"):
        Recurrent("lstm", INPUT, HIDDEN, backend="cuda")
    with pytest.raises(ValueError, match="nonlinearity"):
        Recurrent("lstm", INPUT, HIDDEN, nonlinearity="relu")
    with pytest.raises(ValueError, match="dropout"):
        Recurrent("gru", INPUT, HIDDEN, num_layers=2, dropout=1.5, backend="scratch")


class _RecordOps(TorchDispatchMode):
    """Records the name of every aten op that runs inside the `with` block."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.add(func.__name__)
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "padded"])
@pytest.mark.parametrize("mode", list(MODES))
def test_scratch_uses_no_fused_recurrent_kernel(mode, lengths):
    layer = Recurrent(mode, INPUT, HIDDEN, num_layers=2, bidirectional=True, backend="scratch")
    with _RecordOps() as recorder:
        layer(torch.randn(STEPS, BATCH, INPUT), lengths=lengths)
    assert "addmm.default" in recorder.names  # the recorder sees the ops that run
    assert not {n for n in recorder.names if any(k in n for k in ("rnn", "lstm", "gru", "cell"))}
