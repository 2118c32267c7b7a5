"""Status updates the worker side reports for running jobs.

This is the busiest use case (workers repeat the current status every few
seconds as a keep-alive), so it is one short transaction and nothing else: the
owner's notice is sent in the background. A report that would change nothing
(the same status, no details, no delivery of the job left to end) is answered
from a read, without the transaction.
"""

from __future__ import annotations

import hmac

from userfacing_api.domain.errors import NotFound, Unauthenticated
from userfacing_api.domain.events import report_event
from userfacing_api.domain.jobs import JobStatus, accepts_reports, with_status
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.jobs import JobStore
from userfacing_api.ports.metrics import Metrics, NoMetrics
from userfacing_api.service_layer.notifications import JobEndNotifications


class JobStatusService:
    def __init__(
        self,
        store: JobStore,
        clock: Clock,
        notifications: JobEndNotifications,
        internal_api_key: str | None,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics or NoMetrics()
        self._clock = clock
        self._notifications = notifications
        self._key = None if internal_api_key is None else internal_api_key.encode()

    def authorise(self, api_key: str | None) -> None:
        """Accept only the worker side's key; with no key configured, refuse everyone."""
        if api_key is None:
            raise Unauthenticated("Missing x-api-key header")
        if self._key is None or not hmac.compare_digest(api_key.encode(), self._key):
            raise Unauthenticated("Invalid API key")

    async def update(
        self, job_id: int, status: JobStatus, runtime_details: str | None
    ) -> JobStatus:
        """Record the reported status; `NotFound` when the job does not exist (any more)
        or its owner cancelled it (the worker side then stops the work).

        A report also shows the worker side has the job, so a delivery still
        pending for it is dropped. A change of status, or new details, is
        recorded in the job's history in the same transaction; a keep-alive
        (the same status, no details) writes nothing but that drop.
        """
        unchanged = await self._unchanged_status(job_id, status, runtime_details)
        if unchanged is not None:
            return unchanged
        async with self._store.transaction() as transaction:
            job = await transaction.jobs.lock(job_id)
            if job is not None and accepts_reports(job):
                now = self._clock.now()
                updated = with_status(job, status, runtime_details, now)
                if updated != job:
                    await transaction.jobs.save(updated)
                event = report_event(job, updated, runtime_details, now)
                if event is not None:
                    await transaction.events.add(event)
                await transaction.outbox.end(job_id, None)
        if job is None or not accepts_reports(job):
            raise NotFound(f"Job {job_id} not found")
        if updated.status != job.status:
            self._metrics.job_status_changed(job.status, updated.status)
        self._notifications.status_changed(job.status, updated)
        return updated.status

    async def _unchanged_status(
        self, job_id: int, status: JobStatus, runtime_details: str | None
    ) -> JobStatus | None:
        """The answer to a report that would write nothing, as of one consistent read;
        None when the report needs the transaction (a change, details, a delivery to
        end, or no job to report on, which the transaction refuses as before)."""
        async with self._store.reading() as reads:
            found = await reads.jobs.get_with_delivery(job_id)
        if found is None:
            return None
        job, delivery_pending = found
        if delivery_pending or not accepts_reports(job):
            return None
        now = self._clock.now()
        updated = with_status(job, status, runtime_details, now)
        if updated != job or report_event(job, updated, runtime_details, now) is not None:
            return None
        return job.status
