"""Use cases of a user's jobs: the catalogue, starting, listing, reading and deleting jobs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from userfacing_api.domain.applications import Entrypoint
from userfacing_api.domain.delivery import container_path, job_payload
from userfacing_api.domain.errors import BadRequest, NotFound, UpstreamRejected
from userfacing_api.domain.identity import Principal, UserId
from userfacing_api.domain.jobs import InputFolders, Job, JobSpec, checked_spec, paths_out
from userfacing_api.domain.paths import UserPath
from userfacing_api.ports.catalogue import ApplicationCatalogue
from userfacing_api.ports.clock import Clock
from userfacing_api.ports.jobs import JobStore, NewDelivery, NewJob, PendingDelivery
from userfacing_api.ports.storage import FileStorage
from userfacing_api.service_layer.delivery import JobDeliveries, Outcome

logger = logging.getLogger(__name__)


class JobService:
    """Jobs of the calling user.

    Without `deliveries` (no worker-facing API configured) accepted jobs wait in
    the outbox; otherwise the first delivery is attempted right after the
    commit, and `wake_dispatcher` is called when it must be retried.
    """

    def __init__(
        self,
        store: JobStore,
        storage: FileStorage,
        catalogue: ApplicationCatalogue,
        clock: Clock,
        deliveries: JobDeliveries | None,
        wake_dispatcher: Callable[[], None],
    ) -> None:
        self._store = store
        self._storage = storage
        self._catalogue = catalogue
        self._clock = clock
        self._deliveries = deliveries
        self._wake_dispatcher = wake_dispatcher

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
            job = await transaction.jobs.add(NewJob(owner, caller.email, spec, now))
            payload = job_payload(job, entrypoint, files_down, paths_upload)
            await transaction.outbox.add(NewDelivery(job.id, payload, now, now), lease)
        if self._deliveries is None or lease is None:
            return job
        result = await self._deliveries.attempt(
            PendingDelivery(job.id, payload, now, attempts=0, last_error=None, lease=lease)
        )
        if result.outcome is Outcome.REJECTED:
            await self._withdraw(job, lease.token)
            raise UpstreamRejected(result.detail or "The worker-facing API rejected the job")
        if result.outcome is Outcome.RETRY_LATER:
            self._wake_dispatcher()
        return job

    async def list_jobs(self, user_id: UserId, offset: int, limit: int) -> list[Job]:
        async with self._store.transaction() as transaction:
            return await transaction.jobs.list_for_user(user_id, offset, limit)

    async def get(self, user_id: UserId, job_id: int) -> Job:
        async with self._store.transaction() as transaction:
            job = await transaction.jobs.get(job_id)
        return _owned(job, user_id, job_id)

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
        """Container path -> storage URI of every file below the job's input folders."""
        files: dict[str, str] = {}
        for kind, folder in inputs.folders():
            info = await self._storage.stat(user_id, folder)
            if info is None or not info.is_dir:
                raise BadRequest(f"Input folder {folder!r} does not exist")
            entries = await self._storage.list(user_id, folder, recursive=True)
            for entry in sorted(entries, key=lambda entry: entry.path):
                if not entry.is_dir:
                    target = container_path(
                        entrypoint.files_down[kind], folder.relative(entry.path)
                    )
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
