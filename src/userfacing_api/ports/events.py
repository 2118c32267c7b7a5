"""A job's history (`JobEventLog`, inside a job store transaction) and the signal
that tells streams new events may have been recorded (`EventSignal`).

The history is the source of truth; the signal only says when to look. A
missed or spurious signal therefore delays or repeats a look, never loses or
duplicates an event. Events of one user are numbered in the order their
transactions commit, so reading "every event after `seq`" never skips one that
commits later with a smaller number.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager

from userfacing_api.domain.events import JobEvent, NewJobEvent


class JobEventLog(ABC):
    @abstractmethod
    async def add(self, event: NewJobEvent) -> int:
        """Record the event in the current transaction; its `seq`.

        The caller holds the job (`lock_job`) or has just created it.
        """

    @abstractmethod
    async def of_job(self, job_id: int, after_seq: int = 0) -> list[JobEvent]:
        """The job's events numbered above `after_seq`, oldest first."""

    @abstractmethod
    async def of_user(self, user_id: str, after_seq: int, limit: int) -> list[JobEvent]:
        """Up to `limit` events of the user's jobs numbered above `after_seq`, oldest first."""


class Subscription(ABC):
    @abstractmethod
    async def wait(self, seconds: float) -> None:
        """Return when new events of the user may exist, or after `seconds`."""


class EventSignal(ABC):
    @abstractmethod
    def subscribe(
        self, user_id: str, job_id: int | None = None
    ) -> AbstractContextManager[Subscription]:
        """Be told about new events of the user's job `job_id` (None: of any of the
        user's jobs) for the duration of the block."""
