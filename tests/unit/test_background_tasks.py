"""Background work: failures are contained, shutdown waits for it, then cancels it."""

from __future__ import annotations

import asyncio
import logging

import pytest

from userfacing_api.runtime.background import BackgroundTasks


async def test_close_waits_for_running_work() -> None:
    tasks = BackgroundTasks()
    done: list[str] = []

    async def work() -> None:
        await asyncio.sleep(0)
        done.append("sent")

    tasks.spawn(work(), name="notice")
    await tasks.close()

    assert done == ["sent"]


async def test_close_cancels_work_that_outlasts_the_grace_period() -> None:
    tasks = BackgroundTasks()
    cancelled = asyncio.Event()

    async def stuck() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    tasks.spawn(stuck(), name="stuck notice")
    await asyncio.sleep(0)
    await tasks.close(grace_seconds=0.01)

    assert cancelled.is_set()


async def test_a_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks()

    async def failing() -> None:
        raise RuntimeError("boom")

    tasks.spawn(failing(), name="failing notice")
    await tasks.close()

    assert "failing notice failed" in caplog.text


async def test_work_spawned_after_close_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks()
    await tasks.close()
    ran: list[str] = []

    async def work() -> None:
        ran.append("ran")

    with caplog.at_level(logging.WARNING):
        tasks.spawn(work(), name="late notice")
    await asyncio.sleep(0)

    assert ran == []
    assert "late notice dropped" in caplog.text
