"""Retrying the deliveries the request path could not complete.

`DeliveryDispatcher.run_once` is one round: claim what is due, deliver it (or
give up on it past the deadline), and tell when the next delivery is due.
The loop that repeats rounds is `runtime.dispatcher_runner.DispatcherRunner`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from userfacing_api.domain.delivery import delivery_rejected_details
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.jobs import JobStore, PendingDelivery
from userfacing_api.service_layer.delivery import JobDeliveries, Outcome

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 20


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
                await self._deliveries.expire(delivery)
                return
            result = await self._deliveries.attempt(delivery)
            if result.outcome is Outcome.REJECTED:
                await self._deliveries.give_up(
                    delivery, delivery_rejected_details(result.detail or "no detail given")
                )
        except Exception:
            # The lease expires and a later round tries again.
            logger.exception("job %d: delivery round failed", delivery.job_id)
