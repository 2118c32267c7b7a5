"""Blocking calls that share trips to a worker thread still answer each caller alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from userfacing_api.adapters.call_thread import CallThread
from userfacing_api.adapters.shared_trips import SharedTrips


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that counts the trips handed to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=4)
        self.trips = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.trips += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture
async def executor() -> AsyncIterator[CountingExecutor]:
    executor = CountingExecutor()
    asyncio.get_running_loop().set_default_executor(executor)
    yield executor
    executor.shutdown(wait=False)


def fail() -> int:
    raise LookupError("nothing there")


class Blocker:
    """A call that stays in its worker thread until released, and tells when it got there."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._release = threading.Event()

    def __call__(self) -> bool:
        self._loop.call_soon_threadsafe(self.started.set)
        return self._release.wait(timeout=10)

    def release(self) -> None:
        self._release.set()


async def test_each_caller_gets_its_own_result_or_error(executor: CountingExecutor) -> None:
    trips = SharedTrips()

    results = await asyncio.gather(
        trips.run(lambda: 1), trips.run(fail), trips.run(lambda: 3), return_exceptions=True
    )

    assert results[0] == 1
    assert isinstance(results[1], LookupError)
    assert results[2] == 3


async def test_calls_made_together_share_one_trip(executor: CountingExecutor) -> None:
    trips = SharedTrips()

    results = await asyncio.gather(*(trips.run(partial(pow, n, 2)) for n in range(20)))

    assert results == [n * n for n in range(20)]
    assert executor.trips == 1


async def test_calls_made_during_a_trip_leave_together_once_no_trip_is_free(
    executor: CountingExecutor,
) -> None:
    trips = SharedTrips(max_trips=1)
    blocker = Blocker()
    first = asyncio.create_task(trips.run(blocker))
    await blocker.started.wait()

    later = [asyncio.create_task(trips.run(partial(abs, n))) for n in range(5)]
    blocker.release()

    assert await first is True
    assert await asyncio.gather(*later) == list(range(5))
    assert executor.trips == 2


async def test_a_slow_call_holds_up_only_its_own_trip(executor: CountingExecutor) -> None:
    trips = SharedTrips(max_trips=2)
    blocker = Blocker()
    slow = asyncio.create_task(trips.run(blocker))
    await blocker.started.wait()

    quick = await asyncio.wait_for(trips.run(lambda: "done"), timeout=5)

    assert quick == "done"
    assert not slow.done()
    blocker.release()
    assert await slow is True


async def test_a_caller_that_gives_up_leaves_the_others_answered(
    executor: CountingExecutor,
) -> None:
    trips = SharedTrips(max_trips=1)
    blocker = Blocker()
    first = asyncio.create_task(trips.run(blocker))
    await blocker.started.wait()
    ran: list[str] = []

    def record(name: str) -> str:
        ran.append(name)
        return name

    gone = asyncio.create_task(trips.run(partial(record, "gone")))
    kept = asyncio.create_task(trips.run(partial(record, "kept")))
    await asyncio.wait([gone, kept], timeout=0)

    gone.cancel()
    blocker.release()

    assert await kept == "kept"
    assert await first is True
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert ran == ["kept"]


async def test_a_call_fails_rather_than_waits_when_no_thread_takes_work(
    executor: CountingExecutor,
) -> None:
    executor.shutdown()

    with pytest.raises(RuntimeError):
        await SharedTrips().run(lambda: 1)


def test_at_least_one_trip_must_be_allowed() -> None:
    with pytest.raises(ValueError, match="max_trips"):
        SharedTrips(max_trips=0)


async def test_trips_run_through_the_runner_given() -> None:
    own = CallThread("own-trips")
    try:
        trips = SharedTrips(max_trips=2, runner=own.run)
        names = await asyncio.gather(
            *(trips.run(lambda: threading.current_thread().name) for _ in range(5))
        )
    finally:
        await own.close()

    assert names == ["own-trips"] * 5


async def test_a_call_fails_rather_than_waits_when_the_runner_takes_no_work() -> None:
    own = CallThread("own-trips")
    await own.close()

    with pytest.raises(RuntimeError):
        await SharedTrips(runner=own.run).run(lambda: 1)
