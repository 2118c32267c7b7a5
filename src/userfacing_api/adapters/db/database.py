"""Opening the configured database (SQLite or PostgreSQL) with its schema up to date."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import asyncpg

from userfacing_api.adapters.db.postgres.database import PostgresDatabase
from userfacing_api.adapters.db.postgres.pool import migrate_postgres, open_pool
from userfacing_api.adapters.db.sqlite.connection import (
    SqliteReader,
    migrate_sqlite,
    open_sqlite,
    sqlite_reader,
)
from userfacing_api.adapters.db.sqlite.database import SqliteDatabase
from userfacing_api.adapters.db.stores import Database
from userfacing_api.ports.database import DatabaseUnavailable

# Deadlines of the embedded default and of tools such as `migrate`.
DEFAULT_ACQUIRE_TIMEOUT = 2.0
DEFAULT_STATEMENT_TIMEOUT = 2.0


@asynccontextmanager
async def open_database(
    url: str,
    *,
    acquire_timeout: float = DEFAULT_ACQUIRE_TIMEOUT,
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
) -> AsyncIterator[Database]:
    """Connect, apply pending migrations, and close on exit.

    A database that cannot be opened raises `DatabaseUnavailable`, without the URL.
    Every later call has a deadline: waiting for a connection (PostgreSQL's pool,
    or SQLite's one connection) at most `acquire_timeout` seconds, and each
    statement (on SQLite: also the wait for another process's lock) at most
    `statement_timeout` seconds; past it the call fails `DatabaseUnavailable`.
    """
    if url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:///"))
        try:
            connection = await open_sqlite(path, busy_timeout=statement_timeout)
        except (OSError, sqlite3.Error) as err:
            raise DatabaseUnavailable(f"cannot open the SQLite database: {err}") from err
        try:
            await migrate_sqlite(connection)
            async with _sqlite_reader(path, statement_timeout) as reader:
                yield SqliteDatabase(connection, acquire_timeout, reader)
        finally:
            await connection.close()
    else:
        try:
            pool = await open_pool(
                url, connect_timeout=acquire_timeout, statement_timeout=statement_timeout
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL ({type(err).__name__}: {err})"
            ) from err
        try:
            await migrate_postgres(pool)
            yield PostgresDatabase(pool, acquire_timeout)
        finally:
            await pool.close()


@asynccontextmanager
async def _sqlite_reader(path: Path, busy_timeout: float) -> AsyncIterator[SqliteReader | None]:
    """The reading connection of a database file; none for an in-memory database,
    which a second connection would not share."""
    if str(path) == ":memory:":
        yield None
        return
    async with AsyncExitStack() as stack:
        try:
            reader = await stack.enter_async_context(sqlite_reader(path, busy_timeout))
        except sqlite3.Error as err:
            raise DatabaseUnavailable(f"cannot open the SQLite database: {err}") from err
        yield reader
