"""Units ranked by how closely they follow a signal over the text (Pearson correlation).

All units of a layer and kind at once: the rows of ``(H, T)`` centred, then one product with
the standardised signals ``(T, F)``, divided by the rows' norms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from models.inspect.features import FEATURES, feature
from models.inspect.trace import InspectError, StateTrace

__all__ = ["UnitScore", "best_per_feature", "rank_units"]


@dataclass(frozen=True)
class UnitScore:
    """One unit's Pearson correlation with a signal over the text."""

    layer: int
    kind: str
    unit: int
    correlation: float


def _constant(rows: np.ndarray) -> np.ndarray:
    """True for each row of ``(N, T)`` whose values are all equal."""
    return rows.max(axis=1) == rows.min(axis=1)


def unit_correlation(values: np.ndarray, signal: np.ndarray) -> float:
    """Pearson r of one unit's ``(T,)`` values with a ``(T,)`` signal (in float64); 0 when
    either is constant. `rank_units` gives the same r for every unit at once."""
    a = values - values.mean(dtype=np.float64)
    b = signal - signal.mean(dtype=np.float64)
    norm = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b) / norm if norm > 0 else 0.0


def _standardised(signals: np.ndarray) -> np.ndarray:
    """``(F, T)`` -> centred rows of norm 1 (the caller has removed constant rows)."""
    centred = signals - signals.mean(axis=1, keepdims=True)
    return centred / np.linalg.norm(centred, axis=1, keepdims=True)


def _correlations(
    trace: StateTrace, signals: np.ndarray, kinds: Sequence[str], layers: Iterable[int]
) -> tuple[list[tuple[int, str]], np.ndarray]:
    """Pearson r of every unit with every signal ``(F, T)``: the (layer, kind) blocks, in order,
    and ``r`` ``(blocks * H, F)`` (0 for a constant unit)."""
    standard = _standardised(signals.astype(np.float32)).T  # (T, F)
    blocks, scores = [], []
    for layer in layers:
        for kind in kinds:
            rows = trace.matrix(layer, kind)  # (H, T)
            flat = _constant(rows)
            rows -= rows.mean(axis=1, keepdims=True)
            norms = np.linalg.norm(rows, axis=1)
            norms[flat] = 1.0
            r = (rows @ standard) / norms[:, None]  # (H, F)
            r[flat] = 0.0
            blocks.append((layer, kind))
            scores.append(np.clip(r, -1.0, 1.0))
    return blocks, np.concatenate(scores)


def _top(
    trace: StateTrace, blocks: list[tuple[int, str]], r: np.ndarray, top: int
) -> list[UnitScore]:
    """The ``top`` scores of one column ``r`` ``(blocks * H,)`` by |r|, ties in trace order."""
    order = np.argsort(-np.abs(r), kind="stable")[: max(top, 0)]
    return [UnitScore(*blocks[i // trace.units], int(i % trace.units), float(r[i])) for i in order]


def _selection(
    trace: StateTrace, kinds: Sequence[str] | None, layers: Sequence[int] | None
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    kinds = trace.kinds if kinds is None else tuple(kinds)
    layers = tuple(range(trace.layers)) if layers is None else tuple(layers)
    for layer in layers:
        for kind in kinds:
            trace.check(layer, kind)  # one clear line for a layer or kind that is not there
    return kinds, layers


def rank_units(
    trace: StateTrace,
    signal: np.ndarray,
    *,
    kinds: Sequence[str] | None = None,
    layers: Sequence[int] | None = None,
    top: int = 10,
) -> list[UnitScore]:
    """The ``top`` units (of ``kinds`` in ``layers``; all if None) by |Pearson r| with
    ``signal`` ``(T,)``, highest first. A constant unit scores 0; a constant signal is an
    `InspectError`."""
    (scores,) = rank_units_each(trace, [signal], kinds=kinds, layers=layers, top=top)
    if scores is None:
        raise InspectError("the signal is constant over this text: no unit can correlate with it")
    return scores


def rank_units_each(
    trace: StateTrace,
    signals: Sequence[np.ndarray],
    *,
    kinds: Sequence[str] | None = None,
    layers: Sequence[int] | None = None,
    top: int = 10,
) -> list[list[UnitScore] | None]:
    """`rank_units` for several ``(T,)`` signals in one pass over the trace (each layer's
    rows are read and centred once); None for a signal constant over the text."""
    stacked = np.asarray(np.stack(signals), np.float32)  # (F, T)
    if stacked.shape[1] != len(trace.text):
        raise InspectError(
            f"the signal has {stacked.shape[1]} values; the text has {len(trace.text)} characters"
        )
    kinds, layers = _selection(trace, kinds, layers)
    varying = np.flatnonzero(~_constant(stacked))
    out: list[list[UnitScore] | None] = [None] * len(signals)
    if varying.size:
        blocks, r = _correlations(trace, stacked[varying], kinds, layers)
        for column, f in enumerate(varying):
            out[f] = _top(trace, blocks, r[:, column], top)
    return out


def best_per_feature(trace: StateTrace, kinds: Sequence[str] = ("h", "c")) -> dict[str, UnitScore]:
    """The best unit (of ``kinds`` that the trace has) for each built-in feature, in `FEATURES`'
    order; a feature constant over the text (no quotes in it, say) is left out."""
    chosen = [k for k in kinds if k in trace.kinds]
    if not chosen:
        raise InspectError(
            f"this trace has none of {', '.join(kinds)}; its kinds: {', '.join(trace.kinds)}"
        )
    names = list(FEATURES)
    ranked = rank_units_each(trace, [feature(trace.text, n) for n in names], kinds=chosen, top=1)
    return {name: scores[0] for name, scores in zip(names, ranked, strict=True) if scores}
