"""Arrows point one way: tui -> tasks -> models. The core loads no textual (harlequin's check).

Every module of `models` and `tasks` is imported (found by `pkgutil.walk_packages`, so a new
module is checked without being listed here), each package in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

WALK = """
import importlib, pkgutil, sys

def fail(name):
    raise ImportError(f"cannot import {name}")

walked = []
for root in sys.argv[1:]:
    package = importlib.import_module(root)
    walked.append(root)
    for info in pkgutil.walk_packages(package.__path__, root + ".", onerror=fail):
        importlib.import_module(info.name)
        walked.append(info.name)
print(" ".join(walked))
print(" ".join(sorted(sys.modules)))
"""


def walk(*packages: str) -> tuple[list[str], set[str]]:
    """Import every module of `packages` in a fresh interpreter: (modules walked, sys.modules)."""
    out = subprocess.run(
        [sys.executable, "-c", WALK, *packages], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    walked, loaded = out.stdout.splitlines()
    return walked.split(), set(loaded.split())


def modules_on_disk(package: str) -> set[str]:
    """The dotted names of every .py file under a package folder."""
    names = set()
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_every_core_module_imports_without_textual_or_the_app() -> None:
    walked, loaded = walk("models", "tasks")
    assert set(walked) == modules_on_disk("models") | modules_on_disk("tasks")
    assert "torch" in loaded  # the walk did import the torch-side modules
    assert not {m for m in loaded if m == "textual" or m.startswith(("textual.", "tui"))}


def test_models_never_import_tasks() -> None:
    walked, loaded = walk("models")
    assert set(walked) == modules_on_disk("models")
    assert not {m for m in loaded if m == "tasks" or m.startswith("tasks.")}


@pytest.mark.parametrize("module", ["models.registry", "tasks.registry", "tasks.data.catalogue"])
def test_registries_do_not_load_torch(module: str) -> None:
    """The app lists tasks, architectures and datasets before torch is imported."""
    assert "torch" not in loaded_after(f"import {module}")
