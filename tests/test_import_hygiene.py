"""Arrows point one way: tui -> tasks -> models. The core loads no textual (harlequin's check)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


CORE = (
    "import models, tasks\n"
    "from models import RNNCell, LSTMCell, GRUCell, Recurrent, VanillaRNN, CharRNN\n"
    "from models import AdditiveAttention, DotAttention, AttentionPooling\n"
    "import models.registry, models.stepper, tasks.registry, tasks.trainer, tasks.charlm\n"
    "import tasks.datasets, tasks.sampling, tasks.checkpoint, tasks.runs"
)


def test_core_imports_no_textual() -> None:
    modules = loaded_after(CORE)
    assert "torch" in modules
    assert not {m for m in modules if m == "textual" or m.startswith(("textual.", "tui"))}


def test_models_import_no_tasks() -> None:
    modules = loaded_after(
        "import models.cells, models.recurrent, models.numpy_rnn, models.attention, "
        "models.charlm, models.registry, models.stepper"
    )
    assert not {m for m in modules if m == "tasks" or m.startswith("tasks.")}


@pytest.mark.parametrize("module", ["models.registry", "tasks.registry", "tasks.datasets"])
def test_registries_do_not_load_torch(module: str) -> None:
    """The app lists tasks, architectures and datasets before torch is imported."""
    assert "torch" not in loaded_after(f"import {module}")
