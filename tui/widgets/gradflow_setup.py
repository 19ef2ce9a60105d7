"""`GradFlowSetup`: the lab's switches, the problem, T and the two architectures to compare."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget

from tasks.config import ConfigError, TrainConfig
from tasks.gradflow import check_settings
from tasks.registry import TASKS, default_config
from tui.widgets.config_form import ChoiceRow, Row, field_docs
from tui.widgets.field import Field

NONE = "none"
"""The second architecture's value for "one run only"."""

CHOICES = (
    Row("problem", "Problem", None, choices=("adding", "copy")),
    Row("arch", "Run 1", None, choices=TASKS["gradflow"].archs),
    Row("compare", "Run 2", None, choices=(*TASKS["gradflow"].archs, NONE)),
    Row("activation", "RNN activation", None, choices=("tanh", "relu")),
    Row("init", "Recurrent init", None, choices=("default", "orthogonal")),
)
"""The choices, left column."""

NUMBERS = (
    Row("seq_len", "T (2-1000)"),
    Row("clip", "Clip (0: off)", "float"),
    Row("minutes", "Minutes", "float"),
)
"""The numbers, right column."""


class GradFlowSetup(Widget):
    """Choices and numbers in two columns; `configs` turns them into one or two TrainConfigs."""

    DEFAULT_CSS = """
    GradFlowSetup { height: auto; layout: grid; grid-size: 2; grid-gutter: 0 2; }
    GradFlowSetup > Vertical { height: auto; }
    """

    def compose(self) -> ComposeResult:
        base = default_config("gradflow", "rnn")
        docs = field_docs()
        start = {"arch": "rnn", "compare": "lstm", "problem": base.problem}
        start |= {"activation": base.activation, "init": base.init}
        with Vertical():
            for row in CHOICES:
                widget = ChoiceRow(row, start[row.name])
                widget.tooltip = docs.get(row.name)
                yield widget
        values = {"seq_len": base.seq_len, "clip": base.clip, "minutes": 3.0}
        with Vertical():
            for row in NUMBERS:
                yield Field(
                    row.name, row.label, values[row.name], row.kind or "int", inline=True,
                    tooltip=docs.get(row.name),
                )  # fmt: skip

    def configs(self) -> list[TrainConfig]:
        """The runs to start; `ConfigError` (one line) for a bad value."""
        chosen = {
            row.name: self.query_one(f"#field-{row.name}", ChoiceRow).value for row in CHOICES
        }
        numbers = {}
        for row in NUMBERS:
            field = self.query_one(f"#field-{row.name}", Field)
            try:
                numbers[row.name] = field.parse()
            except ValueError as exc:
                raise ConfigError(f"{row.label}: {exc}") from None
        archs = [chosen["arch"]] + ([chosen["compare"]] if chosen["compare"] != NONE else [])
        configs = []
        for arch in archs:
            activation = chosen["activation"] if arch == "rnn" else "tanh"
            config = default_config(
                "gradflow", arch, problem=chosen["problem"], activation=activation,
                init=chosen["init"], **numbers,
            )  # fmt: skip
            check_settings(config)
            configs.append(config)
        return configs
