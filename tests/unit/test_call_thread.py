"""A thread of its own runs the calls given to it in order and answers each caller."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest

from userfacing_api.adapters.call_thread import CallThread


@pytest.fixture
async def thread() -> AsyncIterator[CallThread]:
    own = CallThread("own-calls")
    yield own
    await own.close()


async def test_calls_run_on_the_one_thread_in_the_order_given(thread: CallThread) -> None:
    seen: list[tuple[int, str]] = []

    def note(number: int) -> int:
        seen.append((number, threading.current_thread().name))
        return number * 2

    results = await asyncio.gather(*(thread.run(note, number) for number in range(20)))

    assert results == [number * 2 for number in range(20)]
    assert seen == [(number, "own-calls") for number in range(20)]


async def test_a_failing_call_fails_its_caller_only(thread: CallThread) -> None:
    def fail() -> None:
        raise ValueError("bad call")

    failing = thread.run(fail)
    after = thread.run(int, "7")

    with pytest.raises(ValueError, match="bad call"):
        await failing
    assert await after == 7


async def test_a_caller_that_gave_up_does_not_stop_the_calls_after_it(thread: CallThread) -> None:
    started, release = threading.Event(), threading.Event()

    def held() -> str:
        started.set()
        release.wait(timeout=10)
        return "late"

    gone = thread.run(held)
    after = thread.run(str, "next")
    await asyncio.to_thread(started.wait, 10)
    gone.cancel()
    release.set()

    assert await after == "next"
    assert gone.cancelled()


async def test_closing_waits_for_the_calls_given_and_ends_the_thread() -> None:
    own = CallThread("closing-calls")
    ran: list[int] = []
    pending = [own.run(ran.append, number) for number in range(5)]

    await own.close()

    assert ran == [0, 1, 2, 3, 4]
    assert all(call.done() for call in pending)
    with pytest.raises(RuntimeError, match="closed"):
        own.run(ran.append, 5)
    await asyncio.to_thread(_joined, "closing-calls")


def _joined(name: str) -> None:
    for running in threading.enumerate():
        if running.name == name:
            running.join(timeout=10)
            assert not running.is_alive()
