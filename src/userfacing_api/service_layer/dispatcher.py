"""Retrying the deliveries the request path could not complete.

`DeliveryDispatcher.run_once` is one round: claim what is due, deliver it (or
give up on it past the deadline), and tell when the next delivery is due.
`DispatcherRunner` repeats rounds in a task, sleeping until the next due time,
a poll interval (for deliveries other instances rescheduled), or a `wake()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime

from userfacing_api.domain.delivery import delivery_failed_details, delivery_rejected_details
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.jobs import JobStore, PendingDelivery
from userfacing_api.service_layer.delivery import JobDeliveries, Outcome

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 20
# The least pause between rounds that found nothing to do, against busy looping.
MIN_IDLE_PAUSE = 0.05


@dataclass(frozen=True)
class DispatchRound:
    handled: int
    """Deliveries claimed in this round."""
    next_due: datetime | None
    """When the next delivery becomes claimable; None when none is pending."""


class DeliveryDispatcher:
    def __init__(
        self,
        store: JobStore,
        deliveries: JobDeliveries,
        clock: Clock,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self._store = store
        self._deliveries = deliveries
        self._clock = clock
        self._batch_size = batch_size

    async def run_once(self) -> DispatchRound:
        now = self._clock.now()
        lease = self._deliveries.new_lease()
        async with self._store.transaction() as transaction:
            claimed = await transaction.outbox.claim(now, lease, self._batch_size)
        # Concurrently: a slow worker side must not hold later deliveries past their lease.
        await asyncio.gather(*(self._handle(delivery) for delivery in claimed))
        async with self._store.transaction() as transaction:
            next_due = await transaction.outbox.next_due()
        return DispatchRound(handled=len(claimed), next_due=next_due)

    async def _handle(self, delivery: PendingDelivery) -> None:
        try:
            if delivery.job_created + self._deliveries.deadline <= self._clock.now():
                details = delivery_failed_details(self._deliveries.deadline, delivery.last_error)
                await self._deliveries.give_up(delivery, details)
                return
            result = await self._deliveries.attempt(delivery)
            if result.outcome is Outcome.REJECTED:
                await self._deliveries.give_up(
                    delivery, delivery_rejected_details(result.detail or "no detail given")
                )
        except Exception:
            # The lease expires and a later round tries again.
            logger.exception("job %d: delivery round failed", delivery.job_id)


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
