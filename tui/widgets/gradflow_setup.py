"""`GradFlowSetup`: the lab's switches, the problem, T and the two architectures to compare."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget

from tasks.engine.settings import MODERN, ConfigError, Setting, TrainConfig
from tasks.gradflow.settings import GradflowSettings
from tasks.registry import default_config
from tui.widgets.config_form import ChoiceRow, Row, row, row_widget
from tui.widgets.field import Field

NONE = "none"
"""The second architecture's value for "one run only"."""

_ARCHS = GradflowSettings.ARCHS
_COMPARE = Setting(
    "Run 2", "a second architecture trained side by side (none: one run)", "Problem", "choice",
    choices=(*_ARCHS, NONE),
)  # fmt: skip

CHOICES = (
    row(GradflowSettings, "problem"),
    Row("arch", Setting("Run 1", "the architecture of the first run", "Problem", "choice", _ARCHS)),
    Row("compare", _COMPARE),
    row(GradflowSettings, "activation"),
    row(GradflowSettings, "init"),
)
"""The choices, left column."""

NUMBERS = (
    row(GradflowSettings, "seq_len", "T (2-1000)"),
    row(GradflowSettings, "clip", "Clip (0: off)"),
    row(GradflowSettings, "minutes"),
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
        start = {"arch": "rnn", "compare": "lstm", "problem": base.problem}
        start |= {"activation": base.activation, "init": base.init}
        with Vertical():
            for choice in CHOICES:
                yield row_widget(choice, start[choice.name])
        values = {"seq_len": base.seq_len, "clip": base.clip, "minutes": 3.0}
        with Vertical():
            for number in NUMBERS:
                yield row_widget(number, values[number.name])

    def configs(self) -> list[TrainConfig]:
        """The runs to start; `ConfigError` (one line) for a bad value."""
        chosen = {c.name: self.query_one(f"#field-{c.name}", ChoiceRow).value for c in CHOICES}
        numbers = {}
        for number in NUMBERS:
            field = self.query_one(f"#field-{number.name}", Field)
            try:
                numbers[number.name] = field.parse()
            except ValueError as exc:
                raise ConfigError(f"{number.title}: {exc}") from None
        archs = [chosen["arch"]] + ([chosen["compare"]] if chosen["compare"] != NONE else [])
        configs = []
        for arch in archs:
            activation = chosen["activation"] if arch == "rnn" else "tanh"
            init = "default" if arch in MODERN else chosen["init"]  # the classic cells' switch
            config = default_config(
                "gradflow", arch, problem=chosen["problem"], activation=activation, init=init,
                **numbers,
            )  # fmt: skip
            configs.append(config)
        return configs
