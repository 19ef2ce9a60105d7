"""The ``Equations::`` block of a module docstring: where each core writes its update rule.

Torch-free, so the registry can show a core's equations without importing the core.
"""

from __future__ import annotations

import ast
import importlib.util
import textwrap
from functools import cache

__all__ = ["docstring_equations", "equations_block"]


def equations_block(doc: str) -> str:
    """The indented lines after ``Equations::`` in ``doc``, dedented ("" if there are none)."""
    _, found, rest = doc.partition("Equations::\n")
    if not found:
        return ""
    lines = []
    for line in rest.splitlines():
        if line.strip() and not line.startswith(" "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines)).strip("\n")


@cache
def docstring_equations(module: str) -> str:
    """`equations_block` of ``module``'s docstring, read from its source file, not imported."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return ""
    with open(spec.origin, encoding="utf-8") as f:
        return equations_block(ast.get_docstring(ast.parse(f.read())) or "")
