"""The character model's datasets: Tiny Shakespeare (the default) and the built-in Python prose.

Light on purpose: imported by `tasks.registry` before torch loads.
"""

from __future__ import annotations

from functools import lru_cache

from tasks.data.info import DatasetInfo


@lru_cache(maxsize=1)
def offline_text() -> str:
    """The offline default: the prose of ``pydoc_data.topics``, every topic joined.

    Topics are taken in sorted order and separated by a blank line, so the text is the same on
    every run of the same Python (about 460 KB on 3.11); nothing is downloaded.
    """
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key].strip() for key in sorted(topics)) + "\n"


DATASETS = (
    DatasetInfo(
        name="tiny-shakespeare",
        title="Tiny Shakespeare",
        description="About 1.1 MB of Shakespeare's plays (40,000 lines of ASCII play script), "
        "the char-rnn example corpus.",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        filename="input.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        license="MIT (karpathy/char-rnn); the text is Shakespeare, public domain",
        size_bytes=1115394,
        shared_path="tiny-shakespeare/input.txt",
    ),
    DatasetInfo(
        name="pydoc-prose",
        title="Python documentation prose",
        description="The prose of the Python language reference topics that ship with every "
        "Python install (pydoc_data.topics), joined into one text; the offline default.",
        url="https://github.com/python/cpython/blob/main/Lib/pydoc_data/topics.py",
        filename="pydoc-prose.txt",
        license="PSF License (Python documentation)",
        build=offline_text,
    ),
)
"""Tiny Shakespeare first (the default), the offline default last."""
