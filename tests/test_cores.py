"""Oracle tests of the recurrent cores (`models.cores`): every scan computes the same function.

For each core, in float64 on small sizes: the parallel scans equal the sequential recurrence
(outputs, final states and gradients), from a zero and from a random initial state, with and
without padding; padding never touches the state; a state carried across chunks equals one
long forward; `step` one step at a time equals `forward`; the meta-device parameter count
equals the real one. sLSTM (sequential only) also matches its raw, unstabilised equations
and passes gradcheck. Bad combinations raise one `CoreError` line.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from models.cores import (
    LRU,
    MLSTM,
    S6,
    SLSTM,
    CoreError,
    IndRNN,
    MinGRU,
    MinLSTM,
    RecurrentCore,
    ResidualBlock,
    TorchRecurrent,
    meta_parameter_count,
)
from models.cores.scan import chunked_scan, log_scan

B, T, I = 3, 7, 3  # batch, time, input features  # noqa: E741
LENGTHS = [T, 4, 1]
TOL = {"atol": 1e-6, "rtol": 1e-6}

CORES: dict[str, Callable[[], RecurrentCore]] = {
    "rnn-fused": lambda: TorchRecurrent("rnn", I, 4),
    "lstm-fused-2layers": lambda: TorchRecurrent("lstm", I, 4, num_layers=2),
    "gru-scratch": lambda: TorchRecurrent("gru", I, 4, backend="scratch"),
    "lstm-scratch": lambda: TorchRecurrent("lstm", I, 4, backend="scratch"),
    "mingru": lambda: MinGRU(I, 4),
    "mingru-linear": lambda: MinGRU(I, 4, candidate="linear"),
    "minlstm": lambda: MinLSTM(I, 4, chunk=3),
    "lru": lambda: LRU(I, 5),
    "s6": lambda: S6(I, 4, chunk=2),
    "mlstm": lambda: MLSTM(I, 4, heads=2),
    "indrnn": lambda: IndRNN(I, 4, horizon=T),
    "slstm": lambda: SLSTM(I, 4, heads=2),
    "slstm-sigmoid": lambda: SLSTM(I, 4, heads=2, forget="sigmoid"),
    "block-mingru": lambda: ResidualBlock(MinGRU(I, I)),
    "block-lru-rms": lambda: ResidualBlock(LRU(I, 4), mlp_ratio=2, norm="rms"),
}

SCANNED = [
    (name, scan) for name, make in CORES.items() for scan in make().scans if scan != "sequential"
]
EVERY_SCAN = [(name, scan) for name, make in CORES.items() for scan in make().scans]


def build(name: str, scan: str | None = None) -> RecurrentCore:
    torch.manual_seed(0)
    core = CORES[name]().double().eval()
    if scan is not None:
        core.scan = scan
    return core


def flat(state) -> list[Tensor]:
    """The state's tensors, complex ones as real pairs."""
    parts = state if isinstance(state, tuple) else (state,)
    return [torch.view_as_real(p) if p.is_complex() else p for p in parts]


def random_state(core: RecurrentCore, batch: int = B):
    """A non-zero state of the core's shapes (a leaf that takes gradients)."""
    state = core.initial_state(batch)
    parts = tuple(
        (p + torch.randn_like(p)).requires_grad_()
        for p in (state if isinstance(state, tuple) else (state,))
    )
    return parts if isinstance(state, tuple) else parts[0]


def inputs(batch: int = B, steps: int = T) -> Tensor:
    torch.manual_seed(1)
    return torch.randn(batch, steps, I, dtype=torch.float64, requires_grad=True)


def run_with_grads(core: RecurrentCore, x: Tensor, state, lengths):
    """Outputs, final state, and the gradients of a fixed random loss of both."""
    y, final = core(x, state, lengths)
    generator = torch.Generator().manual_seed(2)
    loss = (y * torch.randn(y.shape, generator=generator, dtype=y.dtype)).sum()
    for part in flat(final):
        loss = loss + (part * torch.randn(part.shape, generator=generator, dtype=part.dtype)).sum()
    leaves = [] if state is None else list(state) if isinstance(state, tuple) else [state]
    grads = torch.autograd.grad(loss, [x, *core.parameters(), *leaves])
    return [y, *flat(final)], list(grads)


def assert_all_close(got: list[Tensor], want: list[Tensor]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, **TOL)


# ---- the oracles ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "scan"), SCANNED)
@pytest.mark.parametrize("padded", [False, True], ids=["fresh", "state-and-padding"])
def test_parallel_scan_equals_the_sequential_recurrence(name: str, scan: str, padded: bool) -> None:
    """Outputs, final states and gradients (input, parameters, initial state) to 1e-6."""
    results = {}
    for mode in ("sequential", scan):
        core = build(name, mode)
        torch.manual_seed(3)
        state = random_state(core) if padded else None
        lengths = LENGTHS if padded else None
        results[mode] = run_with_grads(core, inputs(), state, lengths)
    (seq_out, seq_grads), (par_out, par_grads) = results["sequential"], results[scan]
    assert_all_close(par_out, seq_out)
    assert_all_close(par_grads, seq_grads)


@pytest.mark.parametrize(("name", "scan"), EVERY_SCAN)
def test_padding_never_touches_the_state(name: str, scan: str) -> None:
    core = build(name, scan)
    torch.manual_seed(3)
    state = random_state(core)
    x = inputs().detach()
    y, final = core(x, state, LENGTHS)
    past = torch.arange(T).unsqueeze(0) >= torch.tensor(LENGTHS).unsqueeze(1)  # (B, T)
    assert bool((y[past] == 0).all())
    noisy = x.masked_fill(past.unsqueeze(-1), 1e3)  # change only the padded steps
    y2, final2 = core(noisy, state, LENGTHS)
    assert_all_close([y2, *flat(final2)], [y, *flat(final)])
    # every sequence padded to the same length: the state of the unpadded prefix
    y3, final3 = core(x, state, [4] * B)
    y4, final4 = core(x[:, :4], state)
    assert_all_close([y3[:, :4], *flat(final3)], [y4, *flat(final4)])


@pytest.mark.parametrize(("name", "scan"), EVERY_SCAN)
def test_a_state_carried_across_chunks_equals_one_long_forward(name: str, scan: str) -> None:
    core = build(name, scan)
    torch.manual_seed(3)
    state = random_state(core)
    x = inputs().detach()
    y, final = core(x, state)
    y1, mid = core(x[:, :3], state)
    y2, end = core(x[:, 3:], mid)
    assert_all_close([torch.cat([y1, y2], 1), *flat(end)], [y, *flat(final)])


@pytest.mark.parametrize(("name", "scan"), EVERY_SCAN)
def test_step_one_step_at_a_time_equals_forward(name: str, scan: str) -> None:
    core = build(name, scan)
    torch.manual_seed(3)
    state = random_state(core)
    x = inputs().detach()
    y, final = core(x, state)
    outputs, carried = [], state
    for t in range(T):
        y_t, carried = core.step(x[:, t], carried)
        outputs.append(y_t)
    assert_all_close([torch.stack(outputs, 1), *flat(carried)], [y, *flat(final)])
    y0, _ = core.step(x[:, 0])  # no state: the initial state
    torch.testing.assert_close(y0, core(x[:, :1])[0][:, 0], **TOL)


@pytest.mark.parametrize("name", CORES)
def test_parameter_count_on_the_meta_device_equals_the_built_module(name: str) -> None:
    with torch.device("meta"):
        meta = CORES[name]()
    assert all(p.device.type == "meta" for p in meta.parameters())
    real = CORES[name]()
    assert meta_parameter_count(CORES[name]) == real.parameter_count
    assert real.parameter_count == sum(p.numel() for p in real.parameters()) > 0


@pytest.mark.parametrize(
    "kind", [MinGRU, MinLSTM, LRU, S6, MLSTM, SLSTM, IndRNN, ResidualBlock, TorchRecurrent]
)
def test_every_core_shows_its_equations(kind: type[RecurrentCore]) -> None:
    lines = kind.equations().splitlines()
    assert len(lines) >= 2 and "=" in lines[0]


# ---- the scans on their own ------------------------------------------------------------------


def loop(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    h, out = h0, []
    for t in range(a.size(1)):
        h = a[:, t] * h + b[:, t]
        out.append(h)
    return torch.stack(out, 1)


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
@pytest.mark.parametrize(("steps", "chunk"), [(1, None), (7, None), (7, 3), (8, 4), (5, 1), (5, 9)])
def test_chunked_scan_is_the_recurrence_and_its_backward_is_exact(
    dtype: torch.dtype, steps: int, chunk: int | None
) -> None:
    torch.manual_seed(0)
    a = torch.rand(2, steps, 3, dtype=dtype, requires_grad=True)
    b = torch.randn(2, steps, 3, dtype=dtype, requires_grad=True)
    h0 = torch.randn(2, 3, dtype=dtype, requires_grad=True)
    torch.testing.assert_close(chunked_scan(a, b, h0, chunk), loop(a, b, h0))
    assert torch.autograd.gradcheck(lambda a, b, h0: chunked_scan(a, b, h0, chunk), (a, b, h0))


def test_log_scan_takes_any_initial_state() -> None:
    torch.manual_seed(0)
    a, b = torch.rand(2, 9, 3, dtype=torch.float64) + 0.01, torch.rand(2, 9, 3, dtype=torch.float64)
    h0 = torch.randn(2, 3, dtype=torch.float64)  # negative entries too
    torch.testing.assert_close(log_scan(a.log(), b.log(), h0), loop(a, b, h0))


# ---- what each paper's parameterisation promises ---------------------------------------------


def test_lru_eigenvalues_start_on_the_ring_and_gamma_normalises() -> None:
    torch.manual_seed(0)
    core = LRU(4, 64, r_min=0.9, r_max=0.99, dtype=torch.float64)
    modulus = core.eigenvalues().abs()
    assert bool(((modulus >= 0.9 - 1e-12) & (modulus <= 0.99 + 1e-12)).all())
    torch.testing.assert_close(torch.exp(core.gamma_log), torch.sqrt(1 - modulus**2))


def test_indrnn_clips_its_recurrent_weight_to_the_horizon_bound() -> None:
    core = IndRNN(I, 4, horizon=50, max_gain=2.0).double()
    bound = 2.0 ** (1 / 50)
    assert bool((core.u >= 0.5 ** (1 / 50)).all() and (core.u <= bound).all())
    x = inputs().detach()
    with torch.no_grad():
        core.u.fill_(5.0)
    y_big, _ = core(x)
    with torch.no_grad():
        core.u.fill_(bound)
    torch.testing.assert_close(core(x)[0], y_big)


def test_mlstm_stabiliser_keeps_huge_input_gates_finite_and_equal() -> None:
    """``exp(ĩ)`` with ĩ = 800 overflows float64; the stabilised forms still agree."""
    outputs = []
    for scan in ("sequential", "parallel"):
        core = build("mlstm", scan)
        with torch.no_grad():
            core.gates.bias[: core.heads].fill_(800.0)
        with torch.no_grad():
            y, (C, _, m) = core(inputs())
        assert bool(torch.isfinite(y).all() and torch.isfinite(C).all())
        assert float(m.min()) > 700
        outputs.append(y)
    torch.testing.assert_close(outputs[1], outputs[0], **TOL)


def naive_slstm(core: SLSTM, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """sLSTM's equations literally, from a zero state and without the stabiliser: raw
    ``exp(ĩ)``, ``f`` and unscaled ``c``, ``n``; ``R`` built as the full block-diagonal matrix.

    Returns ``(y (B, T, H), c_T, n_T)``."""
    blocks = core.recurrent.detach()  # (4, heads, d_in, d_out)
    R = torch.cat([torch.block_diag(*(r.T for r in gate)) for gate in blocks])  # (4H, H)
    W, b = core.linear.weight.detach(), core.linear.bias.detach()
    h = c = n = torch.zeros(x.size(0), core.hidden_size, dtype=x.dtype)
    outputs = []
    for t in range(x.size(1)):
        z, i, f, o = (x[:, t] @ W.T + h @ R.T + b).chunk(4, dim=-1)
        f = torch.exp(f) if core.forget == "exp" else torch.sigmoid(f)
        c = f * c + torch.exp(i) * torch.tanh(z)
        n = f * n + torch.exp(i)
        h = torch.sigmoid(o) * c / n
        outputs.append(h)
    return torch.stack(outputs, 1), c, n


@pytest.mark.parametrize("name", ["slstm", "slstm-sigmoid"])
def test_slstm_stabiliser_does_not_change_the_function(name: str) -> None:
    """The stabilised core equals the raw equations: ``h``, and ``c``, ``n`` once scaled back
    by ``exp(m)``; the stabiliser did move (``|m| > 1``), so the scaling was exercised."""
    core = build(name)
    x = 3 * inputs().detach()
    with torch.no_grad():
        y, (h, c, n, m) = core(x)
    want_y, want_c, want_n = naive_slstm(core, x)
    assert float(m.abs().max()) > 1
    assert_all_close([y, h, c * m.exp(), n * m.exp()], [want_y, want_y[:, -1], want_c, want_n])


@pytest.mark.parametrize("name", ["slstm", "slstm-sigmoid"])
def test_slstm_stabiliser_keeps_huge_gate_preactivations_finite(name: str) -> None:
    """Inputs × 1e3 in float32: the raw equations overflow, the core's outputs, state and
    gradients stay finite (also where ``f̃_1 - ĩ_1`` is far above 88: the empty-memory rule)."""
    torch.manual_seed(0)
    core = CORES[name]()  # float32
    x = (1e3 * inputs().detach()).float().requires_grad_()
    y, state = core(x)
    assert all(bool(torch.isfinite(p).all()) for p in (y, *state))
    state = tuple(p.detach() for p in state)
    assert float(state[2].min()) >= 1  # n_t >= 1: the division is safe
    assert float(state[3].abs().max()) > 88  # exp(m) would overflow float32
    grads = torch.autograd.grad(y.sum(), [x, *core.parameters()])
    assert all(bool(torch.isfinite(g).all()) for g in grads)
    with torch.no_grad():
        assert not bool(torch.isfinite(naive_slstm(core, x)[0]).all())


@pytest.mark.parametrize("forget", ["exp", "sigmoid"])
@pytest.mark.parametrize("fresh", [True, False], ids=["zero-state", "positive-state"])
def test_slstm_gradients_pass_gradcheck(forget: str, fresh: bool) -> None:
    """Input, parameter (and initial-state) gradients against finite differences, in float64;
    a given state keeps ``n > 0`` (at ``n = 0`` the stabiliser's choice of ``m`` jumps)."""
    torch.manual_seed(0)
    core = SLSTM(2, 4, heads=2, forget=forget).double()
    names = [key for key, _ in core.named_parameters()]
    x = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    h, c, n, m = (torch.randn(2, 4, dtype=torch.float64) for _ in range(4))
    state = () if fresh else (h, c, 1 + n.abs(), m)
    leaves = [p.detach().clone().requires_grad_() for p in (*core.parameters(), *state)]

    def run(x: Tensor, *leaves: Tensor) -> tuple[Tensor, ...]:
        params = dict(zip(names, leaves[: len(names)], strict=True))
        start = tuple(leaves[len(names) :]) or None
        y, final = torch.func.functional_call(core, params, (x, start))
        return (y, *final)

    assert torch.autograd.gradcheck(run, (x, *leaves))


# ---- bad input: one line naming the combination ----------------------------------------------


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_the_log_space_scan_refuses_a_candidate_that_can_be_negative() -> None:
    with pytest.raises(CoreError) as error:
        MinGRU(I, 4, candidate="linear", scan="log")
    assert "log-space" in one_line(error) and "candidate='linear'" in one_line(error)
    core = MinLSTM(I, 4, candidate="linear", scan="sequential")
    with pytest.raises(CoreError, match="log-space"):
        core.scan = "log"
    assert core.scan == "sequential"


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: MinGRU(I, 4, scan="parallel"), "no scan 'parallel'"),
        (lambda: TorchRecurrent("lstm", I, 4, bidirectional=True).step(torch.zeros(B, I)),
         "bidirectional LSTM cannot step"),
        (lambda: ResidualBlock(MinGRU(I, 4)), "keeps the width"),
        (lambda: MLSTM(I, 6, heads=4), "split into 4 heads"),
        (lambda: SLSTM(I, 6, heads=4), "split into 4 heads"),
        (lambda: SLSTM(I, 4, forget="tanh"), "unknown forget gate 'tanh'"),
        (lambda: LRU(I, 4, r_min=0.5, r_max=0.5), "r_min < r_max"),
        (lambda: MinGRU(I, 4)(torch.zeros(B, T, I + 1)), "expected input"),
        (lambda: MinGRU(I, 4)(torch.zeros(B, T, I), lengths=[T, 0, 2]), "lengths must lie"),
        (lambda: S6(I, 4)(torch.zeros(B, T, I), torch.zeros(B, I)), "expected a state"),
    ],
)  # fmt: skip
def test_a_combination_a_core_cannot_run_is_one_clear_line(make, words: str) -> None:
    with pytest.raises(CoreError) as error:
        make()
    assert words in one_line(error)
