"""The home screen: tasks, their datasets' status, the architectures; no torch on the way."""

from __future__ import annotations

import subprocess
import sys

from textual.widgets import OptionList
from tui_helpers import screen_text

from tasks.registry import TASKS
from tui.app import make_app
from tui.messages import NewRunRequested, RunsRequested
from tui.screens.home import HomeScreen
from tui.widgets.task_detail import TaskDetail
from tui.widgets.task_list import TaskList


async def test_home_lists_every_task_with_dataset_status() -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        tasks = app.screen.query_one(TaskList)
        assert [tasks.get_option_at_index(i).id for i in range(tasks.option_count)] == list(TASKS)
        prompt = str(tasks.get_option_at_index(0).prompt)
        assert "tiny-shakespeare download 1.1 MB" in prompt
        assert "pydoc-prose offline default" in prompt
        detail = app.screen.query_one(TaskDetail)
        assert detail.task_name == next(iter(TASKS))


async def test_home_detail_shows_architectures_and_anchors() -> None:
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        rendered = screen_text(app)
        for needle in ("LSTM", "GRU", "Vanilla RNN from scratch", "5-gram", "1.69", "1.88"):
            assert needle in rendered


async def test_home_enter_requests_a_new_run_and_r_the_runs() -> None:
    messages: list = []
    app = make_app(preload_torch=False)
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.pause()
        app.screen.query_one(OptionList).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert any(isinstance(m, NewRunRequested) and m.task == "charlm" for m in messages)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert any(isinstance(m, RunsRequested) for m in messages)


def test_home_screen_does_not_import_torch() -> None:
    """Launching the app and drawing the home screen loads no torch (and no numpy)."""
    code = (
        "import asyncio, sys\n"
        "from tui.app import make_app\n"
        "async def main():\n"
        "    app = make_app(preload_torch=False)\n"
        "    async with app.run_test(size=(100, 30)) as pilot:\n"
        "        await pilot.pause()\n"
        "        assert 'Character-level' in app.export_screenshot()\n"
        "asyncio.run(main())\n"
        "print('torch' in sys.modules, 'numpy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stderr
