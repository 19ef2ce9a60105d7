"""The inspector's readers: text features, units ranked by correlation (a planted unit is found
with r = 1), select and match (a planted pattern is found everywhere, nowhere else), gate
saturation, and bad input as one clear line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.inspect import (
    FEATURES,
    InspectError,
    StateTrace,
    UnitScore,
    best_per_feature,
    feature,
    match_units,
    rank_units,
    regex_feature,
    saturation,
    select_units,
)
from tasks.charlm.inspect import trace_charlm
from tasks.charlm.task import build_model
from tasks.registry import config_from_dict, default_config

TEXT = (
    "ROMEO:\n"
    'O: "What light (through yonder) window breaks?"\n'
    "JULIET: O Romeo, Romeo! [Wherefore] art thou {Romeo}?\n"
    'Deny thy father, and refuse thy name; "or, if thou wilt not"...\n'
    "  be but sworn (my love), and I'll no longer be a Capulet.\n"
) * 3


def _trace(
    text: str = TEXT,
    kinds: tuple[str, ...] = ("h", "c"),
    gates: tuple[str, ...] = (),
    layers: int = 2,
    units: int = 16,
    seed: int = 0,
) -> StateTrace:
    """A trace of random values in [-1, 1] (float16, as traces store them)."""
    rng = np.random.default_rng(seed)
    values = {(layer, kind): rng.uniform(-1, 1, (units, len(text))).astype(np.float16)
              for layer in range(layers) for kind in kinds}  # fmt: skip
    return StateTrace(text, layers, units, kinds, gates, values)


def _plant(trace: StateTrace, layer: int, kind: str, unit: int, signal: np.ndarray) -> None:
    trace.values[(layer, kind)][unit] = signal.astype(np.float16)


# -- features -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("quotes", 'a "bc" d', [0, 0, 1, 1, 1, 0, 0, 0]),
        ("brackets", "a(b[c])d)e(", [0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1]),  # a stray ")" stays out
        ("line-position", "ab\ncd", [1, 2, 0, 1, 2]),
        ("word-start", "Hi, my x1", [1, 0, 0, 0, 1, 0, 0, 1, 0]),
        ("upper-case", "aBé É", [0, 1, 0, 0, 1]),
        ("vowel", "bAe y", [0, 1, 1, 0, 0]),
        ("punctuation", "a,b! «c»", [0, 1, 0, 1, 0, 1, 0, 1]),
    ],
)
def test_features_mark_what_they_say(name: str, text: str, expected: list[int]) -> None:
    values = feature(text, name)
    assert values.dtype == np.float32 and values.tolist() == expected


def test_regex_feature_marks_every_match() -> None:
    assert regex_feature("abcabc", "bc").tolist() == [0, 1, 1, 0, 1, 1]
    assert regex_feature("aab", "a*").tolist() == [1, 1, 0]  # empty matches add nothing


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(ab", r"the regular expression '\(ab' does not compile: missing \)"),
        ("zz", "the regular expression 'zz' never matches the text"),
        ("x*", "the regular expression 'x\\*' never matches the text"),
    ],
)
def test_bad_regular_expressions(pattern: str, message: str) -> None:
    with pytest.raises(InspectError, match=message) as info:
        regex_feature("abc", pattern)
    assert "\n" not in str(info.value)


def test_unknown_feature() -> None:
    with pytest.raises(InspectError, match="no feature 'commas'; choose one of quotes, brackets"):
        feature("abc", "commas")


# -- ranking: a planted unit is the top unit with r = 1 ---------------------------------------


@pytest.mark.parametrize("name", [*FEATURES, "regex"])
def test_a_planted_unit_is_the_top_unit_with_correlation_one(name: str) -> None:
    trace = _trace()
    signal = regex_feature(TEXT, r"Romeo|thou") if name == "regex" else feature(TEXT, name)
    _plant(trace, 1, "c", 11, signal)
    top = rank_units(trace, signal, top=3)
    assert top[0] == UnitScore(1, "c", 11, pytest.approx(1.0, abs=1e-6))
    assert abs(top[1].correlation) < 0.5  # random units do not come close
    assert rank_units(trace, -signal, top=1)[0].correlation == pytest.approx(-1.0, abs=1e-6)


def test_best_per_feature_finds_each_planted_unit() -> None:
    trace = _trace(units=32)
    for n, name in enumerate(FEATURES):
        _plant(trace, n % 2, "h", 3 * n, feature(TEXT, name))
    best = best_per_feature(trace)
    assert list(best) == list(FEATURES)
    for n, name in enumerate(FEATURES):
        assert best[name] == UnitScore(n % 2, "h", 3 * n, pytest.approx(1.0, abs=1e-6))


def test_best_per_feature_leaves_out_a_constant_feature() -> None:
    best = best_per_feature(_trace("no quotes here (but brackets)\n" * 4))
    assert "quotes" not in best and "brackets" in best


def test_ranking_limits_and_constant_units() -> None:
    trace = _trace(kinds=("h", "c", "forget gate"))
    signal = feature(TEXT, "vowel")
    trace.values[(0, "h")][5] = 0.25  # a constant unit: r = 0, not NaN
    scores = rank_units(trace, signal, kinds=["h"], layers=[0], top=100)
    assert len(scores) == 16 and {s.kind for s in scores} == {"h"}
    assert [abs(s.correlation) for s in scores] == sorted((abs(s.correlation) for s in scores),
                                                          reverse=True)  # fmt: skip
    assert next(s for s in scores if s.unit == 5).correlation == 0.0
    assert len(rank_units(trace, signal)) == 10


def test_ranking_bad_input() -> None:
    trace = _trace()
    with pytest.raises(InspectError, match="the signal is constant over this text"):
        rank_units(trace, np.ones(len(TEXT)))
    with pytest.raises(InspectError, match="the signal has 3 values; the text has"):
        rank_units(trace, np.arange(3.0))
    with pytest.raises(InspectError, match="layer 2 is out of range"):
        rank_units(trace, feature(TEXT, "vowel"), layers=[2])
    with pytest.raises(InspectError, match="no 'candidate' in this trace"):
        rank_units(trace, feature(TEXT, "vowel"), kinds=["candidate"])
    with pytest.raises(InspectError, match="this trace has none of forget gate"):
        best_per_feature(trace, kinds=("forget gate",))


# -- select and match -------------------------------------------------------------------------

PATTERN = "QUOTHTHE"


def test_select_and_match_find_every_planted_place_and_nothing_else() -> None:
    rng = np.random.default_rng(3)
    pieces = ["".join(rng.choice(list("abcde fgh\n"), rng.integers(5, 40))) for _ in range(9)]
    text = PATTERN.join(pieces)
    places = [(m, m + len(PATTERN)) for m in range(len(text)) if text.startswith(PATTERN, m)]
    assert len(places) == 8
    trace = _trace(text, units=32)
    on = np.zeros(len(text))
    for a, b in places:
        on[a:b] = 1.0
    _plant(trace, 0, "h", 17, on)
    start, end = places[2]
    units = select_units(trace, 0, "h", start, end)
    assert units == [17]
    found = match_units(trace, 0, "h", units, min_length=max(1, (end - start) // 2))
    assert found == places


def test_match_keeps_runs_of_the_minimum_length() -> None:
    trace = _trace("abcdefghij", units=4)
    _plant(trace, 1, "c", 0, np.array([1, 1, 0, 1, 1, 1, 0, 1, 0, 0.6]))
    _plant(trace, 1, "c", 1, np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 1]))
    assert match_units(trace, 1, "c", [0, 1]) == [(0, 2), (3, 6), (7, 8), (9, 10)]
    assert match_units(trace, 1, "c", [0, 1], min_length=2) == [(0, 2), (3, 6)]
    assert match_units(trace, 1, "c", [0, 1], threshold=0.7) == [(0, 2), (3, 6), (7, 8)]


@pytest.mark.parametrize(("start", "end"), [(-1, 3), (5, 5), (4, 2), (0, len(TEXT) + 1)])
def test_a_selection_outside_the_text(start: int, end: int) -> None:
    with pytest.raises(InspectError, match=rf"the selection \[{start}, {end}\) is not a stretch"):
        select_units(_trace(), 0, "h", start, end)


def test_match_bad_units() -> None:
    with pytest.raises(InspectError, match="unit 16 is out of range: layer 0 has units 0-15"):
        match_units(_trace(), 0, "h", [3, 16])
    with pytest.raises(InspectError, match="no units to match"):
        match_units(_trace(), 0, "h", [])


# -- saturation -------------------------------------------------------------------------------


def test_saturation_fractions_per_layer_and_gate() -> None:
    gates = ("input gate", "forget gate")
    trace = _trace("abcd", kinds=("h", *gates), gates=gates, units=3)
    _plant(trace, 1, "forget gate", 0, np.array([0.05, 0.02, 0.95, 0.5]))
    _plant(trace, 1, "forget gate", 1, np.full(4, 0.97))
    _plant(trace, 1, "forget gate", 2, np.full(4, 0.5))
    result = saturation(trace)
    assert [(s.layer, s.gate) for s in result] == [(0, g) for g in gates] + [(1, g) for g in gates]
    forget = result[3]
    assert forget.left.tolist() == [0.5, 0.0, 0.0] and forget.right.tolist() == [0.25, 1.0, 0.0]
    assert saturation(_trace()) == []


# -- planted in a real model ------------------------------------------------------------------


def _payload(arch: str, chars: str, plant) -> tuple[dict, object]:
    config = default_config("charlm", arch, hidden=6, layers=1, embed=4, block=False)
    torch.manual_seed(0)
    model = build_model(config, len(chars))
    with torch.no_grad():
        plant(model)
    payload = {
        "config": config.to_dict(),
        "task_state": {"vocab": chars, "model": model.state_dict()},
    }
    return payload, config_from_dict(payload["config"])


def test_an_indrnn_unit_that_counts_the_line_position_is_found() -> None:
    """h_4 = relu(h_4 + 1 - 10⁴ [x is a line break]): characters since the line began."""
    chars = "".join(sorted(set(TEXT)))

    def plant(model) -> None:
        model.embed.weight[:, 0] = torch.tensor([float(c == "\n") for c in chars])
        core = model.rnn.layers[0]
        core.linear.weight[4] = torch.tensor([-1e4, 0.0, 0.0, 0.0])
        core.linear.bias[4] = 1.0
        core.u[4] = 1.0

    payload, config = _payload("indrnn", chars, plant)
    trace = trace_charlm(payload, config, TEXT)
    top = rank_units(trace, feature(TEXT, "line-position"), top=1)[0]
    assert top == UnitScore(0, "h", 4, pytest.approx(1.0, abs=1e-6))


def test_an_rnn_unit_that_fires_on_upper_case_is_found() -> None:
    """h_2 = tanh(40 [x is upper case] - 20) = ±1: the upper-case feature, scaled."""
    chars = "".join(sorted(set(TEXT)))

    def plant(model) -> None:
        model.embed.weight[:, 1] = torch.tensor([float(c.isupper()) for c in chars])
        rnn = model.rnn.rnn
        rnn.weight_ih_l0[2] = torch.tensor([0.0, 40.0, 0.0, 0.0])
        rnn.weight_hh_l0[2] = 0.0
        rnn.bias_ih_l0[2], rnn.bias_hh_l0[2] = -20.0, 0.0

    payload, config = _payload("rnn", chars, plant)
    best = best_per_feature(trace_charlm(payload, config, TEXT))
    assert best["upper-case"] == UnitScore(0, "h", 2, pytest.approx(1.0, abs=1e-6))
