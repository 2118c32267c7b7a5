"""The PostgreSQL database: a connection pool, one pooled connection per transaction.

Dates are `TIMESTAMPTZ`; JSON columns travel as text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from userfacing_api.adapters.db.session import Dialect, Row, Session, TranslatedErrors
from userfacing_api.adapters.db.stores import Database
from userfacing_api.adapters.db.turns import Turns

_FAILURES = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
# PostgreSQL text and JSON cannot hold a NUL character, which SQLite would store.
_TEXT_REFUSED = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)


EVENTS_CHANNEL = "job_events"
"""Where each commit that records events notifies (`add_event`), with `<job id>:<user id>`."""


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
    # The user's lock comes before the number is drawn (`OFFSET 0` keeps it a step of its
    # own), so a user's events are numbered in commit order; the notification is sent at
    # commit to every instance's listener.
    add_event=(
        "WITH added AS ("
        " INSERT INTO job_events (seq, job_id, user_id, time, status, runtime_details)"
        " OVERRIDING SYSTEM VALUE"
        " SELECT nextval(pg_get_serial_sequence('job_events', 'seq')), $1, $2, $3, $4, $5"
        " FROM (SELECT pg_advisory_xact_lock(7344212, hashtext($2)) OFFSET 0) AS serialised"
        " RETURNING seq)"
        " SELECT seq, pg_notify('job_events', $1::text || ':' || $2) FROM added"
    ),
    lock_user="SELECT pg_advisory_xact_lock(7344212, hashtext($1))",
    ids_filter="id = ANY($1::bigint[])",
)


class PostgresDatabase(Database):
    """The pool's connections are waited for `acquire_timeout` seconds at most (then
    `DatabaseUnavailable`); each statement's own deadline is set on the pool."""

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self.pool = pool
        self._connections = _Connections(pool, acquire_timeout)
        super().__init__(_PooledSession(self._connections), POSTGRES)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        with TranslatedErrors(_FAILURES, _TEXT_REFUSED):
            connection = await self._connections.take()
            try:
                async with connection.transaction():
                    yield _PostgresSession(connection)
            finally:
                await self._connections.give_back(connection)


class _Connections:
    """The pool's connections, handed out in turns (`Turns`: first come, first served,
    each wait bounded by `acquire_timeout`). The pool is only asked once a connection
    is free, so it never makes anyone wait (opening a connection has the pool's
    connect timeout)."""

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self._pool = pool
        self._turns = Turns(pool.get_max_size(), acquire_timeout)

    async def take(self) -> asyncpg.Connection:
        """A connection, to be handed to `give_back` when done with."""
        await self._turns.take()
        try:
            return await self._pool.acquire()
        except BaseException:
            self._turns.give_back()
            raise

    async def give_back(self, connection: asyncpg.Connection) -> None:
        try:
            await self._pool.release(connection)
        finally:
            self._turns.give_back()


class _PostgresSession(Session):
    """Statements on one connection."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, *parameters: Any) -> int:
        with TranslatedErrors(_FAILURES, _TEXT_REFUSED):
            status: str = await self._connection.execute(sql, *parameters)
        # A command tag such as `INSERT 0 1`, `UPDATE 2` or `DELETE 0` ends with the count;
        # one without a count (`TRUNCATE TABLE`) changed no row it could count.
        count = status.rpartition(" ")[2]
        return int(count) if count.isdigit() else 0

    async def fetch(self, sql: str, *parameters: Any) -> list[Row]:
        with TranslatedErrors(_FAILURES, _TEXT_REFUSED):
            return list(await self._connection.fetch(sql, *parameters))


class _PooledSession(Session):
    """Each statement on a pooled connection of its own, waited for within a deadline."""

    def __init__(self, connections: _Connections) -> None:
        self._connections = connections

    async def execute(self, sql: str, *parameters: Any) -> int:
        with TranslatedErrors(_FAILURES, _TEXT_REFUSED):
            connection = await self._connections.take()
            try:
                return await _PostgresSession(connection).execute(sql, *parameters)
            finally:
                await self._connections.give_back(connection)

    async def fetch(self, sql: str, *parameters: Any) -> list[Row]:
        with TranslatedErrors(_FAILURES, _TEXT_REFUSED):
            connection = await self._connections.take()
            try:
                return list(await connection.fetch(sql, *parameters))
            finally:
                await self._connections.give_back(connection)
