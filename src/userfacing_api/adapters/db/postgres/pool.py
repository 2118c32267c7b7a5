"""Opening the PostgreSQL connection pool and applying its schema migrations."""

from __future__ import annotations

import asyncpg

from userfacing_api.adapters.db.migrations import load_migrations

# Any fixed number: serialises concurrent `migrate` runs of several instances.
_MIGRATION_LOCK_KEY = 7_344_211
# Migrations may wait for another instance's and take their time: not the statement deadline.
MIGRATION_SECONDS = 600.0


async def open_pool(
    url: str,
    *,
    connect_timeout: float,
    statement_timeout: float,
    min_size: int = 1,
    max_size: int = 10,
) -> asyncpg.Pool:
    """A pool whose connections open within `connect_timeout` seconds and whose
    statements each end (or fail) within `statement_timeout` seconds."""
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        timeout=connect_timeout,
        command_timeout=statement_timeout,
        reset=_nothing_to_reset,
    )
    assert pool is not None
    return pool


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    """What a connection given back to the pool needs beyond asyncpg's own clean-up
    (which rolls back a transaction left open): nothing.

    asyncpg's default sends `RESET ALL`, `CLOSE ALL`, `UNLISTEN *` and
    `pg_advisory_unlock_all()`, one more round trip to the server each time a
    connection is given back, that is on every request. The service's statements
    leave none of that behind on a pooled connection: no session settings, cursors
    or listeners (events are listened for on a connection of their own), and the
    one session lock (the migrations') is released before its connection is given
    back, or the pool is closed along with the failed start.
    """


async def migrate_postgres(pool: asyncpg.Pool) -> list[int]:
    """Apply pending migrations under an advisory lock; return the versions applied now."""
    applied: list[int] = []
    async with pool.acquire() as connection:
        await connection.execute(
            "SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_KEY, timeout=MIGRATION_SECONDS
        )
        try:
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                timeout=MIGRATION_SECONDS,
            )
            for migration in load_migrations("postgres"):
                async with connection.transaction():
                    done = await connection.fetchval(
                        "SELECT 1 FROM schema_migrations WHERE version = $1",
                        migration.version,
                        timeout=MIGRATION_SECONDS,
                    )
                    if done is None:
                        await connection.execute(migration.sql, timeout=MIGRATION_SECONDS)
                        await connection.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                            migration.version,
                            migration.name,
                            timeout=MIGRATION_SECONDS,
                        )
                        applied.append(migration.version)
        finally:
            await connection.execute(
                "SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK_KEY, timeout=MIGRATION_SECONDS
            )
    return applied
