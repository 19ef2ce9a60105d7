"""The character model's datasets: Tiny Shakespeare (the default) and the built-in Python prose,
and the one quantity it is measured in (the loss, in nats per character).

Light on purpose: imported by `tasks.registry` before torch loads.
"""

from __future__ import annotations

from functools import lru_cache

from tasks.data.info import DatasetInfo, Reference
from tasks.engine.quantity import Quantity

QUANTITIES = (
    Quantity("nats/char", higher_is_better=False, metrics=("val_loss",), train_loss=True,
             title="loss (nats/char)", short="nats"),
)  # fmt: skip
"""The loss is the selection metric: cross-entropy per character, in nats."""

_NANOGPT = "karpathy/nanoGPT README, shakespeare_char"


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
        references=(
            Reference(
                "5-gram",
                1.69,
                "nats/char",
                "val",
                "a character 5-gram with interpolation, the same 90/10 split",
            ),
            Reference(
                "nanoGPT CPU",
                1.88,
                "nats/char",
                "val",
                f"{_NANOGPT}: the CPU settings, about 3 minutes",
            ),
            Reference(
                "baby GPT (A100)", 1.47, "nats/char", "val", f"{_NANOGPT}: the baby GPT, one A100"
            ),
        ),
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
