"""Tracing charlm checkpoints: the trace's h is the model's own output, its gates reproduce h
through the cell's equations, and bad input is one clear line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from engine_fixtures import engine_config

from models.inspect import INSPECTABLE, InspectCancelled, InspectError, StateTrace
from models.numpy_rnn import VanillaRNN
from tasks.charlm.inspect import trace_charlm
from tasks.charlm.task import CharLMTask, build_model
from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.trainer import Trainer
from tasks.registry import config_from_dict, default_config

CHARS = ' "()ABCabcde\n'
TEXT = 'Abc "dead" (cab)\nbad ace\n' * 3


def _payload(arch: str, block: bool = False, layers: int = 2, hidden: int = 7) -> tuple[Any, Any]:
    """A charlm payload of random weights (as the task stores it) and its config; the model too
    (None for the NumPy RNN)."""
    config = default_config("charlm", arch, hidden=hidden, layers=layers, embed=5, block=block)
    torch.manual_seed(0)
    if arch == "numpy-rnn":
        model, weights = None, VanillaRNN(len(CHARS), hidden, seed=0).state_dict()
    else:
        model = build_model(config, len(CHARS)).eval()
        weights = model.state_dict()
    payload = {"config": config.to_dict(), "task_state": {"vocab": CHARS, "model": weights}}
    return payload, model


def _ids(text: str = TEXT) -> torch.Tensor:
    return torch.tensor([[CHARS.index(c) for c in text]])


def _core_outputs(model: Any) -> list[np.ndarray]:
    """Each layer's recurrent output (T, H) over TEXT from the model's own forward."""
    rnn = model.rnn
    if not hasattr(rnn, "layers"):  # a classic cell without blocks: the last layer's h
        with torch.no_grad():
            return [rnn(model.embed(_ids()))[0][0].numpy()]
    cores = [getattr(layer, "core", layer) for layer in rnn.layers]
    outputs: list[np.ndarray] = []
    hooks = [c.register_forward_hook(lambda m, a, out: outputs.append(out[0][0].numpy()))
             for c in cores]  # fmt: skip
    with torch.no_grad():
        model(_ids())
    for hook in hooks:
        hook.remove()
    return outputs


def _config(payload: dict) -> Any:
    return config_from_dict(payload["config"])


CASES = [
    ("rnn", False), ("lstm", False), ("gru", False), ("lstm", True), ("gru", True),
    ("mingru", True), ("mingru", False), ("minlstm", True), ("minlstm", False),
    ("indrnn", False),
]  # fmt: skip


@pytest.mark.parametrize(("arch", "block"), CASES)
def test_trace_h_is_the_models_own_output(arch: str, block: bool) -> None:
    payload, model = _payload(arch, block)
    trace = trace_charlm(payload, _config(payload), TEXT)
    assert (trace.layers, trace.units, len(trace.text)) == (2, 7, len(TEXT))
    outputs = _core_outputs(model)
    for layer, out in zip(range(trace.layers - len(outputs), trace.layers), outputs, strict=True):
        np.testing.assert_allclose(trace.matrix(layer, "h"), out.T, atol=2e-3, rtol=2e-3)
    assert all(v.dtype == np.float16 and v.shape == (7, len(TEXT)) for v in trace.values.values())


def test_numpy_rnn_trace_is_its_forward_pass() -> None:
    payload, _ = _payload("numpy-rnn", layers=1)
    trace = trace_charlm(payload, _config(payload), TEXT)
    rnn = VanillaRNN(len(CHARS), 7, seed=0)
    hs = rnn.forward(_ids()[0].numpy(), None).hs[1:]  # (T, H)
    assert trace.kinds == ("h",) and trace.gates == ()
    np.testing.assert_allclose(trace.matrix(0, "h"), np.asarray(hs).T, atol=2e-3)


def _shift(rows: np.ndarray) -> np.ndarray:
    """The previous step's values (zeros before the first), (H, T)."""
    return np.concatenate([np.zeros_like(rows[:, :1]), rows[:, :-1]], axis=1)


@pytest.mark.parametrize("block", [False, True])
def test_lstm_gates_rebuild_c_and_h(block: bool) -> None:
    payload, model = _payload("lstm", block)
    trace = trace_charlm(payload, _config(payload), TEXT)
    for layer in range(2):
        v = {k: trace.matrix(layer, k) for k in trace.kinds}
        c = v["forget gate"] * _shift(v["c"]) + v["input gate"] * v["candidate"]
        np.testing.assert_allclose(c, v["c"], atol=5e-3)
        np.testing.assert_allclose(v["output gate"] * np.tanh(v["c"]), v["h"], atol=5e-3)
    if not block:  # the cell at the last step is nn.LSTM's c_n
        with torch.no_grad():
            _, (_, c_n) = model(_ids())
        np.testing.assert_allclose(trace.matrix(1, "c")[:, -1], c_n[1, 0].numpy(), atol=5e-3)
    assert trace.gates == ("input gate", "forget gate", "output gate")


@pytest.mark.parametrize("arch", ["gru", "mingru", "minlstm"])
def test_gates_rebuild_h(arch: str) -> None:
    payload, _ = _payload(arch, block=arch != "gru")
    trace = trace_charlm(payload, _config(payload), TEXT)
    for layer in range(2):
        v = {k: trace.matrix(layer, k) for k in trace.kinds}
        before = _shift(v["h"])
        if arch == "minlstm":  # normalised gates f' = f / (f + i), i' = i / (f + i)
            f, i = v["forget gate"], v["input gate"]
            h = f / (f + i) * before + i / (f + i) * v["candidate"]
        else:  # GRU: h = (1 - z) n + z h_prev; minGRU: h = (1 - z) h_prev + z h̃
            z, cand = v["update gate"], v["candidate"]
            h = (1 - z) * cand + z * before if arch == "gru" else (1 - z) * before + z * cand
        np.testing.assert_allclose(h, v["h"], atol=5e-3)


def test_trace_of_a_trained_checkpoint(tmp_path: Path) -> None:
    """A real run's checkpoint, loaded and read back as the CLI and the screen do."""
    config = engine_config("charlm", tmp_path, "lstm", epochs=1)
    task = CharLMTask(config)
    for _ in Trainer(task, tmp_path / "run").run():
        pass
    payload = load_checkpoint(tmp_path / "run" / "last.pt", "charlm")
    text = task.text[:300]
    trace = trace_charlm(payload, config_from_dict(payload["config"]), text)
    model = task.engine.model.eval()
    with torch.no_grad():
        out, _ = model.rnn(model.embed(torch.from_numpy(task.vocab.encode(text))[None]))
    np.testing.assert_allclose(trace.matrix(0, "h"), out[0].numpy().T, atol=2e-3)


def test_progress_and_cancellation() -> None:
    payload, _ = _payload("gru")
    text = TEXT * 20
    seen: list[float] = []
    trace_charlm(payload, _config(payload), text, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert max(np.diff([0.0, *seen])) <= 0.02
    with pytest.raises(InspectCancelled, match="cancelled"):
        trace_charlm(payload, _config(payload), text, cancelled=lambda: len(seen) > 70,
                     progress=seen.append)  # fmt: skip


def test_bad_input_is_one_line() -> None:
    payload, _ = _payload("lstm")
    config = _config(payload)
    with pytest.raises(InspectError, match="the text is empty"):
        trace_charlm(payload, config, "")
    with pytest.raises(InspectError, match=r"character 'z' at position 3 is not in the model's"):
        trace_charlm(payload, config, "Abczz")
    lru = default_config("charlm", "lru", hidden=8, layers=1, embed=8)
    with pytest.raises(InspectError, match="`lru` does not expose per-step states") as info:
        trace_charlm({"task_state": {}}, lru, "Abc")
    assert ", ".join(INSPECTABLE) in str(info.value) and "\n" not in str(info.value)


def test_trace_accessors_check_their_arguments() -> None:
    payload, _ = _payload("gru")
    trace: StateTrace = trace_charlm(payload, _config(payload), TEXT)
    assert trace.unit(1, "update gate", 6).dtype == np.float32
    with pytest.raises(InspectError, match="unit 7 is out of range: layer 1 has units 0-6"):
        trace.unit(1, "h", 7)
    with pytest.raises(InspectError, match="layer 2 is out of range"):
        trace.matrix(2, "h")
    with pytest.raises(InspectError, match="no 'c' in this trace"):
        trace.matrix(0, "c")


@pytest.mark.slow
def test_a_long_text_through_a_two_layer_lstm_of_256_units() -> None:
    """100 k characters through 2x256 (about 8 s on a loaded 2-core machine; no timing here)."""
    config = default_config("charlm", "lstm", hidden=256, layers=2, embed=16)
    torch.manual_seed(0)
    model = build_model(config, len(CHARS)).eval()
    payload = {
        "config": config.to_dict(),
        "task_state": {"vocab": CHARS, "model": model.state_dict()},
    }
    text = (TEXT * (100_000 // len(TEXT) + 1))[:100_000]
    trace = trace_charlm(payload, config, text)
    assert trace.matrix(1, "c").shape == (256, 100_000)
    head = text[:500]  # the start of the trace is the model's own forward over the start
    with torch.no_grad():
        out, _ = model.rnn(model.embed(_ids(head)))
    np.testing.assert_allclose(trace.matrix(1, "h")[:, :500], out[0].numpy().T, atol=2e-3)
    assert all(np.isfinite(v).all() for v in trace.values.values())
