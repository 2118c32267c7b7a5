"""Statements on either engine, in the ports' terms, and the little SQL that differs.

SQL shared by both engines is written once with PostgreSQL's numbered
placeholders (`$1`); SQLite reads them as its own numbered placeholders (`?1`).
Parameters are plain values and timezone-aware datetimes; each engine stores
the datetimes its own way and `Dialect.read_datetime` reads them back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from userfacing_api.domain.errors import InvalidInput
from userfacing_api.ports.database import DatabaseUnavailable

Failures = tuple[type[BaseException], ...]


class Row(Protocol):
    """A result row of either driver (`sqlite3.Row`, `asyncpg.Record`), read by column name
    or, in the order of the columns, as a sequence of values."""

    def __getitem__(self, column: str) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Session(ABC):
    """Statements on one connection inside a transaction, or each in a transaction of its own.

    Driver failures come out as `DatabaseUnavailable`, and text the engine
    cannot store as `InvalidInput`.
    """

    @abstractmethod
    async def execute(self, sql: str, *parameters: Any) -> int:
        """Run one statement; the number of rows it changed."""

    @abstractmethod
    async def fetch(self, sql: str, *parameters: Any) -> list[Row]:
        """The rows of one query (or of a statement's `RETURNING` clause)."""

    def fetch_gathered(self, sql: str, *parameters: Any) -> Awaitable[list[Row]]:
        """`fetch`, for a query that already gathers the reads of many callers (see
        `shared_reads`): a session that gathers its own statements into shared trips may
        send this one straight away."""
        return self.fetch(sql, *parameters)


@dataclass(frozen=True)
class Dialect:
    """Where the engines' SQL differs."""

    lock_clause: str
    """Appended to a `SELECT` of one job to keep other transactions off it until commit."""
    claim_filter: str
    """How the claimed rows are chosen from the subquery `{}` that picks the due ones."""
    greatest: str
    """The name of the function giving the larger of two values."""
    add_event: str
    """Inserts a `job_events` row (`$1` job, `$2` user, `$3` time, `$4` status, `$5`
    details) numbered in the order the transactions of the user's events commit,
    and returns its `seq`."""
    lock_user: str | None
    """Keeps other transactions from adding jobs or events for the user `$1` until
    commit; None where a transaction holds the whole database from its start."""
    read_datetime: Callable[[Any], datetime]
    """A stored date as a timezone-aware datetime."""
    ids_filter: str
    """Picks the rows whose `id` is in the list `$1`, so that reads of one job made at the
    same moment share a query (`shared_reads`)."""


class TranslatedErrors:
    """A driver's errors in the ports' terms: `text_refused` (text the engine cannot
    store) as `InvalidInput`, any other of its `failures` as `DatabaseUnavailable`.

    A class rather than a generator-based context manager: it wraps every
    statement, and a generator costs several times as much to enter and leave.
    """

    __slots__ = ("_failures", "_text_refused")

    def __init__(self, failures: Failures, text_refused: Failures = ()) -> None:
        self._failures = failures
        self._text_refused = text_refused

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None:
            return
        if isinstance(error, self._text_refused):
            raise InvalidInput("Text values must not contain NUL characters") from error
        if isinstance(error, self._failures):
            raise DatabaseUnavailable("The database cannot be reached") from error
