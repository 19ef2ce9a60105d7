"""The inspectors: the charlm strip, keys, ranking, select and match, saturation and bad input
on a planted trace; a tiny real charlm and sentiment checkpoint end to end; opening them from
Play and Runs; one snapshot on the planted trace."""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fake_events import FakeGenerator
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, Static
from tui_helpers import ScreenApp, screen_text, wait_for, write_task_run

from models.inspect import InspectCancelled, StateTrace, feature
from tui.screens.inspect import REGEX, InspectScreen
from tui.widgets.state_strip import LEVELS, Marks, StateStrip, levels, wrap_rows

TEXT = "First Citizen:\nBefore we proceed, hear me speak.\n\nAll:\nSpeak, speak.\n" * 40
"""The planted trace's text: "speak" (either case) three times a verse."""
SPEAK = [(m.start(), m.end()) for m in re.finditer("[Ss]peak", TEXT)]
KINDS = ("h", "c", "input gate", "forget gate", "candidate", "output gate")
GATES = ("input gate", "forget gate", "output gate")
UNITS = 8


def planted_trace(text: str = TEXT) -> StateTrace:
    """Two layers of 8 LSTM units, seeded noise in (-0.8, 0.4) (gates (0.15, 0.4)), except:
    layer 1's c unit 5 is the line position; layer 0's h units 2 and 6 are 0.9 inside every
    "speak"; layer 1's forget gate unit 0 is always open (> 0.9). Layers and units from 0."""
    rng = np.random.default_rng(0)
    values = {}
    for layer in range(2):
        for kind in KINDS:
            low = 0.15 if kind in GATES else -0.8
            values[(layer, kind)] = rng.uniform(low, 0.4, (UNITS, len(text))).astype(np.float16)
    values[(1, "c")][5] = feature(text, "line-position") / 10
    for start, end in SPEAK:
        values[(0, "h")][[2, 6], start:end] = 0.9
    values[(1, "forget gate")][0] = 0.95
    return StateTrace(text, 2, UNITS, KINDS, GATES, values)


@pytest.fixture
def tracing(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The screen's worker without torch: a fake checkpoint of `arch` (lstm), the planted text as
    the validation text, and `trace_charlm` returning the planted trace (after some progress)."""
    import tasks.charlm.inspect
    import tasks.engine.checkpoint
    import tasks.inspect_inputs
    import tasks.registry

    state = SimpleNamespace(arch="lstm", calls=[], texts=[])

    def trace(payload, config, text, progress=None, cancelled=None):
        state.texts.append(text)
        for step in range(5):
            progress(step / 5)
        return planted_trace(text)

    monkeypatch.setattr(tasks.engine.checkpoint, "load_checkpoint", lambda *a: {"config": {}})
    monkeypatch.setattr(tasks.registry, "config_from_dict",
                        lambda d: SimpleNamespace(arch=state.arch, dataset="demo"))  # fmt: skip
    monkeypatch.setattr(tasks.inspect_inputs, "inspection_text",
                        lambda config, limit=0: (TEXT, "the planted text"))  # fmt: skip
    monkeypatch.setattr(tasks.charlm.inspect, "trace_charlm", trace)
    return state


async def opened(pilot: Pilot) -> InspectScreen:
    screen = pilot.app.screen
    assert isinstance(screen, InspectScreen)
    await wait_for(pilot, lambda: screen.trace is not None)
    await wait_for(pilot, lambda: screen.query_one("#inspect-ranking", DataTable).row_count > 0)
    return screen


def status(screen: InspectScreen) -> str:
    return str(screen.query_one("#inspect-status", Static).render())


def message(screen: InspectScreen) -> str:
    return str(screen.query_one("#inspect-message", Static).render())


# -- the strip -------------------------------------------------------------------------------


def test_rows_wrap_each_line_at_the_width() -> None:
    assert wrap_rows("abcdefg\nhi\n", 3) == [0, 3, 6, 8, 11]
    assert wrap_rows("", 5) == [0]
    assert levels(np.array([-1.5, -0.04, 0.56, 2.0]), True).tolist() == [-LEVELS, 0, 6, LEVELS]
    assert levels(np.array([-0.3, 0.5, 1.0]), False).tolist() == [0, 5, LEVELS]
    assert levels(np.array([np.nan, np.inf]), True).tolist() == [0, LEVELS]


class StripScreen(Screen[None]):
    """Only a strip."""

    def __init__(self, strip: StateStrip) -> None:
        super().__init__()
        self.strip = strip

    def compose(self):
        yield self.strip


async def test_the_strip_draws_its_rows_with_the_marks() -> None:
    strip = StateStrip()
    app = ScreenApp(StripScreen(strip))
    async with app.run_test(size=(30, 4)) as pilot:
        await pilot.pause()
        strip.set_text("ab\tc\n" + "x" * 70 + "\nend")
        strip.set_values(np.linspace(-1, 1, len(strip.text)), signed=True)
        await pilot.pause()
        width = strip.scrollable_content_region.width
        assert strip.rows == 1 + -(-71 // width) + 1
        assert strip.render_line(0).text.rstrip() == "ab c↵"
        strip.set_marks(Marks(cursor=1, selection=(0, 2), matches=((3, 4),)))
        cells = {seg.text: seg.style for seg in strip.render_line(0) if seg.text.strip()}
        assert cells["a"].overline and not cells["a"].reverse
        assert cells["b"].reverse and cells["c"].underline and not cells["↵"].underline
        strip.move_to(len(strip.text) - 1)  # the last row scrolls into view
        await pilot.pause()
        assert "end" in screen_text(app)
        assert strip.marks.cursor == len(strip.text) - 1


# -- the charlm inspector on a planted trace -------------------------------------------------


async def test_keys_move_between_units_layers_and_kinds(tracing) -> None:
    screen = InspectScreen("/runs/demo/last.pt")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        assert status(screen).startswith("layer 1 · unit 1 · c")  # an LSTM starts on its cells
        await pilot.press("right_square_bracket", "right_square_bracket", "l")
        assert (screen.layer_index, screen.kind, screen.unit) == (1, "c", 2)
        assert status(screen).startswith("layer 2 · unit 3 · c")
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        assert screen.unit == UNITS - 1  # wraps around
        await pilot.press("k")
        assert screen.kind == "input gate" and "-1" not in str(
            screen.query_one("#inspect-legend", Static).render()
        )  # gates: a 0..1 scale
        assert "the planted text" in screen.query_one("#inspect-main").border_title
        assert "÷" not in status(screen)  # a gate, and h within ±1: shown as they are
        screen.go_to(0, "h", 0)
        assert "÷" not in status(screen)
        screen.trace.values[(0, "h")][1] *= 4  # unbounded, as IndRNN's relu or minGRU's h
        values = screen.trace.unit(0, "h", 1)
        peak = float(np.abs(values).max())
        screen.go_to(0, "h", 1)
        assert status(screen).endswith(f"(÷ {peak:.2f})")
        shown = screen.query_one(StateStrip)._levels
        assert (shown == levels(values / peak, True)).all()  # scaled, not clipped to ±1


async def test_the_ranking_finds_the_planted_unit_and_jumps_to_it(tracing) -> None:
    screen = InspectScreen("/runs/demo/last.pt")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        table = screen.query_one("#inspect-ranking", DataTable)
        assert [str(c) for c in table.get_row_at(0)] == ["2", "c", "6", "+1.00"]
        table.focus()
        await pilot.press("enter")
        assert (screen.layer_index, screen.kind, screen.unit) == (1, "c", 5)
        assert "r(line-position) = 1.00" in status(screen)
        screen.query_one("#inspect-feature", Select).value = REGEX
        await pilot.pause()
        assert screen.focused is screen.query_one("#inspect-regex", Input)
        await pilot.press(*"[Ss]peak", "enter")
        await wait_for(pilot, lambda: str(table.get_row_at(0)[2]) in ("3", "7"))
        assert "r(/[Ss]peak/)" in status(screen)
        await pilot.press("escape")  # from a box back to the text, not off the screen
        assert screen.focused is screen.query_one(StateStrip) and app.screen is screen


async def test_bad_input_is_one_message_and_the_screen_keeps_working(tracing, tmp_path) -> None:
    screen = InspectScreen("/runs/demo/last.pt")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        screen.query_one("#inspect-feature", Select).value = REGEX
        await pilot.pause()
        await pilot.press("(", "enter")
        await wait_for(pilot, lambda: "does not compile" in message(screen))
        assert screen.query_one("#inspect-ranking", DataTable).row_count == 0
        assert screen.signal is None and "r(" not in status(screen)
        screen.query_one("#inspect-feature", Select).value = "quotes"  # none in the text
        await wait_for(pilot, lambda: "the same all through this text" in message(screen))
        await pilot.press("u", *"3:1", "enter")
        assert message(screen) == "layer 3 is out of range: this model has layers 1-2"
        await pilot.press("u", "ctrl+u", *"2:9", "enter")
        assert message(screen) == f"unit 9 is out of range: each layer has units 1-{UNITS}"
        await pilot.press("u", "ctrl+u", *"2:8", "enter")
        assert (screen.layer_index, screen.unit) == (1, 7)
        bad = tmp_path / "latin1.txt"
        bad.write_bytes("café".encode("latin-1"))
        await pilot.press("o")
        for path, said in ((bad, "is not UTF-8"), (tmp_path / "gone.txt", "no such file"),
                           (tmp_path, "is a folder")):  # fmt: skip
            screen.query_one("#inspect-path", Input).value = str(path)
            await pilot.press("enter")  # the input keeps the focus after an error
            await wait_for(pilot, lambda said=said: said in message(screen))
        assert screen.trace.text == TEXT and len(tracing.texts) == 1
        good = tmp_path / "good.txt"
        good.write_text("Speak, speak.\n" * 3)
        screen.query_one("#inspect-path", Input).value = str(good)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.trace.text == good.read_text())
        assert screen.query_one("#inspect-main").border_title == "good.txt, 42 characters"


async def test_select_and_match_finds_every_planted_place(tracing) -> None:
    screen = InspectScreen("/runs/demo/last.pt")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("k")
        assert screen.kind == "input gate"
        screen.go_to(0, "h", 0)
        strip = screen.query_one(StateStrip)
        start, end = SPEAK[4]
        strip.move_to(start)
        await pilot.press("v", *["right"] * (end - start - 1))
        assert strip.marks.selection == (start, end)
        screen.query_one("#inspect-threshold", Input).value = "half"
        await pilot.press("v")  # not a number: the selection stays open
        assert "the threshold must be a number" in message(screen) and screen.anchor == start
        assert "selecting" in str(screen.query_one("#inspect-selection", Static).render())
        screen.query_one("#inspect-threshold", Input).value = "0.5"
        await pilot.press("v")
        assert screen.units == [2, 6]
        assert screen.matches == SPEAK
        info = str(screen.query_one("#inspect-selection", Static).render())
        assert "2 h units of layer 1 on (3, 7)" in info and f"{len(SPEAK)} matches" in info
        assert f"5 characters at {start + 1:,}: " in info  # counted from 1, as in the CLI
        await pilot.press("k", "l")  # the selection keeps the layer and kind it was made in
        assert "2 h units of layer 1 on" in str(screen.query_one("#inspect-selection").render())
        await pilot.press("n")
        assert strip.marks.cursor == SPEAK[5][0]
        await pilot.press("N", "N")
        assert strip.marks.cursor == SPEAK[3][0]
        assert f"match 4 of {len(SPEAK)}" in str(screen.query_one("#inspect-selection").render())
        styles = {s.text: s.style for s in strip.render_line(strip.row_of(SPEAK[3][0]) - round(
            strip.scroll_y)) if s.text.strip()}  # fmt: skip
        assert any(style.underline for style in styles.values())
        await pilot.press("v", "escape")  # a new selection, cancelled: the screen stays
        assert screen.anchor is None and app.screen is screen


async def test_the_saturation_tab_draws_each_layer(tracing) -> None:
    screen = InspectScreen("/runs/demo/last.pt")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: "layer 2 · y" in screen_text(app))
        text = screen_text(app)
        assert "layer 1 · y: right-saturated" in text and "layer 2 · y" in text
        assert re.search(r"forget gate\s+0% / 0%\s+0% / 12%", text)  # planted: always open


async def test_a_core_without_states_says_which_are_inspectable(tracing) -> None:
    tracing.arch = "s6"
    screen = InspectScreen("/runs/demo/last.pt")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        note = screen.query_one("#inspect-note", Static)
        await wait_for(pilot, lambda: "inspectable cores" in str(note.render()))
        assert "`s6` does not expose per-step states" in screen_text(app)
        await pilot.press("right_square_bracket", "v", "s")  # nothing to move: no error
        assert app.screen is screen


async def test_leaving_cancels_the_trace(tracing, monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.charlm.inspect

    stopped = threading.Event()

    def slow(payload, config, text, progress=None, cancelled=None):
        while not cancelled():
            progress(0.5)
            stopped.wait(0.01)
        stopped.set()
        raise InspectCancelled("inspection cancelled")

    monkeypatch.setattr(tasks.charlm.inspect, "trace_charlm", slow)
    screen = InspectScreen("/runs/demo/last.pt")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        bar = screen.query_one("#inspect-progress")
        await wait_for(pilot, lambda: "50%" in screen_text(app) and bar.display)
        screen.action_back()
        await wait_for(pilot, lambda: stopped.is_set() and app.results == [None])


async def test_a_real_checkpoint_end_to_end(trained_run: Path, small_text: Path) -> None:
    from tasks.charlm.task import split_ids

    screen = InspectScreen(trained_run / "last.pt")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        validation = split_ids(small_text.read_text())[1]
        assert screen.trace.text == validation[:100_000]
        assert screen.trace.kinds[:2] == ("h", "c")
        assert status(screen).startswith("layer 1 · unit 1 · c")
        await pilot.press("right_square_bracket", "k")
        assert status(screen).startswith("layer 1 · unit 2 · input gate")
        await pilot.press("s")
        await wait_for(pilot, lambda: "mean fraction of steps" in screen_text(app))
        assert "input gate" in screen_text(app)


# -- the sentiment inspector -----------------------------------------------------------------


def train_reviews(folder: Path) -> Path:
    """A sentiment checkpoint trained in about a second on seven-word reviews whose label shows
    in one word (so each has more than the five tokens the drops remove)."""
    from tui.cli import main

    positive, negative = ["good", "great", "superb"], ["bad", "awful", "dull"]
    filler = ["the", "film", "plot", "was", "a", "story", "long"]
    rng = random.Random(0)
    rows = ["label,review"]
    for i in range(200):
        words = [*rng.sample(filler, 6), rng.choice(positive if i % 2 else negative)]
        rng.shuffle(words)
        rows.append(f"{i % 2},{' '.join(words)}")
    data = folder / "reviews.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = folder / "run"
    args = ["train", "sentiment", "--dataset", str(data), "--hidden", "16", "--embed", "16",
            "--epochs", "4", "--lr", "1e-2", "--dropout", "0", "--batch", "16", "--threads", "1",
            "--out", str(run), "--json"]  # fmt: skip
    assert main(args) == 0
    return run / "last.pt"


@pytest.fixture
def reviews_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture) -> Path:
    path = train_reviews(tmp_path)
    capsys.readouterr()
    return path


async def test_saliency_faithfulness_and_trajectories(reviews_checkpoint: Path) -> None:
    from tui.screens.saliency import SaliencyScreen

    screen = SaliencyScreen(reviews_checkpoint, text="the film was great and the plot superb")
    app = ScreenApp(screen)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "5 random" in screen_text(app), 30)
        text = screen_text(app)
        assert "integrated gradients" in text and "5 random" in text
        assert set(screen.drops) == {"integrated gradients", "gradient x input", "attention",
                                     "random"}  # fmt: skip
        for colouring in ("gradient x input", "attention", "integrated gradients"):
            await pilot.press("ctrl+o")
            assert screen.colouring == colouring
            await wait_for(pilot, lambda c=colouring: c in screen_text(app))
        screen.query_one("#faith-reviews", Input).value = "0"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "must be a positive integer" in screen_text(app))
        screen.query_one("#faith-reviews", Input).value = "12"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "most faithful here" in screen_text(app), 60)
        assert "over 12 reviews" in screen_text(app)

        def plots() -> list:
            return list(screen.query("#paths-plot"))

        for _ in range(2):  # drawn again: the old plot goes before the new one takes its id
            old = plots()
            await pilot.press("ctrl+t")
            await wait_for(pilot, lambda old=old: len(plots()) == 1 and plots() != old
                           and "the last state" in screen_text(app), 60)  # fmt: skip
            assert "principal components" in screen_text(app)


# -- opening the inspectors ------------------------------------------------------------------


async def test_play_opens_the_inspector_with_ctrl_t(tracing) -> None:
    from tui.screens.play import CharPlayScreen

    play = CharPlayScreen("/runs/demo/last.pt", generator=FakeGenerator())
    app = ScreenApp(play)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")  # the prime box has the focus: i would be typed there
        await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen))
        await opened(pilot)
        await pilot.press("escape")
        assert app.screen is play


async def test_runs_open_the_inspector_of_the_task(fake_runs, tracing, user_dirs) -> None:
    from tui.screens.runs import RunsScreen

    for run in fake_runs:
        (run / "last.pt").write_bytes(b"")
    root = user_dirs / "home" / "runs"
    forecast = write_task_run(root, "timeseries", "gru", "2025-01-04 12:00:00")
    (forecast / "last.pt").write_bytes(b"")
    app = ScreenApp(RunsScreen())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        runs = app.screen
        assert runs.current.task == "timeseries"  # the newest first
        await pilot.press("i")
        await wait_for(pilot, lambda: any("inspect covers charlm and sentiment" in n.message
                                          for n in app._notifications))  # fmt: skip
        assert app.screen is runs
        await pilot.press("down", "i")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen))
        assert app.screen.checkpoint == fake_runs[-1] / "last.pt"
        await opened(pilot)


def test_snapshot(snap_compare, tracing) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = await opened(pilot)
        screen.go_to(0, "h", 2)
        screen.query_one(StateStrip).move_to(SPEAK[0][0])
        await pilot.press("v", *["right"] * 4, "v")
        await pilot.pause()

    assert snap_compare(ScreenApp(InspectScreen("/runs/demo/last.pt")), terminal_size=(110, 34),
                        run_before=run_before)  # fmt: skip
