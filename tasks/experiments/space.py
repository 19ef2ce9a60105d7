"""The search space of a sweep: which settings vary, and over what.

By default it comes from the declarations: a setting's `Setting.search` (the shared block
declares learning rate, sizes, dropout, batch, sequence length, weight decay), changed by the
task's registry entry (`TaskInfo.search`, `TaskInfo.dataset_search`). A file replaces it, TOML
or JSON by its suffix; each key is a setting of the task:

    dropout = [0.1, 0.3]        # a list: choices
    batch = 32                  # a scalar: fixed
    word_vectors = ["", "imdb"] # "" (an empty field) is none, for an optional setting

    [lr]
    low = 1e-4
    high = 1e-2
    log = true

    [arch]
    choices = ["gru", "lstm"]

A range holds integers for an integer setting (``step`` puts them on a grid) and floats for a
number setting; every bound and choice is checked against the setting's own rules, so a space
cannot propose what `rnn-tui train` would refuse. A fixed value is a single choice.
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.engine.settings import ConfigError, Search, Setting, is_finite

if TYPE_CHECKING:
    from tasks.registry import TaskInfo

Space = dict[str, Search]
"""Setting name -> where to look, in the settings' field order."""

BY_THE_COMMAND = ("task", "dataset")
"""Settings a sweep never searches: the command names them."""

_KEYS = ("low", "high", "log", "step", "choices")


class SweepError(ValueError):
    """A sweep's input cannot be used: one line, naming the file and key where there is one."""


def default_space(task: TaskInfo, dataset: str) -> Space:
    """The task's default space on `dataset`: its settings' declared ranges, then its own."""
    settings = task.settings.settings()
    merged: dict[str, Search | None] = {n: s.search for n, s in settings.items() if s.search}
    merged |= task.search | task.dataset_search.get(dataset, {})
    space = {name: search for name, search in merged.items() if search is not None}
    return checked_space(task, space, f"the {task.name} defaults")


def load_space(path: Path, task: TaskInfo) -> Space:
    """A space file (TOML or JSON by suffix), checked against the task's settings."""
    data = _read(path)
    if not data:
        raise SweepError(f"{path}: names no setting to search")
    raw = {key: _entry(path, key, value) for key, value in data.items()}
    return checked_space(task, raw, str(path))


def checked_space(task: TaskInfo, space: Space, source: str) -> Space:
    """`space` with its values checked against `task`'s settings and typed by them (integer
    bounds for an integer setting, "" as none for an optional one), in field order; `SweepError`
    naming `source` and the key for the first problem."""
    settings = task.settings.settings()
    for name in space:
        if name in BY_THE_COMMAND:
            raise SweepError(f"{source}: {name}: set by the command (--{name}), not searched")
        if name not in settings:
            near = difflib.get_close_matches(name, list(settings), n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise SweepError(f"{source}: {name}: not a setting of {task.name}{hint}")
    return {
        name: _checked(task, name, settings[name], space[name], f"{source}: {name}")
        for name in settings
        if name in space
    }


def suggest(trial: Any, space: Space) -> dict[str, Any]:
    """One value per setting of `space` from an Optuna trial (categorical, int or float)."""
    params: dict[str, Any] = {}
    for name, search in space.items():
        if search.choices:
            params[name] = trial.suggest_categorical(name, list(search.choices))
        elif isinstance(search.low, int) and isinstance(search.high, int):
            params[name] = trial.suggest_int(
                name, search.low, search.high, step=search.step or 1, log=search.log
            )
        else:
            params[name] = trial.suggest_float(name, search.low, search.high, log=search.log)
    return params


def space_to_json(space: Space) -> str:
    """The space as stored with a study (and compared when the study resumes)."""
    return json.dumps({name: search.to_dict() for name, search in space.items()})


def space_from_json(text: str) -> Space:
    """Inverse of `space_to_json`."""
    return {name: Search.from_dict(data) for name, data in json.loads(text).items()}


# -- reading a file ------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise SweepError(f"{path}: a search space is a .toml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SweepError(f"cannot read the search space {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SweepError(f"{path}: not UTF-8 text") from None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the same parser, before the standard library had it
        import tomli as tomllib
    try:
        data = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    except (ValueError, RecursionError) as exc:  # decode errors, 5000-digit numbers, deep nesting
        kind = "TOML" if suffix == ".toml" else "JSON"
        raise SweepError(f"{path}: not valid {kind}: {exc}") from None
    if not isinstance(data, dict):
        raise SweepError(f"{path}: must hold an object of settings")
    return data


def _entry(path: Path, key: str, value: Any) -> Search:
    """One key of a file as a `Search`: a table, a list (choices) or a scalar (fixed)."""
    where = f"{path}: {key}"
    if isinstance(value, list):
        return Search.among(*value)
    if not isinstance(value, dict):
        return Search.among(value)
    unknown = [k for k in value if k not in _KEYS]
    if unknown:
        raise SweepError(f"{where}: unknown key {unknown[0]!r} (use {', '.join(_KEYS)})")
    if "choices" in value:
        if set(value) != {"choices"}:
            raise SweepError(f"{where}: give choices or low and high, not both")
        if not isinstance(value["choices"], list):
            raise SweepError(f"{where}: choices must be a list")
        if not value["choices"]:
            raise SweepError(f"{where}: empty choices")
        return Search.among(*value["choices"])
    if "low" not in value or "high" not in value:
        raise SweepError(f"{where}: give low and high (or choices)")
    log, step = value.get("log", False), value.get("step")
    if not isinstance(log, bool):
        raise SweepError(f"{where}: log must be true or false (got {log!r})")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 1):
        raise SweepError(f"{where}: step must be a positive integer (got {step!r})")
    return Search(value["low"], value["high"], log, step)


# -- checking against the setting --------------------------------------------------------------


def _checked(task: TaskInfo, name: str, meta: Setting, search: Search, where: str) -> Search:
    if search.choices:
        return Search.among(*_checked_choices(task, name, meta, search.choices, where))
    if search.low is None or search.high is None:
        raise SweepError(f"{where}: empty: give choices, or low and high")
    if meta.kind not in ("int", "float"):
        raise SweepError(f"{where}: a range needs a number setting; {name} takes choices")
    low, high = (_bound(meta, name, v, where) for v in (search.low, search.high))
    if low >= high:
        raise SweepError(f"{where}: empty range: low {low} is not below high {high}")
    if search.log and low <= 0:
        raise SweepError(f"{where}: a log range needs low > 0 (got {low})")
    if search.step is not None:
        if meta.kind != "int":
            raise SweepError(f"{where}: step applies to integer settings")
        if search.log:
            raise SweepError(f"{where}: step and log do not combine")
    return Search(low, high, search.log, search.step)


def _checked_choices(
    task: TaskInfo, name: str, meta: Setting, choices: tuple[Any, ...], where: str
) -> list[Any]:
    values = [_typed(meta, choice) for choice in choices]
    for value in values:
        if name != "arch":
            _check(meta, name, value, where)
        elif value not in task.archs:
            raise SweepError(f"{where}: {task.name} does not offer {value!r} (it offers "
                             f"{', '.join(task.archs)})")  # fmt: skip
    shown = [json.dumps(v) for v in values]
    twice = next((s for s in shown if shown.count(s) > 1), None)
    if twice is not None:
        raise SweepError(f"{where}: lists {twice} twice")
    return values


def _typed(meta: Setting, choice: Any) -> Any:
    """A choice as the setting takes it: "" is none for an optional setting, an integer is a
    float for a number setting."""
    if choice == "" and meta.optional:
        return None
    if meta.kind == "float" and isinstance(choice, int) and not isinstance(choice, bool):
        try:
            return float(choice)
        except OverflowError:  # beyond the float range: the setting's own check refuses it
            return choice
    return choice


def _bound(meta: Setting, name: str, value: Any, where: str) -> float:
    """A range's bound typed by the setting (an int for an integer setting), checked by it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not is_finite(value):
        raise SweepError(f"{where}: a bound must be a number (got {value!r})")
    if meta.kind == "int":
        if value != int(value):
            raise SweepError(f"{where}: {name} is an integer setting (got {value})")
        value = int(value)
    else:
        value = float(value)
    _check(meta, name, value, where)
    return value


def _check(meta: Setting, name: str, value: Any, where: str) -> None:
    try:
        meta.check(name, value)
    except ConfigError as exc:
        raise SweepError(f"{where}: {exc.reason}") from None
