"""Charts never mix quantities: a reference line goes only on the chart of its quantity."""

from __future__ import annotations

import pytest
from fake_events import TASK_DATASETS, run_until
from textual.app import App, ComposeResult
from tui_helpers import ScreenApp, screen_text, wait_for

from tasks.data.info import Reference
from tasks.registry import TASKS
from tui import messages
from tui.screens.train import TrainScreen
from tui.widgets.loss_chart import (
    Curves,
    LossChart,
    WrongQuantity,
    group_label,
    reference_labels,
)
from tui.widgets.quantity_charts import QuantityCharts

REFERENCES = [
    (task.name, ref) for task in TASKS.values() for d in task.datasets for ref in d.references
]


@pytest.mark.parametrize(("task", "ref"), REFERENCES, ids=[f"{t}-{r.label}" for t, r in REFERENCES])
def test_a_reference_can_only_be_drawn_on_a_chart_of_its_quantity(
    task: str, ref: Reference
) -> None:
    for quantity in TASKS[task].quantities:
        curves = Curves(quantity)
        if quantity.name == ref.quantity:
            curves.set_references([ref])
            assert curves.references == (ref,)
        else:
            with pytest.raises(WrongQuantity, match=f"{ref.quantity} reference"):
                curves.set_references([ref])
            assert curves.references == ()
    with pytest.raises(WrongQuantity, match="no declared quantity"):
        Curves().set_references([ref])


@pytest.mark.parametrize("task", [t for t in TASK_DATASETS if t in TASKS])
async def test_the_train_screen_puts_each_line_on_its_own_quantity(task: str) -> None:
    screen = TrainScreen(None, task=task, dataset=TASK_DATASETS[task])
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        for event in run_until(300, task=task):
            screen.post_message(messages.for_event(event))
        charts = screen.query_one(QuantityCharts)
        loss = TASKS[task].loss_quantity.name
        await wait_for(pilot, lambda: len(charts.curves[loss].series.get("train", ([],))[0]) == 30)
        assert list(charts.curves) == [q.name for q in TASKS[task].chart_quantities]
        for name, curves in charts.curves.items():
            assert curves.quantity is not None and curves.quantity.name == name
            assert all(ref.quantity == name for ref in curves.references)
            assert set(curves.series) <= set(curves.quantity.splits)
        assert charts.curves[TASKS[task].primary_quantity.name].series["val"][0][-1] == 300


def line(label: str, value: float, split: str = "val") -> Reference:
    return Reference(label, value, "nats/char", split, "a test")  # type: ignore[arg-type]


def test_close_lines_share_a_label_and_labels_go_where_the_curves_are_not() -> None:
    refs = [line("5-gram", 1.69), line("nanoGPT CPU", 1.88), line("baby GPT (A100)", 1.47)]
    ends = [(4.2, 1.45)]  # a loss falling from 4.2 to 1.45
    tall = reference_labels(refs, ends, (1.45, 4.2), rows=30, width=60)
    assert [(text.strip(), side) for text, _, side in tall] == [
        ("baby GPT (A100) · val 1.47", "left"), ("5-gram · val 1.69", "left"),
        ("nanoGPT CPU · val 1.88", "left"),
    ]  # fmt: skip
    [(text, y, side)] = reference_labels(refs, ends, (1.45, 4.2), rows=7, width=30)
    assert text.strip() == "val: 1.88, 1.69, 1.47" and y == 1.69 and side == "left"
    [(_, _, side)] = reference_labels(
        [line("NBSVM", 0.794, "test")], [(0.794, 0.5)], (0.5, 0.8), 10, 40
    )
    assert side == "right"  # the curve starts at the line: the label goes to the other end


def test_a_long_label_is_cut_in_its_name() -> None:
    attention = Reference("GRU + attention", 28.3, "BLEU", "test", "a test")
    assert group_label([attention], 40) == "GRU + attention · test 28.3"
    assert group_label([attention], 22) == "GRU + att… · test 28.3"
    two = [line("a", 1.0), line("b", 2.0, "test")]
    assert group_label(two, 60) == "a · val 1 · b · test 2"


class OneChartApp(App):
    def compose(self) -> ComposeResult:
        yield LossChart(id="chart")


@pytest.mark.parametrize("follows", [False, True])
async def test_a_chart_of_a_single_step_is_drawn(follows: bool) -> None:
    """The first metric point comes at the loss's first step: a span of one step is widened
    (plotext divides by the width of the axis)."""
    app = OneChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(LossChart)
        chart.add_point("val", 6, 0.5)
        if follows:
            chart.curves.steps_like = Curves(series={"train": ([6.0], [0.7])})
        chart.replot()
        await pilot.pause()
        axis = screen_text(app).splitlines()[-2]
        assert axis.split() == ["6", "7"], axis  # the step axis, one step wide
