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
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from typing import Any

from userfacing_api.adapters.db.job_rows import (
    JOB_COLUMNS,
    delivery_from_row,
    event_from_row,
    job_and_flag_from_row,
    job_from_row,
    new_delivery_values,
    new_job_values,
)
from userfacing_api.adapters.db.session import Dialect, Session
from userfacing_api.adapters.db.shared_reads import FetchRows, SharedReads
from userfacing_api.domain.delivery import Lease
from userfacing_api.domain.errors import AlreadyExists
from userfacing_api.domain.events import JobEvent, NewJobEvent
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import Job, JobFilter, JobStatus
from userfacing_api.ports.events import JobEventLog
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
_SELECT_JOBS = f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs"  # noqa: S608 - fixed column names
_SELECT_JOB = _SELECT_JOBS + " WHERE id = $1"
_SELECT_JOBS_WITH_DELIVERY = (
    f"SELECT {', '.join(JOB_COLUMNS)},"  # noqa: S608 - fixed column names
    " EXISTS (SELECT 1 FROM job_deliveries WHERE job_deliveries.job_id = jobs.id)"
    " FROM jobs"
)
_SELECT_JOB_WITH_DELIVERY = _SELECT_JOBS_WITH_DELIVERY + " WHERE id = $1"
_ENDED = tuple(status.value for status in JobStatus if status.has_ended)
_COUNT_ACTIVE = (
    "SELECT count(*) AS active FROM jobs WHERE user_id = $1 AND status NOT IN ($2, $3, $4)"
)
_SELECT_EVENTS = "SELECT seq, job_id, time, status, runtime_details FROM job_events"
_JOB_EVENTS = _SELECT_EVENTS + " WHERE job_id = $1 AND seq > $2 ORDER BY seq"
_USER_EVENTS = _SELECT_EVENTS + " WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
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


EventsCommitted = Callable[[set[tuple[str, int]]], None]
"""Told `(user_id, job_id)` of the jobs that got events, after the commit that added them."""


def listing_query(
    user_id: str, offset: int, limit: int, only: JobFilter | None
) -> tuple[str, list[Any]]:
    """The SQL and parameters listing a user's jobs, filtered, newest first.

    Only the filters given appear in the SQL, so each combination is planned on
    its own: one status or one application is read in order from the index on
    `(user_id, status | application, date_created, id)`. The name prefix is
    compared by length rather than with LIKE, whose case and collation rules
    differ between the engines.
    """
    numbers = count(1)
    parameters: list[Any] = []

    def slot(value: Any) -> str:
        parameters.append(value)
        return f"${next(numbers)}"

    conditions = [f"user_id = {slot(user_id)}"]
    if only is not None and only.statuses:
        ordered = sorted(status.value for status in only.statuses)
        conditions.append(f"status IN ({', '.join(slot(status) for status in ordered)})")
    if only is not None and only.application is not None:
        conditions.append(f"application = {slot(only.application)}")
    if only is not None and only.name_prefix:
        prefix = slot(only.name_prefix)
        conditions.append(f"substr(job_name, 1, length({prefix})) = {prefix}")
    sql = (
        f"{_SELECT_JOBS} WHERE {' AND '.join(conditions)}"
        f" ORDER BY date_created DESC, id DESC LIMIT {slot(limit)} OFFSET {slot(offset)}"
    )
    return sql, parameters


class SqlJobStore(JobStore):
    def __init__(
        self,
        transactions: Callable[[], AbstractAsyncContextManager[Session]],
        reads: Session,
        dialect: Dialect,
    ) -> None:
        """`reads` runs the statements of `reading()`, outside any transaction."""
        self._transactions = transactions
        self._reads = reads
        self._dialect = dialect
        self._events_committed: EventsCommitted | None = None
        # Reads change nothing, so every `reading()` shares one set of repositories.
        self._reading = JobTransaction(
            jobs=_SqlJobs(reads, dialect, _shared_reads(reads, dialect)),
            outbox=_SqlOutbox(reads, dialect),
            events=_SqlEvents(reads, dialect),
        )

    def on_events_committed(self, told: EventsCommitted) -> None:
        """Have `told` called after each commit that added events (in this process only)."""
        self._events_committed = told

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[JobTransaction]:
        async with self._transactions() as session:
            events = _SqlEvents(session, self._dialect)
            yield JobTransaction(
                jobs=_SqlJobs(session, self._dialect),
                outbox=_SqlOutbox(session, self._dialect),
                events=events,
            )
        if events.jobs and self._events_committed is not None:
            self._events_committed(events.jobs)

    def reading(self) -> AbstractAsyncContextManager[JobTransaction]:
        return nullcontext(self._reading)

    async def ping(self) -> None:
        """A transaction, not a lone read: on SQLite it shows another process's lock."""
        async with self._transactions() as session:
            await session.fetch("SELECT 1")


@dataclass(frozen=True)
class _SharedJobReads:
    """`get` and `get_with_delivery` outside transactions, sharing queries."""

    jobs: SharedReads
    with_delivery: SharedReads


def _shared_reads(session: Session, dialect: Dialect) -> _SharedJobReads:
    def rows_of(select: str) -> FetchRows:
        sql = f"{select} WHERE {dialect.ids_filter}"
        return lambda ids: session.fetch_gathered(sql, ids)

    return _SharedJobReads(
        jobs=SharedReads(rows_of(_SELECT_JOBS)),
        with_delivery=SharedReads(rows_of(_SELECT_JOBS_WITH_DELIVERY)),
    )


class _SqlJobs(JobRepository):
    def __init__(
        self, session: Session, dialect: Dialect, shared: _SharedJobReads | None = None
    ) -> None:
        """`shared`: how reads of one job share queries (outside transactions only)."""
        self._session = session
        self._dialect = dialect
        self._shared = shared
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
        if self._shared is None:
            return await self._job(_SELECT_JOB, job_id)
        if not _is_id(job_id):
            return None
        row = await self._shared.jobs.row(job_id)
        return None if row is None else job_from_row(row, self._dialect.read_datetime)

    async def get_with_delivery(self, job_id: int) -> tuple[Job, bool] | None:
        if not _is_id(job_id):
            return None
        if self._shared is None:
            rows = await self._session.fetch(_SELECT_JOB_WITH_DELIVERY, job_id)
            row = rows[0] if rows else None
        else:
            row = await self._shared.with_delivery.row(job_id)
        return None if row is None else job_and_flag_from_row(row, self._dialect.read_datetime)

    async def lock(self, job_id: int) -> Job | None:
        return await self._job(self._lock_job, job_id)

    async def list_for_user(
        self, user_id: UserId, offset: int, limit: int, only: JobFilter | None = None
    ) -> list[Job]:
        sql, parameters = listing_query(user_id, min(offset, _MAX_ID), min(limit, _MAX_ID), only)
        rows = await self._session.fetch(sql, *parameters)
        return [job_from_row(row, self._dialect.read_datetime) for row in rows]

    async def count_active(self, user_id: UserId) -> int:
        if self._dialect.lock_user is not None:
            await self._session.fetch(self._dialect.lock_user, user_id)
        rows = await self._session.fetch(_COUNT_ACTIVE, user_id, *_ENDED)
        active: int = rows[0]["active"]
        return active

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


class _SqlEvents(JobEventLog):
    def __init__(self, session: Session, dialect: Dialect) -> None:
        self._session = session
        self._dialect = dialect
        self.jobs: set[tuple[str, int]] = set()
        """`(user_id, job_id)` of the jobs that got events in this transaction."""

    async def add(self, event: NewJobEvent) -> int:
        rows = await self._session.fetch(
            self._dialect.add_event,
            event.job_id,
            event.user_id,
            event.time,
            event.status.value,
            event.runtime_details,
        )
        self.jobs.add((event.user_id, event.job_id))
        seq: int = rows[0]["seq"]
        return seq

    async def of_job(self, job_id: int, after_seq: int = 0) -> list[JobEvent]:
        if not _is_id(job_id):
            return []
        return await self._events(_JOB_EVENTS, job_id, min(after_seq, _MAX_ID))

    async def of_user(self, user_id: str, after_seq: int, limit: int) -> list[JobEvent]:
        return await self._events(_USER_EVENTS, user_id, min(after_seq, _MAX_ID), limit)

    async def _events(self, sql: str, *parameters: Any) -> list[JobEvent]:
        rows = await self._session.fetch(sql, *parameters)
        return [event_from_row(row, self._dialect.read_datetime) for row in rows]


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
