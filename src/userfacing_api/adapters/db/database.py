"""Opening the configured database (SQLite or PostgreSQL) with its schema up to date."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from userfacing_api.adapters.db.postgres.database import PostgresDatabase
from userfacing_api.adapters.db.postgres.pool import migrate_postgres, open_pool
from userfacing_api.adapters.db.sqlite.connection import migrate_sqlite, open_sqlite
from userfacing_api.adapters.db.sqlite.database import SqliteDatabase
from userfacing_api.adapters.db.stores import Database
from userfacing_api.ports.database import DatabaseUnavailable


@asynccontextmanager
async def open_database(url: str) -> AsyncIterator[Database]:
    """Connect, apply pending migrations, and close on exit.

    A database that cannot be opened raises `DatabaseUnavailable`, without the URL.
    """
    if url.startswith("sqlite:"):
        try:
            connection = await open_sqlite(Path(url.removeprefix("sqlite:///")))
        except (OSError, sqlite3.Error) as err:
            raise DatabaseUnavailable(f"cannot open the SQLite database: {err}") from err
        try:
            await migrate_sqlite(connection)
            yield SqliteDatabase(connection)
        finally:
            await connection.close()
    else:
        try:
            pool = await open_pool(url)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL ({type(err).__name__}: {err})"
            ) from err
        try:
            await migrate_postgres(pool)
            yield PostgresDatabase(pool)
        finally:
            await pool.close()
