"""The service's one SQLite connection, shared by every store.

The connection is in autocommit mode, where a statement sent while a
transaction is open joins that transaction and is rolled back with it. So
statements take turns on one lock: a transaction holds it from `BEGIN
IMMEDIATE` to `COMMIT`, any other statement for its own run, and a statement
of one store never runs inside another store's transaction. `BEGIN IMMEDIATE`
takes SQLite's write lock at once, which is what keeps other writers off a
locked job.

Job reads that need no transaction (`reading()`) go to a second, read-only
connection when the database is a file: they take no turn, so a page of jobs
being read never waits behind a status report. The reads that arrive while the
event loop is busy share one trip to a worker thread, which runs them one after
the other on that connection: under load a trip costs more than a read.

Dates are stored as ISO 8601 text in UTC with a fixed width, so comparing and
sorting the text compares the times.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

import aiosqlite
import orjson

from userfacing_api.adapters.db.session import Dialect, Row, Session, TranslatedErrors
from userfacing_api.adapters.db.sqlite.connection import SqliteReader
from userfacing_api.adapters.db.stores import Database
from userfacing_api.adapters.db.turns import Turns
from userfacing_api.adapters.shared_trips import SharedTrips
from userfacing_api.ports.database import DatabaseUnavailable

# aiosqlite raises ValueError for a statement on a closed connection.
_FAILURES = (sqlite3.Error, ValueError)

SQLITE = Dialect(
    lock_clause="",
    claim_filter="IN ({})",
    greatest="MAX",
    read_datetime=datetime.fromisoformat,
    # One writer at a time (`BEGIN IMMEDIATE`): numbers follow the commit order.
    add_event=(
        "INSERT INTO job_events (job_id, user_id, time, status, runtime_details)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING seq"
    ),
    lock_user=None,
    ids_filter="id IN (SELECT value FROM json_each($1))",
)


class SqliteDatabase(Database):
    """Statements wait at most `acquire_timeout` seconds for their turn on the
    connection, then fail `DatabaseUnavailable`; the wait for another process's
    lock is bounded by the connection's busy timeout."""

    def __init__(
        self,
        connection: aiosqlite.Connection,
        acquire_timeout: float,
        reader: SqliteReader | None = None,
    ) -> None:
        self._connection = connection
        self._turns = Turns(1, acquire_timeout)
        self._undoing: set[asyncio.Task[None]] = set()
        super().__init__(
            _TurnTakingSession(connection, self._turns),
            SQLITE,
            None if reader is None else _SharedTripSession(reader),
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """`BEGIN IMMEDIATE ... COMMIT`, or `ROLLBACK` when the block raises.

        The connection is for this block only; nobody else uses it meanwhile.
        """
        await self._turns.take()
        try:
            await self._run("BEGIN IMMEDIATE")
        except asyncio.CancelledError:
            self._undo_later()
            raise
        except BaseException:
            self._turns.give_back()
            raise
        try:
            try:
                yield _SqliteSession(self._connection)
            except BaseException:
                # Shielded: a second cancellation must not leave the transaction open.
                await asyncio.shield(self._rollback())
                raise
            try:
                await self._run("COMMIT")
            except BaseException:
                await asyncio.shield(self._rollback())
                raise
        finally:
            self._turns.give_back()

    async def _run(self, sql: str) -> None:
        with TranslatedErrors(_FAILURES):
            await self._connection.execute(sql)

    def _undo_later(self) -> None:
        """A `BEGIN` whose caller was cancelled (a deadline) still runs in SQLite's
        thread, waiting for a lock: a `ROLLBACK` sent now runs right after it (the
        thread runs statements in order), then the turn ends. If the `BEGIN` failed,
        there is nothing to roll back and the `ROLLBACK` fails harmlessly."""

        async def undo() -> None:
            try:
                with contextlib.suppress(DatabaseUnavailable):
                    await self._run("ROLLBACK")
            finally:
                self._turns.give_back()

        task = asyncio.ensure_future(undo())
        self._undoing.add(task)
        task.add_done_callback(self._undoing.discard)

    async def _rollback(self) -> None:
        with TranslatedErrors(_FAILURES):
            if self._connection.in_transaction:
                await self._connection.execute("ROLLBACK")


class _SqliteSession(Session):
    """Statements on the connection, inside the transaction that holds it."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, *parameters: Any) -> int:
        with TranslatedErrors(_FAILURES):
            cursor = await self._connection.execute(_numbered(sql), _values(parameters))
            return cursor.rowcount

    async def fetch(self, sql: str, *parameters: Any) -> list[Row]:
        # One trip to the connection's thread (a cursor would take three: run, fetch, close).
        with TranslatedErrors(_FAILURES):
            return list(
                await self._connection.execute_fetchall(_numbered(sql), _values(parameters))
            )


class _SharedTripSession(Session):
    """Statements on the read-only connection, in trips shared by those that arrive
    while the event loop is busy, run by the connection's one thread.

    Two trips may be under way: while the thread runs one, the next waits in its
    queue, so the thread goes straight on to it instead of idling until the event
    loop has taken the results and sent the next. A query that already gathers many
    callers' reads makes a trip of its own at once; only one such query is under way
    at a time, because the one thread would run a second only after it anyway: reads
    that arrive meanwhile make the next query larger instead, and a busy service fewer
    trips.
    """

    def __init__(self, reader: SqliteReader) -> None:
        self._connection = reader.connection
        self._thread = reader.thread
        self._trips = SharedTrips(max_trips=2, runner=reader.thread.run)

    def fetch_gathered(self, sql: str, *parameters: Any) -> Awaitable[list[Row]]:
        return self._thread.run(self._fetch_translated, _numbered(sql), _values(parameters))

    def _fetch_translated(self, sql: str, parameters: tuple[Any, ...]) -> list[Row]:
        with TranslatedErrors(_FAILURES):
            return self._fetch(sql, parameters)

    async def execute(self, sql: str, *parameters: Any) -> int:
        with TranslatedErrors(_FAILURES):
            return await self._trips.run(
                partial(self._execute, _numbered(sql), _values(parameters))
            )

    async def fetch(self, sql: str, *parameters: Any) -> list[Row]:
        with TranslatedErrors(_FAILURES):
            return await self._trips.run(partial(self._fetch, _numbered(sql), _values(parameters)))

    def _execute(self, sql: str, parameters: tuple[Any, ...]) -> int:
        return self._connection.execute(sql, parameters).rowcount

    def _fetch(self, sql: str, parameters: tuple[Any, ...]) -> list[Row]:
        return list(self._connection.execute(sql, parameters).fetchall())


class _TurnTakingSession(_SqliteSession):
    """Each statement in a transaction of its own, in its turn on the connection."""

    def __init__(self, connection: aiosqlite.Connection, turns: Turns) -> None:
        super().__init__(connection)
        self._turns = turns

    async def execute(self, sql: str, *parameters: Any) -> int:
        await self._turns.take()
        try:
            return await super().execute(sql, *parameters)
        finally:
            self._turns.give_back()

    async def fetch(self, sql: str, *parameters: Any) -> list[Row]:
        await self._turns.take()
        try:
            return await super().fetch(sql, *parameters)
        finally:
            self._turns.give_back()


def _numbered(sql: str) -> str:
    """PostgreSQL's `$1` placeholders as SQLite's `?1` (the shared SQL holds no other `$`)."""
    return sql.replace("$", "?")


def _values(parameters: tuple[Any, ...]) -> tuple[Any, ...]:
    """Datetimes as text, lists as JSON arrays (read with `json_each`)."""
    return tuple(_value(value) for value in parameters)


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _text(value)
    if isinstance(value, list):
        return orjson.dumps(value).decode()
    return value


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
