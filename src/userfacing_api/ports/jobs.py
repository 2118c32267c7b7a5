"""Storage of jobs and of their pending deliveries to the worker side (the outbox).

Everything happens inside `JobStore.transaction()`: the changes made through the
`JobTransaction` it yields (`tx.jobs`, `tx.outbox`, `tx.events`) are committed together when
the block ends normally and rolled back when it raises. Transactions are short and never wait on
anything but the database.

Deliveries are claimed as leases: `Outbox.claim` marks due rows with a
lease token and an expiry (`locked_until`) and commits, the holder sends the
payload outside any transaction, then ends or reschedules the delivery only if
it still holds the lease. Several claimers (the request path, dispatchers of
several instances) therefore never send the same delivery concurrently. On
PostgreSQL the claim is an `UPDATE ... WHERE job_id = ANY(ARRAY(SELECT ... FOR
UPDATE SKIP LOCKED)) RETURNING ...`; on SQLite one `UPDATE ... RETURNING` in a
write transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from userfacing_api.domain.delivery import Lease
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import Job, JobFilter, JobSpec
from userfacing_api.ports.events import JobEventLog


@dataclass(frozen=True)
class NewJob:
    user_id: UserId
    user_email: str | None
    spec: JobSpec
    date_created: datetime


@dataclass(frozen=True)
class NewDelivery:
    job_id: int
    payload: Mapping[str, Any]
    job_created: datetime
    next_attempt_at: datetime


@dataclass(frozen=True)
class PendingDelivery:
    """A delivery claimed by the holder of `lease`."""

    job_id: int
    payload: Mapping[str, Any]
    job_created: datetime
    attempts: int
    """Failed attempts so far."""
    last_error: str | None
    lease: Lease


@dataclass(frozen=True)
class OutboxSummary:
    pending: int
    """Deliveries not yet ended, held or not."""
    oldest_created: datetime | None
    """When the job of the oldest of them was created; None when none is pending."""


class JobRepository(ABC):
    """The jobs, as one transaction sees them (`tx.jobs`).

    A job id no job can have (zero, negative, or beyond the database's integers)
    is simply unknown: it names no job rather than failing.
    """

    @abstractmethod
    async def add(self, new: NewJob) -> Job:
        """Store a `queued` job under a fresh id (never reused); `AlreadyExists` for a
        job name its user already has."""

    @abstractmethod
    async def get(self, job_id: int) -> Job | None: ...

    @abstractmethod
    async def get_with_delivery(self, job_id: int) -> tuple[Job, bool] | None:
        """The job and whether a delivery of it is still in the outbox, in one read."""

    @abstractmethod
    async def lock(self, job_id: int) -> Job | None:
        """Like `get`, and no other transaction changes the job until this one ends."""

    @abstractmethod
    async def list_for_user(
        self, user_id: UserId, offset: int, limit: int, only: JobFilter | None = None
    ) -> list[Job]:
        """The user's jobs (those that pass `only`, if given), newest first
        (`date_created`, then `id`, descending)."""

    @abstractmethod
    async def count_active(self, user_id: UserId) -> int:
        """How many of the user's jobs have not ended; until this transaction ends,
        no other one adds a job for the user (so a limit checked on it holds)."""

    @abstractmethod
    async def save(self, job: Job) -> None:
        """Store the job's status, dates and runtime details."""

    @abstractmethod
    async def delete(self, job_id: int) -> bool:
        """Remove the job and its pending delivery; False when there was no such job."""


class Outbox(ABC):
    """The jobs' pending deliveries to the worker side, as one transaction sees them
    (`tx.outbox`)."""

    @abstractmethod
    async def add(self, delivery: NewDelivery, lease: Lease | None) -> None:
        """Queue the job's payload; with a lease the caller holds it from the start."""

    @abstractmethod
    async def claim(self, now: datetime, lease: Lease, limit: int) -> list[PendingDelivery]:
        """Lease up to `limit` deliveries due at `now` (earliest first) that nobody holds.

        A delivery is due when its `next_attempt_at` has come; it is held while
        its lease has not expired.
        """

    @abstractmethod
    async def end(self, job_id: int, token: str | None) -> bool:
        """Remove the delivery if `token` holds its lease (any holder when `token` is None).

        False when there is no such delivery or another holder has it.
        """

    @abstractmethod
    async def reschedule(
        self, job_id: int, token: str, next_attempt_at: datetime, error: str
    ) -> bool:
        """Count a failed attempt, record its `error` and release the lease until
        `next_attempt_at`; False unless `token` holds the lease."""

    @abstractmethod
    async def next_due(self) -> datetime | None:
        """When the earliest delivery becomes claimable (due and not held), or None."""

    @abstractmethod
    async def summary(self) -> OutboxSummary:
        """How many deliveries are pending, and since when the oldest waits."""


@dataclass(frozen=True)
class JobTransaction:
    """What one transaction reaches; its changes are committed together."""

    jobs: JobRepository
    outbox: Outbox
    events: JobEventLog


class JobStore(ABC):
    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[JobTransaction]:
        """A transaction: committed when the block ends, rolled back when it raises.

        Raises `DatabaseUnavailable` when the database fails.
        """

    @abstractmethod
    def reading(self) -> AbstractAsyncContextManager[JobTransaction]:
        """Reads outside any transaction, each statement on its own: they take no
        write lock, so the many reads of event streams never hold up a change.

        Raises `DatabaseUnavailable` when the database fails.
        """

    @abstractmethod
    async def ping(self) -> None:
        """Raise `DatabaseUnavailable` unless the database answers."""
