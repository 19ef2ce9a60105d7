"""Command-line options generated from a task's declared settings (`tasks.engine.settings`).

Each setting becomes one option in the argument group of its section, with its help line, its
choices and the task's default (and where an architecture has another default, that one too).
Options default to None, so a settings file or the task's defaults fill what was not given.
Values are checked by the settings' own `validate()`, not by argparse, so the command line and
the app refuse a value with the same words. An optional setting given as '' (``--epochs ''``)
is `EMPTY`: none on purpose, as an empty field of the form is, where left out is "not given".
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from models.registry import ARCHITECTURES
from tasks.engine.settings import Setting
from tasks.registry import TaskInfo, task_defaults

_TYPES = {"int": int, "float": float, "text": str, "choice": str}


class _Empty:
    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Any = _Empty()
"""The value of an optional setting given as '' on the command line: none, whatever a settings
file or the task's defaults say."""


def add_setting_options(parser: argparse.ArgumentParser, info: TaskInfo) -> None:
    """One option per command-line setting of the task, grouped by section."""
    settings = info.settings.settings()
    defaults = task_defaults(info.name)
    unused = {"bidirectional", "attention"} - set(info.options)
    for group in info.settings.groups():
        names = [n for n, s in settings.items() if s.cli and s.group == group]
        if not names:
            continue
        section = parser.add_argument_group(group.lower())
        for name in names:
            meta = settings[name]
            text = f"{meta.help} ({default_text(info, name, meta, defaults.get(name))})"
            kwargs: dict[str, Any] = {"dest": name, "default": None, "help": _escape(text)}
            if name in unused:  # accepted, so validation can say why it does not apply
                kwargs["help"] = argparse.SUPPRESS
            choices = info.archs if name == "arch" else meta.choices
            if meta.kind == "bool":
                kwargs["action"] = argparse.BooleanOptionalAction
            else:
                kwargs["type"] = _value_type(meta)
                kwargs["metavar"] = _metavar(meta, choices)
            section.add_argument(meta.option(name), **kwargs)


def _value_type(meta: Setting) -> Callable[[str], Any]:
    """The option's argparse type: its kind's, taking '' as `EMPTY` when the setting is optional."""
    kind = _TYPES[meta.kind]
    if not meta.optional:
        return kind

    def value(text: str) -> Any:
        return EMPTY if not text.strip() else kind(text)

    value.__name__ = kind.__name__  # argparse's error names it: "invalid int value: 'x'"
    return value


def default_text(info: TaskInfo, name: str, meta: Setting, default: Any) -> str:
    """`default: 256; numpy-rnn: 100`: the task's default and any architecture's own (the
    modern cores named together when they all share one; none for the architecture itself)."""
    others: dict[str, list[str]] = {}
    for arch in info.archs if name != "arch" else ():
        value = task_defaults(info.name, arch).get(name)
        if value != default:
            others.setdefault(_value_text(meta, value), []).append(arch)
    parts = [f"default: {_value_text(meta, default)}"]
    modern = [arch for arch in info.archs if ARCHITECTURES[arch].modern]
    for text, archs in others.items():
        who = "modern cores" if archs == modern else ", ".join(archs)
        parts.append(f"{who}: {text}")
    return "; ".join(parts)


def _value_text(meta: Setting, value: Any) -> str:
    if value is None:
        return meta.placeholder or "none"
    if meta.kind == "bool":
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _metavar(meta: Setting, choices: tuple[str, ...]) -> str | None:
    if choices:
        return "{" + ",".join(choices) + "}"
    return meta.metavar or {"int": "N", "float": "F", "text": "TEXT"}.get(meta.kind)


def _escape(text: str) -> str:
    """argparse formats help with %: keep a literal one."""
    return text.replace("%", "%%")


def given_settings(args: argparse.Namespace, info: TaskInfo) -> dict[str, Any]:
    """The settings given on the command line (None for those left out, `EMPTY` for those
    given as '')."""
    return {
        name: getattr(args, name, None) for name, s in info.settings.settings().items() if s.cli
    }
