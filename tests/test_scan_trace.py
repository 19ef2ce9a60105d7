"""The scan view's numbers (`models.cores.scan_trace`): the traced phases are the real scans."""

from __future__ import annotations

import pytest
import torch

from models.cores import CoreError, scan_trace
from models.cores.scan import chunked_scan
from models.cores.scan_trace import _coefficients, build, parallel_bytes, timings, trace
from models.registry import ARCHITECTURES

PARALLEL = [name for name, arch in ARCHITECTURES.items() if arch.modern and arch.parallel]
SEQUENTIAL_ONLY = [name for name, arch in ARCHITECTURES.items() if not arch.parallel]


def test_every_parallel_core_can_be_traced() -> None:
    assert set(PARALLEL) == {"mingru", "minlstm", "lru", "s6", "mlstm"}


@pytest.mark.parametrize("arch", PARALLEL)
def test_the_traced_parallel_form_reproduces_the_sequential_states(arch: str) -> None:
    traced = trace(arch, steps=8, width=4, seed=3, unit=1)
    assert len(traced.sequential) == 8
    forms = [f for f in (traced.chunked, traced.log, traced.parallel) if f is not None]
    assert forms
    for form in forms:
        assert form.difference < 1e-9
        assert form.states == pytest.approx(traced.sequential, abs=1e-9)
    assert (traced.log is not None) == ("log" in ARCHITECTURES[arch].scans)


@pytest.mark.parametrize("arch", ["mingru", "lru", "s6"])
def test_the_chunked_phases_are_those_of_chunked_scan(arch: str) -> None:
    traced = trace(arch, steps=8, width=4, seed=1)
    chunked = traced.chunked
    assert chunked is not None
    assert (chunked.chunk, chunked.chunks, chunked.sequential_steps) == (3, 3, 6)
    assert chunked.carries[0] == 0  # from a zero state
    for k, t in ((1, 3), (2, 6)):  # phase 2: the state at the end of the previous chunk
        assert chunked.carries[k] == pytest.approx(chunked.states[t - 1], abs=1e-12)
    for t in range(8):  # phase 3: the fix-up
        fixed = chunked.local[t] + chunked.products[t] * chunked.carries[t // 3]
        assert chunked.states[t] == pytest.approx(fixed, abs=1e-12)
    core = build(arch, 4, 1, torch.float64, heads=1)
    x = torch.randn(1, 8, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        a, b = _coefficients(core, x)
        h = chunked_scan(a, b, torch.zeros_like(b[:, 0]), chunk=3)[0].reshape(8, -1)[:, 0]
    assert chunked.states == pytest.approx(h.tolist(), abs=1e-12)


def test_mlstm_decay_matrix_is_causal_and_stabilised() -> None:
    decay = trace("mlstm", steps=6, width=4).parallel.decay
    assert len(decay) == 6 and all(len(row) == 6 for row in decay)
    for t, row in enumerate(decay):
        assert all(v == 0 for v in row[t + 1 :])
        assert all(0 < v <= 1 for v in row[: t + 1])


@pytest.mark.parametrize("arch", SEQUENTIAL_ONLY)
def test_a_sequential_only_core_says_so_in_one_line(arch: str) -> None:
    with pytest.raises(CoreError, match="only a sequential recurrence"):
        trace(arch)


def test_timings_give_one_row_per_length_with_positive_times() -> None:
    rows = list(timings("mingru", steps=(8, 16), batch=2, width=8, repeats=1))
    assert [r.steps for r in rows] == [8, 16]
    for row in rows:
        assert row.scan == "chunked" and not row.skipped
        assert all(t > 0 for t in (*row.forward, *row.backward))


def test_timings_stop_when_asked() -> None:
    assert list(timings("lru", steps=(8, 16), batch=2, width=8, stop=lambda: True)) == []


def test_a_parallel_form_too_large_for_memory_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    core = build("mlstm", 64, 0, torch.float32)
    assert parallel_bytes(core, 8, 4096) == 8 * 4 * 4096 * 4096 * 4  # 2 GiB of T x T
    monkeypatch.setattr(scan_trace, "MEMORY_LIMIT", 8 * 4 * 8 * 8 * 4 - 1)
    (row,) = timings("mlstm", steps=(8,), batch=8, width=64, repeats=1)
    assert row.skipped and row.backward[1] is None and row.forward[0] > 0
