"""Use cases of a user's jobs: the catalogue, starting, listing, reading and deleting jobs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from userfacing_api.domain.applications import Entrypoint
from userfacing_api.domain.delivery import (
    container_path,
    delivery_rejected_details,
    job_payload,
)
from userfacing_api.domain.errors import BadRequest, NotFound, UpstreamRejected
from userfacing_api.domain.events import created_event, status_event
from userfacing_api.domain.identity import Principal, UserId
from userfacing_api.domain.jobs import (
    InputFolders,
    Job,
    JobFilter,
    JobSpec,
    cancelled,
    check_active_jobs,
    checked_spec,
    paths_out,
)
from userfacing_api.domain.paths import UserPath
from userfacing_api.ports.catalogue import ApplicationCatalogue
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.jobs import JobStore, NewDelivery, NewJob, PendingDelivery
from userfacing_api.ports.metrics import Metrics, NoMetrics
from userfacing_api.ports.storage import FileStorage
from userfacing_api.service_layer.delivery import AttemptResult, JobDeliveries, Outcome

logger = logging.getLogger(__name__)

# How long `POST /jobs` waits for the first delivery attempt before it answers anyway.
DEFAULT_ANSWER_WITHIN = 1.5

Spawn = Callable[[Coroutine[Any, Any, None], str], None]


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int
    """Jobs waiting to be delivered to the worker side."""
    oldest_wait_seconds: float
    """How long the oldest of them has waited (0 when none waits)."""


class JobService:
    """Jobs of the calling user.

    Without `deliveries` (no worker-facing API configured) accepted jobs wait in
    the outbox; otherwise the first delivery is attempted right after the
    commit, and `wake_dispatcher` is called when it must be retried.

    The caller waits for that attempt at most `answer_within` seconds: a slow
    worker side must not hold the request. The attempt then goes on through
    `spawn` (tracked background work), and a rejection arriving later turns
    the job `error` and tells its owner, as the dispatcher does.

    A user may have at most `active_jobs_limit` jobs that have not ended (None: any
    number).
    """

    def __init__(
        self,
        store: JobStore,
        storage: FileStorage,
        catalogue: ApplicationCatalogue,
        clock: Clock,
        deliveries: JobDeliveries | None,
        wake_dispatcher: Callable[[], None],
        spawn: Spawn,
        answer_within: float = DEFAULT_ANSWER_WITHIN,
        metrics: Metrics | None = None,
        active_jobs_limit: int | None = None,
    ) -> None:
        self._store = store
        self._active_jobs_limit = active_jobs_limit
        self._storage = storage
        self._catalogue = catalogue
        self._clock = clock
        self._deliveries = deliveries
        self._wake_dispatcher = wake_dispatcher
        self._spawn = spawn
        self._answer_within = answer_within
        self._metrics = metrics or NoMetrics()

    async def applications(self) -> Mapping[str, Any]:
        """The catalogue as configured: `{application: {version: {entrypoint: {...}}}}`."""
        return (await self._catalogue.current()).document

    async def create(self, caller: Principal, requested: JobSpec) -> Job:
        spec = checked_spec(requested)
        entrypoint = (await self._catalogue.current()).entrypoint(spec.application)
        entrypoint.check_env_vars(spec.env_vars)
        owner = UserId(caller.user_id)
        files_down = await self._input_files(owner, spec.inputs, entrypoint)
        paths_upload = {
            kind: self._storage.uri(owner, path) for kind, path in paths_out(spec.job_name).items()
        }
        lease = None if self._deliveries is None else self._deliveries.new_lease()
        now = self._clock.now()
        async with self._store.transaction() as transaction:
            if self._active_jobs_limit is not None:
                active = await transaction.jobs.count_active(owner)
                check_active_jobs(active, self._active_jobs_limit)
            job = await transaction.jobs.add(NewJob(owner, caller.email, spec, now))
            payload = job_payload(job, entrypoint, files_down, paths_upload)
            await transaction.outbox.add(NewDelivery(job.id, payload, now, now), lease)
            await transaction.events.add(created_event(job))
        self._metrics.job_status_changed(None, job.status)
        if self._deliveries is None or lease is None:
            return job
        delivery = PendingDelivery(job.id, payload, now, attempts=0, last_error=None, lease=lease)
        attempt = asyncio.ensure_future(self._deliveries.attempt(delivery))
        try:
            done, _ = await asyncio.wait({attempt}, timeout=self._answer_within)
        finally:
            if not attempt.done():
                self._spawn(self._follow(attempt, delivery), f"delivery of job {job.id}")
        if not done:
            return job
        result = attempt.result()
        if result.outcome is Outcome.REJECTED:
            await self._withdraw(job, lease.token)
            raise UpstreamRejected(result.detail or "The worker-facing API rejected the job")
        if result.outcome is Outcome.RETRY_LATER:
            self._wake_dispatcher()
        return job

    async def _follow(
        self, attempt: asyncio.Future[AttemptResult], delivery: PendingDelivery
    ) -> None:
        """What the request could not wait for: the end of the first attempt."""
        assert self._deliveries is not None
        result = await attempt
        if result.outcome is Outcome.REJECTED:
            details = delivery_rejected_details(result.detail or "no detail given")
            await self._deliveries.give_up(delivery, details)
        elif result.outcome is Outcome.RETRY_LATER:
            self._wake_dispatcher()

    async def outbox_backlog(self) -> OutboxBacklog:
        async with self._store.transaction() as transaction:
            summary = await transaction.outbox.summary()
        if summary.oldest_created is None:
            return OutboxBacklog(summary.pending, 0.0)
        waited = (self._clock.now() - summary.oldest_created).total_seconds()
        return OutboxBacklog(summary.pending, max(waited, 0.0))

    async def list_jobs(
        self, user_id: UserId, offset: int, limit: int, only: JobFilter | None = None
    ) -> list[Job]:
        async with self._store.reading() as reads:
            return await reads.jobs.list_for_user(user_id, offset, limit, only)

    async def get(self, user_id: UserId, job_id: int) -> Job:
        async with self._store.reading() as reads:
            job = await reads.jobs.get(job_id)
        return _owned(job, user_id, job_id)

    async def cancel(self, user_id: UserId, job_id: int) -> Job:
        """Cancel the job, keeping it and its folders; `Conflict` once it has ended.

        A delivery still pending is withdrawn in the same transaction, so the
        job never reaches the workers; if it already has, their next report
        about it is answered 404, which tells them to stop. No notice is sent:
        the owner did this.
        """
        now = self._clock.now()
        async with self._store.transaction() as transaction:
            job = _owned(await transaction.jobs.lock(job_id), user_id, job_id)
            ended = cancelled(job, now)
            await transaction.jobs.save(ended)
            await transaction.outbox.end(job.id, None)
            await transaction.events.add(status_event(ended, now))
        self._metrics.job_status_changed(job.status, ended.status)
        return ended

    async def delete(self, user_id: UserId, job_id: int) -> None:
        """Remove the job, its pending delivery and its output, log and artifact folders."""
        async with self._store.transaction() as transaction:
            job = await transaction.jobs.get(job_id)
            if job is not None and job.user_id == user_id:
                await transaction.jobs.delete(job.id)
        job = _owned(job, user_id, job_id)
        for folder in job.paths_out.values():
            await self._storage.delete(user_id, folder)

    async def _input_files(
        self, user_id: UserId, inputs: InputFolders, entrypoint: Entrypoint
    ) -> dict[str, str]:
        """Container path -> storage URI of every input file.

        An input folder brings every file below it, by its path relative to the
        folder; an input file comes alone, by its name.
        """
        files: dict[str, str] = {}
        for kind, path in inputs.folders():
            root = entrypoint.files_down[kind]
            info = await self._storage.stat(user_id, path)
            if info is None:
                raise BadRequest(f"Input {path!r} does not exist")
            if not info.is_dir:
                files[container_path(root, path.name)] = self._storage.uri(user_id, path)
                continue
            entries = await self._storage.list(user_id, path, recursive=True)
            for entry in sorted(entries, key=lambda entry: entry.path):
                if not entry.is_dir:
                    target = container_path(root, path.relative(entry.path))
                    files[target] = self._storage.uri(user_id, UserPath(entry.path))
        return files

    async def _withdraw(self, job: Job, token: str) -> None:
        """Undo a job the worker side refused, so that its name is free again."""
        async with self._store.transaction() as transaction:
            if await transaction.outbox.end(job.id, token):
                await transaction.jobs.delete(job.id)


def _owned(job: Job | None, user_id: UserId, job_id: int) -> Job:
    if job is None or job.user_id != user_id:
        raise NotFound(f"Job {job_id} not found")
    return job
