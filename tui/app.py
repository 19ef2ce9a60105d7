"""The Textual app: one factory (`make_app`) shared by the console script and the tests.

The app owns the screen stack. Screens ask for navigation with messages (`tui.messages`) and
return their results with `dismiss`; the new-run flow (architecture, then configure, then train)
is one worker that awaits each screen in turn, so "back" keeps what was chosen.

Torch is never imported while the home screen draws: once the first frame is on screen a
background thread imports it, so the first training run starts quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import Iterable
from pathlib import Path

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.geometry import Size
from textual.screen import Screen

from tui.lag_probe import install as install_lag_probe
from tui.messages import (
    NewRunRequested,
    PlayRequested,
    ResumeRequested,
    RunsRequested,
    SweepsRequested,
)
from tui.screens.home import HomeScreen
from tui.train_process import APP_OPENMP_VARIABLE
from tui.watchers import forget_closed_widgets
from tui.widgets.too_small import TooSmall, fits

QUIT_WAIT_S = 5.0
"""How long quitting waits for a training or sampling worker to save and stop."""
RUNS = "runs"
"""The name of the one Runs screen, kept between visits: built again each time, it took 100 to
300 ms of the event loop beside a training child (benchmarks/soak.py)."""


class RnnTuiApp(App[None]):
    """rnn-tui: choose a task and an architecture, train live, play, and compare runs."""

    CSS_PATH = "app.tcss"
    TITLE = "rnn-tui"
    SUB_TITLE = "recurrent networks in the terminal"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
        Binding("f1,question_mark", "help", "Help"),
        Binding("f12", "export_screenshot", "Screenshot", show=False),
    ]

    def __init__(self, *, preload_torch: bool = True, start: str = "home") -> None:
        """Build the app.

        Args:
            preload_torch: import torch in a background thread once the first frame is drawn.
            start: the first screen: "home" or "runs".
        """
        super().__init__()
        self.preload_torch = preload_torch
        """Import torch in the background after the first frame (off in most tests)."""
        self.start = start
        """Which screen opens first."""

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.screen_change_signal.subscribe(self, self.fit_screen)
        self.screen_change_signal.subscribe(
            self, lambda _: forget_closed_widgets(self, self.kept_screens())
        )
        self.push_screen(HomeScreen())
        if self.start == "runs":
            self.post_message(RunsRequested())
        self.call_after_refresh(calm_garbage_collector)
        if self.preload_torch:
            self.call_after_refresh(self._preload)
        install_lag_probe(self)  # only with RNN_TUI_LAG_LOG set (benchmarks/soak.py)

    def kept_screens(self) -> list[Screen]:
        """The screens kept between visits (installed): the Runs screen once it was shown."""
        return [self.get_screen(RUNS)] if self.is_screen_installed(RUNS) else []

    # -- a terminal too small --------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        stack = self.screen_stack
        if stack:
            self.fit_screen(stack[-1], event.size)

    def fit_screen(self, screen: Screen, size: Size | None = None) -> None:
        """Show `screen`'s layout, or in a terminal smaller than the minimum a message in its
        place (`tui.widgets.too_small`); on every resize and whenever a screen comes to the
        top (the screens below are fitted when they come back)."""
        if not screen.is_attached or screen is not self.screen:
            return
        small = not fits(size or self.size)
        if small and not any(isinstance(child, TooSmall) for child in screen.children):
            screen.mount(TooSmall())
        screen.set_class(small, "-too-small")

    # -- background import ---------------------------------------------------------------------

    def _preload(self) -> None:
        self.run_worker(_preload_imports, thread=True, group="preload", exit_on_error=False)

    # -- navigation ------------------------------------------------------------------------------

    @on(NewRunRequested)
    def _new_run(self, message: NewRunRequested) -> None:
        self.new_run_flow(message.task)

    @work(exclusive=True, group="flow")
    async def new_run_flow(self, task: str) -> None:
        """Architecture, then configure; back from configure returns to the architecture."""
        from tasks.registry import get_task
        from tui.screens import screen_class
        from tui.screens.architecture import ArchitectureScreen
        from tui.screens.configure import ConfigureScreen
        from tui.screens.train import TrainScreen

        lab = get_task(task).lab_screen
        if lab:  # a lab has its own switches and live view
            await self.push_screen(screen_class(lab)())
            return
        choice = None
        config = None
        while True:
            choice = await self.push_screen_wait(ArchitectureScreen(task, initial=choice))
            if choice is None:
                return
            draft = config if config is not None and config.arch == choice.arch else None
            configure = ConfigureScreen(task, choice, initial=draft)
            result = await self.push_screen_wait(configure)
            if result is not None:
                break
            config = configure.config  # back: keep what was typed (when it was valid)
        await self.push_screen(TrainScreen.new(result))

    @on(ResumeRequested)
    async def _resume(self, message: ResumeRequested) -> None:
        from tui.screens.train import TrainScreen

        await self.push_screen(TrainScreen.resume(message.run_dir, epochs=message.epochs))

    @on(PlayRequested)
    async def _play(self, message: PlayRequested) -> None:
        from tui.screens.play import play_screen_for

        try:
            screen = play_screen_for(message.checkpoint)
        except (OSError, ValueError) as exc:
            self.notify(
                str(exc).splitlines()[0], title="Cannot open this checkpoint", severity="error"
            )
            return
        await self.push_screen(screen)

    @on(RunsRequested)
    async def _runs(self, message: RunsRequested) -> None:
        from tui.screens.runs import RunsScreen

        existing = [s for s in self.screen_stack if isinstance(s, RunsScreen)]
        if existing:  # go back down to it rather than stacking a second list
            while self.screen is not existing[-1]:
                self.pop_screen()
            existing[-1].reload()
            return
        if not self.is_screen_installed(RUNS):  # one list, kept between visits
            self.install_screen(RunsScreen(), RUNS)
        await self.push_screen(RUNS)

    @on(SweepsRequested)
    async def _sweeps(self, message: SweepsRequested) -> None:
        from tui.screens.sweeps import SweepsScreen

        existing = [s for s in self.screen_stack if isinstance(s, SweepsScreen)]
        if existing:  # one Sweeps screen: a running sweep is never hidden under a second one
            while self.screen is not existing[-1]:
                self.pop_screen()
            return
        await self.push_screen(SweepsScreen(message.task))

    # -- actions ---------------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show the help screen for the current screen's keys."""
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_go_home(self) -> None:
        """Back to the home screen (running work keeps going only on screens still open)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def action_export_screenshot(self) -> None:
        """Save an SVG of the screen into $RNN_TUI_SCREENSHOTS (default: the current folder)."""
        folder = Path(os.environ.get("RNN_TUI_SCREENSHOTS", ".")).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = self.save_screenshot(path=str(folder))
        except OSError as exc:
            self.notify(str(exc), title="Screenshot not saved", severity="error")
            return
        self.notify(f"saved {path}", title="Screenshot")

    async def action_quit(self) -> None:
        """Stop training and sampling (a checkpoint is saved), wait for them briefly, exit."""
        for screen in self.screen_stack:
            stop = getattr(screen, "stop_work", None)
            if callable(stop):
                stop()
        busy = [w for w in self.workers if w.group in ("train", "play", "sweep") and w.is_running]
        if busy:
            self.notify("stopping: saving a checkpoint…", timeout=QUIT_WAIT_S)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(w.wait() for w in busy), return_exceptions=True),
                    QUIT_WAIT_S,
                )
        self.exit()

    # -- command palette -------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from tasks.registry import TASKS

        for info in TASKS.values():
            yield SystemCommand(
                f"New run: {info.title}",
                f"Set up and train a model for {info.name}",
                lambda name=info.name: self.post_message(NewRunRequested(name)),
            )
        yield SystemCommand(
            "Runs",
            "The saved runs: curves, compare, resume, play, delete",
            lambda: self.post_message(RunsRequested()),
        )
        yield SystemCommand(
            "Sweeps",
            "Hyperparameter sweeps on Optuna: start one, watch its trials, open a study",
            lambda: self.post_message(SweepsRequested()),
        )
        yield SystemCommand("Home", "Back to the list of tasks", self.action_go_home)
        yield SystemCommand("Help", "Keys and what each screen does", self.action_help)
        yield SystemCommand(
            "Save screenshot (SVG)",
            "Into $RNN_TUI_SCREENSHOTS or the current folder",
            self.action_export_screenshot,
        )
        yield from super().get_system_commands(screen)


GC_THRESHOLDS = (5_000, 20, 100)
"""Python's defaults are (700, 10, 10)."""


def calm_garbage_collector() -> None:
    """Fewer, cheaper full garbage collections, each of which stops the UI.

    While training ran beside it, a full collection paused the app for up to 250 ms, often
    enough to make a key press wait that long (benchmarks/tui.py). What start-up built lives
    as long as the app, so it is frozen out of the collector's walk, and full collections come
    after 10M allocations instead of 70k (Textual itself turns collection off while it scrolls).
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _preload_imports() -> None:
    """Warm the import cache so the first run does not wait for torch, nor the first visit of
    Runs for its charts (some 110 ms of imports on the event loop), nor the first help for Rich's
    Markdown (25 ms)."""
    import torch  # noqa: F401

    import tui.screens.help
    import tui.screens.runs  # noqa: F401

    gc.freeze()  # torch's modules live as long as the app too (`calm_garbage_collector`)


def make_app(*, preload_torch: bool = True, start: str = "home") -> RnnTuiApp:
    """The app, as `rnn-tui` runs it and as the tests drive it."""
    return RnnTuiApp(preload_torch=preload_torch, start=start)


def quiet_openmp() -> None:
    """Make torch's OpenMP workers sleep rather than spin while they wait for work.

    Play screens run models in a thread next to the UI thread; spinning workers (OpenMP's
    default) would oversubscribe a machine with few cores. OpenMP reads this when torch loads,
    so it is set before anything imports torch. Training runs in a child process, which gets
    the user's own setting back (`tui.train_process.child_environment`).
    """
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        os.environ[APP_OPENMP_VARIABLE] = "1"


def run_app() -> None:
    """Run the app in the terminal (the `rnn-tui` console script with no arguments)."""
    quiet_openmp()
    make_app().run()


__all__ = ["RnnTuiApp", "make_app", "quiet_openmp", "run_app"]
