"""Short blocking calls that share trips to a worker thread.

Under load, a trip to a worker thread (waking it, taking turns on the interpreter
lock, waking the event loop again) costs more than a metadata lookup on a local
disk. Calls made while the event loop is busy with other requests leave together
in one trip, and their results come back together, so a busy service makes about
one trip per turn of its event loop instead of one per call. A few trips may be
under way at once, so one slow call (a deep listing) holds up only the calls that
share its trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

MAX_TRIPS = 4

Runner = Callable[[Callable[[], Any]], Awaitable[Any]]
"""Calls a function in a worker thread; its result, or its exception, as an awaitable."""


@dataclass
class _Call:
    function: Callable[[], Any]
    future: asyncio.Future[Any]


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None


@dataclass
class _Queue:
    """The calls waiting on one event loop, and its trips under way."""

    waiting: list[_Call] = field(default_factory=list)
    trips: int = 0
    departure_planned: bool = False


class SharedTrips:
    """Runs calls through `runner` (in the event loop's default thread pool when None), at
    most `max_trips` trips at once."""

    def __init__(self, max_trips: int = MAX_TRIPS, runner: Runner | None = None) -> None:
        if max_trips <= 0:
            raise ValueError("max_trips must be positive")
        self._max_trips = max_trips
        self._runner = runner
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue = _Queue()

    async def run(self, function: Callable[[], T]) -> T:
        """The result of `function()`, called in a worker thread (its exception, raised here)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A new loop (tests start one each): trips of an older one keep their own queue.
            self._loop, self._queue = loop, _Queue()
        queue = self._queue
        future: asyncio.Future[T] = loop.create_future()
        queue.waiting.append(_Call(function, future))
        self._plan_departure(loop, queue)
        return await future

    def _plan_departure(self, loop: asyncio.AbstractEventLoop, queue: _Queue) -> None:
        """Leave once the loop has run what is ready now, so that its calls come along."""
        if queue.waiting and not queue.departure_planned and queue.trips < self._max_trips:
            queue.departure_planned = True
            loop.call_soon(self._depart, loop, queue)

    def _depart(self, loop: asyncio.AbstractEventLoop, queue: _Queue) -> None:
        queue.departure_planned = False
        # A caller that gave up meanwhile (a client that left) needs no answer.
        calls = [call for call in queue.waiting if not call.future.done()]
        queue.waiting = []
        if not calls:
            return
        functions = [call.function for call in calls]
        try:
            if self._runner is None:
                trip = loop.run_in_executor(None, _run_all, functions)
            else:
                trip = asyncio.ensure_future(self._runner(partial(_run_all, functions)), loop=loop)
        except RuntimeError as err:  # the loop or the thread is closing and takes no more work
            for call in calls:
                call.future.set_exception(err)
            return
        queue.trips += 1
        trip.add_done_callback(lambda done: self._arrive(loop, queue, calls, done))

    def _arrive(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: _Queue,
        calls: list[_Call],
        trip: asyncio.Future[list[_Outcome]],
    ) -> None:
        queue.trips -= 1
        for call, outcome in zip(calls, _outcomes(trip, len(calls)), strict=True):
            if call.future.done():
                continue
            if outcome is None:
                call.future.cancel()
            elif outcome.error is not None:
                call.future.set_exception(outcome.error)
            else:
                call.future.set_result(outcome.value)
        self._plan_departure(loop, queue)


def _outcomes(trip: asyncio.Future[list[_Outcome]], count: int) -> list[_Outcome | None]:
    """What each call of a finished trip gave; None for all when the trip was cancelled."""
    if trip.cancelled():
        return [None] * count
    failure = trip.exception()
    if failure is not None:
        return [_Outcome(error=failure)] * count
    return list(trip.result())


def _run_all(functions: list[Callable[[], Any]]) -> list[_Outcome]:
    """Call each function in turn; one failing does not stop the others."""
    outcomes = []
    for function in functions:
        try:
            outcomes.append(_Outcome(value=function()))
        except Exception as err:
            outcomes.append(_Outcome(error=err))
    return outcomes
