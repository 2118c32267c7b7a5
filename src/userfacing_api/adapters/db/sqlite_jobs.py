"""Jobs and their outbox in SQLite (aiosqlite), for the embedded single-instance setup.

Transactions are those of `SqliteDatabase`, the connection every SQLite
adapter shares: `BEGIN IMMEDIATE ... COMMIT` under its lock, so that no other
statement slips into them. Dates are stored as ISO 8601 text in UTC
with a fixed width, so comparing and sorting the text compares the times.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from userfacing_api.adapters.db.database import SqliteDatabase
from userfacing_api.adapters.db.job_rows import (
    attributes_document,
    hardware_document,
    job_from_row,
)
from userfacing_api.domain.delivery import Lease
from userfacing_api.domain.errors import AlreadyExists
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
# SQLite integers are signed 64-bit: a larger id cannot name a stored job.
_MAX_ID = 2**63 - 1

_INSERT_JOB = (
    "INSERT INTO jobs (user_id, user_email, job_name, status, environment, priority,"
    " application, version, entrypoint, attributes, hardware, date_created)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_JOBS = (
    "SELECT id, user_id, user_email, job_name, status, environment, priority,"
    " application, version, entrypoint, attributes, hardware,"
    " date_created, date_started, date_finished, runtime_details FROM jobs"
)
_SELECT_JOB = _SELECT_JOBS + " WHERE id = ?"
LIST_USER_JOBS = (
    _SELECT_JOBS + " WHERE user_id = ? ORDER BY date_created DESC, id DESC LIMIT ? OFFSET ?"
)
"""The listing query, read in order from the index on (user_id, date_created) and the rowid."""
_CLAIM_DELIVERIES = (
    "UPDATE job_deliveries SET claim = ?, locked_until = ?"
    " WHERE job_id IN (SELECT job_id FROM job_deliveries"
    "  WHERE next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?)"
    "  ORDER BY next_attempt_at, job_id LIMIT ?)"
    " RETURNING job_id, payload, job_created, attempts, last_error, claim, locked_until"
)


class SqliteJobStore(JobStore):
    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[JobTransaction]:
        try:
            async with self._database.transaction() as connection:
                yield _SqliteTransaction(connection)
        except sqlite3.Error as err:
            raise JobStoreUnavailable(_UNAVAILABLE) from err

    async def ping(self) -> None:
        try:
            await self._database.fetch("SELECT 1")
        except (sqlite3.Error, ValueError) as err:
            raise JobStoreUnavailable(_UNAVAILABLE) from err


class _SqliteTransaction(JobTransaction):
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def add_job(self, new: NewJob) -> Job:
        spec = new.spec
        try:
            cursor = await self._execute(
                _INSERT_JOB,
                (
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
                    _text(new.date_created),
                ),
            )
        except sqlite3.IntegrityError as err:
            raise AlreadyExists(f"A job named {spec.job_name!r} already exists") from err
        job_id = cursor.lastrowid
        assert job_id is not None
        return Job(
            id=job_id,
            user_id=new.user_id,
            user_email=new.user_email,
            spec=spec,
            status=JobStatus.QUEUED,
            date_created=new.date_created,
        )

    async def get_job(self, job_id: int) -> Job | None:
        if not 0 <= job_id <= _MAX_ID:
            return None
        rows = await self._fetch(_SELECT_JOB, (job_id,))
        return _job(rows[0]) if rows else None

    async def lock_job(self, job_id: int) -> Job | None:
        # The transaction already holds SQLite's write lock (BEGIN IMMEDIATE).
        return await self.get_job(job_id)

    async def list_jobs(self, user_id: str, offset: int, limit: int) -> list[Job]:
        rows = await self._fetch(
            LIST_USER_JOBS,
            (user_id, min(limit, _MAX_ID), min(offset, _MAX_ID)),
        )
        return [_job(row) for row in rows]

    async def save_job(self, job: Job) -> None:
        await self._execute(
            "UPDATE jobs SET status = ?, date_started = ?, date_finished = ?,"
            " runtime_details = ? WHERE id = ?",
            (
                job.status.value,
                _text_or_none(job.date_started),
                _text_or_none(job.date_finished),
                job.runtime_details,
                job.id,
            ),
        )

    async def delete_job(self, job_id: int) -> bool:
        if not 0 <= job_id <= _MAX_ID:
            return False
        cursor = await self._execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        return cursor.rowcount > 0

    async def add_delivery(self, delivery: NewDelivery, lease: Lease | None) -> None:
        await self._execute(
            "INSERT INTO job_deliveries"
            " (job_id, payload, job_created, next_attempt_at, claim, locked_until)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                delivery.job_id,
                json.dumps(delivery.payload),
                _text(delivery.job_created),
                _text(delivery.next_attempt_at),
                None if lease is None else lease.token,
                None if lease is None else _text(lease.until),
            ),
        )

    async def claim_deliveries(
        self, now: datetime, lease: Lease, limit: int
    ) -> list[PendingDelivery]:
        moment = _text(now)
        rows = await self._fetch(
            _CLAIM_DELIVERIES,
            (lease.token, _text(lease.until), moment, moment, limit),
        )
        claimed = [_delivery(row) for row in rows]
        return sorted(claimed, key=lambda delivery: delivery.job_id)

    async def end_delivery(self, job_id: int, token: str | None) -> bool:
        if not 0 <= job_id <= _MAX_ID:
            return False
        if token is None:
            cursor = await self._execute("DELETE FROM job_deliveries WHERE job_id = ?", (job_id,))
        else:
            cursor = await self._execute(
                "DELETE FROM job_deliveries WHERE job_id = ? AND claim = ?", (job_id, token)
            )
        return cursor.rowcount > 0

    async def reschedule_delivery(
        self, job_id: int, token: str, next_attempt_at: datetime, error: str
    ) -> bool:
        cursor = await self._execute(
            "UPDATE job_deliveries SET attempts = attempts + 1, last_error = ?,"
            " next_attempt_at = ?, claim = NULL, locked_until = NULL"
            " WHERE job_id = ? AND claim = ?",
            (error, _text(next_attempt_at), job_id, token),
        )
        return cursor.rowcount > 0

    async def next_delivery_due(self) -> datetime | None:
        rows = await self._fetch(
            "SELECT MIN(MAX(next_attempt_at, COALESCE(locked_until, next_attempt_at)))"
            " AS due FROM job_deliveries",
            (),
        )
        due = rows[0]["due"] if rows else None
        return None if due is None else datetime.fromisoformat(due)

    async def _execute(self, sql: str, parameters: Iterable[Any]) -> aiosqlite.Cursor:
        try:
            return await self._connection.execute(sql, tuple(parameters))
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as err:
            raise JobStoreUnavailable(_UNAVAILABLE) from err

    async def _fetch(self, sql: str, parameters: Iterable[Any]) -> list[sqlite3.Row]:
        try:
            async with self._connection.execute(sql, tuple(parameters)) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as err:
            raise JobStoreUnavailable(_UNAVAILABLE) from err


def _job(row: sqlite3.Row) -> Job:
    hardware = row["hardware"]
    return job_from_row(
        {
            **dict(row),
            "attributes": json.loads(row["attributes"]),
            "hardware": None if hardware is None else json.loads(hardware),
            "date_created": datetime.fromisoformat(row["date_created"]),
            "date_started": _datetime_or_none(row["date_started"]),
            "date_finished": _datetime_or_none(row["date_finished"]),
        }
    )


def _delivery(row: sqlite3.Row) -> PendingDelivery:
    return PendingDelivery(
        job_id=row["job_id"],
        payload=json.loads(row["payload"]),
        job_created=datetime.fromisoformat(row["job_created"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        lease=Lease(token=row["claim"], until=datetime.fromisoformat(row["locked_until"])),
    )


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _text_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else _text(moment)


def _datetime_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _json_or_none(document: dict[str, Any] | None) -> str | None:
    return None if document is None else json.dumps(document)
