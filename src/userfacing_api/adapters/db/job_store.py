"""Jobs and their outbox on either engine, through a `Session` and the engine's `Dialect`.

One transaction holds one connection from `BEGIN` to `COMMIT`. `lock` keeps
other transactions off the job until commit (PostgreSQL: `FOR NO KEY UPDATE`;
SQLite: the write lock its transactions take from the start), and deliveries
are claimed in one `UPDATE ... RETURNING` (PostgreSQL: `FOR UPDATE SKIP
LOCKED`, so instances claiming at the same moment take different rows without
waiting for each other). Statements are few and short, since the status
updates of running jobs (one lock, one update) are the busiest path of the
service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime

from userfacing_api.adapters.db.job_rows import (
    delivery_from_row,
    job_from_row,
    new_delivery_values,
    new_job_values,
)
from userfacing_api.adapters.db.session import Dialect, Session
from userfacing_api.domain.delivery import Lease
from userfacing_api.domain.errors import AlreadyExists
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import Job, JobStatus
from userfacing_api.ports.jobs import (
    JobRepository,
    JobStore,
    JobTransaction,
    NewDelivery,
    NewJob,
    Outbox,
    OutboxSummary,
    PendingDelivery,
)

# Ids are signed 64-bit integers on both engines and start at 1: any other
# number names no job (and a larger one could not even be sent as a parameter).
_MAX_ID = 2**63 - 1

# A taken name gives no row rather than an error, which would abort a PostgreSQL transaction.
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
LIST_USER_JOBS = (
    _SELECT_JOBS + " WHERE user_id = $1 ORDER BY date_created DESC, id DESC LIMIT $2 OFFSET $3"
)
"""The listing query, read in order from the index on `(user_id, date_created)`."""
_SAVE_JOB = (
    "UPDATE jobs SET status = $1, date_started = $2, date_finished = $3, runtime_details = $4"
    " WHERE id = $5"
)
_DELETE_JOB = "DELETE FROM jobs WHERE id = $1"
_INSERT_DELIVERY = (
    "INSERT INTO job_deliveries"
    " (job_id, payload, job_created, next_attempt_at, claim, locked_until)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
)
_DUE_DELIVERIES = (
    "SELECT job_id FROM job_deliveries"
    " WHERE next_attempt_at <= $3 AND (locked_until IS NULL OR locked_until <= $3)"
    " ORDER BY next_attempt_at, job_id LIMIT $4"
)
_CLAIM_DELIVERIES = (
    "UPDATE job_deliveries SET claim = $1, locked_until = $2 WHERE job_id {}"
    " RETURNING job_id, payload, job_created, attempts, last_error, claim, locked_until"
)
_END_DELIVERY = "DELETE FROM job_deliveries WHERE job_id = $1"
_END_HELD_DELIVERY = _END_DELIVERY + " AND claim = $2"
_RESCHEDULE_DELIVERY = (
    "UPDATE job_deliveries SET attempts = attempts + 1, last_error = $1,"
    " next_attempt_at = $2, claim = NULL, locked_until = NULL"
    " WHERE job_id = $3 AND claim = $4"
)
# A delivery nobody holds is due at its next_attempt_at.
_SUMMARY = "SELECT COUNT(*) AS pending, MIN(job_created) AS oldest FROM job_deliveries"
_NEXT_DUE = (
    "SELECT MIN({}(next_attempt_at, COALESCE(locked_until, next_attempt_at))) AS due"
    " FROM job_deliveries"
)


class SqlJobStore(JobStore):
    def __init__(
        self,
        transactions: Callable[[], AbstractAsyncContextManager[Session]],
        session: Session,
        dialect: Dialect,
    ) -> None:
        self._transactions = transactions
        self._session = session
        self._dialect = dialect

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[JobTransaction]:
        async with self._transactions() as session:
            yield JobTransaction(
                jobs=_SqlJobs(session, self._dialect), outbox=_SqlOutbox(session, self._dialect)
            )

    async def ping(self) -> None:
        """A transaction, not a lone read: on SQLite it shows another process's lock."""
        async with self._transactions() as session:
            await session.fetch("SELECT 1")


class _SqlJobs(JobRepository):
    def __init__(self, session: Session, dialect: Dialect) -> None:
        self._session = session
        self._dialect = dialect
        self._lock_job = _SELECT_JOB + dialect.lock_clause

    async def add(self, new: NewJob) -> Job:
        rows = await self._session.fetch(_INSERT_JOB, *new_job_values(new))
        if not rows:
            raise AlreadyExists(f"A job named {new.spec.job_name!r} already exists")
        return Job(
            id=rows[0]["id"],
            user_id=new.user_id,
            user_email=new.user_email,
            spec=new.spec,
            status=JobStatus.QUEUED,
            date_created=new.date_created,
        )

    async def get(self, job_id: int) -> Job | None:
        return await self._job(_SELECT_JOB, job_id)

    async def lock(self, job_id: int) -> Job | None:
        return await self._job(self._lock_job, job_id)

    async def list_for_user(self, user_id: UserId, offset: int, limit: int) -> list[Job]:
        rows = await self._session.fetch(
            LIST_USER_JOBS, user_id, min(limit, _MAX_ID), min(offset, _MAX_ID)
        )
        return [job_from_row(row, self._dialect.read_datetime) for row in rows]

    async def save(self, job: Job) -> None:
        await self._session.execute(
            _SAVE_JOB,
            job.status.value,
            job.date_started,
            job.date_finished,
            job.runtime_details,
            job.id,
        )

    async def delete(self, job_id: int) -> bool:
        return _is_id(job_id) and await self._session.execute(_DELETE_JOB, job_id) > 0

    async def _job(self, query: str, job_id: int) -> Job | None:
        if not _is_id(job_id):
            return None
        rows = await self._session.fetch(query, job_id)
        return job_from_row(rows[0], self._dialect.read_datetime) if rows else None


class _SqlOutbox(Outbox):
    def __init__(self, session: Session, dialect: Dialect) -> None:
        self._session = session
        self._dialect = dialect
        self._claim = _CLAIM_DELIVERIES.format(dialect.claim_filter.format(_DUE_DELIVERIES))
        self._next_due = _NEXT_DUE.format(dialect.greatest)

    async def add(self, delivery: NewDelivery, lease: Lease | None) -> None:
        await self._session.execute(_INSERT_DELIVERY, *new_delivery_values(delivery, lease))

    async def claim(self, now: datetime, lease: Lease, limit: int) -> list[PendingDelivery]:
        rows = await self._session.fetch(self._claim, lease.token, lease.until, now, limit)
        claimed = (delivery_from_row(row, self._dialect.read_datetime) for row in rows)
        return sorted(claimed, key=lambda delivery: delivery.job_id)

    async def end(self, job_id: int, token: str | None) -> bool:
        if not _is_id(job_id):
            return False
        if token is None:
            return await self._session.execute(_END_DELIVERY, job_id) > 0
        return await self._session.execute(_END_HELD_DELIVERY, job_id, token) > 0

    async def reschedule(
        self, job_id: int, token: str, next_attempt_at: datetime, error: str
    ) -> bool:
        if not _is_id(job_id):
            return False
        changed = await self._session.execute(
            _RESCHEDULE_DELIVERY, error, next_attempt_at, job_id, token
        )
        return changed > 0

    async def next_due(self) -> datetime | None:
        rows = await self._session.fetch(self._next_due)
        due = rows[0]["due"] if rows else None
        return None if due is None else self._dialect.read_datetime(due)

    async def summary(self) -> OutboxSummary:
        [row] = await self._session.fetch(_SUMMARY)
        oldest = row["oldest"]
        return OutboxSummary(
            pending=int(row["pending"]),
            oldest_created=None if oldest is None else self._dialect.read_datetime(oldest),
        )


def _is_id(job_id: int) -> bool:
    return 0 < job_id <= _MAX_ID
