"""Following jobs: a job's history, and the live streams of one job or of all a user's jobs.

A stream subscribes to the event signal before it reads, then alternates
between reading the history after the last event it sent and waiting for the
signal. The history is the source of truth: a signal that never comes only
delays an event until the next look, `recheck_seconds` later at most. Streams
read outside transactions (`JobStore.reading`), so their many reads never hold
up a change of status.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager

from userfacing_api.domain.errors import NotFound, Unavailable
from userfacing_api.domain.events import JobEvent
from userfacing_api.ports.events import EventSignal
from userfacing_api.ports.jobs import JobStore

DEFAULT_RECHECK_SECONDS = 15.0
PAGE = 500
"""Events read at once by a stream of all a user's jobs."""
CONCURRENT_READS = 4
"""Stream reads under way at once: a status change wakes every stream of its user, and
their reads must leave the database (SQLite's one connection, PostgreSQL's pool) to the
changes themselves."""
RETRY_SECONDS = 1.0
"""When the database is busy or away, a stream stays open and looks again this much later."""


class JobEventService:
    def __init__(
        self,
        store: JobStore,
        signal: EventSignal,
        *,
        heartbeat_seconds: float,
        recheck_seconds: float = DEFAULT_RECHECK_SECONDS,
    ) -> None:
        self._store = store
        self._signal = signal
        self.heartbeat_seconds = heartbeat_seconds
        """How often an open stream sends a comment, so that proxies keep it open."""
        self._recheck = recheck_seconds
        self._reads = asyncio.Semaphore(CONCURRENT_READS)
        self.open_streams = 0
        """Streams being followed now; a closed stream no longer counts."""

    async def history(self, user_id: str, job_id: int) -> list[JobEvent]:
        """The job's events, oldest first; `NotFound` unless it is one of the user's jobs."""
        async with self._store.reading() as reader:
            job = await reader.jobs.get(job_id)
            if job is None or job.user_id != user_id:
                raise NotFound(f"Job {job_id} not found")
            return await reader.events.of_job(job_id)

    async def follow_job(
        self, user_id: str, job_id: int, after_seq: int
    ) -> AsyncGenerator[JobEvent, None]:
        """The job's events numbered above `after_seq`, then each new one, until the job
        has ended (or is deleted). `NotFound` before the first event unless it is the
        user's job.
        """
        await self.history(user_id, job_id)
        return self._follow_job(user_id, job_id, after_seq)

    async def _follow_job(
        self, user_id: str, job_id: int, after_seq: int
    ) -> AsyncGenerator[JobEvent, None]:
        with self._signal.subscribe(user_id, job_id) as subscription, self._counted():
            while True:
                try:
                    async with self._reads, self._store.reading() as reader:
                        job = await reader.jobs.get(job_id)
                        events = await reader.events.of_job(job_id, after_seq)
                except Unavailable:
                    await subscription.wait(RETRY_SECONDS)
                    continue
                for event in events:
                    yield event
                    after_seq = event.seq
                    if event.ends_stream:
                        return
                if job is None or job.user_id != user_id:
                    return
                await subscription.wait(self._recheck)

    def follow_user(self, user_id: str, after_seq: int) -> AsyncGenerator[JobEvent, None]:
        """Every event of the user's jobs numbered above `after_seq`, then each new one.

        Like `follow_job`, the generator holds a subscription until it is closed
        (`aclose`): its reader closes it when it stops reading.
        """
        return self._follow_user(user_id, after_seq)

    async def _follow_user(self, user_id: str, after_seq: int) -> AsyncGenerator[JobEvent, None]:
        with self._signal.subscribe(user_id) as subscription, self._counted():
            while True:
                try:
                    async with self._reads, self._store.reading() as reader:
                        events = await reader.events.of_user(user_id, after_seq, PAGE)
                except Unavailable:
                    await subscription.wait(RETRY_SECONDS)
                    continue
                for event in events:
                    yield event
                    after_seq = event.seq
                if len(events) < PAGE:
                    await subscription.wait(self._recheck)

    @contextmanager
    def _counted(self) -> Iterator[None]:
        self.open_streams += 1
        try:
            yield
        finally:
            self.open_streams -= 1
