"""The loop that repeats delivery rounds while the service runs.

`DispatcherRunner` runs `DeliveryDispatcher.run_once` in a task, sleeping until
the next due time, a poll interval (for deliveries other instances
rescheduled), or a `wake()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from userfacing_api.ports.clock import Clock
from userfacing_api.service_layer.dispatcher import DeliveryDispatcher, DispatchRound

logger = logging.getLogger(__name__)

# The least pause between rounds that found nothing to do, against busy looping.
MIN_IDLE_PAUSE = 0.05


class DispatcherRunner:
    def __init__(self, dispatcher: DeliveryDispatcher, clock: Clock, poll_interval: float) -> None:
        self._dispatcher = dispatcher
        self._clock = clock
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Start a round now (a delivery has just become pending)."""
        self._wake.set()

    @asynccontextmanager
    async def running(self, stop_grace_seconds: float = 15.0) -> AsyncIterator[None]:
        """Run rounds in a task for the duration of the block.

        On exit the round in progress may finish within `stop_grace_seconds`;
        after that it is cancelled (its leases expire and another round retries).
        """
        self._stopping = False
        task = asyncio.create_task(self._run(), name="job delivery dispatcher")
        try:
            yield
        finally:
            self._stopping = True
            self._wake.set()
            _, late = await asyncio.wait({task}, timeout=stop_grace_seconds)
            if late:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                result = await self._dispatcher.run_once()
            except Exception:
                logger.exception("job delivery round failed")
                result = DispatchRound(handled=0, next_due=None)
            if self._stopping:
                return
            pause = self._pause(result)
            if pause > 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause)

    def _pause(self, result: DispatchRound) -> float:
        if result.next_due is None:
            return self._poll_interval
        until_due = (result.next_due - self._clock.now()).total_seconds()
        pause = min(max(until_due, 0.0), self._poll_interval)
        return pause if result.handled else max(pause, MIN_IDLE_PAUSE)
