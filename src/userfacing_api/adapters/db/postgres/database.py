"""The PostgreSQL database: a connection pool, one pooled connection per transaction.

Dates are `TIMESTAMPTZ`; JSON columns travel as text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from userfacing_api.adapters.db.session import Dialect, Row, Session, translated_errors
from userfacing_api.adapters.db.stores import Database

_FAILURES = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
# PostgreSQL text and JSON cannot hold a NUL character, which SQLite would store.
_TEXT_REFUSED = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)


def _as_stored(moment: datetime) -> datetime:
    return moment


POSTGRES = Dialect(
    # Not FOR UPDATE: the key never changes, so foreign-key checks on the row need not wait.
    lock_clause=" FOR NO KEY UPDATE",
    # `= ANY(ARRAY(...))` makes the locking subquery an init plan, run exactly once whatever
    # plan the update gets, so a claim never takes more rows than its limit.
    claim_filter="= ANY(ARRAY({} FOR UPDATE SKIP LOCKED))",
    # GREATEST ignores NULLs.
    greatest="GREATEST",
    read_datetime=_as_stored,
)


class PostgresDatabase(Database):
    """The pool's connections are waited for `acquire_timeout` seconds at most (then
    `DatabaseUnavailable`); each statement's own deadline is set on the pool."""

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self.pool = pool
        self._acquire_timeout = acquire_timeout
        super().__init__(_PooledSession(pool, acquire_timeout), POSTGRES)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        with translated_errors(_FAILURES, _TEXT_REFUSED):
            async with (
                self.pool.acquire(timeout=self._acquire_timeout) as connection,
                connection.transaction(),
            ):
                yield _PostgresSession(connection)


class _PostgresSession(Session):
    """Statements on one connection."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, *parameters: Any) -> int:
        with translated_errors(_FAILURES, _TEXT_REFUSED):
            status: str = await self._connection.execute(sql, *parameters)
        # A command tag such as `INSERT 0 1`, `UPDATE 2` or `DELETE 0` ends with the count;
        # one without a count (`TRUNCATE TABLE`) changed no row it could count.
        count = status.rpartition(" ")[2]
        return int(count) if count.isdigit() else 0

    async def fetch(self, sql: str, *parameters: Any) -> list[Row]:
        with translated_errors(_FAILURES, _TEXT_REFUSED):
            return list(await self._connection.fetch(sql, *parameters))


class _PooledSession(Session):
    """Each statement on a pooled connection of its own, waited for within a deadline."""

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout

    async def execute(self, sql: str, *parameters: Any) -> int:
        with translated_errors(_FAILURES, _TEXT_REFUSED):
            async with self._pool.acquire(timeout=self._acquire_timeout) as connection:
                return await _PostgresSession(connection).execute(sql, *parameters)

    async def fetch(self, sql: str, *parameters: Any) -> list[Row]:
        with translated_errors(_FAILURES, _TEXT_REFUSED):
            async with self._pool.acquire(timeout=self._acquire_timeout) as connection:
                return await _PostgresSession(connection).fetch(sql, *parameters)
