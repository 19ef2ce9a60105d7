"""Oracle tests: our cells against `nn.RNNCell`, `nn.LSTMCell` and `nn.GRUCell`."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from models.cells import GRUCell, LSTMCell, RNNCell, gru_step, lstm_step, rnn_step

INPUT, HIDDEN, BATCH = 5, 7, 3

# name -> (ours, torch's, extra constructor kwargs)
CELLS = {
    "rnn_tanh": (RNNCell, nn.RNNCell, {}),
    "rnn_relu": (RNNCell, nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (LSTMCell, nn.LSTMCell, {}),
    "gru": (GRUCell, nn.GRUCell, {}),
}
TOLERANCE = {
    torch.float64: {"atol": 1e-6, "rtol": 0.0},
    torch.float32: {"atol": 1e-5, "rtol": 1e-5},
}


def make_pair(name: str, bias: bool = True, dtype: torch.dtype = torch.float64):
    ours_cls, torch_cls, kwargs = CELLS[name]
    reference = torch_cls(INPUT, HIDDEN, bias=bias, dtype=dtype, **kwargs)
    ours = ours_cls(INPUT, HIDDEN, bias=bias, dtype=dtype, **kwargs)
    ours.load_state_dict(reference.state_dict())
    return ours, reference


def make_hx(name: str, batched: bool, dtype: torch.dtype):
    shape = (BATCH, HIDDEN) if batched else (HIDDEN,)
    if name == "lstm":
        return (torch.randn(shape, dtype=dtype), torch.randn(shape, dtype=dtype))
    return torch.randn(shape, dtype=dtype)


def as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("with_hx", [False, True], ids=["no_hx", "hx"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("name", list(CELLS))
def test_cell_matches_torch(name, bias, batched, with_hx, dtype):
    torch.manual_seed(0)
    ours, reference = make_pair(name, bias, dtype)
    x = torch.randn((BATCH, INPUT) if batched else (INPUT,), dtype=dtype)
    hx = make_hx(name, batched, dtype) if with_hx else None

    outputs = []
    for cell in (ours, reference):
        x_ = x.clone().requires_grad_()
        hx_ = tuple(h.clone().requires_grad_() for h in as_tuple(hx)) if with_hx else None
        if hx_ is not None and name != "lstm":
            hx_ = hx_[0]
        out = as_tuple(cell(x_, hx_))
        loss = sum(
            (o * torch.linspace(-1, 1, o.numel(), dtype=dtype).view_as(o)).sum() for o in out
        )
        loss.backward()
        grads = [x_.grad] + [p.grad for p in cell.parameters()]
        if hx_ is not None:
            grads += [h.grad for h in as_tuple(hx_)]
        outputs.append((out, grads))

    (ours_out, ours_grads), (ref_out, ref_grads) = outputs
    tol = TOLERANCE[dtype]
    assert len(ours_out) == len(ref_out)
    for a, b in zip(ours_out, ref_out, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, **tol)
    for a, b in zip(ours_grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, **tol)


@pytest.mark.parametrize("name", list(CELLS))
def test_cell_over_a_sequence(name):
    torch.manual_seed(1)
    ours, reference = make_pair(name)
    xs = torch.randn(6, BATCH, INPUT, dtype=torch.float64)
    h_ours = h_ref = None
    for x in xs:
        h_ours, h_ref = ours(x, h_ours), reference(x, h_ref)
    for a, b in zip(as_tuple(h_ours), as_tuple(h_ref), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0.0)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", list(CELLS))
def test_parameters_init_and_repr_like_torch(name, bias):
    ours_cls, torch_cls, kwargs = CELLS[name]
    torch.manual_seed(3)
    reference = torch_cls(INPUT, HIDDEN, bias=bias, **kwargs)
    torch.manual_seed(3)
    ours = ours_cls(INPUT, HIDDEN, bias=bias, **kwargs)
    assert repr(ours) == repr(reference)
    ours_params = dict(ours.named_parameters())
    ref_params = dict(reference.named_parameters())
    assert list(ours_params) == list(ref_params)
    for key, value in ref_params.items():
        assert ours_params[key].shape == value.shape
        # Same initialisation, drawn in the same order: equal for equal seeds.
        assert torch.equal(ours_params[key], value)
    bound = HIDDEN**-0.5
    assert all(p.abs().max() <= bound for p in ours.parameters())
    assert (ours.bias_ih is None) == (not bias)


@pytest.mark.parametrize("name", list(CELLS))
def test_device_and_dtype_arguments(name):
    ours_cls, _, kwargs = CELLS[name]
    cell = ours_cls(INPUT, HIDDEN, device="cpu", dtype=torch.float64, **kwargs)
    assert all(p.dtype == torch.float64 and p.device.type == "cpu" for p in cell.parameters())


@pytest.mark.parametrize(
    ("cls", "label"), [(RNNCell, "RNNCell"), (LSTMCell, "LSTMCell"), (GRUCell, "GRUCell")]
)
def test_input_dimension_errors_like_torch(cls, label):
    cell = cls(INPUT, HIDDEN)
    with pytest.raises(ValueError, match=f"{label}: Expected input to be 1D or 2D, got 3D instead"):
        cell(torch.randn(2, BATCH, INPUT))
    bad_h = torch.randn(1, BATCH, HIDDEN)
    if cls is LSTMCell:
        with pytest.raises(ValueError, match=r"LSTMCell: Expected hx\[0\] to be 1D or 2D, got 3D"):
            cell(torch.randn(BATCH, INPUT), (bad_h, bad_h))
    else:
        with pytest.raises(ValueError, match=f"{label}: Expected hidden to be 1D or 2D, got 3D"):
            cell(torch.randn(BATCH, INPUT), bad_h)


def test_rnn_cell_rejects_unknown_nonlinearity():
    cell = RNNCell(INPUT, HIDDEN, nonlinearity="gelu")
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: gelu"):
        cell(torch.randn(BATCH, INPUT))


def test_step_functions_take_a_folded_bias():
    """A layer adds b_hh into the projection once; the result must be the same as in-step."""
    torch.manual_seed(4)
    x = torch.randn(BATCH, INPUT, dtype=torch.float64)
    h = torch.randn(BATCH, HIDDEN, dtype=torch.float64)
    c = torch.randn(BATCH, HIDDEN, dtype=torch.float64)
    for chunks, step in ((1, rnn_step), (4, lstm_step)):
        w_ih = torch.randn(chunks * HIDDEN, INPUT, dtype=torch.float64)
        w_hh = torch.randn(chunks * HIDDEN, HIDDEN, dtype=torch.float64)
        b_ih, b_hh = torch.randn(2, chunks * HIDDEN, dtype=torch.float64)
        args = (h, c) if step is lstm_step else (h,)
        separate = step(x @ w_ih.T + b_ih, *args, w_hh, b_hh)
        folded = step(x @ w_ih.T + b_ih + b_hh, *args, w_hh, None)
        for a, b in zip(as_tuple(separate), as_tuple(folded), strict=True):
            torch.testing.assert_close(a, b)


def test_gru_step_equations():
    """gru_step against the textbook equations, written out separately here."""
    torch.manual_seed(5)
    H = HIDDEN
    x = torch.randn(BATCH, INPUT, dtype=torch.float64)
    h = torch.randn(BATCH, H, dtype=torch.float64)
    w_ih = torch.randn(3 * H, INPUT, dtype=torch.float64)
    w_hh = torch.randn(3 * H, H, dtype=torch.float64)
    b_ih, b_hh = torch.randn(2, 3 * H, dtype=torch.float64)
    w_ir, w_iz, w_in = w_ih.chunk(3)
    w_hr, w_hz, w_hn = w_hh.chunk(3)
    b_ir, b_iz, b_in = b_ih.chunk(3)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    r = torch.sigmoid(x @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
    z = torch.sigmoid(x @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
    n = torch.tanh(x @ w_in.T + b_in + r * (h @ w_hn.T + b_hn))
    expected = (1 - z) * n + z * h
    torch.testing.assert_close(gru_step(x @ w_ih.T + b_ih, h, w_hh, b_hh), expected)
