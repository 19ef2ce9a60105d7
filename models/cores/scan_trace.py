"""What the scan view draws: one core run step by step and by its parallel form, and both timed.

`trace` builds a tiny seeded core (float64) and runs a short sequence twice: the sequential
recurrence (``step`` after ``step``) and the parallel form, with every phase kept so a screen
can draw it:

- the block-wise scan of `models.cores.scan` (minGRU, minLSTM, LRU, S6): each chunk scanned
  from a zero state (all chunks at once, ``C`` steps), the carries across chunk ends (``n``
  steps), the fix-up ``h = local + p ⊙ carry`` (one step over all ``t``);
- the log-space scan (minGRU, minLSTM): ``a*_t = Σ log a`` and the states it gives;
- mLSTM's parallel form: the decay matrix ``D'`` and the outputs computed from it.

`timings` times a core's sequential mode against its default parallel scan, forward and
forward + backward, one row per sequence length. Torch only; no UI.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from models.cores.base import CoreError, RecurrentCore
from models.cores.lru import LRU
from models.cores.minimal import MinimalRNN
from models.cores.mlstm import MLSTM
from models.cores.s6 import S6
from models.cores.scan import default_chunk, log_scan
from models.cores.stack import make_core

__all__ = [
    "MEASURE_STEPS",
    "ChunkedTrace",
    "DecayTrace",
    "LogTrace",
    "ScanTrace",
    "Timing",
    "parallel_bytes",
    "timings",
    "trace",
]

MEASURE_STEPS = (64, 256, 1024, 4096)
"""The sequence lengths `timings` measures by default."""
MEMORY_LIMIT = 256 * 2**20
"""Bytes of the parallel form's largest tensor above which `timings` skips it."""


@dataclass(frozen=True)
class ChunkedTrace:
    """The block-wise scan's phases for one unit (lists over ``t = 1..T``)."""

    chunk: int
    """``C``, steps per chunk (``ceil(sqrt(T))``, as `chunked_scan` picks)."""
    chunks: int
    """``n``, the number of chunks."""
    local: list[complex]
    """Phase 1: each chunk's scan from a zero state."""
    products: list[complex]
    """``p_t``: the product of ``a`` from the chunk's start up to ``t``."""
    carries: list[complex]
    """Phase 2: the true state entering each chunk (``n`` values; the first is ``h_0``)."""
    states: list[complex]
    """Phase 3, the fix-up: ``local_t + p_t ⊙ carry`` of ``t``'s chunk."""
    difference: float
    """Largest ``|states - sequential|`` over every unit and step."""

    @property
    def sequential_steps(self) -> int:
        """``C + n``: the steps that must run one after another."""
        return self.chunk + self.chunks


@dataclass(frozen=True)
class LogTrace:
    """The log-space scan for one unit."""

    a_star: list[float]
    """``a*_t = Σ_{s<=t} log a_s`` (a cumulative sum)."""
    states: list[float]
    """``exp(a*_t + logcumsumexp(log b - a*)_t)`` (a second cumulative reduction)."""
    difference: float
    """Largest ``|states - sequential|`` over every unit and step."""


@dataclass(frozen=True)
class DecayTrace:
    """mLSTM's parallel form: the decay matrix of head 0 and the outputs of one unit."""

    decay: list[list[float]]
    """``D'_ts`` (T × T, rows t, columns s; 0 above the diagonal)."""
    states: list[float]
    """``h_t`` from ``S = (Q Kᵀ) ⊙ D'`` (the docstring's parallel form)."""
    difference: float
    """Largest ``|states - sequential|`` over every unit and step."""


@dataclass(frozen=True)
class ScanTrace:
    """One core on a short seeded sequence: the sequential states and its parallel form."""

    arch: str
    steps: int
    width: int
    unit: int
    seed: int
    quantity: str
    """The rows' label, e.g. ``h_t`` or ``x_t``."""
    follows: str
    """What the rows follow, e.g. "unit 1 of the state h_t"."""
    sequential: list[complex]
    """The recurrence step by step, ``t = 1..T``, for ``unit``."""
    chunked: ChunkedTrace | None = None
    log: LogTrace | None = None
    parallel: DecayTrace | None = None


QUANTITY = {
    "mingru": ("h_t", "unit {unit} of the state h_t"),
    "minlstm": ("h_t", "unit {unit} of the state h_t"),
    "lru": ("x_t", "unit {unit} of the complex state x_t (real parts; the check covers both)"),
    "s6": ("h_t[{unit},1]", "channel {unit}, state 1 of the state h_t (channels × states)"),
    "mlstm": ("h_t", "unit {unit} of the output h_t (the state is the matrix memory C_t)"),
}
"""Per core with a parallel form: the row label and what the rows follow ({unit}: 1-based)."""


def build(
    arch: str, width: int, seed: int, dtype: torch.dtype, heads: int | None = None
) -> RecurrentCore:
    """A seeded core of ``arch`` mapping ``width`` features to ``width`` (`make_core`)."""
    if arch not in QUANTITY:
        raise CoreError(f"{arch} has only a sequential recurrence: no parallel scan to trace")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        core = make_core(arch, width, width, heads=heads)
    return core.to(dtype)


def trace(arch: str, steps: int = 8, width: int = 4, seed: int = 0, unit: int = 0) -> ScanTrace:
    """Run ``arch`` over a seeded ``(1, steps, width)`` input both ways (float64; mLSTM with
    one head, so its decay matrix is the whole story)."""
    core = build(arch, width, seed, torch.float64, heads=1)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(1, steps, width, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        states = _sequential(core, x)  # (T, units)
        label, follows = (text.format(unit=unit + 1) for text in QUANTITY[arch])
        common = dict(arch=arch, steps=steps, width=width, unit=unit, seed=seed, quantity=label,
                      follows=follows)  # fmt: skip
        unit = unit * (states.size(1) // width)  # S6: channel `unit`, state 1 of (D, N)
        row = _row(states, unit)
        if isinstance(core, MLSTM):
            return ScanTrace(**common, sequential=row,
                             parallel=_decay(core, x, states, unit))  # fmt: skip
        a, b = _coefficients(core, x)  # (1, T, *S)
        h0 = torch.zeros_like(b[:, 0])
        log = None
        if isinstance(core, MinimalRNN) and "log" in core.scans:
            parts = core.linear(x).chunk(core.chunks, dim=-1)
            log = _log(*core._log_coefficients(*parts), states, unit)
        return ScanTrace(**common, sequential=row,
                         chunked=_chunked(a, b, h0, states, unit), log=log)  # fmt: skip


def _sequential(core: RecurrentCore, x: Tensor) -> Tensor:
    """``(T, units)``: the state after each ``step`` (mLSTM: the output), flattened."""
    state, rows = None, []
    for x_t in x.unbind(1):
        y, state = core.step(x_t, state)
        rows.append((y if isinstance(core, MLSTM) else state)[0].flatten())
    return torch.stack(rows)


def _row(values: Tensor, unit: int) -> list:
    """Column ``unit`` of ``(T, units)`` as Python numbers."""
    return values[:, unit].tolist()


def _coefficients(core: RecurrentCore, x: Tensor) -> tuple[Tensor, Tensor]:
    """``(a, b)`` of the core's ``h_t = a_t ⊙ h_{t-1} + b_t``, each ``(1, T, *S)``."""
    if isinstance(core, MinimalRNN):
        return core._coefficients(*core.linear(x).chunk(core.chunks, dim=-1))
    if isinstance(core, LRU):
        b = core._input(x)
        return core.eigenvalues().expand_as(b), b
    assert isinstance(core, S6)
    a, b, _ = core._selection(x)
    return a, b


def _chunked(a: Tensor, b: Tensor, h0: Tensor, states: Tensor, unit: int) -> ChunkedTrace:
    """The three phases of `models.cores.scan._blockwise`, kept."""
    steps = a.size(1)
    chunk = default_chunk(steps)
    local, products = torch.empty_like(b), torch.empty_like(a)
    for t in range(steps):  # phase 1: offset t % chunk, done for every chunk at once
        if t % chunk == 0:
            local[:, t], products[:, t] = b[:, t], a[:, t]
        else:
            local[:, t] = a[:, t] * local[:, t - 1] + b[:, t]
            products[:, t] = products[:, t - 1] * a[:, t]
    carries = [h0]  # phase 2: one step per chunk end
    for end in range(chunk - 1, steps - 1, chunk):
        carries.append(local[:, end] + products[:, end] * carries[-1])
    carry = torch.stack([carries[t // chunk] for t in range(steps)], 1)
    fixed = local + products * carry  # phase 3: every t at once
    flat = fixed[0].reshape(steps, -1)
    return ChunkedTrace(
        chunk=chunk,
        chunks=len(carries),
        local=_row(local[0].reshape(steps, -1), unit),
        products=_row(products[0].reshape(steps, -1), unit),
        carries=[c[0].flatten()[unit].item() for c in carries],
        states=_row(flat, unit),
        difference=(flat - states).abs().max().item(),
    )


def _log(log_a: Tensor, log_b: Tensor, states: Tensor, unit: int) -> LogTrace:
    """The log-space scan from ``log a``, ``log b`` ``(1, T, H)``."""
    h = log_scan(log_a, log_b)[0]  # (T, H)
    return LogTrace(
        a_star=_row(log_a.cumsum(1)[0], unit),
        states=_row(h, unit),
        difference=(h - states).abs().max().item(),
    )


def _decay(core: MLSTM, x: Tensor, states: Tensor, unit: int) -> DecayTrace:
    """mLSTM's parallel form from a zero state, written out (``(heads, T, T)`` per head)."""
    q, k, v, i_pre, log_f, o = core._project(x[0])  # (T, heads, d), gates (T, heads)
    q, k, v = (t.transpose(0, 1) for t in (q, k, v))  # (heads, T, d)
    F_cum = log_f.T.cumsum(-1)  # (heads, T)
    steps = x.size(1)
    causal = torch.ones(steps, steps, dtype=torch.bool).tril()
    log_D = (F_cum.unsqueeze(-1) - F_cum.unsqueeze(-2) + i_pre.T.unsqueeze(-2)).masked_fill(
        ~causal, float("-inf")
    )  # (heads, T, T)
    m = torch.maximum(log_D.amax(-1), F_cum)  # (heads, T): m_0 = 0 enters as F_t
    D = torch.exp(log_D - m.unsqueeze(-1))
    S = (q @ k.transpose(-1, -2)) * D
    h = (S @ v) / S.sum(-1).abs().maximum(torch.exp(-m)).unsqueeze(-1)  # (heads, T, d)
    h = o * h.transpose(0, 1).flatten(-2)  # (T, hidden)
    return DecayTrace(
        decay=D[0].tolist(), states=_row(h, unit), difference=(h - states).abs().max().item()
    )


# ---- timing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Seconds at one sequence length (the best of a few runs)."""

    steps: int
    scan: str
    """The parallel scan timed against "sequential"."""
    forward: tuple[float, float | None]
    """(sequential, parallel) forward seconds, no autograd; parallel None when skipped."""
    backward: tuple[float, float | None]
    """(sequential, parallel) seconds of forward + backward."""
    threads: int
    """Torch's intra-op threads during the runs."""

    @property
    def skipped(self) -> bool:
        """The parallel form would need more than `MEMORY_LIMIT` bytes at this length."""
        return self.forward[1] is None


def parallel_bytes(core: RecurrentCore, batch: int, steps: int) -> int:
    """Bytes of the parallel form's largest tensor: ``(B, heads, T, T)`` for mLSTM, else the
    states of every step ``(B, T, *S)``."""
    state = core.initial_state(1)
    if isinstance(core, MLSTM):
        return batch * core.heads * steps * steps * state[0].element_size()
    return batch * steps * state.numel() * state.element_size()


def timings(
    arch: str,
    steps: tuple[int, ...] = MEASURE_STEPS,
    batch: int = 8,
    width: int = 64,
    repeats: int = 3,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[Timing]:
    """One `Timing` per length in ``steps`` for a seeded float32 ``arch`` of ``width``.

    Each time is the best of ``repeats`` runs after a warm-up (`_best`). ``stop`` is asked
    between runs; when it says True the rows end there. The parallel form is skipped where its
    largest tensor passes `MEMORY_LIMIT` (mLSTM's ``T × T`` at T = 4096).
    """
    core = build(arch, width, 0, torch.float32)
    scan = core.scans[-1]
    for length in steps:
        x = torch.randn(batch, length, width, generator=torch.Generator().manual_seed(length))
        times: dict[tuple[str, str], float | None] = {}
        for mode in ("sequential", scan):
            core.scan = mode
            for kind, run in (("forward", _forward), ("backward", _backward)):
                if mode == scan and parallel_bytes(core, batch, length) > MEMORY_LIMIT:
                    times[mode, kind] = None
                    continue
                times[mode, kind] = _best(functools.partial(run, core, x), repeats, stop)
                if times[mode, kind] is None:
                    return
        yield Timing(
            length,
            scan,
            forward=(times["sequential", "forward"], times[scan, "forward"]),  # type: ignore[arg-type]
            backward=(times["sequential", "backward"], times[scan, "backward"]),  # type: ignore[arg-type]
            threads=torch.get_num_threads(),
        )


def _forward(core: RecurrentCore, x: Tensor) -> None:
    with torch.no_grad():
        core(x)


def _backward(core: RecurrentCore, x: Tensor) -> None:
    core.zero_grad(set_to_none=True)
    y, _ = core(x)
    y.sum().backward()


def _best(run: Callable[[], None], repeats: int, stop: Callable[[], bool]) -> float | None:
    """The fastest of ``repeats`` timed calls after a warm-up; None if ``stop`` said so.

    A call over a second is timed once: the warm-up counts, and no repeat follows.
    """
    best = math.inf
    for attempt in range(repeats + 1):
        if stop():
            return None
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
        if attempt or seconds > 1.0:  # the first call warms up unless it is a long one
            best = min(best, seconds)
        if seconds > 1.0:
            break
    return best
