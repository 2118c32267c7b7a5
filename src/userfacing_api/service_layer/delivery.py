"""One attempt at handing a job to the worker side, and what follows from its outcome.

Used by the request that creates a job (an attempt right after the commit) and
by the dispatcher (retries). Both act only on deliveries whose lease they hold.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from uuid import uuid4

from userfacing_api.domain.delivery import Lease, RetryPolicy, delivery_failed_details
from userfacing_api.domain.events import (
    delivered_details,
    delivery_retrying_details,
    status_event,
)
from userfacing_api.domain.jobs import JobStatus, with_status
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.jobs import JobStore, JobTransaction, PendingDelivery
from userfacing_api.ports.metrics import Metrics, NoMetrics
from userfacing_api.ports.worker_queue import (
    DeliveryOutcomeUnknown,
    DeliveryRejected,
    DeliveryUnavailable,
    WorkerQueue,
)
from userfacing_api.service_layer.notifications import JobEndNotifications

logger = logging.getLogger(__name__)

# Longer than any single call to the worker-facing API may take.
DEFAULT_LEASE = timedelta(minutes=2)
# How long a job whose delivery had no answer waits before it is offered again.
DEFAULT_UNKNOWN_OUTCOME_WAIT = timedelta(minutes=10)


class Outcome(Enum):
    DELIVERED = "delivered"
    RETRY_LATER = "retry later"
    REJECTED = "rejected"


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    detail: str | None = None


class JobDeliveries:
    def __init__(
        self,
        store: JobStore,
        queue: WorkerQueue,
        clock: Clock,
        notifications: JobEndNotifications,
        *,
        deadline: timedelta,
        retry: RetryPolicy,
        lease_duration: timedelta = DEFAULT_LEASE,
        unknown_outcome_wait: timedelta = DEFAULT_UNKNOWN_OUTCOME_WAIT,
        jitter: Callable[[], float] = random.random,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._queue = queue
        self._clock = clock
        self._notifications = notifications
        self.deadline = deadline
        self._retry = retry
        self._lease_duration = lease_duration
        self._unknown_outcome_wait = unknown_outcome_wait
        self._jitter = jitter
        self._metrics = metrics or NoMetrics()

    def new_lease(self) -> Lease:
        return Lease(token=uuid4().hex, until=self._clock.now() + self._lease_duration)

    async def attempt(self, delivery: PendingDelivery) -> AttemptResult:
        """Send the payload once; on success the delivery ends, on a transient failure
        it is rescheduled with back-off (never past the deadline).

        When the payload went out but no answer came (or the attempt is cancelled,
        as at shutdown), the worker side may hold the job: it is offered again only
        after `unknown_outcome_wait`, by when a job that got through has been
        reported on (a status report ends its delivery), so it is not sent twice
        blindly.
        """
        try:
            await self._queue.enqueue(delivery.payload)
        except DeliveryRejected as err:
            logger.warning("job %d rejected by the worker side: %s", delivery.job_id, err.detail)
            self._metrics.delivery_attempted("rejected")
            return AttemptResult(Outcome.REJECTED, err.detail)
        except DeliveryOutcomeUnknown as err:
            self._metrics.delivery_attempted("no_answer")
            await self._reschedule(delivery, err.detail, self._unknown_outcome_wait)
            return AttemptResult(Outcome.RETRY_LATER, err.detail)
        except DeliveryUnavailable as err:
            self._metrics.delivery_attempted("unavailable")
            error = err.detail
        except asyncio.CancelledError:
            self._metrics.delivery_attempted("no_answer")
            interrupted = self._reschedule(
                delivery, "interrupted by a shutdown", self._unknown_outcome_wait
            )
            await asyncio.shield(interrupted)
            raise
        except Exception:
            logger.exception("job %d: unexpected failure while delivering", delivery.job_id)
            self._metrics.delivery_attempted("unavailable")
            error = "unexpected failure while delivering"
        else:
            self._metrics.delivery_attempted("delivered")
            await self._end(delivery)
            return AttemptResult(Outcome.DELIVERED)
        failures = delivery.attempts + 1
        await self._reschedule(delivery, error, self._retry.delay(failures, self._jitter()))
        return AttemptResult(Outcome.RETRY_LATER, error)

    async def expire(self, delivery: PendingDelivery) -> None:
        """Give up on a delivery whose deadline has passed."""
        self._metrics.delivery_abandoned()
        await self.give_up(delivery, delivery_failed_details(self.deadline, delivery.last_error))

    async def give_up(self, delivery: PendingDelivery, details: str) -> None:
        """End the delivery and turn its job to `error` with `details`; tell the owner."""
        now = self._clock.now()
        async with self._store.transaction() as transaction:
            # The job first, then its delivery: the order status reports lock them in.
            job = await transaction.jobs.lock(delivery.job_id)
            if job is None:
                return
            if not await transaction.outbox.end(delivery.job_id, delivery.lease.token):
                return
            failed = with_status(job, JobStatus.ERROR, details, now)
            await transaction.jobs.save(failed)
            await transaction.events.add(status_event(failed, now, details))
        self._metrics.job_status_changed(job.status, failed.status)
        logger.warning("job %d failed: %s", job.id, details)
        self._notifications.status_changed(job.status, failed)

    async def _end(self, delivery: PendingDelivery) -> None:
        """End the delivery; after failed attempts, tell the job's history it went through."""
        details = delivered_details(delivery.attempts) if delivery.attempts else None
        try:
            await self._change(
                delivery,
                lambda transaction: transaction.outbox.end(delivery.job_id, delivery.lease.token),
                details,
            )
        except Exception:
            # The job is with the workers; the lease expires and a retry may send it twice.
            logger.exception("job %d delivered, but its outbox entry stays", delivery.job_id)

    async def _reschedule(self, delivery: PendingDelivery, error: str, after: timedelta) -> None:
        failures = delivery.attempts + 1
        retry_at = min(self._clock.now() + after, delivery.job_created + self.deadline)
        logger.info(
            "job %d not delivered (attempt %d): %s; next attempt at %s",
            delivery.job_id,
            failures,
            error,
            retry_at.isoformat(),
        )
        details = delivery_retrying_details(error) if failures == 1 else None
        try:
            await self._change(
                delivery,
                lambda transaction: transaction.outbox.reschedule(
                    delivery.job_id, delivery.lease.token, retry_at, error
                ),
                details,
            )
        except Exception:
            # The lease expires on its own and the delivery is retried then.
            logger.exception("job %d: could not reschedule its delivery", delivery.job_id)

    async def _change(
        self,
        delivery: PendingDelivery,
        change: Callable[[JobTransaction], Awaitable[bool]],
        details: str | None,
    ) -> None:
        """Apply `change` to the delivery; if it still held the lease and `details` are
        given, record them in the job's history in the same transaction.

        The job is locked before the delivery, in the order status reports lock them.
        """
        async with self._store.transaction() as transaction:
            job = None if details is None else await transaction.jobs.lock(delivery.job_id)
            held = await change(transaction)
            if job is not None and held:
                await transaction.events.add(status_event(job, self._clock.now(), details))
