"""Opening the configured database (SQLite or PostgreSQL) with its schema up to date."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from userfacing_api.adapters.db.postgres import migrate_postgres, open_pool
from userfacing_api.adapters.db.sqlite import migrate_sqlite, open_sqlite
from userfacing_api.settings import SettingsError


class SqliteDatabase:
    """The service's one SQLite connection, shared by every adapter.

    The connection is in autocommit mode, where a statement sent while a
    transaction is open joins that transaction and is rolled back with it. So
    nothing uses the connection directly: `transaction()`, `execute()` and
    `fetch()` take turns on one lock, and a statement of one adapter never runs
    inside another adapter's transaction. Errors are the driver's (`sqlite3.Error`),
    for each adapter to translate into its port's terms.
    """

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE ... COMMIT`, or `ROLLBACK` when the block raises.

        The connection yielded is for this block only; nobody else uses it meanwhile.
        """
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                # Shielded: a second cancellation must not leave the transaction open.
                await asyncio.shield(self._rollback())
                raise
            try:
                await self._connection.execute("COMMIT")
            except BaseException:
                await asyncio.shield(self._rollback())
                raise

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> int:
        """Run one statement in a transaction of its own; the number of rows it changed."""
        async with self._lock:
            cursor = await self._connection.execute(sql, tuple(parameters))
            return cursor.rowcount

    async def fetch(self, sql: str, parameters: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """The rows of one query, read outside any other adapter's transaction."""
        async with self._lock, self._connection.execute(sql, tuple(parameters)) as cursor:
            return list(await cursor.fetchall())

    async def _rollback(self) -> None:
        if self._connection.in_transaction:
            await self._connection.execute("ROLLBACK")


@dataclass(frozen=True)
class PostgresDatabase:
    pool: asyncpg.Pool


Database = SqliteDatabase | PostgresDatabase


@asynccontextmanager
async def open_database(url: str) -> AsyncIterator[Database]:
    """Connect, apply pending migrations, and close on exit."""
    if url.startswith("sqlite:"):
        try:
            connection = await open_sqlite(Path(url.removeprefix("sqlite:///")))
        except (OSError, sqlite3.Error) as err:
            raise SettingsError("DATABASE_URL", f"cannot open the SQLite database: {err}") from err
        try:
            await migrate_sqlite(connection)
            yield SqliteDatabase(connection)
        finally:
            await connection.close()
    else:
        try:
            pool = await open_pool(url)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            raise SettingsError(
                "DATABASE_URL", f"cannot connect to PostgreSQL ({type(err).__name__}: {err})"
            ) from err
        try:
            await migrate_postgres(pool)
            yield PostgresDatabase(pool)
        finally:
            await pool.close()
