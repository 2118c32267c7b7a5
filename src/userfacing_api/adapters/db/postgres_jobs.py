"""Jobs and their outbox in PostgreSQL (asyncpg), for one or several service instances.

A transaction holds one pooled connection from `BEGIN` to `COMMIT`. `lock_job`
is `SELECT ... FOR NO KEY UPDATE`, and deliveries are claimed with `FOR UPDATE SKIP
LOCKED`: instances claiming at the same moment take different rows without
waiting for each other. Statements are few and short, since the status updates
of running jobs (one lock, one update) are the busiest path of the service.

JSON columns travel as text and are decoded here; dates are `TIMESTAMPTZ`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from userfacing_api.adapters.db.job_rows import (
    attributes_document,
    hardware_document,
    job_from_row,
)
from userfacing_api.domain.delivery import Lease
from userfacing_api.domain.errors import AlreadyExists, InvalidInput
from userfacing_api.domain.jobs import Job, JobStatus
from userfacing_api.ports.jobs import (
    JobStore,
    JobStoreUnavailable,
    JobTransaction,
    NewDelivery,
    NewJob,
    PendingDelivery,
)

_UNAVAILABLE = "The database cannot be reached"
# Ids are BIGINT: a larger number cannot name a stored job (and cannot be sent as one).
_MAX_ID = 2**63 - 1
_DATABASE_FAILURES = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
# PostgreSQL text and JSON cannot hold a NUL character, which SQLite would store.
_TEXT_REFUSED = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)

# A taken name gives no row rather than an error, which would abort the whole transaction.
_INSERT_JOB = (
    "INSERT INTO jobs (user_id, user_email, job_name, status, environment, priority,"
    " application, version, entrypoint, attributes, hardware, date_created)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    " ON CONFLICT (user_id, job_name) DO NOTHING RETURNING id"
)
_SELECT_JOBS = (
    "SELECT id, user_id, user_email, job_name, status, environment, priority,"
    " application, version, entrypoint, attributes, hardware,"
    " date_created, date_started, date_finished, runtime_details FROM jobs"
)
_SELECT_JOB = _SELECT_JOBS + " WHERE id = $1"
# Not FOR UPDATE: the key never changes, so foreign-key checks on the row need not wait.
_LOCK_JOB = _SELECT_JOB + " FOR NO KEY UPDATE"
LIST_USER_JOBS = (
    _SELECT_JOBS + " WHERE user_id = $1 ORDER BY date_created DESC, id DESC LIMIT $2 OFFSET $3"
)
"""The listing query, read in order from the index on (user_id, date_created, id)."""
_SAVE_JOB = (
    "UPDATE jobs SET status = $1, date_started = $2, date_finished = $3, runtime_details = $4"
    " WHERE id = $5"
)
_INSERT_DELIVERY = (
    "INSERT INTO job_deliveries"
    " (job_id, payload, job_created, next_attempt_at, claim, locked_until)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
)
# `= ANY(ARRAY(...))` makes the locking subquery an init plan, run exactly once whatever
# plan the update gets, so a claim never takes more rows than its limit.
_CLAIM_DELIVERIES = (
    "UPDATE job_deliveries SET claim = $1, locked_until = $2"
    " WHERE job_id = ANY(ARRAY("
    "  SELECT job_id FROM job_deliveries"
    "  WHERE next_attempt_at <= $3 AND (locked_until IS NULL OR locked_until <= $3)"
    "  ORDER BY next_attempt_at, job_id LIMIT $4"
    "  FOR UPDATE SKIP LOCKED))"
    " RETURNING job_id, payload, job_created, attempts, last_error, claim, locked_until"
)
_END_DELIVERY = "DELETE FROM job_deliveries WHERE job_id = $1"
_END_HELD_DELIVERY = _END_DELIVERY + " AND claim = $2"
_RESCHEDULE_DELIVERY = (
    "UPDATE job_deliveries SET attempts = attempts + 1, last_error = $1,"
    " next_attempt_at = $2, claim = NULL, locked_until = NULL"
    " WHERE job_id = $3 AND claim = $4"
)
# GREATEST ignores NULLs: a delivery nobody holds is due at its next_attempt_at.
_NEXT_DUE = "SELECT MIN(GREATEST(next_attempt_at, locked_until)) FROM job_deliveries"


class PostgresJobStore(JobStore):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[JobTransaction]:
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                yield _PostgresTransaction(connection)
        except _TEXT_REFUSED as err:
            raise InvalidInput("Text values must not contain NUL characters") from err
        except _DATABASE_FAILURES as err:
            raise JobStoreUnavailable(_UNAVAILABLE) from err

    async def ping(self) -> None:
        try:
            await self._pool.fetchval("SELECT 1")
        except _DATABASE_FAILURES as err:
            raise JobStoreUnavailable(_UNAVAILABLE) from err


class _PostgresTransaction(JobTransaction):
    """Operations on the connection of one open transaction; the store translates errors."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def add_job(self, new: NewJob) -> Job:
        spec = new.spec
        job_id = await self._connection.fetchval(
            _INSERT_JOB,
            new.user_id,
            new.user_email,
            spec.job_name,
            JobStatus.QUEUED.value,
            None if spec.environment is None else spec.environment.value,
            spec.priority,
            spec.application.application,
            spec.application.version,
            spec.application.entrypoint,
            json.dumps(attributes_document(spec)),
            _json_or_none(hardware_document(spec.hardware)),
            new.date_created,
        )
        if job_id is None:
            raise AlreadyExists(f"A job named {spec.job_name!r} already exists")
        return Job(
            id=job_id,
            user_id=new.user_id,
            user_email=new.user_email,
            spec=spec,
            status=JobStatus.QUEUED,
            date_created=new.date_created,
        )

    async def get_job(self, job_id: int) -> Job | None:
        return await self._job(_SELECT_JOB, job_id)

    async def lock_job(self, job_id: int) -> Job | None:
        return await self._job(_LOCK_JOB, job_id)

    async def list_jobs(self, user_id: str, offset: int, limit: int) -> list[Job]:
        rows = await self._connection.fetch(
            LIST_USER_JOBS, user_id, min(limit, _MAX_ID), min(offset, _MAX_ID)
        )
        return [_job(row) for row in rows]

    async def save_job(self, job: Job) -> None:
        await self._connection.execute(
            _SAVE_JOB,
            job.status.value,
            job.date_started,
            job.date_finished,
            job.runtime_details,
            job.id,
        )

    async def delete_job(self, job_id: int) -> bool:
        if not _is_id(job_id):
            return False
        return _changed(await self._connection.execute("DELETE FROM jobs WHERE id = $1", job_id))

    async def add_delivery(self, delivery: NewDelivery, lease: Lease | None) -> None:
        await self._connection.execute(
            _INSERT_DELIVERY,
            delivery.job_id,
            json.dumps(delivery.payload),
            delivery.job_created,
            delivery.next_attempt_at,
            None if lease is None else lease.token,
            None if lease is None else lease.until,
        )

    async def claim_deliveries(
        self, now: datetime, lease: Lease, limit: int
    ) -> list[PendingDelivery]:
        rows = await self._connection.fetch(_CLAIM_DELIVERIES, lease.token, lease.until, now, limit)
        return sorted((_delivery(row) for row in rows), key=lambda delivery: delivery.job_id)

    async def end_delivery(self, job_id: int, token: str | None) -> bool:
        if not _is_id(job_id):
            return False
        if token is None:
            status = await self._connection.execute(_END_DELIVERY, job_id)
        else:
            status = await self._connection.execute(_END_HELD_DELIVERY, job_id, token)
        return _changed(status)

    async def reschedule_delivery(
        self, job_id: int, token: str, next_attempt_at: datetime, error: str
    ) -> bool:
        if not _is_id(job_id):
            return False
        status = await self._connection.execute(
            _RESCHEDULE_DELIVERY, error, next_attempt_at, job_id, token
        )
        return _changed(status)

    async def next_delivery_due(self) -> datetime | None:
        due: datetime | None = await self._connection.fetchval(_NEXT_DUE)
        return due

    async def _job(self, query: str, job_id: int) -> Job | None:
        if not _is_id(job_id):
            return None
        row = await self._connection.fetchrow(query, job_id)
        return None if row is None else _job(row)


def _is_id(job_id: int) -> bool:
    return 0 < job_id <= _MAX_ID


def _changed(status: str) -> bool:
    """Whether a command tag such as `DELETE 1` or `UPDATE 0` counts any row."""
    return not status.endswith(" 0")


def _job(row: asyncpg.Record) -> Job:
    hardware = row["hardware"]
    return job_from_row(
        {
            **dict(row.items()),
            "attributes": json.loads(row["attributes"]),
            "hardware": None if hardware is None else json.loads(hardware),
        }
    )


def _delivery(row: asyncpg.Record) -> PendingDelivery:
    return PendingDelivery(
        job_id=row["job_id"],
        payload=json.loads(row["payload"]),
        job_created=row["job_created"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        lease=Lease(token=row["claim"], until=row["locked_until"]),
    )


def _json_or_none(document: dict[str, Any] | None) -> str | None:
    return None if document is None else json.dumps(document)
