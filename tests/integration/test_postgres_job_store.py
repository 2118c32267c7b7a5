"""What the PostgreSQL job store adds to the shared contract: row locks and its errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.databases import empty_database
from tests.free_port import free_port
from tests.unit.job_world import ALICE, train_spec
from tests.waiting import polled
from userfacing_api.adapters.db.database import DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT
from userfacing_api.adapters.db.postgres.database import PostgresDatabase
from userfacing_api.adapters.db.postgres.pool import open_pool
from userfacing_api.domain.errors import InvalidInput
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import Job, JobStatus, checked_spec, with_status
from userfacing_api.ports.database import DatabaseUnavailable
from userfacing_api.ports.jobs import JobStore, NewJob

pytestmark = pytest.mark.postgres

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def pool(postgres_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(
        await empty_database(postgres_url),
        connect_timeout=DEFAULT_ACQUIRE_TIMEOUT,
        statement_timeout=DEFAULT_STATEMENT_TIMEOUT,
    )
    yield pool
    await pool.close()


@pytest.fixture
def store(pool: asyncpg.Pool) -> JobStore:
    return PostgresDatabase(pool, DEFAULT_ACQUIRE_TIMEOUT).jobs


async def add_job(store: JobStore, job_name: str = "run1") -> Job:
    async with store.transaction() as transaction:
        spec = checked_spec(train_spec(job_name))
        return await transaction.jobs.add(NewJob(UserId(ALICE.user_id), ALICE.email, spec, NOW))


async def waiting_on_locks(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return count


async def test_a_locked_job_waits_for_the_other_transaction_and_loses_no_report(
    store: JobStore, pool: asyncpg.Pool
) -> None:
    job = await add_job(store)
    seen: list[Job] = []

    async def second_report() -> None:
        async with store.transaction() as transaction:
            locked = await transaction.jobs.lock(job.id)
            assert locked is not None
            seen.append(locked)
            await transaction.jobs.save(with_status(locked, JobStatus.RUNNING, "second", NOW))

    async with store.transaction() as transaction:
        locked = await transaction.jobs.lock(job.id)
        assert locked is not None
        second = asyncio.create_task(second_report())
        await polled(lambda: waiting_on_locks(pool), lambda waiting: waiting == 1)
        await transaction.jobs.save(with_status(locked, JobStatus.PULLED, "first", NOW))
    await second

    async with store.transaction() as transaction:
        final = await transaction.jobs.get(job.id)
    assert seen[0].status is JobStatus.PULLED
    assert final is not None
    assert (final.status, final.runtime_details) == (JobStatus.RUNNING, "first\nsecond")


async def test_text_with_a_nul_character_is_refused_as_invalid_input(store: JobStore) -> None:
    spec = replace(checked_spec(train_spec()), env_vars={"SEED": "1\x002"})

    with pytest.raises(InvalidInput):
        async with store.transaction() as transaction:
            await transaction.jobs.add(NewJob(UserId(ALICE.user_id), ALICE.email, spec, NOW))

    assert (await add_job(store)).spec.job_name == "run1"


async def test_a_server_that_cannot_be_reached_makes_the_store_unavailable() -> None:
    pool = await asyncpg.create_pool(
        f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere", min_size=0
    )
    store = PostgresDatabase(pool, DEFAULT_ACQUIRE_TIMEOUT).jobs
    try:
        with pytest.raises(DatabaseUnavailable):
            await store.ping()
        with pytest.raises(DatabaseUnavailable):
            async with store.transaction() as transaction:
                await transaction.jobs.get(1)
    finally:
        await pool.close()


async def test_a_connection_given_back_is_not_reset_but_its_open_transaction_is_rolled_back(
    postgres_url: str,
) -> None:
    """Giving a connection back costs no `RESET ALL` round trip, yet nothing a caller
    left uncommitted reaches the next one."""
    pool = await open_pool(
        await empty_database(postgres_url),
        connect_timeout=DEFAULT_ACQUIRE_TIMEOUT,
        statement_timeout=DEFAULT_STATEMENT_TIMEOUT,
        min_size=1,
        max_size=1,
    )
    try:
        async with pool.acquire() as connection:
            await connection.execute("CREATE TABLE marks (name text)")
            await connection.execute("SET application_name = 'kept'")
            await connection.execute("BEGIN")
            await connection.execute("INSERT INTO marks VALUES ('uncommitted')")
        async with pool.acquire() as connection:
            application_name = await connection.fetchval("SHOW application_name")
            marks = await connection.fetchval("SELECT count(*) FROM marks")
    finally:
        await pool.close()

    assert application_name == "kept"
    assert marks == 0
