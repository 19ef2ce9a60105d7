"""Text features a unit may track (Karpathy et al. 2015): one value per character of a text.

A feature's value at position t describes the text after reading character t, as a trace's
states do: an opening quote is already inside the quotes, a closing one outside again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import numpy as np

from models.inspect.trace import InspectError

__all__ = ["FEATURES", "feature", "regex_feature"]

FEATURES: dict[str, str] = {
    "quotes": 'inside double quotes (from an opening " to its closing one)',
    "brackets": "inside (), [] or {} (at any depth)",
    "line-position": "characters since the line began (0 at a line break)",
    "word-start": "the first letter or digit of a word",
    "upper-case": "an upper-case letter",
    "vowel": "a vowel (a, e, i, o, u, either case)",
    "punctuation": "a punctuation mark (Unicode category P)",
    "speaker": "a line ending in a colon: a speaker's name in a play script",
    "word-position": "characters since the word began (0 outside words)",
}
"""Name -> what it marks, in one line."""


def _codes(text: str) -> np.ndarray:
    """The code points of ``text``, ``(T,)`` uint32."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _per_char(text: str, test: Callable[[str], bool]) -> np.ndarray:
    """``test`` on each character (evaluated once per distinct character), ``(T,)`` bool."""
    distinct, index = np.unique(_codes(text), return_inverse=True)
    return np.array([test(chr(c)) for c in distinct], dtype=bool)[index]


def _depth_inside(delta: np.ndarray) -> np.ndarray:
    """``delta`` +1 opens, -1 closes: True where the depth (never below 0) is > 0."""
    depth = np.cumsum(delta)
    return depth - np.minimum(np.minimum.accumulate(depth), 0) > 0  # a stray close resets to 0


def _quotes(text: str) -> np.ndarray:
    return np.cumsum(_codes(text) == ord('"')) % 2 == 1


def _brackets(text: str) -> np.ndarray:
    codes = _codes(text)
    opens = np.isin(codes, [ord(c) for c in "([{"]).astype(np.int64)
    closes = np.isin(codes, [ord(c) for c in ")]}"]).astype(np.int64)
    return _depth_inside(opens - closes)


def _line_position(text: str) -> np.ndarray:
    t = np.arange(len(text))
    last_break = np.maximum.accumulate(np.where(_codes(text) == ord("\n"), t, -1))
    return t - last_break


def _word_start(text: str) -> np.ndarray:
    word = _per_char(text, str.isalnum)
    before = np.concatenate([[False], word[:-1]])
    return word & ~before


def _word_position(text: str) -> np.ndarray:
    word = _per_char(text, str.isalnum)
    t = np.arange(len(text))
    last_gap = np.maximum.accumulate(np.where(word, -1, t))
    return np.where(word, t - last_gap, 0)


def _inside(text: str, compiled: re.Pattern[str]) -> np.ndarray:
    """True at every character inside a match, ``(T,)`` bool."""
    edges = np.zeros(len(text) + 1, np.int64)
    for match in compiled.finditer(text):
        edges[match.start()] += 1
        edges[match.end()] -= 1
    return np.cumsum(edges[:-1]) > 0  # an empty match adds and removes at one place


SPEAKER = re.compile(r"^[^\n]*:$", re.M)


BUILDERS: dict[str, Callable[[str], np.ndarray]] = {
    "quotes": _quotes,
    "brackets": _brackets,
    "line-position": _line_position,
    "word-start": _word_start,
    "upper-case": lambda text: _per_char(text, str.isupper),
    "vowel": lambda text: _per_char(text, lambda c: c in "aeiouAEIOU"),
    "punctuation": lambda text: _per_char(text, lambda c: unicodedata.category(c)[0] == "P"),
    "speaker": lambda text: _inside(text, SPEAKER),
    "word-position": _word_position,
}


def feature(text: str, name: str) -> np.ndarray:
    """The built-in feature ``name`` over ``text``, ``(T,)`` float32."""
    if name not in BUILDERS:
        raise InspectError(f"no feature {name!r}; choose one of {', '.join(FEATURES)}")
    return BUILDERS[name](text).astype(np.float32)


def regex_feature(text: str, pattern: str) -> np.ndarray:
    """1 at every character inside a match of ``pattern``, else 0; ``(T,)`` float32.

    `InspectError` when the pattern does not compile or never matches a character.
    """
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise InspectError(f"the regular expression {pattern!r} does not compile: {exc}") from None
    inside = _inside(text, compiled)
    if not inside.any():
        raise InspectError(f"the regular expression {pattern!r} never matches the text")
    return inside.astype(np.float32)
