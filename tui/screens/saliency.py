"""Inspect a sentiment model: which words its verdict rests on, and whether removing them shows it.

A review is coloured three ways (attention, integrated gradients, gradient x input:
`tasks.sentiment.explain.saliency`), with the probability it loses when each method's top-5
tokens are removed against 5 random ones. The faithfulness check averages those drops over test
reviews, and the trajectories tab draws ~100 test reviews' states on their first two principal
components, coloured by label. Everything torch runs in thread workers.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.worker import Worker, WorkerState, get_current_worker

from tui.screens.sentiment_play import EXAMPLES, probability_bar
from tui.widgets.data_plot import DataPlot
from tui.widgets.inspect_plots import trajectories_draw
from tui.widgets.state_strip import legend, spans_text

COLOURINGS = ("integrated gradients", "gradient x input", "attention")
"""What the review can be coloured by, in cycling order (attention only with an attention
model)."""
K = 5
"""Tokens removed per method."""
REVIEWS = 200
"""Test reviews the faithfulness check reads by default."""
PATHS = 100
"""Test reviews drawn as trajectories."""
BAR = 18
"""Width of the probability bar (it fits the review panel)."""


class Stopped(Exception):
    """Raised from a progress callback when the screen has closed."""


def drops_table(drops: dict[str, float], title: str) -> Group:
    """`title` over a table of method -> probability drop, the largest first, random in dim."""
    table = Table(box=None, padding=(0, 2))
    table.add_column("removed", no_wrap=True)
    table.add_column("p drop", justify="right")
    for method, drop in sorted(drops.items(), key=lambda item: -item[1]):
        style = "dim" if method == "random" else ""
        name = f"{K} random" if method == "random" else f"top {K} by {method}"
        table.add_row(Text(name, style=style), Text(f"{drop:+.3f}", style=style))
    return Group(Text(title, style="bold"), table)


class SaliencyScreen(Screen[None]):
    """The review on the left; colouring and drops on the right; faithfulness and trajectories in
    their own tabs."""

    HELP = """\
### Inspect: why the sentiment model decides

**ctrl+g** explains the review in the box (**ctrl+n**: the next example). The review is
coloured by one method, **ctrl+o** cycles them:

- **integrated gradients**: how much each word's embedding moved the predicted label's score,
  summed along the straight path from an all-zero input (red: towards the verdict, blue: away);
- **gradient x input**: the same at the review alone (a one-step approximation);
- **attention**: the weights the model's attention gave each word (models with attention).

Below: how much the probability of the verdict drops when the top 5 words by each method are
removed, against 5 random words. A method whose words matter drops it most (Jain & Wallace,
"Attention is not Explanation", 2019). **ctrl+r** averages these drops over test reviews;
**ctrl+t** draws test reviews' states on their two main directions, coloured by label: a
network that counts evidence moves along one line (Maheswaranathan et al. 2019).
"""

    BINDINGS = [
        Binding("ctrl+g", "explain", "Explain", priority=True),
        Binding("ctrl+n", "example", "Example", priority=True),
        Binding("ctrl+o", "colouring", "Colouring", priority=True),
        Binding("ctrl+r", "faithfulness", "Faithfulness", priority=True),
        Binding("ctrl+t", "trajectories", "Trajectories", priority=True),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, checkpoint: str | Path, predictor: Any = None, text: str = "") -> None:
        """Inspect a sentiment checkpoint.

        Args:
            checkpoint: the `.pt` file.
            predictor: its `SentimentPredictor`, already loaded (else loaded in a worker).
            text: the review to explain first (else the first example).
        """
        super().__init__()
        self.checkpoint = Path(checkpoint)
        self.predictor: Any = predictor
        """The loaded predictor (None until then)."""
        self.text = text
        self.result: Any = None
        """The `Saliency` shown (None before the first)."""
        self.explained = ""
        """The text `result` explains (the box may have changed since)."""
        self.drops: dict[str, float] | str = {}
        """The review's drops by method, or why there are none."""
        self.colouring = COLOURINGS[0]
        self.example_index = -1
        self.reviews: tuple[list[str], list[int], str] | None = None
        """Test reviews loaded so far: texts, labels, description."""
        self.reviews_lock = threading.Lock()
        """Held while `reviews` is read or loaded (the faithfulness and trajectories threads)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="saliency-tabs"):
            with TabPane("Saliency", id="saliency"), Horizontal(id="saliency-body"):
                with VerticalScroll(id="saliency-controls", classes="panel"):
                    yield TextArea(self.text, id="saliency-review", soft_wrap=True,
                                   show_line_numbers=False)  # fmt: skip
                    with Horizontal(id="saliency-buttons"):
                        yield Button("Explain", id="explain", variant="primary")
                        yield Button("Example", id="example")
                    yield Static("", id="saliency-verdict")
                with Vertical(id="saliency-output", classes="panel"):
                    yield Static("", id="saliency-method")
                    with VerticalScroll(id="saliency-scroll"):
                        yield Static("", id="saliency-text")
                    yield Static("", id="saliency-drops")
            with TabPane("Faithfulness", id="faithfulness"), Vertical(classes="panel"):
                with Horizontal(id="faith-row"):
                    yield Label("test reviews", classes="hint")
                    yield Input(str(REVIEWS), id="faith-reviews", type="integer")
                    yield Button("Run (ctrl+r)", id="faith-run", variant="primary")
                yield ProgressBar(total=1.0, show_eta=False, id="faith-progress")
                yield Static("", id="faith-result")
            with TabPane("Trajectories", id="trajectories"), Vertical(id="paths-box"):
                yield Static(Text(f"ctrl+t draws {PATHS} test reviews", style="dim"),
                             id="paths-status")  # fmt: skip
        yield Static("", id="saliency-status", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"inspect · {self.checkpoint.parent.name}/{self.checkpoint.name}"
        self.query_one("#saliency-controls").border_title = "Review"
        self.query_one("#saliency-output").border_title = "Saliency"
        self.query_one("#faith-progress").display = False
        if self.predictor is None:
            self._status("loading the model…", "dim")
            self.load()
        else:
            self._ready()

    # -- loading -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self) -> Any:
        """The checkpoint's `SentimentPredictor` (a thread)."""
        from tasks.engine.player import load_player

        return load_player(self.checkpoint, "sentiment")

    def _ready(self) -> None:
        self._status(f"ready: {self.predictor.describe()}", "green")
        review = self.query_one("#saliency-review", TextArea)
        if not review.text.strip():
            self.action_example()
        else:
            self.action_explain()

    @on(Worker.StateChanged)
    async def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.is_cancelled or state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if state == WorkerState.ERROR:
            error = worker.error
            line = Text(str(error).strip().splitlines()[0] if str(error).strip() else repr(error),
                        style="red")  # fmt: skip
            if worker.group == "faithfulness":
                self.query_one("#faith-progress").display = False
            where = {"faithfulness": "#faith-result", "trajectories": "#paths-status"}
            self.query_one(where.get(worker.group, "#saliency-status"), Static).update(line)
            return
        if worker.group == "load":
            self.predictor = worker.result
            self._ready()
        elif worker.group == "explain":
            self.explained, self.result, self.drops = worker.result
            self._show()
        elif worker.group == "faithfulness":
            self._show_faithfulness(*worker.result)
        elif worker.group == "trajectories":
            await self._show_trajectories(*worker.result)

    # -- one review --------------------------------------------------------------------------

    @on(Button.Pressed, "#explain")
    def action_explain(self) -> None:
        """Explain the review in the box (a thread: integrated gradients take a moment)."""
        if self.predictor is None:
            return
        self._status("explaining…", "dim")
        self.explain(self.query_one("#saliency-review", TextArea).text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="explain")
    def explain(self, text: str) -> tuple[str, Any, dict[str, float] | str]:
        """The review, its `Saliency` and its drops (or why it has none)."""
        from tasks.sentiment.explain import review_drops, saliency

        result = saliency(self.predictor, text)
        try:
            drops: dict[str, float] | str = review_drops(self.predictor, text, k=K)
        except ValueError as exc:
            drops = str(exc)
        return text, result, drops

    @on(Button.Pressed, "#example")
    def action_example(self) -> None:
        """Put the next example review (in the model's language) in the box and explain it."""
        if self.predictor is None:
            return
        examples = EXAMPLES[self.predictor.vocab.kind]
        self.example_index = (self.example_index + 1) % len(examples)
        self.query_one("#saliency-review", TextArea).text = examples[self.example_index]
        self.action_explain()

    def colourings(self) -> tuple[str, ...]:
        """The colourings this result has (attention only with an attention model)."""
        if self.result is not None and self.result.attention is None:
            return tuple(c for c in COLOURINGS if c != "attention")
        return COLOURINGS

    def action_colouring(self) -> None:
        """Colour the review by the next method."""
        options = self.colourings()
        index = options.index(self.colouring) if self.colouring in options else -1
        self.colouring = options[(index + 1) % len(options)]
        self._show()

    def _show(self) -> None:
        result = self.result
        if result is None:
            return
        if self.colouring not in self.colourings():
            self.colouring = COLOURINGS[0]
        colour = "green" if result.label == "positive" else "red"
        probability = result.positive if result.label == "positive" else 1 - result.positive
        verdict = Text.assemble((result.label, f"bold {colour}"), f"  {probability:.1%}\n",
                                probability_bar(result.positive, BAR))  # fmt: skip
        self.query_one("#saliency-verdict", Static).update(verdict)
        values = {
            "integrated gradients": result.integrated_gradients,
            "gradient x input": result.gradient_x_input,
            "attention": result.attention,
        }[self.colouring]
        signed = self.colouring != "attention"
        top = max((abs(v) for v in values), default=0.0) or 1.0
        scaled = [v / top for v in values]
        self.query_one("#saliency-text", Static).update(
            spans_text(self.explained, result.spans, scaled, signed)
        )
        ends = (f"against {result.label}", f"towards {result.label}") if signed else ("0", "most")
        order = sorted(range(len(values)), key=lambda i: -values[i])[:K]
        method = Text.assemble((self.colouring, "bold"), "  ", legend(signed, *ends),
                               "  (ctrl+o: next)\n", ("top: ", "dim"),
                               ", ".join(f"{result.tokens[i]} {values[i]:+.2f}"
                                         for i in order))  # fmt: skip
        self.query_one("#saliency-method", Static).update(method)
        drops = self.query_one("#saliency-drops", Static)
        if isinstance(self.drops, str):
            drops.update(Text(self.drops, style="yellow"))
        else:
            drops.update(drops_table(self.drops, f"p({result.label}) drops when removing"))
        self._status(f"{len(result.tokens)} tokens read", "dim")

    # -- over test reviews -------------------------------------------------------------------

    def _test_reviews(self, n: int) -> tuple[list[str], list[int], str]:
        """The first `n` test reviews (loaded once, more when more are asked for; a thread)."""
        from tasks.inspect_inputs import inspection_reviews

        with self.reviews_lock:
            if self.reviews is None or len(self.reviews[0]) < n:
                self.reviews = inspection_reviews(self.predictor.config, n)
            texts, labels, description = self.reviews
        return texts[:n], labels[:n], description

    @on(Button.Pressed, "#faith-run")
    def action_faithfulness(self) -> None:
        """Average the drops over the first N test reviews (a thread, with progress)."""
        if self.predictor is None:
            return
        self.query_one(TabbedContent).active = "faithfulness"
        field = self.query_one("#faith-reviews", Input)
        try:
            n = int(field.value)
            if n < 1:
                raise ValueError
        except ValueError:
            reason = f"the number of reviews must be a positive integer (got {field.value!r})"
            self.query_one("#faith-result", Static).update(Text(reason, style="red"))
            return
        bar = self.query_one("#faith-progress", ProgressBar)
        bar.display = True
        bar.update(progress=0)
        self.query_one("#faith-result", Static).update(Text("reading the test reviews…",
                                                            style="dim"))  # fmt: skip
        self.faithfulness(n)

    @work(thread=True, exclusive=True, exit_on_error=False, group="faithfulness")
    def faithfulness(self, n: int) -> tuple[Any, str]:
        """`tasks.sentiment.explain.faithfulness` over `n` test reviews; stops with the screen."""
        from tasks.sentiment.explain import faithfulness

        worker = get_current_worker()
        texts, _, description = self._test_reviews(n)

        def progress(fraction: float) -> None:
            if worker.is_cancelled:
                raise Stopped
            self.app.call_from_thread(self._faith_progress, fraction)

        return faithfulness(self.predictor, texts, k=K, progress=progress), description

    def _faith_progress(self, fraction: float) -> None:
        self.query_one("#faith-progress", ProgressBar).update(progress=fraction)

    def _show_faithfulness(self, result: Any, description: str) -> None:
        self.query_one("#faith-progress").display = False
        best = max((m for m in result.drop if m != "random"), key=result.drop.get)
        table = drops_table(result.drop, f"mean p(verdict) drop over {result.reviews} reviews "
                                         f"with more than {result.k} tokens")  # fmt: skip
        verdict = Text.assemble(
            ("most faithful here: ", "bold"), best,
            f" (drops {result.drop[best]:+.3f} vs {result.drop['random']:+.3f} at random)",
        )  # fmt: skip
        note = Text(description, style="dim")
        self.query_one("#faith-result", Static).update(Group(table, Text(), verdict, note))

    @work(thread=True, exclusive=True, exit_on_error=False, group="trajectories")
    def trajectories(self) -> tuple[Any, str]:
        """The first `PATHS` test reviews' state paths on two principal components."""
        from tasks.sentiment.explain import trajectories

        texts, labels, description = self._test_reviews(PATHS)
        return trajectories(self.predictor, texts, labels), description

    def action_trajectories(self) -> None:
        """Draw the test reviews' trajectories (a thread)."""
        if self.predictor is None:
            return
        self.query_one(TabbedContent).active = "trajectories"
        self.query_one("#paths-status", Static).update(Text("tracing the reviews…", style="dim"))
        self.trajectories()

    async def _show_trajectories(self, result: Any, description: str) -> None:
        box = self.query_one("#paths-box")
        await box.query(DataPlot).remove()  # gone before the new plot takes its id
        draw = trajectories_draw(result.paths, result.labels, result.explained)
        box.mount(DataPlot(draw, id="paths-plot"))
        positive = result.labels.count(1)
        counts = f"{positive} positive (green), {len(result.labels) - positive} negative (red)"
        self.query_one("#paths-status", Static).update(
            Text(f"{description} · {counts} · ● the last state", style="dim")
        )

    # -- messages ----------------------------------------------------------------------------

    def _status(self, text: str, style: str) -> None:
        self.query_one("#saliency-status", Static).update(Text(text, style=style))

    def action_back(self) -> None:
        """Stop the workers and go back."""
        self.workers.cancel_node(self)
        self.dismiss()
