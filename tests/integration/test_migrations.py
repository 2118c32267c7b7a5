"""Schema migrations on both engines: applied once, safe to repeat, run by the `migrate` command."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest

from userfacing_api.adapters.db.database import DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT
from userfacing_api.adapters.db.job_store import listing_query
from userfacing_api.adapters.db.migrations import load_migrations
from userfacing_api.adapters.db.postgres.pool import migrate_postgres, open_pool
from userfacing_api.adapters.db.sqlite.connection import migrate_sqlite, open_sqlite

TABLES = {"schema_migrations", "users", "signing_keys", "jobs", "job_deliveries", "job_events"}
LISTING, LISTING_PARAMETERS = listing_query("alice", 0, 100, None)
SQLITE_VERSIONS = [migration.version for migration in load_migrations("sqlite")]
POSTGRES_VERSIONS = [migration.version for migration in load_migrations("postgres")]


@pytest.fixture
async def empty_postgres_url(postgres_url: str) -> AsyncIterator[str]:
    """A database of its own on the session's server, with nothing in it yet."""
    name = f"userfacing_migrations_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{postgres_url.rpartition('/')[0]}/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each engine (resolved here, outside the event loop)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    url: str = request.getfixturevalue("empty_postgres_url")
    return url


def engine_versions(url: str) -> list[int]:
    return SQLITE_VERSIONS if url.startswith("sqlite:") else POSTGRES_VERSIONS


async def migrate(url: str) -> list[int]:
    """Migrate on connections of its own, as a separate instance would; the versions applied."""
    if url.startswith("sqlite:"):
        connection = await open_sqlite(
            Path(url.removeprefix("sqlite:///")), busy_timeout=DEFAULT_STATEMENT_TIMEOUT
        )
        try:
            return await migrate_sqlite(connection)
        finally:
            await connection.close()
    pool = await open_pool(
        url, connect_timeout=DEFAULT_ACQUIRE_TIMEOUT, statement_timeout=DEFAULT_STATEMENT_TIMEOUT
    )
    try:
        return await migrate_postgres(pool)
    finally:
        await pool.close()


async def rows(url: str, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:"):
        async with (
            aiosqlite.connect(url.removeprefix("sqlite:///"), isolation_level=None) as connection,
            connection.execute(sql, parameters) as cursor,
        ):
            return [tuple(row) for row in await cursor.fetchall()]
    connection = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await connection.fetch(sql, *parameters)]
    finally:
        await connection.close()


async def tables(url: str) -> set[str]:
    if url.startswith("sqlite:"):
        found = await rows(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        found = await rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {name for (name,) in found}


async def recorded_versions(url: str) -> list[int]:
    found = await rows(url, "SELECT version FROM schema_migrations ORDER BY version")
    return [version for (version,) in found]


async def test_migrations_create_the_whole_schema_on_an_empty_database(
    empty_database_url: str,
) -> None:
    applied = await migrate(empty_database_url)

    assert applied == engine_versions(empty_database_url)
    assert await recorded_versions(empty_database_url) == applied
    assert await tables(empty_database_url) >= TABLES


async def test_migrating_again_applies_nothing_and_keeps_the_data(
    empty_database_url: str,
) -> None:
    await migrate(empty_database_url)
    await rows(
        empty_database_url,
        "INSERT INTO signing_keys (kid, private_pem, created_at) VALUES ('k', 'pem', '2024-05-01')",
    )

    again = await migrate(empty_database_url)

    assert again == []
    assert await recorded_versions(empty_database_url) == engine_versions(empty_database_url)
    assert await rows(empty_database_url, "SELECT kid FROM signing_keys") == [("k",)]


@pytest.mark.postgres
async def test_instances_migrating_together_apply_each_version_once(
    empty_postgres_url: str,
) -> None:
    results = await asyncio.gather(*(migrate(empty_postgres_url) for _ in range(3)))

    assert sorted(results) == [[], [], POSTGRES_VERSIONS]
    assert await recorded_versions(empty_postgres_url) == POSTGRES_VERSIONS


async def run_migrate_command(url: str, cwd: Path) -> tuple[int, str]:
    """`userfacing-api migrate` in a process of its own; its exit code and error output."""
    environment = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "userfacing_api",
        "migrate",
        cwd=cwd,
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await process.communicate()
    assert process.returncode is not None
    return process.returncode, errors.decode()


async def test_the_migrate_command_brings_the_schema_up_to_date_and_can_be_repeated(
    empty_database_url: str, tmp_path: Path
) -> None:
    first = await run_migrate_command(empty_database_url, tmp_path)
    second = await run_migrate_command(empty_database_url, tmp_path)

    assert first[0] == 0, first[1]
    assert second[0] == 0, second[1]
    assert "database schema is up to date" in second[1]
    assert await recorded_versions(empty_database_url) == engine_versions(empty_database_url)
    assert await tables(empty_database_url) >= TABLES


async def test_the_sqlite_job_listing_is_read_in_order_from_its_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    await migrate(url)

    columns = await rows(url, "SELECT name FROM pragma_index_info('jobs_user_created')")
    plan = await rows(url, "EXPLAIN QUERY PLAN " + LISTING.replace("$", "?"), *LISTING_PARAMETERS)

    assert columns == [("user_id",), ("date_created",)]
    steps = " | ".join(str(step[-1]) for step in plan)
    assert "USING INDEX jobs_user_created (user_id=?)" in steps
    assert "TEMP B-TREE" not in steps, steps


@pytest.mark.postgres
async def test_the_postgres_job_listing_is_read_in_order_from_its_index(
    empty_postgres_url: str,
) -> None:
    await migrate(empty_postgres_url)
    connection = await asyncpg.connect(empty_postgres_url)
    try:
        definition = await connection.fetchval(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'jobs_user_created'"
        )
        # An empty table is read whole whatever the indexes; ask what the index allows.
        await connection.execute("SET enable_seqscan = off")
        plan = await connection.fetch("EXPLAIN " + LISTING, *LISTING_PARAMETERS)
    finally:
        await connection.close()

    assert definition.endswith("ON public.jobs USING btree (user_id, date_created, id)")
    steps = "\n".join(step[0] for step in plan)
    assert "Index Scan Backward using jobs_user_created on jobs" in steps, steps
    assert "Sort" not in steps, steps
