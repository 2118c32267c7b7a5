"""Job reads on SQLite use a connection of their own: they never wait for a transaction
and never see what it has not committed."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tests.unit.job_world import ALICE, train_spec
from tests.waiting import eventually
from userfacing_api.adapters.db.database import open_database
from userfacing_api.adapters.db.sqlite.connection import READER_THREAD
from userfacing_api.adapters.db.stores import Database
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import Job, JobStatus, checked_spec
from userfacing_api.ports.jobs import NewJob

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# Far beyond the time a read takes; a read that waits for the transaction never ends.
DEADLINE = 10.0


async def _add_job(database: Database) -> Job:
    async with database.jobs.transaction() as transaction:
        return await transaction.jobs.add(
            NewJob(UserId(ALICE.user_id), ALICE.email, checked_spec(train_spec()), NOW)
        )


async def _read(database: Database, job_id: int) -> Job | None:
    async with database.jobs.reading() as reads:
        return await reads.jobs.get(job_id)


async def test_a_job_read_during_a_transaction_answers_with_what_is_committed(
    tmp_path: Path,
) -> None:
    async with open_database(f"sqlite:///{tmp_path / 'service.db'}") as database:
        job = await _add_job(database)
        seen_during: list[Job | None] = []
        async with database.jobs.transaction() as transaction:
            await transaction.jobs.save(_running(job))
            seen_during.append(await asyncio.wait_for(_read(database, job.id), DEADLINE))
        seen_after = await _read(database, job.id)

    assert seen_during[0] is not None
    assert seen_during[0].status is JobStatus.QUEUED
    assert seen_after is not None
    assert seen_after.status is JobStatus.RUNNING


async def test_a_database_in_memory_reads_its_own_jobs() -> None:
    async with open_database("sqlite:///:memory:") as database:
        job = await _add_job(database)
        async with database.jobs.transaction() as transaction:
            await transaction.jobs.save(_running(job))

        assert await _read(database, job.id) == _running(job)


def _running(job: Job) -> Job:
    return replace(job, status=JobStatus.RUNNING, date_started=NOW)


async def test_reads_run_on_a_thread_of_their_own_that_ends_with_the_database(
    tmp_path: Path,
) -> None:
    async with open_database(f"sqlite:///{tmp_path / 'service.db'}") as database:
        job = await _add_job(database)
        async with database.jobs.reading() as reads:
            seen = await reads.jobs.get(job.id)
        while_open = _reader_threads()

    assert seen == job
    assert len(while_open) == 1
    await eventually(lambda: not _reader_threads())


def _reader_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(READER_THREAD)]


async def test_reads_made_together_each_get_their_own_job(tmp_path: Path) -> None:
    async with open_database(f"sqlite:///{tmp_path / 'service.db'}") as database:
        jobs = [await _add_job_named(database, f"run-{number}") for number in range(30)]
        seen = await asyncio.gather(*(_read(database, job.id) for job in reversed(jobs)))
        missing = await asyncio.gather(_read(database, 10_000), _read(database, jobs[0].id))

    assert list(seen) == list(reversed(jobs))
    assert list(missing) == [None, jobs[0]]


async def _add_job_named(database: Database, name: str) -> Job:
    async with database.jobs.transaction() as transaction:
        return await transaction.jobs.add(
            NewJob(
                UserId(ALICE.user_id),
                ALICE.email,
                checked_spec(replace(train_spec(), job_name=name)),
                NOW,
            )
        )
