"""Opening the SQLite file and applying its schema migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from userfacing_api.adapters.call_thread import CallThread
from userfacing_api.adapters.db.migrations import load_migrations


async def open_sqlite(path: Path, busy_timeout: float) -> aiosqlite.Connection:
    """Open the database file (creating its folder) in WAL mode with foreign keys on.

    A statement waits at most `busy_timeout` seconds for a lock another process
    holds, then fails "database is locked".
    """
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    connection = await aiosqlite.connect(path, isolation_level=None)
    connection.row_factory = aiosqlite.Row
    await connection.execute("PRAGMA journal_mode=WAL")
    await connection.execute("PRAGMA foreign_keys=ON")
    await connection.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
    await connection.execute("PRAGMA synchronous=NORMAL")
    return connection


READER_THREAD = "sqlite-reads"
"""The name of the reading connection's thread."""


@dataclass(frozen=True)
class SqliteReader:
    """A second connection to the file, for reads only, and the one thread that uses it."""

    connection: sqlite3.Connection
    thread: CallThread


@asynccontextmanager
async def sqlite_reader(path: Path, busy_timeout: float) -> AsyncIterator[SqliteReader]:
    """Open the reading connection (`query_only`) in a thread of its own; close both on exit.

    In WAL mode its reads see every committed transaction and never wait for the
    writer, so they need no turn on the writing connection. Only its thread ever
    touches it, so statements sent while another runs wait their turn there (see
    `SqliteDatabase`) rather than on the event loop.
    """
    thread = CallThread(READER_THREAD)

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA query_only=ON")
        connection.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        return connection

    try:
        connection = await thread.run(connect)
        try:
            yield SqliteReader(connection, thread)
        finally:
            await thread.run(connection.close)
    finally:
        await thread.close()


async def migrate_sqlite(connection: aiosqlite.Connection) -> list[int]:
    """Apply pending migrations; return the versions applied now."""
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    applied: list[int] = []
    for migration in load_migrations("sqlite"):
        await connection.execute("BEGIN IMMEDIATE")
        try:
            cursor = await connection.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            )
            if await cursor.fetchone() is None:
                for statement in _statements(migration.sql):
                    await connection.execute(statement)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
            await connection.execute("COMMIT")
        except BaseException:
            await connection.execute("ROLLBACK")
            raise
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration file on `;` line ends (migrations hold no procedural code)."""
    return [part.strip() for part in sql.split(";\n") if part.strip().strip(";").strip()]
