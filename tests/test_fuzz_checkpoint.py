"""Fuzzing the checkpoint loader: `tasks.engine.checkpoint.load_checkpoint`, what every command
and screen that opens a checkpoint or a run folder goes through. Mutated checkpoints (the zip
`torch.save` writes) and garbage give a dict with the rnn-tui marker or a one-line
`CheckpointError`; a checkpoint that would run code when unpickled (a `__reduce__` calling
`os.mkdir`) never runs it, in the zip format, torch's legacy format or a bare pickle, however
it is mutated; nothing is written."""

from __future__ import annotations

import io
import os
import pickle

import pytest
import torch
from fuzzing import garbage, mutated, sandbox
from hypothesis import given
from hypothesis import strategies as st

from tasks.engine.checkpoint import FORMAT, SHAPE, CheckpointError, load_checkpoint
from tasks.registry import default_config

PWNED = "pwned-by-a-checkpoint"
"""What the malicious checkpoints would create in the working directory (the sandbox's, which
must stay empty)."""


class _RunsCode:
    """Pickles as a call of ``os.mkdir(PWNED)``: unpickling it runs that call."""

    def __reduce__(self) -> tuple:
        return os.mkdir, (PWNED,)


def _saved(payload: dict, **options: bool) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer, **options)
    return buffer.getvalue()


VALID = _saved({
    "format": FORMAT, "task": "charlm", "step": 3, "epoch": 0, "elapsed_s": 1.5,
    "config": default_config("charlm", minutes=1.0).to_dict(),
    "task_state": {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "vocab": ["a", "b"]},
    "metrics": {"val_loss": 1.5}, "rng": torch.zeros(8, dtype=torch.uint8),
})  # fmt: skip
EVIL_PAYLOAD = {"format": FORMAT, "task": "charlm", "config": {}, "hook": _RunsCode()}
EVIL = (
    _saved(EVIL_PAYLOAD),
    _saved(EVIL_PAYLOAD, _use_new_zipfile_serialization=False),
    *(pickle.dumps(EVIL_PAYLOAD, protocol=p) for p in (2, 4, 5)),
)
"""The same code-running payload as torch writes it (zip, legacy) and as bare pickles."""


@given(data=st.one_of(mutated(VALID), garbage()), task=st.sampled_from([None, "charlm", "names"]))
def test_a_checkpoint_loads_or_fails_in_one_line(data: bytes, task: str | None) -> None:
    with sandbox() as box:
        path = box.write("run/last.pt", data)
        payload = box.call(lambda: load_checkpoint(path, task), CheckpointError)
        from_folder = box.call(lambda: load_checkpoint(path.parent, task), CheckpointError)
    assert type(payload) is type(from_folder)  # a run folder opens its last.pt
    if isinstance(payload, dict):
        assert payload["format"] == FORMAT and task in (None, payload.get("task"))
        assert all(isinstance(payload[key], kind) for key, kind in SHAPE.items())


@pytest.mark.parametrize("key", sorted(SHAPE))
@pytest.mark.parametrize("value", [None, "wrong"], ids=["missing", "mistyped"])
def test_a_checkpoint_without_what_readers_take_is_refused_naming_it(
    key: str, value: str | None
) -> None:
    payload = torch.load(io.BytesIO(VALID), weights_only=True)
    if value is None:
        del payload[key]
    else:
        payload[key] = 1 if key == "task" else value
    with sandbox() as box:
        path = box.write("run/last.pt", _saved(payload))
        refused = box.call(lambda: load_checkpoint(path), CheckpointError)
    assert isinstance(refused, CheckpointError)
    assert f"its {key!r} is missing or not a {SHAPE[key].__name__}" in str(refused)


@pytest.mark.parametrize("data", EVIL, ids=["zip", "legacy", "pickle-2", "pickle-4", "pickle-5"])
def test_a_checkpoint_that_would_run_code_is_refused(data: bytes) -> None:
    with sandbox() as box:  # box.call fails if PWNED appears in the working directory
        path = box.write("evil.pt", data)
        refused = box.call(lambda: load_checkpoint(path), CheckpointError)
    assert isinstance(refused, CheckpointError)


@given(data=st.sampled_from(EVIL).flatmap(lambda evil: mutated(evil, max_edits=2)))
def test_a_mutated_checkpoint_never_runs_code(data: bytes) -> None:
    with sandbox() as box:
        path = box.write("evil.pt", data)
        box.call(lambda: load_checkpoint(path), CheckpointError)
