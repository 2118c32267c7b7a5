"""Opening the PostgreSQL connection pool and applying its schema migrations."""

from __future__ import annotations

import asyncpg

from userfacing_api.adapters.db.migrations import load_migrations

# Any fixed number: serialises concurrent `migrate` runs of several instances.
_MIGRATION_LOCK_KEY = 7_344_211


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
    assert pool is not None
    return pool


async def migrate_postgres(pool: asyncpg.Pool) -> list[int]:
    """Apply pending migrations under an advisory lock; return the versions applied now."""
    applied: list[int] = []
    async with pool.acquire() as connection:
        await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_KEY)
        try:
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            for migration in load_migrations("postgres"):
                async with connection.transaction():
                    done = await connection.fetchval(
                        "SELECT 1 FROM schema_migrations WHERE version = $1", migration.version
                    )
                    if done is None:
                        await connection.execute(migration.sql)
                        await connection.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                            migration.version,
                            migration.name,
                        )
                        applied.append(migration.version)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK_KEY)
    return applied
